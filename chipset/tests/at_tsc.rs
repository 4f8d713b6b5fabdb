//! The Pentium Pro's time-stamp counter against the AT board's clock
//! (PIT): tests/asm/tsccal.asm runs Linux's two TSC calibrations and a
//! halt, and the rates it measures must be the configured 200 MHz.
//! Linux compares the TSC with the PIT at boot ("Fast TSC calibration
//! failed", and later "Marking clocksource 'tsc-early' as unstable"
//! when they disagree).

use chipset::at::{AtBoard, AtConfig, AtRun};
use cpu::ia32::{Cpu32, Model32};
use std::process::Command;

const CLOCK_HZ: u64 = 200_000_000;
/// The 8254's input clock (14.31818 MHz / 12).
const PIT_HZ: f64 = 1_193_182.0;

/// Assemble tests/asm/tsccal.asm, or `None` after a visible SKIPPED line.
fn assemble() -> Option<Vec<u8>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asm/tsccal.asm");
    let bin = std::env::temp_dir().join(format!("ironpc-tsccal-{}.bin", std::process::id()));
    match Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
    {
        Ok(s) => assert!(s.success(), "nasm failed on {}", src.display()),
        Err(_) if std::env::var("IRONPC_REQUIRE_DATA").as_deref() != Ok("1") => {
            let msg = "SKIPPED: nasm not installed; cannot assemble tests/asm/tsccal.asm";
            println!("{msg}");
            eprintln!("{msg}");
            return None;
        }
        Err(e) => panic!("nasm is required (IRONPC_REQUIRE_DATA=1): {e}"),
    }
    let rom = std::fs::read(&bin).unwrap();
    let _ = std::fs::remove_file(&bin);
    Some(rom)
}

/// The hex number after `key` on the line starting with `line`.
fn field(out: &str, line: &str, key: &str) -> u64 {
    let l = out
        .lines()
        .find(|l| l.starts_with(line))
        .unwrap_or_else(|| panic!("no line {line:?} in:\n{out}"));
    let v = l
        .split(key)
        .nth(1)
        .unwrap_or_else(|| panic!("no {key:?} in {l:?}"));
    u64::from_str_radix(&v[..8], 16).unwrap()
}

fn run() -> Option<String> {
    let rom = assemble()?;
    let cfg = AtConfig {
        clock_hz: CLOCK_HZ,
        ..AtConfig::default()
    };
    let board = AtBoard::new(cfg, rom).unwrap();
    let mut m = AtRun::new(Cpu32::new(Model32::PentiumPro), board);
    // Everything takes well under a second of emulated time.
    m.run_until_within(CLOCK_HZ, |m| m.board.shutdown);
    let out = String::from_utf8_lossy(&m.board.debug.console).into_owned();
    assert!(m.board.shutdown, "the program did not finish:\n{out}");
    Some(out)
}

#[test]
fn tsc_counts_board_time_in_both_pit_calibrations_and_across_hlt() {
    let Some(out) = run() else { return };
    assert!(
        out.lines().any(|l| l.starts_with("quick i=")),
        "the quick PIT calibration must succeed (a PIT read takes an ISA I/O cycle, \
         more than one PIT clock):\n{out}"
    );
    // The quick method stops once its uncertainty is under 1/2048 of the
    // span: the rate it gives is within 500 ppm of the clock.
    let i = field(&out, "quick i=", "i=");
    let span = field(&out, "quick i=", "tsc=");
    let hz = span as f64 * PIT_HZ / (i as f64 * 256.0);
    assert!(
        (hz / CLOCK_HZ as f64 - 1.0).abs() < 0.0005,
        "quick calibration: {hz} Hz from {out}"
    );
    // 11932 PIT clocks = 10.000 ms = 2,000,031 clocks at 200 MHz; the
    // count loads on the first PIT clock after the write, so allow one.
    let want = 11932.0 / PIT_HZ * CLOCK_HZ as f64;
    let slow = field(&out, "slow tsc=", "tsc=") as f64;
    assert!(
        (slow / want - 1.0).abs() < 0.001,
        "slow calibration: {slow} clocks for 10 ms in {out}"
    );
    // Linux rejects the slow calibration below 1000 polls in 10 ms.
    assert!(field(&out, "slow tsc=", "polls=") >= 1000, "{out}");
    // HLT until counter 0 fires 10 ms later: the TSC counts the wait.
    let hlt = field(&out, "hlt tsc=", "tsc=") as f64;
    assert!(
        (hlt / want - 1.0).abs() < 0.001,
        "HLT: the TSC advanced {hlt} clocks over 10 ms in {out}"
    );
}
