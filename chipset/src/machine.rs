//! The PC/XT motherboard ([`Board`]: memory map, I/O decode, chips and
//! devices) and the [`Machine`] that drives a CPU over it.

use crate::dma::{Dma8237, TransferType};
use crate::pic::Pic8259;
use crate::pit::Pit;
use crate::ppi::{pb, Ppi8255};
use crate::profile::{MachineError, MachineProfile, Overrides};
use crate::scheduler::{Event, Scheduler};
use cpu::{Bus, Cpu, CpuModel, FastTiming, StepResult, Timing};
use devices::{DebugPorts, Fdc, FloppyImage, Speaker, Uart8250, Video, VideoKind, XtKeyboard};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// A ROM mapped into the memory space.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rom {
    /// First physical address.
    pub base: u32,
    /// Contents.
    pub data: Vec<u8>,
    /// Where it came from.
    pub path: PathBuf,
}

/// One I/O access, for diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoAccess {
    /// Time (CPU cycles).
    pub time: u64,
    /// Port.
    pub port: u16,
    /// Value read or written.
    pub value: u8,
    /// True for a write.
    pub write: bool,
}

/// How many recent I/O accesses [`Board::io_log`] keeps when enabled.
pub const IO_LOG_LEN: usize = 256;

/// The motherboard and its devices. Implements [`cpu::Bus`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Board {
    /// Clock and event deadlines.
    pub sched: Scheduler,
    /// Conventional memory from address 0.
    pub ram: Vec<u8>,
    /// ROMs (BIOS last).
    pub roms: Vec<Rom>,
    /// Interrupt controller (ports 20h–21h).
    pub pic: Pic8259,
    /// Interval timer (ports 40h–43h).
    pit: Pit,
    /// DMA controller (ports 00h–0Fh, pages 80h–8Fh).
    pub dma: Dma8237,
    /// Peripheral interface (ports 60h–63h).
    pub ppi: Ppi8255,
    /// NMI mask register (port A0h; bit 7 enables NMI).
    pub nmi_mask: u8,
    /// Display adapter.
    pub video: Video,
    /// Keyboard.
    pub keyboard: XtKeyboard,
    /// Floppy controller (ports 3F0h–3F7h).
    pub fdc: Fdc,
    /// COM1 (ports 3F8h–3FFh).
    pub uart: Uart8250,
    /// Debug console (E9h) and exit port (F4h).
    pub debug: DebugPorts,
    /// PC speaker.
    pub speaker: Speaker,
    /// Record I/O accesses in [`Board::io_log`].
    pub log_io: bool,
    /// The most recent I/O accesses (when `log_io` is set).
    #[serde(skip)]
    pub io_log: VecDeque<IoAccess>,
    /// Last POST code written to port 80h.
    pub post_code: u8,
    /// CPU cycles the CPU spent waiting (DMA holding the bus, I/O wait
    /// states) that are not yet charged to the clock.
    pub wait_cycles: u64,
    last_out: [bool; 3],
    /// PIT input clocks known to pass without a load or output change
    /// ([`Pit::quiet_clocks`]) from the clock `pit_pending` has reached; 0
    /// when not known.
    #[serde(skip)]
    pit_quiet: u64,
    /// PIT input clocks passed but not yet counted down in `pit`: quiet
    /// clocks are counted down only when the PIT is looked at, written, or
    /// the quiet span ends.
    #[serde(default)]
    pit_pending: u64,
    /// Lowest and highest address DMA wrote since
    /// [`Board::take_dma_written`] was last called.
    #[serde(skip)]
    dma_written: Option<(u32, u32)>,
}

/// CPU clocks a DMA refresh cycle holds the bus (IBM's figures: four
/// clocks, 840 ns); the CPU cannot use the bus meanwhile.
pub const REFRESH_CYCLE_CLOCKS: u64 = 4;
/// CPU clocks a DMA data transfer (a floppy byte) holds the bus: five.
pub const DMA_TRANSFER_CLOCKS: u64 = 5;
/// Wait states the PC/XT motherboard adds to every I/O bus cycle (I/O
/// cycles take five clocks where memory cycles take four).
pub const IO_WAIT_STATES: u64 = 1;

