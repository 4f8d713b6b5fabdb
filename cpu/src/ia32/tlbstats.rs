//! Paging counters for profiles: page walks by cause, TLB flushes by cause
//! and page faults. Every count is made on a cold path (the out-of-line
//! page walk, the flush functions, exception delivery), never on a TLB
//! hit, so keeping them costs the instruction loop nothing.

use super::*;

/// What the paging unit did since the CPU was made (counts only ever grow;
/// a reset or a loaded state does not clear them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Page-table walks for a data read (a TLB miss, or a walk that
    /// faulted). A read of the page holding the instruction being
    /// executed counts as a fetch (the walk cannot tell them apart).
    pub walks_read: u64,
    /// Walks for a data write: misses, and writes through an entry not yet
    /// marked dirty or without the write right (the walk sets D or faults).
    pub walks_write: u64,
    /// Walks for an instruction fetch: a read of the page holding the
    /// first byte of the instruction being decoded, or of the next page.
    pub walks_fetch: u64,
    /// Flushes of the non-global entries: MOV CR3 and task switches that
    /// load CR3.
    pub flushes_cr3: u64,
    /// INVLPG (which drops the whole TLB in this model, global entries
    /// included).
    pub flushes_invlpg: u64,
    /// Whole-TLB flushes by a MOV CR0 changing PG, WP or PE.
    pub flushes_cr0: u64,
    /// Whole-TLB flushes by a MOV CR4 changing PSE or PGE.
    pub flushes_cr4: u64,
    /// Whole-TLB flushes of every cause (INVLPG, CR0, CR4, reset, a loaded
    /// state): the others are this less the three above.
    pub flushes_all: u64,
    /// Page faults raised by an instruction or an interrupt's delivery
    /// (delivered, or turned into a double fault; a #PF while delivering
    /// another exception is not counted).
    pub page_faults: u64,
}

impl TlbStats {
    /// Page walks of every cause.
    pub fn walks(&self) -> u64 {
        self.walks_read + self.walks_write + self.walks_fetch
    }
}

impl Cpu32 {
    /// The paging counters (see [`TlbStats`]).
    pub fn tlb_stats(&self) -> TlbStats {
        self.tlb_stats
    }

    /// Count a page walk for `lin` (called from the walk only).
    #[cold]
    pub(crate) fn count_walk(&mut self, lin: u32, write: bool) {
        let s = &mut self.tlb_stats;
        if write {
            s.walks_write += 1;
            return;
        }
        let first = self.seg[CS].base.wrapping_add(self.insn_start) >> 12;
        let page = lin >> 12;
        if page == first || page == first.wrapping_add(1) {
            s.walks_fetch += 1;
        } else {
            s.walks_read += 1;
        }
    }
}
