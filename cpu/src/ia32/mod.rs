//! The 32-bit core: 80286 protected mode, 80386 and 80486.
//!
//! A sibling of the 16-bit core, sharing only the [`Bus`](crate::Bus)
//! trait. Structure:
//! - [`width`]: operand widths and the arithmetic written once over them;
//! - [`table`]: the opcode table as data (decode shapes, models, clocks);
//! - `decode`: prefixes, ModR/M, SIB, displacements, immediates;
//! - `mem`: segmentation checks, paging with a TLB, physical access;
//! - `exec`: instruction semantics;
//! - `prot`: descriptors, far transfers, interrupts, task switches.
//!
//! Faults are `Err(Fault)` values: a step that faults restores the
//! registers it started with and delivers the exception, so an instruction
//! restarts with the architectural state the manuals give.
#![allow(clippy::too_many_arguments, clippy::needless_range_loop)]

mod clocks;
mod debug;
mod decode;
pub mod disasm;
mod exec;
mod flags;
mod forms;
mod fpu;
mod icache;
mod mem;
mod p6;
#[cfg(test)]
mod p6_tests;
mod prot;
mod slice;
mod state;
pub mod table;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_alu;
#[cfg(test)]
mod tests_block;
#[cfg(test)]
mod tests_clocks;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_fetch;
#[cfg(test)]
mod tests_flags;
#[cfg(test)]
mod tests_icache;
#[cfg(test)]
mod tests_mem;
#[cfg(test)]
mod tests_tlbstats;
#[cfg(test)]
mod tests_vme;
mod tlbstats;
mod vme;
pub mod width;

use crate::Bus;
pub use decode::Insn;
pub use p6::{feature, features, msr, signature};
pub use slice::{Slice, SliceEnd};
pub use state::{Cpu32State, SegState, CPU32_STATE_VERSION};
pub use tlbstats::TlbStats;
use width::*;

/// Which processor a [`Cpu32`] behaves as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Model32 {
    /// 80286: protected mode with 286 descriptors, 24-bit addresses, no 32-bit operands.
    I80286,
    /// 80386 (386DX).
    I80386,
    /// 80486: adds BSWAP, XADD, CMPXCHG, INVLPG, INVD/WBINVD, CR0.WP/NE/AM, EFLAGS.AC.
    I80486,
    /// Pentium (P54C): adds CPUID features, RDTSC, RDMSR/WRMSR, CMPXCHG8B, CR4, 4 MiB pages.
    Pentium,
    /// Pentium Pro-class P6: adds CMOVcc, FCMOVcc/FCOMI, RDPMC, UD2, SYSENTER/SYSEXIT,
    /// global pages, FXSAVE/FXRSTOR (see docs/ia32.md, "Pentium and P6").
    PentiumPro,
}

impl Model32 {
    /// 2 for the 286, 3 for the 386, 4 for the 486, 5 for the Pentium, 6 for the P6.
    #[inline]
    pub fn generation(self) -> u8 {
        match self {
            Model32::I80286 => 2,
            Model32::I80386 => 3,
            Model32::I80486 => 4,
            Model32::Pentium => 5,
            Model32::PentiumPro => 6,
        }
    }
    /// The model from a machine profile's CPU name (`286`, `386`, `486`,
    /// `pentium`, `pentium-pro`; the `80x86` spellings too).
    pub fn from_name(name: &str) -> Option<Model32> {
        Some(match name.to_ascii_lowercase().as_str() {
            "80286" | "286" => Model32::I80286,
            "80386" | "386" => Model32::I80386,
            "80486" | "486" => Model32::I80486,
            "pentium" | "586" | "p5" => Model32::Pentium,
            "pentium-pro" | "pentiumpro" | "686" | "p6" => Model32::PentiumPro,
            _ => return None,
        })
    }
    /// Physical address mask (24 address lines on the 286).
    #[inline]
    pub fn address_mask(self) -> u32 {
        match self {
            Model32::I80286 => 0x00FF_FFFF,
            _ => 0xFFFF_FFFF,
        }
    }
}

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult32 {
    /// An instruction (or one iteration of a repeated string instruction) ran, or an interrupt was taken.
    Executed,
    /// The CPU is halted waiting for an interrupt.
    Halted,
    /// A triple fault: the CPU stopped; the board decides (a PC resets).
    Shutdown,
}

/// A segment register and its hidden descriptor cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegCache {
    /// The visible selector.
    pub sel: u16,
    /// Base address.
    pub base: u32,
    /// Limit in bytes (already scaled by G).
    pub limit: u32,
    /// Access byte (bits 0–7) and the flags nibble of descriptor byte 6
    /// (bits 12–15: AVL, 0, D/B, G).
    pub attr: u16,
    /// False for a null selector loaded in protected mode.
    pub valid: bool,
}

