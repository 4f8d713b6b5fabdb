//! Lazy arithmetic flags (issues 14 and 17).
//!
//! The hot flag producers (the ALU, INC and DEC forms) do not compute the
//! six status flags: they record what they did ([`Lazy`]: the operation,
//! its width, its operands and its result) and the flags are worked out
//! only when something reads them. Most results are never read (the next
//! ALU operation overwrites them), and the common readers, Jcc and SETcc
//! after CMP/SUB/TEST/AND/DEC, test ZF, SF, CF or a signed comparison,
//! which come straight from the record without the whole word.
//!
//! The record's values are *left-aligned*: shifted so that the operand's
//! top bit is bit 31 (by 24 for bytes, 16 for words). Then one unsigned
//! 32-bit comparison of the first operand and the result gives the carry
//! at every width, `r == 0` is ZF and bit 31 of `r` is SF.
//!
//! A record holds only what the flags cannot be worked out without (the
//! producers store nothing else, branch `ia32alu`): the result alone for a
//! logical operation; the first operand and the result for ADD, ADC, SUB,
//! SBB and CMP (the second operand is `r - a` or `a - r`, less the carry
//! for ADC/SBB); the result and the kept carry for INC and DEC (the operand
//! is `r ∓ 1`); the operand, the count (in `b`) and the result for the
//! 32-bit register shifts by a constant ([`SHL32`], [`SHR32`], [`SAR32`]:
//! CF and OF worked out only if read). The fields a record does not use
//! are stale.
//!
//! The rules that keep `Cpu32::eflags` coherent:
//! - Its system bits (TF, IF, DF, IOPL, NT, RF, VM, AC, ...) are always
//!   current; code that reads or writes only those may use the field.
//! - While a record is pending (`kind != NONE`) its six status bits are
//!   stale. Readers of status flags use [`Cpu32::flags_word`],
//!   [`Cpu32::cond`] or [`Cpu32::cf`]; code that writes some status bits
//!   directly calls [`Cpu32::flags_sync`] first (or `set_flags`, which
//!   does); a write of the whole register (`load_eflags`, a state load)
//!   drops the record.
//! - The general path (`exec_general`) and interrupt and exception
//!   delivery sync first, so everything below them (the x87's FCOMI, task
//!   switches, PUSHF) sees a plain EFLAGS. The restart snapshot does not:
//!   it carries the record (`Snapshot::lf`) and a restore puts it back, so
//!   the forms that take it (strings, group 3, the x87 form) use the
//!   accessors like any other form, and code that edits the snapshot's
//!   status bits drops its record.
//!
//! Materialising calls the same eager functions as before ([`add`],
//! [`sub`], [`szp`]) on the recorded operands, so every flag, the
//! undefined-by-Intel AF of logic operations included, is what the eager
//! code gave.

use super::width::*;
use super::Cpu32;

/// The record of the last lazy flag producer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Lazy {
    /// `class << 2 | width` (width 0: 8, 1: 16, 2: 32 bits); [`NONE`]: no
    /// record, EFLAGS' status bits are current.
    pub kind: u8,
    /// First operand, left-aligned ([`ADD`] to [`SBB1`]; stale for the
    /// others).
    pub a: u32,
    /// A shift record's count (stale for the others).
    pub b: u32,
    /// Result, left-aligned.
    pub r: u32,
    /// With [`OVR`] in `kind`: flags set since the record (BT, rotates),
    /// their mask in the upper half and their values in the lower.
    pub ov: u32,
    /// CF (0 or 1) whenever `kind` is not [`NONE`], an override's
    /// included: worked out when the record is made (a compare for a sum
    /// or a difference), since CF is what most readers want (INC/DEC keep
    /// it, ADC/SBB and JC/JNC read it), and out of a record each class
    /// needed its own formula behind a jump on the class.
    pub c: u8,
}

