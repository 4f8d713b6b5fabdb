//! Instruction and bus traces of a running machine, streamed to disk.
//!
//! One line per instruction:
//!
//! ```text
//! 12 c=148 F000:E010 B8 34 12  mov ax, 1234h  ax=1234
//! ```
//!
//! the instruction's number (instructions executed before it since power-on),
//! the emulated cycle before it, CS:IP, its bytes, its disassembly, and the
//! registers it changed as they are after it (IP only when the instruction
//! did not simply fall through to the next one). A hardware interrupt taken
//! before an instruction gets a line of its own (`INT 08h -> F000:FEA5`).
//!
//! The bus trace (cycle-exact model only) writes every clock of those
//! instructions in the notation of [`crate::cycles::describe`] (the
//! SingleStepTests fields), after a `#` line naming the instruction.
//!
//! A file whose name ends in `.gz` is gzip-compressed as it is written;
//! nothing is held in memory beyond the writer's buffer.

use crate::workbench::BusProbe;
use chipset::Machine;
use cpu::{Registers, Seg, Timing};
use flate2::write::GzEncoder;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// When tracing starts or how long it lasts: instructions, or emulated
/// seconds (written with an `s` suffix: `0.5s`).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Span {
    /// A count of instructions (0: from power-on).
    Instructions(u64),
    #[default]
    /// The start: no instructions yet.
    Start,
    /// Emulated CPU cycles.
    Cycles(u64),
}

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(sec) = s.strip_suffix('s') {
            let v: f64 = sec
                .parse()
                .map_err(|_| format!("{s:?}: expected seconds such as 0.5s"))?;
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{s:?}: seconds must be zero or more"));
            }
            return Ok(Span::Cycles((v * crate::workbench::CPU_HZ) as u64));
        }
        s.parse()
            .map(Span::Instructions)
            .map_err(|_| format!("{s:?}: expected an instruction count or seconds such as 0.5s"))
    }
}

/// A trace file: plain, or gzip when the name ends in `.gz`.
pub enum Output {
    /// Uncompressed.
    Plain(BufWriter<std::fs::File>),
    /// Compressed as it is written.
    Gzip(GzEncoder<BufWriter<std::fs::File>>),
}

impl Output {
    /// Create the file.
    pub fn create(path: &Path) -> io::Result<Output> {
        let f = BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
        Ok(if path.extension().is_some_and(|e| e == "gz") {
            Output::Gzip(GzEncoder::new(f, flate2::Compression::fast()))
        } else {
            Output::Plain(f)
        })
    }

    /// Write what is buffered and, for gzip, the trailer.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Output::Plain(mut f) => f.flush(),
            Output::Gzip(g) => g.finish()?.flush(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Plain(f) => f.write(buf),
            Output::Gzip(g) => g.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Plain(f) => f.flush(),
            Output::Gzip(g) => g.flush(),
        }
    }
}

/// Streams instruction (and bus) trace lines while a machine runs.
pub struct Tracer {
    out: Option<(Output, PathBuf)>,
    bus: Option<(Output, PathBuf)>,
    from: Span,
    count: Option<Span>,
    /// Where the window started (instructions, cycles), once it has.
    started: Option<(u64, u64)>,
    done: bool,
    /// Lines written.
    pub lines: u64,
}

/// The disassembler prints a relative jump's target as if the instruction
/// sat at offset 0; a trace knows the real IP, so the target is moved there.
pub fn rebase_jump(text: &str, bytes: &[u8], ip: u16) -> String {
    let relative = matches!(
        bytes.first(),
        Some(0x70..=0x7F | 0xE0..=0xE3 | 0xE8 | 0xE9 | 0xEB)
    );
    let Some((head, last)) = text.rsplit_once(' ') else {
        return text.to_string();
    };
    match last.strip_suffix('h').map(|h| u16::from_str_radix(h, 16)) {
        Some(Ok(t)) if relative && last.len() == 5 => {
            format!("{head} {:04X}h", t.wrapping_add(ip))
        }
        _ => text.to_string(),
    }
}

/// The physical address of `seg:off + i`, the offset wrapping in the segment.
fn at(seg: u16, off: u16, i: u16) -> u32 {
    ((seg as u32) << 4) + off.wrapping_add(i) as u32
}

/// Registers that differ, as `name=value` after the change.
pub fn changed(before: &Registers, after: &Registers, fell_through: bool) -> String {
    const GPR: [&str; 8] = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
    const SEG: [&str; 4] = ["es", "cs", "ss", "ds"];
    let mut s = Vec::new();
    for (i, name) in GPR.iter().enumerate() {
        if before.gpr[i] != after.gpr[i] {
            s.push(format!("{name}={:04X}", after.gpr[i]));
        }
    }
    for (i, name) in SEG.iter().enumerate() {
        if before.seg[i] != after.seg[i] {
            s.push(format!("{name}={:04X}", after.seg[i]));
        }
    }
    if !fell_through {
        s.push(format!("ip={:04X}", after.ip));
    }
    if before.flags != after.flags {
        s.push(format!("flags={:04X}", after.flags));
    }
    s.join(" ")
}

