//! The specialised forms run from the decode cache (FastTiming) must give
//! exactly what the decoder's path gives: registers, memory, instruction and
//! cycle counts. Each program runs twice from a cold start (so the second
//! pass of every loop is served from the cache), once with the cache and
//! `Cpu::run`, once without the cache and `Cpu::step`.

mod program;

use cpu::{Cpu, CpuModel, FastTiming, FlatBus};
use program::{run_to_halt, Drive};

struct Setup {
    regs: [u16; 8],
    seg: [u16; 4],
    flags: u16,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            regs: [0, 0, 0, 0, 0xFFFE, 0, 0, 0],
            seg: [0; 4],
            flags: 0xF002,
        }
    }
}

/// Run `code` at 0000:0100 until HLT: with the cache and `run`, or without
/// it and `step`.
fn run(
    model: CpuModel,
    code: &[u8],
    s: &Setup,
    mem: &[(u32, &[u8])],
    cached: bool,
) -> (Cpu<FastTiming>, FlatBus) {
    let drive = if cached {
        Drive::Run {
            limit: 7,
            warm: true,
        }
    } else {
        Drive::Step
    };
    run_driven(model, code, s, mem, cached, drive)
}

/// [`run`] with the cache on or off and driven as given.
fn run_driven(
    model: CpuModel,
    code: &[u8],
    s: &Setup,
    mem: &[(u32, &[u8])],
    cached: bool,
    drive: Drive,
) -> (Cpu<FastTiming>, FlatBus) {
    let mut bus = FlatBus::new(1 << 20);
    for (a, bytes) in mem {
        bus.load(*a, bytes);
    }
    bus.load(0x100, code);
    let mut c: Cpu<FastTiming> = Cpu::new(model);
    c.regs.gpr = s.regs;
    c.regs.seg = s.seg;
    c.regs.seg[1] = 0;
    c.regs.ip = 0x100;
    c.regs.flags = s.flags;
    c.set_decode_cache(cached);
    run_to_halt(&mut c, &mut bus, drive, 100_000);
    (c, bus)
}

/// Run `body` twice (a LOOP around it with CX=2 saved on the stack) both ways
/// and compare everything.
fn same(
    model: CpuModel,
    body: &[u8],
    s: &Setup,
    mem: &[(u32, &[u8])],
) -> (Cpu<FastTiming>, FlatBus) {
    same_driven(
        model,
        body,
        s,
        mem,
        Drive::Run {
            limit: 7,
            warm: true,
        },
    )
}

/// [`same`] with the cached run driven as given.
fn same_driven(
    model: CpuModel,
    body: &[u8],
    s: &Setup,
    mem: &[(u32, &[u8])],
    drive: Drive,
) -> (Cpu<FastTiming>, FlatBus) {
    same_passes(model, body, s, mem, drive, 2)
}

/// [`same_driven`] with `body` run `passes` times.
fn same_passes(
    model: CpuModel,
    body: &[u8],
    s: &Setup,
    mem: &[(u32, &[u8])],
    drive: Drive,
    passes: u16,
) -> (Cpu<FastTiming>, FlatBus) {
    // mov bp, passes ; body ; dec bp ; jnz body ; hlt
    let mut code = vec![0xBD, passes as u8, (passes >> 8) as u8];
    code.extend_from_slice(body);
    let back = -(body.len() as i32 + 3);
    if back >= -128 {
        code.extend_from_slice(&[0x4D, 0x75, back as i8 as u8, 0xF4]);
    } else {
        // Too far for JNZ: dec bp ; jz +3 ; jmp near body ; hlt
        let near = (back - 3) as i16 as u16;
        code.extend_from_slice(&[0x4D, 0x74, 0x03, 0xE9]);
        code.extend_from_slice(&near.to_le_bytes());
        code.push(0xF4);
    }
    let (a, abus) = run_driven(model, &code, s, mem, true, drive);
    let (b, bbus) = run(model, &code, s, mem, false);
    assert_eq!(a.regs, b.regs, "{model}: registers");
    assert_eq!(a.instructions, b.instructions, "{model}: instructions");
    assert_eq!(a.cycles(), b.cycles(), "{model}: cycles");
    assert!(abus.mem == bbus.mem, "{model}: memory differs");
    (a, abus)
}

