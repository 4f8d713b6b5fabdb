//! Shared pieces of the fuzz targets: an arbitrary CPU state decoded from the
//! fuzzer's bytes, a memory where every byte is defined, a second timing model,
//! and the checks a single step must pass.

pub mod ia32;

use cpu::decode::{decode_head, SliceSource};
use cpu::table::Op;
use cpu::{disassemble, Bus, CountingTiming, Cpu, CpuModel, Registers, Seg, StepResult, Timing};
use std::collections::HashMap;

/// Segment of every interrupt handler in the vector table.
pub const HANDLER_CS: u16 = 0xC0DE;
/// Vector `v`'s handler is at `HANDLER_CS:HANDLER_IP0 + 4v`.
pub const HANDLER_IP0: u16 = 0x4000;

/// Memory: the vector table at 0–3FF points at the handlers, other bytes are
/// a hash of the address and a seed until written.
#[derive(Clone, Default)]
pub struct FuzzBus {
    pub seed: u64,
    pub mem: HashMap<u32, u8>,
    pub writes: Vec<(u32, u8)>,
    pub io_writes: Vec<(u16, u8)>,
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl FuzzBus {
    pub fn peek(&self, addr: u32) -> u8 {
        if let Some(v) = self.mem.get(&addr) {
            return *v;
        }
        if addr < 0x400 {
            let v = (addr / 4) as u16;
            let entry = [HANDLER_IP0.wrapping_add(v * 4), HANDLER_CS];
            let w = entry[(addr as usize >> 1) & 1];
            return (w >> (8 * (addr & 1))) as u8;
        }
        mix(self.seed ^ (addr as u64).wrapping_mul(0x100_0000_01B3)) as u8
    }
}

impl Bus for FuzzBus {
    fn read(&mut self, addr: u32) -> u8 {
        self.peek(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.writes.push((addr, value));
        self.mem.insert(addr, value);
    }
    fn io_read(&mut self, port: u16) -> u8 {
        (port as u8) ^ (port >> 8) as u8 ^ 0x5A
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.io_writes.push((port, value));
    }
}

/// A timing model charging different amounts from `CountingTiming`.
#[derive(Clone, Debug, Default)]
pub struct OddTiming {
    cycles: u64,
}

impl Timing for OddTiming {
    fn configure(&mut self, _model: CpuModel) {}
    fn fetch<B: Bus>(&mut self, bus: &mut B, addr: u32) -> u8 {
        self.cycles += 3;
        bus.read(addr)
    }
    fn read8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32) -> u8 {
        self.cycles += 7;
        bus.read(addr)
    }
    fn write8<B: Bus>(&mut self, bus: &mut B, _seg: Seg, addr: u32, v: u8) {
        self.cycles += 11;
        bus.write(addr, v)
    }
    fn read16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32) -> u16 {
        self.cycles += 13;
        let h = bus.read(hi) as u16;
        bus.read(lo) as u16 | h << 8
    }
    fn write16<B: Bus>(&mut self, bus: &mut B, _seg: Seg, lo: u32, hi: u32, v: u16) {
        self.cycles += 17;
        bus.write(lo, v as u8);
        bus.write(hi, (v >> 8) as u8);
    }
    fn io_read<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool) -> u16 {
        self.cycles += 19;
        if word {
            bus.io_read16(port)
        } else {
            bus.io_read(port) as u16
        }
    }
    fn io_write<B: Bus>(&mut self, bus: &mut B, port: u16, word: bool, v: u16) {
        self.cycles += 23;
        if word {
            bus.io_write16(port, v)
        } else {
            bus.io_write(port, v as u8)
        }
    }
    fn flush(&mut self, _cs: u16, _ip: u16) {
        self.cycles += 29;
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// A state and code decoded from fuzzer bytes.
#[derive(Clone, Debug)]
pub struct Input {
    pub model: CpuModel,
    pub regs: Registers,
    pub seed: u64,
    pub code: Vec<u8>,
}

/// Bytes of state before the code: model, 14 register words, the seed.
pub const STATE_LEN: usize = 1 + 28 + 8;

impl Input {
    /// Decode: byte 0 picks the model, then AX CX DX BX SP BP SI DI ES CS SS
    /// DS IP FLAGS (little-endian words), an 8-byte memory seed, and up to 16
    /// bytes of code at CS:IP. The state is fitted as the property tests do:
    /// FLAGS normalised, code and stack clear of the vector table, CX small
    /// under a REP prefix.
    pub fn parse(data: &[u8]) -> Option<Input> {
        if data.len() < STATE_LEN + 1 {
            return None;
        }
        let model = [
            CpuModel::I8088,
            CpuModel::I8086,
            CpuModel::I80186,
            CpuModel::I80286,
        ][(data[0] & 3) as usize];
        let w = |i: usize| u16::from_le_bytes([data[1 + 2 * i], data[2 + 2 * i]]);
        let mut regs = Registers {
            gpr: [w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7)],
            seg: [w(8), w(9), w(10), w(11)],
            ip: w(12),
            flags: w(13),
        };
        let seed = u64::from_le_bytes(data[29..37].try_into().unwrap());
        let code: Vec<u8> = data[STATE_LEN..].iter().take(16).copied().collect();
        regs.flags = (regs.flags & model.flags_writable()) | model.flags_fixed_ones();
        if code.iter().take(12).any(|&b| b == 0xF2 || b == 0xF3) {
            regs.gpr[1] &= 0x3FF;
        }
        let mask = model.address_mask();
        let n = code.len() as u16;
        loop {
            let cs = regs.seg[Seg::CS as usize];
            let clear = (0..n)
                .all(|i| ((((cs as u32) << 4) + regs.ip.wrapping_add(i) as u32) & mask) >= 0x400);
            if clear && cs != HANDLER_CS {
                break;
            }
            regs.seg[Seg::CS as usize] = cs.wrapping_add(0x1000);
        }
        loop {
            let ss = regs.seg[Seg::SS as usize];
            let sp = regs.gpr[4];
            let clear = (0..16u16).all(|i| {
                ((((ss as u32) << 4) + sp.wrapping_sub(8).wrapping_add(i) as u32) & mask) >= 0x400
            });
            if clear {
                break;
            }
            regs.seg[Seg::SS as usize] = ss.wrapping_add(0x1000);
        }
        Some(Input {
            model,
            regs,
            seed,
            code,
        })
    }

    pub fn setup<T: Timing + Default>(&self) -> (Cpu<T>, FuzzBus) {
        let mut cpu = Cpu::<T>::new(self.model);
        cpu.regs = self.regs;
        let mut bus = FuzzBus {
            seed: self.seed,
            ..FuzzBus::default()
        };
        let cs = self.regs.seg[Seg::CS as usize];
        for (i, b) in self.code.iter().enumerate() {
            bus.mem
                .insert(cpu.linear(cs, self.regs.ip.wrapping_add(i as u16)), *b);
        }
        (cpu, bus)
    }
}

