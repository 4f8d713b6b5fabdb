//! NEC µPD765 floppy disk controller as wired on the PC (ports 3F0h–3F7h:
//! digital output register 3F2h, main status register 3F4h, data 3F5h),
//! transferring through DMA channel 2 and interrupting on IRQ 6.
//!
//! A command goes through three phases: the command phase (the CPU writes
//! the command bytes to the data register while the MSR shows RQM=1,
//! DIO=0), the execution phase (data moves through DMA: DRQ is raised and
//! the DMA controller calls [`Fdc::dma_read`] / [`Fdc::dma_write`] until it
//! signals terminal count), and the result phase (RQM=1, DIO=1: the CPU
//! reads the status bytes).

use crate::floppy::{DriveType, FloppyImage, SECTOR_SIZE};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Main status register bits.
pub mod msr {
    /// Request for master: the data register is ready.
    pub const RQM: u8 = 0x80;
    /// Data direction: 1 = controller to CPU.
    pub const DIO: u8 = 0x40;
    /// Execution phase in non-DMA mode.
    pub const NDM: u8 = 0x20;
    /// Controller busy with a command.
    pub const CB: u8 = 0x10;
}

/// CPU cycles from a seek/recalibrate command to its interrupt.
pub const SEEK_DELAY: u64 = 2_000;
/// CPU cycles from leaving reset to the reset interrupt.
pub const RESET_DELAY: u64 = 200;

/// One drive and the medium in it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drive {
    /// What kind of drive.
    pub kind: DriveType,
    /// Present cylinder of the head.
    pub pcn: u8,
    /// The inserted disk.
    pub disk: Option<FloppyImage>,
    /// The drive's disk-change line: set at power-on and when the disk is
    /// changed, cleared when the head steps with a disk in the drive.
    pub disk_changed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Command,
    Execution,
    Result,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum XferKind {
    Read,
    Write,
    Format,
}

/// A data transfer in its execution phase.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Xfer {
    kind: XferKind,
    drive: usize,
    head: u8,
    multitrack: bool,
    c: u8,
    h: u8,
    r: u8,
    n: u8,
    eot: u8,
    /// Format: sectors per track and fill byte.
    sc: u8,
    fill: u8,
    formatted: u8,
    buf: Vec<u8>,
    pos: usize,
    /// The current sector is complete; the next DMA request moves on.
    sector_done: bool,
}

/// The controller and up to four drives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fdc {
    /// Digital output register (3F2h): drive select, /RESET, DMA+IRQ enable, motors.
    pub dor: u8,
    /// The drives (index = drive number).
    pub drives: Vec<Drive>,
    phase: Phase,
    cmd: Vec<u8>,
    result: VecDeque<u8>,
    /// The controller's INT output.
    int_pending: bool,
    /// A pending interrupt and its time (seek end, reset).
    int_at: Option<u64>,
    /// Status (ST0, PCN) pairs for Sense Interrupt Status.
    sense: VecDeque<(u8, u8)>,
    /// Drives with a seek in progress (MSR bits 0–3).
    seeking: u8,
    xfer: Option<Xfer>,
    /// Specify parameters: step rate/head unload, head load/non-DMA.
    pub specify: [u8; 2],
    /// Last error writing an image back to its file.
    pub write_error: Option<String>,
    /// Read and write commands first move the head to the cylinder they
    /// name (the 82077AA's implied seek, which QEMU's and Bochs's
    /// controllers do by default and the Bochs BIOS relies on). Off on the
    /// PC/XT's µPD765, where a command on another cylinder fails.
    #[serde(default)]
    pub implied_seek: bool,
}

