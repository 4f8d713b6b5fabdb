//! The whole AT/PCI PC: the board of a profile with the 32-bit core and the
//! real devices plugged into its seams — the VGA (ports, the A0000h window,
//! the linear framebuffer at the PCI BAR), both IDE channels (IRQ 14/15, the
//! CMOS disk types and geometry), two 16550As (COM1 IRQ 4, COM2 IRQ 3).
//!
//! The devices are shared with the caller (`Rc<RefCell<…>>`) so that a
//! front end can read the screen, the serial output or the disks while the
//! board owns the port and memory handlers.

use super::board::{AtBoardState, IoDevice, MmioDevice};
use super::machine::{build_at, AtMachine};
use super::run::AtRun;
use crate::profile::{MachineError, MachineProfile};
use cpu::ia32::{Cpu32, Cpu32State, Model32};
use devices::ide::Media;
use devices::{Ide, Uart16550, Vga};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The 32-bit core's model for a profile's CPU name, or a message naming
/// what is known.
pub fn cpu_model(name: &str) -> Result<Model32, String> {
    Model32::from_name(name.trim()).ok_or_else(|| {
        format!("unknown CPU model '{name}' (known: 286, 386, 486, pentium, pentium-pro)")
    })
}

/// The VGA's ports; the card counts time in CPU cycles itself.
struct VgaPorts(Rc<RefCell<Vga>>);

impl IoDevice for VgaPorts {
    fn io_read(&mut self, now: u64, port: u16, size: u8) -> u32 {
        self.0.borrow_mut().io_read_sized(port, size, now)
    }
    fn io_write(&mut self, now: u64, port: u16, size: u8, value: u32) {
        self.0.borrow_mut().io_write_sized(port, size, value, now);
    }
    fn reset(&mut self, _now: u64) {
        self.0.borrow_mut().reset();
    }
    /// The vertical retrace interrupt (CR11 bits 4/5).
    fn irq(&self) -> bool {
        let v = self.0.borrow();
        v.irq(v.now)
    }
    fn advance(&mut self, now: u64) {
        let mut v = self.0.borrow_mut();
        v.now = v.now.max(now);
    }
    fn next_deadline(&self) -> Option<u64> {
        self.0.borrow().next_irq_deadline()
    }
}

/// The VGA's legacy memory window at A0000h.
struct VgaWindow(Rc<RefCell<Vga>>);

impl MmioDevice for VgaWindow {
    fn read(&mut self, offset: u32) -> u8 {
        self.0.borrow_mut().mem_read(offset)
    }
    fn write(&mut self, offset: u32, value: u8) {
        self.0.borrow_mut().mem_write(offset, value);
    }
}

/// The VGA's linear framebuffer (PCI BAR0).
struct VgaLfb(Rc<RefCell<Vga>>);

impl MmioDevice for VgaLfb {
    fn read(&mut self, offset: u32) -> u8 {
        self.0.borrow_mut().lfb_read(offset)
    }
    fn write(&mut self, offset: u32, value: u8) {
        self.0.borrow_mut().lfb_write(offset, value);
    }
}

/// One IDE channel's ports; both channels share the controller, each has
/// its own interrupt line.
struct IdePorts {
    ide: Rc<RefCell<Ide>>,
    channel: usize,
}

impl IoDevice for IdePorts {
    fn io_read(&mut self, now: u64, port: u16, size: u8) -> u32 {
        self.ide.borrow_mut().io_read(port, size, now)
    }
    fn io_write(&mut self, now: u64, port: u16, size: u8, value: u32) {
        self.ide.borrow_mut().io_write(port, size, value, now);
    }
    fn irq(&self) -> bool {
        self.ide.borrow().irq(self.channel)
    }
    fn advance(&mut self, now: u64) {
        self.ide.borrow_mut().tick(now);
    }
    fn next_deadline(&self) -> Option<u64> {
        self.ide.borrow().channels[self.channel].next_event()
    }
    fn reset(&mut self, now: u64) {
        // The hardware reset acts like a software reset pulse (SRST set,
        // then cleared) on the channel's device control register, which
        // also clears nIEN.
        let ctl = if self.channel == 0 { 0x3F6 } else { 0x376 };
        let mut ide = self.ide.borrow_mut();
        ide.io_write(ctl, 1, 0x04, now);
        ide.io_write(ctl, 1, 0x00, now);
    }
}

