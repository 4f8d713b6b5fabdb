//! Running single-step tests against the CPU core and judging the outcome.

use crate::cycles::CycleMismatch;
use crate::error::InputError;
use crate::model::Cycle;
use crate::model::{TestCase, FLAGS_INDEX, REGS};
use crate::suite::{RunMode, Suite};
use crate::vectors::metadata::{OpInfo, Status};
use crate::vectors::{file_stem, for_each_test, ReadOptions};
use cpu::{
    Bus, Cpu, CpuModel, Exact286Timing, ExactTiming, FastTiming, Registers, Seg, StepResult, Timing,
};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// A cheap hasher for physical addresses.
#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    }
}

type AddrMap<V> = HashMap<u32, V, BuildHasherDefault<AddrHasher>>;

/// A sparse memory holding only the bytes a test touches. Unlisted bytes
/// read as zero, I/O reads as all ones; memory writes are recorded.
#[derive(Clone, Debug, Default)]
pub struct SparseBus {
    mem: AddrMap<u8>,
    /// What memory the test did not load reads as.
    pub fill: u8,
    /// Addresses written, in order (repeats included).
    pub writes: Vec<u32>,
    /// I/O writes (port, byte), in order.
    pub io_writes: Vec<(u16, u8)>,
    /// The recording rig's instruction feed, when set: each byte of the
    /// instruction is served to the first fetch of its address, every other
    /// fetch gets a NOP (the rig feeds the instruction, then NOPs, whatever
    /// the memory holds).
    pub rig_code: Option<AddrMap<u8>>,
}

impl SparseBus {
    /// A bus loaded with `ram`.
    pub fn with_ram(ram: &[(u32, u8)]) -> Self {
        let mut mem = AddrMap::with_capacity_and_hasher(ram.len() * 2, Default::default());
        for &(a, v) in ram {
            mem.insert(a, v);
        }
        SparseBus {
            mem,
            fill: 0,
            rig_code: None,
            writes: Vec::new(),
            io_writes: Vec::new(),
        }
    }

    /// The byte at `addr`, if the test loaded or the CPU wrote it.
    pub fn peek(&self, addr: u32) -> Option<u8> {
        self.mem.get(&addr).copied()
    }
}

impl Bus for SparseBus {
    fn read(&mut self, addr: u32) -> u8 {
        self.mem.get(&addr).copied().unwrap_or(self.fill)
    }
    fn fetch(&mut self, addr: u32) -> u8 {
        match self.rig_code.as_mut() {
            Some(code) => code.remove(&addr).unwrap_or(0x90),
            None => self.read(addr),
        }
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.mem.insert(addr, value);
        self.writes.push(addr);
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.io_writes.push((port, value));
    }
}

/// Everything the runner needs to know besides the test.
#[derive(Clone, Copy, Debug)]
pub struct TestSetup {
    /// CPU model.
    pub model: CpuModel,
    /// How to run.
    pub run: RunMode,
    /// Step limit for [`RunMode::UntilHalt`].
    pub max_steps: u32,
    /// Mask applied to the initial FLAGS.
    pub initial_flags_mask: u16,
    /// Divide-error handler address (see the manifest).
    pub divide_error_handler: Option<u32>,
    /// Status and flags mask of the test's opcode.
    pub info: OpInfo,
    /// Run with the decoded-instruction cache on, every instruction put in
    /// it before it executes (so taken from it, through its specialised form).
    pub decode_cache: bool,
}

/// The machine after a test ran.
#[derive(Clone, Debug)]
pub struct Executed {
    /// Registers at the end.
    pub regs: Registers,
    /// Memory at the end.
    pub bus: SparseBus,
    /// Steps taken.
    pub steps: u32,
    /// For `until_halt`: whether the CPU halted within the limit.
    pub halted: bool,
    /// The CPU panicked (message).
    pub panic: Option<String>,
    /// Clock cycles the timing model counted.
    pub cycles: u64,
}

/// A fresh CPU of the test's model with the test's initial registers.
fn loaded_cpu<T: Timing + Default>(test: &TestCase, setup: &TestSetup) -> Cpu<T> {
    let mut cpu: Cpu<T> = Cpu::new(setup.model);
    for (i, name) in REGS.iter().enumerate() {
        let mut v = test.initial.regs.get(i).unwrap_or(0);
        if i == FLAGS_INDEX {
            v &= setup.initial_flags_mask;
        }
        cpu.regs.set(name, v);
    }
    cpu
}

/// The message of a caught panic.
fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "CPU panicked".to_string())
}

