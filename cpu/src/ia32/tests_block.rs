//! The run loop's blocks (`icache.rs`, `Cpu32::build_block`; `slice.rs`,
//! `Cpu32::run_body`) must be invisible: a body runs only while every
//! instruction in it is what memory holds, stops where a stepped machine
//! would (budget, fault, an event), and counts what a stepped machine
//! counts. Each test runs a loop long enough for its blocks to be built
//! and taken, then does what could make a block stale or cut it, and
//! checks the outcome worked out by hand from the manuals (and, where the
//! clocks are not worked out, against the same run with the decode cache
//! off, where every instruction is a whole step).

use super::tests_fast::LapBus;
use super::tests_fetch::flat32;
use super::*;

/// A flat 32-bit CPU that builds a slot's block at its first visit after
/// the one that stamped it (as before blocks waited for [`icache::BLK_HOT`]
/// visits), so that the loops below take bodies after a pass or two.
fn eager(model: Model32) -> Cpu32 {
    let mut c = flat32(model);
    c.set_block_heat(1);
    c
}

/// Run `c` in slices of `budget` clocks until it halts (at most `max`
/// slices); the slices.
fn slices_until_halt(c: &mut Cpu32, bus: &mut LapBus, budget: u64, max: usize) -> Vec<Slice> {
    let mut out = Vec::new();
    for _ in 0..max {
        let s = c.run_slice(bus, budget);
        out.push(s);
        if s.end == SliceEnd::Halted {
            break;
        }
    }
    out
}

/// The two rewriting loops below: `code` at 2000h with ECX = 50 runs
/// `warm` steps with EDI at data (3000h: ten passes, EBX still 0), then
/// with EDI = `edi` (the ADD's immediate) until it halts, whole or in
/// slices; each later pass stores CL there, so the ADDs add 40, 39, ...,
/// 1: EBX = 820, EDX = 50, ECX = 0, EIP `end_eip` and `steps`
/// instructions, on every budget, and the same state with the decode
/// cache off (every instruction a whole step).
fn check_rewriting(code: &[u8], warm: u64, edi: u32, end_eip: u32, steps: u64) {
    let run = |cache: bool, budget: Option<u64>| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, code);
        let mut c = eager(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        c.r[1] = 50;
        c.r[2] = 0;
        c.r[7] = 0x3000;
        assert_eq!(c.run(&mut bus, warm), StepResult32::Executed);
        assert_eq!((c.r[3], c.r[2], c.eip), (0, 10, 0x2000));
        c.r[7] = edi;
        match budget {
            None => assert_eq!(c.run(&mut bus, 10_000), StepResult32::Halted),
            Some(b) => {
                let s = slices_until_halt(&mut c, &mut bus, b, 10_000);
                assert_eq!(s.last().map(|s| s.end), Some(SliceEnd::Halted));
            }
        }
        (c.regs(), c.cycles(), c.instructions())
    };
    for budget in [None, Some(3), Some(40), Some(100_000)] {
        let on = run(true, budget);
        let off = run(false, budget);
        assert_eq!(
            (on.0.r[3], on.0.r[2], on.0.r[1]),
            (820, 50, 0),
            "{budget:?}"
        );
        assert_eq!(on.0.eip, end_eip, "{budget:?}");
        assert_eq!(on.2, steps, "{budget:?}");
        assert_eq!(on, off, "{budget:?}");
    }
}

#[test]
fn an_instruction_rewriting_a_later_one_in_its_own_block_runs_the_new_bytes() {
    // 2000: mov [edi], cl       88 0F
    // 2002: mov eax, eax        89 C0
    // 2004: add ebx, 0          83 C3 00   (its immediate at 2006h)
    // 2007: inc edx             42
    // 2008: dec ecx             49
    // 2009: jnz 2000            75 F5
    // 200B: hlt                 F4
    // The first four make one body. For ten passes EDI points at data
    // (3000h), so the ADDs add 0 and the block is built and taken; then
    // EDI is set to 2006h between two runs (nothing in memory changes):
    // from then on each pass stores CL into the ADD's immediate two
    // instructions ahead, inside the body already running, so the ADDs
    // add 40, 39, ..., 1: EBX = 820 (SDM vol. 3, 8.1.3: a store to the
    // instruction stream is seen by the next fetch). A body that went on
    // with its own copy would add 0 on the first such pass.
    let code = [
        0x88, 0x0F, 0x89, 0xC0, 0x83, 0xC3, 0x00, 0x42, 0x49, 0x75, 0xF5, 0xF4,
    ];
    // 50 passes of six, and the HLT.
    check_rewriting(&code, 60, 0x2006, 0x200C, 301);
}

