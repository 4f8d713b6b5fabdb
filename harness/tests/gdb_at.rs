//! The real gdb against `ironpc run --machine at-486 --gdb` (the i386 view
//! of the 32-bit core): break at the boot sector (0:7C00), step, read
//! registers and memory, continue to the FreeDOS prompt. Needs the FreeDOS
//! 1.44M floppy from the shared data, Debian's `bochsbios` and `gdb`;
//! skips visibly without them (fails with IRONPC_REQUIRE_DATA=1). Every
//! process is bounded in time.

mod gdb_support;
mod workbench_support;

/// The FreeDOS floppy, if it, the BIOS and gdb are there (a visible
/// SKIPPED line otherwise; a failure with IRONPC_REQUIRE_DATA=1).
fn floppy_or_skip(what: &str) -> Option<std::path::PathBuf> {
    let floppy = workbench_support::shared_dir().join("images/floppy/freedos-1440k.img");
    let bios = std::path::Path::new("/usr/share/bochs/BIOS-bochs-legacy");
    if !floppy.exists() || !bios.exists() {
        let msg = format!(
            "SKIPPED {what}: {} or {} not found (IRONPC_SHARED, apt-get install bochsbios)",
            floppy.display(),
            bios.display()
        );
        if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
            panic!("IRONPC_REQUIRE_DATA=1: {msg}");
        }
        println!("{msg}");
        eprintln!("{msg}");
        return None;
    }
    if !gdb_support::gdb_or_skip() {
        return None;
    }
    Some(floppy)
}

/// A gdb session with the at-486 booting `floppy` to the FreeDOS prompt:
/// gdb connects in i386 mode and runs `commands`, one per line.
fn at486_session(
    floppy: &std::path::Path,
    commands: &[&str],
) -> (String, std::process::ExitStatus) {
    gdb_support::session(
        &[
            "--machine".as_ref(),
            "at-486".as_ref(),
            "--floppy".as_ref(),
            floppy.as_os_str(),
            "--until-text".as_ref(),
            "A:\\>".as_ref(),
            "--timeout".as_ref(),
            "120".as_ref(),
        ],
        |addr| {
            format!(
                "set architecture i386\nset confirm off\nset pagination off\ntarget remote {addr}\n{}\n",
                commands.join("\n")
            )
        },
    )
}

#[test]
fn real_gdb_on_the_at_486_breaks_at_the_boot_sector_and_continues_to_the_prompt() {
    let Some(floppy) = floppy_or_skip("at-486 gdb session") else {
        return;
    };
    // What the boot sector says, independently of the emulator: it starts
    // with a short jump (EB disp8) over the BIOS parameter block and ends
    // with the 55h AAh signature.
    let img = std::fs::read(&floppy).unwrap();
    assert_eq!(img[0], 0xEB, "FreeDOS boot sectors start with a short jump");
    let after_jump = 0x7C00 + 2 + img[1] as i8 as i32;
    assert_eq!(&img[510..512], &[0x55, 0xAA]);

    let (out, status) = at486_session(
        &floppy,
        &[
            "break *0x7c00",
            "continue",
            "info registers eip cs edx",
            "stepi",
            "info registers eip",
            "x/2xb 0x7dfe",
            "monitor regs",
            "delete",
            "continue",
            "monitor screen",
            "kill",
        ],
    );
    assert!(
        out.contains("Breakpoint 1, 0x00007c00"),
        "no stop at 7C00h:\n{out}"
    );
    // The BIOS enters the boot sector at 0000:7C00 with DL = 0 (drive A:);
    // in real mode the i386 view's EIP is the offset, CS base 0.
    let reg = |name: &str, nth: usize| gdb_support::reg(&out, name, nth);
    assert_eq!(reg("eip", 0), "0x7c00");
    assert_eq!(reg("cs", 0), "0x0");
    assert_eq!(
        u32::from_str_radix(reg("edx", 0).trim_start_matches("0x"), 16).unwrap() & 0xFF,
        0
    );
    // One step takes the jump.
    assert_eq!(reg("eip", 1), format!("{after_jump:#x}"));
    assert!(
        out.contains(&format!("CS:EIP=0000:{after_jump:08X}")),
        "monitor regs:\n{out}"
    );
    assert!(out.contains("0x7dfe:\t0x55\t0xaa"), "signature:\n{out}");
    // Continued to the prompt: the stub stops there and the screen shows it.
    assert!(out.contains("is on the screen"), "{out}");
    assert!(out.contains("A:\\>"), "no prompt on the screen:\n{out}");
    assert!(status.success(), "ironpc exit status {status}");
}