const MODELS: [CpuModel; 4] = [
    CpuModel::I8088,
    CpuModel::I8086,
    CpuModel::I80186,
    CpuModel::I80286,
];

#[test]
fn alu_mov_shift_and_branch_forms() {
    let body = [
        0xB8, 0x34, 0x12, // mov ax, 1234h
        0xB3, 0x08, // mov bl, 8
        0x01, 0xC3, // add bx, ax
        0x30, 0xE7, // xor bh, ah
        0x81, 0xFB, 0x00, 0x80, // cmp bx, 8000h
        0x83, 0xD1, 0xFF, // adc cx, -1
        0x80, 0xDE, 0x05, // sbb dh, 5
        0xD1, 0xE8, // shr ax, 1
        0xD0, 0xE3, // shl bl, 1
        0xD1, 0xC9, // ror cx, 1
        0xD1, 0xD2, // rcl dx, 1
        0xD0, 0xFF, // sar bh, 1
        0xD1, 0xF0, // /6 (setmo on the 8086, shl later) ax
        0x73, 0x03, // jnc +3
        0x35, 0x01, 0xA0, // xor ax, A001h
        0xFE, 0xCB, // dec bl
        0x45, // inc bp
        0x4D, // dec bp
        0x85, 0xC3, // test bx, ax
        0xA8, 0x10, // test al, 10h
        0x93, // xchg bx, ax
        0x86, 0xE1, // xchg ah, cl
        0x98, // cbw
        0x99, // cwd
        0xF9, // stc
        0x14, 0x00, // adc al, 0
        0xF8, // clc
        0x50, // push ax
        0x54, // push sp
        0x5E, // pop si
        0x5F, // pop di
        0xE8, 0x02, 0x00, // call +2 (the RET below)
        0xEB, 0x01, // jmp +1 (over the RET)
        0xC3, // ret
        0xE3, 0x00, // jcxz +0
        0xB9, 0x03, 0x00, // mov cx, 3
        0xE2, 0xFE, // loop $
        0xBB, 0x35, 0x12, // mov bx, 1235h
        0xF7, 0xE3, // mul bx
        0xF6, 0xEB, // imul bl
        0xB9, 0x07, 0x01, // mov cx, 0107h
        0x31, 0xD2, // xor dx, dx
        0xF7, 0xF1, // div cx
        0xF6, 0xF9, // idiv cl
    ];
    for model in MODELS {
        for flags in [0xF002, 0xF0D7] {
            same(
                model,
                &body,
                &Setup {
                    flags,
                    ..Setup::default()
                },
                &[],
            );
        }
    }
}

#[test]
fn memory_forms_with_overrides_and_wrapping_offsets() {
    let body = [
        0x8B, 0x07, // mov ax, [bx]
        0x01, 0x47, 0x02, // add [bx+2], ax
        0x26, 0x32, 0x40, 0x01, // xor al, es:[bx+si+1]
        0x80, 0x3E, 0x00, 0x02, 0x05, // cmp byte [0200h], 5
        0xC6, 0x46, 0xFF, 0x77, // mov byte [bp-1], 77h
        0x36, 0x89, 0x1A, // mov ss:[bp+si], bx
        0xA1, 0xFF, 0xFF, // mov ax, [FFFFh] (word wraps in the segment)
        0xA3, 0x01, 0x03, // mov [0301h], ax (odd address)
        0x81, 0x2F, 0x01, 0x01, // sub word [bx], 0101h
        0x31, 0x06, 0x03, 0x03, // xor [0303h], ax
        0x09, 0x87, 0xFF, 0xFF, // or [bx-1], ax
    ];
    let s = Setup {
        regs: [0, 0, 0, 0x0FFF, 0xFFFE, 0x0800, 0x0010, 0],
        seg: [0x1000, 0, 0, 0x2000],
        ..Setup::default()
    };
    let data: [u8; 16] = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0x55, 0xAA, 1, 2, 3, 4];
    // The 286 takes its memory forms through `execute` (and faults on the
    // word at FFFFh): nothing to compare there.
    for model in &MODELS[..3] {
        let model = *model;
        same(
            model,
            &body,
            &s,
            &[
                (0x20FF8, &data),
                (0x2FFF8, &data),
                (0x10FF0, &data),
                (0x2FFFF, &[0x42]),
            ],
        );
    }
}

