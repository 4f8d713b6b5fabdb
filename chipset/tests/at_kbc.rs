//! The 8042 keyboard controller through ports 60h/64h (IBM PC/AT technical
//! reference: controller commands, status and output-port bits; IBM PS/2
//! keyboard and mouse interface references: device commands and replies).

use chipset::at::{AtBoard, AtConfig, ResetKind};
use cpu::Bus;

const CLOCK: u64 = 1_000_000;

fn board() -> AtBoard {
    let cfg = AtConfig {
        clock_hz: CLOCK,
        ..AtConfig::default()
    };
    AtBoard::new(cfg, vec![0xFF; 0x10000]).unwrap()
}

/// Wait (up to 100 ms of machine time) for the output buffer; return the
/// byte and the status it came with.
fn read_byte(b: &mut AtBoard) -> Option<(u8, u8)> {
    for _ in 0..100 {
        let st = b.io_read(0x64);
        if st & 1 != 0 {
            return Some((b.io_read(0x60), st));
        }
        let t = b.now + CLOCK / 1000;
        b.advance_to(t);
    }
    None
}

fn bytes(b: &mut AtBoard) -> Vec<u8> {
    std::iter::from_fn(|| read_byte(b).map(|x| x.0)).collect()
}

fn cmd(b: &mut AtBoard, c: u8) {
    b.io_write(0x64, c);
}

fn cmd_data(b: &mut AtBoard, c: u8, d: u8) {
    b.io_write(0x64, c);
    b.io_write(0x60, d);
}

#[test]
fn self_test_and_interface_tests() {
    let mut b = board();
    cmd(&mut b, 0xAA);
    let (v, st) = read_byte(&mut b).unwrap();
    assert_eq!(v, 0x55);
    assert_eq!(st & 0x08, 0x08, "A2: last write was a command");
    cmd(&mut b, 0xAB);
    assert_eq!(bytes(&mut b), [0x00]);
    cmd(&mut b, 0xA9);
    assert_eq!(bytes(&mut b), [0x00]);
}

#[test]
fn command_byte_read_write_and_sys_flag() {
    let mut b = board();
    cmd_data(&mut b, 0x60, 0x41);
    cmd(&mut b, 0x20);
    assert_eq!(bytes(&mut b), [0x41]);
    assert_eq!(b.io_read(0x64) & 0x04, 0, "SYS clear");
    cmd_data(&mut b, 0x60, 0x45);
    assert_eq!(
        b.io_read(0x64) & 0x04,
        0x04,
        "SYS set from command byte bit 2"
    );
}

#[test]
fn a20_through_the_output_port() {
    let mut b = board();
    b.write(0x0000_1234, 0xAA);
    b.write(0x0010_1234, 0xBB);
    assert!(b.a20());
    // D1h with bit 1 clear: addresses wrap at 1 MiB like an 8086.
    cmd_data(&mut b, 0xD1, 0xDD);
    assert!(!b.a20());
    assert_eq!(b.read(0x0010_1234), 0xAA);
    cmd(&mut b, 0xD0);
    assert_eq!(bytes(&mut b)[0] & 0x03, 0x01, "D0h: reset high, A20 low");
    cmd_data(&mut b, 0xD1, 0xDF);
    assert!(b.a20());
    assert_eq!(b.read(0x0010_1234), 0xBB);
    assert_eq!(b.take_reset(), None);
}

#[test]
fn pulse_reset_and_output_port_reset() {
    let mut b = board();
    cmd(&mut b, 0xFE);
    assert_eq!(b.take_reset(), Some(ResetKind::Cpu));
    assert_eq!(b.take_reset(), None);
    // Pulsing other bits (FFh: none) does not reset.
    cmd(&mut b, 0xFF);
    assert_eq!(b.take_reset(), None);
    cmd_data(&mut b, 0xD1, 0xDE); // bit 0 low
    assert_eq!(b.take_reset(), Some(ResetKind::Cpu));
}