/// No record.
pub(crate) const NONE: u8 = 0;
/// `a + b`.
pub(crate) const ADD: u8 = 1;
/// `a + b + 1` (ADC with the carry set; with it clear ADC is [`ADD`]).
pub(crate) const ADC1: u8 = 2;
/// `a - b` (SUB, CMP).
pub(crate) const SUB: u8 = 3;
/// `a - b - 1` (SBB with the carry set).
pub(crate) const SBB1: u8 = 4;
/// A logical result (AND, OR, XOR, TEST): CF, OF and AF clear.
pub(crate) const LOGIC: u8 = 5;
/// `a + 1`, CF kept (in `b`).
pub(crate) const INC: u8 = 6;
/// `a - 1`, CF kept (in `b`).
pub(crate) const DEC: u8 = 7;

/// A 32-bit SHL of `a` by the count in `b` (1–31; [`Cpu32::set_lazy_shift`]):
/// CF is the last bit out, OF the result's top bit against it, SF, ZF and PF
/// the result's, AF clear. The shifts keep their operand and count rather
/// than work CF and OF out, which is most of their flags' cost and which
/// the next ALU operation usually overwrites unread.
pub(crate) const SHL32: u8 = 8;
/// A 32-bit SHR of `a` by `b` (1–31): CF the last bit out, OF `a`'s top bit.
pub(crate) const SHR32: u8 = 9;
/// A 32-bit SAR of `a` by `b` (1–31): CF the last bit out, OF clear.
pub(crate) const SAR32: u8 = 10;

/// A bit of [`Lazy::kind`]: CF or OF were set after the record
/// ([`Lazy::ov`]); the class is then `kind >> 2 & 7`.
pub(crate) const OVR: u8 = 0x80;

/// The width code of `W` in [`Lazy::kind`].
#[inline(always)]
pub(crate) const fn wcode<W: Width>() -> u8 {
    match W::BITS {
        8 => 0,
        16 => 1,
        _ => 2,
    }
}

/// How far `W`'s values are shifted to be left-aligned.
#[inline(always)]
pub(crate) const fn lsh<W: Width>() -> u32 {
    32 - W::BITS
}

/// The status flags a record stands for, at width `W`: the operands the
/// record does not keep are worked back from the result.
#[inline(always)]
fn status_w<W: Width>(class: u8, l: &Lazy) -> u32 {
    let s = lsh::<W>();
    let one = 1u32 << s;
    let (a, r) = (l.a, l.r);
    match class {
        ADD => add::<W>(a >> s, r.wrapping_sub(a) >> s, 0).1,
        ADC1 => add::<W>(a >> s, r.wrapping_sub(a).wrapping_sub(one) >> s, 1).1,
        SUB => sub::<W>(a >> s, a.wrapping_sub(r) >> s, 0).1,
        SBB1 => sub::<W>(a >> s, a.wrapping_sub(r).wrapping_sub(one) >> s, 1).1,
        LOGIC => szp::<W>(r >> s),
        INC => (add::<W>(r.wrapping_sub(one) >> s, 1, 0).1 & !CF) | l.c as u32,
        _ => (sub::<W>(r.wrapping_add(one) >> s, 1, 0).1 & !CF) | l.c as u32,
    }
}

/// The carry out of a 32-bit shift record's class `class` ([`SHL32`],
/// [`SHR32`], [`SAR32`]) of `a` by `cnt` (1–31).
#[inline(always)]
fn shift_cf(class: u8, a: u32, cnt: u32) -> bool {
    match class {
        SHL32 => (a >> (32u32.wrapping_sub(cnt) & 31)) & 1 != 0,
        SHR32 => (a >> (cnt.wrapping_sub(1) & 31)) & 1 != 0,
        _ => ((a as i32) >> (cnt.wrapping_sub(1) & 31)) & 1 != 0,
    }
}

