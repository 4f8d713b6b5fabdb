//! Snapshots and record/replay on the AT and PCI machines (issue 18):
//! FreeDOS on the at-486 saved at its prompt and loaded again runs on to
//! the same state hashes at the same emulated instants as a run that never
//! stopped; the CPU saved inside HLT; a typed FreeDOS session on `pc`
//! recorded and replayed with equal hashes, and a one-byte change to the
//! log found; damaged snapshot files refused with their name.
//! Needs the Debian firmware packages (bochsbios, vgabios) and the shared
//! FreeDOS floppy; skips visibly without them and fails without them under
//! IRONPC_REQUIRE_DATA=1.

use chipset::at::{build_pc, AtPc};
use chipset::MachineProfile;
use harness::workbench::replay::{read_log, Entry, Outcome};
use harness::workbench::{atreplay, atsnap};
use std::io::Write;
use std::path::{Path, PathBuf};

fn machines() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines")
}

fn shared() -> PathBuf {
    std::env::var_os("IRONPC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("IRONPC_REQUIRE_DATA=1: {msg}");
    }
    println!("SKIPPED: {msg}");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
}

/// The profile `name` with the shared FreeDOS floppy in A:, or None
/// (skipped) without the firmware or the image.
fn profile(name: &str) -> Option<MachineProfile> {
    let mut p = MachineProfile::load(&machines().join(format!("{name}.yaml"))).unwrap();
    let mut fw = vec![p.bios.clone()];
    fw.extend(p.vga_bios.clone());
    for f in fw {
        let file = f.file_name().unwrap().to_string_lossy().to_string();
        let found = [
            "/usr/share/bochs",
            "/usr/share/vgabios",
            "/usr/share/seabios",
        ]
        .iter()
        .any(|d| Path::new(d).join(&file).exists())
            || std::env::var_os("IRONPC_FIRMWARE")
                .is_some_and(|d| Path::new(&d).join(&file).exists());
        if !found {
            skip(&format!(
                "firmware {file} not installed (apt-get install bochsbios vgabios)"
            ));
            return None;
        }
    }
    let img = shared().join("images/floppy/freedos-1440k.img");
    if !img.exists() {
        skip(&format!("{} missing (set IRONPC_SHARED)", img.display()));
        return None;
    }
    p.floppies[0].image = Some(img);
    Some(p)
}

fn screen(pc: &AtPc) -> String {
    pc.vga.borrow().screen_text()
}

