//! PCI configuration mechanism #1 and the i440FX/PIIX3 functions (PCI Local
//! Bus Specification 2.1 §3.2.2.3.2; Intel 82441FX and 82371SB datasheets
//! for the IDs, class codes, PAM and PIRQ registers).

use chipset::at::{AtBoard, AtConfig, IoDevice, PciKind};
use cpu::Bus;

fn board() -> AtBoard {
    // A 128 KiB BIOS whose bytes are their offset's low byte XOR 5Ah.
    let bios: Vec<u8> = (0..0x20000u32).map(|i| (i as u8) ^ 0x5A).collect();
    AtBoard::new(AtConfig::default(), bios).unwrap()
}

fn cfg_addr(dev: u32, func: u32, reg: u32) -> u32 {
    0x8000_0000 | (dev << 11) | (func << 8) | reg
}

/// A configuration read as a 386 does it: `OUT CF8h, EAX`, `IN EAX, CFCh`
/// (the `cpu::Bus` doubleword I/O methods).
fn read32(b: &mut AtBoard, dev: u32, func: u32, reg: u32) -> u32 {
    b.io_write32(0xCF8, cfg_addr(dev, func, reg));
    b.io_read32(0xCFC)
}

fn write_cfg(b: &mut AtBoard, dev: u32, func: u32, reg: u32, size: u8, v: u32) {
    b.io_write_sized(0xCF8, 4, cfg_addr(dev, func, reg & !3));
    b.io_write_sized(0xCFC + (reg & 3) as u16, size, v);
}

#[test]
fn ids_and_class_codes() {
    let mut b = board();
    // Host bridge 8086:1237, class 06 00 00 (host bridge), revision 02.
    assert_eq!(read32(&mut b, 0, 0, 0), 0x1237_8086);
    assert_eq!(read32(&mut b, 0, 0, 8), 0x0600_0002);
    // PIIX3 ISA bridge 8086:7000, class 06 01 00, multi-function header.
    assert_eq!(read32(&mut b, 1, 0, 0), 0x7000_8086);
    assert_eq!(read32(&mut b, 1, 0, 8) >> 8, 0x06_0100);
    assert_eq!((read32(&mut b, 1, 0, 0x0C) >> 16) & 0x80, 0x80);
    // PIIX3 IDE 8086:7010, class 01 01 80 (IDE, bus master, legacy mode).
    assert_eq!(read32(&mut b, 1, 1, 0), 0x7010_8086);
    assert_eq!(read32(&mut b, 1, 1, 8) >> 8, 0x01_0180);
    // Bus-master BAR4 is an I/O BAR.
    assert_eq!(read32(&mut b, 1, 1, 0x20) & 1, 1);
    // Standard VGA 1234:1111, class 03 00 00.
    assert_eq!(read32(&mut b, 2, 0, 0), 0x1111_1234);
    assert_eq!(read32(&mut b, 2, 0, 8) >> 8, 0x03_0000);
}

#[test]
fn absent_functions_and_disabled_cycles_read_all_ones() {
    let mut b = board();
    assert_eq!(read32(&mut b, 5, 0, 0), 0xFFFF_FFFF);
    assert_eq!(read32(&mut b, 0, 3, 0), 0xFFFF_FFFF);
    // Enable bit clear: no configuration cycle.
    b.io_write_sized(0xCF8, 4, 0x0000_0000);
    assert_eq!(b.io_read_sized(0xCFC, 4), 0xFFFF_FFFF);
    // Another bus.
    b.io_write_sized(0xCF8, 4, 0x8001_0000);
    assert_eq!(b.io_read_sized(0xCFC, 4), 0xFFFF_FFFF);
}

