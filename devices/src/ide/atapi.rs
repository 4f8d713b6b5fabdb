//! ATAPI CD-ROM drives: the PACKET protocol and the SCSI/MMC commands a BIOS,
//! DOS CD driver or Linux needs, on an ISO image of 2048-byte blocks.

use super::{error, put_checksum, put_string, put_word, status, BlockImage, Dir, Drive, Media, Op};
use serde::{Deserialize, Serialize};

/// Bytes per CD block.
pub const BLOCK: usize = 2048;

/// SCSI sense data: key, additional sense code and qualifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sense {
    /// Sense key (2 not ready, 5 illegal request, 6 unit attention…).
    pub key: u8,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
}

impl Sense {
    const fn new(key: u8, asc: u8, ascq: u8) -> Sense {
        Sense { key, asc, ascq }
    }
}

/// NOT READY, MEDIUM NOT PRESENT.
pub const NO_MEDIUM: Sense = Sense::new(2, 0x3A, 0);
/// ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE.
pub const INVALID_OPCODE: Sense = Sense::new(5, 0x20, 0);
/// ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE.
pub const LBA_OUT_OF_RANGE: Sense = Sense::new(5, 0x21, 0);
/// ILLEGAL REQUEST, INVALID FIELD IN CDB.
pub const INVALID_FIELD: Sense = Sense::new(5, 0x24, 0);
/// ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED.
pub const REMOVAL_PREVENTED: Sense = Sense::new(5, 0x53, 0x02);
/// UNIT ATTENTION, NOT READY TO READY CHANGE (medium may have changed).
pub const MEDIUM_CHANGED: Sense = Sense::new(6, 0x28, 0);
/// MEDIUM ERROR, UNRECOVERED READ ERROR.
pub const READ_ERROR: Sense = Sense::new(3, 0x11, 0);
/// ILLEGAL REQUEST, SAVING PARAMETERS NOT SUPPORTED.
pub const NO_SAVING: Sense = Sense::new(5, 0x39, 0);

/// An ATAPI CD-ROM drive.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AtapiCdrom {
    /// The disc in the drive.
    pub disc: Option<BlockImage>,
    /// A disc ejected by START STOP UNIT, reloaded by the next load.
    tray: Option<BlockImage>,
    /// Sense data of the last command.
    pub sense: Sense,
    /// A unit attention is pending (medium changed).
    pub unit_attention: bool,
    /// PREVENT ALLOW MEDIUM REMOVAL state.
    pub locked: bool,
    /// A media event not yet reported by GET EVENT STATUS NOTIFICATION
    /// (2: new media, 3: media removal).
    media_event: u8,
}

/// Where packet data-in comes from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Source {
    /// A reply built in memory, delivered from `pos`.
    Buffer(Vec<u8>, usize),
    /// Blocks of the disc from `next`, with the bytes read but not yet sent.
    Blocks { next: u64, carry: Vec<u8> },
}

/// The result of a packet command.
enum Reply {
    Data(Vec<u8>),
    Blocks(u64, u64),
    Done,
    Check(Sense),
}

impl AtapiCdrom {
    /// An empty drive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Insert a disc (or with `None`, remove it). A new disc raises a unit
    /// attention, as a real drive reports a medium change.
    pub fn insert(&mut self, disc: Option<BlockImage>) {
        self.unit_attention = disc.is_some();
        self.media_event = if disc.is_some() { 2 } else { 3 };
        self.disc = disc;
        self.tray = None;
    }

    /// The disc's image (for the BIOS's El Torito boot, say).
    pub fn image(&mut self) -> Option<&mut BlockImage> {
        self.disc.as_mut()
    }

    pub(super) fn soft_reset(&mut self) {}

