//! The PC/AT board (ISA) and the i440FX/PIIX3 PC (PCI): memory map with the
//! A20 gate and PAM shadowing, an I/O port table, the AT's chipset devices,
//! and the seams where the VGA, IDE and UART models plug in.
//!
//! Time is counted in CPU cycles at the profile's clock rate. The driver
//! (the CPU loop) moves [`AtBoard::now`] forward with [`AtBoard::advance_to`],
//! which runs every due deadline; devices are otherwise caught up lazily
//! when their ports are accessed.

use super::events::{AtEvent, Deadlines};
use super::pci::{PciBus, PciKind};
use super::pics::CascadedPics;
use crate::dma::{Dma8237, TransferType};
use crate::pit::Pit;
use devices::cmos::{BootDevice, CmosFloppy, NvramConfig};
use devices::{DriveType, Fdc, FloppyImage, Rtc, RtcTime, I8042};
use std::ops::RangeInclusive;

mod state;
pub use state::AtBoardState;

/// The 8254's input clock (14.31818 MHz / 12).
pub const PIT_HZ: u64 = 1_193_182;
/// The clock the floppy controller's delays are counted in (it was written
/// for the 4.77 MHz PC/XT); the board converts.
pub const FDC_TIME_HZ: u64 = 4_772_727;
/// PIT clocks per DRAM refresh request (the AT BIOS programs counter 1
/// with 18: one every 15.09 µs); port 61h bit 4 toggles on each.
const REFRESH_PIT_CLOCKS: u64 = 18;
/// ISA I/O cycles a second: one access takes about 1 µs.
const ISA_IO_CYCLES_PER_SECOND: u64 = 1_000_000;
/// Most POST codes kept.
const POST_LOG_MAX: usize = 4096;

/// A port-mapped device plugged into the board (VGA, IDE, UART…).
pub trait IoDevice {
    /// Read `size` (1, 2 or 4) bytes from `port` at CPU cycle `now`.
    fn io_read(&mut self, now: u64, port: u16, size: u8) -> u32;
    /// Write `size` bytes to `port` at CPU cycle `now`.
    fn io_write(&mut self, now: u64, port: u16, size: u8, value: u32);
    /// The level of its interrupt line.
    fn irq(&self) -> bool {
        false
    }
    /// Catch up to CPU cycle `now`.
    fn advance(&mut self, now: u64) {
        let _ = now;
    }
    /// The CPU cycle at which it next needs [`IoDevice::advance`].
    fn next_deadline(&self) -> Option<u64> {
        None
    }
    /// The board's RESET line (a system reset at CPU cycle `now`): back
    /// to the power-on state, keeping the media and host-side buffers.
    fn reset(&mut self, now: u64) {
        let _ = now;
    }
    /// State the device alone holds, for a machine snapshot (opaque bytes
    /// the device reads back with [`IoDevice::load_state`]). A device whose
    /// state is shared with and saved by its owner (the PC's VGA, IDE,
    /// UARTs) keeps the default: nothing.
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }
    /// Put back what [`IoDevice::save_state`] returned.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        if state.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} bytes of state for a device that keeps none",
                state.len()
            ))
        }
    }
}

/// A memory-mapped device window (the VGA's A0000h–BFFFFh, a framebuffer).
pub trait MmioDevice {
    /// Read a byte at `offset` into the window.
    fn read(&mut self, offset: u32) -> u8;
    /// Write a byte at `offset` into the window.
    fn write(&mut self, offset: u32, value: u8);
}

/// What kind of reset the board asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResetKind {
    /// The CPU only (8042 pulse, port 92h, CF9h soft reset, triple fault):
    /// memory and devices keep their state, as the BIOS's shutdown-byte
    /// resume path expects.
    Cpu,
    /// The whole system (CF9h with the hard-reset bit).
    System,
}

/// Board configuration, from the machine profile.
#[derive(Clone, Debug)]
pub struct AtConfig {
    /// PCI (i440FX/PIIX3) rather than plain ISA.
    pub pci: bool,
    /// RAM in MiB (4–2048).
    pub memory_mib: u32,
    /// CPU clock rate.
    pub clock_hz: u64,
    /// RTC time at power-on.
    pub rtc_start: RtcTime,
    /// Floppy drives (A:, B:).
    pub floppies: Vec<DriveType>,
    /// Hard disks 0 and 1.
    pub hard_disks: [bool; 2],
    /// Boot order for the BIOS.
    pub boot: Vec<BootDevice>,
    /// The CPU has an FPU.
    pub fpu: bool,
}

impl Default for AtConfig {
    fn default() -> Self {
        AtConfig {
            pci: true,
            memory_mib: 16,
            clock_hz: 33_000_000,
            rtc_start: RtcTime::default(),
            floppies: vec![DriveType::D1440],
            hard_disks: [false; 2],
            boot: vec![BootDevice::Floppy, BootDevice::HardDisk, BootDevice::Cdrom],
            fpu: true,
        }
    }
}

/// Board errors.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AtError {
    /// Memory size out of range.
    #[error("memory_mib {0} out of range (4 to 2048)")]
    Memory(u32),
    /// CPU clock below 1 MHz.
    #[error("clock_hz {0} too low (at least 1 MHz)")]
    Clock(u64),
    /// BIOS image of an unusable size.
    #[error("BIOS image is {0} bytes; it must be 64, 128 or 256 KiB")]
    BiosSize(usize),
    /// Option ROM that does not fit.
    #[error("option ROM of {size} bytes at {address:05X}h does not fit in C0000h–DFFFFh")]
    RomSize {
        /// Its size.
        size: usize,
        /// Where it was to go.
        address: u32,
    },
    /// Two handlers for one port.
    #[error("I/O port {0:04X}h is already taken")]
    PortTaken(u16),
}

/// Who answers an I/O port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handler {
    None,
    Dma1,
    Pic,
    Pit,
    Kbc,
    Port61,
    Rtc,
    Page,
    Dma2,
    Fpu,
    Port92,
    Elcr,
    PciConfig,
    ResetControl,
    Debugcon,
    BochsPanic,
    BochsInfo,
    VgaBiosInfo,
    Shutdown,
    Fdc,
    Device(u16),
    IdeBm(u16),
}

/// One 16-bit DMA cycle ([`AtBoard::dma16_transfer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dma16Cycle {
    /// The physical address of the word's low byte.
    pub address: u32,
    /// The mode register's transfer type.
    pub kind: TransferType,
    /// The word moved (read from memory in a read transfer).
    pub word: u16,
    /// The count ran out (the channel masked itself or auto-initialized).
    pub terminal_count: bool,
}

struct Attached {
    device: Box<dyn IoDevice>,
    irq: Option<u8>,
    /// The PIIX PIRQ (0–3 for A–D) its PCI INTx# pin is wired to.
    pirq: Option<u8>,
}

/// The PIRQ (0–3 for PIRQA#–PIRQD#) that INTx# pin `pin` (1–4 for
/// INTA#–INTD#) of the device in PCI slot `slot` is wired to on this board:
/// the pins rotate by slot, (slot − 1 + pin − 1) mod 4, so that device 1's
/// INTA# is PIRQA#: the wiring the $PIR tables of SeaBIOS and the Bochs
/// BIOS describe for this board (checked on their tables in
/// `chipset/tests/at_pc.rs`), which Linux reads.
pub fn pci_intx_pirq(slot: u8, pin: u8) -> u8 {
    (slot.wrapping_add(pin).wrapping_sub(2)) & 3
}

