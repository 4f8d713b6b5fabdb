//! Finding firmware images the way QEMU does: a path given in the profile
//! (or on the command line) first, then the directory in
//! `$IRONPC_FIRMWARE`, then the directories where Debian's packages
//! install them. The images are never part of the repository.

use std::path::{Path, PathBuf};

/// Environment variable naming an extra firmware directory.
pub const FIRMWARE_ENV: &str = "IRONPC_FIRMWARE";

/// Debian directories searched, with the package that fills each.
pub const DEBIAN_DIRS: &[(&str, &str)] = &[
    ("/usr/share/bochs", "bochsbios"),
    ("/usr/share/vgabios", "vgabios"),
    ("/usr/share/seabios", "seabios"),
];

/// A firmware file could not be found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("firmware {name} not found (looked in: {}); {hint}", .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
pub struct FirmwareMissing {
    /// The name asked for.
    pub name: String,
    /// Every path tried.
    pub searched: Vec<PathBuf>,
    /// What to do about it (the Debian package to install).
    pub hint: String,
}

/// The Debian package that ships firmware file `name`.
pub fn debian_package(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    if n.starts_with("bios-bochs") || n.starts_with("bios-qemu") {
        Some("bochsbios")
    } else if n == "bios.bin" || n.starts_with("bios-256k") || n == "vgabios-stdvga.bin" {
        Some("seabios")
    } else if n.starts_with("vgabios") {
        Some("vgabios")
    } else {
        None
    }
}

/// Find `name` (a bare file name, or a path). A path with a directory part
/// that exists (relative to `base` when relative) is used as it is; a bare
/// name is searched in `$IRONPC_FIRMWARE` and then the Debian directories.
pub fn find_firmware(
    name: &Path,
    base: &Path,
    env_dir: Option<&Path>,
) -> Result<PathBuf, FirmwareMissing> {
    let mut searched = Vec::new();
    let direct = if name.is_absolute() {
        name.to_path_buf()
    } else {
        base.join(name)
    };
    if direct.is_file() {
        return Ok(direct);
    }
    searched.push(direct);
    let file = name.file_name().map(PathBuf::from).unwrap_or_default();
    let mut dirs: Vec<PathBuf> = env_dir.map(Path::to_path_buf).into_iter().collect();
    dirs.extend(DEBIAN_DIRS.iter().map(|(d, _)| PathBuf::from(d)));
    for d in dirs {
        let p = d.join(&file);
        if p.is_file() {
            return Ok(p);
        }
        searched.push(p);
    }
    let file_name = file.display().to_string();
    let hint = match debian_package(&file_name) {
        Some(pkg) => format!("install the Debian package '{pkg}' (apt-get install {pkg}) or set {FIRMWARE_ENV} to a directory holding it"),
        None => format!("give its path in the profile or set {FIRMWARE_ENV} to a directory holding it"),
    };
    Err(FirmwareMissing {
        name: file_name,
        searched,
        hint,
    })
}

/// [`find_firmware`] with the directory from `$IRONPC_FIRMWARE`.
pub fn find_firmware_env(name: &Path, base: &Path) -> Result<PathBuf, FirmwareMissing> {
    let env = std::env::var_os(FIRMWARE_ENV).map(PathBuf::from);
    find_firmware(name, base, env.as_deref())
}
