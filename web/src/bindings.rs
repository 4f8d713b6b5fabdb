//! The JavaScript face of [`Emulator`] (wasm-bindgen). Errors come back as
//! thrown strings the page shows; nothing here panics on bad input.

use crate::{bench, Emulator};
use wasm_bindgen::prelude::*;

/// An XT PC for the page: see [`Emulator`].
#[wasm_bindgen]
pub struct WebPc {
    emu: Emulator,
    frame: Vec<u8>,
    width: usize,
    height: usize,
}

#[wasm_bindgen]
impl WebPc {
    /// Power on a machine with this BIOS image and adapter (`cga`/`mda`).
    #[wasm_bindgen(constructor)]
    pub fn new(bios_name: &str, bios: Vec<u8>, video: &str) -> Result<WebPc, JsError> {
        let emu = Emulator::new(bios_name, bios, video).map_err(|e| JsError::new(&e))?;
        Ok(WebPc {
            emu,
            frame: Vec::new(),
            width: 0,
            height: 0,
        })
    }

    /// Insert a raw floppy image in drive A:; returns a note for the user
    /// (empty when there is nothing to say).
    pub fn insert_floppy(&mut self, name: &str, data: Vec<u8>) -> Result<String, JsError> {
        self.emu
            .insert_floppy(name, data)
            .map_err(|e| JsError::new(&e))
    }

    /// Remove the disk from drive A:.
    pub fn eject_floppy(&mut self) {
        self.emu.eject_floppy();
    }

    /// Power-cycle the machine (same BIOS, same disk).
    pub fn reset(&mut self) -> Result<(), JsError> {
        self.emu.reset().map_err(|e| JsError::new(&e))
    }

    /// Run this many CPU cycles; returns the instructions executed.
    pub fn run_cycles(&mut self, cycles: f64) -> f64 {
        let c = if cycles.is_finite() && cycles > 0.0 {
            cycles.min(1e9) as u64
        } else {
            0
        };
        self.emu.run_cycles(c) as f64
    }

    /// CPU cycles since power-on.
    pub fn cycles(&self) -> f64 {
        self.emu.cycles() as f64
    }

    /// Instructions since power-on.
    pub fn instructions(&self) -> f64 {
        self.emu.instructions() as f64
    }

    /// Emulated seconds since power-on.
    pub fn emulated_seconds(&self) -> f64 {
        self.emu.emulated_seconds()
    }

    /// A key event by DOM `code`; false if the XT has no such key.
    pub fn key_event(&mut self, code: &str, down: bool) -> bool {
        self.emu.key_event(code, down)
    }

    /// Type text and key names (`ver<enter>`).
    pub fn type_text(&mut self, text: &str) -> Result<(), JsError> {
        self.emu.type_text(text).map_err(|e| JsError::new(&e))
    }

    /// The text screen.
    pub fn screen_text(&self) -> String {
        self.emu.screen_text()
    }

    /// Render the display; read it with `frame_width`, `frame_height` and
    /// `frame_rgba`.
    pub fn render(&mut self) {
        let (w, h, px) = self.emu.frame_rgba();
        self.width = w;
        self.height = h;
        self.frame = px;
    }

    /// Width of the last rendered frame.
    pub fn frame_width(&self) -> usize {
        self.width
    }

    /// Height of the last rendered frame (200-line modes doubled).
    pub fn frame_height(&self) -> usize {
        self.height
    }

    /// RGBA bytes of the last rendered frame.
    pub fn frame_rgba(&self) -> Vec<u8> {
        self.frame.clone()
    }

    /// The whole machine as JSON (for tests comparing with a native render).
    pub fn save_state_json(&self) -> Result<String, JsError> {
        self.emu.save_state_json().map_err(|e| JsError::new(&e))
    }
}

/// Run the built-in `mix` workload once; returns
/// `[instructions, cycles, exited (0/1)]`. The page times the call.
#[wasm_bindgen]
pub fn bench_mix() -> Vec<f64> {
    let r = bench::run_mix();
    vec![
        r.instructions as f64,
        r.cycles as f64,
        if r.exited { 1.0 } else { 0.0 },
    ]
}

/// The `mix` workload's output text (its checksum line).
#[wasm_bindgen]
pub fn bench_mix_output() -> String {
    String::from_utf8_lossy(&bench::run_mix().output).into_owned()
}
