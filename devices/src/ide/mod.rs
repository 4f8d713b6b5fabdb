//! IDE/ATA: two channels of two devices each, ATA hard disks and ATAPI CD-ROMs,
//! PIO only (no bus-master DMA).
//!
//! The ports of a channel: the command block at 1F0h–1F7h (secondary 170h–177h)
//! and the control block at 3F6h (376h): reads there give the alternate status
//! without clearing the interrupt, writes set the device control register
//! (nIEN, SRST, HOB). 3F7h belongs to the floppy controller on a PC and is not
//! decoded here. The board routes port accesses to [`Ide::io_read`] /
//! [`Ide::io_write`] (8, 16 or 32 bits) and reads [`Ide::irq`] for IRQ 14 and 15.
//!
//! Commands complete after [`IdeChannel::set_command_delay`] CPU cycles (BSY
//! set meanwhile, [`Ide::next_event`] says when [`Ide::tick`] is needed); with
//! the default delay of 0 they complete within the port write.
//!
//! Absent devices (see `docs/storage.md`): on a channel with no device every
//! register reads 7Fh (DD7 is pulled down by the host, the other lines float
//! high) and the data port FF7Fh. On a channel with one device, the missing
//! one's status and alternate status read 00h (as the ATA specification
//! says), commands for it are ignored (EXECUTE DEVICE DIAGNOSTIC excepted),
//! and its other registers hold what the host wrote, with the signature
//! 01 01 FF FF ("no device") after a reset: the Bochs BIOS and QEMU's model
//! rely on that, where a real device 0 would show its own registers and
//! make a lone CD-ROM look like two to that BIOS.

pub mod ata;
pub mod atapi;
pub mod image;

use serde::{Deserialize, Serialize};
use std::path::Path;

pub use ata::{AtaDisk, Chs};
pub use atapi::{AtapiCdrom, Sense};
pub use image::{BlockImage, ImageError};

/// Status register bits.
pub mod status {
    /// Busy: the device owns the registers.
    pub const BSY: u8 = 0x80;
    /// Device ready (DRDY).
    pub const DRDY: u8 = 0x40;
    /// Device fault.
    pub const DF: u8 = 0x20;
    /// Seek complete (DSC; SERV on packet devices).
    pub const DSC: u8 = 0x10;
    /// Data request.
    pub const DRQ: u8 = 0x08;
    /// Error.
    pub const ERR: u8 = 0x01;
}

/// Error register bits (ATA).
pub mod error {
    /// Uncorrectable data error.
    pub const UNC: u8 = 0x40;
    /// ID not found: the address is outside the disk.
    pub const IDNF: u8 = 0x10;
    /// Command aborted.
    pub const ABRT: u8 = 0x04;
}

/// Bytes per ATA sector.
pub const SECTOR: usize = 512;

/// The command-block registers of one device. Writes from the host reach
/// both devices of a channel; each device changes only its own copy when it
/// reports (signatures, addresses, byte counts), so the host reads the
/// selected device's copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFile {
    /// Error register (read) — features is the write side.
    pub error: u8,
    /// Features.
    pub features: u8,
    /// Sector count (the interrupt reason on packet devices).
    pub count: u8,
    /// LBA low / sector number.
    pub lba_low: u8,
    /// LBA mid / cylinder low (byte count low on packet devices).
    pub lba_mid: u8,
    /// LBA high / cylinder high (byte count high on packet devices).
    pub lba_high: u8,
    /// Device/head.
    pub device: u8,
    /// The previous contents of features, count, LBA low/mid/high (LBA48:
    /// each register is two deep).
    pub hob: [u8; 5],
}

impl TaskFile {
    fn host_write(&mut self, reg: u16, v: u8) {
        let slot = match reg {
            1 => &mut self.features,
            2 => &mut self.count,
            3 => &mut self.lba_low,
            4 => &mut self.lba_mid,
            5 => &mut self.lba_high,
            6 => {
                self.device = v;
                return;
            }
            _ => return,
        };
        let old = *slot;
        *slot = v;
        self.hob[reg as usize - 1] = old;
    }

    fn read(&self, reg: u16, hob: bool) -> u8 {
        match reg {
            1 => self.error,
            2..=5 if hob => self.hob[reg as usize - 1],
            2 => self.count,
            3 => self.lba_low,
            4 => self.lba_mid,
            5 => self.lba_high,
            _ => self.device,
        }
    }

