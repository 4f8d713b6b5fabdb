//! Instruction semantics: one function per family, generic over width.

use super::decode::Insn;
use super::mem::Acc;
use super::width::*;
use super::*;

macro_rules! by_width {
    ($sz:expr, $f:ident $(:: $g:ident)? ($($a:expr),*)) => {
        match $sz {
            1 => $f::<W8>($($a),*),
            2 => $f::<W16>($($a),*),
            _ => $f::<W32>($($a),*),
        }
    };
}

fn mask(sz: u32) -> u32 {
    match sz {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => 0xFFFF_FFFF,
    }
}

fn sext_sz(v: u32, sz: u32) -> u32 {
    match sz {
        1 => v as u8 as i8 as i32 as u32,
        2 => v as u16 as i16 as i32 as u32,
        _ => v,
    }
}

/// The mask of EIP's significant bits in code of size `d32`: all 32, or
/// (16-bit code) the low 16, where the offset wraps.
#[inline(always)]
pub(crate) fn ip_mask(d32: bool) -> u32 {
    if d32 {
        u32::MAX
    } else {
        0xFFFF
    }
}

impl Cpu32 {
    /// Register `n` of width `sz` (byte registers AL..BH).
    #[inline]
    pub(crate) fn reg(&self, sz: u32, n: usize) -> u32 {
        match sz {
            1 => {
                if n < 4 {
                    self.r[n] & 0xFF
                } else {
                    (self.r[n - 4] >> 8) & 0xFF
                }
            }
            2 => self.r[n] & 0xFFFF,
            _ => self.r[n],
        }
    }

    #[inline]
    pub(crate) fn set_reg(&mut self, sz: u32, n: usize, v: u32) {
        match sz {
            1 => {
                if n < 4 {
                    self.r[n] = (self.r[n] & !0xFF) | (v & 0xFF);
                } else {
                    self.r[n - 4] = (self.r[n - 4] & !0xFF00) | ((v & 0xFF) << 8);
                }
            }
            2 => self.r[n] = (self.r[n] & 0xFFFF_0000) | (v & 0xFFFF),
            _ => self.r[n] = v,
        }
    }

