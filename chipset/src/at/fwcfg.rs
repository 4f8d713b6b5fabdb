//! The firmware configuration interface of QEMU's PC ("fw_cfg"), which
//! SeaBIOS (and the Bochs BIOS's rombios32) read when they find it: a 16-bit
//! selector register at 510h and a byte-wide data register at 511h.
//!
//! Written from the facts of QEMU's published fw_cfg specification: writing
//! the selector chooses an item and rewinds its data offset; each read of
//! the data register returns the next byte, and zero past the item's end
//! or for an item that does not exist; writes to the data register are
//! ignored. Item 0000h is the signature "QEMU", 0001h the interface
//! revision/feature bitmap (bit 0: this traditional I/O interface; no DMA),
//! and 0019h the file directory: a big-endian count, then per file a
//! big-endian size (u32), selector (u16), reserved u16 and a 56-byte
//! NUL-padded name. Numbers in the fixed items are little-endian.
//!
//! This board offers what firmware needs to size and boot the machine and
//! nothing else: RAM size (0003h), CPU counts (0005h, 000Fh), the boot menu
//! switch (000Eh), and the files `etc/e820` (one 20-byte little-endian entry
//! per range: address u64, length u64, type u32) and `bootorder`
//! (newline-separated OpenFirmware device paths in the order to try).

use super::board::IoDevice;
use devices::cmos::BootDevice;

/// The selector port (16 bits, write).
pub const FW_CFG_SELECTOR: u16 = 0x510;
/// The data port (8 bits, read).
pub const FW_CFG_DATA: u16 = 0x511;

const SIGNATURE: u16 = 0x0000;
const ID: u16 = 0x0001;
const RAM_SIZE: u16 = 0x0003;
const NB_CPUS: u16 = 0x0005;
const BOOT_MENU: u16 = 0x000E;
const MAX_CPUS: u16 = 0x000F;
const FILE_DIR: u16 = 0x0019;
const FILE_FIRST: u16 = 0x0020;
const FILE_NAME_LEN: usize = 56;

/// The e820 type of usable RAM.
pub const E820_RAM: u32 = 1;

/// The interface and its items.
#[derive(Clone, Debug, Default)]
pub struct FwCfg {
    items: Vec<(u16, Vec<u8>)>,
    files: Vec<(String, u16)>,
    selected: u16,
    offset: usize,
}

impl FwCfg {
    /// An interface with only the signature and feature bitmap.
    pub fn new() -> Self {
        let mut f = FwCfg::default();
        f.set(SIGNATURE, b"QEMU".to_vec());
        f.set(ID, 1u32.to_le_bytes().to_vec());
        f.rebuild_dir();
        f
    }

    /// The items of a PC with `ram_bytes` of RAM (all below 4 GiB on this
    /// board), one CPU, and the boot order `boot` (with the devices that
    /// are present).
    pub fn for_pc(ram_bytes: u64, boot: &[BootDevice]) -> Self {
        let mut f = FwCfg::new();
        f.set(RAM_SIZE, ram_bytes.to_le_bytes().to_vec());
        f.set(NB_CPUS, 1u16.to_le_bytes().to_vec());
        f.set(MAX_CPUS, 1u16.to_le_bytes().to_vec());
        f.set(BOOT_MENU, 0u16.to_le_bytes().to_vec());
        // One range: all the RAM from 0 (the firmware reserves the EBDA
        // and its own area itself).
        let mut e820 = 0u64.to_le_bytes().to_vec();
        e820.extend_from_slice(&ram_bytes.to_le_bytes());
        e820.extend_from_slice(&E820_RAM.to_le_bytes());
        f.add_file("etc/e820", e820);
        // The device paths SeaBIOS matches its floppy and IDE drives
        // against: the PIIX3's ISA bridge at 00:01.0 with the floppy
        // controller at 3F0h, its IDE function 01.1 with channel (drive@N)
        // and unit (disk@N).
        // One path a line, no newline after the last (an empty line would
        // be an entry of its own).
        let order: Vec<&str> = boot
            .iter()
            .map(|d| match d {
                BootDevice::Floppy => "/pci@i0cf8/isa@1/fdc@03f0/floppy@0",
                BootDevice::HardDisk => "/pci@i0cf8/ide@1,1/drive@0/disk@0",
                BootDevice::Cdrom => "/pci@i0cf8/ide@1,1/drive@1/disk@0",
            })
            .collect();
        f.add_file("bootorder", order.join("\n").into_bytes());
        f
    }

