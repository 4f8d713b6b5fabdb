//! A VGA adapter with the Bochs VBE ("DISPI") extension.
//!
//! The card is modelled at the register level of the IBM VGA: the sequencer,
//! CRT controller, graphics controller, attribute controller and DAC, four
//! 64 KiB bit planes with the graphics controller's write modes 0–3, read
//! modes 0–1 and latches, and the CPU-to-plane address mappings (sequential,
//! odd/even, chain-4). On top of it sits the Bochs VBE interface (ports
//! 1CEh/1CFh) that the LGPL VGA BIOS and SeaBIOS's `vgabios-stdvga` use to
//! offer linear-framebuffer modes.
//!
//! Video memory is one buffer (16 MiB by default). The VGA planes live in its
//! first 256 KiB, interleaved: byte `4 * offset + plane`, so the latches of
//! one plane offset are four consecutive bytes. VBE modes address the whole
//! buffer linearly, through the linear framebuffer ([`Vga::lfb_read`],
//! [`Vga::lfb_write`]) or the 64 KiB bank at A0000h.
//!
//! Nothing is rendered when the guest writes: [`Vga::framebuffer`] scans
//! video memory the way the CRTC would, on demand. Time (for the retrace bits
//! of input status 1 and for blinking) is the CPU cycle count the caller
//! passes in, converted with the CPU clock rate given at construction.

mod render;
pub mod vbe;

pub use render::Timing;
pub use vbe::{Dispi, VBE_DISPI_ID0, VBE_DISPI_ID5, VBE_LFB_DEFAULT};

use serde::{Deserialize, Serialize};

/// Default video memory: 16 MiB.
pub const DEFAULT_VRAM: usize = 16 * 1024 * 1024;
/// Bytes in one VGA bit plane.
pub const PLANE_SIZE: usize = 0x10000;
/// Physical base of the legacy memory window.
pub const WINDOW_BASE: u32 = 0xA0000;
/// Length of the legacy memory window (A0000h–BFFFFh).
pub const WINDOW_LEN: u32 = 0x20000;
/// The 25.175 MHz dot clock (640-dot modes).
pub const DOT_CLOCK_25: u64 = 25_175_000;
/// The 28.322 MHz dot clock (720-dot text modes).
pub const DOT_CLOCK_28: u64 = 28_322_000;

/// PCI vendor ID of the Bochs/QEMU standard VGA (what `vgabios-stdvga`
/// and the LGPL VGA BIOS's PCI header name).
pub const PCI_VENDOR_ID: u16 = 0x1234;
/// PCI device ID of the Bochs/QEMU standard VGA.
pub const PCI_DEVICE_ID: u16 = 0x1111;
/// PCI class code: display controller, VGA compatible (base 03h, sub 00h, interface 00h).
pub const PCI_CLASS_CODE: u32 = 0x03_00_00;
/// I/O port ranges the card decodes (inclusive): the DISPI ports and the VGA's.
pub const IO_RANGES: [(u16, u16); 2] = [(0x1CE, 0x1D0), (0x3B0, 0x3DF)];

/// Why a VGA could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VgaError {
    /// Video memory must be a power of two from 256 KiB to 256 MiB.
    #[error("VGA memory size {0} bytes is not a power of two between 256 KiB and 256 MiB")]
    BadVramSize(usize),
    /// The CPU clock must be non-zero.
    #[error("VGA needs a non-zero CPU clock rate")]
    BadClock,
}

/// Sequencer register masks (implemented bits of SR0–SR4).
const SEQ_MASK: [u8; 5] = [0x03, 0x3D, 0x0F, 0x3F, 0x0E];
/// Graphics controller register masks (GR0–GR8).
const GC_MASK: [u8; 9] = [0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF];
/// Number of CRTC registers (CR00–CR18).
const CRTC_REGS: usize = 0x19;

