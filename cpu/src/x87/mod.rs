//! The x87 floating-point unit (387/486/P6 instruction set), usable by any
//! CPU core.
//!
//! The core decodes the ESC opcode (D8–DF), its ModRM and the effective
//! address, and hands [`Fpu::execute`] the opcode byte, the ModRM byte and,
//! for memory forms, an [`FpuMemory`] that reads and writes relative to the
//! effective address (the core does segmentation, paging and faults). The
//! FPU answers with an [`FpuOutcome`]: a value for AX (FNSTSW AX), EFLAGS
//! bits (FCOMI/FUCOMI), and whether an unmasked exception is now pending.
//!
//! Exceptions are reported the x87 way: an unmasked exception sets ES in the
//! status word and the *next* waiting x87 instruction (or WAIT) reports it —
//! the core asks [`Fpu::error_pending`] before such an instruction and
//! raises #MF (CR0.NE=1) or drives FERR# (CR0.NE=0). The CR0.EM/TS/MP → #NM
//! rule is [`nm_check`]. See docs/x87.md.

pub mod f80;
pub mod transc;

use f80::{Class, Deferred, Ord3, C0, C1, C2, C3, DE, ES, F80, IE, OE, PE, SF, UE, ZE};
use serde::{Deserialize, Serialize};

/// Memory access relative to the instruction's effective address.
pub trait FpuMemory {
    /// The core's fault type (segment limit, page fault…).
    type Fault;
    /// Reads `buf.len()` bytes at effective address + `offset`.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Fault>;
    /// Writes `buf` at effective address + `offset`. Every instruction
    /// writes its operand with one call, so the core can check the whole
    /// range before changing memory.
    fn write(&mut self, offset: u32, buf: &[u8]) -> Result<(), Self::Fault>;
}

/// An [`FpuMemory`] for register forms (never called).
pub struct NoMemory;

impl FpuMemory for NoMemory {
    type Fault = ();
    fn read(&mut self, _: u32, _: &mut [u8]) -> Result<(), ()> {
        Err(())
    }
    fn write(&mut self, _: u32, _: &[u8]) -> Result<(), ()> {
        Err(())
    }
}

/// Why [`Fpu::execute`] did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FpuError<F> {
    /// A memory access faulted; the FPU state is unchanged.
    Fault(F),
    /// The encoding is undefined (#UD), or a memory form was called without
    /// memory.
    Undefined,
}

/// The processor context an instruction runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FpuEnv {
    /// 32-bit operand size (FSTENV/FSAVE layouts).
    pub op32: bool,
    /// Protected mode (FSTENV/FSAVE layouts).
    pub protected: bool,
    /// FISTTP exists (SSE3 processors); otherwise DB/DD/DF /1 are #UD.
    pub fisttp: bool,
    /// EFLAGS, for FCMOVcc (CF bit 0, PF bit 2, ZF bit 6).
    pub eflags: u32,
    /// CS selector (or real-mode segment) and offset of the instruction, for
    /// the last-instruction pointer.
    pub cs: u16,
    /// Offset of the instruction (its first prefix).
    pub ip: u32,
    /// Data segment selector and effective address of a memory operand.
    pub ds: u16,
    /// Effective address of the memory operand.
    pub ea: u32,
}

/// What the core must do after an x87 instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FpuOutcome {
    /// FNSTSW AX: the value for AX.
    pub ax: Option<u16>,
    /// FCOMI/FUCOMI(P): ZF, PF, CF to set (other arithmetic flags cleared),
    /// as an EFLAGS value masked by 0x45.
    pub eflags: Option<u32>,
    /// An unmasked exception is pending (ES=1): the next waiting x87
    /// instruction reports it (#MF or FERR#).
    pub error: bool,
}

/// CR0 rule for x87 instructions (Intel SDM vol. 3, "EM, MP, TS"): an ESC
/// instruction raises #NM when CR0.EM or CR0.TS is set; WAIT/FWAIT raises
/// #NM only when both CR0.MP and CR0.TS are set.
pub fn nm_check(em: bool, ts: bool, mp: bool, is_wait: bool) -> bool {
    if is_wait {
        mp && ts
    } else {
        em || ts
    }
}

/// True for the instructions that do not wait for (and so do not report) a
/// pending unmasked exception: the FN… control forms. `op` D8–DF, `modrm`.
pub fn is_nowait(op: u8, modrm: u8) -> bool {
    let reg = (modrm >> 3) & 7;
    match op {
        0xD9 if modrm < 0xC0 => reg == 6 || reg == 7,
        0xDB => matches!(modrm, 0xE0..=0xE4),
        0xDD if modrm < 0xC0 => reg == 6 || reg == 7,
        0xDF => modrm == 0xE0,
        _ => false,
    }
}

/// Tag values.
const TAG_VALID: u16 = 0;
const TAG_ZERO: u16 = 1;
const TAG_SPECIAL: u16 = 2;
const TAG_EMPTY: u16 = 3;

/// The x87 state.
///
/// The fast path's double operations may leave their PE and C1 unworked
/// (`lazy`, see [`Fpu::fast_reg_lazy`]): `sw` then lacks them until
/// [`Fpu::settle`]. Every way the state leaves the FPU settles it first —
/// [`Fpu::execute`], `clone()`, comparisons, serialization,
/// [`Fpu::status_word`], FXSAVE — so only a caller of the lazy entry points
/// that reads `sw` directly must settle.
///
/// The lazy entry points also keep registers as host doubles (`dv`, where
/// `dbl` is set: the register's value is that double exactly, a zero or a
/// normal within 2^±960, and `regs` for it is stale), so that a chain of
/// double operations converts nothing. [`Fpu::execute`] writes them back
/// first; every reader that takes `&self` ([`Fpu::st`], [`Fpu::tag_word`],
/// `clone()`, `==`, serialization, FXSAVE) converts them as it reads. Only
/// a caller of the lazy entry points that reads `regs` directly sees stale
/// values: read a clone.
#[derive(Debug, Serialize, Deserialize)]
#[serde(into = "FpuImage", from = "FpuImage")]
pub struct Fpu {
    /// Physical registers R0–R7 (ST(i) is R((TOP+i) mod 8)).
    pub regs: [F80; 8],
    /// Control word.
    pub cw: u16,
    /// Status word (TOP in bits 11–13).
    pub sw: u16,
    /// Tag word: 2 bits per physical register; only "empty" (3) is kept
    /// here, the others are worked out from the contents when stored.
    pub tw: u16,
    /// Last instruction offset.
    pub fip: u32,
    /// Last instruction selector.
    pub fcs: u16,
    /// Last data offset.
    pub fdp: u32,
    /// Last data selector.
    pub fds: u16,
    /// Last opcode (11 bits).
    pub fop: u16,
    /// The last double operation of the lazy fast path whose PE and C1 are
    /// not yet in `sw` (kind [`Deferred::NONE`] when there is none). Only
    /// made while PE is masked, so it never changes ES.
    lazy: Deferred,
    /// The registers the fast path holds as doubles (see the type's
    /// documentation): the value where `dbl` is set.
    dv: [f64; 8],
    /// A byte per physical register: [`DK_DBL`] where its value is `dv`,
    /// not `regs`; [`DK_FULL`] besides where it is also full (kept only
    /// with `DK_DBL`: the tag word stays the authority, and wherever a
    /// register held as a double is pushed or popped both change), so that
    /// "full and held as a double" is one byte compare.
    dk: [u8; 8],
    /// TOP (`sw` bits 11–13) as a byte of its own, for the lean forms
    /// ([`Fpu::lean_top`]): one load where `sw` took a load, a shift and a
    /// mask (and a copy, the whole word being kept for the write back).
    /// `sw` stays the authority (benches, tests and the gdb stub read it);
    /// every writer of its TOP bits here writes this too ([`Fpu::set_top`],
    /// [`Fpu::sync_top`]), and debug builds check the two agree at every
    /// lean read.
    top8: u8,
}

/// Physical register `p`'s two bits in the tag word (`3 << 2p`), from a
/// table: x86 shifts by a variable count only in CL, so each shift cost
/// the lean forms register moves as well.
const TAG_MASK: [u16; 8] = [
    0x0003, 0x000C, 0x0030, 0x00C0, 0x0300, 0x0C00, 0x3000, 0xC000,
];

/// A control word of the class the lean arithmetic takes (53 bits, round to
/// nearest, PE masked), for the operation once the class is checked: the
/// f64 operation reads only those fields.
const CW_COMMON: u16 = 0x027F;

/// [`Fpu::lean_gate`]: the lean stack and memory forms may run (PE set,
/// ES clear).
pub const LEAN_GATE_STACK: u8 = 1;
/// [`Fpu::lean_gate`]: the lean register arithmetic may run besides (the
/// 027Fh-class control word).
pub const LEAN_GATE_ARITH: u8 = 2;

/// [`Fpu`]'s `dk` bit: the register's value is its host double (`dv`).
const DK_DBL: u8 = 1;
/// [`Fpu`]'s `dk` bit (only with [`DK_DBL`]): the register is full.
const DK_FULL: u8 = 2;

/// [`Fpu`] as it is saved: settled, without the lazy flags (the format
/// is the one `Fpu` had before it had them).
#[derive(Clone, Serialize, Deserialize)]
struct FpuImage {
    regs: [F80; 8],
    cw: u16,
    sw: u16,
    tw: u16,
    fip: u32,
    fcs: u16,
    fdp: u32,
    fds: u16,
    fop: u16,
}

impl From<Fpu> for FpuImage {
    fn from(f: Fpu) -> FpuImage {
        // (`serde(into)` clones, and a clone is settled.)
        let sw = f.status_word();
        FpuImage {
            regs: f.regs80(),
            cw: f.cw,
            sw,
            tw: f.tw,
            fip: f.fip,
            fcs: f.fcs,
            fdp: f.fdp,
            fds: f.fds,
            fop: f.fop,
        }
    }
}

impl From<FpuImage> for Fpu {
    fn from(f: FpuImage) -> Fpu {
        Fpu {
            regs: f.regs,
            cw: f.cw,
            sw: f.sw,
            tw: f.tw,
            fip: f.fip,
            fcs: f.fcs,
            fdp: f.fdp,
            fds: f.fds,
            fop: f.fop,
            lazy: Deferred::default(),
            dv: [0.0; 8],
            dk: [0; 8],
            top8: top_of(f.sw),
        }
    }
}

impl Clone for Fpu {
    /// A settled copy: the same architectural state, PE and C1 worked out.
    fn clone(&self) -> Fpu {
        Fpu {
            regs: self.regs80(),
            cw: self.cw,
            sw: self.status_word(),
            tw: self.tw,
            fip: self.fip,
            fcs: self.fcs,
            fdp: self.fdp,
            fds: self.fds,
            fop: self.fop,
            lazy: Deferred::default(),
            dv: [0.0; 8],
            dk: [0; 8],
            top8: top_of(self.sw),
        }
    }
}

impl PartialEq for Fpu {
    /// Equal architectural state (lazy flags worked out on both sides).
    fn eq(&self, o: &Fpu) -> bool {
        self.regs80() == o.regs80()
            && self.cw == o.cw
            && self.status_word() == o.status_word()
            && self.tw == o.tw
            && self.fip == o.fip
            && self.fcs == o.fcs
            && self.fdp == o.fdp
            && self.fds == o.fds
            && self.fop == o.fop
    }
}

impl Eq for Fpu {}

impl Default for Fpu {
    fn default() -> Self {
        let mut f = Fpu {
            regs: [F80::ZERO; 8],
            cw: 0,
            sw: 0,
            tw: 0,
            fip: 0,
            fcs: 0,
            fdp: 0,
            fds: 0,
            fop: 0,
            lazy: Deferred::default(),
            dv: [0.0; 8],
            dk: [0; 8],
            top8: 0,
        };
        f.finit();
        f
    }
}

/// TOP, bits 11–13 of a status word.
fn top_of(sw: u16) -> u8 {
    ((sw >> 11) & 7) as u8
}

fn tag_of(v: F80) -> u16 {
    match v.class() {
        Class::Zero => TAG_ZERO,
        Class::Finite { denormal: false } => TAG_VALID,
        _ => TAG_SPECIAL,
    }
}

fn rd<M: FpuMemory, const N: usize>(
    mem: &mut Option<&mut M>,
    off: u32,
) -> Result<[u8; N], FpuError<M::Fault>> {
    let m = mem.as_mut().ok_or(FpuError::Undefined)?;
    let mut b = [0u8; N];
    m.read(off, &mut b).map_err(FpuError::Fault)?;
    Ok(b)
}

fn wr<M: FpuMemory>(
    mem: &mut Option<&mut M>,
    off: u32,
    b: &[u8],
) -> Result<(), FpuError<M::Fault>> {
    let m = mem.as_mut().ok_or(FpuError::Undefined)?;
    m.write(off, b).map_err(FpuError::Fault)
}

/// Exceptions that abandon the instruction when unmasked.
const PRE_EXC: u16 = IE | DE | ZE;

/// An IEEE binary value of `E` exponent and `M` fraction bits (a double
/// or a single) as an 80-bit one, if it is a zero or a normal number (the
/// conversion is then exact and raises nothing); None for denormals,
/// infinities and NaNs, which the general path handles.
#[inline]
fn ieee_to_f80<const E: u32, const M: u32>(bits: u64) -> Option<F80> {
    let emax = (1u64 << E) - 1;
    let sign = (bits >> (E + M)) & 1 != 0;
    let e = (bits >> M) & emax;
    let frac = bits & ((1u64 << M) - 1);
    if e == 0 && frac == 0 {
        return Some(F80::zero(sign));
    }
    if e == 0 || e == emax {
        return None;
    }
    let bias = (emax >> 1) as u16;
    Some(F80 {
        se: (sign as u16) << 15 | (e as u16 + (16383 - bias)),
        m: (1 << 63) | frac << (63 - M),
    })
}

impl Fpu {
    /// A new FPU in the FNINIT state.
    pub fn new() -> Fpu {
        Fpu::default()
    }

    /// FNINIT: CW=037F, SW=0, all tags empty, pointers cleared.
    pub fn finit(&mut self) {
        self.lazy.kind = Deferred::NONE;
        self.cw = 0x037F;
        self.sw = 0;
        self.top8 = 0;
        self.tw = 0xFFFF;
        for k in &mut self.dk {
            *k &= !DK_FULL;
        }
        self.fip = 0;
        self.fcs = 0;
        self.fdp = 0;
        self.fds = 0;
        self.fop = 0;
    }

    /// The status word with the lazy PE and C1 worked out.
    pub fn status_word(&self) -> u16 {
        if self.lazy.kind == Deferred::NONE {
            self.sw
        } else {
            // PE was masked when the operation deferred them, and the
            // control word has not changed since (every way of changing it
            // settles first): ES stays as it is.
            (self.sw & !C1) | self.lazy.status()
        }
    }

    /// Works out the lazy PE and C1 into `sw`.
    #[inline]
    pub fn settle(&mut self) {
        if self.lazy.kind != Deferred::NONE {
            self.settle_now();
        }
    }

