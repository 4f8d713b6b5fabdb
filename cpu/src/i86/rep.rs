//! REP string instructions interrupted between iterations.
//!
//! The 8086 tests for interrupts between the iterations of a REP string
//! instruction, not only between instructions. A [`Cpu`] alone runs a REP to
//! its end in one [`Cpu::step`] (what the conformance vectors record); a
//! machine that must see its devices between iterations gives the CPU a
//! *REP deadline* ([`Cpu::set_rep_deadline`]): once the CPU's clock has
//! reached it, the REP stops at the next iteration boundary and the step
//! returns with the instruction *suspended*. The next step continues it
//! where it stopped, exactly as if it had never returned (the exact bus
//! model's state is untouched by the return, so its clocks are the same).
//! If instead the machine delivers an interrupt ([`Cpu::interrupt`]), the
//! REP ends there the way the processor ends it: the return address pushed
//! is the instruction's, and the REP starts over after the handler's IRET
//! with the CX, SI and DI it had reached.
//!
//! While suspended, IP holds the address of the instruction (the state a
//! debugger or snapshot shows is "at the REP, CX counted down"). A snapshot
//! taken then saves [`RepState`]; [`Cpu::restore_rep`] rebuilds the
//! suspended instruction from it and the code bytes.
//!
//! The 8086/8088's quirk: the address it pushes when a REP is interrupted
//! points at the *last* prefix before the opcode, not the first, so an
//! instruction with several prefixes resumes with only that one (`REP ES:
//! MOVSB` resumes as a single `ES: MOVSB`; `ES: REP MOVSB` as `REP MOVSB`
//! with DS). That is modelled for the 8086/8088 and the 80186 (whose
//! microcode keeps the 8086's here; not verified on hardware). The 80286
//! pushes the address of the first prefix and resumes with all of them.
//! With one prefix the two agree.

use super::exec::Charge;
use super::instr::decode_instr;
use super::timing::{Decoded, Timing};
use super::Cpu;
use crate::bus::Bus;
use crate::decode::ByteSource;
use crate::model::CpuModel;
use crate::regs::Seg;
use crate::table::{Op, Sem};
use crate::StepResult;
use serde::{Deserialize, Serialize};

/// A REP deadline that is never reached: the whole REP runs in one step.
pub(crate) const NEVER: u64 = u64::MAX;

/// The REP bookkeeping a CPU carries between steps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RepRun {
    /// The CPU clock at which a REP stops at its next iteration boundary.
    pub(crate) deadline: u64,
    /// The iteration loop stopped at the deadline (set by the loop, taken
    /// by the step).
    pub(crate) yielded: bool,
    /// Per-iteration clocks the loop charges as it goes (per-instruction
    /// models, so that the clock the deadline is compared with is current).
    pub(crate) paying: Option<u16>,
    /// The instruction stopped at an iteration boundary.
    pub(crate) suspended: Option<Suspended>,
}

impl Default for RepRun {
    fn default() -> Self {
        RepRun {
            deadline: NEVER,
            yielded: false,
            paying: None,
            suspended: None,
        }
    }
}

/// A REP string instruction stopped between iterations: what its step
/// needs to finish it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Suspended {
    pub(crate) sem: Sem,
    pub(crate) charge: Charge,
    pub(crate) trap: bool,
    pub(crate) start_ip: u16,
    pub(crate) len: u16,
    pub(crate) decoded: Option<Decoded>,
}

/// A suspended REP string instruction as a snapshot saves it (see the
/// module documentation); the rest is rebuilt from the code bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepState {
    /// IP of the instruction (its first prefix).
    pub start_ip: u16,
    /// Iterations done so far (the timing models count them).
    pub count: u32,
    /// The trap flag was set when the instruction started.
    pub trap: bool,
    /// Clocks per iteration charged as the loop goes, if it does.
    pub paying: Option<u16>,
}

/// Code bytes read straight from the bus, for rebuilding a suspended
/// instruction (no timing: the snapshot's timing state already holds the
/// instruction's fetches).
struct Peek<'a, B: Bus> {
    bus: &'a mut B,
    addr: u32,
    amask: u32,
}

impl<B: Bus> ByteSource for Peek<'_, B> {
    fn next_byte(&mut self) -> u8 {
        let v = self.bus.read(self.addr & self.amask);
        self.addr = self.addr.wrapping_add(1);
        v
    }
}

impl<T: Timing> Cpu<T> {
    /// Let a REP string instruction run until the CPU clock
    /// ([`Cpu::cycles`]) reaches `cycles`, then stop at the next iteration
    /// boundary (see the module documentation); `u64::MAX`, the default,
    /// runs every REP to its end in one step.
    pub fn set_rep_deadline(&mut self, cycles: u64) {
        self.rep.deadline = cycles;
    }

