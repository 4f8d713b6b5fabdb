//! Instruction semantics, written once for every timing model.

use super::body::{self, Arena, Head, HOT};
use super::forms;
use super::forms::Quick;
use super::icache::{DecodeCache, MAX_CACHED_LEN, SLOTS};
use super::instr::{decode_instr, Instr};
use super::timing::{Retired, Timing};
use super::Cpu;
use crate::alu::{self, mask, sign, szp, ARITH};
use crate::bus::Bus;
use crate::decode::{ByteSource, ModRm, MAX_IMM};
use crate::model::CpuModel;
use crate::regs::{Seg, AF, CF, DF, IF, OF, PF, SF, TF, ZF};
use crate::table::{AluOp, Op, Opd, Per, Prefix, Sem, ShiftOp, StrOp};
use crate::StepResult;

/// Where an operand lives once its address (if any) is known.
#[derive(Clone, Copy, Debug)]
enum Loc {
    Reg8(u8),
    Reg16(u8),
    Sreg(Seg),
    Mem(Seg, u16),
    Imm(u16),
}

/// The timing-table data of the current instruction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Charge {
    base: u16,
    extra: u16,
    per: Per,
}

impl Charge {
    #[inline]
    pub(crate) fn of(d: &Instr) -> Self {
        Charge {
            base: d.base_clocks,
            extra: d.extra_clocks,
            per: d.per,
        }
    }
}

/// Instruction-stream bytes through the timing model.
struct Stream<'a, T: Timing, B: Bus> {
    cpu: &'a mut Cpu<T>,
    bus: &'a mut B,
}

impl<T: Timing, B: Bus> ByteSource for Stream<'_, T, B> {
    #[inline]
    fn next_byte(&mut self) -> u8 {
        self.cpu.fetch8(self.bus)
    }
}

const RESULT: u16 = ARITH;

/// Exact model: clocks between reading a register operand of PUSH r/m and the push.
const PUSH_RM_REG: u32 = 4;

impl<T: Timing> Cpu<T> {
    // ----- access helpers -------------------------------------------------

    #[inline]
    pub(crate) fn fetch8<B: Bus>(&mut self, bus: &mut B) -> u8 {
        // The 286 limits an instruction, prefixes included, to ten bytes.
        if self.model == CpuModel::I80286 && self.regs.ip.wrapping_sub(self.cur.start_ip) >= 10 {
            self.raise(13);
        }
        let a = self.linear(self.regs.seg[Seg::CS as usize], self.regs.ip);
        self.regs.ip = self.regs.ip.wrapping_add(1);
        self.timing.fetch(bus, a)
    }

    /// The next immediate byte of the current instruction (decoded with it).
    #[inline]
    fn imm8(&mut self) -> u8 {
        // No row has more than MAX_IMM (a power of two) immediate bytes.
        let b = self.cur.imm[self.cur.imm_pos as usize & (MAX_IMM - 1)];
        self.cur.imm_pos += 1;
        b
    }

    #[inline]
    fn imm16(&mut self) -> u16 {
        let lo = self.imm8() as u16;
        lo | ((self.imm8() as u16) << 8)
    }

    #[inline]
    fn seg_base(&self, s: Seg) -> u16 {
        self.regs.seg[s as usize]
    }

    /// Abandon the current instruction and take exception `vector` when it ends.
    #[inline]
    pub(crate) fn raise(&mut self, vector: u8) {
        debug_assert_eq!(
            self.model,
            CpuModel::I80286,
            "only the 286 abandons instructions"
        );
        if self.abort.is_none() {
            self.abort = Some(vector);
        }
    }

    /// On the 286 a word at offset FFFF overruns the segment: #GP (13) in real mode.
    #[inline]
    fn overruns(&self, off: u16, w: bool) -> bool {
        w && off == 0xFFFF && self.model == CpuModel::I80286
    }

    /// Read a byte or word of memory at `seg:off` (offsets wrap within the segment).
    #[inline(always)]
    pub(crate) fn rd<B: Bus>(&mut self, bus: &mut B, s: Seg, off: u16, w: bool) -> u16 {
        // The 286 makes no transfer once the instruction has faulted.
        if T::EXACT_286 && self.abort.is_some() {
            return 0;
        }
        if self.overruns(off, w) {
            self.raise(13);
            return 0;
        }
        self.mem_access_read(bus, s, off, w)
    }

    /// The bus transfers of a read at `seg:off` (offsets wrap within the
    /// segment), the checks done.
    #[inline(always)]
    pub(crate) fn mem_access_read<B: Bus>(
        &mut self,
        bus: &mut B,
        s: Seg,
        off: u16,
        w: bool,
    ) -> u16 {
        let base = self.seg_base(s);
        if w {
            let lo = self.linear(base, off);
            let hi = self.linear(base, off.wrapping_add(1));
            self.timing.read16(bus, s, lo, hi)
        } else {
            let a = self.linear(base, off);
            self.timing.read8(bus, s, a) as u16
        }
    }

    #[inline(always)]
    pub(crate) fn wr<B: Bus>(&mut self, bus: &mut B, s: Seg, off: u16, w: bool, v: u16) {
        if self.abort.is_some() {
            return;
        }
        if self.overruns(off, w) {
            self.raise(13);
            self.cur.write_faulted = true;
            return;
        }
        let cached = self.icache.enabled();
        self.mem_access_write(bus, s, off, w, v, cached);
    }

    /// The bus transfers of a write at `seg:off`, the checks done; cached
    /// instructions covering the bytes are dropped when `cached`.
    #[inline(always)]
    pub(crate) fn mem_access_write<B: Bus>(
        &mut self,
        bus: &mut B,
        s: Seg,
        off: u16,
        w: bool,
        v: u16,
        cached: bool,
    ) {
        let base = self.seg_base(s);
        if w {
            let lo = self.linear(base, off);
            let hi = self.linear(base, off.wrapping_add(1));
            if cached {
                self.icache.written(lo);
                self.icache.written(hi);
            }
            self.timing.write16(bus, s, lo, hi, v)
        } else {
            let a = self.linear(base, off);
            if cached {
                self.icache.written(a);
            }
            self.timing.write8(bus, s, a, v as u8)
        }
    }

    #[inline]
    pub(crate) fn push<B: Bus>(&mut self, bus: &mut B, v: u16) {
        let sp = self.regs.gpr[4].wrapping_sub(2);
        self.regs.gpr[4] = sp;
        self.wr(bus, Seg::SS, sp, true, v);
    }

    #[inline]
    pub(crate) fn pop<B: Bus>(&mut self, bus: &mut B) -> u16 {
        let sp = self.regs.gpr[4];
        let v = self.rd(bus, Seg::SS, sp, true);
        if self.abort.is_none() {
            self.regs.gpr[4] = sp.wrapping_add(2);
            // A completed pop stands even if a later write of the instruction overruns.
            self.cur.keep_on_fault |= 1 << 4;
        }
        v
    }

    #[inline]
    pub(crate) fn set_arith(&mut self, f: u16, which: u16) {
        self.regs.flags = (self.regs.flags & !which) | (f & which);
    }

    /// Write FLAGS as POPF/IRET/SAHF do: fixed bits forced.
    fn load_flags(&mut self, v: u16) {
        let m = self.model;
        self.regs.flags = (v & m.flags_writable()) | m.flags_fixed_ones();
    }

    fn jump(&mut self, ip: u16) {
        self.cur.taken = true;
        self.regs.ip = ip;
        // (A 286 instruction abandoned for a fault does not get to its jump.)
        if !(T::EXACT_286 && self.abort.is_some()) {
            self.timing.flush(self.regs.seg[Seg::CS as usize], ip);
        }
    }

    fn far_jump(&mut self, cs: u16, ip: u16) {
        self.cur.taken = true;
        self.regs.seg[Seg::CS as usize] = cs;
        self.regs.ip = ip;
        if !(T::EXACT_286 && self.abort.is_some()) {
            self.timing.flush(cs, ip);
        }
    }

    // ----- exact-model microcode points ----------------------------------

    /// [`Timing::eu`] for a count that may be zero: no clocks of work are no
    /// call at all (the microcode paths below often come to zero clocks).
    #[inline(always)]
    fn eu_maybe<B: Bus>(&mut self, bus: &mut B, n: u32) {
        if n != 0 {
            self.timing.eu(bus, n);
        }
    }

    /// Exact model: the microcode takes the instruction's remaining bytes
    /// (immediates) from the queue now.
    #[inline(always)]
    fn take_rest<B: Bus>(&mut self, bus: &mut B) {
        if T::EXACT {
            while self.timing.owed() > 0 {
                self.timing.take(bus, false);
            }
        }
    }

    /// Exact model: ALU microcode between the destination's read and the
    /// source's (immediates are taken here) and the write.
    #[inline(always)]
    fn exact_alu<B: Bus>(&mut self, bus: &mut B, d: Loc, s: Loc, cmp: bool) {
        let imm = matches!(s, Loc::Imm(_));
        match (d, imm) {
            (Loc::Mem(..), true) => {
                let n = self.timing.owed();
                self.timing.eu(bus, 3);
                self.take_rest(bus);
                self.eu_maybe(bus, if cmp { 3 - n.min(3) } else { 4 - n.min(4) });
            }
            (Loc::Mem(..), false) => self.timing.eu(bus, if cmp { 4 } else { 6 }),
            (_, true) if self.cur.modrm.is_some() => self.exact_imm(bus, 0),
            (_, true) => self.exact_imm(bus, 1),
            (_, false) if !matches!(s, Loc::Mem(..)) => self.timing.eu(bus, 1),
            _ => {}
        }
    }

    /// Exact model: an immediate operand of a register form, `before` clocks
    /// after the previous byte; a byte immediate costs a clock more after it.
    #[inline(always)]
    fn exact_imm<B: Bus>(&mut self, bus: &mut B, before: u32) {
        let byte = self.timing.owed() == 1;
        self.eu_maybe(bus, before);
        self.take_rest(bus);
        self.eu_maybe(bus, byte as u32);
    }

    /// Exact model: MOV's microcode before its read.
    #[inline(always)]
    fn exact_mov_before<B: Bus>(&mut self, bus: &mut B, d: Loc, s: Loc) {
        match (self.cur.modrm, d, s) {
            (None, Loc::Mem(..), _) => {
                self.timing.eu(bus, 1);
                self.take_rest(bus);
                self.timing.eu(bus, 2);
            }
            (None, _, Loc::Mem(..)) => {
                self.timing.eu(bus, 1);
                self.take_rest(bus);
            }
            (None, _, _) => self.exact_imm(bus, 1),
            (Some(_), Loc::Mem(..), Loc::Imm(_)) => {
                let n = self.timing.owed();
                self.timing.eu(bus, 2);
                self.take_rest(bus);
                self.eu_maybe(bus, 3 - n.min(3));
            }
            (Some(_), _, Loc::Imm(_)) => self.exact_imm(bus, 0),
            (Some(_), Loc::Mem(..), Loc::Sreg(_)) => self.timing.eu(bus, 3),
            (Some(_), Loc::Mem(..), _) => self.timing.eu(bus, 4),
            _ => {}
        }
    }

    /// Exact model: an indirect JMP/CALL near suspends prefetching right
    /// after a register operand (the SUSP that lets a started fetch finish),
    /// two clocks after a memory operand's read (the one that calls it off).
    fn exact_indirect_suspend<B: Bus>(&mut self, bus: &mut B, target: Loc) {
        if matches!(target, Loc::Mem(..)) {
            self.timing.eu(bus, 2);
            self.timing.suspend(bus);
        } else {
            self.timing.suspend_free(bus);
        }
    }

    /// Exact model: prefixes, opcode and ModR/M byte taken from the queue;
    /// the effective address is worked out here too, so that the ModR/M
    /// byte is looked at once.
    #[inline(always)]
    fn exact_head<B: Bus>(&mut self, bus: &mut B) {
        for _ in 0..self.cur.prefixes {
            self.timing.take(bus, true);
            self.timing.eu(bus, 1);
        }
        self.timing.take(bus, true);
        if let Some(m) = self.cur.modrm {
            self.compute_ea(&m);
            self.timing.take(bus, false);
            if !m.is_reg() {
                self.exact_ea(bus, &m);
            }
        }
    }

