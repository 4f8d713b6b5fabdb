//! ATA hard disks: the PIO command set on a raw image of 512-byte sectors.

use super::{
    error, put_checksum, put_string, put_word, serial_for, AddrMode, BlockImage, Dir, Drive,
    ImageError, Media, Op, SECTOR,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The largest DRQ block of READ/WRITE MULTIPLE (IDENTIFY word 47).
pub const MAX_MULTIPLE: u8 = 16;
/// LBA28 commands reach sectors below this.
const LBA28_LIMIT: u64 = 0x0FFF_FFFF;

/// A CHS translation: cylinders, heads, sectors per track.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chs {
    /// Cylinders.
    pub cylinders: u32,
    /// Heads (1–16).
    pub heads: u32,
    /// Sectors per track (1–255).
    pub sectors: u32,
}

impl Chs {
    /// The default geometry BIOSes expect from an image of `total` sectors:
    /// 16 heads × 63 sectors and as many whole cylinders as fit, at most
    /// 16383 (the IDENTIFY limit: bigger disks are reached by LBA). Images
    /// smaller than one such cylinder (504 KiB) get one head and one track
    /// per cylinder of up to 63 sectors, so the geometry never claims
    /// sectors the image lacks.
    pub fn for_sectors(total: u64) -> Chs {
        if total >= 16 * 63 {
            Chs {
                cylinders: (total / (16 * 63)).min(16383) as u32,
                heads: 16,
                sectors: 63,
            }
        } else {
            let sectors = total.clamp(1, 63) as u32;
            Chs {
                cylinders: (total / sectors as u64).max(1) as u32,
                heads: 1,
                sectors,
            }
        }
    }

    /// Sectors this geometry addresses.
    pub fn capacity(&self) -> u64 {
        self.cylinders as u64 * self.heads as u64 * self.sectors as u64
    }

    /// The LBA of (cylinder, head, sector), or `None` outside the geometry
    /// (sector numbers start at 1).
    pub fn to_lba(&self, c: u32, h: u32, s: u32) -> Option<u64> {
        if c >= self.cylinders || h >= self.heads || s == 0 || s > self.sectors {
            return None;
        }
        Some((c as u64 * self.heads as u64 + h as u64) * self.sectors as u64 + s as u64 - 1)
    }

    /// (cylinder, head, sector) of an LBA.
    pub fn from_lba(&self, lba: u64) -> (u32, u32, u32) {
        let spt = self.sectors.max(1) as u64;
        let heads = self.heads.max(1) as u64;
        let s = (lba % spt) as u32 + 1;
        let t = lba / spt;
        ((t / heads) as u32, (t % heads) as u32, s)
    }
}

/// Power modes (CHECK POWER MODE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Power {
    /// Active or idle: CHECK POWER MODE answers FFh.
    Active,
    /// Standby (or sleep): answers 00h.
    Standby,
}

/// An ATA hard disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AtaDisk {
    /// The image.
    pub image: BlockImage,
    /// Default geometry (IDENTIFY words 1, 3, 6).
    pub geometry: Chs,
    /// The translation in use (set by INITIALIZE DEVICE PARAMETERS).
    pub current: Chs,
    /// Sectors per DRQ block of READ/WRITE MULTIPLE (0: multiple mode off).
    pub multiple: u8,
    /// Power mode.
    pub power: Power,
    /// Write cache enabled (SET FEATURES 02h/82h; writes are not delayed).
    pub write_cache: bool,
    /// SET FEATURES 66h: keep settings across a software reset.
    keep_settings: bool,
    serial: String,
}

impl AtaDisk {
    /// Open a raw hard-disk image (`writable`: guest writes reach the file;
    /// otherwise they stay in memory).
    pub fn open(path: &Path, writable: bool) -> Result<AtaDisk, ImageError> {
        Ok(Self::new(BlockImage::open(
            path,
            SECTOR,
            writable,
            "hard-disk",
        )?))
    }

    /// A disk on an image of 512-byte blocks.
    pub fn new(image: BlockImage) -> AtaDisk {
        let geometry = Chs::for_sectors(image.blocks());
        AtaDisk {
            serial: serial_for(&image.path),
            image,
            geometry,
            current: geometry,
            multiple: 0,
            power: Power::Active,
            write_cache: true,
            keep_settings: false,
        }
    }

    /// Total sectors.
    pub fn sectors(&self) -> u64 {
        self.image.blocks()
    }

    pub(super) fn soft_reset(&mut self) {
        if !self.keep_settings {
            self.multiple = 0;
            self.write_cache = true;
        }
        self.power = Power::Active;
    }

