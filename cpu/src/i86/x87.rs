//! A numeric coprocessor beside the 16-bit core: the 8087 on an 8086/8088,
//! the 80287 on an 80286 (real mode). ESC D8–DF execute on
//! [`crate::x87::Fpu`]; WAIT/FWAIT waits for nothing (the coprocessor's
//! work is done when ESC returns) but checks the 286's MSW.
//!
//! What the machines do with the coprocessor's error output is the board's
//! business; the core only says when it went active
//! ([`Cpu::take_x87_interrupt`]):
//! - the 8087's INT pin goes active when an instruction leaves an unmasked
//!   exception pending and the interrupt-enable mask (control word bit 7,
//!   IEM, set by FDISI and by FINIT, cleared by FENI) is clear; the PC and
//!   XT wire it to NMI (through the NMI mask at port A0h);
//! - the 80287's ERROR# goes active on the unmasked exception; the AT
//!   wires it to IRQ 13 (the BIOS's handler clears the busy latch at port
//!   F0h and calls INT 2).
//!
//! On the 286, MSW.EM or MSW.TS makes ESC raise interrupt 7 and MSW.MP
//! with TS makes WAIT raise it (the 80286 manual's rules, the ones the 386
//! kept for CR0). With no coprocessor attached nothing here runs: the ESC
//! and WAIT paths of `exec.rs` test one `Option` first.

use super::timing::Timing;
use super::Cpu;
use crate::bus::Bus;
use crate::model::CpuModel;
use crate::regs::Seg;
use crate::x87::{Fpu, FpuEnv, FpuError, FpuMemory};
use std::convert::Infallible;

/// The coprocessor chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoprocModel {
    /// The 8087 (8086/8088 machines).
    I8087,
    /// The 80287 (80286 machines).
    I80287,
}

impl CoprocModel {
    /// The coprocessor that goes with `cpu` (an 8087 for the 8086, 8088
    /// and 80186 — Intel paired the 80186 with the 8087 too — an 80287 for
    /// the 80286).
    pub fn for_cpu(cpu: CpuModel) -> CoprocModel {
        if cpu == CpuModel::I80286 {
            CoprocModel::I80287
        } else {
            CoprocModel::I8087
        }
    }
}

/// The 8087's control word after FINIT: every exception masked, interrupts
/// disabled (IEM), 64-bit precision, round to nearest, projective
/// infinity (8087 data sheet, "FINIT").
const CW_8087_INIT: u16 = 0x03FF;
/// The 8087's interrupt-enable mask in the control word.
const IEM: u16 = 0x80;

/// A coprocessor and its error output.
#[derive(Clone, Debug)]
pub struct Coprocessor {
    /// The FPU state.
    pub fpu: Fpu,
    /// Which chip.
    pub model: CoprocModel,
    /// The error/interrupt output went active since the board last looked.
    irq_edge: bool,
}

impl Coprocessor {
    /// A coprocessor after power-on (its FINIT state).
    pub fn new(model: CoprocModel) -> Self {
        let mut c = Coprocessor {
            fpu: Fpu::new(),
            model,
            irq_edge: false,
        };
        c.init();
        c
    }

    fn init(&mut self) {
        self.fpu.finit();
        if self.model == CoprocModel::I8087 {
            self.fpu.cw = CW_8087_INIT;
        }
    }

    /// The output the board watches: an unmasked exception is pending
    /// (and, on the 8087, interrupts are enabled by IEM = 0).
    pub fn error_output(&self) -> bool {
        self.fpu.error_pending() && (self.model != CoprocModel::I8087 || self.fpu.cw & IEM == 0)
    }
}

/// The memory operand of one ESC instruction: byte accesses through the
/// core (offsets wrap within the segment, as the 8086's do).
struct Operand<'a, T: Timing, B: Bus> {
    cpu: &'a mut Cpu<T>,
    bus: &'a mut B,
    seg: Seg,
    off: u16,
}

