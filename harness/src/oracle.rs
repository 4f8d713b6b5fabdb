//! The host CPU as a reference: executes one 8- or 16-bit ALU, shift,
//! rotate, multiply or divide instruction natively and returns its result and
//! FLAGS, for differential tests of the emulated core.
//!
//! Only on x86-64 hosts: each operation is a short `asm!` block that loads the
//! six arithmetic flags with `popf`, runs the instruction on the operands and
//! reads FLAGS back with `pushf`. This and `oracle32` (the same scheme for the
//! ia32 core's 32-bit forms) are the only `unsafe` in the project.
//!
//! Which flags are architecturally defined differs per instruction; the
//! callers mask the undefined ones (see docs/conformance.md, "Host-CPU
//! differential"). Counts are passed to the host unchanged: it masks them to
//! five bits, as the 80186 and later do (the 8086 does not).

/// The six arithmetic flags (OF SF ZF AF PF CF), the only ones passed in and compared.
pub const ARITH_FLAGS: u16 = 0x08D5;

/// Operand width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// 8-bit operands.
    Byte,
    /// 16-bit operands.
    Word,
}

impl Width {
    /// `Word` if `word`, else `Byte`.
    pub fn from_word(word: bool) -> Width {
        if word {
            Width::Word
        } else {
            Width::Byte
        }
    }

    /// Mask of the operand's bits.
    pub fn mask(self) -> u16 {
        match self {
            Width::Byte => 0xFF,
            Width::Word => 0xFFFF,
        }
    }
}

/// Two-operand ALU operations (`dst op= src`; CMP and TEST leave `dst`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
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
    /// TEST.
    Test,
}

/// Shifts and rotates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    /// ROL.
    Rol,
    /// ROR.
    Ror,
    /// RCL.
    Rcl,
    /// RCR.
    Rcr,
    /// SHL/SAL.
    Shl,
    /// SHR.
    Shr,
    /// SAR.
    Sar,
}

/// One-operand operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    /// INC.
    Inc,
    /// DEC.
    Dec,
    /// NEG.
    Neg,
    /// NOT.
    Not,
}

/// Multiply and divide (of AL/AX or DX:AX by the operand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MulDiv {
    /// MUL.
    Mul,
    /// IMUL (one operand).
    Imul,
    /// DIV.
    Div,
    /// IDIV.
    Idiv,
}

/// What the host computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The destination (AX for multiply and divide) after the instruction.
    pub result: u16,
    /// DX after a 16-bit multiply or divide; zero otherwise.
    pub high: u16,
    /// The arithmetic flags after the instruction (other bits zero).
    pub flags: u16,
}

