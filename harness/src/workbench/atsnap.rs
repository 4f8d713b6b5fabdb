//! Snapshots of the AT and PCI machines, in the XT's file format
//! ([`super::snapshot`]: magic, version, machine kind, CRC, gzip CBOR)
//! with the machine kinds [`KIND_ISA`] and [`KIND_PCI`].
//!
//! The body holds the profile the PC was built from (with the directory
//! its relative paths are relative to) and [`AtPcState`]: the CPU, RAM,
//! every chip of the board, the VGA, IDE (the disks' changed blocks; the
//! images are reopened by path and must be unchanged), the UARTs with
//! their pending input, and the scheduler's deadlines. Loading builds the
//! PC again from the profile (the firmware files must still be there and
//! the same: the BIOS is checked) and puts the state back.
//!
//! [`save`] is the entry point for tools (the gdb stub's `monitor
//! save-state`): a plain function of the PC and a path.

use super::snapshot::{self, SnapshotError};
use chipset::at::{build_pc, AtPc, AtPcState};
use chipset::profile::MachineProfile;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The machine kind of an ISA AT (`board: at`).
pub const KIND_ISA: &str = "at/isa";
/// The machine kind of an i440FX/PIIX3 PC (`board: pci`).
pub const KIND_PCI: &str = "at/pci";

/// The machine kind of `pc`.
pub fn kind_of(pc: &AtPc) -> &'static str {
    if pc.run.board.config.pci {
        KIND_PCI
    } else {
        KIND_ISA
    }
}

/// True for the kinds this module reads.
pub fn is_at_kind(kind: &str) -> bool {
    kind == KIND_ISA || kind == KIND_PCI
}

/// What an AT snapshot's body holds.
#[derive(Serialize, Deserialize)]
struct AtSnapshot {
    profile: MachineProfile,
    /// Where the profile's relative paths start.
    base: PathBuf,
    state: AtPcState,
}

/// Encode `pc` into snapshot bytes. Fails for a PC with a writable disk
/// or floppy (see [`AtPc::save_state`]).
pub fn encode(pc: &AtPc) -> Result<Vec<u8>, String> {
    let (profile, base) = &pc.profile;
    let base = std::path::absolute(base).unwrap_or_else(|_| base.clone());
    let snap = AtSnapshot {
        profile: profile.clone(),
        base,
        state: pc.save_state()?,
    };
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    ciborium::into_writer(&snap, &mut gz).map_err(|e| e.to_string())?;
    let body = gz.finish().map_err(|e| e.to_string())?;
    Ok(snapshot::frame(kind_of(pc), &body))
}

/// Write a snapshot of `pc` to `path` (whole or not at all).
pub fn save(pc: &AtPc, path: &Path) -> Result<(), SnapshotError> {
    let bytes = encode(pc).map_err(|message| SnapshotError::Format {
        path: path.to_path_buf(),
        message,
    })?;
    snapshot::write_file(&bytes, path)
}

/// Decode snapshot bytes into a PC (`path` names them in errors).
pub fn decode(bytes: &[u8], path: &Path) -> Result<AtPc, SnapshotError> {
    let format = |message: String| SnapshotError::Format {
        path: path.to_path_buf(),
        message,
    };
    let (_, kind, body) = snapshot::split(bytes).map_err(format)?;
    if !is_at_kind(&kind) {
        return Err(SnapshotError::WrongMachine {
            path: path.to_path_buf(),
            found: kind,
            expected: format!("{KIND_ISA}' or '{KIND_PCI}"),
        });
    }
    let mut raw = Vec::new();
    GzDecoder::new(body)
        .read_to_end(&mut raw)
        .map_err(|e| format(format!("body does not decompress: {e}")))?;
    let snap: AtSnapshot = ciborium::from_reader(raw.as_slice())
        .map_err(|e| format(format!("body does not decode: {e}")))?;
    let machine = |message: String| SnapshotError::Machine {
        path: path.to_path_buf(),
        message,
    };
    let mut pc = build_pc(&snap.profile, &snap.base)
        .map_err(|e| machine(format!("rebuilding the saved machine: {e}")))?;
    if kind_of(&pc) != kind {
        return Err(machine(format!(
            "the header says '{kind}' but the saved profile builds '{}'",
            kind_of(&pc)
        )));
    }
    pc.load_state(snap.state)
        .map_err(|e| machine(format!("restoring the state: {e}")))?;
    Ok(pc)
}

/// Read a snapshot file into a PC.
pub fn load(path: &Path) -> Result<AtPc, SnapshotError> {
    decode(&snapshot::read(path)?, path)
}

/// A hash of the PC's state as a snapshot holds it, leaving out the count
/// of slices (which depends on how a run was cut into calls, not on what
/// the machine did): two PCs that will behave alike hash alike. FNV-1a
/// over the CBOR encoding, taken eight bytes at a time (the state is tens
/// of megabytes): stable across runs and builds.
pub fn state_hash(pc: &AtPc) -> Result<u64, String> {
    let mut state = pc.save_state()?;
    state.slices = 0;
    let mut w = WordFnv::default();
    ciborium::into_writer(&state, &mut w).map_err(|e| e.to_string())?;
    Ok(w.finish())
}

/// FNV-1a over little-endian 64-bit words (the tail zero-padded, the
/// length mixed in last).
struct WordFnv {
    h: u64,
    tail: [u8; 8],
    n: usize,
    len: u64,
}

impl Default for WordFnv {
    fn default() -> Self {
        WordFnv {
            h: 0xcbf2_9ce4_8422_2325,
            tail: [0; 8],
            n: 0,
            len: 0,
        }
    }
}

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl WordFnv {
    fn word(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(FNV_PRIME);
    }

    fn finish(mut self) -> u64 {
        if self.n > 0 {
            self.tail[self.n..].fill(0);
            self.word(u64::from_le_bytes(self.tail));
        }
        let len = self.len;
        self.word(len);
        self.h
    }
}

impl Write for WordFnv {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let total = buf.len();
        self.len += total as u64;
        if self.n > 0 {
            let k = (8 - self.n).min(buf.len());
            self.tail[self.n..self.n + k].copy_from_slice(&buf[..k]);
            self.n += k;
            buf = &buf[k..];
            if self.n < 8 {
                return Ok(total);
            }
            self.word(u64::from_le_bytes(self.tail));
            self.n = 0;
        }
        let mut words = buf.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.n = rest.len();
        Ok(total)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_in_pieces(data: &[u8], cuts: &[usize]) -> u64 {
        let mut w = WordFnv::default();
        let mut at = 0;
        for &c in cuts {
            w.write_all(&data[at..c]).unwrap();
            at = c;
        }
        w.write_all(&data[at..]).unwrap();
        w.finish()
    }

    #[test]
    fn the_word_hash_does_not_depend_on_how_the_bytes_arrive() {
        let data: Vec<u8> = (0..37u8).collect();
        let whole = hash_in_pieces(&data, &[]);
        assert_eq!(hash_in_pieces(&data, &[1, 2, 3, 11, 16, 30]), whole);
        assert_eq!(hash_in_pieces(&data, &[7, 8, 9]), whole);
        // One byte changed, or one more zero byte (the length is mixed in),
        // changes the hash.
        let mut other = data.clone();
        other[20] ^= 1;
        assert_ne!(hash_in_pieces(&other, &[]), whole);
        let mut longer = data.clone();
        longer.push(0);
        assert_ne!(hash_in_pieces(&longer, &[]), whole);
    }
}
