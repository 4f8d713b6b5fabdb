//! Driving an AT board with a CPU: interrupts and NMI in, time out, halts
//! skipped to the next deadline, resets and triple faults handled. The CPU
//! is anything implementing [`AtCpu`]: the 8086-family `cpu::Cpu` (real
//! mode, for tests and 286-class guests) here, the 32-bit core where it is
//! merged.

use super::board::AtBoard;
use cpu::ia32::{Cpu32, SliceEnd, StepResult32};
use cpu::{Bus, Cpu, StepResult, Timing};

/// What one CPU step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuStep {
    /// An instruction ran (or an interrupt was taken).
    Executed,
    /// The CPU is halted, waiting for an interrupt.
    Halted,
    /// The CPU shut down (triple fault); the board resets it.
    Shutdown,
}

/// The CPU side of an AT machine.
pub trait AtCpu {
    /// Take a pending maskable interrupt if the CPU accepts one
    /// (`board.intr_pending()`, acknowledged with `Bus::inta`), then
    /// execute one instruction.
    fn step(&mut self, board: &mut AtBoard) -> CpuStep;
    /// Deliver an NMI.
    fn nmi(&mut self, board: &mut AtBoard);
    /// Clock cycles spent so far (may restart at a reset).
    fn cycles(&self) -> u64;
    /// The reset (or INIT) the board asked for.
    fn reset(&mut self);
    /// Run steps for about `budget` cycles inside a slice the board has
    /// begun ([`AtBoard::begin_slice`]), as [`AtCpu::step`] would one after
    /// the other with the board passing time in between; the slice ends
    /// early when the bus asks (`Bus::take_slice_end`), at a halt or a
    /// shutdown. Returns what the last step did and the cycles the board
    /// must pass (each step counting at least one). The default runs one
    /// step.
    fn run_slice(&mut self, board: &mut AtBoard, budget: u64) -> (CpuStep, u64) {
        let _ = budget;
        let before = self.cycles();
        let r = self.step(board);
        (r, self.cycles().wrapping_sub(before).max(1))
    }
    /// Count `n` clocks that passed outside instructions (I/O wait states,
    /// time halted), for a CPU whose time-stamp counter must follow the
    /// board's time.
    fn add_cycles(&mut self, _n: u64) {}
}

impl<T: Timing> AtCpu for Cpu<T> {
    fn step(&mut self, board: &mut AtBoard) -> CpuStep {
        if board.intr_pending() && self.interrupts_enabled() {
            let v = board.inta();
            self.interrupt(board, v);
        }
        if self.halted() {
            return CpuStep::Halted;
        }
        match Cpu::step(self, board) {
            StepResult::Executed => CpuStep::Executed,
            StepResult::Halted => CpuStep::Halted,
        }
    }

    fn nmi(&mut self, board: &mut AtBoard) {
        Cpu::nmi(self, board);
    }

    fn cycles(&self) -> u64 {
        Cpu::cycles(self)
    }

    fn reset(&mut self) {
        Cpu::reset(self);
    }
}

/// The 32-bit core: it samples INTR itself at instruction boundaries (and
/// acknowledges through `Bus::inta`), so the board's line is passed in
/// before every step.
impl AtCpu for Cpu32 {
    fn step(&mut self, board: &mut AtBoard) -> CpuStep {
        self.set_intr(board.intr_pending());
        let r = Cpu32::step(self, board);
        // FERR# went active (an unmasked x87 error with CR0.NE clear): the
        // board latches it onto IRQ 13 until software writes port F0h.
        if self.take_ferr() {
            board.set_fpu_error();
        }
        match r {
            StepResult32::Executed => CpuStep::Executed,
            StepResult32::Halted => CpuStep::Halted,
            StepResult32::Shutdown => CpuStep::Shutdown,
        }
    }

    fn nmi(&mut self, _board: &mut AtBoard) {
        self.raise_nmi();
    }

