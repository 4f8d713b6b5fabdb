//! Specialised forms of the hot instructions (issues 14 and 17).
//!
//! The decoder names a handler for the common shapes once ([`classify`],
//! kept in the decode cache with the instruction as [`Insn::form`] and
//! [`Insn::aux`]), and `execute` runs it with one `match` instead of taking
//! the opcode apart again on every execution: no opcode `match`, no
//! run-time width dispatch, register numbers and ALU operations already
//! extracted. Each handler is written once, generic over the operand width;
//! a form is `family << 2 | width` (0: 8, 1: 16, 2: 32 bits).
//!
//! The forms do exactly what the general path does (same faults in the same
//! order, same flags, same clocks: those are charged before either runs);
//! `tests` runs every form both ways on random operands. Models with
//! quirks the general path models per instruction are left to it: the 286
//! gets no forms, the 386 no 8/16-bit shifts (its undefined flags).

use super::decode::Insn;
use super::flags::{alu_lazy, incdec_lazy};
use super::mem::Acc;
use super::width::*;
use super::*;

// Families, and the form of each at each width (`family << 2 | width`).
macro_rules! families {
    ($($fam:ident = $n:literal: $f8:ident $f16:ident $f32:ident;)*) => {
        $(
            #[allow(dead_code)] // the ALU families are reached by arithmetic
            const $fam: u8 = $n;
            const $f8: u8 = $n << 2;
            const $f16: u8 = $n << 2 | 1;
            const $f32: u8 = $n << 2 | 2;
        )*
    };
}
families! {
    ALU_RR_ADD = 1: ALU_RR_ADD_8 ALU_RR_ADD_16 ALU_RR_ADD_32;
    ALU_RR_OR = 2: ALU_RR_OR_8 ALU_RR_OR_16 ALU_RR_OR_32;
    ALU_RR_ADC = 3: ALU_RR_ADC_8 ALU_RR_ADC_16 ALU_RR_ADC_32;
    ALU_RR_SBB = 4: ALU_RR_SBB_8 ALU_RR_SBB_16 ALU_RR_SBB_32;
    ALU_RR_AND = 5: ALU_RR_AND_8 ALU_RR_AND_16 ALU_RR_AND_32;
    ALU_RR_SUB = 6: ALU_RR_SUB_8 ALU_RR_SUB_16 ALU_RR_SUB_32;
    ALU_RR_XOR = 7: ALU_RR_XOR_8 ALU_RR_XOR_16 ALU_RR_XOR_32;
    ALU_RR_CMP = 8: ALU_RR_CMP_8 ALU_RR_CMP_16 ALU_RR_CMP_32;
    ALU_RR_TEST = 9: ALU_RR_TEST_8 ALU_RR_TEST_16 ALU_RR_TEST_32;
    ALU_RI_ADD = 10: ALU_RI_ADD_8 ALU_RI_ADD_16 ALU_RI_ADD_32;
    ALU_RI_OR = 11: ALU_RI_OR_8 ALU_RI_OR_16 ALU_RI_OR_32;
    ALU_RI_ADC = 12: ALU_RI_ADC_8 ALU_RI_ADC_16 ALU_RI_ADC_32;
    ALU_RI_SBB = 13: ALU_RI_SBB_8 ALU_RI_SBB_16 ALU_RI_SBB_32;
    ALU_RI_AND = 14: ALU_RI_AND_8 ALU_RI_AND_16 ALU_RI_AND_32;
    ALU_RI_SUB = 15: ALU_RI_SUB_8 ALU_RI_SUB_16 ALU_RI_SUB_32;
    ALU_RI_XOR = 16: ALU_RI_XOR_8 ALU_RI_XOR_16 ALU_RI_XOR_32;
    ALU_RI_CMP = 17: ALU_RI_CMP_8 ALU_RI_CMP_16 ALU_RI_CMP_32;
    ALU_RI_TEST = 18: ALU_RI_TEST_8 ALU_RI_TEST_16 ALU_RI_TEST_32;
    ALU_M_ADD = 19: ALU_M_ADD_8 ALU_M_ADD_16 ALU_M_ADD_32;
    ALU_M_OR = 20: ALU_M_OR_8 ALU_M_OR_16 ALU_M_OR_32;
    ALU_M_ADC = 21: ALU_M_ADC_8 ALU_M_ADC_16 ALU_M_ADC_32;
    ALU_M_SBB = 22: ALU_M_SBB_8 ALU_M_SBB_16 ALU_M_SBB_32;
    ALU_M_AND = 23: ALU_M_AND_8 ALU_M_AND_16 ALU_M_AND_32;
    ALU_M_SUB = 24: ALU_M_SUB_8 ALU_M_SUB_16 ALU_M_SUB_32;
    ALU_M_XOR = 25: ALU_M_XOR_8 ALU_M_XOR_16 ALU_M_XOR_32;
    ALU_M_CMP = 26: ALU_M_CMP_8 ALU_M_CMP_16 ALU_M_CMP_32;
    ALU_M_TEST = 27: ALU_M_TEST_8 ALU_M_TEST_16 ALU_M_TEST_32;
    ALU_GM_ADD = 28: ALU_GM_ADD_8 ALU_GM_ADD_16 ALU_GM_ADD_32;
    ALU_GM_OR = 29: ALU_GM_OR_8 ALU_GM_OR_16 ALU_GM_OR_32;
    ALU_GM_ADC = 30: ALU_GM_ADC_8 ALU_GM_ADC_16 ALU_GM_ADC_32;
    ALU_GM_SBB = 31: ALU_GM_SBB_8 ALU_GM_SBB_16 ALU_GM_SBB_32;
    ALU_GM_AND = 32: ALU_GM_AND_8 ALU_GM_AND_16 ALU_GM_AND_32;
    ALU_GM_SUB = 33: ALU_GM_SUB_8 ALU_GM_SUB_16 ALU_GM_SUB_32;
    ALU_GM_XOR = 34: ALU_GM_XOR_8 ALU_GM_XOR_16 ALU_GM_XOR_32;
    ALU_GM_CMP = 35: ALU_GM_CMP_8 ALU_GM_CMP_16 ALU_GM_CMP_32;
    MOV_RR = 36: MOV_RR_8 MOV_RR_16 MOV_RR_32;
    MOV_RI = 37: MOV_RI_8 MOV_RI_16 MOV_RI_32;
    MOV_M = 38: MOV_M_8 MOV_M_16 MOV_M_32;
    MOV_GM = 39: MOV_GM_8 MOV_GM_16 MOV_GM_32;
    MOV_MOFFS = 40: MOV_MOFFS_8 MOV_MOFFS_16 MOV_MOFFS_32;
    LEA = 41: LEA_8 LEA_16 LEA_32;
    PUSH_R = 42: PUSH_R_8 PUSH_R_16 PUSH_R_32;
    POP_R = 43: POP_R_8 POP_R_16 POP_R_32;
    PUSH_I = 44: PUSH_I_8 PUSH_I_16 PUSH_I_32;
    INCDEC_R = 45: INCDEC_R_8 INCDEC_R_16 INCDEC_R_32;
    INCDEC_M = 46: INCDEC_M_8 INCDEC_M_16 INCDEC_M_32;
    JCC = 47: JCC_8 JCC_16 JCC_32;
    JMP = 48: JMP_8 JMP_16 JMP_32;
    CALL = 49: CALL_8 CALL_16 CALL_32;
    RET = 50: RET_8 RET_16 RET_32;
    MOVX = 51: MOVX_8 MOVX_16 MOVX_32;
    SHIFT = 52: SHIFT_8 SHIFT_16 SHIFT_32;
    IMUL = 53: IMUL_8 IMUL_16 IMUL_32;
    CONV = 54: CONV_8 CONV_16 CONV_32;
    SETCC = 55: SETCC_8 SETCC_16 SETCC_32;
    XCHG_RR = 56: XCHG_RR_8 XCHG_RR_16 XCHG_RR_32;
    BT_R = 57: BT_R_8 BT_R_16 BT_R_32;
    LOOP = 58: LOOP_8 LOOP_16 LOOP_32;
    CMOV = 59: CMOV_8 CMOV_16 CMOV_32;
    // From here on, forms that may fault after writing a register.
    GRP3 = 60: GRP3_8 GRP3_16 GRP3_32;
    STRING = 61: STRING_8 STRING_16 STRING_32;
    // The x87's ESC D8–DF (branch `x87lean`): one form, `Cpu32::f_x87` in
    // fpu.rs, which goes the general way when the CPU has no x87 of its
    // own (a coprocessor can be attached or removed after decoding).
    X87 = 62: X87_8 X87_16 X87_32;
    // The x87's lean forms (branch `x87few`, `fpu::x87_lean`): one per kind
    // of a loop over doubles, each doing only its own work and handing the
    // rest to `Cpu32::f_x87`. The widths name kinds, not operand widths:
    // X87_16 FADD ST(i), X87_32 FMUL ST(i), X87M_8 FADD…FCOMP m64, X87M_16
    // FLD m64, X87M_32 FST(P) m64; the other register arithmetic, the
    // stack forms and FILD m32 are single forms below (`X87L_FSUB`…).
    X87M = 63: X87M_8 X87M_16 X87M_32;
}

/// The x87's general ESC form (`Cpu32::f_x87`, [`fpu::x87_aux`] in `aux`).
///
/// [`fpu::x87_aux`]: super::fpu::x87_aux
pub(crate) const X87_ESC: u8 = X87_8;

// The x87's lean register arithmetic and stack forms beyond the X87
// family's widths (branch `x87f`): a form per operation (`fpu::LEAN_FSUB`…),
// so that none jumps on its operation. Unused fourth widths; those of the
// ALU families lie in [`no_partial`]'s range, which leaves them out.
const X87L_FSUB: u8 = X87 << 2 | 3;
const X87L_FSUBR: u8 = ALU_RR_ADD << 2 | 3;
const X87L_FDIV: u8 = ALU_RR_OR << 2 | 3;
const X87L_FDIVR: u8 = ALU_RR_ADC << 2 | 3;
const X87L_FLD: u8 = CMOV << 2 | 3;
const X87L_FXCH: u8 = GRP3 << 2 | 3;
const X87L_FST: u8 = STRING << 2 | 3;
const X87L_FSTP: u8 = X87M << 2 | 3;
const X87L_FNSTSW: u8 = ALU_RR_SBB << 2 | 3;
const X87L_FILD32: u8 = ALU_RR_AND << 2 | 3;
const X87L_FLDC: u8 = ALU_RR_XOR << 2 | 3;
// The register arithmetic with destination ST(i) (DC, DE; branch `x87h`):
// a form per operation (`fpu::LEAN_FADD_STI`…), the
// ALU_GM families' unused fourth widths (code 2 and 3, FCOM, are not lean
// arithmetic).
const X87L_FADD_STI: u8 = ALU_GM_ADD << 2 | 3;
const X87L_FMUL_STI: u8 = ALU_GM_OR << 2 | 3;
const X87L_FSUB_STI: u8 = ALU_GM_AND << 2 | 3;
const X87L_FSUBR_STI: u8 = ALU_GM_SUB << 2 | 3;
const X87L_FDIV_STI: u8 = ALU_GM_XOR << 2 | 3;
const X87L_FDIVR_STI: u8 = ALU_GM_CMP << 2 | 3;