impl SegCache {
    /// Present bit.
    #[inline]
    pub fn present(&self) -> bool {
        self.attr & 0x80 != 0
    }
    /// Descriptor privilege level.
    #[inline]
    pub fn dpl(&self) -> u8 {
        ((self.attr >> 5) & 3) as u8
    }
    /// D/B bit: 32-bit code or stack.
    #[inline]
    pub fn big(&self) -> bool {
        self.attr & 0x4000 != 0
    }
    /// The four type bits.
    #[inline]
    pub fn ty(&self) -> u8 {
        (self.attr & 0xF) as u8
    }
    /// Code or data (S bit set).
    #[inline]
    pub fn is_seg(&self) -> bool {
        self.attr & 0x10 != 0
    }
    /// A code segment.
    #[inline]
    pub fn is_code(&self) -> bool {
        self.is_seg() && self.attr & 8 != 0
    }
    fn real(sel: u16) -> SegCache {
        SegCache {
            sel,
            base: (sel as u32) << 4,
            limit: 0xFFFF,
            attr: 0x93,
            valid: true,
        }
    }
}

/// Segment register numbers (ModR/M sreg order).
pub const ES: usize = 0;
/// CS.
pub const CS: usize = 1;
/// SS.
pub const SS: usize = 2;
/// DS.
pub const DS: usize = 3;
/// FS.
pub const FS: usize = 4;
/// GS.
pub const GS: usize = 5;

/// An exception on its way to delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Vector.
    pub vector: u8,
    /// Error code, for the vectors that push one.
    pub code: Option<u16>,
}

/// Internal result type.
pub type R<T> = Result<T, Fault>;

pub(crate) fn fault(vector: u8, code: u16) -> Fault {
    Fault {
        vector,
        code: Some(code),
    }
}
pub(crate) fn fault_nc(vector: u8) -> Fault {
    Fault { vector, code: None }
}
pub(crate) fn gp(code: u16) -> Fault {
    fault(13, code)
}
pub(crate) fn ud() -> Fault {
    fault_nc(6)
}

/// A numeric coprocessor attached to the ESC opcodes (D8–DF) and WAIT.
/// The ia32 core decodes the instruction and computes the memory operand's
/// address; the coprocessor does the rest.
pub trait Coprocessor {
    /// Execute ESC `opcode` (D8–DF) with its ModR/M byte; `mem` is the
    /// operand's linear address for memory forms.
    fn esc(&mut self, opcode: u8, modrm: u8, mem: Option<u32>, bus: &mut dyn Bus);
    /// True if an unmasked exception is pending (WAIT and ESC then report #MF / IRQ13).
    fn error_pending(&self) -> bool {
        false
    }
}

/// Registers saved at an instruction's start, put back when it faults.
/// The general registers, EIP and EFLAGS are saved before every
/// instruction; the segment registers and CPL only when something is about
/// to change them ([`Cpu32::save_seg`], `seg_saved`), because copying the
/// six descriptor caches per instruction cost more than a sixth of the
/// time.
#[derive(Clone, Copy)]
struct Snapshot {
    r: [u32; 8],
    eip: u32,
    eflags: u32,
    /// The lazy flags record at the start (`eflags`' status bits are stale
    /// while it is pending): carried rather than worked out, so that only
    /// the instructions that read the flags pay for them.
    lf: flags::Lazy,
    seg: [SegCache; 6],
    cpl: u8,
}

/// One TLB entry: a linear page mapped to a physical page with the rights
/// the walk found.
#[derive(Clone, Copy)]
struct TlbEntry {
    /// The direct path's keys (`mem.rs`, [`Cpu32::direct_phys`]), indexed
    /// by `user + 2 * write`: the linear page's base address if an access
    /// of that kind may go straight to the board's [`Bus::ram_direct`]
    /// memory (the rights granted, D already set for a write, the physical
    /// page outside [`crate::bus::DIRECT_HOLE`]), else [`KEY_NONE`], which
    /// no page base equals, so that a hit is one compare.
    key: [u32; 4],
    /// Physical page base minus linear page base: `lin + delta` is the
    /// physical address.
    delta: u32,
    /// Linear page number | 1 (valid), or 0.
    tag: u32,
    /// Physical page base.
    phys: u32,
    /// User access allowed.
    user: bool,
    /// Writes allowed (user level; supervisor writes also when !WP).
    write: bool,
    /// The dirty bit is already set in the PTE.
    dirty: bool,
    /// A global page (PGE): kept across CR3 loads.
    global: bool,
}

const TLB_SIZE: usize = 256;

/// A TLB key that grants nothing: not a page base (its low bits are not
/// zero), so no access's page base equals it. (Not 0: that is page 0's.)
const KEY_NONE: u32 = 1;

impl TlbEntry {
    /// An entry that maps nothing.
    const EMPTY: TlbEntry = TlbEntry {
        key: [KEY_NONE; 4],
        delta: 0,
        tag: 0,
        phys: 0,
        user: false,
        write: false,
        dirty: false,
        global: false,
    };
}

