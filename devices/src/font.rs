//! Character glyphs and the code page 437 mapping.
//!
//! Glyphs come from the public-domain `font8x8` crate (never an IBM character
//! ROM): each code page 437 code is mapped to its Unicode character and that
//! character's 8×8 glyph is looked up. Row `r` of a glyph is a byte whose bit 0
//! is the leftmost pixel.

use font8x8::legacy::{BASIC_LEGACY, BLOCK_LEGACY, BOX_LEGACY, GREEK_LEGACY, LATIN_LEGACY};

/// Unicode characters for code page 437 codes 0x00–0x1F.
const CP437_LOW: &str = " ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼";

/// Unicode characters for code page 437 codes 0x80–0xFF.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}";

/// The Unicode character code page 437 shows for `code` (0x00 maps to a space,
/// 0x7F to the "house" glyph).
pub fn cp437_to_char(code: u8) -> char {
    match code {
        0x00..=0x1F => CP437_LOW.chars().nth(code as usize).unwrap_or(' '),
        0x7F => '⌂',
        0x20..=0x7E => code as char,
        _ => CP437_HIGH
            .chars()
            .nth((code - 0x80) as usize)
            .unwrap_or(' '),
    }
}

/// The 8×8 glyph of a Unicode character, if the font has one.
fn glyph_for_char(c: char) -> Option<[u8; 8]> {
    let u = c as u32;
    match u {
        0x00..=0x7F => Some(BASIC_LEGACY[u as usize]),
        0xA0..=0xFF => Some(LATIN_LEGACY[(u - 0xA0) as usize]),
        0x390..=0x3C9 => Some(GREEK_LEGACY[(u - 0x390) as usize]),
        0x2500..=0x257F => Some(BOX_LEGACY[(u - 0x2500) as usize]),
        0x2580..=0x259F => Some(BLOCK_LEGACY[(u - 0x2580) as usize]),
        _ => None,
    }
}

/// A filled box drawn for characters the font lacks (so they stay visible).
const MISSING: [u8; 8] = [0x00, 0x7E, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00];

/// The 8×8 glyph drawn for code page 437 code `code`.
pub fn glyph(code: u8) -> [u8; 8] {
    match code {
        0x00 | 0x20 | 0xFF => [0; 8],
        _ => glyph_for_char(cp437_to_char(code)).unwrap_or(MISSING),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_covers_every_code() {
        assert_eq!(CP437_LOW.chars().count(), 32);
        assert_eq!(CP437_HIGH.chars().count(), 128);
        assert_eq!(cp437_to_char(b'A'), 'A');
        assert_eq!(cp437_to_char(0xC4), '─');
        assert_eq!(cp437_to_char(0xDB), '█');
        assert_eq!(cp437_to_char(0x01), '☺');
    }

    #[test]
    fn glyphs() {
        assert_eq!(glyph(b' '), [0; 8]);
        // A full block is every pixel lit.
        assert_eq!(glyph(0xDB), [0xFF; 8]);
        // A horizontal box line lights one full row only.
        let g = glyph(0xC4);
        assert_eq!(g.iter().filter(|&&r| r == 0xFF).count(), 1);
        assert!(glyph(b'A').iter().any(|&r| r != 0));
    }
}
