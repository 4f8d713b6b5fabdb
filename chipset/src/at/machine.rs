//! Building an AT or PCI board from a machine profile: firmware lookup,
//! RAM, clock, RTC start time, floppy drives and the boot order.

use super::board::{AtBoard, AtConfig};
use super::firmware::find_firmware_env;
use crate::profile::{BoardKind, MachineError, MachineProfile};
use devices::cmos::BootDevice;
use devices::FloppyImage;
use std::path::{Path, PathBuf};

/// The default clock rate for a CPU model when the profile gives none.
pub fn default_clock_hz(cpu: &str) -> u64 {
    match cpu.trim().to_ascii_lowercase().as_str() {
        "286" | "80286" => 12_000_000,
        "386" | "80386" => 25_000_000,
        "486" | "80486" => 33_000_000,
        "pentium" => 100_000_000,
        _ => 200_000_000,
    }
}

/// The boot order of a QEMU-style drive-letter string.
pub fn boot_order(letters: &str) -> Vec<BootDevice> {
    letters
        .chars()
        .filter_map(|c| match c {
            'a' => Some(BootDevice::Floppy),
            'c' => Some(BootDevice::HardDisk),
            'd' => Some(BootDevice::Cdrom),
            _ => None,
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, MachineError> {
    std::fs::read(path).map_err(|source| MachineError::RomIo {
        path: path.to_path_buf(),
        source,
    })
}

/// A built AT machine's board, and the firmware files it used.
pub struct AtMachine {
    /// The board, ready for a CPU to start at the reset vector.
    pub board: AtBoard,
    /// The BIOS image used.
    pub bios: PathBuf,
    /// The VGA BIOS image used, if any.
    pub vga_bios: Option<PathBuf>,
}

/// Build the board of an AT or PCI profile. Relative paths are relative to
/// `base` (the profile's directory); bare firmware names are looked up in
/// `$IRONPC_FIRMWARE` and Debian's directories.
pub fn build_at(profile: &MachineProfile, base: &Path) -> Result<AtMachine, MachineError> {
    let name = PathBuf::from(profile.name.clone().unwrap_or_else(|| "profile".into()));
    profile.validate(&name)?;
    if profile.board == BoardKind::Xt {
        return Err(MachineError::ProfileValue {
            path: name,
            message: "an XT profile is built by chipset::Machine".into(),
        });
    }
    let bios_path = find_firmware_env(&profile.bios, base)?;
    let bios = read(&bios_path)?;
    let mut floppies = Vec::new();
    let mut images = Vec::new();
    for f in &profile.floppies {
        let img = f.image.as_ref().map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        });
        let size = img
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len());
        floppies.push(f.effective_kind(size));
        images.push((img, f.writable));
    }
    let config = AtConfig {
        pci: profile.board == BoardKind::Pci,
        memory_mib: profile.memory_mib.unwrap_or(16),
        clock_hz: profile
            .clock_hz
            .unwrap_or_else(|| default_clock_hz(&profile.cpu)),
        rtc_start: profile.rtc_start(),
        floppies,
        hard_disks: [profile.hda.is_some(), false],
        boot: boot_order(profile.boot.as_deref().unwrap_or("acd")),
        fpu: profile.coprocessor
            || !matches!(profile.cpu.trim(), "286" | "80286" | "386" | "80386"),
    };
    let mut board = AtBoard::new(config, bios).map_err(|source| MachineError::Board {
        path: bios_path.clone(),
        source,
    })?;
    let vga_bios = match &profile.vga_bios {
        Some(v) => {
            let p = find_firmware_env(v, base)?;
            let data = read(&p)?;
            board
                .map_vga_bios(data)
                .map_err(|source| MachineError::Board {
                    path: p.clone(),
                    source,
                })?;
            Some(p)
        }
        None => None,
    };
    for (i, (img, writable)) in images.into_iter().enumerate() {
        if let Some(p) = img {
            board.insert_floppy(i, Some(open_floppy(&p, writable)?));
        }
    }
    Ok(AtMachine {
        board,
        bios: bios_path,
        vga_bios,
    })
}

/// Open a floppy image for an AT drive. A read-only image of whole sectors
/// but of no standard size (the GRUB rescue floppy, 1,296,384 bytes) is
/// zero-padded to the next standard size in memory, as QEMU does; a
/// writable one must have a standard size.
pub fn open_floppy(path: &Path, writable: bool) -> Result<FloppyImage, MachineError> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let standard = devices::Geometry::from_size(size as usize).is_some();
    if !writable && !standard && size % 512 == 0 && size > 0 && size <= 2880 * 1024 {
        let data = std::fs::read(path).map_err(|source| devices::DiskError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(FloppyImage::from_bytes_padded(path, data)?);
    }
    Ok(FloppyImage::open(path, writable)?)
}

/// [`build_at`] from a profile file.
pub fn build_at_from_file(path: &Path) -> Result<AtMachine, MachineError> {
    let profile = MachineProfile::load(path)?;
    build_at(&profile, path.parent().unwrap_or(Path::new(".")))
}
