//! The memory path: segment checks → linear → paging (TLB) → physical → Bus.

use super::width::*;
use super::*;

/// The kind of access a segment check is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acc {
    Read,
    Write,
    Exec,
}

/// The direct path's mode with paging off (`Cpu32::seg_fast_mode`; with
/// paging on it is the TLB key's user index, 0 or 1).
pub(crate) const MODE_FLAT: u64 = 2;

/// Added to a `seg_end` entry's mode when its limit must be compared:
/// below it, the segment is flat for the direct path (base 0, reads and
/// writes allowed up to 4 GiB in one compare), and the entry's mode is the
/// direct path's own. A flat segment's limit check can fail only on an
/// access that wraps at 4 GiB, which the direct path refuses anyway (the
/// TLB key compared is the last byte's page, which the first byte's slot
/// never holds; with paging off a store may not cross a page and a read's
/// bytes must lie in the lent slice), so `rd`, `wr` and `rmw` skip the
/// compare and send a refusal to the full check. The flat modes are the
/// low ones so that the common case needs no adjustment, and the zeroed
/// entries' mode is this value, not 0 (their ends refuse everything).
pub(crate) const MODE_SEG: u64 = 4;

impl Cpu32 {
    /// True in protected mode outside v86 (descriptor types are checked).
    #[inline]
    pub(crate) fn pm(&self) -> bool {
        self.cr[0] & 1 != 0 && self.eflags & VM == 0
    }

    /// The linear address of `s:off` for an access of `len` bytes, after
    /// the segment's type and limit checks.
    #[inline]
    pub(crate) fn seg_lin(&mut self, s: usize, off: u32, len: u32, acc: Acc) -> R<u32> {
        let fast = match acc {
            Acc::Read => self.seg_fast(s, off, len, false),
            Acc::Write => self.seg_fast(s, off, len, true),
            Acc::Exec => None,
        };
        match fast {
            Some(lin) => Ok(lin),
            None => self.seg_lin_full(s, off, len, acc),
        }
    }

    /// The common case of the segment check in one compare (`seg_end`):
    /// the linear address when the segment allows the access without
    /// further checks and no data breakpoint or alignment check can stop
    /// the direct path; None sends it to [`Self::seg_lin_full`], which
    /// accepts these too.
    #[inline(always)]
    pub(crate) fn seg_fast(&self, s: usize, off: u32, len: u32, write: bool) -> Option<u32> {
        let e = &self.seg_end[s & 7];
        if u64::from(off) + u64::from(len) <= e[write as usize] {
            Some((e[2] as u32).wrapping_add(off))
        } else {
            None
        }
    }

    /// [`Self::seg_fast`] and the direct path's mode kept with the ends
    /// ([`Self::direct_mode`]): the TLB key's user index (CPL 3) with
    /// paging on, [`MODE_FLAT`] with it off. Both are derived from the
    /// CPL and CR0.PG, and every change of either zeroes the ends (CPL:
    /// `save_seg`; CR0.PG: `set_cr0`), so a hit's mode is current. The
    /// flag is true when the limit was not compared ([`MODE_SEG`]): the
    /// caller must then send a refusal of the direct path to the full
    /// segment check, not straight to the linear address.
    #[inline(always)]
    pub(crate) fn seg_fast_mode(
        &self,
        s: usize,
        off: u32,
        len: u32,
        write: bool,
    ) -> Option<(u32, u64, bool)> {
        let mode = self.seg_mode[s & 7];
        debug_assert_eq!(mode, self.seg_end[s & 7][3], "seg_mode out of step");
        if mode < MODE_SEG {
            return Some((off, mode, true));
        }
        let e = &self.seg_end[s & 7];
        if u64::from(off) + u64::from(len) <= e[write as usize] {
            Some(((e[2] as u32).wrapping_add(off), mode - MODE_SEG, false))
        } else {
            None
        }
    }

    /// The direct path's mode as the state stands ([`Self::seg_fast_mode`]).
    fn direct_mode_now(&self) -> u64 {
        if self.cr[0] & 0x8000_0000 == 0 {
            MODE_FLAT
        } else {
            u64::from(self.user())
        }
    }

    /// With paging off, the direct path ([`MODE_FLAT`]) takes the linear
    /// address as the physical one unmasked: only while the model's
    /// address mask is all ones (the 286's 24-bit wrap goes the whole way).
    #[inline]
    fn flat_unmasked(&self) -> bool {
        self.cr[0] & 0x8000_0000 != 0 || self.addr_mask == u32::MAX
    }

    /// The fast bounds of segment register `s` as they stand (`seg_end`).
    fn seg_fast_ends(&self, s: usize) -> [u64; 2] {
        // Bit n of each mask: the type and S bits `n` (attr & 1Fh) allow
        // the access in any mode: reads from expand-up data (10h–13h) and
        // readable code (1Ah, 1Bh, 1Eh, 1Fh); writes to writable
        // expand-up data (12h, 13h).
        const READ_FAST: u32 = 0xCC0F_0000;
        const WRITE_FAST: u32 = 0x000C_0000;
        let c = &self.seg[s];
        if !c.valid
            || self.dr[7] & 0xFF != 0
            || (self.user() && self.eflags & AC != 0)
            || !self.flat_unmasked()
        {
            return [0; 2];
        }
        let ty = u32::from(c.attr) & 0x1F;
        let end = u64::from(c.limit) + 1;
        let pick = |mask: u32| if mask >> ty & 1 != 0 { end } else { 0 };
        [pick(READ_FAST), pick(WRITE_FAST)]
    }

