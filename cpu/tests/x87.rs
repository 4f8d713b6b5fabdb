//! Tests of the x87 (`cpu::x87`) with expected values worked out by hand
//! from the IEEE/Intel definitions (written next to each case), proptest
//! round-trips of every memory format, and FSAVE/FRSTOR, FSTENV/FLDENV and
//! FXSAVE/FXRSTOR round-trips. The bit-exact comparison with a real x87 is
//! harness/tests/x87_host.rs.

use cpu::x87::f80::{self, F80};
use cpu::x87::{nm_check, Fpu, FpuEnv, FpuMemory};
use proptest::prelude::*;

/// A flat memory for the FPU's operand.
struct Mem(Vec<u8>);

impl FpuMemory for Mem {
    type Fault = u8;
    fn read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), u8> {
        let o = off as usize;
        buf.copy_from_slice(self.0.get(o..o + buf.len()).ok_or(13u8)?);
        Ok(())
    }
    fn write(&mut self, off: u32, buf: &[u8]) -> Result<(), u8> {
        let o = off as usize;
        self.0
            .get_mut(o..o + buf.len())
            .ok_or(13u8)?
            .copy_from_slice(buf);
        Ok(())
    }
}

const ENV: FpuEnv = FpuEnv {
    op32: true,
    protected: true,
    fisttp: false,
    eflags: 2,
    cs: 0x08,
    ip: 0x1234,
    ds: 0x10,
    ea: 0x5678,
};

fn run(f: &mut Fpu, op: u8, modrm: u8, mem: &mut Vec<u8>) -> cpu::x87::FpuOutcome {
    let mut m = Mem(std::mem::take(mem));
    let r = f
        .execute(op, modrm, Some(&mut m), &ENV)
        .expect("x87 instruction failed");
    *mem = m.0;
    r
}

fn reg(f: &mut Fpu, op: u8, modrm: u8) -> cpu::x87::FpuOutcome {
    run(f, op, modrm, &mut Vec::new())
}

fn fld80(f: &mut Fpu, v: F80) {
    let mut m = v.to_bytes().to_vec();
    run(f, 0xDB, 0x28, &mut m);
}

fn fldcw(f: &mut Fpu, cw: u16) {
    let mut m = cw.to_le_bytes().to_vec();
    run(f, 0xD9, 0x28, &mut m);
}

const fn v(se: u16, m: u64) -> F80 {
    F80 { se, m }
}

const ONE: F80 = v(0x3FFF, 1 << 63);
const TWO: F80 = v(0x4000, 1 << 63);
const THREE: F80 = v(0x4000, 0xC000_0000_0000_0000);

/// 1 ÷ 3 in each precision and rounding: 1/3 = 0.010101…₂, so the
/// significand is 0xAAAA… with exponent 0x3FFD; the first dropped bit of a
/// 64- or 24-bit significand is 1 (round up to …AB), of a 53-bit one 0.
#[test]
fn one_third_in_every_precision() {
    let cases = [
        (0x037F, 0xAAAA_AAAA_AAAA_AAAB),
        (0x0F7F, 0xAAAA_AAAA_AAAA_AAAA),
        (0x027F, 0xAAAA_AAAA_AAAA_A800),
        (0x0A7F, 0xAAAA_AAAA_AAAA_B000),
        (0x007F, 0xAAAA_AB00_0000_0000),
        (0x0C7F, 0xAAAA_AA00_0000_0000),
    ];
    for (cw, m) in cases {
        let (r, st) = f80::div(ONE, THREE, cw);
        assert_eq!(r, v(0x3FFD, m), "cw={cw:04x}");
        assert_ne!(st & f80::PE, 0);
        // C1 says whether the magnitude was rounded up.
        assert_eq!(
            st & f80::C1 != 0,
            m & 0xFFF == 0xAAB || m & 0xFFFF == 0xB000 || m >> 32 == 0xAAAA_AB00
        );
    }
}

/// Precision control rounds the significand only: the exponent range stays
/// the extended one, so 2^-16000/3 is still a normal number at 24 bits.
#[test]
fn precision_control_keeps_the_extended_exponent() {
    let tiny = v(0x3FFF - 16000, 1 << 63);
    let (r, st) = f80::div(tiny, THREE, 0x007F);
    assert_eq!(r, v(0x3FFF - 16002, 0xAAAA_AB00_0000_0000));
    assert_eq!(st & (f80::UE | f80::OE), 0);
}

