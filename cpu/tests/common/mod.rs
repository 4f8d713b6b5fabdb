//! Shared pieces of the property tests: a lazily random memory, instruction
//! forms drawn from the instruction table, and proptest strategies for a CPU
//! state and one instruction.
//!
//! Also compiled into `harness/tests/prop_host.rs` through `#[path]`, so every
//! item here must be used by both or carry `#[allow(dead_code)]`.
#![allow(dead_code)]

use cpu::decode::effective_row;
use cpu::table::{self, Op, Prefix, Row};
use cpu::{Bus, Cpu, CpuModel, Registers, Seg, Timing};
use proptest::prelude::*;

/// The four models every property runs on.
pub const MODELS: [CpuModel; 4] = [
    CpuModel::I8088,
    CpuModel::I8086,
    CpuModel::I80186,
    CpuModel::I80286,
];

/// Segment of every interrupt handler the test memory's vector table points at.
pub const HANDLER_CS: u16 = 0xC0DE;
/// Offset of vector 0's handler; vector `v` is at `HANDLER_IP0 + 4 * v`.
pub const HANDLER_IP0: u16 = 0x4000;

/// The vector whose handler `cs:ip` is, if it is one.
pub fn handler_vector(cs: u16, ip: u16) -> Option<u8> {
    if cs != HANDLER_CS {
        return None;
    }
    let d = ip.wrapping_sub(HANDLER_IP0);
    if d % 4 == 0 && d / 4 < 256 {
        Some((d / 4) as u8)
    } else {
        None
    }
}

/// The vector whose handler `cs:ip` is, reading the vector table as the bus
/// holds it now (an instruction may have written over entries before a
/// fault made the CPU read them).
pub fn entered_vector(bus: &TestBus, cs: u16, ip: u16) -> Option<u8> {
    if !bus.writes.iter().any(|&(a, _)| a < 0x400) {
        return handler_vector(cs, ip);
    }
    let word = |a: u32| bus.peek(a) as u16 | (bus.peek(a + 1) as u16) << 8;
    (0..=255u8).find(|&v| {
        let a = v as u32 * 4;
        word(a) == ip && word(a + 2) == cs
    })
}

/// SplitMix64 finaliser: the background byte of each address.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Memory where every byte is defined: the interrupt vector table at
/// 0–3FF points vector `v` at `HANDLER_CS:HANDLER_IP0+4v`, every other byte
/// is a pseudo-random function of the address and a seed, and `overlay`
/// holds the bytes placed (instruction bytes) or written since.
#[derive(Clone, Debug)]
pub struct TestBus {
    /// Seed of the background bytes.
    pub seed: u64,
    /// Bytes that differ from the background, as (address, value).
    pub overlay: Vec<(u32, u8)>,
    /// Every memory write, in order.
    pub writes: Vec<(u32, u8)>,
    /// Every memory read (instruction fetches included), in order.
    pub reads: Vec<u32>,
    /// Every I/O write, in order.
    pub io_writes: Vec<(u16, u8)>,
}

impl TestBus {
    pub fn new(seed: u64) -> Self {
        TestBus {
            seed,
            overlay: Vec::new(),
            writes: Vec::new(),
            reads: Vec::new(),
            io_writes: Vec::new(),
        }
    }

    /// The byte at `addr` before anything was placed or written.
    pub fn background(&self, addr: u32) -> u8 {
        if addr < 0x400 {
            let v = (addr / 4) as u16;
            let entry = [HANDLER_IP0.wrapping_add(v * 4), HANDLER_CS];
            let w = entry[(addr as usize >> 1) & 1];
            return (w >> (8 * (addr & 1))) as u8;
        }
        mix(self.seed ^ (addr as u64).wrapping_mul(0x100_0000_01B3)) as u8
    }

    /// Place a byte without recording it as a write.
    pub fn place(&mut self, addr: u32, v: u8) {
        match self.overlay.iter_mut().find(|(a, _)| *a == addr) {
            Some(slot) => slot.1 = v,
            None => self.overlay.push((addr, v)),
        }
    }

    /// Current value of a byte.
    pub fn peek(&self, addr: u32) -> u8 {
        self.overlay
            .iter()
            .rev()
            .find(|(a, _)| *a == addr)
            .map_or_else(|| self.background(addr), |&(_, v)| v)
    }
}

