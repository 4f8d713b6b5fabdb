//! The run loop's fast path (`slice.rs`, `Cpu32::fast_lap`) must be
//! invisible: [`Cpu32::run`] and [`Cpu32::run_slice`] give what whole
//! steps give. Each test runs a loop long enough for its instructions to
//! be stamped (decoded on the first pass, checked on the second, taken on
//! one comparison from the third), then changes one thing the fast path
//! tests (or relies on not changing) and checks the architectural
//! outcome, which the test works out from the manuals.

use super::tests_fetch::flat32;
use super::*;
use crate::FlatBus;

/// A board that vouches for its RAM ([`Bus::ram_generation`]), can rewrite
/// code on its `n`th OUT as a DMA would (bumping its generation), and
/// records what a slicing board is told.
pub(super) struct LapBus {
    pub(super) flat: FlatBus,
    pub(super) gen: u64,
    outs: u32,
    /// On this OUT (1-based), store these bytes at this address.
    rewrite: Option<(u32, u32, Vec<u8>)>,
    /// Every [`Bus::slice_clock`] value, in order.
    pub(super) clocks: Vec<u64>,
    /// The slice clock last told at each OUT: the time a device sees.
    pub(super) out_clocks: Vec<u64>,
    /// An OUT since the last [`Bus::take_slice_end`].
    touched: bool,
    /// Answer [`Bus::slice_events`] (else None: the CPU asks
    /// `take_slice_end` and `ram_generation` after every instruction).
    events: bool,
    /// Memory here is a device: not lent ([`Bus::ram_mut`] says None), so
    /// the CPU reads and writes it byte by byte; a write is an event that
    /// ends the slice, as an OUT is.
    pub(super) mmio: std::ops::Range<u32>,
    /// Each byte access to `mmio`: the slice clock last told (the time the
    /// device sees), the address, the byte, and whether it was a write.
    pub(super) mmio_log: Vec<(u64, u32, u8, bool)>,
    mmio_writes: u64,
}

impl LapBus {
    pub(super) fn new() -> Self {
        LapBus {
            flat: FlatBus::new(0x2_0000),
            gen: 0,
            outs: 0,
            rewrite: None,
            clocks: Vec::new(),
            out_clocks: Vec::new(),
            touched: false,
            events: true,
            mmio: 0..0,
            mmio_log: Vec::new(),
            mmio_writes: 0,
        }
    }
}

impl Bus for LapBus {
    fn read(&mut self, addr: u32) -> u8 {
        let v = self.flat.read(addr);
        if self.mmio.contains(&addr) {
            let now = self.clocks.last().copied().unwrap_or(0);
            self.mmio_log.push((now, addr, v, false));
        }
        v
    }
    fn write(&mut self, addr: u32, value: u8) {
        if self.mmio.contains(&addr) {
            let now = self.clocks.last().copied().unwrap_or(0);
            self.mmio_log.push((now, addr, value, true));
            self.touched = true;
            self.mmio_writes += 1;
        }
        self.flat.write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.flat.io_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.touched = true;
        self.out_clocks
            .push(self.clocks.last().copied().unwrap_or(0));
        self.outs += 1;
        if let Some((n, at, bytes)) = &self.rewrite {
            if *n == self.outs {
                self.flat.load(*at, bytes);
                self.gen += 1;
            }
        }
        self.flat.io_write(port, value)
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let end = addr.checked_add(len)?;
        if addr < self.mmio.end && self.mmio.start < end {
            return None;
        }
        self.flat.ram_mut(addr, len)
    }
    fn ram_generation(&self) -> Option<u64> {
        Some(self.gen)
    }
    fn slice_clock(&mut self, cycles: u64) {
        self.clocks.push(cycles);
    }
    fn take_slice_end(&mut self) -> bool {
        std::mem::take(&mut self.touched)
    }
    fn slice_events(&self) -> Option<u64> {
        // All only grow: the sum changes whenever one does.
        self.events
            .then_some(self.gen + self.outs as u64 + self.mmio_writes)
    }
}

