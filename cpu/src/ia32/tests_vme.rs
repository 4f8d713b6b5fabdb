//! Tests of the virtual-8086 mode extensions, protected-mode virtual
//! interrupts and the TSS T bit. Each expected value is worked out from the
//! SDM's rules (vol. 3 "Virtual-8086 Mode Extensions" and its table of the
//! six software-interrupt methods, "Protected-Mode Virtual Interrupts",
//! "Task-Switch Exception Condition"; vol. 2 CLI/STI/PUSHF/POPF) in the
//! comment beside it.

use super::tests::{desc, flat_pm_model};
use super::vme::{CR4_PVI, CR4_VME, VIF, VIP};
use super::width::*;
use super::*;
use crate::FlatBus;

/// The virtual-8086 task's code segment (linear 3000h) and stack (SS 0700h,
/// SP 0100h: the stack grows down from linear 7100h).
const V86_CS: u16 = 0x0300;
const V86_SS: u16 = 0x0700;
/// TSS at 5000h: ESP0 9000h, SS0 10h, I/O map base 88h, so the interrupt
/// redirection bitmap is the 32 bytes at 5068h–5087h.
const TSS: u32 = 0x5000;
const REDIR: u32 = TSS + 0x88 - 32;

fn rd16(bus: &FlatBus, a: u32) -> u32 {
    u16::from_le_bytes([bus.mem[a as usize], bus.mem[a as usize + 1]]) as u32
}

fn rd32(bus: &FlatBus, a: u32) -> u32 {
    rd16(bus, a) | rd16(bus, a + 2) << 16
}

/// A 32-bit interrupt gate to 08:`off` with `dpl`.
fn int_gate(off: u32, dpl: u8) -> [u8; 8] {
    let o = off.to_le_bytes();
    [o[0], o[1], 0x08, 0, 0, 0x8E | dpl << 5, o[2], o[3]]
}

/// A Pentium in virtual-8086 mode at 0300:0000 with `iopl`, CR4 = `cr4`,
/// EFLAGS.IF set. The IDT (at 2000h) has #GP (13) and vector 21h (DPL 3,
/// so INT 21h from virtual-8086 mode may use it) at 08:4000h/08:4100h and
/// INT3 (DPL 3) at 08:4200h. The 8086 program's vector table (linear 0)
/// sends 21h to 0600:0010h and 3 to 0600:0030h. The redirection bitmap is
/// all clear (every INT n redirected) until a test sets a bit.
fn v86(bus: &mut FlatBus, iopl: u32, cr4: u32) -> Cpu32 {
    let mut c = flat_pm_model(Model32::Pentium, bus);
    bus.load(0x1018, &desc(TSS, 0x88 + 0x2000, 0x8B, 0));
    c.tr = SegCache {
        sel: 0x18,
        base: TSS,
        limit: 0x88 + 0x2000,
        attr: 0x8B,
        valid: true,
    };
    bus.load(TSS + 4, &0x9000u32.to_le_bytes());
    bus.load(TSS + 8, &0x10u32.to_le_bytes());
    bus.load(TSS + 0x66, &0x88u16.to_le_bytes());
    c.idtr = (0x2000, 0x7FF);
    bus.load(0x2000 + 13 * 8, &int_gate(0x4000, 0));
    bus.load(0x2000 + 0x21 * 8, &int_gate(0x4100, 3));
    bus.load(0x2000 + 3 * 8, &int_gate(0x4200, 3));
    bus.load(0x21 * 4, &[0x10, 0x00, 0x00, 0x06]);
    bus.load(3 * 4, &[0x30, 0x00, 0x00, 0x06]);
    c.cr[4] = cr4;
    c.eflags = VM | IF | iopl << 12 | 2;
    c.cpl = 3;
    for s in 0..6 {
        let sel = if s == CS {
            V86_CS
        } else if s == SS {
            V86_SS
        } else {
            0
        };
        c.seg[s] = SegCache {
            sel,
            base: (sel as u32) << 4,
            limit: 0xFFFF,
            attr: if s == CS { 0xFB } else { 0xF3 },
            valid: true,
        };
    }
    c.r[4] = 0x100;
    c.eip = 0;
    c
}

