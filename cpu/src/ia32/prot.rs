//! Protected mode: descriptors, segment loads, far transfers, interrupts
//! and task switches.

use super::clocks::{self, Xfer};
use super::width::*;
use super::*;

/// A descriptor as read from a table.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Desc {
    pub lo: u32,
    pub hi: u32,
    /// Linear address of the descriptor (to set the accessed/busy bits).
    pub at: u32,
}

impl Desc {
    fn access(&self) -> u8 {
        (self.hi >> 8) as u8
    }
    fn present(&self) -> bool {
        self.access() & 0x80 != 0
    }
    fn dpl(&self) -> u8 {
        (self.access() >> 5) & 3
    }
    fn is_seg(&self) -> bool {
        self.access() & 0x10 != 0
    }
    fn ty(&self) -> u8 {
        self.access() & 0xF
    }
    fn is_code(&self) -> bool {
        self.is_seg() && self.ty() & 8 != 0
    }
    fn conforming(&self) -> bool {
        self.is_code() && self.ty() & 4 != 0
    }
    fn readable_code(&self) -> bool {
        self.is_code() && self.ty() & 2 != 0
    }
    fn writable_data(&self) -> bool {
        self.is_seg() && self.ty() & 0xA == 2
    }
    /// Gate target selector.
    fn gate_sel(&self) -> u16 {
        (self.lo >> 16) as u16
    }
    /// Gate offset (386 gates have the high word).
    fn gate_off(&self) -> u32 {
        if self.ty() & 8 != 0 {
            (self.lo & 0xFFFF) | (self.hi & 0xFFFF_0000)
        } else {
            self.lo & 0xFFFF
        }
    }
    fn cache(&self, sel: u16, model: Model32) -> SegCache {
        let mut base = (self.lo >> 16) | ((self.hi & 0xFF) << 16);
        let mut limit = (self.lo & 0xFFFF) | (self.hi & 0xF_0000);
        let mut flags = (self.hi >> 20) & 0xF;
        if model == Model32::I80286 {
            limit &= 0xFFFF;
            flags = 0;
        } else {
            base |= self.hi & 0xFF00_0000;
            if flags & 8 != 0 {
                limit = (limit << 12) | 0xFFF;
            }
        }
        SegCache {
            sel,
            base,
            limit,
            attr: self.access() as u16 | (flags as u16) << 12,
            valid: true,
        }
    }
}

/// Why a task switch happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Switch {
    Jmp,
    Call,
    Iret,
    Int,
}

