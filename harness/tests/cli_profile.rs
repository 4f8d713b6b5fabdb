//! `ironpc run --profile` on the AT machine: the report's counts agree with
//! what is known about the guest independently of the profiler.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-cli-profile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    println!("SKIPPED: {msg}");
    eprintln!("SKIPPED: {msg}");
}

fn firmware_installed() -> bool {
    let ok = Path::new("/usr/share/bochs/BIOS-bochs-legacy").exists()
        && Path::new("/usr/share/vgabios/vgabios.bin").exists();
    if !ok {
        skip("Bochs BIOS / LGPL VGA BIOS not installed (apt-get install bochsbios vgabios)");
    }
    ok
}

/// Run `ironpc run ARGS --profile FILE`; (stderr, the report).
fn profiled(args: &[&str], name: &str) -> (String, String) {
    let prof = tmp(name);
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .arg("run")
        .args(args)
        .arg("--profile")
        .arg(&prof)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{err}");
    let report = std::fs::read_to_string(&prof).unwrap_or_else(|e| panic!("{e}: {err}"));
    (err, report)
}

/// The run's own instruction count and emulated seconds, from the
/// "stopped after" line.
fn run_totals(stderr: &str) -> (u64, f64) {
    let l = stderr
        .lines()
        .find(|l| l.starts_with("ironpc: stopped after"))
        .unwrap_or_else(|| panic!("no summary: {stderr}"));
    let secs: f64 = l["ironpc: stopped after ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let n = l.split(": ").nth(2).unwrap().split(' ').next().unwrap();
    (n.parse().unwrap(), secs)
}

/// A table row of the report starting with `| first |`: its cells.
fn row<'a>(report: &'a str, first: &str) -> Option<Vec<&'a str>> {
    let head = format!("| {first} |");
    report
        .lines()
        .find(|l| l.starts_with(&head))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
}

fn report_instructions(report: &str) -> u64 {
    let l = report
        .lines()
        .find(|l| l.contains(" instructions, "))
        .unwrap();
    l.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn profile_counts_a_boot_sectors_port_writes_and_all_its_instructions() {
    if !firmware_installed() {
        return;
    }
    // A boot sector: 1000 writes to port 300h (which neither the BIOS nor
    // any device of the AT uses), "OK" to COM1, then halt with interrupts
    // off.
    #[rustfmt::skip]
    let code = [
        0xFA,                         // cli
        0xBA, 0x00, 0x03,             // mov dx, 300h
        0xB9, 0xE8, 0x03,             // mov cx, 1000
        0xEE, 0xE2, 0xFD,             // l: out dx, al; loop l
        0xBA, 0xFB, 0x03, 0xB0, 0x03, 0xEE,
        0xBA, 0xF8, 0x03, 0xB0, b'O', 0xEE, 0xB0, b'K', 0xEE,
        0xF4, 0xEB, 0xFD,
    ];
    let mut s = vec![0u8; 512];
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    let img = tmp("ports.img");
    std::fs::write(&img, s).unwrap();
    let serial = tmp("ports.out");
    let (err, report) = profiled(
        &[
            "--machine",
            "at-486",
            "--until-text",
            "OK",
            "--timeout",
            "60",
            "--floppy",
            img.to_str().unwrap(),
            "--serial",
            serial.to_str().unwrap(),
        ],
        "ports.prof",
    );
    let (total, _) = run_totals(&err);
    // Every instruction of the run is charged somewhere, once.
    assert_eq!(report_instructions(&report), total, "{report}");
    let p300 = row(&report, "0300h").unwrap_or_else(|| panic!("{report}"));
    assert_eq!(p300[1..], ["0", "1000"], "{report}");
    // POST, then the boot sector: both phases, nothing in protected mode.
    assert!(row(&report, "firmware (BIOS POST, option ROMs)").is_some());
    assert!(row(
        &report,
        "boot sector onwards below 640 KiB (bootloader, kernel setup, DOS)"
    )
    .is_some());
    assert!(!report.contains("| paging on"), "{report}");
    // The boot sector's page, 7000h, ran at least its own 2000 loop
    // instructions.
    let page = row(&report, "00007000").unwrap_or_else(|| panic!("{report}"));
    assert!(page[1].parse::<u64>().unwrap() >= 2000, "{report}");
    // It ends halted with interrupts off: halted time is counted.
    assert!(report.contains("ended in HLT"), "{report}");
}

#[test]
fn profile_of_freedos_counts_the_timer_interrupts_at_18_2_hz() {
    if !firmware_installed() {
        return;
    }
    let shared = std::env::var("IRONPC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let img = shared.join("images/floppy/freedos-1440k.img");
    if !img.exists() {
        skip(&format!("{} missing (set IRONPC_SHARED)", img.display()));
        return;
    }
    let (err, report) = profiled(
        &[
            "--machine",
            "at-486",
            "--floppy",
            img.to_str().unwrap(),
            "--until-text",
            "A:\\>",
            "--settle",
            "2",
            "--timeout",
            "300",
        ],
        "freedos.prof",
    );
    let (total, secs) = run_totals(&err);
    assert_eq!(report_instructions(&report), total, "{report}");
    // The BIOS programs PIT channel 0 for its 18.2 Hz tick (1193182 Hz /
    // 65536) early in POST, and IRQ 0 comes in at vector 08h from then on
    // (DOS waits for keys with interrupts on).
    let ticks: f64 = row(&report, "08h").unwrap()[1].parse().unwrap();
    let expect = secs * 1_193_182.0 / 65_536.0;
    assert!(
        (ticks - expect).abs() <= 3.0,
        "{ticks} ticks in {secs} s, expected {expect:.1}: {report}"
    );
    // The floppy's IRQ 6 (vector 0Eh) came for the sectors DOS read.
    assert!(row(&report, "0Eh").is_some(), "{report}");
}
