//! The decoded-instruction cache (`icache.rs`) must be invisible: a cached
//! instruction is used only while its bytes are still in memory, in the
//! same code size, inside the current code-segment limit. Each test runs
//! an instruction once (filling its slot), changes one of those things
//! behind the CPU's back, and runs it again at the same linear address.

use super::tests_fetch::flat32;
use super::*;
use crate::FlatBus;

#[test]
fn bytes_changed_by_the_board_without_invalidate_are_decoded_afresh() {
    let mut bus = FlatBus::new(0x1_0000);
    bus.load(0x2000, &[0xB8, 1, 0, 0, 0]); // mov eax, 1
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (1, 0x2005));
    // A DMA-like store that the CPU is not told about: now ADD EAX, 7
    // (05 imm32), the same length and address, a different instruction.
    bus.load(0x2000, &[0x05, 7, 0, 0, 0]);
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (8, 0x2005));
}

#[test]
fn a_cached_instruction_is_decoded_again_in_the_other_code_size() {
    // B8 is MOV eAX, imm: five bytes in 32-bit code, three in 16-bit code
    // (the operand size follows CS.D, Intel SDM vol. 3, 3.4.5).
    let mut bus = FlatBus::new(0x1_0000);
    bus.load(0x2000, &[0xB8, 0x11, 0x22, 0x33, 0x44]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (0x4433_2211, 0x2005));
    c.seg[CS].attr = 0x009B; // 16-bit code, same base
    c.eip = 0x2000;
    c.r[0] = 0;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (0x2211, 0x2003));
}

#[test]
fn a_cached_instruction_past_a_lowered_limit_faults() {
    // A fetch past CS.limit is #GP(0) (SDM vol. 3, 5.3); with IDT limit 0
    // the #GP cannot be delivered, #DF neither, and the CPU shuts down.
    let mut bus = FlatBus::new(0x1_0000);
    bus.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    assert_eq!(c.step(&mut bus), StepResult32::Executed);
    c.seg[CS].limit = 0x2003; // the last byte (2004h) is now outside
    c.eip = 0x2000;
    c.r[0] = 0;
    assert_eq!(c.step(&mut bus), StepResult32::Shutdown);
    assert_eq!(c.r[0], 0);
}

#[test]
fn a_cached_instruction_on_a_page_made_not_present_faults() {
    // Page tables at 10000h map linear 0–FFFFh one to one; the code page
    // 2000h is then marked not present and the TLB flushed by a CR3 load:
    // the fetch must #PF with CR2 = 2000h (SDM vol. 3, 4.7), not run the
    // cached instruction.
    let mut bus = FlatBus::new(0x2_0000);
    bus.load(0x1_0000, &0x1_1003u32.to_le_bytes());
    for i in 0..16u32 {
        bus.load(0x1_1000 + 4 * i, &(i << 12 | 3).to_le_bytes());
    }
    bus.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    let mut c = flat32(Model32::I80486);
    c.cr[3] = 0x1_0000;
    c.cr[0] |= 0x8000_0000;
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!(c.r[0], 1);
    bus.load(0x1_1008, &0u32.to_le_bytes());
    c.flush_tlb();
    c.eip = 0x2000;
    c.r[0] = 0;
    c.step(&mut bus);
    assert_eq!(c.cr[2], 0x2000);
    assert_eq!(c.r[0], 0);
}

