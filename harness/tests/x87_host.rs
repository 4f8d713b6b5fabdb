//! Differential test of the emulated x87 (`cpu::x87`) against the host's
//! (`harness::oracle_x87`): random operands and control words (every
//! precision and rounding mode, masked and unmasked exceptions), the FNSAVE
//! image (control, status and tag words, the eight registers) and the
//! memory operand compared bit for bit. Transcendentals are compared within
//! one unit in the last place and their exact-match rate is printed.
//!
//! `cargo test -p ironpc-harness --test x87_host` runs a short pass
//! (`X87_CASES` per operation, default 20000); the long campaign is
//! `cargo test --release -p ironpc-harness --test x87_host -- --ignored
//! x87_campaign --nocapture` (`X87_CAMPAIGN_CASES` per operation, default
//! 200000, about 19 million cases over the 95 sequences). `X87_OP=name`
//! runs one operation, `X87_SEED` changes the operands, and
//! `X87_SHOW_INEXACT=1` also prints transcendental results that are within
//! one ulp but not bit-exact.
#![cfg(target_arch = "x86_64")]

use cpu::x87::{f80::F80, Fpu, FpuEnv, FpuMemory};
use harness::oracle_x87::{self, HostX87, X87Op, SAVE_LEN};

/// A flat scratch memory for the emulator.
struct Scratch<'a>(&'a mut [u8]);

impl FpuMemory for Scratch<'_> {
    type Fault = ();
    fn read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), ()> {
        let o = off as usize;
        let s = self.0.get(o..o + buf.len()).ok_or(())?;
        buf.copy_from_slice(s);
        Ok(())
    }
    fn write(&mut self, off: u32, buf: &[u8]) -> Result<(), ()> {
        let o = off as usize;
        self.0
            .get_mut(o..o + buf.len())
            .ok_or(())?
            .copy_from_slice(buf);
        Ok(())
    }
}

const ENV32: FpuEnv = FpuEnv {
    op32: true,
    protected: true,
    // FISTTP (SSE3) is enabled; hosts without it skip those operations.
    fisttp: true,
    eflags: 0x2,
    cs: 0,
    ip: 0,
    ds: 0,
    ea: 0,
};

fn exec(f: &mut Fpu, op: u8, modrm: u8, mem: &mut [u8]) -> Option<u32> {
    let out = f
        .execute(op, modrm, Some(&mut Scratch(mem)), &ENV32)
        .expect("emulated x87 rejected an instruction the host ran");
    out.eflags
}

/// The same sequence as the host's, on the emulator.
fn emu(op: X87Op, cw: u16, a: [u8; 10], b: [u8; 10], mem: [u8; 16]) -> HostX87 {
    let mut f = Fpu::new();
    let mut m = [0u8; 16];
    m[..10].copy_from_slice(&b);
    exec(&mut f, 0xDB, 0x28, &mut m); // FLD m80
    m[..10].copy_from_slice(&a);
    exec(&mut f, 0xDB, 0x28, &mut m);
    exec(&mut f, 0xDB, 0xE2, &mut m); // FNCLEX
    exec(&mut f, 0xD9, 0x28, &mut cw.to_le_bytes()); // FLDCW
    let mut mem = mem;
    let mut fl = None;
    for &(o, r) in op.encoding() {
        fl = exec(&mut f, o, r, &mut mem);
    }
    let mut save = [0u8; SAVE_LEN];
    exec(&mut f, 0xDD, 0x30, &mut save); // FNSAVE
    HostX87 {
        save,
        mem,
        rflags: fl.unwrap_or(0) as u64,
    }
}

/// xorshift64*: a small deterministic generator (seeded per test).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 != 0
    }
}

