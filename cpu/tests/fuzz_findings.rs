//! CPU bugs found by the property tests and fuzzers (docs/fuzzing.md).
//! Each test states the correct behaviour (all of them fixed now); a test for
//! a bug not fixed yet is `#[ignore]`d with the reason until the fix.

use cpu::{CountingTiming, Cpu, CpuModel, FlatBus, StepResult};

/// A 286 with SS=3000, CS=1000, DS=0, the code at 1000:0100, and a vector
/// table pointing vector `v` at 2000:(v*16), where every handler is
/// `mov [0600h], al`.
fn cpu286(sp: u16, code: &[u8]) -> (Cpu<CountingTiming>, FlatBus) {
    let mut cpu = Cpu::<CountingTiming>::new(CpuModel::I80286);
    let mut bus = FlatBus::new(1 << 20);
    for v in 0..256u32 {
        let off = (v * 16) as u16;
        bus.load(v * 4, &[off as u8, (off >> 8) as u8, 0x00, 0x20]);
        bus.load(0x20000 + v * 16, &[0xA2, 0x00, 0x06]);
    }
    cpu.regs.seg = [0, 0x1000, 0x3000, 0];
    cpu.regs.ip = 0x0100;
    cpu.regs.gpr[0] = 0x00AB;
    cpu.regs.gpr[4] = sp;
    cpu.regs.flags = 0x0002;
    bus.load(0x10100, code);
    (cpu, bus)
}

fn word(bus: &FlatBus, seg: u16, off: u16) -> u16 {
    let a = ((seg as u32) << 4) + off as u32;
    bus.mem[a as usize] as u16 | (bus.mem[a as usize + 1] as u16) << 8
}

/// 80286, INT 3 with SP=1: the first push of the frame (FLAGS) is a word at
/// SS:FFFF, a segment overrun. The core raises #GP(13) inside the frame
/// push, skips the rest of the frame and loads vector 3 anyway; then takes
/// the #GP, whose frame overruns the same way: CS:IP ends at vector 13's
/// handler (2000:00D0) with SP = FFFB and no frame on the stack.
#[test]
fn i286_overrun_during_interrupt_entry_leaves_no_frameless_handler() {
    let (mut cpu, mut bus) = cpu286(0x0001, &[0xCC]);
    assert_eq!(cpu.step(&mut bus), StepResult::Executed);
    if cpu.halted() {
        return; // shut down: acceptable
    }
    // A handler was entered: its frame must be on the stack.
    let (ss, sp) = (cpu.regs.seg[2], cpu.regs.gpr[4]);
    assert_eq!(word(&bus, ss, sp.wrapping_add(2)), 0x1000, "pushed CS");
}

/// Same start: the #GP raised during the frame push is still pending when
/// `step` returns, so the next instruction (the handler's
/// `mov [0600h], al`) has its store suppressed and ends in a spurious #GP.
#[test]
fn i286_overrun_during_interrupt_entry_does_not_leak_into_next_step() {
    let (mut cpu, mut bus) = cpu286(0x0001, &[0xCC]);
    cpu.step(&mut bus);
    if cpu.halted() {
        return;
    }
    let (cs, ip) = (cpu.regs.seg[1], cpu.regs.ip);
    assert_eq!(cs, 0x2000);
    cpu.regs.gpr[4] = 0x0100; // a good stack from here on
    cpu.step(&mut bus);
    assert_eq!(bus.mem[0x600], 0xAB, "the handler's store was suppressed");
    assert_eq!((cpu.regs.seg[1], cpu.regs.ip), (cs, ip.wrapping_add(3)));
}

