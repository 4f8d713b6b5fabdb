//! The fast forms of common instructions ([`Fast`]) and how one is chosen
//! for a decoded instruction when it enters the decode cache ([`quick`]),
//! with the lazily kept flags the forms leave behind ([`Lazy`]). Data and
//! decode-time choices only: running a form is `fast.rs`, a layer above
//! (see that module for what the forms cover and why).

use super::instr::Instr;
use crate::model::CpuModel;
use crate::regs::{Seg, AF, CF, DF, OF, PF, SF, ZF};
use crate::table::{AluOp, Op, Opd, Per, ShiftOp, StrOp};

/// A memory operand: the base/index form of a ModR/M byte (`rm`, or
/// [`DIRECT`] for a displacement alone), the displacement, and the segment
/// (override or default) resolved at decode time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mem {
    pub(super) base: u8,
    pub(super) seg: Seg,
    pub(super) disp: u16,
}

/// [`Mem::base`] of an operand addressed by its displacement alone (mod=0
/// rm=6, or a direct offset `Ob`/`Ov`).
pub(super) const DIRECT: u8 = 8;

/// A register, immediate or memory operand as decoding resolved it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operand {
    Reg(u8),
    Imm(u16),
    Mem(Mem),
}

/// An instruction form with its operands resolved; see the module documentation.
/// `w` is the operand width (word when true); the commonest forms have a
/// byte variant of their own (`...8`) instead, so that the dispatch on the
/// form picks the width too. Registers are ModR/M numbers (byte registers
/// AL..BH as 0..7 in byte forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fast {
    /// Run through `execute`.
    Slow,
    // `d op= s` on word registers: one variant per operation, so that the dispatch on
    // the form picks the operation too.
    AddRR {
        d: u8,
        s: u8,
    },
    OrRR {
        d: u8,
        s: u8,
    },
    AdcRR {
        d: u8,
        s: u8,
    },
    SbbRR {
        d: u8,
        s: u8,
    },
    AndRR {
        d: u8,
        s: u8,
    },
    SubRR {
        d: u8,
        s: u8,
    },
    XorRR {
        d: u8,
        s: u8,
    },
    CmpRR {
        d: u8,
        s: u8,
    },
    // `d op= s` on byte registers: one variant per operation and half of
    // the destination (`...RRL` for AL to BL, `...RRH` for AH to BH: `d`
    // is the word register, 0 to 3, whose byte it is; `s` is a byte
    // register, 0 to 7), so that the dispatch on the form picks the
    // operation and the byte too.
    AddRRL {
        d: u8,
        s: u8,
    },
    AddRRH {
        d: u8,
        s: u8,
    },
    OrRRL {
        d: u8,
        s: u8,
    },
    OrRRH {
        d: u8,
        s: u8,
    },
    AdcRRL {
        d: u8,
        s: u8,
    },
    AdcRRH {
        d: u8,
        s: u8,
    },
    SbbRRL {
        d: u8,
        s: u8,
    },
    SbbRRH {
        d: u8,
        s: u8,
    },
    AndRRL {
        d: u8,
        s: u8,
    },
    AndRRH {
        d: u8,
        s: u8,
    },
    SubRRL {
        d: u8,
        s: u8,
    },
    SubRRH {
        d: u8,
        s: u8,
    },
    XorRRL {
        d: u8,
        s: u8,
    },
    XorRRH {
        d: u8,
        s: u8,
    },
    CmpRRL {
        d: u8,
        s: u8,
    },
    CmpRRH {
        d: u8,
        s: u8,
    },
    // `d op= imm` on a word register: one variant per operation, so that the dispatch on
    // the form picks the operation too.
    AddRI {
        d: u8,
        imm: u16,
    },
    OrRI {
        d: u8,
        imm: u16,
    },
    AdcRI {
        d: u8,
        imm: u16,
    },
    SbbRI {
        d: u8,
        imm: u16,
    },
    AndRI {
        d: u8,
        imm: u16,
    },
    SubRI {
        d: u8,
        imm: u16,
    },
    XorRI {
        d: u8,
        imm: u16,
    },
    CmpRI {
        d: u8,
        imm: u16,
    },
    // `d op= imm` on a byte register: one variant per operation and half
    // (`d` the word register, 0 to 3, as for `...RRL` and `...RRH`).
    AddRIL {
        d: u8,
        imm: u16,
    },
    AddRIH {
        d: u8,
        imm: u16,
    },
    OrRIL {
        d: u8,
        imm: u16,
    },
    OrRIH {
        d: u8,
        imm: u16,
    },
    AdcRIL {
        d: u8,
        imm: u16,
    },
    AdcRIH {
        d: u8,
        imm: u16,
    },
    SbbRIL {
        d: u8,
        imm: u16,
    },
    SbbRIH {
        d: u8,
        imm: u16,
    },
    AndRIL {
        d: u8,
        imm: u16,
    },
    AndRIH {
        d: u8,
        imm: u16,
    },
    SubRIL {
        d: u8,
        imm: u16,
    },
    SubRIH {
        d: u8,
        imm: u16,
    },
    XorRIL {
        d: u8,
        imm: u16,
    },
    XorRIH {
        d: u8,
        imm: u16,
    },
    CmpRIL {
        d: u8,
        imm: u16,
    },
    CmpRIH {
        d: u8,
        imm: u16,
    },
    AluRM {
        op: AluOp,
        w: bool,
        d: u8,
        m: Mem,
    },
    AluMR {
        op: AluOp,
        w: bool,
        m: Mem,
        s: u8,
    },
    AluMI {
        op: AluOp,
        w: bool,
        m: Mem,
        imm: u16,
    },
    TestRR {
        w: bool,
        d: u8,
        s: u8,
    },
    TestRI {
        w: bool,
        d: u8,
        imm: u16,
    },
    MovRR {
        d: u8,
        s: u8,
    },
    /// The byte form of [`Fast::MovRR`].
    MovRR8 {
        d: u8,
        s: u8,
    },
    MovRI {
        d: u8,
        imm: u16,
    },
    /// The byte form of [`Fast::MovRI`] for AL to BL: `d` is the word
    /// register (0 to 3), as for the other `...L` and `...H` forms, and
    /// `imm` the byte.
    MovRIL {
        d: u8,
        imm: u16,
    },
    /// The same for AH to BH.
    MovRIH {
        d: u8,
        imm: u16,
    },
    MovRM {
        w: bool,
        d: u8,
        m: Mem,
    },
    MovMR {
        w: bool,
        m: Mem,
        s: u8,
    },
    MovMI {
        w: bool,
        m: Mem,
        imm: u16,
    },
    IncR {
        r: u8,
    },
    /// The byte form of [`Fast::IncR`] for AL, CL, DL or BL (`r` 0 to 3);
    /// the byte register resolved at decode time, as for the other `...RL`
    /// and `...RH` forms.
    IncRL {
        r: u8,
    },
    /// The byte form of [`Fast::IncR`] for AH, CH, DH or BH: `r` is the
    /// word register (0 to 3) whose high byte it is.
    IncRH {
        r: u8,
    },
    DecR {
        r: u8,
    },
    /// The byte form of [`Fast::DecR`] for AL to BL (as [`Fast::IncRL`]).
    DecRL {
        r: u8,
    },
    /// The byte form of [`Fast::DecR`] for AH to BH (as [`Fast::IncRH`]).
    DecRH {
        r: u8,
    },
    /// SHL of a register by one (not on the 80186, whose AF differs).
    ShlR {
        r: u8,
    },
    /// The byte form of [`Fast::ShlR`].
    ShlR8 {
        r: u8,
    },
    /// SHR of a register by one; `af` is AF as the model leaves it.
    ShrR {
        r: u8,
        af: u16,
    },
    /// The byte form of [`Fast::ShrR`].
    ShrR8 {
        r: u8,
        af: u16,
    },
    /// SAR of a register by one; `af` as for [`Fast::ShrR`].
    SarR {
        r: u8,
        af: u16,
    },
    /// The byte form of [`Fast::SarR`].
    SarR8 {
        r: u8,
        af: u16,
    },
    /// Any other shift or rotate of a register by one.
    Shift1R {
        op: ShiftOp,
        w: bool,
        r: u8,
    },
    /// A conditional jump on SF versus OF (JL, JGE, JLE, JG).
    Jcc {
        cc: u8,
        disp: u16,
    },
    /// A conditional jump taken when any of the FLAGS bits in `mask` is set
    /// (`set`), or when none is (JO, JNO, JS, JNS, JP, JNP).
    JccAny {
        mask: u16,
        set: bool,
        disp: u16,
    },
    /// JB/JNB: taken when CF is `set`.
    Jcf {
        set: bool,
        disp: u16,
    },
    /// JZ/JNZ: taken when ZF is `set`.
    Jz {
        set: bool,
        disp: u16,
    },
    /// JBE/JA: taken when CF or ZF is set (`set`), or neither is.
    Jbe {
        set: bool,
        disp: u16,
    },
    Jmp {
        disp: u16,
    },
    Loop {
        op: Op,
        disp: u16,
    },
    Jcxz {
        disp: u16,
    },
    Call {
        disp: u16,
    },
    Ret,
    PushR {
        r: u8,
    },
    PopR {
        r: u8,
    },
    Xchg {
        w: bool,
        a: u8,
        b: u8,
    },
    Cbw,
    Cwd,
    Clc,
    Stc,
    Cld,
    Std,
    /// LODS, STOS or MOVS without a REP prefix; `src` is the source segment
    /// (DS or its override).
    Str {
        op: StrOp,
        w: bool,
        src: Seg,
    },
    /// REP STOS or REP MOVS (F2 and F3 alike).
    RepStr {
        op: StrOp,
        w: bool,
        src: Seg,
    },
    /// MUL or IMUL (`signed`) of AL/AX by a register.
    MulR {
        signed: bool,
        w: bool,
        r: u8,
    },
    /// MUL or IMUL of AL/AX by a memory operand.
    MulM {
        signed: bool,
        w: bool,
        m: Mem,
    },
    /// DIV or IDIV (`signed`) of AX/DX:AX by a register. A divide error
    /// leaves the form untaken (nothing changed) for `execute` to raise.
    DivR {
        signed: bool,
        w: bool,
        r: u8,
    },
    /// A shift or rotate by one of a memory operand.
    Shift1M {
        op: ShiftOp,
        w: bool,
        m: Mem,
    },
}

