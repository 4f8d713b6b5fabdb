//! `ironpc bench`: run a boot-sector workload on a bare board and report speed.

use super::{CliError, EXIT_FAILED, EXIT_OK};
use crate::bench::{run as run_bench, BenchOptions, Stop, TimingChoice, Workload};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `ironpc bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A 512-byte boot sector to run instead of the built-in `mix` workload.
    pub image: Option<PathBuf>,
    /// Timing model: `fast` (the table timings), `counting`, or `exact`
    /// (the cycle-exact bus model; 8086/8088 only).
    #[arg(long, default_value = "fast")]
    pub timing: String,
    /// Run the workload this many times, each on a fresh board (at least 1).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Give up after this many seconds of wall time (exit status 1).
    #[arg(long, default_value = "600", value_parser = super::parse_timeout)]
    pub timeout: f64,
    /// CPU model: 8088, 8086, 80186, 80286 (the 16-bit core, built-in `mix`)
    /// or 386, 486, pentium, pentium-pro (the ia32 core, built-in `mix32`).
    #[arg(long, default_value = "8088")]
    pub cpu: String,
    /// Turn the decoded-instruction cache off.
    #[arg(long)]
    pub no_decode_cache: bool,
}

/// Run the command.
pub fn run(args: &BenchArgs) -> Result<u8, CliError> {
    if let Some(model) = crate::bench32::model_from_name(&args.cpu) {
        return run32(args, model);
    }
    let timing: TimingChoice = args
        .timing
        .parse()
        .map_err(|e| CliError(format!("--timing: {e}")))?;
    // Both cores' names: the 16-bit parser's own message lists only its four.
    let model = args.cpu.parse().map_err(|_: cpu::UnknownModel| {
        CliError(format!(
            "--cpu: unknown CPU model '{}' (expected 8088, 8086, 80186, 80286, 386, 486, \
             pentium or pentium-pro)",
            args.cpu
        ))
    })?;
    let opts = BenchOptions {
        workload: match &args.image {
            Some(p) => Workload::File(p.clone()),
            None => Workload::Mix,
        },
        timing,
        rounds: args.rounds,
        model,
        decode_cache: !args.no_decode_cache,
        timeout: Some(std::time::Duration::from_secs_f64(args.timeout)),
        ..BenchOptions::default()
    };
    let report = run_bench(&opts).map_err(|e| CliError(format!("{e:#}")))?;
    print!("{}", report.output_text());
    println!("{report}");
    if let Stop::Exit(_) = report.stop {
        return Ok(EXIT_OK);
    }
    eprintln!(
        "ironpc bench: the workload did not exit through port F4h ({})",
        report.stop
    );
    Ok(EXIT_FAILED)
}

/// `--cpu 386|486|pentium|pentium-pro`: the ia32 core on the same bare board.
fn run32(args: &BenchArgs, model: cpu::ia32::Model32) -> Result<u8, CliError> {
    if args.timing != "fast" {
        return Err(CliError(format!(
            "--timing {}: the ia32 core has its table timing only (use fast)",
            args.timing
        )));
    }
    let opts = crate::bench32::Bench32Options {
        image: args.image.clone(),
        model,
        rounds: args.rounds,
        timeout: Some(std::time::Duration::from_secs_f64(args.timeout)),
        decode_cache: !args.no_decode_cache,
        ..Default::default()
    };
    let report = crate::bench32::run(&opts).map_err(|e| CliError(format!("{e:#}")))?;
    print!("{}", report.output_text());
    println!("{report}");
    if let Stop::Exit(_) = report.stop {
        return Ok(EXIT_OK);
    }
    eprintln!(
        "ironpc bench: the workload did not exit through port F4h ({})",
        report.stop
    );
    Ok(EXIT_FAILED)
}
