//! Runs of cached fast forms (`Cpu::run_forms`, the machine's slices, and
//! `Cpu::run`), and any blocks a run loop builds over them (straight-line
//! runs of forms entered after one tag check): code changed inside such a
//! run, by the run itself or from outside between two runs, must run its new
//! bytes; a run never goes past the clock budget where the
//! instruction-by-instruction run would have stopped. (Each test failed on a
//! block implementation with one safeguard removed: the epoch check after a
//! writing form, the epoch raised when a tag is dropped, the worst-case
//! budget check.)

mod program;

use cpu::{Bus, Cpu, CpuModel, FastTiming, FlatBus};
use program::{run_to_halt, Drive};

const MODELS: [CpuModel; 3] = [CpuModel::I8088, CpuModel::I8086, CpuModel::I80186];

fn cpu_at_0100(model: CpuModel, cache: bool) -> Cpu<FastTiming> {
    let mut c: Cpu<FastTiming> = Cpu::new(model);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.regs.gpr[4] = 0xFFFE;
    c.set_decode_cache(cache);
    c
}

/// A loop whose first instruction writes CL into the immediate of the next
/// one: `mov al, imm` then adds it to BL. Every pass must add the CX it
/// wrote, so BL ends at 50 + 49 + ... + 1 = 1275 mod 256 = 251. A run that
/// went on with the instruction decoded in the pass before would add the
/// previous pass's CX (one more) each time.
const REWRITES_ITS_NEXT: [u8; 17] = [
    0xB9, 0x32, 0x00, //       0100: mov cx, 50
    0x31, 0xDB, //             0103: xor bx, bx
    0x88, 0x0E, 0x0A, 0x01, // 0105: mov [010A], cl
    0xB0, 0x00, //             0109: mov al, 0      (immediate at 010A)
    0x00, 0xC3, //             010B: add bl, al
    0xE2, 0xF6, //             010D: loop 0105
    0xF4, //                   010F: hlt
    0x90,
];

#[test]
fn a_block_that_rewrites_its_own_next_instruction_runs_the_new_bytes() {
    for model in MODELS {
        let drives = [
            Drive::Forms { budget: 100_000 },
            Drive::Forms { budget: 37 },
            Drive::Run {
                limit: 1000,
                warm: false,
            },
            Drive::Run {
                limit: 3,
                warm: true,
            },
        ];
        let mut reference = None;
        for drive in [Drive::Step].into_iter().chain(drives) {
            let cached = !matches!(drive, Drive::Step);
            let mut bus = FlatBus::new(1 << 20);
            bus.load(0x100, &REWRITES_ITS_NEXT);
            let mut c = cpu_at_0100(model, cached);
            run_to_halt(&mut c, &mut bus, drive, 10_000);
            assert_eq!(c.regs.gpr[3] & 0xFF, 251, "{model} {drive:?}: BL");
            assert_eq!(bus.mem[0x10A], 1, "{model} {drive:?}: the last CL written");
            // The decoder's path without the cache is the reference for
            // everything else.
            let got = (c.regs, c.instructions, c.cycles());
            match &reference {
                None => reference = Some(got),
                Some(r) => assert_eq!(&got, r, "{model} {drive:?}"),
            }
        }
    }
}

