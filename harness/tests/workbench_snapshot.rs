//! Snapshots: a machine saved, loaded and run on reaches the same state at
//! the same emulated instants as one that never stopped, on both timing
//! models; bad files are refused with a clear error.

mod workbench_support;

use chipset::{Machine, Overrides};
use cpu::{ExactTiming, FastTiming};
use harness::workbench::snapshot::{self, Saveable, SnapshotError};
use std::path::Path;
use workbench_support::*;

/// A hash of everything a snapshot holds (the state and the time).
fn state_hash<T: Saveable>(m: &Machine<T>) -> u64 {
    snapshot::state_hash(m).unwrap()
}

fn round_trip<T: Saveable>(m: &Machine<T>) -> Machine<T> {
    let bytes = snapshot::encode(m).unwrap();
    snapshot::decode(&bytes, Path::new("memory")).unwrap()
}

/// A program with a REP STOSW and a HLT with interrupts off (hand assembly):
///
/// ```text
/// FF80:0000  31 C0      xor ax, ax
/// FF80:0002  8E C0      mov es, ax     ; 8E /r, ModR/M 11 000 000
/// FF80:0004  BF 00 04   mov di, 0400h
/// FF80:0007  B9 00 01   mov cx, 0100h
/// FF80:000A  B8 AA 55   mov ax, 55AAh
/// FF80:000D  FC         cld
/// FF80:000E  F3 AB      rep stosw
/// FF80:0010  F4         hlt            ; IF = 0: halted for good
/// FF80:0011  40         inc ax         ; reached only if HLT is lost
/// FF80:0012  EB FD      jmp 0011h      ; 0014h - 3
/// ```
const REP_HLT: &[u8] = &[
    0x31, 0xC0, 0x8E, 0xC0, 0xBF, 0x00, 0x04, 0xB9, 0x00, 0x01, 0xB8, 0xAA, 0x55, 0xFC, 0xF3, 0xAB,
    0xF4, 0x40, 0xEB, 0xFD,
];

fn rep_hlt_machine<T: Saveable>(dir: &Path, timing: &str) -> Machine<T> {
    let p = profile(dir, timing);
    let mut rom = rom();
    rom[..REP_HLT.len()].copy_from_slice(REP_HLT);
    std::fs::write(dir.join("loop.rom"), rom).unwrap();
    Machine::from_profile_timed(&p, &Overrides::default()).unwrap()
}

/// Save and load at every instruction boundary of the program (and while
/// halted) and between iterations of its REP; each restored machine
/// matches the unbroken run at three later instants.
fn every_boundary<T: Saveable>(timing: &str) {
    let dir = tempfile::tempdir().unwrap();
    let fresh = || rep_hlt_machine::<T>(dir.path(), timing);
    // All after the last save point (the REP ends near cycle 3600).
    let instants = [5_000u64, 10_000, 30_000];
    let mut unbroken = fresh();
    let mut want = Vec::new();
    for &t in &instants {
        unbroken.run_for(t - unbroken.cycles());
        want.push((unbroken.cycles(), state_hash(&unbroken)));
    }
    // The program ran: 256 words stored, then halted with AX = 55AAh.
    assert!(unbroken.cpu.halted(), "the program ends halted");
    assert_eq!(unbroken.cpu.regs.gpr[0], 0x55AA, "HLT must hold");
    assert_eq!(unbroken.board.ram[0x400], 0xAA);
    assert_eq!(unbroken.board.ram[0x5FF], 0x55);
    assert_eq!(unbroken.board.ram[0x600], 0);
    // A stepping machine stops the REP after every iteration (7 steps
    // before it, 256 iterations): steps 8 to 262 leave it in progress.
    let mut mid_rep = 0;
    for k in (0..12).chain([20, 100, 200, 261, 262, 263, 264]) {
        let mut m = fresh();
        for _ in 0..k {
            m.step();
        }
        mid_rep += m.cpu.in_rep() as u32;
        assert_eq!(
            m.cpu.in_rep(),
            (8..=262).contains(&k),
            "{timing}: after {k} steps"
        );
        let halted = m.cpu.halted();
        assert!(m.cycles() < instants[0]);
        let mut r = round_trip(&m);
        assert_eq!(r.cycles(), m.cycles());
        assert_eq!(r.cpu.halted(), halted);
        for (&t, w) in instants.iter().zip(&want) {
            r.run_for(t.saturating_sub(r.cycles()));
            assert_eq!(
                (r.cycles(), state_hash(&r)),
                *w,
                "{timing}: restored after {k} steps, compared at cycle {t}"
            );
        }
    }
    assert_eq!(mid_rep, 9, "{timing}: saves inside the REP");
}

