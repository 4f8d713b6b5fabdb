//! The specialised forms (`forms.rs`) must be invisible: every form runs on
//! random operands with forms on and off, and the two CPUs must agree on
//! every register, EFLAGS, memory, the clock and the step's result. The
//! general path is the reference (itself checked by test386, the 286
//! vectors and the host-CPU differential).

use super::decode::Insn;
use super::tests_fetch::Rng;
use super::*;
use crate::FlatBus;

/// Opcodes that have forms (0F-map ones as 100h + byte).
const OPS: &[u16] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x28, 0x29,
    0x2A, 0x2B, 0x2C, 0x2D, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D,
    0x40, 0x43, 0x44, 0x47, 0x48, 0x4C, 0x4F, 0x50, 0x53, 0x54, 0x57, 0x58, 0x5B, 0x5C, 0x5F, 0x68,
    0x69, 0x6A, 0x6B, 0x70, 0x72, 0x74, 0x75, 0x76, 0x7C, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84,
    0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8D, 0x91, 0x94, 0x97, 0x98, 0x99, 0x9E, 0xA0, 0xA1,
    0xA2, 0xA3, 0xA4, 0xA5, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF, 0xB0, 0xB4, 0xB7, 0xB8,
    0xBC, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xC6, 0xC7, 0xD0, 0xD1, 0xD2, 0xD3, 0xE8, 0xE9, 0xEB, 0xF6,
    0xF7, 0xFE, 0xFF, 0x180, 0x183, 0x184, 0x185, 0x18C, 0x18F, 0x190, 0x192, 0x194, 0x19D, 0x19F,
    0x1AF, 0x1B6, 0x1B7, 0x1BE, 0x1BF, 0xE0, 0xE1, 0xE2, 0xE3, 0x1A3, 0x1AB, 0x1B3, 0x1BB, 0x1BA,
    0x140, 0x142, 0x144, 0x145, 0x147, 0x14C, 0x14E, 0x14F,
];

/// Code is placed here; data, the stack and pointers stay below it.
const CODE: u32 = 0xF000;

/// One instruction: prefixes, the opcode and random bytes after it. Half
/// the time the bytes after the ModR/M are small, so that displacements
/// keep addresses inside the 64 KiB of RAM (the fast paths) rather than
/// wrapping (the slow ones).
fn insn_bytes(rng: &mut Rng, op: u16) -> Vec<u8> {
    let mut b = Vec::new();
    if rng.below(4) == 0 {
        b.push(0x66);
    }
    if rng.below(8) == 0 {
        b.push(0x67);
    }
    if rng.below(8) == 0 {
        b.push([0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65][rng.below(6) as usize]);
    }
    if matches!(op, 0xA4..=0xAF) && rng.below(2) == 0 {
        b.push(0xF3);
    }
    if op >= 0x100 {
        b.push(0x0F);
    }
    b.push(op as u8);
    let small = rng.below(2) == 0;
    // ModR/M: FE/FF only /0 and /1 have forms; keep the rest rare.
    let mut modrm = rng.u32() as u8;
    if matches!(op, 0xFE | 0xFF | 0xC6 | 0xC7) && rng.below(8) != 0 {
        modrm &= 0xC7 | if op >= 0xFE { 8 } else { 0 };
    }
    b.push(modrm);
    for _ in 0..12 {
        let v = rng.u32() as u8;
        b.push(if small { v & 0x3F } else { v });
    }
    b
}

/// A CPU of `model` in flat 32-bit protected mode (CPL 0), or in real mode
/// (16-bit code, segments at 0) when `real`; IDT limit 0, so any fault
/// ends in shutdown, the same way both times.
fn cpu(model: Model32, real: bool, rng: &mut Rng, forms: bool) -> Cpu32 {
    let mut c = Cpu32::new(model);
    c.set_forms(forms);
    if !real {
        c.cr[0] |= 1;
        for s in 0..6 {
            c.seg[s] = SegCache {
                sel: if s == CS { 8 } else { 0x10 },
                base: 0,
                limit: 0xFFFF_FFFF,
                attr: if s == CS { 0xC09B } else { 0xC093 },
                valid: true,
            };
        }
    } else {
        for s in 0..6 {
            c.seg[s] = SegCache::real(0);
        }
    }
    c.idtr = (0, 0);
    c.eip = CODE;
    let small = rng.below(2) == 0;
    for n in 0..8 {
        let v = rng.u32();
        c.r[n] = if small { v & 0x7FFF } else { v };
    }
    c.r[4] = 0x8000 + (rng.below(0x1000) & !1);
    c.eflags = 2 | (rng.u32() & (STATUS | DF));
    c
}

