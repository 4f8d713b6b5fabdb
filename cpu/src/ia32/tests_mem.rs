//! The direct memory path (`mem.rs`: [`Cpu32::direct_phys`], the TLB's
//! keys, [`Bus::ram_direct`]) and REP string runs (`exec.rs`,
//! `string_run`) must be invisible: each test works out the architectural
//! outcome from the manuals (SDM vol. 2 MOVS/STOS/CMPS/SCAS and REP; vol.
//! 3 paging, segment limits, faults restarting with the registers of the
//! iteration that faulted) and fails if the rule it names is broken.

use super::tests_fetch::{flat32, run_to_end, TrustBus};
use super::*;
use crate::FlatBus;

fn bus() -> TrustBus {
    TrustBus(FlatBus::new(0x4_0000))
}

/// Paging on over `flat32`: the page directory at 1000h, one page table at
/// 2000h mapping linear page n to physical page n (present, writable,
/// supervisor) for n below 40h, except page 10h, not present.
fn paged(bus: &mut TrustBus) -> Cpu32 {
    bus.0.load(0x1000, &(0x2000u32 | 3).to_le_bytes());
    for n in 0..0x40u32 {
        let pte = if n == 0x10 { 0 } else { (n << 12) | 3 };
        bus.0.load(0x2000 + 4 * n, &pte.to_le_bytes());
    }
    let mut c = flat32(Model32::I80486);
    c.cr[3] = 0x1000;
    c.cr[0] |= 0x8000_0000;
    c
}

#[test]
fn rep_movsd_into_a_not_present_page_faults_at_the_iteration_that_reaches_it() {
    // REP MOVSD from 5800h to F800h, ECX = 300h: the 200h dwords up to
    // FFFFh are copied, the next store (linear 10000h) finds page 10h not
    // present: #PF with CR2 = 10000h, restarting at the REP MOVSD with the
    // registers of that iteration: ECX = 100h, ESI = 5800h + 800h, EDI =
    // 10000h. The IDT has limit 0, so the fault shuts the CPU down there.
    let mut b = bus();
    let mut c = paged(&mut b);
    for k in 0..0x300u32 {
        b.0.load(0x5800 + 4 * k, &(0xA000_0000 | k).to_le_bytes());
    }
    b.0.load(0x3000, &[0xF3, 0xA5, 0xF4]); // rep movsd; hlt
    c.eip = 0x3000;
    (c.r[1], c.r[6], c.r[7]) = (0x300, 0x5800, 0xF800);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Shutdown);
    assert_eq!(c.eip, 0x3000);
    assert_eq!((c.r[1], c.r[6], c.r[7]), (0x100, 0x6000, 0x10000));
    assert_eq!(c.cr[2], 0x10000);
    for k in [0u32, 1, 0x1FF] {
        let at = 0xF800 + 4 * k as usize;
        assert_eq!(b.0.mem[at..at + 4], (0xA000_0000 | k).to_le_bytes());
    }
    // The walk set A in the PTEs of both pages it used, D only in the
    // destination's (SDM vol. 3, 4.8).
    assert_eq!(b.0.mem[0x2000 + 4 * 5] & 0x60, 0x20);
    assert_eq!(b.0.mem[0x2000 + 4 * 0xF] & 0x60, 0x60);
}

#[test]
fn a_store_to_cached_code_through_the_direct_path_runs_the_new_code() {
    // A loop runs MOV EAX, 1 at 2000h; on its third pass a store rewrites
    // the immediate to 7, so the fourth and fifth passes load 7. The bus
    // vouches for its RAM, so only the CPU's own record of writing a code
    // page can make it look at the bytes again. Once with a MOV to memory,
    // once with REP STOSD, once with REP MOVSD.
    let stores: [&[u8]; 3] = [
        // mov dword [2001h], 7
        &[0xC7, 0x05, 0x01, 0x20, 0, 0, 7, 0, 0, 0],
        // mov edi, 2001h; mov ecx, 1; mov eax, 7; rep stosd
        &[
            0xBF, 0x01, 0x20, 0, 0, 0xB9, 1, 0, 0, 0, 0xB8, 7, 0, 0, 0, 0xF3, 0xAB,
        ],
        // mov esi, 3000h; mov edi, 2001h; mov ecx, 1; rep movsd
        &[
            0xBE, 0, 0x30, 0, 0, 0xBF, 0x01, 0x20, 0, 0, 0xB9, 1, 0, 0, 0, 0xF3, 0xA5,
        ],
    ];
    for store in stores {
        let mut b = bus();
        b.0.load(0x3000, &7u32.to_le_bytes());
        let mut code = vec![
            0xB8,
            1,
            0,
            0,
            0,    // 2000: mov eax, 1
            0x43, // inc ebx
            0x83,
            0xFB,
            0x03, // cmp ebx, 3
            0x75,
            store.len() as u8, // jne past the store
        ];
        code.extend_from_slice(store);
        code.extend_from_slice(&[0x83, 0xFB, 0x05, 0x75]); // cmp ebx, 5; jne 2000
        let back = -(code.len() as i32 + 1);
        code.push(back as u8);
        code.push(0xF4); // hlt
        b.0.load(0x2000, &code);
        let mut c = flat32(Model32::I80486);
        c.eip = 0x2000;
        assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
        assert_eq!((c.r[0], c.r[3]), (7, 5), "store {store:02x?}");
    }
}