    /// Exact model: the effective-address microcode, displacement included.
    /// Clocks from after the ModR/M byte until the address is ready: the
    /// table's EA clocks less two; the base/index sum comes before the
    /// displacement is read.
    fn exact_ea<B: Bus>(&mut self, bus: &mut B, m: &ModRm) {
        let disp = match (m.md, m.rm) {
            (0, 6) | (2, _) => 2,
            (1, _) => 1,
            _ => 0,
        };
        let total = super::timing::ea_clocks(m) - 2;
        let (before, after) = match (m.md, m.rm) {
            (0, 6) => (1, 1),
            (0, _) => (total, 0),
            (_, r) => {
                let rm = if r == 6 { 7 } else { r };
                let sum = super::timing::ea_clocks(&ModRm { md: 0, rm, ..*m }) - 2;
                (sum, total - sum - disp)
            }
        };
        self.timing.eu(bus, before);
        for _ in 0..disp {
            self.timing.take(bus, false);
        }
        self.eu_maybe(bus, after);
    }

    /// Segment for a data access whose default is `default`, honouring an override.
    #[inline]
    fn data_seg(&self, default: Seg) -> Seg {
        self.cur.seg.unwrap_or(default)
    }

    #[inline(always)]
    fn compute_ea(&mut self, m: &ModRm) {
        if m.is_reg() {
            self.cur.ea_seg = None;
            return;
        }
        let g = &self.regs.gpr;
        let (bx, bp, si, di) = (g[3], g[5], g[6], g[7]);
        let base = match m.rm {
            0 => bx.wrapping_add(si),
            1 => bx.wrapping_add(di),
            2 => bp.wrapping_add(si),
            3 => bp.wrapping_add(di),
            4 => si,
            5 => di,
            6 if m.md == 0 => 0,
            6 => bp,
            _ => bx,
        };
        self.cur.ea = base.wrapping_add(m.disp);
        self.cur.ea_seg = Some(self.data_seg(m.default_seg()));
    }

    /// Resolve an operand to a location, fetching immediates and direct addresses.
    #[inline(always)]
    fn loc(&mut self, opd: Opd) -> Loc {
        match opd {
            Opd::Eb | Opd::Ev | Opd::M | Opd::Mp | Opd::Ma => {
                let m = self.cur.modrm.unwrap_or(ModRm {
                    md: 3,
                    reg: 0,
                    rm: 0,
                    disp: 0,
                });
                if m.is_reg() {
                    if opd == Opd::Eb {
                        Loc::Reg8(m.rm)
                    } else {
                        Loc::Reg16(m.rm)
                    }
                } else {
                    Loc::Mem(self.cur.ea_seg.unwrap_or(Seg::DS), self.cur.ea)
                }
            }
            Opd::Gb => Loc::Reg8(self.cur.modrm.map_or(0, |m| m.reg)),
            Opd::Gv => Loc::Reg16(self.cur.modrm.map_or(0, |m| m.reg)),
            Opd::Sw => Loc::Sreg(Seg::from_index(self.cur.modrm.map_or(0, |m| m.reg))),
            Opd::Ib => Loc::Imm(self.imm8() as u16),
            Opd::Ibs => Loc::Imm(self.imm8() as i8 as i16 as u16),
            Opd::Iv | Opd::Iw => Loc::Imm(self.imm16()),
            Opd::Ob | Opd::Ov => {
                let a = self.imm16();
                Loc::Mem(self.data_seg(Seg::DS), a)
            }
            Opd::AL => Loc::Reg8(0),
            Opd::AX => Loc::Reg16(0),
            Opd::CL => Loc::Reg8(1),
            Opd::DX => Loc::Reg16(2),
            Opd::One => Loc::Imm(1),
            Opd::Three => Loc::Imm(3),
            Opd::Zv => Loc::Reg16(self.cur.opcode & 7),
            Opd::Zb => Loc::Reg8(self.cur.opcode & 7),
            Opd::S(s) => Loc::Sreg(s),
            Opd::Jb | Opd::Jv | Opd::Ap | Opd::None => Loc::Imm(0),
        }
    }

    #[inline(always)]
    fn read<B: Bus>(&mut self, bus: &mut B, l: Loc, w: bool) -> u16 {
        match l {
            Loc::Reg8(r) => self.regs.r8(r) as u16,
            Loc::Reg16(r) => self.regs.gpr[r as usize],
            Loc::Sreg(s) => self.regs.seg[s as usize],
            Loc::Mem(s, off) => self.rd(bus, s, off, w),
            Loc::Imm(v) => v,
        }
    }

    #[inline(always)]
    fn write<B: Bus>(&mut self, bus: &mut B, l: Loc, w: bool, v: u16) {
        match l {
            Loc::Reg8(r) => self.regs.set_r8(r, v as u8),
            Loc::Reg16(r) => self.regs.gpr[r as usize] = v,
            Loc::Sreg(s) => {
                self.regs.seg[s as usize] = v;
                match s {
                    Seg::CS => self.timing.flush(v, self.regs.ip),
                    Seg::SS => self.irq_shadow = true,
                    _ => {}
                }
            }
            Loc::Mem(s, off) => self.wr(bus, s, off, w, v),
            Loc::Imm(_) => {}
        }
    }

    // ----- interrupts -----------------------------------------------------

    /// Enter interrupt `vector`: push FLAGS, CS, IP; clear IF and TF; load the vector.
    pub(crate) fn enter_interrupt<B: Bus>(&mut self, bus: &mut B, vector: u8) {
        if self.abort.is_some() {
            // The instruction is being abandoned for an earlier fault, which
            // `step` delivers instead.
            return;
        }
        if T::EXACT {
            self.exact_interrupt(bus, vector);
            return;
        }
        if T::EXACT_286 {
            let detail = self.cur.count;
            self.timing.interrupt(bus, vector, detail);
        }
        let flags = self.regs.flags;
        self.push(bus, flags);
        self.regs.flags &= !(IF | TF);
        let cs = self.regs.seg[Seg::CS as usize];
        self.push(bus, cs);
        let ip = self.regs.ip;
        self.push(bus, ip);
        if self.abort.take().is_some() {
            // The 286 cannot push the frame (the stack overruns its segment):
            // a fault while delivering an interrupt shuts the processor down.
            self.halted = true;
            return;
        }
        let addr = vector as u32 * 4;
        let new_ip = self.timing.read16(bus, Seg::DS, addr, addr + 1);
        let new_cs = self.timing.read16(bus, Seg::DS, addr + 2, addr + 3);
        self.far_jump(new_cs, new_ip);
    }

    /// Exact model: the 8086 reads the vector first, pushes FLAGS and CS,
    /// restarts the fetch at the handler and pushes IP last.
    fn exact_interrupt<B: Bus>(&mut self, bus: &mut B, vector: u8) {
        let addr = vector as u32 * 4;
        // The vector table is read with no segment (status "CS or none").
        let new_ip = self.timing.read16(bus, Seg::CS, addr, addr + 1);
        self.timing.eu(bus, 2);
        let new_cs = self.timing.read16(bus, Seg::CS, addr + 2, addr + 3);
        self.timing.eu(bus, 3);
        let flags = self.regs.flags;
        self.push(bus, flags);
        self.regs.flags &= !(IF | TF);
        self.timing.eu(bus, 5);
        let cs = self.regs.seg[Seg::CS as usize];
        self.push(bus, cs);
        let ip = self.regs.ip;
        self.timing.eu(bus, 1);
        self.timing.suspend(bus);
        self.timing.eu(bus, 2);
        self.far_jump(new_cs, new_ip);
        self.timing.eu(bus, 2);
        self.push(bus, ip);
    }

    /// A fault: the 8086 returns after the instruction, later models to its start.
    fn fault<B: Bus>(&mut self, bus: &mut B, vector: u8) {
        if self.model.is_186_plus() {
            self.regs.ip = self.cur.start_ip;
        }
        self.enter_interrupt(bus, vector);
    }

    /// True when a maskable interrupt would be accepted now (IF set and no
    /// one-instruction interrupt shadow after MOV SS/POP SS/STI).
    pub fn interrupts_enabled(&self) -> bool {
        self.regs.flag(IF) && !self.irq_shadow
    }

    /// Take a hardware interrupt with vector `vector` now (the caller checked
    /// [`Cpu::interrupts_enabled`] and did the acknowledge). Wakes a halted CPU.
    pub fn interrupt<B: Bus>(&mut self, bus: &mut B, vector: u8) {
        self.halted = false;
        self.break_rep(bus);
        self.enter_interrupt(bus, vector);
    }

    /// Non-maskable interrupt (vector 2).
    pub fn nmi<B: Bus>(&mut self, bus: &mut B) {
        self.interrupt(bus, 2);
    }

    // ----- the step -------------------------------------------------------

    /// Execute one instruction (prefixes included, and the interrupt entry of
    /// any exception it raises).
    #[inline]
    pub fn step<B: Bus>(&mut self, bus: &mut B) -> StepResult {
        // Common forms straight from the decode cache (see `fast`).
        if T::FAST_FORMS
            && !self.halted
            && self.regs.flags & TF == 0
            && self.icache.enabled()
            && self.rep.suspended.is_none()
        {
            let quick = self.icache.take_quick();
            let done = match <&[Quick; SLOTS]>::try_from(quick.as_slice()) {
                Ok(table) => {
                    let cs_base = (self.regs.seg[Seg::CS as usize] as u32) << 4;
                    match self.step_fast::<B, true>(bus, table, cs_base, self.regs.ip) {
                        Some((ip, clocks)) => {
                            self.regs.ip = ip;
                            self.timing.charge(clocks as u64);
                            true
                        }
                        None => false,
                    }
                }
                Err(_) => false,
            };
            self.icache.put_quick(quick);
            self.settle_flags();
            if done {
                self.irq_shadow = false;
                self.instructions += 1;
                return StepResult::Executed;
            }
        }
        self.step_decoded(bus)
    }

    /// Execute up to `max` instructions as [`Cpu::step`] would, one after
    /// another, and return how many ran. Returns early, right after it, when
    /// an instruction is not one of the specialised forms of the decode cache
    /// (I/O, HLT, interrupts, far transfers, anything uncached...), and at
    /// once when the CPU is halted, so that a caller can look at I/O and
    /// device state after every instruction that could have changed it.
    /// The rare forms (MUL/DIV, shifts of memory) also end the run here and
    /// go through `execute`: this loop measured faster without them.
    /// Without the decode cache this is one `step`.
    pub fn run<B: Bus>(&mut self, bus: &mut B, max: u64) -> u64 {
        let mut n = 0;
        if T::FAST_FORMS
            && !self.halted
            && self.regs.flags & TF == 0
            && self.icache.enabled()
            && self.rep.suspended.is_none()
            && max > 0
        {
            // The fast forms change neither TF nor the halted state.
            n = self.run_lent::<B, false, false>(bus, max);
        }
        if n < max && self.step_decoded(bus) == StepResult::Executed {
            n += 1;
        }
        n
    }

    /// Run the specialised forms of the decode cache back to back, as
    /// [`Cpu::step`] would run them, until at least `budget` clocks have
    /// been charged (checked before each instruction, so the one that
    /// reaches the budget is the last) or the next instruction has no form.
    /// Unlike [`Cpu::run`], that next instruction is *not* executed: a
    /// machine brings its devices up to date first, then runs it with
    /// [`Cpu::step`] (the forms do no I/O and no interrupt-flag changes,
    /// so nothing a device sees happens inside the run). Returns how many
    /// instructions ran: 0 when the next one has no form, the budget is 0,
    /// the CPU is halted, the trap flag is set, the cache is off or the
    /// timing model has no forms.
    pub fn run_forms<B: Bus>(&mut self, bus: &mut B, budget: u64) -> u64 {
        if !(T::FAST_FORMS
            && !self.halted
            && self.regs.flags & TF == 0
            && self.icache.enabled()
            && self.rep.suspended.is_none())
            || budget == 0
        {
            return 0;
        }
        let limit = self.timing.cycles().saturating_add(budget);
        self.run_lent::<B, true, true>(bus, limit)
    }

