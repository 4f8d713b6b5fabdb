//! `metadata.json`: per-opcode status and mask of defined flags, and the
//! revocation list of withdrawn tests.

use crate::error::InputError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

/// What the vectors' authors say about an opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A documented instruction.
    Normal,
    /// A prefix byte.
    Prefix,
    /// An undocumented alias of another opcode.
    Alias,
    /// Undocumented but stable.
    Undocumented,
    /// Behaviour not defined.
    Undefined,
    /// Coprocessor escape.
    Fpu,
    /// Extension opcode byte (`0F` on the 286).
    Extension,
}

impl Status {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Normal => "normal",
            Status::Prefix => "prefix",
            Status::Alias => "alias",
            Status::Undocumented => "undocumented",
            Status::Undefined => "undefined",
            Status::Fpu => "fpu",
            Status::Extension => "extension",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Status and defined-flags mask of one opcode (or one ModR/M reg of a group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct OpInfo {
    /// Status.
    pub status: Status,
    /// Defined FLAGS bits (bits outside it are undefined); `None`: all defined.
    #[serde(rename = "flags-mask", default)]
    pub flags_mask: Option<u16>,
}

impl OpInfo {
    /// Mask of defined FLAGS bits.
    pub fn defined_flags(&self) -> u16 {
        self.flags_mask.unwrap_or(0xFFFF)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Group { reg: BTreeMap<String, OpInfo> },
    Single(OpInfo),
}

#[derive(Deserialize)]
struct RawMetadata {
    opcodes: BTreeMap<String, Entry>,
}

/// The opcode table of a suite's `metadata.json`.
#[derive(Clone, Debug, Default)]
pub struct Metadata {
    /// Upper-case hex opcode (one or two bytes: `00`, `0F01`) -> single
    /// info, or eight infos by ModR/M reg.
    ops: BTreeMap<String, Either>,
    prefixes: HashSet<u8>,
}

#[derive(Clone, Debug)]
enum Either {
    Single(OpInfo),
    Group([Option<OpInfo>; 8]),
}

/// Why no information could be found for a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupError(pub String);

impl Metadata {
    /// Load `metadata.json`.
    pub fn load(path: &Path) -> Result<Metadata, InputError> {
        let text =
            std::fs::read(path).map_err(|e| InputError::file(path, format!("cannot read: {e}")))?;
        Self::parse(&text).map_err(|m| InputError::file(path, m))
    }

    /// Parse the text of a `metadata.json`.
    pub fn parse(text: &[u8]) -> Result<Metadata, String> {
        let raw: RawMetadata =
            serde_json::from_slice(text).map_err(|e| format!("malformed metadata: {e}"))?;
        let mut md = Metadata::default();
        for (key, entry) in raw.opcodes {
            let op = parse_opcode(&key).ok_or_else(|| {
                format!("malformed metadata: opcode key '{key}' is not one or two hex bytes")
            })?;
            let e = match entry {
                Entry::Single(i) => {
                    if i.status == Status::Prefix && op.len() == 1 {
                        md.prefixes.insert(op[0]);
                    }
                    Either::Single(i)
                }
                Entry::Group { reg } => {
                    let mut g = [None; 8];
                    for (r, info) in reg {
                        let n: usize = r.parse().ok().filter(|n| *n < 8).ok_or_else(|| {
                            format!("malformed metadata: opcode {key}: bad reg '{r}'")
                        })?;
                        g[n] = Some(info);
                    }
                    Either::Group(g)
                }
            };
            md.ops.insert(key.to_ascii_uppercase(), e);
        }
        Ok(md)
    }

    /// True when `op` is a prefix byte.
    pub fn is_prefix(&self, op: u8) -> bool {
        self.prefixes.contains(&op)
    }

    /// Information for a test of file `stem` (`80.1`, `8F`, `00`) with
    /// instruction bytes `bytes`. A group opcode without a reg in the file
    /// name takes the reg field of the ModR/M byte after the opcode.
    pub fn lookup(&self, stem: &str, bytes: &[u8]) -> Result<OpInfo, LookupError> {
        let (op_s, reg_s) = match stem.split_once('.') {
            Some((o, r)) => (o, Some(r)),
            None => (stem, None),
        };
        let op_len = parse_opcode(op_s)
            .ok_or_else(|| {
                LookupError(format!(
                    "file name '{stem}' does not start with a hex opcode"
                ))
            })?
            .len();
        let op = op_s.to_ascii_uppercase();
        let entry = self
            .ops
            .get(&op)
            .ok_or_else(|| LookupError(format!("opcode {op} is not in the metadata")))?;
        match entry {
            Either::Single(i) => Ok(*i),
            Either::Group(g) => {
                let reg = match reg_s {
                    Some(r) => r.parse::<usize>().ok().filter(|r| *r < 8).ok_or_else(|| {
                        LookupError(format!("bad reg '{r}' in file name '{stem}'"))
                    })?,
                    None => {
                        let at = bytes
                            .iter()
                            .position(|b| !self.is_prefix(*b))
                            .ok_or_else(|| LookupError("instruction has only prefixes".into()))?;
                        let modrm = bytes.get(at + op_len).ok_or_else(|| {
                            LookupError(format!("group opcode {op} without a ModR/M byte"))
                        })?;
                        ((modrm >> 3) & 7) as usize
                    }
                };
                g[reg].ok_or_else(|| {
                    LookupError(format!("opcode {op} reg {reg} is not in the metadata"))
                })
            }
        }
    }
}

/// The bytes of a one- or two-byte hex opcode (`80`, `0F01`).
fn parse_opcode(s: &str) -> Option<Vec<u8>> {
    if !(s.len() == 2 || s.len() == 4) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Hashes of withdrawn tests.
#[derive(Clone, Debug, Default)]
pub struct Revocations(pub HashSet<String>);

impl Revocations {
    /// Load a revocation list: one hex hash a line, `#` comments, blank lines.
    pub fn load(path: &Path) -> Result<Revocations, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::file(path, format!("cannot read: {e}")))?;
        Self::parse(&text).map_err(|(line, m)| InputError::file(path, format!("line {line}: {m}")))
    }

    /// Parse the text of a revocation list; errors carry the 1-based line.
    pub fn parse(text: &str) -> Result<Revocations, (usize, String)> {
        let mut set = HashSet::new();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if !l.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err((n + 1, format!("'{l}' is not a hex hash")));
            }
            set.insert(l.to_ascii_lowercase());
        }
        Ok(Revocations(set))
    }

