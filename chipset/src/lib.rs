//! Motherboard.
#![forbid(unsafe_code)]
