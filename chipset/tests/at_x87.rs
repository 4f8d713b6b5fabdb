//! A coprocessor in the AT's socket: `harness/workloads/fpu287boot.asm`
//! computes with the x87, takes its errors through IRQ 13 (clearing the
//! busy latch at port F0h) and prints on port E9h. On the 286 with an 80287
//! (`at-286.yaml`) the sector is started directly at 0000:7C00, because the
//! Bochs BIOS needs a 386; on the 386 with an 80387 (`at-386-387.yaml`) the
//! Bochs BIOS boots it from a floppy. Every line is checked against values
//! worked out by hand. Needs nasm and the Debian firmware packages (SKIPPED
//! visibly without them; required with IRONPC_REQUIRE_DATA=1).

mod support;
use chipset::at::{build_pc, AtPc};
use chipset::MachineProfile;
use cpu::ia32::{SegCache, CS, DS, ES, SS};
use std::path::PathBuf;
use support::*;

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-at-x87-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The assembled sector, or None after a visible SKIPPED line.
fn sector() -> Option<Vec<u8>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../harness/workloads/fpu287boot.asm");
    // One file per call: the tests run in parallel in one process.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let bin = tmp_dir().join(format!("fpu287boot-{n}.bin"));
    match std::process::Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
    {
        Ok(s) => assert!(s.success(), "nasm failed on {}", src.display()),
        Err(e) => {
            skip(&format!(
                "nasm not installed ({e}); cannot assemble {}",
                src.display()
            ));
            return None;
        }
    }
    let img = std::fs::read(&bin).unwrap();
    assert_eq!(img.len(), 512);
    Some(img)
}

fn profile(name: &str, coprocessor: bool) -> Option<MachineProfile> {
    let mut p = MachineProfile::load(&machines().join(name)).unwrap();
    p.coprocessor = coprocessor;
    p.floppies[0].image = None;
    have_firmware(&p).then_some(p)
}

/// Run until the program exits through port F4h (or `secs` of emulated
/// time pass); the debug-console output.
fn run_to_exit(pc: &mut AtPc, secs: u64) -> String {
    let hz = pc.run.board.config.clock_hz;
    pc.run
        .run_until_within(hz * secs, |r| r.board.debug.exit.is_some());
    let out = String::from_utf8_lossy(&pc.run.board.debug.console).into_owned();
    // OUT F4h,0 asks for exit status (0 << 1) | 1, as QEMU's isa-debug-exit.
    assert_eq!(
        pc.run.board.debug.exit,
        Some(1),
        "no exit; output so far:\n{out}"
    );
    out
}

/// The 286 machine with the sector at 0000:7C00 and CS:IP there (no BIOS).
fn run_286(coprocessor: bool) -> Option<String> {
    let img = sector()?;
    let p = profile("at-286.yaml", coprocessor)?;
    let mut pc = build_pc(&p, &machines()).unwrap();
    for (k, &b) in img.iter().enumerate() {
        pc.run.board.mem_write(0x7C00 + k as u32, b);
    }
    let cpu = &mut pc.run.cpu;
    for s in [CS, DS, ES, SS] {
        cpu.seg[s] = SegCache {
            sel: 0,
            base: 0,
            limit: 0xFFFF,
            attr: if s == CS { 0x9B } else { 0x93 },
            valid: true,
        };
    }
    cpu.eip = 0x7C00;
    Some(run_to_exit(&mut pc, 5))
}

// What the program prints, worked out by hand:
// cmos=1: the board reports the coprocessor in CMOS byte 14h bit 1.
// cw=037F: FNINIT's control word on the 287 and 387 (all exceptions masked,
//   64-bit precision, round to nearest).
// sqrt2: the double nearest sqrt(2) = 1.4142135623730951, 3FF6A09E667F3BCD.
// pi: 355/113 * 10000 = 31415.929… rounds to 31416 = 7AB8h.
// The first 1/0 with ZE unmasked leaves no result and sets ZE (4) and ES
//   (80h), TOP = 6 after the two loads (3000h), with PE (20h) still set
//   from the inexact FSQRT, FIDIV and FISTP before: 30A4h. The handler's
//   FNCLEX clears the flags, so the second 1/0 shows 3084h. Two interrupts:
//   the F0h write dropped IRQ 13 in between, so the second error is a new
//   edge at the 8259.
const WANT: &str = "cmos=1\ncw=037F\nsqrt2=3FF6A09E667F3BCD\npi=7AB8\nirq13=2 sw=30A4 3084\n";

#[test]
fn an_80287_on_the_286_computes_and_interrupts_through_irq13() {
    let Some(out) = run_286(true) else {
        return;
    };
    assert_eq!(out, WANT);
}

#[test]
fn a_286_without_its_80287_ignores_esc() {
    // No coprocessor: CMOS says none, FNSTCW stores nothing (cw stays 0)
    // and no IRQ 13 comes.
    let Some(out) = run_286(false) else {
        return;
    };
    assert_eq!(
        out,
        "cmos=0\ncw=0000\nsqrt2=0000000000000000\npi=0000\nirq13=0 sw=0000 0000\n"
    );
}

#[test]
fn an_80387_on_the_386_boots_under_the_bochs_bios() {
    let Some(img) = sector() else {
        return;
    };
    let Some(mut p) = profile("at-386-387.yaml", true) else {
        return;
    };
    let floppy = tmp_dir().join("fpu287.img");
    let mut fd = img;
    fd.resize(1440 * 1024, 0);
    std::fs::write(&floppy, &fd).unwrap();
    p.floppies[0].image = Some(floppy);
    let mut pc = build_pc(&p, &machines()).unwrap();
    let out = run_to_exit(&mut pc, 30);
    assert_eq!(out, WANT);
}

#[test]
fn a_coprocessor_beside_a_486_is_refused() {
    let text = "board: at\ncpu: \"486\"\ncoprocessor: true\nbios: BIOS-bochs-legacy\n";
    let e = MachineProfile::parse(text, std::path::Path::new("c.yaml"))
        .expect_err("a 486 has its own FPU")
        .to_string();
    assert!(e.contains("c.yaml") && e.contains("coprocessor"), "{e}");
}
