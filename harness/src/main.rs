//! The `ironpc` command-line tool; the work is done in [`harness::cli`].
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    match harness::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(harness::cli::EXIT_ERROR)
        }
    }
}