/// A loop of ALU, memory, string and branch instructions, run with the
/// cache on and off: every register, the memory and the clock agree.
#[test]
fn the_cache_changes_no_result() {
    // 2000: mov ecx, 200          B9 C8 00 00 00
    // 2005: mov edi, 4000h        BF 00 40 00 00
    // 200A: add eax, ecx          01 C8
    // 200C: imul ebx, eax, 3      6B D8 03
    // 200F: xor [edi], ebx        31 1F
    // 2011: stosd                 AB
    // 2012: rol eax, 5            C1 C0 05
    // 2015: loop 200Ah            E2 F3
    // 2017: hlt                   F4
    let prog = [
        0xB9, 0xC8, 0, 0, 0, 0xBF, 0, 0x40, 0, 0, 0x01, 0xC8, 0x6B, 0xD8, 3, 0x31, 0x1F, 0xAB,
        0xC1, 0xC0, 5, 0xE2, 0xF3, 0xF4,
    ];
    let run = |cache: bool| {
        let mut bus = FlatBus::new(0x1_0000);
        bus.load(0x2000, &prog);
        let mut c = flat32(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        while !c.halted() {
            c.step(&mut bus);
        }
        (c.regs(), c.cycles(), c.instructions(), bus.mem)
    };
    let on = run(true);
    let off = run(false);
    assert_eq!(on.0, off.0);
    assert_eq!((on.1, on.2), (off.1, off.2));
    assert!(on.3 == off.3, "memory differs");
    // 2 set-up instructions, 200 passes of 6, the HLT.
    assert_eq!(on.2, 2 + 200 * 6 + 1);
}

/// A bus that lends none of its memory (as a board does for its BIOS ROM
/// and shadow RAM): every byte goes through `read`/`write` (also the
/// page walk's test in `mem.rs`).
pub(super) struct NoLend(pub(super) FlatBus);

impl Bus for NoLend {
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
}

#[test]
fn code_outside_plain_ram_is_checked_byte_by_byte() {
    // The same change behind the CPU's back as above, in memory the bus
    // does not lend: the cached MOV must not run again.
    let mut bus = NoLend(FlatBus::new(0x1_0000));
    bus.0.load(0x2000, &[0xB8, 1, 0, 0, 0]); // mov eax, 1
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (1, 0x2005));
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!(c.r[0], 1);
    bus.0.load(0x2004, &[1]); // mov eax, 01000001h
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (0x0100_0001, 0x2005));
}

#[test]
fn the_cache_changes_no_result_outside_plain_ram() {
    // A store into the loop's own immediate each pass (ADD EDX, imm8 whose
    // imm8 the loop increments, then a JMP as the 386/486 manuals require
    // after a store to code): DX = 1 + 2 + … + 50 = 1275 either way.
    // 2000: mov ecx, 50            B9 32 00 00 00
    // 2005: add byte [2010h], 1    80 05 10 20 00 00 01
    // 200C: jmp short 200Eh        EB 00
    // 200E: add edx, 0             83 C2 00   (imm8 at 2010h)
    // 2011: loop 2005h             E2 F2
    // 2013: hlt                    F4
    let prog = [
        0xB9, 0x32, 0, 0, 0, 0x80, 0x05, 0x10, 0x20, 0, 0, 0x01, 0xEB, 0x00, 0x83, 0xC2, 0x00,
        0xE2, 0xF2, 0xF4,
    ];
    let run = |cache: bool| {
        let mut bus = NoLend(FlatBus::new(0x1_0000));
        bus.0.load(0x2000, &prog);
        let mut c = flat32(Model32::I80486);
        c.set_decode_cache(cache);
        c.r[2] = 0;
        c.eip = 0x2000;
        while !c.halted() {
            c.step(&mut bus);
        }
        (c.regs(), c.cycles(), c.instructions())
    };
    let on = run(true);
    assert_eq!(on.0.r[2], 1275);
    assert_eq!(on, run(false));
}

/// A bus that lends its memory as plain RAM until `lend` is cleared (as a
/// board whose chipset maps the BIOS shadow back to ROM).
struct Switch {
    mem: FlatBus,
    lend: bool,
}

impl Bus for Switch {
    fn read(&mut self, addr: u32) -> u8 {
        self.mem.read(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.mem.write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.mem.io_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.mem.io_write(port, value)
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        if self.lend {
            self.mem.ram_mut(addr, len)
        } else {
            None
        }
    }
}

#[test]
fn a_cached_instruction_on_a_page_no_longer_lent_is_still_checked() {
    // Cached while the page was plain RAM; then the board stops lending it
    // and its bytes change: the new bytes run.
    let mut bus = Switch {
        mem: FlatBus::new(0x1_0000),
        lend: true,
    };
    bus.mem.load(0x2000, &[0xB8, 1, 0, 0, 0]); // mov eax, 1
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!(c.r[0], 1);
    bus.lend = false;
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!(c.r[0], 1);
    bus.mem.load(0x2001, &[3]); // mov eax, 3
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (3, 0x2005));
}

