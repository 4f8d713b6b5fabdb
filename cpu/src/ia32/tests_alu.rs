//! The register forms' flags against a reference written here (branch
//! `ia32alu`): every flag-setting operation whose form or lazy record
//! changed (the ALU operations, INC/DEC, IMUL r, r/m(, imm), SHL/SHR/SAR)
//! at every width runs in a loop through the fast lap (decoded, checked,
//! then trusted: forms, bodies and the lazy record), and what the flags
//! read back must be what plain integer arithmetic in this file says: all
//! sixteen conditions (SETcc), the carry (RCL r, 1, which reads CF and
//! sets CF and OF over a pending record) and the whole word (PUSHFD). In between the operation and the readers: nothing, a software
//! interrupt (delivery works the record out and pushes EFLAGS; IRET loads
//! them), a fault (DIV by zero: the restart snapshot puts the record back
//! before the exception is delivered), or a stop of the run with the state
//! saved and loaded into a new CPU.

use super::tests_fetch::{flat32, Rng, TrustBus};
use super::*;
use crate::FlatBus;

/// Where the code is; the IDT and GDT are below it, the stack and the
/// SETcc bytes too.
const CODE: u32 = 0x4000;
const IDT: u32 = 0x2000;
const GDT: u32 = 0x1000;
const SETS: u32 = 0x3000;
const HANDLER_INT: u32 = 0x3800;
const HANDLER_DE: u32 = 0x3900;

/// The operations under test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    /// ALU operation 0–7 (ModR/M reg order) on EAX/AX/AL and EBX/BX/BL.
    Alu(u8),
    /// The same with an immediate (83 /op ib, or 80 ib for bytes).
    AluImm(u8),
    Test,
    Inc,
    Dec,
    /// IMUL EAX, EBX (0F AF).
    Imul,
    /// IMUL EAX, EAX, imm8 (6B).
    ImulImm,
    /// Group 2 /op (4 SHL, 5 SHR, 7 SAR) of EAX/AX/AL by an immediate.
    Shift(u8),
}

const BITS: [u32; 3] = [8, 16, 32];

fn mask(w: u32) -> u64 {
    (1u64 << w) - 1
}

fn sign(v: u64, w: u32) -> bool {
    v >> (w - 1) & 1 != 0
}

fn sx(v: u64, w: u32) -> i64 {
    let s = 64 - w;
    ((v << s) as i64) >> s
}

/// The reference: the result and the six status flags of `op` at width
/// `w` on `a`, `b` (the immediate or shift count for the immediate forms)
/// with the carry `cin`, by plain integer arithmetic and the manuals'
/// definitions (Intel SDM vol. 1, 3.4.3.1, and each instruction's page).
/// AF after a logical operation, IMUL or a shift is undefined by Intel;
/// this core clears it. OF of a shift by more than one is undefined too:
/// this core gives SHL the top bit of the result XOR CF, SHR the original
/// top bit and SAR 0 (what count 1 defines).
fn reference(op: Op, w: u32, a: u32, b: u32, cin: bool) -> (u32, u32) {
    let m = mask(w);
    let (a, b) = (a as u64 & m, b as u64 & m);
    let c = cin as u64;
    let mut cf = false;
    let mut of = false;
    let mut af = false;
    let r: u64 = match op {
        Op::Alu(k) | Op::AluImm(k) => match k {
            0 | 2 => {
                let c = if k == 2 { c } else { 0 };
                let s = a + b + c;
                cf = s > m;
                let r = s & m;
                of = sign(a, w) == sign(b, w) && sign(r, w) != sign(a, w);
                af = (a ^ b ^ r) & 0x10 != 0;
                r
            }
            3 | 5 | 7 => {
                let c = if k == 3 { c } else { 0 };
                cf = a < b + c;
                let r = a.wrapping_sub(b).wrapping_sub(c) & m;
                of = sign(a, w) != sign(b, w) && sign(r, w) != sign(a, w);
                af = (a ^ b ^ r) & 0x10 != 0;
                r
            }
            1 => a | b,
            4 => a & b,
            _ => a ^ b,
        },
        Op::Test => a & b,
        Op::Inc | Op::Dec => {
            let r = if op == Op::Inc {
                a + 1
            } else {
                a.wrapping_sub(1)
            } & m;
            cf = cin;
            of = if op == Op::Inc {
                r == 1 << (w - 1)
            } else {
                a == 1 << (w - 1)
            };
            af = (a ^ r) & 0x10 != 0;
            r
        }
        Op::Imul | Op::ImulImm => {
            let p = sx(a, w) * sx(b, w);
            let r = p as u64 & m;
            cf = sx(r, w) != p;
            of = cf;
            r
        }
        Op::Shift(k) => {
            let n = b as u32 & 31;
            match k {
                4 => {
                    let wide = (a as u128) << n;
                    let r = wide as u64 & m;
                    cf = n <= w && (wide >> w) & 1 != 0;
                    of = sign(r, w) != cf;
                    r
                }
                5 => {
                    let r = if n >= w { 0 } else { a >> n };
                    cf = n <= w && (a >> (n - 1)) & 1 != 0;
                    of = sign(a, w);
                    r
                }
                _ => {
                    let x = sx(a, w);
                    cf = (x >> (n - 1).min(63)) & 1 != 0;
                    (x >> n.min(63)) as u64 & m
                }
            }
        }
    };
    let mut f = 0;
    if cf {
        f |= CF;
    }
    if (r as u8).count_ones() % 2 == 0 {
        f |= PF;
    }
    if af {
        f |= AF;
    }
    if r == 0 {
        f |= ZF;
    }
    if sign(r, w) {
        f |= SF;
    }
    if of {
        f |= OF;
    }
    (r as u32, f)
}

