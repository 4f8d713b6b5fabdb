//! The fast forms leave SF, ZF, PF, AF and OF to be worked out when read
//! (`fast::Lazy`). Every flag-setting fast form, on operands that set and
//! clear each flag, followed by every instruction that reads flags (the
//! conditional jumps, LOOPZ/LOOPNZ, ADC, the rotates through carry, INC
//! keeping CF, PUSHF through `execute`) must see what the decoder's path
//! sees. Each program runs twice in a loop (the second pass from the cache)
//! with the cache and `Cpu::run` (in long runs and in short ones, so that the
//! flags are settled at every point), and without the cache through `step`.

mod program;

use cpu::{Cpu, CpuModel, FastTiming, FlatBus};
use program::{run_to_halt, Drive};

const MODELS: [CpuModel; 4] = [
    CpuModel::I8088,
    CpuModel::I8086,
    CpuModel::I80186,
    CpuModel::I80286,
];

/// Run `code` at 0000:0100 until HLT. `batch` is `run`'s limit; 0 means no
/// cache, one `step` at a time.
fn exec(model: CpuModel, code: &[u8], batch: u64) -> (Cpu<FastTiming>, FlatBus) {
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, code);
    let mut c: Cpu<FastTiming> = Cpu::new(model);
    c.regs.seg = [0; 4];
    c.regs.gpr[4] = 0xFFFE;
    c.regs.ip = 0x100;
    c.set_decode_cache(batch > 0);
    let drive = if batch > 0 {
        Drive::Run {
            limit: batch,
            warm: false,
        }
    } else {
        Drive::Step
    };
    run_to_halt(&mut c, &mut bus, drive, 1_000_000);
    (c, bus)
}

/// `mov bp, 2 ; body ; dec bp ; jnz body ; hlt`, compared across the three ways.
fn same(model: CpuModel, body: &[u8]) {
    let mut code = vec![0xBD, 0x02, 0x00];
    code.extend_from_slice(body);
    let back = -(body.len() as i32 + 3);
    assert!(back >= -128, "body too long for JNZ");
    code.extend_from_slice(&[0x4D, 0x75, back as i8 as u8, 0xF4]);
    let (want, wbus) = exec(model, &code, 0);
    for batch in [1 << 20, 1, 2, 3, 5] {
        let (got, gbus) = exec(model, &code, batch);
        assert_eq!(got.regs, want.regs, "{model}, run({batch}): registers");
        assert_eq!(got.instructions, want.instructions, "{model}: instructions");
        assert_eq!(got.cycles(), want.cycles(), "{model}: cycles");
        assert!(
            gbus.mem == wbus.mem,
            "{model}, run({batch}): memory differs"
        );
    }
}

/// Flag-setting instructions with AX and BX as operands (or AL and BL).
const PRODUCERS: &[&[u8]] = &[
    &[0x01, 0xD8],       // add ax, bx
    &[0x00, 0xD8],       // add al, bl
    &[0x11, 0xD8],       // adc ax, bx
    &[0x10, 0xD8],       // adc al, bl
    &[0x29, 0xD8],       // sub ax, bx
    &[0x28, 0xD8],       // sub al, bl
    &[0x19, 0xD8],       // sbb ax, bx
    &[0x18, 0xD8],       // sbb al, bl
    &[0x39, 0xD8],       // cmp ax, bx
    &[0x38, 0xD8],       // cmp al, bl
    &[0x3D, 0x01, 0x80], // cmp ax, 8001h
    &[0x21, 0xD8],       // and ax, bx
    &[0x08, 0xD8],       // or al, bl
    &[0x31, 0xD8],       // xor ax, bx
    &[0x35, 0x01, 0xA0], // xor ax, A001h
    &[0x85, 0xD8],       // test ax, bx
    &[0xA8, 0x81],       // test al, 81h
    &[0x40],             // inc ax
    &[0xFE, 0xC0],       // inc al
    &[0x48],             // dec ax
    &[0xFE, 0xC8],       // dec al
    &[0xFE, 0xCC],       // dec ah
    &[0xD1, 0xE0],       // shl ax, 1
    &[0xD0, 0xE0],       // shl al, 1
    &[0xD1, 0xE8],       // shr ax, 1
    &[0xD0, 0xEC],       // shr ah, 1
    &[0xD1, 0xF8],       // sar ax, 1
    &[0xD0, 0xF8],       // sar al, 1
    &[0xD1, 0xF0],       // /6: setmo on the 8086, SHL from the 80186 on
    &[0xD1, 0xC0],       // rol ax, 1
    &[0xD0, 0xC8],       // ror al, 1
    &[0xD1, 0xD0],       // rcl ax, 1
    &[0xD0, 0xD8],       // rcr al, 1
    &[0xF9],             // stc
    &[0xF8],             // clc
];

