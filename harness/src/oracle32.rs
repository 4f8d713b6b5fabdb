//! The host CPU as a reference for the 32-bit forms of the ia32 core: one
//! register-form instruction run natively on 32-bit operands (the low halves
//! of host registers), returning its results and the six arithmetic flags.
//! Same scheme as [`crate::oracle`]: `popf`, the instruction, `pushf`.
//! Only on x86-64 hosts. With [`crate::oracle`] the only `unsafe` in the
//! project (the emulator crates forbid it).

/// The six arithmetic flags (OF SF ZF AF PF CF).
pub const ARITH: u32 = 0x08D5;

/// A 32-bit form the oracle runs: `dst` is EAX, `src` ECX (or CL for counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form32 {
    /// ALU op `n` (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP) EAX, ECX.
    Alu(u8),
    /// TEST EAX, ECX.
    Test,
    /// Shift/rotate group member `n` (0 ROL … 7 SAR; 6 is not used) EAX, CL.
    Shift(u8),
    /// SHLD EAX, ECX, CL.
    Shld,
    /// SHRD EAX, ECX, CL.
    Shrd,
    /// BSF EAX, ECX.
    Bsf,
    /// BSR EAX, ECX.
    Bsr,
    /// BSWAP EAX.
    Bswap,
    /// MUL ECX (EDX:EAX = EAX * ECX).
    Mul,
    /// IMUL ECX (one operand, signed).
    Imul1,
    /// IMUL EAX, ECX.
    Imul2,
    /// XADD EAX, ECX.
    Xadd,
    /// DIV ECX (EDX:EAX / ECX; callers keep the quotient in range).
    Div,
    /// IDIV ECX (signed; callers keep the quotient in range).
    Idiv,
    /// MOVZX EAX, CL.
    Movzx8,
    /// MOVZX EAX, CX.
    Movzx16,
    /// MOVSX EAX, CL.
    Movsx8,
    /// MOVSX EAX, CX.
    Movsx16,
    /// SETcc AL for condition `n` (0 O … 15 G).
    Setcc(u8),
    /// BT/BTS/BTR/BTC EAX, ECX for `n` = 0, 1, 2, 3.
    Bt(u8),
    /// CMPXCHG ECX, EDX (compares EAX with ECX).
    Cmpxchg,
}

/// What the host computed: EAX, ECX, EDX and the arithmetic flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Out32 {
    /// EAX after.
    pub eax: u32,
    /// ECX after.
    pub ecx: u32,
    /// EDX after.
    pub edx: u32,
    /// Arithmetic flags after.
    pub flags: u32,
}

