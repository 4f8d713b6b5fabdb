//! The `ironpc` command line. Subcommands live in their own modules; `main`
//! only parses and dispatches.

pub mod bench;
pub mod conform;
pub mod run;
pub mod serve;
pub mod show;
pub mod timing;

use clap::{Parser, Subcommand};

/// Exit status when every test passed.
pub const EXIT_OK: u8 = 0;
/// Exit status when some test failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for bad input or usage.
pub const EXIT_ERROR: u8 = 2;

/// ironpc: an x86 PC emulator.
#[derive(Debug, Parser)]
#[command(name = "ironpc", version, about)]
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
    }
}
