//! `ironpc bench --cpu 386|486`: run a boot-sector workload on the ia32 core
//! ([`cpu::ia32::Cpu32`]) on the same bare board as [`crate::bench`].
//!
//! The image is loaded at 0000:7C00 and started there in real mode, as a
//! BIOS would start a boot sector; the workload switches to protected mode
//! itself. The built-in workload is `workloads/mix32.bin` (source
//! `workloads/mix32.asm`: protected mode with paging on). Each round boots
//! the image on a fresh board and CPU; the report sums all rounds.

use crate::bench::{load_image, BenchReport, Board, Stop, LOAD_ADDR};
use anyhow::{bail, Result};
use cpu::ia32::{Cpu32, Model32, SegCache, StepResult32, CS};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The built-in `mix32` workload (assembled from `workloads/mix32.asm`,
/// ROUNDS=10).
pub const MIX32: &[u8] = include_bytes!("../workloads/mix32.bin");

/// The ia32 model a `--cpu` name selects, if it names one: every model of
/// [`Model32::from_name`] but the 80286, which `bench` runs on the 16-bit
/// core.
pub fn model_from_name(name: &str) -> Option<Model32> {
    let name = name.trim().to_ascii_lowercase();
    Model32::from_name(name.trim_start_matches('i')).filter(|m| *m != Model32::I80286)
}

/// What to run, and how.
#[derive(Clone, Debug)]
pub struct Bench32Options {
    /// A boot-sector image file; `None` for the built-in `mix32`.
    pub image: Option<PathBuf>,
    /// CPU model.
    pub model: Model32,
    /// Times to boot the image (each on a fresh board), at least 1.
    pub rounds: u32,
    /// Give up on a round after this many instructions.
    pub max_instructions: u64,
    /// Give up once this much wall time has passed (over all rounds).
    pub timeout: Option<Duration>,
    /// Use the core's decoded-instruction cache (`--no-decode-cache` turns it off).
    pub decode_cache: bool,
}

impl Default for Bench32Options {
    fn default() -> Self {
        Bench32Options {
            image: None,
            model: Model32::I80386,
            rounds: 1,
            max_instructions: 10_000_000_000,
            timeout: None,
            decode_cache: true,
        }
    }
}

/// Run the benchmark `opts` describes.
pub fn run(opts: &Bench32Options) -> Result<BenchReport> {
    let (name, image) = match &opts.image {
        None => ("mix32 (built-in)".to_string(), MIX32.to_vec()),
        Some(p) => (p.display().to_string(), load_image(p)?),
    };
    if opts.rounds == 0 {
        bail!("rounds must be at least 1");
    }
    let mut report = BenchReport {
        workload: name,
        timing: "table".to_string(),
        model: format!("{:?}", opts.model),
        rounds: opts.rounds,
        instructions: 0,
        cycles: 0,
        wall: Duration::ZERO,
        output: Vec::new(),
        stop: Stop::Limit,
        outputs_agree: true,
    };
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    for i in 0..opts.rounds {
        let mut board = Board::new(&image);
        let mut cpu = Box::new(Cpu32::new(opts.model));
        cpu.set_decode_cache(opts.decode_cache);
        // CS:IP = 0000:7C00 in real mode, as a BIOS hands over to a boot sector.
        cpu.seg[CS] = SegCache {
            sel: 0,
            base: 0,
            limit: 0xFFFF,
            attr: 0x9B,
            valid: true,
        };
        cpu.eip = LOAD_ADDR;
        let start = Instant::now();
        let mut batches = 0u32;
        let stop = loop {
            let r = cpu.run(&mut board, 4096);
            if let Some(v) = board.exit {
                break Stop::Exit(v);
            }
            match r {
                StepResult32::Executed => {}
                // Nothing on this board raises interrupts: a halt is final,
                // and a shutdown ends the run the same way.
                StepResult32::Halted | StepResult32::Shutdown => break Stop::Halted,
            }
            if cpu.instructions() >= opts.max_instructions {
                break Stop::Limit;
            }
            batches = batches.wrapping_add(1);
            if batches % 16 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                break Stop::Timeout;
            }
        };
        report.wall += start.elapsed();
        report.instructions += cpu.instructions();
        report.cycles += cpu.cycles();
        if i > 0 && board.output != report.output {
            report.outputs_agree = false;
        }
        report.output = std::mem::take(&mut board.output);
        report.stop = stop;
        if stop == Stop::Timeout {
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names() {
        assert_eq!(model_from_name("386"), Some(Model32::I80386));
        assert_eq!(model_from_name("80486"), Some(Model32::I80486));
        assert_eq!(model_from_name("80286"), None);
        assert_eq!(model_from_name("8088"), None);
    }

    /// Code rewritten through the board's wrap-around alias (a write past
    /// 1 MiB, which the CPU's own code-page marks do not see: only the
    /// board's RAM generation and events number tell it) runs its new bytes
    /// at once, inside one `run` call's fast lap: the loop's `add bx,1`
    /// becomes `add bx,5` from the pass where CX is 50, so BX = 51 × 1 +
    /// 49 × 5 = 296 (0128h). It fails if the board's `slice_events` does
    /// not follow its alias writes (the lap then runs the stale slot: 100).
    #[test]
    fn code_rewritten_through_the_wrap_around_alias_runs_its_new_bytes() {
        let code: [u8; 39] = [
            0xB8, 0xFF, 0xFF, //       mov ax,0FFFFh
            0x8E, 0xC0, //             mov es,ax         ; base FFFF0h
            0x31, 0xDB, //             xor bx,bx
            0xB9, 0x64, 0x00, //       mov cx,100
            0x83, 0xC3, 0x01, //  top: add bx,1          ; imm at 7C0Ch
            0x83, 0xF9, 0x32, //       cmp cx,50
            0x75, 0x06, //             jne skip
            0x26, 0xC6, 0x06, 0x1C, 0x7C, 0x05, // mov byte [es:7C1Ch],5 ; 107C0Ch -> 7C0Ch
            0xE2, 0xF0, //       skip: loop top
            0x88, 0xD8, 0xE6, 0xE9, // mov al,bl ; out e9h,al
            0x88, 0xF8, 0xE6, 0xE9, // mov al,bh ; out e9h,al
            0xB0, 0x00, 0xE6, 0xF4, // mov al,0 ; out f4h,al
            0xF4, //                   hlt
        ];
        let mut img = vec![0u8; 512];
        img[..code.len()].copy_from_slice(&code);
        img[510] = 0x55;
        img[511] = 0xAA;
        let p =
            std::env::temp_dir().join(format!("ironpc-bench32-{}-alias.img", std::process::id()));
        std::fs::write(&p, &img).unwrap();
        for model in [Model32::I80386, Model32::I80486] {
            let r = run(&Bench32Options {
                image: Some(p.clone()),
                model,
                ..Default::default()
            })
            .unwrap();
            assert_eq!(r.stop, Stop::Exit(0), "{model:?}");
            assert_eq!(r.output, [0x28, 0x01], "{model:?}");
            // 4 to set up, 100 × (add, cmp, jne, loop), the one rewriting
            // MOV, 6 to write out and exit, and the HLT the run stops at.
            assert_eq!(r.instructions, 4 + 100 * 4 + 1 + 6 + 1, "{model:?}");
        }
        std::fs::remove_file(&p).ok();
    }
}