    /// The forms' run of [`Cpu::run`] (`CLOCKED` false: `limit`
    /// instructions at most) and [`Cpu::run_forms`] (`CLOCKED` true: until
    /// the timing model's count reaches `limit`), with the cache's tables
    /// lent out for it; settles the flags and counts the instructions.
    #[inline(always)]
    fn run_lent<B: Bus, const RARE: bool, const CLOCKED: bool>(
        &mut self,
        bus: &mut B,
        limit: u64,
    ) -> u64 {
        let mut n = 0u64;
        let quick = self.icache.take_quick();
        let mut bodies = self.icache.take_bodies();
        if let (Ok(table), Ok(heads)) = (
            <&[Quick; SLOTS]>::try_from(quick.as_slice()),
            <&mut [Head; SLOTS]>::try_from(bodies.heads.as_mut_slice()),
        ) {
            n = self.run_loop::<B, RARE, CLOCKED>(bus, table, heads, &mut bodies.arena, limit);
        }
        self.icache.put_quick(quick);
        self.icache.put_bodies(bodies);
        self.settle_flags();
        if n > 0 {
            self.irq_shadow = false;
            self.instructions += n;
        }
        n
    }

    /// The loop of [`Cpu::run_lent`]: a body where one starts and fits
    /// what is left, else a single form, until the limit or an
    /// instruction without a form. The forms charge some clocks (memory
    /// words on the 8088) to the timing model as they go, and the rest is
    /// charged after each form or body: the model's count is the one to
    /// check.
    #[inline(always)]
    fn run_loop<B: Bus, const RARE: bool, const CLOCKED: bool>(
        &mut self,
        bus: &mut B,
        quick: &[Quick; SLOTS],
        heads: &mut [Head; SLOTS],
        arena: &mut Arena,
        limit: u64,
    ) -> u64 {
        let cs = self.regs.seg[Seg::CS as usize];
        let cs_base = (cs as u32) << 4;
        let mut ip = self.regs.ip;
        let mut n = 0u64;
        // A body fits when no instruction in it could reach the limit.
        macro_rules! fits {
            ($h:expr) => {
                if CLOCKED {
                    self.timing.cycles() + ($h.worst as u64) < limit
                } else {
                    n + $h.count as u64 <= limit
                }
            };
        }
        macro_rules! done {
            () => {
                if CLOCKED {
                    self.timing.cycles() >= limit
                } else {
                    n >= limit
                }
            };
        }
        loop {
            // Not masked to the address bus: an address past it (code
            // reached through the 8086's wrap at 1 MiB) matches no tag,
            // cached addresses being masked, and runs through `execute`.
            let addr = cs_base + ip as u32;
            let Some(i) = self.icache.slot_of(addr) else {
                break;
            };
            let i = i & (SLOTS - 1);
            let gen = self.icache.gen;
            let h = &heads[i];
            if h.gen == gen && h.len != 0 {
                if (ip as u32) < h.ip_limit && fits!(h) {
                    let ops = &arena.ops[h.start as usize..][..h.len as usize];
                    loop {
                        let (left, adj, skipped) = self.run_body(bus, ops, gen);
                        match left {
                            None => {
                                // Run through: the last form's sums are the
                                // body's (clocks with no jump taken, its
                                // instructions, the IP after it).
                                let last = &ops[ops.len() - 1];
                                self.timing
                                    .charge((last.after as u32).wrapping_add(adj) as u64);
                                n += (last.n as u32 - skipped) as u64;
                                ip = ip.wrapping_add(last.end);
                            }
                            Some((o, true)) => {
                                self.timing
                                    .charge((o.taken as u32).wrapping_add(adj) as u64);
                                n += (o.n as u32 - skipped) as u64;
                                // Back to its own start: nothing the
                                // look-up sees has changed (a write that
                                // dropped code stops the body).
                                if o.to == 0 && fits!(h) {
                                    continue;
                                }
                                ip = ip.wrapping_add(o.to);
                                // (Also after an unrolled loop's jump not
                                // taken: the only model with forms has no
                                // queue to flush, as jumps within a body
                                // already assume.)
                                self.timing.flush(cs, ip);
                            }
                            Some((o, false)) => {
                                self.timing
                                    .charge((o.after as u32).wrapping_add(adj) as u64);
                                n += (o.n as u32 - skipped) as u64;
                                ip = ip.wrapping_add(o.end);
                            }
                        }
                        break;
                    }
                    if done!() {
                        break;
                    }
                    continue;
                }
            } else if h.gen != gen || h.visits < HOT {
                body::visit(heads, arena, i, addr, gen, self.icache.tags(), quick);
            }
            let q = &quick[i];
            if ip as u32 >= q.ip_limit {
                break;
            }
            let Some((next, c)) = self.run_fast::<B, RARE>(bus, q, ip.wrapping_add(q.len as u16))
            else {
                break;
            };
            self.timing.cached_fetch(q.len as u32);
            ip = next;
            self.timing.charge(c as u64);
            n += 1;
            if done!() {
                break;
            }
        }
        self.regs.ip = ip;
        n
    }

    /// For timing models without fast forms (the cycle-exact model): run
    /// instructions one by one through the decoder's path, exactly as
    /// [`Cpu::step`] runs them, for as long as the next one is in the decode
    /// cache with a specialised form on this model (so it does no I/O and
    /// changes neither IF nor CS: what [`Cpu::run_forms`] runs without the
    /// board looking), until the clock count has grown by at least
    /// `budget`. Returns how many ran; the instruction it stopped before has
    /// not started. Returns 0 at once for models with forms (use
    /// `run_forms`), while halted or single-stepping, and with the cache off.
    pub fn run_plain<B: Bus>(&mut self, bus: &mut B, budget: u64) -> u64 {
        if T::FAST_FORMS
            || self.halted
            || self.regs.flags & TF != 0
            || !self.icache.enabled()
            || budget == 0
        {
            return 0;
        }
        let limit = self.timing.cycles().saturating_add(budget);
        let mut n = 0u64;
        loop {
            let ip = self.regs.ip;
            // Unmasked, as `step_fast` looks it up: code past the address
            // bus matches no tag.
            let addr = ((self.regs.seg[Seg::CS as usize] as u32) << 4) + ip as u32;
            if !self.icache.has_form(addr, ip) {
                break;
            }
            self.step_decoded(bus);
            n += 1;
            if self.timing.cycles() >= limit {
                break;
            }
        }
        n
    }

    /// [`Cpu::step`] through the decoder (or the decode cache) and `execute`.
    #[inline(never)]
    fn step_decoded<B: Bus>(&mut self, bus: &mut B) -> StepResult {
        if self.halted {
            return StepResult::Halted;
        }
        if let Some(s) = self.rep.suspended.take() {
            return self.resume_rep(bus, s);
        }
        // The trap flag as the instruction starts decides the single-step trap after it.
        let trap = self.regs.flags & TF != 0 && !self.irq_shadow;
        self.irq_shadow = false;
        let start_ip = self.regs.ip;
        // Only the 286 abandons instructions half-way (see `raise`); the
        // snapshot to roll back to is taken for it alone.
        let saved = (self.model == CpuModel::I80286).then_some(self.regs);
        let (sem, charge) = self.next_instruction(bus, start_ip);
        self.cur.start_ip = start_ip;
        if T::EXACT {
            self.exact_head(bus);
        } else if let Some(m) = self.cur.modrm {
            self.compute_ea(&m);
        }
        let decoded = T::EXACT_286.then(|| super::timing::Decoded {
            sem,
            opcode: self.cur.opcode,
            modrm: self.cur.modrm,
            prefixes: self.cur.prefixes,
            len: self.regs.ip.wrapping_sub(start_ip) as u32,
            rep: self.cur.rep.is_some(),
        });
        if let Some(d) = &decoded {
            self.timing.begin(bus, d);
        }
        // Per-instruction models charge an interruptible REP as it goes,
        // so that the clock its deadline is compared with is current.
        if T::RETIRES
            && self.rep.deadline != super::rep::NEVER
            && self.cur.rep.is_some()
            && matches!(sem.op, Op::Str(_))
            && charge.per == Per::Repeat
        {
            self.timing.charge(charge.base as u64);
            self.rep.paying = Some(charge.extra);
        }
        // An instruction that faulted while being fetched (longer than the
        // 286's ten bytes) does not execute at all.
        if self.abort.is_none() {
            if T::EXACT {
                self.execute_inline(bus, &sem);
            } else {
                self.execute(bus, &sem);
            }
        }
        if self.rep.yielded {
            let len = self.regs.ip.wrapping_sub(start_ip);
            self.suspend_rep(super::rep::Suspended {
                sem,
                charge,
                trap,
                start_ip,
                len,
                decoded,
            });
            return StepResult::Executed;
        }
        self.finish(bus, &sem, charge, trap, start_ip, saved, decoded.as_ref());
        StepResult::Executed
    }