/// SAHF (the ALU_RR_CMP family's unused fourth width): the flags from AH
/// without the general path's dispatch. The x87's compare idiom
/// (FNSTSW AX; SAHF; Jcc) runs one per compare (mandel87: one per
/// iteration). It writes only status flags and cannot fault, so it is
/// `no_partial` and may run in a body.
const SAHF_F: u8 = ALU_RR_CMP << 2 | 3;

/// Whether a form writes no general register and no EFLAGS bit before its
/// last possible fault (EIP aside, which the fault path puts back at the
/// instruction's start): the run loop's fast path skips the restart
/// snapshot for it (`slice.rs`). Checked handler by handler: the memory
/// forms read or write memory before any register (`rmw` sets nothing;
/// the flags follow it), PUSH moves ESP after its write and POP after its
/// read, CALL pushes after its limit check and sets EIP last, RET peeks
/// and moves ESP after its jump's limit check, LOOP writes ECX after its
/// jump's limit check, CMOVcc reads before it writes. GRP3 (DIV after partial work in the general
/// helpers) and the string forms (REP counts as it goes) are left out, and
/// so is the general path (form 0).
#[inline(always)]
pub(crate) const fn no_partial(form: u8) -> bool {
    // Form 0 (the general path) is not one: families start at 1. (Nor are
    // the x87's lean forms, some of which use fourth widths in the range.)
    form.wrapping_sub(ALU_RR_ADD << 2) < (GRP3 - ALU_RR_ADD) << 2 && !x87_lean_form(form)
}

/// Whether a form is one of the x87's lean forms (`fpu::x87_lean`): no
/// restart snapshot on their lean path, which cannot fault and changes
/// nothing the lap tests; their rare fallback takes the snapshot, puts
/// it back if it faults, and answers `Ok(true)` only when it drove FERR#,
/// then also marking the fetch context to be looked up again, which
/// stops a block's body (`slice.rs`). So they may run in a body
/// (`icache::body_form`).
pub(crate) const fn x87_lean_form(form: u8) -> bool {
    matches!(
        form,
        X87_16
            | X87_32
            | X87L_FSUB
            | X87L_FSUBR
            | X87L_FDIV
            | X87L_FDIVR
            | X87L_FLD
            | X87L_FXCH
            | X87L_FST
            | X87L_FSTP
            | X87L_FNSTSW
            | X87L_FILD32
            | X87L_FLDC
            | X87L_FADD_STI
            | X87L_FMUL_STI
            | X87L_FSUB_STI
            | X87L_FSUBR_STI
            | X87L_FDIV_STI
            | X87L_FDIVR_STI
            | X87M_8
            | X87M_16
            | X87M_32
    )
}

/// Whether a form always goes on to the next instruction and charges no
/// clocks beyond its table count (`Insn::clk`): not the control transfers
/// (Jcc, JMP, CALL, RET, LOOP) nor IMUL with the 386/486 early-out extra
/// (`IMUL_16`, `IMUL_32`); the Pentium's and P6's 32-bit IMUL (`IMUL_8`,
/// see [`classify`]) has none. The run loop's blocks (`icache::body_form`)
/// rely on it.
pub(crate) const fn falls_through_at_clk(form: u8) -> bool {
    !matches!(form >> 2, JCC | JMP | CALL | RET | LOOP) && !matches!(form, IMUL_16 | IMUL_32)
}

/// The form a Jcc takes in a block's body (`Cpu32::build_block`): the
/// JCC family's unused fourth width. Its arm only works out the condition
/// (`Ok(true)`: taken); the body then leaves at it with the target the
/// arena copy holds in `imm` and the taken clocks in `disp`.
pub(crate) const JCC_BODY: u8 = JCC << 2 | 3;

/// The form LOOP, LOOPE, LOOPNE and JCXZ take in a block's body
/// (`Cpu32::build_block`; the LOOP family's unused fourth width): as
/// [`JCC_BODY`], its arm only moves the counter and says whether it is
/// taken, the body leaving at it then. `aux` is the family's (the kind,
/// 0–3) with [`A_LOOP32`] for a 32-bit counter (the address size).
pub(crate) const LOOP_BODY: u8 = LOOP << 2 | 3;

/// In [`LOOP_BODY`]'s `aux`: the counter is ECX, not CX.
pub(crate) const A_LOOP32: u8 = 4;

/// The form of a Jcc in a block's body whose target is a later form of
/// the same body (`Cpu32::build_block`; the JMP family's unused fourth
/// width): its arm is [`JCC_BODY`]'s; taken, the body goes on from there.
pub(crate) const JCC_SKIP: u8 = JMP << 2 | 3;

/// Whether a form leaves a block's body when its arm answers `Ok(true)`
/// ([`JCC_BODY`], [`LOOP_BODY`]).
#[inline(always)]
pub(crate) const fn body_exit(form: u8) -> bool {
    form == JCC_BODY || form == LOOP_BODY
}

/// MOVS, STOS or LODS without a REP prefix (the MOV_MOFFS family's unused
/// fourth width): one iteration that reads before it writes and moves
/// ESI/EDI last, so it needs no restart snapshot and may run in a block's
/// body, where REP's forms (which count as they go) cannot.
pub(crate) const STR_ONE: u8 = MOV_MOFFS << 2 | 3;

/// BT, BTS, BTR or BTC with a memory operand (the BT_R family's unused
/// fourth width): `aux` as BT_R's, with [`A_BT32`] for a 32-bit operand.
const BT_M: u8 = BT_R << 2 | 3;

/// In [`BT_M`]'s `aux`: the operand is 32 bits wide, not 16.
const A_BT32: u8 = 0x80;

/// A 32-bit SHL/SAL, SHR or SAR of a register by a constant count of 1–31
/// (`C0`/`C1`/`D0`/`D1` with a register operand): forms of their own
/// (unused fourth widths, as [`JCC_BODY`]), the count in `aux`, so that
/// they neither test for a memory operand, nor dispatch on the operation
/// and the count's source, nor test for a zero count.
pub(crate) const SHL_RI32: u8 = SHIFT << 2 | 3;
/// See [`SHL_RI32`].
pub(crate) const SHR_RI32: u8 = MOVX << 2 | 3;
/// See [`SHL_RI32`].
pub(crate) const SAR_RI32: u8 = CONV << 2 | 3;

/// IMUL r32, r32 of the Pentium and later (no early-out clocks): a form of
/// its own (IMUL's unused fourth width), the registers ([`rr`]) in
/// `aux`, so that it tests neither for a memory operand nor for an
/// immediate (lib/mpi's multiply loop runs four per iteration).
pub(crate) const IMUL_RR32: u8 = IMUL << 2 | 3;
/// MOVZX r32, r16 with a register source: the registers ([`rr`]) in
/// `aux` (an unused fourth width, as [`IMUL_RR32`]), so that it tests
/// neither for a memory operand nor for the extension or the operand size.
pub(crate) const MOVZX_RR16: u8 = MOV_RR << 2 | 3;
/// MOVSX r32, r16 with a register source (see [`MOVZX_RR16`]).
pub(crate) const MOVSX_RR16: u8 = MOV_RI << 2 | 3;
/// MOVZX r32, r8 with a register source (see [`MOVZX_RR16`]).
pub(crate) const MOVZX_RR8: u8 = LEA << 2 | 3;
/// MOVSX r32, r8 with a register source (see [`MOVZX_RR16`]).
pub(crate) const MOVSX_RR8: u8 = XCHG_RR << 2 | 3;
/// SETcc with a register operand: the condition | the register << 5 in
/// `aux` (SETCC's unused fourth width); its condition is one arm per code
/// ([`Cpu32::jcc_cond`]) rather than `cond` taking the code apart at run time.
pub(crate) const SETCC_R: u8 = SETCC << 2 | 3;

/// BT r32, imm8 (`0F BA /4` with a register operand): a form of its own
/// (INCDEC_R's unused fourth width), the register | [`A_386`] in `aux`, so
/// that it tests neither for the immediate nor for BTS/BTR/BTC's write
/// (mix32's sieve runs `bt eax, 16; jnc` in its inner loop).
const BT_RI32: u8 = INCDEC_R << 2 | 3;

/// The 32-bit ALU operation with a sign-extended byte immediate
/// (`83 /op` with a register operand): the ALU_RI family's unused fourth
/// width, the register in `aux`, so the extension is not decided at run time.
const fn alu_ri_sx8(aop: u8) -> u8 {
    (ALU_RI_ADD + aop) << 2 | 3
}

// The forms of [`alu_ri_sx8`] (TEST's is never made: group 1 has no TEST; its arm
// keeps the `match` over all 256 values).
const RI_SX8_ADD: u8 = alu_ri_sx8(0);
const RI_SX8_OR: u8 = alu_ri_sx8(1);
const RI_SX8_ADC: u8 = alu_ri_sx8(2);
const RI_SX8_SBB: u8 = alu_ri_sx8(3);
const RI_SX8_AND: u8 = alu_ri_sx8(4);
const RI_SX8_SUB: u8 = alu_ri_sx8(5);
const RI_SX8_XOR: u8 = alu_ri_sx8(6);
const RI_SX8_CMP: u8 = alu_ri_sx8(7);
const RI_SX8_TEST: u8 = alu_ri_sx8(8);

/// Whether a form is a Jcc (rel8, rel16 or rel32).
pub(crate) const fn is_jcc(form: u8) -> bool {
    form >> 2 == JCC && form & 3 != 3
}

/// Whether a form is a LOOP, LOOPE, LOOPNE or JCXZ outside a body.
pub(crate) const fn is_loop(form: u8) -> bool {
    form >> 2 == LOOP && form & 3 != 3
}

/// A LOOP-family instruction's target when it is taken from `next`, the
/// EIP after it: what [`Cpu32::f_loop`] jumps to, before its limit check.
pub(crate) fn loop_target(i: &Insn, next: u32) -> u32 {
    let t = next.wrapping_add(sext::<W8>(i.imm));
    if i.o32 {
        t
    } else {
        t & 0xFFFF
    }
}

