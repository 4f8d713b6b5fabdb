//! The instruction table: one row per opcode (and per ModR/M `reg` value for
//! group opcodes). Decoding, disassembly and execution all read it.
//!
//! Operands are written with the Intel manual's letters (`Eb`, `Gv`, `Ib`, ...),
//! so a row reads like the manual's opcode map.

use crate::model::CpuModel;
use crate::regs::Seg;

/// Operand shape, in the Intel manual's notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opd {
    /// No operand.
    None,
    /// ModR/M r/m, byte.
    Eb,
    /// ModR/M r/m, word.
    Ev,
    /// ModR/M reg, byte register.
    Gb,
    /// ModR/M reg, word register.
    Gv,
    /// ModR/M reg, segment register.
    Sw,
    /// Immediate byte.
    Ib,
    /// Immediate word.
    Iv,
    /// Immediate byte, sign-extended to a word.
    Ibs,
    /// Immediate word that is not an operand size (RET n, ENTER size).
    Iw,
    /// Relative byte displacement.
    Jb,
    /// Relative word displacement.
    Jv,
    /// Direct far pointer (offset, segment).
    Ap,
    /// ModR/M memory operand whose address is the operand (LEA).
    M,
    /// ModR/M memory operand holding a far pointer (LES, LDS, CALL/JMP FAR).
    Mp,
    /// Memory word operand for BOUND (two words).
    Ma,
    /// Direct memory offset, byte.
    Ob,
    /// Direct memory offset, word.
    Ov,
    /// AL.
    AL,
    /// AX.
    AX,
    /// CL.
    CL,
    /// DX (as a port number).
    DX,
    /// The constant 1 (shift count).
    One,
    /// The constant 3 (INT 3).
    Three,
    /// A word register encoded in the opcode's low three bits.
    Zv,
    /// A byte register encoded in the opcode's low three bits.
    Zb,
    /// A fixed segment register.
    S(Seg),
}

impl Opd {
    /// True if the operand is read from the ModR/M byte.
    pub const fn uses_modrm(self) -> bool {
        matches!(
            self,
            Opd::Eb | Opd::Ev | Opd::Gb | Opd::Gv | Opd::Sw | Opd::M | Opd::Mp | Opd::Ma
        )
    }

    /// Bytes of instruction stream this operand takes after the ModR/M byte
    /// and displacement.
    pub const fn imm_len(self) -> usize {
        match self {
            Opd::Ib | Opd::Ibs | Opd::Jb => 1,
            Opd::Iv | Opd::Iw | Opd::Jv | Opd::Ob | Opd::Ov => 2,
            Opd::Ap => 4,
            _ => 0,
        }
    }
}

/// ALU operations of the 00–3F block and group 1, in encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    /// ADD.
    Add,
    /// OR.
    Or,
    /// ADC.
    Adc,
    /// SBB.
    Sbb,
    /// AND.
    And,
    /// SUB.
    Sub,
    /// XOR.
    Xor,
    /// CMP.
    Cmp,
}

impl AluOp {
    /// From the 3-bit encoding.
    pub const fn from_index(i: u8) -> AluOp {
        match i & 7 {
            0 => AluOp::Add,
            1 => AluOp::Or,
            2 => AluOp::Adc,
            3 => AluOp::Sbb,
            4 => AluOp::And,
            5 => AluOp::Sub,
            6 => AluOp::Xor,
            _ => AluOp::Cmp,
        }
    }
}

/// Shift and rotate operations of group 2, in encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    /// Rotate left.
    Rol,
    /// Rotate right.
    Ror,
    /// Rotate left through carry.
    Rcl,
    /// Rotate right through carry.
    Rcr,
    /// Shift left.
    Shl,
    /// Shift right.
    Shr,
    /// Undocumented on the 8086: "set minus one" (SETMO/SETMOC).
    Setmo,
    /// Arithmetic shift right.
    Sar,
}

/// String instruction kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrOp {
    /// MOVS.
    Movs,
    /// CMPS.
    Cmps,
    /// STOS.
    Stos,
    /// LODS.
    Lods,
    /// SCAS.
    Scas,
    /// INS (186+).
    Ins,
    /// OUTS (186+).
    Outs,
}

/// Prefix kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    /// Segment override.
    Seg(Seg),
    /// LOCK (and its 8086 alias F1).
    Lock,
    /// REPNE / REPNZ (F2).
    Repne,
    /// REP / REPE / REPZ (F3).
    Rep,
}