/// A 16550A at its eight ports.
struct UartPorts {
    uart: Rc<RefCell<Uart16550>>,
    base: u16,
}

impl IoDevice for UartPorts {
    fn io_read(&mut self, now: u64, port: u16, size: u8) -> u32 {
        let mut u = self.uart.borrow_mut();
        let mut v = 0;
        for i in 0..size.min(4) as u16 {
            let reg = port.wrapping_add(i).wrapping_sub(self.base);
            v |= (u.read(reg, now) as u32) << (8 * i);
        }
        v
    }
    fn io_write(&mut self, now: u64, port: u16, size: u8, value: u32) {
        let mut u = self.uart.borrow_mut();
        for i in 0..size.min(4) as u16 {
            let reg = port.wrapping_add(i).wrapping_sub(self.base);
            u.write(reg, (value >> (8 * i)) as u8, now);
        }
    }
    fn irq(&self) -> bool {
        self.uart.borrow().irq()
    }
    fn advance(&mut self, now: u64) {
        self.uart.borrow_mut().tick(now);
    }
    fn next_deadline(&self) -> Option<u64> {
        self.uart.borrow().next_event()
    }
    fn reset(&mut self, _now: u64) {
        self.uart.borrow_mut().reset();
    }
}

/// The PC: CPU, board and the devices a front end looks at.
pub struct AtPc {
    /// The CPU and the board.
    pub run: AtRun<Cpu32>,
    /// The display adapter.
    pub vga: Rc<RefCell<Vga>>,
    /// Both IDE channels.
    pub ide: Rc<RefCell<Ide>>,
    /// COM1 (3F8h, IRQ 4) and COM2 (2F8h, IRQ 3).
    pub com: [Rc<RefCell<Uart16550>>; 2],
    /// The BIOS image used.
    pub bios: PathBuf,
    /// The VGA BIOS image used, if any.
    pub vga_bios: Option<PathBuf>,
    /// The profile it was built from, and the directory its relative
    /// paths are relative to: a snapshot names them so that the same PC
    /// can be built again to restore it onto.
    pub profile: (MachineProfile, PathBuf),
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// CMOS bytes of a user-defined (type 47) drive: cylinders, heads, write
/// precompensation (none: FFFFh), control byte (bit 3: more than 8 heads),
/// landing zone, sectors per track — the IBM AT's layout at 1Bh (drive 0)
/// and 24h (drive 1).
fn cmos_geometry(c: &devices::ide::ata::Chs) -> [u8; 9] {
    let cyl = c.cylinders.min(0xFFFF) as u16;
    [
        cyl as u8,
        (cyl >> 8) as u8,
        c.heads as u8,
        0xFF,
        0xFF,
        if c.heads > 8 { 0x08 } else { 0 },
        cyl as u8,
        (cyl >> 8) as u8,
        c.sectors as u8,
    ]
}

/// Build the PC of an AT or PCI profile (`base`: the profile's directory):
/// the board of [`build_at`], a [`Cpu32`] of the profile's model, the VGA,
/// IDE (the profile's `hda` as primary master, `cdrom` as secondary master,
/// as QEMU places them) and two UARTs.
pub fn build_pc(profile: &MachineProfile, base: &Path) -> Result<AtPc, MachineError> {
    let name = PathBuf::from(profile.name.clone().unwrap_or_else(|| "profile".into()));
    let model = cpu_model(&profile.cpu).map_err(|message| MachineError::ProfileValue {
        path: name.clone(),
        message,
    })?;
    // Open the disks first: a bad image stops the build before anything runs.
    let mut ide = Ide::new();
    if let Some(hda) = &profile.hda {
        ide.attach_disk(0, 0, &resolve(base, hda), profile.hda_writable)?;
    }
    if let Some(cd) = &profile.cdrom {
        ide.attach_cdrom(1, 0, Some(&resolve(base, cd)))?;
    }
    let AtMachine {
        mut board,
        bios,
        vga_bios,
    } = build_at(profile, base)?;
    let hz = board.config.clock_hz;
    // A few microseconds of BSY per command, as on a real drive: BIOSes
    // poll for it and some wait for the interrupt.
    ide.set_command_delay((hz / 200_000).max(1));

    // CMOS types 47 with the geometry the drive reports in IDENTIFY.
    if let Some(devices::ide::Drive {
        media: Media::Disk(d),
        ..
    }) = ide.channels[0].drive(0)
    {
        let g = cmos_geometry(&d.geometry);
        board.rtc.ram[0x1B..0x24].copy_from_slice(&g);
        board.rtc.update_checksum();
    }

    let vga = Vga::with_config(super::pci::VGA_LFB_SIZE as usize, hz).map_err(|e| {
        MachineError::ProfileValue {
            path: name.clone(),
            message: e.to_string(),
        }
    })?;
    let vga = Rc::new(RefCell::new(vga));
    let ide = Rc::new(RefCell::new(ide));
    let com = [
        Rc::new(RefCell::new(Uart16550::new(hz))),
        Rc::new(RefCell::new(Uart16550::new(hz))),
    ];
    let board_err = |source| MachineError::Board {
        path: name.clone(),
        source,
    };
    let ranges: Vec<_> = devices::vga::IO_RANGES
        .iter()
        .map(|&(a, b)| a..=b)
        .collect();
    board
        // The card's interrupt is IRQ 2 of the ISA bus, which the AT wires
        // to IRQ 9.
        .attach_io(Box::new(VgaPorts(vga.clone())), &ranges, Some(9))
        .map_err(board_err)?;
    board.attach_vga_window(Box::new(VgaWindow(vga.clone())));
    board.attach_lfb(Box::new(VgaLfb(vga.clone())));
    for (channel, cmd, ctl, irq) in [(0, 0x1F0, 0x3F6, 14), (1, 0x170, 0x376, 15)] {
        board
            .attach_io(
                Box::new(IdePorts {
                    ide: ide.clone(),
                    channel,
                }),
                &[cmd..=cmd + 7, ctl..=ctl],
                Some(irq),
            )
            .map_err(board_err)?;
    }
    for (uart, base, irq) in [(&com[0], 0x3F8, 4), (&com[1], 0x2F8, 3)] {
        board
            .attach_io(
                Box::new(UartPorts {
                    uart: uart.clone(),
                    base,
                }),
                &[base..=base + 7],
                Some(irq),
            )
            .map_err(board_err)?;
    }
    if board.config.pci {
        // The firmware configuration interface SeaBIOS looks for (RAM size,
        // e820 map, CPU count, boot order).
        let fw = super::fwcfg::FwCfg::for_pc(
            board.config.memory_mib as u64 * (1 << 20),
            &board.config.boot.clone(),
        );
        board
            .attach_io(
                Box::new(fw),
                &[super::fwcfg::FW_CFG_SELECTOR..=super::fwcfg::FW_CFG_DATA],
                None,
            )
            .map_err(board_err)?;
    }
    let mut cpu = Cpu32::new(model);
    // The 80287/80387 in the socket (the profile checked it is a 286/386).
    cpu.set_x87(profile.coprocessor);
    Ok(AtPc {
        run: AtRun::new(cpu, board),
        vga,
        ide,
        com,
        bios,
        vga_bios,
        profile: (profile.clone(), base.to_path_buf()),
    })
}

/// Everything of an [`AtPc`] a snapshot holds: the CPU, the board with
/// its chips, and the devices the PC shares with front ends. Restored with
/// [`AtPc::load_state`] onto a PC built from the same profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AtPcState {
    /// The CPU.
    pub cpu: Cpu32State,
    /// The board.
    pub board: AtBoardState,
    /// The VGA: registers, DAC, video memory, retrace timing.
    pub vga: Vga,
    /// Both IDE channels: registers, a command in flight, the drives with
    /// their images' changed blocks (the images themselves are reopened).
    pub ide: Ide,
    /// COM1 and COM2 with their FIFOs and pending input.
    pub com: [Uart16550; 2],
    /// Resets so far.
    pub resets: u64,
    /// The runner's view of the CPU's clock count.
    pub last_cpu_cycles: u64,
    /// Slices run (a statistic: it depends on how the run was cut up, and
    /// state hashes leave it out).
    pub slices: u64,
}