/// A loop `add ax, 1 ; inc bx ; loop` run in slices by `run_forms`; between
/// two slices its ADD is rewritten from outside the CPU (as the board's DMA
/// does) and reported with `invalidate_code`. From then on every pass must
/// add 5: AX ends at the passes before the rewrite plus 5 for each after.
#[test]
fn a_later_instruction_rewritten_between_runs_runs_its_new_bytes() {
    let code = [
        0xB9, 0xE8, 0x03, // 0100: mov cx, 1000
        0x43, //             0103: inc bx
        0x43, //             0104: inc bx
        0x05, 0x01, 0x00, // 0105: add ax, 1   (immediate at 0106)
        0xE2, 0xF9, //       0108: loop 0103
        0xF4, //             010A: hlt
    ];
    for model in MODELS {
        for budget in [50u64, 333, 4000] {
            let mut bus = FlatBus::new(1 << 20);
            bus.load(0x100, &code);
            let mut c = cpu_at_0100(model, true);
            let mut rewritten = None;
            let mut formed = 0u64;
            for _ in 0..100_000 {
                if c.halted() {
                    break;
                }
                // (CX is 0 until the MOV has run.)
                if rewritten.is_none() && c.instructions > 10 && c.regs.gpr[1] < 600 {
                    // To the top of a pass: CX passes are left, each
                    // adding the new immediate.
                    while c.regs.ip != 0x103 {
                        c.step(&mut bus);
                    }
                    rewritten = Some((c.regs.gpr[0], c.regs.gpr[1]));
                    bus.write(0x106, 5);
                    c.invalidate_code(0x106, 1);
                }
                let n = c.run_forms(&mut bus, budget);
                formed += n;
                if n == 0 {
                    c.step(&mut bus);
                }
            }
            assert!(c.halted(), "{model} budget {budget}: reached HLT");
            let (ax, left) = rewritten.expect("rewritten");
            let what = format!("{model} budget {budget}");
            assert_eq!(ax, 1000 - left, "{what}: one per pass before");
            assert!(ax > 400, "{what}: rewritten mid-loop");
            assert_eq!(c.regs.gpr[0], ax + 5 * left, "{what}: AX");
            assert_eq!(c.regs.gpr[3], 2000, "{what}: BX");
            assert!(formed > 2500, "{what}: run_forms ran {formed}");
        }
    }
}

/// `run_forms` stops after the instruction that reaches the budget, as it
/// does one instruction at a time (also where whole blocks would fit): a CPU stepped
/// through as many instructions as each call ran must have the same clocks
/// and registers, the budget must have been reached by the last of them
/// and not by the one before, or the run must have stopped before an
/// instruction without a form. Memory forms (their word penalties are
/// charged as they go), jumps taken and not taken, CALL/RET and a MUL
/// (a rare form, which a block would leave out) are in the loop.
#[test]
fn run_forms_stops_where_the_budget_is_reached() {
    let code = [
        0xB9, 0x40, 0x00, //       0100: mov cx, 64
        0x89, 0xC8, //             0103: mov ax, cx
        0x01, 0x06, 0x00, 0x02, // 0105: add [0200], ax
        0xA8, 0x01, //             0109: test al, 1
        0x74, 0x03, //             010B: jz 0110
        0xE8, 0x0A, 0x00, //       010D: call 011A
        0xF7, 0xE1, //             0110: mul cx
        0x50, //                   0112: push ax
        0x5A, //                   0113: pop dx
        0x43, //                   0114: inc bx
        0xE2, 0xEC, //             0115: loop 0103
        0xF4, //                   0117: hlt
        0x90, 0x90, //
        0xD1, 0xE3, //             011A: shl bx, 1
        0x83, 0x06, 0x04, 0x02, 0x01, // 011C: add word [0204], 1
        0xC3, //                   0121: ret
    ];
    for model in MODELS {
        for budget in [1u64, 9, 40, 77, 150, 1000, 20_000] {
            let what = format!("{model} budget {budget}");
            // Stopped short: only before the HLT, the one instruction here
            // without a form (the first passes aside, when the next
            // instruction may not be cached yet). The MUL has a (rare)
            // form: it runs in the run.
            let (formed, bus) = same_as_steps(model, &code, budget, false, |a| {
                a.regs.ip == 0x117 || a.instructions < 40
            });
            assert!(formed > 300, "{what}: run_forms ran {formed}");
            // 64 + 63 + ... + 1 added into the word at 0200, and one INC of
            // the word at 0204 for each odd CX (32 calls).
            let word = |m: &FlatBus, at: usize| u16::from_le_bytes([m.mem[at], m.mem[at + 1]]);
            assert_eq!(word(&bus, 0x200), 64 * 65 / 2, "{what}: the ADDs");
            assert_eq!(word(&bus, 0x204), 32, "{what}: the calls");
        }
    }
}

