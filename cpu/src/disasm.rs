//! Disassembler (Intel syntax, in the style of the SingleStepTests names),
//! driven by the instruction table.

use crate::decode::{decode_head, ByteSource, Head, ModRm, SliceSource};
use crate::model::CpuModel;
use crate::regs::{REG16_NAMES, REG8_NAMES};
use crate::table::{Op, Opd, Prefix, StrOp};

/// One disassembled instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disassembly {
    /// Intel-syntax text, e.g. `add cl, ah`.
    pub text: String,
    /// Length in bytes, prefixes included.
    pub len: usize,
}

const EA_NAMES: [&str; 8] = ["bx+si", "bx+di", "bp+si", "bp+di", "si", "di", "bp", "bx"];

fn hex(v: u16) -> String {
    format!("{v:X}h")
}

fn signed_hex(v: i16) -> String {
    if v < 0 {
        format!("-{:X}h", (v as i32).unsigned_abs())
    } else {
        format!("+{:X}h", v)
    }
}

fn mem_text(h: &Head, m: &ModRm, size: &str) -> String {
    let seg = h.prefixes.seg.unwrap_or(m.default_seg()).name();
    let inner = if m.md == 0 && m.rm == 6 {
        hex(m.disp)
    } else {
        let base = EA_NAMES[m.rm as usize];
        match m.md {
            0 => base.to_string(),
            _ => format!("{base}{}", signed_hex(m.disp as i16)),
        }
    };
    if size.is_empty() {
        format!("[{seg}:{inner}]")
    } else {
        format!("{size} [{seg}:{inner}]")
    }
}

/// Disassemble the instruction at the start of `bytes` (missing bytes read as NOP).
pub fn disassemble(bytes: &[u8], model: CpuModel) -> Disassembly {
    let mut src = SliceSource { bytes, pos: 0 };
    let h = decode_head(model, &mut src);
    let row = &h.row;
    let mut ops: Vec<String> = Vec::new();
    for opd in row.opd {
        let text = match opd {
            Opd::None => break,
            Opd::Eb | Opd::Ev | Opd::M | Opd::Mp | Opd::Ma => {
                let m = h.modrm.expect("row has modrm");
                if m.is_reg() {
                    if opd == Opd::Eb {
                        REG8_NAMES[m.rm as usize].to_string()
                    } else {
                        REG16_NAMES[m.rm as usize].to_string()
                    }
                } else {
                    let size = match opd {
                        Opd::Eb => "byte",
                        Opd::Ev => "word",
                        Opd::Mp => {
                            if matches!(row.op, Op::Lptr(_)) {
                                "dword"
                            } else {
                                "word"
                            }
                        }
                        _ => "",
                    };
                    mem_text(&h, &m, size)
                }
            }
            Opd::Gb => REG8_NAMES[h.modrm.map_or(0, |m| m.reg) as usize].to_string(),
            Opd::Gv => REG16_NAMES[h.modrm.map_or(0, |m| m.reg) as usize].to_string(),
            Opd::Sw => crate::regs::Seg::from_index(h.modrm.map_or(0, |m| m.reg))
                .name()
                .to_string(),
            Opd::Ib => hex(src.next_byte() as u16),
            Opd::Ibs => hex(src.next_byte() as i8 as i16 as u16),
            Opd::Iv | Opd::Iw => hex(word(&mut src)),
            Opd::Jb => {
                let d = src.next_byte() as i8 as i16 as u16;
                format!("{:04X}h", (src.pos as u16).wrapping_add(d))
            }
            Opd::Jv => {
                let d = word(&mut src);
                format!("{:04X}h", (src.pos as u16).wrapping_add(d))
            }
            Opd::Ap => {
                let off = word(&mut src);
                let seg = word(&mut src);
                format!("{seg:04X}h:{off:04X}h")
            }
            Opd::Ob | Opd::Ov => {
                let a = word(&mut src);
                let seg = h.prefixes.seg.unwrap_or(crate::regs::Seg::DS).name();
                let size = if opd == Opd::Ob { "byte" } else { "word" };
                format!("{size} [{seg}:{}]", hex(a))
            }
            Opd::AL => "al".into(),
            Opd::AX => "ax".into(),
            Opd::CL => "cl".into(),
            Opd::DX => "dx".into(),
            // Implicit operands (shift by one, INT3) are not printed.
            Opd::One | Opd::Three => continue,
            Opd::Zv => REG16_NAMES[(h.opcode & 7) as usize].into(),
            Opd::Zb => REG8_NAMES[(h.opcode & 7) as usize].into(),
            Opd::S(s) => s.name().into(),
        };
        ops.push(text);
    }
    let mnem = match row.op {
        Op::Ret => "retn",
        Op::CallFar | Op::CallFarInd => "callf",
        Op::JmpFar | Op::JmpFarInd => "jmpf",
        // SETMO by CL is SETMOC (it does nothing when CL is zero).
        Op::Shift(crate::table::ShiftOp::Setmo) if row.opd[1] == Opd::CL => "setmoc",
        _ => row.mnem,
    };
    if row.op == Op::Esc {
        // The coprocessor's operand: ESC shows only its r/m.
        if let Some(m) = h.modrm {
            ops.push(if m.is_reg() {
                REG16_NAMES[m.rm as usize].to_string()
            } else {
                mem_text(&h, &m, "word")
            });
        }
    }
    let mut text = String::new();
    if let Op::Str(s) = row.op {
        if let Some(seg) = h.prefixes.seg {
            text.push_str(seg.name());
            text.push(' ');
        }
        if let Some(rep) = h.prefixes.rep {
            let compare = matches!(s, StrOp::Cmps | StrOp::Scas);
            text.push_str(match (rep, compare) {
                (Prefix::Repne, true) => "repne ",
                (_, true) => "repe ",
                _ => "rep ",
            });
        }
    }
    if h.prefixes.lock {
        text.push_str("lock ");
    }
    text.push_str(mnem);
    if !ops.is_empty() {
        text.push(' ');
        text.push_str(&ops.join(", "));
    }
    Disassembly { text, len: src.pos }
}