impl Tracer {
    /// A tracer writing instructions to `trace` and bus clocks to `bus`
    /// (either may be absent), from `from` for `count`.
    pub fn new(
        trace: Option<&Path>,
        bus: Option<&Path>,
        from: Span,
        count: Option<Span>,
    ) -> io::Result<Tracer> {
        let open = |p: Option<&Path>| -> io::Result<_> {
            p.map(|p| Output::create(p).map(|w| (w, p.to_path_buf())))
                .transpose()
        };
        Ok(Tracer {
            out: open(trace)?,
            bus: open(bus)?,
            from,
            count,
            started: None,
            done: false,
            lines: 0,
        })
    }

    /// True once the window has passed: the machine may run untraced.
    pub fn finished(&self) -> bool {
        self.done
    }

    fn in_window<T: Timing>(&mut self, m: &Machine<T>) -> bool {
        if self.done {
            return false;
        }
        let (n, c) = (m.cpu.instructions, m.cycles());
        let start = match self.started {
            Some(s) => s,
            None => {
                let reached = match self.from {
                    Span::Start => true,
                    Span::Instructions(i) => n >= i,
                    Span::Cycles(k) => c >= k,
                };
                if !reached {
                    return false;
                }
                self.started = Some((n, c));
                (n, c)
            }
        };
        let over = match self.count {
            None | Some(Span::Start) => false,
            Some(Span::Instructions(k)) => n - start.0 >= k,
            Some(Span::Cycles(k)) => c - start.1 >= k,
        };
        if over {
            self.done = true;
        }
        !over
    }

    /// Run one [`Machine::step`], tracing it if it falls in the window.
    pub fn step<T: BusProbe>(&mut self, m: &mut Machine<T>) -> io::Result<()> {
        if !self.in_window(m) {
            m.step();
            return Ok(());
        }
        let before = m.cpu.regs;
        let n0 = m.cpu.instructions;
        let c0 = m.cycles();
        let halted = m.cpu.halted();
        // The interrupt Machine::step is about to take, and where it leads.
        let irq = (m.board.pic.int_pending() && m.cpu.interrupts_enabled()).then(|| {
            let v = m.board.pic.clone().acknowledge();
            let ivt = v as u32 * 4;
            let w = |a: u32| m.board.mem_read(a) as u16 | (m.board.mem_read(a + 1) as u16) << 8;
            (v, w(ivt + 2), w(ivt))
        });
        let (cs, ip) = match irq {
            Some((_, cs, ip)) => (cs, ip),
            None => m.cs_ip(),
        };
        let mut bytes = [0u8; 6];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = m.board.mem_read(at(cs, ip, i as u16));
        }
        let dis = cpu::disassemble(&bytes, m.cpu.model());
        if self.bus.is_some() {
            m.cpu.timing.start();
        }
        m.step();
        // A REP stops between iterations for the devices; its line is
        // written when it ends (or, cut short by an interrupt, not at all:
        // the interrupt's line follows).
        while m.cpu.in_rep() && !(m.board.pic.int_pending() && m.cpu.interrupts_enabled()) {
            m.step();
        }
        let ran = m.cpu.instructions != n0;
        if let Some((w, path)) = &mut self.out {
            let err = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
            if let Some((v, hcs, hip)) = irq {
                writeln!(
                    w,
                    "{n0} c={c0} INT {v:02X}h -> {hcs:04X}:{hip:04X} (from {:04X}:{:04X}{})",
                    before.seg[Seg::CS as usize],
                    before.ip,
                    if halted { ", halted" } else { "" }
                )
                .map_err(err)?;
            }
            if ran {
                let hex: Vec<String> = bytes[..dis.len.min(6)]
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect();
                // Compare with the registers the instruction started from.
                let start = if irq.is_some() {
                    let mut r = before;
                    r.seg[Seg::CS as usize] = cs;
                    r.ip = ip;
                    r
                } else {
                    before
                };
                let after = m.cpu.regs;
                let fell = after.seg[Seg::CS as usize] == cs
                    && after.ip == ip.wrapping_add(dis.len as u16);
                let mut line = format!(
                    "{n} c={c0} {cs:04X}:{ip:04X} {}  {}",
                    hex.join(" "),
                    rebase_jump(&dis.text, &bytes, ip),
                    n = m.cpu.instructions - 1
                );
                let ch = changed(&start, &after, fell);
                if !ch.is_empty() {
                    line.push_str("  ");
                    line.push_str(&ch);
                }
                writeln!(w, "{line}").map_err(err)?;
                self.lines += 1;
            }
        }
        if let Some((w, path)) = &mut self.bus {
            let err = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
            let model = m.cpu.model();
            writeln!(w, "# {n0} {cs:04X}:{ip:04X} {}", dis.text).map_err(err)?;
            for r in m.cpu.timing.clocks() {
                let c = crate::cycles::from_record(r);
                writeln!(w, "{}", crate::cycles::describe(&c, model)).map_err(err)?;
            }
            m.cpu.timing.stop();
        }
        Ok(())
    }

    /// Flush and close the files (gzip trailers are written here).
    pub fn finish(self) -> io::Result<()> {
        for (w, path) in self.out.into_iter().chain(self.bus) {
            w.finish()
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        }
        Ok(())
    }
}
