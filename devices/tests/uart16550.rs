//! 16550A UART tests against the National Semiconductor PC16550D datasheet:
//! register reset values, FIFO control, trigger levels, the character
//! timeout, THRE/TEMT, interrupt priorities, loopback and the modem status
//! deltas, and the character time at a programmed rate.

use devices::Uart16550;

/// With the CPU clock equal to the UART's 1.8432 MHz reference, one cycle is
/// one reference clock: a character takes divisor × 16 × bits cycles.
const CLK: u64 = 1_843_200;
/// 8N1 at divisor 12 (9600 baud): 10 bits × 16 × 12.
const CHAR: u64 = 1920;

fn uart() -> Uart16550 {
    let mut u = Uart16550::new(CLK);
    u.write(3, 0x80, 0); // DLAB
    u.write(0, 12, 0);
    u.write(1, 0, 0);
    u.write(3, 0x03, 0); // 8N1
    u
}

#[test]
fn reset_values() {
    let mut u = Uart16550::new(CLK);
    assert_eq!(u.read(1, 0), 0x00, "IER");
    assert_eq!(u.read(2, 0), 0x01, "IIR: none pending, FIFOs off");
    assert_eq!(u.read(3, 0), 0x00, "LCR");
    assert_eq!(u.read(4, 0), 0x00, "MCR");
    assert_eq!(u.read(5, 0), 0x60, "LSR: THRE and TEMT");
    // A connected terminal: DCD, DSR, CTS asserted, no deltas.
    assert_eq!(u.read(6, 0), 0xB0, "MSR");
    u.write(7, 0x5A, 0);
    assert_eq!(u.read(7, 0), 0x5A, "scratch");
}

#[test]
fn character_time_follows_divisor_and_format() {
    let mut u = uart();
    assert_eq!(u.char_time(), CHAR);
    u.write(3, 0x1E, 0); // 7 data bits, even parity, 2 stop bits: 1+7+1+2 = 11
    assert_eq!(u.char_time(), 11 * 16 * 12);
    u.write(3, 0x84, 0);
    u.write(0, 1, 0);
    u.write(3, 0x04, 0); // 5 data bits, 1.5 stop bits: 1+5+1.5 = 7.5
    assert_eq!(u.char_time(), 120);
    // At a 4.77 MHz CPU, 115200 baud 8N1 is 10/115200 s = 414.3 cycles.
    let mut v = Uart16550::new(4_772_727);
    v.write(3, 0x83, 0);
    v.write(0, 1, 0);
    v.write(3, 0x03, 0);
    assert_eq!(v.char_time(), 414);
}

#[test]
fn transmit_without_fifo_thre_then_temt() {
    let mut u = uart();
    u.write(0, b'A', 0);
    // The byte moved to the shift register at once: THR empty, not TEMT.
    assert_eq!(u.read(5, 1), 0x20);
    u.write(0, b'B', 10);
    assert_eq!(u.read(5, 11), 0x00, "THR holds B while A shifts out");
    assert_eq!(u.next_event(), Some(CHAR));
    u.tick(CHAR - 1);
    assert!(u.output().is_empty());
    u.tick(CHAR);
    assert_eq!(u.output(), b"A");
    assert_eq!(u.read(5, CHAR), 0x20);
    u.tick(2 * CHAR);
    assert_eq!(u.take_output(), b"AB");
    assert_eq!(u.read(5, 2 * CHAR), 0x60);
}

#[test]
fn transmit_fifo_holds_sixteen_behind_the_shift_register() {
    let mut u = uart();
    u.write(2, 0x07, 0); // FIFOs on, both reset
    for i in 0..18u8 {
        u.write(0, i, 0);
    }
    // One in the shift register, sixteen in the FIFO, the 18th lost.
    u.tick(100 * CHAR);
    assert_eq!(u.output(), (0..17).collect::<Vec<u8>>());
    let mut u = uart();
    u.write(2, 0x01, 0);
    for i in 0..3u8 {
        u.write(0, i, 0);
    }
    u.tick(CHAR);
    assert_eq!(u.read(5, CHAR) & 0x60, 0x00, "one byte still in the FIFO");
    u.tick(2 * CHAR);
    assert_eq!(
        u.read(5, 2 * CHAR) & 0x60,
        0x20,
        "FIFO empty, last byte shifting"
    );
    u.tick(3 * CHAR);
    assert_eq!(u.read(5, 3 * CHAR) & 0x60, 0x60);
}

