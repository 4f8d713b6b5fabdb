//! REP string instructions stopped between iterations (the REP deadline of
//! a machine that looks at its devices between them): continuing one is
//! the same run as never stopping, clock for clock on the exact models; an
//! interrupt there pushes the address the processor pushes (the 8086's
//! last-prefix quirk); a suspended REP saved and restored continues alike.

use cpu::{
    CountingTiming, Cpu, CpuModel, Exact286Timing, ExactTiming, FastTiming, FlatBus, Timing,
};

/// Where the code runs: 1000:0100.
const CODE: u32 = 0x10100;

/// A CPU at 1000:0100 with DS=2000 (source), ES=3000 (destination),
/// SS=4000 (stack at 0100), CX=`cx`, SI=DI=0, AX=0x4141, and the code
/// followed by NOPs; memory at DS:0 counts up, at ES:0 holds zero but a
/// 0x41 at ES:0005 (so that REPE/REPNE scans stop early).
fn setup<T: Timing + Default>(model: CpuModel, code: &[u8], cx: u16) -> (Cpu<T>, FlatBus) {
    let mut bus = FlatBus::new(1 << 20);
    let mut bytes = code.to_vec();
    bytes.resize(32, 0x90);
    bus.load(CODE, &bytes);
    for i in 0..0x400u32 {
        bus.mem[0x20000 + i as usize] = i as u8;
    }
    bus.mem[0x30005] = 0x41;
    let mut cpu: Cpu<T> = Cpu::new(model);
    cpu.regs.seg = [0x3000, 0x1000, 0x4000, 0x2000];
    cpu.regs.ip = 0x0100;
    cpu.regs.gpr[4] = 0x0100;
    cpu.regs.gpr[1] = cx;
    cpu.regs.gpr[0] = 0x4141;
    (cpu, bus)
}

/// The REP instructions checked: every string operation, byte and word,
/// with REP, REPE and REPNE where they differ.
const REPS: &[&[u8]] = &[
    &[0xF3, 0xA4],       // rep movsb
    &[0xF3, 0xA5],       // rep movsw
    &[0xF3, 0xAA],       // rep stosb
    &[0xF3, 0xAB],       // rep stosw
    &[0xF3, 0xAC],       // rep lodsb
    &[0xF3, 0xA6],       // repe cmpsb
    &[0xF2, 0xA7],       // repne cmpsw
    &[0xF3, 0xAE],       // repe scasb: stops at once (ES:0000 is not 41h)
    &[0xF2, 0xAE],       // repne scasb: stops at ES:0005
    &[0x26, 0xF3, 0xA4], // es: rep movsb (two prefixes)
];

/// Run the REP and the two NOPs after it, stopping the REP after every
/// iteration when `split` (the deadline in the past), else whole; returns
/// the state after and how many steps it took.
fn run<T: Timing + Default>(
    model: CpuModel,
    code: &[u8],
    cx: u16,
    split: Option<u64>,
    cache: bool,
    prep: fn(&mut Cpu<T>),
) -> (Cpu<T>, FlatBus, u32) {
    let (mut cpu, mut bus) = setup::<T>(model, code, cx);
    cpu.set_decode_cache(cache);
    prep(&mut cpu);
    let mut steps = 0;
    let mut done = 0;
    while done < 3 {
        if let Some(d) = split {
            cpu.set_rep_deadline(cpu.cycles() + d);
        }
        cpu.step(&mut bus);
        steps += 1;
        if !cpu.in_rep() {
            done += 1;
        }
        assert!(steps < 10_000, "the REP does not end");
    }
    (cpu, bus, steps)
}

