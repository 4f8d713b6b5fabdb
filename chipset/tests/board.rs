//! Board-level tests: chips working together through their I/O ports.

use chipset::{Board, Machine, MachineError, MachineProfile, Overrides};
use cpu::Bus;
use devices::keyboard::DEFAULT_BYTE_INTERVAL;
use devices::{DriveType, FloppyImage, VideoKind};
use std::path::{Path, PathBuf};

fn board() -> Board {
    Board::new(
        640,
        VideoKind::Cga,
        &[DriveType::D360, DriveType::D360],
        false,
    )
}

/// Initialize the PIC as the PC BIOS does (vectors 08h–0Fh, edge triggered).
fn init_pic(b: &mut Board) {
    b.io_write(0x20, 0x13);
    b.io_write(0x21, 0x08);
    b.io_write(0x21, 0x09);
    b.io_write(0x21, 0x00);
}

#[test]
fn memory_map() {
    let mut b = board();
    b.map_rom(0xFE000, vec![0xEA; 8192], PathBuf::from("bios"));
    b.write(0x9FFFF, 0x12);
    assert_eq!(b.read(0x9FFFF), 0x12, "top of 640K RAM");
    b.write(0xA0000, 0x12);
    assert_eq!(b.read(0xA0000), 0xFF, "unmapped reads FFh");
    b.write(0xFE000, 0x00);
    assert_eq!(b.read(0xFE000), 0xEA, "ROM ignores writes");
    assert_eq!(b.read(0xFFFFF), 0xEA);
    b.write(0xB8000, b'X');
    assert_eq!(b.read(0xB8000), b'X');
    assert_eq!(b.read(0xBC000), b'X', "16K CGA memory mirrored");
    assert!(b.video.screen_text().starts_with('X'));
    // Addresses wrap at 1 MiB.
    assert_eq!(b.read(0x1FFFFF), 0xEA);
}

#[test]
fn timer_interrupt_through_pic() {
    let mut b = board();
    init_pic(&mut b);
    // Counter 0, mode 3, count 100.
    b.io_write(0x43, 0x36);
    b.io_write(0x40, 100);
    b.io_write(0x40, 0);
    let mut irqs = 0;
    // 1000 PIT clocks = 4000 CPU cycles: ten periods.
    for _ in 0..1000 {
        b.advance(4);
        if b.pic.int_pending() {
            assert_eq!(b.inta(), 0x08);
            irqs += 1;
            b.io_write(0x20, 0x20);
        }
    }
    assert!((9..=10).contains(&irqs), "{irqs} timer interrupts");
    // Masked: no interrupt reaches the CPU.
    b.io_write(0x21, 0x01);
    b.advance(4000);
    assert!(!b.pic.int_pending());
}

#[test]
fn timer2_gate_and_output_on_port_c() {
    let mut b = board();
    b.io_write(0x43, 0xB6); // counter 2, mode 3
    b.io_write(0x42, 8);
    b.io_write(0x42, 0);
    b.io_write(0x61, 0x00); // gate closed
    b.advance(400);
    assert_eq!(b.io_read(0x62) & 0x20, 0x20, "gate low holds mode 3 high");
    b.io_write(0x61, 0x03); // gate open, speaker on
    let mut lows = 0;
    for _ in 0..64 {
        b.advance(4);
        if b.io_read(0x62) & 0x20 == 0 {
            lows += 1;
        }
    }
    assert_eq!(lows, 32, "square wave: low half the time");
    assert!(b.speaker.toggles > 0);
}

#[test]
fn keyboard_through_ppi_and_irq1() {
    let mut b = board();
    init_pic(&mut b);
    b.io_write(0x61, 0x48); // clock enabled, not clearing
    b.type_keys("a").unwrap();
    b.advance(20_000);
    assert!(b.pic.int_pending());
    assert_eq!(b.inta(), 0x09);
    assert_eq!(b.io_read(0x60), 0x1E);
    // Acknowledge as the BIOS does: pulse port B bit 7.
    b.io_write(0x61, 0xC8);
    b.io_write(0x61, 0x48);
    b.io_write(0x20, 0x20);
    // The next byte follows after the keyboard's byte interval.
    b.advance(DEFAULT_BYTE_INTERVAL / 2);
    assert!(!b.pic.int_pending());
    b.advance(DEFAULT_BYTE_INTERVAL);
    assert!(b.pic.int_pending());
    b.inta();
    assert_eq!(b.io_read(0x60), 0x9E, "break code");
}

