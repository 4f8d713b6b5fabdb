//! Raster timing, the display scan (on demand), the text screen and PNG
//! screenshots.
//!
//! The scan follows the CRTC: each scan line has a memory address counter
//! (start address, line compare, offset register, preset row scan), turned
//! into a plane offset by the byte/word/doubleword mode and the CGA
//! compatibility substitutions of CR17, and the four plane bytes there are
//! serialised by the graphics controller's shift mode and coloured by the
//! attribute controller and the DAC.
//!
//! Images are produced at the mode's own resolution: a pixel per dot in
//! text and 16-colour modes, a pixel per 256-colour pixel, and scan lines
//! that the hardware only repeats (double scanning, or a character row of
//! identical lines in graphics) are shown once: mode 13h is 320×200, mode
//! 12h 640×480, the CGA modes 320×200 and 640×200, 80×25 text 720×400.

use super::Vga;
use crate::font;

/// Raster geometry in dots and lines, and the dot clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Dots per line, blanking included.
    pub dots_per_line: u64,
    /// Dots displayed per line.
    pub visible_dots: u64,
    /// Lines per frame.
    pub lines: u64,
    /// Lines displayed.
    pub visible_lines: u64,
    /// First line of vertical retrace.
    pub vretrace_start: u64,
    /// Lines of vertical retrace.
    pub vretrace_lines: u64,
    /// Dots per second.
    pub dot_clock: u64,
}

/// The standard 80×25 text timing (720×400 at 70 Hz), used until the CRTC
/// holds a usable set of values.
const DEFAULT_TIMING: Timing = Timing {
    dots_per_line: 900,
    visible_dots: 720,
    lines: 449,
    visible_lines: 400,
    vretrace_start: 412,
    vretrace_lines: 2,
    dot_clock: super::DOT_CLOCK_28,
};

/// How the CRTC turns its counter into a plane offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddrMode {
    Byte,
    Word,
    Dword,
}

/// What the display scan needs, read once per frame.
struct Scan {
    text: bool,
    chars: usize,
    char_w: usize,
    vde: usize,
    div: usize,
    dbl: bool,
    max_scan: usize,
    line_compare: usize,
    start: usize,
    stride: usize,
    addr_mode: AddrMode,
    count_div: usize,
}

impl Vga {
    /// Raster timing from the CRTC, sequencer and clock select.
    pub fn timing(&self) -> Timing {
        let c = &self.crtc;
        let dots_per_char: u64 = if self.seq[1] & 1 != 0 { 8 } else { 9 };
        let htotal = c[0] as u64 + 5;
        let hde = c[1] as u64 + 1;
        let vtotal = c[6] as u64 + ((c[7] as u64 & 0x01) << 8) + ((c[7] as u64 & 0x20) << 4) + 2;
        let vde = self.vde() as u64;
        let vrs = c[0x10] as u64 + ((c[7] as u64 & 0x04) << 6) + ((c[7] as u64 & 0x80) << 2);
        let vr_len = match (c[0x11] as u64 & 0x0F).wrapping_sub(vrs & 0x0F) & 0x0F {
            0 => 16,
            n => n,
        };
        if c[0] == 0 || c[6] == 0 || hde > htotal || vde > vtotal {
            return DEFAULT_TIMING;
        }
        let mut dot_clock = if (self.misc >> 2) & 3 == 1 {
            super::DOT_CLOCK_28
        } else {
            super::DOT_CLOCK_25
        };
        if self.seq[1] & 0x08 != 0 {
            dot_clock /= 2;
        }
        Timing {
            dots_per_line: htotal * dots_per_char,
            visible_dots: hde * dots_per_char,
            lines: vtotal,
            visible_lines: vde,
            vretrace_start: vrs,
            vretrace_lines: vr_len,
            dot_clock,
        }
    }

    /// Dots elapsed at CPU cycle `now`.
    fn dots_at(&self, now: u64, t: &Timing) -> u64 {
        (now as u128 * t.dot_clock as u128 / self.cpu_hz as u128) as u64
    }

    /// Input status 1 (3BAh/3DAh) at CPU cycle `now`: bit 0 while the
    /// display is not drawing (horizontal or vertical blanking), bit 3
    /// during vertical retrace.
    pub fn input_status1(&self, now: u64) -> u8 {
        let t = self.timing();
        let d = self.dots_at(now, &t) % (t.dots_per_line * t.lines);
        let line = d / t.dots_per_line;
        let pos = d % t.dots_per_line;
        let mut s = 0;
        if pos >= t.visible_dots || line >= t.visible_lines {
            s |= 0x01;
        }
        if line >= t.vretrace_start && line < t.vretrace_start + t.vretrace_lines {
            s |= 0x08;
        }
        s
    }

