//! The x87 80-bit extended format and its arithmetic, written from the
//! Intel SDM volume 1 chapter 4 and 8 descriptions (no third-party code).
//!
//! Every operation is a pure function of its operands and the control word;
//! it returns the result and the status-word bits it raises (exception flags
//! in bits 0–5 and C1 = "rounded up"). The caller ([`super::Fpu`]) decides
//! what to store when an exception is unmasked.
//!
//! Internally a finite nonzero value is `sig / 2^127 * 2^(exp - 16383)` with
//! `sig: u128` normalised (bit 127 set); rounding happens once, in
//! `round_to`, at the precision-control (or memory-format) position.

use serde::{Deserialize, Serialize};

pub use fast::Deferred;

/// Invalid operation.
pub const IE: u16 = 0x0001;
/// Denormal operand.
pub const DE: u16 = 0x0002;
/// Zero divide.
pub const ZE: u16 = 0x0004;
/// Overflow.
pub const OE: u16 = 0x0008;
/// Underflow.
pub const UE: u16 = 0x0010;
/// Precision (inexact).
pub const PE: u16 = 0x0020;
/// Stack fault.
pub const SF: u16 = 0x0040;
/// Error summary.
pub const ES: u16 = 0x0080;
/// Condition code C0.
pub const C0: u16 = 0x0100;
/// Condition code C1 (rounded up; stack overflow).
pub const C1: u16 = 0x0200;
/// Condition code C2.
pub const C2: u16 = 0x0400;
/// Condition code C3.
pub const C3: u16 = 0x4000;
/// FPU busy (mirrors ES).
pub const BUSY: u16 = 0x8000;

const BIAS: i32 = 16383;
/// The exponent adjustment of a masked-off (unmasked) overflow or underflow.
const WRAP: i32 = 24576;

/// An 80-bit extended-precision value: sign and 15-bit exponent, 64-bit
/// significand with the explicit integer bit (bit 63).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct F80 {
    /// Sign (bit 15) and biased exponent (bits 0–14).
    pub se: u16,
    /// Significand, integer bit in bit 63.
    pub m: u64,
}

/// Rounding control (control word bits 10–11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    /// Round to nearest, ties to even.
    Nearest,
    /// Toward −∞.
    Down,
    /// Toward +∞.
    Up,
    /// Toward zero.
    Chop,
}

impl Rc {
    /// The rounding control of control word `cw`.
    pub fn of(cw: u16) -> Rc {
        match (cw >> 10) & 3 {
            0 => Rc::Nearest,
            1 => Rc::Down,
            2 => Rc::Up,
            _ => Rc::Chop,
        }
    }
}

/// Significand bits of the precision control of `cw` (bits 8–9; the
/// reserved value 1 behaves as 24 bits here, as documented as reserved).
pub fn pc_bits(cw: u16) -> u32 {
    match (cw >> 8) & 3 {
        2 => 53,
        3 => 64,
        _ => 24,
    }
}

/// What an operand is, in the x87's classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// ±0.
    Zero,
    /// Finite nonzero (normal, denormal or pseudo-denormal): `denormal` is
    /// true for exponent field 0.
    Finite {
        /// Exponent field was zero.
        denormal: bool,
    },
    /// ±∞.
    Inf,
    /// Quiet NaN.
    QNaN,
    /// Signalling NaN.
    SNaN,
    /// Pseudo-NaN, pseudo-infinity or unnormal: unsupported encodings.
    Unsupported,
}

/// A value in the form the arithmetic works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unp {
    pub sign: bool,
    /// Biased exponent of bit 127 of `sig`.
    pub exp: i32,
    /// Normalised significand (bit 127 set).
    pub sig: u128,
}

impl F80 {
    /// The default QNaN ("real indefinite").
    pub const INDEFINITE: F80 = F80 {
        se: 0xFFFF,
        m: 0xC000_0000_0000_0000,
    };
    /// +0.
    pub const ZERO: F80 = F80 { se: 0, m: 0 };
    /// +1.
    pub const ONE: F80 = F80 {
        se: 0x3FFF,
        m: 1 << 63,
    };

    /// From the 10 little-endian bytes of the memory format.
    pub fn from_bytes(b: [u8; 10]) -> F80 {
        let mut m = [0u8; 8];
        m.copy_from_slice(&b[..8]);
        F80 {
            m: u64::from_le_bytes(m),
            se: u16::from_le_bytes([b[8], b[9]]),
        }
    }

    /// The 10 little-endian bytes of the memory format.
    pub fn to_bytes(self) -> [u8; 10] {
        let mut b = [0u8; 10];
        b[..8].copy_from_slice(&self.m.to_le_bytes());
        b[8..].copy_from_slice(&self.se.to_le_bytes());
        b
    }

    /// Sign bit.
    pub fn sign(self) -> bool {
        self.se & 0x8000 != 0
    }

    /// Biased exponent field.
    pub fn exp(self) -> u16 {
        self.se & 0x7FFF
    }

    /// The value with its sign flipped.
    pub fn chs(self) -> F80 {
        F80 {
            se: self.se ^ 0x8000,
            m: self.m,
        }
    }

    /// The value with its sign cleared.
    pub fn abs(self) -> F80 {
        F80 {
            se: self.se & 0x7FFF,
            m: self.m,
        }
    }

    /// The value with sign `s`.
    pub fn with_sign(self, s: bool) -> F80 {
        F80 {
            se: (self.se & 0x7FFF) | if s { 0x8000 } else { 0 },
            m: self.m,
        }
    }

    /// Signed zero.
    pub fn zero(sign: bool) -> F80 {
        F80::ZERO.with_sign(sign)
    }

    /// Signed infinity.
    pub fn inf(sign: bool) -> F80 {
        F80 {
            se: 0x7FFF | if sign { 0x8000 } else { 0 },
            m: 1 << 63,
        }
    }

    /// The x87 classification of this encoding.
    pub fn class(self) -> Class {
        let e = self.exp();
        let j = self.m >> 63 != 0;
        if e == 0 {
            if self.m == 0 {
                Class::Zero
            } else {
                Class::Finite { denormal: true }
            }
        } else if e == 0x7FFF {
            if !j {
                Class::Unsupported
            } else if self.m << 1 == 0 {
                Class::Inf
            } else if self.m & (1 << 62) != 0 {
                Class::QNaN
            } else {
                Class::SNaN
            }
        } else if j {
            Class::Finite { denormal: false }
        } else {
            Class::Unsupported
        }
    }