#[test]
fn an_expand_down_segment_faults_below_its_limit_on_both_paths() {
    // DS: a 16-bit expand-down data segment with limit 0FFFh: offsets
    // 1000h–FFFFh are valid (SDM vol. 3, 3.4.5.1). STD; REP MOVSB from
    // DS:1002h backwards copies 1002h, 1001h, 1000h, then reaches 0FFFh:
    // #GP(0) with ECX = 5 - 3, ESI = 0FFFh, EDI = 9002h - 3. A plain MOV
    // from DS:2000h reads; one from DS:0FFEh (a word reaching 0FFFh... no:
    // bytes 0FFEh-1001h, starting at or below the limit) faults.
    let setup = |b: &mut TrustBus| {
        let mut c = flat32(Model32::I80486);
        c.seg[DS].attr = 0x97; // present, DPL 0, data, expand-down, writable, accessed
        c.seg[DS].limit = 0x0FFF;
        b.0.load(0x1000, &[0x11, 0x22, 0x33]);
        b.0.load(0x2000, &0x1234_5678u32.to_le_bytes());
        c
    };
    let mut b = bus();
    let mut c = setup(&mut b);
    b.0.load(0x3000, &[0xFD, 0xF3, 0xA4, 0xF4]); // std; rep movsb; hlt
    c.eip = 0x3000;
    (c.r[1], c.r[6], c.r[7]) = (5, 0x1002, 0x9002);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Shutdown);
    assert_eq!(c.eip, 0x3001);
    assert_eq!((c.r[1], c.r[6], c.r[7]), (2, 0x0FFF, 0x8FFF));
    assert_eq!(b.0.mem[0x9000..0x9003], [0x11, 0x22, 0x33]);

    let mut b = bus();
    let mut c = setup(&mut b);
    b.0.load(0x3000, &[0x8B, 0x06, 0xF4]); // mov eax, [esi]; hlt
    c.eip = 0x3000;
    c.r[6] = 0x2000;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.r[0], 0x1234_5678);
    let mut c = setup(&mut b);
    c.eip = 0x3000;
    c.r[6] = 0x0FFE;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Shutdown);
    assert_eq!(c.eip, 0x3000);
}

#[test]
fn overlapping_rep_movs_moves_element_by_element() {
    // MOVSB to one byte above its source repeats the first byte (each
    // iteration reads what the previous one wrote); MOVSD to one byte
    // above moves dwords one at a time, each read whole before it is
    // written. The expected bytes come from that definition, step by step.
    for (op, sz) in [(0xA4u8, 1usize), (0xA5, 4)] {
        let mut b = bus();
        let src: Vec<u8> = (0..64u8).map(|k| k.wrapping_mul(37) ^ 0x5A).collect();
        b.0.load(0x5000, &src);
        let mut want = b.0.mem.clone();
        let n = 12usize;
        for j in 0..n {
            let s = 0x5000 + j * sz;
            let v: Vec<u8> = want[s..s + sz].to_vec();
            want[s + 1..s + 1 + sz].copy_from_slice(&v);
        }
        b.0.load(0x3000, &[0xF3, op, 0xF4]);
        let mut c = flat32(Model32::I80486);
        c.eip = 0x3000;
        (c.r[1], c.r[6], c.r[7]) = (n as u32, 0x5000, 0x5001);
        assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
        assert_eq!(b.0.mem[0x5000..0x5040], want[0x5000..0x5040], "op {op:02x}");
        assert_eq!(
            (c.r[1], c.r[6], c.r[7]),
            (0, 0x5000 + (n * sz) as u32, 0x5001 + (n * sz) as u32)
        );
    }
}

#[test]
fn repe_cmpsb_and_repne_scasb_stop_where_the_manual_says() {
    // REPE CMPSB over "hello world" and "hello_world" (11 bytes) stops
    // after the sixth pair (' ' 20h against '_' 5Fh): ECX = 5, ESI and
    // EDI 6 on, ZF clear, CF set (20h - 5Fh borrows), SF set (C1h).
    let mut b = bus();
    b.0.load(0x5000, b"hello world");
    b.0.load(0x6000, b"hello_world");
    b.0.load(0x3000, &[0xF3, 0xA6, 0xF4]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x3000;
    (c.r[1], c.r[6], c.r[7]) = (11, 0x5000, 0x6000);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!((c.r[1], c.r[6], c.r[7]), (5, 0x5006, 0x6006));
    assert_eq!(c.eflags() & (ZF | CF | SF), CF | SF);
    // REPNE SCASB for AL = 0 in "abc\0" with ECX = FFFFFFFFh (strlen):
    // stops after the fourth byte with ZF set: ECX = FFFFFFFBh, EDI + 4.
    let mut b = bus();
    b.0.load(0x5000, b"abc\0xyz");
    b.0.load(0x3000, &[0xF2, 0xAE, 0xF4]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x3000;
    (c.r[0], c.r[1], c.r[7]) = (0x1234_5600, 0xFFFF_FFFF, 0x5000);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!((c.r[1], c.r[7]), (0xFFFF_FFFB, 0x5004));
    assert_ne!(c.eflags() & ZF, 0);
}

#[test]
fn a_long_rep_stos_is_still_interruptible_every_4096_iterations() {
    // REP STOSB of 10000 bytes: the core lets an interrupt in after every
    // 4096 iterations (the instruction ends with EIP at itself and is
    // counted), so it counts as three instructions (4096, 4096, 1808),
    // and the HLT is the fourth; the bytes all get AL. After the first
    // instruction, ECX is 10000 - 4096 and EDI 4096 on.
    let mut b = bus();
    b.0.load(0x3000, &[0xF3, 0xAA, 0xF4]);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x3000;
    (c.r[0], c.r[1], c.r[7]) = (0x77, 10_000, 0x10000);
    assert_eq!(c.run(&mut b, 1), StepResult32::Executed);
    assert_eq!((c.eip, c.r[1], c.r[7]), (0x3000, 10_000 - 4096, 0x11000));
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.instructions(), 4);
    assert_eq!(c.r[1], 0);
    assert!(b.0.mem[0x10000..0x10000 + 10_000]
        .iter()
        .all(|&x| x == 0x77));
    assert_eq!(b.0.mem[0x10000 + 10_000], 0);
}

/// Real mode at 0 (386), vectors 0 and 13 at 0000:2000h (HLT), `code` at
/// 1000h; runs to the HLT and returns the CPU and the IP and FLAGS the
/// exception pushed (real mode: IP, CS, FLAGS).
fn fault_after_producer(code: &[u8], setup: impl Fn(&mut Cpu32)) -> (Cpu32, u16, u16) {
    let mut b = bus();
    b.0.load(0x1000, code);
    b.0.load(0x2000, &[0xF4]);
    b.0.load(0, &[0x00, 0x20, 0, 0]);
    b.0.load(13 * 4, &[0x00, 0x20, 0, 0]);
    let mut c = Cpu32::new(Model32::I80386);
    for s in 0..6 {
        c.seg[s] = SegCache::real(0);
    }
    c.seg[CS].attr = 0x9B;
    c.r[4] = 0x8000;
    c.eip = 0x1000;
    setup(&mut c);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.eip, 0x2001);
    let sp = 0x8000 - 6;
    let word = |a: usize| u16::from_le_bytes([b.0.mem[a], b.0.mem[a + 1]]);
    assert_eq!(c.r[4], sp as u32);
    (c, word(sp), word(sp + 4))
}

