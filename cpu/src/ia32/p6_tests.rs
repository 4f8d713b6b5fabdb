//! Tests of the Pentium/P6 additions and the x87 on the ia32 core. Expected
//! values come from the Intel SDM's descriptions, worked out in comments.

use super::width::*;
use super::*;
use crate::FlatBus;
use proptest::prelude::*;

use super::tests::flat_pm_model;

/// `model` in flat 32-bit protected mode at CPL 0; code runs at 8000h.
fn pm(model: Model32, bus: &mut FlatBus) -> Cpu32 {
    flat_pm_model(model, bus)
}

/// Execute one instruction from `code` at 8000h.
fn run1(c: &mut Cpu32, bus: &mut FlatBus, code: &[u8]) -> R<()> {
    bus.load(0x8000, code);
    c.eip = 0x8000;
    // As the public entries do: tests write the public fields.
    c.seg_fast_off();
    c.save_snapshot();
    c.execute(bus)
}

fn run_all(c: &mut Cpu32, bus: &mut FlatBus, code: &[&[u8]]) {
    for k in code {
        run1(c, bus, k).unwrap_or_else(|f| panic!("{k:02X?}: {f:?}"));
    }
}

const CPUID: &[u8] = &[0x0F, 0xA2];

#[test]
fn model_names_parse() {
    assert_eq!(Model32::from_name("386"), Some(Model32::I80386));
    assert_eq!(Model32::from_name("486"), Some(Model32::I80486));
    assert_eq!(Model32::from_name("pentium"), Some(Model32::Pentium));
    assert_eq!(Model32::from_name("pentium-pro"), Some(Model32::PentiumPro));
    assert_eq!(Model32::from_name("pentium4"), None);
}

#[test]
fn cpuid_is_ud_on_the_386_and_honest_elsewhere() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::I80386, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, CPUID), Err(ud()));
    for (m, sig, edx) in [
        // Late 486: FPU (bit 0) only.
        (Model32::I80486, 0x0402, 0x1),
        // FPU 1 | VME 2 | DE 4 | PSE 8 | TSC 10h | MSR 20h | CX8 100h = 13Fh.
        (Model32::Pentium, 0x0525, 0x13F),
        // + SEP 800h | PGE 2000h | CMOV 8000h | FXSR 100_0000h; APIC (200h) clear.
        (Model32::PentiumPro, 0x0619, 0x0100_A93F),
    ] {
        let mut c = pm(m, &mut bus);
        c.r[0] = 0;
        run1(&mut c, &mut bus, CPUID).unwrap();
        // EBX, EDX, ECX spell "GenuineIntel"; EAX is the highest leaf.
        let mut v = Vec::new();
        for r in [c.r[3], c.r[2], c.r[1]] {
            v.extend_from_slice(&r.to_le_bytes());
        }
        assert_eq!(&v, b"GenuineIntel");
        assert_eq!(c.r[0], 1);
        c.r[0] = 1;
        run1(&mut c, &mut bus, CPUID).unwrap();
        assert_eq!((c.r[0], c.r[2]), (sig, edx), "{m:?}");
        // The reset DX carries the same family/model/stepping.
        assert_eq!(Cpu32::new(m).r[2], sig);
    }
}

