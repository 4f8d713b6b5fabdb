//! Random bytes executed by the ia32 core in protected mode with paging on:
//! faults, never a host panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ironpc_fuzz::ia32::check_exec32(data);
});