/// The image of an IDE slot, for comparing machines: (path, blocks).
fn ide_media(ide: &Ide, ch: usize, slot: usize) -> Option<(PathBuf, u64)> {
    let img = match &ide.channels[ch].drive(slot)?.media {
        Media::Disk(d) => &d.image,
        Media::Cdrom(c) => c.disc.as_ref()?,
    };
    Some((img.path.clone(), img.blocks()))
}

impl AtPc {
    /// The whole machine's state (between slices). Refused when a guest
    /// write would reach a file on the host (a disk or floppy opened
    /// writable): the file would go on changing after the snapshot, and a
    /// restored machine would see other sectors than the saved one did.
    pub fn save_state(&self) -> Result<AtPcState, String> {
        let ide = self.ide.borrow();
        for ch in &ide.channels {
            for slot in 0..2 {
                if let Some(devices::ide::Drive {
                    media: Media::Disk(d),
                    ..
                }) = ch.drive(slot)
                {
                    if d.image.writable() {
                        return Err(format!(
                            "{}: the disk is writable (guest writes go to the file), so a snapshot would not match it later; run without --writable",
                            d.image.path.display()
                        ));
                    }
                }
            }
        }
        if self.run.board.writes_through() {
            return Err(
                "a floppy image is writable (guest writes go to the file), so a snapshot would not match it later; run without --writable"
                    .into(),
            );
        }
        Ok(AtPcState {
            cpu: self.run.cpu.save_state(),
            board: self.run.board.save_state(),
            vga: self.vga.borrow().clone(),
            ide: ide.clone(),
            com: [self.com[0].borrow().clone(), self.com[1].borrow().clone()],
            resets: self.run.resets,
            last_cpu_cycles: self.run.last_cpu_cycles,
            slices: self.run.slices,
        })
    }

