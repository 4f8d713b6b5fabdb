//! The built-in 32-bit workload `mix32`: the committed image is what its
//! source assembles to, and the ia32 core runs it to the checksum line an
//! independent model (workloads/mix32_model.py) computes.

use std::process::Command;

fn skip(msg: &str) {
    // Written to stderr directly: `eprintln!` would be captured.
    println!("SKIPPED: {msg}");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
}

fn require_data() -> bool {
    std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1")
}

#[test]
fn committed_mix32_image_matches_its_source() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    let out = tempfile::tempdir().unwrap();
    let bin = out.path().join("mix32.bin");
    let status = Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .arg(dir.join("mix32.asm"))
        .status();
    match status {
        Ok(s) => assert!(s.success(), "nasm failed on workloads/mix32.asm"),
        Err(_) if !require_data() => {
            return skip("nasm not installed; cannot re-assemble workloads/mix32.asm")
        }
        Err(e) => panic!("nasm is required (IRONPC_REQUIRE_DATA=1): {e}"),
    }
    let fresh = std::fs::read(&bin).unwrap();
    let committed = std::fs::read(dir.join("mix32.bin")).unwrap();
    assert_eq!(
        fresh, committed,
        "workloads/mix32.bin is stale: re-assemble it with nasm -f bin -o mix32.bin mix32.asm"
    );
}

#[test]
fn the_model_gives_the_expected_line() {
    // The model is checked against the line QEMU (TCG) printed for the same
    // image (scripts/compare.sh WORKLOAD=mix32), so the constant below does
    // not come from ironpc.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    match Command::new("python3")
        .arg(dir.join("mix32_model.py"))
        .arg("10")
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).trim(),
                "mix32 C13397B0 AB36A835"
            );
        }
        Err(_) if !require_data() => skip("python3 not installed; cannot run mix32_model.py"),
        Err(e) => panic!("python3 is required (IRONPC_REQUIRE_DATA=1): {e}"),
    }
}

#[test]
fn bench_runs_mix32_on_the_386_and_486_to_its_checksum() {
    for cpu in ["386", "486"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .args(["bench", "--cpu", cpu, "--rounds", "1"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // What workloads/mix32_model.py prints for 10 rounds.
        assert_eq!(
            text.lines().next(),
            Some("mix32 C13397B0 AB36A835"),
            "{text}"
        );
        assert!(text.contains("MIPS"), "{text}");
    }
}

#[test]
fn mix32_gives_the_same_run_with_and_without_the_decode_cache() {
    // The cache only skips decoding: the checksum line (which
    // workloads/mix32_model.py computes independently), the instruction
    // count and the clock count must not change when it is off.
    use cpu::ia32::Model32;
    use harness::bench32::{run, Bench32Options};
    let go = |decode_cache: bool| {
        run(&Bench32Options {
            model: Model32::PentiumPro,
            decode_cache,
            ..Default::default()
        })
        .unwrap()
    };
    let (on, off) = (go(true), go(false));
    assert_eq!(on.output, b"mix32 C13397B0 AB36A835\n");
    assert_eq!(off.output, on.output);
    assert_eq!((off.instructions, off.cycles), (on.instructions, on.cycles));
}

#[test]
fn bench_32_refuses_other_timing_models() {
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["bench", "--cpu", "386", "--timing", "exact"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exact"), "{err}");
}
