//! Specialised forms of common instructions, chosen once when an instruction
//! enters the decode cache and run straight from the cache entry.
//!
//! [`Cpu::execute`](super::Cpu) resolves every operand through the row's
//! operand shapes each time it runs an instruction. For the forms that loops
//! are made of (ALU and MOV on registers, immediates and one ModR/M memory
//! operand, INC/DEC, shifts by one (of a register or memory), conditional
//! and relative jumps, LOOP, CALL/RET, PUSH/POP, LODS/STOS/MOVS, REP
//! STOS/MOVS, MUL/IMUL, and DIV/IDIV of a register) the operands are
//! resolved instead, at decode time, into a [`Fast`] form with register
//! numbers, immediates and the segment of a memory operand filled in (the
//! choice is made in `forms.rs`, a layer below; this module runs them). The
//! semantics are those of `execute` (the same ALU and flag helpers, the same
//! order of memory accesses, the same bus and timing calls); anything this
//! module does not cover, or that could fault, is [`Fast::Slow`] and runs
//! through `execute`.
//!
//! Only timing models that allow it use these forms ([`Timing::FAST_FORMS`]):
//! the forms report every memory transfer and retire the instruction with the
//! same data as `execute`, but have no exact-model microcode points (`Timing::eu`).

use super::body::Op as BodyOp;
use super::forms::{
    quick, with_alu_forms, Fast, Mem, Operand, Quick, LAZY, LZ_ADD, LZ_DEC, LZ_INC, LZ_RAW, LZ_SUB,
    LZ_WORD,
};
use super::icache::{MAX_CACHED_LEN, SLOTS};
use super::instr::decode_instr;
use super::timing::Timing;
use super::Cpu;
use crate::alu::{self, mask, sign, szp};
use crate::bus::Bus;
use crate::decode::ByteSource;
use crate::model::CpuModel;
use crate::regs::{Seg, AF, CF, DF, OF, PF, SF, ZF};
use crate::table::{AluOp, Op, ShiftOp, StrOp};

/// Instruction bytes read straight from the bus (no timing, no 286 length check).
struct Peek<'a, B: Bus> {
    bus: &'a mut B,
    cs: u16,
    ip: u16,
    amask: u32,
}

impl<B: Bus> ByteSource for Peek<'_, B> {
    fn next_byte(&mut self) -> u8 {
        let a = (((self.cs as u32) << 4) + self.ip as u32) & self.amask;
        self.ip = self.ip.wrapping_add(1);
        self.bus.read(a)
    }
}

/// The width-specialised variant of a helper on `$cpu`: `wide_on!(cpu, w, f::<B>(args))`.
macro_rules! wide_on {
    ($cpu:ident, $w:expr, $f:ident($($a:expr),*)) => {
        if $w { $cpu.$f::<true>($($a),*) } else { $cpu.$f::<false>($($a),*) }
    };
    ($cpu:ident, $w:expr, $f:ident::<B>($($a:expr),*)) => {
        if $w { $cpu.$f::<B, true>($($a),*) } else { $cpu.$f::<B, false>($($a),*) }
    };
}