/// The ia32 CPU. Laid out as declared (`repr(C)`) so that the general
/// registers come first: LLVM keeps the address of a field it indexes
/// (`self.r[n]`) out of the run loop and rematerialises it with a `lea`
/// before each use, which at offset 0 is the CPU's own address.
#[repr(C)]
pub struct Cpu32 {
    /// General registers EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub r: [u32; 8],
    model: Model32,
    /// `model.address_mask()`, kept as a field: the direct path's
    /// paging-off case masks every access with it (the `match` cost five
    /// host instructions an access).
    addr_mask: u32,
    /// Instruction pointer.
    pub eip: u32,
    /// EFLAGS; its six status bits are stale while `lf` holds a record
    /// (`flags.rs`).
    eflags: u32,
    /// The last lazy flag producer (`flags.rs`).
    lf: flags::Lazy,
    /// Segment registers ES, CS, SS, DS, FS, GS.
    pub seg: [SegCache; 6],
    /// GDTR base and limit.
    pub gdtr: (u32, u16),
    /// IDTR base and limit.
    pub idtr: (u32, u16),
    /// LDTR with its cache.
    pub ldtr: SegCache,
    /// TR with its cache.
    pub tr: SegCache,
    /// Control registers CR0, CR1 (unused), CR2, CR3, CR4. A direct write
    /// of CR0.EM or TS is followed by [`Cpu32::x87_regate`] (the lean x87
    /// forms' gate stands for them).
    pub cr: [u32; 5],
    /// Debug registers DR0–DR7.
    pub dr: [u32; 8],
    /// Test registers TR6, TR7.
    pub tr67: [u32; 2],
    cpl: u8,
    halted: bool,
    shutdown: bool,
    intr: bool,
    nmi: bool,
    nmi_blocked: bool,
    /// Interrupts are inhibited for one instruction (after STI, MOV SS, POP SS).
    inhibit: bool,
    cycles: u64,
    /// The clocks already charged for the far transfer in progress (its
    /// real-mode count), which a protected-mode path tops up to its own
    /// (`clocks::xfer_clk`).
    xfer_base: u16,
    instructions: u64,
    /// Held in the struct, not boxed: the direct path indexes it from the
    /// CPU's own address, one load fewer per access than through a box.
    tlb: [TlbEntry; TLB_SIZE],
    /// Every entry's `key` and `delta` again, flat: element `4 × slot +
    /// kind` (`kind` = user + 2 × write) is the slot's key for that kind
    /// and, in `tlb_delta`, its delta (the same for the four). The direct
    /// path indexes both with one scaled index whose kind's `2 × write`
    /// folds into the displacement, where an entry's row needed its
    /// address worked out first. Written with the entries (`tlb_put`,
    /// the flushes).
    tlb_key: [u32; TLB_SIZE * 4],
    tlb_delta: [u32; TLB_SIZE * 4],
    /// Decoded instructions (`icache.rs`).
    icache: Box<[icache::Slot; icache::ICACHE_SLOTS]>,
    /// The run loop's blocks' decoded forms, in order (`icache.rs`,
    /// [`Cpu32::build_block`]; `icache::BLOCK_ARENA` of them), filled from
    /// `block_pos` on. Empty only while a body runs (`slice.rs`, taken out
    /// so that the forms run from it by reference).
    blocks: Box<[decode::Insn]>,
    /// For each entry of `blocks`, its instruction's EIP less the body's
    /// first (taken out of `self` with `blocks`): a body tracks no EIP
    /// from one instruction to the next, it works it out from this only
    /// where it is needed (`slice.rs`).
    block_offs: Box<[u16]>,
    /// The next free entry of `blocks` (a ring: `icache.rs`,
    /// [`Cpu32::build_block`]).
    block_pos: u32,
    /// For each entry of `blocks`, the slot (plus one) of the block whose
    /// body begins there, else 0: writing over it drops that block.
    block_owner: Box<[u32]>,
    /// For each entry of `blocks` that is a body's Jcc (`forms::JCC_BODY`),
    /// the block word (`icache::Slot::blk`) its target's slot held when a
    /// body last left there, and above it the [`Cpu32::link_gen`] it was
    /// found in: a body then goes on into its target's body without the
    /// run loop's look-up (`slice.rs`, `Cpu32::chain_link`).
    block_links: Box<[u64]>,
    /// The generation of `block_links`: a link is good only in the one it
    /// was made in. A new one starts with every fetch context and wherever
    /// the arena writes over a block's first form (`icache.rs`), the only
    /// ways the forms a link leads to could stop being those of its
    /// target (never 0).
    link_gen: u32,
    /// The visit at which a slot's block is built (1 ..= `icache::BLK_HOT`,
    /// that by default): tests of what a built body does lower it, so
    /// that their loops take bodies after a pass or two, as before the
    /// count existed. Read only where a slot not yet built is visited.
    block_heat: u32,
    /// Use the decoded-instruction cache.
    icache_on: bool,
    /// Give decoded instructions their specialised form (`forms.rs`).
    forms_on: bool,
    /// For each physical page (hashed, `icache.rs`, `code_lines_new`),
    /// the 64-byte lines holding cached instructions whose bytes were
    /// checked at [`Self::code_epoch`] (0: no such code on the page); a
    /// write reaching one ends that epoch.
    code_lines: Box<[u64; icache::CODE_PAGES]>,
    /// Cached instructions checked in this epoch are still what memory
    /// holds; it moves on when one may not be (a write to a marked page,
    /// a TLB flush, a new board RAM generation).
    code_epoch: u32,
    /// The board's [`Bus::ram_generation`] last seen.
    bus_gen: Option<u64>,
    /// The fetch context: the run loop takes a decode-cache slot on one
    /// comparison when the slot was stamped in this context (`icache.rs`,
    /// [`Cpu32::fast_slot`]). It ends with every code epoch and whenever
    /// the code segment, the code size or CPL 3-ness changes.
    fetch_ctx: u32,
    /// `fetch_ctx` shifted into a slot tag's upper half, with
    /// `icache::SEGS_SAVED` set when the segments were saved since the
    /// context was last brought up to date.
    fetch_hi: u64,
    /// The fetch conditions `fetch_ctx` stands for.
    fetch_at: icache::FetchState,
    snap: Snapshot,
    /// `snap.seg` and `snap.cpl` hold this instruction's starting values.
    seg_saved: bool,
    /// The memory path's fast bounds (`mem.rs`, [`Cpu32::seg_fast`]): for
    /// each segment register a read (0) and a write (1) end, the limit
    /// plus one when an access of that kind needs no check but
    /// `offset + length <= end` (a valid expand-up segment whose type
    /// allows it in any mode) and nothing else can stop the direct path
    /// (no data breakpoint armed, no alignment check possible at CPL 3);
    /// else 0, and the access takes the full checks. Conservative by
    /// construction: zeroed wherever a segment, CPL, DR7 or EFLAGS.AC may
    /// change (`save_seg`, `load_eflags`, MOV DR7, a restored snapshot,
    /// reset, a state load, the public run entries) and worked out again
    /// only by a full check made outside such a change (`seg_saved` clear).
    /// Each entry is `[read end, write end, base, mode]`: the segment's
    /// base and the direct path's mode (`mem::MODE_FLAT` with paging off,
    /// else CPL 3-ness, the TLB key's user index) ride with its ends,
    /// derived with them (CR0.PG changes zero them too, `set_cr0`), so
    /// they are current whenever the ends are nonzero and a hit reads one
    /// entry; eight entries so that `s & 7` needs no bounds check (6 and 7
    /// stay zeroed). A mode below `mem::MODE_SEG` marks a segment flat for
    /// the direct path, whose limit is not compared; a zeroed entry's mode
    /// is `MODE_SEG` (limit compared, against 0).
    seg_end: [[u64; 4]; 8],
    /// Each `seg_end` entry's mode (`[3]`) again, in an array of its own:
    /// the direct path reads it first, and only a segment that is not flat
    /// reads its row. With eight-byte elements, the address is one scaled
    /// index (a row of `seg_end` needs the index copied and shifted first:
    /// two host instructions an access); 256 of them (only the first eight
    /// ever change from `MODE_SEG`) so that the direct path indexes it with
    /// the decoded segment byte as it is (`Cpu32::flat_mode`), with no
    /// `& 7` and no copy of the byte kept for the slow path.
    seg_mode: [u64; 256],
    /// Debug builds: the segments and CPL at the instruction's start, to
    /// check that every change was preceded by [`Cpu32::save_seg`].
    #[cfg(debug_assertions)]
    dbg_seg: ([SegCache; 6], u8),
    /// Debug builds: the registers and EFLAGS at the start of an
    /// instruction that skipped the snapshot ([`Cpu32::start_unsnapped`]).
    #[cfg(debug_assertions)]
    dbg_regs: Option<([u32; 8], u32)>,
    fpu: Option<Box<dyn Coprocessor>>,
    /// The integrated (or attached) x87 and its FERR# output.
    x87: fpu::X87,
    /// TSC offset and the Pentium/P6 MSRs.
    p6: p6::P6State,
    /// The instruction now executing (for faults and IRET bookkeeping).
    insn_start: u32,
    /// Breakpoints hit by the instruction now executing.
    dbg: debug::DebugState,
    /// Paging counters (`tlbstats.rs`).
    tlb_stats: TlbStats,
    /// A block's body is running ([`Cpu32::touch_bus`]): 0 not, 1 without
    /// the slice's clock (`Cpu32::run`), 2 in a slice.
    in_body: u8,
    /// In a slice's body: the slice's clock at the body's start.
    body_clk: u64,
    /// In a slice's body: the arena `imm2` of the form now running that
    /// may reach the bus (its clocks before it, `icache::BODY_CLK`).
    body_at: u16,
    /// Where the last body that left at a taken Jcc left: that Jcc's arena
    /// entry, whose link (`block_links`) the lap takes for the next body.
    jcc_at: u32,
}

