//! Raw floppy disk images and drive types.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes per sector of every PC raw image.
pub const SECTOR_SIZE: usize = 512;

/// Cylinders, heads and sectors per track of a disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    /// Cylinders (tracks per side).
    pub cylinders: u8,
    /// Heads (sides).
    pub heads: u8,
    /// Sectors per track.
    pub sectors: u8,
}

impl Geometry {
    /// Total bytes of a raw image with this geometry.
    pub fn size(&self) -> usize {
        self.cylinders as usize * self.heads as usize * self.sectors as usize * SECTOR_SIZE
    }

    /// The geometry of a raw image of `size` bytes, for the standard PC formats
    /// (160K, 180K, 320K, 360K, 720K, 1.2M, 1.44M, 2.88M).
    pub fn from_size(size: usize) -> Option<Geometry> {
        let (cylinders, heads, sectors) = match size / 1024 {
            160 => (40, 1, 8),
            180 => (40, 1, 9),
            320 => (40, 2, 8),
            360 => (40, 2, 9),
            720 => (80, 2, 9),
            1200 => (80, 2, 15),
            1440 => (80, 2, 18),
            2880 => (80, 2, 36),
            _ => return None,
        };
        let g = Geometry {
            cylinders,
            heads,
            sectors,
        };
        (g.size() == size).then_some(g)
    }
}

/// Errors opening a disk image.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The file could not be read.
    #[error("cannot read floppy image {path}: {source}")]
    Io {
        /// The image file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The size matches no PC floppy format.
    #[error("floppy image {path} has {size} bytes, which is no known PC floppy size (160K, 180K, 320K, 360K, 720K, 1.2M, 1.44M or 2.88M raw image expected)")]
    UnknownSize {
        /// The image file.
        path: PathBuf,
        /// Its size in bytes.
        size: usize,
    },
}

/// A raw sector image held in memory. Writes change the in-memory copy; an
/// image opened writable also writes each changed sector back to its file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FloppyImage {
    /// Where the image came from (for messages and write-back).
    pub path: PathBuf,
    /// The sectors, cylinder by cylinder, head by head.
    #[serde(with = "crate::bytes_serde")]
    pub data: Vec<u8>,
    /// Its geometry (from its size).
    pub geometry: Geometry,
    /// Write changes back to `path`.
    pub writable: bool,
    /// Sectors were changed since loading.
    pub dirty: bool,
}

impl FloppyImage {
    /// Load a raw image; its geometry comes from its size.
    pub fn open(path: &Path, writable: bool) -> Result<FloppyImage, DiskError> {
        let data = fs::read(path).map_err(|source| DiskError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut img = FloppyImage::from_bytes(path, data)?;
        img.writable = writable;
        Ok(img)
    }

    /// An image from bytes (`name` is used in messages).
    pub fn from_bytes(name: &Path, data: Vec<u8>) -> Result<FloppyImage, DiskError> {
        let geometry = Geometry::from_size(data.len()).ok_or(DiskError::UnknownSize {
            path: name.to_path_buf(),
            size: data.len(),
        })?;
        Ok(FloppyImage {
            path: name.to_path_buf(),
            data,
            geometry,
            writable: false,
            dirty: false,
        })
    }

    /// An image from the bytes of a partial image (a boot sector, say),
    /// zero-padded to the smallest standard size that holds it. Larger
    /// than 2.88M, or not a whole number of sectors, is an error.
    pub fn from_bytes_padded(name: &Path, mut data: Vec<u8>) -> Result<FloppyImage, DiskError> {
        const SIZES: [usize; 8] = [160, 180, 320, 360, 720, 1200, 1440, 2880];
        if data.len() % SECTOR_SIZE == 0 {
            if let Some(k) = SIZES.iter().find(|&&k| k * 1024 >= data.len()) {
                data.resize(k * 1024, 0);
            }
        }
        Self::from_bytes(name, data)
    }

    /// Byte offset of sector `r` (1-based) of cylinder `c`, head `h`, if it exists.
    pub fn offset(&self, c: u8, h: u8, r: u8) -> Option<usize> {
        let g = self.geometry;
        if c >= g.cylinders || h >= g.heads || r == 0 || r > g.sectors {
            return None;
        }
        let lba =
            (c as usize * g.heads as usize + h as usize) * g.sectors as usize + r as usize - 1;
        Some(lba * SECTOR_SIZE)
    }

    /// A sector's bytes.
    pub fn sector(&self, c: u8, h: u8, r: u8) -> Option<&[u8]> {
        let o = self.offset(c, h, r)?;
        Some(&self.data[o..o + SECTOR_SIZE])
    }

    /// Replace a sector; returns false if it does not exist. Writable images
    /// are written through to their file (an I/O error is returned as `Err`).
    pub fn write_sector(&mut self, c: u8, h: u8, r: u8, bytes: &[u8]) -> std::io::Result<bool> {
        let Some(o) = self.offset(c, h, r) else {
            return Ok(false);
        };
        let n = bytes.len().min(SECTOR_SIZE);
        self.data[o..o + n].copy_from_slice(&bytes[..n]);
        self.dirty = true;
        if self.writable {
            let mut f = fs::OpenOptions::new().write(true).open(&self.path)?;
            f.seek(SeekFrom::Start(o as u64))?;
            f.write_all(&self.data[o..o + SECTOR_SIZE])?;
        }
        Ok(true)
    }
}

/// Kinds of PC floppy drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriveType {
    /// 5¼" double density, 40 tracks (160K–360K media).
    #[serde(rename = "360k")]
    D360,
    /// 5¼" high density, 80 tracks.
    #[serde(rename = "1.2m")]
    D1200,
    /// 3½" double density, 80 tracks.
    #[serde(rename = "720k")]
    D720,
    /// 3½" high density, 80 tracks.
    #[serde(rename = "1.44m")]
    D1440,
}

