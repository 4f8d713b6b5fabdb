//! Architectural register file.

use serde::{Deserialize, Serialize};

/// Carry flag.
pub const CF: u16 = 0x0001;
/// Parity flag.
pub const PF: u16 = 0x0004;
/// Auxiliary-carry flag.
pub const AF: u16 = 0x0010;
/// Zero flag.
pub const ZF: u16 = 0x0040;
/// Sign flag.
pub const SF: u16 = 0x0080;
/// Trap flag.
pub const TF: u16 = 0x0100;
/// Interrupt-enable flag.
pub const IF: u16 = 0x0200;
/// Direction flag.
pub const DF: u16 = 0x0400;
/// Overflow flag.
pub const OF: u16 = 0x0800;

/// Letters for FLAGS bits 0..=15, `-` where the bit has no name.
pub const FLAG_LETTERS: [char; 16] = [
    'C', '-', 'P', '-', 'A', '-', 'Z', 'S', 'T', 'I', 'D', 'O', '-', '-', '-', '-',
];

/// General registers in ModR/M encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg16 {
    /// Accumulator.
    AX = 0,
    /// Count.
    CX = 1,
    /// Data.
    DX = 2,
    /// Base.
    BX = 3,
    /// Stack pointer.
    SP = 4,
    /// Base pointer.
    BP = 5,
    /// Source index.
    SI = 6,
    /// Destination index.
    DI = 7,
}

/// Segment registers in encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seg {
    /// Extra segment.
    ES = 0,
    /// Code segment.
    CS = 1,
    /// Stack segment.
    SS = 2,
    /// Data segment.
    DS = 3,
}

impl Seg {
    /// Segment from a 2-bit encoding (the 8086 ignores the third bit of the reg field).
    pub fn from_index(i: u8) -> Seg {
        match i & 3 {
            0 => Seg::ES,
            1 => Seg::CS,
            2 => Seg::SS,
            _ => Seg::DS,
        }
    }

    /// Lower-case name as the disassembler prints it.
    pub fn name(self) -> &'static str {
        ["es", "cs", "ss", "ds"][self as usize]
    }
}

/// Names of the 16-bit registers in encoding order.
pub const REG16_NAMES: [&str; 8] = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
/// Names of the 8-bit registers in encoding order.
pub const REG8_NAMES: [&str; 8] = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];

/// The register file of a real-mode x86.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registers {
    /// AX, CX, DX, BX, SP, BP, SI, DI.
    pub gpr: [u16; 8],
    /// ES, CS, SS, DS.
    pub seg: [u16; 4],
    /// Instruction pointer of the next instruction to execute.
    pub ip: u16,
    /// FLAGS as software reads it (reserved bits as the model fixes them).
    pub flags: u16,
}

/// Register names accepted by [`Registers::get`] and [`Registers::set`], in the
/// order test suites conventionally list them.
pub const REGISTER_NAMES: [&str; 14] = [
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
];

impl Registers {
    /// Read a register by its lower-case name (`"ax"`, `"cs"`, `"ip"`, `"flags"`, ...).
    pub fn get(&self, name: &str) -> Option<u16> {
        Some(match name {
            "ax" => self.gpr[0],
            "cx" => self.gpr[1],
            "dx" => self.gpr[2],
            "bx" => self.gpr[3],
            "sp" => self.gpr[4],
            "bp" => self.gpr[5],
            "si" => self.gpr[6],
            "di" => self.gpr[7],
            "es" => self.seg[0],
            "cs" => self.seg[1],
            "ss" => self.seg[2],
            "ds" => self.seg[3],
            "ip" => self.ip,
            "flags" => self.flags,
            _ => return None,
        })
    }

