//! Machine profiles: YAML files describing a machine (see
//! `docs/machine-profiles.md`).

use devices::{DriveType, VideoKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Timing models the machine knows by name: `fast`, the 8086 family's
/// per-instruction table timings, and `exact`, the cycle-exact bus model
/// (8086/8088 only).
pub const TIMING_MODELS: &[&str] = &["fast", "exact"];

fn default_timing() -> String {
    "fast".to_string()
}

fn default_video() -> VideoKind {
    VideoKind::Cga
}

fn default_ram_kib() -> u32 {
    640
}

/// CPU models an AT or PCI profile may name (the 32-bit core's models).
pub const AT_CPU_MODELS: &[&str] = &[
    "286",
    "80286",
    "386",
    "80386",
    "486",
    "80486",
    "pentium",
    "pentium-pro",
    "p6",
];

/// The kind of board a profile describes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardKind {
    /// The IBM PC/XT (the default, for the profiles written before the AT).
    #[default]
    Xt,
    /// An ISA PC/AT (286/386/486).
    At,
    /// A PCI PC: i440FX host bridge and PIIX3.
    Pci,
}

/// A machine profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineProfile {
    /// Free-form name.
    #[serde(default)]
    pub name: Option<String>,
    /// Board: `xt` (default), `at` (ISA) or `pci` (i440FX/PIIX3).
    #[serde(default)]
    pub board: BoardKind,
    /// CPU model: 8088, 8086, 80186 or 80286 on the XT; one of
    /// [`AT_CPU_MODELS`] on the AT and PCI boards.
    pub cpu: String,
    /// Timing model name (`fast` or `exact`).
    #[serde(default = "default_timing")]
    pub timing: String,
    /// Conventional memory in KiB (16–640; 640 when left out).
    #[serde(default = "default_ram_kib")]
    pub ram_kib: u32,
    /// AT/PCI: total RAM in MiB (4–2048).
    #[serde(default)]
    pub memory_mib: Option<u32>,
    /// AT/PCI: CPU clock rate in Hz (e.g. 33000000 for a 486, 200000000
    /// for a P6).
    #[serde(default)]
    pub clock_hz: Option<u64>,
    /// AT/PCI: the VGA BIOS, mapped at C0000h. A bare file name is looked
    /// up like the BIOS (see `chipset::at::firmware`).
    #[serde(default)]
    pub vga_bios: Option<PathBuf>,
    /// AT/PCI: raw hard-disk image for the primary master.
    #[serde(default)]
    pub hda: Option<PathBuf>,
    /// AT/PCI: write the guest's changes to `hda` itself (like a writable
    /// floppy); otherwise they stay in an in-memory overlay.
    #[serde(default)]
    pub hda_writable: bool,
    /// AT/PCI: ISO image for the CD-ROM (secondary master).
    #[serde(default)]
    pub cdrom: Option<PathBuf>,
    /// AT/PCI: boot order as drive letters, QEMU style (`a` floppy, `c`
    /// hard disk, `d` CD-ROM), e.g. `cda`.
    #[serde(default)]
    pub boot: Option<String>,
    /// AT/PCI: RTC time at power-on: `host` for the host's clock (UTC), or
    /// `YYYY-MM-DD HH:MM:SS`. Left out: 2000-01-01 00:00:00, so that runs
    /// are reproducible.
    #[serde(default)]
    pub rtc: Option<String>,
    /// BIOS ROM image; mapped so that it ends at FFFFFh. Relative paths are
    /// relative to the profile's directory.
    pub bios: PathBuf,
    /// Display adapter: `cga` or `mda`.
    #[serde(default = "default_video")]
    pub video: VideoKind,
    /// Floppy drives, A: first.
    #[serde(default)]
    pub floppies: Vec<FloppyDrive>,
    /// Extra ROMs (option ROMs, BASIC) at fixed addresses.
    #[serde(default)]
    pub roms: Vec<RomImage>,
    /// Use an 8254 (with the read-back command) instead of an 8253.
    #[serde(default)]
    pub pit_8254: bool,
    /// A numeric coprocessor in the socket beside the CPU. XT: an 8087
    /// (or an 80287 beside an 80286), reported by switch 2 of SW1 and
    /// interrupting through NMI. AT and PCI boards: an 80287 beside a
    /// `286` or an 80387 beside a `386` (the 486 and later have their
    /// own), reported in CMOS byte 14h and raising IRQ 13 until port F0h
    /// is written.
    #[serde(default)]
    pub coprocessor: bool,
}

/// One floppy drive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloppyDrive {
    /// Drive type: `360k`, `1.2m`, `720k` or `1.44m`. An inserted image of
    /// a standard size decides the type instead, unless `pin` is set.
    #[serde(rename = "type")]
    pub kind: DriveType,
    /// Keep `type` whatever image is inserted.
    #[serde(default)]
    pub pin: bool,
    /// Raw image inserted at power-on.
    #[serde(default)]
    pub image: Option<PathBuf>,
    /// Write changes back to the image file (else they stay in memory).
    #[serde(default)]
    pub writable: bool,
}