#[test]
fn switches_read_through_port_c() {
    let mut b = board();
    b.io_write(0x61, 0x00);
    let lo = b.io_read(0x62) & 0x0F;
    b.io_write(0x61, 0x08);
    let hi = b.io_read(0x62) & 0x0F;
    let sw = lo | hi << 4;
    assert_eq!(sw & 0x01, 0x01, "diskettes present");
    assert_eq!(sw >> 6, 1, "two drives");
    assert_eq!((sw >> 4) & 3, 2, "CGA 80x25");
}

/// A 360K image with the sector's CHS in its first bytes.
fn image() -> FloppyImage {
    let mut data = vec![0u8; 360 * 1024];
    for lba in 0..720 {
        let c = lba / 18;
        let h = (lba / 9) % 2;
        let r = lba % 9 + 1;
        let o = lba * 512;
        data[o] = c as u8;
        data[o + 1] = h as u8;
        data[o + 2] = r as u8;
        data[o + 511] = 0x55;
    }
    FloppyImage::from_bytes(Path::new("synthetic.img"), data).unwrap()
}

fn fdc_cmd(b: &mut Board, bytes: &[u8]) {
    for &v in bytes {
        assert_eq!(b.io_read(0x3F4) & 0xC0, 0x80, "RQM, CPU to controller");
        b.io_write(0x3F5, v);
    }
}

fn fdc_result(b: &mut Board) -> Vec<u8> {
    let mut r = Vec::new();
    while b.io_read(0x3F4) & 0xC0 == 0xC0 {
        r.push(b.io_read(0x3F5));
    }
    r
}

#[test]
fn floppy_read_sector_via_dma_to_memory() {
    let mut b = board();
    init_pic(&mut b);
    b.fdc.insert(0, Some(image()));
    // Reset the controller, enable DMA/IRQ, motor A on.
    b.io_write(0x3F2, 0x00);
    b.io_write(0x3F2, 0x1C);
    b.advance(10_000);
    assert!(b.pic.int_pending(), "reset interrupt on IRQ 6");
    assert_eq!(b.inta(), 0x0E);
    b.io_write(0x20, 0x20);
    for d in 0..4 {
        fdc_cmd(&mut b, &[0x08]);
        assert_eq!(fdc_result(&mut b), vec![0xC0 | d, 0]);
    }
    // Seek to cylinder 1.
    fdc_cmd(&mut b, &[0x0F, 0x00, 1]);
    b.advance(10_000);
    assert_eq!(b.inta(), 0x0E);
    b.io_write(0x20, 0x20);
    fdc_cmd(&mut b, &[0x08]);
    assert_eq!(fdc_result(&mut b), vec![0x20, 1]);
    // DMA channel 2: write to memory at 0x1_7C00, 512 bytes (count 511).
    b.io_write(0x0A, 0x06);
    b.io_write(0x0C, 0x00);
    b.io_write(0x0B, 0x46);
    b.io_write(0x04, 0x00);
    b.io_write(0x04, 0x7C);
    b.io_write(0x81, 0x01);
    b.io_write(0x05, 0xFF);
    b.io_write(0x05, 0x01);
    b.io_write(0x0A, 0x02);
    // Read data: C=1 H=1 R=4, N=2, EOT=4 (one sector).
    fdc_cmd(&mut b, &[0x66, 0x04, 1, 1, 4, 2, 4, 0x2A, 0xFF]);
    assert_eq!(b.read(0x17C00), 1);
    assert_eq!(b.read(0x17C01), 1);
    assert_eq!(b.read(0x17C02), 4);
    assert_eq!(b.read(0x17DFF), 0x55);
    assert_eq!(b.read(0x17E00), 0x00, "exactly 512 bytes moved");
    assert!(b.pic.int_pending(), "completion interrupt");
    assert_eq!(
        b.io_read(0x08) & 0x04,
        0x04,
        "DMA terminal count on channel 2"
    );
    let r = fdc_result(&mut b);
    // Normal termination, head 1; next sector is cylinder 2, head 1, sector 1.
    assert_eq!(r, vec![0x04, 0x00, 0x00, 2, 1, 1, 2]);
}

