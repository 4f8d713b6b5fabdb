//! A system reset (CF9h with bit 1, PIIX3 datasheet "Reset Control
//! Register") returns the board's chips and devices to their power-on state
//! while RAM and the battery-backed CMOS keep their contents; a CPU-only
//! reset (the 8042's pulse) leaves the devices alone.

use chipset::at::{build_pc, AtPc, ResetKind};
use chipset::MachineProfile;
use cpu::Bus;
use std::path::PathBuf;

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-at-reset-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A PCI PC with a BIOS of HLTs (no firmware needed: the test drives the
/// ports itself) and a small hard disk.
fn new_pc() -> AtPc {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = tmp_dir().join(n.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bios.bin"), vec![0xF4u8; 0x10000]).unwrap();
    std::fs::write(dir.join("hd.img"), vec![0u8; 4 * 16 * 63 * 512]).unwrap();
    let yaml = "name: reset\nboard: pci\ncpu: pentium-pro\nmemory_mib: 8\n\
                bios: bios.bin\nhda: hd.img\nfloppies:\n  - type: 1.44m\n";
    let path = dir.join("reset.yaml");
    std::fs::write(&path, yaml).unwrap();
    let p = MachineProfile::load(&path).unwrap();
    build_pc(&p, &dir).unwrap()
}

fn cmos(pc: &mut AtPc, reg: u8) -> u8 {
    pc.run.board.io_write(0x70, reg);
    pc.run.board.io_read(0x71)
}

fn pci_read(pc: &mut AtPc, dev: u32, func: u32, reg: u32) -> u32 {
    let b = &mut pc.run.board;
    b.io_write32(0xCF8, 0x8000_0000 | (dev << 11) | (func << 8) | (reg & !3));
    b.io_read32(0xCFC) >> (8 * (reg & 3))
}

fn pci_write8(pc: &mut AtPc, dev: u32, func: u32, reg: u32, v: u8) {
    let b = &mut pc.run.board;
    b.io_write32(0xCF8, 0x8000_0000 | (dev << 11) | (func << 8) | (reg & !3));
    b.io_write(0xCFC + (reg & 3) as u16, v);
}

/// Change something in every device the reset line reaches.
fn disturb(pc: &mut AtPc) {
    let b = &mut pc.run.board;
    // PICs initialised (vectors 08h/70h), IMR 00h.
    for (port, v) in [
        (0x20, 0x11),
        (0x21, 0x08),
        (0x21, 0x04),
        (0x21, 0x01),
        (0x21, 0x00),
    ] {
        b.io_write(port, v);
    }
    // PIT counter 0: mode 2, count 1000.
    b.io_write(0x43, 0x34);
    b.io_write(0x40, 0xE8);
    b.io_write(0x40, 0x03);
    // DMA channel 2 unmasked, channel 6 (second 8237) unmasked.
    b.io_write(0x0A, 0x02);
    b.io_write(0xD4, 0x02);
    // Speaker gate and data.
    b.io_write(0x61, 0x03);
    // A20 off at the 8042 (output port write D1h: DDh), on through port
    // 92h.
    b.io_write(0x64, 0xD1);
    b.io_write(0x60, 0xDD);
    b.io_write(0x92, 0x02);
    // CMOS byte 40h.
    b.io_write(0x70, 0x40);
    b.io_write(0x71, 0x5A);
    // VGA miscellaneous output register.
    b.io_write(0x3C2, 0x67);
    // COM1: LCR 8N1 with DLAB clear, IER all on.
    b.io_write(0x3FB, 0x03);
    b.io_write(0x3F9, 0x0F);
    // IDE: the slave selected, sector count 7, interrupts off (nIEN).
    b.io_write(0x1F6, 0xB0);
    b.io_write(0x1F2, 0x07);
    b.io_write(0x3F6, 0x02);
    // PAM: F0000h–FFFFFh read/write RAM; PIRQA# to IRQ 11.
    pci_write8(pc, 0, 0, 0x59, 0x30);
    pci_write8(pc, 1, 0, 0x60, 0x0B);
}

#[test]
fn system_reset_returns_devices_to_power_on_and_keeps_cmos_and_ram() {
    let mut pc = new_pc();
    pc.run.board.ram_mut_slice()[0x1234] = 0xA5;
    disturb(&mut pc);
    assert!(pc.run.board.a20());
    assert_eq!(pc.run.board.io_read(0x3CC), 0x67);
    assert_eq!(pc.run.board.io_read(0x3FB), 0x03);
    assert_eq!(pc.run.board.io_read(0x21), 0x00);
    assert!(pc.run.board.next_deadline().is_some(), "the PIT counts");
    let b = &mut pc.run.board;
    // CF9h: bit 1 (system reset) with bit 2 rising.
    b.io_write(0xCF9, 0x02);
    b.io_write(0xCF9, 0x06);
    assert_eq!(b.take_reset(), Some(ResetKind::System));
    assert_eq!(b.take_reset(), None);

    // RAM and CMOS keep their contents.
    assert_eq!(b.ram()[0x1234], 0xA5);
    assert_eq!(cmos(&mut pc, 0x40), 0x5A);
    // The A20 gate as at power-on: port 92h bit 1 cleared, the 8042's
    // output port at its reset value (a freshly built board's).
    let fresh_a20 = new_pc().run.board.a20();
    let b = &mut pc.run.board;
    assert_eq!(b.a20(), fresh_a20);
    // Port 61h: gate and speaker data off.
    assert_eq!(b.io_read(0x61) & 0x03, 0);
    // 8237 master clear: every channel masked, on both controllers.
    assert!(b.dma1.channels.iter().all(|c| c.masked));
    assert!(b.dma2.channels.iter().all(|c| c.masked));
    // The PICs are back to their uninitialised state (no vector base).
    assert_eq!(b.pics.master.vector_base, 0);
    // The PIT's counters wait to be programmed (the 8254 datasheet leaves
    // their power-up state undefined; this board's, like a fresh one's, is
    // idle): 10 ms pass without IRQ 0, where the rate programmed before the
    // reset (1000 clocks, 838 µs) would have raised it.
    for (port, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        b.io_write(port, v);
    }
    let t = b.now + b.config.clock_hz / 100;
    b.advance_to(t);
    b.io_write(0x20, 0x0A);
    assert_eq!(b.io_read(0x20) & 0x01, 0, "no IRQ 0 request");
    // VGA registers are zero after reset (the BIOS programs them).
    assert_eq!(b.io_read(0x3CC), 0x00);
    // 16550 master reset: LCR 00h, IER 00h, IIR 01h, LSR 60h.
    assert_eq!(b.io_read(0x3FB), 0x00);
    assert_eq!(b.io_read(0x3F9), 0x00);
    assert_eq!(b.io_read(0x3FA) & 0x0F, 0x01);
    assert_eq!(b.io_read(0x3FD), 0x60);
    // ATA hardware reset: device 0 selected, the signature in the task
    // file (sector count 01h, LBA low 01h, cylinder 0000h for a disk).
    assert_eq!(b.io_read(0x1F6) & 0x10, 0);
    assert_eq!(b.io_read(0x1F2), 0x01);
    assert_eq!(b.io_read(0x1F3), 0x01);
    assert_eq!((b.io_read(0x1F4), b.io_read(0x1F5)), (0, 0));
    // PCI registers at their reset values: PAM0 00h, PIRQ routes 80h.
    assert_eq!(pci_read(&mut pc, 0, 0, 0x59) & 0xFF, 0x00);
    assert_eq!(pci_read(&mut pc, 1, 0, 0x60), 0x8080_8080);
}

#[test]
fn cpu_reset_through_the_8042_keeps_the_devices() {
    let mut pc = new_pc();
    disturb(&mut pc);
    let b = &mut pc.run.board;
    // 8042 command FEh: pulse the CPU's reset line.
    b.io_write(0x64, 0xFE);
    assert_eq!(b.take_reset(), Some(ResetKind::Cpu));
    assert_eq!(b.io_read(0x3CC), 0x67);
    assert_eq!(b.io_read(0x3FB), 0x03);
    assert_eq!(b.io_read(0x21), 0x00);
    assert!(!b.dma1.channels[2].masked);
    assert_eq!(pci_read(&mut pc, 1, 0, 0x60) & 0xFF, 0x0B);
    // The PIT still counts: within 10 ms IRQ 0 is requested.
    let b = &mut pc.run.board;
    let t = b.now + b.config.clock_hz / 100;
    b.advance_to(t);
    b.io_write(0x20, 0x0A);
    assert_eq!(b.io_read(0x20) & 0x01, 0x01, "IRQ 0 requested");
}

/// CR11 through the CRTC's index/data ports (colour addressing, 3D4h/3D5h).
fn cr11(pc: &mut AtPc, v: u8) {
    pc.run.board.io_write(0x3D4, 0x11);
    pc.run.board.io_write(0x3D5, v);
}

/// Let `ms` milliseconds of emulated time pass.
fn wait_ms(pc: &mut AtPc, ms: u64) {
    let b = &mut pc.run.board;
    let t = b.now + b.config.clock_hz * ms / 1000;
    b.advance_to(t);
}

#[test]
fn vga_vertical_retrace_interrupt_reaches_irq_9() {
    let mut pc = new_pc();
    let b = &mut pc.run.board;
    // PICs as the BIOS leaves them, IRQ 2 (cascade) and IRQ 9 unmasked.
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
        (0xA1, 0xFD),
    ] {
        b.io_write(port, v);
    }
    // Colour addressing (misc output bit 0) so the CRTC is at 3D4h.
    b.io_write(0x3C2, 0x01);
    // CR11 bit 4 clear holds the interrupt off: a frame passes quietly.
    cr11(&mut pc, 0x00);
    wait_ms(&mut pc, 40);
    assert!(!pc.run.board.intr_pending());
    // Bit 4 set (armed), bit 5 clear (enabled): the next vertical retrace
    // (at most a frame, under 1/50 s in any mode) raises IRQ 2, which the
    // AT delivers as IRQ 9 (slave IR1, vector 71h).
    cr11(&mut pc, 0x10);
    wait_ms(&mut pc, 40);
    assert!(pc.run.board.intr_pending());
    assert_eq!(pc.run.board.inta(), 0x71);
    // Input status 0 (3C2h) bit 7: interrupt pending.
    assert_eq!(pc.run.board.io_read(0x3C2) & 0x80, 0x80);
    // The handler clears it (bit 4 = 0), re-arms it, and sends EOIs.
    cr11(&mut pc, 0x00);
    assert_eq!(pc.run.board.io_read(0x3C2) & 0x80, 0x00);
    cr11(&mut pc, 0x10);
    pc.run.board.io_write(0xA0, 0x20);
    pc.run.board.io_write(0x20, 0x20);
    assert!(!pc.run.board.intr_pending(), "not before the next retrace");
    wait_ms(&mut pc, 40);
    assert_eq!(pc.run.board.inta(), 0x71);
    pc.run.board.io_write(0xA0, 0x20);
    pc.run.board.io_write(0x20, 0x20);
    // Bit 5 set disables the interrupt: the status bit still says pending,
    // the line stays low.
    cr11(&mut pc, 0x00);
    cr11(&mut pc, 0x30);
    wait_ms(&mut pc, 40);
    assert_eq!(pc.run.board.io_read(0x3C2) & 0x80, 0x80);
    assert!(!pc.run.board.intr_pending());
}