/// What an instruction does: selects the semantic function. Operand shapes
/// and width come from the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A prefix byte.
    Prefix(Prefix),
    /// Resolve through a group table by ModR/M reg.
    Group(Group),
    /// Two-operand ALU operation: first operand op= second.
    Alu(AluOp),
    /// Shift/rotate of the first operand by the second.
    Shift(ShiftOp),
    /// PUSH.
    Push,
    /// POP.
    Pop,
    /// INC.
    Inc,
    /// DEC.
    Dec,
    /// Conditional jump with the condition code.
    Jcc(u8),
    /// TEST.
    Test,
    /// XCHG.
    Xchg,
    /// MOV.
    Mov,
    /// LEA.
    Lea,
    /// NOP (XCHG AX,AX).
    Nop,
    /// CBW.
    Cbw,
    /// CWD.
    Cwd,
    /// CALL far direct.
    CallFar,
    /// WAIT.
    Wait,
    /// PUSHF.
    Pushf,
    /// POPF.
    Popf,
    /// SAHF.
    Sahf,
    /// LAHF.
    Lahf,
    /// String instruction.
    Str(StrOp),
    /// RET near (optional Iw).
    Ret,
    /// RET far (optional Iw).
    Retf,
    /// LES / LDS: load far pointer into the segment and Gv.
    Lptr(Seg),
    /// INT n / INT 3.
    Int,
    /// INTO.
    Into,
    /// IRET.
    Iret,
    /// AAM.
    Aam,
    /// AAD.
    Aad,
    /// DAA.
    Daa,
    /// DAS.
    Das,
    /// AAA.
    Aaa,
    /// AAS.
    Aas,
    /// SALC (undocumented: AL = CF ? FF : 00).
    Salc,
    /// XLAT.
    Xlat,
    /// ESC: coprocessor instruction.
    Esc,
    /// LOOPNZ.
    Loopnz,
    /// LOOPZ.
    Loopz,
    /// LOOP.
    Loop,
    /// JCXZ.
    Jcxz,
    /// IN.
    In,
    /// OUT.
    Out,
    /// CALL near.
    Call,
    /// JMP near or short.
    Jmp,
    /// JMP far direct.
    JmpFar,
    /// CALL near indirect.
    CallInd,
    /// CALL far indirect.
    CallFarInd,
    /// JMP near indirect.
    JmpInd,
    /// JMP far indirect.
    JmpFarInd,
    /// HLT.
    Hlt,
    /// CMC.
    Cmc,
    /// Clear or set a flag: (mask, value).
    SetFlag(u16, bool),
    /// NOT.
    Not,
    /// NEG.
    Neg,
    /// MUL.
    Mul,
    /// IMUL (one operand).
    Imul,
    /// DIV.
    Div,
    /// IDIV.
    Idiv,
    /// IMUL r, r/m, imm (186+).
    Imul3,
    /// PUSHA (186+).
    Pusha,
    /// POPA (186+).
    Popa,
    /// BOUND (186+).
    Bound,
    /// ENTER (186+).
    Enter,
    /// LEAVE (186+).
    Leave,
    /// Two-byte opcode escape 0F (286).
    Escape0F,
    /// Undefined opcode: #UD on the 186/286.
    Invalid,
}

/// Group tables selected by ModR/M reg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// 80–83: ALU with immediate.
    G1,
    /// D0–D3, C0/C1 (186+): shifts.
    G2,
    /// F6/F7: TEST/NOT/NEG/MUL/IMUL/DIV/IDIV.
    G3,
    /// FE: INC/DEC byte.
    G4,
    /// FF: INC/DEC/CALL/JMP/PUSH.
    G5,
    /// 8F: POP r/m (reg ignored on the 8086).
    Pop,
    /// C6/C7: MOV r/m, imm (reg ignored on the 8086).
    MovImm,
}

/// How the test suites classify an encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Documented.
    Normal,
    /// Undocumented but with defined behaviour (SALC, SETMO).
    Undocumented,
    /// Duplicate of another encoding.
    Alias,
    /// No defined behaviour.
    Undefined,
}

/// One row of the instruction table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Mnemonic, lower case.
    pub mnem: &'static str,
    /// Semantic function.
    pub op: Op,
    /// Operands, destination first.
    pub opd: [Opd; 3],
    /// Operand width: true for word.
    pub word: bool,
    /// Classification.
    pub status: Status,
    /// Clock counts on the 8086 (see [`clocks_8086`]).
    pub clk: Clocks,
    /// [`Row::has_modrm`], worked out when the table is built.
    pub modrm: bool,
    /// Bytes of immediates, direct addresses and branch displacements the
    /// operands take (the sum of [`Opd::imm_len`]), worked out when the table is built.
    pub imm_bytes: u8,
}

/// The part of a [`Row`] that execution reads: what the decoded-instruction
/// cache keeps per instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sem {
    /// Semantic function.
    pub op: Op,
    /// Operands, destination first.
    pub opd: [Opd; 3],
    /// Operand width: true for word.
    pub word: bool,
}

