//! The 80286 bus model: the bus unit, the instruction unit's consumption of
//! the prefetch queue and the execution unit's clocks, simulated one clock
//! at a time.
//!
//! The instruction semantics are the fast model's (no 8086 microcode
//! points); the model hears of an instruction when it is decoded
//! ([`Timing::begin`]) and when it ends ([`Timing::end`]), and of every
//! memory, I/O and flush request in between. Rules, measured on the 80286
//! single-step vectors (see docs/timing.md):
//! - a bus cycle is Ts Tc (no wait states); cycles follow each other with no
//!   idle clock; a request the execution unit makes in clock `n` starts its
//!   Ts at `n + 2` at the earliest, after the cycle in progress;
//! - prefetches are words at even addresses (a byte at an odd one) into a
//!   6-byte queue; a prefetch starts when the queue has room for it counting
//!   bytes in flight, where a byte the instruction unit took in clock `c`
//!   makes room for a fetch starting at `c + 3`; requests of the execution
//!   unit go first;
//! - the instruction unit takes one byte a clock, from the clock after the
//!   byte's Tc; a sign-extended byte (8-bit displacement, `Ibs`, `Jb`) costs
//!   a clock more; it decodes the current instruction and the next opcode;
//! - an instruction starts executing four clocks after its last byte was
//!   taken (and not before the previous one ended); it runs for the Intel
//!   clock count, its reads made at once and waiting for their data, its
//!   writes held until three clocks before its end;
//! - once the instruction unit has decoded a jump, call, return, LOOP,
//!   interrupt or HLT, no prefetch starts more than three clocks later, until
//!   the queue is flushed; the fetch at the new address is requested like a
//!   transfer;
//! - control transfers, interrupt entries, REP strings and ESC follow the
//!   per-instruction microcode the `begin` hook sets up (lead clocks, write
//!   order, flush delays), each measured on the vectors.

use super::pins::{write_lanes, BusView, CycleRecord, QueueOp, TState};
use super::timing::{Decoded, Timing, Transfer};
use crate::bus::Bus;
use crate::model::CpuModel;
use crate::regs::Seg;
use crate::table::{Op, Opd, StrOp};

/// Queue size in bytes.
const QUEUE: usize = 6;
/// Clocks from the clock an instruction's last byte is taken to its first
/// execution clock.
const DECODE_TO_EXECUTE: u64 = 4;
/// [`Exact286Timing`]'s gap rule: the first write is a split word's first half.
const SPLIT_FIRST: u64 = u64::MAX;
/// Clocks from a REP string instruction's start to its first iteration.
const REP_LEAD: u64 = 4;
/// A byte taken in clock `c` makes room for a fetch starting at `c + ROOM_DELAY`.
const ROOM_DELAY: u64 = 3;

#[derive(Clone, Copy, Debug)]
struct Xfer {
    kind: Transfer,
    addr: u32,
    /// Bytes moved: 1 or 2.
    width: u8,
    data: u16,
    /// Execution-unit request (not a prefetch).
    eu: bool,
}

/// When the execution unit requests the writes of an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteMode {
    /// Three clocks before the instruction ends (or before a later read or
    /// a flush).
    Deferred,
    /// At once.
    Immediate,
    /// The first at once (right after a read's data, following that read
    /// on the bus), the others deferred.
    FirstImmediate,
}

/// The cycle-exact model of the 80286's bus and instruction pipeline.
#[derive(Clone, Debug)]
pub struct Exact286Timing {
    cycle: u64,
    mask: u32,
    queue: [u8; 8],
    /// First clock each queued byte can be taken in.
    ready: [u64; 8],
    qhead: usize,
    qlen: usize,
    cs: u16,
    fetch_ip: u16,
    /// Bytes fetched (landed or in flight) since the last flush.
    fetched: u32,
    /// Clocks in which the instruction unit took each byte since the flush.
    taken_at: Vec<u64>,
    /// Bytes since the flush the instruction unit may take (the current
    /// instruction and the next opcode).
    iu_limit: u32,
    /// Positions (since the flush) of bytes that cost an extra clock.
    slow: u64,
    /// Position of the current instruction's first byte since the flush.
    instr_start: u32,
    /// The instruction unit decodes past the current instruction up to a HLT.
    decode_on: bool,
    /// Position (since the flush) after the current instruction's last byte.
    instr_end: u32,
    /// Earliest clock of the next take.
    iu_next: u64,
    /// The clock a transfer-of-control instruction was decoded in.
    stop: Option<u64>,
    state: TState,
    cur: Option<Xfer>,
    /// Execution-unit requests and the first clock each may start in.
    pending: Vec<(Xfer, u64)>,
    /// The last read's data and the clock after its Tc.
    result: u16,
    done: bool,
    last_read_end: u64,
    /// The next request follows the last cycle at once (second half of a
    /// split word).
    chained: bool,
    /// Microcode of the current instruction: clocks from its start to its
    /// first bus request, how its writes go out, and clocks between the
    /// semantics' flush and the request of the fetch at the target.
    lead: u64,
    writes: WriteMode,
    flush_delay: u64,
    /// Words written as two byte cycles in the current instruction.
    split_writes: u64,
    /// The current instruction's operation.
    op: Option<Op>,
    /// Reads (of a byte or a word) the current instruction made.
    eu_reads: u64,
    /// Prefetching reached the end of the code segment.
    at_limit: bool,
    /// The clock a base + index + displacement address added to the start.
    ea_extra: u64,
    /// A gap after the first write: armed, or the first write's Ts.
    gap: Option<Option<u64>>,
    /// The first write after a word read waits a clock (CALL FAR [mem]).
    write_gap: bool,
    /// Bytes the last read moved.
    last_read_width: u8,
    /// The Ts of the last execution-unit transfer.
    last_eu_ts: u64,
    /// The current instruction's operand is a word, in memory.
    word: bool,
    mem: bool,
    /// The first clock the current instruction's immediate can be used in.
    imm_ready: u64,
    /// REP string instructions: when the last iteration started, and the
    /// clocks between iterations.
    last_iteration: Option<u64>,
    per_iteration: u64,
    /// Writes right after a read's data follow it on the bus at once.
    chain_writes: bool,
    /// A flush was requested by the current instruction.
    flushed: bool,
    /// Writes the execution unit has not requested yet.
    deferred: Vec<Xfer>,
    /// The clock the current instruction started executing in.
    exec_start: u64,
    /// Clocks the execution unit waited beyond the nominal read latency, and
    /// other penalties, added to the instruction's clock count.
    stall: u64,
    /// The clock the previous instruction's execution ended.
    eu_free: u64,
    /// The code fetch in flight was flushed: its bytes are dropped.
    discard: bool,
    log: Option<Vec<CycleRecord>>,
    last_address: u32,
}