/// A string test: `body` with CX, SI, DI, the segments and DF as given.
fn strings(body: &[u8], si: u16, di: u16, cx: u16, ds: u16, es: u16, df: bool) {
    let s = Setup {
        regs: [0xA55A, cx, 0, 0, 0xFFFE, 0, si, di],
        seg: [es, 0, 0, ds],
        flags: if df { 0xF402 } else { 0xF002 },
    };
    let pattern: Vec<u8> = (0..=255u8).collect();
    let mem: Vec<(u32, &[u8])> = vec![
        (0x10000, &pattern),
        (0x1FF00, &pattern),
        (0x20000, &pattern),
        (0x2FF00, &pattern),
    ];
    // 286 string forms take the decoder's path (and words at FFFFh fault).
    for model in &MODELS[..3] {
        same(*model, body, &s, &mem);
    }
}

// Each body reloads CX, SI and DI so that the second pass repeats the first.
fn with_regs(cx: u16, si: u16, di: u16, op: &[u8]) -> Vec<u8> {
    let mut b = vec![
        0xB9,
        cx as u8,
        (cx >> 8) as u8,
        0xBE,
        si as u8,
        (si >> 8) as u8,
        0xBF,
        di as u8,
        (di >> 8) as u8,
    ];
    b.extend_from_slice(op);
    b
}

#[test]
fn rep_movs_and_stos_match_the_decoders_path() {
    let ops: [&[u8]; 8] = [
        &[0xF3, 0xA4],       // rep movsb
        &[0xF3, 0xA5],       // rep movsw
        &[0xF3, 0xAA],       // rep stosb
        &[0xF3, 0xAB],       // rep stosw
        &[0xF2, 0xA5],       // repne movsw (same as rep)
        &[0x26, 0xF3, 0xA5], // rep movsw es:[si]
        &[0xA5],             // movsw
        &[0xAC, 0xAD, 0xAA], // lodsb ; lodsw ; stosb
    ];
    // (cx, si, di, ds, es, df)
    let cases: [(u16, u16, u16, u16, u16, bool); 9] = [
        (0, 0x10, 0x20, 0x1000, 0x2000, false),       // no iterations
        (100, 0x10, 0x20, 0x1000, 0x2000, false),     // plain copy
        (100, 0x11, 0x21, 0x1000, 0x2000, false),     // odd addresses
        (100, 0x10, 0x11, 0x1000, 0x1000, false),     // overlapping, forward
        (100, 0x80, 0x7F, 0x1000, 0x1000, true),      // overlapping, backward
        (100, 0xFFC0, 0xFFD1, 0x1FF0, 0x2FF0, false), // both wrap at 64 KiB
        (100, 0x0020, 0x0010, 0x1000, 0x2000, true),  // backward through 0
        (3, 0xFFFF, 0xFFFF, 0x1000, 0x2000, false),   // words split at the wrap
        (0x8000, 0x0000, 0x0001, 0x1000, 0x1000, false), // 32 K words, overlapping
    ];
    for op in ops {
        for &(cx, si, di, ds, es, df) in &cases {
            strings(&with_regs(cx, si, di, op), si, di, cx, ds, es, df);
        }
    }
}