#[test]
fn code_rewritten_through_the_bus_between_slices_runs_its_new_bytes() {
    // 2000: mov eax, 1     B8 01 00 00 00
    // 2005: add esi, eax   01 C6
    // 2007: add ebx, 1     83 C3 01   (its immediate at 2009h)
    // 200A: inc edx        42
    // 200B: mov edi, eax   89 C7
    // 200D: dec ecx        49
    // 200E: jnz 2000       75 F0
    // 2010: hlt            F4
    // 200 passes in slices of 37 clocks. Once EDX reaches 100 the board
    // stores 5 over the ADD's immediate and bumps its RAM generation, as
    // DMA does, between two slices; the ADD is in the middle of a body
    // whose first instruction did not change. Every ADD still to run adds
    // 5: those of the passes EDX has not counted yet, less one if the
    // slice ended between the ADD and the INC (EIP at 200Ah).
    let code = [
        0xB8, 1, 0, 0, 0, 0x01, 0xC6, 0x83, 0xC3, 0x01, 0x42, 0x89, 0xC7, 0x49, 0x75, 0xF0, 0xF4,
    ];
    let run = |cache: bool| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &code);
        let mut c = eager(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        c.r[1] = 200;
        c.r[2] = 0;
        let mut at = None;
        for _ in 0..10_000 {
            let s = c.run_slice(&mut bus, 37);
            if s.end == SliceEnd::Halted {
                break;
            }
            if at.is_none() && c.r[2] >= 100 {
                at = Some((c.r[3], c.r[2], c.eip));
                bus.flat.load(0x2009, &[5]);
                bus.gen += 1;
            }
        }
        let (ebx, edx, eip) = at.expect("the rewrite happened");
        let left = 200 - edx - u32::from(eip == 0x200A);
        assert_eq!((c.r[3], c.r[2]), (ebx + 5 * left, 200), "cache {cache}");
        (c.regs(), c.cycles(), c.instructions())
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn a_block_cut_by_the_budget_stops_where_a_stepped_machine_does() {
    // A loop whose body is twelve instructions of register, memory and
    // stack forms, run in slices of every budget from 1 to 60 clocks: each
    // slice must end after the same instruction, for the same reason,
    // with the same clocks as with every instruction a whole step, and
    // each OUT (a device access) must see the same slice clock.
    let code = [
        0xB8, 1, 0, 0, 0, // mov eax, 1
        0x01, 0xC3, // add ebx, eax
        0x89, 0x1D, 0x00, 0x30, 0, 0, // mov [3000h], ebx
        0x8B, 0x15, 0x00, 0x30, 0, 0, // mov edx, [3000h]
        0x8D, 0x34, 0x1A, // lea esi, [edx+ebx]
        0x31, 0xF7, // xor edi, esi
        0xC1, 0xC7, 0x03, // rol edi, 3
        0x50, // push eax
        0x5D, // pop ebp
        0x0F, 0xB6, 0xC3, // movzx eax, bl
        0x01, 0xC7, // add edi, eax
        0xF6, 0xC1, 0x07, // test cl, 7
        0x75, 0x02, // jnz +2
        0xE6, 0x80, // out 80h, al
        0x49, // dec ecx
        0x75, 0xD4, // jnz 2000
        0xF4, // hlt
    ];
    let run = |cache: bool, budget: u64| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &code);
        let mut c = eager(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        c.r[1] = 40;
        let s = slices_until_halt(&mut c, &mut bus, budget, 100_000);
        (s, bus.out_clocks, c.regs(), c.instructions())
    };
    for budget in 1..=60 {
        let on = run(true, budget);
        let off = run(false, budget);
        assert_eq!(on.0, off.0, "slices, budget {budget}");
        assert_eq!(on.1, off.1, "clocks at the OUTs, budget {budget}");
        assert_eq!((on.2, on.3), (off.2, off.3), "budget {budget}");
        // Each slice ran at least `budget` clocks unless it ended early.
        for s in &on.0 {
            assert!(s.end != SliceEnd::Budget || s.cycles >= budget);
        }
        assert_eq!(on.2.r[3], 40, "EBX counts the passes");
    }
}

/// Flat 32-bit code with paging: a page directory at 10000h whose first
/// table (11000h) maps linear 0–FFFFh one to one, and a second directory
/// at 12000h (table 13000h) that maps the same except linear page 3000h,
/// which it maps to physical 5000h.
fn paged(bus: &mut LapBus) -> Cpu32 {
    bus.flat.load(0x1_0000, &0x1_1003u32.to_le_bytes());
    bus.flat.load(0x1_2000, &0x1_3003u32.to_le_bytes());
    for i in 0..16u32 {
        bus.flat
            .load(0x1_1000 + 4 * i, &(i << 12 | 3).to_le_bytes());
        let p = if i == 3 { 0x5000 } else { i << 12 };
        bus.flat.load(0x1_3000 + 4 * i, &(p | 3).to_le_bytes());
    }
    let mut c = eager(Model32::PentiumPro);
    c.cr[3] = 0x1_0000;
    c.cr[0] |= 0x8000_0000;
    c
}

#[test]
fn a_block_across_a_page_whose_second_page_is_remapped_runs_the_new_page() {
    // 2FF8: inc ebx × 8     43 ...       (to the end of page 2000h)
    // 3000: add ebx, 1      83 C3 01     (physical 3000h)
    // 3003: jmp 2FF8        EB F3
    // and at physical 5000h the same but ADD EBX, 100 (83 C3 64). The
    // nine instructions from 2FF8h make one body across the two pages.
    // Ten passes (100 instructions) give EBX = 90; then linear page 3000h
    // is mapped to physical 5000h and the TLB told (INVLPG [3000h], or a
    // CR3 load of the other directory, run at 4000h): the next ten passes
    // must fetch the new page (SDM vol. 3, 4.10.4.1), 8 + 100 each, so
    // EBX = 90 + 1080.
    for cr3 in [false, true] {
        let mut bus = LapBus::new();
        let mut c = paged(&mut bus);
        bus.flat.load(0x2FF8, &[0x43; 8]);
        bus.flat.load(0x3000, &[0x83, 0xC3, 0x01, 0xEB, 0xF3]);
        bus.flat.load(0x5000, &[0x83, 0xC3, 0x64, 0xEB, 0xF3]);
        // 4000: invlpg [3000h] (0F 01 3D imm32), or mov cr3, eax (0F 22 D8).
        if cr3 {
            bus.flat.load(0x4000, &[0x0F, 0x22, 0xD8]);
        } else {
            bus.flat.load(0x4000, &[0x0F, 0x01, 0x3D, 0x00, 0x30, 0, 0]);
        }
        c.eip = 0x2FF8;
        assert_eq!(c.run(&mut bus, 100), StepResult32::Executed);
        assert_eq!((c.r[3], c.eip), (90, 0x2FF8), "cr3 {cr3}");
        if !cr3 {
            // The first directory's table now maps 3000h to 5000h.
            bus.flat.load(0x1_1000 + 12, &0x5003u32.to_le_bytes());
        }
        c.r[0] = 0x1_2000;
        c.eip = 0x4000;
        assert_eq!(c.step(&mut bus), StepResult32::Executed);
        c.eip = 0x2FF8;
        assert_eq!(c.run(&mut bus, 100), StepResult32::Executed);
        assert_eq!((c.r[3], c.eip), (90 + 1080, 0x2FF8), "cr3 {cr3}");
        assert_eq!(c.instructions(), 201);
    }
}