/// Run every REP of [`REPS`] whole and stopped at several deadlines and
/// compare registers, clocks, memory and (`log`) the bus cycles.
fn same<T: Timing + Default>(
    name: &str,
    model: CpuModel,
    cache: bool,
    prep: fn(&mut Cpu<T>),
    log: fn(&Cpu<T>) -> Vec<String>,
) {
    for code in REPS {
        for cx in [0u16, 1, 2, 9] {
            let (whole, wbus, wsteps) = run::<T>(model, code, cx, None, cache, prep);
            assert_eq!(wsteps, 3);
            for deadline in [0u64, 30, 100] {
                let (split, sbus, steps) = run::<T>(model, code, cx, Some(deadline), cache, prep);
                let what = format!("{name} {model} {code:02X?} cx={cx} deadline +{deadline}");
                assert_eq!(split.regs, whole.regs, "{what}");
                assert_eq!(split.cycles(), whole.cycles(), "{what}");
                assert_eq!(split.instructions, whole.instructions, "{what}");
                assert!(sbus.mem == wbus.mem, "{what}: memory differs");
                assert_eq!(log(&split), log(&whole), "{what}: bus cycles differ");
                if deadline == 0
                    && cx > 2
                    && matches!(code[code.len() - 1], 0xA4..=0xA5 | 0xAA..=0xAC)
                {
                    // Every iteration but the last ended a step.
                    assert_eq!(steps, 3 + cx as u32 - 1, "{what}");
                }
            }
        }
    }
}

fn no_log<T: Timing>(_: &Cpu<T>) -> Vec<String> {
    Vec::new()
}

#[test]
fn a_rep_continued_after_every_iteration_is_the_whole_rep_clock_for_clock() {
    let log88 = |c: &Cpu<ExactTiming>| c.timing.log().iter().map(|r| format!("{r:?}")).collect();
    for model in [CpuModel::I8088, CpuModel::I8086] {
        same::<ExactTiming>("exact", model, false, |c| c.timing.record(true), log88);
    }
    let log286 =
        |c: &Cpu<Exact286Timing>| c.timing.log().iter().map(|r| format!("{r:?}")).collect();
    same::<Exact286Timing>(
        "exact286",
        CpuModel::I80286,
        false,
        |c| c.timing.record(true),
        log286,
    );
    for cache in [false, true] {
        for model in [CpuModel::I8088, CpuModel::I80186, CpuModel::I80286] {
            same::<FastTiming>("fast", model, cache, |_| {}, no_log);
            same::<CountingTiming>("counting", model, cache, |_| {}, no_log);
        }
    }
}

/// Set up interrupt 8 to an IRET at 0000:0500, run the first iteration of
/// `code` (CX=4) stopped there, deliver the interrupt; returns the CPU and
/// bus with the interrupt entered.
fn interrupt_after_one<T: Timing + Default>(model: CpuModel, code: &[u8]) -> (Cpu<T>, FlatBus) {
    let (mut cpu, mut bus) = setup::<T>(model, code, 4);
    bus.load(0x20, &[0x00, 0x05, 0x00, 0x00]);
    bus.load(0x500, &[0xCF]);
    cpu.regs.flags |= 0x0200; // IF
    cpu.set_rep_deadline(0);
    cpu.step(&mut bus);
    assert!(cpu.in_rep(), "{model}: stopped after one iteration");
    assert_eq!(
        cpu.regs.ip, 0x0100,
        "IP shows the instruction while suspended"
    );
    assert_eq!(cpu.regs.gpr[1], 3);
    assert!(cpu.interrupts_enabled());
    cpu.interrupt(&mut bus, 8);
    assert!(!cpu.in_rep());
    assert_eq!(cpu.regs.seg[1], 0, "{model}: in the handler");
    assert_eq!(cpu.regs.ip, 0x500);
    (cpu, bus)
}

/// The IP pushed by the interrupt entry.
fn pushed_ip<T: Timing>(cpu: &Cpu<T>, bus: &FlatBus) -> u16 {
    let sp = (0x40000 + cpu.regs.gpr[4] as usize) & 0xFFFFF;
    u16::from_le_bytes([bus.mem[sp], bus.mem[sp + 1]])
}

/// Finish: IRET, then run until the instruction after the resumed one.
fn resume<T: Timing + Default>(cpu: &mut Cpu<T>, bus: &mut FlatBus) {
    cpu.set_rep_deadline(u64::MAX);
    cpu.step(bus); // IRET
    cpu.step(bus); // the resumed instruction, whole
}

