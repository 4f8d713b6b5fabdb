//! The fast timing model's clock counts (docs/timing.md, "ia32 fast
//! model"): the parts the table rows cannot hold.
//!
//! Every instruction's count per form lives in its table row (`table.rs`:
//! `Row::clk`, the register / simplest form, and `Row::alt`, the memory
//! operand, a taken branch, the REP fixed part or INTO's interrupt). The
//! decoder picks the form's count there once, and [`form_clk`] adjusts it
//! only for what the row cannot say: the operand width of DIV/IDIV and of
//! the Pentium's MUL, and ENTER's nesting level. The run-time parts (a
//! taken branch's difference, the multiplier's magnitude, REP iterations,
//! protected-mode transfers and segment loads) are added by the handlers
//! when they know the outcome. A guard test (`tests_clocks.rs`) checks that
//! every other row decodes to its column, on every model.
//!
//! Columns: 0 the 286 (iAPX 286 Programmer's Reference Manual), 1 the 386
//! (Intel 80386 Programmer's Reference Manual, chapter 17 and appendix E),
//! 2 the 486 (i486 Programmer's Reference Manual), 3 the Pentium (the
//! Pentium's non-paired counts); the P6 has no per-instruction table and
//! is charged the Pentium's.

use super::decode::Insn;
use super::table::{lookup, ROWS};
use super::Model32;

/// The 386's "+m" (the components of the next instruction, refetched after
/// a transfer: each opcode byte, the ModR/M, a displacement and an
/// immediate count one each; on the 286 the bytes of the next instruction)
/// is not known when the transfer runs. The model charges a fixed m = 2,
/// an opcode and a ModR/M byte.
pub const M386: u16 = 2;

/// The column of `model`: 0 for the 286, 1 the 386, 2 the 486, 3 the
/// Pentium and the P6.
#[inline]
pub fn col(model: Model32) -> usize {
    match model.generation() {
        0..=2 => 0,
        3 => 1,
        4 => 2,
        _ => 3,
    }
}

/// True for the string instructions whose second count ([`Row::alt`](super::table::Row::alt))
/// is their fixed part under a REP prefix.
#[inline]
pub fn rep_string(op: u16) -> bool {
    matches!(op, 0x6C..=0x6F | 0xA4..=0xA7 | 0xAA..=0xAF)
}

/// The count of instruction `i` as decoded on `model`, `base` being its
/// row's count for the form decoded (`Row::clocks`: memory operand or REP
/// string picks the second). Only what the row cannot hold is added here:
///
/// - DIV/IDIV r/m32: 16 clocks over r/m16 on every model (386 DIV 38
///   against 22, IDIV 43 against 27; 486 40 / 24, 43 / 27; Pentium 41 / 25,
///   46 / 30; memory forms likewise);
/// - the Pentium's MUL/IMUL r/m32: 10 against 11 for r/m8 and r/m16;
/// - ENTER at level L (the row holds L = 0): 286 15 at L = 1, 12+4(L−1)
///   above; 386 12, 15+4(L−1); 486 17, 17+3L; Pentium 15, 15+2L.
pub fn form_clk(i: &Insn, model: Model32, base: u16) -> u16 {
    let c = col(model);
    match i.op {
        0xF7 if i.o32 && i.reg() >= 6 => base + 16,
        0xF7 if i.o32 && (i.reg() == 4 || i.reg() == 5) && c == 3 => base - 1,
        0xC8 => {
            let l = i.imm2 & 0x1F;
            match l {
                0 => base,
                1 => [15, 12, 17, 15][c],
                _ => [12 + 4 * (l - 1), 15 + 4 * (l - 1), 17 + 3 * l, 15 + 2 * l][c],
            }
        }
        _ => base,
    }
}

