//! The host CPU as a reference for the 486/Pentium/P6 additions of the ia32
//! core: CMOVcc, BSWAP, XADD and CMPXCHG8B on 32-bit operands, each run
//! natively in a short `asm!` block (x86-64 hosts only), as
//! [`crate::oracle`] does for the 16-bit ALU.

/// The six arithmetic flags (OF SF ZF AF PF CF).
pub const ARITH_FLAGS32: u32 = 0x08D5;

#[cfg(target_arch = "x86_64")]
pub use host::*;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod host {
    use super::ARITH_FLAGS32;
    use std::arch::asm;

    fn rflags_in(flags: u32) -> u64 {
        ((flags & ARITH_FLAGS32) | 2) as u64
    }

    use crate::oracle::host::two as cmov_cc;

    /// CMOVcc r32, r32 (`cc` 0–15 as in 0F 40+cc) with the given flags:
    /// the destination afterwards.
    pub fn cmov(cc: u8, dst: u32, src: u32, flags: u32) -> u32 {
        let mut a = dst as u64;
        let b = src as u64;
        let mut f = rflags_in(flags);
        match cc & 15 {
            0 => cmov_cc!("cmovo {a:e}, {b:e}", a, b, f),
            1 => cmov_cc!("cmovno {a:e}, {b:e}", a, b, f),
            2 => cmov_cc!("cmovb {a:e}, {b:e}", a, b, f),
            3 => cmov_cc!("cmovnb {a:e}, {b:e}", a, b, f),
            4 => cmov_cc!("cmovz {a:e}, {b:e}", a, b, f),
            5 => cmov_cc!("cmovnz {a:e}, {b:e}", a, b, f),
            6 => cmov_cc!("cmovbe {a:e}, {b:e}", a, b, f),
            7 => cmov_cc!("cmova {a:e}, {b:e}", a, b, f),
            8 => cmov_cc!("cmovs {a:e}, {b:e}", a, b, f),
            9 => cmov_cc!("cmovns {a:e}, {b:e}", a, b, f),
            10 => cmov_cc!("cmovp {a:e}, {b:e}", a, b, f),
            11 => cmov_cc!("cmovnp {a:e}, {b:e}", a, b, f),
            12 => cmov_cc!("cmovl {a:e}, {b:e}", a, b, f),
            13 => cmov_cc!("cmovnl {a:e}, {b:e}", a, b, f),
            14 => cmov_cc!("cmovle {a:e}, {b:e}", a, b, f),
            _ => cmov_cc!("cmovg {a:e}, {b:e}", a, b, f),
        }
        let _ = f;
        a as u32
    }

    /// BSWAP r32.
    pub fn bswap(v: u32) -> u32 {
        let mut a = v as u64;
        // SAFETY: one register operand, no memory, no flags.
        unsafe { asm!("bswap {a:e}", a = inout(reg) a) };
        a as u32
    }

    /// XADD r32, r32: (destination, source, arithmetic flags) afterwards.
    pub fn xadd(dst: u32, src: u32, flags: u32) -> (u32, u32, u32) {
        let mut a = dst as u64;
        let mut b = src as u64;
        let mut f = rflags_in(flags);
        // SAFETY: as `cmov_cc!`.
        unsafe {
            asm!(
                "push {f}",
                "popfq",
                "xadd {a:e}, {b:e}",
                "pushfq",
                "pop {f}",
                a = inout(reg) a,
                b = inout(reg) b,
                f = inout(reg) f,
            )
        };
        (a as u32, b as u32, f as u32 & ARITH_FLAGS32)
    }

    /// CMPXCHG8B m64: (memory, EDX:EAX, ZF) afterwards.
    pub fn cmpxchg8b(mem: u64, edx_eax: u64, ecx_ebx: u64) -> (u64, u64, bool) {
        let mut m = mem;
        let mut eax = edx_eax & 0xFFFF_FFFF;
        let mut edx = edx_eax >> 32;
        let mut bx = ecx_ebx & 0xFFFF_FFFF;
        let ecx = ecx_ebx >> 32;
        let zf: u8;
        // SAFETY: RBX is reserved by the compiler, so it is swapped with a
        // scratch register around the instruction and restored; the memory
        // operand is the local `m`.
        unsafe {
            asm!(
                "xchg {bx}, rbx",
                "cmpxchg8b [{m}]",
                "setz {z}",
                "xchg {bx}, rbx",
                bx = inout(reg) bx,
                m = in(reg) &mut m as *mut u64,
                z = out(reg_byte) zf,
                inout("rax") eax,
                inout("rdx") edx,
                in("rcx") ecx,
            )
        };
        let _ = bx;
        (m, (edx & 0xFFFF_FFFF) << 32 | (eax & 0xFFFF_FFFF), zf != 0)
    }
}
