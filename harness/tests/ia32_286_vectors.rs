//! Cross-check: the 80286 real-silicon vectors (real mode) on the ia32
//! core's 80286 model, judged by the same rules as the 16-bit core
//! (registers, memory, defined flags). Prints the pass rate and the failing
//! opcodes; the bar below is what the core reaches today and must not drop.

mod common;

use cpu::ia32::{Cpu32, Model32, SegCache};
use cpu::{CpuModel, Registers};
use harness::model::{TestCase, REGS};
use harness::runner::{judge, Executed, SparseBus, TestSetup};
use harness::suite::RunMode;
use harness::vectors::metadata::{Metadata, Revocations};
use harness::vectors::{file_stem, for_each_test, ReadOptions};
use std::collections::BTreeMap;
use std::ops::ControlFlow;

fn run_one(test: &TestCase, setup: &TestSetup) -> Executed {
    let mut bus = SparseBus::with_ram(&test.initial.ram);
    let mut c = Cpu32::new(Model32::I80286);
    let g = |i: usize| test.initial.regs.get(i).unwrap_or(0) as u32;
    // REGS order: ax bx cx dx cs ss ds es sp bp si di ip flags.
    c.r = [g(0), g(2), g(3), g(1), g(8), g(9), g(10), g(11)];
    for (slot, reg) in [(1usize, 4usize), (2, 5), (3, 6), (0, 7)] {
        let sel = g(reg) as u16;
        let attr = if slot == 1 { 0x9B } else { 0x93 };
        c.seg[slot] = SegCache {
            sel,
            base: (sel as u32) << 4,
            limit: 0xFFFF,
            attr,
            valid: true,
        };
    }
    c.eip = g(12);
    c.set_flags_for_test(g(13) & setup.initial_flags_mask as u32);
    let mut steps = 0;
    while steps < setup.max_steps && !c.halted() {
        steps += 1;
        c.step(&mut bus);
    }
    let mut regs = Registers::default();
    let vals = [
        c.r[0],
        c.r[3],
        c.r[1],
        c.r[2],
        c.seg[1].sel as u32,
        c.seg[2].sel as u32,
        c.seg[3].sel as u32,
        c.seg[0].sel as u32,
        c.r[4],
        c.r[5],
        c.r[6],
        c.r[7],
        c.eip,
        c.eflags(),
    ];
    for (n, v) in REGS.iter().zip(vals) {
        regs.set(n, v as u16);
    }
    Executed {
        regs,
        halted: c.halted(),
        cycles: c.cycles(),
        bus,
        steps,
        panic: None,
    }
}

#[test]
fn ia32_80286_model_on_the_286_vectors() {
    let Some(dir) = common::data_dir() else {
        return;
    };
    let base = dir.join("80286");
    let data = base.join("v1_real_mode");
    let meta = Metadata::load(&data.join("metadata.json")).expect("metadata");
    let revoked = Revocations::load(&base.join("revocation_list.txt")).expect("revocations");
    let mut files: Vec<_> = std::fs::read_dir(&data)
        .expect("vector dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".MOO.gz"))
        .collect();
    files.sort();
    let (mut pass, mut total) = (0u64, 0u64);
    let mut failing: BTreeMap<String, u32> = BTreeMap::new();
    for f in &files {
        let stem = file_stem(f);
        for_each_test(f, ReadOptions { cycles: false }, &mut |t: TestCase| {
            if revoked.contains(&t.hash) {
                return ControlFlow::Continue(());
            }
            let Ok(info) = meta.lookup(&stem, &t.bytes) else {
                return ControlFlow::Continue(());
            };
            let setup = TestSetup {
                model: CpuModel::I80286,
                run: RunMode::UntilHalt,
                max_steps: 16,
                initial_flags_mask: 0x0FFF,
                divide_error_handler: None,
                info,
                decode_cache: false,
            };
            let ex = run_one(&t, &setup);
            total += 1;
            if judge(&t, &ex, &setup).passed() {
                pass += 1;
            } else {
                let n = failing.entry(stem.clone()).or_default();
                *n += 1;
                if *n == 1 && std::env::var("IA32_SHOW").is_ok_and(|v| v == stem) {
                    eprintln!(
                        "{} {:02X?}\ninit {:?}\nfinal {:?}\ngot {:?} steps {} halted {}",
                        t.name,
                        t.bytes,
                        t.initial.regs,
                        t.final_state.regs,
                        ex.regs,
                        ex.steps,
                        ex.halted
                    );
                }
            }
            ControlFlow::Continue(())
        })
        .expect("vector file");
    }
    let rate = pass as f64 / total.max(1) as f64 * 100.0;
    println!("ia32 80286 model: {pass}/{total} vectors pass ({rate:.3}%)");
    println!("failing by opcode: {failing:?}");
    eprintln!("ia32 80286 model: {pass}/{total} vectors pass ({rate:.3}%); failing by opcode: {failing:?}");
    assert!(total > 0);
    // Every vector but one passes (the 16-bit core's 286 is at 100% of the
    // vectors it does not skip); the remaining difference is listed in
    // docs/ia32.md.
    assert!(rate >= 99.99, "pass rate fell to {rate:.3}%");
}
