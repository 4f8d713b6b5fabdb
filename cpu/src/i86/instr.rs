//! The lowest layer of the 16-bit core: an instruction decoded into the
//! form execution and the decode cache use ([`Instr`]), and the decode state
//! of the instruction being executed ([`Current`]). The shared decoder
//! ([`crate::decode`]) reads the bytes; this turns them into execution's form
//! in one pass. Nothing here imports the layers above (exec, fast, icache).

use super::timing::base_clocks;
use crate::decode::{
    group_shape, modrm_len, read_modrm, read_prefixes, ByteSource, ModRm, MAX_IMM,
};
use crate::model::CpuModel;
use crate::regs::Seg;
use crate::table::{self, Per, Prefix, Sem};

/// Decode state of the instruction being executed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Current {
    pub(crate) seg: Option<Seg>,
    pub(crate) rep: Option<Prefix>,
    pub(crate) modrm: Option<ModRm>,
    pub(crate) ea_seg: Option<Seg>,
    pub(crate) ea: u16,
    pub(crate) opcode: u8,
    pub(crate) start_ip: u16,
    /// Immediate bytes of the instruction, and how many the semantics took.
    pub(crate) imm: [u8; MAX_IMM],
    pub(crate) imm_pos: u8,
    /// Control was transferred (for timing: branch taken).
    pub(crate) taken: bool,
    /// Shift count, string repetitions, or one bits of a MUL/DIV operand (for timing).
    pub(crate) count: u32,
    /// General registers (bit per encoding) whose updates survive a fault:
    /// the 286 has already committed them when a later access overruns.
    pub(crate) keep_on_fault: u8,
    /// The overrun that aborted the instruction was a write.
    pub(crate) write_faulted: bool,
    /// Prefix bytes before the opcode.
    pub(crate) prefixes: u8,
    /// A 286 CMPS had finished its first read.
    pub(crate) second_read: bool,
    /// FLAGS as the instruction left them survive a fault (string iterations).
    pub(crate) keep_flags: bool,
}

/// A decoded instruction as execution needs it: the decode state ready to
/// copy into [`Cpu::cur`](super::Cpu), the row's semantics, and what
/// timing needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instr {
    pub(crate) cur: Current,
    pub(crate) sem: Sem,
    pub(crate) len: u8,
    /// The highest IP at which the instruction does not wrap around the end
    /// of the code segment (0x10000 - len).
    pub(crate) last_ip: u16,
    pub(crate) base_clocks: u16,
    pub(crate) extra_clocks: u16,
    pub(crate) per: Per,
}

/// Decode a whole instruction straight into the form execution uses (what
/// [`decode`](crate::decode::decode) does, without building a [`Head`](crate::decode::Head)); the timing-table charge
/// only `with_clocks`.
#[inline]
pub(crate) fn decode_instr<S: ByteSource>(
    model: CpuModel,
    src: &mut S,
    with_clocks: bool,
) -> Instr {
    let (prefixes, opcode, head) = read_prefixes(model, src);
    let (row, modrm) = if head.has_modrm() {
        let m = read_modrm(src);
        (table::resolve_group(model, head, m.reg), Some(m))
    } else {
        (head, None)
    };
    let (opd, n, clk) = group_shape(head, row);
    let mut imm = [0u8; MAX_IMM];
    for slot in imm.iter_mut().take(n as usize) {
        *slot = src.next_byte();
    }
    for _ in MAX_IMM..n as usize {
        src.next_byte();
    }
    let len =
        prefixes.count as usize + 1 + modrm.as_ref().map_or(0, modrm_len) as usize + n as usize;
    let base = if with_clocks {
        base_clocks(&clk, modrm.as_ref(), prefixes.count, prefixes.rep.is_some())
            .min(u16::MAX as u32) as u16
    } else {
        0
    };
    Instr {
        cur: Current {
            seg: prefixes.seg,
            rep: prefixes.rep,
            modrm,
            opcode,
            imm,
            prefixes: prefixes.count,
            ..Current::default()
        },
        sem: Sem {
            op: row.op,
            opd,
            word: row.word,
        },
        len: len.min(255) as u8,
        last_ip: 0x1_0000usize.saturating_sub(len).min(0xFFFF) as u16,
        base_clocks: base,
        extra_clocks: clk.extra,
        per: clk.per,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, SliceSource};
    use crate::table::Clocks;

    /// The execution path's decoder agrees with the public one on every
    /// opcode, ModR/M form and prefix, for every model.
    #[test]
    fn decode_instr_matches_decode() {
        let models = [CpuModel::I8086, CpuModel::I80186, CpuModel::I80286];
        let mut checked = 0;
        for model in models {
            for prefix in [None, Some(0x26u8), Some(0xF3)] {
                for op in 0..=255u8 {
                    for modrm in [0x00u8, 0x06, 0x47, 0x86, 0xC1, 0x3F, 0x78, 0xE9] {
                        let mut bytes = Vec::new();
                        bytes.extend(prefix);
                        bytes.extend([op, modrm, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC]);
                        let d = decode(
                            model,
                            &mut SliceSource {
                                bytes: &bytes,
                                pos: 0,
                            },
                        );
                        let i = decode_instr(
                            model,
                            &mut SliceSource {
                                bytes: &bytes,
                                pos: 0,
                            },
                            true,
                        );
                        let h = &d.head;
                        assert_eq!(i.len, d.len, "{model} {bytes:02x?}");
                        assert_eq!(i.cur.opcode, h.opcode);
                        assert_eq!(i.cur.modrm, h.modrm);
                        assert_eq!(i.cur.seg, h.prefixes.seg);
                        assert_eq!(i.cur.rep, h.prefixes.rep);
                        assert_eq!(i.cur.imm, d.imm);
                        assert_eq!(i.sem, h.row.sem(), "{model} {bytes:02x?}");
                        let k: Clocks = h.row.clk;
                        assert_eq!((i.extra_clocks, i.per), (k.extra, k.per));
                        let base = base_clocks(
                            &k,
                            h.modrm.as_ref(),
                            h.prefixes.count,
                            h.prefixes.rep.is_some(),
                        );
                        assert_eq!(i.base_clocks as u32, base);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 3 * 3 * 256 * 8);
    }
}
