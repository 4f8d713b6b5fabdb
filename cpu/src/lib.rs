//! The ironpc x86 CPU crate.
//!
//! At the top sits the layer every core shares: the CPU models ([`model`]),
//! the instruction table ([`table`]), the decoder from bytes ([`decode`]), the
//! disassembler ([`disasm`]), register names ([`regs`]), the ALU and flag
//! helpers, and the [`Bus`] trait through which memory and I/O reach a CPU.
//! The cores sit beside each other on it and never import each other:
//! [`i86`] is the 8086/8088, 80186 and 80286 (real mode) core. The shared
//! layer imports no core (`tests/layering.rs` keeps that so).
//!
//! The 16-bit core's types are re-exported here, so that `cpu::Cpu`,
//! `cpu::FastTiming` and the rest keep their paths.
#![forbid(unsafe_code)]

pub mod bus;
pub mod decode;
pub mod disasm;
pub mod ia32;
pub mod model;
pub mod regs;
pub mod table;
pub mod x87;

mod alu;

pub mod i86;

pub use bus::{Bus, FlatBus};
pub use disasm::{disassemble, Disassembly};
pub use model::{CpuModel, UnknownModel};
pub use regs::{describe_flags, Registers, Seg, REGISTER_NAMES};

pub use i86::biu::ExactTiming;
pub use i86::biu286::Exact286Timing;
pub use i86::pins::{CycleRecord, QueueOp, TState};
pub use i86::timing::{CountingTiming, Decoded, FastTiming, Retired, Timing, Transfer};
pub use i86::{Cpu, RepState};

/// What one call of a core's `step` did (shared: every core's step ends in
/// one of these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// An instruction (with its prefixes, and any exception it raised) completed.
    Executed,
    /// The CPU is halted (HLT, or a 286 shutdown) and did nothing.
    Halted,
}
