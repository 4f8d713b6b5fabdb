//! The Pentium and P6 additions: CPUID, RDTSC, RDMSR/WRMSR, RDPMC,
//! CMPXCHG8B, CMOVcc, UD2, SYSENTER/SYSEXIT and CR4.
//!
//! Which model has which instruction is data (the `Since` column of the
//! opcode table); the feature bits CPUID reports are the ones implemented
//! here and in `mem.rs`/`fpu.rs` — nothing is advertised that is not there.

use super::decode::Insn;
use super::width::*;
use super::*;

/// CR4 bits (Intel SDM vol. 3, "Control Registers").
pub(crate) const CR4_TSD: u32 = 1 << 2;
/// Debugging extensions: DR4/DR5 references raise #UD.
pub(crate) const CR4_DE: u32 = 1 << 3;
/// 4 MiB pages (PDE.PS).
pub(crate) const CR4_PSE: u32 = 1 << 4;
/// Global pages (PTE/PDE bit 8).
pub(crate) const CR4_PGE: u32 = 1 << 7;
/// RDPMC allowed at any CPL.
pub(crate) const CR4_PCE: u32 = 1 << 8;
/// The OS saves the FPU/SSE state with FXSAVE.
pub(crate) const CR4_OSFXSR: u32 = 1 << 9;

/// CPUID leaf 1 EDX bits.
pub mod feature {
    /// x87 on chip.
    pub const FPU: u32 = 1 << 0;
    /// Virtual-8086 mode extensions and protected-mode virtual interrupts
    /// (CR4.VME/PVI, `vme.rs`).
    pub const VME: u32 = 1 << 1;
    /// Debugging extensions (CR4.DE).
    pub const DE: u32 = 1 << 2;
    /// Page size extension (4 MiB pages).
    pub const PSE: u32 = 1 << 3;
    /// RDTSC and CR4.TSD.
    pub const TSC: u32 = 1 << 4;
    /// RDMSR/WRMSR.
    pub const MSR: u32 = 1 << 5;
    /// CMPXCHG8B.
    pub const CX8: u32 = 1 << 8;
    /// SYSENTER/SYSEXIT.
    pub const SEP: u32 = 1 << 11;
    /// Global pages.
    pub const PGE: u32 = 1 << 13;
    /// CMOVcc (and FCMOVcc/FCOMI with FPU).
    pub const CMOV: u32 = 1 << 15;
    /// FXSAVE/FXRSTOR and CR4.OSFXSR.
    pub const FXSR: u32 = 1 << 24;
}

/// MSR numbers.
pub mod msr {
    /// Platform id (P6): read as 0.
    pub const PLATFORM_ID: u32 = 0x17;
    /// Time-stamp counter.
    pub const TSC: u32 = 0x10;
    /// Local APIC base (P6).
    pub const APIC_BASE: u32 = 0x1B;
    /// Microcode update signature (P6).
    pub const BIOS_SIGN: u32 = 0x8B;
    /// MTRR capabilities (P6): no MTRRs.
    pub const MTRRCAP: u32 = 0xFE;
    /// Performance counter 0 (P6; 1 is the next MSR).
    pub const PERFCTR0: u32 = 0xC1;
    /// Event select for counter 0 (P6; 1 is the next MSR).
    pub const PERFEVTSEL0: u32 = 0x186;
    /// SYSENTER code selector.
    pub const SYSENTER_CS: u32 = 0x174;
    /// SYSENTER stack pointer.
    pub const SYSENTER_ESP: u32 = 0x175;
    /// SYSENTER entry point.
    pub const SYSENTER_EIP: u32 = 0x176;
}

