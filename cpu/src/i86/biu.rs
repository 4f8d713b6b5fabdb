//! The exact timing model: the 8086/8088 bus interface unit simulated one
//! clock at a time.
//!
//! The execution unit's work reaches this model through the [`Timing`]
//! calls the instruction semantics make: instruction-stream bytes are taken
//! from the prefetch queue at the microcode points where the real chip takes
//! them ([`Timing::take`]), internal cycles are spent with [`Timing::eu`],
//! and every memory or I/O access becomes a bus request that waits for the
//! bus. Meanwhile the BIU prefetches into its queue whenever the bus is free
//! and the queue has room. Every clock can be recorded ([`CycleRecord`]).
//!
//! With a cycle log the state machine is stepped clock by clock: that path
//! is the reference. Without one the same rules are applied without
//! stepping clocks where they leave nothing to decide: back-to-back
//! prefetches are *streamed* (worked out from the clock: see
//! `ExactTiming::try_stream`), and EU transfers, SUSPs and idle stretches
//! are worked out from the state they start in. Tests hold both paths to
//! the same clocks (every 8086 vector, `mix`, random instruction runs).
//!
//! Rules (measured against the 8086 single-step vectors; see
//! docs/timing.md):
//! - a bus cycle is T1 T2 T3 T4; the BIU decides what to start one clock
//!   ahead, so a request seen at the end of clock `n` (a byte taken leaving
//!   room in the queue, or an EU request) starts T1 at `n + 2` when the bus
//!   is idle; room seen at the end of a T4 (or in the idle clock after a
//!   code fetch's T4) starts the fetch four clocks after that T4, an EU
//!   request seen in T4 three clocks later;
//! - an EU request abandons a prefetch that has not started (one clock more
//!   if it was already in its status clock) or whose T1 is due in that clock;
//! - at the end of T3 of any bus cycle the BIU decides whether a fetch
//!   follows immediately after T4 (room for it once the fetched bytes are in);
//! - an EU request waiting when a cycle ends takes the bus before a prefetch;
//! - fetched bytes enter the queue at the end of T3; the EU can take them
//!   from the next clock, as an instruction's first byte two clocks later;
//! - the microcode's SUSP comes in two forms. [`Timing::suspend`] (JMP/CALL
//!   near and far direct, RET, Jcc, ...) calls off a fetch about to start
//!   its T1 and waits two more clocks for one in T2/T3.
//!   [`Timing::suspend_free`] (LOOP, LOOPE/LOOPNE, JCXZ, indirect JMP/CALL
//!   through a register, indirect JMP FAR) calls off only a fetch not yet
//!   started: one already in its T1 completes, and the microcode goes on
//!   after that fetch's T4;
//! - the 8086 fetches words (a single byte at an odd address) into a 6-byte
//!   queue, the 8088 bytes into a 4-byte queue.

use super::pins::{write_lanes, BusView, CycleRecord, QueueOp, TState};
use super::timing::{Timing, Transfer};
use crate::bus::Bus;
use crate::model::CpuModel;
use crate::regs::Seg;
use serde::{Deserialize, Serialize};

/// Clocks from the end of a T4 that leaves room in the queue to the next
/// prefetch's T1.
const T4_FETCH: u64 = 4;

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Xfer {
    kind: Transfer,
    addr: u32,
    seg: Seg,
    /// Bytes moved: 1 or 2.
    width: u8,
    data: u16,
}

/// The cycle-exact model of the 8086/8088 bus interface. Serializable for
/// snapshots: the queue, the bus cycle in progress and every clock it
/// counts from (a cycle log being recorded is not kept).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExactTiming {
    cycle: u64,
    byte_bus: bool,
    capacity: usize,
    queue: [u8; 8],
    /// The clock from which each queued byte can be taken as a later byte
    /// of an instruction (a first byte: two clocks after that).
    queue_ready: [i64; 8],
    qhead: usize,
    qlen: usize,
    /// Next prefetch address: CS and offset.
    cs: u16,
    fetch_ip: u16,
    mask: u32,
    state: TState,
    cur: Option<Xfer>,
    /// An EU request and the first clock its T1 may be in.
    eu_req: Option<(Xfer, u64)>,
    /// Clock at which a decided prefetch starts.
    planned: Option<u64>,
    /// Queue status and byte of the clock in progress.
    qop: (QueueOp, u8),
    /// Last value of the completed EU transfer.
    result: u16,
    eu_done: bool,
    /// Instruction bytes the decoder read ahead, still to be taken.
    owed: u32,
    #[serde(skip)]
    log: Option<Vec<CycleRecord>>,
    last_address: u32,
    /// The code fetch in flight was flushed: its bytes are dropped.
    discard: bool,
    /// The queue was flushed and the first fetch after it has not landed.
    refill: bool,
    /// The first clock the bytes of the last fetch can be taken in.
    ready: i64,
    /// The next EU request continues a split word: it follows at once.
    chained: bool,
    /// Prefetching is suspended until the next flush.
    suspended: bool,
    /// The byte last taken from the queue (the queue bus holds it).
    last_taken: u8,
    /// The clock of the last code fetch's T4.
    code_t4: Option<u64>,
    /// Streaming (no cycle log; see [`ExactTiming::try_stream`]): the bus
    /// runs back-to-back prefetches, worked out from the clock rather than
    /// stepped. `cur`, `state`, `planned` and `fetch_ip` are then not kept
    /// up to date, and the queue holds only the bytes it held when
    /// streaming began; the rest are the stream's.
    stream: bool,
    /// The T3 clock of the stream's first fetch.
    s_t3: u64,
    /// The offset of the stream's first fetch.
    s_ip: u16,
    /// 1 when the first fetch is a single byte at an odd address on the
    /// 16-bit bus (the rest are words), else 0.
    s_odd: u32,
    /// log2 of the bytes per fetch: 1 on the 8086, 0 on the 8088.
    s_shift: u32,
    /// Stream bytes taken by the EU.
    s_taken: u32,
    /// The T3 clock of the first fetch that will leave no room for another
    /// (streaming ends there). Invariant: `cycle <= s_stop`.
    s_stop: u64,
    /// Streaming began in this T4 or idle clock, before its first fetch's
    /// T1; `state`, `cur` and `planned` still describe that clock.
    s_pre: Option<u64>,
    /// The queue's room for later fetches, in bytes, as [`ExactTiming::restop`]
    /// counts it.
    s_free: i64,
    /// The values of the queue's bytes and of the byte taken last are not
    /// known: unrecorded runs count bytes without reading them (only a
    /// cycle log shows them); [`ExactTiming::reread`] reads them when a log
    /// starts.
    stale: bool,
    /// Unrecorded, the bus idle with nothing to start (no room, nothing
    /// decided, no EU request): clocks before this one pass with nothing
    /// happening. Every `Timing` call but `eu` clears it.
    quiet_until: u64,
}