/// The vector whose handler `cs:ip` is, by the vector table as it is now.
pub fn entered_vector(bus: &FuzzBus, cs: u16, ip: u16) -> Option<u8> {
    if !bus.writes.iter().any(|&(a, _)| a < 0x400) {
        let d = ip.wrapping_sub(HANDLER_IP0);
        return (cs == HANDLER_CS && d % 4 == 0 && d < 1024).then_some((d / 4) as u8);
    }
    let word = |a: u32| bus.peek(a) as u16 | (bus.peek(a + 1) as u16) << 8;
    (0..=255u8).find(|&v| word(v as u32 * 4) == ip && word(v as u32 * 4 + 2) == cs)
}

fn transfers_control(op: Op) -> bool {
    matches!(
        op,
        Op::Jcc(_)
            | Op::Jmp
            | Op::JmpFar
            | Op::JmpInd
            | Op::JmpFarInd
            | Op::Call
            | Op::CallFar
            | Op::CallInd
            | Op::CallFarInd
            | Op::Ret
            | Op::Retf
            | Op::Iret
            | Op::Int
            | Op::Into
            | Op::Loop
            | Op::Loopz
            | Op::Loopnz
            | Op::Jcxz
    )
}

/// Disassembly must be total and bounded, and stable under truncation to
/// its own length.
pub fn check_decode(data: &[u8]) {
    for model in [
        CpuModel::I8088,
        CpuModel::I8086,
        CpuModel::I80186,
        CpuModel::I80286,
    ] {
        let d = disassemble(data, model);
        assert!(!d.text.is_empty());
        let mut src = SliceSource {
            bytes: data,
            pos: 0,
        };
        let h = decode_head(model, &mut src);
        // `Prefixes::count` saturates at 255 (a run of prefixes has no
        // hardware bound); below that it is exact.
        let body = d.len - h.prefixes.count as usize;
        if h.prefixes.count < u8::MAX {
            assert!((1..=6).contains(&body), "{} bytes after prefixes", body);
        } else {
            assert!(body >= 1);
        }
        assert!(src.pos <= d.len);
        if d.len <= data.len() {
            assert_eq!(disassemble(&data[..d.len], model), d);
        }
    }
}