impl Board {
    /// A board with `ram_kib` KiB of RAM, the given adapter and drives, and
    /// no ROMs.
    pub fn new(
        ram_kib: u32,
        video: VideoKind,
        drives: &[devices::DriveType],
        pit_8254: bool,
    ) -> Self {
        let mut b = Board {
            sched: Scheduler::new(),
            ram: vec![0; ram_kib as usize * 1024],
            roms: Vec::new(),
            pic: Pic8259::new(),
            pit: Pit::new(pit_8254),
            dma: Dma8237::new(),
            ppi: Ppi8255::new(Ppi8255::xt_switches(drives.len(), video == VideoKind::Mda)),
            nmi_mask: 0,
            video: Video::new(video),
            keyboard: XtKeyboard::new(),
            fdc: Fdc::new(drives),
            uart: Uart8250::new(),
            debug: DebugPorts::default(),
            speaker: Speaker::default(),
            log_io: false,
            io_log: VecDeque::new(),
            post_code: 0,
            wait_cycles: 0,
            last_out: [false; 3],
            pit_quiet: 0,
            pit_pending: 0,
            dma_written: None,
        };
        b.last_out = [b.pit.out(0), b.pit.out(1), b.pit.out(2)];
        b
    }

    /// Map a ROM at `base`.
    pub fn map_rom(&mut self, base: u32, data: Vec<u8>, path: PathBuf) {
        self.roms.push(Rom { base, data, path });
    }

    /// Current time in CPU cycles.
    pub fn now(&self) -> u64 {
        self.sched.now
    }

    /// Read memory (20-bit physical address; unmapped space reads FFh).
    #[inline]
    pub fn mem_read(&self, addr: u32) -> u8 {
        let a = addr & 0xF_FFFF;
        if (a as usize) < self.ram.len() {
            return self.ram[a as usize];
        }
        let (vbase, vlen) = self.video.memory_window();
        if a >= vbase && a < vbase + vlen {
            return self.video.mem_read(a - vbase);
        }
        for r in &self.roms {
            if a >= r.base && ((a - r.base) as usize) < r.data.len() {
                return r.data[(a - r.base) as usize];
            }
        }
        0xFF
    }

    /// Write memory (ROM and unmapped space ignore writes).
    #[inline]
    pub fn mem_write(&mut self, addr: u32, v: u8) {
        let a = addr & 0xF_FFFF;
        if (a as usize) < self.ram.len() {
            self.ram[a as usize] = v;
            return;
        }
        let (vbase, vlen) = self.video.memory_window();
        if a >= vbase && a < vbase + vlen {
            self.video.mem_write(a - vbase, v);
        }
    }

    fn log(&mut self, port: u16, value: u8, write: bool) {
        if self.log_io {
            if self.io_log.len() >= IO_LOG_LEN {
                self.io_log.pop_front();
            }
            self.io_log.push_back(IoAccess {
                time: self.sched.now,
                port,
                value,
                write,
            });
        }
    }

    /// Read an I/O port.
    pub fn port_read(&mut self, port: u16) -> u8 {
        self.wait_cycles += IO_WAIT_STATES;
        let now = self.sched.now;
        let v = match port {
            0x00..=0x0F => self.dma.read(port),
            0x20..=0x21 => self.pic.read(port & 1 != 0),
            0x40..=0x43 => {
                self.settle_pit();
                self.pit.read(port & 3)
            }
            0x60 => self.ppi.read_port_a(self.keyboard.data()),
            0x61 => self.ppi.port_b,
            0x62 => self.ppi.read_port_c(self.pit.out(2)),
            0x80..=0x8F => self.dma.read_page(port),
            0xA0 => self.nmi_mask,
            0xE9 => self.debug.io_read(port).unwrap_or(0xFF),
            0x3F0..=0x3F7 => {
                let v = self.fdc.io_read(port);
                self.update_irqs();
                v
            }
            0x3F8..=0x3FF => {
                let v = self.uart.read(port & 7);
                self.update_irqs();
                v
            }
            p if self.video.claims_port(p) => self.video.io_read(p, now),
            _ => 0xFF,
        };
        self.log(port, v, false);
        v
    }