/// Condition `cc` of the flags word `f` (Intel SDM vol. 1, table B-1).
fn cond_of(f: u32, cc: u8) -> bool {
    let (c, z, s, o, p) = (
        f & CF != 0,
        f & ZF != 0,
        f & SF != 0,
        f & OF != 0,
        f & PF != 0,
    );
    let t = match cc >> 1 {
        0 => o,
        1 => c,
        2 => z,
        3 => c || z,
        4 => s,
        5 => p,
        6 => s != o,
        _ => z || s != o,
    };
    t != (cc & 1 != 0)
}

/// The instruction's bytes (EAX and EBX, or AX/BX, AL/BL).
fn insn(op: Op, w: u32, b: u32) -> Vec<u8> {
    let mut v = Vec::new();
    if w == 16 {
        v.push(0x66);
    }
    let full = (w != 8) as u8;
    match op {
        // OP r/m, r with r/m = EAX, reg = EBX.
        Op::Alu(k) => v.extend([k << 3 | full, 0xD8]),
        Op::AluImm(k) => v.extend([if w == 8 { 0x80 } else { 0x83 }, 0xC0 | k << 3, b as u8]),
        Op::Test => v.extend([0x84 | full, 0xD8]),
        Op::Inc => v.extend([0xFE | full, 0xC0]),
        Op::Dec => v.extend([0xFE | full, 0xC8]),
        Op::Imul => v.extend([0x0F, 0xAF, 0xC3]),
        Op::ImulImm => v.extend([0x6B, 0xC0, b as u8]),
        Op::Shift(k) => v.extend([0xC0 | full, 0xC0 | k << 3, b as u8]),
    }
    v
}

/// How the readers are separated from the operation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Between {
    Nothing,
    /// INT 20h; the handler IRETs.
    Interrupt,
    /// DIV EBP with EBP = 0 (#DE, a fault: the restart snapshot is put
    /// back); the handler steps over it and IRETs.
    Fault,
    /// The run stops after the operation; the state is saved and loaded
    /// into a new CPU, which goes on.
    SaveLoad,
}

/// A 32-bit interrupt gate to `offset` in the code segment.
fn gate(offset: u32) -> [u8; 8] {
    let mut g = [0u8; 8];
    g[0..2].copy_from_slice(&(offset as u16).to_le_bytes());
    g[2..4].copy_from_slice(&8u16.to_le_bytes());
    g[5] = 0x8E;
    g[6..8].copy_from_slice(&((offset >> 16) as u16).to_le_bytes());
    g
}

/// Passes of the loop: the last runs from trusted code in the fast lap.
const PASSES: u32 = 4;

