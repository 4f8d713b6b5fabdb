//! The fast timing model's per-form clocks (`clocks.rs`): short programs
//! whose clock sums are worked out by hand from the Intel tables in each
//! test's comment (386: 80386 Programmer's Reference Manual; 486: i486
//! Programmer's Reference Manual), on both the specialised forms and the
//! general path.

use super::tests::flat_pm_model;
use super::*;
use crate::FlatBus;

/// Real mode, every segment at 0, SP = 8000h, code at 0500h.
fn real(model: Model32, bus: &mut FlatBus, code: &[u8]) -> Cpu32 {
    bus.load(0x500, code);
    let mut c = Cpu32::new(model);
    for s in 0..6 {
        c.seg[s] = SegCache::real(0);
    }
    c.seg[CS].attr = 0x9B;
    c.r[4] = 0x8000;
    c.eip = 0x500;
    c
}

/// The clocks `n` steps take, with the specialised forms on and off (both
/// must charge the same).
fn clocks_of(model: Model32, n: usize, setup: impl Fn(Model32, &mut FlatBus) -> Cpu32) -> u64 {
    let mut seen = None;
    for forms in [true, false] {
        let mut bus = FlatBus::new(0x10000);
        let mut c = setup(model, &mut bus);
        c.set_forms(forms);
        let t0 = c.cycles();
        for _ in 0..n {
            assert_eq!(c.step(&mut bus), StepResult32::Executed);
        }
        let t = c.cycles() - t0;
        if let Some(s) = seen {
            assert_eq!(t, s, "{model:?}: forms and the general path differ");
        }
        seen = Some(t);
    }
    seen.unwrap()
}

#[test]
fn register_and_memory_forms_take_their_own_counts() {
    // add ax,bx; add [bx],ax; add ax,[bx]; cmp [bx],ax; mov ax,[bx]; mov [bx],ax
    //   386: 2 + 7 + 6 + 5 + 4 + 2 = 26 (ADD r/m,r 2/7, r,r/m 2/6, CMP r/m,r
    //        2/5, MOV r,r/m 2/4, MOV r/m,r 2/2)
    //   486: 1 + 3 + 2 + 2 + 1 + 1 = 10 (1/3, 1/2, 1/2, 1/1, 1/1)
    let code = [
        0x01, 0xD8, 0x01, 0x07, 0x03, 0x07, 0x39, 0x07, 0x8B, 0x07, 0x89, 0x07,
    ];
    let setup = |m, bus: &mut FlatBus| {
        let mut c = real(m, bus, &code);
        c.r[3] = 0x2000;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 6, setup), 26);
    assert_eq!(clocks_of(Model32::I80486, 6, setup), 10);
}

#[test]
fn a_loop_charges_taken_and_the_final_not_taken_branch() {
    // mov cx,3; L: dec ax; loop L — LOOP taken twice, then falls through.
    //   386: MOV 2 + 3 × DEC 2 + 2 × LOOP taken (11+m, m = 2: 13) + LOOP not
    //        taken (11: the manual gives no separate figure) = 2+6+26+11 = 45
    //   486: 1 + 3 × 1 + 2 × 7 (taken) + 6 (not taken) = 24
    let code = [0xB9, 3, 0, 0x48, 0xE2, 0xFD];
    let setup = |m, bus: &mut FlatBus| real(m, bus, &code);
    assert_eq!(clocks_of(Model32::I80386, 7, setup), 45);
    assert_eq!(clocks_of(Model32::I80486, 7, setup), 24);
    //   Pentium (LOOP 5 no jump / 6 jump): 1 + 3 × 1 + 2 × 6 + 5 = 21, and
    //   the P6 is charged the Pentium's.
    assert_eq!(clocks_of(Model32::Pentium, 7, setup), 21);
    assert_eq!(clocks_of(Model32::PentiumPro, 7, setup), 21);
    // mov cx,2; L: dec cx; jnz L — JNZ taken once, then not taken.
    //   386: 2 + 2 × 2 + Jcc taken (7+m = 9) + not taken 3 = 18
    //   486: 1 + 2 × 1 + taken 3 + not taken 1 = 7
    let code = [0xB9, 2, 0, 0x49, 0x75, 0xFD];
    let setup = |m, bus: &mut FlatBus| real(m, bus, &code);
    assert_eq!(clocks_of(Model32::I80386, 5, setup), 18);
    assert_eq!(clocks_of(Model32::I80486, 5, setup), 7);
    // jcxz with CX = 0 (taken) then with CX = 1 (not taken):
    //   mov cx,0 / jcxz +0 / inc cx / jcxz +0
    //   386: 2 + (9+m = 11) + 2 + 5 = 20; 486: 1 + 8 + 1 + 5 = 15
    let code = [0xB9, 0, 0, 0xE3, 0x00, 0x41, 0xE3, 0x00];
    let setup = |m, bus: &mut FlatBus| real(m, bus, &code);
    assert_eq!(clocks_of(Model32::I80386, 4, setup), 20);
    assert_eq!(clocks_of(Model32::I80486, 4, setup), 15);
}