#[test]
fn address_register_and_narrow_data_accesses() {
    let mut b = board();
    b.io_write_sized(0xCF8, 4, 0x8000_0003);
    // Bits 1:0 of CONFADD are read-only zero.
    assert_eq!(b.io_read_sized(0xCF8, 4), 0x8000_0000);
    // Byte and word accesses pick lanes of the dword.
    assert_eq!(b.io_read_sized(0xCFE, 1), 0x37);
    assert_eq!(b.io_read_sized(0xCFE, 2), 0x1237);
    assert_eq!(b.io_read(0xCFD), 0x80);
    // A byte write to CF8h does not touch CONFADD.
    b.io_write(0xCF8, 0x00);
    assert_eq!(b.io_read_sized(0xCF8, 4), 0x8000_0000);
}

#[test]
fn bar_sizing_of_the_vga_framebuffer() {
    let mut b = board();
    write_cfg(&mut b, 2, 0, 0x10, 4, 0xFFFF_FFFF);
    // 16 MiB, prefetchable 32-bit memory.
    assert_eq!(read32(&mut b, 2, 0, 0x10), 0xFF00_0008);
    write_cfg(&mut b, 2, 0, 0x10, 4, 0xE000_0000);
    assert_eq!(read32(&mut b, 2, 0, 0x10), 0xE000_0008);
    // IDs are read-only.
    write_cfg(&mut b, 2, 0, 0, 4, 0);
    assert_eq!(read32(&mut b, 2, 0, 0), 0x1111_1234);
}

#[test]
fn pam_shadowing_of_the_bios() {
    let mut b = board();
    // PAM0 = 0: F0000h reads the ROM (offset 10000h of the 128 KiB image).
    assert_eq!(b.read(0xF0000), 0x5A);
    assert_eq!(b.read(0xE0001), 0x5B);
    // Write-enable only: writes go to RAM, reads still from ROM.
    write_cfg(&mut b, 0, 0, 0x59, 1, 0x20);
    b.write(0xF0000, 0x11);
    assert_eq!(b.read(0xF0000), 0x5A);
    // Read-enable only: reads the shadow copy; writes are dropped.
    write_cfg(&mut b, 0, 0, 0x59, 1, 0x10);
    assert_eq!(b.read(0xF0000), 0x11);
    b.write(0xF0000, 0x22);
    assert_eq!(b.read(0xF0000), 0x11);
    // PAM5 low nibble covers E0000h–E3FFFh, high nibble E4000h–E7FFFh.
    write_cfg(&mut b, 0, 0, 0x5E, 1, 0x03);
    b.write(0xE0000, 0x33);
    b.write(0xE4000, 0x44);
    assert_eq!(b.read(0xE0000), 0x33);
    assert_eq!(b.read(0xE4000), 0x5A, "E4000h still ROM");
    // PAM1 low nibble: C0000h–C3FFFh (no option ROM there: FFh until shadowed).
    assert_eq!(b.read(0xC0000), 0xFF);
    write_cfg(&mut b, 0, 0, 0x5A, 1, 0x03);
    b.write(0xC0000, 0x55);
    assert_eq!(b.read(0xC0000), 0x55);
    // The PAM0 low nibble is reserved.
    write_cfg(&mut b, 0, 0, 0x59, 1, 0xFF);
    assert_eq!(read32(&mut b, 0, 0, 0x58) >> 8 & 0xFF, 0x30);
}

#[test]
fn bios_mirror_at_the_top_of_4g() {
    let mut b = board();
    assert_eq!(b.read(0xFFFE_0000), 0x5A);
    assert_eq!(b.read(0xFFFF_FFF0), 0xF0 ^ 0x5A);
    assert_eq!(b.read(0x000F_FFF0), 0xF0 ^ 0x5A);
    // Shadowing does not change the high mirror.
    write_cfg(&mut b, 0, 0, 0x59, 1, 0x30);
    b.write(0xFFFF0, 0);
    assert_eq!(b.read(0xFFFF_FFF0), 0xF0 ^ 0x5A);
}