/// Bytes in a command (including the first), by command code (low 5 bits).
fn command_length(code: u8) -> usize {
    match code & 0x1F {
        0x02 => 9, // read track
        0x03 => 3, // specify
        0x04 => 2, // sense drive status
        0x05 => 9, // write data
        0x06 => 9, // read data
        0x07 => 2, // recalibrate
        0x08 => 1, // sense interrupt status
        0x09 => 9, // write deleted data
        0x0A => 2, // read ID
        0x0C => 9, // read deleted data
        0x0D => 6, // format track
        0x0F => 3, // seek
        0x11 => 9, // scan equal
        0x19 => 9, // scan low or equal
        0x1D => 9, // scan high or equal
        _ => 1,    // invalid
    }
}

impl Fdc {
    /// A controller (held in reset, as at power-on) with drives of the given types.
    pub fn new(drives: &[DriveType]) -> Self {
        Fdc {
            dor: 0,
            drives: drives
                .iter()
                .map(|&kind| Drive {
                    kind,
                    pcn: 0,
                    disk: None,
                    disk_changed: true,
                })
                .collect(),
            phase: Phase::Command,
            cmd: Vec::new(),
            result: VecDeque::new(),
            int_pending: false,
            int_at: None,
            sense: VecDeque::new(),
            seeking: 0,
            xfer: None,
            specify: [0, 0],
            write_error: None,
            implied_seek: false,
        }
    }

    /// Insert (or with `None`, remove) the disk in drive `n`.
    pub fn insert(&mut self, n: usize, disk: Option<FloppyImage>) {
        if let Some(d) = self.drives.get_mut(n) {
            d.disk = disk;
            d.disk_changed = true;
        }
    }

    /// IRQ 6 as the PC sees it: the controller's INT gated by DOR bit 3.
    pub fn irq(&self) -> bool {
        self.int_pending && self.dor & 0x08 != 0
    }

    /// DMA request (DRQ 2): the execution phase wants a byte moved.
    pub fn drq(&self) -> bool {
        self.phase == Phase::Execution && self.xfer.is_some() && self.dor & 0x08 != 0
    }

    /// When [`Fdc::tick`] is next needed (CPU cycles).
    pub fn next_event(&self) -> Option<u64> {
        self.int_at
    }

    /// Raise interrupts that are due at `now`.
    pub fn tick(&mut self, now: u64) {
        if let Some(t) = self.int_at {
            if now >= t {
                self.int_at = None;
                self.seeking = 0;
                self.int_pending = true;
            }
        }
    }

    fn reset(&mut self) {
        self.phase = Phase::Command;
        self.cmd.clear();
        self.result.clear();
        self.xfer = None;
        self.int_pending = false;
        self.int_at = None;
        self.sense.clear();
        self.seeking = 0;
    }

    /// Read a port (3F0h–3F7h).
    pub fn io_read(&mut self, port: u16) -> u8 {
        match port & 7 {
            4 => self.msr(),
            5 => self.read_data(),
            // Digital input register (AT-style controllers, used by BIOSes
            // for 1.2M/1.44M drives): bit 7 is the selected drive's disk
            // change line; bits 0-6 are not driven by the controller.
            7 => {
                let changed = self
                    .drives
                    .get((self.dor & 3) as usize)
                    .is_some_and(|d| d.disk_changed);
                0x7F | if changed { 0x80 } else { 0 }
            }
            _ => 0xFF,
        }
    }

    /// Write a port at time `now` (CPU cycles).
    pub fn io_write(&mut self, port: u16, v: u8, now: u64) {
        match port & 7 {
            2 => self.write_dor(v, now),
            5 => self.write_data(v, now),
            _ => {}
        }
    }

    fn write_dor(&mut self, v: u8, now: u64) {
        let was_reset = self.dor & 0x04 == 0;
        self.dor = v;
        if v & 0x04 == 0 {
            self.reset();
        } else if was_reset {
            // Leaving reset: the controller reports a ready-line change on
            // every drive through Sense Interrupt Status.
            for d in 0..4u8 {
                self.sense.push_back((0xC0 | d, 0));
            }
            self.int_at = Some(now + RESET_DELAY);
        }
    }

