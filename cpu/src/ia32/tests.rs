//! Behaviour tests of the ia32 core; expected values come from the Intel
//! manuals' rules, stated beside each check.

use super::*;
use crate::FlatBus;

/// A descriptor's 8 bytes from base, limit (20 bits), access byte and flags nibble.
pub(super) fn desc(base: u32, limit: u32, access: u8, flags: u8) -> [u8; 8] {
    let mut d = [0u8; 8];
    d[0..2].copy_from_slice(&(limit as u16).to_le_bytes());
    d[2..4].copy_from_slice(&(base as u16).to_le_bytes());
    d[4] = (base >> 16) as u8;
    d[5] = access;
    d[6] = ((limit >> 16) as u8 & 0xF) | (flags << 4);
    d[7] = (base >> 24) as u8;
    d
}

/// A 386 in 32-bit protected mode, CPL 0, flat code (08h) and data (10h)
/// segments, GDT at 0x1000 with room for more, IDT empty (limit 0).
fn flat_pm(bus: &mut FlatBus) -> Cpu32 {
    flat_pm_model(Model32::I80386, bus)
}

/// [`flat_pm`] for any model.
pub(super) fn flat_pm_model(model: Model32, bus: &mut FlatBus) -> Cpu32 {
    bus.load(0x1008, &desc(0, 0xFFFFF, 0x9B, 0xC));
    bus.load(0x1010, &desc(0, 0xFFFFF, 0x93, 0xC));
    let mut c = Cpu32::new(model);
    c.gdtr = (0x1000, 0x3F);
    c.idtr = (0, 0);
    c.cr[0] |= 1;
    c.seg[CS] = SegCache {
        sel: 8,
        base: 0,
        limit: 0xFFFF_FFFF,
        attr: 0xC09B,
        valid: true,
    };
    for s in [ES, SS, DS, FS, GS] {
        c.seg[s] = SegCache {
            sel: 0x10,
            base: 0,
            limit: 0xFFFF_FFFF,
            attr: 0xC093,
            valid: true,
        };
    }
    c
}

#[test]
fn reset_fetches_sixteen_bytes_below_4g() {
    // After RESET CS.base is FFFF0000h and EIP FFF0h: the first fetch is at
    // FFFFFFF0h. A 64 KiB flat bus sees that as FFF0h.
    let mut bus = FlatBus::new(0x10000);
    bus.load(0xFFF0, &[0xF4]);
    let mut c = Cpu32::new(Model32::I80386);
    assert_eq!(c.step(&mut bus), StepResult32::Executed);
    assert!(c.halted());
    assert_eq!(c.eip, 0xFFF1);
    // DX holds the component id: 03h for the 386 family.
    assert_eq!(c.r[2] >> 8, 3);
}

#[test]
fn real_mode_int_pushes_flags_cs_ip() {
    let mut bus = FlatBus::new(0x10000);
    // IVT entry 21h → 1234:5678.
    bus.load(0x21 * 4, &[0x78, 0x56, 0x34, 0x12]);
    // CS=0, IP=0x500: INT 21h.
    bus.load(0x500, &[0xCD, 0x21]);
    let mut c = Cpu32::new(Model32::I80386);
    c.seg[CS] = SegCache::real(0);
    c.eip = 0x500;
    c.r[4] = 0x2000;
    c.eflags |= IF;
    c.step(&mut bus);
    assert_eq!((c.seg[CS].sel, c.eip), (0x1234, 0x5678));
    // FLAGS, CS, IP pushed: IP (the next instruction, 0x502) on top.
    assert_eq!(c.r[4], 0x2000 - 6);
    assert_eq!(
        &bus.mem[0x1FFA..0x2000],
        &[0x02, 0x05, 0x00, 0x00, 0x02, 0x02]
    );
    // IF cleared by the interrupt.
    assert_eq!(c.eflags & IF, 0);
}

