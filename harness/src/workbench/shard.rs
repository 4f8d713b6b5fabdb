//! Conformance at scale: split a suite's vector files into shards
//! (`ironpc conform ... --shard K/N`) and merge the JSON results of the
//! shards into one report (`ironpc merge`).
//!
//! Shard K of N takes the files whose position in the suite's sorted file
//! list is K-1 modulo N: round robin, so that the large and small opcode
//! files spread evenly. Every file lands in exactly one shard.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One shard of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub index: usize,
    /// Shards in all.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s:?}: expected K/N with 1 <= K <= N (e.g. 3/16)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The items of this shard, from a list in a fixed order.
    pub fn take<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, x)| x)
            .collect()
    }
}

/// Keep only the shard's files of a suite (the suite's list is sorted
/// first, so that every shard sees the same order).
pub fn apply(suite: &mut crate::suite::Suite, shard: Option<Shard>) {
    if let Some(s) = shard {
        let mut files = std::mem::take(&mut suite.files);
        files.sort();
        suite.files = s.take(files);
    }
}

/// The result of merging shard reports.
#[derive(Debug)]
pub struct Merged {
    /// The merged report, in the JSON form of `ironpc conform --json`.
    pub report: Value,
    /// Reports merged.
    pub inputs: usize,
}

impl Merged {
    /// Tests passed and failed over all files.
    pub fn passed_failed(&self) -> (u64, u64) {
        let t = &self.report["totals"];
        (
            t["passed"].as_u64().unwrap_or(0),
            t["failed"].as_u64().unwrap_or(0),
        )
    }

    /// `SUITE: N passed, M failed` and where it came from.
    pub fn summary(&self) -> String {
        let (p, f) = self.passed_failed();
        format!(
            "{}: {p} passed, {f} failed ({} files from {} results)",
            self.report["suite"].as_str().unwrap_or("?"),
            self.report["totals"]["files"].as_u64().unwrap_or(0),
            self.inputs
        )
    }
}

fn field<'a>(v: &'a Value, key: &str, path: &Path) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| {
        format!(
            "{}: not an `ironpc conform --json` report (no \"{key}\")",
            path.display()
        )
    })
}

/// Merge conformance reports (the `--json` of `ironpc conform`, one per
/// shard): same suite, CPU and checks; no file in two reports. The totals
/// are summed again from the files.
pub fn merge(paths: &[PathBuf]) -> Result<Merged, String> {
    if paths.is_empty() {
        return Err("merge: no result files given".into());
    }
    let mut head: Option<(Value, PathBuf)> = None;
    let mut files: Vec<(String, Value, PathBuf)> = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", p.display()))?;
        for key in ["suite", "cpu", "checks"] {
            let got = field(&v, key, p)?;
            if let Some((h, hp)) = &head {
                if &h[key] != got {
                    return Err(format!(
                        "{}: {key} is {got}, but {} has {}: results of different runs",
                        p.display(),
                        hp.display(),
                        h[key]
                    ));
                }
            }
        }
        let list = field(&v, "files", p)?
            .as_array()
            .ok_or_else(|| format!("{}: \"files\" is not a list", p.display()))?;
        for f in list {
            let name = f["file"]
                .as_str()
                .ok_or_else(|| format!("{}: a file entry has no name", p.display()))?
                .to_string();
            if let Some((_, _, other)) = files.iter().find(|(n, _, _)| *n == name) {
                return Err(format!(
                    "{}: file {name} is also in {}: overlapping shards",
                    p.display(),
                    other.display()
                ));
            }
            files.push((name, f.clone(), p.clone()));
        }
        if head.is_none() {
            head = Some((v, p.clone()));
        }
    }
    let (head, _) = head.expect("at least one input");
    files.sort_by(|a, b| a.0.cmp(&b.0));
    // Totals: every count of every file summed (the index of a first
    // failure is no count), the mismatch table summed key by key.
    let mut totals = Map::new();
    totals.insert("files".into(), Value::from(files.len() as u64));
    let mut mismatches = Map::new();
    for (_, f, _) in &files {
        let Some(obj) = f.as_object() else { continue };
        for (k, v) in obj {
            if k == "first_failure" {
                continue;
            }
            if let Some(n) = v.as_u64() {
                let cur = totals.get(k).and_then(|c| c.as_u64()).unwrap_or(0);
                totals.insert(k.clone(), Value::from(cur + n));
            } else if k == "cycle_mismatch_fields" {
                for (mk, mv) in v.as_object().into_iter().flatten() {
                    let cur = mismatches.get(mk).and_then(|c| c.as_u64()).unwrap_or(0);
                    mismatches.insert(mk.clone(), Value::from(cur + mv.as_u64().unwrap_or(0)));
                }
            }
        }
    }
    if !mismatches.is_empty() {
        totals.insert("cycle_mismatch_fields".into(), Value::Object(mismatches));
    }
    let mut report = Map::new();
    for key in ["suite", "cpu", "checks", "passed_means"] {
        if let Some(v) = head.get(key) {
            report.insert(key.into(), v.clone());
        }
    }
    report.insert(
        "files".into(),
        Value::Array(files.into_iter().map(|(_, f, _)| f).collect()),
    );
    report.insert("totals".into(), Value::Object(totals));
    Ok(Merged {
        report: Value::Object(report),
        inputs: paths.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_item_once() {
        let items: Vec<u32> = (0..10).collect();
        let mut all = Vec::new();
        for k in 1..=3 {
            let s: Shard = format!("{k}/3").parse().unwrap();
            all.extend(s.take(items.clone()));
        }
        all.sort();
        assert_eq!(all, items);
        // Round robin: shard 1 of 3 takes positions 0, 3, 6, 9.
        assert_eq!(Shard { index: 1, count: 3 }.take(items), vec![0, 3, 6, 9]);
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_sums_files_and_refuses_overlaps() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, files: &str| {
            let p = dir.path().join(name);
            std::fs::write(
                &p,
                format!(
                    r#"{{"suite":"s","cpu":"8088","checks":["state"],"passed_means":"x",
                    "files":[{files}],"totals":{{}}}}"#
                ),
            )
            .unwrap();
            p
        };
        let a = write(
            "a.json",
            r#"{"file":"00","tests":10,"passed":9,"failed":1,"first_failure":3,"statuses":["normal"]}"#,
        );
        let b = write(
            "b.json",
            r#"{"file":"01","tests":5,"passed":5,"failed":0,"statuses":["normal"]}"#,
        );
        let m = merge(&[b.clone(), a.clone()]).unwrap();
        assert_eq!(m.passed_failed(), (14, 1));
        assert_eq!(m.report["totals"]["tests"], 15);
        assert_eq!(m.report["totals"]["files"], 2);
        assert!(m.report["totals"].get("first_failure").is_none());
        assert_eq!(m.report["files"][0]["file"], "00");
        let e = merge(&[a.clone(), a.clone()]).unwrap_err();
        assert!(e.contains("overlapping"), "{e}");
        let c = dir.path().join("c.json");
        std::fs::write(
            &c,
            r#"{"suite":"other","cpu":"8088","checks":["state"],"files":[],"totals":{}}"#,
        )
        .unwrap();
        assert!(merge(&[a, c]).unwrap_err().contains("different runs"));
    }
}
