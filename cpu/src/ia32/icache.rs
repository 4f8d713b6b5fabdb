//! The decoded-instruction cache.
//!
//! A slot holds an instruction's decoded form together with the bytes it
//! was decoded from, keyed by the linear address of its first byte. A hit
//! translates that address and compares the bytes now in memory with the
//! slot's, so the cache can never run stale code: self-modifying code,
//! DMA into code pages, a new CR3, a changed mapping or a board that writes
//! its RAM directly all show up as different bytes (or a miss). Once
//! checked, a slot is trusted without that work for the rest of the *code
//! epoch* if the board vouches for its RAM ([`Bus::ram_generation`]): the
//! epoch ends when the CPU writes a 64-byte line holding checked code
//! ([`Cpu32::note_write`]), the TLB is flushed or the board's generation
//! changes (docs/ia32.md, "Speed"). What a hit saves is the decode itself
//! (prefixes, ModR/M, SIB, table lookups, immediates), which the decoded
//! form fully determines together with the code size (CS.D outside v86)
//! and the CPU model, both fixed per slot or per CPU.
//!
//! Only instructions that lay on one page (and, in 16-bit code, did not
//! wrap at 64 KiB) are cached, and a hit rechecks the code segment's
//! limit; everything else (page-crossing instructions, faults while
//! fetching) takes the ordinary decoder, so faults stay exactly where the
//! decoder raises them. Instructions in memory the bus lends
//! ([`Bus::ram_read`]: RAM, and on the AT board the BIOS ROM and its
//! write-protected shadow) are compared 16 bytes at once; those elsewhere
//! byte by byte through [`Bus::read`], the same reads the decoder makes,
//! which still saves the decoding.

use super::decode::Insn;
use super::*;

/// Slots (a power of two), indexed by [`slot_index`]: 4 MiB. With 4096
/// slots (the page offset alone) Linux's RSA loops (`mpihelp_addmul_1`
/// and `mpihelp_submul_1`, at the same offsets of pages C14A4h and
/// C14ABh, calling in turn) evicted each other at every call: 329 thousand
/// decodes in 27 million instructions; a multiplicative hash of the page
/// number only moved the collision to other hot code of the same two
/// pages. 16 KiB of linear address per way kept four neighbouring pages
/// (a function and the helpers it calls) apart, but still left 94
/// thousand decodes in the 32.6 million instructions from 40 s to 40.3 s
/// of the Linux boot (~3% of the core's time there); 64 KiB (sixteen
/// pages) leaves a few hundred (branch `ia32trace`: −5.8% host
/// instructions on that window). Only the slots code lands on are ever
/// touched, so the host's caches see the code's working set, not the
/// table.
pub(crate) const ICACHE_SLOTS: usize = 65536;

/// The slot for the instruction at linear `lin`: its low bits, so that the
/// instructions of one page (and of four consecutive pages) never share a
/// slot.
#[inline(always)]
pub(crate) fn slot_index(lin: u32) -> usize {
    lin as usize & (ICACHE_SLOTS - 1)
}

/// Physical pages tracked for code (a power of two; page numbers are
/// hashed by their low bits, so aliases only end epochs more often).
pub(crate) const CODE_PAGES: usize = 1 << 16;

/// The code lines of each tracked page: bit `k` of a page's word stands
/// for its bytes `64k..64k+63`. A write ends the code epoch only if it
/// reaches a line holding checked code, so that data kept beside code on
/// the same page (a boot sector's variables, a program's own data) does not
/// send every cached instruction back to be checked at each store.
pub(crate) fn code_lines_new() -> Box<[u64; CODE_PAGES]> {
    vec![0u64; CODE_PAGES]
        .into_boxed_slice()
        .try_into()
        .expect("CODE_PAGES words")
}

/// The 64-byte lines of a page that bytes `p..p + len` reach (`len` ≥ 1,
/// all on `p`'s page).
#[inline(always)]
fn line_mask(p: u32, len: u32) -> u64 {
    let first = (p >> 6) & 63;
    let last = (((p & 0xFFF) + len - 1) >> 6).min(63);
    // Bits first..=last.
    (u64::MAX >> (63 - last)) & (u64::MAX << first)
}

