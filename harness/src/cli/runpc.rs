//! `ironpc run` for the AT and PCI machines (`board: at` / `board: pci`
//! profiles), in QEMU's conventions: `--machine pc|pc-seabios|at-486` (or a
//! profile path), `--hda`, `--cdrom`, `--boot`, `--memory`, `--cpu`.

use super::run::{Debugcon, RunArgs, EXIT_TIMEOUT};
use super::workbench::Swap;
use super::{CliError, EXIT_OK};
use crate::workbench::atreplay::{self, AtRecorder};
use crate::workbench::{atsnap, replay};
use chipset::at::{build_pc, cpu_model, AtPc};
use chipset::profile::{BoardKind, MachineProfile};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The AT/PCI options of `ironpc run`.
#[derive(Debug, Args, Default)]
pub struct PcArgs {
    /// Hard-disk image as primary master (AT/PCI machines). Guest writes stay
    /// in memory unless --writable.
    #[arg(long)]
    pub hda: Option<PathBuf>,
    /// ISO image in a CD-ROM drive on the secondary master (AT/PCI machines).
    #[arg(long)]
    pub cdrom: Option<PathBuf>,
    /// Boot order as drive letters: a (floppy), c (hard disk), d (CD-ROM),
    /// e.g. `c` or `dca` (AT/PCI machines).
    #[arg(long, value_parser = parse_boot)]
    pub boot: Option<String>,
    /// RAM in MiB, 4 to 2048 (AT/PCI machines).
    #[arg(long, value_parser = clap::value_parser!(u32).range(4..=2048))]
    pub memory: Option<u32>,
    /// CPU model: 286, 386, 486, pentium, pentium-pro (AT/PCI machines).
    #[arg(long)]
    pub cpu: Option<String>,
    /// The RTC's time at power-on: `host` (the host's clock: runs are then
    /// not repeatable) or `YYYY-MM-DD HH:MM:SS`, replacing the profile's
    /// (AT/PCI machines; without either, a fixed time, so runs repeat).
    #[arg(long)]
    pub rtc: Option<String>,
    /// Run the CPU one instruction at a time, the board passing time after
    /// each (the reference the default slices keep to; slower) (AT/PCI
    /// machines).
    #[arg(long)]
    pub stepped: bool,
    /// Write a profile of the run to FILE: time and instructions by boot
    /// phase, CPU mode and 4 KiB page of EIP, how slices ended, I/O ports,
    /// interrupt vectors (AT/PCI machines).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Kernel symbols for --profile: a System.map, or any file holding
    /// `/proc/kallsyms` lines (such as this run's --serial log; it is read
    /// when the run ends).
    #[arg(long, value_name = "FILE", requires = "profile")]
    pub profile_symbols: Option<PathBuf>,
    /// Emulated microseconds between --profile's samples (default 100).
    #[arg(long, value_name = "US", requires = "profile")]
    pub profile_every: Option<f64>,
}

impl PcArgs {
    fn any(&self) -> bool {
        self.hda.is_some()
            || self.cdrom.is_some()
            || self.boot.is_some()
            || self.memory.is_some()
            || self.cpu.is_some()
            || self.rtc.is_some()
            || self.stepped
            || self.profile.is_some()
    }
}

fn parse_boot(s: &str) -> Result<String, String> {
    let s = s.trim().to_ascii_lowercase();
    if s.is_empty() || s.len() > 3 || !s.chars().all(|c| matches!(c, 'a' | 'c' | 'd')) {
        return Err(format!(
            "'{s}': the boot order is up to three of the letters a (floppy), c (hard disk), d (CD-ROM)"
        ));
    }
    Ok(s)
}

/// Machine names usable with `--machine` beside profile paths.
pub const MACHINE_NAMES: &[&str] = &["pc", "pc-seabios", "at-486"];

