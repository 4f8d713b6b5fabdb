//! `ironpc run` and `ironpc bench` as a new user meets them: argument
//! checks before anything runs, bounded reading of input files, time
//! limits that hold, and the exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ironpc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ironpc"));
    c.stdin(Stdio::null());
    c
}

/// Run with a watchdog: the command must end within `limit`.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit status 2 with an error line holding every needle.
fn assert_error(o: &Output, needles: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {e}");
    assert!(!e.contains("panicked"), "{e}");
    for n in needles {
        assert!(e.contains(n), "'{n}' not in: {e}");
    }
}

/// An 8 KiB BIOS ROM running `code` from F000:E000 (reset vector at
/// FFFF:0000), in a profile with no floppy drives.
fn machine(dir: &Path, code: &[u8]) -> PathBuf {
    let mut rom = vec![0xF4; 8192];
    rom[..code.len()].copy_from_slice(code);
    rom[0x1FF0..0x1FF5].copy_from_slice(&[0xEA, 0x00, 0xE0, 0x00, 0xF0]);
    std::fs::write(dir.join("bios.rom"), rom).unwrap();
    let profile = dir.join("m.yaml");
    std::fs::write(
        &profile,
        "cpu: '8088'\nram_kib: 64\nbios: bios.rom\nvideo: cga\nfloppies: []\n",
    )
    .unwrap();
    profile
}

/// `mov al,0 / out F4h,al`: exits at once (status (0 << 1) | 1 = 1).
const EXITS: &[u8] = &[0xB0, 0x00, 0xE6, 0xF4];
/// `jmp $`: runs for ever.
const LOOPS: &[u8] = &[0xEB, 0xFE];

#[test]
fn timeout_must_be_a_positive_finite_number() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), EXITS);
    for bad in ["-1", "0", "NaN", "inf", "-inf", "soon"] {
        let o = ironpc()
            .args(["run", "--machine"])
            .arg(&m)
            .arg(format!("--timeout={bad}"))
            .output()
            .unwrap();
        assert_error(&o, &["--timeout"]);
    }
    // Huge values are capped, not a panic converting them to a Duration.
    for huge in ["1e19", "1e30"] {
        let o = ironpc()
            .args(["run", "--machine"])
            .arg(&m)
            .args(["--timeout", huge])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
}

#[test]
fn run_reports_emulated_speed() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), EXITS);
    let o = ironpc()
        .args(["run", "--machine"])
        .arg(&m)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    // Three instructions ran: the far jump at the reset vector, MOV, OUT.
    assert!(e.contains(": 3 instructions, "), "{e}");
    assert!(
        e.contains("emulated MIPS") && e.contains("emulated/wall time"),
        "{e}"
    );
}

#[test]
fn devices_and_fifos_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), EXITS);
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let mut specials = vec![PathBuf::from("/dev/zero")];
    if made.is_ok_and(|s| s.success()) {
        specials.push(fifo);
    }
    for special in &specials {
        let s = special.to_str().unwrap();
        let cases: Vec<Vec<&str>> = vec![
            vec!["run", "--machine", m.to_str().unwrap(), "--floppy", s],
            vec!["run", "--machine", m.to_str().unwrap(), "--bios", s],
            vec!["run", "--machine", s],
            vec!["bench", s],
        ];
        for args in cases {
            let mut c = ironpc();
            c.args(&args);
            let o = output_within(c, Duration::from_secs(10));
            assert!(
                matches!(o.status.code(), Some(1) | Some(2)),
                "{args:?}: {}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains("not a regular file"),
                "{args:?}: {}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains(s),
                "{args:?} names the file: {}",
                stderr(&o)
            );
        }
    }
}

#[test]
fn oversized_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), EXITS);
    // One byte more than a 2.88M floppy.
    let big = dir.path().join("big.img");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(2880 * 1024 + 1)
        .unwrap();
    let o = ironpc()
        .args(["run", "--machine"])
        .arg(&m)
        .arg("--floppy")
        .arg(&big)
        .output()
        .unwrap();
    assert_error(&o, &["big.img", "larger than the largest floppy image"]);
}

#[test]
fn bench_gives_up_at_its_timeout_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut sector = vec![0u8; 512];
    sector[..2].copy_from_slice(LOOPS);
    sector[510] = 0x55;
    sector[511] = 0xAA;
    let img = dir.path().join("loop.bin");
    std::fs::write(&img, sector).unwrap();
    let mut c = ironpc();
    c.arg("bench")
        .arg(&img)
        .args(["--rounds", "1", "--timeout", "0.5"]);
    let o = output_within(c, Duration::from_secs(20));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("did not exit through port F4h"), "{e}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("wall-time limit"));
    let o = ironpc().args(["bench", "--rounds", "0"]).output().unwrap();
    assert_error(&o, &["--rounds"]);
}