#[test]
fn pirq_routing_registers() {
    let mut b = board();
    assert_eq!(read32(&mut b, 1, 0, 0x60), 0x8080_8080);
    write_cfg(&mut b, 1, 0, 0x61, 1, 0x0B);
    let pci = b.pci.as_ref().unwrap();
    assert_eq!(pci.pirq_route(0), None, "bit 7: disabled");
    assert_eq!(pci.pirq_route(1), Some(11));
    assert_eq!(
        b.pci_config(PciKind::IsaBridge, 0x61, 1),
        Some(0x0B),
        "read back"
    );
}

#[test]
fn smram_register_opens_the_ram_under_the_vga_window() {
    let mut b = board();
    // SMRAM: C_BASE_SEG = 010b (A0000h), other bits clear.
    assert_eq!(read32(&mut b, 0, 0, 0x70) >> 16 & 0xFF, 0x02);
    // No VGA attached: the window floats.
    b.write(0xA0000, 0x12);
    assert_eq!(b.read(0xA0000), 0xFF);
    // D_OPEN with G_SMRAME: RAM answers.
    write_cfg(&mut b, 0, 0, 0x72, 1, 0x4A);
    b.write(0xA0000, 0x12);
    assert_eq!(b.read(0xA0000), 0x12);
    // D_OPEN alone (SMRAM disabled) does nothing.
    write_cfg(&mut b, 0, 0, 0x72, 1, 0x42);
    assert_eq!(b.read(0xA0000), 0xFF);
    // C_BASE_SEG is read-only.
    assert_eq!(read32(&mut b, 0, 0, 0x70) >> 16 & 0x07, 0x02);
}

#[test]
fn isa_board_has_no_pci() {
    let cfg = AtConfig {
        pci: false,
        ..AtConfig::default()
    };
    let mut b = AtBoard::new(cfg, vec![0x90; 0x10000]).unwrap();
    b.io_write_sized(0xCF8, 4, 0x8000_0000);
    assert_eq!(b.io_read_sized(0xCFC, 4), 0xFFFF_FFFF);
    // Without PAM the BIOS area is ROM: writes are lost.
    b.write(0xF0000, 0x12);
    assert_eq!(b.read(0xF0000), 0x90);
    // A 64 KiB BIOS appears at E0000h too (the top 128 KiB repeats it).
    assert_eq!(b.read(0xE0000), 0x90);
}

#[test]
fn vga_expansion_rom_bar() {
    let mut b = board();
    let rom: Vec<u8> = [0x55, 0xAA, 0x50].into_iter().chain(3..=200).collect();
    b.map_vga_bios(rom).unwrap();
    // Sizing: 64 KiB, A31–A16 writable, plus the enable bit.
    write_cfg(&mut b, 2, 0, 0x30, 4, 0xFFFF_FFFF);
    assert_eq!(read32(&mut b, 2, 0, 0x30), 0xFFFF_0001);
    // Decoded once assigned, even without the enable bit or memory decoding
    // in the command register: the Bochs BIOS copies the ROM to C0000h
    // without setting either (a deliberate departure from the PCI spec).
    write_cfg(&mut b, 2, 0, 0x30, 4, 0xFEB0_0000);
    assert_eq!(b.read(0xFEB0_0001), 0xAA);
    write_cfg(&mut b, 2, 0, 0x30, 4, 0xFEB0_0001);
    assert_eq!(b.read(0xFEB0_0010), 0x10);
    write_cfg(&mut b, 2, 0, 0x04, 2, 0x0001);
    assert_eq!(b.read(0xFEB0_0001), 0xAA);
    // Moved, it leaves its old address.
    write_cfg(&mut b, 2, 0, 0x30, 4, 0xFEC0_0000);
    assert_eq!(b.read(0xFEB0_0001), 0xFF);
    assert_eq!(b.read(0xFEC0_0000), 0x55);
    // The same ROM is at C0000h for BIOSes that scan there.
    assert_eq!(b.read(0xC0001), 0xAA);
}

/// Answers reads with 0xB0 + the offset it was given; remembers writes.
struct BusMaster(std::rc::Rc<std::cell::RefCell<Vec<(u16, u32)>>>);