    /// [`Fpu::settle`]'s work (the rounding error's TwoSum or fused
    /// multiply-add), out of line so that the fast paths stay small.
    #[inline(never)]
    fn settle_now(&mut self) {
        self.sw = self.status_word();
        self.lazy.kind = Deferred::NONE;
    }

    /// Before an instruction that writes C1 itself: the lazy operation's PE
    /// still counts unless PE is already set (it is sticky), its C1 does
    /// not.
    #[inline(always)]
    fn retire(&mut self) {
        if self.lazy.kind != Deferred::NONE {
            if self.sw & PE != 0 {
                self.lazy.kind = Deferred::NONE;
            } else {
                self.settle_now();
            }
        }
    }

    /// Physical register `p` in the 80-bit format (converted if the fast
    /// path holds it as a double).
    #[inline]
    fn reg80(&self, p: usize) -> F80 {
        if self.dk[p] & DK_DBL != 0 {
            f80::of_fast_f64(self.dv[p])
        } else {
            self.regs[p]
        }
    }

    /// The eight physical registers in the 80-bit format.
    fn regs80(&self) -> [F80; 8] {
        std::array::from_fn(|p| self.reg80(p))
    }

    /// Writes the registers held as doubles back to `regs`.
    #[inline]
    fn sync_regs(&mut self) {
        if self.dk != [0; 8] {
            self.sync_regs_slow();
        }
    }

    #[inline(never)]
    fn sync_regs_slow(&mut self) {
        self.regs = self.regs80();
        self.dk = [0; 8];
    }

    /// Physical register `p` as a double of the fast path's kind (a zero or
    /// a normal within 2^±960), if it is one (it may be empty: the caller
    /// checks the tag).
    #[inline(always)]
    fn dget(&self, p: usize) -> Option<f64> {
        if self.dk[p] & DK_DBL != 0 {
            Some(self.dv[p])
        } else {
            f80::fast_f64(self.regs[p])
        }
    }

    /// Writes physical register `p` (marking it full) with a double of the
    /// fast path's kind: kept as the double when `LAZY` (the core's entry
    /// points), converted at once otherwise ([`Fpu::execute`]'s own use).
    #[inline(always)]
    fn dput<const LAZY: bool>(&mut self, p: usize, r: f64) {
        if LAZY {
            self.dv[p] = r;
            self.dk[p] = DK_DBL | DK_FULL;
        } else {
            self.regs[p] = f80::of_fast_f64(r);
            self.dk[p] = 0;
        }
        self.tw &= !TAG_MASK[p & 7];
    }

    /// Copies physical register `s` to `d` (whichever form it is in) and
    /// marks `d` full.
    #[inline(always)]
    fn copy_reg(&mut self, d: usize, s: usize) {
        // Only the form `s` is in: the other is stale in `d` as in `s`.
        // (`s` is full.)
        if self.dk[s] & DK_DBL != 0 {
            self.dv[d] = self.dv[s];
            self.dk[d] = DK_DBL | DK_FULL;
        } else {
            // As bytes (one 16-byte move): field by field, the copy took
            // three general registers, which gave every lean stack form
            // a frame.
            self.regs.copy_within(s & 7..(s & 7) + 1, d & 7);
            self.dk[d] = 0;
        }
        self.tw &= !TAG_MASK[d & 7];
    }

    /// TOP of stack.
    #[inline]
    pub fn top(&self) -> usize {
        top_of(self.sw) as usize
    }

    #[inline]
    fn set_top(&mut self, t: usize) {
        self.sw = (self.sw & !0x3800) | (((t & 7) as u16) << 11);
        self.top8 = (t & 7) as u8;
    }

    /// After `sw` was written whole: [`Fpu::top8`] from it.
    #[inline]
    fn sync_top(&mut self) {
        self.top8 = top_of(self.sw);
    }

    /// TOP for the lean forms, from [`Fpu::top8`].
    #[inline(always)]
    fn lean_top(&self) -> usize {
        debug_assert_eq!(
            self.top8 as usize,
            self.top(),
            "x87: TOP's byte out of step with sw {:04x}",
            self.sw
        );
        (self.top8 & 7) as usize
    }

    #[inline]
    fn phys(&self, i: usize) -> usize {
        (self.top() + i) & 7
    }

    fn is_empty(&self, i: usize) -> bool {
        (self.tw >> (2 * self.phys(i))) & 3 == TAG_EMPTY
    }

    /// ST(i) (whatever it holds, empty or not).
    pub fn st(&self, i: usize) -> F80 {
        self.reg80(self.phys(i))
    }

    /// Writes ST(i) and marks it full.
    pub fn set_st(&mut self, i: usize, v: F80) {
        let p = self.phys(i);
        self.regs[p] = v;
        self.dk[p] = 0;
        self.tw &= !TAG_MASK[p];
    }

    #[inline]
    fn set_tag_empty(&mut self, i: usize) {
        let p = self.phys(i);
        self.tw |= TAG_MASK[p];
        self.dk[p] &= !DK_FULL;
    }

    /// The full tag word, with valid/zero/special worked out from the
    /// registers as FSTENV stores it.
    pub fn tag_word(&self) -> u16 {
        let mut t = 0;
        for p in 0..8 {
            let tag = if (self.tw >> (2 * p)) & 3 == TAG_EMPTY {
                TAG_EMPTY
            } else {
                tag_of(self.reg80(p))
            };
            t |= tag << (2 * p);
        }
        t
    }

    #[inline]
    fn pop(&mut self) {
        self.set_tag_empty(0);
        self.set_top(self.top() + 1);
    }

    /// True while an unmasked exception is pending (ES set): the next
    /// waiting x87 instruction must report it.
    #[inline]
    pub fn error_pending(&self) -> bool {
        self.sw & ES != 0
    }

    /// Raises status bits `st` (exception flags; C1 taken as given), and
    /// updates ES/B.
    fn raise(&mut self, st: u16) {
        // An invalid operand takes precedence over a denormal one.
        let st = if st & IE != 0 { st & !DE } else { st };
        self.sw = (self.sw & !C1) | (st & (0x7F | C1));
        self.update_es();
    }

    #[inline]
    fn update_es(&mut self) {
        if self.sw & !self.cw & 0x3F != 0 {
            self.sw |= ES | 0x8000;
        } else {
            self.sw &= !(ES | 0x8000);
        }
    }

    fn unmasked(&self, st: u16) -> bool {
        st & !self.cw & 0x3F != 0
    }

    /// Stack underflow on reading an empty register: returns true if the
    /// instruction must stop (unmasked).
    fn underflow(&mut self) -> bool {
        self.raise(IE | SF);
        self.cw & IE == 0
    }

    /// ST(i), or None when the register is empty (the caller then raises
    /// the stack underflow with [`Fpu::underflow`]).
    fn fetch(&mut self, i: usize) -> Option<F80> {
        if self.is_empty(i) {
            None
        } else {
            Some(self.st(i))
        }
    }

    /// Pushes `v`, with the stack-overflow rule (C1=1, IE|SF; masked: the
    /// indefinite is pushed). Returns false if the push was abandoned.
    fn push(&mut self, v: F80) -> bool {
        let t = (self.top() + 7) & 7;
        if (self.tw >> (2 * t)) & 3 != TAG_EMPTY {
            self.sw |= C1;
            self.sw |= IE | SF;
            self.update_es();
            if self.cw & IE == 0 {
                return false;
            }
            self.set_top(t);
            self.set_st(0, F80::INDEFINITE);
            return true;
        }
        self.set_top(t);
        self.set_st(0, v);
        true
    }

    /// Stores the result of an arithmetic operation into ST(dst) and pops
    /// if asked, unless an unmasked IE/DE/ZE abandons it.
    fn store_result(&mut self, dst: usize, r: F80, st: u16, pop: bool) {
        let st = if st & IE != 0 { st & !DE } else { st };
        if self.unmasked(st & PRE_EXC) {
            // Abandoned before any result: only the operand exceptions.
            self.raise(st & (PRE_EXC | SF));
            return;
        }
        self.raise(st);
        self.set_st(dst, r);
        if pop {
            self.pop();
        }
    }

    /// Executes one x87 instruction. `op` is the ESC opcode (D8–DF), `modrm`
    /// its ModRM byte; `mem` is the memory operand for ModRM.mod ≠ 3.
    pub fn execute<M: FpuMemory>(
        &mut self,
        op: u8,
        modrm: u8,
        mem: Option<&mut M>,
        env: &FpuEnv,
    ) -> Result<FpuOutcome, FpuError<M::Fault>> {
        // (`sw` is a public field: whatever wrote it from outside, TOP's
        // byte follows it from here.)
        self.sync_top();
        self.settle();
        self.sync_regs();
        let is_mem = modrm < 0xC0;
        if !is_mem && self.fast_reg::<false>(op, modrm, env.ip, env.cs) {
            return Ok(FpuOutcome {
                error: self.error_pending(),
                ..FpuOutcome::default()
            });
        }
        self.execute_general(op, modrm, mem, env)
    }

    /// [`Fpu::execute`] without the register fast path.
    fn execute_general<M: FpuMemory>(
        &mut self,
        op: u8,
        modrm: u8,
        mut mem: Option<&mut M>,
        env: &FpuEnv,
    ) -> Result<FpuOutcome, FpuError<M::Fault>> {
        let reg = ((modrm >> 3) & 7) as usize;
        let rm = (modrm & 7) as usize;
        let is_mem = modrm < 0xC0;
        let mut out = FpuOutcome::default();
        let control = is_mem && matches!((op, reg), (0xD9, 4..=7) | (0xDD, 4 | 6 | 7))
            || (!is_mem && op == 0xDB && matches!(modrm, 0xE0..=0xE4))
            || (!is_mem && op == 0xDF && modrm == 0xE0);
        if !control {
            // Remember the instruction (the data pointer when it has one).
            self.fip = env.ip;
            self.fcs = env.cs;
            self.fop = (((op & 7) as u16) << 8) | modrm as u16;
            if is_mem {
                self.fdp = env.ea;
                self.fds = env.ds;
            }
        }
        if is_mem {
            self.exec_mem(op, reg, &mut mem, env, &mut out)?;
        } else {
            self.exec_reg(op, modrm, reg, rm, env, &mut out)
                .map_err(|_| FpuError::Undefined)?;
        }
        out.error = self.error_pending();
        Ok(out)
    }

    /// The register forms a loop over doubles is made of, when nothing
    /// unusual happens: FADD/FMUL/FSUB(R)/FDIV(R) between ST(0) and ST(i)
    /// (D8, DC, and the popping DE forms) through the f64 fast path of
    /// [`f80`], FLD ST(i), FXCH ST(i), FST/FSTP ST(i). The effects are
    /// those of [`Fpu::execute_general`] exactly (the test
    /// `fast_register_forms_match_the_general_path` runs both); false,
    /// with nothing changed, when the general path must run: an empty
    /// source, a full destination of a push, an operand or result the
    /// fast path declines (another precision or rounding, a value outside
    /// the normal doubles). `LAZY` leaves an arithmetic result's PE and C1
    /// unworked while PE is masked ([`Fpu::fast_reg_lazy`]).
    #[inline]
    fn fast_reg<const LAZY: bool>(&mut self, op: u8, modrm: u8, ip: u32, cs: u16) -> bool {
        let reg = (modrm >> 3) & 7;
        let rm = (modrm & 7) as usize;
        let top = self.top();
        let empty = |tw: u16, p: usize| (tw >> (2 * p)) & 3 == TAG_EMPTY;
        match (op, reg) {
            (0xD8 | 0xDC | 0xDE, 0 | 1 | 4..=7) => {
                // DC/DE name SUB/SUBR and DIV/DIVR the other way round.
                let (dst, src, code) = if op == 0xD8 {
                    (0, rm, reg)
                } else {
                    (rm, 0, if reg >= 4 { reg ^ 1 } else { reg })
                };
                let (pd, ps) = ((top + dst) & 7, (top + src) & 7);
                if empty(self.tw, pd) || empty(self.tw, ps) {
                    return false;
                }
                let (Some(a), Some(b)) = (self.dget(pd), self.dget(ps)) else {
                    return false;
                };
                let Some(r) = self.arith_f64::<LAZY>(code, a, b) else {
                    return false;
                };
                self.note_reg(op, modrm, ip, cs);
                self.dput::<LAZY>(pd, r);
                if op == 0xDE {
                    self.pop();
                }
            }
            (0xD9, 0) => {
                let (ps, pt) = ((top + rm) & 7, (top + 7) & 7);
                if empty(self.tw, ps) || !empty(self.tw, pt) {
                    return false;
                }
                self.note_reg(op, modrm, ip, cs);
                self.retire();
                self.sw &= !C1;
                self.set_top(pt);
                self.copy_reg(pt, ps);
            }
            (0xD9, 1) => {
                let pi = (top + rm) & 7;
                if empty(self.tw, top) || empty(self.tw, pi) {
                    return false;
                }
                self.note_reg(op, modrm, ip, cs);
                self.retire();
                self.sw &= !C1;
                self.regs.swap(top, pi);
                self.dv.swap(top, pi);
                self.dk.swap(top, pi);
                self.tw &= !((3 << (2 * top)) | (3 << (2 * pi)));
            }
            // FCOM/FCOMP ST(i), FCOMPP.
            (0xD8, 2 | 3) | (0xDE, 3) => {
                if op == 0xDE && rm != 1 {
                    return false;
                }
                let pi = (top + rm) & 7;
                if empty(self.tw, top) || empty(self.tw, pi) {
                    return false;
                }
                // Two ordinary doubles or zeros: no exception, never
                // unordered, +0 equal to −0.
                let (Some(a), Some(b)) = (self.dget(top), self.dget(pi)) else {
                    return false;
                };
                self.note_reg(op, modrm, ip, cs);
                self.retire();
                self.set_cmp(a, b);
                if op == 0xDE {
                    self.pop();
                    self.pop();
                } else if reg == 3 {
                    self.pop();
                }
            }
            // FCHS, FABS: any value, nothing raised.
            (0xD9, 4) if rm <= 1 => {
                if empty(self.tw, top) {
                    return false;
                }
                self.note_reg(op, modrm, ip, cs);
                self.retire();
                self.sw &= !C1;
                if self.dk[top] & DK_DBL != 0 {
                    let v = self.dv[top];
                    self.dv[top] = if rm == 0 { -v } else { v.abs() };
                } else {
                    let v = self.regs[top];
                    self.regs[top] = if rm == 0 { v.chs() } else { v.abs() };
                }
                self.tw &= !(3 << (2 * top));
            }
            // FLD1, FLDZ: exact under every control word.
            (0xD9, 5) if rm == 0 || rm == 6 => {
                let pt = (top + 7) & 7;
                if !empty(self.tw, pt) {
                    return false;
                }
                self.note_reg(op, modrm, ip, cs);
                self.retire();
                self.sw &= !C1;
                self.set_top(pt);
                self.dput::<LAZY>(pt, if rm == 0 { 1.0 } else { 0.0 });
            }
            (0xDD, 2 | 3) => {
                if empty(self.tw, top) {
                    return false;
                }
                self.note_reg(op, modrm, ip, cs);
                self.retire();
                self.sw &= !C1;
                let pi = (top + rm) & 7;
                self.copy_reg(pi, top);
                if reg == 3 {
                    self.pop();
                }
            }
            _ => return false,
        }
        true
    }

