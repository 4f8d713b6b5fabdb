//! Conformance machinery of ironpc: readers of the SingleStepTests vector
//! formats, suite manifests, the test runner, reports and the `ironpc` CLI.
//!
//! `unsafe` is denied everywhere but in [`oracle`], the host-CPU oracle of
//! the differential tests, which runs single instructions natively.
#![deny(unsafe_code)]

pub mod bench;
pub mod bench32;
pub mod cli;
pub mod cycles;
pub mod error;
pub mod gdbstub;
pub mod model;
pub mod oracle;
pub mod oracle32;
pub mod oracle_p6;
pub mod oracle_x87;
pub mod report;
pub mod roms;
pub mod runner;
pub mod suite;
pub mod timing;
pub mod trace;
pub mod vectors;
pub mod workbench;