/// Run one test on a fresh CPU.
pub fn execute(test: &TestCase, setup: &TestSetup) -> Executed {
    let mut bus = SparseBus::with_ram(&test.initial.ram);
    let mut cpu: Cpu<FastTiming> = loaded_cpu(test, setup);
    let mut steps = 0;
    cpu.set_decode_cache(setup.decode_cache);
    let result = catch_unwind(AssertUnwindSafe(|| match setup.run {
        RunMode::SingleStep => {
            cpu.warm_decode_cache(&mut bus);
            cpu.step(&mut bus);
            steps = 1;
        }
        RunMode::UntilHalt => {
            while steps < setup.max_steps && !cpu.halted() {
                steps += 1;
                cpu.warm_decode_cache(&mut bus);
                if cpu.step(&mut bus) == StepResult::Halted {
                    break;
                }
            }
        }
    }));
    let panic = result.err().map(panic_message);
    let cycles = cpu.cycles();
    executed(&cpu, bus, cycles, steps, panic)
}

/// What a run left: the CPU's registers and halt state, the bus, `cycles`
/// as the runner counted them.
fn executed<T: Timing>(
    cpu: &Cpu<T>,
    bus: SparseBus,
    cycles: u64,
    steps: u32,
    panic: Option<String>,
) -> Executed {
    Executed {
        regs: cpu.regs,
        halted: cpu.halted(),
        cycles,
        bus,
        steps,
        panic,
    }
}

/// Run one test on a fresh CPU with the cycle-exact model, starting from the
/// vector's prefetch queue, and record its clocks: from the first byte taken
/// until the next instruction's first byte is taken (that clock excluded).
/// Memory the test did not load reads as NOP (0x90), as on the recording rig.
pub fn execute_exact(test: &TestCase, setup: &TestSetup) -> (Executed, Vec<Cycle>) {
    if setup.model == CpuModel::I80286 {
        return execute_exact_286(test, setup);
    }
    execute_exact_with(test, setup, true)
}

/// [`execute_exact`] on the 8086/8088 model, with the clocks recorded or not
/// (`record`): unrecorded, the model passes over uneventful clocks without
/// simulating each, and only the count of clocks is reported (the trace is
/// empty).
pub fn execute_exact_with(
    test: &TestCase,
    setup: &TestSetup,
    record: bool,
) -> (Executed, Vec<Cycle>) {
    let mut bus = SparseBus::with_ram(&test.initial.ram);
    bus.fill = 0x90;
    let mut cpu: Cpu<ExactTiming> = loaded_cpu(test, setup);
    let (cs, ip) = (cpu.regs.seg[Seg::CS as usize], cpu.regs.ip);
    // The instruction's bytes not already in the queue come from the rig's feed.
    let mut feed = AddrMap::default();
    for (i, b) in test.bytes.iter().enumerate().skip(test.initial.queue.len()) {
        feed.insert(cpu.linear(cs, ip.wrapping_add(i as u16)), *b);
    }
    bus.rig_code = Some(feed);
    cpu.timing.preload(cs, ip, &test.initial.queue);
    cpu.timing.record(record);
    let start = cpu.timing.cycles();
    let result = catch_unwind(AssertUnwindSafe(|| {
        cpu.step(&mut bus);
        let after = bus.clone();
        // The next instruction's first byte ends the trace.
        cpu.timing.take(&mut bus, true);
        after
    }));
    let (panic, bus) = match result {
        Ok(after) => (None, after),
        Err(p) => (Some(panic_message(p)), bus),
    };
    let log = cpu.timing.log();
    // The clock that takes the next instruction's first byte is not counted.
    let n = (cpu.timing.cycles() - start).saturating_sub(1) as usize;
    let cycles = log[..n.min(log.len())]
        .iter()
        .map(crate::cycles::from_record)
        .collect();
    (executed(&cpu, bus, n as u64, 1, panic), cycles)
}

/// [`execute_exact`] on the 80286 model ([`Exact286Timing`]): from an empty
/// queue fetching at CS:IP until the HALT bus cycle's Ts, the trace's last clock.
fn execute_exact_286(test: &TestCase, setup: &TestSetup) -> (Executed, Vec<Cycle>) {
    let mut bus = SparseBus::with_ram(&test.initial.ram);
    let mut cpu: Cpu<Exact286Timing> = loaded_cpu(test, setup);
    let (cs, ip) = (cpu.regs.seg[Seg::CS as usize], cpu.regs.ip);
    cpu.timing.start(cs, ip);
    cpu.timing.record(true);
    let mut steps = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        while steps < setup.max_steps && !cpu.halted() {
            steps += 1;
            if cpu.step(&mut bus) == StepResult::Halted {
                break;
            }
        }
    }));
    let panic = result.err().map(panic_message);
    let log = cpu.timing.log();
    let n = log
        .iter()
        .position(|c| c.t == cpu::TState::T1 && c.transfer == Some(cpu::Transfer::Halt))
        .map_or(log.len(), |i| i + 1);
    let cycles = log[..n]
        .iter()
        .map(crate::cycles::from_record_286)
        .collect();
    (executed(&cpu, bus, n as u64, steps, panic), cycles)
}

