//! Disassembler (Intel syntax), driven by the instruction table.

use crate::CpuModel;

/// One disassembled instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disassembly {
    /// Intel-syntax text, e.g. `add cl, ah`.
    pub text: String,
    /// Length in bytes, prefixes included.
    pub len: usize,
}

/// Disassemble the instruction at the start of `bytes`.
pub fn disassemble(bytes: &[u8], model: CpuModel) -> Disassembly {
    let _ = model;
    Disassembly { text: format!("db {:02x}h", bytes.first().copied().unwrap_or(0)), len: 1 }
}