/// The status flags of a pending record (`kind != NONE`).
#[inline(never)]
pub(crate) fn status(l: &Lazy) -> u32 {
    let class = l.kind >> 2 & 0x1F;
    let f = if class >= SHL32 {
        let c = shift_cf(class, l.a, l.b);
        let o = match class {
            SHL32 => (l.r >> 31 != 0) ^ c,
            SHR32 => l.a >> 31 != 0,
            _ => false,
        };
        szp::<W32>(l.r) | if c { CF } else { 0 } | if o { OF } else { 0 }
    } else {
        match l.kind & 3 {
            0 => status_w::<W8>(class, l),
            1 => status_w::<W16>(class, l),
            _ => status_w::<W32>(class, l),
        }
    };
    if l.kind & OVR != 0 {
        let m = l.ov >> 16;
        (f & !m) | (l.ov & m)
    } else {
        f
    }
}

/// The eight ALU operations (ModR/M reg order, 8: TEST) at width `W` on
/// `a` and `b`, with the carry `cf` for ADC/SBB: the result and the record.
#[inline(always)]
pub(crate) fn alu_lazy<W: Width>(aop: u8, a: u32, b: u32, cf: bool) -> (u32, Lazy) {
    let s = lsh::<W>();
    let (a, b) = (a << s, b << s);
    let one = 1u32 << s;
    let (class, r) = match aop {
        0 => (ADD, a.wrapping_add(b)),
        1 => (LOGIC, a | b),
        2 if cf => (ADC1, a.wrapping_add(b).wrapping_add(one)),
        2 => (ADD, a.wrapping_add(b)),
        3 if cf => (SBB1, a.wrapping_sub(b).wrapping_sub(one)),
        5 | 7 | 3 => (SUB, a.wrapping_sub(b)),
        6 => (LOGIC, a ^ b),
        _ => (LOGIC, a & b),
    };
    // The carry out: a sum wraps below its first operand (to or below it
    // with a carry in), a difference above it.
    let c = match class {
        ADD => r < a,
        ADC1 => r <= a,
        SUB => a < r,
        SBB1 => a <= r,
        _ => false,
    };
    let l = Lazy {
        kind: class << 2 | wcode::<W>(),
        a,
        b,
        r,
        ov: 0,
        c: c as u8,
    };
    (r >> s, l)
}

/// INC (`dec` false) or DEC of `a` at width `W`, keeping the carry `cf`.
#[inline(always)]
pub(crate) fn incdec_lazy<W: Width>(dec: bool, a: u32, cf: bool) -> (u32, Lazy) {
    let s = lsh::<W>();
    let a = a << s;
    let one = 1u32 << s;
    let (class, r) = if dec {
        (DEC, a.wrapping_sub(one))
    } else {
        (INC, a.wrapping_add(one))
    };
    let l = Lazy {
        kind: class << 2 | wcode::<W>(),
        a,
        b: 0,
        r,
        ov: 0,
        c: cf as u8,
    };
    (r >> s, l)
}

impl Cpu32 {
    /// EFLAGS with the status flags brought up to date (the register as
    /// the guest would see it).
    #[inline(always)]
    pub(crate) fn flags_word(&self) -> u32 {
        if self.lf.kind == NONE {
            self.eflags
        } else {
            (self.eflags & !STATUS) | status(&self.lf)
        }
    }

    /// Write the pending status flags into EFLAGS and drop the record:
    /// afterwards `self.eflags` is the whole register.
    #[inline(always)]
    pub(crate) fn flags_sync(&mut self) {
        if self.lf.kind != NONE {
            self.flags_sync_slow();
        }
    }

    #[inline(never)]
    fn flags_sync_slow(&mut self) {
        self.eflags = (self.eflags & !STATUS) | status(&self.lf);
        self.lf.kind = NONE;
    }

    /// The carry flag: the record's own ([`Lazy::c`]), or EFLAGS' without
    /// one.
    #[inline(always)]
    pub(crate) fn cf(&self) -> bool {
        let l = &self.lf;
        if l.kind == NONE {
            self.eflags & CF != 0
        } else {
            l.c != 0
        }
    }