    /// The fast path's `x op y` on doubles of its kind (`code` as
    /// [`f80::fast_arith`]) with its status raised, or left lazy when
    /// `LAZY` and PE is masked; None, with nothing changed, when the fast
    /// path declines.
    #[inline(always)]
    fn arith_f64<const LAZY: bool>(&mut self, code: u8, x: f64, y: f64) -> Option<f64> {
        let (r, d) = f80::fast_value_f64(code, x, y, self.cw)?;
        if LAZY && self.cw & PE != 0 {
            // ES is clear (the caller checked) and stays so: every path
            // keeps it equal to "an unmasked flag is set", and a masked
            // PE added later changes nothing.
            self.retire();
            self.sw &= !C1;
            self.lazy = d;
        } else {
            self.retire();
            self.raise(d.status());
        }
        Some(r)
    }

    /// The fast path's `a op b` (`code` as [`f80::fast_arith`]) with its
    /// status raised; None, with nothing changed, when the fast path
    /// declines.
    #[inline(always)]
    fn arith_fast(&mut self, code: u8, a: F80, b: F80) -> Option<F80> {
        let (r, st) = f80::fast_arith(code, a, b, self.cw)?;
        self.retire();
        self.raise(st);
        Some(r)
    }

    /// The last-instruction pointer and opcode of a register form.
    #[inline]
    fn note_reg(&mut self, op: u8, modrm: u8, ip: u32, cs: u16) {
        self.fip = ip;
        self.fcs = cs;
        self.fop = (((op & 7) as u16) << 8) | modrm as u16;
    }

    /// The ia32 core's fast path for a register form ([`Fpu::fast_reg`]'s
    /// forms), `ip`:`cs` the instruction for the FPU pointers; a double
    /// operation's PE and C1 are left lazy while PE is masked (worked out
    /// by [`Fpu::settle`], which everything that shows the status word
    /// runs first). False, with nothing changed, when [`Fpu::execute`]
    /// must run, or when an error is pending (ES: the instruction would
    /// report it first). The caller checks CR0.EM/TS.
    #[inline]
    pub fn fast_reg_lazy(&mut self, op: u8, modrm: u8, ip: u32, cs: u16) -> bool {
        if self.sw & ES != 0 {
            return false;
        }
        self.fast_reg::<true>(op, modrm, ip, cs)
    }

    /// The ia32 core's fast path for FADD/FMUL/FSUB(R)/FDIV(R) between
    /// ST(0) and ST(i) (D8, DC and the popping DE register forms /0, /1,
    /// /4–/7) in the common case: both registers held as doubles
    /// ([`Fpu`]'s `dv`), precision 53 bits, round to nearest, PE masked, no
    /// error pending. Everything else goes to [`Fpu::fast_reg_lazy`] (the
    /// same effects: this is its arithmetic arm without the decoding of the
    /// other forms and the conversions).
    #[inline(never)]
    pub fn fast_arith_reg_lazy(&mut self, op: u8, modrm: u8, ip: u32, cs: u16) -> bool {
        let reg = (modrm >> 3) & 7;
        let top = self.top();
        let pi = (top + (modrm & 7) as usize) & 7;
        // DC/DE name SUB/SUBR and DIV/DIVR the other way round.
        let (pd, ps, code) = if op == 0xD8 {
            (top, pi, reg)
        } else {
            (pi, top, reg ^ ((reg >> 2) & 1))
        };
        if self.sw & ES != 0
            || self.cw & (0x0F00 | PE) != (0x0200 | PE)
            || self.dk[pd] != DK_DBL | DK_FULL
            || self.dk[ps] != DK_DBL | DK_FULL
        {
            return self.fast_reg_lazy_cold(op, modrm, ip, cs);
        }
        let Some((r, d)) = f80::fast_value_f64(code, self.dv[pd], self.dv[ps], self.cw) else {
            return false;
        };
        // As `arith_f64` with PE masked; ES is clear and stays so.
        self.retire();
        self.sw &= !C1;
        self.lazy = d;
        self.note_reg(op, modrm, ip, cs);
        // (Already full and held as a double.)
        self.dv[pd] = r;
        if op == 0xDE {
            self.pop();
        }
        true
    }

    /// [`Fpu::fast_reg_lazy`] out of line, for [`Fpu::fast_arith_reg_lazy`]'s
    /// uncommon cases (so that its common one needs no stack frame).
    #[cold]
    #[inline(never)]
    fn fast_reg_lazy_cold(&mut self, op: u8, modrm: u8, ip: u32, cs: u16) -> bool {
        self.fast_reg_lazy(op, modrm, ip, cs)
    }

    /// The ia32 core's fast path for FADD…FDIVR/FCOM/FCOMP m64 (DC memory
    /// forms, `bits` the operand) in the common case: ST(0) held as a
    /// double, the operand a double of the fast path's kind other than
    /// zero, no error pending, and for the arithmetic precision 53 bits,
    /// round to nearest, PE masked. Everything else goes to
    /// [`Fpu::fast_mem_lazy`] (the same effects: this is its DC arm
    /// without the operand-size dispatch and the conversions).
    #[inline(never)]
    pub fn fast_m64_dc_lazy(
        &mut self,
        modrm: u8,
        bits: u64,
        ins: (u32, u16),
        data: (u32, u16),
    ) -> bool {
        let reg = (modrm >> 3) & 7;
        let top = self.top();
        let e = (bits >> 52) & 0x7FF;
        if self.sw & ES != 0 {
            return false;
        }
        if self.dk[top] != DK_DBL | DK_FULL || e.wrapping_sub(1023 - 960) > 2 * 960 {
            return self.fast_mem_lazy_cold(0xDC, modrm, bits, ins, data);
        }
        let (a, y) = (self.dv[top], f64::from_bits(bits));
        if reg & 6 == 2 {
            // FCOM/FCOMP: two ordinary numbers, no exception.
            self.note_mem(0xDC, modrm, ins, data);
            self.retire();
            self.set_cmp(a, y);
            if reg == 3 {
                self.pop();
            }
            return true;
        }
        if self.cw & (0x0F00 | PE) != (0x0200 | PE) {
            return self.fast_mem_lazy_cold(0xDC, modrm, bits, ins, data);
        }
        let Some((r, d)) = f80::fast_value_f64(reg, a, y, self.cw) else {
            return false;
        };
        // As `arith_f64` with PE masked; ES is clear and stays so.
        self.retire();
        self.sw &= !C1;
        self.lazy = d;
        self.note_mem(0xDC, modrm, ins, data);
        // (Already full and held as a double.)
        self.dv[top] = r;
        true
    }

    /// [`Fpu::fast_mem_lazy`] out of line, for [`Fpu::fast_m64_dc_lazy`]'s
    /// uncommon cases.
    #[cold]
    #[inline(never)]
    fn fast_mem_lazy_cold(
        &mut self,
        op: u8,
        modrm: u8,
        bits: u64,
        ins: (u32, u16),
        data: (u32, u16),
    ) -> bool {
        self.fast_mem_lazy(op, modrm, bits, ins, data)
    }

    /// Whether the ia32 core's lean forms may run on this state: no error
    /// pending (a waiting instruction would report it first) and no lazy
    /// operation whose PE still has to reach `sw` (PE is already set, the
    /// usual case in a loop, or nothing is pending). The lean forms then
    /// call nothing (no settling), so they need no frame; the rare state
    /// they decline (the first inexact operation after FNINIT or FNCLEX)
    /// goes the full way, which settles.
    #[inline(always)]
    pub fn lean_ready(&self) -> bool {
        // PE set and ES clear (a loop's usual state) in one compare.
        let m = self.sw & (ES | PE);
        m == PE || (m == 0 && self.lazy.kind == Deferred::NONE)
    }

    /// The state the ia32 core caches as its lean gate (`X87::lean`):
    /// [`LEAN_GATE_STACK`] when PE is set and ES clear (so [`Fpu::lean_ready`]
    /// holds whatever operation is lazy, and no lean form changes either
    /// bit), with [`LEAN_GATE_ARITH`] besides under a 027Fh-class control
    /// word (53 bits, round to nearest, PE masked), the one the lean
    /// arithmetic takes; 0 otherwise (the lean forms then make their own
    /// checks in their fallback). The lean forms change none of these bits
    /// of `sw` and `cw`, so the gate stays right across them.
    #[inline]
    pub fn lean_gate(&self) -> u8 {
        if self.sw & (ES | PE) != PE {
            0
        } else if self.cw & (0x0F00 | PE) == (0x0200 | PE) {
            LEAN_GATE_STACK | LEAN_GATE_ARITH
        } else {
            LEAN_GATE_STACK
        }
    }

    /// When [`Fpu::lean_ready`] fails only for a lazy operation whose PE is
    /// not in `sw` yet (PE clear): works it out, and says whether it did
    /// (the ia32 core then tries its lean form again).
    #[inline]
    pub fn lean_settle(&mut self) -> bool {
        if self.lazy.kind != Deferred::NONE && self.sw & (PE | ES) == 0 {
            self.settle_now();
            true
        } else {
            false
        }
    }

    /// Before a lean form's own status change ([`Fpu::lean_ready`] held):
    /// the pending operation's PE is already in `sw` (sticky), its C1 no
    /// longer counts (as [`Fpu::retire`]); C1 cleared.
    #[inline(always)]
    fn lean_retire(&mut self) {
        debug_assert!(self.lazy.kind == Deferred::NONE || self.sw & PE != 0);
        self.lazy.kind = Deferred::NONE;
        self.sw &= !C1;
    }

    /// A lean form's pop, TOP (`top`) as known rather than read back
    /// from `sw` after the form's other changes to it.
    #[inline(always)]
    fn lean_pop(&mut self, top: usize) {
        self.tw |= TAG_MASK[top & 7];
        self.dk[top] &= !DK_FULL;
        self.set_top(top + 1);
    }

    /// What [`Fpu::update_es`] would do after a lean form, which raises
    /// nothing: nothing. [`Fpu::lean_ready`] found ES clear, and ES always
    /// agrees with the unmasked flags (every change of `sw`'s flags or of
    /// `cw` updates it: `raise`, FLDCW, FLDENV/FRSTOR, FXRSTOR, FNCLEX,
    /// FNINIT), so no unmasked flag is set. Checked in debug builds.
    #[inline(always)]
    fn lean_es_unchanged(&self) {
        debug_assert!(
            self.sw & ES == 0 && self.sw & !self.cw & 0x3F == 0,
            "x87: ES out of step with the unmasked flags (sw {:04x} cw {:04x})",
            self.sw,
            self.cw
        );
    }

    /// The ia32 core's lean register arithmetic (its decoded form
    /// `LEAN_ARITH`): `aux` holds the operation in the low three bits
    /// (`code` as [`f80::fast_value_f64`]), 8 when the destination is
    /// ST(i) (DC, DE), 10h for the pop (DE); `ptrs` gives FIP, FCS and
    /// FOP. Only the common case: both registers full and held as
    /// doubles, precision 53 bits, round to nearest, PE masked, and a
    /// result the fast path takes (PE and C1 left lazy). False, with
    /// nothing changed, for anything else (the caller goes the general
    /// way, which gives the same effects). The caller has checked
    /// [`Fpu::lean_ready`].
    ///
    /// The pointers come from `ptrs` only once everything else is written:
    /// read there, after stores the compiler cannot move them past, they
    /// take no register through the decision and the operation (with them
    /// read first, the lean forms needed callee-saved registers and so a
    /// frame of pushes and pops).
    ///
    /// `OP` is `aux`'s operation (`aux & 7`), a constant so that each
    /// operation is a straight path of its own (the caller's `match`
    /// picks it): one jump on the operation, no merge after it.
    #[inline(always)]
    pub fn lean_arith<const OP: u8, const STI: bool, const CW: bool>(
        &mut self,
        aux: u8,
        modrm: u8,
        ptrs: impl FnOnce() -> (u32, u16, u16),
    ) -> bool {
        debug_assert_eq!(OP, aux & 7);
        debug_assert_eq!(STI, aux & 8 != 0);
        let top = self.lean_top();
        let pi = (top + (modrm & 7) as usize) & 7;
        let (pd, ps) = if STI { (pi, top) } else { (top, pi) };
        // (`CW` false: the caller's gate, `lean_gate`, has checked the
        // control word.)
        if (CW && self.cw & (0x0F00 | PE) != (0x0200 | PE))
            || self.dk[pd] != DK_DBL | DK_FULL
            || self.dk[ps] != DK_DBL | DK_FULL
        {
            return false;
        }
        // The control word as checked (the operation tests its precision
        // and rounding again, which the constant folds away).
        let Some((r, d)) = f80::fast_value_f64(OP, self.dv[pd], self.dv[ps], CW_COMMON) else {
            return false;
        };
        debug_assert!(self.lazy.kind == Deferred::NONE || self.sw & PE != 0);
        // `sw`'s C1 is left as it is: while an operation is lazy, every
        // reader takes C1 from it (`status_word`, `settle`), and whatever
        // ends it without settling writes C1 itself (`retire`'s callers,
        // `lean_retire`, FNINIT, FXRSTOR).
        self.lazy = d;
        // (Already full and held as a double.)
        self.dv[pd] = r;
        // (Only DE pops, and its destination is ST(i).)
        debug_assert!(STI || aux & 0x10 == 0);
        if STI && aux & 0x10 != 0 {
            self.tw |= TAG_MASK[top];
            self.dk[top] = DK_DBL;
            self.set_top(top + 1);
        }
        (self.fip, self.fcs, self.fop) = ptrs();
        true
    }

    /// [`Fpu::lean_arith`] for `aux`'s direction (bit 3: destination ST(i)).
    #[inline(always)]
    fn lean_arith_dir<const OP: u8>(
        &mut self,
        aux: u8,
        modrm: u8,
        ptrs: impl FnOnce() -> (u32, u16, u16),
    ) -> bool {
        if aux & 8 == 0 {
            self.lean_arith::<OP, false, true>(aux, modrm, ptrs)
        } else {
            self.lean_arith::<OP, true, true>(aux, modrm, ptrs)
        }
    }