/// One step from an arbitrary state: no panic, a defined state, the same
/// result under another timing model, and the disassembled length consumed.
pub fn check_exec(data: &[u8]) {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let model = input.model;
    let (mut cpu, mut bus) = input.setup::<CountingTiming>();
    let before = cpu.regs;
    // The instruction as memory holds it (the input's code, then background).
    let cs0 = before.seg[Seg::CS as usize];
    let code: Vec<u8> = (0..64u16)
        .map(|k| bus.peek(cpu.linear(cs0, before.ip.wrapping_add(k))))
        .collect();
    assert_eq!(cpu.step(&mut bus), StepResult::Executed);
    let after = cpu.regs;
    assert_eq!(
        after.flags & model.flags_fixed_ones(),
        model.flags_fixed_ones()
    );
    assert_eq!(
        after.flags & !(model.flags_writable() | model.flags_fixed_ones()),
        0
    );
    // Same architectural outcome with another timing model.
    let (mut cpu2, mut bus2) = input.setup::<OddTiming>();
    cpu2.step(&mut bus2);
    assert_eq!(cpu2.regs, after);
    assert_eq!(cpu2.halted(), cpu.halted());
    assert_eq!(bus2.writes, bus.writes);
    assert_eq!(bus2.io_writes, bus.io_writes);

    let d = disassemble(&code, model);
    if d.len > 56 {
        return; // a prefix run longer than what was read: cannot tell the row
    }
    let mut src = SliceSource {
        bytes: &code,
        pos: 0,
    };
    let h = decode_head(model, &mut src);
    let in_handler = entered_vector(&bus, after.seg[Seg::CS as usize], after.ip).is_some();
    let far = matches!(
        h.row.op,
        Op::JmpFar | Op::CallFar | Op::JmpFarInd | Op::CallFarInd | Op::Retf | Op::Iret
    );
    if in_handler && far {
        // A far transfer whose target came from the vector table: the
        // instruction completed at a handler's address.
    } else if in_handler {
        // Known CPU bugs (cpu/tests/fuzz_findings.rs), skipped until fixed:
        // a 286 interrupt frame at SS:FFFF, and over-long 286 instructions.
        let sp = after.gpr[4];
        let frame_overrun = [0u16, 2, 4].iter().any(|&k| sp.wrapping_add(k) == 0xFFFF);
        if model == CpuModel::I80286 && (frame_overrun || d.len > 10) {
            return;
        }
        assert_eq!(after.flags & 0x0300, 0, "IF/TF left set in a handler");
        assert!(!cpu.halted());
        let ss = after.seg[Seg::SS as usize];
        let word = |o: u16| {
            bus.peek(cpu.linear(ss, o)) as u16
                | (bus.peek(cpu.linear(ss, o.wrapping_add(1))) as u16) << 8
        };
        if !far {
            assert_eq!(
                word(sp.wrapping_add(2)),
                before.seg[Seg::CS as usize],
                "pushed CS"
            );
        }
    } else if d.len <= code.len() && !transfers_control(h.row.op) {
        assert_eq!(
            after.ip.wrapping_sub(before.ip) as usize,
            d.len,
            "IP advance vs disassembly `{}`",
            d.text
        );
    }
}
