//! Differential property test: the emulated core against the host CPU
//! (`harness::oracle`), for the ALU, shift/rotate, INC/DEC/NEG/NOT/TEST and
//! multiply/divide instructions in 8- and 16-bit widths, on every model.
//!
//! Instructions are drawn from the instruction table (every encoding of
//! those operations, register and memory forms, segment-override and LOCK
//! prefixes), states at random. The operands are fetched from the state by
//! this test's own effective-address code, the host computes the expected
//! result and flags, and the emulator's result, flags (the architecturally
//! defined ones) and untouched registers must agree. The masked differences
//! are listed in docs/conformance.md, "Host-CPU differential".
#![cfg(target_arch = "x86_64")]

#[path = "../../cpu/tests/common/mod.rs"]
mod common;

use common::*;
use cpu::regs::{AF, CF, OF};
use cpu::table::{AluOp, Op, Opd, ShiftOp};
use cpu::{CountingTiming, Cpu, CpuModel, Registers, Seg};
use harness::oracle::{self, Alu, MulDiv, Outcome, Shift, Unary, Width, ARITH_FLAGS};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

/// The operations the host oracle covers.
fn covered(op: Op) -> bool {
    match op {
        Op::Alu(_) | Op::Test | Op::Inc | Op::Dec | Op::Neg | Op::Not => true,
        Op::Mul | Op::Imul | Op::Div | Op::Idiv | Op::Imul3 => true,
        Op::Shift(s) => s != ShiftOp::Setmo,
        _ => false,
    }
}

/// Segment overrides and LOCK only: REP changes IMUL/IDIV on the 8086 (it
/// negates the result), which the host knows nothing of.
fn plain_prefixes() -> impl Strategy<Value = Vec<u8>> {
    let p = vec![0x26u8, 0x2E, 0x36, 0x3E, 0xF0];
    let n = prop_oneof![3 => Just(0usize), 1 => 1usize..=2];
    n.prop_flat_map(move |n| proptest::collection::vec(proptest::sample::select(p.clone()), n))
}

fn diff_case(model: CpuModel) -> impl Strategy<Value = Case> {
    (
        insn_where(model, |f| covered(f.row.op), plain_prefixes()),
        state(),
    )
        .prop_map(move |(i, s)| {
            let mut c = fit(model, i, s);
            if !model.is_186_plus() {
                // The 8086 does not mask shift counts; the host masks them to
                // five bits. Counts of 0–31 behave alike on both.
                c.regs.gpr[1] &= 0xFF1F;
            }
            c
        })
}

/// Where an operand is, as this test works it out independently of the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Reg8(u8),
    Reg16(u8),
    Mem(u16, u16),
    Imm(u16),
}

struct Decoded {
    modrm: Option<(u8, u8, u8, u16)>,
    seg: Option<Seg>,
}

fn decode(c: &Case) -> Decoded {
    let b = &c.insn.bytes;
    let mut seg = None;
    for &p in &b[..c.insn.prefixes] {
        seg = match p {
            0x26 => Some(Seg::ES),
            0x2E => Some(Seg::CS),
            0x36 => Some(Seg::SS),
            0x3E => Some(Seg::DS),
            _ => seg,
        };
    }
    let modrm = c.insn.modrm.map(|m| {
        let at = c.insn.prefixes + 2;
        let (md, rm) = (m >> 6, m & 7);
        let disp = match (md, rm) {
            (0, 6) | (2, _) => u16::from_le_bytes([b[at], b[at + 1]]),
            (1, _) => b[at] as i8 as u16,
            _ => 0,
        };
        (md, (m >> 3) & 7, rm, disp)
    });
    Decoded { modrm, seg }
}

