//! IBM PC/XT keyboard (scan code set 1) and the motherboard's keyboard
//! shift register read through the 8255 PPI port A (60h).
//!
//! The keyboard sends one byte at a time. When a byte has arrived, the shift
//! register holds it and raises IRQ 1; software reads port 60h and pulses
//! port 61h bit 7 high, which clears the register and drops IRQ 1, and the
//! next byte may then arrive. Holding the keyboard clock low (port 61h bit 6
//! = 0) and releasing it resets the keyboard, which answers with AAh.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Error for an unknown `<key>` name in typed text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown key name <{0}> (known: enter, esc, tab, backspace, space, up, down, left, right, home, end, pgup, pgdn, ins, del, f1..f10, ctrl+X, alt+X, shift+X)")]
pub struct UnknownKey(pub String);

/// Default time between two bytes from the keyboard, in CPU cycles (25 ms,
/// so a key's make and break codes take 50 ms: 20 keys a second). The BIOS
/// buffer holds 15 keys and a 4.77 MHz machine echoing to a CGA screen
/// consumes them slowly, so typing much faster overflows it, as it would
/// on the real machine. Change [`XtKeyboard::byte_interval`] to type faster.
pub const DEFAULT_BYTE_INTERVAL: u64 = 119_318;

/// Scan code of the left Shift key.
pub const SC_LSHIFT: u8 = 0x2A;
/// Scan code of the Ctrl key.
pub const SC_CTRL: u8 = 0x1D;
/// Scan code of the Alt key.
pub const SC_ALT: u8 = 0x38;

/// The keyboard and its shift register.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct XtKeyboard {
    /// Bytes the keyboard has yet to send.
    pub queue: VecDeque<u8>,
    /// Byte in the shift register (IRQ 1 is raised while it is held).
    pub latched: Option<u8>,
    /// Port 61h bit 7: shift register held clear.
    pub clear: bool,
    /// Port 61h bit 6: keyboard clock enabled (low holds the keyboard in reset).
    pub clock_enabled: bool,
    /// Earliest time (CPU cycles) the next byte may arrive.
    pub next_at: u64,
    /// CPU cycles between bytes.
    pub byte_interval: u64,
}

impl Default for XtKeyboard {
    fn default() -> Self {
        XtKeyboard {
            queue: VecDeque::new(),
            latched: None,
            clear: false,
            clock_enabled: true,
            next_at: 0,
            byte_interval: DEFAULT_BYTE_INTERVAL,
        }
    }
}

impl XtKeyboard {
    /// A keyboard with nothing to send.
    pub fn new() -> Self {
        Self::default()
    }

    /// Port 61h bits 6 (clock enable) and 7 (clear) changed, at time `now`.
    pub fn set_control(&mut self, now: u64, clock_enabled: bool, clear: bool) {
        if clock_enabled && !self.clock_enabled {
            // Clock released after being held low: the keyboard resets and
            // reports a successful self test.
            self.queue.clear();
            self.queue.push_back(0xAA);
            self.next_at = now + self.byte_interval;
        }
        self.clock_enabled = clock_enabled;
        if clear {
            self.latched = None;
            if !self.clear {
                self.next_at = self.next_at.max(now + self.byte_interval);
            }
        }
        self.clear = clear;
    }

    /// The value software reads from port 60h (zero when no byte is held).
    pub fn data(&self) -> u8 {
        self.latched.unwrap_or(0)
    }

    /// IRQ 1 line.
    pub fn irq(&self) -> bool {
        self.latched.is_some()
    }

    /// Deliver a byte if one is due at `now`. Returns true if IRQ 1 rose.
    pub fn tick(&mut self, now: u64) -> bool {
        if self.latched.is_none()
            && !self.clear
            && self.clock_enabled
            && now >= self.next_at
            && !self.queue.is_empty()
        {
            self.latched = self.queue.pop_front();
            self.next_at = now + self.byte_interval;
            return true;
        }
        false
    }

    /// When the keyboard next needs [`XtKeyboard::tick`] (CPU cycles), if ever.
    pub fn next_event(&self) -> Option<u64> {
        if self.latched.is_none() && !self.clear && self.clock_enabled && !self.queue.is_empty() {
            Some(self.next_at)
        } else {
            None
        }
    }