/// A `match` on the form `$f` whose arms for the straight-line forms (no
/// jump, no clocks of their own beyond the table's) run them on `$cpu`
/// and give `$done`, or `$wrote` for the forms that write memory; the
/// other arms are `$rest`. Written once for the single forms (`run_fast`)
/// and the bodies (`run_body`).
macro_rules! straight_forms {
    ($cpu:ident, $bus:ident, $f:expr, $done:expr, $wrote:expr, { $($rest:tt)* }) => {
        with_alu_forms!(straight_forms! { @ $cpu, $bus, $f, $done, $wrote, { $($rest)* } })
    };
    (
        [$(($op:ident, $rr:ident, $rrl:ident, $rrh:ident, $ri:ident, $ril:ident, $rih:ident)),* $(,)?]
        @ $cpu:ident, $bus:ident, $f:expr, $done:expr, $wrote:expr, { $($rest:tt)* }
    ) => {
        match $f {
            // The register ALU forms, a variant per operation and shape
            // (`with_alu_forms!`), so that the dispatch on the form picks the
            // operation too.
            $(
                Fast::$rr { d, s } => {
                    let b = $cpu.reg::<true>(s);
                    $cpu.alu_reg::<true>(AluOp::$op, d, b);
                    $done
                }
                Fast::$rrl { d, s } => {
                    let b = $cpu.reg::<false>(s);
                    $cpu.alu_half::<false>(AluOp::$op, d, b);
                    $done
                }
                Fast::$rrh { d, s } => {
                    let b = $cpu.reg::<false>(s);
                    $cpu.alu_half::<true>(AluOp::$op, d, b);
                    $done
                }
                Fast::$ri { d, imm } => {
                    $cpu.alu_reg::<true>(AluOp::$op, d, imm);
                    $done
                }
                Fast::$ril { d, imm } => {
                    $cpu.alu_half::<false>(AluOp::$op, d, imm);
                    $done
                }
                Fast::$rih { d, imm } => {
                    $cpu.alu_half::<true>(AluOp::$op, d, imm);
                    $done
                }
            )*
            Fast::AluRM { op, w, d, m } => {
                let b = wide_on!($cpu, w, load::<B>($bus, &m));
                wide_on!($cpu, w, alu_reg(op, d, b));
                $done
            }
            Fast::AluMR { op, w, m, s } => {
                wide_on!($cpu, w, alu_mem::<B>($bus, op, &m, Operand::Reg(s)));
                $wrote
            }
            Fast::AluMI { op, w, m, imm } => {
                wide_on!($cpu, w, alu_mem::<B>($bus, op, &m, Operand::Imm(imm)));
                $wrote
            }
            Fast::TestRR { w, d, s } => {
                let (a, b) = (wide_on!($cpu, w, reg(d)), wide_on!($cpu, w, reg(s)));
                wide_on!($cpu, w, test(a, b));
                $done
            }
            Fast::TestRI { w, d, imm } => {
                let a = wide_on!($cpu, w, reg(d));
                wide_on!($cpu, w, test(a, imm));
                $done
            }
            Fast::MovRR { d, s } => {
                let v = $cpu.reg::<true>(s);
                $cpu.set_reg::<true>(d, v);
                $done
            }
            Fast::MovRR8 { d, s } => {
                let v = $cpu.reg::<false>(s);
                $cpu.set_reg::<false>(d, v);
                $done
            }
            Fast::MovRI { d, imm } => {
                $cpu.set_reg::<true>(d, imm);
                $done
            }
            Fast::MovRIL { d, imm } => {
                $cpu.set_half::<false>(d, imm);
                $done
            }
            Fast::MovRIH { d, imm } => {
                $cpu.set_half::<true>(d, imm);
                $done
            }
            Fast::MovRM { w, d, m } => {
                let v = wide_on!($cpu, w, load::<B>($bus, &m));
                wide_on!($cpu, w, set_reg(d, v));
                $done
            }
            Fast::MovMR { w, m, s } => {
                let v = wide_on!($cpu, w, reg(s));
                wide_on!($cpu, w, store::<B>($bus, &m, v));
                $wrote
            }
            Fast::MovMI { w, m, imm } => {
                wide_on!($cpu, w, store::<B>($bus, &m, imm));
                $wrote
            }
            Fast::IncR { r } => {
                $cpu.inc_dec(r, false);
                $done
            }
            Fast::IncRL { r } => {
                $cpu.inc_dec_byte::<false>(r, false);
                $done
            }
            Fast::IncRH { r } => {
                $cpu.inc_dec_byte::<true>(r, false);
                $done
            }
            Fast::DecR { r } => {
                $cpu.inc_dec(r, true);
                $done
            }
            Fast::DecRL { r } => {
                $cpu.inc_dec_byte::<false>(r, true);
                $done
            }
            Fast::DecRH { r } => {
                $cpu.inc_dec_byte::<true>(r, true);
                $done
            }
            Fast::ShlR { r } => {
                $cpu.shl_reg::<true>(r);
                $done
            }
            Fast::ShlR8 { r } => {
                $cpu.shl_reg::<false>(r);
                $done
            }
            Fast::ShrR { r, af } => {
                $cpu.shr_reg::<true>(r, af, false);
                $done
            }
            Fast::ShrR8 { r, af } => {
                $cpu.shr_reg::<false>(r, af, false);
                $done
            }
            Fast::SarR { r, af } => {
                $cpu.shr_reg::<true>(r, af, true);
                $done
            }
            Fast::SarR8 { r, af } => {
                $cpu.shr_reg::<false>(r, af, true);
                $done
            }
            Fast::Shift1R { op, w, r } => {
                wide_on!($cpu, w, shift_reg(op, r));
                $done
            }
            Fast::PushR { r } => {
                // The 8086 and 80186 push SP as it is after the decrement.
                let v = if r == 4 {
                    $cpu.regs.gpr[4].wrapping_sub(2)
                } else {
                    $cpu.regs.gpr[r as usize & 7]
                };
                $cpu.push_word($bus, v);
                $wrote
            }
            Fast::PopR { r } => {
                let v = $cpu.pop_word($bus);
                $cpu.regs.gpr[r as usize & 7] = v;
                $done
            }
            Fast::Xchg { w, a, b } => {
                let (x, y) = (wide_on!($cpu, w, reg(a)), wide_on!($cpu, w, reg(b)));
                wide_on!($cpu, w, set_reg(a, y));
                wide_on!($cpu, w, set_reg(b, x));
                $done
            }
            Fast::Cbw => {
                $cpu.regs.gpr[0] = $cpu.regs.gpr[0] as u8 as i8 as i16 as u16;
                $done
            }
            Fast::Cwd => {
                $cpu.regs.gpr[2] = if $cpu.regs.gpr[0] & 0x8000 != 0 {
                    0xFFFF
                } else {
                    0
                };
                $done
            }
            // CF where it counts (FLAGS or the lazy state) and in the other.
            Fast::Clc => {
                $cpu.lazy.cf = false;
                $cpu.regs.flags &= !CF;
                $done
            }
            Fast::Stc => {
                $cpu.lazy.cf = true;
                $cpu.regs.flags |= CF;
                $done
            }
            Fast::Cld => {
                $cpu.regs.flags &= !DF;
                $done
            }
            Fast::Std => {
                $cpu.regs.flags |= DF;
                $done
            }
            Fast::Str { op, w, src } => {
                wide_on!($cpu, w, str_once::<B>($bus, op, src));
                $wrote
            }
            $($rest)*
        }
    };
}