// The registers' place is what `repr(C)` is for (above).
const _: () = assert!(std::mem::offset_of!(Cpu32, r) == 0);

/// Registers for tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regs32 {
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub r: [u32; 8],
    /// EIP.
    pub eip: u32,
    /// EFLAGS.
    pub eflags: u32,
    /// ES, CS, SS, DS, FS, GS selectors.
    pub sel: [u16; 6],
    /// CR0.
    pub cr0: u32,
    /// Current privilege level.
    pub cpl: u8,
}

impl Cpu32 {
    /// A CPU of `model`, reset.
    pub fn new(model: Model32) -> Self {
        let mut c = Cpu32 {
            model,
            addr_mask: model.address_mask(),
            r: [0; 8],
            eip: 0,
            eflags: 2,
            lf: flags::Lazy::default(),
            seg: [SegCache::default(); 6],
            gdtr: (0, 0xFFFF),
            idtr: (0, 0x3FF),
            ldtr: SegCache::default(),
            tr: SegCache::default(),
            cr: [0; 5],
            dr: [0; 8],
            tr67: [0; 2],
            cpl: 0,
            halted: false,
            shutdown: false,
            intr: false,
            nmi: false,
            nmi_blocked: false,
            inhibit: false,
            cycles: 0,
            xfer_base: 0,
            instructions: 0,
            tlb: [TlbEntry::EMPTY; TLB_SIZE],
            tlb_key: [KEY_NONE; TLB_SIZE * 4],
            tlb_delta: [0; TLB_SIZE * 4],
            icache: icache::empty(),
            blocks: icache::empty_arena(),
            block_offs: vec![0; icache::BLOCK_ARENA].into_boxed_slice(),
            block_pos: 0,
            block_owner: vec![0; icache::BLOCK_ARENA].into_boxed_slice(),
            block_links: vec![0; icache::BLOCK_ARENA].into_boxed_slice(),
            link_gen: 1,
            block_heat: icache::BLK_HOT,
            icache_on: true,
            forms_on: true,
            code_lines: icache::code_lines_new(),
            code_epoch: 1,
            bus_gen: None,
            fetch_ctx: 1,
            fetch_hi: 1 << 32,
            fetch_at: icache::FetchState::default(),
            snap: Snapshot {
                r: [0; 8],
                eip: 0,
                eflags: 2,
                lf: flags::Lazy::default(),
                seg: [SegCache::default(); 6],
                cpl: 0,
            },
            seg_saved: false,
            seg_end: [[0, 0, 0, mem::MODE_SEG]; 8],
            seg_mode: [mem::MODE_SEG; 256],
            #[cfg(debug_assertions)]
            dbg_seg: ([SegCache::default(); 6], 0),
            #[cfg(debug_assertions)]
            dbg_regs: None,
            fpu: None,
            x87: fpu::X87::default(),
            p6: p6::P6State::default(),
            insn_start: 0,
            dbg: debug::DebugState::default(),
            tlb_stats: TlbStats::default(),
            in_body: 0,
            body_clk: 0,
            body_at: 0,
            jcc_at: 0,
        };
        c.reset();
        c
    }

