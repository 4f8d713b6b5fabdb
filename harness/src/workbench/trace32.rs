//! `--trace` on the AT and PCI machines (the 32-bit core): one line per
//! step, as the XT's trace writes them: the step's number (instructions
//! retired before it), the board's cycle before it, CS:EIP, the
//! instruction's bytes, its disassembly ([`cpu::ia32::disasm`], the core's
//! own decoder) and the registers the step changed, as they are after it.
//!
//! ```text
//! 0 c=0 F000:0000FFF0 EA 5B E0 00 F0  jmp 0xf000:0xe05b  eip=0000E05B
//! ```
//!
//! The bytes are read through the page tables as they are (see
//! [`cpu::ia32::Cpu32::linear_to_physical`]). When they do not decode (an
//! unmapped page, an invalid opcode) the first eight readable ones are
//! shown, then `..`, and no text. A step that entered an interrupt handler
//! shows where it went (the new EIP).

use crate::trace::{Output, Span};
use chipset::at::pc::AtPc;
use cpu::ia32::disasm::{self, Decoder};
use cpu::ia32::Regs32;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes the trace of an [`AtPc`] run.
pub struct Tracer32 {
    out: Output,
    path: PathBuf,
    from: Span,
    count: Option<Span>,
    /// Board cycles per emulated second (for spans given in seconds).
    hz: f64,
    started: Option<(u64, u64)>,
    done: bool,
    /// Made at the first traced step, for the machine's CPU model.
    decoder: Option<Decoder>,
    /// Lines written.
    pub lines: u64,
}

const NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const SEGS: [&str; 6] = ["es", "cs", "ss", "ds", "fs", "gs"];

impl Tracer32 {
    /// A tracer writing to `path` (gzip if it ends in `.gz`), from `from`
    /// for `count` (seconds of emulated time are converted at `hz`).
    pub fn new(path: &Path, from: Span, count: Option<Span>, hz: u64) -> io::Result<Tracer32> {
        let out = Output::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(Tracer32 {
            out,
            path: path.to_path_buf(),
            from,
            count,
            hz: hz as f64,
            started: None,
            done: false,
            decoder: None,
            lines: 0,
        })
    }

    /// True once the window has passed.
    pub fn finished(&self) -> bool {
        self.done
    }

    /// Cycles of the board for a span's cycles, which count the XT's clock
    /// ([`crate::workbench::CPU_HZ`]) when given in seconds.
    fn board_cycles(&self, k: u64) -> u64 {
        (k as f64 / crate::workbench::CPU_HZ * self.hz) as u64
    }

    fn in_window(&mut self, n: u64, c: u64) -> bool {
        if self.done {
            return false;
        }
        let start = match self.started {
            Some(s) => s,
            None => {
                let reached = match self.from {
                    Span::Start => true,
                    Span::Instructions(i) => n >= i,
                    Span::Cycles(k) => c >= self.board_cycles(k),
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
            Some(Span::Cycles(k)) => c - start.1 >= self.board_cycles(k),
        };
        if over {
            self.done = true;
        }
        !over
    }

    /// Run one step of `pc`, tracing it if it falls in the window.
    pub fn step(&mut self, pc: &mut AtPc) -> io::Result<()> {
        let run = &mut pc.run;
        let (n0, c0) = (run.cpu.instructions(), run.now());
        if !self.in_window(n0, c0) {
            run.step();
            return Ok(());
        }
        let before = run.cpu.regs();
        let cs_base = run.cpu.seg[1].base;
        let lin = cs_base.wrapping_add(before.eip);
        let mut bytes = [0u8; 15];
        let mut readable = 0;
        for (i, b) in bytes.iter_mut().enumerate() {
            match run
                .cpu
                .linear_to_physical(&mut run.board, lin.wrapping_add(i as u32))
            {
                Some(p) => *b = run.board.mem_read(p),
                None => break,
            }
            readable += 1;
        }
        let model = run.cpu.model();
        let decoder = self.decoder.get_or_insert_with(|| Decoder::new(model));
        let decoded = decoder
            .decode(&bytes[..readable], disasm::code32(&run.cpu))
            .ok()
            .map(|i| (i.len as usize, disasm::text(&i, before.eip)));
        let halted = run.cpu.halted();
        run.step();
        let after = run.cpu.regs();
        if halted && after == before {
            // Waiting in HLT: no instruction, no line.
            return Ok(());
        }
        // Fell through: the next instruction is the one the length leads to.
        let fell = after.sel[1] == before.sel[1]
            && match &decoded {
                Some((len, _)) => after.eip.wrapping_sub(before.eip) == *len as u32,
                None => after.eip > before.eip && after.eip - before.eip <= 15,
            };
        let shown = match &decoded {
            Some((len, _)) => *len,
            None => 8,
        }
        .min(readable);
        let mut hex: Vec<String> = bytes[..shown].iter().map(|b| format!("{b:02X}")).collect();
        if decoded.is_none() {
            hex.push("..".into());
        }
        let mut line = format!(
            "{n0} c={c0} {:04X}:{:08X} {}",
            before.sel[1],
            before.eip,
            hex.join(" ")
        );
        if let Some((_, text)) = &decoded {
            line.push_str("  ");
            line.push_str(text);
        }
        let ch = changed(&before, &after, fell);
        if !ch.is_empty() {
            line.push_str("  ");
            line.push_str(&ch);
        }
        writeln!(self.out, "{line}")
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
        self.lines += 1;
        Ok(())
    }

    /// Flush and close the file (a gzip trailer is written here).
    pub fn finish(self) -> io::Result<()> {
        let path = self.path;
        self.out
            .finish()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

/// The registers that differ, as they are after (EIP only when the step
/// did not fall through).
fn changed(a: &Regs32, b: &Regs32, fell: bool) -> String {
    let mut parts = Vec::new();
    for (name, (x, y)) in NAMES.iter().zip(a.r.iter().zip(&b.r)) {
        if x != y {
            parts.push(format!("{name}={y:08X}"));
        }
    }
    for (name, (x, y)) in SEGS.iter().zip(a.sel.iter().zip(&b.sel)) {
        if x != y {
            parts.push(format!("{name}={y:04X}"));
        }
    }
    if !fell {
        parts.push(format!("eip={:08X}", b.eip));
    }
    if a.eflags != b.eflags {
        parts.push(format!("eflags={:08X}", b.eflags));
    }
    if a.cr0 != b.cr0 {
        parts.push(format!("cr0={:08X}", b.cr0));
    }
    if a.cpl != b.cpl {
        parts.push(format!("cpl={}", b.cpl));
    }
    parts.join(" ")
}