    /// [`Fpu::lean_arith`] for `aux`'s operation and direction, whichever
    /// they are.
    #[inline(always)]
    pub fn lean_arith_any(
        &mut self,
        aux: u8,
        modrm: u8,
        ptrs: impl FnOnce() -> (u32, u16, u16),
    ) -> bool {
        match aux & 7 {
            0 => self.lean_arith_dir::<0>(aux, modrm, ptrs),
            1 => self.lean_arith_dir::<1>(aux, modrm, ptrs),
            4 => self.lean_arith_dir::<4>(aux, modrm, ptrs),
            5 => self.lean_arith_dir::<5>(aux, modrm, ptrs),
            6 => self.lean_arith_dir::<6>(aux, modrm, ptrs),
            // (FCOM/FCOMP are not lean arithmetic.)
            2 | 3 => false,
            // (7: as the last arm, the jump on the operation needs no
            // bounds test.)
            _ => self.lean_arith_dir::<7>(aux, modrm, ptrs),
        }
    }

    /// The ia32 core's lean FLD ST(i) (`SUB` 0), FXCH ST(i) (1), FST ST(i)
    /// (2), FSTP ST(i) (3) and FLD1/FLDZ (5: `modrm` D9 E8h or EEh, the
    /// constant pushed as a double), whichever form the registers are in: the
    /// effects of [`Fpu::fast_reg`]'s arms, false (nothing changed) where
    /// they would give up; `ptrs` as [`Fpu::lean_arith`]'s. The caller has
    /// checked [`Fpu::lean_ready`]. `SUB` a constant (the caller's `match`
    /// picks it), so each is a straight path; the tags are read from the
    /// tag word (the authority), and C1 and TOP go into `sw` in one write
    /// with TOP as known rather than read back.
    #[inline(always)]
    pub fn lean_stack<const SUB: u8>(
        &mut self,
        modrm: u8,
        ptrs: impl FnOnce() -> (u32, u16, u16),
    ) -> bool {
        let top = self.lean_top();
        let pi = (top + (modrm & 7) as usize) & 7;
        let tw = self.tw;
        let full = |p: usize| tw & TAG_MASK[p & 7] != TAG_MASK[p & 7];
        match SUB {
            0 => {
                let pt = (top + 7) & 7;
                if !full(pi) || full(pt) {
                    return false;
                }
                self.lean_retire();
                self.set_top(pt);
                self.copy_reg(pt, pi);
            }
            1 => {
                if !full(top) || !full(pi) {
                    return false;
                }
                self.lean_retire();
                // Both full already: the tags stay. The 80-bit registers
                // only when one of the two is in that form: a register
                // held as a double has a stale `regs` entry that nothing
                // reads (every reader goes by `dk`, and whatever clears
                // `DK_DBL` writes `regs` first).
                if self.dk[top] & self.dk[pi] & DK_DBL == 0 {
                    self.regs.swap(top, pi);
                }
                self.dv.swap(top, pi);
                self.dk.swap(top, pi);
            }
            5 => {
                // FLD1 (E8h) or FLDZ (EEh): exact under every control word.
                let y = if modrm & 7 == 0 { 1.0 } else { 0.0 };
                if !self.lean_push_value(y) {
                    return false;
                }
            }
            _ => {
                if !full(top) {
                    return false;
                }
                self.lean_retire();
                self.copy_reg(pi, top);
                if SUB == 3 {
                    // The pop, TOP as known (FSTP ST(0) copies ST(0) to
                    // itself and then empties it, as the general path).
                    self.lean_pop(top);
                }
            }
        }
        (self.fip, self.fcs, self.fop) = ptrs();
        true
    }

    /// The ia32 core's lean FNSTSW AX: the status word when it needs no
    /// working out (no lazy operation pending); None sends it the full way
    /// (whose settling is a call, which would give every lean form a frame).
    #[inline(always)]
    pub fn lean_fnstsw(&self) -> Option<u16> {
        (self.lazy.kind == Deferred::NONE).then_some(self.sw)
    }

    /// The instruction and data pointers and the opcode of a lean memory
    /// form, worked out last ([`Fpu::lean_arith`]'s `ptrs`).
    #[inline(always)]
    fn lean_mem_ptrs(&mut self, ptrs: impl FnOnce() -> ((u32, u16), (u32, u16), u16)) {
        let (ins, data, fop) = ptrs();
        (self.fip, self.fcs) = ins;
        (self.fdp, self.fds) = data;
        self.fop = fop;
    }

    /// The ia32 core's lean FADD…FDIVR/FCOM/FCOMP m64 (DC, `reg` the
    /// ModR/M reg field, `bits` the operand): ST(0) full and held as a
    /// double, the operand a normal double of the fast path's range (or,
    /// when `ZERO`, a zero), and
    /// for the arithmetic the 027Fh-class control word and a result the
    /// fast path takes. False, nothing changed, otherwise; `ptrs` gives
    /// the instruction and data pointers and FOP. The caller has checked
    /// [`Fpu::lean_ready`]. (A path per operation, as the register
    /// arithmetic's, cost more here: the jump on the operation comes
    /// before the operand's checks, which are then made in every copy.)
    #[inline(always)]
    pub fn lean_m64<const ZERO: bool>(
        &mut self,
        reg: u8,
        bits: u64,
        ptrs: impl FnOnce() -> ((u32, u16), (u32, u16), u16),
    ) -> bool {
        let top = self.lean_top();
        // A zero operand only when `ZERO` (mandel87 adds a zero m64 in
        // every iteration of a row on the real axis): the operation takes
        // zeros as the registers' arithmetic does, and FCOM compares them
        // as numbers. Tested inline, LLVM put the zero test first (three
        // host instructions on every lean m64 form), so the run loop's
        // lean form declines zeros and its out-of-line fallback
        // (`f_x87_lean_full`) takes them.
        let e = (bits >> 52) & 0x7FF;
        if e.wrapping_sub(1023 - 960) > 2 * 960 && !(ZERO && bits << 1 == 0) {
            return false;
        }
        if self.dk[top] != DK_DBL | DK_FULL {
            return false;
        }
        let (a, y) = (self.dv[top], f64::from_bits(bits));
        if reg & 6 == 2 {
            // FCOM/FCOMP: two ordinary numbers or zeros, no exception,
            // +0 equal to −0.
            self.lean_retire();
            self.sw &= !(C0 | C2 | C3);
            self.sw |= if a < y {
                C0
            } else if a == y {
                C3
            } else {
                0
            };
            self.lean_es_unchanged();
            if reg == 3 {
                self.lean_pop(top);
            }
        } else {
            if self.cw & (0x0F00 | PE) != (0x0200 | PE) {
                return false;
            }
            let Some((r, d)) = f80::fast_value_f64(reg, a, y, CW_COMMON) else {
                return false;
            };
            debug_assert!(self.lazy.kind == Deferred::NONE || self.sw & PE != 0);
            // (`sw`'s C1 as it is: see `lean_arith`.)
            self.lazy = d;
            self.dv[top] = r;
        }
        self.lean_mem_ptrs(ptrs);
        true
    }

    /// The ia32 core's lean FLD m64 of a double of the fast path's kind (a
    /// zero or a normal within 2^±960) into an empty register, held as
    /// that double; false, nothing changed, otherwise; `ptrs` as
    /// [`Fpu::lean_m64`]'s. The caller has checked [`Fpu::lean_ready`].
    #[inline(always)]
    pub fn lean_fld64(
        &mut self,
        bits: u64,
        ptrs: impl FnOnce() -> ((u32, u16), (u32, u16), u16),
    ) -> bool {
        let Some(y) = f80::fast_of_bits(bits) else {
            return false;
        };
        self.lean_push(y, ptrs)
    }

    /// The ia32 core's lean FILD m32 of `v` into an empty register, held
    /// as its double (every 32-bit integer is a zero or a normal double of
    /// the fast path's kind, converted exactly; +0 for 0, as FILD gives);
    /// false, nothing changed, when the register to push into is full;
    /// `ptrs` as [`Fpu::lean_m64`]'s. The caller has checked
    /// [`Fpu::lean_ready`].
    #[inline(always)]
    pub fn lean_fild32(
        &mut self,
        v: i32,
        ptrs: impl FnOnce() -> ((u32, u16), (u32, u16), u16),
    ) -> bool {
        self.lean_push(v as f64, ptrs)
    }

    /// [`Fpu::lean_fld64`]'s and [`Fpu::lean_fild32`]'s push of `y` (a
    /// double of the fast path's kind) into an empty register: C1 cleared,
    /// nothing raised.
    #[inline(always)]
    fn lean_push(&mut self, y: f64, ptrs: impl FnOnce() -> ((u32, u16), (u32, u16), u16)) -> bool {
        if !self.lean_push_value(y) {
            return false;
        }
        self.lean_mem_ptrs(ptrs);
        true
    }

    /// The lean pushes' common part ([`Fpu::lean_push`], FLD1/FLDZ in
    /// [`Fpu::lean_stack`]): `y` (a double of the fast path's kind) into
    /// the register below TOP when it is empty, C1 cleared, nothing
    /// raised; false, nothing changed, when it is full. The pointers are
    /// the caller's to write.
    #[inline(always)]
    fn lean_push_value(&mut self, y: f64) -> bool {
        let t = (self.lean_top() + 7) & 7;
        if self.tw & TAG_MASK[t] != TAG_MASK[t] {
            return false;
        }
        self.lean_retire();
        self.lean_es_unchanged();
        self.set_top(t);
        self.dput::<true>(t, y);
        true
    }

    /// The ia32 core's lean FST(P) m64, first half: ST(0)'s value when it
    /// is full and held as a double (stored exactly, nothing raised), and
    /// TOP for [`Fpu::lean_st_done`] (read once: the store between would
    /// have it loaded again).
    #[inline(always)]
    pub fn lean_st64_value(&self) -> Option<(u64, usize)> {
        let top = self.lean_top();
        (self.dk[top] == DK_DBL | DK_FULL).then(|| (self.dv[top].to_bits(), top))
    }

    /// The ia32 core's lean FST(P) m64, second half once the value is
    /// written: C1 cleared, the pop when `pop` (`top` as
    /// [`Fpu::lean_st64_value`] gave it), the pointers from `ptrs`.
    #[inline(always)]
    pub fn lean_st_done(
        &mut self,
        pop: bool,
        top: usize,
        ptrs: impl FnOnce() -> ((u32, u16), (u32, u16), u16),
    ) {
        debug_assert_eq!(top, self.top());
        self.lean_retire();
        self.lean_es_unchanged();
        if pop {
            self.lean_pop(top);
        }
        self.lean_mem_ptrs(ptrs);
    }

    /// The ia32 core's fast path for the loading memory forms of a loop
    /// over doubles: FADD/FMUL/FCOM/FCOMP/FSUB(R)/FDIV(R) m32 (D8), m64
    /// (DC), m32int (DA) and m16int (DE), FLD m32 (D9 /0), FLD m64 (DD /0),
    /// FILD m32 (DB /0) and m16 (DF /0). `bits` is the operand already read
    /// (its low 2, 4 or 8 bytes, little-endian), `ins` the instruction
    /// (offset, CS) and `data` the operand (effective address, segment
    /// selector) for the FPU pointers. Lazy flags and the caller's checks
    /// as [`Fpu::fast_reg_lazy`]; false, with nothing changed, for
    /// anything else (an operand that is not a normal number or a zero, an
    /// empty ST(0), a full register to push into, another control word…).
    #[inline]
    pub fn fast_mem_lazy(
        &mut self,
        op: u8,
        modrm: u8,
        bits: u64,
        ins: (u32, u16),
        data: (u32, u16),
    ) -> bool {
        let reg = (modrm >> 3) & 7;
        // The operand as a double of the fast path's kind (exact in every
        // case: integers of 32 bits, singles, doubles within 2^±960), or,
        // for a load, the 80-bit value the general path would make of a
        // double outside that range. Denormals, infinities and NaNs take
        // the general path (their conversion or their operation raises
        // something, and they are rare).
        let (y, src) = match op {
            0xDC | 0xDD => match f80::fast_of_bits(bits) {
                Some(y) => (y, None),
                None => {
                    let Some(src) = ieee_to_f80::<11, 52>(bits) else {
                        return false;
                    };
                    if op == 0xDC {
                        return false;
                    }
                    (0.0, Some(src))
                }
            },
            0xD8 | 0xD9 => {
                let b = bits as u32;
                let e = (b >> 23) & 0xFF;
                if e == 0xFF || (e == 0 && b << 1 != 0) {
                    return false;
                }
                (f32::from_bits(b) as f64, None)
            }
            0xDA | 0xDB => (bits as u32 as i32 as f64, None),
            _ => (bits as u16 as i16 as f64, None),
        };
        let top = self.top();
        let empty = |tw: u16, p: usize| (tw >> (2 * p)) & 3 == TAG_EMPTY;
        match (op, reg) {
            (0xD8 | 0xDA | 0xDC | 0xDE, 2 | 3) => {
                if empty(self.tw, top) {
                    return false;
                }
                // Two ordinary numbers or zeros: no exception, no unordered
                // result, and +0 equals −0 on both sides.
                let Some(a) = self.dget(top) else {
                    return false;
                };
                self.note_mem(op, modrm, ins, data);
                self.retire();
                self.set_cmp(a, y);
                if reg == 3 {
                    self.pop();
                }
            }
            (0xD8 | 0xDA | 0xDC | 0xDE, _) => {
                if empty(self.tw, top) {
                    return false;
                }
                let Some(a) = self.dget(top) else {
                    return false;
                };
                let Some(r) = self.arith_f64::<true>(reg, a, y) else {
                    return false;
                };
                self.note_mem(op, modrm, ins, data);
                self.dput::<true>(top, r);
            }
            (_, 0) => {
                let t = (top + 7) & 7;
                if !empty(self.tw, t) {
                    return false;
                }
                self.note_mem(op, modrm, ins, data);
                self.retire();
                self.sw &= !C1;
                self.update_es();
                self.set_top(t);
                match src {
                    None => self.dput::<true>(t, y),
                    Some(v) => {
                        self.regs[t] = v;
                        self.dk[t] = 0;
                        self.tw &= !(3 << (2 * t));
                    }
                }
            }
            _ => return false,
        }
        true
    }

    /// The condition codes of a compare of two ordinary doubles (C1
    /// cleared, nothing raised).
    #[inline]
    fn set_cmp(&mut self, a: f64, b: f64) {
        self.sw &= !(C0 | C1 | C2 | C3);
        self.sw |= if a < b {
            C0
        } else if a == b {
            C3
        } else {
            0
        };
        self.update_es();
    }

    /// The stores of the ia32 core's fast path, first half: FST(P) m32
    /// (D9 /2, /3), FST(P) m64 (DD), FIST(P) m32 (DB) and m16 (DF): the
    /// value to store (in the low 4, 8, 4 or 2 bytes) when ST(0) converts
    /// exactly (so the store rounds nothing and raises nothing); None sends
    /// it to [`Fpu::execute`]. The core writes it (a fault leaves the FPU
    /// as it was) and then calls [`Fpu::fast_st_done`].
    #[inline]
    pub fn fast_st_value(&self, op: u8) -> Option<u64> {
        let top = self.top();
        if (self.tw >> (2 * top)) & 3 == TAG_EMPTY {
            return None;
        }
        match op {
            0xDD => self.dget(top).map(f64::to_bits),
            0xD9 => {
                let x = self.dget(top)?;
                let f = x as f32;
                (f as f64 == x && (f.is_normal() || f == 0.0)).then(|| f.to_bits() as u64)
            }
            0xDB | 0xDF => {
                let n = if op == 0xDB { 32 } else { 16 };
                let (i, st) = f80::to_int(self.reg80(top), n, self.cw);
                (st == 0).then_some(i as u64 & ((1 << n) - 1))
            }
            _ => None,
        }
    }