impl<T: Timing> Cpu<T> {
    /// Put the instruction at CS:IP into the decode cache (when it is on and
    /// the instruction is one that executing it would cache) without
    /// executing it or charging time for it, so that the next [`Cpu::step`]
    /// takes it from the cache, through its specialised form if it has one.
    /// For tests that compare the cached path with the decoder's.
    pub fn warm_decode_cache<B: Bus>(&mut self, bus: &mut B) {
        if !T::DECODE_CACHE || !self.icache.enabled() {
            return;
        }
        let (cs, ip) = (self.regs.seg[Seg::CS as usize], self.regs.ip);
        let model = self.model;
        let mut src = Peek {
            bus,
            cs,
            ip,
            amask: self.amask,
        };
        let d = decode_instr(model, &mut src, T::RETIRES);
        let len = d.len as u32;
        // As `next_instruction` decides: no 286 instruction over ten bytes
        // (it faults while being fetched), none that wraps the segment.
        let limit = if model == CpuModel::I80286 {
            10
        } else {
            MAX_CACHED_LEN
        };
        if len <= limit && ip as u32 + len <= 0x1_0000 {
            let quick = if T::FAST_FORMS {
                quick(model, &d)
            } else {
                Quick::SLOW
            };
            let addr = self.linear(cs, ip);
            self.icache.insert(addr, &d, quick);
        }
    }

    #[inline(always)]
    fn reg<const W: bool>(&self, r: u8) -> u16 {
        if W {
            self.regs.gpr[r as usize & 7]
        } else {
            self.regs.r8(r) as u16
        }
    }

    #[inline(always)]
    fn set_reg<const W: bool>(&mut self, r: u8, v: u16) {
        if W {
            self.regs.gpr[r as usize & 7] = v;
        } else {
            // A whole-word store (see `Cpu::keep`).
            self.regs.set_r8_keeping(r, v as u8, self.keep);
        }
    }

    /// A byte register resolved at decode time: the low (`HI` false) or
    /// high byte of word register `r` (0 to 3), without working out which
    /// byte from the register number.
    #[inline(always)]
    fn half<const HI: bool>(&self, r: u8) -> u16 {
        let w = self.regs.gpr[r as usize & 3];
        if HI {
            w >> 8
        } else {
            w & 0xFF
        }
    }

    /// Write `v` (a byte) to the byte register [`Self::half`] reads.
    #[inline(always)]
    fn set_half<const HI: bool>(&mut self, r: u8, v: u16) {
        // A whole-word store (see `Cpu::keep`); the byte's encoding is
        // `r` with bit 2 for the high byte.
        self.regs
            .set_r8_keeping((r & 3) | (HI as u8) << 2, v as u8, self.keep);
    }

    /// The offset of a memory operand, as `compute_ea` gives it.
    #[inline(always)]
    fn offset(&self, m: &Mem) -> u16 {
        let g = &self.regs.gpr;
        let base = match m.base {
            0 => g[3].wrapping_add(g[6]),
            1 => g[3].wrapping_add(g[7]),
            2 => g[5].wrapping_add(g[6]),
            3 => g[5].wrapping_add(g[7]),
            4 => g[6],
            5 => g[7],
            6 => g[5],
            7 => g[3],
            _ => 0,
        };
        base.wrapping_add(m.disp)
    }

    /// `rd` for the fast forms, which never run on the 286 with a memory
    /// operand: nothing can overrun.
    #[inline(always)]
    fn mem_read<B: Bus, const W: bool>(&mut self, bus: &mut B, s: Seg, off: u16) -> u16 {
        self.mem_access_read(bus, s, off, W)
    }

    /// `wr` for the fast forms (nothing has faulted, nothing can overrun).
    #[inline(always)]
    fn mem_write<B: Bus, const W: bool>(&mut self, bus: &mut B, s: Seg, off: u16, v: u16) {
        self.mem_access_write(bus, s, off, W, v, true);
    }

    #[inline(always)]
    fn push_word<B: Bus>(&mut self, bus: &mut B, v: u16) {
        let sp = self.regs.gpr[4].wrapping_sub(2);
        self.regs.gpr[4] = sp;
        self.mem_write::<B, true>(bus, Seg::SS, sp, v);
    }

    #[inline(always)]
    fn pop_word<B: Bus>(&mut self, bus: &mut B) -> u16 {
        let sp = self.regs.gpr[4];
        let v = self.mem_read::<B, true>(bus, Seg::SS, sp);
        self.regs.gpr[4] = sp.wrapping_add(2);
        v
    }

    /// Set CF, which the fast forms keep in [`Lazy`](super::forms::Lazy)
    /// as they go (ADC, SBB, INC, DEC and the rotates read or keep it):
    /// only with [`Self::set_lazy`], which makes it the CF that counts.
    #[inline(always)]
    fn set_cf(&mut self, cf: bool) {
        self.lazy.cf = cf;
    }

    /// CF, from [`Lazy`](super::forms::Lazy) while it holds it.
    #[inline(always)]
    fn cf(&self) -> bool {
        if self.lazy.kind == 0 {
            self.regs.flags & CF != 0
        } else {
            self.lazy.cf
        }
    }

    /// Before a form that leaves its flags lazily but keeps CF (INC,
    /// DEC): bring CF into [`Lazy`](super::forms::Lazy) if it is in FLAGS.
    #[inline(always)]
    fn keep_cf(&mut self) {
        if self.lazy.kind == 0 {
            self.lazy.cf = self.regs.flags & CF != 0;
        }
    }

