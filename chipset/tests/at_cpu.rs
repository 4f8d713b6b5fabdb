//! The AT board under a real CPU (the 80286 model in real mode): programs
//! of our own in a 64 KiB "BIOS" at F0000h, entered from the reset vector.

use chipset::at::{AtBoard, AtConfig, AtRun};
use cpu::{Cpu, CpuModel, FastTiming};

/// A BIOS image holding `code` at F000:0000, `handler` at F000:0100 and a
/// far jump to F000:0000 at the reset vector F000:FFF0.
fn bios(code: &[u8], handler: &[u8]) -> Vec<u8> {
    let mut rom = vec![0xF4; 0x10000];
    rom[..code.len()].copy_from_slice(code);
    rom[0x100..0x100 + handler.len()].copy_from_slice(handler);
    rom[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
    rom
}

fn run(code: &[u8], handler: &[u8]) -> AtRun<Cpu<FastTiming>> {
    let cfg = AtConfig {
        pci: false,
        clock_hz: 8_000_000,
        ..AtConfig::default()
    };
    let board = AtBoard::new(cfg, bios(code, handler)).unwrap();
    AtRun::new(Cpu::new(CpuModel::I80286), board)
}

#[test]
fn a20_gate_seen_by_the_cpu() {
    #[rustfmt::skip]
    let code = [
        0xB8, 0xFF, 0xFF,             // mov ax, FFFFh
        0x8E, 0xD8,                   // mov ds, ax
        0xC6, 0x06, 0x10, 0x00, 0x11, // mov byte [0010h], 11h  (100000h, A20 on)
        0xB0, 0xD1, 0xE6, 0x64,       // 8042: write output port
        0xB0, 0xDD, 0xE6, 0x60,       //   A20 off
        0xC6, 0x06, 0x10, 0x00, 0x22, // mov byte [0010h], 22h  (wraps to 0)
        0xB0, 0xD1, 0xE6, 0x64,
        0xB0, 0xDF, 0xE6, 0x60,       //   A20 on again
        0xC6, 0x06, 0x11, 0x00, 0x33, // mov byte [0011h], 33h  (100001h)
        0xF4,                         // hlt
    ];
    let mut m = run(&code, &[]);
    m.run_until_within(100_000, |m| m.board.ram()[0x10_0001] == 0x33);
    assert_eq!(m.board.ram()[0x10_0000], 0x11);
    assert_eq!(m.board.ram()[0x00_0000], 0x22);
    assert_eq!(m.board.ram()[0x10_0001], 0x33);
    assert_eq!(m.board.ram()[0x00_0001], 0x00);
}

/// Timer interrupts wake a halted CPU: counter 0 in mode 2 with 11932
/// counts raises OUT0 (IRQ 0) every 11932 / 1.193182 MHz = 10.0001 ms, the
/// first a full period after programming. In 105 ms of machine time that is
/// 10 interrupts (the 11th would come at 110 ms). The halts between them
/// are skipped to the PIT's deadlines.
#[test]
fn timer_interrupts_wake_a_halted_cpu() {
    #[rustfmt::skip]
    let code = [
        0x31, 0xC0,                         // xor ax, ax
        0x8E, 0xD8,                         // mov ds, ax
        0x8E, 0xD0,                         // mov ss, ax
        0xBC, 0x00, 0x7C,                   // mov sp, 7C00h
        0xC7, 0x06, 0x20, 0x00, 0x00, 0x01, // IVT 8: offset 0100h
        0xC7, 0x06, 0x22, 0x00, 0x00, 0xF0, //        segment F000h
        0xB0, 0x34, 0xE6, 0x43,             // PIT counter 0, mode 2
        0xB0, 0x9C, 0xE6, 0x40,             // count 2E9Ch = 11932 (10.0 ms)
        0xB0, 0x2E, 0xE6, 0x40,
        0xB0, 0x11, 0xE6, 0x20,             // master ICW1
        0xB0, 0x08, 0xE6, 0x21,             // ICW2: vectors 08h
        0xB0, 0x04, 0xE6, 0x21,             // ICW3: slave on IR2
        0xB0, 0x01, 0xE6, 0x21,             // ICW4
        0xB0, 0x11, 0xE6, 0xA0,             // slave ICW1
        0xB0, 0x70, 0xE6, 0xA1,
        0xB0, 0x02, 0xE6, 0xA1,
        0xB0, 0x01, 0xE6, 0xA1,
        0xB0, 0xFE, 0xE6, 0x21,             // unmask IRQ 0 only
        0xB0, 0xFF, 0xE6, 0xA1,
        0xFB,                               // sti
        0xF4,                               // loop: hlt
        0xEB, 0xFD,                         // jmp loop
    ];
    #[rustfmt::skip]
    let handler = [
        0xFF, 0x06, 0x00, 0x05, // inc word [0500h]
        0xB0, 0x20, 0xE6, 0x20, // EOI
        0xCF,                   // iret
    ];
    let mut m = run(&code, &handler);
    let ticks = |m: &AtRun<Cpu<FastTiming>>| {
        u16::from_le_bytes([m.board.ram()[0x500], m.board.ram()[0x501]])
    };
    m.run_until_within(840_000, |_| false); // 105 ms at 8 MHz
    assert_eq!(ticks(&m), 10);
    assert!(m.board.now >= 840_000);
}

#[test]
fn keyboard_controller_reset_restarts_the_cpu() {
    #[rustfmt::skip]
    let code = [
        0x31, 0xC0,                   // xor ax, ax
        0x8E, 0xD8,                   // mov ds, ax
        0xFE, 0x06, 0x00, 0x06,       // inc byte [0600h]
        0xB0, 0xFE, 0xE6, 0x64,       // 8042: pulse reset
        0xF4,                         // hlt
    ];
    let mut m = run(&code, &[]);
    m.run_until_within(1_000_000, |m| m.resets >= 3);
    assert_eq!(m.resets, 3);
    // The code ran once before each of the three resets: RAM survives a
    // CPU reset.
    assert_eq!(m.board.ram()[0x600], 3);
}