impl Bus for TestBus {
    fn read(&mut self, addr: u32) -> u8 {
        self.reads.push(addr);
        self.peek(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.writes.push((addr, value));
        self.place(addr, value);
    }
    /// Prefetches (the exact model's code fetches) are not data reads.
    fn fetch(&mut self, addr: u32) -> u8 {
        self.peek(addr)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        (port as u8) ^ (port >> 8) as u8 ^ 0x5A
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.io_writes.push((port, value));
    }
}

/// One instruction form from the table: an opcode, the ModR/M reg value it
/// selects when it is a group opcode, and the row that executes.
#[derive(Clone, Copy, Debug)]
pub struct Form {
    pub opcode: u8,
    /// ModR/M reg fixed by the group; `None` when reg is free or there is no ModR/M.
    pub group_reg: Option<u8>,
    pub has_modrm: bool,
    pub row: Row,
}

/// Every instruction form of `model`, enumerated from the table: each
/// non-prefix opcode, and each reg value of each group opcode.
pub fn forms(model: CpuModel) -> Vec<Form> {
    let mut v = Vec::new();
    for op in 0..=255u8 {
        let head = table::lookup(model, op);
        match head.op {
            Op::Prefix(_) => {}
            Op::Group(_) => {
                for reg in 0..8 {
                    v.push(Form {
                        opcode: op,
                        group_reg: Some(reg),
                        has_modrm: true,
                        row: effective_row(model, head, reg),
                    });
                }
            }
            _ => v.push(Form {
                opcode: op,
                group_reg: None,
                has_modrm: head.has_modrm(),
                row: *head,
            }),
        }
    }
    v
}

/// The prefix bytes of `model`, from the table.
pub fn prefix_bytes(model: CpuModel) -> Vec<u8> {
    (0..=255u8)
        .filter(|&b| matches!(table::lookup(model, b).op, Op::Prefix(_)))
        .collect()
}

/// One generated instruction.
#[derive(Clone, Debug)]
pub struct Insn {
    pub form: Form,
    /// Prefixes, opcode, ModR/M, displacement, immediates.
    pub bytes: Vec<u8>,
    pub prefixes: usize,
    /// The ModR/M byte, if any.
    pub modrm: Option<u8>,
    /// Offset of the first immediate byte in `bytes`.
    pub imm_at: usize,
}

impl Insn {
    pub fn has_rep(&self) -> bool {
        self.bytes[..self.prefixes]
            .iter()
            .any(|&b| matches!(b, 0xF2 | 0xF3))
    }
}

/// Displacement length of a ModR/M byte.
pub fn disp_len(modrm: u8) -> usize {
    match (modrm >> 6, modrm & 7) {
        (0, 6) => 2,
        (1, _) => 1,
        (2, _) => 2,
        _ => 0,
    }
}

/// Immediate bytes the row takes after ModR/M and displacement.
pub fn imm_len(row: &Row) -> usize {
    row.opd.iter().map(|o| o.imm_len()).sum()
}

/// Assemble an instruction of `form` from raw choices.
pub fn build(form: Form, prefixes: &[u8], modrm: u8, extra: &[u8; 6]) -> Insn {
    let mut bytes = prefixes.to_vec();
    bytes.push(form.opcode);
    let mut m = None;
    let mut k = 0;
    if form.has_modrm {
        let b = match form.group_reg {
            Some(r) => (modrm & 0xC7) | (r << 3),
            None => modrm,
        };
        m = Some(b);
        bytes.push(b);
        let n = disp_len(b);
        bytes.extend_from_slice(&extra[..n]);
        k = n;
    }
    let imm_at = bytes.len();
    let n = imm_len(&form.row);
    bytes.extend_from_slice(&extra[k..k + n]);
    Insn {
        form,
        bytes,
        prefixes: prefixes.len(),
        modrm: m,
        imm_at,
    }
}

/// A run of prefixes: mostly none, sometimes one or two, now and then a long
/// run (which the 286 must refuse past ten bytes).
pub fn prefixes(model: CpuModel) -> impl Strategy<Value = Vec<u8>> {
    let p = prefix_bytes(model);
    let n = prop_oneof![6 => Just(0usize), 3 => 1usize..=2, 1 => 0usize..=12];
    n.prop_flat_map(move |n| proptest::collection::vec(proptest::sample::select(p.clone()), n))
}

/// An instruction drawn from the forms that `keep` accepts.
pub fn insn_where(
    model: CpuModel,
    keep: impl Fn(&Form) -> bool,
    prefixes: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = Insn> {
    let fs: Vec<Form> = forms(model).into_iter().filter(|f| keep(f)).collect();
    assert!(!fs.is_empty(), "no form matches");
    (
        proptest::sample::select(fs),
        prefixes,
        any::<u8>(),
        any::<[u8; 6]>(),
    )
        .prop_map(|(f, p, m, e)| build(f, &p, m, &e))
}

/// Any instruction of `model`, with any prefixes.
pub fn insn(model: CpuModel) -> impl Strategy<Value = Insn> {
    insn_where(model, |_| true, prefixes(model))
}

/// A word biased towards the values where arithmetic and addressing have edges.
pub fn word() -> impl Strategy<Value = u16> {
    prop_oneof![
        8 => any::<u16>(),
        1 => prop_oneof![
            Just(0u16),
            Just(0xFFFF),
            Just(0xFFFE),
            Just(0x7FFF),
            Just(0x8000),
            Just(0x00FF),
            Just(0x0080),
            Just(0x007F),
            Just(0xFF80),
        ],
        1 => 0u16..=16,
    ]
}

/// A random architectural state (before model fix-ups).
#[derive(Clone, Debug)]
pub struct State {
    pub regs: Registers,
    /// Seed of the memory background.
    pub seed: u64,
}

pub fn state() -> impl Strategy<Value = State> {
    (
        proptest::array::uniform8(word()),
        proptest::array::uniform4(word()),
        word(),
        any::<u16>(),
        any::<u64>(),
    )
        .prop_map(|(gpr, seg, ip, flags, seed)| State {
            regs: Registers {
                gpr,
                seg,
                ip,
                flags,
            },
            seed,
        })
}

/// The pair the properties take: an instruction and a state fitted to it
/// (flags normalised for the model, a small CX under REP, code out of the
/// vector table).
#[derive(Clone, Debug)]
pub struct Case {
    pub model: CpuModel,
    pub insn: Insn,
    pub regs: Registers,
    pub seed: u64,
}

pub fn fit(model: CpuModel, insn: Insn, st: State) -> Case {
    let mut regs = st.regs;
    regs.flags = (regs.flags & model.flags_writable()) | model.flags_fixed_ones();
    // TF makes every instruction end in the single-step trap; the
    // properties check instructions on their own (the trap has unit tests).
    regs.flags &= !cpu::regs::TF;
    if insn.has_rep() {
        regs.gpr[1] %= 17;
    }
    // Keep the instruction bytes clear of the vector table, and CS off the handlers' segment.
    let n = insn.bytes.len() as u16;
    loop {
        let cs = regs.seg[Seg::CS as usize];
        let clear = (0..n).all(|i| {
            let lin = ((cs as u32) << 4) + regs.ip.wrapping_add(i) as u32;
            lin & model.address_mask() >= 0x400
        });
        if clear && cs != HANDLER_CS {
            break;
        }
        regs.seg[Seg::CS as usize] = cs.wrapping_add(0x1000);
    }
    // And the stack around SS:SP (an interrupt frame written over the vector
    // table would change the handler it goes to).
    loop {
        let ss = regs.seg[Seg::SS as usize];
        let sp = regs.gpr[4];
        let clear = (0..16u16).all(|i| {
            let lin = ((ss as u32) << 4) + sp.wrapping_sub(8).wrapping_add(i) as u32;
            lin & model.address_mask() >= 0x400
        });
        if clear {
            break;
        }
        regs.seg[Seg::SS as usize] = ss.wrapping_add(0x1000);
    }
    Case {
        model,
        insn,
        regs,
        seed: st.seed,
    }
}

pub fn case(model: CpuModel) -> impl Strategy<Value = Case> {
    (insn(model), state()).prop_map(move |(i, s)| fit(model, i, s))
}

/// A CPU and bus set up for `c`: registers loaded, instruction bytes placed at CS:IP.
pub fn setup<T: Timing + Default>(c: &Case) -> (Cpu<T>, TestBus) {
    let mut cpu = Cpu::<T>::new(c.model);
    cpu.regs = c.regs;
    let mut bus = TestBus::new(c.seed);
    place_code(&cpu, &mut bus, &c.insn.bytes);
    (cpu, bus)
}

/// Put `bytes` at CS:IP (offsets wrap within the segment).
pub fn place_code<T: Timing>(cpu: &Cpu<T>, bus: &mut TestBus, bytes: &[u8]) {
    let cs = cpu.regs.seg[Seg::CS as usize];
    for (i, b) in bytes.iter().enumerate() {
        let a = cpu.linear(cs, cpu.regs.ip.wrapping_add(i as u16));
        bus.place(a, *b);
    }
}

/// True for rows whose next IP is not simply the end of the instruction.
pub fn transfers_control(row: &Row) -> bool {
    matches!(
        row.op,
        Op::Jcc(_)
            | Op::Jmp
            | Op::JmpFar
            | Op::JmpInd
            | Op::JmpFarInd
            | Op::Call
            | Op::CallFar
            | Op::CallInd
            | Op::CallFarInd
            | Op::Ret
            | Op::Retf
            | Op::Iret
            | Op::Int
            | Op::Into
            | Op::Loop
            | Op::Loopz
            | Op::Loopnz
            | Op::Jcxz
    )
}

/// True if the prefix run has a REP/REPNE (for display).
pub fn is_rep(p: Prefix) -> bool {
    matches!(p, Prefix::Rep | Prefix::Repne)
}