/// Real mode with every segment at 0, SP = 8000h, IF clear.
fn real0() -> Cpu32 {
    let mut c = Cpu32::new(Model32::I80386);
    for s in 0..6 {
        c.seg[s] = SegCache::real(0);
    }
    c.seg[CS].attr = 0x9B;
    c.r[4] = 0x8000;
    c
}

#[test]
fn a_lowered_code_limit_between_runs_is_seen_by_the_fast_path() {
    // 2000: mov eax, 1; jmp 2000. Twenty instructions run it ten times
    // (stamped); then CS.limit = 2003h leaves the MOV's last byte (2004h)
    // outside, and its fetch is #GP(0) (SDM vol. 3, 5.3): with IDT limit 0
    // that shuts the CPU down with EIP at the MOV.
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0, 0xEB, 0xF9]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    assert_eq!(c.run(&mut bus, 20), StepResult32::Executed);
    assert_eq!((c.eip, c.instructions()), (0x2000, 20));
    c.seg[CS].limit = 0x2003;
    assert_eq!(c.run(&mut bus, 20), StepResult32::Shutdown);
    assert_eq!((c.eip, c.instructions()), (0x2000, 20));
}

#[test]
fn a_far_return_to_a_narrower_code_segment_in_a_run_faults_at_its_limit() {
    // RETF runs four times back to selector 8 (the code segment it is in:
    // nothing changes, so it and MOV EAX, 1 run on the fast path), then
    // once to selector 18h: the same base and size, limit 2003h. The
    // return is good (offset 2000h is inside), the MOV's fetch then is
    // not (its last byte is 2004h): #GP(0) (SDM vol. 3, 5.3), shutdown
    // with IDT limit 0, EIP = 2000h, CS = 18h.
    let mut bus = LapBus::new();
    // GDT at 1000h: null, 08h flat 32-bit code, 10h flat data, 18h code
    // with limit 2003h (byte granular), 32-bit.
    let gdt: [[u8; 8]; 4] = [
        [0; 8],
        [0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0],
        [0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0],
        [0x03, 0x20, 0, 0, 0, 0x9B, 0x40, 0],
    ];
    bus.flat.load(0x1000, gdt.as_flattened());
    bus.flat.load(
        0x2000,
        &[
            0xB8, 1, 0, 0, 0,    // 2000: mov eax, 1
            0x49, // 2005: dec ecx
            0x74, 0x08, // 2006: jz 2010
            0x6A, 0x08, // 2008: push 8
            0x68, 0x00, 0x20, 0, 0,    // 200A: push 2000h
            0xCB, // 200F: retf
            0x6A, 0x18, // 2010: push 18h
            0x68, 0x00, 0x20, 0, 0, // 2012: push 2000h
            0xEB, 0xF6, // 2017: jmp 200F
        ],
    );
    let mut c = flat32(Model32::I80486);
    c.gdtr = (0x1000, 0x1F);
    c.eip = 0x2000;
    c.r[1] = 5;
    assert_eq!(c.run(&mut bus, 1000), StepResult32::Shutdown);
    assert_eq!((c.eip, c.seg[CS].sel, c.r[1]), (0x2000, 0x18, 0));
    // 4 × (mov, dec, jz, push, push, retf), then mov, dec, jz, push,
    // push, jmp, retf.
    assert_eq!(c.instructions(), 31);
}

#[test]
fn code_a_board_rewrites_during_an_out_runs_new_in_the_same_run() {
    // Loop: mov eax, 1; add ebx, eax; out 80h, al; dec ecx; jnz. On the
    // fourth OUT the board stores MOV EAX, 2 over the first instruction
    // and bumps its RAM generation (as DMA does): the fifth and sixth
    // passes add 2, so EBX = 4 × 1 + 2 × 2 = 8.
    let mut bus = LapBus::new();
    bus.flat.load(
        0x2000,
        &[
            0xB8, 1, 0, 0, 0, // mov eax, 1
            0x01, 0xC3, // add ebx, eax
            0xE6, 0x80, // out 80h, al
            0x49, // dec ecx
            0x75, 0xF4, // jnz 2000
            0xF4, // hlt
        ],
    );
    bus.rewrite = Some((4, 0x2001, vec![2]));
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.r[1] = 6;
    assert_eq!(c.run(&mut bus, 1000), StepResult32::Halted);
    assert_eq!((c.r[3], c.eip), (8, 0x200D));
}

