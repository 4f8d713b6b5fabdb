//! The ia32 core on random code in protected mode with paging on: whatever
//! the bytes, the core answers with architectural faults (here ending in a
//! shutdown, as the IDT is empty), never a host panic or a broken invariant.

use cpu::ia32::{Cpu32, Model32, SegCache, StepResult32, CS};
use cpu::FlatBus;

/// Physical layout of the 1 MiB test memory.
const PD: u32 = 0x8_0000;
const PT: u32 = 0x8_1000;
const CODE: u32 = 0x1000;

/// Run the bytes as 32-bit code on a 386 or 486 (chosen by the first byte)
/// in flat protected mode, CPL 0, paging on: the first MiB identity-mapped
/// except a few pages the input makes absent or read-only, everything above
/// not present. Returns how the run ended (for tests).
pub fn check_exec32(data: &[u8]) -> StepResult32 {
    let Some((&cfg, code)) = data.split_first() else {
        return StepResult32::Executed;
    };
    let model = if cfg & 1 == 0 {
        Model32::I80386
    } else {
        Model32::I80486
    };
    let mut bus = FlatBus::new(0x10_0000);
    // Background memory: the input repeated, so memory operands see bytes
    // from the input too.
    if !code.is_empty() {
        for (k, b) in bus.mem.iter_mut().enumerate().skip(0x2000).take(0x7_0000) {
            *b = code[k % code.len()];
        }
    }
    let n = code.len().min(0x1000);
    bus.load(CODE, &code[..n]);
    bus.load(PD, &(PT | 3).to_le_bytes());
    for i in 0..256u32 {
        let mut pte = (i << 12) | 3;
        // Pages 40h–7Fh: some absent, some read-only, from the config byte.
        if (0x40..0x80).contains(&i) && (cfg >> 1) & 3 == 1 {
            pte &= !1;
        } else if (0x40..0x80).contains(&i) && (cfg >> 1) & 3 == 2 {
            pte &= !2;
        }
        bus.load(PT + 4 * i, &pte.to_le_bytes());
    }
    let mut cpu = Cpu32::new(model);
    cpu.cr[0] |= 0x8000_0001 | if cfg & 8 != 0 { 0x1_0000 } else { 0 };
    cpu.cr[3] = PD;
    cpu.idtr = (0, 0);
    cpu.gdtr = (0, 0);
    for s in 0..6 {
        cpu.seg[s] = SegCache {
            sel: if s == CS { 8 } else { 0x10 },
            base: 0,
            limit: 0xFFFF_FFFF,
            attr: if s == CS { 0xC09B } else { 0xC093 },
            valid: true,
        };
    }
    cpu.eip = CODE;
    cpu.r[4] = 0x1_F000;
    let mut last = StepResult32::Executed;
    for _ in 0..2000 {
        last = cpu.step(&mut bus);
        // Bit 1 of EFLAGS always reads as one.
        assert_eq!(cpu.eflags() & 2, 2);
        match last {
            StepResult32::Executed => {}
            StepResult32::Halted => break,
            StepResult32::Shutdown => {
                // Shutdown is final until reset.
                assert_eq!(cpu.step(&mut bus), StepResult32::Shutdown);
                break;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undefined_opcode_with_an_empty_idt_shuts_down() {
        // 0F FF is undefined on the 386 and 486: #UD, then no IDT entry
        // (limit 0) gives #GP, then #DF, then shutdown.
        assert_eq!(check_exec32(&[0, 0x0F, 0xFF]), StepResult32::Shutdown);
    }

    #[test]
    fn a_write_to_an_absent_page_shuts_down_and_a_hlt_halts() {
        // mov [50000h], eax with page 50h absent (config 2): #PF -> shutdown.
        let code = [2, 0xA3, 0x00, 0x00, 0x05, 0x00, 0xF4];
        assert_eq!(check_exec32(&code), StepResult32::Shutdown);
        // The same with the page present: the store, then HLT.
        let code = [0, 0xA3, 0x00, 0x00, 0x05, 0x00, 0xF4];
        assert_eq!(check_exec32(&code), StepResult32::Halted);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x = 0x1234_5678_9ABC_DEF0u64;
        for k in 0..3000 {
            let len = 1 + k % 300;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            check_exec32(&data);
        }
    }
}
