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
        }
    }
    assert!(c.halted(), "program did not reach HLT");
}