/// The family of the instruction at CS:EIP as the decoder names it (0:
/// none).
fn family(c: &mut Cpu32, bus: &mut FlatBus) -> Option<u8> {
    form(c, bus).map(|f| f >> 2)
}

/// The form of the instruction at CS:EIP as the decoder names it.
fn form(c: &mut Cpu32, bus: &mut FlatBus) -> Option<u8> {
    let d32 = c.code32();
    let i: Insn = c.decode(bus, d32).ok()?;
    Some(i.form)
}

#[test]
fn every_form_agrees_with_the_general_path() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut seen = [0u32; 64];
    // Memory starts random and carries each trial's stores into the next.
    let mut mem: Vec<u8> = (0..0x1_0000).map(|_| rng.u32() as u8).collect();
    for trial in 0..30_000u32 {
        // The Pentium Pro for CMOVcc's form.
        let model = match trial % 6 {
            0 | 3 => Model32::I80386,
            5 => Model32::PentiumPro,
            _ => Model32::I80486,
        };
        let real = trial % 5 == 0;
        let op = OPS[rng.below(OPS.len() as u32) as usize];
        let code = insn_bytes(&mut rng, op);
        mem[CODE as usize..CODE as usize + code.len()].copy_from_slice(&code);
        let seed = rng.next();
        let mut results = Vec::new();
        for forms in [true, false] {
            let mut bus = FlatBus::new(0x1_0000);
            bus.mem.copy_from_slice(&mem);
            let mut c = cpu(model, real, &mut Rng(seed | 1), forms);
            if forms {
                if let Some(f) = family(&mut c, &mut bus) {
                    seen[f as usize] += 1;
                }
            }
            let res = c.step(&mut bus);
            results.push((
                res,
                c.regs(),
                c.cycles(),
                c.instructions(),
                c.cr[2],
                bus.mem,
            ));
        }
        let (a, b) = (&results[0], &results[1]);
        let what = format!("trial {trial}, {model:?}, real {real}, bytes {code:02X?}");
        assert_eq!(a.0, b.0, "step result, {what}");
        assert_eq!(a.1, b.1, "registers, {what}");
        assert_eq!((a.2, a.3, a.4), (b.2, b.3, b.4), "clocks/CR2, {what}");
        assert!(a.5 == b.5, "memory differs, {what}");
        mem = results.swap_remove(0).5;
    }
    // Every family ran often enough to mean something.
    for (f, n) in seen.iter().enumerate().skip(1).take(61) {
        assert!(*n >= 50, "family {f} ran only {n} times");
    }
}

#[test]
fn the_286_and_forms_off_get_no_forms() {
    let mut bus = FlatBus::new(0x1_0000);
    bus.load(CODE, &[0x01, 0xC8]); // add eax, ecx
    let mut rng = Rng(7);
    let mut c = cpu(Model32::I80486, false, &mut rng, true);
    assert_eq!(family(&mut c, &mut bus), Some(1));
    let mut c = cpu(Model32::I80486, false, &mut rng, false);
    assert_eq!(family(&mut c, &mut bus), Some(0));
    let mut c = cpu(Model32::I80286, true, &mut rng, true);
    assert_eq!(family(&mut c, &mut bus), Some(0));
}