/// A Jcc's target when it is taken from `next`, the EIP after it: what
/// [`Cpu32::f_jcc`] jumps to (truncated to 16 bits for a 16-bit operand
/// size), before its limit check.
pub(crate) fn jcc_target(i: &Insn, next: u32) -> u32 {
    let d = match i.form & 3 {
        0 => jcc_disp::<W8>(i),
        1 => jcc_disp::<W16>(i),
        _ => jcc_disp::<W32>(i),
    };
    let t = next.wrapping_add(d);
    if i.o32 {
        t
    } else {
        t & 0xFFFF
    }
}

/// A Jcc's displacement, sign-extended: a byte's if the decoder marked
/// one (`A_SX8`), else one of the form's width `W` (one source for
/// [`Cpu32::f_jcc`] and [`jcc_target`]).
#[inline(always)]
fn jcc_disp<W: Width>(i: &Insn) -> u32 {
    if i.aux & A_SX8 != 0 {
        sext::<W8>(i.imm)
    } else {
        sext::<W>(i.imm)
    }
}

/// Whether a form reaches memory (the stack, a moffs operand) other than
/// through a ModR/M memory operand (`Insn::mem`).
pub(crate) const fn implied_memory(form: u8) -> bool {
    matches!(form >> 2, PUSH_R | POP_R | PUSH_I | MOV_MOFFS)
}

/// The `aux` of a form on two registers: the destination `d` in the low
/// three bits, the source `s` in the top three, so that taking it out is
/// one shift with no mask ([`rr_s`]; bits 3 and 4 are free: SETcc's
/// condition uses bit 3).
const fn rr(d: u8, s: u8) -> u8 {
    d | s << 5
}

/// The source register of an [`rr`] `aux`.
#[inline(always)]
const fn rr_s(aux: u8) -> usize {
    (aux >> 5) as usize
}

/// What BTS, BTR or BTC (`aux` 1–3) leave of `v`; None for BT (0).
#[inline(always)]
fn bt_new(aux: u8, v: u32, bit: u32) -> Option<u32> {
    // BT itself by a test of its own: in the `match` it took a jump table.
    if aux & 3 == 0 {
        return None;
    }
    let m = 1u32 << bit;
    Some(match aux & 3 {
        1 => v | m,
        2 => v & !m,
        _ => v ^ m,
    })
}

/// [`Insn::aux`] bit: the source is the immediate.
const A_IMM: u8 = 0x20;
/// [`Insn::aux`] bit: the immediate (or displacement) is a sign-extended byte.
const A_SX8: u8 = 0x40;
/// [`Insn::aux`] bit (XCHG): the register is in the low bits, the other is the accumulator.
const A_ACC: u8 = 0x80;
/// [`Insn::aux`] bit (BT*): the 386's OF (an RCR by the bit offset).
const A_386: u8 = 0x40;

/// The form and aux byte of a decoded instruction (0: the general path),
/// for a CPU of `generation` (2: 286, 3: 386, ...).
pub(crate) fn classify(i: &Insn, generation: u8) -> (u8, u8) {
    if generation < 3 {
        return (0, 0);
    }
    let op = i.op;
    let ow: u8 = if i.o32 { 2 } else { 1 };
    // Byte form for even opcodes of a byte/full pair.
    let w: u8 = if op & 1 == 0 { 0 } else { ow };
    let f = |fam: u8, w: u8, aux: u8| ((fam << 2) | w, aux);
    let reg = i.reg() as u8;
    let rm = i.rm() as u8;
    let imul_w: u8 = if generation >= 5 && i.o32 { 0 } else { ow };
    match op {
        // The ALU operation is in the family (one per operation); aux
        // holds the registers: RR destination and source ([`rr`]), RI the
        // destination, GM nothing (the destination is the reg field).
        0x00..=0x3F if op & 7 < 6 => {
            let aop = (op >> 3) as u8 & 7;
            match op & 7 {
                0 | 1 if i.mem => f(ALU_M_ADD + aop, w, 0),
                0 | 1 => f(ALU_RR_ADD + aop, w, rr(rm, reg)),
                2 | 3 if i.mem => f(ALU_GM_ADD + aop, w, 0),
                2 | 3 => f(ALU_RR_ADD + aop, w, rr(reg, rm)),
                // No ModR/M: the destination is the accumulator.
                _ => f(ALU_RI_ADD + aop, w, 0),
            }
        }
        0x80..=0x83 => {
            let sx = if op == 0x83 { A_SX8 } else { 0 };
            if i.mem {
                f(ALU_M_ADD + reg, w, A_IMM | sx)
            } else if sx != 0 && w == 2 {
                (alu_ri_sx8(reg), rm)
            } else {
                f(ALU_RI_ADD + reg, w, rm | sx)
            }
        }
        0x84 | 0x85 if i.mem => f(ALU_M_TEST, w, 0),
        0x84 | 0x85 => f(ALU_RR_TEST, w, rr(rm, reg)),
        0xA8 | 0xA9 => f(ALU_RI_TEST, w, 0),
        0x86 | 0x87 if !i.mem => f(XCHG_RR, w, 0),
        0x91..=0x97 => f(XCHG_RR, ow, A_ACC | (op & 7) as u8),
        0x88 | 0x89 if i.mem => f(MOV_M, w, 0),
        0x8A | 0x8B if i.mem => f(MOV_GM, w, 0),
        // aux: destination and source ([`rr`]).
        0x88 | 0x89 => f(MOV_RR, w, rr(rm, reg)),
        0x8A | 0x8B => f(MOV_RR, w, rr(reg, rm)),
        0xC6 | 0xC7 if i.mem => f(MOV_M, w, A_IMM),
        0xC6 | 0xC7 => f(MOV_RI, w, rm),
        0xB0..=0xB7 => f(MOV_RI, 0, (op & 7) as u8),
        0xB8..=0xBF => f(MOV_RI, ow, (op & 7) as u8),
        0xA0..=0xA3 => f(MOV_MOFFS, w, (op >= 0xA2) as u8),
        0x8D => f(LEA, ow, 0),
        0x40..=0x4F => f(INCDEC_R, ow, (op & 7) as u8 | ((op >= 0x48) as u8) << 3),
        0xFE | 0xFF if reg < 2 && i.mem => f(INCDEC_M, w, reg << 3),
        0xFE | 0xFF if reg < 2 => f(INCDEC_R, w, rm | reg << 3),
        0x50..=0x57 => f(PUSH_R, ow, (op & 7) as u8),
        0x58..=0x5F => f(POP_R, ow, (op & 7) as u8),
        0x68 => f(PUSH_I, ow, 0),
        0x6A => f(PUSH_I, ow, A_SX8),
        0x70..=0x7F => f(JCC, ow, (op & 0xF) as u8 | A_SX8),
        0x180..=0x18F => f(JCC, ow, (op & 0xF) as u8),
        0xE9 => f(JMP, ow, 0),
        0xEB => f(JMP, ow, A_SX8),
        0xE8 => f(CALL, ow, 0),
        0xC3 => f(RET, ow, 0),
        0xC2 => f(RET, ow, A_IMM),
        0x1B6 if i.o32 && !i.mem => (MOVZX_RR8, rr(reg, rm)),
        0x1BE if i.o32 && !i.mem => (MOVSX_RR8, rr(reg, rm)),
        0x1B7 if i.o32 && !i.mem => (MOVZX_RR16, rr(reg, rm)),
        0x1BF if i.o32 && !i.mem => (MOVSX_RR16, rr(reg, rm)),
        0x1B6 | 0x1BE => f(MOVX, 0, (op == 0x1BE) as u8),
        0x1B7 | 0x1BF => f(MOVX, 1, (op == 0x1BF) as u8),
        // The 386's 8- and 16-bit shifts leave undefined flags of their own.
        0xC0 | 0xC1 | 0xD0..=0xD3 if generation >= 4 || w == 2 => {
            let src = match op {
                0xC0 | 0xC1 => 0,
                0xD0 | 0xD1 => 1,
                _ => 2,
            };
            let cnt = if src == 0 { i.imm & 31 } else { 1 };
            match reg {
                4 | 6 if w == 2 && !i.mem && src < 2 && cnt != 0 => (SHL_RI32, cnt as u8),
                5 if w == 2 && !i.mem && src < 2 && cnt != 0 => (SHR_RI32, cnt as u8),
                7 if w == 2 && !i.mem && src < 2 && cnt != 0 => (SAR_RI32, cnt as u8),
                _ => f(SHIFT, w, reg | src << 3),
            }
        }
        // IMUL's width code 0 (there is no 8-bit IMUL r, r/m): the 32-bit
        // IMUL of the Pentium and later, whose clocks have no early-out
        // extra (`clocks::mul_extra`), so that it may run inside a body
        // (lib/mpi's multiply loops have four per iteration).
        0x1AF if imul_w == 0 && !i.mem => (IMUL_RR32, rr(reg, rm)),
        0x1AF => f(IMUL, imul_w, 0),
        // CMOVcc: the P6's (the Linux kernel's lib/mpi and string code).
        0x140..=0x14F if generation >= 6 => f(CMOV, ow, (op & 0xF) as u8),
        0x69 => f(IMUL, imul_w, A_IMM),
        0x6B => f(IMUL, imul_w, A_IMM | A_SX8),
        0x98 | 0x99 => f(CONV, ow, (op & 1) as u8),
        0x9E => (SAHF_F, 0),
        0x190..=0x19F if !i.mem => (SETCC_R, (op & 0xF) as u8 | rm << 5),
        0x190..=0x19F => f(SETCC, 0, (op & 0xF) as u8),
        0xF6 | 0xF7 => f(GRP3, w, 0),
        // With a 32-bit address the operand's width goes in `aux`, so that
        // the arm runs a copy with its sizes known (`string_one32`).
        0xA4 | 0xA5 | 0xAA..=0xAD if i.rep == 0 => (
            STR_ONE,
            if !i.a32 {
                0
            } else if op & 1 == 0 {
                1
            } else if i.o32 {
                4
            } else {
                2
            },
        ),
        0x6C..=0x6F | 0xA4..=0xA7 | 0xAA..=0xAF => f(STRING, 0, 0),
        // The counter's width is the address size.
        0xE0..=0xE3 => f(LOOP, if i.a32 { 2 } else { 1 }, (op & 3) as u8),
        0x1A3 | 0x1AB | 0x1B3 | 0x1BB | 0x1BA if op != 0x1BA || reg >= 4 => {
            let kind = if op == 0x1BA {
                reg & 3
            } else {
                (op >> 3) as u8 & 3
            };
            let imm = if op == 0x1BA { A_IMM } else { 0 };
            let q = if generation == 3 { A_386 } else { 0 };
            if i.mem {
                (BT_M, kind | imm | q | if i.o32 { A_BT32 } else { 0 })
            } else if op == 0x1BA && kind == 0 && i.o32 {
                (BT_RI32, rm | q)
            } else {
                f(BT_R, ow, kind | imm | q)
            }
        }
        0xD8..=0xDF => {
            use super::fpu::*;
            match x87_lean(i) {
                Some((LEAN_FADD, aux)) => f(X87, 1, aux),
                Some((LEAN_FMUL, aux)) => f(X87, 2, aux),
                Some((LEAN_FSUB, aux)) => (X87L_FSUB, aux),
                Some((LEAN_FSUBR, aux)) => (X87L_FSUBR, aux),
                Some((LEAN_FDIV, aux)) => (X87L_FDIV, aux),
                Some((LEAN_FDIVR, aux)) => (X87L_FDIVR, aux),
                Some((LEAN_FADD_STI, aux)) => (X87L_FADD_STI, aux),
                Some((LEAN_FMUL_STI, aux)) => (X87L_FMUL_STI, aux),
                Some((LEAN_FSUB_STI, aux)) => (X87L_FSUB_STI, aux),
                Some((LEAN_FSUBR_STI, aux)) => (X87L_FSUBR_STI, aux),
                Some((LEAN_FDIV_STI, aux)) => (X87L_FDIV_STI, aux),
                Some((LEAN_FDIVR_STI, aux)) => (X87L_FDIVR_STI, aux),
                Some((LEAN_FLD, aux)) => (X87L_FLD, aux),
                Some((LEAN_FXCH, aux)) => (X87L_FXCH, aux),
                Some((LEAN_FST, aux)) => (X87L_FST, aux),
                Some((LEAN_FSTP, aux)) => (X87L_FSTP, aux),
                Some((LEAN_FNSTSW, aux)) => (X87L_FNSTSW, aux),
                Some((LEAN_M64, aux)) => f(X87M, 0, aux),
                Some((LEAN_FLD64, aux)) => f(X87M, 1, aux),
                Some((LEAN_FILD32, aux)) => (X87L_FILD32, aux),
                Some((LEAN_FLDC, aux)) => (X87L_FLDC, aux),
                Some((LEAN_FST64, aux)) => f(X87M, 2, aux),
                _ => f(X87, 0, x87_aux(i)),
            }
        }
        _ => (0, 0),
    }
}

