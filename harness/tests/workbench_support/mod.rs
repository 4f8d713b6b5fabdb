//! A tiny machine for the workbench tests: a 2 KiB "BIOS" holding a
//! hand-assembled loop, so the tests need no shared data.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The program, at FF80:0000 (linear FF800h), with the hand assembly:
///
/// ```text
/// FF80:0000  B8 34 12   mov ax, 1234h
/// FF80:0003  BB 00 05   mov bx, 0500h
/// FF80:0006  31 C9      xor cx, cx        ; 31 /r, ModR/M 11 001 001
/// FF80:0008  8E D9      mov ds, cx        ; 8E /r, ModR/M 11 011 001
/// FF80:000A  89 07      mov [bx], ax      ; 89 /r, ModR/M 00 000 111
/// FF80:000C  40         inc ax
/// FF80:000D  8B 17      mov dx, [bx]      ; 8B /r, ModR/M 00 010 111
/// FF80:000F  EB F9      jmp 000Ah         ; 0011h - 7
/// ```
///
/// and at the reset vector FFFF:0000 (ROM offset 7F0h) `EA 00 00 80 FF`,
/// a far jump to FF80:0000. Interrupts stay off (IF is clear after reset
/// and nothing sets it).
pub const PROGRAM: &[u8] = &[
    0xB8, 0x34, 0x12, 0xBB, 0x00, 0x05, 0x31, 0xC9, 0x8E, 0xD9, 0x89, 0x07, 0x40, 0x8B, 0x17, 0xEB,
    0xF9,
];

/// Linear address of the program.
pub const BASE: u32 = 0xFF800;
/// Linear address of the loop's `mov [bx], ax`.
pub const LOOP_STORE: u32 = BASE + 0x0A;
/// Linear address of `inc ax`.
pub const LOOP_INC: u32 = BASE + 0x0C;
/// Linear address of `mov dx, [bx]`.
pub const LOOP_LOAD: u32 = BASE + 0x0D;
/// Linear address of the closing jump.
pub const LOOP_JMP: u32 = BASE + 0x0F;

/// The 2 KiB ROM image.
pub fn rom() -> Vec<u8> {
    let mut r = vec![0xF4u8; 2048];
    r[..PROGRAM.len()].copy_from_slice(PROGRAM);
    r[0x7F0..0x7F5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x80, 0xFF]);
    r
}

/// Write the ROM and a profile using it (8088, 64 KiB, no drives) into
/// `dir`; returns the profile's path.
pub fn profile(dir: &Path, timing: &str) -> PathBuf {
    std::fs::write(dir.join("loop.rom"), rom()).unwrap();
    let p = dir.join(format!("loop-{timing}.yaml"));
    std::fs::write(
        &p,
        format!(
            "name: workbench loop\ncpu: \"8088\"\ntiming: {timing}\nram_kib: 64\nbios: loop.rom\nvideo: cga\nfloppies: []\n"
        ),
    )
    .unwrap();
    p
}

/// The shared data directory.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("IRONPC_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

/// GLaBIOS and the FreeDOS floppy, or `None` after a visible SKIPPED line
/// (a failure with `IRONPC_REQUIRE_DATA=1`).
pub fn freedos_data(test: &str) -> Option<(PathBuf, PathBuf)> {
    let s = shared_dir();
    let bios = s.join("images/bios/glabios-0.2.6-xt.rom");
    let floppy = s.join("images/floppy/freedos-360k.img");
    if bios.exists() && floppy.exists() {
        return Some((bios, floppy));
    }
    let msg = format!(
        "SKIPPED {test}: {} or {} not found (set IRONPC_SHARED)",
        bios.display(),
        floppy.display()
    );
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("IRONPC_REQUIRE_DATA=1: {msg}");
    }
    println!("{msg}");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
    None
}
