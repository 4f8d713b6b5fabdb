//! The AT/PC under the debugger: the i386 view of the 32-bit core
//! (`target32.xml`). EIP is the real EIP; breakpoints and gdb's memory
//! accesses use linear addresses (CS base + EIP), translated through the
//! page tables as they stand.

use super::le32;
use super::target::{u32_of, Target};
use crate::workbench::Access;
use chipset::at::pc::AtPc;
use cpu::ia32::disasm::{self, Decoder};
use cpu::ia32::{Cpu32, SegCache};

/// The AT/PC's target description.
pub const TARGET32_XML: &str = include_str!("target32.xml");

/// Cpu32's segment order (ES, CS, SS, DS, FS, GS) for gdb's cs ss ds es fs gs.
const GDB_SEGS: [usize; 6] = [1, 2, 3, 0, 4, 5];

/// An AT/PC under the debugger: the machine, and what the stub needs
/// beside it (the memory operands of the last step, for read and access
/// watchpoints).
pub struct AtGdb<'a> {
    /// The machine.
    pub pc: &'a mut AtPc,
    probing: bool,
    last: Vec<Access>,
    decoder: Decoder,
}

impl<'a> AtGdb<'a> {
    /// Debug `pc`.
    pub fn new(pc: &'a mut AtPc) -> AtGdb<'a> {
        let decoder = Decoder::new(pc.run.cpu.model());
        AtGdb {
            pc,
            probing: false,
            last: Vec::new(),
            decoder,
        }
    }

    /// The memory the instruction at CS:EIP reads and writes through its
    /// operands, as [`disasm::memory_operands`] finds them from the
    /// registers now (linear addresses).
    fn next_operands(&mut self) -> Vec<Access> {
        let run = &mut self.pc.run;
        let lin = run.cpu.seg[1].base.wrapping_add(run.cpu.eip);
        let mut bytes = Vec::with_capacity(15);
        for i in 0..15u32 {
            match run
                .cpu
                .linear_to_physical(&mut run.board, lin.wrapping_add(i))
            {
                Some(p) => bytes.push(run.board.mem_read(p)),
                None => break,
            }
        }
        let Ok(insn) = self.decoder.decode(&bytes, disasm::code32(&run.cpu)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in disasm::memory_operands(&run.cpu, &insn) {
            // Watches are at most 64 bytes: an FXSAVE area is matched
            // in pieces of 255 bytes at most (Access::width is a byte).
            let mut done = 0;
            while done < m.len {
                let w = (m.len - done).min(255);
                let address = m.linear.wrapping_add(done);
                if m.read {
                    out.push(Access {
                        address,
                        width: w as u8,
                        write: false,
                        io: false,
                    });
                }
                if m.write {
                    out.push(Access {
                        address,
                        width: w as u8,
                        write: true,
                        io: false,
                    });
                }
                done += w;
            }
        }
        out
    }
}

impl Target for AtGdb<'_> {
    fn target_xml(&self) -> &'static str {
        TARGET32_XML
    }

    fn pc(&self) -> u32 {
        let c = &self.pc.run.cpu;
        c.seg[1].base.wrapping_add(c.eip)
    }

    fn set_pc(&mut self, addr: u32) {
        let c = &mut self.pc.run.cpu;
        c.eip = addr.wrapping_sub(c.seg[1].base);
    }