/// The register ALU forms, one list for every place that names them: each
/// operation with its word and byte (low and high) register-register and
/// register-immediate variants of [`Fast`]. `with_alu_forms!(m! { args })`
/// calls `m! { [list] args }`.
macro_rules! with_alu_forms {
    ($m:ident ! { $($args:tt)* }) => {
        $m! {
            [
                (Add, AddRR, AddRRL, AddRRH, AddRI, AddRIL, AddRIH),
                (Or, OrRR, OrRRL, OrRRH, OrRI, OrRIL, OrRIH),
                (Adc, AdcRR, AdcRRL, AdcRRH, AdcRI, AdcRIL, AdcRIH),
                (Sbb, SbbRR, SbbRRL, SbbRRH, SbbRI, SbbRIL, SbbRIH),
                (And, AndRR, AndRRL, AndRRH, AndRI, AndRIL, AndRIH),
                (Sub, SubRR, SubRRL, SubRRH, SubRI, SubRIL, SubRIH),
                (Xor, XorRR, XorRRL, XorRRH, XorRI, XorRIL, XorRIH),
                (Cmp, CmpRR, CmpRRL, CmpRRH, CmpRI, CmpRIL, CmpRIH),
            ]
            $($args)*
        }
    };
}
pub(super) use with_alu_forms;

