//! Decoder and disassembler on arbitrary bytes, for every model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ironpc_fuzz::check_decode(data);
});