    fn set(&mut self, key: u16, data: Vec<u8>) {
        match self.items.iter_mut().find(|(k, _)| *k == key) {
            Some(item) => item.1 = data,
            None => self.items.push((key, data)),
        }
    }

    /// Add (or replace) a named file; names longer than 55 bytes are cut.
    pub fn add_file(&mut self, name: &str, data: Vec<u8>) {
        let key = match self.files.iter().find(|(n, _)| n == name) {
            Some(&(_, k)) => k,
            None => {
                let k = FILE_FIRST + self.files.len() as u16;
                self.files.push((name.to_string(), k));
                k
            }
        };
        self.set(key, data);
        self.rebuild_dir();
    }

    fn rebuild_dir(&mut self) {
        let mut dir = (self.files.len() as u32).to_be_bytes().to_vec();
        for (name, key) in &self.files {
            let size = self.item(*key).map_or(0, <[u8]>::len) as u32;
            dir.extend_from_slice(&size.to_be_bytes());
            dir.extend_from_slice(&key.to_be_bytes());
            dir.extend_from_slice(&[0, 0]);
            let mut n = [0u8; FILE_NAME_LEN];
            let b = name.as_bytes();
            let len = b.len().min(FILE_NAME_LEN - 1);
            n[..len].copy_from_slice(&b[..len]);
            dir.extend_from_slice(&n);
        }
        self.set(FILE_DIR, dir);
    }

    fn item(&self, key: u16) -> Option<&[u8]> {
        self.items
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, d)| d.as_slice())
    }

    /// Write the selector: choose an item and rewind.
    pub fn select(&mut self, key: u16) {
        self.selected = key;
        self.offset = 0;
    }

    /// Read the next data byte (0 past the end or for a missing item).
    pub fn read_byte(&mut self) -> u8 {
        let v = self
            .item(self.selected)
            .and_then(|d| d.get(self.offset).copied())
            .unwrap_or(0);
        self.offset = self.offset.saturating_add(1);
        v
    }
}

impl IoDevice for FwCfg {
    fn io_read(&mut self, _now: u64, port: u16, size: u8) -> u32 {
        if port != FW_CFG_DATA {
            return u32::MAX >> (32 - 8 * size.clamp(1, 4) as u32);
        }
        // A wider read takes successive bytes, as byte reads would.
        (0..size.clamp(1, 4) as u32).fold(0, |v, i| v | (self.read_byte() as u32) << (8 * i))
    }

    fn io_write(&mut self, _now: u64, port: u16, _size: u8, value: u32) {
        if port == FW_CFG_SELECTOR {
            self.select(value as u16);
        }
    }

    fn reset(&mut self, _now: u64) {
        self.select(SIGNATURE);
    }

