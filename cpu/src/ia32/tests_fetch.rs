//! Code that changes under the CPU: the instruction fetch (and any cache of
//! fetched or decoded bytes) must see stores to code and changed page
//! mappings, as the Intel manuals prescribe: after a store to code, a jump
//! makes the new bytes visible on every model (386/486: "a jump
//! instruction must follow"), and after a PTE change the translation is
//! new once CR3 is reloaded or INVLPG names the page.

use super::*;
use crate::FlatBus;

/// A CPU of `model` in 32-bit protected mode, CPL 0, flat 4 GiB segments
/// (the caches loaded directly; no GDT is read by these tests).
pub(super) fn flat32(model: Model32) -> Cpu32 {
    let mut c = Cpu32::new(model);
    c.cr[0] |= 1;
    c.idtr = (0, 0);
    for s in 0..6 {
        c.seg[s] = SegCache {
            sel: if s == CS { 8 } else { 0x10 },
            base: 0,
            limit: 0xFFFF_FFFF,
            attr: if s == CS { 0xC09B } else { 0xC093 },
            valid: true,
        };
    }
    c.r[4] = 0x8000;
    c
}

/// xorshift64*: reproducible operands without a dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
    pub(super) fn below(&mut self, n: u32) -> u32 {
        self.u32() % n
    }
}

/// A flat memory whose owner vouches for it ([`Bus::ram_generation`]) and
/// lends it whole ([`Bus::ram_direct`]), as the AT board does its RAM: the
/// CPU trusts cached code until it writes the code's page itself (a write
/// that forgets to say so leaves stale code running), and the run loop's
/// fast lap runs.
pub(super) struct TrustBus(pub(super) FlatBus);