    /// True when `hash` is withdrawn.
    pub fn contains(&self, hash: &str) -> bool {
        self.0.contains(&hash.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = r#"{"url":"x","opcodes":{
        "00":{"status":"normal","arch":"86"},
        "26":{"status":"prefix"},
        "D4":{"status":"normal","flags":"o....a.c","flags-mask":63470},
        "80":{"reg":{"0":{"status":"normal"},"1":{"status":"normal","flags-mask":65519}}},
        "8F":{"reg":{"0":{"status":"normal"},"1":{"status":"undefined"}}},
        "0F01":{"reg":{"0":{"status":"normal"},"5":{"status":"undefined"}}}}}"#;

    #[test]
    fn looks_up_plain_and_group_opcodes() {
        let m = Metadata::parse(MD.as_bytes()).unwrap();
        assert_eq!(m.lookup("00", &[0, 0]).unwrap().status, Status::Normal);
        assert_eq!(m.lookup("00", &[0]).unwrap().defined_flags(), 0xFFFF);
        assert_eq!(m.lookup("D4", &[0xd4, 0]).unwrap().defined_flags(), 63470);
        assert_eq!(
            m.lookup("80.1", &[0x80, 0x00]).unwrap().flags_mask,
            Some(65519)
        );
        // Reg from ModR/M, after a prefix.
        assert_eq!(
            m.lookup("8F", &[0x26, 0x8f, 0x08]).unwrap().status,
            Status::Undefined
        );
        assert_eq!(
            m.lookup("8F", &[0x8f, 0xc0]).unwrap().status,
            Status::Normal
        );
        assert!(m
            .lookup("8F", &[0x8f, 0x10])
            .unwrap_err()
            .0
            .contains("reg 2"));
        assert!(m.lookup("8F", &[0x8f]).is_err());
        assert!(m.lookup("ZZ", &[0]).is_err());
        assert!(m
            .lookup("01", &[1])
            .unwrap_err()
            .0
            .contains("not in the metadata"));
        assert!(m.is_prefix(0x26));
        // Two-byte opcodes: the ModR/M follows both bytes.
        assert_eq!(
            m.lookup("0F01", &[0x0f, 0x01, 0x28]).unwrap().status,
            Status::Undefined
        );
        assert_eq!(
            m.lookup("0f01.0", &[0x0f, 0x01, 0x28]).unwrap().status,
            Status::Normal
        );
    }

    #[test]
    fn malformed_metadata_is_an_error() {
        assert!(Metadata::parse(b"{")
            .unwrap_err()
            .contains("malformed metadata"));
        assert!(Metadata::parse(br#"{"opcodes":{"0G":{"status":"normal"}}}"#).is_err());
        assert!(Metadata::parse(br#"{"opcodes":{"00":{"status":"weird"}}}"#).is_err());
    }

    #[test]
    fn revocation_list() {
        let r = Revocations::parse("# comment\n\nABCDEF01\n  1234  \n").unwrap();
        assert!(r.contains("abcdef01"));
        assert!(r.contains("1234"));
        assert!(!r.contains("12"));
        assert_eq!(Revocations::parse("# c\nxyz\n").unwrap_err().0, 2);
    }
}
