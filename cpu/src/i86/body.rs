//! Bodies: traces of the decode cache's fast forms, run back to back
//! without the per-instruction frame (look-up, wrap check, clock charge,
//! budget test, IP, count). Data and build only; running a body is
//! `fast.rs` (`Cpu::run_body`) and the run loops in `exec.rs`.
//!
//! A body is the run of forms from one cached instruction on, copied in
//! order into an arena ([`Bodies::ops`]): straight-line forms and
//! conditional jumps (Jcc, LOOP, JCXZ), which leave the body when taken and
//! fall through to the rest of it when not (a *trace*), ending before the
//! first form that is not a body form (CALL, RET, REP strings, the rare
//! forms, anything without a form or not cached) or after a JMP. Each copy
//! holds what leaving at it needs, worked out when the body is built: the
//! clocks of the body so far, the IP after it and a jump's target as
//! offsets from the body's start, the instructions so far. So a body
//! charges its clocks, counts its instructions and sets IP once, where it
//! leaves; a taken jump back to its own start runs it again at once. A
//! conditional jump back to one of the body's own forms (a loop's) is
//! followed instead, the trace going on with a copy of the loop: the loop
//! unrolled, its copies leaving the body where the jump is not taken.
//!
//! **Validity.** A body copies forms out of the cache, so it is good only
//! while every one of them is still cached as it was: the cache's
//! *generation* ([`super::icache::DecodeCache::gen`]) moves on whenever a
//! tag is dropped (a write over cached code, `invalidate_code`, `clear`) or
//! a cached instruction is replaced by another, and a body (and each slot's
//! [`Head`]) is used only in the generation it was built in. A form that
//! writes memory compares the generation after it, inside a body, and the
//! body stops there if it moved (the write may have changed the body's own
//! later bytes).
//!
//! **Clocks.** A body runs only when its worst case (every exit's clocks,
//! the whole body's, plus 8 for each form with a memory operand: the most
//! the word transfers of one form add on the 8088) stays under the run's
//! budget: then no instruction inside it could have been the one that
//! reached the budget, and the run stops where a run of single forms
//! would.

use super::forms::{alu_form_pattern, with_alu_forms, Fast, Quick};
use super::icache::SLOTS;

/// Visits to a slot without a body, in one generation, before its body is
/// built: cold code is never copied.
pub(super) const HOT: u8 = 8;
/// The most instructions in one body.
const MAX_OPS: usize = 64;
/// Room an unrolled loop leaves after it in a body: a loop nested in
/// another gets to the outer loop's jump in the same body (see `build`).
const AFTER_LOOP: usize = 8;
/// The fewest instructions: a single one gains nothing from a body.
const MIN_OPS: usize = 2;
/// Forms the arena holds; when full, no more bodies are built until the
/// generation moves on (which empties it).
const ARENA: usize = 16 * 1024;

/// A slot's body, or the count of visits towards building it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Head {
    /// The generation this was worked out in; otherwise it means nothing.
    pub(super) gen: u32,
    /// Visits so far (up to [`HOT`], when the body is built or found not
    /// worth one).
    pub(super) visits: u8,
    /// Forms in the body, 0 for none.
    pub(super) len: u8,
    /// Instructions in the body (a jump fused with the form before it
    /// makes one form of two).
    pub(super) count: u8,
    /// The first form's index in the arena.
    pub(super) start: u32,
    /// One more than the highest IP the body may start at without its
    /// bytes wrapping around the segment.
    pub(super) ip_limit: u32,
    /// The most clocks it can charge, whatever it does.
    pub(super) worst: u32,
}

/// A form in a body, with what leaving at it needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op {
    pub(super) f: Fast,
    /// Instructions of the body up to and including this one.
    pub(super) n: u8,
    /// The IP after it, from the body's start: where the body goes on
    /// (for an unrolled loop's jump, its target).
    pub(super) end: u16,
    /// Where a jump leaves to, from the body's start (0: the body's own
    /// start): its target (for an unrolled loop's jump, the IP after it).
    pub(super) to: u16,
    /// The body's clocks up to and including this form on the path that
    /// goes on in the body (no jump taken; for an unrolled loop's jump,
    /// taken).
    pub(super) after: u16,
    /// The same when this form is a jump and it leaves (or skips).
    pub(super) taken: u16,
    /// For a jump forward to a later form of the same body, that form's
    /// index (the body goes on there); 0 for a jump that leaves the body.
    pub(super) inner: u8,
    /// For such a jump, what the clocks of the forms after it change by
    /// when it is taken: its taken clocks less the `after` of the form
    /// before its target (wrapping).
    pub(super) skip: u16,
    /// And the instructions it skips.
    pub(super) skip_n: u8,
    /// For a register form with the conditional jump after it fused in
    /// (the fields above are then the jump's): [`CF_TEST`], [`ZF_TEST`] or
    /// both, the flags whose being set makes it leave (or skip) when `jset`
    /// is true (none set, when false); 0 for any other form.
    pub(super) jmask: u8,
    /// For a jump, whether it leaves (or skips) when its condition holds
    /// (true) or when it does not (an unrolled loop's jump, which goes on
    /// when taken).
    pub(super) jset: bool,
}