    /// The 512 bytes of IDENTIFY DEVICE.
    pub fn identify(&self) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        let g = self.geometry;
        let total = self.sectors();
        put_word(&mut b, 0, 0x0040); // fixed disk, not removable
        put_word(&mut b, 1, g.cylinders as u16);
        put_word(&mut b, 3, g.heads as u16);
        // Words 4 and 5 (unformatted bytes per track and per sector) are
        // retired since ATA-2, but the Bochs BIOS takes its transfer block
        // size from word 5: 0 there makes every read move nothing.
        put_word(&mut b, 4, (512 * g.sectors).min(0xFFFF) as u16);
        put_word(&mut b, 5, 512);
        put_word(&mut b, 6, g.sectors as u16);
        put_string(&mut b, 10, 20, &self.serial);
        put_string(&mut b, 23, 8, "1.0");
        put_string(&mut b, 27, 40, "IRONPC HARDDISK");
        put_word(&mut b, 47, 0x8000 | MAX_MULTIPLE as u16);
        put_word(&mut b, 49, 0x0200); // LBA; no DMA
        put_word(&mut b, 50, 0x4000);
        put_word(&mut b, 51, 0x0200); // PIO mode 2 timing (obsolete word)
        put_word(&mut b, 53, 0x0003); // words 54–58 and 64–70 valid
        let c = self.current;
        put_word(&mut b, 54, c.cylinders.min(0xFFFF) as u16);
        put_word(&mut b, 55, c.heads as u16);
        put_word(&mut b, 56, c.sectors as u16);
        let cap = c.capacity().min(u32::MAX as u64) as u32;
        put_word(&mut b, 57, cap as u16);
        put_word(&mut b, 58, (cap >> 16) as u16);
        let m = if self.multiple != 0 {
            0x0100 | self.multiple as u16
        } else {
            0
        };
        put_word(&mut b, 59, m);
        let lba28 = total.min(LBA28_LIMIT) as u32;
        put_word(&mut b, 60, lba28 as u16);
        put_word(&mut b, 61, (lba28 >> 16) as u16);
        put_word(&mut b, 64, 0x0003); // PIO modes 3 and 4
        for w in 65..=68 {
            put_word(&mut b, w, 120);
        }
        put_word(&mut b, 80, 0x007E); // ATA-1 to ATA/ATAPI-6
        put_word(&mut b, 82, 0x0028); // power management, write cache
        put_word(&mut b, 83, 0x7400); // LBA48, FLUSH CACHE (EXT)
        put_word(&mut b, 84, 0x4000);
        put_word(&mut b, 85, 0x0008 | if self.write_cache { 0x20 } else { 0 });
        put_word(&mut b, 86, 0x3400);
        put_word(&mut b, 87, 0x4000);
        for i in 0..4 {
            put_word(&mut b, 100 + i, (total >> (16 * i)) as u16);
        }
        put_checksum(&mut b);
        b
    }
}

fn disk(d: &mut Drive) -> Option<&mut AtaDisk> {
    match &mut d.media {
        Media::Disk(x) => Some(x),
        Media::Cdrom(_) => None,
    }
}

/// Run an ATA command on a hard disk.
pub(super) fn command(d: &mut Drive, cmd: u8, now: u64, delay: u64) {
    let Some(k) = disk(d) else { return };
    k.power = match cmd {
        0xE0 | 0xE2 | 0xE6 | 0x94 | 0x96 | 0x99 => Power::Standby,
        0xE5 | 0x98 => k.power,
        _ => Power::Active,
    };
    match cmd {
        0x20 | 0x21 | 0x24 | 0x29 | 0xC4 | 0x30 | 0x31 | 0x34 | 0x39 | 0xC5 => {
            start_rw(d, cmd, now, delay)
        }
        0x40..=0x42 => verify(d, cmd == 0x42, now, delay),
        0x70..=0x7F => match address(d, false) {
            Some(_) => d.complete(true, now, delay),
            None => d.abort(error::IDNF, now, delay),
        },
        0x10..=0x1F => {
            // RECALIBRATE: the heads go to cylinder 0.
            d.complete(true, now, delay)
        }
        0x91 => {
            let heads = (d.tf.device & 0x0F) as u32 + 1;
            let sectors = d.tf.count as u32;
            if sectors == 0 {
                return d.abort(error::ABRT, now, delay);
            }
            let Some(k) = disk(d) else { return };
            let cylinders = (k.sectors() / (heads as u64 * sectors as u64)).min(65535) as u32;
            k.current = Chs {
                cylinders,
                heads,
                sectors,
            };
            d.complete(true, now, delay)
        }
        0xC6 => {
            let n = d.tf.count;
            if n != 0 && (n > MAX_MULTIPLE || !n.is_power_of_two()) {
                return d.abort(error::ABRT, now, delay);
            }
            if let Some(k) = disk(d) {
                k.multiple = n;
            }
            d.complete(true, now, delay)
        }
        0xEC => {
            let id = k.identify();
            d.data_in(id, true, now, delay)
        }
        0xEF => set_features(d, now, delay),
        // IDLE / STANDBY (immediate or with a timer), SLEEP.
        0xE0..=0xE3 | 0x94..=0x97 | 0xE6 | 0x99 => d.complete(true, now, delay),
        0xE5 | 0x98 => {
            d.tf.count = if k.power == Power::Active { 0xFF } else { 0x00 };
            d.complete(true, now, delay)
        }
        0xE7 | 0xEA => match k.image.flush() {
            Ok(()) => d.complete(true, now, delay),
            Err(_) => d.abort(error::ABRT, now, delay),
        },
        _ => d.abort(error::ABRT, now, delay),
    }
}