#[test]
fn keyboard_reset_id_and_irq1() {
    let mut b = board();
    for (p, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        b.io_write(p, v);
    }
    b.io_write(0x21, 0xFD); // IRQ 1 only
    b.io_write(0x60, 0xFF);
    // ACK, then the basic assurance test passed (AAh).
    assert_eq!(bytes(&mut b), [0xFA, 0xAA]);
    // ID with translation on: AB 83h reaches the host as AB 41h.
    b.io_write(0x60, 0xF2);
    assert_eq!(bytes(&mut b), [0xFA, 0xAB, 0x41]);
    cmd_data(&mut b, 0x60, 0x05); // IRQ 1, SYS, no translation
    b.io_write(0x60, 0xF2);
    assert_eq!(bytes(&mut b), [0xFA, 0xAB, 0x83]);
    // A byte in the buffer raises IRQ 1.
    b.io_write(0x60, 0xEE);
    b.advance_to(b.now + CLOCK / 100);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x09);
    assert_eq!(b.io_read(0x60), 0xEE);
}

#[test]
fn scan_set_2_and_translation_to_set_1() {
    let mut b = board();
    // 'A' pressed and released, given as set 1 (1Eh, 9Eh). The keyboard
    // sends set 2 (1Ch, F0h 1Ch); translation gives set 1 back.
    b.keyboard_set1(&[0x1E, 0x9E]);
    assert_eq!(bytes(&mut b), [0x1E, 0x9E]);
    // Cursor up (E0 48 / E0 C8 in set 1; E0 75 / E0 F0 75 in set 2).
    b.keyboard_set1(&[0xE0, 0x48, 0xE0, 0xC8]);
    assert_eq!(bytes(&mut b), [0xE0, 0x48, 0xE0, 0xC8]);
    // Without translation the host sees set 2.
    cmd_data(&mut b, 0x60, 0x05);
    b.keyboard_set1(&[0x1E, 0x9E, 0x3B]);
    assert_eq!(bytes(&mut b), [0x1C, 0xF0, 0x1C, 0x05]);
    // F0h: read the scan set (2), switch to set 1.
    b.io_write(0x60, 0xF0);
    b.io_write(0x60, 0x00);
    assert_eq!(bytes(&mut b), [0xFA, 0xFA, 0x02]);
    b.io_write(0x60, 0xF0);
    b.io_write(0x60, 0x01);
    assert_eq!(bytes(&mut b), [0xFA, 0xFA]);
    b.keyboard_set1(&[0x1E, 0x9E]);
    assert_eq!(bytes(&mut b), [0x1E, 0x9E]);
}

#[test]
fn typed_text_arrives_in_set_1() {
    let mut b = board();
    b.type_keys("A<enter>").unwrap();
    // Shift down, A down/up, Shift up, Enter down/up (set 1 after translation).
    assert_eq!(bytes(&mut b), [0x2A, 0x1E, 0x9E, 0xAA, 0x1C, 0x9C]);
    assert!(b.type_keys("<nosuchkey>").is_err());
}

#[test]
fn keyboard_leds_typematic_enable_disable() {
    let mut b = board();
    b.io_write(0x60, 0xED);
    b.io_write(0x60, 0x07);
    b.io_write(0x60, 0xF3);
    b.io_write(0x60, 0x20);
    assert_eq!(bytes(&mut b), [0xFA, 0xFA, 0xFA, 0xFA]);
    assert_eq!(b.kbc.keyboard.leds, 7);
    assert_eq!(b.kbc.keyboard.typematic, 0x20);
    b.io_write(0x60, 0xF5);
    assert_eq!(bytes(&mut b), [0xFA]);
    b.keyboard_set1(&[0x1E, 0x9E]);
    assert_eq!(bytes(&mut b), [], "no scanning while disabled");
    b.io_write(0x60, 0xF4);
    assert_eq!(bytes(&mut b), [0xFA]);
    // An unknown command gets Resend.
    b.io_write(0x60, 0x01);
    assert_eq!(bytes(&mut b), [0xFE]);
}

