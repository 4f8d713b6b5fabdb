//! Intel 8253/8254 programmable interval timer: three 16-bit down counters
//! clocked at 1.193182 MHz (the CPU clock divided by four on the PC).
//!
//! Counters are stepped one input clock at a time ([`Pit::clock`]); each
//! step reports the output levels so the board can pass edges to the PIC.
//! Runs of clocks in which the counters only count down
//! ([`Pit::quiet_clocks`]) can be passed in one step ([`Pit::count_down`]):
//! the board clocks one by one only where a counter loads or an output
//! moves.

use serde::{Deserialize, Serialize};

/// What a clock of mode 2 or 3 does after the shared start ([`Counter::periodic_step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Periodic {
    /// Gate low or not counting: nothing.
    Idle,
    /// The counter was (re)loaded this clock.
    Loaded,
    /// The counter counts this clock.
    Count,
}

/// One counter.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Counter {
    /// Mode 0–5.
    pub mode: u8,
    /// BCD counting.
    pub bcd: bool,
    /// Read/write format: 1 = LSB, 2 = MSB, 3 = LSB then MSB.
    pub rw: u8,
    /// Count register (the value last written).
    pub reload: u16,
    /// Counting element, in input clocks (1..=65536 while counting; BCD counts are converted).
    ce: u32,
    /// Output level.
    pub out: bool,
    /// Gate input.
    pub gate: bool,
    /// A new count was written and not yet loaded (status NULL COUNT).
    pub null_count: bool,
    /// The counting element holds a valid count.
    counting: bool,
    /// Load the count register at the next clock.
    load_next: bool,
    /// A gate rising edge is waiting for the next clock (modes 1, 2, 3, 5).
    triggered: bool,
    write_msb_next: bool,
    write_lsb: u8,
    read_msb_next: bool,
    latch: Option<u16>,
    latch_msb_next: bool,
    status_latch: Option<u8>,
    control: u8,
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            mode: 0,
            bcd: false,
            rw: 3,
            reload: 0,
            ce: 0,
            out: false,
            gate: true,
            null_count: true,
            counting: false,
            load_next: false,
            triggered: false,
            write_msb_next: false,
            write_lsb: 0,
            read_msb_next: false,
            latch: None,
            latch_msb_next: false,
            status_latch: None,
            control: 0,
        }
    }
}

fn bcd_to_bin(v: u16) -> u32 {
    let d = |s: u32| ((v as u32) >> s) & 0xF;
    d(12) * 1000 + d(8) * 100 + d(4) * 10 + d(0)
}

fn bin_to_bcd(v: u32) -> u16 {
    let v = v % 10000;
    ((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10)) as u16
}

impl Counter {
    /// Initial count in clocks: 0 means the maximum (65536, or 10000 in BCD).
    fn initial(&self) -> u32 {
        let n = if self.bcd {
            bcd_to_bin(self.reload)
        } else {
            self.reload as u32
        };
        if n == 0 {
            if self.bcd {
                10000
            } else {
                65536
            }
        } else {
            n
        }
    }

    fn modulus(&self) -> u32 {
        if self.bcd {
            10000
        } else {
            65536
        }
    }

    /// The value a read returns for the counting element.
    pub fn count(&self) -> u16 {
        let v = self.ce % self.modulus();
        if self.bcd {
            bin_to_bcd(v)
        } else {
            v as u16
        }
    }

    fn write_control(&mut self, v: u8) {
        self.control = v & 0x3F;
        self.rw = (v >> 4) & 3;
        self.mode = match (v >> 1) & 7 {
            6 => 2,
            7 => 3,
            m => m,
        };
        self.bcd = v & 1 != 0;
        self.write_msb_next = false;
        self.read_msb_next = false;
        self.latch = None;
        self.status_latch = None;
        self.counting = false;
        self.load_next = false;
        self.triggered = false;
        self.null_count = true;
        // Mode 0 starts with the output low; every other mode high.
        self.out = self.mode != 0;
    }

