//! CGA and MDA display adapters around a Motorola 6845 CRTC.
//!
//! Timing is derived from the CPU clock: the CPU clock (4.77 MHz) is the
//! CGA's 14.31818 MHz dot clock divided by three, so a CGA scan line of 912
//! dots is 304 CPU clocks and a frame of 262 lines 79,648. Only the
//! status register depends on time, so the adapter needs no scheduled events:
//! callers pass the current time in CPU cycles.

use crate::font;
use serde::{Deserialize, Serialize};

/// Which adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoKind {
    /// IBM Color/Graphics Adapter: 16 KiB at B8000h, ports 3D0h–3DFh.
    Cga,
    /// IBM Monochrome Display Adapter: 4 KiB at B0000h, ports 3B0h–3BFh.
    Mda,
}

/// The 6845 CRT controller: an address register and 18 data registers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Crtc6845 {
    /// Selected register (address register, 5 bits).
    pub index: u8,
    /// R0–R17.
    pub regs: [u8; 18],
}

/// Masks of the implemented bits of R0–R17 (others read/write as zero).
const CRTC_MASKS: [u8; 18] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x1F, 0x7F, 0x7F, 0x03, 0x1F, 0x7F, 0x1F, 0x3F, 0xFF, 0x3F, 0xFF,
    0x3F, 0xFF,
];

impl Crtc6845 {
    /// Write the address register.
    pub fn write_index(&mut self, v: u8) {
        self.index = v & 0x1F;
    }

    /// Write the selected data register (R16/R17, the light pen, are read only).
    pub fn write_data(&mut self, v: u8) {
        let i = self.index as usize;
        if i < 16 {
            self.regs[i] = v & CRTC_MASKS[i];
        }
    }

    /// Read the selected data register: only R14–R17 are readable on the 6845.
    pub fn read_data(&self) -> u8 {
        match self.index {
            14..=17 => self.regs[self.index as usize],
            _ => 0,
        }
    }

    /// Display start address (R12:R13), in character positions.
    pub fn start_address(&self) -> u16 {
        ((self.regs[12] as u16) << 8) | self.regs[13] as u16
    }

    /// Cursor address (R14:R15), in character positions.
    pub fn cursor_address(&self) -> u16 {
        ((self.regs[14] as u16) << 8) | self.regs[15] as u16
    }
}

/// CGA 16-colour palette (RGBI), as 8-bit RGB; colour 6 is brown.
pub const CGA_PALETTE: [[u8; 3]; 16] = [
    [0x00, 0x00, 0x00],
    [0x00, 0x00, 0xAA],
    [0x00, 0xAA, 0x00],
    [0x00, 0xAA, 0xAA],
    [0xAA, 0x00, 0x00],
    [0xAA, 0x00, 0xAA],
    [0xAA, 0x55, 0x00],
    [0xAA, 0xAA, 0xAA],
    [0x55, 0x55, 0x55],
    [0x55, 0x55, 0xFF],
    [0x55, 0xFF, 0x55],
    [0x55, 0xFF, 0xFF],
    [0xFF, 0x55, 0x55],
    [0xFF, 0x55, 0xFF],
    [0xFF, 0xFF, 0x55],
    [0xFF, 0xFF, 0xFF],
];

/// CPU clocks per CGA scan line (912 dots at 3 dots per CPU clock).
pub const CGA_CYCLES_PER_LINE: u64 = 304;
/// Scan lines per CGA frame.
pub const CGA_LINES_PER_FRAME: u64 = 262;
/// First scan line of vertical sync in the standard CGA modes.
pub const CGA_VSYNC_START: u64 = 224;

/// Raster geometry of the current mode, in dots and scan lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raster {
    /// Dots per scan line, retrace included.
    pub dots_per_line: u64,
    /// Dots shown per line.
    pub visible_dots: u64,
    /// Scan lines per frame.
    pub lines: u64,
    /// Scan lines shown.
    pub visible_lines: u64,
    /// First line of vertical sync.
    pub vsync_start: u64,
    /// Lines of vertical sync.
    pub vsync_lines: u64,
}