#[test]
fn a_fault_in_the_middle_of_a_block_leaves_the_state_of_its_instruction() {
    // 2000: mov eax, 1      B8 01 00 00 00
    // 2005: add ebx, eax    01 C3
    // 2007: mov edx, [esi]  8B 16
    // 2009: inc ecx         41
    // 200A: mov edi, 7      BF 07 00 00 00
    // 200F: jmp 2000        EB EF
    // Ten passes (60 instructions) with ESI = 3000h; then DS.limit is
    // lowered to FFFh, so the load is #GP(0) (SDM vol. 3, 5.3) in the
    // middle of the body; with IDT limit 0 the CPU shuts down (#GP, #DF,
    // shutdown) with EIP at the load, the MOV and ADD before it done
    // (EAX = 1, EBX = 11), the INC and MOV after it not (ECX = 10, EDI as
    // the tenth pass left it), and 62 instructions retired. The clocks
    // are those of the same run with every instruction a whole step.
    let code = [
        0xB8, 1, 0, 0, 0, 0x01, 0xC3, 0x8B, 0x16, 0x41, 0xBF, 7, 0, 0, 0, 0xEB, 0xEF,
    ];
    let run = |cache: bool, slices: bool| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &code);
        let mut c = eager(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        c.r[6] = 0x3000;
        assert_eq!(c.run(&mut bus, 60), StepResult32::Executed);
        c.r[0] = 0;
        c.seg[DS].limit = 0xFFF;
        if slices {
            assert_eq!(c.run_slice(&mut bus, 1000).end, SliceEnd::Shutdown);
        } else {
            assert_eq!(c.run(&mut bus, 100), StepResult32::Shutdown);
        }
        let r = c.regs();
        assert_eq!(
            (r.eip, r.r[0], r.r[3], r.r[1], r.r[7]),
            (0x2007, 1, 11, 10, 7)
        );
        assert_eq!(c.instructions(), 62);
        (r, c.cycles())
    };
    for slices in [false, true] {
        assert_eq!(run(true, slices), run(false, slices), "slices {slices}");
    }
}

/// The arena's copies carry the body's clocks so far and a bus flag in
/// `Insn::imm2` (`icache.rs`), so a body form must never be decoded with
/// anything of its own there. Every row, decoded in 16- and 32-bit code
/// with a register and a memory operand and its immediates all 5Ah bytes:
/// whenever the form is one a body takes, `imm2` is 0, except for Jcc,
/// whose taken count lives there and which the arena moves to `disp`:
/// a Jcc must have no memory operand and nothing of its own in `disp`.
/// (A far pointer's selector and ENTER's level live in `imm2` too: a change
/// that let such a form into bodies fails here.)
#[test]
fn no_body_form_is_decoded_with_a_second_immediate() {
    use super::icache::body_form;
    use super::table::{lookup, ROWS};
    let l = lookup();
    let mut bodies = 0;
    for model in [Model32::I80386, Model32::I80486, Model32::PentiumPro] {
        for row in ROWS.iter().filter(|r| r.since.available(model)) {
            let info = l.info[row.op as usize & 511];
            for (d32, mem) in [(false, false), (false, true), (true, false), (true, true)] {
                let mut code = vec![];
                if row.op >= 0x100 {
                    code.push(0x0F);
                }
                code.push(row.op as u8);
                if info.modrm {
                    // [ebx] / [bp+si] or a register; the row's reg field.
                    let rm = if d32 { 3 } else { 2 };
                    code.push(((row.reg.max(0) as u8) << 3) | if mem { rm } else { 0xC0 | rm });
                }
                code.extend([0x5A; 10]);
                let mut bus = crate::FlatBus::new(0x10000);
                bus.load(0x500, &code);
                let mut c = eager(model);
                if !d32 {
                    c.seg[CS].attr = 0x009B;
                }
                c.eip = 0x500;
                let Ok(i) = c.decode_slow(&mut bus, 0x500, false) else {
                    continue;
                };
                if super::forms::is_jcc(i.form) {
                    assert_eq!(
                        (i.mem, i.disp),
                        (false, 0),
                        "{model:?} {} {} d32 {d32}: a Jcc with a displacement",
                        row.mnem,
                        row.operands
                    );
                } else if body_form(i.form) {
                    bodies += 1;
                    assert_eq!(
                        i.imm2, 0,
                        "{model:?} {} {} d32 {d32} mem {mem}: form {} carries imm2",
                        row.mnem, row.operands, i.form
                    );
                }
            }
        }
    }
    assert!(bodies > 300, "{bodies}");
}

/// A loop whose body is one trace through a Jcc taken on every fourth
/// pass (ECX a multiple of 4) and not on the others:
/// ```text
/// 2000: mov eax, ecx    89 C8
/// 2002: and eax, 3      83 E0 03
/// 2005: jz 200D         74 06
/// 2007: add ebx, 1      83 C3 01
/// 200A: add esi, eax    01 C6
/// 200C: inc edi         47
/// 200D: dec ecx         49
/// 200E: jnz 2000        75 F0
/// 2010: hlt             F4
/// ```
/// From ECX = 40: ten passes leave at the JZ (five instructions each),
/// thirty run through it (eight each), so EBX = EDI = 30, ESI = ten times
/// 1 + 2 + 3 = 60, and 50 + 240 + 1 = 291 instructions with the HLT, EIP
/// after it.
const TRACE_LOOP: [u8; 17] = [
    0x89, 0xC8, 0x83, 0xE0, 0x03, 0x74, 0x06, 0x83, 0xC3, 0x01, 0x01, 0xC6, 0x47, 0x49, 0x75, 0xF0,
    0xF4,
];

/// [`TRACE_LOOP`] on `model` with the decode cache on or off, run whole
/// (`None`) or in slices of `budget` clocks: the slices, the registers,
/// clocks and instructions retired.
fn trace_loop(model: Model32, cache: bool, budget: Option<u64>) -> (Vec<Slice>, Regs32, u64, u64) {
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &TRACE_LOOP);
    let mut c = eager(model);
    c.set_decode_cache(cache);
    c.eip = 0x2000;
    c.r[1] = 40;
    let s = match budget {
        None => {
            assert_eq!(c.run(&mut bus, 10_000), StepResult32::Halted);
            vec![]
        }
        Some(b) => slices_until_halt(&mut c, &mut bus, b, 100_000),
    };
    let r = c.regs();
    assert_eq!(
        (r.r[3], r.r[7], r.r[6], r.r[1], r.eip),
        (30, 30, 60, 0, 0x2011),
        "{model:?} cache {cache} budget {budget:?}"
    );
    assert_eq!(
        c.instructions(),
        291,
        "{model:?} cache {cache} budget {budget:?}"
    );
    (s, r, c.cycles(), c.instructions())
}