    /// The main status register.
    pub fn msr(&self) -> u8 {
        let seek_bits = self.seeking & 0x0F;
        match self.phase {
            Phase::Command if self.dor & 0x04 == 0 => 0,
            Phase::Command => msr::RQM | seek_bits | if self.cmd.is_empty() { 0 } else { msr::CB },
            Phase::Execution => msr::CB | seek_bits,
            Phase::Result => msr::RQM | msr::DIO | msr::CB | seek_bits,
        }
    }

    fn read_data(&mut self) -> u8 {
        if self.phase != Phase::Result {
            return 0xFF;
        }
        // Reading the result clears the interrupt of a data command.
        self.int_pending = false;
        let v = self.result.pop_front().unwrap_or(0xFF);
        if self.result.is_empty() {
            self.phase = Phase::Command;
        }
        v
    }

    fn write_data(&mut self, v: u8, now: u64) {
        if self.phase != Phase::Command || self.dor & 0x04 == 0 {
            return;
        }
        if self.cmd.is_empty() && v & 0x1F != 0x08 {
            // Software that does not collect every drive's ready-change
            // status after a reset moves on; those statuses are dropped so
            // that the next Sense Interrupt Status reports this command.
            self.sense.retain(|&(st0, _)| st0 & 0xC0 != 0xC0);
        }
        self.cmd.push(v);
        if self.cmd.len() >= command_length(self.cmd[0]) {
            let cmd = std::mem::take(&mut self.cmd);
            self.execute(&cmd, now);
        }
    }

    fn set_result(&mut self, bytes: &[u8], interrupt: bool) {
        self.result = bytes.iter().copied().collect();
        self.phase = Phase::Result;
        if interrupt {
            self.int_pending = true;
        }
    }

    fn execute(&mut self, cmd: &[u8], now: u64) {
        let drive = (cmd.get(1).copied().unwrap_or(0) & 3) as usize;
        let head = (cmd.get(1).copied().unwrap_or(0) >> 2) & 1;
        match cmd[0] & 0x1F {
            0x03 => {
                self.specify = [cmd[1], cmd[2]];
                self.phase = Phase::Command;
            }
            0x04 => {
                let st3 = self.st3(drive, head);
                self.set_result(&[st3], false);
            }
            0x07 | 0x0F => {
                let target = if cmd[0] & 0x1F == 0x07 { 0 } else { cmd[2] };
                if let Some(d) = self.drives.get_mut(drive) {
                    // The head stops at the drive's last physical track.
                    let new = target.min(d.kind.tracks() + 1);
                    if new != d.pcn && d.disk.is_some() {
                        // A step pulse with a disk present clears disk change.
                        d.disk_changed = false;
                    }
                    d.pcn = new;
                    let pcn = d.pcn;
                    self.sense
                        .push_back((0x20 | (head << 2) | drive as u8, pcn));
                } else {
                    // No drive: the recalibrate/seek fails with equipment check.
                    self.sense
                        .push_back((0x70 | (head << 2) | drive as u8, target));
                }
                self.seeking |= 1 << drive;
                self.int_at = Some(now + SEEK_DELAY);
                self.phase = Phase::Command;
            }
            0x08 => {
                if let Some((st0, pcn)) = self.sense.pop_front() {
                    if self.sense.is_empty() {
                        self.int_pending = false;
                    }
                    self.set_result(&[st0, pcn], false);
                } else {
                    self.set_result(&[0x80], false);
                }
            }
            0x0A => {
                let st0_base = (head << 2) | drive as u8;
                match self.drives.get(drive) {
                    Some(d) if d.disk.is_some() => {
                        let pcn = d.pcn;
                        self.set_result(&[st0_base, 0, 0, pcn, head, 1, 2], true);
                    }
                    _ => self.set_result(&[0x40 | 0x08 | st0_base, 0x01, 0, 0, head, 1, 2], true),
                }
            }
            0x05 | 0x06 => self.start_rw(cmd, drive, head),
            0x0D => self.start_format(cmd, drive, head),
            _ => self.set_result(&[0x80], false),
        }
    }