    /// Leave SF, ZF, PF, AF and OF to be worked out from `r` (see [`Lazy`](super::forms::Lazy)).
    #[inline(always)]
    fn set_lazy<const W: bool>(&mut self, class: u8, r: u16, a: u16) {
        let l = &mut self.lazy;
        l.kind = class | if W { LZ_WORD } else { 0 };
        l.res = r;
        l.a = a;
    }

    /// `a op b` as `alu::add`, `alu::sub` and `alu::logic` give it, with
    /// CF set and the other flags left to [`Lazy`](super::forms::Lazy).
    #[inline(always)]
    fn alu<const W: bool>(&mut self, op: AluOp, a: u16, b: u16) -> u16 {
        let m = mask(W);
        let (a32, b32) = (a as u32, b as u32);
        let cf = || self.cf() as u32;
        match op {
            AluOp::Add | AluOp::Adc => {
                let c = if op == AluOp::Adc { cf() } else { 0 };
                let full = a32 + b32 + c;
                let r = (full & m) as u16;
                self.set_cf(full > m);
                self.set_lazy::<W>(LZ_ADD, r, a);
                self.lazy.b = b;
                r
            }
            AluOp::Sub | AluOp::Cmp | AluOp::Sbb => {
                let c = if op == AluOp::Sbb { cf() } else { 0 };
                let r = (a32.wrapping_sub(b32).wrapping_sub(c) & m) as u16;
                self.set_cf(a32 < b32 + c);
                self.set_lazy::<W>(LZ_SUB, r, a);
                self.lazy.b = b;
                r
            }
            AluOp::Or | AluOp::And | AluOp::Xor => {
                let r = match op {
                    AluOp::Or => a | b,
                    AluOp::And => a & b,
                    _ => a ^ b,
                } & m as u16;
                self.set_cf(false);
                self.set_lazy::<W>(LZ_RAW, r, 0);
                r
            }
        }
    }

    /// `d op= b` on a register.
    #[inline(always)]
    fn alu_reg<const W: bool>(&mut self, op: AluOp, d: u8, b: u16) {
        let r = self.alu::<W>(op, self.reg::<W>(d), b);
        if op != AluOp::Cmp {
            self.set_reg::<W>(d, r);
        }
    }

    /// `d op= b` on a byte register resolved at decode time (see [`Self::half`]).
    #[inline(always)]
    fn alu_half<const HI: bool>(&mut self, op: AluOp, d: u8, b: u16) {
        let r = self.alu::<false>(op, self.half::<HI>(d), b);
        if op != AluOp::Cmp {
            self.set_half::<HI>(d, r);
        }
    }

    /// `[m] op= b`.
    #[inline(always)]
    fn alu_mem<B: Bus, const W: bool>(&mut self, bus: &mut B, op: AluOp, m: &Mem, b: Operand) {
        let off = self.offset(m);
        let a = self.mem_read::<B, W>(bus, m.seg, off);
        let b = match b {
            Operand::Reg(s) => self.reg::<W>(s),
            Operand::Imm(v) => v,
            Operand::Mem(_) => unreachable!("one memory operand"),
        };
        let r = self.alu::<W>(op, a, b);
        if op != AluOp::Cmp {
            self.mem_write::<B, W>(bus, m.seg, off, r);
        }
    }

    #[inline(always)]
    fn load<B: Bus, const W: bool>(&mut self, bus: &mut B, m: &Mem) -> u16 {
        let off = self.offset(m);
        self.mem_read::<B, W>(bus, m.seg, off)
    }

    #[inline(always)]
    fn store<B: Bus, const W: bool>(&mut self, bus: &mut B, m: &Mem, v: u16) {
        let off = self.offset(m);
        self.mem_write::<B, W>(bus, m.seg, off, v);
    }

    #[inline(always)]
    fn test<const W: bool>(&mut self, a: u16, b: u16) {
        self.set_cf(false);
        self.set_lazy::<W>(LZ_RAW, a & b & mask(W) as u16, 0);
    }

    /// INC or DEC of `a` at width `W`: the result and the kind of its
    /// lazy record (CF kept). One source for the word and byte register
    /// forms, which record it after writing the register.
    #[inline(always)]
    fn inc_dec_value<const W: bool>(a: u16, dec: bool) -> (u16, u8) {
        let m = mask(W) as u16;
        if dec {
            (a.wrapping_sub(1) & m, LZ_DEC)
        } else {
            (a.wrapping_add(1) & m, LZ_INC)
        }
    }

    /// INC or DEC of a word register.
    #[inline(always)]
    fn inc_dec(&mut self, r: u8, dec: bool) {
        self.keep_cf();
        let a = self.reg::<true>(r);
        let (v, lz) = Self::inc_dec_value::<true>(a, dec);
        self.set_reg::<true>(r, v);
        self.set_lazy::<true>(lz, v, a);
    }

    /// INC or DEC of a byte register resolved at decode time (see [`Self::half`]).
    #[inline(always)]
    fn inc_dec_byte<const HI: bool>(&mut self, r: u8, dec: bool) {
        self.keep_cf();
        let a = self.half::<HI>(r);
        let (v, lz) = Self::inc_dec_value::<false>(a, dec);
        self.set_half::<HI>(r, v);
        self.set_lazy::<false>(lz, v, a);
    }

