//! Transcendental instructions (F2XM1, FYL2X, FYL2XP1, FSIN, FCOS, FSINCOS,
//! FPTAN, FPATAN).
//!
//! Each is evaluated in a 128-bit-significand working format (`W`,
//! truncating arithmetic, about 125 good bits) with argument reduction and
//! power series of my own, then rounded once to the 64-bit extended result
//! under the rounding control (precision control does not apply). The
//! answer is therefore within one ulp of the true value and almost always
//! the correctly rounded one; the host x87 is also within about one ulp, so
//! the two agree bit for bit in most but not all cases (the differential
//! test reports the rate).

use super::f80::{self, Class, Unp, C2, DE, F80, IE, PE, ZE};

const BIAS: i32 = 16383;

/// A working value: `m * 2^(e - 127)`, `m` normalised (bit 127 set) or 0.
#[derive(Clone, Copy, Debug)]
struct W {
    neg: bool,
    e: i32,
    m: u128,
}

const PI_M: u128 = 0xc90f_daa2_2168_c234_c4c6_628b_80dc_1cd1;
const LN2_M: u128 = 0xb172_17f7_d1cf_79ab_c9e3_b398_03f2_f6af;
const LOG2E_M: u128 = 0xb8aa_3b29_5c17_f0bb_be87_fed0_691d_3e88;