#[cfg(target_arch = "x86_64")]
pub use host::run;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod host {
    use super::*;
    use std::arch::asm;

    macro_rules! run_asm {
        ($op:literal, $a:ident, $c:ident, $d:ident, $f:ident) => {
            // SAFETY: the block pushes and pops only its own stack slot (no
            // `nostack`), changes FLAGS (assumed clobbered by `asm!`) and the
            // registers declared as operands; DF stays clear.
            unsafe {
                asm!(
                    "push {f}",
                    "popfq",
                    $op,
                    "pushfq",
                    "pop {f}",
                    f = inout(reg) $f,
                    inout("rax") $a,
                    inout("rcx") $c,
                    inout("rdx") $d,
                )
            }
        };
    }

    /// Run `form` with EAX = `eax`, ECX = `ecx`, EDX = `edx` and the
    /// arithmetic flags `flags`. DIV/IDIV with a zero divisor or a quotient
    /// out of range would trap in the host: callers filter those.
    pub fn run(form: Form32, eax: u32, ecx: u32, edx: u32, flags: u32) -> Out32 {
        let mut a = eax as u64;
        let mut c = ecx as u64;
        let mut d = edx as u64;
        let mut f = ((flags & ARITH) | 2) as u64;
        match form {
            Form32::Alu(0) => run_asm!("add eax, ecx", a, c, d, f),
            Form32::Alu(1) => run_asm!("or eax, ecx", a, c, d, f),
            Form32::Alu(2) => run_asm!("adc eax, ecx", a, c, d, f),
            Form32::Alu(3) => run_asm!("sbb eax, ecx", a, c, d, f),
            Form32::Alu(4) => run_asm!("and eax, ecx", a, c, d, f),
            Form32::Alu(5) => run_asm!("sub eax, ecx", a, c, d, f),
            Form32::Alu(6) => run_asm!("xor eax, ecx", a, c, d, f),
            Form32::Alu(_) => run_asm!("cmp eax, ecx", a, c, d, f),
            Form32::Test => run_asm!("test eax, ecx", a, c, d, f),
            Form32::Shift(0) => run_asm!("rol eax, cl", a, c, d, f),
            Form32::Shift(1) => run_asm!("ror eax, cl", a, c, d, f),
            Form32::Shift(2) => run_asm!("rcl eax, cl", a, c, d, f),
            Form32::Shift(3) => run_asm!("rcr eax, cl", a, c, d, f),
            Form32::Shift(4) | Form32::Shift(6) => run_asm!("shl eax, cl", a, c, d, f),
            Form32::Shift(5) => run_asm!("shr eax, cl", a, c, d, f),
            Form32::Shift(_) => run_asm!("sar eax, cl", a, c, d, f),
            // SHLD/SHRD take the bits from EDX here; callers pass ECX's
            // value there too (the emulated form is SHLD EAX, ECX, CL).
            Form32::Shld => run_asm!("shld eax, edx, cl", a, c, d, f),
            Form32::Shrd => run_asm!("shrd eax, edx, cl", a, c, d, f),
            Form32::Bsf => run_asm!("bsf eax, ecx", a, c, d, f),
            Form32::Bsr => run_asm!("bsr eax, ecx", a, c, d, f),
            Form32::Bswap => run_asm!("bswap eax", a, c, d, f),
            Form32::Mul => run_asm!("mul ecx", a, c, d, f),
            Form32::Imul1 => run_asm!("imul ecx", a, c, d, f),
            Form32::Imul2 => run_asm!("imul eax, ecx", a, c, d, f),
            Form32::Xadd => run_asm!("xadd eax, ecx", a, c, d, f),
            Form32::Div => run_asm!("div ecx", a, c, d, f),
            Form32::Idiv => run_asm!("idiv ecx", a, c, d, f),
            Form32::Movzx8 => run_asm!("movzx eax, cl", a, c, d, f),
            Form32::Movzx16 => run_asm!("movzx eax, cx", a, c, d, f),
            Form32::Movsx8 => run_asm!("movsx eax, cl", a, c, d, f),
            Form32::Movsx16 => run_asm!("movsx eax, cx", a, c, d, f),
            Form32::Setcc(0) => run_asm!("seto al", a, c, d, f),
            Form32::Setcc(1) => run_asm!("setno al", a, c, d, f),
            Form32::Setcc(2) => run_asm!("setb al", a, c, d, f),
            Form32::Setcc(3) => run_asm!("setae al", a, c, d, f),
            Form32::Setcc(4) => run_asm!("sete al", a, c, d, f),
            Form32::Setcc(5) => run_asm!("setne al", a, c, d, f),
            Form32::Setcc(6) => run_asm!("setbe al", a, c, d, f),
            Form32::Setcc(7) => run_asm!("seta al", a, c, d, f),
            Form32::Setcc(8) => run_asm!("sets al", a, c, d, f),
            Form32::Setcc(9) => run_asm!("setns al", a, c, d, f),
            Form32::Setcc(10) => run_asm!("setp al", a, c, d, f),
            Form32::Setcc(11) => run_asm!("setnp al", a, c, d, f),
            Form32::Setcc(12) => run_asm!("setl al", a, c, d, f),
            Form32::Setcc(13) => run_asm!("setge al", a, c, d, f),
            Form32::Setcc(14) => run_asm!("setle al", a, c, d, f),
            Form32::Setcc(_) => run_asm!("setg al", a, c, d, f),
            Form32::Bt(0) => run_asm!("bt eax, ecx", a, c, d, f),
            Form32::Bt(1) => run_asm!("bts eax, ecx", a, c, d, f),
            Form32::Bt(2) => run_asm!("btr eax, ecx", a, c, d, f),
            Form32::Bt(_) => run_asm!("btc eax, ecx", a, c, d, f),
            Form32::Cmpxchg => run_asm!("cmpxchg ecx, edx", a, c, d, f),
        }
        Out32 {
            eax: a as u32,
            ecx: c as u32,
            edx: d as u32,
            flags: f as u32 & ARITH,
        }
    }
}
