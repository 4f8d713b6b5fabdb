//! `ironpc bench`: run a boot-sector workload on a bare board and report speed.

use super::{CliError, EXIT_OK};
use clap::Args;
use cpu::{Bus, CountingTiming, Cpu, CpuModel};
use std::path::PathBuf;
use std::time::Instant;

/// The built-in workload: `harness/workloads/mix.asm` assembled with ROUNDS=20.
pub const MIX: &[u8] = include_bytes!("../../workloads/mix.bin");

/// Arguments of `ironpc bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A 512-byte boot sector to run instead of the built-in workload.
    pub image: Option<PathBuf>,
    /// Run the workload this many times.
    #[arg(long, default_value_t = 5)]
    pub repeat: u32,
    /// CPU model.
    #[arg(long, default_value = "8088")]
    pub cpu: String,
}

/// A bare board: 1 MiB of RAM, the debug console on port E9h, exit on port F4h.
struct BareBoard {
    mem: Vec<u8>,
    console: Vec<u8>,
    exit: Option<u8>,
}

impl Bus for BareBoard {
    fn read(&mut self, addr: u32) -> u8 {
        self.mem[(addr & 0xF_FFFF) as usize]
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.mem[(addr & 0xF_FFFF) as usize] = value;
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, port: u16, value: u8) {
        match port {
            0xE9 => self.console.push(value),
            0xF4 => self.exit = Some(value),
            _ => {}
        }
    }
}

/// Check that `image` is a boot sector.
pub fn check_boot_sector(path: &std::path::Path, image: &[u8]) -> Result<(), CliError> {
    if image.len() != 512 {
        return Err(CliError(format!(
            "{}: a boot sector is 512 bytes, this file has {}",
            path.display(),
            image.len()
        )));
    }
    if image[510..] != [0x55, 0xAA] {
        return Err(CliError(format!(
            "{}: no boot signature (55 AA) at offset 510",
            path.display()
        )));
    }
    Ok(())
}

/// Run the command.
pub fn run(args: &BenchArgs) -> Result<u8, CliError> {
    let model: CpuModel = args.cpu.parse().map_err(|e| CliError(format!("{e}")))?;
    let image = match &args.image {
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| CliError(format!("{}: cannot read: {e}", p.display())))?;
            check_boot_sector(p, &bytes)?;
            bytes
        }
        None => MIX.to_vec(),
    };
    let (mut instructions, mut cycles) = (0u64, 0u64);
    let start = Instant::now();
    let mut output = String::new();
    for _ in 0..args.repeat.max(1) {
        let mut board = BareBoard {
            mem: vec![0; 0x10_0000],
            console: Vec::new(),
            exit: None,
        };
        board.mem[0x7C00..0x7E00].copy_from_slice(&image);
        let mut cpu: Cpu<CountingTiming> = Cpu::new(model);
        cpu.regs.seg[cpu::Seg::CS as usize] = 0;
        cpu.regs.ip = 0x7C00;
        while board.exit.is_none() && !cpu.halted() {
            cpu.step(&mut board);
        }
        instructions += cpu.instructions;
        cycles += cpu.cycles();
        output = String::from_utf8_lossy(&board.console).into_owned();
    }
    let secs = start.elapsed().as_secs_f64();
    print!("{output}");
    println!(
        "{instructions} instructions, {cycles} cycles (counting model) in {secs:.3} s: {:.1} MIPS, {:.1} M cycles/s",
        instructions as f64 / secs / 1e6,
        cycles as f64 / secs / 1e6
    );
    Ok(EXIT_OK)
}