fn place(c: &Case, d: &Decoded, opd: Opd, imm_at: &mut usize) -> Place {
    let r = &c.regs;
    let b = &c.insn.bytes;
    match opd {
        Opd::Eb | Opd::Ev => {
            let (md, _, rm, disp) = d.modrm.unwrap();
            if md == 3 {
                return if opd == Opd::Eb {
                    Place::Reg8(rm)
                } else {
                    Place::Reg16(rm)
                };
            }
            let g = |i: usize| r.gpr[i];
            let (bx, bp, si, di) = (g(3), g(5), g(6), g(7));
            let (base, bp_based) = match rm {
                0 => (bx.wrapping_add(si), false),
                1 => (bx.wrapping_add(di), false),
                2 => (bp.wrapping_add(si), true),
                3 => (bp.wrapping_add(di), true),
                4 => (si, false),
                5 => (di, false),
                6 if md == 0 => (0, false),
                6 => (bp, true),
                _ => (bx, false),
            };
            let seg = d.seg.unwrap_or(if bp_based { Seg::SS } else { Seg::DS });
            Place::Mem(r.seg[seg as usize], base.wrapping_add(disp))
        }
        Opd::Gb => Place::Reg8(d.modrm.unwrap().1),
        Opd::Gv => Place::Reg16(d.modrm.unwrap().1),
        Opd::AL => Place::Reg8(0),
        Opd::AX => Place::Reg16(0),
        Opd::CL => Place::Reg8(1),
        Opd::One => Place::Imm(1),
        Opd::Zv => Place::Reg16(c.insn.form.opcode & 7),
        Opd::Ib => {
            *imm_at += 1;
            Place::Imm(b[*imm_at - 1] as u16)
        }
        Opd::Ibs => {
            *imm_at += 1;
            Place::Imm(b[*imm_at - 1] as i8 as u16)
        }
        Opd::Iv => {
            *imm_at += 2;
            Place::Imm(u16::from_le_bytes([b[*imm_at - 2], b[*imm_at - 1]]))
        }
        other => panic!("operand {other:?} not in the covered forms"),
    }
}

fn get(regs: &Registers, bus: &TestBus, cpu: &Cpu, p: Place, word: bool) -> u16 {
    match p {
        Place::Reg8(r) => regs.r8(r) as u16,
        Place::Reg16(r) => regs.gpr[r as usize],
        Place::Mem(s, o) => {
            let lo = bus.peek(cpu.linear(s, o)) as u16;
            if word {
                lo | (bus.peek(cpu.linear(s, o.wrapping_add(1))) as u16) << 8
            } else {
                lo
            }
        }
        Place::Imm(v) => v,
    }
}

/// What the host expects: the outcome, the flags defined for it, and the
/// place the result goes (None: flags only, or AX/DX for multiply/divide).
struct Expect {
    out: Option<Outcome>,
    defined: u16,
    dest: Option<Place>,
}