    /// Write an I/O port.
    pub fn port_write(&mut self, port: u16, v: u8) {
        self.wait_cycles += IO_WAIT_STATES;
        self.log(port, v, true);
        let now = self.sched.now;
        match port {
            0x00..=0x0F => {
                self.dma.write(port, v);
                self.service_dma();
            }
            0x20..=0x21 => self.pic.write(port & 1 != 0, v),
            0x40..=0x43 => {
                self.settle_pit();
                self.pit.write(port & 3, v);
                self.pit_quiet = 0;
                self.sync_pit_outputs();
            }
            0x61 => self.write_port_b(v),
            0x63 => self.ppi.write_control(v),
            0x80..=0x8F => {
                if port == 0x80 {
                    self.post_code = v;
                }
                self.dma.write_page(port, v);
            }
            0xA0 => self.nmi_mask = v,
            0xE9 | 0xF4 => {
                self.debug.io_write(port, v);
            }
            0x3F0..=0x3F7 => {
                self.fdc.io_write(port, v, now);
                self.sched.set(Event::Floppy, self.fdc.next_event());
                self.service_dma();
            }
            0x3F8..=0x3FF => {
                self.uart.write(port & 7, v);
                self.update_irqs();
            }
            p if self.video.claims_port(p) => self.video.io_write(p, v),
            _ => {}
        }
    }

    fn write_port_b(&mut self, v: u8) {
        self.ppi.port_b = v;
        self.settle_pit();
        self.pit.set_gate(2, v & pb::TIMER2_GATE != 0);
        self.pit_quiet = 0;
        self.sync_pit_outputs();
        let now = self.sched.now;
        self.keyboard
            .set_control(now, v & pb::KBD_CLOCK != 0, v & pb::KBD_CLEAR != 0);
        self.sched.set(Event::Keyboard, self.keyboard.next_event());
        self.update_irqs();
    }

    /// Pass device interrupt lines to the PIC.
    fn update_irqs(&mut self) {
        self.pic.set_irq(1, self.keyboard.irq());
        self.pic.set_irq(4, self.uart.irq());
        self.pic.set_irq(6, self.fdc.irq());
    }

    /// React to PIT output changes: IRQ 0, DRAM refresh (DMA channel 0), speaker.
    #[inline]
    /// The memory DMA wrote since the last call, as (lowest, highest)
    /// address: a CPU with a decode cache must forget code there.
    pub fn take_dma_written(&mut self) -> Option<(u32, u32)> {
        self.dma_written.take()
    }

    /// Count down the quiet PIT clocks passed so far.
    fn settle_pit(&mut self) {
        if self.pit_pending > 0 {
            self.pit.count_down(self.pit_pending as u32);
            self.pit_pending = 0;
        }
    }

    /// The interval timer as it is now.
    pub fn pit(&self) -> Pit {
        let mut p = self.pit.clone();
        p.count_down(self.pit_pending as u32);
        p
    }

    fn sync_pit_outputs(&mut self) {
        let o0 = self.pit.out(0);
        if o0 != self.last_out[0] {
            self.last_out[0] = o0;
            self.pic.set_irq(0, o0);
        }
        let o1 = self.pit.out(1);
        if o1 != self.last_out[1] {
            self.last_out[1] = o1;
            // Counter 1's output requests a refresh cycle on DMA channel 0.
            if o1 && self.dma.channel_ready(0) {
                self.dma.next_transfer(0);
                self.wait_cycles += REFRESH_CYCLE_CLOCKS;
            }
        }
        let o2 = self.pit.out(2);
        if o2 != self.last_out[2] {
            self.last_out[2] = o2;
        }
        let b = self.ppi.port_b;
        self.speaker
            .update(b & pb::TIMER2_GATE != 0, b & pb::SPEAKER != 0, o2);
    }