impl Default for ExactTiming {
    fn default() -> Self {
        ExactTiming {
            cycle: 0,
            byte_bus: false,
            capacity: 6,
            queue: [0; 8],
            queue_ready: [0; 8],
            qhead: 0,
            qlen: 0,
            cs: 0,
            fetch_ip: 0,
            mask: 0xF_FFFF,
            state: TState::Ti,
            cur: None,
            eu_req: None,
            planned: None,
            qop: (QueueOp::None, 0),
            result: 0,
            eu_done: false,
            owed: 0,
            log: None,
            last_address: 0,
            discard: false,
            refill: false,
            ready: 0,
            chained: false,
            suspended: false,
            last_taken: 0,
            code_t4: None,
            stream: false,
            s_t3: 0,
            s_ip: 0,
            s_odd: 0,
            s_shift: 0,
            s_taken: 0,
            s_stop: 0,
            s_pre: None,
            s_free: 0,
            stale: false,
            quiet_until: 0,
        }
    }
}

impl ExactTiming {
    /// Start recording every clock (cleared).
    pub fn record(&mut self, on: bool) {
        self.quiet_until = 0;
        if self.stream && on {
            // Streaming ends at the next step that has the bus (the queue's
            // bytes are read from it): every shortcut fails until then.
            self.s_stop = 0;
        }
        self.log = on.then(Vec::new);
        self.qop = (QueueOp::None, 0);
    }

    /// The clocks recorded since [`ExactTiming::record`].
    pub fn log(&self) -> &[CycleRecord] {
        self.log.as_deref().unwrap_or(&[])
    }

    /// Bytes in the prefetch queue.
    pub fn queue_len(&self) -> usize {
        if self.stream {
            self.qlen + (self.s_landed(self.fetches_before(self.cycle)) - self.s_taken) as usize
        } else {
            self.qlen
        }
    }

    /// Install a prefetch queue: `bytes` were fetched from CS:`ip`
    /// onwards, so prefetching continues after them; the bus is idle.
    pub fn preload(&mut self, cs: u16, ip: u16, bytes: &[u8]) {
        self.quiet_until = 0;
        self.qhead = 0;
        self.qlen = 0;
        // Bytes installed by the test rig were fetched long before.
        self.ready = -2;
        for &b in bytes.iter().take(self.capacity) {
            self.push(b);
        }
        self.cs = cs;
        self.fetch_ip = ip.wrapping_add(self.qlen as u16);
        self.state = TState::Ti;
        self.cur = None;
        self.eu_req = None;
        self.planned = None;
        self.owed = 0;
        self.discard = false;
        self.refill = false;
        self.ready = 0;
        self.chained = false;
        self.suspended = false;
        self.stream = false;
        self.stale = false;
    }

    #[inline]
    fn push(&mut self, b: u8) {
        let i = (self.qhead + self.qlen) & 7;
        self.queue[i] = b;
        self.queue_ready[i] = self.ready;
        self.qlen += 1;
    }

    #[inline]
    fn pop(&mut self) -> u8 {
        let b = self.queue[self.qhead];
        self.qhead = (self.qhead + 1) & 7;
        self.qlen -= 1;
        b
    }

    #[inline]
    fn fetch_addr(&self) -> u32 {
        self.code_addr(self.fetch_ip)
    }

    /// The physical address of offset `ip` in the code segment.
    #[inline]
    fn code_addr(&self, ip: u16) -> u32 {
        (((self.cs as u32) << 4) + ip as u32) & self.mask
    }

    /// Bytes the next prefetch brings in.
    #[inline]
    fn fetch_width(&self) -> usize {
        // One byte on the 8088 or at an odd address, else a word.
        2 - ((self.fetch_ip as usize & 1) | self.byte_bus as usize)
    }

    /// Bytes on their way into the queue.
    #[inline]
    fn in_flight(&self) -> usize {
        match (self.cur, self.state) {
            (Some(x), TState::T1 | TState::T2 | TState::T3) if x.kind == Transfer::Code => {
                x.width as usize
            }
            _ => 0,
        }
    }

    /// Room in the queue for the next prefetch.
    #[inline]
    fn room(&self) -> bool {
        !self.suspended && self.qlen + self.in_flight() + self.fetch_width() <= self.capacity
    }

    fn code_xfer(&self) -> Xfer {
        Xfer {
            kind: Transfer::Code,
            addr: self.fetch_addr(),
            seg: Seg::CS,
            width: self.fetch_width() as u8,
            data: 0,
        }
    }

    /// Pass over clocks in which nothing happens but the T-state moving on
    /// (a bus cycle's T1 and T2, idle clocks before a decided start), up to
    /// clock `limit` at most; what remains is left to [`ExactTiming::tick`].
    /// Not while recording, where every clock is logged.
    #[inline(always)]
    fn skip(&mut self, limit: u64) {
        if self.log.is_some() || self.cycle >= limit {
            return;
        }
        let to = match self.state {
            // The data phase is in T3: T1 and T2 only move on.
            TState::T1 if limit > self.cycle + 1 => {
                self.state = TState::T3;
                self.cycle + 2
            }
            TState::T1 => {
                self.state = TState::T2;
                self.cycle + 1
            }
            TState::T2 => {
                self.state = TState::T3;
                self.cycle + 1
            }
            TState::Ti => {
                // The first clock whose end may start a cycle or decide one.
                let due = match (self.eu_req, self.planned) {
                    (Some((_, at)), Some(p)) if self.refill => at.min(p),
                    (Some((_, at)), _) => at,
                    // Room cannot change while the EU is not acting, so a
                    // bus with no room stays idle until it does.
                    (None, Some(p)) if p > self.cycle + 1 => p,
                    (None, _) if self.room() => return,
                    (None, _) => u64::MAX,
                };
                due.saturating_sub(1).min(limit).max(self.cycle)
            }
            _ => return,
        };
        self.cycle = to;
        self.qop = (QueueOp::None, 0);
    }

    /// Run clocks until a byte is in the queue.
    #[inline(never)]
    fn wait_for_byte<B: Bus>(&mut self, bus: &mut B) {
        let start = self.cycle;
        while self.qlen == 0 {
            self.skip(start + 64);
            self.tick(bus);
            if self.cycle - start > 64 {
                // Never wait forever: a suspension the semantics did not end
                // with a flush is lifted.
                self.suspended = false;
            }
        }
    }

