//! Peripheral models.
#![forbid(unsafe_code)]