impl Row {
    /// The execution-relevant part of the row.
    #[inline]
    pub const fn sem(&self) -> Sem {
        Sem {
            op: self.op,
            opd: self.opd,
            word: self.word,
        }
    }

    /// True if the instruction has a ModR/M byte.
    #[inline]
    pub const fn has_modrm(&self) -> bool {
        self.modrm
    }
}

const fn has_modrm(op: Op, opd: [Opd; 3]) -> bool {
    opd[0].uses_modrm() || opd[1].uses_modrm() || matches!(op, Op::Group(_) | Op::Esc)
}

const fn imm_bytes(opd: [Opd; 3]) -> u8 {
    (opd[0].imm_len() + opd[1].imm_len() + opd[2].imm_len()) as u8
}

/// A row with its derived fields (timing, ModR/M presence, immediate size).
const fn row(mnem: &'static str, op: Op, opd: [Opd; 3], word: bool) -> Row {
    Row {
        mnem,
        op,
        opd,
        word,
        status: Status::Normal,
        clk: clocks_8086(op, opd, word),
        modrm: has_modrm(op, opd),
        imm_bytes: imm_bytes(opd),
    }
}

const N: Opd = Opd::None;

const fn r(mnem: &'static str, op: Op, a: Opd, b: Opd) -> Row {
    let word = matches!(
        a,
        Opd::Ev | Opd::Gv | Opd::AX | Opd::Zv | Opd::Iv | Opd::Ov | Opd::Sw | Opd::S(_)
    ) || matches!(b, Opd::Ev | Opd::Gv | Opd::AX | Opd::Ov | Opd::Sw);
    row(mnem, op, [a, b, N], word)
}

/// A row whose width is given explicitly (string ops and operand-less forms).
const fn rw(mnem: &'static str, op: Op, a: Opd, b: Opd, word: bool) -> Row {
    row(mnem, op, [a, b, N], word)
}

/// A three-operand row (IMUL r, r/m, imm of the 80186).
const fn r3(mnem: &'static str, op: Op, opd: [Opd; 3]) -> Row {
    row(mnem, op, opd, true)
}

const fn st(row: Row, status: Status) -> Row {
    Row { status, ..row }
}

const fn alias(row: Row) -> Row {
    st(row, Status::Alias)
}

use AluOp::*;
use Opd::*;

const fn alu_block(op: AluOp, m: &'static str) -> [Row; 6] {
    [
        r(m, Op::Alu(op), Eb, Gb),
        r(m, Op::Alu(op), Ev, Gv),
        r(m, Op::Alu(op), Gb, Eb),
        r(m, Op::Alu(op), Gv, Ev),
        r(m, Op::Alu(op), AL, Ib),
        r(m, Op::Alu(op), AX, Iv),
    ]
}

const JCC: [&str; 16] = [
    "jo", "jno", "jb", "jnb", "jz", "jnz", "jbe", "jnbe", "js", "jns", "jp", "jnp", "jl", "jnl",
    "jle", "jnle",
];