/// Execute `code` placed at CS:IP as one instruction.
fn run1(c: &mut Cpu32, bus: &mut FlatBus, code: &[u8]) -> R<()> {
    let at = c.seg[CS].base.wrapping_add(c.eip);
    bus.load(at, code);
    // As the public entries do: tests write the public fields.
    c.seg_fast_off();
    c.save_snapshot();
    let r = c.execute(bus);
    if r.is_err() {
        c.restore_snapshot();
    }
    r
}

const CLI: &[u8] = &[0xFA];
const STI: &[u8] = &[0xFB];
const PUSHF: &[u8] = &[0x9C];
const POPF: &[u8] = &[0x9D];
const INT21: &[u8] = &[0xCD, 0x21];

/// The top of the virtual-8086 stack (linear).
fn v86_sp(c: &Cpu32) -> u32 {
    ((V86_SS as u32) << 4) + (c.r[4] & 0xFFFF)
}

#[test]
fn vme_cli_and_sti_act_on_vif_and_leave_if_alone() {
    let mut bus = FlatBus::new(0x20000);
    // IOPL 0 without VME: the 386's rule, CLI is #GP(0).
    let mut c = v86(&mut bus, 0, 0);
    assert_eq!(run1(&mut c, &mut bus, CLI), Err(gp(0)));
    // With VME: CLI clears VIF, IF stays set (the monitor's interrupts still
    // come); STI sets VIF again with IF unchanged.
    let mut c = v86(&mut bus, 0, CR4_VME);
    c.eflags |= VIF;
    run1(&mut c, &mut bus, CLI).unwrap();
    assert_eq!(c.eflags & (VIF | IF), IF);
    run1(&mut c, &mut bus, STI).unwrap();
    assert_eq!(c.eflags & (VIF | IF), VIF | IF);
    // With IF clear too: STI sets VIF only.
    c.eflags &= !(IF | VIF);
    run1(&mut c, &mut bus, STI).unwrap();
    assert_eq!(c.eflags & (VIF | IF), VIF);
    // No interrupt shadow: IF did not change.
    assert!(!c.inhibit);
}

#[test]
fn vme_sti_with_vip_set_is_gp_and_cli_is_not() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = v86(&mut bus, 0, CR4_VME);
    // A virtual interrupt is pending and VIF is clear: STI would enable it,
    // so the monitor gets #GP(0) to deliver it; VIF stays clear.
    c.eflags |= VIP;
    assert_eq!(run1(&mut c, &mut bus, STI), Err(gp(0)));
    assert_eq!(c.eflags & VIF, 0);
    // CLI does not look at VIP.
    c.eflags |= VIF;
    run1(&mut c, &mut bus, CLI).unwrap();
    assert_eq!(c.eflags & VIF, 0);
}