/// The attribute controller: its index/data flip-flop and 21 registers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Attr {
    /// Index register (bits 0–4) as last written.
    pub index: u8,
    /// Palette address source (index bit 5): clear while the palette is
    /// being loaded, which blanks the screen.
    pub pas: bool,
    /// True when the next write to 3C0h is data (the flip-flop).
    pub flip: bool,
    /// AR00–AR14.
    pub regs: [u8; 21],
}

/// The DAC: 256 entries of red, green, blue and its index state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Dac {
    /// Colour entries, six bits each (eight with the VBE 8-bit DAC).
    #[serde(deserialize_with = "de_dac_entries")]
    pub entries: Vec<[u8; 3]>,
    /// Write index (3C8h).
    pub write_index: u8,
    /// Read index (3C7h).
    pub read_index: u8,
    /// Which component (0 red, 1 green, 2 blue) the next data access is.
    pub component: u8,
    /// Components written so far for the entry at `write_index`.
    pub pending: [u8; 3],
    /// True after a write to 3C7h (read mode), false after 3C8h.
    pub reading: bool,
    /// Pixel mask (3C6h).
    pub pel_mask: u8,
}

/// A saved DAC must have its 256 entries (indices are bytes).
fn de_dac_entries<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<[u8; 3]>, D::Error> {
    let v = Vec::<[u8; 3]>::deserialize(d)?;
    if v.len() != 256 {
        return Err(serde::de::Error::custom(format!(
            "VGA DAC has {} entries, not 256",
            v.len()
        )));
    }
    Ok(v)
}

/// Saved video memory must have a size [`Vga::with_config`] accepts.
fn de_vram<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let v = crate::bytes_serde::deserialize(d)?;
    if !valid_vram_size(v.len()) {
        return Err(serde::de::Error::custom(VgaError::BadVramSize(v.len())));
    }
    Ok(v)
}

/// A saved clock rate must be non-zero (time is divided by it).
fn de_cpu_hz<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match u64::deserialize(d)? {
        0 => Err(serde::de::Error::custom(VgaError::BadClock)),
        hz => Ok(hz),
    }
}

fn valid_vram_size(n: usize) -> bool {
    n.is_power_of_two() && (0x40000..=0x1000_0000).contains(&n)
}

impl Default for Dac {
    fn default() -> Self {
        Dac {
            entries: vec![[0; 3]; 256],
            write_index: 0,
            read_index: 0,
            component: 0,
            pending: [0; 3],
            reading: false,
            pel_mask: 0xFF,
        }
    }
}

/// A VGA card with the Bochs VBE extension.
#[derive(Clone, Serialize, Deserialize)]
pub struct Vga {
    /// Miscellaneous output register (3C2h write, 3CCh read).
    pub misc: u8,
    /// Sequencer index (3C4h).
    pub seq_index: u8,
    /// SR00–SR04.
    pub seq: [u8; 5],
    /// CRTC index (3B4h/3D4h).
    pub crtc_index: u8,
    /// CR00–CR18.
    pub crtc: [u8; CRTC_REGS],
    /// Graphics controller index (3CEh).
    pub gc_index: u8,
    /// GR00–GR08.
    pub gc: [u8; 9],
    /// The attribute controller.
    pub attr: Attr,
    /// The DAC.
    pub dac: Dac,
    /// Feature control (written at 3BAh/3DAh, read at 3CAh).
    pub feature: u8,
    /// Video subsystem enable (3C3h).
    pub enable: u8,
    /// The four plane latches.
    pub latch: [u8; 4],
    /// The Bochs VBE registers.
    pub dispi: Dispi,
    /// Video memory; VGA plane `p` byte `o` is at `4 * o + p`.
    #[serde(
        serialize_with = "crate::bytes_serde::serialize",
        deserialize_with = "de_vram"
    )]
    pub vram: Vec<u8>,
    /// CPU clock rate in Hz (to turn cycle counts into raster positions).
    #[serde(deserialize_with = "de_cpu_hz")]
    pub cpu_hz: u64,
    /// The latest time a caller passed in (for blinking when rendering).
    pub now: u64,
    /// When CR11 bit 4 last went from 0 to 1: the vertical retrace
    /// interrupt becomes pending at the first retrace to start after it.
    #[serde(default)]
    pub vri_armed_at: u64,
    #[serde(skip)]
    fb: Vec<u8>,
    /// Writes through [`Vga::mem_write`], [`Vga::lfb_write`] and the port
    /// writes so far (wrapping): a caller that renders the screen only
    /// when it may have changed compares it ([`Vga::writes`]).
    #[serde(skip)]
    writes: u64,
}