/// Drive `code` (loaded at 0100) to its HLT with `run_forms` at `budget`
/// (or `run` at that instruction limit when `by_count`), and after every
/// call compare with a CPU stepped through as many instructions: registers,
/// clocks, instruction count and memory, and (for `run_forms`) the budget
/// reached by the last instruction and not before, and where a
/// `run_forms` stopped short of the budget, that `short_ok` allows it.
/// Returns the instructions the runs ran and the memory.
fn same_as_steps(
    model: CpuModel,
    code: &[u8],
    budget: u64,
    by_count: bool,
    short_ok: impl Fn(&Cpu<FastTiming>) -> bool,
) -> (u64, FlatBus) {
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, code);
    let mut bus_b = bus.clone();
    let mut a = cpu_at_0100(model, true);
    let mut b = a.clone();
    let what = format!("{model} budget {budget} by_count {by_count}");
    let mut ran = 0;
    for _ in 0..1_000_000 {
        if a.halted() {
            break;
        }
        let c0 = a.cycles();
        let i0 = a.instructions;
        let n = if by_count {
            a.run(&mut bus, budget)
        } else {
            a.run_forms(&mut bus, budget)
        };
        if n == 0 {
            a.step(&mut bus);
            b.step(&mut bus_b);
            continue;
        }
        ran += n;
        assert_eq!(a.instructions - i0, n, "{what}: count");
        for i in 0..n {
            if i + 1 == n && !by_count {
                assert!(b.cycles() - c0 < budget, "{what}: went on past the budget");
            }
            b.step(&mut bus_b);
        }
        if by_count {
            assert!(n <= budget, "{what}: ran {n}");
        }
        assert_eq!(
            a.regs, b.regs,
            "{what} after {} instructions",
            a.instructions
        );
        assert_eq!(
            a.cycles(),
            b.cycles(),
            "{what} after {} instructions",
            a.instructions
        );
        assert_eq!(a.instructions, b.instructions, "{what}");
        assert!(bus.mem == bus_b.mem, "{what}: memory");
        if !by_count && a.cycles() - c0 < budget {
            assert!(
                short_ok(&a),
                "{what}: stopped short before {:04X}",
                a.regs.ip
            );
        }
    }
    assert!(a.halted(), "{what}: reached HLT");
    (ran, bus)
}

/// `mix`'s CRC loop (a conditional jump forward over one instruction inside
/// a loop closed by JNZ, and LOOP around it) with a memory read at the top
/// of each byte (over the code itself), then a loop of byte forms and a
/// store closed by LOOPNZ, which ends on ZF from a CMP, past a JL and a
/// JCXZ never taken: traces run through jumps not taken,
/// go on past a jump taken forward within them (charging the taken clocks
/// and skipping the forms it jumps over) and loop to their own start.
/// Every budget from 1 to 120 clocks (and some larger), and every
/// instruction limit of `run` from 1 to 40, against single steps.
const TRACES: [u8; 55] = [
    0xB9, 0x20, 0x00, //       0100: mov cx, 32
    0xBE, 0x00, 0x01, //       0103: mov si, 0100
    0xB8, 0xFF, 0xFF, //       0106: mov ax, FFFF
    0x32, 0x04, //             0109: xor al, [si]     (crc_byte)
    0x46, //                   010B: inc si
    0xB3, 0x08, //             010C: mov bl, 8
    0xD1, 0xE8, //             010E: shr ax, 1        (crc_bit)
    0x73, 0x03, //             0110: jnc 0115
    0x35, 0x01, 0xA0, //       0112: xor ax, A001
    0xFE, 0xCB, //             0115: dec bl
    0x75, 0xF5, //             0117: jnz 010E
    0xE2, 0xEE, //             0119: loop 0109
    0xB9, 0x30, 0x00, //       011B: mov cx, 48
    0x88, 0xCA, //             011E: mov dl, cl       (top)
    0x80, 0xE2, 0x07, //       0120: and dl, 7
    0x00, 0xD6, //             0123: add dh, dl
    0x88, 0x36, 0x00, 0x03, // 0125: mov [0300], dh
    0x83, 0xF9, 0x02, //       0129: cmp cx, 2
    0x7C, 0x04, //             012C: jl 0132
    0xE3, 0x02, //             012E: jcxz 0132
    0xE0, 0xEC, //             0130: loopnz 011E
    0xF4, //                   0132: hlt
    0x90, 0x90, 0x90, 0x90,
];

#[test]
fn traces_through_jumps_are_single_steps_at_every_budget() {
    for model in MODELS {
        let mut budgets: Vec<u64> = (1..=120).collect();
        budgets.extend([157, 333, 1000, 4001, 100_000]);
        for budget in budgets {
            let (ran, _) = same_as_steps(model, &TRACES, budget, false, |_| true);
            assert!(ran > 1500, "{model} budget {budget}: run_forms ran {ran}");
        }
        for limit in 1..=40 {
            same_as_steps(model, &TRACES, limit, true, |_| true);
        }
    }
}

