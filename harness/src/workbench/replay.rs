//! Deterministic record and replay.
//!
//! `--record LOG` writes, one JSON object per line: a header with the
//! starting machine (a snapshot, hex-encoded, so the log alone reproduces
//! the run), then every input event with the emulated cycle at which it
//! reached the machine, and every `interval` cycles the canonical state
//! hash ([`super::snapshot::state_hash`]). `--replay LOG` rebuilds the
//! machine from the header, feeds the events at the same cycles and
//! compares every hash: the first difference bounds where the runs
//! diverged (after the last matching hash, by the first differing one).
//!
//! The inputs logged: keys typed, bytes received on COM1, floppies
//! inserted or ejected (with the image's bytes, so that the log stays the
//! whole run).
//!
//! Inputs are injected between instructions, at the first instruction
//! boundary at or after a cycle; the clock rises by at least one cycle per
//! step, so that boundary is the same in the recording and the replay.
//! A log name ending in `.gz` is compressed.

use super::snapshot::{self, Saveable};
use crate::trace::Output;
use chipset::Machine;
use cpu::Timing;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The log format's version.
pub const LOG_VERSION: u32 = 1;

/// One line of a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Entry {
    /// First line: what runs.
    Header {
        /// [`LOG_VERSION`].
        version: u32,
        /// Machine kind (`xt/fast`, `xt/exact`).
        kind: String,
        /// Cycles between state hashes.
        interval: u64,
        /// The starting machine: snapshot bytes in hex.
        start: String,
    },
    /// Keys typed (text and names such as `<enter>`).
    Keys {
        /// Emulated cycle.
        cycle: u64,
        /// What was typed.
        text: String,
    },
    /// Bytes received on COM1.
    Serial {
        /// Emulated cycle.
        cycle: u64,
        /// The bytes, hex.
        hex: String,
    },
    /// A floppy inserted in (or, without `image`, ejected from) a drive.
    Disk {
        /// Emulated cycle.
        cycle: u64,
        /// Drive number (0 = A:).
        drive: u8,
        /// The image's name (for messages; the bytes are in the log).
        name: String,
        /// The image's bytes, gzip-compressed, in hex; none for an eject.
        image: Option<String>,
    },
    /// The state hash at an instruction boundary.
    Hash {
        /// Emulated cycle.
        cycle: u64,
        /// [`super::snapshot::state_hash`] in hex.
        hash: String,
    },
    /// The recording ended here.
    End {
        /// Emulated cycle.
        cycle: u64,
    },
}

/// The machine-neutral half of a recorder: the log file, its entries and
/// the hash schedule. The XT's [`Recorder`] and the AT's
/// `atreplay::AtRecorder` add what their machines do.
pub(crate) struct LogWriter {
    out: Output,
    path: PathBuf,
    interval: u64,
    next_hash: u64,
}

impl LogWriter {
    /// Open `path` and write the header: a machine of `kind` whose
    /// snapshot is `start`, at cycle `now`, hashed every `interval` cycles.
    pub(crate) fn create(
        path: &Path,
        kind: String,
        start: &[u8],
        now: u64,
        interval: u64,
    ) -> Result<LogWriter, String> {
        let out = Output::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut w = LogWriter {
            out,
            path: path.to_path_buf(),
            interval: interval.max(1),
            next_hash: now,
        };
        w.write(&Entry::Header {
            version: LOG_VERSION,
            kind,
            interval: w.interval,
            start: hex(start),
        })?;
        Ok(w)
    }

