//! The AT/PC under the debugger: the i386 view of the 32-bit core
//! (`target32.xml`). EIP is the real EIP; breakpoints and gdb's memory
//! accesses use linear addresses (CS base + EIP), translated through the
//! page tables as they stand.

use super::le32;
use super::target::{u32_of, Target};
use chipset::at::pc::AtPc;

/// The AT/PC's target description.
pub const TARGET32_XML: &str = include_str!("target32.xml");

/// Cpu32's segment order (ES, CS, SS, DS, FS, GS) for gdb's cs ss ds es fs gs.
const GDB_SEGS: [usize; 6] = [1, 2, 3, 0, 4, 5];

impl Target for AtPc {
    fn target_xml(&self) -> &'static str {
        TARGET32_XML
    }

    fn pc(&self) -> u32 {
        let c = &self.run.cpu;
        c.seg[1].base.wrapping_add(c.eip)
    }

    fn set_pc(&mut self, addr: u32) {
        let c = &mut self.run.cpu;
        c.eip = addr.wrapping_sub(c.seg[1].base);
    }

    fn reg(&self, n: usize) -> Option<Vec<u8>> {
        let c = &self.run.cpu;
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
        let c = &mut self.run.cpu;
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
        let run = &mut self.run;
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
        let run = &mut self.run;
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
            .map(|i| self.run.board.mem_read(addr.wrapping_add(i)))
            .collect()
    }

    fn exit_request(&self) -> Option<i32> {
        self.run.board.debug.exit
    }

    fn halted(&self) -> bool {
        self.run.cpu.halted()
    }

    fn step(&mut self) {
        self.run.step();
    }

    fn instructions(&self) -> u64 {
        self.run.cpu.instructions()
    }

    fn cycles(&self) -> (u64, f64) {
        (self.run.now(), self.run.board.config.clock_hz as f64)
    }

    fn screen_text(&self) -> String {
        self.vga.borrow().screen_text()
    }

    fn type_keys(&mut self, keys: &str) -> Result<(), String> {
        self.run.board.type_keys(keys).map_err(|e| e.to_string())
    }

    fn describe(&self) -> String {
        let c = &self.run.cpu;
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

    fn monitor(&mut self, word: &str, _arg: &str) -> Option<String> {
        match word {
            "post" => Some(format!(
                "last POST code {:02X}h\n",
                self.run.board.post_code
            )),
            _ => None,
        }
    }
}