impl W {
    const ZERO: W = W {
        neg: false,
        e: 0,
        m: 0,
    };
    fn pi() -> W {
        W {
            neg: false,
            e: 1,
            m: PI_M,
        }
    }
    fn pi_2() -> W {
        W {
            neg: false,
            e: 0,
            m: PI_M,
        }
    }
    fn ln2() -> W {
        W {
            neg: false,
            e: -1,
            m: LN2_M,
        }
    }
    fn log2e() -> W {
        W {
            neg: false,
            e: 0,
            m: LOG2E_M,
        }
    }
    fn is_zero(self) -> bool {
        self.m == 0
    }
    fn norm(neg: bool, e: i32, m: u128) -> W {
        if m == 0 {
            return W::ZERO;
        }
        let lz = m.leading_zeros() as i32;
        W {
            neg,
            e: e - lz,
            m: m << lz,
        }
    }
    fn from_f80(x: F80) -> W {
        if x.class() == Class::Zero {
            return W {
                neg: x.sign(),
                ..W::ZERO
            };
        }
        let u = x.unpack();
        W {
            neg: u.sign,
            e: u.exp - BIAS,
            m: u.sig,
        }
    }
    fn int(k: i64) -> W {
        W::norm(k < 0, 127, k.unsigned_abs() as u128)
    }
    fn neg(self) -> W {
        W {
            neg: !self.neg,
            ..self
        }
    }
    fn abs(self) -> W {
        W { neg: false, ..self }
    }
    fn mul(self, o: W) -> W {
        if self.is_zero() || o.is_zero() {
            return W {
                neg: self.neg != o.neg,
                ..W::ZERO
            };
        }
        const M: u128 = u64::MAX as u128;
        let (a1, a0) = (self.m >> 64, self.m & M);
        let (b1, b0) = (o.m >> 64, o.m & M);
        let (hl, lh, ll) = (a1 * b0, a0 * b1, a0 * b0);
        let mid = (hl & M) + (lh & M) + (ll >> 64);
        let hi = a1 * b1 + (hl >> 64) + (lh >> 64) + (mid >> 64);
        let neg = self.neg != o.neg;
        // The discarded low half is kept as a sticky bit.
        let sticky = ((mid & M) << 64 | (ll & M)) != 0;
        if hi >> 127 != 0 {
            W {
                neg,
                e: self.e + o.e + 1,
                m: hi | sticky as u128,
            }
        } else {
            W {
                neg,
                e: self.e + o.e,
                m: (hi << 1) | ((mid >> 63) & 1) | sticky as u128,
            }
        }
    }
    fn add(self, o: W) -> W {
        if o.is_zero() {
            return self;
        }
        if self.is_zero() {
            return o;
        }
        let (a, b) = if (self.e, self.m) >= (o.e, o.m) {
            (self, o)
        } else {
            (o, self)
        };
        let d = (a.e - b.e) as u32;
        let (bm, lost) = if d >= 128 {
            (0, true)
        } else {
            (b.m >> d, d > 0 && b.m & ((1u128 << d) - 1) != 0)
        };
        // Bits shifted out count as one unit in the last place (a sticky
        // bit), so that an inexact result is never taken for an exact one.
        if a.neg == b.neg {
            let (s, c) = a.m.overflowing_add(bm);
            let s = s | lost as u128;
            if c {
                W {
                    neg: a.neg,
                    e: a.e + 1,
                    m: (s >> 1) | (1 << 127),
                }
            } else {
                W {
                    neg: a.neg,
                    e: a.e,
                    m: s,
                }
            }
        } else {
            W::norm(a.neg, a.e, a.m - bm - lost as u128)
        }
    }
    fn sub(self, o: W) -> W {
        self.add(o.neg())
    }
    fn div(self, o: W) -> W {
        let neg = self.neg != o.neg;
        if self.is_zero() || o.is_zero() {
            return W { neg, ..W::ZERO };
        }
        let mut e = self.e - o.e;
        let (mut r, mut carry) = (self.m, false);
        if r < o.m {
            carry = r >> 127 != 0;
            r <<= 1;
            e -= 1;
        }
        let mut q = 0u128;
        for i in (0..128).rev() {
            if carry || r >= o.m {
                q |= 1 << i;
                r = r.wrapping_sub(o.m);
            }
            carry = r >> 127 != 0;
            r <<= 1;
        }
        W {
            neg,
            e,
            m: q | (r != 0 || carry) as u128,
        }
    }
    /// Division by a small positive integer: two integer divisions instead
    /// of the bit-by-bit loop (series terms are divided this way).
    fn div_int(self, k: i64) -> W {
        let k = k as u128;
        if self.is_zero() || k == 0 || k >= 1 << 63 {
            return self.div(W::int(k as i64));
        }
        let q = self.m / k;
        let r = self.m % k;
        let lz = q.leading_zeros();
        // r < k < 2^63 and lz ≤ 64, so r << lz does not overflow.
        let wide = r << lz;
        let m = (q << lz) | (wide / k) | (wide % k != 0) as u128;
        W {
            neg: self.neg,
            e: self.e - lz as i32,
            m,
        }
    }
    fn scale(self, n: i32) -> W {
        W {
            e: self.e + n,
            ..self
        }
    }
    fn sqrt(self) -> W {
        if self.is_zero() {
            return self;
        }
        // From a double-precision estimate, two Newton steps (53 → 106 →
        // 128 bits).
        let f = self.to_f64().sqrt();
        let mut s = W::from_f80(F80::from_f64(f));
        for _ in 0..3 {
            s = s.add(self.div(s)).scale(-1);
        }
        s
    }
    fn to_f64(self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let v = (self.m >> 64) as f64 * 2f64.powi(self.e - 63);
        if self.neg {
            -v
        } else {
            v
        }
    }
    /// Rounds to extended (64 bits) under `cw`.
    fn round(self, cw: u16) -> (F80, u16) {
        if self.is_zero() {
            return (F80::zero(self.neg), 0);
        }
        f80::round_ext(
            Unp {
                sign: self.neg,
                exp: self.e + BIAS,
                sig: self.m,
            },
            64,
            cw,
        )
    }
}

