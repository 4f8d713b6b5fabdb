//! The AT board lends the CPU its BIOS area read-only (`cpu::Bus::ram_read`):
//! ROM, write-protected shadow RAM and the BIOS's alias at the top of 4 GiB
//! are fetched as slices, not byte by byte, and a PAM change still makes
//! the CPU run the bytes that now read there (i440FX datasheet, PAM
//! registers 59h–5Fh: in each nibble bit 0 enables reads from RAM, bit 1
//! writes to RAM; otherwise reads come from the ROM and writes are lost).

use chipset::at::{AtBoard, AtConfig, AtRun, MemRegion};
use cpu::ia32::{Cpu32, Model32};
use cpu::Bus;

/// A 128 KiB BIOS whose bytes are their offset's low byte XOR 5Ah, so that
/// every expected byte below follows from its address.
fn xor_bios() -> Vec<u8> {
    (0..0x20000u32).map(|i| (i as u8) ^ 0x5A).collect()
}

fn pci_board(bios: Vec<u8>) -> AtBoard {
    let cfg = AtConfig {
        pci: true,
        clock_hz: 8_000_000,
        ..AtConfig::default()
    };
    AtBoard::new(cfg, bios).unwrap()
}

fn write_cfg8(b: &mut AtBoard, reg: u32, v: u8) {
    b.io_write_sized(0xCF8, 4, 0x8000_0000 | (reg & !3));
    b.io_write_sized(0xCFC + (reg & 3) as u16, 1, v as u32);
}

/// The bytes the XOR BIOS holds at image offset `off`, `n` of them.
fn image(off: u32, n: u32) -> Vec<u8> {
    (off..off + n).map(|i| (i as u8) ^ 0x5A).collect()
}

#[test]
fn rom_and_read_only_shadow_are_lent_read_only() {
    let mut b = pci_board(xor_bios());
    // PAM0 high nibble 0: F0000h is ROM, image offset 10000h on.
    assert_eq!(
        b.ram_read(0xF0000, 16).map(<[u8]>::to_vec),
        Some(image(0x10000, 16))
    );
    // E0000h: the first half of the 128 KiB image.
    assert_eq!(
        b.ram_read(0xE0010, 8).map(<[u8]>::to_vec),
        Some(image(0x10, 8))
    );
    // The alias at the top of 4 GiB: the whole image ends at FFFFFFFFh.
    assert_eq!(
        b.ram_read(0xFFFF_FFF0, 16).map(<[u8]>::to_vec),
        Some(image(0x1FFF0, 16))
    );
    // Not writable through the read-write lending.
    assert!(b.ram_mut(0xF0000, 16).is_none());
    // A range across two 16 KiB PAM segments may read from two places.
    assert!(b.ram_read(0xF3FF8, 16).is_none());
    // The VGA window is a device; C0000h holds no option ROM here.
    assert!(b.ram_read(0xA0000, 4).is_none());
    assert!(b.ram_read(0xC0000, 4).is_none());

    // Write-enable only: writes reach the shadow, reads (and the lending)
    // still the ROM.
    let g0 = b.ram_generation();
    write_cfg8(&mut b, 0x59, 0x20);
    assert_ne!(b.ram_generation(), g0, "a PAM change is a new generation");
    b.write(0xF0000, 0x11);
    assert_eq!(
        b.ram_read(0xF0000, 2).map(<[u8]>::to_vec),
        Some(image(0x10000, 2))
    );
    // Read-enable only: the shadow copy is lent, and writes are lost.
    write_cfg8(&mut b, 0x59, 0x10);
    b.write(0xF0001, 0x22);
    assert_eq!(b.ram_read(0xF0000, 2), Some(&[0x11, 0x00][..]));
    assert!(b.ram_mut(0xF0000, 2).is_none());
    // Read-write: plain RAM, lent both ways.
    write_cfg8(&mut b, 0x59, 0x30);
    assert!(b.ram_mut(0xF0000, 2).is_some());
    assert_eq!(b.ram_read(0xF0000, 2), Some(&[0x11, 0x00][..]));
}

#[test]
fn an_option_rom_is_lent_where_it_lies() {
    let mut b = pci_board(xor_bios());
    let rom: Vec<u8> = (0..0x800u32).map(|i| (i as u8).wrapping_mul(3)).collect();
    b.map_option_rom(0xC8000, rom).unwrap();
    assert_eq!(b.ram_read(0xC8004, 2), Some(&[12, 15][..]));
    // Its last byte, and past its end.
    assert_eq!(b.ram_read(0xC87FF, 1), Some(&[(0x7FFu32 * 3) as u8][..]));
    assert!(b.ram_read(0xC87FF, 2).is_none());
}

