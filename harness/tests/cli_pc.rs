//! `ironpc run` on the AT/PCI machines: bad input gives one clear error
//! line each (exit status 2) and nothing runs. No data needed: every error
//! here is found before the firmware is looked up or the CPU starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-cli-pc-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn run(args: &[&str], extra: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .arg("run")
        .args(args)
        .args(extra)
        .env("IRONPC_FIRMWARE", "/nonexistent-ironpc-firmware")
        .output()
        .unwrap()
}

fn assert_one_error(out: &Output, needles: &[&str]) {
    let all = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {all}");
    assert!(!all.contains("panicked"), "{all}");
    let errors: Vec<&str> = all.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "expected one error line, got: {all}");
    assert_eq!(all.lines().count(), 1, "only the error line: {all}");
    for n in needles {
        assert!(errors[0].contains(n), "'{n}' not in: {all}");
    }
    // Nothing ran: no screen, no run summary.
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn truncated_hard_disk_image() {
    // 1000 bytes is not a whole number of 512-byte sectors.
    let img = tmp("short.img");
    std::fs::write(&img, vec![0u8; 1000]).unwrap();
    let out = run(&["--machine", "at-486", "--hda"], &[&img]);
    assert_one_error(&out, &["short.img", "1000 bytes", "multiple of 512"]);
}

#[test]
fn odd_sized_iso() {
    // An ISO is a whole number of 2048-byte blocks; 2048 + 512 is not.
    let iso = tmp("odd.iso");
    std::fs::write(&iso, vec![0u8; 2560]).unwrap();
    let out = run(&["--machine", "pc", "--cpu", "486", "--cdrom"], &[&iso]);
    assert_one_error(&out, &["odd.iso", "2560 bytes", "multiple of 2048"]);
}

#[test]
fn empty_disk_image() {
    let img = tmp("empty.img");
    std::fs::write(&img, b"").unwrap();
    let out = run(&["--machine", "at-486", "--hda"], &[&img]);
    assert_one_error(&out, &["empty.img", "empty"]);
}

#[test]
fn missing_bios_names_the_debian_package() {
    let profile = tmp("nobios.yaml");
    std::fs::write(
        &profile,
        "board: at\ncpu: \"486\"\nbios: BIOS-bochs-nowhere\nfloppies:\n  - type: 1.44m\n",
    )
    .unwrap();
    let out = run(&["--machine"], &[&profile]);
    assert_one_error(
        &out,
        &["BIOS-bochs-nowhere not found", "apt-get install bochsbios"],
    );
}

