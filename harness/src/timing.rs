//! Timing regression reports: for every opcode file and instruction form,
//! the cycles the timing model counts beside the cycles the silicon took
//! (the length of the recorded bus-cycle trace), with a committed baseline
//! of the model's counts so that any change in timing shows in review.

use crate::error::InputError;
use crate::model::TestCase;
use crate::runner::{classify, execute, execute_exact, selected_files};
use crate::suite::Suite;
use crate::vectors::{file_stem, for_each_test, ReadOptions};
use cpu::decode::{decode_head, SliceSource};
use cpu::table::Prefix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::Path;

/// min / median / max of a set of cycle counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    /// Smallest.
    pub min: u64,
    /// Median (lower of the middle two).
    pub median: u64,
    /// Largest.
    pub max: u64,
}

impl Spread {
    fn of(v: &mut [u64]) -> Spread {
        v.sort_unstable();
        Spread {
            min: v[0],
            median: v[(v.len() - 1) / 2],
            max: v[v.len() - 1],
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.min)
        } else {
            write!(f, "{}/{}/{}", self.min, self.median, self.max)
        }
    }
}

/// Timing of one instruction form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormTiming {
    /// Tests of this form.
    pub tests: u64,
    /// Cycles the model counted.
    pub model: Spread,
    /// Cycles in the silicon's bus trace.
    pub silicon: Spread,
    /// Tests where the two differ.
    pub mismatched: u64,
}

/// Timing of a suite: `"FILE form"` → timing, in order.
pub type TimingTable = BTreeMap<String, FormTiming>;