/// Which comparisons a suite run makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// Registers, memory and defined flags after the instruction.
    pub state: bool,
    /// The bus-cycle trace, on the cycle-exact model.
    pub cycles: bool,
}

impl Checks {
    /// The state check alone, on the fast model.
    pub const STATE: Checks = Checks {
        state: true,
        cycles: false,
    };
    /// The cycle check alone, on the exact model.
    pub const CYCLES: Checks = Checks {
        state: false,
        cycles: true,
    };
    /// Both, the state judged from the exact model's run.
    pub const ALL: Checks = Checks {
        state: true,
        cycles: true,
    };

    /// The names of the checks made, as reports list them.
    pub fn names(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.state {
            v.push("state");
        }
        if self.cycles {
            v.push("cycles");
        }
        v
    }

    /// What a test must match to pass, in words.
    pub fn passed_means(self) -> &'static str {
        match (self.state, self.cycles) {
            (true, true) => "the state (registers, memory, defined flags) and every bus cycle match, on the exact model",
            (false, true) => "every bus cycle matches, on the exact model",
            _ => "the state (registers, memory, defined flags) matches",
        }
    }
}

/// True when `model` has a cycle-exact timing model that machines can run
/// ([`ExactTiming`] simulates the 8086/8088 bus interface).
pub fn has_exact_model(model: CpuModel) -> bool {
    matches!(model, CpuModel::I8086 | CpuModel::I8088)
}

/// True when [`execute_exact`] can run tests of `model` cycle by cycle (the
/// 8086/8088 exact model, or the 80286 bus model [`Exact286Timing`]).
pub fn has_cycle_model(model: CpuModel) -> bool {
    has_exact_model(model) || model == CpuModel::I80286
}

/// How a test fared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Registers other than FLAGS match (and, for `until_halt`, the CPU halted).
    pub regs_ok: bool,
    /// Memory matches.
    pub mem_ok: bool,
    /// Defined FLAGS bits match (in FLAGS and any FLAGS pushed by an exception).
    pub defined_flags_ok: bool,
    /// The opcode has undefined FLAGS bits.
    pub has_undefined: bool,
    /// Undefined FLAGS bits match too.
    pub undefined_flags_ok: bool,
    /// The CPU panicked.
    pub panicked: bool,
}

impl Verdict {
    /// Passed the state check.
    pub fn passed(&self) -> bool {
        self.regs_ok && self.mem_ok && self.defined_flags_ok && !self.panicked
    }
}

/// Where a test's FLAGS image was pushed, when the vector says so or the
/// divide-error rule of the setup applies.
pub fn flags_on_stack(test: &TestCase, setup: &TestSetup) -> Option<u32> {
    if test.exception.is_none() {
        let handler = setup.divide_error_handler?;
        let cs = test.expected(4)? as u32;
        let ip = test.expected(12)? as u32;
        if ((cs << 4) + ip) & setup.model.address_mask() != handler {
            return None;
        }
    }
    // FLAGS is the first of the three words an interrupt pushes: it sits at
    // SS:SP+4 of the final state. (The 286 vectors' recorded address is one
    // byte low when SP is odd, so it is not used.)
    let ss = test.expected(5)? as u32;
    let sp = test.expected(8)?.wrapping_add(4) as u32;
    Some(((ss << 4) + sp) & setup.model.address_mask())
}

/// The mask of defined FLAGS bits for a test.
pub fn defined_flags(test: &TestCase, setup: &TestSetup) -> u16 {
    let rmask = test
        .reg_masks
        .and_then(|m| m.get(FLAGS_INDEX))
        .unwrap_or(0xFFFF);
    setup.info.defined_flags() & rmask
}

/// The expected final FLAGS (the initial ones, masked, when unchanged).
pub fn expected_flags(test: &TestCase, setup: &TestSetup) -> u16 {
    test.final_state
        .regs
        .get(FLAGS_INDEX)
        .unwrap_or(test.initial.regs.get(FLAGS_INDEX).unwrap_or(0) & setup.initial_flags_mask)
}