/// The builders of the register ALU forms from the list.
macro_rules! alu_builders {
    (
        [$(($op:ident, $rr:ident, $rrl:ident, $rrh:ident, $ri:ident, $ril:ident, $rih:ident)),* $(,)?]
    ) => {
        /// The register-register ALU form of `op` (word when `w`; a byte
        /// destination `d` resolved to its word register and half).
        fn alu_rr(op: AluOp, w: bool, d: u8, s: u8) -> Fast {
            match (op, w, d & 4 != 0) {
                $(
                    (AluOp::$op, true, _) => Fast::$rr { d, s },
                    (AluOp::$op, false, false) => Fast::$rrl { d: d & 3, s },
                    (AluOp::$op, false, true) => Fast::$rrh { d: d & 3, s },
                )*
            }
        }

        /// The register-immediate ALU form of `op` (as [`alu_rr`]).
        fn alu_ri(op: AluOp, w: bool, d: u8, imm: u16) -> Fast {
            match (op, w, d & 4 != 0) {
                $(
                    (AluOp::$op, true, _) => Fast::$ri { d, imm },
                    (AluOp::$op, false, false) => Fast::$ril { d: d & 3, imm },
                    (AluOp::$op, false, true) => Fast::$rih { d: d & 3, imm },
                )*
            }
        }
    };
}
with_alu_forms!(alu_builders! {});

