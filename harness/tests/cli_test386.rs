//! `ironpc run` with the test386 board profile: POST codes on stderr, the
//! E9h output in the --debugcon file, exit status 0 only at POST FFh.

mod common;

use std::process::Command;

fn ironpc_run(bios: &std::path::Path, debugcon: &std::path::Path) -> std::process::Output {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .arg("run")
        .arg("--machine")
        .arg(root.join("test-suites/machines/test386.yaml"))
        .arg("--bios")
        .arg(bios)
        .arg("--debugcon")
        .arg(debugcon)
        .arg("--timeout")
        .arg("600")
        .output()
        .expect("run ironpc")
}

#[test]
fn test386_rom_exits_zero_at_post_ff() {
    let Some(dir) = common::data_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_file = tmp.path().join("e9.txt");
    let out = ironpc_run(&dir.join("test386/built/test386.bin"), &out_file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    // Every POST code is shown as it passes, FF last.
    assert!(err.contains("POST 00\nPOST 01\n"), "stderr: {err}");
    assert!(err.contains("POST EE\nPOST FF\n"), "stderr: {err}");
    let got = std::fs::read(&out_file).expect("debugcon file");
    let want: Vec<u8> = std::fs::read(dir.join("test386/test386-EE-reference.txt"))
        .expect("reference")
        .into_iter()
        .filter(|&b| b != b'\r')
        .collect();
    assert!(got == want, "E9h output differs from the reference");
}

#[test]
fn a_rom_that_halts_early_exits_one() {
    let Some(_) = common::data_dir() else { return };
    // A 64 KiB ROM whose reset vector writes POST 01 and halts: never FF.
    let mut rom = vec![0xF4u8; 0x10000];
    // F000:FFF0: mov al,1; mov dx,190h; out dx,al; hlt.
    rom[0xFFF0..0xFFF7].copy_from_slice(&[0xB0, 0x01, 0xBA, 0x90, 0x01, 0xEE, 0xF4]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let rom_path = tmp.path().join("halt.bin");
    std::fs::write(&rom_path, &rom).expect("write rom");
    let out = ironpc_run(&rom_path, &tmp.path().join("e9.txt"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("POST 01"), "stderr: {err}");
    assert!(err.contains("Halted"), "stderr: {err}");
}
