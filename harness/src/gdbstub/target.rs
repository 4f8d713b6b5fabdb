//! What the stub needs of a machine ([`Target`]), and the XT's answer: the
//! 8086 real-mode view (see `target.xml`). The AT/PC's is in `target32.rs`.

use super::{describe_regs, le32};
use crate::workbench::{Access, BusProbe};
use chipset::Machine;
use cpu::{CpuModel, Seg};

/// The 80286 real-mode view's target description (the 8086's and the MSW).
pub const TARGET286_XML: &str = include_str!("target286.xml");

/// A machine under the debugger: its registers in gdb's i386 layout (32
/// numbered registers, as the target description lists them), memory by
/// the addresses gdb uses, and run control.
pub trait Target {
    /// The target description (`qXfer:features:read:target.xml`).
    fn target_xml(&self) -> &'static str;
    /// The linear address of the next instruction (breakpoints compare it).
    fn pc(&self) -> u32;
    /// Continue at this address (as gdb gives it for `s ADDR`/`c ADDR`).
    fn set_pc(&mut self, addr: u32);
    /// How many registers the `g` packet holds.
    fn reg_count(&self) -> usize {
        32
    }
    /// Register `n` (little-endian bytes), None past the last.
    fn reg(&self, n: usize) -> Option<Vec<u8>>;
    /// Write register `n`; false if there is no such register.
    fn set_reg(&mut self, n: usize, bytes: &[u8]) -> bool;
    /// Memory at gdb's addresses (linear).
    fn read_mem(&mut self, addr: u32, len: u32) -> Vec<u8>;
    /// Write memory at gdb's addresses.
    fn write_mem(&mut self, addr: u32, data: &[u8]);
    /// Physical memory, for `monitor phys`.
    fn read_phys(&mut self, addr: u32, len: u32) -> Vec<u8>;
    /// The guest asked to exit with this status.
    fn exit_request(&self) -> Option<i32>;
    /// Halted (no instruction to stop before).
    fn halted(&self) -> bool;
    /// Stopped between parts of one instruction (a REP's iterations): the
    /// next step is no new arrival at the PC.
    fn mid_instruction(&self) -> bool {
        false
    }
    /// Run one step.
    fn step(&mut self);
    /// Instructions retired.
    fn instructions(&self) -> u64;
    /// The machine's time in cycles, and cycles per second.
    fn cycles(&self) -> (u64, f64);
    /// The text screen.
    fn screen_text(&self) -> String;
    /// Type keys.
    fn type_keys(&mut self, keys: &str) -> Result<(), String>;
    /// True if [`Target::accesses`] reports the bus cycles (read watchpoints).
    fn sees_bus(&self) -> bool {
        false
    }
    /// True if [`Target::accesses`] lists the reads of the instruction's
    /// memory operands, predicted from its decoding (no bus is seen):
    /// read and access watchpoints use them, writes are still found by
    /// comparing the watched bytes.
    fn operand_reads(&self) -> bool {
        false
    }
    /// Start recording the bus (for watchpoints).
    fn probe(&mut self, _on: bool) {}
    /// The data transfers recorded since the probe started.
    fn accesses(&self) -> Vec<Access> {
        Vec::new()
    }
    /// The linear address of the handler the next step's hardware
    /// interrupt enters, if it takes one and can take it alone.
    fn pending_handler(&self) -> Option<u32> {
        None
    }
    /// Take that interrupt alone (stopping before the handler's first
    /// instruction).
    fn take_pending_interrupt(&mut self) {}
    /// The CPU registers, as `monitor regs` shows them.
    fn describe(&self) -> String;
    /// Machine-specific monitor commands (`pic`, `pit`, `save-state`...):
    /// None when `word` is not one.
    fn monitor(&mut self, word: &str, arg: &str) -> Option<String>;
}