/// The processor signature CPUID leaf 1 returns in EAX (and the reset DX):
/// family << 8 | model << 4 | stepping.
///
/// - 486: 0402h, the same value the 486 model leaves in DX at reset (a
///   486DX stepping that, unlike the real one, has CPUID: the late 486s
///   with CPUID reported FPU and VME; this model has no VME, so FPU only).
/// - Pentium: 0525h, a P54C (family 5, model 2).
/// - Pentium Pro: 0619h, family 6 model 1 stepping 9 — at stepping ≥ 3 an
///   OS trusts the SEP bit (Intel's rule for early P6 parts).
pub fn signature(model: Model32) -> u32 {
    match model {
        Model32::I80286 => 0x0200,
        Model32::I80386 => 0x0308,
        Model32::I80486 => 0x0402,
        Model32::Pentium => 0x0525,
        Model32::PentiumPro => 0x0619,
    }
}

/// CPUID leaf 1 EDX for a model: only what is implemented.
pub fn features(model: Model32) -> u32 {
    use feature::*;
    match model.generation() {
        0..=3 => 0,
        4 => FPU,
        5 => FPU | VME | DE | PSE | TSC | MSR | CX8,
        _ => FPU | VME | DE | PSE | TSC | MSR | CX8 | SEP | PGE | CMOV | FXSR,
    }
}

/// The CR4 bits a model accepts (setting any other bit is #GP(0)).
pub(crate) fn cr4_mask(model: Model32) -> u32 {
    const VME_PVI: u32 = vme::CR4_VME | vme::CR4_PVI;
    match model.generation() {
        0..=4 => 0,
        5 => VME_PVI | CR4_TSD | CR4_DE | CR4_PSE,
        _ => VME_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE | CR4_OSFXSR,
    }
}

/// Registers the Pentium/P6 additions keep.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct P6State {
    /// TSC = clocks charged + this offset (WRMSR to the TSC sets it).
    pub tsc_offset: u64,
    pub sysenter_cs: u32,
    pub sysenter_esp: u32,
    pub sysenter_eip: u32,
    /// APIC base as written (the enable bit always reads 0: no APIC).
    pub apic_base: u32,
    /// PerfEvtSel0/1 as written. No event is counted: the counters keep
    /// what software writes (enough for an OS to find them and program
    /// them; their counts are not modelled).
    pub perfevtsel: [u32; 2],
    /// PerfCtr0/1: 40 bits.
    pub perfctr: [u64; 2],
}

/// The P6's performance counters are 40 bits wide.
const PERFCTR_MASK: u64 = (1 << 40) - 1;

impl Cpu32 {
    /// The time-stamp counter: the emulated clocks charged so far plus the
    /// offset WRMSR gave it.
    pub fn tsc(&self) -> u64 {
        self.cycles.wrapping_add(self.p6.tsc_offset)
    }

    /// MOV CR4: bits the model lacks are #GP(0); PSE or PGE changes flush
    /// the whole TLB, global entries included.
    pub(crate) fn set_cr4(&mut self, v: u32) -> R<()> {
        if v & !cr4_mask(self.model) != 0 {
            return Err(gp(0));
        }
        let old = self.cr[4];
        self.cr[4] = v;
        if (old ^ v) & (CR4_PSE | CR4_PGE) != 0 {
            self.tlb_stats.flushes_cr4 += 1;
            self.flush_tlb_all();
        }
        Ok(())
    }

