//! The machine clock and event scheduler.
//!
//! Time is counted in CPU clock cycles of the 4.77 MHz 8088 (14.31818 MHz
//! crystal divided by three). The PIT is clocked at exactly a quarter of
//! that (1.193182 MHz), so PIT ticks are derived from the cycle count with
//! no drift. Devices that need time at a particular moment (keyboard bytes,
//! floppy interrupts) register a deadline for their [`Event`] slot.

use serde::{Deserialize, Serialize};

/// CPU clock of the PC/XT in Hz (14.31818 MHz / 3).
pub const CPU_HZ: f64 = 14_318_180.0 / 3.0;
/// CPU cycles per PIT input clock.
pub const CYCLES_PER_PIT_TICK: u64 = 4;

/// Things that can be scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The keyboard has a byte to deliver.
    Keyboard = 0,
    /// The floppy controller raises an interrupt.
    Floppy = 1,
}

const EVENTS: usize = 2;
const ALL: [Event; EVENTS] = [Event::Keyboard, Event::Floppy];

/// Clock and per-event deadlines.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Scheduler {
    /// Current time, CPU cycles since power-on.
    pub now: u64,
    /// PIT input clocks delivered so far.
    pub pit_ticks: u64,
    deadlines: [Option<u64>; EVENTS],
    /// Cached earliest deadline.
    next: Option<u64>,
}

impl Scheduler {
    /// A clock at time zero with nothing scheduled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set (or with `None`, cancel) the deadline of `ev`.
    pub fn set(&mut self, ev: Event, at: Option<u64>) {
        self.deadlines[ev as usize] = at;
        self.next = self.deadlines.iter().flatten().min().copied();
    }

    /// Earliest pending deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.next
    }

    /// Take one event due at the current time, earliest first.
    pub fn pop_due(&mut self) -> Option<Event> {
        match self.next {
            Some(t) if t <= self.now => {}
            _ => return None,
        }
        let (ev, _) = ALL
            .iter()
            .filter_map(|&e| self.deadlines[e as usize].map(|t| (e, t)))
            .filter(|&(_, t)| t <= self.now)
            .min_by_key(|&(_, t)| t)?;
        self.set(ev, None);
        Some(ev)
    }

    /// Advance the clock by `cycles`; returns how many PIT clocks elapsed.
    pub fn advance(&mut self, cycles: u64) -> u64 {
        self.now += cycles;
        let target = self.now / CYCLES_PER_PIT_TICK;
        let n = target - self.pit_ticks;
        self.pit_ticks = target;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pit_ticks_are_a_quarter_of_cpu_cycles() {
        let mut s = Scheduler::new();
        assert_eq!(s.advance(3), 0);
        assert_eq!(s.advance(1), 1);
        assert_eq!(s.advance(10), 2);
        assert_eq!(s.advance(2), 1);
        assert_eq!(s.pit_ticks, 4);
        // One second of CPU time is 1,193,182 PIT clocks (within rounding).
        let mut s = Scheduler::new();
        let n = s.advance(CPU_HZ as u64);
        assert!((1_193_181..=1_193_182).contains(&n));
    }

    #[test]
    fn events_fire_in_deadline_order() {
        let mut s = Scheduler::new();
        s.set(Event::Floppy, Some(100));
        s.set(Event::Keyboard, Some(50));
        assert_eq!(s.next_deadline(), Some(50));
        assert_eq!(s.pop_due(), None);
        s.advance(200);
        assert_eq!(s.pop_due(), Some(Event::Keyboard));
        assert_eq!(s.pop_due(), Some(Event::Floppy));
        assert_eq!(s.pop_due(), None);
        assert_eq!(s.next_deadline(), None);
        s.set(Event::Floppy, Some(300));
        s.set(Event::Floppy, None);
        assert_eq!(s.next_deadline(), None);
    }
}
