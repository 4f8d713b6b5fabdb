//! The NS16550A UART of AT-class PCs (COM1 at 3F8h/IRQ 4, COM2 at 2F8h/IRQ 3):
//! the 8250 registers plus 16-byte receive and transmit FIFOs.
//!
//! Timing is modelled simply: a character takes one character time on the
//! wire, `divisor × 16 × bits / 1.8432 MHz` seconds, where `bits` counts the
//! start bit, the data bits, the parity bit and the stop bits (1, 1.5 or 2)
//! programmed in LCR; the caller's CPU clock converts that to cycles. The
//! transmitter shifts one byte out per character time into the output sink;
//! host input reaches the receive FIFO at one byte per character time and
//! waits while the FIFO is full (as if the host honoured flow control), so
//! typed or pasted input is never lost. Overruns happen as on the chip in
//! loopback mode. A clock of 0 makes every character move at once.
//!
//! Simplifications (see `docs/storage.md`): no parity or framing errors
//! (host bytes arrive intact), break is not modelled, and the 16550A's
//! one-character delay of the THRE interrupt after a FIFO burst is not
//! modelled. A divisor of 0 is taken as 65536.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The UART's reference clock (Hz).
pub const UART_CLOCK: u64 = 1_843_200;
/// FIFO depth.
pub const FIFO: usize = 16;

/// Line status register bits.
pub mod lsr {
    /// Data ready.
    pub const DR: u8 = 0x01;
    /// Overrun error.
    pub const OE: u8 = 0x02;
    /// Parity error.
    pub const PE: u8 = 0x04;
    /// Framing error.
    pub const FE: u8 = 0x08;
    /// Break interrupt.
    pub const BI: u8 = 0x10;
    /// Transmit holding register (FIFO) empty.
    pub const THRE: u8 = 0x20;
    /// Transmitter empty (holding register and shift register).
    pub const TEMT: u8 = 0x40;
    /// An error in the receive FIFO.
    pub const FIFO_ERR: u8 = 0x80;
}

/// Interrupt identification values (bits 3–0 of IIR).
pub mod iir {
    /// No interrupt pending.
    pub const NONE: u8 = 0x01;
    /// Receiver line status (highest priority).
    pub const LINE: u8 = 0x06;
    /// Received data available (trigger level reached).
    pub const RDA: u8 = 0x04;
    /// Character timeout.
    pub const TIMEOUT: u8 = 0x0C;
    /// Transmitter holding register empty.
    pub const THRE: u8 = 0x02;
    /// Modem status (lowest priority).
    pub const MODEM: u8 = 0x00;
    /// Bits 7–6 when the FIFOs are enabled.
    pub const FIFOS: u8 = 0xC0;
}

/// The UART.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Uart16550 {
    /// CPU cycles per second (0: characters move at once).
    clock_hz: u64,
    /// Divisor latch.
    pub divisor: u16,
    /// Interrupt enable register.
    pub ier: u8,
    /// Line control register.
    pub lcr: u8,
    /// Modem control register.
    pub mcr: u8,
    /// Scratch register.
    pub scr: u8,
    /// FIFO control as last written (bit 0 FIFOs on, bits 7–6 trigger).
    fcr: u8,
    rx: VecDeque<u8>,
    tx: VecDeque<u8>,
    /// The byte in the transmit shift register and when it has left.
    tsr: Option<(u8, u64)>,
    /// Latched OE/PE/FE/BI.
    errors: u8,
    thre_int: bool,
    timeout_int: bool,
    /// Last time a character entered or left the receive FIFO.
    rx_activity: u64,
    /// Modem status deltas (MSR bits 3–0).
    msr_delta: u8,
    /// Modem input lines when not in loopback (MSR bits 7–4 layout).
    modem_in: u8,
    /// Lines as last seen (MSR bits 7–4), for the deltas.
    lines: u8,
    /// Bytes from the host waiting to reach the receive FIFO.
    input: VecDeque<u8>,
    /// When the next input byte arrives.
    rx_next: Option<u64>,
    /// Bytes transmitted (the sink).
    output: Vec<u8>,
    /// The time the state is valid for.
    now: u64,
}

