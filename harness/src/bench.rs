//! `ironpc bench`: run a boot-sector workload on a bare board and report how
//! fast the emulator goes.
//!
//! The board is 1 MiB of RAM with two ports: bytes written to port E9h (the
//! Bochs/QEMU debug console) are collected as the workload's output, and a
//! write to port F4h (QEMU's isa-debug-exit) ends the run. There is no BIOS:
//! the 512-byte image is loaded at 0000:7C00 and started there with CS:IP =
//! 0000:7C00, so a workload must not call BIOS services.
//!
//! The built-in workload is `workloads/mix.bin` (source `workloads/mix.asm`).
//! Each round boots the image on a fresh board; the report sums all rounds.

use anyhow::{bail, Context, Result};
use cpu::{Bus, CountingTiming, Cpu, CpuModel, ExactTiming, FastTiming, Timing};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The built-in `mix` workload (assembled from `workloads/mix.asm`, ROUNDS=20).
pub const MIX: &[u8] = include_bytes!("../workloads/mix.bin");

/// Physical address a boot sector is loaded at.
pub const LOAD_ADDR: u32 = 0x7C00;
/// Port whose writes are the workload's output.
pub const OUTPUT_PORT: u16 = 0xE9;
/// Port whose write ends the run (isa-debug-exit).
pub const EXIT_PORT: u16 = 0xF4;

const RAM_SIZE: usize = 1 << 20;

/// Which timing model accounts for guest time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimingChoice {
    /// [`FastTiming`]: per-instruction clock counts from the 8086 tables.
    Fast,
    /// [`CountingTiming`]: a fixed cost per bus transfer.
    Counting,
    /// [`ExactTiming`]: the 8086/8088 bus interface simulated per clock.
    Exact,
}

impl TimingChoice {
    /// Name as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            TimingChoice::Fast => "fast",
            TimingChoice::Counting => "counting",
            TimingChoice::Exact => "exact",
        }
    }
}

impl FromStr for TimingChoice {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fast" => Ok(TimingChoice::Fast),
            "counting" => Ok(TimingChoice::Counting),
            "exact" => Ok(TimingChoice::Exact),
            _ => bail!("unknown timing model '{s}' (expected fast, exact or counting)"),
        }
    }
}

/// Where the workload comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Workload {
    /// The built-in `mix` workload.
    Mix,
    /// A 512-byte boot-sector image file.
    File(PathBuf),
}

/// What to run, and how.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The workload.
    pub workload: Workload,
    /// Timing model.
    pub timing: TimingChoice,
    /// Times to boot the image (each on a fresh board).
    pub rounds: u32,
    /// CPU model.
    pub model: CpuModel,
    /// Use the decoded-instruction cache.
    pub decode_cache: bool,
    /// Give up on a round after this many instructions.
    pub max_instructions: u64,
    /// Give up once this much wall time has passed (over all rounds).
    pub timeout: Option<Duration>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            workload: Workload::Mix,
            timing: TimingChoice::Fast,
            rounds: 1,
            model: CpuModel::I8088,
            decode_cache: true,
            max_instructions: 10_000_000_000,
            timeout: None,
        }
    }
}

/// Why a round stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The workload wrote this value to the exit port.
    Exit(u8),
    /// The CPU halted (nothing on this board can wake it).
    Halted,
    /// The instruction limit was reached.
    Limit,
    /// The wall-time limit ([`BenchOptions::timeout`]) passed.
    Timeout,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Exit(v) => write!(f, "exit port {EXIT_PORT:02X}h <- {v:#04x}"),
            Stop::Halted => f.write_str("halted"),
            Stop::Limit => f.write_str("instruction limit reached"),
            Stop::Timeout => f.write_str("wall-time limit reached"),
        }
    }
}

