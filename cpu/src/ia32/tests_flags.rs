//! Lazy flags (`flags.rs`) must be invisible: random programs of flag
//! producers each followed by a flag consumer run through the run loop's
//! fast path (where a lazy record survives from one instruction to the
//! next) with forms on and with forms off (the general path, which
//! computes every flag eagerly), and the two CPUs must agree on every
//! register, EFLAGS, memory and the clock.

use super::tests_fetch::{flat32, Rng, TrustBus};
use super::*;
use crate::FlatBus;

/// A register-to-register ModR/M that leaves ESP (and SP, AH) alone.
fn modrm(rng: &mut Rng, reg: Option<u8>) -> u8 {
    let pick = |rng: &mut Rng| [0u8, 1, 2, 3, 5, 6, 7][rng.below(7) as usize];
    let r = reg.unwrap_or_else(|| pick(rng));
    0xC0 | r << 3 | pick(rng)
}

/// A register-to-register ModR/M with the reg field `lo + (0..n)`.
fn modrm_in(rng: &mut Rng, lo: u8, n: u32) -> u8 {
    let reg = lo + rng.below(n) as u8;
    modrm(rng, Some(reg))
}

/// An optional operand-size prefix.
fn osz(rng: &mut Rng, b: &mut Vec<u8>) {
    if rng.below(4) == 0 {
        b.push(0x66);
    }
}

/// A random immediate byte, small or edge-heavy.
fn imm8(rng: &mut Rng) -> u8 {
    [0, 1, 0x7F, 0x80, 0xFF, rng.u32() as u8][rng.below(6) as usize]
}

/// One flag producer (register operands only).
fn producer(rng: &mut Rng, b: &mut Vec<u8>, p6: bool) {
    osz(rng, b);
    match rng.below(16) {
        0..=4 => {
            // ALU r/m,r or r,r/m, every operation and width.
            let op = (rng.below(8) << 3) as u8 | rng.below(4) as u8;
            b.push(op);
            b.push(modrm(rng, None));
        }
        5 => {
            // ALU AL/eAX, imm.
            b.push((rng.below(8) << 3) as u8 | 4);
            b.push(imm8(rng));
        }
        6 => {
            // Group 1 with a byte immediate (80 and 83).
            b.push(if rng.below(2) == 0 { 0x80 } else { 0x83 });
            b.push(modrm_in(rng, 0, 8));
            b.push(imm8(rng));
        }
        7 => {
            // INC/DEC r (not ESP), or FE/FF /0 /1.
            if rng.below(2) == 0 {
                b.push(
                    [0x40, 0x41, 0x42, 0x43, 0x45, 0x46, 0x47][rng.below(7) as usize]
                        | (rng.below(2) as u8) << 3,
                );
            } else {
                b.push(0xFE | rng.below(2) as u8);
                b.push(modrm_in(rng, 0, 2));
            }
        }
        8 => {
            // Shifts and rotates by 1, CL or an immediate (0 included).
            let op = [0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3][rng.below(6) as usize];
            b.push(op);
            b.push(modrm_in(rng, 0, 8));
            if op < 0xD0 {
                b.push([0, 1, 7, 8, 15, 16, 31, 33][rng.below(8) as usize]);
            }
        }
        9 => {
            // TEST r/m,r and TEST AL/eAX, imm.
            if rng.below(2) == 0 {
                b.push(0x84 | rng.below(2) as u8);
                b.push(modrm(rng, None));
            } else {
                b.push(0xA8);
                b.push(imm8(rng));
            }
        }
        10 => {
            // IMUL r, r/m (, imm8); NEG, NOT, MUL, IMUL r/m.
            match rng.below(3) {
                0 => b.extend([0x0F, 0xAF, modrm(rng, None)]),
                1 => b.extend([0x6B, modrm(rng, None), imm8(rng)]),
                _ => b.extend([0xF6 | rng.below(2) as u8, modrm_in(rng, 2, 4)]),
            }
        }
        11 => {
            // BT/BTS/BTR/BTC r, r and r, imm8.
            if rng.below(2) == 0 {
                b.extend([0x0F, 0xA3 | (rng.below(4) as u8) << 3, modrm(rng, None)]);
            } else {
                b.extend([0x0F, 0xBA, modrm_in(rng, 4, 4), imm8(rng)]);
            }
        }
        12 => {
            // SHLD/SHRD by an immediate or CL, BSF/BSR.
            match rng.below(3) {
                0 => b.extend([
                    0x0F,
                    0xA4 | (rng.below(2) as u8) << 3,
                    modrm(rng, None),
                    imm8(rng) & 31,
                ]),
                1 => b.extend([0x0F, 0xA5 | (rng.below(2) as u8) << 3, modrm(rng, None)]),
                _ => b.extend([0x0F, 0xBC | rng.below(2) as u8, modrm(rng, None)]),
            }
        }
        13 => {
            // CLC/STC/CMC, SAHF, the BCD adjustments.
            b.push([0xF8, 0xF9, 0xF5, 0x9E, 0x27, 0x2F, 0x37, 0x3F][rng.below(8) as usize]);
        }
        14 if p6 => {
            // CMPXCHG and XADD r/m, r (486 on; flags of a CMP/ADD).
            b.extend([
                0x0F,
                [0xB0, 0xB1, 0xC0, 0xC1][rng.below(4) as usize],
                modrm(rng, None),
            ]);
        }
        _ => {
            // MOV r, imm: no flags, so the record must survive it.
            b.push(0xB8 | [0u8, 1, 2, 3, 5, 6, 7][rng.below(7) as usize]);
            b.extend(rng.u32().to_le_bytes());
        }
    }
}

