//! The AT board's glue: port 92h, reset sources, port 61h, the PIT on
//! IRQ 0, the debug and POST ports, the memory map and device seams, the
//! firmware lookup.

use chipset::at::{find_firmware, AtBoard, AtConfig, AtError, IoDevice, MmioDevice, ResetKind};
use cpu::Bus;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

fn board_with(cfg: AtConfig) -> AtBoard {
    AtBoard::new(cfg, vec![0xFF; 0x10000]).unwrap()
}

fn board() -> AtBoard {
    board_with(AtConfig::default())
}

#[test]
fn port_92_fast_a20_and_fast_reset() {
    let mut b = board();
    // Gate A20 off at the 8042 so that port 92h alone decides.
    b.io_write(0x64, 0xD1);
    b.io_write(0x60, 0xDD);
    assert!(!b.a20());
    assert_eq!(b.io_read(0x92) & 0x02, 0);
    b.io_write(0x92, 0x02);
    assert!(b.a20());
    assert_eq!(b.io_read(0x92) & 0x02, 0x02);
    b.write(0x10_0000, 7);
    assert_eq!(b.read(0), 0, "no wrap with A20 on");
    b.io_write(0x92, 0x00);
    assert_eq!(b.read(0x10_0000), b.read(0));
    assert_eq!(b.take_reset(), None);
    // Bit 0 going 0 → 1 resets the CPU.
    b.io_write(0x92, 0x03);
    assert_eq!(b.take_reset(), Some(ResetKind::Cpu));
    // Writing it 1 again is no new edge.
    b.io_write(0x92, 0x03);
    assert_eq!(b.take_reset(), None);
}

#[test]
fn cf9_reset_control_and_triple_fault() {
    let mut b = board();
    b.io_write(0xCF9, 0x02); // select hard reset, no reset yet
    assert_eq!(b.take_reset(), None);
    b.io_write(0xCF9, 0x06);
    assert_eq!(b.take_reset(), Some(ResetKind::System));
    b.io_write(0xCF9, 0x00);
    b.io_write(0xCF9, 0x04);
    assert_eq!(b.take_reset(), Some(ResetKind::Cpu));
    b.triple_fault();
    assert_eq!(b.take_reset(), Some(ResetKind::Cpu));
}

#[test]
fn system_reset_restores_the_pam_registers() {
    let mut b = board();
    b.io_write_sized(0xCF8, 4, 0x8000_0058);
    b.io_write_sized(0xCFD, 1, 0x30);
    assert_eq!(b.io_read_sized(0xCFD, 1), 0x30);
    b.io_write(0xCF9, 0x06);
    assert_eq!(b.take_reset(), Some(ResetKind::System));
    b.io_write_sized(0xCF8, 4, 0x8000_0058);
    assert_eq!(b.io_read_sized(0xCFD, 1), 0x00);
}

/// PICs as the AT BIOS leaves them, everything unmasked.
fn init_pics(b: &mut AtBoard) {
    for (p, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        b.io_write(p, v);
    }
    for (p, v) in [(0xA0, 0x11), (0xA1, 0x70), (0xA1, 0x02), (0xA1, 0x01)] {
        b.io_write(p, v);
    }
}

#[test]
fn pit_counter_0_interrupts_at_its_rate() {
    // 1 MHz CPU: 10 ms is 10,000 cycles. Counter 0 in mode 2 with 1193
    // counts of 1.193182 MHz fires every 999.85 µs: 10 times in 10 ms.
    let mut b = board_with(AtConfig {
        clock_hz: 1_000_000,
        ..AtConfig::default()
    });
    b.io_write(0x43, 0x34);
    b.io_write(0x40, 0xA9);
    b.io_write(0x40, 0x04); // 04A9h = 1193
                            // Initialize the PICs after the PIT, as the BIOS does: ICW1 forgets
                            // the edge OUT0 made when the counter was programmed.
    init_pics(&mut b);
    let mut irqs = 0;
    while let Some(t) = b.next_deadline() {
        if t > 10_000 {
            break;
        }
        b.advance_to(t);
        if b.intr_pending() {
            assert_eq!(b.inta(), 0x08);
            b.io_write(0x20, 0x20);
            irqs += 1;
        }
    }
    assert_eq!(irqs, 10);
}

