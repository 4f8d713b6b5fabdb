//! The shared SingleStepTests suites, run through the library (state check),
//! their per-opcode summaries compared with snapshots in `test-suites/snapshots/`.
//!
//! Without the data these tests skip with a message, unless
//! `IRONPC_REQUIRE_DATA=1`, when they fail. Accept new results with
//! `cargo insta accept` (or `INSTA_UPDATE=always`).

mod common;

use common::data_dir;
use harness::runner::run_suite;
use harness::suite::Suite;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct FileSummary {
    passed: u64,
    failed: u64,
    skipped: u64,
    /// Tests whose undefined FLAGS bits match the silicon, of those that have any.
    #[serde(skip_serializing_if = "Option::is_none")]
    undefined_flags: Option<String>,
}

#[derive(Serialize)]
struct SuiteSummary {
    passed: u64,
    failed: u64,
    skipped: u64,
    files: BTreeMap<String, FileSummary>,
}

/// The shared suite `name` (its manifest in `test-suites/`), or `None`
/// (after saying so) without the data.
fn load_suite(name: &str) -> Option<Suite> {
    let data = data_dir()?;
    Some(Suite::load_workspace(name, &data).unwrap_or_else(|e| panic!("{e}")))
}

fn summarise(name: &str, decode_cache: bool) -> Option<SuiteSummary> {
    let mut suite = load_suite(name)?;
    suite.decode_cache = decode_cache;
    let results = run_suite(&suite, &[], &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let mut s = SuiteSummary {
        passed: 0,
        failed: 0,
        skipped: 0,
        files: BTreeMap::new(),
    };
    for r in results {
        s.passed += r.counts.passed;
        s.failed += r.counts.failed;
        s.skipped += r.skipped();
        s.files.insert(
            r.file.clone(),
            FileSummary {
                passed: r.counts.passed,
                failed: r.counts.failed,
                skipped: r.skipped(),
                undefined_flags: (r.counts.undefined_total > 0).then(|| {
                    format!(
                        "{}/{}",
                        r.counts.undefined_matched, r.counts.undefined_total
                    )
                }),
            },
        );
    }
    Some(s)
}

fn check(name: &str) {
    check_with(name, false);
}

/// The suite with every instruction taken from the decode cache (through
/// its specialised form where it has one): the results must be those of the
/// decoder's path, the same snapshot.
fn check_with(name: &str, decode_cache: bool) {
    let Some(summary) = summarise(name, decode_cache) else {
        return;
    };
    assert!(
        summary.passed + summary.failed > 0,
        "suite {name} ran no tests"
    );
    insta::with_settings!({
        snapshot_path => "../../test-suites/snapshots",
        prepend_module_to_snapshot => false,
        description => format!("per-opcode state-check results of suite {name}"),
        omit_expression => true,
    }, {
        insta::assert_yaml_snapshot!(name, summary);
    });
}

#[test]
fn suite_8086() {
    check("8086");
}

#[test]
fn suite_8086_moo() {
    check("8086-moo");
}

#[test]
fn suite_80286() {
    check("80286");
}

#[derive(Serialize)]
struct CycleSummary {
    /// Traces that match the silicon's clock for clock.
    matched: u64,
    checked: u64,
    /// Per opcode file: "matched/checked".
    files: BTreeMap<String, String>,
}

/// The cycle check of suite `name`, per opcode file, or `None` (after
/// saying so) without the data.
fn cycle_summary(name: &str) -> Option<CycleSummary> {
    use harness::runner::{run_suite_with, Checks};
    let suite = load_suite(name)?;
    let results =
        run_suite_with(&suite, &[], Checks::CYCLES, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let mut s = CycleSummary {
        matched: 0,
        checked: 0,
        files: BTreeMap::new(),
    };
    for r in results {
        s.matched += r.counts.cycles_matched;
        s.checked += r.counts.cycles_checked;
        s.files.insert(
            r.file.clone(),
            format!("{}/{}", r.counts.cycles_matched, r.counts.cycles_checked),
        );
    }
    Some(s)
}

/// The exact model's per-opcode cycle conformance, snapshotted so that any
/// change of the model's timing shows in review (`cargo insta accept`
/// records an intended change).
#[test]
fn suite_8086_cycles() {
    let Some(s) = cycle_summary("8086") else {
        return;
    };
    assert_eq!(s.checked, 321_000, "every test's trace is compared");
    insta::with_settings!({
        snapshot_path => "../../test-suites/snapshots",
        prepend_module_to_snapshot => false,
        description => "per-opcode cycle-exact traces of the exact model, suite 8086".to_string(),
        omit_expression => true,
    }, {
        insta::assert_yaml_snapshot!("8086-cycles", s);
    });
}

/// The 80286 bus model's per-opcode cycle conformance (each test is the
/// instruction and a HLT, the trace up to the HALT bus cycle), snapshotted as
/// for the 8086; the model must keep at least 99.5% of the traces exact.
#[test]
fn suite_80286_cycles() {
    let Some(s) = cycle_summary("80286") else {
        return;
    };
    assert_eq!(s.checked, 324_999, "every test's trace is compared");
    assert!(
        s.matched * 1000 >= s.checked * 995,
        "{} of {} traces exact",
        s.matched,
        s.checked
    );
    insta::with_settings!({
        snapshot_path => "../../test-suites/snapshots",
        prepend_module_to_snapshot => false,
        description => "per-opcode cycle-exact traces of the 80286 bus model, suite 80286".to_string(),
        omit_expression => true,
    }, {
        insta::assert_yaml_snapshot!("80286-cycles", s);
    });
}

#[test]
fn suite_8086_from_the_decode_cache() {
    check_with("8086", true);
}

#[test]
fn suite_80286_from_the_decode_cache() {
    check_with("80286", true);
}

/// Every vector of every suite parses with its cycle trace, and the states
/// are consistent: complete initial registers, 286 traces ending in HALT.
#[test]
fn vectors_parse_with_cycles() {
    use harness::model::BusStatus;
    use harness::vectors::{for_each_test, ReadOptions};
    use rayon::prelude::*;
    use std::ops::ControlFlow;
    let Some(data) = data_dir() else {
        return;
    };
    for name in ["8086", "8086-moo", "80286"] {
        let suite = Suite::load_workspace(name, &data).unwrap_or_else(|e| panic!("{e}"));
        let is_286 = suite.manifest.cpu == "80286";
        let total: usize = suite
            .files
            .par_iter()
            .map(|p| {
                let mut n = 0;
                for_each_test(p, ReadOptions { cycles: true }, &mut |t| {
                    assert!(t.initial.regs.is_complete(), "{}: {}", p.display(), t.index);
                    assert!(!t.cycles.is_empty(), "{}: {}", p.display(), t.index);
                    assert_eq!(t.hash.len(), if is_286 { 40 } else { t.hash.len() });
                    assert!(!t.bytes.is_empty());
                    if is_286 {
                        assert!(t.initial.queue.is_empty());
                        assert!(
                            t.cycles.iter().any(|c| c.bus == BusStatus::Halt),
                            "{}: test {} has no HALT cycle",
                            p.display(),
                            t.index
                        );
                    } else {
                        assert!(!t.initial.queue.is_empty(), "{}: {}", p.display(), t.index);
                        // JSON and MOO readers agree on the segment codes.
                        assert!(
                            t.cycles
                                .iter()
                                .all(|c| c.segment <= 3 || c.segment == harness::model::SEG_NONE),
                            "{}: test {} has an unknown segment status",
                            p.display(),
                            t.index
                        );
                    }
                    n += 1;
                    ControlFlow::Continue(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
                n
            })
            .sum();
        assert!(total >= 1000, "{name}: {total} tests");
    }
}

/// The disassembler reproduces the vectors' names (their disassembly, in
/// Intel syntax) and lengths. One 8086 vector's name disagrees with its own
/// bytes (B7 #658: `mov bh, 85h` for B7 88), and is the only exception.
#[test]
fn disassembly_matches_the_vector_names() {
    use harness::vectors::{for_each_test, ReadOptions};
    use std::ops::ControlFlow;
    let Some(data) = data_dir() else {
        return;
    };
    const KNOWN_BAD_NAME: &str = "7f154ea9f6eb272a23bffed55c4e0f670f0343c6628cc5d2836ed7a5d796babd";
    let suite = Suite::load_workspace("8086", &data).unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut wrong = Vec::new();
    for path in &suite.files {
        for_each_test(path, ReadOptions { cycles: false }, &mut |t| {
            checked += 1;
            let d = cpu::disassemble(&t.bytes, cpu::CpuModel::I8086);
            if (d.text != t.name || d.len != t.bytes.len()) && t.hash != KNOWN_BAD_NAME {
                wrong.push(format!(
                    "{} #{}: {:?} vs {:?}",
                    path.display(),
                    t.index,
                    d.text,
                    t.name
                ));
            }
            ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(checked > 0);
    assert!(
        wrong.is_empty(),
        "{} of {checked} disassemblies differ, e.g.\n{}",
        wrong.len(),
        wrong[..wrong.len().min(10)].join("\n")
    );
}

/// The cycle-exact model runs the same semantics as the fast one: on every
/// test of the 8086 suites, its final state passes wherever the fast
/// model's does, with the same registers and FLAGS (undefined bits too).
/// Unrecorded, the exact model passes over uneventful clocks in bulk: it
/// must reach the same state in the same number of clocks as when it
/// simulates (and records) every clock.
/// (Its cycle-trace results change as the model is calibrated and are not
/// pinned here.)
#[test]
fn exact_model_state_matches_the_fast_model() {
    use harness::runner::{classify, execute, execute_exact, execute_exact_with, judge};
    use harness::vectors::{file_stem, for_each_test, ReadOptions};
    use rayon::prelude::*;
    use std::ops::ControlFlow;
    let Some(data) = data_dir() else {
        return;
    };
    for name in ["8086", "8086-moo"] {
        let suite = Suite::load_workspace(name, &data).unwrap_or_else(|e| panic!("{e}"));
        let (run, wrong): (usize, Vec<String>) = suite
            .files
            .par_iter()
            .map(|p| {
                let stem = file_stem(p);
                let (mut n, mut wrong) = (0, Vec::new());
                for_each_test(p, ReadOptions { cycles: false }, &mut |t| {
                    let Ok(setup) = classify(&suite, &stem, &t).unwrap_or_else(|e| panic!("{e}"))
                    else {
                        return ControlFlow::Continue(());
                    };
                    n += 1;
                    let fast = execute(&t, &setup);
                    let (exact, _) = execute_exact(&t, &setup);
                    let (quiet, _) = execute_exact_with(&t, &setup, false);
                    if quiet.cycles != exact.cycles || quiet.regs != exact.regs {
                        wrong.push(format!(
                            "{stem}:{} ({}): unrecorded {} clocks, recorded {}",
                            t.index, t.name, quiet.cycles, exact.cycles
                        ));
                    }
                    let fast_ok = judge(&t, &fast, &setup).passed();
                    let exact_ok = judge(&t, &exact, &setup).passed();
                    if (fast_ok && !exact_ok) || fast.regs != exact.regs {
                        wrong.push(format!(
                            "{stem}:{} ({}): fast {}, exact {}{}",
                            t.index,
                            t.name,
                            if fast_ok { "passes" } else { "fails" },
                            if exact_ok { "passes" } else { "fails" },
                            if fast.regs != exact.regs {
                                format!("; registers differ: {:?} vs {:?}", fast.regs, exact.regs)
                            } else {
                                String::new()
                            }
                        ));
                    }
                    ControlFlow::Continue(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
                (n, wrong)
            })
            .reduce(
                || (0, Vec::new()),
                |mut a, b| {
                    a.0 += b.0;
                    a.1.extend(b.1);
                    a
                },
            );
        assert!(run >= 1000, "{name}: {run} tests");
        assert!(
            wrong.is_empty(),
            "{name}: the exact model's state differs in {} of {run} tests, e.g.\n{}",
            wrong.len(),
            wrong[..wrong.len().min(10)].join("\n")
        );
    }
}
