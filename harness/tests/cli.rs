//! The `ironpc conform` command line, on hand-made suites in a temporary
//! directory: results, exit status, and one clear error line for bad input.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const MANIFEST: &str = "
name: t
description: hand-made vectors
cpu: '8086'
data: v
files: '*.json.gz'
metadata: v/metadata.json
checks: [state]
statuses: [normal]
run: single_step
";

const METADATA: &str = r#"{"opcodes":{"90":{"status":"normal"},"91":{"status":"normal"},
  "8F":{"reg":{"0":{"status":"normal"},"1":{"status":"undefined"}}}}}"#;

/// A NOP at F000:0100 (physical F0100); `final_extra` is spliced into the final state.
fn nop(idx: usize, hash: &str, final_regs: &str, final_ram: &str) -> String {
    format!(
        r#"{{"name":"nop","bytes":[144],
  "initial":{{"regs":{{"ax":1,"bx":2,"cx":3,"dx":4,"cs":61440,"ss":0,"ds":0,"es":0,"sp":256,"bp":0,"si":0,"di":0,"ip":256,"flags":61442}},
             "ram":[[983296,144],[983297,144],[4096,7]],"queue":[]}},
  "final":{{"regs":{{{final_regs}}},"ram":[[983296,144],[983297,144],{final_ram}],"queue":[]}},
  "cycles":[],"test_hash":"{hash}","test_num":{idx}}}"#
    )
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A suite `t`: 90.json.gz holds a real NOP test (passes on a working
    /// core) and one that can never pass (it expects memory to change).
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let f = Fixture { dir };
        f.write("manifests/t.yaml", MANIFEST.as_bytes());
        f.write("data/v/metadata.json", METADATA.as_bytes());
        let tests = format!(
            "[{},{}]",
            nop(0, "aa00", r#""ip":257"#, "[4096,7]"),
            nop(1, "aa01", r#""ip":257"#, "[4096,8]")
        );
        f.write("data/v/90.json.gz", &gz(tests.as_bytes()));
        f
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, data: &[u8]) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    fn conform(&self, extra: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .arg("conform")
            .arg("t")
            .arg("--manifests-dir")
            .arg(self.path("manifests"))
            .arg("--suites-dir")
            .arg(self.path("data"))
            .args(extra)
            .env_remove("IRONPC_SUITES")
            .output()
            .unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit status 2 and exactly one error line on stderr (the last; progress
/// lines may precede it), which contains every `needle`.
fn assert_one_error(out: &Output, needles: &[&str]) {
    let all = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {all}");
    assert!(!all.contains("panicked"), "{all}");
    let errors: Vec<&str> = all.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "expected one error line, got: {all}");
    assert_eq!(all.lines().last(), Some(errors[0]), "{all}");
    for n in needles {
        assert!(errors[0].contains(n), "'{n}' not in: {all}");
    }
}

fn summary(out: &Output) -> (u64, u64) {
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().expect("some output");
    let rest = last
        .strip_prefix("t: ")
        .unwrap_or_else(|| panic!("bad last line '{last}'"));
    let (p, f) = rest.split_once(" passed, ").unwrap();
    (
        p.parse().unwrap(),
        f.strip_suffix(" failed").unwrap().parse().unwrap(),
    )
}

#[test]
fn runs_a_suite_and_ends_with_the_summary() {
    let f = Fixture::new();
    let json = f.path("out.json");
    let out = f.conform(&["--json", json.to_str().unwrap()]);
    let (passed, failed) = summary(&out);
    assert_eq!(passed + failed, 2, "{}", text(&out.stdout));
    assert!(failed >= 1);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.lines().next().unwrap().starts_with("file"));
    assert!(stdout.contains("skipped: 0 "), "{stdout}");
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(j["suite"], "t");
    assert_eq!(j["totals"]["tests"], 2);
    assert_eq!(j["files"][0]["file"], "90");
    assert_eq!(j["files"][0]["failed"].as_u64(), Some(failed));
}

#[test]
fn skips_are_counted_apart() {
    let f = Fixture::new();
    let m = format!("{MANIFEST}skips:\n  - hash: AA01\n    reason: impossible\n");
    f.write("manifests/t.yaml", m.as_bytes());
    let out = f.conform(&[]);
    let (passed, failed) = summary(&out);
    assert_eq!(passed + failed, 1);
    assert!(
        text(&out.stdout).contains("skipped: 1 (1 by the manifest"),
        "{}",
        text(&out.stdout)
    );
    // Excluded status: 8F /1 is undefined.
    let t =
        nop(0, "bb", r#""ip":257"#, "[4096,7]").replace(r#""bytes":[144]"#, r#""bytes":[143,200]"#);
    f.write("data/v/8F.json.gz", &gz(format!("[{t}]").as_bytes()));
    let out = f.conform(&["--filter", "8f"]);
    assert_eq!(summary(&out), (0, 0));
    assert!(
        text(&out.stdout).contains("1 for their opcode status"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn show_prints_one_test() {
    let f = Fixture::new();
    for which in ["90:1", "AA01"] {
        let out = f.conform(&["--show", which]);
        let s = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{s}{}", text(&out.stderr));
        assert!(s.contains("test 90:1  hash aa01"), "{s}");
        assert!(s.contains("vector:      nop"), "{s}");
        assert!(
            s.contains("001000  07       08        07  <-- MISMATCH"),
            "{s}"
        );
        assert!(s.contains("expected  ........."), "{s}");
        assert!(s.contains("state: FAIL"), "{s}");
    }
    assert_one_error(&f.conform(&["--show", "90:9"]), &["has no test 9"]);
    assert_one_error(&f.conform(&["--show", "ffff"]), &["no test with that hash"]);
}

#[test]
fn usage_errors() {
    let f = Fixture::new();
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["conform", "nope", "--manifests-dir"])
        .arg(f.path("manifests"))
        .output()
        .unwrap();
    assert_one_error(&out, &["unknown suite 'nope'", "known suites: t"]);
    let out = f.conform(&["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unexpected argument '--bogus'"));
    // The fixture's manifest lists only the state check.
    for check in ["cycles", "all"] {
        assert_one_error(
            &f.conform(&["--check", check]),
            &["suite 't' does not support the cycle check"],
        );
    }
    assert_one_error(
        &f.conform(&["--filter", "91"]),
        &["no vector files", "match --filter 91"],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn corrupt(rel: &str, data: &[u8], needles: &[&str]) {
    let f = Fixture::new();
    f.write(rel, data);
    assert_one_error(&f.conform(&[]), needles);
}

#[test]
fn corrupt_gzip() {
    corrupt(
        "data/v/91.json.gz",
        b"this is not gzip",
        &["91.json.gz", "corrupt or truncated gzip"],
    );
}

#[test]
fn truncated_gzip() {
    let good = gz(format!("[{}]", nop(0, "cc", r#""ip":257"#, "[4096,7]")).as_bytes());
    corrupt(
        "data/v/91.json.gz",
        &good[..good.len() / 2],
        &["91.json.gz", "corrupt or truncated gzip"],
    );
}

#[test]
fn malformed_json() {
    let two = format!(
        "[{},{{\"name\":5}}]",
        nop(0, "cc", r#""ip":257"#, "[4096,7]")
    );
    corrupt(
        "data/v/91.json.gz",
        &gz(two.as_bytes()),
        &["91.json.gz: test 1: malformed JSON"],
    );
}

#[test]
fn bad_moo() {
    let f = Fixture::new();
    f.write(
        "manifests/t.yaml",
        MANIFEST.replace("*.json.gz", "*.gz").as_bytes(),
    );
    let mut moo = b"MOO \x0c\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x008086".to_vec();
    moo.extend_from_slice(b"TEST\xff\x00\x00\x00\x00\x00");
    f.write("data/v/91.MOO.gz", &gz(&moo));
    assert_one_error(
        &f.conform(&[]),
        &[
            "91.MOO.gz: test 0 (byte 20)",
            "chunk 'TEST' claims 255 bytes",
        ],
    );
}

#[test]
fn unknown_manifest_key() {
    let m = format!("{MANIFEST}colour: red\n");
    corrupt(
        "manifests/t.yaml",
        m.as_bytes(),
        &["t.yaml: bad manifest: unknown field `colour`"],
    );
}

#[test]
fn missing_files() {
    let f = Fixture::new();
    std::fs::remove_file(f.path("data/v/metadata.json")).unwrap();
    assert_one_error(&f.conform(&[]), &["metadata.json: cannot read"]);
    let f = Fixture::new();
    std::fs::remove_file(f.path("data/v/90.json.gz")).unwrap();
    assert_one_error(&f.conform(&[]), &["no vector files match '*.json.gz'"]);
    let f = Fixture::new();
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["conform", "t", "--manifests-dir"])
        .arg(f.path("manifests"))
        .arg("--suites-dir")
        .arg(f.path("nowhere"))
        .output()
        .unwrap();
    assert_one_error(&out, &["test-suite data not found at", "nowhere"]);
    let missing: &Path = &f.path("manifests/none.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .arg("conform")
        .arg(missing)
        .output()
        .unwrap();
    assert_one_error(&out, &["manifest file", "none.yaml' not found"]);
}

#[test]
fn bad_metadata() {
    corrupt(
        "data/v/metadata.json",
        b"{\"opcodes\": [",
        &["metadata.json: malformed metadata"],
    );
    // A test whose opcode the metadata lacks.
    let t = nop(0, "dd", r#""ip":257"#, "[4096,7]");
    corrupt(
        "data/v/92.json.gz",
        &gz(format!("[{t}]").as_bytes()),
        &["92.json.gz: test 0: opcode 92 is not in the metadata"],
    );
}

/// A NOP test with a one-byte queue and a bus-cycle trace: `cycles` is the
/// JSON array of clocks.
fn nop_with_trace(idx: usize, hash: &str, final_ram: &str, cycles: &str) -> String {
    nop(idx, hash, r#""ip":257"#, final_ram)
        .replacen(r#""queue":[]"#, r#""queue":[144]"#, 1)
        .replace(r#""cycles":[]"#, &format!(r#""cycles":{cycles}"#))
}

/// The fixture with `checks: [state, cycles]` and traces: test 0's trace is
/// what a NOP might plausibly do, test 1's starts with a clock that takes a
/// *subsequent* byte, which no instruction's first clock does (and its
/// final state expects a memory change, as in [`Fixture::new`]).
fn cycles_fixture(cpu: &str) -> Fixture {
    let f = Fixture::new();
    let m = MANIFEST
        .replace("checks: [state]", "checks: [state, cycles]")
        .replace("'8086'", &format!("'{cpu}'"));
    f.write("manifests/t.yaml", m.as_bytes());
    let ti = r#"[0,983297,"--","---","---",0,0,"PASV","Ti","-",0]"#;
    let good = format!(r#"[[0,983296,"--","---","---",0,0,"PASV","Ti","F",144],{ti},{ti}]"#);
    let bad = format!(r#"[[0,983296,"--","---","---",0,0,"PASV","Ti","S",144],{ti}]"#);
    let tests = format!(
        "[{},{}]",
        nop_with_trace(0, "cc00", "[4096,7]", &good),
        nop_with_trace(1, "cc01", "[4096,8]", &bad)
    );
    f.write("data/v/90.json.gz", &gz(tests.as_bytes()));
    f
}

#[test]
fn check_cycles_reports_trace_counts() {
    let f = cycles_fixture("8086");
    for (check, means, state_cols) in [
        (
            "cycles",
            "a test counts as passed when every bus cycle matches, on the exact model",
            false,
        ),
        (
            "all",
            "a test counts as passed when the state (registers, memory, defined flags) and every bus cycle match",
            true,
        ),
    ] {
        let json = f.path(&format!("{check}.json"));
        let out = f.conform(&["--check", check, "--json", json.to_str().unwrap()]);
        let stdout = text(&out.stdout);
        let (passed, failed) = summary(&out);
        assert_eq!(passed + failed, 2, "{stdout}");
        // Test 1's trace can never match.
        assert!(failed >= 1, "{stdout}");
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let header: Vec<&str> = stdout.lines().next().unwrap().split_whitespace().collect();
        let row: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(header[9], "cycles", "{stdout}");
        assert_eq!(row[8], format!("{passed}/2"), "{stdout}");
        assert_eq!(row[5] == "-", !state_cols, "{stdout}");
        assert!(
            stdout.contains(&format!("bus cycles matched exactly in {passed}/2")),
            "{stdout}"
        );
        assert!(stdout.contains("first difference: "), "{stdout}");
        assert!(stdout.contains(means), "{stdout}");
        assert_eq!(
            stdout.contains("failed on registers/memory"),
            state_cols,
            "{stdout}"
        );
        let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(j["files"][0]["cycles_checked"], 2);
        assert_eq!(j["files"][0]["cycles_matched"].as_u64(), Some(passed));
        assert_eq!(j["totals"]["cycles_matched"].as_u64(), Some(passed));
        assert!(j["passed_means"].as_str().unwrap().contains("bus cycle"));
    }
    // The state check alone leaves the cycles column empty.
    let out = f.conform(&[]);
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().nth(1).unwrap().split_whitespace().nth(8),
        Some("-")
    );
    assert!(!stdout.contains("bus cycles matched"), "{stdout}");
}

#[test]
fn show_marks_the_first_cycle_difference() {
    let f = cycles_fixture("8086");
    for check in ["state", "cycles", "all"] {
        let out = f.conform(&["--show", "90:1", "--check", check]);
        let s = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{s}{}", text(&out.stderr));
        // The state output is kept.
        assert!(s.contains("test 90:1  hash cc01"), "{s}");
        assert!(
            s.contains("001000  07       08        07  <-- MISMATCH"),
            "{s}"
        );
        // The traces side by side, clock 0 marked: it takes a first byte,
        // the vector says a subsequent one.
        let marked: Vec<&str> = s.lines().filter(|l| l.starts_with(">>")).collect();
        assert_eq!(marked.len(), 1, "{s}");
        assert!(marked[0].starts_with(">>    0  "), "{s}");
        assert!(
            marked[0].contains("q:S 90") && marked[0].contains("q:F 90"),
            "{s}"
        );
        assert!(marked[0].ends_with("differs"), "{s}");
        assert!(s.contains("first difference at cycle 0"), "{s}");
        assert!(
            s.lines()
                .last()
                .unwrap()
                .contains(&format!("--check {check}: FAIL")),
            "{s}"
        );
    }
}

#[test]
fn check_cycles_is_refused_without_an_exact_model() {
    let f = cycles_fixture("80186");
    for check in ["cycles", "all"] {
        let out = f.conform(&["--check", check]);
        assert_one_error(&out, &["80186", "no cycle-exact model", "--check state"]);
        assert!(text(&out.stdout).is_empty());
    }
}

#[test]
fn timing_report_on_the_exact_model() {
    let timing = |f: &Fixture, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .args(["timing", "t", "--manifests-dir"])
            .arg(f.path("manifests"))
            .arg("--suites-dir")
            .arg(f.path("data"))
            .arg("--out")
            .arg(f.path("out"))
            .args(extra)
            .env_remove("IRONPC_SUITES")
            .output()
            .unwrap()
    };
    let f = cycles_fixture("8086");
    let out = timing(&f, &["--timing", "exact"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("t exact timing: ") && stdout.contains(" of 2 tests take exactly"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(f.path("out/t-exact-timing.md")).unwrap();
    assert!(md.contains("Timing model: exact"), "{md}");
    assert_one_error(
        &timing(&f, &["--timing", "exact", "--write-baseline"]),
        &["baseline holds the fast model's counts"],
    );
    assert_one_error(
        &timing(&f, &["--timing", "warp"]),
        &["unknown timing model 'warp'"],
    );
    let f = cycles_fixture("80186");
    assert_one_error(
        &timing(&f, &["--timing", "exact"]),
        &["80186", "no cycle-exact model"],
    );
}

/// Output paths and baselines are checked before anything runs: no report
/// is written and no test run when `--json` names a directory or
/// `--baseline` a file that is missing or not a baseline.
#[test]
fn bad_output_and_baseline_paths_are_refused_before_the_run() {
    let f = Fixture::new();
    let out = f.conform(&["--json", f.path("data").to_str().unwrap()]);
    assert_one_error(&out, &["--json", "is a directory"]);
    assert!(text(&out.stdout).is_empty(), "the suite ran");
    let out = f.conform(&["--json", f.path("nowhere/r.json").to_str().unwrap()]);
    assert_one_error(&out, &["does not exist"]);
    let timing = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .args(["timing", "t", "--manifests-dir"])
            .arg(f.path("manifests"))
            .arg("--suites-dir")
            .arg(f.path("data"))
            .arg("--out")
            .arg(f.path("out"))
            .args(extra)
            .env_remove("IRONPC_SUITES")
            .output()
            .unwrap()
    };
    let missing = f.path("no-such-baseline.yaml");
    assert_one_error(
        &timing(&["--baseline", missing.to_str().unwrap()]),
        &["no-such-baseline.yaml", "no such file"],
    );
    f.write("bad.yaml", b"{ this is: [not a baseline");
    assert_one_error(
        &timing(&["--baseline", f.path("bad.yaml").to_str().unwrap()]),
        &["bad.yaml"],
    );
    // Neither run measured anything: no report was written.
    assert!(!f.path("out").exists());
}

/// A vector whose memory lies outside the 8086's 1 MiB (address 100000h
/// needs a 21st address line) is bad input, reported with the file and the
/// test's index, not run with the address folded.
#[test]
fn vector_memory_outside_the_address_space_is_refused() {
    let f = Fixture::new();
    let good = nop(0, "bb00", r#""ip":257"#, "[4096,7]");
    let bad =
        nop(1, "bb01", r#""ip":257"#, "[4096,7]").replace("[4096,7]]", "[4096,7],[1048576,1]]");
    assert!(bad.contains("1048576"));
    f.write(
        "data/v/90.json.gz",
        &gz(format!("[{good},{bad}]").as_bytes()),
    );
    let out = f.conform(&[]);
    assert_one_error(&out, &["90.json.gz", "test 1", "initial.ram", "0x100000"]);
}

/// `bench --cpu` takes both cores' models: the help names each, each runs
/// its built-in workload, and an unknown name is refused with the whole list.
#[test]
fn bench_names_and_takes_every_cpu_model() {
    let bench = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ironpc"))
            .arg("bench")
            .args(args)
            .output()
            .unwrap()
    };
    let help = text(&bench(&["--help"]).stdout);
    let models = [
        ("8088", "mix "),
        ("80286", "mix "),
        ("386", "mix32 "),
        ("486", "mix32 "),
        ("pentium", "mix32 "),
        ("pentium-pro", "mix32 "),
    ];
    for (name, workload) in models {
        assert!(help.contains(name), "bench --help does not name {name}");
        let out = bench(&["--cpu", name, "--rounds", "1"]);
        assert_eq!(out.status.code(), Some(0), "--cpu {name}");
        assert!(
            text(&out.stdout).contains(workload),
            "--cpu {name} did not run {workload:?}"
        );
    }
    let out = bench(&["--cpu", "z80", "--rounds", "1"]);
    assert_one_error(&out, &["unknown CPU model 'z80'", "pentium-pro"]);
}
