//! The decoded-instruction cache: whole decoded instructions keyed by the
//! physical address of their first byte, so a loop decodes each instruction
//! once.
//!
//! Every write the CPU makes goes through [`DecodeCache::written`], which
//! drops any cached instruction that covers the written byte, so
//! self-modifying code sees its new bytes. Memory changed behind the CPU's
//! back (DMA, a loader writing the bus directly) must be reported with
//! [`super::Cpu::invalidate_code`]; that is why the cache is off until
//! [`super::Cpu::set_decode_cache`] turns it on.

use super::body::Bodies;
use super::forms::Quick;
use super::instr::{Current, Instr};
use crate::table::{Per, INVALID};

/// Instructions longer than this (long prefix runs) are never cached.
pub(crate) const MAX_CACHED_LEN: u32 = 16;
/// Number of slots (a power of two); direct-mapped by address.
pub(crate) const SLOTS: usize = 4096;
/// Bytes of memory per "may hold cached code" flag.
const BLOCK_SHIFT: u32 = 4;
/// Bytes of memory per page flag (see `DecodeCache::pages`).
const PAGE_SHIFT: u32 = 12;
const EMPTY: u32 = u32::MAX;

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct DecodeCache {
    /// The physical address each slot's instruction starts at, or `EMPTY`:
    /// apart from the instructions, so that the lookup reads a small table.
    /// Always all its slots (all `EMPTY` while the cache is off), so that
    /// the lookup indexes it without a bounds check.
    tags: Box<[u32; SLOTS]>,
    slots: Vec<Instr>,
    /// The fast-path part of each slot's instruction (valid while the slot's
    /// tag is), apart so that the fast path can hold it while it changes
    /// the CPU (see [`DecodeCache::take_quick`]).
    quick: Vec<Quick>,
    /// One flag per 16-byte block of physical memory: set once an
    /// instruction cached from that block.
    blocks: Vec<bool>,
    /// The same per 4 KiB page, so that a long REP string's check of its
    /// destination (`may_hold_code`) looks at a few flags, not thousands.
    pages: Vec<bool>,
    /// Physical address mask of the CPU model.
    mask: u32,
    /// The code generation: moves on whenever a cached instruction is
    /// dropped or replaced, so that anything copied out of the cache (a
    /// body, see [`super::body`]) is known to be current while it is the same.
    pub(crate) gen: u32,
    /// The bodies built over the cached forms (see [`super::body`]).
    bodies: Bodies,
}

impl Default for DecodeCache {
    /// A cache that is off.
    fn default() -> Self {
        DecodeCache {
            tags: Box::new([EMPTY; SLOTS]),
            slots: Vec::new(),
            quick: Vec::new(),
            blocks: Vec::new(),
            pages: Vec::new(),
            mask: 0,
            gen: 1,
            bodies: Bodies::default(),
        }
    }
}

impl std::fmt::Debug for DecodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodeCache")
            .field("enabled", &self.enabled())
            .finish()
    }
}

