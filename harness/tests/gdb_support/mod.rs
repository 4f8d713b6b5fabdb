//! One gdb session against `ironpc run … --gdb 0`, shared by the XT and
//! AT tests: the stub is started, its address read from its first line,
//! gdb runs the script in batch mode, and both processes are bounded in
//! time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Wait for a child at most `limit`; kill it past that.
pub fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
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

/// Whether Debian's `gdb` is installed; skips visibly when not (fails
/// under IRONPC_REQUIRE_DATA=1).
pub fn gdb_or_skip() -> bool {
    let ok = Command::new("gdb")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg = "SKIPPED gdb session: gdb is not installed";
        if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
            panic!("IRONPC_REQUIRE_DATA=1: {msg}");
        }
        println!("{msg}");
        eprintln!("{msg}");
    }
    ok
}

/// Run `ironpc run <run_args> --gdb 0` and gdb with the script `script`
/// builds from the stub's address; gdb's output (stdout then stderr, where
/// batch mode prints `monitor` replies) and ironpc's exit status.
pub fn session(
    run_args: &[&std::ffi::OsStr],
    script: impl Fn(&str) -> String,
) -> (String, ExitStatus) {
    let mut stub = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .arg("run")
        .args(run_args)
        .args(["--gdb", "0"])
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
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("session.gdb");
    std::fs::write(&script_path, script(addr)).unwrap();
    let mut gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-x"])
        .arg(&script_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
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
    (out, status)
}

/// The value gdb printed for register `name` in its `nth` `info registers`
/// line naming it.
pub fn reg(out: &str, name: &str, nth: usize) -> String {
    out.lines()
        .filter(|l| l.split_whitespace().next() == Some(name))
        .nth(nth)
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no {name} register line:\n{out}"))
        .to_string()
}