fn set_features(d: &mut Drive, now: u64, delay: u64) {
    let (f, count) = (d.tf.features, d.tf.count);
    let Some(k) = disk(d) else { return };
    let ok = match f {
        0x02 => {
            k.write_cache = true;
            true
        }
        0x82 => {
            k.write_cache = false;
            true
        }
        // Set transfer mode: PIO default, PIO flow-control modes 0–4. DMA
        // modes are refused: there is no DMA.
        0x03 => matches!(count, 0x00 | 0x01 | 0x08..=0x0C),
        0x66 => {
            k.keep_settings = true;
            true
        }
        0xCC => {
            k.keep_settings = false;
            true
        }
        // Read look-ahead on/off: accepted, nothing to change.
        0x55 | 0xAA => true,
        _ => false,
    };
    if ok {
        d.complete(true, now, delay)
    } else {
        d.abort(error::ABRT, now, delay)
    }
}

/// Decode the start address and count of a command; `None` if the address
/// is not on the disk (ID not found).
fn address(d: &Drive, lba48: bool) -> Option<(u64, u32, AddrMode)> {
    let Media::Disk(k) = &d.media else {
        return None;
    };
    let tf = &d.tf;
    if lba48 {
        let n = (tf.hob[1] as u32) << 8 | tf.count as u32;
        let n = if n == 0 { 65536 } else { n };
        return Some((tf.lba48(), n, AddrMode::Lba48));
    }
    let n = if tf.count == 0 { 256 } else { tf.count as u32 };
    if tf.device & 0x40 != 0 {
        return Some((tf.lba28(), n, AddrMode::Lba28));
    }
    let c = tf.lba_mid as u32 | (tf.lba_high as u32) << 8;
    let lba = k
        .current
        .to_lba(c, (tf.device & 0x0F) as u32, tf.lba_low as u32)?;
    Some((lba, n, AddrMode::Chs))
}

/// Whether `count` sectors from `lba` are on the disk (LBA28 commands reach
/// only the first 2^28 - 1 sectors).
fn in_range(d: &Drive, lba: u64, count: u32, mode: AddrMode) -> bool {
    let Media::Disk(k) = &d.media else {
        return false;
    };
    let limit = match mode {
        AddrMode::Lba48 => k.sectors(),
        _ => k.sectors().min(LBA28_LIMIT),
    };
    lba + count as u64 <= limit
}

/// Put the address of `lba` back in the registers in the command's form, and
/// the sectors still to do in the count (as drives report the last sector
/// transferred).
fn write_back(d: &mut Drive, lba: u64, remaining: u32, mode: AddrMode) {
    let Media::Disk(k) = &d.media else { return };
    let cur = k.current;
    let tf = &mut d.tf;
    match mode {
        AddrMode::Chs => {
            let (c, h, s) = cur.from_lba(lba);
            tf.lba_low = s as u8;
            tf.lba_mid = c as u8;
            tf.lba_high = (c >> 8) as u8;
            tf.device = (tf.device & 0xF0) | (h as u8 & 0x0F);
            tf.count = remaining as u8;
        }
        AddrMode::Lba28 => {
            tf.lba_low = lba as u8;
            tf.lba_mid = (lba >> 8) as u8;
            tf.lba_high = (lba >> 16) as u8;
            tf.device = (tf.device & 0xF0) | ((lba >> 24) as u8 & 0x0F);
            tf.count = remaining as u8;
        }
        AddrMode::Lba48 => {
            tf.lba_low = lba as u8;
            tf.lba_mid = (lba >> 8) as u8;
            tf.lba_high = (lba >> 16) as u8;
            tf.hob[2] = (lba >> 24) as u8;
            tf.hob[3] = (lba >> 32) as u8;
            tf.hob[4] = (lba >> 40) as u8;
            tf.count = remaining as u8;
            tf.hob[1] = (remaining >> 8) as u8;
        }
    }
}

