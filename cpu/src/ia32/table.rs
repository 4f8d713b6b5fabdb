//! The ia32 opcode table as data: one row per opcode (or per ModR/M reg of a
//! group), read by the decoder (ModR/M and immediates), the disassembler and
//! the timing model.
//!
//! Operand shapes use the Intel manual letters: `E` ModR/M r/m, `G` ModR/M
//! reg, `M` memory-only r/m, `R` register-only r/m, `S` segment register in
//! reg, `C`/`D`/`T` control/debug/test register in reg, `I` immediate, `J`
//! relative offset, `O` moffs, `A` far pointer; sizes `b` byte, `w` word,
//! `v` operand size, `p` far pointer, `s` sign-extended byte. Upper-case
//! register names (`AL`, `eAX`, `DX`…) are fixed operands.
//!
//! Clock counts: each row is the one source of its instruction's counts,
//! per model column (0 the 286, 1 the 386, 2 the 486, 3 the Pentium; the
//! P6 is charged the Pentium's) and per form: `clk` the register (or only) form, `alt` the second form
//! (see [`Row::alt`]). The decoder takes the form's count from here once;
//! `clocks::form_clk` only adds what the row cannot hold (DIV/IDIV and the
//! Pentium's MUL by operand width, ENTER's level), and the handlers the
//! run-time parts (REP iterations, MUL's early out, protected-mode
//! transfers and segment loads). docs/timing.md ("ia32 fast model") names
//! the sources and every figure chosen where they disagreed.

use std::sync::OnceLock;

use super::clocks::{col, M386 as M};
use super::Model32;

/// The first processor generation that has an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Since {
    /// 8086/8088.
    I86,
    /// 80186.
    I186,
    /// 80286.
    I286,
    /// 80386.
    I386,
    /// 80486.
    I486,
    /// Pentium.
    I586,
    /// Pentium Pro (P6).
    I686,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Opcode: 00–FF, or 100h + the second byte for the 0F map.
    pub op: u16,
    /// ModR/M reg field for group rows, -1 for the whole opcode.
    pub reg: i8,
    /// Mnemonic.
    pub mnem: &'static str,
    /// Operand shapes, comma-separated.
    pub operands: &'static str,
    /// First model with the instruction.
    pub since: Since,
    /// LOCK prefix allowed (with a memory destination).
    pub lock: bool,
    /// Clocks of the register (or only) form per column ([`col`]: the 286,
    /// the 386, the 486, the Pentium); a branch's count when not taken, a
    /// string instruction's without REP. The 286's and 386's transfers
    /// include their "+m" ([`M386`](super::clocks::M386)).
    pub clk: [u16; 4],
    /// Clocks of the second form, per column: a ModR/M row's memory
    /// operand; the taken count of Jcc, LOOP/LOOPcc and JCXZ; a string
    /// instruction's fixed part under REP (its iterations come on top);
    /// INTO when it interrupts. Equal to `clk` for rows with one form.
    pub alt: [u16; 4],
}

impl Row {
    /// The count of the register / simplest form (`second` false) or of the
    /// second form ([`Row::alt`]) on `model`.
    #[inline]
    pub fn clocks(&self, model: Model32, second: bool) -> u16 {
        let c = col(model);
        if second {
            self.alt[c]
        } else {
            self.clk[c]
        }
    }
}

/// The second count of a row, when it has one.
macro_rules! second {
    ($r:expr) => {
        $r
    };
    ($r:expr, $m:expr) => {
        $m
    };
}

macro_rules! rows {
    ($( $op:literal $reg:literal $m:literal $o:literal $s:ident $l:literal
        [$a:tt $b:tt $c:tt $d:tt] $([$e:tt $f:tt $g:tt $h:tt])? ;)*) => {
        &[ $( Row {
            op: $op, reg: $reg, mnem: $m, operands: $o, since: Since::$s, lock: $l != 0,
            clk: [$a, $b, $c, $d],
            alt: second!([$a, $b, $c, $d] $(, [$e, $f, $g, $h])?),
        }, )* ]
    };
}

