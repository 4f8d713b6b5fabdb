//! The IBM PC/XT motherboard: clock and event scheduler, 8259A interrupt
//! controller, 8253/8254 timer, 8237A DMA controller, 8255A peripheral
//! interface, NMI mask, memory map and I/O decode; and the [`Machine`] that
//! joins them, the devices and a CPU, built from a YAML machine profile.
//!
//! ```no_run
//! use chipset::{Machine, Overrides};
//! let mut m = Machine::from_profile("test-suites/machines/xt.yaml".as_ref(), &Overrides::default())?;
//! m.run_until_within(50_000_000, |m| m.screen_text().contains("A:\\>"));
//! println!("{}", m.screen_text());
//! # Ok::<(), chipset::MachineError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod at;
pub mod dma;
pub mod machine;
pub mod pic;
pub mod pit;
pub mod ppi;
pub mod profile;
pub mod scheduler;
pub mod testboard;

pub use machine::{Board, IoAccess, Machine, MachineState, RunStop};
pub use profile::{FloppyDrive, MachineError, MachineProfile, Overrides, RomImage};
pub use scheduler::{Event, Scheduler, Timed, CPU_HZ};
