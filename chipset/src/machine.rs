//! The PC/XT motherboard ([`Board`]: memory map, I/O decode, chips and
//! devices) and the [`Machine`] that drives a CPU over it.

use crate::dma::{Dma8237, TransferType};
use crate::pic::Pic8259;
use crate::pit::Pit;
use crate::ppi::{pb, Ppi8255};
use crate::profile::{MachineError, MachineProfile, Overrides};
use crate::scheduler::{Event, Scheduler, Timed};
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
    /// While counter 1 runs steadily (the refresh timer, see
    /// [`Pit::steady_period`]), its period: it is then left out of
    /// `pit_quiet`, its pending clocks are applied modulo the period, and
    /// its rising edges (refresh cycles) are counted, not clocked.
    #[serde(default)]
    c1_period: Option<u32>,
    /// PIT clocks from the clock `pit_pending` has reached to counter 1's
    /// next rising edge, while `c1_period` is set.
    #[serde(default)]
    c1_to_edge: u64,
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
            c1_period: None,
            c1_to_edge: 0,
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
        match self.ram.get((addr & 0xF_FFFF) as usize) {
            Some(&b) => b,
            None => self.mem_read_above_ram(addr & 0xF_FFFF),
        }
    }

    /// Video memory, ROM or unmapped space: kept out of line, so that the
    /// CPU's memory accesses inline only the RAM case.
    #[inline(never)]
    fn mem_read_above_ram(&self, a: u32) -> u8 {
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
        match self.ram.get_mut((addr & 0xF_FFFF) as usize) {
            Some(b) => *b = v,
            None => self.mem_write_above_ram(addr & 0xF_FFFF, v),
        }
    }

    /// Video memory, ROM or unmapped space (see `mem_read_above_ram`).
    #[inline(never)]
    fn mem_write_above_ram(&mut self, a: u32, v: u8) {
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
            let mut pit = std::mem::take(&mut self.pit);
            Self::pass_quiet(&mut pit, self.pit_pending, self.c1_period);
            self.pit = pit;
            self.pit_pending = 0;
        }
        if self.c1_period.take().is_some() {
            // Counter 1 went through its edges uncounted by `sync_pit_outputs`.
            self.last_out[1] = self.pit.out(1);
            self.pit_quiet = 0;
        }
    }

    /// Pass `k` quiet clocks: counters 0 and 2 (and 1 when it is not
    /// running steadily) count down; a steady counter 1 is clocked through
    /// what is left of `k` after whole periods, which leave it as it was.
    fn pass_quiet(pit: &mut Pit, k: u64, c1_period: Option<u32>) {
        match c1_period {
            None => pit.count_down(k as u32),
            Some(n) => {
                debug_assert_eq!(pit.steady_period(1), Some(n));
                pit.count_down_counter(0, k as u32);
                pit.count_down_counter(2, k as u32);
                pit.pass_steady(1, k);
            }
        }
    }

    /// The interval timer as it is now.
    pub fn pit(&self) -> Pit {
        let mut p = self.pit.clone();
        Self::pass_quiet(&mut p, self.pit_pending, self.c1_period);
        p
    }

    /// Work out how long the PIT stays quiet from here (the PIT settled),
    /// leaving a steadily running counter 1 out (see `c1_period`).
    fn plan_pit(&mut self) {
        let q02 = self
            .pit
            .counter_quiet_clocks(0)
            .min(self.pit.counter_quiet_clocks(2)) as u64;
        self.pit_quiet = match self.pit.steady_period(1) {
            Some(n) if n >= 2 && q02 > 0 => match self.pit.clocks_to_rise(1) {
                Some(k) => {
                    self.c1_period = Some(n);
                    self.c1_to_edge = k;
                    q02
                }
                None => q02.min(self.pit.counter_quiet_clocks(1) as u64),
            },
            _ => q02.min(self.pit.counter_quiet_clocks(1) as u64),
        };
    }

    /// `k` quiet clocks pass for a steady counter 1: a refresh cycle for
    /// each rising edge among them.
    fn count_refresh_edges(&mut self, k: u64) {
        let Some(n) = self.c1_period else {
            return;
        };
        let n = n as u64;
        if k < self.c1_to_edge {
            self.c1_to_edge -= k;
            return;
        }
        let edges = 1 + (k - self.c1_to_edge) / n;
        self.c1_to_edge = n - (k - self.c1_to_edge) % n;
        let done = self.dma.pass_transfers(0, edges);
        self.wait_cycles += done * REFRESH_CYCLE_CLOCKS;
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

    /// The earliest time (CPU cycles) at which the board may change
    /// anything by itself: a scheduled device event, or a PIT clock in which
    /// counter 0 or 2 loads or changes its output (counter 1 too, unless it
    /// runs on steadily as the refresh timer: its edges only steal clocks,
    /// see [`Board::refresh_bound`]). Until then a CPU can run without the
    /// board looking.
    pub fn horizon(&mut self) -> u64 {
        if self.pit_quiet == 0 {
            self.settle_pit();
            self.plan_pit();
        }
        // The first clock that is not quiet, and the CPU time it comes at.
        let tick = self.sched.pit_ticks + self.pit_quiet + 1;
        let pit_at = self.sched.time_of_pit_tick(tick);
        match self.sched.next_deadline() {
            Some(t) => t.min(pit_at),
            None => pit_at,
        }
    }

    /// At most how many CPU clocks DMA refresh cycles take from the CPU in
    /// the next `span` cycles (counter 1 running steadily; see
    /// [`Board::horizon`]).
    pub fn refresh_bound(&self, span: u64) -> u64 {
        match self.pit.steady_period(1) {
            Some(n) if self.dma.channel_ready(0) => {
                // The output rises once every `n` of the PIT clocks the
                // span can hold.
                (self.sched.max_pit_ticks_in(span) / n as u64 + 1) * REFRESH_CYCLE_CLOCKS
            }
            _ => 0,
        }
    }

    /// Let `cycles` clocks of CPU work pass, then the clocks the CPU waits
    /// (DMA holding the bus, I/O wait states), including refresh cycles that
    /// fall in the wait itself. The time reached depends only on the total
    /// of the CPU's clocks, not on how a run of instructions is split into
    /// calls, which is what lets the machine run instructions in slices and
    /// still see every event at the instruction boundary a machine stepping
    /// one instruction at a time sees it.
    pub fn pass_cpu(&mut self, cycles: u64) {
        self.advance(cycles);
        // A refresh timer reprogrammed to fire every clock would never let
        // the wait end: give up after a bounded number of rounds.
        for _ in 0..64 {
            let stall = std::mem::take(&mut self.wait_cycles);
            if stall == 0 {
                return;
            }
            self.advance(stall);
        }
    }

    /// Let `cycles` CPU cycles pass: clock the PIT and run due events.
    pub fn advance(&mut self, cycles: u64) {
        let mut ticks = self.sched.advance(cycles);
        while ticks > 0 {
            // Clocks in which the counters only count down pass in one step;
            // a clock that loads a counter or moves an output is clocked.
            if self.pit_quiet == 0 {
                self.settle_pit();
                self.plan_pit();
            }
            let quiet = self.pit_quiet.min(ticks);
            if quiet > 0 {
                self.pit_pending += quiet;
                self.pit_quiet -= quiet;
                ticks -= quiet;
                self.count_refresh_edges(quiet);
            } else {
                self.pit.clock();
                ticks -= 1;
                self.sync_pit_outputs();
            }
        }
        while let Some(ev) = self.sched.pop_due() {
            let now = self.sched.now;
            let device: &mut dyn Timed = match ev {
                Event::Keyboard => &mut self.keyboard,
                Event::Floppy => &mut self.fdc,
                // The XT board schedules nothing else.
                Event::Device(_) => continue,
            };
            device.tick(now);
            let next = device.next_event();
            self.sched.set(ev, next);
            self.update_irqs();
        }
    }

    /// Bytes arriving at COM1 from outside: queued, and IRQ 4 raised at
    /// once if the UART is set to interrupt on received data.
    pub fn serial_receive(&mut self, bytes: &[u8]) {
        self.uart.receive(bytes);
        self.update_irqs();
    }

    /// Queue keystrokes (see [`XtKeyboard::type_text`]).
    pub fn type_keys(&mut self, text: &str) -> Result<(), devices::keyboard::UnknownKey> {
        self.keyboard.type_text(text)?;
        self.sched.set(Event::Keyboard, self.keyboard.next_event());
        Ok(())
    }
}

