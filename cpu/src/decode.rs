//! Instruction decoding from the table: prefixes, opcode, ModR/M and
//! displacement. Immediates are taken by the semantics (or the disassembler)
//! when they need them, in the order the operand shapes give.
//!
//! Part of the shared layer: it knows bytes and table rows, no core. The
//! disassembler and tools use [`decode_head`] and [`decode`]; the 16-bit
//! core builds its execution form from the same pieces
//! (`i86::instr::decode_instr`), so the two cannot drift apart.

use crate::model::CpuModel;
use crate::regs::Seg;
use crate::table::{self, Op, Opd, Prefix, Row, Status};

/// A source of instruction-stream bytes.
pub trait ByteSource {
    /// The next byte.
    fn next_byte(&mut self) -> u8;
}

/// Bytes from a slice; past its end reads as 0x90 (as the vectors pad).
pub struct SliceSource<'a> {
    /// The bytes.
    pub bytes: &'a [u8],
    /// Bytes consumed so far.
    pub pos: usize,
}

impl ByteSource for SliceSource<'_> {
    fn next_byte(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0x90);
        self.pos += 1;
        b
    }
}

/// Prefixes seen before the opcode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prefixes {
    /// Segment override, the last one wins.
    pub seg: Option<Seg>,
    /// REP/REPE (F3) or REPNE (F2), the last one wins.
    pub rep: Option<Prefix>,
    /// LOCK seen.
    pub lock: bool,
    /// Number of prefix bytes.
    pub count: u8,
}

/// A decoded ModR/M byte with its displacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModRm {
    /// mod field (3 = register operand).
    pub md: u8,
    /// reg field.
    pub reg: u8,
    /// r/m field.
    pub rm: u8,
    /// Displacement (sign-extended when 8-bit; the direct address for mod=0 rm=6).
    pub disp: u16,
}

impl ModRm {
    /// True if r/m names a register.
    #[inline]
    pub fn is_reg(&self) -> bool {
        self.md == 3
    }

    /// The segment an r/m memory operand uses by default (SS for BP-based forms).
    #[inline]
    pub fn default_seg(&self) -> Seg {
        match (self.md, self.rm) {
            (3, _) | (0, 6) => Seg::DS,
            (_, 2) | (_, 3) | (_, 6) => Seg::SS,
            _ => Seg::DS,
        }
    }
}

/// Decoded instruction head.
#[derive(Clone, Copy, Debug)]
pub struct Head {
    /// Prefixes.
    pub prefixes: Prefixes,
    /// Opcode byte.
    pub opcode: u8,
    /// The effective row (group resolved; operand shapes from the opcode row where the group row defers to it).
    pub row: Row,
    /// ModR/M, when the row has one.
    pub modrm: Option<ModRm>,
}

/// Read one ModR/M byte and its displacement.
pub fn read_modrm<S: ByteSource>(src: &mut S) -> ModRm {
    let b = src.next_byte();
    let md = b >> 6;
    let reg = (b >> 3) & 7;
    let rm = b & 7;
    let disp = match md {
        0 if rm == 6 => {
            let lo = src.next_byte() as u16;
            lo | ((src.next_byte() as u16) << 8)
        }
        1 => src.next_byte() as i8 as i16 as u16,
        2 => {
            let lo = src.next_byte() as u16;
            lo | ((src.next_byte() as u16) << 8)
        }
        _ => 0,
    };
    ModRm { md, reg, rm, disp }
}

/// Operand shapes, immediate size and clocks of group row `g` reached from
/// opcode row `head`: groups 1 and 2 take the operand shapes from the opcode
/// row (and group 2 the timing of its count form).
#[inline]
pub(crate) fn group_shape(head: &Row, g: &Row) -> ([Opd; 3], u8, table::Clocks) {
    match head.op {
        Op::Group(table::Group::G1) => (head.opd, head.imm_bytes, g.clk),
        Op::Group(table::Group::G2) => (head.opd, head.imm_bytes, head.clk),
        _ => (g.opd, g.imm_bytes, g.clk),
    }
}

/// The row to execute given the opcode row and the ModR/M reg field.
pub fn effective_row(model: CpuModel, head: &'static Row, reg: u8) -> Row {
    let g = table::resolve_group(model, head, reg);
    if std::ptr::eq(g, head) {
        return *head;
    }
    let mut row = *g;
    (row.opd, row.imm_bytes, row.clk) = group_shape(head, g);
    if head.status != Status::Normal && row.status == Status::Normal {
        row.status = head.status;
    }
    row
}

/// Decode prefixes, opcode, ModR/M and displacement. `max_prefixes` bounds a
/// run of prefixes (the hardware has no bound; tools want one).
pub fn decode_head<S: ByteSource>(model: CpuModel, src: &mut S) -> Head {
    let (prefixes, opcode, row) = read_prefixes(model, src);
    if row.has_modrm() {
        let m = read_modrm(src);
        return Head {
            prefixes,
            opcode,
            row: effective_row(model, row, m.reg),
            modrm: Some(m),
        };
    }
    Head {
        prefixes,
        opcode,
        row: *row,
        modrm: None,
    }
}

/// Read prefixes up to the opcode: the prefixes, the opcode and its row.
#[inline]
pub(crate) fn read_prefixes<S: ByteSource>(
    model: CpuModel,
    src: &mut S,
) -> (Prefixes, u8, &'static Row) {
    let mut prefixes = Prefixes::default();
    loop {
        let b = src.next_byte();
        let row = table::lookup(model, b);
        if let Op::Prefix(p) = row.op {
            prefixes.count = prefixes.count.saturating_add(1);
            match p {
                Prefix::Seg(s) => prefixes.seg = Some(s),
                Prefix::Lock => prefixes.lock = true,
                Prefix::Rep | Prefix::Repne => prefixes.rep = Some(p),
            }
            continue;
        }
        return (prefixes, b, row);
    }
}

/// Longest immediate part of any row (a far pointer, or ENTER's Iw + Ib).
pub const MAX_IMM: usize = 4;

/// A whole decoded instruction: the head, its immediate bytes, and its length.
#[derive(Clone, Copy, Debug)]
pub struct Decoded {
    /// Prefixes, opcode, row and ModR/M.
    pub head: Head,
    /// Immediate bytes (immediates, direct addresses, displacements of
    /// jumps, far pointers) in instruction-stream order.
    pub imm: [u8; MAX_IMM],
    /// Instruction length in bytes, prefixes included (saturates at 255).
    pub len: u8,
}

/// Bytes of the ModR/M byte plus its displacement.
#[inline]
pub(crate) fn modrm_len(m: &ModRm) -> u8 {
    match m.md {
        0 if m.rm == 6 => 3,
        1 => 2,
        2 => 3,
        _ => 1,
    }
}

/// Decode a whole instruction: head, then every immediate byte its operand
/// shapes call for.
pub fn decode<S: ByteSource>(model: CpuModel, src: &mut S) -> Decoded {
    let head = decode_head(model, src);
    let mut imm = [0u8; MAX_IMM];
    let n = head.row.imm_bytes as usize;
    for slot in imm.iter_mut().take(n) {
        *slot = src.next_byte();
    }
    for _ in MAX_IMM..n {
        src.next_byte();
    }
    let len =
        head.prefixes.count as usize + 1 + head.modrm.as_ref().map_or(0, modrm_len) as usize + n;
    Decoded {
        head,
        imm,
        len: len.min(255) as u8,
    }
}