    /// The rest of a fast store ([`Fpu::fast_st_value`]) once the value is
    /// written: the pointers (as [`Fpu::fast_mem_lazy`]), C1 cleared, the
    /// pop of the popping forms.
    #[inline]
    pub fn fast_st_done(&mut self, op: u8, modrm: u8, ins: (u32, u16), data: (u32, u16)) {
        self.note_mem(op, modrm, ins, data);
        self.retire();
        self.sw &= !C1;
        self.update_es();
        if (modrm >> 3) & 7 == 3 {
            self.pop();
        }
    }

    /// FNSTSW AX (DF E0): the status word, settled.
    #[inline]
    pub fn fnstsw(&mut self) -> u16 {
        self.settle();
        self.sw
    }

    /// The pointers and opcode of a memory form.
    #[inline]
    fn note_mem(&mut self, op: u8, modrm: u8, ins: (u32, u16), data: (u32, u16)) {
        (self.fip, self.fcs) = ins;
        (self.fdp, self.fds) = data;
        self.fop = (((op & 7) as u16) << 8) | modrm as u16;
    }

    /// Two-operand arithmetic `dst = dst op src` (op 0 add, 1 mul, 4 sub,
    /// 5 subr, 6 div, 7 divr).
    fn arith(&mut self, code: usize, a: F80, b: F80) -> (F80, u16) {
        let cw = self.cw;
        match code {
            0 => f80::add(a, b, cw),
            1 => f80::mul(a, b, cw),
            4 => f80::sub(a, b, cw),
            5 => f80::sub(b, a, cw),
            6 => f80::div(a, b, cw),
            _ => f80::div(b, a, cw),
        }
    }

    fn compare_set(&mut self, a: F80, b: F80, quiet: bool) -> bool {
        let (o, st) = f80::compare(a, b, quiet);
        self.raise(st);
        // The condition codes are set even when the exception is unmasked.
        self.set_cc(o);
        !self.unmasked(st & PRE_EXC)
    }

    fn set_cc(&mut self, o: Ord3) {
        self.sw &= !(C0 | C1 | C2 | C3);
        self.sw |= match o {
            Ord3::Greater => 0,
            Ord3::Less => C0,
            Ord3::Equal => C3,
            Ord3::Unordered => C0 | C2 | C3,
        };
    }

    /// Memory-operand arithmetic and compares with a converted source.
    fn mem_arith(&mut self, code: usize, src: F80, src_st: u16) {
        // The double fast path, as in `fast_reg`: with a full ST(0) and an
        // ordinary source, the general path below would store what
        // `fast_arith` gives with the status it gives.
        if src_st == 0 && code != 2 && code != 3 {
            let p = self.top();
            if (self.tw >> (2 * p)) & 3 != TAG_EMPTY {
                if let Some(r) = self.arith_fast(code as u8, self.regs[p], src) {
                    self.regs[p] = r;
                    self.tw &= !(3 << (2 * p));
                    return;
                }
            }
        }
        self.mem_arith_general(code, src, src_st);
    }

    /// [`Fpu::mem_arith`] without the fast path.
    fn mem_arith_general(&mut self, code: usize, src: F80, src_st: u16) {
        let mut src_st = src_st;
        let a = match self.fetch(0) {
            Some(a) => a,
            None => {
                let stop = self.underflow();
                if code == 2 || code == 3 {
                    self.set_cc(Ord3::Unordered);
                }
                if stop {
                    return;
                }
                if code == 2 || code == 3 {
                    self.set_cc(Ord3::Unordered);
                    if code == 3 {
                        self.pop();
                    }
                } else {
                    self.set_st(0, F80::INDEFINITE);
                }
                return;
            }
        };
        if a.is_nan() || a.class() == Class::Unsupported {
            // A NaN or unsupported operand hides a denormal source.
            src_st &= !DE;
        }
        match code {
            2 | 3 => {
                let (o, st) = f80::compare(a, src, false);
                let st = st | src_st;
                self.raise(st);
                self.set_cc(o);
                if self.unmasked(st & PRE_EXC) {
                    return;
                }
                if code == 3 {
                    self.pop();
                }
            }
            _ if self.unmasked(src_st & DE) && !a.is_nan() && a.class() != Class::Unsupported => {
                self.raise(DE);
            }
            _ => {
                let (r, st) = self.arith(code, a, src);
                self.store_result(0, r, st | src_st, false);
            }
        }
    }

    fn exec_mem<M: FpuMemory>(
        &mut self,
        op: u8,
        reg: usize,
        mem: &mut Option<&mut M>,
        env: &FpuEnv,
        out: &mut FpuOutcome,
    ) -> Result<(), FpuError<M::Fault>> {
        let _ = out;
        match (op, reg) {
            (0xD8, _) => {
                let (v, st) = load_f32(rd::<M, 4>(mem, 0)?);
                self.mem_arith(reg, v, st);
            }
            (0xDC, _) => {
                let (v, st) = load_f64(rd::<M, 8>(mem, 0)?);
                self.mem_arith(reg, v, st);
            }
            (0xDA, _) => {
                let v = i32::from_le_bytes(rd::<M, 4>(mem, 0)?);
                self.mem_arith(reg, f80::from_int(v as i64), 0);
            }
            (0xDE, _) => {
                let v = i16::from_le_bytes(rd::<M, 2>(mem, 0)?);
                self.mem_arith(reg, f80::from_int(v as i64), 0);
            }
            (0xD9, 0) => {
                let (v, st) = load_f32(rd::<M, 4>(mem, 0)?);
                self.load(v, st);
            }
            (0xDD, 0) => {
                let (v, st) = load_f64(rd::<M, 8>(mem, 0)?);
                self.load(v, st);
            }
            (0xDB, 5) => {
                let v = F80::from_bytes(rd::<M, 10>(mem, 0)?);
                self.load(v, 0);
            }
            (0xDB, 0) => {
                let v = i32::from_le_bytes(rd::<M, 4>(mem, 0)?);
                self.load(f80::from_int(v as i64), 0);
            }
            (0xDF, 0) => {
                let v = i16::from_le_bytes(rd::<M, 2>(mem, 0)?);
                self.load(f80::from_int(v as i64), 0);
            }
            (0xDF, 5) => {
                let v = i64::from_le_bytes(rd::<M, 8>(mem, 0)?);
                self.load(f80::from_int(v), 0);
            }
            (0xDF, 4) => {
                let v = f80::from_bcd(rd::<M, 10>(mem, 0)?);
                self.load(v, 0);
            }
            (0xD9, 2 | 3) => self.store_real(mem, 4, reg == 3)?,
            (0xDD, 2 | 3) => self.store_real(mem, 8, reg == 3)?,
            (0xDB, 7) => self.store_real(mem, 10, true)?,
            (0xDB, 2 | 3) => self.store_int(mem, 4, reg == 3, false)?,
            (0xDF, 2 | 3) => self.store_int(mem, 2, reg == 3, false)?,
            (0xDF, 7) => self.store_int(mem, 8, true, false)?,
            (0xDB, 1) | (0xDD, 1) | (0xDF, 1) => {
                if !env.fisttp {
                    return Err(FpuError::Undefined);
                }
                let n = match op {
                    0xDB => 4,
                    0xDD => 8,
                    _ => 2,
                };
                self.store_int(mem, n, true, true)?
            }
            (0xDF, 6) => self.store_bcd(mem)?,
            (0xD9, 5) => {
                let v = u16::from_le_bytes(rd::<M, 2>(mem, 0)?);
                self.cw = v | 0x0040;
                self.update_es();
            }
            (0xD9, 7) => wr(mem, 0, &self.cw.to_le_bytes())?,
            (0xDD, 7) => wr(mem, 0, &self.sw.to_le_bytes())?,
            (0xD9, 6) => {
                let e = self.env_bytes(env);
                wr(mem, 0, &e)?;
                // FSTENV masks all exceptions afterwards.
                self.cw |= 0x3F;
                self.update_es();
            }
            (0xD9, 4) => {
                let n = env_len(env);
                let m = mem.as_mut().ok_or(FpuError::Undefined)?;
                let mut b = vec![0u8; n];
                m.read(0, &mut b).map_err(FpuError::Fault)?;
                self.load_env(&b, env);
            }
            (0xDD, 6) => {
                let mut b = self.env_bytes(env);
                for i in 0..8 {
                    b.extend_from_slice(&self.st(i).to_bytes());
                }
                wr(mem, 0, &b)?;
                self.finit();
            }
            (0xDD, 4) => {
                let n = env_len(env);
                let m = mem.as_mut().ok_or(FpuError::Undefined)?;
                let mut b = vec![0u8; n + 80];
                m.read(0, &mut b).map_err(FpuError::Fault)?;
                self.load_env(&b[..n], env);
                let top = self.top();
                for i in 0..8 {
                    let mut r = [0u8; 10];
                    r.copy_from_slice(&b[n + 10 * i..n + 10 * i + 10]);
                    self.regs[(top + i) & 7] = F80::from_bytes(r);
                }
            }
            _ => return Err(FpuError::Undefined),
        }
        Ok(())
    }

    /// FLD of a converted value (with the conversion's status).
    fn load(&mut self, v: F80, st: u16) {
        self.raise(st);
        // An unmasked denormal operand does not stop a load.
        if self.unmasked(st & IE) {
            return;
        }
        let v = if st & IE != 0 { v.quiet() } else { v };
        self.sw &= !C1;
        self.push(v);
    }

    fn store_real<M: FpuMemory>(
        &mut self,
        mem: &mut Option<&mut M>,
        size: usize,
        pop: bool,
    ) -> Result<(), FpuError<M::Fault>> {
        let v = match self.fetch(0) {
            Some(v) => v,
            None => {
                if self.underflow() {
                    return Ok(());
                }
                F80::INDEFINITE
            }
        };
        // (A buffer on the stack: FST m64 is in every loop over doubles.)
        let mut buf = [0u8; 10];
        let st = match size {
            4 => {
                let (b, st) = f80::to_binary(v, 23, 8, self.cw);
                buf[..4].copy_from_slice(&(b as u32).to_le_bytes());
                st
            }
            8 => {
                let (b, st) = f80::to_binary(v, 52, 11, self.cw);
                buf[..8].copy_from_slice(&b.to_le_bytes());
                st
            }
            _ => {
                buf = v.to_bytes();
                0
            }
        };
        if self.unmasked(st & (PRE_EXC | OE | UE)) {
            self.raise(st);
            return Ok(());
        }
        wr(mem, 0, &buf[..size])?;
        self.raise(st);
        if pop {
            self.pop();
        }
        Ok(())
    }

    fn store_int<M: FpuMemory>(
        &mut self,
        mem: &mut Option<&mut M>,
        size: usize,
        pop: bool,
        truncate: bool,
    ) -> Result<(), FpuError<M::Fault>> {
        let (val, st) = match self.fetch(0) {
            Some(v) => {
                let cw = if truncate { self.cw | 0x0C00 } else { self.cw };
                f80::to_int(v, size as u32 * 8, cw)
            }
            None => {
                if self.underflow() {
                    return Ok(());
                }
                (i64::MIN >> (64 - size * 8), IE | SF)
            }
        };
        if self.unmasked(st & PRE_EXC) {
            self.raise(st);
            return Ok(());
        }
        wr(mem, 0, &val.to_le_bytes()[..size])?;
        self.raise(st);
        if pop {
            self.pop();
        }
        Ok(())
    }

    fn store_bcd<M: FpuMemory>(
        &mut self,
        mem: &mut Option<&mut M>,
    ) -> Result<(), FpuError<M::Fault>> {
        let (b, st) = match self.fetch(0) {
            Some(v) => f80::to_bcd(v, self.cw),
            None => {
                if self.underflow() {
                    return Ok(());
                }
                f80::to_bcd(F80::INDEFINITE, self.cw)
            }
        };
        if self.unmasked(st & PRE_EXC) {
            self.raise(st);
            return Ok(());
        }
        wr(mem, 0, &b)?;
        self.raise(st);
        self.pop();
        Ok(())
    }