/// Mask of bits compared in register `i` (all but the `RMSK` undefined ones).
pub fn reg_mask(test: &TestCase, i: usize) -> u16 {
    test.reg_masks.and_then(|m| m.get(i)).unwrap_or(0xFFFF)
}

/// Compare the machine after a test with the test's final state.
pub fn judge(test: &TestCase, ex: &Executed, setup: &TestSetup) -> Verdict {
    let mut v = Verdict {
        regs_ok: true,
        mem_ok: true,
        defined_flags_ok: true,
        undefined_flags_ok: true,
        panicked: ex.panic.is_some(),
        has_undefined: false,
    };
    if setup.run == RunMode::UntilHalt && !ex.halted {
        v.regs_ok = false;
    }
    for (i, name) in REGS.iter().enumerate().take(FLAGS_INDEX) {
        let want = test.expected(i).unwrap_or(0);
        let got = ex.regs.get(name).unwrap_or(0);
        if (want ^ got) & reg_mask(test, i) != 0 {
            v.regs_ok = false;
        }
    }
    let defined = defined_flags(test, setup);
    let diff = expected_flags(test, setup) ^ ex.regs.flags;
    v.has_undefined = !defined != 0;
    if diff & defined != 0 {
        v.defined_flags_ok = false;
    }
    if diff & !defined != 0 {
        v.undefined_flags_ok = false;
    }
    let pushed = flags_on_stack(test, setup);
    let mut check = |addr: u32, want: Option<u8>| {
        let mask = pushed_flags_mask(pushed, defined, addr);
        match (want, ex.bus.peek(addr)) {
            (Some(w), Some(g)) => {
                if (g ^ w) & mask != 0 {
                    if mask == 0xFF {
                        v.mem_ok = false;
                    } else {
                        v.defined_flags_ok = false;
                    }
                }
                if (g ^ w) & !mask != 0 {
                    v.undefined_flags_ok = false;
                }
            }
            _ => v.mem_ok = false,
        }
    };
    for &(addr, want) in &test.final_state.ram {
        check(addr, Some(want));
    }
    for &a in &ex.bus.writes {
        if !test.final_state.ram.iter().any(|(f, _)| *f == a) {
            check(a, expected_byte(test, a));
        }
    }
    v
}

/// Mask of the bits of the byte at `addr` that must match: all, except the
/// undefined FLAGS bits where an exception pushed FLAGS (at `pushed`).
pub fn pushed_flags_mask(pushed: Option<u32>, defined: u16, addr: u32) -> u8 {
    match pushed {
        Some(p) if addr == p => defined as u8,
        Some(p) if addr == p.wrapping_add(1) => (defined >> 8) as u8,
        _ => 0xFF,
    }
}

/// The byte expected at `addr` after the test: the final state's, else the
/// initial one (the 286 vectors list only bytes that changed); `None` for an
/// address the test does not know, which the CPU must not write.
pub fn expected_byte(test: &TestCase, addr: u32) -> Option<u8> {
    let find = |ram: &[(u32, u8)]| ram.iter().find(|(a, _)| *a == addr).map(|(_, v)| *v);
    find(&test.final_state.ram).or_else(|| find(&test.initial.ram))
}

/// Why a test was not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipKind {
    /// The manifest skips its file or hash.
    Manifest,
    /// The hash is on the revocation list.
    Revoked,
    /// Its opcode's status is not among the suite's statuses.
    Status,
}

/// Test counts: of one vector file, or summed over a suite.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Tests run.
    pub tests: u64,
    /// Tests passed.
    pub passed: u64,
    /// Tests failed.
    pub failed: u64,
    /// Failed on registers or memory.
    pub failed_regs_mem: u64,
    /// Failed on defined flags.
    pub failed_defined_flags: u64,
    /// Tests whose opcode has undefined flags.
    pub undefined_total: u64,
    /// ... of which the undefined flags matched too.
    pub undefined_matched: u64,
    /// Tests in which the CPU panicked.
    pub panicked: u64,
    /// Skipped by the manifest.
    pub skipped_manifest: u64,
    /// Skipped as revoked.
    pub skipped_revoked: u64,
    /// Skipped for their status.
    pub skipped_status: u64,
    /// Tests whose bus-cycle trace was compared.
    pub cycles_checked: u64,
    /// ... of which the whole trace matched.
    pub cycles_matched: u64,
    /// Traces that differ, by the first field that differs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cycle_mismatch_fields: BTreeMap<&'static str, u64>,
}