#[test]
fn segment_loads_fault_as_the_manual_says() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = flat_pm(&mut bus);
    // 18h: data segment not present; 20h: read-only data DPL 0; 28h: execute-only code.
    bus.load(0x1018, &desc(0, 0xFFFF, 0x13, 0));
    bus.load(0x1020, &desc(0, 0xFFFF, 0x91, 0));
    bus.load(0x1028, &desc(0, 0xFFFF, 0x99, 0));
    // Beyond the GDT limit (3Fh): #GP(selector).
    assert_eq!(c.load_seg(&mut bus, DS, 0x40), Err(gp(0x40)));
    // Not present: #NP(selector) for DS, #SS(selector) for SS.
    assert_eq!(c.load_seg(&mut bus, DS, 0x18), Err(fault(11, 0x18)));
    // A read-only segment cannot be SS: #GP(selector).
    assert_eq!(c.load_seg(&mut bus, SS, 0x20), Err(gp(0x20)));
    // Execute-only code cannot be loaded into a data register.
    assert_eq!(c.load_seg(&mut bus, ES, 0x28), Err(gp(0x28)));
    // A null selector is fine for DS but not for SS (#GP(0)).
    assert_eq!(c.load_seg(&mut bus, DS, 0), Ok(()));
    assert!(!c.seg[DS].valid);
    assert_eq!(c.load_seg(&mut bus, SS, 3), Err(gp(0)));
    // A good load sets the accessed bit in the descriptor.
    assert_eq!(c.load_seg(&mut bus, FS, 0x20), Ok(()));
    assert_eq!(bus.mem[0x1025] & 1, 1);
    // Using a null DS faults with #GP(0).
    assert_eq!(c.rd(&mut bus, DS, 0, 1), Err(gp(0)));
}

#[test]
fn expand_down_limits() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = flat_pm(&mut bus);
    // Expand-down writable data, limit 0FFFh, B=0: valid offsets 1000h..FFFFh.
    bus.load(0x1018, &desc(0, 0xFFF, 0x97, 0));
    c.load_seg(&mut bus, ES, 0x18).unwrap();
    assert_eq!(c.seg_lin(ES, 0xFFF, 1, mem::Acc::Read), Err(gp(0)));
    assert_eq!(c.seg_lin(ES, 0x1000, 1, mem::Acc::Read), Ok(0x1000));
    assert_eq!(c.seg_lin(ES, 0xFFFF, 2, mem::Acc::Read), Err(gp(0)));
}

#[test]
fn triple_fault_shuts_down() {
    // With an empty IDT, #UD cannot be delivered (#GP), nor can the #GP (#DF),
    // nor the #DF: shutdown.
    let mut bus = FlatBus::new(0x10000);
    let mut c = flat_pm(&mut bus);
    bus.load(0x3000, &[0x0F, 0xFF]);
    c.eip = 0x3000;
    assert_eq!(c.step(&mut bus), StepResult32::Shutdown);
}

#[test]
fn a_faulting_push_changes_nothing() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = flat_pm(&mut bus);
    // IDT at 0x2000: #PF (14) → 08:4000 interrupt gate.
    let gate = [0x00, 0x40, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00];
    bus.load(0x2000 + 14 * 8, &gate);
    c.idtr = (0x2000, 0xFF);
    // Paging: directory at 0x5000, table at 0x6000 maps the first 16 pages
    // except page 8 (0x8000) which is not present.
    bus.load(0x5000, &(0x6000u32 | 3).to_le_bytes());
    for p in 0..16u32 {
        if p != 8 {
            bus.load(0x6000 + 4 * p, &((p << 12) | 3).to_le_bytes());
        }
    }
    c.cr[3] = 0x5000;
    c.cr[0] |= 0x8000_0000;
    // PUSH EAX with ESP at 0x9000 writes to 0x8FFC: not present.
    bus.load(0x3000, &[0x50]);
    c.eip = 0x3000;
    c.r[4] = 0x9000;
    c.r[0] = 0xDEAD_BEEF;
    c.step(&mut bus);
    // Delivered to 08:4000; CR2 holds the address; the pushed EIP is the
    // PUSH itself (a fault restarts the instruction) with error code 2
    // (not present, write, supervisor). The handler's frame lands below the
    // faulting ESP... which is the same unmapped page, so the delivery
    // itself faults: #PF during #PF is a double fault, and with no #DF gate, shutdown.
    assert_eq!(c.cr[2], 0x8FFC);
    assert_eq!(c.step(&mut bus), StepResult32::Shutdown);
}