    /// The model.
    pub fn model(&self) -> Model32 {
        self.model
    }

    /// Power-on / RESET state: CS:EIP = F000:FFF0 with CS base FFFF0000
    /// (FF0000 on the 286), so the first fetch is 16 bytes below the top.
    pub fn reset(&mut self) {
        self.r = [0; 8];
        // DX holds the component and revision id after reset.
        self.r[2] = match self.model {
            Model32::I80286 => 0,
            Model32::I80386 => 0x0308,
            Model32::I80486 => 0x0402,
            // Family, model, stepping as CPUID leaf 1 reports them (p6.rs).
            Model32::Pentium => p6::signature(Model32::Pentium) & 0xFFF,
            Model32::PentiumPro => p6::signature(Model32::PentiumPro) & 0xFFF,
        };
        self.eip = 0xFFF0;
        self.eflags = 2;
        self.lf.kind = flags::NONE;
        self.seg_fast_off();
        for s in self.seg.iter_mut() {
            *s = SegCache::real(0);
        }
        self.seg[CS] = SegCache {
            sel: 0xF000,
            base: 0xFFFF_0000 & self.model.address_mask(),
            limit: 0xFFFF,
            attr: 0x9B,
            valid: true,
        };
        self.gdtr = (0, 0xFFFF);
        self.idtr = (0, 0x3FF);
        self.ldtr = SegCache {
            attr: 0x82,
            limit: 0xFFFF,
            ..SegCache::default()
        };
        self.tr = SegCache {
            attr: 0x8B,
            limit: 0xFFFF,
            ..SegCache::default()
        };
        self.cr = [0; 5];
        if self.model.generation() >= 4 {
            self.cr[0] = 0x6000_0010;
        } else if self.model == Model32::I80386 {
            self.cr[0] = 0x0000_0010;
        } else {
            self.cr[0] = 0xFFF0;
        }
        self.dr = [0; 8];
        self.dr[6] = 0xFFFF_0FF0;
        self.dr[7] = 0x400;
        self.cpl = 0;
        self.halted = false;
        self.shutdown = false;
        self.nmi = false;
        self.nmi_blocked = false;
        self.inhibit = false;
        self.p6 = p6::P6State {
            apic_base: 0xFEE0_0100,
            ..Default::default()
        };
        self.x87.reset(self.model);
        self.x87_regate();
        self.flush_tlb_all();
    }

    /// Attach a numeric coprocessor (ESC and WAIT go to it).
    pub fn set_coprocessor(&mut self, fpu: Option<Box<dyn Coprocessor>>) {
        self.fpu = fpu;
        self.x87_regate();
    }

    /// Clocks charged so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Count clocks spent outside instructions (bus wait states, time
    /// halted): the board adds them so that the TSC follows its time.
    pub fn add_cycles(&mut self, n: u64) {
        self.cycles = self.cycles.wrapping_add(n);
    }

    /// Instructions retired so far.
    pub fn instructions(&self) -> u64 {
        self.instructions
    }

    /// The INTR input (level): the CPU takes it when IF allows, asking
    /// [`Bus::inta`] for the vector.
    pub fn set_intr(&mut self, level: bool) {
        self.intr = level;
    }

    /// True while INTR is asserted.
    pub fn intr_pending(&self) -> bool {
        self.intr
    }

    /// Raise NMI (edge): taken before the next instruction.
    pub fn raise_nmi(&mut self) {
        self.nmi = true;
    }

    /// Halted (HLT) until an interrupt.
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// EFLAGS.
    pub fn eflags(&self) -> u32 {
        self.flags_word()
    }