/// A `match` on a form: `FAMILY => expr` becomes three arms (the
/// family's 8-, 16- and 32-bit forms), each with the type `$W` bound to its
/// width; anything else (form 0, the general path) is `_`. Every arm's
/// `R<()>` becomes `R<bool>`: whether the instruction took the restart
/// snapshot, which (`$lap`: in the run loop's lap) the arms of the forms
/// that need one (not [`no_partial`], known per arm at compile time) take
/// first, at `$start`. So the lap tests no form to decide on the snapshot
/// and learns from the result which tests follow (`slice.rs`).
macro_rules! by_form {
    ($me:ident, $lap:expr, $start:expr, $form:expr, $W:ident;
     $($f8:ident $f16:ident $f32:ident $how:tt $e:expr,)*
     $(@ $f1:ident => $e1:expr,)*
     _ => $d:expr,) => {
        match $form {
            $(
                $f8 => {
                    #[allow(dead_code)] // families that have one width
                    type $W = W8;
                    by_form!(@arm $how $me, $lap, $start, $f8, $e)
                }
                $f16 => {
                    #[allow(dead_code)] // families that have one width
                    type $W = W16;
                    by_form!(@arm $how $me, $lap, $start, $f16, $e)
                }
                $f32 => {
                    #[allow(dead_code)] // families that have one width
                    type $W = W32;
                    by_form!(@arm $how $me, $lap, $start, $f32, $e)
                }
            )*
            // Single forms that make their own `R<bool>`.
            $($f1 => $e1,)*
            // Every other value, spelled out rather than `_`: with all 256
            // covered, the jump table needs no range check (three host
            // instructions per instruction). Form 0 is the general path;
            // the rest (width code 3, family 0) are never made, and would
            // take it too. A family that came to use width code 3 would make
            // one of these unreachable, which the compiler reports (191 is
            // `JCC_BODY`, a single form above).
            0 | 1 | 2 | 3 | 27 | 39
            | 79 | 83 | 87 | 91 | 95 | 99 | 103 | 107 | 111
            | 123 | 127 | 155 | 159 | 171
            | 175 | 179 | 187 | 199 | 203 => {
                if $lap {
                    $me.snapshot_at($start);
                }
                ($d).map(|()| $lap)
            }
        }
    };
    // `->`: the arm takes the snapshot itself, when it needs it, and
    // says so in its own `R<bool>` (the x87 lean forms: only their
    // fallback to the full path needs it).
    (@arm -> $me:ident, $lap:expr, $start:expr, $f:expr, $e:expr) => {
        $e
    };
    (@arm => $me:ident, $lap:expr, $start:expr, $f:expr, $e:expr) => {{
        const SNAP: bool = !no_partial($f);
        if $lap && SNAP {
            $me.snapshot_at($start);
        }
        ($e).map(|()| $lap && SNAP)
    }};
}

/// A little-endian value of width `W` from the start of `m`.
#[inline(always)]
fn load<W: Width>(m: &[u8]) -> Option<u32> {
    match W::BITS {
        8 => m.first().map(|b| *b as u32),
        16 => m.first_chunk::<2>().map(|a| u16::from_le_bytes(*a) as u32),
        _ => m.first_chunk::<4>().map(|a| u32::from_le_bytes(*a)),
    }
}

/// Store `v` little-endian at the start of `m` (which [`load`] accepted).
#[inline(always)]
fn store<W: Width>(m: &mut [u8], v: u32) {
    match W::BITS {
        8 => {
            if let Some(b) = m.first_mut() {
                *b = v as u8;
            }
        }
        16 => {
            if let Some(a) = m.first_chunk_mut::<2>() {
                *a = (v as u16).to_le_bytes();
            }
        }
        _ => {
            if let Some(a) = m.first_chunk_mut::<4>() {
                *a = v.to_le_bytes();
            }
        }
    }
}

/// SHL (`OP` 4), SHR (5) or SAR (7) of `v` (already masked to `W`) by
/// `cnt` (1–31): the result and the CF and OF bits, as [`shift`] gives
/// them (its other status bits are the result's SF, ZF and PF with AF
/// clear, which the caller records lazily).
#[inline(always)]
fn shift_co<W: Width, const OP: u8>(v: u32, cnt: u32) -> (u32, u32) {
    let bits = W::BITS;
    let msb = |x: u32| x & W::SIGN != 0;
    let (r, c, o) = match OP {
        4 => {
            let wide = u64::from(v) << cnt;
            let r = wide as u32 & W::MASK;
            let c = cnt <= bits && (wide >> bits) & 1 != 0;
            (r, c, msb(r) ^ c)
        }
        5 => {
            let r = if cnt >= bits { 0 } else { v >> cnt };
            let c = cnt <= bits && (v >> (cnt - 1)) & 1 != 0;
            (r, c, msb(v))
        }
        _ => {
            let x = sext::<W>(v) as i32;
            let r = (x >> cnt.min(31)) as u32 & W::MASK;
            let c = (x >> (cnt - 1).min(31)) & 1 != 0;
            (r, c, false)
        }
    };
    (r, if c { CF } else { 0 } | if o { OF } else { 0 })
}

/// The shift form's operation: [`shift_co`] for `OP` 4, 5 and 7, the
/// eager [`shift`] by `sop` with the flags `fl` for the rotates (`OP` 0).
#[inline(always)]
fn shift_op<W: Width, const OP: u8>(sop: u8, v: u32, cnt: u32, fl: u32) -> (u32, u32) {
    if OP == 0 {
        shift::<W>(sop, v, cnt, fl)
    } else if cnt == 0 {
        (v & W::MASK, 0)
    } else {
        shift_co::<W, OP>(v & W::MASK, cnt)
    }
}

impl Cpu32 {
    /// Give decoded instructions their specialised forms (the default) or
    /// not. Results are the same either way (for differential tests and
    /// measurements); instructions already in the decode cache keep theirs.
    pub fn set_forms(&mut self, on: bool) {
        self.forms_on = on;
    }

