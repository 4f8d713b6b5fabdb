//! The fast timing model's clock counts per form (docs/timing.md, "ia32
//! fast model").
//!
//! The table rows (`table.rs`) carry each instruction's register / simplest
//! count on the 386 and the 486. Here the decoder picks the count of the
//! form it decoded — register or memory operand, REP, operand width,
//! ENTER's level — once per decode, so it costs nothing at run time; and
//! the few run-time parts (a taken branch, the multiplier's magnitude, REP
//! iterations, protected-mode transfers and segment loads) are small
//! per-model figures the handlers add when they know the outcome.
//!
//! Columns: 0 the 386 (Intel 80386 Programmer's Reference Manual, chapter
//! 17 and appendix E), 1 the 486 (i486 Programmer's Reference Manual), 2
//! the Pentium (the Pentium's non-paired counts); the P6 has no
//! per-instruction table and is charged the Pentium's. The 286 model keeps
//! the rows' 386 counts unchanged (this module only serves generation 3+).

use super::decode::Insn;
use super::Model32;

/// The 386's "+m" (the components of the next instruction, refetched after
/// a transfer: each opcode byte, the ModR/M, a displacement and an
/// immediate count one each) is not known when the transfer runs. The
/// model charges a fixed m = 2, an opcode and a ModR/M byte.
pub const M386: u16 = 2;

/// The column of `model`: 0 for the 386 (and the 286), 1 the 486, 2 the
/// Pentium and the P6.
#[inline]
pub fn col(model: Model32) -> usize {
    match model.generation() {
        0..=3 => 0,
        4 => 1,
        _ => 2,
    }
}