    /// OF alone (the `OF` bit or 0): SAHF, which keeps only OF of the
    /// status flags. Off an INC or DEC record (a loop's counter, the usual
    /// record before an x87 compare's FNSTSW AX; SAHF) without working out
    /// the rest: the result left-aligned is the signed minimum (INC) or
    /// maximum (DEC) of its width; any other record through the flags word.
    #[inline(always)]
    pub(crate) fn of_flag(&self) -> u32 {
        let l = &self.lf;
        // (With `OVR` in `kind`, the class compares below fail.)
        if l.kind == NONE {
            self.eflags & OF
        } else if l.kind >> 2 == INC {
            if l.r == 1 << 31 {
                OF
            } else {
                0
            }
        } else if l.kind >> 2 == DEC {
            let s = match l.kind & 3 {
                0 => 24,
                1 => 16,
                _ => 0,
            };
            if l.r == (0x7FFF_FFFF >> s) << s {
                OF
            } else {
                0
            }
        } else {
            self.flags_word() & OF
        }
    }

    /// SAHF: SF, ZF, AF, PF and CF from AH, OF kept (worked out alone,
    /// [`Self::of_flag`]), the record dropped. One source for the general
    /// path and the decoded form (forms.rs `SAHF_F`).
    #[inline(always)]
    pub(crate) fn sahf(&mut self) {
        let v = (self.r[0] >> 8) & 0xD5;
        let of = self.of_flag();
        self.lf.kind = NONE;
        self.eflags = (self.eflags & !STATUS) | v | of;
    }

    /// Set the status flags in `mask` (CF and OF only) to `bits`, leaving
    /// the others: BT and the rotates, which on a pending record keep it
    /// rather than work it out.
    #[inline(always)]
    pub(crate) fn set_co(&mut self, mask: u32, bits: u32) {
        let l = &mut self.lf;
        if l.kind == NONE {
            self.eflags = (self.eflags & !mask) | (bits & mask);
            return;
        }
        let (om, ob) = if l.kind & OVR != 0 {
            (l.ov >> 16, l.ov & 0xFFFF)
        } else {
            (0, 0)
        };
        l.ov = (om | mask) << 16 | (ob & !mask) | (bits & mask);
        l.kind |= OVR;
        if mask & CF != 0 {
            l.c = (bits & CF) as u8;
        }
    }

    /// Condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc), from the
    /// record where it can be read off it, else from the flags word.
    #[inline(always)]
    pub(crate) fn cond(&self, cc: u8) -> bool {
        let l = &self.lf;
        let class = l.kind >> 2;
        // With `cc` a constant (`jcc_cond`) each condition is one test of
        // the class and its compare: ZF, SF and CF off any record, the
        // others off a difference (CMP, SUB: what Jcc, SETcc and CMOVcc
        // mostly follow). A `match` on the class there was a jump table of
        // seven host instructions before the compare.
        let r = match cc >> 1 {
            // ZF and SF are the result's at every class, CF its own.
            2 if class != NONE => l.r == 0,
            4 if class != NONE => (l.r as i32) < 0,
            1 if class != NONE => l.c != 0,
            3 if class != NONE => l.c != 0 || l.r == 0,
            // The signed order of the operands, the second worked back.
            6 if class == SUB => (l.a as i32) < (l.a.wrapping_sub(l.r) as i32),
            7 if class == SUB => (l.a as i32) <= (l.a.wrapping_sub(l.r) as i32),
            _ => self.cond_other(cc & !1),
        };
        r ^ (cc & 1 != 0)
    }

    /// [`Self::cond`] of an even `cc` past its tests on a difference (and
    /// of ZF and SF on any record).
    #[inline(always)]
    fn cond_other(&self, cc: u8) -> bool {
        let l = &self.lf;
        let class = l.kind >> 2;
        if class == NONE {
            word_cond(self.eflags, cc)
        } else {
            // ZF, SF and CF (cc 2, 4, 6, 8) never come here: `cond` takes
            // them off every record.
            match (cc >> 1, class) {
                // Logic: OF = 0, so L is SF (CF = 0 came from `cf` above).
                (0, LOGIC) => false,
                (6, LOGIC) => (l.r as i32) < 0,
                (7, LOGIC) => (l.r as i32) <= 0,
                _ => word_cond(self.flags_word(), cc),
            }
        }
    }