/// Results of a benchmark run (all rounds together).
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// What ran.
    pub workload: String,
    /// Timing model used (`fast`, `exact`, or `table` on the 32-bit core).
    pub timing: String,
    /// CPU model used.
    pub model: String,
    /// Rounds run.
    pub rounds: u32,
    /// Guest instructions (a REP-prefixed string instruction counts once).
    pub instructions: u64,
    /// Guest clock cycles, as the timing model counts them.
    pub cycles: u64,
    /// Host wall time spent emulating (loading excluded).
    pub wall: Duration,
    /// Output of the last round (bytes written to port E9h).
    pub output: Vec<u8>,
    /// How the last round stopped.
    pub stop: Stop,
    /// True if every round printed the same output.
    pub outputs_agree: bool,
}

impl BenchReport {
    /// Guest instructions per host second, in millions.
    pub fn mips(&self) -> f64 {
        self.instructions as f64 / self.wall.as_secs_f64().max(1e-9) / 1e6
    }

    /// Guest cycles per host second.
    pub fn cycles_per_second(&self) -> f64 {
        self.cycles as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// The output as text (lossy).
    pub fn output_text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "workload      {}", self.workload)?;
        writeln!(
            f,
            "cpu / timing  {} / {} ({} round{})",
            self.model,
            self.timing,
            self.rounds,
            if self.rounds == 1 { "" } else { "s" }
        )?;
        writeln!(f, "instructions  {}", self.instructions)?;
        writeln!(f, "cycles        {}", self.cycles)?;
        writeln!(f, "wall time     {:.3} s", self.wall.as_secs_f64())?;
        writeln!(f, "speed         {:.1} MIPS", self.mips())?;
        writeln!(
            f,
            "guest clock   {:.1} MHz equivalent ({:.0} cycles/s)",
            self.cycles_per_second() / 1e6,
            self.cycles_per_second()
        )?;
        writeln!(f, "stopped       {}", self.stop)?;
        if !self.outputs_agree {
            writeln!(f, "warning       rounds printed different outputs")?;
        }
        write!(f, "output        {}", self.output_text().escape_debug())
    }
}

/// Read and check a boot-sector image: exactly 512 bytes ending in 55h AAh.
pub fn load_image(path: &Path) -> Result<Vec<u8>> {
    // Bounded, regular files only: /dev/zero or a FIFO is refused at once.
    let bytes = chipset::machine::read_input(path, 64 * 1024, "boot-sector image")
        .with_context(|| format!("cannot read boot-sector image {}", path.display()))?;
    check_image(&bytes).with_context(|| format!("bad boot-sector image {}", path.display()))?;
    Ok(bytes)
}

/// Check that `bytes` is a boot sector: 512 bytes with the 55h AAh signature.
pub fn check_image(bytes: &[u8]) -> Result<()> {
    if bytes.len() != 512 {
        bail!("{} bytes, expected 512", bytes.len());
    }
    if bytes[510..] != [0x55, 0xAA] {
        bail!(
            "no boot signature (bytes 510-511 are {:02X} {:02X}, expected 55 AA)",
            bytes[510],
            bytes[511]
        );
    }
    Ok(())
}

/// The bare board: RAM, the output port and the exit port.
pub struct Board {
    mem: Box<[u8; RAM_SIZE]>,
    /// Bytes written to port E9h.
    pub output: Vec<u8>,
    /// Value written to port F4h, once written.
    pub exit: Option<u8>,
    /// [`Bus::ram_generation`]: only the CPU writes the RAM once the image
    /// is in, so this changes only when a write reaches it through an
    /// alias (an address past the end, which wraps).
    alias_writes: u64,
}

impl Board {
    /// A board with `image` at 0000:7C00.
    pub fn new(image: &[u8]) -> Self {
        let mem: Box<[u8; RAM_SIZE]> = vec![0u8; RAM_SIZE]
            .into_boxed_slice()
            .try_into()
            .expect("RAM_SIZE bytes");
        let mut b = Board {
            mem,
            output: Vec::new(),
            exit: None,
            alias_writes: 0,
        };
        let at = LOAD_ADDR as usize;
        b.mem[at..at + image.len()].copy_from_slice(image);
        b
    }
}