impl Counts {
    /// All skipped tests.
    pub fn skipped(&self) -> u64 {
        self.skipped_manifest + self.skipped_revoked + self.skipped_status
    }

    /// Add `other` to these counts.
    pub fn add(&mut self, other: &Counts) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.failed_regs_mem += other.failed_regs_mem;
        self.failed_defined_flags += other.failed_defined_flags;
        self.undefined_total += other.undefined_total;
        self.undefined_matched += other.undefined_matched;
        self.panicked += other.panicked;
        self.skipped_manifest += other.skipped_manifest;
        self.skipped_revoked += other.skipped_revoked;
        self.skipped_status += other.skipped_status;
        self.cycles_checked += other.cycles_checked;
        self.cycles_matched += other.cycles_matched;
        for (field, n) in &other.cycle_mismatch_fields {
            *self.cycle_mismatch_fields.entry(field).or_default() += n;
        }
    }
}

/// The results of one vector file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileResult {
    /// The opcode stem of the file name (`80.1`).
    pub file: String,
    /// Statuses of the tests in the file.
    pub statuses: BTreeSet<Status>,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Reason the whole file is skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Index of the first failing test (for `--show FILE:INDEX`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<usize>,
}

impl FileResult {
    /// All skipped tests.
    pub fn skipped(&self) -> u64 {
        self.counts.skipped()
    }

    /// Count one test: its state verdict `v` (counted when `checks.state`)
    /// and, when `checks.cycles`, the first difference of its trace.
    fn add(&mut self, index: usize, checks: Checks, v: &Verdict, cycles: Option<&CycleMismatch>) {
        self.counts.tests += 1;
        let state_ok = !checks.state || v.passed();
        let cycles_ok = !checks.cycles || cycles.is_none();
        if state_ok && cycles_ok && !v.panicked {
            self.counts.passed += 1;
        } else {
            self.counts.failed += 1;
            self.first_failure.get_or_insert(index);
        }
        if v.panicked {
            self.counts.panicked += 1;
        }
        if checks.cycles {
            self.counts.cycles_checked += 1;
            match cycles {
                None => self.counts.cycles_matched += 1,
                Some(m) => {
                    *self
                        .counts
                        .cycle_mismatch_fields
                        .entry(m.field)
                        .or_default() += 1;
                }
            }
        }
        if !checks.state {
            return;
        }
        if !v.regs_ok || !v.mem_ok {
            self.counts.failed_regs_mem += 1;
        }
        if !v.defined_flags_ok {
            self.counts.failed_defined_flags += 1;
        }
        if v.has_undefined {
            self.counts.undefined_total += 1;
            if v.undefined_flags_ok {
                self.counts.undefined_matched += 1;
            }
        }
    }
}

/// A test of a suite file, with the setup it runs under, or why it is skipped.
pub fn classify(
    suite: &Suite,
    stem: &str,
    test: &TestCase,
) -> Result<Result<TestSetup, SkipKind>, String> {
    let m = &suite.manifest;
    if !test.hash.is_empty() {
        if m.hash_skip(&test.hash).is_some() {
            return Ok(Err(SkipKind::Manifest));
        }
        if suite.revocations.contains(&test.hash) {
            return Ok(Err(SkipKind::Revoked));
        }
    }
    let info = suite.metadata.lookup(stem, &test.bytes).map_err(|e| e.0)?;
    if !m.statuses.contains(&info.status) {
        return Ok(Err(SkipKind::Status));
    }
    Ok(Ok(setup_for(suite, info)))
}

/// The setup a test of `suite` whose opcode metadata is `info` runs under.
pub fn setup_for(suite: &Suite, info: OpInfo) -> TestSetup {
    let m = &suite.manifest;
    TestSetup {
        model: suite.model,
        run: m.run,
        max_steps: m.max_steps,
        initial_flags_mask: m.initial_flags_mask.unwrap_or(0xFFFF),
        divide_error_handler: m.divide_error_handler,
        info,
        decode_cache: suite.decode_cache,
    }
}

/// Run one test under `checks`: on the fast model for the state check
/// alone, else on the exact model, its trace compared with the vector's.
pub fn check_test(
    test: &TestCase,
    setup: &TestSetup,
    checks: Checks,
) -> (Verdict, Option<CycleMismatch>) {
    if !checks.cycles {
        return (judge(test, &execute(test, setup), setup), None);
    }
    let (ex, trace) = execute_exact(test, setup);
    let flags = flags_on_stack(test, setup).map(|a| (a, defined_flags(test, setup)));
    let mismatch = crate::cycles::compare_masked(setup.model, &test.cycles, &trace, flags);
    (judge(test, &ex, setup), mismatch)
}