impl Uart16550 {
    /// A UART after reset; time is counted in cycles of a `clock_hz` CPU
    /// clock (0: characters move at once). The modem inputs read as a
    /// connected terminal: CTS, DSR and DCD asserted, RI not.
    pub fn new(clock_hz: u64) -> Self {
        let mut u = Uart16550 {
            clock_hz,
            divisor: 12,
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            fcr: 0,
            rx: VecDeque::new(),
            tx: VecDeque::new(),
            tsr: None,
            errors: 0,
            thre_int: false,
            timeout_int: false,
            rx_activity: 0,
            msr_delta: 0,
            modem_in: 0xB0,
            lines: 0,
            input: VecDeque::new(),
            rx_next: None,
            output: Vec::new(),
            now: 0,
        };
        u.lines = u.current_lines();
        u
    }

    /// Master reset (the chip's MR pin): registers to their reset values;
    /// the divisor, scratch register and host queues are kept.
    pub fn reset(&mut self) {
        let keep = (self.divisor, self.scr, std::mem::take(&mut self.input));
        let out = std::mem::take(&mut self.output);
        *self = Uart16550 {
            divisor: keep.0,
            scr: keep.1,
            input: keep.2,
            output: out,
            modem_in: self.modem_in,
            ..Uart16550::new(self.clock_hz)
        };
        self.lines = self.current_lines();
    }

    fn fifo_on(&self) -> bool {
        self.fcr & 1 != 0
    }

    fn loopback(&self) -> bool {
        self.mcr & 0x10 != 0
    }

    fn capacity(&self) -> usize {
        if self.fifo_on() {
            FIFO
        } else {
            1
        }
    }

    fn trigger(&self) -> usize {
        [1, 4, 8, 14][(self.fcr >> 6) as usize]
    }

    /// Bits on the wire per character, in half bits (1.5 stop bits).
    fn half_bits(&self) -> u64 {
        let data = 5 + (self.lcr & 3) as u64;
        let parity = (self.lcr >> 3) as u64 & 1;
        let stop2 = if self.lcr & 4 == 0 {
            2
        } else if data == 5 {
            3
        } else {
            4
        };
        2 * (1 + data + parity) + stop2
    }

    /// CPU cycles for one character at the programmed rate and format.
    pub fn char_time(&self) -> u64 {
        let div = if self.divisor == 0 {
            65536
        } else {
            self.divisor as u64
        };
        self.clock_hz * div * 16 * self.half_bits() / (2 * UART_CLOCK)
    }

