//! Host-CPU differential for the ia32 core's 32-bit forms: each instruction
//! runs on the emulated 486 (register operands, flat 32-bit protected mode)
//! and natively on the host (harness::oracle32), on random operands and
//! flags; results and the flags the manuals define for it must agree.
#![cfg(target_arch = "x86_64")]

use cpu::ia32::{Cpu32, Model32, SegCache, CS};
use cpu::FlatBus;
use harness::oracle32::{run, Form32, ARITH};
use proptest::prelude::*;

const CF: u32 = 1;
const PF: u32 = 4;
const AF: u32 = 0x10;
const ZF: u32 = 0x40;
const SF: u32 = 0x80;
const OF: u32 = 0x800;

fn bytes(form: Form32) -> Vec<u8> {
    match form {
        Form32::Alu(n) => vec![0x01 | n << 3, 0xC8],
        Form32::Test => vec![0x85, 0xC8],
        Form32::Shift(n) => vec![0xD3, 0xC0 | n << 3],
        Form32::Shld => vec![0x0F, 0xA5, 0xC8],
        Form32::Shrd => vec![0x0F, 0xAD, 0xC8],
        Form32::Bsf => vec![0x0F, 0xBC, 0xC1],
        Form32::Bsr => vec![0x0F, 0xBD, 0xC1],
        Form32::Bswap => vec![0x0F, 0xC8],
        Form32::Mul => vec![0xF7, 0xE1],
        Form32::Imul1 => vec![0xF7, 0xE9],
        Form32::Imul2 => vec![0x0F, 0xAF, 0xC1],
        Form32::Xadd => vec![0x0F, 0xC1, 0xC8],
        Form32::Div => vec![0xF7, 0xF1],
        Form32::Idiv => vec![0xF7, 0xF9],
        Form32::Movzx8 => vec![0x0F, 0xB6, 0xC1],
        Form32::Movzx16 => vec![0x0F, 0xB7, 0xC1],
        Form32::Movsx8 => vec![0x0F, 0xBE, 0xC1],
        Form32::Movsx16 => vec![0x0F, 0xBF, 0xC1],
        Form32::Setcc(n) => vec![0x0F, 0x90 | n, 0xC0],
        Form32::Bt(n) => vec![0x0F, 0xA3 | n << 3, 0xC8],
        Form32::Cmpxchg => vec![0x0F, 0xB1, 0xD1],
    }
}

/// The flags the Intel manuals define for `form` with these operands (the
/// rest are "undefined" and not compared), and whether EAX is defined.
fn defined(form: Form32, ecx: u32) -> (u32, bool) {
    let count = ecx & 31;
    match form {
        Form32::Alu(1 | 4 | 6) | Form32::Test => (ARITH & !AF, true),
        Form32::Alu(_) | Form32::Xadd | Form32::Bswap => (ARITH, true),
        _ if count == 0 && matches!(form, Form32::Shift(_) | Form32::Shld | Form32::Shrd) => {
            (ARITH, true)
        }
        Form32::Shift(0..=3) => {
            // Rotates: CF, OF for a count of 1; SF ZF AF PF unaffected.
            let of = if count == 1 { OF } else { 0 };
            (CF | SF | ZF | AF | PF | of, true)
        }
        Form32::Shift(_) | Form32::Shld | Form32::Shrd => {
            let of = if count == 1 { OF } else { 0 };
            (CF | SF | ZF | PF | of, true)
        }
        Form32::Bsf | Form32::Bsr => (ZF, ecx != 0),
        Form32::Mul | Form32::Imul1 | Form32::Imul2 => (CF | OF, true),
        Form32::Div | Form32::Idiv => (0, true),
        // No flags change: all are compared (they must be the input's).
        Form32::Movzx8 | Form32::Movzx16 | Form32::Movsx8 | Form32::Movsx16 | Form32::Setcc(_) => {
            (ARITH, true)
        }
        Form32::Bt(_) => (CF, true),
        Form32::Cmpxchg => (ARITH, true),
    }
}

fn emulate(form: Form32, eax: u32, ecx: u32, edx: u32, flags: u32) -> (u32, u32, u32, u32) {
    let mut bus = FlatBus::new(0x1_0000);
    bus.load(0x1000, &bytes(form));
    let mut c = Cpu32::new(Model32::I80486);
    c.cr[0] |= 1;
    for s in 0..6 {
        c.seg[s] = SegCache {
            sel: if s == CS { 8 } else { 0x10 },
            base: 0,
            limit: 0xFFFF_FFFF,
            attr: if s == CS { 0xC09B } else { 0xC093 },
            valid: true,
        };
    }
    c.eip = 0x1000;
    c.r[0] = eax;
    c.r[1] = ecx;
    c.r[2] = edx;
    c.set_flags_for_test((flags & ARITH) | 2);
    c.step(&mut bus);
    assert_eq!(
        c.eip,
        0x1000 + bytes(form).len() as u32,
        "{form:?} did not complete"
    );
    (c.r[0], c.r[1], c.r[2], c.eflags() & ARITH)
}

