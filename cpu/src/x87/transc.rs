//! Transcendental instructions (F2XM1, FYL2X, FYL2XP1, FSIN, FCOS, FSINCOS,
//! FPTAN, FPATAN).

use super::f80::{F80, IE};

/// F2XM1.
pub fn f2xm1(_a: F80, _cw: u16) -> (F80, u16) {
    (F80::INDEFINITE, IE)
}
/// FSIN.
pub fn fsin(_a: F80, _cw: u16) -> (F80, u16) {
    (F80::INDEFINITE, IE)
}
/// FCOS.
pub fn fcos(_a: F80, _cw: u16) -> (F80, u16) {
    (F80::INDEFINITE, IE)
}
/// FYL2X.
pub fn fyl2x(_a: F80, _b: F80, _cw: u16) -> (F80, u16) {
    (F80::INDEFINITE, IE)
}
/// FYL2XP1.
pub fn fyl2xp1(_a: F80, _b: F80, _cw: u16) -> (F80, u16) {
    (F80::INDEFINITE, IE)
}
/// FPATAN.
pub fn fpatan(_a: F80, _b: F80, _cw: u16) -> (F80, u16) {
    (F80::INDEFINITE, IE)
}
/// FPTAN.
pub fn fptan(_a: F80, _cw: u16) -> (F80, F80, u16) {
    (F80::INDEFINITE, F80::INDEFINITE, IE)
}
/// FSINCOS.
pub fn fsincos(_a: F80, _cw: u16) -> (F80, F80, u16) {
    (F80::INDEFINITE, F80::INDEFINITE, IE)
}