#[test]
fn page_fault_error_code_and_restart() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = flat_pm(&mut bus);
    let gate = [0x00, 0x40, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00];
    bus.load(0x2000 + 14 * 8, &gate);
    c.idtr = (0x2000, 0xFF);
    bus.load(0x5000, &(0x6000u32 | 3).to_le_bytes());
    for p in 0..16u32 {
        if p != 8 {
            bus.load(0x6000 + 4 * p, &((p << 12) | 3).to_le_bytes());
        }
    }
    c.cr[3] = 0x5000;
    c.cr[0] |= 0x8000_0000;
    // MOV [0x8010], EAX with the stack in a mapped page.
    bus.load(0x3000, &[0xA3, 0x10, 0x80, 0x00, 0x00]);
    c.eip = 0x3000;
    c.r[4] = 0xA000;
    c.step(&mut bus);
    assert_eq!(c.eip, 0x4000);
    assert_eq!(c.cr[2], 0x8010);
    // Stack: error code 2 (not present, write, supervisor), EIP 3000h, CS 08h, EFLAGS.
    let rd = |a: usize| u32::from_le_bytes(bus.mem[a..a + 4].try_into().unwrap());
    assert_eq!(c.r[4], 0xA000 - 16);
    assert_eq!(rd(0xA000 - 16), 2);
    assert_eq!(rd(0xA000 - 12), 0x3000);
    assert_eq!(rd(0xA000 - 8), 8);
}

