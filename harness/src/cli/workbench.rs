//! The workbench options of `ironpc run`: a gdb stub, instruction and bus
//! traces, snapshots. With any of them given, `ironpc run` uses the loop
//! here (see `docs/workbench.md`).

use super::run::{
    build, forward, output_file, serial_input, timing_name, write_screenshot, RunArgs, EXIT_TIMEOUT,
};
use super::{CliError, EXIT_OK};
use crate::gdbstub::{self, Endpoint, Listener, SessionEnd, StubOptions};
use crate::trace::{Span, Tracer};
use crate::workbench::{replay, snapshot, BusProbe, CPU_HZ};
use chipset::machine::{Machine, RunStop};
use clap::Args;
use cpu::{ExactTiming, FastTiming, Timing};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Workbench options (flattened into `ironpc run`).
#[derive(Debug, Args, Default, Clone)]
pub struct WorkbenchArgs {
    /// Serve the gdb remote protocol: a TCP port on 127.0.0.1 (0 picks a
    /// free one) or a Unix socket path. The machine waits, stopped, for
    /// gdb to connect (at most --timeout seconds).
    #[arg(long, value_name = "PORT|PATH")]
    pub gdb: Option<Endpoint>,
    /// Write one line per instruction to FILE (gzip if it ends in .gz).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Cycle-exact model: write every bus clock of the traced instructions
    /// to FILE (SingleStepTests notation; gzip if it ends in .gz).
    #[arg(long, value_name = "FILE")]
    pub bus_trace: Option<PathBuf>,
    /// Start tracing at this instruction count, or emulated time (`2.5s`).
    #[arg(long, value_name = "N|SECONDSs", default_value = "0")]
    pub trace_from: Span,
    /// Trace this many instructions, or this much emulated time (`0.1s`).
    #[arg(long, value_name = "N|SECONDSs")]
    pub trace_count: Option<Span>,
    /// Write a snapshot of the machine to FILE when --until-text appears
    /// (before --settle), or at --save-at.
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
    /// Emulated second at which --save-state is written.
    #[arg(long, value_name = "SECONDS", requires = "save_state")]
    pub save_at: Option<f64>,
    /// Start from a snapshot instead of powering on (the profile, BIOS and
    /// floppy options are then those saved in it).
    #[arg(long, value_name = "FILE")]
    pub load_state: Option<PathBuf>,
    /// Record the run's inputs (typed keys, COM1 input from --serial
    /// stdio, --swap) with their emulated times and
    /// periodic state hashes to LOG (gzip if it ends in .gz).
    #[arg(long, value_name = "LOG")]
    pub record: Option<PathBuf>,
    /// Emulated seconds between the state hashes of --record.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.1)]
    pub record_interval: f64,
    /// Replay a --record log: the same machine, the same inputs at the same
    /// cycles; every state hash is compared and the first divergence
    /// reported (exit status 1).
    #[arg(long, value_name = "LOG", conflicts_with_all = ["record", "load_state", "gdb"])]
    pub replay: Option<PathBuf>,
    /// Put a floppy image in a drive during the run (`A:FILE`, `B:FILE`,
    /// `FILE` for A:, `A:none` to eject). Repeatable: the N-th waits for
    /// the N-th --swap-after text, if there is one. Recorded by --record.
    #[arg(long, value_name = "[A:|B:]FILE", value_parser = parse_swap)]
    pub swap: Vec<Swap>,
    /// Text to wait for on the screen before the matching --swap.
    #[arg(long, value_name = "TEXT")]
    pub swap_after: Vec<String>,
}

/// A `--swap`: the drive, and the image (None: eject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swap {
    /// 0 = A:, 1 = B:.
    pub drive: u8,
    /// The image file; None ejects.
    pub file: Option<PathBuf>,
}

impl Swap {
    /// The image's bytes (None for an eject) and the name the log and the
    /// message give it.
    pub(crate) fn image(&self) -> Result<(Option<Vec<u8>>, String), CliError> {
        let bytes = match &self.file {
            Some(p) => Some(
                std::fs::read(p)
                    .map_err(|e| CliError(format!("{}: cannot read: {e}", p.display())))?,
            ),
            None => None,
        };
        let name = self
            .file
            .as_ref()
            .map_or_else(|| "none".to_string(), |p| p.display().to_string());
        Ok((bytes, name))
    }

