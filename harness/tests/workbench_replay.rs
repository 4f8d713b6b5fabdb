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