impl Default for Exact286Timing {
    fn default() -> Self {
        Exact286Timing {
            cycle: 0,
            mask: 0xFF_FFFF,
            queue: [0; 8],
            ready: [0; 8],
            qhead: 0,
            qlen: 0,
            cs: 0,
            fetch_ip: 0,
            fetched: 0,
            taken_at: Vec::new(),
            iu_limit: 1,
            decode_on: false,
            instr_end: 0,
            slow: 0,
            instr_start: 0,
            iu_next: 0,
            stop: None,
            state: TState::Ti,
            cur: None,
            pending: Vec::new(),
            deferred: Vec::new(),
            split_writes: 0,
            op: None,
            imm_ready: 0,
            write_gap: false,
            gap: None,
            ea_extra: 0,
            at_limit: false,
            eu_reads: 0,
            last_read_width: 2,
            word: false,
            mem: false,
            last_eu_ts: 0,
            last_iteration: None,
            per_iteration: 0,
            chain_writes: false,
            flushed: false,
            lead: 0,
            writes: WriteMode::Deferred,
            flush_delay: 0,
            result: 0,
            done: false,
            last_read_end: u64::MAX,
            chained: false,
            exec_start: 0,
            stall: 0,
            eu_free: 0,
            discard: false,
            log: None,
            last_address: 0,
        }
    }
}

/// Intel's 80286 real-mode clock count of an instruction, without the
/// clocks a jump's target instruction costs (`m`): those come from the
/// decoding of that instruction.
fn clocks(d: &Decoded, taken: bool, count: u32) -> u64 {
    use crate::table::AluOp;
    let mem = d.modrm.is_some_and(|m| m.md != 3);
    let n = count as u64;
    let w = d.sem.word;
    let [a, b, _] = d.sem.opd;
    let pick = |reg: u64, m: u64| if mem { m } else { reg };
    match d.sem.op {
        Op::Alu(AluOp::Cmp) => match (d.modrm.is_some(), b) {
            (true, Opd::Ib | Opd::Iv | Opd::Ibs) => pick(3, 6),
            (true, Opd::Eb | Opd::Ev) => pick(2, 7),
            (true, _) => pick(2, 6),
            _ => 3,
        },
        Op::Alu(_) => match (d.modrm.is_some(), b) {
            (true, Opd::Ib | Opd::Iv | Opd::Ibs) => pick(3, 7),
            (true, _) => pick(2, 7),
            _ => 3,
        },
        Op::Test => match (d.modrm.is_some(), b) {
            (true, Opd::Ib | Opd::Iv) => pick(3, 6),
            (true, _) => pick(2, 6),
            _ => 3,
        },
        Op::Mov => match (a, b) {
            (Opd::AL | Opd::AX, Opd::Ob | Opd::Ov) => 5,
            (Opd::Ob | Opd::Ov, _) => 3,
            (Opd::Gb | Opd::Gv | Opd::Sw, _) => pick(2, 5),
            (Opd::Eb | Opd::Ev, _) => pick(2, 3),
            _ => 2,
        },
        Op::Xchg => pick(3, 5),
        Op::Nop => 3,
        Op::Inc | Op::Dec | Op::Not | Op::Neg => pick(2, 7),
        Op::Push => pick(3, 5),
        Op::Pop => 5,
        Op::Pusha => 17,
        Op::Popa => 19,
        Op::Pushf => 3,
        Op::Popf => 6,
        Op::Lea => 3,
        Op::Lptr(_) => 7,
        Op::Xlat => 5,
        Op::Cbw | Op::Cwd | Op::Lahf | Op::Sahf | Op::Cmc => 2,
        Op::Salc => 4 - n.min(1),
        Op::SetFlag(f, false) if f == crate::regs::IF => 3,
        Op::SetFlag(..) => 2,
        Op::Daa | Op::Das | Op::Aaa | Op::Aas => 3,
        Op::Aam => 16,
        Op::Aad => 14,
        Op::Wait => 7,
        Op::Mul | Op::Imul => match w {
            false => pick(13, 17),
            true => pick(21, 25),
        },
        Op::Imul3 => pick(21, 24),
        Op::Div => match w {
            false => pick(14, 17),
            true => pick(22, 25),
        },
        Op::Idiv => match w {
            false => pick(17, 20),
            true => pick(25, 28),
        },
        Op::Shift(_) => match b {
            Opd::One => pick(2, 7),
            // A count of 0 writes nothing back.
            _ if n == 0 => pick(5, 6),
            _ => pick(5, 8) + n,
        },
        Op::Str(s) => {
            let (single, start, per) = match s {
                StrOp::Movs => (5, 5, 4),
                StrOp::Cmps => (8, 5, 9),
                StrOp::Scas => (7, 5, 8),
                StrOp::Lods => (5, 5, 4),
                StrOp::Stos => (3, 4, 3),
                StrOp::Ins | StrOp::Outs => (5, 5, 4),
            };
            if d.rep {
                start + per * n
            } else {
                single
            }
        }
        Op::In => 5,
        Op::Out => 3,
        Op::Jcc(_) => {
            if taken {
                7
            } else {
                3
            }
        }
        Op::Loop | Op::Loopz | Op::Loopnz | Op::Jcxz => {
            if taken {
                8
            } else {
                4
            }
        }
        Op::Jmp | Op::Call => 7,
        Op::JmpInd | Op::CallInd => pick(7, 11),
        Op::JmpFar => 11,
        Op::CallFar => 13,
        Op::JmpFarInd => 15,
        Op::CallFarInd => 16,
        Op::Ret => 11,
        Op::Retf => 15,
        Op::Int => 23,
        Op::Into => {
            if taken {
                24
            } else {
                3
            }
        }
        Op::Iret => 17,
        Op::Bound => 13,
        Op::Enter => 11,
        Op::Leave => 5,
        Op::Hlt => 2,
        _ => 2,
    }
}