    /// Every segment to the full checks until one finds it good again.
    #[inline]
    pub(crate) fn seg_fast_off(&mut self) {
        self.seg_end = [[0, 0, 0, MODE_SEG]; 8];
        self.seg_mode[..8].fill(MODE_SEG);
    }

    /// [`Self::seg_lin`]'s full checks and faults.
    #[inline(never)]
    fn seg_lin_full(&mut self, s: usize, off: u32, len: u32, acc: Acc) -> R<u32> {
        // Outside an instruction that changes segments or CPL (which may
        // change them again after this access), the state is settled:
        // the fast bounds can be worked out again.
        if !self.seg_saved {
            let [r, w] = self.seg_fast_ends(s);
            let base = u64::from(self.seg[s].base);
            let mut mode = self.direct_mode_now();
            if r != 1 << 32 || w != 1 << 32 || base != 0 {
                mode += MODE_SEG;
            }
            self.seg_end[s] = [r, w, base, mode];
            self.seg_mode[s] = mode;
        }
        let c = &self.seg[s];
        // The 286 in real mode reports a stack-segment overrun as interrupt 13.
        let flt = if s == SS && (self.cr[0] & 1 != 0 || self.model.generation() >= 3) {
            fault(12, 0)
        } else {
            gp(0)
        };
        if self.pm() {
            if !c.valid {
                return Err(flt);
            }
            let ty = c.ty();
            match acc {
                Acc::Read => {
                    if c.is_code() && ty & 2 == 0 {
                        return Err(flt);
                    }
                }
                Acc::Write => {
                    if c.is_code() || ty & 2 == 0 {
                        return Err(flt);
                    }
                }
                Acc::Exec => {}
            }
        }
        let last = off.wrapping_add(len - 1);
        if c.is_seg() && !c.is_code() && c.ty() & 4 != 0 {
            // Expand-down: valid offsets lie above the limit.
            let top = if c.big() { 0xFFFF_FFFF } else { 0xFFFF };
            if off <= c.limit || last > top || last < off {
                return Err(flt);
            }
        } else if last > c.limit || last < off {
            return Err(flt);
        }
        Ok(c.base.wrapping_add(off))
    }