    /// Record a producer whose flags are those of a logical result `r`
    /// (width `W`: SF, ZF and PF of `r`, AF clear) with CF and OF set to
    /// `co`'s (`CF | OF` bits): SHL/SHR/SAR by a nonzero count and IMUL
    /// r, r/m, whose eager flags are exactly that. A [`LOGIC`] record
    /// reads only `r`, so `a` and `b` are left as they are.
    #[inline(always)]
    pub(crate) fn set_lazy_co<W: Width>(&mut self, r: u32, co: u32) {
        self.lf.kind = LOGIC << 2 | wcode::<W>() | OVR;
        self.lf.r = r << lsh::<W>();
        self.lf.ov = (CF | OF) << 16 | (co & (CF | OF));
        self.lf.c = (co & CF) as u8;
    }

    /// Record a 32-bit SHL, SHR or SAR (`class`: [`SHL32`], [`SHR32`],
    /// [`SAR32`]) of `a` by `cnt` (1–31) with result `r`.
    #[inline(always)]
    pub(crate) fn set_lazy_shift(&mut self, class: u8, a: u32, cnt: u32, r: u32) {
        self.lf.kind = class << 2 | wcode::<W32>();
        self.lf.a = a;
        self.lf.b = cnt;
        self.lf.r = r;
        self.lf.c = shift_cf(class, a, cnt) as u8;
    }

    /// Record a lazy flag producer: only the fields its class reads (the
    /// class is a constant in the forms, so the tests fold away).
    #[inline(always)]
    pub(crate) fn set_lazy(&mut self, l: Lazy) {
        // Field by field: `ov` means nothing without `OVR` in `kind`.
        let class = l.kind >> 2;
        self.lf.kind = l.kind;
        if class <= SBB1 {
            self.lf.a = l.a;
        }
        self.lf.r = l.r;
        self.lf.c = l.c;
    }
}