/// `mov eax, 7FFFFFFFh; add eax, 1`: 80000000h, so (SDM vol. 1, 3.4.3)
/// CF = 0, PF = 1 (low byte 00h), AF = 1 (carry out of bit 3), ZF = 0,
/// SF = 1, OF = 1: FLAGS 0896h with the reserved bit 1.
const ADD_OVERFLOW: [u8; 10] = [0x66, 0xB8, 0xFF, 0xFF, 0xFF, 0x7F, 0x66, 0x83, 0xC0, 0x01];
const ADD_OVERFLOW_FLAGS: u16 = 0x0896;

#[test]
fn a_rep_movs_faulting_after_a_flag_producer_pushes_the_producers_flags() {
    // REP MOVSW to ES:FFF1h with CX = 20h: seven words fit below the
    // 64 KiB limit, the eighth (FFFFh–10000h) is #GP (vector 13 in real
    // mode), restarting at the REP MOVSW (100Ah) with CX = 19h, DI =
    // FFFFh and the flags ADD left, which the string instruction does not
    // change. Once through the forms (the ADD leaves its flags pending),
    // once without them.
    let mut code = ADD_OVERFLOW.to_vec();
    code.extend([0xF3, 0xA5, 0xF4]);
    for forms in [true, false] {
        let (c, ip, fl) = fault_after_producer(&code, |c| {
            c.set_forms(forms);
            (c.r[1], c.r[6], c.r[7]) = (0x20, 0x100, 0xFFF1);
        });
        assert_eq!((ip, fl), (0x100A, ADD_OVERFLOW_FLAGS), "forms {forms}");
        assert_eq!((c.r[1], c.r[6], c.r[7]), (0x19, 0x10E, 0xFFFF));
    }
}

#[test]
fn a_repe_cmps_faulting_pushes_the_flags_of_its_last_compare() {
    // REPE CMPSW over equal words (zero memory) from DI = FFF1h: seven
    // compares of equal words (ZF = 1, PF = 1, the others 0: 0046h), then
    // #GP on the eighth's ES operand; the pushed FLAGS are the last
    // compare's, not ADD's.
    let mut code = ADD_OVERFLOW.to_vec();
    code.extend([0xF3, 0xA7, 0xF4]);
    for forms in [true, false] {
        let (c, ip, fl) = fault_after_producer(&code, |c| {
            c.set_forms(forms);
            (c.r[1], c.r[6], c.r[7]) = (0x20, 0x4000, 0xFFF1);
        });
        assert_eq!((ip, fl), (0x100A, 0x0046), "forms {forms}");
        assert_eq!((c.r[1], c.r[7]), (0x19, 0xFFFF));
    }
}

#[test]
fn a_divide_error_after_a_flag_producer_pushes_the_producers_flags() {
    // DIV CL with CL = 0 right after the ADD: #DE points at the DIV
    // (100Ah) with the ADD's flags and AX as ADD left it.
    let mut code = ADD_OVERFLOW.to_vec();
    code.extend([0xF6, 0xF1, 0xF4]);
    for forms in [true, false] {
        let (c, ip, fl) = fault_after_producer(&code, |c| c.set_forms(forms));
        assert_eq!((ip, fl), (0x100A, ADD_OVERFLOW_FLAGS), "forms {forms}");
        assert_eq!(c.r[0], 0x8000_0000);
    }
}

// The fast segment check (`Cpu32::seg_fast`, `seg_end`) stands for the
// segment's type and limit, DR7's data breakpoints and the alignment check;
// each test below warms it in a loop and then changes one of these, and
// fails if the change is not seen at the very next access.

/// GDT at `at`: null, flat code (08h), flat data (10h), and data with
/// base 0 and limit FFFh, byte-granular, 32-bit (18h).
fn small_gdt(b: &mut TrustBus, at: u32) {
    b.0.load(at + 8, &[0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0]);
    b.0.load(at + 16, &[0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0]);
    b.0.load(at + 24, &[0xFF, 0x0F, 0, 0, 0, 0x93, 0x40, 0]);
}

