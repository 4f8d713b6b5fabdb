//! The PC/AT keyboard controller (Intel 8042 with the IBM firmware, ports
//! 60h and 64h), with a PS/2 keyboard on its first port and a PS/2 mouse on
//! its auxiliary port.
//!
//! Bytes from the two devices reach the output buffer one at a time, each
//! after [`I8042::byte_delay`] CPU cycles (the serial link takes about a
//! millisecond a byte), so that the IRQ 1 / IRQ 12 line drops between two
//! bytes and an edge-triggered PIC sees every one. Replies of the
//! controller itself (to AAh, 20h, D0h…) land at once.
//!
//! Facts used (IBM PC/AT technical reference, the PS/2 keyboard and mouse
//! interface documents): status bits OBF 0, IBF 1, SYS 2, A2 (command) 3,
//! inhibit switch 4, AUXB 5, time-out 6, parity 7; command byte bits IRQ1
//! enable 0, IRQ12 enable 1, SYS 2, keyboard disable 4, aux disable 5,
//! translate 6; output port bits reset 0 (low resets), A20 1, OBF 4, AUXB 5.

use crate::keyboard::{set1_stream_to_set2, set2_to_set1};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Default cycles between two bytes from a device (1 ms at 33 MHz).
pub const DEFAULT_BYTE_DELAY: u64 = 33_000;

const ACK: u8 = 0xFA;
const RESEND: u8 = 0xFE;
const BAT_OK: u8 = 0xAA;

/// Command byte bits.
const CB_IRQ1: u8 = 0x01;
const CB_IRQ12: u8 = 0x02;
const CB_SYS: u8 = 0x04;
const CB_KBD_OFF: u8 = 0x10;
const CB_AUX_OFF: u8 = 0x20;
const CB_TRANSLATE: u8 = 0x40;

/// A PS/2 keyboard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ps2Keyboard {
    /// Bytes waiting to be sent to the controller.
    pub out: VecDeque<u8>,
    /// Scanning enabled (F4h/F5h).
    pub enabled: bool,
    /// Scan code set 1–3 (set 3 is answered but sent as set 2).
    pub scan_set: u8,
    /// LED state from EDh (bit 0 Scroll, 1 Num, 2 Caps).
    pub leds: u8,
    /// Typematic rate/delay byte from F3h.
    pub typematic: u8,
    /// The command awaiting its parameter byte.
    pub pending: Option<u8>,
    last_sent: u8,
}

impl Default for Ps2Keyboard {
    fn default() -> Self {
        Ps2Keyboard {
            out: VecDeque::new(),
            enabled: true,
            scan_set: 2,
            leds: 0,
            typematic: 0x2B,
            pending: None,
            last_sent: 0,
        }
    }
}

impl Ps2Keyboard {
    fn defaults(&mut self) {
        self.scan_set = 2;
        self.typematic = 0x2B;
    }

    /// A byte from the host.
    pub fn write(&mut self, v: u8) {
        if let Some(cmd) = self.pending.take() {
            match cmd {
                0xED => self.leds = v & 7,
                0xF3 => self.typematic = v & 0x7F,
                0xF0 => match v {
                    0 => {
                        self.out.push_back(ACK);
                        self.out.push_back(self.scan_set);
                        return;
                    }
                    1..=3 => self.scan_set = v,
                    _ => {
                        self.out.push_back(RESEND);
                        return;
                    }
                },
                _ => {}
            }
            self.out.push_back(ACK);
            return;
        }
        match v {
            0xED | 0xF3 | 0xF0 => {
                self.pending = Some(v);
                self.out.push_back(ACK);
            }
            0xEE => self.out.push_back(0xEE),
            0xF2 => self.out.extend([ACK, 0xAB, 0x83]),
            0xF4 => {
                self.enabled = true;
                self.out.push_back(ACK);
            }
            0xF5 => {
                self.defaults();
                self.enabled = false;
                self.out.clear();
                self.out.push_back(ACK);
            }
            0xF6 => {
                self.defaults();
                self.out.push_back(ACK);
            }
            0xFE => self.out.push_back(self.last_sent),
            0xFF => {
                self.defaults();
                self.enabled = true;
                self.out.clear();
                self.out.extend([ACK, BAT_OK]);
            }
            // F7h–FDh (set 3 key types) are acknowledged and ignored.
            0xF7..=0xFD => self.out.push_back(ACK),
            _ => self.out.push_back(RESEND),
        }
    }

    /// Queue key events given as set 1 make/break codes, converted to the
    /// keyboard's scan set; dropped while scanning is disabled.
    pub fn push_set1(&mut self, codes: &[u8]) {
        if !self.enabled {
            return;
        }
        if self.scan_set == 1 {
            self.out.extend(codes.iter().copied());
        } else {
            self.out.extend(set1_stream_to_set2(codes));
        }
    }