/// Registers in full, video memory by its size only (it is megabytes).
impl std::fmt::Debug for Vga {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vga")
            .field("misc", &self.misc)
            .field("seq", &self.seq)
            .field("crtc", &self.crtc)
            .field("gc", &self.gc)
            .field("attr", &self.attr)
            .field("dac_write_index", &self.dac.write_index)
            .field("dac_read_index", &self.dac.read_index)
            .field("pel_mask", &self.dac.pel_mask)
            .field("latch", &self.latch)
            .field("dispi", &self.dispi)
            .field("vram_bytes", &self.vram.len())
            .field("cpu_hz", &self.cpu_hz)
            .finish_non_exhaustive()
    }
}

impl Default for Vga {
    fn default() -> Self {
        Vga::new()
    }
}

/// Where a CPU access to the legacy window lands.
enum Target {
    /// Nothing decodes it (outside the selected memory map, or RAM disabled).
    None,
    /// A VGA plane offset (the planes decide further).
    Planar(usize),
    /// A byte of video memory (VBE bank window).
    Linear(usize),
}

impl Vga {
    /// A VGA with 16 MiB of video memory on a 33 MHz CPU clock.
    pub fn new() -> Self {
        Vga::build(vec![0; DEFAULT_VRAM], 33_000_000)
    }

    /// A VGA with `vram_bytes` of video memory; time is counted in cycles
    /// of a `cpu_hz` clock.
    pub fn with_config(vram_bytes: usize, cpu_hz: u64) -> Result<Self, VgaError> {
        if !valid_vram_size(vram_bytes) {
            return Err(VgaError::BadVramSize(vram_bytes));
        }
        if cpu_hz == 0 {
            return Err(VgaError::BadClock);
        }
        Ok(Vga::build(vec![0; vram_bytes], cpu_hz))
    }

    /// Power-on registers around the given video memory.
    fn build(vram: Vec<u8>, cpu_hz: u64) -> Self {
        Vga {
            misc: 0,
            seq_index: 0,
            seq: [0; 5],
            crtc_index: 0,
            crtc: [0; CRTC_REGS],
            gc_index: 0,
            gc: [0; 9],
            attr: Attr::default(),
            dac: Dac::default(),
            feature: 0,
            enable: 0,
            latch: [0; 4],
            dispi: Dispi::default(),
            vram,
            cpu_hz,
            now: 0,
            vri_armed_at: 0,
            fb: Vec::new(),
            writes: 0,
        }
    }

    /// Reset every register to its power-on value (zero, the DAC mask all
    /// ones, VBE off); video memory keeps its contents, as on a warm reset.
    pub fn reset(&mut self) {
        let vram = std::mem::take(&mut self.vram);
        let writes = self.writes.wrapping_add(1);
        *self = Vga::build(vram, self.cpu_hz);
        self.writes = writes;
    }

    /// Change the CPU clock rate time is counted in (ignored if zero).
    pub fn set_cpu_hz(&mut self, hz: u64) {
        if hz != 0 {
            self.cpu_hz = hz;
        }
    }

    /// How many writes (memory, ports) and resets the VGA has had: while
    /// it is unchanged, so is what [`Vga::screen_text`] returns (video
    /// memory and registers are only changed through those, apart from a
    /// caller writing the public fields itself).
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Size of video memory in bytes (the size of the linear framebuffer BAR).
    pub fn vram_size(&self) -> usize {
        self.vram.len()
    }

