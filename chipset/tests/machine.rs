//! The machine loop driving the CPU: debug ports, exit requests, timer
//! interrupts waking a halted CPU. Each test runs a small ROM of hand
//! assembled 8088 code.

use chipset::{Machine, MachineProfile, Overrides, RunStop};
use std::path::{Path, PathBuf};

/// An 8 KiB ROM (F000:E000–F000:FFFF) with `code` at F000:E000, `handler`
/// at F000:E100 and a reset vector jumping to F000:E000.
fn rom(code: &[u8], handler: &[u8]) -> Vec<u8> {
    let mut r = vec![0xF4; 8192];
    r[..code.len()].copy_from_slice(code);
    r[0x100..0x100 + handler.len()].copy_from_slice(handler);
    // FFFF:0000 = ROM offset 1FF0: JMP F000:E000.
    r[0x1FF0..0x1FF5].copy_from_slice(&[0xEA, 0x00, 0xE0, 0x00, 0xF0]);
    r
}

fn machine_with(name: &str, rom_bytes: Vec<u8>) -> Machine {
    let dir = std::env::temp_dir().join(format!("ironpc-machine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, rom_bytes).unwrap();
    let profile = MachineProfile::parse(
        &format!("cpu: '8088'\nram_kib: 64\nbios: {}\n", path.display()),
        Path::new("test.yaml"),
    )
    .unwrap();
    Machine::from_config(profile, &Overrides::default()).unwrap()
}

#[test]
fn debugcon_and_exit_port() {
    let code = [
        0xB0, b'O', 0xE6, 0xE9, // mov al,'O' / out E9h,al
        0xB0, b'K', 0xE6, 0xE9, // mov al,'K' / out E9h,al
        0xB0, 0x10, 0xE6, 0xF4, // mov al,10h / out F4h,al
        0xF4, // hlt
    ];
    let mut m = machine_with("exit.rom", rom(&code, &[]));
    let stop = m.run_for(100_000);
    assert_eq!(stop, RunStop::Exit(0x21), "exit status (10h << 1) | 1");
    assert_eq!(m.exit_request(), Some(0x21));
    assert_eq!(m.debugcon_output(), b"OK");
}

#[test]
fn timer_interrupts_wake_a_halted_cpu() {
    let code = [
        0x31, 0xC0, // xor ax,ax
        0x8E, 0xD8, // mov ds,ax
        0x8E, 0xD0, // mov ss,ax
        0xBC, 0x00, 0x70, // mov sp,7000h
        0xC7, 0x06, 0x20, 0x00, 0x00, 0xE1, // mov word [0020h],E100h (INT 8 offset)
        0xC7, 0x06, 0x22, 0x00, 0x00, 0xF0, // mov word [0022h],F000h (INT 8 segment)
        0xC7, 0x06, 0x00, 0x05, 0x00, 0x00, // mov word [0500h],0
        0xB0, 0x13, 0xE6, 0x20, // ICW1: edge, single, ICW4
        0xB0, 0x08, 0xE6, 0x21, // ICW2: vectors 08h-0Fh
        0xB0, 0x09, 0xE6, 0x21, // ICW4: 8086 mode
        0xB0, 0xFE, 0xE6, 0x21, // mask all but IRQ 0
        0xB0, 0x36, 0xE6, 0x43, // PIT counter 0, mode 3
        0xB0, 0x00, 0xE6, 0x40, // count low
        0xB0, 0x10, 0xE6, 0x40, // count high: 1000h PIT clocks = 16384 CPU cycles
        0xFB, // sti
        0xF4, // hlt
        0xEB, 0xFD, // jmp back to hlt
    ];
    let handler = [
        0xFF, 0x06, 0x00, 0x05, // inc word [0500h]
        0xB0, 0x20, 0xE6, 0x20, // non-specific EOI
        0xCF, // iret
    ];
    let mut m = machine_with("timer.rom", rom(&code, &handler));
    m.run_for(16384 * 50);
    let ticks = u16::from_le_bytes([m.board.ram[0x500], m.board.ram[0x501]]);
    assert!(
        (48..=50).contains(&ticks),
        "{ticks} timer interrupts in 50 periods"
    );
    assert!(m.cpu.halted(), "waits in HLT between interrupts");
}

#[test]
fn nmi_only_when_enabled_by_port_a0() {
    let code = [
        0x31, 0xC0, // xor ax,ax
        0x8E, 0xD8, // mov ds,ax
        0x8E, 0xD0, // mov ss,ax
        0xBC, 0x00, 0x70, // mov sp,7000h
        0xC7, 0x06, 0x08, 0x00, 0x00, 0xE1, // INT 2 offset = E100h
        0xC7, 0x06, 0x0A, 0x00, 0x00, 0xF0, // INT 2 segment = F000h
        0xB0, 0x80, 0xE6, 0xA0, // enable NMI
        0xF4, // hlt
        0xEB, 0xFD, // jmp back to hlt
    ];
    let handler = [0xB0, b'N', 0xE6, 0xE9, 0xCF]; // mov al,'N' / out E9h,al / iret
    let mut m = machine_with("nmi.rom", rom(&code, &handler));
    assert!(!m.raise_nmi(), "masked at power-on");
    m.run_for(10_000);
    assert!(m.cpu.halted());
    assert!(m.raise_nmi());
    m.run_for(10_000);
    assert_eq!(m.debugcon_output(), b"N");
}

#[test]
fn save_and_restore_state() {
    let code = [
        0x31, 0xC0, // xor ax,ax
        0x8E, 0xD8, // mov ds,ax
        0x40, // inc ax (loop start, E004)
        0xA3, 0x00, 0x05, // mov [0500h],ax
        0xEB, 0xFA, // jmp E004
    ];
    let mut m = machine_with("state.rom", rom(&code, &[]));
    m.run_for(50_000);
    let json = serde_json::to_string(&m.save_state()).unwrap();
    let state: chipset::MachineState = serde_json::from_str(&json).unwrap();
    let mut r = Machine::from_state(state).unwrap();
    assert_eq!(r.cpu.regs, m.cpu.regs);
    assert_eq!(r.board.ram, m.board.ram);
    m.run_for(10_000);
    r.run_for(10_000);
    assert_eq!(r.cpu.regs, m.cpu.regs, "both continue identically");
    assert_eq!(r.board.ram[0x500..0x502], m.board.ram[0x500..0x502]);
}