    /// The 512 bytes of IDENTIFY PACKET DEVICE.
    pub fn identify(&self) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        // ATAPI, CD-ROM (05h), removable, DRQ within 50 µs, 12-byte packets.
        put_word(&mut b, 0, 0x85C0);
        put_string(&mut b, 10, 20, "IPC0000000000CDROM01");
        put_string(&mut b, 23, 8, "1.0");
        put_string(&mut b, 27, 40, "IRONPC CD-ROM");
        put_word(&mut b, 49, 0x0200); // LBA; no DMA
        put_word(&mut b, 53, 0x0002); // words 64–70 valid
        put_word(&mut b, 64, 0x0003);
        for w in 65..=68 {
            put_word(&mut b, w, 120);
        }
        put_word(&mut b, 80, 0x007E);
        put_word(&mut b, 82, 0x0210); // PACKET, DEVICE RESET
        put_word(&mut b, 83, 0x4000);
        put_word(&mut b, 84, 0x4000);
        put_word(&mut b, 85, 0x0210);
        put_word(&mut b, 87, 0x4000);
        put_checksum(&mut b);
        b
    }

    fn blocks(&self) -> u64 {
        self.disc.as_ref().map_or(0, |d| d.blocks())
    }

    /// Run one SCSI command.
    fn execute(&mut self, p: &[u8; 12]) -> Reply {
        let op = p[0];
        if op != 0x03 {
            self.sense = Sense::default();
        }
        // A pending unit attention fails the next command, except those
        // that report status without touching the medium.
        if self.unit_attention && !matches!(op, 0x03 | 0x12 | 0x46 | 0x4A) {
            self.unit_attention = false;
            return Reply::Check(MEDIUM_CHANGED);
        }
        let needs_disc = matches!(op, 0x00 | 0x25 | 0x28 | 0xA8 | 0x43);
        if needs_disc && self.disc.is_none() {
            return Reply::Check(NO_MEDIUM);
        }
        let be16 = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]) as usize;
        let be32 = |i: usize| u32::from_be_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]);
        match op {
            0x00 => Reply::Done,
            0x03 => {
                let s = if self.unit_attention {
                    self.unit_attention = false;
                    MEDIUM_CHANGED
                } else {
                    self.sense
                };
                self.sense = Sense::default();
                let mut r = vec![0u8; 18];
                r[0] = 0x70;
                r[2] = s.key;
                r[7] = 10;
                r[12] = s.asc;
                r[13] = s.ascq;
                r.truncate(p[4] as usize);
                Reply::Data(r)
            }
            0x12 if p[1] & 1 != 0 => Reply::Check(INVALID_FIELD), // no VPD pages
            0x12 => {
                let mut r = vec![0u8; 36];
                r[0] = 0x05; // CD/DVD device
                r[1] = 0x80; // removable
                r[3] = 0x21; // ATAPI, response format 1
                r[4] = 31;
                r[8..16].copy_from_slice(b"IRONPC  ");
                r[16..32].copy_from_slice(b"CD-ROM          ");
                r[32..36].copy_from_slice(b"1.0 ");
                r.truncate(be16(3));
                Reply::Data(r)
            }
            0x1B => {
                let (start, loej) = (p[4] & 1 != 0, p[4] & 2 != 0);
                if loej {
                    if start {
                        if self.disc.is_none() && self.tray.is_some() {
                            self.disc = self.tray.take();
                            self.unit_attention = true;
                            self.media_event = 2;
                        }
                    } else if self.locked {
                        return Reply::Check(REMOVAL_PREVENTED);
                    } else if self.disc.is_some() {
                        self.tray = self.disc.take();
                        self.media_event = 3;
                    }
                }
                Reply::Done
            }
            0x1E => {
                self.locked = p[4] & 1 != 0;
                Reply::Done
            }
            0x25 => {
                let mut r = Vec::with_capacity(8);
                let last = self.blocks().saturating_sub(1).min(u32::MAX as u64) as u32;
                r.extend_from_slice(&last.to_be_bytes());
                r.extend_from_slice(&(BLOCK as u32).to_be_bytes());
                Reply::Data(r)
            }
            0x28 | 0xA8 => {
                let lba = be32(2) as u64;
                let n = if op == 0x28 {
                    be16(7) as u64
                } else {
                    be32(6) as u64
                };
                if lba + n > self.blocks() {
                    return Reply::Check(LBA_OUT_OF_RANGE);
                }
                if n == 0 {
                    return Reply::Done;
                }
                Reply::Blocks(lba, n)
            }
            0x43 => self.read_toc(p),
            0x4A => self.event_status(p),
            0x46 => self.get_configuration(p),
            0x5A => self.mode_sense(p),
            _ => Reply::Check(INVALID_OPCODE),
        }
    }

    fn read_toc(&self, p: &[u8; 12]) -> Reply {
        let msf = p[1] & 2 != 0;
        // The format is in byte 2; old drivers put it in the top bits of byte 9.
        let format = match p[2] & 0x0F {
            0 => p[9] >> 6,
            f => f,
        };
        let track = p[6];
        let alloc = u16::from_be_bytes([p[7], p[8]]) as usize;
        let addr = |lba: u64| -> [u8; 4] {
            if msf {
                let a = lba + 150;
                [0, (a / 4500) as u8, (a / 75 % 60) as u8, (a % 75) as u8]
            } else {
                (lba as u32).to_be_bytes()
            }
        };
        let mut r = vec![0, 0, 1, 1];
        match format {
            0 => {
                if track > 1 && track != 0xAA {
                    return Reply::Check(INVALID_FIELD);
                }
                if track <= 1 {
                    r.extend_from_slice(&[0, 0x14, 1, 0]);
                    r.extend_from_slice(&addr(0));
                }
                r.extend_from_slice(&[0, 0x14, 0xAA, 0]);
                r.extend_from_slice(&addr(self.blocks()));
            }
            1 => {
                // Session information: one session starting at track 1.
                r.extend_from_slice(&[0, 0x14, 1, 0]);
                r.extend_from_slice(&addr(0));
            }
            _ => return Reply::Check(INVALID_FIELD),
        }
        let len = (r.len() - 2) as u16;
        r[..2].copy_from_slice(&len.to_be_bytes());
        r.truncate(alloc);
        Reply::Data(r)
    }

    /// GET EVENT STATUS NOTIFICATION, polled form only, media class only.
    fn event_status(&mut self, p: &[u8; 12]) -> Reply {
        if p[1] & 1 == 0 {
            // Asynchronous notification is not supported.
            return Reply::Check(INVALID_FIELD);
        }
        let alloc = u16::from_be_bytes([p[7], p[8]]) as usize;
        let mut r = vec![0u8; 4];
        r[3] = 0x10; // supported classes: media
        if p[4] & 0x10 != 0 {
            r[2] = 0x04; // media class
            let present = if self.disc.is_some() { 0x02 } else { 0 };
            r.extend_from_slice(&[self.media_event, present, 0, 0]);
            self.media_event = 0;
        } else {
            r[2] = 0x80; // no event available (NEA)
        }
        let len = (r.len() - 2) as u16;
        r[..2].copy_from_slice(&len.to_be_bytes());
        r.truncate(alloc);
        Reply::Data(r)
    }

    fn get_configuration(&self, p: &[u8; 12]) -> Reply {
        let rt = p[1] & 3;
        let start = u16::from_be_bytes([p[2], p[3]]);
        let alloc = u16::from_be_bytes([p[7], p[8]]) as usize;
        let current = self.disc.is_some();
        let profile: u16 = if current { 0x0008 } else { 0 };
        // Profile List (0000h): CD-ROM; Core (0001h): ATAPI interface.
        let features: [(u16, Vec<u8>); 2] = [
            (
                0x0000,
                vec![0x00, 0x00, 0x03, 4, 0x00, 0x08, current as u8, 0],
            ),
            (0x0001, vec![0x00, 0x01, 0x07, 4, 0, 0, 0, 2]),
        ];
        let mut r = vec![0u8; 8];
        r[6..8].copy_from_slice(&profile.to_be_bytes());
        for (code, f) in features {
            let take = match rt {
                2 => code == start,
                3 => return Reply::Check(INVALID_FIELD),
                _ => code >= start,
            };
            if take {
                r.extend_from_slice(&f);
            }
        }
        let len = (r.len() - 4) as u32;
        r[..4].copy_from_slice(&len.to_be_bytes());
        r.truncate(alloc);
        Reply::Data(r)
    }

    fn mode_sense(&self, p: &[u8; 12]) -> Reply {
        let pc = p[2] >> 6;
        let page = p[2] & 0x3F;
        let alloc = u16::from_be_bytes([p[7], p[8]]) as usize;
        if pc == 3 {
            return Reply::Check(NO_SAVING);
        }
        let changeable = pc == 1;
        // Read error recovery parameters: retry count 5.
        let recovery: Vec<u8> = if changeable {
            vec![0x01, 6, 0, 0, 0, 0, 0, 0]
        } else {
            vec![0x01, 6, 0, 5, 0, 0, 0, 0]
        };
        // CD capabilities and mechanical status: reads CD-ROM, lock and eject
        // supported, tray loader; 16x (2816 kB/s) drive with 512 KiB buffer.
        let mut caps = vec![0u8; 20];
        if !changeable {
            caps[2] = 0x00;
            caps[6] = 0x29 | if self.locked { 0x02 } else { 0 };
            caps[8..10].copy_from_slice(&2816u16.to_be_bytes());
            caps[10..12].copy_from_slice(&256u16.to_be_bytes());
            caps[12..14].copy_from_slice(&512u16.to_be_bytes());
            caps[14..16].copy_from_slice(&2816u16.to_be_bytes());
        }
        caps[0] = 0x2A;
        caps[1] = 18;
        let mut r = vec![0u8; 8];
        r[2] = if self.disc.is_some() { 0x01 } else { 0x70 };
        match page {
            0x01 => r.extend_from_slice(&recovery),
            0x2A => r.extend_from_slice(&caps),
            0x3F => {
                r.extend_from_slice(&recovery);
                r.extend_from_slice(&caps);
            }
            _ => return Reply::Check(INVALID_FIELD),
        }
        let len = (r.len() - 2) as u16;
        r[..2].copy_from_slice(&len.to_be_bytes());
        r.truncate(alloc);
        Reply::Data(r)
    }
}