#[test]
fn a_segment_reloaded_with_a_lower_limit_mid_run_faults_at_the_first_access_past_it() {
    // Ten stores through the flat DS, then DS = 18h (limit FFFh): a dword
    // at FFCh fits, one at FFDh (last byte 1000h) is #GP(0) (SDM vol. 3,
    // 5.3); with IDT limit 0 the CPU shuts down with EIP at that store.
    let mut b = bus();
    small_gdt(&mut b, 0x1000);
    b.0.load(
        0x2000,
        &[
            0x89, 0x03, // 2000: mov [ebx], eax
            0x83, 0xC3, 0x04, // 2002: add ebx, 4
            0x49, // 2005: dec ecx
            0x75, 0xF8, // 2006: jnz 2000
            0x66, 0xBA, 0x18, 0x00, // 2008: mov dx, 18h
            0x8E, 0xDA, // 200C: mov ds, dx
            0xBB, 0xFC, 0x0F, 0, 0, // 200E: mov ebx, 0FFCh
            0x89, 0x03, // 2013: mov [ebx], eax
            0x89, 0x43, 0x01, // 2015: mov [ebx+1], eax
            0xF4, // 2018: hlt
        ],
    );
    let mut c = flat32(Model32::I80486);
    c.gdtr = (0x1000, 0x1F);
    c.eip = 0x2000;
    (c.r[0], c.r[1], c.r[3]) = (0x1122_3344, 10, 0x3000);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Shutdown);
    assert_eq!(c.eip, 0x2015);
    assert_eq!(c.seg[DS].sel, 0x18);
    assert_eq!(b.0.mem[0x3000 + 4 * 9], 0x44);
    assert_eq!(b.0.mem[0xFFC..0x1000], 0x1122_3344u32.to_le_bytes());
}

#[test]
fn a_data_breakpoint_armed_by_mov_dr7_on_a_page_the_tlb_holds_fires() {
    // Paging on; five reads of [5004h] put page 5 in the TLB with a read
    // key. Then DR0 = 5004h, DR7 = 000F0001h (L0, R/W0 = 11b: reads and
    // writes, LEN0 = 11b: four bytes) and MOV EDX, [5004h]: a data
    // breakpoint, a trap after the MOV (SDM vol. 3, 17.3.1.2): vector 1
    // is taken with the next EIP (4023h) pushed and DR6.B0 set.
    let mut b = bus();
    let mut c = paged(&mut b);
    small_gdt(&mut b, 0x3000);
    c.gdtr = (0x3000, 0x1F);
    // Vector 1: a 32-bit interrupt gate to 08h:4100h (HLT).
    b.0.load(0x3108, &[0x00, 0x41, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00]);
    c.idtr = (0x3100, 0xFF);
    b.0.load(0x4100, &[0xF4]);
    b.0.load(0x5004, &0xCAFE_F00Du32.to_le_bytes());
    b.0.load(
        0x4000,
        &[
            0xB9, 5, 0, 0, 0, // 4000: mov ecx, 5
            0xA1, 0x04, 0x50, 0, 0,    // 4005: mov eax, [5004h]
            0x49, // 400A: dec ecx
            0x75, 0xF8, // 400B: jnz 4005
            0xB8, 0x04, 0x50, 0, 0, // 400D: mov eax, 5004h
            0x0F, 0x23, 0xC0, // 4012: mov dr0, eax
            0xB8, 0x01, 0x00, 0x0F, 0x00, // 4015: mov eax, 000F0001h
            0x0F, 0x23, 0xF8, // 401A: mov dr7, eax
            0x8B, 0x15, 0x04, 0x50, 0, 0,    // 401D: mov edx, [5004h]
            0xF4, // 4023: hlt
        ],
    );
    c.eip = 0x4000;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.eip, 0x4101, "vector 1's handler ran");
    assert_eq!(c.r[2], 0xCAFE_F00D);
    assert_ne!(c.dr[6] & 1, 0);
    assert_eq!(b.0.mem[0x7FF4..0x7FF8], 0x4023u32.to_le_bytes());
}

#[test]
fn alignment_checking_turned_on_by_popf_at_cpl_3_catches_the_next_misaligned_read() {
    // CPL 3, CR0.AM set, AC clear: eight misaligned dword reads of [5001h]
    // in a loop are allowed. POPF then sets AC (any CPL may), and the same
    // read is #AC(0) (SDM vol. 3, 6.15, interrupt 17); with IDT limit 0
    // the CPU shuts down with EIP at that read.
    let mut b = bus();
    b.0.load(
        0x4000,
        &[
            0xB9, 8, 0, 0, 0, // 4000: mov ecx, 8
            0xA1, 0x01, 0x50, 0, 0,    // 4005: mov eax, [5001h]
            0x49, // 400A: dec ecx
            0x75, 0xF8, // 400B: jnz 4005
            0x68, 0x02, 0x00, 0x04, 0x00, // 400D: push 40002h (AC)
            0x9D, // 4012: popf
            0xA1, 0x01, 0x50, 0, 0,    // 4013: mov eax, [5001h]
            0xF4, // 4018: hlt
        ],
    );
    let mut c = flat32(Model32::I80486);
    for s in 0..6 {
        c.seg[s].attr |= 0x60;
        c.seg[s].sel |= 3;
    }
    c.cpl = 3;
    c.cr[0] |= 0x4_0000;
    c.eip = 0x4000;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Shutdown);
    assert_eq!(c.eip, 0x4013);
    assert_eq!(c.r[1], 0);
}

#[test]
fn a_dword_across_two_pages_the_tlb_holds_takes_each_half_from_its_own_page() {
    // Linear page 21h mapped to physical page 30h (not 21h). A loop reads
    // and then writes the dword at linear 20FFEh, so after the first pass
    // the TLB holds both pages: the low half is physical 20FFEh–20FFFh,
    // the high half 30000h–30001h (SDM vol. 3, 4.3), whatever path the
    // access takes.
    let mut b = bus();
    let mut c = paged(&mut b);
    b.0.load(0x2000 + 4 * 0x21, &(0x30000u32 | 3).to_le_bytes());
    b.0.load(0x20FFE, &[0x11, 0x22]);
    b.0.load(0x21000, &[0xEE, 0xEE]);
    b.0.load(0x30000, &[0x33, 0x44]);
    b.0.load(
        0x4000,
        &[
            0xB9, 5, 0, 0, 0, // 4000: mov ecx, 5
            0xA1, 0xFE, 0x0F, 0x02, 0, // 4005: mov eax, [20FFEh]
            0x01, 0xC3, // 400A: add ebx, eax
            0x49, // 400C: dec ecx
            0x75, 0xF6, // 400D: jnz 4005
            0x89, 0x1D, 0xFE, 0x0F, 0x02, 0,    // 400F: mov [20FFEh], ebx
            0xF4, // 4015: hlt
        ],
    );
    c.eip = 0x4000;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.r[0], 0x4433_2211);
    let sum = 0x4433_2211u32.wrapping_mul(5).to_le_bytes();
    assert_eq!(b.0.mem[0x20FFE..0x21000], sum[..2]);
    assert_eq!(b.0.mem[0x30000..0x30002], sum[2..]);
    assert_eq!(b.0.mem[0x21000..0x21002], [0xEE, 0xEE]);
}

