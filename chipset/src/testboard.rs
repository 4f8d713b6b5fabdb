//! A bare test board for the ia32 core: RAM, one ROM mapped below 1 MiB and
//! at the top of 4 GiB, a POST port and a debug output port; everything
//! else is open bus (reads all ones, writes ignored). It runs CPU testers
//! such as test386.asm, which use nothing else.

use cpu::ia32::{Cpu32, Model32, StepResult32};
use cpu::Bus;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The test board's machine profile (`board: test386`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestBoardProfile {
    /// Free-form name.
    #[serde(default)]
    pub name: Option<String>,
    /// Must be `test386`.
    pub board: String,
    /// CPU model: `80286`, `80386`, `80486`, `pentium` or `pentium-pro`.
    pub cpu: String,
    /// RAM in KiB from address 0 (at least 1024).
    pub ram_kib: u32,
    /// ROM image (64 or 128 KiB); relative paths are relative to the profile.
    pub bios: PathBuf,
    /// POST code port.
    #[serde(default = "default_post")]
    pub post_port: u16,
    /// Debug output port.
    #[serde(default = "default_debug")]
    pub debug_port: u16,
}

fn default_post() -> u16 {
    0x190
}
fn default_debug() -> u16 {
    0xE9
}

impl TestBoardProfile {
    /// Read a profile; errors name the file and the problem.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut p: TestBoardProfile =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if p.board != "test386" {
            return Err(format!(
                "{}: unknown board '{}' (known: test386)",
                path.display(),
                p.board
            ));
        }
        parse_model(&p.cpu).map_err(|e| format!("{}: {e}", path.display()))?;
        if p.ram_kib < 1024 || p.ram_kib > 1024 * 1024 {
            return Err(format!(
                "{}: ram_kib {} out of range (1024 to 1048576)",
                path.display(),
                p.ram_kib
            ));
        }
        if p.bios.is_relative() {
            if let Some(dir) = path.parent() {
                p.bios = dir.join(&p.bios);
            }
        }
        Ok(p)
    }

    /// True if the YAML file at `path` describes a test board.
    pub fn is_test_board(path: &Path) -> bool {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_yaml::from_str::<serde_yaml::Value>(&t).ok())
            .and_then(|v| {
                v.get("board")
                    .and_then(|b| b.as_str())
                    .map(|s| s == "test386")
            })
            .unwrap_or(false)
    }
}

/// `80286`, `80386`, `80486`, `pentium` or `pentium-pro` as a model.
pub fn parse_model(s: &str) -> Result<Model32, String> {
    Model32::from_name(s).ok_or_else(|| {
        format!("unknown 32-bit CPU model '{s}' (known: 80286, 80386, 80486, pentium, pentium-pro)")
    })
}

/// The board's memory and ports.
pub struct TestBoard {
    ram: Vec<u8>,
    rom: Vec<u8>,
    rom_low: u32,
    rom_high: u32,
    post_port: u16,
    debug_port: u16,
    /// POST codes in the order written.
    pub post: Vec<u8>,
    /// Bytes written to the debug port.
    pub out: Vec<u8>,
}

impl TestBoard {
    /// A board with `ram_kib` of RAM and `rom` mapped to end at 1 MiB and at 4 GiB.
    pub fn new(
        ram_kib: u32,
        rom: Vec<u8>,
        post_port: u16,
        debug_port: u16,
    ) -> Result<Self, String> {
        let len = rom.len();
        if len == 0 || len > 0x40000 || !len.is_power_of_two() {
            return Err(format!(
                "ROM size {len} bytes: must be a power of two up to 256 KiB"
            ));
        }
        Ok(TestBoard {
            ram: vec![0; ram_kib as usize * 1024],
            rom_low: 0x10_0000 - len as u32,
            rom_high: (0x1_0000_0000u64 - len as u64) as u32,
            rom,
            post_port,
            debug_port,
            post: Vec::new(),
            out: Vec::new(),
        })
    }

    /// The last POST code written.
    pub fn last_post(&self) -> Option<u8> {
        self.post.last().copied()
    }
}

impl Bus for TestBoard {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        if addr >= self.rom_high {
            return self.rom[(addr - self.rom_high) as usize];
        }
        if (self.rom_low..0x10_0000).contains(&addr) {
            return self.rom[(addr - self.rom_low) as usize];
        }
        self.ram.get(addr as usize).copied().unwrap_or(0xFF)
    }
    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        if (self.rom_low..0x10_0000).contains(&addr) {
            return;
        }
        if let Some(b) = self.ram.get_mut(addr as usize) {
            *b = value;
        }
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let end = addr.checked_add(len)?;
        // Plain RAM only: not the ROM's windows below 1 MiB and below 4 GiB.
        let clear_of_rom = end <= self.rom_low || addr >= 0x10_0000;
        if !clear_of_rom || end > self.rom_high {
            return None;
        }
        self.ram.get_mut(addr as usize..end as usize)
    }
    /// The RAM, unless the ROM's top window reaches down into it (the
    /// ROM's low window lies in `DIRECT_HOLE`).
    #[inline]
    fn ram_direct(&mut self) -> &mut [u8] {
        if self.rom_low >= cpu::bus::DIRECT_HOLE.start
            && self.ram.len() as u64 <= self.rom_high as u64
        {
            &mut self.ram
        } else {
            &mut []
        }
    }
    /// Only the CPU writes this RAM (it is private, with no alias: every
    /// address reaches at most one byte), so the CPU may trust the code it
    /// has checked until it writes there itself.
    fn ram_generation(&self) -> Option<u64> {
        Some(0)
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, port: u16, value: u8) {
        if port == self.post_port {
            self.post.push(value);
        } else if port == self.debug_port {
            self.out.push(value);
        }
    }
}

/// How a test-board run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestEnd {
    /// POST FFh was written.
    Done,
    /// The CPU halted with interrupts off (a failed test).
    Halted,
    /// Triple fault.
    Shutdown,
    /// The instruction budget ran out.
    Budget,
}

/// Run `cpu` on `board` until POST FF, a halt, shutdown or `max` instructions.
pub fn run_test(
    cpu: &mut Cpu32,
    board: &mut TestBoard,
    max: u64,
    mut on_post: impl FnMut(u8),
) -> TestEnd {
    let mut seen = 0;
    let mut n = 0u64;
    while n < max {
        let r = cpu.run(board, 10_000);
        n += 10_000;
        while seen < board.post.len() {
            on_post(board.post[seen]);
            seen += 1;
        }
        if board.last_post() == Some(0xFF) {
            return TestEnd::Done;
        }
        match r {
            StepResult32::Shutdown => return TestEnd::Shutdown,
            StepResult32::Halted => return TestEnd::Halted,
            StepResult32::Executed => {}
        }
    }
    TestEnd::Budget
}
