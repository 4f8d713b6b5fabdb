//! PCI configuration mechanism #1 (address register CF8h, data window
//! CFCh–CFFh) with the functions of an i440FX/PIIX3 PC: the host bridge
//! (8086:1237) with its PAM and SMRAM registers, the PIIX3 ISA bridge
//! (8086:7000) with the PIRQ routing registers, the PIIX3 IDE function
//! (8086:7010, legacy mode, bus-master BAR4) and a VGA (1234:1111, the
//! Bochs/QEMU standard VGA, BAR0 = linear framebuffer).
//!
//! Register facts are from the Intel 82441FX/82442FX (PMC) and 82371SB
//! (PIIX3) datasheets and the PCI Local Bus Specification 2.1 (header
//! layout, BAR sizing by writing all ones).

use serde::{Deserialize, Serialize};

/// A function's 256-byte configuration space with a mask of writable bits.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfigSpace {
    /// The registers.
    #[serde(with = "devices::bytes_serde::array")]
    pub bytes: [u8; 256],
    /// Bits software may change.
    #[serde(with = "devices::bytes_serde::array")]
    pub wmask: [u8; 256],
}

impl ConfigSpace {
    /// A type 0 header with the given IDs and class code (class, subclass,
    /// programming interface), revision `rev`; command register bits 0–2
    /// (I/O, memory, bus master) and the latency timer writable.
    pub fn new(vendor: u16, device: u16, class: [u8; 3], rev: u8) -> Self {
        let mut c = ConfigSpace {
            bytes: [0; 256],
            wmask: [0; 256],
        };
        c.bytes[0..2].copy_from_slice(&vendor.to_le_bytes());
        c.bytes[2..4].copy_from_slice(&device.to_le_bytes());
        c.bytes[8] = rev;
        c.bytes[9] = class[2];
        c.bytes[0x0A] = class[1];
        c.bytes[0x0B] = class[0];
        c.wmask[4] = 0x07;
        c.wmask[0x0D] = 0xF8;
        c.wmask[0x3C] = 0xFF; // interrupt line
        c
    }

    /// Make `range` writable in every bit.
    pub fn writable(&mut self, range: std::ops::RangeInclusive<usize>) {
        for i in range {
            self.wmask[i] = 0xFF;
        }
    }

    /// Set a register value (not subject to the mask).
    pub fn set(&mut self, reg: usize, bytes: &[u8]) {
        self.bytes[reg..reg + bytes.len()].copy_from_slice(bytes);
    }

    /// Read `size` (1, 2 or 4) bytes at `reg`, little-endian.
    pub fn read(&self, reg: u8, size: u8) -> u32 {
        (0..size as usize).fold(0, |acc, i| {
            acc | (self.bytes[(reg as usize + i) & 0xFF] as u32) << (8 * i)
        })
    }

    /// Write `size` bytes at `reg` through the mask.
    pub fn write(&mut self, reg: u8, size: u8, value: u32) {
        for i in 0..size as usize {
            let r = (reg as usize + i) & 0xFF;
            let b = (value >> (8 * i)) as u8;
            let m = self.wmask[r];
            self.bytes[r] = (self.bytes[r] & !m) | (b & m);
        }
    }

    /// A 32-bit register.
    pub fn dword(&self, reg: usize) -> u32 {
        u32::from_le_bytes(self.bytes[reg..reg + 4].try_into().unwrap_or([0; 4]))
    }
}

/// Which function a slot holds (the board reacts to some registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PciKind {
    /// i440FX host bridge.
    HostBridge,
    /// PIIX3 PCI-to-ISA bridge.
    IsaBridge,
    /// PIIX3 IDE controller.
    Ide,
    /// Standard VGA.
    Vga,
}

/// One function on bus 0.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PciFunction {
    /// Device number 0–31.
    pub device: u8,
    /// Function number 0–7.
    pub function: u8,
    /// What it is.
    pub kind: PciKind,
    /// Its configuration space.
    pub config: ConfigSpace,
}

/// Size of the VGA's expansion ROM BAR.
pub const VGA_ROM_SIZE: u32 = 0x10000;
/// Size of the VGA's linear framebuffer BAR.
pub const VGA_LFB_SIZE: u32 = 16 << 20;
/// The framebuffer address the LGPL VGA BIOS's VBE code assumes
/// (`VBE_DISPI_LFB_PHYSICAL_ADDRESS`); firmware normally assigns BAR0 there.
pub const VGA_LFB_DEFAULT: u32 = 0xE000_0000;