/// A pattern matching every register ALU form of [`Fast`].
macro_rules! alu_form_pattern {
    (
        [$(($op:ident, $rr:ident, $rrl:ident, $rrh:ident, $ri:ident, $ril:ident, $rih:ident)),* $(,)?]
    ) => {
        $(
            Fast::$rr { .. }
            | Fast::$rrl { .. }
            | Fast::$rrh { .. }
            | Fast::$ri { .. }
            | Fast::$ril { .. }
            | Fast::$rih { .. }
        )|*
    };
}
pub(super) use alu_form_pattern;

/// The register of a ModR/M-shaped register operand, or the fixed register
/// of an operand shape, as `execute`'s `loc` resolves it.
pub(super) fn operand(opd: Opd, d: &Instr, imm_pos: &mut usize) -> Option<Operand> {
    let c = &d.cur;
    let mut imm8 = || {
        let b = *c.imm.get(*imm_pos)?;
        *imm_pos += 1;
        Some(b)
    };
    Some(match opd {
        Opd::Eb | Opd::Ev => {
            let m = c.modrm?;
            if m.is_reg() {
                Operand::Reg(m.rm)
            } else {
                Operand::Mem(Mem {
                    base: if m.md == 0 && m.rm == 6 { DIRECT } else { m.rm },
                    seg: c.seg.unwrap_or(m.default_seg()),
                    disp: m.disp,
                })
            }
        }
        Opd::Gb | Opd::Gv => Operand::Reg(c.modrm?.reg),
        Opd::Ib => Operand::Imm(imm8()? as u16),
        Opd::Ibs => Operand::Imm(imm8()? as i8 as i16 as u16),
        Opd::Iv | Opd::Iw => {
            let lo = imm8()? as u16;
            Operand::Imm(lo | (imm8()? as u16) << 8)
        }
        Opd::Ob | Opd::Ov => {
            let lo = imm8()? as u16;
            Operand::Mem(Mem {
                base: DIRECT,
                seg: c.seg.unwrap_or(Seg::DS),
                disp: lo | (imm8()? as u16) << 8,
            })
        }
        Opd::AL | Opd::AX => Operand::Reg(0),
        Opd::CL => Operand::Reg(1),
        Opd::DX => Operand::Reg(2),
        Opd::One => Operand::Imm(1),
        Opd::Zv | Opd::Zb => Operand::Reg(c.opcode & 7),
        _ => return None,
    })
}

/// True for the operand shapes that name byte registers.
pub(super) fn byte_shape(opd: Opd) -> bool {
    matches!(opd, Opd::Eb | Opd::Gb | Opd::AL | Opd::CL | Opd::Zb)
}

/// The shapes whose register operands are words.
pub(super) fn word_shape(opd: Opd) -> bool {
    matches!(opd, Opd::Ev | Opd::Gv | Opd::AX | Opd::DX | Opd::Zv)
}