    /// The 0F opcodes of the Pentium and P6 (dispatched from `execute_0f`).
    pub(crate) fn execute_p6<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, osz: u32) -> R<()> {
        let op = i.op & 0xFF;
        match op {
            0x0B => return Err(ud()),
            0xA2 => self.cpuid(),
            0x30 => {
                self.check_msr_access()?;
                let v = (self.r[2] as u64) << 32 | self.r[0] as u64;
                self.wrmsr(self.r[1], v)?;
            }
            0x32 => {
                self.check_msr_access()?;
                let v = self.rdmsr(self.r[1])?;
                self.r[0] = v as u32;
                self.r[2] = (v >> 32) as u32;
            }
            0x31 => {
                if self.cr[4] & CR4_TSD != 0 && self.cpl_now() > 0 {
                    return Err(gp(0));
                }
                let t = self.tsc();
                self.r[0] = t as u32;
                self.r[2] = (t >> 32) as u32;
            }
            0x33 => {
                // The P6's two counters (the Pentium's are not modelled
                // and read 0).
                if (self.cr[4] & CR4_PCE == 0 && self.cpl_now() > 0) || self.r[1] > 1 {
                    return Err(gp(0));
                }
                let v = if self.model.generation() >= 6 {
                    self.p6.perfctr[self.r[1] as usize]
                } else {
                    0
                };
                self.r[0] = v as u32;
                self.r[2] = (v >> 32) as u32;
            }
            0x34 => self.sysenter()?,
            0x35 => self.sysexit()?,
            0x40..=0x4F => {
                // The source is read (and may fault) whatever the condition.
                let v = self.read_e(bus, i, osz)?;
                if self.cond((op & 0xF) as u8) {
                    self.set_reg(osz, i.reg(), v);
                }
            }
            0xC7 => self.cmpxchg8b(bus, i)?,
            0xAE => self.fxsave_fxrstor(bus, i)?,
            _ => return Err(ud()),
        }
        Ok(())
    }

    /// CPL, taking virtual-8086 mode as 3.
    fn cpl_now(&self) -> u8 {
        if self.v86() {
            3
        } else {
            self.cpl
        }
    }

    fn check_msr_access(&self) -> R<()> {
        if self.cpl_now() != 0 {
            return Err(gp(0));
        }
        Ok(())
    }

    fn cpuid(&mut self) {
        let leaf = self.r[0];
        if leaf == 0 {
            self.r[0] = 1;
            // "GenuineIntel" in EBX, EDX, ECX.
            self.r[3] = u32::from_le_bytes(*b"Genu");
            self.r[2] = u32::from_le_bytes(*b"ineI");
            self.r[1] = u32::from_le_bytes(*b"ntel");
        } else {
            // Leaves above the highest answer as the highest does.
            self.r[0] = signature(self.model);
            self.r[3] = 0;
            self.r[1] = 0;
            self.r[2] = features(self.model);
        }
    }

    fn rdmsr(&mut self, n: u32) -> R<u64> {
        let p6 = self.model.generation() >= 6;
        Ok(match n {
            msr::TSC => self.tsc(),
            msr::APIC_BASE if p6 => (self.p6.apic_base & !0x800) as u64,
            msr::PLATFORM_ID | msr::BIOS_SIGN | msr::MTRRCAP if p6 => 0,
            n @ (msr::PERFCTR0 | 0xC2) if p6 => self.p6.perfctr[(n - msr::PERFCTR0) as usize],
            n @ (msr::PERFEVTSEL0 | 0x187) if p6 => {
                self.p6.perfevtsel[(n - msr::PERFEVTSEL0) as usize] as u64
            }
            msr::SYSENTER_CS if p6 => self.p6.sysenter_cs as u64,
            msr::SYSENTER_ESP if p6 => self.p6.sysenter_esp as u64,
            msr::SYSENTER_EIP if p6 => self.p6.sysenter_eip as u64,
            _ => return Err(gp(0)),
        })
    }

    fn wrmsr(&mut self, n: u32, v: u64) -> R<()> {
        let p6 = self.model.generation() >= 6;
        match n {
            msr::TSC => {
                // The P6 writes the low 32 bits and clears the high ones;
                // the Pentium takes all 64.
                let v = if p6 { v & 0xFFFF_FFFF } else { v };
                self.p6.tsc_offset = v.wrapping_sub(self.cycles);
            }
            msr::APIC_BASE if p6 => {
                // Base and BSP kept; no APIC to enable.
                self.p6.apic_base = (v as u32 & 0xFFFF_F100) & !0x800;
            }
            // Writing 0 before CPUID is how microcode revisions are read.
            msr::BIOS_SIGN if p6 => {}
            // WRMSR writes a counter's low 32 bits and sign-extends bit 31
            // into bits 32–39 (SDM vol. 3, "Performance Monitoring
            // Counters" of the P6 family).
            n @ (msr::PERFCTR0 | 0xC2) if p6 => {
                self.p6.perfctr[(n - msr::PERFCTR0) as usize] =
                    v as u32 as i32 as i64 as u64 & PERFCTR_MASK;
            }
            n @ (msr::PERFEVTSEL0 | 0x187) if p6 => {
                self.p6.perfevtsel[(n - msr::PERFEVTSEL0) as usize] = v as u32;
            }
            msr::SYSENTER_CS if p6 => self.p6.sysenter_cs = v as u32 & 0xFFFF,
            msr::SYSENTER_ESP if p6 => self.p6.sysenter_esp = v as u32,
            msr::SYSENTER_EIP if p6 => self.p6.sysenter_eip = v as u32,
            _ => return Err(gp(0)),
        }
        Ok(())
    }

    fn flat(sel: u16, attr: u16) -> SegCache {
        SegCache {
            sel,
            base: 0,
            limit: 0xFFFF_FFFF,
            attr,
            valid: true,
        }
    }

    /// SYSENTER (SDM vol. 2): flat ring-0 CS/SS from SYSENTER_CS, ESP/EIP
    /// from their MSRs; VM, IF and RF cleared.
    fn sysenter(&mut self) -> R<()> {
        self.save_seg();
        let cs = self.p6.sysenter_cs as u16;
        if self.cr[0] & 1 == 0 || cs & 0xFFFC == 0 {
            return Err(gp(0));
        }
        self.eflags &= !(VM | IF | RF);
        self.seg[CS] = Self::flat(cs & 0xFFFC, 0xC09B);
        self.seg[SS] = Self::flat((cs & 0xFFFC).wrapping_add(8), 0xC093);
        self.cpl = 0;
        self.r[4] = self.p6.sysenter_esp;
        self.eip = self.p6.sysenter_eip;
        Ok(())
    }

    /// SYSEXIT: flat ring-3 CS = SYSENTER_CS + 16, SS = + 24; ESP = ECX,
    /// EIP = EDX.
    fn sysexit(&mut self) -> R<()> {
        self.save_seg();
        let cs = self.p6.sysenter_cs as u16;
        if self.cr[0] & 1 == 0 || self.v86() || self.cpl != 0 || cs & 0xFFFC == 0 {
            return Err(gp(0));
        }
        self.seg[CS] = Self::flat(cs.wrapping_add(16) | 3, 0xC0FB);
        self.seg[SS] = Self::flat(cs.wrapping_add(24) | 3, 0xC0F3);
        self.cpl = 3;
        self.r[4] = self.r[1];
        self.eip = self.r[2];
        Ok(())
    }

    /// CMPXCHG8B m64: EDX:EAX against m64; equal → ZF=1 and ECX:EBX stored;
    /// else ZF=0 and m64 loaded into EDX:EAX (the memory is written back
    /// unchanged, as the locked cycle does).
    fn cmpxchg8b<B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let s = i.mseg();
        let a = self.ea(i);
        let a4 = if i.a32 {
            a.wrapping_add(4)
        } else {
            a.wrapping_add(4) & 0xFFFF
        };
        let lin = self.seg_lin(s, a, 8, mem::Acc::Write)?;
        let u = self.user();
        self.probe_write(bus, lin, 8, u)?;
        let lo = self.rd(bus, s, a, 4)?;
        let hi = self.rd(bus, s, a4, 4)?;
        let (nlo, nhi) = if lo == self.r[0] && hi == self.r[2] {
            self.eflags |= ZF;
            (self.r[3], self.r[1])
        } else {
            self.eflags &= !ZF;
            self.r[0] = lo;
            self.r[2] = hi;
            (lo, hi)
        };
        self.wr(bus, s, a, 4, nlo)?;
        self.wr(bus, s, a4, 4, nhi)?;
        Ok(())
    }
}
