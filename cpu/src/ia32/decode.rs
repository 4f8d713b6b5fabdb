//! The decoder: prefixes, opcode (one- and two-byte maps), ModR/M, SIB,
//! displacement and immediates, driven by the opcode table.

use super::clocks;
use super::table::{lookup, Imm, Row, ROWS};
use super::*;

/// No register in an address.
pub const NOREG: u8 = 0xFF;

/// Added to [`Insn::base`] when the address is not the base plus the
/// displacement alone (an index, or a 16-bit address).
pub const EA_TAG: u8 = 0x40;
/// Added to a 32-bit address's base register when there is an index too
/// (`[base + index * scale + disp]`): [`Cpu32::ea`]'s second test, one
/// compare, before the general sum's tests of each part.
pub const EA_SIB: u8 = 0x20;

/// A decoded instruction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Insn {
    /// Opcode (100h + byte for the 0F map).
    pub op: u16,
    /// Length in bytes (1–15; a byte, so that the whole instruction is 32
    /// bytes, which the run loop copies out of its slot in two moves).
    pub len: u8,
    /// 32-bit operand size.
    pub o32: bool,
    /// 32-bit address size.
    pub a32: bool,
    /// Segment override.
    pub seg: Option<u8>,
    /// F2 or F3 prefix (0 for none).
    pub rep: u8,
    /// LOCK prefix.
    pub lock: bool,
    /// The ModR/M byte (0 when absent).
    pub modrm: u8,
    /// The r/m operand is memory.
    pub mem: bool,
    /// Address base register or [`NOREG`]. A base register with an index
    /// has [`EA_SIB`] added (a 32-bit address) or [`EA_TAG`] (a 16-bit
    /// one), as has a 16-bit address's base alone, so that below 8 the
    /// address is the 32-bit base plus the displacement and nothing else
    /// ([`Cpu32::ea`]'s one test); bit 3 clear says there is a base, the
    /// low three bits name it.
    pub base: u8,
    /// Address index register or [`NOREG`].
    pub index: u8,
    /// Index scale as a shift (0–3).
    pub scale: u8,
    /// Displacement.
    pub disp: u32,
    /// The memory operand's segment: the override if there is one, else
    /// the addressing form's default (resolved once by the decoder, so
    /// that an access reads one byte rather than unwrapping `seg`).
    pub def_seg: u8,
    /// First immediate (or far-pointer offset, moffs, relative offset).
    pub imm: u32,
    /// Second immediate (far-pointer selector, ENTER level).
    pub imm2: u16,
    /// Index of the table row.
    pub row: u16,
    /// Clocks charged for it: the count of its form on the decoding CPU's
    /// model (`clocks::form_clk`; kept here so a cached instruction needs
    /// no table look-up).
    pub clk: u16,
    /// Specialised handler (`forms.rs`; 0: the general path).
    pub form: u8,
    /// The form's operand (ALU operation, register, condition...).
    pub aux: u8,
    /// In a block body's copy: the form may reach the bus ([`BODY_BUS`] in
    /// `imm2` too), in a byte of its own (the struct's padding) so that
    /// the body loop's test before each form is one compare of memory.
    ///
    /// [`BODY_BUS`]: super::icache::BODY_BUS
    pub body_bus: bool,
}

impl Insn {
    /// ModR/M reg field.
    #[inline]
    pub fn reg(&self) -> usize {
        ((self.modrm >> 3) & 7) as usize
    }
    /// ModR/M r/m field.
    #[inline]
    pub fn rm(&self) -> usize {
        (self.modrm & 7) as usize
    }
    /// The table row.
    pub fn row(&self) -> &'static Row {
        &ROWS[self.row as usize]
    }
    /// The memory operand's segment (override or default).
    #[inline]
    pub fn mseg(&self) -> usize {
        self.def_seg as usize
    }
}

impl Cpu32 {
    /// Code is 32-bit by default (CS.D in protected mode).
    #[inline]
    pub(crate) fn code32(&self) -> bool {
        self.seg[CS].big() && self.eflags & VM == 0
    }