    /// Set EFLAGS directly (test rigs that load a whole register state);
    /// the fixed bit 1 stays set.
    pub fn set_flags_for_test(&mut self, v: u32) {
        self.load_eflags(v);
    }

    /// Current privilege level.
    pub fn cpl(&self) -> u8 {
        self.cpl
    }

    /// Registers for tools and tests.
    pub fn regs(&self) -> Regs32 {
        Regs32 {
            r: self.r,
            eip: self.eip,
            eflags: self.flags_word(),
            sel: [0, 1, 2, 3, 4, 5].map(|i| self.seg[i].sel),
            cr0: self.cr[0],
            cpl: self.cpl,
        }
    }

    /// Code at `addr..addr+len` (physical) changed under the CPU. A cached
    /// decoded instruction is used only while the bytes it was decoded from
    /// are still in memory (`icache.rs`); this only ends the epoch in which
    /// they need not be re-read.
    pub fn invalidate_code(&mut self, addr: u32, len: u32) {
        let _ = (addr, len);
        self.new_code_epoch();
    }

    /// Turn the decoded-instruction cache on (the default) or off. Results
    /// are the same either way; off, every instruction is decoded afresh
    /// (for differential tests and measurements).
    pub fn set_decode_cache(&mut self, on: bool) {
        self.icache_on = on;
    }

    /// Protected mode (CR0.PE).
    pub fn protected(&self) -> bool {
        self.cr[0] & 1 != 0
    }

    /// Virtual-8086 mode.
    pub fn v86(&self) -> bool {
        self.eflags & VM != 0
    }

    /// Run until `max_instructions` have executed, the CPU halts with no
    /// interrupt to wake it, or it shuts down.
    pub fn run(&mut self, bus: &mut impl Bus, max_instructions: u64) -> StepResult32 {
        // The public fields (segments, DR7) may have been written since.
        self.seg_fast_off();
        let mut n = 0;
        while n < max_instructions {
            let mut clocks = 0;
            self.fast_lap::<_, false>(bus, &mut n, &mut clocks, max_instructions);
            if self.shutdown {
                return StepResult32::Shutdown;
            }
            if n >= max_instructions {
                break;
            }
            match self.step_inline(bus) {
                StepResult32::Executed => n += 1,
                other => return other,
            }
        }
        StepResult32::Executed
    }

    /// Execute one instruction (or take one interrupt).
    pub fn step(&mut self, bus: &mut impl Bus) -> StepResult32 {
        self.seg_fast_off();
        self.step_dyn(bus)
    }

    /// [`Self::step`] for the run loops: an instruction boundary with
    /// nothing pending (no shutdown, halt, NMI, INTR, interrupt shadow,
    /// TF or RF, no breakpoint armed) runs the instruction straight away;
    /// anything else takes the whole step. All of these are flags the CPU
    /// itself or [`Self::raise_nmi`]/[`Self::set_intr`] set, so one test of
    /// them stands for the step's separate checks.
    #[inline(always)]
    pub(crate) fn step_inline<B: Bus + ?Sized>(&mut self, bus: &mut B) -> StepResult32 {
        // An interrupt line that cannot be taken now (INTR with IF clear,
        // as while a guest runs with interrupts off and the timer's request
        // waits; NMI while one is being handled) changes nothing at this
        // boundary, so it does not send every instruction the slow way.
        let pending = self.shutdown
            | self.inhibit
            | self.halted
            | (self.nmi & !self.nmi_blocked)
            | (self.intr & (self.eflags & IF != 0))
            | (self.eflags & (TF | RF) != 0);
        if pending || self.breakpoints_armed() {
            return self.step_dyn(bus);
        }
        self.exec_one(bus, false);
        self.after_event()
    }

    #[inline(never)]
    fn step_dyn<B: Bus + ?Sized>(&mut self, bus: &mut B) -> StepResult32 {
        if self.shutdown {
            return StepResult32::Shutdown;
        }
        // Interrupts are sampled at instruction boundaries.
        if !self.inhibit {
            if self.nmi && !self.nmi_blocked {
                self.nmi = false;
                self.nmi_blocked = true;
                self.halted = false;
                self.take_interrupt(bus, 2, false);
                return self.after_event();
            }
            if self.intr && self.eflags & IF != 0 {
                self.halted = false;
                let v = bus.inta();
                self.take_interrupt(bus, v, false);
                return self.after_event();
            }
        }
        self.inhibit = false;
        if self.halted {
            self.cycles += 1;
            return StepResult32::Halted;
        }
        let tf = self.eflags & TF != 0;
        self.exec_one(bus, tf);
        self.after_event()
    }

    /// Nothing at this instruction boundary needs the whole step
    /// ([`Self::step_inline`]'s test), and the decode cache is on.
    #[inline(always)]
    pub(crate) fn fast_ready(&self) -> bool {
        let pending = self.shutdown
            | self.inhibit
            | self.halted
            | (self.nmi & !self.nmi_blocked)
            | (self.intr & (self.eflags & IF != 0))
            | (self.eflags & (TF | RF) != 0)
            | !self.icache_on;
        !pending && !self.breakpoints_armed()
    }

