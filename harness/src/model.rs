//! The format-independent model of one single-step test vector.

use serde::Serialize;

/// Register names in the order the vector formats list them (and the bit
/// order of a MOO `REGS` mask).
pub const REGS: [&str; 14] = cpu::REGISTER_NAMES;

/// Index of `flags` in [`REGS`].
pub const FLAGS_INDEX: usize = 13;

/// Register values of a state; `None` where the vector does not give one
/// (a final state lists only the registers that changed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegState(pub [Option<u16>; 14]);

impl RegState {
    /// Value of a register by its index in [`REGS`].
    pub fn get(&self, i: usize) -> Option<u16> {
        self.0[i]
    }

    /// Value of a register by name.
    pub fn by_name(&self, name: &str) -> Option<u16> {
        REGS.iter().position(|r| *r == name).and_then(|i| self.0[i])
    }

    /// Set a register by its index in [`REGS`].
    pub fn set(&mut self, i: usize, v: u16) {
        self.0[i] = Some(v);
    }

    /// True when every register is present.
    pub fn is_complete(&self) -> bool {
        self.0.iter().all(Option::is_some)
    }

    /// The register whose value is missing first, if any.
    pub fn first_missing(&self) -> Option<&'static str> {
        self.0.iter().position(Option::is_none).map(|i| REGS[i])
    }
}

/// A CPU state: registers, the memory bytes the test touches, the prefetch queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Registers.
    pub regs: RegState,
    /// (physical address, byte) pairs.
    pub ram: Vec<(u32, u8)>,
    /// Prefetch-queue contents (empty when the format has none).
    pub queue: Vec<u8>,
}

/// An exception or interrupt the test took, and where it pushed FLAGS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Exception {
    /// Vector number.
    pub number: u8,
    /// Physical address of the FLAGS word pushed on the stack.
    pub flag_address: u32,
}

/// Bus status of one cycle, as the status pins report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BusStatus {
    /// Interrupt acknowledge.
    IntA,
    /// I/O read.
    IoRead,
    /// I/O write.
    IoWrite,
    /// Memory read.
    MemRead,
    /// Memory write.
    MemWrite,
    /// Halt.
    Halt,
    /// Code fetch.
    Code,
    /// Passive (no transfer).
    Passive,
}

impl BusStatus {
    /// Parse the JSON spelling (`CODE`, `MEMR`, ...).
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "INTA" => BusStatus::IntA,
            "IOR" => BusStatus::IoRead,
            "IOW" => BusStatus::IoWrite,
            "MEMR" => BusStatus::MemRead,
            "MEMW" => BusStatus::MemWrite,
            "HALT" => BusStatus::Halt,
            "CODE" => BusStatus::Code,
            "PASV" => BusStatus::Passive,
            _ => return None,
        })
    }

    /// Decode the 8088/8086 S0–S2 octal value.
    pub fn from_808x(v: u8) -> Option<Self> {
        Some(match v {
            0 => BusStatus::IntA,
            1 => BusStatus::IoRead,
            2 => BusStatus::IoWrite,
            3 => BusStatus::MemRead,
            4 => BusStatus::MemWrite,
            5 => BusStatus::Halt,
            6 => BusStatus::Code,
            7 => BusStatus::Passive,
            _ => return None,
        })
    }

    /// Decode the 80286 S0/S1/M-IO/COD-INTA value.
    pub fn from_286(v: u8) -> Option<Self> {
        Some(match v {
            0 => BusStatus::IntA,
            4 => BusStatus::Halt,
            5 => BusStatus::MemRead,
            6 => BusStatus::MemWrite,
            9 => BusStatus::IoRead,
            10 => BusStatus::IoWrite,
            13 => BusStatus::Code,
            1..=15 => BusStatus::Passive,
            _ => return None,
        })
    }

    /// True when the cycle transfers data (the data bus is meaningful in its T3/Tc).
    pub fn is_transfer(self) -> bool {
        !matches!(self, BusStatus::Passive | BusStatus::Halt)
    }
}

