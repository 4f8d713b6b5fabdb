//! Emulator debug ports: the Bochs-style debug console (E9h) and the
//! QEMU-style isa-debug-exit device (F4h).

use serde::{Deserialize, Serialize};

/// Debug console port (writes append to the output; reads return E9h so
/// software can detect the port).
pub const DEBUGCON_PORT: u16 = 0xE9;
/// Exit request port.
pub const DEBUG_EXIT_PORT: u16 = 0xF4;

/// The two debug devices.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DebugPorts {
    /// Bytes written to port E9h.
    pub console: Vec<u8>,
    /// Exit status requested through port F4h: a write of V asks to exit
    /// with status (V << 1) | 1.
    pub exit: Option<i32>,
}

impl DebugPorts {
    /// Handle a write; returns true if the port is one of ours.
    pub fn io_write(&mut self, port: u16, v: u8) -> bool {
        match port {
            DEBUGCON_PORT => {
                self.console.push(v);
                true
            }
            DEBUG_EXIT_PORT => {
                self.exit = Some(((v as i32) << 1) | 1);
                true
            }
            _ => false,
        }
    }

    /// Handle a read.
    pub fn io_read(&self, port: u16) -> Option<u8> {
        (port == DEBUGCON_PORT).then_some(0xE9)
    }
}

/// The PC speaker: driven by PIT channel 2's output ANDed with port 61h bit 1
/// (and channel 2 counts only while port 61h bit 0 opens its gate).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Speaker {
    /// Port 61h bit 0: PIT channel 2 gate.
    pub timer_gate: bool,
    /// Port 61h bit 1: speaker data enable.
    pub data_enable: bool,
    /// PIT channel 2 output.
    pub timer_out: bool,
    /// Output level transitions seen (a crude activity measure).
    pub toggles: u64,
    level: bool,
}

impl Speaker {
    /// Update the inputs; tracks the resulting cone position.
    pub fn update(&mut self, timer_gate: bool, data_enable: bool, timer_out: bool) {
        self.timer_gate = timer_gate;
        self.data_enable = data_enable;
        self.timer_out = timer_out;
        let level = self.level();
        if level != self.level {
            self.toggles += 1;
            self.level = level;
        }
    }

    /// The speaker input: high when enabled and the timer output is high.
    pub fn level(&self) -> bool {
        self.data_enable && self.timer_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debugcon_and_exit() {
        let mut d = DebugPorts::default();
        assert!(d.io_write(0xE9, b'o'));
        assert!(d.io_write(0xE9, b'k'));
        assert_eq!(d.console, b"ok");
        assert_eq!(d.io_read(0xE9), Some(0xE9));
        assert!(d.exit.is_none());
        assert!(d.io_write(0xF4, 0x10));
        assert_eq!(d.exit, Some(0x21));
        assert!(!d.io_write(0x80, 1));
    }

    #[test]
    fn speaker_follows_gate_and_timer() {
        let mut s = Speaker::default();
        s.update(true, true, true);
        assert!(s.level());
        s.update(true, false, true);
        assert!(!s.level());
        assert_eq!(s.toggles, 2);
    }
}
