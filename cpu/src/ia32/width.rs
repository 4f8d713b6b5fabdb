//! Operand widths and the arithmetic written once for all of them.
//!
//! Values travel as `u32` masked to the width; the [`Width`] constants say
//! where the sign bit and the carry-out sit, so one function serves 8-, 16-
//! and 32-bit forms.

/// Carry flag.
pub const CF: u32 = 1 << 0;
/// Parity flag.
pub const PF: u32 = 1 << 2;
/// Auxiliary-carry flag.
pub const AF: u32 = 1 << 4;
/// Zero flag.
pub const ZF: u32 = 1 << 6;
/// Sign flag.
pub const SF: u32 = 1 << 7;
/// Trap flag.
pub const TF: u32 = 1 << 8;
/// Interrupt-enable flag.
pub const IF: u32 = 1 << 9;
/// Direction flag.
pub const DF: u32 = 1 << 10;
/// Overflow flag.
pub const OF: u32 = 1 << 11;
/// I/O privilege level (two bits).
pub const IOPL: u32 = 3 << 12;
/// Nested-task flag.
pub const NT: u32 = 1 << 14;
/// Resume flag.
pub const RF: u32 = 1 << 16;
/// Virtual-8086 mode.
pub const VM: u32 = 1 << 17;
/// Alignment check (486).
pub const AC: u32 = 1 << 18;
/// The six arithmetic status flags.
pub const STATUS: u32 = CF | PF | AF | ZF | SF | OF;

/// An operand width.
pub trait Width {
    /// Bits in the operand.
    const BITS: u32;
    /// All ones over the operand.
    const MASK: u32;
    /// The sign bit.
    const SIGN: u32 = 1 << (Self::BITS - 1);
}

/// 8-bit operands.
pub struct W8;
/// 16-bit operands.
pub struct W16;
/// 32-bit operands.
pub struct W32;
impl Width for W8 {
    const BITS: u32 = 8;
    const MASK: u32 = 0xFF;
}
impl Width for W16 {
    const BITS: u32 = 16;
    const MASK: u32 = 0xFFFF;
}
impl Width for W32 {
    const BITS: u32 = 32;
    const MASK: u32 = 0xFFFF_FFFF;
}

/// PF, ZF and SF of a result.
#[inline(always)]
pub fn szp<W: Width>(r: u32) -> u32 {
    let r = r & W::MASK;
    let mut f = 0;
    if (r as u8).count_ones() & 1 == 0 {
        f |= PF;
    }
    if r == 0 {
        f |= ZF;
    }
    if r & W::SIGN != 0 {
        f |= SF;
    }
    f
}