    /// Run clocks until clock `end`.
    #[inline(always)]
    fn run_to<B: Bus>(&mut self, bus: &mut B, end: u64) {
        // Streaming and not stopping before `end`, or an idle bus that
        // stays idle: only time passes.
        if end <= self.quiet_until || (self.stream && end <= self.s_stop) {
            self.cycle = self.cycle.max(end);
        } else {
            self.run_to_slow(bus, end);
        }
    }

    /// [`ExactTiming::run_to`] where something may happen on the way.
    #[inline(never)]
    fn run_to_slow<B: Bus>(&mut self, bus: &mut B, end: u64) {
        self.log_started(bus);
        if self.try_stream() {
            if end <= self.s_stop {
                self.cycle = self.cycle.max(end);
                return;
            }
            self.stream_stop();
        }
        // An idle bus (or one in its T4) with nothing decided, no EU
        // request and no room for a prefetch (queue full, or prefetching
        // suspended) stays idle until the EU acts.
        if self.log.is_none()
            && end > self.cycle
            && matches!(self.state, TState::T4 | TState::Ti)
            && self.planned.is_none()
            && self.eu_req.is_none()
            && !self.room()
        {
            if self.state == TState::T4 {
                self.ended(self.cycle);
            }
            self.cur = None;
            self.state = TState::Ti;
            self.cycle = end;
            self.quiet_until = u64::MAX;
            return;
        }
        self.run_clocks(bus, end);
    }

    /// Unrecorded: start streaming if nothing but the queue's room governs
    /// what the bus does next — no EU request, flush or suspension pending
    /// — and it is in a prefetch (T1–T3), or in a T4 or idle clock with
    /// room for one (decided already, or at this clock's end). True when
    /// streaming.
    ///
    /// While streaming, prefetch `j` of the stream has its T3 in clock
    /// `s_t3 + 4j` and brings `1 << s_shift` bytes (the first may be a
    /// single odd byte): the clock-by-clock rules give exactly that as long
    /// as every fetch leaves room for the next, which depends only on the
    /// queue's length, so the first fetch that will not (`s_stop`) is
    /// worked out afresh after every byte the EU takes.
    #[inline(always)]
    fn try_stream(&mut self) -> bool {
        if self.stream {
            return true;
        }
        if self.log.is_some()
            || self.discard
            || self.suspended
            || self.chained
            || self.eu_req.is_some()
        {
            return false;
        }
        let n = self.cycle;
        let t3 = match (self.cur, self.state, self.planned) {
            (Some(x), TState::T1 | TState::T2 | TState::T3, None) if x.kind == Transfer::Code => {
                self.s_pre = None;
                n + (TState::T3 as u64 - self.state as u64)
            }
            // A T4 or idle clock with room for a prefetch: the one decided
            // on, or the one this clock's end decides on (as `tick_end`),
            // starts when planned; room only grows until then.
            (_, TState::T4 | TState::Ti, planned)
                if self.qlen + self.fetch_width() <= self.capacity =>
            {
                let t1 = match planned {
                    Some(p) => p.max(n + 1),
                    None => self.decided_fetch(n, self.state),
                };
                self.s_pre = Some(n);
                t1 + 2
            }
            _ => return false,
        };
        self.s_t3 = t3;
        self.s_ip = self.fetch_ip;
        self.s_shift = (!self.byte_bus) as u32;
        self.s_odd = (self.fetch_width() == 1 && !self.byte_bus) as u32;
        self.s_taken = 0;
        self.stream = true;
        self.restop();
        true
    }

    /// Stream bytes brought by the stream's first `n` fetches.
    #[inline(always)]
    fn s_landed(&self, n: u64) -> u32 {
        if n == 0 {
            0
        } else {
            ((n as u32) << self.s_shift) - self.s_odd
        }
    }

    /// The stream's fetches whose T3 comes before clock `c`.
    #[inline(always)]
    fn fetches_before(&self, c: u64) -> u64 {
        (c + 3).saturating_sub(self.s_t3) / 4
    }

    /// Work out `s_stop`: fetch `j` leaves room for the next (of
    /// `w = 1 << s_shift` bytes) while the queue then holds at most
    /// `capacity - w` bytes.
    #[inline(always)]
    fn restop(&mut self) {
        self.s_free = self.capacity as i64 - (1i64 << self.s_shift) - self.qlen as i64
            + self.s_taken as i64
            + self.s_odd as i64;
        self.set_stop();
    }

    /// `s_stop` from `s_free` (which every byte taken raises by one).
    #[inline(always)]
    fn set_stop(&mut self) {
        self.s_stop = self.s_t3 + 4 * ((self.s_free.max(0) as u64) >> self.s_shift);
    }

    /// Streaming, a log was asked for: make the state explicit again.
    #[inline(always)]
    fn log_started<B: Bus>(&mut self, bus: &mut B) {
        if self.log.is_some() {
            self.materialize();
            if self.stale {
                self.reread(bus);
            }
            // A cycle past its T1 has its address in the latch (unrecorded
            // runs keep it only from cycle to cycle).
            if let (Some(x), TState::T2 | TState::T3 | TState::T4) = (self.cur, self.state) {
                self.last_address = x.addr;
            }
            // And a code fetch in its T4 still has its bytes on the data
            // bus (which unrecorded runs do not keep).
            if let (Some(x), TState::T4) = (self.cur.as_mut(), self.state) {
                if x.kind == Transfer::Code {
                    Self::data_phase(bus, x, self.byte_bus, self.mask);
                }
            }
        }
    }

    /// The bus cycle in its T4 (clock `t4`) ends: the address latch keeps its address
    /// (a log started later shows it in idle clocks), and a code fetch's
    /// T4 is remembered for the decision after it.
    #[inline(always)]
    fn ended(&mut self, t4: u64) {
        if let Some(x) = self.cur {
            self.last_address = x.addr;
            if x.kind == Transfer::Code {
                self.code_t4 = Some(t4);
            }
        }
    }

    /// Read the values of the queue's bytes (and of the byte taken last),
    /// which unrecorded runs only count: the queue holds the bytes just
    /// before the next fetch's address. (Memory changed since they were
    /// fetched shows its new value.)
    #[inline(never)]
    fn reread<B: Bus>(&mut self, bus: &mut B) {
        let base = self.fetch_ip.wrapping_sub(self.qlen as u16);
        for i in 0..self.qlen {
            let ip = base.wrapping_add(i as u16);
            self.queue[(self.qhead + i) & 7] = bus.fetch(self.code_addr(ip));
        }
        let ip = base.wrapping_sub(1);
        self.last_taken = bus.fetch(self.code_addr(ip));
        self.stale = false;
    }