    fn st3(&self, drive: usize, head: u8) -> u8 {
        let mut st3 = (head << 2) | drive as u8 | 0x20; // ready
        if let Some(d) = self.drives.get(drive) {
            if d.pcn == 0 {
                st3 |= 0x10;
            }
            if d.disk.as_ref().is_some_and(|i| i.geometry.heads == 2) {
                st3 |= 0x08;
            }
        }
        st3
    }

    /// Finish a command with (ST0, ST1, ST2, C, H, R, N) and interrupt.
    fn finish(&mut self, st0: u8, st1: u8, st2: u8, chrn: [u8; 4]) {
        self.xfer = None;
        self.set_result(&[st0, st1, st2, chrn[0], chrn[1], chrn[2], chrn[3]], true);
    }

    fn start_rw(&mut self, cmd: &[u8], drive: usize, head: u8) {
        let kind = if cmd[0] & 0x1F == 0x06 {
            XferKind::Read
        } else {
            XferKind::Write
        };
        let (c, h, r, n, eot) = (cmd[2], cmd[3], cmd[4], cmd[5], cmd[6]);
        let st0_base = (head << 2) | drive as u8;
        let chrn = [c, h, r, n];
        if self.implied_seek {
            if let Some(d) = self.drives.get_mut(drive) {
                if d.disk.is_some() && c < d.kind.tracks() && d.pcn != c {
                    d.pcn = c;
                    d.disk_changed = false;
                }
            }
        }
        let Some(d) = self.drives.get(drive) else {
            return self.finish(0x40 | 0x10 | st0_base, 0, 0, chrn);
        };
        let Some(disk) = d.disk.as_ref() else {
            // No medium: no address mark is ever found.
            return self.finish(0x40 | 0x08 | st0_base, 0x01, 0, chrn);
        };
        if d.pcn != c {
            // The ID fields under the head name another cylinder.
            return self.finish(0x40 | st0_base, 0x04, 0x10, chrn);
        }
        if n != 2 || h != head || disk.sector(c, head, r).is_none() {
            return self.finish(0x40 | st0_base, 0x04, 0, chrn);
        }
        let mut x = Xfer {
            kind,
            drive,
            head,
            multitrack: cmd[0] & 0x80 != 0,
            c,
            h,
            r,
            n,
            eot,
            sc: 0,
            fill: 0,
            formatted: 0,
            buf: vec![0; SECTOR_SIZE],
            pos: 0,
            sector_done: false,
        };
        if kind == XferKind::Read {
            x.buf
                .copy_from_slice(disk.sector(c, head, r).unwrap_or(&[0; SECTOR_SIZE]));
        }
        self.xfer = Some(x);
        self.phase = Phase::Execution;
    }

    fn start_format(&mut self, cmd: &[u8], drive: usize, head: u8) {
        let st0_base = (head << 2) | drive as u8;
        let has_disk = self.drives.get(drive).is_some_and(|d| d.disk.is_some());
        if !has_disk {
            return self.finish(0x40 | 0x08 | st0_base, 0x01, 0, [0, head, 1, cmd[2]]);
        }
        self.xfer = Some(Xfer {
            kind: XferKind::Format,
            drive,
            head,
            multitrack: false,
            c: self.drives[drive].pcn,
            h: head,
            r: 1,
            n: cmd[2],
            eot: 0,
            sc: cmd[3],
            fill: cmd[5],
            formatted: 0,
            buf: Vec::with_capacity(4),
            pos: 0,
            sector_done: false,
        });
        self.phase = Phase::Execution;
    }

