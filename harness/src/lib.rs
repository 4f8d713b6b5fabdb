//! Harness.

pub mod oracle;