/// Run `table`'s words through POPF, one per pass of
/// `lodsw; push ax; popf; inc bx; jmp` (real mode, code at 1000h), with
/// the handlers of vectors 1 and FFh at 2000h (HLT). Returns the CPU once
/// it halts.
fn popf_loop(table: &[u16], intr: bool) -> (Cpu32, LapBus) {
    let mut bus = LapBus::new();
    bus.flat.load(
        0x1000,
        &[
            0xAD, // 1000: lodsw
            0x50, // 1001: push ax
            0x9D, // 1002: popf
            0x43, // 1003: inc bx
            0xEB, 0xFA, // 1004: jmp 1000
        ],
    );
    let words: Vec<u8> = table.iter().flat_map(|w| w.to_le_bytes()).collect();
    bus.flat.load(0x1100, &words);
    bus.flat.load(0x2000, &[0xF4]);
    bus.flat.load(4, &[0x00, 0x20, 0, 0]); // vector 1: 0000:2000
    bus.flat.load(0x3FC, &[0x00, 0x20, 0, 0]); // vector FFh (Bus::inta's default)
    let mut c = real0();
    c.eip = 0x1000;
    c.r[6] = 0x1100;
    c.set_intr(intr);
    assert_eq!(c.run(&mut bus, 1000), StepResult32::Halted);
    (c, bus)
}

/// The return IP an interrupt or trap pushed (real mode: IP, CS, FLAGS).
fn pushed_ip(c: &Cpu32, bus: &LapBus) -> u16 {
    let sp = c.r[4] as usize & 0xFFFF;
    u16::from_le_bytes([bus.flat.mem[sp], bus.flat.mem[sp + 1]])
}

#[test]
fn an_interrupt_waiting_for_if_is_taken_right_after_the_popf_that_sets_it() {
    // INTR is raised throughout; the fourth POPF loads IF = 1 (0202h), and
    // the interrupt is taken at the very next boundary (SDM vol. 3, 6.8.1:
    // POPF opens no interrupt shadow), before INC BX: BX = 3, return IP
    // 1003h.
    let (c, bus) = popf_loop(&[2, 2, 2, 0x202], true);
    assert_eq!(c.r[3] & 0xFFFF, 3);
    assert_eq!(pushed_ip(&c, &bus), 0x1003);
}

#[test]
fn popf_setting_tf_traps_after_the_next_instruction_in_a_run() {
    // The fourth POPF sets TF (0102h): the single-step trap comes after
    // the instruction that follows it (SDM vol. 3, 17.3.1.4), INC BX, so
    // BX = 4 and the trap returns to 1004h.
    let (c, bus) = popf_loop(&[2, 2, 2, 0x102], false);
    assert_eq!(c.r[3] & 0xFFFF, 4);
    assert_eq!(pushed_ip(&c, &bus), 0x1004);
}