/// One cached instruction: one 64-byte cache line (a slot straddling two
/// lines made every hit slower than the work the epochs save).
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
pub(crate) struct Slot {
    /// The linear address of the instruction's first byte (bits 0–31) and,
    /// above, the [`Cpu32::fetch_ctx`] in which the run loop may take the
    /// slot on one comparison (0: not stamped; see [`Cpu32::fast_slot`]).
    tag: u64,
    /// The instruction's bytes, little-endian (the first `insn.len`; the
    /// rest are zero up to byte 14), with the [`FILLED`], [`D32`], [`RAM`],
    /// [`USER`] and [`NOFAST`] flags in byte 15 (an instruction has at most
    /// 15 bytes).
    bytes: u128,
    /// The decoded instruction.
    insn: Insn,
    /// The [`Cpu32::code_epoch`] in which its bytes were last found in
    /// memory (0: never); while it is the current one a hit needs no check.
    epoch: u32,
    /// The block that starts here ([`Cpu32::build_block`]): below
    /// [`BLK_HOT`] when none was built since the slot was last stamped (the
    /// run loop's visits since, [`Cpu32::visit_block`]), else its arena start
    /// ([`BLK_START`]), body length (`>> BLK_LEN_SHIFT`, 0: no body) and
    /// worst-case clocks (`>> BLK_WORST_SHIFT`). Good exactly while the tag
    /// is: stamping clears it, so a slot stamped in the current fetch
    /// context holds only a block built in that context.
    blk: u32,
}

/// [`Slot::bytes`] flag (byte 15): the slot holds an instruction.
const FILLED: u8 = 1;
/// [`Slot::bytes`] flag: decoded as 32-bit code.
const D32: u8 = 2;
/// [`Slot::bytes`] flag: the bytes were in lent memory ([`Bus::ram_read`]): a
/// hit compares them with one `ram_read` call; otherwise byte by byte
/// through [`Bus::read`], the reads the decoder itself would make.
const RAM: u8 = 4;
/// [`Slot::bytes`] flag: the check of [`Slot::epoch`] was made at CPL 3 (a
/// user fetch passed the page's U/S).
const USER: u8 = 8;
/// [`Slot::bytes`] flag: never stamped for the run loop's fast path (an
/// instruction that halts, opens an interrupt shadow or arms a
/// breakpoint: see [`takes_fast_path`]).
const NOFAST: u8 = 16;

/// The flags byte of [`Slot::bytes`].
#[inline(always)]
fn flags(bytes: u128) -> u8 {
    (bytes >> 120) as u8
}

/// `bytes` with its flags byte set to `f`.
#[inline(always)]
fn with_flags(bytes: u128, f: u8) -> u128 {
    (bytes & !(0xFFu128 << 120)) | (f as u128) << 120
}

// A slot is one cache line, and its instruction two 16-byte moves.
const _: () = assert!(std::mem::size_of::<Slot>() == 64);
const _: () = assert!(std::mem::size_of::<Insn>() == 32);

/// Whether the run loop's fast path may run `i`. It tests nothing between
/// instructions but EFLAGS (TF, RF, IF), a changed code segment, the
/// board's RAM generation and its budget, so an instruction that can
/// change anything else the instruction boundary looks at is left to the
/// whole step: HLT (halted), STI, POP SS and MOV SS (the interrupt
/// shadow) and MOV DRn (arming a breakpoint). Debug builds check after
/// every fast instruction that none of those changed.
fn takes_fast_path(i: &Insn) -> bool {
    let changes_boundary = match i.op {
        0xF4 | 0xFB | 0x17 | 0x123 => true,
        0x8E => i.reg() == SS,
        _ => false,
    };
    !changes_boundary
}

/// An empty cache (on the heap: it is 1 MiB).
pub(crate) fn empty() -> Box<[Slot; ICACHE_SLOTS]> {
    vec![Slot::default(); ICACHE_SLOTS]
        .into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!("the vector has ICACHE_SLOTS slots"))
}

/// An empty block arena (on the heap: it is 1 MiB).
pub(crate) fn empty_arena() -> Box<[Insn]> {
    vec![Insn::default(); BLOCK_ARENA].into_boxed_slice()
}

/// Fetch contexts run from 1 to below this (a stamp's upper half never
/// has bit 63 set, so [`SEGS_SAVED`] in `fetch_hi` matches no slot).
pub(crate) const FETCH_CTX_END: u32 = 1 << 31;

/// Set in [`Cpu32::fetch_hi`] by [`Cpu32::save_seg`]: the code segment or
/// CPL may have changed, so the run loop's next comparison fails and it
/// brings the fetch context up to date ([`Cpu32::sync_fetch_ctx`]) before
/// trusting a stamp again. Testing this only on a miss keeps a test of
/// `seg_saved` out of every instruction.
pub(crate) const SEGS_SAVED: u64 = 1 << 63;

/// The fetch conditions a fetch context stands for ([`Cpu32::sync_fetch_ctx`]).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FetchState {
    base: u32,
    limit: u32,
    /// Bit 0: 32-bit code; bit 1: an unusable (null) code segment in
    /// protected mode; bit 2: CPL 3.
    bits: u8,
}