fn cd(d: &mut Drive) -> Option<&mut AtapiCdrom> {
    match &mut d.media {
        Media::Cdrom(c) => Some(c),
        Media::Disk(_) => None,
    }
}

/// Run an ATA command on a packet device.
pub(super) fn command(d: &mut Drive, cmd: u8, now: u64, delay: u64) {
    match cmd {
        0xA0 => {
            if d.tf.features & 1 != 0 {
                // DMA was asked for: there is none.
                return d.abort(error::ABRT, now, delay);
            }
            let limit = d.tf.lba_mid as u32 | (d.tf.lba_high as u32) << 8;
            // Zero is taken as the largest limit, and limits are even.
            d.byte_limit = match limit {
                0 | 0xFFFF => 0xFFFE,
                1 => 2,
                n => n & !1,
            };
            d.op = Op::Packet;
            d.buf = vec![0; 12];
            d.pos = 0;
            d.dir = Dir::Out;
            d.tf.count = 0x01; // CoD: the host sends a command packet
            d.tf.error = 0;
            d.ready(status::DRDY | status::DRQ, false, now, delay);
        }
        0xA1 => {
            let Some(c) = cd(d) else { return };
            let id = c.identify();
            d.data_in(id, true, now, delay);
        }
        0x08 => {
            // DEVICE RESET: signature, no interrupt.
            d.reset_done();
            let st = d.status;
            d.ready(st, false, now, delay);
        }
        0xEF => match d.tf.features {
            0x02 | 0x82 | 0x55 | 0xAA | 0x66 | 0xCC => d.complete(true, now, delay),
            0x03 if matches!(d.tf.count, 0x00 | 0x01 | 0x08..=0x0C) => d.complete(true, now, delay),
            _ => d.abort(error::ABRT, now, delay),
        },
        0xE0 | 0xE1 | 0xE6 | 0xE7 => d.complete(true, now, delay),
        0xE5 => {
            d.tf.count = 0xFF;
            d.complete(true, now, delay)
        }
        _ => {
            // Anything else (IDENTIFY DEVICE and READ SECTORS included) is
            // aborted with the packet signature in the registers, which is
            // how drivers tell a packet device apart.
            d.tf.set_signature(true);
            d.abort(error::ABRT, now, delay)
        }
    }
}