#[test]
fn a_fault_in_a_run_restores_the_registers_the_instruction_began_with() {
    // inc ebx; mov eax, [esi]; add esi, 1000h; jmp. DS.limit = 5FFFh: the
    // fourth MOV reads at 6000h, past the limit: #GP(0) (SDM vol. 3,
    // 5.3), shutdown (IDT limit 0), with every register as the MOV found
    // it: EBX = 4, ESI = 6000h, EAX the third load's (3333h), EIP at the
    // MOV; 3 × 4 + 1 instructions completed.
    let mut bus = LapBus::new();
    bus.flat.load(
        0x2000,
        &[
            0x43, // 2000: inc ebx
            0x8B, 0x06, // 2001: mov eax, [esi]
            0x81, 0xC6, 0x00, 0x10, 0, 0, // 2003: add esi, 1000h
            0xEB, 0xF5, // 2009: jmp 2000
        ],
    );
    for (k, a) in [0x3000u32, 0x4000, 0x5000].iter().enumerate() {
        bus.flat.load(*a, &(0x1111 * (k as u32 + 1)).to_le_bytes());
    }
    let mut c = flat32(Model32::I80486);
    c.seg[DS].limit = 0x5FFF;
    c.eip = 0x2000;
    c.r[6] = 0x3000;
    assert_eq!(c.run(&mut bus, 1000), StepResult32::Shutdown);
    assert_eq!(c.eip, 0x2001);
    assert_eq!((c.r[0], c.r[3], c.r[6]), (0x3333, 4, 0x6000));
    // EFLAGS as INC EBX left them: 3 + 1 = 4 is not zero, not negative,
    // no overflow, odd parity, no carry out of bit 3, and CF kept from
    // 5000h + 1000h (none): only the fixed bit 1.
    assert_eq!(c.eflags(), 2);
    assert_eq!(c.instructions(), 13);
}

#[test]
fn the_sti_shadow_in_a_run_delays_the_interrupt_as_whole_steps_do() {
    // Real mode, INTR raised, IF clear: the loop runs STI; CLI three
    // times (the shadow after STI covers CLI, so no interrupt), then STI;
    // NOP: the interrupt is taken after the NOP (the shadow covers only
    // the instruction after STI, SDM vol. 3, 6.8.3), returning to 1008h.
    let mut bus = LapBus::new();
    bus.flat.load(
        0x1000,
        &[
            0xFB, // 1000: sti
            0xFA, // 1001: cli
            0x49, // 1002: dec cx
            0x75, 0xFB, // 1003: jnz 1000
            0xFB, // 1005: sti
            0x90, // 1006: nop
            0x90, // 1007: nop
            0xF4, // 1008: hlt
        ],
    );
    bus.flat.load(0x2000, &[0xF4]);
    bus.flat.load(0x3FC, &[0x00, 0x20, 0, 0]);
    let mut c = real0();
    c.eip = 0x1000;
    c.r[1] = 3;
    c.set_intr(true);
    assert_eq!(c.run(&mut bus, 1000), StepResult32::Halted);
    assert_eq!((c.eip, pushed_ip(&c, &bus)), (0x2001, 0x1007));
    // 3 × 4 + STI + NOP before the interrupt, and the handler's HLT.
    assert_eq!(c.instructions(), 15);
}

/// Run `code` at 2000h (flat 32-bit) in slices of `budget` clocks until
/// the CPU halts, with the decode cache on or off; the slices and the
/// slice clock the board had been told at each OUT (the time a device
/// sees: the run loop's blocks tell it only before the instructions that
/// can reach the bus).
fn slices(code: &[u8], budget: u64, cache: bool) -> (Vec<Slice>, Vec<u64>, [u32; 8]) {
    slices_on(LapBus::new(), code, budget, cache)
}

/// [`slices`] on `bus`.
fn slices_on(
    mut bus: LapBus,
    code: &[u8],
    budget: u64,
    cache: bool,
) -> (Vec<Slice>, Vec<u64>, [u32; 8]) {
    bus.flat.load(0x2000, code);
    let mut c = flat32(Model32::I80486);
    c.set_decode_cache(cache);
    c.eip = 0x2000;
    c.r[1] = 40;
    let mut out = Vec::new();
    for _ in 0..1000 {
        let s = c.run_slice(&mut bus, budget);
        out.push(s);
        if s.end == SliceEnd::Halted {
            break;
        }
    }
    (out, bus.out_clocks, c.r)
}