    fn run_slice(&mut self, board: &mut AtBoard, budget: u64) -> (CpuStep, u64) {
        self.set_intr(board.intr_pending());
        let s = Cpu32::run_slice(self, board, budget);
        if self.take_ferr() {
            board.set_fpu_error();
        }
        let r = match s.end {
            SliceEnd::Halted => CpuStep::Halted,
            SliceEnd::Shutdown => CpuStep::Shutdown,
            SliceEnd::Budget | SliceEnd::Bus | SliceEnd::Ferr => CpuStep::Executed,
        };
        (r, s.cycles)
    }

    fn cycles(&self) -> u64 {
        Cpu32::cycles(self)
    }

    fn reset(&mut self) {
        Cpu32::reset(self);
    }

    fn add_cycles(&mut self, n: u64) {
        Cpu32::add_cycles(self, n);
    }
}

/// A CPU and a board, run together.
pub struct AtRun<C: AtCpu> {
    /// The CPU.
    pub cpu: C,
    /// The board.
    pub board: AtBoard,
    /// Resets so far (CPU and system).
    pub resets: u64,
    /// The CPU's clock count when the board last passed time.
    pub(crate) last_cpu_cycles: u64,
    /// Run one instruction at a time (see [`AtRun::set_stepped`]).
    stepped: bool,
    /// Slices run so far ([`AtRun::slice`]; [`AtRun::step`] does not count).
    pub slices: u64,
    /// How slices ended and the time halted, when counted
    /// ([`AtRun::count_slices`]).
    pub slice_stats: Option<SliceStats>,
}

/// How the slices of an [`AtRun`] ended, and the time the CPU spent halted
/// (for `ironpc run --profile`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SliceStats {
    /// Slices run.
    pub slices: u64,
    /// Slices that ran to their end: the board's next deadline or the
    /// caller's limit.
    pub to_deadline: u64,
    /// Slices a device access ended early (it changed the interrupt lines
    /// or the deadlines, or took I/O wait states).
    pub by_access: u64,
    /// Slices that ended in HLT.
    pub halted: u64,
    /// Slices that ended in a shutdown (triple fault).
    pub shutdowns: u64,
    /// Cycles skipped while halted (to the next deadline).
    pub idle_cycles: u64,
    /// Cycles of I/O wait states added to the board's time.
    pub io_stall_cycles: u64,
    /// Single steps ([`AtRun::step`]) counted instead of slices.
    pub steps: u64,
}

/// The longest slice, in cycles, when no deadline is nearer: the caller's
/// conditions are checked between slices.
const MAX_SLICE: u64 = 1 << 20;

impl<C: AtCpu> AtRun<C> {
    /// Join a CPU (in its reset state) and a board.
    pub fn new(cpu: C, board: AtBoard) -> Self {
        let last_cpu_cycles = cpu.cycles();
        AtRun {
            cpu,
            board,
            resets: 0,
            last_cpu_cycles,
            stepped: false,
            slices: 0,
            slice_stats: None,
        }
    }

    /// Board time in CPU cycles.
    pub fn now(&self) -> u64 {
        self.board.now
    }

    /// Run one instruction at a time in [`AtRun::run_for`] and
    /// [`AtRun::run_until_within`] (the reference behaviour, for tests and
    /// debugging) instead of in slices.
    pub fn set_stepped(&mut self, stepped: bool) {
        self.stepped = stepped;
    }

    /// Count how slices end and the time halted in
    /// [`AtRun::slice_stats`] (from zero), or stop counting.
    pub fn count_slices(&mut self, on: bool) {
        self.slice_stats = on.then(SliceStats::default);
    }

    /// One CPU step and the board's time after it: the reference the
    /// slices keep to.
    pub fn step(&mut self) {
        if let Some(s) = &mut self.slice_stats {
            s.steps += 1;
        }
        self.deliver_nmi();
        let start = self.board.now;
        let r = self.cpu.step(&mut self.board);
        let counted = self.cpu.cycles().wrapping_sub(self.last_cpu_cycles);
        // Every instruction takes time; never let the clock stand still.
        self.finish(r, start, counted.max(1), counted);
    }

    fn deliver_nmi(&mut self) {
        if self.board.nmi_pending() {
            self.board.ack_nmi();
            self.cpu.nmi(&mut self.board);
        }
    }