/// [`Op::jmask`]: the fused jump looks at CF.
pub(super) const CF_TEST: u8 = 1;
/// [`Op::jmask`]: the fused jump looks at ZF.
pub(super) const ZF_TEST: u8 = 2;

/// True for a form that may leave the body or skip within it.
fn jumps(o: &Op) -> bool {
    o.jmask != 0 || matches!(kind_of(&o.f), Some(Kind::Branch | Kind::Jump))
}

fn kind_of(f: &Fast) -> Option<Kind> {
    kind(f).map(|(k, _)| k)
}

/// What a body needs to know of a form.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Registers and flags only.
    Plain,
    /// Reads or writes memory (its word transfers add clocks).
    Memory,
    /// A conditional jump: leaves when taken.
    Branch,
    /// JMP: always leaves, so the body ends with it.
    Jump,
}

/// How `f` goes into a body, or None if it does not.
fn kind(f: &Fast) -> Option<(Kind, u16)> {
    use Fast::*;
    Some(match *f {
        with_alu_forms!(alu_form_pattern! {})
        | TestRR { .. }
        | TestRI { .. }
        | MovRR { .. }
        | MovRR8 { .. }
        | MovRI { .. }
        | MovRIL { .. }
        | MovRIH { .. }
        | IncR { .. }
        | IncRL { .. }
        | IncRH { .. }
        | DecR { .. }
        | DecRL { .. }
        | DecRH { .. }
        | ShlR { .. }
        | ShlR8 { .. }
        | ShrR { .. }
        | ShrR8 { .. }
        | SarR { .. }
        | SarR8 { .. }
        | Shift1R { .. }
        | Xchg { .. }
        | Cbw
        | Cwd
        | Clc
        | Stc
        | Cld
        | Std => (Kind::Plain, 0),
        AluRM { .. }
        | AluMR { .. }
        | AluMI { .. }
        | MovRM { .. }
        | MovMR { .. }
        | MovMI { .. }
        | PushR { .. }
        | PopR { .. }
        | Str { .. } => (Kind::Memory, 0),
        Jcc { disp, .. }
        | JccAny { disp, .. }
        | Jcf { disp, .. }
        | Jz { disp, .. }
        | Jbe { disp, .. }
        | Loop { disp, .. }
        | Jcxz { disp } => (Kind::Branch, disp),
        Jmp { disp } => (Kind::Jump, disp),
        Slow
        | Call { .. }
        | Ret
        | RepStr { .. }
        | MulR { .. }
        | MulM { .. }
        | DivR { .. }
        | Shift1M { .. } => return None,
    })
}

/// Every slot's [`Head`] and the arena of bodies' forms; lent out of the
/// decode cache for a run (see [`super::icache::DecodeCache::take_bodies`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Bodies {
    /// One per cache slot (empty while the cache is off).
    pub(super) heads: Vec<Head>,
    pub(super) arena: Arena,
}

/// The forms of every body built in one generation, end to end.
#[derive(Clone, Debug, Default)]
pub(crate) struct Arena {
    pub(super) ops: Vec<Op>,
    gen: u32,
}

impl Bodies {
    /// Heads for every slot of a cache that is on.
    pub(super) fn new() -> Self {
        Bodies {
            heads: vec![Head::default(); SLOTS],
            arena: Arena {
                ops: Vec::with_capacity(ARENA),
                gen: 0,
            },
        }
    }
}

/// Count a visit to slot `i` (holding the instruction at physical address
/// `addr`, in generation `gen`) that found no body, and build its body at
/// the [`HOT`]th.
#[inline(never)]
pub(super) fn visit(
    heads: &mut [Head; SLOTS],
    arena: &mut Arena,
    i: usize,
    addr: u32,
    gen: u32,
    tags: &[u32; SLOTS],
    quick: &[Quick; SLOTS],
) {
    let i = i & (SLOTS - 1);
    let h = &mut heads[i];
    if h.gen != gen {
        *h = Head {
            gen,
            visits: 1,
            ..Head::default()
        };
        return;
    }
    h.visits += 1;
    if h.visits >= HOT {
        h.visits = HOT;
        if let Some(body) = arena.build(addr, gen, tags, quick) {
            *h = body;
        }
    }
}

