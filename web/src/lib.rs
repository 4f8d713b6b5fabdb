//! ironpc in a web page.
//!
//! [`Emulator`] is a PC/XT built from bytes the page has (a BIOS, a floppy
//! image) rather than from files, with what a page needs: run a slice of
//! emulated time, feed key events as scan codes, read the screen as text and
//! as RGBA pixels, save and restore the whole machine. It is plain Rust and
//! builds on every target, so host tests exercise the same code the browser
//! runs; on `wasm32` the [`bindings`] module (wasm-bindgen) exports it to
//! JavaScript. The page itself is `web/static/`; `docs/web.md` tells how to
//! build and serve it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod keymap;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

use chipset::{Event, Machine, MachineProfile, MachineState};
use devices::FloppyImage;
use std::path::{Path, PathBuf};

/// The CPU clock of the PC/XT (Hz): emulated seconds are cycles / this.
pub const CPU_HZ: f64 = chipset::CPU_HZ;

/// The machine the page builds: the XT of `test-suites/machines/xt.yaml`
/// (8088, 640 KiB, two 360K drives), with the adapter the page asks for.
fn profile_yaml(video: &str) -> String {
    format!(
        "name: ironpc web (PC/XT)\ncpu: \"8088\"\ntiming: fast\nram_kib: 640\n\
         bios: bios.rom\nvideo: {video}\nfloppies:\n  - type: 360k\n  - type: 360k\n"
    )
}

/// Largest BIOS image the XT maps (64 KiB ending at FFFFFh).
const MAX_BIOS: usize = 0x10000;

/// An XT-class PC built from in-memory images, driven in slices.
pub struct Emulator {
    machine: Machine,
    bios: Vec<u8>,
    bios_name: String,
    video: String,
    floppy: Option<(String, Vec<u8>)>,
}

impl Emulator {
    /// Build a powered-on machine from a BIOS image (`bios_name` is used in
    /// messages) and a display adapter (`cga` or `mda`). Bad input is an
    /// error message naming what is wrong.
    pub fn new(bios_name: &str, bios: Vec<u8>, video: &str) -> Result<Emulator, String> {
        check_bios(bios_name, &bios)?;
        if video != "cga" && video != "mda" {
            return Err(format!(
                "unknown display adapter '{video}' (cga or mda expected)"
            ));
        }
        let machine = build(bios_name, &bios, video)?;
        Ok(Emulator {
            machine,
            bios,
            bios_name: bios_name.to_string(),
            video: video.to_string(),
            floppy: None,
        })
    }

    /// Insert a raw floppy image in drive A:. A size that is no PC floppy
    /// format is an error and leaves the drive as it was. The image stays
    /// in the drive over [`Emulator::reset`]. Returns a note for the user
    /// when the disk is usable as data but not bootable (no 55h AAh
    /// signature at the end of its first sector, which BIOSes check before
    /// they jump to a boot sector), else an empty string.
    pub fn insert_floppy(&mut self, name: &str, data: Vec<u8>) -> Result<String, String> {
        let img =
            FloppyImage::from_bytes(Path::new(name), data.clone()).map_err(|e| e.to_string())?;
        let note = if data.get(510..512) == Some(&[0x55, 0xAA][..]) {
            String::new()
        } else {
            format!("{name} has no boot signature (55h AAh at offset 510): a BIOS will not boot from it")
        };
        self.machine.insert_floppy(0, Some(img));
        self.floppy = Some((name.to_string(), data));
        Ok(note)
    }

    /// Remove the disk from drive A:.
    pub fn eject_floppy(&mut self) {
        self.machine.insert_floppy(0, None);
        self.floppy = None;
    }

    /// Power-cycle: a fresh machine with the same BIOS and the disk last
    /// inserted (as it was inserted: guest writes are forgotten).
    pub fn reset(&mut self) -> Result<(), String> {
        let mut m = build(&self.bios_name, &self.bios, &self.video)?;
        if let Some((name, data)) = &self.floppy {
            let img = FloppyImage::from_bytes(Path::new(name), data.clone())
                .map_err(|e| e.to_string())?;
            m.insert_floppy(0, Some(img));
        }
        self.machine = m;
        Ok(())
    }

    /// Run `cycles` CPU cycles of emulated time; returns the instructions
    /// executed meanwhile.
    pub fn run_cycles(&mut self, cycles: u64) -> u64 {
        let before = self.machine.cpu.instructions;
        self.machine.run_for(cycles);
        self.machine.cpu.instructions - before
    }

