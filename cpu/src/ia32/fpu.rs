//! The x87 on the ia32 core: ESC D8–DF and WAIT through [`crate::x87::Fpu`],
//! memory operands through the core's segmentation and paging, #NM from
//! CR0.EM/TS/MP, #MF (CR0.NE=1) or FERR# (CR0.NE=0), FXSAVE/FXRSTOR.
//!
//! The FPU's state is only changed by an instruction that completes: a
//! memory fault leaves it as it was (the x87 module guarantees this for
//! its own accesses, and every store is checked whole before a byte is
//! written), so the core's restart of the instruction is exact.

use super::decode::Insn;
use super::mem::Acc;
use super::width::*;
use super::*;
use crate::x87::{self, Fpu, FpuEnv, FpuError, FpuMemory};

/// The core's x87: present on the 486 and later, absent on a 386 unless a
/// 387 is attached ([`Cpu32::set_x87`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct X87 {
    pub unit: Option<Box<Fpu>>,
    /// FERR# went active since the board last looked ([`Cpu32::take_ferr`]).
    pub ferr_edge: bool,
    /// The lean forms' gate ([`Fpu::lean_gate`] of the unit; 0 when there
    /// is none, the 16-bit coprocessor interface is attached or CR0.EM or
    /// TS is set), so that they test one byte rather than CR0, the unit's
    /// status and control words and the interface. Worked out again after everything that can change
    /// those outside the lean forms: the general and fast ESC paths
    /// ([`Cpu32::x87_esc_general`]; the fast paths cannot make a set gate
    /// wrong, see there), the lean forms' fallback,
    /// FXRSTOR, reset, attaching a unit or a coprocessor, a state restore,
    /// and the writers of CR0.EM/TS (MOV CR0 and LMSW through `set_cr0`,
    /// CLTS, a task switch's TS) ([`Cpu32::x87_regate`]). A gate left 0 only sends lean forms to
    /// their fallback, which works it out again; one left set wrongly is
    /// caught by the lean forms' debug assertion.
    pub lean: u8,
}

impl X87 {
    /// RESET: the integrated FPU is present from the 486 on, in its
    /// initialized state.
    pub fn reset(&mut self, model: Model32) {
        if model.generation() >= 4 || self.unit.is_some() {
            let mut f = Fpu::new();
            f.finit();
            self.unit = Some(Box::new(f));
        }
        self.ferr_edge = false;
    }
}

/// The memory operand of one x87 instruction: offsets from its effective
/// address, through the segment and the pages.
struct OperandMem<'a> {
    cpu: &'a mut Cpu32,
    bus: &'a mut dyn Bus,
    seg: usize,
    ea: u32,
    a32: bool,
}

impl OperandMem<'_> {
    fn off(&self, offset: u32) -> u32 {
        let a = self.ea.wrapping_add(offset);
        if self.a32 {
            a
        } else {
            a & 0xFFFF
        }
    }
}

impl OperandMem<'_> {
    /// The physical address of an operand of `len` bytes at `lin` that lies
    /// in one page (translated once, A/D bits and faults as for its first
    /// byte, which on one page are those of every byte), with any data
    /// breakpoints it hits noted; `None` when it crosses a page (the
    /// caller then goes byte by byte). An m64 load is then one translation
    /// and one RAM slice instead of eight of each.
    fn in_page_ram(&mut self, lin: u32, len: u32, write: bool, user: bool) -> R<Option<u32>> {
        if (lin & 0xFFF) + len > 0x1000 {
            return Ok(None);
        }
        let p = self.cpu.translate(self.bus, lin, write, user)?;
        let m = self.cpu.model.address_mask();
        let p = p & m;
        if p > m - (len - 1) {
            return Ok(None);
        }
        if self.cpu.breakpoints_armed() {
            self.cpu.data_breakpoint(lin, len, write);
        }
        Ok(Some(p))
    }
}

impl FpuMemory for OperandMem<'_> {
    type Fault = Fault;
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> R<()> {
        let off = self.off(offset);
        let lin = self
            .cpu
            .seg_lin(self.seg, off, buf.len() as u32, Acc::Read)?;
        let u = self.cpu.user();
        if let Some(p) = self.in_page_ram(lin, buf.len() as u32, false, u)? {
            if let Some(s) = self.bus.ram_mut(p, buf.len() as u32) {
                if s.len() == buf.len() {
                    buf.copy_from_slice(s);
                    return Ok(());
                }
            }
        }
        for (k, b) in buf.iter_mut().enumerate() {
            *b = self
                .cpu
                .lin_read(self.bus, lin.wrapping_add(k as u32), 1, u)? as u8;
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, buf: &[u8]) -> R<()> {
        let off = self.off(offset);
        let len = buf.len() as u32;
        let lin = self.cpu.seg_lin(self.seg, off, len, Acc::Write)?;
        let u = self.cpu.user();
        // Every page the operand touches is checked before the first byte.
        let mut p = lin & !0xFFF;
        let end = lin.wrapping_add(len - 1) & !0xFFF;
        loop {
            let a = if p == lin & !0xFFF { lin } else { p };
            self.cpu.probe_write(self.bus, a, 1, u)?;
            if p == end {
                break;
            }
            p = p.wrapping_add(0x1000);
        }
        if let Some(p) = self.in_page_ram(lin, len, true, u)? {
            self.cpu.note_write(p, len);
            if let Some(s) = self.bus.ram_mut(p, len) {
                if s.len() == buf.len() {
                    s.copy_from_slice(buf);
                    return Ok(());
                }
            }
        }
        for (k, &b) in buf.iter().enumerate() {
            self.cpu
                .lin_write(self.bus, lin.wrapping_add(k as u32), 1, b as u32, u)?;
        }
        Ok(())
    }
}

/// FCMOVcc, FCOMI, FUCOMI(P), FCOMIP: the P6 additions to the x87.
fn is_p6_x87(op: u8, modrm: u8) -> bool {
    matches!(
        (op, modrm),
        (0xDA, 0xC0..=0xDF) | (0xDB, 0xC0..=0xDF) | (0xDB, 0xE8..=0xF7) | (0xDF, 0xE8..=0xF7)
    )
}

/// FPREM1, FUCOM(P)(P), FSIN, FCOS, FSINCOS: the 387's additions, which
/// the 80287 does not have.
fn is_387_only(op: u8, modrm: u8) -> bool {
    matches!(
        (op, modrm),
        (0xD9, 0xF5 | 0xFB | 0xFE | 0xFF) | (0xDA, 0xE9) | (0xDD, 0xE0..=0xEF)
    )
}

/// [`x87_aux`]: no fast path for this form.
pub(crate) const X87_GENERAL: u8 = 0;
/// [`x87_aux`]: a register form [`Fpu::fast_reg_lazy`] may take.
pub(crate) const X87_REG: u8 = 1;
/// [`x87_aux`]: FNSTSW AX.
pub(crate) const X87_FNSTSW: u8 = 2;
/// [`x87_aux`]: FADD…FDIVR between ST(0) and ST(i)
/// ([`Fpu::fast_arith_reg_lazy`]).
pub(crate) const X87_ARITH: u8 = 3;
/// [`x87_aux`] bit: a memory form that reads its operand (the length in
/// the low four bits).
pub(crate) const X87_LOAD: u8 = 0x10;
/// [`x87_aux`] bit: a memory form that stores ST(0) (the length in the low
/// four bits).
pub(crate) const X87_STORE: u8 = 0x20;

/// What the x87's fast path may do with an ESC instruction, worked out
/// once by the decoder (forms.rs keeps it in [`Insn::aux`] of the `X87`
/// form): [`X87_ARITH`] for the register arithmetic
/// ([`Fpu::fast_arith_reg_lazy`]), [`X87_REG`] for the other register forms
/// [`Fpu::fast_reg_lazy`] takes, [`X87_FNSTSW`], [`X87_LOAD`] or [`X87_STORE`] with the operand's
/// length for the memory forms [`Fpu::fast_mem_lazy`] and
/// [`Fpu::fast_st_value`] take, [`X87_GENERAL`] for the rest (which then
/// skips the fast path's attempts).
pub(crate) fn x87_aux(i: &Insn) -> u8 {
    let op = i.op as u8;
    let reg = (i.modrm >> 3) & 7;
    let rm = i.modrm & 7;
    if !i.mem {
        return match (op, reg) {
            (0xDF, 4) if rm == 0 => X87_FNSTSW,
            (0xD8 | 0xDC | 0xDE, 0 | 1 | 4..=7) => X87_ARITH,
            (0xD9, 0 | 1) | (0xD8, 2 | 3) | (0xDD, 2 | 3) => X87_REG,
            (0xDE, 3) if rm == 1 => X87_REG,
            (0xD9, 4) if rm <= 1 => X87_REG,
            (0xD9, 5) if rm == 0 || rm == 6 => X87_REG,
            _ => X87_GENERAL,
        };
    }
    let len = match op {
        0xDC | 0xDD => 8,
        0xDE | 0xDF => 2,
        _ => 4,
    };
    match (op, reg) {
        (0xD8 | 0xDA | 0xDC | 0xDE, _) | (0xD9 | 0xDB | 0xDD | 0xDF, 0) => X87_LOAD | len,
        (0xD9 | 0xDB | 0xDD | 0xDF, 2 | 3) => X87_STORE | len,
        _ => X87_GENERAL,
    }
}

/// [`x87_lean`]: FADD ST(0),ST(i) and its DC/DE forms (destination ST(i),
/// pop), both registers held as doubles ([`Cpu32::x87_lean_arith`]). The
/// register arithmetic has a kind (so a decoded form, forms.rs) per
/// operation, `LEAN_ARITH | code` (`code` as [`f80::fast_value_f64`]), so
/// that the form runs one operation's straight path with no jump on it.
pub(crate) const LEAN_FADD: u8 = LEAN_ARITH;
/// See [`LEAN_FADD`].
pub(crate) const LEAN_FMUL: u8 = LEAN_ARITH | 1;
/// See [`LEAN_FADD`] (FSUB of D8; DC/DE's FSUBR, which subtracts the same way round).
pub(crate) const LEAN_FSUB: u8 = LEAN_ARITH | 4;
/// See [`LEAN_FSUB`].
pub(crate) const LEAN_FSUBR: u8 = LEAN_ARITH | 5;
/// See [`LEAN_FSUB`].
pub(crate) const LEAN_FDIV: u8 = LEAN_ARITH | 6;
/// See [`LEAN_FSUB`].
pub(crate) const LEAN_FDIVR: u8 = LEAN_ARITH | 7;
/// [`LEAN_FADD`] with destination ST(i) (DC, DE).
pub(crate) const LEAN_FADD_STI: u8 = LEAN_FADD | LEAN_DST_STI;
/// See [`LEAN_FADD_STI`].
pub(crate) const LEAN_FMUL_STI: u8 = LEAN_FMUL | LEAN_DST_STI;
/// See [`LEAN_FADD_STI`].
pub(crate) const LEAN_FSUB_STI: u8 = LEAN_FSUB | LEAN_DST_STI;
/// See [`LEAN_FADD_STI`].
pub(crate) const LEAN_FSUBR_STI: u8 = LEAN_FSUBR | LEAN_DST_STI;
/// See [`LEAN_FADD_STI`].
pub(crate) const LEAN_FDIV_STI: u8 = LEAN_FDIV | LEAN_DST_STI;
/// See [`LEAN_FADD_STI`].
pub(crate) const LEAN_FDIVR_STI: u8 = LEAN_FDIVR | LEAN_DST_STI;
/// The register arithmetic's kinds, `LEAN_ARITH | code` (destination
/// ST(0), D8) and `LEAN_ARITH | LEAN_DST_STI | code` (destination ST(i),
/// DC and DE: a form each, so that no form chooses its direction at run
/// time).
const LEAN_ARITH: u8 = 0x10;
/// [`x87_lean`]: FLD ST(i), FXCH ST(i), FST ST(i), FSTP ST(i), FNSTSW AX
/// ([`Cpu32::x87_lean_stack`]): a kind (a decoded form) each,
/// `LEAN_STACK | SUB` (`SUB` as [`Fpu::lean_stack`]'s; 4 FNSTSW AX, 5
/// FLD1/FLDZ).
pub(crate) const LEAN_FLD: u8 = LEAN_STACK;
/// See [`LEAN_FLD`].
pub(crate) const LEAN_FXCH: u8 = LEAN_STACK | 1;
/// See [`LEAN_FLD`].
pub(crate) const LEAN_FST: u8 = LEAN_STACK | 2;
/// See [`LEAN_FLD`].
pub(crate) const LEAN_FSTP: u8 = LEAN_STACK | 3;
/// See [`LEAN_FLD`].
pub(crate) const LEAN_FNSTSW: u8 = LEAN_STACK | 4;
/// See [`LEAN_FLD`]: FLD1 and FLDZ (one form, the constant from ModR/M).
pub(crate) const LEAN_FLDC: u8 = LEAN_STACK | 5;
/// The stack forms' kinds, `LEAN_STACK | SUB`.
const LEAN_STACK: u8 = 0x20;
/// [`x87_lean`]: FADD…FDIVR/FCOM(P) m64 ([`Cpu32::x87_lean_m64`]).
pub(crate) const LEAN_M64: u8 = 3;
/// [`x87_lean`]: FLD m64 ([`Cpu32::x87_lean_fld64`]).
pub(crate) const LEAN_FLD64: u8 = 4;
/// [`x87_lean`]: FST(P) m64 ([`Cpu32::x87_lean_fst64`]).
pub(crate) const LEAN_FST64: u8 = 5;
/// [`x87_lean`]: FILD m32 ([`Cpu32::x87_lean_fild32`]).
pub(crate) const LEAN_FILD32: u8 = 6;

/// The lean form of an ESC instruction, if it has one: a kind
/// (`LEAN_*`, each a decoded form of its own in forms.rs) and that
/// form's aux byte. These are the forms a loop over doubles is made of;
/// each lean form does only its own work for the common case (the
/// 027Fh-class control word, operands held as doubles, no error pending,
/// the operand in plain RAM) and otherwise hands the instruction, with
/// nothing changed, to [`Cpu32::f_x87`] with its [`x87_aux`] kind.
pub(crate) fn x87_lean(i: &Insn) -> Option<(u8, u8)> {
    let op = i.op as u8;
    let reg = (i.modrm >> 3) & 7;
    let rm = i.modrm & 7;
    if !i.mem {
        return match (op, reg) {
            (0xD8 | 0xDC | 0xDE, 0 | 1 | 4..=7) => {
                // DC/DE name SUB/SUBR and DIV/DIVR the other way round,
                // and their destination is ST(i).
                let (code, swap) = if op == 0xD8 {
                    (reg, 0)
                } else {
                    (reg ^ ((reg >> 2) & 1), LEAN_DST_STI)
                };
                let pop = if op == 0xDE { LEAN_POP } else { 0 };
                Some((LEAN_ARITH | swap | code, code | swap | pop))
            }
            (0xD9, 0) => Some((LEAN_FLD, 0)),
            (0xD9, 1) => Some((LEAN_FXCH, 1)),
            (0xDD, 2) => Some((LEAN_FST, 2)),
            (0xDD, 3) => Some((LEAN_FSTP, 3)),
            (0xDF, 4) if rm == 0 => Some((LEAN_FNSTSW, 4)),
            (0xD9, 5) if rm == 0 || rm == 6 => Some((LEAN_FLDC, 5)),
            _ => None,
        };
    }
    match (op, reg) {
        (0xDC, _) => Some((LEAN_M64, reg)),
        (0xDD, 0) => Some((LEAN_FLD64, 0)),
        (0xDD, 2 | 3) => Some((LEAN_FST64, reg)),
        (0xDB, 0) => Some((LEAN_FILD32, 0)),
        _ => None,
    }
}

