//! Running the 32-bit core: in slices (as many instructions as fit in a
//! cycle budget, the time to the board's next deadline), with the board
//! told at every instruction boundary how far into the slice the CPU is,
//! so that an I/O or memory-mapped device access inside the slice sees
//! device time as a machine stepping one instruction at a time would; and
//! the fast path both slices and [`Cpu32::run`] take between whole steps.
//!
//! A slice is a sequence of [`Cpu32::step`]s; what it saves is the
//! board's work between instructions (interrupt lines, deadlines, resets),
//! which only has to happen when something can have changed: the budget
//! ran out, an access asked for the slice to end ([`Bus::take_slice_end`]),
//! the CPU halted or shut down, or FERR# went active.
//!
//! The fast path ([`Cpu32::fast_lap`]) runs instructions straight from
//! decode-cache slots stamped in the current fetch context (`icache.rs`)
//! while nothing is pending, with only the tests that can change between
//! two such instructions: a fault, the board's events ([`Bus::slice_events`]:
//! its RAM generation and slice-end requests in one number) and the budget
//! after every instruction; EFLAGS' TF, RF and (with INTR raised) IF and
//! FERR# only after the instructions that took the restart snapshot (the
//! others cannot change them); a segment load that may have changed the
//! code segment or CPL (noticed at the next slot that does not match, see
//! `icache::SEGS_SAVED`). Anything else (a slot not stamped, an
//! instruction the fast path leaves alone, an interrupt, a fault's
//! aftermath) takes the whole step, exactly as before.

use super::icache::{
    BLK_HOT, BLK_LEN_SHIFT, BLK_START, BLK_TERM, BLK_WORST_MASK, BLK_WORST_SHIFT, BLOCK_ARENA,
    BODY_CLK, BODY_FIP, BODY_OFF_SHIFT, SEGS_SAVED,
};
use super::{Cpu32, StepResult32, IF, RF, TF};
use crate::Bus;

/// The blocks' offsets as an array: an index masked to its size needs no
/// bounds check (the length test is made once, out of the loops).
#[inline(always)]
fn arena_sized(offs: &[u16]) -> &[u16; BLOCK_ARENA] {
    match offs.try_into() {
        Ok(a) => a,
        Err(_) => unreachable!("the offsets have BLOCK_ARENA entries"),
    }
}

/// Why a slice ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceEnd {
    /// The cycle budget was used up.
    Budget,
    /// An access asked for it ([`Bus::take_slice_end`]): the interrupt
    /// lines, the deadlines or a reset may have changed.
    Bus,
    /// The CPU is halted (the step that found it halted counted one cycle).
    Halted,
    /// A triple fault: the board decides.
    Shutdown,
    /// FERR# went active (an unmasked x87 error with CR0.NE clear); the
    /// board takes it with [`Cpu32::take_ferr`].
    Ferr,
}

/// What a slice did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// Why it ended.
    pub end: SliceEnd,
    /// Clocks it took, each step counting at least one (the time a
    /// stepping board would have passed).
    pub cycles: u64,
    /// Steps run (instructions, interrupt entries, a halted step).
    pub steps: u64,
}

impl Cpu32 {
    /// Run steps until `budget` clocks have passed (at least one step
    /// runs), an access ends the slice, the CPU halts, shuts down or
    /// raises FERR#. Before every step the bus is told the clocks spent so
    /// far in the slice ([`Bus::slice_clock`]). The INTR level is the one
    /// last given to [`Cpu32::set_intr`]: the board must end the slice
    /// when it changes.
    pub fn run_slice<B: Bus>(&mut self, bus: &mut B, budget: u64) -> Slice {
        // The public fields (segments, DR7) may have been written since.
        self.seg_fast_off();
        let mut cycles = 0u64;
        let mut steps = 0u64;
        loop {
            if let Some(end) = self.fast_lap::<B, true>(bus, &mut steps, &mut cycles, budget) {
                return Slice { end, cycles, steps };
            }
            bus.slice_clock(cycles);
            let before = self.cycles;
            let r = self.step_inline(bus);
            // Every step takes time: a stepping board never lets its clock
            // stand still either.
            cycles += self.cycles.wrapping_sub(before).max(1);
            steps += 1;
            let end = match r {
                StepResult32::Halted => Some(SliceEnd::Halted),
                StepResult32::Shutdown => Some(SliceEnd::Shutdown),
                StepResult32::Executed => self.slice_end(bus, cycles, budget),
            };
            if let Some(end) = end {
                return Slice { end, cycles, steps };
            }
        }
    }