/// The board.
pub struct AtBoard {
    /// Configuration it was built with.
    pub config: AtConfig,
    /// Current time in CPU cycles.
    pub now: u64,
    /// The RAM while A20 is on, empty while it is masked: what
    /// [`cpu::Bus::ram_direct`] lends as it stands, so that a CPU access
    /// through it tests no gate (the board's own paths take the RAM
    /// wherever it is, [`Self::mem`]).
    ram: Vec<u8>,
    /// The RAM while A20 is masked (moved here by `update_a20`), else empty.
    ram_masked: Vec<u8>,
    /// [`cpu::Bus::ram_generation`]: bumped whenever memory may change other
    /// than by the CPU's own writes to the address it reads (DMA, tools
    /// writing RAM, a write through the A20 alias) or what addresses map to
    /// changes (A20, PAM shadow, SMRAM, reset).
    ram_gen: u64,
    /// [`cpu::Bus::slice_events`]: bumped with `ram_gen` and whenever an
    /// access sets `slice.touched`.
    events: u64,
    bios: Vec<u8>,
    option_roms: Vec<(u32, Vec<u8>)>,
    ports: Vec<Handler>,
    /// The interrupt controllers.
    pub pics: CascadedPics,
    /// The timer.
    pub pit: Pit,
    pit_ticks: u64,
    /// DMA controller 1 (channels 0–3, 8-bit).
    pub dma1: Dma8237,
    /// DMA controller 2 (channels 4–7, 16-bit; channel 4 cascades).
    pub dma2: Dma8237,
    pages: [u8; 16],
    /// The RTC and CMOS RAM.
    pub rtc: Rtc,
    /// The keyboard controller.
    pub kbc: I8042,
    /// The floppy controller (IRQ 6, DMA 2).
    pub fdc: Fdc,
    /// The PCI bus, on a PCI board.
    pub pci: Option<PciBus>,
    port61: u8,
    port92: u8,
    cf9: u8,
    /// The last POST code written to port 80h.
    pub post_code: u8,
    /// The POST codes written, each change once (up to 4096).
    pub post_codes: Vec<u8>,
    /// The debug console (E9h) and QEMU's isa-debug-exit port (F4h), the
    /// same device as the XT's.
    pub debug: devices::DebugPorts,
    /// Bytes written to the Bochs BIOS info ports (402h, 403h).
    pub bios_info: Vec<u8>,
    /// Bytes written to the LGPL VGA BIOS's info port (500h).
    pub vgabios_info: Vec<u8>,
    /// The Bochs BIOS panic port (400h/401h) was written: the value.
    pub bios_panic: Option<u16>,
    shutdown_match: usize,
    /// "Shutdown" was written to port 8900h.
    pub shutdown: bool,
    fpu_error: bool,
    nmi: bool,
    reset: Option<ResetKind>,
    deadlines: Deadlines,
    devices: Vec<Attached>,
    vga_window: Option<Box<dyn MmioDevice>>,
    lfb: Option<Box<dyn MmioDevice>>,
    vga_rom: Option<Vec<u8>>,
    smram_open: bool,
    /// The IDE bus-master device and the base its ports are mapped at.
    ide_bm: Option<(u16, Option<u16>)>,
    a20_mask: u32,
    /// PIRQA#–PIRQD# driven from outside the attached devices (bits 0–3).
    pirq_lines: u8,
    /// The ISA IRQs the PIRQ router drove at the last sync (to release a
    /// line when its routing changes).
    pirq_driven: u16,
    /// PAM attributes of the 16 KiB segments of C0000h–FFFFFh (the host
    /// bridge's registers, copied when they are written).
    pam: [u8; 16],
    slice: SliceState,
    irq_log: Option<Vec<(u64, u8)>>,
    /// Access counts for a profile (see [`AtBoard::count_accesses`]).
    counters: Option<Box<AccessCounters>>,
    /// Cycles I/O accesses have stalled the CPU since `take_io_stall`.
    io_stall: u64,
}

/// Access counts the board keeps for a profile ([`AtBoard::count_accesses`]).
/// Byte accesses the CPU splits a wider access into count one each;
/// accesses the board handles without the CPU (DMA) are not counted.
#[derive(Clone, Debug)]
pub struct AccessCounters {
    /// Reads of each I/O port (a 16- or 32-bit access counts at its port).
    pub io_reads: Vec<u64>,
    /// Writes of each I/O port.
    pub io_writes: Vec<u64>,
    /// Interrupt vectors the CPU acknowledged (`Bus::inta`).
    pub vectors: [u64; 256],
    /// Reads and writes of memory that is neither plain RAM nor a RAM/ROM
    /// shadow fast path, by [`MemRegion`] (index: `region as usize`).
    pub mem_reads: [u64; MemRegion::COUNT],
    /// Writes, as `mem_reads`.
    pub mem_writes: [u64; MemRegion::COUNT],
}

/// Where a counted memory access went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemRegion {
    /// A0000h–BFFFFh: the VGA window (or SMRAM).
    VgaWindow = 0,
    /// C0000h–FFFFFh: option ROMs and the BIOS (or their shadows).
    LowRom = 1,
    /// Above the RAM: the BIOS's top alias, the VGA's PCI BARs, or nothing.
    High = 2,
}

impl MemRegion {
    /// The number of regions.
    pub const COUNT: usize = 3;
    /// All regions, in index order.
    pub const ALL: [MemRegion; 3] = [MemRegion::VgaWindow, MemRegion::LowRom, MemRegion::High];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            MemRegion::VgaWindow => "VGA window A0000h-BFFFFh",
            MemRegion::LowRom => "ROM area C0000h-FFFFFh",
            MemRegion::High => "above RAM (BIOS alias, PCI BARs, unclaimed)",
        }
    }
}

impl AccessCounters {
    fn new() -> Self {
        AccessCounters {
            io_reads: vec![0; 0x10000],
            io_writes: vec![0; 0x10000],
            vectors: [0; 256],
            mem_reads: [0; MemRegion::COUNT],
            mem_writes: [0; MemRegion::COUNT],
        }
    }

    fn count_mem(&mut self, a: u32, write: bool) {
        let r = match a {
            0xA0000..=0xBFFFF => MemRegion::VgaWindow,
            0xC0000..=0xFFFFF => MemRegion::LowRom,
            _ => MemRegion::High,
        };
        let t = if write {
            &mut self.mem_writes
        } else {
            &mut self.mem_reads
        };
        t[r as usize] += 1;
    }
}

/// What the board keeps while the CPU runs a slice of instructions
/// without the board passing time between them (see [`AtBoard::begin_slice`]).
#[derive(Clone, Copy, Debug, Default)]
struct SliceState {
    /// A slice is running: `base` and `cpu_clocks` mean something.
    on: bool,
    /// The board's time when the slice began.
    base: u64,
    /// The clocks into the slice of the instruction the CPU is at, as the
    /// CPU reported them through `Bus::slice_clock` (stored as given: the
    /// CPU reports at every instruction, the board reads it only at a
    /// device access).
    cpu_clocks: u64,
    /// Where the slice is planned to end.
    end: u64,
    /// The INTR level the CPU was given at the start.
    intr: bool,
    /// An I/O access happened since the CPU last asked.
    touched: bool,
    /// The CPU acknowledged an interrupt: its INTR level is stale.
    acked: bool,
}

impl AtBoard {
    /// Build a board with `bios` (64, 128 or 256 KiB) mapped to end at
    /// FFFFFh (its last 128 KiB) and at the top of the 4 GiB space.
    pub fn new(config: AtConfig, bios: Vec<u8>) -> Result<AtBoard, AtError> {
        if !(4..=2048).contains(&config.memory_mib) {
            return Err(AtError::Memory(config.memory_mib));
        }
        if config.clock_hz < 1_000_000 {
            return Err(AtError::Clock(config.clock_hz));
        }
        if ![0x10000, 0x20000, 0x40000].contains(&bios.len()) {
            return Err(AtError::BiosSize(bios.len()));
        }
        let mut rtc = Rtc::new(config.rtc_start, config.clock_hz);
        let floppy = |i: usize| match config.floppies.get(i) {
            Some(DriveType::D360) => CmosFloppy::D360,
            Some(DriveType::D1200) => CmosFloppy::D1200,
            Some(DriveType::D720) => CmosFloppy::D720,
            Some(DriveType::D1440) => CmosFloppy::D1440,
            None => CmosFloppy::None,
        };
        rtc.set_nvram(&NvramConfig {
            floppies: [floppy(0), floppy(1)],
            hard_disks: config.hard_disks,
            ram_bytes: config.memory_mib as u64 * (1 << 20),
            fpu: config.fpu,
            boot: config.boot.clone(),
            century: (config.rtc_start.year / 100) as u8,
        });
        let mut fdc = Fdc::new(&config.floppies);
        // An AT-class controller seeks implicitly, as QEMU's and Bochs's do;
        // the Bochs BIOS reads without seeking first.
        fdc.implied_seek = true;
        let mut kbc = I8042::new();
        // About 1 ms a byte on the serial link.
        kbc.byte_delay = (config.clock_hz / 1000).max(1);
        let mut board = AtBoard {
            ram: vec![0; config.memory_mib as usize * (1 << 20)],
            ram_masked: Vec::new(),
            ram_gen: 0,
            events: 0,
            bios,
            option_roms: Vec::new(),
            ports: vec![Handler::None; 0x10000],
            pics: CascadedPics::new(),
            pit: Pit::new(true),
            pit_ticks: 0,
            dma1: Dma8237::new(),
            dma2: Dma8237::new(),
            pages: [0; 16],
            rtc,
            kbc,
            fdc,
            pci: config.pci.then(PciBus::new),
            io_stall: 0,
            port61: 0,
            port92: 0,
            cf9: 0,
            post_code: 0,
            post_codes: Vec::new(),
            debug: devices::DebugPorts::default(),
            bios_info: Vec::new(),
            vgabios_info: Vec::new(),
            bios_panic: None,
            shutdown_match: 0,
            shutdown: false,
            fpu_error: false,
            nmi: false,
            reset: None,
            deadlines: Deadlines::new(),
            devices: Vec::new(),
            vga_window: None,
            lfb: None,
            vga_rom: None,
            smram_open: false,
            ide_bm: None,
            a20_mask: u32::MAX,
            pirq_lines: 0,
            pirq_driven: 0,
            pam: [0; 16],
            slice: SliceState::default(),
            irq_log: None,
            counters: None,
            now: 0,
            config,
        };
        board.map_ports();
        board.update_a20();
        board.pci_written(PciKind::HostBridge);
        Ok(board)
    }