/// A [`FlatBus`] that vouches for its RAM ([`Bus::ram_generation`]): the
/// CPU may then run an instruction it checked in the current epoch without
/// reading its bytes again. `gen` is what a board bumps when memory
/// changes behind the CPU.
struct GenBus {
    flat: FlatBus,
    gen: u64,
    /// Lend the RAM in place too ([`Bus::ram_direct`]), as the AT board
    /// does: the string and memory forms then write it without a call.
    lend: bool,
}

impl Bus for GenBus {
    fn read(&mut self, addr: u32) -> u8 {
        self.flat.read(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.flat.write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.flat.io_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.flat.io_write(port, value)
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        self.flat.ram_mut(addr, len)
    }
    fn ram_generation(&self) -> Option<u64> {
        Some(self.gen)
    }
    fn ram_direct(&mut self) -> &mut [u8] {
        if self.lend {
            self.flat.ram_direct()
        } else {
            &mut []
        }
    }
}

fn gen_bus() -> GenBus {
    GenBus {
        flat: FlatBus::new(0x2_0000),
        gen: 0,
        lend: false,
    }
}

/// Run the instruction at `eip` three times (decoded, then checked
/// against memory, then trusted), starting from EAX = 0 each time.
fn run_thrice(c: &mut Cpu32, bus: &mut GenBus, eip: u32) {
    for _ in 0..3 {
        c.eip = eip;
        c.r[0] = 0;
        c.step(bus);
    }
}

/// Identity paging for linear 0–FFFFh (page directory 10000h, table
/// 11000h), supervisor and user, writable.
fn identity_paging(c: &mut Cpu32, bus: &mut GenBus) {
    bus.flat.load(0x1_0000, &0x1_1007u32.to_le_bytes());
    for i in 0..16u32 {
        bus.flat
            .load(0x1_1000 + 4 * i, &(i << 12 | 7).to_le_bytes());
    }
    c.cr[3] = 0x1_0000;
    c.cr[0] |= 0x8000_0000;
}

#[test]
fn code_the_cpu_rewrites_is_decoded_afresh_on_a_trusting_board() {
    let mut bus = gen_bus();
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]); // mov eax, 1
                                                // 3000: mov byte [2000h], 05h: MOV EAX, 1 becomes ADD EAX, 1.
    bus.flat.load(0x3000, &[0xC6, 0x05, 0x00, 0x20, 0, 0, 0x05]);
    let mut c = flat32(Model32::I80486);
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!((c.r[0], c.eip), (1, 0x2005));
    c.eip = 0x3000;
    c.step(&mut bus);
    assert_eq!(bus.flat.mem[0x2000], 0x05);
    c.eip = 0x2000;
    c.r[0] = 10;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (11, 0x2005));
}

#[test]
fn code_rewritten_through_another_linear_alias_is_decoded_afresh() {
    // Linear 5000h is remapped onto physical 2000h, where the code is: a
    // write there reaches the code's physical page, not its linear one.
    let mut bus = gen_bus();
    let mut c = flat32(Model32::I80486);
    identity_paging(&mut c, &mut bus);
    bus.flat.load(0x1_1000 + 4 * 5, &0x2007u32.to_le_bytes());
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    // 3000: mov byte [5000h], 05h
    bus.flat.load(0x3000, &[0xC6, 0x05, 0x00, 0x50, 0, 0, 0x05]);
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!(c.r[0], 1);
    c.eip = 0x3000;
    c.step(&mut bus);
    c.eip = 0x2000;
    c.r[0] = 10;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (11, 0x2005));
}

#[test]
fn memory_the_board_changes_is_decoded_afresh_when_it_says_so() {
    let mut bus = gen_bus();
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    let mut c = flat32(Model32::I80486);
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!(c.r[0], 1);
    // DMA: the board stores ADD EAX, 7 and bumps its generation.
    bus.flat.load(0x2000, &[0x05, 7, 0, 0, 0]);
    bus.gen += 1;
    c.eip = 0x2000;
    c.r[0] = 1;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (8, 0x2005));
}

