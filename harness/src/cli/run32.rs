//! `ironpc run` for the ia32 test board (`board: test386` profiles): runs a
//! CPU tester ROM, prints POST codes as they pass and exits 0 only at POST FFh.

use super::run::{Debugcon, RunArgs};
use super::{CliError, EXIT_FAILED, EXIT_OK};
use chipset::testboard::{parse_model, run_test, TestBoard, TestBoardProfile, TestEnd};
use cpu::ia32::Cpu32;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Instructions between wall-clock checks.
const SLICE: u64 = 2_000_000;

/// True if the profile at `path` is a test-board profile.
pub fn is_test_board(path: &Path) -> bool {
    TestBoardProfile::is_test_board(path)
}

/// Run a test-board profile.
pub fn run(args: &RunArgs) -> Result<u8, CliError> {
    let Some(path) = args.machine.as_deref() else {
        return Err(CliError("the test board needs --machine".into()));
    };
    let mut p = TestBoardProfile::load(path).map_err(CliError)?;
    if let Some(b) = &args.bios {
        p.bios = b.clone();
    }
    let rom = std::fs::read(&p.bios)
        .map_err(|e| CliError(format!("{}: cannot read ROM: {e}", p.bios.display())))?;
    let model = parse_model(&p.cpu).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    let mut board = TestBoard::new(p.ram_kib, rom, p.post_port, p.debug_port)
        .map_err(|e| CliError(format!("{}: {e}", p.bios.display())))?;
    let mut cpu = Cpu32::new(model);
    let start = Instant::now();
    let mut err = std::io::stderr();
    let mut end = TestEnd::Budget;
    let mut written = 0;
    while start.elapsed().as_secs_f64() < args.timeout {
        end = run_test(&mut cpu, &mut board, SLICE, |code| {
            let _ = writeln!(err, "POST {code:02X}");
        });
        if let Some(Debugcon::Stdio) = &args.debugcon {
            let mut out = std::io::stdout();
            let _ = out.write_all(&board.out[written..]);
            written = board.out.len();
        }
        if end != TestEnd::Budget {
            break;
        }
    }
    if let Some(Debugcon::File(f)) = &args.debugcon {
        std::fs::write(f, &board.out)
            .map_err(|e| CliError(format!("{}: cannot write: {e}", f.display())))?;
    }
    let r = cpu.regs();
    let secs = start.elapsed().as_secs_f64();
    let _ = writeln!(
        err,
        "{:?} after {} instructions ({:.1} s, {:.1} M instructions/s); last POST {}; CS:EIP {:04X}:{:08X}",
        end,
        cpu.instructions(),
        secs,
        cpu.instructions() as f64 / secs.max(1e-9) / 1e6,
        board.last_post().map(|c| format!("{c:02X}")).unwrap_or_else(|| "none".into()),
        r.sel[1],
        r.eip
    );
    Ok(if end == TestEnd::Done {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