/// The 12-byte packet has arrived: run it.
pub(super) fn packet_received(d: &mut Drive, now: u64, delay: u64) {
    let mut p = [0u8; 12];
    p.copy_from_slice(&d.buf[..12]);
    let Some(c) = cd(d) else { return };
    let reply = c.execute(&p);
    match reply {
        Reply::Done => finish(d, now, delay),
        Reply::Check(s) => check(d, s, now, delay),
        Reply::Data(v) => {
            let n = v.len() as u64;
            if n == 0 {
                finish(d, now, delay)
            } else {
                next_chunk(d, Source::Buffer(v, 0), n, now, delay)
            }
        }
        Reply::Blocks(lba, n) => next_chunk(
            d,
            Source::Blocks {
                next: lba,
                carry: Vec::new(),
            },
            n * BLOCK as u64,
            now,
            delay,
        ),
    }
}

/// Command completion: interrupt reason I/O and C/D set, status ready.
fn finish(d: &mut Drive, now: u64, delay: u64) {
    d.tf.count = 0x03;
    d.complete(true, now, delay);
}

/// CHECK CONDITION: the sense key in the error register, ERR in status.
fn check(d: &mut Drive, s: Sense, now: u64, delay: u64) {
    if let Some(c) = cd(d) {
        c.sense = s;
    }
    d.tf.count = 0x03;
    let abrt = if s.key == 5 { error::ABRT } else { 0 };
    d.abort(s.key << 4 | abrt, now, delay);
}

