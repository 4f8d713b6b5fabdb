//! The AT board's deadline set: each source of timed work (the PIT, the
//! RTC, the keyboard controller, attached devices) has at most one pending
//! deadline in CPU cycles. Sources are an enum that grows as devices are
//! added; the set is small (a dozen entries), so a vector kept sorted by
//! deadline is both simple and quick.

use serde::{Deserialize, Serialize};

/// A source of timed work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AtEvent {
    /// The 8254 timer's next output change.
    Pit,
    /// The RTC's next enabled interrupt (periodic, update or alarm).
    Rtc,
    /// The keyboard controller's next byte from a device.
    Keyboard,
    /// The floppy controller's next step.
    Floppy,
    /// An attached I/O device (by its index in the board's device list).
    Device(u16),
}

/// Pending deadlines, earliest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    entries: Vec<(u64, AtEvent)>,
}

impl Deadlines {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set (`Some`) or cancel (`None`) the deadline of `ev`.
    pub fn set(&mut self, ev: AtEvent, at: Option<u64>) {
        if let Some(i) = self.entries.iter().position(|&(_, e)| e == ev) {
            self.entries.remove(i);
        }
        if let Some(at) = at {
            let i = self.entries.partition_point(|&(t, _)| t <= at);
            self.entries.insert(i, (at, ev));
        }
    }

    /// The deadline of `ev`, if set.
    pub fn get(&self, ev: AtEvent) -> Option<u64> {
        self.entries
            .iter()
            .find(|&&(_, e)| e == ev)
            .map(|&(t, _)| t)
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.entries.first().map(|&(t, _)| t)
    }

    /// Remove and return an event due at or before `now` (earliest first).
    pub fn pop_due(&mut self, now: u64) -> Option<AtEvent> {
        match self.entries.first() {
            Some(&(t, ev)) if t <= now => {
                self.entries.remove(0);
                Some(ev)
            }
            _ => None,
        }
    }

    /// Number of pending deadlines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No deadline is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_replace() {
        let mut d = Deadlines::new();
        d.set(AtEvent::Rtc, Some(500));
        d.set(AtEvent::Pit, Some(100));
        d.set(AtEvent::Device(3), Some(300));
        assert_eq!(d.next_deadline(), Some(100));
        // Moving the PIT later reorders it; one entry per source.
        d.set(AtEvent::Pit, Some(400));
        assert_eq!(d.len(), 3);
        assert_eq!(d.pop_due(350), Some(AtEvent::Device(3)));
        assert_eq!(d.pop_due(350), None);
        d.set(AtEvent::Rtc, None);
        assert_eq!(d.pop_due(1000), Some(AtEvent::Pit));
        assert!(d.is_empty());
    }
}