#[test]
fn rep_movsd_charges_its_fixed_part_and_each_element() {
    // rep movsd (F3 66 A5) with CX = 10 in 16-bit real mode.
    //   386: 7 + 4n = 47 (REP MOVS 7+4n)
    //   486: 12 + 3n = 42 (REP MOVS 12+3n, n > 1)
    let code = [0xF3, 0x66, 0xA5];
    let setup = |m, bus: &mut FlatBus| {
        let mut c = real(m, bus, &code);
        c.r[1] = 10;
        c.r[6] = 0x1000;
        c.r[7] = 0x2000;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 47);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 42);
    // REP STOSB, CX = 4: 386 5 + 5n = 25; 486 7 + 4n = 23.
    let code = [0xF3, 0xAA];
    let setup = |m, bus: &mut FlatBus| {
        let mut c = real(m, bus, &code);
        c.r[1] = 4;
        c.r[7] = 0x2000;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 25);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 23);
}

#[test]
fn mul_takes_the_early_out_count_of_its_multiplier() {
    // 386 rule: max(ceiling(log2 |m|), 3) + 6 clocks, 9 for m = 0, +3 for a
    // memory operand (the 12-17 / 12-25 / 12-41 forms); the 486's 13-18 /
    // 13-26 / 13-42 ranges are the same rule 4 clocks up, memory alike.
    // (multiplier, code, 386, 486)
    let cases: [(u32, &[u8], u64, u64); 7] = [
        // mul bx, BX = 5: ceil(log2 5) = 3 → 9; 486 13.
        (5, &[0xF7, 0xE3], 9, 13),
        // mul bx, BX = 0: 9; 486 13.
        (0, &[0xF7, 0xE3], 9, 13),
        // mul bx, BX = 8001h: ceil(log2 32769) = 16 → 22; 486 26.
        (0x8001, &[0xF7, 0xE3], 22, 26),
        // mul ebx, EBX = FFFFFFFFh: 32 → 38; 486 42.
        (0xFFFF_FFFF, &[0x66, 0xF7, 0xE3], 38, 42),
        // imul bx, BX = -3: |m| = 3, ceil(log2 3) = 2 → 9; 486 13.
        (0xFFFD, &[0xF7, 0xEB], 9, 13),
        // mul byte bl, BL = 200: ceil(log2 200) = 8 → 14; 486 18.
        (200, &[0xF6, 0xE3], 14, 18),
        // imul ax,bx (0F AF C3), BX = 1000: ceil(log2 1000) = 10 → 16; 486 20.
        (1000, &[0x0F, 0xAF, 0xC3], 16, 20),
    ];
    for (m, code, c386, c486) in cases {
        let setup = |model, bus: &mut FlatBus| {
            let mut c = real(model, bus, code);
            c.r[0] = 7;
            c.r[3] = m;
            c
        };
        assert_eq!(clocks_of(Model32::I80386, 1, setup), c386, "m = {m:#x}");
        assert_eq!(clocks_of(Model32::I80486, 1, setup), c486, "m = {m:#x}");
    }
    // mul word [si], [si] = 0100h: 386 8 + 6 + 3 = 17; 486 13 + 5 = 18.
    let setup = |model, bus: &mut FlatBus| {
        let mut c = real(model, bus, &[0xF7, 0x24]);
        bus.load(0x3000, &[0x00, 0x01]);
        c.r[6] = 0x3000;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 17);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 18);
    // IMUL r,r/m,imm8 takes the immediate as the multiplier: imul ax,bx,100
    // (6B C3 64): ceil(log2 100) = 7 → 13; 486 17.
    let setup = |model, bus: &mut FlatBus| {
        let mut c = real(model, bus, &[0x6B, 0xC3, 100]);
        c.r[3] = 0xFFFF;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 13);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 17);
}