#[test]
fn turning_paging_on_mid_run_sends_the_next_access_through_the_page_tables() {
    // The fast ends carry the direct path's paging mode (`seg_fast_mode`):
    // MOV CR0 setting PG must be seen at the very next access. Page tables
    // as `paged` builds them but with linear page 5 mapped to physical
    // page 20h; two loads of [5000h] with paging off warm DS's entry and
    // read physical 5000h; after PG is set the same address reads and
    // writes physical 20000h (SDM vol. 3, 4.3).
    let mut b = bus();
    b.0.load(0x1000, &(0x2000u32 | 3).to_le_bytes());
    for n in 0..0x40u32 {
        let page = if n == 5 { 0x20 } else { n };
        b.0.load(0x2000 + 4 * n, &((page << 12) | 3).to_le_bytes());
    }
    b.0.load(0x5000, &0x1111_1111u32.to_le_bytes());
    b.0.load(0x2_0000, &0x2222_2222u32.to_le_bytes());
    b.0.load(
        0x3000,
        &[
            0x8B, 0x05, 0x00, 0x50, 0, 0, // 3000: mov eax, [5000h]
            0x8B, 0x0D, 0x00, 0x50, 0, 0, // 3006: mov ecx, [5000h]
            0x0F, 0x20, 0xC2, // 300C: mov edx, cr0
            0x81, 0xCA, 0, 0, 0, 0x80, // 300F: or edx, 80000000h
            0x0F, 0x22, 0xC2, // 3015: mov cr0, edx
            0x8B, 0x35, 0x00, 0x50, 0, 0, // 3018: mov esi, [5000h]
            0x89, 0x35, 0x04, 0x50, 0, 0,    // 301E: mov [5004h], esi
            0xF4, // 3024: hlt
        ],
    );
    let mut c = flat32(Model32::I80486);
    c.cr[3] = 0x1000;
    c.eip = 0x3000;
    run_to_end(&mut c, &mut b);
    assert!(c.halted());
    assert_eq!((c.r[0], c.r[1]), (0x1111_1111, 0x1111_1111));
    assert_eq!(c.r[6], 0x2222_2222);
    assert_eq!(b.0.mem[0x2_0004..0x2_0008], 0x2222_2222u32.to_le_bytes());
    assert_eq!(b.0.mem[0x5004..0x5008], [0; 4]);
}

/// A bus whose adapter hole (A0000h–FFFFFh) reads EEh, as an adapter
/// answering there would, while it lends all of its memory to the
/// direct path: the CPU alone must keep the direct path out of the hole
/// ([`crate::bus::DIRECT_HOLE`]). Outside it, memory as `FlatBus`'s.
struct HoleBus(FlatBus);

impl Bus for HoleBus {
    fn read(&mut self, addr: u32) -> u8 {
        if (0xA_0000..0x10_0000).contains(&addr) {
            0xEE
        } else {
            self.0.read(addr)
        }
    }
    fn write(&mut self, addr: u32, value: u8) {
        if !(0xA_0000..0x10_0000).contains(&addr) {
            self.0.write(addr, value)
        }
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, _port: u16, _value: u8) {}
    fn ram_direct(&mut self) -> &mut [u8] {
        &mut self.0.mem
    }
    fn ram_generation(&self) -> Option<u64> {
        Some(0)
    }
}

#[test]
fn flat_reads_at_the_edges_of_the_adapter_hole_take_its_bytes_from_the_bus() {
    // Paging off: a read is direct only if none of its bytes lies in
    // A0000h–FFFFFh (one compare on its last byte). Dwords at 9FFFEh and
    // FFFFEh have two bytes each in the hole (EEh from the bus), those at
    // 9FFFCh and 100000h none; one at 5FFEh crosses a page (contiguous
    // with paging off); one at linear FFFFFFFEh (FS base FFFFF000h) wraps
    // at 4 GiB to bytes 0 and 1 (SDM vol. 3, 3.4: linear addresses wrap),
    // which this 2 MiB bus's `read` folds to its last two bytes and its
    // first two. A first load warms DS's fast ends so that every load
    // after it tries the direct path.
    let mut mem = FlatBus::new(0x20_0000);
    for (k, b) in mem.mem.iter_mut().enumerate() {
        *b = (k as u8) ^ (k >> 8) as u8 ^ 0x5A;
    }
    let byte = |mem: &FlatBus, a: usize| mem.mem[a % mem.mem.len()];
    let dword = |mem: &FlatBus, a: usize| {
        u32::from_le_bytes([0, 1, 2, 3].map(|k| {
            let x = a.wrapping_add(k) & 0xFFFF_FFFF;
            if (0xA_0000..0x10_0000).contains(&x) {
                0xEE
            } else {
                byte(mem, x)
            }
        }))
    };
    let expect = [
        dword(&mem, 0x9_FFFE),
        dword(&mem, 0xF_FFFE),
        dword(&mem, 0x9_FFFC),
        dword(&mem, 0x10_0000),
        dword(&mem, 0x5FFE),
        dword(&mem, 0xFFFF_FFFE),
    ];
    assert_eq!(expect[0] >> 16, 0xEEEE);
    assert_eq!(expect[1] & 0xFFFF, 0xEEEE);
    mem.load(
        0x3000,
        &[
            0x8B, 0x3D, 0, 0, 0, 0, // mov edi, [0]
            0x8B, 0x05, 0xFE, 0xFF, 0x09, 0, // mov eax, [9FFFEh]
            0x8B, 0x1D, 0xFE, 0xFF, 0x0F, 0, // mov ebx, [0FFFFEh]
            0x8B, 0x0D, 0xFC, 0xFF, 0x09, 0, // mov ecx, [9FFFCh]
            0x8B, 0x15, 0, 0, 0x10, 0, // mov edx, [100000h]
            0x8B, 0x35, 0xFE, 0x5F, 0, 0, // mov esi, [5FFEh]
            0x64, 0x8B, 0x2D, 0, 0, 0, 0, // mov ebp, fs:[0]
            0x64, 0x8B, 0x2D, 0xFE, 0x0F, 0, 0,    // mov ebp, fs:[0FFEh]
            0xF4, // hlt
        ],
    );
    let mut b = HoleBus(mem);
    let mut c = flat32(Model32::I80486);
    c.seg[FS].base = 0xFFFF_F000;
    c.eip = 0x3000;
    assert_eq!(c.run(&mut b, 100), StepResult32::Halted, "EIP {:#x}", c.eip);
    let got = [c.r[0], c.r[3], c.r[1], c.r[2], c.r[6], c.r[5]];
    assert_eq!(got, expect, "{got:08x?} against {expect:08x?}");
}