    /// The end of an instruction's step: the bytes it has not taken, the
    /// timing model's account, a fault's or the trap flag's interrupt, the
    /// count.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn finish<B: Bus>(
        &mut self,
        bus: &mut B,
        sem: &Sem,
        charge: Charge,
        trap: bool,
        start_ip: u16,
        saved: Option<crate::regs::Registers>,
        decoded: Option<&super::timing::Decoded>,
    ) {
        self.take_rest(bus);
        if let Some(d) = decoded {
            // An instruction abandoned for a fault ends in the interrupt entry.
            if self.abort.is_none() {
                let (taken, count) = (self.cur.taken, self.cur.count);
                self.timing.end(bus, d, taken, count);
            }
        }
        if T::RETIRES && self.rep.paying.take().is_none() {
            self.timing.retire(&Retired {
                base: charge.base as u32,
                extra: charge.extra,
                per: charge.per,
                rep: self.cur.rep.is_some(),
                word: sem.word,
                taken: self.cur.taken,
                count: self.cur.count,
            });
        }
        if let Some(vector) = self.abort {
            self.abort = None;
            let current = self.regs.gpr;
            let flags = self.regs.flags;
            match saved {
                Some(regs) => self.regs = regs,
                None => self.regs.ip = start_ip,
            }
            if self.cur.keep_flags {
                self.regs.flags = flags;
            }
            for (i, v) in current.iter().enumerate() {
                if self.cur.keep_on_fault & (1 << i) != 0 {
                    self.regs.gpr[i] = *v;
                }
            }
            self.enter_interrupt(bus, vector);
        }
        if trap {
            self.enter_interrupt(bus, 1);
        }
        self.instructions += 1;
    }

    /// Decode the instruction at CS:`ip` (from the decode cache when it is on
    /// and holds it) and advance IP past it.
    #[inline]
    fn next_instruction<B: Bus>(&mut self, bus: &mut B, ip: u16) -> (Sem, Charge) {
        let cacheable = T::DECODE_CACHE && self.icache.enabled();
        let addr = self.linear(self.regs.seg[Seg::CS as usize], ip);
        if cacheable {
            // A cached instruction is used only where it does not wrap
            // around the end of the code segment (the same bytes reached
            // through another CS:IP may).
            if let Some(d) = self.icache.get(addr) {
                if ip <= d.last_ip {
                    self.cur = d.cur;
                    self.regs.ip = ip.wrapping_add(d.len as u16);
                    self.timing.cached_fetch(d.len as u32);
                    return (d.sem, Charge::of(d));
                }
            }
        }
        // The 286's instruction-length limit is counted from here while fetching.
        self.cur.start_ip = ip;
        let model = self.model;
        let d = decode_instr(model, &mut Stream { cpu: self, bus }, T::RETIRES);
        let len = d.len as u32;
        // Only instructions that fit the cache, raised nothing while being
        // fetched and do not wrap around the end of the code segment.
        if cacheable && len <= MAX_CACHED_LEN && self.abort.is_none() && ip as u32 + len <= 0x1_0000
        {
            // Kept for every timing model: without fast forms the entry
            // still tells `run_plain` that the instruction is one of them
            // (no I/O, no change to IF or CS).
            let quick = forms::quick(model, &d);
            self.icache.insert(addr, &d, quick);
        }
        self.cur = d.cur;
        (d.sem, Charge::of(&d))
    }

    /// Turn the decoded-instruction cache on or off (it starts off). With it
    /// on, memory changed other than by this CPU's own writes (DMA, loaders
    /// writing the bus directly) must be reported with [`Cpu::invalidate_code`].
    pub fn set_decode_cache(&mut self, on: bool) {
        self.icache = if on {
            DecodeCache::new(self.model.address_mask())
        } else {
            DecodeCache::default()
        };
    }

    /// True when the decoded-instruction cache is on.
    pub fn decode_cache_enabled(&self) -> bool {
        self.icache.enabled()
    }

    /// Memory in `start..start + len` (physical) changed behind the CPU's
    /// back: forget any decoded instruction that covers it.
    pub fn invalidate_code(&mut self, start: u32, len: u32) {
        if !self.icache.enabled() {
            return;
        }
        if len > 0x1000 {
            self.icache.clear();
            return;
        }
        for i in 0..len {
            let a = start.wrapping_add(i) & self.model.address_mask();
            self.icache.written(a);
        }
    }

    fn execute<B: Bus>(&mut self, bus: &mut B, row: &Sem) {
        self.execute_inline(bus, row);
    }

    /// [`Cpu::execute`] written into its caller: the exact model's step
    /// saves a call's register saves and restores per instruction.
    #[inline(always)]
    fn execute_inline<B: Bus>(&mut self, bus: &mut B, row: &Sem) {
        let w = row.word;
        match row.op {
            Op::Alu(op) => {
                let d = self.loc(row.opd[0]);
                let s = self.loc(row.opd[1]);
                let a = self.read(bus, d, w) as u32;
                if T::EXACT {
                    self.exact_alu(bus, d, s, op == AluOp::Cmp);
                }
                let b = self.read(bus, s, w) as u32;
                if T::EXACT && matches!(s, Loc::Mem(..)) {
                    self.timing.eu(bus, 4);
                }
                let c = self.regs.flag(CF) as u32;
                let (r, f) = match op {
                    AluOp::Add => alu::add(w, a, b, 0),
                    AluOp::Adc => alu::add(w, a, b, c),
                    AluOp::Sub | AluOp::Cmp => alu::sub(w, a, b, 0),
                    AluOp::Sbb => alu::sub(w, a, b, c),
                    AluOp::Or => alu::logic(w, a | b),
                    AluOp::And => alu::logic(w, a & b),
                    AluOp::Xor => alu::logic(w, a ^ b),
                };
                self.set_arith(f, RESULT);
                if op != AluOp::Cmp {
                    self.write(bus, d, w, r as u16);
                }
            }
            Op::Test => {
                let d = self.loc(row.opd[0]);
                let s = self.loc(row.opd[1]);
                let a = self.read(bus, d, w) as u32;
                if T::EXACT && self.cur.modrm.is_some() && matches!(s, Loc::Imm(_)) {
                    // TEST r/m, imm: the immediate is taken after the operand.
                    let mem = matches!(d, Loc::Mem(..));
                    self.timing.eu(bus, if mem { 3 } else { 1 });
                    self.take_rest(bus);
                    self.eu_maybe(bus, mem as u32 + if w { 0 } else { 1 });
                } else if T::EXACT && self.cur.modrm.is_some() {
                    // TEST r/m, reg.
                    let mem = matches!(d, Loc::Mem(..));
                    self.timing.eu(bus, if mem { 4 } else { 1 });
                } else if T::EXACT {
                    // TEST AL/AX, imm.
                    self.exact_imm(bus, 1);
                }
                let b = self.read(bus, s, w) as u32;
                if T::EXACT && matches!(s, Loc::Mem(..)) {
                    self.timing.eu(bus, 4);
                }
                let (_, f) = alu::logic(w, a & b);
                self.set_arith(f, RESULT);
            }
            Op::Mov => {
                if self.model == CpuModel::I80286
                    && (row.opd[0] == Opd::Sw || row.opd[1] == Opd::Sw)
                {
                    // Only ES, CS, SS, DS exist, and CS cannot be loaded by MOV.
                    let reg = self.cur.modrm.map_or(0, |m| m.reg);
                    if reg > 3 || (row.opd[0] == Opd::Sw && reg == 1) {
                        self.raise(6);
                        return;
                    }
                }
                let d = self.loc(row.opd[0]);
                let s = self.loc(row.opd[1]);
                if T::EXACT {
                    self.exact_mov_before(bus, d, s);
                }
                let v = self.read(bus, s, w);
                if T::EXACT && matches!(s, Loc::Mem(..)) {
                    let n = if self.cur.modrm.is_some() { 3 } else { 1 };
                    self.timing.eu(bus, n);
                }
                self.write(bus, d, w, v);
            }
            Op::Xchg => {
                let d = self.loc(row.opd[0]);
                let s = self.loc(row.opd[1]);
                let mem = matches!(s, Loc::Mem(..));
                if !mem {
                    self.timing.eu(bus, 2);
                }
                let a = self.read(bus, d, w);
                let b = self.read(bus, s, w);
                if mem {
                    // Exact model: the memory operand is read, then written
                    // back seven clocks after the read's data phase.
                    self.timing.eu(bus, 7);
                }
                self.write(bus, d, w, b);
                self.write(bus, s, w, a);
            }
            Op::Nop => self.timing.eu(bus, 2),
            Op::Inc | Op::Dec => {
                let d = self.loc(row.opd[0]);
                if T::EXACT && !matches!(d, Loc::Mem(..)) {
                    self.timing.eu(bus, 1);
                }
                let a = self.read(bus, d, w) as u32;
                let (r, f) = if matches!(row.op, Op::Inc) {
                    alu::add(w, a, 1, 0)
                } else {
                    alu::sub(w, a, 1, 0)
                };
                self.set_arith(f, RESULT & !CF);
                if T::EXACT && matches!(d, Loc::Mem(..)) {
                    self.timing.eu(bus, 5);
                }
                self.write(bus, d, w, r as u16);
            }
            Op::Push => {
                let s = self.loc(row.opd[0]);
                if T::EXACT && self.cur.modrm.is_none() {
                    self.timing.eu(bus, 4);
                }
                let v = match s {
                    // The 8086 and 80186 push SP as it is after the decrement.
                    Loc::Reg16(4) if self.model != CpuModel::I80286 => {
                        self.regs.gpr[4].wrapping_sub(2)
                    }
                    _ => self.read(bus, s, true),
                };
                if T::EXACT && self.cur.modrm.is_some() {
                    let mem = matches!(s, Loc::Mem(..));
                    self.timing.eu(bus, if mem { 6 } else { PUSH_RM_REG });
                }
                self.push(bus, v);
            }
            Op::Pop => {
                let exact_simple = T::EXACT && self.cur.modrm.is_none();
                let mem = self.cur.modrm.is_some_and(|m| !m.is_reg());
                if exact_simple {
                    self.timing.eu(bus, 1);
                } else if T::EXACT {
                    self.timing.eu(bus, if mem { 3 } else { 1 });
                }
                let v = self.pop(bus);
                if exact_simple {
                    self.timing.eu(bus, 1);
                } else if T::EXACT {
                    self.timing.eu(bus, if mem { 4 } else { 2 });
                }
                let d = self.loc(row.opd[0]);
                self.write(bus, d, true, v);
            }
            Op::Jcc(cc) => {
                let d = self.imm8() as i8 as i16 as u16;
                self.timing.eu(bus, 1);
                self.take_rest(bus);
                let taken = self.cond(cc);
                if taken {
                    self.timing.eu(bus, 2);
                    self.timing.suspend(bus);
                    self.timing.eu(bus, 4);
                } else {
                    self.timing.eu(bus, 1);
                }
                if taken {
                    let ip = self.regs.ip.wrapping_add(d);
                    self.jump(ip);
                }
            }
            Op::Lea => {
                if self.memory_form_missing() {
                    return;
                }
                let d = self.loc(row.opd[0]);
                let ea = self.cur.ea;
                self.timing.eu(bus, 2);
                self.write(bus, d, true, ea);
            }
            Op::Cbw => {
                self.timing.eu(bus, 1);
                let al = self.regs.gpr[0] as u8 as i8 as i16 as u16;
                self.regs.gpr[0] = al;
            }
            Op::Cwd => {
                self.timing.eu(bus, 4 + (self.regs.gpr[0] >> 15) as u32);
                self.regs.gpr[2] = if self.regs.gpr[0] & 0x8000 != 0 {
                    0xFFFF
                } else {
                    0
                };
            }
            Op::CallFar => {
                let ip = self.imm16();
                let cs = self.imm16();
                if T::EXACT {
                    self.timing.eu(bus, 1);
                    self.take_rest(bus);
                    self.timing.eu(bus, 1);
                    self.timing.suspend(bus);
                    self.timing.eu(bus, 3);
                }
                self.call_far(bus, cs, ip);
            }
            Op::Wait => {
                if self.x87.is_some() {
                    self.x87_wait();
                }
            }
            Op::Pushf => {
                self.timing.eu(bus, 4);
                let f = self.regs.flags;
                self.push(bus, f);
            }
            Op::Popf => {
                self.timing.eu(bus, 1);
                let v = self.pop(bus);
                self.timing.eu(bus, 1);
                self.load_flags(v);
            }
            Op::Sahf => {
                self.timing.eu(bus, 3);
                let ah = (self.regs.gpr[0] >> 8) & (SF | ZF | AF | PF | CF);
                self.regs.flags = (self.regs.flags & !(SF | ZF | AF | PF | CF)) | ah;
            }
            Op::Lahf => {
                self.timing.eu(bus, 1);
                let f = self.regs.flags as u8;
                self.regs.set_r8(4, f);
            }
            Op::Str(s) => self.string(bus, s, w),
            Op::Ret => {
                let n = if row.opd[0] == Opd::Iw {
                    self.imm16()
                } else {
                    0
                };
                if T::EXACT && row.opd[0] == Opd::Iw {
                    self.timing.eu(bus, 1);
                    self.take_rest(bus);
                    self.timing.eu(bus, 2);
                }
                if T::EXACT && n == 0 && row.opd[0] != Opd::Iw {
                    self.timing.suspend(bus);
                }
                let ip = self.pop(bus);
                if T::EXACT && row.opd[0] == Opd::Iw {
                    self.timing.suspend(bus);
                    self.timing.eu(bus, 2);
                } else if T::EXACT {
                    self.timing.eu(bus, 2);
                }
                self.regs.gpr[4] = self.regs.gpr[4].wrapping_add(n);
                self.jump(ip);
            }
            Op::Retf => {
                let n = if row.opd[0] == Opd::Iw {
                    self.imm16()
                } else {
                    0
                };
                if T::EXACT {
                    if row.opd[0] == Opd::Iw {
                        self.timing.eu(bus, 1);
                        self.take_rest(bus);
                        self.timing.eu(bus, 2);
                    } else {
                        self.timing.eu(bus, 3);
                    }
                }
                let ip = self.pop(bus);
                self.timing.suspend(bus);
                self.timing.eu(bus, 3);
                let cs = self.pop(bus);
                self.timing.eu(bus, 1);
                self.regs.gpr[4] = self.regs.gpr[4].wrapping_add(n);
                self.far_jump(cs, ip);
            }
            Op::Lptr(seg) => {
                if self.memory_form_missing() {
                    return;
                }
                let d = self.loc(row.opd[0]);
                let (s, off) = self.mem_operand();
                let off_v = self.rd(bus, s, off, true);
                self.timing.eu(bus, 5);
                let seg_v = self.rd(bus, s, off.wrapping_add(2), true);
                self.timing.eu(bus, 1);
                self.write(bus, d, true, off_v);
                self.regs.seg[seg as usize] = seg_v;
            }
            Op::Int => {
                let v = match row.opd[0] {
                    Opd::Three => 3,
                    _ => self.imm8(),
                };
                if T::EXACT && row.opd[0] != Opd::Three {
                    self.timing.eu(bus, 1);
                    self.take_rest(bus);
                    self.timing.eu(bus, 2);
                    self.timing.suspend(bus);
                    self.timing.eu(bus, 3);
                } else {
                    self.timing.eu(bus, 8);
                }
                self.enter_interrupt(bus, v);
            }
            Op::Into => {
                if self.regs.flag(OF) {
                    self.timing.eu(bus, 9);
                    self.enter_interrupt(bus, 4);
                } else {
                    self.timing.eu(bus, 3);
                }
            }
            Op::Iret if T::EXACT_286 => {
                // The 286 reads FLAGS first.
                let sp = self.regs.gpr[4];
                let f = self.rd(bus, Seg::SS, sp.wrapping_add(4), true);
                let ip = self.pop(bus);
                let cs = self.pop(bus);
                if self.abort.is_none() {
                    self.regs.gpr[4] = sp.wrapping_add(6);
                }
                self.far_jump(cs, ip);
                self.load_flags(f);
            }
            Op::Iret => {
                self.timing.eu(bus, 3);
                let ip = self.pop(bus);
                self.timing.eu(bus, 4);
                let cs = self.pop(bus);
                if T::EXACT {
                    self.timing.suspend(bus);
                    self.far_jump(cs, ip);
                    self.timing.eu(bus, 1);
                }
                let f = self.pop(bus);
                if !T::EXACT {
                    self.far_jump(cs, ip);
                }
                self.load_flags(f);
            }
            Op::Shift(op) => self.shift(bus, row, op),
            Op::Aam => self.aam(bus),
            Op::Aad => self.aad(bus),
            Op::Daa | Op::Das => {
                self.timing.eu(bus, 3);
                self.daa(matches!(row.op, Op::Das));
            }
            Op::Aaa | Op::Aas => {
                if T::EXACT {
                    // One clock less when AL is adjusted.
                    let al = self.regs.gpr[0] & 0x0F;
                    let adjust = al > 9 || self.regs.flag(AF);
                    self.timing.eu(bus, 8 - adjust as u32);
                }
                self.aaa(matches!(row.op, Op::Aas));
            }
            Op::Salc => {
                self.timing.eu(bus, 2 + self.regs.flag(CF) as u32);
                // (The 286's SALC is a clock longer with CF clear.)
                self.cur.count = self.regs.flag(CF) as u32;
                let v = if self.regs.flag(CF) { 0xFF } else { 0 };
                self.regs.set_r8(0, v);
            }
            Op::Xlat => {
                let s = self.data_seg(Seg::DS);
                let off = self.regs.gpr[3].wrapping_add(self.regs.gpr[0] & 0xFF);
                self.timing.eu(bus, 4);
                let v = self.rd(bus, s, off, false);
                self.timing.eu(bus, 1);
                self.regs.set_r8(0, v as u8);
            }
            Op::Esc if self.x87.is_some() => {
                let modrm = self.cur.modrm.map_or(0, |m| m.md << 6 | m.reg << 3 | m.rm);
                let operand = self.cur.ea_seg.is_some().then(|| self.mem_operand());
                self.x87_esc(bus, self.cur.opcode, modrm, operand);
            }
            Op::Esc if T::EXACT_286 => {
                // The 286 hands the instruction to the coprocessor's ports:
                // the opcode and ModR/M byte, the instruction's address and
                // the memory operand's.
                let mem = self.cur.ea_seg.is_some();
                let (s, off) = self.mem_operand();
                if mem && self.overruns(off, true) {
                    self.raise(13);
                    return;
                }
                let m = self.cur.modrm.map_or(0, |m| m.md << 6 | m.reg << 3 | m.rm);
                let op = self.cur.opcode as u16 | (m as u16) << 8;
                self.timing.io_write(bus, 0xF8, true, op);
                let (ip, cs) = (self.cur.start_ip, self.regs.seg[Seg::CS as usize]);
                self.timing.io_write(bus, 0xFC, true, ip);
                self.timing.io_write(bus, 0xFC, true, cs);
                if mem {
                    self.timing.io_write(bus, 0xFC, true, off);
                    let seg = self.regs.seg[s as usize];
                    self.timing.io_write(bus, 0xFC, true, seg);
                }
            }
            Op::Esc => {
                // No coprocessor: the 8086 still reads a memory operand.
                if self.cur.ea_seg.is_some() {
                    let (s, off) = self.mem_operand();
                    self.rd(bus, s, off, true);
                    self.timing.eu(bus, 3);
                }
            }
            Op::Loop | Op::Loopz | Op::Loopnz => {
                let d = self.imm8() as i8 as i16 as u16;
                self.timing.eu(bus, 3);
                self.take_rest(bus);
                let cx = self.regs.gpr[1].wrapping_sub(1);
                self.regs.gpr[1] = cx;
                let z = self.regs.flag(ZF);
                let take = cx != 0
                    && match row.op {
                        Op::Loopz => z,
                        Op::Loopnz => !z,
                        _ => true,
                    };
                if take {
                    // LOOP suspends prefetching right after taking its
                    // displacement, LOOPE/LOOPNE a clock later.
                    let k = if matches!(row.op, Op::Loop) { 0 } else { 1 };
                    let tot = if matches!(row.op, Op::Loop) { 4 } else { 5 };
                    self.eu_maybe(bus, k);
                    self.timing.suspend_free(bus);
                    self.timing.eu(bus, tot - k);
                    let ip = self.regs.ip.wrapping_add(d);
                    self.jump(ip);
                } else {
                    self.timing.eu(bus, 1);
                }
            }
            Op::Jcxz => {
                let d = self.imm8() as i8 as i16 as u16;
                self.timing.eu(bus, 3);
                self.take_rest(bus);
                if self.regs.gpr[1] != 0 {
                    self.timing.eu(bus, 1);
                } else {
                    // As LOOPE/LOOPNE: a clock, SUSP, four clocks.
                    self.timing.eu(bus, 1);
                    self.timing.suspend_free(bus);
                    self.timing.eu(bus, 4);
                    let ip = self.regs.ip.wrapping_add(d);
                    self.jump(ip);
                }
            }
            Op::In => {
                let d = self.loc(row.opd[0]);
                let p = self.loc(row.opd[1]);
                if T::EXACT {
                    self.timing.eu(bus, 1);
                    if matches!(p, Loc::Imm(_)) {
                        self.take_rest(bus);
                        self.timing.eu(bus, 1);
                    }
                }
                let port = self.read(bus, p, true);
                let v = self.timing.io_read(bus, port, w);
                self.timing.eu(bus, 1);
                self.write(bus, d, w, v);
            }
            Op::Out => {
                let p = self.loc(row.opd[0]);
                let s = self.loc(row.opd[1]);
                if T::EXACT {
                    if matches!(p, Loc::Imm(_)) {
                        self.timing.eu(bus, 1);
                        self.take_rest(bus);
                        self.timing.eu(bus, 3);
                    } else {
                        self.timing.eu(bus, 2);
                    }
                }
                let port = self.read(bus, p, true);
                let v = self.read(bus, s, w);
                self.timing.io_write(bus, port, w, v);
            }
            Op::Call => {
                let d = self.imm16();
                let ret = self.regs.ip;
                if T::EXACT || T::EXACT_286 {
                    // The microcode restarts the fetch before pushing.
                    self.timing.eu(bus, 1);
                    self.take_rest(bus);
                    self.timing.suspend(bus);
                    self.timing.eu(bus, 3);
                    self.jump(ret.wrapping_add(d));
                    self.timing.eu(bus, 2);
                    self.push(bus, ret);
                } else {
                    self.push(bus, ret);
                    self.jump(ret.wrapping_add(d));
                }
            }
            Op::Jmp => {
                let d = if row.opd[0] == Opd::Jb {
                    self.imm8() as i8 as i16 as u16
                } else {
                    self.imm16()
                };
                if T::EXACT {
                    self.timing.eu(bus, 1);
                    self.take_rest(bus);
                    self.timing.suspend(bus);
                    let n = if row.opd[0] == Opd::Jb { 4 } else { 3 };
                    self.timing.eu(bus, n);
                }
                let ip = self.regs.ip.wrapping_add(d);
                self.jump(ip);
            }
            Op::JmpFar => {
                let ip = self.imm16();
                let cs = self.imm16();
                if T::EXACT {
                    self.timing.eu(bus, 1);
                    self.take_rest(bus);
                    self.timing.suspend(bus);
                    self.timing.eu(bus, 1);
                }
                self.far_jump(cs, ip);
            }
            Op::CallInd => {
                let s = self.loc(row.opd[0]);
                let target = self.read(bus, s, true);
                let ret = self.regs.ip;
                if T::EXACT {
                    self.exact_indirect_suspend(bus, s);
                    self.timing.eu(bus, 4);
                    self.jump(target);
                    self.timing.eu(bus, 2);
                    self.push(bus, ret);
                } else if T::EXACT_286 && !matches!(s, Loc::Mem(..)) {
                    // Through a register the 286 fetches the target first.
                    self.jump(target);
                    self.push(bus, ret);
                } else {
                    self.push(bus, ret);
                    self.jump(target);
                }
            }
            Op::JmpInd => {
                let s = self.loc(row.opd[0]);
                let target = self.read(bus, s, true);
                if T::EXACT {
                    self.exact_indirect_suspend(bus, s);
                    self.timing.eu(bus, 1);
                }
                self.jump(target);
            }
            Op::CallFarInd | Op::JmpFarInd => {
                if self.memory_form_missing() {
                    return;
                }
                let (s, off) = self.mem_operand();
                let ip = self.rd(bus, s, off, true);
                if matches!(row.op, Op::CallFarInd) {
                    self.timing.eu(bus, 4);
                } else {
                    // JMP FAR suspends prefetching between its two reads.
                    self.timing.eu(bus, 3);
                    self.timing.suspend_free(bus);
                    self.timing.eu(bus, 1);
                }
                let cs = self.rd(bus, s, off.wrapping_add(2), true);
                if T::EXACT {
                    if matches!(row.op, Op::CallFarInd) {
                        self.timing.eu(bus, 5);
                    } else {
                        self.timing.eu(bus, 1);
                    }
                }
                if matches!(row.op, Op::CallFarInd) {
                    self.call_far(bus, cs, ip);
                } else {
                    self.far_jump(cs, ip);
                }
            }
            Op::Hlt => self.halted = true,
            Op::Cmc => {
                self.timing.eu(bus, 1);
                self.regs.flags ^= CF;
            }
            Op::SetFlag(m, on) => {
                self.timing.eu(bus, 1);
                self.regs.set_flag(m, on);
                if m == IF && on {
                    self.irq_shadow = true;
                }
            }
            Op::Not => {
                let d = self.loc(row.opd[0]);
                let v = self.read(bus, d, w);
                if T::EXACT {
                    self.timing
                        .eu(bus, if matches!(d, Loc::Mem(..)) { 5 } else { 1 });
                }
                self.write(bus, d, w, !v);
            }
            Op::Neg => {
                let d = self.loc(row.opd[0]);
                let v = self.read(bus, d, w) as u32;
                if T::EXACT {
                    self.timing
                        .eu(bus, if matches!(d, Loc::Mem(..)) { 5 } else { 1 });
                }
                let (r, f) = alu::sub(w, 0, v, 0);
                self.set_arith(f, RESULT);
                self.write(bus, d, w, r as u16);
            }
            Op::Mul | Op::Imul => self.mul(bus, row),
            Op::Div | Op::Idiv => self.div(bus, row),
            Op::Imul3 => {
                let d = self.loc(row.opd[0]);
                let s = self.loc(row.opd[1]);
                let a = self.read(bus, s, true) as i16 as i32;
                let i = self.loc(row.opd[2]);
                let b = self.read(bus, i, true) as i16 as i32;
                let p = a * b;
                let over = p != p as i16 as i32;
                self.regs.set_flag(CF | OF, over);
                if self.model == CpuModel::I80286 {
                    // As for one-operand IMUL: SF, ZF, PF of the high half, AF set.
                    let f = szp(true, (p as u32) >> 16) | AF;
                    self.set_arith(f, SF | ZF | PF | AF);
                }
                self.write(bus, d, true, p as u16);
            }
            Op::Pusha if T::EXACT_286 => {
                // The 286 stores upwards from the final SP: DI first, AX last.
                let sp = self.regs.gpr[4];
                for r in (0..8).rev() {
                    let v = if r == 4 { sp } else { self.regs.gpr[r] };
                    let at = sp.wrapping_sub(2 * (r as u16 + 1));
                    self.regs.gpr[4] = at;
                    self.wr(bus, Seg::SS, at, true, v);
                }
                if self.abort.is_none() {
                    self.regs.gpr[4] = sp.wrapping_sub(16);
                }
            }
            Op::Popa if T::EXACT_286 => {
                // The 286 reads AX (the top word) first, then DI upwards.
                let sp = self.regs.gpr[4];
                let ax = self.rd(bus, Seg::SS, sp.wrapping_add(14), true);
                let mut v = [0u16; 8];
                for (i, r) in (1..8).rev().enumerate() {
                    v[r] = self.rd(bus, Seg::SS, sp.wrapping_add(2 * i as u16), true);
                }
                if self.abort.is_none() {
                    let sp_now = self.regs.gpr[4];
                    self.regs.gpr[1..].copy_from_slice(&v[1..]);
                    self.regs.gpr[4] = sp_now;
                    self.regs.gpr[0] = ax;
                    self.regs.gpr[4] = sp.wrapping_add(16);
                }
            }
            Op::Pusha => {
                let sp = self.regs.gpr[4];
                for r in 0..8 {
                    let v = if r == 4 { sp } else { self.regs.gpr[r] };
                    self.push(bus, v);
                }
            }
            Op::Popa => {
                for r in (0..8).rev() {
                    let v = self.pop(bus);
                    if r != 4 {
                        self.regs.gpr[r] = v;
                    }
                }
            }
            Op::Bound => {
                if self.memory_form_missing() {
                    return;
                }
                let d = self.loc(row.opd[0]);
                let idx = self.read(bus, d, true) as i16;
                let (s, off) = self.mem_operand();
                let lo = self.rd(bus, s, off, true) as i16;
                let hi = self.rd(bus, s, off.wrapping_add(2), true) as i16;
                if idx < lo || idx > hi {
                    // (The 286 takes longer to fail on the upper bound.)
                    self.cur.count = (idx >= lo) as u32;
                    self.fault(bus, 5);
                }
            }
            Op::Enter => {
                let size = self.imm16();
                let level = self.imm8() & 0x1F;
                let bp = self.regs.gpr[5];
                self.push(bus, bp);
                let frame = self.regs.gpr[4];
                if level > 0 {
                    let mut p = bp;
                    for _ in 1..level {
                        p = p.wrapping_sub(2);
                        let v = self.rd(bus, Seg::SS, p, true);
                        self.push(bus, v);
                    }
                    self.push(bus, frame);
                }
                self.regs.gpr[5] = frame;
                self.regs.gpr[4] = self.regs.gpr[4].wrapping_sub(size);
            }
            Op::Leave => {
                self.regs.gpr[4] = self.regs.gpr[5];
                let bp = self.pop(bus);
                self.regs.gpr[5] = bp;
            }
            Op::Escape0F | Op::Invalid => {
                if self.model.is_186_plus() {
                    self.fault(bus, 6);
                }
            }
            Op::Prefix(_) | Op::Group(_) => {}
        }
    }

    /// True (and #UD raised) when a memory-only operand is encoded as a
    /// register on a CPU that checks it (the 286).
    fn memory_form_missing(&mut self) -> bool {
        let is_reg = self.cur.modrm.is_some_and(|m| m.is_reg());
        if is_reg && self.model == CpuModel::I80286 {
            self.raise(6);
            return true;
        }
        false
    }

    /// Segment and offset of the ModR/M memory operand. For a register form
    /// (undefined for pointer loads) the 8086 uses whatever address was last
    /// computed; we model that as offset 0 of the default segment.
    fn mem_operand(&self) -> (Seg, u16) {
        (
            self.cur.ea_seg.unwrap_or_else(|| self.data_seg(Seg::DS)),
            self.cur.ea,
        )
    }

    fn call_far<B: Bus>(&mut self, bus: &mut B, cs: u16, ip: u16) {
        let old_cs = self.regs.seg[Seg::CS as usize];
        if T::EXACT || T::EXACT_286 {
            // The 8086 pushes CS, restarts the fetch, then pushes IP.
            let ret = self.regs.ip;
            self.push(bus, old_cs);
            self.timing.eu(bus, 1);
            self.timing.suspend(bus);
            self.timing.eu(bus, 2);
            self.far_jump(cs, ip);
            self.timing.eu(bus, 2);
            self.push(bus, ret);
            return;
        }
        self.push(bus, old_cs);
        let ret = self.regs.ip;
        self.push(bus, ret);
        self.far_jump(cs, ip);
    }

    #[inline(always)]
    pub(crate) fn cond(&self, cc: u8) -> bool {
        let f = |m| self.regs.flag(m);
        let r = match cc >> 1 {
            0 => f(OF),
            1 => f(CF),
            2 => f(ZF),
            3 => f(CF) || f(ZF),
            4 => f(SF),
            5 => f(PF),
            6 => f(SF) != f(OF),
            _ => f(ZF) || (f(SF) != f(OF)),
        };
        r != (cc & 1 != 0)
    }

    // ----- string instructions ---------------------------------------------

    /// What a string instruction marks in its decode state as it starts.
    pub(crate) fn string_entry(&mut self) {
        // LODS has loaded AX, and CMPS/SCAS set FLAGS, in the iterations before an overrun.
        self.cur.keep_on_fault |= 1 << 0 | 1 << 1 | 1 << 6 | 1 << 7;
        self.cur.keep_flags = true;
    }

    fn string<B: Bus>(&mut self, bus: &mut B, op: StrOp, w: bool) {
        self.string_entry();
        let (pre, post, _) = string_clocks(op);
        let Some(rep) = self.cur.rep else {
            self.timing.eu(bus, pre);
            self.string_once(bus, op, w);
            self.timing.eu(bus, post);
            return;
        };
        if T::EXACT {
            // The REP microcode tests CX before the first iteration.
            self.timing
                .eu(bus, if self.regs.gpr[1] == 0 { 6 } else { 7 });
        }
        self.rep_loop(bus, op, w, rep);
    }

    /// The iterations of a REP string instruction, from the CX test that
    /// starts one; returns early, with `rep.yielded` set, at an iteration
    /// boundary past the REP deadline (see [`super::rep`]).
    pub(crate) fn rep_loop<B: Bus>(&mut self, bus: &mut B, op: StrOp, w: bool, rep: Prefix) {
        let (pre, _, tail) = string_clocks(op);
        loop {
            if self.regs.gpr[1] == 0 {
                break;
            }
            let began = self.timing.cycles();
            if T::EXACT_286 {
                self.timing.iteration(bus, op);
            }
            self.timing.eu(bus, pre);
            self.string_once(bus, op, w);
            self.timing.eu(bus, tail);
            self.cur.count += 1;
            if let Some(per) = self.rep.paying {
                self.timing.charge(per as u64);
            }
            if self.abort.is_some() {
                // Where the 286 stands in its count when a transfer overruns
                // depends on how far the iteration had gone: a compare has not
                // counted it, a read has, and a write is found out only after
                // the next iteration has been counted too.
                let counted = match op {
                    StrOp::Cmps => self.cur.second_read as u16,
                    StrOp::Movs | StrOp::Stos | StrOp::Ins if self.cur.write_faulted => 2,
                    _ => 1,
                };
                self.regs.gpr[1] = self.regs.gpr[1].wrapping_sub(counted);
                return;
            }
            self.regs.gpr[1] = self.regs.gpr[1].wrapping_sub(1);
            if matches!(op, StrOp::Cmps | StrOp::Scas) {
                let z = self.regs.flag(ZF);
                if (rep == Prefix::Rep && !z) || (rep == Prefix::Repne && z) {
                    break;
                }
            }
            if self.regs.gpr[1] == 0 {
                // Ending on the count costs a clock more than on the flag.
                self.timing.eu(bus, 1);
            } else if self.timing.cycles() >= self.rep.deadline {
                self.rep.yielded = true;
                return;
            } else if T::BULK && matches!(op, StrOp::Movs | StrOp::Stos) {
                let per = self.timing.cycles() - began;
                self.rep_skip(bus, op, w, per);
            }
        }
    }

    /// Within [`Cpu::rep_loop`], on a timing model that moves memory in
    /// bulk ([`Timing::BULK`]: no microcode points, so an iteration costs
    /// the same `per` clocks as the one just done): the iterations that
    /// neither empty CX nor reach the REP deadline, moved at once where
    /// `rep_bulk` can (plain RAM, upwards, no wrap, no cached code). The
    /// iteration that ends the run is left to the loop, which stops there
    /// as it would have one iteration at a time.
    #[inline(never)]
    fn rep_skip<B: Bus>(&mut self, bus: &mut B, op: StrOp, w: bool, per: u64) {
        let now = self.timing.cycles();
        // Iterations after which the clock is still short of the deadline.
        let room = match (self.rep.deadline, per) {
            (super::rep::NEVER, _) | (_, 0) => u64::MAX,
            (d, p) => d.saturating_sub(now + 1) / p,
        };
        let k = room.min(self.regs.gpr[1] as u64 - 1) as u32;
        if k == 0 {
            return;
        }
        let src = self.data_seg(Seg::DS);
        let moved = if w {
            self.rep_bulk::<B, true>(bus, op, src, k)
        } else {
            self.rep_bulk::<B, false>(bus, op, src, k)
        };
        if moved {
            self.regs.gpr[1] -= k as u16;
            self.cur.count += k;
            if let Some(p) = self.rep.paying {
                self.timing.charge(p as u64 * k as u64);
            }
        }
    }

    #[inline(always)]
    fn string_once<B: Bus>(&mut self, bus: &mut B, op: StrOp, w: bool) {
        let step: u16 = if w { 2 } else { 1 };
        let delta = if self.regs.flag(DF) {
            step.wrapping_neg()
        } else {
            step
        };
        let src = self.data_seg(Seg::DS);
        // Each index register steps right after its own transfer; when a 286
        // transfer overruns, that step has happened and the rest of the
        // iteration has not.
        match op {
            StrOp::Movs => {
                let v = self.string_read(bus, src, 6, w, delta);
                if self.abort.is_none() {
                    self.timing.eu(bus, 2);
                    self.string_write(bus, w, delta, v);
                }
            }
            StrOp::Cmps => {
                let (a, b) = if self.model == CpuModel::I80286 {
                    let b = self.string_read(bus, Seg::ES, 7, w, delta);
                    if self.abort.is_some() {
                        return;
                    }
                    self.cur.second_read = true;
                    (self.string_read(bus, src, 6, w, delta), b)
                } else {
                    let a = self.string_read(bus, src, 6, w, delta);
                    self.timing.eu(bus, 3);
                    (a, self.string_read(bus, Seg::ES, 7, w, delta))
                };
                if self.abort.is_none() {
                    let (_, f) = alu::sub(w, a as u32, b as u32, 0);
                    self.set_arith(f, RESULT);
                }
            }
            StrOp::Stos => {
                let v = self.regs.gpr[0];
                self.string_write(bus, w, delta, v);
            }
            StrOp::Lods => {
                let v = self.string_read(bus, src, 6, w, delta);
                if self.abort.is_some() {
                    return;
                }
                if w {
                    self.regs.gpr[0] = v;
                } else {
                    self.regs.set_r8(0, v as u8);
                }
            }
            StrOp::Scas => {
                let a = self.regs.gpr[0] as u32 & mask(w);
                let b = self.string_read(bus, Seg::ES, 7, w, delta) as u32;
                if self.abort.is_none() {
                    let (_, f) = alu::sub(w, a, b, 0);
                    self.set_arith(f, RESULT);
                }
            }
            StrOp::Ins => {
                let port = self.regs.gpr[2];
                let v = self.timing.io_read(bus, port, w);
                self.string_write(bus, w, delta, v);
            }
            StrOp::Outs => {
                let v = self.string_read(bus, src, 6, w, delta);
                if self.abort.is_none() {
                    let port = self.regs.gpr[2];
                    self.timing.io_write(bus, port, w, v);
                }
            }
        }
    }

    /// Read through index register `idx` (SI or DI) and step it.
    #[inline(always)]
    fn string_read<B: Bus>(&mut self, bus: &mut B, s: Seg, idx: usize, w: bool, delta: u16) -> u16 {
        let off = self.regs.gpr[idx];
        let v = self.rd(bus, s, off, w);
        self.regs.gpr[idx] = off.wrapping_add(delta);
        v
    }

    /// Write to ES:DI and step DI.
    #[inline(always)]
    fn string_write<B: Bus>(&mut self, bus: &mut B, w: bool, delta: u16, v: u16) {
        let di = self.regs.gpr[7];
        self.wr(bus, Seg::ES, di, w, v);
        self.regs.gpr[7] = di.wrapping_add(delta);
    }

    // ----- shifts and rotates ---------------------------------------------------

    #[inline(always)]
    fn shift<B: Bus>(&mut self, bus: &mut B, row: &Sem, op: ShiftOp) {
        let w = row.word;
        // From the 80186 on, /6 of the shift group is another SHL.
        let op = if op == ShiftOp::Setmo && self.model.is_186_plus() {
            ShiftOp::Shl
        } else {
            op
        };
        let d = self.loc(row.opd[0]);
        let mut count = match row.opd[1] {
            Opd::One => 1,
            Opd::CL => self.regs.r8(1) as u32,
            _ => self.imm8() as u32,
        };
        let v = self.read(bus, d, w) as u32;
        if self.model.is_186_plus() {
            count &= 0x1F;
        }
        self.cur.count = count;
        if T::EXACT {
            self.exact_shift(bus, d, row.opd[1] == Opd::CL, count);
        }
        if count == 0 {
            if !self.model.is_186_plus() {
                // The 8086 writes the operand back unchanged (a bus write on
                // every timing model; the vectors show it).
                self.write(bus, d, w, v as u16);
            }
            return;
        }
        let m = mask(w);
        let sb = sign(w);
        let mut r = v;
        let mut cf = self.regs.flag(CF);
        let mut af = false;
        let mut f = self.regs.flags;
        for _ in 0..count {
            match op {
                ShiftOp::Rol => {
                    cf = r & sb != 0;
                    r = ((r << 1) | cf as u32) & m;
                }
                ShiftOp::Ror => {
                    cf = r & 1 != 0;
                    r = (r >> 1) | if cf { sb } else { 0 };
                }
                ShiftOp::Rcl => {
                    let out = r & sb != 0;
                    r = ((r << 1) | cf as u32) & m;
                    cf = out;
                }
                ShiftOp::Rcr => {
                    let out = r & 1 != 0;
                    r = (r >> 1) | if cf { sb } else { 0 };
                    cf = out;
                }
                ShiftOp::Shl => {
                    cf = r & sb != 0;
                    r = (r << 1) & m;
                    // The ALU shifts by adding the operand to itself: AF is the carry out of bit 3.
                    af = r & 0x10 != 0 && self.model != CpuModel::I80186;
                }
                ShiftOp::Shr => {
                    cf = r & 1 != 0;
                    r >>= 1;
                    // The 286 sets AF on right shifts.
                    af = self.model == CpuModel::I80286;
                }
                ShiftOp::Sar => {
                    cf = r & 1 != 0;
                    r = (r >> 1) | (r & sb);
                    af = self.model == CpuModel::I80286;
                }
                ShiftOp::Setmo => {
                    cf = false;
                    r = m;
                }
            }
        }
        let msb = r & sb != 0;
        let of = match op {
            ShiftOp::Rol | ShiftOp::Rcl | ShiftOp::Shl => msb != cf,
            ShiftOp::Ror | ShiftOp::Rcr => msb != (r & (sb >> 1) != 0),
            ShiftOp::Shr => {
                // OF is the sign bit before the last one-bit shift.
                let before = if count == 1 { v } else { r << 1 };
                before & sb != 0
            }
            ShiftOp::Sar | ShiftOp::Setmo => false,
        };
        f = (f & !(CF | OF)) | if cf { CF } else { 0 } | if of { OF } else { 0 };
        if !matches!(
            op,
            ShiftOp::Rol | ShiftOp::Ror | ShiftOp::Rcl | ShiftOp::Rcr
        ) {
            f = (f & !(SF | ZF | PF | AF)) | szp(w, r) | if af { AF } else { 0 };
        }
        self.regs.flags = f;
        self.write(bus, d, w, r as u16);
    }

    /// Exact model: the shift microcode between the operand's read and the write.
    #[inline(always)]
    fn exact_shift<B: Bus>(&mut self, bus: &mut B, d: Loc, by_cl: bool, count: u32) {
        let mem = matches!(d, Loc::Mem(..));
        if by_cl {
            self.timing.eu(bus, if mem { 10 } else { 6 } + 4 * count);
        } else {
            self.eu_maybe(bus, if mem { 5 } else { 0 });
        }
    }

    // ----- multiply and divide ------------------------------------------------

    fn mul<B: Bus>(&mut self, bus: &mut B, row: &Sem) {
        let w = row.word;
        let d = self.loc(row.opd[0]);
        let src = self.read(bus, d, w) as u32;
        self.cur.count = src.count_ones();
        let signed = matches!(row.op, Op::Imul);
        // On the 8086 a REP prefix inverts the sign of IMUL's result.
        let negate = signed && self.cur.rep.is_some() && !self.model.is_186_plus();
        let (lo, hi, over) = product(w, signed, negate, self.regs.gpr[0], src);
        if T::EXACT {
            self.exact_mul(bus, d, w, signed, src as u16, over);
        }
        self.finish_mul(w, signed, lo, hi, over);
    }

    /// Write a MUL/IMUL product ([`product`]) to AX (and DX for a word)
    /// and set the flags as the model leaves them.
    pub(super) fn finish_mul(&mut self, w: bool, signed: bool, lo: u16, hi: u16, over: bool) {
        if w {
            self.regs.gpr[0] = lo;
            self.regs.gpr[2] = hi;
        } else {
            self.regs.gpr[0] = lo;
        }
        let mut f = self.regs.flags & !(CF | OF | SF | ZF | PF | AF);
        if over {
            f |= CF | OF;
        }
        // The undefined SF/ZF/PF come from the microcode's final check of the
        // high half against the sign of the low half (IMUL) or the high half alone (MUL).
        let (high, low_sign) = if w {
            (hi as u32, (lo >> 15) as u32)
        } else {
            ((lo >> 8) as u32, ((lo >> 7) & 1) as u32)
        };
        let (_, check) = match self.model {
            // The 80186 reports SF, ZF and PF of the low half of the product.
            CpuModel::I80186 => (0, szp(w, lo as u32)),
            // The 286: SF, ZF, PF of the high half, AF set.
            CpuModel::I80286 => (0, szp(w, high) | AF),
            _ => alu::add(w, high, if signed { low_sign } else { 0 }, 0),
        };
        f |= check & (SF | ZF | PF | AF);
        self.regs.flags = f;
    }

    /// Exact model: the multiply microcode after the operand's read. The
    /// loop runs once per bit of the accumulator (its magnitude for IMUL),
    /// a clock longer per one bit (the add); a product that fits the low
    /// half (CF clear) costs a clock more at the end. IMUL spends more
    /// clocks by the operands' signs.
    fn exact_mul<B: Bus>(
        &mut self,
        bus: &mut B,
        d: Loc,
        w: bool,
        signed: bool,
        src: u16,
        over: bool,
    ) {
        let mem = matches!(d, Loc::Mem(..));
        let sb = if w { 0x8000 } else { 0x80 };
        let acc = if w {
            self.regs.gpr[0]
        } else {
            self.regs.gpr[0] & 0xFF
        };
        let mut n = if w { 115 } else { 67 };
        let mut bits = acc;
        if signed {
            let src_neg = src & sb != 0;
            let acc_neg = acc & sb != 0;
            if acc_neg {
                bits = acc.wrapping_neg() & (sb | (sb - 1));
            }
            n += match (acc_neg, src_neg) {
                (false, false) => 10,
                // The most negative source (its own negation) saves a clock.
                (false, true) if src == sb => 20,
                (false, true) => 21,
                (true, false) => 24,
                (true, true) => 11,
            };
        }
        n += bits.count_ones() + (!over) as u32 + if mem { 2 } else { 0 };
        self.timing.eu(bus, n);
    }

    fn div<B: Bus>(&mut self, bus: &mut B, row: &Sem) {
        let w = row.word;
        let bits = if w { 16 } else { 8 };
        let d = self.loc(row.opd[0]);
        let src = self.read(bus, d, w) as u64;
        self.cur.count = src.count_ones();
        let n = if w {
            ((self.regs.gpr[2] as u64) << 16) | self.regs.gpr[0] as u64
        } else {
            self.regs.gpr[0] as u64
        };
        let signed = matches!(row.op, Op::Idiv);
        // On the 8086 a REP prefix inverts the sign of IDIV's quotient.
        let negate = signed && self.cur.rep.is_some() && !self.model.is_186_plus();
        let (abs_n, abs_d, result) = quotient(self.model, w, signed, negate, n, src);
        if T::EXACT {
            let sext = |v: u64, b: u32| ((v << (64 - b)) as i64) >> (64 - b);
            let signs = signed.then(|| (sext(n, 2 * bits) < 0, sext(src, bits) < 0));
            self.exact_div(bus, d, w, signs, abs_n, abs_d);
        }
        self.div_flags(w, signed, abs_n, abs_d, result);
        match result {
            Some((q, r)) => self.finish_div(w, q, r),
            None => self.fault(bus, 0),
        }
    }

    /// The flags a DIV/IDIV leaves (see [`quotient`] for the operands).
    pub(super) fn div_flags(
        &mut self,
        w: bool,
        signed: bool,
        abs_n: u64,
        abs_d: u64,
        result: Option<(u64, u64)>,
    ) {
        if !self.model.is_186_plus() {
            let f = div_flags_8086(abs_n, abs_d, w, signed, result.is_some());
            self.set_arith(f, RESULT);
        } else if let (CpuModel::I80286, Some((_, r))) = (self.model, result) {
            // The 286: SF, ZF, PF of the remainder, AF set, CF and OF the
            // borrow of the last trial subtraction.
            let last = trial_division(abs_n, abs_d, w).last;
            let borrow = if last & CF != 0 { CF | OF } else { 0 };
            self.set_arith(szp(w, r as u32) | AF | borrow, RESULT);
        }
    }

    /// Write a DIV/IDIV quotient and remainder (AX and DX, or AL and AH).
    #[inline]
    pub(super) fn finish_div(&mut self, w: bool, q: u64, r: u64) {
        if w {
            self.regs.gpr[0] = q as u16;
            self.regs.gpr[2] = r as u16;
        } else {
            self.regs.gpr[0] = (q | (r << 8)) as u16;
        }
    }

    /// Exact model: the divide microcode after the operand's read: a loop
    /// per quotient bit, a clock more for each bit set by a trial
    /// subtraction (not by a carry out of the shift), two more when the
    /// last bit is set. A high half not below the divisor ends it after the
    /// first check. IDIV (`signs`: dividend and divisor negative) spends
    /// more clocks by the operands' signs.
    fn exact_div<B: Bus>(
        &mut self,
        bus: &mut B,
        d: Loc,
        w: bool,
        signs: Option<(bool, bool)>,
        n: u64,
        dv: u64,
    ) {
        let mem = matches!(d, Loc::Mem(..));
        let bits = if w { 16 } else { 8 };
        let early = dv == 0 || (n >> bits) >= dv;
        let mut c = if mem { 2 } else { 0 };
        if let Some((n_neg, d_neg)) = signs {
            c += 10 + 4 * n_neg as u32;
            c -= d_neg as u32;
        }
        if early {
            c += 15;
        } else {
            let Division { subs, q, .. } = trial_division(n, dv, w);
            c += if w { 142 } else { 78 } + subs + 2 * (q & 1) as u32;
            if signs.is_some() {
                // A quotient out of range is found after the loop.
                let max = (1u64 << (bits - 1)) - 1;
                c += if q > max { 8 } else { 11 };
            }
        }
        self.timing.eu(bus, c);
    }

    // ----- BCD ----------------------------------------------------------------

    fn aam<B: Bus>(&mut self, bus: &mut B) {
        let base = self.imm8();
        if T::EXACT {
            // The division microcode on 0:AL, as DIV's.
            self.timing.eu(bus, 1);
            self.take_rest(bus);
            let n = if base == 0 {
                12
            } else {
                let Division { subs, q, .. } =
                    trial_division(self.regs.gpr[0] as u64 & 0xFF, base as u64, false);
                74 + subs + 2 * (q & 1) as u32
            };
            self.timing.eu(bus, n);
        }
        if base == 0 {
            // The 8086's microcode has set the flags as for a zero result by
            // now; the 286 vectors show PF alone set (two samples).
            let f = if self.model == CpuModel::I80286 {
                PF
            } else {
                szp(false, 0)
            };
            self.set_arith(f, RESULT);
            self.fault(bus, 0);
            return;
        }
        let al = self.regs.gpr[0] as u8;
        let q = al / base;
        let r = al % base;
        self.regs.gpr[0] = ((q as u16) << 8) | r as u16;
        let f = szp(false, r as u32);
        self.set_arith(f, RESULT);
    }

    fn aad<B: Bus>(&mut self, bus: &mut B) {
        let base = self.imm8() as u32;
        if T::EXACT {
            // The multiply microcode, a clock per one bit of the base.
            self.timing.eu(bus, 1);
            self.take_rest(bus);
            self.timing.eu(bus, 56 + base.count_ones());
        }
        let ax = self.regs.gpr[0];
        let al = (ax & 0xFF) as u32;
        let ah = (ax >> 8) as u32;
        let (r, mut f) = alu::add(false, al, (ah * base) & 0xFF, 0);
        if self.model == CpuModel::I80186 {
            // The 80186 leaves only SF, ZF and PF of the result.
            f = szp(false, r);
        }
        self.regs.gpr[0] = r as u16;
        self.set_arith(f, RESULT);
    }

    fn daa(&mut self, sub: bool) {
        let al = self.regs.gpr[0] as u8 as u32;
        let cf = self.regs.flag(CF);
        let af = self.regs.flag(AF);
        let mut corr = 0;
        let mut f = 0;
        if (al & 0x0F) > 9 || af {
            corr |= 6;
            f |= AF;
            // The 286 keeps the carry or borrow of the low correction.
            let out = if sub { al < 6 } else { al + 6 > 0xFF };
            if out && self.model == CpuModel::I80286 {
                f |= CF;
            }
        }
        // The 8086 compares against 9F rather than 99 when AF was already set.
        let limit = if af && !self.model.is_186_plus() {
            0x9F
        } else {
            0x99
        };
        if al > limit || cf {
            corr |= 0x60;
            f |= CF;
        }
        // The undefined OF is that of the whole correction as one add or subtract.
        let (r, of) = if sub {
            let (r, fl) = alu::sub(false, al, corr, 0);
            (r, fl & OF)
        } else {
            let (r, fl) = alu::add(false, al, corr, 0);
            (r, fl & OF)
        };
        f |= szp(false, r);
        if self.model != CpuModel::I80186 {
            f |= of;
        }
        self.regs.set_r8(0, r as u8);
        self.set_arith(f, RESULT);
    }

    fn aaa(&mut self, sub: bool) {
        let ax = self.regs.gpr[0];
        let al = (ax & 0xFF) as u32;
        let mut ah = (ax >> 8) as u8;
        let adjust = (al & 0x0F) > 9 || self.regs.flag(AF);
        let corr = if adjust { 6 } else { 0 };
        // The undefined flags are those of the ALU step AL +/- 6 (or 0).
        let (r, fl) = if sub {
            alu::sub(false, al, corr, 0)
        } else {
            alu::add(false, al, corr, 0)
        };
        let mut f = fl & (OF | SF | ZF | PF);
        if adjust && self.model.is_186_plus() {
            // Later CPUs adjust AX as a whole: the carry out of AL reaches AH.
            let ax = if sub {
                ax.wrapping_sub(6).wrapping_sub(0x100)
            } else {
                ax.wrapping_add(0x106)
            };
            ah = (ax >> 8) as u8;
            f |= AF | CF;
        } else if adjust {
            ah = if sub {
                ah.wrapping_sub(1)
            } else {
                ah.wrapping_add(1)
            };
            f |= AF | CF;
        }
        if self.model == CpuModel::I80186 {
            // The 80186 reports SF, ZF and PF of the masked AL, OF clear.
            f = (f & (AF | CF)) | szp(false, r & 0x0F);
        }
        self.regs.gpr[0] = ((ah as u16) << 8) | (r as u16 & 0x0F);
        self.set_arith(f, RESULT);
    }
}