#[test]
fn rdtsc_counts_clocks_and_honours_cr4_tsd() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::Pentium, &mut bus);
    run1(&mut c, &mut bus, &[0x0F, 0x31]).unwrap();
    let t0 = (c.r[2] as u64) << 32 | c.r[0] as u64;
    // A few NOPs charge clocks; the counter moves forward by at least one per instruction.
    for _ in 0..5 {
        run1(&mut c, &mut bus, &[0x90]).unwrap();
    }
    run1(&mut c, &mut bus, &[0x0F, 0x31]).unwrap();
    let t1 = (c.r[2] as u64) << 32 | c.r[0] as u64;
    assert!(t1 >= t0 + 6, "{t0} {t1}");
    assert_eq!(
        t1,
        c.cycles(),
        "TSC starts at 0 at reset and counts emulated clocks"
    );
    // WRMSR 10h sets the counter (Pentium: all 64 bits).
    c.r[1] = 0x10;
    c.r[0] = 0x8000_0000;
    c.r[2] = 0x12;
    run1(&mut c, &mut bus, &[0x0F, 0x30]).unwrap();
    run1(&mut c, &mut bus, &[0x0F, 0x31]).unwrap();
    assert_eq!(c.r[2], 0x12);
    assert!(c.r[0] >= 0x8000_0000 && c.r[0] < 0x8000_0100);
    // CR4.TSD: CPL 0 still reads, CPL 3 gets #GP(0).
    c.cr[4] = p6::CR4_TSD;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x31]), Ok(()));
    c.cpl = 3;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x31]), Err(gp(0)));
    // The 486 has no RDTSC.
    let mut c = pm(Model32::I80486, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x31]), Err(ud()));
}

#[test]
fn msrs_as_the_p6_reports_them() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    let rdmsr = |c: &mut Cpu32, bus: &mut FlatBus, n: u32| {
        c.r[1] = n;
        run1(c, bus, &[0x0F, 0x32]).map(|()| (c.r[2] as u64) << 32 | c.r[0] as u64)
    };
    // MTRRcap: no variable or fixed MTRRs.
    assert_eq!(rdmsr(&mut c, &mut bus, 0xFE), Ok(0));
    // APIC base: FEE00000h, BSP (bit 8), enable (bit 11) clear = no APIC.
    assert_eq!(rdmsr(&mut c, &mut bus, 0x1B), Ok(0xFEE0_0100));
    // An MSR that does not exist: #GP(0).
    assert_eq!(rdmsr(&mut c, &mut bus, 0x1234), Err(gp(0)));
    // WRMSR to the TSC on the P6 clears the high half.
    c.r[1] = 0x10;
    c.r[0] = 5;
    c.r[2] = 7;
    run1(&mut c, &mut bus, &[0x0F, 0x30]).unwrap();
    let t = rdmsr(&mut c, &mut bus, 0x10).unwrap();
    assert!(t >> 32 == 0 && t >= 5, "{t:X}");
    // SYSENTER MSRs are kept.
    c.r[1] = 0x176;
    c.r[0] = 0xC000_1000;
    c.r[2] = 0;
    run1(&mut c, &mut bus, &[0x0F, 0x30]).unwrap();
    assert_eq!(rdmsr(&mut c, &mut bus, 0x176), Ok(0xC000_1000));
    // Not at CPL 3.
    c.cpl = 3;
    assert_eq!(rdmsr(&mut c, &mut bus, 0x10), Err(gp(0)));
    // The Pentium has no SYSENTER MSRs.
    let mut c = pm(Model32::Pentium, &mut bus);
    assert_eq!(rdmsr(&mut c, &mut bus, 0x174), Err(gp(0)));
}

#[test]
fn rdpmc_needs_cr4_pce_at_cpl3() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    c.r[1] = 0;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x33]), Ok(()));
    c.r[1] = 2; // only counters 0 and 1 exist
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x33]), Err(gp(0)));
    c.r[1] = 1;
    c.cpl = 3;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x33]), Err(gp(0)));
    c.cr[4] = p6::CR4_PCE;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x33]), Ok(()));
}

#[test]
fn cmov_moves_only_when_the_condition_holds_but_always_reads() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    c.r[0] = 1;
    c.r[3] = 2;
    c.eflags &= !ZF;
    // CMOVZ EAX, EBX with ZF=0: nothing.
    run1(&mut c, &mut bus, &[0x0F, 0x44, 0xC3]).unwrap();
    assert_eq!(c.r[0], 1);
    c.eflags |= ZF;
    run1(&mut c, &mut bus, &[0x0F, 0x44, 0xC3]).unwrap();
    assert_eq!(c.r[0], 2);
    // CMOVNZ AX, [FS:0] past a 0-limit FS: the read faults though ZF=1 (condition false).
    c.seg[FS].limit = 0;
    assert_eq!(
        run1(
            &mut c,
            &mut bus,
            &[0x64, 0x66, 0x0F, 0x45, 0x05, 0, 0, 0, 0]
        ),
        Err(gp(0))
    );
    // Before the P6: #UD.
    let mut c = pm(Model32::Pentium, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x44, 0xC3]), Err(ud()));
    // UD2 is #UD everywhere.
    let mut c = pm(Model32::PentiumPro, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x0B]), Err(ud()));
}

