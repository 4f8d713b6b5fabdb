//! Running the 32-bit core in slices: as many instructions as fit in a
//! cycle budget (the time to the board's next deadline), with the board
//! told at every instruction boundary how far into the slice the CPU is,
//! so that an I/O or memory-mapped device access inside the slice sees
//! device time as a machine stepping one instruction at a time would.
//!
//! The slice is a sequence of [`Cpu32::step`]s; what it saves is the
//! board's work between instructions (interrupt lines, deadlines, resets),
//! which only has to happen when something can have changed: the budget
//! ran out, an access asked for the slice to end ([`Bus::take_slice_end`]),
//! the CPU halted or shut down, or FERR# went active.

use super::{Cpu32, StepResult32};
use crate::Bus;

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
        let mut cycles = 0u64;
        let mut steps = 0u64;
        loop {
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
                StepResult32::Executed if self.x87.ferr_edge => Some(SliceEnd::Ferr),
                StepResult32::Executed if bus.take_slice_end() => Some(SliceEnd::Bus),
                StepResult32::Executed if cycles >= budget => Some(SliceEnd::Budget),
                StepResult32::Executed => None,
            };
            if let Some(end) = end {
                return Slice { end, cycles, steps };
            }
        }
    }
}
