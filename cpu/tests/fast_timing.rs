//! The fast timing model charges the documented 8086 clock counts.
//!
//! Expected figures are from the instruction timing table of the Intel 8086
//! Family User's Manual (1979, table 2-21; EA clocks table 2-20), as also
//! reprinted in Liu & Gibson, "Microcomputer Systems: The 8086/8088 Family",
//! appendix A: MOV reg,reg 2; ADD reg,mem 9+EA; MUL 8-bit reg 70-77, 16-bit
//! reg 118-133; Jcc 16 taken / 4 not; LOOP 17 / 5; shift reg,CL 8+4/bit;
//! REP MOVS 9+17/rep; EA [BX] 5, [BX+SI+disp] 11, [disp] 6; +2 for a
//! segment override; +4 per word at an odd address (and per word on the 8088).

use cpu::{Cpu, CpuModel, FastTiming, FlatBus};

/// Clocks of the first instruction of `code` (at 0000:0100) with register setup `init`.
fn clocks(model: CpuModel, code: &[u8], init: impl Fn(&mut Cpu<FastTiming>)) -> u64 {
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, code);
    let mut c: Cpu<FastTiming> = Cpu::new(model);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.regs.gpr[4] = 0xF000;
    init(&mut c);
    let before = c.cycles();
    c.step(&mut bus);
    c.cycles() - before
}

fn c86(code: &[u8]) -> u64 {
    clocks(CpuModel::I8086, code, |_| {})
}

#[test]
fn register_and_memory_forms() {
    assert_eq!(c86(&[0x89, 0xD8]), 2, "MOV AX,BX");
    assert_eq!(c86(&[0x8B, 0xC3]), 2, "MOV AX,BX (other direction)");
    assert_eq!(c86(&[0x01, 0xD8]), 3, "ADD AX,BX");
    // ADD AX,[BX] with BX = 0x200 (even): 9 + EA 5.
    let bx = |c: &mut Cpu<FastTiming>| c.regs.gpr[3] = 0x200;
    assert_eq!(clocks(CpuModel::I8086, &[0x03, 0x07], bx), 14);
    // ADD AX,[BX+SI+4]: 9 + EA 11.
    assert_eq!(clocks(CpuModel::I8086, &[0x03, 0x40, 0x04], bx), 20);
    // ADD [0x300],AX: 16 + EA 6.
    assert_eq!(c86(&[0x01, 0x06, 0x00, 0x03]), 22);
    // ADD AX,[0x301]: odd word, 9 + 6 + 4.
    assert_eq!(c86(&[0x03, 0x06, 0x01, 0x03]), 19);
    // MOV AX,ES:[BX]: 8 + EA 5 + 2 for the override.
    assert_eq!(clocks(CpuModel::I8086, &[0x26, 0x8B, 0x07], bx), 15);
    // The 8088 moves every word in two transfers: +4.
    assert_eq!(clocks(CpuModel::I8088, &[0x03, 0x07], bx), 18);
    // A byte operand costs no more on the 8088.
    assert_eq!(clocks(CpuModel::I8088, &[0x02, 0x07], bx), 14);
    assert_eq!(c86(&[0xB8, 0x34, 0x12]), 4, "MOV AX,imm");
    assert_eq!(c86(&[0x40]), 2, "INC AX");
    assert_eq!(c86(&[0x90]), 3, "NOP");
}

#[test]
fn multiply_and_divide_stay_in_their_ranges() {
    for bl in [0u16, 1, 0x55, 0xFF] {
        let n = clocks(CpuModel::I8086, &[0xF6, 0xE3], |c| c.regs.gpr[3] = bl);
        assert!((70..=77).contains(&n), "MUL BL with BL={bl:#x}: {n}");
    }
    for bx in [0u16, 0x8001, 0xFFFF] {
        let n = clocks(CpuModel::I8086, &[0xF7, 0xE3], |c| c.regs.gpr[3] = bx);
        assert!((118..=133).contains(&n), "MUL BX with BX={bx:#x}: {n}");
    }
    // The extremes of the range are reached.
    assert_eq!(
        clocks(CpuModel::I8086, &[0xF6, 0xE3], |c| c.regs.gpr[3] = 0),
        70
    );
    assert_eq!(
        clocks(CpuModel::I8086, &[0xF6, 0xE3], |c| c.regs.gpr[3] = 0xFF),
        77
    );
    let n = clocks(CpuModel::I8086, &[0xF7, 0xF3], |c| {
        c.regs.gpr[0] = 1000;
        c.regs.gpr[3] = 7;
    });
    assert!((144..=162).contains(&n), "DIV BX: {n}");
}

#[test]
fn branches_shifts_and_strings() {
    // JZ +2: taken 16, not taken 4.
    let zf = |on: bool| move |c: &mut Cpu<FastTiming>| c.regs.set_flag(0x40, on);
    assert_eq!(clocks(CpuModel::I8086, &[0x74, 0x02], zf(true)), 16);
    assert_eq!(clocks(CpuModel::I8086, &[0x74, 0x02], zf(false)), 4);
    // LOOP: 17 when it jumps, 5 when CX reaches zero.
    assert_eq!(
        clocks(CpuModel::I8086, &[0xE2, 0xFE], |c| c.regs.gpr[1] = 5),
        17
    );
    assert_eq!(
        clocks(CpuModel::I8086, &[0xE2, 0xFE], |c| c.regs.gpr[1] = 1),
        5
    );
    // SHL AX,CL with CL=3: 8 + 4 per bit; SHL AX,1: 2.
    assert_eq!(
        clocks(CpuModel::I8086, &[0xD3, 0xE0], |c| c.regs.gpr[1] = 3),
        20
    );
    assert_eq!(c86(&[0xD1, 0xE0]), 2);
    // REP MOVSW, 10 words between even addresses: 9 + 17 per repetition.
    let setup = |c: &mut Cpu<FastTiming>| {
        c.regs.gpr[1] = 10;
        c.regs.gpr[6] = 0x1000;
        c.regs.gpr[7] = 0x2000;
    };
    assert_eq!(clocks(CpuModel::I8086, &[0xF3, 0xA5], setup), 9 + 17 * 10);
    assert_eq!(c86(&[0xA4]), 18, "MOVSB");
}