#[test]
fn basic_arithmetic() {
    assert_eq!(f80::add(ONE, ONE, 0x037F), (TWO, 0));
    assert_eq!(f80::sub(ONE, ONE, 0x037F), (F80::ZERO, 0));
    // x − x is −0 when rounding down (IEEE 754 §6.3).
    assert_eq!(f80::sub(ONE, ONE, 0x077F).0, F80::zero(true));
    assert_eq!(
        f80::mul(TWO, THREE, 0x037F).0,
        v(0x4001, 0xC000_0000_0000_0000)
    );
    // √2 = 1.0110101000001001111001100110011111110011101111001100100100001000
    // 01011001…₂ = 0xB504F333F9DE6484|597D…: the next bit is 0.
    assert_eq!(f80::sqrt(TWO, 0x037F).0, v(0x3FFF, 0xB504_F333_F9DE_6484));
    assert_eq!(f80::sqrt(TWO, 0x0B7F).0, v(0x3FFF, 0xB504_F333_F9DE_6485));
    // √−1 is invalid: the default NaN.
    assert_eq!(f80::sqrt(ONE.chs(), 0x037F), (F80::INDEFINITE, f80::IE));
    // ∞ − ∞ invalid, 1/0 zero divide.
    assert_eq!(
        f80::sub(F80::inf(false), F80::inf(false), 0x037F),
        (F80::INDEFINITE, f80::IE)
    );
    assert_eq!(f80::div(ONE, F80::ZERO, 0x037F), (F80::inf(false), f80::ZE));
}

#[test]
fn overflow_underflow_and_denormals() {
    let max = v(0x7FFE, u64::MAX);
    // Masked overflow: ∞ to nearest, the largest finite value when chopping.
    let (r, st) = f80::add(max, max, 0x037F);
    assert_eq!((r, st & 0x3F), (F80::inf(false), f80::OE | f80::PE));
    assert_eq!(f80::add(max, max, 0x0F7F).0, max);
    // Unmasked overflow: the result wrapped by 2^-24576.
    let (r, st) = f80::add(max, max, 0x0377);
    assert_eq!(r, v(0x7FFF - 24576, u64::MAX));
    assert_eq!(st & f80::OE, f80::OE);
    // The smallest normal halved is an exact denormal: no underflow flag
    // (masked underflow needs inexactness).
    let min = v(1, 1 << 63);
    assert_eq!(f80::div(min, TWO, 0x037F), (v(0, 1 << 62), 0));
    // A denormal operand is reported.
    assert_eq!(f80::add(v(0, 1), F80::ZERO, 0x037F), (v(0, 1), f80::DE));
    // Pseudo-denormals weigh as exponent 1: 0000:8000… equals the smallest normal.
    assert_eq!(
        f80::compare(v(0, 1 << 63), min, false),
        (f80::Ord3::Equal, f80::DE)
    );
    // Unnormals and pseudo-NaNs are unsupported: invalid.
    assert_eq!(
        f80::add(v(0x3FFF, 1 << 62), ONE, 0x037F),
        (F80::INDEFINITE, f80::IE)
    );
    assert_eq!(
        f80::add(v(0x7FFF, 1), ONE, 0x037F),
        (F80::INDEFINITE, f80::IE)
    );
}

#[test]
fn nan_propagation() {
    let q1 = v(0x7FFF, 0xC000_0000_0000_0001);
    let s2 = v(0x7FFF, 0x8000_0000_0000_0002);
    // An SNaN is quieted and raises IE; of two NaNs the larger significand wins.
    assert_eq!(f80::add(ONE, s2, 0x037F), (s2.quiet(), f80::IE));
    assert_eq!(f80::add(q1, s2.quiet(), 0x037F).0, s2.quiet());
    assert_eq!(f80::mul(q1, ONE, 0x037F), (q1, 0));
}