    fn map_ports(&mut self) {
        let mut map = |r: RangeInclusive<u16>, h: Handler| {
            for p in r {
                self.ports[p as usize] = h;
            }
        };
        map(0x00..=0x1F, Handler::Dma1);
        map(0x20..=0x21, Handler::Pic);
        map(0xA0..=0xA1, Handler::Pic);
        map(0x40..=0x43, Handler::Pit);
        map(0x60..=0x60, Handler::Kbc);
        map(0x64..=0x64, Handler::Kbc);
        map(0x61..=0x61, Handler::Port61);
        map(0x70..=0x71, Handler::Rtc);
        map(0x80..=0x8F, Handler::Page);
        map(0x92..=0x92, Handler::Port92);
        map(0xC0..=0xDF, Handler::Dma2);
        map(0xF0..=0xF1, Handler::Fpu);
        map(0xE9..=0xE9, Handler::Debugcon);
        map(0xF4..=0xF4, Handler::Debugcon);
        map(0x400..=0x401, Handler::BochsPanic);
        map(0x402..=0x403, Handler::BochsInfo);
        map(0x500..=0x500, Handler::VgaBiosInfo);
        map(0x8900..=0x8900, Handler::Shutdown);
        map(0x3F0..=0x3F5, Handler::Fdc);
        map(0x3F7..=0x3F7, Handler::Fdc);
        if self.pci.is_some() {
            map(0x4D0..=0x4D1, Handler::Elcr);
            map(0xCF8..=0xCFF, Handler::PciConfig);
            // CF9h is byte-wide and sits inside CF8h's dword: only 32-bit
            // accesses to CF8h reach the configuration address.
            map(0xCF9..=0xCF9, Handler::ResetControl);
        }
    }

    /// Map an option ROM (the VGA BIOS at C0000h) in C0000h–DFFFFh.
    pub fn map_option_rom(&mut self, address: u32, data: Vec<u8>) -> Result<(), AtError> {
        let end = address as u64 + data.len() as u64;
        if address < 0xC0000 || end > 0xE0000 || data.is_empty() {
            return Err(AtError::RomSize {
                size: data.len(),
                address,
            });
        }
        self.option_roms.push((address, data));
        // The CPU may have code from what read there before.
        self.bump_ram_gen();
        Ok(())
    }

    /// The VGA BIOS: an option ROM at C0000h (where ISA-era BIOSes scan for
    /// it) and, on a PCI board, also behind the VGA's expansion ROM BAR
    /// (where SeaBIOS looks).
    pub fn map_vga_bios(&mut self, data: Vec<u8>) -> Result<(), AtError> {
        if data.len() > super::pci::VGA_ROM_SIZE as usize {
            return Err(AtError::RomSize {
                size: data.len(),
                address: 0xC0000,
            });
        }
        self.map_option_rom(0xC0000, data.clone())?;
        self.vga_rom = Some(data);
        Ok(())
    }

    /// Plug in an I/O device answering `ports`, its interrupt on ISA line
    /// `irq`. Returns its index.
    pub fn attach_io(
        &mut self,
        device: Box<dyn IoDevice>,
        ports: &[RangeInclusive<u16>],
        irq: Option<u8>,
    ) -> Result<usize, AtError> {
        let id = self.devices.len() as u16;
        for r in ports {
            for p in r.clone() {
                // Devices may take over the board's own floppy ports 3F6h
                // (IDE alternate status) but nothing else.
                let h = self.ports[p as usize];
                if h != Handler::None && !(h == Handler::Fdc && p == 0x3F6) {
                    return Err(AtError::PortTaken(p));
                }
            }
        }
        for r in ports {
            for p in r.clone() {
                self.ports[p as usize] = Handler::Device(id);
            }
        }
        self.devices.push(Attached {
            device,
            irq,
            pirq: None,
        });
        self.reschedule(AtEvent::Device(id));
        Ok(id as usize)
    }

    /// Plug in a PCI device answering `ports` whose interrupt is INTx# pin
    /// `pin` (1–4 for INTA#–INTD#) of slot `slot`: its level goes to the
    /// PIRQ of [`pci_intx_pirq`] and from there to the ISA IRQ the PIIX3's
    /// route register (60h–63h) selects, if enabled. PCI interrupts are
    /// level-triggered and shared: the BIOS marks the IRQs it routes as
    /// level in the ELCR (4D0h/4D1h). Returns its index.
    pub fn attach_pci_io(
        &mut self,
        device: Box<dyn IoDevice>,
        ports: &[RangeInclusive<u16>],
        slot: u8,
        pin: u8,
    ) -> Result<usize, AtError> {
        let id = self.attach_io(device, ports, None)?;
        if (1..=4).contains(&pin) {
            self.devices[id].pirq = Some(pci_intx_pirq(slot, pin));
        }
        self.sync_irqs();
        Ok(id)
    }

    /// Drive PIRQ `n` (0–3 for PIRQA#–PIRQD#) from outside the attached
    /// devices (ORed with them: the lines are wired-OR).
    pub fn set_pirq(&mut self, n: u8, level: bool) {
        let bit = 1 << (n & 3);
        if level {
            self.pirq_lines |= bit;
        } else {
            self.pirq_lines &= !bit;
        }
        self.sync_irqs();
    }

    fn ide_bm_base(&self) -> u16 {
        self.ide_bm.and_then(|(_, b)| b).unwrap_or(0)
    }

    /// Plug in the VGA's memory window (A0000h–BFFFFh; offsets from A0000h).
    pub fn attach_vga_window(&mut self, window: Box<dyn MmioDevice>) {
        self.vga_window = Some(window);
    }

    /// Plug in the linear framebuffer decoded at the VGA's PCI BAR0.
    pub fn attach_lfb(&mut self, lfb: Box<dyn MmioDevice>) {
        self.lfb = Some(lfb);
    }

    // ---- Time ----

    /// Let time run to CPU cycle `now`, running every deadline due.
    pub fn advance_to(&mut self, now: u64) {
        self.now = self.now.max(now);
        while let Some(ev) = self.deadlines.pop_due(self.now) {
            match ev {
                AtEvent::Pit => self.settle_pit(),
                AtEvent::Rtc => self.rtc.advance(self.now),
                AtEvent::Keyboard => self.kbc.advance(self.now),
                AtEvent::Device(i) => {
                    if let Some(d) = self.devices.get_mut(i as usize) {
                        d.device.advance(self.now);
                    }
                }
                AtEvent::Floppy => {
                    let t = self.fdc_time();
                    self.fdc.tick(t);
                    self.service_dma();
                }
            }
            self.reschedule(ev);
            self.sync_irqs();
        }
    }

    /// A CPU is about to run a slice of instructions planned to end at
    /// cycle `end` (at most the next deadline): until [`AtBoard::end_slice`]
    /// the board passes time only when the CPU's accesses need it, to the
    /// instruction boundary the CPU reports through `Bus::slice_clock`, and
    /// asks the CPU (`Bus::take_slice_end`) to stop after an access that
    /// changed what it sees between instructions.
    pub fn begin_slice(&mut self, end: u64) {
        self.slice = SliceState {
            on: true,
            base: self.now,
            cpu_clocks: 0,
            end,
            intr: self.intr_pending(),
            touched: false,
            acked: false,
        };
    }