/// The register arithmetic's aux bit, and its kind's: the destination is
/// ST(i) (DC, DE), else ST(0) (the aux's low three bits are the
/// operation's code).
const LEAN_DST_STI: u8 = 8;
/// The register arithmetic's aux bit: pop after (DE).
const LEAN_POP: u8 = 0x10;

/// The FPU opcode register's value for an ESC instruction (its low three
/// opcode bits and the ModR/M byte).
#[inline(always)]
pub(crate) fn fop_value(op: u8, modrm: u8) -> u16 {
    (((op & 7) as u16) << 8) | modrm as u16
}

/// [`fop_value`] of a decoded ESC instruction: the decoder keeps it in
/// `imm` (ESC has no immediate), one load for the lean forms.
#[inline(always)]
fn fop_of(i: &Insn) -> u16 {
    debug_assert_eq!(i.imm as u16, fop_value(i.op as u8, i.modrm));
    i.imm as u16
}

/// An FPU pointer register pair: offset and selector (FIP/FCS, FDP/FDS).
type FpuPtr = (u32, u16);

/// A lean form's answer when done. A constant rather than `Ok(false)`
/// written in place: that writes only the bytes the value needs, and
/// where it joins the fallback's result LLVM rebuilt the whole
/// `Result` from its pieces (ten host instructions on every lean form),
/// and the fallback's call could not be a tail call.
const OK_FALSE: R<bool> = Ok(false);

/// The instruction and data pointers and FOP of a lean memory form at
/// `ea`, the instruction at `ip` ([`Fpu::lean_m64`]'s `ptrs`).
#[inline(always)]
fn lean_ptrs(i: &Insn, ea: u32, ip: u32, seg: &[SegCache; 6]) -> (FpuPtr, FpuPtr, u16) {
    ((ip, seg[CS].sel), (ea, seg[i.mseg()].sel), fop_of(i))
}
impl Cpu32 {
    /// Attach (or remove) a coprocessor beside a 386 (an 80387) or a 286
    /// (an 80287: the 387's additions do nothing there, see `x87_esc`);
    /// the 486 and later always have their integrated FPU.
    pub fn set_x87(&mut self, present: bool) {
        if present {
            if self.x87.unit.is_none() {
                let mut f = Fpu::new();
                f.finit();
                self.x87.unit = Some(Box::new(f));
            }
        } else if self.model.generation() < 4 {
            self.x87.unit = None;
        }
        self.x87_regate();
    }

    /// Works the lean x87 forms' gate out again from the unit, the
    /// coprocessor interface and CR0.EM/TS. The core does it wherever it
    /// changes them; code that writes EM or TS into [`Cpu32::cr`] directly
    /// calls it after (until then the lean forms would not raise #NM).
    pub fn x87_regate(&mut self) {
        self.x87.lean = match self.x87.unit.as_deref() {
            Some(u) if self.fpu.is_none() && self.cr[0] & 0xC == 0 => u.lean_gate(),
            _ => 0,
        };
    }

    /// A copy of the x87 state, if the CPU has one (settled: the fast
    /// path's lazy PE and C1 worked out).
    pub fn x87(&self) -> Option<Fpu> {
        self.x87.unit.as_deref().cloned()
    }

    /// FERR#: an unmasked x87 exception is pending while CR0.NE is clear
    /// (the level the board turns into IRQ 13).
    pub fn ferr(&self) -> bool {
        !self.x87_ne() && self.x87.unit.as_ref().is_some_and(|f| f.error_pending())
    }

    /// True once each time FERR# went active (for boards that raise IRQ 13
    /// on the edge, e.g. the AT board's `set_fpu_error()`).
    pub fn take_ferr(&mut self) -> bool {
        std::mem::take(&mut self.x87.ferr_edge)
    }

    /// CR0.NE: x87 errors as #MF. Only the 486 and later have the bit (the
    /// 286's MSW reads its unused bits as ones; on the 386 bit 5 is
    /// reserved), so a 287 or 387 always reports through FERR#/ERROR#.
    fn x87_ne(&self) -> bool {
        self.model.generation() >= 4 && self.cr[0] & 0x20 != 0
    }

    /// True when the integrated/attached x87 handles ESC.
    pub(crate) fn has_x87(&self) -> bool {
        self.x87.unit.is_some() && self.fpu.is_none()
    }

    /// A pending x87 error at a waiting instruction: #MF with CR0.NE,
    /// otherwise FERR# (already driven) and the instruction goes on, as it
    /// does on a PC once the IRQ 13 handler has asserted IGNNE#.
    fn x87_report(&mut self) -> R<()> {
        if self.x87.unit.as_ref().is_some_and(|f| f.error_pending()) {
            if self.x87_ne() {
                return Err(fault_nc(16));
            }
            self.x87.ferr_edge = true;
        }
        Ok(())
    }

    /// WAIT/FWAIT after its #NM check.
    pub(crate) fn x87_wait(&mut self) -> R<()> {
        if self.has_x87() {
            self.x87_report()?;
        }
        Ok(())
    }

