//! Property-based tests of the CPU core, for every model:
//!
//! 1. any instruction from any state executes without panicking and leaves a
//!    defined state: the instruction completed, or an exception or interrupt
//!    was entered with its frame on the stack;
//! 2. the instruction semantics do not depend on the timing model;
//! 3. decoding and disassembly are total, and the disassembled length is the
//!    length execution consumes.
//!
//! Instructions are drawn from the instruction table (every opcode and group
//! row, every ModR/M form and displacement, prefixes). `PROPTEST_CASES` sets
//! the cases per test (default 256); see docs/fuzzing.md.

mod common;

use common::*;
use cpu::decode::{decode_head, SliceSource};
use cpu::regs::{IF, OF, TF};
use cpu::table::{Op, Opd, Row};
use cpu::{disassemble, Bus, CountingTiming, Cpu, CpuModel, Registers, Seg, StepResult, Timing};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

fn word_at(bus: &TestBus, cpu_model: CpuModel, seg: u16, off: u16) -> u16 {
    let cpu = Cpu::<CountingTiming>::new(cpu_model);
    let lo = bus.peek(cpu.linear(seg, off)) as u16;
    let hi = bus.peek(cpu.linear(seg, off.wrapping_add(1))) as u16;
    lo | (hi << 8)
}

/// Rows that need a memory operand (register forms are #UD on the 286).
fn memory_only(row: &Row) -> bool {
    matches!(
        row.op,
        Op::Lea | Op::Lptr(_) | Op::CallFarInd | Op::JmpFarInd | Op::Bound
    )
}

/// Which exception vectors `c`'s instruction may enter, and whether it must.
fn expected_traps(c: &Case) -> (Vec<u8>, bool) {
    let row = &c.insn.form.row;
    let m = c.model;
    let reg_form = c.insn.modrm.is_some_and(|b| b >> 6 == 3);
    let mut may = Vec::new();
    let mut must = false;
    match row.op {
        Op::Int => {
            let v = if row.opd[0] == Opd::Three {
                3
            } else {
                c.insn.bytes[c.insn.imm_at]
            };
            may.push(v);
            must = true;
        }
        Op::Into if c.regs.flags & OF != 0 => {
            may.push(4);
            must = true;
        }
        Op::Div | Op::Idiv | Op::Aam => may.push(0),
        Op::Bound => may.push(5),
        Op::Invalid | Op::Escape0F if m.is_186_plus() => {
            may.push(6);
            must = true;
        }
        _ => {}
    }
    if m == CpuModel::I80286 {
        // Segment overrun (a word at offset FFFF) or an instruction over ten bytes.
        may.push(13);
        if c.insn.bytes.len() > 10 {
            must = true;
        }
        if memory_only(row) && reg_form {
            may.push(6);
            must = true;
        }
        if row.opd.contains(&Opd::Sw) {
            may.push(6);
        }
    }
    (may, must)
}

/// A 286 halted by anything but an HLT that executed: it shut down, failing
/// to push an exception frame (an over-long HLT does not execute).
fn shut_down(m: CpuModel, cpu: &Cpu<CountingTiming>, row: &Row, len: usize) -> bool {
    m == CpuModel::I80286 && cpu.halted() && (row.op != Op::Hlt || len > 10)
}

/// Far transfers: CS comes from the instruction or memory.
fn loads_cs(row: &Row) -> bool {
    matches!(
        row.op,
        Op::JmpFar | Op::CallFar | Op::JmpFarInd | Op::CallFarInd | Op::Retf | Op::Iret
    )
}

/// Rows that may load CS without being a control transfer (8086 MOV CS / POP CS).
fn writes_cs(row: &Row) -> bool {
    (row.op == Op::Mov && row.opd[0] == Opd::Sw) || row.opd[0] == Opd::S(Seg::CS)
}