impl Bus for Board {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        self.mem[addr as usize & (RAM_SIZE - 1)]
    }
    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        if addr as usize >= RAM_SIZE {
            self.alias_writes += 1;
        }
        self.mem[addr as usize & (RAM_SIZE - 1)] = value;
    }
    #[inline]
    fn ram_generation(&self) -> Option<u64> {
        Some(self.alias_writes)
    }
    /// The RAM generation alone: this board never asks for a slice to end.
    /// (With it the CPU's run loop compares one number after each
    /// instruction instead of asking for the generation and EFLAGS.)
    #[inline]
    fn slice_events(&self) -> Option<u64> {
        Some(self.alias_writes)
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, port: u16, value: u8) {
        match port {
            OUTPUT_PORT => self.output.push(value),
            EXIT_PORT => self.exit = Some(value),
            _ => {}
        }
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let start = addr as usize;
        self.mem.get_mut(start..start.checked_add(len as usize)?)
    }
    /// All of it: below RAM_SIZE every address is plain memory (the
    /// wrap-around alias lies above).
    #[inline]
    fn ram_direct(&mut self) -> &mut [u8] {
        &mut self.mem[..]
    }
}

/// One round's results.
struct Round {
    instructions: u64,
    cycles: u64,
    wall: Duration,
    output: Vec<u8>,
    stop: Stop,
}

fn run_round<T: Timing + Default>(
    image: &[u8],
    opts: &BenchOptions,
    deadline: Option<Instant>,
) -> Round {
    let mut board = Board::new(image);
    // On the heap, as in a machine: the CPU state stays in memory rather
    // than being split into locals.
    let mut cpu: Box<Cpu<T>> = Box::new(Cpu::new(opts.model));
    cpu.regs.seg = [0; 4];
    cpu.regs.ip = LOAD_ADDR as u16;
    cpu.set_decode_cache(opts.decode_cache);
    let start = Instant::now();
    let mut batches = 0u32;
    let stop = loop {
        // `run` returns after every instruction that could do I/O or halt:
        // the exit port and halts are checked after each of those, the
        // instruction limit between batches.
        cpu.run(&mut board, 1024);
        if cpu.halted() {
            // Nothing on this board raises interrupts: a halt is final.
            break Stop::Halted;
        }
        if let Some(v) = board.exit {
            break Stop::Exit(v);
        }
        if cpu.instructions >= opts.max_instructions {
            break Stop::Limit;
        }
        // The clock is read every 64 batches (at most 64 K instructions).
        batches = batches.wrapping_add(1);
        if batches % 64 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            break Stop::Timeout;
        }
    };
    let wall = start.elapsed();
    Round {
        instructions: cpu.instructions,
        cycles: cpu.cycles(),
        wall,
        output: board.output,
        stop,
    }
}

