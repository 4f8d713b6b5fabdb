//! Helpers shared by the integration tests.

use harness::suite::SUITES_ENV;
use std::io::Write;
use std::path::PathBuf;

/// The test-suite data directory, or `None` (after a visible message) when it
/// is absent; with `IRONPC_REQUIRE_DATA=1` absence is a failure.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(SUITES_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/test-suites")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!(
            "IRONPC_REQUIRE_DATA=1 but the test-suite data is not found at {}",
            dir.display()
        );
    }
    // Written to stderr directly, so that the test harness does not capture it.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: test-suite data not found at {} (set {SUITES_ENV})",
        dir.display()
    );
    None
}
