//! File-backed block images for IDE hard disks (512-byte sectors) and ATAPI
//! CD-ROMs (2048-byte blocks).
//!
//! Images can be several GiB, so they are never read whole: blocks are read
//! from the file on demand in chunks of [`CHUNK_BLOCKS`] and the last
//! [`CACHE_CHUNKS`] chunks are kept (about 1 MiB for a hard disk, 4 MiB for a
//! CD). An image opened writable writes every changed block straight to its
//! file. An image opened read-only keeps changed blocks in an in-memory
//! overlay: the guest sees its writes, the file is never touched, and the
//! changes are lost when the emulator exits (said in `docs/storage.md`).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Blocks read from the file at once (read-ahead).
pub const CHUNK_BLOCKS: u64 = 128;
/// Chunks kept in the read cache.
pub const CACHE_CHUNKS: usize = 16;

/// Errors opening or using a block image. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be opened, read or written.
    #[error("{what} image {path}: {source}")]
    Io {
        /// "hard-disk" or "CD-ROM".
        what: &'static str,
        /// The image file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path is a directory, device or other non-regular file.
    #[error("{what} image {path} is not a regular file")]
    NotRegular {
        /// "hard-disk" or "CD-ROM".
        what: &'static str,
        /// The image file.
        path: PathBuf,
    },
    /// The file holds no bytes.
    #[error("{what} image {path} is empty")]
    Empty {
        /// "hard-disk" or "CD-ROM".
        what: &'static str,
        /// The image file.
        path: PathBuf,
    },
    /// The size is not a whole number of blocks.
    #[error("{what} image {path} has {size} bytes, which is not a multiple of {block} (a raw image of {block}-byte blocks is expected; the file may be truncated)")]
    OddSize {
        /// "hard-disk" or "CD-ROM".
        what: &'static str,
        /// The image file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The block size expected.
        block: usize,
    },
}

/// The open file of a file-backed image.
#[derive(Debug, Default)]
enum Backing {
    /// Not open yet (after a snapshot is restored, say): opened on first use.
    #[default]
    Closed,
    /// The open file.
    Open(File),
}

/// A raw image of fixed-size blocks.
#[derive(Debug, Serialize, Deserialize)]
pub struct BlockImage {
    /// Where the image came from (for messages).
    pub path: PathBuf,
    /// "hard-disk" or "CD-ROM", for messages.
    what: String,
    /// Bytes per block (512 or 2048).
    block: usize,
    /// Number of blocks.
    blocks: u64,
    /// Writes go to the file.
    writable: bool,
    /// Blocks written by the guest that are not in the file (read-only images).
    overlay: BTreeMap<u64, Vec<u8>>,
    /// The bytes of an in-memory image (saved whole in snapshots; file-backed
    /// images save only their path and overlay and reopen the file).
    memory: Option<Vec<u8>>,
    #[serde(skip)]
    backing: Backing,
    /// Read cache: (first block of the chunk, its bytes), most recent last.
    #[serde(skip)]
    cache: VecDeque<(u64, Vec<u8>)>,
}

impl Clone for BlockImage {
    /// A clone shares nothing with the original: it reopens the file on first use.
    fn clone(&self) -> Self {
        BlockImage {
            path: self.path.clone(),
            what: self.what.clone(),
            block: self.block,
            blocks: self.blocks,
            writable: self.writable,
            overlay: self.overlay.clone(),
            memory: self.memory.clone(),
            backing: Backing::Closed,
            cache: VecDeque::new(),
        }
    }
}

impl BlockImage {
    /// Open `path` as an image of `block`-byte blocks. `what` names the kind of
    /// image in messages. The file must be a non-empty regular file whose size
    /// is a multiple of `block`.
    pub fn open(
        path: &Path,
        block: usize,
        writable: bool,
        what: &'static str,
    ) -> Result<BlockImage, ImageError> {
        let io = |source| ImageError::Io {
            what,
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(ImageError::NotRegular {
                what,
                path: path.to_path_buf(),
            });
        }
        Self::check_size(path, meta.len(), block, what)?;
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(path)
            .map_err(io)?;
        Ok(BlockImage {
            path: path.to_path_buf(),
            what: what.to_string(),
            block,
            blocks: meta.len() / block as u64,
            writable,
            overlay: BTreeMap::new(),
            memory: None,
            backing: Backing::Open(file),
            cache: VecDeque::new(),
        })
    }