#[test]
fn vme_pushf_and_popf_map_vif_to_the_if_image() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = v86(&mut bus, 0, CR4_VME);
    // Real IF set, VIF clear, CF set, IOPL 0: the pushed FLAGS has IF = VIF
    // = 0 and IOPL 3 (3000h): 3000h | 2 (reserved 1) | 1 (CF) = 3003h.
    c.eflags |= CF;
    run1(&mut c, &mut bus, PUSHF).unwrap();
    assert_eq!(c.r[4], 0xFE);
    assert_eq!(rd16(&bus, v86_sp(&c)), 0x3003);
    // VIF set: the image has IF (200h): 3203h.
    c.eflags |= VIF;
    run1(&mut c, &mut bus, PUSHF).unwrap();
    assert_eq!(rd16(&bus, v86_sp(&c)), 0x3203);

    // POPF of 0801h (OF, CF, IF clear): VIF ← 0; OF and CF load; the real
    // IF (set) and IOPL (0) stay.
    let mut c = v86(&mut bus, 0, CR4_VME);
    c.eflags |= VIF;
    c.r[4] = 0xFE;
    bus.load(v86_sp(&c), &[0x01, 0x08]);
    run1(&mut c, &mut bus, POPF).unwrap();
    assert_eq!(c.r[4], 0x100);
    assert_eq!(c.eflags & (VIF | IF | OF | CF | IOPL), IF | OF | CF);
    // POPF of 3200h (IF, IOPL 3 in the image) with the real IF clear: VIF
    // ← 1, IF and IOPL unchanged, the status flags cleared.
    c.eflags &= !IF;
    c.r[4] = 0xFE;
    bus.load(v86_sp(&c), &[0x00, 0x32]);
    run1(&mut c, &mut bus, POPF).unwrap();
    assert_eq!(c.eflags & (VIF | IF | OF | CF | IOPL), VIF);

    // A popped TF is #GP(0) (the monitor must see single-stepping turned
    // on), and so is a popped IF while VIP is set; SP is as before.
    c.r[4] = 0xFE;
    bus.load(v86_sp(&c), &[0x00, 0x01]);
    assert_eq!(run1(&mut c, &mut bus, POPF), Err(gp(0)));
    assert_eq!((c.r[4], c.eflags & TF), (0xFE, 0));
    c.eflags |= VIP;
    bus.load(v86_sp(&c), &[0x00, 0x02]);
    assert_eq!(run1(&mut c, &mut bus, POPF), Err(gp(0)));
    // With VIP set a popped IF of 0 is fine: VIF ← 0.
    bus.load(v86_sp(&c), &[0x00, 0x00]);
    run1(&mut c, &mut bus, POPF).unwrap();
    assert_eq!(c.eflags & (VIF | VIP), VIP);

    // The 32-bit forms stay IOPL-sensitive: #GP(0).
    c.r[4] = 0xF0;
    assert_eq!(run1(&mut c, &mut bus, &[0x66, 0x9C]), Err(gp(0)));
    assert_eq!(run1(&mut c, &mut bus, &[0x66, 0x9D]), Err(gp(0)));
}

#[test]
fn vme_iret_loads_vif_from_the_if_image() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = v86(&mut bus, 0, CR4_VME);
    // Frame IP 1234h, CS 0500h, FLAGS 0201h (IF, CF): back at 0500:1234,
    // VIF ← 1, CF ← 1; the real IF (cleared here) stays clear.
    c.eflags &= !IF;
    c.r[4] = 0xFA;
    let sp = v86_sp(&c);
    bus.load(sp, &[0x34, 0x12, 0x00, 0x05, 0x01, 0x02]);
    run1(&mut c, &mut bus, &[0xCF]).unwrap();
    assert_eq!(
        (c.seg[CS].sel, c.seg[CS].base, c.eip),
        (0x500, 0x5000, 0x1234)
    );
    assert_eq!(c.r[4], 0x100);
    assert_eq!(c.eflags & (VIF | IF | CF | VM), VIF | CF | VM);
    // TF in the image: #GP(0), CS:IP and SP as before the IRET.
    let mut c = v86(&mut bus, 0, CR4_VME);
    c.r[4] = 0xFA;
    bus.load(sp, &[0x34, 0x12, 0x00, 0x05, 0x00, 0x01]);
    assert_eq!(run1(&mut c, &mut bus, &[0xCF]), Err(gp(0)));
    assert_eq!((c.seg[CS].sel, c.eip, c.r[4]), (V86_CS, 0, 0xFA));
    // IF in the image with VIP set: #GP(0).
    c.eflags |= VIP;
    bus.load(sp, &[0x34, 0x12, 0x00, 0x05, 0x00, 0x02]);
    assert_eq!(run1(&mut c, &mut bus, &[0xCF]), Err(gp(0)));
    // IRETD: #GP(0) at IOPL < 3 even with VME.
    c.eflags &= !VIP;
    assert_eq!(run1(&mut c, &mut bus, &[0x66, 0xCF]), Err(gp(0)));
    // Without VME a 16-bit IRET is #GP(0) too (the 386's rule).
    c.cr[4] = 0;
    bus.load(sp, &[0x34, 0x12, 0x00, 0x05, 0x00, 0x00]);
    assert_eq!(run1(&mut c, &mut bus, &[0xCF]), Err(gp(0)));
}