impl Cpu32 {
    /// Read the descriptor for `sel` (GDT or LDT); `flt` is raised when the
    /// selector lies beyond the table.
    pub(crate) fn read_desc<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        flt: Fault,
    ) -> R<Desc> {
        let idx = (sel & 0xFFF8) as u32;
        let (base, limit) = if sel & 4 != 0 {
            if !self.ldtr.valid {
                return Err(flt);
            }
            (self.ldtr.base, self.ldtr.limit)
        } else {
            (self.gdtr.0, self.gdtr.1 as u32)
        };
        if idx + 7 > limit {
            return Err(flt);
        }
        let at = base.wrapping_add(idx);
        let lo = self.sys_read(bus, at, 4)?;
        let hi = self.sys_read(bus, at.wrapping_add(4), 4)?;
        Ok(Desc { lo, hi, at })
    }

    fn set_accessed<B: Bus + ?Sized>(&mut self, bus: &mut B, d: &Desc) -> R<()> {
        if d.is_seg() && d.hi & 0x100 == 0 {
            self.sys_write(bus, d.at.wrapping_add(5), 1, (d.access() | 1) as u32)?;
        }
        Ok(())
    }

    /// Load a data or stack segment register (MOV, POP, LxS).
    pub(crate) fn load_seg<B: Bus + ?Sized>(&mut self, bus: &mut B, s: usize, sel: u16) -> R<()> {
        self.save_seg();
        if self.cr[0] & 1 == 0 {
            let c = &mut self.seg[s];
            c.sel = sel;
            c.base = (sel as u32) << 4;
            c.valid = true;
            return Ok(());
        }
        if self.v86() {
            self.seg[s] = SegCache {
                sel,
                base: (sel as u32) << 4,
                limit: 0xFFFF,
                attr: 0xF3,
                valid: true,
            };
            return Ok(());
        }
        let rpl = (sel & 3) as u8;
        let e = gp(sel & 0xFFFC);
        if sel & 0xFFFC == 0 {
            if s == SS {
                return Err(gp(0));
            }
            self.seg[s] = SegCache {
                sel,
                valid: false,
                ..SegCache::default()
            };
            return Ok(());
        }
        let d = self.read_desc(bus, sel, e)?;
        if s == SS {
            if rpl != self.cpl || !d.writable_data() || d.dpl() != self.cpl {
                return Err(e);
            }
            if !d.present() {
                return Err(fault(12, sel & 0xFFFC));
            }
        } else {
            if !(d.is_seg() && (!d.is_code() || d.readable_code())) {
                return Err(e);
            }
            if !d.conforming() && (rpl > d.dpl() || self.cpl > d.dpl()) {
                return Err(e);
            }
            if !d.present() {
                return Err(fault(11, sel & 0xFFFC));
            }
        }
        self.set_accessed(bus, &d)?;
        self.seg[s] = d.cache(sel, self.model);
        Ok(())
    }

    /// Load CS in real or v86 mode.
    fn load_cs_real(&mut self, sel: u16) {
        self.save_seg();
        let attr = if self.v86() { 0xFB } else { self.seg[CS].attr };
        let limit = if self.v86() {
            0xFFFF
        } else {
            self.seg[CS].limit
        };
        self.seg[CS] = SegCache {
            sel,
            base: (sel as u32) << 4,
            limit,
            attr,
            valid: true,
        };
    }

    /// Check a code-segment descriptor for a direct JMP/CALL.
    fn check_code_target(&self, d: &Desc, sel: u16) -> R<()> {
        let rpl = (sel & 3) as u8;
        if !d.is_code() {
            return Err(gp(sel & 0xFFFC));
        }
        if d.conforming() {
            if d.dpl() > self.cpl {
                return Err(gp(sel & 0xFFFC));
            }
        } else if rpl > self.cpl || d.dpl() != self.cpl {
            return Err(gp(sel & 0xFFFC));
        }
        if !d.present() {
            return Err(fault(11, sel & 0xFFFC));
        }
        Ok(())
    }

    fn set_cs<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        d: &Desc,
        sel: u16,
        cpl: u8,
        off: u32,
    ) -> R<()> {
        self.save_seg();
        let c = d.cache((sel & !3) | cpl as u16, self.model);
        if off > c.limit {
            return Err(gp(0));
        }
        self.set_accessed(bus, d)?;
        self.seg[CS] = c;
        self.cpl = cpl;
        self.eip = off;
        Ok(())
    }

    /// Top the far transfer in progress up from the real-mode count its
    /// instruction was charged (`xfer_base`) to the count of `k`.
    fn charge_xfer(&mut self, k: Xfer) {
        let t = clocks::xfer_clk(k, self.model);
        self.cycles += t.saturating_sub(u64::from(self.xfer_base));
    }

    /// [`Self::charge_xfer`] for the task switch just made, by the new
    /// task's TSS (TR now) and mode.
    fn charge_task(&mut self) {
        let k = Xfer::Task {
            tss286: self.tr.ty() & 8 == 0,
            v86: self.v86(),
        };
        self.charge_xfer(k);
    }

    /// JMP far.
    pub(crate) fn far_jmp<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        off: u32,
        o32: bool,
    ) -> R<()> {
        self.save_seg();
        let off = if o32 { off } else { off & 0xFFFF };
        if !self.pm() {
            if off > self.seg[CS].limit {
                return Err(gp(0));
            }
            self.load_cs_real(sel);
            self.eip = off;
            return Ok(());
        }
        if sel & 0xFFFC == 0 {
            return Err(gp(0));
        }
        let d = self.read_desc(bus, sel, gp(sel & 0xFFFC))?;
        if d.is_seg() {
            self.check_code_target(&d, sel)?;
            self.set_cs(bus, &d, sel, self.cpl, off)?;
            self.charge_xfer(Xfer::JmpPm);
            return Ok(());
        }
        let rpl = (sel & 3) as u8;
        match d.ty() {
            4 | 12 => {
                let (ts, cd) = self.call_gate_target(bus, sel, rpl, &d)?;
                if !cd.is_code()
                    || (cd.conforming() && cd.dpl() > self.cpl)
                    || (!cd.conforming() && cd.dpl() != self.cpl)
                {
                    return Err(gp(ts & 0xFFFC));
                }
                if !cd.present() {
                    return Err(fault(11, ts & 0xFFFC));
                }
                let off = d.gate_off();
                self.set_cs(bus, &cd, ts, self.cpl, off)?;
                self.charge_xfer(Xfer::JmpGate);
                Ok(())
            }
            1 | 5 | 9 => self.far_to_task(bus, sel, rpl, d, Switch::Jmp),
            _ => Err(gp(sel & 0xFFFC)),
        }
    }

    /// A far JMP or CALL through a call gate (types 4, 12): the gate's
    /// privilege and presence checks, then the target code segment's
    /// selector and descriptor (its own checks differ between JMP and CALL).
    fn call_gate_target<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        rpl: u8,
        d: &Desc,
    ) -> R<(u16, Desc)> {
        if d.dpl() < self.cpl || d.dpl() < rpl {
            return Err(gp(sel & 0xFFFC));
        }
        if !d.present() {
            return Err(fault(11, sel & 0xFFFC));
        }
        let ts = d.gate_sel();
        if ts & 0xFFFC == 0 {
            return Err(gp(0));
        }
        let cd = self.read_desc(bus, ts, gp(ts & 0xFFFC))?;
        Ok((ts, cd))
    }

    /// A far JMP or CALL naming a task gate (type 5) or an available TSS
    /// (types 1, 9): the same privilege checks for both transfers.
    fn far_to_task<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        rpl: u8,
        d: Desc,
        kind: Switch,
    ) -> R<()> {
        if d.dpl() < self.cpl || d.dpl() < rpl {
            return Err(gp(sel & 0xFFFC));
        }
        if d.ty() == 5 {
            if !d.present() {
                return Err(fault(11, sel & 0xFFFC));
            }
            let ts = d.gate_sel();
            self.task_gate_target(bus, ts, kind)?;
        } else {
            self.task_switch(bus, sel, d, kind)?;
        }
        self.charge_task();
        Ok(())
    }

    fn task_gate_target<B: Bus + ?Sized>(&mut self, bus: &mut B, ts: u16, kind: Switch) -> R<()> {
        if ts & 4 != 0 {
            return Err(gp(ts & 0xFFFC));
        }
        let td = self.read_desc(bus, ts, gp(ts & 0xFFFC))?;
        if td.is_seg() || !matches!(td.ty(), 1 | 9) {
            return Err(gp(ts & 0xFFFC));
        }
        self.task_switch(bus, ts, td, kind)
    }

    /// CALL far.
    pub(crate) fn far_call<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        off: u32,
        o32: bool,
        next: u32,
    ) -> R<()> {
        self.save_seg();
        let osz = if o32 { 4 } else { 2 };
        let off = if o32 { off } else { off & 0xFFFF };
        if !self.pm() {
            if off > self.seg[CS].limit {
                return Err(gp(0));
            }
            let cs = self.seg[CS].sel as u32;
            self.push(bus, osz, cs)?;
            self.push(bus, osz, next)?;
            self.load_cs_real(sel);
            self.eip = off;
            return Ok(());
        }
        if sel & 0xFFFC == 0 {
            return Err(gp(0));
        }
        let d = self.read_desc(bus, sel, gp(sel & 0xFFFC))?;
        let rpl = (sel & 3) as u8;
        if d.is_seg() {
            self.check_code_target(&d, sel)?;
            let c = d.cache(sel, self.model);
            if off > c.limit {
                return Err(gp(0));
            }
            let cs = self.seg[CS].sel as u32;
            self.push(bus, osz, cs)?;
            self.push(bus, osz, next)?;
            self.set_cs(bus, &d, sel, self.cpl, off)?;
            self.charge_xfer(Xfer::CallPm);
            return Ok(());
        }
        match d.ty() {
            4 | 12 => {
                let (ts, cd) = self.call_gate_target(bus, sel, rpl, &d)?;
                if !cd.is_code() || cd.dpl() > self.cpl {
                    return Err(gp(ts & 0xFFFC));
                }
                if !cd.present() {
                    return Err(fault(11, ts & 0xFFFC));
                }
                let gsz = if d.ty() == 12 { 4 } else { 2 };
                let goff = d.gate_off();
                if !cd.conforming() && cd.dpl() < self.cpl {
                    // Inter-privilege call: new stack from the TSS, parameters copied.
                    let ndpl = cd.dpl();
                    let (nss, nsp) = self.tss_stack(bus, ndpl)?;
                    let nssd = self.check_new_ss(bus, nss, ndpl)?;
                    let count = d.hi & 0x1F;
                    let old_ss = self.seg[SS].sel as u32;
                    let old_sp = self.r[4];
                    let old_s32 = self.stack32();
                    let mut params = Vec::with_capacity(count as usize);
                    for k in 0..count {
                        params.push(self.peek(bus, k * gsz, gsz)?);
                    }
                    let cs = self.seg[CS].sel as u32;
                    self.seg[SS] = nssd.cache(nss, self.model);
                    self.set_accessed(bus, &nssd)?;
                    self.r[4] = nsp;
                    let cpl0 = self.cpl;
                    self.cpl = ndpl;
                    let sp_val = if old_s32 { old_sp } else { old_sp & 0xFFFF };
                    let r = (|| -> R<()> {
                        self.push(bus, gsz, old_ss)?;
                        self.push(bus, gsz, sp_val)?;
                        for p in params.iter().rev() {
                            self.push(bus, gsz, *p)?;
                        }
                        self.push(bus, gsz, cs)?;
                        self.push(bus, gsz, next)
                    })();
                    if let Err(e) = r {
                        self.cpl = cpl0;
                        return Err(if e.vector == 12 {
                            fault(12, nss & 0xFFFC)
                        } else {
                            e
                        });
                    }
                    let goff = if gsz == 2 { goff & 0xFFFF } else { goff };
                    self.set_cs(bus, &cd, ts, ndpl, goff)?;
                    self.charge_xfer(Xfer::CallGateInner(count));
                    return Ok(());
                }
                let cs = self.seg[CS].sel as u32;
                self.push(bus, gsz, cs)?;
                self.push(bus, gsz, next)?;
                self.set_cs(bus, &cd, ts, self.cpl, goff)?;
                self.charge_xfer(Xfer::CallGate);
                Ok(())
            }
            1 | 5 | 9 => self.far_to_task(bus, sel, rpl, d, Switch::Call),
            _ => Err(gp(sel & 0xFFFC)),
        }
    }

    /// SS:ESP for privilege level `dpl` from the current TSS.
    fn tss_stack<B: Bus + ?Sized>(&mut self, bus: &mut B, dpl: u8) -> R<(u16, u32)> {
        let t = self.tr;
        let e = fault(10, t.sel & 0xFFFC);
        if t.ty() & 8 != 0 {
            let at = 4 + 8 * dpl as u32;
            if at + 7 > t.limit {
                return Err(e);
            }
            let sp = self.sys_read(bus, t.base.wrapping_add(at), 4)?;
            let ss = self.sys_read(bus, t.base.wrapping_add(at + 4), 2)? as u16;
            Ok((ss, sp))
        } else {
            let at = 2 + 4 * dpl as u32;
            if at + 3 > t.limit {
                return Err(e);
            }
            let sp = self.sys_read(bus, t.base.wrapping_add(at), 2)?;
            let ss = self.sys_read(bus, t.base.wrapping_add(at + 2), 2)? as u16;
            Ok((ss, sp))
        }
    }

    fn check_new_ss<B: Bus + ?Sized>(&mut self, bus: &mut B, ss: u16, dpl: u8) -> R<Desc> {
        let e = fault(10, ss & 0xFFFC);
        if ss & 0xFFFC == 0 {
            return Err(e);
        }
        let d = self.read_desc(bus, ss, e)?;
        if (ss & 3) as u8 != dpl || !d.writable_data() || d.dpl() != dpl {
            return Err(e);
        }
        if !d.present() {
            return Err(fault(12, ss & 0xFFFC));
        }
        Ok(d)
    }

    /// Check the code segment a RET or IRET returns to.
    fn check_return_cs<B: Bus + ?Sized>(&mut self, bus: &mut B, sel: u16) -> R<Desc> {
        if sel & 0xFFFC == 0 {
            return Err(gp(0));
        }
        let rpl = (sel & 3) as u8;
        let e = gp(sel & 0xFFFC);
        if rpl < self.cpl {
            return Err(e);
        }
        let d = self.read_desc(bus, sel, e)?;
        if !d.is_code() {
            return Err(e);
        }
        if d.conforming() {
            if d.dpl() > rpl {
                return Err(e);
            }
        } else if d.dpl() != rpl {
            return Err(e);
        }
        if !d.present() {
            return Err(fault(11, sel & 0xFFFC));
        }
        Ok(d)
    }

    /// Data segments the new (outer) level may not use become null.
    fn drop_inner_segments(&mut self) {
        self.save_seg();
        for s in [ES, DS, FS, GS] {
            let c = self.seg[s];
            let conforming = c.is_code() && c.ty() & 4 != 0;
            if c.valid && (!c.is_seg() || (!conforming && c.dpl() < self.cpl)) {
                self.seg[s] = SegCache {
                    sel: 0,
                    valid: false,
                    ..SegCache::default()
                };
            }
        }
    }

    /// RET far (with `extra` bytes of parameters to release).
    pub(crate) fn far_ret<B: Bus + ?Sized>(&mut self, bus: &mut B, o32: bool, extra: u32) -> R<()> {
        self.save_seg();
        let osz = if o32 { 4 } else { 2 };
        let off = self.peek(bus, 0, osz)?;
        let sel = self.peek(bus, osz, osz)? as u16;
        let off = if o32 { off } else { off & 0xFFFF };
        if !self.pm() {
            if off > self.seg[CS].limit {
                return Err(gp(0));
            }
            self.load_cs_real(sel);
            self.eip = off;
            let sp = self.sp().wrapping_add(2 * osz + extra);
            self.set_sp(sp);
            return Ok(());
        }
        let d = self.check_return_cs(bus, sel)?;
        let rpl = (sel & 3) as u8;
        if rpl == self.cpl {
            self.set_cs(bus, &d, sel, rpl, off)?;
            let sp = self.sp().wrapping_add(2 * osz + extra);
            self.set_sp(sp);
            self.charge_xfer(Xfer::RetPm);
            return Ok(());
        }
        let nsp = self.peek(bus, 2 * osz + extra, osz)?;
        let nss = self.peek(bus, 3 * osz + extra, osz)? as u16;
        let ssd = self.check_outer_ss(bus, nss, rpl)?;
        self.set_cs(bus, &d, sel, rpl, off)?;
        self.set_accessed(bus, &ssd)?;
        self.seg[SS] = ssd.cache(nss, self.model);
        let nsp = if o32 { nsp } else { nsp & 0xFFFF };
        if self.stack32() {
            self.r[4] = nsp.wrapping_add(extra);
        } else {
            self.r[4] = (self.r[4] & 0xFFFF_0000) | (nsp.wrapping_add(extra) & 0xFFFF);
        }
        self.drop_inner_segments();
        self.charge_xfer(Xfer::RetOuter);
        Ok(())
    }

    fn check_outer_ss<B: Bus + ?Sized>(&mut self, bus: &mut B, ss: u16, rpl: u8) -> R<Desc> {
        if ss & 0xFFFC == 0 {
            return Err(gp(0));
        }
        let e = gp(ss & 0xFFFC);
        let d = self.read_desc(bus, ss, e)?;
        if (ss & 3) as u8 != rpl || !d.writable_data() || d.dpl() != rpl {
            return Err(e);
        }
        if !d.present() {
            return Err(fault(12, ss & 0xFFFC));
        }
        Ok(d)
    }

    /// Load EFLAGS from an IRET image at the current privilege level.
    fn iret_flags(&mut self, v: u32, o32: bool) {
        let mut changeable = STATUS | TF | DF | NT | IF | IOPL | RF;
        if o32 {
            changeable |= AC | (1 << 21);
        }
        if self.cr[0] & 1 != 0 {
            if self.cpl > 0 {
                changeable &= !IOPL;
            } else if o32 {
                changeable |= vme::VIF | vme::VIP;
            }
            if self.cpl > (((self.eflags >> 12) & 3) as u8) {
                changeable &= !IF;
            }
        }
        if !o32 {
            changeable &= 0xFFFF;
        }
        let nv = (self.eflags & !changeable) | (v & changeable);
        self.load_eflags(nv);
        if self.model.generation() < 4 {
            self.eflags &= !(AC | (1 << 21));
        }
    }

    /// Pop IRET's frame the real-mode way (real and virtual-8086 mode):
    /// CS:IP with CS loaded as a real-mode selector, the stack past the
    /// frame; the FLAGS image is returned for the caller's own rules.
    pub(crate) fn iret_real_frame<B: Bus + ?Sized>(&mut self, bus: &mut B, o32: bool) -> R<u32> {
        let osz = if o32 { 4 } else { 2 };
        let off = self.peek(bus, 0, osz)?;
        let sel = self.peek(bus, osz, osz)? as u16;
        let fl = self.peek(bus, 2 * osz, osz)?;
        let off = if o32 { off } else { off & 0xFFFF };
        if off > self.seg[CS].limit {
            return Err(gp(0));
        }
        self.load_cs_real(sel);
        self.eip = off;
        let sp = self.sp().wrapping_add(3 * osz);
        self.set_sp(sp);
        Ok(fl)
    }

    /// IRET.
    pub(crate) fn iret<B: Bus + ?Sized>(&mut self, bus: &mut B, o32: bool) -> R<()> {
        self.save_seg();
        let osz = if o32 { 4 } else { 2 };
        if self.cr[0] & 1 == 0 {
            let fl = self.iret_real_frame(bus, o32)?;
            self.iret_flags(fl, o32);
            return Ok(());
        }
        if self.v86() {
            if (self.eflags >> 12) & 3 < 3 {
                return self.vme_iret(bus, o32);
            }
            let fl = self.iret_real_frame(bus, o32)?;
            // IOPL stays; VM and RF stay.
            let keep = self.eflags & (IOPL | VM | RF);
            let mut ch = STATUS | TF | DF | NT | IF;
            if o32 {
                ch |= AC;
            }
            let nv = (self.eflags & !ch) | (fl & ch);
            self.load_eflags((nv & !(IOPL | VM | RF)) | keep);
            return Ok(());
        }
        if self.eflags & NT != 0 {
            let back = self.sys_read(bus, self.tr.base, 2)? as u16;
            if back & 4 != 0 {
                return Err(fault(10, back & 0xFFFC));
            }
            let d = self.read_desc(bus, back, fault(10, back & 0xFFFC))?;
            if d.is_seg() || !matches!(d.ty(), 3 | 11) {
                return Err(fault(10, back & 0xFFFC));
            }
            self.task_switch(bus, back, d, Switch::Iret)?;
            self.charge_task();
            return Ok(());
        }
        let off = self.peek(bus, 0, osz)?;
        let sel = self.peek(bus, osz, osz)? as u16;
        let fl = self.peek(bus, 2 * osz, osz)?;
        if o32 && fl & VM != 0 && self.cpl == 0 {
            // Return to virtual-8086 mode.
            let nsp = self.peek(bus, 12, 4)?;
            let nss = self.peek(bus, 16, 4)? as u16;
            let es = self.peek(bus, 20, 4)? as u16;
            let ds = self.peek(bus, 24, 4)? as u16;
            let fs = self.peek(bus, 28, 4)? as u16;
            let gs = self.peek(bus, 32, 4)? as u16;
            self.load_eflags(fl);
            self.cpl = 3;
            for (s, v) in [(CS, sel), (SS, nss), (ES, es), (DS, ds), (FS, fs), (GS, gs)] {
                self.seg[s] = SegCache {
                    sel: v,
                    base: (v as u32) << 4,
                    limit: 0xFFFF,
                    attr: if s == CS { 0xFB } else { 0xF3 },
                    valid: true,
                };
            }
            self.r[4] = nsp;
            self.eip = off & 0xFFFF;
            self.charge_xfer(Xfer::IretOuter);
            return Ok(());
        }
        let d = self.check_return_cs(bus, sel)?;
        let rpl = (sel & 3) as u8;
        let off = if o32 { off } else { off & 0xFFFF };
        if rpl == self.cpl {
            self.set_cs(bus, &d, sel, rpl, off)?;
            let sp = self.sp().wrapping_add(3 * osz);
            self.set_sp(sp);
            self.iret_flags(fl, o32);
            self.charge_xfer(Xfer::IretPm);
            return Ok(());
        }
        let nsp = self.peek(bus, 3 * osz, osz)?;
        let nss = self.peek(bus, 4 * osz, osz)? as u16;
        let ssd = self.check_outer_ss(bus, nss, rpl)?;
        let cpl0 = self.cpl;
        self.set_cs(bus, &d, sel, rpl, off)?;
        // Flags are judged by the privilege the IRET ran at.
        self.cpl = cpl0;
        self.iret_flags(fl, o32);
        self.cpl = rpl;
        self.set_accessed(bus, &ssd)?;
        self.seg[SS] = ssd.cache(nss, self.model);
        let nsp = if o32 { nsp } else { nsp & 0xFFFF };
        if self.stack32() {
            self.r[4] = nsp;
        } else {
            self.r[4] = (self.r[4] & 0xFFFF_0000) | (nsp & 0xFFFF);
        }
        self.drop_inner_segments();
        self.charge_xfer(Xfer::IretOuter);
        Ok(())
    }

    /// Deliver interrupt or exception `v`.
    pub(crate) fn interrupt<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        v: u8,
        code: Option<u16>,
        kind: IntKind,
    ) -> R<()> {
        // The pushed (or task-saved) EFLAGS must hold the current status flags.
        self.flags_sync();
        self.save_seg();
        self.halted = false;
        if self.cr[0] & 1 == 0 {
            let at = v as u32 * 4;
            if at + 3 > self.idtr.1 as u32 {
                return Err(gp(0));
            }
            let off = self.sys_read(bus, self.idtr.0.wrapping_add(at), 2)?;
            let sel = self.sys_read(bus, self.idtr.0.wrapping_add(at + 2), 2)? as u16;
            let fl = self.eflags & 0xFFFF;
            let cs = self.seg[CS].sel as u32;
            self.push(bus, 2, fl)?;
            self.push(bus, 2, cs)?;
            self.push(bus, 2, self.eip & 0xFFFF)?;
            self.eflags &= !(IF | TF | AC | RF);
            self.load_cs_real(sel);
            self.eip = off;
            return Ok(());
        }
        let ext = (kind != IntKind::Soft) as u16;
        let idt_err = (v as u16) * 8 + 2 + ext;
        let at = v as u32 * 8;
        if at + 7 > self.idtr.1 as u32 {
            return Err(gp(idt_err));
        }
        let lo = self.sys_read(bus, self.idtr.0.wrapping_add(at), 4)?;
        let hi = self.sys_read(bus, self.idtr.0.wrapping_add(at + 4), 4)?;
        let g = Desc { lo, hi, at: 0 };
        if g.is_seg() || !matches!(g.ty(), 5 | 6 | 7 | 14 | 15) {
            return Err(gp(idt_err));
        }
        if kind == IntKind::Soft && g.dpl() < self.cpl {
            return Err(gp(idt_err));
        }
        if !g.present() {
            return Err(fault(11, idt_err));
        }
        if g.ty() == 5 {
            let ts = g.gate_sel();
            if ts & 4 != 0 {
                return Err(fault(10, ts & 0xFFFC));
            }
            let td = self.read_desc(bus, ts, fault(10, ts & 0xFFFC))?;
            if td.is_seg() || !matches!(td.ty(), 1 | 9) {
                return Err(fault(10, ts & 0xFFFC));
            }
            self.task_switch(bus, ts, td, Switch::Int)?;
            if let Some(c) = code {
                let sz = if td.ty() == 9 { 4 } else { 2 };
                self.push(bus, sz, c as u32)?;
            }
            if kind == IntKind::Soft {
                self.charge_task();
            }
            return Ok(());
        }
        let sel = g.gate_sel();
        if sel & 0xFFFC == 0 {
            return Err(gp(ext));
        }
        let d = self.read_desc(bus, sel, gp((sel & 0xFFFC) + ext))?;
        if !d.is_code() || d.dpl() > self.cpl {
            return Err(gp((sel & 0xFFFC) + ext));
        }
        if !d.present() {
            return Err(fault(11, (sel & 0xFFFC) + ext));
        }
        let gsz: u32 = if g.ty() & 8 != 0 { 4 } else { 2 };
        let off = if gsz == 2 {
            g.gate_off() & 0xFFFF
        } else {
            g.gate_off()
        };
        // Faults (all exceptions here but #DB, whose fault form is the
        // instruction breakpoint; general detect sets RF itself) push RF set
        // so that the restarted instruction skips its instruction breakpoint.
        let old_flags = if kind == IntKind::Exception && v != 1 {
            self.eflags | RF
        } else {
            self.eflags
        };
        let cs = self.seg[CS].sel as u32;
        let eip = self.eip;
        if !d.conforming() && d.dpl() < self.cpl {
            let ndpl = d.dpl();
            let vm = self.v86();
            if vm && ndpl != 0 {
                return Err(gp(sel & 0xFFFC));
            }
            let (nss, nsp) = self.tss_stack(bus, ndpl)?;
            let nssd = self.check_new_ss(bus, nss, ndpl)?;
            let old_ss = self.seg[SS].sel as u32;
            let old_sp = self.r[4];
            let saved = self.seg;
            self.seg[SS] = nssd.cache(nss, self.model);
            self.r[4] = nsp;
            self.cpl = ndpl;
            self.eflags &= !VM;
            let r = (|| -> R<()> {
                if vm {
                    self.push(bus, gsz, saved[GS].sel as u32)?;
                    self.push(bus, gsz, saved[FS].sel as u32)?;
                    self.push(bus, gsz, saved[DS].sel as u32)?;
                    self.push(bus, gsz, saved[ES].sel as u32)?;
                }
                self.push(bus, gsz, old_ss)?;
                self.push(bus, gsz, old_sp)?;
                self.push(bus, gsz, old_flags)?;
                self.push(bus, gsz, cs)?;
                self.push(bus, gsz, eip)?;
                if let Some(c) = code {
                    self.push(bus, gsz, c as u32)?;
                }
                Ok(())
            })();
            if let Err(e) = r {
                return Err(if e.vector == 12 {
                    fault(12, (nss & 0xFFFC) + ext)
                } else {
                    e
                });
            }
            self.set_accessed(bus, &nssd)?;
            if vm {
                for s in [ES, DS, FS, GS] {
                    self.seg[s] = SegCache::default();
                }
            }
            self.set_cs(bus, &d, sel, ndpl, off)?;
            if kind == IntKind::Soft {
                self.charge_xfer(if vm { Xfer::IntV86 } else { Xfer::IntInner });
            }
        } else {
            if self.v86() {
                return Err(gp(sel & 0xFFFC));
            }
            self.push(bus, gsz, old_flags)?;
            self.push(bus, gsz, cs)?;
            self.push(bus, gsz, eip)?;
            if let Some(c) = code {
                self.push(bus, gsz, c as u32)?;
            }
            let cpl = self.cpl;
            self.set_cs(bus, &d, sel, cpl, off)?;
            if kind == IntKind::Soft {
                self.charge_xfer(Xfer::IntPm);
            }
        }
        self.eflags &= !(TF | NT | VM | RF);
        if g.ty() & 1 == 0 {
            self.eflags &= !IF;
        }
        Ok(())
    }

    /// LLDT.
    pub(crate) fn lldt<B: Bus + ?Sized>(&mut self, bus: &mut B, sel: u16) -> R<()> {
        if sel & 0xFFFC == 0 {
            self.ldtr = SegCache {
                sel,
                valid: false,
                ..SegCache::default()
            };
            return Ok(());
        }
        let e = gp(sel & 0xFFFC);
        if sel & 4 != 0 {
            return Err(e);
        }
        let d = self.read_desc(bus, sel, e)?;
        if d.is_seg() || d.ty() != 2 {
            return Err(e);
        }
        if !d.present() {
            return Err(fault(11, sel & 0xFFFC));
        }
        self.ldtr = d.cache(sel, self.model);
        Ok(())
    }

    /// LTR: marks the TSS busy.
    pub(crate) fn ltr<B: Bus + ?Sized>(&mut self, bus: &mut B, sel: u16) -> R<()> {
        if sel & 0xFFFC == 0 {
            return Err(gp(0));
        }
        let e = gp(sel & 0xFFFC);
        if sel & 4 != 0 {
            return Err(e);
        }
        let d = self.read_desc(bus, sel, e)?;
        if d.is_seg() || !matches!(d.ty(), 1 | 9) {
            return Err(e);
        }
        if !d.present() {
            return Err(fault(11, sel & 0xFFFC));
        }
        self.sys_write(bus, d.at.wrapping_add(5), 1, (d.access() | 2) as u32)?;
        let mut c = d.cache(sel, self.model);
        c.attr |= 2;
        self.tr = c;
        Ok(())
    }

    /// VERR / VERW.
    pub(crate) fn verify<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        write: bool,
    ) -> R<bool> {
        if sel & 0xFFFC == 0 {
            return Ok(false);
        }
        let Ok(d) = self.read_desc(bus, sel, gp(0)) else {
            return Ok(false);
        };
        if !d.is_seg() {
            return Ok(false);
        }
        let rpl = (sel & 3) as u8;
        if !d.conforming() && (d.dpl() < self.cpl || d.dpl() < rpl) {
            return Ok(false);
        }
        Ok(if write {
            d.writable_data()
        } else {
            !d.is_code() || d.readable_code()
        })
    }

    /// LAR (`lar`) or LSL: the value, or None when ZF is to be cleared.
    pub(crate) fn lar_lsl<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        lar: bool,
    ) -> R<Option<u32>> {
        if sel & 0xFFFC == 0 {
            return Ok(None);
        }
        let Ok(d) = self.read_desc(bus, sel, gp(0)) else {
            return Ok(None);
        };
        let rpl = (sel & 3) as u8;
        if d.is_seg() {
            if !d.conforming() && (d.dpl() < self.cpl || d.dpl() < rpl) {
                return Ok(None);
            }
        } else {
            let ok = if lar {
                matches!(d.ty(), 1 | 2 | 3 | 4 | 5 | 9 | 11 | 12)
            } else {
                matches!(d.ty(), 1 | 2 | 3 | 9 | 11)
            };
            if !ok || d.dpl() < self.cpl || d.dpl() < rpl {
                return Ok(None);
            }
        }
        Ok(Some(if lar {
            d.hi & 0x00FF_FF00
        } else {
            d.cache(sel, self.model).limit
        }))
    }

    /// Switch to the task whose TSS descriptor is `d` (selector `sel`).
    pub(crate) fn task_switch<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        sel: u16,
        d: Desc,
        kind: Switch,
    ) -> R<()> {
        self.save_seg();
        let nt32 = d.ty() & 8 != 0;
        let busy = d.ty() & 2 != 0;
        if kind == Switch::Iret {
            if !busy {
                return Err(fault(10, sel & 0xFFFC));
            }
        } else if busy {
            return Err(gp(sel & 0xFFFC));
        }
        if !d.present() {
            return Err(fault(11, sel & 0xFFFC));
        }
        let nc = d.cache(sel, self.model);
        if nc.limit < if nt32 { 0x67 } else { 0x2B } {
            return Err(fault(10, sel & 0xFFFC));
        }
        // Save the outgoing task.
        let old = self.tr;
        let ob = old.base;
        let mut fl = self.eflags;
        if kind == Switch::Iret {
            fl &= !NT;
        }
        if old.ty() & 8 != 0 {
            self.sys_write(bus, ob + 0x20, 4, self.eip)?;
            self.sys_write(bus, ob + 0x24, 4, fl)?;
            for k in 0..8 {
                self.sys_write(bus, ob + 0x28 + 4 * k, 4, self.r[k as usize])?;
            }
            for s in 0..6 {
                self.sys_write(bus, ob + 0x48 + 4 * s as u32, 2, self.seg[s].sel as u32)?;
            }
        } else {
            self.sys_write(bus, ob + 0x0E, 2, self.eip)?;
            self.sys_write(bus, ob + 0x10, 2, fl)?;
            for k in 0..8 {
                self.sys_write(bus, ob + 0x12 + 2 * k, 2, self.r[k as usize])?;
            }
            for s in 0..4 {
                self.sys_write(bus, ob + 0x22 + 2 * s as u32, 2, self.seg[s].sel as u32)?;
            }
        }
        // Read the incoming task's state before touching anything else.
        let nb = nc.base;
        let mut regs = [0u32; 8];
        let mut sels = [0u16; 6];
        let (neip, nfl, ldt, cr3, trap);
        if nt32 {
            cr3 = Some(self.sys_read(bus, nb + 0x1C, 4)?);
            neip = self.sys_read(bus, nb + 0x20, 4)?;
            nfl = self.sys_read(bus, nb + 0x24, 4)?;
            for k in 0..8 {
                regs[k] = self.sys_read(bus, nb + 0x28 + 4 * k as u32, 4)?;
            }
            for (s, v) in sels.iter_mut().enumerate() {
                *v = self.sys_read(bus, nb + 0x48 + 4 * s as u32, 2)? as u16;
            }
            ldt = self.sys_read(bus, nb + 0x60, 2)? as u16;
            trap = self.sys_read(bus, nb + 0x64, 2)? & 1 != 0;
        } else {
            trap = false;
            cr3 = None;
            neip = self.sys_read(bus, nb + 0x0E, 2)?;
            nfl = self.sys_read(bus, nb + 0x10, 2)?;
            for k in 0..8 {
                regs[k] = 0xFFFF_0000 | self.sys_read(bus, nb + 0x12 + 2 * k as u32, 2)?;
            }
            for s in 0..4 {
                sels[s] = self.sys_read(bus, nb + 0x22 + 2 * s as u32, 2)? as u16;
            }
            ldt = self.sys_read(bus, nb + 0x2A, 2)? as u16;
        }
        // Busy bits and the back link.
        if matches!(kind, Switch::Jmp | Switch::Iret) {
            let od = self.read_desc(bus, old.sel, gp(old.sel & 0xFFFC))?;
            self.sys_write(bus, od.at + 5, 1, (od.access() & !2) as u32)?;
        }
        if matches!(kind, Switch::Call | Switch::Int) {
            self.sys_write(bus, nb, 2, old.sel as u32)?;
        }
        if kind != Switch::Iret {
            self.sys_write(bus, d.at + 5, 1, (d.access() | 2) as u32)?;
        }
        self.tr = nc;
        self.tr.attr |= 2;
        if trap {
            // The T bit: #DB with DR6.BT once the switch is done (debug.rs).
            self.dbg.hits |= debug::HIT_TASK_SWITCH;
        }
        self.cr[0] |= 8;
        self.x87_regate();
        // Load the new state; faults from here on belong to the new task.
        if let Some(c3) = cr3 {
            if self.cr[0] & 0x8000_0000 != 0 {
                self.cr[3] = c3 & 0xFFFF_F018;
                self.flush_tlb();
            }
        }
        self.eip = neip;
        let mut nfl = nfl;
        if matches!(kind, Switch::Call | Switch::Int) {
            nfl |= NT;
        }
        if nt32 {
            self.load_eflags(nfl);
        } else {
            self.load_eflags((self.eflags & 0xFFFF_0000 & !VM) | (nfl & 0xFFFF));
        }
        // From a 286 TSS the 386 fills the upper halves with ones (as test386 checks).
        self.r = regs;
        // Selectors first without checks, so a fault reports the new task's state.
        for s in 0..6 {
            self.seg[s].sel = sels[s];
        }
        self.ldtr.sel = ldt;
        // Save the new state as the restart point: faults now are in the new task.
        self.snap_regs();
        if self.v86() {
            self.cpl = 3;
            for s in 0..6 {
                let v = sels[s];
                self.seg[s] = SegCache {
                    sel: v,
                    base: (v as u32) << 4,
                    limit: 0xFFFF,
                    attr: if s == CS { 0xFB } else { 0xF3 },
                    valid: true,
                };
            }
            self.ldt_for_task(bus, ldt)?;
            self.snap.seg = self.seg;
            self.snap.cpl = self.cpl;
            return Ok(());
        }
        self.ldt_for_task(bus, ldt)?;
        let cs = sels[CS];
        self.cpl = (cs & 3) as u8;
        let tsf = |s: u16| fault(10, s & 0xFFFC);
        if cs & 0xFFFC == 0 {
            return Err(tsf(cs));
        }
        let cd = self.read_desc(bus, cs, tsf(cs))?;
        if !cd.is_code()
            || (!cd.conforming() && cd.dpl() != self.cpl)
            || (cd.conforming() && cd.dpl() > self.cpl)
        {
            return Err(tsf(cs));
        }
        if !cd.present() {
            return Err(fault(11, cs & 0xFFFC));
        }
        self.set_accessed(bus, &cd)?;
        self.seg[CS] = cd.cache(cs, self.model);
        let ss = sels[SS];
        if ss & 0xFFFC == 0 {
            return Err(tsf(ss));
        }
        let sd = self.read_desc(bus, ss, tsf(ss))?;
        if !sd.writable_data() || sd.dpl() != self.cpl || (ss & 3) as u8 != self.cpl {
            return Err(tsf(ss));
        }
        if !sd.present() {
            return Err(fault(12, ss & 0xFFFC));
        }
        self.set_accessed(bus, &sd)?;
        self.seg[SS] = sd.cache(ss, self.model);
        for s in [ES, DS, FS, GS] {
            let v = sels[s];
            if !nt32 && s >= FS {
                self.seg[s] = SegCache::default();
                continue;
            }
            if v & 0xFFFC == 0 {
                self.seg[s] = SegCache {
                    sel: v,
                    valid: false,
                    ..SegCache::default()
                };
                continue;
            }
            let dd = self.read_desc(bus, v, tsf(v))?;
            let rpl = (v & 3) as u8;
            if !dd.is_seg()
                || (dd.is_code() && !dd.readable_code())
                || (!dd.conforming() && (dd.dpl() < self.cpl || dd.dpl() < rpl))
            {
                return Err(tsf(v));
            }
            if !dd.present() {
                return Err(fault(11, v & 0xFFFC));
            }
            self.set_accessed(bus, &dd)?;
            self.seg[s] = dd.cache(v, self.model);
        }
        if self.eip > self.seg[CS].limit {
            return Err(gp(0));
        }
        self.snap.seg = self.seg;
        self.snap.cpl = self.cpl;
        Ok(())
    }

    fn ldt_for_task<B: Bus + ?Sized>(&mut self, bus: &mut B, ldt: u16) -> R<()> {
        if ldt & 0xFFFC == 0 {
            self.ldtr = SegCache {
                sel: ldt,
                valid: false,
                ..SegCache::default()
            };
            return Ok(());
        }
        let e = fault(10, ldt & 0xFFFC);
        if ldt & 4 != 0 {
            return Err(e);
        }
        let d = self.read_desc(bus, ldt, e)?;
        if d.is_seg() || d.ty() != 2 || !d.present() {
            return Err(e);
        }
        self.ldtr = d.cache(ldt, self.model);
        Ok(())
    }
}