#[test]
fn a_new_mapping_after_a_cr3_load_runs_the_new_page() {
    // Linear 2000h maps physical 2000h, then (after the TLB flush a CR3
    // load makes) physical 4000h, which holds different code.
    let mut bus = gen_bus();
    let mut c = flat32(Model32::I80486);
    identity_paging(&mut c, &mut bus);
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    bus.flat.load(0x4000, &[0xB8, 2, 0, 0, 0]);
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!(c.r[0], 1);
    bus.flat.load(0x1_1000 + 4 * 2, &0x4007u32.to_le_bytes());
    c.flush_tlb();
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!(c.r[0], 2);
}

#[test]
fn a_user_fetch_from_a_supervisor_page_faults_after_supervisor_runs() {
    // The code page is supervisor-only (PTE U/S = 0): CPL 0 runs it, CPL 3
    // fetching it must #PF (SDM vol. 3, 4.6) even though the instruction
    // is cached; error code 5 (present, read, user), CR2 = 2000h. IDT limit
    // 0: the fault shuts the CPU down.
    let mut bus = gen_bus();
    let mut c = flat32(Model32::I80486);
    identity_paging(&mut c, &mut bus);
    bus.flat.load(0x1_1000 + 4 * 2, &0x2003u32.to_le_bytes());
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!(c.r[0], 1);
    c.cpl = 3;
    c.eip = 0x2000;
    c.r[0] = 0;
    assert_eq!(c.step(&mut bus), StepResult32::Shutdown);
    assert_eq!(c.cr[2], 0x2000);
    assert_eq!(c.r[0], 0);
}

#[test]
fn an_epoch_number_coming_round_again_trusts_nothing_old() {
    // A slot checked in epoch 1; the counter then runs to its end and
    // wraps: epoch 1 again must not vouch for that slot. The bytes are
    // changed behind the CPU with no generation bump, so only a fresh
    // check can see them.
    let mut bus = gen_bus();
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]);
    let mut c = flat32(Model32::I80486);
    c.code_epoch = 1;
    c.bus_gen = Some(0); // the board's generation already seen
    run_thrice(&mut c, &mut bus, 0x2000);
    assert_eq!(c.r[0], 1);
    assert_eq!(c.code_epoch, 1);
    c.code_epoch = u32::MAX;
    c.new_code_epoch();
    assert_eq!(c.code_epoch, 1);
    bus.flat.load(0x2000, &[0xB8, 2, 0, 0, 0]);
    c.eip = 0x2000;
    c.step(&mut bus);
    assert_eq!(c.r[0], 2);
}

#[test]
fn a_pages_instructions_never_share_a_slot() {
    // Whatever the page, its 4096 byte offsets go to 4096 different slots,
    // so no instruction of a page evicts another of the same page.
    for page in [0u32, 1, 0xC14A4, 0xC14AB, 0xF_FFFF] {
        let mut seen = vec![false; icache::ICACHE_SLOTS];
        for off in 0..0x1000u32 {
            let s = icache::slot_index(page << 12 | off);
            assert!(!seen[s], "page {page:#x} offset {off:#x}");
            seen[s] = true;
        }
    }
}

#[test]
fn code_at_the_same_offset_of_two_pages_stays_cached_in_both() {
    // Two copies of `mov eax, 1` at the same page offset (like Linux's
    // mpihelp_addmul_1 at C14A4xxxh and mpihelp_submul_1 at C14ABxxxh,
    // which call in turn): after each has run once, both are cache hits.
    let mut bus = FlatBus::new(0x2_0000);
    bus.load(0x4_260, &[0xB8, 1, 0, 0, 0]);
    bus.load(0xB_260, &[0xB8, 2, 0, 0, 0]);
    let mut c = flat32(Model32::I80486);
    for eip in [0x4_260, 0xB_260] {
        c.eip = eip;
        c.step(&mut bus);
    }
    assert_eq!(c.r[0], 2);
    for eip in [0x4_260u32, 0xB_260] {
        c.eip = eip;
        assert!(c.icache_lookup(&mut bus, eip, true).is_some(), "{eip:#x}");
    }
}

