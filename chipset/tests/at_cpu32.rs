//! The AT board under the 32-bit core (`cpu::ia32::Cpu32`): programs of our
//! own in a 64 KiB "BIOS" at F0000h, entered from the reset vector.

use chipset::at::{AtBoard, AtConfig, AtRun};
use cpu::ia32::{Cpu32, Model32};
use cpu::Bus;

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

#[test]
fn x87_error_raises_irq13_through_ferr() {
    // With CR0.NE clear (its reset value), an unmasked x87 exception drives
    // FERR#, which the AT board routes to IRQ 13 (slave PIC input 5): with
    // the slave's base at 70h the CPU would be given vector 75h. IF stays
    // clear so the request is left pending for the test to see.
    #[rustfmt::skip]
    let code = [
        // ICW1-4 for both 8259As: master base 08h, slave base 70h on IR2.
        0xB0, 0x11, 0xE6, 0x20, 0xE6, 0xA0,  // mov al,11h; out 20h,al; out A0h,al
        0xB0, 0x08, 0xE6, 0x21,              // mov al,08h; out 21h,al
        0xB0, 0x70, 0xE6, 0xA1,              // mov al,70h; out A1h,al
        0xB0, 0x04, 0xE6, 0x21,              // mov al,04h; out 21h,al
        0xB0, 0x02, 0xE6, 0xA1,              // mov al,02h; out A1h,al
        0xB0, 0x01, 0xE6, 0x21, 0xE6, 0xA1,  // mov al,01h; out 21h,al; out A1h,al
        0x31, 0xC0, 0xE6, 0x21, 0xE6, 0xA1,  // xor ax,ax; unmask all on both
        0x8E, 0xD8,                          // mov ds, ax
        0xC7, 0x06, 0x00, 0x05, 0x7B, 0x03,  // mov word [0500h], 037Bh (ZM clear)
        0xDB, 0xE3,                          // fninit
        0xD9, 0x2E, 0x00, 0x05,              // fldcw [0500h]
        0xD9, 0xEE,                          // fldz
        0xD9, 0xE8,                          // fld1
        0xDE, 0xF1,                          // fdivrp st(1), st: 1/0, #Z unmasked
        0x9B,                                // fwait
        0xC6, 0x06, 0x10, 0x05, 0x01,        // mov byte [0510h], 1
        0xF4,                                // hlt
    ];
    let mut m = run(&code, false);
    m.run_until_within(100_000, |m| m.board.ram()[0x510] != 0);
    assert_eq!(m.board.ram()[0x510], 1, "the program ran to its end");
    assert!(m.board.intr_pending(), "FERR# reached the PIC");
    assert_eq!(m.board.inta(), 0x75);
}