/// Run `op` at width `w` on `a`, `b` with the carry `cin` and read the
/// flags back: the sixteen SETcc bytes, the carry (RCL EDX, 1 of 0) and
/// PUSHFD's word after it, from the last pass.
fn run(
    model: Model32,
    op: Op,
    w: u32,
    a: u32,
    b: u32,
    cin: bool,
    between: Between,
) -> (u32, [u8; 16], u32, u32) {
    let mut code = Vec::new();
    // top: mov eax, a; mov ebx, b; clc/stc
    code.push(0xB8);
    code.extend(a.to_le_bytes());
    code.push(0xBB);
    code.extend(b.to_le_bytes());
    code.push(if cin { 0xF9 } else { 0xF8 });
    code.extend(insn(op, w, b));
    let after_op = 4;
    let mut per_pass = after_op;
    match between {
        Between::Interrupt => {
            code.extend([0xCD, 0x20]);
            per_pass += 2; // INT and the handler's IRET
        }
        Between::Fault => {
            code.extend([0xF7, 0xF5]); // div ebp
            per_pass += 2; // the handler's ADD and IRET (DIV faults)
        }
        _ => {}
    }
    // setcc byte [SETS + cc], all sixteen.
    for cc in 0..16u8 {
        code.extend([0x0F, 0x90 | cc, 0x05]);
        code.extend((SETS + cc as u32).to_le_bytes());
    }
    // mov edx, 0; rcl edx, 1: EDX = CF read off a pending record (`cf()`;
    // RCL sets CF and OF over it, both 0 here); pushfd; pop ecx.
    code.extend([0xBA, 0, 0, 0, 0, 0xD1, 0xD2, 0x9C, 0x59]);
    // dec edi; jnz top; hlt
    code.extend([0x4F, 0x0F, 0x85]);
    let back = -(code.len() as i32 + 4);
    code.extend(back.to_le_bytes());
    code.push(0xF4);
    per_pass += 16 + 4 + 2;

    let mut bus = TrustBus(FlatBus::new(0x1_0000));
    bus.0.load(CODE, &code);
    // GDT: null, flat code (8), flat data (10h).
    let gdt: [u64; 3] = [0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF];
    for (k, d) in gdt.iter().enumerate() {
        bus.0.load(GDT + 8 * k as u32, &d.to_le_bytes());
    }
    bus.0.load(IDT, &gate(HANDLER_DE));
    bus.0.load(IDT + 0x20 * 8, &gate(HANDLER_INT));
    bus.0.load(HANDLER_INT, &[0xCF]); // iret
                                      // add dword [esp], 2; iret
    bus.0.load(HANDLER_DE, &[0x83, 0x04, 0x24, 0x02, 0xCF]);
    let mut c = flat32(model);
    c.gdtr = (GDT, 0x17);
    c.idtr = (IDT, 0x21 * 8 - 1);
    c.eip = CODE;
    c.r[4] = 0x3F00;
    c.r[5] = 0; // EBP: the divisor
    c.r[7] = PASSES;
    c.r[2] = 0;
    // DIV's dividend is EDX:EAX; with EBP = 0 it faults whatever they hold.
    if between == Between::SaveLoad {
        // Stop right after the last pass's operation.
        let n = (PASSES as u64 - 1) * per_pass as u64 + after_op as u64;
        let mut left = n;
        while left > 0 {
            let before = c.instructions();
            c.run(&mut bus, left);
            left -= c.instructions() - before;
        }
        assert_eq!(c.instructions(), n);
        let s = c.save_state();
        let mut d = Cpu32::new(model);
        d.load_state(&s).expect("load_state");
        c = d;
    }
    let res = super::tests_fetch::run_to_end(&mut c, &mut bus);
    assert!(c.halted(), "{res:?} at {:#x}", c.eip);
    let mut sets = [0u8; 16];
    for (k, s) in sets.iter_mut().enumerate() {
        *s = bus.0.mem[(SETS as usize) + k];
    }
    (c.r[0], sets, c.r[2], c.r[1])
}

fn ops() -> Vec<Op> {
    let mut v: Vec<Op> = (0..8).map(Op::Alu).collect();
    v.extend((0..8).map(Op::AluImm));
    v.extend([Op::Test, Op::Inc, Op::Dec, Op::Imul, Op::ImulImm]);
    v.extend([Op::Shift(4), Op::Shift(5), Op::Shift(7)]);
    v
}

/// Operands that hit the edges often.
fn operand(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => 0,
        1 => 1,
        2 => 0x7F | (rng.u32() & 0x8000_7F80),
        3 => 0xFFFF_FFFF,
        4 => 0x80 << (8 * rng.below(4)),
        _ => rng.u32(),
    }
}