/// REP STOSB over the code that follows it in the same loop, and over the
/// REP instruction itself, with the fast forms.
#[test]
fn rep_stos_over_cached_code() {
    let code = program::REP_STOS_OVER_LOOP;
    for cached in [true, false] {
        let (c, bus) = run(CpuModel::I8086, &code, &Setup::default(), &[], cached);
        assert_eq!(c.regs.gpr[3], 2);
        assert_eq!(&bus.mem[0x103..0x105], &[0x90, 0x90]);
    }
    // A REP STOSB that overwrites itself and the loop around it with NOPs
    // while running: it completes, and what follows runs the new bytes.
    let code = [
        0xBF, 0x00, 0x01, // 0100: mov di, 0100
        0xB9, 0x0A, 0x00, // 0103: mov cx, 10
        0xB0, 0x90, //       0106: mov al, 90h
        0xF3, 0xAA, //       0108: rep stosb (0100..0109)
        0x43, //             010A: inc bx
        0xF4, //             010B: hlt
    ];
    let (a, abus) = run(CpuModel::I8086, &code, &Setup::default(), &[], true);
    let (b, bbus) = run(CpuModel::I8086, &code, &Setup::default(), &[], false);
    assert_eq!(a.regs, b.regs);
    assert_eq!(a.cycles(), b.cycles());
    assert!(abus.mem == bbus.mem);
    assert_eq!(a.regs.gpr[3], 1);
}

/// `run` stops right after an instruction that is not a fast form (here OUT),
/// so a caller sees the I/O before anything else runs.
#[test]
fn run_returns_after_io() {
    let code = [
        0x40, 0x40, // inc ax ; inc ax
        0xE6, 0xE9, // out e9h, al
        0x40, // inc ax
        0xF4, // hlt
    ];
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, &code);
    for pass in 0..2 {
        let mut c: Cpu<FastTiming> = Cpu::new(CpuModel::I8088);
        c.regs.seg = [0; 4];
        c.regs.ip = 0x100;
        c.set_decode_cache(true);
        if pass == 1 {
            // The second time the two INCs come from the cache: still stop after OUT.
            while bus.io_writes.is_empty() {
                c.run(&mut bus, 100);
            }
            c.instructions = 0;
            c.regs.ip = 0x100;
            c.regs.gpr[0] = 0;
            bus.io_writes.clear();
        }
        let mut n = 0;
        while bus.io_writes.is_empty() {
            n += c.run(&mut bus, 100);
        }
        assert_eq!((n, c.regs.ip, c.regs.gpr[0]), (3, 0x104, 2), "pass {pass}");
        let mut m = 0;
        while !c.halted() {
            m += c.run(&mut bus, 100);
        }
        assert_eq!((m, c.instructions), (2, 5));
        assert_eq!(c.run(&mut bus, 100), 0);
    }
}

/// A divide error raised by the fast form of DIV enters the handler as the
/// decoder's path does (after the instruction on the 8086, at it later: the
/// handler makes the retried division succeed).
#[test]
fn divide_error_from_a_fast_form() {
    let body = [
        0x31, 0xC9, // xor cx, cx
        0xB8, 0x34, 0x12, // mov ax, 1234h
        0x31, 0xD2, // xor dx, dx
        0xF7, 0xF1, // div cx (divide error)
        0x01, 0xC3, // add bx, ax
    ];
    // Vector 0 -> 0000:0080: xor dx, dx ; mov cx, 7 ; iret
    let vector = [0x80, 0x00, 0x00, 0x00];
    let handler = [0x31, 0xD2, 0xB9, 0x07, 0x00, 0xCF];
    for model in &MODELS[..3] {
        let (c, _) = same(
            *model,
            &body,
            &Setup::default(),
            &[(0, &vector), (0x80, &handler)],
        );
        let expect = if model.is_186_plus() {
            2 * (0x1234 / 7)
        } else {
            2 * 0x1234
        };
        assert_eq!(c.regs.gpr[3], expect, "{model}");
    }
}

