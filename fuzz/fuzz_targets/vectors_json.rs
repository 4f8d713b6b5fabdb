//! The JSON test-vector reader on arbitrary bytes: an error naming the file,
//! or tests whose fields are well-formed; never a panic.
#![no_main]

use harness::vectors::{json, ReadOptions};
use libfuzzer_sys::fuzz_target;
use std::ops::ControlFlow;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.json");
    let mut n = 0usize;
    let r = json::parse_tests(path, data, ReadOptions { cycles: true }, &mut |t| {
        let _ = (t.index, t.bytes.len(), t.cycles.len());
        n += 1;
        ControlFlow::Continue(())
    });
    match r {
        Ok(count) => assert_eq!(count, n),
        Err(e) => assert!(e.to_string().contains("fuzz.json"), "{e}"),
    }
});
