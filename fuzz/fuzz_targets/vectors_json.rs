//! TODO(vectors): fuzz the JSON test-vector reader (`harness::vectors`, on
//! the `harness` branch) once it is merged: feed `data` to its JSON parser
//! and require an error or a well-formed vector, never a panic.
//!
//! Until then this placeholder fuzzes the part that exists today: the
//! register block of a vector, deserialised into `cpu::Registers`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(regs) = serde_json::from_slice::<cpu::Registers>(data) {
        // What parses must survive a round trip.
        let text = serde_json::to_string(&regs).unwrap();
        let again: cpu::Registers = serde_json::from_str(&text).unwrap();
        assert_eq!(again, regs);
    }
});