    /// Run instructions up to the board's next deadline or cycle `limit`,
    /// whichever comes first (at least one step): the same as as many
    /// [`AtRun::step`]s, the board passing time only where an access
    /// needs it and once at the end. The slice ends after the instruction
    /// that reaches the deadline, after an access that changed the
    /// interrupt lines or the deadlines, at a halt (which skips to the
    /// next deadline, as a step does) and at a reset.
    pub fn slice(&mut self, limit: u64) {
        self.slices += 1;
        self.deliver_nmi();
        let now = self.board.now;
        let end = self
            .board
            .next_deadline()
            .unwrap_or(u64::MAX)
            .min(limit)
            .min(now.saturating_add(MAX_SLICE));
        let budget = end.saturating_sub(now).max(1);
        self.board.begin_slice(now + budget);
        let (r, spent) = self.cpu.run_slice(&mut self.board, budget);
        self.board.end_slice();
        if let Some(s) = &mut self.slice_stats {
            s.slices += 1;
            match r {
                CpuStep::Halted => s.halted += 1,
                CpuStep::Shutdown => s.shutdowns += 1,
                CpuStep::Executed if spent >= budget => s.to_deadline += 1,
                CpuStep::Executed => s.by_access += 1,
            }
        }
        let counted = self.cpu.cycles().wrapping_sub(self.last_cpu_cycles);
        // The board may have moved inside the slice (to an access); the
        // slice's time counts from where it began.
        self.finish(r, now, spent, counted);
    }

    /// Run for `cycles` cycles of board time (or a little more: the last
    /// instruction or halt ends past it), or until the guest asks the
    /// machine to stop (port F4h, "Shutdown" at 8900h).
    pub fn run_for(&mut self, cycles: u64) {
        let end = self.board.now.saturating_add(cycles);
        while self.board.now < end && self.board.debug.exit.is_none() && !self.board.shutdown {
            if self.stepped {
                self.step();
            } else {
                self.slice(end);
            }
        }
    }

    /// Pass the board's time to the end of a step or a slice that began at
    /// `start`, ended with `r` and took `spent` cycles (each instruction at
    /// least one) of which the CPU counted `counted`; I/O wait states come
    /// on top.
    fn finish(&mut self, r: CpuStep, start: u64, spent: u64, counted: u64) {
        let stall = self.board.take_io_stall();
        let mut now = start + spent + stall;
        let busy_end = now;
        match r {
            CpuStep::Executed => {}
            CpuStep::Halted => {
                // Nothing happens until the next deadline (or, with none, a
                // millisecond passes: an NMI or a reset may still come).
                let idle = self.board.config.clock_hz / 1000;
                now = self.board.next_deadline().unwrap_or(now + idle).max(now);
            }
            CpuStep::Shutdown => self.board.triple_fault(),
        }
        if let Some(s) = &mut self.slice_stats {
            s.io_stall_cycles += stall;
            s.idle_cycles += now - busy_end;
        }
        // The CPU's clock count (the TSC) follows the board's time: wait
        // states and skipped idle time count as clocks, as on hardware.
        self.cpu.add_cycles((now - start).saturating_sub(counted));
        self.last_cpu_cycles = self.cpu.cycles();
        self.board.advance_to(now);
        if self.board.take_reset().is_some() {
            self.cpu.reset();
            self.last_cpu_cycles = self.cpu.cycles();
            self.resets += 1;
        }
    }

    /// Run until `cond` holds (checked after every step, or slice: see
    /// [`AtRun::slice`]) or `max_cycles` more cycles have passed; true if
    /// `cond` held.
    pub fn run_until_within(
        &mut self,
        max_cycles: u64,
        mut cond: impl FnMut(&Self) -> bool,
    ) -> bool {
        let end = self.board.now.saturating_add(max_cycles);
        while self.board.now < end {
            if cond(self) {
                return true;
            }
            if self.stepped {
                self.step();
            } else {
                self.slice(end);
            }
        }
        cond(self)
    }
}
