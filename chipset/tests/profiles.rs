//! Every machine profile shipped in test-suites/machines parses and names
//! existing kinds of hardware.

use chipset::MachineProfile;
use std::path::PathBuf;

#[test]
fn shipped_profiles_parse() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        // Bare CPU test boards (`board: test386`) have their own profile type.
        if chipset::testboard::TestBoardProfile::is_test_board(&path) {
            let p =
                chipset::testboard::TestBoardProfile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(p.ram_kib >= 1024, "{}", path.display());
            n += 1;
            continue;
        }
        let p = MachineProfile::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.ram_kib >= 16, "{}", path.display());
        n += 1;
    }
    assert!(n >= 1, "no profiles in {}", dir.display());
}
