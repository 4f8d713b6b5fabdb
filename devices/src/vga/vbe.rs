//! The Bochs VBE extension ("DISPI"): an index port at 1CEh and a 16-bit
//! data port at 1CFh, through which a VGA BIOS sets linear-framebuffer modes.
//!
//! Registers (index): 0 ID, 1 XRES, 2 YRES, 3 BPP, 4 ENABLE, 5 BANK,
//! 6 VIRT_WIDTH, 7 VIRT_HEIGHT, 8 X_OFFSET, 9 Y_OFFSET, 0Ah VIDEO_MEMORY_64K.

use serde::{Deserialize, Serialize};

/// The first interface version (ID register value).
pub const VBE_DISPI_ID0: u16 = 0xB0C0;
/// The newest interface version implemented (adds VIDEO_MEMORY_64K).
pub const VBE_DISPI_ID5: u16 = 0xB0C5;
/// Where a board maps the linear framebuffer by default (a PCI BAR).
pub const VBE_LFB_DEFAULT: u32 = 0xE000_0000;

/// Largest horizontal resolution offered (reported with GETCAPS).
pub const MAX_XRES: u16 = 2560;
/// Largest vertical resolution offered.
pub const MAX_YRES: u16 = 1600;
/// Largest depth offered.
pub const MAX_BPP: u16 = 32;

/// ENABLE register bits.
pub mod enable {
    /// The VBE mode is on (the VGA's own display is bypassed).
    pub const ENABLED: u16 = 0x01;
    /// Reads of XRES, YRES and BPP return the maxima.
    pub const GETCAPS: u16 = 0x02;
    /// The DAC holds eight bits per component.
    pub const DAC_8BIT: u16 = 0x20;
    /// The linear framebuffer is in use (informational here: it always decodes).
    pub const LFB: u16 = 0x40;
    /// Do not clear video memory when the mode is enabled.
    pub const NOCLEARMEM: u16 = 0x80;
}

/// The DISPI registers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Dispi {
    /// Selected register (1CEh).
    pub index: u16,
    /// ID register: the interface version the BIOS asked for.
    pub id: u16,
    /// Width in pixels.
    pub xres: u16,
    /// Height in pixels.
    pub yres: u16,
    /// Bits per pixel: 4 (planar), 8, 15, 16, 24 or 32.
    pub bpp: u16,
    /// ENABLE register as written (see [`enable`]).
    pub enable: u16,
    /// 64 KiB bank shown at A0000h.
    pub bank: u16,
    /// Width of the virtual screen in pixels (the scan-line pitch).
    pub virt_width: u16,
    /// Height of the virtual screen in lines.
    pub virt_height: u16,
    /// First pixel shown on each line.
    pub x_offset: u16,
    /// First line shown.
    pub y_offset: u16,
    /// Low byte of the last byte write to 1CFh (for a word split in two).
    pub low: u8,
}

impl Default for Dispi {
    fn default() -> Self {
        Dispi {
            index: 0,
            id: VBE_DISPI_ID5,
            xres: 640,
            yres: 480,
            bpp: 8,
            enable: 0,
            bank: 0,
            virt_width: 640,
            virt_height: 480,
            x_offset: 0,
            y_offset: 0,
            low: 0,
        }
    }
}

impl Dispi {
    /// True while a VBE mode is on. (A mode is only switched on with a
    /// valid geometry, which then cannot change; checking it again keeps a
    /// damaged saved state from asking for an impossible picture.)
    pub fn enabled(&self) -> bool {
        self.enable & enable::ENABLED != 0 && self.geometry_ok()
    }

    fn geometry_ok(&self) -> bool {
        Self::valid_bpp(self.bpp)
            && (1..=MAX_XRES).contains(&self.xres)
            && (1..=MAX_YRES).contains(&self.yres)
    }

    /// True when the DAC is switched to eight bits per component.
    pub fn dac_8bit(&self) -> bool {
        self.enable & enable::DAC_8BIT != 0
    }

