//! Intel 8255A programmable peripheral interface as wired on the IBM PC/XT
//! (ports 60h–63h, mode 0: port A and C inputs, port B output).
//!
//! * Port A (60h): the keyboard shift register.
//! * Port B (61h): bit 0 timer 2 gate, bit 1 speaker data, bit 3 selects the
//!   high nibble of the configuration switches on port C, bit 4 disables RAM
//!   parity checks, bit 5 disables I/O channel checks, bit 6 = 0 holds the
//!   keyboard clock low, bit 7 = 1 clears the keyboard shift register.
//! * Port C (62h): bits 0–3 a nibble of switch block SW1 (low nibble when
//!   PB3 = 0, high nibble when PB3 = 1), bit 5 timer 2 output, bit 6 I/O
//!   channel check, bit 7 RAM parity check.

use serde::{Deserialize, Serialize};

/// Port B bits.
pub mod pb {
    /// Timer 2 gate.
    pub const TIMER2_GATE: u8 = 0x01;
    /// Speaker data enable.
    pub const SPEAKER: u8 = 0x02;
    /// Read the high nibble of the switches on port C.
    pub const SWITCH_HIGH: u8 = 0x08;
    /// Keyboard clock enable (0 holds the clock low).
    pub const KBD_CLOCK: u8 = 0x40;
    /// Clear the keyboard shift register (and IRQ 1).
    pub const KBD_CLEAR: u8 = 0x80;
}

/// The PPI and the XT's configuration switches.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ppi8255 {
    /// Port B output latch.
    pub port_b: u8,
    /// Last mode control word.
    pub control: u8,
    /// Switch block SW1, in the layout of the BIOS equipment byte: bit 0
    /// diskette drives present, bit 1 coprocessor, bits 2–3 planar memory
    /// banks, bits 4–5 initial video (01 CGA 40, 10 CGA 80, 11 MDA), bits
    /// 6–7 number of drives minus one.
    pub switches: u8,
}

impl Ppi8255 {
    /// A PPI with the given switch settings.
    pub fn new(switches: u8) -> Self {
        Ppi8255 {
            port_b: 0,
            control: 0x99,
            switches,
        }
    }

    /// The switch byte for a machine: `drives` floppy drives, `mda` for a
    /// monochrome card (else CGA 80×25), all planar memory banks populated.
    /// Switch 1 (bit 0) is left off: on the 5160 it selects continuous
    /// POST looping when on, and on the 5150 it reports diskette drives.
    pub fn xt_switches(drives: usize, mda: bool) -> u8 {
        // Normal POST / drives present, four 64K banks (or 256K chips) on the planar.
        let mut s = 0x0D;
        if drives > 0 {
            s |= ((drives.min(4) - 1) as u8) << 6;
        }
        s | if mda { 0x30 } else { 0x20 }
    }

    /// Port C: switch nibble, timer 2 output, no parity or channel errors.
    pub fn read_port_c(&self, timer2_out: bool) -> u8 {
        let nibble = if self.port_b & pb::SWITCH_HIGH != 0 {
            self.switches >> 4
        } else {
            self.switches & 0x0F
        };
        nibble | if timer2_out { 0x20 } else { 0 }
    }

    /// Port A: the keyboard shift register (zero while PB7 holds it clear).
    pub fn read_port_a(&self, keyboard_data: u8) -> u8 {
        if self.port_b & pb::KBD_CLEAR != 0 {
            0
        } else {
            keyboard_data
        }
    }

    /// Write the control port (63h). A mode word (bit 7 set) is recorded;
    /// a bit set/reset word changes one bit of port C, which is an input
    /// port on the PC and so has no effect.
    pub fn write_control(&mut self, v: u8) {
        if v & 0x80 != 0 {
            self.control = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_through_port_c_nibbles() {
        // Two drives, CGA 80x25: equipment byte 0x6D.
        let s = Ppi8255::xt_switches(2, false);
        assert_eq!(s, 0x6D);
        let mut p = Ppi8255::new(s);
        p.port_b = 0x00;
        assert_eq!(p.read_port_c(false) & 0x0F, 0x0D);
        p.port_b = pb::SWITCH_HIGH;
        assert_eq!(p.read_port_c(false) & 0x0F, 0x06);
        assert_eq!(p.read_port_c(true) & 0x20, 0x20, "timer 2 output on PC5");
        assert_eq!(Ppi8255::xt_switches(1, true), 0x3D);
        assert_eq!(
            Ppi8255::xt_switches(0, false) & 1,
            1,
            "switch 1 off: no POST loop"
        );
    }

    #[test]
    fn port_a_cleared_by_pb7() {
        let mut p = Ppi8255::new(0);
        assert_eq!(p.read_port_a(0x1E), 0x1E);
        p.port_b = pb::KBD_CLEAR;
        assert_eq!(p.read_port_a(0x1E), 0);
        p.write_control(0x99);
        assert_eq!(p.control, 0x99);
    }
}