/// The count of instruction `i` as decoded on `model`, `base` being its
/// row's count for the model (the register / simplest form). Rows this
/// does not name keep `base`, as do all rows on the 286.
pub fn form_clk(i: &Insn, model: Model32, base: u16) -> u16 {
    if model.generation() < 3 {
        return base;
    }
    let c = col(model);
    let m = i.mem;
    let rm = |r: [u16; 3], mm: [u16; 3]| if m { mm[c] } else { r[c] };
    let k = |v: [u16; 3]| v[c];
    let reg = i.reg();
    let op = i.op;
    // Operand width in bytes for the ops whose count depends on it.
    let w = if op & 1 == 0 {
        1
    } else if i.o32 {
        4
    } else {
        2
    };
    const M: u16 = M386;
    match op {
        // ALU r/m,reg: CMP only reads memory.
        0x00..=0x3F if op & 7 < 2 => {
            let cmp = op >> 3 == 7;
            rm([2, 1, 1], if cmp { [5, 2, 2] } else { [7, 3, 3] })
        }
        // ALU reg,r/m.
        0x00..=0x3F if op & 7 < 4 => rm([2, 1, 1], [6, 2, 2]),
        0x00..=0x3F if op & 7 < 6 => k([2, 1, 1]),
        0x80..=0x83 => rm([2, 1, 1], if reg == 7 { [5, 2, 2] } else { [7, 3, 3] }),
        0x84 | 0x85 => rm([2, 1, 1], [5, 2, 2]),
        0xA8 | 0xA9 => k([2, 1, 1]),
        0xF6 | 0xF7 => match reg {
            0 | 1 => rm([2, 1, 1], [5, 2, 2]),
            2 | 3 => rm([2, 1, 1], [6, 3, 3]),
            // MUL/IMUL: the least; the handler adds the early-out part.
            4 | 5 => {
                let p5 = if w == 4 { 10 } else { 11 };
                rm([9, 13, p5], [12, 13, p5])
            }
            6 => match w {
                1 => rm([14, 16, 17], [17, 16, 17]),
                2 => rm([22, 24, 25], [25, 24, 25]),
                _ => rm([38, 40, 41], [41, 40, 41]),
            },
            _ => match w {
                1 => rm([19, 19, 22], [22, 20, 22]),
                2 => rm([27, 27, 30], [30, 28, 30]),
                _ => rm([43, 43, 46], [46, 44, 46]),
            },
        },
        0x1AF | 0x69 | 0x6B => rm([9, 13, 10], [12, 13, 10]),
        // MOV.
        0x88 | 0x89 | 0xC6 | 0xC7 => rm([2, 1, 1], [2, 1, 1]),
        0x8A | 0x8B => rm([2, 1, 1], [4, 1, 1]),
        0xA0 | 0xA1 => k([4, 1, 1]),
        0xA2 | 0xA3 => k([2, 1, 1]),
        0xB0..=0xBF => k([2, 1, 1]),
        0x8C => rm([2, 3, 1], [2, 3, 1]),
        // Real mode; protected mode adds `seg_load_pm`.
        0x8E => rm([2, 3, 2], [5, 3, 3]),
        0x8D => k([2, 1, 1]),
        0x1B6 | 0x1B7 | 0x1BE | 0x1BF => rm([3, 3, 3], [6, 3, 3]),
        // INC/DEC, PUSH/POP.
        0x40..=0x4F => k([2, 1, 1]),
        0xFE | 0xFF if reg < 2 => rm([2, 1, 1], [6, 3, 3]),
        0x50..=0x57 => k([2, 1, 1]),
        0x58..=0x5F => k([4, 4, 1]),
        0x68 | 0x6A => k([2, 1, 1]),
        0xFF if reg == 6 => rm([2, 1, 1], [5, 4, 2]),
        0x8F => rm([4, 4, 1], [5, 6, 3]),
        0x06 | 0x0E | 0x16 | 0x1E | 0x1A0 | 0x1A8 => k([2, 3, 1]),
        // Real mode; protected mode adds `seg_load_pm`.
        0x07 | 0x17 | 0x1F | 0x1A1 | 0x1A9 => k([7, 3, 3]),
        0xC4 | 0xC5 | 0x1B2 | 0x1B4 | 0x1B5 => k([7, 6, 4]),
        0x60 => k([18, 11, 5]),
        0x61 => k([24, 9, 5]),
        0x9C => k([4, 4, 4]),
        0x9D => k([5, 9, 6]),
        0x90 => k([3, 1, 1]),
        0x86 | 0x87 => rm([3, 3, 3], [5, 5, 3]),
        0x91..=0x97 => k([3, 3, 2]),
        // Shifts and rotates: by 1 (D0/D1), by CL (D2/D3), by an immediate
        // (C0/C1); RCL/RCR (reg 2, 3) apart. The 486's and the Pentium's
        // RCL/RCR by CL or an immediate take the least of their range.
        0xC0 | 0xC1 | 0xD0..=0xD3 => {
            let by = match op {
                0xD0 | 0xD1 => 0,
                0xD2 | 0xD3 => 1,
                _ => 2,
            };
            if reg == 2 || reg == 3 {
                match by {
                    0 => rm([9, 3, 1], [10, 4, 3]),
                    1 => rm([9, 8, 7], [10, 9, 9]),
                    _ => rm([9, 8, 8], [10, 9, 10]),
                }
            } else {
                match by {
                    0 => rm([3, 3, 1], [7, 4, 3]),
                    1 => rm([3, 3, 4], [7, 4, 4]),
                    _ => rm([3, 2, 1], [7, 4, 3]),
                }
            }
        }
        0x1A4 | 0x1AC => rm([3, 2, 4], [7, 3, 4]),
        0x1A5 | 0x1AD => rm([3, 3, 4], [7, 4, 5]),
        0x1A3 => rm([3, 3, 4], [12, 8, 9]),
        0x1AB | 0x1B3 | 0x1BB => rm([6, 6, 7], [13, 13, 13]),
        0x1BA if reg == 4 => rm([3, 3, 4], [6, 3, 4]),
        0x1BA => rm([6, 6, 7], [8, 8, 8]),
        0x1BC => rm([10, 6, 6], [10, 7, 6]),
        0x1BD => rm([10, 6, 7], [10, 7, 7]),
        0x190..=0x19F => rm([4, 3, 1], [5, 3, 2]),
        0x1B0 | 0x1B1 => rm([6, 6, 5], [6, 7, 6]),
        0x1C0 | 0x1C1 => rm([3, 3, 3], [3, 4, 4]),
        // Branches: Jcc, LOOP/LOOPcc and JCXZ are charged not taken here;
        // a taken one adds `taken_delta` in its handler.
        0x70..=0x7F | 0x180..=0x18F => k([3, 1, 1]),
        0xE0 | 0xE1 => k([11, 6, 7]),
        0xE2 => k([11, 6, 5]),
        0xE3 => k([5, 5, 5]),
        0xE9 | 0xEB | 0xE8 => k([7 + M, 3, 1]),
        0xFF if reg == 2 || reg == 4 => rm([7 + M, 5, 2], [10 + M, 5, 2]),
        0xC3 => k([10 + M, 5, 2]),
        0xC2 => k([10 + M, 5, 3]),
        // Far transfers in real (and v86) mode; protected mode adds the
        // difference to `xfer` in the handler.
        0xEA => k([12 + M, 17, 3]),
        0xFF if reg == 5 => k([17 + M, 13, 4]),
        0x9A => k([17 + M, 18, 4]),
        0xFF if reg == 3 => k([22 + M, 17, 5]),
        0xCB => k([18 + M, 13, 4]),
        0xCA => k([18 + M, 14, 4]),
        0xCF => k([22, 15, 8]),
        0xCD => k([37, 30, 16]),
        0xCC | 0xF1 => k([33, 26, 13]),
        // INTO not taken; taken, the handler adds `INTO_TAKEN` less this.
        0xCE => k([3, 3, 4]),
        0xC8 => {
            let l = i.imm2 & 0x1F;
            match l {
                0 => k([10, 14, 11]),
                1 => k([12, 17, 15]),
                _ => k([15 + 4 * (l - 1), 17 + 3 * l, 15 + 2 * l]),
            }
        }
        0xC9 => k([4, 5, 3]),
        // String instructions: alone, or a REP's fixed part (its
        // iterations are added by `rep_per`).
        0xA4..=0xA7 | 0xAA..=0xAF | 0x6C..=0x6F if i.rep != 0 => match op {
            0xA4 | 0xA5 => k([7, 12, 13]),
            0xAA | 0xAB => k([5, 7, 9]),
            0xAC | 0xAD => k([5, 7, 7]),
            0xA6 | 0xA7 | 0xAE | 0xAF => k([5, 7, 9]),
            0x6C | 0x6D => k([13, 16, 11]),
            _ => k([12, 17, 13]),
        },
        0xA4 | 0xA5 => k([7, 7, 4]),
        0xA6 | 0xA7 => k([10, 8, 5]),
        0xAA | 0xAB => k([4, 5, 3]),
        0xAC | 0xAD => k([5, 5, 2]),
        0xAE | 0xAF => k([7, 6, 4]),
        0xD7 => k([5, 4, 4]),
        0xFA | 0xFB => k([3, 5, 7]),
        0x98 => k([3, 3, 3]),
        0x99 => k([2, 3, 2]),
        0xF5 | 0xF8 | 0xF9 | 0xFC | 0xFD => k([2, 2, 2]),
        0x9E => k([3, 2, 2]),
        0x9F => k([2, 3, 2]),
        0x27 | 0x2F => k([4, 2, 3]),
        0x37 | 0x3F => k([4, 3, 3]),
        0xD4 => k([17, 15, 18]),
        0xD5 => k([19, 14, 10]),
        _ => base,
    }
}