#[test]
fn every_flag_of_the_register_forms_matches_the_reference() {
    let mut rng = Rng(0xA1B2_C3D4_E5F6_0718);
    let mut cases = 0;
    for model in [Model32::PentiumPro, Model32::I80486] {
        for op in ops() {
            for w in BITS {
                // No 8-bit IMUL r, r/m.
                if matches!(op, Op::Imul | Op::ImulImm) && w == 8 {
                    continue;
                }
                for between in [
                    Between::Nothing,
                    Between::Interrupt,
                    Between::Fault,
                    Between::SaveLoad,
                ] {
                    for _ in 0..6 {
                        let a = operand(&mut rng);
                        let mut b = operand(&mut rng);
                        if matches!(op, Op::Shift(_)) {
                            // A nonzero count (an immediate's is taken mod 32).
                            b = 1 + rng.below(31);
                            if rng.below(3) == 0 {
                                b = [1, 7, 8, 15, 16, 31][rng.below(6) as usize];
                            }
                        }
                        if matches!(op, Op::AluImm(_) | Op::ImulImm) {
                            // 83 /op ib and 6B: the byte sign-extended.
                            b = (b as u8 as i8) as i32 as u32;
                        }
                        let cin = rng.below(2) != 0;
                        let (want_r, want_f) = reference(op, w, a, b, cin);
                        let (r, sets, edx, word) = run(model, op, w, a, b, cin, between);
                        let what =
                            format!("{model:?} {op:?} w{w} a {a:#x} b {b:#x} cf {cin} {between:?}");
                        let dest = match op {
                            Op::Alu(7) | Op::AluImm(7) | Op::Test => a as u64 & mask(w),
                            _ => want_r as u64,
                        };
                        assert_eq!(r as u64 & mask(w), dest, "result, {what}");
                        // RCL cleared CF and OF (their values are in the SETcc bytes).
                        let want_w = want_f & !(CF | OF);
                        assert_eq!(word & STATUS, want_w, "EFLAGS {word:#x}, {what}");
                        assert_eq!(edx, (want_f & CF != 0) as u32, "CF by RCL, {what}");
                        for cc in 0..16u8 {
                            assert_eq!(
                                sets[cc as usize] != 0,
                                cond_of(want_f, cc),
                                "SETcc {cc:#x}, {what}"
                            );
                        }
                        cases += 1;
                    }
                }
            }
        }
    }
    assert!(cases > 2000, "{cases}");
}

/// The reference itself by hand, so that it cannot drift with the code.
#[test]
fn the_reference_by_hand() {
    // ADD AL, BL: 0x7F + 1 = 0x80, OF, AF, SF.
    assert_eq!(
        reference(Op::Alu(0), 8, 0x7F, 1, false),
        (0x80, OF | AF | SF)
    );
    // SUB EAX, EBX: 0 - 1: CF, AF, SF, PF (0xFF has even parity).
    assert_eq!(
        reference(Op::Alu(5), 32, 0, 1, false),
        (0xFFFF_FFFF, CF | AF | SF | PF)
    );
    // SBB AX, BX with carry: 5 - 5 - 1 = FFFFh.
    assert_eq!(
        reference(Op::Alu(3), 16, 5, 5, true),
        (0xFFFF, CF | AF | SF | PF)
    );
    // ADC EAX, EBX with carry: FFFFFFFFh + 0 + 1 = 0: CF, ZF, PF, AF.
    assert_eq!(
        reference(Op::Alu(2), 32, !0, 0, true),
        (0, CF | ZF | PF | AF)
    );
    // INC AL at 7Fh keeps CF.
    assert_eq!(
        reference(Op::Inc, 8, 0x7F, 0, true),
        (0x80, CF | OF | AF | SF)
    );
    // IMUL EAX, EBX: 10000h * 10000h overflows to 0.
    assert_eq!(
        reference(Op::Imul, 32, 0x1_0000, 0x1_0000, false),
        (0, CF | OF | ZF | PF)
    );
    // SHR AL, 1 of 81h: 40h, CF, OF (the old top bit).
    assert_eq!(reference(Op::Shift(5), 8, 0x81, 1, false), (0x40, CF | OF));
    // SAR AX, 4 of 8000h: F800h, SF, PF.
    assert_eq!(
        reference(Op::Shift(7), 16, 0x8000, 4, false),
        (0xF800, SF | PF)
    );
}
