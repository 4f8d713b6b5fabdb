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

    /// True when a maskable interrupt would be accepted now (IF set and no
    /// one-instruction interrupt shadow after MOV SS/POP SS/STI).
    pub fn interrupts_enabled(&self) -> bool {
        self.regs.flag(crate::regs::IF) && !self.irq_shadow
    }

    /// Take a hardware interrupt with vector `vector` now (the caller checked
    /// [`Cpu::interrupts_enabled`] and did the acknowledge). Wakes a halted CPU.
    pub fn interrupt<B: Bus>(&mut self, bus: &mut B, vector: u8) {
        let _ = (bus, vector);
        self.halted = false;
    }

    /// Non-maskable interrupt (vector 2).
    pub fn nmi<B: Bus>(&mut self, bus: &mut B) {
        self.interrupt(bus, 2);
    }
}