#[test]
fn thre_interrupt_sources_and_clearing() {
    let mut u = uart();
    u.write(4, 0x08, 0); // OUT2
    u.write(1, 0x02, 0);
    assert!(u.irq(), "enabling ETBEI with THR empty interrupts at once");
    assert_eq!(u.read(2, 0), 0x02);
    assert!(!u.irq(), "reading IIR clears a THRE interrupt");
    u.write(0, b'x', 0);
    // x went to the shift register, so THR is empty again: a new THRE.
    assert_eq!(u.read(2, 0), 0x02);
    u.write(0, b'y', 1);
    assert!(!u.irq(), "writing THR clears it");
    u.tick(CHAR);
    assert!(u.irq(), "y moved to the shift register");
    u.write(0, b'z', CHAR);
    assert!(!u.irq());
}

#[test]
fn receive_trigger_level_and_character_timeout() {
    let mut u = uart();
    u.write(2, 0x81, 0); // FIFOs on, trigger 8
    u.write(1, 0x01, 0);
    u.write(4, 0x08, 0);
    u.receive(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    u.tick(7 * CHAR);
    assert_eq!(u.read(5, 7 * CHAR) & 1, 1, "data ready");
    assert_eq!(u.read(2, 7 * CHAR), 0xC1, "7 bytes: below the trigger");
    u.tick(8 * CHAR);
    assert_eq!(u.read(2, 8 * CHAR), 0xC4, "8 bytes: data available");
    assert_eq!(u.read(0, 8 * CHAR), 1);
    assert_eq!(u.read(2, 8 * CHAR), 0xC1, "back below the trigger");
    u.tick(10 * CHAR);
    // All 10 have arrived, one was read: 9 are at or above the trigger.
    assert_eq!(u.read(2, 10 * CHAR), 0xC4);
    for expect in 2..=3 {
        assert_eq!(u.read(0, 10 * CHAR), expect);
    }
    assert_eq!(u.read(2, 10 * CHAR), 0xC1, "7 left, below the trigger");
    u.tick(14 * CHAR - 1);
    assert_eq!(u.read(2, 14 * CHAR - 1), 0xC1);
    u.tick(14 * CHAR);
    assert!(u.irq());
    assert_eq!(u.read(2, 14 * CHAR), 0xCC, "character timeout");
    assert_eq!(u.read(0, 14 * CHAR), 4);
    assert_eq!(u.read(2, 14 * CHAR), 0xC1, "reading RBR clears the timeout");
    let rest: Vec<u8> = (0..6).map(|_| u.read(0, 20 * CHAR)).collect();
    assert_eq!(rest, [5, 6, 7, 8, 9, 10]);
    assert_eq!(u.read(5, 20 * CHAR) & 1, 0);
}

#[test]
fn fifo_control_bits() {
    let mut u = uart();
    assert_eq!(u.read(2, 0) & 0xC0, 0, "FIFOs off: bits 7-6 clear");
    u.write(2, 0xC1, 0);
    assert_eq!(u.read(2, 0) & 0xC0, 0xC0);
    u.receive(&[9; 5]);
    u.tick(5 * CHAR);
    assert_eq!(u.read(5, 5 * CHAR) & 1, 1);
    u.write(2, 0xC3, 5 * CHAR); // reset the receive FIFO
    assert_eq!(u.read(5, 5 * CHAR) & 1, 0);
    // Trigger 14: 13 bytes are not enough.
    u.write(1, 1, 5 * CHAR);
    u.receive(&[7; 14]);
    u.tick(18 * CHAR);
    assert_eq!(u.read(2, 18 * CHAR), 0xC1);
    u.tick(19 * CHAR);
    assert_eq!(u.read(2, 19 * CHAR), 0xC4);
}

#[test]
fn host_input_waits_while_the_fifo_is_full() {
    let mut u = uart();
    u.write(2, 0x01, 0);
    let msg: Vec<u8> = (0..40).collect();
    u.receive(&msg);
    u.tick(100 * CHAR);
    assert_eq!(u.pending_input(), 24);
    assert_eq!(
        u.read(5, 100 * CHAR) & 0x02,
        0,
        "no overrun from host input"
    );
    let mut got = Vec::new();
    let mut t = 100 * CHAR;
    while got.len() < 40 && t < 1000 * CHAR {
        while u.read(5, t) & 1 != 0 {
            got.push(u.read(0, t));
        }
        t += CHAR;
        u.tick(t);
    }
    assert_eq!(got, msg);
}

#[test]
fn loopback_overrun_has_priority_over_data() {
    let mut u = uart();
    u.write(4, 0x18, 0); // loopback, OUT2
    u.write(1, 0x05, 0); // line status and data interrupts
    u.write(0, 0x11, 0);
    u.write(0, 0x22, 0);
    u.tick(2 * CHAR);
    // Without FIFOs the second character overwrote the first.
    assert!(u.intr());
    assert!(!u.irq(), "in loopback OUT2 is forced off: no IRQ on a PC");
    assert_eq!(u.read(2, 2 * CHAR), 0x06, "receiver line status first");
    assert_eq!(u.read(5, 2 * CHAR) & 0x03, 0x03, "OE and DR");
    assert_eq!(u.read(2, 2 * CHAR), 0x04, "then data available");
    assert_eq!(u.read(0, 2 * CHAR), 0x22);
    assert!(u.output().is_empty(), "loopback sends nothing out");
    // With FIFOs the 17th character is lost, the first 16 kept.
    u.write(2, 0x01, 2 * CHAR);
    for i in 0..17u8 {
        u.write(0, i, 2 * CHAR);
    }
    u.tick(40 * CHAR);
    assert_eq!(u.read(5, 40 * CHAR) & 0x02, 0x02);
    let got: Vec<u8> = (0..16).map(|_| u.read(0, 40 * CHAR)).collect();
    assert_eq!(got, (0..16).collect::<Vec<u8>>());
}

#[test]
fn loopback_modem_lines_and_deltas() {
    let mut u = uart();
    u.write(4, 0x10, 0);
    // From the terminal's DCD/DSR/CTS to nothing: three deltas.
    assert_eq!(u.read(6, 0), 0x0B);
    assert_eq!(u.read(6, 0), 0x00, "reading MSR clears the deltas");
    u.write(4, 0x1F, 0);
    // RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD; RI rising sets no delta.
    assert_eq!(u.read(6, 0), 0xFB);
    u.write(4, 0x1B, 0);
    assert_eq!(u.read(6, 0), 0xB4, "RI trailing edge: TERI");
}

#[test]
fn modem_status_interrupt_is_lowest_priority() {
    let mut u = uart();
    u.write(4, 0x08, 0);
    u.write(1, 0x0A, 0); // modem status and THRE
    u.set_modem_inputs(false, true, false, true);
    assert_eq!(u.read(2, 0), 0x02, "THRE before modem status");
    assert_eq!(u.read(2, 0), 0x00, "then modem status");
    assert_eq!(u.read(6, 0), 0xA1, "DCD, DSR, delta CTS");
    assert_eq!(u.read(2, 0), 0x01);
    assert!(!u.irq());
}

#[test]
fn out2_gates_the_irq_line() {
    let mut u = uart();
    u.write(1, 0x02, 0);
    assert!(u.intr() && !u.irq());
    u.write(4, 0x08, 0);
    assert!(u.irq());
}

#[test]
fn a_zero_clock_moves_characters_at_once() {
    let mut u = Uart16550::new(0);
    u.write(2, 0x01, 0);
    u.write(0, b'o', 0);
    u.write(0, b'k', 0);
    assert_eq!(u.output(), b"ok");
    assert_eq!(u.read(5, 0), 0x60);
    u.receive(b"hi");
    assert_eq!(u.read(0, 0), b'h');
    assert_eq!(u.read(0, 0), b'i');
}
