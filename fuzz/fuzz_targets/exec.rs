//! One instruction executed from an arbitrary state (model, registers,
//! memory seed and code all from the input).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ironpc_fuzz::check_exec(data);
});