/// Why `checks` cannot be made on `suite`, if they cannot.
pub fn unsupported(suite: &Suite, checks: Checks) -> Option<String> {
    let m = &suite.manifest;
    if checks.state && !m.checks.contains(&crate::suite::Check::State) {
        return Some(format!(
            "suite '{}' does not support the state check",
            m.name
        ));
    }
    if checks.cycles {
        if !m.checks.contains(&crate::suite::Check::Cycles) {
            return Some(format!(
                "suite '{}' does not support the cycle check (its manifest's checks lack 'cycles')",
                m.name
            ));
        }
        if !has_cycle_model(suite.model) {
            return Some(format!(
                "--check cycles: suite '{}' is for the {}, which has no cycle-exact model (it covers the 8086, 8088 and 80286); use --check state",
                m.name,
                suite.model.name()
            ));
        }
        if m.run != RunMode::SingleStep && suite.model != CpuModel::I80286 {
            return Some(format!(
                "--check cycles: suite '{}' runs until HLT; the cycle check runs single-step suites only",
                m.name
            ));
        }
    }
    None
}

/// Run every test of one vector file (state check).
pub fn run_file(suite: &Suite, path: &Path) -> Result<FileResult, InputError> {
    run_file_with(suite, path, Checks::STATE)
}

/// Run every test of one vector file under `checks`.
pub fn run_file_with(suite: &Suite, path: &Path, checks: Checks) -> Result<FileResult, InputError> {
    let stem = file_stem(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut r = FileResult {
        file: stem.clone(),
        ..Default::default()
    };
    let file_skip = suite.manifest.file_skip(&name, &stem).map(str::to_string);
    let mut error = None;
    let opts = ReadOptions {
        cycles: checks.cycles,
    };
    for_each_test(path, opts, &mut |t| {
        if file_skip.is_some() {
            r.counts.skipped_manifest += 1;
            return ControlFlow::Continue(());
        }
        match classify(suite, &stem, &t) {
            Err(e) => {
                error = Some(InputError::test(path, t.index, e));
                ControlFlow::Break(())
            }
            Ok(Err(kind)) => {
                match kind {
                    SkipKind::Manifest => r.counts.skipped_manifest += 1,
                    SkipKind::Revoked => r.counts.skipped_revoked += 1,
                    SkipKind::Status => r.counts.skipped_status += 1,
                }
                ControlFlow::Continue(())
            }
            Ok(Ok(setup)) => {
                // An address the CPU cannot put on its bus would be folded
                // into memory it can reach, and the test judged on it.
                let mask = setup.model.address_mask();
                let outside = [("initial", &t.initial.ram), ("final", &t.final_state.ram)]
                    .into_iter()
                    .find_map(|(which, ram)| {
                        ram.iter()
                            .find(|(a, _)| a & !mask != 0)
                            .map(|(a, _)| (which, *a))
                    });
                if let Some((which, a)) = outside {
                    error = Some(InputError::test(
                        path,
                        t.index,
                        format!(
                            "{which}.ram names address {a:#X}, outside the {}'s address space (0 to {mask:#X})",
                            setup.model.name()
                        ),
                    ));
                    return ControlFlow::Break(());
                }
                r.statuses.insert(setup.info.status);
                let (v, cycles) = check_test(&t, &setup, checks);
                r.add(t.index, checks, &v, cycles.as_ref());
                ControlFlow::Continue(())
            }
        }
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    r.skip_reason = file_skip;
    Ok(r)
}

/// True when a file's stem is selected by `filter` (opcodes such as `80`
/// select `80.0` … `80.7`; `80.1` selects only itself).
pub fn selected(stem: &str, filter: &[String]) -> bool {
    filter.is_empty()
        || filter.iter().any(|f| {
            stem.eq_ignore_ascii_case(f)
                || stem
                    .split_once('.')
                    .is_some_and(|(op, _)| op.eq_ignore_ascii_case(f))
        })
}

/// The files of a suite that `filter` selects, in suite order.
pub fn selected_files<'a>(suite: &'a Suite, filter: &[String]) -> Vec<&'a Path> {
    suite
        .files
        .iter()
        .map(|p| p.as_path())
        .filter(|p| selected(&file_stem(p), filter))
        .collect()
}

/// Run the selected files of a suite in parallel; `progress` is called after
/// each file. On bad input, the error of the first bad file (in file order).
pub fn run_suite(
    suite: &Suite,
    filter: &[String],
    progress: &(dyn Fn(&FileResult) + Sync),
) -> Result<Vec<FileResult>, InputError> {
    run_suite_with(suite, filter, Checks::STATE, progress)
}

/// [`run_suite`] under `checks` (see [`unsupported`] for what a suite allows).
pub fn run_suite_with(
    suite: &Suite,
    filter: &[String],
    checks: Checks,
    progress: &(dyn Fn(&FileResult) + Sync),
) -> Result<Vec<FileResult>, InputError> {
    let files = selected_files(suite, filter);
    let results: Vec<Result<FileResult, InputError>> = files
        .par_iter()
        .map(|p| {
            let r = run_file_with(suite, p, checks);
            if let Ok(r) = &r {
                progress(r);
            }
            r
        })
        .collect();
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Exception, RegState, State};

    fn setup(run: RunMode) -> TestSetup {
        TestSetup {
            model: CpuModel::I8086,
            run,
            max_steps: 4,
            initial_flags_mask: 0xFFFF,
            divide_error_handler: Some(0x400),
            info: OpInfo {
                status: Status::Normal,
                flags_mask: Some(0xFFEF),
            },
            decode_cache: false,
        }
    }

    /// A test whose final state equals its initial state (what the stub core does).
    fn unchanged() -> TestCase {
        let mut regs = RegState::default();
        for i in 0..14 {
            regs.set(i, 0x10 * i as u16);
        }
        regs.set(FLAGS_INDEX, 0xF002);
        let ram = vec![(0x100, 0x90), (0x101, 0x90)];
        TestCase {
            index: 0,
            name: "nop".into(),
            bytes: vec![0x90],
            initial: State {
                regs,
                ram: ram.clone(),
                queue: vec![],
            },
            final_state: State {
                regs: RegState::default(),
                ram,
                queue: vec![],
            },
            cycles: vec![],
            hash: "00".into(),
            exception: None,
            reg_masks: None,
        }
    }

    /// The machine as a test left it if the CPU did nothing: judging does
    /// not depend on the CPU core.
    fn idle(t: &TestCase, s: &TestSetup) -> Executed {
        let mut regs = Registers::default();
        for (i, name) in REGS.iter().enumerate() {
            regs.set(name, t.initial.regs.get(i).unwrap());
        }
        regs.flags &= s.initial_flags_mask;
        Executed {
            regs,
            bus: SparseBus::with_ram(&t.initial.ram),
            steps: 1,
            halted: true,
            panic: None,
            cycles: 0,
        }
    }

    #[test]
    fn unchanged_state_passes() {
        let t = unchanged();
        let s = setup(RunMode::SingleStep);
        let v = judge(&t, &idle(&t, &s), &s);
        assert!(v.passed(), "{v:?}");
        assert!(v.has_undefined && v.undefined_flags_ok);
    }

    #[test]
    fn execute_loads_the_initial_state() {
        // HLT changes nothing but IP, whatever the core: the rest of the
        // initial state must come back as loaded (FLAGS masked).
        let mut t = unchanged();
        t.bytes = vec![0xF4];
        t.initial.regs.set(FLAGS_INDEX, 0xF0D7);
        let cs = t.initial.regs.get(4).unwrap() as u32;
        let ip = t.initial.regs.get(12).unwrap() as u32;
        t.initial.ram = vec![((cs << 4) + ip, 0xF4)];
        let mut s = setup(RunMode::UntilHalt);
        s.initial_flags_mask = 0x0FFF;
        let ex = execute(&t, &s);
        assert!(ex.panic.is_none());
        assert!((1..=4).contains(&ex.steps));
        for (i, name) in REGS.iter().enumerate().take(FLAGS_INDEX) {
            if *name != "ip" {
                assert_eq!(ex.regs.get(name), t.initial.regs.get(i), "{name}");
            }
        }
        assert_eq!(ex.regs.flags & 0xFD5, 0x00D7 & 0xFD5);
        assert!(ex.bus.writes.is_empty());
    }

    #[test]
    fn detects_each_kind_of_mismatch() {
        let s = setup(RunMode::SingleStep);
        let base = unchanged();
        let run = |t: &TestCase| judge(t, &idle(t, &s), &s);
        // A changed register.
        let mut t = base.clone();
        t.final_state.regs.set(0, 1);
        let v = run(&t);
        assert!(!v.regs_ok && v.mem_ok && v.defined_flags_ok && !v.passed());
        // A changed memory byte.
        let mut t = base.clone();
        t.final_state.ram[1].1 = 0;
        let v = run(&t);
        assert!(v.regs_ok && !v.mem_ok && !v.passed());
        // A memory byte the test never loaded.
        let mut t = base.clone();
        t.final_state.ram.push((0x200, 0));
        assert!(!run(&t).mem_ok);
        // A defined flag.
        let mut t = base.clone();
        t.final_state.regs.set(FLAGS_INDEX, 0xF003);
        let v = run(&t);
        assert!(!v.defined_flags_ok && v.undefined_flags_ok && !v.passed());
        // An undefined flag (AF, outside the mask) does not fail the test.
        let mut t = base.clone();
        t.final_state.regs.set(FLAGS_INDEX, 0xF012);
        let v = run(&t);
        assert!(v.defined_flags_ok && !v.undefined_flags_ok && v.passed());
        // A register masked out by RMSK does not fail it.
        let mut t = base.clone();
        t.final_state.regs.set(0, 0x00FF);
        let mut m = RegState::default();
        m.set(0, 0xFF00);
        t.reg_masks = Some(m);
        assert!(run(&t).regs_ok);
        // until_halt: not halting fails.
        let s2 = setup(RunMode::UntilHalt);
        let mut ex = idle(&base, &s2);
        ex.halted = false;
        assert!(!judge(&base, &ex, &s2).passed());
        // A panic fails.
        let mut ex = idle(&base, &s);
        ex.panic = Some("boom".into());
        assert!(!judge(&base, &ex, &s).passed());
    }

    #[test]
    fn writes_outside_final_ram_fail() {
        let t = unchanged();
        let s = setup(RunMode::SingleStep);
        let mut ex = idle(&t, &s);
        ex.bus.write(0x5000, 1);
        assert!(!judge(&t, &ex, &s).mem_ok);
        let mut ex = idle(&t, &s);
        ex.bus.write(0x100, 0x90);
        assert!(judge(&t, &ex, &s).mem_ok);
        // Final RAM listing only changed bytes (the 286 vectors): a write of
        // the unchanged value to a known byte is fine, another value is not.
        let mut t = t.clone();
        t.initial.ram.push((0x300, 0x55));
        let mut ex = idle(&t, &s);
        ex.bus.write(0x300, 0x55);
        assert!(judge(&t, &ex, &s).mem_ok);
        ex.bus.write(0x300, 0x56);
        assert!(!judge(&t, &ex, &s).mem_ok);
    }

    #[test]
    fn pushed_flags_are_compared_under_the_mask() {
        let s = setup(RunMode::SingleStep);
        let mut t = unchanged();
        t.exception = Some(Exception {
            number: 0,
            flag_address: 0x583,
        });
        // FLAGS were pushed at SS:SP+4 of the final state: 0x500 + 0x80 + 4.
        t.initial.ram = vec![(0x584, 0x90), (0x585, 0x90)];
        t.final_state.ram = t.initial.ram.clone();
        // Expected pushed FLAGS low byte differs in AF (undefined) only.
        t.final_state.ram[0].1 = 0x90 ^ 0x10;
        let v = judge(&t, &idle(&t, &s), &s);
        assert!(
            v.mem_ok && v.defined_flags_ok && !v.undefined_flags_ok && v.passed(),
            "{v:?}"
        );
        t.final_state.ram[0].1 = 0x90 ^ 0x01;
        let v = judge(&t, &idle(&t, &s), &s);
        assert!(!v.defined_flags_ok && !v.passed(), "{v:?}");
    }

    #[test]
    fn divide_error_rule_finds_the_pushed_flags() {
        let s = setup(RunMode::SingleStep);
        let mut t = unchanged();
        t.final_state.regs.set(4, 0);
        t.final_state.regs.set(12, 0x400);
        // SS = 0x50, SP = 0x80 before the three pushes: FLAGS at 0x500 + 0x7E.
        t.final_state.regs.set(8, 0x80 - 6);
        assert_eq!(flags_on_stack(&t, &s), Some(0x57E));
        t.final_state.regs.set(12, 0x402);
        assert_eq!(flags_on_stack(&t, &s), None);
    }

    #[test]
    fn filter_selects_groups() {
        let f = vec!["80".to_string(), "d4".to_string()];
        assert!(selected("80.3", &f));
        assert!(selected("D4", &f));
        assert!(!selected("81.0", &f));
        assert!(selected("81.0", &[]));
        assert!(!selected("80.3", &["80.1".to_string()]));
    }
}