/// Flat 32-bit protected mode at CPL 0 with a 386 call gate at 18h to
/// 08:3000h and an interrupt gate for vector 30h to 08:4000h.
fn pm_gates(model: Model32, bus: &mut FlatBus, code: &[u8]) -> Cpu32 {
    let mut c = flat_pm_model(model, bus);
    // Call gate: offset 3000h, selector 08h, no parameters, P DPL 0 type 12.
    bus.load(0x1018, &[0x00, 0x30, 0x08, 0x00, 0x00, 0x8C, 0x00, 0x00]);
    // Interrupt gate (type 14) for vector 30h at IDT 2000h.
    bus.load(
        0x2000 + 0x30 * 8,
        &[0x00, 0x40, 0x08, 0x00, 0x00, 0x8E, 0x00, 0x00],
    );
    c.idtr = (0x2000, 0x1FF);
    c.r[4] = 0x8000;
    bus.load(0x500, code);
    c.eip = 0x500;
    c
}

#[test]
fn protected_mode_far_transfers_take_their_own_counts() {
    // call far 0018:0 (through the call gate, same privilege), then RETF at
    // the target (protected mode, same privilege):
    //   386: CALL gate same privilege 52+m (54) + RET far pm 32+m (34) = 88
    //   486: 35 + 18 = 53
    let setup = |m, bus: &mut FlatBus| {
        let c = pm_gates(m, bus, &[0x9A, 0, 0, 0, 0, 0x18, 0x00]);
        bus.load(0x3000, &[0xCB]);
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 2, setup), 88);
    assert_eq!(clocks_of(Model32::I80486, 2, setup), 53);
    // call far 0008:3000 (to the code segment itself), RETF:
    //   386: 34+m (36) + 34 = 70; 486: 20 + 18 = 38
    let setup = |m, bus: &mut FlatBus| {
        let c = pm_gates(m, bus, &[0x9A, 0, 0x30, 0, 0, 0x08, 0x00]);
        bus.load(0x3000, &[0xCB]);
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 2, setup), 70);
    assert_eq!(clocks_of(Model32::I80486, 2, setup), 38);
    // INT 30h through the interrupt gate (same privilege), IRETD:
    //   386: 59 + 38 = 97; 486: 44 + 15 = 59
    let setup = |m, bus: &mut FlatBus| {
        let c = pm_gates(m, bus, &[0xCD, 0x30]);
        bus.load(0x4000, &[0xCF]);
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 2, setup), 97);
    assert_eq!(clocks_of(Model32::I80486, 2, setup), 59);
    // The same far call in real mode: 386 17+m (19) + RETF 18+m (20) = 39;
    // 486 18 + 13 = 31.
    let setup = |m, bus: &mut FlatBus| {
        let c = real(m, bus, &[0x9A, 0x00, 0x30, 0x00, 0x00]);
        bus.load(0x3000, &[0xCB]);
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 2, setup), 39);
    assert_eq!(clocks_of(Model32::I80486, 2, setup), 31);
}

#[test]
fn segment_loads_cost_more_in_protected_mode() {
    // mov ds,ax: 386 real 2, pm 18; 486 real 3, pm 9.
    let code = [0x8E, 0xD8];
    let setup = |m, bus: &mut FlatBus| {
        let mut c = real(m, bus, &code);
        c.r[0] = 0x40;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 2);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 3);
    let setup = |m, bus: &mut FlatBus| {
        let mut c = pm_gates(m, bus, &code);
        c.r[0] = 0x10;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 18);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 9);
}

#[test]
fn enter_counts_its_nesting_level() {
    // enter 8,L in real mode: 386 10 (L=0), 12 (L=1), 15+4(L-1) (L=3: 23);
    // 486 14, 17, 17+3L (26).
    for (l, c386, c486) in [(0u8, 10, 14), (1, 12, 17), (3, 23, 26)] {
        let code = [0xC8, 8, 0, l];
        let setup = |m, bus: &mut FlatBus| {
            let mut c = real(m, bus, &code);
            c.r[5] = 0x7000;
            c
        };
        assert_eq!(clocks_of(Model32::I80386, 1, setup), c386, "L={l}");
        assert_eq!(clocks_of(Model32::I80486, 1, setup), c486, "L={l}");
    }
}