/// The low `len` bytes of a `u128` (len 1–15; a table, as a 128-bit shift
/// costs a dozen instructions).
#[inline]
fn low_bytes(len: u32) -> u128 {
    const MASKS: [u128; 16] = {
        let mut m = [0u128; 16];
        let mut k = 0;
        while k < 16 {
            m[k] = (1u128 << (8 * k)) - 1;
            k += 1;
        }
        m
    };
    MASKS[len as usize & 15]
}

impl Cpu32 {
    /// The slot holding the decoding of the instruction at CS:`start`, if
    /// the slot for its linear address holds one whose bytes are still in
    /// memory there (and the fetch of all of them cannot fault).
    #[inline]
    pub(crate) fn icache_lookup<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        start: u32,
        d32: bool,
    ) -> Option<usize> {
        let c = &self.seg[CS];
        if self.pm() && !c.valid {
            return None;
        }
        let lin = c.base.wrapping_add(start);
        let limit = c.limit;
        let idx = slot_index(lin);
        let slot = &self.icache[idx];
        let bytes = slot.bytes;
        let f = flags(bytes);
        if slot.tag as u32 != lin || f & (FILLED | D32) != FILLED | if d32 { D32 } else { 0 } {
            return None;
        }
        let len = slot.insn.len as u32;
        let ram = f & RAM != 0;
        let (epoch, checked_user) = (slot.epoch, f & USER != 0);
        // As the fetch window: inside the limit, and 16-bit offsets do not wrap.
        if start > limit || limit - start < len - 1 {
            return None;
        }
        if !d32 && (start & 0xFFFF) + len > 0x1_0000 {
            return None;
        }
        let u = self.user();
        let g = bus.ram_generation();
        if g != self.bus_gen {
            self.bus_gen = g;
            self.new_code_epoch();
        }
        if epoch == self.code_epoch && (!u || checked_user) {
            // Checked in this epoch: no write reached its page since, no
            // mapping changed and the board changed no memory.
            self.stamp(idx, lin);
            return Some(idx);
        }
        let p = self.translate(bus, lin, false, u).ok()?;
        let m = self.model.address_mask();
        let p = p & m;
        if !ram {
            return self.icache_check_bytes(bus, p, len, bytes).then_some(idx);
        }
        // Compare 16 bytes at once where the page (and the address space)
        // has them, else exactly the instruction's.
        let span = if p & 0xFFF <= 0xFF0 && p <= m - 15 {
            16
        } else {
            len
        };
        if p > m - (span - 1) {
            return None;
        }
        let Some(s) = bus.ram_read(p, span) else {
            // The 16 bytes run past plain RAM (the instruction ends just
            // below the VGA window or the end of RAM), or the page is no
            // longer lent: compare the instruction's own bytes instead.
            return self.icache_check_bytes(bus, p, len, bytes).then_some(idx);
        };
        if s.len() != span as usize {
            return None;
        }
        // One 16-byte load: a variable-length copy into a buffer became a
        // library memcpy call whose narrow stores then stalled the wide
        // loads of the compare (a quarter of mix32's time).
        let now = match <&[u8; 16]>::try_from(s) {
            Ok(w) => u128::from_le_bytes(*w),
            Err(_) => {
                let mut buf = [0u8; 16];
                for (d, &b) in buf.iter_mut().zip(s.iter()) {
                    *d = b;
                }
                u128::from_le_bytes(buf)
            }
        };
        if (now ^ bytes) & low_bytes(len) != 0 {
            return None;
        }
        if self.bus_gen.is_some() {
            // Trust these bytes until a write reaches the page.
            let h = (p >> 12) as usize & (CODE_PAGES - 1);
            let lines = line_mask(p, len);
            self.code_lines[h] |= lines;
            if lines & 1 != 0 {
                // A flat store may cross into this page's line 0 from the
                // page before, and `note_write` looks at its first byte's
                // page only, where the store reaches line 63: that line
                // stands for this one (an epoch ended by it is only early).
                self.code_lines[h.wrapping_sub(1) & (CODE_PAGES - 1)] |= 1 << 63;
            }
            let e = self.code_epoch;
            let s = &mut self.icache[idx];
            s.epoch = e;
            let f = (f & !USER) | if u { USER } else { 0 };
            s.bytes = with_flags(s.bytes, f);
            self.stamp(idx, lin);
        }
        Some(idx)
    }

    /// The `len` bytes at physical `p` (not plain RAM) are `bytes`, read
    /// one by one as the decoder reads them.
    #[inline(never)]
    fn icache_check_bytes<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        p: u32,
        len: u32,
        bytes: u128,
    ) -> bool {
        let m = self.model.address_mask();
        if p > m - (len - 1) {
            return false;
        }
        if let Some(s) = bus.ram_read(p, len) {
            return s.len() == len as usize
                && s.iter()
                    .enumerate()
                    .all(|(k, &b)| b == (bytes >> (8 * k)) as u8);
        }
        self.touch_bus(bus);
        (0..len).all(|k| bus.read(p + k) == (bytes >> (8 * k)) as u8)
    }

    /// The CPU wrote the `len` bytes at physical `p` (all on one page): if
    /// they reach a line of checked code, that code must be checked again
    /// before it runs (a new epoch). Whether the page has any such line
    /// is looked at first (one word, nonzero only on a page with checked
    /// code), so a write to a page without code costs one load and test.
    #[inline(always)]
    pub(crate) fn note_write(&mut self, p: u32, len: u32) {
        let h = (p >> 12) as usize & (CODE_PAGES - 1);
        if self.code_lines[h] != 0 {
            self.note_code_page_write(h, line_mask(p, len));
        }
    }

    /// The CPU wrote somewhere on the page of physical `p` (a string run,
    /// whose extent is not worked out): as if every line was reached.
    #[inline]
    pub(crate) fn note_write_page(&mut self, p: u32) {
        let h = (p >> 12) as usize & (CODE_PAGES - 1);
        if self.code_lines[h] != 0 {
            self.note_code_page_write(h, u64::MAX);
        }
    }

    /// A write reached code page `h` (hashed) on `lines`.
    #[inline(never)]
    fn note_code_page_write(&mut self, h: usize, lines: u64) {
        if self.code_lines[h] & lines != 0 {
            // Every cached instruction is checked again in the new epoch
            // (and marks its page and lines again): forget this page's.
            self.code_lines[h] = 0;
            self.new_code_epoch();
        }
    }

    /// End the code epoch: no cached instruction is trusted until checked
    /// again. At the end of the counter's range every slot forgets its
    /// epoch, so an old one can never come round again.
    pub(crate) fn new_code_epoch(&mut self) {
        self.code_epoch = self.code_epoch.wrapping_add(1);
        if self.code_epoch == 0 {
            for s in self.icache.iter_mut() {
                s.epoch = 0;
            }
            self.code_epoch = 1;
        }
        self.new_fetch_ctx();
    }

    /// End the fetch context: no slot is taken by the run loop's one
    /// comparison until a full lookup stamps it again. At the end of the
    /// counter's range every stamp is wiped, so an old one can never come
    /// round again.
    pub(crate) fn new_fetch_ctx(&mut self) {
        self.fetch_ctx += 1;
        if self.fetch_ctx == FETCH_CTX_END {
            for s in self.icache.iter_mut() {
                s.tag &= u32::MAX as u64;
            }
            self.fetch_ctx = 1;
        }
        self.fetch_hi = (self.fetch_ctx as u64) << 32;
        self.new_link_gen();
    }

    /// Forget every body's link to its Jcc's target (`Cpu32::block_links`).
    pub(crate) fn new_link_gen(&mut self) {
        self.link_gen = self.link_gen.wrapping_add(1);
        if self.link_gen == 0 {
            self.block_links.fill(0);
            self.link_gen = 1;
        }
    }

    /// The block word of the slot of CS:`target`, the target of the taken
    /// Jcc at arena entry `k` of a running body, if the slot is stamped in
    /// the fetch context (else 0), linked from `k` once its block is built
    /// ([`Cpu32::block_links`]: a body that leaves there again takes the
    /// link instead of this look-up, a cache line of the 4 MiB table).
    #[inline(never)]
    pub(crate) fn link_block(&mut self, k: usize, target: u32) -> u32 {
        let lin = self.seg[CS].base.wrapping_add(target);
        let s = &self.icache[slot_index(lin)];
        if s.tag != lin as u64 | self.fetch_hi {
            return 0;
        }
        let blk = s.blk;
        if blk >= BLK_HOT {
            self.block_links[k & (BLOCK_ARENA - 1)] =
                u64::from(self.link_gen) << 32 | u64::from(blk);
        }
        blk
    }

    /// What a stamp vouches for besides the slot's own key: the code
    /// segment's base, limit and size, whether it may be used at all, and
    /// CPL 3 or not (the last of which decides whether a fetch checked at
    /// another CPL still holds).
    #[inline]
    pub(crate) fn fetch_state(&self) -> FetchState {
        let c = &self.seg[CS];
        FetchState {
            base: c.base,
            limit: c.limit,
            bits: self.code32() as u8
                | ((self.pm() && !c.valid) as u8) << 1
                | (self.user() as u8) << 2,
        }
    }

    /// Bring the fetch context up to date: if the code segment, its size
    /// or CPL 3-ness changed since it began, a new one begins. Called
    /// before a slot is stamped and whenever the run loop may have seen
    /// such a change (its entry, an instruction that saved the segments).
    #[inline]
    pub(crate) fn sync_fetch_ctx(&mut self) {
        let now = self.fetch_state();
        if now != self.fetch_at {
            self.fetch_at = now;
            self.new_fetch_ctx();
        } else {
            self.fetch_hi = (self.fetch_ctx as u64) << 32;
        }
    }

    /// Let the run loop take slot `idx` (just found good for the
    /// instruction at linear `lin` by a full lookup in this code epoch)
    /// on one comparison for the rest of the fetch context.
    #[inline]
    fn stamp(&mut self, idx: usize, lin: u32) {
        if flags(self.icache[idx].bytes) & NOFAST != 0 {
            return;
        }
        self.sync_fetch_ctx();
        let s = &mut self.icache[idx];
        let tag = lin as u64 | self.fetch_hi;
        if s.tag == tag {
            // Stamped in this context already: a block built since is good.
            return;
        }
        s.tag = tag;
        // A block built before belongs to an older context; but the slot
        // was hot then (it reached its build), so its block is built again
        // at the next visit rather than after `BLK_HOT` more: a TLB flush
        // or CR3 load (~75 K over the Linux boot) otherwise sent every hot
        // loop back through that many visits without a body.
        s.blk = if s.blk >= BLK_HOT { BLK_HOT - 1 } else { 0 };
    }

    /// The slot for the instruction at CS:EIP if the run loop may take it
    /// without any further check: stamped in the current fetch context,
    /// which ends whenever anything the full lookup checked may have
    /// changed (a new code epoch: a write to checked code, a TLB flush, a
    /// new board RAM generation; a new code segment or CPL). The caller
    /// makes sure no RAM generation went by unseen ([`Bus::ram_generation`]).
    #[inline(always)]
    pub(crate) fn fast_slot(&self) -> Option<usize> {
        let lin = self.seg[CS].base.wrapping_add(self.eip);
        let idx = slot_index(lin);
        (self.icache[idx].tag == lin as u64 | self.fetch_hi).then_some(idx)
    }

    /// An instruction of `n` bytes at CS:`start` lies on one page and
    /// (16-bit code) does not wrap at 64 KiB, so its bytes are contiguous
    /// from its first byte's physical address.
    pub(crate) fn fits_one_page(&self, start: u32, n: u32, d32: bool) -> bool {
        let lin = self.seg[CS].base.wrapping_add(start);
        (lin & 0xFFF) + n <= 0x1000 && (d32 || (start & 0xFFFF) + n <= 0x1_0000)
    }

    /// The instruction in slot `idx` (from [`Self::icache_lookup`]).
    #[inline]
    pub(crate) fn icache_insn(&self, idx: usize) -> Insn {
        self.icache[idx & (ICACHE_SLOTS - 1)].insn
    }

    /// Remember `insn`, decoded from `bytes` at CS:`start` (on one page,
    /// inside the limit; `ram`: all of them from the fetch window, i.e.
    /// plain RAM).
    #[inline]
    pub(crate) fn icache_fill(
        &mut self,
        start: u32,
        d32: bool,
        bytes: &[u8; 15],
        insn: &Insn,
        ram: bool,
    ) {
        let lin = self.seg[CS].base.wrapping_add(start);
        let mut b = [0u8; 16];
        b[..15].copy_from_slice(bytes);
        let f = FILLED
            | if d32 { D32 } else { 0 }
            | if ram { RAM } else { 0 }
            | if takes_fast_path(insn) { 0 } else { NOFAST };
        self.icache[slot_index(lin)] = Slot {
            tag: lin as u64,
            bytes: with_flags(u128::from_le_bytes(b) & low_bytes(insn.len as u32), f),
            insn: *insn,
            epoch: 0,
            blk: 0,
        };
    }

    /// The block word of slot `idx` ([`Slot::blk`]).
    #[inline(always)]
    pub(crate) fn slot_blk(&self, idx: usize) -> u32 {
        self.icache[idx & (ICACHE_SLOTS - 1)].blk
    }

    /// The run loop reached slot `idx` (stamped in the current fetch
    /// context) whose block word `blk` is below [`BLK_HOT`]: count the
    /// visit, and build the block at the last one.
    #[inline]
    pub(crate) fn visit_block(
        &mut self,
        idx: usize,
        blk: u32,
        arena: &mut [Insn],
        offs: &mut [u16],
    ) {
        if blk + 1 < self.block_heat {
            self.icache[idx & (ICACHE_SLOTS - 1)].blk = blk + 1;
        } else {
            self.build_block(idx & (ICACHE_SLOTS - 1), arena, offs);
        }
    }

    /// Build a slot's block at its `visits`-th visit (1 ..= [`BLK_HOT`])
    /// instead of at the [`BLK_HOT`]-th: for tests of what a built body
    /// does, whose loops then need not run [`BLK_HOT`] passes first.
    #[cfg(test)]
    pub(crate) fn set_block_heat(&mut self, visits: u32) {
        assert!((1..=BLK_HOT).contains(&visits), "1 ..= BLK_HOT visits");
        self.block_heat = visits;
    }

    /// Build the block starting at CS:EIP, whose slot `idx` is stamped in
    /// the current fetch context: copy into the arena the decoded forms of
    /// the straight run of instructions from it whose slots are stamped in
    /// this context too (so each was checked in this code epoch, on
    /// whichever page it lies) and whose forms may run inside a body
    /// ([`body_form`]), followed by the instruction after them if its slot
    /// is stamped too ([`BLK_TERM`]), and record it in the slot. A run of fewer than
    /// [`BODY_MIN`] is recorded as having no body, so it is not tried
    /// again in this context. In the arena's copies `Insn::imm2`, which no
    /// body form reads (only Jcc, LOOP and the general path do), holds the
    /// clocks of the body's instructions before this one (every Jcc before
    /// it not taken), [`BODY_BUS`] if the form may reach the bus and
    /// [`BODY_FIP`] if it reads its own address (its offset from the
    /// body's first EIP then in `imm`'s high half, [`BODY_OFF_SHIFT`]).
    /// A Jcc whose target lies inside the code segment's limit goes into
    /// the body as [`forms::JCC_BODY`](super::forms::JCC_BODY), with its
    /// target in `imm` and the clocks of the body up to leaving by it
    /// (its taken clocks, its own `imm2`, included) in `disp`,
    /// which no Jcc reads, and the steps run up to it in `base` (no Jcc
    /// has a memory operand): a body is a trace through not-taken branches.
    /// LOOP, LOOPE, LOOPNE and JCXZ go in alike, as
    /// [`forms::LOOP_BODY`](super::forms::LOOP_BODY).
    /// `offs` gets each copy's EIP less the body's first.
    #[cold]
    #[inline(never)]
    pub(crate) fn build_block(&mut self, idx: usize, arena: &mut [Insn], offs: &mut [u16]) {
        let mut start = self.block_pos as usize;
        if start + BODY_MAX as usize + 1 > BLOCK_ARENA {
            // The arena is a ring: its end wraps to the start, whose
            // blocks go one by one as new forms are written over theirs
            // (`evict`). Emptying it all with a new fetch context instead
            // unstamped every slot too, and in the Linux boot's phases of
            // many distinct entries that rebuilt everything every few
            // thousand builds.
            start = 0;
            self.block_pos = 0;
        }
        let base = self.seg[CS].base;
        let ip_mask = super::exec::ip_mask(self.code32());
        let limit = self.seg[CS].limit;
        let mut eip = self.eip;
        let eip0 = eip;
        // `sum`: the clocks of the body so far with every Jcc in it not
        // taken; `worst`: the most it can charge, leaving at a taken Jcc
        // included.
        let (mut len, mut sum, mut worst) = (0u32, 0u32, 0u32);
        while len < BODY_MAX {
            let lin = base.wrapping_add(eip);
            let s = &self.icache[slot_index(lin)];
            let jcc = super::forms::is_jcc(s.insn.form);
            let lp = super::forms::is_loop(s.insn.form);
            if s.tag != lin as u64 | self.fetch_hi || !(jcc || lp || body_form(s.insn.form)) {
                break;
            }
            let mut insn = s.insn;
            let clk = insn.clk as u32;
            let next = eip.wrapping_add(insn.len as u32);
            // The body keeps EIP unmasked (a 16-bit one that wraps at 64 KiB
            // ends it).
            let mut most = sum + clk;
            if next & ip_mask != next {
                break;
            }
            if jcc || lp {
                // Taken, the body leaves here for the target (resolved
                // now: CS's base and limit are the fetch context's), with
                // the taken clocks (`imm2` in the decoded form). A target
                // past the limit (#GP) is left to the single instruction.
                // The LOOP family alike: its counter moves in the body.
                let target = if jcc {
                    super::forms::jcc_target(&insn, next)
                } else {
                    super::forms::loop_target(&insn, next)
                };
                if target > limit {
                    break;
                }
                most += insn.imm2 as u32;
                insn.imm = target;
                insn.disp = insn.imm2 as u32;
                // The steps run when it is taken (neither has a base
                // register).
                insn.base = len as u8 + 1;
                insn.form = if jcc {
                    super::forms::JCC_BODY
                } else {
                    if insn.form & 3 == 2 {
                        insn.aux |= super::forms::A_LOOP32;
                    }
                    super::forms::LOOP_BODY
                };
            }
            if most > BLK_WORST_MAX {
                break;
            }
            // (The x87's lean forms count as reaching the bus: a fallback
            // that drove FERR# stops the body by a new fetch context.)
            let x87 = super::forms::x87_lean_form(insn.form);
            let bus = insn.mem || super::forms::implied_memory(insn.form) || x87;
            insn.imm2 =
                sum as u16 | if bus { BODY_BUS } else { 0 } | if x87 { BODY_FIP } else { 0 };
            if x87 {
                // (ESC has no immediate: `imm` holds only FOP, 11 bits.)
                debug_assert!(insn.imm >> BODY_OFF_SHIFT == 0);
                insn.imm |= eip.wrapping_sub(eip0) << BODY_OFF_SHIFT;
            }
            insn.body_bus = bus;
            arena[start + len as usize] = insn;
            // At most 63 instructions of at most 15 bytes.
            offs[start + len as usize] = eip.wrapping_sub(eip0) as u16;
            sum += clk;
            worst = worst.max(most);
            len += 1;
            eip = next;
        }
        if len < BODY_MIN {
            self.evict(start, len as usize);
            self.icache[idx].blk = NO_BODY;
            return;
        }
        // A Jcc whose target is a later form of the body, or its end,
        // skips to it when taken rather than leaving (an `if` without an
        // `else`): the steps and clocks of the forms skipped in `base` and
        // `imm` for the body to take back. The worst case grows by what
        // the taken clocks exceed those by (each skip is taken at most
        // once a pass: it only goes forward).
        let end = eip.wrapping_sub(eip0);
        let clk_before = |arena: &[Insn], m: usize| {
            if m < len as usize {
                u32::from(arena[start + m].imm2 & BODY_CLK)
            } else {
                sum
            }
        };
        for j in 0..len as usize {
            let e = &arena[start + j];
            if e.form != super::forms::JCC_BODY {
                continue;
            }
            let to = e.imm.wrapping_sub(eip0);
            let after = u32::from(offs[start + j]) + u32::from(e.len);
            if to < after || to > end {
                continue;
            }
            let Some(m) = (j + 1..=len as usize).find(|&m| {
                m == len as usize && to == end
                    || m < len as usize && u32::from(offs[start + m]) == to
            }) else {
                continue;
            };
            let skipped = clk_before(arena, m) - clk_before(arena, j + 1);
            let more = e.disp.saturating_sub(skipped);
            if worst + more > BLK_WORST_MAX {
                continue;
            }
            worst += more;
            let e = &mut arena[start + j];
            e.form = super::forms::JCC_SKIP;
            e.base = (m - j - 1) as u8;
            e.imm = skipped;
        }
        // A Jcc or LOOP that leaves: the clocks from the body's start to
        // leaving by it (those before it, its own and its taken ones) in
        // `disp`, one add where it leaves.
        for e in &mut arena[start..start + len as usize] {
            if super::forms::body_exit(e.form) {
                e.disp += u32::from(e.imm2 & BODY_CLK) + u32::from(e.clk);
            }
        }
        // The instruction after the body, whatever it is, if its slot is
        // stamped too: the run loop runs it next as a single instruction
        // (with all the tests) without looking it up.
        let lin = base.wrapping_add(eip & ip_mask);
        let s = &self.icache[slot_index(lin)];
        let term = if s.tag == lin as u64 | self.fetch_hi {
            arena[start + len as usize] = s.insn;
            BLK_TERM
        } else {
            0
        };
        let n = len + (term != 0) as u32;
        self.evict(start, n as usize);
        self.block_owner[start] = idx as u32 + 1;
        self.block_pos += n;
        self.icache[idx].blk =
            start as u32 | term | worst << BLK_WORST_SHIFT | len << BLK_LEN_SHIFT;
    }
}