    /// Move bytes between the floppy controller and memory while it requests DMA.
    pub fn service_dma(&mut self) {
        while self.fdc.drq() && self.dma.channel_ready(2) {
            let t = self.dma.next_transfer(2);
            match t.kind {
                TransferType::Write => {
                    let b = self.fdc.dma_read();
                    self.mem_write(t.address, b);
                    let a = t.address;
                    self.dma_written = Some(match self.dma_written {
                        Some((lo, hi)) => (lo.min(a), hi.max(a)),
                        None => (a, a),
                    });
                }
                TransferType::Read => {
                    let b = self.mem_read(t.address);
                    self.fdc.dma_write(b);
                }
                _ => {
                    self.fdc.dma_read();
                }
            }
            if t.terminal_count {
                self.fdc.terminal_count();
            }
            self.wait_cycles += DMA_TRANSFER_CLOCKS;
        }
        self.update_irqs();
    }

    /// Let `cycles` CPU cycles pass: clock the PIT and run due events.
    pub fn advance(&mut self, cycles: u64) {
        let mut ticks = self.sched.advance(cycles);
        while ticks > 0 {
            // Clocks in which the counters only count down pass in one step;
            // a clock that loads a counter or moves an output is clocked.
            if self.pit_quiet == 0 {
                self.settle_pit();
                self.pit_quiet = self.pit.quiet_clocks() as u64;
            }
            let quiet = self.pit_quiet.min(ticks);
            if quiet > 0 {
                self.pit_pending += quiet;
                self.pit_quiet -= quiet;
                ticks -= quiet;
            } else {
                self.pit.clock();
                ticks -= 1;
                self.sync_pit_outputs();
            }
        }
        while let Some(ev) = self.sched.pop_due() {
            let now = self.sched.now;
            match ev {
                Event::Keyboard => {
                    self.keyboard.tick(now);
                    self.sched.set(Event::Keyboard, self.keyboard.next_event());
                }
                Event::Floppy => {
                    self.fdc.tick(now);
                    self.sched.set(Event::Floppy, self.fdc.next_event());
                }
            }
            self.update_irqs();
        }
    }

    /// Queue keystrokes (see [`XtKeyboard::type_text`]).
    pub fn type_keys(&mut self, text: &str) -> Result<(), devices::keyboard::UnknownKey> {
        self.keyboard.type_text(text)?;
        self.sched.set(Event::Keyboard, self.keyboard.next_event());
        Ok(())
    }
}

