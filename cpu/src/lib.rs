//! The ironpc x86 core: 8086/8088, 80186 and 80286 (real mode).
//!
//! One instruction table ([`table`]) drives decoding ([`decode`]), disassembly
//! ([`disasm`]) and the dispatch of instruction semantics ([`exec`]). The
//! semantics are written once, generic over a [`Timing`] model; memory and I/O
//! reach the CPU through the [`Bus`] trait.
#![forbid(unsafe_code)]

pub mod biu;
pub mod biu286;
pub mod bus;
pub mod decode;
pub mod disasm;
pub mod exec;
mod fast;
mod icache;
pub mod regs;
pub mod table;
pub mod timing;

mod alu;

pub use biu::{CycleRecord, ExactTiming, QueueOp, TState};
pub use biu286::Exact286Timing;
pub use bus::{Bus, FlatBus};
pub use disasm::{disassemble, Disassembly};
pub use regs::{describe_flags, Registers, Seg, REGISTER_NAMES};
pub use timing::{CountingTiming, Decoded, FastTiming, Retired, Timing, Transfer};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which processor a [`Cpu`] behaves as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CpuModel {
    /// Intel 8088: 8-bit external bus, 4-byte prefetch queue.
    I8088,
    /// Intel 8086: 16-bit bus, 6-byte queue.
    I8086,
    /// Intel 80186 (and 80188 instruction set).
    I80186,
    /// Intel 80286 in real mode.
    I80286,
}

impl CpuModel {
    /// Bytes moved per bus cycle.
    pub fn bus_width_bytes(self) -> u32 {
        match self {
            CpuModel::I8088 => 1,
            _ => 2,
        }
    }

    /// Prefetch queue length in bytes.
    pub fn queue_len(self) -> usize {
        match self {
            CpuModel::I8088 => 4,
            _ => 6,
        }
    }

    /// Mask applied to physical addresses (20 address lines, 24 on the 286).
    pub fn address_mask(self) -> u32 {
        match self {
            CpuModel::I80286 => 0x00FF_FFFF,
            _ => 0x000F_FFFF,
        }
    }

    /// True for the 80186 and later (the instruction-set extensions).
    pub fn is_186_plus(self) -> bool {
        matches!(self, CpuModel::I80186 | CpuModel::I80286)
    }

    /// Short name: `8088`, `8086`, `80186`, `80286`.
    pub fn name(self) -> &'static str {
        match self {
            CpuModel::I8088 => "8088",
            CpuModel::I8086 => "8086",
            CpuModel::I80186 => "80186",
            CpuModel::I80286 => "80286",
        }
    }

    /// FLAGS bits that always read as one in real mode.
    pub fn flags_fixed_ones(self) -> u16 {
        match self {
            // Intel documents bits 12-15 as undefined on the 80C186; the 80186
            // test ROMs were recorded with them clear (their control flow
            // depends on it), so the 80186 model keeps them clear.
            CpuModel::I80186 | CpuModel::I80286 => 0x0002,
            _ => 0xF002,
        }
    }

    /// FLAGS bits that can be written.
    pub fn flags_writable(self) -> u16 {
        match self {
            // NT and IOPL cannot be set in real mode on the 286.
            CpuModel::I80286 => 0x0FD5,
            _ => 0x0FD5,
        }
    }
}

impl fmt::Display for CpuModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown CPU model name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownModel(pub String);

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown CPU model '{}' (expected 8088, 8086, 80186 or 80286)",
            self.0
        )
    }
}

impl std::error::Error for UnknownModel {}

impl FromStr for CpuModel {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().trim_start_matches('i') {
            "8088" => Ok(CpuModel::I8088),
            "8086" => Ok(CpuModel::I8086),
            "80186" | "186" | "80188" => Ok(CpuModel::I80186),
            "80286" | "286" => Ok(CpuModel::I80286),
            _ => Err(UnknownModel(s.to_string())),
        }
    }
}

/// What one call of [`Cpu::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// An instruction (with its prefixes, and any exception it raised) completed.
    Executed,
    /// The CPU is halted (HLT, or a 286 shutdown) and did nothing.
    Halted,
}

