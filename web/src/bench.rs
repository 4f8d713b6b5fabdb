//! The built-in speed workload (`harness/workloads/mix.bin`, the one
//! `ironpc bench` runs) on a bare board, so the browser and the host can
//! time the same work. Timing is the caller's: wasm32 has no host clock in
//! `std`, so the page times a call with `performance.now()` and host code
//! with `Instant`.

use cpu::{Bus, Cpu, CpuModel, FastTiming};

/// The `mix` boot sector (assembled from `harness/workloads/mix.asm`).
pub const MIX: &[u8] = include_bytes!("../../harness/workloads/mix.bin");

const RAM: usize = 1 << 20;
const LOAD: usize = 0x7C00;
/// Instructions after which a runaway workload is stopped.
const LIMIT: u64 = 1_000_000_000;

/// What one run of the workload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MixRun {
    /// Guest instructions executed.
    pub instructions: u64,
    /// Guest cycles (fast timing model).
    pub cycles: u64,
    /// Bytes the workload wrote to port E9h.
    pub output: Vec<u8>,
    /// The workload finished by writing to port F4h (not halted, not the limit).
    pub exited: bool,
}

/// 1 MiB of RAM, the debug console (E9h) and the exit port (F4h).
struct BareBoard {
    mem: Vec<u8>,
    output: Vec<u8>,
    exit: bool,
}

impl Bus for BareBoard {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        self.mem[addr as usize & (RAM - 1)]
    }
    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        self.mem[addr as usize & (RAM - 1)] = value;
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, port: u16, value: u8) {
        match port {
            0xE9 => self.output.push(value),
            0xF4 => self.exit = true,
            _ => {}
        }
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let start = addr as usize;
        self.mem.get_mut(start..start.checked_add(len as usize)?)
    }
}

/// Run `mix` once on an 8088 with the fast timing model and the decoded
/// instruction cache, as `ironpc bench` does, from 0000:7C00.
pub fn run_mix() -> MixRun {
    let mut board = BareBoard {
        mem: vec![0; RAM],
        output: Vec::new(),
        exit: false,
    };
    board.mem[LOAD..LOAD + MIX.len()].copy_from_slice(MIX);
    let mut cpu: Box<Cpu<FastTiming>> = Box::new(Cpu::new(CpuModel::I8088));
    cpu.regs.seg = [0; 4];
    cpu.regs.ip = LOAD as u16;
    cpu.set_decode_cache(true);
    while !board.exit && !cpu.halted() && cpu.instructions < LIMIT {
        cpu.run(&mut board, 1024);
    }
    MixRun {
        instructions: cpu.instructions,
        cycles: cpu.cycles(),
        output: board.output,
        exited: board.exit,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mix_finishes_with_its_checksum_line() {
        let r = super::run_mix();
        assert!(r.exited);
        // mix.asm prints "mix " and two hex words, then a newline.
        let text = String::from_utf8_lossy(&r.output);
        assert!(text.starts_with("mix ") && text.ends_with('\n'), "{text:?}");
        assert!(r.instructions > 1_000_000);
    }
}
