//! Differential property test: the ia32 core's Pentium Pro model against the
//! host CPU (`harness::oracle_p6`) for CMOVcc, BSWAP, XADD and CMPXCHG8B on
//! random 32-bit operands and flags, register and memory forms.
#![cfg(target_arch = "x86_64")]

use cpu::ia32::{Cpu32, Model32, SegCache, StepResult32, CS, DS, ES, FS, GS, SS};
use cpu::FlatBus;
use harness::oracle_p6::{self, ARITH_FLAGS32};
use proptest::prelude::*;

const CODE: u32 = 0x1000;
const DATA: u32 = 0x2000;

/// A P6 in flat 32-bit protected mode with `code` at 1000h.
fn cpu(bus: &mut FlatBus, code: &[u8], flags: u32) -> Cpu32 {
    bus.load(CODE, code);
    let mut c = Cpu32::new(Model32::PentiumPro);
    c.cr[0] |= 1;
    let flat = |sel, attr| SegCache {
        sel,
        base: 0,
        limit: 0xFFFF_FFFF,
        attr,
        valid: true,
    };
    c.seg[CS] = flat(8, 0xC09B);
    for s in [ES, SS, DS, FS, GS] {
        c.seg[s] = flat(0x10, 0xC093);
    }
    c.eip = CODE;
    c.set_flags_for_test((c.eflags() & !ARITH_FLAGS32) | (flags & ARITH_FLAGS32));
    c
}

fn step(c: &mut Cpu32, bus: &mut FlatBus) {
    assert_eq!(c.step(bus), StepResult32::Executed);
    assert_eq!(c.regs().sel[1], 8, "the instruction faulted");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn cmovcc_matches_the_host(cc in 0u8..16, a in any::<u32>(), b in any::<u32>(), f in any::<u32>(), mem in any::<bool>()) {
        let mut bus = FlatBus::new(0x10000);
        // CMOVcc EAX, EBX (modrm C3) or CMOVcc EAX, [2000h] (modrm 05, disp32).
        let code: Vec<u8> = if mem {
            bus.load(DATA, &b.to_le_bytes());
            vec![0x0F, 0x40 + cc, 0x05, 0x00, 0x20, 0x00, 0x00]
        } else {
            vec![0x0F, 0x40 + cc, 0xC3]
        };
        let mut c = cpu(&mut bus, &code, f);
        c.r[0] = a;
        c.r[3] = b;
        step(&mut c, &mut bus);
        prop_assert_eq!(c.r[0], oracle_p6::cmov(cc, a, b, f));
        prop_assert_eq!(c.eflags() & ARITH_FLAGS32, f & ARITH_FLAGS32);
    }

    #[test]
    fn bswap_matches_the_host(r in 0u8..8, v in any::<u32>()) {
        prop_assume!(r != 4); // keep ESP
        let mut bus = FlatBus::new(0x10000);
        let mut c = cpu(&mut bus, &[0x0F, 0xC8 + r], 0);
        c.r[r as usize] = v;
        step(&mut c, &mut bus);
        prop_assert_eq!(c.r[r as usize], oracle_p6::bswap(v));
    }

    #[test]
    fn xadd_matches_the_host(a in any::<u32>(), b in any::<u32>(), f in any::<u32>(), mem in any::<bool>()) {
        let mut bus = FlatBus::new(0x10000);
        let (want_d, want_s, want_f) = oracle_p6::xadd(a, b, f);
        if mem {
            // XADD [2000h], EBX.
            bus.load(DATA, &a.to_le_bytes());
            let mut c = cpu(&mut bus, &[0x0F, 0xC1, 0x1D, 0x00, 0x20, 0x00, 0x00], f);
            c.r[3] = b;
            step(&mut c, &mut bus);
            let d = u32::from_le_bytes(bus.mem[DATA as usize..DATA as usize + 4].try_into().unwrap());
            prop_assert_eq!((d, c.r[3]), (want_d, want_s));
            prop_assert_eq!(c.eflags() & ARITH_FLAGS32, want_f);
        } else {
            // XADD EAX, EBX (modrm D8).
            let mut c = cpu(&mut bus, &[0x0F, 0xC1, 0xD8], f);
            c.r[0] = a;
            c.r[3] = b;
            step(&mut c, &mut bus);
            prop_assert_eq!((c.r[0], c.r[3]), (want_d, want_s));
            prop_assert_eq!(c.eflags() & ARITH_FLAGS32, want_f);
        }
    }

    #[test]
    fn cmpxchg8b_matches_the_host(m in any::<u64>(), cmp in any::<u64>(), new in any::<u64>(), equal in any::<bool>(), f in any::<u32>()) {
        let cmp = if equal { m } else { cmp };
        let mut bus = FlatBus::new(0x10000);
        bus.load(DATA, &m.to_le_bytes());
        // CMPXCHG8B [2000h] (0F C7 /1, modrm 0D).
        let mut c = cpu(&mut bus, &[0x0F, 0xC7, 0x0D, 0x00, 0x20, 0x00, 0x00], f);
        c.r[0] = cmp as u32;
        c.r[2] = (cmp >> 32) as u32;
        c.r[3] = new as u32;
        c.r[1] = (new >> 32) as u32;
        step(&mut c, &mut bus);
        let (want_m, want_dxax, want_zf) = oracle_p6::cmpxchg8b(m, cmp, new);
        let got_m = u64::from_le_bytes(bus.mem[DATA as usize..DATA as usize + 8].try_into().unwrap());
        prop_assert_eq!(got_m, want_m);
        prop_assert_eq!((c.r[2] as u64) << 32 | c.r[0] as u64, want_dxax);
        prop_assert_eq!(c.eflags() & 0x40 != 0, want_zf);
        // Only ZF changes (SDM: CMPXCHG8B affects ZF only).
        prop_assert_eq!(c.eflags() & (ARITH_FLAGS32 & !0x40), f & ARITH_FLAGS32 & !0x40);
    }
}
