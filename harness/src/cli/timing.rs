//! `ironpc timing SUITE`: per-opcode timing report (Markdown and SVG) and the
//! comparison with the committed timing baseline.

use super::conform::load_named_suite;
use super::{CliError, EXIT_FAILED, EXIT_OK};
use crate::suite::workspace_root;
use crate::timing::{baseline_of, baseline_yaml, changes, load_baseline, markdown, measure, svg};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `ironpc timing`.
#[derive(Debug, Args)]
pub struct TimingArgs {
    /// Suite name (a manifest in the manifests directory) or a manifest path.
    pub suite: String,
    /// Directory of the test-suite data [default: $IRONPC_SUITES, else ../shared/test-suites].
    #[arg(long, value_name = "DIR")]
    pub suites_dir: Option<PathBuf>,
    /// Directory of the suite manifests.
    #[arg(long, value_name = "DIR")]
    pub manifests_dir: Option<PathBuf>,
    /// Only these opcode files, comma separated.
    #[arg(long, value_name = "OPCODE,...", value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Baseline to compare with [default: test-suites/timing/SUITE.yaml].
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the measured counts as the new baseline instead of comparing.
    #[arg(long)]
    pub write_baseline: bool,
    /// Directory for SUITE-timing.md and SUITE-timing.svg.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// The committed baseline of a suite.
pub fn default_baseline(suite: &str) -> PathBuf {
    workspace_root().join(format!("test-suites/timing/{suite}.yaml"))
}

/// Run `ironpc timing`.
pub fn run(args: &TimingArgs) -> Result<u8, CliError> {
    let suite = load_named_suite(
        &args.suite,
        args.suites_dir.as_deref(),
        args.manifests_dir.as_deref(),
    )?;
    let name = suite.manifest.name.clone();
    let table = measure(&suite, &args.filter)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError(format!("{}: cannot create: {e}", args.out.display())))?;
    let md = args.out.join(format!("{name}-timing.md"));
    let chart = args.out.join(format!("{name}-timing.svg"));
    let write = |p: &PathBuf, text: String| {
        std::fs::write(p, text).map_err(|e| CliError(format!("{}: cannot write: {e}", p.display())))
    };
    write(&md, markdown(&name, "counting", &table))?;
    write(&chart, svg(&name, &table))?;
    println!("wrote {} and {}", md.display(), chart.display());
    let base_path = args
        .baseline
        .clone()
        .unwrap_or_else(|| default_baseline(&name));
    if args.write_baseline {
        if let Some(dir) = base_path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        write(&base_path, baseline_yaml(&name, &baseline_of(&table)))?;
        println!("baseline written to {}", base_path.display());
        return Ok(EXIT_OK);
    }
    if !base_path.exists() {
        println!(
            "no baseline at {} (write one with --write-baseline)",
            base_path.display()
        );
        return Ok(EXIT_OK);
    }
    let base = load_baseline(&base_path)?;
    let base = if args.filter.is_empty() {
        base
    } else {
        base.into_iter()
            .filter(|(k, _)| table.contains_key(k))
            .collect()
    };
    let diff = changes(&table, &base);
    for line in &diff {
        println!("{line}");
    }
    println!(
        "{name} timing: {} forms, {} changed against {}",
        table.len(),
        diff.len(),
        base_path.display()
    );
    Ok(if diff.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