/// A read watchpoint, and the AT monitor commands checked against what is
/// known without the emulator: the 486's reset state (Intel: CR0 =
/// 60000010h, CS base FFFF0000h), the PC AT's interrupt vector bases (08h,
/// 70h) and the lines DOS needs unmasked, the BIOS tick divisor, real-mode
/// segment bases (selector * 16), and the prompt on the screen.
#[test]
fn real_gdb_on_the_at_486_watches_a_read_and_shows_machine_state() {
    let Some(floppy) = floppy_or_skip("at-486 gdb watch and monitor session") else {
        return;
    };
    // The boot sector's BIOS parameter block: bytes per sector at 0Bh. A
    // boot sector reads its BPB (or copies itself, BPB included) before
    // it loads anything: a read watchpoint on it stops inside the boot
    // sector's code with that value.
    let img = std::fs::read(&floppy).unwrap();
    let bytes_per_sector = u16::from_le_bytes([img[11], img[12]]);
    let snap_dir = tempfile::tempdir().unwrap();
    let snap = snap_dir.path().join("prompt.ironpc");
    let (out, status) = at486_session(
        &floppy,
        &[
            "monitor sregs",
            "break *0x7c00",
            "continue",
            "delete",
            "rwatch *(unsigned short*)0x7c0b",
            "continue",
            "info registers eip cs",
            "delete",
            "monitor translate 0x7c00",
            "continue",
            "monitor pic",
            "monitor pit",
            "monitor sregs",
            "monitor screen",
            &format!("monitor save-state {snap}", snap = snap.display()),
            "kill",
        ],
    );
    // Batch gdb prints monitor replies on its standard error, in order,
    // after its standard output: the first `monitor sregs` is at reset,
    // the second at the prompt.
    let lines_of =
        |prefix: &str| -> Vec<&str> { out.lines().filter(|l| l.starts_with(prefix)).collect() };
    let cr0s = lines_of("CR0=");
    let css = lines_of("cs   sel=");
    assert_eq!((cr0s.len(), css.len()), (2, 2), "{out}");
    assert!(
        cr0s[0].starts_with("CR0=60000010 "),
        "reset CR0: {}",
        cr0s[0]
    );
    assert!(
        css[0].starts_with("cs   sel=F000 base=FFFF0000 "),
        "reset CS: {}",
        css[0]
    );
    let prompt = out.as_str();
    // The read watchpoint stops with the value read, inside the boot
    // sector (0:7C00-7DFF).
    assert!(
        out.contains("Hardware read watchpoint 2: *(unsigned short*)0x7c0b"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Value = {bytes_per_sector}")),
        "value {bytes_per_sector}:\n{out}"
    );
    let reg = |name: &str, nth: usize| gdb_support::reg(&out, name, nth);
    let eip = u32::from_str_radix(reg("eip", 0).trim_start_matches("0x"), 16).unwrap();
    assert_eq!(reg("cs", 0), "0x0");
    assert!((0x7C00..0x7E00).contains(&eip), "eip {eip:#x}");
    assert!(
        out.contains("linear 00007C00: paging off, physical 00007C00"),
        "{out}"
    );
    // At the prompt: the vector bases every PC AT BIOS programs, and IRQ
    // 0 (timer), 1 (keyboard), 2 (cascade) and 6 (floppy) unmasked, as
    // DOS on a floppy needs them.
    let imr = |name: &str| {
        let line = prompt
            .lines()
            .find(|l| l.starts_with(&format!("PIC 8259A {name}:")))
            .unwrap_or_else(|| panic!("no {name} PIC line:\n{prompt}"));
        assert!(
            line.contains(if name == "master" {
                "vector base=08h"
            } else {
                "vector base=70h"
            }),
            "{line}"
        );
        let v = line.split("IMR=").nth(1).unwrap();
        u8::from_str_radix(&v[..2], 16).unwrap()
    };
    assert_eq!(imr("master") & 0b0100_0111, 0, "{prompt}");
    imr("slave");
    // Counter 0 divides by 65536 (written as 0): the 18.2 Hz BIOS tick.
    assert!(
        prompt.contains("counter 0: mode") && prompt.contains("reload 0000"),
        "{prompt}"
    );
    // Real mode: no PE in CR0, and each segment's base is its selector * 16.
    let cr0 = cr0s[1];
    assert!(!cr0.split(['[', ']', ' ']).any(|w| w == "PE"), "{cr0}");
    for seg in ["es", "cs", "ss", "ds"] {
        let line = prompt
            .lines()
            .rfind(|l| l.starts_with(&format!("{seg} ")))
            .unwrap_or_else(|| panic!("no {seg} line:\n{prompt}"));
        let field = |k: &str| {
            let v = line.split(&format!("{k}=")).nth(1).unwrap();
            u32::from_str_radix(v.split_whitespace().next().unwrap(), 16).unwrap()
        };
        assert_eq!(field("base"), field("sel") << 4, "{line}");
    }
    assert!(
        prompt.contains("A:\\>"),
        "no prompt on the screen:\n{prompt}"
    );
    assert!(status.success(), "ironpc exit status {status}");
    // `monitor save-state` wrote an AT snapshot of the machine at the
    // prompt: it loads, and the screen it holds shows the prompt.
    assert!(out.contains(&format!("saved {}", snap.display())), "{out}");
    let pc = harness::workbench::atsnap::load(&snap)
        .unwrap_or_else(|e| panic!("the gdb snapshot does not load: {e}"));
    assert!(
        pc.vga.borrow().screen_text().contains("A:\\>"),
        "snapshot screen"
    );
}