/// A significand with the rounding-sensitive patterns over-represented.
fn mant(r: &mut Rng) -> u64 {
    let m = r.next();
    match r.below(6) {
        0 => m & !((1u64 << r.below(64)) - 1),
        1 => m | ((1u64 << r.below(64)) - 1),
        2 => (m & 0xFFFF_FF00_0000_0000) | (r.below(4) << 38) | r.below(2),
        3 => (m & 0xFFFF_FFFF_FFFF_F800) | (r.below(4) << 9) | r.below(2),
        _ => m,
    }
}

/// An x87 register value: mostly normal numbers, with every class.
fn value(r: &mut Rng, near: Option<u16>) -> [u8; 10] {
    let s: u16 = if r.bool() { 0x8000 } else { 0 };
    let v = match r.below(20) {
        0 => F80 { se: s, m: 0 },
        1 => F80 {
            se: s | 0x7FFF,
            m: 1 << 63,
        },
        2 => F80 {
            se: s | 0x7FFF,
            m: (3 << 62) | (mant(r) >> 2),
        },
        3 => F80 {
            se: s | 0x7FFF,
            m: (1 << 63) | ((mant(r) >> 2) | 1),
        },
        4 => F80 {
            se: s,
            m: mant(r) >> (1 + r.below(63)),
        },
        5 => F80 {
            se: s,
            m: mant(r) | (1 << 63),
        },
        6 if r.below(4) == 0 => F80 {
            se: s | (r.below(0x7FFF) as u16),
            m: mant(r) >> 1,
        },
        6 => F80 {
            se: s | 0x7FFF,
            m: mant(r) >> 1,
        },
        7 => F80 {
            se: s | (1 + r.below(80) as u16),
            m: mant(r) | (1 << 63),
        },
        8 => F80 {
            se: s | (0x7FFE - r.below(80) as u16),
            m: mant(r) | (1 << 63),
        },
        10 | 11 => {
            // Doubles (the double-precision fast path).
            let e = (0x3FFF - 60 + r.below(120)) as u16;
            F80 {
                se: s | e,
                m: (mant(r) | (1 << 63)) & !0x7FF,
            }
        }
        9 => {
            // Integers and halves (FRNDINT, FIST, FBSTP).
            let bits = 1 + r.below(62);
            let k = r.below(1 << bits);
            let v = cpu::x87::f80::from_int(k as i64);
            let mut v = if r.bool() { v.chs() } else { v };
            if r.bool() && v.exp() != 0 {
                v.se -= 1;
            }
            v
        }
        _ => {
            let e = match near {
                Some(e) if r.below(4) != 0 => {
                    (e as i32 + r.below(140) as i32 - 70).clamp(1, 0x7FFE) as u16
                }
                _ => match r.below(3) {
                    0 => r.below(0x7FFE) as u16 + 1,
                    _ => 0x3FFF - 70 + r.below(140) as u16,
                },
            };
            F80 {
                se: s | e,
                m: mant(r) | (1 << 63),
            }
        }
    };
    v.to_bytes()
}

fn control_word(r: &mut Rng) -> u16 {
    let masks = if r.below(4) == 0 {
        r.below(64) as u16
    } else {
        0x3F
    };
    if r.below(8) == 0 {
        // The double-precision default (Windows' 027F).
        return 0x0240 | masks;
    }
    let pc = [0, 2, 3][r.below(3) as usize] << 8;
    let rc = (r.below(4) as u16) << 10;
    0x0040 | masks | pc | rc
}