fn expect(c: &Case, d: &Decoded, bus: &TestBus, cpu: &Cpu) -> Expect {
    let row = c.insn.form.row;
    let w = row.word;
    let width = Width::from_word(w);
    let r = &c.regs;
    let f = r.flags;
    let mut imm_at = c.insn.imm_at;
    let all = ARITH_FLAGS;
    let p0 = place(c, d, row.opd[0], &mut imm_at);
    let v0 = get(r, bus, cpu, p0, w);
    match row.op {
        Op::Alu(op) => {
            let p1 = place(c, d, row.opd[1], &mut imm_at);
            let v1 = get(r, bus, cpu, p1, w);
            let (a, logic) = match op {
                AluOp::Add => (Alu::Add, false),
                AluOp::Or => (Alu::Or, true),
                AluOp::Adc => (Alu::Adc, false),
                AluOp::Sbb => (Alu::Sbb, false),
                AluOp::And => (Alu::And, true),
                AluOp::Sub => (Alu::Sub, false),
                AluOp::Xor => (Alu::Xor, true),
                AluOp::Cmp => (Alu::Cmp, false),
            };
            Expect {
                out: Some(oracle::alu(a, width, v0, v1, f)),
                defined: if logic { all & !AF } else { all },
                dest: (op != AluOp::Cmp).then_some(p0),
            }
        }
        Op::Test => {
            let p1 = place(c, d, row.opd[1], &mut imm_at);
            let v1 = get(r, bus, cpu, p1, w);
            Expect {
                out: Some(oracle::alu(Alu::Test, width, v0, v1, f)),
                defined: all & !AF,
                dest: None,
            }
        }
        Op::Shift(s) => {
            let p1 = place(c, d, row.opd[1], &mut imm_at);
            let count = get(r, bus, cpu, p1, false) as u8;
            let op = match s {
                ShiftOp::Rol => Shift::Rol,
                ShiftOp::Ror => Shift::Ror,
                ShiftOp::Rcl => Shift::Rcl,
                ShiftOp::Rcr => Shift::Rcr,
                ShiftOp::Shl => Shift::Shl,
                ShiftOp::Shr => Shift::Shr,
                ShiftOp::Sar => Shift::Sar,
                ShiftOp::Setmo => unreachable!(),
            };
            let n = count & 0x1F;
            let bits = if w { 16 } else { 8 };
            let rotate = matches!(op, Shift::Rol | Shift::Ror | Shift::Rcl | Shift::Rcr);
            let defined = if n == 0 {
                all
            } else {
                let mut d = all;
                if n != 1 {
                    d &= !OF; // OF is defined for one-bit shifts only
                }
                if !rotate {
                    d &= !AF;
                    if n >= bits && matches!(op, Shift::Shl | Shift::Shr) {
                        d &= !CF; // the last bit out is past the operand
                    }
                }
                d
            };
            Expect {
                out: Some(oracle::shift(op, width, v0, count, f)),
                defined,
                dest: Some(p0),
            }
        }
        Op::Inc | Op::Dec | Op::Neg | Op::Not => {
            let op = match row.op {
                Op::Inc => Unary::Inc,
                Op::Dec => Unary::Dec,
                Op::Neg => Unary::Neg,
                _ => Unary::Not,
            };
            Expect {
                out: Some(oracle::unary(op, width, v0, f)),
                defined: all,
                dest: Some(p0),
            }
        }
        Op::Mul | Op::Imul | Op::Div | Op::Idiv => {
            let op = match row.op {
                Op::Mul => MulDiv::Mul,
                Op::Imul => MulDiv::Imul,
                Op::Div => MulDiv::Div,
                _ => MulDiv::Idiv,
            };
            let defined = match op {
                MulDiv::Mul | MulDiv::Imul => CF | OF,
                _ => 0,
            };
            Expect {
                out: oracle::muldiv(op, width, r.gpr[0], r.gpr[2], v0, f),
                defined,
                dest: None,
            }
        }
        Op::Imul3 => {
            let p1 = place(c, d, row.opd[1], &mut imm_at);
            let v1 = get(r, bus, cpu, p1, true);
            let p2 = place(c, d, row.opd[2], &mut imm_at);
            let v2 = get(r, bus, cpu, p2, true);
            Expect {
                out: Some(oracle::imul3(v1, v2, f)),
                defined: CF | OF,
                dest: Some(p0),
            }
        }
        other => panic!("{other:?} is not covered"),
    }
}