    /// The slice is over; the driver passes its time with
    /// [`AtBoard::advance_to`].
    pub fn end_slice(&mut self) {
        self.slice.on = false;
    }

    /// Bring the board's time up to the instruction the CPU is at, inside
    /// a slice. No deadline falls due before the slice's planned end, so
    /// this only moves the clock (lazily clocked devices read it).
    #[inline]
    fn sync_cpu(&mut self) {
        let cpu_now = self.slice.base + self.slice.cpu_clocks;
        if self.slice.on && cpu_now > self.now {
            self.advance_to(cpu_now);
        }
    }

    /// Memory may have changed other than by the CPU's own writes
    /// ([`cpu::Bus::ram_generation`]).
    #[inline]
    fn bump_ram_gen(&mut self) {
        self.ram_gen += 1;
        self.events += 1;
    }

    /// An access the CPU must look at before its next instruction
    /// ([`cpu::Bus::take_slice_end`]).
    #[inline]
    fn touch_slice(&mut self) {
        self.slice.touched = true;
        self.events += 1;
    }

    /// Whether the CPU must end its slice after the current instruction:
    /// it took an interrupt, or an access changed the INTR or NMI line,
    /// brought a deadline before the slice's end, asked for a reset, or
    /// asked the machine to stop.
    fn slice_must_end(&self) -> bool {
        self.slice.acked
            || self.intr_pending() != self.slice.intr
            || self.nmi_pending()
            || self.reset.is_some()
            || self.kbc.reset_requested
            || self.next_deadline().is_some_and(|d| d < self.slice.end)
            || self.debug.exit.is_some()
            || self.shutdown
            // The wait states of an ISA access pass with the board's time
            // at the slice's end, before the next instruction's accesses.
            || self.io_stall > 0
    }

    /// Record `(cycle, vector)` of every interrupt acknowledged through
    /// `Bus::inta` (see [`AtBoard::take_irq_log`]).
    pub fn log_irqs(&mut self, on: bool) {
        self.irq_log = on.then(Vec::new);
    }

    /// Count I/O port accesses, accesses to memory that is not plain RAM
    /// or ROM, and acknowledged interrupt vectors (for `ironpc run
    /// --profile`); off by default, and then nothing is counted.
    pub fn count_accesses(&mut self, on: bool) {
        self.counters = on.then(|| Box::new(AccessCounters::new()));
    }

    /// The counts since [`AtBoard::count_accesses`] (`None` when off).
    pub fn access_counters(&self) -> Option<&AccessCounters> {
        self.counters.as_deref()
    }

    /// The interrupts recorded since [`AtBoard::log_irqs`] (emptied).
    pub fn take_irq_log(&mut self) -> Vec<(u64, u8)> {
        self.irq_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Take the deadlines of the plugged devices again, after the front end
    /// changed one from outside (bytes queued for a UART to receive): a
    /// device's deadline is otherwise only refreshed when it is accessed or
    /// due, and a guest halted waiting for its interrupt would never see it.
    pub fn refresh_device_deadlines(&mut self) {
        for i in 0..self.devices.len() {
            self.reschedule(AtEvent::Device(i as u16));
        }
    }

    /// The earliest pending deadline (the driver may run the CPU until then).
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.next_deadline()
    }

    fn reschedule(&mut self, ev: AtEvent) {
        let at = match ev {
            AtEvent::Pit => self.pit_deadline(),
            AtEvent::Rtc => self.rtc.next_deadline(),
            AtEvent::Keyboard => self.kbc.next_deadline(),
            AtEvent::Device(i) => self
                .devices
                .get(i as usize)
                .and_then(|d| d.device.next_deadline()),
            AtEvent::Floppy => self.fdc.next_event().map(|t| {
                let c = (t as u128 * self.config.clock_hz as u128).div_ceil(FDC_TIME_HZ as u128);
                c.min(u64::MAX as u128) as u64
            }),
        };
        // A deadline in the past is due now.
        self.deadlines.set(ev, at.map(|t| t.max(self.now)));
    }

    fn fdc_time(&self) -> u64 {
        (self.now as u128 * FDC_TIME_HZ as u128 / self.config.clock_hz as u128) as u64
    }

    fn pit_target(&self) -> u64 {
        (self.now as u128 * PIT_HZ as u128 / self.config.clock_hz as u128) as u64
    }

    /// Clock the PIT up to now, passing counter 0's output to IRQ 0.
    fn settle_pit(&mut self) {
        let target = self.pit_target();
        while self.pit_ticks < target {
            let q = self.pit.quiet_clocks() as u64;
            if q > 0 {
                let k = q.min(target - self.pit_ticks);
                self.pit.count_down(k as u32);
                self.pit_ticks += k;
            } else {
                self.pit.clock();
                self.pit_ticks += 1;
                self.pics.set_irq(0, self.pit.out(0));
            }
        }
        self.pics.set_irq(0, self.pit.out(0));
    }

    /// The cycle of counter 0's next output change.
    fn pit_deadline(&self) -> Option<u64> {
        let q = self.pit.counters[0].quiet_clocks();
        if q == u32::MAX {
            return None;
        }
        let tick = self.pit_ticks + q as u64 + 1;
        let c = (tick as u128 * self.config.clock_hz as u128).div_ceil(PIT_HZ as u128);
        Some(c.min(u64::MAX as u128) as u64)
    }

    // ---- Lines ----

    /// Pass the devices' interrupt outputs to the PICs. Outputs on one line
    /// are ORed (PCI devices share level-triggered lines); IRQ 0 belongs to
    /// the PIT, which drives it as it is clocked.
    fn sync_irqs(&mut self) {
        let sources = [
            (1, self.kbc.irq1()),
            (12, self.kbc.irq12()),
            (8, self.rtc.irq()),
            (6, self.fdc.irq()),
            (13, self.fpu_error),
        ];
        let mut driven = 0u16;
        let mut level = 0u16;
        for (irq, on) in sources {
            driven |= 1 << irq;
            level |= u16::from(on) << irq;
        }
        for d in &self.devices {
            if let Some(irq) = d.irq {
                let bit = 1u16 << (irq & 15);
                driven |= bit;
                if d.device.irq() {
                    level |= bit;
                }
            }
        }
        // PCI interrupts through the PIIX3's PIRQ router.
        let mut pirq = self.pirq_lines;
        for d in &self.devices {
            if let Some(n) = d.pirq {
                if d.device.irq() {
                    pirq |= 1 << n;
                }
            }
        }
        let mut routed = 0u16;
        if let Some(pci) = &self.pci {
            for n in 0..4 {
                if let Some(irq) = pci.pirq_route(n) {
                    routed |= 1 << irq;
                    if pirq & (1 << n) != 0 {
                        level |= 1 << irq;
                    }
                }
            }
        }
        // A line the router drove before and no longer does falls (unless
        // another source drives it).
        driven |= routed | self.pirq_driven;
        self.pirq_driven = routed;
        driven &= !1;
        for irq in 1..16u8 {
            if driven & (1 << irq) != 0 {
                self.pics.set_irq(irq, level & (1 << irq) != 0);
            }
        }
    }

    /// The INTR line to the CPU.
    pub fn intr_pending(&self) -> bool {
        self.pics.intr()
    }

    /// An NMI is pending and not masked by port 70h bit 7.
    pub fn nmi_pending(&self) -> bool {
        self.nmi && !self.rtc.nmi_disabled
    }

    /// Raise an NMI (an I/O channel check).
    pub fn raise_nmi(&mut self) {
        self.nmi = true;
    }

    /// The CPU took the NMI.
    pub fn ack_nmi(&mut self) {
        self.nmi = false;
    }

    /// The CPU's FERR# (an unmasked x87 exception with CR0.NE clear) goes
    /// to IRQ 13 until software writes port F0h.
    pub fn set_fpu_error(&mut self) {
        self.fpu_error = true;
        self.sync_irqs();
    }

    /// The A20 gate: the 8042's output port bit 1 OR port 92h bit 1.
    pub fn a20(&self) -> bool {
        self.kbc.a20() || self.port92 & 0x02 != 0
    }

    fn update_a20(&mut self) {
        self.bump_ram_gen();
        let on = self.a20();
        self.a20_mask = if on { u32::MAX } else { !(1 << 20) };
        // The RAM where the gate says (`ram`, `ram_masked`).
        if on == self.ram.is_empty() {
            std::mem::swap(&mut self.ram, &mut self.ram_masked);
        }
    }

