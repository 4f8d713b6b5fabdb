//! `ironpc conform SUITE --show HASH|FILE:INDEX`: one test in detail.

use super::{CliError, EXIT_FAILED, EXIT_OK};
use crate::cycles::{compare_masked, describe};
use crate::model::{Cycle, TestCase, FLAGS_INDEX, REGS};
use crate::runner::{
    classify, defined_flags, execute, execute_exact, expected_byte, expected_flags, flags_on_stack,
    has_cycle_model, judge, pushed_flags_mask, reg_mask, setup_for, Checks, Executed, SkipKind,
    TestSetup,
};
use crate::suite::Suite;
use crate::vectors::{file_stem, for_each_test, ReadOptions};
use cpu::CpuModel;
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

/// The expected and actual traces side by side, one line per clock, the
/// first difference marked `>>` and its field named.
pub fn render_traces(model: CpuModel, expected: &[Cycle], actual: &[Cycle]) -> String {
    render_traces_masked(model, expected, actual, None)
}

/// [`render_traces`] with a pushed FLAGS image's undefined bits not compared
/// (see [`compare_masked`]).
pub fn render_traces_masked(
    model: CpuModel,
    expected: &[Cycle],
    actual: &[Cycle],
    flags: Option<(u32, u16)>,
) -> String {
    let mut s = String::new();
    let mismatch = compare_masked(model, expected, actual, flags);
    let exp: Vec<String> = expected.iter().map(|c| describe(c, model)).collect();
    let act: Vec<String> = actual.iter().map(|c| describe(c, model)).collect();
    let width = exp.iter().map(String::len).max().unwrap_or(0).max(8);
    let _ = writeln!(
        s,
        "bus cycles: expected {}, actual {} (exact model); {}",
        expected.len(),
        actual.len(),
        match &mismatch {
            None => "they match".to_string(),
            Some(m) => format!(
                "first difference at cycle {} ({}), marked >>",
                m.index, m.field
            ),
        }
    );
    let _ = writeln!(s, "        {:<width$}  actual", "expected");
    for i in 0..exp.len().max(act.len()) {
        let at = mismatch.as_ref().filter(|m| m.index == i);
        let cell = |v: &[String]| v.get(i).map(String::as_str).unwrap_or("(none)").to_string();
        let line = format!(
            "{} {i:>4}  {:<width$}  {}{}",
            if at.is_some() { ">>" } else { "  " },
            cell(&exp),
            cell(&act),
            at.map(|m| format!("  <-- {} differs", m.field))
                .unwrap_or_default()
        );
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// The detailed text for one test run: `ex` is the run the state is judged
/// from; `trace` the exact model's trace, when there is one.
pub fn render(
    stem: &str,
    test: &TestCase,
    setup: &TestSetup,
    ex: &Executed,
    skip: Option<SkipKind>,
    trace: Option<&[Cycle]>,
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
    match trace {
        Some(actual) if !test.cycles.is_empty() => {
            let flags = flags_on_stack(test, setup).map(|a| (a, defined_flags(test, setup)));
            let _ = write!(
                s,
                "\n{}",
                render_traces_masked(setup.model, &test.cycles, actual, flags)
            );
        }
        _ if !test.cycles.is_empty() => {
            let _ = writeln!(
                s,
                "\nexpected bus cycles ({}; not compared: the {} has no cycle-exact model):",
                test.cycles.len(),
                setup.model.name()
            );
            for (i, c) in test.cycles.iter().enumerate() {
                let _ = writeln!(s, "{i:>4}  {}", describe(c, setup.model));
            }
        }
        _ => {}
    }
    let _ = writeln!(
        s,
        "\nstate: {} (registers {}, memory {}, defined flags {}, undefined flags {})",
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

fn pass_word(b: bool) -> &'static str {
    if b {
        "PASS"
    } else {
        "FAIL"
    }
}

fn ok(b: bool) -> &'static str {
    if b {
        "ok"
    } else {
        "differ"
    }
}

/// Run `--show`: the state from the fast model for `--check state`, from
/// the exact model otherwise; the traces whenever the CPU has an exact model.
pub fn show(suite: &Suite, which: &str, checks: Checks) -> Result<u8, CliError> {
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
            (setup_for(suite, info), Some(kind))
        }
    };
    let exact = has_cycle_model(setup.model).then(|| execute_exact(&test, &setup));
    let ex = match (&exact, checks.cycles) {
        (Some((ex, _)), true) => ex.clone(),
        _ => execute(&test, &setup),
    };
    let trace = exact.as_ref().map(|(_, t)| t.as_slice());
    let state_ok = judge(&test, &ex, &setup).passed();
    let flags = flags_on_stack(&test, &setup).map(|a| (a, defined_flags(&test, &setup)));
    let cycles_ok =
        trace.is_some_and(|t| compare_masked(setup.model, &test.cycles, t, flags).is_none());
    let passed = (!checks.state || state_ok) && (!checks.cycles || cycles_ok);
    print!("{}", render(&stem, &test, &setup, &ex, skip, trace));
    println!(
        "state judged from the {} model; {}",
        if checks.cycles { "exact" } else { "fast" },
        match (checks.state, checks.cycles) {
            (true, true) => format!("--check all: {}", pass_word(passed)),
            (false, true) => format!("--check cycles: {}", pass_word(passed)),
            _ => format!("--check state: {}", pass_word(passed)),
        }
    );
    Ok(if passed { EXIT_OK } else { EXIT_FAILED })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BusStatus, QueueOp, TState, SEG_NONE};

    fn clock(t: TState, bus: BusStatus, address: u32) -> Cycle {
        Cycle {
            pins: (t == TState::T1) as u8,
            address,
            segment: SEG_NONE,
            mem_status: 0,
            io_status: 0,
            bhe: 0,
            data: 0,
            bus,
            t_state: t,
            queue_op: QueueOp::None,
            queue_byte: 0,
        }
    }

    fn fetch(at: u32) -> Vec<Cycle> {
        vec![
            clock(TState::Ti, BusStatus::Passive, 0),
            clock(TState::T1, BusStatus::Code, at),
            clock(TState::T2, BusStatus::Code, at),
            clock(TState::T3, BusStatus::Passive, at),
            clock(TState::T4, BusStatus::Passive, at),
        ]
    }

    /// The rows of the trace table: (marked, index, text).
    fn rows(text: &str) -> Vec<(bool, usize, String)> {
        text.lines()
            .skip(2)
            .map(|l| {
                let marked = l.starts_with(">>");
                let rest = l[2..].trim_start();
                let (i, tail) = rest.split_once("  ").unwrap();
                (marked, i.parse().unwrap(), tail.to_string())
            })
            .collect()
    }

    #[test]
    fn the_first_difference_is_marked() {
        let e = fetch(0xF0100);
        let mut a = fetch(0xF0102);
        a[3].t_state = TState::Tw; // a later difference: not marked
        let text = render_traces(CpuModel::I8086, &e, &a);
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("first difference at cycle 1 (address)"),
            "{text}"
        );
        let r = rows(&text);
        assert_eq!(r.len(), 5);
        let marked: Vec<usize> = r.iter().filter(|r| r.0).map(|r| r.1).collect();
        assert_eq!(marked, [1], "{text}");
        assert!(r[1].2.ends_with("<-- address differs"), "{text}");
        assert!(r[1].2.contains("0F0100") && r[1].2.contains("0F0102"));
        assert!(!text.contains("T-state differs"));
    }

    #[test]
    fn a_shorter_trace_is_marked_where_it_ends() {
        let e = fetch(0xF0100);
        let text = render_traces(CpuModel::I8086, &e, &e[..3]);
        let r = rows(&text);
        assert_eq!(r.len(), 5);
        assert!(
            r[3].0 && !r[4].0 && r.iter().filter(|r| r.0).count() == 1,
            "{text}"
        );
        assert!(r[3].2.contains("(none)") && r[3].2.ends_with("<-- length differs"));
    }

    #[test]
    fn matching_traces_are_not_marked() {
        let e = fetch(0xF0100);
        let mut a = e.clone();
        a[0].address = 0x1234; // floats in Ti: not compared
        let text = render_traces(CpuModel::I8086, &e, &a);
        assert!(
            text.lines().next().unwrap().ends_with("they match"),
            "{text}"
        );
        assert!(!text.contains(">>"));
    }
}