    /// Streaming ends at `s_stop`: that fetch lands and leaves no room, so
    /// the bus is in its T4 with nothing decided.
    #[inline(never)]
    fn stream_stop(&mut self) {
        self.cycle = self.s_stop + 1;
        self.materialize();
        self.planned = None;
    }

    /// Streaming ends at the current clock: the fetches that landed go
    /// into the queue (counted, not read: see `stale`) and `cur`, `state`,
    /// `planned` and `fetch_ip` describe the clock again — a prefetch's
    /// T1, T2 or T3, or the T4 of the one before it with the next decided.
    #[inline(never)]
    fn materialize(&mut self) {
        if !std::mem::take(&mut self.stream) {
            return;
        }
        self.set_stop();
        // The stream's bytes are counted, not read (see `stale`).
        self.stale |= self.s_taken > 0;
        let t1 = self.s_t3 - 2;
        if let Some(pre) = self.s_pre {
            if self.cycle == pre {
                // Nothing has happened since.
                return;
            }
            // That clock has ended.
            if self.state == TState::T4 {
                self.ended(pre);
            }
            if self.cycle < t1 {
                // Still waiting for the first fetch.
                (self.state, self.cur, self.planned) = (TState::Ti, None, Some(t1));
                return;
            }
        }
        let n = self.fetches_before(self.cycle);
        self.unstream(n);
        let mut cur = self.code_xfer();
        let t1 = t1 + 4 * n;
        if self.cycle < t1 {
            // In the T4 of that last fetch.
            cur.addr = self.last_address;
        }
        self.cur = Some(cur);
        if self.cycle >= t1 {
            self.state = match self.cycle - t1 {
                0 => TState::T1,
                1 => TState::T2,
                _ => TState::T3,
            };
            self.planned = None;
        } else {
            // The T4 of the fetch that landed last (`cur` only shows that
            // a code fetch is ending).
            self.state = TState::T4;
            self.planned = Some(t1);
        }
    }

    /// Streaming ends with the stream's first `n` fetches landed: their
    /// bytes not yet taken go into the queue, and the address latch and
    /// the last code T4 are those of the last of them.
    #[inline(always)]
    fn unstream(&mut self, n: u64) {
        let landed = self.s_landed(n);
        self.stale |= landed > self.s_taken;
        for b in self.s_taken..landed {
            let j = ((b + self.s_odd) >> self.s_shift) as u64;
            self.ready = (self.s_t3 + 4 * j) as i64 + 1;
            self.push(0);
        }
        self.fetch_ip = self.s_ip.wrapping_add(landed as u16);
        if n > 0 {
            self.refill = false;
            self.code_t4 = Some(self.s_t3 + 4 * (n - 1) + 1);
            let ip = self.s_ip.wrapping_add(self.s_landed(n - 1) as u16);
            self.last_address = self.code_addr(ip);
        }
    }

    /// Streaming: the EU takes the next byte — from the queue, or the
    /// stream's next — if streaming does not stop before the take's clock.
    /// False, having done nothing, otherwise.
    #[inline(always)]
    fn take_stream(&mut self, first: bool) -> bool {
        let late = if first { 2 } else { 0 };
        let ready = if self.qlen != 0 {
            (self.queue_ready[self.qhead] + late).max(0) as u64
        } else {
            let j = ((self.s_taken + self.s_odd) >> self.s_shift) as u64;
            self.s_t3 + 4 * j + 1 + late as u64
        };
        let at = self.cycle.max(ready);
        if at > self.s_stop {
            return false;
        }
        if self.qlen != 0 {
            self.last_taken = self.pop();
        } else {
            // Its value is read only if the state is made explicit.
            self.s_taken += 1;
        }
        self.owed = self.owed.saturating_sub(1);
        self.cycle = at + 1;
        // The take's clock may be the T3 that had no room before it.
        self.s_free += 1;
        self.set_stop();
        if self.cycle > self.s_stop {
            self.stream_stop();
        }
        true
    }

    /// Run clocks until clock `end`, stepping the bus state machine.
    fn run_clocks<B: Bus>(&mut self, bus: &mut B, end: u64) {
        while self.cycle < end {
            self.skip(end);
            if self.cycle < end {
                let t3 = self.state == TState::T3;
                self.tick(bus);
                // The T4 after a T3 needs no look at the skippable cases.
                if t3 && self.cycle < end {
                    self.tick_end();
                }
            }
        }
    }

    /// One clock: record it, do its work, decide the next.
    #[inline]
    fn tick<B: Bus>(&mut self, bus: &mut B) {
        match self.state {
            TState::T1 | TState::T2 => {
                if self.log.is_some() {
                    self.record_clock();
                }
                self.qop = (QueueOp::None, 0);
                self.cycle += 1;
                self.state = if self.state == TState::T1 {
                    TState::T2
                } else {
                    TState::T3
                };
            }
            TState::T3 => self.tick_t3(bus),
            TState::T4 | TState::Ti => self.tick_end(),
        }
    }

    /// The T1 clock of the prefetch an idle bus with room decides on at the
    /// end of clock `n` (a T4 or an idle clock): two clocks later from an
    /// idle clock, four after a T4 — also when the room is seen in the idle
    /// clock right after a code fetch's T4.
    fn decided_fetch(&self, n: u64, ended: TState) -> u64 {
        if ended == TState::T4 {
            n + T4_FETCH
        } else if self.code_t4 == Some(n.wrapping_sub(1)) {
            n - 1 + T4_FETCH
        } else {
            n + 2
        }
    }

    /// Log the clock in progress.
    #[inline(never)]
    fn record_clock(&mut self) {
        let byte_bus = self.byte_bus;
        let x = self.cur.map(|x| BusView {
            kind: x.kind,
            addr: x.addr,
            seg: x.seg,
            high_lane: x.width == 2 || (x.addr & 1 != 0 && !byte_bus),
            data: x.data,
        });
        let record = CycleRecord::of(self.state, x, &mut self.last_address, self.qop);
        if let Some(log) = self.log.as_mut() {
            log.push(record);
        }
    }