    fn exec_reg(
        &mut self,
        op: u8,
        modrm: u8,
        reg: usize,
        rm: usize,
        env: &FpuEnv,
        out: &mut FpuOutcome,
    ) -> Result<(), FpuError<()>> {
        match (op, reg) {
            (0xD8, 2 | 3) | (0xDC, 2 | 3) | (0xDE, 2 | 3) => {
                if op == 0xDE && reg == 3 && rm != 1 {
                    return Err(FpuError::Undefined);
                }
                // FCOM, FCOMP, FCOMPP (DE D9); DC D0/D8 and DE D0 are the
                // undocumented FCOM2, FCOMP3 and FCOMP5 aliases.
                let pops = match (op, reg) {
                    (0xDE, 3) => 2,
                    (0xDE, 2) | (_, 3) => 1,
                    _ => 0,
                };
                self.fcom(rm, false, pops);
            }
            (0xD8, _) | (0xDC, _) | (0xDE, _) => {
                // dst = ST(0) for D8, ST(i) for DC/DE (with SUB/SUBR and
                // DIV/DIVR swapped in meaning).
                let (dst, code) = if op == 0xD8 {
                    (0, reg)
                } else {
                    (
                        rm,
                        match reg {
                            4 => 5,
                            5 => 4,
                            6 => 7,
                            7 => 6,
                            r => r,
                        },
                    )
                };
                let src = if op == 0xD8 { rm } else { 0 };
                let pop = op == 0xDE;
                match (self.fetch(dst), self.fetch(src)) {
                    (Some(a), Some(b)) => {
                        let (r, st) = self.arith(code, a, b);
                        self.store_result(dst, r, st, pop);
                    }
                    _ => {
                        if !self.underflow() {
                            self.set_st(dst, F80::INDEFINITE);
                            if pop {
                                self.pop();
                            }
                        }
                    }
                }
            }
            (0xD9, 0) => match self.fetch(rm) {
                Some(v) => {
                    self.sw &= !C1;
                    self.push(v);
                }
                None => {
                    if !self.underflow() {
                        self.push(F80::INDEFINITE);
                    }
                }
            },
            (0xD9, 1) | (0xDD, 1) | (0xDF, 1) => self.fxch(rm),
            (0xD9, 2) if rm == 0 => {} // FNOP
            (0xD9, 3) | (0xDF, 2 | 3) | (0xDD, 2 | 3) => {
                // FSTP ST(i) (and the aliases), FST ST(i).
                let pop = !(op == 0xDD && reg == 2);
                match self.fetch(0) {
                    Some(v) => {
                        self.sw &= !C1;
                        self.set_st(rm, v);
                        if pop {
                            self.pop();
                        }
                    }
                    None => {
                        if !self.underflow() {
                            self.set_st(rm, F80::INDEFINITE);
                            if pop {
                                self.pop();
                            }
                        }
                    }
                }
            }
            (0xD9, 4) => match rm {
                0 | 1 => {
                    let Some(v) = self.fetch(0) else {
                        if !self.underflow() {
                            self.set_st(0, F80::INDEFINITE);
                        }
                        return Ok(());
                    };
                    self.sw &= !C1;
                    self.set_st(0, if rm == 0 { v.chs() } else { v.abs() });
                }
                4 => {
                    // FTST
                    match self.fetch(0) {
                        Some(v) => {
                            self.compare_set(v, F80::ZERO, false);
                        }
                        None => {
                            self.underflow();
                            self.set_cc(Ord3::Unordered);
                        }
                    }
                }
                5 => self.fxam(),
                _ => return Err(FpuError::Undefined),
            },
            (0xD9, 5) => {
                if rm == 7 {
                    return Err(FpuError::Undefined);
                }
                let v = f80::constant(rm as u8, self.cw);
                self.sw &= !C1;
                self.push(v);
            }
            (0xD9, 6 | 7) => self.misc(modrm),
            (0xDA, _) | (0xDB, 0..=3) => {
                if op == 0xDA && modrm == 0xE9 {
                    self.fucom(1, 2);
                    return Ok(());
                }
                if op == 0xDA && reg >= 4 {
                    return Err(FpuError::Undefined);
                }
                let f = env.eflags;
                let (cf, pf, zf) = (f & 1 != 0, f & 4 != 0, f & 0x40 != 0);
                let c = match reg {
                    0 => cf,
                    1 => zf,
                    2 => cf || zf,
                    _ => pf,
                };
                let c = if op == 0xDB { !c } else { c };
                match (self.fetch(0), self.fetch(rm)) {
                    (Some(_), Some(v)) => {
                        self.sw &= !C1;
                        if c {
                            self.set_st(0, v);
                        }
                    }
                    _ => {
                        if !self.underflow() && c {
                            self.set_st(0, F80::INDEFINITE);
                        }
                    }
                }
            }
            (0xDB, 4) => match modrm {
                0xE0 | 0xE1 | 0xE4 => {} // FENI, FDISI, FSETPM: no-ops on the 387+
                0xE2 => {
                    self.sw &= !(0x80FF);
                }
                0xE3 => self.finit(),
                _ => return Err(FpuError::Undefined),
            },
            (0xDB, 5) | (0xDF, 5) => out.eflags = self.fcomi(rm, true, op == 0xDF),
            (0xDB, 6) | (0xDF, 6) => out.eflags = self.fcomi(rm, false, op == 0xDF),
            (0xDD, 0) | (0xDF, 0) => {
                // FFREE, FFREEP
                let p = self.phys(rm);
                self.tw |= 3 << (2 * p);
                if op == 0xDF {
                    self.pop();
                }
            }
            (0xDD, 4) => self.fucom(rm, 0),
            (0xDD, 5) => self.fucom(rm, 1),
            (0xDF, 4) if modrm == 0xE0 => out.ax = Some(self.sw),
            _ => return Err(FpuError::Undefined),
        }
        Ok(())
    }

    fn fcom(&mut self, i: usize, quiet: bool, pops: usize) {
        match (self.fetch(0), self.fetch(i)) {
            (Some(a), Some(b)) => {
                if !self.compare_set(a, b, quiet) {
                    return;
                }
            }
            _ => {
                // Codes are set even when the stack fault is unmasked.
                let stop = self.underflow();
                self.set_cc(Ord3::Unordered);
                if stop {
                    return;
                }
            }
        }
        for _ in 0..pops {
            self.pop();
        }
    }

    fn fucom(&mut self, i: usize, pops: usize) {
        self.fcom(i, true, pops)
    }

    /// FCOMI/FUCOMI(P): returns EFLAGS ZF/PF/CF.
    fn fcomi(&mut self, i: usize, quiet: bool, pop: bool) -> Option<u32> {
        let o = match (self.fetch(0), self.fetch(i)) {
            (Some(a), Some(b)) => {
                let (o, st) = f80::compare(a, b, quiet);
                self.raise(st);
                if self.unmasked(st & PRE_EXC) {
                    // EFLAGS are set even when the exception is unmasked.
                    return Some(cmp_eflags(o));
                }
                o
            }
            _ => {
                if self.underflow() {
                    return None;
                }
                Ord3::Unordered
            }
        };
        self.sw &= !C1;
        if pop {
            self.pop();
        }
        Some(cmp_eflags(o))
    }

    fn fxch(&mut self, i: usize) {
        let (a, b) = (self.fetch(0), self.fetch(i));
        if a.is_none() || b.is_none() {
            if self.underflow() {
                return;
            }
        } else {
            self.sw &= !C1;
        }
        let a = a.unwrap_or(F80::INDEFINITE);
        let b = b.unwrap_or(F80::INDEFINITE);
        self.set_st(0, b);
        self.set_st(i, a);
    }

    fn fxam(&mut self) {
        let v = self.st(0);
        self.sw &= !(C0 | C1 | C2 | C3);
        if v.sign() {
            self.sw |= C1;
        }
        let cc = if self.is_empty(0) {
            C3 | C0
        } else {
            match v.class() {
                Class::Unsupported => 0,
                Class::QNaN | Class::SNaN => C0,
                Class::Finite { denormal: false } => C2,
                Class::Inf => C2 | C0,
                Class::Zero => C3,
                Class::Finite { denormal: true } => C3 | C2,
            }
        };
        self.sw |= cc;
    }

    /// D9 F0–FF: transcendental and other one/two-operand instructions.
    fn misc(&mut self, modrm: u8) {
        let cw = self.cw;
        match modrm {
            0xF6 => {
                self.sw &= !C1;
                self.set_top(self.top() + 7);
            }
            0xF7 => {
                self.sw &= !C1;
                self.set_top(self.top() + 1);
            }
            // One operand, result in ST(0).
            0xF0 | 0xFA | 0xFC | 0xFE | 0xFF => {
                let Some(a) = self.fetch(0) else {
                    if !self.underflow() {
                        self.set_st(0, F80::INDEFINITE);
                    }
                    return;
                };
                let (r, st) = match modrm {
                    0xF0 => transc::f2xm1(a, cw),
                    0xFA => f80::sqrt(a, cw),
                    0xFC => f80::round_int(a, cw),
                    0xFE => transc::fsin(a, cw),
                    _ => transc::fcos(a, cw),
                };
                let mut st = st;
                if modrm == 0xFE || modrm == 0xFF {
                    // C2 = operand out of range: ST(0) unchanged.
                    self.sw &= !C2;
                    if st & C2 != 0 {
                        self.sw |= C2;
                        st &= !C2;
                        self.raise(st);
                        return;
                    }
                }
                self.store_result(0, r, st, false);
            }
            // Two operands, result in ST(1), pop.
            0xF1 | 0xF3 | 0xF9 => {
                let (Some(a), Some(b)) = (self.fetch(0), self.fetch(1)) else {
                    if !self.underflow() {
                        self.set_st(1, F80::INDEFINITE);
                        self.pop();
                    }
                    return;
                };
                let (r, st) = match modrm {
                    0xF1 => transc::fyl2x(a, b, cw),
                    0xF3 => transc::fpatan(a, b, cw),
                    _ => transc::fyl2xp1(a, b, cw),
                };
                self.store_result(1, r, st, true);
            }
            0xF5 | 0xF8 => {
                let (Some(a), Some(b)) = (self.fetch(0), self.fetch(1)) else {
                    if !self.underflow() {
                        self.set_st(0, F80::INDEFINITE);
                    }
                    return;
                };
                let (r, st) = f80::prem(a, b, modrm == 0xF5, cw);
                self.raise(st & !(C0 | C2 | C3 | C1));
                if self.unmasked(st & PRE_EXC) {
                    return;
                }
                self.sw &= !(C0 | C1 | C2 | C3);
                if st & C2 != 0 {
                    self.sw |= C2;
                } else {
                    self.sw |= st & (C0 | C1 | C3);
                }
                self.set_st(0, r);
            }
            0xFD => {
                let (Some(a), Some(b)) = (self.fetch(0), self.fetch(1)) else {
                    if !self.underflow() {
                        self.set_st(0, F80::INDEFINITE);
                    }
                    return;
                };
                let (r, st) = f80::scale(a, b, cw);
                self.store_result(0, r, st, false);
            }
            // Results in ST(0) and a pushed ST(0): FXTRACT, FPTAN, FSINCOS.
            0xF4 | 0xF2 | 0xFB => {
                let Some(a) = self.fetch(0) else {
                    if !self.underflow() {
                        self.set_st(0, F80::INDEFINITE);
                        self.push(F80::INDEFINITE);
                    }
                    return;
                };
                if !self.is_empty(7) {
                    // Stack overflow.
                    self.sw |= C1 | IE | SF;
                    self.update_es();
                    if self.cw & IE != 0 {
                        self.set_st(0, F80::INDEFINITE);
                        self.push(F80::INDEFINITE);
                    }
                    return;
                }
                let (lo, hi, st) = match modrm {
                    0xF4 => f80::xtract(a),
                    0xF2 => transc::fptan(a, cw),
                    _ => transc::fsincos(a, cw),
                };
                if modrm != 0xF4 {
                    self.sw &= !C2;
                    if st & C2 != 0 {
                        self.sw |= C2;
                        self.raise(st & !C2);
                        return;
                    }
                }
                self.raise(st);
                if self.unmasked(st & PRE_EXC) {
                    return;
                }
                self.set_st(0, lo);
                self.push(hi);
            }
            _ => {}
        }
    }

    fn env_bytes(&self, env: &FpuEnv) -> Vec<u8> {
        let tw = self.tag_word();
        let mut v = Vec::with_capacity(28);
        let w16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
        let w32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
        let fop = (self.fop & 0x7FF) as u32;
        match (env.op32, env.protected) {
            (true, true) => {
                for x in [self.cw, self.sw, tw] {
                    w32(&mut v, 0xFFFF_0000 | x as u32);
                }
                w32(&mut v, self.fip);
                w32(&mut v, self.fcs as u32 | (fop << 16));
                w32(&mut v, self.fdp);
                w32(&mut v, 0xFFFF_0000 | self.fds as u32);
            }
            (true, false) => {
                let ip = self.real_linear(self.fcs, self.fip);
                let dp = self.real_linear(self.fds, self.fdp);
                for x in [self.cw, self.sw, tw] {
                    w32(&mut v, 0xFFFF_0000 | x as u32);
                }
                w32(&mut v, 0xFFFF_0000 | (ip & 0xFFFF));
                w32(&mut v, ((ip >> 16) << 12) | fop);
                w32(&mut v, 0xFFFF_0000 | (dp & 0xFFFF));
                w32(&mut v, (dp >> 16) << 12);
            }
            (false, true) => {
                for x in [
                    self.cw,
                    self.sw,
                    tw,
                    self.fip as u16,
                    self.fcs,
                    self.fdp as u16,
                    self.fds,
                ] {
                    w16(&mut v, x);
                }
            }
            (false, false) => {
                let ip = self.real_linear(self.fcs, self.fip);
                let dp = self.real_linear(self.fds, self.fdp);
                for x in [
                    self.cw,
                    self.sw,
                    tw,
                    ip as u16,
                    (((ip >> 16) & 0xF) << 12) as u16 | fop as u16,
                    dp as u16,
                    (((dp >> 16) & 0xF) << 12) as u16,
                ] {
                    w16(&mut v, x);
                }
            }
        }
        v
    }

    fn real_linear(&self, seg: u16, off: u32) -> u32 {
        ((seg as u32) << 4).wrapping_add(off)
    }

    fn load_env(&mut self, b: &[u8], env: &FpuEnv) {
        let r16 = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let r32 = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let (cw, sw, tw) = if env.op32 {
            (r16(0), r16(4), r16(8))
        } else {
            (r16(0), r16(2), r16(4))
        };
        match (env.op32, env.protected) {
            (true, true) => {
                self.fip = r32(12);
                self.fcs = r16(16);
                self.fop = r16(18) & 0x7FF;
                self.fdp = r32(20);
                self.fds = r16(24);
            }
            (true, false) => {
                self.fip = (r32(12) & 0xFFFF) | ((r32(16) >> 12) << 16);
                self.fop = (r32(16) & 0x7FF) as u16;
                self.fdp = (r32(20) & 0xFFFF) | ((r32(24) >> 12) << 16);
                self.fcs = 0;
                self.fds = 0;
            }
            (false, true) => {
                self.fip = r16(6) as u32;
                self.fcs = r16(8);
                self.fdp = r16(10) as u32;
                self.fds = r16(12);
            }
            (false, false) => {
                self.fip = r16(6) as u32 | (((r16(8) >> 12) as u32) << 16);
                self.fop = r16(8) & 0x7FF;
                self.fdp = r16(10) as u32 | (((r16(12) >> 12) as u32) << 16);
                self.fcs = 0;
                self.fds = 0;
            }
        }
        self.cw = cw | 0x0040;
        self.sw = sw;
        self.sync_top();
        // Only "empty" is kept; the rest is worked out from the contents.
        let mut t = 0;
        for p in 0..8 {
            if (tw >> (2 * p)) & 3 == TAG_EMPTY {
                t |= TAG_EMPTY << (2 * p);
            }
        }
        self.tw = t;
        self.update_es();
    }

    /// FXSAVE's x87 part (bytes 0–159 of the 512-byte image; the core fills
    /// MXCSR at 24 and the XMM registers). `op32` stores 32-bit pointers.
    pub fn fxsave(&self, img: &mut [u8; 512]) {
        img[0..2].copy_from_slice(&self.cw.to_le_bytes());
        img[2..4].copy_from_slice(&self.status_word().to_le_bytes());
        let mut ab = 0u8;
        for p in 0..8 {
            if (self.tw >> (2 * p)) & 3 != TAG_EMPTY {
                ab |= 1 << p;
            }
        }
        img[4] = ab;
        img[5] = 0;
        img[6..8].copy_from_slice(&(self.fop & 0x7FF).to_le_bytes());
        img[8..12].copy_from_slice(&self.fip.to_le_bytes());
        img[12..14].copy_from_slice(&self.fcs.to_le_bytes());
        img[14..16].fill(0);
        img[16..20].copy_from_slice(&self.fdp.to_le_bytes());
        img[20..22].copy_from_slice(&self.fds.to_le_bytes());
        img[22..24].fill(0);
        for i in 0..8 {
            let o = 32 + 16 * i;
            img[o..o + 10].copy_from_slice(&self.st(i).to_bytes());
            img[o + 10..o + 16].fill(0);
        }
    }