    fn reg(&self, n: usize) -> Option<Vec<u8>> {
        let c = &self.pc.run.cpu;
        let fpu = || c.save_state().fpu;
        Some(match n {
            0..=7 => le32(c.r[n]).to_vec(),
            8 => le32(c.eip).to_vec(),
            9 => le32(c.eflags()).to_vec(),
            10..=15 => le32(c.seg[GDB_SEGS[n - 10]].sel as u32).to_vec(),
            16..=23 => match fpu() {
                Some(f) => {
                    let top = ((f.sw >> 11) & 7) as usize;
                    f.regs[(top + n - 16) & 7].to_bytes().to_vec()
                }
                None => vec![0; 10],
            },
            24..=31 => {
                let v = match fpu() {
                    Some(f) => match n {
                        24 => f.cw as u32,
                        25 => f.sw as u32,
                        26 => f.tw as u32,
                        27 => f.fcs as u32,
                        28 => f.fip,
                        29 => f.fds as u32,
                        30 => f.fdp,
                        _ => f.fop as u32,
                    },
                    None if n == 24 => 0x037F,
                    None => 0,
                };
                le32(v).to_vec()
            }
            _ => return None,
        })
    }

    fn set_reg(&mut self, n: usize, bytes: &[u8]) -> bool {
        let v = u32_of(bytes);
        let c = &mut self.pc.run.cpu;
        match n {
            0..=7 => c.r[n] = v,
            8 => c.eip = v,
            9 => c.set_flags_for_test(v),
            // A selector alone is loaded only where it means its base
            // (real and virtual-8086 mode); a descriptor load is not done.
            10..=15 if !c.protected() || c.v86() => {
                let s = &mut c.seg[GDB_SEGS[n - 10]];
                s.sel = v as u16;
                s.base = (v & 0xFFFF) << 4;
            }
            10..=15 => return false,
            // The x87 registers are read-only here.
            16..=31 => {}
            _ => return false,
        }
        true
    }

    fn read_mem(&mut self, addr: u32, len: u32) -> Vec<u8> {
        let run = &mut self.pc.run;
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            match run
                .cpu
                .linear_to_physical(&mut run.board, addr.wrapping_add(i))
            {
                Some(p) => out.push(run.board.mem_read(p)),
                // gdb takes a short read as the end of what is readable.
                None => break,
            }
        }
        out
    }

    fn write_mem(&mut self, addr: u32, data: &[u8]) {
        let run = &mut self.pc.run;
        for (i, &b) in data.iter().enumerate() {
            if let Some(p) = run
                .cpu
                .linear_to_physical(&mut run.board, addr.wrapping_add(i as u32))
            {
                cpu::Bus::write(&mut run.board, p, b);
                run.cpu.invalidate_code(p, 1);
            }
        }
    }

    fn read_phys(&mut self, addr: u32, len: u32) -> Vec<u8> {
        (0..len)
            .map(|i| self.pc.run.board.mem_read(addr.wrapping_add(i)))
            .collect()
    }

    fn exit_request(&self) -> Option<i32> {
        self.pc.run.board.debug.exit
    }

    fn halted(&self) -> bool {
        self.pc.run.cpu.halted()
    }

    fn operand_reads(&self) -> bool {
        true
    }

    fn probe(&mut self, on: bool) {
        self.probing = on;
        self.last.clear();
    }

    fn accesses(&self) -> Vec<Access> {
        self.last.clone()
    }

    fn step(&mut self) {
        if self.probing {
            // Interrupts the step takes first are not seen: what is
            // listed is the instruction at CS:EIP.
            self.last = self.next_operands();
        }
        self.pc.run.step();
    }

    fn instructions(&self) -> u64 {
        self.pc.run.cpu.instructions()
    }

    fn cycles(&self) -> (u64, f64) {
        (self.pc.run.now(), self.pc.run.board.config.clock_hz as f64)
    }

    fn screen_text(&self) -> String {
        self.pc.vga.borrow().screen_text()
    }

    fn type_keys(&mut self, keys: &str) -> Result<(), String> {
        self.pc.run.board.type_keys(keys).map_err(|e| e.to_string())
    }

    fn describe(&self) -> String {
        let c = &self.pc.run.cpu;
        let r = c.regs();
        let mode = if c.v86() {
            "virtual-8086"
        } else if c.protected() {
            "protected"
        } else {
            "real"
        };
        format!(
            "EAX={:08X} EBX={:08X} ECX={:08X} EDX={:08X}\n\
             ESP={:08X} EBP={:08X} ESI={:08X} EDI={:08X}\n\
             CS:EIP={:04X}:{:08X} (linear {:08X}) SS={:04X} DS={:04X} ES={:04X} FS={:04X} GS={:04X}\n\
             EFLAGS={:08X} CR0={:08X} CPL={} {mode} mode{}\n",
            r.r[0],
            r.r[3],
            r.r[1],
            r.r[2],
            r.r[4],
            r.r[5],
            r.r[6],
            r.r[7],
            r.sel[1],
            r.eip,
            self.pc(),
            r.sel[2],
            r.sel[3],
            r.sel[0],
            r.sel[4],
            r.sel[5],
            r.eflags,
            r.cr0,
            r.cpl,
            if c.halted() { " halted" } else { "" }
        )
    }

    fn monitor(&mut self, word: &str, arg: &str) -> Option<String> {
        let run = &mut self.pc.run;
        Some(match word {
            "post" => format!("last POST code {:02X}h\n", run.board.post_code),
            "pic" => {
                let mut s = String::new();
                for (name, p) in [
                    ("master", &run.board.pics.master),
                    ("slave", &run.board.pics.slave),
                ] {
                    s += &format!(
                        "PIC 8259A {name}: IRR={:02X} ISR={:02X} IMR={:02X} lines={:02X} vector base={:02X}h{}{}\n",
                        p.irr,
                        p.isr,
                        p.imr,
                        p.lines,
                        p.vector_base,
                        if p.auto_eoi { " auto-EOI" } else { "" },
                        if p.level_triggered { " level" } else { " edge" },
                    );
                }
                s
            }
            "pit" => {
                let pit = &run.board.pit;
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
            "sregs" | "cr" => system_registers(&run.cpu),
            "translate" => match super::parse_num(arg) {
                Some(lin) => translate(&run.cpu, &mut run.board, lin),
                None => "usage: monitor translate LINEAR (hex with 0x, or decimal)\n".into(),
            },
            "save-state" => save_state(self.pc, arg),
            _ => return None,
        })
    }
}