/// A CPU: registers, model, and the timing model that accounts for its time.
#[derive(Clone, Debug)]
pub struct Cpu<T: Timing = CountingTiming> {
    /// Architectural registers.
    pub regs: Registers,
    /// The timing model (owns the prefetch queue in the exact model).
    pub timing: T,
    pub(crate) model: CpuModel,
    /// `model.address_mask()`, kept at hand for address arithmetic.
    pub(crate) amask: u32,
    pub(crate) halted: bool,
    /// Interrupts are held off for one instruction (after MOV SS, POP SS, STI...).
    pub(crate) irq_shadow: bool,
    /// 80286 machine status word (real mode: only PE=0 and the FPU bits matter).
    pub msw: u16,
    /// 80286 descriptor-table registers, (base, limit).
    pub gdtr: (u32, u16),
    /// 80286 interrupt descriptor table register, (base, limit).
    pub idtr: (u32, u16),
    /// Instructions executed.
    pub instructions: u64,
    pub(crate) cur: exec::Current,
    /// An exception raised in the middle of an instruction (286 segment
    /// overrun, #UD...): the instruction is abandoned and the exception taken.
    pub(crate) abort: Option<u8>,
    /// Decoded-instruction cache (empty while off).
    pub(crate) icache: icache::DecodeCache,
    /// Flags the fast forms have not worked out yet (none outside
    /// [`Cpu::run`] and [`Cpu::step`]; see [`fast::Lazy`]).
    pub(crate) lazy: fast::Lazy,
}

impl<T: Timing + Default> Cpu<T> {
    /// A CPU of `model` in its reset state (CS:IP = FFFF:0000).
    pub fn new(model: CpuModel) -> Self {
        let mut timing = T::default();
        timing.configure(model);
        let mut c = Cpu {
            regs: Registers::default(),
            timing,
            model,
            amask: model.address_mask(),
            halted: false,
            irq_shadow: false,
            msw: 0xFFF0,
            gdtr: (0, 0xFFFF),
            idtr: (0, 0x03FF),
            instructions: 0,
            cur: exec::Current::default(),
            abort: None,
            icache: icache::DecodeCache::default(),
            lazy: fast::Lazy::default(),
        };
        c.reset();
        c
    }
}

impl<T: Timing> Cpu<T> {
    /// Reset: CS=FFFF, IP=0, other registers zero, flags cleared.
    pub fn reset(&mut self) {
        self.regs = Registers::default();
        self.regs.seg[Seg::CS as usize] = 0xFFFF;
        if self.model == CpuModel::I80286 {
            self.regs.seg[Seg::CS as usize] = 0xF000;
            self.regs.ip = 0xFFF0;
        }
        self.regs.flags = self.model.flags_fixed_ones();
        self.lazy = fast::Lazy::default();
        self.halted = false;
        self.irq_shadow = false;
        self.msw = 0xFFF0;
        self.idtr = (0, 0x03FF);
        let (cs, ip) = (self.regs.seg[Seg::CS as usize], self.regs.ip);
        self.timing.flush(cs, ip);
    }

    /// The processor this CPU behaves as.
    pub fn model(&self) -> CpuModel {
        self.model
    }

    /// True while halted.
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Leave the halted state (an interrupt arrived).
    pub fn wake(&mut self) {
        self.halted = false;
    }

    /// Enter or leave the halted state (restoring a snapshot).
    pub fn set_halted(&mut self, halted: bool) {
        self.halted = halted;
    }

    /// True while interrupts are held off for one instruction (after MOV
    /// SS, POP SS, STI...).
    pub fn irq_shadow(&self) -> bool {
        self.irq_shadow
    }

    /// Set the one-instruction interrupt shadow (restoring a snapshot).
    pub fn set_irq_shadow(&mut self, on: bool) {
        self.irq_shadow = on;
    }

    /// Clock cycles spent so far, as the timing model counts them.
    pub fn cycles(&self) -> u64 {
        self.timing.cycles()
    }

    /// Physical address of `seg:off` for this model.
    #[inline]
    pub fn linear(&self, seg: u16, off: u16) -> u32 {
        (((seg as u32) << 4) + off as u32) & self.amask
    }
}