    /// True for QNaN and SNaN.
    pub fn is_nan(self) -> bool {
        matches!(self.class(), Class::QNaN | Class::SNaN)
    }

    /// The NaN made quiet.
    pub fn quiet(self) -> F80 {
        F80 {
            se: self.se,
            m: self.m | (1 << 62),
        }
    }

    /// Unpacks a finite nonzero value (pseudo-denormals have the weight of
    /// exponent 1, like denormals).
    pub(crate) fn unpack(self) -> Unp {
        let e = self.exp().max(1) as i32;
        let lz = self.m.leading_zeros() as i32;
        Unp {
            sign: self.sign(),
            exp: e - lz,
            sig: ((self.m as u128) << 64) << lz,
        }
    }

    /// From a host `f64` (exact).
    pub fn from_f64(x: f64) -> F80 {
        from_binary(x.to_bits(), 52, 11)
    }

    /// From a host `f32` (exact).
    pub fn from_f32(x: f32) -> F80 {
        from_binary(x.to_bits() as u64, 23, 8)
    }

    /// To a host `f64`, rounded to nearest (for transcendental kernels and
    /// diagnostics only; exceptions are not reported).
    pub fn to_f64_lossy(self) -> f64 {
        let (bits, _) = to_binary(self, 52, 11, 0x0F7F);
        f64::from_bits(bits)
    }
}

/// Converts an IEEE binary format (`fb` fraction bits, `eb` exponent bits)
/// to extended, exactly. SNaNs stay signalling (the caller signals).
fn from_binary(bits: u64, fb: u32, eb: u32) -> F80 {
    let sign = (bits >> (fb + eb)) & 1 != 0;
    let emax = (1u64 << eb) - 1;
    let e = (bits >> fb) & emax;
    let f = bits & ((1u64 << fb) - 1);
    let bias = (emax >> 1) as i32;
    let s = if sign { 0x8000 } else { 0 };
    if e == emax {
        return F80 {
            se: 0x7FFF | s,
            m: (1 << 63) | (f << (63 - fb)),
        };
    }
    if e == 0 {
        if f == 0 {
            return F80::zero(sign);
        }
        let lz = f.leading_zeros() as i32;
        // value = f * 2^(1 - bias - fb); f normalised to bit 63.
        let exp = 1 - bias - fb as i32 + 63 - lz + BIAS;
        return F80 {
            se: exp as u16 | s,
            m: f << lz,
        };
    }
    F80 {
        se: (e as i32 - bias + BIAS) as u16 | s,
        m: (1 << 63) | (f << (63 - fb)),
    }
}

/// Rounds `sig >> shift` (shift ≥ 1) per `rc`: (kept, inexact, incremented).
fn rnd(sig: u128, shift: u32, sign: bool, rc: Rc) -> (u128, bool, bool) {
    let (kept, rest, half) = if shift >= 129 {
        (0, sig, 0u128)
    } else if shift == 128 {
        (0, sig, 1u128 << 127)
    } else {
        (
            sig >> shift,
            sig & ((1u128 << shift) - 1),
            1u128 << (shift - 1),
        )
    };
    let inexact = rest != 0;
    let inc = inexact
        && match rc {
            Rc::Nearest => {
                if shift >= 129 {
                    false
                } else {
                    rest > half || (rest == half && kept & 1 == 1)
                }
            }
            Rc::Chop => false,
            Rc::Down => sign,
            Rc::Up => !sign,
        };
    (kept + inc as u128, inexact, inc)
}

/// A destination format for `round_to`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fmt {
    /// Significand bits kept.
    pub prec: u32,
    /// Exponent bias.
    pub bias: i32,
    /// The all-ones exponent field.
    pub emax: i32,
    /// Register destination: unmasked overflow/underflow deliver the
    /// wrapped result (memory destinations store nothing).
    pub reg: bool,
}

/// Extended format at precision `prec`.
pub(crate) fn ext(prec: u32) -> Fmt {
    Fmt {
        prec,
        bias: BIAS,
        emax: 0x7FFF,
        reg: true,
    }
}

/// Result of a rounding: the field values (significand left-aligned at bit
/// 63, integer bit included) and the status bits raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rounded {
    pub sign: bool,
    /// Biased exponent field in the destination format.
    pub e: i32,
    /// Significand left-aligned to bit 63 (bit 63 = integer bit).
    pub m: u64,
    /// Status bits: exception flags and C1.
    pub st: u16,
}

/// True: underflow tininess is detected after rounding (with unbounded
/// exponent), as the SDM describes for the x87.
const TINY_AFTER: bool = true;

/// Rounds a finite nonzero unpacked value to format `f` under control word
/// `cw` (rounding control and the UM/OM masks).
pub(crate) fn round_to(u: Unp, f: Fmt, cw: u16) -> Rounded {
    let rc = Rc::of(cw);
    let sign = u.sign;
    let mut e = u.exp - BIAS + f.bias;
    let shift = 128 - f.prec;
    let (k, inexact, inc) = rnd(u.sig, shift, sign, rc);
    let mut k = k;
    let mut e_after = e;
    if k >> f.prec != 0 {
        k >>= 1;
        e_after += 1;
    }
    let tiny = if TINY_AFTER { e_after < 1 } else { e < 1 };
    let place = |k: u128| -> u64 { (k as u64) << (64 - f.prec) };
    if tiny {
        if cw & UE != 0 || !f.reg {
            if cw & UE == 0 {
                // Unmasked underflow to memory: nothing is stored.
                return Rounded {
                    sign,
                    e: 0,
                    m: 0,
                    st: UE,
                };
            }
            let extra = (1 - e) as u32;
            let (k2, inx2, inc2) = rnd(u.sig, shift.saturating_add(extra), sign, rc);
            let m = place(k2);
            let ef = if m >> 63 != 0 { 1 } else { 0 };
            let mut st = 0;
            if inx2 {
                st |= UE | PE;
            }
            if inc2 {
                st |= C1;
            }
            return Rounded { sign, e: ef, m, st };
        }
        e = e_after + WRAP;
        if e < 1 {
            // Too small even wrapped: a signed zero.
            return Rounded {
                sign,
                e: 0,
                m: 0,
                st: UE | PE,
            };
        }
        let mut st = UE;
        if inexact {
            st |= PE;
        }
        if inc {
            st |= C1;
        }
        return Rounded {
            sign,
            e,
            m: place(k),
            st,
        };
    }
    if e_after >= f.emax {
        if cw & OE != 0 || !f.reg {
            if cw & OE == 0 {
                return Rounded {
                    sign,
                    e: 0,
                    m: 0,
                    st: OE,
                };
            }
            let to_inf = match rc {
                Rc::Nearest => true,
                Rc::Chop => false,
                Rc::Up => !sign,
                Rc::Down => sign,
            };
            return if to_inf {
                Rounded {
                    sign,
                    e: f.emax,
                    m: 1 << 63,
                    st: OE | PE | C1,
                }
            } else {
                Rounded {
                    sign,
                    e: f.emax - 1,
                    m: place((1u128 << f.prec) - 1),
                    st: OE | PE,
                }
            };
        }
        if e_after - WRAP >= f.emax {
            // Too large even wrapped: a signed infinity, whatever the
            // rounding control.
            return Rounded {
                sign,
                e: f.emax,
                m: 1 << 63,
                st: OE | PE | C1,
            };
        }
        let mut st = OE;
        if inexact {
            st |= PE;
        }
        if inc {
            st |= C1;
        }
        return Rounded {
            sign,
            e: e_after - WRAP,
            m: place(k),
            st,
        };
    }
    let mut st = 0;
    if inexact {
        st |= PE;
    }
    if inc {
        st |= C1;
    }
    let _ = e;
    Rounded {
        sign,
        e: e_after,
        m: place(k),
        st,
    }
}