/// A REP string instruction's clocks per iteration on `model`, added to
/// its fixed part ([`form_clk`]) for each element done: the 286's (REP
/// MOVS 5+4n), the 386's `5+4n`-style counts (REP MOVS 7+4n), the 486's
/// (REP MOVS 12+3n) and the Pentium's (REP MOVS 13+n).
pub fn rep_per(op: u16, model: Model32) -> u64 {
    let c = col(model);
    let v: [u8; 4] = match op {
        0xA4 | 0xA5 => [4, 4, 3, 1],
        0xAA | 0xAB => [3, 5, 4, 1],
        0xAC | 0xAD => [4, 6, 4, 3],
        0xA6 | 0xA7 => [9, 9, 7, 4],
        0xAE | 0xAF => [8, 8, 5, 4],
        0x6C | 0x6D => [4, 6, 8, 3],
        _ => [4, 5, 5, 4],
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

/// A taken branch's clocks over the not-taken count the decoder charged,
/// for Jcc, LOOPNE/LOOPE/LOOP and JCXZ: the difference of the two counts
/// in the branch's row (`Row::alt` less `Row::clk`, never negative); `None`
/// for every other opcode. The decoder keeps it in the instruction
/// (`Insn::imm2`, unused by these one-immediate shapes).
pub fn taken_delta(op: u16, model: Model32) -> Option<i32> {
    if !matches!(op, 0x70..=0x7F | 0x180..=0x18F | 0xE0..=0xE3) {
        return None;
    }
    let e = lookup().entries[op as usize * 8]?;
    let r = &ROWS[e.row as usize];
    Some(i32::from(r.clocks(model, true)) - i32::from(r.clocks(model, false)))
}

/// INTO's count when it takes the interrupt (real mode): its row's second
/// count.
pub fn into_taken(model: Model32) -> u16 {
    lookup().entries[0xCE * 8].map_or(0, |e| ROWS[e.row as usize].clocks(model, true))
}

/// The extra clocks of a segment register load in protected mode (not
/// v86) over the real-mode count [`form_clk`] charged: MOV Sreg (286 2/5
/// against 17/19, 386 2/5 against 18/19, 486 3 against 9), POP Sreg (286
/// 5 against 20, 386 7 against 21, 486 3 against 9) and LDS/LES/LFS/LGS/LSS
/// (286 7 against 21, 386 7 against 22, 486 6 against 12; the Pentium's
/// LSS 4 against 8).
pub fn seg_load_pm(i: &Insn, model: Model32) -> u64 {
    let c = col(model);
    let v: [u8; 4] = match i.op {
        0x8E if i.mem => [14, 14, 6, 0],
        0x8E => [15, 16, 6, 1],
        0xC4 | 0xC5 | 0x1B4 | 0x1B5 => [14, 15, 6, 0],
        0x1B2 => [14, 15, 6, 4],
        _ => [15, 14, 6, 0],
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

/// The whole count of transfer `k` on `model` (the 286's and 386's "+m"
/// with [`M386`]). The Pentium has no public task-switch figure ("TS"): it
/// is charged the 486's. The 286's task switch is charged its JMP through
/// a TSS (175+m) whatever the instruction (CALL 177+m, through a task gate
/// 180+m or 182+m, INT 167+m, IRET 169).
pub fn xfer_clk(k: Xfer, model: Model32) -> u64 {
    let c = col(model);
    let m = M386 as u64;
    let v = |a: [u64; 4]| a[c];
    match k {
        Xfer::JmpPm => v([23 + m, 27 + m, 19, 3]),
        Xfer::JmpGate => v([38 + m, 45 + m, 32, 18]),
        Xfer::CallPm => v([26 + m, 34 + m, 20, 4]),
        Xfer::CallGate => v([41 + m, 52 + m, 35, 22]),
        Xfer::CallGateInner(x) => {
            let x = x as u64;
            if x == 0 {
                v([82 + m, 86 + m, 69, 44])
            } else {
                v([86 + 4 * x + m, 94 + 4 * x + m, 77 + 4 * x, 45 + x])
            }
        }
        Xfer::RetPm => v([25 + m, 32 + m, 18, 4]),
        Xfer::RetOuter => v([55 + m, 68, 33, 23]),
        Xfer::IretPm => v([31 + m, 38, 15, 10]),
        Xfer::IretOuter => v([55 + m, 82, 36, 27]),
        Xfer::IntPm => v([40 + m, 59, 44, 31]),
        Xfer::IntInner => v([78 + m, 99, 71, 48]),
        // The 286 has no virtual-8086 mode.
        Xfer::IntV86 => v([78 + m, 119, 82, 60]),
        Xfer::Task { tss286, v86 } => match c {
            0 => 175 + m,
            1 if tss286 => 282,
            1 if v86 => 226,
            1 => 309,
            _ if tss286 => 180,
            _ if v86 => 177,
            _ => 199,
        },
    }
}