    /// A T3 clock: the data phase, then (at its end) fetched bytes enter
    /// the queue or the EU has its result, and the BIU decides whether a
    /// fetch follows straight after T4.
    #[inline(never)]
    fn tick_t3<B: Bus>(&mut self, bus: &mut B) {
        let n = self.cycle;
        if let Some(x) = self.cur.as_mut() {
            Self::data_phase(bus, x, self.byte_bus, self.mask);
        }
        if self.log.is_some() {
            self.record_clock();
        }
        self.qop = (QueueOp::None, 0);
        if let Some(x) = self.cur {
            match x.kind {
                Transfer::Code => {
                    self.land(x, n);
                }
                _ => {
                    self.result = x.data;
                    self.eu_done = true;
                }
            }
            // At the end of T3 (fetched bytes in the queue) the BIU decides
            // whether a fetch follows straight after T4.
            if self.planned.is_none()
                && self.eu_req.is_none()
                && !self.suspended
                && self.qlen + self.fetch_width() <= self.capacity
            {
                self.planned = Some(n + 2);
            }
        }
        self.cycle += 1;
        self.state = TState::T4;
    }

    /// The data phase (T3) of bus cycle `x`: memory or I/O read into
    /// `x.data`, or written from it.
    #[inline]
    fn data_phase<B: Bus>(bus: &mut B, x: &mut Xfer, byte_bus: bool, mask: u32) {
        match x.kind {
            Transfer::Code | Transfer::MemRead => {
                let code = x.kind == Transfer::Code;
                let mut rd = |a: u32| if code { bus.fetch(a) } else { bus.read(a) };
                let lo = rd(x.addr);
                x.data = if x.width == 2 {
                    lo as u16 | (rd((x.addr + 1) & mask) as u16) << 8
                } else if x.addr & 1 != 0 && !byte_bus {
                    (lo as u16) << 8
                } else {
                    lo as u16
                };
            }
            Transfer::IoRead => {
                let port = x.addr as u16;
                x.data = if x.width == 2 {
                    bus.io_read16(port)
                } else if port & 1 != 0 && !byte_bus {
                    (bus.io_read(port) as u16) << 8
                } else {
                    bus.io_read(port) as u16
                };
            }
            Transfer::MemWrite | Transfer::IoWrite => {
                let high = x.addr & 1 != 0 && !byte_bus;
                write_lanes(bus, x.kind, x.addr, x.width, high, x.data, mask);
            }
            Transfer::IntA => x.data = bus.inta() as u16,
            Transfer::Halt => {}
        }
    }

    /// Unrecorded: the code fetch in progress (T1–T3) lands at its T3,
    /// deciding on no fetch after it (the caller's EU request or suspension
    /// stops one), and its T4 ends. Returns its T3 clock.
    fn land_cur(&mut self) -> u64 {
        let t3 = self.cycle + (TState::T3 as u64 - self.state as u64);
        if let Some(f) = self.cur {
            // Counted, not read (see `stale`).
            self.stale |= self.land(Xfer { data: 0, ..f }, t3);
        }
        self.code_t4 = Some(t3 + 1);
        t3
    }

    /// A code fetch's bytes (in `x.data`, as the data bus carries them)
    /// enter the queue at the end of its T3 (clock `t3`), unless the queue
    /// was flushed while it was under way: then they are dropped. True when
    /// they entered.
    fn land(&mut self, x: Xfer, t3: u64) -> bool {
        if std::mem::take(&mut self.discard) {
            return false;
        }
        self.refill = false;
        self.ready = t3 as i64 + 1;
        if x.width == 2 {
            self.push(x.data as u8);
            self.push((x.data >> 8) as u8);
        } else if x.addr & 1 != 0 && !self.byte_bus {
            self.push((x.data >> 8) as u8);
        } else {
            self.push(x.data as u8);
        }
        self.fetch_ip = self.fetch_ip.wrapping_add(x.width as u16);
        true
    }

    /// Unrecorded: an EU transfer worked out without stepping the clocks
    /// between. The request starts two clocks after it is made (three in a
    /// T4, or when it abandons a prefetch due to start next clock), or
    /// after the T4 of a prefetch already under way (which lands first);
    /// a prefetch only in its T1 is abandoned, unless it is the refill
    /// after a flush. The cycle's T3 moves the data and decides whether a
    /// prefetch follows straight after its T4, where the EU goes on.
    /// None, having done nothing, where the bus is in a state it does not
    /// cover.
    fn transfer_quiet<B: Bus>(&mut self, bus: &mut B, x: Xfer) -> Option<u16> {
        let c = self.cycle;
        let fetching = self.cur.is_some_and(|c| c.kind == Transfer::Code);
        let e = match self.state {
            _ if self.chained => {
                // The second half of a split word, straight after the first.
                if self.state != TState::T4 {
                    return None;
                }
                c + 1
            }
            TState::T1 if fetching && !self.refill => c + 2,
            TState::T1 | TState::T2 | TState::T3 if fetching => self.land_cur() + 2,
            TState::T4 => c + 3,
            TState::Ti => c + 2 + (self.planned == Some(c + 1)) as u64,
            _ => return None,
        };
        if self.state == TState::T4 {
            self.ended(self.cycle);
        }
        self.chained = false;
        Some(self.eu_cycle(bus, x, e))
    }

    /// [`ExactTiming::transfer_quiet`] while streaming, past the stream's
    /// first T1: the fetch in its T1 is abandoned (unless it is the refill
    /// after a flush), one in its T2 or T3 lands first, a T4 ends.
    #[inline(never)]
    fn transfer_streaming<B: Bus>(&mut self, bus: &mut B, x: Xfer) -> u16 {
        let c = self.cycle;
        let n = self.fetches_before(c);
        let t1 = self.s_t3 - 2 + 4 * n;
        let (landed, e) = match c.wrapping_sub(t1) {
            0 if !(self.refill && n == 0) => (n, c + 2),
            0..=2 => (n + 1, t1 + 4),
            _ => (n, c + 3),
        };
        self.stream = false;
        self.stale |= self.s_taken > 0;
        self.unstream(landed);
        self.eu_cycle(bus, x, e)
    }

    /// Unrecorded: EU bus cycle `x` with its T1 in clock `e`, no prefetch
    /// in the way. Its T3 moves the data and decides whether a prefetch
    /// follows straight after its T4, where the EU goes on.
    #[inline(always)]
    fn eu_cycle<B: Bus>(&mut self, bus: &mut B, mut x: Xfer, e: u64) -> u16 {
        self.planned = None;
        Self::data_phase(bus, &mut x, self.byte_bus, self.mask);
        if !self.suspended && self.qlen + self.fetch_width() <= self.capacity {
            self.planned = Some(e + 4);
        }
        self.cur = Some(x);
        self.state = TState::T4;
        self.cycle = e + 3;
        self.last_address = x.addr;
        x.data
    }