impl Arena {
    /// Build the body starting with the instruction at `addr`, if it has
    /// at least [`MIN_OPS`] forms and the arena has room, and return its head.
    fn build(
        &mut self,
        addr: u32,
        gen: u32,
        tags: &[u32; SLOTS],
        quick: &[Quick; SLOTS],
    ) -> Option<Head> {
        if self.gen != gen {
            self.ops.clear();
            self.gen = gen;
        }
        let start = self.ops.len();
        if start + MAX_OPS > ARENA {
            return None;
        }
        let (mut off, mut clocks, mut worst, mut memory) = (0u32, 0u32, 0u32, 0u32);
        let mut count = 0usize;
        // The highest IP offset after any of its instructions.
        let mut hi = 0u32;
        // Where each form of the body starts, from the body's start (a
        // jump within the body goes to one of these).
        let mut starts: Vec<u16> = Vec::with_capacity(MAX_OPS);
        // Every path through a body runs each form at most once (a jump
        // within it only skips forward): its clocks are at most the sum of
        // each form's most.
        while count < MAX_OPS {
            // Unmasked, as the run loops look instructions up: code past
            // the address bus matches no tag.
            let a = addr + off;
            let j = a as usize & (SLOTS - 1);
            if tags[j] != a {
                break;
            }
            let q = &quick[j];
            let Some((kind, disp)) = kind(&q.f) else {
                break;
            };
            let end = off + q.len as u32;
            if end > 0xFFFF {
                break;
            }
            hi = hi.max(end);
            let before = clocks;
            clocks += q.clocks as u32;
            let taken = before + q.taken_clocks as u32;
            if kind == Kind::Memory {
                memory += 1;
            }
            let jumps = matches!(kind, Kind::Branch | Kind::Jump);
            worst += if jumps {
                q.clocks.max(q.taken_clocks)
            } else {
                q.clocks
            } as u32;
            count += 1;
            let o = Op {
                f: q.f,
                n: count as u8,
                end: end as u16,
                to: if jumps {
                    (end as u16).wrapping_add(disp)
                } else {
                    0
                },
                after: clocks as u16,
                taken: taken as u16,
                inner: 0,
                skip: 0,
                skip_n: 0,
                jmask: 0,
                // A jump's copy leaves when its condition is `jset` (see
                // the unrolling below).
                jset: true,
            };
            // A jump on CF or ZF right after a register form becomes part
            // of that form's copy: one dispatch for the two.
            let fuse = match q.f {
                Fast::Jcf { set, .. } => Some((CF_TEST, set)),
                Fast::Jz { set, .. } => Some((ZF_TEST, set)),
                Fast::Jbe { set, .. } => Some((CF_TEST | ZF_TEST, set)),
                _ => None,
            };
            match (fuse, self.ops.len() > start) {
                (Some((jmask, jset)), true)
                    if self.ops.last().is_some_and(|p| {
                        p.jmask == 0 && matches!(kind_of(&p.f), Some(Kind::Plain))
                    }) =>
                {
                    let p = self.ops.last_mut().expect("a form before");
                    *p = Op {
                        f: p.f,
                        jmask,
                        jset,
                        ..o
                    };
                }
                _ => {
                    self.ops.push(o);
                    starts.push(off as u16);
                }
            }
            off = end;
            if kind == Kind::Jump {
                break;
            }
            // A conditional jump back to the start of an earlier form of
            // the body is taken to go on with a copy of the forms from
            // there (the loop unrolled): its copy leaves the body when the
            // jump is *not* taken, to the instruction after it, and
            // otherwise runs on, so a loop takes one pass through the run
            // loop for several of its own. The copy's sums are those of
            // the path that stays: `end` the jump's target, `after` its
            // taken clocks; `to` and `taken` are where and with what it
            // leaves. A copy is made only while another pass and
            // [`AFTER_LOOP`] instructions after it still fit: the last pass
            // is left as it is, its jump leaving when taken, and the trace
            // goes on after it, where the copies' exits (jumps forward to
            // the instruction after the loop) then go on too. So an inner
            // loop's end and the outer loop's jump back share one body,
            // which does not leave at every pass of the outer loop. The
            // body's last form is never such a copy, so one that runs to
            // its end leaves at a jump not unrolled or after a form that is
            // not a jump.
            let target = self.ops.last().expect("a form pushed or fused").to;
            // The instructions of one pass: from the target's latest copy on.
            let pass = starts.iter().rposition(|&s| s == target).map(|t| {
                count
                    - if t == 0 {
                        0
                    } else {
                        self.ops[start + t - 1].n as usize
                    }
            });
            let last = self.ops.last_mut().expect("a form pushed or fused");
            if kind == Kind::Branch
                && last.to < (off - q.len as u32) as u16
                && pass.is_some_and(|p| count + p + AFTER_LOOP <= MAX_OPS)
            {
                let (to, after) = (last.to, last.taken);
                last.to = last.end;
                last.taken = last.after;
                last.end = to;
                last.after = after;
                last.jset = !last.jset;
                clocks = after as u32;
                off = to as u32;
            }
        }
        let len = self.ops.len() - start;
        // Jumps forward to the start of a later form of the body go on there.
        for k in start..start + len {
            let o = self.ops[k];
            if !jumps(&o) || o.to < o.end {
                continue;
            }
            if let Some(t) = (k + 1..start + len).find(|&t| starts[t - start] == o.to) {
                let before = self.ops[t - 1];
                self.ops[k].inner = (t - start) as u8;
                self.ops[k].skip = o.taken.wrapping_sub(before.after);
                self.ops[k].skip_n = before.n - o.n;
            }
        }
        if count < MIN_OPS {
            self.ops.truncate(start);
            return None;
        }
        Some(Head {
            gen,
            visits: HOT,
            len: len as u8,
            count: count as u8,
            start: start as u32,
            ip_limit: 0x1_0000 - hi + 1,
            worst: worst + 8 * memory,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::FlatBus;
    use crate::i86::{timing::FastTiming, Cpu};
    use crate::model::CpuModel;

    /// The body built at the head of an outer loop (`mov bl, 8` and a
    /// bit loop of SHR, JNC over an XOR, DEC + JNZ, then `loop` back) holds
    /// the inner loop unrolled *and* the outer LOOP after it, its jump back
    /// to the body's start; each unrolled pass's exit (DEC + JNZ not taken)
    /// goes on at that LOOP inside the body. Before `AFTER_LOOP`, the
    /// unrolling filled the body and the outer loop was a body of its own.
    #[test]
    fn a_nested_loop_and_the_outer_jump_back_share_one_body() {
        let code = [
            0xB9, 0x28, 0x00, //       0100: mov cx, 40
            0xB8, 0xFF, 0xFF, //       0103: mov ax, FFFF
            0x32, 0xC1, //             0106: xor al, cl
            0xB3, 0x08, //             0108: mov bl, 8
            0xD1, 0xE8, //             010A: shr ax, 1
            0x73, 0x03, //             010C: jnc 0111
            0x35, 0x01, 0xA0, //       010E: xor ax, A001
            0xFE, 0xCB, //             0111: dec bl
            0x75, 0xF5, //             0113: jnz 010A
            0xE2, 0xEF, //             0115: loop 0106
            0xF4, //                   0117: hlt
        ];
        let mut bus = FlatBus::new(1 << 20);
        bus.load(0x100, &code);
        let mut c: Cpu<FastTiming> = Cpu::new(CpuModel::I8086);
        c.regs.seg = [0; 4];
        c.regs.ip = 0x100;
        c.set_decode_cache(true);
        for _ in 0..10_000 {
            if c.halted() {
                break;
            }
            if c.run_forms(&mut bus, 1_000) == 0 {
                c.step(&mut bus);
            }
        }
        assert!(c.halted());
        let bodies = c.icache.take_bodies();
        let h = bodies.heads[0x106];
        assert_eq!(h.gen, c.icache.gen, "a body at the outer loop's head");
        assert!(h.len > 0, "a body at the outer loop's head");
        let ops = &bodies.arena.ops[h.start as usize..][..h.len as usize];
        let outer = ops
            .iter()
            .position(|o| matches!(o.f, Fast::Loop { .. }))
            .expect("the outer LOOP in the body");
        assert_eq!(ops[outer].to, 0, "LOOP goes back to the body's start");
        assert_eq!(ops[outer].end, 0x117 - 0x106);
        // The inner jump's copies: DEC BL fused with JNZ. Each unrolled one
        // leaves (not taken) to 0115, the LOOP, which is in the body.
        let copies: Vec<&Op> = ops[..outer].iter().filter(|o| o.jmask == ZF_TEST).collect();
        assert!(copies.len() >= 8, "{} passes unrolled", copies.len());
        for o in &copies[..copies.len() - 1] {
            assert_eq!(o.to, 0x115 - 0x106, "an unrolled pass leaves to the LOOP");
            assert_eq!(o.inner as usize, outer, "and goes on at it in the body");
        }
        // The last pass is not unrolled: taken, it leaves to the bit loop.
        let last = copies[copies.len() - 1];
        assert_eq!((last.to, last.inner), (0x10A - 0x106, 0));
    }
}
