//! `ironpc run --profile FILE` on the AT and PCI machines: where a boot's
//! time goes. Nothing here runs inside the CPU: the run is cut into short
//! stretches of emulated time, and after each the profiler looks at where
//! the CPU is (linear EIP, CPL, mode) and charges that stretch's
//! instructions, emulated cycles, halted cycles and wall time to the place
//! and to the boot phase. The board counts I/O ports, memory outside RAM
//! and interrupt vectors ([`chipset::at::AtBoard::count_accesses`]); the
//! runner counts how slices end ([`chipset::at::AtRun::count_slices`]); the
//! CPU counts page walks, TLB flushes and page faults on its cold paths
//! ([`cpu::ia32::TlbStats`]), charged to the phase like instructions.
//!
//! The report is plain text with Markdown tables. Kernel symbols come from
//! a System.map or a `/proc/kallsyms` listing (any file: lines that are not
//! `ADDRESS TYPE NAME` are skipped, so a serial log in which the guest ran
//! `cat /proc/kallsyms` serves as it is).

use chipset::at::{AtPc, MemRegion, SliceStats};
use cpu::ia32::TlbStats;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// The boot phases, in the order a PC boot passes through them.
pub const PHASES: [&str; 5] = [
    "firmware (BIOS POST, option ROMs)",
    "boot sector onwards below 640 KiB (bootloader, kernel setup, DOS)",
    "kernel decompressor (protected mode, no paging, above 1 MiB)",
    "kernel (paging on) before the first user-mode instruction",
    "from the first user-mode instruction (user and kernel)",
];

/// Where the CPU was at a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// Linear address of the next instruction (CS base + EIP).
    pub linear: u32,
    /// Current privilege level.
    pub cpl: u8,
    /// CR0.PE.
    pub protected: bool,
    /// CR0.PG.
    pub paging: bool,
    /// EFLAGS.VM.
    pub v86: bool,
    /// In HLT.
    pub halted: bool,
}

impl Place {
    /// Where the PC's CPU is now.
    pub fn of(pc: &AtPc) -> Place {
        let cpu = &pc.run.cpu;
        let st = cpu.save_state();
        Place {
            linear: st.seg[1].base.wrapping_add(st.eip),
            cpl: st.cpl,
            protected: st.cr[0] & 1 != 0,
            paging: st.cr[0] & 0x8000_0000 != 0,
            v86: cpu.v86(),
            halted: st.halted,
        }
    }

    /// The mode for the per-mode table.
    pub fn mode(&self) -> &'static str {
        match (self.protected, self.v86, self.paging, self.cpl) {
            (false, _, _, _) => "real mode",
            (_, true, _, _) => "virtual-8086 mode",
            (_, _, false, _) => "protected mode, paging off",
            (_, _, true, 3) => "paging on, CPL 3",
            (_, _, true, _) => "paging on, CPL 0-2",
        }
    }

    /// The latest phase this place shows the boot has reached, given the
    /// phase reached so far: phases only move forward (a BIOS call from the
    /// bootloader belongs to the bootloader's phase).
    pub fn phase(&self, so_far: usize) -> usize {
        let rom = (0xC0000..=0xFFFFF).contains(&self.linear) || self.linear >= 0xFFF0_0000;
        let p = if self.paging {
            if self.cpl == 3 || self.v86 {
                4
            } else {
                3
            }
        } else if rom {
            0
        } else if self.linear < 0xA0000 {
            1
        } else if so_far >= 1 {
            // Above 1 MiB without paging: the kernel's decompressor once a
            // bootloader has run (the firmware may run relocated code up
            // there too, before).
            2
        } else {
            0
        };
        p.max(so_far)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    samples: u64,
    instructions: u64,
    cycles: u64,
    idle: u64,
    wall: f64,
    /// First board cycle at which this was seen.
    first: Option<u64>,
}

impl Tally {
    fn add(&mut self, d: &Delta, at: u64) {
        self.samples += 1;
        self.instructions += d.instructions;
        self.cycles += d.cycles;
        self.idle += d.idle;
        self.wall += d.wall;
        self.first.get_or_insert(at);
    }
}

struct Delta {
    instructions: u64,
    cycles: u64,
    idle: u64,
    wall: f64,
}