/// Method 6 (VME, IOPL < 3, bit clear) and 5 (VME, IOPL 3, bit clear):
/// the 8086 program's own handler, no mode switch.
#[test]
fn vme_int_n_with_its_bit_clear_goes_to_the_8086_vector_table() {
    let mut bus = FlatBus::new(0x20000);
    // Method 6: real IF set, VIF set, TF and CF set, IOPL 0. Pushed: FLAGS
    // with IF = VIF (200h) and IOPL 3: 3000h|200h|100h (TF)|2|1 = 3303h,
    // then CS 0300h, then IP 0002h (the next instruction). Then CS:IP =
    // 0600:0010 from the table; VIF and TF cleared, IF untouched.
    let mut c = v86(&mut bus, 0, CR4_VME);
    c.eflags |= VIF | TF | CF;
    run1(&mut c, &mut bus, INT21).unwrap();
    assert_eq!(
        (c.seg[CS].sel, c.seg[CS].base, c.eip),
        (0x600, 0x6000, 0x10)
    );
    assert_eq!(c.r[4], 0xFA);
    let sp = v86_sp(&c);
    assert_eq!(
        (rd16(&bus, sp), rd16(&bus, sp + 2), rd16(&bus, sp + 4)),
        (2, V86_CS as u32, 0x3303)
    );
    assert_eq!(c.eflags & (VIF | TF | IF | VM), IF | VM);
    assert_eq!(c.cpl, 3);

    // Method 5: IOPL 3: FLAGS pushed as they are (IOPL 3000h, IF 200h, TF
    // 100h, 2, CF) = 3303h; IF and TF cleared; VIF untouched (set here to
    // show that it is neither pushed nor cleared).
    let mut c = v86(&mut bus, 3, CR4_VME);
    c.eflags |= CF | TF | VIF;
    run1(&mut c, &mut bus, INT21).unwrap();
    assert_eq!((c.seg[CS].sel, c.eip), (0x600, 0x10));
    assert_eq!(rd16(&bus, v86_sp(&c) + 4), 0x3303);
    assert_eq!(c.eflags & (VIF | TF | IF | VM), VIF | VM);
}

/// Methods 1–4: the protected-mode IDT, or #GP(0).
#[test]
fn int_n_through_the_idt_or_gp_by_vme_iopl_and_the_bitmap() {
    let mut bus = FlatBus::new(0x20000);
    // Method 3: VME, IOPL 0, bit 21h set (byte 4 of the bitmap, bit 1):
    // #GP(0).
    let mut c = v86(&mut bus, 0, CR4_VME);
    bus.load(REDIR + 4, &[0x02]);
    assert_eq!(run1(&mut c, &mut bus, INT21), Err(gp(0)));
    // Method 4: VME, IOPL 3, bit set: the IDT gate to 08:4100h at CPL 0 on
    // the TSS's ring-0 stack (9000h) with the virtual-8086 frame of nine
    // dwords (GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP): ESP = 9000h − 36.
    let mut c = v86(&mut bus, 3, CR4_VME);
    run1(&mut c, &mut bus, INT21).unwrap();
    assert_eq!((c.seg[CS].sel, c.eip, c.cpl), (8, 0x4100, 0));
    assert_eq!(c.r[4], 0x9000 - 36);
    assert_eq!(rd32(&bus, 0x9000 - 36), 2);
    assert_eq!(rd32(&bus, 0x9000 - 32), V86_CS as u32);
    assert_ne!(rd32(&bus, 0x9000 - 28) & VM, 0);
    assert_eq!(c.eflags & VM, 0);
    bus.load(REDIR + 4, &[0x00]);
    // Method 1: no VME, IOPL 3: the IDT even though the bit is clear.
    let mut c = v86(&mut bus, 3, 0);
    run1(&mut c, &mut bus, INT21).unwrap();
    assert_eq!((c.eip, c.cpl), (0x4100, 0));
    // Method 2: no VME, IOPL 0: #GP(0).
    let mut c = v86(&mut bus, 0, 0);
    assert_eq!(run1(&mut c, &mut bus, INT21), Err(gp(0)));
    // INT3 is no INT n: never redirected and not IOPL-sensitive, so with
    // VME, IOPL 0 and its bit clear it still takes the IDT gate (4200h).
    let mut c = v86(&mut bus, 0, CR4_VME);
    run1(&mut c, &mut bus, &[0xCC]).unwrap();
    assert_eq!((c.eip, c.cpl), (0x4200, 0));
    // A bitmap byte past the TSS limit: #GP(0), even at IOPL 3 (where a
    // set bit would have meant the IDT).
    let mut c = v86(&mut bus, 3, CR4_VME);
    c.tr.limit = REDIR - TSS + 3;
    assert_eq!(run1(&mut c, &mut bus, INT21), Err(gp(0)));
}