/// A small deterministic generator for the random-bytes test.
fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn random_code_in_paged_protected_mode_never_panics() {
    let mut executed = 0;
    for seed in 1..=32u64 {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut bus = FlatBus::new(0x40000);
        for b in bus.mem.iter_mut() {
            *b = xorshift(&mut s) as u8;
        }
        // Page tables identity-map the first 256 KiB; a sane GDT.
        for i in 0..0x400 {
            bus.load(0x5000 + 4 * i, &[0; 4]);
        }
        bus.load(0x5000, &(0x6000u32 | 7).to_le_bytes());
        for p in 0..64u32 {
            bus.load(0x6000 + 4 * p, &((p << 12) | 7).to_le_bytes());
        }
        bus.load(0x1000, &[0; 8]);
        let mut c = flat_pm(&mut bus);
        c.cr[3] = 0x5000;
        c.cr[0] |= 0x8000_0000;
        c.idtr = (0x10000 + (seed as u32) * 0x100, 0x7FF);
        c.eip = 0x20000;
        c.r[4] = 0x30000;
        for r in c.r.iter_mut() {
            *r = xorshift(&mut s) as u32;
        }
        c.r[4] = 0x30000;
        for _ in 0..20_000 {
            if c.step(&mut bus) != StepResult32::Executed || c.halted() {
                c.eip = (xorshift(&mut s) as u32) & 0x3FFFF;
                c.shutdown = false;
                c.halted = false;
            }
        }
        executed += c.instructions();
    }
    // Most steps run an instruction; the rest deliver faults.
    assert!(executed > 32 * 1000, "only {executed} instructions ran");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Paging: a random directory and table entry, a random access; the
        /// translation and the fault match a walk written from the manual's
        /// rules (386: supervisor writes ignore R/W; 486 with CR0.WP: they don't).
        #[test]
        fn paging_matches_a_reference_walk(
            pde_flags in 0u32..8, pte_flags in 0u32..8, page in 0u32..16,
            off in 0u32..0x1000, write: bool, user: bool, wp: bool, i486: bool,
        ) {
            let mut bus = FlatBus::new(0x40000);
            let model = if i486 { Model32::I80486 } else { Model32::I80386 };
            let mut c = Cpu32::new(model);
            let lin = 0x0040_0000 | (page << 12) | off;
            bus.load(0x1004, &(0x2000 | pde_flags).to_le_bytes());
            let phys_page = 0x10000 + (page << 12);
            bus.load(0x2000 + 4 * page, &(phys_page | pte_flags).to_le_bytes());
            c.cr[3] = 0x1000;
            c.cr[0] |= 0x8000_0001 | if wp && i486 { 0x1_0000 } else { 0 };
            let got = c.translate(&mut bus, lin, write, user);
            // The reference walk.
            let (p, w, u) = (1, 2, 4);
            let code = |present: bool| (present as u16) | (write as u16) << 1 | (user as u16) << 2;
            let want = if pde_flags & p == 0 || pte_flags & p == 0 {
                Err(fault(14, code(false)))
            } else if (user && (pde_flags & pte_flags & u) == 0)
                || (write && (pde_flags & pte_flags & w) == 0 && (user || (wp && i486)))
            {
                // A protection violation: user access to a supervisor page,
                // or a write to a read-only one that the level must respect.
                Err(fault(14, code(true)))
            } else {
                Ok(phys_page | off)
            };
            prop_assert_eq!(got, want);
            let pte = u32::from_le_bytes(bus.mem[0x2000 + 4 * page as usize..][..4].try_into().unwrap());
            if got.is_ok() {
                prop_assert!(pte & 0x20 != 0, "accessed bit");
                prop_assert_eq!(pte & 0x40 != 0, write, "dirty bit");
            } else {
                prop_assert_eq!(c.cr[2], lin);
                prop_assert_eq!(pte & 0x60, 0, "no A/D on a fault");
            }
        }

        /// Segment loads: a random descriptor, selector RPL and CPL; the
        /// load succeeds exactly when the manual's checks pass, with the
        /// manual's fault otherwise.
        #[test]
        fn data_segment_loads_follow_the_checks(
            access in 0u32..256, rpl in 0u16..4, cpl in 0u8..4, ss: bool, beyond: bool,
        ) {
            let mut bus = FlatBus::new(0x10000);
            let mut c = flat_pm(&mut bus);
            bus.load(0x1018, &desc(0x4000, 0xFFFF, access as u8, 4));
            c.cpl = cpl;
            let sel = if beyond { 0x40 } else { 0x18 } | rpl;
            let s = if ss { SS } else { DS };
            let got = c.load_seg(&mut bus, s, sel);
            let a = access as u8;
            let (present, dpl, is_seg) = (a & 0x80 != 0, (a >> 5) & 3, a & 0x10 != 0);
            let code = a & 8 != 0;
            let conforming = code && a & 4 != 0;
            let readable = !code || a & 2 != 0;
            let writable = !code && a & 2 != 0;
            let sel_err = sel & 0xFFFC;
            let want = if beyond {
                Err(gp(sel_err))
            } else if ss {
                if rpl as u8 != cpl || !is_seg || !writable || dpl != cpl {
                    Err(gp(sel_err))
                } else if !present {
                    Err(fault(12, sel_err))
                } else {
                    Ok(())
                }
            } else if !is_seg || !readable || (!conforming && (rpl as u8 > dpl || cpl > dpl)) {
                Err(gp(sel_err))
            } else if !present {
                Err(fault(11, sel_err))
            } else {
                Ok(())
            };
            prop_assert_eq!(got, want);
            if got.is_ok() {
                prop_assert_eq!(c.seg[s].base, 0x4000);
                prop_assert_eq!(c.seg[s].sel, sel);
            }
        }
    }
}

/// A 286 in real mode with every segment at 0, SP at 2000h, the code at
/// 0:0100h and the handlers of interrupts 0 and 13 at 0:0600h and 0:0700h.
fn real286(bus: &mut FlatBus, code: &[u8]) -> Cpu32 {
    bus.load(0, &[0x00, 0x06, 0x00, 0x00]);
    bus.load(13 * 4, &[0x00, 0x07, 0x00, 0x00]);
    bus.load(0x100, code);
    let mut c = Cpu32::new(Model32::I80286);
    for s in [ES, CS, SS, DS] {
        c.seg[s] = SegCache::real(0);
    }
    c.eip = 0x100;
    c.r[4] = 0x2000;
    c
}