/// Run the benchmark `opts` describes.
pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    let (name, image) = match &opts.workload {
        Workload::Mix => ("mix (built-in)".to_string(), MIX.to_vec()),
        Workload::File(p) => (p.display().to_string(), load_image(p)?),
    };
    if opts.rounds == 0 {
        bail!("rounds must be at least 1");
    }
    if opts.timing == TimingChoice::Exact && !crate::runner::has_exact_model(opts.model) {
        bail!(
            "the exact timing model simulates the 8086 and 8088 only, not the {}",
            opts.model
        );
    }
    let mut report = BenchReport {
        workload: name,
        timing: opts.timing.name().to_string(),
        model: opts.model.to_string(),
        rounds: opts.rounds,
        instructions: 0,
        cycles: 0,
        wall: Duration::ZERO,
        output: Vec::new(),
        stop: Stop::Limit,
        outputs_agree: true,
    };
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    for i in 0..opts.rounds {
        let r = match opts.timing {
            TimingChoice::Fast => run_round::<FastTiming>(&image, opts, deadline),
            TimingChoice::Counting => run_round::<CountingTiming>(&image, opts, deadline),
            TimingChoice::Exact => run_round::<ExactTiming>(&image, opts, deadline),
        };
        report.instructions += r.instructions;
        report.cycles += r.cycles;
        report.wall += r.wall;
        if i > 0 && r.output != report.output {
            report.outputs_agree = false;
        }
        report.output = r.output;
        report.stop = r.stop;
        if r.stop == Stop::Timeout {
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A boot sector from `code`, padded and signed.
    fn sector(code: &[u8]) -> Vec<u8> {
        let mut s = vec![0u8; 512];
        s[..code.len()].copy_from_slice(code);
        s[510] = 0x55;
        s[511] = 0xAA;
        s
    }

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ironpc-bench-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Prints "ok\n" through port E9h, then exits with 0x2A.
    const HELLO: [u8; 16] = [
        0xB0, b'o', 0xE6, 0xE9, // mov al,'o' ; out e9h,al
        0xB0, b'k', 0xE6, 0xE9, // mov al,'k' ; out e9h,al
        0xB0, b'\n', 0xE6, 0xE9, // mov al,10 ; out e9h,al
        0xB0, 0x2A, 0xE6, 0xF4, // mov al,2Ah ; out f4h,al
    ];

    #[test]
    fn runs_an_image_file_to_its_exit_port() {
        let p = temp_file("hello.img", &sector(&HELLO));
        let opts = BenchOptions {
            workload: Workload::File(p.clone()),
            ..Default::default()
        };
        let r = run(&opts).unwrap();
        std::fs::remove_file(&p).ok();
        assert_eq!(r.output_text(), "ok\n");
        assert_eq!(r.stop, Stop::Exit(0x2A));
        assert_eq!(r.instructions, 8);
        let text = r.to_string();
        assert!(text.contains("MIPS") && text.contains("ok\\n"), "{text}");
    }

    #[test]
    fn hlt_stops_the_run() {
        // cli ; mov al,'h' ; out e9h,al ; hlt
        let r = run_image(&sector(&[0xFA, 0xB0, b'h', 0xE6, 0xE9, 0xF4]));
        assert_eq!(r.stop, Stop::Halted);
        assert_eq!(r.output, b"h");
        assert_eq!(r.instructions, 4);
    }

    fn run_image(img: &[u8]) -> BenchReport {
        let p = temp_file(
            &format!("img-{}.img", img.iter().map(|&b| b as u32).sum::<u32>()),
            img,
        );
        let r = run(&BenchOptions {
            workload: Workload::File(p.clone()),
            ..Default::default()
        })
        .unwrap();
        std::fs::remove_file(&p).ok();
        r
    }

    #[test]
    fn mix_checksums_do_not_depend_on_timing_model_or_cache() {
        let mut outputs = Vec::new();
        let mut counts = Vec::new();
        for timing in [
            TimingChoice::Fast,
            TimingChoice::Counting,
            TimingChoice::Exact,
        ] {
            for decode_cache in [true, false] {
                let r = run(&BenchOptions {
                    timing,
                    decode_cache,
                    ..Default::default()
                })
                .unwrap();
                assert_eq!(r.stop, Stop::Exit(0));
                assert!(r.cycles > r.instructions);
                outputs.push(r.output);
                counts.push(r.instructions);
            }
        }
        let text = String::from_utf8(outputs[0].clone()).unwrap();
        let fields: Vec<&str> = text.trim_end().split(' ').collect();
        assert!(
            text.ends_with('\n') && fields.len() == 3 && fields[0] == "mix",
            "{text:?}"
        );
        assert!(fields[1..]
            .iter()
            .all(|f| f.len() == 4 && f.chars().all(|c| c.is_ascii_hexdigit())));
        assert!(outputs.iter().all(|o| *o == outputs[0]));
        assert!(counts.iter().all(|c| *c == counts[0]));
    }

    /// Unrecorded, the exact model passes over uneventful clocks in bulk,
    /// and here takes instructions from the decode cache; on a long program
    /// (the first 300,000 instructions of `mix`, interrupts off) it must
    /// count the same clocks and reach the same state as when it simulates
    /// and records every clock and decodes every instruction.
    #[test]
    fn exact_model_counts_the_same_clocks_unrecorded() {
        for model in [CpuModel::I8088, CpuModel::I8086] {
            let run = |record: bool| {
                let mut board = Board::new(MIX);
                let mut cpu: Cpu<ExactTiming> = Cpu::new(model);
                cpu.regs.seg = [0; 4];
                cpu.regs.ip = LOAD_ADDR as u16;
                cpu.set_decode_cache(!record);
                let mut marks = Vec::new();
                for i in 0..300_000u32 {
                    if i % 1000 == 0 {
                        // Keeps the log short; recording restarts empty.
                        cpu.timing.record(record);
                        marks.push((cpu.cycles(), cpu.regs));
                    }
                    cpu.step(&mut board);
                }
                marks.push((cpu.cycles(), cpu.regs));
                (marks, board.mem.to_vec())
            };
            let (recorded, mem_recorded) = run(true);
            let (quiet, mem_quiet) = run(false);
            assert!(recorded.last().unwrap().0 > 3_000_000, "{model}");
            for (i, (r, q)) in recorded.iter().zip(&quiet).enumerate() {
                assert_eq!(r, q, "{model}: after {} instructions", i * 1000);
            }
            assert!(mem_recorded == mem_quiet, "{model}: memory differs");
        }
    }

    #[test]
    fn rounds_repeat_the_image() {
        let one = run(&BenchOptions::default()).unwrap();
        let two = run(&BenchOptions {
            rounds: 2,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(two.instructions, 2 * one.instructions);
        assert_eq!(two.cycles, 2 * one.cycles);
        assert!(two.outputs_agree);
        assert_eq!(two.output, one.output);
    }

    #[test]
    fn bad_images_are_named_in_the_error() {
        let missing = std::env::temp_dir().join("ironpc-bench-no-such-image.img");
        let e = format!("{:#}", load_image(&missing).unwrap_err());
        assert!(e.contains("ironpc-bench-no-such-image.img"), "{e}");

        let short = temp_file("short.img", &[0x90; 100]);
        let e = format!(
            "{:#}",
            run(&BenchOptions {
                workload: Workload::File(short.clone()),
                ..Default::default()
            })
            .unwrap_err()
        );
        std::fs::remove_file(&short).ok();
        assert!(e.contains("short.img") && e.contains("100 bytes"), "{e}");

        let mut unsigned = sector(&HELLO);
        unsigned[511] = 0;
        let p = temp_file("unsigned.img", &unsigned);
        let e = format!("{:#}", load_image(&p).unwrap_err());
        std::fs::remove_file(&p).ok();
        assert!(e.contains("unsigned.img") && e.contains("signature"), "{e}");
    }

    #[test]
    fn exact_timing_runs_the_8086_family_only() {
        let r = run(&BenchOptions {
            timing: TimingChoice::Exact,
            model: CpuModel::I8086,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.stop, Stop::Exit(0));
        assert_eq!(r.timing, "exact");
        assert!(r.to_string().contains("cpu / timing  8086 / exact"), "{r}");
        let e = run(&BenchOptions {
            timing: TimingChoice::Exact,
            model: CpuModel::I80286,
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().contains("8086 and 8088 only"), "{e}");
    }

    #[test]
    fn timing_names_parse() {
        assert_eq!("fast".parse::<TimingChoice>().unwrap(), TimingChoice::Fast);
        assert_eq!(
            "exact".parse::<TimingChoice>().unwrap(),
            TimingChoice::Exact
        );
        assert_eq!(
            " Counting".parse::<TimingChoice>().unwrap(),
            TimingChoice::Counting
        );
        assert!("warp".parse::<TimingChoice>().is_err());
        assert!(check_image(MIX).is_ok());
    }
}