    /// The legacy memory window (base, length): A0000h–BFFFFh. Which part of
    /// it the card answers depends on the memory map select bits.
    pub fn memory_window(&self) -> (u32, u32) {
        (WINDOW_BASE, WINDOW_LEN)
    }

    /// True for the I/O ports the card decodes: 3B0h–3DFh and 1CEh–1D0h.
    pub fn claims_port(&self, port: u16) -> bool {
        (0x3B0..=0x3DF).contains(&port) || (0x1CE..=0x1D0).contains(&port)
    }

    /// True if the CRTC and input status 1 are at 3Dxh (colour), else 3Bxh.
    fn color_io(&self) -> bool {
        self.misc & 1 != 0
    }

    /// Read an I/O port (8 bits) at CPU cycle `now`.
    pub fn io_read(&mut self, port: u16, now: u64) -> u8 {
        self.now = now;
        match port {
            0x1CE => self.dispi.index as u8,
            0x1CF => self.dispi.read(self.vram.len()) as u8,
            0x1D0 => (self.dispi.read(self.vram.len()) >> 8) as u8,
            0x3B4 | 0x3D4 if self.crtc_port(port) => self.crtc_index,
            0x3B5 | 0x3D5 if self.crtc_port(port) => self
                .crtc
                .get(self.crtc_index as usize)
                .copied()
                .unwrap_or(0),
            0x3BA | 0x3DA if self.crtc_port(port) => {
                self.attr.flip = false;
                self.input_status1(now)
            }
            0x3C0 => self.attr.index | if self.attr.pas { 0x20 } else { 0 },
            0x3C1 => self
                .attr
                .regs
                .get(self.attr.index as usize)
                .copied()
                .unwrap_or(0),
            // Input status 0: bit 7 a vertical retrace interrupt pending;
            // no switch sense.
            0x3C2 => {
                if self.vri_pending(now) {
                    0x80
                } else {
                    0x00
                }
            }
            0x3C3 => self.enable,
            0x3C4 => self.seq_index,
            0x3C5 => self.seq.get(self.seq_index as usize).copied().unwrap_or(0),
            0x3C6 => self.dac.pel_mask,
            0x3C7 => {
                if self.dac.reading {
                    0x03
                } else {
                    0x00
                }
            }
            0x3C8 => self.dac.write_index,
            0x3C9 => self.dac_read(),
            0x3CA => self.feature,
            0x3CC => self.misc,
            0x3CE => self.gc_index,
            0x3CF => self.gc.get(self.gc_index as usize).copied().unwrap_or(0),
            _ => 0xFF,
        }
    }

    /// Write an I/O port (8 bits) at CPU cycle `now`.
    pub fn io_write(&mut self, port: u16, v: u8, now: u64) {
        self.now = now;
        self.writes = self.writes.wrapping_add(1);
        match port {
            // A word access split into bytes reaches 1CFh (low) then 1D0h
            // (high): the low byte is written at once, the word when the
            // high byte follows.
            0x1CE => self.dispi.index = v as u16,
            0x1CF => {
                self.dispi.low = v;
                self.dispi_write(v as u16);
            }
            0x1D0 => self.dispi_write(self.dispi.low as u16 | (v as u16) << 8),
            0x3B4 | 0x3D4 if self.crtc_port(port) => self.crtc_index = v,
            0x3B5 | 0x3D5 if self.crtc_port(port) => self.crtc_write(v),
            0x3BA | 0x3DA if self.crtc_port(port) => self.feature = v,
            0x3C0 => self.attr_write(v),
            0x3C2 => self.misc = v,
            0x3C3 => self.enable = v & 1,
            0x3C4 => self.seq_index = v & 0x07,
            0x3C5 => {
                let i = self.seq_index as usize;
                if i < SEQ_MASK.len() {
                    self.seq[i] = v & SEQ_MASK[i];
                }
            }
            0x3C6 => self.dac.pel_mask = v,
            0x3C7 => {
                self.dac.read_index = v;
                self.dac.component = 0;
                self.dac.reading = true;
            }
            0x3C8 => {
                self.dac.write_index = v;
                self.dac.component = 0;
                self.dac.reading = false;
            }
            0x3C9 => self.dac_write(v),
            0x3CE => self.gc_index = v & 0x0F,
            0x3CF => {
                let i = self.gc_index as usize;
                if i < GC_MASK.len() {
                    self.gc[i] = v & GC_MASK[i];
                }
            }
            _ => {}
        }
    }