/// `a + b + c`: the result and its six status flags.
#[inline(always)]
pub fn add<W: Width>(a: u32, b: u32, c: u32) -> (u32, u32) {
    let wide = (a as u64) + (b as u64) + (c as u64);
    let r = (wide as u32) & W::MASK;
    let mut f = szp::<W>(r);
    if wide > W::MASK as u64 {
        f |= CF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    if (a ^ r) & (b ^ r) & W::SIGN != 0 {
        f |= OF;
    }
    (r, f)
}

/// `a - b - c`: the result and its six status flags.
#[inline(always)]
pub fn sub<W: Width>(a: u32, b: u32, c: u32) -> (u32, u32) {
    let r = a.wrapping_sub(b).wrapping_sub(c) & W::MASK;
    let mut f = szp::<W>(r);
    if (b as u64) + (c as u64) > a as u64 {
        f |= CF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    if (a ^ b) & (a ^ r) & W::SIGN != 0 {
        f |= OF;
    }
    (r, f)
}

/// The eight ALU operations of opcodes 00–3F and group 1, in ModR/M reg order.
#[inline(always)]
pub fn alu<W: Width>(op: u8, a: u32, b: u32, cf_in: bool) -> (u32, u32) {
    let c = cf_in as u32;
    match op & 7 {
        0 => add::<W>(a, b, 0),
        1 => logic::<W>(a | b),
        2 => add::<W>(a, b, c),
        3 => sub::<W>(a, b, c),
        4 => logic::<W>(a & b),
        5 | 7 => sub::<W>(a, b, 0),
        _ => logic::<W>(a ^ b),
    }
}

/// Flags of a logical result: CF, OF and AF clear.
#[inline(always)]
pub fn logic<W: Width>(r: u32) -> (u32, u32) {
    let r = r & W::MASK;
    (r, szp::<W>(r))
}

/// Sign-extend a value of width `W` to 32 bits.
#[inline]
pub fn sext<W: Width>(v: u32) -> u32 {
    let s = 32 - W::BITS;
    (((v << s) as i32) >> s) as u32
}

/// Shifts and rotates (group 2, ModR/M reg order). `count` is already
/// masked to five bits. Returns the result and the new flags (merged into
/// `flags`); a count of zero changes nothing.
#[inline(always)]
pub fn shift<W: Width>(op: u8, v: u32, count: u32, flags: u32) -> (u32, u32) {
    let v = v & W::MASK;
    if count == 0 {
        return (v, flags);
    }
    let cf_in = flags & CF != 0;
    let bits = W::BITS;
    let msb = |x: u32| x & W::SIGN != 0;
    let mut f = flags;
    let set = |f: &mut u32, bit: u32, on: bool| {
        if on {
            *f |= bit
        } else {
            *f &= !bit
        }
    };
    let r;
    match op & 7 {
        0 => {
            // ROL
            let n = count % bits;
            r = if n == 0 {
                v
            } else {
                ((v << n) | (v >> (bits - n))) & W::MASK
            };
            let c = r & 1 != 0;
            set(&mut f, CF, c);
            set(&mut f, OF, msb(r) ^ c);
        }
        1 => {
            // ROR
            let n = count % bits;
            r = if n == 0 {
                v
            } else {
                ((v >> n) | (v << (bits - n))) & W::MASK
            };
            set(&mut f, CF, msb(r));
            set(&mut f, OF, msb(r) ^ (r & (W::SIGN >> 1) != 0));
        }
        2 => {
            // RCL through carry: a (bits+1)-bit rotation.
            let n = count % (bits + 1);
            let mut x = v as u64 | ((cf_in as u64) << bits);
            let m = (1u64 << (bits + 1)) - 1;
            if n != 0 {
                x = ((x << n) | (x >> (bits + 1 - n))) & m;
            }
            r = (x as u32) & W::MASK;
            let c = (x >> bits) & 1 != 0;
            set(&mut f, CF, c);
            set(&mut f, OF, msb(r) ^ c);
        }
        3 => {
            // RCR
            let n = count % (bits + 1);
            let mut x = v as u64 | ((cf_in as u64) << bits);
            let m = (1u64 << (bits + 1)) - 1;
            if n != 0 {
                x = ((x >> n) | (x << (bits + 1 - n))) & m;
            }
            r = (x as u32) & W::MASK;
            let c = (x >> bits) & 1 != 0;
            set(&mut f, CF, c);
            set(&mut f, OF, msb(r) ^ (r & (W::SIGN >> 1) != 0));
        }
        4 | 6 => {
            // SHL/SAL
            let wide = (v as u64) << count;
            r = (wide as u32) & W::MASK;
            let c = count <= bits && (wide >> bits) & 1 != 0;
            f = (f & !STATUS) | szp::<W>(r);
            set(&mut f, CF, c);
            set(&mut f, OF, msb(r) ^ c);
        }
        5 => {
            // SHR
            r = if count >= bits { 0 } else { v >> count };
            let c = count <= bits && (v >> (count - 1)) & 1 != 0;
            f = (f & !STATUS) | szp::<W>(r);
            set(&mut f, CF, c);
            set(&mut f, OF, msb(v));
        }
        _ => {
            // SAR
            let s = sext::<W>(v) as i32;
            let n = count.min(31);
            r = ((s >> n) as u32) & W::MASK;
            let c = ((s >> (count.min(32) - 1).min(31)) & 1) != 0;
            f = (f & !STATUS) | szp::<W>(r);
            set(&mut f, CF, c);
            set(&mut f, OF, false);
        }
    }
    (r, f)
}

/// SHLD (`left`) or SHRD of `dst` with bits from `src`; `count` already
/// masked to five bits and nonzero. Returns the result and flags.
pub fn double_shift<W: Width>(
    left: bool,
    dst: u32,
    src: u32,
    count: u32,
    flags: u32,
) -> (u32, u32) {
    let bits = W::BITS;
    let (d, s) = (dst & W::MASK, src & W::MASK);
    let r;
    let c;
    if left {
        let wide = ((d as u64) << bits) | s as u64;
        let sh = wide << count;
        r = ((sh >> bits) as u32) & W::MASK;
        c = (wide >> (2 * bits - count)) & 1 != 0;
    } else {
        let wide = ((s as u64) << bits) | d as u64;
        r = ((wide >> count) as u32) & W::MASK;
        c = (wide >> (count - 1)) & 1 != 0;
    }
    let mut f = (flags & !STATUS) | szp::<W>(r);
    if c {
        f |= CF;
    }
    if (r ^ d) & W::SIGN != 0 {
        f |= OF;
    }
    (r, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_flags_by_hand() {
        // 0x7F + 1 overflows into the sign bit: OF, SF, AF set, no carry.
        let (r, f) = add::<W8>(0x7F, 1, 0);
        assert_eq!(r, 0x80);
        assert_eq!(f & (OF | SF | AF | CF | ZF), OF | SF | AF);
        // 0xFFFFFFFF + 1 wraps to zero with a carry.
        let (r, f) = add::<W32>(0xFFFF_FFFF, 1, 0);
        assert_eq!(r, 0);
        assert_eq!(f & (CF | ZF | OF), CF | ZF);
    }

    #[test]
    fn sub_borrow() {
        // 0 - 1 borrows: CF set, result all ones.
        let (r, f) = sub::<W16>(0, 1, 0);
        assert_eq!(r, 0xFFFF);
        assert_eq!(f & (CF | SF | OF), CF | SF);
    }

    #[test]
    fn rcl_wraps_through_carry() {
        // RCL of 0x80 by 1 with CF clear: the top bit moves into CF, result 0.
        let (r, f) = shift::<W8>(2, 0x80, 1, 0);
        assert_eq!(r, 0);
        assert_eq!(f & CF, CF);
        // By 9 on a byte is the identity (9-bit rotation).
        let (r, _) = shift::<W8>(2, 0x5A, 9, CF);
        assert_eq!(r, 0x5A);
    }

    #[test]
    fn shld_by_hand() {
        // SHLD 0x12345678, 0x9ABCDEF0, 8 → 0x3456789A.
        let (r, _) = double_shift::<W32>(true, 0x1234_5678, 0x9ABC_DEF0, 8, 0);
        assert_eq!(r, 0x3456_789A);
        // SHRD 0x12345678, 0x9ABCDEF0, 8 → 0xF0123456.
        let (r, _) = double_shift::<W32>(false, 0x1234_5678, 0x9ABC_DEF0, 8, 0);
        assert_eq!(r, 0xF012_3456);
    }
}