/// Run in 10 ms pieces until the screen shows `text` (within `secs`
/// emulated seconds).
fn run_to_text(pc: &mut AtPc, text: &str, secs: u64) {
    let hz = pc.run.board.config.clock_hz;
    while !screen(pc).contains(text) {
        assert!(
            pc.run.now() < secs * hz,
            "no {text} after {secs} s; screen:\n{}",
            screen(pc)
        );
        pc.run.run_for(hz / 100);
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Type `ver` and `dir` with pauses, hashing at five instants: the
/// (cycle, hash) pairs. Both runs make the same calls from the same state.
fn continue_session(pc: &mut AtPc) -> Vec<(u64, u64)> {
    let hz = pc.run.board.config.clock_hz;
    let mut hashes = Vec::new();
    let mut mark = |pc: &AtPc| hashes.push((pc.run.now(), atsnap::state_hash(pc).unwrap()));
    pc.run.run_for(hz / 10);
    mark(pc);
    pc.run.board.type_keys("ver<enter>").unwrap();
    pc.run.run_for(hz / 2);
    mark(pc);
    pc.run.board.type_keys("dir<enter>").unwrap();
    pc.run.run_for(hz / 3);
    mark(pc);
    pc.run.run_for(hz);
    mark(pc);
    hashes
}

#[test]
fn at486_freedos_saved_at_the_prompt_runs_on_like_a_run_that_never_stopped() {
    let Some(p) = profile("at-486") else { return };
    let mut pc = build_pc(&p, &machines()).unwrap();
    run_to_text(&mut pc, "A:\\>", 40);
    let dir = tmp();
    let file = dir.path().join("prompt.ironpc");
    atsnap::save(&pc, &file).unwrap();
    let saved_at = pc.run.now();
    let saved_hash = atsnap::state_hash(&pc).unwrap();

    let straight = continue_session(&mut pc);
    let straight_screen = screen(&pc);
    // The session did something: FreeDOS printed its shell's version and a listing.
    assert!(
        straight_screen.contains("FreeCom version"),
        "{straight_screen}"
    );
    assert!(straight_screen.contains("bytes free"), "{straight_screen}");
    // The hash follows the state: it changed while the guest worked.
    assert_ne!(straight[0].1, straight[3].1);

    let mut loaded = atsnap::load(&file).unwrap();
    assert_eq!(loaded.run.now(), saved_at);
    assert_eq!(atsnap::state_hash(&loaded).unwrap(), saved_hash);
    assert!(screen(&loaded).contains("A:\\>"));
    let resumed = continue_session(&mut loaded);
    assert_eq!(resumed, straight);
    assert_eq!(screen(&loaded), straight_screen);
    assert_eq!(loaded.run.cpu.regs(), pc.run.cpu.regs());
    assert_eq!(loaded.run.cpu.instructions(), pc.run.cpu.instructions());
}

#[test]
fn at486_saved_inside_hlt_wakes_at_the_same_interrupt() {
    let Some(p) = profile("at-486") else { return };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let hz = pc.run.board.config.clock_hz;
    // The BIOS waits for interrupts with STI; HLT while it boots (a tenth
    // of a second in): run in 1 ms pieces until one ends with the CPU
    // halted, waiting for its next interrupt.
    while !pc.run.cpu.halted() {
        pc.run.run_for(hz / 1000);
        assert!(pc.run.now() < 5 * hz, "the CPU never halted while booting");
    }
    let dir = tmp();
    let file = dir.path().join("hlt.ironpc");
    atsnap::save(&pc, &file).unwrap();
    let mut loaded = atsnap::load(&file).unwrap();
    assert!(loaded.run.cpu.halted());
    pc.run.board.log_irqs(true);
    loaded.run.board.log_irqs(true);
    for m in [&mut pc, &mut loaded] {
        run_to_text(m, "A:\\>", 40);
        m.run.board.type_keys("ver<enter>").unwrap();
        m.run.run_for(hz / 2);
    }
    let (a, b) = (pc.run.board.take_irq_log(), loaded.run.board.take_irq_log());
    // The first interrupt woke the halted CPU; then came the whole boot
    // (timer, vector 08h; floppy, 0Eh; keyboard, 09h), in both at the same
    // cycles.
    for v in [0x08, 0x09, 0x0E] {
        assert!(a.iter().any(|&(_, x)| x == v), "no vector {v:02X}h");
    }
    assert_eq!(a, b);
    assert!(
        screen(&loaded).contains("FreeCom version"),
        "{}",
        screen(&loaded)
    );
    assert_eq!(
        atsnap::state_hash(&loaded).unwrap(),
        atsnap::state_hash(&pc).unwrap()
    );
}

/// A REP string instruction stops between iterations with its count
/// register part-way down and EIP still on the instruction (the SDM's
/// restartable form); a snapshot taken there resumes the remaining
/// iterations and the rest of the boot exactly as the run that never
/// stopped.
#[test]
fn at486_saved_in_the_middle_of_a_rep_string_resumes_it() {
    let Some(p) = profile("at-486") else { return };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let hz = pc.run.board.config.clock_hz;
    // The BIOS clears memory with REP STOS while it starts: step until a
    // step left EIP where it was with CX lower and not yet zero.
    loop {
        let before = pc.run.cpu.regs();
        pc.run.step();
        let after = pc.run.cpu.regs();
        let cx = |r: &cpu::ia32::Regs32| r.r[1] & 0xFFFF;
        if after.eip == before.eip
            && after.sel[1] == before.sel[1]
            && cx(&after) != 0
            && cx(&after) < cx(&before)
            && !pc.run.cpu.halted()
        {
            break;
        }
        assert!(
            pc.run.now() < 2 * hz,
            "no REP string seen in the BIOS start"
        );
    }
    let mid = pc.run.cpu.regs();
    let dir = tmp();
    let file = dir.path().join("rep.ironpc");
    atsnap::save(&pc, &file).unwrap();
    let mut loaded = atsnap::load(&file).unwrap();
    assert_eq!(loaded.run.cpu.regs(), mid);
    pc.run.board.log_irqs(true);
    loaded.run.board.log_irqs(true);
    // The next step continues the same string instruction in both.
    pc.run.step();
    loaded.run.step();
    assert_eq!(loaded.run.cpu.regs(), pc.run.cpu.regs());
    assert!(
        pc.run.cpu.regs().r[1] & 0xFFFF < mid.r[1] & 0xFFFF || pc.run.cpu.regs().eip != mid.eip
    );
    for m in [&mut pc, &mut loaded] {
        run_to_text(m, "A:\\>", 40);
    }
    assert_eq!(pc.run.board.take_irq_log(), loaded.run.board.take_irq_log());
    assert_eq!(loaded.run.cpu.instructions(), pc.run.cpu.instructions());
    assert_eq!(
        atsnap::state_hash(&loaded).unwrap(),
        atsnap::state_hash(&pc).unwrap()
    );
}

#[test]
fn damaged_at_snapshots_are_refused_naming_the_file() {
    let Some(p) = profile("at-486") else { return };
    let pc = build_pc(&p, &machines()).unwrap();
    let good = atsnap::encode(&pc).unwrap();
    let dir = tmp();
    let check = |name: &str, bytes: &[u8], needle: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let e = match atsnap::load(&f) {
            Ok(_) => panic!("{name}: loaded"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&f.display().to_string()), "{name}: {e}");
        assert!(e.contains(needle), "{name}: {e}");
    };
    check("truncated.ironpc", &good[..good.len() - 100], "truncated");
    check("header.ironpc", &good[..20], "truncated in the header");
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 50] ^= 0x40;
    check("corrupt.ironpc", &flipped, "checksum mismatch");
    // The kind is at byte 14 ("at/isa"): an XT kind is another machine.
    let mut xt = good.clone();
    assert_eq!(&xt[14..20], b"at/isa");
    xt[14..16].copy_from_slice(b"xt");
    check("xt.ironpc", &xt, "machine kind 'xt/isa'");
    let mut v = good.clone();
    v[8] = 9;
    check("version.ironpc", &v, "format version 9");
    check("empty.ironpc", &[], "truncated in the header");
}

