//! The host CPU's x87 as a reference for the emulated FPU (`cpu::x87`).
//!
//! Each operation runs natively in one `asm!` block on a fresh FPU: FNINIT,
//! FLD m80 of the second operand then the first (so ST(0) = a, ST(1) = b),
//! FNCLEX, FLDCW of the control word under test, the instruction itself
//! (given as raw bytes, so the host runs exactly the encoding the emulator
//! is given; memory forms address a 16-byte scratch buffer), then FNSAVE,
//! which does not wait — so unmasked exceptions never trap on the host —
//! and leaves the host FPU initialised. The emulator side of the same
//! sequence is in harness/tests/x87_host.rs. Only on x86-64 hosts.

/// Offsets in the frame shared with the `asm!` block.
const OFF_CW: usize = 0;
const OFF_A: usize = 8;
const OFF_B: usize = 24;
/// Offset of the memory operand (the `disp8` of every memory form).
pub const OFF_MEM: usize = 40;
const OFF_SAVE: usize = 56;
/// Size of the FNSAVE image (32-bit layout).
pub const SAVE_LEN: usize = 108;

/// What the host left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostX87 {
    /// FNSAVE image (32-bit protected-mode layout) after the instruction.
    pub save: [u8; SAVE_LEN],
    /// The 16-byte memory operand after the instruction.
    pub mem: [u8; 16],
    /// RFLAGS after the instruction (ZF, PF, CF matter for FCOMI).
    pub rflags: u64,
}

macro_rules! ops {
    ($( $name:ident = $op:literal, $modrm:literal, $bytes:literal; )*) => {
        /// The x87 instructions the oracle runs: register forms on ST(0)
        /// and ST(1), memory forms on the scratch buffer.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum X87Op { $(
            #[allow(missing_docs)]
            $name,
        )* }

        impl X87Op {
            /// Every operation.
            pub const ALL: &'static [X87Op] = &[$(X87Op::$name,)*];

            /// The ESC opcode and ModRM (memory forms: mod=01, r/m=[rsi]).
            pub fn encoding(self) -> (u8, u8) {
                match self { $(X87Op::$name => ($op, $modrm),)* }
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        fn host_dispatch(op: X87Op, p: *mut u8) -> u64 {
            let f: u64;
            match op { $(
                // SAFETY: the block reads and writes only the 168-byte frame
                // at `p` (the caller's buffer), uses the stack for one
                // push/pop pair (no `nostack`), and leaves the x87
                // initialised (FNSAVE) as the ABI expects; FLAGS are
                // clobbered, which `asm!` assumes.
                X87Op::$name => unsafe {
                    std::arch::asm!(
                        "fninit",
                        "fld tbyte ptr [rsi + 24]",
                        "fld tbyte ptr [rsi + 8]",
                        "fnclex",
                        "fldcw word ptr [rsi]",
                        $bytes,
                        "pushfq",
                        "pop {f}",
                        "fnsave [rsi + 56]",
                        in("rsi") p,
                        f = out(reg) f,
                    )
                },
            )* }
            f
        }
    };
}