    fn write_count(&mut self, v: u8) {
        match self.rw {
            1 => self.reload = v as u16,
            2 => self.reload = (v as u16) << 8,
            _ => {
                if !self.write_msb_next {
                    self.write_lsb = v;
                    self.write_msb_next = true;
                    if self.mode == 0 {
                        // Writing the first byte stops a mode 0 count.
                        self.counting = false;
                        self.load_next = false;
                    }
                    return;
                }
                self.write_msb_next = false;
                self.reload = self.write_lsb as u16 | ((v as u16) << 8);
            }
        }
        self.count_written();
    }

    fn count_written(&mut self) {
        self.null_count = true;
        match self.mode {
            0 => {
                self.out = false;
                self.counting = false;
                self.load_next = true;
            }
            4 => self.load_next = true,
            // Periodic modes load at once if not yet counting, else at the
            // end of the current period.
            2 | 3 if !self.counting => self.load_next = true,
            // Hardware-triggered modes wait for a gate edge.
            _ => {}
        }
    }

    fn read(&mut self) -> u8 {
        if let Some(s) = self.status_latch.take() {
            return s;
        }
        if let Some(l) = self.latch {
            let (v, done) = match self.rw {
                1 => (l as u8, true),
                2 => ((l >> 8) as u8, true),
                _ => {
                    if self.latch_msb_next {
                        ((l >> 8) as u8, true)
                    } else {
                        (l as u8, false)
                    }
                }
            };
            if done {
                self.latch = None;
                self.latch_msb_next = false;
            } else {
                self.latch_msb_next = true;
            }
            return v;
        }
        let c = self.count();
        match self.rw {
            1 => c as u8,
            2 => (c >> 8) as u8,
            _ => {
                self.read_msb_next = !self.read_msb_next;
                if self.read_msb_next {
                    c as u8
                } else {
                    (c >> 8) as u8
                }
            }
        }
    }

    fn latch_count(&mut self) {
        if self.latch.is_none() {
            self.latch = Some(self.count());
            self.latch_msb_next = false;
        }
    }

    fn latch_status(&mut self) {
        if self.status_latch.is_none() {
            self.status_latch = Some(
                (if self.out { 0x80 } else { 0 })
                    | (if self.null_count { 0x40 } else { 0 })
                    | self.control,
            );
        }
    }

    /// Set the gate input.
    pub fn set_gate(&mut self, level: bool) {
        if level && !self.gate {
            self.triggered = true;
        }
        if !level && matches!(self.mode, 2 | 3) {
            // Gate low forces the output high at once and stops counting.
            self.out = true;
        }
        self.gate = level;
    }

    fn load(&mut self) {
        self.ce = self.initial();
        self.null_count = false;
        self.counting = true;
        self.load_next = false;
    }

    fn dec(&mut self, by: u32) {
        let m = self.modulus();
        self.ce = (self.ce + m - by % m) % m;
    }

    /// One clock of modes 0, 1 and 4, 5 once counting: in 0 and 1 the output
    /// rises at terminal count; in 4 and 5 it strobes low for that one clock.
    fn count_one_shot(&mut self) {
        self.dec(1);
        if matches!(self.mode, 0 | 1) {
            if self.ce == 0 {
                self.out = true;
            }
        } else if self.ce == 0 {
            self.out = false;
        } else if !self.out {
            self.out = true;
        }
    }

    /// One input clock.
    pub fn clock(&mut self) {
        match self.mode {
            0 | 4 => {
                if self.load_next {
                    self.load();
                    return;
                }
                if !self.counting || !self.gate {
                    return;
                }
                self.count_one_shot();
            }
            1 | 5 => {
                if self.triggered {
                    self.triggered = false;
                    self.load();
                    if self.mode == 1 {
                        self.out = false;
                    }
                    return;
                }
                if !self.counting {
                    return;
                }
                self.count_one_shot();
            }
            2 => {
                if self.periodic_step() != Periodic::Count {
                    return;
                }
                if self.ce == 1 {
                    // End of the one-clock low pulse: output high, reload.
                    self.out = true;
                    self.load();
                } else {
                    self.dec(1);
                    if self.ce == 1 {
                        self.out = false;
                    }
                }
            }
            _ => {
                // Mode 3: square wave. The counting element steps by two; an
                // odd count spends one extra clock in the high half, so the
                // output is high (N+1)/2 clocks and low (N-1)/2 clocks.
                match self.periodic_step() {
                    Periodic::Idle => return,
                    Periodic::Loaded => {
                        self.ce = self.half_period(true);
                        return;
                    }
                    Periodic::Count => {}
                }
                self.ce = self.ce.saturating_sub(2);
                if self.ce == 0 {
                    self.out = !self.out;
                    self.null_count = false;
                    self.ce = self.half_period(self.out);
                }
            }
        }
    }