/// The shift-and-subtract division the microcode performs on magnitudes:
/// one trial subtraction of the divisor from the partial remainder per
/// quotient bit, skipped when the shift carried out (the remainder is then
/// certainly larger). Only for `n` whose quotient fits (high half below `d`).
struct Division {
    /// Flags of the last trial subtraction.
    last: u16,
    /// The quotient.
    q: u64,
    /// Quotient bits set by a trial subtraction (not forced by a carry).
    subs: u32,
}

fn trial_division(n: u64, d: u64, w: bool) -> Division {
    let bits = if w { 16 } else { 8 };
    let m = mask(w) as u64;
    let top = bits - 1;
    let mut hi = (n >> bits) & m;
    let mut lo = n & m;
    // The partial remainder of the last trial subtraction: its flags are
    // worked out once, at the end.
    let mut last = None;
    let mut q = 0u64;
    let mut subs = 0;
    for _ in 0..bits {
        let carry = hi >> top;
        hi = ((hi << 1) | (lo >> top)) & m;
        lo = (lo << 1) & m;
        q <<= 1;
        if carry != 0 {
            hi = hi.wrapping_sub(d) & m;
            q |= 1;
        } else {
            last = Some(hi);
            if hi >= d {
                hi -= d;
                q |= 1;
                subs += 1;
            }
        }
    }
    Division {
        last: last.map_or(0, |h| alu::sub(w, h as u32, d as u32, 0).1),
        q,
        subs,
    }
}

