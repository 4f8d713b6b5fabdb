//! Timing models: what the instruction semantics call for every bus access
//! and internal cycle. Semantics are written once against [`Timing`]; a model
//! decides how much time each step costs and (for the exact model) what the
//! bus does in every T-state.

use crate::bus::Bus;
use crate::decode::ModRm;
use crate::model::CpuModel;
use crate::regs::Seg;
use crate::table::{Clocks, Per, Sem, StrOp};
use serde::{Deserialize, Serialize};

/// What a completed instruction did, for models that charge per instruction
/// ([`FastTiming`]).
#[derive(Clone, Copy, Debug)]
pub struct Retired {
    /// The part of the cost known when the instruction was decoded
    /// ([`base_clocks`]).
    pub base: u32,
    /// The row's [`Clocks::extra`].
    pub extra: u16,
    /// The row's [`Clocks::per`].
    pub per: Per,
    /// A REP/REPNE prefix was present.
    pub rep: bool,
    /// Word operation.
    pub word: bool,
    /// Control was transferred (branch taken, interrupt entered).
    pub taken: bool,
    /// Shift count, string repetitions, or one bits of a MUL/DIV operand.
    pub count: u32,
}

/// The cost of an instruction that decoding alone determines: the register
/// form's clocks, or the memory form's plus EA clocks; REP string forms their
/// start-up cost; plus 2 per segment-override or LOCK prefix.
pub fn base_clocks(k: &Clocks, modrm: Option<&ModRm>, prefixes: u8, rep: bool) -> u32 {
    let mut prefix_bytes = prefixes as u32;
    let n = match modrm {
        Some(m) if m.md != 3 => k.mem as u32 + ea_clocks(m),
        _ if k.per == Per::Repeat && rep => {
            prefix_bytes = prefix_bytes.saturating_sub(1);
            k.mem as u32
        }
        _ => k.reg as u32,
    };
    n + 2 * prefix_bytes
}

/// Clocks of the 8086's effective-address calculation for a memory-form
/// ModR/M (Intel 8086 Family User's Manual, 1979, table 2-20): displacement
/// only 6; base or index 5; displacement + base or index 9; BP+DI or BX+SI 7;
/// BP+SI or BX+DI 8; with a displacement 11 and 12. A segment override adds
/// 2, charged with the prefix byte.
pub fn ea_clocks(m: &ModRm) -> u32 {
    match (m.md, m.rm) {
        (3, _) => 0,
        (0, 6) => 6,
        (0, 0 | 3) => 7,
        (0, 1 | 2) => 8,
        (0, _) => 5,
        (_, 0 | 3) => 11,
        (_, 1 | 2) => 12,
        _ => 9,
    }
}

/// A decoded instruction, as the 80286 model ([`super::biu286::Exact286Timing`])
/// hears of it.
#[derive(Clone, Copy, Debug)]
pub struct Decoded {
    /// What the instruction does.
    pub sem: Sem,
    /// The opcode byte.
    pub opcode: u8,
    /// Its ModR/M byte.
    pub modrm: Option<ModRm>,
    /// Prefix bytes before the opcode.
    pub prefixes: u8,
    /// Bytes, prefixes included.
    pub len: u32,
    /// A REP/REPNE prefix was present.
    pub rep: bool,
}