#[test]
fn empty_until_text_and_bad_settle_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), LOOPS);
    let o = ironpc()
        .args(["run", "--machine"])
        .arg(&m)
        .args(["--until-text", ""])
        .output()
        .unwrap();
    assert_error(&o, &["--until-text", "empty"]);
    for bad in ["-1", "NaN", "inf"] {
        let o = ironpc()
            .args(["run", "--machine"])
            .arg(&m)
            .arg(format!("--settle={bad}"))
            .output()
            .unwrap();
        assert_error(&o, &["--settle"]);
    }
}

/// `mov ax,B800h / mov es,ax / mov word [es:0],0758h / jmp $`: an `X` in
/// the top-left corner of the CGA text screen, then a loop.
const SHOWS_X: &[u8] = &[
    0xB8, 0x00, 0xB8, 0x8E, 0xC0, 0x26, 0xC7, 0x06, 0x00, 0x00, 0x58, 0x07, 0xEB, 0xFE,
];

#[test]
fn settle_is_bounded_by_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), SHOWS_X);
    let mut c = ironpc();
    c.args(["run", "--machine"]).arg(&m).args([
        "--until-text",
        "X",
        "--settle",
        "1e30",
        "--timeout",
        "1",
    ]);
    let o = output_within(c, Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    // A short settle after the text is a success.
    let mut c = ironpc();
    c.args(["run", "--machine"])
        .arg(&m)
        .args(["--until-text", "X", "--settle", "0.1"]);
    let o = output_within(c, Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn screenshot_path_is_checked_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), LOOPS);
    let mut c = ironpc();
    c.args(["run", "--machine"])
        .arg(&m)
        .args(["--timeout", "30", "--screenshot"])
        .arg(dir.path());
    let o = output_within(c, Duration::from_secs(10));
    assert_error(&o, &["--screenshot", "is a directory"]);
}

#[test]
fn a_bare_boot_sector_boots_from_the_floppy_drive() {
    // A real BIOS is needed to load the sector: skipped without the data.
    let shared = std::env::var_os("IRONPC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let bios = shared.join("images/bios/glabios-0.2.6-xt.rom");
    if !bios.exists() {
        if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
            panic!("IRONPC_REQUIRE_DATA=1 but {} is missing", bios.display());
        }
        println!("SKIPPED: {} missing (set IRONPC_SHARED)", bios.display());
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {} missing (set IRONPC_SHARED)",
            bios.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // `mov al,'B' / out E9h,al / mov al,0 / out F4h,al`, signed 55 AA.
    let mut sector = vec![0u8; 512];
    sector[..8].copy_from_slice(&[0xB0, b'B', 0xE6, 0xE9, 0xB0, 0x00, 0xE6, 0xF4]);
    sector[510] = 0x55;
    sector[511] = 0xAA;
    let img = dir.path().join("boot.bin");
    std::fs::write(&img, sector).unwrap();
    let con = dir.path().join("con.txt");
    let mut c = ironpc();
    c.arg("run")
        .arg("--bios")
        .arg(&bios)
        .arg("--floppy")
        .arg(&img)
        .arg("--debugcon")
        .arg(&con)
        .args(["--timeout", "60"]);
    let o = output_within(c, Duration::from_secs(90));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read(&con).unwrap(), b"B");
}

/// `--realtime` keeps emulated time with the wall clock: a guest that
/// loops for a one-second timeout gets about one emulated second (not the
/// hundreds a free run gives), and the report says so.
#[test]
fn realtime_paces_emulated_time_to_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), LOOPS);
    let mut c = ironpc();
    c.args(["run", "--machine"])
        .arg(&m)
        .args(["--realtime", "--timeout", "1"]);
    let o = output_within(c, Duration::from_secs(20));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{e}");
    let ratio: f64 = e
        .split("emulated/wall time ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no ratio in: {e}"));
    assert!((0.8..=1.1).contains(&ratio), "emulated/wall {ratio}: {e}");
}

/// The top-level help says what ironpc is before listing commands.
#[test]
fn help_says_what_ironpc_is() {
    let o = ironpc().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        text.lines()
            .next()
            .unwrap_or("")
            .contains("x86 PC emulator"),
        "{text}"
    );
}
