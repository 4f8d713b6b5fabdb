//! The AT board under the 32-bit core (`cpu::ia32::Cpu32`): programs of our
//! own in a 64 KiB "BIOS" at F0000h, entered from the reset vector.

use chipset::at::{AtBoard, AtConfig, AtRun};
use cpu::ia32::{Cpu32, Model32};

/// A BIOS image holding `code` at F000:0000 and a far jump to it at the
/// reset vector F000:FFF0.
fn bios(code: &[u8]) -> Vec<u8> {
    let mut rom = vec![0xF4; 0x10000];
    rom[..code.len()].copy_from_slice(code);
    rom[0xFFF0..0xFFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
    rom
}

fn run(code: &[u8], pci: bool) -> AtRun<Cpu32> {
    let cfg = AtConfig {
        pci,
        clock_hz: 8_000_000,
        ..AtConfig::default()
    };
    let board = AtBoard::new(cfg, bios(code)).unwrap();
    AtRun::new(Cpu32::new(Model32::I80486), board)
}

#[test]
fn triple_fault_resets_the_board_and_keeps_ram() {
    // With an IDT limit of 0, INT 3 cannot be delivered (#GP), nor can the
    // #GP (#DF), nor the #DF: a triple fault, which a PC turns into a CPU
    // reset (Intel SDM vol. 3, 6.15 "Interrupt 8 — Double Fault").
    #[rustfmt::skip]
    let code = [
        0x31, 0xC0,                   // xor ax, ax
        0x8E, 0xD8,                   // mov ds, ax
        0xFE, 0x06, 0x00, 0x06,       // inc byte [0600h]
        0x0F, 0x01, 0x1E, 0x20, 0x00, // lidt [0020h]
        0xCC,                         // int3
        0xF4,                         // hlt (never reached)
    ];
    // The LIDT operand is at DS:0020h = 00020h in RAM: limit 0, base 0
    // (RAM starts zeroed, so nothing to set up).
    let mut m = run(&code, false);
    m.run_until_within(1_000_000, |m| m.resets >= 2);
    assert_eq!(m.resets, 2);
    // The program ran once before each reset: RAM survives it.
    assert_eq!(m.board.ram()[0x600], 2);
}

#[test]
fn pci_configuration_through_32_bit_in_and_out() {
    // OUT DX, EAX to CF8h then IN EAX, DX from CFCh reads the host bridge's
    // vendor/device dword: 8086h, 1237h (i440FX datasheet, 3.2) only if
    // the core passes the doubleword whole (CF8h ignores narrower writes).
    #[rustfmt::skip]
    let code = [
        0x66, 0xB8, 0x00, 0x00, 0x00, 0x80, // mov eax, 80000000h
        0xBA, 0xF8, 0x0C,                   // mov dx, 0CF8h
        0x66, 0xEF,                         // out dx, eax
        0xB2, 0xFC,                         // mov dl, 0FCh
        0x66, 0xED,                         // in eax, dx
        0x31, 0xDB,                         // xor bx, bx
        0x8E, 0xDB,                         // mov ds, bx
        0x66, 0xA3, 0x00, 0x05,             // mov [0500h], eax
        0xF4,                               // hlt
    ];
    let mut m = run(&code, true);
    m.run_until_within(100_000, |m| m.board.ram()[0x503] != 0);
    let r = m.board.ram();
    assert_eq!(
        u32::from_le_bytes([r[0x500], r[0x501], r[0x502], r[0x503]]),
        0x1237_8086
    );
}