    /// The selector and the data offset: the items come from the profile,
    /// which a restored machine is built from again.
    fn save_state(&self) -> Vec<u8> {
        let mut v = self.selected.to_le_bytes().to_vec();
        v.extend_from_slice(&(self.offset as u64).to_le_bytes());
        v
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        if state.len() != 10 {
            return Err(format!(
                "fw_cfg state of {} bytes, expected 10",
                state.len()
            ));
        }
        self.selected = u16::from_le_bytes([state[0], state[1]]);
        let off = u64::from_le_bytes(state[2..10].try_into().expect("8 bytes"));
        self.offset = usize::try_from(off).map_err(|_| "fw_cfg offset out of range".to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_selector_and_offset_read_on_alike() {
        let mut a = FwCfg::for_pc(32 << 20, &[BootDevice::HardDisk]);
        // Two bytes into the signature "QEMU".
        assert_eq!(read(&mut a, SIGNATURE, 2), b"QE");
        let s = a.save_state();
        let mut b = FwCfg::for_pc(32 << 20, &[BootDevice::HardDisk]);
        b.load_state(&s).unwrap();
        assert_eq!(b.io_read(0, FW_CFG_DATA, 1) as u8, b'M');
        assert!(b.load_state(&s[..9]).unwrap_err().contains("9 bytes"));
    }

    fn read(f: &mut FwCfg, key: u16, len: usize) -> Vec<u8> {
        f.io_write(0, FW_CFG_SELECTOR, 2, key as u32);
        (0..len)
            .map(|_| f.io_read(0, FW_CFG_DATA, 1) as u8)
            .collect()
    }

    #[test]
    fn signature_id_and_rewind() {
        let mut f = FwCfg::new();
        assert_eq!(read(&mut f, 0, 4), b"QEMU");
        // Past the end: zeros; selecting again rewinds.
        assert_eq!(f.read_byte(), 0);
        assert_eq!(read(&mut f, 0, 2), b"QE");
        // Feature bitmap: traditional interface only (bit 0), no DMA.
        assert_eq!(read(&mut f, 1, 4), [1, 0, 0, 0]);
        // An unknown item reads as zeros.
        assert_eq!(read(&mut f, 0x1234, 3), [0, 0, 0]);
        // Writes to the data port change nothing.
        f.io_write(0, FW_CFG_DATA, 1, 0x55);
        assert_eq!(read(&mut f, 0, 4), b"QEMU");
    }

    #[test]
    fn pc_items_and_file_directory() {
        let mut f = FwCfg::for_pc(64 << 20, &[BootDevice::HardDisk, BootDevice::Floppy]);
        // RAM size, little-endian u64: 64 MiB = 0400_0000h.
        assert_eq!(read(&mut f, 3, 8), [0, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(read(&mut f, 5, 2), [1, 0]);
        assert_eq!(read(&mut f, 0x0F, 2), [1, 0]);
        // The directory: count 2 (big-endian), then 64-byte entries.
        let dir = read(&mut f, 0x19, 4 + 2 * 64);
        assert_eq!(dir[..4], [0, 0, 0, 2]);
        let entry = |i: usize| &dir[4 + 64 * i..4 + 64 * (i + 1)];
        let name = |e: &[u8]| {
            let n = &e[8..64];
            String::from_utf8(n[..n.iter().position(|&b| b == 0).unwrap()].to_vec()).unwrap()
        };
        let e = entry(0);
        assert_eq!(name(e), "etc/e820");
        // One 20-byte entry; selector from FILE_FIRST (0020h).
        assert_eq!(e[..4], [0, 0, 0, 20]);
        assert_eq!(e[4..6], [0x00, 0x20]);
        let e820 = read(&mut f, 0x20, 20);
        assert_eq!(u64::from_le_bytes(e820[0..8].try_into().unwrap()), 0);
        assert_eq!(
            u64::from_le_bytes(e820[8..16].try_into().unwrap()),
            64 << 20
        );
        assert_eq!(u32::from_le_bytes(e820[16..20].try_into().unwrap()), 1);
        let e = entry(1);
        assert_eq!(name(e), "bootorder");
        let size = u32::from_be_bytes(e[..4].try_into().unwrap()) as usize;
        let key = u16::from_be_bytes([e[4], e[5]]);
        let order = String::from_utf8(read(&mut f, key, size)).unwrap();
        assert_eq!(
            order,
            "/pci@i0cf8/ide@1,1/drive@0/disk@0\n/pci@i0cf8/isa@1/fdc@03f0/floppy@0"
        );
    }
}