/// A ROM image at a fixed physical address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RomImage {
    /// The file.
    pub path: PathBuf,
    /// Physical load address.
    pub address: u32,
}

/// Errors building a machine.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// The profile could not be read.
    #[error("cannot read machine profile {path}: {source}")]
    ProfileIo {
        /// The profile file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The profile is not valid YAML for the format.
    #[error("invalid machine profile {path}: {message}")]
    ProfileParse {
        /// The profile file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value in the profile is out of range.
    #[error("invalid machine profile {path}: {message}")]
    ProfileValue {
        /// The profile file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A ROM file could not be read.
    #[error("cannot read ROM image {path}: {source}")]
    RomIo {
        /// The ROM file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A ROM has an unusable size.
    #[error("ROM image {path} is {size} bytes; {expected}")]
    RomSize {
        /// The ROM file.
        path: PathBuf,
        /// Its size.
        size: usize,
        /// What was expected.
        expected: String,
    },
    /// A disk image could not be used.
    #[error(transparent)]
    Disk(#[from] devices::DiskError),
    /// A hard-disk or CD-ROM image could not be used.
    #[error(transparent)]
    Image(#[from] devices::ImageError),
    /// A firmware image (BIOS, VGA BIOS) was not found.
    #[error(transparent)]
    Firmware(#[from] crate::at::FirmwareMissing),
    /// The AT board refused its configuration or an image.
    #[error("{path}: {source}")]
    Board {
        /// The file concerned (the BIOS or an option ROM).
        path: PathBuf,
        /// What the board said.
        source: crate::at::AtError,
    },
    /// An override names a drive the machine does not have.
    #[error("machine has {drives} floppy drive(s); cannot insert {path} in drive {drive}")]
    NoSuchDrive {
        /// Drive index.
        drive: usize,
        /// Drives in the machine.
        drives: usize,
        /// The image.
        path: PathBuf,
    },
}

impl MachineProfile {
    /// Parse a profile from YAML text (`path` is used in messages).
    pub fn parse(text: &str, path: &Path) -> Result<MachineProfile, MachineError> {
        let p: MachineProfile =
            serde_yaml::from_str(text).map_err(|e| MachineError::ProfileParse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        p.validate(path)?;
        Ok(p)
    }

    /// Read and parse a profile file.
    pub fn load(path: &Path) -> Result<MachineProfile, MachineError> {
        let text = std::fs::read_to_string(path).map_err(|source| MachineError::ProfileIo {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Check values that YAML types cannot.
    pub fn validate(&self, path: &Path) -> Result<(), MachineError> {
        let bad = |message: String| MachineError::ProfileValue {
            path: path.to_path_buf(),
            message,
        };
        if self.board != BoardKind::Xt {
            // A socket for an 80287 or 80387 exists beside a 286 or 386
            // only; later CPUs have the FPU on the chip.
            let cpu = self.cpu.trim();
            if self.coprocessor && !matches!(cpu, "286" | "80286" | "386" | "80386") {
                return Err(bad(format!(
                    "coprocessor: is for a 286 or 386 (an 80287/80387 in the socket); the {cpu} decides its own FPU"
                )));
            }
            return self.validate_at(path);
        }
        self.cpu
            .parse::<cpu::CpuModel>()
            .map_err(|e| bad(e.to_string()))?;
        if !TIMING_MODELS.contains(&self.timing.as_str()) {
            return Err(bad(format!(
                "unknown timing model '{}' (known: {})",
                self.timing,
                TIMING_MODELS.join(", ")
            )));
        }
        if self.timing == "exact"
            && !matches!(
                self.cpu.parse::<cpu::CpuModel>(),
                Ok(cpu::CpuModel::I8086 | cpu::CpuModel::I8088)
            )
        {
            return Err(bad(format!(
                "the exact timing model is for the 8086/8088 only, not the {}",
                self.cpu
            )));
        }
        if !(16..=640).contains(&self.ram_kib) {
            return Err(bad(format!(
                "ram_kib {} out of range (16 to 640)",
                self.ram_kib
            )));
        }
        if self.floppies.len() > 4 {
            return Err(bad(format!(
                "{} floppy drives (at most 4)",
                self.floppies.len()
            )));
        }
        Ok(())
    }
}

impl MachineProfile {
    fn validate_at(&self, path: &Path) -> Result<(), MachineError> {
        let bad = |message: String| MachineError::ProfileValue {
            path: path.to_path_buf(),
            message,
        };
        let cpu = self.cpu.trim().to_ascii_lowercase();
        if !AT_CPU_MODELS.contains(&cpu.as_str()) {
            return Err(bad(format!(
                "unknown CPU model '{}' for the {:?} board (known: {})",
                self.cpu,
                self.board,
                AT_CPU_MODELS.join(", ")
            )));
        }
        if self.timing != "fast" {
            return Err(bad(format!(
                "the {} timing model is for the 8086/8088 only, not the {}",
                self.timing, self.cpu
            )));
        }
        let mib = self.memory_mib.unwrap_or(16);
        if !(4..=2048).contains(&mib) {
            return Err(bad(format!("memory_mib {mib} out of range (4 to 2048)")));
        }
        if let Some(hz) = self.clock_hz {
            if !(1_000_000..=10_000_000_000).contains(&hz) {
                return Err(bad(format!("clock_hz {hz} out of range (1 MHz to 10 GHz)")));
            }
        }
        if let Some(b) = &self.boot {
            if b.is_empty() || b.len() > 3 || !b.chars().all(|c| matches!(c, 'a' | 'c' | 'd')) {
                return Err(bad(format!(
                    "boot '{b}': give up to three of the drive letters a, c, d"
                )));
            }
        }
        if let Some(r) = &self.rtc {
            if r != "host" && devices::RtcTime::parse(r).is_none() {
                return Err(bad(format!(
                    "rtc '{r}': expected 'host' or 'YYYY-MM-DD HH:MM:SS'"
                )));
            }
        }
        if self.floppies.len() > 2 {
            return Err(bad(format!(
                "{} floppy drives (at most 2 on the AT)",
                self.floppies.len()
            )));
        }
        Ok(())
    }

    /// The RTC start time: the profile's fixed time, the host clock for
    /// `host`, else 2000-01-01 00:00:00.
    pub fn rtc_start(&self) -> devices::RtcTime {
        match self.rtc.as_deref() {
            Some("host") => devices::RtcTime::host_now(),
            Some(t) => devices::RtcTime::parse(t).unwrap_or_default(),
            None => devices::RtcTime::default(),
        }
    }
}

impl FloppyDrive {
    /// The drive type to build: the one a standard-size image needs (a
    /// 160K–360K image a 360K drive, 720K, 1.2M or 1.44M its own), unless
    /// the profile pins the type or there is no such image; `image_size`
    /// is the inserted image's size in bytes.
    pub fn effective_kind(&self, image_size: Option<u64>) -> DriveType {
        if self.pin {
            return self.kind;
        }
        match image_size.map(|s| s / 1024) {
            Some(160 | 180 | 320 | 360) => DriveType::D360,
            Some(720) => DriveType::D720,
            Some(1200) => DriveType::D1200,
            Some(1440) => DriveType::D1440,
            _ => self.kind,
        }
    }
}

/// Changes applied on top of a profile.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Replace the BIOS image.
    pub bios: Option<PathBuf>,
    /// Replace the RAM size.
    pub ram_kib: Option<u32>,
    /// Replace the display adapter.
    pub video: Option<VideoKind>,
    /// Insert images: (drive index, image path).
    pub floppies: Vec<(usize, PathBuf)>,
    /// Open every inserted image writable.
    pub writable: bool,
    /// Replace the timing model.
    pub timing: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const XT: &str = "
cpu: '8088'
timing: fast
ram_kib: 640
bios: bios.rom
video: mda
floppies:
  - type: 360k
    image: a.img
  - type: 1.44m
";

    #[test]
    fn parses_profile() {
        let p = MachineProfile::parse(XT, Path::new("xt.yaml")).unwrap();
        assert_eq!(p.ram_kib, 640);
        assert_eq!(p.video, VideoKind::Mda);
        assert_eq!(p.floppies.len(), 2);
        assert_eq!(p.floppies[0].kind, DriveType::D360);
        assert_eq!(p.floppies[1].kind, DriveType::D1440);
        assert_eq!(p.floppies[0].image.as_deref(), Some(Path::new("a.img")));
    }

    #[test]
    fn unknown_field_is_an_error_naming_the_file() {
        let e = MachineProfile::parse(&format!("{XT}colour: blue\n"), Path::new("my.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("my.yaml") && e.contains("colour"), "{e}");
    }

    #[test]
    fn bad_values() {
        let e = MachineProfile::parse(&XT.replace("8088", "z80"), Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("z80"), "{e}");
        let e = MachineProfile::parse(&XT.replace("640", "2048"), Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ram_kib"), "{e}");
        let e = MachineProfile::parse(
            &XT.replace("timing: fast", "timing: exact9"),
            Path::new("p.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exact9"), "{e}");
        assert!(MachineProfile::load(Path::new("/no/such/profile.yaml"))
            .unwrap_err()
            .to_string()
            .contains("/no/such/profile.yaml"));
    }
}