/// Every row. Order does not matter. Each row: opcode, ModR/M reg (-1 for
/// the whole opcode), mnemonic, operand shapes, generation, LOCK allowed,
/// `[286 386 486 Pentium]` clocks of the register / simplest form (real
/// mode), then, when it differs, the second form's ([`Row::alt`]). `M` is
/// the 286's and 386's "+m". The 286 column of a row the 286 lacks (and of
/// ESC, whose x87 timing is the coprocessor's) repeats the 386's.
pub static ROWS: &[Row] = rows! {
    0x00 -1 "add" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x01 -1 "add" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x02 -1 "add" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x03 -1 "add" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x04 -1 "add" "AL,Ib" I86 0 [3 2 1 1]; 0x05 -1 "add" "eAX,Iv" I86 0 [3 2 1 1];
    0x06 -1 "push" "ES" I86 0 [3 2 3 1]; 0x07 -1 "pop" "ES" I86 0 [5 7 3 3];
    0x08 -1 "or" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x09 -1 "or" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x0A -1 "or" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x0B -1 "or" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x0C -1 "or" "AL,Ib" I86 0 [3 2 1 1]; 0x0D -1 "or" "eAX,Iv" I86 0 [3 2 1 1];
    0x0E -1 "push" "CS" I86 0 [3 2 3 1];
    0x10 -1 "adc" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x11 -1 "adc" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x12 -1 "adc" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x13 -1 "adc" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x14 -1 "adc" "AL,Ib" I86 0 [3 2 1 1]; 0x15 -1 "adc" "eAX,Iv" I86 0 [3 2 1 1];
    0x16 -1 "push" "SS" I86 0 [3 2 3 1]; 0x17 -1 "pop" "SS" I86 0 [5 7 3 3];
    0x18 -1 "sbb" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x19 -1 "sbb" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x1A -1 "sbb" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x1B -1 "sbb" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x1C -1 "sbb" "AL,Ib" I86 0 [3 2 1 1]; 0x1D -1 "sbb" "eAX,Iv" I86 0 [3 2 1 1];
    0x1E -1 "push" "DS" I86 0 [3 2 3 1]; 0x1F -1 "pop" "DS" I86 0 [5 7 3 3];
    0x20 -1 "and" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x21 -1 "and" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x22 -1 "and" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x23 -1 "and" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x24 -1 "and" "AL,Ib" I86 0 [3 2 1 1]; 0x25 -1 "and" "eAX,Iv" I86 0 [3 2 1 1];
    0x27 -1 "daa" "" I86 0 [3 4 2 3];
    0x28 -1 "sub" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x29 -1 "sub" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x2A -1 "sub" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x2B -1 "sub" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x2C -1 "sub" "AL,Ib" I86 0 [3 2 1 1]; 0x2D -1 "sub" "eAX,Iv" I86 0 [3 2 1 1];
    0x2F -1 "das" "" I86 0 [3 4 2 3];
    0x30 -1 "xor" "Eb,Gb" I86 1 [2 2 1 1] [7 7 3 3]; 0x31 -1 "xor" "Ev,Gv" I86 1 [2 2 1 1] [7 7 3 3];
    0x32 -1 "xor" "Gb,Eb" I86 0 [2 2 1 1] [7 6 2 2]; 0x33 -1 "xor" "Gv,Ev" I86 0 [2 2 1 1] [7 6 2 2];
    0x34 -1 "xor" "AL,Ib" I86 0 [3 2 1 1]; 0x35 -1 "xor" "eAX,Iv" I86 0 [3 2 1 1];
    0x37 -1 "aaa" "" I86 0 [3 4 3 3];
    0x38 -1 "cmp" "Eb,Gb" I86 0 [2 2 1 1] [7 5 2 2]; 0x39 -1 "cmp" "Ev,Gv" I86 0 [2 2 1 1] [7 5 2 2];
    0x3A -1 "cmp" "Gb,Eb" I86 0 [2 2 1 1] [6 6 2 2]; 0x3B -1 "cmp" "Gv,Ev" I86 0 [2 2 1 1] [6 6 2 2];
    0x3C -1 "cmp" "AL,Ib" I86 0 [3 2 1 1]; 0x3D -1 "cmp" "eAX,Iv" I86 0 [3 2 1 1];
    0x3F -1 "aas" "" I86 0 [3 4 3 3];
    0x40 -1 "inc" "Zv" I86 0 [2 2 1 1]; 0x41 -1 "inc" "Zv" I86 0 [2 2 1 1]; 0x42 -1 "inc" "Zv" I86 0 [2 2 1 1];
    0x43 -1 "inc" "Zv" I86 0 [2 2 1 1];
    0x44 -1 "inc" "Zv" I86 0 [2 2 1 1]; 0x45 -1 "inc" "Zv" I86 0 [2 2 1 1]; 0x46 -1 "inc" "Zv" I86 0 [2 2 1 1];
    0x47 -1 "inc" "Zv" I86 0 [2 2 1 1];
    0x48 -1 "dec" "Zv" I86 0 [2 2 1 1]; 0x49 -1 "dec" "Zv" I86 0 [2 2 1 1]; 0x4A -1 "dec" "Zv" I86 0 [2 2 1 1];
    0x4B -1 "dec" "Zv" I86 0 [2 2 1 1];
    0x4C -1 "dec" "Zv" I86 0 [2 2 1 1]; 0x4D -1 "dec" "Zv" I86 0 [2 2 1 1]; 0x4E -1 "dec" "Zv" I86 0 [2 2 1 1];
    0x4F -1 "dec" "Zv" I86 0 [2 2 1 1];
    0x50 -1 "push" "Zv" I86 0 [3 2 1 1]; 0x51 -1 "push" "Zv" I86 0 [3 2 1 1];
    0x52 -1 "push" "Zv" I86 0 [3 2 1 1];
    0x53 -1 "push" "Zv" I86 0 [3 2 1 1];
    0x54 -1 "push" "Zv" I86 0 [3 2 1 1]; 0x55 -1 "push" "Zv" I86 0 [3 2 1 1];
    0x56 -1 "push" "Zv" I86 0 [3 2 1 1];
    0x57 -1 "push" "Zv" I86 0 [3 2 1 1];
    0x58 -1 "pop" "Zv" I86 0 [5 4 4 1]; 0x59 -1 "pop" "Zv" I86 0 [5 4 4 1]; 0x5A -1 "pop" "Zv" I86 0 [5 4 4 1];
    0x5B -1 "pop" "Zv" I86 0 [5 4 4 1];
    0x5C -1 "pop" "Zv" I86 0 [5 4 4 1]; 0x5D -1 "pop" "Zv" I86 0 [5 4 4 1]; 0x5E -1 "pop" "Zv" I86 0 [5 4 4 1];
    0x5F -1 "pop" "Zv" I86 0 [5 4 4 1];
    0x60 -1 "pusha" "" I186 0 [17 18 11 5]; 0x61 -1 "popa" "" I186 0 [19 24 9 5];
    0x62 -1 "bound" "Gv,Ma" I186 0 [13 10 7 7]; 0x63 -1 "arpl" "Ew,Gw" I286 0 [10 20 9 9] [11 20 9 9];
    0x68 -1 "push" "Iv" I186 0 [3 2 1 1]; 0x69 -1 "imul" "Gv,Ev,Iv" I186 0 [21 9 13 10] [24 12 13 10];
    0x6A -1 "push" "sIb" I186 0 [3 2 1 1]; 0x6B -1 "imul" "Gv,Ev,sIb" I186 0 [21 9 13 10] [24 12 13 10];
    0x6C -1 "insb" "" I186 0 [5 15 17 17] [5 13 16 11]; 0x6D -1 "ins" "" I186 0 [5 15 17 17] [5 13 16 11];
    0x6E -1 "outsb" "" I186 0 [5 14 17 17] [5 12 17 13]; 0x6F -1 "outs" "" I186 0 [5 14 17 17] [5 12 17 13];
    0x70 -1 "jo" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x71 -1 "jno" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x72 -1 "jb" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x73 -1 "jnb" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x74 -1 "jz" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x75 -1 "jnz" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x76 -1 "jbe" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x77 -1 "ja" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x78 -1 "js" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x79 -1 "jns" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x7A -1 "jp" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x7B -1 "jnp" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x7C -1 "jl" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x7D -1 "jnl" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x7E -1 "jle" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1]; 0x7F -1 "jg" "Jb" I86 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x80 0 "add" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x80 1 "or" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3];
    0x80 2 "adc" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x80 3 "sbb" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3];
    0x80 4 "and" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x80 5 "sub" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3];
    0x80 6 "xor" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x80 7 "cmp" "Eb,Ib" I86 0 [3 2 1 1] [6 5 2 2];
    0x81 0 "add" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3]; 0x81 1 "or" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3];
    0x81 2 "adc" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3]; 0x81 3 "sbb" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3];
    0x81 4 "and" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3]; 0x81 5 "sub" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3];
    0x81 6 "xor" "Ev,Iv" I86 1 [3 2 1 1] [7 7 3 3]; 0x81 7 "cmp" "Ev,Iv" I86 0 [3 2 1 1] [6 5 2 2];
    0x82 0 "add" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x82 1 "or" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3];
    0x82 2 "adc" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x82 3 "sbb" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3];
    0x82 4 "and" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x82 5 "sub" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3];
    0x82 6 "xor" "Eb,Ib" I86 1 [3 2 1 1] [7 7 3 3]; 0x82 7 "cmp" "Eb,Ib" I86 0 [3 2 1 1] [6 5 2 2];
    0x83 0 "add" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3]; 0x83 1 "or" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3];
    0x83 2 "adc" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3]; 0x83 3 "sbb" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3];
    0x83 4 "and" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3]; 0x83 5 "sub" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3];
    0x83 6 "xor" "Ev,sIb" I86 1 [3 2 1 1] [7 7 3 3]; 0x83 7 "cmp" "Ev,sIb" I86 0 [3 2 1 1] [6 5 2 2];
    0x84 -1 "test" "Eb,Gb" I86 0 [2 2 1 1] [6 5 2 2]; 0x85 -1 "test" "Ev,Gv" I86 0 [2 2 1 1] [6 5 2 2];
    0x86 -1 "xchg" "Eb,Gb" I86 1 [3 3 3 3] [5 5 5 3]; 0x87 -1 "xchg" "Ev,Gv" I86 1 [3 3 3 3] [5 5 5 3];
    0x88 -1 "mov" "Eb,Gb" I86 0 [2 2 1 1] [3 2 1 1]; 0x89 -1 "mov" "Ev,Gv" I86 0 [2 2 1 1] [3 2 1 1];
    0x8A -1 "mov" "Gb,Eb" I86 0 [2 2 1 1] [5 4 1 1]; 0x8B -1 "mov" "Gv,Ev" I86 0 [2 2 1 1] [5 4 1 1];
    0x8C -1 "mov" "Ew,Sw" I86 0 [2 2 3 1] [3 2 3 1]; 0x8D -1 "lea" "Gv,M" I86 0 [3 2 1 1];
    0x8E -1 "mov" "Sw,Ew" I86 0 [2 2 3 2] [5 5 3 3]; 0x8F 0 "pop" "Ev" I86 0 [5 4 4 1] [5 5 6 3];
    0x90 -1 "nop" "" I86 0 [3 3 1 1]; 0x91 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2];
    0x92 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2]; 0x93 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2];
    0x94 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2]; 0x95 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2];
    0x96 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2]; 0x97 -1 "xchg" "Zv,eAX" I86 0 [3 3 3 2];
    0x98 -1 "cbw" "" I86 0 [2 3 3 3]; 0x99 -1 "cwd" "" I86 0 [2 2 3 2];
    0x9A -1 "call" "Ap" I86 0 [(13+M) (17+M) 18 4];
    0x9B -1 "wait" "" I86 0 [3 6 1 1];
    0x9C -1 "pushf" "" I86 0 [3 4 4 4]; 0x9D -1 "popf" "" I86 0 [5 5 9 6]; 0x9E -1 "sahf" "" I86 0 [2 3 2 2];
    0x9F -1 "lahf" "" I86 0 [2 2 3 2];
    0xA0 -1 "mov" "AL,Ob" I86 0 [5 4 1 1]; 0xA1 -1 "mov" "eAX,Ov" I86 0 [5 4 1 1];
    0xA2 -1 "mov" "Ob,AL" I86 0 [3 2 1 1]; 0xA3 -1 "mov" "Ov,eAX" I86 0 [3 2 1 1];
    0xA4 -1 "movsb" "" I86 0 [5 7 7 4] [5 7 12 13]; 0xA5 -1 "movs" "" I86 0 [5 7 7 4] [5 7 12 13];
    0xA6 -1 "cmpsb" "" I86 0 [8 10 8 5] [5 5 7 9]; 0xA7 -1 "cmps" "" I86 0 [8 10 8 5] [5 5 7 9];
    0xA8 -1 "test" "AL,Ib" I86 0 [3 2 1 1]; 0xA9 -1 "test" "eAX,Iv" I86 0 [3 2 1 1];
    0xAA -1 "stosb" "" I86 0 [3 4 5 3] [4 5 7 9]; 0xAB -1 "stos" "" I86 0 [3 4 5 3] [4 5 7 9];
    0xAC -1 "lodsb" "" I86 0 [5 5 5 2] [5 5 7 7]; 0xAD -1 "lods" "" I86 0 [5 5 5 2] [5 5 7 7];
    0xAE -1 "scasb" "" I86 0 [7 7 6 4] [5 5 7 9]; 0xAF -1 "scas" "" I86 0 [7 7 6 4] [5 5 7 9];
    0xB0 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1]; 0xB1 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1];
    0xB2 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1]; 0xB3 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1];
    0xB4 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1]; 0xB5 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1];
    0xB6 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1]; 0xB7 -1 "mov" "Zb,Ib" I86 0 [2 2 1 1];
    0xB8 -1 "mov" "Zv,Iv" I86 0 [2 2 1 1]; 0xB9 -1 "mov" "Zv,Iv" I86 0 [2 2 1 1];
    0xBA -1 "mov" "Zv,Iv" I86 0 [2 2 1 1]; 0xBB -1 "mov" "Zv,Iv" I86 0 [2 2 1 1];
    0xBC -1 "mov" "Zv,Iv" I86 0 [2 2 1 1]; 0xBD -1 "mov" "Zv,Iv" I86 0 [2 2 1 1];
    0xBE -1 "mov" "Zv,Iv" I86 0 [2 2 1 1]; 0xBF -1 "mov" "Zv,Iv" I86 0 [2 2 1 1];
    0xC0 0 "rol" "Eb,Ib" I186 0 [5 3 2 1] [8 7 4 3]; 0xC0 1 "ror" "Eb,Ib" I186 0 [5 3 2 1] [8 7 4 3];
    0xC0 2 "rcl" "Eb,Ib" I186 0 [5 9 8 8] [8 10 9 10]; 0xC0 3 "rcr" "Eb,Ib" I186 0 [5 9 8 8] [8 10 9 10];
    0xC0 4 "shl" "Eb,Ib" I186 0 [5 3 2 1] [8 7 4 3]; 0xC0 5 "shr" "Eb,Ib" I186 0 [5 3 2 1] [8 7 4 3];
    0xC0 6 "sal" "Eb,Ib" I186 0 [5 3 2 1] [8 7 4 3]; 0xC0 7 "sar" "Eb,Ib" I186 0 [5 3 2 1] [8 7 4 3];
    0xC1 0 "rol" "Ev,Ib" I186 0 [5 3 2 1] [8 7 4 3]; 0xC1 1 "ror" "Ev,Ib" I186 0 [5 3 2 1] [8 7 4 3];
    0xC1 2 "rcl" "Ev,Ib" I186 0 [5 9 8 8] [8 10 9 10]; 0xC1 3 "rcr" "Ev,Ib" I186 0 [5 9 8 8] [8 10 9 10];
    0xC1 4 "shl" "Ev,Ib" I186 0 [5 3 2 1] [8 7 4 3]; 0xC1 5 "shr" "Ev,Ib" I186 0 [5 3 2 1] [8 7 4 3];
    0xC1 6 "sal" "Ev,Ib" I186 0 [5 3 2 1] [8 7 4 3]; 0xC1 7 "sar" "Ev,Ib" I186 0 [5 3 2 1] [8 7 4 3];
    0xC2 -1 "ret" "Iw" I86 0 [(11+M) (10+M) 5 3]; 0xC3 -1 "ret" "" I86 0 [(11+M) (10+M) 5 2];
    0xC4 -1 "les" "Gv,Mp" I86 0 [7 7 6 4]; 0xC5 -1 "lds" "Gv,Mp" I86 0 [7 7 6 4];
    0xC6 0 "mov" "Eb,Ib" I86 0 [2 2 1 1] [3 2 1 1]; 0xC7 0 "mov" "Ev,Iv" I86 0 [2 2 1 1] [3 2 1 1];
    0xC8 -1 "enter" "Iw,Ib" I186 0 [11 10 14 11]; 0xC9 -1 "leave" "" I186 0 [5 4 5 3];
    0xCA -1 "retf" "Iw" I86 0 [(15+M) (18+M) 14 4]; 0xCB -1 "retf" "" I86 0 [(15+M) (18+M) 13 4];
    0xCC -1 "int3" "" I86 0 [(23+M) 33 26 13]; 0xCD -1 "int" "Ib" I86 0 [(23+M) 37 30 16];
    0xCE -1 "into" "" I86 0 [3 3 3 4] [(24+M) 35 28 13]; 0xCF -1 "iret" "" I86 0 [(17+M) 22 15 8];
    0xD0 0 "rol" "Eb,1" I86 0 [2 3 3 1] [7 7 4 3]; 0xD0 1 "ror" "Eb,1" I86 0 [2 3 3 1] [7 7 4 3];
    0xD0 2 "rcl" "Eb,1" I86 0 [2 9 3 1] [7 10 4 3]; 0xD0 3 "rcr" "Eb,1" I86 0 [2 9 3 1] [7 10 4 3];
    0xD0 4 "shl" "Eb,1" I86 0 [2 3 3 1] [7 7 4 3]; 0xD0 5 "shr" "Eb,1" I86 0 [2 3 3 1] [7 7 4 3];
    0xD0 6 "sal" "Eb,1" I86 0 [2 3 3 1] [7 7 4 3]; 0xD0 7 "sar" "Eb,1" I86 0 [2 3 3 1] [7 7 4 3];
    0xD1 0 "rol" "Ev,1" I86 0 [2 3 3 1] [7 7 4 3]; 0xD1 1 "ror" "Ev,1" I86 0 [2 3 3 1] [7 7 4 3];
    0xD1 2 "rcl" "Ev,1" I86 0 [2 9 3 1] [7 10 4 3]; 0xD1 3 "rcr" "Ev,1" I86 0 [2 9 3 1] [7 10 4 3];
    0xD1 4 "shl" "Ev,1" I86 0 [2 3 3 1] [7 7 4 3]; 0xD1 5 "shr" "Ev,1" I86 0 [2 3 3 1] [7 7 4 3];
    0xD1 6 "sal" "Ev,1" I86 0 [2 3 3 1] [7 7 4 3]; 0xD1 7 "sar" "Ev,1" I86 0 [2 3 3 1] [7 7 4 3];
    0xD2 0 "rol" "Eb,CL" I86 0 [5 3 3 4] [8 7 4 4]; 0xD2 1 "ror" "Eb,CL" I86 0 [5 3 3 4] [8 7 4 4];
    0xD2 2 "rcl" "Eb,CL" I86 0 [5 9 8 7] [8 10 9 9]; 0xD2 3 "rcr" "Eb,CL" I86 0 [5 9 8 7] [8 10 9 9];
    0xD2 4 "shl" "Eb,CL" I86 0 [5 3 3 4] [8 7 4 4]; 0xD2 5 "shr" "Eb,CL" I86 0 [5 3 3 4] [8 7 4 4];
    0xD2 6 "sal" "Eb,CL" I86 0 [5 3 3 4] [8 7 4 4]; 0xD2 7 "sar" "Eb,CL" I86 0 [5 3 3 4] [8 7 4 4];
    0xD3 0 "rol" "Ev,CL" I86 0 [5 3 3 4] [8 7 4 4]; 0xD3 1 "ror" "Ev,CL" I86 0 [5 3 3 4] [8 7 4 4];
    0xD3 2 "rcl" "Ev,CL" I86 0 [5 9 8 7] [8 10 9 9]; 0xD3 3 "rcr" "Ev,CL" I86 0 [5 9 8 7] [8 10 9 9];
    0xD3 4 "shl" "Ev,CL" I86 0 [5 3 3 4] [8 7 4 4]; 0xD3 5 "shr" "Ev,CL" I86 0 [5 3 3 4] [8 7 4 4];
    0xD3 6 "sal" "Ev,CL" I86 0 [5 3 3 4] [8 7 4 4]; 0xD3 7 "sar" "Ev,CL" I86 0 [5 3 3 4] [8 7 4 4];
    0xD4 -1 "aam" "Ib" I86 0 [16 17 15 18]; 0xD5 -1 "aad" "Ib" I86 0 [14 19 14 10];
    0xD6 -1 "salc" "" I86 0 [3 2 2 2]; 0xD7 -1 "xlat" "" I86 0 [5 5 4 4];
    0xD8 -1 "esc" "E" I86 0 [2 2 1 1]; 0xD9 -1 "esc" "E" I86 0 [2 2 1 1]; 0xDA -1 "esc" "E" I86 0 [2 2 1 1];
    0xDB -1 "esc" "E" I86 0 [2 2 1 1];
    0xDC -1 "esc" "E" I86 0 [2 2 1 1]; 0xDD -1 "esc" "E" I86 0 [2 2 1 1]; 0xDE -1 "esc" "E" I86 0 [2 2 1 1];
    0xDF -1 "esc" "E" I86 0 [2 2 1 1];
    0xE0 -1 "loopnz" "Jb" I86 0 [4 11 6 7] [(8+M) (11+M) 9 8];
    0xE1 -1 "loopz" "Jb" I86 0 [4 11 6 7] [(8+M) (11+M) 9 8];
    0xE2 -1 "loop" "Jb" I86 0 [4 11 6 5] [(8+M) (11+M) 7 6];
    0xE3 -1 "jcxz" "Jb" I86 0 [4 5 5 5] [(8+M) (9+M) 8 6];
    0xE4 -1 "in" "AL,Ib" I86 0 [5 12 14 14]; 0xE5 -1 "in" "eAX,Ib" I86 0 [5 12 14 14];
    0xE6 -1 "out" "Ib,AL" I86 0 [3 10 16 16]; 0xE7 -1 "out" "Ib,eAX" I86 0 [3 10 16 16];
    0xE8 -1 "call" "Jz" I86 0 [(7+M) (7+M) 3 1]; 0xE9 -1 "jmp" "Jz" I86 0 [(7+M) (7+M) 3 1];
    0xEA -1 "jmp" "Ap" I86 0 [(11+M) (12+M) 17 3]; 0xEB -1 "jmp" "Jb" I86 0 [(7+M) (7+M) 3 1];
    0xEC -1 "in" "AL,DX" I86 0 [5 13 14 14]; 0xED -1 "in" "eAX,DX" I86 0 [5 13 14 14];
    0xEE -1 "out" "DX,AL" I86 0 [3 11 16 16]; 0xEF -1 "out" "DX,eAX" I86 0 [3 11 16 16];
    0xF1 -1 "int1" "" I386 0 [33 33 26 13]; 0xF4 -1 "hlt" "" I86 0 [2 5 4 4]; 0xF5 -1 "cmc" "" I86 0 [2 2 2 2];
    0xF6 0 "test" "Eb,Ib" I86 0 [3 2 1 1] [6 5 2 2]; 0xF6 1 "test" "Eb,Ib" I86 0 [3 2 1 1] [6 5 2 2];
    0xF6 2 "not" "Eb" I86 1 [2 2 1 1] [7 6 3 3]; 0xF6 3 "neg" "Eb" I86 1 [2 2 1 1] [7 6 3 3];
    0xF6 4 "mul" "Eb" I86 0 [13 9 13 11] [16 12 13 11]; 0xF6 5 "imul" "Eb" I86 0 [13 9 13 11] [16 12 13 11];
    0xF6 6 "div" "Eb" I86 0 [14 14 16 17] [17 17 16 17]; 0xF6 7 "idiv" "Eb" I86 0 [17 19 19 22] [20 22 20 22];
    0xF7 0 "test" "Ev,Iv" I86 0 [3 2 1 1] [6 5 2 2]; 0xF7 1 "test" "Ev,Iv" I86 0 [3 2 1 1] [6 5 2 2];
    0xF7 2 "not" "Ev" I86 1 [2 2 1 1] [7 6 3 3]; 0xF7 3 "neg" "Ev" I86 1 [2 2 1 1] [7 6 3 3];
    0xF7 4 "mul" "Ev" I86 0 [21 9 13 11] [24 12 13 11]; 0xF7 5 "imul" "Ev" I86 0 [21 9 13 11] [24 12 13 11];
    0xF7 6 "div" "Ev" I86 0 [22 22 24 25] [25 25 24 25]; 0xF7 7 "idiv" "Ev" I86 0 [25 27 27 30] [28 30 28 30];
    0xF8 -1 "clc" "" I86 0 [2 2 2 2]; 0xF9 -1 "stc" "" I86 0 [2 2 2 2]; 0xFA -1 "cli" "" I86 0 [3 3 5 7];
    0xFB -1 "sti" "" I86 0 [3 3 5 7];
    0xFC -1 "cld" "" I86 0 [2 2 2 2]; 0xFD -1 "std" "" I86 0 [2 2 2 2];
    0xFE 0 "inc" "Eb" I86 1 [2 2 1 1] [7 6 3 3]; 0xFE 1 "dec" "Eb" I86 1 [2 2 1 1] [7 6 3 3];
    0xFF 0 "inc" "Ev" I86 1 [2 2 1 1] [7 6 3 3]; 0xFF 1 "dec" "Ev" I86 1 [2 2 1 1] [7 6 3 3];
    0xFF 2 "call" "Ev" I86 0 [(7+M) (7+M) 5 2] [(11+M) (10+M) 5 2];
    0xFF 3 "call" "Mp" I86 0 [(16+M) (22+M) 17 5];
    0xFF 4 "jmp" "Ev" I86 0 [(7+M) (7+M) 5 2] [(11+M) (10+M) 5 2];
    0xFF 5 "jmp" "Mp" I86 0 [(15+M) (12+M) 13 4];
    0xFF 6 "push" "Ev" I86 0 [3 2 1 1] [5 5 4 2];
    // The 0F map.
    0x100 0 "sldt" "Ew" I286 0 [2 2 2 2] [3 2 2 2]; 0x100 1 "str" "Ew" I286 0 [2 2 2 2] [3 2 2 2];
    0x100 2 "lldt" "Ew" I286 0 [17 20 11 11] [19 20 11 11];
    0x100 3 "ltr" "Ew" I286 0 [17 23 20 20] [19 23 20 20];
    0x100 4 "verr" "Ew" I286 0 [14 10 11 11] [16 10 11 11];
    0x100 5 "verw" "Ew" I286 0 [14 15 11 11] [16 15 11 11];
    0x101 0 "sgdt" "M" I286 0 [11 9 10 10]; 0x101 1 "sidt" "M" I286 0 [12 9 10 10];
    0x101 2 "lgdt" "M" I286 0 [11 11 11 11]; 0x101 3 "lidt" "M" I286 0 [12 11 11 11];
    0x101 4 "smsw" "Ew" I286 0 [2 2 2 2] [3 2 2 2]; 0x101 6 "lmsw" "Ew" I286 0 [3 10 13 13] [6 10 13 13];
    0x101 7 "invlpg" "M" I486 0 [12 12 12 12];
    0x102 -1 "lar" "Gv,Ew" I286 0 [14 15 11 11] [16 15 11 11];
    0x103 -1 "lsl" "Gv,Ew" I286 0 [14 20 10 10] [16 20 10 10];
    0x106 -1 "clts" "" I286 0 [2 5 7 7];
    0x108 -1 "invd" "" I486 0 [4 4 4 4]; 0x109 -1 "wbinvd" "" I486 0 [5 5 5 5];
    0x120 -1 "mov" "Rd,Cd" I386 0 [6 6 4 4]; 0x121 -1 "mov" "Rd,Dd" I386 0 [22 22 10 10];
    0x122 -1 "mov" "Cd,Rd" I386 0 [10 10 4 4]; 0x123 -1 "mov" "Dd,Rd" I386 0 [22 22 10 10];
    0x124 -1 "mov" "Rd,Td" I386 0 [12 12 4 4]; 0x126 -1 "mov" "Td,Rd" I386 0 [12 12 4 4];
    0x180 -1 "jo" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x181 -1 "jno" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x182 -1 "jb" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x183 -1 "jnb" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x184 -1 "jz" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x185 -1 "jnz" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x186 -1 "jbe" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x187 -1 "ja" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x188 -1 "js" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x189 -1 "jns" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x18A -1 "jp" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x18B -1 "jnp" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x18C -1 "jl" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x18D -1 "jnl" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x18E -1 "jle" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x18F -1 "jg" "Jz" I386 0 [3 3 1 1] [(7+M) (7+M) 3 1];
    0x190 -1 "seto" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x191 -1 "setno" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x192 -1 "setb" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x193 -1 "setnb" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x194 -1 "setz" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x195 -1 "setnz" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x196 -1 "setbe" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x197 -1 "seta" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x198 -1 "sets" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x199 -1 "setns" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x19A -1 "setp" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x19B -1 "setnp" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x19C -1 "setl" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x19D -1 "setnl" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x19E -1 "setle" "Eb" I386 0 [4 4 3 1] [5 5 3 2]; 0x19F -1 "setg" "Eb" I386 0 [4 4 3 1] [5 5 3 2];
    0x1A0 -1 "push" "FS" I386 0 [2 2 3 1]; 0x1A1 -1 "pop" "FS" I386 0 [7 7 3 3];
    0x1A3 -1 "bt" "Ev,Gv" I386 0 [3 3 3 4] [12 12 8 9];
    0x1A4 -1 "shld" "Ev,Gv,Ib" I386 0 [3 3 2 4] [7 7 3 4];
    0x1A5 -1 "shld" "Ev,Gv,CL" I386 0 [3 3 3 4] [7 7 4 5];
    0x1A8 -1 "push" "GS" I386 0 [2 2 3 1]; 0x1A9 -1 "pop" "GS" I386 0 [7 7 3 3];
    0x1AB -1 "bts" "Ev,Gv" I386 1 [6 6 6 7] [13 13 13 13];
    0x1AC -1 "shrd" "Ev,Gv,Ib" I386 0 [3 3 2 4] [7 7 3 4];
    0x1AD -1 "shrd" "Ev,Gv,CL" I386 0 [3 3 3 4] [7 7 4 5];
    0x1AF -1 "imul" "Gv,Ev" I386 0 [9 9 13 10] [12 12 13 10];
    0x1B0 -1 "cmpxchg" "Eb,Gb" I486 1 [6 6 6 5] [6 6 7 6];
    0x1B1 -1 "cmpxchg" "Ev,Gv" I486 1 [6 6 6 5] [6 6 7 6];
    0x1B2 -1 "lss" "Gv,Mp" I386 0 [7 7 6 4]; 0x1B3 -1 "btr" "Ev,Gv" I386 1 [6 6 6 7] [13 13 13 13];
    0x1B4 -1 "lfs" "Gv,Mp" I386 0 [7 7 6 4]; 0x1B5 -1 "lgs" "Gv,Mp" I386 0 [7 7 6 4];
    0x1B6 -1 "movzx" "Gv,Eb" I386 0 [3 3 3 3] [6 6 3 3]; 0x1B7 -1 "movzx" "Gv,Ew" I386 0 [3 3 3 3] [6 6 3 3];
    0x1BA 4 "bt" "Ev,Ib" I386 0 [3 3 3 4] [6 6 3 4]; 0x1BA 5 "bts" "Ev,Ib" I386 1 [6 6 6 7] [8 8 8 8];
    0x1BA 6 "btr" "Ev,Ib" I386 1 [6 6 6 7] [8 8 8 8]; 0x1BA 7 "btc" "Ev,Ib" I386 1 [6 6 6 7] [8 8 8 8];
    0x1BB -1 "btc" "Ev,Gv" I386 1 [6 6 6 7] [13 13 13 13];
    0x1BC -1 "bsf" "Gv,Ev" I386 0 [10 10 6 6] [10 10 7 6];
    0x1BD -1 "bsr" "Gv,Ev" I386 0 [10 10 6 7] [10 10 7 7];
    0x1BE -1 "movsx" "Gv,Eb" I386 0 [3 3 3 3] [6 6 3 3]; 0x1BF -1 "movsx" "Gv,Ew" I386 0 [3 3 3 3] [6 6 3 3];
    0x1C0 -1 "xadd" "Eb,Gb" I486 1 [3 3 3 3] [3 3 4 4]; 0x1C1 -1 "xadd" "Ev,Gv" I486 1 [3 3 3 3] [3 3 4 4];
    0x1C8 -1 "bswap" "Zd" I486 0 [1 1 1 1]; 0x1C9 -1 "bswap" "Zd" I486 0 [1 1 1 1];
    0x1CA -1 "bswap" "Zd" I486 0 [1 1 1 1]; 0x1CB -1 "bswap" "Zd" I486 0 [1 1 1 1];
    0x1CC -1 "bswap" "Zd" I486 0 [1 1 1 1]; 0x1CD -1 "bswap" "Zd" I486 0 [1 1 1 1];
    0x1CE -1 "bswap" "Zd" I486 0 [1 1 1 1]; 0x1CF -1 "bswap" "Zd" I486 0 [1 1 1 1];
    // Pentium and P6 (semantics in p6.rs; the late 486 has CPUID). Clocks:
    // the 286, 386 and 486 columns hold the Pentium's figures where those
    // lack the row.
    0x1A2 -1 "cpuid" "" I486 0 [14 14 14 14];
    0x130 -1 "wrmsr" "" I586 0 [30 30 30 30]; 0x131 -1 "rdtsc" "" I586 0 [6 6 6 6];
    0x132 -1 "rdmsr" "" I586 0 [20 20 20 20];
    0x133 -1 "rdpmc" "" I686 0 [11 11 11 11]; 0x134 -1 "sysenter" "" I686 0 [9 9 9 9];
    0x135 -1 "sysexit" "" I686 0 [9 9 9 9];
    0x10B -1 "ud2" "" I686 0 [1 1 1 1];
    0x1C7 1 "cmpxchg8b" "Mq" I586 1 [10 10 10 10];
    0x1AE 0 "fxsave" "M" I686 0 [50 50 50 50]; 0x1AE 1 "fxrstor" "M" I686 0 [50 50 50 50];
    0x140 -1 "cmovo" "Gv,Ev" I686 0 [2 2 2 2]; 0x141 -1 "cmovno" "Gv,Ev" I686 0 [2 2 2 2];
    0x142 -1 "cmovb" "Gv,Ev" I686 0 [2 2 2 2]; 0x143 -1 "cmovnb" "Gv,Ev" I686 0 [2 2 2 2];
    0x144 -1 "cmovz" "Gv,Ev" I686 0 [2 2 2 2]; 0x145 -1 "cmovnz" "Gv,Ev" I686 0 [2 2 2 2];
    0x146 -1 "cmovbe" "Gv,Ev" I686 0 [2 2 2 2]; 0x147 -1 "cmova" "Gv,Ev" I686 0 [2 2 2 2];
    0x148 -1 "cmovs" "Gv,Ev" I686 0 [2 2 2 2]; 0x149 -1 "cmovns" "Gv,Ev" I686 0 [2 2 2 2];
    0x14A -1 "cmovp" "Gv,Ev" I686 0 [2 2 2 2]; 0x14B -1 "cmovnp" "Gv,Ev" I686 0 [2 2 2 2];
    0x14C -1 "cmovl" "Gv,Ev" I686 0 [2 2 2 2]; 0x14D -1 "cmovnl" "Gv,Ev" I686 0 [2 2 2 2];
    0x14E -1 "cmovle" "Gv,Ev" I686 0 [2 2 2 2]; 0x14F -1 "cmovg" "Gv,Ev" I686 0 [2 2 2 2];
};