/// The 8086/8088 raise a divide error for the most negative IDIV quotient
/// (-128 or -32768), which the host (and the 80186 on) return.
fn i8086_idiv_min_quotient(c: &Case, src: u16) -> bool {
    if c.model.is_186_plus() || c.insn.form.row.op != Op::Idiv {
        return false;
    }
    let r = &c.regs;
    if c.insn.form.row.word {
        let n = (((r.gpr[2] as u32) << 16) | r.gpr[0] as u32) as i32 as i64;
        let d = src as i16 as i64;
        d != 0 && n / d == -32768
    } else {
        let d = src as u8 as i8 as i32;
        d != 0 && r.gpr[0] as i16 as i32 / d == -128
    }
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let d = decode(c);
    let (mut cpu, mut bus) = setup::<CountingTiming>(c);
    let row = c.insn.form.row;
    let mut imm_at = c.insn.imm_at;
    let p0 = place(c, &d, row.opd[0], &mut imm_at);
    for opd in row.opd {
        if let (Opd::Ev, Some((md, ..))) = (opd, d.modrm) {
            if let Place::Mem(_, o) = place(c, &d, Opd::Ev, &mut 0) {
                // A word at offset FFFF is a #GP on the 286: not an ALU matter.
                prop_assume!(!(c.model == CpuModel::I80286 && md != 3 && o == 0xFFFF));
            }
        }
    }
    let e = expect(c, &d, &bus, &cpu);
    let before = cpu.regs;
    cpu.step(&mut bus);
    let after = cpu.regs;
    let vector = entered_vector(&bus, after.seg[Seg::CS as usize], after.ip);
    let src0 = get(&before, &bus, &cpu, p0, row.word);
    if c.model == CpuModel::I80286 && matches!(before.gpr[4], 1 | 3 | 5) && cpu.halted() {
        // A divide error whose frame reaches SS:FFFF: the 286 shuts down.
        return Ok(());
    }
    let Some(out) = e.out else {
        // The host would fault: the emulator must have taken the divide error.
        prop_assert_eq!(vector, Some(0), "expected a divide error");
        return Ok(());
    };
    if i8086_idiv_min_quotient(c, src0) {
        prop_assert_eq!(
            vector,
            Some(0),
            "8086 IDIV of the most negative quotient faults"
        );
        return Ok(());
    }
    prop_assert_eq!(vector, None, "unexpected exception");
    prop_assert_eq!(
        after.ip,
        before.ip.wrapping_add(c.insn.bytes.len() as u16),
        "IP"
    );
    // Result.
    let mut expect_regs = before;
    match row.op {
        Op::Mul | Op::Imul | Op::Div | Op::Idiv => {
            expect_regs.gpr[0] = out.result;
            if row.word {
                expect_regs.gpr[2] = out.high;
            }
        }
        _ => match e.dest {
            Some(Place::Reg8(r)) => expect_regs.set_r8(r, out.result as u8),
            Some(Place::Reg16(r)) => expect_regs.gpr[r as usize] = out.result,
            Some(Place::Mem(s, o)) => {
                let got = get(&after, &bus, &cpu, Place::Mem(s, o), row.word);
                prop_assert_eq!(got, out.result, "memory result at {:04X}:{:04X}", s, o);
            }
            _ => {}
        },
    }
    prop_assert_eq!(after.gpr, expect_regs.gpr, "registers");
    prop_assert_eq!(after.seg, before.seg, "segment registers");
    // Flags: the defined arithmetic ones as the host has them, the rest untouched.
    let mask = e.defined;
    prop_assert_eq!(
        after.flags & mask,
        out.flags & mask,
        "flags {} vs host {} (compared {})",
        cpu::describe_flags(after.flags),
        cpu::describe_flags(out.flags),
        cpu::describe_flags(mask)
    );
    prop_assert_eq!(after.flags & !ARITH_FLAGS, before.flags & !ARITH_FLAGS);
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/prop_host.txt",
        ))),
        ..ProptestConfig::default()
    }
}

macro_rules! per_model {
    ($($name:ident: $model:expr;)*) => {$(
        proptest! {
            #![proptest_config(config())]
            #[test]
            fn $name(c in diff_case($model)) {
                check(&c)?;
            }
        }
    )*};
}

per_model! {
    host_differential_8088: CpuModel::I8088;
    host_differential_8086: CpuModel::I8086;
    host_differential_80186: CpuModel::I80186;
    host_differential_80286: CpuModel::I80286;
}

/// The covered forms are what the task lists: every ALU, shift, unary and
/// multiply/divide encoding of the table, in both widths.
#[test]
fn covered_forms() {
    let f: Vec<_> = forms(CpuModel::I8086)
        .into_iter()
        .filter(|f| covered(f.row.op))
        .collect();
    // 00-3F: 8 ops x 6 forms; 80-83: 4 x 8; 84/85/A8/A9 TEST; 40-4F;
    // D0-D3 x 7 shifts; F6/F7: TEST (and its alias), NOT, NEG, MUL, IMUL, DIV, IDIV; FE/FF INC/DEC.
    assert_eq!(f.len(), 48 + 32 + 4 + 16 + 28 + 16 + 4);
    let f186 = forms(CpuModel::I80186)
        .into_iter()
        .filter(|f| covered(f.row.op))
        .count();
    // C0/C1 shifts by immediate, 69/6B IMUL.
    assert_eq!(f186, f.len() + 14 + 2);
}