#[test]
fn the_286_steps_each_index_register_after_its_own_transfer() {
    // REP MOVSW with SI = FFFFh: the word read overruns DS, which the 286
    // reports as interrupt 13 in real mode. Its microcode has stepped SI past
    // the read (FFFFh + 2 = 1) and counted the iteration (CX 3 → 2); DI,
    // whose write never happened, stays.
    let mut bus = FlatBus::new(0x10000);
    let mut c = real286(&mut bus, &[0xF3, 0xA5]);
    c.r[1] = 3;
    c.r[6] = 0xFFFF;
    c.r[7] = 0x3000;
    c.step(&mut bus);
    assert_eq!(c.eip, 0x700, "interrupt 13 taken");
    assert_eq!((c.r[6], c.r[7], c.r[1]), (1, 0x3000, 2));
    // The pushed IP is the instruction's own (the REP prefix): a restart.
    assert_eq!(&bus.mem[0x1FFA..0x1FFC], &[0x00, 0x01]);
}

#[test]
fn the_286_cmps_reads_es_di_first() {
    // CMPSW with DI = FFFFh and SI = FFFFh: the 286 reads ES:DI first, so
    // the overrun comes with DI stepped and SI not.
    let mut bus = FlatBus::new(0x10000);
    let mut c = real286(&mut bus, &[0xA7]);
    c.r[6] = 0xFFFF;
    c.r[7] = 0xFFFF;
    c.step(&mut bus);
    assert_eq!(c.eip, 0x700);
    assert_eq!((c.r[6], c.r[7]), (0xFFFF, 1));
}

#[test]
fn the_286_pop_to_memory_keeps_the_pop_when_the_write_overruns() {
    // POP word [SI] with SI = FFFFh: the pop has completed (SP + 2) when the
    // write overruns; interrupt 13 then pushes its frame below that SP.
    let mut bus = FlatBus::new(0x10000);
    let mut c = real286(&mut bus, &[0x8F, 0x04]);
    c.r[6] = 0xFFFF;
    c.step(&mut bus);
    assert_eq!(c.eip, 0x700);
    assert_eq!(c.r[4], 0x2000 + 2 - 6);
}

#[test]
fn the_286_shifts_one_bit_at_a_time() {
    // SHL CH,16 (C0 E5 10) with CH = 81h: after eight one-bit steps the
    // byte is zero, the later steps shift zeros out: result 0, CF 0, OF =
    // sign XOR CF = 0, AF = bit 4 of the result = 0, ZF and PF set.
    let mut bus = FlatBus::new(0x10000);
    let mut c = real286(&mut bus, &[0xC0, 0xE5, 0x10]);
    c.r[1] = 0x8100;
    c.set_flags_for_test(CF | OF | AF);
    c.step(&mut bus);
    assert_eq!(c.r[1], 0);
    assert_eq!(c.eflags & STATUS, ZF | PF);
    // SHR AL,9 with AL = 80h: step 8 shifts the last one out (AL 01 → 0,
    // CF 1), step 9 shifts a zero out (CF 0); OF is the sign before the
    // last step (0); the 286 sets AF on right shifts.
    let mut c = real286(&mut bus, &[0xC0, 0xE8, 0x09]);
    c.r[0] = 0x80;
    c.step(&mut bus);
    assert_eq!(c.r[0] & 0xFF, 0);
    assert_eq!(c.eflags & STATUS, ZF | PF | AF);
}

#[test]
fn the_286_limits_an_instruction_to_ten_bytes() {
    // Four CS: prefixes and ADD word [0000h],1234h (81 06 00 00 34 12):
    // ten bytes execute; five prefixes make eleven, interrupt 13.
    let add = [0x81, 0x06, 0x00, 0x00, 0x34, 0x12];
    let mut bus = FlatBus::new(0x10000);
    let mut code = vec![0x2E; 4];
    code.extend_from_slice(&add);
    let mut c = real286(&mut bus, &code);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x10A);
    assert_eq!(&bus.mem[0..2], &[0x34, 0x18]);
    let mut code = vec![0x2E; 5];
    code.extend_from_slice(&add);
    let mut c = real286(&mut bus, &code);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x700);
}

#[test]
fn the_286_aam_0_leaves_pf_alone_set() {
    // AAM 0 divides by zero: interrupt 0, with the flags the division
    // microcode left (PF set, CF/AF/ZF/SF/OF clear) pushed.
    let mut bus = FlatBus::new(0x10000);
    let mut c = real286(&mut bus, &[0xD4, 0x00]);
    c.set_flags_for_test(CF | ZF | SF | OF);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x600);
    let pushed = u16::from_le_bytes([bus.mem[0x1FFE], bus.mem[0x1FFF]]) as u32;
    assert_eq!(pushed & STATUS, PF);
}