#[test]
fn disabled_keyboard_interface_holds_bytes() {
    let mut b = board();
    cmd(&mut b, 0xAD);
    b.keyboard_set1(&[0x1E]);
    assert_eq!(bytes(&mut b), []);
    cmd(&mut b, 0xAE);
    assert_eq!(bytes(&mut b), [0x1E]);
}

#[test]
fn mouse_commands_and_packets_on_irq12() {
    let mut b = board();
    cmd(&mut b, 0xA8); // enable aux
    cmd_data(&mut b, 0x60, 0x47); // IRQ 1, IRQ 12, SYS, translate
    cmd_data(&mut b, 0xD4, 0xFF);
    let (v, st) = read_byte(&mut b).unwrap();
    assert_eq!((v, st & 0x20), (0xFA, 0x20), "AUXB set for mouse data");
    assert_eq!(bytes(&mut b), [0xAA, 0x00]);
    cmd_data(&mut b, 0xD4, 0xF2);
    assert_eq!(bytes(&mut b), [0xFA, 0x00]);
    cmd_data(&mut b, 0xD4, 0xE8);
    cmd_data(&mut b, 0xD4, 0x03);
    cmd_data(&mut b, 0xD4, 0xF3);
    cmd_data(&mut b, 0xD4, 40);
    cmd_data(&mut b, 0xD4, 0xE7);
    cmd_data(&mut b, 0xD4, 0xF4);
    assert_eq!(bytes(&mut b), [0xFA; 6]);
    b.kbc.mouse.motion(5, -3, 1);
    b.advance_to(b.now + 1);
    // Byte 0: always-one bit 3, left button, Y sign; then X and Y.
    assert_eq!(bytes(&mut b), [0x29, 0x05, 0xFD]);
    // Status request: stream mode, enabled, 2:1 scaling, left button held.
    cmd_data(&mut b, 0xD4, 0xE9);
    assert_eq!(bytes(&mut b), [0xFA, 0x34, 0x03, 40]);
    // Remote mode: no packets until read data (EBh).
    cmd_data(&mut b, 0xD4, 0xF0);
    b.kbc.mouse.motion(1, 1, 0);
    assert_eq!(bytes(&mut b), [0xFA]);
    // IRQ 12 on the slave PIC's IR4.
    for (p, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        b.io_write(p, v);
    }
    for (p, v) in [(0xA0, 0x11), (0xA1, 0x70), (0xA1, 0x02), (0xA1, 0x01)] {
        b.io_write(p, v);
    }
    cmd_data(&mut b, 0xD4, 0xEA);
    b.advance_to(b.now + CLOCK / 100);
    assert!(b.intr_pending());
    assert_eq!(b.inta(), 0x74);
    assert_eq!(b.io_read(0x60), 0xFA);
}

#[test]
fn intellimouse_id_after_the_rate_sequence() {
    let mut b = board();
    cmd(&mut b, 0xA8);
    for r in [200, 100, 80] {
        cmd_data(&mut b, 0xD4, 0xF3);
        cmd_data(&mut b, 0xD4, r);
    }
    cmd_data(&mut b, 0xD4, 0xF2);
    let got = bytes(&mut b);
    assert_eq!(&got[got.len() - 2..], [0xFA, 0x03]);
}

#[test]
fn d2_d3_write_the_output_buffer() {
    let mut b = board();
    cmd(&mut b, 0xA8);
    cmd_data(&mut b, 0xD2, 0x5A);
    let (v, st) = read_byte(&mut b).unwrap();
    assert_eq!((v, st & 0x20), (0x5A, 0));
    cmd_data(&mut b, 0xD3, 0xA5);
    let (v, st) = read_byte(&mut b).unwrap();
    assert_eq!((v, st & 0x20), (0xA5, 0x20));
}

#[test]
fn aux_disable_holds_mouse_bytes() {
    let mut b = board();
    cmd(&mut b, 0xA7);
    cmd_data(&mut b, 0xD4, 0xF2);
    assert_eq!(bytes(&mut b), []);
    cmd(&mut b, 0xA8);
    assert_eq!(bytes(&mut b), [0xFA, 0x00]);
}