/// Code reached through the 8086's wrap at 1 MiB (FFFF:0010 is physical 0)
/// runs the same with the cache: the run loop looks CS:IP up unmasked, so
/// it misses there and the decoder's path takes it.
#[test]
fn code_past_one_mebibyte_wraps() {
    // mov cx, 5 ; l: inc ax ; add bx, ax ; loop l ; hlt
    let code = [0xB9, 0x05, 0x00, 0x40, 0x01, 0xC3, 0xE2, 0xFB, 0xF4];
    let go = |cached: bool| {
        let mut bus = FlatBus::new(1 << 20);
        bus.load(0, &code);
        let mut c: Cpu<FastTiming> = Cpu::new(CpuModel::I8086);
        c.regs.seg = [0, 0xFFFF, 0, 0];
        c.regs.ip = 0x0010;
        c.set_decode_cache(cached);
        for _ in 0..1000 {
            if cached {
                c.run(&mut bus, 100);
            } else {
                c.step(&mut bus);
            }
            if c.halted() {
                break;
            }
        }
        assert!(c.halted());
        c
    };
    let (a, b) = (go(true), go(false));
    assert_eq!(a.regs, b.regs);
    assert_eq!((a.instructions, a.cycles()), (b.instructions, b.cycles()));
    assert_eq!((a.regs.gpr[0], a.regs.gpr[3]), (5, 15));
}

/// A bus like `FlatBus` without [`Bus::ram_mut`]: REP STOS/MOVS byte by byte.
struct NoRam(FlatBus);

impl cpu::Bus for NoRam {
    fn read(&mut self, addr: u32) -> u8 {
        self.0.read(addr)
    }
    fn write(&mut self, addr: u32, value: u8) {
        self.0.write(addr, value)
    }
    fn io_read(&mut self, port: u16) -> u8 {
        self.0.io_read(port)
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.0.io_write(port, value)
    }
}

/// Memory filled with a pattern and `code` at 0100h.
fn patterned(code: &[u8]) -> FlatBus {
    let mut bus = FlatBus::new(1 << 20);
    for (i, b) in bus.mem.iter_mut().enumerate() {
        *b = (i * 7 + (i >> 8)) as u8;
    }
    bus.load(0x100, code);
    bus
}

/// Run `code` (at 0000:0100, ending in HLT) on `bus` with every
/// instruction cached before it first runs, so that REP STOS/MOVS run
/// through their fast forms.
fn run_cached<B: cpu::Bus>(model: CpuModel, bus: &mut B, seg: [u16; 4]) -> Cpu<FastTiming> {
    let mut c: Cpu<FastTiming> = Cpu::new(model);
    c.regs.seg = seg;
    c.regs.gpr = [0xA55A, 0, 0, 0, 0xFFFE, 0, 0, 0];
    c.regs.ip = 0x100;
    c.set_decode_cache(true);
    while !c.halted() {
        c.warm_decode_cache(bus);
        c.run(bus, 1);
    }
    c
}

/// REP STOS and REP MOVS moved at once over RAM (`Bus::ram_mut`) leave
/// what they leave one element at a time: registers, memory, cycles.
#[test]
fn bulk_string_moves_match_byte_by_byte() {
    let ops: [&[u8]; 4] = [
        &[0xF3, 0xA4], // rep movsb
        &[0xF3, 0xA5], // rep movsw
        &[0xF3, 0xAA], // rep stosb
        &[0xF3, 0xAB], // rep stosw
    ];
    // (cx, si, di, ds, es)
    let cases: [(u16, u16, u16, u16, u16); 5] = [
        (100, 0x10, 0x20, 0x1000, 0x2000),
        (100, 0x11, 0x21, 0x1000, 0x2000),
        (8192, 0x0000, 0x0000, 0x1000, 0x2000),
        (0x7FFF, 0x0001, 0x0000, 0x1000, 0x3000),
        (40, 0x00, 0x50, 0x1000, 0x1000), // adjacent, not overlapping
    ];
    for op in ops {
        for &(cx, si, di, ds, es) in &cases {
            let mut code = with_regs(cx, si, di, op);
            code.push(0xF4);
            for &model in &MODELS[..3] {
                let seg = [es, 0, 0, ds];
                let mut bulk = patterned(&code);
                let a = run_cached(model, &mut bulk, seg);
                let mut bytes = NoRam(patterned(&code));
                let b = run_cached(model, &mut bytes, seg);
                let what = format!("{model} {op:02X?} cx={cx} si={si:X} di={di:X}");
                assert_eq!(a.regs, b.regs, "{what}");
                assert_eq!(a.cycles(), b.cycles(), "{what}");
                assert!(bulk.mem == bytes.0.mem, "{what}: memory");
                assert_eq!(a.regs.gpr[1], 0);
            }
        }
    }
}

