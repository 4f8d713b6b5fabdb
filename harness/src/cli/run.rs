//! `ironpc run`: boot a machine headless, show its text screen, stop on a
//! text, a timeout or the guest's exit request.

use super::{CliError, EXIT_OK};
use chipset::machine::{Machine, RunStop};
use chipset::profile::{MachineProfile, Overrides};
use clap::{Args, ValueEnum};
use cpu::{ExactTiming, FastTiming, Timing};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Exit status when the timeout passed before the awaited text appeared.
pub const EXIT_TIMEOUT: u8 = 3;

/// Where the debug console (port E9h) goes.
#[derive(Clone, Debug)]
pub enum Debugcon {
    /// Standard output, as it arrives.
    Stdio,
    /// A file.
    File(PathBuf),
}

fn parse_debugcon(s: &str) -> Result<Debugcon, String> {
    Ok(match s {
        "stdio" => Debugcon::Stdio,
        "" => return Err("empty --debugcon".into()),
        f => Debugcon::File(PathBuf::from(f)),
    })
}

/// Timing model names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TimingArg {
    /// Cycle-exact bus model: every bus cycle simulated (8086/8088).
    Exact,
    /// Instruction-level cycle counts.
    Fast,
}

impl TimingArg {
    /// The model's name in machine profiles.
    pub fn name(self) -> &'static str {
        match self {
            TimingArg::Exact => ExactTiming::NAME,
            TimingArg::Fast => FastTiming::NAME,
        }
    }
}

/// Arguments of `ironpc run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Machine profile (YAML) [default: test-suites/machines/xt.yaml of the workspace].
    #[arg(long)]
    pub machine: Option<PathBuf>,
    /// BIOS ROM image, replacing the profile's.
    #[arg(long)]
    pub bios: Option<PathBuf>,
    /// Floppy image for drive A:, replacing the profile's.
    #[arg(long)]
    pub floppy: Option<PathBuf>,
    /// Write guest changes to the floppy image (and the `--hda` hard disk) itself (otherwise they stay in memory).
    #[arg(long)]
    pub writable: bool,
    /// Debug console (port E9h): `stdio` or a file.
    #[arg(long, value_parser = parse_debugcon)]
    pub debugcon: Option<Debugcon>,
    /// COM1: `stdio` (what the guest sends goes to standard output, standard
    /// input is sent to the guest) or a file that receives what the guest sends.
    #[arg(long, value_parser = parse_debugcon)]
    pub serial: Option<Debugcon>,
    /// Stop with status 0 when this text appears on the screen (not empty).
    #[arg(long, value_parser = super::parse_text)]
    pub until_text: Option<String>,
    /// Give up after this many seconds of wall time (status 3, last screen
    /// printed). A positive number; values above 1e9 are capped.
    #[arg(long, default_value = "60", value_parser = super::parse_timeout)]
    pub timeout: f64,
    /// Keys to type (text, and names such as `<enter>`). Repeatable: the
    /// N-th --type waits for the N-th --type-after text, if there is one.
    #[arg(long = "type")]
    pub keys: Vec<String>,
    /// Text to wait for on the screen before typing the matching --type.
    #[arg(long)]
    pub type_after: Vec<String>,
    /// After --until-text appears, run this many more emulated seconds (so
    /// that output still being printed lands on the screen), within --timeout.
    #[arg(long, default_value = "0", value_parser = super::parse_emulated_seconds)]
    pub settle: f64,
    /// Pace emulated time to the wall clock (for interactive use; an idle
    /// guest then costs little host CPU). Without it the machine runs as
    /// fast as it can.
    #[arg(long)]
    pub realtime: bool,
    /// Write what the monitor shows at the end to this PNG file.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Timing model, replacing the profile's (which is `fast` unless it says otherwise).
    #[arg(long, value_enum)]
    pub timing: Option<TimingArg>,
    /// Disks, boot order, memory and CPU of the AT/PCI machines.
    #[command(flatten)]
    pub pc: Box<super::runpc::PcArgs>,
    /// gdb stub, traces and snapshots (see docs/workbench.md).
    #[command(flatten)]
    pub workbench: Box<super::workbench::WorkbenchArgs>,
}

/// The default machine profile.
pub fn default_profile() -> PathBuf {
    crate::suite::workspace_root().join("test-suites/machines/xt.yaml")
}

/// Write the machine's display to a PNG file. 200-line modes are written
/// with every line doubled, as a CGA monitor shows them (4:3, not squashed).
pub fn write_screenshot<T: Timing>(machine: &mut Machine<T>, path: &Path) -> Result<(), CliError> {
    let (w, h, frame) = machine.framebuffer();
    let doubled;
    let (h, rgb) = if h <= 200 {
        doubled = frame
            .chunks(w * 3)
            .flat_map(|line| [line, line])
            .flatten()
            .copied()
            .collect::<Vec<u8>>();
        (h * 2, doubled.as_slice())
    } else {
        (h, frame)
    };
    let file = std::fs::File::create(path)
        .map_err(|e| CliError(format!("{}: cannot create: {e}", path.display())))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc
        .write_header()
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    Ok(())
}

