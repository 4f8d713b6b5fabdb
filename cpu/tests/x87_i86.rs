//! The x87 as a coprocessor beside the 16-bit core (`cpu::i86::x87`):
//! expected values worked out by hand in each test.

use cpu::i86::x87::CoprocModel;
use cpu::{Cpu, CpuModel, FlatBus, Seg};

/// A CPU of `model` at 0000:0100 running `code`, SP at 2000h, the handler
/// of interrupt 7 at 0000:0700.
fn rig(model: CpuModel, coproc: Option<CoprocModel>, code: &[u8]) -> (Cpu, FlatBus) {
    let mut bus = FlatBus::new(0x10_0000);
    bus.load(0x100, code);
    bus.load(7 * 4, &[0x00, 0x07, 0x00, 0x00]);
    let mut c: Cpu = Cpu::new(model);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.regs.gpr[4] = 0x2000;
    c.set_coprocessor(coproc);
    (c, bus)
}

fn run(c: &mut Cpu, bus: &mut FlatBus, n: usize) {
    for _ in 0..n {
        c.step(bus);
    }
}

#[test]
fn an_8087_adds_and_stores_a_double() {
    // FLD1; FADD ST0,ST0; FSTP qword [0300h]; FWAIT: 2.0 as a double is
    // sign 0, exponent 400h, significand 0: 4000000000000000h.
    let code = [0xD9, 0xE8, 0xD8, 0xC0, 0xDD, 0x1E, 0x00, 0x03, 0x9B];
    let (mut c, mut bus) = rig(CpuModel::I8088, Some(CoprocModel::I8087), &code);
    run(&mut c, &mut bus, 4);
    assert_eq!(c.regs.ip, 0x109);
    assert_eq!(&bus.mem[0x300..0x308], &[0, 0, 0, 0, 0, 0, 0, 0x40]);
    // The stack is empty again: TOP back at 0, tag word all empty.
    let f = &c.coprocessor().unwrap().fpu;
    assert_eq!(f.sw & 0x3800, 0);
    assert_eq!(f.tag_word(), 0xFFFF);
}

#[test]
fn the_8087_starts_with_its_own_control_word_and_feni_fdisi_toggle_iem() {
    // FNSTCW [0300h]; FENI; FNSTCW [0302h]; FDISI; FNSTCW [0304h]:
    // 03FFh (IEM set), 037Fh (IEM clear), 03FFh.
    let code = [
        0xD9, 0x3E, 0x00, 0x03, 0xDB, 0xE0, 0xD9, 0x3E, 0x02, 0x03, 0xDB, 0xE1, 0xD9, 0x3E, 0x04,
        0x03,
    ];
    let (mut c, mut bus) = rig(CpuModel::I8088, Some(CoprocModel::I8087), &code);
    run(&mut c, &mut bus, 5);
    assert_eq!(
        &bus.mem[0x300..0x306],
        &[0xFF, 0x03, 0x7F, 0x03, 0xFF, 0x03]
    );
}

#[test]
fn the_8087_interrupts_only_when_enabled() {
    // FLDCW [0300h] (037Bh: ZE unmasked, IEM clear); FLDZ; FLD1;
    // FDIV ST0,ST1: an unmasked zero divide raises the interrupt once.
    let code = [0xD9, 0x2E, 0x00, 0x03, 0xD9, 0xEE, 0xD9, 0xE8, 0xD8, 0xF1];
    let (mut c, mut bus) = rig(CpuModel::I8088, Some(CoprocModel::I8087), &code);
    bus.load(0x300, &[0x7B, 0x03]);
    run(&mut c, &mut bus, 3);
    assert!(!c.take_x87_interrupt());
    run(&mut c, &mut bus, 1);
    assert!(c.take_x87_interrupt());
    assert!(!c.take_x87_interrupt(), "once per activation");
    // With IEM set (037Bh | 80h = 03FBh) the same error raises nothing.
    let (mut c, mut bus) = rig(CpuModel::I8088, Some(CoprocModel::I8087), &code);
    bus.load(0x300, &[0xFB, 0x03]);
    run(&mut c, &mut bus, 4);
    assert!(!c.take_x87_interrupt());
    assert_ne!(c.coprocessor().unwrap().fpu.sw & 0x80, 0, "ES is set");
}

#[test]
fn the_286_msw_sends_esc_and_wait_to_interrupt_7() {
    // MSW.EM (bit 2): FLD1 raises interrupt 7 with the FPU untouched.
    let (mut c, mut bus) = rig(CpuModel::I80286, Some(CoprocModel::I80287), &[0xD9, 0xE8]);
    c.msw |= 4;
    run(&mut c, &mut bus, 1);
    assert_eq!(c.regs.ip, 0x700);
    assert_eq!(c.coprocessor().unwrap().fpu.sw & 0x3800, 0);
    // MSW.MP and TS: WAIT raises it; TS alone does not.
    let (mut c, mut bus) = rig(CpuModel::I80286, Some(CoprocModel::I80287), &[0x9B]);
    c.msw |= 8;
    run(&mut c, &mut bus, 1);
    assert_eq!(c.regs.ip, 0x101);
    let (mut c, mut bus) = rig(CpuModel::I80286, Some(CoprocModel::I80287), &[0x9B]);
    c.msw |= 8 | 2;
    run(&mut c, &mut bus, 1);
    assert_eq!(c.regs.ip, 0x700);
    assert_eq!(c.regs.seg[Seg::CS as usize], 0);
}

#[test]
fn without_a_coprocessor_esc_does_nothing() {
    // FNSTCW [0300h] with the socket empty: memory unchanged.
    let (mut c, mut bus) = rig(CpuModel::I8088, None, &[0xD9, 0x3E, 0x00, 0x03]);
    bus.load(0x300, &[0xAA, 0x55]);
    run(&mut c, &mut bus, 1);
    assert_eq!(c.regs.ip, 0x104);
    assert_eq!(&bus.mem[0x300..0x302], &[0xAA, 0x55]);
}