    /// Input clocks from now in which [`Counter::clock`] would only count
    /// down — no load, no output change — so that they can be passed in one
    /// step (`Counter::count_down`, or [`Pit::count_down`] for all three);
    /// `u32::MAX` while the counter is stopped or nothing but counting can
    /// happen.
    pub fn quiet_clocks(&self) -> u32 {
        let one_shot = |c: &Counter| {
            // Clocks until a count by one reaches zero.
            let to_zero = if c.ce == 0 { c.modulus() } else { c.ce };
            match (c.mode, c.out) {
                // Modes 0 and 1 raise OUT at terminal count and keep it high.
                (0 | 1, true) => u32::MAX,
                (0 | 1, false) => to_zero - 1,
                // Modes 4 and 5 strobe OUT low at terminal count for a clock.
                (_, true) => to_zero - 1,
                (_, false) => 0,
            }
        };
        // A BCD count beyond the modulus (invalid digits) wraps on its
        // first decrement: clock that one.
        if self.bcd && self.ce > 10000 && self.mode != 3 {
            return 0;
        }
        match self.mode {
            0 | 4 if self.load_next => 0,
            0 | 4 if !self.counting || !self.gate => u32::MAX,
            0 | 4 => one_shot(self),
            1 | 5 if self.triggered => 0,
            1 | 5 if !self.counting => u32::MAX,
            1 | 5 => one_shot(self),
            _ if !self.gate => u32::MAX,
            _ if self.load_next || self.triggered => 0,
            _ if !self.counting => u32::MAX,
            // Mode 2: OUT falls when the count reaches one.
            2 => self.ce.saturating_sub(2),
            // Mode 3 counts by two; OUT turns when the count reaches zero.
            _ => self.ce.saturating_sub(1) / 2,
        }
    }

    /// Pass `k` clocks that [`Counter::quiet_clocks`] allows.
    fn count_down(&mut self, k: u32) {
        let counts = match self.mode {
            0 | 4 => self.counting && self.gate && !self.load_next,
            1 | 5 => self.counting && !self.triggered,
            _ => self.gate && self.counting && !self.load_next && !self.triggered,
        };
        if !counts || k == 0 {
            return;
        }
        if matches!(self.mode, 2 | 0 | 1 | 4 | 5) {
            self.dec(k);
        } else {
            self.ce -= 2 * k;
        }
    }

    /// The part of a clock modes 2 and 3 share: nothing while the gate is
    /// low; a pending (re)load loads the counter and raises OUT.
    fn periodic_step(&mut self) -> Periodic {
        if !self.gate {
            return Periodic::Idle;
        }
        if self.load_next || self.triggered {
            self.triggered = false;
            self.load();
            self.out = true;
            return Periodic::Loaded;
        }
        if self.counting {
            Periodic::Count
        } else {
            Periodic::Idle
        }
    }

    /// Counting-element value (in clocks, times two) for a mode 3 half period.
    fn half_period(&self, high: bool) -> u32 {
        let n = self.initial();
        if n & 1 == 0 {
            n
        } else if high {
            n + 1
        } else {
            n - 1
        }
    }
}

/// The three counters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Pit {
    /// Counters 0–2.
    pub counters: [Counter; 3],
    /// Accept the 8254 read-back command.
    pub is_8254: bool,
}

impl Pit {
    /// A timer; `is_8254` enables the read-back command.
    pub fn new(is_8254: bool) -> Self {
        Pit {
            counters: Default::default(),
            is_8254,
        }
    }