const fn build_base() -> [Row; 256] {
    let mut t = [r("db", Op::Invalid, N, N); 256];
    let mut i = 0;
    let blocks = [
        (Add, "add"),
        (Or, "or"),
        (Adc, "adc"),
        (Sbb, "sbb"),
        (And, "and"),
        (Sub, "sub"),
        (Xor, "xor"),
        (Cmp, "cmp"),
    ];
    while i < 8 {
        let (op, m) = blocks[i];
        let rows = alu_block(op, m);
        let mut j = 0;
        while j < 6 {
            t[i * 8 + j] = rows[j];
            j += 1;
        }
        i += 1;
    }
    t[0x06] = r("push", Op::Push, S(Seg::ES), N);
    t[0x07] = r("pop", Op::Pop, S(Seg::ES), N);
    t[0x0E] = r("push", Op::Push, S(Seg::CS), N);
    t[0x0F] = st(r("pop", Op::Pop, S(Seg::CS), N), Status::Undocumented);
    t[0x16] = r("push", Op::Push, S(Seg::SS), N);
    t[0x17] = r("pop", Op::Pop, S(Seg::SS), N);
    t[0x1E] = r("push", Op::Push, S(Seg::DS), N);
    t[0x1F] = r("pop", Op::Pop, S(Seg::DS), N);
    t[0x26] = r("es", Op::Prefix(Prefix::Seg(Seg::ES)), N, N);
    t[0x2E] = r("cs", Op::Prefix(Prefix::Seg(Seg::CS)), N, N);
    t[0x36] = r("ss", Op::Prefix(Prefix::Seg(Seg::SS)), N, N);
    t[0x3E] = r("ds", Op::Prefix(Prefix::Seg(Seg::DS)), N, N);
    t[0x27] = rw("daa", Op::Daa, N, N, false);
    t[0x2F] = rw("das", Op::Das, N, N, false);
    t[0x37] = rw("aaa", Op::Aaa, N, N, false);
    t[0x3F] = rw("aas", Op::Aas, N, N, false);
    i = 0;
    while i < 8 {
        t[0x40 + i] = r("inc", Op::Inc, Zv, N);
        t[0x48 + i] = r("dec", Op::Dec, Zv, N);
        t[0x50 + i] = r("push", Op::Push, Zv, N);
        t[0x58 + i] = r("pop", Op::Pop, Zv, N);
        t[0x90 + i] = r("xchg", Op::Xchg, Zv, AX);
        t[0xB0 + i] = r("mov", Op::Mov, Zb, Ib);
        t[0xB8 + i] = r("mov", Op::Mov, Zv, Iv);
        t[0xD8 + i] = rw("esc", Op::Esc, N, N, true);
        i += 1;
    }
    t[0x90] = rw("nop", Op::Nop, N, N, true);
    i = 0;
    while i < 16 {
        t[0x70 + i] = r(JCC[i], Op::Jcc(i as u8), Jb, N);
        // The 8086 decodes 60–6F as 70–7F.
        t[0x60 + i] = alias(r(JCC[i], Op::Jcc(i as u8), Jb, N));
        i += 1;
    }
    t[0x80] = r("grp1", Op::Group(Group::G1), Eb, Ib);
    t[0x81] = r("grp1", Op::Group(Group::G1), Ev, Iv);
    t[0x82] = alias(r("grp1", Op::Group(Group::G1), Eb, Ib));
    t[0x83] = r("grp1", Op::Group(Group::G1), Ev, Ibs);
    t[0x84] = r("test", Op::Test, Eb, Gb);
    t[0x85] = r("test", Op::Test, Ev, Gv);
    t[0x86] = r("xchg", Op::Xchg, Gb, Eb);
    t[0x87] = r("xchg", Op::Xchg, Gv, Ev);
    t[0x88] = r("mov", Op::Mov, Eb, Gb);
    t[0x89] = r("mov", Op::Mov, Ev, Gv);
    t[0x8A] = r("mov", Op::Mov, Gb, Eb);
    t[0x8B] = r("mov", Op::Mov, Gv, Ev);
    t[0x8C] = r("mov", Op::Mov, Ev, Sw);
    t[0x8D] = r("lea", Op::Lea, Gv, M);
    t[0x8E] = r("mov", Op::Mov, Sw, Ev);
    t[0x8F] = r("pop", Op::Group(Group::Pop), Ev, N);
    t[0x98] = rw("cbw", Op::Cbw, N, N, false);
    t[0x99] = rw("cwd", Op::Cwd, N, N, true);
    t[0x9A] = r("call", Op::CallFar, Ap, N);
    t[0x9B] = rw("wait", Op::Wait, N, N, false);
    t[0x9C] = rw("pushf", Op::Pushf, N, N, true);
    t[0x9D] = rw("popf", Op::Popf, N, N, true);
    t[0x9E] = rw("sahf", Op::Sahf, N, N, false);
    t[0x9F] = rw("lahf", Op::Lahf, N, N, false);
    t[0xA0] = r("mov", Op::Mov, AL, Ob);
    t[0xA1] = r("mov", Op::Mov, AX, Ov);
    t[0xA2] = r("mov", Op::Mov, Ob, AL);
    t[0xA3] = r("mov", Op::Mov, Ov, AX);
    t[0xA4] = rw("movsb", Op::Str(StrOp::Movs), N, N, false);
    t[0xA5] = rw("movsw", Op::Str(StrOp::Movs), N, N, true);
    t[0xA6] = rw("cmpsb", Op::Str(StrOp::Cmps), N, N, false);
    t[0xA7] = rw("cmpsw", Op::Str(StrOp::Cmps), N, N, true);
    t[0xA8] = r("test", Op::Test, AL, Ib);
    t[0xA9] = r("test", Op::Test, AX, Iv);
    t[0xAA] = rw("stosb", Op::Str(StrOp::Stos), N, N, false);
    t[0xAB] = rw("stosw", Op::Str(StrOp::Stos), N, N, true);
    t[0xAC] = rw("lodsb", Op::Str(StrOp::Lods), N, N, false);
    t[0xAD] = rw("lodsw", Op::Str(StrOp::Lods), N, N, true);
    t[0xAE] = rw("scasb", Op::Str(StrOp::Scas), N, N, false);
    t[0xAF] = rw("scasw", Op::Str(StrOp::Scas), N, N, true);
    // The 8086 decodes C0/C1 as C2/C3 and C8/C9 as CA/CB.
    t[0xC0] = alias(rw("ret", Op::Ret, Iw, N, true));
    t[0xC1] = alias(rw("ret", Op::Ret, N, N, true));
    t[0xC2] = rw("ret", Op::Ret, Iw, N, true);
    t[0xC3] = rw("ret", Op::Ret, N, N, true);
    t[0xC4] = r("les", Op::Lptr(Seg::ES), Gv, Mp);
    t[0xC5] = r("lds", Op::Lptr(Seg::DS), Gv, Mp);
    t[0xC6] = r("mov", Op::Group(Group::MovImm), Eb, Ib);
    t[0xC7] = r("mov", Op::Group(Group::MovImm), Ev, Iv);
    t[0xC8] = alias(rw("retf", Op::Retf, Iw, N, true));
    t[0xC9] = alias(rw("retf", Op::Retf, N, N, true));
    t[0xCA] = rw("retf", Op::Retf, Iw, N, true);
    t[0xCB] = rw("retf", Op::Retf, N, N, true);
    t[0xCC] = rw("int3", Op::Int, Three, N, true);
    t[0xCD] = rw("int", Op::Int, Ib, N, true);
    t[0xCE] = rw("into", Op::Into, N, N, true);
    t[0xCF] = rw("iret", Op::Iret, N, N, true);
    t[0xD0] = r("grp2", Op::Group(Group::G2), Eb, One);
    t[0xD1] = r("grp2", Op::Group(Group::G2), Ev, One);
    t[0xD2] = r("grp2", Op::Group(Group::G2), Eb, CL);
    t[0xD3] = r("grp2", Op::Group(Group::G2), Ev, CL);
    t[0xD4] = rw("aam", Op::Aam, Ib, N, false);
    t[0xD5] = rw("aad", Op::Aad, Ib, N, false);
    t[0xD6] = st(rw("salc", Op::Salc, N, N, false), Status::Undocumented);
    t[0xD7] = rw("xlat", Op::Xlat, N, N, false);
    t[0xE0] = r("loopne", Op::Loopnz, Jb, N);
    t[0xE1] = r("loope", Op::Loopz, Jb, N);
    t[0xE2] = r("loop", Op::Loop, Jb, N);
    t[0xE3] = r("jcxz", Op::Jcxz, Jb, N);
    t[0xE4] = r("in", Op::In, AL, Ib);
    t[0xE5] = r("in", Op::In, AX, Ib);
    t[0xE6] = r("out", Op::Out, Ib, AL);
    t[0xE7] = r("out", Op::Out, Ib, AX);
    t[0xE8] = r("call", Op::Call, Jv, N);
    t[0xE9] = r("jmp", Op::Jmp, Jv, N);
    t[0xEA] = r("jmp", Op::JmpFar, Ap, N);
    t[0xEB] = r("jmp", Op::Jmp, Jb, N);
    t[0xEC] = r("in", Op::In, AL, DX);
    t[0xED] = r("in", Op::In, AX, DX);
    t[0xEE] = r("out", Op::Out, DX, AL);
    t[0xEF] = r("out", Op::Out, DX, AX);
    t[0xF0] = r("lock", Op::Prefix(Prefix::Lock), N, N);
    t[0xF1] = alias(r("lock", Op::Prefix(Prefix::Lock), N, N));
    t[0xF2] = r("repne", Op::Prefix(Prefix::Repne), N, N);
    t[0xF3] = r("rep", Op::Prefix(Prefix::Rep), N, N);
    t[0xF4] = r("hlt", Op::Hlt, N, N);
    t[0xF5] = r("cmc", Op::Cmc, N, N);
    t[0xF6] = r("grp3", Op::Group(Group::G3), Eb, N);
    t[0xF7] = r("grp3", Op::Group(Group::G3), Ev, N);
    t[0xF8] = r("clc", Op::SetFlag(crate::regs::CF, false), N, N);
    t[0xF9] = r("stc", Op::SetFlag(crate::regs::CF, true), N, N);
    t[0xFA] = r("cli", Op::SetFlag(crate::regs::IF, false), N, N);
    t[0xFB] = r("sti", Op::SetFlag(crate::regs::IF, true), N, N);
    t[0xFC] = r("cld", Op::SetFlag(crate::regs::DF, false), N, N);
    t[0xFD] = r("std", Op::SetFlag(crate::regs::DF, true), N, N);
    t[0xFE] = r("grp4", Op::Group(Group::G4), Eb, N);
    t[0xFF] = r("grp5", Op::Group(Group::G5), Ev, N);
    t
}