    /// A fault in the run loop's fast path: put the registers back and
    /// deliver it.
    #[cold]
    #[inline(never)]
    /// `snapped`: the snapshot was taken at its start; if not
    /// ([`Self::start_unsnapped`]), the instruction changed nothing but
    /// EIP before the fault, and the snapshot is made from the state now
    /// (delivery restores it again on a nested fault).
    pub(crate) fn fast_fault<B: Bus + ?Sized>(&mut self, bus: &mut B, f: Fault, snapped: bool) {
        if snapped {
            self.restore_snapshot();
        } else {
            #[cfg(debug_assertions)]
            self.check_unsnapped();
            self.eip = self.insn_start;
            self.snap_regs();
        }
        self.deliver(bus, f);
    }

    /// [`Self::save_snapshot`] without the register copy, for a form that
    /// cannot fault after writing a register (`forms::no_partial`).
    #[inline(always)]
    pub(crate) fn start_unsnapped(&mut self) {
        self.seg_saved = false;
        self.insn_start = self.eip;
        #[cfg(debug_assertions)]
        {
            self.dbg_seg = (self.seg, self.cpl);
            self.dbg_regs = Some((self.r, self.eflags));
        }
    }

    /// Debug builds: an unsnapped form that faulted left the registers and
    /// EFLAGS as they were.
    #[cfg(debug_assertions)]
    fn check_unsnapped(&self) {
        if let Some((r, fl)) = self.dbg_regs {
            debug_assert!(
                r == self.r && fl == self.eflags,
                "ia32: a form at {:#x} marked no_partial wrote a register before faulting",
                self.insn_start
            );
        }
    }

    /// Debug builds: what the fast path does not test between
    /// instructions did not change (`icache.rs`, `takes_fast_path`).
    #[cfg(debug_assertions)]
    pub(crate) fn check_fast_step(&self) {
        debug_assert!(
            !self.halted && !self.inhibit && !self.breakpoints_armed() && self.dbg.hits == 0,
            "ia32: a fast-path instruction at {:#x} halted, opened an interrupt shadow or armed a breakpoint",
            self.insn_start
        );
        debug_assert!(
            self.seg_saved || self.fetch_state() == self.fetch_at,
            "ia32: the fetch conditions changed without save_seg at {:#x}",
            self.insn_start
        );
    }

    /// One instruction from its restart point: a fault puts the registers
    /// back and is delivered; `tf`: it began with EFLAGS.TF set.
    #[inline(always)]
    fn exec_one<B: Bus + ?Sized>(&mut self, bus: &mut B, tf: bool) {
        self.save_snapshot();
        let res = self.execute(bus);
        #[cfg(debug_assertions)]
        self.check_seg_saved();
        match res {
            Ok(()) => {
                self.instructions += 1;
                // Single-step trap after the instruction that began with TF
                // set, data breakpoints after the access (debug.rs).
                if (tf && !self.halted) || self.dbg.hits != 0 {
                    self.debug_trap(bus, tf && !self.halted);
                }
            }
            Err(f) => {
                self.restore_snapshot();
                self.deliver_cold(bus, f);
            }
        }
    }

    /// [`Self::deliver`] out of the instruction loop (faults are rare).
    #[cold]
    #[inline(never)]
    fn deliver_cold<B: Bus + ?Sized>(&mut self, bus: &mut B, f: Fault) {
        self.deliver(bus, f);
    }

    fn after_event(&self) -> StepResult32 {
        if self.shutdown {
            StepResult32::Shutdown
        } else {
            StepResult32::Executed
        }
    }

    /// The restart point at an instruction's start. Field by field: a
    /// whole-struct literal went through a stack temporary.
    #[inline]
    fn save_snapshot(&mut self) {
        self.snap_regs();
        self.seg_saved = false;
        self.insn_start = self.eip;
        #[cfg(debug_assertions)]
        {
            self.dbg_seg = (self.seg, self.cpl);
            self.dbg_regs = None;
        }
    }

    /// The general registers, EIP, EFLAGS and the lazy flags record as the
    /// restart point. The record is copied, not worked out: the snapshot
    /// is taken by every string, group 3 and general-path instruction, most
    /// of which never read the flags a producer before them left pending
    /// (mix32 worked out 242 K records this way, ~57 host instructions each).
    #[inline(always)]
    pub(crate) fn snap_regs(&mut self) {
        self.snap.r = self.r;
        self.snap.eip = self.eip;
        self.snap.eflags = self.eflags;
        self.snap.lf = self.lf;
    }

    /// [`Self::save_snapshot`] for the run loop's lap, taken by a form that
    /// needs it after the instruction's head moved EIP on (and charged its
    /// clocks, which the snapshot does not hold): `start` is the
    /// instruction's own address. The lap already began the instruction
    /// with [`Self::start_unsnapped`]. Like [`Self::snap_regs`], it carries
    /// the lazy flags record rather than working it out.
    #[inline(always)]
    pub(crate) fn snapshot_at(&mut self, start: u32) {
        self.snap.r = self.r;
        self.snap.eip = start;
        self.snap.eflags = self.eflags;
        self.snap.lf = self.lf;
        #[cfg(debug_assertions)]
        {
            self.dbg_regs = None;
        }
    }

    /// Called before anything changes a segment register or CPL inside an
    /// instruction, so that a fault can put them back.
    #[inline]
    pub(crate) fn save_seg(&mut self) {
        if !self.seg_saved {
            self.snap.seg = self.seg;
            self.snap.cpl = self.cpl;
            self.seg_saved = true;
            self.seg_fast_off();
            self.fetch_hi |= icache::SEGS_SAVED;
        }
    }