/// Condition `cc` of the flags word `f`.
#[inline(always)]
fn word_cond(f: u32, cc: u8) -> bool {
    let r = match cc >> 1 {
        0 => f & OF != 0,
        1 => f & CF != 0,
        2 => f & ZF != 0,
        3 => f & (CF | ZF) != 0,
        4 => f & SF != 0,
        5 => f & PF != 0,
        6 => (f & SF != 0) != (f & OF != 0),
        _ => f & ZF != 0 || ((f & SF != 0) != (f & OF != 0)),
    };
    r ^ (cc & 1 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ia32::Model32;

    /// A tiny deterministic generator (xorshift32).
    fn rng(seed: &mut u32) -> u32 {
        let mut x = *seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *seed = x;
        x
    }

    /// Operands that hit the edges (0, 1, the sign bit, all ones) often.
    fn operand(seed: &mut u32) -> u32 {
        match rng(seed) % 6 {
            0 => 0,
            1 => 1,
            2 => 0x7F | (rng(seed) & 0x8000_7F80),
            3 => 0xFFFF_FFFF,
            4 => 0x80 << (8 * (rng(seed) % 4)),
            _ => rng(seed),
        }
    }

    fn check_width<W: Width>(seed: &mut u32) {
        let mut c = Cpu32::new(Model32::I80486);
        for _ in 0..20_000 {
            let a = operand(seed) & W::MASK;
            let b = operand(seed) & W::MASK;
            let cf = rng(seed) & 1 != 0;
            let op = (rng(seed) % 10) as u8;
            // The eager reference, written before this module (width.rs).
            let (want_r, want_f, l) = if op < 9 {
                let (r, f) = if op == 8 {
                    logic::<W>(a & b)
                } else {
                    alu::<W>(op, a, b, cf)
                };
                let (lr, l) = alu_lazy::<W>(op, a, b, cf);
                assert_eq!(lr, r, "op {op} {a:#x} {b:#x} cf {cf}");
                (r, f, l)
            } else {
                let dec = b & 1 != 0;
                let (r, f) = if dec {
                    sub::<W>(a, 1, 0)
                } else {
                    add::<W>(a, 1, 0)
                };
                let f = (f & !CF) | cf as u32;
                let (lr, l) = incdec_lazy::<W>(dec, a, cf);
                assert_eq!(lr, r, "inc/dec {a:#x}");
                (r, f, l)
            };
            let _ = want_r;
            // At 32 bits, now and then a register shift by a constant
            // instead (its own record), against the eager `shift`.
            let (want_f, l) = if W::BITS == 32 && rng(seed) % 4 == 0 {
                let cnt = 1 + rng(seed) % 31;
                let (sop, class) = [(4, SHL32), (5, SHR32), (7, SAR32)][(rng(seed) % 3) as usize];
                let (r, f) = shift::<W32>(sop, a, cnt, rng(seed) & STATUS);
                let mut c2 = Cpu32::new(Model32::I80486);
                c2.set_lazy_shift(class, a, cnt, r);
                (f, c2.lf)
            } else {
                (want_f, l)
            };
            // Unrelated system bits stay as they were.
            let sys = 2 | (rng(seed) & (IF | DF | TF));
            c.load_eflags(sys | (rng(seed) & STATUS));
            // The fields a record does not keep hold whatever came before.
            c.lf.a = rng(seed);
            c.lf.b = rng(seed);
            c.lf.ov = rng(seed);
            if l.kind >> 2 >= SHL32 {
                c.lf = Lazy { ov: c.lf.ov, ..l };
            } else {
                c.set_lazy(l);
            }
            // Now and then a BT or rotate sets CF or OF after it (twice:
            // the second must keep what the first set outside its mask).
            let mut want_f = want_f;
            for _ in 0..rng(seed) % 3 {
                let mask = [CF, OF, CF | OF][(rng(seed) % 3) as usize];
                let bits = rng(seed) & (CF | OF);
                c.set_co(mask, bits);
                want_f = (want_f & !mask) | (bits & mask);
            }
            let word = c.flags_word();
            assert_eq!(
                word,
                sys | (want_f & STATUS),
                "op {op} {a:#x} {b:#x} cf {cf}"
            );
            assert_eq!(c.cf(), want_f & CF != 0, "CF op {op} {a:#x} {b:#x} cf {cf}");
            assert_eq!(c.of_flag(), want_f & OF, "OF op {op} {a:#x} {b:#x} cf {cf}");
            for cc in 0..16 {
                assert_eq!(
                    c.cond(cc),
                    word_cond(word, cc),
                    "cc {cc} op {op} {a:#x} {b:#x} cf {cf}"
                );
            }
            c.flags_sync();
            assert_eq!(c.eflags, word);
            assert_eq!(c.lf.kind, NONE);
        }
    }

    /// Every status flag, CF and condition read off a record equals the
    /// eager computation's, at every width.
    #[test]
    fn lazy_matches_eager() {
        let mut seed = 0x1234_5678;
        check_width::<W8>(&mut seed);
        check_width::<W16>(&mut seed);
        check_width::<W32>(&mut seed);
    }

    /// Conditions by hand: CMP 1, 2 (8-bit) is below and less; CMP 0x80, 1
    /// (8-bit: -128 against 1) is above but less, and overflows.
    #[test]
    fn cmp_conditions_by_hand() {
        let mut c = Cpu32::new(Model32::I80386);
        let (_, l) = alu_lazy::<W8>(7, 1, 2, false);
        c.set_lazy(l);
        assert!(c.cond(0x2)); // JB
        assert!(c.cond(0xC)); // JL
        assert!(!c.cond(0x4)); // JE
        let (_, l) = alu_lazy::<W8>(7, 0x80, 1, false);
        c.set_lazy(l);
        assert!(c.cond(0x7)); // JA
        assert!(c.cond(0xC)); // JL: SF (0) != OF (1)
        assert!(c.cond(0x0)); // JO
        assert_eq!(c.flags_word() & (OF | SF | CF | ZF), OF);
    }
}