/// Σ terms of a power series in `x2` starting from `t0`, where each term is
/// the previous times `x2 / f(k)` (`f` the running divisor), until a term
/// falls wholly below the sum's last bit: that term is added as a sticky
/// bit in its own direction and the (smaller, alternating or decreasing)
/// rest is dropped, so that a later sticky bit of the other sign cannot
/// cancel it.
fn series(t0: W, x2: W, mut next: impl FnMut(W, i64) -> W) -> W {
    let mut sum = t0;
    let mut t = t0;
    for k in 1..200 {
        t = next(t.mul(x2), k);
        if t.is_zero() {
            break;
        }
        sum = sum.add(t);
        if t.e <= sum.e - 128 {
            break;
        }
    }
    sum
}

/// sin r and cos r for |r| ≤ π/4.
fn sincos_kernel(r: W) -> (W, W) {
    let r2 = r.mul(r).neg();
    let s = series(r, r2, |t, k| t.div_int((2 * k) * (2 * k + 1)));
    let c = series(W::int(1), r2, |t, k| t.div_int((2 * k - 1) * (2 * k)));
    (s, c)
}

/// π/2 as the x87 reduces arguments with it: π rounded toward zero to 66
/// bits, as `P * 2^-67` (the host x87 agrees with this constant bit for
/// bit; a more exact π gives different answers for large arguments).
const PIO2_66: u128 = 0xC_90FD_AA22_168C_234C;

/// Reduces |x| (finite, < 2^63) modulo π/2 (the 66-bit π/2, exactly):
/// (quadrant mod 4, remainder in about [−π/4, π/4]).
fn reduce(x: F80) -> (u32, W) {
    let w = W::from_f80(x).abs();
    let pio2 = W::norm(false, 60, PIO2_66);
    if (w.e, w.m) < (pio2.e - 1, pio2.m) {
        return (0, w);
    }
    let u = x.unpack();
    let mx = u.sig >> 64;
    let ex = u.exp - BIAS;
    // Work in units of 2^-67 modulo 2^128: |x − kP| < 2^127 units, so the
    // wrapped difference is the exact remainder.
    let xu = mx.wrapping_shl((ex + 4) as u32);
    let est = w.div(pio2).to_f64().round();
    let mut k = est as u64 as u128;
    let rem = |k: u128| xu.wrapping_sub(k.wrapping_mul(PIO2_66)) as i128;
    let half = (PIO2_66 / 2) as i128;
    let mut r = rem(k);
    while r > half {
        k += 1;
        r = rem(k);
    }
    while r < -half {
        k -= 1;
        r = rem(k);
    }
    let rw = W::norm(r < 0, 60, r.unsigned_abs());
    ((k & 3) as u32, rw)
}

/// The first result of a one-operand instruction: NaNs, unsupported
/// encodings, infinities and denormal operands.
fn pre1(a: F80, cw: u16, inf_invalid: bool) -> Result<u16, (F80, u16)> {
    match a.class() {
        Class::Unsupported => Err((F80::INDEFINITE, IE)),
        Class::QNaN | Class::SNaN => Err(f80::nan_result(a, a)),
        Class::Inf if inf_invalid => Err((F80::INDEFINITE, IE)),
        Class::Finite { denormal: true } => {
            if cw & DE == 0 {
                Err((F80::INDEFINITE, DE))
            } else {
                Ok(DE)
            }
        }
        _ => Ok(0),
    }
}

/// |x| ≥ 2^63: the operand is out of range for FSIN/FCOS/FPTAN/FSINCOS.
fn out_of_range(a: F80) -> bool {
    matches!(a.class(), Class::Finite { .. }) && a.unpack().exp - BIAS >= 63
}

fn with(st: u16, r: (F80, u16)) -> (F80, u16) {
    (r.0, r.1 | st)
}

/// sin and cos of a finite in-range value.
fn sin_cos(a: F80) -> (W, W) {
    let (q, r) = reduce(a);
    let (s, c) = sincos_kernel(r);
    let (s, c) = match q {
        0 => (s, c),
        1 => (c, s.neg()),
        2 => (s.neg(), c.neg()),
        _ => (c.neg(), s),
    };
    if a.sign() {
        (s.neg(), c)
    } else {
        (s, c)
    }
}

