//! An 8087 beside the 8088 of the PC/XT: `workloads/fpu87boot.asm`, a boot
//! sector, boots under GLaBIOS on `test-suites/machines/xt-8087.yaml` and
//! prints what it computes on port E9h; every line is checked against
//! values worked out by hand below. Needs nasm and the shared GLaBIOS ROM
//! (SKIPPED visibly without them; required with IRONPC_REQUIRE_DATA=1).

use chipset::{Machine, Overrides, RunStop};
use std::path::PathBuf;
use std::process::Command;

fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    println!("SKIPPED: {msg}");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("IRONPC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

/// Boot the sector on `profile` and return the debug-console output, or
/// `None` after a visible SKIPPED line.
fn boot(profile: &str) -> Option<String> {
    let bios = shared_dir().join("images/bios/glabios-0.2.6-xt.rom");
    if !bios.exists() {
        skip(&format!("{} missing (set IRONPC_SHARED)", bios.display()));
        return None;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("workloads/fpu87boot.asm");
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("boot.bin");
    match Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
    {
        Ok(s) => assert!(s.success(), "nasm failed on {}", src.display()),
        Err(e) => {
            skip(&format!(
                "nasm not installed ({e}); cannot assemble {}",
                src.display()
            ));
            return None;
        }
    }
    let mut img = std::fs::read(&bin).unwrap();
    assert_eq!(img.len(), 512);
    img.resize(360 * 1024, 0);
    let floppy = dir.path().join("fpu87.img");
    std::fs::write(&floppy, &img).unwrap();
    let overrides = Overrides {
        bios: Some(bios),
        floppies: vec![(0, floppy)],
        ..Default::default()
    };
    let mut m = Machine::from_profile(
        &root.join("../test-suites/machines").join(profile),
        &overrides,
    )
    .expect("machine profile");
    let stop = m.run_until_within(4_772_727 * 60, |_| false);
    let out = String::from_utf8_lossy(m.debugcon_output()).into_owned();
    // OUT F4h,0 exits with (0 << 1) | 1, as QEMU's isa-debug-exit does.
    assert_eq!(stop, RunStop::Exit(1), "no exit; output so far:\n{out}");
    Some(out)
}

#[test]
fn an_8087_computes_and_interrupts_through_nmi_on_the_xt() {
    let Some(out) = boot("xt-8087.yaml") else {
        return;
    };
    // equip=1: SW1 switch 2 reports the coprocessor (equipment bit 1).
    // cw=03FF: the 8087's FINIT control word (all masked, IEM set, 64-bit
    //   precision, nearest, projective).
    // sqrt2: the double nearest sqrt(2) = 1.4142135623730951, 3FF6A09E667F3BCD.
    // pi: 355/113 * 10000 = 31415.929… rounds to 31416 = 7AB8h.
    // 1/0 with ZE unmasked and FENI: no result, ZE (4) and ES (80h) set,
    //   TOP = 6 after two loads (3000h), and PE (20h) still set from the
    //   inexact FSQRT, FIDIV and FISTP before (the flags are sticky):
    //   30A4h; the 8087's INT reaches the CPU as NMI once port A0h allows
    //   it, one NMI.
    let want = "equip=1\ncw=03FF\nsqrt2=3FF6A09E667F3BCD\npi=7AB8\nnmi=1 sw=30A4\n";
    assert_eq!(out, want);
}

#[test]
fn without_the_coprocessor_the_bios_reports_none() {
    // The same machine without the socket filled: switch 2 off, and the
    // ESC instructions do nothing (FNSTCW leaves memory alone: cw stays 0).
    let Some(out) = boot("xt.yaml") else {
        return;
    };
    assert!(out.starts_with("equip=0\ncw=0000\n"), "{out}");
}