/// A profile being taken (see the module documentation).
pub struct Profiler {
    /// Emulated cycles between samples.
    pub every: u64,
    hz: u64,
    started: Instant,
    last_wall: Instant,
    last_instructions: u64,
    last_now: u64,
    last_idle: u64,
    phase: usize,
    phases: [Tally; PHASES.len()],
    last_tlb: TlbStats,
    /// The paging counters' growth charged to each phase.
    phase_tlb: [TlbStats; PHASES.len()],
    modes: HashMap<&'static str, Tally>,
    pages: HashMap<u32, Tally>,
    eips: HashMap<u32, u64>,
    /// The instructions charged so far (the run's since the profile began).
    pub instructions: u64,
    /// The emulated cycles charged so far.
    pub cycles: u64,
}

impl Profiler {
    /// Start profiling `pc` (turning on its counters), a sample every
    /// `every` cycles of emulated time.
    pub fn start(pc: &mut AtPc, every: u64) -> Profiler {
        pc.run.board.count_accesses(true);
        pc.run.count_slices(true);
        let now = Instant::now();
        Profiler {
            every: every.max(1),
            hz: pc.run.board.config.clock_hz.max(1),
            started: now,
            last_wall: now,
            last_instructions: pc.run.cpu.instructions(),
            last_now: pc.run.now(),
            last_idle: 0,
            phase: 0,
            phases: Default::default(),
            last_tlb: pc.run.cpu.tlb_stats(),
            phase_tlb: Default::default(),
            modes: HashMap::new(),
            pages: HashMap::new(),
            eips: HashMap::new(),
            instructions: 0,
            cycles: 0,
        }
    }

    /// Charge what ran since the last sample to where the CPU is now.
    pub fn sample(&mut self, pc: &AtPc) {
        let wall_now = Instant::now();
        let stats = pc.run.slice_stats.unwrap_or_default();
        let d = Delta {
            instructions: pc
                .run
                .cpu
                .instructions()
                .wrapping_sub(self.last_instructions),
            cycles: pc.run.now().saturating_sub(self.last_now),
            idle: stats.idle_cycles.saturating_sub(self.last_idle),
            wall: wall_now.duration_since(self.last_wall).as_secs_f64(),
        };
        self.last_instructions = pc.run.cpu.instructions();
        self.last_now = pc.run.now();
        self.last_idle = stats.idle_cycles;
        self.last_wall = wall_now;
        if d.cycles == 0 && d.instructions == 0 {
            return;
        }
        let at = pc.run.now();
        let place = Place::of(pc);
        self.phase = place.phase(self.phase);
        self.phases[self.phase].add(&d, at);
        let tlb = pc.run.cpu.tlb_stats();
        add_tlb(&mut self.phase_tlb[self.phase], &tlb, &self.last_tlb);
        self.last_tlb = tlb;
        self.modes.entry(place.mode()).or_default().add(&d, at);
        self.pages
            .entry(place.linear >> 12)
            .or_default()
            .add(&d, at);
        *self.eips.entry(place.linear).or_default() += d.instructions;
        self.instructions += d.instructions;
        self.cycles += d.cycles;
    }

    /// The instructions charged to each phase of [`PHASES`].
    pub fn phase_instructions(&self) -> [u64; PHASES.len()] {
        self.phases.map(|t| t.instructions)
    }

    /// The paging counters' growth charged to each phase of [`PHASES`].
    pub fn phase_tlb(&self) -> [TlbStats; PHASES.len()] {
        self.phase_tlb
    }

    /// The instructions charged to the 4 KiB page of linear addresses
    /// `page` (address >> 12).
    pub fn page_instructions(&self, page: u32) -> u64 {
        self.pages.get(&page).map_or(0, |t| t.instructions)
    }