    /// Debug builds: an instruction that changed a segment register or CPL
    /// without [`Self::save_seg`] could not be restarted after a fault.
    #[cfg(debug_assertions)]
    fn check_seg_saved(&self) {
        if !self.seg_saved {
            debug_assert!(
                self.dbg_seg.0 == self.seg && self.dbg_seg.1 == self.cpl,
                "ia32: segment or CPL changed without save_seg at {:#x}",
                self.insn_start
            );
        }
    }

    fn restore_snapshot(&mut self) {
        self.r = self.snap.r;
        self.eip = self.snap.eip;
        self.eflags = self.snap.eflags;
        self.lf = self.snap.lf;
        self.seg_fast_off();
        if self.seg_saved {
            self.seg = self.snap.seg;
            self.cpl = self.snap.cpl;
        }
    }

    /// Deliver an exception, escalating to #DF and to shutdown.
    fn deliver<B: Bus + ?Sized>(&mut self, bus: &mut B, f: Fault) {
        self.tlb_stats.page_faults += (f.vector == 14) as u64;
        let contributory = |v: u8| matches!(v, 0 | 10 | 11 | 12 | 13);
        let mut cur = f;
        let mut first: Option<u8> = None;
        for _ in 0..3 {
            match self.interrupt(bus, cur.vector, cur.code, IntKind::Exception) {
                Ok(()) => return self.task_trap_after_event(bus),
                Err(next) => {
                    self.restore_snapshot();
                    let prev = first.unwrap_or(cur.vector);
                    if prev == 8 {
                        self.shutdown = true;
                        return;
                    }
                    let df = (contributory(prev) && contributory(next.vector))
                        || (prev == 14 && (contributory(next.vector) || next.vector == 14));
                    first = Some(if df { 8 } else { next.vector });
                    cur = if df { fault(8, 0) } else { next };
                }
            }
        }
        self.shutdown = true;
    }

    /// Take an external interrupt or NMI (not an exception).
    fn take_interrupt<B: Bus + ?Sized>(&mut self, bus: &mut B, vector: u8, _soft: bool) {
        self.save_snapshot();
        if let Err(f) = self.interrupt(bus, vector, None, IntKind::External) {
            self.restore_snapshot();
            self.deliver(bus, f);
        }
        self.task_trap_after_event(bus);
    }

    /// A CR3 load or task switch: global entries stay when CR4.PGE is set.
    fn flush_tlb(&mut self) {
        // Cached code was checked through the old mappings.
        self.new_code_epoch();
        self.tlb_stats.flushes_cr3 += 1;
        let keep_global = self.cr[4] & p6::CR4_PGE != 0;
        for (n, e) in self.tlb.iter_mut().enumerate() {
            if !(keep_global && e.global) {
                e.tag = 0;
                e.key = [KEY_NONE; 4];
                self.tlb_key[4 * n..4 * n + 4].fill(KEY_NONE);
            }
        }
    }

    /// Every entry, global ones included (CR4.PGE/PSE toggles, CR0.PG, INVLPG).
    fn flush_tlb_all(&mut self) {
        self.new_code_epoch();
        self.tlb_stats.flushes_all += 1;
        for e in self.tlb.iter_mut() {
            e.tag = 0;
            e.key = [KEY_NONE; 4];
        }
        self.tlb_key = [KEY_NONE; TLB_SIZE * 4];
    }

    /// Set the status flags in `mask` from `f`: all six drop a pending
    /// lazy record, some of them bring it up to date first (`flags.rs`).
    #[inline(always)]
    fn set_flags(&mut self, mask: u32, f: u32) {
        if mask & STATUS == STATUS {
            self.lf.kind = flags::NONE;
        } else {
            self.flags_sync();
        }
        self.eflags = (self.eflags & !mask) | (f & mask);
    }

    /// Write EFLAGS as an instruction may (POPF, IRET, task switch): the
    /// fixed bits stay fixed and bits the model lacks stay zero.
    fn load_eflags(&mut self, v: u32) {
        let mut keep = 0x0000_7FD5 | RF | VM;
        if self.model.generation() >= 4 {
            // EFLAGS.ID (bit 21) toggles only where CPUID exists (SDM vol. 1,
            // 3.4.3.3); the 486 model is a late 486 with CPUID.
            keep |= AC | (1 << 21);
        }
        if self.model.generation() >= 5 {
            // VIF and VIP come with the virtual-8086 mode extensions (vme.rs).
            keep |= vme::VIF | vme::VIP;
        }
        if self.model == Model32::I80286 {
            keep = 0x7FD5;
        }
        self.eflags = (v & keep) | 2;
        self.lf.kind = flags::NONE;
        // AC may have come on.
        self.seg_fast_off();
    }

    /// Real mode on the 286 clears the top four FLAGS bits.
    fn flags_fixup(&mut self) {
        if self.model == Model32::I80286 && !self.protected() {
            self.eflags &= !0xF000;
        }
    }
}

/// How an interrupt was raised (decides the privilege checks and the
/// pushed return address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntKind {
    /// INT n, INT3, INTO: gate DPL is checked; the return address is the next instruction.
    Soft,
    /// A CPU exception: the return address is the faulting instruction (restored by the caller).
    Exception,
    /// INTR or NMI.
    External,
}