    /// Translate a linear address; `user` accesses are checked against U/S
    /// and R/W. Sets A and D bits; faults with #PF and CR2.
    #[inline]
    pub(crate) fn translate<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        write: bool,
        user: bool,
    ) -> R<u32> {
        if self.cr[0] & 0x8000_0000 == 0 {
            return Ok(lin & self.model.address_mask());
        }
        let page = lin >> 12;
        let e = &self.tlb[page as usize & (TLB_SIZE - 1)];
        if e.tag == (page << 1) | 1
            && (!user || e.user)
            && (!write || (e.dirty && (e.write || (!user && !self.wp()))))
        {
            return Ok(e.phys | (lin & 0xFFF));
        }
        self.translate_walk(bus, lin, write, user)
    }

    /// CR0.WP in force (486 and later).
    #[inline]
    fn wp(&self) -> bool {
        self.model.generation() >= 4 && self.cr[0] & 0x1_0000 != 0
    }

    /// A TLB miss (or an entry without the rights asked for): walk the
    /// page tables, fill the entry, or fault. Kept out of line so that the
    /// hit path above inlines into every access.
    #[inline(never)]
    fn translate_walk<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        write: bool,
        user: bool,
    ) -> R<u32> {
        self.count_walk(lin, write);
        let wp = self.wp();
        let page = lin >> 12;
        let idx = page as usize & (TLB_SIZE - 1);
        let pf = |cpu: &mut Cpu32, present: bool| {
            cpu.cr[2] = lin;
            fault(
                14,
                present as u16 | (write as u16) << 1 | (user as u16) << 2,
            )
        };
        let pde_addr = (self.cr[3] & 0xFFFF_F000) | ((lin >> 20) & 0xFFC);
        let pde = self.phys_read32(bus, pde_addr);
        if pde & 1 == 0 {
            return Err(pf(self, false));
        }
        let cr4 = self.cr[4];
        if cr4 & super::p6::CR4_PSE != 0 && pde & 0x80 != 0 {
            // A 4 MiB page (PDE.PS): the PDE maps it; the TLB holds it as
            // the 4 KiB piece this access touched.
            let u = pde & 4 != 0;
            let w = pde & 2 != 0;
            if user && !u {
                return Err(pf(self, true));
            }
            if write && !w && (user || wp) {
                return Err(pf(self, true));
            }
            let new_pde = pde | 0x20 | if write { 0x40 } else { 0 };
            if new_pde != pde {
                self.phys_write32(bus, pde_addr, new_pde);
            }
            let phys = (pde & 0xFFC0_0000) | (lin & 0x003F_F000);
            let global = cr4 & super::p6::CR4_PGE != 0 && pde & 0x100 != 0;
            self.tlb_put(
                idx,
                tlb_entry(page, phys, u, w, new_pde & 0x40 != 0, global, wp),
            );
            return Ok(phys | (lin & 0xFFF));
        }
        let pte_addr = (pde & 0xFFFF_F000) | ((lin >> 10) & 0xFFC);
        let pte = self.phys_read32(bus, pte_addr);
        if pte & 1 == 0 {
            return Err(pf(self, false));
        }
        let u = pde & pte & 4 != 0;
        let w = pde & pte & 2 != 0;
        if user && !u {
            return Err(pf(self, true));
        }
        if write && !w && (user || wp) {
            return Err(pf(self, true));
        }
        if pde & 0x20 == 0 {
            self.phys_write32(bus, pde_addr, pde | 0x20);
        }
        let new_pte = pte | 0x20 | if write { 0x40 } else { 0 };
        if new_pte != pte {
            self.phys_write32(bus, pte_addr, new_pte);
        }
        let phys = pte & 0xFFFF_F000;
        let global = cr4 & super::p6::CR4_PGE != 0 && pte & 0x100 != 0;
        self.tlb_put(
            idx,
            tlb_entry(page, phys, u, w, new_pte & 0x40 != 0, global, wp),
        );
        Ok(phys | (lin & 0xFFF))
    }

    /// Fill TLB slot `idx`, and its keys and delta in the flat arrays.
    fn tlb_put(&mut self, idx: usize, e: TlbEntry) {
        self.tlb_key[4 * idx..4 * idx + 4].copy_from_slice(&e.key);
        self.tlb_delta[4 * idx..4 * idx + 4].fill(e.delta);
        self.tlb[idx] = e;
    }

    /// Before a byte call to the bus (the only calls a board may answer
    /// with a device, or with a change to its events number): inside a
    /// block's body, which neither tells the board the clock before each
    /// form nor looks at its events number after one, do both here (the
    /// body stops after the form: `slice.rs`, `run_body`). Every
    /// `Bus::read` and `Bus::write` a form can make goes through here first
    /// (the debugger's page walk in `state.rs` runs no form);
    /// `ram_mut`, `ram_read` and `ram_direct` lend plain memory and have
    /// no effect.
    #[inline(always)]
    pub(crate) fn touch_bus<B: Bus + ?Sized>(&mut self, bus: &mut B) {
        if self.in_body != 0 {
            self.body_touched_bus(bus);
        }
    }

    #[cold]
    #[inline(never)]
    fn body_touched_bus<B: Bus + ?Sized>(&mut self, bus: &mut B) {
        // Looked at after the form: the fetch context must be looked up
        // again (as after a segment load), which stops the body.
        self.fetch_hi |= super::icache::SEGS_SAVED;
        if self.in_body == 2 {
            let before = (self.body_at & super::icache::BODY_CLK) as u64;
            bus.slice_clock(self.body_clk.wrapping_add(before));
        }
    }

    /// A page-table entry (`a` a multiple of 4): from the lent RAM when
    /// the board lends it there ([`Bus::ram_direct`]), as the direct path
    /// reads data, else byte by byte through the bus.
    pub(crate) fn phys_read32<B: Bus + ?Sized>(&mut self, bus: &mut B, a: u32) -> u32 {
        let m = self.model.address_mask();
        if let Some(p) = Self::entry_direct(a, m) {
            if let Some(v) = ram_load(bus.ram_direct(), p, 4) {
                return v;
            }
        }
        self.touch_bus(bus);
        (0..4).fold(0, |v, i| {
            v | (bus.read(a.wrapping_add(i) & m) as u32) << (8 * i)
        })
    }

    /// Store a page-table entry (its A and D bits; [`Self::phys_read32`]).
    pub(crate) fn phys_write32<B: Bus + ?Sized>(&mut self, bus: &mut B, a: u32, v: u32) {
        let m = self.model.address_mask();
        if let Some(p) = Self::entry_direct(a, m) {
            if ram_store(bus.ram_direct(), p, 4, v) {
                self.note_write(p as u32, 4);
                return;
            }
        }
        self.touch_bus(bus);
        for i in 0..4 {
            let p = a.wrapping_add(i) & m;
            self.note_write(p, 1);
            bus.write(p, (v >> (8 * i)) as u8);
        }
    }

    /// The lent RAM's index of the four bytes at physical `a` under the
    /// address mask `m`, when they may come from there: `a` aligned (a
    /// page-table entry always is: its four bytes are then `a & m` on, with
    /// no wrap between them, since the mask's low bits are set) and
    /// outside [`crate::bus::DIRECT_HOLE`] (whose ends are aligned too).
    #[inline]
    fn entry_direct(a: u32, m: u32) -> Option<usize> {
        let p = a & m;
        (a & 3 == 0 && m & 3 == 3 && !crate::bus::DIRECT_HOLE.contains(&p)).then_some(p as usize)
    }

    /// The physical addresses of the first byte and of the first byte on
    /// the next page (if the access crosses a page: an `Option`, not 0,
    /// since the next page may be physical page 0).
    #[inline]
    fn phys_span<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        len: u32,
        write: bool,
        user: bool,
    ) -> R<(u32, Option<u32>)> {
        let p0 = self.translate(bus, lin, write, user)?;
        let p1 = if (lin & 0xFFF) + len > 0x1000 {
            Some(self.translate(bus, (lin | 0xFFF).wrapping_add(1), write, user)?)
        } else {
            None
        };
        Ok((p0, p1))
    }

    /// The physical address of byte `i` of an access at `lin` whose pages
    /// begin at `p0` and `p1` ([`Self::phys_span`]).
    #[inline]
    fn span_byte(lin: u32, i: u32, p0: u32, p1: Option<u32>) -> u32 {
        let l = lin.wrapping_add(i);
        match p1 {
            Some(p1) if (l & 0xFFF) < (lin & 0xFFF) => p1 + (l & 0xFFF),
            _ => p0 + i,
        }
    }

    #[inline]
    fn alignment_check(&self, lin: u32, len: u32, user: bool) -> R<()> {
        if len > 1
            && user
            && self.eflags & AC != 0
            && self.cr[0] & 0x4_0000 != 0
            && lin & (len - 1) != 0
            && self.model.generation() >= 4
        {
            return Err(fault(17, 0));
        }
        Ok(())
    }

    /// Read `len` (1, 2, 4) bytes at a linear address.
    pub(crate) fn lin_read<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        len: u32,
        user: bool,
    ) -> R<u32> {
        self.alignment_check(lin, len, user)?;
        let (p0, p1) = self.phys_span(bus, lin, len, false, user)?;
        if self.breakpoints_armed() {
            self.data_breakpoint(lin, len, false);
        }
        let m = self.model.address_mask();
        if p1.is_none() && (p0 & m) <= m - (len - 1) {
            if let Some(s) = bus.ram_mut(p0 & m, len) {
                return Ok(s
                    .iter()
                    .enumerate()
                    .fold(0, |v, (k, &b)| v | (b as u32) << (8 * k)));
            }
        }
        self.touch_bus(bus);
        let mut v = 0;
        for i in 0..len {
            let p = Self::span_byte(lin, i, p0, p1);
            v |= (bus.read(p & m) as u32) << (8 * i);
        }
        Ok(v)
    }

    /// Write `len` (1, 2, 4) bytes at a linear address; both pages are
    /// checked before the first byte is written.
    pub(crate) fn lin_write<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        len: u32,
        v: u32,
        user: bool,
    ) -> R<()> {
        self.alignment_check(lin, len, user)?;
        let (p0, p1) = self.phys_span(bus, lin, len, true, user)?;
        if self.breakpoints_armed() {
            self.data_breakpoint(lin, len, true);
        }
        let m = self.model.address_mask();
        if p1.is_none() && (p0 & m) <= m - (len - 1) {
            self.note_write(p0 & m, len);
            if let Some(s) = bus.ram_mut(p0 & m, len) {
                for (k, b) in s.iter_mut().enumerate() {
                    *b = (v >> (8 * k)) as u8;
                }
                return Ok(());
            }
        }
        self.touch_bus(bus);
        for i in 0..len {
            let p = Self::span_byte(lin, i, p0, p1);
            self.note_write(p & m, 1);
            bus.write(p & m, (v >> (8 * i)) as u8);
        }
        Ok(())
    }

    /// Check that a write of `len` bytes at a linear address would succeed (paging only).
    pub(crate) fn probe_write<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        len: u32,
        user: bool,
    ) -> R<()> {
        self.phys_span(bus, lin, len, true, user).map(|_| ())
    }

    #[inline]
    pub(crate) fn user(&self) -> bool {
        self.cpl == 3
    }

    /// The physical address of an access of `len` bytes at `lin` when it
    /// may go straight to the board's [`Bus::ram_direct`] memory: on one
    /// page, no data breakpoint armed and no alignment check possible
    /// (EFLAGS.AC clear or a supervisor access), and either paging off
    /// with the address outside [`crate::bus::DIRECT_HOLE`] or a TLB entry
    /// whose key grants this kind of access (so there is no walk, no A/D
    /// update and no fault). None sends the access the whole way
    /// ([`Self::lin_read`]); the caller still checks the address against
    /// the lent slice's length.
    #[inline(always)]
    pub(crate) fn direct_phys(&self, lin: u32, len: u32, write: bool, user: bool) -> Option<usize> {
        if self.dr[7] & 0xFF != 0 || (user && self.eflags & AC != 0) {
            return None;
        }
        self.direct_unguarded(lin, len, write, user)
    }

    /// [`Self::direct_phys`] without the breakpoint and alignment tests,
    /// for an access whose segment check passed [`Self::seg_fast`] (which
    /// stands for them).
    #[inline(always)]
    pub(crate) fn direct_unguarded(
        &self,
        lin: u32,
        len: u32,
        write: bool,
        user: bool,
    ) -> Option<usize> {
        let mode = if self.cr[0] & 0x8000_0000 == 0 {
            if self.addr_mask != u32::MAX {
                return None;
            }
            MODE_FLAT
        } else {
            u64::from(user)
        };
        self.direct_at(lin, len, write, mode)
    }

    /// [`Self::direct_unguarded`] with the paging test and the user index
    /// taken from `mode` ([`Self::seg_fast_mode`]) rather than CR0 and CPL.
    #[inline(always)]
    pub(crate) fn direct_mode(&self, lin: u32, len: u32, write: bool, mode: u64) -> Option<usize> {
        debug_assert_eq!(mode, self.direct_mode_now(), "stale direct-path mode");
        self.direct_at(lin, len, write, mode)
    }

    /// The direct path in `mode` ([`MODE_FLAT`]: paging off, the address
    /// mask all ones; else the TLB key's user index). The physical address
    /// may lie at the top of the 4 GiB space with the access running past
    /// it: callers take `p..p.wrapping_add(len)` (or `get(p..)`), which no
    /// slice holds, so such an access goes the whole way.
    #[inline(always)]
    fn direct_at(&self, lin: u32, len: u32, write: bool, mode: u64) -> Option<usize> {
        const HOLE: std::ops::Range<u32> = crate::bus::DIRECT_HOLE;
        if mode >= MODE_FLAT {
            // An access may cross pages (with paging off they are
            // contiguous): only whether its bytes reach the hole, in one
            // compare on the last byte (the hole is longer than any
            // access, so first byte in it, or last, or both). A store
            // across pages is seen by `note_write` on its first page's
            // line 63, which code on the next page's line 0 marks too:
            // enough for any store of up to 64 bytes (the callers' are at
            // most 8; string runs ask for one page's elements only).
            let last = lin.wrapping_add(len - 1);
            if last.wrapping_sub(HOLE.start) < HOLE.end - HOLE.start + (len - 1) {
                return None;
            }
            return Some(lin as usize);
        }
        // The entry is the first byte's, the key compared the last
        // byte's page base: an access that crosses a page (or wraps at
        // 4 GiB) asks the slot of page n for page n + 1's key, which that
        // slot can never hold (the two index different slots), so the one
        // compare also stands for the page-crossing test.
        let last = lin.wrapping_add(len - 1) & !0xFFF;
        // Below MODE_FLAT the mode is the key's index itself (no mask);
        // the flat arrays' element (`tlb_key`).
        let k = ((lin >> 10) as usize & ((TLB_SIZE - 1) << 2)) | mode as usize;
        let k = k + 2 * write as usize;
        debug_assert_eq!(
            (self.tlb_key[k], self.tlb_delta[k]),
            {
                let e = &self.tlb[(lin >> 12) as usize & (TLB_SIZE - 1)];
                (e.key[mode as usize + 2 * write as usize], e.delta)
            },
            "flat TLB arrays out of step"
        );
        if self.tlb_key[k] == last {
            return Some(lin.wrapping_add(self.tlb_delta[k]) as usize);
        }
        None
    }

    /// The direct path's mode of segment `s` ([`Self::seg_fast_mode`],
    /// [`Self::on_flat`]): below [`MODE_FLAT`] (paging on: the TLB key) or
    /// [`MODE_FLAT`] (paging off) the segment is flat; anything else goes to
    /// the out-of-line whole way (`rd_other`, `wr_other`, `rmw_other`),
    /// where the segment is looked at again.
    #[inline(always)]
    fn flat_mode(&self, s: usize) -> u64 {
        // The callers' segment numbers are bytes below 8 (`Insn::def_seg`,
        // constants): `& 0xFF` is free on a zero-extended byte.
        debug_assert!(s < 8, "segment number {s}");
        let mode = self.seg_mode[s & 0xFF];
        debug_assert_eq!(mode, self.seg_end[s & 7][3], "seg_mode out of step");
        mode
    }

    /// The direct path of `rd`, `wr` and `rmw`: for a flat segment `s`
    /// ([`Self::flat_mode`]) whose TLB (or, paging off, the plain range)
    /// grants the access, `at` (the load or store, given the lent RAM's
    /// index and `ctx`) is inlined once per mode, so that each mode goes
    /// on its own path to it (joined before it, the two cost a jump and a
    /// register copy per access). `Err(ctx)`: not done (a segment that is
    /// not flat, a refusal, or `at`'s own), for the caller's out-of-line
    /// whole way.
    #[inline(always)]
    pub(crate) fn on_flat<T, C>(
        &mut self,
        s: usize,
        off: u32,
        len: u32,
        write: bool,
        ctx: C,
        at: impl FnOnce(&mut Self, usize, C) -> Result<T, C>,
    ) -> Result<T, C> {
        let mode = self.flat_mode(s);
        if mode < MODE_FLAT {
            match self.direct_mode(off, len, write, mode) {
                Some(p) => at(self, p, ctx),
                None => Err(ctx),
            }
        } else if mode == MODE_FLAT {
            match self.direct_mode(off, len, write, MODE_FLAT) {
                Some(p) => at(self, p, ctx),
                None => Err(ctx),
            }
        } else {
            Err(ctx)
        }
    }

    /// Read through a segment.
    #[inline(always)]
    pub(crate) fn rd<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        s: usize,
        off: u32,
        len: u32,
    ) -> R<u32> {
        let load = |_: &mut Self, p, ()| ram_load(bus.ram_direct(), p, len).ok_or(());
        match self.on_flat(s, off, len, false, (), load) {
            Ok(v) => Ok(v),
            Err(()) => self.rd_other(bus, s, off, len),
        }
    }

    /// [`Self::rd`] past [`Self::on_flat`]: a segment that is not
    /// flat, or a refusal (the fast segment check with its limit, the
    /// direct path again, else the whole way).
    #[inline(never)]
    fn rd_other<B: Bus + ?Sized>(&mut self, bus: &mut B, s: usize, off: u32, len: u32) -> R<u32> {
        let Some((lin, mode, flat)) = self.seg_fast_mode(s, off, len, false) else {
            return self.rd_slow(bus, s, off, len);
        };
        if let Some(p) = self.direct_mode(lin, len, false, mode) {
            let ram = bus.ram_direct();
            if let Some(m) = ram.get(p..p.wrapping_add(len as usize)) {
                return Ok(m
                    .iter()
                    .enumerate()
                    .fold(0, |v, (k, &b)| v | (b as u32) << (8 * k)));
            }
        }
        if flat && Self::flat_wraps(off, len) {
            return self.rd_slow(bus, s, off, len);
        }
        let u = self.user();
        self.lin_read(bus, lin, len, u)
    }

    /// Whether an access of `len` bytes at `off` through a flat segment
    /// ([`Self::seg_fast_mode`]'s flag) wraps at 4 GiB: the one access such
    /// a segment's full check refuses (#GP or #SS), so every other refusal
    /// of the direct path (a TLB miss, a page crossing, the hole) may go
    /// straight to the linear address, `off` itself.
    #[inline]
    fn flat_wraps(off: u32, len: u32) -> bool {
        off.checked_add(len - 1).is_none()
    }

    /// Write through a segment.
    #[inline(always)]
    pub(crate) fn wr<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        s: usize,
        off: u32,
        len: u32,
        v: u32,
    ) -> R<()> {
        let store = |me: &mut Self, p, ()| {
            if ram_store(bus.ram_direct(), p, len, v) {
                me.note_write(p as u32, len);
                Ok(())
            } else {
                Err(())
            }
        };
        match self.on_flat(s, off, len, true, (), store) {
            Ok(()) => Ok(()),
            Err(()) => self.wr_other(bus, s, off, len, v),
        }
    }

    /// [`Self::wr`] past [`Self::on_flat`] ([`Self::rd_other`]).
    #[inline(never)]
    fn wr_other<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        s: usize,
        off: u32,
        len: u32,
        v: u32,
    ) -> R<()> {
        let Some((lin, mode, flat)) = self.seg_fast_mode(s, off, len, true) else {
            return self.wr_slow(bus, s, off, len, v);
        };
        if let Some(p) = self.direct_mode(lin, len, true, mode) {
            let ram = bus.ram_direct();
            if let Some(m) = ram.get_mut(p..p.wrapping_add(len as usize)) {
                for (k, b) in m.iter_mut().enumerate() {
                    *b = (v >> (8 * k)) as u8;
                }
                self.note_write(p as u32, len);
                return Ok(());
            }
        }
        if flat && Self::flat_wraps(off, len) {
            return self.wr_slow(bus, s, off, len, v);
        }
        let u = self.user();
        self.lin_write(bus, lin, len, v, u)
    }

    /// [`Self::rd`] when the fast segment check declines: the full checks
    /// and the whole way.
    #[inline(never)]
    fn rd_slow<B: Bus + ?Sized>(&mut self, bus: &mut B, s: usize, off: u32, len: u32) -> R<u32> {
        let lin = self.seg_lin_full(s, off, len, Acc::Read)?;
        let u = self.user();
        self.lin_read(bus, lin, len, u)
    }

    /// [`Self::wr`] when the fast segment check declines.
    #[inline(never)]
    fn wr_slow<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        s: usize,
        off: u32,
        len: u32,
        v: u32,
    ) -> R<()> {
        let lin = self.seg_lin_full(s, off, len, Acc::Write)?;
        let u = self.user();
        self.lin_write(bus, lin, len, v, u)
    }

    /// Supervisor-level read of system structures (descriptor tables, TSS).
    pub(crate) fn sys_read<B: Bus + ?Sized>(&mut self, bus: &mut B, lin: u32, len: u32) -> R<u32> {
        self.lin_read(bus, lin, len, false)
    }

    /// Supervisor-level write of system structures.
    pub(crate) fn sys_write<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        lin: u32,
        len: u32,
        v: u32,
    ) -> R<()> {
        self.lin_write(bus, lin, len, v, false)
    }

    /// A code byte at CS:`off`.
    pub(crate) fn code_byte<B: Bus + ?Sized>(&mut self, bus: &mut B, off: u32) -> R<u8> {
        let lin = self.seg_lin(CS, off, 1, Acc::Exec)?;
        let u = self.user();
        let p = self.translate(bus, lin, false, u)?;
        self.touch_bus(bus);
        Ok(bus.read(p & self.model.address_mask()))
    }

    /// Up to 15 code bytes from CS:`start` that can be fetched without a
    /// fault and that the bus lends ([`Bus::ram_read`]: RAM, and ROM or
    /// write-protected shadow where the board lends them) on one page, and
    /// how many there are (0 when the first byte is not such a byte). The
    /// decoder takes bytes from here and falls back to [`Self::code_byte`]
    /// past the end, so segment-limit and page faults stay per byte, as the
    /// CPU raises them, while the common case costs one translation and one
    /// bus call per instruction instead of one per byte.
    pub(crate) fn fetch_window<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        start: u32,
        d32: bool,
        buf: &mut [u8; 15],
    ) -> u32 {
        let c = &self.seg[CS];
        if (self.pm() && !c.valid) || start > c.limit {
            return 0;
        }
        let mut w = 15u32.min(c.limit - start).saturating_add(1).min(15);
        if !d32 {
            // 16-bit offsets wrap at 64 KiB: stop the window there.
            w = w.min(0x1_0000 - (start & 0xFFFF));
        }
        let lin = c.base.wrapping_add(start);
        w = w.min(0x1000 - (lin & 0xFFF));
        let u = self.user();
        let Ok(p) = self.translate(bus, lin, false, u) else {
            return 0;
        };
        let m = self.model.address_mask();
        let p = p & m;
        if p > m - (w - 1) {
            return 0;
        }
        match bus.ram_read(p, w) {
            Some(s) if s.len() == w as usize => {
                // Byte by byte: a library memmove here costs more than the
                // copy, and its wide stores stall the decoder's byte loads.
                for (d, &b) in buf.iter_mut().zip(s.iter()) {
                    *d = b;
                }
                w
            }
            _ => 0,
        }
    }

    /// The stack's address size is 32 bits (SS.B).
    #[inline]
    pub(crate) fn stack32(&self) -> bool {
        self.seg[SS].big()
    }

    #[inline]
    pub(crate) fn sp(&self) -> u32 {
        if self.stack32() {
            self.r[4]
        } else {
            self.r[4] & 0xFFFF
        }
    }

    #[inline]
    pub(crate) fn set_sp(&mut self, v: u32) {
        if self.stack32() {
            self.r[4] = v;
        } else {
            self.r[4] = (self.r[4] & 0xFFFF_0000) | (v & 0xFFFF);
        }
    }

    /// Push `len` bytes.
    pub(crate) fn push<B: Bus + ?Sized>(&mut self, bus: &mut B, len: u32, v: u32) -> R<()> {
        self.push_in(bus, len, v)
    }

    /// [`Self::push`] inlined (the PUSH forms, with `len` a constant).
    #[inline(always)]
    pub(crate) fn push_in<B: Bus + ?Sized>(&mut self, bus: &mut B, len: u32, v: u32) -> R<()> {
        // The stack's size tested once (`sp` and `set_sp` each test it):
        // a 32-bit stack is ESP itself.
        if self.stack32() {
            let sp = self.r[4].wrapping_sub(len);
            self.wr(bus, SS, sp, len, v)?;
            self.r[4] = sp;
            return Ok(());
        }
        let sp = self.r[4].wrapping_sub(len) & 0xFFFF;
        self.wr(bus, SS, sp, len, v)?;
        self.r[4] = (self.r[4] & 0xFFFF_0000) | sp;
        Ok(())
    }

    /// Pop `len` bytes.
    pub(crate) fn pop<B: Bus + ?Sized>(&mut self, bus: &mut B, len: u32) -> R<u32> {
        self.pop_in(bus, len)
    }

    /// [`Self::pop`] inlined (the POP form, with `len` a constant).
    #[inline(always)]
    pub(crate) fn pop_in<B: Bus + ?Sized>(&mut self, bus: &mut B, len: u32) -> R<u32> {
        if self.stack32() {
            let sp = self.r[4];
            let v = self.rd(bus, SS, sp, len)?;
            self.r[4] = sp.wrapping_add(len);
            return Ok(v);
        }
        let sp = self.r[4] & 0xFFFF;
        let v = self.rd(bus, SS, sp, len)?;
        self.r[4] = (self.r[4] & 0xFFFF_0000) | (sp.wrapping_add(len) & 0xFFFF);
        Ok(v)
    }

    /// Read the stack at SP + `delta` without moving SP.
    pub(crate) fn peek<B: Bus + ?Sized>(&mut self, bus: &mut B, delta: u32, len: u32) -> R<u32> {
        let mut a = self.sp().wrapping_add(delta);
        if !self.stack32() {
            a &= 0xFFFF;
        }
        self.rd(bus, SS, a, len)
    }
}