/// Rounds to an extended register value at precision `prec`.
pub(crate) fn round_ext(u: Unp, prec: u32, cw: u16) -> (F80, u16) {
    let r = round_to(u, ext(prec), cw);
    (
        F80 {
            se: (r.e as u16 & 0x7FFF) | if r.sign { 0x8000 } else { 0 },
            m: r.m,
        },
        r.st,
    )
}

/// Converts extended to an IEEE binary format (`fb` fraction bits, `eb`
/// exponent bits) as FST does: (bits, status). With an unmasked exception
/// that prevents the store, the returned bits are meaningless and the
/// caller checks the status.
pub(crate) fn to_binary(x: F80, fb: u32, eb: u32, cw: u16) -> (u64, u16) {
    let emax = (1i32 << eb) - 1;
    let sbit = (x.sign() as u64) << (fb + eb);
    match x.class() {
        Class::Zero => (sbit, 0),
        Class::Inf => (sbit | ((emax as u64) << fb), 0),
        Class::QNaN | Class::SNaN => {
            let st = if x.class() == Class::SNaN { IE } else { 0 };
            let f = (x.m << 1) >> (64 - fb);
            (sbit | ((emax as u64) << fb) | f | (1 << (fb - 1)), st)
        }
        Class::Unsupported => {
            // Indefinite in the destination format.
            let f = 1u64 << (fb - 1);
            ((1 << (fb + eb)) | ((emax as u64) << fb) | f, IE)
        }
        Class::Finite { .. } => {
            // Stores do not report denormal operands.
            let de = 0;
            let fmt = Fmt {
                prec: fb + 1,
                bias: emax >> 1,
                emax,
                reg: false,
            };
            let r = round_to(x.unpack(), fmt, cw);
            let frac = (r.m << 1) >> (64 - fb);
            (sbit | ((r.e as u64) << fb) | frac, r.st | de)
        }
    }
}

/// Status and result of a two-operand operation.
pub type Res = (F80, u16);

/// The NaN result of an operation with at least one NaN operand (the x87
/// rule: the quiet version of the NaN with the larger significand; an SNaN
/// operand raises IE).
pub(crate) fn nan_result(a: F80, b: F80) -> Res {
    let an = a.is_nan();
    let bn = b.is_nan();
    let st = if a.class() == Class::SNaN || b.class() == Class::SNaN {
        IE
    } else {
        0
    };
    let r = if an && bn {
        let (qa, qb) = (a.class() == Class::QNaN, b.class() == Class::QNaN);
        if qa != qb {
            if qa {
                a
            } else {
                b
            }
        } else {
            let (ma, mb) = (a.m & !(1 << 62), b.m & !(1 << 62));
            if ma > mb {
                a
            } else if mb > ma {
                b
            } else if !a.sign() {
                a
            } else {
                b
            }
        }
    } else if an {
        a
    } else {
        b
    };
    (r.quiet(), st)
}

/// Pre-checks shared by the two-operand operations: NaNs, unsupported
/// encodings and the denormal-operand flag. `Err` carries the final result.
fn pre2(a: F80, b: F80, cw: u16) -> Result<u16, Res> {
    pre2i(a, b, cw, false)
}

/// [`pre2`] for an operation that `invalid` already knows to be invalid:
/// the denormal operand is then not reported.
fn pre2i(a: F80, b: F80, cw: u16, invalid: bool) -> Result<u16, Res> {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return Err((F80::INDEFINITE, IE));
    }
    if a.is_nan() || b.is_nan() {
        return Err(nan_result(a, b));
    }
    let mut st = 0;
    if matches!(ca, Class::Finite { denormal: true })
        || matches!(cb, Class::Finite { denormal: true })
    {
        if invalid {
            return Err((F80::INDEFINITE, IE));
        }
        st |= DE;
        if cw & DE == 0 {
            // An unmasked denormal operand stops the operation.
            return Err((F80::INDEFINITE, DE));
        }
    }
    Ok(st)
}

/// Shifts right keeping a sticky bit in bit 0.
fn shr_sticky(x: u128, n: u32) -> u128 {
    if n == 0 {
        x
    } else if n >= 128 {
        (x != 0) as u128
    } else {
        (x >> n) | ((x & ((1u128 << n) - 1) != 0) as u128)
    }
}

/// Normalises a nonzero `sig` of weight `exp` (for bit 127) to bit 127.
fn norm(sign: bool, exp: i32, sig: u128) -> Unp {
    let lz = sig.leading_zeros() as i32;
    Unp {
        sign,
        exp: exp - lz,
        sig: sig << lz,
    }
}

/// a + b (FADD; FSUB is `add(a, b.chs())` with NaNs kept as they are).
pub fn add(a: F80, b: F80, cw: u16) -> Res {
    add_sub(a, b, false, cw)
}

/// a − b.
pub fn sub(a: F80, b: F80, cw: u16) -> Res {
    add_sub(a, b, true, cw)
}

