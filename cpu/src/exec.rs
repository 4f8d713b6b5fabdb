//! Instruction semantics.

use crate::{Bus, Cpu, StepResult, Timing};

impl<T: Timing> Cpu<T> {
    /// Execute one instruction (prefixes included, and the interrupt entry of
    /// any exception it raises).
    pub fn step<B: Bus>(&mut self, bus: &mut B) -> StepResult {
        let _ = bus;
        if self.halted {
            return StepResult::Halted;
        }
        StepResult::Executed
    }
}