fn word<S: ByteSource>(src: &mut S) -> u16 {
    let lo = src.next_byte() as u16;
    lo | ((src.next_byte() as u16) << 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(bytes: &[u8]) -> (String, usize) {
        let r = disassemble(bytes, CpuModel::I8086);
        (r.text, r.len)
    }

    #[test]
    fn formats_like_the_intel_manual() {
        assert_eq!(d(&[0x00, 0xE1]), ("add cl, ah".into(), 2));
        assert_eq!(
            d(&[0x26, 0xF6, 0xB1, 0x78, 0x9E]),
            ("div byte [es:bx+di-6188h]".into(), 5)
        );
        assert_eq!(d(&[0x83, 0xD5, 0x5C]), ("adc bp, 5Ch".into(), 3));
        assert_eq!(d(&[0x83, 0x94, 0xA7, 0xEB, 0xC2]).1, 5);
        assert_eq!(d(&[0xEB, 0x09]), ("jmp 000Bh".into(), 2));
        assert_eq!(d(&[0x36, 0xF3, 0xA7]), ("ss repe cmpsw".into(), 3));
        assert_eq!(
            d(&[0x9A, 0x02, 0x7C, 0x58, 0x35]),
            ("callf 3558h:7C02h".into(), 5)
        );
        assert_eq!(d(&[0x8C, 0xDF]), ("mov di, ds".into(), 2));
        assert_eq!(d(&[0xC0, 0x71, 0xF6]), ("retn F671h".into(), 3));
    }

    #[test]
    fn lengths_follow_operand_shapes() {
        // mod=10 with a 16-bit displacement plus an imm16.
        assert_eq!(d(&[0x81, 0x80, 0x34, 0x12, 0x78, 0x56]).1, 6);
        // direct address form (mod=00 rm=110).
        assert_eq!(d(&[0xC7, 0x06, 0x34, 0x12, 0x78, 0x56]).1, 6);
        assert_eq!(d(&[0xEA, 1, 2, 3, 4]).1, 5);
        assert_eq!(d(&[0xF6, 0xC0, 0xD0]).1, 3); // test al, imm8
        assert_eq!(d(&[0xF6, 0xD0]).1, 2); // not al
    }
}
