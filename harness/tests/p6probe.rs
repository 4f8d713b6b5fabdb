//! workloads/p6probe.asm (CPUID, RDTSC, x87, CMOVcc/FCOMI, CMPXCHG8B in 32-bit
//! protected mode, results on port E9h) on the Pentium and Pentium Pro
//! models, against values derived by hand below. The same ROM was run on
//! QEMU 7.2 (`-cpu pentium`, `-cpu pentium2`); docs/ia32.md records the
//! command and the comparison.

use chipset::testboard::{run_test, TestBoard, TestEnd};
use cpu::ia32::{Cpu32, Model32};
use std::process::Command;

/// Assemble the probe with nasm, or `None` after a visible SKIPPED line.
fn assemble() -> Option<Vec<u8>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/p6probe.asm");
    let out = tempfile::tempdir().unwrap();
    let bin = out.path().join("p6probe.bin");
    match Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
    {
        Ok(s) => assert!(s.success(), "nasm failed on {}", src.display()),
        Err(_) if std::env::var("IRONPC_REQUIRE_DATA").as_deref() != Ok("1") => {
            let msg = "SKIPPED: nasm not installed; cannot assemble workloads/p6probe.asm";
            println!("{msg}");
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{msg}");
            return None;
        }
        Err(e) => panic!("nasm is required (IRONPC_REQUIRE_DATA=1): {e}"),
    }
    Some(std::fs::read(&bin).unwrap())
}

fn run(model: Model32, rom: Vec<u8>) -> String {
    let mut board = TestBoard::new(2048, rom, 0x190, 0xE9).expect("board");
    let mut cpu = Cpu32::new(model);
    let end = run_test(&mut cpu, &mut board, 10_000_000, |_| {});
    let out = String::from_utf8_lossy(&board.out).into_owned();
    assert_eq!(end, TestEnd::Done, "{model:?}: output so far:\n{out}");
    out
}

/// The lines every model with an FPU, TSC and CX8 prints. Doubles by hand:
/// sqrt(2) = 1.4142135623730951 = 3FF6A09E667F3BCD; pi rounded to double =
/// 400921FB54442D18; 1/3 = 3FD5555555555555 (significand 0101… rounded
/// down); 3.5 and 2.5 round to the even 4 and 2; 12345678 in packed BCD
/// stores 78h 56h 34h 12h first; 1/0 with ZE masked gives +inf
/// (7FF0000000000000) and a status word of TOP=7 (3800h) | ZE (4);
/// sin(1) = 0.8414709848078965 = 3FEAED548F090CEE; atan(1) = pi/4 =
/// 3FE921FB54442D18; CMPXCHG8B with EDX:EAX equal to memory stores ECX:EBX.
fn common_lines(sig_edx: &str, p6: bool) -> String {
    let mut s = String::from("vendor=GenuineIntel\n");
    s += sig_edx;
    s += "tsc advances\n\
          sqrt2=3FF6A09E667F3BCD\n\
          pi=400921FB54442D18\n\
          third=3FD5555555555555\n\
          round=00000004 00000002\n\
          bcd=12345678\n\
          sw=00003804\n\
          inf=7FF0000000000000\n\
          sin1=3FEAED548F090CEE\n\
          atan1=3FE921FB54442D18\n";
    if p6 {
        // CMOVB takes 2 (1 < 2), CMOVA keeps it; FCOMIP 0 vs 1: CF=1 → (2 << 8) | 1.
        s += "p6=00000201\n";
    }
    s += "cx8=7777888855556666\ndone\n";
    s
}

#[test]
fn p6probe_on_the_pentium() {
    let Some(rom) = assemble() else { return };
    // Signature 0525h; FPU|VME|DE|PSE|TSC|MSR|CX8 = 13Fh.
    let want = common_lines("sig=00000525 edx=0000013F\n", false);
    assert_eq!(run(Model32::Pentium, rom), want);
}

#[test]
fn p6probe_on_the_pentium_pro() {
    let Some(rom) = assemble() else { return };
    // Signature 0619h; + SEP|PGE|CMOV|FXSR = 0100A93Fh.
    let want = common_lines("sig=00000619 edx=0100A93F\n", true);
    assert_eq!(run(Model32::PentiumPro, rom), want);
}