    /// Read port `reg` (0–2 counters; 3 is the write-only control register).
    pub fn read(&mut self, reg: u16) -> u8 {
        match reg & 3 {
            3 => 0xFF,
            n => self.counters[n as usize].read(),
        }
    }

    /// Write port `reg` (0–2 counters, 3 control word).
    pub fn write(&mut self, reg: u16, v: u8) {
        match reg & 3 {
            3 => {
                let sc = (v >> 6) as usize;
                if sc == 3 {
                    if self.is_8254 {
                        // Read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status.
                        for (i, c) in self.counters.iter_mut().enumerate() {
                            if v & (2 << i) != 0 {
                                if v & 0x10 == 0 {
                                    c.latch_status();
                                }
                                if v & 0x20 == 0 {
                                    c.latch_count();
                                }
                            }
                        }
                    }
                } else if (v >> 4) & 3 == 0 {
                    self.counters[sc].latch_count();
                } else {
                    self.counters[sc].write_control(v);
                }
            }
            n => self.counters[n as usize].write_count(v),
        }
    }

    /// One input clock on all three counters.
    #[inline]
    pub fn clock(&mut self) {
        for c in &mut self.counters {
            c.clock();
        }
    }

    /// Input clocks from now in which no counter loads or changes its
    /// output: they can be passed with [`Pit::count_down`] instead of
    /// clocked one by one.
    #[inline]
    pub fn quiet_clocks(&self) -> u32 {
        self.counters
            .iter()
            .map(Counter::quiet_clocks)
            .min()
            .unwrap_or(u32::MAX)
    }

    /// Pass `k` input clocks, at most [`Pit::quiet_clocks`]: the counters
    /// only count down.
    pub fn count_down(&mut self, k: u32) {
        debug_assert!(k <= self.quiet_clocks());
        for c in &mut self.counters {
            c.count_down(k);
        }
    }

    /// Input clocks from now in which counter `n` alone neither loads nor
    /// changes its output (see [`Pit::quiet_clocks`]).
    pub fn counter_quiet_clocks(&self, n: usize) -> u32 {
        self.counters[n].quiet_clocks()
    }

    /// The period in input clocks of counter `n` while it runs on as a
    /// rate generator (mode 2) or square wave (mode 3) with its gate high
    /// and no load pending: its output then rises once per period for as
    /// long as nothing is written to it. `None` in any other state.
    pub fn steady_period(&self, n: usize) -> Option<u32> {
        let c = &self.counters[n];
        (matches!(c.mode, 2 | 3) && c.gate && c.counting && !c.load_next && !c.triggered)
            .then(|| c.initial())
    }

    /// Input clocks until counter `n`'s output next rises, while it runs
    /// steadily (see [`Pit::steady_period`]); `None` otherwise.
    pub fn clocks_to_rise(&self, n: usize) -> Option<u64> {
        let period = self.steady_period(n)?;
        let c = &self.counters[n];
        if c.mode == 2 {
            // The output rises on the clock that finds the count at one
            // (and reloads it): `ce` clocks from now.
            return Some(c.ce.max(1) as u64);
        }
        let mut c = c.clone();
        for k in 1..=2 * period as u64 + 2 {
            let before = c.out;
            c.clock();
            if c.out && !before {
                return Some(k);
            }
        }
        None
    }

    /// Pass `k` input clocks on counter `n` while it runs steadily (see
    /// [`Pit::steady_period`]): whole periods leave it as it was.
    pub fn pass_steady(&mut self, n: usize, k: u64) {
        let Some(period) = self.steady_period(n) else {
            return;
        };
        let k = k % period as u64;
        let c = &mut self.counters[n];
        if c.mode == 2 && (1..=period).contains(&c.ce) {
            // Mode 2 counts `ce` down to one and reloads the period on the
            // clock after; the output is low only while the count is one.
            let ce = c.ce as u64;
            let next = if k < ce {
                ce - k
            } else {
                period as u64 - (k - ce)
            };
            c.ce = next as u32;
            c.out = next != 1;
            return;
        }
        for _ in 0..k {
            c.clock();
        }
    }