    pub(crate) fn write(&mut self, e: &Entry) -> Result<(), String> {
        let line = serde_json::to_string(e).map_err(|e| e.to_string())?;
        writeln!(self.out, "{line}").map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// The cycle at which the next hash is due.
    pub(crate) fn next_hash(&self) -> u64 {
        self.next_hash
    }

    /// At cycle `now`: if a hash is due, write the one `hash` computes and
    /// move the schedule past `now`.
    pub(crate) fn checkpoint(
        &mut self,
        now: u64,
        hash: impl FnOnce() -> Result<u64, String>,
    ) -> Result<(), String> {
        if now >= self.next_hash {
            self.write(&Entry::Hash {
                cycle: now,
                hash: format!("{:016x}", hash()?),
            })?;
            while self.next_hash <= now {
                self.next_hash += self.interval;
            }
        }
        Ok(())
    }

    /// Log a disk change at `now`, with the image (gzip, hex) so that the
    /// log alone replays it.
    pub(crate) fn disk(
        &mut self,
        now: u64,
        drive: u8,
        name: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(), String> {
        let image = match bytes {
            Some(b) => Some(hex(&gzip(b)?)),
            None => None,
        };
        self.write(&Entry::Disk {
            cycle: now,
            drive,
            name: name.to_string(),
            image,
        })
    }

    /// Write the last hash and the end mark, and close the log.
    pub(crate) fn finish(mut self, now: u64, hash: u64) -> Result<(), String> {
        self.write(&Entry::Hash {
            cycle: now,
            hash: format!("{hash:016x}"),
        })?;
        self.write(&Entry::End { cycle: now })?;
        self.out
            .finish()
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// Writes a log while a machine runs.
pub struct Recorder {
    log: LogWriter,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    crate::gdbstub::packet::from_hex(s.as_bytes())
}

/// A machine a log can drive: the XT ([`Machine`]) and the AT and PCI
/// machines ([`chipset::at::AtPc`]) alike, so that recording and replaying
/// are written once.
pub trait Logged: Sized {
    /// The machine kind and the snapshot a log starts from.
    fn start(&self) -> Result<(String, Vec<u8>), String>;
    /// The emulated clock, in the cycles the log counts.
    fn now(&self) -> u64;
    /// Run to the first instruction boundary at or after `cycles` more.
    fn run_for(&mut self, cycles: u64);
    /// Type `text` on the keyboard.
    fn type_keys(&mut self, text: &str) -> Result<(), String>;
    /// Bytes arriving on COM1.
    fn receive_serial(&mut self, bytes: &[u8]);
    /// Insert a floppy image (`bytes`, named `name`) in `drive`, or eject.
    fn insert_disk(&mut self, drive: u8, name: &str, bytes: Option<&[u8]>) -> Result<(), String>;
    /// The canonical state hash.
    fn state_hash(&self) -> Result<u64, String>;
}

impl<T: Saveable> Logged for Machine<T> {
    fn start(&self) -> Result<(String, Vec<u8>), String> {
        Ok((snapshot::kind_of::<T>(), snapshot::encode(self)?))
    }
    fn now(&self) -> u64 {
        self.cycles()
    }
    fn run_for(&mut self, cycles: u64) {
        Machine::run_for(self, cycles);
    }
    fn type_keys(&mut self, text: &str) -> Result<(), String> {
        Machine::type_keys(self, text).map_err(|e| e.to_string())
    }
    fn receive_serial(&mut self, bytes: &[u8]) {
        self.board.uart.receive(bytes);
    }
    fn insert_disk(&mut self, drive: u8, name: &str, bytes: Option<&[u8]>) -> Result<(), String> {
        insert_disk(self, drive, name, bytes)
    }
    fn state_hash(&self) -> Result<u64, String> {
        snapshot::state_hash(self)
    }
}

impl Recorder {
    /// Start a log of `m` as it is now, hashing every `interval` cycles.
    pub fn create<M: Logged>(path: &Path, m: &M, interval: u64) -> Result<Recorder, String> {
        let (kind, start) = m.start().map_err(|e| format!("--record: {e}"))?;
        let log = LogWriter::create(path, kind, &start, m.now(), interval)?;
        Ok(Recorder { log })
    }

    /// The next cycle at which a hash is due: a run should stop at the
    /// first boundary at or after it and call [`Recorder::checkpoint`].
    pub fn next_hash(&self) -> u64 {
        self.log.next_hash()
    }

    /// Write the hash if one is due.
    pub fn checkpoint<M: Logged>(&mut self, m: &M) -> Result<(), String> {
        self.log.checkpoint(m.now(), || m.state_hash())
    }

    /// Type keys now, and log them (only keys the machine took).
    pub fn keys<M: Logged>(&mut self, m: &mut M, text: &str) -> Result<(), String> {
        m.type_keys(text)
            .map_err(|e| format!("typing {text:?}: {e}"))?;
        self.log.write(&Entry::Keys {
            cycle: m.now(),
            text: text.to_string(),
        })
    }

    /// Receive bytes on COM1 now, and log them.
    pub fn serial<M: Logged>(&mut self, m: &mut M, bytes: &[u8]) -> Result<(), String> {
        m.receive_serial(bytes);
        self.log.write(&Entry::Serial {
            cycle: m.now(),
            hex: hex(bytes),
        })
    }

    /// Insert a floppy image (`bytes`, named `name`) in `drive`, or eject
    /// (None), now, and log it with the image so that the log alone
    /// replays it.
    pub fn disk<M: Logged>(
        &mut self,
        m: &mut M,
        drive: u8,
        name: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(), String> {
        m.insert_disk(drive, name, bytes)?;
        self.log.disk(m.now(), drive, name, bytes)
    }

    /// Write the last hash and the end mark, and close the log.
    pub fn finish<M: Logged>(self, m: &M) -> Result<(), String> {
        self.log.finish(m.now(), m.state_hash()?)
    }
}

/// Insert the floppy image `bytes` (named `name` in messages) in drive
/// `drive` (0 = A:), or eject with None: what `--swap` and a log's `disk`
/// entry do. The image stays in memory (guest writes change no file).
pub fn insert_disk<T: Timing>(
    m: &mut Machine<T>,
    drive: u8,
    name: &str,
    bytes: Option<&[u8]>,
) -> Result<(), String> {
    let drives = m.board.fdc.drives.len();
    if drive as usize >= drives {
        return Err(format!(
            "{name}: drive {} does not exist (the machine has {drives} floppy drive{})",
            (b'A' + drive.min(25)) as char,
            if drives == 1 { "" } else { "s" }
        ));
    }
    let image = match bytes {
        Some(b) => Some(
            devices::FloppyImage::from_bytes_padded(Path::new(name), b.to_vec())
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    m.insert_floppy(drive as usize, image);
    Ok(())
}

/// A disk image as the log holds it (hex of its gzip), or None for an
/// eject; errors name the log and the disk.
pub(crate) fn logged_image(
    path: &Path,
    name: &str,
    image: Option<&str>,
) -> Result<Option<Vec<u8>>, String> {
    let Some(h) = image else {
        return Ok(None);
    };
    let gz = unhex(h).ok_or_else(|| format!("{}: disk {name:?}: bad image hex", path.display()))?;
    gunzip(&gz).map(Some).map_err(|e| {
        format!(
            "{}: disk {name:?}: image does not decompress: {e}",
            path.display()
        )
    })
}

pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

pub(crate) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A log read back.
pub struct Log {
    /// Machine kind.
    pub kind: String,
    /// The snapshot to start from.
    pub start: Vec<u8>,
    /// Events, hashes and the end, in order.
    pub entries: Vec<Entry>,
}

/// Read a log (plain or gzip).
pub fn read_log(path: &Path) -> Result<Log, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = if bytes.starts_with(&[0x1F, 0x8B]) {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)
            .map_err(|e| format!("{}: does not decompress: {e}", path.display()))?;
        s
    } else {
        String::from_utf8(bytes).map_err(|_| format!("{}: not a text log", path.display()))?
    };
    let mut lines = text.as_bytes().lines().enumerate();
    let bad = |n: usize, why: String| format!("{}:{}: {why}", path.display(), n + 1);
    let (n, first) = lines
        .next()
        .ok_or_else(|| format!("{}: empty log", path.display()))?;
    let first = first.map_err(|e| bad(n, e.to_string()))?;
    let Ok(Entry::Header {
        version,
        kind,
        start,
        ..
    }) = serde_json::from_str(&first)
    else {
        return Err(bad(n, "not an ironpc record log (no header)".into()));
    };
    if version != LOG_VERSION {
        return Err(bad(
            n,
            format!("log version {version}; this build reads {LOG_VERSION}"),
        ));
    }
    let start = unhex(&start).ok_or_else(|| bad(n, "the start snapshot is not hex".into()))?;
    let mut entries = Vec::new();
    for (n, line) in lines {
        let line = line.map_err(|e| bad(n, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: Entry = serde_json::from_str(&line).map_err(|e| bad(n, e.to_string()))?;
        entries.push(e);
    }
    Ok(Log {
        kind,
        start,
        entries,
    })
}

/// How a replay went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every hash matched (how many).
    Matched(usize),
    /// The state differed: the last cycle whose hash matched (or the
    /// start) and the first cycle whose hash did not.
    Diverged {
        /// Last matching hash's cycle (the start's when none matched).
        last_good: u64,
        /// First differing hash's cycle.
        first_bad: u64,
        /// Hashes that matched before.
        matched: usize,
    },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.describe(f, super::CPU_HZ)
    }
}

impl Outcome {
    /// The report, with cycles of a `hz` CPU clock turned into seconds.
    pub fn describe(&self, f: &mut dyn std::fmt::Write, hz: f64) -> std::fmt::Result {
        let s = |c: u64| c as f64 / hz;
        match self {
            Outcome::Matched(n) => write!(f, "replay matched the recording: {n} state hashes equal"),
            Outcome::Diverged {
                last_good,
                first_bad,
                matched,
            } => write!(
                f,
                "replay diverged after {matched} matching state hashes: the state was equal at cycle {last_good} ({:.6} s) and differs at cycle {first_bad} ({:.6} s)",
                s(*last_good),
                s(*first_bad)
            ),
        }
    }
}

impl Outcome {
    /// [`Outcome::describe`] as a string.
    pub fn report(&self, hz: f64) -> String {
        let mut s = String::new();
        let _ = self.describe(&mut s, hz);
        s
    }
}

/// Replay a log on a machine built from its start snapshot.
pub fn replay<T: Saveable>(log: &Log, path: &Path) -> Result<(Machine<T>, Outcome), String> {
    let m: Machine<T> = snapshot::decode(&log.start, path).map_err(|e| e.to_string())?;
    replay_on(m, log, path)
}

/// Feed a log's entries to `m` (built from its start snapshot) at their
/// cycles and compare its hashes. Errors for a log that cannot be
/// replayed (an entry that does not decode); a run that differs is an
/// [`Outcome::Diverged`].
pub fn replay_on<M: Logged>(mut m: M, log: &Log, path: &Path) -> Result<(M, Outcome), String> {
    let mut last_good = m.now();
    let mut matched = 0;
    for e in &log.entries {
        let cycle = match e {
            Entry::Keys { cycle, .. }
            | Entry::Serial { cycle, .. }
            | Entry::Disk { cycle, .. }
            | Entry::Hash { cycle, .. }
            | Entry::End { cycle } => *cycle,
            Entry::Header { .. } => return Err(format!("{}: a second header", path.display())),
        };
        let now = m.now();
        if cycle > now {
            m.run_for(cycle - now);
        }
        let diverged = Outcome::Diverged {
            last_good,
            first_bad: cycle,
            matched,
        };
        if m.now() != cycle {
            // The recorded boundary does not exist in this run.
            return Ok((m, diverged));
        }
        match e {
            Entry::Keys { text, .. } => m
                .type_keys(text)
                .map_err(|e| format!("{}: keys {text:?}: {e}", path.display()))?,
            Entry::Serial { hex, .. } => {
                let b = unhex(hex).ok_or_else(|| format!("{}: bad serial hex", path.display()))?;
                m.receive_serial(&b);
            }
            Entry::Disk {
                drive, name, image, ..
            } => {
                let bytes = logged_image(path, name, image.as_deref())?;
                m.insert_disk(*drive, name, bytes.as_deref())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Entry::Hash { hash, .. } => {
                if &format!("{:016x}", m.state_hash()?) != hash {
                    return Ok((m, diverged));
                }
                matched += 1;
                last_good = cycle;
            }
            _ => {}
        }
    }
    Ok((m, Outcome::Matched(matched)))
}
