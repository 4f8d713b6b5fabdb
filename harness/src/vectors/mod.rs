//! Readers of the SingleStepTests vector formats.
//!
//! Every reader works on one file at a time and hands tests to a callback one
//! by one, so a suite is never held in memory as a whole.

pub mod json;
pub mod metadata;
pub mod moo;

use crate::error::InputError;
use crate::model::TestCase;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

/// The file formats the readers understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of tests (optionally gzipped).
    Json,
    /// MOO chunked binary (optionally gzipped).
    Moo,
}

impl Format {
    /// The format a file name implies (`.json[.gz]`, `.moo[.gz]`, any case).
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".json") {
            Some(Format::Json)
        } else if name.ends_with(".moo") {
            Some(Format::Moo)
        } else {
            None
        }
    }
}

/// What to read besides the states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Parse the bus-cycle traces (skipped otherwise, which is faster).
    pub cycles: bool,
}

/// The opcode part of a vector file's name: `80.1` for `80.1.json.gz`.
pub fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let mut cut = name.len();
    for suffix in [".json.gz", ".moo.gz", ".json", ".moo"] {
        if lower.ends_with(suffix) {
            cut = name.len() - suffix.len();
            break;
        }
    }
    name[..cut].to_string()
}

/// Read a whole file, decompressing it when its name ends in `.gz`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, InputError> {
    let raw =
        std::fs::read(path).map_err(|e| InputError::file(path, format!("cannot read: {e}")))?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    if !gz {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 8);
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| InputError::file(path, format!("corrupt or truncated gzip data: {e}")))?;
    Ok(out)
}

/// Read every test of a vector file, in order, handing each to `f`; `f` may
/// stop the reading early. Returns the number of tests handed over.
pub fn for_each_test(
    path: &Path,
    opts: ReadOptions,
    f: &mut dyn FnMut(TestCase) -> ControlFlow<()>,
) -> Result<usize, InputError> {
    let format = Format::of(path).ok_or_else(|| {
        InputError::file(
            path,
            "unknown vector format (expected .json, .json.gz, .moo or .moo.gz)",
        )
    })?;
    let data = read_maybe_gz(path)?;
    match format {
        Format::Json => json::parse_tests(path, &data, opts, f),
        Format::Moo => moo::parse_tests(path, &data, opts, f).map(|(n, _)| n),
    }
}

/// Read every test of a file into a vector (for tools and tests; suites stream).
pub fn read_all(path: &Path, opts: ReadOptions) -> Result<Vec<TestCase>, InputError> {
    let mut v = Vec::new();
    for_each_test(path, opts, &mut |t| {
        v.push(t);
        ControlFlow::Continue(())
    })?;
    Ok(v)
}

/// Hex string of a byte slice (lower case).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
