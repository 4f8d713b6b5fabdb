//! The exact timing model on string instructions, XLAT, LEA, LDS and XCHG:
//! per-iteration and per-instruction clocks as the 8086 single-step vectors
//! show them (a full prefetch queue, so no fetch interferes). The Intel
//! manual's figures agree: REP STOS 10, REP LODS 13, REP SCAS 15, REP CMPS 22
//! and REP MOVS 17 clocks per repetition; single STOS 11, LODS 12, SCAS 15,
//! CMPS 22, MOVS 18; XLAT 11.

use cpu::{Cpu, CpuModel, ExactTiming, FlatBus, Seg, TState, Transfer};

/// Run the instruction `code` at 1000:0100 from a full queue and return the
/// clocks until the next instruction's first byte is taken, with the clocks
/// at which EU bus cycles (not fetches) start.
fn run(code: &[u8], init: impl Fn(&mut Cpu<ExactTiming>)) -> (usize, Vec<usize>) {
    let mut bus = FlatBus::new(1 << 20);
    let at = 0x10100;
    let mut bytes = code.to_vec();
    bytes.resize(16, 0x90);
    bus.load(at, &bytes);
    let mut cpu: Cpu<ExactTiming> = Cpu::new(CpuModel::I8086);
    cpu.regs.seg = [0x2000, 0x1000, 0x3000, 0x4000];
    cpu.regs.ip = 0x0100;
    cpu.regs.gpr[4] = 0x0100;
    init(&mut cpu);
    cpu.timing.preload(0x1000, 0x0100, &bytes[..6]);
    cpu.timing.record(true);
    cpu.step(&mut bus);
    cpu::Timing::take(&mut cpu.timing, &mut bus, true);
    let log = cpu.timing.log();
    let eu = log
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.t == TState::T1 && matches!(c.transfer, Some(Transfer::MemRead | Transfer::MemWrite))
        })
        .map(|(i, _)| i)
        .collect();
    (log.len() - 1, eu)
}

fn gaps(v: &[usize]) -> Vec<usize> {
    v.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn single_string_instructions_take_the_manuals_clocks() {
    // Even SI and DI: one bus cycle per transfer.
    let even = |c: &mut Cpu<ExactTiming>| {
        c.regs.gpr[6] = 0x10;
        c.regs.gpr[7] = 0x20;
    };
    assert_eq!(run(&[0xAA], even).0, 11, "stosb");
    assert_eq!(run(&[0xAC], even).0, 12, "lodsb");
    assert_eq!(run(&[0xAE], even).0, 15, "scasb");
    assert_eq!(run(&[0xA4], even).0, 18, "movsb");
    let (n, eu) = run(&[0xA6], even);
    assert_eq!(n, 22, "cmpsb");
    assert_eq!(gaps(&eu), [8]);
}

#[test]
fn rep_iterations_take_the_manuals_clocks() {
    let setup = |cx: u16| {
        move |c: &mut Cpu<ExactTiming>| {
            c.regs.gpr[1] = cx;
            c.regs.gpr[6] = 0x10;
            c.regs.gpr[7] = 0x20;
        }
    };
    for (op, per) in [(0xAA, 10), (0xAC, 13), (0xA4, 17)] {
        let (n3, eu) = run(&[0xF3, op], setup(3));
        let (n4, _) = run(&[0xF3, op], setup(4));
        assert_eq!(n4 - n3, per, "{op:02X}");
        let want: Vec<usize> = if op == 0xA4 {
            vec![7, 10, 7, 10, 7]
        } else {
            vec![per; 2]
        };
        assert_eq!(gaps(&eu), want, "{op:02X}");
    }
    // REPNE SCASB over bytes that never match AL: 15 clocks a repetition.
    let scas = |cx: u16| {
        move |c: &mut Cpu<ExactTiming>| {
            c.regs.gpr[0] = 1;
            c.regs.gpr[1] = cx;
        }
    };
    let (n3, _) = run(&[0xF2, 0xAE], scas(3));
    let (n4, _) = run(&[0xF2, 0xAE], scas(4));
    assert_eq!(n4 - n3, 15);
    // REPE CMPSB over equal bytes (memory is all zero): 22.
    let (n3, _) = run(&[0xF3, 0xA6], setup(3));
    let (n4, _) = run(&[0xF3, 0xA6], setup(4));
    assert_eq!(n4 - n3, 22);
    // CX = 0: the REP microcode ends after its test.
    assert_eq!(run(&[0xF3, 0xAA], setup(0)).0, 9);
}

#[test]
fn a_flag_ends_a_repeat_a_clock_sooner_than_the_count() {
    // REPE SCASB with AL = 1 over zero bytes: the first compare ends it.
    let (by_flag, _) = run(&[0xF3, 0xAE], |c| {
        c.regs.gpr[0] = 1;
        c.regs.gpr[1] = 5;
    });
    // REPNE SCASB with CX = 1 and no match: the count ends it.
    let (by_count, _) = run(&[0xF2, 0xAE], |c| {
        c.regs.gpr[0] = 1;
        c.regs.gpr[1] = 1;
    });
    assert_eq!(by_count, by_flag + 1);
}

#[test]
fn xlat_lea_lds_and_xchg() {
    assert_eq!(run(&[0xD7], |_| {}).0, 11, "xlat");
    // lea bp, [si]: the EA microcode, then two clocks.
    assert_eq!(run(&[0x8D, 0x2C], |_| {}).0, 7);
    // lds si, [bx] (even): the offset word, five clocks, the segment word.
    let (_, eu) = run(&[0xC5, 0x37], |c| c.regs.gpr[3] = 0x40);
    assert_eq!(gaps(&eu), [10]);
    // xchg [bx+si], sp: the read, seven clocks, the write.
    let (n, eu) = run(&[0x87, 0x20], |c| c.regs.seg[Seg::DS as usize] = 0x5000);
    assert_eq!(gaps(&eu), [12]);
    assert_eq!(n, eu[1] + 3);
}