/// The 8086/8088 opcode map.
pub static BASE: [Row; 256] = build_base();

const fn grp1(w: bool) -> [Row; 8] {
    let (a, b) = if w { (Ev, Iv) } else { (Eb, Ib) };
    [
        r("add", Op::Alu(Add), a, b),
        r("or", Op::Alu(Or), a, b),
        r("adc", Op::Alu(Adc), a, b),
        r("sbb", Op::Alu(Sbb), a, b),
        r("and", Op::Alu(And), a, b),
        r("sub", Op::Alu(Sub), a, b),
        r("xor", Op::Alu(Xor), a, b),
        r("cmp", Op::Alu(Cmp), a, b),
    ]
}

/// Group 1 (80/82 byte, 81/83 word: the immediate shape comes from the opcode row).
pub static GRP1: [[Row; 8]; 2] = [grp1(false), grp1(true)];

const fn grp2(a: Opd) -> [Row; 8] {
    use ShiftOp::*;
    [
        r("rol", Op::Shift(Rol), a, N),
        r("ror", Op::Shift(Ror), a, N),
        r("rcl", Op::Shift(Rcl), a, N),
        r("rcr", Op::Shift(Rcr), a, N),
        r("shl", Op::Shift(Shl), a, N),
        r("shr", Op::Shift(Shr), a, N),
        st(r("setmo", Op::Shift(Setmo), a, N), Status::Undocumented),
        r("sar", Op::Shift(Sar), a, N),
    ]
}