impl Timed for XtKeyboard {
    fn next_event(&self) -> Option<u64> {
        XtKeyboard::next_event(self)
    }
    fn tick(&mut self, now: u64) {
        XtKeyboard::tick(self, now);
    }
}

impl Timed for Fdc {
    fn next_event(&self) -> Option<u64> {
        Fdc::next_event(self)
    }
    fn tick(&mut self, now: u64) {
        Fdc::tick(self, now)
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
    /// Run one instruction at a time (see [`Machine::set_stepped`]).
    stepped: bool,
    /// Accepted interrupts, when recorded (see [`Machine::log_irqs`]).
    irq_log: Option<Vec<(u64, u8)>>,
    /// Runs of instructions (slices) so far: with
    /// [`cpu::Cpu::instructions`], how long they are on average.
    pub slices: u64,
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

/// The largest ROM image a machine maps (all of the 1 MiB address space).
pub const MAX_ROM_BYTES: u64 = 0x10_0000;
/// The largest floppy image (2.88M).
pub const MAX_FLOPPY_BYTES: u64 = 2880 * 1024;

/// Read an input file of at most `max` bytes. Anything but a regular file
/// (a device such as /dev/zero, a FIFO, a directory) is refused at once
/// rather than read without end or waited on, and so is a file larger than
/// `max`; `what` names the kind of file in the message.
pub fn read_input(path: &Path, max: u64, what: &str) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("not a regular file (a device, FIFO or directory); a {what} must be a file"),
        ));
    }
    let too_big = |n: u64| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{n} bytes or more, larger than the largest {what} ({max} bytes)"),
        )
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    // The file may still grow while it is read: read one byte past the limit.
    let mut data = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(too_big(data.len() as u64));
    }
    Ok(data)
}

