//! The `ironpc` command line. Subcommands live in their own modules; `main`
//! only parses and dispatches.

pub mod bench;
pub mod conform;
pub mod profile;
pub mod run;
pub mod run32;
pub mod runpc;
pub mod serve;
pub mod show;
pub mod timing;
pub mod workbench;

use clap::{Parser, Subcommand};

/// Exit status when every test passed.
pub const EXIT_OK: u8 = 0;
/// Exit status when some test failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for bad input or usage.
pub const EXIT_ERROR: u8 = 2;

/// ironpc: an x86 PC emulator in safe Rust (8088 PC/XT to Pentium Pro-class
/// AT/PCI machines): boot a machine headless, benchmark the CPU, run CPU
/// conformance suites and timing reports.
#[derive(Debug, Parser)]
#[command(
    name = "ironpc",
    version,
    about = "ironpc: an x86 PC emulator in safe Rust (8088 PC/XT to Pentium Pro-class \
             AT/PCI machines): \
             boot a machine headless, benchmark the CPU, run CPU conformance suites and \
             timing reports"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a CPU conformance suite (single-step test vectors).
    Conform(conform::ConformArgs),
    /// Run a boot-sector workload (built in by default) and report speed.
    Bench(bench::BenchArgs),
    /// Boot a machine headless and show its screen.
    Run(run::RunArgs),
    /// Serve the web page (the emulator in the browser) on 127.0.0.1.
    Serve(serve::ServeArgs),
    /// Per-opcode timing report and comparison with the timing baseline.
    Timing(timing::TimingArgs),
    /// Merge the --json results of `ironpc conform --shard` runs into one report.
    Merge(workbench::MergeArgs),
}

/// An error the CLI reports as one line and exit status 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<crate::error::InputError> for CliError {
    fn from(e: crate::error::InputError) -> Self {
        CliError(e.to_string())
    }
}

/// Run a parsed command line; returns the exit status.
pub fn run(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::Conform(args) => conform::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Timing(args) => timing::run(&args),
        Command::Merge(args) => workbench::merge(&args),
    }
}

/// The longest wall-time limit accepted (about 31 years); larger values
/// are capped to it rather than overflowing a `Duration`.
pub const MAX_SECONDS: f64 = 1e9;

/// Parse a wall-time limit in seconds: a positive finite number, capped at
/// [`MAX_SECONDS`].
pub fn parse_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || v <= 0.0 {
        return Err(format!(
            "'{s}': the time limit must be a positive, finite number of seconds"
        ));
    }
    Ok(v.min(MAX_SECONDS))
}

/// Parse a span of emulated seconds: zero or more, finite, capped at
/// [`MAX_SECONDS`].
pub fn parse_emulated_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!(
            "'{s}': must be zero or a positive, finite number of seconds"
        ));
    }
    Ok(v.min(MAX_SECONDS))
}

/// Parse a text to wait for: not empty (an empty text is on every screen).
pub fn parse_text(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("an empty text would match at once; give the text to wait for".into());
    }
    Ok(s.to_string())
}

/// Check, before a run, that `path` can be created as an output file: not
/// a directory, and in a directory that exists.
pub fn check_output_file(path: &std::path::Path, what: &str) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(CliError(format!(
            "{}: is a directory; {what} needs a file name",
            path.display()
        )));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !parent.is_dir() {
        return Err(CliError(format!(
            "{}: directory {} does not exist ({what})",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// Check, before a run, that an input file given on the command line is a
/// regular file of at most `max` bytes (a device such as /dev/zero or a
/// FIFO would be read without end or block).
pub fn check_input_file(path: &std::path::Path, max: u64, what: &str) -> Result<(), CliError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError(format!("{}: cannot read {what}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CliError(format!(
            "{}: not a regular file (a device, FIFO or directory); the {what} must be a file",
            path.display()
        )));
    }
    if meta.len() > max {
        return Err(CliError(format!(
            "{}: {} bytes, larger than the largest {what} ({max} bytes)",
            path.display(),
            meta.len()
        )));
    }
    Ok(())
}