/// Offer the next DRQ block of packet data-in, or finish when none is left.
pub(super) fn next_chunk(d: &mut Drive, src: Source, remaining: u64, now: u64, delay: u64) {
    if remaining == 0 {
        return finish(d, now, delay);
    }
    let n = remaining.min(d.byte_limit as u64) as usize;
    let (chunk, src) = match src {
        Source::Buffer(v, pos) => {
            let end = (pos + n).min(v.len());
            (v[pos..end].to_vec(), Source::Buffer(v, end))
        }
        Source::Blocks {
            mut next,
            mut carry,
        } => {
            let Some(c) = cd(d) else { return };
            let Some(img) = c.disc.as_mut() else {
                return check(d, NO_MEDIUM, now, delay);
            };
            let mut block = vec![0u8; BLOCK];
            while carry.len() < n {
                if img.read_block(next, &mut block).is_err() {
                    return check(d, READ_ERROR, now, delay);
                }
                carry.extend_from_slice(&block);
                next += 1;
            }
            let rest = carry.split_off(n);
            (carry, Source::Blocks { next, carry: rest })
        }
    };
    d.tf.count = 0x02; // I/O: data to the host
    d.tf.lba_mid = n as u8;
    d.tf.lba_high = (n >> 8) as u8;
    d.op = Op::PacketIn {
        src,
        remaining: remaining - n as u64,
    };
    d.data_in(chunk, true, now, delay);
}