    /// Put back a state from [`AtPc::save_state`] on a PC built from the
    /// same profile. Refused when the CPU model, board, RAM, firmware,
    /// disks or video memory differ; the machine is not usable after an
    /// error (build it again).
    pub fn load_state(&mut self, s: AtPcState) -> Result<(), String> {
        {
            let ide = self.ide.borrow();
            for ch in 0..2 {
                for slot in 0..2 {
                    let (a, b) = (ide_media(&s.ide, ch, slot), ide_media(&ide, ch, slot));
                    if a != b {
                        let show = |m: &Option<(PathBuf, u64)>| match m {
                            Some((p, n)) => format!("{} ({n} blocks)", p.display()),
                            None => "empty".into(),
                        };
                        return Err(format!(
                            "IDE channel {ch} drive {slot}: the state has {}, this machine {}",
                            show(&a),
                            show(&b)
                        ));
                    }
                }
            }
        }
        if s.vga.vram.len() != self.vga.borrow().vram.len() {
            return Err(format!(
                "the state has {} KiB of video memory, this machine {} KiB",
                s.vga.vram.len() / 1024,
                self.vga.borrow().vram.len() / 1024
            ));
        }
        self.run.cpu.load_state(&s.cpu)?;
        self.run.board.load_state(s.board)?;
        *self.vga.borrow_mut() = s.vga;
        *self.ide.borrow_mut() = s.ide;
        let [c1, c2] = s.com;
        *self.com[0].borrow_mut() = c1;
        *self.com[1].borrow_mut() = c2;
        self.run.resets = s.resets;
        self.run.last_cpu_cycles = s.last_cpu_cycles;
        self.run.slices = s.slices;
        Ok(())
    }
}