ops! {
    Add = 0xD8, 0xC1, ".byte 0xd8, 0xc1";
    Mul = 0xD8, 0xC9, ".byte 0xd8, 0xc9";
    Sub = 0xD8, 0xE1, ".byte 0xd8, 0xe1";
    Subr = 0xD8, 0xE9, ".byte 0xd8, 0xe9";
    Div = 0xD8, 0xF1, ".byte 0xd8, 0xf1";
    Divr = 0xD8, 0xF9, ".byte 0xd8, 0xf9";
    AddP = 0xDE, 0xC1, ".byte 0xde, 0xc1";
    SubP = 0xDE, 0xE9, ".byte 0xde, 0xe9";
    SubRP = 0xDE, 0xE1, ".byte 0xde, 0xe1";
    DivP = 0xDE, 0xF9, ".byte 0xde, 0xf9";
    DivRP = 0xDE, 0xF1, ".byte 0xde, 0xf1";
    SubDc = 0xDC, 0xE9, ".byte 0xdc, 0xe9";
    Sqrt = 0xD9, 0xFA, ".byte 0xd9, 0xfa";
    Prem = 0xD9, 0xF8, ".byte 0xd9, 0xf8";
    Prem1 = 0xD9, 0xF5, ".byte 0xd9, 0xf5";
    Rndint = 0xD9, 0xFC, ".byte 0xd9, 0xfc";
    Scale = 0xD9, 0xFD, ".byte 0xd9, 0xfd";
    Xtract = 0xD9, 0xF4, ".byte 0xd9, 0xf4";
    Com = 0xD8, 0xD1, ".byte 0xd8, 0xd1";
    Comp = 0xD8, 0xD9, ".byte 0xd8, 0xd9";
    Compp = 0xDE, 0xD9, ".byte 0xde, 0xd9";
    Ucom = 0xDD, 0xE1, ".byte 0xdd, 0xe1";
    Ucompp = 0xDA, 0xE9, ".byte 0xda, 0xe9";
    Tst = 0xD9, 0xE4, ".byte 0xd9, 0xe4";
    Xam = 0xD9, 0xE5, ".byte 0xd9, 0xe5";
    Comi = 0xDB, 0xF1, ".byte 0xdb, 0xf1";
    Ucomi = 0xDB, 0xE9, ".byte 0xdb, 0xe9";
    Comip = 0xDF, 0xF1, ".byte 0xdf, 0xf1";
    Chs = 0xD9, 0xE0, ".byte 0xd9, 0xe0";
    Abs = 0xD9, 0xE1, ".byte 0xd9, 0xe1";
    Xch = 0xD9, 0xC9, ".byte 0xd9, 0xc9";
    Ld1 = 0xD9, 0xE8, ".byte 0xd9, 0xe8";
    Ldl2t = 0xD9, 0xE9, ".byte 0xd9, 0xe9";
    Ldl2e = 0xD9, 0xEA, ".byte 0xd9, 0xea";
    Ldpi = 0xD9, 0xEB, ".byte 0xd9, 0xeb";
    Ldlg2 = 0xD9, 0xEC, ".byte 0xd9, 0xec";
    Ldln2 = 0xD9, 0xED, ".byte 0xd9, 0xed";
    Ldz = 0xD9, 0xEE, ".byte 0xd9, 0xee";
    FldM32 = 0xD9, 0x46, ".byte 0xd9, 0x46, 40";
    FldM64 = 0xDD, 0x46, ".byte 0xdd, 0x46, 40";
    FldM80 = 0xDB, 0x6E, ".byte 0xdb, 0x6e, 40";
    FildM16 = 0xDF, 0x46, ".byte 0xdf, 0x46, 40";
    FildM32 = 0xDB, 0x46, ".byte 0xdb, 0x46, 40";
    FildM64 = 0xDF, 0x6E, ".byte 0xdf, 0x6e, 40";
    Fbld = 0xDF, 0x66, ".byte 0xdf, 0x66, 40";
    FstM32 = 0xD9, 0x56, ".byte 0xd9, 0x56, 40";
    FstpM32 = 0xD9, 0x5E, ".byte 0xd9, 0x5e, 40";
    FstM64 = 0xDD, 0x56, ".byte 0xdd, 0x56, 40";
    FstpM80 = 0xDB, 0x7E, ".byte 0xdb, 0x7e, 40";
    FistM16 = 0xDF, 0x56, ".byte 0xdf, 0x56, 40";
    FistM32 = 0xDB, 0x56, ".byte 0xdb, 0x56, 40";
    FistpM64 = 0xDF, 0x7E, ".byte 0xdf, 0x7e, 40";
    Fbstp = 0xDF, 0x76, ".byte 0xdf, 0x76, 40";
    FaddM32 = 0xD8, 0x46, ".byte 0xd8, 0x46, 40";
    FsubrM64 = 0xDC, 0x6E, ".byte 0xdc, 0x6e, 40";
    FdivM32 = 0xD8, 0x76, ".byte 0xd8, 0x76, 40";
    FiaddM16 = 0xDE, 0x46, ".byte 0xde, 0x46, 40";
    FidivrM32 = 0xDA, 0x7E, ".byte 0xda, 0x7e, 40";
    FcomM64 = 0xDC, 0x56, ".byte 0xdc, 0x56, 40";
    FicomM16 = 0xDE, 0x56, ".byte 0xde, 0x56, 40";
    Sin = 0xD9, 0xFE, ".byte 0xd9, 0xfe";
    Cos = 0xD9, 0xFF, ".byte 0xd9, 0xff";
    Sincos = 0xD9, 0xFB, ".byte 0xd9, 0xfb";
    Ptan = 0xD9, 0xF2, ".byte 0xd9, 0xf2";
    Patan = 0xD9, 0xF3, ".byte 0xd9, 0xf3";
    Yl2x = 0xD9, 0xF1, ".byte 0xd9, 0xf1";
    Yl2xp1 = 0xD9, 0xF9, ".byte 0xd9, 0xf9";
    F2xm1 = 0xD9, 0xF0, ".byte 0xd9, 0xf0";
}

impl X87Op {
    /// True for the memory forms (they use the scratch buffer).
    pub fn is_mem(self) -> bool {
        self.encoding().1 < 0xC0
    }

    /// True for the transcendental instructions (compared within 1 ulp).
    pub fn is_transcendental(self) -> bool {
        use X87Op::*;
        matches!(
            self,
            Sin | Cos | Sincos | Ptan | Patan | Yl2x | Yl2xp1 | F2xm1
        )
    }

    /// Looks an operation up by its (case-insensitive) name.
    pub fn from_name(s: &str) -> Option<X87Op> {
        X87Op::ALL
            .iter()
            .copied()
            .find(|o| format!("{o:?}").eq_ignore_ascii_case(s))
    }
}

/// Runs `op` on the host with ST(0) = `a`, ST(1) = `b`, control word `cw`
/// and the memory operand `mem`.
#[cfg(target_arch = "x86_64")]
pub fn run(op: X87Op, cw: u16, a: [u8; 10], b: [u8; 10], mem: [u8; 16]) -> HostX87 {
    #[repr(C, align(16))]
    struct Frame([u8; 176]);
    let mut fr = Frame([0; 176]);
    fr.0[OFF_CW..OFF_CW + 2].copy_from_slice(&cw.to_le_bytes());
    fr.0[OFF_A..OFF_A + 10].copy_from_slice(&a);
    fr.0[OFF_B..OFF_B + 10].copy_from_slice(&b);
    fr.0[OFF_MEM..OFF_MEM + 16].copy_from_slice(&mem);
    let rflags = host_dispatch(op, fr.0.as_mut_ptr());
    let mut save = [0u8; SAVE_LEN];
    save.copy_from_slice(&fr.0[OFF_SAVE..OFF_SAVE + SAVE_LEN]);
    let mut m = [0u8; 16];
    m.copy_from_slice(&fr.0[OFF_MEM..OFF_MEM + 16]);
    HostX87 {
        save,
        mem: m,
        rflags,
    }
}
