//! Criterion benchmarks of the CPU core:
//!
//! - `mix/<model>`: the built-in `mix` boot-sector workload on the bench board,
//!   for each timing model (decode cache on), and the fast model without the cache;
//!   throughput in guest instructions, except `mix/exact` (the cycle-exact
//!   model, 8088), whose throughput is in emulated clock cycles;
//! - `decode`: decoding alone, over a buffer of varied instructions.
//!
//! `cargo bench -p ironpc-harness --bench cpu`

use cpu::decode::{decode, SliceSource};
use cpu::CpuModel;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use harness::bench::{run, BenchOptions, TimingChoice};
use std::hint::black_box;
use std::time::Duration;

fn mix(c: &mut Criterion) {
    let probe = run(&BenchOptions::default()).expect("mix runs");
    let mut g = c.benchmark_group("mix");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(probe.instructions));
    for (name, timing, decode_cache) in [
        ("fast", TimingChoice::Fast, true),
        ("counting", TimingChoice::Counting, true),
        ("fast-no-cache", TimingChoice::Fast, false),
    ] {
        let opts = BenchOptions {
            timing,
            decode_cache,
            ..Default::default()
        };
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(run(&opts).expect("mix runs").cycles))
        });
    }
    // The exact model: its throughput counted in emulated cycles (per second).
    let exact = BenchOptions {
        timing: TimingChoice::Exact,
        ..Default::default()
    };
    let cycles = run(&exact).expect("mix runs").cycles;
    g.throughput(Throughput::Elements(cycles));
    g.bench_function(BenchmarkId::from_parameter("exact"), |b| {
        b.iter(|| black_box(run(&exact).expect("mix runs").cycles))
    });
    g.finish();
}

/// A buffer of varied instruction encodings: register and memory forms with
/// every displacement size, prefixes, immediates, groups, strings, branches.
fn instruction_mix() -> (Vec<u8>, usize) {
    let forms: &[&[u8]] = &[
        &[0x89, 0xD8],                         // mov ax, bx
        &[0x8B, 0x47, 0x10],                   // mov ax, [bx+10h]
        &[0x03, 0x87, 0x34, 0x12],             // add ax, [bx+1234h]
        &[0x26, 0x8A, 0x05],                   // mov al, es:[di]
        &[0xB8, 0x34, 0x12],                   // mov ax, 1234h
        &[0x81, 0xC3, 0x00, 0x10],             // add bx, 1000h
        &[0x83, 0x3E, 0x00, 0x02, 0x05],       // cmp word [200h], 5
        &[0xC7, 0x06, 0x00, 0x03, 0x34, 0x12], // mov word [300h], 1234h
        &[0xD1, 0xE8],                         // shr ax, 1
        &[0xD3, 0x27],                         // shl word [bx], cl
        &[0xF7, 0xE3],                         // mul bx
        &[0xF6, 0x36, 0x00, 0x04],             // div byte [400h]
        &[0x75, 0xFE],                         // jnz $
        &[0xE2, 0xFC],                         // loop
        &[0xE8, 0x00, 0x01],                   // call near
        &[0xC3],                               // ret
        &[0x50],                               // push ax
        &[0x5B],                               // pop bx
        &[0xF3, 0xA5],                         // rep movsw
        &[0xAC],                               // lodsb
        &[0x9A, 0x00, 0x00, 0x00, 0xF0],       // call far
        &[0xFF, 0x16, 0x00, 0x05],             // call [500h]
        &[0x8D, 0x40, 0x02],                   // lea ax, [bx+si+2]
        &[0xE6, 0xE9],                         // out e9h, al
        &[0x40],                               // inc ax
        &[0xFE, 0x0F],                         // dec byte [bx]
    ];
    let mut buf = Vec::new();
    let mut n = 0;
    while buf.len() < 4096 {
        for f in forms {
            buf.extend_from_slice(f);
            n += 1;
        }
    }
    (buf, n)
}

fn decoding(c: &mut Criterion) {
    let (buf, n) = instruction_mix();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("varied", |b| {
        b.iter(|| {
            let mut src = SliceSource {
                bytes: black_box(&buf),
                pos: 0,
            };
            let mut len = 0u64;
            for _ in 0..n {
                len += decode(CpuModel::I8086, &mut src).len as u64;
            }
            assert_eq!(len as usize, buf.len());
            len
        })
    });
    g.finish();
}

criterion_group!(benches, mix, decoding);
criterion_main!(benches);