#[test]
fn a_286_address_above_16_mib_wraps_to_the_bottom_with_the_direct_path_on() {
    // The 286 drives 24 address lines: linear 1000010h is physical 10h.
    // DS's base FFFFF0h (a descriptor cache loaded that way) and offset
    // 20h give linear 1000010h; the bus has 32 MiB, so RAM exists at
    // both 10h and 1000010h and only the wrap decides which is read. A
    // first load warms DS's fast ends.
    let mut b = TrustBus(FlatBus::new(0x200_0000));
    b.0.load(0x10, &[0x34, 0x12]);
    b.0.load(0x100_0010, &[0x78, 0x56]);
    b.0.load(0x100, &[0xA1, 0, 0, 0xA1, 0x20, 0, 0xF4]); // mov ax,[0]; mov ax,[20h]; hlt
    let mut c = Cpu32::new(Model32::I80286);
    c.seg[CS].base = 0;
    c.seg[CS].sel = 0;
    c.seg[DS].base = 0xFF_FFF0;
    c.eip = 0x100;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.r[0] & 0xFFFF, 0x1234);
}

#[test]
fn a_store_across_a_page_boundary_into_cached_code_runs_the_new_code() {
    // Paging off: a dword stored at 2FFEh reaches 3000h–3001h, the first
    // two bytes of the code (MOV EAX, 1 at 3000h becomes MOV EAX, 7). The
    // store's first page holds no code near it (line 60 only), so only the
    // record of its bytes on the second page (taken the whole way) or the
    // mark the code on line 0 of 3000h's page puts on line 63 of the page
    // before (the direct path, where a store may cross a page) makes the
    // CPU look at the code again. The loop runs the MOV four
    // times and stores on the third pass, once the MOV's bytes are trusted.
    let mut b = bus();
    b.0.load(
        0x3000,
        &[
            0xB8, 1, 0, 0, 0,    // 3000: mov eax, 1
            0x43, // 3005: inc ebx
            0x83, 0xFB, 0x04, // 3006: cmp ebx, 4
            0x74, 0x11, // 3009: je 301Ch
            0x83, 0xFB, 0x03, // 300B: cmp ebx, 3
            0x75, 0x0A, // 300E: jne 301Ah
            0xC7, 0x05, 0xFE, 0x2F, 0, 0, 0, 0, 0xB8, 7, // 3010: mov dword [2FFEh], 07B80000h
            0xEB, 0xE4, // 301A: jmp 3000h
            0xF4, // 301C: hlt
        ],
    );
    // A warm-up load first, so that DS's fast ends are set for the store.
    b.0.load(0x2F00, &[0x8B, 0x0D, 0, 0, 0, 0, 0xE9, 0xF5, 0x00, 0, 0]); // mov ecx,[0]; jmp 3000h
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2F00;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!((c.r[0], c.r[3]), (7, 4));
}

#[test]
fn linear_page_0_goes_through_the_page_tables_before_and_after_a_flush() {
    // Linear page 0 mapped to physical 20000h: the first load of [0] must
    // walk (a TLB entry that maps nothing must never pass for page 0's)
    // and set A in the PTE; after the PTE is pointed at 21000h and CR3
    // reloaded (a flush, SDM vol. 3, 4.10.4.1), the next load of [0]
    // must walk again and read physical 21000h.
    let mut b = bus();
    b.0.load(0x1000, &(0x2000u32 | 3).to_le_bytes());
    for n in 0..0x40u32 {
        let page = if n == 0 { 0x20 } else { n };
        b.0.load(0x2000 + 4 * n, &((page << 12) | 3).to_le_bytes());
    }
    b.0.load(0x0, &0x0BAD_0BADu32.to_le_bytes());
    b.0.load(0x2_0000, &0x2000_0020u32.to_le_bytes());
    b.0.load(0x2_1000, &0x2100_0021u32.to_le_bytes());
    b.0.load(
        0x3000,
        &[
            0x8B, 0x35, 0, 0x40, 0, 0, // mov esi, [4000h] (warms DS's fast ends)
            0x8B, 0x05, 0, 0, 0, 0, // mov eax, [0]
            0xC7, 0x05, 0, 0x20, 0, 0, 0x03, 0x10, 0x02, 0, // mov dword [2000h], 21003h
            0x0F, 0x20, 0xDA, // mov edx, cr3
            0x0F, 0x22, 0xDA, // mov cr3, edx
            0x8B, 0x0D, 0, 0, 0, 0,    // mov ecx, [0]
            0xF4, // hlt
        ],
    );
    let mut c = flat32(Model32::I80486);
    c.cr[3] = 0x1000;
    c.cr[0] |= 0x8000_0000;
    c.eip = 0x3000;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.r[0], 0x2000_0020);
    assert_eq!(c.r[1], 0x2100_0021);
    assert_eq!(b.0.mem[0x2000] & 0x20, 0x20, "A set in the new PTE");
}

