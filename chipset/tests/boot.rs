//! POST GLaBIOS and boot FreeDOS from a 360K floppy to the `A:\>` prompt.
//!
//! The images live in the shared data directory: `$IRONPC_SHARED`, or
//! `../../shared` from this crate (`shared/` beside the repository). When
//! they are missing the test prints why and passes, unless
//! `IRONPC_REQUIRE_DATA=1`, when it fails.

use chipset::{Machine, Overrides, RunStop};
use std::path::PathBuf;

fn shared_dir() -> PathBuf {
    match std::env::var_os("IRONPC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

fn profile_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines/xt.yaml")
}

/// The BIOS and floppy image, or `None` (after saying so) when absent.
fn data(bios: &str, floppy: &str) -> Option<(PathBuf, PathBuf)> {
    let shared = shared_dir();
    let bios = shared.join("images/bios").join(bios);
    let floppy = shared.join("images/floppy").join(floppy);
    let missing: Vec<_> = [&bios, &floppy]
        .into_iter()
        .filter(|p| !p.exists())
        .collect();
    if missing.is_empty() {
        return Some((bios, floppy));
    }
    let msg = format!("boot test data missing: {missing:?} (set IRONPC_SHARED)");
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

fn machine(bios: PathBuf, floppy: PathBuf) -> Machine {
    let overrides = Overrides {
        bios: Some(bios),
        floppies: vec![(0, floppy)],
        ..Default::default()
    };
    Machine::from_profile(&profile_path(), &overrides).expect("xt.yaml machine")
}

fn describe(m: &Machine) -> String {
    let (cs, ip) = m.cs_ip();
    format!(
        "after {} cycles at {cs:04X}:{ip:04X}, POST code {:02X}\n{}",
        m.cycles(),
        m.board.post_code,
        m.screen_text()
    )
}

/// 4.77 MHz: about 60 emulated seconds.
const BOOT_LIMIT: u64 = 4_772_727 * 60;

#[test]
fn glabios_boots_freedos_to_prompt() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "freedos-360k.img") else {
        return;
    };
    let mut m = machine(bios, floppy);
    // GLaBIOS checks after its memory test that DRAM refresh (DMA channel 0)
    // has counted through 64K cycles. The counting timing model runs the
    // test slightly faster than a real 8088, so the BIOS may report
    // "POST Error 0400 DMA" and wait for a key, as it would on a real
    // machine; press one and go on.
    let stop = m.run_until_within(BOOT_LIMIT, |m| {
        let s = m.screen_text();
        s.contains("A:\\>") || s.contains("Press the Any Key")
    });
    if m.screen_text().contains("Press the Any Key") {
        eprintln!(
            "BIOS stopped at a POST error; pressing a key:\n{}",
            describe(&m)
        );
        m.type_keys(" ").unwrap();
    }
    let stop = match stop {
        RunStop::Condition => m.run_until_within(BOOT_LIMIT, |m| m.screen_text().contains("A:\\>")),
        other => other,
    };
    assert_eq!(
        stop,
        RunStop::Condition,
        "no A:\\> prompt: {}",
        describe(&m)
    );
    // The prompt takes typed commands.
    m.type_keys("ver<enter>").unwrap();
    let stop = m.run_until_within(4_772_727 * 20, |m| {
        let s = m.screen_text();
        s.contains("FreeCom version") && s.matches("A:\\>").count() >= 2
    });
    assert_eq!(stop, RunStop::Condition, "VER: {}", describe(&m));
}

/// Sergey Kiselev's XT BIOS (it configures 1.44M drives and reads the
/// controller's disk-change line) boots the same disk.
#[test]
fn sergey_xt_bios_boots_freedos_to_prompt() {
    let Some((bios, floppy)) = data("sergey-xt-1.0.2.rom", "freedos-360k.img") else {
        return;
    };
    let mut m = machine(bios, floppy);
    let stop = m.run_until_within(BOOT_LIMIT, |m| m.screen_text().contains("A:\\>"));
    assert_eq!(
        stop,
        RunStop::Condition,
        "no A:\\> prompt: {}",
        describe(&m)
    );
    assert!(m.screen_text().contains("FreeCom version"));
}