/// REP MOVSB of two NOPs over two cached INCs after it in the same loop:
/// not moved at once (the cached INCs must be dropped).
#[test]
fn rep_movs_over_cached_code() {
    let code = [
        0xB9, 0x02, 0x00, // 0100: mov cx, 2 (passes)
        0x43, //             0103: inc bx
        0x43, //             0104: inc bx
        0x51, //             0105: push cx
        0xBE, 0x20, 0x01, // 0106: mov si, 0120
        0xBF, 0x03, 0x01, // 0109: mov di, 0103
        0xB9, 0x02, 0x00, // 010C: mov cx, 2
        0xF3, 0xA4, //       010F: rep movsb (0103, 0104 become NOP)
        0x59, //             0111: pop cx
        0xE2, 0xEF, //       0112: loop 0103
        0xF4, //             0114: hlt
    ];
    // Every instruction of the first pass cached before it runs, so that
    // the REP MOVSB runs through its fast form (and not after: caching
    // would decode the new bytes).
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, &code);
    bus.load(0x120, &[0x90, 0x90]);
    let mut c: Cpu<FastTiming> = Cpu::new(CpuModel::I8086);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.set_decode_cache(true);
    while !c.halted() {
        if c.instructions < 10 {
            c.warm_decode_cache(&mut bus);
        }
        c.run(&mut bus, 1);
    }
    assert_eq!((c.regs.gpr[3], c.instructions), (2, 20));
    assert_eq!(&bus.mem[0x103..0x105], &[0x90, 0x90]);
}

/// `run(max)` runs exactly `max` instructions while all are fast forms,
/// whatever `max` (the run loop takes them two at a time).
#[test]
fn run_stops_after_max_instructions() {
    // l: inc ax ; dec bx ; jmp l
    let code = [0x40, 0x4B, 0xEB, 0xFC];
    let mut bus = FlatBus::new(1 << 20);
    bus.load(0x100, &code);
    let mut c: Cpu<FastTiming> = Cpu::new(CpuModel::I8086);
    c.regs.seg = [0; 4];
    c.regs.ip = 0x100;
    c.set_decode_cache(true);
    // First pass through the decoder, which caches the three.
    for _ in 0..3 {
        c.step(&mut bus);
    }
    let mut total = 3;
    for max in [1u64, 2, 3, 4, 5, 6, 7, 1000, 1001] {
        assert_eq!(c.run(&mut bus, max), max);
        total += max;
        assert_eq!(c.instructions, total);
    }
    // AX counts the INCs: one in every three instructions.
    let want_ip = [0x100, 0x101, 0x102][(total % 3) as usize];
    assert_eq!(c.regs.ip, want_ip);
    assert_eq!(c.regs.gpr[0] as u64, total.div_ceil(3));
}

/// A small xorshift generator: the operands of the random tests below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self) -> u16 {
        // Often a small or extreme value, where the flags and the quotient
        // checks have their edges.
        match self.next() % 8 {
            0 => 0,
            1 => 0xFFFF,
            2 => 0x8000,
            3 => (self.next() % 16) as u16,
            4 => 0x7FFF,
            _ => self.next() as u16,
        }
    }
}

