//! Suite manifests (`test-suites/*.yaml`) and locating the suites' data.

use crate::error::InputError;
use crate::vectors::metadata::{Metadata, Revocations, Status};
use cpu::CpuModel;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Environment variable naming the directory of the shared test-suite data.
pub const SUITES_ENV: &str = "IRONPC_SUITES";

/// A check a suite's vectors support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// Registers, memory and flags after the instruction.
    State,
    /// The bus-cycle trace.
    Cycles,
}

/// How a test is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Exactly one `step()` (the 8086 vectors).
    SingleStep,
    /// Step until the CPU halts (the 286 vectors end in HLT), at most `max_steps` times.
    UntilHalt,
}

/// A test or file excluded from a suite, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    /// A vector file (its name, e.g. `0F.json.gz`, or its opcode stem, e.g. `0F`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// One test, by hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Why it is skipped.
    pub reason: String,
}

fn default_max_steps() -> u32 {
    16
}

/// A suite manifest, as written in YAML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Suite name (what `ironpc conform NAME` takes).
    pub name: String,
    /// One line about the suite.
    pub description: String,
    /// CPU model the vectors were captured from: `8086`, `80286`, ...
    pub cpu: String,
    /// Directory of the vector files, relative to the suites directory.
    pub data: PathBuf,
    /// Glob (`*`, `?`) selecting the vector files in `data`.
    pub files: String,
    /// `metadata.json`, relative to the suites directory.
    pub metadata: PathBuf,
    /// Revocation list, relative to the suites directory.
    #[serde(default)]
    pub revocations: Option<PathBuf>,
    /// Checks the vectors support.
    pub checks: Vec<Check>,
    /// Opcode statuses whose tests are run; others are counted as skipped.
    pub statuses: Vec<Status>,
    /// Known skips.
    #[serde(default)]
    pub skips: Vec<Skip>,
    /// How a test is run.
    pub run: RunMode,
    /// Step limit for `until_halt`.
    #[serde(default = "default_max_steps")]
    pub max_steps: u32,
    /// Mask applied to the initial FLAGS (the 286 vectors' top four bits are noise).
    #[serde(default)]
    pub initial_flags_mask: Option<u16>,
    /// Physical address of the divide-error handler. When a test without an
    /// exception record ends there, the FLAGS it pushed (at SS:SP-2 of the
    /// initial state) are compared under the defined-flags mask.
    #[serde(default)]
    pub divide_error_handler: Option<u32>,
}

impl Manifest {
    /// Parse and validate manifest text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, InputError> {
        let m: Manifest = serde_yaml::from_str(text)
            .map_err(|e| InputError::file(path, format!("bad manifest: {e}")))?;
        m.model()
            .map_err(|e| InputError::file(path, format!("bad manifest: {e}")))?;
        for s in &m.skips {
            if s.file.is_some() == s.hash.is_some() {
                return Err(InputError::file(
                    path,
                    format!(
                        "bad manifest: a skip names exactly one of 'file' or 'hash' (reason '{}')",
                        s.reason
                    ),
                ));
            }
        }
        if m.checks.is_empty() {
            return Err(InputError::file(path, "bad manifest: 'checks' is empty"));
        }
        Ok(m)
    }

    /// Load a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// The CPU model.
    pub fn model(&self) -> Result<CpuModel, cpu::UnknownModel> {
        self.cpu.parse()
    }

    /// The skip reason for a file, if the manifest skips it.
    pub fn file_skip(&self, file_name: &str, stem: &str) -> Option<&str> {
        self.skips.iter().find_map(|s| match &s.file {
            Some(f) if f.eq_ignore_ascii_case(file_name) || f.eq_ignore_ascii_case(stem) => {
                Some(s.reason.as_str())
            }
            _ => None,
        })
    }

    /// The skip reason for a test hash, if the manifest skips it.
    pub fn hash_skip(&self, hash: &str) -> Option<&str> {
        self.skips.iter().find_map(|s| match &s.hash {
            Some(h) if h.eq_ignore_ascii_case(hash) => Some(s.reason.as_str()),
            _ => None,
        })
    }
}

/// A loaded suite: manifest, where its data is, and its tables.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The manifest.
    pub manifest: Manifest,
    /// CPU model.
    pub model: CpuModel,
    /// Vector files, sorted by name.
    pub files: Vec<PathBuf>,
    /// Opcode table.
    pub metadata: Metadata,
    /// Withdrawn tests.
    pub revocations: Revocations,
    /// Run the tests with the decoded-instruction cache on, each instruction
    /// taken from it (see [`crate::runner::TestSetup::decode_cache`]).
    pub decode_cache: bool,
}

impl Suite {
    /// Load the workspace's suite `name` (its manifest
    /// `test-suites/NAME.yaml`), its data under `suites_dir`.
    pub fn load_workspace(name: &str, suites_dir: &Path) -> Result<Suite, InputError> {
        let path = workspace_root()
            .join("test-suites")
            .join(format!("{name}.yaml"));
        Suite::load(Manifest::load(&path)?, suites_dir)
    }