/// A memory operand suited to `op`.
fn memory(r: &mut Rng, op: X87Op) -> [u8; 16] {
    let mut m = [0u8; 16];
    for b in m.iter_mut() {
        *b = r.next() as u8;
    }
    use X87Op::*;
    match op {
        FldM32 | FaddM32 | FdivM32 => {
            let bits: u32 = match r.below(6) {
                0 => r.next() as u32 & 0x807F_FFFF,
                1 => 0x7F80_0000 | (r.next() as u32 & 0x807F_FFFF),
                _ => r.next() as u32,
            };
            m[..4].copy_from_slice(&bits.to_le_bytes());
        }
        FldM64 | FsubrM64 | FcomM64 => {
            let bits: u64 = match r.below(6) {
                0 => r.next() & 0x800F_FFFF_FFFF_FFFF,
                1 => 0x7FF0_0000_0000_0000 | (r.next() & 0x800F_FFFF_FFFF_FFFF),
                2 => (r.next() & 0x800F_FFFF_FFFF_FFFF) | ((0x3F0 + r.below(32)) << 52),
                _ => r.next(),
            };
            m[..8].copy_from_slice(&bits.to_le_bytes());
        }
        FldM80 => m[..10].copy_from_slice(&value(r, None)),
        Fbld if r.below(4) != 0 => {
            for b in m.iter_mut().take(9) {
                *b = ((r.below(10) << 4) | r.below(10)) as u8;
            }
            m[9] &= 0x80;
        }
        _ => {}
    }
    m
}

/// Compares the parts of an FNSAVE image that are defined here: control,
/// status and tag words and the registers (not the instruction pointers).
fn image_eq(h: &HostX87, e: &HostX87, op: X87Op) -> bool {
    let s = |x: &HostX87| {
        let mut v = Vec::new();
        v.extend_from_slice(&x.save[0..2]);
        v.extend_from_slice(&x.save[4..6]);
        v.extend_from_slice(&x.save[8..10]);
        // Empty registers keep stale contents on the host (FNINIT does
        // not clear them): only the full ones are compared.
        let tw = u16::from_le_bytes([x.save[8], x.save[9]]);
        let top = (x.save[5] >> 3) & 7;
        for i in 0..8 {
            let p = (top as usize + i) & 7;
            if (tw >> (2 * p)) & 3 != 3 {
                v.extend_from_slice(&x.save[28 + 10 * i..38 + 10 * i]);
            }
        }
        v
    };
    let fl = matches!(op, X87Op::Comi | X87Op::Ucomi | X87Op::Comip);
    s(h) == s(e) && h.mem == e.mem && (!fl || (h.rflags & 0x45) == (e.rflags & 0x45))
}

/// ST(i) of an FNSAVE image.
fn reg(x: &HostX87, i: usize) -> F80 {
    let mut b = [0u8; 10];
    b.copy_from_slice(&x.save[28 + 10 * i..38 + 10 * i]);
    F80::from_bytes(b)
}

/// Distance in units of the last place between two finite values of the
/// same sign (None when not comparable).
fn ulps(a: F80, b: F80) -> Option<u64> {
    if a.sign() != b.sign() {
        return if a.m == 0 && b.m == 0 { Some(0) } else { None };
    }
    // Consecutive values differ by one in this key (the integer bit is
    // implied by the exponent).
    let key = |x: F80| (((x.exp() as u128) << 63) + (x.m & !(1 << 63)) as u128) as i128;
    Some((key(a) - key(b)).unsigned_abs().min(u64::MAX as u128) as u64)
}

/// Within 1 ulp: registers within one ulp, words equal but for C1 (the
/// rounding direction) and PE.
fn close(h: &HostX87, e: &HostX87) -> bool {
    let w = |x: &HostX87| {
        let sw = u16::from_le_bytes([x.save[4], x.save[5]]) & !0x0220;
        (
            u16::from_le_bytes([x.save[0], x.save[1]]),
            sw,
            [x.save[8], x.save[9]],
        )
    };
    if w(h) != w(e) {
        return false;
    }
    let tw = u16::from_le_bytes([h.save[8], h.save[9]]);
    let top = ((h.save[5] >> 3) & 7) as usize;
    (0..8).all(|i| {
        if (tw >> (2 * ((top + i) & 7))) & 3 == 3 {
            return true;
        }
        let (a, b) = (reg(h, i), reg(e, i));
        a == b || ulps(a, b).is_some_and(|d| d <= 1)
    })
}

struct Tally {
    cases: u64,
    exact: u64,
    within: u64,
    shown: usize,
}