    /// Read a 16-bit port: the DISPI data or index, or two byte reads.
    pub fn io_read16(&mut self, port: u16, now: u64) -> u16 {
        self.now = now;
        match port {
            0x1CE => self.dispi.index,
            0x1CF | 0x1D0 => self.dispi.read(self.vram.len()),
            _ => {
                let lo = self.io_read(port, now) as u16;
                let hi = self.io_read(port.wrapping_add(1), now) as u16;
                lo | hi << 8
            }
        }
    }

    /// Write a 16-bit port. A word write to an index port (3C4h, 3CEh,
    /// 3B4h/3D4h) writes the index and then the data, as on the ISA bus.
    pub fn io_write16(&mut self, port: u16, v: u16, now: u64) {
        self.now = now;
        self.writes = self.writes.wrapping_add(1);
        match port {
            0x1CE => self.dispi.index = v,
            0x1CF | 0x1D0 => self.dispi_write(v),
            _ => {
                self.io_write(port, v as u8, now);
                self.io_write(port.wrapping_add(1), (v >> 8) as u8, now);
            }
        }
    }

    /// Read `size` bytes (1, 2 or 4; others read as 1) from `port`: the
    /// shape of a board's generic port handler. A doubleword is two words,
    /// the low one at `port`.
    pub fn io_read_sized(&mut self, port: u16, size: u8, now: u64) -> u32 {
        match size {
            2 => self.io_read16(port, now) as u32,
            4 => {
                let lo = self.io_read16(port, now) as u32;
                lo | (self.io_read16(port.wrapping_add(2), now) as u32) << 16
            }
            _ => self.io_read(port, now) as u32,
        }
    }

    /// Write `size` bytes (1, 2 or 4; others write one) to `port`.
    pub fn io_write_sized(&mut self, port: u16, size: u8, v: u32, now: u64) {
        match size {
            2 => self.io_write16(port, v as u16, now),
            4 => {
                self.io_write16(port, v as u16, now);
                self.io_write16(port.wrapping_add(2), (v >> 16) as u16, now);
            }
            _ => self.io_write(port, v as u8, now),
        }
    }

    fn dispi_write(&mut self, v: u16) {
        if let Some(clear) = self.dispi.write(v, self.vram.len()) {
            let end = clear.min(self.vram.len());
            self.vram[..end].fill(0);
        }
    }

    fn crtc_port(&self, port: u16) -> bool {
        (port & 0x3F0 == 0x3D0) == self.color_io()
    }

    fn crtc_write(&mut self, v: u8) {
        let i = self.crtc_index as usize;
        if i >= CRTC_REGS {
            return;
        }
        // CR11 bit 7 protects CR00–CR07, except CR07 bit 4 (line compare bit 8).
        if self.crtc[0x11] & 0x80 != 0 && i <= 7 {
            if i == 7 {
                self.crtc[7] = (self.crtc[7] & !0x10) | (v & 0x10);
            }
            return;
        }
        if i == 0x11 && self.crtc[0x11] & 0x10 == 0 && v & 0x10 != 0 {
            self.vri_armed_at = self.now;
        }
        self.crtc[i] = v;
    }

    fn attr_write(&mut self, v: u8) {
        if !self.attr.flip {
            self.attr.index = v & 0x1F;
            self.attr.pas = v & 0x20 != 0;
        } else {
            let i = self.attr.index as usize;
            let mask = match i {
                0x00..=0x0F => 0x3F,
                0x10 => 0xEF,
                0x11 => 0xFF,
                0x12 => 0x3F,
                _ => 0x0F,
            };
            if i < self.attr.regs.len() {
                self.attr.regs[i] = v & mask;
            }
        }
        self.attr.flip = !self.attr.flip;
    }