    fn pop(&mut self) -> Option<u8> {
        let b = self.out.pop_front()?;
        self.last_sent = b;
        Some(b)
    }
}

/// A PS/2 mouse (with the IntelliMouse wheel ID after the 200, 100, 80
/// sample-rate sequence).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ps2Mouse {
    /// Bytes waiting to be sent to the controller.
    pub out: VecDeque<u8>,
    /// Data reporting enabled (F4h).
    pub enabled: bool,
    /// Remote mode (F0h) rather than stream mode (EAh).
    pub remote: bool,
    /// Scaling 2:1 (E7h).
    pub scaling_2_1: bool,
    /// Resolution code 0–3 (E8h).
    pub resolution: u8,
    /// Samples per second (F3h).
    pub sample_rate: u8,
    /// Device ID returned by F2h (0, or 3 once the wheel is unlocked).
    pub id: u8,
    /// Buttons held (bit 0 left, 1 right, 2 middle).
    pub buttons: u8,
    /// The command awaiting its parameter byte.
    pub pending: Option<u8>,
    rates: [u8; 3],
    last_sent: u8,
}

impl Default for Ps2Mouse {
    fn default() -> Self {
        Ps2Mouse {
            out: VecDeque::new(),
            enabled: false,
            remote: false,
            scaling_2_1: false,
            resolution: 2,
            sample_rate: 100,
            id: 0,
            buttons: 0,
            pending: None,
            rates: [0; 3],
            last_sent: 0,
        }
    }
}

impl Ps2Mouse {
    fn defaults(&mut self) {
        self.enabled = false;
        self.remote = false;
        self.scaling_2_1 = false;
        self.resolution = 2;
        self.sample_rate = 100;
    }

    /// A byte from the host (through controller command D4h).
    pub fn write(&mut self, v: u8) {
        if let Some(cmd) = self.pending.take() {
            match cmd {
                0xF3 => {
                    self.sample_rate = v;
                    self.rates = [self.rates[1], self.rates[2], v];
                    if self.rates == [200, 100, 80] {
                        self.id = 3;
                    }
                }
                0xE8 => self.resolution = v & 3,
                _ => {}
            }
            self.out.push_back(ACK);
            return;
        }
        match v {
            0xF3 | 0xE8 => {
                self.pending = Some(v);
                self.out.push_back(ACK);
            }
            0xE6 => {
                self.scaling_2_1 = false;
                self.out.push_back(ACK);
            }
            0xE7 => {
                self.scaling_2_1 = true;
                self.out.push_back(ACK);
            }
            0xE9 => {
                let status = (self.remote as u8) << 6
                    | (self.enabled as u8) << 5
                    | (self.scaling_2_1 as u8) << 4
                    | (self.buttons & 1) << 2
                    | (self.buttons & 4) >> 1
                    | (self.buttons & 2) >> 1;
                self.out
                    .extend([ACK, status, self.resolution, self.sample_rate]);
            }
            0xEA => {
                self.remote = false;
                self.out.push_back(ACK);
            }
            0xEB => {
                self.out.push_back(ACK);
                self.push_packet(0, 0);
            }
            0xF0 => {
                self.remote = true;
                self.out.push_back(ACK);
            }
            0xF2 => self.out.extend([ACK, self.id]),
            0xF4 => {
                self.enabled = true;
                self.out.push_back(ACK);
            }
            0xF5 => {
                self.enabled = false;
                self.out.push_back(ACK);
            }
            0xF6 => {
                self.defaults();
                self.out.push_back(ACK);
            }
            0xFE => self.out.push_back(self.last_sent),
            0xFF => {
                self.defaults();
                self.id = 0;
                self.out.clear();
                self.out.extend([ACK, BAT_OK, 0x00]);
            }
            // Wrap mode is not modelled; its commands are acknowledged.
            0xEC | 0xEE => self.out.push_back(ACK),
            _ => self.out.push_back(RESEND),
        }
    }

    fn push_packet(&mut self, dx: i32, dy: i32) {
        let clamp = |v: i32| v.clamp(-256, 255);
        let (x, y) = (clamp(dx), clamp(dy));
        let mut b0 = 0x08 | (self.buttons & 7);
        if x < 0 {
            b0 |= 0x10;
        }
        if y < 0 {
            b0 |= 0x20;
        }
        if dx != x {
            b0 |= 0x40;
        }
        if dy != y {
            b0 |= 0x80;
        }
        self.out.extend([b0, x as u8, y as u8]);
        if self.id == 3 {
            self.out.push_back(0);
        }
    }