/// `monitor save-state FILE` on the AT/PC: an AT snapshot
/// (`workbench::atsnap`), loadable with `ironpc run --load-state FILE`.
pub fn save_state(pc: &mut AtPc, path: &str) -> String {
    if path.is_empty() {
        return "usage: monitor save-state FILE\n".into();
    }
    match crate::workbench::atsnap::save(pc, std::path::Path::new(path)) {
        Ok(()) => format!("saved {path}\n"),
        Err(e) => format!("save-state: {e}\n"),
    }
}

/// One segment register's descriptor cache.
fn seg_line(name: &str, c: &SegCache) -> String {
    format!(
        "{name:<4} sel={:04X} base={:08X} limit={:08X} attr={:04X}{}{}\n",
        c.sel,
        c.base,
        c.limit,
        c.attr,
        if c.valid { "" } else { " (null)" },
        if c.valid && c.attr & 0x10 != 0 {
            format!(
                " dpl={} {}{}{}",
                c.dpl(),
                if c.is_code() { "code" } else { "data" },
                if c.big() { " 32-bit" } else { " 16-bit" },
                if c.present() { "" } else { " not-present" }
            )
        } else {
            String::new()
        }
    )
}

/// Control, debug and descriptor-table registers and the segment
/// descriptor caches (`monitor sregs`).
fn system_registers(c: &Cpu32) -> String {
    let mut s = format!(
        "CR0={:08X} [{}] CR2={:08X} CR3={:08X} CR4={:08X}\n",
        c.cr[0],
        cr0_bits(c.cr[0]),
        c.cr[2],
        c.cr[3],
        c.cr[4]
    );
    s += &format!(
        "GDTR base={:08X} limit={:04X}  IDTR base={:08X} limit={:04X}\n",
        c.gdtr.0, c.gdtr.1, c.idtr.0, c.idtr.1
    );
    s += &format!(
        "DR0={:08X} DR1={:08X} DR2={:08X} DR3={:08X} DR6={:08X} DR7={:08X}\n",
        c.dr[0], c.dr[1], c.dr[2], c.dr[3], c.dr[6], c.dr[7]
    );
    for (name, k) in [
        ("es", 0),
        ("cs", 1),
        ("ss", 2),
        ("ds", 3),
        ("fs", 4),
        ("gs", 5),
    ] {
        s += &seg_line(name, &c.seg[k]);
    }
    s += &seg_line("ldtr", &c.ldtr);
    s += &seg_line("tr", &c.tr);
    s
}

