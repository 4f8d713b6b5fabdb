//! The 8086/8088, 80186 and 80286 (real mode) core: the 16-bit paths tuned
//! for speed, with the exact bus models of the 8086/8088 ([`biu`]) and the
//! 80286 ([`biu286`]) and the fast forms of common instructions.
//!
//! It builds on the shared layer at the top of the crate (the instruction
//! table, decoder, ALU helpers, [`Bus`](crate::Bus)) and on nothing else.

pub mod biu;
pub mod biu286;
mod body;
pub mod exec;
mod fast;
mod forms;
pub(crate) mod icache;
pub(crate) mod instr;
pub mod pins;
mod rep;
pub mod timing;
pub mod x87;

use crate::model::CpuModel;
use crate::regs::{Registers, Seg};
pub use rep::RepState;
use timing::CountingTiming;
use timing::Timing;

/// A CPU: registers, model, and the timing model that accounts for its time.
#[derive(Clone, Debug)]
pub struct Cpu<T: Timing = CountingTiming> {
    /// Architectural registers.
    pub regs: Registers,
    /// The timing model (owns the prefetch queue in the exact model).
    pub timing: T,
    pub(crate) model: CpuModel,
    /// `model.address_mask()`, kept at hand for address arithmetic.
    pub(crate) amask: u32,
    pub(crate) halted: bool,
    /// Interrupts are held off for one instruction (after MOV SS, POP SS, STI...).
    pub(crate) irq_shadow: bool,
    /// 80286 machine status word (real mode: only PE=0 and the FPU bits matter).
    pub msw: u16,
    /// 80286 descriptor-table registers, (base, limit).
    pub gdtr: (u32, u16),
    /// 80286 interrupt descriptor table register, (base, limit).
    pub idtr: (u32, u16),
    /// Instructions executed.
    pub instructions: u64,
    pub(crate) cur: instr::Current,
    /// An exception raised in the middle of an instruction (286 segment
    /// overrun, #UD...): the instruction is abandoned and the exception taken.
    pub(crate) abort: Option<u8>,
    /// Decoded-instruction cache (empty while off).
    pub(crate) icache: icache::DecodeCache,
    /// Flags the fast forms have not worked out yet (none outside
    /// [`Cpu::run`] and [`Cpu::step`]; see [`forms::Lazy`]).
    pub(crate) lazy: forms::Lazy,
    /// The numeric coprocessor, if one is attached (see [`x87`]).
    pub(crate) x87: Option<Box<x87::Coprocessor>>,
    /// A REP string instruction's deadline and suspension (see [`rep`]).
    pub(crate) rep: rep::RepRun,
    /// The bits of a word register that the fast forms' writes of its low
    /// and high byte keep: always 0xFF00 and 0x00FF, held in a field so
    /// that the compiler cannot see them. With constant masks it stores
    /// only the byte that changes, and a later read of the whole word (AX
    /// after AL was written, or BL read with the rest of BX) cannot take
    /// its value from that narrower store still on its way to the cache
    /// and waits for it: a loop on a byte register (`dec bl; jnz`) took
    /// 2.3 times as long as the same loop on a word register. With the
    /// masks unknown, every byte write stores the whole word.
    pub(crate) keep: [u16; 2],
}

impl<T: Timing + Default> Cpu<T> {
    /// A CPU of `model` in its reset state (CS:IP = FFFF:0000).
    pub fn new(model: CpuModel) -> Self {
        let mut timing = T::default();
        timing.configure(model);
        let mut c = Cpu {
            regs: Registers::default(),
            timing,
            model,
            amask: model.address_mask(),
            halted: false,
            irq_shadow: false,
            msw: 0xFFF0,
            gdtr: (0, 0xFFFF),
            idtr: (0, 0x03FF),
            instructions: 0,
            cur: instr::Current::default(),
            abort: None,
            icache: icache::DecodeCache::default(),
            lazy: forms::Lazy::default(),
            x87: None,
            rep: rep::RepRun::default(),
            keep: [0xFF00, 0x00FF],
        };
        c.reset();
        c
    }
}

impl<T: Timing> Cpu<T> {
    /// Reset: CS=FFFF, IP=0, other registers zero, flags cleared.
    pub fn reset(&mut self) {
        self.regs = Registers::default();
        self.regs.seg[Seg::CS as usize] = 0xFFFF;
        if self.model == CpuModel::I80286 {
            self.regs.seg[Seg::CS as usize] = 0xF000;
            self.regs.ip = 0xFFF0;
        }
        self.regs.flags = self.model.flags_fixed_ones();
        self.lazy = forms::Lazy::default();
        self.rep.suspended = None;
        self.rep.paying = None;
        self.halted = false;
        self.irq_shadow = false;
        self.msw = 0xFFF0;
        self.idtr = (0, 0x03FF);
        if let Some(c) = self.x87.as_mut() {
            **c = x87::Coprocessor::new(c.model);
        }
        let (cs, ip) = (self.regs.seg[Seg::CS as usize], self.regs.ip);
        self.timing.flush(cs, ip);
    }

    /// The processor this CPU behaves as.
    pub fn model(&self) -> CpuModel {
        self.model
    }

    /// True while halted.
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Leave the halted state (an interrupt arrived).
    pub fn wake(&mut self) {
        self.halted = false;
    }

    /// Enter or leave the halted state (restoring a snapshot).
    pub fn set_halted(&mut self, halted: bool) {
        self.halted = halted;
    }

    /// True while interrupts are held off for one instruction (after MOV
    /// SS, POP SS, STI...).
    pub fn irq_shadow(&self) -> bool {
        self.irq_shadow
    }

    /// Set the one-instruction interrupt shadow (restoring a snapshot).
    pub fn set_irq_shadow(&mut self, on: bool) {
        self.irq_shadow = on;
    }

    /// Clock cycles spent so far, as the timing model counts them.
    pub fn cycles(&self) -> u64 {
        self.timing.cycles()
    }

    /// Physical address of `seg:off` for this model.
    #[inline]
    pub fn linear(&self, seg: u16, off: u16) -> u32 {
        (((seg as u32) << 4) + off as u32) & self.amask
    }
}