/// The i440FX host bridge at 00.0.
pub fn host_bridge() -> PciFunction {
    let mut c = ConfigSpace::new(0x8086, 0x1237, [0x06, 0x00, 0x00], 0x02);
    // Status: medium DEVSEL timing; command: memory and bus master on.
    c.set(0x04, &[0x06, 0x00, 0x80, 0x02]);
    c.wmask[4] = 0x00;
    // 50h–57h control, PAM0–6 (59h–5Fh), DRB (60h–67h), SMRAM (72h).
    c.writable(0x50..=0x57);
    c.writable(0x59..=0x5F);
    c.wmask[0x59] = 0x30; // PAM0: only the F0000 segment's nibble
    c.writable(0x60..=0x67);
    c.wmask[0x72] = 0x78; // SMRAM: D_OPEN, D_CLS, D_LCK, G_SMRAME
    c.bytes[0x72] = 0x02; // C_BASE_SEG = 010b (A0000h)
    PciFunction {
        device: 0,
        function: 0,
        kind: PciKind::HostBridge,
        config: c,
    }
}

/// The PIIX3 ISA bridge at 01.0 (multi-function).
pub fn isa_bridge() -> PciFunction {
    let mut c = ConfigSpace::new(0x8086, 0x7000, [0x06, 0x01, 0x00], 0x00);
    c.set(0x04, &[0x07, 0x00, 0x00, 0x02]);
    c.bytes[0x0E] = 0x80;
    c.writable(0x4C..=0x4F);
    // PIRQA–D route control: bit 7 set = routing disabled (reset value 80h).
    c.writable(0x60..=0x63);
    c.set(0x60, &[0x80, 0x80, 0x80, 0x80]);
    c.writable(0x69..=0x6A); // top of memory, misc status
    c.writable(0x70..=0x71); // motherboard IRQ routing
    c.set(0x70, &[0x80, 0x80]);
    c.writable(0x76..=0x77);
    c.set(0x76, &[0x0C, 0x0C]);
    c.writable(0x78..=0x82);
    c.writable(0xA0..=0xAF);
    PciFunction {
        device: 1,
        function: 0,
        kind: PciKind::IsaBridge,
        config: c,
    }
}

/// The PIIX3 IDE function at 01.1: legacy (compatibility) mode on both
/// channels, bus-master I/O in BAR4 (16 bytes).
pub fn ide() -> PciFunction {
    let mut c = ConfigSpace::new(0x8086, 0x7010, [0x01, 0x01, 0x80], 0x00);
    c.set(0x06, &[0x80, 0x02]);
    c.set(0x20, &[0x01, 0, 0, 0]);
    // The PIIX3 datasheet hardwires A31–A16 to zero, but SeaBIOS sizes an
    // I/O BAR over all 32 bits (zeros there read as a 4 GiB-sized BAR and
    // it gives up: "out of I/O address space"), so they are writable here
    // as on QEMU's PIIX3; the decoder uses the low 16 bits of a BAR below
    // 10000h.
    c.wmask[0x20] = 0xF0;
    c.writable(0x21..=0x23);
    c.writable(0x40..=0x44); // IDE timing, slave timing
    PciFunction {
        device: 1,
        function: 1,
        kind: PciKind::Ide,
        config: c,
    }
}

/// The standard VGA at 02.0 with its framebuffer BAR (prefetchable memory).
pub fn vga() -> PciFunction {
    let mut c = ConfigSpace::new(0x1234, 0x1111, [0x03, 0x00, 0x00], 0x02);
    c.set(0x04, &[0x03, 0x00, 0x00, 0x00]);
    let mask = !(VGA_LFB_SIZE - 1);
    c.wmask[0x10..0x14].copy_from_slice(&mask.to_le_bytes());
    c.wmask[0x10] = 0;
    // Unassigned until the BIOS sizes it; the low bits say prefetchable
    // 32-bit memory.
    c.bytes[0x10] = 0x08;
    // Expansion ROM BAR: 64 KiB (A31–A16) and the enable bit. SeaBIOS
    // copies the VGA BIOS from here to C0000h.
    c.wmask[0x30] = 0x01;
    c.wmask[0x31] = 0x00;
    c.writable(0x32..=0x33);
    PciFunction {
        device: 2,
        function: 0,
        kind: PciKind::Vga,
        config: c,
    }
}