/// The memory operand's segment is resolved once by the decoder
/// (`Insn::def_seg`: the override, else the addressing form's default):
/// with every segment at a different base, loads, stores and a
/// read-modify-write go to the linear address worked out by hand, with
/// forms on and off, in 32- and 16-bit addressing, with and without
/// overrides, and again from the decode cache.
#[test]
fn memory_operands_use_the_segment_of_their_override_or_default() {
    // ES, CS, SS, DS, FS, GS bases (CS stays flat: code runs at CODE).
    const BASES: [u32; 6] = [0x3000, 0, 0x2000, 0x1000, 0x4000, 0x5000];
    let marker = |lin: u32| 0xA500_0000 | lin;
    // Bytes, and the linear address the operand must reach
    // (EBX = 100h, EBP = 200h, ESI = 10h).
    let loads: &[(&[u8], u32)] = &[
        (&[0x8B, 0x03], 0x1000 + 0x100),             // mov eax,[ebx]
        (&[0x8B, 0x45, 0x04], 0x2000 + 0x204),       // mov eax,[ebp+4]
        (&[0x26, 0x8B, 0x45, 0x00], 0x3000 + 0x200), // mov eax,es:[ebp+0]
        (&[0x36, 0x8B, 0x03], 0x2000 + 0x100),       // mov eax,ss:[ebx]
        (&[0x64, 0x8B, 0x04, 0xB3], 0x4000 + 0x140), // mov eax,fs:[ebx+esi*4]
        (&[0x8B, 0x44, 0x35, 0x08], 0x2000 + 0x218), // mov eax,[ebp+esi+8]
        (&[0x67, 0x8B, 0x02], 0x2000 + 0x210),       // mov eax,[bp+si]
        (&[0x3E, 0x67, 0x8B, 0x02], 0x1000 + 0x210), // mov eax,ds:[bp+si]
        (&[0x65, 0x0F, 0xB7, 0x03], 0x5000 + 0x100), // movzx eax,word gs:[ebx]
        (&[0x2B, 0x05, 0x80, 0x00, 0x00, 0x00], 0x1000 + 0x80), // sub eax,[80h]
    ];
    let stores: &[(&[u8], u32)] = &[
        (&[0x89, 0x0B], 0x1000 + 0x100),             // mov [ebx],ecx
        (&[0x26, 0x89, 0x4D, 0x00], 0x3000 + 0x200), // mov es:[ebp+0],ecx
        (&[0x65, 0x01, 0x0B], 0x5000 + 0x100),       // add gs:[ebx],ecx
        (&[0x01, 0x4D, 0x04], 0x2000 + 0x204),       // add [ebp+4],ecx
    ];
    for forms in [true, false] {
        for (k, &(code, lin)) in loads.iter().chain(stores).enumerate() {
            let store = k >= loads.len();
            let mut bus = FlatBus::new(0x1_0000);
            for a in (0..0x6000u32).step_by(4) {
                bus.load(a, &marker(a).to_le_bytes());
            }
            bus.load(CODE, code);
            let mut c = cpu(Model32::I80486, false, &mut Rng(1), forms);
            for (s, &b) in BASES.iter().enumerate() {
                c.seg[s].base = b;
            }
            (c.r[0], c.r[1], c.r[3], c.r[5], c.r[6]) = (0, 0x11, 0x100, 0x200, 0x10);
            c.r[4] = 0x8000;
            // Twice: decoded, then from the decode cache.
            for round in 0..2 {
                c.eip = CODE;
                c.r[0] = 0;
                let res = c.step(&mut bus);
                assert_eq!(res, StepResult32::Executed, "{code:02X?} forms {forms}");
                let m =
                    u32::from_le_bytes(bus.mem[lin as usize..lin as usize + 4].try_into().unwrap());
                let what = format!("{code:02X?}, forms {forms}, round {round}");
                if !store {
                    let want = match code {
                        [.., 0x0F, 0xB7, _] => marker(lin) & 0xFFFF,
                        [0x2B, ..] => 0u32.wrapping_sub(marker(lin)),
                        _ => marker(lin),
                    };
                    assert_eq!(c.r[0], want, "{what}");
                    assert_eq!(m, marker(lin), "{what}");
                } else if code.starts_with(&[0x01]) || code.starts_with(&[0x65, 0x01]) {
                    // ADD r/m32, r32: the old value plus ECX, once per round.
                    assert_eq!(m, marker(lin).wrapping_add(0x11 * (round + 1)), "{what}");
                } else {
                    assert_eq!(m, 0x11, "{what}");
                }
            }
        }
    }
}

