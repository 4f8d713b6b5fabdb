//! ATA hard-disk protocol tests, against the ATA/ATAPI-6 specification:
//! register signatures, the status/DRQ/interrupt sequence of PIO data-in,
//! data-out and non-data commands, IDENTIFY words, CHS/LBA28/LBA48
//! addressing and the absent-device rules.

use devices::ide::{AtaDisk, BlockImage, Ide, IdeChannel, Media};
use std::path::{Path, PathBuf};

const BSY: u8 = 0x80;
const DRDY: u8 = 0x40;
const DSC: u8 = 0x10;
const DRQ: u8 = 0x08;
const ERR: u8 = 0x01;

/// A disk image whose sector n starts with n as a little-endian u32 and is
/// otherwise filled with the byte n+1 (so a wrong sector cannot pass).
fn pattern(sectors: u64) -> Vec<u8> {
    let mut d = vec![0u8; sectors as usize * 512];
    for n in 0..sectors as usize {
        let s = &mut d[n * 512..(n + 1) * 512];
        s.fill((n + 1) as u8);
        s[..4].copy_from_slice(&(n as u32).to_le_bytes());
    }
    d
}

fn mem_disk(sectors: u64) -> Media {
    let img =
        BlockImage::from_bytes(Path::new("mem.img"), pattern(sectors), 512, "hard-disk").unwrap();
    Media::Disk(AtaDisk::new(img))
}

fn channel(sectors: u64) -> IdeChannel {
    let mut c = IdeChannel::new();
    c.attach(0, Some(mem_disk(sectors)));
    c
}

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-ide-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Read `words` words from the data port.
fn read_words(c: &mut IdeChannel, words: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..words {
        v.extend_from_slice(&c.read_data16(0).to_le_bytes());
    }
    v
}