    /// The RAM, in whichever field the A20 gate keeps it.
    #[inline]
    fn mem(&self) -> &Vec<u8> {
        if self.ram.is_empty() {
            &self.ram_masked
        } else {
            &self.ram
        }
    }

    /// [`Self::mem`], writable.
    #[inline]
    fn mem_mut(&mut self) -> &mut Vec<u8> {
        if self.ram.is_empty() {
            &mut self.ram_masked
        } else {
            &mut self.ram
        }
    }

    /// The CPU triple-faulted (the board resets it, as the AT's shutdown
    /// detection does).
    pub fn triple_fault(&mut self) {
        self.reset = Some(ResetKind::Cpu);
    }

    /// A reset requested since the last call.
    pub fn take_reset(&mut self) -> Option<ResetKind> {
        if self.kbc.take_reset() && self.reset.is_none() {
            self.reset = Some(ResetKind::Cpu);
        }
        let r = self.reset.take();
        if r == Some(ResetKind::System) {
            self.system_reset();
        }
        r
    }

    /// The state a system reset gives the board: every chip and device on
    /// the RESET line returns to its power-on state; RAM and the
    /// battery-backed CMOS (and the RTC's time) keep their contents, the
    /// disks and floppies stay inserted.
    fn system_reset(&mut self) {
        let now = self.now;
        self.bump_ram_gen();
        if self.config.pci {
            self.pci = Some(PciBus::new());
            self.pci_written(PciKind::HostBridge);
            self.pci_written(PciKind::Ide);
        }
        self.port92 = 0;
        self.port61 = 0;
        self.cf9 = 0;
        self.fpu_error = false;
        self.nmi = false;
        let delay = self.kbc.byte_delay;
        self.kbc = I8042::new();
        self.kbc.byte_delay = delay;
        self.pics = CascadedPics::new();
        // The PIT's clock count is the board's time base and goes on.
        self.settle_pit();
        self.pit = Pit::new(true);
        self.dma1 = Dma8237::new();
        self.dma2 = Dma8237::new();
        self.pages = [0; 16];
        // RESET clears the floppy controller's digital output register,
        // which holds the controller in reset with the motors off.
        let t = self.fdc_time();
        self.fdc.io_write(0x3F2, 0, t);
        for d in &mut self.devices {
            d.device.reset(now);
        }
        for ev in [AtEvent::Pit, AtEvent::Keyboard, AtEvent::Floppy] {
            self.reschedule(ev);
        }
        for i in 0..self.devices.len() {
            self.reschedule(AtEvent::Device(i as u16));
        }
        self.update_a20();
        self.sync_irqs();
    }

    // ---- Memory ----

    /// The RAM.
    pub fn ram(&self) -> &[u8] {
        self.mem()
    }

    /// The RAM, writable (to load images in tests and tools).
    pub fn ram_mut_slice(&mut self) -> &mut [u8] {
        self.bump_ram_gen();
        self.mem_mut()
    }

    /// PAM attribute of a C0000h–FFFFFh address: bit 0 reads from RAM,
    /// bit 1 writes to RAM. An ISA board has no shadow RAM there.
    #[inline]
    fn pam(&self, a: u32) -> u8 {
        self.pam[(a.wrapping_sub(0xC0000) >> 14) as usize & 15]
    }

    /// i440FX SMRAM register D_OPEN (bit 6) with G_SMRAME (bit 3): the
    /// A0000h–BFFFFh window reaches the RAM beneath the VGA (firmware uses
    /// it to load an SMM handler; there is no SMM mode to close it).
    #[inline]
    fn smram_open(&self) -> bool {
        self.smram_open
    }

    /// A PCI configuration write changed a function's registers: refresh
    /// what the board derives from them.
    fn pci_written(&mut self, kind: PciKind) {
        let Some(pci) = self.pci.as_ref() else {
            return;
        };
        match kind {
            PciKind::HostBridge => {
                self.ram_gen += 1;
                self.events += 1;
                for (seg, attr) in self.pam.iter_mut().enumerate() {
                    *attr = pci.pam(0xC0000 + ((seg as u32) << 14));
                }
                self.smram_open = pci
                    .get(PciKind::HostBridge)
                    .is_some_and(|h| h.config.bytes[0x72] & 0x48 == 0x48);
            }
            PciKind::Ide => self.remap_ide_busmaster(),
            PciKind::IsaBridge => self.sync_irqs(),
            _ => {}
        }
    }

    /// Move the IDE bus-master registers (16 ports) to where BAR4 and the
    /// command register's I/O enable put them.
    fn remap_ide_busmaster(&mut self) {
        let Some((id, old)) = self.ide_bm else {
            return;
        };
        let new = self
            .pci
            .as_ref()
            .and_then(|p| p.get(PciKind::Ide))
            .filter(|f| f.config.bytes[4] & 1 != 0)
            .map(|f| f.config.dword(0x20) & !0xF)
            .filter(|&b| b != 0 && b <= 0xFFF0)
            .map(|b| b as u16);
        if new == old {
            return;
        }
        if let Some(o) = old {
            for p in o..o + 16 {
                if self.ports[p as usize] == Handler::IdeBm(id) {
                    self.ports[p as usize] = Handler::None;
                }
            }
        }
        let mut placed = None;
        if let Some(n) = new {
            // Only over free ports: a BAR placed on a chipset port is ignored.
            if (n..n + 16).all(|p| self.ports[p as usize] == Handler::None) {
                for p in n..n + 16 {
                    self.ports[p as usize] = Handler::IdeBm(id);
                }
                placed = Some(n);
            }
        }
        self.ide_bm = Some((id, placed));
    }

    /// Plug in the IDE controller's bus-master registers: they answer the 16
    /// ports at the PIIX3 IDE function's BAR4 while its I/O decoding is on,
    /// following the BAR as firmware moves it. The device sees the offset
    /// 0–15 as the port.
    pub fn attach_ide_busmaster(&mut self, device: Box<dyn IoDevice>, irq: Option<u8>) -> usize {
        let id = self.devices.len() as u16;
        self.devices.push(Attached {
            device,
            irq,
            pirq: None,
        });
        self.ide_bm = Some((id, None));
        self.remap_ide_busmaster();
        id as usize
    }

    fn rom_byte(&self, a: u32) -> u8 {
        if a >= 0xE0000 {
            // The last 128 KiB of the image (a 64 KiB image repeats).
            let len = self.bios.len();
            let off = (a as usize - 0xE0000) % len.min(0x20000);
            return self.bios[len - len.min(0x20000) + off];
        }
        for (base, data) in &self.option_roms {
            if a >= *base && ((a - base) as usize) < data.len() {
                return data[(a - base) as usize];
            }
        }
        0xFF
    }

    /// The first and last address (A20 applied) of `len` bytes at `addr`
    /// that a slow-path lending may serve: not empty, within one MiB-aligned
    /// megabyte. A range lent through the A20 alias bumps `ram_gen`: the
    /// CPU may write the bytes under another address than the one it reads
    /// them at.
    fn lent_range(&mut self, addr: u32, len: u32) -> Option<(u32, u32)> {
        if len == 0 {
            return None;
        }
        let last = addr.checked_add(len - 1)?;
        if (addr ^ last) >> 20 != 0 {
            return None;
        }
        let (a, last) = (addr & self.a20_mask, last & self.a20_mask);
        if a != addr {
            self.bump_ram_gen();
        }
        Some((a, last))
    }

    /// `Bus::ram_mut` past its common cases: with A20 off, a range within
    /// one MiB is the RAM its address with bit 20 clear names; in
    /// C0000h–FFFFFh, a range within one 16 KiB PAM segment that reads and
    /// writes RAM (shadow RAM made read-write) is plain RAM. Read-only
    /// shadow, ROM and device windows are not.
    fn ram_mut_slow(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let (a, last) = self.lent_range(addr, len)?;
        let plain = last < 0xA0000
            || (a >= 0x10_0000 && (last as usize) < self.mem().len())
            || ((0xC0000..=0xFFFFF).contains(&a) && (a ^ last) >> 14 == 0 && self.pam(a) == 3);
        if plain {
            self.mem_mut().get_mut(a as usize..=last as usize)
        } else {
            None
        }
    }