#[cfg(target_arch = "x86_64")]
pub use host::*;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(crate) mod host {
    use super::*;
    use std::arch::asm;

    /// RFLAGS image to load: the caller's arithmetic flags, bit 1 set, and
    /// nothing else (TF, DF and AC stay clear; IF is ignored in user mode).
    fn rflags_in(flags: u16) -> u64 {
        ((flags & ARITH_FLAGS) | 0x0002) as u64
    }

    fn flags_out(r: u64) -> u16 {
        r as u16 & ARITH_FLAGS
    }

    // `$op` runs between `popf` and `pushf`; `{a}`/`{b}` are the operands,
    // written with a size modifier in `$op`.
    macro_rules! two {
        ($op:literal, $a:ident, $b:ident, $f:ident) => {
            // SAFETY: the block only pushes and pops its own stack slot
            // (no `nostack`), changes FLAGS (which `asm!` assumes clobbered)
            // and the registers declared as operands. DF stays clear.
            unsafe {
                asm!(
                    "push {f}",
                    "popfq",
                    $op,
                    "pushfq",
                    "pop {f}",
                    a = inout(reg) $a,
                    b = in(reg) $b,
                    f = inout(reg) $f,
                )
            }
        };
    }
    // The 32-bit and P6 oracles run their two-operand forms through it too.
    pub(crate) use two;

    /// `dst op= src` (or the flags of CMP/TEST) with the host's result and flags.
    pub fn alu(op: Alu, w: Width, dst: u16, src: u16, flags: u16) -> Outcome {
        let mut a = dst as u64;
        let b = src as u64;
        let mut f = rflags_in(flags);
        match (w, op) {
            (Width::Byte, Alu::Add) => two!("add {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Or) => two!("or {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Adc) => two!("adc {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Sbb) => two!("sbb {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::And) => two!("and {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Sub) => two!("sub {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Xor) => two!("xor {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Cmp) => two!("cmp {a:l}, {b:l}", a, b, f),
            (Width::Byte, Alu::Test) => two!("test {a:l}, {b:l}", a, b, f),
            (Width::Word, Alu::Add) => two!("add {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Or) => two!("or {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Adc) => two!("adc {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Sbb) => two!("sbb {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::And) => two!("and {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Sub) => two!("sub {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Xor) => two!("xor {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Cmp) => two!("cmp {a:x}, {b:x}", a, b, f),
            (Width::Word, Alu::Test) => two!("test {a:x}, {b:x}", a, b, f),
        }
        Outcome {
            result: a as u16 & w.mask(),
            high: 0,
            flags: flags_out(f),
        }
    }

    macro_rules! by_cl {
        ($op:literal, $a:ident, $c:ident, $f:ident) => {
            // SAFETY: as for `two!`; CL holds the count.
            unsafe {
                asm!(
                    "push {f}",
                    "popfq",
                    $op,
                    "pushfq",
                    "pop {f}",
                    a = inout(reg) $a,
                    f = inout(reg) $f,
                    in("rcx") $c,
                )
            }
        };
    }

    /// Shift or rotate `dst` by `count` (the host masks it to five bits).
    pub fn shift(op: Shift, w: Width, dst: u16, count: u8, flags: u16) -> Outcome {
        let mut a = dst as u64;
        let c = count as u64;
        let mut f = rflags_in(flags);
        match (w, op) {
            (Width::Byte, Shift::Rol) => by_cl!("rol {a:l}, cl", a, c, f),
            (Width::Byte, Shift::Ror) => by_cl!("ror {a:l}, cl", a, c, f),
            (Width::Byte, Shift::Rcl) => by_cl!("rcl {a:l}, cl", a, c, f),
            (Width::Byte, Shift::Rcr) => by_cl!("rcr {a:l}, cl", a, c, f),
            (Width::Byte, Shift::Shl) => by_cl!("shl {a:l}, cl", a, c, f),
            (Width::Byte, Shift::Shr) => by_cl!("shr {a:l}, cl", a, c, f),
            (Width::Byte, Shift::Sar) => by_cl!("sar {a:l}, cl", a, c, f),
            (Width::Word, Shift::Rol) => by_cl!("rol {a:x}, cl", a, c, f),
            (Width::Word, Shift::Ror) => by_cl!("ror {a:x}, cl", a, c, f),
            (Width::Word, Shift::Rcl) => by_cl!("rcl {a:x}, cl", a, c, f),
            (Width::Word, Shift::Rcr) => by_cl!("rcr {a:x}, cl", a, c, f),
            (Width::Word, Shift::Shl) => by_cl!("shl {a:x}, cl", a, c, f),
            (Width::Word, Shift::Shr) => by_cl!("shr {a:x}, cl", a, c, f),
            (Width::Word, Shift::Sar) => by_cl!("sar {a:x}, cl", a, c, f),
        }
        Outcome {
            result: a as u16 & w.mask(),
            high: 0,
            flags: flags_out(f),
        }
    }

    macro_rules! one {
        ($op:literal, $a:ident, $f:ident) => {
            // SAFETY: as for `two!`.
            unsafe {
                asm!(
                    "push {f}",
                    "popfq",
                    $op,
                    "pushfq",
                    "pop {f}",
                    a = inout(reg) $a,
                    f = inout(reg) $f,
                )
            }
        };
    }

    /// INC, DEC, NEG or NOT of `dst`.
    pub fn unary(op: Unary, w: Width, dst: u16, flags: u16) -> Outcome {
        let mut a = dst as u64;
        let mut f = rflags_in(flags);
        match (w, op) {
            (Width::Byte, Unary::Inc) => one!("inc {a:l}", a, f),
            (Width::Byte, Unary::Dec) => one!("dec {a:l}", a, f),
            (Width::Byte, Unary::Neg) => one!("neg {a:l}", a, f),
            (Width::Byte, Unary::Not) => one!("not {a:l}", a, f),
            (Width::Word, Unary::Inc) => one!("inc {a:x}", a, f),
            (Width::Word, Unary::Dec) => one!("dec {a:x}", a, f),
            (Width::Word, Unary::Neg) => one!("neg {a:x}", a, f),
            (Width::Word, Unary::Not) => one!("not {a:x}", a, f),
        }
        Outcome {
            result: a as u16 & w.mask(),
            high: 0,
            flags: flags_out(f),
        }
    }

    macro_rules! acc {
        ($op:literal, $ax:ident, $dx:ident, $s:ident, $f:ident) => {
            // SAFETY: as for `two!`; RAX and RDX are the implicit operands.
            // Callers rule out divide errors before getting here.
            unsafe {
                asm!(
                    "push {f}",
                    "popfq",
                    $op,
                    "pushfq",
                    "pop {f}",
                    s = in(reg) $s,
                    f = inout(reg) $f,
                    inout("rax") $ax,
                    inout("rdx") $dx,
                )
            }
        };
    }

    /// True if the division would raise a divide error on the host (a zero
    /// divisor or a quotient out of range).
    pub fn divide_error(op: MulDiv, w: Width, ax: u16, dx: u16, src: u16) -> bool {
        match (op, w) {
            (MulDiv::Div, Width::Byte) => {
                let d = src & 0xFF;
                d == 0 || ax / d > 0xFF
            }
            (MulDiv::Div, Width::Word) => {
                let n = ((dx as u32) << 16) | ax as u32;
                src == 0 || n / src as u32 > 0xFFFF
            }
            (MulDiv::Idiv, Width::Byte) => {
                let d = src as u8 as i8 as i32;
                d == 0 || !(-128..=127).contains(&(ax as i16 as i32 / d))
            }
            (MulDiv::Idiv, Width::Word) => {
                let n = (((dx as u32) << 16) | ax as u32) as i32 as i64;
                let d = src as i16 as i64;
                d == 0 || !(-32768..=32767).contains(&(n / d))
            }
            _ => false,
        }
    }

    /// MUL/IMUL/DIV/IDIV of AL/AX (DX:AX for words) by `src`. `None` when the
    /// host would raise a divide error (the instruction is not run).
    pub fn muldiv(op: MulDiv, w: Width, ax: u16, dx: u16, src: u16, flags: u16) -> Option<Outcome> {
        if divide_error(op, w, ax, dx, src) {
            return None;
        }
        let mut a = ax as u64;
        let mut d = dx as u64;
        let s = src as u64;
        let mut f = rflags_in(flags);
        match (w, op) {
            (Width::Byte, MulDiv::Mul) => acc!("mul {s:l}", a, d, s, f),
            (Width::Byte, MulDiv::Imul) => acc!("imul {s:l}", a, d, s, f),
            (Width::Byte, MulDiv::Div) => acc!("div {s:l}", a, d, s, f),
            (Width::Byte, MulDiv::Idiv) => acc!("idiv {s:l}", a, d, s, f),
            (Width::Word, MulDiv::Mul) => acc!("mul {s:x}", a, d, s, f),
            (Width::Word, MulDiv::Imul) => acc!("imul {s:x}", a, d, s, f),
            (Width::Word, MulDiv::Div) => acc!("div {s:x}", a, d, s, f),
            (Width::Word, MulDiv::Idiv) => acc!("idiv {s:x}", a, d, s, f),
        }
        Some(Outcome {
            result: a as u16,
            high: if w == Width::Word { d as u16 } else { 0 },
            flags: flags_out(f),
        })
    }

    /// IMUL r16, r/m16, imm (80186+): the truncated product and flags.
    pub fn imul3(src: u16, imm: u16, flags: u16) -> Outcome {
        let mut a = src as u64;
        let b = imm as u64;
        let mut f = rflags_in(flags);
        two!("imul {a:x}, {b:x}", a, b, f);
        Outcome {
            result: a as u16,
            high: 0,
            flags: flags_out(f),
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use cpu::regs::{AF, CF, OF, PF, SF, ZF};

    #[test]
    fn known_values() {
        // 0xFF + 1 = 0 with carry, half-carry, zero, even parity.
        let o = alu(Alu::Add, Width::Byte, 0xFF, 1, 0);
        assert_eq!(
            o,
            Outcome {
                result: 0,
                high: 0,
                flags: CF | AF | ZF | PF
            }
        );
        // The carry in reaches ADC.
        assert_eq!(
            alu(Alu::Adc, Width::Word, 0x7FFF, 0, CF).flags & (OF | SF),
            OF | SF
        );
        assert_eq!(alu(Alu::Cmp, Width::Word, 5, 5, 0).result, 5);
        assert_eq!(
            shift(Shift::Rcl, Width::Byte, 0x80, 1, 0).flags & (CF | OF),
            CF | OF
        );
        assert_eq!(
            shift(Shift::Shl, Width::Word, 1, 33, 0).result,
            2,
            "count masked to 5 bits"
        );
        assert_eq!(
            unary(Unary::Neg, Width::Byte, 0x80, 0).flags & (OF | CF),
            OF | CF
        );
        // INC keeps CF.
        assert_eq!(
            unary(Unary::Inc, Width::Word, 0xFFFF, CF).flags & (CF | ZF),
            CF | ZF
        );
        let m = muldiv(MulDiv::Mul, Width::Word, 0x1234, 0, 0x100, 0).unwrap();
        assert_eq!(
            (m.result, m.high, m.flags & (CF | OF)),
            (0x3400, 0x0012, CF | OF)
        );
        let d = muldiv(MulDiv::Idiv, Width::Byte, (-7i16) as u16, 0, 2, 0).unwrap();
        assert_eq!(d.result, 0xFFFD, "AL = -3, AH = -1");
        assert_eq!(muldiv(MulDiv::Div, Width::Byte, 0x1000, 0, 0x10, 0), None);
        assert_eq!(muldiv(MulDiv::Idiv, Width::Word, 0, 0, 0, 0), None);
        assert_eq!(imul3(0x4000, 4, 0).flags & (CF | OF), CF | OF);
    }
}