#[test]
fn a_trace_whose_jcc_is_taken_on_some_passes_leaves_with_the_stepped_state() {
    for model in [Model32::I80386, Model32::I80486, Model32::PentiumPro] {
        let on = trace_loop(model, true, None);
        let off = trace_loop(model, false, None);
        assert_eq!((on.1, on.2, on.3), (off.1, off.2, off.3), "{model:?}");
        // And stopped at every boundary: the state after each of the first
        // 300 step counts (so right after taken and not-taken JZs, inside
        // and after the trace) is the stepped core's.
        for steps in 1..300 {
            let at = |cache: bool| {
                let mut bus = LapBus::new();
                bus.flat.load(0x2000, &TRACE_LOOP);
                let mut c = eager(model);
                c.set_decode_cache(cache);
                c.eip = 0x2000;
                c.r[1] = 40;
                // A warm run first, so that the blocks are built.
                c.run(&mut bus, 40);
                c.run(&mut bus, steps);
                (c.regs(), c.cycles(), c.instructions())
            };
            assert_eq!(at(true), at(false), "{model:?} {steps} steps");
        }
    }
}

#[test]
fn a_trace_cut_by_the_budget_at_a_taken_jcc_stops_where_a_stepped_machine_does() {
    // Every budget from 1 to 60 clocks: each slice ends after the same
    // instruction, for the same reason and with the same clocks as with
    // every instruction a whole step, including those whose budget runs
    // out at a taken JZ or JNZ (whose taken count is above the not-taken
    // one the body's sum holds).
    for model in [Model32::I80386, Model32::I80486] {
        for budget in 1..=60 {
            let on = trace_loop(model, true, Some(budget));
            let off = trace_loop(model, false, Some(budget));
            assert_eq!(on.0, off.0, "{model:?} slices, budget {budget}");
            assert_eq!(
                (on.1, on.2, on.3),
                (off.1, off.2, off.3),
                "{model:?} {budget}"
            );
            for s in &on.0 {
                assert!(s.end != SliceEnd::Budget || s.cycles >= budget);
            }
        }
    }
}

#[test]
fn a_store_in_a_trace_rewriting_code_after_its_jcc_runs_the_new_bytes() {
    // 2000: mov [edi], cl       88 0F
    // 2002: cmp ecx, 0          83 F9 00
    // 2005: jz 200E             74 07      (never taken: ECX >= 1)
    // 2007: add ebx, 0          83 C3 00   (its immediate at 2009h)
    // 200A: inc edx             42
    // 200B: dec ecx             49
    // 200C: jnz 2000            75 F2
    // 200E: hlt                 F4
    // One trace through the JZ. Ten passes with EDI at data (3000h), then
    // EDI = 2009h: each pass stores CL into the ADD's immediate, past the
    // JZ in the trace already running, so the ADDs add 40, 39, ..., 1:
    // EBX = 820 (SDM vol. 3, 8.1.3). A trace that went on with its own
    // copy would add 0 on the first such pass.
    let code = [
        0x88, 0x0F, 0x83, 0xF9, 0x00, 0x74, 0x07, 0x83, 0xC3, 0x00, 0x42, 0x49, 0x75, 0xF2, 0xF4,
    ];
    // 50 passes of seven, and the HLT.
    check_rewriting(&code, 70, 0x2009, 0x200F, 351);
}

#[test]
fn a_body_of_sixty_instructions_runs_as_a_stepped_machine_does() {
    // 31 x (inc eax (40), add ebx, eax (01 C3)), then dec ecx (49), jnz
    // back (75 A0) and hlt: bodies of up to 63 instructions (the block
    // word's 6-bit length). 20 passes: EAX = 620, EBX = 1 + 2 + ... + 620 =
    // 192,510, 20 x 64 + 1 instructions; and in slices of every budget
    // from 1 to 90 clocks, the same slices, clocks and registers as with
    // every instruction a whole step.
    let mut code = vec![];
    for _ in 0..31 {
        code.extend([0x40, 0x01, 0xC3]);
    }
    code.push(0x49);
    let back = -(code.len() as i32 + 2);
    code.extend([0x75, back as u8, 0xF4]);
    let run = |cache: bool, budget: u64| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &code);
        let mut c = eager(Model32::I80386);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        c.r[0] = 0;
        c.r[3] = 0;
        c.r[1] = 20;
        let s = slices_until_halt(&mut c, &mut bus, budget, 100_000);
        assert_eq!(
            (c.r[0], c.r[3], c.instructions()),
            (620, 192_510, 20 * 64 + 1)
        );
        (s, c.regs(), c.cycles())
    };
    for budget in 1..=90 {
        assert_eq!(run(true, budget), run(false, budget), "budget {budget}");
    }
}

/// Code for the ring tests below: `segs` straight runs at `at` of 62
/// one-byte register instructions (INC, DEC and XCHG with EAX of EAX,
/// EBX, EDX, ESI and EDI, in an order drawn from `seed`) each ended by a
/// JMP to the next, then `dec ebp / jnz at / hlt`. Each run is the body
/// of a block of 63 forms (the JMP after it), so more than 520 of them
/// fill the arena (`icache::BLOCK_ARENA`) and it wraps; the registers'
/// final values depend on the order of every run's instructions, so a
/// block that ran another's forms would show. With `jcc`, each run has
/// 61 instructions and ends with `cmp eax,eax / jz next` instead: a body
/// of 63 forms that leaves at its taken Jcc for the next run's body,
/// which the lap takes by the Jcc's link (`Cpu32::block_links`).
fn ring_code(segs: usize, seed: u32, jcc: bool) -> Vec<u8> {
    const OPS: [u8; 13] = [
        0x40, 0x43, 0x42, 0x46, 0x47, 0x48, 0x4B, 0x4A, 0x4E, 0x93, 0x92, 0x96, 0x97,
    ];
    let mut x = seed | 1;
    let mut code = Vec::new();
    for _ in 0..segs {
        for _ in 0..if jcc { 61 } else { 62 } {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            code.push(OPS[(x % OPS.len() as u32) as usize]);
        }
        if jcc {
            code.extend([0x39, 0xC0, 0x74, 0x00]); // cmp eax,eax ; jz short to the next run
        } else {
            code.extend([0xEB, 0x00]); // jmp short to the next run
        }
    }
    let back = -(code.len() as i32 + 7);
    code.push(0x4D); // dec ebp
    code.extend([0x0F, 0x85]); // jnz at
    code.extend(back.to_le_bytes());
    code.push(0xF4); // hlt
    code
}