/// How the decoder reads one opcode's operand bytes (derived from the rows).
#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeInfo {
    /// Some row exists for this opcode.
    pub valid: bool,
    /// A ModR/M byte follows.
    pub modrm: bool,
    /// Rows differ by ModR/M reg (a group).
    pub group: bool,
}

/// Immediate kinds in order of appearance in the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imm {
    /// A byte.
    B,
    /// A word.
    W,
    /// Operand size (2 or 4).
    V,
    /// Address size (moffs).
    A,
    /// Operand size then a 16-bit selector (far pointer).
    P,
}

/// The immediates of one row's operand shapes, in byte order.
pub fn immediates(row: &Row) -> [Option<Imm>; 2] {
    let mut out = [None, None];
    let mut n = 0;
    for o in row.operands.split(',') {
        let k = match o {
            "Ib" | "sIb" | "Jb" => Some(Imm::B),
            "Iw" => Some(Imm::W),
            "Iv" | "Jz" => Some(Imm::V),
            "Ob" | "Ov" => Some(Imm::A),
            "Ap" => Some(Imm::P),
            _ => None,
        };
        if let Some(k) = k {
            if n < 2 {
                out[n] = Some(k);
                n += 1;
            }
        }
    }
    out
}

fn needs_modrm(row: &Row) -> bool {
    row.reg >= 0
        || row.operands.split(',').any(|o| {
            let b = o.as_bytes();
            // A shape letter alone or followed by a lower-case size; fixed
            // registers (`DX`, `CS`, `CL`) are all upper case.
            matches!(
                b.first(),
                Some(b'E' | b'G' | b'M' | b'R' | b'S' | b'C' | b'D' | b'T')
            ) && b.get(1).is_none_or(|c| c.is_ascii_lowercase())
        })
}

