//! Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
//! interrupts (CR4.PVI), Pentium on.
//!
//! The rules (Intel SDM vol. 3, "Virtual-8086 Mode Extensions",
//! "Class 2 — Maskable Hardware Interrupt Handling … Using the Virtual
//! Interrupt Mechanism", "Class 3 — Software Interrupt Handling" with its
//! table of six methods, "Protected-Mode Virtual Interrupts"; vol. 2, CLI,
//! STI, PUSHF, POPF; AMD APM vol. 3, IRET, whose pseudocode spells out the
//! VME path the Intel one leaves to vol. 3):
//! - With CR4.VME in virtual-8086 mode and IOPL < 3, EFLAGS.VIF stands in
//!   for IF: CLI clears VIF, STI sets it (#GP(0) if VIP is set), PUSHF
//!   pushes FLAGS with VIF in the IF bit and IOPL as 3, POPF and IRET (16-bit
//!   operand size only; the 32-bit forms stay #GP(0)) load VIF from the
//!   popped IF and leave IF and IOPL alone — #GP(0) when the popped TF is set
//!   or the popped IF is set while VIP is.
//! - INT n in virtual-8086 mode consults the interrupt redirection bitmap
//!   (the 32 bytes below the TSS's I/O map base) when VME is on: a clear bit
//!   redirects the interrupt to the 8086 program's vector table at linear
//!   0 (methods 5 and 6), a set bit sends it through the IDT (method 4) or,
//!   with IOPL < 3, to #GP(0) (method 3). Without VME: the IDT with IOPL 3
//!   (method 1), #GP(0) otherwise (method 2). INT3, INTO and external
//!   interrupts never use the bitmap.
//! - With CR4.PVI at CPL 3 in protected mode and IOPL < 3, CLI and STI act
//!   on VIF the same way; PVI changes nothing else.
//!
//! Hooks: the CLI/STI/PUSHF/POPF arms of `exec.rs` call here where the
//! IOPL check would have raised #GP(0); `soft_int` asks [`Cpu32::v86_int_n`]
//! first; `prot.rs`'s IRET from virtual-8086 mode calls
//! [`Cpu32::vme_iret`] where IOPL < 3.

use super::width::*;
use super::*;

/// CR4.VME: virtual-8086 mode extensions.
pub(crate) const CR4_VME: u32 = 1 << 0;
/// CR4.PVI: protected-mode virtual interrupts.
pub(crate) const CR4_PVI: u32 = 1 << 1;
/// EFLAGS.VIF: the virtual image of IF.
pub const VIF: u32 = 1 << 19;
/// EFLAGS.VIP: a virtual interrupt is pending (written only by software).
pub const VIP: u32 = 1 << 20;

impl Cpu32 {
    fn vme_iopl(&self) -> u32 {
        (self.eflags >> 12) & 3
    }

    /// VIF stands in for IF for CLI/STI: virtual-8086 mode with VME, or
    /// CPL 3 in protected mode with PVI; both only while IOPL < 3.
    fn virtual_if(&self) -> bool {
        if self.vme_iopl() == 3 || self.cr[0] & 1 == 0 {
            return false;
        }
        if self.v86() {
            self.cr[4] & CR4_VME != 0
        } else {
            self.cpl == 3 && self.cr[4] & CR4_PVI != 0
        }
    }

    /// CLI or STI (`set`) when the IOPL check refused it: VIF instead of IF
    /// under VME/PVI (STI with VIP set is #GP(0), so the monitor can deliver
    /// the pending interrupt), #GP(0) otherwise. No interrupt shadow: IF
    /// does not change.
    pub(crate) fn virtual_cli_sti(&mut self, set: bool) -> R<()> {
        if !self.virtual_if() {
            return Err(gp(0));
        }
        if set {
            if self.eflags & VIP != 0 {
                return Err(gp(0));
            }
            self.eflags |= VIF;
        } else {
            self.eflags &= !VIF;
        }
        Ok(())
    }

    /// 16-bit operand size in virtual-8086 mode with VME: the only form of
    /// PUSHF/POPF/IRET that IOPL < 3 lets through.
    fn vme_o16(&self, osz: u32) -> R<()> {
        if self.cr[4] & CR4_VME == 0 || osz != 2 {
            return Err(gp(0));
        }
        Ok(())
    }

    /// PUSHF in virtual-8086 mode with IOPL < 3.
    pub(crate) fn vme_pushf<B: Bus + ?Sized>(&mut self, bus: &mut B, osz: u32) -> R<()> {
        self.vme_o16(osz)?;
        let v = self.flags_image_for_v86();
        self.push(bus, 2, v)
    }