impl Bus for TrustBus {
    fn read(&mut self, addr: u32) -> u8 {
        self.0.read(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.0.write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.0.io_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.0.io_write(port, value)
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        self.0.ram_mut(addr, len)
    }
    fn ram_direct(&mut self) -> &mut [u8] {
        self.0.ram_direct()
    }
    fn ram_generation(&self) -> Option<u64> {
        Some(0)
    }
}

fn run_to_halt(c: &mut Cpu32, bus: &mut FlatBus) {
    for _ in 0..1000 {
        if c.halted() {
            return;
        }
        assert_eq!(c.step(bus), StepResult32::Executed, "EIP {:#x}", c.eip);
    }
    panic!("no HLT within 1000 steps (EIP {:#x})", c.eip);
}

#[test]
fn a_store_into_the_next_instruction_is_executed_after_a_jump() {
    let mut bus = FlatBus::new(0x2_0000);
    // 2000: mov byte [200Ah], 42h   (C6 05 disp32 imm8: 7 bytes)
    // 2007: jmp short 2009h          (EB 00)
    // 2009: mov eax, 44332211h       (B8 imm32: the imm's low byte at 200Ah)
    // 200E: hlt
    bus.load(
        0x2000,
        &[
            0xC6, 0x05, 0x0A, 0x20, 0x00, 0x00, 0x42, 0xEB, 0x00, 0xB8, 0x11, 0x22, 0x33, 0x44,
            0xF4,
        ],
    );
    for model in [Model32::I80386, Model32::I80486] {
        let mut b = bus.clone();
        let mut c = flat32(model);
        c.eip = 0x2000;
        run_to_halt(&mut c, &mut b);
        assert_eq!(
            c.r[0], 0x4433_2242,
            "{model:?}: the stored byte was not fetched"
        );
    }
}

#[test]
fn a_loop_that_rewrites_its_own_immediate_sees_each_new_value() {
    // Real mode, 16-bit code:
    // 7C00: mov cx, 3                 B9 03 00
    // 7C03: add byte [7C0Ch], 1       80 06 0C 7C 01   (the imm8 below)
    // 7C08: jmp short 7C0Ah           EB 00
    // 7C0A: add dx, 0                 83 C2 00         (imm8 at 7C0Ch)
    // 7C0D: loop 7C03h                E2 F4
    // 7C0F: hlt                       F4
    // Each pass adds the just-incremented value: DX = 1 + 2 + 3 = 6.
    let mut bus = FlatBus::new(0x1_0000);
    bus.load(
        0x7C00,
        &[
            0xB9, 0x03, 0x00, 0x80, 0x06, 0x0C, 0x7C, 0x01, 0xEB, 0x00, 0x83, 0xC2, 0x00, 0xE2,
            0xF4, 0xF4,
        ],
    );
    let mut c = Cpu32::new(Model32::I80386);
    c.seg[CS] = SegCache {
        sel: 0,
        base: 0,
        limit: 0xFFFF,
        attr: 0x9B,
        valid: true,
    };
    c.eip = 0x7C00;
    c.r[2] = 0; // DX holds the component id after reset
    run_to_halt(&mut c, &mut bus);
    assert_eq!(c.r[2] & 0xFFFF, 6);
}

/// Page tables at 10000h: the first 128 KiB identity-mapped, linear 400000h
/// onto physical 5000h. Paging on.
fn paged(model: Model32, bus: &mut FlatBus) -> Cpu32 {
    let mut c = flat32(model);
    bus.load(0x1_0000, &0x1_1003u32.to_le_bytes());
    bus.load(0x1_0004, &0x1_2003u32.to_le_bytes());
    for i in 0..32u32 {
        bus.load(0x1_1000 + 4 * i, &(i << 12 | 3).to_le_bytes());
    }
    bus.load(0x1_2000, &0x5003u32.to_le_bytes());
    c.cr[3] = 0x1_0000;
    c.cr[0] |= 0x8000_0000;
    c
}

/// CALL 400000h, MOV EBX,EAX, point the PTE of 400000h at 6000h, `flush`,
/// CALL 400000h again, HLT. Page 5000h returns 1 in EAX, page 6000h 2.
fn remap_program(flush: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    let call = |p: &mut Vec<u8>| {
        let next = 0x2000 + p.len() as u32 + 5;
        p.push(0xE8);
        p.extend_from_slice(&0x40_0000u32.wrapping_sub(next).to_le_bytes());
    };
    call(&mut p);
    p.extend_from_slice(&[0x89, 0xC3]); // mov ebx, eax
    p.extend_from_slice(&[0xC7, 0x05, 0x00, 0x20, 0x01, 0x00, 0x03, 0x60, 0x00, 0x00]);
    p.extend_from_slice(flush);
    call(&mut p);
    p.push(0xF4);
    p
}

fn run_remap(model: Model32, flush: &[u8]) -> (u32, u32) {
    let mut bus = FlatBus::new(0x2_0000);
    let mut c = paged(model, &mut bus);
    bus.load(0x5000, &[0xB8, 1, 0, 0, 0, 0xC3]); // mov eax, 1 ; ret
    bus.load(0x6000, &[0xB8, 2, 0, 0, 0, 0xC3]); // mov eax, 2 ; ret
    bus.load(0x2000, &remap_program(flush));
    c.eip = 0x2000;
    run_to_halt(&mut c, &mut bus);
    (c.r[3], c.r[0])
}

#[test]
fn code_is_fetched_through_the_new_mapping_after_a_cr3_reload() {
    // mov eax, cr3 ; mov cr3, eax
    let flush = [0x0F, 0x20, 0xD8, 0x0F, 0x22, 0xD8];
    assert_eq!(run_remap(Model32::I80386, &flush), (1, 2));
}

#[test]
fn code_is_fetched_through_the_new_mapping_after_invlpg() {
    // invlpg [400000h] (486)
    let flush = [0x0F, 0x01, 0x3D, 0x00, 0x00, 0x40, 0x00];
    assert_eq!(run_remap(Model32::I80486, &flush), (1, 2));
}

#[test]
fn code_runs_across_a_page_boundary_into_a_remapped_page() {
    // An instruction split over two pages: MOV EAX, imm32 starting 2 bytes
    // before linear 401000h, whose second page maps to physical 7000h. The
    // window stops at the page end, so the rest comes through the second
    // translation.
    let mut bus = FlatBus::new(0x2_0000);
    let mut c = paged(Model32::I80386, &mut bus);
    bus.load(0x1_2004, &0x7003u32.to_le_bytes());
    bus.load(0x5FFE, &[0xB8, 0x78]); // mov eax, 12345678h: B8 78 | 56 34 12
    bus.load(0x7000, &[0x56, 0x34, 0x12, 0xF4]);
    c.eip = 0x40_0FFE;
    run_to_halt(&mut c, &mut bus);
    assert_eq!(c.r[0], 0x1234_5678);
    assert_eq!(c.eip, 0x40_1004);
}

#[test]
fn a_fetch_from_a_not_present_page_faults_at_the_first_missing_byte() {
    // The same split instruction with the second page not present: #PF
    // with CR2 at the first byte of the missing page, and EIP left at the
    // instruction (the IDT limit 0 turns it into a shutdown through #DF).
    let mut bus = FlatBus::new(0x2_0000);
    let mut c = paged(Model32::I80386, &mut bus);
    bus.load(0x5FFE, &[0xB8, 0x78]);
    c.eip = 0x40_0FFE;
    let _ = c.step(&mut bus);
    assert_eq!(c.cr[2], 0x40_1000);
}

/// Runs `c` on `bus` until it halts or shuts down (the lap's decoded forms
/// take over once each loop body has run once); panics if it is still
/// running after a million instructions.
pub(super) fn run_to_end(c: &mut Cpu32, bus: &mut TrustBus) -> StepResult32 {
    for _ in 0..100 {
        let r = c.run(bus, 10_000);
        if r != StepResult32::Executed || c.halted() {
            return r;
        }
    }
    panic!("still running at EIP {:#x}", c.eip);
}