    /// After a step that executed (an instruction, a fault's delivery or
    /// an interrupt's entry): whether the slice ends there, in the order
    /// a slice has always asked.
    #[inline(always)]
    fn slice_end<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        cycles: u64,
        budget: u64,
    ) -> Option<SliceEnd> {
        if self.x87.ferr_edge {
            Some(SliceEnd::Ferr)
        } else if bus.take_slice_end() {
            Some(SliceEnd::Bus)
        } else if cycles >= budget {
            Some(SliceEnd::Budget)
        } else {
            None
        }
    }

    /// The fast path: run instructions from stamped decode-cache slots for
    /// as long as nothing needs the whole step, counting them into `steps`
    /// and (`SLICE`) their clocks into `cycles` as the whole steps would.
    /// `limit`: the step count to stop at ([`Cpu32::run`]) or (`SLICE`)
    /// the clock budget. Returns why a slice ended (`SLICE` only), or None
    /// when the next step must be a whole one (or `limit` steps ran).
    ///
    /// Exact because the boundary's tests are made once on entry
    /// ([`Cpu32::fast_ready`]) and every way the outcome can change
    /// between two fast instructions is watched: INTR, NMI and the
    /// breakpoints do not change during a call (only the board, between
    /// calls, raises them, and MOV DRn never takes this path); HLT, STI,
    /// MOV SS and POP SS never take it either; TF, RF and (with INTR
    /// raised) IF are tested after every instruction that can change them
    /// (those that took the snapshot); a fault ends the lap. The stamps
    /// themselves stay good while the fetch context does, which ends with
    /// a code epoch (a write to checked code, a TLB flush) and is brought
    /// up to date after an instruction that saved the segments (the only
    /// ones that change CS or CPL, debug-checked: the saving poisons the
    /// comparison, `icache::SEGS_SAVED`); the board's events number (or,
    /// without one, its RAM generation and slice-end request) is looked at
    /// after every instruction.
    #[inline(always)]
    pub(crate) fn fast_lap<B: Bus + ?Sized, const SLICE: bool>(
        &mut self,
        bus: &mut B,
        steps: &mut u64,
        cycles: &mut u64,
        limit: u64,
    ) -> Option<SliceEnd> {
        // FERR# already active (a board that has not taken it yet): the
        // whole step ends the slice after one instruction, as it always has.
        if !self.fast_ready() || (SLICE && self.x87.ferr_edge) {
            return None;
        }
        let gen = bus.ram_generation()?;
        if self.bus_gen != Some(gen) {
            self.bus_gen = Some(gen);
            self.new_code_epoch();
        }
        self.sync_fetch_ctx();
        let stop = TF | RF | if self.intr { IF } else { 0 };
        let mut ip_mask = super::exec::ip_mask(self.code32());
        // Instructions retired are counted once at the end: the steps run
        // less the one that faulted, if one did.
        let first = *steps;
        // The count in a local (a register), not through `steps`: stored
        // back once at the end.
        let mut n = first;
        // The slice's clock is not counted step by step: every instruction
        // here charges at least one clock (every table row does, see
        // `tests_fast`), so the whole step's "at least one" never
        // applies and the slice's clock at any instruction boundary is the
        // CPU's own count plus a constant.
        let off = cycles.wrapping_sub(self.cycles);
        let end_at = self.cycles.wrapping_add(limit.saturating_sub(*cycles));
        // One number for the board's RAM generation and slice-end requests
        // (None: the board has no such number, both are asked every time).
        let mut events = bus.slice_events();
        // The same for the bodies, which are run only with a number (should
        // the board stop giving one, every look at it stops the body).
        let mut ev = events.unwrap_or(u64::MAX);
        // Blocks (`icache.rs`, `Cpu32::build_block`) only with an events
        // number: a body tests nothing else the board can change.
        let blocks = events.is_some();
        // The arena, out of `self` for the lap so that bodies run from it
        // by reference (put back below: every way out of the loop ends
        // there).
        let mut arena = std::mem::take(&mut self.blocks);
        let mut offs = std::mem::take(&mut self.block_offs);
        // The whole body of block `blk` fits when even its last instruction
        // cannot reach the budget (or the step limit): then no instruction
        // of it would have ended the slice.
        let fits_blk = |cpu: &Self, blk: u32, n: u64| {
            if SLICE {
                let worst = (blk >> BLK_WORST_SHIFT) & BLK_WORST_MASK;
                cpu.cycles.wrapping_add(worst as u64) < end_at
            } else {
                // The body and the instruction after it.
                n + u64::from(blk >> BLK_LEN_SHIFT) < limit
            }
        };
        // The block word of the body a body's taken Jcc is linked to
        // (`Cpu32::chain_link`), when it fits: the next pass runs it without
        // the look-up (0: none).
        let mut chained = 0u32;
        let end = loop {
            if !SLICE && n >= limit {
                break None;
            }
            let (idx, blk) = if chained != 0 {
                // Never the slot's instruction (`idx`): the body fits.
                (0, std::mem::take(&mut chained))
            } else {
                let idx = match self.fast_slot() {
                    Some(idx) => idx,
                    None if self.fetch_hi & SEGS_SAVED != 0 => {
                        // An x87 lean form's fallback in a body that drove
                        // FERR# stopped the body this way (`f_x87_lean_full`):
                        // the lap's test after it.
                        if SLICE && self.x87.ferr_edge {
                            break Some(SliceEnd::Ferr);
                        }
                        // A segment load since the context was brought up to
                        // date: do that, then look again.
                        self.sync_fetch_ctx();
                        ip_mask = super::exec::ip_mask(self.code32());
                        match self.fast_slot() {
                            Some(idx) => idx,
                            None => break None,
                        }
                    }
                    None => break None,
                };
                (idx, self.slot_blk(idx))
            };
            let i;
            if blk >= 1 << BLK_LEN_SHIFT && blocks && fits_blk(self, blk, n) {
                self.in_body = if SLICE { 2 } else { 1 };
                let body = self.run_body::<B, SLICE>(
                    bus,
                    &arena,
                    arena_sized(&offs),
                    blk,
                    &mut n,
                    ev,
                    off,
                    if SLICE { end_at } else { limit },
                );
                self.in_body = 0;
                if let Some(res) = body {
                    // Left at a taken Jcc (the next look-up is its
                    // target's), or stopped at a fault or an event (else
                    // only a new fetch context, which the next look-up
                    // sees).
                    if matches!(res, Ok(true)) {
                        let next = self.chain_link(self.jcc_at as usize, self.eip);
                        if next >= 1 << BLK_LEN_SHIFT && fits_blk(self, next, n) {
                            chained = next;
                        }
                        continue;
                    }
                    if res.is_err() || bus.slice_events() != events {
                        match self.body_stopped::<B, SLICE>(bus, res, gen, stop, limit, off) {
                            Ok(now) => {
                                events = now;
                                ev = now.unwrap_or(u64::MAX);
                            }
                            Err(end) => break end,
                        }
                    }
                    continue;
                }
                if blk & BLK_TERM == 0 {
                    continue;
                }
                // The instruction after the body, as its slot held it when
                // the block was built: the fetch context has not changed
                // since (no body form but those that may reach the bus can
                // change it, and they were watched).
                let k = (blk & BLK_START) as usize + (blk >> BLK_LEN_SHIFT) as usize;
                i = arena[k];
            } else {
                if blk < BLK_HOT && blocks {
                    self.visit_block(idx, blk, &mut arena, &mut offs);
                }
                i = self.icache_insn(idx);
            }
            if SLICE {
                // After the look-up: a miss leaves the whole step to tell it.
                bus.slice_clock(self.cycles.wrapping_add(off));
            }
            // The forms that need the restart snapshot take it themselves
            // (`forms::by_form!`) and say so in the result: no test of the
            // form here.
            self.start_unsnapped();
            #[cfg(debug_assertions)]
            let (before, ferr_before) = (self.cycles, self.x87.ferr_edge);
            let res = self.execute_insn::<B, true>(bus, &i, ip_mask);
            n += 1;
            #[cfg(debug_assertions)]
            {
                let snapped = matches!(res, Ok(true));
                debug_assert!(
                    self.cycles != before,
                    "ia32: a fast-path step at {:#x} charged no clock",
                    self.insn_start
                );
                debug_assert!(
                    snapped
                        || res.is_err()
                        || (self.eflags & stop == 0 && self.x87.ferr_edge == ferr_before),
                    "ia32: a form at {:#x} without a snapshot set TF, RF, IF or FERR#",
                    self.insn_start
                );
            }
            let snapped = match res {
                Ok(s) => s,
                Err(_) => !super::forms::no_partial(i.form),
            };
            #[cfg(debug_assertions)]
            self.check_seg_saved();
            let faulted = res.is_err();
            if faulted || events.is_none() || bus.slice_events() != events {
                // Something to look at: the whole sequence of tests, in the
                // order the whole step makes them.
                if let Err(f) = res {
                    self.fast_fault(bus, f, snapped);
                    // Not retired (the count below takes every step).
                    self.instructions = self.instructions.wrapping_sub(1);
                }
                if SLICE {
                    if self.shutdown {
                        break Some(SliceEnd::Shutdown);
                    }
                    let now = self.cycles.wrapping_add(off);
                    if let Some(end) = self.slice_end(bus, now, limit) {
                        break Some(end);
                    }
                }
                if faulted || bus.ram_generation() != Some(gen) || self.eflags & stop != 0 {
                    break None;
                }
                events = bus.slice_events();
                ev = events.unwrap_or(u64::MAX);
            } else {
                // The forms that run without a snapshot (`forms::no_partial`:
                // ALU, MOV, PUSH/POP, jumps, calls...) write no EFLAGS bit
                // but the arithmetic ones and never touch the x87 (checked
                // above in debug builds), so only the others can have set
                // TF, RF or IF, or raised FERR#.
                if SLICE && snapped && self.x87.ferr_edge {
                    break Some(SliceEnd::Ferr);
                }
                if SLICE && self.cycles >= end_at {
                    break Some(SliceEnd::Budget);
                }
                if snapped && self.eflags & stop != 0 {
                    break None;
                }
            }
            #[cfg(debug_assertions)]
            self.check_fast_step();
        };
        self.blocks = arena;
        self.block_offs = offs;
        if SLICE {
            *cycles = self.cycles.wrapping_add(off);
        }
        *steps = n;
        self.instructions = self.instructions.wrapping_add(n - first);
        end
    }

    /// Run the body of the block `blk` (`icache.rs`, [`Cpu32::build_block`])
    /// from CS:EIP, which the caller found fits the budget (or step limit)
    /// whole, leaving at a taken Jcc included: its forms back to back, by
    /// reference from the arena, without the tests the lap makes after a
    /// single instruction, since none of them can change what those tests
    /// look at (`icache::body_form`) but a fault, the board's events and
    /// the fetch context (a write to checked code: perhaps this body's
    /// own), and those only after a form that may reach the bus. Only a
    /// byte call can reach a device or change the events number: the
    /// core's memory path tells the board the clock before one and
    /// changes the fetch context (`Cpu32::touch_bus`), so a body looks
    /// only at the fetch context after such a form (`events`: for the
    /// debug builds' check that it is so); before the x87's forms, the
    /// only ones that read it, it sets `insn_start`. EIP, the clocks and the step
    /// count are set once, where the body leaves (no body form reads
    /// them): the clocks from the last form's count before it (`imm2` in
    /// the arena), EIP from its offset (`Cpu32::block_offs`), a taken
    /// Jcc's steps from its arena copy; the loop carries neither an EIP
    /// nor an index (each was a stack slot the loop spilled and reloaded
    /// per instruction). Counts the steps run into `n`. Returns None when the whole body ran,
    /// `Some(Ok(true))` when it left at a taken Jcc (EIP at its target, its
    /// taken clocks charged), else the result of the instruction after
    /// which it stopped (EIP after it, or `insn_start` at it if it
    /// faulted; its clocks charged either way), for the lap's tests.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn run_body<B: Bus + ?Sized, const SLICE: bool>(
        &mut self,
        bus: &mut B,
        arena: &[super::decode::Insn],
        offs: &[u16; BLOCK_ARENA],
        blk: u32,
        n: &mut u64,
        events: u64,
        off: u64,
        end: u64,
    ) -> Option<super::R<bool>> {
        let first = (blk & BLK_START) as usize;
        let len = (blk >> BLK_LEN_SHIFT) as usize;
        let hi = self.fetch_hi;
        // The body's first EIP (a body does not wrap): an instruction's is
        // this plus its entry in `offs`, worked out only before a form
        // that may reach the bus (for a fault, the x87's instruction
        // pointer) and at the end, so that the loop carries no EIP.
        let e0 = self.eip;
        // What `start_unsnapped` does for every instruction, once: no form
        // in a body saves the segments. `insn_start` only for the x87's
        // forms ([`BODY_FIP`]) and a fault: here the body's first, which
        // the paging counters take as the page being run
        // (`Cpu32::count_walk`: a body lies in that page and the next).
        self.seg_saved = false;
        self.insn_start = e0;
        let body = &arena[first..first + len];
        // A body that loops to its own start (a taken Jcc back to it) runs
        // again from here while the whole of it still fits, as the lap
        // would find it at its next look-up (nothing the look-up or the
        // lap's tests see can have changed: a form that reached the board
        // or changed the fetch context stopped the body).
        // Where the pass goes on from: 0, or after a taken Jcc that skips
        // forms of the body (`JCC_SKIP`), the form it skips to, with the
        // clocks moved so that `upto` below holds for the rest: by the
        // taken clocks less those of the forms skipped.
        // The clocks at the pass's start (moved by a skip): a local, so
        // that the pass after a loop back does not read them back from the
        // core; `self.cycles` is set where the body leaves.
        let mut c0 = self.cycles;
        // Below what a loop back may start another pass: the clocks (the
        // slice's end less the body's worst case) or the steps (the bench's
        // limit less the body and the instruction after it), worked out
        // once rather than at every loop back.
        let lim = if SLICE {
            let worst = (blk >> BLK_WORST_SHIFT) & BLK_WORST_MASK;
            end.saturating_sub(worst as u64)
        } else {
            end.saturating_sub(len as u64)
        };
        #[cfg(debug_assertions)]
        let mut pass_start: u64;
        'again: loop {
            // What the fits tests rely on: no pass charges more than the
            // block's worst case.
            #[cfg(debug_assertions)]
            {
                pass_start = c0;
            }
            // A loop back comes here, a skip to `'skip`: so that a loop
            // back starts the pass at the body's first form as a constant
            // (with one loop for both, it worked out a slice from a
            // variable start again, 9 host instructions).
            let mut from = 0;
            'skip: loop {
                #[cfg(debug_assertions)]
                let within_worst = |cycles: u64| {
                    let worst = (blk >> BLK_WORST_SHIFT) & BLK_WORST_MASK;
                    debug_assert!(
                        cycles.wrapping_sub(pass_start) <= worst as u64,
                        "ia32: a body from {e0:#x} charged more than its worst case"
                    );
                };
                // The board is told the clock, and its events number looked at,
                // only where a form reached it (`Cpu32::touch_bus`, which also
                // changes the fetch context: the test after the form stops the
                // body there, and the lap looks at the events number).
                if SLICE {
                    self.body_clk = c0.wrapping_add(off);
                }
                // Body entry `k`'s offset (`first + k` is inside the arena: the
                // mask only spares the bounds check).
                let off_of = |k: usize| u32::from(offs[(first + k) & (BLOCK_ARENA - 1)]);
                // Where an instruction is in the body, from its reference: the loop
                // carries no index either.
                let at = |i: &super::decode::Insn| {
                    (std::ptr::from_ref(i) as usize - body.as_ptr() as usize)
                        / std::mem::size_of::<super::decode::Insn>()
                };
                // The clocks up to and including an instruction.
                let upto = |i: &super::decode::Insn| {
                    c0.wrapping_add((i.imm2 & BODY_CLK) as u64 + i.clk as u64)
                };
                for i in &body[from..] {
                    if i.body_bus {
                        if i.imm2 & BODY_FIP != 0 {
                            self.insn_start = e0.wrapping_add(i.imm >> BODY_OFF_SHIFT);
                        }
                        if SLICE {
                            // A register form cannot reach a device: only one that
                            // can leaves where it is, for `Cpu32::touch_bus`.
                            self.body_at = i.imm2;
                        }
                    }
                    #[cfg(debug_assertions)]
                    let before = {
                        // EIP and the clocks as the whole step would have them, for
                        // the checks; `insn_start` as the release build leaves it,
                        // so that a form reading it where the body does not set it
                        // shows in the tests.
                        let keep = self.insn_start;
                        self.eip = e0.wrapping_add(off_of(at(i)));
                        self.start_unsnapped();
                        self.insn_start = keep;
                        self.cycles = upto(i);
                        self.cycles
                    };
                    let res = self.exec_form::<B, true>(bus, i, 0, 0);
                    #[cfg(debug_assertions)]
                    {
                        debug_assert!(
                    res.is_err()
                        || self.cycles == before
                            && (matches!(res, Ok(false))
                                || super::forms::body_exit(i.form)
                                || i.form == super::forms::JCC_SKIP
                                || super::forms::x87_lean_form(i.form)),
                    "ia32: a block's form at {:#x} took a snapshot or charged more than its count",
                    self.insn_start
                );
                        self.check_seg_saved();
                        self.check_fast_step();
                    }
                    // The steps run, the one that stopped the body included (the
                    // lap's count takes every step; the fault path takes a faulted
                    // one back from the instructions retired).
                    match res {
                        Ok(true) if i.form == super::forms::JCC_SKIP => {
                            // A taken Jcc to a later form of this body: on from
                            // there (`base` forms on), the clocks and steps of
                            // those skipped taken back and the taken clocks
                            // added (`build_block`).
                            c0 = c0.wrapping_add(i.disp as u64).wrapping_sub(i.imm as u64);
                            *n = n.wrapping_sub(u64::from(i.base));
                            from = at(i) + 1 + i.base as usize;
                            continue 'skip;
                        }
                        Ok(true) if super::forms::body_exit(i.form) => {
                            // A taken Jcc: its target, the clocks from the body's
                            // start to leaving by it, and its steps are in the
                            // arena copy (`build_block`).
                            // EIP and the clocks go to the core only when it
                            // leaves: a loop back keeps them in locals.
                            let cycles = c0.wrapping_add(i.disp as u64);
                            #[cfg(debug_assertions)]
                            within_worst(cycles);
                            *n = n.wrapping_add(u64::from(i.base));
                            let again = if SLICE { cycles < lim } else { *n < lim };
                            if i.imm == e0 && again {
                                c0 = cycles;
                                continue 'again;
                            }
                            self.eip = i.imm;
                            self.cycles = cycles;
                            self.jcc_at = (first + at(i)) as u32;
                            return Some(res);
                        }
                        Ok(_) => {
                            // (An x87 lean form counts as a bus form: a fallback
                            // that drove FERR# changes the fetch context,
                            // `Cpu32::f_x87_lean_full`, and says `Ok(true)` for
                            // the snapshot it took, its own: the stop says
                            // `Ok(false)`, `Ok(true)` being a taken Jcc's.)
                            debug_assert!(
                        bus.slice_events() == Some(events) || self.fetch_hi != hi,
                        "ia32: a body's form at {:#x} changed the board's events without touch_bus",
                        e0.wrapping_add(off_of(at(i)))
                    );
                            if i.body_bus && self.fetch_hi != hi {
                                let k = at(i);
                                self.eip = e0.wrapping_add(off_of(k)).wrapping_add(i.len as u32);
                                self.cycles = upto(i);
                                *n = n.wrapping_add(k as u64 + 1);
                                return Some(Ok(false));
                            }
                        }
                        Err(_) => {
                            // EIP at the instruction that faulted (and `insn_start`,
                            // its restart point: `Cpu32::fast_fault`).
                            let k = at(i);
                            self.eip = e0.wrapping_add(off_of(k));
                            self.insn_start = self.eip;
                            self.cycles = upto(i);
                            *n = n.wrapping_add(k as u64 + 1);
                            return Some(res);
                        }
                    }
                }
                let last = &body[len - 1];
                self.eip = e0
                    .wrapping_add(off_of(len - 1))
                    .wrapping_add(last.len as u32);
                self.cycles = upto(last);
                #[cfg(debug_assertions)]
                within_worst(self.cycles);
                *n = n.wrapping_add(len as u64);
                return None;
            }
        }
    }

    /// The block word of the body a body's taken Jcc (arena entry `k`)
    /// leads to, its target's slot's as the lap's look-up would find it:
    /// from the Jcc's link if one was made in this link generation
    /// ([`Cpu32::block_links`]), else by the look-up itself
    /// ([`Cpu32::link_block`]). Below `1 << BLK_LEN_SHIFT`: no body to go
    /// on into (the lap looks the target up).
    #[inline(always)]
    pub(crate) fn chain_link(&mut self, k: usize, target: u32) -> u32 {
        let link = self.block_links[k & (BLOCK_ARENA - 1)];
        if link >> 32 == u64::from(self.link_gen) {
            link as u32
        } else {
            self.link_block(k, target)
        }
    }

    /// After a body stopped at a fault or an event: the whole sequence of
    /// tests the lap makes after such an instruction (`res`: its result; a
    /// body form that faults has its registers as they were: no snapshot
    /// to restore, an x87 lean form's fallback restores its own), out of
    /// line. `Ok`: the lap goes on
    /// with this events number; `Err`: it ends, with this.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn body_stopped<B: Bus + ?Sized, const SLICE: bool>(
        &mut self,
        bus: &mut B,
        res: super::R<bool>,
        gen: u64,
        stop: u32,
        limit: u64,
        off: u64,
    ) -> Result<Option<u64>, Option<SliceEnd>> {
        let faulted = res.is_err();
        if let Err(f) = res {
            self.fast_fault(bus, f, false);
            // Not retired (the lap's count takes every step).
            self.instructions = self.instructions.wrapping_sub(1);
        }
        if SLICE {
            if self.shutdown {
                return Err(Some(SliceEnd::Shutdown));
            }
            let now = self.cycles.wrapping_add(off);
            if let Some(end) = self.slice_end(bus, now, limit) {
                return Err(Some(end));
            }
        }
        if faulted || bus.ram_generation() != Some(gen) || self.eflags & stop != 0 {
            return Err(None);
        }
        Ok(bus.slice_events())
    }
}