#[test]
fn fast_model_restores_at_every_boundary_including_hlt() {
    every_boundary::<FastTiming>("fast");
}

#[test]
fn exact_model_restores_clock_for_clock_including_hlt() {
    every_boundary::<ExactTiming>("exact");
}

/// Boot FreeDOS, save mid-boot (the floppy busy), load, continue: the same
/// state as the unbroken run at the same instants, through the prompt and
/// typed command.
fn freedos_round_trip<T: Saveable>(timing: &str) {
    let Some((bios, floppy)) = freedos_data(&format!("snapshot {timing}")) else {
        return;
    };
    let profile = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test-suites/machines/xt.yaml");
    let ov = Overrides {
        bios: Some(bios),
        floppies: vec![(0, floppy)],
        timing: Some(timing.into()),
        ..Default::default()
    };
    let hz = 4_772_727u64;
    let mut unbroken: Machine<T> = Machine::from_profile_timed(&profile, &ov).unwrap();
    unbroken.run_for(6 * hz);
    let mut restored = round_trip(&unbroken);
    for t in [8 * hz, 12 * hz, 16 * hz] {
        unbroken.run_for(t - unbroken.cycles());
        restored.run_for(t - restored.cycles());
        assert_eq!(restored.cycles(), unbroken.cycles());
        assert_eq!(
            state_hash(&restored),
            state_hash(&unbroken),
            "{timing}: differs at {t}"
        );
    }
    // On to the prompt: both stop at the same check.
    let prompt = |m: &Machine<T>| m.screen_text().contains("A:\\>");
    for m in [&mut unbroken, &mut restored] {
        m.run_until_within(60 * hz, prompt);
    }
    assert!(prompt(&unbroken), "{}", unbroken.screen_text());
    assert_eq!(restored.cycles(), unbroken.cycles());
    assert_eq!(state_hash(&restored), state_hash(&unbroken));
    // At the prompt: wait for a HLT if the BIOS idles in one, save there.
    for _ in 0..2_000_000 {
        if unbroken.cpu.halted() {
            break;
        }
        unbroken.step();
    }
    let mut restored = round_trip(&unbroken);
    for m in [&mut unbroken, &mut restored] {
        m.type_keys("ver<enter>").unwrap();
        m.run_for(3 * hz);
    }
    assert_eq!(state_hash(&restored), state_hash(&unbroken));
    assert!(restored.screen_text().contains("FreeCom version"));
}

#[test]
fn freedos_fast_model_snapshot_round_trip() {
    freedos_round_trip::<FastTiming>("fast");
}

#[test]
fn freedos_exact_model_snapshot_round_trip() {
    freedos_round_trip::<ExactTiming>("exact");
}

#[test]
fn bad_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let m = rep_hlt_machine::<FastTiming>(dir.path(), "fast");
    let good = snapshot::encode(&m).unwrap();
    let path = dir.path().join("s.ironpc");
    let load = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        snapshot::load::<FastTiming>(&path).map(|_| ())
    };
    assert!(load(&good).is_ok());
    let msg = |r: Result<(), SnapshotError>| r.unwrap_err().to_string();
    // Wrong machine kind: the fast snapshot loaded as exact.
    std::fs::write(&path, &good).unwrap();
    let e = snapshot::load::<ExactTiming>(&path)
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, SnapshotError::WrongMachine { .. }), "{e}");
    assert!(e.to_string().contains("xt/fast"), "{e}");
    // Truncated.
    let e = msg(load(&good[..good.len() - 10]));
    assert!(e.contains("truncated") && e.contains("s.ironpc"), "{e}");
    let e = msg(load(&good[..10]));
    assert!(e.contains("truncated"), "{e}");
    // One byte of the body changed: the checksum says so.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 20] ^= 0x01;
    assert!(msg(load(&bad)).contains("checksum"));
    // Another version (bytes 8..12).
    let mut v2 = good.clone();
    v2[8] = 2;
    assert!(msg(load(&v2)).contains("version 2"));
    // Not a snapshot at all.
    assert!(msg(load(b"hello, world, this is no snapshot")).contains("magic"));
    // Missing file.
    let e = snapshot::load::<FastTiming>(&dir.path().join("none")).unwrap_err();
    assert!(matches!(e, SnapshotError::Io { .. }));
}