#[test]
fn cmpxchg8b_both_ways() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::Pentium, &mut bus);
    let code = [0x0F, 0xC7, 0x0D, 0x00, 0x90, 0x00, 0x00];
    bus.load(0x9000, &0x1111_2222_3333_4444u64.to_le_bytes());
    // Equal: ZF=1, ECX:EBX stored.
    c.r[2] = 0x1111_2222;
    c.r[0] = 0x3333_4444;
    c.r[1] = 0xAAAA_BBBB;
    c.r[3] = 0xCCCC_DDDD;
    run1(&mut c, &mut bus, &code).unwrap();
    assert_ne!(c.eflags & ZF, 0);
    assert_eq!(
        &bus.mem[0x9000..0x9008],
        &0xAAAA_BBBB_CCCC_DDDDu64.to_le_bytes()
    );
    // Different: ZF=0, memory into EDX:EAX, memory unchanged.
    c.r[0] = 0;
    run1(&mut c, &mut bus, &code).unwrap();
    assert_eq!(c.eflags & ZF, 0);
    assert_eq!((c.r[2], c.r[0]), (0xAAAA_BBBB, 0xCCCC_DDDD));
    assert_eq!(
        &bus.mem[0x9000..0x9008],
        &0xAAAA_BBBB_CCCC_DDDDu64.to_le_bytes()
    );
    // The register form is #UD.
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0xC7, 0xC8]), Err(ud()));
    // The 486 lacks it.
    let mut c = pm(Model32::I80486, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, &code), Err(ud()));
}

#[test]
fn sysenter_and_sysexit_load_flat_segments() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    // SYSENTER_CS = 0 → #GP(0).
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x34]), Err(gp(0)));
    c.p6.sysenter_cs = 0x10;
    c.p6.sysenter_esp = 0x7000;
    c.p6.sysenter_eip = 0x1234_5678;
    c.cpl = 3;
    c.eflags |= IF;
    run1(&mut c, &mut bus, &[0x0F, 0x34]).unwrap();
    // CS = 10h, SS = 18h, CPL 0, IF clear, ESP/EIP from the MSRs.
    assert_eq!((c.seg[CS].sel, c.seg[SS].sel, c.cpl), (0x10, 0x18, 0));
    assert_eq!((c.r[4], c.eip, c.eflags & IF), (0x7000, 0x1234_5678, 0));
    assert!(c.seg[CS].big() && c.seg[CS].limit == 0xFFFF_FFFF);
    // SYSEXIT: CS = 10h+16 | 3 = 23h, SS = 10h+24 | 3 = 2Bh, ESP = ECX, EIP = EDX.
    c.r[1] = 0x6000;
    c.r[2] = 0x4000;
    run1(&mut c, &mut bus, &[0x0F, 0x35]).unwrap();
    assert_eq!((c.seg[CS].sel, c.seg[SS].sel, c.cpl), (0x23, 0x2B, 3));
    assert_eq!((c.r[4], c.eip), (0x6000, 0x4000));
    assert_eq!(c.seg[CS].dpl(), 3);
    // SYSEXIT at CPL 3: #GP(0).
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x35]), Err(gp(0)));
}

