//! `ironpc conform SUITE`: run a conformance suite and print the per-opcode table.

use super::{CliError, EXIT_FAILED, EXIT_OK};
use crate::report::Report;
use crate::runner::{run_suite_with, unsupported, Checks, FileResult};
use crate::suite::{find_manifest, manifest_dirs, suites_dir, Manifest, Suite};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Which comparisons to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckArg {
    /// Registers, memory and defined flags (on the fast model).
    State,
    /// The bus-cycle trace (on the cycle-exact model; 8086/8088 suites).
    Cycles,
    /// Both, on the cycle-exact model.
    All,
}

impl CheckArg {
    /// The checks this argument selects.
    pub fn checks(self) -> Checks {
        match self {
            CheckArg::State => Checks::STATE,
            CheckArg::Cycles => Checks::CYCLES,
            CheckArg::All => Checks::ALL,
        }
    }
}

/// Which suite, where its data and manifest are, and which of its files.
#[derive(Debug, Args)]
pub struct SuiteArgs {
    /// Suite name (a manifest `NAME.yaml` in the manifests directory) or a manifest path.
    pub suite: String,
    /// Directory of the test-suite data [default: $IRONPC_SUITES, else ../shared/test-suites].
    #[arg(long, value_name = "DIR")]
    pub suites_dir: Option<PathBuf>,
    /// Directory of the suite manifests [default: the workspace's test-suites/, else ./test-suites].
    #[arg(long, value_name = "DIR")]
    pub manifests_dir: Option<PathBuf>,
    /// Run only these opcode files (`80` selects 80.0 … 80.7), comma separated.
    #[arg(long, value_name = "OPCODE,...", value_delimiter = ',')]
    pub filter: Vec<String>,
    /// Take every instruction from the decoded-instruction cache (filled just
    /// before it runs), through the specialised forms where it has one.
    #[arg(long)]
    pub decode_cache: bool,
}

/// Arguments of `ironpc conform`.
#[derive(Debug, Args)]
pub struct ConformArgs {
    /// The suite.
    #[command(flatten)]
    pub sel: SuiteArgs,
    /// Write the results (per opcode and totals) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Which comparisons to make.
    #[arg(long, value_enum, default_value_t = CheckArg::State)]
    pub check: CheckArg,
    /// Show one test in detail instead: by hash, or as FILE:INDEX (e.g. 80.1:17).
    #[arg(long, value_name = "HASH|FILE:INDEX")]
    pub show: Option<String>,
    /// Run only shard K of N of the suite's files (round robin); merge the
    /// shards' --json results with `ironpc merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::workbench::shard::Shard>,
}

/// Load the suite named on the command line, with its data.
pub fn load_suite(args: &SuiteArgs) -> Result<Suite, CliError> {
    let dirs = manifest_dirs(args.manifests_dir.as_deref());
    let path = find_manifest(&args.suite, &dirs).map_err(CliError)?;
    let manifest = Manifest::load(&path)?;
    let data = suites_dir(args.suites_dir.as_deref());
    if !data.is_dir() {
        return Err(CliError(format!(
            "test-suite data not found at {} (set --suites-dir or ${})",
            data.display(),
            crate::suite::SUITES_ENV
        )));
    }
    let mut suite = Suite::load(manifest, &data)?;
    suite.decode_cache = args.decode_cache;
    Ok(suite)
}

fn install_quiet_panic_hook() {
    static SHOWN: AtomicUsize = AtomicUsize::new(0);
    std::panic::set_hook(Box::new(|info| {
        let n = SHOWN.fetch_add(1, Ordering::Relaxed);
        if n < 3 {
            eprintln!("CPU panic (test counted as failed): {info}");
        } else if n == 3 {
            eprintln!("(further CPU panics not shown)");
        }
    }));
}

/// Run `ironpc conform`.
pub fn run(args: &ConformArgs) -> Result<u8, CliError> {
    let checks = args.check.checks();
    if let Some(path) = &args.json {
        super::check_output_file(path, "--json")?;
    }
    let mut suite = load_suite(&args.sel)?;
    crate::workbench::shard::apply(&mut suite, args.shard);
    if let Some(why) = unsupported(&suite, checks) {
        return Err(CliError(why));
    }
    install_quiet_panic_hook();
    if let Some(which) = &args.show {
        return super::show::show(&suite, which, checks);
    }
    let total = crate::runner::selected_files(&suite, &args.sel.filter).len();
    if total == 0 {
        return Err(CliError(format!(
            "no vector files of suite '{}' match --filter {}",
            suite.manifest.name,
            args.sel.filter.join(",")
        )));
    }
    let results = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} files {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(suite.manifest.name.clone());
        let r = run_suite_with(&suite, &args.sel.filter, checks, &|f: &FileResult| {
            bar.set_message(f.file.clone());
            bar.inc(1);
        });
        bar.finish_and_clear();
        r
    } else {
        let done = Mutex::new(0usize);
        let step = total.div_ceil(10).max(1);
        run_suite_with(&suite, &args.sel.filter, checks, &|_: &FileResult| {
            let mut d = done.lock().unwrap_or_else(|e| e.into_inner());
            *d += 1;
            if *d % step == 0 || *d == total {
                eprintln!("{}: {}/{} files", suite.manifest.name, *d, total);
            }
        })
    }?;
    let report = Report::new(
        &suite.manifest.name,
        suite.model.name(),
        &checks.names(),
        results,
    );
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).expect("report serialises");
        std::fs::write(path, text + "\n")
            .map_err(|e| CliError(format!("{}: cannot write: {e}", path.display())))?;
    }
    print!("{}", report.render());
    Ok(if report.ok() { EXIT_OK } else { EXIT_FAILED })
}