/// FSIN (C2 in the status means "out of range, operand unchanged").
pub fn fsin(a: F80, cw: u16) -> (F80, u16) {
    let st = match pre1(a, cw, true) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if a.class() == Class::Zero {
        return (a, 0);
    }
    if out_of_range(a) {
        return (a, C2);
    }
    with(st, sin_cos(a).0.round(cw))
}

/// FCOS.
pub fn fcos(a: F80, cw: u16) -> (F80, u16) {
    let st = match pre1(a, cw, true) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if a.class() == Class::Zero {
        return (F80::ONE, 0);
    }
    if out_of_range(a) {
        return (a, C2);
    }
    with(st, sin_cos(a).1.round(cw))
}

/// FSINCOS: (sin → ST(0) replaced, cos → pushed) as (ST(1), ST(0)) after.
pub fn fsincos(a: F80, cw: u16) -> (F80, F80, u16) {
    let st = match pre1(a, cw, true) {
        Ok(s) => s,
        Err((r, s)) => return (r, r, s),
    };
    if a.class() == Class::Zero {
        return (a, F80::ONE, 0);
    }
    if out_of_range(a) {
        return (a, a, C2);
    }
    let (s, c) = sin_cos(a);
    let (rs, s1) = s.round(cw);
    let (rc, s2) = c.round(cw);
    // C1 follows the sine's rounding (as the host shows).
    (rs, rc, st | s1 | (s2 & !f80::C1))
}

/// FPTAN: (tan → ST(0) replaced, 1.0 pushed).
pub fn fptan(a: F80, cw: u16) -> (F80, F80, u16) {
    let st = match pre1(a, cw, true) {
        Ok(s) => s,
        Err((r, s)) => return (r, r, s),
    };
    if a.class() == Class::Zero {
        return (a, F80::ONE, 0);
    }
    if out_of_range(a) {
        return (a, a, C2);
    }
    let x = W::from_f80(a);
    let t = if x.e < -40 {
        // tan x = x + x³/3 + … lies above |x| by far less than an ulp; the
        // host answers as if it lay just *below* |x| (x, or x − 1 ulp when
        // rounding toward zero), and so does this.
        if a.exp() == 0 {
            // Denormals: the correctly rounded x + x³/3.
            x.add(x.mul(x).mul(x).div_int(3))
        } else {
            x.add(W {
                neg: !x.neg,
                e: x.e - 200,
                m: 1 << 127,
            })
        }
    } else {
        let (s, c) = sin_cos(a);
        s.div(c)
    };
    let (t, s1) = t.round(cw);
    (t, F80::ONE, st | s1)
}

/// F2XM1: 2^x − 1 (defined for −1 ≤ x ≤ 1).
pub fn f2xm1(a: F80, cw: u16) -> (F80, u16) {
    let st = match pre1(a, cw, false) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match a.class() {
        Class::Zero => return (a, 0),
        Class::Inf => {
            return if a.sign() {
                (F80::ONE.chs(), 0)
            } else {
                (a, 0)
            }
        }
        _ => {}
    }
    let x = W::from_f80(a);
    if x.e >= 0 && (x.e > 0 || x.m << 1 != 0) {
        // |x| > 1, outside the documented domain: the host leaves the
        // operand and reports an inexact result.
        return (a, st | PE);
    }
    if x.e == 0 && x.m << 1 == 0 {
        // x = ±1: the host's answer lies just below the exact 1 or −0.5
        // (it rounds to nearest as the exact value, but not upward).
        let tiny = W {
            neg: true,
            e: -200,
            m: 1 << 127,
        };
        let v = if x.neg {
            W::int(-1).scale(-1)
        } else {
            W::int(1)
        };
        return with(st, v.add(tiny).round(cw));
    }
    let y = x.mul(W::ln2());
    let e = series(y, y, |t, k| t.div_int(k + 1));
    with(st, e.round(cw))
}

/// 2·atanh(s) = ln((1+s)/(1−s)) for small |s|.
fn atanh2(s: W) -> W {
    odd_series(s, s.mul(s)).scale(1)
}