impl Exact286Timing {
    /// Start recording every clock (cleared).
    pub fn record(&mut self, on: bool) {
        self.log = on.then(Vec::new);
    }

    /// The clocks recorded since [`Exact286Timing::record`].
    pub fn log(&self) -> &[CycleRecord] {
        self.log.as_deref().unwrap_or(&[])
    }

    /// Start from an empty queue fetching at `cs:ip`, the bus idle.
    pub fn start(&mut self, cs: u16, ip: u16) {
        self.reset_queue(cs, ip);
        self.pending.clear();
        self.deferred.clear();
        self.eu_free = self.cycle;
        self.state = self.decide(self.cycle);
    }

    fn reset_queue(&mut self, cs: u16, ip: u16) {
        self.qhead = 0;
        self.qlen = 0;
        self.cs = cs;
        self.fetch_ip = ip;
        self.fetched = 0;
        self.taken_at.clear();
        self.at_limit = false;
        self.iu_limit = 1;
        self.slow = 0;
        self.instr_start = 0;
        self.stop = None;
    }

    #[inline]
    fn fetch_addr(&self) -> u32 {
        (((self.cs as u32) << 4) + self.fetch_ip as u32) & self.mask
    }

    #[inline]
    fn fetch_width(&self) -> u32 {
        if self.fetch_ip & 1 != 0 {
            1
        } else {
            2
        }
    }

    /// A prefetch may start its Ts in clock `t`.
    fn may_prefetch(&self, t: u64) -> bool {
        if self.at_limit {
            return false;
        }
        if self.stop.is_some_and(|d| t > d + ROOM_DELAY) {
            return false;
        }
        let freed = self
            .taken_at
            .iter()
            .filter(|&&c| c + ROOM_DELAY <= t)
            .count() as u32;
        self.fetched - freed + self.fetch_width() <= QUEUE as u32
    }

    fn code_xfer(&self) -> Xfer {
        Xfer {
            kind: Transfer::Code,
            addr: self.fetch_addr(),
            width: self.fetch_width() as u8,
            data: 0,
            eu: false,
        }
    }

    #[inline]
    fn push(&mut self, b: u8, ready: u64) {
        let i = (self.qhead + self.qlen) & 7;
        self.queue[i] = b;
        self.ready[i] = ready;
        self.qlen += 1;
    }

