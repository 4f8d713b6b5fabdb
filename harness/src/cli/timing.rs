//! `ironpc timing SUITE`: per-opcode timing report (Markdown and SVG) and the
//! comparison with the committed timing baseline.

use super::conform::{load_suite, SuiteArgs};
use super::{CliError, EXIT_FAILED, EXIT_OK};
use crate::suite::workspace_root;
use crate::timing::{
    baseline_of, baseline_yaml, changes, load_baseline, markdown, measure_with, svg,
};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `ironpc timing`.
#[derive(Debug, Args)]
pub struct TimingArgs {
    /// The suite.
    #[command(flatten)]
    pub sel: SuiteArgs,
    /// Baseline to compare with [default: test-suites/timing/SUITE.yaml].
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the measured counts as the new baseline instead of comparing.
    #[arg(long)]
    pub write_baseline: bool,
    /// Directory for SUITE-timing.md and SUITE-timing.svg.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Timing model: `fast` (compared with the baseline), or `exact` (the
    /// cycle-exact model, 8086/8088 suites; writes SUITE-exact-timing.*,
    /// no baseline).
    #[arg(long, default_value = "fast", value_name = "MODEL")]
    pub timing: String,
}

/// The committed baseline of a suite.
pub fn default_baseline(suite: &str) -> PathBuf {
    workspace_root().join(format!("test-suites/timing/{suite}.yaml"))
}

/// Run `ironpc timing`.
pub fn run(args: &TimingArgs) -> Result<u8, CliError> {
    let exact = match args.timing.trim().to_ascii_lowercase().as_str() {
        "fast" => false,
        "exact" => true,
        other => {
            return Err(CliError(format!(
                "--timing: unknown timing model '{other}' (expected fast or exact)"
            )))
        }
    };
    if exact && (args.write_baseline || args.baseline.is_some()) {
        return Err(CliError(
            "--timing exact: the timing baseline holds the fast model's counts; drop --baseline/--write-baseline".into(),
        ));
    }
    let suite = load_suite(&args.sel)?;
    if exact && !crate::runner::has_cycle_model(suite.model) {
        return Err(CliError(format!(
            "--timing exact: suite '{}' is for the {}, which has no cycle-exact model (it covers the 8086, 8088 and 80286)",
            suite.manifest.name,
            suite.model.name()
        )));
    }
    let name = suite.manifest.name.clone();
    // The baseline is read before the measurement: a bad one is reported
    // at once, not after the suite has run.
    let base_path = args
        .baseline
        .clone()
        .unwrap_or_else(|| default_baseline(&name));
    let base = if exact || args.write_baseline {
        None
    } else if base_path.exists() {
        Some(load_baseline(&base_path)?)
    } else if args.baseline.is_some() {
        return Err(CliError(format!(
            "{}: --baseline: no such file",
            base_path.display()
        )));
    } else {
        None
    };
    let table = measure_with(&suite, &args.sel.filter, exact)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError(format!("{}: cannot create: {e}", args.out.display())))?;
    let stem = if exact {
        format!("{name}-exact")
    } else {
        name.clone()
    };
    let md = args.out.join(format!("{stem}-timing.md"));
    let chart = args.out.join(format!("{stem}-timing.svg"));
    let write = |p: &PathBuf, text: String| {
        std::fs::write(p, text).map_err(|e| CliError(format!("{}: cannot write: {e}", p.display())))
    };
    let model_name = if exact {
        "exact (the cycle-exact bus model; a count is the length of its trace)"
    } else {
        "fast (Intel table timings)"
    };
    write(&md, markdown(&name, model_name, &table))?;
    write(&chart, svg(&name, &table))?;
    println!("wrote {} and {}", md.display(), chart.display());
    if exact {
        let tests: u64 = table.values().map(|t| t.tests).sum();
        let same: u64 = table.values().map(|t| t.tests - t.mismatched).sum();
        println!(
            "{name} exact timing: {same} of {tests} tests take exactly the silicon's cycles, {} forms",
            table.len()
        );
        return Ok(EXIT_OK);
    }
    if args.write_baseline {
        if let Some(dir) = base_path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        write(&base_path, baseline_yaml(&name, &baseline_of(&table)))?;
        println!("baseline written to {}", base_path.display());
        return Ok(EXIT_OK);
    }
    let Some(base) = base else {
        println!(
            "no baseline at {} (write one with --write-baseline)",
            base_path.display()
        );
        return Ok(EXIT_OK);
    };
    let base = if args.sel.filter.is_empty() {
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
