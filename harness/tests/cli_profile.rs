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

#[test]
fn profile_counts_the_page_walks_of_a_boot_sector_that_turns_paging_on() {
    if !firmware_installed() {
        return;
    }
    // Real mode: load a flat GDT, set PE and jump to 32-bit code at 7C17h.
    #[rustfmt::skip]
    let real = [
        0xFA,                         // cli
        0x31, 0xC0,                   // xor ax, ax
        0x8E, 0xD8,                   // mov ds, ax
        0x0F, 0x01, 0x16, 0x98, 0x7C, // lgdt [7C98h]
        0x0F, 0x20, 0xC0,             // mov eax, cr0
        0x0C, 0x01,                   // or al, 1
        0x0F, 0x22, 0xC0,             // mov cr0, eax (a CR0 flush: PE)
        0xEA, 0x17, 0x7C, 0x08, 0x00, // jmp 0008h:7C17h
    ];
    // 32-bit code: identity-map 0-4 MiB (directory 10000h, table 11000h),
    // load CR3, set PG, read one dword of each of 16 pages never touched
    // before, print "OK" on COM1 and halt with interrupts off.
    #[rustfmt::skip]
    let pm = [
        0xB8, 0x10, 0x00, 0x00, 0x00,       // mov eax, 10h
        0x8E, 0xD8,                         // mov ds, ax
        0x8E, 0xC0,                         // mov es, ax
        0xC7, 0x05, 0x00, 0x00, 0x01, 0x00, 0x07, 0x10, 0x01, 0x00, // mov dword [10000h], 11007h
        0xBF, 0x00, 0x10, 0x01, 0x00,       // mov edi, 11000h
        0xB8, 0x07, 0x00, 0x00, 0x00,       // mov eax, 7
        0xB9, 0x00, 0x04, 0x00, 0x00,       // mov ecx, 1024
        0xAB,                               // l: stosd
        0x05, 0x00, 0x10, 0x00, 0x00,       // add eax, 1000h
        0xE2, 0xF8,                         // loop l
        0xB8, 0x00, 0x00, 0x01, 0x00,       // mov eax, 10000h
        0x0F, 0x22, 0xD8,                   // mov cr3, eax
        0x0F, 0x20, 0xC0,                   // mov eax, cr0
        0x0D, 0x00, 0x00, 0x00, 0x80,       // or eax, 80000000h
        0x0F, 0x22, 0xC0,                   // mov cr0, eax (a CR0 flush: PG)
        0xBB, 0x00, 0x00, 0x21, 0x00,       // mov ebx, 210000h
        0xB9, 0x10, 0x00, 0x00, 0x00,       // mov ecx, 16
        0x8B, 0x13,                         // l2: mov edx, [ebx]
        0x81, 0xC3, 0x00, 0x10, 0x00, 0x00, // add ebx, 1000h
        0xE2, 0xF6,                         // loop l2
        0x66, 0xBA, 0xFB, 0x03, 0xB0, 0x03, 0xEE, // 8N1 on COM1
        0x66, 0xBA, 0xF8, 0x03, 0xB0, b'O', 0xEE, 0xB0, b'K', 0xEE,
        0xF4, 0xEB, 0xFD,                   // hlt; jmp to the hlt
    ];
    assert_eq!(real.len(), 0x17, "the far jump's target");
    let mut s = vec![0u8; 512];
    s[..real.len()].copy_from_slice(&real);
    s[0x17..0x17 + pm.len()].copy_from_slice(&pm);
    assert!(0x17 + pm.len() <= 0x80);
    // GDT at 7C80h: null, 08h flat 32-bit code, 10h flat data; GDTR at 7C98h.
    s[0x88..0x90].copy_from_slice(&[0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0]);
    s[0x90..0x98].copy_from_slice(&[0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0]);
    s[0x98..0x9E].copy_from_slice(&[23, 0, 0x80, 0x7C, 0, 0]);
    s[510] = 0x55;
    s[511] = 0xAA;
    let img = tmp("paging.img");
    std::fs::write(&img, s).unwrap();
    let serial = tmp("paging.out");
    let (_, report) = profiled(
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
        "paging.prof",
    );
    // The whole run: paging is on only from the boot sector's MOV CR0. Its
    // first fetch then finds the TLB empty (one fetch walk for page 7000h);
    // the 16 reads each walk for a new page (210000h-21F000h: TLB slots 10h-
    // 1Fh, none shared with page 7); nothing is written with paging on.
    // CR3 is loaded once and CR0 written twice with PE or PG changing.
    let all = row(&report, "all").unwrap_or_else(|| panic!("{report}"));
    assert_eq!(all[1..5], ["17", "16", "0", "1"], "{report}");
    assert_eq!(
        all[6..9],
        ["1", "0", "2"],
        "CR3 loads, INVLPG, CR0: {report}"
    );
    assert_eq!(all[11], "0", "no page fault: {report}");
}