    /// The CPU cycle at which the first vertical retrace after `after`
    /// starts (at the current timing).
    fn next_vretrace_start(&self, after: u64) -> u64 {
        let t = self.timing();
        let frame = t.dots_per_line * t.lines;
        let start = (t.vretrace_start * t.dots_per_line) % frame;
        let d = self.dots_at(after, &t);
        let into = d % frame;
        let next = d - into + start + if into >= start { frame } else { 0 };
        // The first cycle whose dot count reaches `next`.
        (next as u128 * self.cpu_hz as u128).div_ceil(t.dot_clock as u128) as u64
    }

    /// True when a vertical retrace interrupt is pending at `now` (input
    /// status 0 bit 7): CR11 bit 4 set (writing it 0 clears and holds off
    /// the interrupt) and a retrace has started since it was set.
    pub fn vri_pending(&self, now: u64) -> bool {
        self.crtc[0x11] & 0x10 != 0 && now >= self.next_vretrace_start(self.vri_armed_at)
    }

    /// The interrupt line (IRQ 2, seen as IRQ 9 on an AT): a pending
    /// vertical retrace interrupt while CR11 bit 5 does not disable it.
    pub fn irq(&self, now: u64) -> bool {
        self.crtc[0x11] & 0x20 == 0 && self.vri_pending(now)
    }

    /// The CPU cycle at which [`Vga::irq`] next rises, if it can: a board
    /// that schedules device deadlines asks the card again then.
    pub fn next_irq_deadline(&self) -> Option<u64> {
        if self.crtc[0x11] & 0x30 != 0x10 {
            return None;
        }
        let at = self.next_vretrace_start(self.vri_armed_at);
        (at > self.now).then_some(at)
    }

    /// CPU cycles per frame at the current timing.
    pub fn cycles_per_frame(&self) -> u64 {
        let t = self.timing();
        let dots = t.dots_per_line * t.lines;
        (dots as u128 * self.cpu_hz as u128 / t.dot_clock as u128) as u64
    }

    /// Frames shown up to CPU cycle `now` (drives blinking).
    fn frame_at(&self, now: u64) -> u64 {
        let t = self.timing();
        self.dots_at(now, &t) / (t.dots_per_line * t.lines)
    }

    /// Vertical display end: lines displayed per frame.
    fn vde(&self) -> usize {
        let c = &self.crtc;
        c[0x12] as usize + ((c[7] as usize & 0x02) << 7) + ((c[7] as usize & 0x40) << 3) + 1
    }

    /// True in an alphanumeric (text) mode.
    pub fn is_text(&self) -> bool {
        !self.dispi.enabled() && self.attr.regs[0x10] & 1 == 0
    }

    fn scan(&self) -> Scan {
        let c = &self.crtc;
        let text = self.attr.regs[0x10] & 1 == 0;
        let max_scan = c[9] as usize & 0x1F;
        let dbl = c[9] & 0x80 != 0;
        let char_w = if text {
            if self.seq[1] & 1 != 0 {
                8
            } else {
                9
            }
        } else if self.gc[5] & 0x40 != 0 {
            4
        } else {
            8
        };
        // In graphics without the CGA row-scan substitutions every line of
        // a character row shows the same memory: show it once.
        let repeat = if !text && c[0x17] & 3 == 3 {
            max_scan + 1
        } else {
            1
        };
        let addr_mode = if c[0x14] & 0x40 != 0 {
            AddrMode::Dword
        } else if c[0x17] & 0x40 == 0 {
            AddrMode::Word
        } else {
            AddrMode::Byte
        };
        let count_div = if c[0x14] & 0x20 != 0 {
            4
        } else if c[0x17] & 0x08 != 0 {
            2
        } else {
            1
        };
        Scan {
            text,
            chars: c[1] as usize + 1,
            char_w,
            vde: self.vde(),
            div: if dbl { 2 } else { 1 } * repeat,
            dbl,
            max_scan,
            line_compare: c[0x18] as usize
                + ((c[7] as usize & 0x10) << 4)
                + ((c[9] as usize & 0x40) << 3),
            start: ((c[0x0C] as usize) << 8) | c[0x0D] as usize,
            stride: c[0x13] as usize * 2,
            addr_mode,
            count_div,
        }
    }