    /// FXRSTOR's x87 part.
    pub fn fxrstor(&mut self, img: &[u8; 512]) {
        let r16 = |o: usize| u16::from_le_bytes([img[o], img[o + 1]]);
        let r32 = |o: usize| u32::from_le_bytes([img[o], img[o + 1], img[o + 2], img[o + 3]]);
        self.lazy.kind = Deferred::NONE;
        self.dk = [0; 8];
        self.cw = r16(0) | 0x0040;
        self.sw = r16(2);
        self.sync_top();
        let ab = img[4];
        self.tw = 0;
        for p in 0..8 {
            if ab & (1 << p) == 0 {
                self.tw |= TAG_EMPTY << (2 * p);
            }
        }
        self.fop = r16(6) & 0x7FF;
        self.fip = r32(8);
        self.fcs = r16(12);
        self.fdp = r32(16);
        self.fds = r16(20);
        let top = self.top();
        for i in 0..8 {
            let o = 32 + 16 * i;
            let mut r = [0u8; 10];
            r.copy_from_slice(&img[o..o + 10]);
            self.regs[(top + i) & 7] = F80::from_bytes(r);
        }
        self.update_es();
    }
}

/// ZF, PF, CF of FCOMI for a comparison result.
fn cmp_eflags(o: Ord3) -> u32 {
    match o {
        Ord3::Greater => 0,
        Ord3::Less => 1,
        Ord3::Equal => 0x40,
        Ord3::Unordered => 0x45,
    }
}

/// Bytes of the FSTENV image for this mode.
pub fn env_len(env: &FpuEnv) -> usize {
    if env.op32 {
        28
    } else {
        14
    }
}

/// FLD m32 conversion: (value, status: IE for an SNaN, DE for a denormal).
pub fn load_f32(b: [u8; 4]) -> (F80, u16) {
    let bits = u32::from_le_bytes(b);
    let v = F80::from_f32(f32::from_bits(bits));
    (v, src_status(bits as u64, 23, 8))
}

/// FLD m64 conversion.
pub fn load_f64(b: [u8; 8]) -> (F80, u16) {
    let bits = u64::from_le_bytes(b);
    let v = F80::from_f64(f64::from_bits(bits));
    (v, src_status(bits, 52, 11))
}

fn src_status(bits: u64, fb: u32, eb: u32) -> u16 {
    let emax = (1u64 << eb) - 1;
    let e = (bits >> fb) & emax;
    let f = bits & ((1u64 << fb) - 1);
    if e == emax && f != 0 && f >> (fb - 1) == 0 {
        IE
    } else if e == 0 && f != 0 {
        DE
    } else {
        0
    }
}

#[cfg(test)]
mod fast_tests {
    use super::*;

    /// TOP's byte (`Fpu::top8`, the lean forms' TOP) after each way a
    /// whole status word comes in: FXRSTOR, a clone, a saved state
    /// restored, and `sw` written from outside followed by `execute`
    /// (FNOP). A lean FLD m64 must then push into R(TOP − 1), TOP 6 in the
    /// status word loaded: TOP 5, ST(0) the value, R5 alone valid (SDM
    /// vol. 1, 8.1.3).
    #[test]
    fn tops_byte_follows_every_loader_of_the_status_word() {
        let mut src = Fpu::new();
        src.sw = 6 << 11;
        let mut img = [0u8; 512];
        src.fxsave(&mut img);
        let mut by_fxrstor = Fpu::new();
        by_fxrstor.fxrstor(&img);
        let restored = Fpu::from(FpuImage::from(src.clone()));
        let mut poked = Fpu::new();
        poked.sw = 6 << 11;
        let env = FpuEnv::default();
        poked
            .execute::<NoMemory>(0xD9, 0xD0, None, &env)
            .expect("FNOP");
        for (name, mut f) in [
            ("fxrstor", by_fxrstor),
            ("clone", src.clone()),
            ("restored", restored),
            ("execute", poked),
        ] {
            assert!(
                f.lean_fld64(1.5f64.to_bits(), || ((0, 0), (0, 0), 0)),
                "{name}"
            );
            assert_eq!(f.top(), 5, "{name}");
            assert_eq!(f.st(0), F80::from_f64(1.5), "{name}");
            assert_eq!(f.tag_word(), 0xF3FF, "{name}");
        }
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    /// A register value: mostly doubles of modest range (the loops the fast
    /// path is for), and the values it must decline.
    fn value(r: &mut Rng) -> F80 {
        let x = r.next();
        match x % 10 {
            0 => F80::ZERO,
            1 => F80::INDEFINITE,
            2 => F80::inf(x & 0x100 != 0),
            // 64 significant bits: not a double.
            3 => F80 {
                se: 0x3FFF,
                m: (1 << 63) | (x >> 1),
            },
            // A denormal, and a double near the end of the range.
            4 => F80 { se: 0, m: x >> 4 },
            5 => F80::from_f64(f64::from_bits(0x7FE0_0000_0000_0000 | (x >> 12))),
            _ => {
                let e = 1023 - 8 + (x >> 60) as i64;
                F80::from_f64(f64::from_bits(
                    ((e as u64) << 52) | (x & 0x000F_FFFF_FFFF_FFFF) | (x & (1 << 63)),
                ))
            }
        }
    }

    /// One m64/m16 memory operand for the sequence test.
    struct Cell(u64);

    impl FpuMemory for Cell {
        type Fault = ();
        fn read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), ()> {
            let b = self.0.to_le_bytes();
            let o = off as usize;
            buf.copy_from_slice(b.get(o..o + buf.len()).ok_or(())?);
            Ok(())
        }
        fn write(&mut self, off: u32, buf: &[u8]) -> Result<(), ()> {
            let mut b = self.0.to_le_bytes();
            let o = off as usize;
            b.get_mut(o..o + buf.len()).ok_or(())?.copy_from_slice(buf);
            self.0 = u64::from_le_bytes(b);
            Ok(())
        }
    }

    /// A double operand: mostly ordinary values (some exact small integers,
    /// whose sums and products are exact, so PE stays clear for a while),
    /// now and then a zero, an infinity, a NaN or a denormal.
    fn double(r: &mut Rng) -> u64 {
        let x = r.next();
        let sign = (x & 1) << 63;
        match x % 64 {
            0 => sign,
            1 => 0x7FF0_0000_0000_0000 | sign,
            2 => 0x7FF8_0000_0000_0001,
            3 => (x >> 20) | sign,
            4..=20 => (((x >> 8) % 64) as f64).to_bits() | sign,
            _ => ((1023 - 4 + (x >> 61)) << 52) | ((x >> 12) & 0x000F_FFFF_FFFF_FFFF) | sign,
        }
    }

    /// A single operand, as [`double`] draws them.
    fn single(r: &mut Rng) -> u64 {
        let x = r.next();
        let sign = ((x & 1) as u32) << 31;
        (match x % 64 {
            0 => sign,
            1 => 0x7F80_0000 | sign,
            2 => 0x7FC0_0001,
            3 => ((x >> 20) as u32 & 0x7F_FFFF) | sign,
            4..=20 => (((x >> 8) % 64) as f32).to_bits() | sign,
            _ => ((127 - 4 + (x >> 61) as u32) << 23) | ((x >> 12) as u32 & 0x7F_FFFF) | sign,
        }) as u64
    }

    /// An integer operand (m16 forms use its low 16 bits): mostly small,
    /// now and then any 32 bits.
    fn integer(r: &mut Rng) -> u64 {
        let x = r.next();
        if x % 8 == 0 {
            x >> 32
        } else {
            ((x >> 8) % 64) as i32 as u32 as u64 ^ if x & 0x10 != 0 { 0xFFFF_FFFF } else { 0 }
        }
    }

    /// A register form the way the ia32 core runs it (`x87_aux`): the
    /// arithmetic through [`Fpu::fast_arith_reg_lazy`], the rest through
    /// [`Fpu::fast_reg_lazy`].
    /// The ia32 core's lean forms (`ia32::fpu::x87_lean`'s kinds, their aux
    /// packed the same way) where they apply, before the entries below as
    /// the core tries them: `Some(stored)` when the lean form did the
    /// instruction (`stored` the bytes of FST(P) m64), None for the rest.
    fn core_lean(
        f: &mut Fpu,
        op: u8,
        modrm: u8,
        operand: u64,
        ins: (u32, u16),
        data: (u32, u16),
    ) -> Option<Option<u64>> {
        // (As the core: a lazy PE still to settle is settled by the
        // fallback, which then tries the lean form again.)
        let ready = f.lean_ready() || (f.lean_settle() && f.lean_ready());
        if !ready {
            return None;
        }
        let reg = (modrm >> 3) & 7;
        let fop = (((op & 7) as u16) << 8) | modrm as u16;
        let done = if modrm >= 0xC0 {
            match (op, reg) {
                (0xD8 | 0xDC | 0xDE, 0 | 1 | 4..=7) => {
                    let (code, sti) = if op == 0xD8 {
                        (reg, 0)
                    } else {
                        (reg ^ ((reg >> 2) & 1), 8)
                    };
                    let pop = if op == 0xDE { 0x10 } else { 0 };
                    f.lean_arith_any(code | sti | pop, modrm, || (ins.0, ins.1, fop))
                }
                (0xD9, 0) => f.lean_stack::<0>(modrm, || (ins.0, ins.1, fop)),
                (0xD9, 1) => f.lean_stack::<1>(modrm, || (ins.0, ins.1, fop)),
                (0xDD, 2) => f.lean_stack::<2>(modrm, || (ins.0, ins.1, fop)),
                (0xDD, 3) => f.lean_stack::<3>(modrm, || (ins.0, ins.1, fop)),
                (0xD9, 5) if modrm & 7 == 0 || modrm & 7 == 6 => {
                    f.lean_stack::<5>(modrm, || (ins.0, ins.1, fop))
                }
                _ => false,
            }
        } else {
            match (op, reg) {
                // (As the core: zero operands in its fallback.)
                (0xDC, _) => {
                    f.lean_m64::<false>(reg, operand, || (ins, data, fop))
                        || f.lean_m64::<true>(reg, operand, || (ins, data, fop))
                }
                (0xDD, 0) => f.lean_fld64(operand, || (ins, data, fop)),
                (0xDD, 2 | 3) => {
                    let (v, top) = f.lean_st64_value()?;
                    f.lean_st_done(reg == 3, top, || (ins, data, fop));
                    return Some(Some(v));
                }
                _ => false,
            }
        };
        done.then_some(None)
    }

    /// A memory form as the ia32 core's fast path (`Cpu32::x87_fast_mem`)
    /// picks it: a store of ST(0) into `ml`, FADD…FCOMP m64 through the DC
    /// entry, the other loading forms through `fast_mem_lazy`. False: the
    /// general path's turn, nothing changed.
    fn core_mem(
        f: &mut Fpu,
        op: u8,
        modrm: u8,
        operand: u64,
        ml: &mut Cell,
        ins: (u32, u16),
        data: (u32, u16),
    ) -> bool {
        match (op, (modrm >> 3) & 7) {
            (0xD9 | 0xDB | 0xDD | 0xDF, 2 | 3) => match f.fast_st_value(op) {
                Some(v) => {
                    ml.0 = v;
                    f.fast_st_done(op, modrm, ins, data);
                    true
                }
                None => false,
            },
            (0xDC, _) => f.fast_m64_dc_lazy(modrm, operand, ins, data),
            (0xD8 | 0xDA | 0xDE, _) | (0xD9 | 0xDB | 0xDD | 0xDF, 0) => {
                f.fast_mem_lazy(op, modrm, operand, ins, data)
            }
            _ => false,
        }
    }

    fn core_reg(f: &mut Fpu, op: u8, modrm: u8, ip: u32, cs: u16) -> bool {
        if matches!((op, (modrm >> 3) & 7), (0xD8 | 0xDC | 0xDE, 0 | 1 | 4..=7)) {
            f.fast_arith_reg_lazy(op, modrm, ip, cs)
        } else {
            f.fast_reg_lazy(op, modrm, ip, cs)
        }
    }