/// The machine's CPU keeps decoded instructions: code that DMA replaces
/// (a floppy sector read over a routine that already ran) must run as its
/// new bytes, as must code written into memory from outside the CPU.
#[test]
fn code_replaced_by_dma_runs_as_its_new_bytes() {
    // ROM at F000:E000: set up a stack, then forever call the routine at
    // 0000:7C00 and store its AL at 0000:0500.
    let mut rom = vec![0xF4; 8192];
    let code = [
        0xFA, // cli
        0x31, 0xC0, // xor ax, ax
        0x8E, 0xD0, // mov ss, ax
        0xBC, 0x00, 0x70, // mov sp, 7000h
        0x8E, 0xD8, // mov ds, ax
        0x9A, 0x00, 0x7C, 0x00, 0x00, // L: call far 0000:7C00
        0xA2, 0x00, 0x05, // mov [0500h], al
        0xEB, 0xF6, // jmp L
    ];
    rom[..code.len()].copy_from_slice(&code);
    rom[0x1FF0..0x1FF5].copy_from_slice(&[0xEA, 0x00, 0xE0, 0x00, 0xF0]); // jmp far F000:E000
    let rom = write_temp("dma-code.rom", &rom);
    let mut m = Machine::from_config(profile_with(&rom), &Overrides::default()).unwrap();
    assert!(m.cpu.decode_cache_enabled());
    let run = |m: &mut Machine| {
        for _ in 0..200 {
            m.step();
        }
        m.read(0x500)
    };
    // Written from outside: mov al, 1 ; retf
    for (i, b) in [0xB0, 0x01, 0xCB].into_iter().enumerate() {
        m.write(0x7C00 + i as u32, b);
    }
    assert_eq!(run(&mut m), 1);
    for (i, b) in [0xB0, 0x02, 0xCB].into_iter().enumerate() {
        m.write(0x7C00 + i as u32, b);
    }
    assert_eq!(run(&mut m), 2, "a routine rewritten from outside the CPU");
    // A disk whose every sector holds: mov al, 42h ; retf
    let mut data = vec![0u8; 360 * 1024];
    for sector in data.chunks_mut(512) {
        sector[..3].copy_from_slice(&[0xB0, 0x42, 0xCB]);
    }
    m.insert_floppy(
        0,
        Some(FloppyImage::from_bytes(Path::new("code.img"), data).unwrap()),
    );
    let b = &mut m.board;
    b.io_write(0x3F2, 0x00);
    b.io_write(0x3F2, 0x1C);
    b.advance(10_000);
    for _ in 0..4 {
        fdc_cmd(b, &[0x08]);
        fdc_result(b);
    }
    // DMA channel 2 writes one sector to 0000:7C00.
    for (port, v) in [
        (0x0A, 0x06),
        (0x0C, 0x00),
        (0x0B, 0x46),
        (0x04, 0x00),
        (0x04, 0x7C),
        (0x81, 0x00),
        (0x05, 0xFF),
        (0x05, 0x01),
        (0x0A, 0x02),
    ] {
        b.io_write(port, v);
    }
    fdc_cmd(b, &[0x66, 0x00, 0, 0, 1, 2, 1, 0x2A, 0xFF]);
    fdc_result(b);
    assert_eq!(m.read(0x7C01), 0x42, "the sector is in memory");
    assert_eq!(run(&mut m), 0x42, "the routine DMA wrote runs");
}

/// Only conventional RAM is lent for bulk string moves: not video memory,
/// not ROM, not a range running past the end of RAM.
#[test]
fn only_conventional_ram_is_lent_for_string_moves() {
    let mut b = board();
    b.map_rom(0xFE000, vec![0xEA; 8192], PathBuf::from("bios"));
    b.write(0x9FFF0, 0x12);
    assert_eq!(b.ram_mut(0x9FFF0, 16).map(|m| m[0]), Some(0x12));
    assert!(b.ram_mut(0x9FFF8, 16).is_none(), "past the end of 640K");
    assert!(b.ram_mut(0xB8000, 2).is_none(), "video memory");
    assert!(b.ram_mut(0xFE000, 2).is_none(), "ROM");
}