/// Run `code` at `at` for `passes` passes (EBP) in slices of `budget`
/// clocks (None: one run), with the decode cache on or off; then, if
/// `rewrite` is given, store it over the code at its offset (as DMA
/// would: a new RAM generation) and run `passes` more.
fn ring_run(
    code: &[u8],
    at: u32,
    passes: u32,
    budget: Option<u64>,
    cache: bool,
    rewrite: Option<(u32, &[u8])>,
) -> (Regs32, u64, u64, usize) {
    let mut bus = LapBus::new();
    bus.flat.load(at, code);
    let mut c = flat32(Model32::I80486);
    c.set_decode_cache(cache);
    c.r[4] = 0x1_F000;
    let go = |c: &mut Cpu32, bus: &mut LapBus| {
        c.eip = at;
        c.halted = false;
        c.r[5] = passes;
        match budget {
            None => assert_eq!(c.run(bus, 10_000_000), StepResult32::Halted),
            Some(b) => {
                let s = slices_until_halt(c, bus, b, 10_000_000);
                assert_eq!(s.last().map(|s| s.end), Some(SliceEnd::Halted));
            }
        }
    };
    go(&mut c, &mut bus);
    if let Some((off, bytes)) = rewrite {
        bus.flat.load(at + off, bytes);
        bus.gen += 1;
        go(&mut c, &mut bus);
    }
    let blocks = c.block_owner.iter().filter(|&&o| o != 0).count();
    (c.regs(), c.cycles(), c.instructions(), blocks)
}

#[test]
fn blocks_written_over_when_the_arena_wraps_are_never_run() {
    // 900 runs of 63 forms, more than the arena holds: going round, the
    // arena writes new blocks over old ones whose slots are still stamped,
    // so each old block must be dropped (and built again when its entry
    // comes round) rather than run the forms now there.
    let code = ring_code(900, 7, false);
    for budget in [None, Some(500), Some(100_000)] {
        ring_matches_stepped(&code, icache::BLK_HOT + 6, budget, None);
    }
}

#[test]
fn a_link_to_a_block_written_over_when_the_arena_wraps_is_never_taken() {
    // The same, each run leaving its body at a taken Jcc for the next
    // run's: the lap takes the next body by the Jcc's link, which must
    // not outlive the forms it leads to once the arena writes over them
    // (nor, with the code rewritten, the code epoch), and which the
    // runs' new blocks, built where old ones were, must not inherit.
    let code = ring_code(900, 7, true);
    for budget in [None, Some(500), Some(100_000)] {
        ring_matches_stepped(&code, icache::BLK_HOT + 6, budget, None);
    }
    let new = [0x93u8, 0x40, 0x40, 0x97, 0x4B];
    for (off, budget) in [(0, None), (65 * 350 + 9, Some(300))] {
        ring_matches_stepped(&code, icache::BLK_HOT + 4, budget, Some((off, &new)));
    }
}

/// A body that leaves at a taken Jcc for another body takes it by the
/// Jcc's link (`Cpu32::block_links`); once the arena writes over the
/// target's first form (`Cpu32::evict`, in the same fetch context), the
/// link must not lead there any more: the lap looks the target up again.
/// Fails if the overwrite does not end the links (the link would hand
/// the lap the old block word, whose forms are now another block's).
#[test]
fn a_link_whose_target_block_was_written_over_is_not_taken() {
    const A: u32 = 0x800;
    const CTRL: u32 = 0x900;
    const B: u32 = 0xA00;
    let ops = |seed: u32, n: usize| {
        let mut code = ring_code(1, seed, false);
        code.truncate(n);
        code
    };
    let rel32 = |from: u32, to: u32| to.wrapping_sub(from).to_le_bytes();
    // A: 61 register instructions, cmp eax,eax ; jz B (taken).
    let mut a = ops(3, 61);
    a.extend([0x39, 0xC0, 0x0F, 0x84]);
    a.extend(rel32(A + a.len() as u32 + 4, B));
    // B: 62 more, jmp CTRL; CTRL: dec ebp ; jnz A ; hlt.
    let mut b = ops(17, 62);
    b.push(0xE9);
    b.extend(rel32(B + b.len() as u32 + 4, CTRL));
    let mut ctrl = vec![0x4D, 0x0F, 0x85];
    ctrl.extend(rel32(CTRL + 7, A));
    ctrl.push(0xF4);
    let run = |cache: bool| {
        let mut bus = LapBus::new();
        bus.flat.load(A, &a);
        bus.flat.load(B, &b);
        bus.flat.load(CTRL, &ctrl);
        let mut c = eager(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = A;
        c.r[5] = 6;
        assert_eq!(c.run(&mut bus, 1_000_000), StepResult32::Halted);
        if cache {
            let slot = |c: &Cpu32, at: u32| c.slot_blk(icache::slot_index(at));
            let (blk_a, blk_b) = (slot(&c, A), slot(&c, B));
            assert_eq!(
                blk_a >> icache::BLK_LEN_SHIFT,
                63,
                "A's body: 61 + CMP + Jcc"
            );
            assert_eq!(
                blk_b >> icache::BLK_LEN_SHIFT,
                62,
                "B's body: 62, JMP ends it"
            );
            let jcc = (blk_a & icache::BLK_START) as usize + 62;
            assert_eq!(c.chain_link(jcc, B), blk_b, "A's Jcc is linked to B's body");
            c.evict((blk_b & icache::BLK_START) as usize, 1);
            assert_eq!(slot(&c, B), 0, "B's block was dropped");
            assert_eq!(c.chain_link(jcc, B), 0, "the link to B's old forms is gone");
        }
        // Again: B's body is built anew elsewhere and linked to afresh.
        c.halted = false;
        c.eip = A;
        c.r[5] = 3;
        assert_eq!(c.run(&mut bus, 1_000_000), StepResult32::Halted);
        (c.regs(), c.cycles(), c.instructions())
    };
    assert_eq!(run(true), run(false));
}

/// [`ring_run`] with the decode cache on (where blocks must have been
/// built) and off: the same registers, clocks and instructions.
fn ring_matches_stepped(
    code: &[u8],
    passes: u32,
    budget: Option<u64>,
    rewrite: Option<(u32, &[u8])>,
) {
    let on = ring_run(code, 0x2000, passes, budget, true, rewrite);
    let off = ring_run(code, 0x2000, passes, budget, false, rewrite);
    assert!(on.3 > 400, "blocks were built: {}", on.3);
    assert_eq!(on.0, off.0, "{rewrite:?} {budget:?}");
    assert_eq!((on.1, on.2), (off.1, off.2), "{rewrite:?} {budget:?}");
}

#[test]
fn code_rewritten_after_its_block_was_written_over_runs_its_new_bytes() {
    // The first run's blocks, some of them dropped as the arena wrapped
    // and built again, then a rewrite of the first run's instructions
    // and of one in the middle of the code: the rebuilt blocks must
    // hold the new bytes.
    let code = ring_code(700, 99, false);
    let new = [0x93u8, 0x40, 0x40, 0x97, 0x4B];
    for (off, budget) in [(0, None), (64 * 350 + 9, None), (64 * 350 + 9, Some(300))] {
        ring_matches_stepped(&code, icache::BLK_HOT + 4, budget, Some((off, &new)));
    }
}

#[test]
fn a_slot_refilled_by_other_code_keeps_its_new_block_when_the_old_is_written_over() {
    // Two copies of different code 64 KiB apart share their slots
    // (`icache::slot_index`): the second fills the first's slots again and
    // builds blocks of its own there, while the arena still holds the
    // first's; writing over those later must not drop (or run) the wrong
    // one.
    let a = ring_code(300, 5, false);
    let b = ring_code(800, 11, false);
    let run = |cache: bool| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &a);
        bus.flat.load(0x1_2000, &b[..]);
        let mut c = flat32(Model32::I80486);
        c.set_decode_cache(cache);
        c.r[4] = 0x1_F000;
        let mut out = Vec::new();
        for at in [0x2000u32, 0x1_2000, 0x2000, 0x1_2000] {
            c.eip = at;
            c.halted = false;
            c.r[5] = icache::BLK_HOT + 4;
            assert_eq!(c.run(&mut bus, 10_000_000), StepResult32::Halted);
            out.push((c.regs(), c.cycles(), c.instructions()));
        }
        out
    };
    assert_eq!(run(true), run(false));
}