    /// One clock: the data phase, the instruction unit, the record, then
    /// what the bus does next.
    fn tick<B: Bus>(&mut self, bus: &mut B) {
        let n = self.cycle;
        if self.state == TState::T2 {
            if let Some(x) = self.cur.as_mut() {
                let odd = x.addr & 1 != 0;
                match x.kind {
                    Transfer::Code | Transfer::MemRead => {
                        let code = x.kind == Transfer::Code;
                        let mut rd = |a: u32| if code { bus.fetch(a) } else { bus.read(a) };
                        // The whole word is on the bus, whatever the width.
                        let even = x.addr & !1;
                        x.data = rd(even) as u16 | (rd((even + 1) & self.mask) as u16) << 8;
                    }
                    Transfer::IoRead => {
                        let port = x.addr as u16;
                        x.data = if x.width == 2 {
                            bus.io_read16(port)
                        } else if odd {
                            (bus.io_read(port) as u16) << 8 | 0xFF
                        } else {
                            bus.io_read(port) as u16 | 0xFF00
                        };
                    }
                    Transfer::MemWrite | Transfer::IoWrite => {
                        write_lanes(bus, x.kind, x.addr, x.width, odd, x.data, self.mask);
                    }
                    Transfer::IntA => x.data = bus.inta() as u16,
                    Transfer::Halt => {}
                }
            }
        }
        // The instruction unit takes a byte.
        let pos = self.taken_at.len() as u32;
        if pos < self.iu_limit && self.qlen > 0 && self.ready[self.qhead] <= n && self.iu_next <= n
        {
            let b = self.queue[self.qhead];
            self.qhead = (self.qhead + 1) & 7;
            self.qlen -= 1;
            self.taken_at.push(n);
            let slow = pos < 64 && self.slow & (1 << pos) != 0;
            self.iu_next = n + 1 + slow as u64;
            // HLT as the next opcode stops prefetching like a jump.
            if pos + 1 == self.iu_limit && b == 0xF4 && self.stop.is_none() {
                self.stop = Some(n);
            }
            // Past an invalid instruction the unit decodes on, up to a HLT.
            if self.decode_on && pos >= self.instr_end && pos + 1 < self.iu_limit && b == 0xF4 {
                self.iu_limit = pos + 1;
                if self.stop.is_none() {
                    self.stop = Some(n);
                }
            }
        }
        if self.log.is_some() {
            // No segment status and no queue status on the 286.
            let x = self.cur.map(|x| BusView {
                kind: x.kind,
                addr: x.addr,
                seg: Seg::CS,
                high_lane: x.width == 2 || x.addr & 1 != 0,
                data: x.data,
            });
            let record = CycleRecord::of(self.state, x, &mut self.last_address, (QueueOp::None, 0));
            if let Some(log) = self.log.as_mut() {
                log.push(record);
            }
        }
        if self.state == TState::T2 {
            if let Some(x) = self.cur {
                match x.kind {
                    Transfer::Code if self.discard => self.discard = false,
                    Transfer::Code => {
                        if x.width == 2 {
                            self.push(x.data as u8, n + 1);
                            self.push((x.data >> 8) as u8, n + 1);
                        } else {
                            self.push((x.data >> 8) as u8, n + 1);
                        }
                        let (ip, wrapped) = self.fetch_ip.overflowing_add(x.width as u16);
                        self.fetch_ip = ip;
                        // No prefetch runs past the end of the code segment.
                        self.at_limit |= wrapped;
                    }
                    Transfer::MemRead | Transfer::IoRead | Transfer::IntA => {
                        self.last_read_width = x.width;
                        self.result = x.data;
                        self.done = true;
                        self.last_read_end = n + 1;
                    }
                    _ => {}
                }
            }
        }
        self.cycle += 1;
        let next = self.cycle;
        self.state = match self.state {
            TState::T1 => TState::T2,
            TState::T2 | TState::Ti => self.decide(next),
            s => s,
        };
    }

    /// What the bus does in clock `t` after a Tc or an idle clock.
    fn decide(&mut self, t: u64) -> TState {
        self.cur = None;
        if !self.pending.is_empty() && self.pending[0].1 <= t {
            let (x, _) = self.pending.remove(0);
            self.last_eu_ts = t;
            self.cur = Some(x);
            TState::T1
        } else if self.pending.is_empty() && self.may_prefetch(t) {
            let x = self.code_xfer();
            self.fetched += x.width as u32;
            self.cur = Some(x);
            TState::T1
        } else {
            TState::Ti
        }
    }

    /// Queue an execution-unit request made in the current clock.
    fn request(&mut self, x: Xfer) {
        let chained = std::mem::take(&mut self.chained);
        // A read right after a read's data follows it at once.
        let at = if chained || x.kind == Transfer::MemRead && self.cycle == self.last_read_end {
            self.cycle
        } else {
            // Requests made without a bus at hand count from the end of the lead.
            self.cycle.max(self.exec_start + self.lead) + 2
        };
        self.pending.push((x, at));
        // The current clock is still to run: a request due now takes it.
        if self.state == TState::Ti && at <= self.cycle {
            self.state = self.decide(self.cycle);
        }
    }

    fn read_xfer<B: Bus>(&mut self, bus: &mut B, x: Xfer) -> u16 {
        self.wait_lead(bus);
        self.release();
        // A read following another's data at once is due two clocks sooner.
        let asked = if self.chained || self.cycle == self.last_read_end {
            self.cycle.saturating_sub(2)
        } else {
            self.cycle
        };
        self.request(x);
        self.done = false;
        while !self.done {
            self.tick(bus);
        }
        self.done = false;
        // Data normally back at the end of the clock three after the request.
        self.stall += self.cycle.saturating_sub(asked + 4);
        self.result
    }