/// The ia32 core's 80286 model charges the 286 column: the iAPX 286
/// Programmer's Reference Manual's real-address counts (m, the bytes of the
/// next instruction, charged as 2 like the 386's), and its protected-mode
/// counts for segment loads and far transfers.
#[test]
fn the_286_charges_the_286_manuals_counts() {
    let m286 = Model32::I80286;
    // add ax,bx 2; add [bx],ax 7; add ax,[bx] 7; cmp ax,[bx] 6; mov ax,[bx]
    // 5; mov [bx],ax 3; pop bx 5; push bx 3: 38 (the 386 charges 2+7+6+6+4+
    // 2+4+2 = 33).
    let code = [
        0x01, 0xD8, 0x01, 0x07, 0x03, 0x07, 0x3B, 0x07, 0x8B, 0x07, 0x89, 0x07, 0x5B, 0x53,
    ];
    let setup = |m, bus: &mut FlatBus| {
        let mut c = real(m, bus, &code);
        c.r[3] = 0x2000;
        c
    };
    assert_eq!(clocks_of(m286, 8, setup), 38);
    assert_eq!(clocks_of(Model32::I80386, 8, setup), 33);
    // mov cx,3 (2); L: dec ax (2); loop L: taken 8+m (10) twice, then not
    // taken 4: 2 + 3 × 2 + 20 + 4 = 32.
    let setup = |m, bus: &mut FlatBus| real(m, bus, &[0xB9, 3, 0, 0x48, 0xE2, 0xFD]);
    assert_eq!(clocks_of(m286, 7, setup), 32);
    // mov cx,2; L: dec cx; jnz L: 2 + 2 × 2 + taken 7+m (9) + not taken 3 = 18.
    let setup = |m, bus: &mut FlatBus| real(m, bus, &[0xB9, 2, 0, 0x49, 0x75, 0xFD]);
    assert_eq!(clocks_of(m286, 5, setup), 18);
    // rep movsw with CX = 10: 5+4n = 45; rep stosb with CX = 4: 4+3n = 16.
    for (code, cx, want) in [([0xF3, 0xA5], 10, 45), ([0xF3, 0xAA], 4, 16)] {
        let setup = |m, bus: &mut FlatBus| {
            let mut c = real(m, bus, &code);
            c.r[1] = cx;
            c.r[6] = 0x2000;
            c.r[7] = 0x3000;
            c
        };
        assert_eq!(clocks_of(m286, 1, setup), want, "{code:x?}");
    }
    // mul bx 21 and mul byte [bx] 16, whatever the multiplier (the 286 has
    // no early out); enter 8,0 11, enter 8,1 15, enter 8,3 12+4(3-1) = 20.
    let setup = |m, bus: &mut FlatBus| {
        let mut c = real(m, bus, &[0xF7, 0xE3, 0xF6, 0x27]);
        c.r[3] = 0x2000;
        c
    };
    assert_eq!(clocks_of(m286, 2, setup), 21 + 16);
    for (l, want) in [(0u8, 11), (1, 15), (3, 20)] {
        let code = [0xC8, 8, 0, l];
        let setup = |m, bus: &mut FlatBus| {
            let mut c = real(m, bus, &code);
            c.r[5] = 0x7000;
            c
        };
        assert_eq!(clocks_of(m286, 1, setup), want, "L={l}");
    }
    // into with OF set: 24+m = 26; clear 3.
    for (of, want) in [(true, 26), (false, 3)] {
        let setup = |m, bus: &mut FlatBus| {
            bus.load(0x10, &[0x00, 0x06, 0x00, 0x00]);
            let mut c = real(m, bus, &[0xCE]);
            if of {
                c.eflags |= OF;
            }
            c
        };
        assert_eq!(clocks_of(m286, 1, setup), want, "OF {of}");
    }
    // call far 0:3000, retf: 13+m (15) + 15+m (17) = 32 in real mode.
    let setup = |m, bus: &mut FlatBus| {
        let c = real(m, bus, &[0x9A, 0x00, 0x30, 0x00, 0x00]);
        bus.load(0x3000, &[0xCB]);
        c
    };
    assert_eq!(clocks_of(m286, 2, setup), 32);
    // Protected mode: mov ds,ax 17; call far 0008:3000 to the code segment
    // 26+m (28) and retf 25+m (27): 55; call far 0018:0 through the call
    // gate, same privilege, 41+m (43), and retf: 70.
    let pm_gates = |m, bus: &mut FlatBus, code: &[u8]| {
        let mut c = pm_gates(m, bus, code);
        // 16-bit segments and a 286 call gate (type 4) for the 286.
        bus.load(0x1008, &super::tests::desc(0, 0xFFFF, 0x9B, 0));
        bus.load(0x1010, &super::tests::desc(0, 0xFFFF, 0x93, 0));
        bus.load(0x1018, &[0x00, 0x30, 0x08, 0x00, 0x00, 0x84, 0x00, 0x00]);
        for s in 0..6 {
            c.seg[s].limit = 0xFFFF;
            c.seg[s].attr &= 0xFF;
        }
        c
    };
    let setup = |m, bus: &mut FlatBus| {
        let mut c = pm_gates(m, bus, &[0x8E, 0xD8]);
        c.r[0] = 0x10;
        c
    };
    assert_eq!(clocks_of(m286, 1, setup), 17);
    let setup = |m, bus: &mut FlatBus| {
        let c = pm_gates(m, bus, &[0x9A, 0, 0x30, 0x08, 0x00]);
        bus.load(0x3000, &[0xCB]);
        c
    };
    assert_eq!(clocks_of(m286, 2, setup), 55);
    let setup = |m, bus: &mut FlatBus| {
        let c = pm_gates(m, bus, &[0x9A, 0, 0, 0x18, 0x00]);
        bus.load(0x3000, &[0xCB]);
        c
    };
    assert_eq!(clocks_of(m286, 2, setup), 70);
}