impl Bus for Board {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        self.mem_read(addr)
    }
    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        self.mem_write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.port_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.port_write(port, value)
    }
    fn inta(&mut self) -> u8 {
        self.pic.acknowledge()
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        // Conventional memory is plain RAM; video memory and ROM are not.
        let start = addr as usize;
        self.ram.get_mut(start..start.checked_add(len as usize)?)
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStop {
    /// The requested time passed.
    Cycles,
    /// The condition of [`Machine::run_until`] became true.
    Condition,
    /// Software asked to exit through port F4h (the exit status).
    Exit(i32),
}

/// CPU cycles that pass per step while the CPU is halted.
const HALT_STEP: u64 = 64;

/// A complete PC: CPU and board, the CPU timed by `T` (the fast model by
/// default; [`cpu::ExactTiming`] simulates every bus cycle).
#[derive(Clone, Debug)]
pub struct Machine<T: Timing = FastTiming> {
    /// The processor.
    pub cpu: Cpu<T>,
    /// Everything else.
    pub board: Board,
    /// The profile it was built from (paths resolved).
    pub profile: MachineProfile,
    last_cpu_cycles: u64,
}

/// A saved machine: CPU registers and the whole board (RAM, ROMs, every
/// chip and device, inserted disks). Serializable with serde.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MachineState {
    /// The profile the machine was built from.
    pub profile: MachineProfile,
    /// CPU registers.
    pub regs: cpu::Registers,
    /// The CPU was halted (HLT) when saved.
    pub halted: bool,
    /// Everything but the CPU.
    pub board: Board,
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn read_rom(path: &Path) -> Result<Vec<u8>, MachineError> {
    std::fs::read(path).map_err(|source| MachineError::RomIo {
        path: path.to_path_buf(),
        source,
    })
}

impl Machine {
    /// Build a machine with the fast timing model from a profile file, with
    /// overrides (see [`Machine::from_profile_timed`]).
    pub fn from_profile(path: &Path, overrides: &Overrides) -> Result<Machine, MachineError> {
        Self::from_profile_timed(path, overrides)
    }

    /// Build a machine with the fast timing model from a parsed profile.
    pub fn from_config(
        profile: MachineProfile,
        overrides: &Overrides,
    ) -> Result<Machine, MachineError> {
        Self::from_config_timed(profile, overrides)
    }

    /// Rebuild a machine with the fast timing model from a saved state.
    pub fn from_state(state: MachineState) -> Result<Machine, MachineError> {
        Self::from_state_timed(state)
    }
}

impl<T: Timing + Default> Machine<T> {
    /// Build a machine timed by `T` from a profile file, with overrides.
    /// Relative paths in the profile are relative to its directory; override
    /// paths are used as given. The profile's timing model (after the
    /// overrides) must be `T`'s.
    pub fn from_profile_timed(
        path: &Path,
        overrides: &Overrides,
    ) -> Result<Machine<T>, MachineError> {
        let mut profile = MachineProfile::load(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        profile.bios = resolve(base, &profile.bios);
        for f in &mut profile.floppies {
            if let Some(img) = &f.image {
                f.image = Some(resolve(base, img));
            }
        }
        for r in &mut profile.roms {
            r.path = resolve(base, &r.path);
        }
        Self::from_config_timed(profile, overrides)
    }

    /// Build a machine timed by `T` from a parsed profile (paths used as they are).
    pub fn from_config_timed(
        mut profile: MachineProfile,
        overrides: &Overrides,
    ) -> Result<Machine<T>, MachineError> {
        if let Some(t) = &overrides.timing {
            profile.timing = t.clone();
        }
        if let Some(b) = &overrides.bios {
            profile.bios = b.clone();
        }
        if let Some(r) = overrides.ram_kib {
            profile.ram_kib = r;
        }
        if let Some(v) = overrides.video {
            profile.video = v;
        }
        for (drive, img) in &overrides.floppies {
            let drives = profile.floppies.len();
            let d = profile
                .floppies
                .get_mut(*drive)
                .ok_or_else(|| MachineError::NoSuchDrive {
                    drive: *drive,
                    drives,
                    path: img.clone(),
                })?;
            d.image = Some(img.clone());
        }
        if overrides.writable {
            for d in &mut profile.floppies {
                d.writable = true;
            }
        }
        let name = PathBuf::from(profile.name.clone().unwrap_or_else(|| "profile".into()));
        profile.validate(&name)?;
        check_timing::<T>(&profile, &name)?;
        let model: CpuModel = profile.cpu.parse().expect("validated");

        let drives: Vec<_> = profile.floppies.iter().map(|f| f.kind).collect();
        let mut board = Board::new(profile.ram_kib, profile.video, &drives, profile.pit_8254);

        for r in &profile.roms {
            let data = read_rom(&r.path)?;
            if data.is_empty() || r.address as usize + data.len() > 0x10_0000 {
                return Err(MachineError::RomSize {
                    path: r.path.clone(),
                    size: data.len(),
                    expected: format!("it must fit in memory from {:05X}h", r.address),
                });
            }
            board.map_rom(r.address, data, r.path.clone());
        }
        let bios = read_rom(&profile.bios)?;
        if bios.is_empty() || bios.len() % 2048 != 0 || bios.len() > 0x10000 {
            return Err(MachineError::RomSize {
                path: profile.bios.clone(),
                size: bios.len(),
                expected: "a BIOS ROM must be a multiple of 2 KiB and at most 64 KiB".into(),
            });
        }
        let base = 0x10_0000 - bios.len() as u32;
        board.map_rom(base, bios, profile.bios.clone());

        for (i, f) in profile.floppies.iter().enumerate() {
            if let Some(img) = &f.image {
                board
                    .fdc
                    .insert(i, Some(FloppyImage::open(img, f.writable)?));
            }
        }
        Ok(Machine {
            cpu: machine_cpu(model),
            board,
            profile,
            last_cpu_cycles: 0,
        })
    }

    /// Rebuild a machine timed by `T` from a saved state. The CPU restarts
    /// from the saved registers; a CPU saved while halted resumes at the
    /// instruction after its HLT (the CPU API cannot re-enter the halted
    /// state), and the one-instruction interrupt shadow is not kept.
    pub fn from_state_timed(state: MachineState) -> Result<Machine<T>, MachineError> {
        let path = PathBuf::from(state.profile.name.clone().unwrap_or_default());
        state.profile.validate(&path)?;
        check_timing::<T>(&state.profile, &path)?;
        let model: CpuModel = state.profile.cpu.parse().expect("validated");
        let mut cpu = machine_cpu(model);
        cpu.regs = state.regs;
        Ok(Machine {
            cpu,
            board: state.board,
            profile: state.profile,
            last_cpu_cycles: 0,
        })
    }
}

/// A machine's CPU: with the decoded-instruction cache on (the board
/// reports memory that DMA writes, see [`Board::take_dma_written`]).
fn machine_cpu<T: Timing + Default>(model: CpuModel) -> Cpu<T> {
    let mut cpu = Cpu::new(model);
    cpu.set_decode_cache(true);
    cpu
}

/// The profile's timing model must be the one the machine is built with.
fn check_timing<T: Timing>(profile: &MachineProfile, path: &Path) -> Result<(), MachineError> {
    if profile.timing != T::NAME {
        return Err(MachineError::ProfileValue {
            path: path.to_path_buf(),
            message: format!(
                "the profile asks for the '{}' timing model but the machine is built with '{}'",
                profile.timing,
                T::NAME
            ),
        });
    }
    Ok(())
}

impl<T: Timing> Machine<T> {
    /// Save the machine's state.
    pub fn save_state(&self) -> MachineState {
        MachineState {
            profile: self.profile.clone(),
            regs: self.cpu.regs,
            halted: self.cpu.halted(),
            board: self.board.clone(),
        }
    }

    /// Take the CPU's clock as it is now as the point the board's clock
    /// follows from: after the CPU (or its timing model) was replaced by
    /// one restored from a snapshot, whose count did not start at zero.
    pub fn resync_cpu_clock(&mut self) {
        self.last_cpu_cycles = self.cpu.cycles();
    }

    /// Insert (or remove) a disk in drive `n`.
    pub fn insert_floppy(&mut self, n: usize, image: Option<FloppyImage>) {
        self.board.fdc.insert(n, image);
    }

    /// Current time in CPU cycles since power-on.
    pub fn cycles(&self) -> u64 {
        self.board.now()
    }

    /// Execute one instruction (or let a halted CPU wait a little), taking
    /// a pending interrupt first when the CPU accepts it.
    pub fn step(&mut self) {
        // Decoded instructions over memory DMA replaced are stale.
        if let Some((lo, hi)) = self.board.take_dma_written() {
            self.cpu.invalidate_code(lo, hi - lo + 1);
        }
        if self.board.pic.int_pending() && self.cpu.interrupts_enabled() {
            let v = self.board.pic.acknowledge();
            self.cpu.interrupt(&mut self.board, v);
        }
        let r = if self.cpu.halted() {
            StepResult::Halted
        } else {
            self.cpu.step(&mut self.board)
        };
        let c = self.cpu.cycles();
        let spent = c.wrapping_sub(self.last_cpu_cycles);
        self.last_cpu_cycles = c;
        if r == StepResult::Halted && spent == 0 {
            self.board.advance(HALT_STEP);
            // A halted CPU does not notice the bus being borrowed.
            self.board.wait_cycles = 0;
        } else {
            // Every instruction takes time; never let the clock stand still.
            self.board.advance(spent.max(1));
        }
        // The CPU waited while DMA cycles held the bus and during I/O wait states.
        let stall = std::mem::take(&mut self.board.wait_cycles);
        if stall > 0 {
            self.board.advance(stall);
        }
    }

    /// Run for `cycles` CPU cycles (or until software requests an exit).
    pub fn run_for(&mut self, cycles: u64) -> RunStop {
        let end = self.cycles() + cycles;
        while self.cycles() < end {
            if let Some(code) = self.board.debug.exit {
                return RunStop::Exit(code);
            }
            self.step();
        }
        match self.board.debug.exit {
            Some(code) => RunStop::Exit(code),
            None => RunStop::Cycles,
        }
    }

    /// Run until `cond` holds (checked every few thousand cycles) or
    /// software requests an exit. Put a time limit in `cond` (for example
    /// `m.cycles() > limit`) or use [`Machine::run_until_within`].
    pub fn run_until(&mut self, cond: impl FnMut(&Machine<T>) -> bool) -> RunStop {
        self.run_until_within(u64::MAX, cond)
    }

    /// Run until `cond` holds (checked every few thousand cycles), at most
    /// `max_cycles`, or until an exit request.
    pub fn run_until_within(
        &mut self,
        max_cycles: u64,
        mut cond: impl FnMut(&Machine<T>) -> bool,
    ) -> RunStop {
        const CHECK: u64 = 4096;
        let end = self.cycles().saturating_add(max_cycles);
        loop {
            if cond(self) {
                return RunStop::Condition;
            }
            let now = self.cycles();
            if now >= end {
                return RunStop::Cycles;
            }
            if let RunStop::Exit(c) = self.run_for(CHECK.min(end - now)) {
                return RunStop::Exit(c);
            }
        }
    }

    /// The text screen (see [`Video::screen_text`]).
    pub fn screen_text(&self) -> String {
        self.board.video.screen_text()
    }

    /// The rendered display: (width, height, RGB bytes).
    pub fn framebuffer(&mut self) -> (usize, usize, &[u8]) {
        self.board.video.framebuffer()
    }

    /// Type text and key names (`<enter>`, `<f1>`, `<ctrl+c>`...).
    pub fn type_keys(&mut self, text: &str) -> Result<(), devices::keyboard::UnknownKey> {
        self.board.type_keys(text)
    }

    /// Bytes written to the debug console port E9h.
    pub fn debugcon_output(&self) -> &[u8] {
        &self.board.debug.console
    }

    /// Bytes sent out of COM1.
    pub fn serial_output(&self) -> &[u8] {
        &self.board.uart.tx
    }

    /// The exit status requested through port F4h, if any.
    pub fn exit_request(&self) -> Option<i32> {
        self.board.debug.exit
    }

    /// Signal a non-maskable interrupt (a parity or I/O channel check).
    /// It reaches the CPU only while the NMI mask register (A0h) has bit 7
    /// set; returns whether it did.
    pub fn raise_nmi(&mut self) -> bool {
        if self.board.nmi_mask & 0x80 != 0 {
            self.cpu.nmi(&mut self.board);
            true
        } else {
            false
        }
    }

    /// CS:IP of the next instruction.
    pub fn cs_ip(&self) -> (u16, u16) {
        (self.cpu.regs.seg[cpu::Seg::CS as usize], self.cpu.regs.ip)
    }
}

impl<T: Timing> Bus for Machine<T> {
    fn read(&mut self, addr: u32) -> u8 {
        self.board.mem_read(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        // Written from outside the CPU (a loader, a debugger): the CPU's
        // decoded copy of that byte, if any, is stale.
        self.board.mem_write(addr, value);
        self.cpu.invalidate_code(addr, 1);
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.board.port_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.board.port_write(port, value)
    }
    fn inta(&mut self) -> u8 {
        self.board.pic.acknowledge()
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        self.board.ram_mut(addr, len)
    }
}