    /// The sector ID after the last one transferred, as the result phase
    /// reports it on normal termination.
    fn next_id(x: &Xfer) -> [u8; 4] {
        if x.r < x.eot {
            [x.c, x.h, x.r + 1, x.n]
        } else if x.multitrack && x.h & 1 == 0 {
            [x.c, x.h | 1, 1, x.n]
        } else if x.multitrack {
            [x.c.wrapping_add(1), x.h & !1, 1, x.n]
        } else {
            [x.c.wrapping_add(1), x.h, 1, x.n]
        }
    }

    /// Move on to the next sector of a multi-sector read/write. Returns false
    /// (after finishing the command) at the end of the track.
    fn advance_sector(&mut self) -> bool {
        let Some(x) = self.xfer.as_mut() else {
            return false;
        };
        let next_head = if x.r >= x.eot {
            if x.multitrack && x.head == 0 {
                Some(1)
            } else {
                None
            }
        } else {
            Some(x.head)
        };
        let st0_base = (x.head << 2) | x.drive as u8;
        let Some(nh) = next_head else {
            // Ran past EOT without terminal count: end of cylinder.
            let id = Self::next_id(x);
            self.finish(0x40 | st0_base, 0x80, 0, id);
            return false;
        };
        let (c, r) = (x.c, if nh != x.head { 1 } else { x.r + 1 });
        let drive = x.drive;
        let disk = self.drives[drive].disk.as_ref();
        let sector = disk.and_then(|d| d.sector(c, nh, r));
        let Some(bytes) = sector.map(|s| s.to_vec()) else {
            let id = [x.c, x.h, x.r, x.n];
            self.finish(0x40 | st0_base, 0x04, 0, id);
            return false;
        };
        let x = self.xfer.as_mut().expect("transfer");
        if nh != x.head {
            x.head = nh;
            x.h = nh;
        }
        x.r = r;
        x.pos = 0;
        x.sector_done = false;
        if x.kind == XferKind::Read {
            x.buf = bytes;
        }
        true
    }

    /// DMA read cycle (controller to memory): the next byte of a Read Data.
    pub fn dma_read(&mut self) -> u8 {
        if self.xfer.as_ref().is_some_and(|x| x.sector_done) && !self.advance_sector() {
            return 0xFF;
        }
        let Some(x) = self.xfer.as_mut() else {
            return 0xFF;
        };
        if x.kind != XferKind::Read {
            return 0xFF;
        }
        let b = x.buf[x.pos];
        x.pos += 1;
        if x.pos >= x.buf.len() {
            x.sector_done = true;
        }
        b
    }

    /// DMA write cycle (memory to controller): a byte of Write Data, or of a
    /// Format Track's sector IDs.
    pub fn dma_write(&mut self, v: u8) {
        if self.xfer.as_ref().is_some_and(|x| x.sector_done) && !self.advance_sector() {
            return;
        }
        let Some(x) = self.xfer.as_mut() else {
            return;
        };
        match x.kind {
            XferKind::Read => {}
            XferKind::Write => {
                x.buf[x.pos] = v;
                x.pos += 1;
                if x.pos >= x.buf.len() {
                    x.sector_done = true;
                    let (drive, c, h, r) = (x.drive, x.c, x.head, x.r);
                    let buf = x.buf.clone();
                    self.store_sector(drive, c, h, r, &buf);
                }
            }
            XferKind::Format => {
                x.buf.push(v);
                if x.buf.len() == 4 {
                    let (c, h, r) = (x.buf[0], x.buf[1], x.buf[2]);
                    x.c = c;
                    x.h = h;
                    x.r = r;
                    x.n = x.buf[3];
                    x.buf.clear();
                    x.formatted += 1;
                    let sector = vec![x.fill; SECTOR_SIZE];
                    let (drive, head, done) = (x.drive, x.head, x.formatted >= x.sc);
                    let pcn = self.drives[drive].pcn;
                    self.store_sector(drive, pcn, head, r, &sector);
                    if done {
                        let st0 = (head << 2) | drive as u8;
                        self.finish(st0, 0, 0, [c, h, r, 2]);
                    }
                }
            }
        }
    }