    /// Writes wait in the execution unit until it has worked out the
    /// value: they go out three clocks before the instruction ends, or
    /// before a later read or a flush.
    fn write_xfer(&mut self, xs: &[Xfer]) {
        match self.writes {
            WriteMode::Deferred => self.deferred.extend_from_slice(xs),
            WriteMode::Immediate => {
                self.deferred.extend_from_slice(xs);
                if self.chain_writes && self.cycle == self.last_read_end {
                    self.chained = true;
                }
                self.release();
            }
            WriteMode::FirstImmediate => {
                self.deferred.extend_from_slice(xs);
                if self.cycle == self.last_read_end {
                    if self.write_gap && self.last_read_width == 2 {
                        // CALL FAR [mem]: after a whole word, a clock's gap.
                        let x = self.deferred.remove(0);
                        self.pending.push((x, self.cycle + 1));
                    } else {
                        self.chained = true;
                    }
                }
                self.release();
                self.writes = WriteMode::Deferred;
            }
        }
    }

    /// Spend the clocks before the instruction's first request.
    fn wait_lead<B: Bus>(&mut self, bus: &mut B) {
        while self.cycle < self.exec_start + self.lead {
            self.tick(bus);
        }
    }

    /// Request the writes held back, in order.
    fn release(&mut self) {
        for x in std::mem::take(&mut self.deferred) {
            let split_half = x.width == 1
                && self.pending.last().is_some_and(|(p, _)| {
                    p.kind == x.kind && p.width == 1 && p.addr & 1 != 0 && x.addr & 1 == 0
                });
            if split_half {
                // The second half of a word follows the first at once.
                let first = self.pending.last().map_or(0, |p| p.1);
                self.pending.push((x, 0));
                let _ = first;
                if self.gap == Some(Some(SPLIT_FIRST)) {
                    // A split first push leaves no gap.
                    self.gap = None;
                }
                continue;
            }
            // A clock's gap after the first write (BOUND's interrupt entry,
            // ESC with a memory operand); a split word counts as one.
            match self.gap {
                Some(Some(first)) if first != SPLIT_FIRST => {
                    self.gap = None;
                    self.pending.push((x, first + 3));
                }
                Some(None) => {
                    self.request(x);
                    let at = self.pending.last().map_or(self.last_eu_ts, |p| p.1);
                    let odd = x.width == 1 && x.addr & 1 != 0;
                    self.gap = Some(Some(if odd { SPLIT_FIRST } else { at }));
                }
                _ => self.request(x),
            }
        }
    }

    fn byte_xfer(kind: Transfer, addr: u32, data: u16) -> Xfer {
        Xfer {
            kind,
            addr,
            width: 1,
            data: if addr & 1 != 0 {
                data << 8
            } else {
                data & 0xFF
            },
            eu: true,
        }
    }

    fn word<B: Bus>(&mut self, bus: &mut B, kind: Transfer, lo: u32, hi: u32, v: u16) -> u16 {
        let read = matches!(kind, Transfer::MemRead | Transfer::IoRead);
        if lo & 1 == 0 && hi == lo + 1 {
            let x = Xfer {
                kind,
                addr: lo,
                width: 2,
                data: v,
                eu: true,
            };
            if read {
                self.read_xfer(bus, x)
            } else {
                self.write_xfer(&[x]);
                0
            }
        } else if read {
            let asked = if self.cycle == self.last_read_end {
                self.cycle.saturating_sub(2)
            } else {
                self.cycle
            };
            let stall = self.stall;
            let a = self.read_xfer(bus, Self::byte_xfer(kind, lo, 0));
            self.chained = true;
            let b = self.read_xfer(bus, Self::byte_xfer(kind, hi, 0));
            self.stall = stall + self.cycle.saturating_sub(asked + 4);
            let a = if lo & 1 != 0 { a >> 8 } else { a & 0xFF };
            let b = if hi & 1 != 0 { b >> 8 } else { b & 0xFF };
            a | b << 8
        } else {
            self.write_xfer(&[
                Self::byte_xfer(kind, lo, v),
                Self::byte_xfer(kind, hi, v >> 8),
            ]);
            self.split_writes += 1;
            0
        }
    }
}

impl Timing for Exact286Timing {
    const NAME: &'static str = "exact";
    const DECODE_CACHE: bool = false;
    const EXACT_286: bool = true;

    fn configure(&mut self, model: CpuModel) {
        self.mask = model.address_mask();
    }

    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8 {
        bus.read(addr)
    }