/// Record a FreeDOS session on `pc` typed at the prompt, as the CLI does:
/// run in pieces that end at each due hash; returns the log's path.
fn record_session(dir: &Path) -> Option<PathBuf> {
    let p = profile("pc")?;
    let mut pc = build_pc(&p, &machines()).unwrap();
    let hz = pc.run.board.config.clock_hz;
    let log = dir.join("session.log");
    let mut r = atreplay::AtRecorder::create(&log, &pc, hz / 10).unwrap();
    let keys = ["ver<enter>", "dir<enter>", "echo done<enter>"];
    // Once the prompt is up, a command every 0.7 s; the run ends 1 s
    // after the last.
    let mut next_key: Option<u64> = None;
    let mut typed = 0;
    loop {
        let end = (pc.run.now() + hz / 100).min(r.next_hash().max(pc.run.now() + 1));
        pc.run.run_for(end - pc.run.now());
        r.checkpoint(&pc).unwrap();
        if next_key.is_none() && screen(&pc).contains("A:\\>") {
            next_key = Some(pc.run.now());
        }
        if let Some(t) = next_key {
            if pc.run.now() >= t {
                if typed == keys.len() {
                    break;
                }
                r.keys(&mut pc, keys[typed]).unwrap();
                typed += 1;
                next_key = Some(pc.run.now() + if typed == keys.len() { hz } else { hz * 7 / 10 });
            }
        }
        assert!(
            pc.run.now() < 60 * hz,
            "session stuck; screen:\n{}",
            screen(&pc)
        );
    }
    r.finish(&pc).unwrap();
    Some(log)
}