fn add_sub(a: F80, b0: F80, negate: bool, cw: u16) -> Res {
    let op = if negate { fast::Op::Sub } else { fast::Op::Add };
    fast::op(a, b0, op, cw).unwrap_or_else(|| add_sub_soft(a, b0, negate, cw))
}

fn add_sub_soft(a: F80, b0: F80, negate: bool, cw: u16) -> Res {
    let mut st = match pre2(a, b0, cw) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let b = if negate { b0.chs() } else { b0 };
    let (ca, cb) = (a.class(), b.class());
    let rc = Rc::of(cw);
    match (ca, cb) {
        (Class::Inf, Class::Inf) => {
            if a.sign() != b.sign() {
                return (F80::INDEFINITE, st | IE);
            }
            return (a, st);
        }
        (Class::Inf, _) => return (a, st),
        (_, Class::Inf) => return (b, st),
        (Class::Zero, Class::Zero) => {
            let s = if a.sign() == b.sign() {
                a.sign()
            } else {
                rc == Rc::Down
            };
            return (F80::zero(s), st);
        }
        (Class::Zero, _) => return finish(b.unpack(), cw, st),
        (_, Class::Zero) => return finish(a.unpack(), cw, st),
        _ => {}
    }
    let (x, y) = (a.unpack(), b.unpack());
    let (x, y) = if x.exp > y.exp || (x.exp == y.exp && x.sig >= y.sig) {
        (x, y)
    } else {
        (y, x)
    };
    // One bit of headroom for the carry.
    let xs = x.sig >> 1;
    let ys = shr_sticky(y.sig >> 1, (x.exp - y.exp) as u32);
    if x.sign == y.sign {
        let s = xs + ys;
        return finish(norm(x.sign, x.exp + 1, s), cw, st);
    }
    let d = xs - ys;
    if d == 0 {
        st |= 0;
        return (F80::zero(rc == Rc::Down), st);
    }
    finish(norm(x.sign, x.exp + 1, d), cw, st)
}

/// The double-precision fast path alone for [`super::Fpu`]'s register
/// forms: `code` 0 a+b, 1 a×b, 4 a−b, 5 b−a, 6 a÷b, 7 b÷a; None where the
/// soft-float must decide (then [`add`], [`mul`], [`sub`], [`div`] would
/// give the answer).
#[inline]
pub(crate) fn fast_arith(code: u8, a: F80, b: F80, cw: u16) -> Option<Res> {
    match code {
        0 => fast::op(a, b, fast::Op::Add, cw),
        1 => fast::op(a, b, fast::Op::Mul, cw),
        4 => fast::op(a, b, fast::Op::Sub, cw),
        5 => fast::op(b, a, fast::Op::Sub, cw),
        6 => fast::op(a, b, fast::Op::Div, cw),
        _ => fast::op(b, a, fast::Op::Div, cw),
    }
}

/// [`fast_arith`] without its status, on operands already known to be
/// the fast path's doubles (zeros or normals within 2^±960, as [`fast_f64`] gives
/// them or an operand the caller checked the same way): the rounded
/// result as a double of the same kind, and its [`Deferred`] status. The
/// x87's register file keeps such results as doubles (`Fpu::dv`).
#[inline(always)]
pub(crate) fn fast_value_f64(code: u8, x: f64, y: f64, cw: u16) -> Option<(f64, Deferred)> {
    match code {
        0 => fast::value_f64(x, y, fast::Op::Add, cw),
        1 => fast::value_f64(x, y, fast::Op::Mul, cw),
        4 => fast::value_f64(x, y, fast::Op::Sub, cw),
        5 => fast::value_f64(y, x, fast::Op::Sub, cw),
        6 => fast::value_f64(x, y, fast::Op::Div, cw),
        _ => fast::value_f64(y, x, fast::Op::Div, cw),
    }
}

/// A double of the fast path's kind (a zero or a normal double) in the
/// 80-bit format: exact, two shifts and an add.
#[inline(always)]
pub(crate) fn of_fast_f64(r: f64) -> F80 {
    let bits = r.to_bits();
    if bits << 1 == 0 {
        return F80::zero(r.is_sign_negative());
    }
    let e = ((bits >> 52) & 0x7FF) as u16;
    F80 {
        se: ((bits >> 48) as u16 & 0x8000) | (e + (16383 - 1023)),
        m: (1 << 63) | (bits << 11),
    }
}

/// The bits of an IEEE double as a double of the fast path's kind (a zero,
/// or a normal number within 2^±960), if it is one.
#[inline(always)]
pub(crate) fn fast_of_bits(bits: u64) -> Option<f64> {
    let e = (bits >> 52) & 0x7FF;
    // Biased exponents 1023 − 960 … 1023 + 960, or a zero.
    if e.wrapping_sub(1023 - 960) <= 2 * 960 || bits << 1 == 0 {
        Some(f64::from_bits(bits))
    } else {
        None
    }
}

/// The exact double a register holds, when it is a normal double of the
/// fast path's range (the x87's register forms compare through it).
#[inline]
pub(crate) fn fast_f64(x: F80) -> Option<f64> {
    fast::exact_f64(x)
}

/// Rounds at the precision control and merges the status bits.
fn finish(u: Unp, cw: u16, st: u16) -> Res {
    let (r, s) = round_ext(u, pc_bits(cw), cw);
    (r, s | st)
}

/// a × b.
pub fn mul(a: F80, b: F80, cw: u16) -> Res {
    fast::op(a, b, fast::Op::Mul, cw).unwrap_or_else(|| mul_soft(a, b, cw))
}

fn mul_soft(a: F80, b: F80, cw: u16) -> Res {
    let st = match pre2(a, b, cw) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let sign = a.sign() != b.sign();
    match (a.class(), b.class()) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => return (F80::INDEFINITE, st | IE),
        (Class::Inf, _) | (_, Class::Inf) => return (F80::inf(sign), st),
        (Class::Zero, _) | (_, Class::Zero) => return (F80::zero(sign), st),
        _ => {}
    }
    let (x, y) = (a.unpack(), b.unpack());
    let p = (x.sig >> 64) * (y.sig >> 64);
    finish(norm(sign, x.exp + y.exp - BIAS + 1, p), cw, st)
}

/// a ÷ b.
pub fn div(a: F80, b: F80, cw: u16) -> Res {
    fast::op(a, b, fast::Op::Div, cw).unwrap_or_else(|| div_soft(a, b, cw))
}