/// MUL/IMUL of AL or AX (`ax`) by `src`: the low half, the high half (a
/// word multiply's DX) and whether the product overflows the low half.
/// `negate`: the 8086's IMUL with a REP prefix, which negates the product.
pub(super) fn product(w: bool, signed: bool, negate: bool, ax: u16, src: u32) -> (u16, u16, bool) {
    if w {
        let a = ax as u32;
        let p: u32 = if signed {
            let mut p = (a as i16 as i32).wrapping_mul(src as i16 as i32);
            if negate {
                p = p.wrapping_neg();
            }
            p as u32
        } else {
            a * src
        };
        let over = if signed {
            p as i32 != p as u16 as i16 as i32
        } else {
            p >> 16 != 0
        };
        (p as u16, (p >> 16) as u16, over)
    } else {
        let a = ax & 0xFF;
        let p: u16 = if signed {
            let mut p = (a as u8 as i8 as i16).wrapping_mul(src as u8 as i8 as i16);
            if negate {
                p = p.wrapping_neg();
            }
            p as u16
        } else {
            a * src as u16
        };
        let over = if signed {
            p as i16 != p as u8 as i8 as i16
        } else {
            p >> 8 != 0
        };
        (p, 0, over)
    }
}

/// DIV/IDIV of `n` (DX:AX, or AX for a byte divide) by `src` on `model`:
/// the magnitudes of dividend and divisor (the operands themselves for
/// DIV) and the quotient and remainder masked to the width, or None for a
/// divide error. `negate`: the 8086's IDIV with a REP prefix.
pub(super) fn quotient(
    model: CpuModel,
    w: bool,
    signed: bool,
    negate: bool,
    n: u64,
    src: u64,
) -> (u64, u64, Option<(u64, u64)>) {
    let bits = if w { 16 } else { 8 };
    let m = mask(w) as u64;
    let sext = |v: u64, b: u32| ((v << (64 - b)) as i64) >> (64 - b);
    let (abs_n, abs_d) = if signed {
        (
            sext(n, 2 * bits).unsigned_abs(),
            sext(src, bits).unsigned_abs(),
        )
    } else {
        (n, src)
    };
    let result = if src == 0 {
        None
    } else if signed {
        let (sn, sd) = (sext(n, 2 * bits), sext(src, bits));
        let q = if negate { -(sn / sd) } else { sn / sd };
        let max = (1i64 << (bits - 1)) - 1;
        // The 8086 rejects the most negative quotient; later CPUs accept it.
        let min = if model.is_186_plus() { -max - 1 } else { -max };
        (min..=max)
            .contains(&q)
            .then(|| (q as u64 & m, (sn % sd) as u64 & m))
    } else {
        let q = n / src;
        (q <= m).then(|| (q, n % src))
    };
    (abs_n, abs_d, result)
}