/// A REP string instruction's clocks per iteration on `model`, added to
/// its fixed part ([`form_clk`]) for each element done: the 386's
/// `5+4n`-style counts (REP MOVS 7+4n), the 486's (REP MOVS 12+3n) and the
/// Pentium's (REP MOVS 13+n).
pub fn rep_per(op: u16, model: Model32) -> u64 {
    if model.generation() < 3 {
        return 0;
    }
    let c = col(model);
    let v: [u8; 3] = match op {
        0xA4 | 0xA5 => [4, 3, 1],
        0xAA | 0xAB => [5, 4, 1],
        0xAC | 0xAD => [6, 4, 3],
        0xA6 | 0xA7 => [9, 7, 4],
        0xAE | 0xAF => [8, 5, 4],
        0x6C | 0x6D => [6, 8, 3],
        _ => [5, 5, 4],
    };
    v[c] as u64
}

/// The early-out multiply's variable part on the 386 and the 486 (the
/// manuals' rule: `max(ceiling(log2(|m|)), 3) + 6` clocks on the 386, 9
/// for m = 0, where m is the multiplier: the r/m operand, or the
/// immediate of IMUL r,r/m,imm). [`form_clk`] charged the least (9 on the
/// 386, 13 on the 486, whose 13–18 / 13–26 / 13–42 ranges are the same
/// rule 4 clocks up), this is the rest; the Pentium's counts are fixed (0).
#[inline]
pub fn mul_extra(model: Model32, m: u32) -> u64 {
    if !(3..5).contains(&model.generation()) || m == 0 {
        return 0;
    }
    // ceiling(log2(m)) for m >= 1.
    let l = 32 - (m - 1).leading_zeros();
    l.max(3) as u64 - 3
}