    /// Queue raw scan codes.
    pub fn push_scancodes(&mut self, codes: &[u8]) {
        self.queue.extend(codes.iter().copied());
    }

    /// Queue the make and break codes that type `text`: printable ASCII,
    /// `\n` (Enter), `\t`, `\x08` and `\x1b`, and key names in angle brackets
    /// such as `<enter>`, `<f1>`, `<ctrl+c>`, `<alt+x>`, `<up>`. `<<` types
    /// a literal `<`.
    pub fn type_text(&mut self, text: &str) -> Result<(), UnknownKey> {
        let codes = text_to_scancodes(text)?;
        self.push_scancodes(&codes);
        Ok(())
    }
}

/// Scan code (set 1) and whether Shift is needed, for an ASCII character.
pub fn ascii_scancode(c: char) -> Option<(u8, bool)> {
    const ROW_NUM: &[u8] = b"1234567890-=";
    const ROW_NUM_SHIFT: &[u8] = b"!@#$%^&*()_+";
    const ROW_Q: &[u8] = b"qwertyuiop[]";
    const ROW_Q_SHIFT: &[u8] = b"QWERTYUIOP{}";
    const ROW_A: &[u8] = b"asdfghjkl;'`";
    const ROW_A_SHIFT: &[u8] = b"ASDFGHJKL:\"~";
    const ROW_Z: &[u8] = b"\\zxcvbnm,./";
    const ROW_Z_SHIFT: &[u8] = b"|ZXCVBNM<>?";
    if !c.is_ascii() {
        return None;
    }
    let b = c as u8;
    let rows: [(&[u8], &[u8], u8); 4] = [
        (ROW_NUM, ROW_NUM_SHIFT, 0x02),
        (ROW_Q, ROW_Q_SHIFT, 0x10),
        (ROW_A, ROW_A_SHIFT, 0x1E),
        (ROW_Z, ROW_Z_SHIFT, 0x2B),
    ];
    for (plain, shifted, first) in rows {
        if let Some(i) = plain.iter().position(|&x| x == b) {
            return Some((first + i as u8, false));
        }
        if let Some(i) = shifted.iter().position(|&x| x == b) {
            return Some((first + i as u8, true));
        }
    }
    match b {
        b' ' => Some((0x39, false)),
        b'\n' | b'\r' => Some((0x1C, false)),
        b'\t' => Some((0x0F, false)),
        0x08 => Some((0x0E, false)),
        0x1B => Some((0x01, false)),
        _ => None,
    }
}

/// Scan code of a named key (lower case, without brackets).
pub fn named_scancode(name: &str) -> Option<u8> {
    let n = name.to_ascii_lowercase();
    let code = match n.as_str() {
        "enter" | "return" | "cr" => 0x1C,
        "esc" | "escape" => 0x01,
        "tab" => 0x0F,
        "backspace" | "bs" => 0x0E,
        "space" => 0x39,
        "ctrl" | "control" => SC_CTRL,
        "shift" | "lshift" => SC_LSHIFT,
        "rshift" => 0x36,
        "alt" => SC_ALT,
        "capslock" | "caps" => 0x3A,
        "numlock" => 0x45,
        "scrolllock" => 0x46,
        "home" => 0x47,
        "up" => 0x48,
        "pgup" | "pageup" => 0x49,
        "left" => 0x4B,
        "right" => 0x4D,
        "end" => 0x4F,
        "down" => 0x50,
        "pgdn" | "pagedown" => 0x51,
        "ins" | "insert" => 0x52,
        "del" | "delete" => 0x53,
        _ => {
            if let Some(num) = n.strip_prefix('f') {
                match num.parse::<u8>() {
                    Ok(k @ 1..=10) => 0x3A + k,
                    _ => return None,
                }
            } else {
                let mut chars = n.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => ascii_scancode(c)?.0,
                    _ => return None,
                }
            }
        }
    };
    Some(code)
}

fn press(out: &mut Vec<u8>, code: u8, shift: bool) {
    if shift {
        out.push(SC_LSHIFT);
    }
    out.push(code);
    out.push(code | 0x80);
    if shift {
        out.push(SC_LSHIFT | 0x80);
    }
}

