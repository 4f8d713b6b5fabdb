//! Conformance results: totals, the per-opcode table, the JSON form.

use crate::runner::{Counts, FileResult};
use serde::Serialize;
use std::fmt::Write;

/// Sums over all files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Files run.
    pub files: u64,
    /// The summed counts.
    #[serde(flatten)]
    pub counts: Counts,
}

impl Totals {
    /// All skipped tests.
    pub fn skipped(&self) -> u64 {
        self.counts.skipped()
    }
}

/// The results of a conformance run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Suite name.
    pub suite: String,
    /// CPU model.
    pub cpu: String,
    /// Checks done.
    pub checks: Vec<String>,
    /// What a test had to match to pass.
    pub passed_means: String,
    /// Per file, sorted by name.
    pub files: Vec<FileResult>,
    /// Sums.
    pub totals: Totals,
}

impl Report {
    /// Build a report from file results (sorted here).
    pub fn new(suite: &str, cpu: &str, checks: &[&str], mut files: Vec<FileResult>) -> Report {
        files.sort_by(|a, b| a.file.cmp(&b.file));
        let mut t = Totals::default();
        for f in &files {
            t.files += 1;
            t.counts.add(&f.counts);
        }
        let checks: Vec<String> = checks.iter().map(|s| s.to_string()).collect();
        let passed_means = crate::runner::Checks {
            state: checks.iter().any(|c| c == "state"),
            cycles: checks.iter().any(|c| c == "cycles"),
        }
        .passed_means()
        .to_string();
        Report {
            suite: suite.to_string(),
            cpu: cpu.to_string(),
            checks,
            passed_means,
            files,
            totals: t,
        }
    }

    /// True when the run compared `check` (`state` or `cycles`).
    pub fn checked(&self, check: &str) -> bool {
        self.checks.iter().any(|c| c == check)
    }

    /// True when no test failed.
    pub fn ok(&self) -> bool {
        self.totals.counts.failed == 0
    }

    /// The last line of a run: `SUITE: N passed, M failed`.
    pub fn summary_line(&self) -> String {
        format!(
            "{}: {} passed, {} failed",
            self.suite, self.totals.counts.passed, self.totals.counts.failed
        )
    }

    /// The per-opcode table, the skip line, and the summary line last.
    /// Columns of a check not made show `-`; `cycles` is traces matched of
    /// traces compared.
    pub fn render(&self) -> String {
        let (state, cycles) = (self.checked("state"), self.checked("cycles"));
        let or_dash = |on: bool, v: String| if on { v } else { "-".to_string() };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<6} {:<20} {:>6} {:>6} {:>6} {:>8} {:>8} {:>11} {:>11} {:>7}",
            "file",
            "status",
            "tests",
            "passed",
            "failed",
            "regs+mem",
            "defflags",
            "undef ok",
            "cycles",
            "skipped"
        );
        for f in &self.files {
            let status = if f.statuses.is_empty() {
                "-".to_string()
            } else {
                f.statuses
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join("+")
            };
            let undef = if !state || f.counts.undefined_total == 0 {
                "-".to_string()
            } else {
                format!(
                    "{}/{}",
                    f.counts.undefined_matched, f.counts.undefined_total
                )
            };
            let first = f
                .first_failure
                .map(|i| format!("{}:{i}", f.file))
                .unwrap_or_default();
            let mut line = format!(
                "{:<6} {:<20} {:>6} {:>6} {:>6} {:>8} {:>8} {:>11} {:>11} {:>7}  {}",
                f.file,
                status,
                f.counts.tests,
                f.counts.passed,
                f.counts.failed,
                or_dash(state, f.counts.failed_regs_mem.to_string()),
                or_dash(state, f.counts.failed_defined_flags.to_string()),
                undef,
                or_dash(
                    cycles,
                    format!("{}/{}", f.counts.cycles_matched, f.counts.cycles_checked)
                ),
                f.skipped(),
                first
            );
            if let Some(r) = &f.skip_reason {
                let _ = write!(line, "  (skipped: {r})");
            }
            if f.counts.panicked > 0 {
                let _ = write!(line, "  ({} panicked)", f.counts.panicked);
            }
            let _ = writeln!(s, "{}", line.trim_end());
        }
        let t = &self.totals;
        let panicked = if t.counts.panicked > 0 {
            format!("; CPU panicked in {}", t.counts.panicked)
        } else {
            String::new()
        };
        if state {
            let _ = writeln!(
                s,
                "{} files, {} tests: {} failed on registers/memory, {} on defined flags; undefined flags matched in {}/{}{}",
                t.files,
                t.counts.tests,
                t.counts.failed_regs_mem,
                t.counts.failed_defined_flags,
                t.counts.undefined_matched,
                t.counts.undefined_total,
                if cycles { "" } else { panicked.as_str() }
            );
        }
        if cycles {
            let fields = if t.counts.cycle_mismatch_fields.is_empty() {
                String::new()
            } else {
                let mut by: Vec<_> = t.counts.cycle_mismatch_fields.iter().collect();
                by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let list: Vec<String> = by.iter().map(|(f, n)| format!("{f} {n}")).collect();
                format!("; first difference: {}", list.join(", "))
            };
            let _ = writeln!(
                s,
                "{} files, {} tests: bus cycles matched exactly in {}/{} ({}){fields}{panicked}",
                t.files,
                t.counts.tests,
                t.counts.cycles_matched,
                t.counts.cycles_checked,
                percent(t.counts.cycles_matched, t.counts.cycles_checked),
            );
        }
        let _ = writeln!(
            s,
            "skipped: {} ({} by the manifest, {} revoked, {} for their opcode status)",
            t.skipped(),
            t.counts.skipped_manifest,
            t.counts.skipped_revoked,
            t.counts.skipped_status
        );
        // Worded so that it cannot be read as a verdict on the whole run
        // (a "passed: ..." line above "1089 failed" was).
        let _ = writeln!(
            s,
            "a test counts as passed when {} (totals on the next line)",
            self.passed_means
        );
        let _ = writeln!(s, "{}", self.summary_line());
        s
    }
}

