//! The AT/PCI machine runs the CPU in slices up to the board's next
//! deadline (`AtRun::run_for`); stepping one instruction at a time
//! (`AtRun::set_stepped`) is the reference. Both must acknowledge every
//! hardware interrupt at the same emulated cycle with the same vector and
//! end in the same state: timer, keyboard and floppy interrupts over the
//! FreeDOS floppy boot with typed commands, the FreeDOS hard-disk boot
//! (whose BIOS polls the disk), and the RTC's periodic interrupt, COM1's
//! transmitter interrupt and the IDE interrupt in a boot sector of ours
//! (assembled with nasm).
//! Needs the Debian firmware packages and the shared images; skips visibly
//! without them and fails without them under IRONPC_REQUIRE_DATA=1.

mod support;
use chipset::at::{build_pc, AtPc};
use chipset::MachineProfile;
use std::path::{Path, PathBuf};
use support::*;

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-at-slices-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The at-486 profile with `floppy` in drive A:, or None (skipped) without
/// the firmware or the image.
fn at486(floppy: Option<PathBuf>) -> Option<MachineProfile> {
    let mut p = MachineProfile::load(&machines().join("at-486.yaml")).unwrap();
    for name in ["BIOS-bochs-legacy", "vgabios.bin"] {
        let found = ["/usr/share/bochs", "/usr/share/vgabios"]
            .iter()
            .any(|d| Path::new(d).join(name).exists())
            || std::env::var_os("IRONPC_FIRMWARE")
                .is_some_and(|d| Path::new(&d).join(name).exists());
        if !found {
            skip(&format!(
                "firmware {name} not installed (apt-get install bochsbios vgabios)"
            ));
            return None;
        }
    }
    if let Some(f) = &floppy {
        if !f.exists() {
            skip(&format!("{} missing (set IRONPC_SHARED)", f.display()));
            return None;
        }
    }
    p.floppies[0].image = floppy;
    Some(p)
}

/// What a run left behind, to compare.
#[derive(Debug, PartialEq)]
struct Outcome {
    irqs: Vec<(u64, u8)>,
    now: u64,
    instructions: u64,
    regs: cpu::ia32::Regs32,
    screen: String,
    serial: Vec<u8>,
}

fn outcome(pc: &mut AtPc) -> Outcome {
    Outcome {
        irqs: pc.run.board.take_irq_log(),
        now: pc.run.now(),
        instructions: pc.run.cpu.instructions(),
        regs: pc.run.cpu.regs(),
        screen: pc.vga.borrow().screen_text(),
        serial: pc.com[0].borrow().output().to_vec(),
    }
}

/// Build the PC, stepped or sliced, logging interrupts.
fn pc(p: &MachineProfile, stepped: bool) -> AtPc {
    let mut pc = build_pc(p, &machines()).unwrap();
    pc.run.set_stepped(stepped);
    pc.run.board.log_irqs(true);
    pc
}

/// Run in 10 ms pieces until the screen shows `text` (within `secs`
/// emulated seconds).
fn run_to_text(pc: &mut AtPc, text: &str, secs: u64) {
    let hz = pc.run.board.config.clock_hz;
    while !pc.vga.borrow().screen_text().contains(text) {
        assert!(
            pc.run.now() < secs * hz,
            "no {text} after {secs} s; screen:\n{}",
            pc.vga.borrow().screen_text()
        );
        pc.run.run_for(hz / 100);
    }
}