fn check_defined(c: &Case) -> Result<(), TestCaseError> {
    let (mut cpu, mut bus) = setup::<CountingTiming>(c);
    let before = cpu.regs;
    let r = cpu.step(&mut bus);
    let after = cpu.regs;
    let m = c.model;
    let row = &c.insn.form.row;
    let len = c.insn.bytes.len() as u16;
    prop_assert_eq!(r, StepResult::Executed);
    prop_assert_eq!(cpu.instructions, 1);
    if shut_down(m, &cpu, row, c.insn.bytes.len()) {
        // Shutdown: a fault while pushing an exception frame (the stack
        // overran its segment). Only a frame word at SS:FFFF can cause it.
        let sp = before.gpr[4];
        prop_assert!(
            (1..=7).contains(&sp) || sp >= 0xFFF9,
            "shutdown with SP={sp:04X}"
        );
        return Ok(());
    }
    // FLAGS holds only bits the model can hold.
    prop_assert_eq!(
        after.flags & m.flags_fixed_ones(),
        m.flags_fixed_ones(),
        "fixed FLAGS bits lost: {:04X}",
        after.flags
    );
    prop_assert_eq!(
        after.flags & !(m.flags_writable() | m.flags_fixed_ones()),
        0,
        "FLAGS has bits the model cannot set: {:04X}",
        after.flags
    );
    let (may, must) = expected_traps(c);
    let cs0 = before.seg[Seg::CS as usize];
    let cs = after.seg[Seg::CS as usize];
    match entered_vector(&bus, cs, after.ip) {
        Some(v) => {
            let sp = after.gpr[4];
            if !may.contains(&v) && loads_cs(row) {
                // A far transfer whose target came from the vector table
                // lands on a handler: that is the instruction completing.
                return Ok(());
            }
            // An over-long 286 instruction takes #GP without executing.
            let overlong_286 = m == CpuModel::I80286 && c.insn.bytes.len() > 10;
            prop_assert!(may.contains(&v), "entered vector {v} (allowed: {may:?})");
            prop_assert!(!cpu.halted());
            prop_assert_eq!(after.flags & (IF | TF), 0, "IF/TF not cleared");
            let ss = after.seg[Seg::SS as usize];
            prop_assert_eq!(ss, before.seg[Seg::SS as usize], "SS changed by a fault");
            let ret_ip = word_at(&bus, m, ss, sp);
            let ret_cs = word_at(&bus, m, ss, sp.wrapping_add(2));
            let pushed_flags = word_at(&bus, m, ss, sp.wrapping_add(4));
            prop_assert_eq!(ret_cs, cs0, "pushed CS");
            // Traps (INT, INTO) and every 8086 exception return past the
            // instruction; 80186/286 faults (an over-long INT's #GP too)
            // return to it, prefixes included.
            let trap = (matches!(row.op, Op::Int | Op::Into) && !overlong_286) || !m.is_186_plus();
            let expect_ip = if trap {
                before.ip.wrapping_add(len)
            } else {
                before.ip
            };
            prop_assert_eq!(
                ret_ip,
                expect_ip,
                "pushed IP, instruction at {:04X} len {}",
                before.ip,
                len
            );
            prop_assert_eq!(
                pushed_flags & !(IF | TF),
                after.flags & !(IF | TF),
                "pushed FLAGS"
            );
            // An instruction that faults or traps writes nothing but the frame
            // (a 286 #GP from an overrun may follow earlier writes of the
            // instruction, one from an over-long encoding may not).
            let partial = v == 13 && c.insn.bytes.len() <= 10;
            let frame: Vec<u32> = (0..6u16)
                .map(|k| cpu.linear(ss, sp.wrapping_add(k)))
                .collect();
            let stray: Vec<_> = bus
                .writes
                .iter()
                .filter(|(a, _)| !frame.contains(a))
                .collect();
            if !partial {
                // Nothing of the instruction stands but the frame: registers
                // as before, bar SP (and CS:IP, FLAGS checked above).
                let mut gpr = after.gpr;
                gpr[4] = sp.wrapping_add(6);
                prop_assert_eq!(
                    (gpr, after.seg[0], after.seg[3]),
                    (before.gpr, before.seg[0], before.seg[3]),
                    "registers changed by a faulting instruction"
                );
                prop_assert!(stray.is_empty(), "writes besides the frame: {:X?}", stray);
                prop_assert!(bus.io_writes.is_empty(), "I/O writes: {:X?}", bus.io_writes);
            }
        }
        None => {
            prop_assert!(!must, "should have entered one of {:?}", may);
            prop_assert_eq!(cpu.halted(), row.op == Op::Hlt);
            if !transfers_control(row) {
                prop_assert_eq!(
                    after.ip,
                    before.ip.wrapping_add(len),
                    "IP advance != instruction length"
                );
                if !writes_cs(row) {
                    prop_assert_eq!(cs, cs0, "CS changed");
                }
            }
        }
    }
    // A halted CPU stays put.
    if cpu.halted() {
        let regs = cpu.regs;
        prop_assert_eq!(cpu.step(&mut bus), StepResult::Halted);
        prop_assert_eq!(cpu.regs, regs);
    }
    Ok(())
}

// ----- property 2: timing independence -------------------------------------

