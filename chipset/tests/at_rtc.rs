//! The MC146818A RTC/CMOS through ports 70h/71h (Motorola MC146818A
//! datasheet: register A divider and rate-select table, register B modes,
//! register C flags, the update cycle and UIP timing).

use chipset::at::{AtBoard, AtConfig};
use cpu::Bus;
use devices::RtcTime;

/// A board whose CPU clock is 1 MHz, so that one cycle is one microsecond.
fn board_at(start: RtcTime) -> AtBoard {
    let cfg = AtConfig {
        clock_hz: 1_000_000,
        rtc_start: start,
        ..AtConfig::default()
    };
    AtBoard::new(cfg, vec![0xFF; 0x10000]).unwrap()
}

fn board() -> AtBoard {
    board_at(RtcTime::default())
}

fn rd(b: &mut AtBoard, reg: u8) -> u8 {
    b.io_write(0x70, reg);
    b.io_read(0x71)
}

fn wr(b: &mut AtBoard, reg: u8, v: u8) {
    b.io_write(0x70, reg);
    b.io_write(0x71, v);
}

/// Periodic interrupt periods from the datasheet's rate table (32.768 kHz
/// time base), in microseconds, for RS = 1..15.
const PERIOD_US: [f64; 15] = [
    3906.25, 7812.5, 122.070, 244.141, 488.281, 976.5625, 1953.125, 3906.25, 7812.5, 15625.0,
    31250.0, 62500.0, 125000.0, 250000.0, 500000.0,
];

#[test]
fn periodic_flag_follows_the_rate_select_table() {
    for (i, &us) in PERIOD_US.iter().enumerate() {
        let rs = i as u8 + 1;
        let mut b = board();
        wr(&mut b, 0x0A, 0x20 | rs);
        wr(&mut b, 0x0B, 0x02); // PIE off: the flag still sets
        rd(&mut b, 0x0C);
        b.advance_to(us.floor() as u64 - 1);
        assert_eq!(rd(&mut b, 0x0C) & 0x40, 0, "RS {rs}: PF before one period");
        b.advance_to(us.ceil() as u64 + 1);
        let c = rd(&mut b, 0x0C);
        assert_eq!(c & 0x40, 0x40, "RS {rs}: PF after one period");
        assert_eq!(c & 0x80, 0, "RS {rs}: no IRQF with PIE clear");
    }
}

#[test]
fn rs_zero_gives_no_periodic_flag() {
    let mut b = board();
    wr(&mut b, 0x0A, 0x20);
    rd(&mut b, 0x0C);
    b.advance_to(600_000);
    assert_eq!(rd(&mut b, 0x0C) & 0x40, 0);
}

#[test]
fn periodic_interrupt_1024_hz_gives_1024_irq8_per_second() {
    let mut b = board();
    // PICs as the AT BIOS sets them up, IRQ 8 unmasked.
    for (p, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        b.io_write(p, v);
    }
    for (p, v) in [(0xA0, 0x11), (0xA1, 0x70), (0xA1, 0x02), (0xA1, 0x01)] {
        b.io_write(p, v);
    }
    b.io_write(0x21, 0xFB);
    b.io_write(0xA1, 0xFE);
    wr(&mut b, 0x0A, 0x26); // 976.5625 µs
    wr(&mut b, 0x0B, 0x42); // PIE, 24 h
    let mut irqs = 0;
    while let Some(t) = b.next_deadline() {
        if t > 1_000_000 {
            break;
        }
        b.advance_to(t);
        if b.intr_pending() {
            assert_eq!(b.inta(), 0x70);
            irqs += 1;
            let c = rd(&mut b, 0x0C);
            assert_eq!(c & 0xC0, 0xC0, "IRQF and PF");
            b.io_write(0xA0, 0x20);
            b.io_write(0x20, 0x20);
        }
    }
    assert_eq!(irqs, 1024);
}

#[test]
fn update_cycle_carries_through_midnight_and_the_month_in_bcd() {
    let start = RtcTime::parse("2026-12-31 23:59:59").unwrap();
    let mut b = board_at(start);
    assert_eq!(rd(&mut b, 0x00), 0x59);
    assert_eq!(rd(&mut b, 0x04), 0x23);
    // The first update comes one second after power-on.
    b.advance_to(999_000);
    assert_eq!(rd(&mut b, 0x00), 0x59);
    b.advance_to(1_000_001);
    let regs: Vec<u8> = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09]
        .iter()
        .map(|&r| rd(&mut b, r))
        .collect();
    // 2027-01-01 00:00:00 is a Friday (day 6, Sunday = 1).
    assert_eq!(regs, [0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x27]);
    assert_eq!(rd(&mut b, 0x0C) & 0x10, 0x10, "UF set by the update");
}

#[test]
fn binary_mode_and_12_hour_mode() {
    let mut b = board();
    // SET, binary, 12-hour; write 11:59:59 PM = hour 11 | PM bit.
    wr(&mut b, 0x0B, 0x84);
    wr(&mut b, 0x00, 59);
    wr(&mut b, 0x02, 59);
    wr(&mut b, 0x04, 0x80 | 11);
    wr(&mut b, 0x0B, 0x04);
    b.advance_to(1_000_001);
    assert_eq!(rd(&mut b, 0x00), 0);
    assert_eq!(rd(&mut b, 0x02), 0);
    // 12 AM: hour 12 without the PM bit.
    assert_eq!(rd(&mut b, 0x04), 12);
    // The same in BCD 12-hour mode: 11:59:59 AM → 12:00:00 PM = 92h.
    let mut b = board();
    wr(&mut b, 0x0B, 0x80);
    wr(&mut b, 0x00, 0x59);
    wr(&mut b, 0x02, 0x59);
    wr(&mut b, 0x04, 0x11);
    wr(&mut b, 0x0B, 0x00);
    b.advance_to(1_000_001);
    assert_eq!(rd(&mut b, 0x04), 0x92);
}