    /// A T4 or idle clock: at its end the next bus cycle starts (an EU
    /// request first, then a decided prefetch), or the bus stays idle and
    /// may decide to prefetch.
    #[inline(never)]
    fn tick_end(&mut self) {
        let n = self.cycle;
        if self.log.is_some() {
            self.record_clock();
        }
        let ended = self.state;
        if ended == TState::T4 {
            self.ended(self.cycle);
        }
        self.qop = (QueueOp::None, 0);
        self.cycle += 1;
        let next = self.cycle;
        self.cur = None;
        self.state = if let Some((x, _)) = self.eu_req.filter(|(_, at)| *at <= next) {
            self.eu_req = None;
            self.planned = None;
            self.cur = Some(x);
            TState::T1
        } else if (self.eu_req.is_none() || self.refill)
            && self.planned.is_some_and(|p| p <= next)
            && self.room()
        {
            self.planned = None;
            self.cur = Some(self.code_xfer());
            TState::T1
        } else {
            TState::Ti
        };
        // An idle bus with room in the queue decides to prefetch: seen at
        // the end of an idle clock it starts two clocks later, at the end
        // of T4 three.
        if self.state == TState::Ti
            && self.planned.is_none()
            && self.eu_req.is_none()
            && self.room()
        {
            self.planned = Some(self.decided_fetch(n, ended));
        }
    }

    /// Run an EU transfer to the end of its data phase.
    fn transfer<B: Bus>(&mut self, bus: &mut B, x: Xfer) -> u16 {
        self.quiet_until = 0;
        if self.stream && self.log.is_none() && !self.chained && self.cycle + 2 >= self.s_t3 {
            return self.transfer_streaming(bus, x);
        }
        self.materialize();
        if self.log.is_none() {
            if let Some(v) = self.transfer_quiet(bus, x) {
                return v;
            }
        }
        // A request seen while a bus cycle is in T1-T3 follows its T4; on an
        // idle bus (or in T4) it starts two clocks later, three when it
        // abandons a prefetch the BIU had decided on.
        if std::mem::take(&mut self.chained) {
            // The second half of a split word runs right after the first.
            self.eu_req = Some((x, self.cycle + 1));
            while !self.eu_done {
                self.skip(u64::MAX);
                self.tick(bus);
            }
            self.eu_done = false;
            return self.result;
        }
        // The refill after a flush is never abandoned.
        let abandons = self.planned.is_some_and(|p| p == self.cycle + 1);
        let at = match self.state {
            TState::T4 => self.cycle + 3,
            TState::Ti => self.cycle + 2 + abandons as u64,
            _ => self.cycle + 2,
        };
        self.eu_req = Some((x, at));
        self.eu_done = false;
        // A prefetch decided but not started, or due to start its T1 in this
        // very clock, yields to the EU: it is abandoned (the refill after a
        // flush never is).
        let fetching = self.cur.is_some_and(|c| c.kind == Transfer::Code);
        match self.state {
            TState::Ti | TState::T4 => self.planned = None,
            TState::T1 if fetching && !self.refill => {
                self.cur = None;
                self.state = TState::Ti;
                self.planned = None;
                self.eu_req = Some((x, self.cycle + 2));
            }
            _ => {}
        }
        while !self.eu_done {
            self.skip(u64::MAX);
            self.tick(bus);
        }
        self.eu_done = false;
        self.result
    }

    /// [`Timing::take`] where the EU waits or a fetch lands on the way.
    #[inline(never)]
    fn take_slow<B: Bus>(&mut self, bus: &mut B, first: bool) {
        self.quiet_until = 0;
        self.log_started(bus);
        if !self.stream && self.try_stream() && self.take_stream(first) {
            return;
        }
        if self.stream {
            // Streaming stops before the byte can be taken.
            self.stream_stop();
        }
        if self.qlen == 0 {
            self.wait_for_byte(bus);
        }
        // A byte reaches the EU as an instruction's first byte three clocks
        // after it landed, as a later byte in the next clock.
        let ready = self.queue_ready[self.qhead] + if first { 2 } else { 0 };
        if (self.cycle as i64) < ready {
            self.run_clocks(bus, ready as u64);
        }
        self.owed = self.owed.saturating_sub(1);
        let b = self.pop();
        self.last_taken = b;
        self.qop = (
            if first {
                QueueOp::First
            } else {
                QueueOp::Subsequent
            },
            b,
        );
        self.tick(bus);
    }

    fn byte_xfer(&self, kind: Transfer, seg: Seg, addr: u32, data: u16) -> Xfer {
        Xfer {
            kind,
            addr,
            seg,
            width: 1,
            data: if addr & 1 != 0 && !self.byte_bus {
                data << 8
            } else {
                data & 0xFF
            },
        }
    }

    fn word<B: Bus>(
        &mut self,
        bus: &mut B,
        kind: Transfer,
        seg: Seg,
        lo: u32,
        hi: u32,
        v: u16,
    ) -> u16 {
        if !self.byte_bus && lo & 1 == 0 && hi == lo + 1 {
            let x = Xfer {
                kind,
                addr: lo,
                seg,
                width: 2,
                data: v,
            };
            self.transfer(bus, x)
        } else {
            let a = self.transfer(bus, self.byte_xfer(kind, seg, lo, v));
            self.chained = true;
            let b = self.transfer(bus, self.byte_xfer(kind, seg, hi, v >> 8));
            let a = if lo & 1 != 0 && !self.byte_bus {
                a >> 8
            } else {
                a & 0xFF
            };
            let b = if hi & 1 != 0 && !self.byte_bus {
                b >> 8
            } else {
                b & 0xFF
            };
            a | b << 8
        }
    }

    fn byte<B: Bus>(&mut self, bus: &mut B, kind: Transfer, seg: Seg, addr: u32, v: u8) -> u8 {
        let r = self.transfer(bus, self.byte_xfer(kind, seg, addr, v as u16));
        if addr & 1 != 0 && !self.byte_bus {
            (r >> 8) as u8
        } else {
            r as u8
        }
    }
}

impl Timing for ExactTiming {
    const NAME: &'static str = "exact";
    const EXACT: bool = true;

    fn configure(&mut self, model: CpuModel) {
        self.byte_bus = model.bus_width_bytes() == 1;
        self.capacity = model.queue_len();
        self.mask = model.address_mask();
    }

    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8 {
        // The decoder reads ahead; the bytes are taken from the queue at the
        // microcode's time through `take`.
        self.owed += 1;
        bus.read(addr)
    }

    #[inline(always)]
    fn take<B: Bus>(&mut self, bus: &mut B, first: bool) {
        if !(self.stream && self.take_stream(first)) {
            self.take_slow(bus, first);
        }
    }

    fn cached_fetch(&mut self, n: u32) {
        // As `fetch`: the bytes are taken from the queue through `take`.
        self.owed += n;
    }

