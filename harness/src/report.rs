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
        Report {
            suite: suite.to_string(),
            cpu: cpu.to_string(),
            checks: checks.iter().map(|s| s.to_string()).collect(),
            files,
            totals: t,
        }
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
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<6} {:<20} {:>6} {:>6} {:>6} {:>8} {:>8} {:>11} {:>6} {:>7}",
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
            let undef = if f.counts.undefined_total == 0 {
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
                "{:<6} {:<20} {:>6} {:>6} {:>6} {:>8} {:>8} {:>11} {:>6} {:>7}  {}",
                f.file,
                status,
                f.counts.tests,
                f.counts.passed,
                f.counts.failed,
                f.counts.failed_regs_mem,
                f.counts.failed_defined_flags,
                undef,
                "n/a",
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
        let _ = writeln!(
            s,
            "{} files, {} tests: {} failed on registers/memory, {} on defined flags; undefined flags matched in {}/{}{}",
            t.files,
            t.counts.tests,
            t.counts.failed_regs_mem,
            t.counts.failed_defined_flags,
            t.counts.undefined_matched,
            t.counts.undefined_total,
            if t.counts.panicked > 0 {
                format!("; CPU panicked in {}", t.counts.panicked)
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            s,
            "skipped: {} ({} by the manifest, {} revoked, {} for their opcode status)",
            t.skipped(),
            t.counts.skipped_manifest,
            t.counts.skipped_revoked,
            t.counts.skipped_status
        );
        let _ = writeln!(s, "{}", self.summary_line());
        s
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
}
