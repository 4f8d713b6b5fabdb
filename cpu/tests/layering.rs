//! The crate's dependency rule, checked on the source text:
//! - the shared layer (the files at the top of `src/`, except `lib.rs`, which
//!   declares the modules and re-exports) imports neither core: no path
//!   through `i86` or `ia32`, and none of the items `lib.rs` re-exports from
//!   them (`crate::Cpu` is the 16-bit core's);
//! - the two cores never import each other: nothing under `src/i86/` names
//!   `ia32` (or what `lib.rs` re-exports from it), nothing under `src/ia32/`
//!   names `i86` (or its re-exports);
//! - inside `i86/`, the lower layer (the timing seam, the pins and bus models,
//!   the decoded instruction, the fast forms' choice, the decode cache and
//!   the bodies built over it) does
//!   not import the execution layer (`exec.rs`, `fast.rs`) above it.
//!
//! Paths are read from the code (comments removed) wherever they start with
//! `crate::` or `super::`, with `{...}` use groups expanded.

use std::fs;
use std::path::{Path, PathBuf};

/// The lower layer of the 16-bit core (file stems under `src/i86/`).
const I86_LOWER: &[&str] = &[
    "timing", "pins", "biu", "biu286", "instr", "forms", "icache", "body",
];
/// The execution layer of the 16-bit core, which the lower layer must not name.
const I86_UPPER: &[&str] = &["exec", "fast"];

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The code of a Rust file with `//` and `/* */` comments (doc comments
/// too) and the contents of string literals removed.
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' {
            // A string literal: skip to its closing quote (escapes included).
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('"', '\'', '\\'...): dropped so that its quote
            // cannot start a string. Lifetimes ('a) do not match this.
            let from = if b[i + 1] == b'\\' { i + 3 } else { i + 2 };
            let close = b[from.min(b.len())..]
                .iter()
                .position(|&c| c == b'\'')
                .map_or(b.len(), |p| from + p);
            i = close + 1;
            out.push_str("' '");
        } else {
            let c = src[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Parse a use tree at `i` (`a::b::{c, d::e}`, `*`): the paths it names,
/// as segment lists, and where it ends.
fn use_tree(b: &[u8], i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = skip_ws(b, i);
    loop {
        if i < b.len() && b[i] == b'{' {
            let mut paths = Vec::new();
            i += 1;
            loop {
                i = skip_ws(b, i);
                if i >= b.len() {
                    return (paths, i);
                }
                if b[i] == b'}' {
                    i += 1;
                    break;
                }
                if b[i] == b',' {
                    i += 1;
                    continue;
                }
                let (sub, end) = use_tree(b, i);
                for s in sub {
                    let mut p = prefix.clone();
                    p.extend(s);
                    paths.push(p);
                }
                if end == i {
                    // Not a path: step over it rather than loop.
                    i += 1;
                } else {
                    i = end;
                }
            }
            return (paths, i);
        }
        let start = i;
        while i < b.len() && (is_ident(b[i]) || b[i] == b'*') {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i);
        }
        prefix.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        let j = skip_ws(b, i);
        if b[j..].starts_with(b"::") {
            i = skip_ws(b, j + 2);
        } else {
            // `as Name` and anything else end the path.
            return (vec![prefix], i);
        }
    }
}

/// Every path in `code` that starts with `crate::` or `super::`, with use
/// groups expanded; the leading `crate`/`super` segments are kept.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let at_start = i == 0 || !is_ident(b[i - 1]) && b[i - 1] != b':';
        if at_start && (b[i..].starts_with(b"crate::") || b[i..].starts_with(b"super::")) {
            let (paths, end) = use_tree(b, i);
            out.extend(paths);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The names `lib.rs` re-exports from core `core` (`pub use core::...`).
fn reexports_of(lib: &str, core: &str) -> Vec<String> {
    let mut names = Vec::new();
    for path in crate_paths(&strip_comments(lib).replace("pub use ", "pub use crate::")) {
        if path.get(1).is_some_and(|s| s == core) {
            if let Some(last) = path.last() {
                names.push(last.clone());
            }
        }
    }
    names
}

/// Why `code` breaks the rule that it names none of `cores` (modules at the
/// top of the crate) and none of the `reexported` items, if it does.
fn names_forbidden(code: &str, cores: &[&str], reexported: &[String]) -> Vec<String> {
    let mut bad = Vec::new();
    for path in crate_paths(code) {
        let joined = path.join("::");
        if path.iter().any(|s| cores.contains(&s.as_str())) {
            bad.push(joined);
        } else if path[0] == "crate" && path.len() >= 2 && reexported.contains(&path[1]) {
            bad.push(format!("{joined} (re-exported from a core)"));
        }
    }
    bad
}

/// Paths from a lower-layer file of `i86/` into its execution layer.
fn names_upper_layer(code: &str) -> Vec<String> {
    crate_paths(code)
        .into_iter()
        .filter(|p| {
            p.windows(2)
                .any(|w| (w[0] == "super" || w[0] == "i86") && I86_UPPER.contains(&w[1].as_str()))
        })
        .map(|p| p.join("::"))
        .collect()
}

#[test]
fn the_scanner_finds_imports_in_every_form() {
    let none: Vec<String> = Vec::new();
    let cpu = vec!["Cpu".to_string()];
    let flagged = |code: &str, cores: &[&str], re: &[String]| -> bool {
        !names_forbidden(&strip_comments(code), cores, re).is_empty()
    };
    assert!(flagged("use crate::i86::Cpu;", &["i86"], &none));
    assert!(flagged(
        "use crate::{\n    bus::Bus,\n    i86::{exec, timing::Timing},\n};",
        &["i86"],
        &none
    ));
    assert!(flagged(
        "fn f() { let x = crate::ia32::cpu::new(); }",
        &["ia32"],
        &none
    ));
    assert!(flagged("use super::super::ia32::Seg;", &["ia32"], &none));
    assert!(flagged("use crate::{Bus, Cpu};", &["i86"], &cpu));
    // Comments, strings and other modules are not imports.
    assert!(!flagged(
        "/// see [`crate::i86::Cpu`]\nuse crate::bus::Bus;",
        &["i86"],
        &cpu
    ));
    assert!(!flagged(
        "/* crate::i86 */ let s = \"crate::i86\";",
        &["i86"],
        &none
    ));
    assert!(!flagged(
        "use crate::regs::{Seg, CF};",
        &["i86", "ia32"],
        &cpu
    ));
    assert!(!flagged("use crate::model::CpuModel;", &["i86"], &cpu));
    assert!(!names_upper_layer("use super::fast::Quick;").is_empty());
    assert!(!names_upper_layer("use super::{exec::Current, timing::Timing};").is_empty());
    assert!(names_upper_layer("use super::forms::Quick;").is_empty());
    let lib =
        "pub use i86::biu::ExactTiming;\npub use i86::{Cpu, timing::Timing};\npub use bus::Bus;";
    assert_eq!(reexports_of(lib, "i86"), ["ExactTiming", "Cpu", "Timing"]);
}

#[test]
fn the_shared_layer_imports_no_core_and_the_cores_not_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let read = |p: &Path| fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let lib = read(&src.join("lib.rs"));
    let from_i86 = reexports_of(&lib, "i86");
    let from_ia32 = reexports_of(&lib, "ia32");
    assert!(
        from_i86.iter().any(|n| n == "Cpu"),
        "lib.rs re-exports the 16-bit core's Cpu: {from_i86:?}"
    );
    let mut problems = Vec::new();
    let mut seen = (0, 0);
    for path in rust_files(&src) {
        let rel = path.strip_prefix(&src).unwrap_or(&path);
        let parts: Vec<String> = rel
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        let code = strip_comments(&read(&path));
        let bad = match parts.as_slice() {
            [lib] if lib == "lib.rs" => continue,
            [_] => {
                seen.0 += 1;
                let both: Vec<String> = from_i86.iter().chain(&from_ia32).cloned().collect();
                names_forbidden(&code, &["i86", "ia32"], &both)
            }
            [core, ..] if core == "i86" => {
                seen.1 += 1;
                let mut bad = names_forbidden(&code, &["ia32"], &from_ia32);
                let stem = rel.file_stem().map(|s| s.to_string_lossy().into_owned());
                if stem.is_some_and(|s| I86_LOWER.contains(&s.as_str())) {
                    bad.extend(names_upper_layer(&code).into_iter().map(|p| {
                        format!("{p} (the lower layer of i86 names its execution layer)")
                    }));
                }
                bad
            }
            [core, ..] if core == "ia32" => names_forbidden(&code, &["i86"], &from_i86),
            // Other directories (x87) are not covered by this rule.
            _ => continue,
        };
        for b in bad {
            problems.push(format!("{}: {b}", rel.display()));
        }
    }
    assert!(seen.0 >= 5, "found the shared layer's files: {}", seen.0);
    assert!(seen.1 >= 8, "found the 16-bit core's files: {}", seen.1);
    assert!(
        problems.is_empty(),
        "the dependency rule (docs/architecture.md) is broken:\n  {}",
        problems.join("\n  ")
    );
}