/// A row with its immediates pre-parsed, as the decoder uses it.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Index into [`ROWS`].
    pub row: u16,
    /// Immediates.
    pub imm: [Option<Imm>; 2],
    /// An operand is memory-only (`M…`): a register form is #UD. Derived
    /// once here so the decoder does not parse the shapes per instruction.
    pub mem_only: bool,
}

/// The lookup built from [`ROWS`]: per opcode (512) its decode info and up
/// to eight rows by ModR/M reg.
pub struct Lookup {
    /// Decode info per opcode.
    pub info: Vec<DecodeInfo>,
    /// Entries: `op * 8 + reg`.
    pub entries: Vec<Option<Entry>>,
}

/// The table lookup, built once.
pub fn lookup() -> &'static Lookup {
    static L: OnceLock<Lookup> = OnceLock::new();
    L.get_or_init(|| {
        let mut info = vec![DecodeInfo::default(); 512];
        let mut entries = vec![None; 512 * 8];
        for (i, row) in ROWS.iter().enumerate() {
            let op = row.op as usize & 511;
            let d = &mut info[op];
            d.valid = true;
            d.modrm |= needs_modrm(row);
            d.group |= row.reg >= 0;
            let e = Entry {
                row: i as u16,
                imm: immediates(row),
                mem_only: row.operands.split(',').any(|o| o.starts_with('M')),
            };
            if row.reg >= 0 {
                entries[op * 8 + (row.reg as usize & 7)] = Some(e);
            } else {
                for r in 0..8 {
                    entries[op * 8 + r] = Some(e);
                }
            }
        }
        Lookup { info, entries }
    })
}

