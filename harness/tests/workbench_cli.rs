//! `ironpc run --save-state/--load-state` through the binary.

mod workbench_support;

use std::process::Command;
use workbench_support::*;

fn ironpc(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn save_at_then_load_continues_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), "exact");
    let snap = dir.path().join("loop.ironpc");
    let trace = dir.path().join("t.txt");
    // 0.001 s is 4772 cycles: the loop is running by then.
    let out = ironpc(&[
        "run".as_ref(),
        "--machine".as_ref(),
        profile.as_os_str(),
        "--save-state".as_ref(),
        snap.as_os_str(),
        "--save-at".as_ref(),
        "0.001".as_ref(),
        "--timeout".as_ref(),
        "20".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("saved"));
    let out = ironpc(&[
        "run".as_ref(),
        "--load-state".as_ref(),
        snap.as_os_str(),
        "--trace".as_ref(),
        trace.as_os_str(),
        "--trace-count".as_ref(),
        "4".as_ref(),
        "--timeout".as_ref(),
        "20".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    // Numbering goes on from the saved instruction count, far past the
    // seven set-up instructions, inside the loop at FF80:000A..000F.
    for l in &lines {
        let f: Vec<&str> = l.split(' ').collect();
        assert!(f[0].parse::<u64>().unwrap() > 7, "{l}");
        let c: u64 = f[1].strip_prefix("c=").unwrap().parse().unwrap();
        assert!(c >= 4772, "the time goes on from the snapshot: {l}");
        assert!(f[2].starts_with("FF80:000"), "{l}");
    }
    // The wrong model is refused before anything runs.
    let out = ironpc(&[
        "run".as_ref(),
        "--load-state".as_ref(),
        snap.as_os_str(),
        "--timing".as_ref(),
        "fast".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'exact'"));
    // A corrupt file: exit status 2, the file and the fault named.
    let bad = dir.path().join("bad.ironpc");
    let mut bytes = std::fs::read(&snap).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xFF;
    std::fs::write(&bad, bytes).unwrap();
    let out = ironpc(&["run".as_ref(), "--load-state".as_ref(), bad.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.ironpc") && err.contains("checksum"),
        "{err}"
    );
}

#[test]
fn freedos_saved_at_the_prompt_answers_after_loading() {
    let Some((bios, floppy)) = freedos_data("snapshot CLI") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("dos.ironpc");
    let out = ironpc(&[
        "run".as_ref(),
        "--bios".as_ref(),
        bios.as_os_str(),
        "--floppy".as_ref(),
        floppy.as_os_str(),
        "--until-text".as_ref(),
        "A:\\>".as_ref(),
        "--save-state".as_ref(),
        snap.as_os_str(),
        "--timeout".as_ref(),
        "60".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ironpc(&[
        "run".as_ref(),
        "--load-state".as_ref(),
        snap.as_os_str(),
        "--type".as_ref(),
        "ver<enter>".as_ref(),
        "--until-text".as_ref(),
        "A:\\>ver".as_ref(),
        "--settle".as_ref(),
        "2".as_ref(),
        "--timeout".as_ref(),
        "60".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screen = String::from_utf8_lossy(&out.stdout);
    // The banner from the boot, and VER's answer after the command.
    let at = screen.find("A:\\>ver").expect("the typed command");
    assert!(screen[at..].contains("FreeCom version"), "{screen}");
}

/// A program that writes "Hi" to the debug console (port E9h) and "OK" to
/// COM1's transmitter (3F8h), then loops (hand assembly):
///
/// ```text
/// FF80:0000  B0 48      mov al, 'H'
/// FF80:0002  E6 E9      out 0E9h, al
/// FF80:0004  B0 69      mov al, 'i'
/// FF80:0006  E6 E9      out 0E9h, al
/// FF80:0008  BA F8 03   mov dx, 03F8h
/// FF80:000B  B0 4F      mov al, 'O'
/// FF80:000D  EE         out dx, al
/// FF80:000E  B0 4B      mov al, 'K'
/// FF80:0010  EE         out dx, al
/// FF80:0011  EB FE      jmp 0011h
/// ```
const HELLO: &[u8] = &[
    0xB0, 0x48, 0xE6, 0xE9, 0xB0, 0x69, 0xE6, 0xE9, 0xBA, 0xF8, 0x03, 0xB0, 0x4F, 0xEE, 0xB0, 0x4B,
    0xEE, 0xEB, 0xFE,
];

#[test]
fn the_workbench_loop_forwards_debugcon_and_serial_output() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), "fast");
    let mut r = rom();
    r[..HELLO.len()].copy_from_slice(HELLO);
    std::fs::write(dir.path().join("loop.rom"), r).unwrap();
    let (debug, serial) = (dir.path().join("e9.txt"), dir.path().join("com1.txt"));
    // A workbench option (--save-at) selects the workbench loop.
    let out = ironpc(&[
        "run".as_ref(),
        "--machine".as_ref(),
        profile.as_os_str(),
        "--debugcon".as_ref(),
        debug.as_os_str(),
        "--serial".as_ref(),
        serial.as_os_str(),
        "--save-state".as_ref(),
        dir.path().join("s.ironpc").as_os_str(),
        "--save-at".as_ref(),
        "0.1".as_ref(),
        "--timeout".as_ref(),
        "20".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&debug).unwrap(), b"Hi");
    assert_eq!(std::fs::read(&serial).unwrap(), b"OK");
}

#[test]
fn a_swap_into_a_missing_drive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), "fast");
    let img = dir.path().join("a.img");
    std::fs::write(&img, vec![0u8; 368_640]).unwrap();
    let swap = format!("B:{}", img.display());
    let out = ironpc(&[
        "run".as_ref(),
        "--machine".as_ref(),
        profile.as_os_str(),
        "--swap".as_ref(),
        swap.as_ref(),
        "--timeout".as_ref(),
        "20".as_ref(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    // The loop profile has no floppy drives.
    assert!(err.contains("drive B does not exist"), "{err}");
    assert!(err.contains("0 floppy drives"), "{err}");
}