    /// An image held in memory (`name` is used in messages). Writes change
    /// the bytes (there is no file to protect).
    pub fn from_bytes(
        name: &Path,
        data: Vec<u8>,
        block: usize,
        what: &'static str,
    ) -> Result<BlockImage, ImageError> {
        Self::check_size(name, data.len() as u64, block, what)?;
        Ok(BlockImage {
            path: name.to_path_buf(),
            what: what.to_string(),
            block,
            blocks: (data.len() / block) as u64,
            writable: true,
            overlay: BTreeMap::new(),
            memory: Some(data),
            backing: Backing::Closed,
            cache: VecDeque::new(),
        })
    }

    fn check_size(
        path: &Path,
        size: u64,
        block: usize,
        what: &'static str,
    ) -> Result<(), ImageError> {
        if size == 0 {
            return Err(ImageError::Empty {
                what,
                path: path.to_path_buf(),
            });
        }
        if size % block as u64 != 0 {
            return Err(ImageError::OddSize {
                what,
                path: path.to_path_buf(),
                size,
                block,
            });
        }
        Ok(())
    }

    /// Bytes per block.
    pub fn block_size(&self) -> usize {
        self.block
    }

    /// Number of blocks.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Whether guest writes reach the file.
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Blocks changed by the guest and held only in memory.
    pub fn overlay_blocks(&self) -> usize {
        self.overlay.len()
    }

    fn io_err(&self, source: std::io::Error) -> ImageError {
        let what = if self.block == 2048 {
            "CD-ROM"
        } else {
            "hard-disk"
        };
        ImageError::Io {
            what,
            path: self.path.clone(),
            source,
        }
    }

    fn file(&mut self) -> Result<&mut File, ImageError> {
        if matches!(self.backing, Backing::Closed) {
            let f = OpenOptions::new()
                .read(true)
                .write(self.writable)
                .open(&self.path)
                .map_err(|e| self.io_err(e))?;
            self.backing = Backing::Open(f);
        }
        let err = self.io_err(std::io::Error::other("image file is not open"));
        match &mut self.backing {
            Backing::Open(f) => Ok(f),
            Backing::Closed => Err(err),
        }
    }