    /// SHL of a register by one: as far as the flags go, ADD of the value
    /// to itself (AF the carry out of bit 3, as [`shift1`] has it).
    #[inline(always)]
    fn shl_reg<const W: bool>(&mut self, r: u8) {
        let v = self.reg::<W>(r);
        let res = (v << 1) & mask(W) as u16;
        self.set_cf(v & sign(W) as u16 != 0);
        self.set_lazy::<W>(LZ_ADD, res, v);
        self.lazy.b = v;
        self.set_reg::<W>(r, res);
    }

    /// SHR (or SAR when `arith`) of a register by one: OF is the sign
    /// before the shift for SHR, clear for SAR; `af` is AF.
    #[inline(always)]
    fn shr_reg<const W: bool>(&mut self, r: u8, af: u16, arith: bool) {
        let v = self.reg::<W>(r);
        let sb = sign(W) as u16;
        let (res, of) = if arith {
            ((v >> 1) | (v & sb), 0)
        } else {
            (v >> 1, if v & sb != 0 { OF } else { 0 })
        };
        self.set_cf(v & 1 != 0);
        self.set_lazy::<W>(LZ_RAW, res, of | af);
        self.set_reg::<W>(r, res);
    }

    /// Any other shift or rotate of a register by one, as [`shift1`] does
    /// it. Rotates keep SF, ZF, PF and AF: they are worked out first.
    #[inline(always)]
    fn shift_reg<const W: bool>(&mut self, op: ShiftOp, r: u8) {
        self.settle_flags();
        let v = self.reg::<W>(r) as u32;
        let (res, flags) = shift1(self.model, op, W, v, self.regs.flags);
        self.regs.flags = flags;
        self.set_reg::<W>(r, res as u16);
    }

    /// ZF, from [`Lazy`](super::forms::Lazy) while it holds it.
    #[inline(always)]
    fn zf(&self) -> bool {
        if self.lazy.kind == 0 {
            self.regs.flags & ZF != 0
        } else {
            self.lazy.res == 0
        }
    }

    /// Bring FLAGS up to date: work out what [`Lazy`](super::forms::Lazy) holds. Everything
    /// outside the fast forms reads FLAGS directly, so `run` and `step` call
    /// this before they return.
    #[inline]
    pub(crate) fn settle_flags(&mut self) {
        let l = self.lazy;
        if l.kind == 0 {
            return;
        }
        self.lazy.kind = 0;
        let w = l.kind & LZ_WORD != 0;
        let (a, b, r) = (l.a as u32, l.b as u32, l.res as u32);
        let class = l.kind & !LZ_WORD;
        let b = match class {
            LZ_INC | LZ_DEC => 1,
            _ => b,
        };
        let ao = match class {
            LZ_ADD | LZ_INC => alu::add_af_of(w, a, b, r),
            LZ_SUB | LZ_DEC => alu::sub_af_of(w, a, b, r),
            _ => l.a,
        };
        self.regs.flags = (self.regs.flags & !LAZY) | szp(w, r) | ao | l.cf as u16;
    }

    /// Run `q.f`, the fast form of the instruction just taken from the
    /// cache; `ip` is the IP after it (the caller keeps IP, not
    /// `self.regs.ip`, which the forms neither read nor write). Returns the
    /// IP it leaves and its clocks (from `q`), or None, having changed
    /// nothing the architecture shows, when the form leaves the
    /// instruction to `execute` after all (a divide error, a REP form that
    /// might pass the REP deadline).
    /// With `RARE` false the rare forms (MUL/DIV, memory shifts) are
    /// refused like instructions without a form: `Cpu::run`'s loop, the
    /// bare CPU's, measured faster without them (the host's registers and
    /// branch predictor); a machine's slices (`run_forms`) gain from them.
    #[inline(always)]
    pub(crate) fn run_fast<B: Bus, const RARE: bool>(
        &mut self,
        bus: &mut B,
        q: &Quick,
        ip: u16,
    ) -> Option<(u16, u32)> {
        let mut ip = ip;
        // Each arm gives its clocks last, so that nothing is kept across
        // the forms' code. A jump taken goes to `disp` from the IP after it.
        macro_rules! jump {
            ($t:expr, $disp:expr) => {
                if $t {
                    ip = ip.wrapping_add($disp);
                    self.timing.flush(self.regs.seg[Seg::CS as usize], ip);
                    q.taken_clocks as u32
                } else {
                    q.clocks as u32
                }
            };
        }
        let plain = || q.clocks as u32;
        let clocks = straight_forms!(self, bus, q.f, plain(), plain(), {
            Fast::Slow => unreachable!("slow forms run through execute"),
            Fast::Jcc { disp, .. }
            | Fast::JccAny { disp, .. }
            | Fast::Jcf { disp, .. }
            | Fast::Jz { disp, .. }
            | Fast::Jbe { disp, .. }
            | Fast::Loop { disp, .. }
            | Fast::Jcxz { disp }
            | Fast::Jmp { disp } => jump!(self.jump_taken(&q.f), disp),
            Fast::Call { disp } => {
                self.push_word(bus, ip);
                jump!(true, disp)
            }
            Fast::Ret => {
                ip = self.pop_word(bus);
                self.timing.flush(self.regs.seg[Seg::CS as usize], ip);
                q.taken_clocks as u32
            }
            Fast::RepStr { op, w, src } => {
                // A REP form runs whole: it is left to `execute`, which can
                // stop between iterations, when it might pass the REP
                // deadline (bounded with the word penalties the memory
                // transfers add).
                if self.rep.deadline != super::rep::NEVER {
                    let n = self.regs.gpr[1] as u64;
                    let end = self.timing.cycles() + q.clocks as u64 + (q.per_rep as u64 + 8) * n;
                    if end >= self.rep.deadline {
                        return None;
                    }
                }
                let count = wide_on!(self, w, rep_str::<B>(bus, op, src));
                q.clocks as u32 + q.per_rep as u32 * count
            }
            // Rare forms, out of line: one arm of the dispatch, so that the
            // run loop's code stays as it was without them.
            Fast::MulR { .. } | Fast::MulM { .. } | Fast::DivR { .. } | Fast::Shift1M { .. } => {
                if !RARE {
                    return None;
                }
                self.run_rare(bus, q)?
            }
        });
        Some((ip, clocks))
    }

