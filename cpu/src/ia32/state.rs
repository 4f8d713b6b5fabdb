//! The architectural state of a [`Cpu32`] as a plain serde structure, for
//! machine snapshots: [`Cpu32::save_state`] and [`Cpu32::load_state`].
//!
//! Kept in a file of its own, apart from the core's internals, so that the
//! core can change its representation without touching the snapshot
//! format: only these two functions follow it.
//!
//! What is saved: the registers with their descriptor caches, the control,
//! debug and test registers, the interrupt inputs and the one-instruction
//! inhibit, HLT and shutdown, the clock and instruction counts, the x87
//! (integrated, or a 387 attached with [`Cpu32::set_x87`]) and its FERR#
//! edge, the TSC offset and the MSRs (SYSENTER, APIC base, performance
//! counters). Not saved: the TLB (emptied on load;
//! a guest that relies on a stale entry after changing its page tables
//! without INVLPG could differ), the fault-rollback copy (a snapshot is
//! taken between instructions, where it is dead), and a host
//! [`Coprocessor`](super::Coprocessor) (kept as it is).

use super::{Cpu32, Model32, SegCache};
use crate::x87::Fpu;
use serde::{Deserialize, Serialize};

/// The format's version; [`Cpu32::load_state`] refuses others.
pub const CPU32_STATE_VERSION: u32 = 1;

/// A segment register with its hidden descriptor cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegState {
    /// Selector.
    pub sel: u16,
    /// Base.
    pub base: u32,
    /// Limit in bytes.
    pub limit: u32,
    /// Access byte and flags nibble, as [`SegCache::attr`].
    pub attr: u16,
    /// False for a null selector loaded in protected mode.
    pub valid: bool,
}

impl From<SegCache> for SegState {
    fn from(s: SegCache) -> Self {
        SegState {
            sel: s.sel,
            base: s.base,
            limit: s.limit,
            attr: s.attr,
            valid: s.valid,
        }
    }
}

impl From<SegState> for SegCache {
    fn from(s: SegState) -> Self {
        SegCache {
            sel: s.sel,
            base: s.base,
            limit: s.limit,
            attr: s.attr,
            valid: s.valid,
        }
    }
}

/// Everything of a [`Cpu32`] a snapshot holds (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu32State {
    /// [`CPU32_STATE_VERSION`].
    pub version: u32,
    /// The processor (`Model32`'s name, e.g. `I80486`).
    pub model: String,
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub r: [u32; 8],
    /// EIP.
    pub eip: u32,
    /// EFLAGS.
    pub eflags: u32,
    /// ES, CS, SS, DS, FS, GS.
    pub seg: [SegState; 6],
    /// GDTR (base, limit).
    pub gdtr: (u32, u16),
    /// IDTR (base, limit).
    pub idtr: (u32, u16),
    /// LDTR.
    pub ldtr: SegState,
    /// TR.
    pub tr: SegState,
    /// CR0–CR4.
    pub cr: [u32; 5],
    /// DR0–DR7.
    pub dr: [u32; 8],
    /// TR6, TR7.
    pub tr67: [u32; 2],
    /// Current privilege level.
    pub cpl: u8,
    /// In HLT.
    pub halted: bool,
    /// Shut down (triple fault).
    pub shutdown: bool,
    /// INTR input level.
    pub intr: bool,
    /// NMI latched.
    pub nmi: bool,
    /// NMIs blocked (inside an NMI handler).
    pub nmi_blocked: bool,
    /// Interrupts inhibited for one instruction.
    pub inhibit: bool,
    /// Clocks charged.
    pub cycles: u64,
    /// Instructions retired.
    pub instructions: u64,
    /// The x87, if the processor has one.
    pub fpu: Option<Fpu>,
    /// FERR# went active since the board last looked.
    pub ferr_edge: bool,
    /// TSC = clocks + this.
    pub tsc_offset: u64,
    /// SYSENTER_CS/ESP/EIP MSRs.
    pub sysenter: [u32; 3],
    /// APIC base MSR as written.
    pub apic_base: u32,
    /// PerfEvtSel0/1 as written (absent in states saved before they were).
    #[serde(default)]
    pub perfevtsel: [u32; 2],
    /// PerfCtr0/1.
    #[serde(default)]
    pub perfctr: [u64; 2],
}

fn model_name(m: Model32) -> String {
    format!("{m:?}")
}

