//! The MOO test-vector reader on arbitrary bytes: an error naming the file,
//! or the tests it holds; never a panic (and no allocation driven by a
//! corrupt length field past the data).
#![no_main]

use harness::vectors::{moo, ReadOptions};
use libfuzzer_sys::fuzz_target;
use std::ops::ControlFlow;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.moo");
    let mut n = 0usize;
    let r = moo::parse_tests(path, data, ReadOptions { cycles: true }, &mut |_| {
        n += 1;
        ControlFlow::Continue(())
    });
    match r {
        Ok((count, _)) => assert_eq!(count, n),
        Err(e) => assert!(e.to_string().contains("fuzz.moo"), "{e}"),
    }
});