#[test]
fn cr4_reserved_bits_fault() {
    let mut bus = FlatBus::new(0x10000);
    let mov_cr4_eax = [0x0F, 0x22, 0xE0];
    // No CR4 on the 486 model.
    let mut c = pm(Model32::I80486, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, &mov_cr4_eax), Err(ud()));
    // The Pentium takes PSE and VME (bit 0) but not PGE (bit 7) nor MCE
    // (bit 6, not implemented).
    let mut c = pm(Model32::Pentium, &mut bus);
    c.r[0] = p6::CR4_PSE | 1;
    assert_eq!(run1(&mut c, &mut bus, &mov_cr4_eax), Ok(()));
    assert_eq!(c.cr[4], p6::CR4_PSE | 1);
    c.r[0] = p6::CR4_PGE;
    assert_eq!(run1(&mut c, &mut bus, &mov_cr4_eax), Err(gp(0)));
    c.r[0] = 1 << 6;
    assert_eq!(run1(&mut c, &mut bus, &mov_cr4_eax), Err(gp(0)));
    let mut c = pm(Model32::PentiumPro, &mut bus);
    c.r[0] = p6::CR4_PGE | p6::CR4_OSFXSR | p6::CR4_PCE;
    assert_eq!(run1(&mut c, &mut bus, &mov_cr4_eax), Ok(()));
    c.r[0] = 1 << 10;
    assert_eq!(run1(&mut c, &mut bus, &mov_cr4_eax), Err(gp(0)));
    // CR4.DE: MOV from DR4 is #UD.
    c.cr[4] = p6::CR4_DE;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x21, 0xE0]), Err(ud()));
}

/// Page directory at 1000h, one page table at 2000h.
const PD: u32 = 0x1000;
const PT: u32 = 0x2000;

fn paged(model: Model32, cr4: u32) -> Cpu32 {
    let mut c = Cpu32::new(model);
    c.cr[3] = PD;
    c.cr[4] = cr4;
    c.cr[0] |= 0x8000_0001;
    c.flush_tlb_all();
    c
}

#[test]
fn global_pages_survive_cr3_loads_until_pge_toggles() {
    let mut bus = FlatBus::new(0x10000);
    // Linear 400000h (PDE 1) → PT at 2000h; PTE 0: phys 5000h global, PTE 1: phys 6000h not.
    bus.load(PD + 4, &(PT | 7).to_le_bytes());
    bus.load(PT, &(0x5000u32 | 0x107).to_le_bytes());
    bus.load(PT + 4, &(0x6000u32 | 7).to_le_bytes());
    let mut c = paged(Model32::PentiumPro, p6::CR4_PGE);
    assert_eq!(c.translate(&mut bus, 0x40_0010, false, false), Ok(0x5010));
    assert_eq!(c.translate(&mut bus, 0x40_1010, false, false), Ok(0x6010));
    // The OS remaps both and reloads CR3 (what MOV CR3 does to the TLB).
    bus.load(PT, &(0x7000u32 | 0x107).to_le_bytes());
    bus.load(PT + 4, &(0x8000u32 | 7).to_le_bytes());
    c.flush_tlb();
    // The global entry stays cached (the SDM: CR3 loads do not flush it);
    // the other is walked again.
    assert_eq!(c.translate(&mut bus, 0x40_0010, false, false), Ok(0x5010));
    assert_eq!(c.translate(&mut bus, 0x40_1010, false, false), Ok(0x8010));
    // Clearing CR4.PGE flushes everything.
    c.set_cr4(0).unwrap();
    assert_eq!(c.translate(&mut bus, 0x40_0010, false, false), Ok(0x7010));
}

/// The reference walk of the SDM (two levels, 4 MiB pages when CR4.PSE and
/// PDE.PS), with no CR0.WP: the physical address or the #PF error code.
fn reference_walk(
    pde: u32,
    pte: u32,
    pse: bool,
    lin: u32,
    write: bool,
    user: bool,
) -> Result<u32, u16> {
    let code = |p: bool| p as u16 | (write as u16) << 1 | (user as u16) << 2;
    if pde & 1 == 0 {
        return Err(code(false));
    }
    let (u, w, phys) = if pse && pde & 0x80 != 0 {
        (
            pde & 4 != 0,
            pde & 2 != 0,
            (pde & 0xFFC0_0000) | (lin & 0x3F_FFFF),
        )
    } else {
        if pte & 1 == 0 {
            return Err(code(false));
        }
        (
            pde & pte & 4 != 0,
            pde & pte & 2 != 0,
            (pte & 0xFFFF_F000) | (lin & 0xFFF),
        )
    };
    if (user && !u) || (user && write && !w) {
        return Err(code(true));
    }
    Ok(phys)
}