/// One flag consumer.
fn consumer(rng: &mut Rng, b: &mut Vec<u8>, p6: bool) {
    let cc = rng.below(16) as u8;
    match rng.below(13) {
        0..=2 => {
            // Jcc rel8 over `inc ebp`: the branch shows in EBP.
            b.extend([0x70 | cc, 1, 0x45]);
        }
        3 => {
            // Jcc rel32 over `inc esi`.
            b.extend([0x0F, 0x80 | cc, 1, 0, 0, 0, 0x46]);
        }
        4 | 5 => {
            // SETcc r8.
            b.extend([0x0F, 0x90 | cc, modrm_in(rng, 0, 1)]);
        }
        6 if p6 => {
            // CMOVcc r, r.
            osz(rng, b);
            b.extend([0x0F, 0x40 | cc, modrm(rng, None)]);
        }
        6 | 7 => {
            // ADC/SBB r/m, r (which produce again).
            osz(rng, b);
            b.push(0x10 | (rng.below(2) as u8) << 3 | rng.below(4) as u8);
            b.push(modrm(rng, None));
        }
        8 => {
            // PUSHF; POP EBX: the whole word in a register.
            osz(rng, b);
            b.extend([0x9C, 0x5B]);
        }
        9 => {
            // LAHF, SALC, CMC.
            b.push([0x9F, 0xD6, 0xF5][rng.below(3) as usize]);
        }
        10 => {
            // RCL/RCR/ROL/ROR by 1 or an immediate.
            b.push(0xD1);
            b.push(modrm_in(rng, 0, 4));
        }
        11 => {
            // LOOPE/LOOPNE over `inc edi`.
            b.extend([0xE0 | rng.below(2) as u8, 1, 0x47]);
        }
        _ => {
            // DAA/DAS/AAA/AAS read AF and CF.
            b.push([0x27, 0x2F, 0x37, 0x3F][rng.below(4) as usize]);
        }
    }
}

/// Code is placed here; the stack is below it.
const CODE: u32 = 0x4000;

#[test]
fn flag_consumers_after_every_producer_agree_with_the_general_path() {
    let mut rng = Rng(0x0DDB_A11C_AFE5_F00D);
    for trial in 0..3000u32 {
        let model = match trial % 3 {
            0 => Model32::I80386,
            1 => Model32::I80486,
            _ => Model32::PentiumPro,
        };
        let p6 = model == Model32::PentiumPro;
        let mut code = Vec::new();
        for _ in 0..6 {
            producer(&mut rng, &mut code, p6);
            if rng.below(4) == 0 {
                producer(&mut rng, &mut code, p6);
            }
            consumer(&mut rng, &mut code, p6);
        }
        // Back to the top: JMP rel32.
        let back = -(code.len() as i32 + 5);
        code.push(0xE9);
        code.extend(back.to_le_bytes());
        let regs: Vec<u32> = (0..8).map(|_| rng.u32()).collect();
        let flags = 2 | (rng.u32() & (STATUS | DF));
        let mut results = Vec::new();
        for forms in [true, false] {
            let mut bus = TrustBus(FlatBus::new(0x1_0000));
            bus.0.load(CODE, &code);
            let mut c = flat32(model);
            c.set_forms(forms);
            c.r.copy_from_slice(&regs);
            c.r[4] = 0x3000;
            c.eflags = flags;
            c.eip = CODE;
            // Three passes or more: decoded, checked, then trusted (the fast lap).
            let res = c.run(&mut bus, 200);
            results.push((res, c.regs(), c.cycles(), c.instructions(), bus.0.mem));
        }
        let (a, b) = (&results[0], &results[1]);
        let what = format!("trial {trial}, {model:?}, code {code:02X?}");
        assert_eq!(a.0, b.0, "result, {what}");
        assert_eq!(a.1, b.1, "registers, {what}");
        assert_eq!((a.2, a.3), (b.2, b.3), "clocks, {what}");
        assert!(a.4 == b.4, "memory differs, {what}");
    }
}

/// A record left by the fast lap is what the state and the registers
/// report: ADD EAX, EAX with EAX = 8000_0000h gives 0 with CF, ZF, PF,
/// OF set and SF, AF clear (worked out by hand), however the CPU stopped.
#[test]
fn a_pending_record_is_seen_by_regs_and_the_saved_state() {
    let mut bus = TrustBus(FlatBus::new(0x1_0000));
    // top: add eax, eax; mov eax, 80000000h; jmp top
    bus.0
        .load(CODE, &[0x01, 0xC0, 0xB8, 0, 0, 0, 0x80, 0xEB, 0xF7]);
    let mut c = flat32(Model32::I80486);
    c.r[0] = 0x8000_0000;
    c.eip = CODE;
    // Nine passes; the last instruction run is the ADD.
    c.run(&mut bus, 3 * 9 - 2);
    assert_eq!(c.eip, CODE + 2);
    assert_eq!(c.r[0], 0);
    let want = 2 | CF | ZF | PF | OF;
    assert_eq!(c.eflags(), want);
    assert_eq!(c.regs().eflags, want);
    assert_eq!(c.save_state().eflags, want);
}