/// Two loops of four instructions, 100 passes each: the first closed by
/// DEC + JNZ (which bodies fuse), the second by LOOP. A body unrolls a loop
/// whose jump goes back to one of its own forms, so each is a body of a
/// dozen or more passes that leaves where the jump is not taken (100 is
/// not a multiple of its passes) and otherwise runs through its last pass,
/// a jump taken back (charging its taken clocks, and going on at its
/// target). Every budget from 1 to 120 clocks (and some larger), and
/// every instruction limit of `run` from 1 to 60, against single steps.
const UNROLLED: [u8; 25] = [
    0xBA, 0x64, 0x00, //       0100: mov dx, 100
    0x01, 0xD0, //             0103: add ax, dx
    0x31, 0xC3, //             0105: xor bx, ax
    0x4A, //                   0107: dec dx
    0x75, 0xF9, //             0108: jnz 0103
    0xB9, 0x64, 0x00, //       010A: mov cx, 100
    0x40, //                   010D: inc ax
    0x01, 0xC3, //             010E: add bx, ax
    0x31, 0xDE, //             0110: xor si, bx
    0xE2, 0xF9, //             0112: loop 010D
    0xF4, //                   0114: hlt
    0x90, 0x90, 0x90, 0x90,
];

#[test]
fn unrolled_loops_are_single_steps_at_every_budget() {
    for model in MODELS {
        let mut budgets: Vec<u64> = (1..=120).collect();
        budgets.extend([157, 333, 1000, 4001, 100_000]);
        for budget in budgets {
            let (ran, _) = same_as_steps(model, &UNROLLED, budget, false, |_| true);
            assert!(ran > 700, "{model} budget {budget}: run_forms ran {ran}");
        }
        for limit in 1..=60 {
            same_as_steps(model, &UNROLLED, limit, true, |_| true);
        }
    }
}

/// A loop nested in another, shaped like a bitwise CRC: the outer LOOP
/// runs 40 times, each pass setting BL to 8 for an inner loop (SHR, a JNC
/// forward over an XOR inside it, DEC + JNZ back). A body built at the
/// outer loop's head unrolls the inner loop and then goes on after it to
/// the outer LOOP, so the inner loop's copies leave it by jumps forward
/// within the body (to the LOOP) rather than out of it. Every budget from
/// 1 to 150 clocks (and some larger), and every instruction limit of `run`
/// from 1 to 60, against single steps; and the checksum in AX worked out
/// here.
const NESTED: [u8; 27] = [
    0xB9, 0x28, 0x00, //       0100: mov cx, 40
    0xB8, 0xFF, 0xFF, //       0103: mov ax, FFFF
    0x32, 0xC1, //             0106: xor al, cl
    0x46, //                   0108: inc si
    0xB3, 0x08, //             0109: mov bl, 8
    0xD1, 0xE8, //             010B: shr ax, 1
    0x73, 0x03, //             010D: jnc 0112
    0x35, 0x01, 0xA0, //       010F: xor ax, A001
    0xFE, 0xCB, //             0112: dec bl
    0x75, 0xF5, //             0114: jnz 010B
    0xE2, 0xEE, //             0116: loop 0106
    0xF4, //                   0118: hlt
    0x90, 0x90,
];

/// CRC-16 (polynomial A001h, reflected) of the bytes 40, 39, ..., 1 from
/// FFFFh, as `NESTED` computes it in AX.
fn nested_crc() -> u16 {
    let mut ax: u16 = 0xFFFF;
    for cx in (1..=40u16).rev() {
        ax ^= cx & 0xFF;
        for _ in 0..8 {
            let carry = ax & 1 != 0;
            ax >>= 1;
            if carry {
                ax ^= 0xA001;
            }
        }
    }
    ax
}

#[test]
fn a_loop_nested_in_another_is_single_steps_at_every_budget() {
    for model in MODELS {
        let mut budgets: Vec<u64> = (1..=150).collect();
        budgets.extend([157, 333, 1000, 4001, 100_000]);
        for budget in budgets {
            let (ran, _) = same_as_steps(model, &NESTED, budget, false, |_| true);
            assert!(ran > 1000, "{model} budget {budget}: run_forms ran {ran}");
        }
        for limit in 1..=60 {
            same_as_steps(model, &NESTED, limit, true, |_| true);
        }
        let mut bus = FlatBus::new(1 << 20);
        bus.load(0x100, &NESTED);
        let mut c = cpu_at_0100(model, true);
        run_to_halt(&mut c, &mut bus, Drive::Forms { budget: 100_000 }, 100_000);
        assert_eq!(c.regs.gpr[0], nested_crc(), "{model}: AX");
    }
}

