//! The machine runs the CPU in slices up to the board's next event
//! (`Machine::run_for`); stepping one instruction at a time
//! (`Machine::set_stepped`) is the reference. Both must deliver every
//! hardware interrupt at the same emulated cycle with the same vector, end
//! at the same cycle in the same state: timer, keyboard and floppy
//! interrupts over a FreeDOS boot with typed commands, serial and timer
//! interrupts (with DMA refresh stealing clocks) in a small ROM program.

use chipset::{Machine, MachineProfile, Overrides, RunStop};
use cpu::{ExactTiming, FastTiming, Timing};
use std::io::Write;
use std::path::{Path, PathBuf};

fn shared_dir() -> PathBuf {
    match std::env::var_os("IRONPC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

/// Say why a test is skipped where `cargo test` shows it (stderr is not
/// captured when written to directly), or fail under IRONPC_REQUIRE_DATA=1.
fn skip(msg: &str) {
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    println!("SKIPPED: {msg}");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
}

/// 4.77 MHz: one emulated second.
const SECOND: u64 = 4_772_727;

/// What a run left behind, to compare.
#[derive(Debug, PartialEq)]
struct Outcome {
    irqs: Vec<(u64, u8)>,
    cycles: u64,
    regs: cpu::Registers,
    screen: String,
    serial: Vec<u8>,
}

fn outcome<T: Timing>(m: &mut Machine<T>) -> Outcome {
    Outcome {
        irqs: m.take_irq_log(),
        cycles: m.cycles(),
        regs: m.cpu.regs,
        screen: m.screen_text(),
        serial: m.serial_output().to_vec(),
    }
}

fn freedos<T: Timing + Default>(stepped: bool) -> Option<Outcome> {
    let shared = shared_dir();
    let bios = shared.join("images/bios/glabios-0.2.6-xt.rom");
    let floppy = shared.join("images/floppy/freedos-360k.img");
    if !bios.exists() || !floppy.exists() {
        skip(&format!(
            "boot data missing: {} or {} (set IRONPC_SHARED)",
            bios.display(),
            floppy.display()
        ));
        return None;
    }
    let profile = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines/xt.yaml");
    let overrides = Overrides {
        bios: Some(bios),
        floppies: vec![(0, floppy)],
        timing: Some(T::NAME.to_string()),
        ..Default::default()
    };
    let mut m: Machine<T> =
        Machine::from_profile_timed(&profile, &overrides).expect("machine profile");
    m.set_stepped(stepped);
    m.log_irqs(true);
    // The prompt comes at about 14 emulated seconds (17 on the exact
    // model); the commands read the disk (floppy interrupts) and echo
    // typed keys (keyboard interrupts).
    assert_eq!(m.run_for(19 * SECOND), RunStop::Cycles);
    assert!(m.screen_text().contains("A:\\>"), "{}", m.screen_text());
    m.type_keys("dir<enter>").unwrap();
    assert_eq!(m.run_for(5 * SECOND), RunStop::Cycles);
    m.type_keys("ver<enter>").unwrap();
    assert_eq!(m.run_for(2 * SECOND), RunStop::Cycles);
    Some(outcome(&mut m))
}

#[test]
fn freedos_boot_and_typing_take_interrupts_at_the_stepped_instants() {
    same_interrupts_as_stepped::<FastTiming>();
}

/// The cycle-exact model: the same, clock for clock.
#[test]
fn exact_model_takes_interrupts_at_the_stepped_instants() {
    same_interrupts_as_stepped::<ExactTiming>();
}

fn same_interrupts_as_stepped<T: Timing + Default>() {
    let Some(sliced) = freedos::<T>(false) else {
        return;
    };
    let stepped = freedos::<T>(true).unwrap();
    for (vector, what) in [(0x08, "timer"), (0x09, "keyboard"), (0x0E, "floppy")] {
        assert!(
            stepped.irqs.iter().any(|&(_, v)| v == vector),
            "no {what} interrupt in the run"
        );
    }
    assert!(
        stepped.screen.contains("FreeCom version"),
        "{}",
        stepped.screen
    );
    if sliced.irqs != stepped.irqs {
        let at = sliced
            .irqs
            .iter()
            .zip(&stepped.irqs)
            .position(|(a, b)| a != b);
        panic!(
            "interrupts differ from #{at:?}: sliced {:?}, stepped {:?} ({} and {} in all)",
            at.map(|i| &sliced.irqs[i..(i + 3).min(sliced.irqs.len())]),
            at.map(|i| &stepped.irqs[i..(i + 3).min(stepped.irqs.len())]),
            sliced.irqs.len(),
            stepped.irqs.len()
        );
    }
    assert_eq!(sliced, stepped);
}

/// serial.asm (nasm, `org 0xE000`), at F000:E000: IVT entries for IRQ 4
/// and IRQ 0, the PIC initialised (ICW1 13h, ICW2 08h, ICW4 01h) with only
/// IRQ 0 and 4 unmasked, PIT counter 0 in mode 2 with count 1000, counter 1
/// in mode 2 with count 18 and DMA channel 0 set for refresh (mode 58h,
/// unmasked), COM1 with OUT2 and the received-data interrupt; then `sti`
/// and a loop of `mov cx,50` and 50 × `inc bx / add si,bx / dec cx / jnz` until five bytes came
/// in (byte [500h]), and `out F4h`. The IRQ 4 handler reads the byte,
/// counts it and sends it back; the IRQ 0 handler counts ticks in [502h].
const SERIAL_PROGRAM: [u8; 149] = [
    0xfa, 0x31, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x70, 0x8e, 0xd8, 0xc7, 0x06, 0x30, 0x00, 0x78, 0xe0,
    0xc7, 0x06, 0x32, 0x00, 0x00, 0xf0, 0xc7, 0x06, 0x20, 0x00, 0x8a, 0xe0, 0xc7, 0x06, 0x22, 0x00,
    0x00, 0xf0, 0xb0, 0x13, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21, 0xb0, 0xee,
    0xe6, 0x21, 0xb0, 0x34, 0xe6, 0x43, 0xb0, 0xe8, 0xe6, 0x40, 0xb0, 0x03, 0xe6, 0x40, 0xb0, 0x54,
    0xe6, 0x43, 0xb0, 0x12, 0xe6, 0x41, 0xe6, 0x0c, 0xb0, 0xff, 0xe6, 0x01, 0xe6, 0x01, 0xb0, 0x58,
    0xe6, 0x0b, 0xb0, 0x00, 0xe6, 0x0a, 0xba, 0xfc, 0x03, 0xb0, 0x08, 0xee, 0xba, 0xf9, 0x03, 0xb0,
    0x01, 0xee, 0xfb, 0xb9, 0x32, 0x00, 0x43, 0x01, 0xde, 0x49, 0x75, 0xfa, 0x80, 0x3e, 0x00, 0x05,
    0x05, 0x72, 0xf0, 0xb0, 0x00, 0xe6, 0xf4, 0xf4, 0x50, 0x52, 0xba, 0xf8, 0x03, 0xec, 0xfe, 0x06,
    0x00, 0x05, 0xee, 0xb0, 0x20, 0xe6, 0x20, 0x5a, 0x58, 0xcf, 0x50, 0xff, 0x06, 0x02, 0x05, 0xb0,
    0x20, 0xe6, 0x20, 0x58, 0xcf,
];

fn serial_run(stepped: bool) -> Outcome {
    let mut rom = vec![0xF4; 8192];
    rom[..SERIAL_PROGRAM.len()].copy_from_slice(&SERIAL_PROGRAM);
    // FFFF:0000 = ROM offset 1FF0: JMP F000:E000.
    rom[0x1FF0..0x1FF5].copy_from_slice(&[0xEA, 0x00, 0xE0, 0x00, 0xF0]);
    let dir = std::env::temp_dir().join(format!("ironpc-slices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("serial-{stepped}.rom"));
    std::fs::write(&path, rom).unwrap();
    let profile = MachineProfile::parse(
        &format!("cpu: '8088'\nram_kib: 64\nbios: {}\n", path.display()),
        Path::new("test.yaml"),
    )
    .unwrap();
    let mut m = Machine::from_config(profile, &Overrides::default()).unwrap();
    m.set_stepped(stepped);
    m.log_irqs(true);
    let mut stop = RunStop::Cycles;
    for chunk in 0..40 {
        if chunk % 4 == 3 {
            m.board.serial_receive(&[b'a' + chunk as u8]);
        }
        stop = m.run_for(12_345);
        if stop != RunStop::Cycles {
            break;
        }
    }
    // isa-debug-exit semantics: status (0 << 1) | 1.
    assert_eq!(stop, RunStop::Exit(1));
    outcome(&mut m)
}

#[test]
fn serial_and_timer_interrupts_come_at_the_stepped_instants() {
    let sliced = serial_run(false);
    let stepped = serial_run(true);
    assert_eq!(stepped.serial, b"dhlpt", "the handler echoes what came in");
    assert_eq!(
        stepped.irqs.iter().filter(|&&(_, v)| v == 0x0C).count(),
        5,
        "one serial interrupt per byte"
    );
    // The fifth byte arrives before chunk 19, at 19 × 12345 = 234555 cycles,
    // and the program exits soon after. Counter 0 counts 1000 input clocks,
    // 4000 CPU cycles, between ticks: 58 of them by then (59 if the exit
    // comes more than 1445 cycles later).
    let ticks = stepped.irqs.iter().filter(|&&(_, v)| v == 0x08).count();
    assert!((58..=59).contains(&ticks), "{ticks} timer interrupts");
    assert_eq!(sliced, stepped);
}

/// A ROM program that copies a loop to 0000:0500 and runs it: 50 000
/// passes of `inc bx ; add ax, 1 ; cmp bx, 50000 ; jne`, then AX is stored
/// at 0600h and the program exits through port F4h.
const REWRITTEN_LOOP_PROGRAM: [u8; 37] = [
    0xFA, // cli
    0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, // ds = es = ss = 0
    0xBC, 0x00, 0x70, // mov sp, 7000h
    0x0E, 0x1F, // push cs ; pop ds
    0xBE, 0x00, 0xE1, // mov si, E100h
    0xBF, 0x00, 0x05, // mov di, 0500h
    0xB9, 0x20, 0x00, // mov cx, 32
    0xFC, 0xF3, 0xA4, // cld ; rep movsb
    0x31, 0xC0, 0x8E, 0xD8, // xor ax, ax ; mov ds, ax
    0x31, 0xDB, // xor bx, bx
    0xEA, 0x00, 0x05, 0x00, 0x00, // jmp 0000:0500
];

/// The loop the program copies to 0000:0500 (ROM offset E100h).
const REWRITTEN_LOOP: [u8; 18] = [
    0x43, //                   0500: inc bx
    0x05, 0x01, 0x00, //       0501: add ax, 1   (immediate at 0502)
    0x81, 0xFB, 0x50, 0xC3, // 0504: cmp bx, 50000
    0x75, 0xF6, //             0508: jne 0500
    0xA3, 0x00, 0x06, //       050A: mov [0600], ax
    0xB0, 0x00, 0xE6, 0xF4, // 050D: mov al, 0 ; out F4h, al
    0xF4, //                   0511: hlt
];

/// A later instruction of a loop the CPU runs in slices (its forms cached,
/// whole runs of them between the board's looks) is rewritten from outside
/// the CPU between two slices, through the machine's bus, as DMA rewrites
/// memory (both report the bytes to the CPU with `invalidate_code`): every
/// pass after it must run the new bytes. The ADD's immediate becomes 5
/// after `AX` passes, so AX ends at AX + 5 × (50 000 − AX), modulo 2^16.
#[test]
fn code_rewritten_between_slices_runs_its_new_bytes() {
    let mut rom = vec![0xF4; 8192];
    rom[..REWRITTEN_LOOP_PROGRAM.len()].copy_from_slice(&REWRITTEN_LOOP_PROGRAM);
    rom[0x100..0x100 + REWRITTEN_LOOP.len()].copy_from_slice(&REWRITTEN_LOOP);
    rom[0x1FF0..0x1FF5].copy_from_slice(&[0xEA, 0x00, 0xE0, 0x00, 0xF0]);
    let dir = std::env::temp_dir().join(format!("ironpc-slices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for stepped in [false, true] {
        let path = dir.join(format!("rewrite-{stepped}.rom"));
        std::fs::write(&path, &rom).unwrap();
        let profile = MachineProfile::parse(
            &format!("cpu: '8088'\nram_kib: 64\nbios: {}\n", path.display()),
            Path::new("test.yaml"),
        )
        .unwrap();
        let mut m = Machine::from_config(profile, &Overrides::default()).unwrap();
        m.set_stepped(stepped);
        let mut before = None;
        let mut stop = RunStop::Cycles;
        for chunk in 0..1000 {
            if chunk == 40 {
                before = Some(m.cpu.regs.gpr[0]);
                cpu::Bus::write(&mut m, 0x502, 5);
            }
            stop = m.run_for(12_345);
            if stop != RunStop::Cycles {
                break;
            }
        }
        assert_eq!(stop, RunStop::Exit(1), "stepped: {stepped}");
        let ax = before.unwrap() as u32;
        assert!((1000..49_000).contains(&ax), "rewritten mid-loop: {ax}");
        let stored = u16::from_le_bytes([m.board.mem_read(0x600), m.board.mem_read(0x601)]);
        assert_eq!(
            stored as u32,
            (ax + 5 * (50_000 - ax)) & 0xFFFF,
            "stepped: {stepped}, {ax} passes before the rewrite"
        );
    }
}
