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
use super::replay::{replay_on, Log, Logged, Outcome, Recorder};
use chipset::at::AtPc;
use std::path::Path;

/// Writes a log while an AT or PCI machine runs (the one recorder, over
/// [`Logged`]).
pub type AtRecorder = Recorder;

impl Logged for AtPc {
    fn start(&self) -> Result<(String, Vec<u8>), String> {
        Ok((atsnap::kind_of(self).to_string(), atsnap::encode(self)?))
    }
    fn now(&self) -> u64 {
        self.run.now()
    }
    fn run_for(&mut self, cycles: u64) {
        self.run.run_for(cycles);
    }
    fn type_keys(&mut self, text: &str) -> Result<(), String> {
        self.run.board.type_keys(text).map_err(|e| e.to_string())
    }
    fn receive_serial(&mut self, bytes: &[u8]) {
        receive_serial(self, bytes);
    }
    fn insert_disk(&mut self, drive: u8, name: &str, bytes: Option<&[u8]>) -> Result<(), String> {
        insert_disk(self, drive, name, bytes)
    }
    fn state_hash(&self) -> Result<u64, String> {
        atsnap::state_hash(self)
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
    let pc = atsnap::decode(&log.start, path).map_err(|e| e.to_string())?;
    replay_on(pc, log, path)
}