#[test]
fn missing_vga_bios_names_the_debian_package() {
    let profile = tmp("novga.yaml");
    std::fs::write(
        &profile,
        "board: pci\ncpu: \"486\"\nbios: BIOS-bochs-latest\nvga_bios: vgabios-nowhere.bin\nfloppies:\n  - type: 1.44m\n",
    )
    .unwrap();
    let out = run(&["--machine"], &[&profile]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    // Without bochsbios installed the BIOS is reported first; either way
    // one line naming a package.
    assert_one_error(&out, &["not found", "apt-get install"]);
    assert!(err.contains("vgabios-nowhere.bin") || err.contains("BIOS-bochs-latest"));
}

#[test]
fn unknown_cpu_model() {
    let out = run(&["--machine", "at-486", "--cpu", "z80"], &[]);
    assert_one_error(&out, &["--cpu", "unknown CPU model 'z80'", "486"]);
    let profile = tmp("badcpu.yaml");
    std::fs::write(
        &profile,
        "board: at\ncpu: \"68000\"\nbios: BIOS-bochs-legacy\n",
    )
    .unwrap();
    let out = run(&["--machine"], &[&profile]);
    assert_one_error(&out, &["68000"]);
}

#[test]
fn bad_boot_order_and_memory() {
    let out = run(&["--machine", "at-486", "--boot", "x"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("boot order"));
    let out = run(&["--machine", "at-486", "--memory", "3"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn pc_options_need_an_at_machine() {
    let img = tmp("xt.img");
    std::fs::write(&img, vec![0u8; 512 * 1024]).unwrap();
    let out = run(&["--hda"], &[&img]);
    assert_one_error(&out, &["need an AT or PCI machine"]);
    // The XT machine has no --stepped (only the AT/PCI runner slices).
    let out = run(&["--stepped"], &[]);
    assert_one_error(&out, &["need an AT or PCI machine"]);
    // Nor an RTC.
    let out = run(&["--rtc", "host"], &[]);
    assert_one_error(&out, &["need an AT or PCI machine"]);
}

#[test]
fn a_malformed_rtc_time_is_one_error_naming_the_option() {
    let out = run(&["--machine", "at-486", "--rtc", "yesterday"], &[]);
    assert_one_error(&out, &["--rtc", "yesterday", "YYYY-MM-DD HH:MM:SS"]);
}

fn firmware_installed() -> bool {
    let ok = Path::new("/usr/share/bochs/BIOS-bochs-legacy").exists()
        && Path::new("/usr/share/vgabios/vgabios.bin").exists();
    if !ok {
        let msg = "Bochs BIOS / LGPL VGA BIOS not installed (apt-get install bochsbios vgabios)";
        if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        println!("SKIPPED: {msg}");
        eprintln!("SKIPPED: {msg}");
    }
    ok
}

#[test]
fn serial_output_to_a_file_ends_the_run_with_until_text() {
    if !firmware_installed() {
        return;
    }
    // A boot sector writing "OK" to COM1 (LCR 03h, then two THR writes).
    #[rustfmt::skip]
    let code = [
        0xBA, 0xFB, 0x03, 0xB0, 0x03, 0xEE,
        0xBA, 0xF8, 0x03, 0xB0, b'O', 0xEE, 0xB0, b'K', 0xEE,
        0xF4, 0xEB, 0xFD,
    ];
    let mut s = vec![0u8; 512];
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    let img = tmp("com1.img");
    std::fs::write(&img, s).unwrap();
    let serial = tmp("com1.out");
    let debug = tmp("debug.out");
    let shot = tmp("shot.png");
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args([
            "run",
            "--machine",
            "at-486",
            "--until-text",
            "OK",
            "--timeout",
            "60",
        ])
        .arg("--floppy")
        .arg(&img)
        .arg("--serial")
        .arg(&serial)
        .arg("--debugcon")
        .arg(&debug)
        .arg("--screenshot")
        .arg(&shot)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(std::fs::read(&serial).unwrap(), b"OK");
    // The Bochs BIOS's info port (402h) goes to the debug console.
    let dbg = String::from_utf8_lossy(&std::fs::read(&debug).unwrap()).to_string();
    assert!(dbg.contains("Booting from 0000:7c00"), "{dbg}");
    // The screenshot is a PNG of the 80 × 25 text screen (9-dot cells).
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((w, h), (720, 400));
}

#[test]
fn hda_writes_reach_the_file_only_with_writable() {
    if !firmware_installed() {
        return;
    }
    // A boot sector (loaded from the hard disk, DL = 80h) that writes
    // itself to CHS 0/0/2 with INT 13h AH=03h, then "OK" to COM1.
    #[rustfmt::skip]
    let code = [
        0x31, 0xC0, 0x8E, 0xC0,       // xor ax, ax; mov es, ax
        0xBB, 0x00, 0x7C,             // mov bx, 7C00h
        0xB8, 0x01, 0x03,             // mov ax, 0301h
        0xB9, 0x02, 0x00,             // mov cx, 0002h
        0xB6, 0x00,                   // mov dh, 0
        0xCD, 0x13,                   // int 13h
        0xBA, 0xFB, 0x03, 0xB0, 0x03, 0xEE,
        0xBA, 0xF8, 0x03, 0xB0, b'O', 0xEE, 0xB0, b'K', 0xEE,
        0xF4, 0xEB, 0xFD,
    ];
    let mut sector: Vec<u8> = (0..512u32).map(|i| (i * 5 + 1) as u8).collect();
    sector[..code.len()].copy_from_slice(&code);
    sector[510] = 0x55;
    sector[511] = 0xAA;
    for writable in [false, true] {
        // 20 cylinders × 16 heads × 63 sectors.
        let img = tmp(&format!("hda-{writable}.img"));
        let mut data = vec![0u8; 20 * 16 * 63 * 512];
        data[..512].copy_from_slice(&sector);
        std::fs::write(&img, &data).unwrap();
        let serial = tmp(&format!("hda-{writable}.out"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ironpc"));
        cmd.args([
            "run",
            "--machine",
            "at-486",
            "--boot",
            "c",
            "--until-text",
            "OK",
        ])
        .args(["--timeout", "60"])
        .arg("--hda")
        .arg(&img)
        .arg("--serial")
        .arg(&serial);
        if writable {
            cmd.arg("--writable");
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(std::fs::read(&serial).unwrap(), b"OK");
        let file = std::fs::read(&img).unwrap();
        let expect = if writable {
            sector.clone()
        } else {
            vec![0; 512]
        };
        assert_eq!(file[512..1024], expect[..], "writable={writable}");
    }
}