fn read_rom(path: &Path) -> Result<Vec<u8>, MachineError> {
    read_input(path, MAX_ROM_BYTES, "ROM image").map_err(|source| MachineError::RomIo {
        path: path.to_path_buf(),
        source,
    })
}

/// Open a floppy image (bounded, regular files only). A bare 512-byte boot
/// sector is zero-padded to the smallest floppy (160K) and is never
/// written back.
pub fn open_floppy(path: &Path, writable: bool) -> Result<FloppyImage, MachineError> {
    let data = read_input(path, MAX_FLOPPY_BYTES, "floppy image").map_err(|source| {
        devices::DiskError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    if data.len() == 512 {
        return Ok(FloppyImage::from_bytes_padded(path, data)?);
    }
    let mut img = FloppyImage::from_bytes(path, data)?;
    img.writable = writable;
    Ok(img)
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
        if profile.board != crate::profile::BoardKind::Xt {
            return Err(MachineError::ProfileValue {
                path: name,
                message: format!(
                    "a {:?} board is built by chipset::at, not by the PC/XT machine",
                    profile.board
                ),
            });
        }
        check_timing::<T>(&profile, &name)?;
        let model: CpuModel = profile.cpu.parse().expect("validated");

        // A standard-size image picks its drive type unless the profile pins it.
        let drives: Vec<_> = profile
            .floppies
            .iter()
            .map(|f| {
                let size = f.image.as_ref().and_then(|p| std::fs::metadata(p).ok());
                f.effective_kind(size.map(|m| m.len()))
            })
            .collect();
        let mut board = Board::new(profile.ram_kib, profile.video, &drives, profile.pit_8254);
        if profile.coprocessor {
            // SW1 switch 2 (equipment bit 1): coprocessor installed.
            board.ppi.switches |= 2;
        }

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
                board.fdc.insert(i, Some(open_floppy(img, f.writable)?));
            }
        }
        Ok(Machine {
            cpu: machine_cpu(model, profile.coprocessor),
            board,
            profile,
            last_cpu_cycles: 0,
            stepped: false,
            irq_log: None,
            slices: 0,
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
        // The coprocessor restarts in its power-on state (its registers are
        // not part of the saved state yet).
        let mut cpu = machine_cpu(model, state.profile.coprocessor);
        cpu.regs = state.regs;
        Ok(Machine {
            cpu,
            board: state.board,
            profile: state.profile,
            last_cpu_cycles: 0,
            stepped: false,
            irq_log: None,
            slices: 0,
        })
    }
}

/// A machine's CPU: with the decoded-instruction cache on (the board
/// reports memory that DMA writes, see [`Board::take_dma_written`]) and the
/// profile's coprocessor.
fn machine_cpu<T: Timing + Default>(model: CpuModel, coprocessor: bool) -> Cpu<T> {
    let mut cpu = Cpu::new(model);
    cpu.set_decode_cache(true);
    if coprocessor {
        cpu.set_coprocessor(Some(cpu::i86::x87::CoprocModel::for_cpu(model)));
    }
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

    /// Take a pending interrupt if the CPU accepts it now; returns whether
    /// one is pending and could be accepted after the next instruction (the
    /// one-instruction shadow after STI, MOV SS or POP SS). With IF clear it
    /// waits for an instruction without a specialised form (STI, POPF,
    /// IRET), after which the machine looks again anyway.
    fn take_interrupt(&mut self) -> bool {
        // Decoded instructions over memory DMA replaced are stale.
        if let Some((lo, hi)) = self.board.take_dma_written() {
            self.cpu.invalidate_code(lo, hi - lo + 1);
        }
        if !self.board.pic.int_pending() {
            return false;
        }
        if !self.cpu.interrupts_enabled() {
            return self.cpu.regs.flag(cpu::regs::IF);
        }
        let v = self.board.pic.acknowledge();
        if let Some(log) = &mut self.irq_log {
            log.push((self.board.now(), v));
        }
        self.cpu.interrupt(&mut self.board, v);
        false
    }

    /// Clocks the CPU can surely run before board time `target`: the span
    /// less refresh stalls and what the CPU ran that the board has not
    /// passed yet (an interrupt entry just taken).
    fn cpu_budget(&self, target: u64) -> u64 {
        let span = target.saturating_sub(self.board.now());
        span.saturating_sub(self.board.refresh_bound(span))
            .saturating_sub(self.cpu.cycles().wrapping_sub(self.last_cpu_cycles))
    }

    /// The CPU clocks charged since the board last passed time.
    fn cpu_spent(&mut self) -> u64 {
        let c = self.cpu.cycles();
        let spent = c.wrapping_sub(self.last_cpu_cycles);
        self.last_cpu_cycles = c;
        spent
    }

    /// Execute one instruction (or let a halted CPU wait a little), taking
    /// a pending interrupt first when the CPU accepts it. This is the
    /// reference the sliced [`Machine::run_for`] keeps to: the same
    /// interrupts at the same instants (see [`Machine::set_stepped`]).
    pub fn step(&mut self) {
        self.take_interrupt();
        // A REP string instruction stops after each iteration, so that
        // devices and interrupts are seen between iterations.
        self.cpu.set_rep_deadline(0);
        let r = if self.cpu.halted() {
            StepResult::Halted
        } else {
            self.cpu.step(&mut self.board)
        };
        self.x87_interrupt();
        let spent = self.cpu_spent();
        if r == StepResult::Halted && spent == 0 {
            self.board.advance(HALT_STEP);
            // A halted CPU does not notice the bus being borrowed.
            self.board.wait_cycles = 0;
        } else {
            // Every instruction takes time; never let the clock stand still.
            self.board.pass_cpu(spent.max(1));
        }
    }

    /// Run instructions up to the board's next event or `end`, whichever
    /// comes first: as many [`Machine::step`]s, with the same result, but
    /// the specialised forms of the decode cache run back to back without
    /// the board looking between them. The run ends at the instruction
    /// that reaches the event (the one after which a stepping machine
    /// would see it), before any instruction without a form (I/O and
    /// interrupt-flag changes among them, run on their own with the board
    /// up to date), and after one instruction while an interrupt is
    /// pending but not accepted.
    fn slice(&mut self, end: u64) {
        self.slices += 1;
        let waiting = self.take_interrupt();
        let now = self.board.now();
        if self.cpu.halted() && self.cpu.cycles() == self.last_cpu_cycles {
            // As many halted steps as it takes to reach the target.
            let target = self.board.horizon().min(end);
            let quanta = target.saturating_sub(now).div_ceil(HALT_STEP).max(1);
            self.board.advance(quanta * HALT_STEP);
            self.board.wait_cycles = 0;
            return;
        }
        let mut ran = 0;
        let target = if waiting {
            now
        } else {
            self.board.horizon().min(end)
        };
        if target > now {
            let budget = self.cpu_budget(target);
            // A REP form runs only if it ends before the target.
            self.cpu
                .set_rep_deadline(self.cpu.cycles().saturating_add(budget));
            // Without forms (the exact model) the same instructions run
            // one by one through the decoder's path, clock for clock.
            ran = if T::FAST_FORMS {
                self.cpu.run_forms(&mut self.board, budget)
            } else {
                self.cpu.run_plain(&mut self.board, budget)
            };
        }
        if ran > 0 {
            let spent = self.cpu_spent();
            self.board.pass_cpu(spent);
            if self.board.now() >= target {
                return;
            }
            // The forms stopped before an instruction without one, and
            // nothing fell due: the interrupt state is what it was when the
            // slice began, so that instruction runs now, with the board up
            // to date, as a stepping machine would run it.
        }
        // A REP string instruction runs up to the target and stops at the
        // iteration boundary that reaches it (after one iteration when the
        // target is now), as a stepping machine would see its devices.
        let budget = self.cpu_budget(target);
        self.cpu
            .set_rep_deadline(self.cpu.cycles().saturating_add(budget));
        self.cpu.step(&mut self.board);
        self.x87_interrupt();
        let spent = self.cpu_spent();
        self.board.pass_cpu(spent.max(1));
    }

    /// The coprocessor's interrupt output went active: on the PC and XT it
    /// is an NMI (when port A0h lets NMIs through). ESC instructions have
    /// no specialised forms, so looking after each single step suffices.
    #[inline]
    fn x87_interrupt(&mut self) {
        if self.cpu.take_x87_interrupt() {
            self.raise_nmi();
        }
    }

    /// Run one instruction at a time in [`Machine::run_for`] (the
    /// reference behaviour, for tests and debugging) instead of in slices.
    pub fn set_stepped(&mut self, stepped: bool) {
        self.stepped = stepped;
    }

    /// Record `(cycle, vector)` of every hardware interrupt the CPU accepts
    /// from the PIC (see [`Machine::take_irq_log`]).
    pub fn log_irqs(&mut self, on: bool) {
        self.irq_log = on.then(Vec::new);
    }

    /// The interrupts recorded since [`Machine::log_irqs`] (emptied).
    pub fn take_irq_log(&mut self) -> Vec<(u64, u8)> {
        self.irq_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Run for `cycles` CPU cycles (or until software requests an exit).
    pub fn run_for(&mut self, cycles: u64) -> RunStop {
        let end = self.cycles().saturating_add(cycles);
        while self.cycles() < end {
            if let Some(code) = self.board.debug.exit {
                return RunStop::Exit(code);
            }
            if self.stepped {
                self.step();
            } else {
                self.slice(end);
            }
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