    /// Load the suite a manifest describes, its data under `suites_dir`.
    pub fn load(manifest: Manifest, suites_dir: &Path) -> Result<Suite, InputError> {
        let model = manifest.model().expect("validated when parsed");
        let data = suites_dir.join(&manifest.data);
        let entries = std::fs::read_dir(&data).map_err(|e| {
            InputError::file(
                &data,
                format!("cannot list the suite's vector directory: {e}"),
            )
        })?;
        let mut files = Vec::new();
        for e in entries {
            let e = e.map_err(|e| InputError::file(&data, format!("cannot list: {e}")))?;
            let name = e.file_name();
            if glob_match(&manifest.files, &name.to_string_lossy()) {
                files.push(e.path());
            }
        }
        if files.is_empty() {
            return Err(InputError::file(
                &data,
                format!("no vector files match '{}'", manifest.files),
            ));
        }
        files.sort();
        let metadata = Metadata::load(&suites_dir.join(&manifest.metadata))?;
        let revocations = match &manifest.revocations {
            Some(r) => Revocations::load(&suites_dir.join(r))?,
            None => Revocations::default(),
        };
        Ok(Suite {
            manifest,
            model,
            files,
            metadata,
            revocations,
            decode_cache: false,
        })
    }
}

/// Match `name` against a glob of literal characters, `*` and `?`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The workspace root this crate was built in.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Directories searched for manifests: `explicit` alone when given, else the
/// workspace's `test-suites/` and `test-suites/` under the current directory.
pub fn manifest_dirs(explicit: Option<&Path>) -> Vec<PathBuf> {
    match explicit {
        Some(d) => vec![d.to_path_buf()],
        None => vec![
            workspace_root().join("test-suites"),
            PathBuf::from("test-suites"),
        ],
    }
}

/// Find a suite's manifest: `name` is a path to a `.yaml` file, or a suite
/// name looked up as `NAME.yaml` in `dirs`.
pub fn find_manifest(name: &str, dirs: &[PathBuf]) -> Result<PathBuf, String> {
    let p = Path::new(name);
    if name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/') {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("manifest file '{name}' not found"))
        };
    }
    for d in dirs {
        let f = d.join(format!("{name}.yaml"));
        if f.is_file() {
            return Ok(f);
        }
    }
    let mut known = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if let Some(s) = n.strip_suffix(".yaml") {
                    known.push(s.to_string());
                }
            }
        }
    }
    known.sort();
    known.dedup();
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "unknown suite '{name}': no {name}.yaml in {} (known suites: {})",
        dirs.join(", "),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}

/// The suites data directory: `explicit`, else `$IRONPC_SUITES`, else
/// `shared/test-suites` beside the workspace, else `../shared/test-suites`.
pub fn suites_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(d) = explicit {
        return d.to_path_buf();
    }
    if let Some(d) = std::env::var_os(SUITES_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let beside = workspace_root().join("../shared/test-suites");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("../shared/test-suites")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "
name: t
description: a test suite
cpu: '8086'
data: 8086/v1
files: '*.json.gz'
metadata: 8086/v1/metadata.json
checks: [state, cycles]
statuses: [normal, alias]
skips:
  - file: 0F.json.gz
    reason: POP CS
  - hash: ABCD
    reason: bad
run: single_step
divide_error_handler: 0x400
";

    #[test]
    fn parses_a_manifest() {
        let m = Manifest::parse(Path::new("t.yaml"), GOOD).unwrap();
        assert_eq!(m.model().unwrap(), CpuModel::I8086);
        assert_eq!(m.checks, vec![Check::State, Check::Cycles]);
        assert_eq!(m.statuses, vec![Status::Normal, Status::Alias]);
        assert_eq!(m.run, RunMode::SingleStep);
        assert_eq!(m.max_steps, 16);
        assert_eq!(m.divide_error_handler, Some(0x400));
        assert_eq!(m.file_skip("0f.json.gz", "0f"), Some("POP CS"));
        assert_eq!(m.file_skip("x", "0F"), None);
        assert_eq!(m.hash_skip("abcd"), Some("bad"));
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let e = Manifest::parse(Path::new("t.yaml"), &format!("{GOOD}colour: red\n")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.yaml: bad manifest: unknown field `colour`"),
            "{e}"
        );
        let e = Manifest::parse(
            Path::new("t.yaml"),
            &GOOD.replace("reason: bad", "reason: bad\n    why: x"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `why`"), "{e}");
        let e = Manifest::parse(Path::new("t.yaml"), &GOOD.replace("'8086'", "'z80'")).unwrap_err();
        assert!(e.to_string().contains("unknown CPU model 'z80'"), "{e}");
        let e = Manifest::parse(Path::new("t.yaml"), &GOOD.replace("single_step", "forever"))
            .unwrap_err();
        assert!(e.to_string().contains("t.yaml: bad manifest"), "{e}");
        let e = Manifest::parse(
            Path::new("t.yaml"),
            &GOOD.replace("  - hash: ABCD\n", "  - hash: ABCD\n    file: x\n"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("exactly one"), "{e}");
        let e = Manifest::parse(Path::new("t.yaml"), &GOOD.replace("name: t\n", "")).unwrap_err();
        assert!(e.to_string().contains("missing field `name`"), "{e}");
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.json.gz", "80.1.json.gz"));
        assert!(!glob_match("*.json.gz", "metadata.json"));
        assert!(glob_match("?0.*", "80.1.json.gz"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "ac"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
    }

    #[test]
    fn unknown_suite_lists_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("one.yaml"), GOOD).unwrap();
        let dirs = vec![dir.path().to_path_buf()];
        assert_eq!(
            find_manifest("one", &dirs).unwrap(),
            dir.path().join("one.yaml")
        );
        let e = find_manifest("two", &dirs).unwrap_err();
        assert!(
            e.starts_with("unknown suite 'two'") && e.contains("known suites: one"),
            "{e}"
        );
    }
}