/// The 32-bit register shifts by a constant have forms of their own
/// (`forms::SHL_RI32`, `SHR_RI32`, `SAR_RI32`): every count (0 and
/// past 31 included, which the decoder leaves to the SHIFT form) on random
/// values agrees with the general path, and the nonzero ones do take
/// those forms.
#[test]
fn register_shifts_by_a_constant_agree_with_the_general_path() {
    use super::forms::{SAR_RI32, SHL_RI32, SHR_RI32};
    let mut rng = Rng(0x05EE_D0F5_B1F7);
    let mut taken = [0u32; 3];
    for trial in 0..4_000u32 {
        let model = [Model32::I80386, Model32::I80486, Model32::PentiumPro][trial as usize % 3];
        let reg = 4 + rng.below(4) as u8;
        let rm = rng.below(8) as u8;
        let modrm = 0xC0 | reg << 3 | rm;
        let one = rng.below(4) == 0;
        let imm = rng.u32() as u8;
        let code: Vec<u8> = if one {
            vec![0xD1, modrm]
        } else {
            vec![0xC1, modrm, imm]
        };
        let cnt = if one { 1 } else { imm & 31 };
        let seed = rng.next();
        let mut results = Vec::new();
        for forms in [true, false] {
            let mut bus = FlatBus::new(0x1_0000);
            bus.load(CODE, &code);
            let mut c = cpu(model, false, &mut Rng(seed | 1), forms);
            if forms {
                let f = form(&mut c, &mut bus).unwrap();
                let want = match (cnt, reg) {
                    (0, _) => None,
                    (_, 4 | 6) => Some(SHL_RI32),
                    (_, 5) => Some(SHR_RI32),
                    _ => Some(SAR_RI32),
                };
                match want {
                    Some(w) => {
                        assert_eq!(f, w, "form of {code:02X?}");
                        taken[(w == SHR_RI32) as usize + 2 * (w == SAR_RI32) as usize] += 1;
                    }
                    None => assert!(![SHL_RI32, SHR_RI32, SAR_RI32].contains(&f)),
                }
            }
            let res = c.step(&mut bus);
            results.push((res, c.regs(), c.cycles(), c.instructions()));
        }
        assert_eq!(
            results[0], results[1],
            "trial {trial}, {model:?}, {code:02X?}"
        );
    }
    assert!(taken.iter().all(|&n| n >= 500), "{taken:?}");
}

/// The register forms decided when decoding (`forms::IMUL_RR32`, the
/// MOVZX/MOVSX register forms, `SETCC_R`): on random registers and flags
/// each agrees with the general path, and the register shapes do take them.
#[test]
fn register_forms_agree_with_the_general_path() {
    use super::forms::{IMUL_RR32, MOVSX_RR16, MOVSX_RR8, MOVZX_RR16, MOVZX_RR8, SETCC_R};
    let mut rng = Rng(0x0123_4567_F00D);
    let mut taken = [0u32; 6];
    for trial in 0..6_000u32 {
        let model = [Model32::I80386, Model32::I80486, Model32::PentiumPro][trial as usize % 3];
        let modrm = 0xC0 | rng.below(64) as u8;
        let (op, want) = match rng.below(6) {
            0 => (0xAF, IMUL_RR32),
            1 => (0xB7, MOVZX_RR16),
            2 => (0xBF, MOVSX_RR16),
            3 => (0xB6, MOVZX_RR8),
            4 => (0xBE, MOVSX_RR8),
            _ => (0x90 | rng.below(16) as u8, SETCC_R),
        };
        let o16 = rng.below(4) == 0;
        let mut code = Vec::new();
        if o16 {
            code.push(0x66);
        }
        code.extend_from_slice(&[0x0F, op, modrm]);
        // IMUL's form is the Pentium's and later; 16-bit operands keep
        // the family forms (SETcc has no operand size).
        let expect = match want {
            IMUL_RR32 => model == Model32::PentiumPro && !o16,
            SETCC_R => true,
            _ => !o16,
        };
        // An ALU operation, INC or DEC first: a lazy record of each class
        // (and an ADC/SBB reading one) before the reader.
        let pre = [0x01u8, 0x29, 0x21, 0x11, 0x19, 0x40, 0x48][rng.below(7) as usize];
        let pre_code = [pre, 0xC0 | rng.below(64) as u8];
        let seed = rng.next();
        let mut results = Vec::new();
        for forms in [true, false] {
            let mut bus = FlatBus::new(0x1_0000);
            bus.load(CODE, &code);
            bus.load(CODE + 0x100, &pre_code);
            let mut c = cpu(model, false, &mut Rng(seed | 1), forms);
            c.eip = CODE + 0x100;
            assert_eq!(c.step(&mut bus), StepResult32::Executed);
            c.eip = CODE;
            if forms {
                let f = form(&mut c, &mut bus).unwrap();
                if expect {
                    assert_eq!(f, want, "form of {code:02X?}");
                    taken[[
                        IMUL_RR32, MOVZX_RR16, MOVSX_RR16, MOVZX_RR8, MOVSX_RR8, SETCC_R,
                    ]
                    .iter()
                    .position(|&w| w == want)
                    .unwrap()] += 1;
                } else {
                    assert_ne!(f, want, "form of {code:02X?}");
                }
            }
            let res = c.step(&mut bus);
            results.push((res, c.regs(), c.cycles(), c.instructions()));
        }
        assert_eq!(
            results[0], results[1],
            "trial {trial}, {model:?}, {code:02X?}"
        );
    }
    assert!(taken.iter().all(|&n| n >= 150), "{taken:?}");
}