#[test]
fn debug_ports() {
    let mut b = board();
    for &c in b"hi" {
        b.io_write(0xE9, c);
    }
    assert_eq!(b.debug.console, b"hi");
    b.io_write(0xF4, 0x00);
    assert_eq!(b.debug.exit, Some(1));
    b.io_write(0xA0, 0x80);
    assert_eq!(b.io_read(0xA0), 0x80);
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ironpc-board-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn profile_with(bios: &Path) -> MachineProfile {
    MachineProfile::parse(
        &format!(
            "cpu: '8088'\nram_kib: 256\nbios: {}\nfloppies:\n  - type: 360k\n",
            bios.display()
        ),
        Path::new("test.yaml"),
    )
    .unwrap()
}

#[test]
fn bios_errors_name_the_file() {
    let missing = Path::new("/no/such/bios.rom");
    let e = Machine::from_config(profile_with(missing), &Overrides::default()).unwrap_err();
    assert!(matches!(e, MachineError::RomIo { .. }));
    assert!(e.to_string().contains("/no/such/bios.rom"), "{e}");
    let odd = write_temp("odd.rom", &[0; 1000]);
    let e = Machine::from_config(profile_with(&odd), &Overrides::default()).unwrap_err();
    assert!(
        e.to_string().contains("odd.rom") && e.to_string().contains("1000"),
        "{e}"
    );
    let bad_img = write_temp("bad.img", &[0; 12345]);
    let good = write_temp("good.rom", &[0xCC; 8192]);
    let o = Overrides {
        floppies: vec![(0, bad_img)],
        ..Default::default()
    };
    let e = Machine::from_config(profile_with(&good), &o).unwrap_err();
    assert!(e.to_string().contains("bad.img"), "{e}");
}

#[test]
fn bios_is_mapped_to_end_at_top_of_memory() {
    let mut rom = vec![0u8; 8192];
    rom[0] = 0x11;
    rom[8191] = 0x22;
    let p = write_temp("top.rom", &rom);
    let mut m = Machine::from_config(profile_with(&p), &Overrides::default()).unwrap();
    assert_eq!(m.read(0xFE000), 0x11);
    assert_eq!(m.read(0xFFFFF), 0x22);
    assert_eq!(m.read(0xFDFFF), 0xFF);
    assert_eq!(m.board.ram.len(), 256 * 1024);
    assert_eq!(m.cs_ip(), (0xFFFF, 0));
}

/// The board passes runs of PIT clocks in which nothing but counting
/// happens in one step; what it shows of the timer (counts read through the
/// ports, IRQ 0 edges, `Board::pit`) must be what clocking every input clock
/// gives.
#[test]
fn the_board_timer_matches_a_timer_clocked_each_tick() {
    use chipset::pit::Pit;
    let mut b = board();
    init_pic(&mut b);
    let mut reference = Pit::new(false);
    let mut irq0_edges = (0, 0);
    let mut last_out0 = reference.out(0);
    let write = |b: &mut Board, r: &mut Pit, port: u16, v: u8| {
        b.io_write(port, v);
        r.write(port & 3, v);
    };
    // Counter 0: mode 2 with a short period; counter 2: mode 3 (gate
    // opened through port 61h); counter 1 left as reset.
    write(&mut b, &mut reference, 0x43, 0x34);
    write(&mut b, &mut reference, 0x40, 37);
    write(&mut b, &mut reference, 0x40, 0);
    write(&mut b, &mut reference, 0x43, 0xB6);
    write(&mut b, &mut reference, 0x42, 11);
    write(&mut b, &mut reference, 0x42, 0);
    b.io_write(0x61, 0x01);
    reference.set_gate(2, true);
    let mut ticks_done = b.sched.pit_ticks;
    for step in 1..3000u64 {
        b.advance(step % 97 + 1);
        while ticks_done < b.sched.pit_ticks {
            reference.clock();
            ticks_done += 1;
            if reference.out(0) && !last_out0 {
                irq0_edges.0 += 1;
            }
            last_out0 = reference.out(0);
        }
        if b.pic.irr & 1 != 0 {
            irq0_edges.1 += 1;
            // Acknowledge so the next edge is seen.
            b.pic.acknowledge();
            b.io_write(0x20, 0x20);
        }
        assert_eq!(
            format!("{:?}", b.pit().counters),
            format!("{:?}", reference.counters),
            "after {step} advances"
        );
        if step % 7 == 0 {
            // A latched read through the ports.
            write(&mut b, &mut reference, 0x43, 0x00);
            let lo = (b.io_read(0x40), reference.read(0));
            let hi = (b.io_read(0x40), reference.read(0));
            assert_eq!((lo.0, hi.0), (lo.1, hi.1), "after {step} advances");
        }
    }
    assert!(irq0_edges.0 > 100, "{irq0_edges:?}");
    assert!(irq0_edges.1 > 100, "{irq0_edges:?}");
}

#[test]
fn board_state_round_trips_through_serde() {
    let mut b = board();
    init_pic(&mut b);
    b.io_write(0x43, 0x36);
    b.io_write(0x40, 0x00);
    b.io_write(0x40, 0x10);
    b.advance(1000);
    let json = serde_json::to_string(&b).unwrap();
    let mut c: Board = serde_json::from_str(&json).unwrap();
    b.advance(5000);
    c.advance(5000);
    assert_eq!(b.pit().counters[0].count(), c.pit().counters[0].count());
    assert_eq!(b.pic.irr, c.pic.irr);
}

#[test]
fn the_machine_and_its_profile_agree_on_the_timing_model() {
    let rom = write_temp("timing.rom", &[0xF4; 8192]);
    let exact = Overrides {
        timing: Some("exact".into()),
        ..Default::default()
    };
    // A fast machine refuses a profile (or override) asking for the exact model.
    let e = Machine::from_config(profile_with(&rom), &exact).unwrap_err();
    assert!(e.to_string().contains("'exact'"), "{e}");
    // The exact machine runs the same board.
    let mut m: Machine<cpu::ExactTiming> =
        Machine::from_config_timed(profile_with(&rom), &exact).unwrap();
    m.run_for(1000);
    assert!(m.cycles() >= 1000);
    // The exact model is for the 8086 and 8088 only.
    let mut p = profile_with(&rom);
    p.cpu = "80286".into();
    let e = Machine::<cpu::ExactTiming>::from_config_timed(p, &exact).unwrap_err();
    assert!(e.to_string().contains("8086/8088"), "{e}");
}

/// DRAM refresh as the XT BIOS sets it up: counter 1 in mode 2 with count
/// 18 raises its output once every 18 PIT clocks (72 CPU clocks), each
/// rising edge makes DMA channel 0 (single mode, auto-init, count FFFFh)
/// step its address, and takes 4 clocks from the CPU. Over 72 000 PIT
/// clocks that is exactly 4000 transfers (the first edge comes 18 clocks
/// after the load), however the time is passed, and the CPU's waits add up
/// to 16 000 clocks.
#[test]
fn refresh_cycles_step_dma_channel_0_once_per_period() {
    for chunk in [1u64, 7, 72, 1000, 288_000] {
        let mut b = board();
        b.io_write(0x43, 0x54); // counter 1, LSB only, mode 2
        b.io_write(0x41, 18);
        b.io_write(0x0C, 0); // byte flip-flop
        b.io_write(0x00, 0); // channel 0 address 0000h
        b.io_write(0x00, 0);
        b.io_write(0x01, 0xFF); // count FFFFh
        b.io_write(0x01, 0xFF);
        b.io_write(0x0B, 0x58); // channel 0: single, auto-init, read
        b.io_write(0x0A, 0x00); // unmask channel 0
        b.wait_cycles = 0;
        // One PIT clock loads the count; the next 72 000 run it.
        let start = b.now();
        b.advance(4 - start % 4);
        let mut stalls = 0;
        let mut left = 288_000u64;
        while left > 0 {
            let n = chunk.min(left);
            b.advance(n);
            left -= n;
            stalls += std::mem::take(&mut b.wait_cycles);
        }
        b.io_write(0x0C, 0);
        let lo = b.io_read(0x00) as u16;
        let hi = b.io_read(0x00) as u16;
        assert_eq!(hi << 8 | lo, 4000, "chunks of {chunk}");
        assert_eq!(stalls, 16_000, "chunks of {chunk}");
    }
}
