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
    parse_format(format, path, &data, opts, f)
}

/// Read every test of already-decompressed vector data in `format`
/// (`path` names it in errors).
fn parse_format(
    format: Format,
    path: &Path,
    data: &[u8],
    opts: ReadOptions,
    f: &mut dyn FnMut(TestCase) -> ControlFlow<()>,
) -> Result<usize, InputError> {
    match format {
        Format::Json => json::parse_tests(path, data, opts, f),
        Format::Moo => moo::parse_tests(path, data, opts, f).map(|(n, _)| n),
    }
}

/// Every test of vector data, collected; the format is `name`'s (for the
/// readers' tests).
#[cfg(test)]
pub(crate) fn collect(name: &str, data: &[u8], cycles: bool) -> Result<Vec<TestCase>, InputError> {
    let path = Path::new(name);
    let format = Format::of(path).expect("a vector file name");
    let mut v = Vec::new();
    parse_format(format, path, data, ReadOptions { cycles }, &mut |t| {
        v.push(t);
        ControlFlow::Continue(())
    })?;
    Ok(v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn names_and_formats() {
        assert_eq!(Format::of(Path::new("a/80.1.json.gz")), Some(Format::Json));
        assert_eq!(Format::of(Path::new("A4.MOO.gz")), Some(Format::Moo));
        assert_eq!(Format::of(Path::new("x.moo")), Some(Format::Moo));
        assert_eq!(Format::of(Path::new("x.txt")), None);
        assert_eq!(file_stem(Path::new("d/80.1.json.gz")), "80.1");
        assert_eq!(file_stem(Path::new("F6.6.MOO.gz")), "F6.6");
        assert_eq!(file_stem(Path::new("00.json")), "00");
    }

    #[test]
    fn gzip_files_and_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let good = gz(br#"[{"name":"n","bytes":[144],"initial":{"regs":{"ax":1,"bx":2,"cx":3,"dx":4,"cs":5,"ss":6,"ds":7,"es":8,"sp":9,"bp":10,"si":11,"di":12,"ip":13,"flags":2},"ram":[]},"final":{"regs":{},"ram":[]},"hash":"h","idx":0}]"#);
        let p = dir.path().join("90.json.gz");
        std::fs::write(&p, &good).unwrap();
        let v = read_all(&p, ReadOptions::default()).unwrap();
        assert_eq!((v.len(), v[0].hash.as_str()), (1, "h"));

        std::fs::write(&p, &good[..good.len() - 12]).unwrap();
        let e = read_all(&p, ReadOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{}: corrupt or truncated gzip data", p.display())),
            "{e}"
        );

        std::fs::write(&p, b"\x1f\x8b\x08\x00garbage").unwrap();
        let e = read_all(&p, ReadOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("corrupt or truncated gzip data"),
            "{e}"
        );

        let missing = dir.path().join("91.json.gz");
        let e = read_all(&missing, ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("91.json.gz: cannot read"), "{e}");

        let odd = dir.path().join("91.bin");
        std::fs::write(&odd, b"").unwrap();
        let e = read_all(&odd, ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("unknown vector format"), "{e}");
    }
}