#[test]
fn an_interrupted_8086_rep_resumes_with_its_last_prefix_only() {
    // The 8086/8088 push the address of the prefix just before the opcode
    // (Intel's 8086 family manual: with several prefixes only the one next
    // to the string operation is "remembered"). ES: REP MOVSB (26 F3 A4)
    // resumes as REP MOVSB: the three bytes left come from DS, not ES.
    for model in [CpuModel::I8088, CpuModel::I80186] {
        let (mut cpu, mut bus) = interrupt_after_one::<FastTiming>(model, &[0x26, 0xF3, 0xA4]);
        assert_eq!(
            pushed_ip(&cpu, &bus),
            0x0101,
            "{model}: the REP prefix's address"
        );
        resume(&mut cpu, &mut bus);
        assert_eq!(cpu.regs.gpr[1], 0, "{model}: the REP ran on");
        assert_eq!(cpu.regs.ip, 0x0103);
        // The first byte came from ES:0000 (zero); the rest from DS:0001.. (1, 2, 3).
        assert_eq!(&bus.mem[0x30000..0x30004], &[0, 1, 2, 3], "{model}");

        // REP ES: MOVSB (F3 26 A4) resumes as ES: MOVSB: one byte, CX left at 2.
        let (mut cpu, mut bus) = interrupt_after_one::<FastTiming>(model, &[0xF3, 0x26, 0xA4]);
        assert_eq!(
            pushed_ip(&cpu, &bus),
            0x0101,
            "{model}: the ES prefix's address"
        );
        resume(&mut cpu, &mut bus);
        assert_eq!(cpu.regs.gpr[1], 3, "{model}: the REP was lost");
        assert_eq!(cpu.regs.ip, 0x0103);
        assert_eq!(cpu.regs.gpr[7], 2, "{model}: one more byte moved");
    }
}

#[test]
fn an_interrupted_286_rep_resumes_with_all_its_prefixes() {
    // The 80286 pushes the address of the first prefix.
    let (mut cpu, mut bus) =
        interrupt_after_one::<FastTiming>(CpuModel::I80286, &[0xF3, 0x26, 0xA4]);
    assert_eq!(pushed_ip(&cpu, &bus), 0x0100);
    resume(&mut cpu, &mut bus);
    assert_eq!(cpu.regs.gpr[1], 0);
    assert_eq!(cpu.regs.ip, 0x0103);
    // All four bytes from ES:0000.. onto themselves: ES:0000..3 stay zero.
    assert_eq!(&bus.mem[0x30000..0x30004], &[0, 0, 0, 0]);
    assert_eq!(cpu.regs.gpr[7], 4);
}

#[test]
fn an_interrupted_single_prefix_rep_finishes_its_count_on_the_exact_model() {
    let (mut cpu, mut bus) = interrupt_after_one::<ExactTiming>(CpuModel::I8088, &[0xF3, 0xA4]);
    assert_eq!(pushed_ip(&cpu, &bus), 0x0100);
    resume(&mut cpu, &mut bus);
    assert_eq!(cpu.regs.gpr[1], 0);
    assert_eq!(cpu.regs.ip, 0x0102);
    assert_eq!(&bus.mem[0x30000..0x30004], &[0, 1, 2, 3]);
}

/// A REP stopped mid-way, saved as its [`cpu::RepState`] with the
/// registers and timing state, restored into a new CPU: the same as the
/// CPU that went on.
fn restores<T: Timing + Default + Clone>(model: CpuModel) {
    for code in REPS {
        let (mut orig, mut bus) = setup::<T>(model, code, 9);
        orig.set_decode_cache(true);
        orig.set_rep_deadline(0);
        orig.step(&mut bus);
        orig.step(&mut bus);
        let Some(state) = orig.rep_state() else {
            // The scan stopped on its first compare: nothing in progress.
            continue;
        };
        let mut copy: Cpu<T> = Cpu::new(model);
        copy.regs = orig.regs;
        copy.timing = orig.timing.clone();
        copy.instructions = orig.instructions;
        copy.set_decode_cache(true);
        copy.set_rep_deadline(0);
        copy.restore_rep(&mut bus.clone(), state).unwrap();
        assert_eq!(copy.rep_state(), Some(state));
        let mut copy_bus = bus.clone();
        for _ in 0..3 {
            orig.step(&mut bus);
            copy.step(&mut copy_bus);
        }
        let what = format!("{model} {code:02X?}");
        assert_eq!(copy.regs, orig.regs, "{what}");
        assert_eq!(copy.cycles(), orig.cycles(), "{what}");
        assert_eq!(copy.instructions, orig.instructions, "{what}");
        assert_eq!(copy.rep_state(), orig.rep_state(), "{what}");
        assert!(copy_bus.mem == bus.mem, "{what}");
    }
}