/// A store inside a trace rewrites the immediate of a later instruction of
/// the same trace (`mov al, imm`, then added to DL) once, on the pass
/// where CX is 100 (on the others it writes data: the trace is built and
/// loops to itself long before): from that pass on every pass must add
/// 100, so DL ends at 100 * 100 mod 256 = 16. A trace that ran on with its
/// copy of the old instruction would add 0 for as long as it looped. Run
/// by `run_forms` and `run` at several limits and compared with single
/// steps.
#[test]
fn a_store_in_a_trace_rewriting_its_own_later_code_runs_the_new_bytes() {
    let code = [
        0xB9, 0xC8, 0x00, // 0100: mov cx, 200
        0x31, 0xD2, //       0103: xor dx, dx
        0xBB, 0x00, 0x03, // 0105: mov bx, 0300
        0x83, 0xF9, 0x64, // 0108: cmp cx, 100
        0x75, 0x03, //       010B: jnz 0110
        0xBB, 0x18, 0x01, // 010D: mov bx, 0118
        0x88, 0x0F, //       0110: mov [bx], cl
        0xF6, 0xC1, 0x00, // 0112: test cl, 0   (ZF set)
        0x75, 0x02, //       0115: jnz 0119     (never taken)
        0xB0, 0x00, //       0117: mov al, 0    (immediate at 0118)
        0x00, 0xC2, //       0119: add dl, al
        0xE2, 0xE8, //       011B: loop 0105
        0xF4, //             011D: hlt
        0x90,
    ];
    for model in MODELS {
        for (budget, by_count) in [
            (100_000, false),
            (37, false),
            (5, false),
            (1000, true),
            (3, true),
        ] {
            same_as_steps(model, &code, budget, by_count, |_| true);
        }
        for drive in [
            Drive::Forms { budget: 100_000 },
            Drive::Run {
                limit: 100_000,
                warm: false,
            },
        ] {
            let mut bus = FlatBus::new(1 << 20);
            bus.load(0x100, &code);
            let mut c = cpu_at_0100(model, true);
            run_to_halt(&mut c, &mut bus, drive, 100_000);
            assert_eq!(c.regs.gpr[2] & 0xFF, 16, "{model} {drive:?}: DL");
        }
    }
}

/// Conditional jumps on CF and ZF right after register forms (CMP with
/// JBE, SUB with JA, TEST with JZ, SHL with JC, DEC with JNZ: each pair one
/// form of a body), and a JBE whose target is the JA of such a pair (a
/// jump forward into the middle of a fused form, which leaves the body),
/// in slices of every budget from 1 to 100 clocks and runs of every
/// instruction limit from 1 to 30, against single steps.
#[test]
fn jumps_fused_with_the_form_before_are_single_steps() {
    let code = [
        0xB9, 0x2C, 0x01, // 0100: mov cx, 300
        0x89, 0xC8, //       0103: mov ax, cx
        0x24, 0x07, //       0105: and al, 7
        0x3C, 0x03, //       0107: cmp al, 3
        0x76, 0x05, //       0109: jbe 0110
        0x83, 0xC3, 0x05, // 010B: add bx, 5
        0x2C, 0x02, //       010E: sub al, 2
        0x77, 0x02, //       0110: ja 0114
        0x43, //             0112: inc bx
        0x43, //             0113: inc bx
        0xA8, 0x01, //       0114: test al, 1
        0x74, 0x02, //       0116: jz 011A
        0x01, 0xC2, //       0118: add dx, ax
        0xD0, 0xE0, //       011A: shl al, 1
        0x72, 0x01, //       011C: jc 011F
        0x46, //             011E: inc si
        0x48, //             011F: dec ax
        0x75, 0x01, //       0120: jnz 0123
        0x47, //             0122: inc di
        0xE2, 0xDE, //       0123: loop 0103
        0xF4, //             0125: hlt
        0x90, 0x90,
    ];
    for model in MODELS {
        let mut budgets: Vec<u64> = (1..=100).collect();
        budgets.extend([1000, 100_000]);
        for budget in budgets {
            same_as_steps(model, &code, budget, false, |_| true);
        }
        for limit in 1..=30 {
            same_as_steps(model, &code, limit, true, |_| true);
        }
    }
}
