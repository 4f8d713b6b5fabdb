//! Peripheral models: display adapters (CGA, MDA, VGA), keyboard, floppy controller, IDE/ATA
//! and ATAPI, serial ports (8250, 16550A) and debug ports.
//!
//! Devices know nothing of the CPU. They expose port and memory handlers,
//! raise lines (IRQ, DRQ) the motherboard reads, and report when they next
//! need time. Time is always counted in CPU clock cycles (4.77 MHz on the
//! PC/XT), passed in by the caller.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bytes_serde;
pub mod cmos;
pub mod debug;
pub mod fdc;
pub mod floppy;
pub mod font;
pub mod i8042;
pub mod ide;
pub mod keyboard;
pub mod serial;
pub mod uart16550;
pub mod vga;
pub mod video;

pub use cmos::{Rtc, RtcTime};
pub use debug::{DebugPorts, Speaker};
pub use fdc::Fdc;
pub use floppy::{DiskError, DriveType, FloppyImage, Geometry};
pub use i8042::I8042;
pub use ide::{AtaDisk, AtapiCdrom, BlockImage, Ide, IdeChannel, ImageError, Media};
pub use keyboard::XtKeyboard;
pub use serial::Uart8250;
pub use uart16550::Uart16550;
pub use vga::{Vga, VgaError};
pub use video::{Video, VideoKind};
