//! Record and replay: the same inputs at the same cycles give the same
//! states; a changed log is caught at the first hash after the change.

mod workbench_support;

use chipset::{Machine, Overrides};
use cpu::ExactTiming;
use harness::workbench::replay::{self, Entry, Outcome, Recorder};
use std::path::Path;
use std::process::Command;
use workbench_support::*;

#[test]
fn recorded_keys_replay_to_equal_hashes_and_a_changed_log_diverges() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), "exact");
    let mut m: Machine<ExactTiming> =
        Machine::from_profile_timed(&profile, &Overrides::default()).unwrap();
    let log = dir.path().join("run.log");
    let mut rec = Recorder::create(&log, &m, 1_000).unwrap();
    // Run 20,000 cycles in 1,000-cycle slices, hashing at each; a key goes
    // in at the fifth slice (the keyboard's serial transfer then changes
    // the board's state from there on).
    for slice in 0..20 {
        let next = rec.next_hash();
        m.run_for(next.saturating_sub(m.cycles()).max(1));
        rec.checkpoint(&m).unwrap();
        if slice == 5 {
            rec.keys(&mut m, "a").unwrap();
        }
    }
    rec.finish(&m).unwrap();
    let parsed = replay::read_log(&log).unwrap();
    let hashes = parsed
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::Hash { .. }))
        .count();
    assert!(hashes >= 20, "{hashes}");
    let (r, outcome) = replay::replay::<ExactTiming>(&parsed, &log).unwrap();
    assert_eq!(outcome, Outcome::Matched(hashes));
    assert_eq!(r.cycles(), m.cycles());
    // Another key in place of the recorded one: the state differs from
    // the first hash after it, and the report says so.
    let text = std::fs::read_to_string(&log).unwrap();
    let changed = text.replace(r#""text":"a""#, r#""text":"b""#);
    assert_ne!(changed, text);
    let bad = dir.path().join("bad.log");
    std::fs::write(&bad, changed).unwrap();
    let key_cycle = parsed
        .entries
        .iter()
        .find_map(|e| match e {
            Entry::Keys { cycle, .. } => Some(*cycle),
            _ => None,
        })
        .unwrap();
    let (_, outcome) =
        replay::replay::<ExactTiming>(&replay::read_log(&bad).unwrap(), Path::new("bad")).unwrap();
    match outcome {
        Outcome::Diverged {
            last_good,
            first_bad,
            ..
        } => {
            assert!(last_good <= key_cycle && first_bad > key_cycle, "{outcome}");
        }
        o => panic!("a changed key must diverge: {o}"),
    }
}

#[test]
fn freedos_session_recorded_and_replayed_through_the_cli() {
    let Some((bios, floppy)) = freedos_data("record/replay") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dos.log");
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["run", "--bios"])
        .arg(&bios)
        .arg("--floppy")
        .arg(&floppy)
        .args(["--type", "ver<enter>", "--type-after", "A:\\>"])
        .args([
            "--until-text",
            "A:\\>ver",
            "--settle",
            "1",
            "--timeout",
            "60",
        ])
        .arg("--record")
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replay = |p: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .args(["run", "--replay"])
            .arg(p)
            .output()
            .unwrap()
    };
    let out = replay(&log);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replay matched"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("FreeCom version"));
    // One byte of the log changed: "ver" typed as "vex".
    let text = std::fs::read_to_string(&log).unwrap();
    let bad = dir.path().join("bad.log");
    std::fs::write(&bad, text.replacen("\"ver<enter>\"", "\"vex<enter>\"", 1)).unwrap();
    let out = replay(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("diverged"), "{err}");
}

/// Run `ironpc` with `stdin` fed to it.
fn ironpc_with_input(args: &[&std::ffi::OsStr], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The `disk`/`serial` line of a log, and the log with it replaced.
fn line_of<'a>(log: &'a str, kind: &str) -> &'a str {
    let tag = format!("{{\"t\":\"{kind}\"");
    log.lines()
        .find(|l| l.starts_with(&tag))
        .unwrap_or_else(|| panic!("no {kind} entry in the log:\n{log}"))
}

#[test]
fn serial_input_and_a_disk_swap_are_recorded_and_replayed_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), "fast");
    // The loop machine with one (empty) 360K drive.
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(
        &profile,
        text.replace("floppies: []", "floppies:\n  - type: 360k"),
    )
    .unwrap();
    // Two different 360 KB images (a size the drive takes): the swap puts
    // the first in A: and the board's state holds its bytes from then on.
    let (one, two) = (dir.path().join("one.img"), dir.path().join("two.img"));
    std::fs::write(&one, vec![0xE5u8; 368_640]).unwrap();
    std::fs::write(&two, vec![0xF6u8; 368_640]).unwrap();
    let record = |log: &std::path::Path, image: &std::path::Path, input: &[u8]| {
        let swap = format!("A:{}", image.display());
        let out = ironpc_with_input(
            &[
                "run".as_ref(),
                "--machine".as_ref(),
                profile.as_os_str(),
                "--serial".as_ref(),
                "stdio".as_ref(),
                "--swap".as_ref(),
                swap.as_ref(),
                "--record".as_ref(),
                log.as_os_str(),
                "--record-interval".as_ref(),
                "0.05".as_ref(),
                "--save-state".as_ref(),
                dir.path().join("end.ironpc").as_os_str(),
                "--save-at".as_ref(),
                "3".as_ref(),
                "--timeout".as_ref(),
                "60".as_ref(),
            ],
            input,
        );
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        assert!(err.contains("inserted"), "{err}");
        std::fs::read_to_string(log).unwrap()
    };
    let log = dir.path().join("a.log");
    let text = record(&log, &one, b"AT\r");
    // The bytes typed on standard input, in hex, and the image, logged.
    assert!(
        line_of(&text, "serial").contains("\"hex\":\"41540d\""),
        "{text}"
    );
    assert!(line_of(&text, "disk").contains("\"drive\":0"));
    let replay = |p: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .args(["run", "--replay"])
            .arg(p)
            .output()
            .unwrap()
    };
    let out = replay(&log);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replay matched"), "{err}");
    // The same log with the other image in its disk entry: the states
    // differ from the first hash after the swap.
    let other = record(&dir.path().join("b.log"), &two, b"AT\r");
    let swapped = text.replace(line_of(&text, "disk"), line_of(&other, "disk"));
    assert_ne!(swapped, text);
    let bad = dir.path().join("bad-disk.log");
    std::fs::write(&bad, swapped).unwrap();
    let out = replay(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("diverged"), "{err}");
    // Another first serial byte: the guest never reads the UART, so its
    // one-byte receive buffer keeps the first byte (the next two overrun)
    // and holds 'B' where the recording had 'A'.
    let changed = text.replace("\"hex\":\"41540d\"", "\"hex\":\"42540d\"");
    let bad = dir.path().join("bad-serial.log");
    std::fs::write(&bad, changed).unwrap();
    let out = replay(&bad);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("diverged"), "{err}");
}