    /// Read the r/m operand.
    pub(crate) fn read_e<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, sz: u32) -> R<u32> {
        if i.mem {
            let a = self.ea(i);
            self.rd(bus, i.mseg(), a, sz)
        } else {
            Ok(self.reg(sz, i.rm()))
        }
    }

    /// Write the r/m operand.
    pub(crate) fn write_e<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        sz: u32,
        v: u32,
    ) -> R<()> {
        if i.mem {
            let a = self.ea(i);
            self.wr(bus, i.mseg(), a, sz, v)
        } else {
            self.set_reg(sz, i.rm(), v);
            Ok(())
        }
    }

    /// Check ahead that the r/m operand is writable (for read-modify-write
    /// forms that must not fault after a partial update).
    fn check_write_e<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, sz: u32) -> R<()> {
        if i.mem {
            let a = self.ea(i);
            let lin = self.seg_lin(i.mseg(), a, sz, Acc::Write)?;
            let u = self.user();
            self.probe_write(bus, lin, sz, u)?;
        }
        Ok(())
    }

    /// A taken Jcc, LOOPcc or JCXZ: the near jump, then the taken count's
    /// clocks over the not-taken one the decoder charged (`extra`:
    /// `clocks::taken_delta`, never negative, kept in `Insn::imm2`).
    /// Inlined into the forms (a call, its result's packing and the
    /// caller's unpacking cost ~12 host instructions per taken branch).
    #[inline(always)]
    pub(crate) fn jump_taken(&mut self, target: u32, o32: bool, extra: u16) -> R<()> {
        let t = if o32 { target } else { target & 0xFFFF };
        if t > self.seg[CS].limit {
            return Err(gp(0));
        }
        self.eip = t;
        self.cycles = self.cycles.wrapping_add(u64::from(extra));
        Ok(())
    }

    /// Near jump within CS.
    pub(crate) fn jump_near(&mut self, target: u32, o32: bool) -> R<()> {
        let t = if o32 { target } else { target & 0xFFFF };
        if t > self.seg[CS].limit {
            return Err(gp(0));
        }
        self.eip = t;
        Ok(())
    }

    fn iopl(&self) -> u8 {
        ((self.eflags >> 12) & 3) as u8
    }

    /// IOPL-sensitive instructions: CPL must not exceed IOPL (v86: IOPL 3).
    fn check_iopl(&self) -> R<()> {
        if (self.cr[0] & 1 != 0)
            && (self.v86() && self.iopl() < 3 || !self.v86() && self.cpl > self.iopl())
        {
            return Err(gp(0));
        }
        Ok(())
    }

    fn check_cpl0(&self) -> R<()> {
        if self.v86() || (self.cr[0] & 1 != 0 && self.cpl != 0) {
            return Err(gp(0));
        }
        Ok(())
    }

    /// I/O permission: IOPL, then the TSS bitmap.
    pub(crate) fn check_io<B: Bus + ?Sized>(&mut self, bus: &mut B, port: u16, len: u32) -> R<()> {
        if self.cr[0] & 1 == 0 || (!self.v86() && self.cpl <= self.iopl()) {
            return Ok(());
        }
        // Only a 386 TSS has a bitmap.
        if !self.tr.valid || self.tr.ty() & 8 == 0 || self.tr.limit < 0x67 {
            return Err(gp(0));
        }
        let base = self.sys_read(bus, self.tr.base.wrapping_add(0x66), 2)?;
        let at = base + (port as u32 >> 3);
        if at + 1 > self.tr.limit {
            return Err(gp(0));
        }
        let bits = self.sys_read(bus, self.tr.base.wrapping_add(at), 2)?;
        let m = ((1u32 << len) - 1) << (port & 7);
        if bits & m != 0 {
            return Err(gp(0));
        }
        Ok(())
    }

    fn io_in<B: Bus + ?Sized>(&mut self, bus: &mut B, port: u16, sz: u32) -> R<u32> {
        self.check_io(bus, port, sz)?;
        self.io_breakpoint(port, sz);
        Ok(match sz {
            1 => bus.io_read(port) as u32,
            2 => bus.io_read16(port) as u32,
            _ => bus.io_read32(port),
        })
    }

    fn io_out<B: Bus + ?Sized>(&mut self, bus: &mut B, port: u16, sz: u32, v: u32) -> R<()> {
        self.check_io(bus, port, sz)?;
        self.io_breakpoint(port, sz);
        match sz {
            1 => bus.io_write(port, v as u8),
            2 => bus.io_write16(port, v as u16),
            _ => bus.io_write32(port, v),
        }
        Ok(())
    }

    /// Fetch, decode and execute one instruction.
    pub(crate) fn execute<B: Bus + ?Sized>(&mut self, bus: &mut B) -> R<()> {
        // With no breakpoint enabled and RF clear (the common case) there is
        // nothing to do: no hit can be pending (debug.rs).
        if self.breakpoints_armed() || self.eflags & RF != 0 {
            self.debug_prologue()?;
        }
        let d32 = self.code32();
        let i = match self.decode_hit(bus, d32) {
            Some(idx) => self.icache_insn(idx),
            None => self.decode_slow(bus, self.eip, d32)?,
        };
        self.execute_decoded(bus, i, d32)
    }

    /// [`Self::execute_insn`] out of line, for the whole step.
    #[inline(never)]
    fn execute_decoded<B: Bus + ?Sized>(&mut self, bus: &mut B, i: Insn, d32: bool) -> R<()> {
        self.execute_insn::<B, false>(bus, &i, ip_mask(d32))
            .map(|_| ())
    }

    /// Execute `i`, the instruction at CS:EIP, fetched and decoded:
    /// [`Self::execute`]'s second half, which the run loop's fast path
    /// inlines (its call and register saves were a tenth of a fast
    /// instruction's host instructions). `ip_mask`: [`ip_mask`] of the
    /// code size, so that the next EIP wraps at 64 KiB in 16-bit code
    /// with one AND instead of a test of the size at every instruction.
    #[inline(always)]
    pub(crate) fn execute_insn<B: Bus + ?Sized, const LAP: bool>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        ip_mask: u32,
    ) -> R<bool> {
        self.cycles += i.clk as u64;
        let next = self.eip.wrapping_add(i.len as u32) & ip_mask;
        // Most instructions fall through to the next one; control transfers overwrite eip.
        let old_eip = self.eip;
        self.eip = next;
        // The hot shapes, named once by the decoder (forms.rs); the rest
        // (form 0) out of line, so that this function's frame stays small.
        self.exec_form::<B, LAP>(bus, i, next, old_eip)
    }

    /// The general path: every instruction by its opcode `op` (`i.op`),
    /// operand size `osz` in bytes. EIP already points at `next`; `old_eip`
    /// is the instruction's own address.
    #[inline(never)]
    pub(super) fn exec_general<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        op: u16,
        osz: u32,
        next: u32,
        old_eip: u32,
    ) -> R<()> {
        // Everything below reads and writes EFLAGS as a plain register.
        self.flags_sync();
        match op {
            // ALU forms 00-3F (except the segment/BCD/prefix slots).
            0x00..=0x3F if op & 7 < 6 => {
                let aop = (op >> 3) as u8;
                let sz = if op & 1 == 0 { 1 } else { osz };
                match op & 7 {
                    0 | 1 => {
                        let b = self.reg(sz, i.reg());
                        self.alu_rm(bus, i, aop, sz, b)?;
                    }
                    2 | 3 => {
                        let b = self.read_e(bus, i, sz)?;
                        let a = self.reg(sz, i.reg());
                        let (r, f) = by_width!(sz, alu(aop, a, b, self.eflags & CF != 0));
                        self.set_flags(STATUS, f);
                        if aop != 7 {
                            self.set_reg(sz, i.reg(), r);
                        }
                    }
                    _ => {
                        let a = self.reg(sz, 0);
                        let (r, f) = by_width!(sz, alu(aop, a, i.imm, self.eflags & CF != 0));
                        self.set_flags(STATUS, f);
                        if aop != 7 {
                            self.set_reg(sz, 0, r);
                        }
                    }
                }
            }
            0x06 | 0x0E | 0x16 | 0x1E | 0x1A0 | 0x1A8 => {
                let s = match op {
                    0x1A0 => FS,
                    0x1A8 => GS,
                    _ => (op >> 3) as usize & 3,
                };
                self.push_sreg(bus, osz, self.seg[s].sel)?;
            }
            0x07 | 0x17 | 0x1F | 0x1A1 | 0x1A9 => {
                let s = match op {
                    0x1A1 => FS,
                    0x1A9 => GS,
                    _ => (op >> 3) as usize & 3,
                };
                let v = self.peek(bus, 0, osz)?;
                // SP moves by the stack size in force before a POP SS.
                let sp = self.sp().wrapping_add(osz);
                let s32 = self.stack32();
                self.load_seg(bus, s, v as u16)?;
                self.charge_seg_load(i);
                if s32 {
                    self.r[4] = sp;
                } else {
                    self.r[4] = (self.r[4] & 0xFFFF_0000) | (sp & 0xFFFF);
                }
                if s == SS {
                    self.inhibit = true;
                }
            }
            0x27 => self.daa_das(false),
            0x2F => self.daa_das(true),
            0x37 => self.aaa_aas(false),
            0x3F => self.aaa_aas(true),
            0x40..=0x4F => {
                let n = (op & 7) as usize;
                let a = self.reg(osz, n);
                let (r, f) = if op < 0x48 {
                    by_width!(osz, add(a, 1, 0))
                } else {
                    by_width!(osz, sub(a, 1, 0))
                };
                self.set_flags(STATUS & !CF, f);
                self.set_reg(osz, n, r);
            }
            0x50..=0x57 => {
                let v = self.reg(osz, (op & 7) as usize);
                self.push(bus, osz, v)?;
            }
            0x58..=0x5F => {
                let v = self.pop(bus, osz)?;
                self.set_reg(osz, (op & 7) as usize, v);
            }
            0x60 => {
                let sp = self.reg(osz, 4);
                // Write all eight before moving SP so a fault leaves SP intact.
                let base = self.sp();
                for k in 0..8u32 {
                    let v = if k == 4 {
                        sp
                    } else {
                        self.reg(osz, k as usize)
                    };
                    let a = base.wrapping_sub((k + 1) * osz);
                    let a = if self.stack32() { a } else { a & 0xFFFF };
                    self.wr(bus, SS, a, osz, v)?;
                }
                let nsp = base.wrapping_sub(8 * osz);
                self.set_sp(nsp);
            }
            0x61 => {
                let mut vals = [0u32; 8];
                for (k, v) in vals.iter_mut().enumerate() {
                    *v = self.peek(bus, k as u32 * osz, osz)?;
                }
                for k in 0..8 {
                    if k != 3 {
                        self.set_reg(osz, 7 - k, vals[k]);
                    }
                }
                let nsp = self.sp().wrapping_add(8 * osz);
                if !self.stack32() && osz == 4 && self.model.generation() == 3 {
                    // The 386 loads the popped ESP's upper half with a 16-bit stack.
                    self.r[4] = (vals[3] & 0xFFFF_0000) | (self.r[4] & 0xFFFF);
                }
                self.set_sp(nsp);
            }
            0x62 => {
                let a = self.ea(i);
                let lo = self.rd(bus, i.mseg(), a, osz)?;
                let hi = self.rd(bus, i.mseg(), a.wrapping_add(osz), osz)?;
                let v = self.reg(osz, i.reg());
                let (v, lo, hi) = (
                    sext_sz(v, osz) as i32,
                    sext_sz(lo, osz) as i32,
                    sext_sz(hi, osz) as i32,
                );
                if v < lo || v > hi {
                    return Err(fault_nc(5));
                }
            }
            0x63 => {
                if !self.pm() {
                    return Err(ud());
                }
                let d = self.read_e(bus, i, 2)?;
                let s = self.reg(2, i.reg());
                if d & 3 < s & 3 {
                    self.write_e(bus, i, 2, (d & !3) | (s & 3))?;
                    self.eflags |= ZF;
                } else {
                    self.eflags &= !ZF;
                }
            }
            0x68 => self.push(bus, osz, i.imm)?,
            0x6A => self.push(bus, osz, i.imm as u8 as i8 as i32 as u32)?,
            0x69 | 0x6B | 0x1AF => {
                let a = self.read_e(bus, i, osz)?;
                let b = match op {
                    0x69 => i.imm,
                    0x6B => i.imm as u8 as i8 as i32 as u32,
                    _ => self.reg(osz, i.reg()),
                };
                let m = if op == 0x1AF { a } else { b };
                self.cycles +=
                    clocks::mul_extra(self.model, (sext_sz(m, osz) as i32).unsigned_abs());
                let p = sext_sz(a, osz) as i32 as i64 * sext_sz(b, osz) as i32 as i64;
                let r = p as u32 & mask(osz);
                let ovf = sext_sz(r, osz) as i32 as i64 != p;
                self.set_reg(osz, i.reg(), r);
                let f = by_width!(osz, szp(r)) | if ovf { CF | OF } else { 0 };
                self.set_flags(STATUS, f);
            }
            0x6C..=0x6F | 0xA4..=0xA7 | 0xAA..=0xAF => self.string(bus, i, old_eip)?,
            0x70..=0x7F | 0x180..=0x18F => {
                if self.cond((op & 0xF) as u8) {
                    let d = if op < 0x100 {
                        i.imm as u8 as i8 as i32 as u32
                    } else {
                        sext_sz(i.imm, osz)
                    };
                    self.jump_taken(next.wrapping_add(d), i.o32, i.imm2)?;
                }
            }
            0x80..=0x83 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                let b = if op == 0x83 {
                    sext_sz(i.imm, 1) & mask(sz)
                } else {
                    i.imm
                };
                self.alu_rm(bus, i, i.reg() as u8, sz, b)?;
            }
            0x84 | 0x85 | 0xA8 | 0xA9 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                let (a, b) = if op < 0xA8 {
                    (self.read_e(bus, i, sz)?, self.reg(sz, i.reg()))
                } else {
                    (self.reg(sz, 0), i.imm)
                };
                let (_, f) = by_width!(sz, logic(a & b));
                self.set_flags(STATUS, f);
            }
            0x86 | 0x87 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                self.check_write_e(bus, i, sz)?;
                let a = self.read_e(bus, i, sz)?;
                let b = self.reg(sz, i.reg());
                self.write_e(bus, i, sz, b)?;
                self.set_reg(sz, i.reg(), a);
            }
            0x88..=0x8B => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                if op < 0x8A {
                    let v = self.reg(sz, i.reg());
                    self.write_e(bus, i, sz, v)?;
                } else {
                    let v = self.read_e(bus, i, sz)?;
                    self.set_reg(sz, i.reg(), v);
                }
            }
            0x8C => {
                // The 286 has four segment registers.
                let nsegs = if self.model.generation() == 2 { 3 } else { 5 };
                if i.reg() > nsegs {
                    return Err(ud());
                }
                let v = self.seg[i.reg()].sel as u32;
                // A register destination takes the operand size (upper bits zero); memory is 16 bits.
                if i.mem {
                    self.write_e(bus, i, 2, v)?;
                } else {
                    self.set_reg(osz, i.rm(), v);
                }
            }
            0x8D => {
                let a = self.ea(i);
                self.set_reg(osz, i.reg(), a);
            }
            0x8E => {
                let s = i.reg();
                let nsegs = if self.model.generation() == 2 { 3 } else { 5 };
                if s == CS || s > nsegs {
                    return Err(ud());
                }
                let v = self.read_e(bus, i, 2)?;
                self.load_seg(bus, s, v as u16)?;
                self.charge_seg_load(i);
                if s == SS {
                    self.inhibit = true;
                }
            }
            0x8F => {
                // POP r/m: the address uses ESP after the pop.
                let v = self.peek(bus, 0, osz)?;
                let sp0 = self.r[4];
                let nsp = self.sp().wrapping_add(osz);
                self.set_sp(nsp);
                if let Err(e) = self.write_e(bus, i, osz, v) {
                    self.r[4] = sp0;
                    if self.model == Model32::I80286 {
                        // The 286 has completed the pop when the write
                        // overruns: SP stays past the popped word.
                        self.snap.r[4] = (self.snap.r[4] & !0xFFFF) | (nsp & 0xFFFF);
                    }
                    return Err(e);
                }
            }
            0x90 => {}
            0x91..=0x97 => {
                let n = (op & 7) as usize;
                let a = self.reg(osz, n);
                let b = self.reg(osz, 0);
                self.set_reg(osz, n, b);
                self.set_reg(osz, 0, a);
            }
            0x98 => {
                if i.o32 {
                    self.r[0] = self.r[0] as u16 as i16 as i32 as u32;
                } else {
                    let v = self.r[0] as u8 as i8 as i16 as u16 as u32;
                    self.set_reg(2, 0, v);
                }
            }
            0x99 => {
                if i.o32 {
                    self.r[2] = ((self.r[0] as i32) >> 31) as u32;
                } else {
                    let v = if self.r[0] & 0x8000 != 0 { 0xFFFF } else { 0 };
                    self.set_reg(2, 2, v);
                }
            }
            0x9A => {
                self.xfer_base = i.clk;
                self.far_call(bus, i.imm2, i.imm, i.o32, next)?;
            }
            0x9B => {
                if self.cr[0] & 0xA == 0xA {
                    return Err(fault_nc(7));
                }
                self.x87_wait()?;
            }
            0x9C => {
                if self.v86() && self.iopl() < 3 {
                    return self.vme_pushf(bus, osz);
                }
                // RF and VM read as zero in the pushed image.
                let v = self.eflags & !(RF | VM);
                self.push(bus, osz, v)?;
            }
            0x9D => {
                if self.v86() && self.iopl() < 3 {
                    return self.vme_popf(bus, osz);
                }
                let v = self.pop(bus, osz)?;
                self.popf(v, osz);
            }
            0x9E => self.sahf(),
            0x9F => {
                let v = (self.eflags & 0xD7) | 2;
                self.set_reg(1, 4, v);
            }
            0xA0..=0xA3 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                let s = i.seg.unwrap_or(DS as u8) as usize;
                let a = if i.a32 { i.imm } else { i.imm & 0xFFFF };
                if op < 0xA2 {
                    let v = self.rd(bus, s, a, sz)?;
                    self.set_reg(sz, 0, v);
                } else {
                    let v = self.reg(sz, 0);
                    self.wr(bus, s, a, sz, v)?;
                }
            }
            0xB0..=0xB7 => self.set_reg(1, (op & 7) as usize, i.imm),
            0xB8..=0xBF => self.set_reg(osz, (op & 7) as usize, i.imm),
            0xC0 | 0xC1 | 0xD0..=0xD3 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                let cnt = match op {
                    0xC0 | 0xC1 => i.imm,
                    0xD0 | 0xD1 => 1,
                    _ => self.r[1] & 0xFF,
                };
                // Every model from the 286 on masks the count to five bits.
                let cnt = cnt & 31;
                self.check_write_e(bus, i, sz)?;
                let v = self.read_e(bus, i, sz)?;
                let (r, mut f) = by_width!(sz, shift(i.reg() as u8, v, cnt, self.eflags));
                if self.model == Model32::I80286 {
                    f = shift286(i.reg() as u8, v, cnt, sz, self.eflags);
                } else if self.model.generation() == 3 && cnt != 0 && sz < 4 {
                    f = undef386_shift(i.reg() as u8, v, cnt, sz, f);
                }
                self.write_e(bus, i, sz, r)?;
                self.eflags = f;
            }
            0xC2 | 0xC3 => {
                let t = self.peek(bus, 0, osz)?;
                self.jump_near(t, i.o32)?;
                let extra = if op == 0xC2 { i.imm & 0xFFFF } else { 0 };
                let nsp = self.sp().wrapping_add(osz).wrapping_add(extra);
                self.set_sp(nsp);
            }
            0xC4 | 0xC5 | 0x1B2 | 0x1B4 | 0x1B5 => {
                let s = match op {
                    0xC4 => ES,
                    0xC5 => DS,
                    0x1B2 => SS,
                    0x1B4 => FS,
                    _ => GS,
                };
                let a = self.ea(i);
                let off = self.rd(bus, i.mseg(), a, osz)?;
                let sel = self.rd(bus, i.mseg(), a.wrapping_add(osz), 2)?;
                self.load_seg(bus, s, sel as u16)?;
                self.charge_seg_load(i);
                self.set_reg(osz, i.reg(), off);
            }
            0xC6 | 0xC7 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                self.write_e(bus, i, sz, i.imm)?;
            }
            0xC8 => self.enter(bus, i.imm & 0xFFFF, i.imm2 as u32 & 0x1F, osz)?,
            0xC9 => {
                let bp = if self.stack32() {
                    self.r[5]
                } else {
                    self.r[5] & 0xFFFF
                };
                let v = self.rd(bus, SS, bp, osz)?;
                self.set_sp(bp.wrapping_add(osz));
                self.set_reg(osz, 5, v);
            }
            0xCA | 0xCB => {
                self.xfer_base = i.clk;
                let extra = if op == 0xCA { i.imm & 0xFFFF } else { 0 };
                self.far_ret(bus, i.o32, extra)?;
            }
            0xCC => {
                self.xfer_base = i.clk;
                self.soft_int(bus, 3, false)?
            }
            0xCD => {
                self.xfer_base = i.clk;
                self.soft_int(bus, i.imm as u8, true)?
            }
            0xCE => {
                if self.eflags & OF != 0 {
                    // Taken: INTO's real-mode count over the not-taken one.
                    let t = clocks::into_taken(self.model);
                    self.cycles += u64::from(t.saturating_sub(i.clk));
                    self.xfer_base = t.max(i.clk);
                    self.soft_int(bus, 4, false)?;
                }
            }
            0xCF => {
                self.xfer_base = i.clk;
                self.iret(bus, i.o32)?
            }
            0xD4 => {
                let d = i.imm & 0xFF;
                if d == 0 {
                    if self.model == Model32::I80286 {
                        // The 286's division microcode has left PF alone set
                        // among the status flags when it finds the zero (the
                        // 16-bit core's 286 model does the same, from the
                        // real-silicon vectors).
                        self.snap.eflags = (self.snap.eflags & !STATUS) | PF;
                        self.snap.lf.kind = flags::NONE;
                    }
                    return Err(fault_nc(0));
                }
                let al = self.r[0] & 0xFF;
                let v = ((al / d) << 8) | (al % d);
                self.set_reg(2, 0, v);
                let f = szp::<W8>(v);
                self.set_flags(STATUS, f);
            }
            0xD5 => {
                let al = self.r[0] & 0xFF;
                let ah = (self.r[0] >> 8) & 0xFF;
                let (r, f) = add::<W8>(al, (ah * (i.imm & 0xFF)) & 0xFF, 0);
                self.set_reg(2, 0, r);
                self.set_flags(STATUS, f);
            }
            0xD6 => {
                let v = if self.eflags & CF != 0 { 0xFF } else { 0 };
                self.set_reg(1, 0, v);
            }
            0xD7 => {
                let a = if i.a32 { self.r[3] } else { self.r[3] & 0xFFFF };
                let a = a.wrapping_add(self.r[0] & 0xFF);
                let a = if i.a32 { a } else { a & 0xFFFF };
                let v = self.rd(bus, i.seg.unwrap_or(DS as u8) as usize, a, 1)?;
                self.set_reg(1, 0, v);
            }
            0xD8..=0xDF if self.has_x87() => self.x87_esc(bus, i)?,
            0xD8..=0xDF => {
                if self.cr[0] & 0xC != 0 {
                    // EM or TS.
                    return Err(fault_nc(7));
                }
                let lin = if i.mem {
                    let a = self.ea(i);
                    // The 286 hands a coprocessor the operand's address
                    // after checking a word there (a word at offset FFFFh
                    // overruns the segment even with no coprocessor).
                    let len = if self.model == Model32::I80286 { 2 } else { 1 };
                    Some(self.seg_lin(i.mseg(), a, len, Acc::Read)?)
                } else {
                    None
                };
                if let Some(mut f) = self.fpu.take() {
                    f.esc(op as u8, i.modrm, lin, &mut &mut *bus);
                    self.fpu = Some(f);
                }
            }
            0xE0..=0xE3 => {
                let cnt_mask = if i.a32 { 0xFFFF_FFFF } else { 0xFFFF };
                let mut c = self.r[1] & cnt_mask;
                let take = if op == 0xE3 {
                    c == 0
                } else {
                    c = c.wrapping_sub(1) & cnt_mask;
                    self.r[1] = (self.r[1] & !cnt_mask) | c;
                    c != 0
                        && match op {
                            0xE0 => self.eflags & ZF == 0,
                            0xE1 => self.eflags & ZF != 0,
                            _ => true,
                        }
                };
                if take {
                    self.jump_taken(
                        next.wrapping_add(i.imm as u8 as i8 as i32 as u32),
                        i.o32,
                        i.imm2,
                    )?;
                }
            }
            0xE4 | 0xE5 | 0xEC | 0xED => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                let port = if op < 0xEC {
                    i.imm as u16
                } else {
                    self.r[2] as u16
                };
                let v = self.io_in(bus, port, sz)?;
                self.set_reg(sz, 0, v);
            }
            0xE6 | 0xE7 | 0xEE | 0xEF => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                let port = if op < 0xEE {
                    i.imm as u16
                } else {
                    self.r[2] as u16
                };
                let v = self.reg(sz, 0);
                self.io_out(bus, port, sz, v)?;
            }
            0xE8 => {
                let t = next.wrapping_add(sext_sz(i.imm, osz));
                let t = if i.o32 { t } else { t & 0xFFFF };
                if t > self.seg[CS].limit {
                    return Err(gp(0));
                }
                self.push(bus, osz, next)?;
                self.eip = t;
            }
            0xE9 | 0xEB => {
                let d = if op == 0xEB {
                    sext_sz(i.imm, 1)
                } else {
                    sext_sz(i.imm, osz)
                };
                self.jump_near(next.wrapping_add(d), i.o32)?;
            }
            0xEA => {
                self.xfer_base = i.clk;
                self.far_jmp(bus, i.imm2, i.imm, i.o32)?
            }
            0xF1 => {
                self.xfer_base = i.clk;
                self.soft_int(bus, 1, false)?
            }
            0xF4 => {
                self.check_cpl0()?;
                self.halted = true;
            }
            0xF5 => self.eflags ^= CF,
            0xF6 | 0xF7 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                self.group3(bus, i, sz)?;
            }
            0xF8 => self.eflags &= !CF,
            0xF9 => self.eflags |= CF,
            0xFA => {
                if self.check_iopl().is_err() {
                    return self.virtual_cli_sti(false);
                }
                self.eflags &= !IF;
            }
            0xFB => {
                if self.check_iopl().is_err() {
                    return self.virtual_cli_sti(true);
                }
                if self.eflags & IF == 0 {
                    self.inhibit = true;
                }
                self.eflags |= IF;
            }
            0xFC => self.eflags &= !DF,
            0xFD => self.eflags |= DF,
            0xFE | 0xFF => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                match i.reg() {
                    0 | 1 => {
                        self.check_write_e(bus, i, sz)?;
                        let a = self.read_e(bus, i, sz)?;
                        let (r, f) = if i.reg() == 0 {
                            by_width!(sz, add(a, 1, 0))
                        } else {
                            by_width!(sz, sub(a, 1, 0))
                        };
                        self.write_e(bus, i, sz, r)?;
                        self.set_flags(STATUS & !CF, f);
                    }
                    2 => {
                        let t = self.read_e(bus, i, osz)?;
                        if t > self.seg[CS].limit {
                            return Err(gp(0));
                        }
                        self.push(bus, osz, next)?;
                        self.eip = t;
                    }
                    3 | 5 => {
                        let a = self.ea(i);
                        let off = self.rd(bus, i.mseg(), a, osz)?;
                        let sel = self.rd(bus, i.mseg(), a.wrapping_add(osz), 2)? as u16;
                        self.xfer_base = i.clk;
                        if i.reg() == 3 {
                            self.far_call(bus, sel, off, i.o32, next)?;
                        } else {
                            self.far_jmp(bus, sel, off, i.o32)?;
                        }
                    }
                    4 => {
                        let t = self.read_e(bus, i, osz)?;
                        self.jump_near(t, i.o32)?;
                    }
                    _ => {
                        let v = self.read_e(bus, i, osz)?;
                        self.push(bus, osz, v)?;
                    }
                }
            }
            0x100..=0x1FF => self.execute_0f(bus, i, osz)?,
            _ => return Err(ud()),
        }
        self.flags_fixup();
        Ok(())
    }

    /// A segment register load's protected-mode clocks over the real-mode
    /// count decoded (`clocks::seg_load_pm`); none in real and v86 mode.
    fn charge_seg_load(&mut self, i: &Insn) {
        if self.cr[0] & 1 != 0 && !self.v86() {
            self.cycles += clocks::seg_load_pm(i, self.model);
        }
    }

    fn push_sreg<B: Bus + ?Sized>(&mut self, bus: &mut B, osz: u32, sel: u16) -> R<()> {
        if osz == 4 {
            // The 386 and 486 write only the low word of the 4-byte slot.
            let sp = self.sp().wrapping_sub(4);
            let sp = if self.stack32() { sp } else { sp & 0xFFFF };
            let lin = self.seg_lin(SS, sp, 4, Acc::Write)?;
            let u = self.user();
            self.probe_write(bus, lin, 4, u)?;
            self.wr(bus, SS, sp, 2, sel as u32)?;
            self.set_sp(sp);
            Ok(())
        } else {
            self.push(bus, 2, sel as u32)
        }
    }

    fn popf(&mut self, v: u32, osz: u32) {
        let mut changeable = STATUS | TF | DF | NT | IF | IOPL;
        if osz == 4 {
            changeable |= AC | (1 << 21);
        }
        if self.cr[0] & 1 != 0 {
            if self.v86() {
                changeable &= !IOPL;
            } else {
                if self.cpl > 0 {
                    changeable &= !IOPL;
                }
                if self.cpl > self.iopl() {
                    changeable &= !IF;
                }
            }
        }
        let nv = (self.eflags & !changeable) | (v & changeable);
        let keep_rf_vm = self.eflags & (RF | VM);
        self.load_eflags((nv & !(RF | VM)) | keep_rf_vm);
        if self.model.generation() < 4 {
            self.eflags &= !(AC | (1 << 21));
        }
    }

    fn alu_rm<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        aop: u8,
        sz: u32,
        b: u32,
    ) -> R<()> {
        if aop != 7 {
            self.check_write_e(bus, i, sz)?;
        }
        let a = self.read_e(bus, i, sz)?;
        let (r, f) = by_width!(sz, alu(aop, a, b, self.eflags & CF != 0));
        if aop != 7 {
            self.write_e(bus, i, sz, r)?;
        }
        self.set_flags(STATUS, f);
        Ok(())
    }

    fn daa_das(&mut self, sub: bool) {
        let al = self.r[0] & 0xFF;
        let old_cf = self.eflags & CF != 0;
        let mut cf = old_cf;
        let mut af = false;
        let mut v = al;
        if (al & 0xF) > 9 || self.eflags & AF != 0 {
            if sub {
                cf |= al < 6;
                v = v.wrapping_sub(6) & 0xFF;
            } else {
                cf |= al + 6 > 0xFF;
                v = (v + 6) & 0xFF;
            }
            af = true;
        }
        if al > 0x99 || old_cf {
            v = if sub { v.wrapping_sub(0x60) } else { v + 0x60 } & 0xFF;
            cf = true;
        }
        self.set_reg(1, 0, v);
        let mut f = szp::<W8>(v);
        if cf {
            f |= CF;
        }
        if af {
            f |= AF;
        }
        // OF (undefined) follows the signed overflow of the whole adjustment.
        let adj = if sub {
            al.wrapping_sub(v)
        } else {
            v.wrapping_sub(al)
        } & 0xFF;
        let ovf = if sub {
            (al ^ adj) & (al ^ v)
        } else {
            !(al ^ adj) & (al ^ v)
        } & 0x80;
        if ovf != 0 {
            f |= OF;
        }
        self.set_flags(STATUS, f);
    }

    /// AAA/AAS as the 386 does them, undefined flags included (as
    /// measured by test386's authors and documented in its README).
    fn aaa_aas(&mut self, sub: bool) {
        if self.model.generation() == 3 {
            let ax = self.r[0] & 0xFFFF;
            let al = ax & 0xFF;
            let af = self.eflags & AF != 0;
            let mut f = 0;
            let nax;
            if !sub {
                if (0x7A..=0xF9).contains(&al) {
                    f |= SF;
                }
                if al & 0xF > 9 {
                    if al & 0xF0 == 0x70 {
                        f |= OF;
                    }
                    nax = ax.wrapping_add(0x106) & 0xFFFF;
                    if nax & 0xFF == 0 {
                        f |= ZF;
                    }
                    f |= CF | AF;
                } else if af {
                    nax = ax.wrapping_add(0x106) & 0xFFFF;
                    f |= CF | AF;
                } else {
                    nax = ax;
                    if al == 0 {
                        f |= ZF;
                    }
                }
            } else {
                if al & 0xF > 9 {
                    if al > 0x85 {
                        f |= SF;
                    }
                    nax = ax.wrapping_sub(0x106) & 0xFFFF;
                    f |= CF | AF;
                } else if af {
                    if (0x80..=0x85).contains(&al) {
                        f |= OF;
                    }
                    if !(0x06..=0x85).contains(&al) {
                        f |= SF;
                    }
                    nax = ax.wrapping_sub(0x106) & 0xFFFF;
                    f |= CF | AF;
                } else {
                    if al >= 0x80 {
                        f |= SF;
                    }
                    nax = ax;
                }
                if nax & 0xFF == 0 {
                    f |= ZF;
                }
            }
            if (nax as u8).count_ones() & 1 == 0 {
                f |= PF;
            }
            self.set_flags(STATUS, f);
            self.set_reg(2, 0, nax & 0xFF0F);
            return;
        }
        let ax = self.r[0] & 0xFFFF;
        let v = if (ax & 0xF) > 9 || self.eflags & AF != 0 {
            let nv = if sub {
                // The 386 subtracts 6 from all of AX (a borrow reaches AH), then 1 from AH.
                ax.wrapping_sub(6).wrapping_sub(0x100) & 0xFFFF
            } else {
                ax.wrapping_add(0x106) & 0xFFFF
            };
            self.eflags |= AF | CF;
            nv
        } else {
            self.eflags &= !(AF | CF);
            ax
        };
        self.set_reg(2, 0, v & 0xFF0F);
    }

    pub(crate) fn group3<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, sz: u32) -> R<()> {
        match i.reg() {
            0 | 1 => {
                let a = self.read_e(bus, i, sz)?;
                let (_, f) = by_width!(sz, logic(a & i.imm));
                self.set_flags(STATUS, f);
            }
            2 => {
                self.check_write_e(bus, i, sz)?;
                let a = self.read_e(bus, i, sz)?;
                self.write_e(bus, i, sz, !a & mask(sz))?;
            }
            3 => {
                self.check_write_e(bus, i, sz)?;
                let a = self.read_e(bus, i, sz)?;
                let (r, f) = by_width!(sz, sub(0, a, 0));
                self.write_e(bus, i, sz, r)?;
                self.set_flags(STATUS, f);
            }
            4 | 5 => {
                let b = self.read_e(bus, i, sz)?;
                let a = self.reg(sz, 0);
                let signed = i.reg() == 5;
                // The early-out multiplier is the r/m operand.
                let m = if signed {
                    (sext_sz(b, sz) as i32).unsigned_abs()
                } else {
                    b
                };
                self.cycles += clocks::mul_extra(self.model, m);
                let p: u64 = if signed {
                    (sext_sz(a, sz) as i32 as i64).wrapping_mul(sext_sz(b, sz) as i32 as i64) as u64
                } else {
                    a as u64 * b as u64
                };
                let lo = p as u32 & mask(sz);
                let hi = (p >> (8 * sz)) as u32 & mask(sz);
                let ovf = if signed {
                    sext_sz(lo, sz) as i32 as i64 != p as i64
                } else {
                    hi != 0
                };
                match sz {
                    1 => self.set_reg(2, 0, (p as u32) & 0xFFFF),
                    2 => {
                        self.set_reg(2, 0, lo);
                        self.set_reg(2, 2, hi);
                    }
                    _ => {
                        self.r[0] = lo;
                        self.r[2] = hi;
                    }
                }
                let f = by_width!(sz, szp(lo)) | if ovf { CF | OF } else { 0 };
                self.set_flags(STATUS, f);
            }
            _ => {
                let d = self.read_e(bus, i, sz)?;
                if d == 0 {
                    return Err(fault_nc(0));
                }
                let signed = i.reg() == 7;
                let n: u64 = match sz {
                    1 => (self.r[0] & 0xFFFF) as u64,
                    2 => ((self.r[2] & 0xFFFF) << 16 | (self.r[0] & 0xFFFF)) as u64,
                    _ => (self.r[2] as u64) << 32 | self.r[0] as u64,
                };
                let bits = 8 * sz;
                let (q, rem) = if signed {
                    let nn = ((n << (64 - 2 * bits)) as i64) >> (64 - 2 * bits);
                    let dd = sext_sz(d, sz) as i32 as i64;
                    let q = nn.wrapping_div(dd);
                    let rem = nn.wrapping_rem(dd);
                    let lim = 1i64 << (bits - 1);
                    if q >= lim || q < -lim || (nn == i64::MIN) {
                        return Err(fault_nc(0));
                    }
                    (q as u64 as u32 & mask(sz), rem as u64 as u32 & mask(sz))
                } else {
                    let q = n / d as u64;
                    if q > mask(sz) as u64 {
                        return Err(fault_nc(0));
                    }
                    (q as u32, (n % d as u64) as u32)
                };
                match sz {
                    1 => self.set_reg(2, 0, (rem << 8) | q),
                    2 => {
                        self.set_reg(2, 0, q);
                        self.set_reg(2, 2, rem);
                    }
                    _ => {
                        self.r[0] = q;
                        self.r[2] = rem;
                    }
                }
            }
        }
        Ok(())
    }

    fn enter<B: Bus + ?Sized>(&mut self, bus: &mut B, size: u32, level: u32, osz: u32) -> R<()> {
        let s32 = self.stack32();
        let wrap = |v: u32| if s32 { v } else { v & 0xFFFF };
        let mut sp = self.sp();
        let bp = self.reg(if s32 { 4 } else { 2 }, 5);
        sp = wrap(sp.wrapping_sub(osz));
        self.wr(bus, SS, sp, osz, self.reg(osz, 5))?;
        // The 386 pushes the whole ESP as the frame even on a 16-bit stack.
        let frame = if s32 {
            sp
        } else {
            (self.r[4] & 0xFFFF_0000) | sp
        };
        if level > 0 {
            let mut b = bp;
            for _ in 1..level {
                b = wrap(b.wrapping_sub(osz));
                let v = self.rd(bus, SS, b, osz)?;
                sp = wrap(sp.wrapping_sub(osz));
                self.wr(bus, SS, sp, osz, v)?;
            }
            sp = wrap(sp.wrapping_sub(osz));
            self.wr(bus, SS, sp, osz, frame)?;
        }
        let nsp = wrap(sp.wrapping_sub(size));
        // The whole new frame must be writable.
        if size > 0 {
            let lin = self.seg_lin(SS, nsp, 1, Acc::Write)?;
            let u = self.user();
            self.probe_write(bus, lin, 1, u)?;
        }
        // The frame pointer takes the stack's size, not the operand size.
        if s32 {
            self.r[5] = frame;
        } else {
            self.set_reg(2, 5, frame);
        }
        self.set_sp(nsp);
        Ok(())
    }

    fn soft_int<B: Bus + ?Sized>(&mut self, bus: &mut B, v: u8, is_int_n: bool) -> R<()> {
        // VME's redirection bitmap, or the 386's IOPL rule (vme.rs).
        if is_int_n && self.v86() && self.v86_int_n(bus, v)? {
            return Ok(());
        }
        self.interrupt(bus, v, None, IntKind::Soft)
    }

    /// One iteration (or a run of iterations) of a string instruction.
    #[inline(always)]
    pub(crate) fn string<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, start: u32) -> R<()> {
        if i.rep == 0 && matches!(i.op, 0xA4 | 0xA5 | 0xAA..=0xAD) && self.model != Model32::I80286
        {
            return self.string_one(bus, i);
        }
        self.string_rep(bus, i, start)
    }

    /// A string instruction's element size in bytes, its address mask
    /// (16- or 32-bit addressing) and the step ESI/EDI move by (DF).
    #[inline(always)]
    fn string_shape(&self, i: &Insn) -> (u32, u32, u32) {
        let sz: u32 = if i.op & 1 == 0 {
            1
        } else if i.o32 {
            4
        } else {
            2
        };
        let amask = if i.a32 { 0xFFFF_FFFF } else { 0xFFFF };
        let step = if self.eflags & DF != 0 {
            sz.wrapping_neg()
        } else {
            sz
        };
        (sz, amask, step)
    }

    /// MOVS, STOS or LODS without REP on the 386 and later, inline in
    /// the caller: one iteration as [`Self::string_rep`] does it, without
    /// that function's frame (LODS in a loop is common).
    #[inline(always)]
    pub(crate) fn string_one<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let (sz, amask, step) = self.string_shape(i);
        self.string_step(bus, i, sz, amask, step)
    }

    /// [`Self::string_one`] with a 32-bit address and an operand of width
    /// `W`: the same step with the sizes known, so that the read and the
    /// write take their own paths at once (LODSB/LODSD loops).
    #[inline(always)]
    pub(crate) fn string_one32<W: Width, B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
    ) -> R<()> {
        let sz = W::BITS / 8;
        let step = if self.eflags & DF != 0 {
            sz.wrapping_neg()
        } else {
            sz
        };
        self.string_step(bus, i, sz, 0xFFFF_FFFF, step)
    }

    /// One MOVS, STOS or LODS of `sz` bytes, ESI/EDI under `amask`, moved
    /// by `step`: read, then write, then the index registers (no
    /// snapshot needed).
    #[inline(always)]
    fn string_step<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        sz: u32,
        amask: u32,
        step: u32,
    ) -> R<()> {
        let si = self.r[6] & amask;
        let di = self.r[7] & amask;
        match i.op {
            0xAC | 0xAD => {
                let v = self.rd(bus, i.seg.unwrap_or(DS as u8) as usize, si, sz)?;
                self.set_reg(sz, 0, v);
                self.r[6] = (self.r[6] & !amask) | (si.wrapping_add(step) & amask);
            }
            0xAA | 0xAB => {
                let v = self.reg(sz, 0);
                self.wr(bus, ES, di, sz, v)?;
                self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
            }
            _ => {
                let v = self.rd(bus, i.seg.unwrap_or(DS as u8) as usize, si, sz)?;
                self.wr(bus, ES, di, sz, v)?;
                self.r[6] = (self.r[6] & !amask) | (si.wrapping_add(step) & amask);
                self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
            }
        }
        Ok(())
    }

    /// [`Self::string`] under REP, and the rest.
    #[inline(never)]
    fn string_rep<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, start: u32) -> R<()> {
        let op = i.op;
        let (sz, amask, step) = self.string_shape(i);
        let src_seg = i.seg.unwrap_or(DS as u8) as usize;
        let rep = i.rep != 0;
        let mut budget: u32 = 4096;
        // Runs of iterations at once (`string_run`). After a refusal one
        // iteration goes the whole way (filling the TLB, crossing the page,
        // or raising the fault); after two in a row what refuses them (a
        // limit, MMIO, an armed breakpoint) is taken to last.
        let mut runs = rep && self.model != Model32::I80286 && !matches!(op, 0x6C..=0x6F);
        let mut refused = 0;
        loop {
            if rep && self.r[1] & amask == 0 {
                return Ok(());
            }
            let si = self.r[6] & amask;
            let di = self.r[7] & amask;
            let mut stop = false;
            let mut done = 0;
            if runs {
                done = self.string_run(bus, i, sz, amask, step, budget);
                if done == 0 {
                    refused += 1;
                    runs = refused < 2;
                } else {
                    refused = 0;
                }
            }
            if done > 0 {
                stop = matches!(op, 0xA6 | 0xA7 | 0xAE | 0xAF);
            } else if self.model == Model32::I80286 {
                done = 1;
                stop = self.string286_once(bus, op, sz, src_seg, rep, step)?;
            } else {
                done = 1;
                match op {
                    0x6C | 0x6D => {
                        let port = self.r[2] as u16;
                        self.check_io(bus, port, sz)?;
                        let lin = self.seg_lin(ES, di, sz, Acc::Write)?;
                        let u = self.user();
                        self.probe_write(bus, lin, sz, u)?;
                        let v = self.io_in(bus, port, sz)?;
                        self.wr(bus, ES, di, sz, v)?;
                        self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
                    }
                    0x6E | 0x6F => {
                        let v = self.rd(bus, src_seg, si, sz)?;
                        let port = self.r[2] as u16;
                        self.io_out(bus, port, sz, v)?;
                        self.r[6] = (self.r[6] & !amask) | (si.wrapping_add(step) & amask);
                    }
                    0xA4 | 0xA5 => {
                        let v = self.rd(bus, src_seg, si, sz)?;
                        self.wr(bus, ES, di, sz, v)?;
                        self.r[6] = (self.r[6] & !amask) | (si.wrapping_add(step) & amask);
                        self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
                    }
                    0xA6 | 0xA7 => {
                        let a = self.rd(bus, src_seg, si, sz)?;
                        let b = self.rd(bus, ES, di, sz)?;
                        let (_, f) = by_width!(sz, sub(a, b, 0));
                        self.set_flags(STATUS, f);
                        self.r[6] = (self.r[6] & !amask) | (si.wrapping_add(step) & amask);
                        self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
                        stop = true;
                    }
                    0xAA | 0xAB => {
                        let v = self.reg(sz, 0);
                        self.wr(bus, ES, di, sz, v)?;
                        self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
                    }
                    0xAC | 0xAD => {
                        let v = self.rd(bus, src_seg, si, sz)?;
                        self.set_reg(sz, 0, v);
                        self.r[6] = (self.r[6] & !amask) | (si.wrapping_add(step) & amask);
                    }
                    _ => {
                        let a = self.reg(sz, 0);
                        let b = self.rd(bus, ES, di, sz)?;
                        let (_, f) = by_width!(sz, sub(a, b, 0));
                        self.set_flags(STATUS, f);
                        self.r[7] = (self.r[7] & !amask) | (di.wrapping_add(step) & amask);
                        stop = true;
                    }
                }
            }
            if !rep {
                return Ok(());
            }
            self.cycles += clocks::rep_per(op, self.model) * u64::from(done);
            let c = (self.r[1] & amask).wrapping_sub(done) & amask;
            self.r[1] = (self.r[1] & !amask) | c;
            // Completed iterations stay done if a later one faults.
            self.snap.r = self.r;
            self.snap.eflags = self.eflags;
            self.snap.lf = self.lf;
            if c == 0 {
                return Ok(());
            }
            if stop {
                let z = self.eflags & ZF != 0;
                if (i.rep == 0xF3 && !z) || (i.rep == 0xF2 && z) {
                    return Ok(());
                }
            }
            budget -= done;
            if budget == 0 || self.intr || self.nmi || self.eflags & TF != 0 || self.dbg.hits != 0 {
                // Resume at the same instruction after an interrupt window;
                // RF (pushed by whatever is taken there) keeps an
                // instruction breakpoint from firing again on the rest.
                self.eip = start;
                if self.model.generation() >= 3 {
                    self.eflags |= RF;
                }
                return Ok(());
            }
        }
    }

    /// Under REP, a run of iterations of MOVS, STOS, LODS, SCAS or CMPS
    /// done at once in the board's [`Bus::ram_direct`] memory: as many as
    /// ECX, `budget` and both operands' pages allow (each operand's
    /// elements on one page, inside its segment, not wrapping its address
    /// size, granted by the TLB without a walk, so no fault, A/D update or
    /// alignment check can happen among them), stopping after the element
    /// that ends a REPE/REPNE compare. ESI/EDI, AL/AX/EAX and the flags end
    /// as the iterations one by one would leave them; ECX is the caller's
    /// to count down (it gets the number done). 0 when no run can be
    /// taken here, and whenever the caller must stop after one iteration
    /// (an interrupt or NMI pending, TF, a breakpoint hit), so that one
    /// goes the whole way.
    #[allow(clippy::too_many_arguments)]
    fn string_run<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        sz: u32,
        amask: u32,
        step: u32,
        budget: u32,
    ) -> u32 {
        if self.intr || self.nmi || self.eflags & TF != 0 || self.dbg.hits != 0 {
            return 0;
        }
        let op = i.op;
        let count = self.r[1] & amask;
        let mut n = count.min(budget);
        let back = step != sz;
        let u = self.user();
        // (segment, offset, write) of each memory operand: the source
        // first for MOVS and CMPS.
        let src = (i.seg.unwrap_or(DS as u8) as usize, self.r[6] & amask);
        let dst = (ES, self.r[7] & amask);
        let ops: [Option<(usize, u32, bool)>; 2] = match op {
            0xA4 | 0xA5 => [Some((src.0, src.1, false)), Some((dst.0, dst.1, true))],
            0xA6 | 0xA7 => [Some((src.0, src.1, false)), Some((dst.0, dst.1, false))],
            0xAA | 0xAB => [Some((dst.0, dst.1, true)), None],
            0xAC | 0xAD => [Some((src.0, src.1, false)), None],
            0xAE | 0xAF => [Some((dst.0, dst.1, false)), None],
            _ => return 0,
        };
        // How many elements each operand has room for, and its first
        // element's linear address.
        let mut lins = [0u32; 2];
        for (k, o) in ops.iter().enumerate() {
            let Some((s, off, _)) = *o else { continue };
            let Ok(lin) = self.seg_lin(s, off, sz, Acc::Read) else {
                return 0;
            };
            let (wrap, page) = if back {
                // Elements at off, off - sz, ...: the lowest at or above
                // 0, the highest inside the address size and the page.
                if off > amask - (sz - 1) || (lin & 0xFFF) > 0x1000 - sz {
                    return 0;
                }
                ((off / sz).saturating_add(1), (lin & 0xFFF) / sz + 1)
            } else {
                let room = (u64::from(amask) - u64::from(off) + 1) / u64::from(sz);
                (
                    room.min(u64::from(u32::MAX)) as u32,
                    (0x1000 - (lin & 0xFFF)) / sz,
                )
            };
            n = n.min(wrap).min(page);
            lins[k] = lin;
        }
        if n == 0 {
            return 0;
        }
        let bytes = n * sz;
        // The physical address of each operand's lowest byte.
        let mut lows = [0usize; 2];
        for (k, o) in ops.iter().enumerate() {
            let Some((s, off, write)) = *o else { continue };
            let back_by = if back { bytes - sz } else { 0 };
            let low_off = off.wrapping_sub(back_by);
            let acc = if write { Acc::Write } else { Acc::Read };
            if self.seg_lin(s, low_off, bytes, acc).is_err() {
                return 0;
            }
            let low = lins[k].wrapping_sub(back_by);
            let Some(p) = self.direct_phys(low, bytes, write, u) else {
                return 0;
            };
            lows[k] = p;
        }
        let ram = bus.ram_direct();
        if lows.iter().any(|&p| p + bytes as usize > ram.len()) {
            return 0;
        }
        let szu = sz as usize;
        // Element `j` (in the order the iterations take them) of operand `k`.
        let at = |k: usize, j: u32| -> usize {
            if back {
                lows[k] + (bytes - sz - j * sz) as usize
            } else {
                lows[k] + (j * sz) as usize
            }
        };
        let get = |ram: &[u8], p: usize| -> u32 {
            ram[p..p + szu]
                .iter()
                .rev()
                .fold(0, |v, &b| (v << 8) | b as u32)
        };
        let mut done = n;
        match op {
            0xA4 | 0xA5 => {
                let (s0, d0) = (lows[0], lows[1]);
                if s0 + bytes as usize <= d0 || d0 + bytes as usize <= s0 {
                    ram.copy_within(s0..s0 + bytes as usize, d0);
                } else {
                    // Overlapping: element by element, in order, as the
                    // iterations move them.
                    for j in 0..n {
                        let v = get(ram, at(0, j)).to_le_bytes();
                        let pd = at(1, j);
                        ram[pd..pd + szu].copy_from_slice(&v[..szu]);
                    }
                }
            }
            0xAA | 0xAB => {
                let v = self.r[0].to_le_bytes();
                for e in ram[lows[0]..lows[0] + bytes as usize].chunks_exact_mut(szu) {
                    e.copy_from_slice(&v[..szu]);
                }
            }
            0xAC | 0xAD => {
                let v = get(ram, at(0, n - 1));
                self.set_reg(sz, 0, v);
            }
            _ => {
                // SCAS compares the accumulator with ES:EDI, CMPS DS:ESI
                // with ES:EDI; REPE stops after the first unequal pair,
                // REPNE after the first equal one.
                let until_equal = i.rep == 0xF2;
                let m = mask(sz);
                let mut last = (0, 0);
                for j in 0..n {
                    let (a, b) = if matches!(op, 0xAE | 0xAF) {
                        (self.r[0] & m, get(ram, at(0, j)))
                    } else {
                        (get(ram, at(0, j)), get(ram, at(1, j)))
                    };
                    last = (a, b);
                    if (a == b) == until_equal {
                        done = j + 1;
                        break;
                    }
                }
                let (_, f) = by_width!(sz, sub(last.0, last.1, 0));
                self.set_flags(STATUS, f);
            }
        }
        if matches!(op, 0xA4 | 0xA5 | 0xAA | 0xAB) {
            let d = if op < 0xA8 { lows[1] } else { lows[0] };
            self.note_write_page(d as u32);
        }
        let moved = done.wrapping_mul(step);
        if matches!(op, 0xA4..=0xA7 | 0xAC | 0xAD) {
            self.r[6] = (self.r[6] & !amask) | (self.r[6].wrapping_add(moved) & amask);
        }
        if !matches!(op, 0xAC | 0xAD) {
            self.r[7] = (self.r[7] & !amask) | (self.r[7].wrapping_add(moved) & amask);
        }
        done
    }

    /// One iteration of a 16-bit string instruction on the 286 (real-address
    /// offsets, so no address-size mask). The 286 steps each index register
    /// right after its own transfer and reads ES:DI before DS:SI in CMPS;
    /// when a transfer overruns its segment it raises the fault with those
    /// steps done and, under REP, CX counted as the 16-bit core's 80286
    /// model (which passes the real-silicon vectors) counts it: a compare
    /// not at all before its second read, a read once, a write twice (the
    /// fault is seen after the next iteration has been counted). Returns
    /// whether the instruction compares (REPE/REPNE end on ZF).
    fn string286_once<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        op: u16,
        sz: u32,
        src_seg: usize,
        rep: bool,
        step: u32,
    ) -> R<bool> {
        let si = self.r[6] & 0xFFFF;
        let di = self.r[7] & 0xFFFF;
        let nsi = si.wrapping_add(step) & 0xFFFF;
        let ndi = di.wrapping_add(step) & 0xFFFF;
        // On a fault: keep what the 286 has done (the snapshot is what the
        // fault restores) and pass the fault on.
        let partial = |cpu: &mut Cpu32, f: Fault, si: u32, di: u32, counted: u32| -> Fault {
            cpu.snap.r[6] = (cpu.snap.r[6] & !0xFFFF) | si;
            cpu.snap.r[7] = (cpu.snap.r[7] & !0xFFFF) | di;
            if rep {
                let cx = cpu.r[1].wrapping_sub(counted) & 0xFFFF;
                cpu.snap.r[1] = (cpu.snap.r[1] & !0xFFFF) | cx;
            }
            f
        };
        let mut compares = false;
        match op {
            0x6C | 0x6D | 0xAA | 0xAB => {
                let v = if op < 0x70 {
                    let port = self.r[2] as u16;
                    self.check_io(bus, port, sz)?;
                    self.io_in(bus, port, sz)?
                } else {
                    self.reg(sz, 0)
                };
                if let Err(f) = self.wr(bus, ES, di, sz, v) {
                    return Err(partial(self, f, si, ndi, 2));
                }
                self.r[7] = (self.r[7] & !0xFFFF) | ndi;
            }
            0x6E | 0x6F | 0xAC | 0xAD => {
                let v = match self.rd(bus, src_seg, si, sz) {
                    Ok(v) => v,
                    Err(f) => return Err(partial(self, f, nsi, di, 1)),
                };
                if op < 0x70 {
                    let port = self.r[2] as u16;
                    self.io_out(bus, port, sz, v)?;
                } else {
                    self.set_reg(sz, 0, v);
                }
                self.r[6] = (self.r[6] & !0xFFFF) | nsi;
            }
            0xA4 | 0xA5 => {
                let v = match self.rd(bus, src_seg, si, sz) {
                    Ok(v) => v,
                    Err(f) => return Err(partial(self, f, nsi, di, 1)),
                };
                if let Err(f) = self.wr(bus, ES, di, sz, v) {
                    return Err(partial(self, f, nsi, ndi, 2));
                }
                self.r[6] = (self.r[6] & !0xFFFF) | nsi;
                self.r[7] = (self.r[7] & !0xFFFF) | ndi;
            }
            0xA6 | 0xA7 => {
                let b = match self.rd(bus, ES, di, sz) {
                    Ok(v) => v,
                    Err(f) => return Err(partial(self, f, si, ndi, 0)),
                };
                let a = match self.rd(bus, src_seg, si, sz) {
                    Ok(v) => v,
                    Err(f) => return Err(partial(self, f, nsi, ndi, 1)),
                };
                let (_, f) = by_width!(sz, sub(a, b, 0));
                self.set_flags(STATUS, f);
                self.r[6] = (self.r[6] & !0xFFFF) | nsi;
                self.r[7] = (self.r[7] & !0xFFFF) | ndi;
                compares = true;
            }
            _ => {
                let a = self.reg(sz, 0);
                let b = match self.rd(bus, ES, di, sz) {
                    Ok(v) => v,
                    Err(f) => return Err(partial(self, f, si, ndi, 1)),
                };
                let (_, f) = by_width!(sz, sub(a, b, 0));
                self.set_flags(STATUS, f);
                self.r[7] = (self.r[7] & !0xFFFF) | ndi;
                compares = true;
            }
        }
        Ok(compares)
    }

    fn execute_0f<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, osz: u32) -> R<()> {
        let op = i.op & 0xFF;
        let pm = self.pm();
        match op {
            0x00 => {
                if !pm {
                    return Err(ud());
                }
                match i.reg() {
                    0 | 1 => {
                        let v = if i.reg() == 0 {
                            self.ldtr.sel
                        } else {
                            self.tr.sel
                        } as u32;
                        if i.mem {
                            self.write_e(bus, i, 2, v)?;
                        } else {
                            self.set_reg(osz, i.rm(), v);
                        }
                    }
                    2 | 3 => {
                        self.check_cpl0()?;
                        let s = self.read_e(bus, i, 2)? as u16;
                        if i.reg() == 2 {
                            self.lldt(bus, s)?;
                        } else {
                            self.ltr(bus, s)?;
                        }
                    }
                    4 | 5 => {
                        let s = self.read_e(bus, i, 2)? as u16;
                        let ok = self.verify(bus, s, i.reg() == 5)?;
                        if ok {
                            self.eflags |= ZF;
                        } else {
                            self.eflags &= !ZF;
                        }
                    }
                    _ => return Err(ud()),
                }
            }
            0x01 => match i.reg() {
                0 | 1 => {
                    let (base, limit) = if i.reg() == 0 { self.gdtr } else { self.idtr };
                    let a = self.ea(i);
                    let s = i.mseg();
                    self.wr(bus, s, a, 2, limit as u32)?;
                    // A 16-bit store on the 286/386 writes the top byte as FF (286) or the base's top (386 stores all 32 with o32).
                    let b = if i.o32 {
                        base
                    } else if self.model.generation() == 2 {
                        base | 0xFF00_0000
                    } else {
                        base & 0x00FF_FFFF
                    };
                    self.wr(bus, s, a.wrapping_add(2), 4, b)?;
                }
                2 | 3 => {
                    self.check_cpl0()?;
                    let a = self.ea(i);
                    let s = i.mseg();
                    let limit = self.rd(bus, s, a, 2)? as u16;
                    let mut base = self.rd(bus, s, a.wrapping_add(2), 4)?;
                    if !i.o32 {
                        base &= 0x00FF_FFFF;
                    }
                    if i.reg() == 2 {
                        self.gdtr = (base, limit);
                    } else {
                        self.idtr = (base, limit);
                    }
                }
                4 => {
                    let v = self.cr[0] & 0xFFFF;
                    if i.mem {
                        self.write_e(bus, i, 2, v)?;
                    } else {
                        self.set_reg(osz, i.rm(), if osz == 4 { self.cr[0] } else { v });
                    }
                }
                6 => {
                    self.check_cpl0()?;
                    let v = self.read_e(bus, i, 2)?;
                    // LMSW sets PE but never clears it; it writes MP, EM, TS.
                    let pe = (self.cr[0] | v) & 1;
                    let n = (self.cr[0] & !0xE) | (v & 0xE) | pe;
                    self.set_cr0(n);
                }
                7 => {
                    self.check_cpl0()?;
                    // Global entries too (INVLPG is how they are dropped one by one).
                    self.tlb_stats.flushes_invlpg += 1;
                    self.flush_tlb_all();
                }
                _ => return Err(ud()),
            },
            0x02 | 0x03 => {
                if !pm {
                    return Err(ud());
                }
                let s = self.read_e(bus, i, 2)? as u16;
                match self.lar_lsl(bus, s, op == 0x02)? {
                    Some(v) => {
                        self.set_reg(osz, i.reg(), v);
                        self.eflags |= ZF;
                    }
                    None => self.eflags &= !ZF,
                }
            }
            0x06 => {
                self.check_cpl0()?;
                self.cr[0] &= !8;
                self.x87_regate();
            }
            0x08 | 0x09 => self.check_cpl0()?,
            0x20 | 0x22 => {
                self.check_cpl0()?;
                let n = i.reg();
                if n == 1 || n > 4 || (n == 4 && self.model.generation() < 5) {
                    return Err(ud());
                }
                if op == 0x20 {
                    self.r[i.rm()] = self.cr[n];
                } else {
                    let v = self.r[i.rm()];
                    match n {
                        0 => {
                            if v & 0x8000_0001 == 0x8000_0000 {
                                return Err(gp(0));
                            }
                            self.set_cr0(v);
                        }
                        3 => {
                            self.cr[3] = v & 0xFFFF_F018;
                            self.flush_tlb();
                        }
                        4 => self.set_cr4(v)?,
                        _ => self.cr[n] = v,
                    }
                }
            }
            0x21 | 0x23 => {
                self.check_cpl0()?;
                let mut n = i.reg();
                if n == 4 || n == 5 {
                    // DR4/DR5 alias DR6/DR7 unless CR4.DE makes them #UD.
                    if self.cr[4] & p6::CR4_DE != 0 {
                        return Err(ud());
                    }
                    if self.model.generation() >= 5 {
                        n += 2;
                    }
                }
                self.general_detect()?;
                if op == 0x21 {
                    self.r[i.rm()] = self.dr[n];
                } else {
                    self.dr[n] = self.r[i.rm()];
                    // DR7 may have armed a data breakpoint.
                    self.seg_fast_off();
                }
            }
            0x24 | 0x26 => {
                self.check_cpl0()?;
                let n = i.reg();
                if n < 6 {
                    return Err(ud());
                }
                if op == 0x24 {
                    self.r[i.rm()] = self.tr67[n - 6];
                } else {
                    self.tr67[n - 6] = self.r[i.rm()];
                }
            }
            0x90..=0x9F => {
                let v = self.cond((op & 0xF) as u8) as u32;
                self.write_e(bus, i, 1, v)?;
            }
            0xA3 | 0xAB | 0xB3 | 0xBB | 0xBA => {
                let kind = if op == 0xBA {
                    i.reg() as u32 & 3
                } else {
                    (op as u32 >> 3) & 3
                };
                let bits = osz * 8;
                let (mut off, bit) = if op == 0xBA {
                    (0u32, i.imm & (bits - 1))
                } else {
                    let b = self.reg(osz, i.reg());
                    if i.mem {
                        // A register bit offset reaches beyond the operand (signed).
                        let sb = sext_sz(b, osz) as i32;
                        let word = sb.div_euclid(bits as i32);
                        (
                            (word * osz as i32) as u32,
                            (sb.rem_euclid(bits as i32)) as u32,
                        )
                    } else {
                        (0, b & (bits - 1))
                    }
                };
                if !i.a32 {
                    off &= 0xFFFF;
                }
                let (v, addr) = if i.mem {
                    let a = self.ea(i).wrapping_add(off);
                    let a = if i.a32 { a } else { a & 0xFFFF };
                    (self.rd(bus, i.mseg(), a, osz)?, Some(a))
                } else {
                    (self.reg(osz, i.rm()), None)
                };
                let m = 1u32 << bit;
                if v & m != 0 {
                    self.eflags |= CF;
                } else {
                    self.eflags &= !CF;
                }
                if self.model.generation() == 3 && bit != 0 {
                    // The 386 leaves OF as an RCR of the operand by the bit
                    // offset with CF clear would (test386's README).
                    let (r, f) = by_width!(osz, shift(3, v, bit, 0));
                    let sign = 1u32 << (osz * 8 - 1);
                    if (r & sign != 0) != (f & CF != 0) {
                        self.eflags |= OF;
                    } else {
                        self.eflags &= !OF;
                    }
                }
                let nv = match kind {
                    0 => None,
                    1 => Some(v | m),
                    2 => Some(v & !m),
                    _ => Some(v ^ m),
                };
                if let Some(nv) = nv {
                    match addr {
                        Some(a) => self.wr(bus, i.mseg(), a, osz, nv)?,
                        None => self.set_reg(osz, i.rm(), nv),
                    }
                }
            }
            0xA4 | 0xA5 | 0xAC | 0xAD => {
                let cnt = if op & 1 == 0 { i.imm } else { self.r[1] } & 31;
                if cnt != 0 {
                    self.check_write_e(bus, i, osz)?;
                    let d = self.read_e(bus, i, osz)?;
                    let s = self.reg(osz, i.reg());
                    let left = op < 0xAC;
                    let (r, f) = if osz == 2 && cnt > 16 {
                        // Counts past 16 on a word shift through the 32-bit source-destination pair.
                        let wide = if left { (d << 16) | s } else { (s << 16) | d };
                        let (r32, f) = double_shift::<W32>(left, wide, wide, cnt, self.eflags);
                        let r = if left { r32 >> 16 } else { r32 & 0xFFFF };
                        (r, f & !(SF | ZF | PF) | szp::<W16>(r))
                    } else {
                        by_width!(osz, double_shift(left, d, s, cnt, self.eflags))
                    };
                    self.write_e(bus, i, osz, r)?;
                    self.eflags = f;
                }
            }
            0xB0 | 0xB1 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                self.check_write_e(bus, i, sz)?;
                let d = self.read_e(bus, i, sz)?;
                let a = self.reg(sz, 0);
                let (_, f) = by_width!(sz, sub(a, d, 0));
                self.set_flags(STATUS, f);
                if a == d {
                    let s = self.reg(sz, i.reg());
                    self.write_e(bus, i, sz, s)?;
                } else {
                    // The destination is written back unchanged (a locked cycle).
                    self.write_e(bus, i, sz, d)?;
                    self.set_reg(sz, 0, d);
                }
            }
            0xB6 | 0xB7 | 0xBE | 0xBF => {
                let ssz = if op & 1 == 0 { 1 } else { 2 };
                let v = self.read_e(bus, i, ssz)?;
                let v = if op >= 0xBE { sext_sz(v, ssz) } else { v };
                self.set_reg(osz, i.reg(), v);
            }
            0xBC | 0xBD => {
                let v = self.read_e(bus, i, osz)?;
                if v == 0 {
                    self.eflags |= ZF;
                } else {
                    self.eflags &= !ZF;
                    let n = if op == 0xBC {
                        v.trailing_zeros()
                    } else {
                        31 - v.leading_zeros()
                    };
                    self.set_reg(osz, i.reg(), n);
                }
            }
            0xC0 | 0xC1 => {
                let sz = if op & 1 == 0 { 1 } else { osz };
                self.check_write_e(bus, i, sz)?;
                let d = self.read_e(bus, i, sz)?;
                let s = self.reg(sz, i.reg());
                let (r, f) = by_width!(sz, add(d, s, 0));
                self.set_reg(sz, i.reg(), d);
                self.write_e(bus, i, sz, r)?;
                self.set_flags(STATUS, f);
            }
            0xC8..=0xCF => {
                let n = (op & 7) as usize;
                self.r[n] = self.r[n].swap_bytes();
            }
            0x0B | 0x30..=0x35 | 0x40..=0x4F | 0xA2 | 0xAE | 0xC7 => {
                self.execute_p6(bus, i, osz)?
            }
            _ => return Err(ud()),
        }
        Ok(())
    }

    /// Write CR0; paging or protection changes flush the TLB.
    pub(crate) fn set_cr0(&mut self, v: u32) {
        let fixed = match self.model.generation() {
            2 => 0xFFF0,
            3 => 0x10,
            _ => 0,
        };
        let keep = match self.model.generation() {
            2 => 0xF,
            3 => 0x8000_001F,
            _ => 0xE005_003F,
        };
        let old = self.cr[0];
        let mut n = (v & keep) | fixed;
        if self.model.generation() == 2 {
            // The 286 MSW cannot leave protected mode.
            n |= old & 1;
        }
        self.cr[0] = n;
        if (old ^ n) & 0xC != 0 {
            self.x87_regate();
        }
        if (old ^ n) & 0x8000_0000 != 0 {
            // The segments' fast ends carry the direct path's paging mode.
            self.seg_fast_off();
        }
        if (old ^ n) & 0x8001_0001 != 0 {
            self.tlb_stats.flushes_cr0 += 1;
            self.flush_tlb_all();
        }
        if n & 1 == 0 {
            self.save_seg();
            self.cpl = 0;
        }
    }
}