    /// The 28-bit LBA in the registers.
    pub fn lba28(&self) -> u64 {
        (self.device as u64 & 0x0F) << 24
            | (self.lba_high as u64) << 16
            | (self.lba_mid as u64) << 8
            | self.lba_low as u64
    }

    /// The 48-bit LBA in the registers (current and previous contents).
    pub fn lba48(&self) -> u64 {
        (self.hob[4] as u64) << 40
            | (self.hob[3] as u64) << 32
            | (self.hob[2] as u64) << 24
            | (self.lba_high as u64) << 16
            | (self.lba_mid as u64) << 8
            | self.lba_low as u64
    }

    /// What an absent device shows after a reset: "no device" (FFh FFh in
    /// LBA mid/high, as emulator BIOSes test for).
    fn set_absent_signature(&mut self) {
        self.set_signature(false);
        self.lba_mid = 0xFF;
        self.lba_high = 0xFF;
        self.error = 0x01;
    }

    fn set_signature(&mut self, packet: bool) {
        self.count = 1;
        self.lba_low = 1;
        (self.lba_mid, self.lba_high) = if packet { (0x14, 0xEB) } else { (0, 0) };
        self.device = 0;
        self.hob = [0; 5];
    }
}

/// What a device is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Media {
    /// An ATA hard disk.
    Disk(AtaDisk),
    /// An ATAPI CD-ROM drive.
    Cdrom(AtapiCdrom),
}

/// Direction of the PIO data transfer under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Dir {
    None,
    In,
    Out,
}

/// How an ATA command gave its address (to write the last one back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum AddrMode {
    Chs,
    Lba28,
    Lba48,
}

/// The multi-block operation a DRQ block belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Op {
    /// A single block (IDENTIFY) or nothing.
    None,
    /// READ/WRITE SECTORS or MULTIPLE: `remaining` sectors from `lba`, `per`
    /// sectors per DRQ block.
    Rw {
        lba: u64,
        remaining: u32,
        per: u32,
        write: bool,
        mode: AddrMode,
    },
    /// Waiting for the 12 bytes of a packet.
    Packet,
    /// Packet data-in: `remaining` bytes still to deliver.
    PacketIn { src: atapi::Source, remaining: u64 },
}

/// One device on a channel.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drive {
    /// Its registers.
    pub tf: TaskFile,
    /// The device itself.
    pub media: Media,
    status: u8,
    intrq: bool,
    buf: Vec<u8>,
    pos: usize,
    dir: Dir,
    op: Op,
    busy_until: Option<u64>,
    irq_at_ready: bool,
    /// Byte count limit of the packet command under way.
    byte_limit: u32,
}

impl Drive {
    fn new(media: Media) -> Drive {
        let mut d = Drive {
            tf: TaskFile::default(),
            media,
            status: 0,
            intrq: false,
            buf: Vec::new(),
            pos: 0,
            dir: Dir::None,
            op: Op::None,
            busy_until: None,
            irq_at_ready: false,
            byte_limit: 0,
        };
        d.reset_done();
        d
    }

    fn is_packet(&self) -> bool {
        matches!(self.media, Media::Cdrom(_))
    }

    /// Status as the host reads it.
    fn status(&self) -> u8 {
        if self.busy_until.is_some() {
            status::BSY
        } else {
            self.status
        }
    }

    /// Finish a phase: `st` is the status once ready; `irq` raises INTRQ then.
    fn ready(&mut self, st: u8, irq: bool, now: u64, delay: u64) {
        self.status = st;
        if delay == 0 {
            self.intrq |= irq;
        } else {
            self.busy_until = Some(now.saturating_add(delay));
            self.irq_at_ready = irq;
        }
    }

    fn idle_status(&self) -> u8 {
        status::DRDY | status::DSC
    }

    /// End the command with an error in the error register.
    fn abort(&mut self, err: u8, now: u64, delay: u64) {
        self.tf.error = err;
        self.dir = Dir::None;
        self.op = Op::None;
        let st = self.idle_status() | status::ERR;
        self.ready(st, true, now, delay);
    }

    /// End the command successfully.
    fn complete(&mut self, irq: bool, now: u64, delay: u64) {
        self.tf.error = 0;
        self.dir = Dir::None;
        self.op = Op::None;
        let st = self.idle_status();
        self.ready(st, irq, now, delay);
    }

