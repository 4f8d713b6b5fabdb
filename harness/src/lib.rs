//! Conformance machinery of ironpc: readers of the SingleStepTests vector
//! formats, suite manifests, the test runner, reports and the `ironpc` CLI.
#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod cycles;
pub mod error;
pub mod model;
pub mod report;
pub mod roms;
pub mod runner;
pub mod suite;
pub mod timing;
pub mod vectors;