/// The profile a `--machine` value names: a path as it is, or one of
/// [`MACHINE_NAMES`] in the workspace's test-suites/machines.
pub fn resolve_machine(m: &Path) -> PathBuf {
    let s = m.to_string_lossy();
    if !m.exists() && MACHINE_NAMES.contains(&s.as_ref()) {
        return crate::suite::workspace_root().join(format!("test-suites/machines/{s}.yaml"));
    }
    m.to_path_buf()
}

/// If the arguments name an AT or PCI machine, run it; `None` for the
/// other boards. AT/PCI options with another board are an error.
pub fn dispatch(args: &RunArgs) -> Option<Result<u8, CliError>> {
    let path = args
        .machine
        .as_deref()
        .map(resolve_machine)
        .unwrap_or_else(super::run::default_profile);
    // Only a bounded regular file is read here; anything else is left to
    // the XT path's checks, which report it.
    let readable =
        super::check_input_file(&path, super::run::MAX_PROFILE_BYTES, "machine profile").is_ok();
    let board = readable
        .then(|| MachineProfile::load(&path).ok().map(|p| p.board))
        .flatten();
    // A snapshot or a log of an AT machine runs here whatever --machine says.
    let wb = &args.workbench;
    let saved_at = wb.load_state.as_deref().is_some_and(|p| {
        crate::workbench::snapshot::peek_kind(p)
            .is_ok_and(|k| crate::workbench::atsnap::is_at_kind(&k))
    }) || wb.replay.as_deref().is_some_and(|p| {
        crate::workbench::replay::read_log(p)
            .is_ok_and(|l| crate::workbench::atsnap::is_at_kind(&l.kind))
    });
    if saved_at {
        return Some(run(args, &path));
    }
    match board {
        Some(BoardKind::At | BoardKind::Pci) => Some(run(args, &path)),
        _ if args.pc.any() => Some(Err(CliError(format!(
            "{}: --hda, --cdrom, --boot, --memory, --cpu, --rtc, --stepped and --profile need an AT or PCI machine (e.g. --machine pc)",
            path.display()
        )))),
        _ => None,
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// The profile with the command line's replacements applied.
pub fn profile_for(args: &RunArgs, path: &Path) -> Result<MachineProfile, CliError> {
    super::check_input_file(path, super::run::MAX_PROFILE_BYTES, "machine profile")?;
    let mut p = MachineProfile::load(path).map_err(|e| CliError(e.to_string()))?;
    if let Some(b) = &args.bios {
        p.bios = absolute(b);
    }
    if let Some(f) = &args.floppy {
        super::check_input_file(f, chipset::machine::MAX_FLOPPY_BYTES, "floppy image")?;
        match p.floppies.first_mut() {
            Some(d) => {
                d.image = Some(absolute(f));
                d.writable = args.writable;
            }
            None => {
                return Err(CliError(format!(
                    "{}: the machine has no floppy drive for {}",
                    path.display(),
                    f.display()
                )))
            }
        }
    }
    let pc = &args.pc;
    if let Some(h) = &pc.hda {
        p.hda = Some(absolute(h));
        p.hda_writable = args.writable;
    }
    if let Some(c) = &pc.cdrom {
        p.cdrom = Some(absolute(c));
    }
    if let Some(b) = &pc.boot {
        p.boot = Some(b.clone());
    }
    if let Some(m) = pc.memory {
        p.memory_mib = Some(m);
    }
    if let Some(c) = &pc.cpu {
        cpu_model(c).map_err(|e| CliError(format!("--cpu: {e}")))?;
        p.cpu = c.clone();
    }
    if let Some(r) = &pc.rtc {
        if r != "host" && devices::RtcTime::parse(r).is_none() {
            return Err(CliError(format!(
                "--rtc '{r}': expected 'host' or 'YYYY-MM-DD HH:MM:SS'"
            )));
        }
        p.rtc = Some(r.clone());
    }
    Ok(p)
}

/// Build the PC the arguments describe (nothing runs).
pub fn build(args: &RunArgs, path: &Path) -> Result<AtPc, CliError> {
    let p = profile_for(args, path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    build_pc(&p, base).map_err(|e| CliError(e.to_string()))
}

fn open_sink(to: &Option<Debugcon>) -> Result<Option<std::fs::File>, CliError> {
    match to {
        Some(Debugcon::File(p)) => std::fs::File::create(p)
            .map(Some)
            .map_err(|e| CliError(format!("{}: cannot create: {e}", p.display()))),
        _ => Ok(None),
    }
}

/// Send `all[*sent..]` to standard output or the file.
fn forward(
    all: &[u8],
    sent: &mut usize,
    to: &Option<Debugcon>,
    file: &mut Option<std::fs::File>,
) -> Result<(), CliError> {
    if all.len() <= *sent {
        return Ok(());
    }
    let new = &all[*sent..];
    *sent = all.len();
    match (to, file) {
        (Some(Debugcon::Stdio), _) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(new);
            let _ = out.flush();
        }
        (_, Some(f)) => f
            .write_all(new)
            .map_err(|e| CliError(format!("output file: {e}")))?,
        _ => {}
    }
    Ok(())
}

/// Emulated time between checks of the screen, the clock and the outputs
/// (a thousandth of a second, at least this many cycles).
const CHECK_CYCLES_MIN: u64 = 50_000;
/// Instructions stepped between checks while a trace is being written.
const TRACE_STEPS: u64 = 50_000;

/// Run `cycles` of emulated time as `AtRun::run_for` does, sampling the
/// profile every `p.every` cycles.
fn run_profiled(pc: &mut AtPc, p: &mut super::profile::Profiler, cycles: u64) {
    let end = pc.run.now().saturating_add(cycles);
    while pc.run.now() < end && pc.run.board.debug.exit.is_none() && !pc.run.board.shutdown {
        let step = p.every.min(end - pc.run.now());
        pc.run.run_for(step);
        p.sample(pc);
    }
}

/// Run an AT or PCI machine.
pub fn run(args: &RunArgs, path: &Path) -> Result<u8, CliError> {
    if let Some(p) = &args.screenshot {
        super::check_output_file(p, "--screenshot")?;
    }
    for (arg, what) in [(&args.debugcon, "--debugcon"), (&args.serial, "--serial")] {
        if let Some(Debugcon::File(p)) = arg {
            super::check_output_file(p, what)?;
        }
    }
    let wb = &args.workbench;
    if wb.bus_trace.is_some() {
        return Err(CliError(format!(
            "{}: --bus-trace is not available on AT and PCI machines (it shows the 8088's bus; --trace is)",
            path.display()
        )));
    }
    if let Some(p) = &args.pc.profile {
        super::check_output_file(p, "--profile")?;
    }
    if let Some(p) = &wb.replay {
        return run_replay(args, p);
    }
    for f in wb.swap.iter().filter_map(|s| s.file.as_ref()) {
        super::check_input_file(f, chipset::machine::MAX_FLOPPY_BYTES, "--swap floppy image")?;
    }
    let mut pc = match &wb.load_state {
        Some(p) => {
            let pc = atsnap::load(p).map_err(|e| CliError(e.to_string()))?;
            eprintln!(
                "ironpc: loaded {} at {:.6} s emulated (cycle {})",
                p.display(),
                pc.run.now() as f64 / pc.run.board.config.clock_hz as f64,
                pc.run.now()
            );
            pc
        }
        None => build(args, path)?,
    };
    pc.run.set_stepped(args.pc.stepped);
    let hz = pc.run.board.config.clock_hz as f64;
    let mut recorder = match &wb.record {
        Some(p) => Some(
            AtRecorder::create(p, &pc, (wb.record_interval.max(1e-6) * hz) as u64)
                .map_err(CliError)?,
        ),
        None => None,
    };
    let save_at = wb.save_at.map(|s| (s.max(0.0) * hz) as u64);
    let mut saved = false;
    let mut swapped = 0;
    let check = (pc.run.board.config.clock_hz / 1000).max(CHECK_CYCLES_MIN);
    let mut profiler = match &args.pc.profile {
        Some(_) => {
            let us = args.pc.profile_every.unwrap_or(100.0);
            if !(us.is_finite() && us > 0.0) {
                return Err(CliError(format!(
                    "--profile-every {us}: expected a positive number of microseconds"
                )));
            }
            let every = ((us * 1e-6 * hz) as u64).max(1);
            Some(super::profile::Profiler::start(&mut pc, every))
        }
        None => None,
    };
    let mut tracer = match &wb.trace {
        Some(t) => Some(
            crate::workbench::trace32::Tracer32::new(
                t,
                wb.trace_from,
                wb.trace_count,
                pc.run.board.config.clock_hz,
            )
            .map_err(|e| CliError(format!("trace: {e}")))?,
        ),
        None => None,
    };
    let mut debug_file = open_sink(&args.debugcon)?;
    let mut serial_file = open_sink(&args.serial)?;
    let (mut e9_sent, mut info_sent, mut vinfo_sent, mut serial_sent) = (0, 0, 0, 0);
    let serial_in = super::run::serial_input(args);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.timeout);
    if let Some(ep) = &wb.gdb {
        use crate::gdbstub::{self, Listener, SessionEnd, StubOptions};
        let listener = Listener::bind(ep).map_err(|e| CliError(format!("--gdb {ep:?}: {e}")))?;
        eprintln!("ironpc: gdb stub listening on {}", listener.describe());
        let conn = listener
            .accept(Some(deadline.saturating_duration_since(Instant::now())))
            .map_err(|e| CliError(format!("--gdb {}: {e}", listener.describe())))?;
        let opts = StubOptions {
            until_text: args.until_text.clone(),
        };
        let end = gdbstub::serve(&mut gdbstub::target32::AtGdb::new(&mut pc), conn, opts)
            .map_err(|e| CliError(format!("gdb session: {e}")))?;
        eprintln!("ironpc: gdb session ended: {end:?}");
        if end != SessionEnd::Detached {
            println!("{}", pc.vga.borrow().screen_text().trim_end());
            return Ok(EXIT_OK);
        }
    }
    let mut typed = 0;
    let mut settle_end: Option<u64> = None;
    // IRONPC_PROGRESS=SECONDS: a line on standard error every SECONDS of
    // emulated time (where the CPU is), for finding where a long boot stalls.
    let progress = std::env::var("IRONPC_PROGRESS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .map(|v| (v * hz) as u64);
    let mut next_progress = progress.unwrap_or(u64::MAX);
    let mut screen_cache = ScreenCache::default();
    let mut serial_watch = SerialWatch::default();
    let outcome = loop {
        // A snapshot and a hash are taken at the first instruction boundary
        // at or after they are due.
        let mut end = pc.run.now() + check;
        if let Some(at) = save_at.filter(|&at| !saved && at > pc.run.now()) {
            end = end.min(at);
        }
        if let Some(h) = recorder.as_ref().map(AtRecorder::next_hash) {
            if h > pc.run.now() {
                end = end.min(h);
            }
        }
        match &mut tracer {
            // A trace sees every instruction: the machine steps.
            Some(t) if !t.finished() => {
                for _ in 0..TRACE_STEPS {
                    if pc.run.now() >= end && (save_at.is_some() || recorder.is_some()) {
                        break;
                    }
                    t.step(&mut pc)
                        .map_err(|e| CliError(format!("trace: {e}")))?;
                }
            }
            _ => {
                let cycles = end - pc.run.now();
                match &mut profiler {
                    Some(p) => run_profiled(&mut pc, p, cycles),
                    None => pc.run.run_for(cycles),
                }
            }
        }
        if let Some(r) = &mut recorder {
            r.checkpoint(&pc).map_err(CliError)?;
        }
        if let (Some(at), Some(p)) = (save_at, &wb.save_state) {
            if !saved && pc.run.now() >= at {
                save(&pc, p)?;
                saved = true;
            }
        }
        if let Some(every) = progress {
            if pc.run.now() >= next_progress {
                next_progress = pc.run.now() + every;
                let r = pc.run.cpu.regs();
                eprintln!(
                    "ironpc: {:.3} s emulated, {:.1} s wall, {} instructions, CPU at {:04X}:{:08X}",
                    pc.run.now() as f64 / hz,
                    started.elapsed().as_secs_f64(),
                    pc.run.cpu.instructions(),
                    r.sel[1],
                    r.eip
                );
            }
        }
        if args.realtime {
            let ahead = pc.run.now() as f64 / hz - started.elapsed().as_secs_f64();
            if ahead > 0.0 {
                std::thread::sleep(Duration::from_secs_f64(ahead.min(0.05)));
            }
        }
        let b = &pc.run.board;
        // The debug console shows E9h and the Bochs BIOS / VGA BIOS info ports.
        forward(
            &b.debug.console,
            &mut e9_sent,
            &args.debugcon,
            &mut debug_file,
        )?;
        forward(
            &b.bios_info,
            &mut info_sent,
            &args.debugcon,
            &mut debug_file,
        )?;
        forward(
            &b.vgabios_info,
            &mut vinfo_sent,
            &args.debugcon,
            &mut debug_file,
        )?;
        if let Some(rx) = &serial_in {
            while let Ok(bytes) = rx.try_recv() {
                match &mut recorder {
                    Some(r) => r.serial(&mut pc, &bytes).map_err(CliError)?,
                    None => atreplay::receive_serial(&mut pc, &bytes),
                }
            }
        }
        forward(
            pc.com[0].borrow().output(),
            &mut serial_sent,
            &args.serial,
            &mut serial_file,
        )?;
        if pc.run.board.shutdown {
            break Ok(EXIT_OK);
        }
        // QEMU's isa-debug-exit: the status is (value << 1) | 1, as on the XT.
        if let Some(code) = pc.run.board.debug.exit {
            break Ok(code as u8);
        }
        if let Some(end) = settle_end {
            if pc.run.now() >= end {
                break Ok(EXIT_OK);
            }
        } else {
            let screen = if args.until_text.is_some() || typed < args.keys.len() {
                screen_cache.text(&pc.vga.borrow()).to_owned()
            } else {
                String::new()
            };
            if let Some(keys) = args.keys.get(typed) {
                let ready = args
                    .type_after
                    .get(typed)
                    .is_none_or(|t| screen.contains(t.as_str()));
                if ready {
                    match &mut recorder {
                        Some(r) => r.keys(&mut pc, keys).map_err(CliError)?,
                        None => pc
                            .run
                            .board
                            .type_keys(keys)
                            .map_err(|e| CliError(format!("--type: {e}")))?,
                    }
                    typed += 1;
                }
            }
            if let Some(sw) = wb.swap.get(swapped) {
                let screen = screen_cache.text(&pc.vga.borrow()).to_owned();
                if wb
                    .swap_after
                    .get(swapped)
                    .is_none_or(|t| screen.contains(t.as_str()))
                {
                    swap(&mut pc, sw, recorder.as_mut())?;
                    swapped += 1;
                }
            }
            if typed == args.keys.len() && swapped == wb.swap.len() {
                if let Some(t) = &args.until_text {
                    let on_serial = serial_watch.found(pc.com[0].borrow().output(), t.as_bytes());
                    if screen.contains(t.as_str()) || on_serial {
                        if let (None, Some(p), false) = (save_at, &wb.save_state, saved) {
                            save(&pc, p)?;
                            saved = true;
                        }
                        settle_end = Some(pc.run.now() + (args.settle * hz) as u64);
                        continue;
                    }
                }
            }
        }
        // Without a goal, a run that only traces or saves ends when that
        // is done.
        if args.until_text.is_none() && typed == args.keys.len() && swapped == wb.swap.len() {
            let trace_done = tracer.as_ref().is_none_or(|t| t.finished());
            let save_done = wb.save_state.is_none() || saved;
            if trace_done && save_done && (tracer.is_some() || save_at.is_some()) {
                break Ok(EXIT_OK);
            }
        }
        if Instant::now() >= deadline {
            break Err(EXIT_TIMEOUT);
        }
    };
    if let Some(r) = recorder {
        r.finish(&pc).map_err(CliError)?;
    }
    if let Some(t) = tracer {
        let lines = t.lines;
        t.finish().map_err(|e| CliError(format!("trace: {e}")))?;
        eprintln!("ironpc: traced {lines} instructions");
    }
    if let (Some(p), Some(file)) = (&mut profiler, &args.pc.profile) {
        // What ran since the last sample (a trace's steps, the settle).
        p.sample(&pc);
        let symbols = match &args.pc.profile_symbols {
            Some(f) => Some(super::profile::Symbols::load(f).map_err(CliError)?),
            None => None,
        };
        let report = p.report(&pc, symbols.as_ref(), 30);
        std::fs::write(file, report)
            .map_err(|e| CliError(format!("{}: cannot write: {e}", file.display())))?;
        eprintln!("ironpc: profile written to {}", file.display());
    }
    let screen = pc.vga.borrow().screen_text();
    println!("{}", screen.trim_end());
    if let Some(p) = &args.screenshot {
        let f = std::fs::File::create(p)
            .map_err(|e| CliError(format!("{}: cannot create: {e}", p.display())))?;
        pc.vga
            .borrow_mut()
            .write_png(std::io::BufWriter::new(f))
            .map_err(|e| CliError(format!("{}: {e}", p.display())))?;
    }
    let wall = started.elapsed().as_secs_f64();
    let instructions = pc.run.cpu.instructions();
    let emulated = pc.run.now() as f64 / hz;
    eprintln!(
        "ironpc: stopped after {emulated:.2} s emulated, {wall:.2} s wall: {instructions} instructions, \
         {:.1} emulated MIPS, emulated/wall time {:.2}",
        instructions as f64 / wall.max(1e-9) / 1e6,
        emulated / wall.max(1e-9)
    );
    let r = pc.run.cpu.regs();
    eprintln!(
        "ironpc: CPU at {:04X}:{:08X} ({} mode), {} resets; last POST code {:02X}h",
        r.sel[1],
        r.eip,
        if pc.run.cpu.v86() {
            "virtual-8086"
        } else if pc.run.cpu.protected() {
            "protected"
        } else {
            "real"
        },
        pc.run.resets,
        pc.run.board.post_code
    );
    if let Some(code) = pc.run.board.bios_panic {
        eprintln!("ironpc: the BIOS signalled a panic (port 400h: {code:04X}h)");
    }
    match outcome {
        Ok(code) => Ok(code),
        Err(code) => {
            eprintln!(
                "timeout: {:.1} s passed{} (emulated {emulated:.2} s)",
                args.timeout,
                args.until_text
                    .as_ref()
                    .map(|t| format!(" without {t:?} on the screen or serial output"))
                    .unwrap_or_default(),
            );
            Ok(code)
        }
    }
}

/// Write a snapshot of the PC now.
fn save(pc: &AtPc, path: &Path) -> Result<(), CliError> {
    atsnap::save(pc, path).map_err(|e| CliError(e.to_string()))?;
    eprintln!(
        "ironpc: saved {} at {:.6} s emulated (cycle {})",
        path.display(),
        pc.run.now() as f64 / pc.run.board.config.clock_hz as f64,
        pc.run.now()
    );
    Ok(())
}

/// Do a `--swap` now (and log it when recording).
fn swap(pc: &mut AtPc, sw: &Swap, recorder: Option<&mut AtRecorder>) -> Result<(), CliError> {
    let (bytes, name) = sw.image()?;
    match recorder {
        Some(r) => r.disk(pc, sw.drive, &name, bytes.as_deref()),
        None => atreplay::insert_disk(pc, sw.drive, &name, bytes.as_deref()),
    }
    .map_err(CliError)?;
    sw.report(
        &name,
        pc.run.now() as f64 / pc.run.board.config.clock_hz as f64,
    );
    Ok(())
}

/// `--replay LOG` of an AT or PCI machine: the outcome on standard error,
/// the screen on standard output; status 1 when the run diverged.
fn run_replay(args: &RunArgs, path: &Path) -> Result<u8, CliError> {
    let started = Instant::now();
    let log = replay::read_log(path).map_err(CliError)?;
    let (pc, outcome) = atreplay::replay(&log, path).map_err(CliError)?;
    let hz = pc.run.board.config.clock_hz as f64;
    for (all, to, what) in [
        (
            pc.run.board.debug.console.clone(),
            &args.debugcon,
            "debug console",
        ),
        (
            pc.com[0].borrow().output().to_vec(),
            &args.serial,
            "serial output",
        ),
    ] {
        let mut file = open_sink(to)?;
        forward(&all, &mut 0, to, &mut file).map_err(|e| CliError(format!("{what}: {}", e.0)))?;
    }
    println!("{}", pc.vga.borrow().screen_text().trim_end());
    eprintln!(
        "ironpc: stopped after {:.2} s emulated, {:.2} s wall",
        pc.run.now() as f64 / hz,
        started.elapsed().as_secs_f64()
    );
    eprintln!("ironpc: {}", outcome.report(hz));
    Ok(match outcome {
        replay::Outcome::Matched(_) => EXIT_OK,
        replay::Outcome::Diverged { .. } => super::EXIT_FAILED,
    })
}

/// The text screen as last rendered, and the VGA's write count then: the
/// run loop looks at the screen every emulated millisecond, and rendering
/// it each time was about 1% of a Linux boot's wall time.
#[derive(Default)]
struct ScreenCache {
    writes: Option<u64>,
    text: String,
}

impl ScreenCache {
    /// `vga`'s [`Vga::screen_text`], rendered again only if it was written
    /// since the last call.
    fn text(&mut self, vga: &devices::vga::Vga) -> &str {
        if self.writes != Some(vga.writes()) {
            self.text = vga.screen_text();
            self.writes = Some(vga.writes());
        }
        &self.text
    }
}

/// Where `--until-text` has looked in the serial output so far: each look
/// reads only what came since (and the text's length less one before it,
/// for a match that straddles two looks), not the whole output again.
#[derive(Default)]
struct SerialWatch {
    from: usize,
}

impl SerialWatch {
    /// Whether `text` (not empty) is in `out`, of which the part before
    /// the last call's end was already searched.
    fn found(&mut self, out: &[u8], text: &[u8]) -> bool {
        if text.is_empty() {
            return true;
        }
        // An output taken away since (shorter than before) is looked at
        // from its start.
        let start = if self.from > out.len() { 0 } else { self.from };
        let hit = out[start..].windows(text.len()).any(|w| w == text);
        self.from = out.len().saturating_sub(text.len() - 1);
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::SerialWatch;

    /// Fed the output as it grows, the watch finds the text at the first
    /// look at which a search of the whole output would, a match split
    /// over two looks included.
    #[test]
    fn the_serial_watch_finds_what_a_whole_search_finds() {
        let text = b"/ # ";
        let full = b"booting...\nBusyBox\n/ #-not\n/ # ";
        // Every way of cutting the output into two looks, then one more
        // look after the end.
        for cut in 0..=full.len() {
            let mut w = SerialWatch::default();
            let first = w.found(&full[..cut], text);
            let whole_first = full[..cut].windows(text.len()).any(|x| x == text);
            assert_eq!(first, whole_first, "first look up to {cut}");
            // (A hit is reported once: the run stops at it.)
            if !first {
                assert!(w.found(full, text), "second look, cut at {cut}");
            }
        }
        // Output taken away and written again is looked at from its start.
        let mut w = SerialWatch::default();
        assert!(!w.found(b"a long line without it", text));
        assert!(w.found(b"/ # ", text));
    }
}