#[test]
fn the_gp_of_method_3_reaches_the_monitor_with_the_int_unexecuted() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = v86(&mut bus, 0, CR4_VME);
    bus.load(REDIR + 4, &[0x02]);
    bus.load(0x3000, INT21);
    c.step(&mut bus);
    // The #GP handler at 08:4000h with an error code (0) on top of the
    // nine-dword frame, whose EIP is the INT itself (a fault: IP 0).
    assert_eq!((c.eip, c.cpl), (0x4000, 0));
    assert_eq!(c.r[4], 0x9000 - 40);
    assert_eq!((rd32(&bus, 0x9000 - 40), rd32(&bus, 0x9000 - 36)), (0, 0));
}

#[test]
fn iopl_3_in_v86_is_unchanged_by_vme() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = v86(&mut bus, 3, CR4_VME);
    // CLI/STI change IF itself; VIF (clear) is not touched.
    run1(&mut c, &mut bus, CLI).unwrap();
    assert_eq!(c.eflags & (IF | VIF), 0);
    run1(&mut c, &mut bus, STI).unwrap();
    assert_eq!(c.eflags & (IF | VIF), IF);
    // PUSHF pushes the real FLAGS: IF, IOPL 3, 2 = 3202h.
    run1(&mut c, &mut bus, PUSHF).unwrap();
    assert_eq!(rd16(&bus, v86_sp(&c)), 0x3202);
    // POPF of 0 clears IF (IOPL stays 3: CPL 3 may not change it).
    bus.load(v86_sp(&c), &[0, 0]);
    run1(&mut c, &mut bus, POPF).unwrap();
    assert_eq!(c.eflags & (IF | VIF | IOPL), IOPL);
    // IRET: the image's IF goes to IF.
    c.r[4] = 0xFA;
    bus.load(v86_sp(&c), &[0x00, 0x00, 0x00, 0x03, 0x00, 0x02]);
    run1(&mut c, &mut bus, &[0xCF]).unwrap();
    assert_eq!(c.eflags & (IF | VIF), IF);
}

/// CPL 3, flat protected mode, IOPL 0.
fn cpl3(bus: &mut FlatBus, cr4: u32) -> Cpu32 {
    let mut c = flat_pm_model(Model32::Pentium, bus);
    c.cr[4] = cr4;
    c.cpl = 3;
    c.seg[CS].attr = 0xC0FB;
    c.seg[SS].attr = 0xC0F3;
    c.eflags = IF | 2;
    c.eip = 0x8000;
    c.r[4] = 0x9000;
    c
}

