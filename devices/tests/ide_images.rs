//! The image scripts' output read through the emulated devices: the FreeDOS
//! hard disk made by `scripts/make-freedos-hdd.sh` through ATA commands, and
//! the El Torito ISO made by `scripts/make-eltorito-iso.sh` through ATAPI
//! packets. Expected values come from the MBR layout, the FAT BPB and the
//! El Torito specification (boot record at block 17, validation entry
//! 55h AAh, initial entry 88h with media type 2 for 1.44 MB emulation).
//!
//! Needs the shared FreeDOS floppy and the scripts' tools (mtools,
//! dosfstools, fdisk, syslinux-common, xorriso); skips with a message when
//! they are missing, and fails then if `IRONPC_REQUIRE_DATA=1`.

use devices::Ide;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_dir() -> PathBuf {
    match std::env::var_os("IRONPC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    println!("SKIPPED: {msg}");
    eprintln!("SKIPPED: {msg}");
}

/// Run a script of the repository into a temp dir; `None` after a skip.
fn build(script: &str, out_name: &str) -> Option<(PathBuf, PathBuf)> {
    let floppy = shared_dir().join("images/floppy/freedos-1440k.img");
    if !floppy.exists() {
        skip(&format!(
            "{} not found (set IRONPC_SHARED)",
            floppy.display()
        ));
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("ironpc-images-{}-{out_name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(out_name);
    let r = Command::new("bash")
        .arg(root.join("scripts").join(script))
        .arg(&out)
        .arg(&floppy)
        .output();
    match r {
        Ok(o) if o.status.success() => Some((out, floppy)),
        Ok(o) => {
            skip(&format!(
                "{script} failed (missing tools?): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            None
        }
        Err(e) => {
            skip(&format!("cannot run bash for {script}: {e}"));
            None
        }
    }
}

fn ata_read(ide: &mut Ide, lba: u32) -> Vec<u8> {
    ide.io_write(0x1F2, 1, 1, 0);
    ide.io_write(0x1F3, 1, lba & 0xFF, 0);
    ide.io_write(0x1F4, 1, (lba >> 8) & 0xFF, 0);
    ide.io_write(0x1F5, 1, (lba >> 16) & 0xFF, 0);
    ide.io_write(0x1F6, 1, 0xE0, 0);
    ide.io_write(0x1F7, 1, 0x20, 0);
    assert_eq!(ide.io_read(0x1F7, 1, 0), 0x58);
    (0..128)
        .flat_map(|_| ide.io_read(0x1F0, 4, 0).to_le_bytes())
        .collect()
}

#[test]
fn freedos_hdd_image_reads_back_through_ata() {
    let Some((img, floppy)) = build("make-freedos-hdd.sh", "fd.img") else {
        return;
    };
    let fl = std::fs::read(&floppy).unwrap();
    let mut ide = Ide::new();
    ide.attach_disk(0, 0, &img, false).unwrap();
    // IDENTIFY: the script's 32/16/63 layout is the default geometry.
    ide.io_write(0x1F6, 1, 0xA0, 0);
    ide.io_write(0x1F7, 1, 0xEC, 0);
    let id: Vec<u16> = (0..256).map(|_| ide.io_read(0x1F0, 2, 0) as u16).collect();
    assert_eq!((id[1], id[3], id[6]), (32, 16, 63));
    // MBR: signature, one active FAT12 partition at 63 covering the rest.
    let mbr = ata_read(&mut ide, 0);
    assert_eq!(mbr[510..512], [0x55, 0xAA]);
    let e = &mbr[446..462];
    assert_eq!(e[0], 0x80, "active");
    assert_eq!(e[4], 0x01, "FAT12");
    assert_eq!(u32::from_le_bytes([e[8], e[9], e[10], e[11]]), 63);
    assert_eq!(
        u32::from_le_bytes([e[12], e[13], e[14], e[15]]),
        32 * 16 * 63 - 63
    );
    // The partition's boot sector, read by CHS (C0 H1 S1 = LBA 63): the
    // floppy's FreeDOS code over a BPB for the partition.
    ide.io_write(0x1F2, 1, 1, 0);
    ide.io_write(0x1F3, 1, 1, 0);
    ide.io_write(0x1F4, 1, 0, 0);
    ide.io_write(0x1F5, 1, 0, 0);
    ide.io_write(0x1F6, 1, 0xA1, 0);
    ide.io_write(0x1F7, 1, 0x20, 0);
    let vbr: Vec<u8> = (0..256)
        .flat_map(|_| (ide.io_read(0x1F0, 2, 0) as u16).to_le_bytes())
        .collect();
    assert_eq!(vbr[62..512], fl[62..512], "FreeDOS boot code");
    assert_eq!(vbr[0..3], fl[0..3], "its jump");
    assert_eq!(
        u32::from_le_bytes([vbr[28], vbr[29], vbr[30], vbr[31]]),
        63,
        "hidden sectors"
    );
    assert_eq!(
        u16::from_le_bytes([vbr[24], vbr[25]]),
        63,
        "sectors per track"
    );
    assert_eq!(u16::from_le_bytes([vbr[26], vbr[27]]), 16, "heads");
    assert_eq!(vbr[0x24], 0xFF, "drive number taken from DL");
    assert_eq!(&vbr[0x36..0x3E], b"FAT12   ");
    // The root directory holds KERNEL.SYS: reserved + FATs from the BPB.
    let reserved = u16::from_le_bytes([vbr[14], vbr[15]]) as u32;
    let fat = u16::from_le_bytes([vbr[22], vbr[23]]) as u32;
    let root = 63 + reserved + vbr[16] as u32 * fat;
    let dir = ata_read(&mut ide, root);
    assert!(
        dir.chunks(32).any(|d| &d[..11] == b"KERNEL  SYS"),
        "KERNEL.SYS in the root directory"
    );
    std::fs::remove_dir_all(img.parent().unwrap()).ok();
}

/// Run a packet command (PIO, byte count limit FFFEh) on the secondary
/// master and return the data.
fn packet(ide: &mut Ide, cdb: &[u8]) -> Vec<u8> {
    let mut p = [0u8; 12];
    p[..cdb.len()].copy_from_slice(cdb);
    ide.io_write(0x171, 1, 0, 0);
    ide.io_write(0x174, 1, 0xFE, 0);
    ide.io_write(0x175, 1, 0xFF, 0);
    ide.io_write(0x177, 1, 0xA0, 0);
    for w in p.chunks(2) {
        ide.io_write(0x170, 2, u16::from_le_bytes([w[0], w[1]]) as u32, 0);
    }
    let mut data = Vec::new();
    loop {
        let st = ide.io_read(0x177, 1, 0) as u8;
        assert_eq!(st & 1, 0, "packet {:02X} failed", cdb[0]);
        if st & 0x08 == 0 {
            return data;
        }
        let n = ide.io_read(0x174, 1, 0) | ide.io_read(0x175, 1, 0) << 8;
        for _ in 0..n / 2 {
            data.extend_from_slice(&(ide.io_read(0x170, 2, 0) as u16).to_le_bytes());
        }
    }
}

fn read10(ide: &mut Ide, lba: u32, n: u16) -> Vec<u8> {
    let l = lba.to_be_bytes();
    let c = n.to_be_bytes();
    packet(ide, &[0x28, 0, l[0], l[1], l[2], l[3], 0, c[0], c[1], 0])
}

#[test]
fn eltorito_iso_reads_back_through_atapi() {
    let Some((iso, floppy)) = build("make-eltorito-iso.sh", "fd.iso") else {
        return;
    };
    let fl = std::fs::read(&floppy).unwrap();
    let mut ide = Ide::new();
    ide.attach_cdrom(1, 0, Some(&iso)).unwrap();
    // The medium-change unit attention first, cleared by REQUEST SENSE.
    let s = packet(&mut ide, &[0x03, 0, 0, 0, 18, 0]);
    assert_eq!((s[2], s[12]), (6, 0x28));
    let cap = packet(&mut ide, &[0x25]);
    let blocks = u32::from_be_bytes([cap[0], cap[1], cap[2], cap[3]]) + 1;
    assert_eq!(blocks as u64 * 2048, std::fs::metadata(&iso).unwrap().len());
    // Boot record volume descriptor at block 17.
    let brvd = read10(&mut ide, 17, 1);
    assert_eq!(brvd[0], 0);
    assert_eq!(&brvd[1..6], b"CD001");
    assert_eq!(&brvd[7..30], b"EL TORITO SPECIFICATION");
    let cat = u32::from_le_bytes([brvd[0x47], brvd[0x48], brvd[0x49], brvd[0x4A]]);
    let c = read10(&mut ide, cat, 1);
    assert_eq!(c[0], 1, "validation entry");
    assert_eq!(c[30..32], [0x55, 0xAA]);
    let sum = c[..32].chunks(2).fold(0u16, |a, w| {
        a.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    assert_eq!(sum, 0, "validation entry checksum");
    let entry = &c[32..64];
    assert_eq!(entry[0], 0x88, "bootable");
    assert_eq!(entry[1], 2, "1.44 MB floppy emulation");
    let rba = u32::from_le_bytes([entry[8], entry[9], entry[10], entry[11]]);
    // The whole floppy lies at the load RBA: read it in one READ(10).
    let img = read10(&mut ide, rba, (fl.len() / 2048) as u16);
    assert!(img == fl, "the boot image is the floppy");
    std::fs::remove_dir_all(iso.parent().unwrap()).ok();
}