#[test]
fn a_recorded_freedos_session_on_pc_replays_with_equal_hashes_and_a_changed_byte_is_found() {
    let dir = tmp();
    let Some(log_path) = record_session(dir.path()) else {
        return;
    };
    let log = read_log(&log_path).unwrap();
    assert_eq!(log.kind, "at/pci");
    let hashes = log
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::Hash { .. }))
        .count();
    assert!(hashes > 20, "{hashes} hashes");
    let (pc, outcome) = atreplay::replay(&log, &log_path).unwrap();
    assert_eq!(outcome, Outcome::Matched(hashes));
    assert!(screen(&pc).contains("done"));

    // Change one byte of the log: the "dir" typed becomes "dis". The
    // replay types the other command there and the state differs from the
    // first hash after it on (and not before: everything up to the keys
    // is as recorded).
    let text = std::fs::read_to_string(&log_path).unwrap();
    let at = text.find("\"text\":\"dir<enter>\"").unwrap() + "\"text\":\"di".len();
    let mut bytes = text.into_bytes();
    assert_eq!(bytes[at], b'r');
    bytes[at] = b's';
    let bad_path = dir.path().join("changed.log");
    std::fs::write(&bad_path, &bytes).unwrap();
    let bad = read_log(&bad_path).unwrap();
    let keys_cycle = bad
        .entries
        .iter()
        .find_map(|e| match e {
            Entry::Keys { cycle, text } if text == "dis<enter>" => Some(*cycle),
            _ => None,
        })
        .unwrap();
    let hash_cycles: Vec<u64> = bad
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Hash { cycle, .. } => Some(*cycle),
            _ => None,
        })
        .collect();
    let first_after = *hash_cycles.iter().find(|&&c| c > keys_cycle).unwrap();
    let last_before = *hash_cycles
        .iter()
        .rev()
        .find(|&&c| c <= keys_cycle)
        .unwrap();
    let matched_before = hash_cycles.iter().filter(|&&c| c <= keys_cycle).count();
    let (_, outcome) = atreplay::replay(&bad, &bad_path).unwrap();
    assert_eq!(
        outcome,
        Outcome::Diverged {
            last_good: last_before,
            first_bad: first_after,
            matched: matched_before,
        }
    );
    let report = outcome.report(200e6);
    assert!(
        report.contains(&format!("differs at cycle {first_after}")),
        "{report}"
    );
}

// ---- The command line ----

fn ironpc(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn cli_at486_save_state_at_the_prompt_then_load_state_and_type() {
    let Some(p) = profile("at-486") else { return };
    let floppy = p.floppies[0].image.clone().unwrap();
    let dir = tmp();
    let snap = dir.path().join("prompt.ironpc");
    let (f, s) = (floppy.to_str().unwrap(), snap.to_str().unwrap());
    let out = ironpc(&[
        "run",
        "--machine",
        "at-486",
        "--floppy",
        f,
        "--until-text",
        "A:\\>",
        "--save-state",
        s,
    ]);
    let (screen, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("ironpc: saved {s} at ")), "{err}");
    assert!(screen.contains("A:\\>"), "{screen}");
    // Loading needs no --machine: the snapshot names its profile.
    let out = ironpc(&[
        "run",
        "--load-state",
        s,
        "--type",
        "dir<enter>",
        "--until-text",
        "bytes free",
        "--timeout",
        "60",
    ]);
    let (screen, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("ironpc: loaded {s} at ")), "{err}");
    // The listing of the floppy: FreeDOS read it after the load.
    assert!(screen.contains("KERNEL   SYS"), "{screen}");

    // A damaged file: one error naming it, nothing run.
    let bytes = std::fs::read(&snap).unwrap();
    let cut = dir.path().join("cut.ironpc");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = ironpc(&["run", "--load-state", cut.to_str().unwrap()]);
    let (screen, err) = text(&out);
    assert!(!out.status.success());
    assert!(
        err.contains(cut.to_str().unwrap()) && err.contains("truncated"),
        "{err}"
    );
    assert!(!err.contains("stopped after"), "{err}");
    assert!(screen.is_empty(), "{screen}");
}

