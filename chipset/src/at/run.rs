//! Driving an AT board with a CPU: interrupts and NMI in, time out, halts
//! skipped to the next deadline, resets and triple faults handled. The CPU
//! is anything implementing [`AtCpu`]: the 8086-family `cpu::Cpu` (real
//! mode, for tests and 286-class guests) here, the 32-bit core where it is
//! merged.

use super::board::AtBoard;
use cpu::ia32::{Cpu32, StepResult32};
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
    last_cpu_cycles: u64,
}

impl<C: AtCpu> AtRun<C> {
    /// Join a CPU (in its reset state) and a board.
    pub fn new(cpu: C, board: AtBoard) -> Self {
        let last_cpu_cycles = cpu.cycles();
        AtRun {
            cpu,
            board,
            resets: 0,
            last_cpu_cycles,
        }
    }

    /// Board time in CPU cycles.
    pub fn now(&self) -> u64 {
        self.board.now
    }

    /// One CPU step and the board's time after it.
    pub fn step(&mut self) {
        if self.board.nmi_pending() {
            self.board.ack_nmi();
            self.cpu.nmi(&mut self.board);
        }
        let r = self.cpu.step(&mut self.board);
        let c = self.cpu.cycles();
        let counted = c.wrapping_sub(self.last_cpu_cycles);
        // Every instruction takes time; never let the clock stand still.
        let spent = counted.max(1) + self.board.take_io_stall();
        let mut now = self.board.now + spent;
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
        // The CPU's clock count (the TSC) follows the board's time: wait
        // states and skipped idle time count as clocks, as on hardware.
        self.cpu
            .add_cycles((now - self.board.now).saturating_sub(counted));
        self.last_cpu_cycles = self.cpu.cycles();
        self.board.advance_to(now);
        if self.board.take_reset().is_some() {
            self.cpu.reset();
            self.last_cpu_cycles = self.cpu.cycles();
            self.resets += 1;
        }
    }

    /// Run until `cond` holds (checked after every step) or `max_cycles`
    /// more cycles have passed; true if `cond` held.
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
            self.step();
        }
        cond(self)
    }
}