/// Mode control register bits (CGA port 3D8h).
pub mod mode {
    /// 80×25 text (high-resolution character clock).
    pub const HIRES_TEXT: u8 = 0x01;
    /// Graphics (320×200 or 640×200).
    pub const GRAPHICS: u8 = 0x02;
    /// Black and white (colour burst off; palette 3 in 320×200).
    pub const BW: u8 = 0x04;
    /// Video output enabled.
    pub const ENABLE: u8 = 0x08;
    /// 640×200 two-colour graphics.
    pub const HIRES_GRAPHICS: u8 = 0x10;
    /// Attribute bit 7 blinks (else it selects a bright background).
    pub const BLINK: u8 = 0x20;
}

/// A CGA or MDA card: CRTC, registers, video memory and the RGB frame buffer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Video {
    /// Which adapter this is.
    pub kind: VideoKind,
    /// The CRT controller.
    pub crtc: Crtc6845,
    /// Mode control register (3D8h / 3B8h).
    pub mode: u8,
    /// CGA colour select register (3D9h).
    pub color_select: u8,
    /// Video memory (16 KiB on CGA, 4 KiB on MDA).
    pub vram: Vec<u8>,
    #[serde(skip)]
    fb: Vec<u8>,
    #[serde(skip)]
    fb_size: (usize, usize),
}

impl Video {
    /// A powered-up adapter (all registers zero, video memory cleared).
    pub fn new(kind: VideoKind) -> Self {
        let size = match kind {
            VideoKind::Cga => 16 * 1024,
            VideoKind::Mda => 4 * 1024,
        };
        Video {
            kind,
            crtc: Crtc6845::default(),
            mode: 0,
            color_select: 0,
            vram: vec![0; size],
            fb: Vec::new(),
            fb_size: (0, 0),
        }
    }

    /// The memory window (physical base address, length) the card decodes;
    /// video memory is mirrored across it.
    pub fn memory_window(&self) -> (u32, u32) {
        match self.kind {
            VideoKind::Cga => (0xB8000, 0x8000),
            VideoKind::Mda => (0xB0000, 0x8000),
        }
    }

    /// Read video memory at `offset` from the window base.
    #[inline]
    pub fn mem_read(&self, offset: u32) -> u8 {
        self.vram[offset as usize & (self.vram.len() - 1)]
    }

    /// Write video memory at `offset` from the window base.
    #[inline]
    pub fn mem_write(&mut self, offset: u32, v: u8) {
        let m = self.vram.len() - 1;
        self.vram[offset as usize & m] = v;
    }

    /// Base I/O port: 3D0h (CGA) or 3B0h (MDA).
    fn port_base(&self) -> u16 {
        match self.kind {
            VideoKind::Cga => 0x3D0,
            VideoKind::Mda => 0x3B0,
        }
    }

    /// True if the card decodes `port`.
    pub fn claims_port(&self, port: u16) -> bool {
        port & 0xFFF0 == self.port_base()
    }

    /// Read an I/O port at time `now` (CPU cycles).
    pub fn io_read(&mut self, port: u16, now: u64) -> u8 {
        match port & 0xF {
            // The CRTC is decoded at every even/odd pair of 3x0h–3x7h.
            0x1 | 0x3 | 0x5 | 0x7 => self.crtc.read_data(),
            0xA => self.status(now),
            _ => 0xFF,
        }
    }

    /// Write an I/O port.
    pub fn io_write(&mut self, port: u16, v: u8) {
        match port & 0xF {
            0x0 | 0x2 | 0x4 | 0x6 => self.crtc.write_index(v),
            0x1 | 0x3 | 0x5 | 0x7 => self.crtc.write_data(v),
            0x8 => self.mode = v,
            0x9 if self.kind == VideoKind::Cga => self.color_select = v,
            _ => {}
        }
    }