#[test]
fn port_61_speaker_gate_out2_and_refresh_toggle() {
    let mut b = board_with(AtConfig {
        clock_hz: 1_193_182,
        ..AtConfig::default()
    });
    // Counter 2, mode 0 (OUT low until the count expires), count 100.
    b.io_write(0x43, 0xB0);
    b.io_write(0x42, 100);
    b.io_write(0x42, 0);
    b.io_write(0x61, 0x00); // gate closed: no counting
    b.advance_to(1000);
    assert_eq!(b.io_read(0x61) & 0x20, 0);
    b.io_write(0x61, 0x03); // gate open, speaker data on
    assert_eq!(b.io_read(0x61) & 0x03, 0x03);
    b.advance_to(1000 + 50);
    assert_eq!(b.io_read(0x61) & 0x20, 0, "OUT2 low mid-count");
    assert!(!b.speaker());
    b.advance_to(1000 + 110);
    assert_eq!(b.io_read(0x61) & 0x20, 0x20, "OUT2 high after the count");
    assert!(b.speaker(), "OUT2 and speaker data");
    b.io_write(0x61, 0x01);
    assert!(!b.speaker(), "speaker data off");
    // Bit 4 toggles with every refresh request (every 18 PIT clocks).
    let mut seen = [false; 2];
    for i in 0..4 {
        b.advance_to(2000 + i * 18);
        seen[(b.io_read(0x61) >> 4 & 1) as usize] = true;
    }
    assert_eq!(seen, [true, true]);
}

#[test]
fn post_and_debug_ports() {
    let mut b = board();
    for c in [0x01, 0x02, 0x02, 0x02, 0xFF] {
        b.io_write(0x80, c);
    }
    assert_eq!(b.post_code, 0xFF);
    // Repeats (port 80h doubles as an I/O delay) are logged once.
    assert_eq!(b.post_codes, [0x01, 0x02, 0xFF]);
    assert_eq!(b.io_read(0x80), 0xFF, "port 80h reads back");
    for &c in b"hi" {
        b.io_write(0xE9, c);
    }
    assert_eq!(b.debug.console, b"hi");
    assert_eq!(b.io_read(0xE9), 0xE9);
    // QEMU's isa-debug-exit at F4h: status (value << 1) | 1.
    assert_eq!(b.debug.exit, None);
    b.io_write(0xF4, 0x10);
    assert_eq!(b.debug.exit, Some(0x21));
    for &c in b"BIOS\n" {
        b.io_write(0x403, c);
    }
    assert_eq!(b.bios_info, b"BIOS\n");
    for &c in b"VGA" {
        b.io_write(0x500, c);
    }
    assert_eq!(b.vgabios_info, b"VGA");
    b.io_write16(0x400, 1234);
    assert_eq!(b.bios_panic, Some(1234));
    for &c in b"ShutShutdown" {
        b.io_write(0x8900, c);
    }
    assert!(b.shutdown);
}

#[test]
fn fpu_error_raises_irq13_until_port_f0() {
    let mut b = board();
    init_pics(&mut b);
    b.set_fpu_error();
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x75);
    b.io_write(0xF0, 0);
    b.io_write(0xA0, 0x20);
    b.io_write(0x20, 0x20);
    assert!(!b.intr_pending());
}

#[derive(Default)]
struct Log {
    io: Vec<(u16, u8, u32)>,
    mem: Vec<(u32, u8)>,
}

struct StubIo(Rc<RefCell<Log>>, bool);

impl IoDevice for StubIo {
    fn io_read(&mut self, _now: u64, port: u16, size: u8) -> u32 {
        0xA500 | (port as u32 & 0xFF) | (size as u32) << 16
    }
    fn io_write(&mut self, _now: u64, port: u16, size: u8, value: u32) {
        self.0.borrow_mut().io.push((port, size, value));
        self.1 = value == 1;
    }
    fn irq(&self) -> bool {
        self.1
    }
}

struct StubMem(Rc<RefCell<Log>>);

impl MmioDevice for StubMem {
    fn read(&mut self, offset: u32) -> u8 {
        offset as u8
    }
    fn write(&mut self, offset: u32, value: u8) {
        self.0.borrow_mut().mem.push((offset, value));
    }
}

