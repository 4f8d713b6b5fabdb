//! The ia32 fuzz target's check (fuzz/src/ia32.rs), run on stable with its
//! own fixed inputs: `cargo fuzz run exec32` (nightly) explores further.

#[path = "../../fuzz/src/ia32.rs"]
mod ia32;