/// `part` of `whole` as a percentage with one decimal (`-` of nothing).
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::metadata::Status;

    #[test]
    fn summary_is_the_last_line() {
        let mut a = FileResult {
            file: "01".into(),
            counts: Counts {
                tests: 10,
                passed: 7,
                failed: 3,
                failed_regs_mem: 2,
                failed_defined_flags: 1,
                skipped_status: 4,
                ..Default::default()
            },
            ..Default::default()
        };
        a.statuses.insert(Status::Normal);
        let b = FileResult {
            file: "00".into(),
            counts: Counts {
                tests: 5,
                passed: 5,
                undefined_total: 5,
                undefined_matched: 4,
                ..Default::default()
            },
            ..Default::default()
        };
        let r = Report::new("8086", "8086", &["state"], vec![a, b]);
        assert_eq!(r.files[0].file, "00");
        assert_eq!(r.totals.counts.passed, 12);
        assert!(!r.ok());
        let text = r.render();
        assert_eq!(text.lines().last(), Some("8086: 12 passed, 3 failed"));
        assert!(
            text.contains("skipped: 4 (0 by the manifest, 0 revoked, 4 for their opcode status)")
        );
        assert!(text.contains("4/5"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["totals"]["failed"], 3);
        assert_eq!(json["files"][1]["statuses"][0], "normal");
    }

    #[test]
    fn cycle_counts_are_rendered() {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("T-state", 2);
        fields.insert("length", 1);
        let f = FileResult {
            file: "88".into(),
            counts: Counts {
                tests: 4,
                passed: 1,
                failed: 3,
                cycles_checked: 4,
                cycles_matched: 1,
                cycle_mismatch_fields: fields,
                ..Default::default()
            },
            first_failure: Some(2),
            ..Default::default()
        };
        let r = Report::new("8086", "8086", &["cycles"], vec![f.clone()]);
        let text = r.render();
        let row = text.lines().nth(1).unwrap();
        let cols: Vec<&str> = row.split_whitespace().collect();
        // file status tests passed failed regs+mem defflags undef cycles skipped first
        assert_eq!(
            cols,
            ["88", "-", "4", "1", "3", "-", "-", "-", "1/4", "0", "88:2"]
        );
        assert!(
            text.contains(
                "bus cycles matched exactly in 1/4 (25.0%); first difference: T-state 2, length 1"
            ),
            "{text}"
        );
        assert!(!text.contains("failed on registers/memory"), "{text}");
        assert!(
            text.contains("a test counts as passed when every bus cycle matches"),
            "{text}"
        );
        assert_eq!(text.lines().last(), Some("8086: 1 passed, 3 failed"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["files"][0]["cycles_matched"], 1);
        assert_eq!(json["totals"]["cycle_mismatch_fields"]["T-state"], 2);
        assert_eq!(json["checks"][0], "cycles");

        let r = Report::new("8086", "8086", &["state", "cycles"], vec![f]);
        let text = r.render();
        assert!(text.contains("failed on registers/memory"), "{text}");
        assert!(text.contains(
            "a test counts as passed when the state (registers, memory, defined flags) and every bus cycle match"
        ));
        let cols: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(cols[5..9], ["0", "0", "-", "1/4"]);
    }
}