    /// `Bus::ram_read` past its common cases: what [`Self::ram_mut_slow`]
    /// lends, and besides, within one 16 KiB PAM segment of C0000h–FFFFFh,
    /// shadow RAM made read-only and the ROMs (where reads do not come from
    /// RAM), and the BIOS image at the top of 4 GiB. The CPU's writes
    /// cannot change any of these (they are ignored, or go to shadow RAM
    /// that is not read); a PAM change or a new option ROM bumps
    /// `ram_gen`, so the CPU checks its cached code again.
    fn ram_read_slow(&mut self, addr: u32, len: u32) -> Option<&[u8]> {
        let (a, last) = self.lent_range(addr, len)?;
        if last < 0xA0000 || (a >= 0x10_0000 && (last as usize) < self.mem().len()) {
            return self.mem().get(a as usize..=last as usize);
        }
        if (0xC0000..=0xFFFFF).contains(&a) {
            if (a ^ last) >> 14 != 0 {
                return None;
            }
            if self.pam(a) & 1 != 0 {
                return self.mem().get(a as usize..=last as usize);
            }
            return self.rom_slice(a, last);
        }
        let top = (u32::MAX - self.bios.len() as u32).wrapping_add(1);
        if a >= 0x10_0000 && a >= top && (a as usize) >= self.mem().len() {
            return self.bios.get((a - top) as usize..=(last - top) as usize);
        }
        None
    }

    /// The ROM bytes `a..=last` in C0000h–FFFFFh as [`Self::rom_byte`] reads
    /// them, if they lie contiguously in one image.
    fn rom_slice(&self, a: u32, last: u32) -> Option<&[u8]> {
        if a >= 0xE0000 {
            let len = self.bios.len();
            let window = len.min(0x20000);
            if window == 0 {
                return None;
            }
            let off = (a as usize - 0xE0000) % window;
            let n = (last - a) as usize;
            if off + n >= window {
                return None;
            }
            let start = len - window + off;
            return self.bios.get(start..=start + n);
        }
        let (base, data) = self
            .option_roms
            .iter()
            .find(|(base, data)| a >= *base && ((a - base) as usize) < data.len())?;
        data.get((a - base) as usize..=(last - base) as usize)
    }

    /// Read a physical byte (after the A20 gate).
    pub fn mem_read(&mut self, addr: u32) -> u8 {
        let a = addr & self.a20_mask;
        // The lent field first (empty while A20 is masked, `slow_read`).
        if !(0xA0000..0x10_0000).contains(&a) && (a as usize) < self.ram.len() {
            return self.ram[a as usize];
        }
        self.slow_read(a)
    }

    fn slow_read(&mut self, a: u32) -> u8 {
        if a < 0xA0000 || (a >= 0x10_0000 && (a as usize) < self.mem().len()) {
            return self.mem()[a as usize];
        }
        if let Some(c) = &mut self.counters {
            c.count_mem(a, false);
        }
        match a {
            0xA0000..=0xBFFFF if self.smram_open() => self.mem()[a as usize],
            0xA0000..=0xBFFFF => {
                // A device's window: its time is the CPU's.
                self.sync_cpu();
                self.vga_window
                    .as_mut()
                    .map_or(0xFF, |w| w.read(a - 0xA0000))
            }
            0xC0000..=0xFFFFF => {
                if self.pam(a) & 1 != 0 {
                    self.mem()[a as usize]
                } else {
                    self.rom_byte(a)
                }
            }
            _ => {
                let top = (u32::MAX - self.bios.len() as u32).wrapping_add(1);
                if a >= top {
                    return self.bios[(a - top) as usize];
                }
                self.sync_cpu();
                if let (Some(base), Some(lfb)) = (
                    self.pci.as_ref().and_then(PciBus::vga_lfb),
                    self.lfb.as_mut(),
                ) {
                    if base != 0 && a >= base && a - base < super::pci::VGA_LFB_SIZE {
                        return lfb.read(a - base);
                    }
                }
                if let (Some(base), Some(rom)) =
                    (self.pci.as_ref().and_then(PciBus::vga_rom), &self.vga_rom)
                {
                    if base != 0 && a >= base && a - base < super::pci::VGA_ROM_SIZE {
                        return rom.get((a - base) as usize).copied().unwrap_or(0xFF);
                    }
                }
                0xFF
            }
        }
    }

    /// Write a physical byte (after the A20 gate), as a device or tool does:
    /// the CPU re-reads any code it cached.
    pub fn mem_write(&mut self, addr: u32, v: u8) {
        self.bump_ram_gen();
        self.cpu_mem_write(addr, v);
    }

    /// Write a physical byte for the CPU ([`cpu::Bus::write`]): it notes its
    /// own writes, all but those that reach RAM through the A20 alias.
    fn cpu_mem_write(&mut self, addr: u32, v: u8) {
        let a = addr & self.a20_mask;
        if a != addr {
            self.bump_ram_gen();
        }
        if !(0xA0000..0x10_0000).contains(&a) && (a as usize) < self.ram.len() {
            self.ram[a as usize] = v;
            return;
        }
        // A20 masked: the RAM is kept aside.
        if a < 0xA0000 || (a >= 0x10_0000 && (a as usize) < self.mem().len()) {
            self.mem_mut()[a as usize] = v;
            return;
        }
        if let Some(c) = &mut self.counters {
            c.count_mem(a, true);
        }
        match a {
            0xA0000..=0xBFFFF if self.smram_open() => self.mem_mut()[a as usize] = v,
            0xA0000..=0xBFFFF => {
                self.sync_cpu();
                if let Some(w) = self.vga_window.as_mut() {
                    w.write(a - 0xA0000, v);
                }
            }
            0xC0000..=0xFFFFF => {
                if self.pam(a) & 2 != 0 {
                    self.mem_mut()[a as usize] = v;
                }
            }
            _ => {
                self.sync_cpu();
                if let (Some(base), Some(lfb)) = (
                    self.pci.as_ref().and_then(PciBus::vga_lfb),
                    self.lfb.as_mut(),
                ) {
                    if base != 0 && a >= base && a - base < super::pci::VGA_LFB_SIZE {
                        lfb.write(a - base, v);
                    }
                }
            }
        }
    }

    // ---- I/O ----

    /// An access to the chips on the ISA side (the AT's own DMA, PIC, PIT,
    /// 8042, port 61h, RTC, page registers, port 92h, F0h, the floppy
    /// controller, and ports nobody claims, which the bridge also sends to
    /// ISA) holds the CPU for an ISA I/O cycle: about 1 µs on an 8 MHz ISA
    /// bus, the delay `outb` to port 80h is used for. Software times
    /// itself by this (Linux's quick TSC calibration needs a PIT read to
    /// take longer than one 1.19 MHz PIT clock). Devices on PCI, the
    /// debug ports and the emulator's own ports cost nothing extra.
    fn charge_io(&mut self, h: Handler) {
        if matches!(
            h,
            Handler::None
                | Handler::Dma1
                | Handler::Pic
                | Handler::Pit
                | Handler::Kbc
                | Handler::Port61
                | Handler::Rtc
                | Handler::Page
                | Handler::Dma2
                | Handler::Fpu
                | Handler::Port92
                | Handler::Fdc
        ) {
            self.io_stall += self.config.clock_hz.div_ceil(ISA_IO_CYCLES_PER_SECOND);
        }
    }

    /// The cycles I/O accesses stalled the CPU since the last call: the
    /// runner adds them to the board's time and to the CPU's clock count
    /// (so the TSC keeps counting board time).
    pub fn take_io_stall(&mut self) -> u64 {
        std::mem::take(&mut self.io_stall)
    }

    /// Read `size` (1, 2 or 4) bytes from `port`.
    pub fn io_read_sized(&mut self, port: u16, size: u8) -> u32 {
        self.sync_cpu();
        self.touch_slice();
        let size = size.clamp(1, 4);
        if let Some(c) = &mut self.counters {
            c.io_reads[port as usize] += 1;
        }
        let h = self.ports[port as usize];
        self.charge_io(h);
        match h {
            Handler::PciConfig if port == 0xCF8 && size == 4 => {
                self.pci.as_ref().map_or(u32::MAX, |p| p.address)
            }
            Handler::PciConfig if port >= 0xCFC => self.pci.as_ref().map_or(u32::MAX, |p| {
                p.read_data(port, size.min(4 - (port & 3) as u8))
            }),
            Handler::Device(i) => {
                let now = self.now;
                let v = self.devices[i as usize].device.io_read(now, port, size);
                self.reschedule(AtEvent::Device(i));
                self.sync_irqs();
                v
            }
            Handler::IdeBm(i) => {
                let now = self.now;
                let off = port.wrapping_sub(self.ide_bm_base());
                let v = self.devices[i as usize].device.io_read(now, off, size);
                self.reschedule(AtEvent::Device(i));
                self.sync_irqs();
                v
            }
            _ => {
                // Wider accesses to byte devices are split into bytes.
                let mut v = 0u32;
                for i in 0..size.min(4) as u16 {
                    v |= (self.io_read_byte(port.wrapping_add(i)) as u32) << (8 * i);
                }
                v
            }
        }
    }