    /// Pass `k` input clocks on counter `n` alone, at most
    /// [`Pit::counter_quiet_clocks`]: it only counts down.
    pub fn count_down_counter(&mut self, n: usize, k: u32) {
        debug_assert!(k <= self.counters[n].quiet_clocks());
        self.counters[n].count_down(k);
    }

    /// Output of counter `n`.
    #[inline]
    pub fn out(&self, n: usize) -> bool {
        self.counters[n].out
    }

    /// Set the gate of counter `n`.
    pub fn set_gate(&mut self, n: usize, level: bool) {
        self.counters[n].set_gate(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clocks passed with `quiet_clocks`/`count_down` give the same outputs
    /// clock by clock, counts and state as clocking one by one, over random
    /// programs of every mode (BCD too), counts near the edges, gate changes
    /// and reads between runs of clocks.
    #[test]
    fn passing_quiet_clocks_equals_clocking_each() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as u32
        };
        for trial in 0..400 {
            let mut a = Pit::new(true);
            let mut b = Pit::new(true);
            let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
            for _ in 0..12 {
                let both = |p: &mut Pit, reg: u16, v: u8| p.write(reg, v);
                match rnd(5) {
                    0 => {
                        let sc = rnd(3) as u8;
                        let control = sc << 6 | 3 << 4 | (rnd(8) as u8) << 1 | (rnd(4) == 0) as u8;
                        both(&mut a, 3, control);
                        both(&mut b, 3, control);
                    }
                    1 => {
                        let n = rnd(3) as u16;
                        let count = match rnd(3) {
                            0 => rnd(6),
                            1 => rnd(0x1_0000),
                            _ => 0x9999,
                        };
                        for v in [count as u8, (count >> 8) as u8] {
                            both(&mut a, n, v);
                            both(&mut b, n, v);
                        }
                    }
                    2 => {
                        let (n, level) = (rnd(3) as usize, rnd(2) == 0);
                        a.set_gate(n, level);
                        b.set_gate(n, level);
                    }
                    _ => {
                        let clocks = rnd(3000) as u64;
                        for _ in 0..clocks {
                            a.clock();
                            out_a.push([a.out(0), a.out(1), a.out(2)]);
                        }
                        let mut left = clocks;
                        while left > 0 {
                            let quiet = (b.quiet_clocks() as u64).min(left);
                            let step = if quiet > 0 {
                                b.count_down(quiet as u32);
                                quiet
                            } else {
                                b.clock();
                                1
                            };
                            for _ in 0..step {
                                out_b.push([b.out(0), b.out(1), b.out(2)]);
                            }
                            left -= step;
                        }
                    }
                }
                if let Some(i) =
                    (0..out_a.len().max(out_b.len())).find(|&i| out_a.get(i) != out_b.get(i))
                {
                    panic!(
                        "trial {trial}: outputs differ at clock {i} of {}: {:?} vs {:?}\n{:?}",
                        out_a.len(),
                        out_a.get(i),
                        out_b.get(i),
                        a.counters
                    );
                }
                assert_eq!(
                    format!("{:?}", a.counters),
                    format!("{:?}", b.counters),
                    "trial {trial}: counter state"
                );
            }
            for n in 0..3 {
                a.write(3, (n as u8) << 6);
                b.write(3, (n as u8) << 6);
                assert_eq!(a.read(n), b.read(n));
                assert_eq!(a.read(n), b.read(n));
            }
        }
    }