/// Kind of a bus transfer, as the 8086's S0–S2 status pins report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The model's name in machine profiles and on the command line.
    const NAME: &'static str = "custom";
    /// True if instructions may be served from the decoded-instruction cache
    /// (see [`super::Cpu::set_decode_cache`]): the model does not need to see
    /// every instruction-byte fetch on the bus.
    const DECODE_CACHE: bool = true;
    /// True if the model charges per instruction through [`Timing::retire`]
    /// (the semantics then gather what it needs).
    const RETIRES: bool = false;
    /// True for the cycle-exact model: the semantics then say where the
    /// microcode takes each instruction byte ([`Timing::take`]) and spends
    /// internal cycles ([`Timing::eu`]); the decoder's reads ahead are free.
    const EXACT: bool = false;
    /// True if instructions served from the decode cache may run through the
    /// specialised forms of `fast`, which report every memory transfer but
    /// no microcode points ([`Timing::eu`]), and retire with the clocks
    /// [`FastTiming::clocks`] gives already worked out (in [`Retired::base`],
    /// with [`Per::Once`]): only for models that charge that way.
    const FAST_FORMS: bool = false;
    /// True for the 80286 bus model: the semantics report each instruction
    /// when decoded ([`Timing::begin`]) and when done ([`Timing::end`]), and
    /// order their transfers as the 286 does; the 8086 microcode points
    /// ([`Timing::take`], [`Timing::eu`]) are not made.
    const EXACT_286: bool = false;
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
    /// Exact model: the microcode takes the next instruction byte from the
    /// prefetch queue now (`first` for an opcode or prefix byte).
    #[inline]
    fn take<B: Bus>(&mut self, bus: &mut B, first: bool) {
        let _ = (bus, first);
    }
    /// Exact model: instruction bytes read by the decoder and not yet taken.
    #[inline]
    fn owed(&self) -> u32 {
        0
    }
    /// Exact model: `n` clocks of execution-unit work while the bus
    /// interface goes on prefetching.
    #[inline]
    fn eu<B: Bus>(&mut self, bus: &mut B, n: u32) {
        let _ = (bus, n);
    }
    /// Exact model: the microcode stops prefetching until the next flush
    /// (waiting for a fetch in its address or data phase, then one clock).
    #[inline]
    fn suspend<B: Bus>(&mut self, bus: &mut B) {
        let _ = bus;
    }
    /// Exact model: a microcode SUSP (one clock) that calls off only a fetch
    /// not yet started; one under way, even in its T1, completes and the
    /// microcode waits for its T4.
    #[inline]
    fn suspend_free<B: Bus>(&mut self, bus: &mut B) {
        let _ = bus;
    }
    /// 80286 model: the instruction `d` was decoded; returns when it starts
    /// executing.
    #[inline]
    fn begin<B: Bus>(&mut self, bus: &mut B, d: &Decoded) {
        let _ = (bus, d);
    }
    /// 80286 model: the instruction `d` completed its semantics (`taken`:
    /// control was transferred; `count`: shift count or repetitions).
    #[inline]
    fn end<B: Bus>(&mut self, bus: &mut B, d: &Decoded, taken: bool, count: u32) {
        let _ = (bus, d, taken, count);
    }
    /// 80286 model: a REP string instruction starts an iteration.
    #[inline]
    fn iteration<B: Bus>(&mut self, bus: &mut B, op: StrOp) {
        let _ = (bus, op);
    }
    /// 80286 model: interrupt `vector` is entered (its frame pushed next);
    /// `detail` is the instruction's timing count (BOUND: 1 when the upper
    /// bound failed).
    #[inline]
    fn interrupt<B: Bus>(&mut self, bus: &mut B, vector: u8, detail: u32) {
        let _ = (bus, vector, detail);
    }
    /// An instruction completed (after its bus transfers were reported).
    #[inline]
    fn retire(&mut self, r: &Retired) {
        let _ = r;
    }
    /// True if [`Timing::bulk`] charges what `n` transfers through
    /// [`Timing::read8`]/[`Timing::write8`] or [`Timing::read16`]/
    /// [`Timing::write16`] would, so that the fast forms may move a REP
    /// STOS or REP MOVS over plain RAM at once.
    const BULK: bool = false;
    /// `n` byte (or, if `word`, word) transfers of memory that a fast form
    /// made at once (see [`Timing::BULK`]), at consecutive addresses
    /// starting at `lo` (words: two apart, all at `lo`'s parity).
    #[inline]
    fn bulk(&mut self, n: u32, word: bool, lo: u32) {
        let _ = (n, word, lo);
    }
    /// The fast forms ([`Timing::FAST_FORMS`]) ran instructions whose
    /// clocks, worked out as [`FastTiming::clocks`] gives them, add up to
    /// `clocks`: charged at once for a run of instructions, not per
    /// instruction through [`Timing::retire`].
    #[inline]
    fn charge(&mut self, clocks: u64) {
        self.retire(&Retired {
            base: clocks.min(u32::MAX as u64) as u32,
            extra: 0,
            per: Per::Once,
            rep: false,
            word: false,
            taken: false,
            count: 0,
        });
    }
    /// The instruction stream changed (jump, call, interrupt, reset): prefetched
    /// bytes are discarded and fetching continues at `cs:ip`.
    fn flush(&mut self, cs: u16, ip: u16);
    /// Clock cycles elapsed since creation.
    fn cycles(&self) -> u64;
}