#[test]
fn a_saved_rep_state_restores_and_continues_alike() {
    restores::<ExactTiming>(CpuModel::I8088);
    restores::<Exact286Timing>(CpuModel::I80286);
    restores::<FastTiming>(CpuModel::I8088);
}

#[test]
fn restoring_a_rep_state_over_other_code_is_refused() {
    let (mut cpu, mut bus) = setup::<FastTiming>(CpuModel::I8088, &[0x90, 0x90], 3);
    let state = cpu::RepState {
        start_ip: 0x0100,
        count: 1,
        trap: false,
        paying: None,
    };
    let err = cpu.restore_rep(&mut bus, state).unwrap_err();
    assert!(err.contains("1000:0100"), "{err}");
    assert!(!cpu.in_rep());
}

/// A [`FlatBus`] that lends no RAM: REP MOVS and STOS move one element at a
/// time through `read` and `write`, the reference for the bulk moves.
struct NoBulk(FlatBus);

impl cpu::Bus for NoBulk {
    fn read(&mut self, addr: u32) -> u8 {
        self.0.read(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.0.write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.0.io_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.0.io_write(port, value)
    }
}

/// A long REP MOVS or STOS stopped at deadlines that fall anywhere in it
/// (the machine's slices): moving the iterations short of the deadline at
/// once must stop at the same iteration boundary, at the same clock, as
/// moving them one by one, and continue alike, step after step. The
/// deadlines are a fixed number of clocks after each step's start, which
/// puts the boundary at every offset within an iteration over the run.
#[test]
fn a_long_rep_stopped_at_deadlines_moves_in_bulk_as_one_by_one() {
    fn go<B: cpu::Bus>(
        model: CpuModel,
        code: &[u8],
        d: u64,
        bus: &mut B,
        cache: bool,
    ) -> Vec<String> {
        // The CPU's registers as `setup` leaves them; memory is `bus`.
        let (mut cpu, _) = setup::<FastTiming>(model, code, 700);
        cpu.set_decode_cache(cache);
        let mut trace = Vec::new();
        let mut done = 0;
        while done < 3 {
            cpu.set_rep_deadline(cpu.cycles() + d);
            cpu.step(bus);
            trace.push(format!(
                "{} {:04X?} {} {}",
                cpu.cycles(),
                cpu.regs.gpr,
                cpu.regs.ip,
                cpu.in_rep()
            ));
            if !cpu.in_rep() {
                done += 1;
            }
            assert!(trace.len() < 5000, "the REP does not end");
        }
        trace
    }
    for model in [CpuModel::I8088, CpuModel::I8086, CpuModel::I80286] {
        for code in [
            &[0xF3u8, 0xA5][..],
            &[0xF3, 0xA4],
            &[0xF3, 0xAB],
            &[0xF3, 0xAA],
        ] {
            for odd in [false, true] {
                // An odd destination costs a word MOVS or STOS on the 8086 more clocks.
                let mut code = code.to_vec();
                if odd {
                    code.splice(0..0, [0x47]); // inc di
                }
                for d in [1u64, 37, 100, 1000, 5003] {
                    for cache in [false, true] {
                        let (_, flat) = setup::<FastTiming>(model, &code, 700);
                        let mut one_by_one = NoBulk(flat.clone());
                        let reference = go(model, &code, d, &mut one_by_one, cache);
                        let mut lent = flat;
                        let bulk = go(model, &code, d, &mut lent, cache);
                        let what = format!("{model} {code:02X?} deadline +{d} cache {cache}");
                        assert_eq!(bulk, reference, "{what}");
                        assert!(lent.mem == one_by_one.0.mem, "{what}: memory differs");
                        // The deadline splits the 700 iterations into several steps
                        // (at least 4 clocks an iteration).
                        let steps = reference.len();
                        if d <= 1000 {
                            assert!(steps > 3 + 700 * 4 / (d as usize + 40), "{what}: {steps}");
                        }
                    }
                }
            }
        }
    }
}
