//! `ironpc conform SUITE --show HASH|FILE:INDEX`: one test in detail.

use super::{CliError, EXIT_FAILED, EXIT_OK};
use crate::model::{TestCase, FLAGS_INDEX, REGS};
use crate::runner::{
    classify, defined_flags, execute, expected_byte, expected_flags, flags_on_stack, judge,
    pushed_flags_mask, reg_mask, Executed, SkipKind, TestSetup,
};
use crate::suite::Suite;
use crate::vectors::{file_stem, for_each_test, ReadOptions};
use rayon::prelude::*;
use std::fmt::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Read test `index` of the vector file `path`, with its cycle trace.
fn load_indexed(path: &Path, index: usize, which: &str) -> Result<(String, TestCase), CliError> {
    let mut found = None;
    for_each_test(path, ReadOptions { cycles: true }, &mut |t| {
        if t.index == index {
            found = Some(t);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    found.map(|t| (file_stem(path), t)).ok_or_else(|| {
        CliError(format!(
            "--show {which}: {} has no test {index}",
            path.display()
        ))
    })
}

/// Find a test by `FILE:INDEX` or by hash.
pub fn find_test(suite: &Suite, which: &str) -> Result<(String, TestCase), CliError> {
    if let Some((file, index)) = which.rsplit_once(':') {
        let index: usize = index
            .parse()
            .map_err(|_| CliError(format!("--show {which}: '{index}' is not a test index")))?;
        let path = suite
            .files
            .iter()
            .find(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                file_stem(p).eq_ignore_ascii_case(file) || name.eq_ignore_ascii_case(file)
            })
            .ok_or_else(|| {
                CliError(format!(
                    "--show {which}: suite '{}' has no file '{file}'",
                    suite.manifest.name
                ))
            })?;
        return load_indexed(path, index, which);
    }
    // By hash: search every file without traces, then read the one test with its trace.
    let found = suite
        .files
        .par_iter()
        .map(|p| -> Result<Option<(PathBuf, usize)>, CliError> {
            let mut found = None;
            for_each_test(p, ReadOptions { cycles: false }, &mut |t| {
                if t.hash.eq_ignore_ascii_case(which) {
                    found = Some(t.index);
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })?;
            Ok(found.map(|i| (p.clone(), i)))
        })
        .find_map_any(|r| match r {
            Ok(None) => None,
            other => Some(other),
        });
    match found {
        Some(Ok(Some((path, index)))) => load_indexed(&path, index, which),
        Some(Err(e)) => Err(e),
        _ => Err(CliError(format!(
            "--show {which}: no test with that hash in suite '{}'",
            suite.manifest.name
        ))),
    }
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The detailed text for one test run.
pub fn render(
    stem: &str,
    test: &TestCase,
    setup: &TestSetup,
    ex: &Executed,
    skip: Option<SkipKind>,
) -> String {
    let mut s = String::new();
    let v = judge(test, ex, setup);
    let dis = cpu::disassemble(&test.bytes, setup.model);
    let _ = writeln!(s, "test {stem}:{}  hash {}", test.index, test.hash);
    let _ = writeln!(s, "vector:      {}", test.name);
    let _ = writeln!(s, "disassembly: {}  (length {})", dis.text, dis.len);
    let _ = writeln!(s, "bytes:       {}", hex_bytes(&test.bytes));
    let defined = defined_flags(test, setup);
    let _ = writeln!(
        s,
        "status:      {}, defined flags mask {defined:04X}{}",
        setup.info.status,
        match skip {
            Some(k) => format!(" (this test is skipped in suite runs: {k:?})"),
            None => String::new(),
        }
    );
    if let Some(e) = test.exception {
        let _ = writeln!(
            s,
            "exception:   vector {}, FLAGS pushed at {:06X}",
            e.number, e.flag_address
        );
    }
    if let Some(p) = &ex.panic {
        let _ = writeln!(s, "CPU PANICKED: {p}");
    }
    let _ = writeln!(
        s,
        "steps:       {}{}",
        ex.steps,
        if ex.halted { " (halted)" } else { "" }
    );
    let _ = writeln!(s, "\nreg     initial  expected  actual");
    for (i, name) in REGS.iter().enumerate() {
        let init = test.initial.regs.get(i).unwrap_or(0);
        let (want, mask) = if i == FLAGS_INDEX {
            (expected_flags(test, setup), defined)
        } else {
            (test.expected(i).unwrap_or(0), reg_mask(test, i))
        };
        let got = ex.regs.get(name).unwrap_or(0);
        let mark = if (want ^ got) & mask != 0 {
            "  <-- MISMATCH"
        } else if want != got {
            "  (undefined bits differ)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{name:<6}  {init:04X}     {want:04X}      {got:04X}{mark}"
        );
    }
    let want_f = expected_flags(test, setup);
    let _ = writeln!(s, "\nflags     ODITSZAPC");
    let _ = writeln!(
        s,
        "initial   {}",
        cpu::describe_flags(test.initial.regs.get(FLAGS_INDEX).unwrap_or(0))
    );
    let _ = writeln!(s, "expected  {}", cpu::describe_flags(want_f));
    let _ = writeln!(s, "actual    {}", cpu::describe_flags(ex.regs.flags));
    let marks: String = cpu::describe_flags(want_f ^ ex.regs.flags)
        .chars()
        .zip(cpu::describe_flags(!defined).chars())
        .map(|(d, u)| match (d != '.', u != '.') {
            (false, _) => ' ',
            (true, false) => '^',
            (true, true) => 'u',
        })
        .collect();
    if marks.trim().is_empty() {
        let _ = writeln!(s, "          (all flags match)");
    } else {
        let _ = writeln!(
            s,
            "          {marks}   (^ defined flag differs, u undefined flag differs)"
        );
    }
    let _ = writeln!(s, "\nmemory  initial  expected  actual");
    let pushed = flags_on_stack(test, setup);
    // Every byte the final state lists, the other bytes of the initial
    // state, then bytes written that neither lists.
    let mut addrs: Vec<u32> = test.final_state.ram.iter().map(|(a, _)| *a).collect();
    for (a, _) in &test.initial.ram {
        if !addrs.contains(a) {
            addrs.push(*a);
        }
    }
    let mut extra: Vec<u32> = ex
        .bus
        .writes
        .iter()
        .copied()
        .filter(|a| !addrs.contains(a))
        .collect();
    extra.sort_unstable();
    extra.dedup();
    addrs.extend(extra);
    for addr in addrs {
        let init = test
            .initial
            .ram
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, v)| format!("{v:02X}"))
            .unwrap_or_else(|| "--".into());
        let want = expected_byte(test, addr);
        let got = ex.bus.peek(addr);
        let mask = pushed_flags_mask(pushed, defined, addr);
        let mark = match (want, got) {
            (None, _) => "  <-- MISMATCH (written, but not in the test's memory)",
            (_, None) => "  <-- MISMATCH (never loaded or written)",
            (Some(w), Some(g)) if (g ^ w) & mask != 0 => "  <-- MISMATCH",
            (Some(w), Some(g)) if g != w => "  (undefined flag bits differ)",
            _ => "",
        };
        let show = |b: Option<u8>| b.map(|g| format!("{g:02X}")).unwrap_or_else(|| "--".into());
        let _ = writeln!(
            s,
            "{addr:06X}  {init}       {}        {}{mark}",
            show(want),
            show(got)
        );
    }
    if !test.cycles.is_empty() {
        let _ = writeln!(
            s,
            "\nexpected bus cycles ({}; not checked yet):",
            test.cycles.len()
        );
        for (i, c) in test.cycles.iter().enumerate() {
            let _ = writeln!(s, "{i:>4}  {}", crate::cycles::describe(c, setup.model));
        }
    }
    let _ = writeln!(
        s,
        "\nresult: {} (registers {}, memory {}, defined flags {}, undefined flags {})",
        if v.passed() { "PASS" } else { "FAIL" },
        ok(v.regs_ok),
        ok(v.mem_ok),
        ok(v.defined_flags_ok),
        if v.has_undefined {
            ok(v.undefined_flags_ok)
        } else {
            "none"
        }
    );
    s
}

fn ok(b: bool) -> &'static str {
    if b {
        "ok"
    } else {
        "differ"
    }
}

/// Run `--show`.
pub fn show(suite: &Suite, which: &str) -> Result<u8, CliError> {
    let (stem, test) = find_test(suite, which)?;
    let (setup, skip) = match classify(suite, &stem, &test) {
        Err(e) => return Err(CliError(format!("{stem}: test {}: {e}", test.index))),
        Ok(Ok(s)) => (s, None),
        Ok(Err(kind)) => {
            // Run it anyway, under the metadata's information.
            let info = suite
                .metadata
                .lookup(&stem, &test.bytes)
                .map_err(|e| CliError(e.0))?;
            let m = &suite.manifest;
            (
                TestSetup {
                    model: suite.model,
                    run: m.run,
                    max_steps: m.max_steps,
                    initial_flags_mask: m.initial_flags_mask.unwrap_or(0xFFFF),
                    divide_error_handler: m.divide_error_handler,
                    info,
                },
                Some(kind),
            )
        }
    };
    let ex = execute(&test, &setup);
    let passed = judge(&test, &ex, &setup).passed();
    print!("{}", render(&stem, &test, &setup, &ex, skip));
    Ok(if passed { EXIT_OK } else { EXIT_FAILED })
}