    /// True while a REP string instruction is stopped between iterations:
    /// the next step continues it (or an interrupt ends it).
    pub fn in_rep(&self) -> bool {
        self.rep.suspended.is_some()
    }

    /// The suspended REP, as a snapshot saves it.
    pub fn rep_state(&self) -> Option<RepState> {
        let s = self.rep.suspended.as_ref()?;
        Some(RepState {
            start_ip: s.start_ip,
            count: self.cur.count,
            trap: s.trap,
            paying: self.rep.paying,
        })
    }

    /// Put back a REP suspended when a snapshot was taken: decode the
    /// instruction at CS:`start_ip` again (reading memory, which has no
    /// effect on the bus model) and continue it at the next step. The
    /// registers (IP at the instruction) must already be restored. Fails,
    /// changing nothing, if the bytes there are not a REP string instruction.
    pub fn restore_rep<B: Bus>(&mut self, bus: &mut B, s: RepState) -> Result<(), String> {
        let cs = self.regs.seg[Seg::CS as usize];
        let mut src = Peek {
            bus,
            addr: ((cs as u32) << 4) + s.start_ip as u32,
            amask: self.amask,
        };
        let d = decode_instr(self.model, &mut src, T::RETIRES);
        if !matches!(d.sem.op, Op::Str(_)) || d.cur.rep.is_none() {
            return Err(format!(
                "the snapshot has a REP string instruction in progress at {cs:04X}:{:04X}, \
                 but the code there is not one",
                s.start_ip
            ));
        }
        self.cur = d.cur;
        self.cur.start_ip = s.start_ip;
        self.cur.count = s.count;
        self.string_entry();
        let len = d.len as u16;
        let decoded = T::EXACT_286.then_some(Decoded {
            sem: d.sem,
            opcode: d.cur.opcode,
            modrm: d.cur.modrm,
            prefixes: d.cur.prefixes,
            len: len as u32,
            rep: true,
        });
        self.rep.paying = s.paying;
        self.rep.yielded = false;
        self.rep.suspended = Some(Suspended {
            sem: d.sem,
            charge: Charge::of(&d),
            trap: s.trap,
            start_ip: s.start_ip,
            len,
            decoded,
        });
        self.regs.ip = s.start_ip;
        Ok(())
    }

    /// The iteration loop stopped at the deadline: keep what finishing the
    /// instruction needs and show IP at the instruction.
    pub(crate) fn suspend_rep(&mut self, s: Suspended) {
        self.rep.yielded = false;
        self.regs.ip = s.start_ip;
        self.rep.suspended = Some(s);
    }

    /// Continue the suspended REP for a step.
    pub(crate) fn resume_rep<B: Bus>(&mut self, bus: &mut B, s: Suspended) -> StepResult {
        self.regs.ip = s.start_ip.wrapping_add(s.len);
        if let (Op::Str(op), Some(rep)) = (s.sem.op, self.cur.rep) {
            self.rep_loop(bus, op, s.sem.word, rep);
        }
        if self.rep.yielded {
            self.suspend_rep(s);
            return StepResult::Executed;
        }
        // Rolling back a 286 fault restores what the instruction started
        // with; the registers a string iteration changes are kept anyway.
        let mut saved = self.regs;
        saved.ip = s.start_ip;
        let saved = (self.model == CpuModel::I80286).then_some(saved);
        self.finish(
            bus,
            &s.sem,
            s.charge,
            s.trap,
            s.start_ip,
            saved,
            s.decoded.as_ref(),
        );
        StepResult::Executed
    }

    /// An interrupt arrives while a REP is suspended: the instruction ends
    /// with IP at the address the processor pushes (see the module
    /// documentation) and counts as executed; the caller enters the
    /// interrupt.
    pub(crate) fn break_rep<B: Bus>(&mut self, bus: &mut B) {
        let Some(s) = self.rep.suspended.take() else {
            return;
        };
        let prefixes = self.cur.prefixes as u16;
        self.regs.ip = if self.model == CpuModel::I80286 || prefixes == 0 {
            s.start_ip
        } else {
            s.start_ip.wrapping_add(prefixes - 1)
        };
        if T::EXACT {
            // The loop's interrupt test and the IP correction before the
            // interrupt microcode (not measured: no vector records it).
            self.timing.eu(bus, 2);
        }
        self.finish(
            bus,
            &s.sem,
            s.charge,
            false,
            s.start_ip,
            None,
            s.decoded.as_ref(),
        );
    }
}
