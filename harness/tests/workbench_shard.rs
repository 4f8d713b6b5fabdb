//! `ironpc conform --shard K/N` and `ironpc merge`: three shards of a few
//! opcode files merge into the totals of the unsharded run.

mod common;

use std::process::Command;

fn ironpc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn shards_merge_into_the_whole_run() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let data = data.to_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let filter = "00,01,02,03,04";
    let whole = path("whole.json");
    let out = ironpc(&[
        "conform",
        "8086",
        "--suites-dir",
        &data,
        "--filter",
        filter,
        "--json",
        &whole,
    ]);
    assert!(out.status.code().is_some_and(|c| c <= 1));
    let mut parts = Vec::new();
    let mut files_seen = 0;
    for k in 1..=3 {
        let p = path(&format!("shard{k}.json"));
        let shard = format!("{k}/3");
        let out = ironpc(&[
            "conform",
            "8086",
            "--suites-dir",
            &data,
            "--filter",
            filter,
            "--shard",
            &shard,
            "--json",
            &p,
        ]);
        assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        // Five files round robin over three shards: 2, 2, 1.
        let n = v["files"].as_array().unwrap().len();
        assert_eq!(n, if k == 3 { 1 } else { 2 }, "shard {k}");
        files_seen += n;
        parts.push(p);
    }
    assert_eq!(files_seen, 5);
    let merged = path("merged.json");
    let mut args = vec!["merge", "--json", &merged];
    args.extend(parts.iter().map(|s| s.as_str()));
    let out = ironpc(&args);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("5 files from 3 results"), "{stdout}");
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (w, m) = (read(&whole), read(&merged));
    assert_eq!(m["files"], w["files"]);
    for key in ["files", "tests", "passed", "failed"] {
        assert_eq!(m["totals"][key], w["totals"][key], "{key}");
    }
    // The same shard twice is refused.
    let out = ironpc(&["merge", &parts[0], &parts[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("overlapping"));
}