#[test]
fn mended_rows_take_the_published_counts() {
    // JMP FAR [bx] (m16:16) in real mode: 386 12+m (m = 2: 14; the table's
    // row, and the norton-guides' 386 figure; clocks.rs charged 17+m), 486
    // 13, Pentium 4.
    let setup = |m, bus: &mut FlatBus| {
        bus.load(0x2000, &[0x00, 0x06, 0x00, 0x00]);
        let mut c = real(m, bus, &[0xFF, 0x2F]);
        c.r[3] = 0x2000;
        c
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 14);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 13);
    assert_eq!(clocks_of(Model32::Pentium, 1, setup), 4);
    // pop bx; pop ebx: 386 4 each, 486 4 each (the published figure; the
    // row said 1), Pentium 1 each.
    let setup = |m, bus: &mut FlatBus| real(m, bus, &[0x5B, 0x66, 0x5B]);
    assert_eq!(clocks_of(Model32::I80386, 2, setup), 8);
    assert_eq!(clocks_of(Model32::I80486, 2, setup), 8);
    assert_eq!(clocks_of(Model32::Pentium, 2, setup), 2);
    // retf 4 to 0:0600: 386 18+m = 20, 486 14 (the row said 13, RETF
    // without an immediate's count), Pentium 4.
    let setup = |m, bus: &mut FlatBus| {
        bus.load(0x8000, &[0x00, 0x06, 0x00, 0x00]);
        real(m, bus, &[0xCA, 0x04, 0x00])
    };
    assert_eq!(clocks_of(Model32::I80386, 1, setup), 20);
    assert_eq!(clocks_of(Model32::I80486, 1, setup), 14);
    assert_eq!(clocks_of(Model32::Pentium, 1, setup), 4);
    // into with OF set, in real mode (vector 4 at 0:0010): 386 35, 486 28,
    // Pentium 13; with OF clear 3, 3, 4.
    for (of, c386, c486, p5) in [(true, 35, 28, 13), (false, 3, 3, 4)] {
        let setup = |m, bus: &mut FlatBus| {
            bus.load(0x10, &[0x00, 0x06, 0x00, 0x00]);
            let mut c = real(m, bus, &[0xCE]);
            if of {
                c.eflags |= OF;
            }
            c
        };
        assert_eq!(clocks_of(Model32::I80386, 1, setup), c386, "OF {of}");
        assert_eq!(clocks_of(Model32::I80486, 1, setup), c486, "OF {of}");
        assert_eq!(clocks_of(Model32::Pentium, 1, setup), p5, "OF {of}");
    }
}