    /// Offer a block of data to the host (PIO data-in).
    fn data_in(&mut self, data: Vec<u8>, irq: bool, now: u64, delay: u64) {
        self.buf = data;
        if self.buf.len() % 2 == 1 {
            self.buf.push(0);
        }
        self.pos = 0;
        self.dir = Dir::In;
        self.tf.error = 0;
        let st = self.idle_status() | status::DRQ;
        self.ready(st, irq, now, delay);
    }

    /// Ask the host for `len` bytes (PIO data-out).
    fn data_out(&mut self, len: usize, irq: bool, now: u64, delay: u64) {
        self.buf = vec![0; len];
        self.pos = 0;
        self.dir = Dir::Out;
        self.tf.error = 0;
        let st = self.idle_status() | status::DRQ;
        self.ready(st, irq, now, delay);
    }

    /// The state after a reset or diagnostic: signature and idle status.
    fn reset_done(&mut self) {
        self.tf.set_signature(self.is_packet());
        self.tf.error = 0x01; // diagnostic code: passed
        self.dir = Dir::None;
        self.op = Op::None;
        self.intrq = false;
        self.busy_until = None;
        // Packet devices leave reset with DRDY clear (ATA-4 and later).
        self.status = if self.is_packet() {
            0
        } else {
            status::DRDY | status::DSC
        };
        match &mut self.media {
            Media::Disk(d) => d.soft_reset(),
            Media::Cdrom(c) => c.soft_reset(),
        }
    }

    fn tick(&mut self, now: u64) {
        if let Some(t) = self.busy_until {
            if now >= t {
                self.busy_until = None;
                if self.irq_at_ready {
                    self.intrq = true;
                }
                self.irq_at_ready = false;
            }
        }
    }

    fn read_word(&mut self, now: u64, delay: u64) -> u16 {
        if self.dir != Dir::In || self.busy_until.is_some() {
            return 0xFFFF;
        }
        let lo = self.buf.get(self.pos).copied().unwrap_or(0);
        let hi = self.buf.get(self.pos + 1).copied().unwrap_or(0);
        self.pos += 2;
        if self.pos >= self.buf.len() {
            self.dir = Dir::None;
            self.block_done(now, delay);
        }
        u16::from_le_bytes([lo, hi])
    }

    fn write_word(&mut self, v: u16, now: u64, delay: u64) {
        if self.dir != Dir::Out || self.busy_until.is_some() {
            return;
        }
        let [lo, hi] = v.to_le_bytes();
        if let Some(b) = self.buf.get_mut(self.pos) {
            *b = lo;
        }
        if let Some(b) = self.buf.get_mut(self.pos + 1) {
            *b = hi;
        }
        self.pos += 2;
        if self.pos >= self.buf.len() {
            self.dir = Dir::None;
            self.block_done(now, delay);
        }
    }

    /// The host has moved the whole DRQ block.
    fn block_done(&mut self, now: u64, delay: u64) {
        match std::mem::replace(&mut self.op, Op::None) {
            Op::None => {
                let st = self.idle_status();
                self.ready(st, false, now, delay);
            }
            Op::Rw {
                lba,
                remaining,
                per,
                write,
                mode,
            } => ata::rw_block_done(self, lba, remaining, per, write, mode, now, delay),
            Op::Packet => atapi::packet_received(self, now, delay),
            Op::PacketIn { src, remaining } => atapi::next_chunk(self, src, remaining, now, delay),
        }
    }

    fn command(&mut self, cmd: u8, now: u64, delay: u64) {
        self.intrq = false;
        self.dir = Dir::None;
        self.op = Op::None;
        if self.is_packet() {
            atapi::command(self, cmd, now, delay);
        } else {
            ata::command(self, cmd, now, delay);
        }
    }
}

/// One IDE channel: up to two devices sharing the ports and an IRQ line.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct IdeChannel {
    drives: [Option<Drive>; 2],
    /// The registers an absent device shows when it is selected and the
    /// other device is present (see the module notes).
    #[serde(default)]
    absent_tf: [TaskFile; 2],
    selected: usize,
    control: u8,
    delay: u64,
}

/// Device control register bits.
mod ctrl {
    pub const NIEN: u8 = 0x02;
    pub const SRST: u8 = 0x04;
    pub const HOB: u8 = 0x80;
}

impl IdeChannel {
    /// A channel with no devices.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attach (or with `None`, remove) device 0 (master) or 1 (slave).
    pub fn attach(&mut self, slot: usize, media: Option<Media>) {
        if let Some(d) = self.drives.get_mut(slot) {
            *d = media.map(Drive::new);
        }
        // Power-on: a missing device reads as no device.
        self.reset_absent();
    }