#[test]
fn slices_are_the_same_with_the_fast_path_as_with_whole_steps() {
    // With the cache off every step is a whole step (the reference); with
    // it on most run on the fast path. Every slice must end at the same
    // step for the same reason with the same clocks, and the board must be
    // told the same clock before every OUT (which ends a slice), the
    // a fault-free loop of ALU and memory work included.
    let code = [
        0xB8, 1, 0, 0, 0, // mov eax, 1
        0x01, 0xC3, // add ebx, eax
        0x89, 0x1D, 0x00, 0x30, 0, 0, // mov [3000h], ebx
        0x8B, 0x15, 0x00, 0x30, 0, 0, // mov edx, [3000h]
        0xF6, 0xC1, 0x07, // test cl, 7
        0x75, 0x02, // jnz +2
        0xE6, 0x80, // out 80h, al
        0x49, // dec ecx
        0x75, 0xE3, // jnz 2000
        0xF4, // hlt
    ];
    for budget in [1, 7, 50] {
        let on = slices(&code, budget, true);
        let off = slices(&code, budget, false);
        assert_eq!(on.0, off.0, "slices, budget {budget}");
        assert_eq!(on.1, off.1, "clocks told, budget {budget}");
        assert_eq!(on.2, off.2, "registers, budget {budget}");
        assert_eq!(on.2[3], 40, "EBX counts the passes");
        assert!(on.0.iter().any(|s| s.end == SliceEnd::Bus));
        // A board without `slice_events`: asked both after every step.
        let mut plain = LapBus::new();
        plain.events = false;
        let asked = slices_on(plain, &code, budget, true);
        assert_eq!(asked, on, "without slice_events, budget {budget}");
    }
}

#[test]
fn every_instruction_charges_at_least_one_clock() {
    // The fast lap derives the slice's clock from the CPU's count
    // (`slice.rs`), which holds only if no step it runs is free: Intel's
    // 386 and 486 tables give every instruction at least one clock.
    for r in super::table::ROWS {
        assert!(
            r.clk.iter().chain(&r.alt).all(|&c| c >= 1),
            "{} {}",
            r.mnem,
            r.operands
        );
    }
    // Every form the decoder can pick (register or memory operand, either
    // operand size, REP or not, any ENTER level) on every model, and a
    // taken branch's count (the not-taken count plus the model's delta).
    use super::clocks::{form_clk, rep_string, taken_delta};
    let models = [
        Model32::I80286,
        Model32::I80386,
        Model32::I80486,
        Model32::Pentium,
        Model32::PentiumPro,
    ];
    for model in models {
        for r in super::table::ROWS {
            for (mem, o32, rep, level) in
                (0..16).map(|k| (k & 1 != 0, k & 2 != 0, k & 4 != 0, k & 8 != 0))
            {
                let i = Insn {
                    op: r.op,
                    modrm: ((r.reg.max(0) as u8) << 3) | if mem { 0 } else { 0xC0 },
                    mem,
                    o32,
                    rep: if rep { 0xF3 } else { 0 },
                    imm2: if level { 31 } else { 0 },
                    ..Insn::default()
                };
                let base = r.clocks(model, mem || (rep && rep_string(r.op)));
                let n = form_clk(&i, model, base) as u64;
                assert!(n >= 1, "{model:?} {} {} mem {mem}", r.mnem, r.operands);
                if let Some(d) = taken_delta(r.op, model).map(|d| d as i64 as u64) {
                    assert!(
                        n.wrapping_add(d) >= 1 && n.wrapping_add(d) < 100,
                        "{model:?} {}",
                        r.mnem
                    );
                }
            }
        }
    }
}