/// A slot whose block was built, stamped again in a new fetch context (a
/// TLB flush ends the code epoch), has its block built again at its next
/// visit, not after `BLK_HOT` more: hot loops get their bodies back at
/// once after each CR3 load or INVLPG. Fails if a re-stamped hot slot
/// starts counting from zero (its word is then a count of 1).
#[test]
fn a_hot_slot_stamped_in_a_new_context_builds_its_block_at_the_next_visit() {
    // 2000: inc edx ; inc ebx ; dec ecx ; jnz 2000 (four instructions a
    // pass), ECX large enough never to end the loop here.
    let code = [0x42, 0x43, 0x49, 0x75, 0xFB, 0xF4];
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &code);
    let mut c = flat32(Model32::I80486);
    c.eip = 0x2000;
    c.r[1] = 1_000_000;
    c.r[2] = 0;
    let slot = icache::slot_index(0x2000);
    let passes = u64::from(icache::BLK_HOT) + 4;
    assert_eq!(c.run(&mut bus, 4 * passes), StepResult32::Executed);
    assert!(
        c.slot_blk(slot) >= 1 << icache::BLK_LEN_SHIFT,
        "the loop's block is built after {passes} passes"
    );
    c.flush_tlb_all();
    // Pass one looks the slots up again (and stamps them); pass two visits.
    assert_eq!(c.run(&mut bus, 8), StepResult32::Executed);
    assert_eq!(c.eip, 0x2000);
    assert!(
        c.slot_blk(slot) >= 1 << icache::BLK_LEN_SHIFT,
        "built again at the second pass after the flush, word {:#x}",
        c.slot_blk(slot)
    );
    assert_eq!(c.r[2], passes as u32 + 2, "EDX counts the passes");
}

/// A loop whose body reads and writes a memory-mapped device (B000h, not
/// lent: byte calls) between RAM accesses: ECX = 50 passes of
/// `eax = [3000h] + ecx; [3004h] = eax; edx = [B000h] + eax; [B004h] = dl;
/// ebx += 1; esi += ebx`, then HLT.
const MMIO_LOOP: [u8; 33] = [
    0xA1, 0x00, 0x30, 0x00, 0x00, // 2000: mov eax, [3000h]
    0x01, 0xC8, // 2005: add eax, ecx
    0xA3, 0x04, 0x30, 0x00, 0x00, // 2007: mov [3004h], eax
    0x8B, 0x15, 0x00, 0xB0, 0x00, 0x00, // 200C: mov edx, [B000h]
    0x01, 0xC2, // 2012: add edx, eax
    0x88, 0x15, 0x04, 0xB0, 0x00, 0x00, // 2014: mov [B004h], dl
    0x43, // 201A: inc ebx
    0x01, 0xDE, // 201B: add esi, ebx
    0x49, // 201D: dec ecx
    0x75, 0xE0, // 201E: jnz 2000h
    0xF4, // 2020: hlt
];

#[test]
fn a_body_reaching_a_device_tells_it_the_stepped_clock_and_stops_at_its_event() {
    // The device sees each access at the clock a stepped machine tells it
    // before that instruction, and its write (an event asking for the
    // slice to end) ends the slice right after the MOV, as it does for a
    // stepped machine: the same slices, states, clocks and device log
    // with blocks as with every instruction a whole step.
    let run = |cache: bool, budget: u64| {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &MMIO_LOOP);
        bus.flat.load(0x3000, &7u32.to_le_bytes());
        bus.flat.load(0xB000, &0x100u32.to_le_bytes());
        bus.mmio = 0xB000..0xB100;
        let mut c = eager(Model32::PentiumPro);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        c.r[1] = 50;
        let s = slices_until_halt(&mut c, &mut bus, budget, 10_000);
        assert_eq!(s.last().map(|s| s.end), Some(SliceEnd::Halted));
        let r = c.regs();
        // By hand: EBX counts the passes, ESI sums 1..50, ECX ends at 0.
        assert_eq!((r.r[3], r.r[6], r.r[1]), (50, 1275, 0), "{cache} {budget}");
        // Four byte reads and one byte write per pass.
        assert_eq!(bus.mmio_log.len(), 50 * 5, "{cache} {budget}");
        // The loop's body from 2000h: its length in instructions.
        let blk = c.slot_blk(icache::slot_index(0x2000));
        let len = if blk >= 1 << icache::BLK_LEN_SHIFT {
            blk >> icache::BLK_LEN_SHIFT
        } else {
            0
        };
        ((s, r, c.cycles(), c.instructions(), bus.mmio_log), len)
    };
    for budget in [1_000_000, 500, 37] {
        let (on, len) = run(true, budget);
        let (off, _) = run(false, budget);
        if budget == 1_000_000 {
            // The accesses ran inside a body: the one from 2000h holds
            // the whole loop, its JNZ included.
            assert_eq!(len, 10, "the body from 2000h");
        }
        // Each write ended a slice: at least one slice per pass.
        assert!(on.0.len() > 50, "{budget}: {} slices", on.0.len());
        assert_eq!(on, off, "budget {budget}");
    }
}