/// Control for the two tests above: with SP=2 the frame fits, and the same
/// steps do what they should.
#[test]
fn i286_interrupt_entry_with_room_on_the_stack() {
    let (mut cpu, mut bus) = cpu286(0x0008, &[0xCC]);
    cpu.step(&mut bus);
    assert_eq!((cpu.regs.seg[1], cpu.regs.ip), (0x2000, 3 * 16));
    assert_eq!(cpu.regs.gpr[4], 0x0002);
    assert_eq!(word(&bus, 0x3000, 2), 0x0101, "return IP");
    assert_eq!(word(&bus, 0x3000, 4), 0x1000, "return CS");
    cpu.step(&mut bus);
    assert_eq!(bus.mem[0x600], 0xAB);
    assert_eq!(cpu.regs.ip, 3 * 16 + 3);
}

/// 80286: ten ES prefixes and HLT make an 11-byte instruction. The fetch of
/// the eleventh byte raises #GP(13), and the core enters the #GP handler, but
/// it also executes the HLT: the CPU is left halted at the handler's first
/// instruction, which never runs until an external interrupt arrives.
#[test]
fn i286_overlong_hlt_takes_gp_without_halting() {
    let mut code = vec![0x26; 10];
    code.push(0xF4);
    let (mut cpu, mut bus) = cpu286(0x0100, &code);
    cpu.step(&mut bus);
    assert_eq!(
        (cpu.regs.seg[1], cpu.regs.ip),
        (0x2000, 13 * 16),
        "#GP taken"
    );
    assert!(!cpu.halted(), "the HLT must not execute");
}

/// 80286: nine ES prefixes and `out 12h, al` make an 11-byte instruction:
/// #GP(13) is taken, but the I/O write to port 12h happens too.
#[test]
fn i286_overlong_out_takes_gp_without_writing_the_port() {
    let mut code = vec![0x26; 9];
    code.extend_from_slice(&[0xE6, 0x12]);
    let (mut cpu, mut bus) = cpu286(0x0100, &code);
    cpu.step(&mut bus);
    assert_eq!(
        (cpu.regs.seg[1], cpu.regs.ip),
        (0x2000, 13 * 16),
        "#GP taken"
    );
    assert_eq!(bus.io_writes, vec![], "the OUT must not execute");
}

/// Control: the same OUT with eight prefixes (ten bytes) executes.
#[test]
fn i286_ten_byte_out_executes() {
    let mut code = vec![0x26; 8];
    code.extend_from_slice(&[0xE6, 0x12]);
    let (mut cpu, mut bus) = cpu286(0x0100, &code);
    cpu.step(&mut bus);
    assert_eq!((cpu.regs.seg[1], cpu.regs.ip), (0x1000, 0x010A));
    assert_eq!(bus.io_writes, vec![(0x12, 0xAB)]);
}

/// 80286: ten ES prefixes and MOVSB: #GP(13) is taken, but the string
/// step's SI update survives (SI, DI and CX are marked to be kept on a
/// fault, which is right for a fault in a later iteration, not for an
/// instruction that never started). Found by `defined_state`.
#[test]
fn i286_overlong_movsb_leaves_si_di_alone() {
    let mut code = vec![0x26; 10];
    code.push(0xA4);
    let (mut cpu, mut bus) = cpu286(0x0100, &code);
    cpu.regs.gpr[6] = 0x0010;
    cpu.regs.gpr[7] = 0x0020;
    cpu.step(&mut bus);
    assert_eq!(
        (cpu.regs.seg[1], cpu.regs.ip),
        (0x2000, 13 * 16),
        "#GP taken"
    );
    assert_eq!((cpu.regs.gpr[6], cpu.regs.gpr[7]), (0x0010, 0x0020));
}

/// Control: an over-long POP does not commit its SP update.
#[test]
fn i286_overlong_pop_leaves_sp_alone() {
    let mut code = vec![0x26; 10];
    code.push(0x58); // pop ax
    let (mut cpu, mut bus) = cpu286(0x0100, &code);
    cpu.step(&mut bus);
    assert_eq!(
        (cpu.regs.seg[1], cpu.regs.ip),
        (0x2000, 13 * 16),
        "#GP taken"
    );
    assert_eq!(cpu.regs.gpr[4], 0x0100 - 6, "only the frame moves SP");
}