/// A taken branch's clocks over the not-taken count [`form_clk`] charged,
/// for Jcc (the 386's 7+m against 3, the 486's 3 against 1, the Pentium's 1
/// for a correctly predicted branch against 1), LOOPNE/LOOPE/LOOP (386
/// 11+m against 11, 486 9 or 7 against 6, Pentium 8 or 6 against 7 or 5)
/// and JCXZ (386 9+m against 5, 486 8 against 5, Pentium 6 against 5);
/// `None` for every other opcode. The decoder keeps it in the
/// instruction (`Insn::imm2`, unused by these one-immediate shapes).
pub fn taken_delta(op: u16, model: Model32) -> Option<i32> {
    if model.generation() < 3 {
        return match op {
            0x70..=0x7F | 0x180..=0x18F | 0xE0..=0xE3 => Some(0),
            _ => None,
        };
    }
    let c = col(model);
    let m = M386 as i32;
    let v: [i32; 3] = match op {
        0x70..=0x7F | 0x180..=0x18F => [4 + m, 2, 0],
        0xE0 | 0xE1 => [m, 3, 1],
        0xE2 => [m, 1, 1],
        0xE3 => [4 + m, 3, 1],
        _ => return None,
    };
    Some(v[c])
}

/// INTO's count when it takes the interrupt (real mode).
pub fn into_taken(model: Model32) -> u16 {
    [35, 28, 13][col(model)]
}

/// The extra clocks of a segment register load in protected mode (not
/// v86) over the real-mode count [`form_clk`] charged: MOV Sreg (386 2/5
/// against 18/19, 486 3 against 9), POP Sreg (386 7 against 21, 486 3
/// against 9) and LDS/LES/LFS/LGS/LSS (386 7 against 22, 486 6 against 12;
/// the Pentium's LSS 4 against 8).
pub fn seg_load_pm(i: &Insn, model: Model32) -> u64 {
    if model.generation() < 3 {
        return 0;
    }
    let c = col(model);
    let v: [u8; 3] = match i.op {
        0x8E if i.mem => [14, 6, 0],
        0x8E => [16, 6, 1],
        0xC4 | 0xC5 | 0x1B4 | 0x1B5 => [15, 6, 0],
        0x1B2 => [15, 6, 4],
        _ => [14, 6, 0],
    };
    v[c] as u64
}

/// Protected-mode control transfers, each with its count per model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Xfer {
    /// JMP far to a code segment.
    JmpPm,
    /// JMP far through a call gate.
    JmpGate,
    /// CALL far to a code segment.
    CallPm,
    /// CALL far through a call gate, same privilege.
    CallGate,
    /// CALL far through a call gate to an inner level, copying x
    /// parameters (386 86+m, or 94+4x+m with parameters; 486 69 or 77+4x).
    CallGateInner(u32),
    /// RET far, same privilege.
    RetPm,
    /// RET far to an outer level.
    RetOuter,
    /// IRET, same privilege.
    IretPm,
    /// IRET to an outer level or to virtual-8086 mode.
    IretOuter,
    /// INT n / INT3 / INTO through an interrupt or trap gate, same level.
    IntPm,
    /// The same to an inner level.
    IntInner,
    /// The same from virtual-8086 mode to level 0.
    IntV86,
    /// A task switch (JMP/CALL to a TSS or task gate, INT through a task
    /// gate, IRET with NT): the manuals' "TS", by the new TSS's kind.
    Task {
        /// The new TSS is a 286 TSS.
        tss286: bool,
        /// The new task runs in virtual-8086 mode.
        v86: bool,
    },
}

/// The whole count of transfer `k` on `model` (the 386's "+m" with
/// [`M386`]). The Pentium has no public task-switch figure ("TS"): it is
/// charged the 486's.
pub fn xfer_clk(k: Xfer, model: Model32) -> u64 {
    let c = col(model);
    let m = M386 as u64;
    let v = |a: [u64; 3]| a[c];
    match k {
        Xfer::JmpPm => v([27 + m, 19, 3]),
        Xfer::JmpGate => v([45 + m, 32, 18]),
        Xfer::CallPm => v([34 + m, 20, 4]),
        Xfer::CallGate => v([52 + m, 35, 22]),
        Xfer::CallGateInner(x) => {
            let x = x as u64;
            if x == 0 {
                v([86 + m, 69, 44])
            } else {
                v([94 + 4 * x + m, 77 + 4 * x, 45 + x])
            }
        }
        Xfer::RetPm => v([32 + m, 18, 4]),
        Xfer::RetOuter => v([68, 33, 23]),
        Xfer::IretPm => v([38, 15, 10]),
        Xfer::IretOuter => v([82, 36, 27]),
        Xfer::IntPm => v([59, 44, 31]),
        Xfer::IntInner => v([99, 71, 48]),
        Xfer::IntV86 => v([119, 82, 60]),
        Xfer::Task { tss286, v86 } => {
            if c == 0 {
                if tss286 {
                    282
                } else if v86 {
                    226
                } else {
                    309
                }
            } else if tss286 {
                180
            } else if v86 {
                177
            } else {
                199
            }
        }
    }
}