/// The LOOP family and MOVS/STOS/LODS without REP inside bodies
/// (`forms::LOOP_BODY`, `forms::STR_ONE`): three variants of
/// ```text
/// 2000: lodsb                 AC
///       add ebx, eax          01 C3
///       stosb                 AA
///       cmp al, 7             3C 07
///       loopne 2000           E0 F8      (variant 2: a16 loopne, 67 E0 F7)
///       inc edx               42
///       jecxz done            E3 07      (variant 2: a16 jcxz, 67 E3 07)
///       cmp al, [esi]         3A 06
///       movsb                 A4
///       a16 loope 2000        67 E1 EF   (variants 1 and 2: a16 loop)
///       nop                   90
/// done: hlt                   F4
/// ```
/// over data at 3000h ([`loop_data`]), ESI = 3000h, EDI = 4000h, EAX =
/// EBX = EDX = 0: the LOOPNE runs up to each 7, the MOVSB copies the byte
/// after it, and the LOOPE goes on while that byte is 7 too. Worked out
/// by stepping the program by hand (a script): variant 0 (ECX = 200)
/// leaves at the first 7 not followed by 7 with EBX = 205, EDX = 17, ECX
/// = 141, ESI = 303Bh, EDI = 403Bh after 297 instructions; variant 1
/// (ECX = 200) runs ECX down to 0: EBX = 695, EDX = 58, ESI = 30C8h, EDI
/// = 40C8h, 1003 instructions; variant 2 is variant 1 with CX the counter
/// and ECX = 500C8h: the same, ECX's top half (5) kept.
const LOOP_PAT: [u8; 14] = [1, 7, 7, 2, 3, 7, 7, 4, 7, 7, 5, 6, 7, 7];

/// [`loop_code`]'s data: four [`LOOP_PAT`]s and 2, 7, 9, over and over.
fn loop_data() -> Vec<u8> {
    let mut one: Vec<u8> = LOOP_PAT.repeat(4);
    one.extend([2, 7, 9]);
    one.iter().copied().cycle().take(400).collect()
}

fn loop_code(variant: u8) -> Vec<u8> {
    let code: &[u8] = match variant {
        0 => &[
            0xAC, 0x01, 0xC3, 0xAA, 0x3C, 0x07, 0xE0, 0xF8, 0x42, 0xE3, 0x07, 0x3A, 0x06, 0xA4,
            0x67, 0xE1, 0xEF, 0x90, 0xF4,
        ],
        1 => &[
            0xAC, 0x01, 0xC3, 0xAA, 0x3C, 0x07, 0xE0, 0xF8, 0x42, 0xE3, 0x07, 0x3A, 0x06, 0xA4,
            0x67, 0xE2, 0xEF, 0x90, 0xF4,
        ],
        _ => &[
            0xAC, 0x01, 0xC3, 0xAA, 0x3C, 0x07, 0x67, 0xE0, 0xF7, 0x42, 0x67, 0xE3, 0x07, 0x3A,
            0x06, 0xA4, 0x67, 0xE2, 0xED, 0x90, 0xF4,
        ],
    };
    code.to_vec()
}

/// Run `c` for `steps` instructions, or in slices of `budget` clocks
/// until it halts, or (neither) whole until it halts: the slices.
fn run_for(c: &mut Cpu32, bus: &mut LapBus, steps: Option<u64>, budget: Option<u64>) -> Vec<Slice> {
    match (steps, budget) {
        (Some(n), _) => {
            c.run(bus, n);
            vec![]
        }
        (None, Some(b)) => slices_until_halt(c, bus, b, 100_000),
        (None, None) => {
            assert_eq!(c.run(bus, 10_000), StepResult32::Halted);
            vec![]
        }
    }
}

/// [`loop_code`]'s `variant` on `model`, cache on or off, stopped after
/// `steps` (None: at its HLT) or run in slices of `budget` clocks.
fn loop_run(
    model: Model32,
    variant: u8,
    cache: bool,
    steps: Option<u64>,
    budget: Option<u64>,
) -> (Vec<Slice>, Regs32, u64, u64, Vec<u8>) {
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &loop_code(variant));
    bus.flat.load(0x3000, &loop_data());
    let mut c = eager(model);
    c.set_decode_cache(cache);
    c.eip = 0x2000;
    c.r[1] = if variant == 2 { 0x0005_00C8 } else { 200 };
    (c.r[0], c.r[2], c.r[3]) = (0, 0, 0);
    c.r[6] = 0x3000;
    c.r[7] = 0x4000;
    let s = run_for(&mut c, &mut bus, steps, budget);
    let copied = bus.flat.mem[0x4000..0x4100].to_vec();
    (s, c.regs(), c.cycles(), c.instructions(), copied)
}