/// Scan code set 2 make codes indexed by the set 1 make code (00h–58h), for
/// the PS/2 keyboard; 0 where set 1 has no key. E0-prefixed keys (cursor
/// block, right Ctrl/Alt, keypad Enter and /) keep the E0 prefix and use the
/// same mapping for the byte after it.
pub const SET1_TO_SET2: [u8; 0x59] = [
    0x00, 0x76, 0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36, // 00–07: -, Esc, 1–6
    0x3D, 0x3E, 0x46, 0x45, 0x4E, 0x55, 0x66, 0x0D, // 08–0F: 7–0, -, =, Bksp, Tab
    0x15, 0x1D, 0x24, 0x2D, 0x2C, 0x35, 0x3C, 0x43, // 10–17: Q W E R T Y U I
    0x44, 0x4D, 0x54, 0x5B, 0x5A, 0x14, 0x1C, 0x1B, // 18–1F: O P [ ] Enter Ctrl A S
    0x23, 0x2B, 0x34, 0x33, 0x3B, 0x42, 0x4B, 0x4C, // 20–27: D F G H J K L ;
    0x52, 0x0E, 0x12, 0x5D, 0x1A, 0x22, 0x21, 0x2A, // 28–2F: ' ` LShift \ Z X C V
    0x32, 0x31, 0x3A, 0x41, 0x49, 0x4A, 0x59, 0x7C, // 30–37: B N M , . / RShift KP*
    0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0C, 0x03, // 38–3F: Alt Space Caps F1–F5
    0x0B, 0x83, 0x0A, 0x01, 0x09, 0x77, 0x7E, 0x6C, // 40–47: F6–F10 NumLk ScrLk KP7
    0x75, 0x7D, 0x7B, 0x6B, 0x73, 0x74, 0x79,
    0x69, // 48–4F: KP8 KP9 KP- KP4 KP5 KP6 KP+ KP1
    0x72, 0x7A, 0x70, 0x71, 0x00, 0x00, 0x61, 0x78, // 50–57: KP2 KP3 KP0 KP. - - 102nd F11
    0x07, // 58: F12
];

/// The set 1 code of a set 2 code (the 8042's translation), or None for a
/// byte with no key (controller and keyboard responses pass unchanged).
pub fn set2_to_set1(code: u8) -> Option<u8> {
    SET1_TO_SET2
        .iter()
        .position(|&c| c == code && c != 0)
        .map(|i| i as u8)
}

/// Convert a stream of set 1 make/break codes (E0 prefixes included) to
/// set 2: a break code becomes F0 and the make code.
pub fn set1_stream_to_set2(codes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(codes.len() * 2);
    for &c in codes {
        if c == 0xE0 || c == 0xE1 {
            out.push(c);
            continue;
        }
        let make = SET1_TO_SET2.get((c & 0x7F) as usize).copied().unwrap_or(0);
        if make == 0 {
            continue;
        }
        if c & 0x80 != 0 {
            out.push(0xF0);
        }
        out.push(make);
    }
    out
}