/// A 128 KiB BIOS image for the 32-bit core: `sub` at E000:0000 (image
/// offset 0), `main` at F000:0000 (offset 10000h), and a far jump to
/// `main` at the reset vector.
fn program_bios(sub: &[u8], main: &[u8]) -> Vec<u8> {
    let mut rom = vec![0xF4; 0x20000];
    rom[..sub.len()].copy_from_slice(sub);
    rom[0x10000..0x10000 + main.len()].copy_from_slice(main);
    rom[0x1FFF0..0x1FFF5].copy_from_slice(&[0xEA, 0x00, 0x00, 0x00, 0xF0]);
    rom
}

#[test]
fn code_in_rom_runs_without_byte_reads_and_pam_changes_run_the_new_bytes() {
    // The subroutine in ROM: mov al, 11h; retf.
    let sub = [0xB0, 0x11, 0xCB];
    #[rustfmt::skip]
    let main = [
        0x31, 0xC0,                         // xor ax, ax
        0x8E, 0xD8,                         // mov ds, ax
        0x9A, 0x00, 0x00, 0x00, 0xE0,       // call far E000:0000
        0xA2, 0x00, 0x06,                   // mov [0600h], al
        // A loop of ROM code, to be run from the decode cache.
        0xB9, 0xE8, 0x03,                   // mov cx, 1000
        0xFF, 0x06, 0x10, 0x06,             // l: inc word [0610h]
        0xE2, 0xFA,                         // loop l
        // PAM5 (register 5Eh, low nibble: E0000h-E3FFFh) = 2: writes to
        // the shadow RAM, reads still from the ROM.
        0x66, 0xB8, 0x5C, 0x00, 0x00, 0x80, // mov eax, 8000005Ch
        0xBA, 0xF8, 0x0C,                   // mov dx, 0CF8h
        0x66, 0xEF,                         // out dx, eax
        0xBA, 0xFE, 0x0C,                   // mov dx, 0CFEh
        0xB0, 0x02,                         // mov al, 2
        0xEE,                               // out dx, al
        // A new subroutine in the shadow: mov al, 22h; retf.
        0xB8, 0x00, 0xE0,                   // mov ax, 0E000h
        0x8E, 0xC0,                         // mov es, ax
        0x26, 0xC6, 0x06, 0x00, 0x00, 0xB0, // mov byte [es:0], 0B0h
        0x26, 0xC6, 0x06, 0x01, 0x00, 0x22, // mov byte [es:1], 22h
        0x26, 0xC6, 0x06, 0x02, 0x00, 0xCB, // mov byte [es:2], 0CBh
        // PAM5 = 1: reads from the shadow, writes lost.
        0xB0, 0x01,                         // mov al, 1
        0xEE,                               // out dx, al
        0x9A, 0x00, 0x00, 0x00, 0xE0,       // call far E000:0000
        0xA2, 0x01, 0x06,                   // mov [0601h], al
        // A write to read-only shadow changes nothing.
        0x26, 0xC6, 0x06, 0x01, 0x00, 0x33, // mov byte [es:1], 33h
        0x9A, 0x00, 0x00, 0x00, 0xE0,       // call far E000:0000
        0xA2, 0x02, 0x06,                   // mov [0602h], al
        // PAM5 = 0: the ROM again.
        0xB0, 0x00,                         // mov al, 0
        0xEE,                               // out dx, al
        0x9A, 0x00, 0x00, 0x00, 0xE0,       // call far E000:0000
        0xA2, 0x03, 0x06,                   // mov [0603h], al
        0xF4,                               // hlt
    ];
    let mut board = pci_board(program_bios(&sub, &main));
    board.count_accesses(true);
    let mut m = AtRun::new(Cpu32::new(Model32::PentiumPro), board);
    m.run_until_within(5_000_000, |m| m.cpu.halted());
    assert!(m.cpu.halted(), "the program reaches its HLT");
    // ROM, shadow, ROM again: each call runs what reads at E0000h then.
    assert_eq!(&m.board.ram()[0x600..0x604], &[0x11, 0x22, 0x22, 0x11]);
    assert_eq!(m.board.ram()[0x610..0x612], 1000u16.to_le_bytes());
    // No instruction byte came through `Bus::read`: the program reads no
    // data in C0000h-FFFFFh or above the RAM, so any read counted there
    // would be a fetch (a byte at a time, about 3 per instruction before
    // the BIOS area was lent: thousands for the loop alone).
    let c = m.board.access_counters().unwrap();
    assert_eq!(c.mem_reads[MemRegion::LowRom as usize], 0);
    assert_eq!(c.mem_reads[MemRegion::High as usize], 0);
    // The three byte writes to E0000h and the one ignored.
    assert_eq!(c.mem_writes[MemRegion::LowRom as usize], 4);
}
