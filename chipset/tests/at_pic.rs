//! The AT's cascaded 8259A pair through the board's ports (Intel 8259A
//! datasheet; IBM PC/AT technical reference for the wiring: the slave's INT
//! on the master's IR2, vectors 08h and 70h).

use chipset::at::{AtBoard, AtConfig};
use cpu::Bus;

fn board() -> AtBoard {
    AtBoard::new(AtConfig::default(), vec![0xFF; 0x10000]).unwrap()
}

/// Program both controllers as the AT BIOS does: edge-triggered,
/// cascaded, ICW4 8086 mode; master vectors 08h–0Fh with the slave on IR2,
/// slave vectors 70h–77h with identity 2. `master_icw4` lets a test set SFNM.
fn init(b: &mut AtBoard, master_icw4: u8) {
    for (port, v) in [
        (0x20, 0x11),
        (0x21, 0x08),
        (0x21, 0x04),
        (0x21, master_icw4),
    ] {
        b.io_write(port, v);
    }
    for (port, v) in [(0xA0, 0x11), (0xA1, 0x70), (0xA1, 0x02), (0xA1, 0x01)] {
        b.io_write(port, v);
    }
}

fn isr(b: &mut AtBoard, master: bool) -> u8 {
    let port = if master { 0x20 } else { 0xA0 };
    b.io_write(port, 0x0B); // OCW3: read ISR
    let v = b.io_read(port);
    b.io_write(port, 0x0A); // back to IRR
    v
}

#[test]
fn slave_interrupt_goes_through_master_ir2() {
    let mut b = board();
    init(&mut b, 0x01);
    assert!(!b.intr_pending());
    b.pics.set_irq(8, true);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x70);
    assert_eq!(isr(&mut b, true), 0x04, "master: IR2 in service");
    assert_eq!(isr(&mut b, false), 0x01, "slave: IR0 in service");
}

#[test]
fn slave_irqs_rank_between_irq1_and_irq3() {
    let mut b = board();
    init(&mut b, 0x01);
    b.pics.set_irq(3, true);
    b.pics.set_irq(10, true);
    // IRQ 10 (through IR2) outranks IRQ 3.
    assert_eq!(b.inta(), 0x72);
    // IRQ 3 is below IR2, which is in service.
    assert!(!b.intr_pending());
    // IRQ 1 is above IR2: it nests.
    b.pics.set_irq(1, true);
    assert_eq!(b.inta(), 0x09);
    b.io_write(0x20, 0x20); // EOI for IRQ 1
    assert!(!b.intr_pending());
    // An EOI to the slave alone leaves the master's IR2 in service.
    b.io_write(0xA0, 0x20);
    assert_eq!(isr(&mut b, false), 0);
    assert_eq!(isr(&mut b, true), 0x04);
    assert!(!b.intr_pending(), "IRQ 3 still held off by IR2 in service");
    b.io_write(0x20, 0x20);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x0B);
}

#[test]
fn specific_eoi_and_masking() {
    let mut b = board();
    init(&mut b, 0x01);
    b.io_write(0xA1, 0x04); // mask IRQ 10
    b.pics.set_irq(10, true);
    assert!(!b.intr_pending());
    b.io_write(0xA1, 0x00);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x72);
    // Specific EOI (OCW2 011 + level 2) on the slave clears exactly IR2.
    b.io_write(0xA0, 0x62);
    assert_eq!(isr(&mut b, false), 0);
    b.io_write(0x20, 0x62);
    assert_eq!(isr(&mut b, true), 0);
}

#[test]
fn automatic_eoi_sets_no_isr_bit() {
    let mut b = board();
    init(&mut b, 0x03); // master ICW4: AEOI
    b.pics.set_irq(4, true);
    assert_eq!(b.inta(), 0x0C);
    assert_eq!(isr(&mut b, true), 0);
}

#[test]
fn poll_mode_reads_the_highest_request() {
    let mut b = board();
    init(&mut b, 0x01);
    b.pics.set_irq(5, true);
    b.io_write(0x20, 0x0C); // OCW3 with P
                            // Poll word: bit 7 = request, bits 0–2 = its level; it acknowledges.
    assert_eq!(b.io_read(0x20), 0x85);
    assert_eq!(isr(&mut b, true), 0x20);
}

#[test]
fn special_fully_nested_mode_lets_a_higher_slave_request_in() {
    // Without SFNM the master blocks a second slave request while IR2 is
    // in service; with SFNM (ICW4 bit 4) a higher-priority slave request
    // gets through.
    for (icw4, expect) in [(0x01, None), (0x11, Some(0x70))] {
        let mut b = board();
        init(&mut b, icw4);
        b.pics.set_irq(10, true);
        assert_eq!(b.inta(), 0x72);
        b.pics.set_irq(8, true);
        if let Some(v) = expect {
            assert!(b.intr_pending(), "icw4 {icw4:02X}");
            assert_eq!(b.inta(), v);
        } else {
            assert!(!b.intr_pending(), "icw4 {icw4:02X}");
        }
    }
}

#[test]
fn elcr_makes_lines_level_triggered() {
    let mut b = board();
    init(&mut b, 0x01);
    // Reserved bits: IRQ 0–2 and 8, 13 are always edge (PIIX3 datasheet).
    b.io_write(0x4D0, 0xFF);
    b.io_write(0x4D1, 0xFF);
    assert_eq!(b.io_read(0x4D0), 0xF8);
    assert_eq!(b.io_read(0x4D1), 0xDE);
    b.io_write(0x4D0, 0x00);
    b.io_write(0x4D1, 0x08); // IRQ 11 level, IRQ 10 edge
    b.pics.set_irq(11, true);
    b.pics.set_irq(10, true);
    assert_eq!(b.inta(), 0x72);
    b.io_write(0xA0, 0x20);
    b.io_write(0x20, 0x20);
    assert_eq!(b.inta(), 0x73);
    b.io_write(0xA0, 0x20);
    b.io_write(0x20, 0x20);
    // IRQ 11's line is still high: it requests again; edge IRQ 10 does not.
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x73);
    b.io_write(0xA0, 0x20);
    b.io_write(0x20, 0x20);
    b.pics.set_irq(11, false);
    assert!(!b.intr_pending());
}

#[test]
fn irq2_is_routed_to_irq9() {
    let mut b = board();
    init(&mut b, 0x01);
    b.pics.set_irq(2, true);
    assert_eq!(b.inta(), 0x71);
}