    /// Raster geometry in dots and scan lines, from the CRTC registers
    /// (horizontal total R0, displayed R1, vertical total R4, adjust R5,
    /// displayed R6, sync position R7, scan lines per row R9). Before the
    /// CRTC is programmed the adapter's standard 80x25 timing is used.
    pub fn raster(&self) -> Raster {
        let r = &self.crtc.regs;
        let standard = match self.kind {
            VideoKind::Cga => Raster {
                dots_per_line: 912,
                visible_dots: 640,
                lines: 262,
                visible_lines: 200,
                vsync_start: 224,
                vsync_lines: 16,
            },
            VideoKind::Mda => Raster {
                dots_per_line: 882,
                visible_dots: 720,
                lines: 370,
                visible_lines: 350,
                vsync_start: 354,
                vsync_lines: 16,
            },
        };
        if r[0] == 0 || r[1] == 0 || r[4] == 0 || r[1] > r[0] {
            return standard;
        }
        let dots_per_char: u64 = match self.kind {
            VideoKind::Mda => 9,
            VideoKind::Cga if self.mode & mode::HIRES_TEXT != 0 => 8,
            VideoKind::Cga => 16,
        };
        let row_lines = (r[9] as u64 & 0x1F) + 1;
        let lines = (r[4] as u64 + 1) * row_lines + (r[5] as u64 & 0x1F);
        Raster {
            dots_per_line: (r[0] as u64 + 1) * dots_per_char,
            visible_dots: r[1] as u64 * dots_per_char,
            lines,
            visible_lines: (r[6] as u64 * row_lines).min(lines),
            vsync_start: r[7] as u64 * row_lines,
            // The 6845's vertical sync is 16 scan lines wide.
            vsync_lines: 16,
        }
    }

    /// Dots of the adapter's clock elapsed at CPU cycle `now` (the CGA's
    /// 14.318 MHz is exactly three CPU clocks; the MDA runs at 16.257 MHz).
    fn dots(&self, now: u64) -> u64 {
        match self.kind {
            VideoKind::Cga => now * 3,
            VideoKind::Mda => ((now as u128 * 16_257_000) / 4_772_727) as u64,
        }
    }

    /// The status register (3DAh / 3BAh) at time `now`.
    ///
    /// CGA: bit 0 is set while the display is not showing pixels (horizontal
    /// or vertical retrace), bit 3 during vertical sync. MDA: bit 0 is the
    /// horizontal drive, bit 3 the video dot stream.
    pub fn status(&self, now: u64) -> u8 {
        let r = self.raster();
        let t = self.dots(now) % (r.dots_per_line * r.lines);
        let line = t / r.dots_per_line;
        let pos = t % r.dots_per_line;
        let mut s = 0xF0;
        match self.kind {
            VideoKind::Cga => {
                if pos >= r.visible_dots || line >= r.visible_lines {
                    s |= 0x01;
                }
                if (r.vsync_start..r.vsync_start + r.vsync_lines).contains(&line) {
                    s |= 0x08;
                }
            }
            VideoKind::Mda => {
                if pos >= r.visible_dots {
                    s |= 0x01;
                }
                // The video signal toggles while dots are drawn.
                if line < r.visible_lines && pos < r.visible_dots && (pos / 9) % 2 == 0 {
                    s |= 0x08;
                }
            }
        }
        s
    }

    /// CPU cycles per frame (for callers that want to refresh once a frame).
    pub fn cycles_per_frame(&self) -> u64 {
        let r = self.raster();
        let dots = r.dots_per_line * r.lines;
        match self.kind {
            VideoKind::Cga => dots / 3,
            VideoKind::Mda => ((dots as u128 * 4_772_727) / 16_257_000) as u64,
        }
    }

    /// True in a text mode.
    pub fn is_text(&self) -> bool {
        self.kind == VideoKind::Mda || self.mode & mode::GRAPHICS == 0
    }

    /// Text columns (from the mode register: 40 or 80).
    pub fn text_columns(&self) -> usize {
        if self.kind == VideoKind::Mda || self.mode & mode::HIRES_TEXT != 0 {
            80
        } else {
            40
        }
    }

    /// Text rows: R6 (vertical displayed) when programmed sensibly, else 25.
    pub fn text_rows(&self) -> usize {
        match self.crtc.regs[6] {
            r @ 1..=50 => r as usize,
            _ => 25,
        }
    }