    /// The device in `slot`, if any.
    pub fn drive(&self, slot: usize) -> Option<&Drive> {
        self.drives.get(slot)?.as_ref()
    }

    /// The device in `slot`, if any (to change its media).
    pub fn drive_mut(&mut self, slot: usize) -> Option<&mut Drive> {
        self.drives.get_mut(slot)?.as_mut()
    }

    /// CPU cycles from a command (or a DRQ block) to its completion; BSY is
    /// set meanwhile.
    pub fn set_command_delay(&mut self, cycles: u64) {
        self.delay = cycles;
    }

    /// Which device is selected (device register bit 4).
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The interrupt line (INTRQ of the selected device, unless nIEN).
    pub fn irq(&self) -> bool {
        self.control & ctrl::NIEN == 0
            && self.drives[self.selected].as_ref().is_some_and(|d| d.intrq)
    }

    /// When [`IdeChannel::tick`] is next needed (CPU cycles).
    pub fn next_event(&self) -> Option<u64> {
        self.drives
            .iter()
            .flatten()
            .filter_map(|d| d.busy_until)
            .min()
    }

    /// Finish the busy periods that end by `now`.
    pub fn tick(&mut self, now: u64) {
        for d in self.drives.iter_mut().flatten() {
            d.tick(now);
        }
    }

    fn empty(&self) -> bool {
        self.drives.iter().all(|d| d.is_none())
    }

    /// The selected device, if present.
    fn selected_drive(&self) -> Option<&Drive> {
        self.drives[self.selected].as_ref()
    }

    /// Reset the registers of absent device slots (SRST, diagnostic).
    fn reset_absent(&mut self) {
        for (slot, d) in self.drives.iter().enumerate() {
            if d.is_none() {
                self.absent_tf[slot].set_absent_signature();
            }
        }
    }

    /// Read command-block register `reg` (0–7; 0 reads the low byte of a
    /// data word).
    pub fn read(&mut self, reg: u16, now: u64) -> u8 {
        self.tick(now);
        let reg = reg & 7;
        if reg == 0 {
            return self.read_data16(now) as u8;
        }
        let hob = self.control & ctrl::HOB != 0;
        if self.empty() {
            return 0x7F;
        }
        let Some(d) = self.selected_drive() else {
            // Status of an absent device reads 00h; its other registers
            // hold what the host wrote (or "no device" after a reset).
            return if reg == 7 {
                0
            } else {
                self.absent_tf[self.selected].read(reg, hob)
            };
        };
        if reg != 7 {
            return d.tf.read(reg, hob);
        }
        let s = d.status();
        if s & status::BSY == 0 {
            if let Some(d) = self.drives[self.selected].as_mut() {
                d.intrq = false;
            }
        }
        s
    }

    /// Read the alternate status (control block): no interrupt is cleared.
    pub fn read_alt_status(&mut self, now: u64) -> u8 {
        self.tick(now);
        if self.empty() {
            return 0x7F;
        }
        self.selected_drive().map_or(0, |d| d.status())
    }

    /// Read a 16-bit word from the data port.
    pub fn read_data16(&mut self, now: u64) -> u16 {
        self.tick(now);
        if self.empty() {
            return 0xFF7F;
        }
        let delay = self.delay;
        match self.drives[self.selected].as_mut() {
            Some(d) => d.read_word(now, delay),
            None => 0xFFFF,
        }
    }

    /// Read 32 bits from the data port (two words, the first in the low half).
    pub fn read_data32(&mut self, now: u64) -> u32 {
        let lo = self.read_data16(now) as u32;
        let hi = self.read_data16(now) as u32;
        lo | hi << 16
    }

    /// Write a 16-bit word to the data port.
    pub fn write_data16(&mut self, v: u16, now: u64) {
        self.tick(now);
        let delay = self.delay;
        if let Some(d) = self.drives[self.selected].as_mut() {
            d.write_word(v, now, delay);
        }
    }

    /// Write 32 bits to the data port (the low word first).
    pub fn write_data32(&mut self, v: u32, now: u64) {
        self.write_data16(v as u16, now);
        self.write_data16((v >> 16) as u16, now);
    }