/// A second timing model: charges odd, different amounts for everything, so
/// any semantic dependence on cycle counts would show.
#[derive(Clone, Debug, Default)]
struct Lumpy {
    cycles: u64,
    flushes: u64,
}

impl Timing for Lumpy {
    fn configure(&mut self, model: CpuModel) {
        self.cycles = model.queue_len() as u64 * 1000;
    }
    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8 {
        self.cycles += 3 + (addr as u64 & 1);
        bus.read(addr)
    }
    fn read8<B: Bus>(&mut self, bus: &mut B, seg: Seg, addr: u32) -> u8 {
        self.cycles += 7 + seg as u64;
        bus.read(addr)
    }
    fn write8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32, v: u8) {
        self.cycles += 11;
        bus.write(addr, v)
    }
    fn read16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32) -> u16 {
        self.cycles += 13;
        // Read the high byte first: order within a word must not matter to semantics.
        let h = bus.read(hi) as u16;
        (bus.read(lo) as u16) | (h << 8)
    }
    fn write16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32, v: u16) {
        self.cycles += 17;
        bus.write(lo, v as u8);
        bus.write(hi, (v >> 8) as u8);
    }
    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16 {
        self.cycles += 19;
        if word {
            bus.io_read16(port)
        } else {
            bus.io_read(port) as u16
        }
    }
    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16) {
        self.cycles += 23;
        if word {
            bus.io_write16(port, v)
        } else {
            bus.io_write(port, v as u8)
        }
    }
    fn flush(&mut self, _cs: u16, _ip: u16) {
        self.flushes += 1;
        self.cycles += 29;
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// Everything architectural one step leaves behind.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    regs: Registers,
    halted: bool,
    writes: Vec<(u32, u8)>,
    io_writes: Vec<(u16, u8)>,
    /// Addresses read, sorted (the order of the two bytes of a word is the
    /// timing model's business).
    reads: Vec<u32>,
    msw: u16,
}

fn run<T: Timing + Default>(c: &Case) -> (Outcome, u64) {
    let (mut cpu, mut bus) = setup::<T>(c);
    cpu.step(&mut bus);
    let cycles = cpu.cycles();
    let mut reads = bus.reads;
    reads.sort_unstable();
    (
        Outcome {
            regs: cpu.regs,
            halted: cpu.halted(),
            writes: bus.writes,
            io_writes: bus.io_writes,
            reads,
            msw: cpu.msw,
        },
        cycles,
    )
}

/// Property 2, generic over two timing models: `CountingTiming` against
/// `Lumpy` above on every model, and the cycle-exact `ExactTiming` against
/// `CountingTiming` on the 8086 and 8088 (the models it covers).
fn same_state<A: Timing + Default, B: Timing + Default>(c: &Case) -> Result<(), TestCaseError> {
    let (a, ca) = run::<A>(c);
    let (b, cb) = run::<B>(c);
    prop_assert_eq!(a, b);
    // Both models saw work (the step fetched at least one byte).
    prop_assert!(ca > 0 && cb > 0);
    Ok(())
}

// ----- property 3: decode/disassemble vs execution ---------------------------

fn check_lengths(c: &Case) -> Result<(), TestCaseError> {
    let bytes = &c.insn.bytes;
    let d = disassemble(bytes, c.model);
    prop_assert!(!d.text.is_empty());
    prop_assert_eq!(d.len, bytes.len(), "disassembly `{}`", d.text);
    let mut src = SliceSource { bytes, pos: 0 };
    let h = decode_head(c.model, &mut src);
    prop_assert_eq!(h.opcode, c.insn.form.opcode);
    prop_assert_eq!(h.prefixes.count as usize, c.insn.prefixes);
    prop_assert_eq!(h.modrm.is_some(), c.insn.form.has_modrm);
    // What execution consumes.
    let (mut cpu, mut bus) = setup::<CountingTiming>(c);
    let ip0 = cpu.regs.ip;
    cpu.step(&mut bus);
    let row = &c.insn.form.row;
    // (A 286 that shut down while delivering a fault has no next instruction.)
    let shutdown = shut_down(c.model, &cpu, row, bytes.len());
    if entered_vector(&bus, cpu.regs.seg[Seg::CS as usize], cpu.regs.ip).is_none()
        && !transfers_control(row)
        && !shutdown
    {
        prop_assert_eq!(
            cpu.regs.ip.wrapping_sub(ip0) as usize,
            d.len,
            "executed length vs disassembly `{}`",
            d.text
        );
    }
    Ok(())
}