fn verify(d: &mut Drive, lba48: bool, now: u64, delay: u64) {
    match address(d, lba48) {
        Some((lba, n, mode)) if in_range(d, lba, n, mode) => {
            write_back(d, lba + n as u64 - 1, 0, mode);
            d.complete(true, now, delay)
        }
        _ => d.abort(error::IDNF, now, delay),
    }
}

fn start_rw(d: &mut Drive, cmd: u8, now: u64, delay: u64) {
    let lba48 = matches!(cmd, 0x24 | 0x29 | 0x34 | 0x39);
    let multiple = matches!(cmd, 0x29 | 0x39 | 0xC4 | 0xC5);
    let write = matches!(cmd, 0x30 | 0x31 | 0x34 | 0x39 | 0xC5);
    let per = match &d.media {
        Media::Disk(k) if multiple => k.multiple as u32,
        _ => 1,
    };
    if per == 0 {
        return d.abort(error::ABRT, now, delay);
    }
    let Some((lba, remaining, mode)) = address(d, lba48) else {
        return d.abort(error::IDNF, now, delay);
    };
    if !in_range(d, lba, remaining, mode) {
        return d.abort(error::IDNF, now, delay);
    }
    let n = per.min(remaining);
    if write {
        d.op = Op::Rw {
            lba,
            remaining,
            per,
            write,
            mode,
        };
        // The first block of a write is asked for without an interrupt.
        d.data_out(n as usize * SECTOR, false, now, delay);
    } else {
        load_block(d, lba, remaining, per, mode, now, delay);
    }
}

/// Read the next DRQ block of a read command and offer it.
fn load_block(
    d: &mut Drive,
    lba: u64,
    remaining: u32,
    per: u32,
    mode: AddrMode,
    now: u64,
    delay: u64,
) {
    let n = per.min(remaining);
    let mut data = vec![0u8; n as usize * SECTOR];
    let Media::Disk(k) = &mut d.media else { return };
    for i in 0..n {
        let s = &mut data[i as usize * SECTOR..(i as usize + 1) * SECTOR];
        if k.image.read_block(lba + i as u64, s).is_err() {
            write_back(d, lba + i as u64, remaining - i, mode);
            return d.abort(error::UNC, now, delay);
        }
    }
    write_back(d, lba + n as u64 - 1, remaining - n, mode);
    d.op = Op::Rw {
        lba: lba + n as u64,
        remaining: remaining - n,
        per,
        write: false,
        mode,
    };
    d.data_in(data, true, now, delay);
}

#[allow(clippy::too_many_arguments)]
pub(super) fn rw_block_done(
    d: &mut Drive,
    lba: u64,
    remaining: u32,
    per: u32,
    write: bool,
    mode: AddrMode,
    now: u64,
    delay: u64,
) {
    if !write {
        // Data-in: the next block, or the end without an interrupt.
        if remaining > 0 {
            load_block(d, lba, remaining, per, mode, now, delay);
        } else {
            d.complete(false, now, delay);
        }
        return;
    }
    let n = per.min(remaining);
    let buf = std::mem::take(&mut d.buf);
    let Media::Disk(k) = &mut d.media else { return };
    for i in 0..n {
        let s = &buf[i as usize * SECTOR..(i as usize + 1) * SECTOR];
        if k.image.write_block(lba + i as u64, s).is_err() {
            write_back(d, lba + i as u64, remaining - i, mode);
            return d.abort(error::ABRT, now, delay);
        }
    }
    // With its write cache on (the default) the drive has the data once it
    // is in the buffer, and the command ends without a busy period: the
    // Bochs BIOS reads the status right after the last word of a write and
    // fails the INT 13h call (AH = 0Ch) unless it is DRDY alone.
    let cached = k.write_cache;
    write_back(d, lba + n as u64 - 1, remaining - n, mode);
    let left = remaining - n;
    if left == 0 {
        d.complete(true, now, if cached { 0 } else { delay });
    } else {
        d.op = Op::Rw {
            lba: lba + n as u64,
            remaining: left,
            per,
            write: true,
            mode,
        };
        d.data_out(per.min(left) as usize * SECTOR, true, now, delay);
    }
    debug_assert!(d.dir != Dir::In);
}