/// The `len` (1, 2, 4) bytes at `p` of the lent RAM, if it holds them.
#[inline(always)]
fn ram_load(ram: &[u8], p: usize, len: u32) -> Option<u32> {
    match len {
        1 => ram.get(p).map(|b| *b as u32),
        2 => match ram.get(p..p.wrapping_add(2)) {
            Some(&[a, b]) => Some(u16::from_le_bytes([a, b]) as u32),
            _ => None,
        },
        _ => match ram.get(p..p.wrapping_add(4)) {
            Some(&[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
            _ => None,
        },
    }
}

/// Store the low `len` (1, 2, 4) bytes of `v` at `p` of the lent RAM;
/// false if it does not hold them.
#[inline(always)]
fn ram_store(ram: &mut [u8], p: usize, len: u32, v: u32) -> bool {
    match len {
        1 => ram.get_mut(p).map(|b| *b = v as u8).is_some(),
        2 => ram
            .get_mut(p..p.wrapping_add(2))
            .map(|s| s.copy_from_slice(&(v as u16).to_le_bytes()))
            .is_some(),
        _ => ram
            .get_mut(p..p.wrapping_add(4))
            .map(|s| s.copy_from_slice(&v.to_le_bytes()))
            .is_some(),
    }
}

/// A TLB entry for linear page `page` mapped to the physical page at
/// `phys`, with its direct-path keys: a supervisor read is always granted,
/// a user read with U, a write only with D already set and the write
/// allowed (a supervisor one also on a read-only page while CR0.WP is
/// clear, `wp` false); none into [`crate::bus::DIRECT_HOLE`].
fn tlb_entry(
    page: u32,
    phys: u32,
    u: bool,
    w: bool,
    dirty: bool,
    global: bool,
    wp: bool,
) -> TlbEntry {
    let tag = (page << 1) | 1;
    let hole = crate::bus::DIRECT_HOLE.contains(&phys);
    let grant = |ok: bool| if ok && !hole { page << 12 } else { KEY_NONE };
    TlbEntry {
        key: [
            grant(true),
            grant(u),
            grant(dirty && (w || !wp)),
            grant(dirty && u && w),
        ],
        delta: phys.wrapping_sub(page << 12),
        tag,
        phys,
        user: u,
        write: w,
        dirty,
        global,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FlatBus;

    fn paged_cpu(bus: &mut FlatBus, pte_flags: u32) -> Cpu32 {
        let mut c = Cpu32::new(Model32::I80486);
        // Page directory at 0x1000, one page table at 0x2000 mapping linear
        // 0x00400000 (PDE 1) page 0 to physical 0x5000.
        bus.load(0x1004, &(0x2000u32 | 7).to_le_bytes());
        bus.load(0x2000, &(0x5000u32 | pte_flags).to_le_bytes());
        c.cr[3] = 0x1000;
        c.cr[0] |= 0x8000_0001;
        c
    }

    #[test]
    fn walk_sets_accessed_and_dirty() {
        let mut bus = FlatBus::new(0x10000);
        let mut c = paged_cpu(&mut bus, 7);
        assert_eq!(c.translate(&mut bus, 0x0040_0123, false, true), Ok(0x5123));
        // A read sets A (bit 5) in PDE and PTE, not D.
        assert_eq!(bus.mem[0x2000] & 0x60, 0x20);
        assert_eq!(bus.mem[0x1004] & 0x20, 0x20);
        // A write through the TLB entry must set D even though the entry exists.
        assert_eq!(c.translate(&mut bus, 0x0040_0200, true, true), Ok(0x5200));
        assert_eq!(bus.mem[0x2000] & 0x60, 0x60);
    }

    #[test]
    fn the_walk_through_the_lent_ram_agrees_with_the_byte_calls() {
        // The walk reads its entries from the lent RAM and sets A and D
        // there (`phys_read32`, `phys_write32`): the same translations,
        // faults, CR2 and A/D bits as the walk through the byte calls,
        // over user and supervisor, read-only and writable, present and
        // not, 4 KiB and 4 MiB pages, with CR0.WP on, reads and writes at
        // both privileges, each after a flush so that every one walks.
        let setup = |mem: &mut FlatBus| {
            // PDE 1 -> table at 2000h; PDE 2 a 4 MiB page at 400000h
            // (user, writable); PDE 3 not present.
            mem.load(0x1004, &(0x2000u32 | 7).to_le_bytes());
            mem.load(0x1008, &(0x0040_0000u32 | 0x87).to_le_bytes());
            for (n, flags) in [7u32, 5, 3, 1, 0, 6].into_iter().enumerate() {
                let pte = (0x5000 + 0x1000 * n as u32) | flags;
                mem.load(0x2000 + 4 * n as u32, &pte.to_le_bytes());
            }
        };
        let mut direct = FlatBus::new(0x80_0000);
        // Nothing lent: every page-table access goes byte by byte.
        let mut bytes = super::super::tests_icache::NoLend(FlatBus::new(0x80_0000));
        setup(&mut direct);
        setup(&mut bytes.0);
        let run = |bus: &mut dyn Bus| {
            let mut c = Cpu32::new(Model32::PentiumPro);
            c.cr[3] = 0x1000;
            c.cr[4] |= super::super::p6::CR4_PSE;
            c.cr[0] |= 0x8001_0001;
            let mut out = Vec::new();
            for lin in [
                0x0040_0123u32,
                0x0040_1FFC,
                0x0040_2010,
                0x0040_3000,
                0x0040_4000,
                0x0040_5008,
                0x0080_1234,
                0x00C0_0000,
            ] {
                for (write, user) in [(false, true), (true, true), (false, false), (true, false)] {
                    c.flush_tlb();
                    let r = c.translate(bus, lin, write, user);
                    out.push((lin, write, user, r, c.cr[2]));
                }
            }
            out
        };
        let got = run(&mut direct);
        let want = run(&mut bytes);
        assert_eq!(got, want);
        assert!(got.iter().any(|r| r.3.is_err()) && got.iter().any(|r| r.3.is_ok()));
        assert_eq!(direct.mem[..0x3000], bytes.0.mem[..0x3000]);
        // A and D were set where the walks went (PTE 0: D by the writes).
        assert_eq!(direct.mem[0x2000] & 0x60, 0x60);
        assert_eq!(direct.mem[0x1008] & 0x60, 0x60);
    }

    #[test]
    fn user_write_to_read_only_page_faults_with_code_7() {
        let mut bus = FlatBus::new(0x10000);
        // Present, user, read-only.
        let mut c = paged_cpu(&mut bus, 5);
        // P=1 (protection), W=1, U=1 → error code 7, CR2 = the address.
        assert_eq!(
            c.translate(&mut bus, 0x0040_0010, true, true),
            Err(fault(14, 7))
        );
        assert_eq!(c.cr[2], 0x0040_0010);
        // Not present directory entry: error code 4 for a user read.
        assert_eq!(
            c.translate(&mut bus, 0x0080_0000, false, true),
            Err(fault(14, 4))
        );
        // Supervisor write with CR0.WP clear is allowed on a read-only page.
        assert!(c.translate(&mut bus, 0x0040_0010, true, false).is_ok());
        c.cr[0] |= 0x1_0000;
        c.flush_tlb();
        assert_eq!(
            c.translate(&mut bus, 0x0040_0010, true, false),
            Err(fault(14, 3))
        );
    }
}