#[test]
fn loops_and_string_moves_in_bodies_leave_the_stepped_state() {
    let expect = [
        (205, 17, 141, 0x303B, 0x403B, 297),
        (695, 58, 0, 0x30C8, 0x40C8, 1003),
        (695, 58, 0x0005_0000, 0x30C8, 0x40C8, 1003),
    ];
    for model in [Model32::I80386, Model32::I80486, Model32::PentiumPro] {
        for variant in 0..3u8 {
            let on = loop_run(model, variant, true, None, None);
            let off = loop_run(model, variant, false, None, None);
            let r = &on.1;
            assert_eq!(
                (r.r[3], r.r[2], r.r[1], r.r[6], r.r[7], on.3),
                expect[variant as usize],
                "{model:?} variant {variant}"
            );
            // What the stores left: the bytes read, in order.
            let n = (r.r[7] - 0x4000) as usize;
            assert_eq!(on.4[..n], loop_data()[..n], "{model:?} variant {variant}");
            assert_eq!(
                (&on.1, on.2, on.3, &on.4),
                (&off.1, off.2, off.3, &off.4),
                "{model:?} variant {variant}"
            );
            // Stopped after every step count: inside a body, at a taken
            // and a not-taken LOOPNE, at the JECXZ and the LOOPE.
            for steps in (1..320).step_by(if model == Model32::I80386 { 1 } else { 7 }) {
                let a = loop_run(model, variant, true, Some(steps), None);
                let b = loop_run(model, variant, false, Some(steps), None);
                assert_eq!(
                    (a.1, a.2, a.3, a.4),
                    (b.1, b.2, b.3, b.4),
                    "{model:?} variant {variant}, {steps} steps"
                );
            }
        }
    }
    // In slices of every budget from 1 to 50 clocks: the same slices.
    for variant in 0..3u8 {
        for budget in 1..=50 {
            let on = loop_run(Model32::I80486, variant, true, None, Some(budget));
            let off = loop_run(Model32::I80486, variant, false, None, Some(budget));
            assert_eq!(on, off, "variant {variant}, budget {budget}");
        }
    }
}

#[test]
fn a_loop_in_a_body_counts_with_its_address_size() {
    // 2000: inc edx              42
    // 2001: loop 2000            E2 FD
    // 2003: mov ecx, 20005h      B9 05 00 02 00
    // 2008: inc ebx              43
    // 2009: a16 loop 2008        67 E2 FC
    // 200C: hlt                  F4
    // From ECX = 20003h: the 32-bit LOOP runs 131,075 passes (a CX
    // counter would stop after 3, or 65,539 if it wrapped CX alone), the
    // 16-bit one 5 (an ECX counter would run 131,077), leaving ECX's top
    // half: EDX = 131,075, EBX = 5, ECX = 20000h,
    // 2 x 131,075 + 1 + 2 x 5 + 1 instructions.
    let code = [
        0x42, 0xE2, 0xFD, 0xB9, 0x05, 0x00, 0x02, 0x00, 0x43, 0x67, 0xE2, 0xFC, 0xF4,
    ];
    for cache in [true, false] {
        let mut bus = LapBus::new();
        bus.flat.load(0x2000, &code);
        let mut c = eager(Model32::I80486);
        c.set_decode_cache(cache);
        c.eip = 0x2000;
        (c.r[1], c.r[2], c.r[3]) = (0x2_0003, 0, 0);
        assert_eq!(c.run(&mut bus, 1_000_000), StepResult32::Halted);
        assert_eq!(
            (c.r[2], c.r[3], c.r[1], c.eip, c.instructions()),
            (131_075, 5, 0x2_0000, 0x200D, 2 * 131_075 + 1 + 2 * 5 + 1),
            "cache {cache}"
        );
    }
}

/// Forward Jccs to later forms of the same body (`forms::JCC_SKIP`):
/// ```text
/// 2000: mov eax, ecx      89 C8
///       and eax, 3        83 E0 03
///       jnz l1            75 01      skips the INC
///       inc ebx           43
/// l1:   test cl, 1        F6 C1 01
///       jz l2             74 02      skips the ADD (taken: more clocks
///       add esi, eax      01 C6      than the ADD it skips)
/// l2:   add edi, ecx      01 CF
///       cmp ecx, 1        83 F9 01
///       je done           74 03      skips to the body's end (the HLT)
///       dec ecx           49
///       jnz 2000          75 E7
/// done: hlt               F4
/// ```
/// From ECX = 40 down to 1, where the JE leaves for the HLT: EBX counts
/// the multiples of 4 (10), ESI adds ECX mod 4 for odd ECX (ten 1s and
/// ten 3s: 40), EDI adds 1 + ... + 40 = 820, ECX stays 1; 40 passes of 8
/// instructions, 10 INCs, 20 ADDs, 39 DEC and JNZ pairs and the HLT:
/// 429 instructions.
const SKIP_LOOP: [u8; 26] = [
    0x89, 0xC8, 0x83, 0xE0, 0x03, 0x75, 0x01, 0x43, 0xF6, 0xC1, 0x01, 0x74, 0x02, 0x01, 0xC6, 0x01,
    0xCF, 0x83, 0xF9, 0x01, 0x74, 0x03, 0x49, 0x75, 0xE7, 0xF4,
];

fn skip_run(
    model: Model32,
    cache: bool,
    steps: Option<u64>,
    budget: Option<u64>,
) -> (Vec<Slice>, Regs32, u64, u64) {
    let mut bus = LapBus::new();
    bus.flat.load(0x2000, &SKIP_LOOP);
    let mut c = eager(model);
    c.set_decode_cache(cache);
    c.eip = 0x2000;
    (c.r[1], c.r[3], c.r[6], c.r[7]) = (40, 0, 0, 0);
    let s = run_for(&mut c, &mut bus, steps, budget);
    (s, c.regs(), c.cycles(), c.instructions())
}

#[test]
fn a_jcc_skipping_forms_of_its_own_body_leaves_the_stepped_state() {
    for model in [Model32::I80386, Model32::I80486, Model32::PentiumPro] {
        let on = skip_run(model, true, None, None);
        let off = skip_run(model, false, None, None);
        let r = &on.1;
        assert_eq!(
            (r.r[3], r.r[6], r.r[7], r.r[1], r.eip, on.3),
            (10, 40, 820, 1, 0x201A, 429),
            "{model:?}"
        );
        assert_eq!((&on.1, on.2, on.3), (&off.1, off.2, off.3), "{model:?}");
        for steps in 1..440 {
            let a = skip_run(model, true, Some(steps), None);
            let b = skip_run(model, false, Some(steps), None);
            assert_eq!(a, b, "{model:?} {steps} steps");
        }
        for budget in 1..=80 {
            let a = skip_run(model, true, None, Some(budget));
            let b = skip_run(model, false, None, Some(budget));
            assert_eq!(a, b, "{model:?} budget {budget}");
            for s in &a.0 {
                assert!(s.end != SliceEnd::Budget || s.cycles >= budget);
            }
        }
    }
}