proptest! {
    #[test]
    fn four_mib_pages_match_the_reference_walk(
        pde_hi in any::<u32>(), pde_flags in 0u32..0x200, pte in any::<u32>(),
        pse in any::<bool>(), off in 0u32..0x40_0000, write in any::<bool>(), user in any::<bool>(),
    ) {
        let mut bus = FlatBus::new(0x10000);
        // Directory entry 3 (linear C00000h–FFFFFFh); a small page's table is at 2000h.
        let big = pse && pde_flags & 0x80 != 0;
        let pde = if big { (pde_hi & 0xFFC0_0000) | pde_flags } else { PT | (pde_flags & 0x1FF) };
        bus.load(PD + 12, &pde.to_le_bytes());
        let lin = 0xC0_0000 + off;
        let pte_addr = PT + ((lin >> 10) & 0xFFC);
        bus.load(pte_addr, &pte.to_le_bytes());
        let mut c = paged(Model32::Pentium, if pse { p6::CR4_PSE } else { 0 });
        let want = reference_walk(pde, pte, pse, lin, write, user);
        let got = c.translate(&mut bus, lin, write, user);
        match want {
            Ok(p) => {
                prop_assert_eq!(got, Ok(p));
                // Accessed set in the entry that mapped it; dirty on a write.
                let mapped = if big { PD + 12 } else { pte_addr };
                let e = u32::from_le_bytes(bus.mem[mapped as usize..mapped as usize + 4].try_into().unwrap());
                prop_assert!(e & 0x20 != 0);
                prop_assert_eq!(e & 0x40 != 0, write || (if big { pde } else { pte }) & 0x40 != 0);
                // A second access hits the TLB and agrees.
                prop_assert_eq!(c.translate(&mut bus, lin, false, user), Ok(p));
            }
            Err(code) => {
                prop_assert_eq!(got, Err(fault(14, code)));
                prop_assert_eq!(c.cr[2], lin);
            }
        }
    }
}

// --- the x87 on the core ---

const FLD1: &[u8] = &[0xD9, 0xE8];
const FLDZ: &[u8] = &[0xD9, 0xEE];
const FNSTSW_AX: &[u8] = &[0xDF, 0xE0];

#[test]
fn x87_arithmetic_and_stores_through_memory() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::I80486, &mut bus);
    // FLD1; FADD ST,ST → 2.0; FSTP dword [9000h] → 40000000h (IEEE single 2.0).
    run_all(
        &mut c,
        &mut bus,
        &[FLD1, &[0xD8, 0xC0], &[0xD9, 0x1D, 0, 0x90, 0, 0]],
    );
    assert_eq!(&bus.mem[0x9000..0x9004], &0x4000_0000u32.to_le_bytes());
    // FLD qword [9010h] of 1.5 (3FF8000000000000h), FISTP word [9020h]: rounds to nearest even = 2.
    bus.load(0x9010, &1.5f64.to_bits().to_le_bytes());
    run_all(
        &mut c,
        &mut bus,
        &[
            &[0xDD, 0x05, 0x10, 0x90, 0, 0],
            &[0xDF, 0x1D, 0x20, 0x90, 0, 0],
        ],
    );
    assert_eq!(&bus.mem[0x9020..0x9022], &[2, 0]);
    // FNSTSW AX: TOP back at 0; 1.5 → 2 was inexact (PE, bit 5) and rounded
    // up (C1, bit 9): 0220h in AX, EAX's upper half untouched.
    c.r[0] = 0xFFFF_FFFF;
    run1(&mut c, &mut bus, FNSTSW_AX).unwrap();
    assert_eq!(c.r[0], 0xFFFF_0220);
}