/// What the fast path needs of a cached instruction, kept together so that
/// it is read in one go: the form, the length, the highest IP at which it
/// does not wrap (see [`Instr::last_ip`]) and its timing-table charge,
/// worked out for the cases the form can meet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quick {
    pub(crate) f: Fast,
    pub(super) len: u8,
    /// One more than the highest IP at which the instruction does not wrap
    /// (see [`Instr::last_ip`]); 0 for [`Fast::Slow`], so that one comparison
    /// turns both away.
    pub(super) ip_limit: u32,
    /// Clocks when no branch is taken (a shift by one: with its one bit).
    pub(super) clocks: u16,
    /// Clocks when a branch is taken.
    pub(super) taken_clocks: u16,
    /// Clocks per repetition of a REP string form.
    pub(super) per_rep: u16,
}

impl Quick {
    /// An instruction without a fast form.
    pub(crate) const SLOW: Quick = Quick {
        f: Fast::Slow,
        len: 0,
        ip_limit: 0,
        clocks: 0,
        taken_clocks: 0,
        per_rep: 0,
    };
}

/// SF, ZF, PF, AF and OF of the last flag-setting fast form, kept as what
/// they are worked out from instead of in FLAGS: most are overwritten
/// before anything reads them; and CF beside them, so that setting it is
/// a store rather than a change to FLAGS. While `kind` is not 0 these bits
/// of FLAGS (CF too) are stale; [`Cpu::settle_flags`](super::Cpu::settle_flags) brings them up to
/// date, and runs before anything but a fast form can read FLAGS.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Lazy {
    /// 0 (FLAGS up to date), or [`LZ_ADD`], [`LZ_SUB`], [`LZ_INC`],
    /// [`LZ_DEC`] or [`LZ_RAW`], with [`LZ_WORD`] for a word operation.
    pub(super) kind: u8,
    /// The result, masked to the width: SF, ZF and PF.
    pub(super) res: u16,
    /// The operands for AF and OF (`b` only for [`LZ_ADD`] and [`LZ_SUB`];
    /// for [`LZ_RAW`], AF and OF themselves in `a`).
    pub(super) a: u16,
    pub(super) b: u16,
    /// CF, while `kind` is not 0 (else it is in FLAGS).
    pub(super) cf: bool,
}

/// The FLAGS bits [`Lazy`] can hold.
pub(super) const LAZY: u16 = CF | SF | ZF | PF | AF | OF;
/// AF and OF of `a + b` (and ADC, INC).
pub(super) const LZ_ADD: u8 = 1;
/// AF and OF of `a - b` (and SBB, CMP, DEC).
pub(super) const LZ_SUB: u8 = 2;
/// AF and OF given in [`Lazy::a`].
pub(super) const LZ_RAW: u8 = 3;
/// AF and OF of `a + 1` (INC: `b` is not stored).
pub(super) const LZ_INC: u8 = 5;
/// AF and OF of `a - 1` (DEC).
pub(super) const LZ_DEC: u8 = 6;
/// Added to the kind of a word operation.
pub(super) const LZ_WORD: u8 = 8;

/// The fast form of `d` on `model` and its charge, or [`Quick::SLOW`].
pub(crate) fn quick(model: CpuModel, d: &Instr) -> Quick {
    let Some(f) = build(model, d) else {
        return Quick::SLOW;
    };
    // What `FastTiming::clocks` gives for each case.
    let (base, extra) = (d.base_clocks, d.extra_clocks);
    let (clocks, taken_clocks, per_rep) = match d.per {
        Per::Once => (base, base, 0),
        Per::Taken => (base, base.saturating_add(extra), 0),
        // Only shifts by one have a fast form: the count is 1.
        Per::Bit => (base.saturating_add(extra), base.saturating_add(extra), 0),
        // Only REP-prefixed string forms pay per repetition.
        Per::Repeat if matches!(f, Fast::RepStr { .. }) => (base, base, extra),
        Per::Repeat => (base, base, 0),
        // MUL and DIV: the base, and the clocks the operand's one bits
        // add in proportion (`FastTiming::clocks`), in `per_rep`.
        Per::Data if matches!(f, Fast::MulR { .. } | Fast::MulM { .. } | Fast::DivR { .. }) => {
            (base, base, extra)
        }
        Per::Data => return Quick::SLOW,
    };
    Quick {
        f,
        len: d.len,
        ip_limit: d.last_ip as u32 + 1,
        clocks,
        taken_clocks,
        per_rep,
    }
}