/// `mov byte [addr], v` (C6 05 disp32 imm8) at `at`, run once.
fn store_byte(c: &mut Cpu32, bus: &mut GenBus, at: u32, addr: u32, v: u8) {
    let mut code = vec![0xC6, 0x05];
    code.extend_from_slice(&addr.to_le_bytes());
    code.push(v);
    bus.flat.load(at, &code);
    c.eip = at;
    c.step(bus);
    assert_eq!(bus.flat.mem[addr as usize], v);
}

#[test]
fn a_store_to_the_last_byte_of_an_instruction_across_two_code_lines_is_seen() {
    // MOV EAX, imm32 at 203Ch: its bytes 203Ch–2040h straddle the 64-byte
    // lines 2000h–203Fh and 2040h–207Fh; the store reaches only the second
    // (the immediate's top byte), which must still end the trust in it.
    for lend in [false, true] {
        let mut bus = gen_bus();
        bus.lend = lend;
        bus.flat.load(0x203C, &[0xB8, 1, 0, 0, 0]);
        let mut c = flat32(Model32::I80486);
        run_thrice(&mut c, &mut bus, 0x203C);
        assert_eq!((c.r[0], c.eip), (1, 0x2041));
        store_byte(&mut c, &mut bus, 0x3000, 0x2040, 0x12);
        c.eip = 0x203C;
        c.r[0] = 0;
        c.step(&mut bus);
        assert_eq!((c.r[0], c.eip), (0x1200_0001, 0x2041), "lend {lend}");
    }
}

#[test]
fn data_beside_code_on_its_page_leaves_the_code_trusted() {
    // A store to another 64-byte line of the code's page (a program's
    // variables after its code) does not send the cached code back to be
    // checked; a store into the code's own line does, and the new bytes run.
    for lend in [false, true] {
        let mut bus = gen_bus();
        bus.lend = lend;
        bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0]); // mov eax, 1
        let mut c = flat32(Model32::I80486);
        run_thrice(&mut c, &mut bus, 0x2000);
        let epoch = c.code_epoch;
        store_byte(&mut c, &mut bus, 0x3000, 0x2040, 0x77);
        store_byte(&mut c, &mut bus, 0x3000, 0x2FFF, 0x77);
        assert_eq!(
            c.code_epoch, epoch,
            "lend {lend}: data stores ended the epoch"
        );
        run_thrice(&mut c, &mut bus, 0x2000);
        assert_eq!(c.r[0], 1);
        // 2001h is the immediate's low byte: now MOV EAX, 5.
        store_byte(&mut c, &mut bus, 0x3000, 0x2001, 5);
        assert_ne!(
            c.code_epoch, epoch,
            "lend {lend}: a code store kept the epoch"
        );
        c.eip = 0x2000;
        c.step(&mut bus);
        assert_eq!((c.r[0], c.eip), (5, 0x2005), "lend {lend}");
    }
}

#[test]
fn a_string_store_over_code_on_its_page_is_seen() {
    // REP STOSB upward from 2000h (ECX = 100h) on RAM lent in place: the
    // string run's last bytes cover the cached MOV EAX, 1 at 20F0h, four
    // lines above where it began, with 40h bytes (INC EAX), which must run
    // afterwards.
    let mut bus = gen_bus();
    bus.lend = true;
    bus.flat.load(0x20F0, &[0xB8, 1, 0, 0, 0]);
    let mut c = flat32(Model32::I80486);
    run_thrice(&mut c, &mut bus, 0x20F0);
    bus.flat.load(0x3000, &[0xF3, 0xAA]); // rep stosb
    c.eip = 0x3000;
    c.r[0] = 0x40;
    c.r[1] = 0x100;
    c.r[7] = 0x2000;
    while c.eip == 0x3000 {
        c.step(&mut bus);
    }
    assert_eq!(&bus.flat.mem[0x20F0..0x20F5], &[0x40; 5]);
    c.eip = 0x20F0;
    c.r[0] = 7;
    c.step(&mut bus);
    assert_eq!((c.r[0], c.eip), (8, 0x20F1));
}
