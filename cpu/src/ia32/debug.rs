//! The 386's debug registers: instruction, data and (with CR4.DE) I/O
//! breakpoints in DR0–DR3 enabled by DR7, the status in DR6, and DR7.GD.
//!
//! The rules (Intel SDM vol. 3, "Debug Registers" and "Debug Exception
//! Conditions"; the 386 Programmer's Reference Manual, chapter 12):
//! - DR7 bits 2n/2n+1 (Ln/Gn) enable breakpoint n; its R/W field (bits
//!   16+4n) says what it watches: 00 instruction execution, 01 data
//!   writes, 11 data reads and writes, 10 I/O (only with CR4.DE, else
//!   undefined and ignored here); its LEN field (bits 18+4n) the size, 00
//!   one byte, 01 two, 11 four (10: eight on later processors), the
//!   address aligned down to it.
//! - An instruction breakpoint is a fault taken before the instruction at
//!   that linear address executes, unless EFLAGS.RF is set; RF is then
//!   cleared at the start of every instruction (IRET and task switches load
//!   it from their images, so the instruction they return to runs without
//!   the breakpoint firing again).
//! - A data or I/O breakpoint is a trap taken after the instruction that
//!   made the access completes (after the iteration of a repeated string
//!   instruction), with DR6.Bn telling which.
//! - DR7.GD makes any MOV to or from a debug register a #DB fault with
//!   DR6.BD set; the processor clears GD on entry to the handler so the
//!   handler can use the registers.
//! - The processor sets DR6 bits and never clears BD/BS/BT: software does.
//! - A task switch into a 386 TSS whose T bit (bit 0 of the word at 64h)
//!   is set raises #DB with DR6.BT after the switch completes, before the
//!   new task's first instruction (SDM vol. 3, "Task-Switch Exception
//!   Condition"): a trap after the instruction that switched, or, when an
//!   interrupt or exception switched through a task gate, straight after
//!   its delivery.
//! - DR7.LE/GE (exact breakpoints) are accepted and ignored: every data
//!   breakpoint here is reported right after the instruction that made
//!   the access, which is what LE/GE asked of the 386 and 486 (without
//!   them those may report it late) and what the P6 and later always do.

use super::*;

/// DR7.GD: general detect.
pub(crate) const DR7_GD: u32 = 1 << 13;
/// DR6.BD: the #DB came from general detect.
const DR6_BD: u32 = 1 << 13;
/// DR6.BS: single step.
const DR6_BS: u32 = 1 << 14;
/// DR6.BT: task switch into a TSS with the T bit set.
const DR6_BT: u32 = 1 << 15;
/// In [`DebugState::hits`]: a task switch with the T bit (beside B0–B3).
pub(crate) const HIT_TASK_SWITCH: u8 = 0x80;

/// Breakpoint matches of the instruction now executing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DebugState {
    /// Data and I/O breakpoints hit (DR6.B0–B3 to set after the
    /// instruction), and [`HIT_TASK_SWITCH`].
    pub(crate) hits: u8,
    /// A #DB is being delivered: a task switch it makes is not reported.
    in_event_trap: bool,
}

impl Cpu32 {
    /// Some breakpoint is enabled (one test on the memory paths).
    #[inline(always)]
    pub(crate) fn breakpoints_armed(&self) -> bool {
        self.dr[7] & 0xFF != 0
    }