impl Cpu32 {
    /// Forms `start..start + n` of the arena were just written over: drop
    /// the blocks that began there. Blocks are laid end to end from
    /// [`Cpu32::block_pos`], so one that began before `start` and reached
    /// into these forms was dropped already when its own first form was
    /// written over (the arena wraps only at its end). A slot whose block
    /// word no longer points at the form (it was stamped again, refilled
    /// or built elsewhere) keeps its word.
    #[inline]
    pub(crate) fn evict(&mut self, start: usize, n: usize) {
        for q in start..start + n {
            let o = std::mem::take(&mut self.block_owner[q]);
            if o != 0 {
                // A link may lead here, whatever the slot now holds.
                self.new_link_gen();
                let s = &mut self.icache[(o - 1) as usize & (ICACHE_SLOTS - 1)];
                if s.blk >= 1 << BLK_LEN_SHIFT && (s.blk & BLK_START) as usize == q {
                    s.blk = 0;
                }
            }
        }
    }
}

/// Instructions in the block arena ([`Cpu32::build_block`]; a power of two:
/// 1 MiB of forms).
pub(crate) const BLOCK_ARENA: usize = 1 << 15;
/// [`Slot::blk`]: the arena index of the body's first form (bits 0–14).
pub(crate) const BLK_START: u32 = BLOCK_ARENA as u32 - 1;
/// [`Slot::blk`]: the arena holds, after the body, the instruction that
/// follows it (its slot was stamped in the same fetch context).
pub(crate) const BLK_TERM: u32 = 1 << 15;
/// [`Slot::blk`]: where the body's worst-case clocks (10 bits) start.
pub(crate) const BLK_WORST_SHIFT: u32 = 16;
/// [`Slot::blk`]: where the body's length (6 bits, the top ones: a slot
/// has a body exactly when its word is at least `1 << BLK_LEN_SHIFT`)
/// starts.
pub(crate) const BLK_LEN_SHIFT: u32 = 26;
/// The most instructions in a body (lib/mpi's 49-instruction loops on the
/// Linux boot fit whole).
pub(crate) const BODY_MAX: u32 = 63;
/// The fewest instructions worth a body (one saves nothing).
const BODY_MIN: u32 = 2;
/// [`Slot::blk`] (shifted down): the body's worst-case clocks.
pub(crate) const BLK_WORST_MASK: u32 = (1 << (BLK_LEN_SHIFT - BLK_WORST_SHIFT)) - 1;
/// The most clocks a body may charge.
const BLK_WORST_MAX: u32 = BLK_WORST_MASK;
/// [`Slot::blk`] of a block without a body (at least [`BLK_HOT`]: built).
const NO_BODY: u32 = BLK_HOT;
/// Times the run loop reaches a stamped slot without a block before it
/// builds one there ([`Slot::blk`] counts them up to this). Where a body
/// did not fit the slice's budget, its instructions ran one by one, and
/// every one of them after the first was an entry with a block of its
/// own, built once and hardly ever taken again: in the Linux boot's
/// phase around 20 s emulated that made nearly every instruction of the
/// hot pages an entry, one build per 15 instructions. An entry a branch
/// lands on comes round again and again and is built after a few visits.
pub(crate) const BLK_HOT: u32 = 32;
/// In an arena copy's `imm2`: the form may reach the bus (a memory
/// operand, the stack); the low bits ([`BODY_CLK`]) are the clocks before it.
pub(crate) const BODY_BUS: u16 = 0x8000;
/// In an arena copy's `imm2`: the form reads its own address
/// (`Cpu32::insn_start`): the x87's lean forms (the FPU's instruction
/// pointer, their fallback's restart point). A body sets `insn_start`
/// before these only: working it out before every form that may reach
/// the bus (a look-up in `Cpu32::block_offs`, a 64 KiB table) was a
/// tenth of the Linux boot's wall time, and nothing else a body runs
/// reads it before a fault, which sets it where it stops.
pub(crate) const BODY_FIP: u16 = 0x4000;
/// In a [`BODY_FIP`] form's arena copy (an x87 lean form: ESC has no
/// immediate, and `imm` holds only FOP, 11 bits, below): its offset from
/// the body's first EIP, shifted by this, so that the body sets
/// `insn_start` from the instruction itself (an add) rather than from
/// `Cpu32::block_offs` and the form's place in the body (≈ 12 host
/// instructions a form).
pub(crate) const BODY_OFF_SHIFT: u32 = 16;
/// In an arena copy's `imm2`: the clocks before the form (at most
/// [`BLK_WORST_MAX`], which fits below the flags).
pub(crate) const BODY_CLK: u16 = BODY_FIP - 1;
const _: () = assert!(BLK_WORST_MAX <= BODY_CLK as u32);

/// Whether an instruction of this form may run inside a block's body, where
/// the run loop tests after it only its fault, the board's events number
/// and the fetch context, and charges no budget test: it must need no
/// restart snapshot (`forms::no_partial`: so it cannot change TF, RF, IF
/// or FERR#), charge no clocks beyond its table count `clk` (so the body's
/// worst case is the sum of those) and fall through to the next
/// instruction. So not the control transfers (Jcc, JMP, CALL, RET, LOOP)
/// nor IMUL (its early-out extra), which end a body and run one by one.
/// The x87's lean forms are in too (`forms::x87_lean_form`): their lean
/// path needs no snapshot; their fallback takes it and, only when it drove
/// FERR#, answers `Ok(true)` and marks the fetch context to be looked up
/// again: the body, which watches the fetch context after them as after a
/// form that may reach the bus, stops after it, and the lap ends the
/// slice for FERR# (`slice.rs`).
pub(crate) fn body_form(form: u8) -> bool {
    (super::forms::no_partial(form) || super::forms::x87_lean_form(form))
        && super::forms::falls_through_at_clk(form)
}