impl DecodeCache {
    /// A cache for physical addresses under `mask`.
    pub(crate) fn new(mask: u32) -> Self {
        let empty = Instr {
            cur: Current::default(),
            sem: INVALID.sem(),
            len: 0,
            last_ip: 0,
            base_clocks: 0,
            extra_clocks: 0,
            per: Per::Once,
        };
        DecodeCache {
            tags: Box::new([EMPTY; SLOTS]),
            slots: vec![empty; SLOTS],
            quick: vec![Quick::SLOW; SLOTS],
            blocks: vec![false; (mask as usize >> BLOCK_SHIFT) + 1],
            pages: vec![false; (mask as usize >> PAGE_SHIFT) + 1],
            mask,
            gen: 1,
            bodies: Bodies::new(),
        }
    }

    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        !self.slots.is_empty()
    }

    /// The cached instruction starting at `addr`.
    #[inline]
    pub(crate) fn get(&self, addr: u32) -> Option<&Instr> {
        let i = addr as usize & (SLOTS - 1);
        (self.tags[i] == addr).then(|| &self.slots[i])
    }

    /// The slot of the cached instruction starting at `addr`, an index
    /// into [`DecodeCache::take_quick`]'s table; None also while the cache
    /// is off (no tag is set then).
    #[inline(always)]
    pub(crate) fn slot_of(&self, addr: u32) -> Option<usize> {
        let i = addr as usize & (SLOTS - 1);
        (self.tags[i] == addr).then_some(i)
    }

    /// True when the instruction at `addr` (reached with IP `ip`) is cached
    /// with a specialised form that may run from there (see
    /// [`Quick::ip_limit`]).
    #[inline]
    pub(crate) fn has_form(&self, addr: u32, ip: u16) -> bool {
        match self.slot_of(addr) {
            Some(i) => self.quick.get(i).is_some_and(|q| (ip as u32) < q.ip_limit),
            None => false,
        }
    }

    /// Lend out the table of fast-path entries (empty while the cache is
    /// off). Until it is given back with [`DecodeCache::put_quick`] nothing
    /// may be inserted; invalidation goes on through the tags.
    #[inline]
    pub(crate) fn take_quick(&mut self) -> Vec<Quick> {
        std::mem::take(&mut self.quick)
    }

    /// Give back the table [`DecodeCache::take_quick`] lent out.
    #[inline]
    pub(crate) fn put_quick(&mut self, quick: Vec<Quick>) {
        self.quick = quick;
    }

    /// Lend out the bodies (empty while the cache is off), as
    /// [`DecodeCache::take_quick`] lends the forms.
    #[inline]
    pub(crate) fn take_bodies(&mut self) -> Bodies {
        std::mem::take(&mut self.bodies)
    }

    /// Give back what [`DecodeCache::take_bodies`] lent out.
    #[inline]
    pub(crate) fn put_bodies(&mut self, bodies: Bodies) {
        self.bodies = bodies;
    }

    /// The tag table, for building bodies.
    #[inline]
    pub(crate) fn tags(&self) -> &[u32; SLOTS] {
        &self.tags
    }

    /// Remember `d`, which starts at `addr` and occupies `d.len` contiguous bytes.
    pub(crate) fn insert(&mut self, addr: u32, d: &Instr, quick: Quick) {
        let last = addr.wrapping_add(d.len as u32 - 1) & self.mask;
        self.blocks[(addr >> BLOCK_SHIFT) as usize] = true;
        self.blocks[(last >> BLOCK_SHIFT) as usize] = true;
        self.pages[(addr >> PAGE_SHIFT) as usize] = true;
        self.pages[(last >> PAGE_SHIFT) as usize] = true;
        // A body may hold a copy of the instruction this replaces.
        if self.tags[addr as usize & (SLOTS - 1)] != EMPTY {
            self.gen = self.gen.wrapping_add(1);
        }
        self.tags[addr as usize & (SLOTS - 1)] = addr;
        self.slots[addr as usize & (SLOTS - 1)] = *d;
        self.quick[addr as usize & (SLOTS - 1)] = quick;
    }

    /// The byte at `addr` was written: forget instructions that cover it.
    #[inline]
    pub(crate) fn written(&mut self, addr: u32) {
        if let Some(true) = self.blocks.get((addr >> BLOCK_SHIFT) as usize) {
            self.drop_covering(addr);
        }
    }

    #[cold]
    fn drop_covering(&mut self, addr: u32) {
        for back in 0..MAX_CACHED_LEN {
            let start = addr.wrapping_sub(back) & self.mask;
            let i = start as usize & (SLOTS - 1);
            if self.tags[i] == start && back < self.slots[i].len as u32 {
                self.tags[i] = EMPTY;
                self.gen = self.gen.wrapping_add(1);
            }
        }
    }

    /// True if an instruction may have been cached from a byte of
    /// `start..start + len` (physical, not wrapping).
    pub(crate) fn may_hold_code(&self, start: u32, len: u32) -> bool {
        if len == 0 {
            return false;
        }
        let end = start + len - 1;
        let pages = (start >> PAGE_SHIFT) as usize..=(end >> PAGE_SHIFT) as usize;
        if self
            .pages
            .get(pages)
            .is_some_and(|flags| !flags.contains(&true))
        {
            return false;
        }
        let first = (start >> BLOCK_SHIFT) as usize;
        let last = (end >> BLOCK_SHIFT) as usize;
        match self.blocks.get(first..=last) {
            Some(flags) => flags.contains(&true),
            // Outside the flags (cache off): nothing cached there.
            None => !self.blocks.is_empty(),
        }
    }

    /// Forget everything.
    pub(crate) fn clear(&mut self) {
        self.gen = self.gen.wrapping_add(1);
        self.tags.fill(EMPTY);
        self.blocks.fill(false);
        self.pages.fill(false);
    }
}