    /// The lazy flags of the ia32 core's fast path are invisible: random
    /// sequences of the forms it takes (register arithmetic, FLD/FXCH/
    /// FST(P) ST(i), FADD…FDIVR/FCOM(P)/FLD/FST(P) m64) mixed with FNSTSW
    /// AX, FNCLEX (PE clear again), FLDCW (PE unmasked, other precisions),
    /// FLDZ/FLD1 and FSTP ST(0), run once eagerly through `execute` and once
    /// as the core runs them (the fast entry points where they apply, the
    /// lazy PE and C1 left standing), give the same state after every
    /// instruction, the same AX from every FNSTSW and the same stored bytes.
    #[test]
    fn lazy_flags_match_the_eager_path_on_random_sequences() {
        let mut r = Rng(0xD1B5_4A32_D192_ED03);
        let env = FpuEnv {
            cs: 0x0008,
            ip: 0x1000,
            ds: 0x0010,
            ea: 0x2000,
            ..FpuEnv::default()
        };
        let (ins, data) = ((env.ip, env.cs), (env.ea, env.ds));
        let (mut deferred, mut fast, mut steps, mut reads) = (0, 0, 0, 0);
        let mut leaned = 0;
        for _ in 0..3000 {
            let mut eager = Fpu::new();
            if r.next() % 4 != 0 {
                // Mostly the control word the fast path is for.
                eager.cw = 0x027F;
            }
            // A few ordinary values on the stack to work on.
            for _ in 0..4 {
                let v = 1.0 + (r.next() >> 12) as f64 / (1u64 << 52) as f64;
                let mut m = Cell(v.to_bits());
                eager
                    .execute(0xDD, 0x05, Some(&mut m), &env)
                    .expect("FLD m64");
            }
            let mut lazy = eager.clone();
            for _ in 0..64 {
                let x = r.next();
                let k = (x >> 8) % 130;
                let i = (x >> 16) as u8 & 7;
                let (op, modrm, operand) = match k {
                    0..=29 => {
                        let reg = [0u8, 1, 4, 5, 6, 7][((x >> 20) % 6) as usize];
                        (
                            [0xD8, 0xDC, 0xDE][((x >> 24) % 3) as usize],
                            0xC0 | reg << 3 | i,
                            0,
                        )
                    }
                    30..=37 => (0xD9, 0xC0 | i, 0),
                    38..=43 => (0xD9, 0xC8 | i, 0),
                    44..=47 => (0xDD, 0xD0 | i, 0),
                    48..=51 => (0xDD, 0xD8 | i, 0),
                    52..=69 => (0xDC, ((x >> 20) as u8 & 7) << 3 | 5, double(&mut r)),
                    70..=77 => (0xDD, 0x05, double(&mut r)),
                    78..=83 => (0xDD, [0x15, 0x1D][(x >> 20) as usize & 1], 0),
                    84..=89 => (0xDF, 0xE0, 0),
                    90..=91 => (0xDB, 0xE2, 0),
                    92 => {
                        let cw = [0x027F, 0x037F, 0x025F, 0x007F, 0x0A7F, 0x0360]
                            [(x >> 20) as usize % 6];
                        (0xD9, 0x2D, cw)
                    }
                    93..=95 => (0xD9, [0xEE, 0xE8][(x >> 20) as usize & 1], 0),
                    96..=99 => (0xDD, 0xD8, 0),
                    // The m32 forms: arithmetic and compares, FLD, FST(P).
                    100..=105 => (0xD8, ((x >> 20) as u8 & 7) << 3 | 5, single(&mut r)),
                    106..=108 => (0xD9, 0x05, single(&mut r)),
                    109..=110 => (0xD9, [0x15, 0x1D][(x >> 20) as usize & 1], 0),
                    // The integer forms: FIADD…FIDIVR/FICOM(P) m32/m16,
                    // FILD, FIST(P).
                    111..=114 => (
                        [0xDA, 0xDE][(x >> 24) as usize & 1],
                        ((x >> 20) as u8 & 7) << 3 | 5,
                        integer(&mut r),
                    ),
                    115..=116 => ([0xDB, 0xDF][(x >> 24) as usize & 1], 0x05, integer(&mut r)),
                    117..=118 => (
                        [0xDB, 0xDF][(x >> 24) as usize & 1],
                        [0x15, 0x1D][(x >> 20) as usize & 1],
                        0,
                    ),
                    // FCOM/FCOMP ST(i), FCOMPP, FCHS, FABS.
                    119..=123 => (0xD8, [0xD0, 0xD8][(x >> 20) as usize & 1] | i, 0),
                    124 => (0xDE, 0xD9, 0),
                    _ => (0xD9, [0xE0, 0xE1][(x >> 20) as usize & 1], 0),
                };
                steps += 1;
                let mut me = Cell(operand);
                let oe = eager
                    .execute(op, modrm, Some(&mut me), &env)
                    .expect("defined");
                let mut ml = Cell(operand);
                // The core's checks: CR0 aside, no pending error.
                let lean = core_lean(&mut lazy, op, modrm, operand, ins, data);
                if let Some(Some(v)) = lean {
                    ml.0 = v;
                }
                let took = if lean.is_some() {
                    leaned += 1;
                    true
                } else if op == 0xDF && modrm == 0xE0 {
                    let ax = lazy.fnstsw();
                    assert_eq!(Some(ax), oe.ax, "FNSTSW AX");
                    reads += 1;
                    true
                } else if lazy.error_pending() {
                    false
                } else if modrm >= 0xC0 {
                    core_reg(&mut lazy, op, modrm, env.ip, env.cs)
                } else {
                    core_mem(&mut lazy, op, modrm, operand, &mut ml, ins, data)
                };
                if took {
                    fast += 1;
                } else {
                    let ol = lazy
                        .execute(op, modrm, Some(&mut ml), &env)
                        .expect("defined");
                    assert_eq!(ol, oe, "outcome of {op:02X} {modrm:02X}");
                }
                if lazy.lazy.kind != Deferred::NONE {
                    deferred += 1;
                }
                assert_eq!(me.0, ml.0, "stored by {op:02X} {modrm:02X}");
                assert_eq!(lazy, eager, "after {op:02X} {modrm:02X}");
                assert_eq!(lazy.status_word(), eager.sw);
            }
        }
        // Enough of it ran the lazy way to mean something (counts when
        // written: 83,671 fast, 14,005 with flags left lazy, 8,821 FNSTSW
        // of 192,000 steps).
        println!("{fast} fast ({leaned} lean), {deferred} deferred, {reads} FNSTSW of {steps}");
        assert!(fast > steps / 5, "fast path {fast} of {steps}");
        assert!(leaned > steps / 10, "lean forms {leaned} of {steps}");
        assert!(deferred > steps / 40, "lazy flags left {deferred} times");
        assert!(reads > 7_000, "{reads} FNSTSW");
    }

    /// A double near the edges of what the fast path keeps as a double
    /// (2^±960) and of the double range itself (2^±1022, 2^1023), or an
    /// ordinary one: products and quotients of these leave the fast range,
    /// so the 80-bit path must take over with the registers written back.
    fn edge_double(r: &mut Rng) -> u64 {
        let x = r.next();
        let sign = (x & 1) << 63;
        let frac = (x >> 12) & 0x000F_FFFF_FFFF_FFFF;
        let e: u64 = match x % 16 {
            0 => 1023 + 958 + (x >> 60) % 5,
            1 => 1023 - 962 + (x >> 60) % 5,
            2 => 2046 - (x >> 60) % 3,
            3 => 1 + (x >> 60) % 3,
            4 => 1023 + 480 + (x >> 60) % 3,
            5 => 1023 - 482 + (x >> 60) % 3,
            6 => return sign,
            _ => 1023 - 3 + (x >> 61),
        };
        (e << 52) | frac | sign
    }

    /// The registers kept as doubles are invisible: random sequences of
    /// the fast path's forms on doubles near the edges of its range, with
    /// FLDCW switching precision and rounding control (and PE's mask) in
    /// the middle, run once through `execute` and once the way the core
    /// runs them, agree after every instruction on the registers in the
    /// 80-bit format, the status and tag words (read without settling, as
    /// `&self`), the FXSAVE image, and every 16th instruction on the FSAVE
    /// image and the state after the FRSTOR of it.
    #[test]
    fn double_registers_match_the_80bit_path_near_the_range_edges() {
        let mut r = Rng(0x0123_4567_89AB_CDEF);
        let env = FpuEnv {
            op32: true,
            protected: true,
            cs: 0x0008,
            ip: 0x1000,
            ds: 0x0010,
            ea: 0,
            ..FpuEnv::default()
        };
        let (ins, data) = ((env.ip, env.cs), (env.ea, env.ds));
        let (mut fast, mut steps, mut saves, mut kept) = (0u32, 0u32, 0u32, 0u32);
        let mut leaned = 0;
        for _ in 0..2000 {
            let mut eager = Fpu::new();
            eager.cw = 0x027F;
            let mut lazy = eager.clone();
            for n in 0..96 {
                let x = r.next();
                let i = (x >> 16) as u8 & 7;
                let (op, modrm, operand) = match (x >> 8) % 64 {
                    0..=17 => {
                        let reg = [0u8, 1, 4, 5, 6, 7][((x >> 20) % 6) as usize];
                        (
                            [0xD8, 0xDC, 0xDE][((x >> 24) % 3) as usize],
                            0xC0 | reg << 3 | i,
                            0,
                        )
                    }
                    18..=23 => (0xD9, 0xC0 | i, 0),
                    24..=27 => (0xD9, 0xC8 | i, 0),
                    28..=29 => (0xDD, 0xD8 | i, 0),
                    30..=39 => (0xDC, ((x >> 20) as u8 & 7) << 3 | 5, edge_double(&mut r)),
                    40..=47 => (0xDD, 0x05, edge_double(&mut r)),
                    48..=50 => (0xDD, [0x15, 0x1D][(x >> 20) as usize & 1], 0),
                    51..=52 => (0xD9, [0xE0, 0xE1][(x >> 20) as usize & 1], 0),
                    53 => (0xD9, [0xEE, 0xE8][(x >> 20) as usize & 1], 0),
                    54..=55 => (0xD8, [0xD0, 0xD8][(x >> 20) as usize & 1] | i, 0),
                    56..=57 => (0xDF, 0xE0, 0),
                    58 => (0xDB, 0xE2, 0),
                    59..=60 => {
                        // Precision 24/53/64 bits, each rounding control,
                        // PE masked or not (the other exceptions masked).
                        let cw = 0x005F
                            | [0x0000, 0x0200, 0x0300][(x >> 20) as usize % 3]
                            | (((x >> 24) & 3) << 10) as u16
                            | if (x >> 28) % 4 == 0 { 0 } else { PE };
                        (0xD9, 0x2D, cw as u64)
                    }
                    _ => (0xDD, 0xD8, 0),
                };
                steps += 1;
                let mut me = Cell(operand);
                let oe = eager
                    .execute(op, modrm, Some(&mut me), &env)
                    .expect("defined");
                let mut ml = Cell(operand);
                let lean = core_lean(&mut lazy, op, modrm, operand, ins, data);
                if let Some(Some(v)) = lean {
                    ml.0 = v;
                }
                let took = if lean.is_some() {
                    leaned += 1;
                    true
                } else if op == 0xDF && modrm == 0xE0 {
                    assert_eq!(Some(lazy.fnstsw()), oe.ax, "FNSTSW AX");
                    true
                } else if lazy.error_pending() {
                    false
                } else if modrm >= 0xC0 {
                    core_reg(&mut lazy, op, modrm, env.ip, env.cs)
                } else {
                    core_mem(&mut lazy, op, modrm, operand, &mut ml, ins, data)
                };
                if took {
                    fast += 1;
                } else {
                    let ol = lazy
                        .execute(op, modrm, Some(&mut ml), &env)
                        .expect("defined");
                    assert_eq!(ol, oe, "outcome of {op:02X} {modrm:02X}");
                }
                kept += lazy.dk.iter().filter(|&&d| d & DK_DBL != 0).count() as u32;
                let what = format!("after {op:02X} {modrm:02X} (step {n})");
                assert_eq!(me.0, ml.0, "stored, {what}");
                // `&self` readers, without settling or writing back.
                let st: Vec<F80> = (0..8).map(|k| lazy.st(k)).collect();
                let st_e: Vec<F80> = (0..8).map(|k| eager.st(k)).collect();
                assert_eq!(st, st_e, "registers, {what}");
                assert_eq!(lazy.status_word(), eager.sw, "status word, {what}");
                assert_eq!(lazy.tag_word(), eager.tag_word(), "tag word, {what}");
                let (mut fx_l, mut fx_e) = ([0u8; 512], [0u8; 512]);
                lazy.fxsave(&mut fx_l);
                eager.fxsave(&mut fx_e);
                assert_eq!(fx_l, fx_e, "FXSAVE image, {what}");
                assert_eq!(lazy, eager, "{what}");
                if n % 16 == 15 {
                    // FNSAVE (which reinitialises) and FRSTOR of its image
                    // on both: the same 108 bytes, the same state after.
                    saves += 1;
                    let mut img_l = Img(vec![0; 108]);
                    let mut img_e = Img(vec![0; 108]);
                    lazy.execute(0xDD, 0x35, Some(&mut img_l), &env)
                        .expect("FNSAVE");
                    eager
                        .execute(0xDD, 0x35, Some(&mut img_e), &env)
                        .expect("FNSAVE");
                    assert_eq!(img_l.0, img_e.0, "FSAVE image, {what}");
                    lazy.execute(0xDD, 0x25, Some(&mut img_l), &env)
                        .expect("FRSTOR");
                    eager
                        .execute(0xDD, 0x25, Some(&mut img_e), &env)
                        .expect("FRSTOR");
                    assert_eq!(lazy, eager, "after FRSTOR, {what}");
                }
            }
        }
        println!(
            "{fast} fast ({leaned} lean) of {steps}, {kept} register-steps held as doubles, {saves} FSAVE/FRSTOR"
        );
        assert!(fast > steps / 4, "fast path {fast} of {steps}");
        assert!(leaned > steps / 10, "lean forms {leaned} of {steps}");
        // (Counts when written: 61,960 fast of 192,000 steps, 28,830
        // register-steps held as doubles.)
        assert!(kept > steps / 10, "registers held as doubles: {kept}");
    }

    /// A memory image of any length (FSAVE/FRSTOR).
    struct Img(Vec<u8>);

    impl FpuMemory for Img {
        type Fault = ();
        fn read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), ()> {
            let o = off as usize;
            buf.copy_from_slice(self.0.get(o..o + buf.len()).ok_or(())?);
            Ok(())
        }
        fn write(&mut self, off: u32, buf: &[u8]) -> Result<(), ()> {
            let o = off as usize;
            self.0
                .get_mut(o..o + buf.len())
                .ok_or(())?
                .copy_from_slice(buf);
            Ok(())
        }
    }

    #[test]
    fn fast_register_forms_match_the_general_path() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let env = FpuEnv {
            cs: 0x1234,
            ip: 0x5678,
            ..FpuEnv::default()
        };
        let cws = [0x027F, 0x037F, 0x067F, 0x025F, 0x0A7F, 0x0260];
        let (mut taken, mut runs) = (0, 0);
        for _ in 0..200_000 {
            let mut base = Fpu::new();
            for reg in base.regs.iter_mut() {
                *reg = value(&mut r);
            }
            let x = r.next();
            base.cw = cws[(x % cws.len() as u64) as usize];
            // Empty registers now and then; sticky flags and C1 set or not.
            base.tw = if x & 0x30 == 0 { (x >> 8) as u16 } else { 0 };
            base.sw = ((x >> 24) as u16 & (0x3F | C1)) | (((x >> 40) as u16 & 7) << 11);
            base.update_es();
            let op = [0xD8, 0xDC, 0xDE, 0xD9, 0xDD][((x >> 48) % 5) as usize];
            let modrm = 0xC0 | (x >> 56) as u8;
            let mut fast = base.clone();
            let mut general = base.clone();
            runs += 1;
            if fast.fast_reg::<false>(op, modrm, env.ip, env.cs) {
                taken += 1;
                let out = general
                    .execute_general::<NoMemory>(op, modrm, None, &env)
                    .expect("a register form the fast path took is defined");
                assert_eq!(fast, general, "op {op:02X} {modrm:02X} from {base:?}");
                assert_eq!((out.ax, out.eflags), (None, None));
            } else {
                assert_eq!(fast, base, "declined op {op:02X} {modrm:02X} changed state");
            }
        }
        // The memory forms' arithmetic (FADD m64 …) through `mem_arith`,
        // with the source a double as FLD m64 converts it.
        let mut mem_taken = 0;
        for _ in 0..100_000 {
            let mut base = Fpu::new();
            let x = r.next();
            base.cw = cws[(x % cws.len() as u64) as usize];
            base.sw = ((x >> 24) as u16 & (0x3F | C1)) | (((x >> 40) as u16 & 7) << 11);
            let top = base.top();
            base.regs[top] = value(&mut r);
            base.tw = if x & 0x30 == 0 {
                0xFFFF
            } else {
                !(3 << (2 * top))
            };
            base.update_es();
            let bits = value(&mut r).to_f64_lossy().to_bits() ^ (x & 1);
            let (src, src_st) = load_f64(bits.to_le_bytes());
            let code = [0, 1, 2, 3, 4, 5, 6, 7][(x >> 50) as usize % 8];
            let mut fast = base.clone();
            let mut general = base.clone();
            fast.mem_arith(code, src, src_st);
            general.mem_arith_general(code, src, src_st);
            assert_eq!(fast, general, "code {code} src {src:?} from {base:?}");
            if fast != base && code != 2 && code != 3 && src_st == 0 {
                mem_taken += 1;
            }
        }
        assert!(
            mem_taken > 10_000,
            "memory fast path reached {mem_taken} times"
        );
        // The fast path must have been exercised a good deal: about half
        // the draws are forms it handles, and an arithmetic form needs two
        // doubles in reach (0.4² of the values), a 53-bit control word (two
        // of the six) and full registers; 21,077 of 200,000 when written.
        assert!(taken > runs / 20, "fast path taken {taken} of {runs}");
    }
}