/// The timing model the run uses: `--timing`, else the profile's.
pub fn timing_name(args: &RunArgs) -> Result<String, CliError> {
    if let Some(t) = args.timing {
        return Ok(t.name().to_string());
    }
    let path = args.machine.clone().unwrap_or_else(default_profile);
    let profile = MachineProfile::load(&path).map_err(|e| CliError(e.to_string()))?;
    Ok(profile.timing)
}

/// Build the machine the arguments describe, timed by `T`.
pub fn build<T: Timing + Default>(args: &RunArgs) -> Result<Machine<T>, CliError> {
    let profile = args.machine.clone().unwrap_or_else(default_profile);
    let overrides = Overrides {
        bios: args.bios.clone(),
        floppies: args.floppy.iter().map(|p| (0, p.clone())).collect(),
        writable: args.writable,
        timing: Some(T::NAME.to_string()),
        ..Overrides::default()
    };
    Machine::from_profile_timed(&profile, &overrides).map_err(|e| CliError(e.to_string()))
}

fn show(screen: &str, tty: bool) {
    let mut out = std::io::stdout().lock();
    if tty {
        // Home the cursor and redraw in place.
        let _ = write!(out, "\x1b[H\x1b[2J{screen}");
    } else {
        let _ = writeln!(out, "{}", screen.trim_end());
    }
    let _ = out.flush();
}

/// Send the bytes of `all` past `sent` where `to` says (standard output or
/// the opened file); returns the new count sent.
pub(super) fn forward(
    all: &[u8],
    sent: usize,
    to: &Option<Debugcon>,
    file: &mut Option<std::fs::File>,
    what: &str,
) -> Result<usize, CliError> {
    if all.len() <= sent {
        return Ok(sent);
    }
    let new = &all[sent..];
    match (to, file) {
        (Some(Debugcon::Stdio), _) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(new);
            let _ = out.flush();
        }
        (_, Some(f)) => {
            f.write_all(new)
                .map_err(|e| CliError(format!("{what} file: {e}")))?;
        }
        _ => {}
    }
    Ok(all.len())
}

/// With `--serial stdio`, standard input for COM1, read by a thread (the
/// machine takes what has arrived between slices).
pub(super) fn serial_input(args: &RunArgs) -> Option<std::sync::mpsc::Receiver<Vec<u8>>> {
    matches!(args.serial, Some(Debugcon::Stdio)).then(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin();
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        rx
    })
}

/// Open the `--debugcon` or `--serial` output file, if it is one.
pub(super) fn output_file(to: &Option<Debugcon>) -> Result<Option<std::fs::File>, CliError> {
    match to {
        Some(Debugcon::File(p)) => std::fs::File::create(p)
            .map(Some)
            .map_err(|e| CliError(format!("{}: cannot create: {e}", p.display()))),
        _ => Ok(None),
    }
}

/// The largest machine profile read (a YAML file of a few lines).
pub const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// Check the arguments that name files before anything runs: inputs are
/// regular files of a size their kind allows, outputs can be created.
pub fn check_args(args: &RunArgs) -> Result<(), CliError> {
    use chipset::machine::{MAX_FLOPPY_BYTES, MAX_ROM_BYTES};
    let profile = args.machine.clone().unwrap_or_else(default_profile);
    super::check_input_file(&profile, MAX_PROFILE_BYTES, "machine profile")?;
    if let Some(p) = &args.bios {
        super::check_input_file(p, MAX_ROM_BYTES, "BIOS ROM image")?;
    }
    if let Some(p) = &args.floppy {
        super::check_input_file(p, MAX_FLOPPY_BYTES, "floppy image")?;
    }
    if let Some(p) = &args.screenshot {
        super::check_output_file(p, "--screenshot")?;
    }
    for (arg, what) in [(&args.debugcon, "--debugcon"), (&args.serial, "--serial")] {
        if let Some(Debugcon::File(p)) = arg {
            super::check_output_file(p, what)?;
        }
    }
    Ok(())
}

/// Run the command.
pub fn run(args: &RunArgs) -> Result<u8, CliError> {
    if let Some(r) = super::runpc::dispatch(args) {
        return r;
    }
    check_args(args)?;
    if args
        .machine
        .as_deref()
        .is_some_and(super::run32::is_test_board)
    {
        return super::run32::run(args);
    }
    if args.workbench.active() {
        return super::workbench::run(args);
    }
    match timing_name(args)?.as_str() {
        "exact" => run_timed::<ExactTiming>(args),
        "fast" => run_timed::<FastTiming>(args),
        other => Err(CliError(format!(
            "{}: unknown timing model '{other}' (known: {})",
            args.machine
                .clone()
                .unwrap_or_else(default_profile)
                .display(),
            chipset::profile::TIMING_MODELS.join(", ")
        ))),
    }
}