    /// Write `size` (1, 2 or 4) bytes to `port`.
    pub fn io_write_sized(&mut self, port: u16, size: u8, value: u32) {
        self.sync_cpu();
        self.touch_slice();
        let size = size.clamp(1, 4);
        if let Some(c) = &mut self.counters {
            c.io_writes[port as usize] += 1;
        }
        let h = self.ports[port as usize];
        self.charge_io(h);
        match h {
            Handler::PciConfig if port == 0xCF8 && size == 4 => {
                if let Some(p) = self.pci.as_mut() {
                    p.address = value & 0x80FF_FFFC;
                }
            }
            Handler::PciConfig if port >= 0xCFC => {
                let size = size.min(4 - (port & 3) as u8);
                let written = self
                    .pci
                    .as_mut()
                    .and_then(|p| p.write_data(port, size, value));
                if let Some((kind, _)) = written {
                    self.pci_written(kind);
                }
            }
            Handler::Device(i) => {
                let now = self.now;
                self.devices[i as usize]
                    .device
                    .io_write(now, port, size, value);
                self.reschedule(AtEvent::Device(i));
                self.sync_irqs();
            }
            Handler::IdeBm(i) => {
                let now = self.now;
                let off = port.wrapping_sub(self.ide_bm_base());
                self.devices[i as usize]
                    .device
                    .io_write(now, off, size, value);
                self.reschedule(AtEvent::Device(i));
                self.sync_irqs();
            }
            Handler::BochsPanic if size == 2 => {
                self.bios_panic = Some(value as u16);
            }
            _ => {
                for i in 0..size.min(4) as u16 {
                    self.io_write_byte(port.wrapping_add(i), (value >> (8 * i)) as u8);
                }
            }
        }
    }

    fn io_read_byte(&mut self, port: u16) -> u8 {
        let now = self.now;
        match self.ports[port as usize] {
            Handler::None | Handler::Shutdown | Handler::BochsPanic => 0xFF,
            Handler::Dma1 => self.dma1.read(port & 0x0F),
            Handler::Dma2 => {
                if port & 1 != 0 {
                    0xFF
                } else {
                    self.dma2.read(((port - 0xC0) >> 1) & 0x0F)
                }
            }
            Handler::Page => self.pages[(port & 0x0F) as usize],
            Handler::Pic => self.pics.io_read(port & 0xA1),
            Handler::Elcr => self.pics.io_read(port),
            Handler::Pit => {
                self.settle_pit();
                let v = self.pit.read(port & 3);
                self.reschedule(AtEvent::Pit);
                v
            }
            Handler::Port61 => {
                self.settle_pit();
                let refresh = (self.pit_ticks / REFRESH_PIT_CLOCKS) & 1 != 0;
                (self.port61 & 0x0F)
                    | if refresh { 0x10 } else { 0 }
                    | if self.pit.out(2) { 0x20 } else { 0 }
            }
            Handler::Kbc => {
                let v = self.kbc.io_read(now, port == 0x60);
                self.reschedule(AtEvent::Keyboard);
                self.sync_irqs();
                v
            }
            Handler::Rtc => {
                let v = self.rtc.io_read(now, port == 0x70);
                self.reschedule(AtEvent::Rtc);
                self.sync_irqs();
                v
            }
            Handler::Port92 => self.port92 | if self.a20() { 0x02 } else { 0 },
            Handler::Fpu => 0xFF,
            Handler::ResetControl => self.cf9,
            Handler::Debugcon => self.debug.io_read(port).unwrap_or(0xFF),
            // A debug console port reads back E9h (the value QEMU's and
            // Bochs's return): SeaBIOS writes its log to 402h only after
            // seeing it.
            Handler::BochsInfo if port == 0x402 => 0xE9,
            Handler::BochsInfo | Handler::VgaBiosInfo => 0xFF,
            Handler::Fdc => {
                let v = self.fdc.io_read(port);
                self.sync_irqs();
                v
            }
            Handler::PciConfig => {
                // Byte or word reads of CF8h–CFBh: not the address register.
                0xFF
            }
            Handler::IdeBm(i) => {
                let off = port.wrapping_sub(self.ide_bm_base());
                let v = self.devices[i as usize].device.io_read(now, off, 1) as u8;
                self.reschedule(AtEvent::Device(i));
                self.sync_irqs();
                v
            }
            Handler::Device(i) => {
                let v = self.devices[i as usize].device.io_read(now, port, 1) as u8;
                self.reschedule(AtEvent::Device(i));
                self.sync_irqs();
                v
            }
        }
    }

    fn io_write_byte(&mut self, port: u16, v: u8) {
        let now = self.now;
        match self.ports[port as usize] {
            Handler::None | Handler::PciConfig => {}
            Handler::Dma1 => {
                self.dma1.write(port & 0x0F, v);
                self.service_dma();
            }
            Handler::Dma2 => {
                if port & 1 == 0 {
                    self.dma2.write(((port - 0xC0) >> 1) & 0x0F, v);
                }
            }
            Handler::Page => self.write_page(port, v),
            Handler::Pic => {
                self.pics.io_write(port & 0xA1, v);
            }
            Handler::Elcr => self.pics.io_write(port, v),
            Handler::Pit => {
                self.settle_pit();
                self.pit.write(port & 3, v);
                self.settle_pit();
                self.reschedule(AtEvent::Pit);
            }
            Handler::Port61 => {
                self.settle_pit();
                self.port61 = v & 0x0F;
                self.pit.set_gate(2, v & 1 != 0);
                self.reschedule(AtEvent::Pit);
            }
            Handler::Kbc => {
                self.kbc.io_write(now, port == 0x60, v);
                self.update_a20();
                self.reschedule(AtEvent::Keyboard);
            }
            Handler::Rtc => {
                self.rtc.io_write(now, port == 0x70, v);
                self.reschedule(AtEvent::Rtc);
            }
            Handler::Port92 => {
                // Bit 0: a 0→1 transition pulses the CPU's reset.
                if v & 1 != 0 && self.port92 & 1 == 0 {
                    self.reset = Some(ResetKind::Cpu);
                }
                self.port92 = v & 0x03;
                self.update_a20();
            }
            Handler::Fpu => {
                if port == 0xF0 {
                    self.fpu_error = false;
                }
            }
            Handler::ResetControl => {
                // RST_CPU (bit 2) 0→1 resets; bit 1 selects a hard reset.
                if v & 0x04 != 0 && self.cf9 & 0x04 == 0 {
                    self.reset = Some(if v & 0x02 != 0 {
                        ResetKind::System
                    } else {
                        ResetKind::Cpu
                    });
                }
                self.cf9 = v & 0x02;
            }
            Handler::Debugcon => {
                self.debug.io_write(port, v);
            }
            Handler::BochsPanic => self.bios_panic = Some(v as u16),
            Handler::BochsInfo => self.bios_info.push(v),
            Handler::VgaBiosInfo => self.vgabios_info.push(v),
            Handler::Shutdown => {
                const WORD: &[u8] = b"Shutdown";
                if v == WORD[self.shutdown_match] {
                    self.shutdown_match += 1;
                    if self.shutdown_match == WORD.len() {
                        self.shutdown = true;
                        self.shutdown_match = 0;
                    }
                } else {
                    self.shutdown_match = usize::from(v == WORD[0]);
                }
            }
            Handler::Fdc => {
                let t = self.fdc_time();
                self.fdc.io_write(port, v, t);
                self.reschedule(AtEvent::Floppy);
                self.service_dma();
            }
            Handler::Device(i) => {
                self.devices[i as usize]
                    .device
                    .io_write(now, port, 1, v as u32);
                self.reschedule(AtEvent::Device(i));
            }
            Handler::IdeBm(i) => {
                let off = port.wrapping_sub(self.ide_bm_base());
                self.devices[i as usize]
                    .device
                    .io_write(now, off, 1, v as u32);
                self.reschedule(AtEvent::Device(i));
            }
        }
        self.sync_irqs();
    }

