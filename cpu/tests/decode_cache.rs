//! The decoded-instruction cache must be invisible: self-modifying code sees
//! its new bytes, and results match a run without the cache.

mod program;

use cpu::{Bus, CountingTiming, Cpu, CpuModel, ExactTiming, FlatBus, Timing};
use program::{run_to_halt, Drive};

/// Run from 0000:0100 until HLT (at most 10,000 steps).
fn run(code: &[u8], cache: bool, model: CpuModel) -> (Cpu<CountingTiming>, FlatBus) {
    run_with(code, cache, model)
}

fn run_with<T: Timing + Default>(code: &[u8], cache: bool, model: CpuModel) -> (Cpu<T>, FlatBus) {
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, code);
    let mut c: Cpu<T> = Cpu::new(model);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.regs.gpr[4] = 0xFFFE;
    c.set_decode_cache(cache);
    run_to_halt(&mut c, &mut bus, Drive::Step, 10_000);
    (c, bus)
}

/// A loop that increments the immediate of its own first instruction:
/// with CX=3 it adds 1, 2 and 3 into BX.
const SELF_MODIFYING: [u8; 15] = [
    0xB9, 0x03, 0x00, // 0100: mov cx, 3
    0xB8, 0x01, 0x00, // 0103: mov ax, 1        (immediate at 0104)
    0x01, 0xC3, //       0106: add bx, ax
    0xFE, 0x06, 0x04, 0x01, // 0108: inc byte [0104]
    0xE2, 0xF5, //       010C: loop 0103
    0xF4, //             010E: hlt
];

#[test]
fn self_modifying_code_sees_its_new_bytes() {
    for model in [CpuModel::I8086, CpuModel::I80286] {
        let (c, bus) = run(&SELF_MODIFYING, true, model);
        assert_eq!(c.regs.gpr[3], 1 + 2 + 3, "{model}");
        assert_eq!(bus.mem[0x104], 4);
    }
}

/// REP STOSB overwrites code that already ran: the second pass through the
/// block must execute the NOPs written over it.
#[test]
fn string_writes_over_cached_code() {
    let code = program::REP_STOS_OVER_LOOP;
    let (c, bus) = run(&code, true, CpuModel::I8086);
    // First pass: BX = 2; the second pass runs the NOPs written over the INCs.
    assert_eq!(c.regs.gpr[3], 2);
    assert_eq!(&bus.mem[0x103..0x105], &[0x90, 0x90]);
}

#[test]
fn cache_is_invisible_to_results_and_cycles() {
    let (a, abus) = run(&SELF_MODIFYING, true, CpuModel::I8088);
    let (b, bbus) = run(&SELF_MODIFYING, false, CpuModel::I8088);
    assert_eq!(a.regs, b.regs);
    assert_eq!(a.instructions, b.instructions);
    assert_eq!(a.cycles(), b.cycles());
    assert_eq!(abus.mem, bbus.mem);
}

/// The cycle-exact model counts the same clocks with instructions from the
/// cache as decoded, self-modifying code included.
#[test]
fn exact_model_with_the_cache_keeps_its_clocks() {
    for model in [CpuModel::I8088, CpuModel::I8086] {
        let (a, abus) = run_with::<ExactTiming>(&SELF_MODIFYING, true, model);
        let (b, bbus) = run_with::<ExactTiming>(&SELF_MODIFYING, false, model);
        assert_eq!(a.regs.gpr[3], 1 + 2 + 3, "{model}");
        assert_eq!(a.regs, b.regs);
        assert_eq!(a.instructions, b.instructions);
        assert_eq!(a.cycles(), b.cycles(), "{model}");
        assert_eq!(abus.mem, bbus.mem);
    }
}

#[test]
fn invalidate_code_after_writes_behind_the_cpu() {
    // 0100: mov ax, 1 ; 0103: jmp 0100
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, &[0xB8, 0x01, 0x00, 0xEB, 0xFB]);
    let mut c: Cpu<CountingTiming> = Cpu::new(CpuModel::I8086);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.set_decode_cache(true);
    assert!(c.decode_cache_enabled());
    c.step(&mut bus);
    c.step(&mut bus);
    assert_eq!(c.regs.gpr[0], 1);
    // A DMA-like write straight to memory, reported to the CPU.
    bus.write(0x101, 0x22);
    c.invalidate_code(0x101, 1);
    c.step(&mut bus);
    assert_eq!(c.regs.gpr[0], 0x22);
}