    /// The decoded-instruction cache's slot for the instruction at CS:EIP
    /// in code of size `d32` ([`Self::code32`]), if it holds it. The
    /// caller copies the slot's [`Insn`] once, straight into its local
    /// (`execute`), and decodes with [`Self::decode_slow`] on a miss:
    /// returning the instruction inside an `R<Insn>` moved it twice more
    /// (~25 host instructions per instruction on mix32).
    #[inline(always)]
    pub(crate) fn decode_hit<B: Bus + ?Sized>(&mut self, bus: &mut B, d32: bool) -> Option<usize> {
        if self.icache_on {
            self.icache_lookup(bus, self.eip, d32)
        } else {
            None
        }
    }

    /// Decode the instruction at CS:EIP in code of size `d32`, from the
    /// cache when it has it (the disassembler's entry; `execute` inlines
    /// the two halves).
    pub(crate) fn decode<B: Bus + ?Sized>(&mut self, bus: &mut B, d32: bool) -> R<Insn> {
        match self.decode_hit(bus, d32) {
            Some(idx) => Ok(self.icache_insn(idx)),
            None => self.decode_slow(bus, self.eip, d32),
        }
    }

    /// Decode the instruction at CS:`start` from memory (and remember it).
    #[inline(never)]
    pub(crate) fn decode_slow<B: Bus + ?Sized>(
        &mut self,
        bus: &mut B,
        start: u32,
        d32: bool,
    ) -> R<Insn> {
        let is386 = self.model.generation() >= 3;
        let mut i = Insn {
            o32: d32,
            a32: d32,
            base: NOREG,
            index: NOREG,
            def_seg: DS as u8,
            ..Insn::default()
        };
        let mut n: u32 = 0;
        let mut win = [0u8; 15];
        let wlen = self.fetch_window(bus, start, d32, &mut win);
        // Bytes past the window are fetched one by one and kept in `win`
        // too, so that `win[..n]` ends up holding the whole instruction.
        let mut next = |cpu: &mut Cpu32, bus: &mut B, n: &mut u32| -> R<u8> {
            if *n < wlen {
                let b = win[*n as usize];
                *n += 1;
                return Ok(b);
            }
            if *n >= 15 {
                return Err(gp(0));
            }
            let off = start.wrapping_add(*n);
            let off = if d32 { off } else { off & 0xFFFF };
            let b = cpu.code_byte(bus, off)?;
            win[*n as usize] = b;
            *n += 1;
            Ok(b)
        };
        let mut b;
        loop {
            b = next(self, bus, &mut n)?;
            match b {
                0x26 | 0x2E | 0x36 | 0x3E => i.seg = Some((b >> 3) & 3),
                0x64 | 0x65 if is386 => i.seg = Some(b - 0x60),
                0x66 if is386 => i.o32 = !d32,
                0x67 if is386 => i.a32 = !d32,
                0xF0 => i.lock = true,
                0xF2 | 0xF3 => i.rep = b,
                _ => break,
            }
        }
        let mut op = b as u16;
        if b == 0x0F {
            op = 0x100 | next(self, bus, &mut n)? as u16;
        }
        let l = lookup();
        let info = l.info[op as usize];
        if !info.valid {
            return Err(ud());
        }
        i.op = op;
        let mut reg = 0;
        if info.modrm {
            let m = next(self, bus, &mut n)?;
            i.modrm = m;
            reg = ((m >> 3) & 7) as usize;
            let md = m >> 6;
            let rm = m & 7;
            // MOV to/from control, debug and test registers always take a register.
            let forced_reg = (0x120..=0x126).contains(&op);
            if md != 3 && !forced_reg {
                i.mem = true;
                if i.a32 {
                    let mut disp_len = match md {
                        1 => 1,
                        2 => 4,
                        _ => 0,
                    };
                    if rm == 4 {
                        let sib = next(self, bus, &mut n)?;
                        i.scale = sib >> 6;
                        let idx = (sib >> 3) & 7;
                        if idx != 4 {
                            i.index = idx;
                        }
                        let base = sib & 7;
                        if base == 5 && md == 0 {
                            disp_len = 4;
                        } else {
                            i.base = base;
                        }
                        // With no index, the 386 applies the scale to the base.
                        if idx == 4
                            && i.scale != 0
                            && self.model.generation() == 3
                            && i.base != NOREG
                        {
                            i.index = i.base;
                            i.base = NOREG;
                            if i.index == 4 || i.index == 5 {
                                i.def_seg = SS as u8;
                            }
                        }
                    } else if rm == 5 && md == 0 {
                        disp_len = 4;
                    } else {
                        i.base = rm;
                    }
                    if i.base == 4 || i.base == 5 {
                        i.def_seg = SS as u8;
                    }
                    let mut d = 0u32;
                    for k in 0..disp_len {
                        d |= (next(self, bus, &mut n)? as u32) << (8 * k);
                    }
                    i.disp = if disp_len == 1 {
                        d as u8 as i8 as i32 as u32
                    } else {
                        d
                    };
                } else {
                    let (base, index) = match rm {
                        0 => (3, 6),
                        1 => (3, 7),
                        2 => (5, 6),
                        3 => (5, 7),
                        4 => (NOREG, 6),
                        5 => (NOREG, 7),
                        6 => (5, NOREG),
                        _ => (3, NOREG),
                    };
                    i.base = base;
                    i.index = index;
                    let mut disp_len = md as u32;
                    if md == 0 && rm == 6 {
                        i.base = NOREG;
                        disp_len = 2;
                    }
                    if i.base == 5 {
                        i.def_seg = SS as u8;
                    }
                    let mut d = 0u32;
                    for k in 0..disp_len {
                        d |= (next(self, bus, &mut n)? as u32) << (8 * k);
                    }
                    i.disp = if disp_len == 1 {
                        d as u8 as i8 as i16 as u16 as u32
                    } else {
                        d
                    };
                }
                // A base below 8 is `ea`'s one-test case; any other base
                // register is tagged with `EA_TAG` (see `Insn::base`).
                if i.base < 8 && (i.index != NOREG || !i.a32) {
                    i.base |= if i.a32 { EA_SIB } else { EA_TAG };
                }
            }
        }
        let e = match l.entries[op as usize * 8 + reg] {
            Some(e) => e,
            None => return Err(ud()),
        };
        let row = &ROWS[e.row as usize];
        if !row.since.available(self.model) {
            return Err(ud());
        }
        i.row = e.row;
        if !i.mem && info.modrm && e.mem_only {
            return Err(ud());
        }
        for (k, imm) in e.imm.iter().enumerate() {
            let Some(kind) = imm else { break };
            let len = match kind {
                Imm::B => 1,
                Imm::W => 2,
                Imm::V | Imm::P => {
                    if i.o32 {
                        4
                    } else {
                        2
                    }
                }
                Imm::A => {
                    if i.a32 {
                        4
                    } else {
                        2
                    }
                }
            };
            let mut v = 0u32;
            for j in 0..len {
                v |= (next(self, bus, &mut n)? as u32) << (8 * j);
            }
            if k == 0 {
                i.imm = v;
            } else {
                i.imm2 = v as u16;
            }
            if *kind == Imm::P {
                let lo = next(self, bus, &mut n)? as u32;
                let hi = next(self, bus, &mut n)? as u32;
                i.imm2 = (lo | hi << 8) as u16;
            }
        }
        // The 286 ignores a misplaced LOCK; the 386 raises #UD.
        if i.lock && is386 && (!row.lock || !i.mem) {
            return Err(ud());
        }
        if !is386 && n > 10 {
            return Err(gp(0)); // the 286's limit: ten bytes, prefixes included
        }
        i.len = n as u8;
        if let Some(sg) = i.seg {
            i.def_seg = sg;
        }
        // The form's count, chosen here once so that running it costs
        // nothing more: the row's (register or memory operand, a string
        // instruction alone or under REP), then width and ENTER's level.
        let second = i.mem || (i.rep != 0 && clocks::rep_string(op));
        i.clk = clocks::form_clk(&i, self.model, row.clocks(self.model, second));
        // Jcc, LOOPcc and JCXZ have one immediate: the second carries a
        // taken branch's clocks over the not-taken count (never fewer on
        // any model), so that the handler adds it without a look-up.
        if let Some(d) = clocks::taken_delta(op, self.model) {
            i.imm2 = u16::try_from(d).unwrap_or(0);
        }
        if self.forms_on {
            (i.form, i.aux) = forms::classify(&i, self.model.generation());
        }
        if (0xD8..=0xDF).contains(&op) {
            // ESC has no immediate: the x87's opcode register value, so
            // that the lean forms store it without working it out.
            i.imm = super::fpu::fop_value(op as u8, i.modrm) as u32;
        }
        if self.icache_on {
            if n <= wlen {
                self.icache_fill(start, d32, &win, &i, true);
            } else if self.fits_one_page(start, n, d32) {
                // Not plain RAM (ROM, a shadowed BIOS, MMIO) or past the
                // window: cached, but checked byte by byte through the bus.
                self.icache_fill(start, d32, &win, &i, false);
            }
        }
        Ok(i)
    }