fn div_soft(a: F80, b: F80, cw: u16) -> Res {
    if b.class() == Class::Zero && matches!(a.class(), Class::Finite { .. }) {
        // Division by zero is found before a denormal dividend.
        return (F80::inf(a.sign() != b.sign()), ZE);
    }
    let mut st = match pre2(a, b, cw) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let sign = a.sign() != b.sign();
    match (a.class(), b.class()) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => return (F80::INDEFINITE, st | IE),
        (Class::Inf, _) => return (F80::inf(sign), st),
        (_, Class::Inf) => return (F80::zero(sign), st),
        (Class::Zero, _) => return (F80::zero(sign), st),
        (_, Class::Zero) => {
            st |= ZE;
            return (F80::inf(sign), st);
        }
        _ => {}
    }
    let (x, y) = (a.unpack(), b.unpack());
    let (xa, yb) = ((x.sig >> 64), (y.sig >> 64));
    let n = xa << 64;
    let q1 = n / yb;
    let r1 = n % yb;
    let n2 = r1 << 64;
    let q2 = n2 / yb;
    let r2 = n2 % yb;
    // q1 < 2^65: the quotient's top 127 bits and a sticky bit.
    let q = (q1 << 62) | (q2 >> 2) | ((q2 & 3 != 0 || r2 != 0) as u128);
    // q1 * 2^-64 is x/y's significand ratio; bit 126 of q has weight 2^0.
    finish(norm(sign, x.exp - y.exp + BIAS + 1, q), cw, st)
}

/// Integer square root of a u128 (floor).
fn isqrt(m: u128) -> u128 {
    if m == 0 {
        return 0;
    }
    // Newton's iteration from above converges monotonically to the floor.
    let mut r: u128 = 1u128 << ((128 - m.leading_zeros()).div_ceil(2));
    loop {
        let next = (r + m / r) >> 1;
        if next >= r {
            break;
        }
        r = next;
    }
    r
}

/// √a.
pub fn sqrt(a: F80, cw: u16) -> Res {
    match a.class() {
        Class::Unsupported => (F80::INDEFINITE, IE),
        Class::QNaN | Class::SNaN => nan_result(a, a),
        Class::Zero => (a, 0),
        Class::Inf => {
            if a.sign() {
                (F80::INDEFINITE, IE)
            } else {
                (a, 0)
            }
        }
        Class::Finite { denormal } => {
            let st = if denormal { DE } else { 0 };
            if a.sign() {
                return (F80::INDEFINITE, st | IE);
            }
            let x = a.unpack();
            let m64 = x.sig >> 64;
            // value = m64 * 2^(e - 63), e unbiased; make the exponent even.
            let e = x.exp - BIAS;
            let (m, half_e) = if e & 1 == 0 {
                (m64 << 63, e / 2)
            } else {
                (m64 << 64, (e - 1) / 2)
            };
            // sqrt(m) in [2^63, 2^64): value = sqrt(m) * 2^(half_e - 63).
            let r = isqrt(m);
            let rem = m - r * r;
            let guard = rem > r;
            let sticky = rem != 0;
            let sig = (r << 64) | ((guard as u128) << 63) | (sticky as u128);
            finish(norm(false, half_e + BIAS, sig), cw, st)
        }
    }
}

/// Comparison result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ord3 {
    /// a < b.
    Less,
    /// a = b.
    Equal,
    /// a > b.
    Greater,
    /// A NaN or unsupported operand.
    Unordered,
}

/// Compares; `quiet` is FUCOM's rule (QNaNs do not raise IE). Returns the
/// relation and the status flags (IE, DE).
pub fn compare(a: F80, b: F80, quiet: bool) -> (Ord3, u16) {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return (Ord3::Unordered, IE);
    }
    if a.is_nan() || b.is_nan() {
        let snan = ca == Class::SNaN || cb == Class::SNaN;
        return (Ord3::Unordered, if snan || !quiet { IE } else { 0 });
    }
    let mut st = 0;
    if matches!(ca, Class::Finite { denormal: true })
        || matches!(cb, Class::Finite { denormal: true })
    {
        st |= DE;
    }
    (cmp_num(a, b), st)
}

/// Orders two non-NaN values.
fn cmp_num(a: F80, b: F80) -> Ord3 {
    let key = |x: F80| -> (i32, i32, u128) {
        match x.class() {
            Class::Zero => (0, 0, 0),
            Class::Inf => (2, 0, 0),
            _ => {
                let u = x.unpack();
                (1, u.exp, u.sig)
            }
        }
    };
    let (ka, kb) = (key(a), key(b));
    let (za, zb) = (ka.0 == 0, kb.0 == 0);
    if za && zb {
        return Ord3::Equal;
    }
    let sa = if za { !b.sign() } else { a.sign() };
    let sb = if zb { !a.sign() } else { b.sign() };
    if sa != sb {
        return if sa { Ord3::Less } else { Ord3::Greater };
    }
    let mag = ka.cmp(&kb);
    use std::cmp::Ordering::*;
    let m = match mag {
        Less => Ord3::Less,
        Equal => Ord3::Equal,
        Greater => Ord3::Greater,
    };
    if sa {
        match m {
            Ord3::Less => Ord3::Greater,
            Ord3::Greater => Ord3::Less,
            o => o,
        }
    } else {
        m
    }
}

/// Rounds a finite value to an integer under `rc`: (sign, magnitude as
/// u128 or None if ≥ 2^127, inexact, incremented).
fn to_int_parts(x: F80, rc: Rc) -> (bool, Option<u128>, bool, bool) {
    let u = x.unpack();
    let e = u.exp - BIAS; // value = sig/2^127 * 2^e
    if e >= 127 {
        return (u.sign, None, false, false);
    }
    let shift = (127 - e) as u32;
    let (k, inx, inc) = rnd(u.sig, shift, u.sign, rc);
    (u.sign, Some(k), inx, inc)
}

/// FRNDINT.
pub fn round_int(a: F80, cw: u16) -> Res {
    match a.class() {
        Class::Unsupported => (F80::INDEFINITE, IE),
        Class::QNaN | Class::SNaN => nan_result(a, a),
        Class::Zero | Class::Inf => (a, 0),
        Class::Finite { denormal } => {
            let de = if denormal { DE } else { 0 };
            let u = a.unpack();
            if u.exp - BIAS >= 63 {
                return (a, de);
            }
            let (s, k, inx, inc) = to_int_parts(a, Rc::of(cw));
            let k = k.unwrap_or(0);
            let mut st = de;
            if inx {
                st |= PE;
            }
            if inc {
                st |= C1;
            }
            if k == 0 {
                return (F80::zero(s), st);
            }
            let (r, _) = round_ext(norm(s, BIAS + 127, k), 64, cw);
            (r, st)
        }
    }
}

