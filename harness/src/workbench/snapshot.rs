//! Snapshot files: the whole machine in one versioned file.
//!
//! Layout (all numbers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic `IRONPCSS` |
//! | 4 | format version ([`VERSION`]) |
//! | 2 + n | machine kind, e.g. `xt/fast`: board and timing model |
//! | 8 | length of the body |
//! | 4 | CRC-32 of the body |
//! | … | body: gzip of the CBOR encoding of [`Snapshot`] |
//!
//! The body holds [`chipset::MachineState`] (profile, CPU registers, the
//! board with RAM, ROMs, every chip and device and the inserted disks with
//! their in-memory changes) plus what it leaves out of the CPU: the timing
//! model's state (the exact model's prefetch queue, bus cycle in progress
//! and clocks), HLT and the interrupt shadow. A file of another
//! version or machine kind, a short file or a body whose checksum or
//! encoding is wrong is refused with an error naming the file and the
//! fault; nothing is run.

use chipset::{Machine, MachineState};
use cpu::Timing;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The file's first eight bytes.
pub const MAGIC: &[u8; 8] = b"IRONPCSS";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// What a snapshot file holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "T: Serialize + serde::de::DeserializeOwned")]
pub struct Snapshot<T> {
    /// The machine.
    pub state: MachineState,
    /// What [`MachineState`] leaves out of the CPU: the timing model (on
    /// the exact model the prefetch queue, the bus cycle in progress and
    /// its clocks), HLT, and the one-instruction interrupt shadow.
    pub timing: T,
    /// The CPU was halted.
    pub halted: bool,
    /// Interrupts were held off for one instruction.
    pub irq_shadow: bool,
    /// Emulated CPU cycles since power-on when saved (also in the board's
    /// clock; kept for reports).
    pub cycles: u64,
    /// Instructions executed when saved.
    pub instructions: u64,
    /// A REP string instruction stopped between iterations (absent in
    /// files written before REPs could stop).
    #[serde(default)]
    pub rep: Option<cpu::RepState>,
}

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a usable snapshot.
    #[error("{path}: not a usable ironpc snapshot: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The snapshot is of another machine than the one asked for.
    #[error("{path}: snapshot of machine kind '{found}', but this run is '{expected}'")]
    WrongMachine {
        /// The file.
        path: PathBuf,
        /// The kind in the file.
        found: String,
        /// The kind wanted.
        expected: String,
    },
    /// The state does not make a machine (its profile is invalid).
    #[error("{path}: {message}")]
    Machine {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The machine kind written in the header: board and timing model.
pub fn kind_of<T: Timing>() -> String {
    format!("xt/{}", T::NAME)
}

/// A timing model that snapshots can hold.
pub trait Saveable: Timing + Default + Clone + Serialize + serde::de::DeserializeOwned {}
impl<T: Timing + Default + Clone + Serialize + serde::de::DeserializeOwned> Saveable for T {}

/// Encode a machine into snapshot bytes.
pub fn encode<T: Saveable>(m: &Machine<T>) -> Result<Vec<u8>, String> {
    let snap = Snapshot {
        state: m.save_state(),
        timing: m.cpu.timing.clone(),
        halted: m.cpu.halted(),
        irq_shadow: m.cpu.irq_shadow(),
        cycles: m.cycles(),
        instructions: m.cpu.instructions,
        rep: m.cpu.rep_state(),
    };
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    ciborium::into_writer(&snap, &mut gz).map_err(|e| e.to_string())?;
    let body = gz.finish().map_err(|e| e.to_string())?;
    Ok(frame(&kind_of::<T>(), &body))
}

/// A snapshot file's bytes: the header for machine kind `kind` and `body`
/// (the gzip-compressed CBOR of the machine's state).
pub(crate) fn frame(kind: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(kind.len() as u16).to_le_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Write a snapshot of `m` to `path`.
pub fn save<T: Saveable>(m: &Machine<T>, path: &Path) -> Result<(), SnapshotError> {
    let bytes = encode(m).map_err(|message| SnapshotError::Format {
        path: path.to_path_buf(),
        message,
    })?;
    write_file(&bytes, path)
}

/// Write snapshot bytes to `path` beside and rename, so that a reader
/// never sees half a file.
pub(crate) fn write_file(bytes: &[u8], path: &Path) -> Result<(), SnapshotError> {
    // Written beside and renamed, so a reader never sees half a file.
    let tmp = path.with_extension("partial");
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(bytes);
    c.sum()
}

/// The header of a snapshot file: (version, machine kind, body).
pub(crate) fn split(bytes: &[u8]) -> Result<(u32, String, &[u8]), String> {
    let take = |at: usize, n: usize, what: &str| {
        bytes
            .get(at..at + n)
            .ok_or_else(|| format!("truncated in the header ({what} at byte {at})"))
    };
    if take(0, 8, "magic")? != MAGIC {
        return Err("bad magic (the file does not start with IRONPCSS)".into());
    }
    let version = u32::from_le_bytes(take(8, 4, "version")?.try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!(
            "format version {version}; this build reads version {VERSION}"
        ));
    }
    let klen = u16::from_le_bytes(take(12, 2, "kind length")?.try_into().expect("2 bytes"));
    let kind = String::from_utf8(take(14, klen as usize, "machine kind")?.to_vec())
        .map_err(|_| "machine kind is not UTF-8".to_string())?;
    let at = 14 + klen as usize;
    let blen = u64::from_le_bytes(take(at, 8, "body length")?.try_into().expect("8 bytes"));
    let sum = u32::from_le_bytes(take(at + 8, 4, "checksum")?.try_into().expect("4 bytes"));
    let body = &bytes[at + 12..];
    if (body.len() as u64) < blen {
        return Err(format!(
            "truncated: the body should be {blen} bytes, the file has {}",
            body.len()
        ));
    }
    if (body.len() as u64) > blen {
        return Err(format!(
            "{} bytes past the end of the body",
            body.len() as u64 - blen
        ));
    }
    if crc32(body) != sum {
        return Err(format!(
            "checksum mismatch (header {sum:08X}, body {:08X}): the file is corrupt",
            crc32(body)
        ));
    }
    Ok((version, kind, body))
}

/// The machine kind recorded in a snapshot file (header checks only).
pub fn peek_kind(path: &Path) -> Result<String, SnapshotError> {
    let bytes = read(path)?;
    split(&bytes)
        .map(|(_, k, _)| k)
        .map_err(|message| SnapshotError::Format {
            path: path.to_path_buf(),
            message,
        })
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    std::fs::read(path).map_err(|source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Decode snapshot bytes (`path` names them in errors).
pub fn decode<T: Saveable>(bytes: &[u8], path: &Path) -> Result<Machine<T>, SnapshotError> {
    let format = |message: String| SnapshotError::Format {
        path: path.to_path_buf(),
        message,
    };
    let (_, kind, body) = split(bytes).map_err(format)?;
    let expected = kind_of::<T>();
    if kind != expected {
        return Err(SnapshotError::WrongMachine {
            path: path.to_path_buf(),
            found: kind,
            expected,
        });
    }
    let mut raw = Vec::new();
    GzDecoder::new(body)
        .read_to_end(&mut raw)
        .map_err(|e| format(format!("body does not decompress: {e}")))?;
    let snap: Snapshot<T> = ciborium::from_reader(raw.as_slice())
        .map_err(|e| format(format!("body does not decode: {e}")))?;
    let mut m = Machine::<T>::from_state_timed(snap.state).map_err(|e| SnapshotError::Machine {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    m.cpu.instructions = snap.instructions;
    m.cpu.timing = snap.timing;
    m.cpu.set_halted(snap.halted);
    m.cpu.set_irq_shadow(snap.irq_shadow);
    if let Some(rep) = snap.rep {
        let Machine { cpu, board, .. } = &mut m;
        cpu.restore_rep(board, rep).map_err(format)?;
    }
    // The restored timing model counts from where it was saved.
    m.resync_cpu_clock();
    Ok(m)
}

/// Read a snapshot file into a machine timed by `T`.
pub fn load<T: Saveable>(path: &Path) -> Result<Machine<T>, SnapshotError> {
    decode(&read(path)?, path)
}

/// A hash of the machine's state as a snapshot holds it, in a canonical
/// form: two machines that will behave alike hash alike. (The board counts
/// quiet PIT clocks down lazily, and when it does is bookkeeping: the hash
/// is taken of a copy whose PIT has counted them, which reading the
/// write-only control port 43h makes it do without other effect than
/// those every copy shares.) FNV-1a over the CBOR encoding: stable across
/// runs and builds.
pub fn state_hash<T: Saveable>(m: &Machine<T>) -> Result<u64, String> {
    let mut state = m.save_state();
    state.board.port_read(0x43);
    let snap = Snapshot {
        state,
        timing: m.cpu.timing.clone(),
        halted: m.cpu.halted(),
        irq_shadow: m.cpu.irq_shadow(),
        cycles: m.cycles(),
        instructions: m.cpu.instructions,
        rep: m.cpu.rep_state(),
    };
    let mut w = Fnv(0xcbf2_9ce4_8422_2325);
    ciborium::into_writer(&snap, &mut w).map_err(|e| e.to_string())?;
    Ok(w.0)
}

/// FNV-1a, fed as a writer (nothing is buffered).
struct Fnv(u64);

impl Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
