//! What the AT/PCI integration tests share: where the profiles and the
//! shared data are, visible skips, and the firmware check.
#![allow(dead_code)] // each test binary uses its own part of this

use chipset::MachineProfile;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The workspace's machine profiles.
pub fn machines() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines")
}

/// The shared data: `IRONPC_SHARED`, or `../shared` beside the workspace.
pub fn shared() -> PathBuf {
    std::env::var_os("IRONPC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Skip with a message the test output shows; under
/// `IRONPC_REQUIRE_DATA=1` (CI) missing data fails instead.
pub fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    println!("SKIPPED: {msg}");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
}

/// Whether the profile's BIOS and VGA BIOS are installed (Debian's
/// bochsbios, vgabios and seabios packages, or `IRONPC_FIRMWARE`);
/// skips when not.
pub fn have_firmware(p: &MachineProfile) -> bool {
    let mut fw = vec![p.bios.clone()];
    fw.extend(p.vga_bios.clone());
    for f in fw {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let found = f.is_absolute() && f.exists()
            || [
                "/usr/share/bochs",
                "/usr/share/vgabios",
                "/usr/share/seabios",
            ]
            .iter()
            .any(|d| Path::new(d).join(&name).exists())
            || std::env::var_os("IRONPC_FIRMWARE")
                .is_some_and(|d| Path::new(&d).join(&name).exists());
        if !found {
            skip(&format!(
                "firmware {name} not installed (apt-get install bochsbios vgabios seabios)"
            ));
            return false;
        }
    }
    true
}