impl IoDevice for BusMaster {
    fn io_read(&mut self, _now: u64, port: u16, _size: u8) -> u32 {
        0xB0 + port as u32
    }
    fn io_write(&mut self, _now: u64, port: u16, _size: u8, value: u32) {
        self.0.borrow_mut().push((port, value));
    }
}

#[test]
fn ide_bus_master_registers_follow_bar4() {
    let mut b = board();
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    b.attach_ide_busmaster(Box::new(BusMaster(log.clone())), None);
    // BAR4 sizing: 16 bytes of I/O. All 32 bits answer the sizing write
    // (as on QEMU's PIIX3): SeaBIOS computes the size as the two's
    // complement of the whole dword (less the low two bits), so a
    // 16-byte BAR must read FFFFFFF1h (−(FFFFFFF0h) = 10h).
    write_cfg(&mut b, 1, 1, 0x20, 4, 0xFFFF_FFFF);
    assert_eq!(read32(&mut b, 1, 1, 0x20), 0xFFFF_FFF1);
    // Beyond the 64 KiB I/O space: not decoded anywhere.
    write_cfg(&mut b, 1, 1, 0x04, 2, 0x0005);
    write_cfg(&mut b, 1, 1, 0x20, 4, 0x0001_C000);
    assert_eq!(b.io_read(0xC002), 0xFF);
    write_cfg(&mut b, 1, 1, 0x04, 2, 0x0000);
    write_cfg(&mut b, 1, 1, 0x20, 4, 0xC000);
    // I/O decoding still off.
    assert_eq!(b.io_read(0xC002), 0xFF);
    write_cfg(&mut b, 1, 1, 0x04, 2, 0x0005);
    assert_eq!(b.io_read(0xC002), 0xB2);
    b.io_write(0xC004, 0x77);
    assert_eq!(*log.borrow(), [(4, 0x77)]);
    // Moved by firmware: the old ports are free again.
    write_cfg(&mut b, 1, 1, 0x20, 4, 0xD010);
    assert_eq!(b.io_read(0xC002), 0xFF);
    assert_eq!(b.io_read(0xD01F), 0xBF);
    // A BAR over the chipset's ports is not decoded.
    write_cfg(&mut b, 1, 1, 0x20, 4, 0x0060);
    assert_eq!(b.io_read(0x64) & 0x10, 0x10, "still the 8042's status");
}

#[test]
fn debug_port_402h_reads_e9h() {
    // SeaBIOS writes its log to port 402h only if a read of it returns E9h
    // (the debug console's presence signature, as port E9h on Bochs).
    let mut b = board();
    assert_eq!(b.io_read(0x402), 0xE9);
    for c in b"ok\n" {
        b.io_write(0x402, *c);
    }
    assert_eq!(b.bios_info, b"ok\n");
}

/// A PCI device whose INTx# follows the last value written to its port
/// (1 asserts, 0 releases).
struct Doorbell(bool);

impl IoDevice for Doorbell {
    fn io_read(&mut self, _now: u64, _port: u16, _size: u8) -> u32 {
        self.0 as u32
    }
    fn io_write(&mut self, _now: u64, _port: u16, _size: u8, value: u32) {
        self.0 = value & 1 != 0;
    }
    fn irq(&self) -> bool {
        self.0
    }
}

/// Both PICs as the BIOS leaves them (vectors 08h and 70h, edge mode in
/// ICW1: the ELCR decides per line on the PIIX), everything masked but the
/// cascade and IRQ 10/11.
fn init_pics(b: &mut AtBoard) {
    for (port, v) in [
        (0x20, 0x11),
        (0x21, 0x08),
        (0x21, 0x04),
        (0x21, 0x01),
        (0xA0, 0x11),
        (0xA1, 0x70),
        (0xA1, 0x02),
        (0xA1, 0x01),
        (0x21, 0xFB),
        (0xA1, 0xF3),
    ] {
        b.io_write(port, v);
    }
}

