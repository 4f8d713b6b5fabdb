//! The board's state for machine snapshots: [`AtBoard::save_state`] and
//! [`AtBoard::load_state`].
//!
//! A snapshot is restored onto a board built again from the same profile:
//! what the profile decides (the port table, ROM images, where devices are
//! plugged and wired) is rebuilt, not saved; what the guest and time
//! changed is saved. What the board derives from saved registers (the A20
//! mask, the PAM attributes, SMRAM, where the IDE bus-master ports sit) is
//! derived again on load. The slice state is not saved: snapshots are
//! taken between slices, where it is idle.

use super::{AtBoard, ResetKind};
use crate::at::events::Deadlines;
use crate::at::pci::{PciBus, PciKind};
use crate::at::pics::CascadedPics;
use crate::dma::Dma8237;
use crate::pit::Pit;
use devices::{DebugPorts, Fdc, Rtc, I8042};
use serde::{Deserialize, Serialize};

/// Everything of an [`AtBoard`] a snapshot holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AtBoardState {
    /// A PCI board.
    pub pci_board: bool,
    /// FNV-1a of the BIOS image: a snapshot only goes back onto a board
    /// running the same firmware (the shadowed copy in RAM is saved with
    /// the RAM, but the ROM is read at reset and for unshadowed areas).
    pub bios_hash: u64,
    /// Board time in CPU cycles.
    pub now: u64,
    /// The RAM.
    #[serde(with = "devices::bytes_serde")]
    pub ram: Vec<u8>,
    /// The interrupt controllers (with the ELCR).
    pub pics: CascadedPics,
    /// The 8254.
    pub pit: Pit,
    /// PIT input clocks counted so far.
    pub pit_ticks: u64,
    /// DMA controllers 1 and 2.
    pub dma: [Dma8237; 2],
    /// Page registers 80h–8Fh.
    pub pages: [u8; 16],
    /// RTC and CMOS RAM (the emulated clock: no host time).
    pub rtc: Rtc,
    /// The 8042 with keyboard and mouse.
    pub kbc: I8042,
    /// The floppy controller with its drives and inserted images.
    pub fdc: Fdc,
    /// The PCI configuration spaces (PAM, SMRAM, PIIX3 PIRQ routing, BARs).
    pub pci: Option<PciBus>,
    /// Port 61h's latch.
    pub port61: u8,
    /// Port 92h.
    pub port92: u8,
    /// CF9h.
    pub cf9: u8,
    /// Last POST code.
    pub post_code: u8,
    /// POST codes so far.
    pub post_codes: Vec<u8>,
    /// E9h console and F4h exit port.
    pub debug: DebugPorts,
    /// Bytes written to 402h/403h.
    pub bios_info: Vec<u8>,
    /// Bytes written to 500h.
    pub vgabios_info: Vec<u8>,
    /// Port 400h's value, if written.
    pub bios_panic: Option<u16>,
    /// Progress through "Shutdown" at 8900h.
    pub shutdown_match: usize,
    /// "Shutdown" was written.
    pub shutdown: bool,
    /// FERR# latched on IRQ 13.
    pub fpu_error: bool,
    /// NMI latched.
    pub nmi: bool,
    /// A reset asked for and not yet taken.
    pub reset: Option<ResetKind>,
    /// Pending deadlines.
    pub deadlines: Deadlines,
    /// Each attached device's own state ([`super::IoDevice::save_state`]).
    pub devices: Vec<Vec<u8>>,
    /// PIRQ lines driven from outside.
    pub pirq_lines: u8,
    /// ISA IRQs the PIRQ router drove at the last sync.
    pub pirq_driven: u16,
    /// I/O wait states not yet passed.
    pub io_stall: u64,
}