#[test]
fn io_device_seam_with_irq_and_16_bit_access() {
    let log = Rc::new(RefCell::new(Log::default()));
    let mut b = board();
    init_pics(&mut b);
    let dev = StubIo(log.clone(), false);
    b.attach_io(Box::new(dev), &[0x1F0..=0x1F7, 0x3F6..=0x3F6], Some(14))
        .unwrap();
    assert_eq!(
        b.attach_io(Box::new(StubIo(log.clone(), false)), &[0x60..=0x60], None)
            .unwrap_err(),
        AtError::PortTaken(0x60)
    );
    assert_eq!(b.io_read16(0x1F0), 0xA5F0, "one 16-bit access");
    b.io_write16(0x1F0, 0xBEEF);
    b.io_write(0x3F6, 1);
    assert_eq!(log.borrow().io, [(0x1F0, 2, 0xBEEF), (0x3F6, 1, 1)]);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x76);
}

#[test]
fn devices_sharing_a_line_are_ored() {
    let log = Rc::new(RefCell::new(Log::default()));
    let mut b = board();
    init_pics(&mut b);
    b.io_write(0x4D1, 0x04); // IRQ 10 level-triggered
    for ports in [0x300..=0x300, 0x301..=0x301] {
        b.attach_io(Box::new(StubIo(log.clone(), false)), &[ports], Some(10))
            .unwrap();
    }
    b.io_write(0x300, 1); // first device asserts
    b.io_write(0x301, 0); // second stays low: the line is still high
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x72);
    b.io_write(0xA0, 0x20);
    b.io_write(0x20, 0x20);
    assert!(b.intr_pending(), "level line still high");
    b.io_write(0x300, 0);
    assert!(!b.intr_pending());
}

#[test]
fn memory_map_windows_and_holes() {
    let log = Rc::new(RefCell::new(Log::default()));
    let mut b = board_with(AtConfig {
        memory_mib: 8,
        ..AtConfig::default()
    });
    // Nothing in the VGA window yet: reads float high.
    assert_eq!(b.read(0xA0000), 0xFF);
    b.attach_vga_window(Box::new(StubMem(log.clone())));
    b.write(0xB8000, 0x41);
    assert_eq!(b.read(0xA0010), 0x10);
    assert_eq!(log.borrow().mem, [(0x18000, 0x41)]);
    // RAM ends at 8 MiB; above it the PCI hole reads all ones.
    b.write(0x7F_FFFF, 0x12);
    assert_eq!(b.read(0x7F_FFFF), 0x12);
    b.write(0x80_0000, 0x12);
    assert_eq!(b.read(0x80_0000), 0xFF);
    // The option ROM area holds a mapped ROM, read-only.
    b.map_option_rom(0xC0000, vec![0x55, 0xAA, 0x40]).unwrap();
    assert_eq!(b.read(0xC0001), 0xAA);
    b.write(0xC0001, 0);
    assert_eq!(b.read(0xC0001), 0xAA);
    assert!(b.map_option_rom(0xDFFFF, vec![0; 2]).is_err());
    // Plain RAM is offered to the CPU's block moves; windows are not.
    assert!(b.ram_mut(0x1000, 0x100).is_some());
    assert!(b.ram_mut(0x9FF00, 0x200).is_none());
    assert!(b.ram_mut(0x10_0000, 0x100).is_some());
}

#[test]
fn lfb_follows_the_vga_bar() {
    let log = Rc::new(RefCell::new(Log::default()));
    let mut b = board();
    b.attach_lfb(Box::new(StubMem(log.clone())));
    b.io_write_sized(0xCF8, 4, 0x8000_1010);
    b.io_write_sized(0xCFC, 4, 0xE000_0000);
    b.write(0xE000_0100, 9);
    assert_eq!(b.read(0xE000_0005), 5);
    assert_eq!(log.borrow().mem, [(0x100, 9)]);
}

#[test]
fn sixteen_bit_dma_addresses() {
    let mut b = board();
    // Channel 5: page register 8Bh, base address through controller 2's
    // port C4h (word address, low byte then high byte).
    b.io_write(0xD8, 0); // clear flip-flop
    b.io_write(0xC4, 0x00);
    b.io_write(0xC4, 0x80);
    b.io_write(0x8B, 0x13);
    // Word address 8000h → byte offset 10000h; page bit 0 is ignored.
    assert_eq!(b.dma16_address(1), 0x12_0000 + 0x1_0000);
}

