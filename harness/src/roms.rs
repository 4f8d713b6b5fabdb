//! CPU test ROMs: 64 KiB images mapped to end at 0xFFFFF that run from reset
//! to HLT and leave their results in low memory, compared with a reference
//! dump (`res_NAME.bin`). The 80186 test set in `80186-artlav/` has this shape.

use crate::error::InputError;
use cpu::{Bus, Cpu, CpuModel, FastTiming};
use std::path::{Path, PathBuf};

/// Size every test ROM has.
pub const ROM_SIZE: usize = 0x10000;
/// Instructions after which a ROM that has not halted is declared hung.
pub const STEP_LIMIT: u64 = 1_000_000;

/// What one ROM did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RomOutcome {
    /// ROM name without `.bin`.
    pub name: String,
    /// It reached HLT within [`STEP_LIMIT`].
    pub halted: bool,
    /// Instructions executed.
    pub steps: u64,
    /// Bytes compared with the reference (0 when there is none).
    pub compared: usize,
    /// Mismatching bytes: (address, actual, expected).
    pub mismatches: Vec<(u32, u8, u8)>,
}

impl RomOutcome {
    /// Halted with memory equal to the reference.
    pub fn passed(&self) -> bool {
        self.halted && self.mismatches.is_empty()
    }

    /// Passed except for bytes that differ only in bits 4–7 at odd addresses:
    /// the high nibble of stored FLAGS words, which the 8086 always sets and
    /// the 80186 reference results have clear.
    pub fn passed_but_flags_high_nibble(&self) -> bool {
        self.halted
            && self
                .mismatches
                .iter()
                .all(|&(a, got, exp)| a % 2 == 1 && got ^ exp == 0xF0)
    }
}

struct RomBus {
    mem: Vec<u8>,
}

impl Bus for RomBus {
    fn read(&mut self, addr: u32) -> u8 {
        self.mem[(addr & 0xF_FFFF) as usize]
    }
    fn write(&mut self, addr: u32, value: u8) {
        // The ROM itself is read-only.
        if (addr & 0xF_FFFF) < 0xF_0000 {
            self.mem[(addr & 0xF_FFFF) as usize] = value;
        }
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, _port: u16, _value: u8) {}
}

/// The ROMs in `dir`: every `NAME.bin` that is not a `res_` reference, sorted.
pub fn list(dir: &Path) -> Result<Vec<String>, InputError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| InputError::file(dir, format!("cannot list: {e}")))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".bin") && !n.starts_with("res_"))
        .map(|n| n.trim_end_matches(".bin").to_string())
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(InputError::file(dir, "no test ROMs (*.bin) found"));
    }
    Ok(names)
}

fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    std::fs::read(path).map_err(|e| InputError::file(path, format!("cannot read: {e}")))
}

/// Run ROM `name` of `dir` on `model`: map it at F0000, start at F000:FFF0
/// (the reset address, with IP wrapping inside the ROM's segment as the ROMs
/// expect), run to HLT, compare memory from 0 with `res_NAME.bin` when present.
pub fn run(dir: &Path, name: &str, model: CpuModel) -> Result<RomOutcome, InputError> {
    let rom_path: PathBuf = dir.join(format!("{name}.bin"));
    let rom = read(&rom_path)?;
    if rom.len() != ROM_SIZE {
        return Err(InputError::file(
            &rom_path,
            format!(
                "a test ROM must be {ROM_SIZE} bytes, this one is {}",
                rom.len()
            ),
        ));
    }
    let res_path = dir.join(format!("res_{name}.bin"));
    let reference = if res_path.exists() {
        let r = read(&res_path)?;
        if r.len() > 0xF_0000 {
            return Err(InputError::file(
                &res_path,
                format!("reference of {} bytes overlaps the ROM", r.len()),
            ));
        }
        Some(r)
    } else {
        None
    };
    let mut bus = RomBus {
        mem: vec![0; 0x10_0000],
    };
    bus.mem[0xF_0000..].copy_from_slice(&rom);
    let mut cpu: Cpu<FastTiming> = Cpu::new(model);
    cpu.regs.seg[cpu::Seg::CS as usize] = 0xF000;
    cpu.regs.ip = 0xFFF0;
    let mut steps = 0;
    while !cpu.halted() && steps < STEP_LIMIT {
        cpu.step(&mut bus);
        steps += 1;
    }
    let mut mismatches = Vec::new();
    let compared = reference.as_ref().map_or(0, |r| r.len());
    if let Some(r) = &reference {
        for (a, &exp) in r.iter().enumerate() {
            let got = bus.mem[a];
            if got != exp {
                mismatches.push((a as u32, got, exp));
            }
        }
    }
    Ok(RomOutcome {
        name: name.to_string(),
        halted: cpu.halted(),
        steps,
        compared,
        mismatches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rom_with(code: &[u8]) -> Vec<u8> {
        let mut rom = vec![0u8; ROM_SIZE];
        rom[..code.len()].copy_from_slice(code);
        // At FFF0: JMP SHORT to offset 0 of the segment (wrapping), like the test set.
        rom[0xFFF0] = 0xEB;
        rom[0xFFF1] = 0x0E;
        rom
    }

    #[test]
    fn runs_to_hlt_and_compares() {
        let dir = tempfile::tempdir().unwrap();
        // mov word [0], 1234h ; hlt
        let rom = rom_with(&[0xC7, 0x06, 0x00, 0x00, 0x34, 0x12, 0xF4]);
        std::fs::write(dir.path().join("t.bin"), &rom).unwrap();
        std::fs::write(dir.path().join("res_t.bin"), [0x34, 0x12]).unwrap();
        let o = run(dir.path(), "t", CpuModel::I80186).unwrap();
        assert!(o.passed(), "{o:?}");
        assert_eq!(o.steps, 3);
        std::fs::write(dir.path().join("res_t.bin"), [0x34, 0x13]).unwrap();
        let o = run(dir.path(), "t", CpuModel::I80186).unwrap();
        assert_eq!(o.mismatches, vec![(1, 0x12, 0x13)]);
        assert_eq!(list(dir.path()).unwrap(), vec!["t".to_string()]);
    }

    #[test]
    fn a_rom_that_never_halts_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // jmp $ (EB FE)
        std::fs::write(dir.path().join("loop.bin"), rom_with(&[0xEB, 0xFE])).unwrap();
        let o = run(dir.path(), "loop", CpuModel::I8086).unwrap();
        assert!(!o.halted && !o.passed());
    }

    #[test]
    fn wrong_size_and_missing_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("short.bin"), [0u8; 100]).unwrap();
        let e = run(dir.path(), "short", CpuModel::I80186).unwrap_err();
        assert!(e.to_string().contains("short.bin"), "{e}");
        assert!(e.to_string().contains("65536"), "{e}");
        let e = run(dir.path(), "absent", CpuModel::I80186).unwrap_err();
        assert!(e.to_string().contains("absent.bin"), "{e}");
    }
}