    /// Whether the jump form `f` (Jcc, LOOP, JCXZ, JMP) is taken, LOOP's
    /// CX moved first: one source for [`Self::run_fast`] and the bodies
    /// ([`Self::run_body`]). Inlined into an arm that already matched `f`,
    /// its own `match` folds away.
    #[inline(always)]
    fn jump_taken(&mut self, f: &Fast) -> bool {
        match *f {
            Fast::Jcc { cc, .. } => {
                self.settle_flags();
                self.cond(cc)
            }
            Fast::JccAny { mask, set, .. } => {
                self.settle_flags();
                (self.regs.flags & mask != 0) == set
            }
            Fast::Jcf { set, .. } => self.cf() == set,
            Fast::Jz { set, .. } => self.zf() == set,
            Fast::Jbe { set, .. } => (self.cf() || self.zf()) == set,
            Fast::Loop { op, .. } => {
                let cx = self.regs.gpr[1].wrapping_sub(1);
                self.regs.gpr[1] = cx;
                cx != 0
                    && match op {
                        Op::Loopz => self.zf(),
                        Op::Loopnz => !self.zf(),
                        _ => true,
                    }
            }
            Fast::Jcxz { .. } => self.regs.gpr[1] == 0,
            _ => true,
        }
    }

    /// Run the forms of a body (see [`super::body`]) built in generation
    /// `gen`. Returns where it left: None when it ran to its end, or the
    /// form it left at and whether because that form is a jump taken out
    /// of the body (else it wrote memory and the code generation moved on:
    /// it stops after that form); then what the clocks (wrapping) and the
    /// instruction count of the forms' precomputed sums change by for the
    /// forms that jumps within the body skipped. Charges no clocks, counts
    /// nothing and leaves IP alone: the caller does, from the form it left
    /// at or the body's head.
    #[inline(always)]
    pub(crate) fn run_body<'a, B: Bus>(
        &mut self,
        bus: &mut B,
        ops: &'a [BodyOp],
        gen: u32,
    ) -> (Option<(&'a BodyOp, bool)>, u32, u32) {
        let (mut adj, mut skipped) = (0u32, 0u32);
        let mut forms = ops.iter();
        while let Some(o) = forms.next() {
            macro_rules! leave_if {
                ($t:expr) => {
                    if $t {
                        if o.inner == 0 {
                            return (Some((o, true)), adj, skipped);
                        }
                        adj = adj.wrapping_add(o.skip as i16 as u32);
                        skipped += o.skip_n as u32;
                        forms = ops[o.inner as usize..].iter();
                    }
                };
            }
            straight_forms!(self, bus, o.f, {
                // A jump on CF or ZF fused into the form.
                if o.jmask != 0 {
                    let zf = self.zf();
                    let hit = self.cf() as u8 | (zf as u8) << 1;
                    leave_if!((hit & o.jmask != 0) == o.jset)
                }
            }, {
                if self.icache.gen != gen {
                    return (Some((o, false)), adj, skipped);
                }
            }, {
                Fast::Jcc { .. }
                | Fast::JccAny { .. }
                | Fast::Jcf { .. }
                | Fast::Jz { .. }
                | Fast::Jbe { .. }
                | Fast::Loop { .. }
                | Fast::Jcxz { .. }
                | Fast::Jmp { .. } => leave_if!(self.jump_taken(&o.f) == o.jset),
                // Named one by one, not `_`: an exhaustive match lets the
                // jump table cover every variant, without a range test
                // before it (3 host instructions a form).
                Fast::Slow
                | Fast::Call { .. }
                | Fast::Ret
                | Fast::RepStr { .. }
                | Fast::MulR { .. }
                | Fast::MulM { .. }
                | Fast::DivR { .. }
                | Fast::Shift1M { .. } => unreachable!("not a body form"),
            })
        }
        (None, adj, skipped)
    }

    /// Run one of the rare forms (see `run_fast`): its clocks, or None
    /// for `execute` to take the instruction (a divide error).
    #[inline(never)]
    fn run_rare<B: Bus>(&mut self, bus: &mut B, q: &Quick) -> Option<u32> {
        Some(match q.f {
            Fast::MulR { signed, w, r } => {
                let src = wide_on!(self, w, reg(r));
                self.mul_form(q, signed, w, src)
            }
            Fast::MulM { signed, w, m } => {
                let src = wide_on!(self, w, load::<B>(bus, &m));
                self.mul_form(q, signed, w, src)
            }
            Fast::DivR { signed, w, r } => {
                let src = wide_on!(self, w, reg(r));
                self.div_form(q, signed, w, src)?
            }
            Fast::Shift1M { op, w, m } => {
                wide_on!(self, w, shift_mem::<B>(bus, op, &m));
                q.clocks as u32
            }
            _ => unreachable!("only the rare forms come here"),
        })
    }

    /// The clocks of a MUL or DIV form by its operand `src`, as
    /// `FastTiming::clocks` gives them for `Per::Data`.
    #[inline(always)]
    fn data_clocks(q: &Quick, w: bool, src: u16) -> u32 {
        let bits = if w { 16 } else { 8 };
        q.clocks as u32 + q.per_rep as u32 * src.count_ones().min(bits) / bits
    }

    /// MUL/IMUL by `src`, as `execute`'s `mul` does it; returns the clocks.
    #[inline(always)]
    fn mul_form(&mut self, q: &Quick, signed: bool, w: bool, src: u16) -> u32 {
        let (lo, hi, over) = super::exec::product(w, signed, false, self.regs.gpr[0], src as u32);
        // Every flag the lazy state could hold is written.
        self.lazy.kind = 0;
        self.finish_mul(w, signed, lo, hi, over);
        Self::data_clocks(q, w, src)
    }

    /// DIV/IDIV by `src`, as `execute`'s `div` does it; returns the clocks,
    /// or None (nothing changed but FLAGS settled) on a divide error.
    #[inline(always)]
    fn div_form(&mut self, q: &Quick, signed: bool, w: bool, src: u16) -> Option<u32> {
        let n = if w {
            ((self.regs.gpr[2] as u64) << 16) | self.regs.gpr[0] as u64
        } else {
            self.regs.gpr[0] as u64
        };
        let (abs_n, abs_d, result) =
            super::exec::quotient(self.model, w, signed, false, n, src as u64);
        let (q_, r) = result?;
        self.settle_flags();
        self.div_flags(w, signed, abs_n, abs_d, result);
        self.finish_div(w, q_, r);
        Some(Self::data_clocks(q, w, src))
    }

    /// A shift or rotate by one of a memory operand, as [`shift1`] does it.
    #[inline(always)]
    fn shift_mem<B: Bus, const W: bool>(&mut self, bus: &mut B, op: ShiftOp, m: &Mem) {
        self.settle_flags();
        let off = self.offset(m);
        let v = self.mem_read::<B, W>(bus, m.seg, off) as u32;
        let (res, flags) = shift1(self.model, op, W, v, self.regs.flags);
        self.regs.flags = flags;
        self.mem_write::<B, W>(bus, m.seg, off, res as u16);
    }

    /// One LODS, STOS or MOVS, as `string_once` does it.
    #[inline(always)]
    fn str_once<B: Bus, const W: bool>(&mut self, bus: &mut B, op: StrOp, src: Seg) {
        let step: u16 = if W { 2 } else { 1 };
        let delta = if self.regs.flag(DF) {
            step.wrapping_neg()
        } else {
            step
        };
        match op {
            StrOp::Lods => {
                let si = self.regs.gpr[6];
                let v = self.mem_read::<B, W>(bus, src, si);
                self.regs.gpr[6] = si.wrapping_add(delta);
                self.set_reg::<W>(0, v);
            }
            StrOp::Stos => {
                let di = self.regs.gpr[7];
                let v = self.regs.gpr[0];
                self.mem_write::<B, W>(bus, Seg::ES, di, v);
                self.regs.gpr[7] = di.wrapping_add(delta);
            }
            _ => {
                let si = self.regs.gpr[6];
                let v = self.mem_read::<B, W>(bus, src, si);
                self.regs.gpr[6] = si.wrapping_add(delta);
                let di = self.regs.gpr[7];
                self.mem_write::<B, W>(bus, Seg::ES, di, v);
                self.regs.gpr[7] = di.wrapping_add(delta);
            }
        }
    }

    /// REP STOS or REP MOVS: CX iterations; returns their number.
    fn rep_str<B: Bus, const W: bool>(&mut self, bus: &mut B, op: StrOp, src: Seg) -> u32 {
        let n = self.regs.gpr[1] as u32;
        if !(T::BULK && self.rep_bulk::<B, W>(bus, op, src, n)) {
            for _ in 0..n {
                self.str_once::<B, W>(bus, op, src);
            }
        }
        self.regs.gpr[1] = 0;
        n
    }

    /// REP STOS or REP MOVS of `n` elements at once, when that is the same
    /// as one at a time: upwards (DF clear), no offset wrapping around its
    /// segment, no address past the address bus, plain RAM
    /// ([`Bus::ram_mut`]), no cached code written (so no decoded instruction
    /// goes stale) and, for MOVS, source and destination apart (a forward
    /// copy over itself repeats a pattern, which a block copy would not).
    /// Returns false, having done nothing, otherwise. SI and DI are left
    /// past the elements, CX to the caller.
    pub(super) fn rep_bulk<B: Bus, const W: bool>(
        &mut self,
        bus: &mut B,
        op: StrOp,
        src: Seg,
        n: u32,
    ) -> bool {
        let size: u32 = if W { 2 } else { 1 };
        let len = n * size;
        let (di, si) = (self.regs.gpr[7] as u32, self.regs.gpr[6] as u32);
        if self.regs.flags & DF != 0 || n == 0 || di + len > 0x1_0000 {
            return false;
        }
        let dst = self.linear(self.regs.seg[Seg::ES as usize], di as u16);
        if dst + len - 1 > self.amask || self.icache.may_hold_code(dst, len) {
            return false;
        }
        match op {
            StrOp::Stos => {
                let Some(ram) = bus.ram_mut(dst, len) else {
                    return false;
                };
                let ax = self.regs.gpr[0].to_le_bytes();
                if W {
                    for pair in ram.chunks_exact_mut(2) {
                        pair.copy_from_slice(&ax);
                    }
                } else {
                    ram.fill(ax[0]);
                }
                self.timing.bulk(n, W, dst);
            }
            StrOp::Movs => {
                if si + len > 0x1_0000 {
                    return false;
                }
                let from = self.linear(self.regs.seg[src as usize], si as u16);
                if from + len - 1 > self.amask || from < dst + len && dst < from + len {
                    return false;
                }
                let (lo, hi) = (from.min(dst), (from + len).max(dst + len));
                let Some(ram) = bus.ram_mut(lo, hi - lo) else {
                    return false;
                };
                let (from_at, dst_at) = ((from - lo) as usize, (dst - lo) as usize);
                ram.copy_within(from_at..from_at + len as usize, dst_at);
                self.timing.bulk(n, W, from);
                self.timing.bulk(n, W, dst);
                self.regs.gpr[6] = (si + len) as u16;
            }
            _ => return false,
        }
        self.regs.gpr[7] = (di + len) as u16;
        true
    }

    /// Take the cached instruction at `cs_base + ip` through its fast form
    /// if it has one, its entry in `quick` (the cache's table, lent out by
    /// [`DecodeCache::take_quick`](super::icache::DecodeCache)), and return
    /// the IP it leaves and its clocks; None (and nothing changed) if there
    /// is none. The caller keeps IP (`self.regs.ip` is not read or
    /// written), counts the instruction, charges the clocks
    /// ([`Timing::charge`]) and clears the interrupt shadow (which no fast
    /// form reads or sets). `cs_base` is CS shifted left by four (no fast
    /// form changes CS).
    #[inline(always)]
    pub(crate) fn step_fast<B: Bus, const RARE: bool>(
        &mut self,
        bus: &mut B,
        quick: &[Quick; SLOTS],
        cs_base: u32,
        ip: u16,
    ) -> Option<(u16, u32)> {
        // Not masked to the address bus: an address past it (code reached
        // through the 8086's wrap at 1 MiB) matches no tag, cached
        // addresses being masked, and runs through `execute`.
        let addr = cs_base + ip as u32;
        let i = self.icache.slot_of(addr)?;
        let q = &quick[i & (SLOTS - 1)];
        if ip as u32 >= q.ip_limit {
            return None;
        }
        let done = self.run_fast::<B, RARE>(bus, q, ip.wrapping_add(q.len as u16))?;
        self.timing.cached_fetch(q.len as u32);
        Some(done)
    }
}

