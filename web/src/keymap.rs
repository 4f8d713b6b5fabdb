//! DOM `KeyboardEvent.code` values to PC/XT scan codes (set 1).
//!
//! The make codes are the positions of the 83-key PC/XT keyboard as the IBM
//! Technical Reference numbers them (the break code is the make code with
//! bit 7 set). The XT keyboard has no separate cursor block: the arrows,
//! Home, End, Page Up/Down, Insert and Delete are the numeric keypad's keys,
//! and the right Ctrl/Alt are the left ones. `code` names a key by position,
//! so the guest sees the key pressed whatever the host's layout.

/// The XT make code of the key a DOM `KeyboardEvent.code` names, if the XT
/// keyboard has it.
pub fn scancode(code: &str) -> Option<u8> {
    // Letter keys by row, as they lie on the keyboard.
    const ROW_Q: &[u8] = b"QWERTYUIOP";
    const ROW_A: &[u8] = b"ASDFGHJKL";
    const ROW_Z: &[u8] = b"ZXCVBNM";
    if let Some(l) = code.strip_prefix("Key") {
        let c = *l.as_bytes().first()?;
        if l.len() != 1 {
            return None;
        }
        for (row, first) in [(ROW_Q, 0x10u8), (ROW_A, 0x1E), (ROW_Z, 0x2C)] {
            if let Some(i) = row.iter().position(|&k| k == c) {
                return Some(first + i as u8);
            }
        }
        return None;
    }
    if let Some(d) = code.strip_prefix("Digit") {
        // 1..9 then 0 run from 02h to 0Bh.
        let n: u8 = d.parse().ok().filter(|&n: &u8| n <= 9)?;
        return Some(if n == 0 { 0x0B } else { 0x01 + n });
    }
    if let Some(f) = code.strip_prefix('F') {
        if let Ok(n) = f.parse::<u8>() {
            return match n {
                1..=10 => Some(0x3A + n),
                // The 101-key keyboard's additions, which XT software mostly ignores.
                11 => Some(0x57),
                12 => Some(0x58),
                _ => None,
            };
        }
    }
    Some(match code {
        "Escape" => 0x01,
        "Minus" => 0x0C,
        "Equal" => 0x0D,
        "Backspace" => 0x0E,
        "Tab" => 0x0F,
        "BracketLeft" => 0x1A,
        "BracketRight" => 0x1B,
        "Enter" | "NumpadEnter" => 0x1C,
        "ControlLeft" | "ControlRight" => 0x1D,
        "Semicolon" => 0x27,
        "Quote" => 0x28,
        "Backquote" => 0x29,
        "ShiftLeft" => 0x2A,
        "Backslash" | "IntlBackslash" => 0x2B,
        "Comma" => 0x33,
        "Period" => 0x34,
        "Slash" | "NumpadDivide" => 0x35,
        "ShiftRight" => 0x36,
        "NumpadMultiply" => 0x37,
        "AltLeft" | "AltRight" => 0x38,
        "Space" => 0x39,
        "CapsLock" => 0x3A,
        "NumLock" => 0x45,
        "ScrollLock" => 0x46,
        "Numpad7" | "Home" => 0x47,
        "Numpad8" | "ArrowUp" => 0x48,
        "Numpad9" | "PageUp" => 0x49,
        "NumpadSubtract" => 0x4A,
        "Numpad4" | "ArrowLeft" => 0x4B,
        "Numpad5" => 0x4C,
        "Numpad6" | "ArrowRight" => 0x4D,
        "NumpadAdd" => 0x4E,
        "Numpad1" | "End" => 0x4F,
        "Numpad2" | "ArrowDown" => 0x50,
        "Numpad3" | "PageDown" => 0x51,
        "Numpad0" | "Insert" => 0x52,
        "NumpadDecimal" | "Delete" => 0x53,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::scancode;

    #[test]
    fn rows_follow_the_keyboard() {
        // Q starts the top letter row at 10h, A the home row at 1Eh, Z the
        // bottom row at 2Ch; P, L and M end them (10h+9, 1Eh+8, 2Ch+6).
        assert_eq!(scancode("KeyQ"), Some(0x10));
        assert_eq!(scancode("KeyP"), Some(0x19));
        assert_eq!(scancode("KeyA"), Some(0x1E));
        assert_eq!(scancode("KeyL"), Some(0x26));
        assert_eq!(scancode("KeyZ"), Some(0x2C));
        assert_eq!(scancode("KeyM"), Some(0x32));
        // Esc is key 1; the digit row follows it, 1 as 02h and 0 as 0Bh.
        assert_eq!(scancode("Escape"), Some(0x01));
        assert_eq!(scancode("Digit1"), Some(0x02));
        assert_eq!(scancode("Digit9"), Some(0x0A));
        assert_eq!(scancode("Digit0"), Some(0x0B));
        // F1 is 3Bh and F10 44h: ten consecutive codes.
        assert_eq!(scancode("F1"), Some(0x3B));
        assert_eq!(scancode("F10"), Some(0x44));
        assert_eq!(scancode("Enter"), Some(0x1C));
        assert_eq!(scancode("Space"), Some(0x39));
        // The cursor keys are the keypad's 8, 4, 6, 2.
        assert_eq!(scancode("ArrowUp"), scancode("Numpad8"));
        assert_eq!(scancode("ArrowUp"), Some(0x48));
        assert_eq!(scancode("ArrowDown"), Some(0x50));
    }

    #[test]
    fn unknown_keys_are_none() {
        for code in [
            "", "Key", "KeyAB", "Digit", "Digit10", "F13", "MetaLeft", "Fn",
        ] {
            assert_eq!(scancode(code), None, "{code}");
        }
    }

    #[test]
    fn agrees_with_the_keyboard_device_on_letters_and_digits() {
        // devices::keyboard maps ASCII independently; the two tables must agree.
        for c in ('a'..='z').chain('0'..='9') {
            let code = if c.is_ascii_digit() {
                format!("Digit{c}")
            } else {
                format!("Key{}", c.to_ascii_uppercase())
            };
            let (sc, _) = devices::keyboard::ascii_scancode(c).unwrap();
            assert_eq!(scancode(&code), Some(sc), "{code}");
        }
    }
}