/// The decoder keeps a taken branch's extra clocks in the 16-bit `imm2`
/// and the handler adds it unsigned: every model's taken count must be at
/// least its not-taken count (the manuals' tables: 386 Jcc 7+m against 3,
/// 486 3 against 1, Pentium 1 against 1; LOOP and JCXZ likewise), and the
/// opcodes without a taken count must have none.
#[test]
fn a_taken_branch_never_costs_less_than_a_fall_through() {
    use super::clocks::taken_delta;
    for model in [
        Model32::I80286,
        Model32::I80386,
        Model32::I80486,
        Model32::Pentium,
        Model32::PentiumPro,
    ] {
        for op in 0u16..0x200 {
            let branch = matches!(op, 0x70..=0x7F | 0x180..=0x18F | 0xE0..=0xE3);
            match taken_delta(op, model) {
                Some(d) => {
                    assert!(branch, "{model:?} {op:#x}: a taken count for a non-branch");
                    assert!((0..=u16::MAX as i32).contains(&d), "{model:?} {op:#x}: {d}");
                }
                None => assert!(!branch, "{model:?} {op:#x}: no taken count"),
            }
        }
    }
}

/// The guard against a second source of counts: every row, decoded in each
/// of its forms on every model, is charged exactly its own column (the
/// register form `Row::clk`, the memory form, a REP string's fixed part
/// and a taken branch `Row::alt`). The only exceptions are what the row
/// cannot hold, each named here: DIV/IDIV r/m32 16 clocks over the r/m16
/// column, the Pentium's MUL/IMUL r/m32 one clock under it (10 against
/// 11), and ENTER above level 0 (its levels are tested by hand in
/// `enter_counts_its_nesting_level`). A count written into `clocks.rs` for
/// any other row fails here.
#[test]
fn every_row_is_charged_its_own_column_on_every_model() {
    use super::clocks::{col, rep_string};
    use super::table::{lookup, ROWS};
    let l = lookup();
    let mut checked = 0;
    for model in [
        Model32::I80286,
        Model32::I80386,
        Model32::I80486,
        Model32::Pentium,
        Model32::PentiumPro,
    ] {
        let c = col(model);
        for (k, row) in ROWS.iter().enumerate() {
            if !row.since.available(model) {
                continue;
            }
            let info = l.info[row.op as usize & 511];
            let reg_only = (0x120..=0x126).contains(&row.op);
            let mem_only = row.operands.split(',').any(|o| o.starts_with('M'));
            // (memory operand, REP prefix, 66h prefix)
            let mut forms = vec![];
            for o32 in [false, true] {
                if o32 && model.generation() < 3 {
                    continue;
                }
                if !info.modrm {
                    forms.push((false, false, o32));
                    if rep_string(row.op) {
                        forms.push((false, true, o32));
                    }
                } else {
                    if !mem_only {
                        forms.push((false, false, o32));
                    }
                    if !reg_only {
                        forms.push((true, false, o32));
                    }
                }
            }
            for (mem, rep, o32) in forms {
                let mut code = vec![];
                if rep {
                    code.push(0xF3);
                }
                if o32 {
                    code.push(0x66);
                }
                if row.op >= 0x100 {
                    code.push(0x0F);
                }
                code.push(row.op as u8);
                if info.modrm {
                    // [bx+si] or a register; the row's reg field.
                    code.push(((row.reg.max(0) as u8) << 3) | if mem { 0 } else { 0xC0 });
                }
                code.extend([0; 8]); // immediates (ENTER level 0)
                let mut bus = FlatBus::new(0x10000);
                let mut cpu = real(model, &mut bus, &code);
                let what = format!(
                    "{model:?} {} {} mem {mem} rep {rep} o32 {o32}",
                    row.mnem, row.operands
                );
                let i = cpu
                    .decode_slow(&mut bus, 0x500, false)
                    .unwrap_or_else(|e| panic!("{what}: {e:?}"));
                assert_eq!(usize::from(i.row), k, "{what}: row");
                let col_count = if mem || rep { row.alt[c] } else { row.clk[c] };
                let reg = row.reg.max(0);
                let expect = match row.op {
                    0xF7 if o32 && reg >= 6 => col_count + 16,
                    0xF7 if o32 && (reg == 4 || reg == 5) && c == col(Model32::Pentium) => {
                        col_count - 1
                    }
                    _ => col_count,
                };
                assert_eq!(i.clk, expect, "{what}");
                if let Some(d) = super::clocks::taken_delta(row.op, model) {
                    assert_eq!(i.clk + i.imm2, row.alt[c], "{what}: taken");
                    assert_eq!(d, i32::from(i.imm2), "{what}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 2000, "{checked}");
}