    /// CPU cycles since power-on.
    pub fn cycles(&self) -> u64 {
        self.machine.cycles()
    }

    /// Instructions executed since the machine was built.
    pub fn instructions(&self) -> u64 {
        self.machine.cpu.instructions
    }

    /// Emulated seconds since power-on.
    pub fn emulated_seconds(&self) -> f64 {
        self.machine.cycles() as f64 / CPU_HZ
    }

    /// A key went down or up. `code` is a DOM `KeyboardEvent.code` (`KeyA`,
    /// `Enter`, `ArrowUp`...); returns false for keys the XT keyboard lacks.
    pub fn key_event(&mut self, code: &str, down: bool) -> bool {
        let Some(make) = keymap::scancode(code) else {
            return false;
        };
        self.push_scancodes(&[if down { make } else { make | 0x80 }]);
        true
    }

    /// Queue raw scan codes (set 1) to the keyboard.
    pub fn push_scancodes(&mut self, codes: &[u8]) {
        let b = &mut self.machine.board;
        b.keyboard.push_scancodes(codes);
        // The keyboard sends at its own pace: tell the scheduler a byte is due.
        let next = b.keyboard.next_event();
        b.sched.set(Event::Keyboard, next);
    }

    /// Type text and key names (`<enter>`, `<f1>`...), as `ironpc run --type`.
    pub fn type_text(&mut self, text: &str) -> Result<(), String> {
        self.machine
            .type_keys(text)
            .map_err(|e| format!("cannot type {text:?}: unknown key {}", e.0))
    }

    /// The text screen (rows joined by newlines; blank in graphics modes).
    pub fn screen_text(&self) -> String {
        self.machine.screen_text()
    }

    /// The display as a monitor shows it: (width, height, RGBA bytes).
    /// 200-line modes have every line doubled, as `ironpc run --screenshot`
    /// writes them, so the page and the native screenshot agree pixel for
    /// pixel.
    pub fn frame_rgba(&mut self) -> (usize, usize, Vec<u8>) {
        let (w, h, rgb) = self.machine.framebuffer();
        frame_to_rgba(w, h, rgb)
    }

    /// The whole machine as JSON ([`MachineState`]).
    pub fn save_state_json(&self) -> Result<String, String> {
        serde_json::to_string(&self.machine.save_state()).map_err(|e| e.to_string())
    }

    /// The machine behind this emulator (for host-side checks).
    pub fn machine_mut(&mut self) -> &mut Machine {
        &mut self.machine
    }
}

/// Rebuild a machine from [`Emulator::save_state_json`]'s output.
pub fn machine_from_state_json(json: &str) -> Result<Machine, String> {
    let state: MachineState =
        serde_json::from_str(json).map_err(|e| format!("bad machine state: {e}"))?;
    Machine::from_state(state).map_err(|e| e.to_string())
}

/// RGB rows to RGBA, doubling the lines of 200-line (or shorter) modes.
pub fn frame_to_rgba(w: usize, h: usize, rgb: &[u8]) -> (usize, usize, Vec<u8>) {
    let rep = if h <= 200 { 2 } else { 1 };
    let mut out = Vec::with_capacity(w * h * rep * 4);
    for line in rgb.chunks(w * 3).take(h) {
        for _ in 0..rep {
            for px in line.chunks(3) {
                out.extend_from_slice(px);
                out.push(0xFF);
            }
        }
    }
    (w, h * rep, out)
}

fn check_bios(name: &str, bios: &[u8]) -> Result<(), String> {
    if bios.is_empty() || bios.len() % 2048 != 0 || bios.len() > MAX_BIOS {
        return Err(format!(
            "BIOS {name} has {} bytes: a BIOS ROM must be a non-empty multiple of 2 KiB, at most 64 KiB",
            bios.len()
        ));
    }
    Ok(())
}