    /// Write command-block register `reg` (0–7; 0 writes a data word with
    /// the high byte zero).
    pub fn write(&mut self, reg: u16, v: u8, now: u64) {
        self.tick(now);
        let reg = reg & 7;
        match reg {
            0 => self.write_data16(v as u16, now),
            7 => self.command(v, now),
            _ => {
                // A write to any command-block register clears HOB.
                self.control &= !ctrl::HOB;
                for (slot, d) in self.drives.iter_mut().enumerate() {
                    match d {
                        Some(d) => d.tf.host_write(reg, v),
                        None => self.absent_tf[slot].host_write(reg, v),
                    }
                }
                if reg == 6 {
                    self.selected = (v as usize >> 4) & 1;
                }
            }
        }
    }

    fn command(&mut self, cmd: u8, now: u64) {
        let delay = self.delay;
        if cmd == 0x90 {
            // EXECUTE DEVICE DIAGNOSTIC runs on both devices whichever is
            // selected; device 0 reports for both and device 0 is selected.
            if self.drives.iter().all(|d| {
                d.as_ref()
                    .is_none_or(|d| d.busy_until.is_none() && d.status & status::BSY == 0)
            }) {
                // Device 0 (or a lone device 1) reports, with an interrupt.
                let reporter = if self.drives[0].is_some() { 0 } else { 1 };
                for (slot, d) in self.drives.iter_mut().enumerate() {
                    if let Some(d) = d {
                        d.reset_done();
                        let st = d.status;
                        d.ready(st, slot == reporter, now, delay);
                    }
                }
                self.reset_absent();
                self.selected = 0;
            }
            return;
        }
        let Some(d) = self.drives[self.selected].as_mut() else {
            return;
        };
        // Commands written while busy are ignored, except DEVICE RESET on a
        // packet device.
        if d.status() & status::BSY != 0 && !(cmd == 0x08 && d.is_packet()) {
            return;
        }
        d.command(cmd, now, delay);
    }

    /// Write the device control register (control block).
    pub fn write_control(&mut self, v: u8, now: u64) {
        self.tick(now);
        let was_reset = self.control & ctrl::SRST != 0;
        self.control = v;
        if v & ctrl::SRST != 0 {
            // Held in reset: busy until SRST is cleared.
            for d in self.drives.iter_mut().flatten() {
                d.intrq = false;
                d.dir = Dir::None;
                d.op = Op::None;
                d.busy_until = None;
                d.status = status::BSY;
            }
        } else if was_reset {
            let delay = self.delay;
            for d in self.drives.iter_mut().flatten() {
                d.reset_done();
                let st = d.status;
                d.ready(st, false, now, delay);
            }
            self.reset_absent();
            self.selected = 0;
        }
    }

    /// The device control register as last written.
    pub fn control(&self) -> u8 {
        self.control
    }
}

/// Both IDE channels of a PC at their standard ports (primary 1F0h–1F7h,
/// 3F6h, IRQ 14; secondary 170h–177h, 376h, IRQ 15).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ide {
    /// Primary and secondary channel.
    pub channels: [IdeChannel; 2],
}

impl Ide {
    /// Two empty channels.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attach an ATA hard disk or ATAPI CD-ROM to `channel` (0, 1), `slot` (0 master, 1 slave).
    pub fn attach(&mut self, channel: usize, slot: usize, media: Option<Media>) {
        if let Some(c) = self.channels.get_mut(channel) {
            c.attach(slot, media);
        }
    }

    /// Open a raw hard-disk image and attach it.
    pub fn attach_disk(
        &mut self,
        channel: usize,
        slot: usize,
        path: &Path,
        writable: bool,
    ) -> Result<(), ImageError> {
        let disk = AtaDisk::open(path, writable)?;
        self.attach(channel, slot, Some(Media::Disk(disk)));
        Ok(())
    }

    /// Open an ISO image (or none, for an empty drive) and attach a CD-ROM drive.
    pub fn attach_cdrom(
        &mut self,
        channel: usize,
        slot: usize,
        iso: Option<&Path>,
    ) -> Result<(), ImageError> {
        let mut cd = AtapiCdrom::new();
        if let Some(p) = iso {
            cd.insert(Some(BlockImage::open(p, 2048, false, "CD-ROM")?));
        }
        self.attach(channel, slot, Some(Media::Cdrom(cd)));
        Ok(())
    }

    /// The disc image in the CD-ROM drive at (`channel`, `slot`), for a
    /// board that boots El Torito itself.
    pub fn cdrom_image(&mut self, channel: usize, slot: usize) -> Option<&mut BlockImage> {
        match &mut self.channels.get_mut(channel)?.drive_mut(slot)?.media {
            Media::Cdrom(c) => c.image(),
            Media::Disk(_) => None,
        }
    }