/// A shift or rotate by one of `v`, as `shift` does it with a count of one:
/// the result and the new FLAGS.
#[inline(always)]
fn shift1(model: CpuModel, op: ShiftOp, w: bool, v: u32, flags: u16) -> (u32, u16) {
    let m = mask(w);
    let sb = sign(w);
    let cf_in = flags & CF != 0;
    let mut af = false;
    let (r, cf) = match op {
        ShiftOp::Rol => {
            let cf = v & sb != 0;
            (((v << 1) | cf as u32) & m, cf)
        }
        ShiftOp::Ror => {
            let cf = v & 1 != 0;
            ((v >> 1) | if cf { sb } else { 0 }, cf)
        }
        ShiftOp::Rcl => (((v << 1) | cf_in as u32) & m, v & sb != 0),
        ShiftOp::Rcr => ((v >> 1) | if cf_in { sb } else { 0 }, v & 1 != 0),
        ShiftOp::Shl => {
            let r = (v << 1) & m;
            // The ALU shifts by adding the operand to itself: AF is the carry out of bit 3.
            af = r & 0x10 != 0 && model != CpuModel::I80186;
            (r, v & sb != 0)
        }
        ShiftOp::Shr => {
            af = model == CpuModel::I80286;
            (v >> 1, v & 1 != 0)
        }
        ShiftOp::Sar => {
            af = model == CpuModel::I80286;
            ((v >> 1) | (v & sb), v & 1 != 0)
        }
        ShiftOp::Setmo => (m, false),
    };
    let msb = r & sb != 0;
    let of = match op {
        ShiftOp::Rol | ShiftOp::Rcl | ShiftOp::Shl => msb != cf,
        ShiftOp::Ror | ShiftOp::Rcr => msb != (r & (sb >> 1) != 0),
        // OF is the sign bit before the shift.
        ShiftOp::Shr => v & sb != 0,
        ShiftOp::Sar | ShiftOp::Setmo => false,
    };
    let mut f = (flags & !(CF | OF)) | if cf { CF } else { 0 } | if of { OF } else { 0 };
    if !matches!(
        op,
        ShiftOp::Rol | ShiftOp::Ror | ShiftOp::Rcl | ShiftOp::Rcr
    ) {
        f = (f & !(SF | ZF | PF | AF)) | szp(w, r) | if af { AF } else { 0 };
    }
    (r, f)
}