/// FIST: converts to a signed integer of `bits` bits: (value, status). On
/// an invalid conversion the integer indefinite (most negative) is given.
pub fn to_int(a: F80, bits: u32, cw: u16) -> (i64, u16) {
    let indef = -(1i128 << (bits - 1));
    match a.class() {
        Class::Zero => (0, 0),
        Class::Finite { .. } => {
            let de = 0;
            let (s, k, inx, inc) = to_int_parts(a, Rc::of(cw));
            let lim = 1u128 << (bits - 1);
            match k {
                Some(k) if (s && k <= lim) || (!s && k < lim) => {
                    let v = if s { -(k as i128) } else { k as i128 };
                    let mut st = de;
                    if inx {
                        st |= PE;
                    }
                    if inc {
                        st |= C1;
                    }
                    (v as i64, st)
                }
                _ => (indef as i64, de | IE),
            }
        }
        _ => (indef as i64, IE),
    }
}

/// FILD: an integer to extended (exact).
pub fn from_int(v: i64) -> F80 {
    if v == 0 {
        return F80::ZERO;
    }
    let s = v < 0;
    let m = v.unsigned_abs();
    let lz = m.leading_zeros();
    F80 {
        se: (BIAS as u32 + 63 - lz) as u16 | if s { 0x8000 } else { 0 },
        m: m << lz,
    }
}

/// FBLD: packed BCD (18 digits, sign in byte 9 bit 7) to extended. Invalid
/// digits are taken at their binary weight (undefined by Intel).
pub fn from_bcd(b: [u8; 10]) -> F80 {
    let mut v: u64 = 0;
    for i in (0..9).rev() {
        v = v * 100 + ((b[i] >> 4) as u64) * 10 + (b[i] & 15) as u64;
    }
    let s = b[9] & 0x80 != 0;
    let r = from_int(v as i64);
    if v == 0 {
        F80::zero(s)
    } else {
        r.with_sign(s)
    }
}

/// FBSTP: extended to packed BCD: (bytes, status). Invalid (NaN, ∞, or
/// |x| ≥ 10^18 after rounding) gives the BCD indefinite.
pub fn to_bcd(a: F80, cw: u16) -> ([u8; 10], u16) {
    let indef = [0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF];
    let (s, k, st) = match a.class() {
        Class::Zero => (a.sign(), 0u128, 0),
        Class::Finite { .. } => {
            let de = 0;
            let (s, k, inx, inc) = to_int_parts(a, Rc::of(cw));
            match k {
                Some(k) if k < 1_000_000_000_000_000_000 => {
                    let mut st = de;
                    if inx {
                        st |= PE;
                    }
                    if inc {
                        st |= C1;
                    }
                    (s, k, st)
                }
                _ => return (indef, de | IE),
            }
        }
        _ => return (indef, IE),
    };
    let mut out = [0u8; 10];
    let mut v = k as u64;
    for o in out.iter_mut().take(9) {
        let lo = (v % 10) as u8;
        v /= 10;
        let hi = (v % 10) as u8;
        v /= 10;
        *o = (hi << 4) | lo;
    }
    out[9] = if s { 0x80 } else { 0 };
    (out, st)
}

/// Partial remainder. `nearest` selects FPREM1 (IEEE remainder) over FPREM
/// (truncating quotient). Returns the result, the status (exceptions and the
/// condition codes C0 C1 C2 C3), the caller merges C0–C3 into the status
/// word.
pub fn prem(a: F80, b: F80, nearest: bool, cw: u16) -> Res {
    let invalid = a.class() == Class::Inf || b.class() == Class::Zero;
    let st = match pre2i(a, b, cw, invalid) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match (a.class(), b.class()) {
        (Class::Inf, _) | (_, Class::Zero) => return (F80::INDEFINITE, st | IE),
        (Class::Zero, _) => return (a, st),
        (_, Class::Inf) => return finish_exact(a, st, cw),
        _ => {}
    }
    let (x, y) = (a.unpack(), b.unpack());
    let (xm, ym) = (x.sig >> 64, y.sig >> 64);
    let diff = x.exp - y.exp;
    if diff < -1 || (diff == -1 && !nearest) {
        return finish_exact(a, st, cw);
    }
    if diff >= 64 {
        // Partial: reduce the exponent difference to somewhere in 32..63.
        let n = prem_partial_n(diff);
        let d = diff - n;
        let sh = n as u32;
        let num = xm << sh;
        let q = num / ym;
        let r = num - q * ym;
        let mut out = st | C2;
        // Condition codes of a partial remainder are undefined by Intel;
        // the low quotient bits are still reported here.
        out |= qbits(q as u64);
        if r == 0 {
            return (F80::zero(x.sign), out);
        }
        // r has weight 2^(y.exp + d - 63 - 64) per unit... (see below)
        let u = norm(x.sign, y.exp + d, r << 64);
        let (res, s2) = round_ext(u, 64, cw);
        return (res, out | (s2 & !(C1 | PE)));
    }
    let (num, den, unit_exp) = if diff >= 0 {
        (xm << diff as u32, ym, y.exp)
    } else {
        (xm, ym << 1, x.exp)
    };
    let mut q = num / den;
    let mut r = num - q * den;
    let mut sign = x.sign;
    if nearest && r != 0 {
        let twice = r << 1;
        if twice > den || (twice == den && q & 1 == 1) {
            q += 1;
            r = den - r;
            sign = !sign;
        }
    }
    let out = st | qbits(q as u64);
    if r == 0 {
        return (F80::zero(x.sign), out);
    }
    // A unit of `r` has the weight of the smaller operand's last significand bit.
    let u = norm(sign, unit_exp, r << 64);
    let (res, s2) = round_ext(u, 64, cw);
    (res, out | (s2 & (UE | PE)))
}

/// The exponent reduction of a partial FPREM step (implementation
/// dependent between 32 and 63 per Intel; chosen to match the host).
fn prem_partial_n(diff: i32) -> i32 {
    32 + (diff - 64) % 32
}

/// C0 = Q2, C3 = Q1, C1 = Q0.
fn qbits(q: u64) -> u16 {
    let mut s = 0;
    if q & 4 != 0 {
        s |= C0;
    }
    if q & 2 != 0 {
        s |= C3;
    }
    if q & 1 != 0 {
        s |= C1;
    }
    s
}