/// Σ x·q^k/(2k+1) for k ≥ 0 (atanh with q = x², atan with q = −x²): the
/// running power is kept apart from the divisor; stops once a term no
/// longer reaches the sum's working precision.
fn odd_series(x: W, q: W) -> W {
    let mut sum = x;
    let mut p = x;
    for k in 1..200 {
        p = p.mul(q);
        let t = p.div_int(2 * k + 1);
        if t.is_zero() {
            break;
        }
        sum = sum.add(t);
        if t.e <= sum.e - 128 {
            break;
        }
    }
    sum
}

/// log2 of a finite positive value.
fn log2w(x: F80) -> W {
    log2_of(W::from_f80(x))
}

/// log2 of a positive working value.
fn log2_of(x: W) -> W {
    let mut k = x.e;
    let mut m = W {
        neg: false,
        e: 0,
        m: x.m,
    };
    // m in [1, 2); bring it to [√½, √2).
    if x.m > 0xb504_f333_f9de_6484_597d_89b3_754a_be9f {
        m = m.scale(-1);
        k += 1;
    }
    let one = W::int(1);
    let s = m.sub(one).div(m.add(one));
    W::int(k as i64).add(atanh2(s).mul(W::log2e()))
}

/// FYL2X and FYL2XP1 report an inexact result even when it is exact (as
/// the host does); a denormal result then also underflows.
fn always_inexact(r: (F80, u16)) -> (F80, u16) {
    let (v, mut st) = r;
    if st & PE == 0 {
        st |= PE;
        if v.exp() == 0 && v.m != 0 {
            st |= f80::UE;
        }
    }
    (v, st)
}

/// FYL2X: ST(1) × log2(ST(0)); `a` = ST(0), `b` = ST(1).
pub fn fyl2x(a: F80, b: F80, cw: u16) -> (F80, u16) {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return (F80::INDEFINITE, IE);
    }
    if a.is_nan() || b.is_nan() {
        return f80::nan_result(a, b);
    }
    let de = (matches!(ca, Class::Finite { denormal: true })
        || matches!(cb, Class::Finite { denormal: true })) as u16
        * DE;
    if a.sign() && ca != Class::Zero {
        return (F80::INDEFINITE, IE);
    }
    if ca == Class::Zero && matches!(cb, Class::Finite { .. }) {
        // Zero divide is found before a denormal operand.
        return (F80::inf(!b.sign()), ZE);
    }
    if de != 0 && cw & DE == 0 {
        return (F80::INDEFINITE, DE);
    }
    let is_one = a == F80::ONE;
    match (ca, cb) {
        (Class::Zero, Class::Zero) => return (F80::INDEFINITE, IE),
        (Class::Zero, Class::Inf) => return (F80::inf(!b.sign()), de),
        (Class::Zero, _) => return (F80::inf(!b.sign()), de | ZE),
        (Class::Inf, Class::Zero) => return (F80::INDEFINITE, IE),
        (Class::Inf, _) => return (F80::inf(b.sign()), de),
        (_, Class::Inf) => {
            if is_one {
                return (F80::INDEFINITE, IE);
            }
            let pos = a.exp() >= 0x3FFF; // x > 1 (x = 1 handled)
            return (F80::inf(b.sign() == pos), de);
        }
        (_, Class::Zero) => {
            let neg_log = a.exp() < 0x3FFF;
            return (F80::zero(b.sign() != neg_log), de);
        }
        _ => {}
    }
    let l = log2w(a);
    if l.is_zero() {
        return (F80::zero(b.sign()), de);
    }
    with(de, always_inexact(l.mul(W::from_f80(b)).round(cw)))
}