#[test]
fn integers_and_rounding() {
    let half = |k: u64| f80::div(f80::from_int(k as i64), TWO, 0x037F).0;
    // Round to nearest even: 2.5 → 2, 3.5 → 4, −2.5 → −2.
    assert_eq!(f80::to_int(half(5), 16, 0x037F).0, 2);
    assert_eq!(f80::to_int(half(7), 16, 0x037F).0, 4);
    assert_eq!(f80::to_int(half(5).chs(), 16, 0x037F).0, -2);
    // Down, up, chop.
    assert_eq!(f80::to_int(half(5).chs(), 16, 0x077F).0, -3);
    assert_eq!(f80::to_int(half(5), 16, 0x0B7F).0, 3);
    assert_eq!(f80::to_int(half(7), 16, 0x0F7F).0, 3);
    // 40000 does not fit 16 bits: invalid, the integer indefinite.
    assert_eq!(
        f80::to_int(f80::from_int(40000), 16, 0x037F),
        (-32768, f80::IE)
    );
    assert_eq!(f80::to_int(f80::from_int(-32768), 16, 0x037F), (-32768, 0));
    // FRNDINT 2.5 → 2 with PE.
    let (r, st) = f80::round_int(half(5), 0x037F);
    assert_eq!(r, TWO);
    assert_eq!(st & f80::PE, f80::PE);
    // BCD: 1234 → 34 12 00…, sign in byte 9.
    let (b, st) = f80::to_bcd(f80::from_int(-1234), 0x037F);
    assert_eq!(st, 0);
    assert_eq!(b, [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(f80::from_bcd(b), f80::from_int(-1234));
    // 10^18 does not fit 18 digits.
    assert_eq!(
        f80::to_bcd(f80::from_int(1_000_000_000_000_000_000), 0x037F).1,
        f80::IE
    );
}

#[test]
fn constants_follow_rounding_control() {
    // π = 0xC90FDAA22168C234|C4C6…: the dropped bits are above one half.
    assert_eq!(f80::constant(3, 0x037F), v(0x4000, 0xC90F_DAA2_2168_C235));
    assert_eq!(f80::constant(3, 0x0F7F), v(0x4000, 0xC90F_DAA2_2168_C234));
    assert_eq!(f80::constant(3, 0x077F), v(0x4000, 0xC90F_DAA2_2168_C234));
    // log2(10) = 0xD49A784BCD1B8AFE|492B…: below one half.
    assert_eq!(f80::constant(1, 0x037F), v(0x4000, 0xD49A_784B_CD1B_8AFE));
    assert_eq!(f80::constant(1, 0x0B7F), v(0x4000, 0xD49A_784B_CD1B_8AFF));
    assert_eq!(f80::constant(0, 0x0B7F), ONE);
}

#[test]
fn stack_faults_and_condition_codes() {
    let mut f = Fpu::new();
    // FADD with an empty stack: underflow, IE|SF, C1 = 0, indefinite (masked).
    reg(&mut f, 0xD8, 0xC1);
    assert_eq!(f.sw & 0x3FF, 0x041);
    // Eight pushes fill the stack; the ninth overflows with C1 = 1.
    let mut f = Fpu::new();
    for _ in 0..8 {
        reg(&mut f, 0xD9, 0xE8); // FLD1
    }
    assert_eq!(f.sw & 0x7F, 0);
    reg(&mut f, 0xD9, 0xE8);
    assert_eq!(
        f.sw & (f80::IE | f80::SF | f80::C1),
        f80::IE | f80::SF | f80::C1
    );
    assert_eq!(f.st(0), F80::INDEFINITE);
    // FCOM: 1 < 2 sets C0; equal sets C3; FNSTSW AX reports it.
    let mut f = Fpu::new();
    fld80(&mut f, TWO);
    fld80(&mut f, ONE);
    reg(&mut f, 0xD8, 0xD1);
    assert_eq!(f.sw & 0x4700, f80::C0);
    let out = reg(&mut f, 0xDF, 0xE0);
    assert_eq!(out.ax, Some(f.sw));
    // FCOMI sets CF for less.
    assert_eq!(reg(&mut f, 0xDB, 0xF1).eflags, Some(1));
    // FXAM of +1: normal (C2), of an empty register: C3|C0.
    reg(&mut f, 0xD9, 0xE5);
    assert_eq!(f.sw & 0x4700, f80::C2);
    let mut e = Fpu::new();
    reg(&mut e, 0xD9, 0xE5);
    assert_eq!(e.sw & 0x4500, f80::C3 | f80::C0);
}

#[test]
fn unmasked_exceptions_leave_the_destination() {
    let mut f = Fpu::new();
    fldcw(&mut f, 0x037B); // ZE unmasked
    fld80(&mut f, F80::ZERO);
    fld80(&mut f, ONE);
    let out = reg(&mut f, 0xD8, 0xF1); // FDIV ST0, ST1 = 1/0
    assert!(out.error && f.error_pending());
    assert_eq!(f.st(0), ONE);
    assert_eq!(f.sw & 0x80FF, 0x8000 | f80::ES | f80::ZE);
    reg(&mut f, 0xDB, 0xE2); // FNCLEX
    assert!(!f.error_pending());
}

#[test]
fn fcmov_and_fisttp_gating() {
    let mut f = Fpu::new();
    fld80(&mut f, TWO);
    fld80(&mut f, ONE);
    let mut env = ENV;
    env.eflags = 0x41; // ZF CF
    let mut none: Option<&mut Mem> = None;
    f.execute(0xDA, 0xC9, none.take(), &env).unwrap(); // FCMOVE ST0, ST1
    assert_eq!(f.st(0), TWO);
    // FISTTP is #UD unless the processor has it.
    let mut m = Mem(vec![0; 8]);
    assert!(f.execute(0xDB, 0x08, Some(&mut m), &ENV).is_err());
}

#[test]
fn nm_rule() {
    assert!(nm_check(true, false, false, false));
    assert!(nm_check(false, true, false, false));
    assert!(!nm_check(false, false, true, false));
    assert!(nm_check(false, true, true, true));
    assert!(!nm_check(false, true, false, true));
}

#[test]
fn transcendental_values() {
    // sin(π/6) = 1/2 within an ulp (FLDPI is 0.6 ulp off π).
    let (pi6, _) = f80::div(f80::constant(3, 0x037F), f80::from_int(6), 0x037F);
    let (s, st) = cpu::x87::transc::fsin(pi6, 0x037F);
    let d = (s.m as i128 - (1u64 << 63) as i128).abs();
    assert!(
        s.exp() == 0x3FFE && d <= 1 || s.exp() == 0x3FFD && s.m == u64::MAX,
        "{s:?}"
    );
    assert_ne!(st & f80::PE, 0);
    // log2(8) × 3 = 9 exactly.
    let (r, _) = cpu::x87::transc::fyl2x(f80::from_int(8), THREE, 0x037F);
    assert_eq!(r, f80::from_int(9));
    // atan2(1, 1) = π/4 to nearest: π's significand at exponent 0x3FFE.
    let (r, _) = cpu::x87::transc::fpatan(ONE, ONE, 0x037F);
    assert_eq!(r, v(0x3FFE, 0xC90F_DAA2_2168_C235));
    // 2^0.5 − 1 = 0.41421356…: √2 − 1 within an ulp.
    let (h, _) = f80::div(ONE, TWO, 0x037F);
    let (r, _) = cpu::x87::transc::f2xm1(h, 0x037F);
    let (want, _) = f80::sub(f80::sqrt(TWO, 0x037F).0, ONE, 0x037F);
    assert!(
        (r.m as i128 - want.m as i128).abs() <= 2 && r.se == want.se,
        "{r:?} {want:?}"
    );
    // |x| ≥ 2^63: FSIN sets C2 and leaves the operand.
    let big = v(0x3FFF + 63, 1 << 63);
    assert_eq!(cpu::x87::transc::fsin(big, 0x037F), (big, f80::C2));
}

fn any_f80() -> impl Strategy<Value = F80> {
    (any::<u16>(), any::<u64>()).prop_map(|(se, m)| F80 { se, m })
}

proptest! {
    #[test]
    fn m80_round_trip(x in any_f80()) {
        let mut f = Fpu::new();
        fld80(&mut f, x);
        let mut m = vec![0; 10];
        run(&mut f, 0xDB, 0x38, &mut m); // FSTP m80
        prop_assert_eq!(m, x.to_bytes().to_vec());
        prop_assert_eq!(f.sw & 0x7F, 0);
    }

    #[test]
    fn m64_round_trip(bits in any::<u64>()) {
        // SNaNs come back quieted (FLD signals them); everything else exact.
        let snan = (bits >> 52) & 0x7FF == 0x7FF && bits & 0xF_FFFF_FFFF_FFFF != 0 && bits & (1 << 51) == 0;
        let mut f = Fpu::new();
        let mut m = bits.to_le_bytes().to_vec();
        run(&mut f, 0xDD, 0x00, &mut m); // FLD m64
        run(&mut f, 0xDD, 0x18, &mut m); // FSTP m64
        let want = if snan { bits | (1 << 51) } else { bits };
        prop_assert_eq!(u64::from_le_bytes(m.try_into().unwrap()), want);
    }

    #[test]
    fn m32_round_trip(bits in any::<u32>()) {
        let snan = (bits >> 23) & 0xFF == 0xFF && bits & 0x7F_FFFF != 0 && bits & (1 << 22) == 0;
        let mut f = Fpu::new();
        let mut m = bits.to_le_bytes().to_vec();
        run(&mut f, 0xD9, 0x00, &mut m); // FLD m32
        run(&mut f, 0xD9, 0x18, &mut m); // FSTP m32
        let want = if snan { bits | (1 << 22) } else { bits };
        prop_assert_eq!(u32::from_le_bytes(m.try_into().unwrap()), want);
    }

    #[test]
    fn int_round_trips(a in any::<i16>(), b in any::<i32>(), c in any::<i64>()) {
        let mut f = Fpu::new();
        let mut m = a.to_le_bytes().to_vec();
        run(&mut f, 0xDF, 0x00, &mut m);
        run(&mut f, 0xDF, 0x18, &mut m);
        prop_assert_eq!(i16::from_le_bytes(m.try_into().unwrap()), a);
        let mut m = b.to_le_bytes().to_vec();
        run(&mut f, 0xDB, 0x00, &mut m);
        run(&mut f, 0xDB, 0x18, &mut m);
        prop_assert_eq!(i32::from_le_bytes(m.try_into().unwrap()), b);
        let mut m = c.to_le_bytes().to_vec();
        run(&mut f, 0xDF, 0x28, &mut m);
        run(&mut f, 0xDF, 0x38, &mut m);
        prop_assert_eq!(i64::from_le_bytes(m.try_into().unwrap()), c);
        prop_assert_eq!(f.sw & 0x7F, 0);
    }

    #[test]
    fn bcd_round_trip(digits in proptest::collection::vec(0u8..10, 18), neg in any::<bool>()) {
        let mut b = [0u8; 10];
        for i in 0..9 {
            b[i] = (digits[2 * i + 1] << 4) | digits[2 * i];
        }
        b[9] = if neg { 0x80 } else { 0 };
        let mut f = Fpu::new();
        let mut m = b.to_vec();
        run(&mut f, 0xDF, 0x20, &mut m); // FBLD
        run(&mut f, 0xDF, 0x30, &mut m); // FBSTP
        prop_assert_eq!(m, b.to_vec());
    }

    #[test]
    fn fsave_frstor_round_trip(
        regs in proptest::array::uniform8(any_f80()),
        tags in any::<u8>(),
        top in 0u16..8,
        cw in any::<u16>(),
        cc in any::<u16>(),
        op32 in any::<bool>(),
        protected in any::<bool>(),
    ) {
        let mut f = Fpu::new();
        f.regs = regs;
        f.cw = (cw & 0x1F3F) | 0x0040;
        // Status: condition codes and exception flags (ES consistent with them).
        f.sw = (cc & 0x477F) | (top << 11);
        f.tw = (0..8).fold(0, |t, p| if tags & (1 << p) == 0 { t | (3 << (2 * p)) } else { t });
        if f.sw & !f.cw & 0x3F != 0 { f.sw |= 0x8080; }
        f.fip = 0x1234;
        f.fcs = 0x08;
        f.fop = 0x5AB;
        f.fdp = 0x5678;
        f.fds = 0x10;
        let env = FpuEnv { op32, protected, cs: f.fcs, ip: f.fip, ..ENV };
        let before = f.clone();
        let mut g = before.clone();
        let mut mm = Mem(vec![0u8; 108]);
        g.execute(0xDD, 0x30, Some(&mut mm), &env).unwrap();
        prop_assert_eq!(g.tw, 0xFFFF); // FSAVE reinitialises
        prop_assert_eq!(g.cw, 0x037F);
        let mut h = Fpu::new();
        h.execute(0xDD, 0x20, Some(&mut mm), &env).unwrap(); // FRSTOR
        prop_assert_eq!(&h.regs, &before.regs);
        prop_assert_eq!(h.cw, before.cw);
        prop_assert_eq!(h.sw, before.sw);
        prop_assert_eq!(h.tag_word(), before.tag_word());
        if op32 || !protected {
            // (The 16-bit protected-mode image has no opcode field.)
            prop_assert_eq!(h.fop, before.fop);
        }
        if protected {
            prop_assert_eq!((h.fip, h.fcs, h.fdp, h.fds), (before.fip, before.fcs, before.fdp, before.fds));
        } else {
            // Real mode stores linear addresses: seg*16 + offset.
            prop_assert_eq!(h.fip, 0x80 + 0x1234);
            prop_assert_eq!(h.fdp, 0x100 + 0x5678);
        }
        // The image size is the documented one.
        let len = if op32 { 108 } else { 94 };
        let mut short = Mem(vec![0u8; len - 1]);
        prop_assert!(before.clone().execute(0xDD, 0x30, Some(&mut short), &env).is_err());
    }

    #[test]
    fn fxsave_fxrstor_round_trip(regs in proptest::array::uniform8(any_f80()), tags in any::<u8>(), top in 0u16..8) {
        let mut f = Fpu::new();
        f.regs = regs;
        f.sw = top << 11;
        f.tw = (0..8).fold(0, |t, p| if tags & (1 << p) == 0 { t | (3 << (2 * p)) } else { t });
        let mut img = [0u8; 512];
        f.fxsave(&mut img);
        prop_assert_eq!(img[4], tags);
        let mut g = Fpu::new();
        g.fxrstor(&img);
        prop_assert_eq!(g, f);
    }
}

/// The 16-bit real-mode FSTENV layout (Intel SDM vol. 1, figure 8-10):
/// CW, SW, TW, IP[15:0], IP[19:16]<<12 | opcode, DP[15:0], DP[19:16]<<12.
#[test]
fn fstenv_real_mode_16_layout() {
    let mut f = Fpu::new();
    let env = FpuEnv {
        op32: false,
        protected: false,
        cs: 0x1234,
        ip: 0x5678,
        ds: 0xABCD,
        ea: 0x0010,
        ..ENV
    };
    let mut m = Mem(vec![0; 14]);
    f.execute(0xD9, 0xE8, None::<&mut Mem>, &env).unwrap(); // FLD1 (sets FIP, FOP)
    f.execute(0xDD, 0x16, Some(&mut Mem(vec![0; 8])), &env)
        .unwrap(); // FST m64 (sets FDP)
    f.execute(0xD9, 0x30, Some(&mut m), &env).unwrap(); // FNSTENV
    let w = |i: usize| u16::from_le_bytes([m.0[2 * i], m.0[2 * i + 1]]);
    assert_eq!(w(0), 0x037F | 0x3F);
    assert_eq!(w(2), 0x3FFF); // R7 valid, the rest empty
    let ip = 0x12340 + 0x5678;
    assert_eq!(w(3), ip as u16);
    assert_eq!(w(4), (((ip >> 16) as u16) << 12) | 0x516); // opcode DD 16 → 5:16
    let dp = 0xABCD0 + 0x10;
    assert_eq!((w(5), w(6)), (dp as u16, ((dp >> 16) as u16) << 12));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any instruction stream on any state completes without a host panic
    /// (undefined encodings are reported, memory faults passed through).
    #[test]
    fn random_streams_never_panic(
        regs in proptest::array::uniform8(any_f80()),
        cw in any::<u16>(),
        sw in any::<u16>(),
        tw in any::<u16>(),
        insns in proptest::collection::vec((0xD8u8..=0xDF, any::<u8>(), any::<[u8; 16]>(), any::<bool>(), any::<bool>()), 1..200),
    ) {
        let mut f = Fpu::new();
        f.regs = regs;
        f.cw = cw;
        f.sw = sw;
        f.tw = tw;
        for (op, modrm, bytes, op32, protected) in insns {
            let env = FpuEnv { op32, protected, fisttp: true, eflags: modrm as u32, ..ENV };
            let mut m = bytes.to_vec();
            m.resize(108, bytes[0]);
            let mut mem = Mem(m);
            let _ = f.execute(op, modrm, Some(&mut mem), &env);
        }
    }
}