    /// True in the 4 bpp mode, which is planar: VGA planes grown to a
    /// quarter of video memory each, written through the graphics
    /// controller and shown through the attribute controller.
    pub fn planar(&self) -> bool {
        self.bpp == 4
    }

    /// Bytes per pixel of the current depth (in the planar mode, plane
    /// bytes hold eight pixels: see [`Dispi::pitch`]).
    pub fn bytes_per_pixel(&self) -> usize {
        (self.bpp as usize).div_ceil(8)
    }

    /// Bytes per scan line of the virtual screen (plane bytes when planar).
    pub fn pitch(&self) -> usize {
        self.pitch_for(self.virt_width)
    }

    fn pitch_for(&self, width: u16) -> usize {
        if self.planar() {
            (width as usize).div_ceil(8)
        } else {
            width as usize * self.bytes_per_pixel()
        }
    }

    /// Bytes of video memory behind one line of the current depth (four
    /// planes' worth when planar).
    fn line_bytes(&self, width: u16) -> usize {
        self.pitch_for(width) * if self.planar() { 4 } else { 1 }
    }

    /// Byte offset (plane offset when planar) of the first pixel shown.
    pub fn start(&self) -> usize {
        let x = self.x_offset as usize;
        let x_bytes = if self.planar() {
            x / 8
        } else {
            x * self.bytes_per_pixel()
        };
        self.y_offset as usize * self.pitch() + x_bytes
    }

    fn valid_bpp(bpp: u16) -> bool {
        matches!(bpp, 4 | 8 | 15 | 16 | 24 | 32)
    }

    /// Read the selected register.
    pub fn read(&self, vram_len: usize) -> u16 {
        let caps = self.enable & enable::GETCAPS != 0;
        match self.index {
            0 => self.id,
            1 if caps => MAX_XRES,
            1 => self.xres,
            2 if caps => MAX_YRES,
            2 => self.yres,
            3 if caps => MAX_BPP,
            3 => self.bpp,
            4 => self.enable,
            5 => self.bank,
            6 => self.virt_width,
            7 => self.virt_height,
            8 => self.x_offset,
            9 => self.y_offset,
            0x0A => (vram_len / 0x10000).min(0xFFFF) as u16,
            _ => 0,
        }
    }

    /// Write the selected register. Returns `Some(n)` when the first `n`
    /// bytes of video memory are to be cleared (a mode being enabled).
    pub fn write(&mut self, v: u16, vram_len: usize) -> Option<usize> {
        match self.index {
            0 if (VBE_DISPI_ID0..=VBE_DISPI_ID5).contains(&v) => self.id = v,
            // The mode's geometry is fixed while it is enabled.
            1 if !self.enabled() => self.xres = v,
            2 if !self.enabled() => self.yres = v,
            3 if !self.enabled() => self.bpp = if v == 0 { 8 } else { v },
            4 => return self.write_enable(v, vram_len),
            5 if (v as usize) < vram_len / 0x10000 => self.bank = v,
            6 if v != 0 && self.line_bytes(v) <= vram_len => {
                self.virt_width = v;
                self.virt_height = (vram_len / self.line_bytes(v)).min(0xFFFF) as u16;
            }
            7 => self.virt_height = v,
            8 => self.x_offset = v,
            9 => self.y_offset = v,
            _ => {}
        }
        None
    }

    fn write_enable(&mut self, v: u16, vram_len: usize) -> Option<usize> {
        let was = self.enabled();
        let ok = self.geometry_ok() && self.line_bytes(self.xres) * self.yres as usize <= vram_len;
        if v & enable::ENABLED != 0 && !was {
            if !ok {
                // An impossible mode stays off; the other bits still latch.
                self.enable = v & !enable::ENABLED;
                return None;
            }
            self.enable = v;
            self.virt_width = self.xres;
            self.virt_height = (vram_len / self.line_bytes(self.xres)).min(0xFFFF) as u16;
            self.x_offset = 0;
            self.y_offset = 0;
            self.bank = 0;
            if v & enable::NOCLEARMEM == 0 {
                return Some(self.line_bytes(self.xres) * self.yres as usize);
            }
            return None;
        }
        self.enable = v;
        None
    }
}