/// The 286's flags after a shift or rotate by `cnt` (already masked to
/// five bits): its microcode shifts one bit at a time, so CF is the last
/// bit shifted out (zero once the operand is all shifted away, whatever the
/// count), OF compares the final sign with CF (SHL/ROL/RCL) or the two top
/// bits (ROR/RCR) or is the sign before the last step (SHR), SHL's AF is
/// bit 4 of the result (the shift is an add of the operand to itself) and
/// SHR/SAR set AF. The 16-bit core's 80286 model follows the same rules
/// and passes every 286 shift vector.
fn shift286(op: u8, v: u32, cnt: u32, sz: u32, flags: u32) -> u32 {
    if cnt == 0 {
        return flags;
    }
    let bits = 8 * sz;
    let m = mask(sz);
    let sb = 1u32 << (bits - 1);
    let mut r = v & m;
    let mut cf = flags & CF != 0;
    let mut af = false;
    let mut before = r;
    for _ in 0..cnt {
        before = r;
        match op & 7 {
            0 => {
                cf = r & sb != 0;
                r = ((r << 1) | cf as u32) & m;
            }
            1 => {
                cf = r & 1 != 0;
                r = (r >> 1) | if cf { sb } else { 0 };
            }
            2 => {
                let out = r & sb != 0;
                r = ((r << 1) | cf as u32) & m;
                cf = out;
            }
            3 => {
                let out = r & 1 != 0;
                r = (r >> 1) | if cf { sb } else { 0 };
                cf = out;
            }
            4 | 6 => {
                cf = r & sb != 0;
                r = (r << 1) & m;
                af = r & 0x10 != 0;
            }
            5 => {
                cf = r & 1 != 0;
                r >>= 1;
                af = true;
            }
            _ => {
                cf = r & 1 != 0;
                r = (r >> 1) | (r & sb);
                af = true;
            }
        }
    }
    let msb = r & sb != 0;
    let of = match op & 7 {
        0 | 2 | 4 | 6 => msb != cf,
        1 | 3 => msb != (r & (sb >> 1) != 0),
        5 => before & sb != 0,
        _ => false,
    };
    let mut f = flags & !(CF | OF);
    if cf {
        f |= CF;
    }
    if of {
        f |= OF;
    }
    if op & 7 >= 4 {
        f &= !(SF | ZF | PF | AF);
        f |= by_width!(sz, szp(r));
        if af {
            f |= AF;
        }
    }
    f
}

/// The 386's undefined CF/OF/AF of byte and word shifts and rotates, as
/// measured by test386's authors (its README lists them).
fn undef386_shift(op: u8, v: u32, cnt: u32, sz: u32, f: u32) -> u32 {
    let bits = 8 * sz;
    let mut f = f;
    let set = |f: &mut u32, bit: u32, on: bool| {
        if on {
            *f |= bit
        } else {
            *f &= !bit
        }
    };
    match op & 7 {
        4 | 6 => {
            f |= AF;
            if cnt % bits == 0 && cnt < 32 {
                let c = v & 1 != 0;
                set(&mut f, CF, c);
                set(&mut f, OF, c);
            } else if cnt > bits {
                f &= !(CF | OF);
            }
        }
        5 => {
            f |= AF;
            // OF comes from the last one-bit step: the sign of the value it shifted.
            set(&mut f, OF, (v >> (cnt - 1)) & (1 << (bits - 1)) != 0);
            if sz == 1 {
                if cnt % 8 == 0 {
                    set(&mut f, CF, v & 0x80 != 0);
                    f &= !OF;
                } else if cnt > 8 {
                    f &= !(CF | OF);
                }
            }
        }
        _ => {}
    }
    f
}
