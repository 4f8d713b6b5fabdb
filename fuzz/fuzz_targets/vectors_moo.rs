//! TODO(vectors): fuzz the binary MOO test-vector reader (`harness::vectors`,
//! on the `harness` branch) once it is merged: feed `data` to its reader and
//! require an error or a well-formed vector, never a panic.
//!
//! A placeholder that compiles today and checks nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = data;
});