#[test]
fn cli_at486_record_then_replay_matches() {
    let Some(p) = profile("at-486") else { return };
    let floppy = p.floppies[0].image.clone().unwrap();
    let dir = tmp();
    let log = dir.path().join("session.log.gz");
    let (f, l) = (floppy.to_str().unwrap(), log.to_str().unwrap());
    let out = ironpc(&[
        "run",
        "--machine",
        "at-486",
        "--floppy",
        f,
        "--type",
        "ver<enter>",
        "--type-after",
        "A:\\>",
        "--until-text",
        "FreeCom version",
        "--settle",
        "0.2",
        "--record",
        l,
        "--record-interval",
        "0.5",
    ]);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let out = ironpc(&["run", "--replay", l]);
    let (screen, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replay matched the recording"), "{err}");
    assert!(screen.contains("FreeCom version"), "{screen}");
}

fn serial(pc: &AtPc) -> String {
    String::from_utf8_lossy(pc.com[0].borrow().output()).into_owned()
}

/// Run in 10 ms pieces until COM1's output after byte `from` contains
/// `text` (within `secs` more emulated seconds).
fn run_to_serial(pc: &mut AtPc, from: usize, text: &str, secs: u64) {
    let hz = pc.run.board.config.clock_hz;
    let end = pc.run.now() + secs * hz;
    while !serial(pc)[from..].contains(text) {
        assert!(
            pc.run.now() < end,
            "no {text:?} on COM1; output:\n{}",
            serial(pc)
        );
        pc.run.run_for(hz / 100);
    }
}

#[test]
#[ignore = "boots Linux (about 6 G instructions): minutes of wall time"]
fn linux_saved_at_the_busybox_prompt_answers_uname_after_loading() {
    let img = shared().join("images/disk/linux-686-busybox.img");
    if !img.exists() {
        return skip(&format!("{} missing (set IRONPC_SHARED)", img.display()));
    }
    let Some(mut p) = profile("pc") else { return };
    p.floppies[0].image = None;
    p.hda = Some(img);
    let mut pc = build_pc(&p, &machines()).unwrap();
    run_to_serial(&mut pc, 0, "/ # ", 120);
    let dir = tmp();
    let file = dir.path().join("linux.ironpc");
    atsnap::save(&pc, &file).unwrap();
    let mut loaded = atsnap::load(&file).unwrap();
    for m in [&mut pc, &mut loaded] {
        let before = serial(m).len();
        atreplay::receive_serial(m, b"uname -a\n");
        run_to_serial(m, before, "\n/ # ", 20);
        let out = serial(m)[before..].to_string();
        assert!(out.contains("i686 GNU/Linux"), "{out}");
    }
    assert_eq!(serial(&loaded), serial(&pc));
    assert_eq!(loaded.run.now(), pc.run.now());
    assert_eq!(
        atsnap::state_hash(&loaded).unwrap(),
        atsnap::state_hash(&pc).unwrap()
    );
}

#[test]
fn a_pc_with_a_writable_disk_is_not_saved() {
    let Some(mut p) = profile("at-486") else {
        return;
    };
    let dir = tmp();
    let disk = dir.path().join("disk.img");
    // 20 cylinders x 16 heads x 63 sectors of 512 bytes: a small disk.
    std::fs::write(&disk, vec![0u8; 20 * 16 * 63 * 512]).unwrap();
    p.hda = Some(disk.clone());
    p.hda_writable = true;
    let pc = build_pc(&p, &machines()).unwrap();
    let file = dir.path().join("w.ironpc");
    let e = atsnap::save(&pc, &file).unwrap_err().to_string();
    assert!(
        e.contains("writable") && e.contains(&disk.display().to_string()),
        "{e}"
    );
    assert!(!file.exists());
    // The same disk read-only (guest writes kept in memory) is saved.
    p.hda_writable = false;
    let pc = build_pc(&p, &machines()).unwrap();
    atsnap::save(&pc, &file).unwrap();
    assert!(atsnap::load(&file).is_ok());
}

#[test]
fn cli_at486_records_swaps_and_serial_input_and_replays_them() {
    let Some(p) = profile("at-486") else { return };
    let floppy = p.floppies[0].image.clone().unwrap();
    let dir = tmp();
    // The other disk: the same FreeDOS image (so that `dir` still lists it)
    // under another name.
    let other = dir.path().join("other.img");
    std::fs::copy(&floppy, &other).unwrap();
    let log = dir.path().join("swap.log");
    let (f, o, l) = (
        floppy.to_str().unwrap(),
        other.to_str().unwrap(),
        log.to_str().unwrap(),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args([
            "run",
            "--machine",
            "at-486",
            "--floppy",
            f,
            "--swap",
            &format!("A:{o}"),
            "--swap-after",
            "A:\\>",
            "--type",
            "dir<enter>",
            "--type-after",
            "A:\\>",
            "--until-text",
            "bytes free",
            "--settle",
            "0.3",
            "--serial",
            "stdio",
            "--record",
            l,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"AT\r").unwrap();
    let out = child.wait_with_output().unwrap();
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("inserted {o}")), "{err}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("\"t\":\"disk\""), "no disk entry");
    assert!(logged.contains("\"t\":\"keys\""), "no keys entry");
    let out = ironpc(&["run", "--replay", l]);
    let (screen, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("replay matched the recording"), "{err}");
    assert!(screen.contains("bytes free"), "{screen}");
    // The bytes typed on COM1 reached the log when the reader thread
    // passed them before the run ended (a pipe closed at once usually
    // does); when logged, they replay as well (checked above).
    if logged.contains("\"t\":\"serial\"") {
        assert!(logged.contains("\"hex\":\"41540d\""), "{logged:.300}");
    }
}