impl<T: Timing, B: Bus> FpuMemory for Operand<'_, T, B> {
    type Fault = Infallible;
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Infallible> {
        for (k, b) in buf.iter_mut().enumerate() {
            let off = self
                .off
                .wrapping_add((offset as u16).wrapping_add(k as u16));
            *b = self.cpu.rd(self.bus, self.seg, off, false) as u8;
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, buf: &[u8]) -> Result<(), Infallible> {
        for (k, &b) in buf.iter().enumerate() {
            let off = self
                .off
                .wrapping_add((offset as u16).wrapping_add(k as u16));
            self.cpu.wr(self.bus, self.seg, off, false, b as u16);
        }
        Ok(())
    }
}

impl<T: Timing> Cpu<T> {
    /// Attach a coprocessor (`Some`, in its power-on state) or remove it.
    pub fn set_coprocessor(&mut self, model: Option<CoprocModel>) {
        self.x87 = model.map(|m| Box::new(Coprocessor::new(m)));
    }

    /// The attached coprocessor.
    pub fn coprocessor(&self) -> Option<&Coprocessor> {
        self.x87.as_deref()
    }

    /// True once each time the coprocessor's interrupt/error output went
    /// active (the board raises NMI on the XT, IRQ 13 on the AT).
    #[inline]
    pub fn take_x87_interrupt(&mut self) -> bool {
        match self.x87.as_mut() {
            Some(c) => std::mem::take(&mut c.irq_edge),
            None => false,
        }
    }

    /// The 286's MSW rule for ESC (`wait` false) or WAIT: interrupt 7.
    fn x87_unavailable(&mut self, wait: bool) -> bool {
        if self.model != CpuModel::I80286 {
            return false;
        }
        let (mp, em, ts) = (self.msw & 2 != 0, self.msw & 4 != 0, self.msw & 8 != 0);
        if crate::x87::nm_check(em, ts, mp, wait) {
            self.raise(7);
            return true;
        }
        false
    }

    /// WAIT/FWAIT with a coprocessor attached.
    pub(crate) fn x87_wait(&mut self) {
        self.x87_unavailable(true);
    }

    /// ESC `op` (D8–DF) with ModR/M byte `modrm` (C0h and up for register
    /// forms) and its memory operand, on the attached coprocessor.
    pub(crate) fn x87_esc<B: Bus>(
        &mut self,
        bus: &mut B,
        op: u8,
        modrm: u8,
        operand: Option<(Seg, u16)>,
    ) {
        if self.x87_unavailable(false) {
            return;
        }
        let Some(mut c) = self.x87.take() else {
            return;
        };
        let before = c.error_output();
        let (seg, off) = operand.unwrap_or((Seg::DS, 0));
        let env = FpuEnv {
            op32: false,
            protected: false,
            fisttp: false,
            eflags: self.regs.flags as u32,
            cs: self.regs.seg[Seg::CS as usize],
            ip: self.cur.start_ip as u32,
            ds: self.regs.seg[seg as usize],
            ea: off as u32,
        };
        let res = match operand {
            Some(_) => {
                let mut m = Operand {
                    cpu: self,
                    bus,
                    seg,
                    off,
                };
                c.fpu.execute(op, modrm, Some(&mut m), &env)
            }
            None => c.fpu.execute::<Operand<T, B>>(op, modrm, None, &env),
        };
        match res {
            Ok(out) => {
                if let Some(ax) = out.ax {
                    self.regs.gpr[0] = ax;
                }
            }
            // Encodings the 387 leaves undefined do nothing on these chips
            // (they have no invalid-opcode exception for ESC).
            Err(FpuError::Undefined) => {}
            Err(FpuError::Fault(never)) => match never {},
        }
        if c.model == CoprocModel::I8087 {
            // The 8087's own control forms: FENI/FDISI toggle IEM, FINIT
            // restores its power-on control word.
            match (op, modrm) {
                (0xDB, 0xE0) => c.fpu.cw &= !IEM,
                (0xDB, 0xE1) => c.fpu.cw |= IEM,
                (0xDB, 0xE3) => c.fpu.cw = CW_8087_INIT,
                _ => {}
            }
        }
        if c.error_output() && !before {
            c.irq_edge = true;
        }
        self.x87 = Some(c);
    }
}