    /// The mouse moved by (`dx`, `dy`) (y up) with `buttons` held: a packet
    /// in stream mode with reporting enabled.
    pub fn motion(&mut self, dx: i32, dy: i32, buttons: u8) {
        self.buttons = buttons & 7;
        if self.enabled && !self.remote {
            self.push_packet(dx, dy);
        }
    }

    fn pop(&mut self) -> Option<u8> {
        let b = self.out.pop_front()?;
        self.last_sent = b;
        Some(b)
    }
}

/// Who put the byte in the output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// The controller or the keyboard (IRQ 1).
    Keyboard,
    /// The mouse (IRQ 12, AUXB set).
    Aux,
}

/// The keyboard controller with its two devices.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct I8042 {
    /// The keyboard.
    pub keyboard: Ps2Keyboard,
    /// The mouse.
    pub mouse: Ps2Mouse,
    /// Controller RAM; byte 0 is the command byte.
    pub ram: [u8; 32],
    /// Output port (P2): bit 0 reset (active low), bit 1 A20.
    pub output_port: u8,
    /// The output buffer and who filled it.
    pub output: Option<(u8, Source)>,
    /// Controller replies waiting for the output buffer.
    pub replies: VecDeque<(u8, Source)>,
    /// Command awaiting its data byte on port 60h.
    pub pending: Option<u8>,
    /// Status bit 3: the last write went to port 64h.
    pub last_was_command: bool,
    /// Earliest CPU cycle a device byte may enter the output buffer.
    pub next_at: u64,
    /// CPU cycles between device bytes.
    pub byte_delay: u64,
    /// A CPU reset was pulsed (FEh, or output port bit 0 written low).
    pub reset_requested: bool,
    /// The set 2 → set 1 translation saw an F0h break prefix.
    break_prefix: bool,
}

impl Default for I8042 {
    fn default() -> Self {
        let mut ram = [0; 32];
        // What the AT BIOS leaves: translation, SYS, keyboard IRQ enabled,
        // aux port disabled.
        ram[0] = CB_TRANSLATE | CB_AUX_OFF | CB_SYS | CB_IRQ1;
        I8042 {
            keyboard: Ps2Keyboard::default(),
            mouse: Ps2Mouse::default(),
            ram,
            output_port: 0xCF,
            output: None,
            replies: VecDeque::new(),
            pending: None,
            last_was_command: false,
            next_at: 0,
            byte_delay: DEFAULT_BYTE_DELAY,
            reset_requested: false,
            break_prefix: false,
        }
    }
}

impl I8042 {
    /// A controller at power-on (A20 enabled by the output port's reset value).
    pub fn new() -> Self {
        Self::default()
    }

    /// The command byte.
    pub fn command_byte(&self) -> u8 {
        self.ram[0]
    }

    /// Output port bit 1: the A20 gate.
    pub fn a20(&self) -> bool {
        self.output_port & 0x02 != 0
    }

    /// The IRQ 1 output.
    pub fn irq1(&self) -> bool {
        matches!(self.output, Some((_, Source::Keyboard))) && self.ram[0] & CB_IRQ1 != 0
    }

    /// The IRQ 12 output.
    pub fn irq12(&self) -> bool {
        matches!(self.output, Some((_, Source::Aux))) && self.ram[0] & CB_IRQ12 != 0
    }

    /// The status register (port 64h).
    pub fn status(&self) -> u8 {
        let mut s = 0x10; // keyboard not inhibited
        if self.output.is_some() {
            s |= 0x01;
        }
        if matches!(self.output, Some((_, Source::Aux))) {
            s |= 0x20;
        }
        if self.ram[0] & CB_SYS != 0 {
            s |= 0x04;
        }
        if self.last_was_command {
            s |= 0x08;
        }
        s
    }

    fn reply(&mut self, v: u8) {
        self.replies.push_back((v, Source::Keyboard));
    }

    /// Move the next waiting byte into an empty output buffer. Controller
    /// replies come at once; device bytes not before `next_at`.
    pub fn advance(&mut self, now: u64) {
        if self.output.is_some() {
            return;
        }
        if let Some(r) = self.replies.pop_front() {
            self.output = Some(r);
            return;
        }
        if now < self.next_at {
            return;
        }
        if self.ram[0] & CB_KBD_OFF == 0 {
            while let Some(b) = self.keyboard.pop() {
                if let Some(t) = self.translate(b) {
                    self.output = Some((t, Source::Keyboard));
                    return;
                }
            }
        }
        if self.ram[0] & CB_AUX_OFF == 0 {
            if let Some(b) = self.mouse.pop() {
                self.output = Some((b, Source::Aux));
            }
        }
    }

