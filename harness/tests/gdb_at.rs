//! The real gdb against `ironpc run --machine at-486 --gdb` (the i386 view
//! of the 32-bit core): break at the boot sector (0:7C00), step, read
//! registers and memory, continue to the FreeDOS prompt. Needs the FreeDOS
//! 1.44M floppy from the shared data, Debian's `bochsbios` and `gdb`;
//! skips visibly without them (fails with IRONPC_REQUIRE_DATA=1). Every
//! process is bounded in time.

mod workbench_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Wait for a child at most `limit`; kill it past that.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn gdb_available() -> bool {
    Command::new("gdb")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

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
    if !gdb_available() {
        let msg = "SKIPPED gdb session: gdb is not installed";
        if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
            panic!("IRONPC_REQUIRE_DATA=1: {msg}");
        }
        println!("{msg}");
        eprintln!("{msg}");
        return;
    }
    // What the boot sector says, independently of the emulator: it starts
    // with a short jump (EB disp8) over the BIOS parameter block and ends
    // with the 55h AAh signature.
    let img = std::fs::read(&floppy).unwrap();
    assert_eq!(img[0], 0xEB, "FreeDOS boot sectors start with a short jump");
    let after_jump = 0x7C00 + 2 + img[1] as i8 as i32;
    assert_eq!(&img[510..512], &[0x55, 0xAA]);

    let mut stub = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["run", "--machine", "at-486", "--floppy"])
        .arg(&floppy)
        .args(["--until-text", "A:\\>", "--timeout", "120", "--gdb", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err = stub.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let Some(addr) = first.strip_prefix("ironpc: gdb stub listening on ") else {
        let _ = stub.kill();
        panic!("unexpected first line from ironpc: {first:?}");
    };
    let script = format!(
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
    );
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("session.gdb");
    std::fs::write(&script_path, script).unwrap();
    let mut gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-x"])
        .arg(&script_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // gdb prints what `monitor` returns on its standard error in batch mode.
    let read_all = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            s
        })
    };
    let stdout = read_all(Box::new(gdb.stdout.take().unwrap()));
    let stderr = read_all(Box::new(gdb.stderr.take().unwrap()));
    wait_bounded(&mut gdb, Duration::from_secs(120), "gdb");
    let status = wait_bounded(&mut stub, Duration::from_secs(30), "ironpc");
    let out = stdout.join().unwrap() + &stderr.join().unwrap();
    println!("{out}");
    assert!(
        out.contains("Breakpoint 1, 0x00007c00"),
        "no stop at 7C00h:\n{out}"
    );
    // The BIOS enters the boot sector at 0000:7C00 with DL = 0 (drive A:);
    // in real mode the i386 view's EIP is the offset, CS base 0.
    let lines: Vec<&str> = out.lines().collect();
    let reg = |name: &str, nth: usize| -> String {
        lines
            .iter()
            .filter(|l| l.split_whitespace().next() == Some(name))
            .nth(nth)
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("no {name} register line:\n{out}"))
            .to_string()
    };
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