/// Translate typed text (see [`XtKeyboard::type_text`]) to make/break codes.
pub fn text_to_scancodes(text: &str) -> Result<Vec<u8>, UnknownKey> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if rest.starts_with("<<") {
                press(&mut out, 0x33, true);
                rest = &rest[2..];
                continue;
            }
            if let Some(end) = rest.find('>') {
                let name = &rest[1..end];
                rest = &rest[end + 1..];
                let lower = name.to_ascii_lowercase();
                let mut modifiers = Vec::new();
                let mut key = lower.as_str();
                loop {
                    let (m, k) = match key.split_once(['+', '-']) {
                        Some((m, k)) if !m.is_empty() && !k.is_empty() => (m, k),
                        _ => break,
                    };
                    let code = match m {
                        "ctrl" | "control" | "c" => SC_CTRL,
                        "alt" | "a" => SC_ALT,
                        "shift" | "s" => SC_LSHIFT,
                        _ => break,
                    };
                    modifiers.push(code);
                    key = k;
                }
                let code = named_scancode(key).ok_or_else(|| UnknownKey(name.to_string()))?;
                out.extend(modifiers.iter().copied());
                out.push(code);
                out.push(code | 0x80);
                out.extend(modifiers.iter().rev().map(|m| m | 0x80));
                continue;
            }
        }
        let (code, shift) = ascii_scancode(c).ok_or_else(|| UnknownKey(c.to_string()))?;
        press(&mut out, code, shift);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set1_make_and_break_codes() {
        // Set 1: 'a' is 1Eh, its break code has bit 7 set (9Eh).
        assert_eq!(text_to_scancodes("a").unwrap(), vec![0x1E, 0x9E]);
        // Capital letters are wrapped in left Shift make/break.
        assert_eq!(
            text_to_scancodes("A").unwrap(),
            vec![0x2A, 0x1E, 0x9E, 0xAA]
        );
        assert_eq!(text_to_scancodes("1").unwrap(), vec![0x02, 0x82]);
        assert_eq!(text_to_scancodes("0").unwrap(), vec![0x0B, 0x8B]);
        assert_eq!(text_to_scancodes(" ").unwrap(), vec![0x39, 0xB9]);
        assert_eq!(text_to_scancodes("\n").unwrap(), vec![0x1C, 0x9C]);
        assert_eq!(text_to_scancodes("z").unwrap(), vec![0x2C, 0xAC]);
        assert_eq!(text_to_scancodes("/").unwrap(), vec![0x35, 0xB5]);
        assert_eq!(text_to_scancodes(":").unwrap()[1], 0x27);
        assert_eq!(text_to_scancodes("\\").unwrap(), vec![0x2B, 0xAB]);
    }

    #[test]
    fn named_keys() {
        assert_eq!(text_to_scancodes("<enter>").unwrap(), vec![0x1C, 0x9C]);
        assert_eq!(text_to_scancodes("<F1>").unwrap(), vec![0x3B, 0xBB]);
        assert_eq!(text_to_scancodes("<f10>").unwrap(), vec![0x44, 0xC4]);
        assert_eq!(text_to_scancodes("<esc>").unwrap(), vec![0x01, 0x81]);
        assert_eq!(text_to_scancodes("<up>").unwrap(), vec![0x48, 0xC8]);
        assert_eq!(
            text_to_scancodes("<ctrl+c>").unwrap(),
            vec![0x1D, 0x2E, 0xAE, 0x9D]
        );
        assert_eq!(
            text_to_scancodes("<ctrl+alt+del>").unwrap(),
            vec![0x1D, 0x38, 0x53, 0xD3, 0xB8, 0x9D]
        );
        assert_eq!(
            text_to_scancodes("<<").unwrap(),
            vec![0x2A, 0x33, 0xB3, 0xAA]
        );
        assert!(text_to_scancodes("<nosuchkey>").is_err());
    }

    #[test]
    fn shift_register_handshake() {
        let mut k = XtKeyboard::new();
        k.type_text("ab").unwrap();
        assert!(k.tick(0));
        assert!(k.irq());
        assert_eq!(k.data(), 0x1E);
        // No second byte until software clears the register.
        assert!(!k.tick(1_000_000));
        assert_eq!(k.data(), 0x1E);
        k.set_control(1_000_000, true, true);
        assert!(!k.irq());
        assert_eq!(k.data(), 0);
        k.set_control(1_000_001, true, false);
        assert_eq!(k.next_event(), Some(1_000_000 + DEFAULT_BYTE_INTERVAL));
        assert!(!k.tick(1_000_002));
        assert!(k.tick(1_000_000 + DEFAULT_BYTE_INTERVAL));
        assert_eq!(k.data(), 0x9E);
    }

    #[test]
    fn clock_low_resets_keyboard_to_aa() {
        let mut k = XtKeyboard::new();
        k.type_text("x").unwrap();
        k.set_control(0, false, true);
        k.set_control(100, true, false);
        assert_eq!(k.queue, vec![0xAA]);
        assert!(k.tick(100 + DEFAULT_BYTE_INTERVAL));
        assert_eq!(k.data(), 0xAA);
    }
}