/// Program channel 5 (controller 2's channel 1) as a BIOS would: mask,
/// mode, word address and word count through the even ports C0h–DEh, page
/// register 8Bh, unmask.
fn setup_ch5(b: &mut AtBoard, mode: u8, word_addr: u16, page: u8, words: u16) {
    b.io_write(0xD4, 0x05); // single mask: set, channel 1
    b.io_write(0xD6, mode);
    b.io_write(0xD8, 0); // clear the byte pointer flip-flop
    b.io_write(0xC4, word_addr as u8);
    b.io_write(0xC4, (word_addr >> 8) as u8);
    b.io_write(0xC6, (words - 1) as u8);
    b.io_write(0xC6, ((words - 1) >> 8) as u8);
    b.io_write(0x8B, page);
    b.io_write(0xD4, 0x01); // unmask channel 1
}

#[test]
fn sixteen_bit_dma_moves_words_at_the_shifted_address() {
    use chipset::dma::TransferType;
    let mut b = board();
    // Masked (power-on): no cycle.
    assert_eq!(b.dma16_transfer(5, 0x1234), None);
    // Channel 4 is the cascade to controller 1 and never transfers.
    assert_eq!(b.dma16_transfer(4, 0x1234), None);
    // Mode 45h: single transfer, increment, no auto-init, write (device to
    // memory), channel 1 of controller 2. Word address 8000h in page 12h:
    // A1–A16 = 8000h → byte 10000h, A17–A23 from page bits 1–7 → 120000h.
    setup_ch5(&mut b, 0x45, 0x8000, 0x12, 3);
    let words = [0xA1B2u16, 0xC3D4, 0xE5F6];
    for (n, w) in words.iter().enumerate() {
        let c = b.dma16_transfer(5, *w).unwrap();
        assert_eq!(c.kind, TransferType::Write);
        assert_eq!(c.address, 0x13_0000 + 2 * n as u32);
        assert_eq!(c.terminal_count, n == 2);
    }
    assert_eq!(
        &b.ram()[0x13_0000..0x13_0006],
        &[0xB2, 0xA1, 0xD4, 0xC3, 0xF6, 0xE5]
    );
    // Terminal count: status bit 1 (channel 5) set, the channel masked
    // itself (no auto-init), the current count rolled over to FFFFh.
    assert_eq!(b.io_read(0xD0) & 0x0F, 0x02);
    assert_eq!(b.dma16_transfer(5, 0), None);
    b.io_write(0xD8, 0);
    assert_eq!((b.io_read(0xC6), b.io_read(0xC6)), (0xFF, 0xFF));

    // Read transfer (mode 49h: memory to device) at the top of a 128 KiB
    // block: word address FFFFh is byte 1FFFEh of page 12h/13h (bit 0 of
    // the page is not an address bit); the next word wraps to the start
    // of the same block, not into the next one.
    b.ram_mut_slice()[0x13_FFFE..0x14_0000].copy_from_slice(&[0x34, 0x12]);
    b.ram_mut_slice()[0x12_0000..0x12_0002].copy_from_slice(&[0x78, 0x56]);
    b.ram_mut_slice()[0x14_0000..0x14_0002].copy_from_slice(&[0xEE, 0xEE]);
    setup_ch5(&mut b, 0x49, 0xFFFF, 0x13, 2);
    let c = b.dma16_transfer(5, 0).unwrap();
    assert_eq!(
        (c.kind, c.address, c.word),
        (TransferType::Read, 0x13_FFFE, 0x1234)
    );
    let c = b.dma16_transfer(5, 0).unwrap();
    assert_eq!(
        (c.address, c.word, c.terminal_count),
        (0x12_0000, 0x5678, true)
    );
}

#[test]
fn bad_sizes_are_errors() {
    assert_eq!(
        AtBoard::new(AtConfig::default(), vec![0; 1000]).err(),
        Some(AtError::BiosSize(1000))
    );
    let cfg = AtConfig {
        memory_mib: 3,
        ..AtConfig::default()
    };
    assert_eq!(
        AtBoard::new(cfg, vec![0; 0x10000]).err(),
        Some(AtError::Memory(3))
    );
    let cfg = AtConfig {
        clock_hz: 0,
        ..AtConfig::default()
    };
    assert_eq!(
        AtBoard::new(cfg, vec![0; 0x10000]).err(),
        Some(AtError::Clock(0))
    );
}