    fn read8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32) -> u8 {
        self.eu_reads += 1;
        let r = self.read_xfer(bus, Self::byte_xfer(Transfer::MemRead, addr, 0));
        if addr & 1 != 0 {
            (r >> 8) as u8
        } else {
            r as u8
        }
    }

    fn write8<B: Bus>(&mut self, _bus: &mut B, _seg: Seg, addr: u32, v: u8) {
        self.write_xfer(&[Self::byte_xfer(Transfer::MemWrite, addr, v as u16)]);
    }

    fn read16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32) -> u16 {
        self.eu_reads += 1;
        self.word(bus, Transfer::MemRead, lo, hi, 0)
    }

    fn write16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32, v: u16) {
        self.word(bus, Transfer::MemWrite, lo, hi, v);
    }

    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16 {
        self.eu_reads += 1;
        let p = port as u32;
        if word {
            self.word(bus, Transfer::IoRead, p, p + 1, 0)
        } else {
            let r = self.read_xfer(bus, Self::byte_xfer(Transfer::IoRead, p, 0));
            if p & 1 != 0 {
                r >> 8
            } else {
                r & 0xFF
            }
        }
    }

    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16) {
        let p = port as u32;
        if word {
            self.word(bus, Transfer::IoWrite, p, p + 1, v);
        } else {
            self.write_xfer(&[Self::byte_xfer(Transfer::IoWrite, p, v)]);
        }
    }

    fn begin<B: Bus>(&mut self, bus: &mut B, d: &Decoded) {
        // Which of the instruction's bytes are sign-extended on decoding.
        let start = self.instr_start;
        let mut off = d.prefixes as u32 + 1;
        let mut slow = 0u64;
        if let Some(m) = d.modrm {
            off += 1;
            match (m.md, m.rm) {
                (1, _) => {
                    slow |= 1 << (start + off).min(63);
                    off += 1;
                }
                (2, _) | (0, 6) => off += 2,
                _ => {}
            }
        }
        if d.sem.opd.iter().any(|o| matches!(o, Opd::Ibs | Opd::Jb)) {
            slow |= 1 << (start + off).min(63);
        }
        self.slow |= slow;
        let end = start + d.len;
        // An invalid instruction (found out only when it executes) does not
        // hold the instruction unit back: it decodes the bytes after it.
        let m3 = d.modrm.is_some_and(|m| m.md == 3);
        let bad_sreg = d.sem.op == Op::Mov
            && d.sem.opd[0] == Opd::Sw
            && d.modrm.is_some_and(|m| m.reg & 3 == 1 || m.reg > 3);
        self.decode_on = matches!(d.sem.op, Op::Invalid)
            || bad_sreg
            || m3 && matches!(d.sem.op, Op::Lptr(_) | Op::Bound | Op::Lea);
        self.iu_limit = end + if self.decode_on { 8 } else { 1 };
        self.instr_end = end;
        // The instruction is decoded when its last byte is taken.
        while (self.taken_at.len() as u32) < end {
            self.tick(bus);
        }
        let last = self.taken_at[end as usize - 1];
        let slow_last = self.slow & (1 << (end - 1).min(63)) != 0;
        let decoded = last + slow_last as u64;
        if self.decode_on && self.stop.is_none() {
            // The invalid opcode's exception stops prefetching too.
            self.stop = Some(decoded + 2);
        }
        if matches!(
            d.sem.op,
            Op::Jmp
                | Op::JmpFar
                | Op::Call
                | Op::CallFar
                | Op::Ret
                | Op::Retf
                | Op::Int
                | Op::Into
                | Op::Loop
                | Op::Loopz
                | Op::Loopnz
                | Op::Iret
                | Op::Hlt
                | Op::CallInd
                | Op::JmpInd
                | Op::CallFarInd
                | Op::JmpFarInd
        ) && self.stop.is_none()
        {
            self.stop = Some(decoded);
        }
        // Base + index + displacement costs the address unit a clock (POP's
        // first transfer is the stack read, which it does not delay).
        let ea = (d.sem.op != Op::Pop && d.modrm.is_some_and(|m| matches!(m.md, 1 | 2) && m.rm < 4))
            as u64;
        self.ea_extra = ea;
        let e = (decoded + DECODE_TO_EXECUTE).max(self.eu_free) + ea;
        self.imm_ready = 0;
        while self.cycle < e {
            self.tick(bus);
        }
        self.exec_start = self.cycle;
        self.eu_reads = 0;
        self.stall = 0;
        self.split_writes = 0;
        let mem = d.modrm.is_some_and(|m| m.md != 3);
        self.op = Some(d.sem.op);
        self.write_gap = d.sem.op == Op::CallFarInd;
        self.gap = (d.sem.op == Op::Esc && mem).then_some(None);
        self.word = d.sem.word;
        self.mem = mem;
        self.last_iteration = None;
        self.chain_writes = false;
        self.flushed = false;
        self.per_iteration = match d.sem.op {
            Op::Str(StrOp::Stos) => 3,
            Op::Str(StrOp::Cmps) => 9,
            Op::Str(StrOp::Scas) => 8,
            _ => 4,
        };
        (self.lead, self.writes, self.flush_delay) = match d.sem.op {
            Op::Iret => (1, WriteMode::Deferred, 2),
            Op::CallFar => (2, WriteMode::FirstImmediate, 4),
            Op::CallFarInd => (0, WriteMode::FirstImmediate, 0),
            Op::CallInd if mem => (0, WriteMode::FirstImmediate, 1),
            Op::CallInd => (0, WriteMode::Immediate, 0),
            Op::Xchg if mem => (0, WriteMode::FirstImmediate, 0),
            Op::Str(StrOp::Outs) => (0, WriteMode::FirstImmediate, 0),
            Op::Call | Op::Pusha | Op::Enter => (0, WriteMode::Immediate, 0),
            Op::Esc if mem => (13, WriteMode::Immediate, 0),
            Op::Esc => (5, WriteMode::Immediate, 0),
            Op::Ret | Op::Loop | Op::Loopz | Op::Loopnz | Op::Jcxz => (0, WriteMode::Deferred, 1),
            Op::Retf | Op::JmpFarInd => (0, WriteMode::Deferred, 2),
            Op::JmpFar => (0, WriteMode::Deferred, 4),
            _ => (0, WriteMode::Deferred, 0),
        };
        self.instr_start = end;
    }

    fn end<B: Bus>(&mut self, bus: &mut B, d: &Decoded, taken: bool, count: u32) {
        if d.sem.op == Op::Hlt {
            self.request(Xfer {
                kind: Transfer::Halt,
                addr: 2,
                width: 2,
                data: 0,
                eu: true,
            });
            while self.state != TState::T1 || self.cur.is_none_or(|c| c.kind != Transfer::Halt) {
                self.tick(bus);
            }
            self.tick(bus);
            self.eu_free = self.cycle;
            return;
        }
        let c = clocks(d, taken, count);
        let mut until = self.exec_start + c + self.stall;
        if let Some(t) = self.last_iteration {
            // The loop ends two clocks after its last transfer's Ts.
            while !self.pending.is_empty() || !self.deferred.is_empty() {
                self.release();
                self.tick(bus);
            }
            let per = self.per_iteration + std::mem::take(&mut self.stall);
            until = if d.sem.op == Op::Str(StrOp::Stos) {
                (t + per + 1).max(self.last_eu_ts)
            } else {
                (t + per).max(self.last_eu_ts) + 2
            };
            self.split_writes = 0;
        } else if let (true, Op::Str(s)) = (d.rep, d.sem.op) {
            // No iteration (CX = 0).
            until = self.exec_start
                + match s {
                    StrOp::Movs | StrOp::Ins => 7,
                    _ => 5,
                };
        }
        if d.sem.op == Op::Esc {
            // ESC ends four clocks after its last write to the coprocessor.
            while !self.pending.is_empty() || !self.deferred.is_empty() {
                self.release();
                self.tick(bus);
            }
            until = self.last_eu_ts + 4;
        }
        if d.sem.op == Op::Str(StrOp::Outs) && !d.rep {
            // OUTS ends a clock after its (last) write's Ts.
            while !self.pending.is_empty() || !self.deferred.is_empty() {
                self.release();
                self.tick(bus);
            }
            until = self.last_eu_ts + 1;
            self.split_writes = 0;
        }
        if self.flushed {
            // The target's decoding decides when the next instruction starts.
            until = self.cycle;
        }
        if !self.deferred.is_empty() {
            while self.cycle + 3 < until || self.cycle < self.imm_ready {
                self.tick(bus);
            }
            self.release();
            // The last write goes out three clocks before the end at least.
            until = until.max(self.cycle + 3);
        }
        // A split word's second write costs a clock more.
        let until = until + std::mem::take(&mut self.split_writes);
        while self.cycle < until {
            self.tick(bus);
        }
        self.eu_free = self.cycle;
    }

    fn iteration<B: Bus>(&mut self, bus: &mut B, op: StrOp) {
        // Iterations start a fixed number of clocks apart (the first after
        // the REP microcode's set-up); writes follow reads at once.
        let lead = match op {
            StrOp::Lods | StrOp::Scas | StrOp::Cmps => REP_LEAD - 1,
            _ => REP_LEAD,
        };
        // (A word split in two byte cycles lengthens the iteration.)
        let at = match self.last_iteration {
            Some(t) => t + self.per_iteration + std::mem::take(&mut self.stall),
            None => self.exec_start + lead,
        };
        while self.cycle < at {
            self.tick(bus);
        }
        self.last_iteration = Some(self.cycle);
        // An iteration's first read does not follow the last one's at once.
        self.last_read_end = u64::MAX;
        self.writes = WriteMode::Immediate;
        self.chain_writes = true;
    }

    fn interrupt<B: Bus>(&mut self, bus: &mut B, vector: u8, detail: u32) {
        // Clocks from the instruction's start to the first push.
        let divide = match self.op {
            Some(Op::Div) => Some(if self.word { 23 } else { 15 }),
            Some(Op::Idiv) => Some(if self.word { 28 } else { 20 }),
            _ => None,
        };
        let lead = match (self.op, vector) {
            // The division gives up on an overflowing quotient (memory
            // forms three clocks later, after their read).
            (_, 0) if divide.is_some() => {
                divide.unwrap_or(0) + if self.mem { 3 } else { 0 } + self.stall
            }
            (Some(Op::Int), 3) | (Some(Op::Into), _) => 3,
            (Some(Op::Int), _) => 2,
            (_, 6) => 4,
            // (Four clocks more for each read made before the fault.)
            (_, 13) => 17 + 4 * self.eu_reads,
            _ => 2,
        };
        self.release();
        // (An invalid opcode's exception comes before any address.)
        let start = if vector == 6 {
            self.exec_start - self.ea_extra
        } else {
            self.exec_start
        };
        let mut at = (start + lead).max(self.cycle);
        if self.op == Some(Op::Bound) && vector == 5 {
            // BOUND: the first push 9 clocks after its last read's Ts (12
            // when the upper bound failed), the next after a clock's gap.
            at = at.max(self.last_eu_ts + 7 + 3 * detail.min(1) as u64);
            self.gap = Some(None);
        }
        while self.cycle < at {
            self.tick(bus);
        }
        self.lead = 0;
        self.writes = WriteMode::Immediate;
        self.flush_delay = 2;
    }

    fn flush(&mut self, cs: u16, ip: u16) {
        let at = self.cycle;
        self.discard = self.cur.is_some_and(|c| c.kind == Transfer::Code && !c.eu)
            && matches!(self.state, TState::T1 | TState::T2);
        self.reset_queue(cs, ip);
        // The fetch at the new address is requested like a transfer, before
        // any write held back.
        let mut x = self.code_xfer();
        x.eu = true;
        self.fetched = x.width as u32;
        let mut at = at.max(self.exec_start + self.lead) + self.flush_delay + 2;
        if matches!(self.op, Some(Op::CallFar | Op::CallFarInd)) {
            // CALL FAR: the fetch comes four clocks after the CS push's
            // (last) Ts; the second half of a split push follows the first.
            let n = self.pending.len();
            let w = match self.pending.last() {
                Some(&(_, 0)) if n >= 2 => self.pending[n - 2].1 + 2,
                Some(&(_, at)) => at,
                None => self.last_eu_ts,
            };
            at = at.max(w + 4);
        }
        self.pending.push((x, at));
        self.release();
        // Pushes after the flush (CALL) go out at once, after the fetch.
        self.writes = WriteMode::Immediate;
        self.flushed = true;
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

    /// A 286 at 1000:0100 with `code` there, run to its HLT; the states and
    /// transfers of every clock up to the HALT cycle's Ts.
    fn run(
        code: &[u8],
        setup: impl Fn(&mut Cpu<Exact286Timing>),
    ) -> Vec<(TState, Option<Transfer>)> {
        let mut bus = FlatBus::new(1 << 20);
        bus.load(0x10100, code);
        let mut cpu: Cpu<Exact286Timing> = Cpu::new(CpuModel::I80286);
        cpu.regs.seg[Seg::CS as usize] = 0x1000;
        cpu.regs.ip = 0x0100;
        cpu.regs.seg[Seg::DS as usize] = 0x2000;
        cpu.regs.seg[Seg::SS as usize] = 0x3000;
        cpu.regs.gpr[4] = 0x0100;
        setup(&mut cpu);
        cpu.timing.start(0x1000, 0x0100);
        cpu.timing.record(true);
        for _ in 0..4 {
            if cpu.halted() {
                break;
            }
            cpu.step(&mut bus);
        }
        assert!(cpu.halted());
        cpu.timing
            .log()
            .iter()
            .map(|c| (c.t, c.transfer.filter(|_| c.t == TState::T1)))
            .collect()
    }

    /// Clocks at which each Ts of kind `k` starts.
    fn ts(log: &[(TState, Option<Transfer>)], k: Transfer) -> Vec<usize> {
        log.iter()
            .enumerate()
            .filter(|(_, c)| c.1 == Some(k))
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn an_empty_queue_fills_with_back_to_back_word_fetches() {
        // nop; hlt: four fetches, the IU has taken both bytes, the HALT
        // cycle eleven clocks in (NOP is 3 clocks, execution starts four
        // clocks after the last byte is decoded, a request two clocks later).
        let log = run(&[0x90, 0xF4], |_| {});
        assert_eq!(ts(&log, Transfer::Code), [0, 2, 4, 6]);
        assert_eq!(ts(&log, Transfer::Halt), [11]);
        assert_eq!(log.len(), 12, "the trace ends with the HALT cycle's Ts");
        assert_eq!(log[1].0, TState::T2);
        assert_eq!(log[8].0, TState::Ti);
    }

    #[test]
    fn a_read_modify_write_goes_out_three_clocks_before_the_end() {
        // add [bx],al; hlt (ADD mem,reg is 7 clocks): the read two clocks
        // into execution, the write at its end less three.
        let log = run(&[0x00, 0x07, 0xF4], |cpu| cpu.regs.gpr[3] = 0x0010);
        assert_eq!(ts(&log, Transfer::MemRead), [9]);
        assert_eq!(ts(&log, Transfer::MemWrite), [13]);
        assert_eq!(ts(&log, Transfer::Halt), [16]);
    }

    #[test]
    fn a_word_at_an_odd_address_is_two_byte_cycles_back_to_back() {
        // push ax with SP odd: the two halves follow each other at once.
        let log = run(&[0x50, 0xF4], |cpu| cpu.regs.gpr[4] = 0x0101);
        let w = ts(&log, Transfer::MemWrite);
        assert_eq!(w.len(), 2);
        assert_eq!(w[1], w[0] + 2);
    }

    #[test]
    fn a_jump_fetches_its_target_two_clocks_into_execution() {
        // jmp short +0 (to the HLT): decoded at clock 4 (a sign-extended
        // byte costs a clock), executing from 8, the target fetched at 10.
        let log = run(&[0xEB, 0x00, 0xF4], |_| {});
        assert_eq!(ts(&log, Transfer::Code), [0, 2, 4, 6, 10, 12, 14]);
        assert_eq!(ts(&log, Transfer::Halt), [18]);
    }
}
