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