/// FYL2XP1: ST(1) × log2(ST(0) + 1).
pub fn fyl2xp1(a: F80, b: F80, cw: u16) -> (F80, u16) {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return (F80::INDEFINITE, IE);
    }
    if a.is_nan() || b.is_nan() {
        return f80::nan_result(a, b);
    }
    let de = (matches!(ca, Class::Finite { denormal: true })
        || matches!(cb, Class::Finite { denormal: true })) as u16
        * DE;
    match (ca, cb) {
        (Class::Zero, Class::Inf) | (Class::Inf, Class::Zero) => return (F80::INDEFINITE, IE),
        _ => {}
    }
    if ca == Class::Inf && a.sign() {
        return (F80::INDEFINITE, IE);
    }
    if de != 0 && cw & DE == 0 {
        return (F80::INDEFINITE, DE);
    }
    match (ca, cb) {
        (Class::Zero, _) | (_, Class::Zero) => return (F80::zero(a.sign() != b.sign()), de),
        (_, Class::Inf) => return (F80::inf(a.sign() != b.sign()), de),
        (Class::Inf, _) => {
            if a.sign() {
                return (F80::INDEFINITE, IE);
            }
            return (F80::inf(b.sign()), de);
        }
        _ => {}
    }
    let x = W::from_f80(a);
    if x.e >= 0 && x.neg {
        // x ≤ −1: outside the domain; the host leaves the operand (as the
        // result) and reports an inexact result.
        return (a, de | PE);
    }
    let one = W::int(1);
    let l = if x.e >= -1 {
        // Outside the documented range: log2 of 1 + x computed directly.
        log2_of(x.add(one))
    } else {
        atanh2(x.div(x.add(one.scale(1)))).mul(W::log2e())
    };
    with(de, always_inexact(l.mul(W::from_f80(b)).round(cw)))
}

/// atan(t) for t ≥ 0.
fn atanw(t: W) -> W {
    let one = W::int(1);
    let (t, inv) = if (t.e, t.m) > (one.e, one.m) {
        (one.div(t), true)
    } else {
        (t, false)
    };
    // Two argument halvings: atan t = 2 atan(t / (1 + √(1 + t²))).
    let mut t = t;
    for _ in 0..2 {
        t = t.div(one.add(one.add(t.mul(t)).sqrt()));
    }
    let r = odd_series(t, t.mul(t).neg()).scale(2);
    if inv {
        W::pi_2().sub(r)
    } else {
        r
    }
}

/// FPATAN: atan2(ST(1), ST(0)); `a` = ST(0) (x), `b` = ST(1) (y).
pub fn fpatan(a: F80, b: F80, cw: u16) -> (F80, u16) {
    let (cx, cy) = (a.class(), b.class());
    if cx == Class::Unsupported || cy == Class::Unsupported {
        return (F80::INDEFINITE, IE);
    }
    if a.is_nan() || b.is_nan() {
        return f80::nan_result(a, b);
    }
    let de = (matches!(cx, Class::Finite { denormal: true })
        || matches!(cy, Class::Finite { denormal: true })) as u16
        * DE;
    if de != 0 && cw & DE == 0 {
        return (F80::INDEFINITE, DE);
    }
    let ys = b.sign();
    let xneg = a.sign();
    let signed = |w: W| if ys { w.neg() } else { w };
    let r = match (cx, cy) {
        (_, Class::Zero) => {
            if xneg {
                signed(W::pi())
            } else {
                return (F80::zero(ys), de);
            }
        }
        (Class::Zero, _) => signed(W::pi_2()),
        (Class::Inf, Class::Inf) => {
            let q = W::pi().scale(-2);
            signed(if xneg { W::pi().sub(q) } else { q })
        }
        (Class::Inf, _) => {
            if xneg {
                signed(W::pi())
            } else {
                return (F80::zero(ys), de);
            }
        }
        (_, Class::Inf) => signed(W::pi_2()),
        _ => {
            let t = W::from_f80(b).abs().div(W::from_f80(a).abs());
            let v = atanw(t);
            signed(if xneg { W::pi().sub(v) } else { v })
        }
    };
    with(de, r.round(cw))
}