    /// True when the DAC holds eight bits per component (VBE DAC switch).
    fn dac_8bit(&self) -> bool {
        self.dispi.dac_8bit()
    }

    fn dac_write(&mut self, v: u8) {
        let v = if self.dac_8bit() { v } else { v & 0x3F };
        let c = (self.dac.component % 3) as usize;
        self.dac.pending[c] = v;
        if c == 2 {
            self.dac.entries[self.dac.write_index as usize] = self.dac.pending;
            self.dac.write_index = self.dac.write_index.wrapping_add(1);
            self.dac.component = 0;
        } else {
            self.dac.component = c as u8 + 1;
        }
    }

    fn dac_read(&mut self) -> u8 {
        let c = (self.dac.component % 3) as usize;
        let v = self.dac.entries[self.dac.read_index as usize][c];
        if c == 2 {
            self.dac.read_index = self.dac.read_index.wrapping_add(1);
            self.dac.component = 0;
        } else {
            self.dac.component = c as u8 + 1;
        }
        v
    }

    /// A DAC entry as 8-bit RGB.
    pub fn dac_rgb(&self, index: u8) -> [u8; 3] {
        let e = self.dac.entries[index as usize];
        if self.dac_8bit() {
            e
        } else {
            e.map(|c| (c << 2) | (c >> 4))
        }
    }

    // ---- memory ----

    /// Decode an offset from A0000h.
    fn target(&self, offset: u32) -> Target {
        if self.dispi.enabled() {
            if offset < 0x10000 {
                let a = self.dispi.bank as usize * 0x10000 + offset as usize;
                if self.dispi.planar() {
                    return Target::Planar(a);
                }
                if a < self.vram.len() {
                    return Target::Linear(a);
                }
            }
            return Target::None;
        }
        if self.misc & 0x02 == 0 {
            return Target::None;
        }
        let (base, len) = match (self.gc[6] >> 2) & 3 {
            0 => (0, 0x20000),
            1 => (0, 0x10000),
            2 => (0x10000, 0x8000),
            _ => (0x18000, 0x8000),
        };
        if offset < base || offset >= base + len {
            return Target::None;
        }
        Target::Planar((offset - base) as usize)
    }

    /// Read the legacy window at `offset` from A0000h (loads the latches).
    pub fn mem_read(&mut self, offset: u32) -> u8 {
        match self.target(offset) {
            Target::None => 0xFF,
            Target::Linear(a) => self.vram[a],
            Target::Planar(off) => self.planar_read(off),
        }
    }

    /// Write the legacy window at `offset` from A0000h.
    pub fn mem_write(&mut self, offset: u32, v: u8) {
        self.writes = self.writes.wrapping_add(1);
        match self.target(offset) {
            Target::None => {}
            Target::Linear(a) => self.vram[a] = v,
            Target::Planar(off) => self.planar_write(off, v),
        }
    }

    /// True when LFB offsets are plane offsets (the VBE 4 bpp mode).
    fn lfb_planar(&self) -> bool {
        self.dispi.enabled() && self.dispi.planar()
    }

    /// Read the linear framebuffer at `offset` from its base (0xFF past the
    /// end). In the VBE 4 bpp mode it is planar memory, read through the
    /// graphics controller like the A0000h window.
    pub fn lfb_read(&mut self, offset: u32) -> u8 {
        if self.lfb_planar() {
            return if (offset as usize) < self.vram.len() / 4 {
                self.planar_read(offset as usize)
            } else {
                0xFF
            };
        }
        self.vram.get(offset as usize).copied().unwrap_or(0xFF)
    }