/// Instructions that read flags; each leaves its finding in DI or SI.
const CONSUMERS: &[&[u8]] = &[
    &[0x70, 0x01, 0x47],                   // jo +1 ; inc di
    &[0x71, 0x01, 0x47],                   // jno
    &[0x72, 0x01, 0x47],                   // jb
    &[0x73, 0x01, 0x47],                   // jnb
    &[0x74, 0x01, 0x47],                   // jz
    &[0x75, 0x01, 0x47],                   // jnz
    &[0x76, 0x01, 0x47],                   // jbe
    &[0x77, 0x01, 0x47],                   // ja
    &[0x78, 0x01, 0x47],                   // js
    &[0x79, 0x01, 0x47],                   // jns
    &[0x7A, 0x01, 0x47],                   // jp
    &[0x7B, 0x01, 0x47],                   // jnp
    &[0x7C, 0x01, 0x47],                   // jl
    &[0x7D, 0x01, 0x47],                   // jge
    &[0x7E, 0x01, 0x47],                   // jle
    &[0x7F, 0x01, 0x47],                   // jg
    &[0xB9, 0x02, 0x00, 0xE1, 0x01, 0x47], // mov cx, 2 ; loopz +1 ; inc di
    &[0xB9, 0x02, 0x00, 0xE0, 0x01, 0x47], // mov cx, 2 ; loopnz +1 ; inc di
    &[0x83, 0xD6, 0x00],                   // adc si, 0
    &[0xD1, 0xDE],                         // rcr si, 1
    &[0x46, 0x72, 0x01, 0x47],             // inc si ; jb +1 ; inc di
    &[0x9C, 0x5A, 0x01, 0xD6],             // pushf ; pop dx ; add si, dx
];

/// Operand pairs (AX, BX) that set and clear each flag across the producers.
const VALUES: [(u16, u16); 6] = [
    (0x0000, 0x0000),
    (0x7FFF, 0x0001),
    (0x8000, 0x0001),
    (0xFFFF, 0x0001),
    (0x0F0F, 0x8181),
    (0x1234, 0x00FF),
];

#[test]
fn every_flag_reader_after_every_flag_setter() {
    for model in MODELS {
        for producer in PRODUCERS {
            for &(ax, bx) in &VALUES {
                // mov ax, .. ; mov bx, .. ; producer ; consumer ; pushf ;
                // pop dx ; add si, dx, for every consumer.
                let mut body = Vec::new();
                for consumer in CONSUMERS {
                    body.extend_from_slice(&[0xB8, ax as u8, (ax >> 8) as u8]);
                    body.extend_from_slice(&[0xBB, bx as u8, (bx >> 8) as u8]);
                    body.extend_from_slice(producer);
                    body.extend_from_slice(consumer);
                    body.extend_from_slice(&[0x9C, 0x5A, 0x01, 0xD6]);
                }
                // Too long for the loop's JNZ: jump back through a JMP near.
                let mut code = vec![0xBD, 0x02, 0x00]; // mov bp, 2
                code.extend_from_slice(&body);
                // dec bp ; jz +3 ; jmp near body
                code.extend_from_slice(&[0x4D, 0x74, 0x03, 0xE9]);
                let back = -(code.len() as i32 + 2 - 3);
                code.extend_from_slice(&(back as i16).to_le_bytes());
                code.push(0xF4);
                let (want, wbus) = exec(model, &code, 0);
                for batch in [1 << 20, 1, 2, 3, 5, 7] {
                    let (got, gbus) = exec(model, &code, batch);
                    let what =
                        format!("{model}, {producer:02X?}, ax={ax:04X} bx={bx:04X}, run({batch})");
                    assert_eq!(got.regs, want.regs, "{what}: registers");
                    assert_eq!(got.cycles(), want.cycles(), "{what}: cycles");
                    assert!(gbus.mem == wbus.mem, "{what}: memory differs");
                }
            }
        }
    }
}

/// A flag setter right before a slow instruction that reads FLAGS whole
/// (PUSHF, LAHF) and before an interrupt-entering one (INT, which pushes them).
#[test]
fn flags_are_settled_before_slow_forms() {
    let body = [
        0xB8, 0xFF, 0x7F, // mov ax, 7FFFh
        0x40, // inc ax (OF, SF, AF, PF set)
        0x9F, // lahf
        0x88, 0xE1, // mov cl, ah
        0x48, // dec ax (OF again)
        0x9C, // pushf
        0x5A, // pop dx
        0x31, 0xC0, // xor ax, ax (ZF, PF)
        0x9C, // pushf
        0x5E, // pop si
    ];
    for model in MODELS {
        same(model, &body);
    }
}