/// The set CR0 flags by name.
fn cr0_bits(v: u32) -> String {
    const NAMES: [(u32, &str); 11] = [
        (0, "PE"),
        (1, "MP"),
        (2, "EM"),
        (3, "TS"),
        (4, "ET"),
        (5, "NE"),
        (16, "WP"),
        (18, "AM"),
        (29, "NW"),
        (30, "CD"),
        (31, "PG"),
    ];
    let set: Vec<&str> = NAMES
        .iter()
        .filter(|(b, _)| v >> b & 1 != 0)
        .map(|(_, n)| *n)
        .collect();
    set.join(" ")
}

/// The page-table walk of a linear address (`monitor translate`), read
/// from memory as it is now (no TLB, no accessed bits set).
fn translate(c: &Cpu32, bus: &mut impl cpu::Bus, lin: u32) -> String {
    let mut s = format!("linear {lin:08X}: ");
    if c.cr[0] & 0x8000_0000 == 0 {
        let phys = c.linear_to_physical(bus, lin);
        s += &format!("paging off, physical {:08X}\n", phys.unwrap_or(lin));
        return s;
    }
    let rd = |bus: &mut dyn cpu::Bus, a: u32| {
        u32::from_le_bytes([0, 1, 2, 3].map(|i| bus.read(a.wrapping_add(i))))
    };
    let pde_at = (c.cr[3] & !0xFFF) | (lin >> 22) << 2;
    let pde = rd(bus, pde_at);
    s += &format!(
        "\n  CR3={:08X} PDE[{:03X}] at {pde_at:08X} = {pde:08X} {}\n",
        c.cr[3],
        lin >> 22,
        pte_bits(pde)
    );
    if pde & 1 == 0 {
        s += "  not present (page fault)\n";
        return s;
    }
    if pde & 0x80 != 0 && c.cr[4] & 0x10 != 0 {
        let phys = (pde & 0xFFC0_0000) | (lin & 0x003F_FFFF);
        s += &format!("  4 MiB page: physical {phys:08X}\n");
        return s;
    }
    let pte_at = (pde & !0xFFF) | ((lin >> 12) & 0x3FF) << 2;
    let pte = rd(bus, pte_at);
    s += &format!(
        "  PTE[{:03X}] at {pte_at:08X} = {pte:08X} {}\n",
        (lin >> 12) & 0x3FF,
        pte_bits(pte)
    );
    if pte & 1 == 0 {
        s += "  not present (page fault)\n";
        return s;
    }
    s += &format!("  physical {:08X}\n", (pte & !0xFFF) | (lin & 0xFFF));
    s
}

/// A page directory or table entry's flags.
fn pte_bits(e: u32) -> String {
    let f = |bit: u32, on: &str, off: &str| if e >> bit & 1 != 0 { on } else { off }.to_string();
    [
        f(0, "P", "-"),
        f(1, "W", "R"),
        f(2, "U", "S"),
        f(5, "A", "-"),
        f(6, "D", "-"),
        f(7, "PS", ""),
        f(8, "G", ""),
    ]
    .join(" ")
    .trim_end()
    .to_string()
}