#[test]
fn an_out_that_rewrites_the_loop_mid_lap_runs_the_new_code_next() {
    // 2000: inc ebx; nop; nop; out 80h, al; jmp 2000 (five instructions a
    // pass). On the 30th OUT the board stores `add ebx, 64` (83 C3 40)
    // over INC and the two NOPs, as DMA would, bumping its generation; a
    // run (where an OUT ends nothing) must take the new bytes at the very
    // next pass: 30 passes (150 instructions) and one ADD leave EBX =
    // 30 + 64 and EIP at the OUT (2003h).
    for events in [true, false] {
        let mut bus = LapBus::new();
        bus.events = events;
        bus.flat
            .load(0x2000, &[0x43, 0x90, 0x90, 0xE6, 0x80, 0xEB, 0xF9]);
        bus.rewrite = Some((30, 0x2000, vec![0x83, 0xC3, 0x40]));
        let mut c = flat32(Model32::I80486);
        c.eip = 0x2000;
        assert_eq!(c.run(&mut bus, 151), StepResult32::Executed);
        assert_eq!((c.r[3], c.eip), (30 + 64, 0x2003), "events {events}");
        assert_eq!(c.instructions(), 151);
    }
}

#[test]
fn a_fetch_context_number_coming_round_again_trusts_no_old_stamp() {
    // MOV EAX, 1 is stamped in context k; a new code epoch follows (its
    // bytes must be checked again), the bytes become MOV EAX, 2 behind
    // the CPU (no generation bump), and the context counter runs to its
    // end, wraps and climbs back to k. The old stamp must not be taken:
    // the look-up checks the bytes and runs the new instruction.
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &[0xB8, 1, 0, 0, 0, 0xEB, 0xF9]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.run(&mut bus, 10);
    assert_eq!((c.r[0], c.eip), (1, 0x2000));
    let k = c.fetch_ctx;
    c.new_code_epoch();
    bus.flat.load(0x2001, &[2]);
    c.fetch_ctx = super::icache::FETCH_CTX_END - 1;
    c.new_fetch_ctx();
    assert_eq!(c.fetch_ctx, 1);
    while c.fetch_ctx != k {
        c.new_fetch_ctx();
    }
    c.run(&mut bus, 1);
    assert_eq!((c.r[0], c.eip), (2, 0x2005));
}

/// `insn; jmp 2000h` at 2000h, run 20 steps (the loop stamped and taken
/// by the fast path), then `lower` makes the next `insn` fault and a run
/// goes on to the shutdown (IDT limit 0, so #GP, #DF, shutdown, each
/// delivery failing and putting the registers back). Returns the state.
fn fault_in_lap(insn: &[u8], forms: bool, lower: fn(&mut Cpu32)) -> (Regs32, u64, u64) {
    let mut bus = LapBus::new();
    let mut code = insn.to_vec();
    code.extend_from_slice(&[0xEB, (-(insn.len() as i8) - 2) as u8]);
    bus.flat.load(0x2000, &code);
    // RET's targets: the loop again, all the way up the stack.
    for a in (0x7000..0x9000u32).step_by(4) {
        bus.flat.load(a, &0x2000u32.to_le_bytes());
    }
    let mut c = flat32(Model32::I80486);
    c.set_forms(forms);
    c.eip = 0x2000;
    c.r = [
        0x1234_5678,
        3,
        0x0F0F_0F0F,
        0x4000,
        0x8000,
        0x5555,
        0x6000,
        0x7777,
    ];
    c.eflags = 2 | ZF | CF;
    assert_eq!(c.run(&mut bus, 20), StepResult32::Executed);
    lower(&mut c);
    assert_eq!(c.run(&mut bus, 20), StepResult32::Shutdown);
    (c.regs(), c.cycles(), c.instructions())
}