/// Group 2 (shifts), byte and word.
pub static GRP2: [[Row; 8]; 2] = [grp2(Eb), grp2(Ev)];

const fn grp3(a: Opd, imm: Opd) -> [Row; 8] {
    [
        r("test", Op::Test, a, imm),
        alias(r("test", Op::Test, a, imm)),
        r("not", Op::Not, a, N),
        r("neg", Op::Neg, a, N),
        r("mul", Op::Mul, a, N),
        r("imul", Op::Imul, a, N),
        r("div", Op::Div, a, N),
        r("idiv", Op::Idiv, a, N),
    ]
}

/// Group 3 (F6 byte, F7 word).
pub static GRP3: [[Row; 8]; 2] = [grp3(Eb, Ib), grp3(Ev, Iv)];

/// Group 4 (FE): INC/DEC byte; other reg values are undefined.
pub static GRP4: [Row; 8] = {
    let u = st(r("db", Op::Invalid, Eb, N), Status::Undefined);
    [
        r("inc", Op::Inc, Eb, N),
        r("dec", Op::Dec, Eb, N),
        u,
        u,
        u,
        u,
        u,
        u,
    ]
};

/// Group 5 (FF).
pub static GRP5: [Row; 8] = [
    r("inc", Op::Inc, Ev, N),
    r("dec", Op::Dec, Ev, N),
    r("call", Op::CallInd, Ev, N),
    r("call far", Op::CallFarInd, Mp, N),
    r("jmp", Op::JmpInd, Ev, N),
    r("jmp far", Op::JmpFarInd, Mp, N),
    r("push", Op::Push, Ev, N),
    alias(r("push", Op::Push, Ev, N)),
];

/// 80186 additions that replace 8086 aliases.
pub static EXT186: [(u8, Row); 14] = [
    (0x60, rw("pusha", Op::Pusha, N, N, true)),
    (0x61, rw("popa", Op::Popa, N, N, true)),
    (0x62, r("bound", Op::Bound, Gv, Ma)),
    (0x63, st(r("arpl", Op::Invalid, Ev, Gv), Status::Undefined)),
    (0x68, r("push", Op::Push, Iv, N)),
    (0x69, r3("imul", Op::Imul3, [Gv, Ev, Iv])),
    (0x6A, rw("push", Op::Push, Ibs, N, true)),
    (0x6B, r3("imul", Op::Imul3, [Gv, Ev, Ibs])),
    (0x6C, rw("insb", Op::Str(StrOp::Ins), N, N, false)),
    (0x6D, rw("insw", Op::Str(StrOp::Ins), N, N, true)),
    (0x6E, rw("outsb", Op::Str(StrOp::Outs), N, N, false)),
    (0x6F, rw("outsw", Op::Str(StrOp::Outs), N, N, true)),
    (0xC8, rw("enter", Op::Enter, Iw, Ib, true)),
    (0xC9, rw("leave", Op::Leave, N, N, true)),
];

/// Shifts by immediate (186+): C0 byte, C1 word.
pub static SHIFT_IMM186: [Row; 2] = [
    r("grp2", Op::Group(Group::G2), Eb, Ib),
    r("grp2", Op::Group(Group::G2), Ev, Ib),
];