/// Bus 0 with configuration mechanism #1.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PciBus {
    /// CONFADD (CF8h).
    pub address: u32,
    /// The functions present.
    pub functions: Vec<PciFunction>,
}

impl Default for PciBus {
    fn default() -> Self {
        PciBus {
            address: 0,
            functions: vec![host_bridge(), isa_bridge(), ide(), vga()],
        }
    }
}

impl PciBus {
    /// The i440FX/PIIX3 bus.
    pub fn new() -> Self {
        Self::default()
    }

    fn find(&self, device: u8, function: u8) -> Option<usize> {
        self.functions
            .iter()
            .position(|f| f.device == device && f.function == function)
    }

    /// The function of `kind`.
    pub fn get(&self, kind: PciKind) -> Option<&PciFunction> {
        self.functions.iter().find(|f| f.kind == kind)
    }

    /// The function addressed by CONFADD, if enabled, on bus 0 and present,
    /// with the register offset for data port `port` (CFCh–CFFh).
    fn target(&self, port: u16) -> Option<(usize, u8)> {
        let a = self.address;
        if a & 0x8000_0000 == 0 || (a >> 16) & 0xFF != 0 {
            return None;
        }
        let dev = ((a >> 11) & 0x1F) as u8;
        let func = ((a >> 8) & 7) as u8;
        let reg = (a & 0xFC) as u8 | (port & 3) as u8;
        self.find(dev, func).map(|i| (i, reg))
    }

    /// Read the data window; all ones when nothing answers.
    pub fn read_data(&self, port: u16, size: u8) -> u32 {
        match self.target(port) {
            Some((i, reg)) => self.functions[i].config.read(reg, size),
            None => u32::MAX >> (32 - 8 * size as u32),
        }
    }

    /// Write the data window; returns the function written, if any.
    pub fn write_data(&mut self, port: u16, size: u8, value: u32) -> Option<(PciKind, u8)> {
        let (i, reg) = self.target(port)?;
        self.functions[i].config.write(reg, size, value);
        Some((self.functions[i].kind, reg))
    }

    /// The IRQ that PIRQ `n` (0–3 for A–D) is routed to, if enabled.
    pub fn pirq_route(&self, n: usize) -> Option<u8> {
        let r = self.get(PciKind::IsaBridge)?.config.bytes[0x60 + (n & 3)];
        (r & 0x80 == 0 && matches!(r & 0x0F, 3..=7 | 9..=12 | 14 | 15)).then_some(r & 0x0F)
    }

    /// The PAM attribute (bit 0 read enable, bit 1 write enable) of the
    /// segment holding `addr` (C0000h–FFFFFh).
    pub fn pam(&self, addr: u32) -> u8 {
        let Some(hb) = self.get(PciKind::HostBridge) else {
            return 0;
        };
        if !(0xC0000..0x100000).contains(&addr) {
            return 3;
        }
        if addr >= 0xF0000 {
            return (hb.config.bytes[0x59] >> 4) & 3;
        }
        let seg = ((addr - 0xC0000) >> 14) as usize; // 16 KiB segments 0–11
        let r = hb.config.bytes[0x5A + seg / 2];
        if seg % 2 == 0 {
            r & 3
        } else {
            (r >> 4) & 3
        }
    }

    /// The VGA expansion ROM's base address, if enabled and memory decoding is on.
    pub fn vga_rom(&self) -> Option<u32> {
        let v = self.get(PciKind::Vga)?;
        let bar = v.config.dword(0x30);
        // The PCI spec gates decode on the enable bit (bit 0) and the
        // command register's memory space bit, but the Bochs BIOS copies the
        // ROM to C0000h through this BAR without them (with either required
        // its VGA BIOS never runs), relying on its own emulator decoding any
        // assigned ROM BAR; so does this board.
        (bar & !0xFFFF != 0).then_some(bar & !0xFFFF)
    }

    /// The VGA framebuffer's base address, if memory decoding is on.
    pub fn vga_lfb(&self) -> Option<u32> {
        let v = self.get(PciKind::Vga)?;
        (v.config.bytes[4] & 0x02 != 0).then(|| v.config.dword(0x10) & !0xF)
    }
}