fn identify(c: &mut IdeChannel) -> Vec<u16> {
    c.write(7, 0xEC, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    let b = read_words(c, 256);
    assert_eq!(c.read(7, 0), DRDY | DSC, "IDENTIFY ends with DRQ clear");
    b.chunks(2)
        .map(|w| u16::from_le_bytes([w[0], w[1]]))
        .collect()
}

fn ata_string(w: &[u16]) -> String {
    w.iter()
        .flat_map(|x| [(x >> 8) as u8, *x as u8])
        .map(|b| b as char)
        .collect::<String>()
        .trim_end()
        .to_string()
}

fn set_lba28(c: &mut IdeChannel, lba: u32, count: u8) {
    c.write(2, count, 0);
    c.write(3, lba as u8, 0);
    c.write(4, (lba >> 8) as u8, 0);
    c.write(5, (lba >> 16) as u8, 0);
    c.write(6, 0xE0 | ((lba >> 24) as u8 & 0x0F), 0);
}

fn sector_no(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[test]
fn empty_channel_floats_to_7f() {
    let mut ide = Ide::new();
    assert_eq!(ide.io_read(0x1F7, 1, 0), 0x7F);
    assert_eq!(ide.io_read(0x3F6, 1, 0), 0x7F);
    assert_eq!(
        ide.io_read(0x1F2, 1, 0),
        0x7F,
        "written values do not stick"
    );
    ide.io_write(0x1F2, 1, 0x55, 0);
    assert_eq!(ide.io_read(0x1F2, 1, 0), 0x7F);
    assert_eq!(ide.io_read(0x1F0, 2, 0), 0xFF7F);
    assert_eq!(ide.io_read(0x177, 1, 0), 0x7F);
    assert!(!ide.irq(0) && !ide.irq(1));
}

#[test]
fn absent_slave_reads_status_zero_and_no_device_signature() {
    let mut c = channel(2048);
    c.write(6, 0xB0, 0); // select device 1 (absent)
    c.write(2, 0x55, 0);
    c.write(3, 0xAA, 0);
    assert_eq!(c.read(7, 0), 0, "status of an absent device 1 reads 00h");
    assert_eq!(c.read_alt_status(0), 0);
    // The written values read back (a register test cannot tell).
    assert_eq!(c.read(2, 0), 0x55);
    assert_eq!(c.read(3, 0), 0xAA);
    // After a reset the absent device reads 01 01 FF FF, not device 0's
    // signature: the Bochs BIOS tests for FFh FFh.
    c.write_control(0x04, 0);
    c.write_control(0x00, 0);
    c.write(6, 0xB0, 0);
    assert_eq!(
        [c.read(2, 0), c.read(3, 0), c.read(4, 0), c.read(5, 0)],
        [1, 1, 0xFF, 0xFF]
    );
    assert_eq!(c.read(7, 0), 0);
    c.write(6, 0xA0, 0);
    assert_eq!(
        [c.read(4, 0), c.read(5, 0)],
        [0, 0],
        "device 0 keeps its own"
    );
    c.write(6, 0xB0, 0);
    // Commands to the absent device are ignored by device 0.
    c.write(7, 0xEC, 0);
    assert!(!c.irq());
    c.write(6, 0xA0, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC, "device 0 did not run the command");
}

#[test]
fn software_reset_gives_signatures_without_interrupt() {
    let mut c = channel(2048);
    c.attach(1, Some(Media::Cdrom(devices::AtapiCdrom::new())));
    c.write(2, 0x12, 0);
    c.write(7, 0xEC, 0); // leave an interrupt pending
    assert!(c.irq());
    c.write_control(0x04, 0); // SRST
    assert_eq!(c.read_alt_status(0), BSY, "busy while SRST is set");
    assert!(!c.irq());
    c.write_control(0x00, 0);
    assert!(!c.irq(), "a software reset raises no interrupt");
    assert_eq!(c.selected(), 0);
    // Device 0: ATA signature 01 01 00 00, diagnostic code 01.
    assert_eq!(
        [c.read(2, 0), c.read(3, 0), c.read(4, 0), c.read(5, 0)],
        [1, 1, 0, 0]
    );
    assert_eq!(c.read(1, 0), 0x01);
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // Device 1: packet signature 01 01 14 EB, status 00 (DRDY clear).
    c.write(6, 0xB0, 0);
    assert_eq!(
        [c.read(2, 0), c.read(3, 0), c.read(4, 0), c.read(5, 0)],
        [1, 1, 0x14, 0xEB]
    );
    assert_eq!(c.read(7, 0), 0);
}

#[test]
fn identify_words_for_a_16mib_disk() {
    // 16 MiB = 32768 sectors: 32768 / (16*63) = 32 whole cylinders.
    let mut c = channel(32768);
    let w = identify(&mut c);
    assert_eq!(w[0], 0x0040);
    assert_eq!((w[1], w[3], w[6]), (32, 16, 63));
    assert_eq!((w[54], w[55], w[56]), (32, 16, 63));
    assert_eq!(w[57] as u32 | (w[58] as u32) << 16, 32 * 16 * 63);
    assert_eq!(w[60] as u32 | (w[61] as u32) << 16, 32768);
    assert_eq!(w[100..104], [32768, 0, 0, 0]);
    assert_eq!(w[47], 0x8010, "READ/WRITE MULTIPLE up to 16 sectors");
    assert_eq!(w[49] & 0x0200, 0x0200, "LBA supported");
    assert_eq!(w[83] & 0xC400, 0x4400, "48-bit feature set supported");
    assert_eq!(w[86] & 0x0400, 0x0400, "48-bit feature set enabled");
    assert_eq!(w[59], 0, "multiple mode off at power-on");
    assert_eq!(ata_string(&w[27..47]), "IRONPC HARDDISK");
    // Integrity word: signature A5h and all 512 bytes summing to zero.
    assert_eq!(w[255] & 0xFF, 0xA5);
    let sum = w.iter().fold(0u8, |a, x| {
        a.wrapping_add(*x as u8).wrapping_add((x >> 8) as u8)
    });
    assert_eq!(sum, 0);
}

#[test]
fn identify_of_a_large_sparse_image_caps_chs_and_lba28() {
    // 130 GiB: more than 2^28 - 1 sectors, so words 60-61 saturate and
    // only LBA48 reaches the end; CHS stops at 16383 cylinders.
    let p = tmpdir().join("big.img");
    let f = std::fs::File::create(&p).unwrap();
    let size = 130u64 << 30;
    if f.set_len(size).is_err() {
        println!("SKIPPED: cannot make a sparse 130 GiB file in the temp dir");
        return;
    }
    drop(f);
    let mut c = IdeChannel::new();
    c.attach(0, Some(Media::Disk(AtaDisk::open(&p, false).unwrap())));
    let w = identify(&mut c);
    let total = size / 512;
    assert_eq!((w[1], w[3], w[6]), (16383, 16, 63));
    assert_eq!(w[60] as u32 | (w[61] as u32) << 16, 0x0FFF_FFFF);
    let w48 = (0..4).fold(0u64, |a, i| a | (w[100 + i] as u64) << (16 * i));
    assert_eq!(w48, total);
    // LBA28 cannot reach sector 0x0FFFFFFF; LBA48 reads the last sector.
    set_lba28(&mut c, 0x0FFF_FFFF, 1);
    c.write(7, 0x20, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | ERR);
    assert_eq!(c.read(1, 0), 0x10, "IDNF");
    let last = total - 1;
    for (reg, hi, lo) in [
        (2u16, 0u8, 1u8),
        (3, (last >> 24) as u8, last as u8),
        (4, (last >> 32) as u8, (last >> 8) as u8),
        (5, (last >> 40) as u8, (last >> 16) as u8),
    ] {
        c.write(reg, hi, 0);
        c.write(reg, lo, 0);
    }
    c.write(6, 0x40, 0);
    c.write(7, 0x24, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    assert!(read_words(&mut c, 256).iter().all(|&b| b == 0));
    std::fs::remove_file(&p).ok();
}

#[test]
fn read_sectors_status_and_interrupt_sequence() {
    let mut c = channel(4096);
    set_lba28(&mut c, 100, 2);
    c.write(7, 0x20, 0);
    assert!(c.irq(), "INTRQ when the first block is ready");
    assert_eq!(c.read_alt_status(0), DRDY | DSC | DRQ);
    assert!(c.irq(), "alternate status does not clear the interrupt");
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    assert!(!c.irq(), "reading status clears the interrupt");
    let s = read_words(&mut c, 256);
    assert_eq!(sector_no(&s), 100);
    assert_eq!(s[511], 101);
    assert!(c.irq(), "INTRQ again for the second block");
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    let s = read_words(&mut c, 256);
    assert_eq!(sector_no(&s), 101);
    assert!(!c.irq(), "no interrupt at the end of a PIO data-in command");
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // The registers hold the last sector read and a count of zero.
    assert_eq!([c.read(2, 0), c.read(3, 0), c.read(4, 0)], [0, 101, 0]);
    assert_eq!(c.read(6, 0), 0xE0);
    // Reads with DRQ clear move no data.
    assert_eq!(c.read_data16(0), 0xFFFF);
}

#[test]
fn read_count_zero_means_256_sectors() {
    let mut c = channel(1024);
    set_lba28(&mut c, 10, 0);
    c.write(7, 0x20, 0);
    for n in 0..256 {
        assert_eq!(c.read(7, 0) & DRQ, DRQ, "block {n}");
        assert_eq!(sector_no(&read_words(&mut c, 256)), 10 + n);
    }
    assert_eq!(c.read(7, 0), DRDY | DSC);
}

#[test]
fn chs_addressing_in_the_default_and_a_set_translation() {
    let mut c = channel(32768);
    // C=1, H=2, S=3 with 16 heads, 63 sectors: (1*16+2)*63 + 3-1 = 1136.
    c.write(2, 1, 0);
    c.write(3, 3, 0);
    c.write(4, 1, 0);
    c.write(5, 0, 0);
    c.write(6, 0xA2, 0);
    c.write(7, 0x20, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    assert_eq!(sector_no(&read_words(&mut c, 256)), 1136);
    // INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors per track.
    c.write(2, 17, 0);
    c.write(6, 0xA3, 0);
    c.write(7, 0x91, 0);
    assert!(c.irq());
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // C=2, H=1, S=5: (2*4+1)*17 + 4 = 157.
    c.write(2, 1, 0);
    c.write(3, 5, 0);
    c.write(4, 2, 0);
    c.write(6, 0xA1, 0);
    c.write(7, 0x20, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    assert_eq!(sector_no(&read_words(&mut c, 256)), 157);
    // Zero sectors per track is refused and leaves the translation alone.
    c.write(2, 0, 0);
    c.write(7, 0x91, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | ERR);
    assert_eq!(c.read(1, 0), 0x04);
    let w = identify(&mut c);
    // 32768 / (4*17) = 481 whole cylinders in the new translation.
    assert_eq!((w[54], w[55], w[56]), (481, 4, 17));
    assert_eq!(w[57] as u32 | (w[58] as u32) << 16, 481 * 4 * 17);
    assert_eq!(
        (w[1], w[3], w[6]),
        (32, 16, 63),
        "default geometry unchanged"
    );
    // Sector 0, or a head beyond the translation: ID not found.
    for (sector, head) in [(0u8, 0u8), (1, 4)] {
        c.write(3, sector, 0);
        c.write(6, 0xA0 | head, 0);
        c.write(7, 0x20, 0);
        assert!(c.irq());
        assert_eq!(c.read(7, 0), DRDY | DSC | ERR);
        assert_eq!(c.read(1, 0), 0x10);
    }
}

#[test]
fn write_sectors_protocol_and_read_only_overlay() {
    let p = tmpdir().join("w.img");
    std::fs::write(&p, pattern(64)).unwrap();
    let mut ide = Ide::new();
    ide.attach_disk(0, 0, &p, false).unwrap();
    let c = &mut ide.channels[0];
    set_lba28(c, 5, 2);
    c.write(7, 0x30, 0);
    assert!(!c.irq(), "no interrupt before the first block of a write");
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    for i in 0..256u16 {
        c.write_data16(0xA000 | i, 0);
    }
    assert!(c.irq(), "INTRQ asks for the second block");
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    for i in 0..128u32 {
        c.write_data32(0xBEEF_0000 | i, 0);
    }
    assert!(c.irq(), "INTRQ at the end of a write");
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // The guest reads its data back...
    set_lba28(c, 5, 2);
    c.write(7, 0x20, 0);
    let a = read_words(c, 256);
    assert_eq!(&a[..4], &[0x00, 0xA0, 0x01, 0xA0]);
    assert_eq!(
        c.read_data32(0),
        0xBEEF_0000,
        "the first dword written to sector 6"
    );
    // ...but the file opened read-only is unchanged.
    assert_eq!(std::fs::read(&p).unwrap(), pattern(64));
    // Opened writable, the file changes.
    let mut ide = Ide::new();
    ide.attach_disk(0, 0, &p, true).unwrap();
    let c = &mut ide.channels[0];
    set_lba28(c, 63, 1);
    c.write(7, 0x30, 0);
    for _ in 0..256 {
        c.write_data16(0x7777, 0);
    }
    assert_eq!(c.read(7, 0), DRDY | DSC);
    let f = std::fs::read(&p).unwrap();
    assert!(f[63 * 512..].iter().all(|&b| b == 0x77));
    assert_eq!(f[..63 * 512], pattern(64)[..63 * 512]);
}

#[test]
fn read_and_write_multiple() {
    let mut c = channel(256);
    set_lba28(&mut c, 0, 10);
    c.write(7, 0xC4, 0);
    assert_eq!(
        c.read(7, 0),
        DRDY | DSC | ERR,
        "READ MULTIPLE before SET MULTIPLE"
    );
    assert_eq!(c.read(1, 0), 0x04, "ABRT");
    c.write(2, 3, 0);
    c.write(7, 0xC6, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | ERR, "3 is not a power of two");
    c.write(2, 32, 0);
    c.write(7, 0xC6, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | ERR, "32 is beyond word 47's 16");
    c.write(2, 4, 0);
    c.write(7, 0xC6, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC);
    assert_eq!(identify(&mut c)[59], 0x0104);
    // 10 sectors in blocks of 4, 4, 2 with an interrupt before each.
    set_lba28(&mut c, 20, 10);
    c.write(7, 0xC4, 0);
    let mut next = 20;
    for block in [4u32, 4, 2] {
        assert!(c.irq());
        assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
        let d = read_words(&mut c, 256 * block as usize);
        for s in d.chunks(512) {
            assert_eq!(sector_no(s), next);
            next += 1;
        }
    }
    assert!(!c.irq());
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // WRITE MULTIPLE of 6: a block of 4 (no interrupt first), then 2.
    set_lba28(&mut c, 40, 6);
    c.write(7, 0xC5, 0);
    assert!(!c.irq());
    for _ in 0..4 * 256 {
        assert_eq!(c.read_alt_status(0), DRDY | DSC | DRQ);
        c.write_data16(0x1111, 0);
    }
    assert!(c.irq());
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    for _ in 0..2 * 256 {
        c.write_data16(0x2222, 0);
    }
    assert!(c.irq());
    assert_eq!(c.read(7, 0), DRDY | DSC);
    set_lba28(&mut c, 43, 3);
    c.write(7, 0x20, 0);
    assert_eq!(read_words(&mut c, 256)[0], 0x11);
    assert_eq!(read_words(&mut c, 256)[0], 0x22);
    assert_eq!(read_words(&mut c, 256)[0], 0x22);
}

#[test]
fn lba48_registers_are_two_deep_and_hob_reads_the_previous() {
    let mut c = channel(70000);
    // Count 0x0101 = 257 sectors from LBA 0x000000_010000.
    c.write(2, 0x01, 0);
    c.write(2, 0x01, 0);
    c.write(3, 0x00, 0);
    c.write(3, 0x00, 0);
    c.write(4, 0x00, 0);
    c.write(4, 0x00, 0);
    c.write(5, 0x00, 0);
    c.write(5, 0x01, 0);
    c.write(6, 0x40, 0);
    c.write_control(0x80, 0); // HOB
    assert_eq!(c.read(5, 0), 0x00, "HOB reads the previous contents");
    c.write_control(0x00, 0);
    assert_eq!(c.read(5, 0), 0x01);
    c.write_control(0x80, 0);
    c.write(1, 0, 0);
    assert_eq!(c.control() & 0x80, 0, "a register write clears HOB");
    c.write(7, 0x24, 0);
    for n in 0..257 {
        assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
        assert_eq!(sector_no(&read_words(&mut c, 256)), 0x10000 + n);
    }
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // READ SECTORS EXT past the end: ID not found.
    c.write(2, 0, 0);
    c.write(2, 1, 0);
    for r in 3..=5 {
        c.write(r, 0, 0);
        c.write(r, 0xFF, 0);
    }
    c.write(7, 0x24, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | ERR);
    assert_eq!(c.read(1, 0), 0x10);
}

#[test]
fn nien_masks_the_line_but_not_the_pending_interrupt() {
    let mut c = channel(64);
    c.write_control(0x02, 0);
    c.write(7, 0x10, 0); // RECALIBRATE
    assert!(!c.irq());
    c.write_control(0x00, 0);
    assert!(c.irq(), "the interrupt stayed pending behind nIEN");
    c.read(7, 0);
    assert!(!c.irq());
}

#[test]
fn non_data_commands_and_power_modes() {
    let mut c = channel(64);
    let run = |c: &mut IdeChannel, cmd: u8| {
        c.write(7, cmd, 0);
        assert!(c.irq(), "command {cmd:02X} interrupts");
        c.read(7, 0)
    };
    assert_eq!(run(&mut c, 0xE0), DRDY | DSC); // STANDBY IMMEDIATE
    assert_eq!(run(&mut c, 0xE5), DRDY | DSC); // CHECK POWER MODE
    assert_eq!(c.read(2, 0), 0x00, "standby");
    assert_eq!(run(&mut c, 0xE1), DRDY | DSC); // IDLE IMMEDIATE
    assert_eq!(run(&mut c, 0xE5), DRDY | DSC);
    assert_eq!(c.read(2, 0), 0xFF, "active or idle");
    assert_eq!(run(&mut c, 0xE7), DRDY | DSC); // FLUSH CACHE
    assert_eq!(run(&mut c, 0xEA), DRDY | DSC); // FLUSH CACHE EXT
    set_lba28(&mut c, 60, 4);
    assert_eq!(run(&mut c, 0x40), DRDY | DSC); // READ VERIFY
    set_lba28(&mut c, 62, 4);
    assert_eq!(run(&mut c, 0x40), DRDY | DSC | ERR, "verify past the end");
    set_lba28(&mut c, 63, 1);
    assert_eq!(run(&mut c, 0x70), DRDY | DSC); // SEEK
    c.write(1, 0x03, 0);
    c.write(2, 0x0C, 0); // PIO mode 4
    assert_eq!(run(&mut c, 0xEF), DRDY | DSC);
    c.write(2, 0x42, 0); // UDMA mode 2: no DMA here
    assert_eq!(run(&mut c, 0xEF), DRDY | DSC | ERR);
    c.write(1, 0x77, 0);
    assert_eq!(run(&mut c, 0xEF), DRDY | DSC | ERR);
    assert_eq!(run(&mut c, 0xF0), DRDY | DSC | ERR, "unknown command");
    assert_eq!(c.read(1, 0), 0x04);
    assert_eq!(run(&mut c, 0xA1), DRDY | DSC | ERR, "no PACKET on a disk");
}

#[test]
fn execute_device_diagnostic() {
    let mut c = channel(64);
    c.write(2, 0x33, 0);
    c.write(7, 0x90, 0);
    assert!(c.irq());
    assert_eq!(c.read(1, 0), 0x01, "device 0 passed, device 1 absent");
    assert_eq!([c.read(2, 0), c.read(3, 0)], [1, 1]);
    assert_eq!(c.read(7, 0), DRDY | DSC);
    // With a packet device as device 1: both load their signatures, device 0
    // interrupts, device 1 does not.
    c.attach(1, Some(Media::Cdrom(devices::AtapiCdrom::new())));
    c.write(6, 0xB0, 0);
    c.write(7, 0x90, 0);
    assert_eq!(c.selected(), 0);
    assert!(c.irq());
    assert_eq!(c.read(1, 0), 0x01, "both passed");
    assert_eq!(c.read(7, 0), DRDY | DSC);
    c.write(6, 0xB0, 0);
    assert!(!c.irq());
    assert_eq!([c.read(4, 0), c.read(5, 0)], [0x14, 0xEB]);
}

#[test]
fn busy_period_with_a_command_delay() {
    let mut c = channel(64);
    c.set_command_delay(500);
    set_lba28(&mut c, 1, 1);
    c.write(7, 0x20, 1000);
    assert_eq!(c.read(7, 1000), BSY);
    assert!(!c.irq());
    assert_eq!(c.next_event(), Some(1500));
    assert_eq!(c.read_data16(1200), 0xFFFF, "no data while busy");
    c.tick(1500);
    assert!(c.irq());
    assert_eq!(c.read(7, 1500), DRDY | DSC | DRQ);
    assert_eq!(sector_no(&read_words(&mut c, 256)), 1);
    // After the last word the device is busy again before reporting done.
    assert_eq!(c.read_alt_status(0), BSY);
    assert_eq!(c.read_alt_status(600), DRDY | DSC);
    assert!(!c.irq());
}

#[test]
fn standard_ports_and_irq_lines() {
    let mut ide = Ide::new();
    ide.attach(1, 0, Some(mem_disk(64)));
    assert!(Ide::decodes(0x170) && Ide::decodes(0x376) && !Ide::decodes(0x3F7));
    ide.io_write(0x172, 1, 1, 0);
    ide.io_write(0x173, 1, 7, 0);
    ide.io_write(0x176, 1, 0xE0, 0);
    ide.io_write(0x177, 1, 0x20, 0);
    assert!(ide.irq(1) && !ide.irq(0));
    assert_eq!(ide.io_read(0x376, 1, 0), (DRDY | DSC | DRQ) as u32);
    let w = ide.io_read(0x170, 4, 0);
    assert_eq!(w, 7, "sector 7 starts with 7 as a u32");
    assert_eq!(ide.io_read(0x1F7, 1, 0), 0x7F, "primary is empty");
}

#[test]
fn bad_images_are_refused_with_the_file_named() {
    let d = tmpdir();
    let odd = d.join("odd.img");
    std::fs::write(&odd, vec![0u8; 513]).unwrap();
    let empty = d.join("empty.img");
    std::fs::write(&empty, b"").unwrap();
    let mut ide = Ide::new();
    for (p, what) in [
        (&odd, "not a multiple of 512"),
        (&empty, "is empty"),
        (&d, "not a regular file"),
    ] {
        let e = ide.attach_disk(0, 0, p, false).unwrap_err().to_string();
        assert!(e.contains(&*p.to_string_lossy()) && e.contains(what), "{e}");
    }
    assert_eq!(ide.io_read(0x1F7, 1, 0), 0x7F, "nothing was attached");
}

#[test]
fn snapshot_mid_transfer_resumes_from_the_file() {
    let p = tmpdir().join("snap.img");
    std::fs::write(&p, pattern(300)).unwrap();
    let mut ide = Ide::new();
    ide.attach_disk(0, 0, &p, false).unwrap();
    ide.attach_cdrom(1, 0, None).unwrap();
    let c = &mut ide.channels[0];
    // A guest write lives only in the overlay of the read-only image.
    set_lba28(c, 250, 1);
    c.write(7, 0x30, 0);
    for _ in 0..256 {
        c.write_data16(0x4242, 0);
    }
    set_lba28(c, 249, 3);
    c.write(7, 0x20, 0);
    let first = read_words(c, 100);
    assert_eq!(sector_no(&first), 249);
    let json = serde_json::to_string(&ide).unwrap();
    assert!(
        json.len() < 64 * 1024,
        "the image contents are not in the snapshot"
    );
    let mut back: Ide = serde_json::from_str(&json).unwrap();
    let c = &mut back.channels[0];
    let rest = read_words(c, 156);
    assert_eq!(rest, pattern(300)[249 * 512 + 200..250 * 512]);
    assert!(c.irq(), "the next block is announced");
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    assert!(
        read_words(c, 256).iter().all(|&b| b == 0x42),
        "overlay kept"
    );
    assert_eq!(
        sector_no(&read_words(c, 256)),
        251,
        "read from the reopened file"
    );
    assert_eq!(c.read(7, 0), DRDY | DSC);
}

#[test]
fn snapshot_keeps_an_in_memory_image() {
    let mut c = channel(16);
    let json = serde_json::to_string(&c).unwrap();
    c = serde_json::from_str(&json).unwrap();
    set_lba28(&mut c, 15, 1);
    c.write(7, 0x20, 0);
    assert_eq!(c.read(7, 0), DRDY | DSC | DRQ);
    assert_eq!(sector_no(&read_words(&mut c, 256)), 15);
}

/// What a BIOS finds at (channel, device) by the Bochs BIOS's probe: the
/// 55h/AAh register test, a software reset, the signature (14h EBh packet,
/// 00h 00h with a non-zero status ATA, anything else none), then IDENTIFY
/// (PACKET) DEVICE, which must offer data. The register test passes for an
/// absent device 1 (its registers hold what was written), so the signature
/// must say "no device": a lone CD-ROM must not look like two.
fn probe(ide: &mut Ide, ch: usize, dev: u8) -> &'static str {
    let base = [0x1F0u16, 0x170][ch];
    let ctrl = base + 0x206;
    ide.io_write(base + 6, 1, 0xA0 | (dev as u32) << 4, 0);
    ide.io_write(base + 2, 1, 0x55, 0);
    ide.io_write(base + 3, 1, 0xAA, 0);
    ide.io_write(base + 2, 1, 0xAA, 0);
    ide.io_write(base + 3, 1, 0x55, 0);
    ide.io_write(base + 2, 1, 0x55, 0);
    ide.io_write(base + 3, 1, 0xAA, 0);
    let (sc, sn) = (ide.io_read(base + 2, 1, 0), ide.io_read(base + 3, 1, 0));
    if (sc, sn) != (0x55, 0xAA) {
        return "none";
    }
    ide.io_write(ctrl, 1, 0x06, 0);
    ide.io_write(ctrl, 1, 0x02, 0);
    ide.io_write(base + 6, 1, 0xA0 | (dev as u32) << 4, 0);
    let st = ide.io_read(base + 7, 1, 0);
    let sig = (ide.io_read(base + 4, 1, 0), ide.io_read(base + 5, 1, 0));
    let (kind, identify) = match sig {
        (0x14, 0xEB) => ("atapi", 0xA1),
        (0, 0) if st != 0 && st & 0x80 == 0 => ("ata", 0xEC),
        (0xFF, 0xFF) => return "none",
        _ => return "unknown",
    };
    ide.io_write(base + 7, 1, identify, 0);
    if ide.io_read(base + 7, 1, 0) & 0x89 != 0x08 {
        return "none";
    }
    for _ in 0..256 {
        ide.io_read(base, 2, 0);
    }
    kind
}

#[test]
fn a_bios_probe_finds_each_device_and_no_ghosts() {
    let mut ide = Ide::new();
    ide.attach(0, 0, Some(mem_disk(64)));
    ide.attach(0, 1, Some(Media::Cdrom(devices::AtapiCdrom::new())));
    ide.attach(1, 0, Some(mem_disk(64)));
    let found: Vec<_> = [(0, 0), (0, 1), (1, 0), (1, 1)]
        .into_iter()
        .map(|(c, d)| probe(&mut ide, c, d))
        .collect();
    assert_eq!(found, ["ata", "atapi", "ata", "none"]);
    let mut ide = Ide::new();
    ide.attach(1, 0, Some(Media::Cdrom(devices::AtapiCdrom::new())));
    let found: Vec<_> = [(0, 0), (0, 1), (1, 0), (1, 1)]
        .into_iter()
        .map(|(c, d)| probe(&mut ide, c, d))
        .collect();
    assert_eq!(found, ["none", "none", "atapi", "none"]);
}