    /// The text screen: `rows` lines of `columns` characters each (code page
    /// 437 shown as Unicode, NUL as a space), joined by newlines. In a
    /// graphics mode the lines are blank.
    pub fn screen_text(&self) -> String {
        let cols = self.text_columns();
        let rows = self.text_rows();
        let start = self.crtc.start_address() as usize * 2;
        let mut s = String::with_capacity(rows * (cols + 1) * 2);
        for r in 0..rows {
            for c in 0..cols {
                if self.is_text() {
                    let a = start + (r * cols + c) * 2;
                    let ch = self.vram[a & (self.vram.len() - 1)];
                    s.push(font::cp437_to_char(ch));
                } else {
                    s.push(' ');
                }
            }
            if r + 1 < rows {
                s.push('\n');
            }
        }
        s
    }

    /// Render the current contents and return (width, height, RGB bytes).
    ///
    /// CGA text and graphics render 640 pixels wide (40-column text and
    /// 320×200 pixels are doubled horizontally); text is 8 pixels per row.
    pub fn framebuffer(&mut self) -> (usize, usize, &[u8]) {
        let (w, h) = match self.kind {
            VideoKind::Mda => (720, self.text_rows() * 14),
            VideoKind::Cga if self.is_text() => (640, self.text_rows() * 8),
            VideoKind::Cga => (640, 200),
        };
        self.fb_size = (w, h);
        self.fb.clear();
        self.fb.resize(w * h * 3, 0);
        let enabled = self.mode & mode::ENABLE != 0;
        if enabled {
            if self.is_text() {
                self.render_text();
            } else if self.mode & mode::HIRES_GRAPHICS != 0 {
                self.render_640();
            } else {
                self.render_320();
            }
        }
        (w, h, &self.fb)
    }

    fn put(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        let i = (y * self.fb_size.0 + x) * 3;
        self.fb[i..i + 3].copy_from_slice(&rgb);
    }

    /// (foreground, background, underline) for a text attribute.
    fn text_colors(&self, attr: u8) -> ([u8; 3], [u8; 3], bool) {
        match self.kind {
            VideoKind::Cga => {
                let fg = CGA_PALETTE[(attr & 0x0F) as usize];
                let bg_index = if self.mode & mode::BLINK != 0 {
                    (attr >> 4) & 0x07
                } else {
                    attr >> 4
                };
                (fg, CGA_PALETTE[bg_index as usize], false)
            }
            VideoKind::Mda => {
                let on = [0xAA, 0xAA, 0xAA];
                let bright = [0xFF, 0xFF, 0xFF];
                let off = [0, 0, 0];
                let fg_bits = attr & 0x07;
                let bg_bits = (attr >> 4) & 0x07;
                if fg_bits == 0 && bg_bits == 7 {
                    (off, on, false) // reverse video
                } else if fg_bits == 0 {
                    (off, off, false) // invisible
                } else {
                    let fg = if attr & 0x08 != 0 { bright } else { on };
                    (fg, off, fg_bits == 1)
                }
            }
        }
    }

    fn render_text(&mut self) {
        let cols = self.text_columns();
        let rows = self.text_rows();
        // Character cells: CGA 8x8 (doubled across in 40 columns), MDA 9x14
        // (the 8x8 glyph stretched down; the ninth column repeats the
        // eighth for the line-drawing codes C0h-DFh, as the MDA does).
        let (cell_w, cell_h, scale) = match self.kind {
            VideoKind::Mda => (9, 14, 1),
            VideoKind::Cga => (8, 8, 640 / (cols * 8)),
        };
        let start = self.crtc.start_address() as usize;
        let cursor = self.crtc.cursor_address() as usize;
        // R10 bits 6:5 = 01 hides the cursor.
        let cursor_on = self.crtc.regs[10] & 0x60 != 0x20;
        let (cur_start, cur_end) = (
            (self.crtc.regs[10] & 0x1F) as usize,
            (self.crtc.regs[11] & 0x1F) as usize,
        );
        let underline_row = cell_h - 1;
        let mask = self.vram.len() - 1;
        for r in 0..rows {
            for c in 0..cols {
                let cell = start + r * cols + c;
                let ch = self.vram[(cell * 2) & mask];
                let attr = self.vram[(cell * 2 + 1) & mask];
                let (fg, bg, underline) = self.text_colors(attr);
                let g = font::glyph(ch);
                for y in 0..cell_h {
                    let mut bits = g[y * 8 / cell_h] as u16;
                    if self.kind == VideoKind::Mda
                        && (0xC0..=0xDF).contains(&ch)
                        && bits & 0x80 != 0
                    {
                        bits |= 0x100;
                    }
                    if underline && y == underline_row {
                        bits = 0x1FF;
                    }
                    if cursor_on
                        && cell == cursor
                        && cur_start <= cur_end
                        && y >= cur_start.min(cell_h - 1)
                        && y <= cur_end.min(cell_h - 1)
                    {
                        bits = 0x1FF;
                    }
                    for x in 0..cell_w {
                        let rgb = if bits & (1 << x) != 0 { fg } else { bg };
                        for s in 0..scale {
                            self.put((c * cell_w + x) * scale + s, r * cell_h + y, rgb);
                        }
                    }
                }
            }
        }
    }

