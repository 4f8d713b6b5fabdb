//! ATAPI CD-ROM tests against the ATA/ATAPI-6 PACKET protocol (interrupt
//! reason, byte count limit, status sequence) and the SCSI/MMC commands.

use devices::ide::{AtapiCdrom, BlockImage, IdeChannel, Media};
use std::path::Path;

const DRDY: u8 = 0x40;
const DSC: u8 = 0x10;
const DRQ: u8 = 0x08;
const ERR: u8 = 0x01;

/// An ISO of `blocks` 2048-byte blocks, each starting with its number (u32 LE).
fn iso(blocks: u64) -> BlockImage {
    let mut d = vec![0u8; blocks as usize * 2048];
    for n in 0..blocks as usize {
        d[n * 2048..n * 2048 + 4].copy_from_slice(&(n as u32).to_le_bytes());
        d[n * 2048 + 2047] = 0xCD;
    }
    BlockImage::from_bytes(Path::new("mem.iso"), d, 2048, "CD-ROM").unwrap()
}

/// A channel with a CD-ROM as device 0; the medium-change unit attention is
/// consumed unless `keep_ua`.
fn cdrom(blocks: Option<u64>, keep_ua: bool) -> IdeChannel {
    let mut cd = AtapiCdrom::new();
    cd.insert(blocks.map(iso));
    if !keep_ua {
        cd.unit_attention = false;
    }
    let mut c = IdeChannel::new();
    c.attach(0, Some(Media::Cdrom(cd)));
    c
}

/// The outcome of a packet command: the data read, the status at the end,
/// the error register, and the size of each DRQ block.
struct Outcome {
    data: Vec<u8>,
    status: u8,
    error: u8,
    blocks: Vec<usize>,
}

/// Run a packet command with byte count limit `limit`, following the
/// protocol of ATA/ATAPI-6 (PIO data-in) and checking each step.
fn packet(c: &mut IdeChannel, cdb: &[u8], limit: u16) -> Outcome {
    let mut p = [0u8; 12];
    p[..cdb.len()].copy_from_slice(cdb);
    c.write(1, 0, 0); // PIO
    c.write(4, limit as u8, 0);
    c.write(5, (limit >> 8) as u8, 0);
    c.write(7, 0xA0, 0);
    assert!(!c.irq(), "no interrupt before the packet (DRQ type 50 us)");
    assert_eq!(c.read(7, 0) & (DRQ | 0x80), DRQ);
    assert_eq!(c.read(2, 0) & 3, 0x01, "interrupt reason: CoD=1, IO=0");
    for w in p.chunks(2) {
        c.write_data16(u16::from_le_bytes([w[0], w[1]]), 0);
    }
    let mut data = Vec::new();
    let mut blocks = Vec::new();
    loop {
        assert!(c.irq(), "INTRQ for each DRQ block and at completion");
        let st = c.read(7, 0);
        assert!(!c.irq());
        let reason = c.read(2, 0) & 3;
        if st & DRQ == 0 {
            assert_eq!(reason, 0x03, "completion: CoD=1, IO=1");
            return Outcome {
                data,
                status: st,
                error: c.read(1, 0),
                blocks,
            };
        }
        assert_eq!(reason, 0x02, "data to the host: IO=1, CoD=0");
        let n = c.read(4, 0) as usize | (c.read(5, 0) as usize) << 8;
        // A zero limit is taken as the largest (see docs/storage.md).
        let max = if limit == 0 {
            0xFFFE
        } else {
            limit as usize & !1
        };
        assert!(n > 0 && n <= max, "byte count {n} within the limit {max}");
        blocks.push(n);
        for _ in 0..n.div_ceil(2) {
            data.extend_from_slice(&c.read_data16(0).to_le_bytes());
        }
        data.truncate(data.len() - n % 2);
    }
}