fn run_op(op: X87Op, n: u64, seed: u64, show: usize) -> Tally {
    let mut r = Rng(seed ^ (op as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut t = Tally {
        cases: 0,
        exact: 0,
        within: 0,
        shown: 0,
    };
    for _ in 0..n {
        let a = value(&mut r, None);
        let near = Some(F80::from_bytes(a).exp());
        let b = value(&mut r, near);
        let cw = control_word(&mut r);
        let mem = memory(&mut r, op);
        let h = oracle_x87::run(op, cw, a, b, mem);
        let e = emu(op, cw, a, b, mem);
        t.cases += 1;
        if image_eq(&h, &e, op) {
            t.exact += 1;
            t.within += 1;
            continue;
        }
        if op.is_transcendental() && close(&h, &e) {
            t.within += 1;
            if std::env::var_os("X87_SHOW_INEXACT").is_none() {
                continue;
            }
        }
        if t.shown
            < show.max(
                std::env::var("X87_SHOW")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            )
        {
            t.shown += 1;
            let diff: Vec<usize> = (0..SAVE_LEN).filter(|&i| h.save[i] != e.save[i]).collect();
            println!("differing save bytes {diff:?}");
            let sw = |x: &HostX87| u16::from_le_bytes([x.save[4], x.save[5]]);
            let tw = |x: &HostX87| u16::from_le_bytes([x.save[8], x.save[9]]);
            println!(
                "{op:?} cw={cw:04x} a={:04x}:{:016x} b={:04x}:{:016x} mem={:02x?}\n  host: sw={:04x} tw={:04x} st0={:04x}:{:016x} st1={:04x}:{:016x} mem={:02x?} fl={:x}\n  emu:  sw={:04x} tw={:04x} st0={:04x}:{:016x} st1={:04x}:{:016x} mem={:02x?} fl={:x}",
                F80::from_bytes(a).se, F80::from_bytes(a).m, F80::from_bytes(b).se, F80::from_bytes(b).m, &mem[..10],
                sw(&h), tw(&h), reg(&h, 0).se, reg(&h, 0).m, reg(&h, 1).se, reg(&h, 1).m, &h.mem[..10], h.rflags & 0x45,
                sw(&e), tw(&e), reg(&e, 0).se, reg(&e, 0).m, reg(&e, 1).se, reg(&e, 1).m, &e.mem[..10], e.rflags & 0x45,
            );
        }
    }
    t
}

fn campaign(n: u64, seed: u64, only: Option<X87Op>) -> bool {
    let mut ok = true;
    for &op in X87Op::ALL {
        if only.is_some_and(|o| o != op) {
            continue;
        }
        if !op.host_supports() {
            println!("SKIPPED x87 {op:?}: the host CPU lacks it");
            continue;
        }
        let t = run_op(op, n, seed, 3);
        let pct = 100.0 * t.exact as f64 / t.cases as f64;
        println!(
            "x87 {op:?}: {} cases, {} bit-exact ({pct:.3}%), {} within 1 ulp",
            t.cases, t.exact, t.within
        );
        if t.within != t.cases {
            ok = false;
        }
    }
    ok
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn x87_matches_host() {
    let n = env_u64("X87_CASES", 20_000);
    let only = std::env::var("X87_OP")
        .ok()
        .and_then(|s| X87Op::from_name(&s));
    assert!(
        campaign(n, env_u64("X87_SEED", 1), only),
        "x87 differs from the host (see above)"
    );
}

#[test]
#[ignore]
fn x87_campaign() {
    let n = env_u64("X87_CAMPAIGN_CASES", 200_000);
    let only = std::env::var("X87_OP")
        .ok()
        .and_then(|s| X87Op::from_name(&s));
    assert!(
        campaign(n, env_u64("X87_SEED", 0xC0FFEE), only),
        "x87 differs from the host (see above)"
    );
}