    /// The report (see the module documentation). `symbols` names a symbol
    /// file; `top` is how many rows the long tables keep.
    pub fn report(&self, pc: &AtPc, symbols: Option<&Symbols>, top: usize) -> String {
        let hz = self.hz as f64;
        let secs = |c: u64| c as f64 / hz;
        let mut o = String::new();
        let wall = self.started.elapsed().as_secs_f64();
        let _ = writeln!(o, "# ironpc profile\n");
        let _ = writeln!(
            o,
            "{} instructions, {:.3} s emulated ({} cycles at {} Hz), {:.2} s wall, a sample every {} cycles ({} samples)\n",
            self.instructions,
            secs(self.cycles),
            self.cycles,
            self.hz,
            wall,
            self.every,
            self.phases.iter().map(|t| t.samples).sum::<u64>()
        );
        let pct = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        let _ = writeln!(o, "## Time by phase\n");
        let _ = writeln!(
            o,
            "| phase | from (emulated s) | emulated s | halted s | instructions | % of instructions | wall s |\n|---|---|---|---|---|---|---|"
        );
        for (name, t) in PHASES.iter().zip(&self.phases) {
            if t.samples == 0 {
                continue;
            }
            let _ = writeln!(
                o,
                "| {name} | {:.3} | {:.3} | {:.3} | {} | {:.1} | {:.2} |",
                secs(t.first.unwrap_or(0)),
                secs(t.cycles),
                secs(t.idle),
                t.instructions,
                pct(t.instructions, self.instructions),
                t.wall
            );
        }
        self.paging_section(&mut o);
        let _ = writeln!(o, "\n## By CPU mode\n");
        let _ = writeln!(
            o,
            "| mode | emulated s | halted s | instructions | % of instructions |\n|---|---|---|---|---|"
        );
        let mut modes: Vec<_> = self.modes.iter().collect();
        modes.sort_by(|a, b| b.1.instructions.cmp(&a.1.instructions).then(a.0.cmp(b.0)));
        for (m, t) in modes {
            let _ = writeln!(
                o,
                "| {m} | {:.3} | {:.3} | {} | {:.1} |",
                secs(t.cycles),
                secs(t.idle),
                t.instructions,
                pct(t.instructions, self.instructions)
            );
        }
        let _ = writeln!(o, "\n## Hottest 4 KiB pages of linear EIP\n");
        let _ = writeln!(
            o,
            "| linear page | instructions | % | samples | emulated s | first seen (s) | hottest symbols |\n|---|---|---|---|---|---|---|"
        );
        let mut pages: Vec<_> = self.pages.iter().collect();
        pages.sort_by(|a, b| b.1.instructions.cmp(&a.1.instructions).then(a.0.cmp(b.0)));
        for (p, t) in pages.iter().take(top) {
            let syms = symbols
                .map(|s| self.symbols_in_page(s, **p))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "| {:08X} | {} | {:.1} | {} | {:.3} | {:.3} | {} |",
                **p << 12,
                t.instructions,
                pct(t.instructions, self.instructions),
                t.samples,
                secs(t.cycles),
                secs(t.first.unwrap_or(0)),
                syms
            );
        }
        if let Some(s) = symbols {
            let _ = writeln!(o, "\n## Hottest kernel functions ({} symbols)\n", s.len());
            let _ = writeln!(o, "| function | instructions | % |\n|---|---|---|");
            let mut by: HashMap<&str, u64> = HashMap::new();
            let mut outside = 0;
            for (&eip, &n) in &self.eips {
                match s.lookup(eip) {
                    Some(name) => *by.entry(name).or_default() += n,
                    None => outside += n,
                }
            }
            let mut by: Vec<_> = by.into_iter().collect();
            by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            for (name, n) in by.iter().take(top) {
                let _ = writeln!(o, "| {name} | {n} | {:.1} |", pct(*n, self.instructions));
            }
            let _ = writeln!(
                o,
                "| (outside the symbols' range) | {outside} | {:.1} |",
                pct(outside, self.instructions)
            );
        }
        if let Some(s) = pc.run.slice_stats {
            self.slice_section(&mut o, &s, &secs);
        }
        if let Some(c) = pc.run.board.access_counters() {
            let _ = writeln!(o, "\n## I/O ports (accesses by the CPU)\n");
            let _ = writeln!(o, "| port | reads | writes |\n|---|---|---|");
            let mut ports: Vec<(usize, u64, u64)> = (0..0x10000)
                .map(|p| (p, c.io_reads[p], c.io_writes[p]))
                .filter(|(_, r, w)| r + w > 0)
                .collect();
            let total: u64 = ports.iter().map(|(_, r, w)| r + w).sum();
            ports.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(&b.0)));
            for (p, r, w) in ports.iter().take(top) {
                let _ = writeln!(o, "| {p:04X}h | {r} | {w} |");
            }
            let _ = writeln!(o, "\n{total} port accesses in all.");
            let _ = writeln!(o, "\n## Hardware interrupts acknowledged, by vector\n");
            let _ = writeln!(o, "| vector | count |\n|---|---|");
            for (v, n) in c.vectors.iter().enumerate().filter(|(_, n)| **n > 0) {
                let _ = writeln!(o, "| {v:02X}h | {n} |");
            }
            let _ = writeln!(
                o,
                "\n## Memory outside RAM (byte accesses)\n\n| region | reads | writes |\n|---|---|---|"
            );
            for r in MemRegion::ALL {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    r.name(),
                    c.mem_reads[r as usize],
                    c.mem_writes[r as usize]
                );
            }
        }
        o
    }

    fn paging_section(&self, o: &mut String) {
        let mut all = TlbStats::default();
        for t in &self.phase_tlb {
            add_tlb(&mut all, t, &TlbStats::default());
        }
        if all.walks() + all.flushes_cr3 + all.flushes_all + all.page_faults == 0 {
            return;
        }
        let _ = writeln!(o, "\n## Paging: page walks, TLB flushes, page faults\n");
        let _ = writeln!(
            o,
            "| phase | walks | read | write | fetch | walks per 1000 instructions | CR3 loads | INVLPG | CR0 | CR4 | other whole-TLB flushes | #PF |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        let rows = PHASES
            .iter()
            .zip(self.phase_tlb.iter().zip(&self.phases))
            .filter(|(_, (_, t))| t.samples > 0)
            .map(|(n, (s, t))| (*n, *s, t.instructions))
            .chain([("all", all, self.instructions)]);
        for (name, s, n) in rows {
            let per = if n == 0 {
                0.0
            } else {
                1000.0 * s.walks() as f64 / n as f64
            };
            let other = s
                .flushes_all
                .saturating_sub(s.flushes_invlpg + s.flushes_cr0 + s.flushes_cr4);
            let _ = writeln!(
                o,
                "| {name} | {} | {} | {} | {} | {per:.3} | {} | {} | {} | {} | {other} | {} |",
                s.walks(),
                s.walks_read,
                s.walks_write,
                s.walks_fetch,
                s.flushes_cr3,
                s.flushes_invlpg,
                s.flushes_cr0,
                s.flushes_cr4,
                s.page_faults
            );
        }
        let _ = writeln!(
            o,
            "\nA walk is a TLB miss or a write through an entry not yet dirty; a read of the page of the instruction being executed counts as a fetch. INVLPG drops the whole TLB in this model."
        );
    }

    fn slice_section(&self, o: &mut String, s: &SliceStats, secs: &dyn Fn(u64) -> f64) {
        let _ = writeln!(o, "\n## Slices\n");
        let _ = writeln!(o, "| | count |\n|---|---|");
        for (what, n) in [
            ("slices", s.slices),
            (
                "ran to the next deadline or the runner's limit",
                s.to_deadline,
            ),
            ("ended early by a device access", s.by_access),
            ("ended in HLT", s.halted),
            ("ended in a shutdown", s.shutdowns),
            ("single steps (stepped or traced runs)", s.steps),
        ] {
            let _ = writeln!(o, "| {what} | {n} |");
        }
        let _ = writeln!(
            o,
            "\nHalted (skipped to the next deadline): {:.3} s emulated; I/O wait states: {:.3} s emulated.",
            secs(s.idle_cycles),
            secs(s.io_stall_cycles)
        );
    }

    fn symbols_in_page(&self, s: &Symbols, page: u32) -> String {
        let mut by: HashMap<&str, u64> = HashMap::new();
        let base = page << 12;
        for off in 0..0x1000u32 {
            if let Some(n) = self.eips.get(&(base + off)) {
                if let Some(name) = s.lookup(base + off) {
                    *by.entry(name).or_default() += n;
                }
            }
        }
        let mut by: Vec<_> = by.into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        by.iter()
            .take(3)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Add to `acc` what the counters grew by from `old` to `new`.
fn add_tlb(acc: &mut TlbStats, new: &TlbStats, old: &TlbStats) {
    let d = |n: u64, o: u64| n.wrapping_sub(o);
    acc.walks_read += d(new.walks_read, old.walks_read);
    acc.walks_write += d(new.walks_write, old.walks_write);
    acc.walks_fetch += d(new.walks_fetch, old.walks_fetch);
    acc.flushes_cr3 += d(new.flushes_cr3, old.flushes_cr3);
    acc.flushes_invlpg += d(new.flushes_invlpg, old.flushes_invlpg);
    acc.flushes_cr0 += d(new.flushes_cr0, old.flushes_cr0);
    acc.flushes_cr4 += d(new.flushes_cr4, old.flushes_cr4);
    acc.flushes_all += d(new.flushes_all, old.flushes_all);
    acc.page_faults += d(new.page_faults, old.page_faults);
}

/// Kernel text symbols (System.map or /proc/kallsyms format).
#[derive(Debug, Default)]
pub struct Symbols {
    /// (address, name), sorted by address.
    syms: Vec<(u32, String)>,
}

/// The most a text symbol is taken to extend past its start when it is the
/// last one (so addresses far above the kernel get no name).
const LAST_SYMBOL_SPAN: u32 = 0x10000;

impl Symbols {
    /// Parse `ADDRESS TYPE NAME [MODULE]` lines, keeping text symbols
    /// (types t, T, w, W) at nonzero 32-bit addresses; other lines are
    /// skipped.
    pub fn parse(text: &str) -> Symbols {
        let mut syms: Vec<(u32, String)> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.trim_end_matches('\r').split_whitespace();
                let addr = f.next()?;
                let ty = f.next()?;
                let name = f.next()?;
                if addr.len() != 8 || !matches!(ty, "t" | "T" | "w" | "W") {
                    return None;
                }
                let a = u32::from_str_radix(addr, 16).ok()?;
                (a != 0).then(|| (a, name.to_string()))
            })
            .collect();
        syms.sort();
        syms.dedup_by_key(|s| s.0);
        Symbols { syms }
    }

    /// Read a symbol file.
    pub fn load(path: &Path) -> Result<Symbols, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let s = Symbols::parse(&String::from_utf8_lossy(&bytes));
        if s.syms.is_empty() {
            return Err(format!(
                "{}: no kernel text symbols (lines 'ADDRESS t|T NAME', as in System.map or /proc/kallsyms)",
                path.display()
            ));
        }
        Ok(s)
    }

    /// The number of symbols.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// True with no symbols.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The symbol `addr` is in.
    pub fn lookup(&self, addr: u32) -> Option<&str> {
        let i = self.syms.partition_point(|s| s.0 <= addr);
        let (start, name) = self.syms.get(i.checked_sub(1)?)?;
        if i == self.syms.len() && addr - start >= LAST_SYMBOL_SPAN {
            return None;
        }
        Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_parse_kallsyms_lines_in_a_serial_log() {
        let log = "/ # cat /proc/kallsyms\r\nc1000000 T _text\r\nc1000000 T startup_32\r\n\
                   c1001000 t do_one\r\nc1002000 D some_data\r\nc1003000 W weak_fn\r\n\
                   00000000 A fixed_percpu\r\njunk line\r\n/ # ";
        let s = Symbols::parse(log);
        // _text and startup_32 share an address: one kept.
        assert_eq!(s.len(), 3);
        assert!(matches!(
            s.lookup(0xC100_0010),
            Some("_text" | "startup_32")
        ));
        assert_eq!(s.lookup(0xC100_1FFF), Some("do_one"));
        // Data symbols are not functions: the text symbol before covers it.
        assert_eq!(s.lookup(0xC100_2004), Some("do_one"));
        assert_eq!(s.lookup(0xC100_3004), Some("weak_fn"));
        assert_eq!(s.lookup(0xBFFF_FFFF), None);
        assert_eq!(s.lookup(0xC101_3000), None);
    }

    fn place(linear: u32, protected: bool, paging: bool, cpl: u8) -> Place {
        Place {
            linear,
            cpl,
            protected,
            paging,
            v86: false,
            halted: false,
        }
    }

    #[test]
    fn phases_follow_a_pc_boot_and_never_go_back() {
        // POST in the ROM, SeaBIOS's relocated init above 1 MiB: firmware.
        assert_eq!(place(0xFE05B, false, false, 0).phase(0), 0);
        assert_eq!(place(0x03FA_0000, true, false, 0).phase(0), 0);
        // The boot sector at 7C00h.
        assert_eq!(place(0x7C00, false, false, 0).phase(0), 1);
        // An INT 13h from the bootloader stays in its phase.
        assert_eq!(place(0xFE3FE, false, false, 0).phase(1), 1);
        // The decompressor above 1 MiB once the bootloader ran.
        assert_eq!(place(0x01FE_E000, true, false, 0).phase(1), 2);
        assert_eq!(place(0xC100_0000, true, true, 0).phase(2), 3);
        assert_eq!(place(0x0804_8000, true, true, 3).phase(3), 4);
        // The kernel after user mode began stays in the last phase.
        assert_eq!(place(0xC100_0000, true, true, 0).phase(4), 4);
    }
}