#[test]
fn an_access_crossing_into_a_page_mapped_to_physical_page_0_uses_that_page() {
    // Linear 5000h maps to physical 7000h and linear 6000h to physical
    // page 0. A dword at linear 5FFEh is bytes 7FFEh, 7FFFh, 0h and 1h
    // (SDM vol. 3, 4.3: each linear page translates on its own), for a
    // load and for a store; none of it may touch 8000h, which follows
    // 7FFFh physically. (The page split once took a second page at 0 for
    // "no second page" and went on at 8000h.)
    let mut b = bus();
    b.0.load(0x1000, &(0x2000u32 | 3).to_le_bytes());
    for n in 0..0x40u32 {
        let page = match n {
            5 => 7,
            6 => 0,
            _ => n,
        };
        b.0.load(0x2000 + 4 * n, &((page << 12) | 3).to_le_bytes());
    }
    b.0.load(0x7FFE, &[0xAA, 0xBB]);
    b.0.load(0x0, &[0xCC, 0xDD]);
    b.0.load(0x8000, &[0xEE, 0xEE]);
    b.0.load(
        0x3000,
        &[
            0x8B, 0x35, 0, 0x40, 0, 0, // mov esi, [4000h] (warms DS's fast ends)
            0x8B, 0x05, 0xFE, 0x5F, 0, 0, // mov eax, [5FFEh]
            0x89, 0x1D, 0xFE, 0x5F, 0, 0,    // mov [5FFEh], ebx
            0xF4, // hlt
        ],
    );
    let mut c = flat32(Model32::I80486);
    c.cr[3] = 0x1000;
    c.cr[0] |= 0x8000_0000;
    c.r[3] = 0x4433_2211;
    c.eip = 0x3000;
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!(c.r[0], 0xDDCC_BBAA);
    assert_eq!(&b.0.mem[0x7FFE..0x8000], &[0x11, 0x22]);
    assert_eq!(&b.0.mem[0..2], &[0x33, 0x44]);
    assert_eq!(&b.0.mem[0x8000..0x8002], &[0xEE, 0xEE]);
}

#[test]
fn sixteen_bit_addresses_wrap_at_64_kib() {
    // Real mode, DS = SS = 1000h (base 10000h): [BX+SI+2] with BX = SI =
    // FFFFh is offset (1FFFFh + 1) mod 10000h = 0, and [BP+DI-2] with BP
    // = FFFFh, DI = 5 is offset 2 (SDM vol. 2, 2.1.5: 16-bit effective
    // addresses are computed modulo 64 KiB), so both read at 10000h and
    // not at 20000h. A first load warms DS's and SS's fast ends.
    let mut b = bus();
    b.0.load(0x1_0000, &[0x11, 0x22, 0x33, 0x44]);
    b.0.load(0x2_0000, &[0xAA, 0xBB, 0xCC, 0xDD]);
    b.0.load(
        0x100,
        &[
            0xA1, 0, 0, // mov ax, [0]
            0x8B, 0x56, 0xFF, // mov dx, [bp-1]
            0x8B, 0x40, 0x02, // mov ax, [bx+si+2]
            0x8B, 0x4B, 0xFE, // mov cx, [bp+di-2]
            0xF4, // hlt
        ],
    );
    let mut c = Cpu32::new(Model32::I80386);
    c.seg[CS].base = 0;
    c.seg[CS].sel = 0;
    for s in [DS, SS] {
        c.seg[s].base = 0x1_0000;
        c.seg[s].sel = 0x1000;
    }
    c.eip = 0x100;
    (c.r[3], c.r[6], c.r[5], c.r[7]) = (0xFFFF, 0xFFFF, 0xFFFF, 5);
    assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted);
    assert_eq!((c.r[0] & 0xFFFF, c.r[1] & 0xFFFF), (0x2211, 0x4433));
}

#[test]
fn a_flat_segments_access_wrapping_at_4_gib_is_a_general_protection_fault() {
    // Flat DS (base 0, limit FFFFFFFFh): the direct path skips its limit
    // compare (`mem::MODE_SEG`), which only an access wrapping at 4 GiB
    // could fail. A dword at FFFFFFFEh runs past the limit: #GP(0) (SDM
    // vol. 3, 5.3), not the bytes at FFFFFFFEh, 0 and 1, with paging off
    // and on, read and written, after a loop has warmed the fast ends.
    for paging in [false, true] {
        for store in [false, true] {
            let mut b = bus();
            let mut c = if paging {
                paged(&mut b)
            } else {
                flat32(Model32::I80486)
            };
            small_gdt(&mut b, 0x3000);
            c.gdtr = (0x3000, 0x1F);
            // Vector 13: a 32-bit interrupt gate to 08h:4100h (HLT).
            b.0.load(0x3168, &[0x00, 0x41, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00]);
            c.idtr = (0x3100, 0xFF);
            b.0.load(0x4100, &[0xF4]);
            b.0.load(0, &[0x11, 0x22]);
            let last = if store { [0x89, 0x16] } else { [0x8B, 0x16] };
            b.0.load(
                0x4000,
                &[
                    0xB9, 5, 0, 0, 0, // 4000: mov ecx, 5
                    0x8B, 0x03, // 4005: mov eax, [ebx]
                    0x89, 0x43, 0x04, // 4007: mov [ebx+4], eax
                    0x49, // 400A: dec ecx
                    0x75, 0xF8, // 400B: jnz 4005
                    last[0], last[1], // 400D: mov edx, [esi] / mov [esi], edx
                    0xF4,    // 400F: hlt
                ],
            );
            c.eip = 0x4000;
            (c.r[2], c.r[3], c.r[6]) = (0xCAFE_F00D, 0x5000, 0xFFFF_FFFE);
            let what = format!("paging {paging}, store {store}");
            assert_eq!(run_to_end(&mut c, &mut b), StepResult32::Halted, "{what}");
            assert_eq!(c.eip, 0x4101, "vector 13's handler ran: {what}");
            assert_eq!(
                b.0.mem[0x7FF0..0x7FF8],
                [0, 0, 0, 0, 0x0D, 0x40, 0, 0],
                "{what}"
            );
            assert_eq!(c.r[2], 0xCAFE_F00D, "{what}");
            assert_eq!(b.0.mem[0..2], [0x11, 0x22], "{what}");
        }
    }
}