#[test]
fn pvi_cli_and_sti_at_cpl_3_act_on_vif() {
    let mut bus = FlatBus::new(0x20000);
    // Without PVI: CPL 3 > IOPL 0, #GP(0).
    let mut c = cpl3(&mut bus, 0);
    assert_eq!(run1(&mut c, &mut bus, CLI), Err(gp(0)));
    // With PVI: CLI clears VIF, STI sets it; IF stays set throughout.
    let mut c = cpl3(&mut bus, CR4_PVI);
    c.eflags |= VIF;
    run1(&mut c, &mut bus, CLI).unwrap();
    assert_eq!(c.eflags & (IF | VIF), IF);
    run1(&mut c, &mut bus, STI).unwrap();
    assert_eq!(c.eflags & (IF | VIF), IF | VIF);
    // STI with VIP set: #GP(0).
    c.eflags = (c.eflags & !VIF) | VIP;
    assert_eq!(run1(&mut c, &mut bus, STI), Err(gp(0)));
    // PVI leaves POPF alone: at CPL 3 > IOPL a popped IF of 0 changes
    // neither IF nor VIF.
    c.eflags = IF | VIF | 2;
    bus.load(0x9000, &0u32.to_le_bytes());
    run1(&mut c, &mut bus, &[0x9D]).unwrap();
    assert_eq!(c.eflags & (IF | VIF), IF | VIF);
    // PVI is for CPL 3 only: at CPL 1 (> IOPL 0) CLI is #GP(0).
    c.cpl = 1;
    assert_eq!(run1(&mut c, &mut bus, CLI), Err(gp(0)));
    // VME alone does nothing in protected mode.
    let mut c = cpl3(&mut bus, CR4_VME);
    assert_eq!(run1(&mut c, &mut bus, CLI), Err(gp(0)));
}

#[test]
fn cr4_vme_and_pvi_exist_on_the_pentium_and_p6_only() {
    let mut bus = FlatBus::new(0x20000);
    // MOV CR4, EAX (0F 22 E0) with VME|PVI = 3.
    for m in [Model32::Pentium, Model32::PentiumPro] {
        let mut c = flat_pm_model(m, &mut bus);
        c.eip = 0x8000;
        c.r[0] = 3;
        run1(&mut c, &mut bus, &[0x0F, 0x22, 0xE0]).unwrap();
        assert_eq!(c.cr[4], 3, "{m:?}");
        assert_ne!(features(m) & feature::VME, 0, "{m:?}");
    }
    // The 486 model has no CR4 at all (#UD) and no VME bit.
    let mut c = flat_pm_model(Model32::I80486, &mut bus);
    c.eip = 0x8000;
    c.r[0] = 1;
    assert_eq!(run1(&mut c, &mut bus, &[0x0F, 0x22, 0xE0]), Err(ud()));
    assert_eq!(features(Model32::I80486) & feature::VME, 0);
    // On the 386 and 486, VIF and VIP do not exist: an IRET image cannot
    // set them (IRETD at CPL 0 with both in the image).
    for m in [Model32::I80386, Model32::I80486, Model32::Pentium] {
        let mut c = flat_pm_model(m, &mut bus);
        c.eip = 0x8000;
        c.r[4] = 0x9000;
        bus.load(0x9000, &0x9000u32.to_le_bytes());
        bus.load(0x9004, &8u32.to_le_bytes());
        bus.load(0x9008, &(VIF | VIP | 2).to_le_bytes());
        run1(&mut c, &mut bus, &[0xCF]).unwrap();
        let want = if m == Model32::Pentium { VIF | VIP } else { 0 };
        assert_eq!(c.eflags & (VIF | VIP), want, "{m:?}");
    }
}