    /// Write a register by name; returns `false` for an unknown name.
    pub fn set(&mut self, name: &str, v: u16) -> bool {
        let slot = match name {
            "ax" => &mut self.gpr[0],
            "cx" => &mut self.gpr[1],
            "dx" => &mut self.gpr[2],
            "bx" => &mut self.gpr[3],
            "sp" => &mut self.gpr[4],
            "bp" => &mut self.gpr[5],
            "si" => &mut self.gpr[6],
            "di" => &mut self.gpr[7],
            "es" => &mut self.seg[0],
            "cs" => &mut self.seg[1],
            "ss" => &mut self.seg[2],
            "ds" => &mut self.seg[3],
            "ip" => &mut self.ip,
            "flags" => &mut self.flags,
            _ => return false,
        };
        *slot = v;
        true
    }

    /// 8-bit register by encoding (AL, CL, DL, BL, AH, CH, DH, BH).
    #[inline]
    pub fn r8(&self, r: u8) -> u8 {
        // AL..BL in the low byte (shift 0), AH..BH in the high one (shift 8).
        (self.gpr[(r & 3) as usize] >> ((r & 4) << 1)) as u8
    }

    /// Write an 8-bit register by encoding.
    #[inline]
    pub fn set_r8(&mut self, r: u8, v: u8) {
        self.set_r8_keeping(r, v, [0xFF00, 0x00FF]);
    }

    /// [`Registers::set_r8`] with the bits the write keeps of the word
    /// register given, for the low and the high byte (always 0xFF00 and
    /// 0x00FF): the i86 fast forms pass them from a field the compiler
    /// cannot see, so that the word is stored whole (`Cpu::keep`).
    #[inline(always)]
    pub fn set_r8_keeping(&mut self, r: u8, v: u8, keep: [u16; 2]) {
        let sh = (r & 4) << 1;
        let w = &mut self.gpr[(r & 3) as usize];
        *w = (*w & keep[(r as usize >> 2) & 1]) | (v as u16) << sh;
    }

    /// A 16-bit general register.
    #[inline]
    pub fn r16(&self, r: Reg16) -> u16 {
        self.gpr[r as usize]
    }

    /// Write a 16-bit general register.
    #[inline]
    pub fn set_r16(&mut self, r: Reg16, v: u16) {
        self.gpr[r as usize] = v;
    }

    /// A segment register.
    #[inline]
    pub fn sreg(&self, s: Seg) -> u16 {
        self.seg[s as usize]
    }

    /// Test one flag bit.
    #[inline]
    pub fn flag(&self, mask: u16) -> bool {
        self.flags & mask != 0
    }

    /// Set or clear flag bits.
    #[inline]
    pub fn set_flag(&mut self, mask: u16, on: bool) {
        if on {
            self.flags |= mask;
        } else {
            self.flags &= !mask;
        }
    }
}

/// FLAGS decoded letter by letter: upper case when set, `.` when clear, for the
/// nine named flags (`O D I T S Z A P C`).
pub fn describe_flags(f: u16) -> String {
    const ORDER: [(u16, char); 9] = [
        (OF, 'O'),
        (DF, 'D'),
        (IF, 'I'),
        (TF, 'T'),
        (SF, 'S'),
        (ZF, 'Z'),
        (AF, 'A'),
        (PF, 'P'),
        (CF, 'C'),
    ];
    ORDER
        .iter()
        .map(|&(m, c)| if f & m != 0 { c } else { '.' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_registers_alias_words() {
        let mut r = Registers::default();
        r.gpr[0] = 0x1234;
        assert_eq!(r.r8(0), 0x34);
        assert_eq!(r.r8(4), 0x12);
        r.set_r8(4, 0xAB);
        assert_eq!(r.gpr[0], 0xAB34);
        r.set_r8(3, 0xCD);
        assert_eq!(r.get("bx"), Some(0x00CD));
    }

    #[test]
    fn names_round_trip() {
        let mut r = Registers::default();
        for (i, n) in REGISTER_NAMES.iter().enumerate() {
            assert!(r.set(n, i as u16 + 1));
        }
        for (i, n) in REGISTER_NAMES.iter().enumerate() {
            assert_eq!(r.get(n), Some(i as u16 + 1), "{n}");
        }
        assert!(!r.set("eax", 1));
        assert_eq!(describe_flags(CF | ZF | OF), "O....Z..C");
    }
}
