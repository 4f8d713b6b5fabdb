//! The machine clock and event scheduler.
//!
//! Time is counted in CPU clock cycles. The PIT's input clock (1.193182 MHz,
//! the 14.31818 MHz crystal divided by 12) is derived from the cycle count
//! with an exact integer ratio, so it never drifts: on the PC/XT, whose
//! 4.77 MHz 8088 runs from the same crystal divided by three, that is one PIT
//! clock every four CPU cycles; a board with another CPU clock gives its own
//! ratio ([`Scheduler::with_clock`]).
//!
//! Devices that need time at a particular moment (keyboard bytes, floppy
//! interrupts, and whatever a board adds: [`Event::Device`]) register a
//! deadline for their event; any number of events can be pending. A device
//! says when it next needs time through [`Timed`]; a machine runs the CPU
//! up to the earliest deadline without looking at the devices in between.

use serde::{Deserialize, Serialize};

/// CPU clock of the PC/XT in Hz (14.31818 MHz / 3).
pub const CPU_HZ: f64 = 14_318_180.0 / 3.0;
/// CPU cycles per PIT input clock on the PC/XT.
pub const CYCLES_PER_PIT_TICK: u64 = 4;

/// Things that can be scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// The keyboard has a byte to deliver.
    Keyboard,
    /// The floppy controller raises an interrupt.
    Floppy,
    /// Any other device of a board, by a number the board chooses.
    Device(u16),
}

/// A device that needs time at moments of its own choosing: it says when
/// (in CPU cycles since power-on) and is given the time then.
pub trait Timed {
    /// When the device next needs [`Timed::tick`], if ever.
    fn next_event(&self) -> Option<u64>;
    /// Let the device catch up with time `now`.
    fn tick(&mut self, now: u64);
}

/// Clock and pending event deadlines.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scheduler {
    /// Current time, CPU cycles since power-on.
    pub now: u64,
    /// PIT input clocks delivered so far.
    pub pit_ticks: u64,
    /// CPU clock in Hz.
    #[serde(default = "xt_hz")]
    pub cpu_hz: u64,
    /// PIT clocks per CPU cycle as a ratio: `pit_num` PIT clocks every
    /// `pit_den` CPU cycles.
    #[serde(default = "one")]
    pit_num: u64,
    #[serde(default = "four")]
    pit_den: u64,
    /// Pending events and their deadlines (a handful at most).
    #[serde(default)]
    pending: Vec<(Event, u64)>,
    /// Cached earliest deadline.
    next: Option<u64>,
}