    /// Copy block `n` into `out` (which must be one block long).
    pub fn read_block(&mut self, n: u64, out: &mut [u8]) -> Result<(), ImageError> {
        let bs = self.block;
        if n >= self.blocks || out.len() != bs {
            return Err(self.io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("block {n} is outside the image"),
            )));
        }
        if let Some(b) = self.overlay.get(&n) {
            out.copy_from_slice(b);
            return Ok(());
        }
        if let Some(m) = &self.memory {
            let o = n as usize * bs;
            out.copy_from_slice(&m[o..o + bs]);
            return Ok(());
        }
        let first = n - n % CHUNK_BLOCKS;
        if let Some(i) = self.cache.iter().position(|(f, _)| *f == first) {
            let chunk = self.cache.remove(i).unwrap_or_default();
            let o = (n - first) as usize * bs;
            out.copy_from_slice(&chunk.1[o..o + bs]);
            self.cache.push_back(chunk);
            return Ok(());
        }
        let count = CHUNK_BLOCKS.min(self.blocks - first);
        let mut buf = vec![0u8; count as usize * bs];
        let r = (|| {
            let f = self.file()?;
            f.seek(SeekFrom::Start(first * bs as u64))
                .and_then(|_| f.read_exact(&mut buf))
                .map_err(|e| self.io_err(e))
        })();
        r?;
        let o = (n - first) as usize * bs;
        out.copy_from_slice(&buf[o..o + bs]);
        if self.cache.len() >= CACHE_CHUNKS {
            self.cache.pop_front();
        }
        self.cache.push_back((first, buf));
        Ok(())
    }

    /// Replace block `n`. Writable files are written through; read-only
    /// images keep the block in the overlay.
    pub fn write_block(&mut self, n: u64, data: &[u8]) -> Result<(), ImageError> {
        let bs = self.block;
        if n >= self.blocks || data.len() != bs {
            return Err(self.io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("block {n} is outside the image"),
            )));
        }
        if let Some(m) = &mut self.memory {
            let o = n as usize * bs;
            m[o..o + bs].copy_from_slice(data);
            return Ok(());
        }
        // Keep the cache coherent with what the guest wrote.
        let first = n - n % CHUNK_BLOCKS;
        if let Some((_, chunk)) = self.cache.iter_mut().find(|(f, _)| *f == first) {
            let o = (n - first) as usize * bs;
            chunk[o..o + bs].copy_from_slice(data);
        }
        if !self.writable {
            self.overlay.insert(n, data.to_vec());
            return Ok(());
        }
        let r = (|| {
            let f = self.file()?;
            f.seek(SeekFrom::Start(n * bs as u64))
                .and_then(|_| f.write_all(data))
                .map_err(|e| self.io_err(e))
        })();
        r
    }

    /// Push written data to the file (FLUSH CACHE).
    pub fn flush(&mut self) -> Result<(), ImageError> {
        if let Backing::Open(f) = &mut self.backing {
            if self.writable {
                let r = f.sync_data();
                return r.map_err(|e| self.io_err(e));
            }
        }
        Ok(())
    }

    /// Kind of image, for messages.
    pub fn kind(&self) -> &str {
        &self.what
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ironpc-blk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn bad_files_name_the_file() {
        let p = tmp("odd.img");
        std::fs::write(&p, vec![0u8; 1000]).unwrap();
        let e = BlockImage::open(&p, 512, false, "hard-disk").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("odd.img") && m.contains("1000") && m.contains("512"),
            "{m}"
        );
        let p = tmp("empty.img");
        std::fs::write(&p, b"").unwrap();
        let m = BlockImage::open(&p, 512, false, "hard-disk")
            .unwrap_err()
            .to_string();
        assert!(m.contains("empty.img") && m.contains("empty"), "{m}");
        let d = std::env::temp_dir();
        let m = BlockImage::open(&d, 2048, false, "CD-ROM")
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("not a regular file") && m.contains("CD-ROM"),
            "{m}"
        );
        let m = BlockImage::open(Path::new("/nonexistent/x.iso"), 2048, false, "CD-ROM")
            .unwrap_err()
            .to_string();
        assert!(m.contains("/nonexistent/x.iso"), "{m}");
    }

    #[test]
    fn read_only_writes_go_to_the_overlay_and_writable_to_the_file() {
        let blocks = CHUNK_BLOCKS * 3 + 5; // several chunks and a short last one
        for writable in [false, true] {
            let p = tmp(&format!("rw-{writable}.img"));
            let mut data = vec![0u8; blocks as usize * 512];
            for b in 0..blocks {
                data[b as usize * 512] = b as u8;
            }
            std::fs::write(&p, &data).unwrap();
            let mut img = BlockImage::open(&p, 512, writable, "hard-disk").unwrap();
            assert_eq!(img.blocks(), blocks);
            let mut s = [0u8; 512];
            img.read_block(blocks - 1, &mut s).unwrap();
            assert_eq!(s[0], (blocks - 1) as u8);
            img.read_block(200, &mut s).unwrap();
            assert_eq!(s[0], 200);
            img.write_block(200, &[0xEE; 512]).unwrap();
            img.read_block(200, &mut s).unwrap();
            assert_eq!(s, [0xEE; 512], "the guest reads back what it wrote");
            let on_disk = std::fs::read(&p).unwrap();
            let expect = if writable { 0xEE } else { 200 };
            assert_eq!(on_disk[200 * 512], expect, "writable={writable}");
            assert_eq!(img.overlay_blocks(), if writable { 0 } else { 1 });
            assert!(img.read_block(blocks, &mut s).is_err());
        }
    }
}