#[test]
fn uip_is_set_244_us_before_the_update() {
    let mut b = board();
    b.advance_to(1_000_000 - 500);
    assert_eq!(rd(&mut b, 0x0A) & 0x80, 0);
    b.advance_to(1_000_000 - 200);
    assert_eq!(rd(&mut b, 0x0A) & 0x80, 0x80);
    b.advance_to(1_000_000 + 10);
    assert_eq!(rd(&mut b, 0x0A) & 0x80, 0);
}

#[test]
fn set_bit_holds_the_clock_and_clears_uie() {
    let mut b = board();
    wr(&mut b, 0x0B, 0x12); // UIE
    wr(&mut b, 0x0B, 0x92); // SET with UIE: UIE is cleared
    assert_eq!(rd(&mut b, 0x0B), 0x82);
    b.advance_to(3_000_000);
    assert_eq!(rd(&mut b, 0x00), 0x00, "no seconds pass under SET");
    wr(&mut b, 0x0B, 0x02);
    b.advance_to(4_000_001);
    assert_eq!(rd(&mut b, 0x00), 0x01);
}

#[test]
fn divider_reset_delays_the_first_update_by_half_a_second() {
    let mut b = board();
    wr(&mut b, 0x0A, 0x70); // divider in reset
    b.advance_to(2_000_000);
    assert_eq!(rd(&mut b, 0x00), 0x00);
    wr(&mut b, 0x0A, 0x26);
    b.advance_to(2_499_000);
    assert_eq!(rd(&mut b, 0x00), 0x00);
    b.advance_to(2_500_001);
    assert_eq!(rd(&mut b, 0x00), 0x01);
}

#[test]
fn alarm_with_dont_care_bytes_and_irq_lines() {
    let mut b = board();
    wr(&mut b, 0x01, 0x03); // seconds alarm 03
    wr(&mut b, 0x03, 0xC0); // any minute
    wr(&mut b, 0x05, 0xFF); // any hour
    wr(&mut b, 0x0B, 0x22); // AIE
    rd(&mut b, 0x0C);
    b.advance_to(2_000_001);
    assert_eq!(rd(&mut b, 0x0C) & 0xA0, 0, "no alarm at 00:00:02");
    b.advance_to(3_000_001);
    assert_eq!(rd(&mut b, 0x0C) & 0xA0, 0xA0, "alarm and IRQF at 00:00:03");
    // Register C reads as zero once read.
    assert_eq!(rd(&mut b, 0x0C), 0);
}

#[test]
fn update_interrupt_once_a_second() {
    let mut b = board();
    wr(&mut b, 0x0A, 0x20); // no periodic rate
    wr(&mut b, 0x0B, 0x12);
    b.advance_to(500_000);
    assert_eq!(rd(&mut b, 0x0C), 0);
    assert_eq!(b.next_deadline(), Some(1_000_000));
    b.advance_to(1_000_000);
    assert_eq!(rd(&mut b, 0x0C), 0x90);
}

#[test]
fn register_d_reports_valid_ram_and_nmi_mask_bit() {
    let mut b = board();
    assert_eq!(rd(&mut b, 0x0D), 0x80);
    b.raise_nmi();
    assert!(b.nmi_pending());
    b.io_write(0x70, 0x8F);
    assert!(!b.nmi_pending(), "port 70h bit 7 masks NMI");
    b.io_write(0x70, 0x0F);
    assert!(b.nmi_pending());
}

#[test]
fn nvram_fields_for_the_bios() {
    let cfg = AtConfig {
        memory_mib: 64,
        rtc_start: RtcTime::parse("2026-12-05 12:00:00").unwrap(),
        ..AtConfig::default()
    };
    let mut b = AtBoard::new(cfg, vec![0xFF; 0x10000]).unwrap();
    let r: Vec<u8> = (0..128).map(|i| rd(&mut b, i)).collect();
    assert_eq!(r[0x10], 0x40, "A: 1.44M (type 4), no B:");
    assert_eq!(r[0x14] & 0xC1, 0x01, "one floppy drive");
    assert_eq!(r[0x14] & 0x02, 0x02, "coprocessor");
    assert_eq!(u16::from_le_bytes([r[0x15], r[0x16]]), 640);
    // 64 MiB: 63 MiB above 1 MiB = 64512 KiB; 48 MiB above 16 MiB = 768 × 64 KiB.
    assert_eq!(u16::from_le_bytes([r[0x17], r[0x18]]), 64512);
    assert_eq!(u16::from_le_bytes([r[0x30], r[0x31]]), 64512);
    assert_eq!(u16::from_le_bytes([r[0x34], r[0x35]]), 768);
    assert_eq!(r[0x32], 0x20, "century in BCD");
    assert_eq!(r[0x3D], 0x21, "boot floppy then hard disk");
    assert_eq!(r[0x38] >> 4, 3, "then CD-ROM");
    let sum: u16 = r[0x10..=0x2D].iter().map(|&x| x as u16).sum();
    assert_eq!(u16::from_be_bytes([r[0x2E], r[0x2F]]), sum);
    // 2026-12-05 was a Saturday (7).
    assert_eq!(r[0x06], 0x07);
    assert_eq!((r[0x07], r[0x08], r[0x09]), (0x05, 0x12, 0x26));
}