/// FNV-1a, 64 bits: a stable fingerprint of a ROM image.
pub(crate) fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl AtBoard {
    /// The board's state for a snapshot (between slices).
    pub fn save_state(&self) -> AtBoardState {
        AtBoardState {
            pci_board: self.config.pci,
            bios_hash: fnv64(&self.bios),
            now: self.now,
            ram: self.mem().clone(),
            pics: self.pics.clone(),
            pit: self.pit.clone(),
            pit_ticks: self.pit_ticks,
            dma: [self.dma1.clone(), self.dma2.clone()],
            pages: self.pages,
            rtc: self.rtc.clone(),
            kbc: self.kbc.clone(),
            fdc: self.fdc.clone(),
            pci: self.pci.clone(),
            port61: self.port61,
            port92: self.port92,
            cf9: self.cf9,
            post_code: self.post_code,
            post_codes: self.post_codes.clone(),
            debug: self.debug.clone(),
            bios_info: self.bios_info.clone(),
            vgabios_info: self.vgabios_info.clone(),
            bios_panic: self.bios_panic,
            shutdown_match: self.shutdown_match,
            shutdown: self.shutdown,
            fpu_error: self.fpu_error,
            nmi: self.nmi,
            reset: self.reset,
            deadlines: self.deadlines.clone(),
            devices: self.devices.iter().map(|d| d.device.save_state()).collect(),
            pirq_lines: self.pirq_lines,
            pirq_driven: self.pirq_driven,
            io_stall: self.io_stall,
        }
    }

    /// Put back a state from [`AtBoard::save_state`] on a board built from
    /// the same profile. Refused, before anything changes, when the state
    /// is of another kind of board, RAM size, firmware or set of devices.
    pub fn load_state(&mut self, s: AtBoardState) -> Result<(), String> {
        let kind = |pci: bool| if pci { "PCI" } else { "ISA" };
        if s.pci_board != self.config.pci || s.pci.is_some() != self.pci.is_some() {
            return Err(format!(
                "the state is of an {} board, this machine is an {} board",
                kind(s.pci_board),
                kind(self.config.pci)
            ));
        }
        if s.ram.len() != self.mem().len() {
            return Err(format!(
                "the state has {} KiB of RAM, this machine {} KiB",
                s.ram.len() / 1024,
                self.mem().len() / 1024
            ));
        }
        if s.bios_hash != fnv64(&self.bios) {
            return Err("the state was saved with another BIOS image".into());
        }
        if s.devices.len() != self.devices.len() {
            return Err(format!(
                "the state has {} attached devices, this machine {}",
                s.devices.len(),
                self.devices.len()
            ));
        }
        if s.fdc.drives.len() != self.fdc.drives.len() {
            return Err(format!(
                "the state has {} floppy drives, this machine {}",
                s.fdc.drives.len(),
                self.fdc.drives.len()
            ));
        }
        // Devices first: the only step that can fail after the checks.
        // A failure leaves the earlier devices changed; the caller throws
        // the machine away.
        for (i, (d, st)) in self.devices.iter_mut().zip(&s.devices).enumerate() {
            d.device
                .load_state(st)
                .map_err(|e| format!("attached device {i}: {e}"))?;
        }
        let [dma1, dma2] = s.dma;
        self.now = s.now;
        // Where the gate keeps it: `update_a20` below moves it if need be.
        *self.mem_mut() = s.ram;
        self.pics = s.pics;
        self.pit = s.pit;
        self.pit_ticks = s.pit_ticks;
        self.dma1 = dma1;
        self.dma2 = dma2;
        self.pages = s.pages;
        self.rtc = s.rtc;
        self.kbc = s.kbc;
        self.fdc = s.fdc;
        self.pci = s.pci;
        self.port61 = s.port61;
        self.port92 = s.port92;
        self.cf9 = s.cf9;
        self.post_code = s.post_code;
        self.post_codes = s.post_codes;
        self.debug = s.debug;
        self.bios_info = s.bios_info;
        self.vgabios_info = s.vgabios_info;
        self.bios_panic = s.bios_panic;
        self.shutdown_match = s.shutdown_match;
        self.shutdown = s.shutdown;
        self.fpu_error = s.fpu_error;
        self.nmi = s.nmi;
        self.reset = s.reset;
        self.deadlines = s.deadlines;
        self.pirq_lines = s.pirq_lines;
        self.pirq_driven = s.pirq_driven;
        self.io_stall = s.io_stall;
        self.slice = Default::default();
        // What the board derives from the registers just restored.
        self.update_a20();
        if self.pci.is_some() {
            self.pci_written(PciKind::HostBridge);
            self.remap_ide_busmaster();
        }
        Ok(())
    }

    /// True if a guest write reaches a file on the host (a floppy opened
    /// `writable`): such a machine cannot be snapshotted faithfully, as the
    /// file goes on changing after the snapshot is taken.
    pub fn writes_through(&self) -> bool {
        self.fdc
            .drives
            .iter()
            .any(|d| d.disk.as_ref().is_some_and(|i| i.writable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::at::board::AtConfig;
    use cpu::Bus;

    fn board() -> AtBoard {
        let config = AtConfig {
            memory_mib: 4,
            ..AtConfig::default()
        };
        AtBoard::new(config, vec![0xEE; 0x10000]).unwrap()
    }

    fn json(b: &AtBoard) -> String {
        serde_json::to_string(&b.save_state()).unwrap()
    }

    /// The states are equal; else where they first differ.
    fn assert_same(a: &AtBoard, b: &AtBoard) {
        let (x, y) = (json(a), json(b));
        if let Some(i) = x.bytes().zip(y.bytes()).position(|(p, q)| p != q) {
            let from = i.saturating_sub(80);
            panic!(
                "states differ at {i}: {} / {}",
                &x[from..(i + 40).min(x.len())],
                &y[from..(i + 40).min(y.len())]
            );
        }
        assert_eq!(x.len(), y.len());
    }

    /// Configuration write through mechanism #1 (CF8h/CFCh) to bus 0
    /// device 0 function 0 (the i440FX).
    fn host_bridge_write(b: &mut AtBoard, reg: u8, v: u8) {
        b.io_write32(0xCF8, 0x8000_0000 | (reg as u32 & 0xFC));
        b.io_write(0xCFC + (reg as u16 & 3), v);
    }

    #[test]
    fn a_loaded_board_reads_and_derives_like_the_saved_one() {
        let mut a = board();
        // PAM1 (5Ah) = 33h: C0000h–C7FFFh read and write RAM (82441FX
        // datasheet: each nibble's bits 0/1 are read/write enable).
        host_bridge_write(&mut a, 0x5A, 0x33);
        a.write(0xC0010, 0x5A);
        assert_eq!(a.read(0xC0010), 0x5A);
        // A20 off through the 8042's output port (command D1h, then the
        // port with bit 1 clear and bit 0, the reset line, high): 1 MiB +
        // 20h is 20h.
        a.io_write(0x64, 0xD1);
        a.io_write(0x60, 0xDD);
        a.write(0x20, 0x22);
        assert_eq!(a.read(0x10_0020), 0x22);
        // A CMOS byte, the PIC's mask, PIT counter 0 in mode 2.
        a.io_write(0x70, 0x30);
        a.io_write(0x71, 0x77);
        a.io_write(0x21, 0xB8);
        a.io_write(0x43, 0x34);
        a.io_write(0x40, 0xE8);
        a.io_write(0x40, 0x03);
        a.advance_to(12_345);

        let mut b = board();
        // Before loading, the fresh board has no shadow RAM (the ROM area
        // has no option ROM: FFh) and A20 on (as the firmware finds it).
        assert_eq!(b.read(0xC0010), 0xFF);
        assert!(b.a20());
        b.load_state(a.save_state()).unwrap();
        assert_eq!(b.now, 12_345);
        assert_eq!(b.read(0xC0010), 0x5A);
        assert!(!b.a20());
        assert_eq!(b.read(0x10_0020), 0x22);
        // The same reads on both (the RTC catches its clock up lazily when
        // it is read).
        for x in [&mut a, &mut b] {
            assert_eq!(x.io_read(0x21), 0xB8);
            x.io_write(0x70, 0x30);
            assert_eq!(x.io_read(0x71), 0x77);
        }
        assert_eq!(b.next_deadline(), a.next_deadline());
        assert_same(&a, &b);
        // Both run on alike: the same timer interrupts at the same cycles.
        for x in [&mut a, &mut b] {
            x.io_write(0x21, 0xFE);
            x.io_write(0x20, 0x20);
            x.advance_to(500_000);
        }
        assert_same(&a, &b);
    }

    #[test]
    fn another_board_ram_size_or_bios_is_refused() {
        let a = board();
        let isa = AtConfig {
            pci: false,
            memory_mib: 4,
            ..AtConfig::default()
        };
        let mut b = AtBoard::new(isa, vec![0xEE; 0x10000]).unwrap();
        assert!(b.load_state(a.save_state()).unwrap_err().contains("PCI"));
        let big = AtConfig {
            memory_mib: 8,
            ..AtConfig::default()
        };
        let mut c = AtBoard::new(big, vec![0xEE; 0x10000]).unwrap();
        assert!(c.load_state(a.save_state()).unwrap_err().contains("RAM"));
        let config = AtConfig {
            memory_mib: 4,
            ..AtConfig::default()
        };
        let mut d = AtBoard::new(config, vec![0xEF; 0x10000]).unwrap();
        assert!(d.load_state(a.save_state()).unwrap_err().contains("BIOS"));
    }
}