/// MUL, IMUL, DIV and IDIV of every width on every register and on a
/// memory operand, and every shift and rotate by one of memory, with random
/// operands and a flag-setting instruction before each (so that the lazy
/// flags are pending), on every model: registers, FLAGS and the product or
/// quotient after each (pushed), memory, instruction and clock counts must
/// be what the decoder's path gives. Divide errors take vector 0, whose
/// handler skips the 2-byte instruction on the 80186 and 80286 (the 8086
/// returns after it already).
#[test]
fn mul_div_and_memory_shift_forms_with_random_operands() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for model in MODELS {
        // Vector 0 -> 0000:0080.
        let vector = [0x80, 0x00, 0x00, 0x00];
        let handler: &[u8] = if model.is_186_plus() {
            // push bp ; mov bp, sp ; add word [bp+2], 2 ; pop bp ; iret
            &[0x55, 0x89, 0xE5, 0x83, 0x46, 0x02, 0x02, 0x5D, 0xCF]
        } else {
            &[0xCF]
        };
        let data: Vec<u8> = (0..0x4002).map(|_| rng.next() as u8).collect();
        for _ in 0..8 {
            let mut body = Vec::new();
            for _ in 0..40 {
                // mov ax/cx/dx/bx, imm ; mov si, 4000h + x ; mov di, imm
                for r in [0xB8u8, 0xB9, 0xBA, 0xBB] {
                    body.push(r);
                    body.extend_from_slice(&rng.word().to_le_bytes());
                }
                body.push(0xBE);
                body.extend_from_slice(&(0x4000 + (rng.next() % 0x4000) as u16).to_le_bytes());
                body.push(0xBF);
                body.extend_from_slice(&rng.word().to_le_bytes());
                // sub di, cx (lazy flags pending)
                body.extend_from_slice(&[0x29, 0xCF]);
                let w = rng.next() % 2 == 1;
                let pick = rng.next() % 3;
                let rm = (rng.next() % 8) as u8;
                if pick == 2 {
                    // A shift or rotate by one of [si] (the 286 leaves its
                    // memory forms to `execute`, compared all the same).
                    let op = (rng.next() % 8) as u8;
                    body.push(if w { 0xD1 } else { 0xD0 });
                    body.push(0x04 | op << 3);
                } else {
                    // F6/F7 /4 MUL, /5 IMUL, /6 DIV, /7 IDIV; a register
                    // or [si].
                    let op = 4 + (rng.next() % 4) as u8;
                    body.push(if w { 0xF7 } else { 0xF6 });
                    body.push(if pick == 0 {
                        0xC0 | op << 3 | rm
                    } else {
                        0x04 | op << 3
                    });
                }
                // pushf ; push ax ; push dx
                body.extend_from_slice(&[0x9C, 0x50, 0x52]);
            }
            let s = Setup {
                flags: if rng.next() % 2 == 0 { 0xF002 } else { 0xF0D7 },
                ..Setup::default()
            };
            // `step` and the machine's `run_forms` take the rare forms
            // (`run`, the bare CPU's loop, leaves them to `execute`).
            for drive in [Drive::Step, Drive::Forms { budget: 300 }] {
                same_driven(
                    model,
                    &body,
                    &s,
                    &[(0, &vector), (0x80, handler), (0x4000, &data)],
                    drive,
                );
            }
        }
    }
}

