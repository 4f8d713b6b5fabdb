//! Record and replay on the AT and PCI machines: the XT's log format
//! ([`super::replay`]: a JSON line per entry, the header holding the
//! starting machine as a snapshot) with an AT snapshot ([`super::atsnap`])
//! in the header and the AT's inputs: keys typed on the PS/2 keyboard,
//! bytes received on COM1, floppies inserted or ejected. Cycles are the
//! board's time ([`chipset::at::AtRun::now`]) at the instruction boundary
//! where the input arrived; every `interval` cycles the log holds the
//! state hash of [`super::atsnap::state_hash`].
//!
//! A replay runs to each entry's cycle with `AtRun::run_for`, which stops
//! at the first instruction boundary at or after it: the machine runs in
//! slices that end where the recording's did not, but a slice gives the
//! same boundaries as stepping one instruction at a time (the AT runner's
//! contract, `chipset/tests/at_slices.rs`), so the recorded boundary is
//! reached exactly, or the run has diverged.

use super::atsnap;
use super::replay::{hex, logged_image, unhex, Entry, Log, LogWriter, Outcome};
use chipset::at::AtPc;
use std::path::Path;

/// Writes a log while an AT or PCI machine runs.
pub struct AtRecorder {
    log: LogWriter,
}

impl AtRecorder {
    /// Start a log of `pc` as it is now, hashing every `interval` cycles.
    pub fn create(path: &Path, pc: &AtPc, interval: u64) -> Result<AtRecorder, String> {
        let start = atsnap::encode(pc).map_err(|e| format!("--record: {e}"))?;
        let kind = atsnap::kind_of(pc).to_string();
        let log = LogWriter::create(path, kind, &start, pc.run.now(), interval)?;
        Ok(AtRecorder { log })
    }

    /// The cycle at which the next hash is due: a run should stop at the
    /// first boundary at or after it and call [`AtRecorder::checkpoint`].
    pub fn next_hash(&self) -> u64 {
        self.log.next_hash()
    }

    /// Write the hash if one is due.
    pub fn checkpoint(&mut self, pc: &AtPc) -> Result<(), String> {
        self.log.checkpoint(pc.run.now(), || atsnap::state_hash(pc))
    }

    /// Type keys now, and log them.
    pub fn keys(&mut self, pc: &mut AtPc, text: &str) -> Result<(), String> {
        pc.run
            .board
            .type_keys(text)
            .map_err(|e| format!("typing {text:?}: {e}"))?;
        self.log.write(&Entry::Keys {
            cycle: pc.run.now(),
            text: text.to_string(),
        })
    }

    /// Receive bytes on COM1 now, and log them.
    pub fn serial(&mut self, pc: &mut AtPc, bytes: &[u8]) -> Result<(), String> {
        receive_serial(pc, bytes);
        self.log.write(&Entry::Serial {
            cycle: pc.run.now(),
            hex: hex(bytes),
        })
    }

    /// Insert the floppy image `bytes` (named `name`) in `drive`, or eject
    /// (None), now, and log it with the image so that the log alone
    /// replays it.
    pub fn disk(
        &mut self,
        pc: &mut AtPc,
        drive: u8,
        name: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(), String> {
        insert_disk(pc, drive, name, bytes)?;
        self.log.disk(pc.run.now(), drive, name, bytes)
    }

    /// Write the last hash and the end mark, and close the log.
    pub fn finish(self, pc: &AtPc) -> Result<(), String> {
        self.log.finish(pc.run.now(), atsnap::state_hash(pc)?)
    }
}

/// Bytes arriving on COM1 (the UART's deadline is taken again, so that a
/// guest halted waiting for them sees them).
pub fn receive_serial(pc: &mut AtPc, bytes: &[u8]) {
    pc.com[0].borrow_mut().receive(bytes);
    pc.run.board.refresh_device_deadlines();
}

/// Insert the floppy image `bytes` (named `name` in messages) in drive
/// `drive` (0 = A:), or eject with None. The image stays in memory.
pub fn insert_disk(
    pc: &mut AtPc,
    drive: u8,
    name: &str,
    bytes: Option<&[u8]>,
) -> Result<(), String> {
    let drives = pc.run.board.fdc.drives.len();
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
    pc.run.board.insert_floppy(drive as usize, image);
    Ok(())
}

/// Replay a log of an AT or PCI machine on a PC built from its start
/// snapshot. Errors for a log that cannot be replayed (a bad start
/// snapshot, an entry that does not decode); a run that differs is an
/// [`Outcome::Diverged`].
pub fn replay(log: &Log, path: &Path) -> Result<(AtPc, Outcome), String> {
    if !atsnap::is_at_kind(&log.kind) {
        return Err(format!(
            "{}: a log of machine kind '{}', not an AT or PCI machine",
            path.display(),
            log.kind
        ));
    }
    let mut pc = atsnap::decode(&log.start, path).map_err(|e| e.to_string())?;
    let mut last_good = pc.run.now();
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
        let now = pc.run.now();
        if cycle > now {
            pc.run.run_for(cycle - now);
        }
        if pc.run.now() != cycle {
            // The recorded boundary does not exist in this run.
            return Ok((
                pc,
                Outcome::Diverged {
                    last_good,
                    first_bad: cycle,
                    matched,
                },
            ));
        }
        match e {
            Entry::Keys { text, .. } => pc
                .run
                .board
                .type_keys(text)
                .map_err(|e| format!("{}: keys {text:?}: {e}", path.display()))?,
            Entry::Serial { hex, .. } => {
                let b = unhex(hex).ok_or_else(|| format!("{}: bad serial hex", path.display()))?;
                receive_serial(&mut pc, &b);
            }
            Entry::Disk {
                drive, name, image, ..
            } => {
                let bytes = logged_image(path, name, image.as_deref())?;
                insert_disk(&mut pc, *drive, name, bytes.as_deref())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Entry::Hash { hash, .. } => {
                let h = format!("{:016x}", atsnap::state_hash(&pc)?);
                if &h != hash {
                    return Ok((
                        pc,
                        Outcome::Diverged {
                            last_good,
                            first_bad: cycle,
                            matched,
                        },
                    ));
                }
                matched += 1;
                last_good = cycle;
            }
            _ => {}
        }
    }
    Ok((pc, Outcome::Matched(matched)))
}