    /// Say on stderr that the swap happened, at `seconds` of emulated time.
    pub(crate) fn report(&self, name: &str, seconds: f64) {
        eprintln!(
            "ironpc: {} {name}: at {seconds:.6} s emulated",
            if self.file.is_some() {
                "inserted"
            } else {
                "ejected"
            },
        );
    }
}

fn parse_swap(s: &str) -> Result<Swap, String> {
    let (drive, rest) = match s.get(..2) {
        Some(d) if d.eq_ignore_ascii_case("a:") => (0, &s[2..]),
        Some(d) if d.eq_ignore_ascii_case("b:") => (1, &s[2..]),
        _ => (0, s),
    };
    if rest.is_empty() {
        return Err("--swap needs a file (or `none` to eject)".into());
    }
    let file = (rest != "none").then(|| PathBuf::from(rest));
    Ok(Swap { drive, file })
}

impl WorkbenchArgs {
    /// True if any workbench option is given.
    pub fn active(&self) -> bool {
        self.gdb.is_some()
            || self.trace.is_some()
            || self.bus_trace.is_some()
            || self.save_state.is_some()
            || self.load_state.is_some()
            || self.record.is_some()
            || self.replay.is_some()
            || !self.swap.is_empty()
    }
}

/// Run `ironpc run` with workbench options.
pub fn run(args: &RunArgs) -> Result<u8, CliError> {
    let wb = &args.workbench;
    if let Some(p) = &wb.replay {
        let log = replay::read_log(p).map_err(CliError)?;
        return match log.kind.as_str() {
            "xt/exact" => run_replay::<ExactTiming>(&log, p, args),
            "xt/fast" => run_replay::<FastTiming>(&log, p, args),
            k => Err(CliError(format!(
                "{}: unknown machine kind '{k}'",
                p.display()
            ))),
        };
    }
    let timing = match &wb.load_state {
        Some(p) => {
            let kind = snapshot::peek_kind(p).map_err(|e| CliError(e.to_string()))?;
            let t = kind.strip_prefix("xt/").unwrap_or(&kind).to_string();
            if let Some(asked) = args.timing {
                if asked.name() != t {
                    return Err(CliError(format!(
                        "{}: the snapshot is of the '{t}' timing model; --timing {} cannot change it",
                        p.display(),
                        asked.name()
                    )));
                }
            }
            t
        }
        None => timing_name(args)?,
    };
    match timing.as_str() {
        "exact" => run_timed::<ExactTiming>(args),
        "fast" => {
            if wb.bus_trace.is_some() {
                return Err(CliError(
                    "--bus-trace needs the cycle-exact model (--timing exact)".into(),
                ));
            }
            run_timed::<FastTiming>(args)
        }
        other => Err(CliError(format!("unknown timing model '{other}'"))),
    }
}

