//! test386.asm on the ia32 core's 80386: all three ROM builds reach POST FFh
//! and the ASCII output of POST EEh equals the upstream reference
//! (`test386-EE-reference.txt`, carriage returns removed).

mod common;

use chipset::testboard::{run_test, TestBoard, TestEnd};
use cpu::ia32::{Cpu32, Model32};

/// Far more than the ~80 million instructions a passing run takes.
const BUDGET: u64 = 400_000_000;

fn run_rom(name: &str) {
    run_rom_on(name, Model32::I80386);
}

fn run_rom_on(name: &str, model: Model32) {
    let Some(dir) = common::data_dir() else {
        return;
    };
    let base = dir.join("test386");
    let rom_path = base.join("built").join(name);
    let rom = std::fs::read(&rom_path).unwrap_or_else(|e| panic!("{}: {e}", rom_path.display()));
    let ref_path = base.join("test386-EE-reference.txt");
    let reference: Vec<u8> = std::fs::read(&ref_path)
        .unwrap_or_else(|e| panic!("{}: {e}", ref_path.display()))
        .into_iter()
        .filter(|&b| b != b'\r')
        .collect();
    let mut board = TestBoard::new(2048, rom, 0x190, 0xE9).expect("board");
    let mut cpu = Cpu32::new(model);
    let end = run_test(&mut cpu, &mut board, BUDGET, |_| {});
    let r = cpu.regs();
    assert_eq!(
        end,
        TestEnd::Done,
        "{name} on {model:?}: stopped at POST {:02X?} with CS:EIP {:04X}:{:08X} (POST codes {:02X?})",
        board.last_post(),
        r.sel[1],
        r.eip,
        board.post
    );
    // Every POST code of the README's list, in order (22h only runs its tests in the 128K builds).
    let mut expect = vec![
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x20, 0x21, 0x22,
    ];
    expect.extend(0x0B..=0x1C);
    expect.extend([0xE0, 0xEE, 0xFF]);
    assert_eq!(board.post, expect, "{name} on {model:?}: POST sequence");
    if board.out != reference {
        let got = String::from_utf8_lossy(&board.out);
        let want = String::from_utf8_lossy(&reference);
        let first = got.lines().zip(want.lines()).position(|(a, b)| a != b);
        panic!(
            "{name} on {model:?}: E9 output differs from the reference ({} vs {} bytes); first differing line {:?}: got {:?}, want {:?}",
            board.out.len(),
            reference.len(),
            first,
            first.and_then(|n| got.lines().nth(n)),
            first.and_then(|n| want.lines().nth(n)),
        );
    }
}

#[test]
fn test386_64k_reaches_post_ff() {
    run_rom("test386.bin");
}

#[test]
fn test386_128k_with_task_switches_reaches_post_ff() {
    run_rom("test386-128k.bin");
}

#[test]
fn test386_undefined_386_behaviour_reaches_post_ff() {
    run_rom("test386-undef386.bin");
}

// The later models run the same ROMs (the undefined-behaviour build checks
// the 386's own undefined flags, so it stays on the 386): the 486, Pentium
// and P6 additions must not disturb anything test386 checks.

#[test]
fn test386_64k_on_the_486_pentium_and_pentium_pro() {
    for m in [Model32::I80486, Model32::Pentium, Model32::PentiumPro] {
        run_rom_on("test386.bin", m);
    }
}

#[test]
fn test386_128k_on_the_486_pentium_and_pentium_pro() {
    for m in [Model32::I80486, Model32::Pentium, Model32::PentiumPro] {
        run_rom_on("test386-128k.bin", m);
    }
}
