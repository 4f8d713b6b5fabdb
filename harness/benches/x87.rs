//! Criterion benchmarks of the x87 (`cpu::x87::Fpu::execute`): one x87
//! instruction per iteration on register operands.
//!
//! - `x87/fadd-pc53`, `x87/fmul-pc53`: doubles under the double-precision
//!   control word 027F (the fast path);
//! - `x87/fadd-pc64`, `x87/fmul-pc64`: the same under 037F (the soft-float);
//! - `x87/fsin`: a transcendental.
//!
//! `cargo bench -p ironpc-harness --bench x87`

use cpu::x87::f80::F80;
use cpu::x87::{Fpu, FpuEnv, NoMemory};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn setup(cw: u16, a: f64, b: f64) -> Fpu {
    let mut f = Fpu::new();
    f.cw = cw;
    // ST(1) = b, ST(0) = a, as two pushes would leave them.
    f.set_st(7, F80::from_f64(b));
    f.sw = 7 << 11;
    f.set_st(7, F80::from_f64(a));
    f.sw = 6 << 11;
    f
}

fn x87(c: &mut Criterion) {
    let env = FpuEnv::default();
    let mut g = c.benchmark_group("x87");
    g.throughput(Throughput::Elements(1));
    for (name, cw, op, modrm) in [
        ("fadd-pc53", 0x027F, 0xD8, 0xC1),
        ("fadd-pc64", 0x037F, 0xD8, 0xC1),
        ("fmul-pc53", 0x027F, 0xD8, 0xC9),
        ("fmul-pc64", 0x037F, 0xD8, 0xC9),
    ] {
        g.bench_function(name, |bch| {
            let mut f = setup(cw, 1.000_000_1, 0.999_999_9);
            bch.iter(|| {
                f.execute(op, modrm, None::<&mut NoMemory>, &env).unwrap();
                // Keep ST(0) from drifting to infinity or zero.
                f.regs[6] = black_box(F80::from_f64(1.000_000_1));
            })
        });
    }
    g.bench_function("fsin", |bch| {
        let mut f = setup(0x037F, 0.5, 0.0);
        bch.iter(|| {
            f.execute(0xD9, 0xFE, None::<&mut NoMemory>, &env).unwrap();
            f.regs[6] = black_box(F80::from_f64(0.5));
        })
    });
    g.finish();
}

criterion_group!(benches, x87);
criterion_main!(benches);