/// A flat protected-mode 386 with interrupt gates for #UD (6) at 08:4200h
/// and #DB (1) at 08:4000h, where a debugger-like handler sets RF in the
/// pushed EFLAGS (`OR dword [ESP+8], 10000h`) and returns (IRETD); the
/// stack at A000h.
fn debug_rig(bus: &mut FlatBus) -> Cpu32 {
    let mut c = flat_pm(bus);
    bus.load(
        0x2000 + 8,
        &[0x00, 0x40, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00],
    );
    bus.load(
        0x2000 + 6 * 8,
        &[0x00, 0x42, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00],
    );
    c.idtr = (0x2000, 0xFF);
    bus.load(
        0x4000,
        &[0x81, 0x4C, 0x24, 0x08, 0x00, 0x00, 0x01, 0x00, 0xCF],
    );
    c.r[4] = 0xA000;
    c.eip = 0x3000;
    c
}

fn rd32(bus: &FlatBus, a: usize) -> u32 {
    u32::from_le_bytes(bus.mem[a..a + 4].try_into().unwrap())
}

#[test]
fn instruction_breakpoint_faults_before_the_instruction_and_rf_resumes() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    // NOP, NOP, INC EAX; DR0 = 3002h, L0, R/W0 = 00 (execute), LEN0 = 00.
    bus.load(0x3000, &[0x90, 0x90, 0x40]);
    c.dr[0] = 0x3002;
    c.dr[7] = 0x401;
    c.step(&mut bus);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x3002);
    c.step(&mut bus);
    // A fault: the handler is entered with the INC not done, the pushed
    // EIP is the INC, DR6.B0 tells which breakpoint, and the pushed RF is 0
    // (the one fault that does not set it).
    assert_eq!((c.eip, c.r[0]), (0x4000, 0));
    assert_eq!(c.dr[6] & 0xF, 1);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3002);
    assert_eq!(rd32(&bus, 0xA000 - 4) & RF, 0);
    // The handler sets RF in the image and returns: the INC now executes
    // without a second #DB, and RF is clear after it.
    c.step(&mut bus);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x3002);
    assert_ne!(c.eflags & RF, 0);
    c.step(&mut bus);
    assert_eq!((c.eip, c.r[0]), (0x3003, 1));
    assert_eq!(c.eflags & RF, 0);
    // RF clear again: coming back to 3002h breaks again.
    c.eip = 0x3002;
    c.step(&mut bus);
    assert_eq!(c.eip, 0x4000);
}

#[test]
fn data_breakpoints_trap_after_the_access() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    // DR1 = 8003h with LEN1 = 01 (two bytes: aligned down, 8002h–8003h),
    // R/W1 = 01 (writes), G1.
    c.dr[1] = 0x8003;
    c.dr[7] = 0x400 | 1 << 3 | 0b01 << 20 | 0b01 << 22;
    // MOV EAX,[8002h] (a read: not watched), MOV [8004h],EAX (no overlap),
    // MOV [8000h],EAX (8000h–8003h overlaps).
    bus.load(
        0x3000,
        &[
            0xA1, 0x02, 0x80, 0x00, 0x00, 0xA3, 0x04, 0x80, 0x00, 0x00, 0xA3, 0x00, 0x80, 0x00,
            0x00,
        ],
    );
    c.r[0] = 0x1122_3344;
    bus.load(0x8000, &[0x11, 0x22, 0x33, 0x44]);
    c.step(&mut bus);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x300A);
    assert_eq!(c.dr[6] & 0xF, 0);
    let eax = c.r[0];
    c.step(&mut bus);
    // A trap: the write has happened, the pushed EIP is the next
    // instruction, DR6.B1 set.
    assert_eq!(c.eip, 0x4000);
    assert_eq!(rd32(&bus, 0x8000), eax);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x300F);
    assert_eq!(c.dr[6] & 0xF, 2);
    // R/W 11 watches reads too: a byte read at 8002h hits.
    let mut c = debug_rig(&mut bus);
    c.dr[1] = 0x8002;
    c.dr[7] = 0x400 | 1 << 2 | 0b11 << 20 | 0b01 << 22;
    bus.load(0x3000, &[0xA0, 0x02, 0x80, 0x00, 0x00]);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x4000);
    assert_eq!(c.dr[6] & 0xF, 2);
}