/// Arbitrary bytes: the disassembler is total, bounded, and agrees with execution.
fn check_raw(model: CpuModel, bytes: &[u8; 16], st: State) -> Result<(), TestCaseError> {
    let d = disassemble(bytes, model);
    prop_assert!(!d.text.is_empty());
    let mut src = SliceSource { bytes, pos: 0 };
    let h = decode_head(model, &mut src);
    let body = d.len - h.prefixes.count as usize;
    prop_assert!((1..=6).contains(&body), "{} bytes after prefixes", body);
    // Past the 16 bytes the disassembler pads with NOPs and memory differs.
    if d.len > bytes.len() {
        return Ok(());
    }
    let mut form_row = *cpu::table::lookup(model, h.opcode);
    if let Some(m) = h.modrm {
        form_row = cpu::decode::effective_row(model, cpu::table::lookup(model, h.opcode), m.reg);
    }
    let insn = Insn {
        form: Form {
            opcode: h.opcode,
            group_reg: None,
            has_modrm: h.modrm.is_some(),
            row: form_row,
        },
        bytes: bytes[..d.len].to_vec(),
        prefixes: h.prefixes.count as usize,
        modrm: None,
        imm_at: 0,
    };
    let c = fit(model, insn, st);
    let (mut cpu, mut bus) = setup::<CountingTiming>(&c);
    let ip0 = cpu.regs.ip;
    prop_assert_eq!(cpu.step(&mut bus), StepResult::Executed);
    let shutdown = shut_down(model, &cpu, &form_row, d.len);
    if entered_vector(&bus, cpu.regs.seg[Seg::CS as usize], cpu.regs.ip).is_none()
        && !transfers_control(&form_row)
        && !shutdown
    {
        prop_assert_eq!(
            cpu.regs.ip.wrapping_sub(ip0) as usize,
            d.len,
            "executed length vs disassembly `{}`",
            d.text
        );
    }
    Ok(())
}

/// Nothing of an instruction carries over into the next one: a NOP placed
/// wherever the instruction left CS:IP executes as a NOP.
fn check_next_step(c: &Case) -> Result<(), TestCaseError> {
    let (mut cpu, mut bus) = setup::<CountingTiming>(c);
    cpu.step(&mut bus);
    if cpu.halted() {
        return Ok(());
    }
    let regs = cpu.regs;
    if regs.flags & cpu::regs::TF != 0 {
        // The instruction set TF (POPF, IRET): the next one ends in the
        // single-step trap, as it should.
        return Ok(());
    }
    let cs = regs.seg[Seg::CS as usize];
    bus.place(cpu.linear(cs, regs.ip), 0x90);
    bus.writes.clear();
    bus.io_writes.clear();
    prop_assert_eq!(cpu.step(&mut bus), StepResult::Executed);
    let mut expect = regs;
    expect.ip = regs.ip.wrapping_add(1);
    prop_assert_eq!(cpu.regs, expect, "NOP after the instruction");
    prop_assert!(bus.writes.is_empty() && bus.io_writes.is_empty());
    Ok(())
}

/// Default config (honours `PROPTEST_CASES`), failures saved beside the tests.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/prop_cpu.txt",
        ))),
        ..ProptestConfig::default()
    }
}

macro_rules! per_model {
    ($($name:ident: $model:expr;)*) => {$(
        mod $name {
            use super::*;
            const M: CpuModel = $model;
            proptest! {
                #![proptest_config(config())]

                #[test]
                fn defined_state(c in case(M)) {
                    check_defined(&c)?;
                }

                #[test]
                fn timing_independent(c in case(M)) {
                    same_state::<CountingTiming, Lumpy>(&c)?;
                }

                #[test]
                fn disassembly_length_matches_execution(c in case(M)) {
                    check_lengths(&c)?;
                }

                #[test]
                fn next_step_starts_clean(c in case(M)) {
                    check_next_step(&c)?;
                }

                #[test]
                fn raw_bytes_decode_and_execute(bytes in any::<[u8; 16]>(), st in state()) {
                    check_raw(M, &bytes, st)?;
                }
            }
        }
    )*};
}

per_model! {
    i8088: CpuModel::I8088;
    i8086: CpuModel::I8086;
    i80186: CpuModel::I80186;
    i80286: CpuModel::I80286;
}

