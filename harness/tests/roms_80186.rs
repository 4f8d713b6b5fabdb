//! The 80186 test ROMs (`80186-artlav/` of the suites data): each runs from
//! reset to HLT and its memory is compared with the reference dump.
//!
//! On the 80186 model every ROM must match exactly. On the 8086 model the
//! ROMs that exercise only behaviour the two CPUs share must match too, except
//! for FLAGS bits 12–15, which the 8086 always sets; the others depend on
//! documented 80186 differences (see docs/conformance.md).

mod common;

use cpu::CpuModel;
use harness::roms;

fn rom_dir() -> Option<std::path::PathBuf> {
    Some(common::data_dir()?.join("80186-artlav"))
}

#[test]
fn every_rom_passes_on_the_80186() {
    let Some(dir) = rom_dir() else { return };
    let names = roms::list(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names.len(),
        18,
        "expected the 18 ROMs of the set: {names:?}"
    );
    let mut failures = Vec::new();
    for name in &names {
        let o = roms::run(&dir, name, CpuModel::I80186).unwrap_or_else(|e| panic!("{e}"));
        if !o.passed() {
            failures.push(format!(
                "{name}: halted={} after {} steps, {} of {} bytes differ, first {:x?}",
                o.halted,
                o.steps,
                o.mismatches.len(),
                o.compared,
                o.mismatches.iter().take(4).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// ROMs that only use behaviour the 8086 and 80186 share.
const SHARED_BEHAVIOUR: [&str; 8] = [
    "add", "bitwise", "cmpneg", "control", "jump1", "jump2", "rep", "sub",
];

#[test]
fn shared_behaviour_roms_pass_on_the_8086() {
    let Some(dir) = rom_dir() else { return };
    for name in SHARED_BEHAVIOUR {
        let o = roms::run(&dir, name, CpuModel::I8086).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            o.passed_but_flags_high_nibble(),
            "{name} on the 8086: halted={}, mismatches {:x?}",
            o.halted,
            &o.mismatches[..o.mismatches.len().min(6)]
        );
    }
}

#[test]
fn the_186_specific_roms_tell_the_models_apart() {
    let Some(dir) = rom_dir() else { return };
    // The divide-error return address differs (the 80186 returns to the
    // faulting instruction, the 8086 after it), and so does the rotate
    // count (masked to five bits on the 80186).
    for name in ["div", "rotate"] {
        let o = roms::run(&dir, name, CpuModel::I8086).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !o.passed_but_flags_high_nibble(),
            "{name} unexpectedly matches the 80186 results on the 8086 model"
        );
    }
}