    /// The x87's decoded form (forms.rs `X87`, [`x87_aux`] in `aux`): ESC
    /// D8–DF run from the decoded-instruction cache without the general
    /// path's dispatch, the register forms of a loop over doubles straight
    /// to [`Fpu::fast_reg_lazy`]; the rest in [`Cpu32::f_x87_rest`]. Out
    /// of the run loop: inlined there it cost integer code 2.7% (callgrind,
    /// mix32) through the loop's register allocation.
    #[inline(never)]
    pub(crate) fn f_x87<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        next: u32,
        start: u32,
    ) -> R<()> {
        // The lean forms' aux is their own: their kind is worked out again
        // (they come here only when their lean work declined).
        let k = if i.form == super::forms::X87_ESC {
            i.aux
        } else {
            x87_aux(i)
        };
        self.f_x87_kind(bus, i, next, start, k)
    }

    /// [`Cpu32::f_x87`] for an instruction of [`x87_aux`] kind `k`.
    #[inline(always)]
    fn f_x87_kind<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        next: u32,
        start: u32,
        k: u8,
    ) -> R<()> {
        if k != X87_GENERAL && k <= X87_ARITH && self.cr[0] & 0xC == 0 && self.fpu.is_none() {
            let (ip, cs) = (self.insn_start, self.seg[CS].sel);
            if let Some(unit) = self.x87.unit.as_deref_mut() {
                let (op, modrm) = (i.op as u8, i.modrm);
                let done = if k == X87_ARITH {
                    unit.fast_arith_reg_lazy(op, modrm, ip, cs)
                } else if k == X87_REG {
                    unit.fast_reg_lazy(op, modrm, ip, cs)
                } else {
                    // FNSTSW AX: no wait, no pointers.
                    let ax = unit.fnstsw();
                    self.r[0] = (self.r[0] & 0xFFFF_0000) | ax as u32;
                    true
                };
                if done {
                    self.x87_fast_ferr();
                    return Ok(());
                }
            }
        }
        self.f_x87_rest(bus, i, next, start, k)
    }

    /// The x87 unit when ESC runs on it now: CR0.EM/TS clear, the CPU's
    /// own x87 (not the 16-bit coprocessor interface), no error pending
    /// (a waiting instruction would report it first) and no lazy PE to
    /// settle ([`Fpu::lean_ready`]: the lean forms then call nothing).
    /// The lean forms start here; None sends them to [`Cpu32::f_x87`].
    /// With it, the instruction's start and the segment registers, for
    /// the FPU's pointers: borrowed apart from the unit, so that the lean
    /// forms read them only once they have written everything else
    /// ([`Fpu::lean_arith`]).
    ///
    /// `NEED`: the [`X87::lean`] gate's bit the form needs
    /// ([`x87::LEAN_GATE_ARITH`] for the register arithmetic, which then
    /// leaves the control word unchecked). `FULL` (the fallback,
    /// [`Cpu32::f_x87_lean_full`]): the checks made in full rather than
    /// through the gate, which also lets through a state the gate leaves
    /// out (PE clear with no lazy operation, a control word of another
    /// class for the stack forms).
    #[inline(always)]
    fn x87_lean_unit<const NEED: u8, const FULL: bool>(
        &mut self,
    ) -> Option<(&mut Fpu, &u32, &[SegCache; 6])> {
        if FULL {
            if self.cr[0] & 0xC != 0 || self.fpu.is_some() {
                return None;
            }
            let u = self.x87.unit.as_deref_mut().filter(|u| u.lean_ready())?;
            return Some((u, &self.insn_start, &self.seg));
        }
        if self.x87.lean & NEED == 0 {
            return None;
        }
        debug_assert!(
            self.cr[0] & 0xC == 0 && self.fpu.is_none(),
            "x87: lean gate set under EM/TS"
        );
        let u = self.x87.unit.as_deref_mut()?;
        debug_assert!(
            u.lean_gate() & NEED != 0,
            "x87: lean gate {:x} left set (sw {:04x} cw {:04x})",
            NEED,
            u.sw,
            u.cw
        );
        Some((u, &self.insn_start, &self.seg))
    }

    /// The register arithmetic's forms ([`LEAN_FADD`]…[`LEAN_FDIVR`],
    /// `OP` the operation's code): FADD…FDIVR(P) between ST(0) and ST(i)
    /// with both held as doubles under a 027Fh-class control word
    /// ([`Fpu::lean_arith`]). True when done (nothing raised that FERR#
    /// would show: PE is masked and left lazy); false, nothing changed,
    /// for [`Cpu32::f_x87`].
    #[inline(always)]
    fn x87_lean_arith<const OP: u8, const STI: bool, const FULL: bool>(
        &mut self,
        i: &Insn,
    ) -> bool {
        match self.x87_lean_unit::<{ x87::LEAN_GATE_ARITH }, FULL>() {
            Some((u, ip, seg)) => {
                u.lean_arith::<OP, STI, FULL>(i.aux, i.modrm, || (*ip, seg[CS].sel, fop_of(i)))
            }
            None => false,
        }
    }

    /// The stack forms' lean work: FLD/FXCH/FST(P) ST(i) (`SUB` 0–3),
    /// FLD1/FLDZ (5, [`Fpu::lean_stack`]) and FNSTSW AX (4). True when done (these raise
    /// nothing); false, nothing changed, for [`Cpu32::f_x87`].
    #[inline(always)]
    fn x87_lean_stack<const SUB: u8, const FULL: bool>(&mut self, i: &Insn) -> bool {
        let Some((u, ip, seg)) = self.x87_lean_unit::<{ x87::LEAN_GATE_STACK }, FULL>() else {
            return false;
        };
        if SUB != 4 {
            return u.lean_stack::<SUB>(i.modrm, || (*ip, seg[CS].sel, fop_of(i)));
        }
        // FNSTSW AX: no wait, no pointers; no error pending, so no FERR#.
        // A lazy operation to work out goes the full way
        // (`f_x87_lean_full`).
        let Some(ax) = u.lean_fnstsw() else {
            return false;
        };
        self.r[0] = (self.r[0] & 0xFFFF_0000) | ax as u32;
        true
    }

    /// The physical address in [`Bus::ram_direct`] of an x87 operand of
    /// `len` bytes: the one-compare segment check (`seg_end`, which also
    /// stands for DR7's data breakpoints and the alignment check) and the
    /// TLB, as the core's own `rd`/`wr` fast path; None (no fault raised)
    /// for anything else, which the general path then does again in full.
    #[inline(always)]
    fn x87_direct(&self, i: &Insn, ea: u32, len: u32, acc: Acc) -> Option<usize> {
        let lin = self.seg_fast(i.mseg(), ea, len, acc == Acc::Write)?;
        self.direct_unguarded(lin, len, acc == Acc::Write, self.user())
    }

    /// The [`LEAN_M64`] form: FADD…FDIVR/FCOM(P) m64 with ST(0) held as a
    /// double ([`Fpu::lean_m64`]), the operand read as the core's integer
    /// forms read theirs. True when done; false, nothing changed, for
    /// [`Cpu32::f_x87`].
    #[inline(always)]
    fn x87_lean_m64<B: Bus + ?Sized, const FULL: bool>(&mut self, bus: &mut B, i: &Insn) -> bool {
        let Some((bits, ea)) = self.x87_lean_read64(bus, i) else {
            return false;
        };
        match self.x87_lean_unit::<{ x87::LEAN_GATE_STACK }, FULL>() {
            Some((u, ip, seg)) => u.lean_m64::<FULL>(i.aux, bits, || lean_ptrs(i, ea, *ip, seg)),
            None => false,
        }
    }

    /// The [`LEAN_FLD64`] form: FLD m64 of a double the registers can hold
    /// as one ([`Fpu::lean_fld64`]). True when done; false, nothing
    /// changed, for [`Cpu32::f_x87`].
    #[inline(always)]
    fn x87_lean_fld64<B: Bus + ?Sized, const FULL: bool>(&mut self, bus: &mut B, i: &Insn) -> bool {
        let Some((bits, ea)) = self.x87_lean_read64(bus, i) else {
            return false;
        };
        match self.x87_lean_unit::<{ x87::LEAN_GATE_STACK }, FULL>() {
            Some((u, ip, seg)) => u.lean_fld64(bits, || lean_ptrs(i, ea, *ip, seg)),
            None => false,
        }
    }

    /// The [`LEAN_FILD32`] form: FILD m32 into an empty register, held as
    /// the integer's double (exact: every 32-bit integer is a zero or a
    /// normal double within the registers' range, [`Fpu::lean_fild32`]).
    /// True when done; false, nothing changed, for [`Cpu32::f_x87`].
    #[inline(always)]
    fn x87_lean_fild32<B: Bus + ?Sized, const FULL: bool>(
        &mut self,
        bus: &mut B,
        i: &Insn,
    ) -> bool {
        let Some((b, ea)) = self.x87_lean_read::<B, 4>(bus, i) else {
            return false;
        };
        let v = i32::from_le_bytes(b);
        match self.x87_lean_unit::<{ x87::LEAN_GATE_STACK }, FULL>() {
            Some((u, ip, seg)) => u.lean_fild32(v, || lean_ptrs(i, ea, *ip, seg)),
            None => false,
        }
    }

    /// The lent RAM's index of a lean form's m64 operand at `ea`: through
    /// a flat segment as the integer forms' `rd`/`wr` ([`Cpu32::on_flat`]),
    /// else [`Cpu32::x87_direct`]'s segment check; None (no fault raised)
    /// for the full path. The caller checks the index against the lent
    /// RAM's length.
    #[inline(always)]
    fn x87_lean_at<const N: usize>(&mut self, i: &Insn, ea: u32, acc: Acc) -> Option<usize> {
        let at = |_: &mut Self, p: usize, ()| Ok(p);
        match self.on_flat(i.mseg(), ea, N as u32, acc == Acc::Write, (), at) {
            Ok(p) => Some(p),
            Err(()) => self.x87_direct(i, ea, N as u32, acc),
        }
    }

    /// The `N`-byte operand of a lean loading form (m64, FILD's m32), read
    /// as the core's integer forms read theirs ([`Cpu32::x87_lean_at`],
    /// then the lent RAM), and its effective address; None (nothing read
    /// twice: only plain RAM is taken) for the full path.
    #[inline(always)]
    fn x87_lean_read<B: Bus + ?Sized, const N: usize>(
        &mut self,
        bus: &mut B,
        i: &Insn,
    ) -> Option<([u8; N], u32)> {
        let ea = self.ea_as::<false>(i);
        let p = self.x87_lean_at::<N>(i, ea, Acc::Read)?;
        let b = bus.ram_direct().get(p..)?.first_chunk::<N>()?;
        Some((*b, ea))
    }

    /// [`Self::x87_lean_read`] of an m64 operand, as its bits.
    #[inline(always)]
    fn x87_lean_read64<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> Option<(u64, u32)> {
        let (b, ea) = self.x87_lean_read::<B, 8>(bus, i)?;
        Some((u64::from_le_bytes(b), ea))
    }

    /// The [`LEAN_FST64`] form: FST(P) m64 of an ST(0) held as a double
    /// (stored exactly, nothing raised): the address, the value, the write
    /// as the core's integer forms write, then [`Fpu::lean_st_done`], and
    /// the note for the decoded-instruction cache last (its rare call then
    /// keeps nothing live). True when done; false, nothing changed, for
    /// [`Cpu32::f_x87`].
    #[inline(always)]
    fn x87_lean_fst64<B: Bus + ?Sized, const FULL: bool>(&mut self, bus: &mut B, i: &Insn) -> bool {
        // The address first, then the unit once (borrowed until the
        // pointers are written: no second look-up of it).
        let ea = self.ea_as::<false>(i);
        let Some(p) = self.x87_lean_at::<8>(i, ea, Acc::Write) else {
            return false;
        };
        let Some((u, ip, seg)) = self.x87_lean_unit::<{ x87::LEAN_GATE_STACK }, FULL>() else {
            return false;
        };
        let Some((v, top)) = u.lean_st64_value() else {
            return false;
        };
        let Some(m) = bus
            .ram_direct()
            .get_mut(p..)
            .and_then(|m| m.first_chunk_mut::<8>())
        else {
            return false;
        };
        *m = v.to_le_bytes();
        u.lean_st_done(i.aux == 3, top, || lean_ptrs(i, ea, *ip, seg));
        self.note_write(p as u32, 8);
        true
    }

    /// The lean work of kind `K` (the `match` folds): true when done.
    /// `FULL` (only in the fallback, [`Cpu32::f_x87_lean_full`]): the
    /// checks made in full rather than through the [`X87::lean`] gate
    /// ([`Cpu32::x87_lean_unit`]), and the m64 forms take a zero operand
    /// too ([`Fpu::lean_m64`]).
    #[inline(always)]
    fn x87_lean_kind<B: Bus + ?Sized, const K: u8, const FULL: bool>(
        &mut self,
        bus: &mut B,
        i: &Insn,
    ) -> bool {
        match K {
            LEAN_FADD => self.x87_lean_arith::<0, false, FULL>(i),
            LEAN_FMUL => self.x87_lean_arith::<1, false, FULL>(i),
            LEAN_FSUB => self.x87_lean_arith::<4, false, FULL>(i),
            LEAN_FSUBR => self.x87_lean_arith::<5, false, FULL>(i),
            LEAN_FDIV => self.x87_lean_arith::<6, false, FULL>(i),
            LEAN_FDIVR => self.x87_lean_arith::<7, false, FULL>(i),
            LEAN_FADD_STI => self.x87_lean_arith::<0, true, FULL>(i),
            LEAN_FMUL_STI => self.x87_lean_arith::<1, true, FULL>(i),
            LEAN_FSUB_STI => self.x87_lean_arith::<4, true, FULL>(i),
            LEAN_FSUBR_STI => self.x87_lean_arith::<5, true, FULL>(i),
            LEAN_FDIV_STI => self.x87_lean_arith::<6, true, FULL>(i),
            LEAN_FDIVR_STI => self.x87_lean_arith::<7, true, FULL>(i),
            LEAN_FLD => self.x87_lean_stack::<0, FULL>(i),
            LEAN_FXCH => self.x87_lean_stack::<1, FULL>(i),
            LEAN_FST => self.x87_lean_stack::<2, FULL>(i),
            LEAN_FSTP => self.x87_lean_stack::<3, FULL>(i),
            LEAN_FNSTSW => self.x87_lean_stack::<4, FULL>(i),
            LEAN_FLDC => self.x87_lean_stack::<5, FULL>(i),
            LEAN_M64 => self.x87_lean_m64::<B, FULL>(bus, i),
            LEAN_FLD64 => self.x87_lean_fld64::<B, FULL>(bus, i),
            LEAN_FILD32 => self.x87_lean_fild32::<B, FULL>(bus, i),
            _ => self.x87_lean_fst64::<B, FULL>(bus, i),
        }
    }

    /// A lean x87 form from the run loop, `K` its kind ([`LEAN_FADD`]…
    /// [`LEAN_FDIVR`], [`LEAN_FLD`]…[`LEAN_FLDC`], [`LEAN_M64`],
    /// [`LEAN_FLD64`], [`LEAN_FST64`] or [`LEAN_FILD32`]: the
    /// `match` folds, so each kind is its own function with only its own
    /// work): the lean path ([`Cpu32::x87_lean_arith`] and its siblings),
    /// else [`Cpu32::f_x87_lean_full`], which does the instruction again
    /// in full. The result is whether the restart snapshot was taken
    /// (`LAP`: the run loop's lap, `slice.rs`): the lean path never takes
    /// it, because it decides before it writes anything and then neither
    /// faults (an operand it cannot reach directly sends it to the full
    /// path), nor touches EFLAGS, nor raises anything FERR# shows (no
    /// error was pending, PE is masked and stays lazy, ES stays clear).
    #[inline(never)]
    pub(crate) fn f_x87_lean<B: Bus + ?Sized, const K: u8, const LAP: bool>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        next: u32,
        start: u32,
    ) -> R<bool> {
        if self.x87_lean_kind::<B, K, false>(bus, i) {
            return OK_FALSE;
        }
        if LAP {
            // The lap's EIP is the next instruction's and its start the
            // instruction's (`start_unsnapped`): the fallback needs only
            // these three arguments, so the lean path keeps no more live.
            self.f_x87_lean_full::<B, K>(bus, i)
        } else {
            self.f_x87(bus, i, next, start).map(|()| false)
        }
    }

    /// A lean form's fallback in the run loop's lap or in a block's body
    /// (`slice.rs`): the restart snapshot at the instruction's start
    /// (nothing has changed since), then the instruction in full
    /// ([`Cpu32::f_x87`]); `Ok(true)` (snapshot taken, the lap's tests to
    /// make) only when it drove FERR#. A body keeps neither EIP nor the clocks up to
    /// date (the lap has EIP at the next instruction already), so EIP is
    /// set to the next instruction's here; a body's fault path restores
    /// no snapshot, so a fault puts the registers back here (the lap's
    /// restores the same snapshot again); and with a FERR# edge it marks the fetch context
    /// as to be brought up to date (`SEGS_SAVED`, as a segment load would,
    /// but without turning the segments' fast checks off): a body watches
    /// that after its lean x87 forms (`icache::build_block` counts them as
    /// reaching the bus) and stops, and the lap, about to look the fetch
    /// context up again (unchanged), ends the slice for FERR# (`slice.rs`).
    ///
    /// First, the lean path is tried again with its checks made in full
    /// rather than through the [`X87::lean`] gate (a state the gate leaves
    /// out: PE clear with no operation lazy, the stack forms under another
    /// control word), an m64 form ([`LEAN_M64`]) taking a zero operand,
    /// which its lean path declines ([`Fpu::lean_m64`]). Then,
    /// when the lean path declined only because the last operation's
    /// PE is still lazy while PE is clear (exact results so far, which the
    /// lean forms leave to be worked out here so that they call nothing),
    /// that is settled and the lean path tried again.
    #[cold]
    #[inline(never)]
    fn f_x87_lean_full<B: Bus + ?Sized, const K: u8>(&mut self, bus: &mut B, i: &Insn) -> R<bool> {
        let r = self.f_x87_lean_again::<B, K>(bus, i);
        // (`f_x87` has done it already when it ran; the settling and the
        // lean path's own work can also set the gate's PE.)
        self.x87_regate();
        r
    }

    /// [`Cpu32::f_x87_lean_full`] but for the gate.
    #[inline(always)]
    fn f_x87_lean_again<B: Bus + ?Sized, const K: u8>(&mut self, bus: &mut B, i: &Insn) -> R<bool> {
        if self.x87_lean_kind::<B, K, true>(bus, i) {
            return OK_FALSE;
        }
        if self.x87.unit.as_deref_mut().is_some_and(Fpu::lean_settle)
            && self.x87_lean_kind::<B, K, true>(bus, i)
        {
            return OK_FALSE;
        }
        if K == LEAN_FNSTSW {
            // The lean FNSTSW AX leaves a lazy operation's PE and C1 to be
            // worked out here (a call there would cost every lean form).
            if let Some((u, ..)) = self.x87_lean_unit::<0, true>() {
                let ax = u.fnstsw();
                self.r[0] = (self.r[0] & 0xFFFF_0000) | ax as u32;
                return OK_FALSE;
            }
        }
        let start = self.insn_start;
        let next = start.wrapping_add(i.len as u32) & super::exec::ip_mask(self.code32());
        self.eip = next;
        self.snapshot_at(start);
        match self.f_x87(bus, i, next, start) {
            // Of the lap's tests after a snapshot (TF, RF, IF, FERR#), only
            // FERR# can have changed (no x87 instruction writes the others):
            // without a new FERR# edge, the lap and a body go on as after a
            // lean form.
            Ok(()) if !self.x87.ferr_edge => Ok(false),
            Ok(()) => {
                self.fetch_hi |= super::icache::SEGS_SAVED;
                Ok(true)
            }
            Err(f) => {
                self.restore_snapshot();
                Err(f)
            }
        }
    }

    /// [`Cpu32::f_x87`] but for the register fast path: the general path
    /// when the CPU has no x87 of its own (no FPU, or the 16-bit
    /// coprocessor interface; either can change after decoding), else the
    /// fast memory forms and FNSTSW AX, else [`Cpu32::x87_esc_general`].
    #[inline(never)]
    fn f_x87_rest<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        next: u32,
        start: u32,
        k: u8,
    ) -> R<()> {
        if !self.has_x87() {
            let osz = if i.o32 { 4 } else { 2 };
            return self.exec_general(bus, i, i.op, osz, next, start);
        }
        if self.cr[0] & 0xC == 0
            && k & (X87_LOAD | X87_STORE) != 0
            && !self.x87.unit.as_deref().is_some_and(Fpu::error_pending)
        {
            let ins = (self.insn_start, self.seg[CS].sel);
            if self.x87_fast_mem_kind(bus, i, ins, k)? {
                self.x87_fast_ferr();
                return Ok(());
            }
        }
        self.x87_esc_general(bus, i)
    }

    /// ESC D8–DF on the integrated x87: the forms of a loop over doubles
    /// straight to the FPU's fast path ([`Cpu32::x87_fast`]), the rest
    /// through [`Fpu::execute`].
    #[inline]
    pub(crate) fn x87_esc<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        if self.cr[0] & 0xC == 0 && self.x87_fast(bus, i)? {
            return Ok(());
        }
        self.x87_esc_general(bus, i)
    }

    /// The x87's fast path on this core, for FLD/FST(P)/FXCH ST(i), the
    /// arithmetic register forms, FADD/FMUL/FSUB(R)/FDIV(R)/FCOM(P) m64,
    /// FLD m64, FST(P) m64 and FNSTSW AX when CR0.EM/TS are clear, no x87
    /// error is pending and the operands are ordinary doubles under the
    /// 53-bit, round-to-nearest control word: no [`FpuEnv`], no box taken
    /// out, the FPU pointers stored as they are, a double operation's PE
    /// and C1 left lazy ([`Fpu::fast_reg_lazy`]). True when done; false
    /// (nothing changed) for [`Cpu32::x87_esc_general`]; a fault of the
    /// operand access is the one the general path would raise first.
    /// None of these forms is new with the 387 or the P6, so the model
    /// checks of the general path do not apply.
    #[inline(always)]
    fn x87_fast<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<bool> {
        let op = i.op as u8;
        let modrm = i.modrm;
        let ins = (self.insn_start, self.seg[CS].sel);
        let Some(unit) = self.x87.unit.as_deref_mut() else {
            return Ok(false);
        };
        if !i.mem {
            if op == 0xDF && modrm == 0xE0 {
                // FNSTSW AX: no wait, no pointers.
                let ax = unit.fnstsw();
                self.r[0] = (self.r[0] & 0xFFFF_0000) | ax as u32;
            } else if unit.error_pending() || !unit.fast_reg_lazy(op, modrm, ins.0, ins.1) {
                return Ok(false);
            }
        } else if unit.error_pending() || !self.x87_fast_mem(bus, i, ins)? {
            return Ok(false);
        }
        self.x87_fast_ferr();
        Ok(true)
    }

    /// After an instruction of the fast paths: an unmasked PE (the one
    /// exception those forms can raise), or an error FNSTSW found pending,
    /// drives FERR# when CR0.NE is clear, as `x87_outcome` does.
    #[inline(always)]
    fn x87_fast_ferr(&mut self) {
        if self.x87.unit.as_deref().is_some_and(Fpu::error_pending) && !self.x87_ne() {
            self.x87.ferr_edge = true;
        }
    }

    /// The memory forms of [`Cpu32::x87_fast`] (FADD…FDIVR/FCOM(P) m32,
    /// m64, m32int and m16int, FLD m32/m64, FILD m32/m16, FST(P) m32/m64,
    /// FIST(P) m32/m16), out of line so that the register forms' path
    /// stays small.
    #[inline(never)]
    fn x87_fast_mem<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, ins: (u32, u16)) -> R<bool> {
        self.x87_fast_mem_kind(bus, i, ins, x87_aux(i))
    }

    /// [`Cpu32::x87_fast_mem`] for an instruction of kind `kind`
    /// ([`x87_aux`]: a load or a store and the operand's length).
    #[inline(always)]
    fn x87_fast_mem_kind<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        ins: (u32, u16),
        kind: u8,
    ) -> R<bool> {
        let (op, modrm) = (i.op as u8, i.modrm);
        let len = (kind & 0xF) as usize;
        let seg = i.mseg();
        let ea = self.ea(i);
        let off = if i.a32 { ea } else { ea & 0xFFFF };
        let data = (ea, self.seg[seg].sel);
        if kind & X87_STORE != 0 {
            let Some(v) = self.x87.unit.as_deref().and_then(|f| f.fast_st_value(op)) else {
                return Ok(false);
            };
            if !self.x87_write_ram(bus, seg, off, &v.to_le_bytes()[..len])? {
                return Ok(false);
            }
            if let Some(unit) = self.x87.unit.as_deref_mut() {
                unit.fast_st_done(op, modrm, ins, data);
            }
        } else if kind & X87_LOAD != 0 {
            let bits = match len {
                8 => self
                    .x87_read_ram::<B, 8>(bus, seg, off)?
                    .map(u64::from_le_bytes),
                4 => self
                    .x87_read_ram::<B, 4>(bus, seg, off)?
                    .map(|b| u32::from_le_bytes(b) as u64),
                _ => self
                    .x87_read_ram::<B, 2>(bus, seg, off)?
                    .map(|b| u16::from_le_bytes(b) as u64),
            };
            let Some(bits) = bits else {
                return Ok(false);
            };
            let Some(unit) = self.x87.unit.as_deref_mut() else {
                return Ok(false);
            };
            let done = if op == 0xDC {
                unit.fast_m64_dc_lazy(modrm, bits, ins, data)
            } else {
                unit.fast_mem_lazy(op, modrm, bits, ins, data)
            };
            if !done {
                return Ok(false);
            }
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// An x87 operand of `N` bytes at `seg`:`off` when it lies in one page
    /// of plain RAM and no data breakpoint is armed (so reading it has no
    /// side effect and the general path may read it again); None
    /// otherwise. Faults are those of [`OperandMem::read`]: the segment
    /// check, then the page's translation.
    #[inline(always)]
    fn x87_read_ram<B: Bus + ?Sized, const N: usize>(
        &mut self,
        bus: &mut B,
        seg: usize,
        off: u32,
    ) -> R<Option<[u8; N]>> {
        let lin = self.seg_lin(seg, off, N as u32, Acc::Read)?;
        if (lin & 0xFFF) as usize + N > 0x1000 || self.breakpoints_armed() {
            return Ok(None);
        }
        let u = self.user();
        let m = self.model.address_mask();
        let p = self.translate(bus, lin, false, u)? & m;
        if p > m - (N as u32 - 1) {
            return Ok(None);
        }
        Ok(bus
            .ram_mut(p, N as u32)
            .and_then(|s| <[u8; N]>::try_from(&*s).ok()))
    }

    /// Writes an x87 operand at `seg`:`off` when it lies in one page of
    /// plain RAM and no data breakpoint is armed; false (nothing written)
    /// otherwise. Faults are those of [`OperandMem::write`].
    #[inline(always)]
    fn x87_write_ram<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        seg: usize,
        off: u32,
        v: &[u8],
    ) -> R<bool> {
        let len = v.len() as u32;
        let lin = self.seg_lin(seg, off, len, Acc::Write)?;
        if (lin & 0xFFF) + len > 0x1000 || self.breakpoints_armed() {
            return Ok(false);
        }
        let u = self.user();
        let m = self.model.address_mask();
        let p = self.translate(bus, lin, true, u)? & m;
        if p > m - (len - 1) {
            return Ok(false);
        }
        let Some(s) = bus.ram_mut(p, len) else {
            return Ok(false);
        };
        if s.len() != v.len() {
            return Ok(false);
        }
        s.copy_from_slice(v);
        self.note_write(p, v.len() as u32);
        Ok(true)
    }

    /// ESC D8–DF through [`Fpu::execute`], then the [`X87::lean`] gate
    /// worked out again. (The fast paths need not: they raise only PE,
    /// which with the gate set is already set and masked or ES would be
    /// set too, and they clear neither PE nor change the control word, so
    /// a gate they leave 0 where it could be set only costs the next lean
    /// form its fallback, which works it out.)
    #[inline(never)]
    fn x87_esc_general<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let r = self.x87_esc_execute(bus, i);
        self.x87_regate();
        r
    }

    /// [`Cpu32::x87_esc_general`] but for the gate.
    #[inline(always)]
    fn x87_esc_execute<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        if self.cr[0] & 0xC != 0 {
            // EM or TS.
            return Err(fault_nc(7));
        }
        let op = i.op as u8;
        let i287 = self.model == Model32::I80286;
        if i287 && (is_387_only(op, i.modrm) || is_p6_x87(op, i.modrm)) {
            // The 80287 does not decode these, and the 286 has no invalid
            // opcode exception for ESC: nothing happens (as the 16-bit
            // core's 287 treats the encodings it leaves undefined).
            return Ok(());
        }
        if self.model.generation() < 6 && is_p6_x87(op, i.modrm) {
            return Err(ud());
        }
        if !x87::is_nowait(op, i.modrm) {
            self.x87_report()?;
        }
        if !i.mem {
            // A register form touches nothing of the core's but the outcome:
            // the FPU is worked on where it lies.
            let env = self.fpu_env(i, 0, 0);
            let Some(unit) = self.x87.unit.as_deref_mut() else {
                return Ok(());
            };
            return match unit.execute::<OperandMem>(op, i.modrm, None, &env) {
                Ok(out) => {
                    self.x87_outcome(out);
                    Ok(())
                }
                Err(FpuError::Undefined) if i287 => Ok(()),
                Err(_) => Err(ud()),
            };
        }
        let Some(mut unit) = self.x87.unit.take() else {
            return Ok(());
        };
        // A memory form (the register forms returned above).
        let seg = i.mseg();
        let ea = self.ea(i);
        let env = self.fpu_env(i, self.seg[seg].sel, ea);
        // The module records the last-instruction pointers before its memory
        // access; a fault must leave them as they were too.
        let ptrs = (unit.fip, unit.fcs, unit.fdp, unit.fds, unit.fop);
        // The x87 module takes its memory through a trait object.
        let mut fwd = &mut *bus;
        let mut m = OperandMem {
            cpu: self,
            bus: &mut fwd,
            seg,
            ea,
            a32: i.a32,
        };
        let res = unit.execute(op, i.modrm, Some(&mut m), &env);
        self.x87.unit = Some(unit);
        let out = match res {
            Ok(o) => o,
            Err(FpuError::Fault(f)) => {
                if let Some(u) = self.x87.unit.as_mut() {
                    (u.fip, u.fcs, u.fdp, u.fds, u.fop) = ptrs;
                }
                return Err(f);
            }
            Err(FpuError::Undefined) if i287 => return Ok(()),
            Err(FpuError::Undefined) => return Err(ud()),
        };
        self.x87_outcome(out);
        Ok(())
    }

    /// The core's side of an x87 instruction: operand size, mode, the
    /// instruction pointer and the data pointer (`ds`:`ea`, 0:0 for a
    /// register form).
    #[inline]
    fn fpu_env(&self, i: &Insn, ds: u16, ea: u32) -> FpuEnv {
        FpuEnv {
            op32: i.o32,
            protected: self.pm(),
            fisttp: false,
            // Worked out, not the field: the x87 is a form, and a form may
            // run with a lazy flags record pending (FCMOVcc reads ZF/PF/CF).
            eflags: self.flags_word(),
            cs: self.seg[CS].sel,
            ip: self.insn_start,
            ds,
            ea,
        }
    }

    /// What an x87 instruction hands back to the core: AX (FNSTSW AX),
    /// ZF/PF/CF (FCOMI), FERR#.
    #[inline]
    fn x87_outcome(&mut self, out: x87::FpuOutcome) {
        if let Some(ax) = out.ax {
            self.r[0] = (self.r[0] & 0xFFFF_0000) | ax as u32;
        }
        if let Some(f) = out.eflags {
            self.set_flags(STATUS, f & (ZF | PF | CF));
        }
        if out.error && !self.x87_ne() {
            self.x87.ferr_edge = true;
        }
    }

    /// FXSAVE / FXRSTOR m512 (0F AE /0, /1).
    pub(crate) fn fxsave_fxrstor<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        if self.cr[0] & 0xC != 0 {
            return Err(fault_nc(7));
        }
        let seg = i.mseg();
        let ea = self.ea(i);
        let lin = self.seg_lin(seg, ea, 512, Acc::Read)?;
        if lin & 15 != 0 {
            return Err(gp(0));
        }
        let Some(mut unit) = self.x87.unit.take() else {
            return Err(ud());
        };
        let mut fwd = &mut *bus;
        let mut m = OperandMem {
            cpu: self,
            bus: &mut fwd,
            seg,
            ea,
            a32: i.a32,
        };
        let mut img = [0u8; 512];
        let r = if i.reg() == 0 {
            // No SSE: MXCSR and its mask (bytes 24–31) and the XMM area stay 0.
            unit.fxsave(&mut img);
            m.write(0, &img)
        } else {
            m.read(0, &mut img).map(|()| unit.fxrstor(&img))
        };
        self.x87.unit = Some(unit);
        self.x87_regate();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_fetch::{flat32, run_to_end, TrustBus};
    use super::*;
    use crate::FlatBus;

    /// Run the real-mode program at 0000:0100 (stack at 2000h) on a
    /// Pentium Pro until it halts.
    fn run_real_p6(bus: &mut FlatBus) -> Cpu32 {
        let mut c = Cpu32::new(Model32::PentiumPro);
        for s in [ES, CS, SS, DS] {
            c.seg[s] = SegCache::real(0);
        }
        c.eip = 0x100;
        c.r[4] = 0x2000;
        assert_eq!(c.run(bus, 100), StepResult32::Halted);
        c
    }

    /// FLD1; ESC `extra`; FSTP dword [0200h]; HLT on `model` in real mode
    /// with a coprocessor: the dword stored and the interrupt vectors taken
    /// (none expected).
    fn run(model: Model32, extra: [u8; 2]) -> (u32, u32) {
        let mut bus = FlatBus::new(0x10000);
        let code = [0xD9, 0xE8, extra[0], extra[1], 0xD9, 0x1E, 0x00, 0x02, 0xF4];
        bus.load(0x100, &code);
        let mut c = Cpu32::new(model);
        c.set_x87(true);
        for s in [ES, CS, SS, DS] {
            c.seg[s] = SegCache::real(0);
        }
        c.eip = 0x100;
        c.r[4] = 0x2000;
        let r = c.run(&mut bus, 100);
        assert_eq!(r, StepResult32::Halted);
        let v = u32::from_le_bytes([
            bus.mem[0x200],
            bus.mem[0x201],
            bus.mem[0x202],
            bus.mem[0x203],
        ]);
        (v, c.eip)
    }

    #[test]
    fn the_80287_leaves_the_387_additions_alone() {
        // FSIN (D9 FE) is one of the 387's additions: on a 286 with an
        // 80287 it does nothing and raises nothing (the 286 has no #UD for
        // ESC), so ST(0) is still 1.0 (3F800000h as a single) and the HLT
        // after the store is reached (EIP past it: 100h + 9).
        assert_eq!(run(Model32::I80286, [0xD9, 0xFE]), (0x3F80_0000, 0x109));
        // FUCOMPP (DA E9) likewise; it would have popped (and emptied) the
        // stack, so the store would have found an empty register.
        assert_eq!(run(Model32::I80286, [0xDA, 0xE9]), (0x3F80_0000, 0x109));
        // A 386 with a 387 computes it: sin(1) = 0.84147098… is 3F576AA4h
        // as a single.
        assert_eq!(run(Model32::I80386, [0xD9, 0xFE]), (0x3F57_6AA4, 0x109));
    }

    /// FCMOVcc reads CF/ZF/PF that a CMP just before it left in the core's
    /// lazy flags record. The x87 runs as a form now, not through the
    /// general path that works the record out; today the restart snapshot
    /// before it does, and `fpu_env` does again, so that a later change to
    /// either cannot let FCMOVcc read stale flags unseen.
    #[test]
    fn fcmov_sees_the_flags_of_the_cmp_before_it() {
        for (imm, want) in [(2u8, 0x3F80_0000u32), (0, 0)] {
            let mut bus = FlatBus::new(0x10000);
            #[rustfmt::skip]
            bus.load(0x100, &[
                0xD9, 0xE8,             // FLD1
                0xD9, 0xEE,             // FLDZ: ST0 = 0, ST1 = 1
                0xB8, 0x01, 0x00,       // MOV AX, 1
                0x3D, imm, 0x00,        // CMP AX, imm: CF = 1 < imm
                0xDA, 0xC1,             // FCMOVB ST0, ST1
                0xD9, 0x1E, 0x00, 0x02, // FSTP dword [0200h]
                0xF4,                   // HLT
            ]);
            run_real_p6(&mut bus);
            let v = u32::from_le_bytes(bus.mem[0x200..0x204].try_into().unwrap());
            // 1 < 2 moves ST1's 1.0 (3F800000h as a single); 1 < 0 does not.
            assert_eq!(v, want, "CMP AX, {imm}");
        }
    }

    /// The forms the core runs on the x87's fast path (FDIVP/FADD ST(i),
    /// FLD/FADD/FSTP m64, FNSTSW AX) show the status word and the pointers
    /// as the manuals define them, whatever is left lazy in between.
    #[test]
    fn fast_forms_show_c1_pe_and_the_pointers_exactly() {
        let mut bus = FlatBus::new(0x10000);
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2E, 0x00, 0x03, // 100: FLDCW [0300h] (027Fh)
            0xD9, 0xE8,             // 104: FLD1
            0xDD, 0x06, 0x10, 0x03, // 106: FLD qword [0310h] (10.0)
            0xDE, 0xF9,             // 10A: FDIVP ST(1),ST → 1/10
            0xDF, 0xE0,             // 10C: FNSTSW AX
            0xA3, 0x00, 0x04,       // 10E: MOV [0400h],AX
            0xDC, 0x06, 0x18, 0x03, // 111: FADD qword [0318h] (0.5)
            0xDF, 0xE0,             // 115: FNSTSW AX
            0xA3, 0x02, 0x04,       // 117: MOV [0402h],AX
            0xDD, 0x1E, 0x20, 0x03, // 11A: FSTP qword [0320h]
            0xD9, 0xE8,             // 11E: FLD1
            0xDD, 0x06, 0x10, 0x03, // 120: FLD qword [0310h]
            0xDE, 0xF9,             // 124: FDIVP ST(1),ST
            0xD8, 0xC0,             // 126: FADD ST,ST(0)
            0xD9, 0x36, 0x00, 0x05, // 128: FNSTENV [0500h]
            0xDF, 0xE0,             // 12C: FNSTSW AX
            0xA3, 0x04, 0x04,       // 12E: MOV [0404h],AX
            0xF4,                   // 131: HLT
        ];
        bus.load(0x100, &code);
        bus.load(0x300, &0x027Fu16.to_le_bytes());
        bus.load(0x310, &10.0f64.to_bits().to_le_bytes());
        bus.load(0x318, &0.5f64.to_bits().to_le_bytes());
        let c = run_real_p6(&mut bus);
        let w = |a: usize| u16::from_le_bytes([bus.mem[a], bus.mem[a + 1]]);
        // 1/10 in 53 bits: the double 0.1 is 0.1000000000000000055…, above
        // a tenth, so the quotient was rounded up: C1 (0200h) with PE
        // (0020h); TOP = 7 (two pushes, one pop) in bits 11–13.
        assert_eq!(w(0x400), 0x3A20);
        // 0.1 + 0.5: 0.5 plus 1.999999999999Ah × 2^-4 shifted three places
        // to 2^-1 drops the bits 010b, a quarter of an ulp: rounded down,
        // C1 clear, PE still set; the sum is the double 0.6.
        assert_eq!(w(0x402), 0x3820);
        assert_eq!(
            u64::from_le_bytes(bus.mem[0x320..0x328].try_into().unwrap()),
            0x3FE3_3333_3333_3333
        );
        // 0.1 doubled is exact: the round-up of the FDIVP before it no
        // longer shows in C1; PE is sticky. FNSTENV in real mode with a
        // 16-bit operand size: CW, SW, the tag word (R7 valid, the rest
        // empty), FIP 126h (the FADD), FOP 0C0h (D8 C0), FDP 310h (the
        // last memory operand, FLD qword [0310h]).
        assert_eq!(w(0x404), 0x3820);
        let env: Vec<u16> = (0..7).map(|k| w(0x500 + 2 * k)).collect();
        assert_eq!(env, [0x027F, 0x3820, 0x3FFF, 0x126, 0x00C0, 0x310, 0]);
        // The state the core shows agrees.
        let f = c.x87().unwrap();
        assert_eq!((f.sw, f.fip, f.fop, f.fdp), (0x3820, 0x126, 0x0C0, 0x310));
    }

    /// The fast path's other forms on the core (m16/m32 integers, m32
    /// reals, FCHS/FABS, FLDZ/FLD1, FCOM(P) ST(i)/FCOMPP, FIST, FST m32):
    /// every value below is exact, so the status words are only TOP and
    /// the condition codes, worked out by hand beside each step.
    #[test]
    fn fast_integer_single_and_compare_forms_on_the_core() {
        let mut bus = FlatBus::new(0x10000);
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2E, 0x00, 0x03, // 100: FLDCW [0300h] (027Fh)
            0xDF, 0x06, 0x10, 0x03, // 104: FILD word [0310h] (−7), TOP 7
            0xD9, 0x06, 0x14, 0x03, // 108: FLD dword [0314h] (2.5), TOP 6
            0xDA, 0x0E, 0x18, 0x03, // 10C: FIMUL dword [0318h] (4) → 10
            0xDE, 0xC1,             // 110: FADDP ST(1),ST → 3, TOP 7
            0xD9, 0xE0,             // 112: FCHS → −3
            0xD9, 0xE1,             // 114: FABS → 3
            0xD8, 0x16, 0x1C, 0x03, // 116: FCOM dword [031Ch] (3.0): equal
            0xDF, 0xE0,             // 11A: FNSTSW AX
            0xA3, 0x00, 0x04,       // 11C: MOV [0400h],AX
            0xD9, 0xEE,             // 11F: FLDZ, TOP 6
            0xD8, 0xD1,             // 121: FCOM ST(1): 0 < 3
            0xDF, 0xE0,             // 123: FNSTSW AX
            0xA3, 0x02, 0x04,       // 125: MOV [0402h],AX
            0xDE, 0x1E, 0x20, 0x03, // 128: FICOMP word [0320h] (−1): 0 > −1, TOP 7
            0xDF, 0xE0,             // 12C: FNSTSW AX
            0xA3, 0x04, 0x04,       // 12E: MOV [0404h],AX
            0xDF, 0x16, 0x30, 0x03, // 131: FIST word [0330h] (3)
            0xD9, 0x16, 0x34, 0x03, // 135: FST dword [0334h] (3.0)
            0xD9, 0xE8,             // 139: FLD1, TOP 6
            0xDE, 0xD9,             // 13B: FCOMPP: 1 < 3, TOP 0
            0xDF, 0xE0,             // 13D: FNSTSW AX
            0xA3, 0x06, 0x04,       // 13F: MOV [0406h],AX
            0xF4,                   // 142: HLT
        ];
        bus.load(0x100, &code);
        bus.load(0x300, &0x027Fu16.to_le_bytes());
        bus.load(0x310, &(-7i16).to_le_bytes());
        bus.load(0x314, &2.5f32.to_bits().to_le_bytes());
        bus.load(0x318, &4i32.to_le_bytes());
        bus.load(0x31C, &3.0f32.to_bits().to_le_bytes());
        bus.load(0x320, &(-1i16).to_le_bytes());
        bus.load(0x330, &[0xAA; 8]);
        let c = run_real_p6(&mut bus);
        let w = |a: usize| u16::from_le_bytes([bus.mem[a], bus.mem[a + 1]]);
        // TOP in bits 11–13; C3 4000h (equal), C0 0100h (less), none
        // (greater); nothing inexact, so no PE and C1 clear.
        assert_eq!(w(0x400), 0x7800);
        assert_eq!(w(0x402), 0x3100);
        assert_eq!(w(0x404), 0x3800);
        assert_eq!(w(0x406), 0x0100);
        // FIST word writes two bytes, FST dword four (3.0f = 40400000h).
        assert_eq!(bus.mem[0x330..0x338], [3, 0, 0xAA, 0xAA, 0, 0, 0x40, 0x40]);
        // The last instruction FCOMPP (DE D9: FOP 6D9h) at 13Bh, the last
        // memory operand FST's at 334h; the stack is empty again.
        let f = c.x87().unwrap();
        assert_eq!(
            (f.fip, f.fop, f.fdp, f.tag_word()),
            (0x13B, 0x6D9, 0x334, 0xFFFF)
        );
    }

    /// An m64 operand past the segment limit faults on the fast path as on
    /// the general one (#GP(0) in a flat data segment), and the FPU is as
    /// it was — with a division's lazy PE/C1 still pending, and for FADD
    /// m64, FLD m64 and FSTP m64 alike (the core restarts the instruction).
    #[test]
    fn a_faulting_m64_operand_leaves_the_fpu_as_it_was() {
        let mut bus = FlatBus::new(0x10000);
        let mut c = super::super::tests::flat_pm_model(Model32::PentiumPro, &mut bus);
        bus.load(0x9000, &0x027Fu16.to_le_bytes());
        bus.load(0x9010, &3.0f64.to_bits().to_le_bytes());
        #[rustfmt::skip]
        let setup: [&[u8]; 4] = [
            &[0xD9, 0x2D, 0x00, 0x90, 0, 0], // FLDCW [9000h]
            &[0xD9, 0xE8],                   // FLD1
            &[0xDD, 0x05, 0x10, 0x90, 0, 0], // FLD qword [9010h]
            &[0xDE, 0xF9],                   // FDIVP: 1/3, inexact
        ];
        let step = |c: &mut Cpu32, bus: &mut FlatBus, code: &[u8]| {
            bus.load(0x8000, code);
            c.eip = 0x8000;
            // As the public entries do: the test writes DS's limit.
            c.seg_fast_off();
            c.save_snapshot();
            c.execute(bus)
        };
        for k in setup {
            step(&mut c, &mut bus, k).unwrap();
        }
        let before = c.x87().unwrap();
        // 1/3 rounds down in 53 bits (…0101|0101…): PE without C1.
        assert_eq!(before.sw & 0x3A20, 0x3820);
        c.seg[DS].limit = 0x9FFB;
        for code in [
            [0xDC, 0x05, 0xF8, 0x9F, 0, 0], // FADD qword [9FF8h]
            [0xDD, 0x05, 0xF8, 0x9F, 0, 0], // FLD qword [9FF8h]
            [0xDD, 0x1D, 0xF8, 0x9F, 0, 0], // FSTP qword [9FF8h]
        ] {
            assert_eq!(step(&mut c, &mut bus, &code), Err(gp(0)), "{code:02X?}");
            assert_eq!(c.x87().unwrap(), before, "{code:02X?}");
        }
        // Inside the limit the same FADD runs: 1/3 + 3, PE kept.
        c.seg[DS].limit = 0xFFFF_FFFF;
        step(&mut c, &mut bus, &[0xDC, 0x05, 0x10, 0x90, 0, 0]).unwrap();
        let f = c.x87().unwrap();
        assert_eq!((f.fdp, f.fop), (0x9010, 0x405));
        assert_ne!(f.sw & 0x20, 0);
    }

    /// A random double for the lean forms' differential test: ordinary
    /// values mostly, and every kind they must hand on (zeros, values
    /// near 2^±960 and beyond, denormals, infinities, NaNs).
    fn lean_test_double(x: u64) -> u64 {
        let sign = (x & 1) << 63;
        let frac = (x >> 12) & 0x000F_FFFF_FFFF_FFFF;
        let e: u64 = match (x >> 1) % 16 {
            0 => 0,
            1 => 1023 + 958 + (x >> 60) % 5,
            2 => 1023 - 962 + (x >> 60) % 5,
            3 => 0x7FF,
            4 => return sign,
            5 => 1023 + 480 + (x >> 60) % 3,
            _ => 1023 - 2 + (x >> 61) % 4,
        };
        (e << 52) | frac | sign
    }

    /// The lean forms (forms.rs `X87`/`X87M`, `x87_lean`) against the
    /// decoded forms switched off (the general dispatch, `x87_esc` and its
    /// fast paths): random programs of the lean kinds (FILD m32 among
    /// them) mixed with FNSTSW AX
    /// (stored), FNSTENV (stored), FLDCW (027Fh, 037Fh, 067Fh, 025Fh: PE
    /// unmasked, so FERR# goes active with CR0.NE clear), FNCLEX,
    /// FLDZ/FLD1 and FSTP ST(0), on
    /// doubles of every kind, must leave the same x87 state, registers,
    /// FERR# edge and memory (operands, stores and status words). Each
    /// program runs three times over, so its last pass runs in the run
    /// loop's lap, where the lean forms take no restart snapshot (the
    /// lap's debug assertions check what that allows); and once more
    /// without the lap.
    #[test]
    fn lean_forms_match_the_general_dispatch_on_random_programs() {
        let mut r = crate::ia32::tests_fetch::Rng(0x5EED_F00D_1234_5678);
        for prog in 0..400 {
            let mut code: Vec<u8> = Vec::new();
            let mut data = [0u8; 0x500];
            for k in 0..16 {
                let v = lean_test_double(r.next());
                data[8 * k..8 * k + 8].copy_from_slice(&v.to_le_bytes());
            }
            for (k, cw) in [0x027Fu16, 0x037F, 0x067F, 0x025F].iter().enumerate() {
                data[0x100 + 2 * k..0x102 + 2 * k].copy_from_slice(&cw.to_le_bytes());
            }
            let abs = |a: u32| a.to_le_bytes();
            // FLDCW 027Fh first, then a few loads to work on.
            code.extend([0xD9, 0x2D]);
            code.extend(abs(0x9100));
            for k in 0..3 {
                code.extend([0xDD, 0x05]);
                code.extend(abs(0x9000 + 8 * k));
            }
            // The body runs three times (MOV ECX, 3 … DEC ECX; JNZ): a slot
            // is stamped when it is found again, so the third time runs
            // from stamped slots, in the run loop's lap when the bus
            // vouches for its RAM.
            code.extend([0xB9, 3, 0, 0, 0]);
            let body = code.len();
            let mut stores = 0u32;
            for _ in 0..64 {
                let x = r.next();
                let i = (x >> 8) as u8 & 7;
                let m = 0x9000 + 8 * ((x >> 12) as u32 & 15);
                match (x >> 20) % 32 {
                    0..=9 => {
                        let op = [0xD8u8, 0xDC, 0xDE][((x >> 24) % 3) as usize];
                        let reg = [0u8, 1, 4, 5, 6, 7][((x >> 28) % 6) as usize];
                        code.extend([op, 0xC0 | reg << 3 | i]);
                    }
                    10..=12 => code.extend([0xD9, 0xC0 | i]),
                    13..=14 => code.extend([0xD9, 0xC8 | i]),
                    15 => code.extend([0xDD, 0xD0 | i]),
                    16 => code.extend([0xDD, 0xD8 | i]),
                    17..=20 => {
                        let reg = ((x >> 24) & 7) as u8;
                        code.extend([0xDC, 0x05 | reg << 3]);
                        code.extend(abs(m));
                    }
                    21..=22 => {
                        code.extend([0xDD, 0x05]);
                        code.extend(abs(m));
                    }
                    23..=24 => {
                        // FST/FSTP m64 to the output area.
                        let reg = 2 + ((x >> 24) & 1) as u8;
                        code.extend([0xDD, 0x05 | reg << 3]);
                        code.extend(abs(0x9200 + 8 * (stores % 32)));
                        stores += 1;
                    }
                    25 => {
                        // FNSTSW AX; MOV [moffs32],AX.
                        code.extend([0xDF, 0xE0, 0x66, 0xA3]);
                        code.extend(abs(0x9300 + 2 * (stores % 64)));
                        stores += 1;
                    }
                    26 => {
                        code.extend([0xD9, 0x2D]);
                        code.extend(abs(0x9100 + 2 * ((x >> 24) as u32 % 4)));
                    }
                    27 => code.extend([0xDB, 0xE2]),
                    28 => code.extend([0xD9, [0xEE, 0xE8][(x >> 24) as usize & 1]]),
                    29 => code.extend([0xDD, 0xD8]),
                    30 => {
                        // FNSTENV: the pointers and opcode of the last
                        // instructions, the tag word.
                        code.extend([0xD9, 0x35]);
                        code.extend(abs(0x9400 + 28 * (stores % 8)));
                        stores += 1;
                    }
                    _ if (x >> 24) & 1 == 0 => code.extend([0xD9, 0xC0 | i]),
                    _ => {
                        // FILD dword: a slot's low half (random integers,
                        // zero for a zero double).
                        code.extend([0xDB, 0x05]);
                        code.extend(abs(m));
                    }
                }
            }
            // DEC ECX; JNZ rel32 back to the body.
            code.push(0x49);
            let back = body as i32 - (code.len() as i32 + 6);
            code.extend([0x0F, 0x85]);
            code.extend(back.to_le_bytes());
            // FNSTSW AX and the final state's words, then HLT.
            code.extend([0xDF, 0xE0, 0xF4]);
            // Lean forms in the lap (TrustBus), the general dispatch in the
            // lap, the lean forms in whole steps only (a bus that does not
            // vouch for its RAM never enters the lap), and the lean forms in
            // slices on a bus with an events number, so in blocks' bodies
            // (`x87op`: a body holds lean forms; FERR# taken after each
            // slice, as a board does).
            let mut outs = Vec::new();
            for (forms, mode) in [(true, 0), (false, 0), (true, 1), (true, 2)] {
                let mut flat = FlatBus::new(0x10000);
                let mut c = super::super::tests::flat_pm_model(Model32::PentiumPro, &mut flat);
                c.set_forms(forms);
                flat.load(0x8000, &code);
                flat.load(0x9000, &data);
                c.eip = 0x8000;
                c.r[4] = 0x7000;
                let mut ferr = false;
                let (res, mem) = match mode {
                    0 => {
                        let mut bus = TrustBus(flat);
                        (run_to_end(&mut c, &mut bus), bus.0.mem)
                    }
                    1 => {
                        let res = c.run(&mut flat, 20_000);
                        (res, flat.mem)
                    }
                    _ => {
                        let mut bus = super::super::tests_fast::LapBus::new();
                        bus.flat.mem[..0x10000].copy_from_slice(&flat.mem);
                        for _ in 0..100_000 {
                            let s = c.run_slice(&mut bus, 53);
                            ferr |= c.take_ferr();
                            if s.end == SliceEnd::Halted {
                                break;
                            }
                        }
                        (StepResult32::Halted, bus.flat.mem[..0x10000].to_vec())
                    }
                };
                assert_eq!(res, StepResult32::Halted, "program {prog}");
                assert!(c.halted(), "program {prog}");
                ferr |= c.take_ferr();
                outs.push((c.x87().unwrap(), c.r, ferr, mem[0x9000..0x9500].to_vec()));
            }
            let a = &outs[0];
            for (k, b) in outs.iter().enumerate().skip(1) {
                assert_eq!(a.0, b.0, "x87 state, program {prog}, run {k}: {code:02X?}");
                assert_eq!(a.1, b.1, "registers, program {prog}, run {k}");
                assert_eq!(a.2, b.2, "FERR# edge, program {prog}, run {k}");
                assert!(a.3 == b.3, "memory, program {prog}, run {k}");
            }
        }
    }

    /// FNSTSW AX right after a lean FMUL m64 whose PE and C1 are still
    /// lazy (`lean_fnstsw` declines, the fallback works them out), with PE
    /// clear the first time round and set after, and FNSTENV after lean
    /// forms: the values worked out by hand, in the lap and with the decoded
    /// forms off. Fails if the lean FNSTSW shows the status word without the
    /// pending operation's C1, or if a lean form's pointers are wrong.
    #[test]
    fn fnstsw_and_fnstenv_right_after_lean_forms_show_the_lazy_flags_and_pointers() {
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2D, 0x18, 0x90, 0x00, 0x00,       // 8000: FLDCW [9018h] (027Fh)
            0xB9, 0x04, 0x00, 0x00, 0x00,             // 8006: MOV ECX,4
            0xDD, 0x05, 0x00, 0x90, 0x00, 0x00,       // 800B: FLD qword [9000h] (0.1)
            0xDC, 0x0D, 0x08, 0x90, 0x00, 0x00,       // 8011: FMUL qword [9008h] (3.0)
            0xDF, 0xE0,                               // 8017: FNSTSW AX
            0x66, 0x89, 0x04, 0x4D, 0x20, 0x90, 0x00, 0x00, // 8019: MOV [ECX*2+9020h],AX
            0xDD, 0x1D, 0x10, 0x90, 0x00, 0x00,       // 8021: FSTP qword [9010h]
            0x49,                                     // 8027: DEC ECX
            0x75, 0xE1,                               // 8028: JNZ 800Bh
            0xD9, 0x35, 0x00, 0x94, 0x00, 0x00,       // 802A: FNSTENV [9400h]
            0xDF, 0xE0,                               // 8030: FNSTSW AX
            0xF4,                                     // 8032: HLT
        ];
        for forms in [true, false] {
            let (c, bus) = run_lean_program(
                &code,
                &[
                    (0x9000, &0.1f64.to_bits().to_le_bytes()),
                    (0x9008, &3.0f64.to_bits().to_le_bytes()),
                    (0x9018, &0x027Fu16.to_le_bytes()),
                ],
                forms,
            );
            let m = Le(&bus.0.mem);
            // The double 0.1 is above a tenth and 0.1 × 3 rounds up again
            // (to 0.30000000000000004, 3FD3333333333334h): PE and C1 (0220h)
            // with TOP 7 (3800h), every time round: the first (PE clear
            // before) and the others (PE set, the FMUL's C1 still lazy).
            for k in 1..=4 {
                assert_eq!(m.w(0x9020 + 2 * k), 0x3A20, "forms {forms}, ECX {k}");
            }
            assert_eq!(m.q(0x9010), 0x3FD3_3333_3333_3334);
            // FNSTENV after the loop (32-bit layout): FSTP cleared C1 and
            // popped (TOP 0, PE sticky), all registers empty, FIP 8021h and
            // FOP 51Dh (DD 1D) of the FSTP, FDP 9010h its operand.
            assert_eq!(m.d(0x9400) & 0xFFFF, 0x027F);
            assert_eq!(
                m.env(0x9400),
                (0x0020, 0xFFFF, 0x8021, 0x51D, 0x9010),
                "forms {forms}"
            );
            assert_eq!(c.r[0] & 0xFFFF, 0x0020);
        }
    }

    /// Lean FILD m32 (`LEAN_FILD32`): the integer pushed as its exact
    /// double, TOP, tags and pointers as FNSTSW and FNSTENV show them, and
    /// the value through a lean FMUL m64 and FSTP m64, in a loop that
    /// reaches the run loop's lap, with the decoded forms on and off. The
    /// values worked out by hand.
    #[test]
    fn a_lean_fild_m32_pushes_the_exact_integer_with_top_tags_and_pointers() {
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2D, 0x18, 0x90, 0x00, 0x00,       // 8000: FLDCW [9018h] (027Fh)
            0xB9, 0x04, 0x00, 0x00, 0x00,             // 8006: MOV ECX,4
            0xDB, 0x05, 0x00, 0x90, 0x00, 0x00,       // 800B: FILD dword [9000h] (-7)
            0xDB, 0x05, 0x04, 0x90, 0x00, 0x00,       // 8011: FILD dword [9004h] (0)
            0xDF, 0xE0,                               // 8017: FNSTSW AX
            0x66, 0x89, 0x04, 0x4D, 0x20, 0x90, 0x00, 0x00, // 8019: MOV [ECX*2+9020h],AX
            0xDD, 0x1D, 0x10, 0x90, 0x00, 0x00,       // 8021: FSTP qword [9010h]
            0xDC, 0x0D, 0x40, 0x90, 0x00, 0x00,       // 8027: FMUL qword [9040h] (0.5)
            0xDD, 0x1D, 0x48, 0x90, 0x00, 0x00,       // 802D: FSTP qword [9048h]
            0x49,                                     // 8033: DEC ECX
            0x75, 0xD5,                               // 8034: JNZ 800Bh
            0xDB, 0x05, 0x08, 0x90, 0x00, 0x00,       // 8036: FILD dword [9008h] (7FFFFFFFh)
            0xDB, 0x05, 0x04, 0x90, 0x00, 0x00,       // 803C: FILD dword [9004h] (0)
            0xD9, 0x35, 0x00, 0x94, 0x00, 0x00,       // 8042: FNSTENV [9400h]
            0xDD, 0x1D, 0x30, 0x90, 0x00, 0x00,       // 8048: FSTP qword [9030h]
            0xDD, 0x1D, 0x38, 0x90, 0x00, 0x00,       // 804E: FSTP qword [9038h]
            0xDF, 0xE0,                               // 8054: FNSTSW AX
            0xF4,                                     // 8056: HLT
        ];
        for forms in [true, false] {
            let (c, bus) = run_lean_program(
                &code,
                &[
                    (0x9000, &(-7i32).to_le_bytes()),
                    (0x9004, &0i32.to_le_bytes()),
                    (0x9008, &i32::MAX.to_le_bytes()),
                    (0x9010, &[0xFF; 8]),
                    (0x9018, &0x027Fu16.to_le_bytes()),
                    (0x9030, &[0xFF; 8]),
                    (0x9040, &0.5f64.to_bits().to_le_bytes()),
                ],
                forms,
            );
            let m = Le(&bus.0.mem);
            // Two pushes from TOP 0: TOP 6 (3000h), C1 clear, nothing
            // raised (integer loads and these products are exact).
            for k in 1..=4 {
                assert_eq!(m.w(0x9020 + 2 * k), 0x3000, "forms {forms}, ECX {k}");
            }
            // +0.0, and -7 × 0.5 = -3.5 (C00Ch << 48).
            assert_eq!(m.q(0x9010), 0, "forms {forms}");
            assert_eq!(m.q(0x9048), 0xC00C_0000_0000_0000, "forms {forms}");
            // FNSTENV (32-bit layout): TOP 6; R7 (2^31 - 1) valid, R6 (0)
            // zero, the others empty: tag word 1FFFh; FIP 803Ch, FOP 305h
            // (DB 05), FDP 9004h of the last FILD.
            assert_eq!(m.d(0x9400) & 0xFFFF, 0x027F);
            assert_eq!(
                m.env(0x9400),
                (0x3000, 0x1FFF, 0x803C, 0x305, 0x9004),
                "forms {forms}"
            );
            // 0 and 2^31 - 1 (41DFFFFFFFC00000h) stored back; TOP 0.
            assert_eq!(m.q(0x9030), 0, "forms {forms}");
            assert_eq!(m.q(0x9038), 0x41DF_FFFF_FFC0_0000, "forms {forms}");
            assert_eq!(c.r[0] & 0xFFFF, 0x0000);
        }
    }

    /// Lean FLD1 and FLDZ (`LEAN_FLDC`): the constants pushed as doubles
    /// (+1.0 and +0.0), C1 cleared after an FMUL m64 whose C1 (rounded
    /// up) is still lazy, TOP, tags and pointers as FNSTSW and FNSTENV
    /// show them, in a loop that reaches the run loop's lap, with the
    /// decoded forms on and off. The values worked out by hand.
    #[test]
    fn lean_fld1_and_fldz_push_their_constants_with_c1_top_tags_and_pointers() {
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2D, 0x18, 0x90, 0x00, 0x00,       // 8000: FLDCW [9018h] (027Fh)
            0xB9, 0x04, 0x00, 0x00, 0x00,             // 8006: MOV ECX,4
            0xDD, 0x05, 0x40, 0x90, 0x00, 0x00,       // 800B: FLD qword [9040h] (0.1)
            0xDC, 0x0D, 0x48, 0x90, 0x00, 0x00,       // 8011: FMUL qword [9048h] (3.0)
            0xD9, 0xE8,                               // 8017: FLD1
            0xD9, 0xEE,                               // 8019: FLDZ
            0xDF, 0xE0,                               // 801B: FNSTSW AX
            0x66, 0x89, 0x04, 0x4D, 0x20, 0x90, 0x00, 0x00, // 801D: MOV [ECX*2+9020h],AX
            0xDD, 0x1D, 0x10, 0x90, 0x00, 0x00,       // 8025: FSTP qword [9010h]
            0xDD, 0x1D, 0x30, 0x90, 0x00, 0x00,       // 802B: FSTP qword [9030h]
            0xDD, 0x1D, 0x38, 0x90, 0x00, 0x00,       // 8031: FSTP qword [9038h]
            0x49,                                     // 8037: DEC ECX
            0x75, 0xD1,                               // 8038: JNZ 800Bh
            0xD9, 0xEE,                               // 803A: FLDZ
            0xD9, 0xE8,                               // 803C: FLD1
            0xD9, 0x35, 0x00, 0x94, 0x00, 0x00,       // 803E: FNSTENV [9400h]
            0xDD, 0xD8,                               // 8044: FSTP ST(0)
            0xDD, 0xD8,                               // 8046: FSTP ST(0)
            0xDF, 0xE0,                               // 8048: FNSTSW AX
            0xF4,                                     // 804A: HLT
        ];
        for forms in [true, false] {
            let (c, bus) = run_lean_program(
                &code,
                &[
                    (0x9010, &[0xFF; 8]),
                    (0x9018, &0x027Fu16.to_le_bytes()),
                    (0x9030, &[0xFF; 8]),
                    (0x9040, &0.1f64.to_bits().to_le_bytes()),
                    (0x9048, &3.0f64.to_bits().to_le_bytes()),
                ],
                forms,
            );
            let m = Le(&bus.0.mem);
            // Three pushes from TOP 0: TOP 5 (2800h); PE from the FMUL
            // (0.1 × 3 is inexact), its C1 (rounded up) cleared by the
            // pushes after it.
            for k in 1..=4 {
                assert_eq!(m.w(0x9020 + 2 * k), 0x2820, "forms {forms}, ECX {k}");
            }
            // +0.0, +1.0 and 0.1 × 3 rounded up (3FD3333333333334h).
            assert_eq!(m.q(0x9010), 0, "forms {forms}");
            assert_eq!(m.q(0x9030), 0x3FF0_0000_0000_0000, "forms {forms}");
            assert_eq!(m.q(0x9038), 0x3FD3_3333_3333_3334, "forms {forms}");
            // FNSTENV (32-bit layout): TOP 6, PE; R7 (+0) zero, R6 (1.0)
            // valid, the others empty: tag word 4FFFh; FIP 803Ch, FOP 1E8h
            // (D9 E8); FDP the last memory operand's (9038h): FLD1 and
            // FLDZ leave it.
            assert_eq!(
                m.env(0x9400),
                (0x3020, 0x4FFF, 0x803C, 0x1E8, 0x9038),
                "forms {forms}"
            );
            assert_eq!(c.r[0] & 0xFFFF, 0x0020, "forms {forms}");
        }
    }

    /// A zero m64 operand through the lean m64 forms (their fallback takes
    /// it, `f_x87_lean_full`): FADD and FMUL by +0.0 (−1.5 + 0 = −1.5,
    /// −1.5 × +0 = −0 by the sign rule, both exact), FCOM of −0 with +0
    /// (equal: C3), TOP and the pointers, in a loop that reaches the run
    /// loop's lap, with the decoded forms on and off. The values worked
    /// out by hand.
    #[test]
    fn lean_m64_forms_take_a_zero_operand_exactly() {
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2D, 0x18, 0x90, 0x00, 0x00,       // 8000: FLDCW [9018h] (027Fh)
            0xB9, 0x04, 0x00, 0x00, 0x00,             // 8006: MOV ECX,4
            0xDD, 0x05, 0x40, 0x90, 0x00, 0x00,       // 800B: FLD qword [9040h] (-1.5)
            0xDC, 0x05, 0x48, 0x90, 0x00, 0x00,       // 8011: FADD qword [9048h] (+0.0)
            0xDD, 0x15, 0x50, 0x90, 0x00, 0x00,       // 8017: FST qword [9050h]
            0xDC, 0x0D, 0x48, 0x90, 0x00, 0x00,       // 801D: FMUL qword [9048h]
            0xDC, 0x15, 0x48, 0x90, 0x00, 0x00,       // 8023: FCOM qword [9048h]
            0xDF, 0xE0,                               // 8029: FNSTSW AX
            0x66, 0x89, 0x04, 0x4D, 0x20, 0x90, 0x00, 0x00, // 802B: MOV [ECX*2+9020h],AX
            0xDD, 0x1D, 0x10, 0x90, 0x00, 0x00,       // 8033: FSTP qword [9010h]
            0x49,                                     // 8039: DEC ECX
            0x75, 0xCF,                               // 803A: JNZ 800Bh
            0xD9, 0xE8,                               // 803C: FLD1
            0xDC, 0x05, 0x48, 0x90, 0x00, 0x00,       // 803E: FADD qword [9048h]
            0xD9, 0x35, 0x00, 0x94, 0x00, 0x00,       // 8044: FNSTENV [9400h]
            0xDD, 0x1D, 0x30, 0x90, 0x00, 0x00,       // 804A: FSTP qword [9030h]
            0xDF, 0xE0,                               // 8050: FNSTSW AX
            0xF4,                                     // 8052: HLT
        ];
        for forms in [true, false] {
            let (c, bus) = run_lean_program(
                &code,
                &[
                    (0x9010, &[0xFF; 8]),
                    (0x9018, &0x027Fu16.to_le_bytes()),
                    (0x9030, &[0xFF; 8]),
                    (0x9040, &(-1.5f64).to_bits().to_le_bytes()),
                    (0x9048, &0.0f64.to_bits().to_le_bytes()),
                ],
                forms,
            );
            let m = Le(&bus.0.mem);
            // TOP 7 (3800h), C3 (−0 equals +0), nothing raised (all exact).
            for k in 1..=4 {
                assert_eq!(m.w(0x9020 + 2 * k), 0x7800, "forms {forms}, ECX {k}");
            }
            // −1.5 + 0 = −1.5 (BFF8h << 48); −1.5 × +0 = −0.
            assert_eq!(m.q(0x9050), 0xBFF8_0000_0000_0000, "forms {forms}");
            assert_eq!(m.q(0x9010), 0x8000_0000_0000_0000, "forms {forms}");
            // FNSTENV (32-bit layout): TOP 7, C3 as the FCOM left it; R7
            // (1.0) valid, the others empty: tag word 3FFFh; FIP 803Eh,
            // FOP 405h (DC 05), FDP 9048h.
            assert_eq!(
                m.env(0x9400),
                (0x7800, 0x3FFF, 0x803E, 0x405, 0x9048),
                "forms {forms}"
            );
            // 1.0 + 0 = 1.0.
            assert_eq!(m.q(0x9030), 0x3FF0_0000_0000_0000, "forms {forms}");
            assert_eq!(c.r[0] & 0xFFFF, 0x4000, "forms {forms}");
        }
    }

    /// Little-endian reads of a test bus's memory (a word, a dword, a
    /// qword at an address).
    struct Le<'a>(&'a [u8]);

    impl Le<'_> {
        fn w(&self, a: usize) -> u16 {
            u16::from_le_bytes([self.0[a], self.0[a + 1]])
        }
        fn d(&self, a: usize) -> u32 {
            u32::from_le_bytes(self.0[a..a + 4].try_into().unwrap())
        }
        fn q(&self, a: usize) -> u64 {
            u64::from_le_bytes(self.0[a..a + 8].try_into().unwrap())
        }
        /// What FNSTENV's 32-bit layout at `a` says of the status word,
        /// the tag word, FIP, FOP and FDP.
        fn env(&self, a: usize) -> (u32, u32, u32, u32, u32) {
            (
                self.d(a + 4) & 0xFFFF,
                self.d(a + 8) & 0xFFFF,
                self.d(a + 12),
                self.d(a + 16) >> 16 & 0x7FF,
                self.d(a + 20),
            )
        }
    }

    /// The pointers of lean forms run inside a block's body, where the run
    /// loop sets `insn_start` from the offset the arena copy keeps above
    /// FOP (`icache::BODY_OFF_SHIFT`): after two loops (bodies built at the
    /// first visit after the stamping one), FNSTENV shows FIP, FOP and FDP
    /// of the last x87 instruction each ran, a register form at 16h past
    /// its body's start and a memory form at 8 (SDM vol. 1, 8.1.8: FIP the
    /// last non-control instruction's, FDP its last memory operand's; a
    /// register form leaves FDP). Worked out by hand, the decode cache on
    /// and off. An offset left out (FIP the body's start) or taken from
    /// another form fails it.
    #[test]
    fn lean_forms_in_a_body_store_their_own_instruction_pointer() {
        #[rustfmt::skip]
        let code = [
            0xD9, 0x2D, 0x20, 0x30, 0x00, 0x00, // 2000: FLDCW [3020h] (027Fh)
            0xD9, 0xE8,                         // 2006: FLD1
            0xB9, 0x32, 0x00, 0x00, 0x00,       // 2008: MOV ECX,50
            0xDD, 0x05, 0x00, 0x30, 0x00, 0x00, // 200D: FLD qword [3000h] (0.1)
            0xDC, 0x0D, 0x10, 0x30, 0x00, 0x00, // 2013: FMUL qword [3010h] (3.0)
            0xD8, 0xC1,                         // 2019: FADD ST(0),ST(1)
            0xDD, 0x1D, 0x08, 0x30, 0x00, 0x00, // 201B: FSTP qword [3008h]
            0xD9, 0xC0,                         // 2021: FLD ST(0)
            0xDD, 0xD8,                         // 2023: FSTP ST(0)
            0x49,                               // 2025: DEC ECX
            0x75, 0xE5,                         // 2026: JNZ 200Dh
            0xD9, 0x35, 0x00, 0x31, 0x00, 0x00, // 2028: FNSTENV [3100h]
            0xB9, 0x32, 0x00, 0x00, 0x00,       // 202E: MOV ECX,50
            0xD9, 0xC0,                         // 2033: FLD ST(0)
            0xDC, 0x0D, 0x10, 0x30, 0x00, 0x00, // 2035: FMUL qword [3010h] (3.0)
            0xDD, 0x1D, 0x18, 0x30, 0x00, 0x00, // 203B: FSTP qword [3018h]
            0x49,                               // 2041: DEC ECX
            0x75, 0xEF,                         // 2042: JNZ 2033h
            0xD9, 0x35, 0x00, 0x32, 0x00, 0x00, // 2044: FNSTENV [3200h]
            0xF4,                               // 204A: HLT
        ];
        for cache in [true, false] {
            let (mut c, mut bus) = body_cpu(
                &code,
                &[
                    (0x3000, &0.1f64.to_bits().to_le_bytes()),
                    (0x3010, &3.0f64.to_bits().to_le_bytes()),
                    (0x3020, &0x027Fu16.to_le_bytes()),
                ],
                cache,
            );
            let mut halted = false;
            for _ in 0..1000 {
                if c.run_slice(&mut bus, 100_000).end == SliceEnd::Halted {
                    halted = true;
                    break;
                }
            }
            assert!(halted);
            let m = Le(&bus.flat.mem);
            // 0.1 × 3 is inexact (PE, sticky); both loops end with a store
            // (C1 clear) and leave 1.0 in R7 (TOP 7, tag word 3FFFh).
            // Loop one: FSTP ST(0) (DD D8) at 2023h, FDP the FSTP m64's.
            assert_eq!(
                m.env(0x3100),
                (0x3820, 0x3FFF, 0x2023, 0x5D8, 0x3008),
                "cache {cache}"
            );
            // Loop two: FSTP qword [3018h] (DD 1D) at 203Bh.
            assert_eq!(
                m.env(0x3200),
                (0x3820, 0x3FFF, 0x203B, 0x51D, 0x3018),
                "cache {cache}"
            );
            assert_eq!(m.q(0x3018), 3.0f64.to_bits());
        }
    }

    /// TOP kept as a byte beside `sw` (`Fpu::top8`, read by the lean
    /// forms): after FLDENV and FRSTOR load a status word with another
    /// TOP, lean FLD m64 and FSTP m64 push and pop from that TOP, as
    /// FNSTSW AX and FNSAVE show (SDM vol. 1, 8.1.3: a push decrements
    /// TOP, ST(0) is R[TOP]). Worked out by hand, the decoded forms on and
    /// off; a loader that left the byte behind fails it (release builds:
    /// the push goes to the old TOP; debug builds: `lean_top`'s check).
    #[test]
    fn lean_pushes_and_pops_follow_a_top_loaded_by_fldenv_and_frstor() {
        #[rustfmt::skip]
        let code = [
            0xD9, 0x25, 0x00, 0x91, 0x00, 0x00, // 8000: FLDENV [9100h] (TOP 3)
            0xDD, 0x05, 0x00, 0x90, 0x00, 0x00, // 8006: FLD qword [9000h] (1.5)
            0xDF, 0xE0,                         // 800C: FNSTSW AX
            0x66, 0xA3, 0x00, 0x92, 0x00, 0x00, // 800E: MOV [9200h],AX
            0xDD, 0x25, 0x00, 0x93, 0x00, 0x00, // 8014: FRSTOR [9300h] (TOP 5)
            0xDD, 0x05, 0x08, 0x90, 0x00, 0x00, // 801A: FLD qword [9008h] (2.5)
            0xDD, 0x1D, 0x10, 0x90, 0x00, 0x00, // 8020: FSTP qword [9010h]
            0xDD, 0x05, 0x08, 0x90, 0x00, 0x00, // 8026: FLD qword [9008h] (2.5)
            0xDF, 0xE0,                         // 802C: FNSTSW AX
            0x66, 0xA3, 0x02, 0x92, 0x00, 0x00, // 802E: MOV [9202h],AX
            0xDD, 0x35, 0x00, 0x94, 0x00, 0x00, // 8034: FNSAVE [9400h]
            0xF4,                               // 803A: HLT
        ];
        // Environments (32-bit layout): FCW 027Fh, FSW PE with TOP 3
        // (1820h) or 5 (2820h), every register empty (FFFFh).
        let env = |sw: u16| {
            let mut e = vec![0u8; 108];
            e[0..2].copy_from_slice(&0x027Fu16.to_le_bytes());
            e[4..6].copy_from_slice(&sw.to_le_bytes());
            e[8..10].copy_from_slice(&0xFFFFu16.to_le_bytes());
            e
        };
        let (e3, e5) = (env(0x1820), env(0x2820));
        for forms in [true, false] {
            let (_, bus) = run_lean_program(
                &code,
                &[
                    (0x9000, &1.5f64.to_bits().to_le_bytes()),
                    (0x9008, &2.5f64.to_bits().to_le_bytes()),
                    (0x9100, &e3[..28]),
                    (0x9300, &e5),
                ],
                forms,
            );
            let m = Le(&bus.0.mem);
            // TOP 3 − 1 = 2, PE kept, C1 clear.
            assert_eq!(m.w(0x9200), 0x1020, "forms {forms}");
            // TOP 5 − 1 = 4 after a push, a pop and a push.
            assert_eq!(m.w(0x9202), 0x2020, "forms {forms}");
            assert_eq!(m.q(0x9010), 2.5f64.to_bits(), "forms {forms}");
            // FNSAVE: FSW, the tag word with R4 alone valid, ST(0) 2.5
            // (exponent 4000h, significand A000…0h).
            assert_eq!(m.w(0x9404), 0x2020, "forms {forms}");
            assert_eq!(m.w(0x9408), 0xFCFF, "forms {forms}");
            assert_eq!(m.q(0x941C), 0xA000_0000_0000_0000, "forms {forms}");
            assert_eq!(m.w(0x9424), 0x4000, "forms {forms}");
        }
    }

    /// The lean forms' effective address (`Cpu32::ea_as::<false>`), whose
    /// `[disp32]` case is tested before the general sum: a 32-bit address
    /// with neither base nor index is the displacement; a 16-bit one wraps
    /// at 64 KiB; a base alone, or base and index, add their registers.
    #[test]
    fn the_lean_forms_effective_address_takes_each_addressing_form() {
        use super::super::decode::{EA_SIB, NOREG};
        let mut c = flat32(Model32::PentiumPro);
        c.r[3] = 0x1000;
        c.r[6] = 0x20;
        let at = |base: u8, index: u8, scale: u8, a32: bool, disp: u32| Insn {
            base,
            index,
            scale,
            a32,
            disp,
            ..Insn::default()
        };
        let ea = |c: &Cpu32, i: Insn| c.ea_as::<false>(&i);
        assert_eq!(ea(&c, at(NOREG, NOREG, 0, true, 0x1234_5678)), 0x1234_5678);
        assert_eq!(ea(&c, at(NOREG, NOREG, 0, false, 0x1_2345)), 0x2345);
        assert_eq!(ea(&c, at(3, NOREG, 0, true, 8)), 0x1008);
        assert_eq!(ea(&c, at(3 + EA_SIB, 6, 3, true, 8)), 0x1108);
        assert_eq!(ea(&c, at(NOREG, 6, 2, true, 0x9000)), 0x9080);
    }

    /// A flat 486 at `code` (loaded at 2000h, EIP there) with `data`
    /// loaded, the decode cache on or off, building blocks (and their
    /// bodies) at the first visit after the stamping one.
    fn body_cpu(
        code: &[u8],
        data: &[(u32, &[u8])],
        cache: bool,
    ) -> (Cpu32, super::super::tests_fast::LapBus) {
        let mut bus = super::super::tests_fast::LapBus::new();
        bus.flat.load(0x2000, code);
        for &(a, bytes) in data {
            bus.flat.load(a, bytes);
        }
        let mut c = flat32(Model32::I80486);
        c.set_block_heat(1);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        (c, bus)
    }

    /// Run `code` from 8000h on a flat protected-mode Pentium Pro (ESP
    /// 7000h) with `data` loaded, the decoded forms on or off, to its HLT.
    fn run_lean_program(code: &[u8], data: &[(u32, &[u8])], forms: bool) -> (Cpu32, TrustBus) {
        let mut flat = FlatBus::new(0x10000);
        let mut c = super::super::tests::flat_pm_model(Model32::PentiumPro, &mut flat);
        c.set_forms(forms);
        flat.load(0x8000, code);
        for &(a, bytes) in data {
            flat.load(a, bytes);
        }
        c.eip = 0x8000;
        c.r[4] = 0x7000;
        let mut bus = TrustBus(flat);
        assert_eq!(run_to_end(&mut c, &mut bus), StepResult32::Halted);
        (c, bus)
    }

    /// A lean FADD m64 in the run loop's lap, whose operand page is not
    /// present, faults with everything as before the instruction: the
    /// lean forms run without the restart snapshot and their fallback
    /// takes it (SDM vol. 3, 6.5: a fault restarts the instruction; the
    /// x87's pointers and stack are those of the previous instruction).
    #[test]
    fn a_lean_fadd_m64_on_a_page_not_present_faults_with_the_state_before_it() {
        let mut b = TrustBus(FlatBus::new(0x4_0000));
        // Paging: directory at 1000h, one table at 2000h mapping page n
        // to n for n < 40h, page 10h not present.
        b.0.load(0x1000, &(0x2000u32 | 3).to_le_bytes());
        for n in 0..0x40u32 {
            let pte = if n == 0x10 { 0 } else { (n << 12) | 3 };
            b.0.load(0x2000 + 4 * n, &pte.to_le_bytes());
        }
        let mut c = flat32(Model32::I80486);
        c.cr[3] = 0x1000;
        c.cr[0] |= 0x8000_0000;
        #[rustfmt::skip]
        let code = [
            0xD9, 0xE8,                         // 3000: FLD1
            0xDD, 0x05, 0x00, 0x50, 0, 0,       // 3002: FLD qword [5000h] (2.0)
            0xB9, 3, 0, 0, 0,                   // 3008: MOV ECX, 3
            0xDC, 0x03,                         // 300D: FADD qword [EBX]
            0xD8, 0xC1,                         // 300F: FADD ST(0), ST(1)
            0xD9, 0xC0,                         // 3011: FLD ST(0)
            0xDD, 0x1D, 0x10, 0x50, 0, 0,       // 3013: FSTP qword [5010h]
            0x49,                               // 3019: DEC ECX
            0x75, 0xF1,                         // 301A: JNZ 300Dh
            0xBB, 0x08, 0x00, 0x01, 0x00,       // 301C: MOV EBX, 10008h
            0xB8, 0x78, 0x56, 0x34, 0x12,       // 3021: MOV EAX, 12345678h
            0xEB, 0xE5,                         // 3026: JMP 300Dh
        ];
        b.0.load(0x3000, &code);
        b.0.load(0x5000, &2.0f64.to_bits().to_le_bytes());
        b.0.load(0x5008, &0.5f64.to_bits().to_le_bytes());
        c.eip = 0x3000;
        c.r[3] = 0x5008;
        // The IDT's limit is 0: the #PF becomes a shutdown, which leaves
        // the state the fault restarted from.
        assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Shutdown);
        assert_eq!(c.eip, 0x300D);
        assert_eq!(c.cr[2], 0x10008);
        assert_eq!((c.r[0], c.r[1], c.r[3]), (0x1234_5678, 0, 0x10008));
        // Three rounds of ST(0) + 0.5 + 1: 2 → 3.5 → 5 → 6.5, each stored.
        assert_eq!(b.0.mem[0x5010..0x5018], 6.5f64.to_bits().to_le_bytes());
        let f = c.x87().unwrap();
        // 6.5 = 1.101b × 2^2, 1.0; TOP 6; all exact (no PE, C1 clear).
        assert_eq!((f.st(0).se, f.st(0).m), (0x4001, 0xD000_0000_0000_0000));
        assert_eq!((f.st(1).se, f.st(1).m), (0x3FFF, 0x8000_0000_0000_0000));
        assert_eq!(f.status_word(), 0x3000);
        assert_eq!(f.tag_word(), 0x0FFF);
        // The pointers of the FSTP before it (DD 1D: FOP 51Dh).
        assert_eq!((f.fip, f.fop, f.fdp), (0x3013, 0x51D, 0x5010));
    }

    /// A lean x87 form in a block's body whose fallback drives FERR#
    /// (`f_x87_lean_full`, branch `x87op`): the slice must end right
    /// after it, as it does when every instruction is a whole step (the
    /// board raises IRQ 13 at that clock). An inner loop of FLD ST(0),
    /// FDIV ST(0),ST(2), FSTP ST(0), INC EDX, DEC ECX (a body: lean forms
    /// and integer forms) runs ten times with PE masked, so that its block
    /// is built and taken (1/3 is inexact: PE is set); then FLDCW unmasks
    /// PE (025Fh), which sets ES and, with CR0.NE clear, drives FERR#, and
    /// the loop runs again: each of its x87 instructions finds the error
    /// pending (the lean path declines), and its fallback, in the body,
    /// drives FERR# again (the board takes it after each slice). Slices of several
    /// budgets must end after the same instructions, for the same reasons,
    /// with the same clocks and steps as with the decode cache off. It
    /// fails if the body goes on after such a fallback.
    #[test]
    fn a_lean_fallback_driving_ferr_in_a_body_ends_the_slice_where_a_stepped_machine_does() {
        #[rustfmt::skip]
        let code = [
            0xDB, 0xE3,                         // 2000: FNINIT
            0xBB, 3, 0, 0, 0,                   // 2002: MOV EBX, 3
            0xDD, 0x05, 0x00, 0x30, 0, 0,       // 2007: FLD qword [3000h] (3.0)
            0xD9, 0xE8,                         // 200D: FLD1
            0xD9, 0x2D, 0x10, 0x30, 0, 0,       // 200F: FLDCW [3010h]
            0xB9, 10, 0, 0, 0,                  // 2015: MOV ECX, 10
            0xD9, 0xC0,                         // 201A: FLD ST(0)
            0xD8, 0xF2,                         // 201C: FDIV ST(0), ST(2)
            0xDD, 0xD8,                         // 201E: FSTP ST(0)
            0x42,                               // 2020: INC EDX
            0x49,                               // 2021: DEC ECX
            0x75, 0xF6,                         // 2022: JNZ 201Ah
            0x66, 0xC7, 0x05, 0x10, 0x30, 0, 0, 0x5F, 0x02, // 2024: MOV word [3010h], 025Fh
            0x4B,                               // 202D: DEC EBX
            0x75, 0xDF,                         // 202E: JNZ 200Fh
            0xF4,                               // 2030: HLT
        ];
        let run = |cache: bool, budget: u64| {
            // (The inner loop's head is reached 30 times, fewer than
            // BLK_HOT: `body_cpu` builds blocks at the first visit after
            // the stamping one.)
            let (mut c, mut bus) = body_cpu(
                &code,
                &[
                    (0x3000, &3.0f64.to_bits().to_le_bytes()),
                    (0x3010, &0x027Fu16.to_le_bytes()),
                ],
                cache,
            );
            c.r[2] = 0;
            let mut slices = Vec::new();
            let mut ferrs = 0;
            for _ in 0..10_000 {
                let s = c.run_slice(&mut bus, budget);
                // The board takes FERR# after each slice.
                let ferr = c.take_ferr();
                ferrs += ferr as u32;
                slices.push((s, ferr, c.eip));
                if s.end == SliceEnd::Halted {
                    break;
                }
            }
            (slices, ferrs, c.regs(), c.instructions(), c.x87().unwrap())
        };
        for budget in [1, 7, 40, 100_000] {
            let on = run(true, budget);
            let off = run(false, budget);
            assert_eq!(on.0, off.0, "slices, budget {budget}");
            assert_eq!((&on.2, on.3), (&off.2, off.3), "budget {budget}");
            assert_eq!(on.4, off.4, "x87, budget {budget}");
            // 30 passes. The FLDCW of 025Fh unmasks the PE the first
            // round left set: ES is set and FERR# driven (SDM vol. 1, 8.7:
            // an exception flag unmasked by FLDCW is reported at the next
            // waiting instruction, and the x87 drives FERR# when ES gets
            // set). From then on (no FNCLEX) every waiting x87 instruction
            // finds the error pending and drives it again: the 3 of each of
            // the last 20 passes and the last round's FLDCW. 62 edges.
            assert_eq!(on.2.r[2], 30, "EDX counts the passes");
            assert_eq!(on.1, 1 + 3 * 20 + 1, "FERR# edges, budget {budget}");
            // Each FERR# edge ended its slice (after the instruction that
            // drove it).
            let ends = on.0.iter().filter(|s| s.0.end == SliceEnd::Ferr).count();
            assert_eq!(ends as u32, on.1, "budget {budget}");
        }
    }

    /// An unmasked exception raised by a lean form's fallback (FDIV m64
    /// by zero with ZE unmasked: the lean path declines a zero) is
    /// reported as the full path reports it: #MF (CR0.NE set) at the
    /// next waiting x87 instruction — here a lean FSTP m64, which must not
    /// store — with the division's destination left as it was (SDM vol.
    /// 1, 8.5.3 and 8.6), on the decoded forms and on the general path.
    #[test]
    fn an_unmasked_error_from_a_lean_fallback_raises_mf_at_the_next_lean_form() {
        for forms in [true, false] {
            let mut b = TrustBus(FlatBus::new(0x1_0000));
            let mut c = super::super::tests::flat_pm_model(Model32::PentiumPro, &mut b.0);
            c.r[4] = 0x8000;
            c.cr[0] |= 0x20; // NE
                             // #MF (16): a 32-bit interrupt gate to 4000h (HLT).
            c.idtr = (0x800, 0xFF);
            b.0.load(
                0x800 + 16 * 8,
                &[0x00, 0x40, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00],
            );
            b.0.load(0x4000, &[0xF4]);
            #[rustfmt::skip]
            let code = [
                0xD9, 0x2D, 0x00, 0x50, 0, 0,       // 3000: FLDCW [5000h] (027Bh)
                0xD9, 0xE8,                         // 3006: FLD1
                0xB9, 3, 0, 0, 0,                   // 3008: MOV ECX, 3
                0xD9, 0xC0,                         // 300D: FLD ST(0)
                0xDC, 0x33,                         // 300F: FDIV qword [EBX]
                0xDD, 0x1D, 0x10, 0x50, 0, 0,       // 3011: FSTP qword [5010h]
                0x49,                               // 3017: DEC ECX
                0x75, 0xF3,                         // 3018: JNZ 300Dh
                0xBB, 0x18, 0x50, 0x00, 0x00,       // 301A: MOV EBX, 5018h
                0xEB, 0xEC,                         // 301F: JMP 300Dh
            ];
            b.0.load(0x3000, &code);
            b.0.load(0x5000, &0x027Bu16.to_le_bytes());
            b.0.load(0x5008, &2.0f64.to_bits().to_le_bytes());
            b.0.load(0x5018, &0.0f64.to_bits().to_le_bytes());
            c.set_forms(forms);
            c.eip = 0x3000;
            c.r[3] = 0x5008;
            assert_eq!(
                run_to_end(&mut c, &mut b),
                StepResult32::Halted,
                "forms {forms}"
            );
            assert_eq!(c.eip, 0x4001);
            // The #MF's return address is the FSTP's; ECX is 0 (the DEC
            // after it did not run), and the FSTP stored nothing: the
            // last store was 1/2 from the loop's third round.
            let ret = u32::from_le_bytes(b.0.mem[0x7FF4..0x7FF8].try_into().unwrap());
            assert_eq!((ret, c.r[1]), (0x3011, 0), "forms {forms}");
            assert_eq!(b.0.mem[0x5010..0x5018], 0.5f64.to_bits().to_le_bytes());
            let f = c.x87().unwrap();
            // ZE, ES and B with TOP 6; ST(0) still 1.0 (an unmasked
            // exception leaves the destination); FDIV's pointers (DC 33:
            // FOP 433h) — the FSTP that faulted changed none.
            assert_eq!(f.status_word(), 0xB084, "forms {forms}");
            assert_eq!((f.st(0).se, f.st(0).m), (0x3FFF, 0x8000_0000_0000_0000));
            assert_eq!((f.fip, f.fop, f.fdp), (0x300F, 0x433, 0x5018));
        }
    }

    #[test]
    fn the_286_and_386_report_x87_errors_outside_cr0_ne() {
        // An unmasked x87 error is #MF on a 486 with CR0.NE set; the 286's
        // MSW reads its upper bits as ones and the 386 has no NE, so their
        // coprocessor's error always goes out on ERROR#/FERR# (IRQ 13).
        let mut c = Cpu32::new(Model32::I80286);
        c.set_x87(true);
        assert!(c.cr[0] & 0x20 != 0, "the 286's MSW bit 5 reads as 1");
        assert!(!c.x87_ne());
        let mut c = Cpu32::new(Model32::I80486);
        c.cr[0] |= 0x20;
        assert!(c.x87_ne());
    }

    /// The lean forms' gate (`X87::lean`) after each of its writers, on a
    /// program in phases (each to a HLT) with the decoded forms on and off:
    /// FNINIT (PE clear: 0), an inexact FMUL m64 in a loop under 027Fh
    /// (both bits, set by a lean form's fallback), FLDCW 037Fh (the stack
    /// bit only: FDIV ST(0),ST(1) must round to 64 bits, which the lean
    /// arithmetic would not), FNCLEX (0, and exact lean work keeps PE
    /// clear), FNSAVE (FNINIT after it: 0), FLDENV of an environment
    /// with PE under 027Fh (both), FXRSTOR of an image under 037Fh with
    /// PE (the stack bit), FRSTOR of one with PE clear (0), then a state
    /// saved and loaded into a new CPU, reset, MOV CR0 setting TS (0) and
    /// CLTS (both), and last TS set by MOV CR0 after a loop's forms are
    /// decoded: the next FLD1 raises #NM (a shutdown here, IDT limit 0)
    /// with nothing changed; then TS cleared directly and the gate worked
    /// out, a state load, the 16-bit coprocessor interface attached. The values worked out by hand; a
    /// writer that leaves the gate set wrongly fails the lean forms' debug
    /// assertion or the values, one that leaves it 0 fails the gate's.
    #[test]
    fn the_lean_gate_follows_every_writer_of_the_x87_state() {
        // A tiny assembler: bytes, and loops of `n` rounds.
        struct Asm(Vec<u8>);
        impl Asm {
            fn b(&mut self, b: &[u8]) -> &mut Self {
                self.0.extend_from_slice(b);
                self
            }
            fn m(&mut self, op: &[u8], a: u32) -> &mut Self {
                self.b(op).b(&a.to_le_bytes())
            }
            fn lp(&mut self, n: u32, body: impl FnOnce(&mut Asm)) -> &mut Self {
                self.b(&[0xB9]).b(&n.to_le_bytes());
                let top = self.0.len();
                body(self);
                let back = top as i32 - (self.0.len() as i32 + 3);
                self.b(&[0x49, 0x75, back as i8 as u8])
            }
            fn at(&self) -> u32 {
                0x8000 + self.0.len() as u32
            }
        }
        const FLD64: [u8; 2] = [0xDD, 0x05];
        const FMUL64: [u8; 2] = [0xDC, 0x0D];
        const FSTP64: [u8; 2] = [0xDD, 0x1D];
        const FLDCW: [u8; 2] = [0xD9, 0x2D];
        const FLD1: [u8; 2] = [0xD9, 0xE8];
        const FSTP0: [u8; 2] = [0xDD, 0xD8];
        let mut a = Asm(Vec::new());
        let mut halts = Vec::new();
        // Phase 0: FNINIT.
        a.b(&[0xDB, 0xE3]).m(&FLDCW, 0x9010).b(&[0xF4]);
        halts.push(a.at());
        // Phase 1: 0.1 × 3 (inexact) + 1, lean FADD ST(0),ST(1); FNSTENV.
        a.lp(8, |a| {
            a.m(&FLD64, 0x9000)
                .m(&FMUL64, 0x9008)
                .b(&FLD1)
                .b(&[0xD8, 0xC1]);
            a.m(&FSTP64, 0x9100).b(&FSTP0);
        })
        .m(&[0xD9, 0x35], 0x9200)
        .b(&[0xF4]);
        halts.push(a.at());
        // Phase 2: FLDCW 037Fh; 1/3 to 64 bits (FDIV ST(0),ST(1), a lean
        // form), with a lean FXCH; FSTP tword; FXSAVE.
        a.m(&FLDCW, 0x9012)
            .lp(8, |a| {
                a.m(&FLD64, 0x9008).b(&FLD1).b(&[0xD9, 0xC9, 0xD9, 0xC9]);
                a.b(&[0xD8, 0xF1]).m(&[0xDB, 0x3D], 0x9110).b(&FSTP0);
            })
            .m(&[0x0F, 0xAE, 0x05], 0x9400)
            .b(&[0xF4]);
        halts.push(a.at());
        // Phase 3: FNCLEX, FLDCW 027Fh; exact lean work (1 + 1).
        a.b(&[0xDB, 0xE2]).m(&FLDCW, 0x9010).b(&[0xF4]);
        halts.push(a.at());
        a.lp(8, |a| {
            a.b(&FLD1)
                .b(&FLD1)
                .b(&[0xD8, 0xC1])
                .m(&FSTP64, 0x9120)
                .b(&FSTP0);
        })
        .b(&[0xF4]);
        halts.push(a.at());
        // Phase 4: FNSAVE (then FNINIT).
        a.m(&[0xDD, 0x35], 0x9600).b(&[0xF4]);
        halts.push(a.at());
        // Phase 5: FLDENV of phase 1's environment (027Fh, PE).
        a.m(&[0xD9, 0x25], 0x9200).b(&[0xF4]);
        halts.push(a.at());
        // Phase 6: FXRSTOR of phase 2's image (037Fh, PE).
        a.m(&[0x0F, 0xAE, 0x0D], 0x9400).b(&[0xF4]);
        halts.push(a.at());
        // Phase 7: FRSTOR of phase 4's image (027Fh, PE clear).
        a.m(&[0xDD, 0x25], 0x9600).b(&[0xF4]);
        halts.push(a.at());
        // Phase 8: FLDENV (027Fh, PE); MOV CR0 with TS (gate 0), CLTS
        // (both again); a lean loop, then TS again and the loop: #NM at
        // its FLD1.
        const SET_TS: [u8; 9] = [0x0F, 0x20, 0xC0, 0x83, 0xC8, 0x08, 0x0F, 0x22, 0xC0];
        a.m(&[0xD9, 0x25], 0x9200).b(&SET_TS).b(&[0xF4]);
        halts.push(a.at());
        a.b(&[0x0F, 0x06, 0xF4]);
        halts.push(a.at());
        let nm_loop = a.at() + 5;
        a.lp(8, |a| {
            a.b(&FLD1)
                .b(&FLD1)
                .b(&[0xD8, 0xC1])
                .m(&FSTP64, 0x9130)
                .b(&FSTP0);
        });
        a.b(&SET_TS);
        let back = nm_loop as i32 - (a.at() as i32 + 2);
        a.b(&[0xEB, back as i8 as u8]);
        let third = 0xAAAA_AAAA_AAAA_AAABu64;
        let inexact = (0.1f64 * 3.0 + 1.0).to_bits();
        for forms in [true, false] {
            let mut flat = FlatBus::new(0x10000);
            let mut c = super::super::tests::flat_pm_model(Model32::PentiumPro, &mut flat);
            c.set_forms(forms);
            flat.load(0x8000, &a.0);
            flat.load(0x9000, &0.1f64.to_bits().to_le_bytes());
            flat.load(0x9008, &3.0f64.to_bits().to_le_bytes());
            flat.load(0x9010, &0x027Fu16.to_le_bytes());
            flat.load(0x9012, &0x037Fu16.to_le_bytes());
            c.eip = 0x8000;
            c.r[4] = 0x7000;
            let mut bus = TrustBus(flat);
            let mut gates = Vec::new();
            for &h in &halts {
                assert_eq!(run_to_end(&mut c, &mut bus), StepResult32::Halted);
                assert_eq!(c.eip, h, "forms {forms}");
                c.halted = false;
                gates.push(c.x87.lean);
            }
            assert_eq!(gates, [0, 3, 1, 0, 0, 0, 3, 1, 0, 0, 3], "forms {forms}");
            let m = Le(&bus.0.mem);
            assert_eq!(m.q(0x9100), inexact, "forms {forms}");
            assert_eq!((m.q(0x9110), m.w(0x9118)), (third, 0x3FFD), "forms {forms}");
            assert_eq!(m.q(0x9120), 2.0f64.to_bits(), "forms {forms}");
            // The saved state (after CLTS), loaded into a new CPU; reset.
            let mut d = Cpu32::new(Model32::PentiumPro);
            assert_eq!(d.x87.lean, 0);
            d.load_state(&c.save_state()).unwrap();
            assert_eq!(d.x87.lean, 3);
            d.reset();
            assert_eq!(d.x87.lean, 0);
            // Phase 8 runs the rest: a shutdown at the FLD1 after TS.
            assert_eq!(run_to_end(&mut c, &mut bus), StepResult32::Shutdown);
            assert_eq!(c.eip, nm_loop, "forms {forms}");
            assert_eq!(c.cr[0] & 8, 8);
            let after = c.x87().unwrap();
            assert_eq!(after.status_word(), 0x0020, "forms {forms}");
            assert_eq!(after.tag_word(), 0xFFFF, "forms {forms}");
            assert_eq!(after.cw, 0x027F);
            assert_eq!(Le(&bus.0.mem).q(0x9130), 2.0f64.to_bits());
            assert_eq!(c.x87.lean, 0, "forms {forms}");
            // CR0.TS cleared directly, then the gate worked out; the
            // state, loaded into a new CPU; the 16-bit interface.
            c.cr[0] &= !8;
            c.x87_regate();
            assert_eq!(c.x87.lean, 3, "forms {forms}");
            let mut e = Cpu32::new(Model32::PentiumPro);
            e.load_state(&c.save_state()).unwrap();
            assert_eq!(e.x87.lean, 3);
            struct Nothing;
            impl Coprocessor for Nothing {
                fn esc(&mut self, _: u8, _: u8, _: Option<u32>, _: &mut dyn Bus) {}
            }
            e.set_coprocessor(Some(Box::new(Nothing)));
            assert_eq!(e.x87.lean, 0);
        }
    }
}
