//! DOM `KeyboardEvent.code` values to PC/XT scan codes (set 1).
//!
//! The make codes are the positions of the 83-key PC/XT keyboard as the IBM
//! Technical Reference numbers them (the break code is the make code with
//! bit 7 set). The XT keyboard has no separate cursor block: the arrows,
//! Home, End, Page Up/Down, Insert and Delete are the numeric keypad's keys,
//! and the right Ctrl/Alt are the left ones. `code` names a key by position,
//! so the guest sees the key pressed whatever the host's layout.

/// The XT make code of the key a DOM `KeyboardEvent.code` names, if the XT
/// keyboard has it. The codes come from the keyboard device's own tables
/// (`devices::keyboard`): this only translates the DOM's key names.
pub fn scancode(code: &str) -> Option<u8> {
    use devices::keyboard::{ascii_scancode, named_scancode};
    let single = |s: &str| -> Option<char> {
        let mut c = s.chars();
        match (c.next(), c.next()) {
            (Some(ch), None) => Some(ch),
            _ => None,
        }
    };
    if let Some(l) = code.strip_prefix("Key") {
        let c = single(l).filter(char::is_ascii_uppercase)?;
        return ascii_scancode(c.to_ascii_lowercase()).map(|(sc, _)| sc);
    }
    if let Some(d) = code.strip_prefix("Digit") {
        let c = single(d).filter(char::is_ascii_digit)?;
        return ascii_scancode(c).map(|(sc, _)| sc);
    }
    if let Some(f) = code.strip_prefix('F') {
        if let Ok(n) = f.parse::<u8>() {
            return match n {
                1..=10 => named_scancode(code),
                // The 101-key keyboard's additions, which XT software mostly ignores.
                11 => Some(0x57),
                12 => Some(0x58),
                _ => None,
            };
        }
    }
    let name = match code {
        "Escape" => "esc",
        "Minus" => "-",
        "Equal" => "=",
        "Backspace" => "backspace",
        "Tab" => "tab",
        "BracketLeft" => "[",
        "BracketRight" => "]",
        "Enter" | "NumpadEnter" => "enter",
        "ControlLeft" | "ControlRight" => "ctrl",
        "Semicolon" => ";",
        "Quote" => "'",
        "Backquote" => "`",
        "ShiftLeft" => "shift",
        "Backslash" | "IntlBackslash" => "\\",
        "Comma" => ",",
        "Period" => ".",
        "Slash" | "NumpadDivide" => "/",
        "ShiftRight" => "rshift",
        "AltLeft" | "AltRight" => "alt",
        "Space" => "space",
        "CapsLock" => "capslock",
        "NumLock" => "numlock",
        "ScrollLock" => "scrolllock",
        "Numpad7" | "Home" => "home",
        "Numpad8" | "ArrowUp" => "up",
        "Numpad9" | "PageUp" => "pgup",
        "Numpad4" | "ArrowLeft" => "left",
        "Numpad6" | "ArrowRight" => "right",
        "Numpad1" | "End" => "end",
        "Numpad2" | "ArrowDown" => "down",
        "Numpad3" | "PageDown" => "pgdn",
        "Numpad0" | "Insert" => "ins",
        "NumpadDecimal" | "Delete" => "del",
        // Keypad keys the device names no text for: their IBM key numbers.
        "NumpadMultiply" => return Some(0x37),
        "NumpadSubtract" => return Some(0x4A),
        "Numpad5" => return Some(0x4C),
        "NumpadAdd" => return Some(0x4E),
        _ => return None,
    };
    named_scancode(name)
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