/// The row for `opcode` on `model`, before group resolution.
#[inline]
pub fn lookup(model: CpuModel, opcode: u8) -> &'static Row {
    if model.is_186_plus() {
        match opcode {
            0x60..=0x6F => {
                for (op, row) in EXT186.iter() {
                    if *op == opcode {
                        return row;
                    }
                }
                return &INVALID;
            }
            0xC0 | 0xC1 => return &SHIFT_IMM186[(opcode & 1) as usize],
            0xC8 => return &EXT186[12].1,
            0xC9 => return &EXT186[13].1,
            0x0F if model == CpuModel::I80286 => return &ESC0F,
            0x0F => return &INVALID,
            _ => {}
        }
    }
    &BASE[opcode as usize]
}

/// An undefined encoding.
pub static INVALID: Row = st(r("db", Op::Invalid, N, N), Status::Undefined);
/// The 286's two-byte opcode escape.
pub static ESC0F: Row = rw("0f", Op::Escape0F, N, N, true);

/// Resolve a group row through the ModR/M reg field. `head` is the opcode row.
#[inline]
pub fn resolve_group(model: CpuModel, head: &'static Row, reg: u8) -> &'static Row {
    let Op::Group(g) = head.op else { return head };
    let w = head.word as usize;
    let reg = (reg & 7) as usize;
    match g {
        Group::G1 => &GRP1[w][reg],
        Group::G2 => &GRP2[w][reg],
        Group::G3 => &GRP3[w][reg],
        Group::G4 => &GRP4[reg],
        Group::G5 => &GRP5[reg],
        Group::Pop => {
            if reg != 0 && model.is_186_plus() {
                &INVALID
            } else {
                &POP_EV
            }
        }
        Group::MovImm => {
            if reg != 0 && model.is_186_plus() {
                &INVALID
            } else {
                &MOV_IMM[w]
            }
        }
    }
}

static POP_EV: Row = r("pop", Op::Pop, Ev, N);
static MOV_IMM: [Row; 2] = [r("mov", Op::Mov, Eb, Ib), r("mov", Op::Mov, Ev, Iv)];

// ----- timing ------------------------------------------------------------------

/// What [`Clocks::extra`] is charged for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    /// Nothing: the form costs `reg` or `mem` + EA.
    Once,
    /// A branch (or INTO's interrupt) taken.
    Taken,
    /// Each bit of a shift or rotate count.
    Bit,
    /// Each repetition of a REP-prefixed string instruction; `mem` is then
    /// REP's start-up cost and `reg` the cost without a prefix.
    Repeat,
    /// Data-dependent forms (MUL, IMUL, DIV, IDIV): up to `extra` more, in
    /// proportion to the one bits of the operand, so that every charge lies
    /// in the manual's range.
    Data,
}

/// Clock counts of one instruction form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clocks {
    /// Register, immediate or operand-less form (for branches: not taken).
    pub reg: u16,
    /// Memory form, without the effective-address calculation.
    pub mem: u16,
    /// Added as `per` says.
    pub extra: u16,
    /// What `extra` is for.
    pub per: Per,
}

const fn c(reg: u16, mem: u16) -> Clocks {
    Clocks {
        reg,
        mem,
        extra: 0,
        per: Per::Once,
    }
}

const fn cx(reg: u16, mem: u16, extra: u16, per: Per) -> Clocks {
    Clocks {
        reg,
        mem,
        extra,
        per,
    }
}