/// The operand unchanged (denormals stay denormal), as FPREM gives when
/// |a| < |b|.
fn finish_exact(a: F80, st: u16, cw: u16) -> Res {
    // Exact, but re-packed: a pseudo-denormal comes out normalised, and a
    // denormal signals an unmasked underflow.
    let (r, s2) = round_ext(a.unpack(), 64, cw);
    (r, st | (s2 & UE))
}

/// FSCALE: a × 2^trunc(b).
pub fn scale(a: F80, b: F80, cw: u16) -> Res {
    let st = match pre2(a, b, cw) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match (a.class(), b.class()) {
        (Class::Zero, Class::Inf) if !b.sign() => return (F80::INDEFINITE, st | IE),
        (Class::Inf, Class::Inf) if b.sign() => return (F80::INDEFINITE, st | IE),
        (Class::Zero, _) | (Class::Inf, _) => return (a, st),
        (_, Class::Inf) => {
            return if b.sign() {
                (F80::zero(a.sign()), st)
            } else {
                (F80::inf(a.sign()), st)
            }
        }
        _ => {}
    }
    let n: i64 = match b.class() {
        Class::Zero => 0,
        _ => {
            let u = b.unpack();
            let e = u.exp - BIAS;
            if e < 0 {
                0
            } else if e >= 20 {
                if u.sign {
                    -100_000
                } else {
                    100_000
                }
            } else {
                let k = (u.sig >> (127 - e)) as i64;
                if u.sign {
                    -k
                } else {
                    k
                }
            }
        }
    };
    let x = a.unpack();
    let (r, s) = round_ext(
        Unp {
            exp: (x.exp as i64 + n) as i32,
            ..x
        },
        64,
        cw,
    );
    (r, s | st)
}

/// FXTRACT: (exponent, significand); for zero the exponent is −∞ and ZE is
/// raised.
pub fn xtract(a: F80) -> (F80, F80, u16) {
    match a.class() {
        Class::Unsupported => (F80::INDEFINITE, F80::INDEFINITE, IE),
        Class::QNaN | Class::SNaN => {
            let (n, s) = nan_result(a, a);
            (n, n, s)
        }
        Class::Zero => (F80::inf(true), a, ZE),
        Class::Inf => (F80::inf(false), a, 0),
        Class::Finite { denormal } => {
            let u = a.unpack();
            let e = from_int((u.exp - BIAS) as i64);
            let sig = F80 {
                se: 0x3FFF | if u.sign { 0x8000 } else { 0 },
                m: (u.sig >> 64) as u64,
            };
            (e, sig, if denormal { DE } else { 0 })
        }
    }
}

/// The on-chip constants (FLD1 … FLDZ) rounded per the rounding control;
/// `which` is the ModRM r/m of D9 E8..EE.
pub fn constant(which: u8, cw: u16) -> F80 {
    // (exponent, truncated significand, the bits after it are ≥ half,
    // nonzero bits after it)
    let (e, m, half, inexact) = match which {
        0 => (0x3FFF, 1u64 << 63, false, false),
        1 => (0x4000, 0xD49A_784B_CD1B_8AFE, false, true),
        2 => (0x3FFF, 0xB8AA_3B29_5C17_F0BB, true, true),
        3 => (0x4000, 0xC90F_DAA2_2168_C234, true, true),
        4 => (0x3FFD, 0x9A20_9A84_FBCF_F798, true, true),
        5 => (0x3FFE, 0xB172_17F7_D1CF_79AB, true, true),
        _ => return F80::ZERO,
    };
    let up = match Rc::of(cw) {
        Rc::Nearest => half,
        Rc::Up => inexact,
        _ => false,
    };
    F80 {
        se: e,
        m: m + up as u64,
    }
}

/// The double-precision fast path: with precision control 53 bits and
/// round to nearest, when both operands are normal values exactly
/// representable as doubles, the host's `f64` operation gives the x87's
/// result whenever that result is a normal double — rounding to 53 bits
/// with the extended exponent range and with the double's range only differ
/// when the double result would overflow or be subnormal, which is checked.
/// PE and C1 ("rounded up" in magnitude) come from the exact rounding
/// error: TwoSum for sums, a fused multiply-add for products and the
/// division remainder.
mod fast {
    use super::{C1, F80, PE};

    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(super) enum Op {
        Add,
        Sub,
        Mul,
        Div,
    }

    /// The operand as an exact double, if it is a zero or a normal
    /// extended value that is a normal double with at most 53 significant
    /// bits.
    #[inline(always)]
    pub(super) fn exact_f64(x: F80) -> Option<f64> {
        let e = x.exp() as i32 - 16383;
        // (Kept well inside the double range, so that rounding errors and
        // remainders are themselves normal doubles and nothing overflows.)
        if !(-960..=960).contains(&e) || x.m >> 63 == 0 || x.m & 0x7FF != 0 {
            // A true zero (not a denormal, pseudo-denormal or unnormal).
            if x.se & 0x7FFF == 0 && x.m == 0 {
                return Some(if x.sign() { -0.0 } else { 0.0 });
            }
            return None;
        }
        let bits = ((x.sign() as u64) << 63) | (((e + 1023) as u64) << 52) | ((x.m << 1) >> 12);
        Some(f64::from_bits(bits))
    }

    pub(super) fn op(a: F80, b: F80, op: Op, cw: u16) -> Option<(F80, u16)> {
        let (f, d) = value(a, b, op, cw)?;
        Some((f, d.status()))
    }

    /// The result alone, with what [`Deferred::status`] needs to work out
    /// PE and C1 later (the x87's lazy flags, `Fpu::fast_reg`).
    ///
    /// Zero operands are IEEE's as much as the x87's: x + (−x) is +0
    /// under round to nearest, products and quotients of zeros carry the
    /// sign rule, none of it inexact. A division by zero (ZE) and a zero
    /// result of nonzero factors (an underflow of the double range where
    /// the x87's range has room) are declined.
    #[inline(always)]
    pub(super) fn value(a: F80, b: F80, op: Op, cw: u16) -> Option<(F80, Deferred)> {
        let (x, y) = (exact_f64(a)?, exact_f64(b)?);
        let (r, d) = value_f64(x, y, op, cw)?;
        Some((super::of_fast_f64(r), d))
    }