#[test]
fn single_step_and_a_data_breakpoint_are_one_debug_exception() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    c.dr[0] = 0x8000;
    c.dr[7] = 0x401 | 0b01 << 16;
    bus.load(0x3000, &[0xA3, 0x00, 0x80, 0x00, 0x00]);
    c.set_flags_for_test(TF);
    c.step(&mut bus);
    // DR6 has BS (bit 14) and B0; one frame of three dwords was pushed.
    assert_eq!(c.eip, 0x4000);
    assert_eq!(c.dr[6] & 0x400F, 0x4001);
    assert_eq!(c.r[4], 0xA000 - 12);
}

#[test]
fn a_breakpoint_in_a_repeated_string_traps_after_its_iteration() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    // REP STOSB, ECX = 8, EDI = 8000h; DR0 = 8003h, writes, one byte.
    bus.load(0x3000, &[0xF3, 0xAA]);
    c.r[1] = 8;
    c.r[7] = 0x8000;
    c.r[0] = 0x5A;
    c.dr[0] = 0x8003;
    c.dr[7] = 0x401 | 0b01 << 16;
    c.step(&mut bus);
    // Four iterations done (8000h–8003h), the trap taken with EIP at the
    // instruction (it is not finished) and RF set in the pushed EFLAGS (a
    // trap of an iteration that is not the last).
    assert_eq!(c.eip, 0x4000);
    assert_eq!((c.r[1], c.r[7]), (4, 0x8004));
    assert_eq!(&bus.mem[0x8000..0x8005], &[0x5A, 0x5A, 0x5A, 0x5A, 0x00]);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3000);
    assert_ne!(rd32(&bus, 0xA000 - 4) & RF, 0);
}

#[test]
fn general_detect_faults_mov_to_and_from_debug_registers() {
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    // MOV EAX,DR0 with DR7.GD: #DB before the move, DR6.BD (bit 13), GD
    // cleared for the handler, the pushed EIP the MOV and RF set in the
    // pushed image (a fault that is not an instruction breakpoint).
    bus.load(0x3000, &[0x0F, 0x21, 0xC0]);
    c.dr[0] = 0x1234;
    c.dr[7] = 0x400 | 1 << 13;
    c.r[0] = 0x77;
    c.step(&mut bus);
    assert_eq!((c.eip, c.r[0]), (0x4000, 0x77));
    assert_ne!(c.dr[6] & 1 << 13, 0);
    assert_eq!(c.dr[7] & 1 << 13, 0);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3000);
    assert_ne!(rd32(&bus, 0xA000 - 4) & RF, 0);
    // Returning to it, the move now works.
    c.step(&mut bus);
    c.step(&mut bus);
    c.step(&mut bus);
    assert_eq!(c.r[0], 0x1234);
}

#[test]
fn faults_push_rf_set() {
    // An invalid opcode is a fault: the EFLAGS image on the handler's stack
    // has RF set (so an instruction breakpoint on the restarted
    // instruction does not fire twice); EFLAGS itself has it clear.
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    bus.load(0x3000, &[0x0F, 0xFF]);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x4200);
    assert_ne!(rd32(&bus, 0xA000 - 4) & RF, 0);
    assert_eq!(c.eflags & RF, 0);
}