fn eoi(b: &mut AtBoard) {
    b.io_write(0xA0, 0x20);
    b.io_write(0x20, 0x20);
}

#[test]
fn pci_intx_is_routed_by_pirq_and_level_triggered_with_elcr() {
    // The slot/pin rotation (slot − 1 + pin − 1) mod 4: slot 1 INTA# →
    // PIRQA#, slot 1 INTB# → PIRQB#, slot 4 INTA# → PIRQD#, slot 5 INTA#
    // → PIRQA#, slot 3 INTD# → 5 mod 4 = PIRQB#.
    assert_eq!(chipset::at::pci_intx_pirq(1, 1), 0);
    assert_eq!(chipset::at::pci_intx_pirq(1, 2), 1);
    assert_eq!(chipset::at::pci_intx_pirq(4, 1), 3);
    assert_eq!(chipset::at::pci_intx_pirq(5, 1), 0);
    assert_eq!(chipset::at::pci_intx_pirq(3, 4), 1);
    let mut b = board();
    init_pics(&mut b);
    // Slot 5 INTA#: PIRQA#.
    b.attach_pci_io(Box::new(Doorbell(false)), &[0xE000..=0xE000], 5, 1)
        .unwrap();
    // PIRQA# routing disabled (reset value 80h): nothing reaches the PICs.
    b.io_write(0xE000, 1);
    assert!(!b.intr_pending());
    b.io_write(0xE000, 0);
    // PIRQA# → IRQ 11 (slave IR3, vector 73h), level-triggered in the ELCR
    // (4D1h bit 3).
    write_cfg(&mut b, 1, 0, 0x60, 1, 0x0B);
    b.io_write(0x4D1, 0x08);
    assert_eq!(b.io_read(0x4D1), 0x08);
    assert!(!b.intr_pending());
    b.io_write(0xE000, 1);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x73);
    // In service: nothing more until EOI; with the line still high a
    // level-triggered input requests again (8259A: IRR follows the level).
    assert!(!b.intr_pending());
    eoi(&mut b);
    assert!(b.intr_pending(), "level: still asserted after EOI");
    assert_eq!(b.inta(), 0x73);
    // The device releases the line before EOI: no further request.
    b.io_write(0xE000, 0);
    eoi(&mut b);
    assert!(!b.intr_pending());
    // A level request withdrawn before the acknowledge is gone.
    b.io_write(0xE000, 1);
    assert!(b.intr_pending());
    b.io_write(0xE000, 0);
    assert!(!b.intr_pending());

    // The same line edge-triggered (ELCR bit clear): one interrupt per
    // rising edge, however long the line stays high.
    b.io_write(0x4D1, 0x00);
    b.io_write(0xE000, 1);
    assert_eq!(b.inta(), 0x73);
    eoi(&mut b);
    assert!(!b.intr_pending(), "edge: no new request while high");
    b.io_write(0xE000, 0);

    // Shared: PIRQA# is wired-OR; another source on it keeps IRQ 11 up.
    b.io_write(0x4D1, 0x08);
    b.io_write(0xE000, 1);
    b.set_pirq(0, true);
    assert_eq!(b.inta(), 0x73);
    b.io_write(0xE000, 0);
    eoi(&mut b);
    assert!(b.intr_pending(), "the other source still drives PIRQA#");
    assert_eq!(b.inta(), 0x73);
    b.set_pirq(0, false);
    eoi(&mut b);
    assert!(!b.intr_pending());

    // Re-routed to IRQ 10 (vector 72h): IRQ 11 is released.
    b.io_write(0x4D1, 0x0C);
    b.io_write(0xE000, 1);
    write_cfg(&mut b, 1, 0, 0x60, 1, 0x0A);
    assert_eq!(b.inta(), 0x72);
    eoi(&mut b);
    b.io_write(0xA0, 0x0A);
    assert_eq!(b.io_read(0xA0) & 0x08, 0, "IRQ 11 no longer requested");
}