fn xt_hz() -> u64 {
    4_772_727
}
fn one() -> u64 {
    1
}
fn four() -> u64 {
    4
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// The PC/XT's clock (4.77 MHz, a PIT clock every four cycles) at time
    /// zero with nothing scheduled.
    pub fn new() -> Self {
        Scheduler {
            now: 0,
            pit_ticks: 0,
            cpu_hz: xt_hz(),
            pit_num: 1,
            pit_den: CYCLES_PER_PIT_TICK,
            pending: Vec::new(),
            next: None,
        }
    }

    /// A clock for a CPU of `cpu_hz` whose PIT gets `pit_num` input clocks
    /// every `pit_den` CPU cycles (the XT: 4_772_727, 1, 4; a 6 MHz AT from
    /// a 12 MHz crystal against the PIT's 14.31818 MHz / 12: 6_000_000,
    /// 1_193_182, 6_000_000). `pit_den` of 0 counts as 1.
    pub fn with_clock(cpu_hz: u64, pit_num: u64, pit_den: u64) -> Self {
        Scheduler {
            cpu_hz,
            pit_num,
            pit_den: pit_den.max(1),
            ..Self::new()
        }
    }

    /// Set (or with `None`, cancel) the deadline of `ev`.
    pub fn set(&mut self, ev: Event, at: Option<u64>) {
        self.pending.retain(|&(e, _)| e != ev);
        if let Some(t) = at {
            self.pending.push((ev, t));
        }
        self.next = self.pending.iter().map(|&(_, t)| t).min();
    }

    /// The deadline of `ev`, if it has one.
    pub fn deadline(&self, ev: Event) -> Option<u64> {
        self.pending
            .iter()
            .find(|&&(e, _)| e == ev)
            .map(|&(_, t)| t)
    }

    /// Earliest pending deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.next
    }

    /// Take one event due at the current time, earliest first (ties in the
    /// order they were set).
    pub fn pop_due(&mut self) -> Option<Event> {
        match self.next {
            Some(t) if t <= self.now => {}
            _ => return None,
        }
        let (i, _) = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, &(_, t))| t <= self.now)
            .min_by_key(|(i, &(_, t))| (t, *i))?;
        let (ev, _) = self.pending.remove(i);
        self.next = self.pending.iter().map(|&(_, t)| t).min();
        Some(ev)
    }

    /// PIT clocks delivered by CPU time `t`.
    fn pit_ticks_at(&self, t: u64) -> u64 {
        if self.pit_num == 1 {
            return t / self.pit_den;
        }
        (t as u128 * self.pit_num as u128 / self.pit_den as u128) as u64
    }

    /// The CPU time at which PIT clock number `tick` (counting from 1) is
    /// delivered: the first time `t` with `tick` clocks delivered by it.
    pub fn time_of_pit_tick(&self, tick: u64) -> u64 {
        let t = (tick as u128 * self.pit_den as u128).div_ceil(self.pit_num.max(1) as u128);
        t.min(u64::MAX as u128) as u64
    }

    /// At most how many PIT clocks are delivered in any `span` CPU cycles.
    pub fn max_pit_ticks_in(&self, span: u64) -> u64 {
        self.pit_ticks_at(span) + 1
    }

    /// Advance the clock by `cycles`; returns how many PIT clocks elapsed.
    pub fn advance(&mut self, cycles: u64) -> u64 {
        self.now = self.now.saturating_add(cycles);
        let target = self.pit_ticks_at(self.now);
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
        assert_eq!(s.time_of_pit_tick(5), 20);
        // One second of CPU time is 1,193,182 PIT clocks (within rounding).
        let mut s = Scheduler::new();
        let n = s.advance(CPU_HZ as u64);
        assert!((1_193_181..=1_193_182).contains(&n));
    }

    /// A 6 MHz AT: 1,193,182 PIT clocks in 6,000,000 CPU cycles exactly,
    /// however the second is split, and each tick's time is the first
    /// cycle that has delivered it.
    #[test]
    fn another_clock_ratio_does_not_drift() {
        let mut s = Scheduler::with_clock(6_000_000, 1_193_182, 6_000_000);
        let mut total = 0;
        for _ in 0..6_000 {
            total += s.advance(999);
        }
        total += s.advance(6_000);
        assert_eq!(total, 1_193_182);
        for tick in [1u64, 2, 5, 1_193_182] {
            let t = s.time_of_pit_tick(tick);
            assert!(t as u128 * 1_193_182 / 6_000_000 >= tick as u128);
            assert!((t as u128 - 1) * 1_193_182 / 6_000_000 < tick as u128);
        }
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

    /// Boards add events of their own; setting one again moves it.
    #[test]
    fn device_events_can_be_added() {
        let mut s = Scheduler::new();
        for i in 0..10u16 {
            s.set(Event::Device(i), Some(1000 - i as u64 * 10));
        }
        s.set(Event::Device(3), Some(5));
        assert_eq!(s.deadline(Event::Device(3)), Some(5));
        assert_eq!(s.next_deadline(), Some(5));
        s.advance(1000);
        let order: Vec<Event> = std::iter::from_fn(|| s.pop_due()).collect();
        let want: Vec<Event> = [3u16, 9, 8, 7, 6, 5, 4, 2, 1, 0]
            .iter()
            .map(|&i| Event::Device(i))
            .collect();
        assert_eq!(order, want);
    }
}
