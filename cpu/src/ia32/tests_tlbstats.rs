//! The paging counters ([`TlbStats`]): guests whose walks, flushes and page
//! faults can be counted by reading their code. The TLB holds 256 entries
//! indexed by the low bits of the page number, so the pages below are
//! chosen with distinct low bits: no walk repeats for an evicted entry.

use super::tests::flat_pm_model;
use super::*;
use crate::FlatBus;

/// A 4 MiB bus, the flat 32-bit CPU of `model` at CPL 0 with paging on:
/// page directory at 10000h, one table at 11000h mapping linear 0–4 MiB to
/// the same physical addresses (present, writable, user), except the pages
/// listed in `absent`.
fn paged(model: Model32, absent: &[u32]) -> (Cpu32, FlatBus) {
    let mut bus = FlatBus::new(0x40_0000);
    let mut c = flat_pm_model(model, &mut bus);
    bus.load(0x1_0000, &0x1_1007u32.to_le_bytes());
    for i in 0..1024u32 {
        let pte = if absent.contains(&i) { 0 } else { i << 12 | 7 };
        bus.load(0x1_1000 + 4 * i, &pte.to_le_bytes());
    }
    c.cr[3] = 0x1_0000;
    c.cr[0] |= 0x8000_0000;
    (c, bus)
}

fn run_to_hlt(c: &mut Cpu32, bus: &mut FlatBus) {
    for _ in 0..10_000 {
        if c.halted() {
            return;
        }
        c.step(bus);
    }
    panic!("no HLT reached; EIP {:#x}", c.eip);
}

#[test]
fn walks_and_flushes_are_counted_by_cause() {
    let (mut c, mut bus) = paged(Model32::I80486, &[]);
    #[rustfmt::skip]
    let code = [
        0xB8, 0x00, 0x00, 0x01, 0x00,       // mov eax, 10000h
        0x0F, 0x22, 0xD8,                   // mov cr3, eax
        0xBB, 0x00, 0x00, 0x21, 0x00,       // mov ebx, 210000h
        0xB9, 0x08, 0x00, 0x00, 0x00,       // mov ecx, 8
        0x8B, 0x13,                         // l1: mov edx, [ebx]
        0x81, 0xC3, 0x00, 0x10, 0x00, 0x00, // add ebx, 1000h
        0xE2, 0xF6,                         // loop l1
        0xBB, 0x00, 0x00, 0x32, 0x00,       // mov ebx, 320000h
        0xB9, 0x05, 0x00, 0x00, 0x00,       // mov ecx, 5
        0x89, 0x0B,                         // l2: mov [ebx], ecx
        0x81, 0xC3, 0x00, 0x10, 0x00, 0x00, // add ebx, 1000h
        0xE2, 0xF6,                         // loop l2
        0xA3, 0x00, 0x00, 0x21, 0x00,       // mov [210000h], eax
        0x0F, 0x01, 0x3D, 0x00, 0x00, 0x21, 0x00, // invlpg [210000h]
        0xF4,                               // hlt
    ];
    bus.load(0x2000, &code);
    c.eip = 0x2000;
    let before = c.tlb_stats();
    run_to_hlt(&mut c, &mut bus);
    let s = c.tlb_stats();
    // Fetches walk page 2 three times: at the start (the TLB is empty after
    // reset), after MOV CR3 and after INVLPG emptied it.
    assert_eq!(s.walks_fetch - before.walks_fetch, 3);
    // Eight reads of eight new pages (210h-217h).
    assert_eq!(s.walks_read - before.walks_read, 8);
    // Five writes to new pages (320h-324h), and the write to page 210h,
    // whose entry the read left clean: the walk sets its dirty bit.
    assert_eq!(s.walks_write - before.walks_write, 6);
    assert_eq!(s.walks() - before.walks(), 17);
    assert_eq!(s.flushes_cr3 - before.flushes_cr3, 1);
    assert_eq!(s.flushes_invlpg - before.flushes_invlpg, 1);
    // INVLPG is the only whole-TLB flush here.
    assert_eq!(s.flushes_all - before.flushes_all, 1);
    assert_eq!(
        (s.flushes_cr0, s.flushes_cr4),
        (before.flushes_cr0, before.flushes_cr4)
    );
    assert_eq!(s.page_faults, before.page_faults);
    // The dirty bit of page 210h's PTE is set (bit 6).
    assert_ne!(bus.mem[0x1_1000 + 4 * 0x210] & 0x40, 0);
}

#[test]
fn cr0_and_cr4_flushes_and_a_page_fault_are_counted() {
    // Page 300h is not present.
    let (mut c, mut bus) = paged(Model32::PentiumPro, &[0x300]);
    // IDT at 3000h: vector 14 is a 32-bit interrupt gate to 08h:2100h.
    let gate = [0x00, 0x21, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00];
    bus.load(0x3000 + 14 * 8, &gate);
    c.idtr = (0x3000, 0x7FF);
    c.r[4] = 0x8000;
    #[rustfmt::skip]
    let code = [
        0x0F, 0x20, 0xC0,                   // mov eax, cr0
        0x0D, 0x00, 0x00, 0x01, 0x00,       // or eax, 10000h (WP)
        0x0F, 0x22, 0xC0,                   // mov cr0, eax
        0x0F, 0x20, 0xE0,                   // mov eax, cr4
        0x0D, 0x80, 0x00, 0x00, 0x00,       // or eax, 80h (PGE)
        0x0F, 0x22, 0xE0,                   // mov cr4, eax
        0x8B, 0x15, 0x00, 0x00, 0x30, 0x00, // mov edx, [300000h]
        0xF4,                               // hlt (not reached)
    ];
    bus.load(0x2000, &code);
    bus.load(0x2100, &[0xF4]); // the #PF handler: hlt
    c.eip = 0x2000;
    let before = c.tlb_stats();
    run_to_hlt(&mut c, &mut bus);
    let s = c.tlb_stats();
    // The handler ran: HLT at 2100h, CR2 the address, error code 0 (not
    // present, read, supervisor) below EFLAGS, CS and EIP.
    assert_eq!(c.eip, 0x2101);
    assert_eq!(c.cr[2], 0x30_0000);
    assert_eq!(c.r[4], 0x8000 - 16);
    assert_eq!(bus.mem[0x7FF0..0x7FF4], [0, 0, 0, 0]);
    assert_eq!(s.page_faults - before.page_faults, 1);
    assert_eq!(s.flushes_cr0 - before.flushes_cr0, 1);
    assert_eq!(s.flushes_cr4 - before.flushes_cr4, 1);
    assert_eq!(s.flushes_all - before.flushes_all, 2);
    assert_eq!(s.flushes_cr3, before.flushes_cr3);
}
