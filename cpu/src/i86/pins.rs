//! What the pins of the 8086/8088 and the 80286 show, clock by clock: the
//! records both exact bus models produce ([`CycleRecord`]), and the pieces of
//! a bus cycle they share (the view of a cycle in progress, the data lanes of
//! a write). The narrow interface between the two bus models: `biu286.rs`
//! uses this, not `biu.rs`'s internals.

use super::timing::Transfer;
use crate::bus::Bus;
use crate::regs::Seg;

/// T-state of one clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TState {
    /// Idle.
    Ti,
    /// Address phase.
    T1,
    /// Status/strobe phase.
    T2,
    /// Data phase.
    T3,
    /// End of the cycle.
    T4,
}

/// What the queue status pins report for a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum QueueOp {
    /// Nothing taken.
    None,
    /// First byte of an instruction (or a prefix) taken.
    First,
    /// A later byte of the instruction taken.
    Subsequent,
    /// The queue was emptied.
    Flush,
}

/// One clock as the pins show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycleRecord {
    /// T-state.
    pub t: TState,
    /// The transfer of the bus cycle in progress (`None` when idle).
    pub transfer: Option<Transfer>,
    /// Address latched at T1 (physical address or port).
    pub address: u32,
    /// Segment register the cycle's address came from (status S3/S4).
    pub seg: Seg,
    /// BHE# pin: false (active) when the high data byte is transferred.
    pub bhe_high: bool,
    /// Data bus in the data phase.
    pub data: u16,
    /// Queue status.
    pub queue: QueueOp,
    /// Byte taken from the queue when [`CycleRecord::queue`] is not `None`.
    pub queue_byte: u8,
}

impl CycleRecord {
    /// The pins in a clock of T-state `t` with bus cycle `x` in progress;
    /// the address latch (`latched`) takes the cycle's address in T1.
    pub(crate) fn of(
        t: TState,
        x: Option<BusView>,
        latched: &mut u32,
        (queue, queue_byte): (QueueOp, u8),
    ) -> CycleRecord {
        if t == TState::T1 {
            *latched = x.map_or(0, |x| x.addr);
        }
        CycleRecord {
            t,
            transfer: if t == TState::Ti {
                None
            } else {
                x.map(|x| x.kind)
            },
            address: *latched,
            seg: x.map_or(Seg::CS, |x| x.seg),
            bhe_high: x.is_none_or(|x| !x.high_lane),
            data: x.map_or(0, |x| x.data),
            queue,
            queue_byte,
        }
    }
}

/// What a bus cycle in progress shows on the pins, for [`CycleRecord::of`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct BusView {
    pub(crate) kind: Transfer,
    pub(crate) addr: u32,
    pub(crate) seg: Seg,
    /// The high byte of the data bus carries data (BHE# active).
    pub(crate) high_lane: bool,
    pub(crate) data: u16,
}

/// The data phase of a write cycle: a word (`width` 2), or one byte on the
/// high lane of the data bus (`high`: odd address on a 16-bit bus) or the
/// low one. `mask` wraps the word's second byte at the top of memory.
pub(crate) fn write_lanes<B: Bus>(
    bus: &mut B,
    kind: Transfer,
    addr: u32,
    width: u8,
    high: bool,
    v: u16,
    mask: u32,
) {
    let byte = if high { (v >> 8) as u8 } else { v as u8 };
    match (kind, width) {
        (Transfer::IoWrite, 2) => bus.io_write16(addr as u16, v),
        (Transfer::IoWrite, _) => bus.io_write(addr as u16, byte),
        (_, 2) => {
            bus.write(addr, v as u8);
            bus.write((addr + 1) & mask, (v >> 8) as u8);
        }
        _ => bus.write(addr, byte),
    }
}