impl DriveType {
    /// Tracks the head can reach.
    pub fn tracks(self) -> u8 {
        match self {
            DriveType::D360 => 40,
            _ => 80,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_from_every_pc_size() {
        let g = |k: usize| Geometry::from_size(k * 1024).map(|g| (g.cylinders, g.heads, g.sectors));
        assert_eq!(g(160), Some((40, 1, 8)));
        assert_eq!(g(180), Some((40, 1, 9)));
        assert_eq!(g(320), Some((40, 2, 8)));
        assert_eq!(g(360), Some((40, 2, 9)));
        assert_eq!(g(720), Some((80, 2, 9)));
        assert_eq!(g(1200), Some((80, 2, 15)));
        assert_eq!(g(1440), Some((80, 2, 18)));
        assert_eq!(g(100), None);
        assert_eq!(Geometry::from_size(360 * 1024 + 1), None);
    }

    #[test]
    fn unknown_size_names_the_file() {
        let e = FloppyImage::from_bytes(Path::new("odd.img"), vec![0; 1000]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("odd.img") && msg.contains("1000"), "{msg}");
    }

    #[test]
    fn boot_sector_padded_to_160k() {
        let mut boot = vec![0u8; 512];
        boot[510] = 0x55;
        boot[511] = 0xAA;
        let img = FloppyImage::from_bytes_padded(Path::new("boot.img"), boot).unwrap();
        assert_eq!(img.geometry.sectors, 8);
        assert_eq!(img.sector(0, 0, 1).unwrap()[511], 0xAA);
        assert!(FloppyImage::from_bytes_padded(Path::new("odd.img"), vec![0; 100]).is_err());
    }

    #[test]
    fn missing_file_names_the_file() {
        let e = FloppyImage::open(Path::new("/nonexistent/disk.img"), false).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/disk.img"));
    }

    #[test]
    fn writable_images_write_through_and_others_do_not() {
        let dir = std::env::temp_dir().join(format!("ironpc-floppy-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        for writable in [false, true] {
            let path = dir.join(format!("disk-{writable}.img"));
            fs::write(&path, vec![0u8; 160 * 1024]).unwrap();
            let mut img = FloppyImage::open(&path, writable).unwrap();
            assert!(img.write_sector(0, 0, 2, &[0xAB; 512]).unwrap());
            assert_eq!(img.sector(0, 0, 2).unwrap()[0], 0xAB);
            let on_disk = fs::read(&path).unwrap();
            let expected = if writable { 0xAB } else { 0 };
            assert_eq!(on_disk[512], expected, "writable={writable}");
            assert_eq!(on_disk[0], 0);
        }
    }

    #[test]
    fn sector_addressing_is_chs_order() {
        let mut data = vec![0; 360 * 1024];
        // Cylinder 1, head 1, sector 3 = LBA (1*2+1)*9+2 = 29.
        data[29 * 512] = 0x5A;
        let img = FloppyImage::from_bytes(Path::new("t.img"), data).unwrap();
        assert_eq!(img.sector(1, 1, 3).unwrap()[0], 0x5A);
        assert!(img.sector(0, 0, 0).is_none());
        assert!(img.sector(0, 0, 10).is_none());
        assert!(img.sector(40, 0, 1).is_none());
    }
}