impl Since {
    /// True when `model` has instructions of this generation.
    pub fn available(self, model: Model32) -> bool {
        let need = match self {
            Since::I86 | Since::I186 | Since::I286 => 2,
            Since::I386 => 3,
            Since::I486 => 4,
            Since::I586 => 5,
            Since::I686 => 6,
        };
        model.generation() >= need
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_duplicate_rows() {
        let mut seen = std::collections::HashSet::new();
        for r in ROWS {
            for reg in 0..8i8 {
                if r.reg < 0 || r.reg == reg {
                    assert!(seen.insert((r.op, reg)), "duplicate row {:03X}/{reg}", r.op);
                }
            }
        }
    }

    #[test]
    fn shapes_give_the_manuals_immediates() {
        let l = lookup();
        // C8 ENTER: Iw then Ib.
        let e = l.entries[0xC8 * 8].unwrap();
        assert_eq!(e.imm, [Some(Imm::W), Some(Imm::B)]);
        // F6 /0 TEST Eb,Ib has a byte immediate; F6 /2 NOT has none.
        assert_eq!(l.entries[0xF6 * 8].unwrap().imm[0], Some(Imm::B));
        assert_eq!(l.entries[0xF6 * 8 + 2].unwrap().imm[0], None);
        assert!(l.info[0x101].modrm && l.info[0x101].group);
        assert!(!l.info[0x90].modrm);
    }
}
