//! Arithmetic and flag computation shared by all instructions.

use crate::regs::{AF, CF, OF, PF, SF, ZF};

/// The six arithmetic flags.
pub(crate) const ARITH: u16 = OF | SF | ZF | AF | PF | CF;

#[inline]
pub(crate) fn mask(w: bool) -> u32 {
    if w {
        0xFFFF
    } else {
        0xFF
    }
}

#[inline]
pub(crate) fn sign(w: bool) -> u32 {
    if w {
        0x8000
    } else {
        0x80
    }
}

/// SF, ZF and PF of a result.
#[inline(always)]
pub(crate) fn szp(w: bool, r: u32) -> u16 {
    let r = r & mask(w);
    let mut f = 0;
    if r == 0 {
        f |= ZF;
    }
    if r & sign(w) != 0 {
        f |= SF;
    }
    f | PARITY[r as u8 as usize]
}

/// PF for each value of a result's low byte (set for an even number of ones).
static PARITY: [u16; 256] = {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        if (i as u8).count_ones() % 2 == 0 {
            t[i] = PF;
        }
        i += 1;
    }
    t
};

/// AF and OF of an addition `a + b (+ carry)` whose result is `r`.
#[inline(always)]
pub(crate) fn add_af_of(w: bool, a: u32, b: u32, r: u32) -> u16 {
    let mut f = 0;
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    if (a ^ r) & (b ^ r) & sign(w) != 0 {
        f |= OF;
    }
    f
}

/// AF and OF of a subtraction `a - b (- borrow)` whose result is `r`.
#[inline(always)]
pub(crate) fn sub_af_of(w: bool, a: u32, b: u32, r: u32) -> u16 {
    let mut f = 0;
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    if (a ^ b) & (a ^ r) & sign(w) != 0 {
        f |= OF;
    }
    f
}

/// `a + b + c` with all six flags.
#[inline(always)]
pub(crate) fn add(w: bool, a: u32, b: u32, c: u32) -> (u32, u16) {
    let full = a + b + c;
    let r = full & mask(w);
    let mut f = szp(w, r) | add_af_of(w, a, b, r);
    if full > mask(w) {
        f |= CF;
    }
    (r, f)
}

/// `a - b - c` with all six flags.
#[inline(always)]
pub(crate) fn sub(w: bool, a: u32, b: u32, c: u32) -> (u32, u16) {
    let r = a.wrapping_sub(b).wrapping_sub(c) & mask(w);
    let mut f = szp(w, r) | sub_af_of(w, a, b, r);
    if a < b + c {
        f |= CF;
    }
    (r, f)
}

/// Logical result: CF, OF and AF clear.
#[inline(always)]
pub(crate) fn logic(w: bool, r: u32) -> (u32, u16) {
    let r = r & mask(w);
    (r, szp(w, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_flags() {
        assert_eq!(add(false, 0xFF, 1, 0), (0, ZF | CF | AF | PF));
        assert_eq!(add(false, 0x7F, 1, 0).1 & OF, OF);
        assert_eq!(add(true, 0x7FFF, 1, 0).1 & (OF | SF), OF | SF);
        assert_eq!(add(true, 0xFFFF, 0, 1).0, 0);
    }

    #[test]
    fn sub_flags() {
        assert_eq!(sub(false, 0, 1, 0), (0xFF, SF | CF | AF | PF));
        assert_eq!(sub(false, 0x80, 1, 0).1 & OF, OF);
        assert_eq!(sub(true, 5, 5, 0).1, ZF | PF);
        assert_eq!(sub(true, 5, 4, 1).1 & ZF, ZF);
    }
}
