//! The PC/AT-class machines: an ISA AT board (386/486 with the Bochs legacy
//! BIOS) and an i440FX/PIIX3 PCI PC (Bochs BIOS or SeaBIOS), built beside
//! the PC/XT's board, which they share nothing stateful with.
//!
//! - [`board`]: memory map, A20, reset, the port table and the chipset devices;
//! - [`pics`]: the cascaded 8259A pair with the PIIX's ELCR;
//! - [`pci`]: configuration mechanism #1 and the PCI functions;
//! - [`events`]: the growable deadline set;
//! - [`firmware`]: finding BIOS images like QEMU does;
//! - [`machine`]: building a board from a machine profile;
//! - [`run`]: a CPU and the board run together;
//! - [`pc`]: the whole PC (32-bit core, VGA, IDE, UARTs) from a profile.

pub mod board;
pub mod events;
pub mod firmware;
pub mod fwcfg;
pub mod machine;
pub mod pc;
pub mod pci;
pub mod pics;
pub mod run;

pub use board::{
    pci_intx_pirq, AccessCounters, AtBoard, AtBoardState, AtConfig, AtError, Dma16Cycle, IoDevice,
    MemRegion, MmioDevice, ResetKind,
};
pub use events::{AtEvent, Deadlines};
pub use firmware::{find_firmware, find_firmware_env, FirmwareMissing};
pub use machine::{build_at, build_at_from_file, AtMachine};
pub use pc::{build_pc, cpu_model, AtPc, AtPcState};
pub use pci::{PciBus, PciKind};
pub use pics::CascadedPics;
pub use run::{AtCpu, AtRun, CpuStep, SliceStats};