    /// The memory address counter and row scan of physical line `p`, and
    /// whether the line is below the split (line compare).
    fn line_state(&self, s: &Scan, p: usize) -> (usize, usize, bool) {
        let (q, base, preset, split) = if p > s.line_compare {
            (p - s.line_compare - 1, 0, 0, true)
        } else {
            (p, s.start, self.crtc[8] as usize & 0x1F, false)
        };
        let t = q / if s.dbl { 2 } else { 1 } + preset;
        let row = t / (s.max_scan + 1);
        let rs = t % (s.max_scan + 1);
        let byte_pan = (self.crtc[8] as usize >> 5) & 3;
        ((base + row * s.stride + byte_pan) & 0xFFFF, rs, split)
    }

    /// Plane offset of counter value `ma` on row scan `rs`.
    fn mem_addr(&self, s: &Scan, ma: usize, rs: usize) -> usize {
        let mut a = match s.addr_mode {
            AddrMode::Byte => ma,
            AddrMode::Word => {
                let wrap_bit = if self.crtc[0x17] & 0x20 != 0 { 15 } else { 13 };
                (ma << 1) | ((ma >> wrap_bit) & 1)
            }
            AddrMode::Dword => (ma << 2) | ((ma >> 14) & 3),
        } & 0xFFFF;
        if self.crtc[0x17] & 1 == 0 {
            a = (a & !0x2000) | ((rs & 1) << 13);
        }
        if self.crtc[0x17] & 2 == 0 {
            a = (a & !0x4000) | (((rs >> 1) & 1) << 14);
        }
        a
    }

    /// A 4-bit pixel value through the attribute controller to a DAC index.
    fn attr_color(&self, v: u8) -> u8 {
        let r = &self.attr.regs;
        let pal = r[(v & r[0x12] & 0x0F) as usize];
        let cs = r[0x14];
        let low = if r[0x10] & 0x80 != 0 {
            (pal & 0x0F) | ((cs & 0x03) << 4)
        } else {
            pal & 0x3F
        };
        low | ((cs & 0x0C) << 4)
    }

    /// Image size of the current mode.
    fn size(&self) -> (usize, usize) {
        if self.dispi.enabled() {
            return (self.dispi.xres as usize, self.dispi.yres as usize);
        }
        if self.crtc[1] == 0 && self.crtc[0x12] == 0 {
            // A CRTC nobody has programmed (before the BIOS runs): a blank
            // 640×480 screen rather than a one-character image.
            return (640, 480);
        }
        let s = self.scan();
        (s.chars * s.char_w, (s.vde / s.div).max(1))
    }

    /// Render what is on screen at the latest time passed in; returns
    /// (width, height, RGB bytes).
    pub fn framebuffer(&mut self) -> (usize, usize, &[u8]) {
        let now = self.now;
        self.framebuffer_at(now)
    }

    /// Render what is on screen at CPU cycle `now` (blink phases follow it).
    pub fn framebuffer_at(&mut self, now: u64) -> (usize, usize, &[u8]) {
        let (w, h) = self.size();
        let mut fb = std::mem::take(&mut self.fb);
        fb.clear();
        fb.resize(w * h * 3, 0);
        if self.dispi.enabled() {
            self.render_vbe(&mut fb, w, h);
        } else if self.seq[1] & 0x20 == 0
            && self.attr.pas
            && (self.crtc[1] != 0 || self.crtc[0x12] != 0)
        {
            self.render_vga(&mut fb, w, h, now);
        }
        self.fb = fb;
        (w, h, &self.fb)
    }