    /// A steadily running counter passed `k` clocks at once is where `k`
    /// single clocks take it, and its next rising edge comes when
    /// `clocks_to_rise` says: modes 2 and 3, even and odd periods, every
    /// phase.
    #[test]
    fn steady_counters_pass_whole_spans() {
        for mode in [2u8, 3] {
            for period in [2u16, 3, 5, 18, 19] {
                let mut p = Pit::new(false);
                p.write(3, 0x40 | 0x10 | (mode << 1)); // counter 1, LSB only
                p.write(1, period as u8);
                for _ in 0..3 {
                    p.clock();
                }
                for phase in 0..2 * period as u64 {
                    assert_eq!(p.steady_period(1), Some(period as u32));
                    // The first rising edge, found by clocking a copy.
                    let mut c = p.clone();
                    let mut rise = None;
                    for k in 1..=3 * period as u64 {
                        let before = c.out(1);
                        c.clock();
                        if c.out(1) && !before {
                            rise = Some(k);
                            break;
                        }
                    }
                    assert_eq!(
                        p.clocks_to_rise(1),
                        rise,
                        "mode {mode} n {period} phase {phase}"
                    );
                    for k in [
                        0u64,
                        1,
                        2,
                        period as u64 - 1,
                        period as u64,
                        3 * period as u64 + 1,
                    ] {
                        let mut by_one = p.clone();
                        for _ in 0..k {
                            by_one.counters[1].clock();
                        }
                        let mut at_once = p.clone();
                        at_once.pass_steady(1, k);
                        assert_eq!(
                            (at_once.counters[1].count(), at_once.out(1)),
                            (by_one.counters[1].count(), by_one.out(1)),
                            "mode {mode} n {period} phase {phase} k {k}"
                        );
                    }
                    p.clock();
                }
            }
        }
    }

    fn read16(p: &mut Pit, n: u16) -> u16 {
        let lo = p.read(n) as u16;
        let hi = p.read(n) as u16;
        lo | hi << 8
    }

    #[test]
    fn mode0_interrupt_on_terminal_count() {
        let mut p = Pit::new(false);
        p.write(3, 0x30); // counter 0, LSB+MSB, mode 0
        assert!(!p.out(0), "mode 0 output low after control word");
        p.write(0, 5);
        p.write(0, 0);
        // One clock loads the count, then N clocks count it down.
        p.clock();
        assert_eq!(p.counters[0].count(), 5);
        for _ in 0..4 {
            p.clock();
            assert!(!p.out(0));
        }
        p.clock();
        assert!(p.out(0), "high when the count reaches zero");
        assert_eq!(p.counters[0].count(), 0);
        // Stays high while the counter wraps on.
        p.clock();
        assert!(p.out(0));
        assert_eq!(p.counters[0].count(), 0xFFFF);
    }

    #[test]
    fn mode0_gate_low_pauses() {
        let mut p = Pit::new(false);
        p.write(3, 0xB0); // counter 2, LSB+MSB, mode 0
        p.set_gate(2, false);
        p.write(2, 3);
        p.write(2, 0);
        p.clock(); // load
        p.clock();
        p.clock();
        assert_eq!(p.counters[2].count(), 3);
        p.set_gate(2, true);
        p.clock();
        assert_eq!(p.counters[2].count(), 2);
    }

    #[test]
    fn mode2_rate_generator_pulses_low_one_clock() {
        let mut p = Pit::new(false);
        p.write(3, 0x34); // counter 0, LSB+MSB, mode 2
        assert!(p.out(0));
        p.write(0, 4);
        p.write(0, 0);
        p.clock(); // load
        let mut outs = Vec::new();
        for _ in 0..8 {
            p.clock();
            outs.push(p.out(0));
        }
        // Period 4: high for three clocks, low for one.
        assert_eq!(outs, vec![true, true, false, true, true, true, false, true]);
    }

    #[test]
    fn mode3_square_wave_even_and_odd() {
        let mut p = Pit::new(false);
        p.write(3, 0x36); // counter 0, mode 3
        p.write(0, 6);
        p.write(0, 0);
        p.clock(); // load
        let mut outs = Vec::new();
        for _ in 0..12 {
            outs.push(p.out(0));
            p.clock();
        }
        let high = outs.iter().filter(|&&o| o).count();
        assert_eq!(high, 6, "even count: half high, half low");
        assert_eq!(&outs[0..3], &[true, true, true]);
        assert_eq!(&outs[3..6], &[false, false, false]);

        // Odd count 5: high for 3 clocks, low for 2.
        p.write(3, 0x36);
        p.write(0, 5);
        p.write(0, 0);
        p.clock();
        let mut outs = Vec::new();
        for _ in 0..10 {
            outs.push(p.out(0));
            p.clock();
        }
        assert_eq!(
            outs,
            vec![true, true, true, false, false, true, true, true, false, false]
        );
    }