fn run_timed<T: BusProbe + Default>(args: &RunArgs) -> Result<u8, CliError> {
    let wb = &args.workbench;
    for f in wb.swap.iter().filter_map(|s| s.file.as_ref()) {
        super::check_input_file(f, chipset::machine::MAX_FLOPPY_BYTES, "--swap floppy image")?;
    }
    let mut debug_file = output_file(&args.debugcon)?;
    let mut serial_file = output_file(&args.serial)?;
    let serial_in = serial_input(args);
    let (mut debug_sent, mut serial_sent) = (0, 0);
    let mut m: Machine<T> = match &wb.load_state {
        Some(p) => snapshot::load(p).map_err(|e| CliError(e.to_string()))?,
        None => build(args)?,
    };
    let started = Instant::now();
    // An unrepresentable timeout (huge, infinite) means no deadline.
    let deadline = Duration::try_from_secs_f64(args.timeout.max(0.0))
        .ok()
        .and_then(|d| started.checked_add(d));
    let mut until_text = args.until_text.clone();
    if let Some(ep) = &wb.gdb {
        let listener = Listener::bind(ep).map_err(|e| CliError(format!("--gdb {ep:?}: {e}")))?;
        eprintln!("ironpc: gdb stub listening on {}", listener.describe());
        let conn = listener
            .accept(deadline.map(|d| d.saturating_duration_since(Instant::now())))
            .map_err(|e| CliError(format!("--gdb {}: {e}", listener.describe())))?;
        let opts = StubOptions {
            until_text: until_text.clone(),
        };
        let end = gdbstub::serve(&mut m, conn, opts)
            .map_err(|e| CliError(format!("gdb session: {e}")))?;
        eprintln!("ironpc: gdb session ended: {end:?}");
        if end != SessionEnd::Detached {
            finish(&mut m, args, started)?;
            return Ok(EXIT_OK);
        }
        // Detached: the machine runs on, as without a debugger.
        if until_text
            .as_ref()
            .is_some_and(|t| m.screen_text().contains(t.as_str()))
        {
            until_text = None;
        }
    }
    let mut tracer = if wb.trace.is_some() || wb.bus_trace.is_some() {
        Some(
            Tracer::new(
                wb.trace.as_deref(),
                wb.bus_trace.as_deref(),
                wb.trace_from,
                wb.trace_count,
            )
            .map_err(|e| CliError(format!("trace: {e}")))?,
        )
    } else {
        None
    };
    let mut recorder = match &wb.record {
        Some(p) => Some(
            replay::Recorder::create(p, &m, (wb.record_interval.max(1e-6) * CPU_HZ) as u64)
                .map_err(CliError)?,
        ),
        None => None,
    };
    let save_at = wb.save_at.map(|s| (s.max(0.0) * CPU_HZ) as u64);
    let mut saved = false;
    let mut typed = 0;
    let mut swapped = 0;
    const SLICE: u64 = 100_000;
    let outcome = loop {
        let end = m.cycles() + SLICE;
        let end = match save_at {
            Some(at) if !saved && at > m.cycles() => end.min(at),
            _ => end,
        };
        // Hashes are taken at the first boundary at or after they are due.
        let end = match &recorder {
            Some(r) if r.next_hash() > m.cycles() => end.min(r.next_hash()),
            _ => end,
        };
        let mut stop = RunStop::Cycles;
        match &mut tracer {
            Some(t) if !t.finished() => {
                while m.cycles() < end {
                    if let Some(code) = m.exit_request() {
                        stop = RunStop::Exit(code);
                        break;
                    }
                    t.step(&mut m)
                        .map_err(|e| CliError(format!("trace: {e}")))?;
                }
            }
            _ => stop = m.run_for(end - m.cycles()),
        }
        if let Some(r) = &mut recorder {
            r.checkpoint(&m).map_err(CliError)?;
        }
        debug_sent = forward(
            m.debugcon_output(),
            debug_sent,
            &args.debugcon,
            &mut debug_file,
            "debug console",
        )?;
        serial_sent = forward(
            m.serial_output(),
            serial_sent,
            &args.serial,
            &mut serial_file,
            "serial output",
        )?;
        if let RunStop::Exit(code) = stop {
            break Ok(code.clamp(0, 255) as u8);
        }
        // Input arrives between slices, at a boundary a log can name.
        if let Some(rx) = &serial_in {
            while let Ok(bytes) = rx.try_recv() {
                match &mut recorder {
                    Some(r) => r.serial(&mut m, &bytes).map_err(CliError)?,
                    None => m.board.uart.receive(&bytes),
                }
            }
        }
        if let (Some(at), Some(p)) = (save_at, &wb.save_state) {
            if !saved && m.cycles() >= at {
                save(&m, p)?;
                saved = true;
            }
        }
        let screen = m.screen_text();
        if let Some(keys) = args.keys.get(typed) {
            if args
                .type_after
                .get(typed)
                .is_none_or(|t| screen.contains(t.as_str()))
            {
                match &mut recorder {
                    Some(r) => r.keys(&mut m, keys).map_err(CliError)?,
                    None => m
                        .type_keys(keys)
                        .map_err(|e| CliError(format!("--type: {e}")))?,
                }
                typed += 1;
            }
        }
        if let Some(sw) = wb.swap.get(swapped) {
            if wb
                .swap_after
                .get(swapped)
                .is_none_or(|t| screen.contains(t.as_str()))
            {
                swap(&mut m, sw, recorder.as_mut())?;
                swapped += 1;
            }
        }
        if typed == args.keys.len() && swapped == wb.swap.len() {
            if let Some(t) = &until_text {
                if screen.contains(t.as_str()) {
                    if let (None, Some(p), false) = (save_at, &wb.save_state, saved) {
                        save(&m, p)?;
                    }
                    let extra = (args.settle.max(0.0) * CPU_HZ) as u64;
                    if let RunStop::Exit(code) = m.run_for(extra) {
                        break Ok(code.clamp(0, 255) as u8);
                    }
                    break Ok(EXIT_OK);
                }
            }
        }
        // Without a goal, a run that only traces or saves ends when that is done.
        if until_text.is_none() && args.keys.len() == typed && wb.swap.len() == swapped {
            let trace_done = tracer.as_ref().is_none_or(|t| t.finished());
            let save_done = wb.save_state.is_none() || saved;
            if trace_done && save_done && (tracer.is_some() || save_at.is_some()) {
                break Ok(EXIT_OK);
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break Err(EXIT_TIMEOUT);
        }
    };
    if let Some(r) = recorder {
        r.finish(&m).map_err(CliError)?;
    }
    if let Some(t) = tracer {
        let lines = t.lines;
        t.finish().map_err(|e| CliError(format!("trace: {e}")))?;
        eprintln!("ironpc: traced {lines} instructions");
    }
    finish(&mut m, args, started)?;
    match outcome {
        Ok(code) => Ok(code),
        Err(code) => {
            eprintln!(
                "timeout: {:.1} s passed (emulated {:.2} s)",
                args.timeout,
                m.cycles() as f64 / CPU_HZ
            );
            Ok(code)
        }
    }
}

fn run_replay<T: BusProbe>(
    log: &replay::Log,
    path: &std::path::Path,
    args: &RunArgs,
) -> Result<u8, CliError> {
    let started = Instant::now();
    let (mut m, outcome) = replay::replay::<T>(log, path).map_err(CliError)?;
    forward(
        m.debugcon_output(),
        0,
        &args.debugcon,
        &mut output_file(&args.debugcon)?,
        "debug console",
    )?;
    forward(
        m.serial_output(),
        0,
        &args.serial,
        &mut output_file(&args.serial)?,
        "serial output",
    )?;
    finish(&mut m, args, started)?;
    eprintln!("ironpc: {outcome}");
    Ok(match outcome {
        replay::Outcome::Matched(_) => EXIT_OK,
        replay::Outcome::Diverged { .. } => super::EXIT_FAILED,
    })
}

/// Do a `--swap` now (and log it when recording).
fn swap<T: BusProbe>(
    m: &mut Machine<T>,
    sw: &Swap,
    recorder: Option<&mut replay::Recorder>,
) -> Result<(), CliError> {
    let (bytes, name) = sw.image()?;
    match recorder {
        Some(r) => r.disk(m, sw.drive, &name, bytes.as_deref()),
        None => replay::insert_disk(m, sw.drive, &name, bytes.as_deref()),
    }
    .map_err(CliError)?;
    sw.report(&name, m.cycles() as f64 / CPU_HZ);
    Ok(())
}

fn save<T: BusProbe>(m: &Machine<T>, path: &std::path::Path) -> Result<(), CliError> {
    snapshot::save(m, path).map_err(|e| CliError(e.to_string()))?;
    eprintln!(
        "ironpc: saved {} at {:.6} s emulated (cycle {})",
        path.display(),
        m.cycles() as f64 / CPU_HZ,
        m.cycles()
    );
    Ok(())
}

fn finish<T: Timing>(m: &mut Machine<T>, args: &RunArgs, started: Instant) -> Result<(), CliError> {
    println!("{}", m.screen_text().trim_end());
    if let Some(p) = &args.screenshot {
        write_screenshot(m, p)?;
    }
    eprintln!(
        "ironpc: stopped after {:.2} s emulated, {:.2} s wall",
        m.cycles() as f64 / CPU_HZ,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Arguments of `ironpc merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Result files (`ironpc conform --json`), one per shard.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Write the merged report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Run `ironpc merge`: status 0 when no test failed, 1 when some did.
pub fn merge(args: &MergeArgs) -> Result<u8, CliError> {
    let m = crate::workbench::shard::merge(&args.results).map_err(CliError)?;
    if let Some(p) = &args.json {
        let text = serde_json::to_string_pretty(&m.report).expect("JSON value serialises");
        std::fs::write(p, text + "\n")
            .map_err(|e| CliError(format!("{}: cannot write: {e}", p.display())))?;
    }
    println!("{}", m.summary());
    Ok(if m.passed_failed().1 == 0 {
        EXIT_OK
    } else {
        super::EXIT_FAILED
    })
}