fn build(model: CpuModel, d: &Instr) -> Option<Fast> {
    let sem = &d.sem;
    let w = sem.word;
    // The 286 abandons instructions whose memory operands overrun their
    // segment; its memory forms stay in `execute`, which models that.
    let memory_ok = model != CpuModel::I80286;
    let is_string = matches!(sem.op, Op::Str(_));
    if d.cur.rep.is_some() && !is_string {
        // REP before other instructions changes some of them (IMUL/IDIV on
        // the 8086) and their timing: leave them alone.
        return None;
    }
    let mut pos = 0;
    // A register operand must have the row's width.
    let width_ok = |opd: Opd| {
        if w {
            !byte_shape(opd)
        } else {
            !word_shape(opd)
        }
    };
    let mut two = || -> Option<(Operand, Operand)> {
        if !width_ok(sem.opd[0]) || !width_ok(sem.opd[1]) {
            return None;
        }
        let a = operand(sem.opd[0], d, &mut pos)?;
        let b = operand(sem.opd[1], d, &mut pos)?;
        if !memory_ok && (matches!(a, Operand::Mem(_)) || matches!(b, Operand::Mem(_))) {
            return None;
        }
        Some((a, b))
    };
    use Operand::{Imm, Mem as M, Reg};
    Some(match sem.op {
        Op::Alu(op) => match two()? {
            (Reg(d), Reg(s)) => alu_rr(op, w, d, s),
            (Reg(d), Imm(imm)) => alu_ri(op, w, d, imm),
            (Reg(d), M(m)) => Fast::AluRM { op, w, d, m },
            (M(m), Reg(s)) => Fast::AluMR { op, w, m, s },
            (M(m), Imm(imm)) => Fast::AluMI { op, w, m, imm },
            _ => return None,
        },
        Op::Test => match two()? {
            (Reg(d), Reg(s)) => Fast::TestRR { w, d, s },
            (Reg(d), Imm(imm)) => Fast::TestRI { w, d, imm },
            _ => return None,
        },
        Op::Mov => match two()? {
            (Reg(d), Reg(s)) if w => Fast::MovRR { d, s },
            (Reg(d), Reg(s)) => Fast::MovRR8 { d, s },
            (Reg(d), Imm(imm)) if w => Fast::MovRI { d, imm },
            (Reg(d), Imm(imm)) if d < 4 => Fast::MovRIL { d, imm: imm & 0xFF },
            (Reg(d), Imm(imm)) => Fast::MovRIH {
                d: d & 3,
                imm: imm & 0xFF,
            },
            (Reg(d), M(m)) => Fast::MovRM { w, d, m },
            (M(m), Reg(s)) => Fast::MovMR { w, m, s },
            (M(m), Imm(imm)) => Fast::MovMI { w, m, imm },
            _ => return None,
        },
        Op::Xchg => match two()? {
            (Reg(a), Reg(b)) => Fast::Xchg { w, a, b },
            _ => return None,
        },
        Op::Inc | Op::Dec => {
            if !width_ok(sem.opd[0]) {
                return None;
            }
            match operand(sem.opd[0], d, &mut pos)? {
                Reg(r) if sem.op == Op::Inc && w => Fast::IncR { r },
                Reg(r) if sem.op == Op::Inc && r < 4 => Fast::IncRL { r },
                Reg(r) if sem.op == Op::Inc => Fast::IncRH { r: r & 3 },
                Reg(r) if w => Fast::DecR { r },
                Reg(r) if r < 4 => Fast::DecRL { r },
                Reg(r) => Fast::DecRH { r: r & 3 },
                _ => return None,
            }
        }
        Op::Shift(op) if sem.opd[1] == Opd::One => {
            if !width_ok(sem.opd[0]) {
                return None;
            }
            // From the 80186 on, /6 of the shift group is another SHL.
            let op = if op == ShiftOp::Setmo && model.is_186_plus() {
                ShiftOp::Shl
            } else {
                op
            };
            // The 286 sets AF on right shifts; the others clear it.
            let af = if model == CpuModel::I80286 { AF } else { 0 };
            match operand(sem.opd[0], d, &mut pos)? {
                Reg(r) => match op {
                    ShiftOp::Shl if model != CpuModel::I80186 && w => Fast::ShlR { r },
                    ShiftOp::Shl if model != CpuModel::I80186 => Fast::ShlR8 { r },
                    ShiftOp::Shr if w => Fast::ShrR { r, af },
                    ShiftOp::Shr => Fast::ShrR8 { r, af },
                    ShiftOp::Sar if w => Fast::SarR { r, af },
                    ShiftOp::Sar => Fast::SarR8 { r, af },
                    _ => Fast::Shift1R { op, w, r },
                },
                Operand::Mem(m) if memory_ok => Fast::Shift1M { op, w, m },
                _ => return None,
            }
        }
        Op::Mul | Op::Imul | Op::Div | Op::Idiv => {
            if !width_ok(sem.opd[0]) {
                return None;
            }
            let signed = matches!(sem.op, Op::Imul | Op::Idiv);
            let div = matches!(sem.op, Op::Div | Op::Idiv);
            match operand(sem.opd[0], d, &mut pos)? {
                Reg(r) if div => Fast::DivR { signed, w, r },
                Reg(r) => Fast::MulR { signed, w, r },
                // A memory divide could fault after its read: `execute`.
                M(m) if memory_ok && !div => Fast::MulM { signed, w, m },
                _ => return None,
            }
        }
        Op::Jcc(cc) => {
            let disp = d.cur.imm[0] as i8 as i16 as u16;
            // As `cond` reads the flags; an odd condition code negates.
            let mask = match cc >> 1 {
                0 => OF,
                1 => CF,
                2 => ZF,
                3 => CF | ZF,
                4 => SF,
                5 => PF,
                _ => 0,
            };
            let set = cc & 1 == 0;
            if mask == 0 {
                Fast::Jcc { cc, disp }
            } else if mask == CF {
                Fast::Jcf { set, disp }
            } else if mask == ZF {
                Fast::Jz { set, disp }
            } else if mask == CF | ZF {
                Fast::Jbe { set, disp }
            } else {
                Fast::JccAny { mask, set, disp }
            }
        }
        Op::Jmp if sem.opd[0] == Opd::Jb => Fast::Jmp {
            disp: d.cur.imm[0] as i8 as i16 as u16,
        },
        Op::Jmp => Fast::Jmp {
            disp: u16::from_le_bytes([d.cur.imm[0], d.cur.imm[1]]),
        },
        Op::Loop | Op::Loopz | Op::Loopnz => Fast::Loop {
            op: sem.op,
            disp: d.cur.imm[0] as i8 as i16 as u16,
        },
        Op::Jcxz => Fast::Jcxz {
            disp: d.cur.imm[0] as i8 as i16 as u16,
        },
        Op::Call if memory_ok => Fast::Call {
            disp: u16::from_le_bytes([d.cur.imm[0], d.cur.imm[1]]),
        },
        Op::Ret if memory_ok && sem.opd[0] != Opd::Iw => Fast::Ret,
        Op::Push if memory_ok => match operand(sem.opd[0], d, &mut pos)? {
            Reg(r) if word_shape(sem.opd[0]) => Fast::PushR { r },
            _ => return None,
        },
        Op::Pop if memory_ok => match operand(sem.opd[0], d, &mut pos)? {
            Reg(r) if word_shape(sem.opd[0]) => Fast::PopR { r },
            _ => return None,
        },
        Op::Cbw => Fast::Cbw,
        Op::Cwd => Fast::Cwd,
        Op::SetFlag(CF, false) => Fast::Clc,
        Op::SetFlag(CF, true) => Fast::Stc,
        Op::SetFlag(DF, false) => Fast::Cld,
        Op::SetFlag(DF, true) => Fast::Std,
        Op::Str(op @ (StrOp::Lods | StrOp::Stos | StrOp::Movs)) if memory_ok => {
            let src = d.cur.seg.unwrap_or(Seg::DS);
            match d.cur.rep {
                None => Fast::Str { op, w, src },
                Some(_) if op != StrOp::Lods => Fast::RepStr { op, w, src },
                Some(_) => return None,
            }
        }
        _ => return None,
    })
}