    /// Byte offset of graphics row `y` (even rows in the first 8 KiB bank, odd in the second).
    fn gfx_row(&self, y: usize) -> usize {
        self.crtc.start_address() as usize * 2 + (y & 1) * 0x2000 + (y >> 1) * 80
    }

    fn render_320(&mut self) {
        let bg = CGA_PALETTE[(self.color_select & 0x0F) as usize];
        let bright = if self.color_select & 0x10 != 0 { 8 } else { 0 };
        let set: [usize; 3] = if self.mode & mode::BW != 0 {
            [3, 4, 7]
        } else if self.color_select & 0x20 != 0 {
            [3, 5, 7]
        } else {
            [2, 4, 6]
        };
        let mask = self.vram.len() - 1;
        for y in 0..200 {
            let base = self.gfx_row(y);
            for x in 0..320 {
                let byte = self.vram[(base + x / 4) & mask];
                let p = (byte >> (6 - 2 * (x % 4))) & 3;
                let rgb = if p == 0 {
                    bg
                } else {
                    CGA_PALETTE[set[p as usize - 1] + bright]
                };
                self.put(x * 2, y, rgb);
                self.put(x * 2 + 1, y, rgb);
            }
        }
    }

    fn render_640(&mut self) {
        let fg = CGA_PALETTE[(self.color_select & 0x0F) as usize];
        let mask = self.vram.len() - 1;
        for y in 0..200 {
            let base = self.gfx_row(y);
            for x in 0..640 {
                let byte = self.vram[(base + x / 8) & mask];
                let on = byte & (0x80 >> (x % 8)) != 0;
                self.put(x, y, if on { fg } else { [0, 0, 0] });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cga_80x25() -> Video {
        let mut v = Video::new(VideoKind::Cga);
        v.io_write(0x3D8, mode::HIRES_TEXT | mode::ENABLE | mode::BLINK);
        v.io_write(0x3D4, 6);
        v.io_write(0x3D5, 25);
        v.io_write(0x3D4, 10);
        v.io_write(0x3D5, 0x20); // cursor off
        v
    }

    #[test]
    fn crtc_registers_read_back_only_cursor_and_lightpen() {
        let mut v = Video::new(VideoKind::Cga);
        v.io_write(0x3D4, 14);
        v.io_write(0x3D5, 0x12);
        v.io_write(0x3D4, 15);
        v.io_write(0x3D5, 0x34);
        assert_eq!(v.crtc.cursor_address(), 0x1234);
        v.io_write(0x3D4, 14);
        assert_eq!(v.io_read(0x3D5, 0), 0x12);
        v.io_write(0x3D4, 1);
        v.io_write(0x3D5, 80);
        assert_eq!(v.io_read(0x3D5, 0), 0, "R1 is write-only");
        // R14 has 6 bits on the 6845.
        v.io_write(0x3D4, 14);
        v.io_write(0x3D5, 0xFF);
        assert_eq!(v.io_read(0x3D5, 0), 0x3F);
    }

    #[test]
    fn cga_status_retrace_timing() {
        let v = Video::new(VideoKind::Cga);
        // Start of a frame: drawing pixels, no retrace.
        assert_eq!(v.status(0) & 0x09, 0);
        // End of a visible line: horizontal retrace sets bit 0 only.
        assert_eq!(v.status(CGA_CYCLES_PER_LINE - 1) & 0x09, 0x01);
        // During vertical sync both bits are set.
        let t = CGA_VSYNC_START * CGA_CYCLES_PER_LINE + 10;
        assert_eq!(v.status(t) & 0x09, 0x09);
        // A frame later the pattern repeats (~60 Hz: 4.77 MHz / 79648).
        let frame = v.cycles_per_frame();
        assert_eq!(frame, 79_648);
        assert_eq!(v.status(frame + 5) & 0x09, 0);
    }

    fn program_crtc(v: &mut Video, regs: &[u8]) {
        for (i, &r) in regs.iter().enumerate() {
            v.io_write(0x3D4, i as u8);
            v.io_write(0x3D5, r);
        }
    }

    #[test]
    fn retrace_timing_follows_crtc_registers() {
        let mut v = Video::new(VideoKind::Cga);
        v.io_write(0x3D8, mode::HIRES_TEXT | mode::ENABLE);
        // The standard 80x25 register set: 114 characters of 8 dots per
        // line, 32 rows of 8 lines plus 6 = 262 lines, sync at row 28.
        program_crtc(&mut v, &[113, 80, 90, 10, 31, 6, 25, 28, 2, 7]);
        assert_eq!(v.cycles_per_frame(), 79_648);
        let r = v.raster();
        assert_eq!((r.dots_per_line, r.lines, r.vsync_start), (912, 262, 224));
        // 40 columns: 57 characters of 16 dots is the same line length.
        v.io_write(0x3D8, mode::ENABLE);
        program_crtc(&mut v, &[56, 40, 45, 10, 31, 6, 25, 28, 2, 7]);
        assert_eq!(v.raster().dots_per_line, 912);
        // A taller frame (vertical total 63 rows) takes twice as long and
        // moves vertical sync with R7.
        v.io_write(0x3D8, mode::HIRES_TEXT | mode::ENABLE);
        program_crtc(&mut v, &[113, 80, 90, 10, 63, 6, 25, 50, 2, 7]);
        assert_eq!(v.raster().lines, 518);
        let line = |n: u64| n * 304 + 5;
        assert_eq!(v.status(line(224)) & 0x08, 0);
        assert_eq!(v.status(line(400)) & 0x08, 0x08);
    }

    #[test]
    fn text_rendering_to_framebuffer() {
        let mut v = cga_80x25();
        // 'A' in bright white on blue at row 0, column 1.
        v.mem_write(2, b'A');
        v.mem_write(3, 0x1F);
        // A full block, red on black, at row 1, column 0.
        v.mem_write(160, 0xDB);
        v.mem_write(161, 0x04);
        let (w, h, fb) = v.framebuffer();
        assert_eq!((w, h), (640, 200));
        let px = |x: usize, y: usize| {
            let i = (y * w + x) * 3;
            [fb[i], fb[i + 1], fb[i + 2]]
        };
        // Cell (0,1) spans x 8..16: background blue, some pixels white.
        let cell: Vec<[u8; 3]> = (0..8)
            .flat_map(|y| (8..16).map(move |x| (x, y)))
            .map(|(x, y)| px(x, y))
            .collect();
        assert!(cell.contains(&[0xFF, 0xFF, 0xFF]));
        assert!(cell.contains(&[0x00, 0x00, 0xAA]));
        assert!(cell
            .iter()
            .all(|c| *c == [0xFF, 0xFF, 0xFF] || *c == [0, 0, 0xAA]));
        // The block fills its whole cell with red.
        for y in 8..16 {
            for x in 0..8 {
                assert_eq!(px(x, y), [0xAA, 0, 0]);
            }
        }
        // Empty cells are black.
        assert_eq!(px(639, 199), [0, 0, 0]);
        let text = v.screen_text();
        assert_eq!(text.lines().count(), 25);
        assert!(text.lines().next().unwrap().starts_with(" A "));
        assert_eq!(text.lines().next().unwrap().chars().count(), 80);
        assert!(text.lines().nth(1).unwrap().starts_with('█'));
    }

    #[test]
    fn start_address_scrolls_text() {
        let mut v = cga_80x25();
        v.mem_write(160, b'Z');
        v.io_write(0x3D4, 12);
        v.io_write(0x3D5, 0);
        v.io_write(0x3D4, 13);
        v.io_write(0x3D5, 80);
        assert!(v.screen_text().starts_with('Z'));
    }

    #[test]
    fn forty_column_text_doubles_pixels() {
        let mut v = cga_80x25();
        v.io_write(0x3D8, mode::ENABLE);
        v.mem_write(0, 0xDB);
        v.mem_write(1, 0x0F);
        let (w, _, fb) = v.framebuffer();
        // A 40-column cell is 16 pixels wide.
        assert_eq!(&fb[15 * 3..15 * 3 + 3], &[0xFF, 0xFF, 0xFF]);
        assert_eq!(&fb[16 * 3..16 * 3 + 3], &[0, 0, 0]);
        assert_eq!(w, 640);
        assert_eq!(v.screen_text().lines().next().unwrap().chars().count(), 40);
    }

    #[test]
    fn graphics_320x200_palette_and_interleave() {
        let mut v = Video::new(VideoKind::Cga);
        v.io_write(0x3D8, mode::GRAPHICS | mode::ENABLE);
        v.io_write(0x3D9, 0x01); // palette 0, background blue
                                 // Row 0 first pixel = 3 (brown in palette 0), row 1 (odd bank) first pixel = 1 (green).
        v.mem_write(0, 0b1100_0000);
        v.mem_write(0x2000, 0b0100_0000);
        let (w, h, fb) = v.framebuffer();
        assert_eq!((w, h), (640, 200));
        assert_eq!(&fb[0..3], &CGA_PALETTE[6]);
        let row1 = w * 3;
        assert_eq!(&fb[row1..row1 + 3], &CGA_PALETTE[2]);
        // Second pixel of row 0 is colour 0 = background.
        assert_eq!(&fb[2 * 3..2 * 3 + 3], &CGA_PALETTE[1]);
    }

    #[test]
    fn graphics_640x200_uses_foreground_colour() {
        let mut v = Video::new(VideoKind::Cga);
        v.io_write(0x3D8, mode::GRAPHICS | mode::HIRES_GRAPHICS | mode::ENABLE);
        v.io_write(0x3D9, 0x0E);
        v.mem_write(0, 0x80);
        let (_, _, fb) = v.framebuffer();
        assert_eq!(&fb[0..3], &CGA_PALETTE[14]);
        assert_eq!(&fb[3..6], &[0, 0, 0]);
    }

    #[test]
    fn video_disabled_is_black() {
        let mut v = cga_80x25();
        v.io_write(0x3D8, mode::HIRES_TEXT);
        v.mem_write(0, 0xDB);
        v.mem_write(1, 0x0F);
        let (_, _, fb) = v.framebuffer();
        assert!(fb.iter().all(|&b| b == 0));
    }

    #[test]
    fn mda_renders_9x14_cells() {
        let mut v = Video::new(VideoKind::Mda);
        v.io_write(0x3B8, 0x29); // high resolution, video on, blink
        v.io_write(0x3B4, 10);
        v.io_write(0x3B5, 0x20); // no cursor
        v.mem_write(0, 0xDB); // full block, normal intensity
        v.mem_write(1, 0x07);
        v.mem_write(2, b'_');
        v.mem_write(3, 0x01); // underline attribute
        let (w, h, fb) = v.framebuffer();
        assert_eq!((w, h), (720, 350));
        let px = |x: usize, y: usize| {
            [
                fb[(y * w + x) * 3],
                fb[(y * w + x) * 3 + 1],
                fb[(y * w + x) * 3 + 2],
            ]
        };
        // The block fills its 9x14 cell (block characters extend into the ninth column).
        for y in 0..14 {
            for x in 0..9 {
                assert_ne!(px(x, y), [0, 0, 0], "({x},{y})");
            }
        }
        // Underline attribute: the cell's last scan line is lit across.
        assert!((9..18).all(|x| px(x, 13) != [0, 0, 0]));
        assert_eq!(px(0, 14), [0, 0, 0]);
    }

    #[test]
    fn mda_window_and_text() {
        let mut v = Video::new(VideoKind::Mda);
        assert_eq!(v.memory_window().0, 0xB0000);
        assert!(v.claims_port(0x3B4) && !v.claims_port(0x3D4));
        // 4 KiB mirrored through the window.
        v.mem_write(0x1000, b'M');
        assert_eq!(v.mem_read(0), b'M');
        assert!(v.screen_text().starts_with('M'));
    }
}