#[test]
fn x87_nm_rules_and_no_fpu_on_the_386() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::I80486, &mut bus);
    // TS: ESC → #NM; WAIT → #NM only with MP too.
    c.cr[0] |= 8;
    c.x87_regate();
    assert_eq!(run1(&mut c, &mut bus, FLD1), Err(fault_nc(7)));
    assert_eq!(run1(&mut c, &mut bus, &[0x9B]), Ok(()));
    c.cr[0] |= 2;
    assert_eq!(run1(&mut c, &mut bus, &[0x9B]), Err(fault_nc(7)));
    // EM alone: ESC → #NM.
    c.cr[0] = (c.cr[0] & !0xA) | 4;
    c.x87_regate();
    assert_eq!(run1(&mut c, &mut bus, FLD1), Err(fault_nc(7)));
    // A 386 without a 387: FNSTSW writes nothing (how BIOSes detect "no FPU").
    let mut c = pm(Model32::I80386, &mut bus);
    assert!(c.x87().is_none());
    c.r[0] = 0x5A5A;
    run1(&mut c, &mut bus, FNSTSW_AX).unwrap();
    assert_eq!(c.r[0], 0x5A5A);
    // With a 387 attached it answers 0.
    c.set_x87(true);
    run1(&mut c, &mut bus, &[0xDB, 0xE3]).unwrap(); // FNINIT
    run1(&mut c, &mut bus, FNSTSW_AX).unwrap();
    assert_eq!(c.r[0] & 0xFFFF, 0);
}

/// Unmask ZE (CW 037Bh), divide 1 by 0: ES set, reported at the next waiting instruction.
fn divide_by_zero(c: &mut Cpu32, bus: &mut FlatBus) {
    bus.load(0x9100, &0x037Bu16.to_le_bytes());
    run_all(
        c,
        bus,
        &[&[0xD9, 0x2D, 0x00, 0x91, 0, 0], FLDZ, FLD1, &[0xD8, 0xF1]],
    );
}

#[test]
fn x87_errors_give_mf_with_ne_and_ferr_without() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    c.cr[0] |= 0x20; // NE
    divide_by_zero(&mut c, &mut bus);
    // FNSTSW does not wait: SW has ES (bit 7) and ZE (bit 2).
    run1(&mut c, &mut bus, FNSTSW_AX).unwrap();
    assert_eq!(c.r[0] & 0x84, 0x84);
    // FWAIT and a waiting FLD report #MF (vector 16).
    assert_eq!(run1(&mut c, &mut bus, &[0x9B]), Err(fault_nc(16)));
    assert_eq!(run1(&mut c, &mut bus, FLD1), Err(fault_nc(16)));
    assert!(!c.ferr());
    // FNCLEX clears it.
    run1(&mut c, &mut bus, &[0xDB, 0xE2]).unwrap();
    assert_eq!(run1(&mut c, &mut bus, &[0x9B]), Ok(()));

    // NE=0: FERR# goes active at the error; no #MF.
    let mut c = pm(Model32::PentiumPro, &mut bus);
    c.cr[0] &= !0x20;
    divide_by_zero(&mut c, &mut bus);
    assert!(c.ferr());
    assert!(c.take_ferr());
    assert!(!c.take_ferr());
    assert_eq!(run1(&mut c, &mut bus, &[0x9B]), Ok(()));
    run1(&mut c, &mut bus, &[0xDB, 0xE2]).unwrap();
    assert!(!c.ferr());
}