    /// FLAGS as the 8086 program sees it under VME with IOPL < 3: VIF in the
    /// IF bit and IOPL 3.
    fn flags_image_for_v86(&self) -> u32 {
        let vif = if self.eflags & VIF != 0 { IF } else { 0 };
        (self.eflags & 0xFFFF & !IF) | vif | IOPL
    }

    /// Load FLAGS popped by POPF or IRET under VME with IOPL < 3: #GP(0) for
    /// a set TF, or a set IF while VIP is set; otherwise IF's image goes to
    /// VIF and the rest but IOPL to FLAGS.
    fn vme_load_flags(&mut self, v: u32) -> R<()> {
        if v & TF != 0 || (v & IF != 0 && self.eflags & VIP != 0) {
            return Err(gp(0));
        }
        let ch = STATUS | TF | DF | NT;
        let vif = if v & IF != 0 { VIF } else { 0 };
        self.eflags = (self.eflags & !(ch | VIF)) | (v & ch) | vif;
        Ok(())
    }

    /// POPF in virtual-8086 mode with IOPL < 3.
    pub(crate) fn vme_popf<B: Bus + ?Sized>(&mut self, bus: &mut B, osz: u32) -> R<()> {
        self.vme_o16(osz)?;
        let v = self.pop(bus, 2)?;
        self.vme_load_flags(v)
    }

    /// IRET in virtual-8086 mode with IOPL < 3.
    pub(crate) fn vme_iret<B: Bus + ?Sized>(&mut self, bus: &mut B, o32: bool) -> R<()> {
        self.vme_o16(if o32 { 4 } else { 2 })?;
        let fl = self.iret_real_frame(bus, false)?;
        self.vme_load_flags(fl)
    }

    /// INT n in virtual-8086 mode: `Ok(true)` when it was redirected to the
    /// 8086 program's vector table (done), `Ok(false)` when it goes through
    /// the IDT as on the 386, #GP(0) for methods 2 and 3.
    pub(crate) fn v86_int_n<B: Bus + ?Sized>(&mut self, bus: &mut B, v: u8) -> R<bool> {
        let iopl3 = self.vme_iopl() == 3;
        if self.cr[4] & CR4_VME == 0 || self.redirection_bit(bus, v)? {
            return if iopl3 { Ok(false) } else { Err(gp(0)) };
        }
        self.v86_redirect(bus, v, iopl3)?;
        Ok(true)
    }

    /// Bit `v` of the TSS's interrupt redirection bitmap (set: not
    /// redirected). The bitmap ends at the I/O map base; a 286 TSS, or a
    /// byte past the TSS limit, is #GP(0).
    fn redirection_bit<B: Bus + ?Sized>(&mut self, bus: &mut B, v: u8) -> R<bool> {
        if !self.tr.valid || self.tr.ty() & 8 == 0 || self.tr.limit < 0x67 {
            return Err(gp(0));
        }
        let iobase = self.sys_read(bus, self.tr.base.wrapping_add(0x66), 2)?;
        let at = iobase.wrapping_sub(32).wrapping_add(v as u32 >> 3);
        if at > self.tr.limit {
            return Err(gp(0));
        }
        let byte = self.sys_read(bus, self.tr.base.wrapping_add(at), 1)?;
        Ok(byte >> (v & 7) & 1 != 0)
    }

    /// Methods 5 (IOPL 3) and 6: the real-mode interrupt sequence inside
    /// the virtual-8086 task, through the vector table at linear 0. Method
    /// 5 pushes FLAGS and clears IF; method 6 pushes FLAGS with VIF as IF
    /// and IOPL 3 and clears VIF. Both clear TF.
    fn v86_redirect<B: Bus + ?Sized>(&mut self, bus: &mut B, v: u8, iopl3: bool) -> R<()> {
        self.save_seg();
        // The vector table is read as the 8086 program would (CPL 3, paged).
        let off = self.lin_read(bus, v as u32 * 4, 2, true)?;
        let sel = self.lin_read(bus, v as u32 * 4 + 2, 2, true)? as u16;
        let fl = if iopl3 {
            self.eflags & 0xFFFF
        } else {
            self.flags_image_for_v86()
        };
        self.push(bus, 2, fl)?;
        self.push(bus, 2, self.seg[CS].sel as u32)?;
        self.push(bus, 2, self.eip & 0xFFFF)?;
        self.eflags &= !(TF | if iopl3 { IF } else { VIF });
        self.seg[CS] = SegCache {
            sel,
            base: (sel as u32) << 4,
            limit: 0xFFFF,
            attr: 0xFB,
            valid: true,
        };
        self.eip = off;
        Ok(())
    }
}
