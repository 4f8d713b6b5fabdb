//! The real gdb against `ironpc run --machine at-486 --gdb` (the i386 view
//! of the 32-bit core): break at the boot sector (0:7C00), step, read
//! registers and memory, continue to the FreeDOS prompt. Needs the FreeDOS
//! 1.44M floppy from the shared data, Debian's `bochsbios` and `gdb`;
//! skips visibly without them (fails with IRONPC_REQUIRE_DATA=1). Every
//! process is bounded in time.

mod gdb_support;
mod workbench_support;

#[test]
fn real_gdb_on_the_at_486_breaks_at_the_boot_sector_and_continues_to_the_prompt() {
    let floppy = workbench_support::shared_dir().join("images/floppy/freedos-1440k.img");
    let bios = std::path::Path::new("/usr/share/bochs/BIOS-bochs-legacy");
    if !floppy.exists() || !bios.exists() {
        let msg = format!(
            "SKIPPED at-486 gdb session: {} or {} not found (IRONPC_SHARED, apt-get install bochsbios)",
            floppy.display(),
            bios.display()
        );
        if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
            panic!("IRONPC_REQUIRE_DATA=1: {msg}");
        }
        println!("{msg}");
        eprintln!("{msg}");
        return;
    }
    if !gdb_support::gdb_or_skip() {
        return;
    }
    // What the boot sector says, independently of the emulator: it starts
    // with a short jump (EB disp8) over the BIOS parameter block and ends
    // with the 55h AAh signature.
    let img = std::fs::read(&floppy).unwrap();
    assert_eq!(img[0], 0xEB, "FreeDOS boot sectors start with a short jump");
    let after_jump = 0x7C00 + 2 + img[1] as i8 as i32;
    assert_eq!(&img[510..512], &[0x55, 0xAA]);

    let (out, status) = gdb_support::session(
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
                "set architecture i386\n\
                 set confirm off\n\
                 set pagination off\n\
                 target remote {addr}\n\
                 break *0x7c00\n\
                 continue\n\
                 info registers eip cs edx\n\
                 stepi\n\
                 info registers eip\n\
                 x/2xb 0x7dfe\n\
                 monitor regs\n\
                 delete\n\
                 continue\n\
                 monitor screen\n\
                 kill\n"
            )
        },
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