impl Cpu32 {
    /// The CPU's state for a snapshot (between instructions).
    pub fn save_state(&self) -> Cpu32State {
        Cpu32State {
            version: CPU32_STATE_VERSION,
            model: model_name(self.model),
            r: self.r,
            eip: self.eip,
            eflags: self.flags_word(),
            seg: self.seg.map(SegState::from),
            gdtr: self.gdtr,
            idtr: self.idtr,
            ldtr: self.ldtr.into(),
            tr: self.tr.into(),
            cr: self.cr,
            dr: self.dr,
            tr67: self.tr67,
            cpl: self.cpl,
            halted: self.halted,
            shutdown: self.shutdown,
            intr: self.intr,
            nmi: self.nmi,
            nmi_blocked: self.nmi_blocked,
            inhibit: self.inhibit,
            cycles: self.cycles,
            instructions: self.instructions,
            fpu: self.x87.unit.as_deref().cloned(),
            ferr_edge: self.x87.ferr_edge,
            tsc_offset: self.p6.tsc_offset,
            sysenter: [
                self.p6.sysenter_cs,
                self.p6.sysenter_esp,
                self.p6.sysenter_eip,
            ],
            apic_base: self.p6.apic_base,
            perfevtsel: self.p6.perfevtsel,
            perfctr: self.p6.perfctr,
        }
    }

    /// Put back a state from [`Cpu32::save_state`]. Refused, with nothing
    /// changed, when it is of another format version or processor.
    pub fn load_state(&mut self, s: &Cpu32State) -> Result<(), String> {
        if s.version != CPU32_STATE_VERSION {
            return Err(format!(
                "CPU state version {}; this build reads {CPU32_STATE_VERSION}",
                s.version
            ));
        }
        if s.model != model_name(self.model) {
            return Err(format!(
                "CPU state of a {}, but the machine's CPU is a {}",
                s.model,
                model_name(self.model)
            ));
        }
        self.r = s.r;
        self.eip = s.eip;
        self.eflags = s.eflags;
        self.lf.kind = super::flags::NONE;
        self.seg = s.seg.map(SegCache::from);
        self.seg_fast_off();
        self.gdtr = s.gdtr;
        self.idtr = s.idtr;
        self.ldtr = s.ldtr.into();
        self.tr = s.tr.into();
        self.cr = s.cr;
        self.dr = s.dr;
        self.tr67 = s.tr67;
        self.cpl = s.cpl;
        self.halted = s.halted;
        self.shutdown = s.shutdown;
        self.intr = s.intr;
        self.nmi = s.nmi;
        self.nmi_blocked = s.nmi_blocked;
        self.inhibit = s.inhibit;
        self.cycles = s.cycles;
        self.instructions = s.instructions;
        self.x87.unit = s.fpu.clone().map(Box::new);
        self.x87.ferr_edge = s.ferr_edge;
        self.x87_regate();
        self.p6.tsc_offset = s.tsc_offset;
        [
            self.p6.sysenter_cs,
            self.p6.sysenter_esp,
            self.p6.sysenter_eip,
        ] = s.sysenter;
        self.p6.apic_base = s.apic_base;
        self.p6.perfevtsel = s.perfevtsel;
        self.p6.perfctr = s.perfctr;
        self.flush_tlb_all();
        self.invalidate_code(0, u32::MAX);
        Ok(())
    }
}

