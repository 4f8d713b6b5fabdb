//! 8250/16450 UART (COM1 at 3F8h, IRQ 4). Transmitted bytes are collected;
//! received bytes come from a queue. Characters move instantly.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Line status register bits.
pub mod lsr {
    /// Data ready.
    pub const DR: u8 = 0x01;
    /// Transmit holding register empty.
    pub const THRE: u8 = 0x20;
    /// Transmitter empty.
    pub const TEMT: u8 = 0x40;
}

/// The UART.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Uart8250 {
    /// Divisor latch.
    pub divisor: u16,
    /// Interrupt enable register.
    pub ier: u8,
    /// Line control register (bit 7 = divisor latch access).
    pub lcr: u8,
    /// Modem control register (bit 3 = OUT2 gates the IRQ on the PC, bit 4 = loopback).
    pub mcr: u8,
    /// Scratch register.
    pub scr: u8,
    /// Bytes waiting to be received.
    pub rx: VecDeque<u8>,
    /// Bytes transmitted.
    pub tx: Vec<u8>,
    /// A transmitter-empty interrupt is pending (cleared by reading IIR or writing THR).
    thre_pending: bool,
}

impl Uart8250 {
    /// A UART after reset.
    pub fn new() -> Self {
        Self::default()
    }

    fn dlab(&self) -> bool {
        self.lcr & 0x80 != 0
    }

    /// The highest-priority pending interrupt's IIR value (bit 0 clear when one is pending).
    fn iir(&self) -> u8 {
        if self.ier & 0x01 != 0 && !self.rx.is_empty() {
            0x04
        } else if self.ier & 0x02 != 0 && self.thre_pending {
            0x02
        } else {
            0x01
        }
    }

    /// IRQ 4 line (the interrupt output gated by OUT2).
    pub fn irq(&self) -> bool {
        self.iir() & 1 == 0 && self.mcr & 0x08 != 0
    }

    /// Queue bytes for the computer to receive.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.rx.extend(bytes.iter().copied());
    }

    /// Read register `reg` (0–7).
    pub fn read(&mut self, reg: u16) -> u8 {
        match reg & 7 {
            0 if self.dlab() => self.divisor as u8,
            0 => self.rx.pop_front().unwrap_or(0),
            1 if self.dlab() => (self.divisor >> 8) as u8,
            1 => self.ier,
            2 => {
                let v = self.iir();
                if v == 0x02 {
                    self.thre_pending = false;
                }
                v
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => lsr::THRE | lsr::TEMT | if self.rx.is_empty() { 0 } else { lsr::DR },
            6 => {
                if self.mcr & 0x10 != 0 {
                    // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
                    let m = self.mcr;
                    ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4)
                } else {
                    0
                }
            }
            _ => self.scr,
        }
    }

    /// Write register `reg` (0–7).
    pub fn write(&mut self, reg: u16, v: u8) {
        match reg & 7 {
            0 if self.dlab() => self.divisor = (self.divisor & 0xFF00) | v as u16,
            0 => {
                if self.mcr & 0x10 != 0 {
                    self.rx.push_back(v);
                } else {
                    self.tx.push(v);
                }
                // The byte leaves at once: the holding register is empty again.
                self.thre_pending = true;
            }
            1 if self.dlab() => self.divisor = (self.divisor & 0x00FF) | ((v as u16) << 8),
            1 => {
                if v & 0x02 != 0 && self.ier & 0x02 == 0 {
                    self.thre_pending = true;
                }
                self.ier = v & 0x0F;
            }
            3 => self.lcr = v,
            4 => self.mcr = v & 0x1F,
            7 => self.scr = v,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_collects_bytes_and_thre_interrupt() {
        let mut u = Uart8250::new();
        u.write(4, 0x08); // OUT2
        u.write(1, 0x02); // THRE interrupt
        assert!(u.irq());
        assert_eq!(u.read(2), 0x02);
        assert!(!u.irq(), "reading IIR clears a THRE interrupt");
        u.write(0, b'h');
        u.write(0, b'i');
        assert_eq!(u.tx, b"hi");
        assert_eq!(u.read(5) & 0x60, 0x60);
    }

    #[test]
    fn divisor_latch_and_receive() {
        let mut u = Uart8250::new();
        u.write(3, 0x80);
        u.write(0, 0x0C);
        u.write(1, 0x00);
        u.write(3, 0x03);
        assert_eq!(u.divisor, 12);
        u.receive(b"x");
        assert_eq!(u.read(5) & 1, 1);
        u.write(1, 0x01);
        u.write(4, 0x08);
        assert!(u.irq());
        assert_eq!(u.read(2), 0x04);
        assert_eq!(u.read(0), b'x');
        assert!(!u.irq());
    }
}