/// Two 386 TSSs: the running task's at 5000h (selector 18h, busy) and the
/// target's at 6000h (selector 20h) with EIP 3100h, flat CPL 0 segments,
/// ESP A000h and the T bit as given; #DB (vector 1) is an interrupt gate
/// to 08:4000h, #UD (6) a task gate to the target.
fn task_rig(bus: &mut FlatBus, t_bit: bool) -> Cpu32 {
    let mut c = flat_pm_model(Model32::I80386, bus);
    bus.load(0x1018, &desc(0x5000, 0x67, 0x8B, 0));
    bus.load(0x1020, &desc(0x6000, 0x67, 0x89, 0));
    c.tr = SegCache {
        sel: 0x18,
        base: 0x5000,
        limit: 0x67,
        attr: 0x8B,
        valid: true,
    };
    let n = 0x6000;
    bus.load(n + 0x20, &0x3100u32.to_le_bytes());
    bus.load(n + 0x24, &2u32.to_le_bytes());
    bus.load(n + 0x38, &0xA000u32.to_le_bytes());
    for s in 0..6u32 {
        let sel: u16 = if s == CS as u32 { 8 } else { 0x10 };
        bus.load(n + 0x48 + 4 * s, &sel.to_le_bytes());
    }
    bus.load(n + 0x64, &(t_bit as u16).to_le_bytes());
    bus.load(n + 0x66, &0x68u16.to_le_bytes());
    c.idtr = (0x2000, 0xFF);
    bus.load(0x2000 + 8, &int_gate(0x4000, 0));
    bus.load(0x2000 + 6 * 8, &[0, 0, 0x20, 0, 0, 0x85, 0, 0]);
    // The target task's first instruction: INC EAX.
    bus.load(0x3100, &[0x40]);
    c.r[4] = 0x8000;
    c.eip = 0x3000;
    c
}

#[test]
fn a_task_switch_into_a_tss_with_t_set_traps_with_dr6_bt() {
    // JMP FAR 20h:0 (EA, offset 0, selector 20h).
    let jmp = [0xEA, 0, 0, 0, 0, 0x20, 0];
    let mut bus = FlatBus::new(0x20000);
    let mut c = task_rig(&mut bus, true);
    bus.load(0x3000, &jmp);
    c.step(&mut bus);
    // The switch completed (TR 20h), then #DB (a trap: the pushed EIP is the
    // new task's first instruction, 3100h, not yet executed) with DR6.BT
    // (bit 15), on the new task's stack (A000h − 12).
    assert_eq!(c.tr.sel, 0x20);
    assert_eq!(c.eip, 0x4000);
    assert_ne!(c.dr[6] & 0x8000, 0);
    assert_eq!(c.r[4], 0xA000 - 12);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3100);
    assert_eq!(c.r[0], 0);
    // T clear: no #DB; the new task starts at 3100h.
    let mut bus = FlatBus::new(0x20000);
    let mut c = task_rig(&mut bus, false);
    bus.load(0x3000, &jmp);
    c.step(&mut bus);
    assert_eq!((c.tr.sel, c.eip), (0x20, 0x3100));
    assert_eq!(c.dr[6] & 0x8000, 0);
}

/// A task switch sets CR0.TS, and with it closes the lean x87 forms' gate
/// (they would otherwise run without #NM in the new task).
#[test]
fn a_task_switch_sets_ts_and_closes_the_lean_x87_gate() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = task_rig(&mut bus, false);
    c.set_x87(true);
    if let Some(u) = c.x87.unit.as_deref_mut() {
        // PE set under 027Fh: both of the gate's bits.
        u.cw = 0x027F;
        u.sw |= 0x20;
    }
    c.x87_regate();
    assert_eq!(c.x87.lean, 3);
    bus.load(0x3000, &[0xEA, 0, 0, 0, 0, 0x20, 0]);
    c.step(&mut bus);
    assert_eq!((c.tr.sel, c.eip), (0x20, 0x3100));
    assert_eq!(c.cr[0] & 8, 8);
    assert_eq!(c.x87.lean, 0);
}

#[test]
fn an_exception_through_a_task_gate_into_a_t_task_traps_before_its_first_instruction() {
    let mut bus = FlatBus::new(0x20000);
    let mut c = task_rig(&mut bus, true);
    // An opcode the 386 does not have (0F FF): #UD through the task gate.
    bus.load(0x3000, &[0x0F, 0xFF]);
    c.step(&mut bus);
    // One step delivered #UD (the switch) and then the T-bit #DB: the
    // handler is entered with the new task's INC EAX not executed.
    assert_eq!((c.tr.sel, c.eip), (0x20, 0x4000));
    assert_ne!(c.dr[6] & 0x8000, 0);
    assert_eq!(rd32(&bus, 0xA000 - 12), 0x3100);
    assert_eq!(c.r[0], 0);
}