#[test]
fn an_x87_store_hits_a_data_breakpoint() {
    // A 386 with a 387: FLD1; FSTP qword [8000h] writes 1.0 as a double
    // (3FF0000000000000h, little-endian) over 8000h–8007h, which covers a
    // one-byte write breakpoint at 8006h: the trap follows the store.
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    c.set_x87(true);
    bus.load(0x3000, &[0xD9, 0xE8, 0xDD, 0x1D, 0x00, 0x80, 0x00, 0x00]);
    c.dr[0] = 0x8006;
    c.dr[7] = 0x401 | 0b01 << 16;
    c.step(&mut bus);
    assert_eq!(c.eip, 0x3002);
    c.step(&mut bus);
    assert_eq!(c.eip, 0x4000);
    assert_eq!(&bus.mem[0x8000..0x8008], &[0, 0, 0, 0, 0, 0, 0xF0, 0x3F]);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3008);
    assert_eq!(c.dr[6] & 0xF, 1);
    // A load across a 4 KiB boundary takes the byte-by-byte path and
    // reads the same value: FLD qword [8FFCh] with 1.0 stored there.
    let mut c = debug_rig(&mut bus);
    c.set_x87(true);
    bus.load(0x8FFC, &[0, 0, 0, 0, 0, 0, 0xF0, 0x3F]);
    bus.load(
        0x3000,
        &[
            0xDD, 0x05, 0xFC, 0x8F, 0x00, 0x00, 0xDD, 0x1D, 0x00, 0x70, 0x00, 0x00,
        ],
    );
    c.step(&mut bus);
    c.step(&mut bus);
    assert_eq!(&bus.mem[0x7000..0x7008], &[0, 0, 0, 0, 0, 0, 0xF0, 0x3F]);
}

#[test]
fn run_traps_after_the_first_instruction_that_begins_with_tf_set() {
    // `run` takes a short path at boundaries where nothing is pending; a
    // POPFD that sets TF must still make the next instruction trap (SDM
    // vol. 3, 17.3.1.4: the trap follows the first instruction executed
    // with TF set, not the POPFD itself).
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    // 3000 PUSHFD; 3001 POP EAX; 3002 OR EAX,100h; 3007 PUSH EAX;
    // 3008 POPFD; 3009 NOP; 300A NOP.
    bus.load(
        0x3000,
        &[
            0x9C, 0x58, 0x0D, 0x00, 0x01, 0x00, 0x00, 0x50, 0x9D, 0x90, 0x90,
        ],
    );
    assert_eq!(c.run(&mut bus, 6), StepResult32::Executed);
    // The #DB handler (gate 1 at 4000h) was entered after the NOP at 3009h:
    // the pushed EIP is the next one, DR6.BS is set, and the stack, level
    // again after the PUSH/POPFD pair, holds one three-dword frame.
    assert_eq!(c.eip, 0x4000);
    assert_eq!(c.r[4], 0xA000 - 12);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x300A);
    assert_ne!(rd32(&bus, 0xA000 - 4) & TF, 0);
    assert_ne!(c.dr[6] & 0x4000, 0);
}

#[test]
fn run_holds_a_requested_interrupt_while_if_is_clear_and_takes_it_after_sti_and_its_shadow() {
    // INTR stays asserted from the start (a timer request while a guest
    // runs with interrupts off): CLI and the instructions after it run;
    // STI enables interrupts only after the next instruction (SDM vol. 2,
    // STI), so the interrupt is taken at the boundary after the NOP that
    // follows it.
    let mut bus = FlatBus::new(0x10000);
    let mut c = debug_rig(&mut bus);
    // FlatBus answers INTA with FFh: an interrupt gate for vector FFh to
    // 4400h, where a HLT waits.
    c.idtr = (0x2000, 0x7FF);
    bus.load(
        0x2000 + 0xFF * 8,
        &[0x00, 0x44, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00],
    );
    bus.load(0x4400, &[0xF4]);
    // 3000 CLI; 3001 NOP; 3002 NOP; 3003 STI; 3004 NOP; 3005 NOP.
    bus.load(0x3000, &[0xFA, 0x90, 0x90, 0xFB, 0x90, 0x90]);
    c.set_intr(true);
    assert_eq!(c.run(&mut bus, 5), StepResult32::Executed);
    assert_eq!(c.eip, 0x3005, "five instructions ran, none interrupted");
    assert_eq!(c.r[4], 0xA000);
    c.run(&mut bus, 1);
    // The interrupt, not the NOP at 3005h: the handler runs, the frame
    // holds 3005h, and the gate cleared IF.
    assert_eq!(c.eip, 0x4400);
    assert_eq!(c.r[4], 0xA000 - 12);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3005);
    assert_eq!(c.eflags & IF, 0);
}