    /// Set the command delay of both channels.
    pub fn set_command_delay(&mut self, cycles: u64) {
        for c in &mut self.channels {
            c.set_command_delay(cycles);
        }
    }

    /// IRQ 14 (`channel` 0) or IRQ 15 (`channel` 1).
    pub fn irq(&self, channel: usize) -> bool {
        self.channels.get(channel).is_some_and(|c| c.irq())
    }

    /// When [`Ide::tick`] is next needed.
    pub fn next_event(&self) -> Option<u64> {
        self.channels.iter().filter_map(|c| c.next_event()).min()
    }

    /// Finish busy periods that end by `now`.
    pub fn tick(&mut self, now: u64) {
        for c in &mut self.channels {
            c.tick(now);
        }
    }

    /// Whether `port` is an IDE port.
    pub fn decodes(port: u16) -> bool {
        Self::route(port).is_some()
    }

    /// (channel, register 0–7, or 8 for the control block).
    fn route(port: u16) -> Option<(usize, u16)> {
        match port {
            0x1F0..=0x1F7 => Some((0, port - 0x1F0)),
            0x3F6 => Some((0, 8)),
            0x170..=0x177 => Some((1, port - 0x170)),
            0x376 => Some((1, 8)),
            _ => None,
        }
    }

    /// Read `size` bytes (1, 2 or 4) from `port` at time `now`. Wide reads of
    /// the data port move words; wide reads elsewhere read successive
    /// registers. Unknown ports read all ones.
    pub fn io_read(&mut self, port: u16, size: u8, now: u64) -> u32 {
        let Some((ch, reg)) = Self::route(port) else {
            return u32::MAX;
        };
        let c = &mut self.channels[ch];
        match (reg, size) {
            (0, 2) => c.read_data16(now) as u32,
            (0, 4) => c.read_data32(now),
            (8, _) => c.read_alt_status(now) as u32,
            (_, 1) => c.read(reg, now) as u32,
            _ => {
                let mut v = 0u32;
                for i in 0..size.min(4) as u16 {
                    let b = match reg + i {
                        r @ 1..=7 => self.channels[ch].read(r, now),
                        _ => 0xFF,
                    };
                    v |= (b as u32) << (8 * i);
                }
                v
            }
        }
    }

    /// Write `size` bytes (1, 2 or 4) of `v` to `port` at time `now`.
    pub fn io_write(&mut self, port: u16, size: u8, v: u32, now: u64) {
        let Some((ch, reg)) = Self::route(port) else {
            return;
        };
        let c = &mut self.channels[ch];
        match (reg, size) {
            (0, 2) => c.write_data16(v as u16, now),
            (0, 4) => c.write_data32(v, now),
            (8, _) => c.write_control(v as u8, now),
            (_, 1) => c.write(reg, v as u8, now),
            _ => {
                for i in 0..size.min(4) as u16 {
                    if let r @ 1..=7 = reg + i {
                        self.channels[ch].write(r, (v >> (8 * i)) as u8, now);
                    }
                }
            }
        }
    }
}

/// Put an ATA string (two characters a word, the first in the high byte,
/// space-padded) at word `word` of an IDENTIFY block.
pub(crate) fn put_string(buf: &mut [u8], word: usize, chars: usize, s: &str) {
    let bytes: Vec<u8> = s
        .bytes()
        .chain(std::iter::repeat(b' '))
        .take(chars)
        .collect();
    for (k, &c) in bytes.iter().enumerate() {
        let w = word + k / 2;
        let i = 2 * w + if k % 2 == 0 { 1 } else { 0 };
        if let Some(b) = buf.get_mut(i) {
            *b = c;
        }
    }
}

/// Set word `w` of an IDENTIFY block.
pub(crate) fn put_word(buf: &mut [u8], w: usize, v: u16) {
    buf[2 * w..2 * w + 2].copy_from_slice(&v.to_le_bytes());
}

/// Finish an IDENTIFY block with the integrity word 255 (signature A5h,
/// checksum making all 512 bytes sum to zero).
pub(crate) fn put_checksum(buf: &mut [u8]) {
    buf[510] = 0xA5;
    let sum = buf[..511].iter().fold(0u8, |a, &b| a.wrapping_add(b));
    buf[511] = sum.wrapping_neg();
}

/// A serial number from the image's name (stable across runs).
pub(crate) fn serial_for(path: &Path) -> String {
    let h = path
        .to_string_lossy()
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
    format!("IPC{:016X}", h)
}