    /// Breakpoints `n` that are enabled and watch `rw` (DR7's R/W code),
    /// with the first byte and length of what they cover.
    fn watching(&self, rw: u32) -> impl Iterator<Item = (usize, u32, u32)> + '_ {
        let dr7 = self.dr[7];
        (0..4).filter_map(move |n| {
            let on = dr7 >> (2 * n) & 3 != 0;
            let ctl = dr7 >> (16 + 4 * n);
            let len = match ctl >> 2 & 3 {
                0 => 1,
                1 => 2,
                2 => 8,
                _ => 4,
            };
            let matches = match rw {
                // A data read is watched by R/W 11; a write by 01 and 11.
                0b10_00 => ctl & 3 == 3,
                0b01 => ctl & 1 == 1,
                r => ctl & 3 == r,
            };
            (on && matches).then(|| (n, self.dr[n] & !(len - 1), len))
        })
    }

    /// Before an instruction, when a breakpoint is enabled or RF is set:
    /// forget the last instruction's hits, check the instruction
    /// breakpoints, then clear RF (it has done its work; IRET and task
    /// switches load it anew).
    pub(crate) fn debug_prologue(&mut self) -> R<()> {
        self.dbg.hits = 0;
        if self.breakpoints_armed() {
            self.code_breakpoint()?;
        }
        self.eflags &= !RF;
        Ok(())
    }

    /// A fault when an enabled instruction breakpoint sits at CS:EIP's
    /// linear address and RF is clear.
    fn code_breakpoint(&mut self) -> R<()> {
        if self.eflags & RF != 0 {
            return Ok(());
        }
        let lin = self.seg[CS].base.wrapping_add(self.eip);
        let hits = self
            .watching(0)
            .filter(|&(_, a, _)| a == lin)
            .fold(0u32, |h, (n, _, _)| h | 1 << n);
        if hits != 0 {
            self.dr[6] = (self.dr[6] & !0xF) | hits;
            return Err(fault_nc(1));
        }
        Ok(())
    }

    /// A data access of `len` bytes at linear `lin`: note the breakpoints it
    /// hits (the trap comes after the instruction).
    pub(crate) fn data_breakpoint(&mut self, lin: u32, len: u32, write: bool) {
        let rw = if write { 0b01 } else { 0b10_00 };
        let last = lin.wrapping_add(len - 1);
        let mut hits = 0u8;
        for (n, a, l) in self.watching(rw) {
            let a_last = a.wrapping_add(l - 1);
            if lin <= a_last && a <= last {
                hits |= 1 << n;
            }
        }
        self.dbg.hits |= hits;
    }

    /// An I/O access of `len` bytes at `port` (I/O breakpoints exist only
    /// with CR4.DE, Pentium on).
    pub(crate) fn io_breakpoint(&mut self, port: u16, len: u32) {
        if !self.breakpoints_armed() || self.cr[4] & p6::CR4_DE == 0 {
            return;
        }
        let (p, last) = (port as u32, port as u32 + len - 1);
        let mut hits = 0u8;
        for (n, a, l) in self.watching(0b10) {
            let a = a & 0xFFFF;
            if p < a + l && a <= last {
                hits |= 1 << n;
            }
        }
        self.dbg.hits |= hits;
    }

    /// MOV to or from a debug register with DR7.GD set: #DB (a fault) with
    /// DR6.BD, GD cleared for the handler.
    pub(crate) fn general_detect(&mut self) -> R<()> {
        if self.dr[7] & DR7_GD != 0 {
            self.dr[6] |= DR6_BD;
            self.dr[7] &= !DR7_GD;
            // A fault other than an instruction breakpoint: the pushed
            // EFLAGS image has RF set.
            self.snap.eflags |= RF;
            return Err(fault_nc(1));
        }
        Ok(())
    }

    /// After an instruction completed: the single-step trap (`single_step`)
    /// and the data/I/O breakpoint traps it raised, one #DB for all.
    pub(crate) fn debug_trap<B: Bus + ?Sized>(&mut self, bus: &mut B, single_step: bool) {
        let hits = std::mem::take(&mut self.dbg.hits) as u32;
        if hits == 0 && !single_step {
            return;
        }
        if hits & 0xF != 0 {
            self.dr[6] = (self.dr[6] & !0xF) | (hits & 0xF);
        }
        if hits & HIT_TASK_SWITCH as u32 != 0 {
            self.dr[6] |= DR6_BT;
        }
        if single_step {
            self.dr[6] |= DR6_BS;
        }
        // A #DB handler that is a task with T set would trap again and
        // again; its own switch is not reported.
        let outer = std::mem::replace(&mut self.dbg.in_event_trap, true);
        self.take_interrupt(bus, 1, false);
        self.dbg.in_event_trap = outer;
        // The handler's own stack frame is no breakpoint of the instruction.
        self.dbg.hits = 0;
    }

    /// After an interrupt or exception was delivered: if that went through
    /// a task gate into a TSS with the T bit, the #DB comes now, before the
    /// new task's first instruction.
    pub(crate) fn task_trap_after_event<B: Bus + ?Sized>(&mut self, bus: &mut B) {
        if self.dbg.hits & HIT_TASK_SWITCH != 0 && !self.dbg.in_event_trap {
            self.debug_trap(bus, false);
        }
    }
}