    fn owed(&self) -> u32 {
        self.owed
    }

    #[inline(always)]
    fn eu<B: Bus>(&mut self, bus: &mut B, n: u32) {
        self.run_to(bus, self.cycle + n as u64);
    }

    fn read8<B: Bus>(&mut self, bus: &mut B, seg: Seg, addr: u32) -> u8 {
        self.byte(bus, Transfer::MemRead, seg, addr, 0)
    }

    fn write8<B: Bus>(&mut self, bus: &mut B, seg: Seg, addr: u32, v: u8) {
        self.byte(bus, Transfer::MemWrite, seg, addr, v);
    }

    fn read16<B: Bus>(&mut self, bus: &mut B, seg: Seg, lo: u32, hi: u32) -> u16 {
        self.word(bus, Transfer::MemRead, seg, lo, hi, 0)
    }

    fn write16<B: Bus>(&mut self, bus: &mut B, seg: Seg, lo: u32, hi: u32, v: u16) {
        self.word(bus, Transfer::MemWrite, seg, lo, hi, v);
    }

    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16 {
        let p = port as u32;
        if word {
            self.word(
                bus,
                Transfer::IoRead,
                Seg::CS,
                p,
                p.wrapping_add(1) & 0xFFFF,
                0,
            )
        } else {
            self.byte(bus, Transfer::IoRead, Seg::CS, p, 0) as u16
        }
    }

    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16) {
        let p = port as u32;
        if word {
            self.word(
                bus,
                Transfer::IoWrite,
                Seg::CS,
                p,
                p.wrapping_add(1) & 0xFFFF,
                v,
            );
        } else {
            self.byte(bus, Transfer::IoWrite, Seg::CS, p, v as u8);
        }
    }

    fn flush(&mut self, cs: u16, ip: u16) {
        self.quiet_until = 0;
        // The queue is emptied: its bytes need not be read.
        self.materialize();
        self.qhead = 0;
        self.qlen = 0;
        self.qop = (QueueOp::Flush, self.last_taken);
        self.discard = self.cur.is_some_and(|c| c.kind == Transfer::Code)
            && matches!(self.state, TState::T1 | TState::T2 | TState::T3);
        self.refill = true;
        self.suspended = false;
        self.cs = cs;
        self.fetch_ip = ip;
        self.planned = None;
        // The refill is decided at the end of this clock: stream from here.
        self.try_stream();
    }

    fn suspend<B: Bus>(&mut self, bus: &mut B) {
        self.quiet_until = 0;
        if self.stream && self.log.is_none() && self.cycle + 2 >= self.s_t3 {
            // Streaming, past the first fetch's T1 (see the clocked cases
            // below): a fetch in its T1 is called off, one in its T2 or T3
            // lands (three clocks), a T4 ends (one clock).
            let n = self.fetches_before(self.cycle);
            let t1 = self.s_t3 - 2 + 4 * n;
            let (landed, clocks) = match self.cycle.wrapping_sub(t1) {
                0 => (n, 1),
                1 | 2 => (n + 1, 3),
                _ => (n, 1),
            };
            self.stream = false;
            self.stale |= self.s_taken > 0;
            self.unstream(landed);
            self.cycle += clocks;
            self.cur = None;
            self.state = TState::Ti;
            self.planned = None;
            self.suspended = true;
            self.quiet_until = u64::MAX;
            return;
        }
        self.materialize();
        self.suspended = true;
        self.planned = None;
        let fetching = self.cur.is_some_and(|c| c.kind == Transfer::Code);
        if self.log.is_none() && self.eu_req.is_none() {
            // As the clocks below go: a fetch in its T2 or T3 lands, and
            // the bus is idle after the clock or the T4 in progress.
            let clocks = match (self.state, fetching) {
                (TState::T2 | TState::T3, true) => {
                    self.land_cur();
                    self.last_address = self.cur.map_or(0, |x| x.addr);
                    3
                }
                (TState::T1, true) | (TState::Ti, _) => 1,
                (TState::T4, _) => {
                    self.ended(self.cycle);
                    1
                }
                _ => 0,
            };
            if clocks > 0 {
                self.cycle += clocks;
                self.cur = None;
                self.state = TState::Ti;
                self.quiet_until = u64::MAX;
                return;
            }
        }
        // A fetch about to start its T1 this clock is called off; one under
        // way costs the microcode two more clocks.
        let n = match self.state {
            TState::T1 if fetching => {
                self.state = TState::Ti;
                self.cur = None;
                1
            }
            TState::T2 | TState::T3 if fetching => 3,
            _ => 1,
        };
        self.run_to(bus, self.cycle + n);
    }

    fn suspend_free<B: Bus>(&mut self, bus: &mut B) {
        self.quiet_until = 0;
        self.materialize();
        // A fetch not started is called off; one under way (even in its
        // T1) completes, and the microcode waits for its T4.
        self.suspended = true;
        self.planned = None;
        self.tick(bus);
        while self.cur.is_some_and(|c| c.kind == Transfer::Code) && self.state != TState::Ti {
            self.skip(u64::MAX);
            self.tick(bus);
        }
    }

    fn cycles(&self) -> u64 {
        self.cycle
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::FlatBus;
    use crate::i86::Cpu;

    /// A CPU at 1000:0100 with `code` there and in its (full) queue.
    fn setup(code: &[u8]) -> (Cpu<ExactTiming>, FlatBus) {
        let mut bus = FlatBus::new(1 << 20);
        let at = 0x10100;
        let mut bytes = code.to_vec();
        bytes.resize(16, 0x90);
        bus.load(at, &bytes);
        let mut cpu: Cpu<ExactTiming> = Cpu::new(CpuModel::I8086);
        cpu.regs.seg[Seg::CS as usize] = 0x1000;
        cpu.regs.ip = 0x0100;
        cpu.regs.seg[Seg::SS as usize] = 0x2000;
        cpu.regs.gpr[4] = 0x0100;
        cpu.timing.preload(0x1000, 0x0100, &bytes[..6]);
        cpu.timing.record(true);
        (cpu, bus)
    }

    fn states(log: &[CycleRecord]) -> Vec<TState> {
        log.iter().map(|c| c.t).collect()
    }

    #[test]
    fn register_add_takes_three_clocks_and_refills_the_queue() {
        let (mut cpu, mut bus) = setup(&[0x00, 0xE1]); // add cl, ah
        cpu.step(&mut bus);
        let log = cpu.timing.log();
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].queue, QueueOp::First);
        assert_eq!(log[1].queue, QueueOp::Subsequent);
        assert_eq!(log[1].queue_byte, 0xE1);
        // Two bytes taken from a full queue: a word fetch starts two clocks
        // after the room appeared, at the address after the queue's end.
        Timing::eu(&mut cpu.timing, &mut bus, 2);
        let log = cpu.timing.log();
        assert_eq!(log[3].t, TState::T1);
        assert_eq!(log[3].transfer, Some(Transfer::Code));
        assert_eq!(log[3].address, 0x10106);
    }

    #[test]
    fn a_word_at_an_odd_address_is_two_byte_cycles_back_to_back() {
        // push ax with an odd stack pointer
        let (mut cpu, mut bus) = setup(&[0x50]);
        cpu.regs.gpr[4] = 0x0101;
        cpu.regs.gpr[0] = 0xBEEF;
        cpu.step(&mut bus);
        let log = cpu.timing.log();
        let writes: Vec<usize> = log
            .iter()
            .enumerate()
            .filter(|(_, c)| c.t == TState::T1 && c.transfer == Some(Transfer::MemWrite))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(writes.len(), 2);
        assert_eq!(writes[1], writes[0] + 4, "{:?}", states(log));
        assert_eq!(bus.mem[0x200FF], 0xEF);
        assert_eq!(bus.mem[0x20100], 0xBE);
        // The odd byte travels on the high half of the bus.
        assert!(!log[writes[0]].bhe_high);
        assert_eq!(log[writes[0] + 2].data, 0xEF00);
    }

    #[test]
    fn after_reset_the_first_fetch_is_at_the_reset_vector() {
        let mut bus = FlatBus::new(1 << 20);
        bus.load(0xFFFF0, &[0x90; 16]);
        let mut cpu: Cpu<ExactTiming> = Cpu::new(CpuModel::I8088);
        cpu.timing.record(true);
        cpu.step(&mut bus);
        let first = cpu.timing.log().iter().find(|c| c.t == TState::T1);
        assert_eq!(
            first.map(|c| (c.transfer, c.address)),
            Some((Some(Transfer::Code), 0xFFFF0))
        );
    }

    #[test]
    fn a_suspension_left_behind_does_not_hang_the_next_fetch() {
        let (mut cpu, mut bus) = setup(&[0x90]);
        cpu.timing.preload(0x1000, 0x0100, &[]);
        Timing::suspend(&mut cpu.timing, &mut bus);
        Timing::take(&mut cpu.timing, &mut bus, true);
        let log = cpu.timing.log();
        assert_eq!(log.last().map(|c| c.queue), Some(QueueOp::First));
        assert!(log.len() < 100, "{}", log.len());
    }

    #[test]
    fn suspend_free_lets_a_fetch_in_its_t1_complete() {
        let (mut cpu, mut bus) = setup(&[0x90]);
        cpu.timing.preload(0x1000, 0x0100, &[0x90; 4]);
        cpu.timing.record(true);
        // Room seen at the end of clock 0: the fetch's T1 is clock 2.
        Timing::eu(&mut cpu.timing, &mut bus, 2);
        Timing::suspend_free(&mut cpu.timing, &mut bus);
        assert_eq!(cpu.timing.cycles(), 6, "waits for the fetch's T4");
        Timing::eu(&mut cpu.timing, &mut bus, 4);
        let s = states(cpu.timing.log());
        use TState::*;
        assert_eq!(s, [Ti, Ti, T1, T2, T3, T4, Ti, Ti, Ti, Ti]);
        // Decided but not started: called off, one clock.
        let (mut cpu, mut bus) = setup(&[0x90]);
        cpu.timing.preload(0x1000, 0x0100, &[0x90; 4]);
        cpu.timing.record(true);
        Timing::eu(&mut cpu.timing, &mut bus, 1);
        Timing::suspend_free(&mut cpu.timing, &mut bus);
        assert_eq!(cpu.timing.cycles(), 2);
        Timing::eu(&mut cpu.timing, &mut bus, 4);
        assert!(states(cpu.timing.log()).iter().all(|t| *t == Ti));
    }

    /// A log started part-way through an unrecorded run (the model then
    /// streams, counting queue bytes without reading them) must read as
    /// the same clocks of a run logged from the start.
    #[test]
    fn a_log_started_mid_run_matches_one_kept_throughout() {
        // mov cx,100; l: add ax,cx; mov [bx],ax; add dx,[bx+1]; inc bx;
        // loop l; hlt
        let code = [
            0xB9, 100, 0, 0x01, 0xC8, 0x89, 0x07, 0x03, 0x57, 0x01, 0x43, 0xE2, 0xF6, 0xF4,
        ];
        for model in [CpuModel::I8088, CpuModel::I8086] {
            for k in 0..60 {
                let run = |always: bool| {
                    let mut bus = FlatBus::new(1 << 20);
                    bus.load(0x10100, &code);
                    let mut cpu: Cpu<ExactTiming> = Cpu::new(model);
                    cpu.regs.seg[Seg::CS as usize] = 0x1000;
                    cpu.regs.ip = 0x0100;
                    cpu.regs.gpr[3] = 0x0200;
                    cpu.timing.preload(0x1000, 0x0100, &[]);
                    cpu.timing.record(always);
                    for _ in 0..k {
                        cpu.step(&mut bus);
                    }
                    cpu.timing.record(true);
                    let from = cpu.cycles();
                    for _ in 0..16 {
                        cpu.step(&mut bus);
                    }
                    assert_eq!(cpu.timing.log().len() as u64, cpu.cycles() - from);
                    (from, cpu.timing.log().to_vec())
                };
                let (kept, started) = (run(true), run(false));
                assert_eq!(kept.0, started.0, "{model}, {k} instructions");
                assert!(kept.1 == started.1, "{model}, log from instruction {k}");
            }
        }
    }

    #[test]
    fn a_jump_flushes_the_queue_and_refetches_from_the_target() {
        let (mut cpu, mut bus) = setup(&[0xEB, 0x10]); // jmp short +16
        cpu.step(&mut bus);
        Timing::take(&mut cpu.timing, &mut bus, true);
        let log = cpu.timing.log();
        let flush = log.iter().position(|c| c.queue == QueueOp::Flush);
        let flush = flush.expect("the queue is flushed");
        let fetch = log
            .iter()
            .skip(flush)
            .position(|c| c.t == TState::T1)
            .expect("a fetch after the flush")
            + flush;
        assert_eq!(log[fetch].address, 0x10112);
        assert_eq!(fetch, flush + 2);
        // The first byte reaches the EU three clocks after T3.
        let first = log.len() - 1;
        assert_eq!(log[first].queue, QueueOp::First);
        assert_eq!(first, fetch + 2 + 3);
    }
}
