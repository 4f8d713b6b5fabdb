//! The whole AT/PCI PC (32-bit core, VGA, IDE, UARTs) booting real
//! firmware and guests. Needs the Debian firmware packages (bochsbios,
//! vgabios, seabios) and the shared images; skips visibly without them and
//! fails without them under IRONPC_REQUIRE_DATA=1.

use chipset::at::{build_pc, AtPc};
use chipset::MachineProfile;
use std::path::{Path, PathBuf};

fn machines() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines")
}

fn shared() -> PathBuf {
    std::env::var_os("IRONPC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    println!("SKIPPED: {msg}");
    eprintln!("SKIPPED: {msg}");
}

fn have_firmware(p: &MachineProfile) -> bool {
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

/// The profile `name` with its first floppy set to `floppy` (a path under
/// the shared directory, or none), or None (skipped) without the data.
fn profile(name: &str, floppy: Option<&str>) -> Option<MachineProfile> {
    let mut p = MachineProfile::load(&machines().join(name)).unwrap();
    match floppy {
        Some(f) => {
            let img = shared().join(f);
            if !img.exists() {
                skip(&format!("{} missing (set IRONPC_SHARED)", img.display()));
                return None;
            }
            p.floppies[0].image = Some(img);
        }
        None => p.floppies[0].image = None,
    }
    have_firmware(&p).then_some(p)
}

/// Run until the VGA text screen contains `text` (checked every 64K steps)
/// or `secs` of emulated time pass; the screen at the end.
fn run_to_text(pc: &mut AtPc, text: &str, secs: u64) -> (bool, String) {
    let end = pc.run.board.config.clock_hz * secs;
    loop {
        for _ in 0..65_536 {
            pc.run.step();
        }
        let screen = pc.vga.borrow().screen_text();
        if screen.contains(text) {
            return (true, screen);
        }
        if pc.run.now() >= end {
            return (false, screen);
        }
    }
}

#[test]
fn bochs_legacy_bios_boots_freedos_floppy_on_the_isa_486() {
    let Some(p) = profile("at-486.yaml", Some("images/floppy/freedos-1440k.img")) else {
        return;
    };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let (ok, screen) = run_to_text(&mut pc, "A:\\>", 60);
    assert!(ok, "no A:\\> prompt after 60 s emulated; screen:\n{screen}");
    // The Bochs BIOS POSTs without a panic.
    assert_eq!(pc.run.board.bios_panic, None);
}