    /// Translation of keyboard bytes to set 1 (command byte bit 6); None
    /// when the byte is swallowed (the F0h prefix).
    fn translate(&mut self, b: u8) -> Option<u8> {
        if self.ram[0] & CB_TRANSLATE == 0 {
            return Some(b);
        }
        if b == 0xF0 {
            self.break_prefix = true;
            return None;
        }
        let t = set2_to_set1(b).unwrap_or(b);
        if std::mem::take(&mut self.break_prefix) {
            Some(t | 0x80)
        } else {
            Some(t)
        }
    }

    /// The CPU cycle at which a device byte may next enter the buffer.
    pub fn next_deadline(&self) -> Option<u64> {
        if self.output.is_some() || !self.replies.is_empty() {
            return None;
        }
        let kbd = self.ram[0] & CB_KBD_OFF == 0 && !self.keyboard.out.is_empty();
        let aux = self.ram[0] & CB_AUX_OFF == 0 && !self.mouse.out.is_empty();
        (kbd || aux).then_some(self.next_at)
    }

    /// Read port 60h (`data`) or 64h at CPU cycle `now`.
    pub fn io_read(&mut self, now: u64, data: bool) -> u8 {
        self.advance(now);
        if !data {
            return self.status();
        }
        match self.output.take() {
            Some((v, _)) => {
                self.next_at = now + self.byte_delay;
                self.advance(now);
                v
            }
            None => 0,
        }
    }

    /// Write port 60h (`data`) or 64h at CPU cycle `now`.
    pub fn io_write(&mut self, now: u64, data: bool, v: u8) {
        self.last_was_command = !data;
        if data {
            self.write_data(now, v);
        } else {
            self.command(v);
        }
        self.advance(now);
    }

    fn write_data(&mut self, now: u64, v: u8) {
        match self.pending.take() {
            Some(c @ 0x60..=0x7F) => self.ram[(c - 0x60) as usize] = v,
            Some(0xD1) => self.write_output_port(v),
            Some(0xD2) => self.replies.push_back((v, Source::Keyboard)),
            Some(0xD3) => self.replies.push_back((v, Source::Aux)),
            Some(0xD4) => {
                self.mouse.write(v);
                self.next_at = self.next_at.max(now + self.byte_delay);
            }
            _ => {
                // A byte for the keyboard; sending enables its interface.
                self.ram[0] &= !CB_KBD_OFF;
                self.keyboard.write(v);
                self.next_at = self.next_at.max(now + self.byte_delay);
            }
        }
    }

    fn write_output_port(&mut self, v: u8) {
        self.output_port = v;
        if v & 0x01 == 0 {
            self.reset_requested = true;
            self.output_port |= 0x01;
        }
    }

    fn command(&mut self, v: u8) {
        self.pending = None;
        match v {
            0x20..=0x3F => self.reply(self.ram[(v - 0x20) as usize]),
            0x60..=0x7F | 0xD1..=0xD4 => self.pending = Some(v),
            0xA7 => self.ram[0] |= CB_AUX_OFF,
            0xA8 => self.ram[0] &= !CB_AUX_OFF,
            // Interface tests: 00h = no error.
            0xA9 | 0xAB => self.reply(0x00),
            0xAA => {
                self.reply(0x55);
                // The self-test leaves the keyboard interface disabled
                // until the BIOS writes the command byte.
                self.ram[0] |= CB_KBD_OFF;
            }
            0xAD => self.ram[0] |= CB_KBD_OFF,
            0xAE => self.ram[0] &= !CB_KBD_OFF,
            // Input port: keyboard not inhibited (7), colour display (6 = 0),
            // no manufacturing jumper (5), 512K on the system board (4).
            0xC0 => self.reply(0xB0),
            0xD0 => {
                let mut p = self.output_port & 0x0F;
                if matches!(self.output, Some((_, Source::Keyboard))) {
                    p |= 0x10;
                }
                if matches!(self.output, Some((_, Source::Aux))) {
                    p |= 0x20;
                }
                self.reply(p | 0xC0);
            }
            // Non-standard A20 disable/enable that some BIOSes use.
            0xDD => self.output_port &= !0x02,
            0xDF => self.output_port |= 0x02,
            0xE0 => self.reply(0x00),
            // Pulse output port bits low for 6 µs: bit 0 pulses reset.
            0xF0..=0xFF if v & 0x01 == 0 => self.reset_requested = true,
            _ => {}
        }
    }

    /// Take the reset request (the board resets the CPU).
    pub fn take_reset(&mut self) -> bool {
        std::mem::take(&mut self.reset_requested)
    }
}