    fn render_vga(&self, fb: &mut [u8], w: usize, h: usize, now: u64) {
        let s = self.scan();
        let mut rgb = [[0u8; 3]; 256];
        for (i, c) in rgb.iter_mut().enumerate() {
            *c = self.dac_rgb(i as u8 & self.dac.pel_mask);
        }
        let frame = self.frame_at(now);
        // The attribute controller's mapping of the 16 pixel values, once a frame.
        let lut: [u8; 16] = std::array::from_fn(|v| self.attr_color(v as u8));
        let pel = self.attr.regs[0x13] as usize & 0x0F;
        let mut line = vec![0u8; (s.chars + 1) * s.char_w];
        for y in 0..h {
            let (ma, rs, split) = self.line_state(&s, y * s.div);
            if s.text {
                self.text_line(&s, &lut, &mut line, ma, rs, frame);
            } else {
                self.gfx_line(&s, &lut, &mut line, ma, rs);
            }
            let pan = if split && self.attr.regs[0x10] & 0x20 != 0 {
                0
            } else if s.text && s.char_w == 9 {
                if pel >= 8 {
                    0
                } else {
                    pel + 1
                }
            } else if s.char_w == 4 {
                (pel & 7) / 2
            } else {
                pel & 7
            };
            let row = &mut fb[y * w * 3..(y + 1) * w * 3];
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                px.copy_from_slice(&rgb[line[x + pan] as usize]);
            }
        }
    }

    fn text_line(
        &self,
        s: &Scan,
        lut: &[u8; 16],
        line: &mut [u8],
        ma: usize,
        rs: usize,
        frame: u64,
    ) {
        let ar = &self.attr.regs;
        let blink = ar[0x10] & 0x08 != 0;
        let blink_on = (frame / 16) % 2 == 0;
        let c = &self.crtc;
        let cursor = (((c[0x0E] as usize) << 8) | c[0x0F] as usize) + ((c[0x0B] as usize >> 5) & 3);
        let (cs, ce) = (c[0x0A] as usize & 0x1F, c[0x0B] as usize & 0x1F);
        let cursor_row = c[0x0A] & 0x20 == 0 && (frame / 8) % 2 == 0 && rs >= cs && rs <= ce;
        let underline_row = rs == c[0x14] as usize & 0x1F;
        let sel = self.seq[3];
        let map = |v: u8| (v as usize & 3) * 0x4000 + (v as usize >> 2) * 0x2000;
        let map_a = map(((sel >> 3) & 4) | ((sel >> 2) & 3));
        let map_b = map(((sel >> 2) & 4) | (sel & 3));
        for ci in 0..=s.chars {
            let m = (ma + ci / s.count_div) & 0xFFFF;
            let a = self.mem_addr(s, m, rs);
            let ch = self.plane_byte(0, a);
            let at = self.plane_byte(1, a);
            let font = if at & 0x08 != 0 { map_a } else { map_b };
            let mut bits = if rs < 32 {
                self.plane_byte(2, font + ch as usize * 32 + rs)
            } else {
                0
            };
            let mut fg = at & 0x0F;
            let mut bg = at >> 4;
            if blink {
                bg &= 7;
                if at & 0x80 != 0 && !blink_on {
                    fg = bg;
                }
            }
            // Underline and cursor light the whole cell width, ninth dot included.
            let mut solid = false;
            if underline_row && at & 0x77 == 0x01 {
                bits = 0xFF;
                solid = true;
            }
            if cursor_row && m == cursor {
                bits = 0xFF;
                fg = at & 0x0F;
                solid = true;
            }
            let (fgc, bgc) = (lut[fg as usize & 15], lut[bg as usize & 15]);
            let cell = &mut line[ci * s.char_w..(ci + 1) * s.char_w];
            for (x, px) in cell.iter_mut().take(8).enumerate() {
                *px = if bits & (0x80 >> x) != 0 { fgc } else { bgc };
            }
            if s.char_w == 9 {
                let ninth =
                    solid || (ar[0x10] & 0x04 != 0 && (0xC0..=0xDF).contains(&ch) && bits & 1 != 0);
                cell[8] = if ninth { fgc } else { bgc };
            }
        }
    }

    fn gfx_line(&self, s: &Scan, lut: &[u8; 16], line: &mut [u8], ma: usize, rs: usize) {
        let mode = self.gc[5];
        for ci in 0..=s.chars {
            let m = (ma + ci / s.count_div) & 0xFFFF;
            let a = self.mem_addr(s, m, rs);
            let p = [
                self.plane_byte(0, a),
                self.plane_byte(1, a),
                self.plane_byte(2, a),
                self.plane_byte(3, a),
            ];
            let cell = &mut line[ci * s.char_w..(ci + 1) * s.char_w];
            if mode & 0x40 != 0 {
                // 256 colours: each plane byte is a pixel, straight to the DAC.
                cell.copy_from_slice(&p);
            } else if mode & 0x20 != 0 {
                // CGA interleave: two bits per pixel, four pixels per byte
                // from planes 0 (then 1), planes 2 (then 3) giving bits 2–3.
                for (x, px) in cell.iter_mut().enumerate() {
                    let (lo, hi) = if x < 4 { (p[0], p[2]) } else { (p[1], p[3]) };
                    let sh = 6 - 2 * (x & 3);
                    let v = ((lo >> sh) & 3) | (((hi >> sh) & 3) << 2);
                    *px = lut[v as usize];
                }
            } else {
                for (x, px) in cell.iter_mut().enumerate() {
                    let b = 7 - x;
                    let v = ((p[0] >> b) & 1)
                        | (((p[1] >> b) & 1) << 1)
                        | (((p[2] >> b) & 1) << 2)
                        | (((p[3] >> b) & 1) << 3);
                    *px = lut[v as usize];
                }
            }
        }
    }

    fn render_vbe(&self, fb: &mut [u8], w: usize, h: usize) {
        let d = &self.dispi;
        if d.planar() {
            return self.render_vbe_planar(fb, w, h);
        }
        let bpp = d.bytes_per_pixel();
        let pitch = d.pitch();
        let start = d.start();
        let byte = |a: usize| self.vram.get(a).copied().unwrap_or(0);
        let expand5 = |v: u16| ((v << 3) | (v >> 2)) as u8;
        for y in 0..h {
            for x in 0..w {
                let a = start + y * pitch + x * bpp;
                let c = match d.bpp {
                    8 => self.dac_rgb(byte(a) & self.dac.pel_mask),
                    15 | 16 => {
                        let v = byte(a) as u16 | (byte(a + 1) as u16) << 8;
                        if d.bpp == 15 {
                            [
                                expand5((v >> 10) & 31),
                                expand5((v >> 5) & 31),
                                expand5(v & 31),
                            ]
                        } else {
                            let g = (v >> 5) & 63;
                            [
                                expand5((v >> 11) & 31),
                                ((g << 2) | (g >> 4)) as u8,
                                expand5(v & 31),
                            ]
                        }
                    }
                    _ => [byte(a + 2), byte(a + 1), byte(a)],
                };
                let i = (y * w + x) * 3;
                fb[i..i + 3].copy_from_slice(&c);
            }
        }
    }

    fn render_vbe_planar(&self, fb: &mut [u8], w: usize, h: usize) {
        let d = &self.dispi;
        let (pitch, start) = (d.pitch(), d.start());
        let first = d.x_offset as usize % 8;
        let mut rgb = [[0u8; 3]; 16];
        for (v, c) in rgb.iter_mut().enumerate() {
            *c = self.dac_rgb(self.attr_color(v as u8) & self.dac.pel_mask);
        }
        for y in 0..h {
            for x in 0..w {
                let dot = first + x;
                let off = start + y * pitch + dot / 8;
                let b = 7 - (dot % 8);
                let v = (0..4).fold(0u8, |acc, p| {
                    acc | (((self.plane_byte(p, off) >> b) & 1) << p)
                });
                let i = (y * w + x) * 3;
                fb[i..i + 3].copy_from_slice(&rgb[v as usize]);
            }
        }
    }

    /// Text columns and rows of the current text mode.
    pub fn text_size(&self) -> (usize, usize) {
        let s = self.scan();
        let lines = s.vde / if s.dbl { 2 } else { 1 };
        (s.chars, (lines / (s.max_scan + 1)).max(1))
    }

    /// The text screen in a text mode: rows of characters (code page 437
    /// shown as Unicode, NUL as a space) joined by newlines. Empty in
    /// graphics and VBE modes.
    pub fn screen_text(&self) -> String {
        if !self.is_text() {
            return String::new();
        }
        let s = self.scan();
        let (cols, rows) = self.text_size();
        let mut out = String::with_capacity(rows * (cols + 1) * 2);
        for r in 0..rows {
            // The top line of the row decides (split screen included).
            let p = r * (s.max_scan + 1) * if s.dbl { 2 } else { 1 };
            let (ma, _, _) = self.line_state(&s, p);
            for c in 0..cols {
                let a = self.mem_addr(&s, (ma + c / s.count_div) & 0xFFFF, 0);
                out.push(font::cp437_to_char(self.plane_byte(0, a)));
            }
            if r + 1 < rows {
                out.push('\n');
            }
        }
        out
    }

    /// Write a PNG screenshot of what is on screen.
    pub fn write_png<W: std::io::Write>(&mut self, out: W) -> Result<(), png::EncodingError> {
        let (w, h, rgb) = self.framebuffer();
        let mut enc = png::Encoder::new(out, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header()?;
        wr.write_image_data(rgb)
    }
}