    /// Write the linear framebuffer at `offset` from its base.
    pub fn lfb_write(&mut self, offset: u32, v: u8) {
        self.writes = self.writes.wrapping_add(1);
        if self.lfb_planar() {
            if (offset as usize) < self.vram.len() / 4 {
                self.planar_write(offset as usize, v);
            }
            return;
        }
        if let Some(b) = self.vram.get_mut(offset as usize) {
            *b = v;
        }
    }

    /// Offsets within a plane wrap at this mask: 64 KiB planes for the
    /// VGA, a quarter of video memory in the VBE planar (4 bpp) mode.
    fn plane_mask(&self) -> usize {
        if self.dispi.enabled() && self.dispi.planar() {
            self.vram.len() / 4 - 1
        } else {
            PLANE_SIZE - 1
        }
    }

    /// A byte of plane `plane` at plane offset `off` (wrapping in the plane).
    pub fn plane_byte(&self, plane: usize, off: usize) -> u8 {
        self.vram[(off & self.plane_mask()) * 4 + (plane & 3)]
    }

    fn load_latches(&mut self, off: usize) {
        let a = (off & self.plane_mask()) * 4;
        self.latch.copy_from_slice(&self.vram[a..a + 4]);
    }

    fn planar_read(&mut self, off: usize) -> u8 {
        let (plane, off) = if self.seq[4] & 0x08 != 0 {
            // Chain-4: the low two address bits pick the plane.
            (off & 3, off & !3)
        } else if self.gc[5] & 0x10 != 0 {
            // Odd/even: A0 picks the plane within the pair read map select chooses.
            ((self.gc[4] as usize & 2) | (off & 1), off & !1)
        } else {
            (self.gc[4] as usize & 3, off)
        };
        self.load_latches(off);
        if self.gc[5] & 0x08 == 0 {
            return self.latch[plane];
        }
        // Read mode 1: a bit is set where the pixel matches the colour
        // compare register in every plane colour don't care selects.
        let mut diff = 0u8;
        for p in 0..4 {
            if self.gc[7] & (1 << p) != 0 {
                let want = if self.gc[2] & (1 << p) != 0 { 0xFF } else { 0 };
                diff |= self.latch[p] ^ want;
            }
        }
        !diff
    }

    fn planar_write(&mut self, off: usize, v: u8) {
        let mut planes = self.seq[2] & 0x0F;
        let off = if self.seq[4] & 0x08 != 0 {
            planes &= 1 << (off & 3);
            off & !3
        } else if self.seq[4] & 0x04 == 0 {
            // Odd/even: even addresses go to planes 0 and 2, odd to 1 and 3.
            planes &= if off & 1 == 0 { 0b0101 } else { 0b1010 };
            off & !1
        } else {
            off
        };
        if planes == 0 {
            return;
        }
        let mode = self.gc[5] & 3;
        let rot = self.gc[3] & 7;
        let func = (self.gc[3] >> 3) & 3;
        let set_reset = self.gc[0];
        let esr = self.gc[1];
        let rotated = v.rotate_right(rot as u32);
        let expand = |bit: bool| if bit { 0xFFu8 } else { 0 };
        let mut mask = self.gc[8];
        let mut data = [0u8; 4];
        match mode {
            1 => data = self.latch,
            _ => {
                for (p, d) in data.iter_mut().enumerate() {
                    *d = match mode {
                        0 if esr & (1 << p) != 0 => expand(set_reset & (1 << p) != 0),
                        0 => rotated,
                        2 => expand(v & (1 << p) != 0),
                        _ => expand(set_reset & (1 << p) != 0),
                    };
                }
                if mode == 3 {
                    mask &= rotated;
                }
                for (p, d) in data.iter_mut().enumerate() {
                    let l = self.latch[p];
                    let r = match func {
                        0 => *d,
                        1 => *d & l,
                        2 => *d | l,
                        _ => *d ^ l,
                    };
                    *d = (r & mask) | (l & !mask);
                }
            }
        }
        let a = (off & self.plane_mask()) * 4;
        for (p, d) in data.iter().enumerate() {
            if planes & (1 << p) != 0 {
                self.vram[a + p] = *d;
            }
        }
    }
}
