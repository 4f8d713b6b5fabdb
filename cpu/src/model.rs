//! The CPU models ironpc emulates, and what each one's programmer-visible
//! differences are (bus width, queue length, address lines, FLAGS bits).
//! Shared by every core.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which processor a CPU behaves as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CpuModel {
    /// Intel 8088: 8-bit external bus, 4-byte prefetch queue.
    I8088,
    /// Intel 8086: 16-bit bus, 6-byte queue.
    I8086,
    /// Intel 80186 (and 80188 instruction set).
    I80186,
    /// Intel 80286 in real mode.
    I80286,
}

impl CpuModel {
    /// Bytes moved per bus cycle.
    pub fn bus_width_bytes(self) -> u32 {
        match self {
            CpuModel::I8088 => 1,
            _ => 2,
        }
    }

    /// Prefetch queue length in bytes.
    pub fn queue_len(self) -> usize {
        match self {
            CpuModel::I8088 => 4,
            _ => 6,
        }
    }

    /// Mask applied to physical addresses (20 address lines, 24 on the 286).
    pub fn address_mask(self) -> u32 {
        match self {
            CpuModel::I80286 => 0x00FF_FFFF,
            _ => 0x000F_FFFF,
        }
    }

    /// True for the 80186 and later (the instruction-set extensions).
    pub fn is_186_plus(self) -> bool {
        matches!(self, CpuModel::I80186 | CpuModel::I80286)
    }

    /// Short name: `8088`, `8086`, `80186`, `80286`.
    pub fn name(self) -> &'static str {
        match self {
            CpuModel::I8088 => "8088",
            CpuModel::I8086 => "8086",
            CpuModel::I80186 => "80186",
            CpuModel::I80286 => "80286",
        }
    }

    /// FLAGS bits that always read as one in real mode.
    pub fn flags_fixed_ones(self) -> u16 {
        match self {
            // Intel documents bits 12-15 as undefined on the 80C186; the 80186
            // test ROMs were recorded with them clear (their control flow
            // depends on it), so the 80186 model keeps them clear.
            CpuModel::I80186 | CpuModel::I80286 => 0x0002,
            _ => 0xF002,
        }
    }

    /// FLAGS bits that can be written.
    pub fn flags_writable(self) -> u16 {
        match self {
            // NT and IOPL cannot be set in real mode on the 286.
            CpuModel::I80286 => 0x0FD5,
            _ => 0x0FD5,
        }
    }
}

impl fmt::Display for CpuModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an unknown CPU model name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownModel(pub String);

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown CPU model '{}' (expected 8088, 8086, 80186 or 80286)",
            self.0
        )
    }
}

impl std::error::Error for UnknownModel {}

impl FromStr for CpuModel {
    type Err = UnknownModel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().trim_start_matches('i') {
            "8088" => Ok(CpuModel::I8088),
            "8086" => Ok(CpuModel::I8086),
            "80186" | "186" | "80188" => Ok(CpuModel::I80186),
            "80286" | "286" => Ok(CpuModel::I80286),
            _ => Err(UnknownModel(s.to_string())),
        }
    }
}