/// The offset of a ModR/M (and SIB) memory operand worked out from the
/// bytes by the manual's tables, independently of the decoder.
fn reference_ea(r: &[u32; 8], a32: bool, modrm: u8, sib: u8, disp: u32) -> u32 {
    let (md, rm) = (modrm >> 6, modrm & 7);
    if !a32 {
        let pair = |x: usize, y: Option<usize>| r[x].wrapping_add(y.map_or(0, |y| r[y]));
        let regs = match rm {
            0 => pair(3, Some(6)),
            1 => pair(3, Some(7)),
            2 => pair(5, Some(6)),
            3 => pair(5, Some(7)),
            4 => pair(6, None),
            5 => pair(7, None),
            6 => pair(5, None),
            _ => pair(3, None),
        };
        let d = match md {
            0 => 0,
            1 => disp as u8 as i8 as u32,
            _ => disp & 0xFFFF,
        };
        if md == 0 && rm == 6 {
            return disp & 0xFFFF;
        }
        return regs.wrapping_add(d) & 0xFFFF;
    }
    let d = match md {
        1 => disp as u8 as i8 as u32,
        2 => disp,
        _ => 0,
    };
    if rm == 4 {
        let (base, idx, sc) = (sib & 7, (sib >> 3) & 7, sib >> 6);
        let b = if base == 5 && md == 0 {
            disp
        } else {
            r[base as usize]
        };
        let x = if idx == 4 { 0 } else { r[idx as usize] << sc };
        b.wrapping_add(x).wrapping_add(d)
    } else if rm == 5 && md == 0 {
        disp
    } else {
        r[rm as usize].wrapping_add(d)
    }
}

#[test]
fn ea_agrees_with_the_manuals_tables_on_every_address_form() {
    // Every ModR/M memory form in both address sizes, and every SIB byte:
    // `ea`'s one-test case (a 32-bit base plus displacement) must be taken
    // only where the address is that and nothing else.
    let mut rng = super::tests_fetch::Rng(0x9E37_79B9_7F4A_7C15);
    let mut forms = Vec::new();
    for a32 in [true, false] {
        for modrm in (0u8..=0xBF).filter(|m| m & 0x38 == 0) {
            if a32 && modrm & 7 == 4 {
                for sib in 0..=255u8 {
                    forms.push((a32, modrm, sib));
                }
            } else {
                forms.push((a32, modrm, 0));
            }
        }
    }
    for (a32, modrm, sib) in forms {
        let mut b = bus();
        let mut c = flat32(Model32::I80486);
        c.set_decode_cache(false);
        for n in 0..8 {
            c.r[n] = rng.u32();
        }
        let disp = rng.u32();
        let mut code = Vec::new();
        if !a32 {
            code.push(0x67);
        }
        code.extend([0x8B, modrm]);
        if a32 && modrm & 7 == 4 {
            code.push(sib);
        }
        code.extend(disp.to_le_bytes());
        b.0.load(0x1000, &code);
        c.eip = 0x1000;
        let i = c.decode(&mut b, true).expect("decodes");
        assert_eq!(
            c.ea(&i),
            reference_ea(&c.r, a32, modrm, sib, disp),
            "a32 {a32} modrm {modrm:02X} sib {sib:02X} base {:02X}",
            i.base
        );
    }
}

#[test]
fn push_and_pop_on_a_16_bit_stack_wrap_sp_and_keep_esps_high_half() {
    // `push`/`pop` test the stack's size once: on a 16-bit stack (SS.B
    // clear) SP wraps at 64 KiB and ESP's high half stays; on a 32-bit one
    // ESP moves whole.
    for big in [false, true] {
        let mut b = bus();
        let mut c = flat32(Model32::I80486);
        c.seg[SS].attr = if big { 0xC093 } else { 0x0093 };
        c.seg[SS].limit = if big { 0xFFFF_FFFF } else { 0xFFFF };
        c.seg[SS].base = 0x2_0000;
        c.r[4] = if big { 0x0000_1000 } else { 0x1234_0004 };
        // push eax; push ebx; pop ecx; pop edx; push si (o16); hlt
        b.0.load(0x1000, &[0x50, 0x53, 0x59, 0x5A, 0x66, 0x56, 0xF4]);
        c.r[0] = 0xAABB_CCDD;
        c.r[3] = 0x1122_3344;
        c.r[6] = 0x5566;
        c.eip = 0x1000;
        run_to_end(&mut c, &mut b);
        assert_eq!((c.r[1], c.r[2]), (0x1122_3344, 0xAABB_CCDD), "big {big}");
        let (esp, second, word) = if big {
            (0x0000_0FFE, 0x2_0FF8, 0x2_0FFE)
        } else {
            // The second push wraps SP from 0000 to FFFC.
            (0x1234_0002, 0x2_FFFC, 0x2_0002)
        };
        assert_eq!(c.r[4], esp, "big {big}");
        assert_eq!(&b.0.mem[second..second + 4], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&b.0.mem[word..word + 2], &[0x66, 0x55]);
    }
}