fn run_timed<T: Timing + Default>(args: &RunArgs) -> Result<u8, CliError> {
    let mut machine = build::<T>(args)?;
    // The board's CPU clock, for converting emulated seconds.
    let cpu_hz = machine.board.sched.cpu_hz as f64;
    let tty = std::io::stdout().is_terminal();
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
    let mut debug_file = match &args.debugcon {
        Some(Debugcon::File(p)) => Some(
            std::fs::File::create(p)
                .map_err(|e| CliError(format!("{}: cannot create: {e}", p.display())))?,
        ),
        _ => None,
    };
    let mut debug_sent = 0;
    let mut serial_sent = 0;
    let mut serial_file = match &args.serial {
        Some(Debugcon::File(p)) => Some(
            std::fs::File::create(p)
                .map_err(|e| CliError(format!("{}: cannot create: {e}", p.display())))?,
        ),
        _ => None,
    };
    let serial_in = serial_input(args);
    let started = Instant::now();
    let start_cycles = machine.cycles();
    let start_instructions = machine.cpu.instructions;
    let mut typed = 0;
    // With --realtime, wait until the wall clock catches up with the
    // emulated time (in steps short enough for typed input to feel prompt).
    let pace = |machine: &Machine<T>| {
        if !args.realtime {
            return;
        }
        let emulated = (machine.cycles() - start_cycles) as f64 / cpu_hz;
        let ahead = emulated - started.elapsed().as_secs_f64();
        if ahead > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(ahead.min(0.05)));
        }
    };
    let mut last_draw = Instant::now();
    // Run in slices of emulated time, checking the screen between them.
    const SLICE: u64 = 100_000;
    let outcome = loop {
        let stop = machine.run_for(SLICE);
        pace(&machine);
        debug_sent = forward(
            machine.debugcon_output(),
            debug_sent,
            &args.debugcon,
            &mut debug_file,
            "debug console",
        )?;
        if let Some(rx) = &serial_in {
            while let Ok(bytes) = rx.try_recv() {
                machine.board.uart.receive(&bytes);
            }
        }
        serial_sent = forward(
            machine.serial_output(),
            serial_sent,
            &args.serial,
            &mut serial_file,
            "serial output",
        )?;
        if let RunStop::Exit(code) = stop {
            break Ok(code.clamp(0, 255) as u8);
        }
        // Reading the screen costs as much as thousands of instructions:
        // only when something waits for text or a terminal shows it.
        let screen = if tty || args.until_text.is_some() || typed < args.keys.len() {
            machine.screen_text()
        } else {
            String::new()
        };
        if let Some(keys) = args.keys.get(typed) {
            let ready = args
                .type_after
                .get(typed)
                .is_none_or(|t| screen.contains(t.as_str()));
            if ready {
                machine
                    .type_keys(keys)
                    .map_err(|e| CliError(format!("--type: {e}")))?;
                typed += 1;
            }
        }
        if typed == args.keys.len() {
            if let Some(t) = &args.until_text {
                if screen.contains(t.as_str()) {
                    // The settling time is bounded by --timeout too.
                    let extra = (args.settle * cpu_hz) as u64;
                    let end = machine.cycles().saturating_add(extra);
                    let mut outcome = Ok(EXIT_OK);
                    while machine.cycles() < end {
                        if Instant::now() >= deadline {
                            outcome = Err(EXIT_TIMEOUT);
                            break;
                        }
                        let n = SLICE.min(end - machine.cycles());
                        if let RunStop::Exit(code) = machine.run_for(n) {
                            outcome = Ok(code.clamp(0, 255) as u8);
                            break;
                        }
                        pace(&machine);
                    }
                    break outcome;
                }
            }
        }
        if tty && last_draw.elapsed() > Duration::from_millis(100) {
            show(&screen, true);
            last_draw = Instant::now();
        }
        if Instant::now() >= deadline {
            break Err(EXIT_TIMEOUT);
        }
    };
    show(&machine.screen_text(), tty);
    if let Some(p) = &args.screenshot {
        write_screenshot(&mut machine, p)?;
    }
    let wall = started.elapsed().as_secs_f64();
    let emulated = (machine.cycles() - start_cycles) as f64 / cpu_hz;
    let instructions = machine.cpu.instructions - start_instructions;
    eprintln!(
        "ironpc: stopped after {:.2} s emulated, {:.2} s wall: {} instructions, \
         {:.1} emulated MIPS, emulated/wall time {:.2}",
        machine.cycles() as f64 / cpu_hz,
        wall,
        instructions,
        instructions as f64 / wall.max(1e-9) / 1e6,
        emulated / wall.max(1e-9)
    );
    match outcome {
        Ok(code) => Ok(code),
        Err(code) => {
            eprintln!(
                "timeout: {:.1} s passed{} (emulated {:.2} s)",
                args.timeout,
                args.until_text
                    .as_ref()
                    .map(|t| format!(" without {t:?} on the screen"))
                    .unwrap_or_default(),
                machine.cycles() as f64 / cpu_hz
            );
            Ok(code)
        }
    }
}