#[test]
fn cli_at486_save_at_an_emulated_second_then_load() {
    let Some(p) = profile("at-486") else { return };
    let floppy = p.floppies[0].image.clone().unwrap();
    let dir = tmp();
    let snap = dir.path().join("t.ironpc");
    let (f, s) = (floppy.to_str().unwrap(), snap.to_str().unwrap());
    // Without --until-text the run ends once the snapshot is written.
    let out = ironpc(&[
        "run",
        "--machine",
        "at-486",
        "--floppy",
        f,
        "--save-at",
        "1.5",
        "--save-state",
        s,
        "--timeout",
        "60",
    ]);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let cycle = |err: &str, what: &str| -> u64 {
        let line = err.lines().find(|l| l.contains(what)).unwrap();
        let n = line.rsplit("(cycle ").next().unwrap().trim_end_matches(')');
        n.parse().unwrap()
    };
    // The first instruction boundary at or after 1.5 s of the 33 MHz
    // clock (49,500,000 cycles). A halted CPU's next boundary is at the
    // next interrupt: at the latest the BIOS's timer tick, every 65,536
    // clocks of the 1.193182 MHz PIT, 1,812,540 CPU cycles.
    let saved = cycle(&err, "ironpc: saved");
    assert!(
        (49_500_000..=49_500_000 + 1_812_540).contains(&saved),
        "{saved}"
    );
    let out = ironpc(&["run", "--load-state", s, "--until-text", "A:\\>"]);
    let (screen, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(cycle(&err, "ironpc: loaded"), saved);
    assert!(screen.contains("A:\\>"), "{screen}");
}