#[test]
fn missing_firmware_names_the_debian_package() {
    let empty = std::env::temp_dir().join("ironpc-no-firmware-here");
    let e = find_firmware(Path::new("BIOS-bochs-nonexistent"), &empty, Some(&empty))
        .unwrap_err()
        .to_string();
    assert!(e.contains("BIOS-bochs-nonexistent"), "{e}");
    assert!(e.contains("bochsbios"), "{e}");
    assert!(e.contains("IRONPC_FIRMWARE"), "{e}");
    let e = find_firmware(Path::new("vgabios-nonexistent.bin"), &empty, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'vgabios'"), "{e}");
    let e = find_firmware(Path::new("mystery.rom"), &empty, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("mystery.rom") && !e.contains("apt-get"), "{e}");
}

#[test]
fn firmware_found_in_env_dir_then_debian_dirs() {
    let dir = std::env::temp_dir().join(format!("ironpc-fw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("my-bios.bin"), [0u8; 16]).unwrap();
    let base = Path::new("/nonexistent");
    assert_eq!(
        find_firmware(Path::new("my-bios.bin"), base, Some(&dir)).unwrap(),
        dir.join("my-bios.bin")
    );
    // A path given relative to the profile's directory is used as it is.
    assert_eq!(
        find_firmware(Path::new("my-bios.bin"), &dir, None).unwrap(),
        dir.join("my-bios.bin")
    );
    std::fs::remove_dir_all(&dir).ok();
    let debian = Path::new("/usr/share/bochs/BIOS-bochs-latest");
    if debian.exists() {
        assert_eq!(
            find_firmware(Path::new("BIOS-bochs-latest"), base, None).unwrap(),
            debian
        );
    } else {
        let msg = "SKIPPED: bochsbios not installed; Debian-path lookup not checked";
        println!("{msg}");
        eprintln!("{msg}");
    }
}

/// A guest may write anything anywhere: random port and memory traffic of
/// every width, with time passing and interrupts acknowledged, never panics
/// the host (overflow checks are on in tests).
#[test]
fn random_guest_traffic_does_not_panic() {
    let mut b = board();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const PORTS: &[u16] = &[
        0x00, 0x08, 0x0B, 0x0D, 0x20, 0x21, 0x40, 0x41, 0x42, 0x43, 0x60, 0x61, 0x64, 0x70, 0x71,
        0x80, 0x81, 0x87, 0x8B, 0x92, 0xA0, 0xA1, 0xC0, 0xC4, 0xD0, 0xD4, 0xD6, 0xD8, 0xDA, 0xF0,
        0x3F2, 0x3F4, 0x3F5, 0x3F7, 0x402, 0x4D0, 0x4D1, 0x8900, 0xCF8, 0xCF9, 0xCFA, 0xCFC, 0xCFD,
        0xCFE, 0xCFF,
    ];
    for _ in 0..200_000 {
        let r = next();
        let port = if r & 1 == 0 {
            PORTS[(r >> 8) as usize % PORTS.len()]
        } else {
            (r >> 8) as u16
        };
        let size = [1u8, 2, 4, 3][(r >> 40) as usize & 3];
        let v = (r >> 16) as u32;
        match (r >> 4) & 7 {
            0..=2 => b.io_write_sized(port, size, v),
            3 | 4 => {
                b.io_read_sized(port, size);
            }
            5 => {
                let a = if r & 0x100 != 0 {
                    (r >> 20) as u32
                } else {
                    (r >> 20) as u32 & 0xF_FFFF
                };
                b.write(a, v as u8);
                b.read(a.wrapping_add(1));
            }
            6 => {
                let t = b.now + (r >> 50);
                b.advance_to(t);
            }
            _ => {
                if b.intr_pending() {
                    b.inta();
                }
                b.take_reset();
            }
        }
    }
}

/// `Bus::ram_direct` lends all of RAM with A20 on and nothing while it is
/// masked (the board keeps the RAM aside then, so that the lent slice
/// tests no gate): what was written on either side of a masked period
/// stays, the board's own paths and a saved state see the same RAM
/// whichever field holds it, and a state saved while masked loads into a
/// board with A20 on.
#[test]
fn ram_direct_lends_ram_only_while_a20_is_on() {
    let mut b = board();
    let size = b.ram().len();
    assert_eq!(b.ram_direct().len(), size);
    b.ram_direct()[0x10_0010] = 0x11;
    b.ram_direct()[0x10] = 0x22;
    b.io_write(0x64, 0xD1);
    b.io_write(0x60, 0xDD);
    assert!(!b.a20());
    assert!(b.ram_direct().is_empty());
    assert_eq!(b.ram().len(), size);
    assert_eq!((b.read(0x10_0010), b.read(0x10)), (0x22, 0x22));
    assert_eq!(b.ram()[0x10_0010], 0x11);
    b.write(0x10_0020, 0x33);
    assert_eq!(b.ram_mut(0x20, 1).unwrap()[0], 0x33);
    let masked = b.save_state();
    assert_eq!(masked.ram.len(), size);
    b.io_write(0x92, 0x02);
    assert!(b.a20());
    assert_eq!(b.ram_direct().len(), size);
    assert_eq!(
        (
            b.ram_direct()[0x10_0010],
            b.ram_direct()[0x10],
            b.ram_direct()[0x20]
        ),
        (0x11, 0x22, 0x33)
    );
    let on = b.save_state();
    // Into a board whose gate is on: the masked state's gate and RAM.
    let mut c = board();
    c.load_state(masked).unwrap();
    assert!(!c.a20());
    assert!(c.ram_direct().is_empty());
    assert_eq!((c.ram()[0x10_0010], c.ram()[0x20]), (0x11, 0x33));
    c.load_state(on).unwrap();
    assert!(c.a20());
    assert_eq!(c.ram_direct()[0x10_0010], 0x11);
    assert_eq!(c.ram_direct().len(), size);
}

/// `Bus::ram_mut` (the CPU's direct path to RAM) gives exactly the bytes
/// `read`/`write` reach: with A20 off, addresses from 1 MiB wrap to 0; in
/// F0000h–FFFFFh only shadow RAM that is read-write (i440FX PAM0 bits 5:4 =
/// 11b) is plain RAM, never read-only shadow (01b) or the ROM (00b), whose
/// writes must not land.
#[test]
fn ram_mut_follows_the_a20_gate_and_pam_shadowing() {
    let mut b = board();
    // A20 on (the 8042's reset value): 1 MiB up is RAM of its own.
    assert!(b.a20());
    b.ram_mut(0x10_0500, 4)
        .unwrap()
        .copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(b.read(0x500), 0);
    assert_eq!(b.read(0x10_0502), 3);
    // A20 off at the 8042: the same address names 0000:0500h.
    b.io_write(0x64, 0xD1);
    b.io_write(0x60, 0xDD);
    assert!(!b.a20());
    b.ram_mut(0x10_0500, 2).unwrap().copy_from_slice(&[9, 8]);
    assert_eq!((b.read(0x500), b.read(0x501)), (9, 8));
    assert_eq!(b.ram_mut(0x10_0502, 1).unwrap()[0], 0);
    // A range crossing the 1 MiB wrap is not one slice.
    assert!(b.ram_mut(0x1F_FFFE, 4).is_none());
    b.io_write(0x92, 0x02);
    assert!(b.a20());

    // The BIOS area: ROM (all FFh here) until PAM0 maps RAM there.
    assert!(b.ram_mut(0xF0000, 16).is_none());
    let pam0 = |b: &mut AtBoard, v: u8| {
        b.io_write_sized(0xCF8, 4, 0x8000_0058);
        b.io_write_sized(0xCFD, 1, v as u32);
    };
    // Write-only shadow (10b): reads still come from the ROM; copy the
    // BIOS's first bytes down as firmware does.
    pam0(&mut b, 0x20);
    assert!(b.ram_mut(0xF0000, 16).is_none());
    b.write(0xF0000, 0x5A);
    assert_eq!(b.read(0xF0000), 0xFF);
    // Read-write (11b): the RAM written before, directly.
    pam0(&mut b, 0x30);
    let s = b.ram_mut(0xF0000, 16).unwrap();
    assert_eq!(s[0], 0x5A);
    s[1] = 0xA5;
    assert_eq!(b.read(0xF0001), 0xA5);
    // Read-only (01b): reads from RAM, writes dropped, so no direct slice.
    pam0(&mut b, 0x10);
    assert!(b.ram_mut(0xF0000, 16).is_none());
    b.write(0xF0001, 0);
    assert_eq!(b.read(0xF0001), 0xA5);
    // The VGA window is never RAM.
    assert!(b.ram_mut(0xA0000, 16).is_none());
}