/// The simplest model: every bus transfer costs four clocks (per byte on an
/// 8-bit bus or an odd-aligned word on a 16-bit one), instruction bytes two.
/// No prefetch queue is simulated.
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
    const NAME: &'static str = "counting";
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
    fn flush(&mut self, _cs: u16, _ip: u16) {}
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// The fast model: each instruction costs its clock count from the 8086
/// timing table ([`crate::table::clocks_8086`], held in every table row),
/// plus EA clocks for memory forms, plus 4 clocks per word transferred at an
/// odd address (every word on the 8088's byte bus), plus 2 per segment or
/// LOCK prefix. No bus cycles or prefetch queue are simulated.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FastTiming {
    cycles: u64,
    byte_bus: bool,
}

impl FastTiming {
    #[inline]
    fn word_penalty(&self, lo: u32) -> u64 {
        if self.byte_bus || lo & 1 != 0 {
            4
        } else {
            0
        }
    }

    /// Clocks the timing table gives for a completed instruction.
    #[inline]
    pub fn clocks(r: &Retired) -> u32 {
        if r.per == Per::Once {
            return r.base;
        }
        let extra = r.extra as u32;
        r.base
            + match r.per {
                Per::Once => 0,
                Per::Taken => extra * r.taken as u32,
                Per::Bit => extra * r.count,
                Per::Repeat => extra * r.count * r.rep as u32,
                Per::Data => {
                    let bits = if r.word { 16 } else { 8 };
                    extra * r.count.min(bits) / bits
                }
            }
    }
}

impl Timing for FastTiming {
    const NAME: &'static str = "fast";
    const RETIRES: bool = true;
    const FAST_FORMS: bool = true;
    const BULK: bool = true;
    #[inline]
    fn bulk(&mut self, n: u32, word: bool, lo: u32) {
        if word {
            self.cycles += n as u64 * self.word_penalty(lo);
        }
    }
    fn configure(&mut self, model: CpuModel) {
        self.byte_bus = model.bus_width_bytes() == 1;
    }
    #[inline]
    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8 {
        bus.read(addr)
    }
    #[inline]
    fn read8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32) -> u8 {
        bus.read(addr)
    }
    #[inline]
    fn write8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32, v: u8) {
        bus.write(addr, v)
    }
    #[inline]
    fn read16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32) -> u16 {
        self.cycles += self.word_penalty(lo);
        bus.read(lo) as u16 | ((bus.read(hi) as u16) << 8)
    }
    #[inline]
    fn write16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32, v: u16) {
        self.cycles += self.word_penalty(lo);
        bus.write(lo, v as u8);
        bus.write(hi, (v >> 8) as u8);
    }
    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16 {
        if word {
            self.cycles += self.word_penalty(port as u32);
            bus.io_read16(port)
        } else {
            bus.io_read(port) as u16
        }
    }
    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16) {
        if word {
            self.cycles += self.word_penalty(port as u32);
            bus.io_write16(port, v)
        } else {
            bus.io_write(port, v as u8)
        }
    }
    #[inline]
    fn retire(&mut self, r: &Retired) {
        self.cycles += Self::clocks(r) as u64;
    }
    #[inline]
    fn flush(&mut self, _cs: u16, _ip: u16) {}
    #[inline]
    fn charge(&mut self, clocks: u64) {
        self.cycles += clocks;
    }
    #[inline]
    fn cycles(&self) -> u64 {
        self.cycles
    }
}