/// The form of a test's instruction: register or memory operand, segment
/// override, REP prefix with a bucket of CX, LOCK.
pub fn form_of(test: &TestCase, model: cpu::CpuModel) -> String {
    let mut src = SliceSource {
        bytes: &test.bytes,
        pos: 0,
    };
    let head = decode_head(model, &mut src);
    let mut parts: Vec<String> = Vec::new();
    match head.modrm {
        Some(m) if m.is_reg() => parts.push("reg".into()),
        Some(_) => parts.push("mem".into()),
        None => {}
    }
    if head.prefixes.seg.is_some() {
        parts.push("seg".into());
    }
    if head.prefixes.lock {
        parts.push("lock".into());
    }
    if let Some(rep) = head.prefixes.rep {
        let cx = test.initial.regs.get(2).unwrap_or(0);
        let bucket = match cx {
            0 => "0",
            1 => "1",
            2..=15 => "2-15",
            _ => "16+",
        };
        let name = if rep == Prefix::Repne { "repne" } else { "rep" };
        parts.push(format!("{name}:cx={bucket}"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

fn file_table(suite: &Suite, path: &Path, exact: bool) -> Result<TimingTable, InputError> {
    let stem = file_stem(path);
    let mut samples: BTreeMap<String, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
    let mut error = None;
    for_each_test(path, ReadOptions { cycles: true }, &mut |t| {
        match classify(suite, &stem, &t) {
            Err(e) => {
                error = Some(InputError::test(path, t.index, e));
                return ControlFlow::Break(());
            }
            Ok(Err(_)) => return ControlFlow::Continue(()),
            Ok(Ok(setup)) => {
                let ex = if exact {
                    execute_exact(&t, &setup).0
                } else {
                    execute(&t, &setup)
                };
                let key = format!("{stem} {}", form_of(&t, suite.model));
                let e = samples.entry(key).or_default();
                e.0.push(ex.cycles);
                e.1.push(t.cycles.len() as u64);
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    Ok(samples
        .into_iter()
        .map(|(k, (mut m, mut s))| {
            let mismatched = m.iter().zip(&s).filter(|(a, b)| a != b).count() as u64;
            let t = FormTiming {
                tests: m.len() as u64,
                model: Spread::of(&mut m),
                silicon: Spread::of(&mut s),
                mismatched,
            };
            (k, t)
        })
        .collect())
}

/// Measure the selected files of a suite (in parallel) on the fast model.
pub fn measure(suite: &Suite, filter: &[String]) -> Result<TimingTable, InputError> {
    measure_with(suite, filter, false)
}

/// Measure on the fast model, or with `exact` on the cycle-exact model
/// (its count is the length of its trace, as the silicon's is; see
/// [`execute_exact`]; 8086/8088 suites only).
pub fn measure_with(
    suite: &Suite,
    filter: &[String],
    exact: bool,
) -> Result<TimingTable, InputError> {
    let files = selected_files(suite, filter);
    let tables: Result<Vec<TimingTable>, InputError> = files
        .par_iter()
        .map(|p| file_table(suite, p, exact))
        .collect();
    Ok(tables?.into_iter().flatten().collect())
}

/// The model's counts, as the committed baseline holds them.
pub type Baseline = BTreeMap<String, Spread>;

/// The baseline of a measured table.
pub fn baseline_of(table: &TimingTable) -> Baseline {
    table.iter().map(|(k, t)| (k.clone(), t.model)).collect()
}

/// Forms whose model timing differs from the baseline (or is new or gone):
/// one line each.
pub fn changes(table: &TimingTable, baseline: &Baseline) -> Vec<String> {
    let mut out = Vec::new();
    for (k, t) in table {
        match baseline.get(k) {
            None => out.push(format!("{k}: new form, model {}", t.model)),
            Some(b) if *b != t.model => out.push(format!("{k}: model {b} -> {}", t.model)),
            _ => {}
        }
    }
    for k in baseline.keys() {
        if !table.contains_key(k) {
            out.push(format!("{k}: no longer measured"));
        }
    }
    out
}

/// Read a baseline file.
pub fn load_baseline(path: &Path) -> Result<Baseline, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::file(path, format!("cannot read: {e}")))?;
    serde_yaml::from_str(&text).map_err(|e| InputError::file(path, e.to_string()))
}

/// The baseline as YAML.
pub fn baseline_yaml(suite_name: &str, baseline: &Baseline) -> String {
    let mut s = format!(
        "# Timing baseline of suite {suite_name}: cycles the timing model counts per\n\
         # opcode file and instruction form (min/median/max). Regenerate with\n\
         # `ironpc timing {suite_name} --write-baseline`.\n"
    );
    s.push_str(&serde_yaml::to_string(baseline).unwrap_or_default());
    s
}

/// The report as Markdown.
pub fn markdown(suite_name: &str, model_name: &str, table: &TimingTable) -> String {
    let tests: u64 = table.values().map(|t| t.tests).sum();
    let exact: u64 = table.values().map(|t| t.tests - t.mismatched).sum();
    let mut s = String::new();
    let _ = writeln!(s, "# Timing report: {suite_name}\n");
    let _ = writeln!(
        s,
        "Timing model: {model_name}. Cycles are min/median/max over the tests of each form; \
         silicon cycles are the length of the recorded bus trace.\n"
    );
    let _ = writeln!(
        s,
        "{exact} of {tests} tests ({:.2}%) take exactly the silicon's cycles.\n",
        100.0 * exact as f64 / tests.max(1) as f64
    );
    let _ = writeln!(
        s,
        "| opcode | form | tests | model | silicon | mismatched |\n|---|---|---|---|---|---|"
    );
    for (k, t) in table {
        let (file, form) = k.split_once(' ').unwrap_or((k, ""));
        let _ = writeln!(
            s,
            "| {file} | {form} | {} | {} | {} | {} |",
            t.tests, t.model, t.silicon, t.mismatched
        );
    }
    s
}

/// An SVG bar chart of the median deviation (model − silicon) per opcode file.
pub fn svg(suite_name: &str, table: &TimingTable) -> String {
    let mut per_file: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (k, t) in table {
        let file = k.split(' ').next().unwrap_or(k);
        per_file
            .entry(file)
            .or_default()
            .push(t.model.median as i64 - t.silicon.median as i64);
    }
    let devs: Vec<(&str, i64)> = per_file
        .into_iter()
        .map(|(f, mut v)| {
            v.sort_unstable();
            (f, v[(v.len() - 1) / 2])
        })
        .collect();
    let bar = 6;
    let width = 60 + devs.len() * bar;
    let height = 420;
    let zero = height / 2;
    let max = devs.iter().map(|d| d.1.abs()).max().unwrap_or(1).max(1) as f64;
    let scale = (height as f64 / 2.0 - 30.0) / max;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"monospace\" font-size=\"10\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"14\">{suite_name}: median cycles, model minus silicon, per opcode file (±{max})</text>\n\
         <line x1=\"50\" y1=\"{zero}\" x2=\"{width}\" y2=\"{zero}\" stroke=\"black\"/>\n"
    );
    for (i, (file, d)) in devs.iter().enumerate() {
        let x = 55 + i * bar;
        let h = (d.abs() as f64 * scale).round() as usize;
        let (y, colour) = if *d >= 0 {
            (zero - h, "#c0392b")
        } else {
            (zero, "#2471a3")
        };
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{h}\" fill=\"{colour}\"><title>{file}: {d}</title></rect>",
            bar - 1
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(model: u64) -> FormTiming {
        FormTiming {
            tests: 1,
            model: Spread {
                min: model,
                median: model,
                max: model,
            },
            silicon: Spread {
                min: 10,
                median: 10,
                max: 10,
            },
            mismatched: (model != 10) as u64,
        }
    }

    #[test]
    fn spread_and_changes() {
        let mut v = vec![5, 1, 9, 3];
        assert_eq!(
            Spread::of(&mut v),
            Spread {
                min: 1,
                median: 3,
                max: 9
            }
        );
        let mut table = TimingTable::new();
        table.insert("00 reg".into(), t(10));
        table.insert("00 mem".into(), t(12));
        let base = baseline_of(&table);
        assert!(changes(&table, &base).is_empty());
        table.insert("00 mem".into(), t(13));
        table.remove("00 reg");
        table.insert("01 reg".into(), t(10));
        let c = changes(&table, &base);
        assert_eq!(c.len(), 3, "{c:?}");
        assert!(c.iter().any(|l| l.starts_with("00 mem: model 12 -> 13")));
        assert!(c.iter().any(|l| l.contains("no longer measured")));
        let yaml = baseline_yaml("x", &base);
        let back: Baseline = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back, base);
        assert!(markdown("x", "counting", &table).contains("| 00 | mem | 1 | 13 | 10 | 1 |"));
        assert!(svg("x", &table).starts_with("<svg"));
    }
}
