//! The timing model's cycle counts per opcode file and form must match the
//! committed baseline (`test-suites/timing/SUITE.yaml`): a change in timing
//! shows here, and in review as a baseline diff. Regenerate the baseline with
//! `ironpc timing SUITE --write-baseline` (see docs/timing.md).

mod common;

use harness::suite::{workspace_root, Suite};
use harness::timing::{changes, load_baseline, measure};

fn check(name: &str) {
    let Some(data) = common::data_dir() else {
        return;
    };
    let root = workspace_root();
    let suite = Suite::load_workspace(name, &data).unwrap_or_else(|e| panic!("{e}"));
    let table = measure(&suite, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!table.is_empty(), "suite {name} measured nothing");
    let baseline = load_baseline(&root.join(format!("test-suites/timing/{name}.yaml")))
        .unwrap_or_else(|e| panic!("{e}"));
    let diff = changes(&table, &baseline);
    assert!(
        diff.is_empty(),
        "timing of {name} changed against its baseline ({} forms):\n{}\n\
         If intended, run `ironpc timing {name} --write-baseline` and commit the diff.",
        diff.len(),
        diff.join("\n")
    );
}

#[test]
fn timing_8086_matches_baseline() {
    check("8086");
}

#[test]
fn timing_80286_matches_baseline() {
    check("80286");
}