fn check(form: Form32, eax: u32, ecx: u32, edx: u32, flags: u32) -> Result<(), TestCaseError> {
    // SHLD/SHRD: the host form takes its fill bits from EDX (see oracle32).
    let host_edx = if matches!(form, Form32::Shld | Form32::Shrd) {
        ecx
    } else {
        edx
    };
    if !divide_ok(form, eax, ecx, edx) {
        return Ok(());
    }
    let h = run(form, eax, ecx, host_edx, flags);
    let (a, c, d, f) = emulate(form, eax, ecx, edx, flags);
    let (mask, eax_defined) = defined(form, ecx);
    let ctx = format!("{form:?} eax={eax:#x} ecx={ecx:#x} edx={edx:#x} flags={flags:#x}");
    if eax_defined {
        prop_assert_eq!(a, h.eax, "EAX: {}", ctx);
    }
    prop_assert_eq!(
        f & mask,
        h.flags & mask,
        "flags (mask {:#x}): {}",
        mask,
        ctx
    );
    if matches!(
        form,
        Form32::Mul | Form32::Imul1 | Form32::Div | Form32::Idiv
    ) {
        prop_assert_eq!(d, h.edx, "EDX: {}", ctx);
    }
    if matches!(form, Form32::Xadd | Form32::Cmpxchg) {
        prop_assert_eq!(c, h.ecx, "ECX: {}", ctx);
    }
    Ok(())
}

/// DIV/IDIV cases the host can run without #DE (the core's #DE is tested
/// separately in the ia32 unit tests).
fn divide_ok(form: Form32, eax: u32, ecx: u32, edx: u32) -> bool {
    let n = (edx as u64) << 32 | eax as u64;
    match form {
        Form32::Div => ecx != 0 && n / ecx as u64 <= u32::MAX as u64,
        Form32::Idiv => {
            let (n, d) = (n as i64, ecx as i32 as i64);
            d != 0
                && !(n == i64::MIN && d == -1)
                && (i32::MIN as i64..=i32::MAX as i64).contains(&(n / d))
        }
        _ => true,
    }
}

fn forms() -> impl Strategy<Value = Form32> {
    prop_oneof![
        (0u8..8).prop_map(Form32::Alu),
        Just(Form32::Test),
        prop_oneof![0u8..6, Just(7u8)].prop_map(Form32::Shift),
        Just(Form32::Shld),
        Just(Form32::Shrd),
        Just(Form32::Bsf),
        Just(Form32::Bsr),
        Just(Form32::Bswap),
        Just(Form32::Mul),
        Just(Form32::Imul1),
        Just(Form32::Imul2),
        Just(Form32::Xadd),
        Just(Form32::Div),
        Just(Form32::Idiv),
        Just(Form32::Movzx8),
        Just(Form32::Movzx16),
        Just(Form32::Movsx8),
        Just(Form32::Movsx16),
        (0u8..16).prop_map(Form32::Setcc),
        (0u8..4).prop_map(Form32::Bt),
        Just(Form32::Cmpxchg),
    ]
}

/// Operands biased to the edges (0, 1, sign bits, all ones) as well as random.
fn operand() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        prop::sample::select(vec![
            0u32,
            1,
            2,
            0x7FFF_FFFF,
            0x8000_0000,
            0xFFFF_FFFF,
            31,
            32,
            33
        ]),
        0u32..64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
    #[test]
    fn the_32_bit_forms_match_the_host(
        form in forms(),
        eax in operand(),
        ecx in operand(),
        edx in operand(),
        flags in any::<u32>(),
    ) {
        check(form, eax, ecx, edx, flags)?;
    }
}

#[test]
fn known_values() {
    // Independent of both: 0xFFFFFFFF + 1 = 0 with CF, ZF, AF, PF set.
    let (a, _, _, f) = emulate(Form32::Alu(0), 0xFFFF_FFFF, 1, 0, 0);
    assert_eq!(a, 0);
    assert_eq!(f & (CF | ZF | AF | PF | SF | OF), CF | ZF | AF | PF);
    // BSWAP 12345678h = 78563412h.
    assert_eq!(emulate(Form32::Bswap, 0x1234_5678, 0, 0, 0).0, 0x7856_3412);
    // SHLD 80000001h, 40000000h, 2 -> 00000005h | top two bits of ECX (01b).
    assert_eq!(
        emulate(Form32::Shld, 0x8000_0001, 0x4000_0002, 0, 0).0,
        0x0000_0005 | 1
    );
}
