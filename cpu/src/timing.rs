//! Timing models: what the instruction semantics call for every bus access
//! and internal cycle. Semantics are written once against [`Timing`]; a model
//! decides how much time each step costs and (for the exact model) what the
//! bus does in every T-state.

use crate::bus::Bus;
use crate::regs::Seg;
use crate::CpuModel;

/// Kind of a bus transfer, as the 8086's S0–S2 status pins report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// Instruction fetch.
    Code,
    /// Memory read.
    MemRead,
    /// Memory write.
    MemWrite,
    /// I/O read.
    IoRead,
    /// I/O write.
    IoWrite,
    /// Interrupt acknowledge.
    IntA,
    /// Halt.
    Halt,
}

/// The interface between instruction semantics and time.
///
/// Every memory, I/O and instruction-byte access of the CPU goes through a
/// timing model, which forwards it to the [`Bus`] and accounts for it.
pub trait Timing {
    /// True if instructions may be served from the decoded-instruction cache
    /// (see [`crate::Cpu::set_decode_cache`]): the model does not need to see
    /// every instruction-byte fetch on the bus.
    const DECODE_CACHE: bool = true;
    /// Set up for a CPU model (bus width, queue size).
    fn configure(&mut self, model: CpuModel);
    /// Take the next instruction-stream byte; `addr` is the physical address of CS:IP.
    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8;
    /// `n` instruction bytes were taken from the decoded-instruction cache
    /// instead of being fetched through [`Timing::fetch`].
    fn cached_fetch(&mut self, n: u32) {
        let _ = n;
    }
    /// Read a byte of memory through segment `seg`.
    fn read8<B: Bus>(&mut self, bus: &mut B, seg: Seg, addr: u32) -> u8;
    /// Write a byte of memory.
    fn write8<B: Bus>(&mut self, bus: &mut B, seg: Seg, addr: u32, v: u8);
    /// Read a word whose bytes are at `lo` and `hi` (they differ by one except at a segment wrap).
    fn read16<B: Bus>(&mut self, bus: &mut B, seg: Seg, lo: u32, hi: u32) -> u16;
    /// Write a word whose bytes are at `lo` and `hi`.
    fn write16<B: Bus>(&mut self, bus: &mut B, seg: Seg, lo: u32, hi: u32, v: u16);
    /// Read an I/O port, byte or word.
    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16;
    /// Write an I/O port, byte or word.
    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16);
    /// `n` cycles of execution-unit work with no bus transfer of its own.
    fn internal(&mut self, n: u32);
    /// The instruction stream changed (jump, call, interrupt): prefetched bytes are discarded.
    fn flush(&mut self);
    /// Clock cycles elapsed since creation.
    fn cycles(&self) -> u64;
}

/// The simplest model: every bus transfer costs four clocks (per byte on an
/// 8-bit bus or an odd-aligned word on a 16-bit one) and internal work what the
/// semantics ask. No prefetch queue is simulated.
#[derive(Clone, Debug, Default)]
pub struct CountingTiming {
    cycles: u64,
    byte_bus: bool,
}

impl CountingTiming {
    #[inline]
    fn word_cost(&self, lo: u32) -> u64 {
        if self.byte_bus || lo & 1 != 0 {
            8
        } else {
            4
        }
    }
}

impl Timing for CountingTiming {
    fn configure(&mut self, model: CpuModel) {
        self.byte_bus = model.bus_width_bytes() == 1;
    }
    #[inline]
    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8 {
        // Fetches overlap execution on the real chip; charge a nominal half transfer.
        self.cycles += 2;
        bus.read(addr)
    }
    #[inline]
    fn cached_fetch(&mut self, n: u32) {
        self.cycles += 2 * n as u64;
    }
    #[inline]
    fn read8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32) -> u8 {
        self.cycles += 4;
        bus.read(addr)
    }
    #[inline]
    fn write8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32, v: u8) {
        self.cycles += 4;
        bus.write(addr, v)
    }
    #[inline]
    fn read16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32) -> u16 {
        self.cycles += self.word_cost(lo);
        bus.read(lo) as u16 | ((bus.read(hi) as u16) << 8)
    }
    #[inline]
    fn write16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32, v: u16) {
        self.cycles += self.word_cost(lo);
        bus.write(lo, v as u8);
        bus.write(hi, (v >> 8) as u8);
    }
    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16 {
        if word {
            self.cycles += self.word_cost(port as u32);
            bus.io_read16(port)
        } else {
            self.cycles += 4;
            bus.io_read(port) as u16
        }
    }
    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16) {
        if word {
            self.cycles += self.word_cost(port as u32);
            bus.io_write16(port, v)
        } else {
            self.cycles += 4;
            bus.io_write(port, v as u8)
        }
    }
    #[inline]
    fn internal(&mut self, n: u32) {
        self.cycles += n as u64;
    }
    #[inline]
    fn flush(&mut self) {}
    fn cycles(&self) -> u64 {
        self.cycles
    }
}