    /// [`value`] on the operands as doubles (each a zero or a normal
    /// within 2^±960, as [`exact_f64`] gives them): the result is one too.
    #[inline(always)]
    pub(super) fn value_f64(x: f64, y: f64, op: Op, cw: u16) -> Option<(f64, Deferred)> {
        if cw & 0x0F00 != 0x0200 {
            return None;
        }
        if op == Op::Div && y == 0.0 {
            return None;
        }
        // A difference is the sum with the negated operand (exactly the
        // same rounding), so only three kinds need remembering.
        let (r, kind, y) = match op {
            Op::Add => (x + y, Deferred::ADD, y),
            Op::Sub => (x - y, Deferred::ADD, -y),
            Op::Mul => (x * y, Deferred::MUL, y),
            Op::Div => (x / y, Deferred::DIV, y),
        };
        // Far enough from the subnormal range that the rounding error of a
        // product or quotient is itself exact, and from overflow: a biased
        // exponent of 1023 − 960 … 1023 + 960, 2^-960 ≤ |r| < 2^961, the
        // range the registers hold as doubles (`exact_f64`, `fast_of_bits`;
        // NaN and infinity fail the test too). On the exponent's bits: a
        // shift and a compare, where the same test on |r| as a double took
        // two compares, their masks and a move back.
        let e = (r.to_bits() << 1) >> 53;
        if e.wrapping_sub(1023 - 960) > 2 * 960 {
            // Zero is exact for a sum, or for a product or quotient with a
            // zero operand (no division by zero reaches here).
            if r == 0.0 && (kind == Deferred::ADD || x == 0.0 || y == 0.0) {
                return Some((r, Deferred { kind, x, y, r }));
            }
            return None;
        }
        Some((r, Deferred { kind, x, y, r }))
    }

    /// The operands and the rounded result of a double operation of the
    /// fast path: enough to work out its PE and C1 whenever asked.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct Deferred {
        /// [`Deferred::NONE`], [`Deferred::ADD`], [`Deferred::MUL`] or
        /// [`Deferred::DIV`].
        pub kind: u8,
        /// First operand.
        pub x: f64,
        /// Second operand (negated for a difference).
        pub y: f64,
        /// The rounded result.
        pub r: f64,
    }

    impl Deferred {
        /// Nothing pending.
        pub const NONE: u8 = 0;
        /// x + y.
        pub const ADD: u8 = 1;
        /// x × y.
        pub const MUL: u8 = 2;
        /// x ÷ y.
        pub const DIV: u8 = 3;

        /// PE and C1 ("rounded up" in magnitude) of the operation, from its
        /// exact rounding error: TwoSum for sums, a fused multiply-add for
        /// products and the division remainder.
        pub fn status(&self) -> u16 {
            let (x, y, r) = (self.x, self.y, self.r);
            // err: the sign of (exact − rounded) scaled, zero when exact.
            let err = match self.kind {
                Deferred::ADD => {
                    let bv = r - x;
                    let av = r - bv;
                    (x - av) + (y - bv)
                }
                Deferred::MUL => x.mul_add(y, -r),
                // a − q·b has the sign of a/b − q times the sign of b.
                Deferred::DIV => (-r).mul_add(y, x) * y.signum(),
                _ => return 0,
            };
            let mut st = 0;
            if err != 0.0 {
                st |= PE;
                // Rounded up in magnitude: the rounded value lies beyond the
                // exact one.
                if (err < 0.0) == (r > 0.0) {
                    st |= C1;
                }
            }
            st
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with the soft-float on random doubles: same
    /// bits, same PE and C1 (this is the proof obligation of its comment,
    /// checked; the host test also covers it against a real x87).
    #[test]
    fn fast_path_matches_soft_float() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut taken = 0;
        for i in 0..200_000 {
            let exp = |r: u64| (0x3FFF - 1000 + (r % 2000)) as u16;
            let (ra, rb) = (next(), next());
            let a = F80 {
                se: exp(ra) | ((ra >> 48) as u16 & 0x8000),
                m: (next() | (1 << 63)) & !0x7FF,
            };
            // Close exponents half the time (cancellation, ties).
            let eb = if i % 2 == 0 {
                a.exp() + (rb % 8) as u16
            } else {
                exp(rb)
            };
            let b = F80 {
                se: eb | ((rb >> 32) as u16 & 0x8000),
                m: (next() | (1 << 63)) & !0x7FF,
            };
            for (k, op) in [fast::Op::Add, fast::Op::Sub, fast::Op::Mul, fast::Op::Div]
                .into_iter()
                .enumerate()
            {
                let Some(f) = fast::op(a, b, op, 0x027F) else {
                    continue;
                };
                taken += 1;
                let soft = match k {
                    0 => add_sub_soft(a, b, false, 0x027F),
                    1 => add_sub_soft(a, b, true, 0x027F),
                    2 => mul_soft(a, b, 0x027F),
                    _ => div_soft(a, b, 0x027F),
                };
                assert_eq!(f, soft, "op {k} a={a:?} b={b:?}");
            }
        }
        assert!(taken > 300_000, "fast path taken only {taken} times");
        // Zeros on either side (and x − x): the sign rules and exactness
        // of the soft-float, a division by zero left to it.
        let vals = [
            F80::zero(false),
            F80::zero(true),
            F80::from_f64(1.5),
            F80::from_f64(-3.25e-7),
            F80::from_f64(6.0e200),
        ];
        let mut zeros = 0;
        for a in vals {
            for b in vals {
                for (k, op) in [fast::Op::Add, fast::Op::Sub, fast::Op::Mul, fast::Op::Div]
                    .into_iter()
                    .enumerate()
                {
                    let soft = match k {
                        0 => add_sub_soft(a, b, false, 0x027F),
                        1 => add_sub_soft(a, b, true, 0x027F),
                        2 => mul_soft(a, b, 0x027F),
                        _ => div_soft(a, b, 0x027F),
                    };
                    match fast::op(a, b, op, 0x027F) {
                        Some(f) => {
                            assert_eq!(f, soft, "op {k} a={a:?} b={b:?}");
                            zeros += (f.0.m == 0) as u32;
                        }
                        // Only a division by zero, or a result out of the
                        // double range of nonzero operands.
                        None => assert!(
                            (k == 3 && b.m == 0) || (a.m != 0 && b.m != 0),
                            "declined op {k} {a:?} {b:?}"
                        ),
                    }
                }
            }
        }
        assert!(zeros >= 20, "{zeros} zero results");
    }
}