proptest! {
    #![proptest_config(config())]

    /// The exact model runs the same semantics: same registers, memory, I/O
    /// and data reads as the counting model, on both bus widths.
    #[test]
    fn exact_model_reaches_the_same_state_8086(c in case(CpuModel::I8086)) {
        same_state::<cpu::ExactTiming, CountingTiming>(&c)?;
    }

    #[test]
    fn exact_model_reaches_the_same_state_8088(c in case(CpuModel::I8088)) {
        same_state::<cpu::ExactTiming, CountingTiming>(&c)?;
    }

    /// The 8088 differs from the 8086 only in its bus and queue: every
    /// instruction from every state must end the same on both.
    #[test]
    fn i8088_and_i8086_agree(c in case(CpuModel::I8086)) {
        let c88 = Case { model: CpuModel::I8088, ..c.clone() };
        prop_assert_eq!(run::<CountingTiming>(&c88).0, run::<CountingTiming>(&c).0);
    }
}

/// The strategy reaches every form of the table (so the properties cover it).
#[test]
fn forms_cover_the_table() {
    for m in MODELS {
        let f = forms(m);
        // 256 opcodes less the prefixes, groups expanded to eight rows each.
        let groups = (0..=255u8)
            .filter(|&b| matches!(cpu::table::lookup(m, b).op, Op::Group(_)))
            .count();
        let prefixes = prefix_bytes(m).len();
        assert_eq!(f.len(), 256 - prefixes - groups + 8 * groups, "{m}");
        assert_eq!(prefixes, 8, "{m}: ES CS SS DS LOCK F1 REPNE REP");
        assert!(f.iter().any(|f| f.row.op == Op::Mul && f.row.word));
    }
}

/// The fault checks themselves: a divide by zero must be seen as entering vector 0.
#[test]
fn divide_by_zero_enters_vector_0() {
    for m in MODELS {
        let form = forms(m)
            .into_iter()
            .find(|f| f.opcode == 0xF6 && f.group_reg == Some(6))
            .unwrap();
        // div bl with BL = 0.
        let insn = build(form, &[], 0xC3, &[0; 6]);
        let st = State {
            regs: Registers {
                gpr: [0x1234, 0, 0, 0, 0x100, 0, 0, 0],
                seg: [0, 0x2000, 0x3000, 0],
                ip: 0x10,
                flags: 0,
            },
            seed: 1,
        };
        let c = fit(m, insn, st);
        let (mut cpu, mut bus) = setup::<CountingTiming>(&c);
        cpu.step(&mut bus);
        assert_eq!(
            entered_vector(&bus, cpu.regs.seg[1], cpu.regs.ip),
            Some(0),
            "{m}"
        );
        check_defined(&c).unwrap();
    }
}

/// Runs of instructions on the exact model, keeping a cycle log and not:
/// the clock count after every instruction, the registers and the bus
/// traffic must be the same. The unrecorded model passes over clocks and
/// runs whole prefetches in one step, so this holds those shortcuts to the
/// clock-by-clock rules across every queue and bus state the runs reach.
fn exact_clocks_without_the_log(
    model: CpuModel,
    insns: &[common::Insn],
    st: State,
) -> Result<(), TestCaseError> {
    let mut bytes = Vec::new();
    for i in insns {
        bytes.extend_from_slice(&i.bytes);
    }
    let first = fit(model, insns[0].clone(), st);
    let run = |record: bool, cache: bool| {
        let mut cpu = Cpu::<cpu::ExactTiming>::new(model);
        cpu.regs = first.regs;
        cpu.set_decode_cache(cache);
        // The queue starts empty with prefetching at CS:IP, as after a jump.
        cpu.timing
            .preload(cpu.regs.seg[Seg::CS as usize], cpu.regs.ip, &[]);
        cpu.timing.record(record);
        let mut bus = TestBus::new(first.seed);
        place_code(&cpu, &mut bus, &bytes);
        let mut clocks = Vec::new();
        for _ in 0..insns.len() + 4 {
            cpu.step(&mut bus);
            clocks.push(cpu.cycles());
        }
        if record {
            assert_eq!(cpu.timing.log().len() as u64, cpu.cycles());
        }
        (clocks, cpu.regs, bus.writes, bus.io_writes)
    };
    let recorded = run(true, false);
    prop_assert_eq!(&run(false, false), &recorded);
    prop_assert_eq!(&run(false, true), &recorded);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn exact_clocks_do_not_depend_on_the_log_8088(
        insns in proptest::collection::vec(insn(CpuModel::I8088), 1..10),
        st in state(),
    ) {
        exact_clocks_without_the_log(CpuModel::I8088, &insns, st)?;
    }

    #[test]
    fn exact_clocks_do_not_depend_on_the_log_8086(
        insns in proptest::collection::vec(insn(CpuModel::I8086), 1..10),
        st in state(),
    ) {
        exact_clocks_without_the_log(CpuModel::I8086, &insns, st)?;
    }
}