#[test]
fn fcomi_sets_eflags_and_fcmov_is_p6_only() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    // ST0 = 0, ST1 = 1: FCOMI ST,ST(1) → 0 < 1: CF=1, ZF=0, PF=0; OF/SF/AF cleared.
    c.eflags |= OF | SF | AF | ZF | PF;
    run_all(&mut c, &mut bus, &[FLD1, FLDZ, &[0xDB, 0xF1]]);
    assert_eq!(c.eflags & STATUS, CF);
    // FCMOVB ST,ST(1) (CF=1): ST0 becomes 1; FSTP dword → 3F800000h.
    run_all(
        &mut c,
        &mut bus,
        &[&[0xDA, 0xC1], &[0xD9, 0x1D, 0, 0x90, 0, 0]],
    );
    assert_eq!(&bus.mem[0x9000..0x9004], &0x3F80_0000u32.to_le_bytes());
    let mut c = pm(Model32::Pentium, &mut bus);
    assert_eq!(run1(&mut c, &mut bus, &[0xDA, 0xC1]), Err(ud()));
    assert_eq!(run1(&mut c, &mut bus, &[0xDB, 0xF1]), Err(ud()));
}

#[test]
fn x87_store_to_a_missing_page_faults_and_leaves_the_fpu_alone() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::Pentium, &mut bus);
    // Identity-map 0–3FFFFFh with 4 MiB page... except use a page table:
    // linear 0–FFFFh present, 10000h not.
    bus.load(PD, &(PT | 7).to_le_bytes());
    for p in 0..16u32 {
        bus.load(PT + 4 * p, &((p << 12) | 7).to_le_bytes());
    }
    c.cr[3] = PD;
    c.cr[0] |= 0x8000_0000;
    run1(&mut c, &mut bus, FLD1).unwrap();
    let before = c.x87().unwrap().clone();
    // FSTP qword [0FFFCh]: the second half is on the missing page → #PF, write.
    let r = run1(&mut c, &mut bus, &[0xDD, 0x1D, 0xFC, 0xFF, 0, 0]);
    assert_eq!(r, Err(fault(14, 2)));
    assert_eq!(c.cr[2], 0x10000);
    assert_eq!(c.x87().unwrap(), before);
    // Nothing reached the present page either.
    assert_eq!(&bus.mem[0xFFFC..0x10000], &[0, 0, 0, 0]);
}

#[test]
fn fxsave_alignment_and_round_trip() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    // FXSAVE [9008h]: not 16-byte aligned → #GP(0).
    assert_eq!(
        run1(&mut c, &mut bus, &[0x0F, 0xAE, 0x05, 0x08, 0x90, 0, 0]),
        Err(gp(0))
    );
    run_all(
        &mut c,
        &mut bus,
        &[FLD1, &[0x0F, 0xAE, 0x05, 0x00, 0x90, 0, 0]],
    );
    // FCW 037Fh at 0, FSW with TOP=7 (3800h) at 2, abridged tag: R7 valid (80h) at 4;
    // ST0 = 1.0 at 32: significand 8000000000000000h, exponent 3FFFh.
    assert_eq!(&bus.mem[0x9000..0x9005], &[0x7F, 0x03, 0x00, 0x38, 0x80]);
    assert_eq!(
        &bus.mem[0x9020..0x902A],
        &[0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F]
    );
    let saved = c.x87().unwrap().clone();
    run1(&mut c, &mut bus, &[0xDB, 0xE3]).unwrap(); // FNINIT
    run1(&mut c, &mut bus, &[0x0F, 0xAE, 0x0D, 0x00, 0x90, 0, 0]).unwrap(); // FXRSTOR
    let back = c.x87().unwrap();
    assert_eq!(
        (back.cw, back.sw, back.top()),
        (saved.cw, saved.sw, saved.top())
    );
    assert_eq!(back.st(0), saved.st(0));
    // No FXSAVE before the P6.
    let mut c = pm(Model32::Pentium, &mut bus);
    assert_eq!(
        run1(&mut c, &mut bus, &[0x0F, 0xAE, 0x05, 0x00, 0x90, 0, 0]),
        Err(ud())
    );
}

