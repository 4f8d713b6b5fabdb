//! Running a small test program on a CPU until it halts, shared by the
//! decode-cache, fast-form and lazy-flag tests.
#![allow(dead_code)]

use cpu::{Bus, Cpu, StepResult, Timing};

/// How the program is driven.
#[derive(Clone, Copy, Debug)]
pub enum Drive {
    /// One `step` at a time.
    Step,
    /// `run` with this instruction limit; with `warm`, every other time the
    /// next instruction is put in the decode cache first, so that even one
    /// that runs once comes from it.
    Run { limit: u64, warm: bool },
    /// `run_forms` with this clock budget (the machine's slices), then one
    /// `step` when it ran nothing; every other time the next instruction is
    /// put in the decode cache first, as for `Run`.
    Forms { budget: u64 },
}

/// Drive `c` until it halts, at most `rounds` steps or runs; fails the test
/// if it never does.
pub fn run_to_halt<T: Timing, B: Bus>(c: &mut Cpu<T>, bus: &mut B, drive: Drive, rounds: usize) {
    for i in 0..rounds {
        match drive {
            Drive::Step => {
                if c.step(bus) == StepResult::Halted {
                    break;
                }
            }
            Drive::Run { limit, warm } => {
                if warm && i % 2 == 0 {
                    c.warm_decode_cache(bus);
                }
                c.run(bus, limit);
                if c.halted() {
                    break;
                }
            }
            Drive::Forms { budget } => {
                if i % 2 == 0 {
                    c.warm_decode_cache(bus);
                }
                if c.run_forms(bus, budget) == 0 && c.step(bus) == StepResult::Halted {
                    break;
                }
                if c.halted() {
                    break;
                }
            }
        }
    }
    assert!(c.halted(), "program did not reach HLT");
}

/// A loop whose REP STOSB writes NOPs over the two INCs at its top (0103,
/// 0104) after their first pass: BX ends at 2, and both bytes are 90h.
pub const REP_STOS_OVER_LOOP: [u8; 20] = [
    0xB9, 0x02, 0x00, // 0100: mov cx, 2 (passes)
    0x43, //             0103: inc bx
    0x43, //             0104: inc bx
    0x51, //             0105: push cx
    0xBF, 0x03, 0x01, // 0106: mov di, 0103
    0xB9, 0x02, 0x00, // 0109: mov cx, 2
    0xB0, 0x90, //       010C: mov al, 90h (NOP)
    0xF3, 0xAA, //       010E: rep stosb   (0103, 0104 become NOP)
    0x59, //             0110: pop cx
    0xE2, 0xF0, //       0111: loop 0103
    0xF4, //             0113: hlt
];