    fn store_sector(&mut self, drive: usize, c: u8, h: u8, r: u8, bytes: &[u8]) {
        if let Some(disk) = self.drives[drive].disk.as_mut() {
            if let Err(e) = disk.write_sector(c, h, r, bytes) {
                self.write_error = Some(format!("writing {}: {e}", disk.path.display()));
            }
        }
    }

    /// The DMA controller signals terminal count: the command ends normally
    /// after the current sector.
    pub fn terminal_count(&mut self) {
        let Some(x) = self.xfer.as_ref() else {
            return;
        };
        let st0 = (x.head << 2) | x.drive as u8;
        match x.kind {
            XferKind::Format => {
                let id = [x.c, x.h, x.r, x.n];
                self.finish(st0, 0, 0, id);
            }
            _ => {
                let id = Self::next_id(x);
                self.finish(st0, 0, 0, id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A 360K image whose every sector starts with (c, h, r) and is then
    /// filled with a pattern.
    fn image() -> FloppyImage {
        let mut data = vec![0u8; 360 * 1024];
        for c in 0..40u8 {
            for h in 0..2u8 {
                for r in 1..=9u8 {
                    let o = (((c as usize * 2) + h as usize) * 9 + r as usize - 1) * 512;
                    data[o] = c;
                    data[o + 1] = h;
                    data[o + 2] = r;
                    for i in 3..512 {
                        data[o + i] = (i % 251) as u8;
                    }
                }
            }
        }
        FloppyImage::from_bytes(Path::new("synthetic.img"), data).unwrap()
    }

    fn ready_fdc() -> Fdc {
        let mut f = Fdc::new(&[DriveType::D360, DriveType::D360]);
        f.insert(0, Some(image()));
        f.io_write(0x3F2, 0x00, 0);
        f.io_write(0x3F2, 0x1C, 0); // drive 0, motor 0, DMA/IRQ on, not in reset
        f
    }

    fn command(f: &mut Fdc, bytes: &[u8], now: u64) {
        for &b in bytes {
            // Every command byte is written only when RQM=1, DIO=0.
            assert_eq!(f.msr() & (msr::RQM | msr::DIO), msr::RQM);
            f.io_write(0x3F5, b, now);
        }
    }

    fn results(f: &mut Fdc) -> Vec<u8> {
        let mut out = Vec::new();
        while f.msr() & (msr::RQM | msr::DIO) == msr::RQM | msr::DIO {
            out.push(f.io_read(0x3F5));
        }
        out
    }

    #[test]
    fn reset_interrupt_and_sense_for_four_drives() {
        let mut f = Fdc::new(&[DriveType::D360]);
        assert!(!f.irq());
        f.io_write(0x3F2, 0x0C, 100);
        assert!(!f.irq());
        assert_eq!(f.next_event(), Some(100 + RESET_DELAY));
        f.tick(100 + RESET_DELAY);
        assert!(f.irq());
        for d in 0..4 {
            command(&mut f, &[0x08], 0);
            assert_eq!(results(&mut f), vec![0xC0 | d, 0]);
        }
        assert!(!f.irq());
        // With nothing left, Sense Interrupt Status is an invalid command.
        command(&mut f, &[0x08], 0);
        assert_eq!(results(&mut f), vec![0x80]);
    }

    #[test]
    fn unread_reset_statuses_give_way_to_a_seek() {
        let mut f = Fdc::new(&[DriveType::D360]);
        f.io_write(0x3F2, 0x0C, 0);
        f.tick(RESET_DELAY);
        command(&mut f, &[0x08], 0);
        assert_eq!(results(&mut f), vec![0xC0, 0]);
        command(&mut f, &[0x07, 0x00], 1_000);
        f.tick(1_000 + SEEK_DELAY);
        command(&mut f, &[0x08], 0);
        assert_eq!(
            results(&mut f),
            vec![0x20, 0],
            "the recalibrate, not drive 1's reset status"
        );
    }

    #[test]
    fn disk_change_line_cleared_by_stepping() {
        let mut f = ready_fdc();
        assert_eq!(f.io_read(0x3F7) & 0x80, 0x80, "set at power-on");
        command(&mut f, &[0x0F, 0x00, 0], 0);
        assert_eq!(f.io_read(0x3F7) & 0x80, 0x80, "no step, still set");
        command(&mut f, &[0x0F, 0x00, 1], 0);
        assert_eq!(f.io_read(0x3F7) & 0x80, 0, "cleared by a step");
        f.insert(0, Some(image()));
        assert_eq!(f.io_read(0x3F7) & 0x80, 0x80, "set by a disk change");
    }

    #[test]
    fn specify_has_no_result_and_msr_idle() {
        let mut f = ready_fdc();
        command(&mut f, &[0x03, 0xDF, 0x02], 0);
        assert_eq!(f.msr(), msr::RQM);
        assert_eq!(f.specify, [0xDF, 0x02]);
    }

    #[test]
    fn seek_then_sense_interrupt() {
        let mut f = ready_fdc();
        f.tick(1_000);
        while f.sense.pop_front().is_some() {}
        f.int_pending = false;
        command(&mut f, &[0x0F, 0x04, 10], 5_000);
        // Seeking: drive 0 busy bit in the MSR, no interrupt yet.
        assert_eq!(f.msr() & 0x01, 0x01);
        assert!(!f.irq());
        f.tick(5_000 + SEEK_DELAY);
        assert!(f.irq());
        command(&mut f, &[0x08], 0);
        // ST0: seek end, head 1, drive 0; present cylinder 10.
        assert_eq!(results(&mut f), vec![0x24, 10]);
        assert!(!f.irq());
        command(&mut f, &[0x07, 0x00], 10_000);
        f.tick(20_000);
        command(&mut f, &[0x08], 0);
        assert_eq!(results(&mut f), vec![0x20, 0]);
    }

    #[test]
    fn sense_drive_status() {
        let mut f = ready_fdc();
        command(&mut f, &[0x04, 0x00], 0);
        // Ready, track 0, two-sided, drive 0.
        assert_eq!(results(&mut f), vec![0x20 | 0x10 | 0x08]);
    }

    #[test]
    fn read_data_two_sectors_with_terminal_count() {
        let mut f = ready_fdc();
        command(&mut f, &[0x0F, 0x00, 2], 0);
        f.tick(10_000);
        // Read C=2 H=0 R=8, N=2 (512 bytes), EOT=9: sectors 8 and 9.
        command(&mut f, &[0x66, 0x00, 2, 0, 8, 2, 9, 0x2A, 0xFF], 10_000);
        assert_eq!(f.msr() & msr::RQM, 0, "execution phase");
        let mut got = Vec::new();
        for i in 0..1024 {
            assert!(f.drq());
            got.push(f.dma_read());
            if i == 1023 {
                f.terminal_count();
            }
        }
        assert!(!f.drq());
        assert_eq!(&got[0..3], &[2, 0, 8]);
        assert_eq!(&got[512..515], &[2, 0, 9]);
        assert_eq!(got[3], 3);
        assert!(f.irq());
        let r = results(&mut f);
        // Normal termination; after the last sector of the track (EOT) with
        // MT=0 the result names the next cylinder, sector 1.
        assert_eq!(r, vec![0x00, 0x00, 0x00, 3, 0, 1, 2]);
        assert!(!f.irq(), "reading the result clears the interrupt");
    }

    #[test]
    fn multitrack_read_continues_on_head_one() {
        let mut f = ready_fdc();
        command(&mut f, &[0xE6, 0x00, 0, 0, 9, 2, 9, 0x2A, 0xFF], 0);
        let mut got = Vec::new();
        for i in 0..1024 {
            got.push(f.dma_read());
            if i == 1023 {
                f.terminal_count();
            }
        }
        assert_eq!(&got[512..515], &[0, 1, 1]);
        let r = results(&mut f);
        assert_eq!(r, vec![0x04, 0, 0, 0, 1, 2, 2]);
    }

    #[test]
    fn read_past_eot_without_tc_ends_with_end_of_cylinder() {
        let mut f = ready_fdc();
        command(&mut f, &[0x46, 0x00, 0, 0, 9, 2, 9, 0x2A, 0xFF], 0);
        for _ in 0..512 {
            f.dma_read();
        }
        f.dma_read();
        let r = results(&mut f);
        assert_eq!(r[0] & 0xC0, 0x40);
        assert_eq!(r[1], 0x80);
    }

    #[test]
    fn wrong_cylinder_is_no_data() {
        let mut f = ready_fdc();
        command(&mut f, &[0x46, 0x00, 5, 0, 1, 2, 9, 0x2A, 0xFF], 0);
        let r = results(&mut f);
        assert_eq!(r[0] & 0xC0, 0x40);
        assert_eq!(r[1] & 0x04, 0x04);
    }

    #[test]
    fn implied_seek_moves_the_head_first() {
        // The read that `wrong_cylinder_is_no_data` makes, on a controller
        // with implied seek: the head moves to cylinder 5 and the sector
        // (whose first bytes hold its C, H, R) arrives by DMA.
        let mut f = ready_fdc();
        f.implied_seek = true;
        command(&mut f, &[0x46, 0x00, 5, 0, 1, 2, 9, 0x2A, 0xFF], 0);
        assert_eq!(f.drives[0].pcn, 5);
        assert!(f.drq());
        assert_eq!([f.dma_read(), f.dma_read(), f.dma_read()], [5, 0, 1]);
    }

    #[test]
    fn write_data_goes_to_overlay() {
        let mut f = ready_fdc();
        command(&mut f, &[0x45, 0x00, 0, 0, 3, 2, 3, 0x2A, 0xFF], 0);
        for i in 0..512 {
            f.dma_write(0xA5);
            if i == 511 {
                f.terminal_count();
            }
        }
        assert_eq!(results(&mut f)[0], 0x00);
        let disk = f.drives[0].disk.as_ref().unwrap();
        assert!(disk.sector(0, 0, 3).unwrap().iter().all(|&b| b == 0xA5));
        assert!(disk.dirty && !disk.writable);
    }

    #[test]
    fn format_track_fills_sectors() {
        let mut f = ready_fdc();
        command(&mut f, &[0x4D, 0x04, 2, 9, 0x50, 0xF6], 0);
        for r in 1..=9u8 {
            for b in [0, 1, r, 2] {
                f.dma_write(b);
            }
        }
        let res = results(&mut f);
        assert_eq!(res[0] & 0xC0, 0);
        let disk = f.drives[0].disk.as_ref().unwrap();
        assert!(disk.sector(0, 1, 5).unwrap().iter().all(|&b| b == 0xF6));
        assert_eq!(disk.sector(0, 0, 5).unwrap()[2], 5, "head 0 untouched");
    }

    #[test]
    fn read_id_and_invalid_command() {
        let mut f = ready_fdc();
        command(&mut f, &[0x4A, 0x00], 0);
        assert_eq!(results(&mut f), vec![0, 0, 0, 0, 0, 1, 2]);
        command(&mut f, &[0x1F], 0);
        assert_eq!(results(&mut f), vec![0x80]);
    }

    #[test]
    fn no_disk_read_fails() {
        let mut f = ready_fdc();
        command(&mut f, &[0x46, 0x01, 0, 0, 1, 2, 9, 0x2A, 0xFF], 0);
        let r = results(&mut f);
        assert_eq!(r[0] & 0xC3, 0x41);
    }
}