#[test]
fn fnstenv_layout_follows_the_operand_size() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::I80486, &mut bus);
    run1(&mut c, &mut bus, FLD1).unwrap();
    // 32-bit protected-mode layout (28 bytes): FCW at 0, FSW at 4, FTW at 8.
    // After FLD1 from FNINIT: FCW 037Fh, FSW TOP=7 → 3800h, FTW: R7 valid (00),
    // the rest empty (11) → 3FFFh.
    bus.mem[0x9000..0x9040].fill(0xAA);
    run1(&mut c, &mut bus, &[0xD9, 0x35, 0x00, 0x90, 0, 0]).unwrap();
    assert_eq!(&bus.mem[0x9000..0x9002], &[0x7F, 0x03]);
    assert_eq!(&bus.mem[0x9004..0x9006], &[0x00, 0x38]);
    assert_eq!(&bus.mem[0x9008..0x900A], &[0xFF, 0x3F]);
    assert_eq!(bus.mem[0x901C], 0xAA, "nothing past 28 bytes");
    // With a 66h prefix: the 16-bit layout (14 bytes): FCW 0, FSW 2, FTW 4.
    bus.mem[0x9000..0x9040].fill(0xAA);
    run1(&mut c, &mut bus, &[0x66, 0xD9, 0x35, 0x00, 0x90, 0, 0]).unwrap();
    assert_eq!(
        &bus.mem[0x9000..0x9006],
        &[0x7F, 0x03, 0x00, 0x38, 0xFF, 0x3F]
    );
    assert_eq!(bus.mem[0x900E], 0xAA, "nothing past 14 bytes");
}

#[test]
fn p6_performance_counter_msrs_exist_and_keep_what_is_written() {
    // SDM vol. 3, P6-family performance monitoring: PerfEvtSel0/1 at
    // 186h/187h, PerfCtr0/1 at C1h/C2h (40 bits; WRMSR writes bits 0–31 and
    // sign-extends bit 31 into 32–39); RDPMC with ECX = 0/1 reads the
    // counters. Linux reads 186h at boot ("Failed to access perfctr msr"
    // when it faults), then writes a counter and expects the value back.
    let mut bus = FlatBus::new(0x10000);
    let mut c = pm(Model32::PentiumPro, &mut bus);
    let rdmsr = |c: &mut Cpu32, bus: &mut FlatBus, n: u32| {
        c.r[1] = n;
        run1(c, bus, &[0x0F, 0x32]).map(|()| (c.r[2] as u64) << 32 | c.r[0] as u64)
    };
    let wrmsr = |c: &mut Cpu32, bus: &mut FlatBus, n: u32, v: u64| {
        c.r[1] = n;
        c.r[0] = v as u32;
        c.r[2] = (v >> 32) as u32;
        run1(c, bus, &[0x0F, 0x30])
    };
    for n in [0x186, 0x187, 0xC1, 0xC2] {
        assert_eq!(rdmsr(&mut c, &mut bus, n), Ok(0), "MSR {n:X} at reset");
    }
    wrmsr(&mut c, &mut bus, 0x186, 0x0041_0079).unwrap();
    assert_eq!(rdmsr(&mut c, &mut bus, 0x186), Ok(0x0041_0079));
    wrmsr(&mut c, &mut bus, 0xC1, 0xFFFF).unwrap();
    assert_eq!(rdmsr(&mut c, &mut bus, 0xC1), Ok(0xFFFF));
    // Bit 31 set: bits 32–39 follow it, nothing above 39; EDX is ignored.
    wrmsr(&mut c, &mut bus, 0xC2, 0x1234_5678_8000_0001).unwrap();
    assert_eq!(rdmsr(&mut c, &mut bus, 0xC2), Ok(0xFF_8000_0001));
    c.r[1] = 1;
    run1(&mut c, &mut bus, &[0x0F, 0x33]).unwrap();
    assert_eq!((c.r[2], c.r[0]), (0xFF, 0x8000_0001));
    // The Pentium's counters are other MSRs (11h–13h, not modelled).
    let mut c = pm(Model32::Pentium, &mut bus);
    assert_eq!(rdmsr(&mut c, &mut bus, 0x186), Err(gp(0)));
}