impl<T: BusProbe> Target for Machine<T> {
    fn target_xml(&self) -> &'static str {
        if self.cpu.model() == CpuModel::I80286 {
            TARGET286_XML
        } else {
            super::TARGET_XML
        }
    }

    fn reg_count(&self) -> usize {
        if self.cpu.model() == CpuModel::I80286 {
            33
        } else {
            32
        }
    }

    fn pc(&self) -> u32 {
        let (cs, ip) = self.cs_ip();
        self.cpu.linear(cs, ip)
    }

    /// Point CS:IP at a linear address: IP changes if the address lies in
    /// the current code segment, else CS takes the paragraph.
    fn set_pc(&mut self, linear: u32) {
        let cs = self.cpu.regs.seg[Seg::CS as usize];
        let base = (cs as u32) << 4;
        let (cs, ip) = match linear.checked_sub(base) {
            Some(off) if off <= 0xFFFF => (cs, off as u16),
            _ => ((linear >> 4) as u16, (linear & 0xF) as u16),
        };
        set_cs_ip(self, cs, ip);
    }

    fn reg(&self, n: usize) -> Option<Vec<u8>> {
        let r = &self.cpu.regs;
        // gdb's order: eax ecx edx ebx esp ebp esi edi, as the encoding's.
        Some(match n {
            0..=7 => le32(r.gpr[n] as u32).to_vec(),
            8 => le32(self.pc()).to_vec(),
            9 => le32(r.flags as u32).to_vec(),
            10 => le32(r.seg[Seg::CS as usize] as u32).to_vec(),
            11 => le32(r.seg[Seg::SS as usize] as u32).to_vec(),
            12 => le32(r.seg[Seg::DS as usize] as u32).to_vec(),
            13 => le32(r.seg[Seg::ES as usize] as u32).to_vec(),
            14 | 15 => le32(0).to_vec(),
            16..=23 => vec![0; 10],
            // fctrl as FNINIT leaves it; the rest 0. There is no FPU.
            24 => le32(0x037F).to_vec(),
            25..=31 => le32(0).to_vec(),
            32 if self.cpu.model() == CpuModel::I80286 => self.cpu.msw.to_le_bytes().to_vec(),
            _ => return None,
        })
    }

    fn set_reg(&mut self, n: usize, bytes: &[u8]) -> bool {
        let v = u32_of(bytes);
        let w = v as u16;
        let model = self.cpu.model();
        let r = &mut self.cpu.regs;
        match n {
            0..=7 => r.gpr[n] = w,
            8 => self.set_pc(v),
            9 => {
                r.flags = (w & model.flags_writable()) | model.flags_fixed_ones();
            }
            10 => {
                let ip = r.ip;
                set_cs_ip(self, w, ip);
            }
            11 => r.seg[Seg::SS as usize] = w,
            12 => r.seg[Seg::DS as usize] = w,
            13 => r.seg[Seg::ES as usize] = w,
            // No FS, GS or FPU, and the 286's MSW is read-only here:
            // writes are ignored.
            14..=31 => {}
            32 if model == CpuModel::I80286 => {}
            _ => return false,
        }
        true
    }

    fn read_mem(&mut self, addr: u32, len: u32) -> Vec<u8> {
        self.read_phys(addr, len)
    }

    fn write_mem(&mut self, addr: u32, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            cpu::Bus::write(self, addr.wrapping_add(i as u32), b);
        }
    }

    fn read_phys(&mut self, addr: u32, len: u32) -> Vec<u8> {
        (0..len)
            .map(|i| self.board.mem_read(addr.wrapping_add(i)))
            .collect()
    }

    fn exit_request(&self) -> Option<i32> {
        Machine::exit_request(self)
    }

    fn halted(&self) -> bool {
        self.cpu.halted()
    }

    fn mid_instruction(&self) -> bool {
        self.cpu.in_rep()
    }

    fn step(&mut self) {
        Machine::step(self);
    }

    fn instructions(&self) -> u64 {
        self.cpu.instructions
    }

    fn cycles(&self) -> (u64, f64) {
        (Machine::cycles(self), crate::workbench::CPU_HZ)
    }

    fn screen_text(&self) -> String {
        Machine::screen_text(self)
    }

    fn type_keys(&mut self, keys: &str) -> Result<(), String> {
        Machine::type_keys(self, keys).map_err(|e| e.to_string())
    }

    fn sees_bus(&self) -> bool {
        T::SEES_BUS
    }

    fn probe(&mut self, on: bool) {
        if on {
            self.cpu.timing.start();
        } else {
            self.cpu.timing.stop();
        }
    }

    fn accesses(&self) -> Vec<Access> {
        self.cpu.timing.accesses()
    }

    fn pending_handler(&self) -> Option<u32> {
        if !(self.board.pic.int_pending() && self.cpu.interrupts_enabled()) {
            return None;
        }
        // The vector the acknowledge will return, seen on a copy.
        let v = self.board.pic.clone().acknowledge() as u32;
        let w = |a: u32| self.board.mem_read(a) as u32 | (self.board.mem_read(a + 1) as u32) << 8;
        let (ip, cs) = (w(v * 4), w(v * 4 + 2));
        Some(self.cpu.linear(cs as u16, ip as u16))
    }

    fn take_pending_interrupt(&mut self) {
        let v = self.board.pic.acknowledge();
        self.cpu.interrupt(&mut self.board, v);
    }

    fn describe(&self) -> String {
        describe_regs(self)
    }

    fn monitor(&mut self, word: &str, arg: &str) -> Option<String> {
        Some(match word {
            "pic" => {
                let p = &self.board.pic;
                format!(
                    "PIC 8259A: IRR={:02X} ISR={:02X} IMR={:02X} lines={:02X} vector base={:02X}h{}{}\n",
                    p.irr,
                    p.isr,
                    p.imr,
                    p.lines,
                    p.vector_base,
                    if p.auto_eoi { " auto-EOI" } else { "" },
                    if p.level_triggered { " level" } else { " edge" },
                )
            }
            "pit" => {
                let pit = self.board.pit();
                let mut s = format!("PIT {}:\n", if pit.is_8254 { "8254" } else { "8253" });
                for (i, c) in pit.counters.iter().enumerate() {
                    s += &format!(
                        "  counter {i}: mode {} reload {:04X} count {:04X} out {} gate {}{}\n",
                        c.mode,
                        c.reload,
                        c.count(),
                        c.out as u8,
                        c.gate as u8,
                        if c.bcd { " BCD" } else { "" }
                    );
                }
                s
            }
            "save-state" => {
                if arg.is_empty() {
                    return Some("usage: monitor save-state FILE\n".into());
                }
                let path = std::path::PathBuf::from(arg);
                match crate::workbench::snapshot::save(self, &path) {
                    Ok(()) => format!("saved {}\n", path.display()),
                    Err(e) => format!("save-state: {e}\n"),
                }
            }
            _ => return None,
        })
    }
}

/// Little-endian bytes as a number (up to four).
pub(super) fn u32_of(bytes: &[u8]) -> u32 {
    let mut v = 0u32;
    for (i, b) in bytes.iter().take(4).enumerate() {
        v |= (*b as u32) << (8 * i);
    }
    v
}

fn set_cs_ip<T: BusProbe>(m: &mut Machine<T>, cs: u16, ip: u16) {
    let c = &mut m.cpu;
    if c.regs.seg[Seg::CS as usize] == cs && c.regs.ip == ip {
        return;
    }
    c.regs.seg[Seg::CS as usize] = cs;
    c.regs.ip = ip;
    // The prefetched bytes belong to the old stream.
    cpu::Timing::flush(&mut c.timing, cs, ip);
}