/// The undefined flags the 8086's division microcode leaves: SF, ZF, PF, AF
/// and OF of the last trial subtraction (see [`trial_division`]); CF the
/// complement of the quotient's top bit for DIV, clear for IDIV, whose OF is
/// also clear unless the quotient then fails the sign check. When the
/// magnitude division overflows, the flags are those of the first check,
/// high half minus divisor.
fn div_flags_8086(n: u64, d: u64, w: bool, signed: bool, ok: bool) -> u16 {
    let bits = if w { 16 } else { 8 };
    let hi = (n >> bits) & mask(w) as u64;
    if hi >= d || (!ok && !signed) {
        return alu::sub(w, hi as u32, d as u32, 0).1;
    }
    let Division { last, q, .. } = trial_division(n, d, w);
    let f = last & !(CF | OF);
    if signed {
        return if ok { f } else { f | (last & OF) };
    }
    let top_clear = q & (1 << (bits - 1)) == 0;
    f | (last & OF) | if top_clear { CF } else { 0 }
}

/// Exact model: EU clocks of a string instruction before the first
/// transfer, after the last one (single form) and between an iteration's
/// last transfer and the REP loop's decision.
fn string_clocks(op: StrOp) -> (u32, u32, u32) {
    match op {
        StrOp::Movs | StrOp::Stos => (2, 3, 3),
        StrOp::Lods => (2, 4, 6),
        StrOp::Cmps => (3, 5, 6),
        _ => (4, 5, 6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::FlatBus;

    /// Run one instruction `code` at 0100:0000 (stack 0200:0100) after
    /// `init` set the registers.
    fn run_with(model: CpuModel, code: &[u8], init: impl FnOnce(&mut Registers)) -> Registers {
        let mut bus = FlatBus::new(0x10_0000);
        bus.load(0x1000, code);
        let mut cpu: Cpu<crate::i86::timing::CountingTiming> = Cpu::new(model);
        cpu.regs.seg = [0, 0x100, 0x200, 0];
        cpu.regs.gpr[4] = 0x100;
        cpu.regs.ip = 0;
        init(&mut cpu.regs);
        cpu.step(&mut bus);
        cpu.regs
    }

    fn run(model: CpuModel, code: &[u8], ax: u16, dx: u16, flags: u16) -> Registers {
        run_with(model, code, |r| {
            r.gpr[0] = ax;
            r.gpr[2] = dx;
            r.flags = flags;
        })
    }

    use crate::regs::Registers;

    #[test]
    fn div_leaves_the_flags_of_its_last_trial_subtraction() {
        // Recorded on an 80C86 (SingleStepTests F6.6): DIV DL with AX=1ED2h,
        // DX=A4E9h gives AX=C921h and flags S, P, C (from ..ZAP. before).
        let r = run(CpuModel::I8086, &[0xF6, 0xF2], 0x1ED2, 0xA4E9, 0xF056);
        assert_eq!(r.gpr[0], 0xC921);
        assert_eq!(r.flags & RESULT, SF | PF | CF);
    }

    #[test]
    fn rep_inverts_the_sign_of_idiv_on_the_8086_only() {
        // REP IDIV BL: 100 / 7 = 14 r 2, the quotient negated by the prefix.
        let code = [0xF3, 0xF6, 0xFB];
        let init = |r: &mut Registers| {
            r.gpr[0] = 100;
            r.gpr[3] = 7;
        };
        assert_eq!(run_with(CpuModel::I8086, &code, init).gpr[0], 0x02F2); // AL = -14, AH = 2
        assert_eq!(run_with(CpuModel::I80286, &code, init).gpr[0], 0x020E);
    }

    #[test]
    fn divide_error_returns_after_the_instruction_on_the_8086_and_to_it_later() {
        // DIV BL with BL=0 at 0100:0000; the vector 0 handler at 0000:0400.
        let mut bus = FlatBus::new(0x10_0000);
        bus.load(0x1000, &[0x26, 0xF6, 0xF3]);
        bus.load(0, &[0x00, 0x04, 0x00, 0x00]);
        for (model, ret) in [(CpuModel::I8086, 3u16), (CpuModel::I80286, 0)] {
            let mut cpu: Cpu<crate::i86::timing::CountingTiming> = Cpu::new(model);
            cpu.regs.seg = [0, 0x100, 0x200, 0];
            cpu.regs.gpr[4] = 0x100;
            cpu.regs.ip = 0;
            cpu.step(&mut bus);
            assert_eq!((cpu.regs.seg[1], cpu.regs.ip), (0, 0x400));
            let pushed_ip = bus.mem[0x2000 + 0xFA] as u16 | (bus.mem[0x2000 + 0xFB] as u16) << 8;
            assert_eq!(pushed_ip, ret, "{model}");
        }
    }
}