    fn write_page(&mut self, port: u16, v: u8) {
        let i = (port & 0x0F) as usize;
        self.pages[i] = v;
        if i == 0 {
            // BIOSes also write port 80h as an I/O delay: log changes only.
            if self.post_codes.last() != Some(&v) && self.post_codes.len() < POST_LOG_MAX {
                self.post_codes.push(v);
            }
            self.post_code = v;
        }
        // Channels 0–3: the XT's page ports; channels 5–7: 8Bh, 89h, 8Ah.
        self.dma1.write_page(port, v);
        for (ch, &p) in [0x0Fusize, 0x0B, 0x09, 0x0A].iter().enumerate() {
            if p == i {
                self.dma2.channels[ch].page = v;
            }
        }
    }

    /// Move bytes between the floppy controller and memory on DMA channel 2.
    fn service_dma(&mut self) {
        let mut guard = 0u32;
        while self.fdc.drq() && self.dma1.channel_ready(2) && guard < 0x20000 {
            guard += 1;
            let t = self.dma1.next_transfer(2);
            // ISA DMA reaches the first 16 MiB, A20 regardless.
            let a = t.address & 0x00FF_FFFF;
            match t.kind {
                TransferType::Write => {
                    let b = self.fdc.dma_read();
                    self.dma_mem_write(a, b);
                }
                TransferType::Read => {
                    let b = self.dma_mem_read(a);
                    self.fdc.dma_write(b);
                }
                _ => {
                    self.fdc.dma_read();
                }
            }
            if t.terminal_count {
                self.fdc.terminal_count();
            }
        }
        self.reschedule(AtEvent::Floppy);
    }

    fn dma_mem_read(&mut self, a: u32) -> u8 {
        let mask = std::mem::replace(&mut self.a20_mask, u32::MAX);
        let v = self.mem_read(a);
        self.a20_mask = mask;
        v
    }

    fn dma_mem_write(&mut self, a: u32, v: u8) {
        let mask = std::mem::replace(&mut self.a20_mask, u32::MAX);
        self.mem_write(a, v);
        self.a20_mask = mask;
    }

    /// The physical address of a 16-bit DMA transfer on channel 4–7 from the
    /// controller's word address and the page register: A0 is always 0, the
    /// word address gives A1–A16 and the page's bits 1–7 give A17–A23.
    pub fn dma16_address(&self, ch: usize) -> u32 {
        let c = &self.dma2.channels[ch & 3];
        ((c.page as u32 & 0xFE) << 16) | ((c.address as u32) << 1)
    }

    /// One word cycle on 16-bit DMA channel `ch` (5–7) for a device
    /// holding its DREQ: in a write transfer (device to memory) `word` is
    /// stored, in a read transfer (memory to device) the word in memory is
    /// returned; verify moves only the address and count. None while the
    /// channel is masked or the controller disabled (or for channel 4, the
    /// cascade). The address is the controller's word address shifted left
    /// by one with the page's bits 1–7 above it ([`AtBoard::dma16_address`]),
    /// so a transfer stays inside its 128 KiB block; the count is in words.
    pub fn dma16_transfer(&mut self, ch: usize, word: u16) -> Option<Dma16Cycle> {
        let i = ch.checked_sub(4).filter(|&i| (1..4).contains(&i))?;
        if !self.dma2.channel_ready(i) {
            return None;
        }
        // ISA DMA reaches the first 16 MiB, A20 regardless.
        let address = self.dma16_address(i) & 0x00FF_FFFF;
        let t = self.dma2.next_transfer(i);
        let word = match t.kind {
            TransferType::Write => {
                let [lo, hi] = word.to_le_bytes();
                self.dma_mem_write(address, lo);
                self.dma_mem_write(address + 1, hi);
                word
            }
            TransferType::Read => {
                u16::from_le_bytes([self.dma_mem_read(address), self.dma_mem_read(address + 1)])
            }
            _ => word,
        };
        Some(Dma16Cycle {
            address,
            kind: t.kind,
            word,
            terminal_count: t.terminal_count,
        })
    }

    /// Insert or eject a floppy image.
    pub fn insert_floppy(&mut self, drive: usize, image: Option<FloppyImage>) {
        self.fdc.insert(drive, image);
    }

    /// Type set 1 make/break codes on the PS/2 keyboard.
    pub fn keyboard_set1(&mut self, codes: &[u8]) {
        self.kbc.keyboard.push_set1(codes);
        self.kbc.advance(self.now);
        self.reschedule(AtEvent::Keyboard);
        self.sync_irqs();
    }

    /// Type text on the PS/2 keyboard: ASCII and `<enter>`, `<f1>`,
    /// `<ctrl+c>`… as for the XT's keyboard.
    pub fn type_keys(&mut self, text: &str) -> Result<(), devices::keyboard::UnknownKey> {
        let codes = devices::keyboard::text_to_scancodes(text)?;
        self.keyboard_set1(&codes);
        Ok(())
    }

    /// The speaker's input: PIT counter 2's output gated by port 61h bit 1.
    pub fn speaker(&mut self) -> bool {
        self.settle_pit();
        self.port61 & 0x02 != 0 && self.pit.out(2)
    }

    /// The PCI configuration register `reg` of the function of `kind`.
    pub fn pci_config(&self, kind: PciKind, reg: u8, size: u8) -> Option<u32> {
        Some(self.pci.as_ref()?.get(kind)?.config.read(reg, size))
    }
}

impl cpu::Bus for AtBoard {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        self.mem_read(addr)
    }

    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        self.cpu_mem_write(addr, value)
    }

    fn io_read(&mut self, port: u16) -> u8 {
        self.io_read_sized(port, 1) as u8
    }

    fn io_write(&mut self, port: u16, value: u8) {
        self.io_write_sized(port, 1, value as u32)
    }

    fn io_read16(&mut self, port: u16) -> u16 {
        self.io_read_sized(port, 2) as u16
    }

    fn io_write16(&mut self, port: u16, value: u16) {
        self.io_write_sized(port, 2, value as u32)
    }

    fn io_read32(&mut self, port: u16) -> u32 {
        self.io_read_sized(port, 4)
    }

    fn io_write32(&mut self, port: u16, value: u32) {
        self.io_write_sized(port, 4, value)
    }

    fn inta(&mut self) -> u8 {
        self.sync_cpu();
        let v = self.pics.acknowledge();
        self.sync_irqs();
        self.slice.acked = true;
        self.touch_slice();
        if let Some(log) = &mut self.irq_log {
            log.push((self.now, v));
        }
        if let Some(c) = &mut self.counters {
            c.vectors[v as usize] += 1;
        }
        v
    }

    #[inline]
    fn slice_clock(&mut self, cycles: u64) {
        self.slice.cpu_clocks = cycles;
    }

    #[inline]
    fn take_slice_end(&mut self) -> bool {
        std::mem::take(&mut self.slice.touched) && self.slice_must_end()
    }

    #[inline]
    fn ram_generation(&self) -> Option<u64> {
        Some(self.ram_gen)
    }

    /// All of RAM while A20 is on (outside `DIRECT_HOLE`, where the CPU
    /// never takes it from here, every byte of it is plain RAM at its own
    /// address); nothing while A20 is masked, when the addresses with bit
    /// 20 set alias the first megabyte: `update_a20` has then moved the
    /// RAM out of `ram`, so the slice is the field as it stands.
    #[inline]
    fn ram_direct(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    #[inline]
    fn slice_events(&self) -> Option<u64> {
        Some(self.events)
    }

    #[inline]
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let end = addr.checked_add(len)?;
        // The common cases first: conventional memory, and extended memory
        // with A20 on, in the lent field (empty while A20 is masked, when
        // the slow path takes the RAM where it is kept).
        if (end <= 0xA0000 || addr >= 0x10_0000) && end as usize <= self.ram.len() {
            return self.ram.get_mut(addr as usize..end as usize);
        }
        self.ram_mut_slow(addr, len)
    }

    #[inline]
    fn ram_read(&mut self, addr: u32, len: u32) -> Option<&[u8]> {
        // In 64 bits: the BIOS alias ends at the top of the address space.
        let end = u64::from(addr) + u64::from(len);
        // As `ram_mut`: the lent field, empty while A20 is masked.
        if (end <= 0xA0000 || addr >= 0x10_0000) && end <= self.ram.len() as u64 {
            return self.ram.get(addr as usize..end as usize);
        }
        self.ram_read_slow(addr, len)
    }
}