#[test]
fn forms_without_a_snapshot_fault_with_the_registers_they_began_with() {
    // Each form the fast path runs without a restart snapshot
    // (`forms::no_partial`), made to fault after ten passes: a data access
    // past a lowered DS or SS limit, or a jump past a lowered CS limit,
    // is #GP(0) or #SS(0) (SDM vol. 3, 5.3). Both ways the fault comes
    // before anything is written, so the registers must be the ones the
    // instruction began with: those of the general path (forms off, a
    // snapshot every time), EIP at the instruction (2000h), and 20
    // instructions retired (ten passes of two).
    fn data(c: &mut Cpu32) {
        c.seg[DS].limit = 0xFFF;
        c.seg[SS].limit = 0xFFF;
    }
    fn code(c: &mut Cpu32) {
        c.seg[CS].limit = 0x2001;
    }
    type Case<'a> = (&'a [u8], fn(&mut Cpu32));
    let cases: &[Case] = &[
        (&[0x01, 0x03], data),                         // add [ebx], eax
        (&[0x80, 0x33, 0x5A], data),                   // xor byte [ebx], 5Ah
        (&[0x85, 0x03], data),                         // test [ebx], eax
        (&[0x03, 0x03], data),                         // add eax, [ebx]
        (&[0x89, 0x03], data),                         // mov [ebx], eax
        (&[0xC7, 0x03, 0x78, 0x56, 0x34, 0x12], data), // mov dword [ebx], imm
        (&[0x8B, 0x03], data),                         // mov eax, [ebx]
        (&[0xA1, 0x00, 0x40, 0, 0], data),             // mov eax, [4000h]
        (&[0xA3, 0x00, 0x40, 0, 0], data),             // mov [4000h], eax
        (&[0x50], data),                               // push eax
        (&[0x5B], data),                               // pop ebx
        (&[0x6A, 0x05], data),                         // push 5
        (&[0xFF, 0x03], data),                         // inc dword [ebx]
        (&[0xFE, 0x0B], data),                         // dec byte [ebx]
        (&[0xE8, 0, 0, 0, 0], data),                   // call (the jmp)
        (&[0xC3], data),                               // ret
        (&[0x0F, 0xB6, 0x03], data),                   // movzx eax, byte [ebx]
        (&[0x0F, 0xBF, 0x03], data),                   // movsx eax, word [ebx]
        (&[0xD1, 0x23], data),                         // shl dword [ebx], 1
        (&[0xD3, 0x2B], data),                         // shr dword [ebx], cl
        (&[0x0F, 0xAF, 0x03], data),                   // imul eax, [ebx]
        (&[0x6B, 0x03, 0x07], data),                   // imul eax, [ebx], 7
        (&[0x0F, 0x94, 0x03], data),                   // sete [ebx]
        (&[0xEB, 0x00], code),                         // jmp 2002h
        (&[0x74, 0x00], code),                         // je 2002h (ZF stays set)
    ];
    for (insn, lower) in cases {
        let fast = fault_in_lap(insn, true, *lower);
        let general = fault_in_lap(insn, false, *lower);
        assert_eq!(fast, general, "{insn:02X?}");
        assert_eq!((fast.0.eip, fast.2), (0x2000, 20), "{insn:02X?}");
    }
}

#[test]
fn a_general_path_instruction_faulting_after_a_register_write_in_a_lap_restores_it() {
    // leave; jmp 2000h, with EBP = 5000h and the dword at 5000h holding
    // 5000h: every pass sets ESP = EBP, pops EBP (5000h again) and leaves
    // ESP = 5004h. With SS.limit lowered to 4FFFh the next LEAVE writes ESP
    // (5000h) and then faults on its pop (#SS(0), SDM vol. 3, 5.3; IDT
    // limit 0: #DF, shutdown): ESP must be 5004h again and EIP at the
    // LEAVE, with the 20 instructions of the ten passes retired. LEAVE
    // has no form: the general path takes the restart snapshot inside
    // the lap (`forms::by_form!`); without it ESP stays 5000h.
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &[0xC9, 0xEB, 0xFD]);
    bus.flat.load(0x5000, &0x5000u32.to_le_bytes());
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.r[5] = 0x5000;
    assert_eq!(c.run(&mut bus, 20), StepResult32::Executed);
    assert_eq!((c.eip, c.r[4], c.r[5]), (0x2000, 0x5004, 0x5000));
    c.seg[SS].limit = 0x4FFF;
    assert_eq!(c.run(&mut bus, 20), StepResult32::Shutdown);
    assert_eq!((c.eip, c.r[4], c.r[5]), (0x2000, 0x5004, 0x5000));
    assert_eq!(c.instructions(), 20);
}