impl Cpu32 {
    /// The physical address of linear address `lin`, walking the page
    /// tables in `bus` as they are now (no TLB, no accessed or dirty bits
    /// set, no fault): for tools (traces, a debugger). None when a page
    /// is not present.
    pub fn linear_to_physical(&self, bus: &mut impl crate::Bus, lin: u32) -> Option<u32> {
        const PG: u32 = 1 << 31;
        const PSE: u32 = 1 << 4;
        if self.cr[0] & PG == 0 {
            return Some(lin & self.model.address_mask());
        }
        let read32 = |bus: &mut dyn crate::Bus, a: u32| {
            u32::from_le_bytes([0, 1, 2, 3].map(|i| bus.read(a.wrapping_add(i))))
        };
        let pde = read32(bus, (self.cr[3] & !0xFFF) | (lin >> 22) << 2);
        if pde & 1 == 0 {
            return None;
        }
        if pde & 0x80 != 0 && self.cr[4] & PSE != 0 {
            return Some((pde & 0xFFC0_0000) | (lin & 0x003F_FFFF));
        }
        let pte = read32(bus, (pde & !0xFFF) | ((lin >> 12) & 0x3FF) << 2);
        if pte & 1 == 0 {
            return None;
        }
        Some((pte & !0xFFF) | (lin & 0xFFF))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::FlatBus;

    /// Real mode at 0000:7C00 (hand assembly), an x87 and integer loop:
    ///
    /// ```text
    /// 7C00  D9 E8        fld1
    /// 7C02  D9 EB        fldpi
    /// 7C04  DE C1        faddp st(1), st
    /// 7C06  66 40        inc eax
    /// 7C08  D9 C0        fld st(0)
    /// 7C0A  DE C1        faddp st(1), st
    /// 7C0C  DD D8        fstp st(0)   ; keep the stack shallow
    /// 7C0E  D9 E8        fld1
    /// 7C10  0F 31        rdtsc        ; Pentium and later
    /// 7C12  EB F2        jmp 7C06h    ; 7C14h - 14
    /// ```
    const PROGRAM: &[u8] = &[
        0xD9, 0xE8, 0xD9, 0xEB, 0xDE, 0xC1, 0x66, 0x40, 0xD9, 0xC0, 0xDE, 0xC1, 0xDD, 0xD8, 0xD9,
        0xE8, 0x0F, 0x31, 0xEB, 0xF2,
    ];

    fn start(model: Model32) -> (Cpu32, FlatBus) {
        let mut bus = FlatBus::new(1 << 20);
        bus.load(0x7C00, PROGRAM);
        let mut cpu = Cpu32::new(model);
        cpu.seg[1] = SegCache {
            sel: 0,
            base: 0,
            limit: 0xFFFF,
            attr: 0x9B,
            valid: true,
        };
        cpu.eip = 0x7C00;
        (cpu, bus)
    }

    #[test]
    fn a_saved_state_loaded_into_a_new_cpu_runs_on_alike() {
        for model in [Model32::I80486, Model32::Pentium, Model32::PentiumPro] {
            let (mut a, mut bus) = start(model);
            for _ in 0..37 {
                a.step(&mut bus);
            }
            // The x87 stack and a TSC offset (as WRMSR 10h would set it).
            a.p6.tsc_offset = 1_000_000;
            // Performance counters as WRMSR C1h/186h would leave them.
            a.p6.perfctr = [0x12_3456_789A, 5];
            a.p6.perfevtsel = [0x0043_00C0, 0];
            let s = a.save_state();
            assert_eq!(s.perfctr, [0x12_3456_789A, 5]);
            assert!(s.fpu.is_some(), "{model:?} has an x87");
            let mut b = Cpu32::new(model);
            b.load_state(&s).unwrap();
            assert_eq!(b.save_state(), s);
            let mut bus_b = bus.clone();
            for _ in 0..50 {
                a.step(&mut bus);
                b.step(&mut bus_b);
            }
            assert_eq!(b.regs(), a.regs(), "{model:?}");
            assert_eq!(b.cycles(), a.cycles());
            assert_eq!(b.tsc(), a.tsc());
            assert_eq!(b.save_state(), a.save_state());
            // RDTSC ran after the load: EDX:EAX hold the offset TSC, so the
            // offset survived.
            if model != Model32::I80486 {
                assert!(b.tsc() > 1_000_000);
            }
        }
    }

    #[test]
    fn linear_addresses_translate_through_the_page_tables() {
        let (mut cpu, mut bus) = start(Model32::I80486);
        assert_eq!(
            cpu.linear_to_physical(&mut bus, 0x1234_5678),
            Some(0x1234_5678)
        );
        // Page directory at 10000h; its entry 1 (linear 400000h..7FFFFFh)
        // points at a table at 11000h whose entry 2 maps 402000h to
        // physical 0ABC000h; everything else not present.
        bus.load(0x10004, &0x0001_1003u32.to_le_bytes());
        bus.load(0x11008, &0x00AB_C003u32.to_le_bytes());
        cpu.cr[3] = 0x10000;
        cpu.cr[0] |= 1 << 31 | 1;
        assert_eq!(
            cpu.linear_to_physical(&mut bus, 0x0040_2123),
            Some(0x00AB_C123)
        );
        assert_eq!(cpu.linear_to_physical(&mut bus, 0x0040_3000), None);
        assert_eq!(cpu.linear_to_physical(&mut bus, 0x0000_0000), None);
    }

    #[test]
    fn another_model_or_version_is_refused() {
        let (a, _) = start(Model32::I80486);
        let s = a.save_state();
        let mut p = Cpu32::new(Model32::Pentium);
        let before = p.save_state();
        let e = p.load_state(&s).unwrap_err();
        assert!(e.contains("I80486") && e.contains("Pentium"), "{e}");
        assert_eq!(p.save_state(), before);
        let mut v = s.clone();
        v.version = 99;
        let mut c = Cpu32::new(Model32::I80486);
        assert!(c.load_state(&v).unwrap_err().contains("version 99"));
    }
}