fn sense(c: &mut IdeChannel) -> (u8, u8, u8) {
    let o = packet(c, &[0x03, 0, 0, 0, 18, 0], 0xFFFE);
    assert_eq!(o.status, DRDY | DSC);
    assert_eq!(o.data.len(), 18);
    assert_eq!(o.data[0], 0x70, "fixed-format current sense");
    (o.data[2] & 0x0F, o.data[12], o.data[13])
}

#[test]
fn identify_device_is_refused_with_the_packet_signature() {
    let mut c = cdrom(Some(16), false);
    c.write(4, 0, 0);
    c.write(5, 0, 0);
    c.write(7, 0xEC, 0);
    assert!(c.irq());
    assert_eq!(c.read(7, 0) & ERR, ERR);
    assert_eq!(c.read(1, 0) & 0x04, 0x04, "ABRT");
    assert_eq!([c.read(4, 0), c.read(5, 0)], [0x14, 0xEB]);
    c.write(7, 0xA1, 0);
    assert!(c.irq());
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    let mut w = Vec::new();
    for _ in 0..256 {
        w.push(c.read_data16(0));
    }
    // ATAPI (10b), CD-ROM (05h), removable, accelerated DRQ, 12-byte packets.
    assert_eq!(w[0], 0x85C0);
    assert_eq!(w[82] & 0x0010, 0x0010, "PACKET feature set");
    assert_eq!(c.read(7, 0), DRDY | DSC);
}

#[test]
fn device_reset_restores_the_signature_without_an_interrupt() {
    let mut c = cdrom(Some(16), false);
    packet(&mut c, &[0x00], 0xFFFE);
    c.write(7, 0x08, 0);
    assert!(!c.irq());
    assert_eq!(
        [c.read(2, 0), c.read(3, 0), c.read(4, 0), c.read(5, 0)],
        [1, 1, 0x14, 0xEB]
    );
    assert_eq!(c.read(7, 0), 0);
}

#[test]
fn medium_change_unit_attention_then_ready() {
    let mut c = cdrom(Some(16), true);
    // INQUIRY does not report the unit attention.
    let o = packet(&mut c, &[0x12, 0, 0, 0, 36, 0], 0xFFFE);
    assert_eq!(o.status, DRDY | DSC);
    let o = packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(o.status, DRDY | DSC | ERR, "CHECK CONDITION");
    assert_eq!(
        o.error >> 4,
        6,
        "sense key UNIT ATTENTION in the error register"
    );
    assert_eq!(sense(&mut c), (6, 0x28, 0));
    let o = packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!((o.status, o.error), (DRDY | DSC, 0));
    assert_eq!(sense(&mut c), (0, 0, 0));
}

#[test]
fn no_disc_is_not_ready_medium_not_present() {
    let mut c = cdrom(None, false);
    let o = packet(&mut c, &[0x00], 0xFFFE);
    assert_eq!(o.status & ERR, ERR);
    assert_eq!(o.error >> 4, 2);
    assert_eq!(sense(&mut c), (2, 0x3A, 0));
    let o = packet(&mut c, &[0x25], 0xFFFE);
    assert_eq!(o.error >> 4, 2);
}

#[test]
fn inquiry_and_allocation_length() {
    let mut c = cdrom(Some(16), false);
    let o = packet(&mut c, &[0x12, 0, 0, 0, 36, 0], 0xFFFE);
    assert_eq!(o.blocks, [36], "one DRQ block; the byte count is 36");
    assert_eq!(o.data[0] & 0x1F, 0x05, "CD/DVD device");
    assert_eq!(o.data[1], 0x80, "removable");
    assert_eq!(&o.data[8..16], b"IRONPC  ");
    let o = packet(&mut c, &[0x12, 0, 0, 0, 5, 0], 0xFFFE);
    assert_eq!(o.data.len(), 5, "truncated to the allocation length");
    assert_eq!(o.blocks, [5], "an odd final byte count");
    let o = packet(&mut c, &[0x12, 1, 0x80, 0, 36, 0], 0xFFFE);
    assert_eq!(
        o.error >> 4,
        5,
        "vital product data pages are not supported"
    );
    assert_eq!(sense(&mut c), (5, 0x24, 0));
}