    #[test]
    fn mode3_count_zero_is_65536() {
        let mut p = Pit::new(false);
        p.write(3, 0x36);
        p.write(0, 0);
        p.write(0, 0);
        p.clock();
        let mut toggles = 0;
        let mut last = p.out(0);
        for _ in 0..65536 {
            p.clock();
            if p.out(0) != last {
                toggles += 1;
                last = p.out(0);
            }
        }
        // 18.2 Hz timer: one full period in 65536 clocks.
        assert_eq!(toggles, 2);
    }

    #[test]
    fn counter_latch_freezes_read_value() {
        let mut p = Pit::new(false);
        p.write(3, 0x34);
        p.write(0, 0x00);
        p.write(0, 0x10); // 0x1000
        p.clock();
        p.clock();
        p.write(3, 0x00); // latch counter 0
        let latched = p.counters[0].count();
        assert_eq!(latched, 0x0FFF);
        for _ in 0..10 {
            p.clock();
        }
        assert_eq!(read16(&mut p, 0), 0x0FFF);
        // After the latch is read, reads follow the counter again.
        assert_eq!(read16(&mut p, 0), 0x0FFF - 10);
    }

    #[test]
    fn lsb_only_and_msb_only_access() {
        let mut p = Pit::new(false);
        p.write(3, 0x54); // counter 1, LSB only, mode 2
        p.write(1, 18);
        p.clock();
        assert_eq!(p.counters[1].count(), 18);
        assert_eq!(p.read(1), 18);
        p.write(3, 0x64); // counter 1, MSB only
        p.write(1, 0x02);
        p.clock();
        assert_eq!(p.read(1), 0x02);
    }

    #[test]
    fn bcd_counting() {
        let mut p = Pit::new(false);
        p.write(3, 0x31); // mode 0, BCD
        p.write(0, 0x00);
        p.write(0, 0x10); // 1000 decimal
        p.clock();
        p.clock();
        assert_eq!(p.counters[0].count(), 0x0999);
    }

    #[test]
    fn read_back_8254() {
        let mut p = Pit::new(true);
        p.write(3, 0xB6); // counter 2, LSB+MSB, mode 3, binary
                          // Status before the count is loaded: output high, null count.
        p.write(3, 0xE8); // read-back status only, counter 2
        assert_eq!(p.read(2), 0x80 | 0x40 | 0x36);
        p.write(2, 0x34);
        p.write(2, 0x12);
        p.clock();
        p.write(3, 0xC8); // read-back count and status, counter 2
        assert_eq!(p.read(2) & 0x40, 0, "count loaded");
        assert_eq!(read16(&mut p, 2), 0x1234);
        // The 8253 ignores read-back.
        let mut old = Pit::new(false);
        old.write(3, 0xE2);
        assert_eq!(old.counters[0].status_latch, None);
    }

    #[test]
    fn mode1_one_shot_triggered_by_gate() {
        let mut p = Pit::new(false);
        p.write(3, 0xB2); // counter 2, mode 1
        p.set_gate(2, false);
        p.write(2, 3);
        p.write(2, 0);
        p.clock();
        assert!(p.out(2), "waits for a trigger");
        p.set_gate(2, true);
        p.clock(); // trigger loads
        assert!(!p.out(2));
        p.clock();
        p.clock();
        assert!(!p.out(2));
        p.clock();
        assert!(p.out(2));
    }

    #[test]
    fn mode4_strobe() {
        let mut p = Pit::new(false);
        p.write(3, 0x38); // counter 0, mode 4
        p.write(0, 2);
        p.write(0, 0);
        p.clock(); // load
        p.clock();
        assert!(p.out(0));
        p.clock();
        assert!(!p.out(0), "one-clock strobe at zero");
        p.clock();
        assert!(p.out(0));
    }
}