/// A fresh XT with `bios` mapped to end at FFFFFh and empty drives, built as
/// `Machine::from_config` would but from bytes (a page has no files).
fn build(bios_name: &str, bios: &[u8], video: &str) -> Result<Machine, String> {
    let name = PathBuf::from("web.yaml");
    let mut profile =
        MachineProfile::parse(&profile_yaml(video), &name).map_err(|e| e.to_string())?;
    profile.bios = PathBuf::from(bios_name);
    profile.validate(&name).map_err(|e| e.to_string())?;
    let model: cpu::CpuModel = profile.cpu.parse().map_err(|e| format!("{e}"))?;
    let drives: Vec<_> = profile.floppies.iter().map(|f| f.kind).collect();
    let mut board = chipset::Board::new(profile.ram_kib, profile.video, &drives, profile.pit_8254);
    let base = 0x10_0000 - bios.len() as u32;
    board.map_rom(base, bios.to_vec(), PathBuf::from(bios_name));
    // Power-on registers are the CPU model's reset state (CS:IP = FFFF:0000).
    let regs = cpu::Cpu::<cpu::FastTiming>::new(model).regs;
    Machine::from_state(MachineState {
        profile,
        regs,
        halted: false,
        board,
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2 KiB "BIOS" whose reset vector (the last 16 bytes) writes 'O','K'
    /// to the debug console and then spins: far JMP F000:F800 to the
    /// ROM's start, where `MOV AL,'O'; OUT E9h,AL; MOV AL,'K'; OUT E9h,AL; JMP $`.
    fn tiny_bios() -> Vec<u8> {
        let mut rom = vec![0x90u8; 2048];
        let code = [0xB0, b'O', 0xE6, 0xE9, 0xB0, b'K', 0xE6, 0xE9, 0xEB, 0xFE];
        rom[..code.len()].copy_from_slice(&code);
        // The ROM sits at FF800h = F000:F800; the reset vector is FFFF0h.
        rom[2048 - 16..2048 - 11].copy_from_slice(&[0xEA, 0x00, 0xF8, 0x00, 0xF0]);
        rom
    }

    #[test]
    fn runs_a_bios_from_bytes() {
        let mut e = Emulator::new("tiny.rom", tiny_bios(), "cga").unwrap();
        let n = e.run_cycles(10_000);
        assert!(n >= 6, "only {n} instructions");
        assert_eq!(e.machine_mut().debugcon_output(), b"OK");
        assert!(e.cycles() >= 10_000);
    }

    #[test]
    fn rejects_bad_bios_and_floppy() {
        let err = Emulator::new("x.rom", vec![0; 1000], "cga").err().unwrap();
        assert!(err.contains("x.rom") && err.contains("1000"), "{err}");
        assert!(Emulator::new("x.rom", vec![0; 2048], "vga").is_err());
        let mut e = Emulator::new("tiny.rom", tiny_bios(), "cga").unwrap();
        let err = e.insert_floppy("junk.bin", vec![7; 12345]).unwrap_err();
        assert!(err.contains("junk.bin") && err.contains("12345"), "{err}");
        // A 360K image (40 × 2 × 9 × 512 bytes) is accepted; a blank one
        // cannot boot, and the note says so.
        let note = e.insert_floppy("blank.img", vec![0; 368_640]).unwrap();
        assert!(
            note.contains("blank.img") && note.contains("boot signature"),
            "{note}"
        );
        let mut boot = vec![0; 368_640];
        boot[510] = 0x55;
        boot[511] = 0xAA;
        assert_eq!(e.insert_floppy("boot.img", boot).unwrap(), "");
        e.reset().unwrap();
    }

    #[test]
    fn key_events_queue_make_and_break_codes() {
        let mut e = Emulator::new("tiny.rom", tiny_bios(), "cga").unwrap();
        assert!(e.key_event("KeyA", true));
        assert!(e.key_event("KeyA", false));
        assert!(!e.key_event("MetaLeft", true));
        let q: Vec<u8> = e
            .machine_mut()
            .board
            .keyboard
            .queue
            .iter()
            .copied()
            .collect();
        // 'A' is scan code 1Eh; its break code has bit 7 set.
        assert_eq!(q, [0x1E, 0x9E]);
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut e = Emulator::new("tiny.rom", tiny_bios(), "cga").unwrap();
        e.run_cycles(5_000);
        let json = e.save_state_json().unwrap();
        let m = machine_from_state_json(&json).unwrap();
        assert_eq!(m.cycles(), e.cycles());
        assert_eq!(m.debugcon_output(), b"OK");
        assert!(machine_from_state_json("{").is_err());
    }

    #[test]
    fn rgba_doubles_200_line_modes() {
        // 2×1 RGB frame: red, green.
        let (w, h, px) = frame_to_rgba(2, 1, &[255, 0, 0, 0, 255, 0]);
        assert_eq!((w, h), (2, 2));
        assert_eq!(
            px,
            [255, 0, 0, 255, 0, 255, 0, 255, 255, 0, 0, 255, 0, 255, 0, 255]
        );
        // 350 lines (MDA) are not doubled.
        let rgb = vec![0u8; 350 * 3];
        assert_eq!(frame_to_rgba(1, 350, &rgb).1, 350);
    }
}