#[test]
fn read_capacity_and_read10_across_byte_count_limits() {
    let mut c = cdrom(Some(100), false);
    let o = packet(&mut c, &[0x25], 0xFFFE);
    assert_eq!(o.data, [0, 0, 0, 99, 0, 0, 0x08, 0]);
    // 3 blocks at a limit of 4096: 4096 + 2048.
    let o = packet(&mut c, &[0x28, 0, 0, 0, 0, 10, 0, 0, 3, 0], 4096);
    assert_eq!(o.status, DRDY | DSC);
    assert_eq!(o.blocks, [4096, 2048]);
    for (i, b) in o.data.chunks(2048).enumerate() {
        assert_eq!(b[..4], (10 + i as u32).to_le_bytes());
        assert_eq!(b[2047], 0xCD);
    }
    // An odd limit is used as the even number below it; a small limit
    // splits blocks.
    let o = packet(&mut c, &[0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0], 0x0301);
    assert_eq!(o.blocks, [0x300, 0x300, 0x200]);
    assert_eq!(o.data[..4], 1u32.to_le_bytes());
    // READ(12) of 2 blocks with a zero limit (taken as the largest).
    let o = packet(&mut c, &[0xA8, 0, 0, 0, 0, 98, 0, 0, 0, 2], 0);
    assert_eq!(o.blocks, [4096]);
    assert_eq!(o.data[2048..2052], 99u32.to_le_bytes());
    // Zero blocks: no data, good status.
    let o = packet(&mut c, &[0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0xFFFE);
    assert_eq!((o.status, o.blocks.len()), (DRDY | DSC, 0));
    // Past the end: ILLEGAL REQUEST, LBA OUT OF RANGE.
    let o = packet(&mut c, &[0xA8, 0, 0, 0, 0, 99, 0, 0, 0, 2], 0xFFFE);
    assert_eq!(o.error, 0x50 | 0x04);
    assert_eq!(sense(&mut c), (5, 0x21, 0));
}

#[test]
fn read_toc_format_0_in_lba_and_msf() {
    let mut c = cdrom(Some(300), false);
    let o = packet(&mut c, &[0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24, 0], 0xFFFE);
    // Header: length 18 (2 + 2 descriptors of 8), first and last track 1.
    assert_eq!(o.data[..4], [0, 18, 1, 1]);
    assert_eq!(
        o.data[4..12],
        [0, 0x14, 1, 0, 0, 0, 0, 0],
        "data track 1 at LBA 0"
    );
    assert_eq!(
        o.data[12..20],
        [0, 0x14, 0xAA, 0, 0, 0, 0x01, 0x2C],
        "lead-out at 300"
    );
    // MSF: LBA 0 is 00:02:00; 300 + 150 = 450 frames = 00:06:00.
    let o = packet(&mut c, &[0x43, 2, 0, 0, 0, 0, 0, 0x03, 0x24, 0], 0xFFFE);
    assert_eq!(o.data[8..12], [0, 0, 2, 0]);
    assert_eq!(o.data[16..20], [0, 0, 6, 0]);
    // Starting at the lead-out: only its descriptor.
    let o = packet(&mut c, &[0x43, 0, 0, 0, 0, 0, 0xAA, 0x03, 0x24, 0], 0xFFFE);
    assert_eq!(o.data[..4], [0, 10, 1, 1]);
    let o = packet(&mut c, &[0x43, 0, 5, 0, 0, 0, 0, 0, 0xFF, 0], 0xFFFE);
    assert_eq!(o.error >> 4, 5, "unsupported format");
}

#[test]
fn prevent_blocks_eject_and_load_raises_unit_attention() {
    let mut c = cdrom(Some(16), false);
    packet(&mut c, &[0x1E, 0, 0, 0, 1, 0], 0xFFFE);
    let o = packet(&mut c, &[0x1B, 0, 0, 0, 0x02, 0], 0xFFFE);
    assert_eq!(o.status & ERR, ERR);
    assert_eq!(sense(&mut c), (5, 0x53, 0x02));
    let o = packet(&mut c, &[0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 36, 0], 0xFFFE);
    assert_eq!(o.data[8 + 6] & 0x02, 0x02, "lock state in page 2Ah");
    packet(&mut c, &[0x1E, 0, 0, 0, 0, 0], 0xFFFE);
    let o = packet(&mut c, &[0x1B, 0, 0, 0, 0x02, 0], 0xFFFE);
    assert_eq!(o.status, DRDY | DSC, "ejected");
    assert_eq!(packet(&mut c, &[0x00], 0xFFFE).error >> 4, 2);
    packet(&mut c, &[0x1B, 0, 0, 0, 0x03, 0], 0xFFFE);
    assert_eq!(
        packet(&mut c, &[0x00], 0xFFFE).error >> 4,
        6,
        "medium changed"
    );
    assert_eq!(packet(&mut c, &[0x00], 0xFFFE).status, DRDY | DSC);
}

#[test]
fn mode_sense_and_get_configuration() {
    let mut c = cdrom(Some(16), false);
    let o = packet(&mut c, &[0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 0xFF, 0], 0xFFFE);
    // 8-byte header + 20-byte page: mode data length 26.
    assert_eq!(o.data[..2], [0, 26]);
    assert_eq!(o.data[8], 0x2A);
    assert_eq!(o.data[9], 18);
    let o = packet(&mut c, &[0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 0xFF, 0], 0xFFFE);
    assert_eq!(o.data.len(), 8 + 8 + 20);
    let o = packet(&mut c, &[0x5A, 0, 0x05, 0, 0, 0, 0, 0, 0xFF, 0], 0xFFFE);
    assert_eq!(o.error >> 4, 5);
    assert_eq!(sense(&mut c), (5, 0x24, 0));
    let o = packet(&mut c, &[0x46, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0], 0xFFFE);
    assert_eq!(o.data[6..8], [0, 0x08], "current profile CD-ROM");
    let len = u32::from_be_bytes([o.data[0], o.data[1], o.data[2], o.data[3]]);
    assert_eq!(len as usize, o.data.len() - 4);
    let o = packet(&mut c, &[0x46, 2, 0, 1, 0, 0, 0, 0, 0xFF, 0], 0xFFFE);
    assert_eq!(o.data.len(), 8 + 8, "RT=2: only the Core feature");
    assert_eq!(o.data[8..10], [0, 1]);
    let o = packet(&mut c, &[0xFF], 0xFFFE);
    assert_eq!(o.error, 0x54);
    assert_eq!(sense(&mut c), (5, 0x20, 0));
}

#[test]
fn odd_sized_iso_is_refused() {
    let d = std::env::temp_dir().join(format!("ironpc-atapi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("short.iso");
    std::fs::write(&p, vec![0u8; 2048 * 3 + 512]).unwrap();
    let mut ide = devices::Ide::new();
    let e = ide.attach_cdrom(1, 0, Some(&p)).unwrap_err().to_string();
    assert!(
        e.contains("short.iso") && e.contains("2048") && e.contains("CD-ROM"),
        "{e}"
    );
    ide.attach_cdrom(1, 0, None).unwrap();
    assert_eq!(ide.io_read(0x174, 1, 0), 0x14);
    assert_eq!(ide.io_read(0x175, 1, 0), 0xEB);
}

#[test]
fn event_status_reports_new_media_once() {
    let mut c = cdrom(Some(16), false);
    let o = packet(&mut c, &[0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8, 0], 0xFFFE);
    // Header: 6 bytes follow the length, media class, media supported.
    assert_eq!(o.data[..4], [0, 6, 0x04, 0x10]);
    assert_eq!(o.data[4..6], [2, 0x02], "new media, media present");
    let o = packet(&mut c, &[0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8, 0], 0xFFFE);
    assert_eq!(o.data[4..6], [0, 0x02], "no change since");
    let o = packet(&mut c, &[0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], 0xFFFE);
    assert_eq!(o.error >> 4, 5, "only the polled form");
}