/// Clock counts of an instruction form on the 8086.
///
/// Figures: Intel, *8086 Family User's Manual* (1979), instruction set
/// reference data (table 2-21); the same figures are reprinted in Liu and
/// Gibson, *Microcomputer Systems: The 8086/8088 Family*, appendix A. They
/// assume an empty-enough prefetch queue and even-aligned words; the
/// timing model adds 4 clocks per word transferred at an odd address (and per
/// word on the 8088), and EA clocks for memory forms. The 80186 additions
/// have no 8086 form: they carry approximate 80186 figures.
pub const fn clocks_8086(op: Op, opd: [Opd; 3], word: bool) -> Clocks {
    let [a, b, _] = opd;
    match op {
        Op::Alu(AluOp::Cmp) => match (a, b) {
            (AL | AX, _) => c(4, 4),
            (_, Ib | Iv | Ibs) => c(4, 10),
            _ => c(3, 9),
        },
        Op::Alu(_) => match (a, b) {
            (AL | AX, _) => c(4, 4),
            (_, Ib | Iv | Ibs) => c(4, 17),
            (Eb | Ev, _) => c(3, 16),
            _ => c(3, 9),
        },
        Op::Test => match (a, b) {
            (AL | AX, _) => c(4, 4),
            (_, Ib | Iv) => c(5, 11),
            _ => c(3, 9),
        },
        Op::Mov => match (a, b) {
            (AL | AX, Ob | Ov) | (Ob | Ov, AL | AX) => c(10, 10),
            (_, Ib | Iv) => c(4, 10),
            (Gb | Gv | Sw, _) => c(2, 8),
            _ => c(2, 9),
        },
        Op::Xchg => match b {
            AX => c(3, 3),
            _ => c(4, 17),
        },
        Op::Lea => c(2, 2),
        Op::Lptr(_) => c(16, 16),
        Op::Inc | Op::Dec => match a {
            Zv => c(2, 2),
            _ => c(3, 15),
        },
        Op::Neg | Op::Not => c(3, 16),
        Op::Push => match a {
            S(_) | Ib | Ibs | Iv => c(10, 10),
            _ => c(11, 16),
        },
        Op::Pop => match a {
            S(_) | Zv => c(8, 8),
            _ => c(8, 17),
        },
        Op::Pushf => c(10, 10),
        Op::Popf => c(8, 8),
        Op::Sahf | Op::Lahf => c(4, 4),
        Op::Cbw => c(2, 2),
        Op::Cwd => c(5, 5),
        // The shift group's opcode rows carry the timing of their count form.
        Op::Shift(_) | Op::Group(Group::G2) => match b {
            One => c(2, 15),
            _ => cx(8, 20, 4, Per::Bit),
        },
        // MUL 70-77 / 118-133, IMUL 80-98 / 128-154, DIV 80-90 / 144-162,
        // IDIV 101-112 / 165-184 (register; memory forms 6 more, plus EA).
        Op::Mul if word => cx(118, 124, 15, Per::Data),
        Op::Mul => cx(70, 76, 7, Per::Data),
        Op::Imul if word => cx(128, 134, 26, Per::Data),
        Op::Imul => cx(80, 86, 18, Per::Data),
        Op::Div if word => cx(144, 150, 18, Per::Data),
        Op::Div => cx(80, 86, 10, Per::Data),
        Op::Idiv if word => cx(165, 171, 19, Per::Data),
        Op::Idiv => cx(101, 107, 11, Per::Data),
        Op::Aaa | Op::Aas | Op::Daa | Op::Das => c(4, 4),
        Op::Aam => c(83, 83),
        Op::Aad => c(60, 60),
        Op::Jcc(_) => cx(4, 4, 12, Per::Taken),
        Op::Loop | Op::Loopnz => cx(
            5,
            5,
            if matches!(op, Op::Loop) { 12 } else { 14 },
            Per::Taken,
        ),
        Op::Loopz | Op::Jcxz => cx(6, 6, 12, Per::Taken),
        Op::Jmp | Op::JmpFar => c(15, 15),
        Op::JmpInd => c(11, 18),
        Op::JmpFarInd => c(24, 24),
        Op::Call => c(19, 19),
        Op::CallFar => c(28, 28),
        Op::CallInd => c(16, 21),
        Op::CallFarInd => c(37, 37),
        Op::Ret => match a {
            Iw => c(12, 12),
            _ => c(8, 8),
        },
        Op::Retf => match a {
            Iw => c(17, 17),
            _ => c(18, 18),
        },
        Op::Int => match a {
            Three => c(52, 52),
            _ => c(51, 51),
        },
        Op::Into => cx(4, 4, 49, Per::Taken),
        Op::Iret => c(24, 24),
        Op::In => match b {
            DX => c(8, 8),
            _ => c(10, 10),
        },
        Op::Out => match a {
            DX => c(8, 8),
            _ => c(10, 10),
        },
        Op::SetFlag(..) | Op::Cmc | Op::Hlt => c(2, 2),
        Op::Wait | Op::Nop | Op::Salc => c(3, 3),
        Op::Xlat => c(11, 11),
        Op::Esc => c(2, 8),
        Op::Str(s) => match s {
            StrOp::Movs => cx(18, 9, 17, Per::Repeat),
            StrOp::Cmps => cx(22, 9, 22, Per::Repeat),
            StrOp::Scas => cx(15, 9, 15, Per::Repeat),
            StrOp::Lods => cx(12, 9, 13, Per::Repeat),
            StrOp::Stos => cx(11, 9, 10, Per::Repeat),
            StrOp::Ins | StrOp::Outs => cx(14, 8, 8, Per::Repeat),
        },
        Op::Imul3 => c(22, 25),
        Op::Pusha => c(36, 36),
        Op::Popa => c(51, 51),
        Op::Bound => c(33, 33),
        Op::Enter => c(15, 15),
        Op::Leave => c(8, 8),
        Op::Prefix(_) => c(2, 2),
        Op::Group(_) => c(0, 0),
        Op::Escape0F | Op::Invalid => c(2, 2),
    }
}