fn assert_same(sliced: &Outcome, stepped: &Outcome) {
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

fn count(o: &Outcome, vector: u8) -> usize {
    o.irqs.iter().filter(|&&(_, v)| v == vector).count()
}

fn freedos_floppy(p: &MachineProfile, stepped: bool) -> Outcome {
    let mut pc = pc(p, stepped);
    let hz = pc.run.board.config.clock_hz;
    run_to_text(&mut pc, "A:\\>", 30);
    // `dir` reads the floppy (IRQ 6); each key is a keyboard interrupt.
    pc.run.board.type_keys("dir<enter>").unwrap();
    pc.run.run_for(2 * hz);
    pc.run.board.type_keys("ver<enter>").unwrap();
    pc.run.run_for(hz);
    outcome(&mut pc)
}

#[test]
fn freedos_floppy_boot_and_typing_take_interrupts_at_the_stepped_instants() {
    let img = shared().join("images/floppy/freedos-1440k.img");
    let Some(p) = at486(Some(img)) else {
        return;
    };
    let sliced = freedos_floppy(&p, false);
    let stepped = freedos_floppy(&p, true);
    // Vectors as the BIOS programs the PICs: IRQ 0 → 08h, IRQ 1 → 09h,
    // IRQ 6 → 0Eh.
    for (vector, what) in [(0x08, "timer"), (0x09, "keyboard"), (0x0E, "floppy")] {
        assert!(
            count(&stepped, vector) > 0,
            "no {what} interrupt in the run"
        );
    }
    assert!(
        stepped.screen.contains("FreeCom version"),
        "{}",
        stepped.screen
    );
    assert_same(&sliced, &stepped);
}

fn freedos_hdd(p: &MachineProfile, stepped: bool) -> Outcome {
    let mut pc = pc(p, stepped);
    run_to_text(&mut pc, "C:\\>", 30);
    let hz = pc.run.board.config.clock_hz;
    pc.run.board.type_keys("dir<enter>").unwrap();
    pc.run.run_for(hz);
    outcome(&mut pc)
}

#[test]
fn freedos_hard_disk_boot_takes_interrupts_at_the_stepped_instants() {
    let Some(mut p) = at486(None) else {
        return;
    };
    let img = tmp_dir().join("freedos-hdd.img");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::process::Command::new("bash")
        .arg(root.join("scripts/make-freedos-hdd.sh"))
        .arg(&img)
        .env("IRONPC_SHARED", shared())
        .output()
    {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return skip(&format!(
                "make-freedos-hdd.sh failed (tools missing?): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
        Err(e) => return skip(&format!("make-freedos-hdd.sh: {e}")),
    }
    p.hda = Some(img);
    p.boot = Some("c".into());
    let sliced = freedos_hdd(&p, false);
    let stepped = freedos_hdd(&p, true);
    // IRQ 14 is on the slave PIC, programmed at 70h: vector 76h.
    // The Bochs BIOS drives the disk with its interrupt masked (nIEN) and
    // polls the status, so this boot has no IRQ 14 (the program of ours
    // below takes it); the IDE controller's busy times are board deadlines.
    assert!(count(&stepped, 0x08) > 0, "no timer interrupt in the run");
    assert!(
        count(&stepped, 0x09) > 0,
        "no keyboard interrupt in the run"
    );
    assert!(stepped.screen.contains("C:\\>"), "{}", stepped.screen);
    assert_same(&sliced, &stepped);
}

/// Assemble `tests/programs/rtc_com1.asm` (RTC, COM1, IDE) with nasm into a 1.44 MB floppy
/// image, or None after a visible SKIPPED line.
fn rtc_com1_floppy() -> Option<PathBuf> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/programs/rtc_com1.asm");
    let img = tmp_dir().join("rtc_com1.img");
    match std::process::Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&img)
        .arg(&src)
        .status()
    {
        Ok(s) => assert!(s.success(), "nasm failed on {}", src.display()),
        Err(e) => {
            skip(&format!(
                "nasm not available ({e}): cannot assemble {}",
                src.display()
            ));
            return None;
        }
    }
    let mut bytes = std::fs::read(&img).unwrap();
    assert_eq!(bytes.len(), 512);
    bytes.resize(1_474_560, 0);
    std::fs::write(&img, bytes).unwrap();
    Some(img)
}

fn rtc_com1(p: &MachineProfile, stepped: bool) -> (Outcome, Vec<u8>) {
    let mut pc = pc(p, stepped);
    let hz = pc.run.board.config.clock_hz;
    let done = pc
        .run
        .run_until_within(30 * hz, |r| r.board.ram()[0x500] == 0x42);
    assert!(
        done,
        "the program did not finish: counters {:02X?}, CPU {:X?}, screen:\n{}",
        &pc.run.board.ram()[0x600..0x608],
        pc.run.cpu.regs(),
        pc.vga.borrow().screen_text()
    );
    // A little more: the machine halts with interrupts off.
    pc.run.run_for(hz / 100);
    let ram = pc.run.board.ram()[..0x1000].to_vec();
    (outcome(&mut pc), ram)
}

#[test]
fn rtc_com1_and_ide_interrupts_come_at_the_stepped_instants() {
    let Some(img) = rtc_com1_floppy() else {
        return;
    };
    let Some(mut p) = at486(Some(img)) else {
        return;
    };
    // A 1 MiB disk whose sector k holds bytes (k × 7 + i) mod 256.
    let disk = tmp_dir().join("pattern.img");
    let bytes: Vec<u8> = (0..1 << 20)
        .map(|i: usize| ((i / 512) * 7 + i % 512) as u8)
        .collect();
    std::fs::write(&disk, &bytes).unwrap();
    p.hda = Some(disk);
    p.boot = Some("a".into());
    let (sliced, _) = rtc_com1(&p, false);
    let (stepped, ram) = rtc_com1(&p, true);
    assert_eq!(ram[0x500], 0x42);
    // Both sectors read, one interrupt each (IRQ 14 on the slave at 70h).
    assert_eq!(&ram[0x800..0xC00], &bytes[512..1536]);
    assert_eq!(count(&stepped, 0x76), 2);
    assert_eq!(stepped.serial, b"slices and steps agree");
    let hz = 33_000_000f64;
    assert_eq!(p.clock_hz, Some(33_000_000));

    // The RTC at rate 6: 1024 Hz, 33e6 / 1024 = 32226.6 cycles apart. The
    // program counts 200 of its interrupts (a few more may come before the
    // CLI); the mean spacing is the rate.
    let rtc: Vec<u64> = stepped
        .irqs
        .iter()
        .filter(|&&(_, v)| v == 0x70)
        .map(|&(t, _)| t)
        .collect();
    assert!(
        (200..=202).contains(&rtc.len()),
        "{} RTC interrupts",
        rtc.len()
    );
    // The first may wait for the program's STI after its setup (whose ISA
    // port accesses take wait states), so the spacing counts from the second.
    let mean = (rtc[rtc.len() - 1] - rtc[1]) as f64 / (rtc.len() - 2) as f64;
    let want = hz / 1024.0;
    assert!(
        (mean - want).abs() < want * 0.002,
        "RTC interrupts {mean:.1} cycles apart, want {want:.1}"
    );

    // COM1: one THRE interrupt when enabled, one per byte sent (22), the
    // last turning it off. From the third on, each comes when the shift
    // register finishes the byte before: 10 bits at 38400 baud, 260.4 µs.
    // Each is acknowledged a little late when the timer's or the RTC's
    // handler runs (a few hundred cycles at most); the mean is exact.
    let com: Vec<u64> = stepped
        .irqs
        .iter()
        .filter(|&&(_, v)| v == 0x0C)
        .map(|&(t, _)| t)
        .collect();
    assert_eq!(com.len(), 23);
    let char_time = hz * 10.0 / 38400.0;
    for w in com[2..].windows(2) {
        let d = (w[1] - w[0]) as f64;
        assert!(
            (d - char_time).abs() < char_time * 0.05,
            "COM1 interrupts {d} cycles apart, want about {char_time:.1}"
        );
    }
    let mean = (com[22] - com[2]) as f64 / 20.0;
    assert!(
        (mean - char_time).abs() < char_time * 0.005,
        "COM1 interrupts {mean:.1} cycles apart on average, want {char_time:.1}"
    );
    assert_same(&sliced, &stepped);
}