    /// Run the instruction's form; EIP already points at `next`, `start`
    /// is its own address. `LAP`: the run loop's lap, where the forms that
    /// need the restart snapshot take it here (the whole step took it
    /// before decoding); the result says whether it was taken.
    #[inline(always)]
    pub(crate) fn exec_form<B: Bus + ?Sized, const LAP: bool>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        next: u32,
        start: u32,
    ) -> R<bool> {
        // One jump on the form: each family's three widths are arms of
        // their own (`by_form!`), so there is no second dispatch on width.
        by_form!(self, LAP, start, i.form, W;
            ALU_RR_ADD_8 ALU_RR_ADD_16 ALU_RR_ADD_32 => {
                self.f_alu_rr::<W, 0>(i);
                Ok(())
            },
            ALU_RR_OR_8 ALU_RR_OR_16 ALU_RR_OR_32 => {
                self.f_alu_rr::<W, 1>(i);
                Ok(())
            },
            ALU_RR_ADC_8 ALU_RR_ADC_16 ALU_RR_ADC_32 => {
                self.f_alu_rr::<W, 2>(i);
                Ok(())
            },
            ALU_RR_SBB_8 ALU_RR_SBB_16 ALU_RR_SBB_32 => {
                self.f_alu_rr::<W, 3>(i);
                Ok(())
            },
            ALU_RR_AND_8 ALU_RR_AND_16 ALU_RR_AND_32 => {
                self.f_alu_rr::<W, 4>(i);
                Ok(())
            },
            ALU_RR_SUB_8 ALU_RR_SUB_16 ALU_RR_SUB_32 => {
                self.f_alu_rr::<W, 5>(i);
                Ok(())
            },
            ALU_RR_XOR_8 ALU_RR_XOR_16 ALU_RR_XOR_32 => {
                self.f_alu_rr::<W, 6>(i);
                Ok(())
            },
            ALU_RR_CMP_8 ALU_RR_CMP_16 ALU_RR_CMP_32 => {
                self.f_alu_rr::<W, 7>(i);
                Ok(())
            },
            ALU_RR_TEST_8 ALU_RR_TEST_16 ALU_RR_TEST_32 => {
                self.f_alu_rr::<W, 8>(i);
                Ok(())
            },
            ALU_RI_ADD_8 ALU_RI_ADD_16 ALU_RI_ADD_32 => {
                self.f_alu_ri::<W, 0>(i);
                Ok(())
            },
            ALU_RI_OR_8 ALU_RI_OR_16 ALU_RI_OR_32 => {
                self.f_alu_ri::<W, 1>(i);
                Ok(())
            },
            ALU_RI_ADC_8 ALU_RI_ADC_16 ALU_RI_ADC_32 => {
                self.f_alu_ri::<W, 2>(i);
                Ok(())
            },
            ALU_RI_SBB_8 ALU_RI_SBB_16 ALU_RI_SBB_32 => {
                self.f_alu_ri::<W, 3>(i);
                Ok(())
            },
            ALU_RI_AND_8 ALU_RI_AND_16 ALU_RI_AND_32 => {
                self.f_alu_ri::<W, 4>(i);
                Ok(())
            },
            ALU_RI_SUB_8 ALU_RI_SUB_16 ALU_RI_SUB_32 => {
                self.f_alu_ri::<W, 5>(i);
                Ok(())
            },
            ALU_RI_XOR_8 ALU_RI_XOR_16 ALU_RI_XOR_32 => {
                self.f_alu_ri::<W, 6>(i);
                Ok(())
            },
            ALU_RI_CMP_8 ALU_RI_CMP_16 ALU_RI_CMP_32 => {
                self.f_alu_ri::<W, 7>(i);
                Ok(())
            },
            ALU_RI_TEST_8 ALU_RI_TEST_16 ALU_RI_TEST_32 => {
                self.f_alu_ri::<W, 8>(i);
                Ok(())
            },
            ALU_M_ADD_8 ALU_M_ADD_16 ALU_M_ADD_32 => self.f_alu_m::<W, B, 0>(bus, i),
            ALU_M_OR_8 ALU_M_OR_16 ALU_M_OR_32 => self.f_alu_m::<W, B, 1>(bus, i),
            ALU_M_ADC_8 ALU_M_ADC_16 ALU_M_ADC_32 => self.f_alu_m::<W, B, 2>(bus, i),
            ALU_M_SBB_8 ALU_M_SBB_16 ALU_M_SBB_32 => self.f_alu_m::<W, B, 3>(bus, i),
            ALU_M_AND_8 ALU_M_AND_16 ALU_M_AND_32 => self.f_alu_m::<W, B, 4>(bus, i),
            ALU_M_SUB_8 ALU_M_SUB_16 ALU_M_SUB_32 => self.f_alu_m::<W, B, 5>(bus, i),
            ALU_M_XOR_8 ALU_M_XOR_16 ALU_M_XOR_32 => self.f_alu_m::<W, B, 6>(bus, i),
            ALU_M_CMP_8 ALU_M_CMP_16 ALU_M_CMP_32 => self.f_alu_m::<W, B, 7>(bus, i),
            ALU_M_TEST_8 ALU_M_TEST_16 ALU_M_TEST_32 => self.f_alu_m::<W, B, 8>(bus, i),
            ALU_GM_ADD_8 ALU_GM_ADD_16 ALU_GM_ADD_32 => self.f_alu_gm::<W, B, 0>(bus, i),
            ALU_GM_OR_8 ALU_GM_OR_16 ALU_GM_OR_32 => self.f_alu_gm::<W, B, 1>(bus, i),
            ALU_GM_ADC_8 ALU_GM_ADC_16 ALU_GM_ADC_32 => self.f_alu_gm::<W, B, 2>(bus, i),
            ALU_GM_SBB_8 ALU_GM_SBB_16 ALU_GM_SBB_32 => self.f_alu_gm::<W, B, 3>(bus, i),
            ALU_GM_AND_8 ALU_GM_AND_16 ALU_GM_AND_32 => self.f_alu_gm::<W, B, 4>(bus, i),
            ALU_GM_SUB_8 ALU_GM_SUB_16 ALU_GM_SUB_32 => self.f_alu_gm::<W, B, 5>(bus, i),
            ALU_GM_XOR_8 ALU_GM_XOR_16 ALU_GM_XOR_32 => self.f_alu_gm::<W, B, 6>(bus, i),
            ALU_GM_CMP_8 ALU_GM_CMP_16 ALU_GM_CMP_32 => self.f_alu_gm::<W, B, 7>(bus, i),
            MOV_RR_8 MOV_RR_16 MOV_RR_32 => {
                self.f_mov_rr::<W>(i);
                Ok(())
            },
            MOV_RI_8 MOV_RI_16 MOV_RI_32 => {
                self.sr::<W>(i.aux as usize, i.imm);
                Ok(())
            },
            MOV_M_8 MOV_M_16 MOV_M_32 => {
                let v = if i.aux & A_IMM != 0 {
                    i.imm
                } else {
                    self.gr::<W>(i.reg())
                };
                self.wr_e::<W, B>(bus, i, v)
            },
            MOV_GM_8 MOV_GM_16 MOV_GM_32 => {
                let v = self.rd_e::<W, B>(bus, i)?;
                self.sr::<W>(i.reg(), v);
                Ok(())
            },
            MOV_MOFFS_8 MOV_MOFFS_16 MOV_MOFFS_32 => self.f_moffs::<W, B>(bus, i),
            LEA_8 LEA_16 LEA_32 => {
                let a = self.ea(i);
                self.sr::<W>(i.reg(), a);
                Ok(())
            },
            PUSH_R_8 PUSH_R_16 PUSH_R_32 => {
                let v = self.gr::<W>(i.aux as usize);
                self.push_in(bus, W::BITS / 8, v)
            },
            POP_R_8 POP_R_16 POP_R_32 => {
                let v = self.pop_in(bus, W::BITS / 8)?;
                self.sr::<W>(i.aux as usize, v);
                Ok(())
            },
            PUSH_I_8 PUSH_I_16 PUSH_I_32 => {
                let v = if i.aux & A_SX8 != 0 {
                    sext::<W8>(i.imm)
                } else {
                    i.imm
                };
                self.push(bus, W::BITS / 8, v)
            },
            INCDEC_R_8 INCDEC_R_16 INCDEC_R_32 => {
                self.f_incdec_r::<W>(i);
                Ok(())
            },
            INCDEC_M_8 INCDEC_M_16 INCDEC_M_32 => self.f_incdec_m::<W, B>(bus, i),
            JCC_8 JCC_16 JCC_32 => {
                if self.jcc_cond(i.aux) {
                    self.f_jcc::<W>(i, next)
                } else {
                    Ok(())
                }
            },
            JMP_8 JMP_16 JMP_32 => self.f_jmp::<W>(i, next),
            CALL_8 CALL_16 CALL_32 => self.f_call::<W, B>(bus, i, next),
            RET_8 RET_16 RET_32 => self.f_ret::<W, B>(bus, i),
            MOVX_8 MOVX_16 MOVX_32 => self.f_movx::<W, B>(bus, i),
            // SHL/SAL, SHR and SAR each a body of its own (the operation a
            // constant, so only CF and OF are computed); the rotates share one.
            // All eight values spelled out: no range check before the table.
            // The register operand apart, so that its `Ok(())` is a constant
            // rather than a `Result` merged with the memory path's.
            SHIFT_8 SHIFT_16 SHIFT_32 => if i.mem {
                match i.aux & 7 {
                    4 | 6 => self.f_shift::<W, B, 4>(bus, i),
                    5 => self.f_shift::<W, B, 5>(bus, i),
                    7 => self.f_shift::<W, B, 7>(bus, i),
                    0..=3 => self.f_shift::<W, B, 0>(bus, i),
                    _ => unreachable!(),
                }
            } else {
                match i.aux & 7 {
                    4 | 6 => self.f_shift_r::<W, 4>(i),
                    5 => self.f_shift_r::<W, 5>(i),
                    7 => self.f_shift_r::<W, 7>(i),
                    0..=3 => self.f_shift_r::<W, 0>(i),
                    _ => unreachable!(),
                }
                Ok(())
            },
            // Width code 0: the 32-bit IMUL without an early-out extra.
            IMUL_8 IMUL_16 IMUL_32 => match W::BITS {
                8 => self.f_imul::<W32, B, false>(bus, i),
                _ => self.f_imul::<W, B, true>(bus, i),
            },
            CONV_8 CONV_16 CONV_32 => {
                self.f_conv(i);
                Ok(())
            },
            SETCC_8 SETCC_16 SETCC_32 => {
                let v = self.cond(i.aux) as u32;
                if i.mem {
                    self.wr_e::<W8, B>(bus, i, v)
                } else {
                    self.sr::<W8>(i.rm(), v);
                    Ok(())
                }
            },
            XCHG_RR_8 XCHG_RR_16 XCHG_RR_32 => {
                self.f_xchg::<W>(i);
                Ok(())
            },
            GRP3_8 GRP3_16 GRP3_32 => self.group3(bus, i, W::BITS / 8),
            STRING_8 STRING_16 STRING_32 => self.string(bus, i, start),
            LOOP_8 LOOP_16 LOOP_32 => self.f_loop::<W>(i, next),
            CMOV_8 CMOV_16 CMOV_32 => self.f_cmov::<W, B>(bus, i),
            // The lean x87 forms run without the restart snapshot (they
            // change nothing before deciding, then cannot fault or raise
            // anything); their fallback takes it (`f_x87_lean`).
            X87_8 X87_16 X87_32 -> match W::BITS {
                8 => {
                    if LAP {
                        self.snapshot_at(start);
                    }
                    self.f_x87(bus, i, next, start).map(|()| LAP)
                }
                16 => self.f_x87_lean::<_, { super::fpu::LEAN_FADD }, LAP>(bus, i, next, start),
                _ => self.f_x87_lean::<_, { super::fpu::LEAN_FMUL }, LAP>(bus, i, next, start),
            },
            X87M_8 X87M_16 X87M_32 -> match W::BITS {
                8 => self.f_x87_lean::<_, { super::fpu::LEAN_M64 }, LAP>(bus, i, next, start),
                16 => self.f_x87_lean::<_, { super::fpu::LEAN_FLD64 }, LAP>(bus, i, next, start),
                _ => self.f_x87_lean::<_, { super::fpu::LEAN_FST64 }, LAP>(bus, i, next, start),
            },
            BT_R_8 BT_R_16 BT_R_32 => {
                self.f_bt_r::<W>(i);
                Ok(())
            },
            // A Jcc inside a block's body (only the arena holds it,
            // `Cpu32::build_block`): it only says whether it is taken; the
            // body leaves at it then (`Cpu32::run_body`).
            @ JCC_BODY => Ok(self.jcc_cond(i.aux)),
            @ JCC_SKIP => Ok(self.jcc_cond(i.aux)),
            // The same for the LOOP family (`LOOP_BODY`).
            @ LOOP_BODY => Ok(self.f_loop_body(i.aux)),
            // The other lean x87 forms, one per operation or kind.
            @ X87L_FSUB => self.f_x87_lean::<_, { super::fpu::LEAN_FSUB }, LAP>(bus, i, next, start),
            @ X87L_FSUBR => self.f_x87_lean::<_, { super::fpu::LEAN_FSUBR }, LAP>(bus, i, next, start),
            @ X87L_FDIV => self.f_x87_lean::<_, { super::fpu::LEAN_FDIV }, LAP>(bus, i, next, start),
            @ X87L_FDIVR => self.f_x87_lean::<_, { super::fpu::LEAN_FDIVR }, LAP>(bus, i, next, start),
            @ X87L_FLD => self.f_x87_lean::<_, { super::fpu::LEAN_FLD }, LAP>(bus, i, next, start),
            @ X87L_FXCH => self.f_x87_lean::<_, { super::fpu::LEAN_FXCH }, LAP>(bus, i, next, start),
            @ X87L_FST => self.f_x87_lean::<_, { super::fpu::LEAN_FST }, LAP>(bus, i, next, start),
            @ X87L_FSTP => self.f_x87_lean::<_, { super::fpu::LEAN_FSTP }, LAP>(bus, i, next, start),
            @ X87L_FNSTSW => self.f_x87_lean::<_, { super::fpu::LEAN_FNSTSW }, LAP>(bus, i, next, start),
            @ X87L_FILD32 => self.f_x87_lean::<_, { super::fpu::LEAN_FILD32 }, LAP>(bus, i, next, start),
            @ X87L_FLDC => self.f_x87_lean::<_, { super::fpu::LEAN_FLDC }, LAP>(bus, i, next, start),
            @ X87L_FADD_STI => self.f_x87_lean::<_, { super::fpu::LEAN_FADD_STI }, LAP>(bus, i, next, start),
            @ X87L_FMUL_STI => self.f_x87_lean::<_, { super::fpu::LEAN_FMUL_STI }, LAP>(bus, i, next, start),
            @ X87L_FSUB_STI => self.f_x87_lean::<_, { super::fpu::LEAN_FSUB_STI }, LAP>(bus, i, next, start),
            @ X87L_FSUBR_STI => self.f_x87_lean::<_, { super::fpu::LEAN_FSUBR_STI }, LAP>(bus, i, next, start),
            @ X87L_FDIV_STI => self.f_x87_lean::<_, { super::fpu::LEAN_FDIV_STI }, LAP>(bus, i, next, start),
            @ X87L_FDIVR_STI => self.f_x87_lean::<_, { super::fpu::LEAN_FDIVR_STI }, LAP>(bus, i, next, start),
            @ STR_ONE => match i.aux {
                1 => self.string_one32::<W8, B>(bus, i),
                2 => self.string_one32::<W16, B>(bus, i),
                4 => self.string_one32::<W32, B>(bus, i),
                _ => self.string_one(bus, i),
            }
            .map(|()| false),
            @ BT_RI32 => {
                let v = self.r[(i.aux & 7) as usize];
                self.bt_flags(i.aux, v, i.imm & 31);
                Ok(false)
            },
            @ BT_M => if i.aux & A_BT32 != 0 {
                self.f_bt_m::<W32, B>(bus, i)
            } else {
                self.f_bt_m::<W16, B>(bus, i)
            }
            .map(|()| false),
            @ SHL_RI32 => {
                self.f_shift_ri32::<4>(i);
                Ok(false)
            },
            @ SHR_RI32 => {
                self.f_shift_ri32::<5>(i);
                Ok(false)
            },
            @ SAR_RI32 => {
                self.f_shift_ri32::<7>(i);
                Ok(false)
            },
            @ RI_SX8_ADD => self.f_alu_ri_sx8::<0>(i),
            @ RI_SX8_OR => self.f_alu_ri_sx8::<1>(i),
            @ RI_SX8_ADC => self.f_alu_ri_sx8::<2>(i),
            @ RI_SX8_SBB => self.f_alu_ri_sx8::<3>(i),
            @ RI_SX8_AND => self.f_alu_ri_sx8::<4>(i),
            @ RI_SX8_SUB => self.f_alu_ri_sx8::<5>(i),
            @ RI_SX8_XOR => self.f_alu_ri_sx8::<6>(i),
            @ RI_SX8_CMP => self.f_alu_ri_sx8::<7>(i),
            @ RI_SX8_TEST => self.f_alu_ri_sx8::<8>(i),
            @ IMUL_RR32 => {
                self.f_imul_rr32(i);
                Ok(false)
            },
            @ MOVZX_RR16 => self.f_movx_rr::<W16, false>(i),
            @ MOVSX_RR16 => self.f_movx_rr::<W16, true>(i),
            @ MOVZX_RR8 => self.f_movx_rr::<W8, false>(i),
            @ MOVSX_RR8 => self.f_movx_rr::<W8, true>(i),
            @ SAHF_F => {
                self.sahf();
                Ok(false)
            },
            @ SETCC_R => {
                let v = self.jcc_cond(i.aux) as u32;
                self.sr::<W8>(rr_s(i.aux), v);
                Ok(false)
            },
            // Form 0: the general path, an arm of the same jump (a test of
            // the form before the `match` cost two host instructions per
            // instruction).
            _ => {
                let osz: u32 = if i.o32 { 4 } else { 2 };
                self.exec_general(bus, i, i.op, osz, next, start)
            },
        )
    }

    /// Register `n` of width `W` (AL..BH for bytes).
    #[inline(always)]
    fn gr<W: Width>(&self, n: usize) -> u32 {
        if W::BITS == 8 {
            (self.r[n & 3] >> ((n & 4) << 1)) & 0xFF
        } else {
            self.r[n & 7] & W::MASK
        }
    }

    /// Set register `n` of width `W`; the rest of the 32-bit register stays.
    #[inline(always)]
    fn sr<W: Width>(&mut self, n: usize, v: u32) {
        if W::BITS == 8 {
            let sh = (n & 4) << 1;
            let r = &mut self.r[n & 3];
            *r = (*r & !(0xFF << sh)) | ((v & 0xFF) << sh);
        } else if W::BITS == 16 {
            let r = &mut self.r[n & 7];
            *r = (*r & 0xFFFF_0000) | (v & 0xFFFF);
        } else {
            self.r[n & 7] = v;
        }
    }

    /// The memory operand.
    #[inline(always)]
    fn rd_e<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<u32> {
        let a = self.ea(i);
        self.rd(bus, i.mseg(), a, W::BITS / 8)
    }

    /// Write the memory operand.
    #[inline(always)]
    fn wr_e<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, v: u32) -> R<()> {
        let a = self.ea(i);
        self.wr(bus, i.mseg(), a, W::BITS / 8, v)
    }

    /// Read-modify-write of the memory operand: `f` maps the old value to
    /// the new one and something to return. One segment check and one
    /// translation when the operand is in plain RAM the TLB already grants
    /// for writing (so nothing can fault once it is read); otherwise the
    /// general path's order: the write is probed before the read.
    #[inline(always)]
    fn rmw<W: Width, B: Bus + ?Sized, X, F: FnOnce(u32) -> (u32, X)>(
        &mut self,
        bus: &mut B,
        i: &Insn,
        f: F,
    ) -> R<X> {
        let len = W::BITS / 8;
        let s = i.mseg();
        let a = self.ea(i);
        // A flat segment first, as `rd` and `wr` do (`Cpu32::on_flat`);
        // `f` comes back if the direct path did not take it.
        let direct = |me: &mut Self, p, f| me.rmw_direct::<W, B, X, F>(bus, p, f);
        match self.on_flat(s, a, len, true, f, direct) {
            Ok(x) => Ok(x),
            Err(f) => self.rmw_other::<W, B, X, F>(bus, s, a, f),
        }
    }

    /// The read-modify-write in the lent RAM (`Bus::ram_direct`, as `rd`
    /// and `wr` use it) at physical `p`, or `f` back where it lends none.
    #[inline(always)]
    fn rmw_direct<W: Width, B: Bus + ?Sized, X, F: FnOnce(u32) -> (u32, X)>(
        &mut self,
        bus: &mut B,
        p: usize,
        f: F,
    ) -> Result<X, F> {
        let len = W::BITS / 8;
        if let Some(m) = bus.ram_direct().get_mut(p..p + len as usize) {
            if let Some(old) = load::<W>(m) {
                let (new, x) = f(old);
                store::<W>(m, new);
                self.note_write(p as u32, len);
                return Ok(x);
            }
        }
        Err(f)
    }

    /// [`Self::rmw`] past [`Self::on_flat`]: a segment that is not
    /// flat (its limit compared), or a refusal.
    #[inline(never)]
    fn rmw_other<W: Width, B: Bus + ?Sized, X, F: FnOnce(u32) -> (u32, X)>(
        &mut self,
        bus: &mut B,
        s: usize,
        a: u32,
        mut f: F,
    ) -> R<X> {
        let len = W::BITS / 8;
        // The one-compare segment check stands for the breakpoint and
        // alignment guards too (`Cpu32::seg_fast`).
        // A flat segment's refusal (an access wrapping at 4 GiB) goes the
        // general way below, whose segment check is the full one.
        if let Some((lin, mode, _)) = self.seg_fast_mode(s, a, len, true) {
            if let Some(p) = self.direct_mode(lin, len, true, mode) {
                match self.rmw_direct::<W, B, X, F>(bus, p, f) {
                    Ok(x) => return Ok(x),
                    Err(g) => f = g,
                }
            }
        }
        let lin = self.seg_lin(s, a, len, Acc::Write)?;
        let u = self.user();
        self.probe_write(bus, lin, len, u)?;
        let old = self.rd(bus, s, a, len)?;
        let (new, x) = f(old);
        self.wr(bus, s, a, len, new)?;
        Ok(x)
    }

    /// The immediate of an ALU form at width `W`.
    #[inline(always)]
    fn imm_w<W: Width>(i: &Insn) -> u32 {
        if i.aux & A_SX8 != 0 {
            sext::<W8>(i.imm) & W::MASK
        } else {
            i.imm
        }
    }

    /// ALU operation `OP` (0–7 in ModR/M order, 8: TEST) with lazy
    /// flags (`flags.rs`): the result, the flags recorded.
    #[inline(always)]
    fn alu_op<W: Width, const OP: u8>(&mut self, a: u32, b: u32) -> u32 {
        let cf = (OP == 2 || OP == 3) && self.cf();
        let (r, l) = alu_lazy::<W>(OP, a, b, cf);
        self.set_lazy(l);
        r
    }

    #[inline(always)]
    fn f_alu_rr<W: Width, const OP: u8>(&mut self, i: &Insn) {
        let d = (i.aux & 7) as usize;
        let s = rr_s(i.aux);
        let r = self.alu_op::<W, OP>(self.gr::<W>(d), self.gr::<W>(s));
        if OP < 7 {
            self.sr::<W>(d, r);
        }
    }

    #[inline(always)]
    fn f_alu_ri<W: Width, const OP: u8>(&mut self, i: &Insn) {
        let d = (i.aux & 7) as usize;
        // At 32 bits a sign-extended byte has its own forms
        // ([`alu_ri_sx8`]): no test for one here.
        let b = if W::BITS == 32 {
            debug_assert!(i.aux & A_SX8 == 0);
            i.imm
        } else {
            Self::imm_w::<W>(i)
        };
        let r = self.alu_op::<W, OP>(self.gr::<W>(d), b);
        if OP < 7 {
            self.sr::<W>(d, r);
        }
    }

    /// [`alu_ri_sx8`]: [`Self::f_alu_ri`] at 32 bits with the immediate a
    /// sign-extended byte.
    #[inline(always)]
    fn f_alu_ri_sx8<const OP: u8>(&mut self, i: &Insn) -> R<bool> {
        let d = (i.aux & 7) as usize;
        let r = self.alu_op::<W32, OP>(self.r[d], sext::<W8>(i.imm));
        if OP < 7 {
            self.r[d] = r;
        }
        Ok(false)
    }

    #[inline(always)]
    fn f_alu_m<W: Width, B: Bus + ?Sized, const OP: u8>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let b = if i.aux & A_IMM != 0 {
            Self::imm_w::<W>(i)
        } else {
            self.gr::<W>(i.reg())
        };
        if OP >= 7 {
            let a = self.rd_e::<W, B>(bus, i)?;
            self.alu_op::<W, OP>(a, b);
        } else {
            let cf = (OP == 2 || OP == 3) && self.cf();
            let l = self.rmw::<W, B, _, _>(bus, i, |a| alu_lazy::<W>(OP, a, b, cf))?;
            self.set_lazy(l);
        }
        Ok(())
    }

    #[inline(always)]
    fn f_alu_gm<W: Width, B: Bus + ?Sized, const OP: u8>(
        &mut self,
        bus: &mut B,
        i: &Insn,
    ) -> R<()> {
        let b = self.rd_e::<W, B>(bus, i)?;
        let d = i.reg();
        let r = self.alu_op::<W, OP>(self.gr::<W>(d), b);
        if OP < 7 {
            self.sr::<W>(d, r);
        }
        Ok(())
    }

    #[inline(always)]
    fn f_mov_rr<W: Width>(&mut self, i: &Insn) {
        let d = (i.aux & 7) as usize;
        let s = rr_s(i.aux);
        let v = self.gr::<W>(s);
        self.sr::<W>(d, v);
    }

    #[inline(always)]
    fn f_moffs<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let s = i.seg.unwrap_or(DS as u8) as usize;
        let a = if i.a32 { i.imm } else { i.imm & 0xFFFF };
        if i.aux & 1 != 0 {
            let v = self.gr::<W>(0);
            self.wr(bus, s, a, W::BITS / 8, v)
        } else {
            let v = self.rd(bus, s, a, W::BITS / 8)?;
            self.sr::<W>(0, v);
            Ok(())
        }
    }

    /// INC or DEC of a register: a copy per direction (and for a byte
    /// register per half), so that none works out at run time which it is
    /// (`dec bl` in a counted loop was 37 host instructions).
    #[inline(always)]
    fn f_incdec_r<W: Width>(&mut self, i: &Insn) {
        let n = (i.aux & 7) as usize;
        if W::BITS == 8 {
            match i.aux & 12 {
                0 => self.incdec_r8::<false, false>(n),
                4 => self.incdec_r8::<true, false>(n),
                8 => self.incdec_r8::<false, true>(n),
                _ => self.incdec_r8::<true, true>(n),
            }
        } else if i.aux & 8 != 0 {
            self.incdec_r::<W, true>(n)
        } else {
            self.incdec_r::<W, false>(n)
        }
    }

    /// [`Self::f_incdec_r`] on register `n` of 16 or 32 bits.
    #[inline(always)]
    fn incdec_r<W: Width, const DEC: bool>(&mut self, n: usize) {
        let (r, l) = incdec_lazy::<W>(DEC, self.r[n] & W::MASK, self.cf());
        self.set_lazy(l);
        self.sr::<W>(n, r);
    }

    /// [`Self::f_incdec_r`] on AL..BL (`n` 0–3) or, with `HI`, AH..BH.
    #[inline(always)]
    fn incdec_r8<const HI: bool, const DEC: bool>(&mut self, n: usize) {
        let sh = if HI { 8 } else { 0 };
        let w = self.r[n & 3];
        let (r, l) = incdec_lazy::<W8>(DEC, (w >> sh) & 0xFF, self.cf());
        self.set_lazy(l);
        self.r[n & 3] = (w & !(0xFF << sh)) | (r << sh);
    }

    #[inline(always)]
    fn f_incdec_m<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let dec = i.aux & 8 != 0;
        let cf = self.cf();
        let l = self.rmw::<W, B, _, _>(bus, i, |a| incdec_lazy::<W>(dec, a, cf))?;
        self.set_lazy(l);
        Ok(())
    }

    /// Jcc's (and SETcc's, CMOVcc's) condition (the low nibble of `aux`): one arm per condition,
    /// so each reads only what it needs off the lazy record (`cond` with a
    /// constant folds to that), where one `cond(cc)` took the condition
    /// apart at run time (branch `ia32trace`: −1.6% host instructions on
    /// lx10, −3.1% on mix32 for the Jcc in bodies alone).
    #[inline(always)]
    fn jcc_cond(&self, aux: u8) -> bool {
        match aux & 0xF {
            0 => self.cond(0),
            1 => self.cond(1),
            2 => self.cond(2),
            3 => self.cond(3),
            4 => self.cond(4),
            5 => self.cond(5),
            6 => self.cond(6),
            7 => self.cond(7),
            8 => self.cond(8),
            9 => self.cond(9),
            10 => self.cond(10),
            11 => self.cond(11),
            12 => self.cond(12),
            13 => self.cond(13),
            14 => self.cond(14),
            _ => self.cond(15),
        }
    }

    /// Near relative jump; `W` is the operand size (the displacement's
    /// width unless it is a byte).
    #[inline(always)]
    fn f_jmp<W: Width>(&mut self, i: &Insn, next: u32) -> R<()> {
        let d = if i.aux & A_SX8 != 0 {
            sext::<W8>(i.imm)
        } else {
            sext::<W>(i.imm)
        };
        self.jump_near(next.wrapping_add(d), i.o32)
    }

    /// A taken Jcc: [`Self::f_jmp`] with the taken clocks
    /// ([`Self::jump_taken`]).
    #[inline(always)]
    fn f_jcc<W: Width>(&mut self, i: &Insn, next: u32) -> R<()> {
        self.jump_taken(next.wrapping_add(jcc_disp::<W>(i)), i.o32, i.imm2)
    }

    #[inline(always)]
    fn f_call<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn, next: u32) -> R<()> {
        let t = next.wrapping_add(sext::<W>(i.imm));
        let t = if i.o32 { t } else { t & 0xFFFF };
        if t > self.seg[CS].limit {
            return Err(gp(0));
        }
        self.push(bus, W::BITS / 8, next)?;
        self.eip = t;
        Ok(())
    }

    #[inline(always)]
    fn f_ret<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let osz = W::BITS / 8;
        let t = self.peek(bus, 0, osz)?;
        self.jump_near(t, i.o32)?;
        let extra = if i.aux & A_IMM != 0 {
            i.imm & 0xFFFF
        } else {
            0
        };
        let nsp = self.sp().wrapping_add(osz).wrapping_add(extra);
        self.set_sp(nsp);
        Ok(())
    }

    /// MOVZX/MOVSX from a source of width `S`.
    #[inline(always)]
    fn f_movx<S: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let v = if i.mem {
            self.rd_e::<S, B>(bus, i)?
        } else {
            self.gr::<S>(i.rm())
        };
        let v = if i.aux & 1 != 0 { sext::<S>(v) } else { v };
        if i.o32 {
            self.sr::<W32>(i.reg(), v);
        } else {
            self.sr::<W16>(i.reg(), v);
        }
        Ok(())
    }

    /// A shift's or rotate's masked count (from `aux`'s source: the
    /// immediate, 1 or CL), its operation and the carry it reads (only
    /// RCL/RCR read one: SHL/SHR/SAR by a nonzero count set all six status
    /// flags, so the old ones need not be worked out, and the rotates set
    /// CF and OF only, leaving a pending record alone).
    #[inline(always)]
    fn shift_args<const OP: u8>(&self, i: &Insn) -> (u32, u8, u32) {
        let cnt = match i.aux >> 3 {
            0 => i.imm,
            1 => 1,
            _ => self.r[1],
        } & 31;
        let sop = if OP == 0 { i.aux & 7 } else { OP };
        let fl = if OP != 0 { 0 } else { self.cf() as u32 };
        (cnt, sop, fl)
    }

    /// Shifts and rotates of a memory operand ([`Self::f_shift_r`]: a
    /// register); `OP` is the operation (4: SHL/SAL, 5: SHR, 7: SAR) or 0
    /// for the rotates, whose operation is read from `aux`.
    #[inline(always)]
    fn f_shift<W: Width, B: Bus + ?Sized, const OP: u8>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let (cnt, sop, fl) = self.shift_args::<OP>(i);
        // SHL/SHR/SAR: the result and CF/OF only (`shift_co`), the other
        // status flags being the result's (a lazy record below); the
        // rotates through the eager function.
        let (r, f) = self.rmw::<W, B, _, _>(bus, i, |v| {
            let (r, f) = shift_op::<W, OP>(sop, v, cnt, fl);
            (r, (r, f))
        })?;
        self.shift_flags::<W, OP>(cnt, r, f);
        Ok(())
    }

    /// [`Self::f_shift`] on a register operand (which cannot fault).
    #[inline(always)]
    fn f_shift_r<W: Width, const OP: u8>(&mut self, i: &Insn) {
        let (cnt, sop, fl) = self.shift_args::<OP>(i);
        let n = i.rm();
        let (r, f) = shift_op::<W, OP>(sop, self.gr::<W>(n), cnt, fl);
        self.sr::<W>(n, r);
        self.shift_flags::<W, OP>(cnt, r, f);
    }

    /// [`SHL_RI32`], [`SHR_RI32`] and [`SAR_RI32`] (`OP` 4, 5, 7): the
    /// count (1–31) is `aux`, so every flag is set; the record keeps the
    /// operand and the count (`flags::SHL32`...), CF and OF are worked
    /// out only if read.
    #[inline(always)]
    fn f_shift_ri32<const OP: u8>(&mut self, i: &Insn) {
        let cnt = (i.aux & 31) as u32;
        debug_assert!(cnt != 0);
        let n = i.rm();
        let v = self.r[n];
        let (r, class) = match OP {
            4 => (v << cnt, super::flags::SHL32),
            5 => (v >> cnt, super::flags::SHR32),
            _ => (((v as i32) >> cnt) as u32, super::flags::SAR32),
        };
        self.r[n] = r;
        self.set_lazy_shift(class, v, cnt, r);
    }

    /// The flags of a shift or rotate by `cnt` with result `r` and CF/OF `f`.
    #[inline(always)]
    fn shift_flags<W: Width, const OP: u8>(&mut self, cnt: u32, r: u32, f: u32) {
        let full = OP != 0;
        // A zero count changes no flag (and `f` is stale).
        if cnt != 0 {
            if full {
                // SF, ZF and PF are the result's and AF is clear: a
                // logical record with CF and OF over it, so that the
                // parity and the word are worked out only if read.
                self.set_lazy_co::<W>(r, f);
            } else {
                self.set_co(CF | OF, f);
            }
        }
    }

    /// IMUL r, r/m (, imm): the low half kept, CF = OF = the product did
    /// not fit. `EXTRA`: the model's early-out clocks are charged (the
    /// 386 and 486; 0 on later models, which decode to the form without).
    #[inline(always)]
    fn f_imul<W: Width, B: Bus + ?Sized, const EXTRA: bool>(
        &mut self,
        bus: &mut B,
        i: &Insn,
    ) -> R<()> {
        let a = if i.mem {
            self.rd_e::<W, B>(bus, i)?
        } else {
            self.gr::<W>(i.rm())
        };
        let b = if i.aux & A_IMM != 0 {
            Self::imm_w::<W>(i)
        } else {
            self.gr::<W>(i.reg())
        };
        // The early-out multiplier: the immediate, else the r/m operand.
        let m = if i.aux & A_IMM != 0 { b } else { a };
        if EXTRA {
            self.cycles += clocks::mul_extra(self.model, (sext::<W>(m) as i32).unsigned_abs());
        } else {
            debug_assert_eq!(
                clocks::mul_extra(self.model, (sext::<W>(m) as i32).unsigned_abs()),
                0
            );
        }
        let p = sext::<W>(a) as i32 as i64 * sext::<W>(b) as i32 as i64;
        let r = p as u32 & W::MASK;
        let ovf = sext::<W>(r) as i32 as i64 != p;
        self.sr::<W>(i.reg(), r);
        // SZP of the result, AF clear, CF = OF = the overflow: a logical
        // record with CF and OF over it (`set_lazy_co`).
        self.set_lazy_co::<W>(r, if ovf { CF | OF } else { 0 });
        Ok(())
    }

    /// MOVZX/MOVSX r32 from a `W` register (`aux`: the registers,
    /// [`rr`]), zero- or (`SX`) sign-extended: one body for the four forms.
    #[inline(always)]
    fn f_movx_rr<W: Width, const SX: bool>(&mut self, i: &Insn) -> R<bool> {
        let v = self.gr::<W>(rr_s(i.aux));
        self.r[(i.aux & 7) as usize] = if SX { sext::<W>(v) } else { v };
        Ok(false)
    }

    /// [`IMUL_RR32`]: [`Self::f_imul`]'s register case at 32 bits, without
    /// early-out clocks.
    #[inline(always)]
    fn f_imul_rr32(&mut self, i: &Insn) {
        let d = (i.aux & 7) as usize;
        let s = rr_s(i.aux);
        let p = self.r[d] as i32 as i64 * self.r[s] as i32 as i64;
        let r = p as u32;
        self.r[d] = r;
        self.set_lazy_co::<W32>(r, if r as i32 as i64 != p { CF | OF } else { 0 });
    }

    /// CBW/CWDE (aux 0) and CWD/CDQ (aux 1).
    #[inline(always)]
    fn f_conv(&mut self, i: &Insn) {
        match (i.aux & 1 != 0, i.o32) {
            (false, true) => self.r[0] = sext::<W16>(self.r[0]),
            (false, false) => {
                let v = sext::<W8>(self.r[0]);
                self.sr::<W16>(0, v);
            }
            (true, true) => self.r[2] = ((self.r[0] as i32) >> 31) as u32,
            (true, false) => {
                let v = sext::<W16>(self.r[0]) >> 16;
                self.sr::<W16>(2, v);
            }
        }
    }

    /// LOOPNE, LOOPE, LOOP, JCXZ (aux 0–3); `A` is the address size, the
    /// counter's width.
    #[inline(always)]
    fn f_loop<A: Width>(&mut self, i: &Insn, next: u32) -> R<()> {
        let (c, take) = self.loop_step::<A>(i.aux);
        // The jump's limit check before ECX moves: a fault leaves it as it was.
        if take {
            self.jump_taken(next.wrapping_add(sext::<W8>(i.imm)), i.o32, i.imm2)?;
        }
        self.r[1] = (self.r[1] & !A::MASK) | c;
        Ok(())
    }

    /// The LOOP family's (`aux` 0–3: LOOPNE, LOOPE, LOOP, JCXZ) counter
    /// of width `A` as the instruction leaves it, and whether its jump is
    /// taken: one source for [`Self::f_loop`] and [`Self::f_loop_body`].
    #[inline(always)]
    fn loop_step<A: Width>(&self, aux: u8) -> (u32, bool) {
        let c = self.r[1] & A::MASK;
        if aux & 3 == 3 {
            return (c, c == 0);
        }
        let c = c.wrapping_sub(1) & A::MASK;
        let take = c != 0
            && match aux & 3 {
                0 => !self.cond(4),
                1 => self.cond(4),
                _ => true,
            };
        (c, take)
    }

    /// [`LOOP_BODY`]: move the counter (not for JCXZ) and say whether the
    /// jump is taken; the body checked its target when it was built.
    #[inline(always)]
    fn f_loop_body(&mut self, aux: u8) -> bool {
        // Plain LOOP on ECX, what 32-bit code runs, before the family's
        // jump on `aux`: one decrement and a test.
        if aux == A_LOOP32 | 2 {
            let c = self.r[1].wrapping_sub(1);
            self.r[1] = c;
            return c != 0;
        }
        if aux & A_LOOP32 != 0 {
            self.loop_count::<W32>(aux)
        } else {
            self.loop_count::<W16>(aux)
        }
    }

    /// [`Self::f_loop_body`] with the counter's width `A`.
    #[inline(always)]
    fn loop_count<A: Width>(&mut self, aux: u8) -> bool {
        let (c, take) = self.loop_step::<A>(aux);
        self.r[1] = (self.r[1] & !A::MASK) | c;
        take
    }

    /// BT, BTS, BTR, BTC (aux 0–3) on a register, the bit offset from a
    /// register or the immediate (taken modulo the width).
    #[inline(always)]
    fn f_bt_r<W: Width>(&mut self, i: &Insn) {
        let bit = if i.aux & A_IMM != 0 {
            i.imm
        } else {
            self.gr::<W>(i.reg())
        } & (W::BITS - 1);
        let v = self.gr::<W>(i.rm());
        self.bt_flags(i.aux, v, bit);
        if let Some(nv) = bt_new(i.aux, v, bit) {
            self.sr::<W>(i.rm(), nv);
        }
    }

    /// [`BT_M`]: as the general path, the operand read, then (BTS, BTR,
    /// BTC) written, then the flags: nothing changes before the last
    /// possible fault. A register bit offset reaches beyond the operand,
    /// signed, in whole operands.
    #[inline(always)]
    fn f_bt_m<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let (off, bit) = if i.aux & A_IMM != 0 {
            (0, i.imm & (W::BITS - 1))
        } else {
            let b = sext::<W>(self.gr::<W>(i.reg())) as i32;
            let bits = W::BITS as i32;
            (
                (b.div_euclid(bits) * (bits / 8)) as u32,
                b.rem_euclid(bits) as u32,
            )
        };
        let a = self.ea(i);
        let a = if i.a32 {
            a.wrapping_add(off)
        } else {
            a.wrapping_add(off & 0xFFFF) & 0xFFFF
        };
        let seg = i.mseg();
        let v = self.rd(bus, seg, a, W::BITS / 8)?;
        if let Some(nv) = bt_new(i.aux, v, bit) {
            self.wr(bus, seg, a, W::BITS / 8, nv)?;
        }
        self.bt_flags(i.aux, v, bit);
        Ok(())
    }

    /// BT's flags from the operand `v` and the bit offset: CF the bit, and
    /// on the 386 ([`A_386`] in `aux`) OF as well.
    #[inline(always)]
    fn bt_flags(&mut self, aux: u8, v: u32, bit: u32) {
        // CF is bit 0: the bit itself. Only CF (and the 386's OF) change:
        // a pending record stays.
        let cf = (v >> bit) & 1;
        if aux & A_386 != 0 && bit != 0 {
            // The 386's OF: the top bit of RCR v, bit (carry in clear)
            // against that RCR's carry out. Rotating the (width+1)-bit ring
            // [CF=0, v] right by n puts v's bit n-1 in CF and, in the top
            // bit, v's bit n-2 (the zero carry when n = 1): with v shifted
            // up by one, bits n and n-1, without a test for n = 1.
            // Bit k of `u` is bit k of v << 1 against its bit k - 1: one
            // shift by the offset instead of two.
            let u = (v << 1) ^ (v << 2);
            let of = (u >> bit) & 1;
            self.set_co(CF | OF, cf | (of * OF));
        } else {
            self.set_co(CF, cf);
        }
    }

    /// CMOVcc: the source is read (and may fault) whatever the condition.
    #[inline(always)]
    fn f_cmov<W: Width, B: Bus + ?Sized>(&mut self, bus: &mut B, i: &Insn) -> R<()> {
        let v = if i.mem {
            self.rd_e::<W, B>(bus, i)?
        } else {
            self.gr::<W>(i.rm())
        };
        if self.jcc_cond(i.aux) {
            self.sr::<W>(i.reg(), v);
        }
        Ok(())
    }

    #[inline(always)]
    fn f_xchg<W: Width>(&mut self, i: &Insn) {
        let (x, y) = if i.aux & A_ACC != 0 {
            ((i.aux & 7) as usize, 0)
        } else {
            (i.rm(), i.reg())
        };
        let a = self.gr::<W>(x);
        let b = self.gr::<W>(y);
        self.sr::<W>(x, b);
        self.sr::<W>(y, a);
    }
}

#[cfg(test)]
#[path = "tests_forms.rs"]
mod tests;