/// Every ALU operation (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP) in each
/// register shape (word and byte registers, register and immediate
/// operands, low and high byte registers as destinations of each), and
/// MOV of an immediate, INC and DEC of every byte register, each followed
/// by PUSHF (but MOV) and a push of the register it
/// wrote (so a flag or a byte written to the wrong half shows in memory),
/// and a DEC AH + JNZ, DEC CL + JZ and SUB + JB the bodies fuse. Run 20
/// times (so that bodies are built and run) by `run` and by `run_forms`
/// at several budgets, against the decoder's path without the cache:
/// registers, memory, instruction and clock counts must be equal.
#[test]
fn alu_operations_and_byte_inc_dec_in_every_register_shape() {
    let mut body = vec![
        0xB8, 0x7F, 0x80, // mov ax, 807Fh
        0xBB, 0x01, 0xFF, // mov bx, FF01h
        0xB9, 0x80, 0x00, // mov cx, 0080h
        0xBA, 0xFF, 0x7F, // mov dx, 7FFFh
    ];
    // (ModR/M register field, ModR/M r/m field), as word or byte registers
    // (no SP or BP among the words written: BP counts the passes)
    let pairs: [(u8, u8); 4] = [(0, 3), (6, 2), (7, 1), (1, 6)];
    for op in 0u8..8 {
        let (reg, rm) = pairs[op as usize % 4];
        let modrm = 0xC0 | reg << 3 | rm;
        let push_rm_word = 0x50 | (rm & 3);
        body.extend_from_slice(&[op * 8 + 1, modrm, 0x9C, push_rm_word]); // op r/m16, r16
        body.extend_from_slice(&[op * 8, modrm, 0x9C, push_rm_word & 0xFB]); // op r/m8, r8
                                                                             // The same with the other byte of each register.
        body.extend_from_slice(&[op * 8, modrm ^ 0x24, 0x9C, push_rm_word & 0xFB]);
        body.extend_from_slice(&[op * 8 + 3, modrm, 0x9C, 0x50 | (reg & 3)]); // op r16, r/m16
        body.extend_from_slice(&[op * 8 + 2, modrm, 0x9C, 0x50 | (reg & 3)]); // op r8, r/m8
        body.extend_from_slice(&[0x81, 0xC0 | op << 3 | rm, 0x01, 0x80, 0x9C, push_rm_word]); // op r/m16, 8001h
        body.extend_from_slice(&[
            0x80,
            0xC0 | op << 3 | (rm ^ 4),
            0x81,
            0x9C,
            push_rm_word & 0xFB,
        ]); // op r/m8, 81h
        body.extend_from_slice(&[0x80, 0xC0 | op << 3 | rm, 0x7E, 0x9C, push_rm_word & 0xFB]); // op r/m8, 7Eh on the other byte
        body.extend_from_slice(&[0x83, 0xC0 | op << 3 | reg, 0xFF, 0x9C, 0x50 | (reg & 3)]); // op r/m16, -1
        body.extend_from_slice(&[op * 8 + 4, 0x7F, 0x9C, 0x50]); // op al, 7Fh
        body.extend_from_slice(&[op * 8 + 5, 0x00, 0x80, 0x9C, 0x50]); // op ax, 8000h
    }
    for r in 0u8..8 {
        body.extend_from_slice(&[0xB0 | r, 0xA5 ^ r, 0x50 | (r & 3)]); // mov r8, imm
        body.extend_from_slice(&[0xFE, 0xC0 | r, 0x9C, 0x50 | (r & 3)]); // inc r8
        body.extend_from_slice(&[0xFE, 0xC8 | r, 0x9C, 0x50 | (r & 3)]); // dec r8
    }
    body.extend_from_slice(&[
        0xB4, 0x03, // mov ah, 3
        0xFE, 0xCC, // dec ah
        0x75, 0xFC, // jnz -4 (back to the DEC)
        0xB1, 0x02, // mov cl, 2
        0xFE, 0xC9, // dec cl
        0x74, 0x02, // jz +2
        0xEB, 0xFA, // jmp -6 (back to the DEC)
        0x2C, 0x01, // sub al, 1
        0x72, 0x01, // jb +1
        0x40, // inc ax
        0x9C, 0x50, 0x51, // pushf ; push ax ; push cx
    ]);
    for model in MODELS {
        for flags in [0xF002, 0xF0D7] {
            let s = Setup {
                flags,
                ..Setup::default()
            };
            let drives = [
                Drive::Run {
                    limit: 7,
                    warm: false,
                },
                Drive::Run {
                    limit: 10_000,
                    warm: false,
                },
                Drive::Forms { budget: 50 },
                Drive::Forms { budget: 5_000 },
            ];
            for drive in drives {
                same_passes(model, &body, &s, &[], drive, 20);
            }
        }
    }
}