    /// The offset of the memory operand.
    #[inline(always)]
    pub(crate) fn ea(&self, i: &Insn) -> u32 {
        self.ea_as::<true>(i)
    }

    /// [`Self::ea`] with the 16-bit wrap out of line (`COLD16`, the
    /// integer forms: a branch is cheaper than a select on the 32-bit
    /// operands) or inline (the x87's lean forms, which must call nothing:
    /// a call makes them keep their values in callee-saved registers, a
    /// frame of pushes and pops on every instruction).
    #[inline(always)]
    pub(crate) fn ea_as<const COLD16: bool>(&self, i: &Insn) -> u32 {
        // `[base + disp]` in 32-bit code (most memory operands: locals
        // off EBP, fields off a pointer) in one test: the decoder leaves
        // the base below 8 only then (`EA_TAG`).
        let b = i.base as usize;
        if b < 8 {
            return i.disp.wrapping_add(self.r[b]);
        }
        // The x87's lean forms: `[disp32]` next (a static double, as
        // compilers address them outside position-independent code), in
        // one 16-bit compare of the base and index bytes, which lie side
        // by side, and the address size; through the general sum it took
        // fifteen host instructions.
        if !COLD16
            && u16::from_le_bytes([i.base, i.index]) == u16::from_le_bytes([NOREG; 2])
            && i.a32
        {
            return i.disp;
        }
        if b.wrapping_sub(EA_SIB as usize) < 8 {
            return i
                .disp
                .wrapping_add(self.r[b & 7])
                .wrapping_add(self.r[i.index as usize & 7] << i.scale);
        }
        self.ea_full::<COLD16>(i)
    }

    /// [`Self::ea`] for any other address: no base, an index, 16 bits.
    #[inline(always)]
    fn ea_full<const COLD16: bool>(&self, i: &Insn) -> u32 {
        // `< 8` rather than `!= NOREG`: the same test (a register number
        // the decoder gave is below 8, `NOREG` is not), and it spares the
        // index its bounds check without a mask.
        let mut a = i.disp;
        let (b, x) = (i.base as usize, i.index as usize);
        if b & 8 == 0 {
            a = a.wrapping_add(self.r[b & 7]);
        }
        if x < 8 {
            a = a.wrapping_add(self.r[x] << i.scale);
        }
        // A branch to an out-of-line mask rather than a select: two host
        // instructions on the 32-bit operands (the select was three:
        // `movzwl; cmpb; cmovne`), a call on the 16-bit ones.
        if i.a32 {
            a
        } else if COLD16 {
            ea16(a)
        } else {
            a & 0xFFFF
        }
    }
}

/// A 16-bit address's wrap, out of line ([`Cpu32::ea`]).
#[cold]
#[inline(never)]
fn ea16(a: u32) -> u32 {
    a & 0xFFFF
}
