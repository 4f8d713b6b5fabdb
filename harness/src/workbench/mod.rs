//! The research workbench: what the gdb stub, the tracer and snapshots
//! share — a view of the bus a timing model can give while an instruction
//! runs.

use cpu::{CycleRecord, ExactTiming, FastTiming, Transfer};

pub mod atreplay;
pub mod atsnap;
pub mod replay;
pub mod shard;
pub mod snapshot;
pub mod trace32;

/// One data transfer an instruction made (instruction fetches excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Physical address (or port for I/O).
    pub address: u32,
    /// Bytes moved: 1 or 2.
    pub width: u8,
    /// True for a write.
    pub write: bool,
    /// True for an I/O transfer.
    pub io: bool,
}

/// A timing model that can (or cannot) show the bus cycles of the
/// instructions it times. Only the cycle-exact model sees its bus; the fast
/// model charges per instruction and has nothing to show.
pub trait BusProbe: snapshot::Saveable {
    /// True if [`BusProbe::start`] records anything.
    const SEES_BUS: bool;
    /// Start (or restart, clearing it) the record of bus cycles.
    fn start(&mut self);
    /// Stop recording.
    fn stop(&mut self);
    /// The clocks recorded since [`BusProbe::start`].
    fn clocks(&self) -> &[CycleRecord];
    /// The data transfers recorded since [`BusProbe::start`]: one per bus
    /// cycle (its T1..T4), code fetches left out.
    fn accesses(&self) -> Vec<Access> {
        let mut out = Vec::new();
        for r in self.clocks() {
            // A transfer is counted once, in its data phase (T3).
            if r.t != cpu::TState::T3 {
                continue;
            }
            let (write, io) = match r.transfer {
                Some(Transfer::MemRead) => (false, false),
                Some(Transfer::MemWrite) => (true, false),
                Some(Transfer::IoRead) => (false, true),
                Some(Transfer::IoWrite) => (true, true),
                _ => continue,
            };
            // BHE# low and A0 low: a word on the 16-bit bus.
            let width = if !r.bhe_high && r.address & 1 == 0 {
                2
            } else {
                1
            };
            out.push(Access {
                address: r.address,
                width,
                write,
                io,
            });
        }
        out
    }
}

impl BusProbe for ExactTiming {
    const SEES_BUS: bool = true;
    fn start(&mut self) {
        self.record(true);
    }
    fn stop(&mut self) {
        self.record(false);
    }
    fn clocks(&self) -> &[CycleRecord] {
        self.log()
    }
}

impl BusProbe for FastTiming {
    const SEES_BUS: bool = false;
    fn start(&mut self) {}
    fn stop(&mut self) {}
    fn clocks(&self) -> &[CycleRecord] {
        &[]
    }
}

/// The XT's CPU clock in Hz, for converting emulated seconds.
pub const CPU_HZ: f64 = 4_772_727.0;