/// The same physical bytes reached through a CS:IP whose instruction wraps
/// around the end of the segment: the bytes after the wrap come from the
/// start of the segment, not from what followed in memory when cached.
#[test]
fn cached_bytes_are_not_used_across_a_segment_wrap() {
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x1FFFE, &[0xB8, 0x34, 0x12]); // mov ax, 1234h at 1FFFE
    bus.load(0x10000, &[0x56]); // what CS=1000h wraps to
    let mut c: Cpu<CountingTiming> = Cpu::new(CpuModel::I8086);
    c.set_decode_cache(true);
    c.regs.seg = [0; 4];
    c.regs.seg[1] = 0x1FFF;
    c.regs.ip = 0x000E; // linear 1FFFE, no wrap: cached
    c.step(&mut bus);
    assert_eq!(c.regs.gpr[0], 0x1234);
    c.regs.seg[1] = 0x1000;
    c.regs.ip = 0xFFFE; // linear 1FFFE again, but the immediate's high byte wraps to 1000:0000
    c.step(&mut bus);
    assert_eq!(c.regs.gpr[0], 0x5634);
    assert_eq!(c.regs.ip, 0x0001);
}

/// `Cpu::run_plain` (the exact model's slices) runs the same instructions
/// through the same path as `step`: after every call the clock count,
/// registers, memory and instruction count equal those of a CPU stepped
/// through the same instructions, whatever the budget; it never runs I/O
/// (OUT) or an instruction that changes IF (CLI, STI) or halts, which it
/// must leave to the caller; it stops once the budget is spent and not
/// before (unless such an instruction comes); it does nothing for the
/// fast model (which has `run_forms`).
#[test]
fn run_plain_is_step_by_step_on_the_exact_model() {
    // mov cx, 40 ; l: mov ax, cx ; mul cx ; add bx, ax ; mov [0200h], bx ;
    // shr word [0200h], 1 ; out 80h, al ; cli ; sti ; loop l ; hlt
    let code = [
        0xB9, 0x28, 0x00, 0x89, 0xC8, 0xF7, 0xE1, 0x01, 0xC3, 0x89, 0x1E, 0x00, 0x02, 0xD1, 0x2E,
        0x00, 0x02, 0xE6, 0x80, 0xFA, 0xFB, 0xE2, 0xEE, 0xF4,
    ];
    let left_to_step = [0xE6, 0xFA, 0xFB, 0xF4];
    for model in [CpuModel::I8088, CpuModel::I8086] {
        for budget in [1u64, 7, 30, 200, 5_000] {
            let mut bus = FlatBus::new(1 << 20);
            bus.load(0x100, &code);
            let mut bus_b = bus.clone();
            let mut a: Cpu<ExactTiming> = Cpu::new(model);
            a.regs.seg = [0; 4];
            a.regs.ip = 0x100;
            a.regs.gpr[4] = 0xFFFE;
            a.set_decode_cache(true);
            let mut b = a.clone();
            let mut plain = 0;
            for _ in 0..10_000 {
                if a.halted() {
                    break;
                }
                let c0 = a.cycles();
                let n = a.run_plain(&mut bus, budget);
                if n == 0 {
                    a.step(&mut bus);
                    b.step(&mut bus_b);
                    continue;
                }
                plain += n;
                for i in 0..n {
                    let op = bus_b.mem[b.regs.ip as usize];
                    assert!(!left_to_step.contains(&op), "{model}: ran {op:02X}");
                    if i + 1 == n {
                        assert!(b.cycles() - c0 < budget, "{model}: ran past the budget");
                    }
                    b.step(&mut bus_b);
                }
                let what = format!("{model}, budget {budget}");
                assert_eq!(a.cycles(), b.cycles(), "{what}");
                assert_eq!(a.regs, b.regs, "{what}");
                assert_eq!(a.instructions, b.instructions, "{what}");
                assert!(bus.mem == bus_b.mem, "{what}");
                // Stopped early: only before an instruction left to `step`
                // (or one not cached yet, in the loop's first pass).
                let next = bus.mem[a.regs.ip as usize];
                if a.cycles() - c0 < budget && a.instructions > 20 {
                    assert!(
                        left_to_step.contains(&next),
                        "{what}: stopped before {next:02X}"
                    );
                }
            }
            assert!(a.halted(), "{model} budget {budget}: reached HLT");
            assert!(
                plain > 100,
                "{model} budget {budget}: run_plain ran {plain}"
            );
        }
    }
    let mut bus = FlatBus::new(1 << 20);
    let mut f: Cpu<cpu::FastTiming> = Cpu::new(CpuModel::I8088);
    f.set_decode_cache(true);
    assert_eq!(f.run_plain(&mut bus, 100), 0);
}
