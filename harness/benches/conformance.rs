//! Criterion benchmarks of the conformance harness: single-step tests per
//! second, reading the gzipped vectors and running and judging every test,
//! on a fixed selection of opcode files of the shared suites.
//!
//! - `conform/8086-state`: the 8086 suite's state check (fast model);
//! - `conform/8086-cycles`: its bus-cycle check (cycle-exact model);
//! - `conform/80286-state`: the 80286 suite's state check.
//!
//! `cargo bench -p ironpc-harness --bench conformance`. The data is found as
//! `ironpc conform` finds it (`$IRONPC_SUITES`, else `../shared/test-suites`);
//! without it the benchmarks are skipped with a message.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use harness::runner::{run_suite_with, Checks};
use harness::suite::{suites_dir, Suite};
use std::hint::black_box;
use std::time::Duration;

/// A mix of forms: ALU with memory operands, MOV, a string instruction, a
/// jump, MUL/DIV group, shifts.
const FILES: &[&str] = &["00", "01", "88", "8B", "A4", "D1", "F6", "EB"];

fn load(name: &str) -> Option<Suite> {
    let data = suites_dir(None);
    if !data.is_dir() {
        eprintln!(
            "SKIPPED conform/{name}: test-suite data not found at {}",
            data.display()
        );
        return None;
    }
    Some(Suite::load_workspace(name, &data).unwrap_or_else(|e| panic!("{e}")))
}

fn conformance(c: &mut Criterion) {
    let mut g = c.benchmark_group("conform");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let filter: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    for (suite, checks, label) in [
        ("8086", Checks::STATE, "8086-state"),
        ("8086", Checks::CYCLES, "8086-cycles"),
        ("80286", Checks::STATE, "80286-state"),
    ] {
        let Some(suite) = load(suite) else {
            continue;
        };
        let run = || {
            run_suite_with(&suite, &filter, checks, &|_| {})
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(|r| r.counts.tests)
                .sum::<u64>()
        };
        let tests = run();
        assert!(tests > 0, "{label}: no tests selected");
        g.throughput(Throughput::Elements(tests));
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| black_box(run()))
        });
    }
    g.finish();
}

criterion_group!(benches, conformance);
criterion_main!(benches);