    /// The modem lines as MSR bits 7–4 (DCD, RI, DSR, CTS).
    fn current_lines(&self) -> u8 {
        if self.loopback() {
            let m = self.mcr;
            // RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
            ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4)
        } else {
            self.modem_in & 0xF0
        }
    }

    fn update_lines(&mut self) {
        let new = self.current_lines();
        let old = self.lines;
        let changed = old ^ new;
        // DCTS, DDSR, DDCD on any change; TERI on the trailing edge of RI.
        self.msr_delta |= (changed >> 4) & 0x0B;
        if old & 0x40 != 0 && new & 0x40 == 0 {
            self.msr_delta |= 0x04;
        }
        self.lines = new;
    }

    /// Set the modem input lines (ignored in loopback until it ends).
    pub fn set_modem_inputs(&mut self, cts: bool, dsr: bool, ri: bool, dcd: bool) {
        self.modem_in = (cts as u8) << 4 | (dsr as u8) << 5 | (ri as u8) << 6 | (dcd as u8) << 7;
        self.update_lines();
    }

    /// Queue bytes for the computer to receive.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.input.extend(bytes.iter().copied());
        if self.rx_next.is_none() && !self.input.is_empty() {
            self.rx_next = Some(self.now.saturating_add(self.char_time()));
        }
    }

    /// Bytes transmitted so far (and not yet taken).
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Take the bytes transmitted so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Bytes from the host not yet in the receive FIFO.
    pub fn pending_input(&self) -> usize {
        self.input.len()
    }

    /// A character arrives at the receiver at time `t`.
    fn deliver(&mut self, b: u8, t: u64) {
        if self.rx.len() >= self.capacity() {
            self.errors |= lsr::OE;
            if !self.fifo_on() {
                // Without FIFOs the new character overwrites the holding register.
                self.rx.clear();
                self.rx.push_back(b);
            }
        } else {
            self.rx.push_back(b);
        }
        self.rx_activity = t;
        self.timeout_int = false;
    }

    fn timeout_deadline(&self) -> Option<u64> {
        (self.fifo_on() && !self.rx.is_empty() && !self.timeout_int)
            .then(|| self.rx_activity.saturating_add(4 * self.char_time()))
    }

    /// Run the line up to `now`.
    fn advance(&mut self, now: u64) {
        loop {
            let tx_at = self.tsr.map(|(_, t)| t);
            let rx_at = if self.loopback() { None } else { self.rx_next };
            let to_at = self.timeout_deadline();
            let Some(t) = [tx_at, rx_at, to_at].into_iter().flatten().min() else {
                break;
            };
            if t > now {
                break;
            }
            if tx_at == Some(t) {
                let (b, _) = self.tsr.take().unwrap_or_default();
                if self.loopback() {
                    self.deliver(b, t);
                } else {
                    self.output.push(b);
                }
                self.load_tsr(t);
            } else if rx_at == Some(t) {
                if self.rx.len() < self.capacity() {
                    if let Some(b) = self.input.pop_front() {
                        self.deliver(b, t);
                    }
                    self.rx_next =
                        (!self.input.is_empty()).then(|| t.saturating_add(self.char_time()));
                } else {
                    // Held back until the guest makes room.
                    self.rx_next = None;
                }
            } else {
                self.timeout_int = true;
            }
        }
        self.now = self.now.max(now);
    }

    /// Move the next byte from the holding register or FIFO to the shift register.
    fn load_tsr(&mut self, t: u64) {
        if self.tsr.is_some() {
            return;
        }
        if let Some(b) = self.tx.pop_front() {
            self.tsr = Some((b, t.saturating_add(self.char_time())));
            if self.tx.is_empty() {
                self.thre_int = true;
            }
        }
    }

    /// The interrupt identification (without the FIFO bits).
    fn pending(&self) -> u8 {
        let ie = self.ier;
        if ie & 0x04 != 0 && self.errors & (lsr::OE | lsr::PE | lsr::FE | lsr::BI) != 0 {
            iir::LINE
        } else if ie & 0x01 != 0
            && !self.rx.is_empty()
            && (!self.fifo_on() || self.rx.len() >= self.trigger())
        {
            iir::RDA
        } else if ie & 0x01 != 0 && self.fifo_on() && self.timeout_int && !self.rx.is_empty() {
            iir::TIMEOUT
        } else if ie & 0x02 != 0 && self.thre_int {
            iir::THRE
        } else if ie & 0x08 != 0 && self.msr_delta != 0 {
            iir::MODEM
        } else {
            iir::NONE
        }
    }

    /// The chip's INTR output.
    pub fn intr(&self) -> bool {
        self.pending() & 1 == 0
    }

    /// The IRQ line on a PC: INTR through the buffer enabled by OUT2. In
    /// loopback the chip forces its OUT2 pin inactive, so no interrupt
    /// reaches the PIC.
    pub fn irq(&self) -> bool {
        self.intr() && self.mcr & 0x08 != 0 && !self.loopback()
    }

    /// When [`Uart16550::tick`] is next needed (CPU cycles).
    pub fn next_event(&self) -> Option<u64> {
        let tx_at = self.tsr.map(|(_, t)| t);
        let rx_at = if self.loopback() { None } else { self.rx_next };
        [tx_at, rx_at, self.timeout_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Move characters and raise interrupts due by `now`.
    pub fn tick(&mut self, now: u64) {
        self.advance(now);
    }

    fn lsr(&self) -> u8 {
        let mut v = self.errors;
        if !self.rx.is_empty() {
            v |= lsr::DR;
        }
        if self.tx.is_empty() {
            v |= lsr::THRE;
            if self.tsr.is_none() {
                v |= lsr::TEMT;
            }
        }
        v
    }

    /// Read register `reg` (0–7) at time `now`.
    pub fn read(&mut self, reg: u16, now: u64) -> u8 {
        self.advance(now);
        let dlab = self.lcr & 0x80 != 0;
        match reg & 7 {
            0 if dlab => self.divisor as u8,
            0 => {
                let b = self.rx.pop_front().unwrap_or(0);
                self.rx_activity = now;
                self.timeout_int = false;
                if self.rx_next.is_none() && !self.input.is_empty() {
                    self.rx_next = Some(now.saturating_add(self.char_time()));
                }
                b
            }
            1 if dlab => (self.divisor >> 8) as u8,
            1 => self.ier,
            2 => {
                let p = self.pending();
                if p == iir::THRE {
                    self.thre_int = false;
                }
                p | if self.fifo_on() { iir::FIFOS } else { 0 }
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let v = self.lsr();
                self.errors = 0;
                v
            }
            6 => {
                let v = self.lines | self.msr_delta;
                self.msr_delta = 0;
                v
            }
            _ => self.scr,
        }
    }

    /// Write register `reg` (0–7) at time `now`.
    pub fn write(&mut self, reg: u16, v: u8, now: u64) {
        self.advance(now);
        let dlab = self.lcr & 0x80 != 0;
        match reg & 7 {
            0 if dlab => self.divisor = (self.divisor & 0xFF00) | v as u16,
            0 => {
                if self.tx.len() >= self.capacity() {
                    if !self.fifo_on() {
                        self.tx.clear();
                        self.tx.push_back(v);
                    }
                } else {
                    self.tx.push_back(v);
                }
                self.thre_int = false;
                self.load_tsr(now);
                // With a zero clock the byte leaves at once.
                self.advance(now);
            }
            1 if dlab => self.divisor = (self.divisor & 0x00FF) | (v as u16) << 8,
            1 => {
                // Enabling the THRE interrupt while the holding register is
                // empty raises it at once.
                if v & 0x02 != 0 && self.ier & 0x02 == 0 && self.tx.is_empty() {
                    self.thre_int = true;
                }
                self.ier = v & 0x0F;
            }
            2 => {
                let was_on = self.fifo_on();
                let on = v & 1 != 0;
                if was_on != on {
                    self.rx.clear();
                    self.tx.clear();
                }
                if on {
                    if v & 0x02 != 0 {
                        self.rx.clear();
                        self.timeout_int = false;
                        if self.rx_next.is_none() && !self.input.is_empty() {
                            self.rx_next = Some(now.saturating_add(self.char_time()));
                        }
                    }
                    if v & 0x04 != 0 {
                        self.tx.clear();
                    }
                    self.fcr = v & 0xC9;
                } else {
                    self.fcr = 0;
                }
                if self.tx.is_empty() && self.ier & 0x02 != 0 && v & 0x04 != 0 {
                    self.thre_int = true;
                }
            }
            3 => self.lcr = v,
            4 => {
                let was_loop = self.loopback();
                self.mcr = v & 0x1F;
                if was_loop != self.loopback() && self.rx_next.is_none() && !self.input.is_empty() {
                    self.rx_next = Some(now.saturating_add(self.char_time()));
                }
                self.update_lines();
            }
            7 => self.scr = v,
            _ => {}
        }
    }
}

impl Default for Uart16550 {
    fn default() -> Self {
        Self::new(0)
    }
}
