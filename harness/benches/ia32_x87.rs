//! The x87 on the ia32 core: workloads/mandel87.asm (a Mandelbrot kernel in
//! doubles) on the Pentium Pro model, flat 32-bit protected mode. Reports
//! guest instructions per second; the figure is in docs/performance.md.
//!
//! `cargo bench -p ironpc-harness --bench ia32_x87` (needs nasm).

use cpu::ia32::{Cpu32, Model32, SegCache, StepResult32, CS, DS, ES, FS, GS, SS};
use cpu::FlatBus;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::process::Command;

fn assemble() -> Option<Vec<u8>> {
    let workloads = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    let src = workloads.join("mandel87.asm");
    let dir = tempfile::tempdir().ok()?;
    let bin = dir.path().join("mandel87.bin");
    let ok = Command::new("nasm")
        .args(["-f", "bin", "-I"])
        .arg(format!("{}/", workloads.display()))
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("SKIPPED: nasm not available; cannot assemble workloads/mandel87.asm");
        return None;
    }
    std::fs::read(&bin).ok()
}

/// Run the kernel to its HLT: (instructions, EDI = total iterations).
fn run(img: &[u8]) -> (u64, u32) {
    let mut bus = FlatBus::new(0x10000);
    bus.load(0x1000, img);
    let mut c = Cpu32::new(Model32::PentiumPro);
    c.cr[0] |= 1;
    let flat = |attr| SegCache {
        sel: 8,
        base: 0,
        limit: 0xFFFF_FFFF,
        attr,
        valid: true,
    };
    c.seg[CS] = flat(0xC09B);
    for s in [ES, SS, DS, FS, GS] {
        c.seg[s] = SegCache {
            sel: 0x10,
            ..flat(0xC093)
        };
    }
    c.eip = 0x1000;
    let r = c.run(&mut bus, 100_000_000);
    assert_eq!(r, StepResult32::Halted, "mandel87 did not reach its HLT");
    (c.instructions(), c.r[7])
}

fn bench(c: &mut Criterion) {
    let Some(img) = assemble() else { return };
    let (n, iters) = run(&img);
    println!("mandel87: {n} instructions, {iters} iterations");
    let mut g = c.benchmark_group("ia32_x87");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("mandel87", |b| b.iter(|| run(&img)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