/// T-state of one cycle (the 286's Ts/Tc are stored as T1/T2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TState {
    /// Idle.
    Ti,
    /// T1 (286: Ts).
    T1,
    /// T2 (286: Tc).
    T2,
    /// T3.
    T3,
    /// T4.
    T4,
    /// Wait state.
    Tw,
}

impl TState {
    /// Parse the JSON spelling.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "Ti" => TState::Ti,
            "T1" | "Ts" => TState::T1,
            "T2" | "Tc" => TState::T2,
            "T3" => TState::T3,
            "T4" => TState::T4,
            "Tw" => TState::Tw,
            _ => return None,
        })
    }

    /// Decode the MOO numeric value.
    pub fn from_code(v: u8) -> Option<Self> {
        Some(match v {
            0 => TState::Ti,
            1 => TState::T1,
            2 => TState::T2,
            3 => TState::T3,
            4 => TState::T4,
            5 => TState::Tw,
            _ => return None,
        })
    }
}

/// Queue operation reported in a cycle (QS0/QS1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum QueueOp {
    /// No queue operation.
    None,
    /// First byte of an instruction taken from the queue.
    First,
    /// Queue flushed.
    Flush,
    /// Subsequent byte taken from the queue.
    Subsequent,
}

impl QueueOp {
    /// Parse the JSON spelling (`-`, `F`, `E`, `S`).
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "-" => QueueOp::None,
            "F" => QueueOp::First,
            "E" => QueueOp::Flush,
            "S" => QueueOp::Subsequent,
            _ => return None,
        })
    }

    /// Decode the MOO numeric value.
    pub fn from_code(v: u8) -> Option<Self> {
        Some(match v {
            0 => QueueOp::None,
            1 => QueueOp::First,
            2 => QueueOp::Flush,
            3 => QueueOp::Subsequent,
            _ => return None,
        })
    }
}

/// Bits of [`Cycle::mem_status`] and [`Cycle::io_status`].
pub mod access {
    /// Write strobe.
    pub const WRITE: u8 = 1;
    /// Advanced write strobe (8086 family).
    pub const ADVANCED_WRITE: u8 = 2;
    /// Read strobe.
    pub const READ: u8 = 4;
}

/// Segment status code `segment` of a cycle when the vector gives none.
pub const SEG_NONE: u8 = 0xFF;

/// One bus cycle of a test's trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Cycle {
    /// Pin bits: bit 0 ALE (286: bit 1 BHE, bit 2 READY, bit 3 LOCK).
    pub pins: u8,
    /// Address bus (multiplexed address/data on the 8086).
    pub address: u32,
    /// Segment status: 0 ES, 1 SS, 2 CS or none, 3 DS; [`SEG_NONE`] when not given.
    pub segment: u8,
    /// Memory strobes ([`access`] bits).
    pub mem_status: u8,
    /// I/O strobes ([`access`] bits).
    pub io_status: u8,
    /// BHE pin (8086).
    pub bhe: u8,
    /// Data bus.
    pub data: u16,
    /// Bus status.
    pub bus: BusStatus,
    /// T-state.
    pub t_state: TState,
    /// Queue operation.
    pub queue_op: QueueOp,
    /// Byte taken from the queue when `queue_op` is not `None`.
    pub queue_byte: u8,
}

/// One single-step test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// Index of the test in its file.
    pub index: usize,
    /// The vector's name (its disassembly).
    pub name: String,
    /// Instruction bytes, prefixes included.
    pub bytes: Vec<u8>,
    /// State before the instruction (all registers present).
    pub initial: State,
    /// State after it (only the registers that changed).
    pub final_state: State,
    /// Bus cycles (empty when the reader was asked to skip them).
    pub cycles: Vec<Cycle>,
    /// The test's unique hash (hex).
    pub hash: String,
    /// Exception taken, when the vector records one.
    pub exception: Option<Exception>,
    /// Per-register masks of defined bits (MOO `RMSK`); `None` means all bits.
    pub reg_masks: Option<RegState>,
}

impl TestCase {
    /// Expected final value of register `i`: the final state's, else the initial one.
    pub fn expected(&self, i: usize) -> Option<u16> {
        self.final_state.regs.get(i).or(self.initial.regs.get(i))
    }
}
