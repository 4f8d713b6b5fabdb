//! VGA and Bochs VBE behaviour against the register descriptions of the IBM
//! VGA (sequencer, CRTC, graphics and attribute controllers, DAC) and the
//! Bochs DISPI interface. Expected values are worked out by hand in each test
//! from those descriptions; the standard mode register sets are the IBM BIOS
//! values for modes 03h, 04h, 12h and 13h.

use devices::vga::{vbe, Vga};

// ---- helpers ----

fn out(v: &mut Vga, port: u16, val: u8) {
    v.io_write(port, val, 0);
}

fn inp(v: &mut Vga, port: u16) -> u8 {
    v.io_read(port, 0)
}

fn seq(v: &mut Vga, i: u8, val: u8) {
    out(v, 0x3C4, i);
    out(v, 0x3C5, val);
}

fn gc(v: &mut Vga, i: u8, val: u8) {
    out(v, 0x3CE, i);
    out(v, 0x3CF, val);
}

fn crtc(v: &mut Vga, i: u8, val: u8) {
    out(v, 0x3D4, i);
    out(v, 0x3D5, val);
}

/// Write an attribute register (reset the flip-flop first, then index, data)
/// and leave the palette address source set so the screen shows.
fn attr(v: &mut Vga, i: u8, val: u8) {
    inp(v, 0x3DA);
    out(v, 0x3C0, i);
    out(v, 0x3C0, val);
    out(v, 0x3C0, 0x20);
}

fn dac(v: &mut Vga, i: u8, rgb: [u8; 3]) {
    out(v, 0x3C8, i);
    for c in rgb {
        out(v, 0x3C9, c);
    }
}

struct Mode {
    misc: u8,
    seq: [u8; 4],
    crtc: [u8; 25],
    gc: [u8; 9],
    attr: [u8; 21],
}

fn set_mode(v: &mut Vga, m: &Mode) {
    out(v, 0x3C2, m.misc);
    for (i, &s) in m.seq.iter().enumerate() {
        seq(v, i as u8 + 1, s);
    }
    crtc(v, 0x11, 0); // unprotect CR00–CR07
    for (i, &c) in m.crtc.iter().enumerate() {
        crtc(v, i as u8, c);
    }
    for (i, &g) in m.gc.iter().enumerate() {
        gc(v, i as u8, g);
    }
    inp(v, 0x3DA);
    for (i, &a) in m.attr.iter().enumerate() {
        out(v, 0x3C0, i as u8);
        out(v, 0x3C0, a);
    }
    out(v, 0x3C0, 0x20);
}

const MODE_03: Mode = Mode {
    misc: 0x67,
    seq: [0x00, 0x03, 0x00, 0x02],
    crtc: [
        0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00,
        0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF],
    attr: [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E,
        0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00,
    ],
};

const MODE_13: Mode = Mode {
    misc: 0x63,
    seq: [0x01, 0x0F, 0x00, 0x0E],
    crtc: [
        0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF],
    attr: [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
        0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00,
    ],
};

const MODE_12: Mode = Mode {
    misc: 0xE3,
    seq: [0x01, 0x0F, 0x00, 0x06],
    crtc: [
        0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF],
    attr: [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E,
        0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00,
    ],
};

const MODE_04: Mode = Mode {
    misc: 0x63,
    seq: [0x09, 0x03, 0x00, 0x02],
    crtc: [
        0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x00, 0xFF],
    attr: [
        0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x01, 0x00, 0x03, 0x00, 0x00,
    ],
};

/// Sequential plane access through a 64 KiB window at A0000h, RAM enabled:
/// the set-up the write- and read-mode tests start from.
fn planar() -> Vga {
    let mut v = Vga::new();
    out(&mut v, 0x3C2, 0x63);
    seq(&mut v, 2, 0x0F);
    seq(&mut v, 4, 0x06);
    gc(&mut v, 5, 0x00);
    gc(&mut v, 6, 0x05);
    gc(&mut v, 8, 0xFF);
    v
}

fn put_planes(v: &mut Vga, off: usize, bytes: [u8; 4]) {
    for (p, b) in bytes.iter().enumerate() {
        v.vram[off * 4 + p] = *b;
    }
}

fn planes(v: &Vga, off: usize) -> [u8; 4] {
    [0, 1, 2, 3].map(|p| v.plane_byte(p, off))
}

fn pixel(fb: &[u8], w: usize, x: usize, y: usize) -> [u8; 3] {
    let i = (y * w + x) * 3;
    [fb[i], fb[i + 1], fb[i + 2]]
}

/// A 6-bit DAC component as the 8-bit value shown: c·255/63, the top two
/// bits repeated below (0x3F → 0xFF, 0x20 → 0x82, 0x15 → 0x55).
fn dac8(c: u8) -> u8 {
    (c << 2) | (c >> 4)
}

// ---- registers ----

#[test]
fn sequencer_and_graphics_registers_read_back_implemented_bits() {
    let mut v = Vga::new();
    out(&mut v, 0x3C4, 0x02);
    assert_eq!(inp(&mut v, 0x3C4), 0x02, "index reads back");
    out(&mut v, 0x3C5, 0xFF);
    // Map mask has four bits.
    assert_eq!(inp(&mut v, 0x3C5), 0x0F);
    out(&mut v, 0x3C4, 0x04);
    out(&mut v, 0x3C5, 0xFF);
    // Memory mode: extended memory, odd/even, chain-4 (bits 1–3).
    assert_eq!(inp(&mut v, 0x3C5), 0x0E);
    out(&mut v, 0x3CE, 0x03);
    out(&mut v, 0x3CF, 0xFF);
    // Data rotate: rotate count (0–2) and function select (3–4).
    assert_eq!(inp(&mut v, 0x3CF), 0x1F);
    out(&mut v, 0x3CE, 0x08);
    out(&mut v, 0x3CF, 0x5A);
    assert_eq!(inp(&mut v, 0x3CF), 0x5A);
    out(&mut v, 0x3CE, 0x04);
    out(&mut v, 0x3CF, 0xFF);
    assert_eq!(inp(&mut v, 0x3CF), 0x03, "read map select is two bits");
}

#[test]
fn misc_output_moves_crtc_between_3b4_and_3d4() {
    let mut v = Vga::new();
    out(&mut v, 0x3C2, 0x01);
    assert_eq!(inp(&mut v, 0x3CC), 0x01, "misc output reads at 3CCh");
    crtc(&mut v, 0x0E, 0x12);
    out(&mut v, 0x3D4, 0x0E);
    assert_eq!(inp(&mut v, 0x3D5), 0x12);
    // With I/O address select clear the CRTC answers at 3B4h/3B5h only.
    out(&mut v, 0x3C2, 0x00);
    assert_eq!(inp(&mut v, 0x3D5), 0xFF);
    out(&mut v, 0x3B4, 0x0E);
    assert_eq!(inp(&mut v, 0x3B5), 0x12);
    out(&mut v, 0x3B5, 0x34);
    out(&mut v, 0x3C2, 0x01);
    out(&mut v, 0x3D4, 0x0E);
    assert_eq!(inp(&mut v, 0x3D5), 0x34);
}

#[test]
fn crtc_protect_bit_locks_registers_0_to_7_but_not_line_compare_bit_8() {
    let mut v = Vga::new();
    out(&mut v, 0x3C2, 0x01);
    crtc(&mut v, 0x01, 0x4F);
    crtc(&mut v, 0x07, 0x00);
    crtc(&mut v, 0x11, 0x80); // protect
    crtc(&mut v, 0x01, 0x27);
    crtc(&mut v, 0x07, 0xFF);
    crtc(&mut v, 0x09, 0x0F); // CR09 is not protected
    out(&mut v, 0x3D4, 0x01);
    assert_eq!(inp(&mut v, 0x3D5), 0x4F);
    out(&mut v, 0x3D4, 0x07);
    assert_eq!(
        inp(&mut v, 0x3D5),
        0x10,
        "only the line compare bit 8 is writable"
    );
    out(&mut v, 0x3D4, 0x09);
    assert_eq!(inp(&mut v, 0x3D5), 0x0F);
    crtc(&mut v, 0x11, 0x00);
    crtc(&mut v, 0x01, 0x27);
    out(&mut v, 0x3D4, 0x01);
    assert_eq!(inp(&mut v, 0x3D5), 0x27);
}

#[test]
fn attribute_flip_flop_alternates_and_input_status_1_resets_it() {
    let mut v = Vga::new();
    out(&mut v, 0x3C2, 0x01);
    inp(&mut v, 0x3DA);
    out(&mut v, 0x3C0, 0x05); // index 5, PAS clear
    out(&mut v, 0x3C0, 0x3F); // data
    out(&mut v, 0x3C0, 0x26); // index 6 with PAS set
    assert_eq!(inp(&mut v, 0x3C0), 0x26, "3C0h reads the index and PAS");
    out(&mut v, 0x3C0, 0x11); // data for 6
    assert_eq!(v.attr.regs[5], 0x3F);
    assert_eq!(v.attr.regs[6], 0x11);
    // Leave the flip-flop on "data", then read input status 1: the next
    // write is an index again.
    out(&mut v, 0x3C0, 0x07);
    inp(&mut v, 0x3DA);
    out(&mut v, 0x3C0, 0x08);
    out(&mut v, 0x3C0, 0x15);
    assert_eq!(v.attr.regs[7], 0x00, "index 7 never received data");
    assert_eq!(v.attr.regs[8], 0x15);
    out(&mut v, 0x3C0, 0x08);
    assert_eq!(inp(&mut v, 0x3C1), 0x15, "3C1h reads the selected register");
    // Palette registers hold six bits.
    out(&mut v, 0x3C0, 0xFF);
    assert_eq!(v.attr.regs[8], 0x3F);
}

#[test]
fn dac_indices_auto_increment_and_hold_six_bits() {
    let mut v = Vga::new();
    out(&mut v, 0x3C8, 0x10);
    for c in [0x01, 0x02, 0xFF, 0x04, 0x05, 0x06] {
        out(&mut v, 0x3C9, c);
    }
    // Two entries written, the write index moved on by two.
    assert_eq!(inp(&mut v, 0x3C8), 0x12);
    assert_eq!(v.dac.entries[0x10], [0x01, 0x02, 0x3F]);
    assert_eq!(v.dac.entries[0x11], [0x04, 0x05, 0x06]);
    out(&mut v, 0x3C7, 0x10);
    assert_eq!(inp(&mut v, 0x3C7) & 3, 3, "DAC state: read mode");
    let got: Vec<u8> = (0..6).map(|_| inp(&mut v, 0x3C9)).collect();
    assert_eq!(got, [0x01, 0x02, 0x3F, 0x04, 0x05, 0x06]);
    // Index 0xFF wraps to 0.
    out(&mut v, 0x3C8, 0xFF);
    for _ in 0..3 {
        out(&mut v, 0x3C9, 0x2A);
    }
    assert_eq!(inp(&mut v, 0x3C8), 0x00);
    assert_eq!(inp(&mut v, 0x3C7) & 3, 0, "DAC state: write mode");
    // Writing the write index restarts the red/green/blue sequence.
    out(&mut v, 0x3C8, 0x20);
    out(&mut v, 0x3C9, 0x11);
    out(&mut v, 0x3C8, 0x20);
    for c in [0x07, 0x08, 0x09] {
        out(&mut v, 0x3C9, c);
    }
    assert_eq!(v.dac.entries[0x20], [0x07, 0x08, 0x09]);
}

#[test]
fn retrace_bits_follow_the_mode_3_raster() {
    // A CPU clock equal to the 28.322 MHz dot clock makes one cycle one dot.
    let mut v = Vga::with_config(devices::vga::DEFAULT_VRAM, 28_322_000).unwrap();
    set_mode(&mut v, &MODE_03);
    // Mode 3: 100 characters × 9 dots per line (CR00 + 5), 720 shown
    // (CR01 + 1 = 80); 449 lines (CR06 + CR07 bits + 2), 400 shown;
    // vertical retrace from line 412 (CR10 + 256) to where CR11's low
    // nibble (0xE) matches: lines 412–413.
    let line = 900u64;
    assert_eq!(inp(&mut v, 0x3DA) & 0x09, 0, "first dot: drawing");
    assert_eq!(v.io_read(0x3DA, 719) & 0x09, 0);
    assert_eq!(v.io_read(0x3DA, 720) & 0x09, 0x01, "horizontal blanking");
    assert_eq!(
        v.io_read(0x3DA, 400 * line + 5) & 0x09,
        0x01,
        "vertical blanking"
    );
    assert_eq!(
        v.io_read(0x3DA, 412 * line + 5) & 0x09,
        0x09,
        "vertical retrace"
    );
    assert_eq!(v.io_read(0x3DA, 413 * line + 899) & 0x08, 0x08);
    assert_eq!(v.io_read(0x3DA, 414 * line) & 0x08, 0);
    assert_eq!(v.cycles_per_frame(), 900 * 449);
    assert_eq!(v.io_read(0x3DA, 900 * 449 + 412 * line) & 0x08, 0x08);
}

// ---- write and read modes ----

#[test]
fn write_mode_0_set_reset_rotate_logical_ops_and_bit_mask() {
    let mut v = planar();
    put_planes(&mut v, 0, [0xF0, 0x0F, 0xAA, 0x55]);
    // Set/reset enabled for planes 0 and 1, with values 1 and 0: those
    // planes get all ones and all zeros; planes 2 and 3 get the CPU byte.
    gc(&mut v, 0, 0b0001);
    gc(&mut v, 1, 0b0011);
    v.mem_write(0, 0x3C);
    assert_eq!(planes(&v, 0), [0xFF, 0x00, 0x3C, 0x3C]);

    // Bit mask 0x0F keeps the latch's upper four bits (latches loaded by a read).
    put_planes(&mut v, 1, [0xF0, 0x0F, 0xAA, 0x55]);
    v.mem_read(1);
    gc(&mut v, 1, 0);
    gc(&mut v, 8, 0x0F);
    v.mem_write(1, 0x3C);
    // Each plane: (0x3C & 0x0F) | (latch & 0xF0).
    assert_eq!(planes(&v, 1), [0xFC, 0x0C, 0xAC, 0x5C]);

    // Rotate right by 1 then XOR with the latches, full bit mask.
    put_planes(&mut v, 2, [0xF0, 0x0F, 0xAA, 0x55]);
    v.mem_read(2);
    gc(&mut v, 8, 0xFF);
    gc(&mut v, 3, (3 << 3) | 1);
    v.mem_write(2, 0x13); // rotated right by one: 0x89
    assert_eq!(
        planes(&v, 2),
        [0xF0 ^ 0x89, 0x0F ^ 0x89, 0xAA ^ 0x89, 0x55 ^ 0x89]
    );

    // AND and OR, no rotation.
    let and: fn(u8, u8) -> u8 = |a, b| a & b;
    let or: fn(u8, u8) -> u8 = |a, b| a | b;
    for (func, f) in [(1u8, and), (2, or)] {
        put_planes(&mut v, 3, [0xF0, 0x0F, 0xAA, 0x55]);
        v.mem_read(3);
        gc(&mut v, 3, func << 3);
        v.mem_write(3, 0x3C);
        assert_eq!(
            planes(&v, 3),
            [f(0xF0, 0x3C), f(0x0F, 0x3C), f(0xAA, 0x3C), f(0x55, 0x3C)]
        );
    }

    // The map mask limits which planes are written.
    gc(&mut v, 3, 0);
    seq(&mut v, 2, 0b0100);
    put_planes(&mut v, 4, [1, 2, 3, 4]);
    v.mem_write(4, 0x99);
    assert_eq!(planes(&v, 4), [1, 2, 0x99, 4]);
}

#[test]
fn write_mode_1_copies_the_latches() {
    let mut v = planar();
    put_planes(&mut v, 0x100, [0x11, 0x22, 0x33, 0x44]);
    gc(&mut v, 5, 0x01);
    // Bit mask and set/reset do not apply in write mode 1.
    gc(&mut v, 8, 0x00);
    gc(&mut v, 1, 0x0F);
    v.mem_read(0x100);
    v.mem_write(0x200, 0xEE);
    assert_eq!(planes(&v, 0x200), [0x11, 0x22, 0x33, 0x44]);
}

#[test]
fn write_mode_2_spreads_data_bits_over_the_planes() {
    let mut v = planar();
    put_planes(&mut v, 0, [0x00, 0x00, 0xFF, 0xFF]);
    v.mem_read(0);
    gc(&mut v, 5, 0x02);
    gc(&mut v, 8, 0x81);
    // Colour 0b1010: planes 1 and 3 get ones, 0 and 2 zeros, in the bit
    // mask's two bits; other bits come from the latches.
    v.mem_write(0, 0b1010);
    assert_eq!(planes(&v, 0), [0x00, 0x81, 0x7E, 0xFF]);
}

#[test]
fn write_mode_3_masks_with_rotated_data_and_writes_set_reset() {
    let mut v = planar();
    put_planes(&mut v, 0, [0x0F, 0x0F, 0x0F, 0x0F]);
    v.mem_read(0);
    gc(&mut v, 5, 0x03);
    gc(&mut v, 0, 0b0110);
    gc(&mut v, 1, 0b0000); // enable set/reset is ignored in mode 3
    gc(&mut v, 8, 0xF0);
    // Mask = data 0x3C AND bit mask 0xF0 = 0x30.
    v.mem_write(0, 0x3C);
    assert_eq!(planes(&v, 0), [0x0F, 0x3F, 0x3F, 0x0F]);
    // With rotation: 0xF0 rotated right by 2 is 0x3C, mask 0x30 again;
    // the colour is 0b0001 this time.
    put_planes(&mut v, 1, [0xFF, 0xFF, 0x00, 0x00]);
    v.mem_read(1);
    gc(&mut v, 0, 0b0001);
    gc(&mut v, 3, 2);
    v.mem_write(1, 0xF0);
    assert_eq!(planes(&v, 1), [0xFF, 0xCF, 0x00, 0x00]);
}

#[test]
fn read_mode_0_returns_the_selected_plane_and_loads_latches() {
    let mut v = planar();
    put_planes(&mut v, 7, [0xA1, 0xB2, 0xC3, 0xD4]);
    for p in 0..4u8 {
        gc(&mut v, 4, p);
        assert_eq!(v.mem_read(7), [0xA1, 0xB2, 0xC3, 0xD4][p as usize]);
    }
    assert_eq!(v.latch, [0xA1, 0xB2, 0xC3, 0xD4]);
}

#[test]
fn read_mode_1_compares_colours() {
    let mut v = planar();
    put_planes(&mut v, 0, [0b1100_1010, 0b1010_0110, 0x00, 0xFF]);
    gc(&mut v, 5, 0x08);
    // Colour 0b1011: plane 0 = 1, 1 = 1, 2 = 0, 3 = 1, all planes compared:
    // pixels where planes 0 and 1 are both set → 0b1000_0010.
    gc(&mut v, 2, 0b1011);
    gc(&mut v, 7, 0x0F);
    assert_eq!(v.mem_read(0), 0x82);
    // Only plane 0 compared: plane 0's own bits.
    gc(&mut v, 7, 0b0001);
    assert_eq!(v.mem_read(0), 0xCA);
    // Nothing compared: every pixel matches.
    gc(&mut v, 7, 0);
    assert_eq!(v.mem_read(0), 0xFF);
    // Plane 3 must be 0 (colour 0b0000) and it is all ones: no match.
    gc(&mut v, 2, 0);
    gc(&mut v, 7, 0b1000);
    assert_eq!(v.mem_read(0), 0x00);
}

// ---- addressing ----

#[test]
fn chain_4_low_address_bits_select_the_plane() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    // Byte 5 is plane 1 at plane address 4 (every fourth byte of a plane
    // is used), byte 6 plane 2 at 4, byte 4 plane 0 at 4.
    v.mem_write(5, 0x77);
    v.mem_write(6, 0x66);
    v.mem_write(4, 0x44);
    assert_eq!(planes(&v, 4), [0x44, 0x77, 0x66, 0x00]);
    assert_eq!(planes(&v, 1), [0, 0, 0, 0]);
    assert_eq!(v.mem_read(5), 0x77);
    assert_eq!(v.mem_read(6), 0x66);
    assert_eq!(v.mem_read(7), 0x00);
    // Mode 13h decodes A0000h–AFFFFh only.
    v.mem_write(0x10000, 0x12);
    assert_eq!(v.mem_read(0x10000), 0xFF);
}

#[test]
fn odd_even_addressing_and_the_b8000_window() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_03);
    // Text mode decodes B8000h–BFFFFh: offset 0x18000 from A0000h.
    v.mem_write(0x18000, b'H');
    v.mem_write(0x18001, 0x1E);
    v.mem_write(0x18002, b'i');
    // Characters go to plane 0, attributes to plane 1, at even plane offsets.
    assert_eq!(planes(&v, 0)[..2], [b'H', 0x1E]);
    assert_eq!(planes(&v, 2)[..2], [b'i', 0x00]);
    assert_eq!(v.mem_read(0x18001), 0x1E);
    // A0000h is not decoded in this map.
    assert_eq!(v.mem_read(0), 0xFF);
    v.mem_write(0, 0x55);
    assert_eq!(v.plane_byte(0, 0), b'H');
    // Clearing the RAM enable bit of misc output stops all decoding.
    out(&mut v, 0x3C2, 0x65);
    assert_eq!(v.mem_read(0x18000), 0xFF);
}

// ---- rendering ----

/// Mode 3 with a font loaded into plane 2 the way a BIOS does it
/// (sequential addressing, map mask = plane 2, A0000h window).
fn text_mode_with_font(glyph: u8, rows: [u8; 16]) -> Vga {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_03);
    seq(&mut v, 2, 0x04);
    seq(&mut v, 4, 0x06);
    gc(&mut v, 5, 0x00);
    gc(&mut v, 6, 0x04);
    for (r, bits) in rows.iter().enumerate() {
        v.mem_write(glyph as u32 * 32 + r as u32, *bits);
    }
    seq(&mut v, 2, 0x03);
    seq(&mut v, 4, 0x02);
    gc(&mut v, 5, 0x10);
    gc(&mut v, 6, 0x0E);
    v
}

const GLYPH: [u8; 16] = [
    0x81, 0x42, 0x24, 0x18, 0xFF, 0x00, 0xF0, 0x0F, 0x01, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC3,
];

#[test]
fn text_mode_renders_the_font_in_plane_2() {
    let mut v = text_mode_with_font(0x41, GLYPH);
    crtc(&mut v, 0x0A, 0x20); // cursor off
    dac(&mut v, 0x01, [0x00, 0x00, 0x2A]); // palette 1 → DAC 1
    dac(&mut v, 0x3F, [0x3F, 0x3F, 0x3F]); // palette 15 → DAC 3Fh
                                           // 'A' (41h) bright white (F) on blue (1) at column 1 of row 0.
    v.mem_write(0x18002, 0x41);
    v.mem_write(0x18003, 0x1F);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (720, 400), "80×25 cells of 9×16 dots");
    let white = [0xFF; 3];
    let blue = [0, 0, dac8(0x2A)];
    for (r, bits) in GLYPH.iter().enumerate() {
        for x in 0..8 {
            let want = if bits & (0x80 >> x) != 0 { white } else { blue };
            assert_eq!(pixel(fb, w, 9 + x, r), want, "row {r} dot {x}");
        }
        // The ninth dot of a letter is background.
        assert_eq!(pixel(fb, w, 17, r), blue, "row {r} ninth dot");
    }
    // Cell 0 (code 0, attribute 0): black.
    assert_eq!(pixel(fb, w, 0, 0), [0, 0, 0]);
    assert_eq!(
        v.screen_text().lines().next().unwrap().chars().nth(1),
        Some('A')
    );
    assert_eq!(v.screen_text().lines().count(), 25);
}

#[test]
fn eight_dot_text_and_line_graphics_ninth_column() {
    let mut glyph = [0u8; 16];
    glyph[0] = 0x01; // only the rightmost of the eight dots
    let mut v = text_mode_with_font(0xC4, glyph);
    crtc(&mut v, 0x0A, 0x20);
    dac(&mut v, 0x07, [0x3F, 0x00, 0x00]);
    v.mem_write(0x18000, 0xC4);
    v.mem_write(0x18001, 0x07);
    // Line graphics enable (AR10 bit 2) is set in mode 3: codes C0h–DFh
    // repeat the eighth dot into the ninth.
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 7, 0), [0xFF, 0, 0]);
    assert_eq!(pixel(fb, w, 8, 0), [0xFF, 0, 0]);
    assert_eq!(pixel(fb, w, 6, 0), [0, 0, 0]);
    // With 9-dot characters a pel panning of 8 is no shift and 0 is one
    // dot (the sequence 8, 0, 1, ..., 7): dot 7 now shows at 6.
    attr(&mut v, 0x13, 0);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 6, 0), [0xFF, 0, 0]);
    assert_eq!(pixel(fb, w, 8, 0), [0, 0, 0]);
    attr(&mut v, 0x13, 8);
    // Eight-dot characters (SR01 bit 0): 640 dots across.
    seq(&mut v, 1, 0x01);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(w, 640);
    assert_eq!(pixel(fb, w, 7, 0), [0xFF, 0, 0]);
    assert_eq!(pixel(fb, w, 8, 0), [0, 0, 0]);
}

#[test]
fn text_cursor_and_blink_follow_time() {
    let mut v = text_mode_with_font(b' ', [0; 16]);
    dac(&mut v, 0x07, [0x3F, 0x3F, 0x3F]);
    // A blank at cell 0 with attribute 87h: blinking, grey on black.
    v.mem_write(0x18000, b' ');
    v.mem_write(0x18001, 0x87);
    // Cursor at cell 0 on scan lines 14–15 (CR0A = 0Dh/CR0B = 0Eh in
    // mode 3 → lines 13 and 14).
    crtc(&mut v, 0x0E, 0);
    crtc(&mut v, 0x0F, 0);
    let frame = v.cycles_per_frame();
    let (w, _, fb) = v.framebuffer_at(0);
    assert_eq!(
        pixel(fb, w, 0, 13),
        [0xFF; 3],
        "cursor lit in the first frames"
    );
    assert_eq!(pixel(fb, w, 0, 14), [0xFF; 3]);
    assert_eq!(
        pixel(fb, w, 8, 14),
        [0xFF; 3],
        "the cursor covers the ninth dot"
    );
    assert_eq!(pixel(fb, w, 9, 14), [0; 3], "and only its own cell");
    assert_eq!(pixel(fb, w, 0, 12), [0; 3]);
    assert_eq!(pixel(fb, w, 0, 15), [0; 3]);
    // The cursor blinks every 16 frames: off from frame 8 to 15 (times are
    // taken mid-frame).
    let (w, _, fb) = v.framebuffer_at(frame * 8 + frame / 2);
    assert_eq!(pixel(fb, w, 0, 13), [0; 3]);
    // A cursor disabled with CR0A bit 5 never shows.
    crtc(&mut v, 0x0A, 0x2D);
    let (w, _, fb) = v.framebuffer_at(0);
    assert_eq!(pixel(fb, w, 0, 13), [0; 3]);
    // Underline: attribute 01h (blue foreground, black background) lights
    // the scan line CR14 names; 07h does not.
    crtc(&mut v, 0x14, 0x0F);
    dac(&mut v, 0x01, [0x00, 0x00, 0x3F]);
    v.mem_write(0x18002, b' ');
    v.mem_write(0x18003, 0x01);
    let (w, _, fb) = v.framebuffer_at(0);
    assert_eq!(pixel(fb, w, 9, 15), [0, 0, 0xFF]);
    assert_eq!(pixel(fb, w, 17, 15), [0, 0, 0xFF]);
    assert_eq!(pixel(fb, w, 9, 14), [0; 3]);
    assert_eq!(pixel(fb, w, 0, 15), [0; 3]);
    // Blinking text: a full-block glyph shows in frames 0–15, hidden in 16–31.
    let mut v = text_mode_with_font(0xDB, [0xFF; 16]);
    crtc(&mut v, 0x0A, 0x20);
    dac(&mut v, 0x07, [0x3F, 0x3F, 0x3F]);
    v.mem_write(0x18000, 0xDB);
    v.mem_write(0x18001, 0x87);
    let frame = v.cycles_per_frame();
    assert_eq!(pixel(v.framebuffer_at(0).2, 720, 3, 3), [0xFF; 3]);
    assert_eq!(
        pixel(v.framebuffer_at(frame * 16 + frame / 2).2, 720, 3, 3),
        [0; 3]
    );
    // With blinking off (AR10 bit 3) attribute bit 7 is a bright background.
    attr(&mut v, 0x10, 0x04);
    assert_eq!(
        pixel(v.framebuffer_at(frame * 16 + frame / 2).2, 720, 3, 3),
        [0xFF; 3]
    );
}

#[test]
fn mode_13h_pixel_is_its_dac_colour() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    dac(&mut v, 0x9C, [0x3F, 0x20, 0x15]);
    // Pixel (x = 17, y = 3) is byte 3 × 320 + 17.
    v.mem_write(3 * 320 + 17, 0x9C);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (320, 200));
    assert_eq!(pixel(fb, w, 17, 3), [0xFF, dac8(0x20), dac8(0x15)]);
    assert_eq!(pixel(fb, w, 16, 3), [0, 0, 0]);
    assert_eq!(pixel(fb, w, 17, 2), [0, 0, 0]);
    // The pixel mask (3C6h) clears index bits before the DAC.
    dac(&mut v, 0x1C, [0x00, 0x3F, 0x00]);
    out(&mut v, 0x3C6, 0x7F);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 17, 3), [0, 0xFF, 0]);
    assert_eq!(v.screen_text(), "", "no text in a graphics mode");
}

#[test]
fn unchained_256_colour_mode_x() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    // Unchain: sequential planes, byte-mode CRTC (the classic Mode X set-up).
    seq(&mut v, 4, 0x06);
    crtc(&mut v, 0x14, 0x00);
    crtc(&mut v, 0x17, 0xE3);
    dac(&mut v, 0x05, [0x3F, 0x00, 0x3F]);
    // Pixel (x = 6, y = 2): plane 6 mod 4 = 2, address 2 × 80 + 6 / 4 = 161.
    seq(&mut v, 2, 1 << 2);
    v.mem_write(161, 0x05);
    assert_eq!(planes(&v, 161), [0, 0, 5, 0]);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (320, 200));
    assert_eq!(pixel(fb, w, 6, 2), [0xFF, 0, 0xFF]);
    assert_eq!(pixel(fb, w, 5, 2), [0, 0, 0]);
    // One write with all four planes enabled fills four adjacent pixels.
    seq(&mut v, 2, 0x0F);
    v.mem_write(0, 0x05);
    let (w, _, fb) = v.framebuffer();
    assert!((0..4).all(|x| pixel(fb, w, x, 0) == [0xFF, 0, 0xFF]));
    assert_eq!(pixel(fb, w, 4, 0), [0, 0, 0]);
}

#[test]
fn mode_12h_planar_pixel_through_palette_and_dac() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_12);
    // Palette register 6 is 14h in the standard set (brown); give DAC 14h a colour.
    dac(&mut v, 0x14, [0x2A, 0x15, 0x00]);
    // Pixel (x = 10, y = 5) colour 6 (planes 1 and 2): byte 5 × 80 + 1,
    // bit 7 − 2 = 5. Written with write mode 2 and bit mask 20h.
    gc(&mut v, 5, 0x02);
    gc(&mut v, 8, 0x20);
    v.mem_read(5 * 80 + 1);
    v.mem_write(5 * 80 + 1, 6);
    assert_eq!(planes(&v, 401), [0x00, 0x20, 0x20, 0x00]);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (640, 480));
    assert_eq!(pixel(fb, w, 10, 5), [dac8(0x2A), dac8(0x15), 0]);
    assert_eq!(pixel(fb, w, 9, 5), [0, 0, 0]);
    assert_eq!(pixel(fb, w, 11, 5), [0, 0, 0]);
    // Colour plane enable without plane 2 turns colour 6 into colour 2
    // (palette 02h, DAC 02h).
    dac(&mut v, 0x02, [0x00, 0x3F, 0x00]);
    attr(&mut v, 0x12, 0x0B);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 10, 5), [0, 0xFF, 0]);
}

#[test]
fn cga_four_colour_mode_interleaves_rows_and_pixels() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_04);
    // Palette 1/2/3 → 13h/15h/17h in the mode 4 set.
    dac(&mut v, 0x13, [0x3F, 0, 0]);
    dac(&mut v, 0x15, [0, 0x3F, 0]);
    dac(&mut v, 0x17, [0, 0, 0x3F]);
    // B8000h byte 0: pixels 0–3 of row 0 = 3, 2, 1, 0.
    v.mem_write(0x18000, 0b11_10_01_00);
    // Byte 1 (an odd address, plane 1): pixels 4–7 of row 0 = 1, 0, 0, 0.
    v.mem_write(0x18001, 0b01_00_00_00);
    // Row 1 is in the second 8 KiB bank: B8000h + 2000h.
    v.mem_write(0x18000 + 0x2000, 0b10_00_00_00);
    // Row 2 is the second line of the first bank: 80 bytes on.
    v.mem_write(0x18000 + 80, 0b01_00_00_00);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (320, 200));
    let (r, g, b) = ([0xFF, 0, 0], [0, 0xFF, 0], [0, 0, 0xFF]);
    assert_eq!(pixel(fb, w, 0, 0), b);
    assert_eq!(pixel(fb, w, 1, 0), g);
    assert_eq!(pixel(fb, w, 2, 0), r);
    assert_eq!(pixel(fb, w, 3, 0), [0, 0, 0]);
    assert_eq!(pixel(fb, w, 4, 0), r);
    assert_eq!(pixel(fb, w, 5, 0), [0, 0, 0]);
    assert_eq!(pixel(fb, w, 0, 1), g);
    assert_eq!(pixel(fb, w, 0, 2), r);
}

#[test]
fn start_address_and_line_compare_split_the_screen() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    dac(&mut v, 1, [0x3F, 0, 0]);
    dac(&mut v, 2, [0, 0x3F, 0]);
    // Row 0 of memory is colour 2, row 10 colour 1.
    for x in 0..320 {
        v.mem_write(x, 2);
        v.mem_write(10 * 320 + x, 1);
    }
    // Start address in CRTC units: doubleword mode, 80 units per row.
    crtc(&mut v, 0x0C, (800u16 >> 8) as u8);
    crtc(&mut v, 0x0D, (800u16 & 0xFF) as u8);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 0, 0), [0xFF, 0, 0], "row 10 shown at the top");
    // Line compare 199 (physical line; 2 lines per pixel row): the screen
    // restarts at address 0 on line 200, pixel row 100.
    crtc(&mut v, 0x18, 199);
    crtc(&mut v, 0x07, 0x0F); // line compare bit 8 clear
    crtc(&mut v, 0x09, 0x01); // bit 9 clear, two scan lines per row
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 0, 0), [0xFF, 0, 0]);
    assert_eq!(pixel(fb, w, 0, 99), [0, 0, 0]);
    assert_eq!(pixel(fb, w, 0, 100), [0, 0xFF, 0], "split shows address 0");
    assert_eq!(pixel(fb, w, 0, 110), [0xFF, 0, 0]);
}

#[test]
fn screen_off_and_palette_loading_blank_the_display() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    dac(&mut v, 1, [0x3F, 0x3F, 0x3F]);
    v.mem_write(0, 1);
    assert_eq!(pixel(v.framebuffer().2, 320, 0, 0), [0xFF; 3]);
    seq(&mut v, 1, 0x21);
    assert_eq!(pixel(v.framebuffer().2, 320, 0, 0), [0; 3]);
    seq(&mut v, 1, 0x01);
    inp(&mut v, 0x3DA);
    out(&mut v, 0x3C0, 0x00); // PAS clear: palette being loaded
    assert_eq!(pixel(v.framebuffer().2, 320, 0, 0), [0; 3]);
}

// ---- VBE ----

fn dispi(v: &mut Vga, index: u16, val: u16) {
    v.io_write16(0x1CE, index, 0);
    v.io_write16(0x1CF, val, 0);
}

fn dispi_read(v: &mut Vga, index: u16) -> u16 {
    v.io_write16(0x1CE, index, 0);
    v.io_read16(0x1CF, 0)
}

#[test]
fn vbe_id_caps_and_memory_size() {
    let mut v = Vga::new();
    dispi(&mut v, 0, 0xB0C0);
    assert_eq!(dispi_read(&mut v, 0), 0xB0C0);
    dispi(&mut v, 0, 0xB0C5);
    assert_eq!(dispi_read(&mut v, 0), 0xB0C5);
    dispi(&mut v, 0, 0x1234);
    assert_eq!(dispi_read(&mut v, 0), 0xB0C5, "unknown IDs are ignored");
    // 16 MiB in 64 KiB units.
    assert_eq!(dispi_read(&mut v, 0x0A), 256);
    assert_eq!(v.vram_size(), 16 << 20);
    dispi(&mut v, 4, vbe::enable::GETCAPS);
    assert_eq!(dispi_read(&mut v, 1), vbe::MAX_XRES);
    assert_eq!(dispi_read(&mut v, 3), 32);
    dispi(&mut v, 4, 0);
    dispi(&mut v, 1, 800);
    assert_eq!(dispi_read(&mut v, 1), 800);
}

#[test]
fn vbe_mode_set_and_lfb_write_show_on_screen() {
    let mut v = Vga::new();
    dispi(&mut v, 4, 0);
    dispi(&mut v, 1, 800);
    dispi(&mut v, 2, 600);
    dispi(&mut v, 3, 32);
    dispi(&mut v, 4, vbe::enable::ENABLED | vbe::enable::LFB);
    assert_eq!(dispi_read(&mut v, 6), 800, "virtual width follows XRES");
    // Pixel (x = 5, y = 7): 32 bpp little-endian B, G, R, X at (7·800 + 5)·4.
    let a = (7 * 800 + 5) * 4;
    for (i, b) in [0x11, 0x22, 0x33, 0x00].iter().enumerate() {
        v.lfb_write(a + i as u32, *b);
    }
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (800, 600));
    assert_eq!(pixel(fb, w, 5, 7), [0x33, 0x22, 0x11]);
    assert_eq!(pixel(fb, w, 6, 7), [0, 0, 0]);
    assert_eq!(v.screen_text(), "");
    // The same pixel through bank 0 of the A0000h window is byte `a`: bank
    // 1 shows the second 64 KiB.
    assert_eq!(v.mem_read(a), 0x11);
    dispi(&mut v, 5, 1);
    v.mem_write(0x10, 0xAB);
    assert_eq!(v.lfb_read(0x10010), 0xAB);
    // Y offset 7 brings line 7 to the top.
    dispi(&mut v, 9, 7);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 5, 0), [0x33, 0x22, 0x11]);
    // XRES cannot change while the mode is on.
    dispi(&mut v, 1, 1024);
    assert_eq!(dispi_read(&mut v, 1), 800);
    // Beyond the end of video memory: reads float, writes vanish.
    assert_eq!(v.lfb_read(16 << 20), 0xFF);
    v.lfb_write(16 << 20, 1);
}

#[test]
fn vbe_16_and_8_bpp_and_memory_clearing() {
    let mut v = Vga::new();
    v.lfb_write(0, 0x5A);
    dispi(&mut v, 1, 640);
    dispi(&mut v, 2, 480);
    dispi(&mut v, 3, 16);
    dispi(&mut v, 4, vbe::enable::ENABLED | vbe::enable::LFB);
    assert_eq!(v.lfb_read(0), 0, "enabling clears video memory");
    // RGB 5:6:5 F800h is pure red, 07E0h pure green.
    v.lfb_write(0, 0x00);
    v.lfb_write(1, 0xF8);
    v.lfb_write(2, 0xE0);
    v.lfb_write(3, 0x07);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 0, 0), [0xFF, 0, 0]);
    assert_eq!(pixel(fb, w, 1, 0), [0, 0xFF, 0]);
    // 8 bpp with NOCLEARMEM keeps memory; pixels index the DAC.
    dispi(&mut v, 4, 0);
    dispi(&mut v, 3, 8);
    v.lfb_write(0, 0x42);
    dac(&mut v, 0x42, [0x00, 0x00, 0x3F]);
    dispi(&mut v, 4, vbe::enable::ENABLED | vbe::enable::NOCLEARMEM);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (640, 480));
    assert_eq!(pixel(fb, w, 0, 0), [0, 0, 0xFF]);
    // An impossible mode does not enable.
    dispi(&mut v, 4, 0);
    dispi(&mut v, 1, 4000);
    dispi(&mut v, 4, vbe::enable::ENABLED);
    assert_eq!(dispi_read(&mut v, 4) & 1, 0);
}

#[test]
fn vbe_word_split_into_bytes_still_lands() {
    let mut v = Vga::new();
    v.io_write16(0x1CE, 1, 0);
    // A word write of 0x0280 split into 1CFh (low) then 1D0h (high).
    out(&mut v, 0x1CF, 0x80);
    out(&mut v, 0x1D0, 0x02);
    assert_eq!(dispi_read(&mut v, 1), 640);
    assert_eq!(inp(&mut v, 0x1D0), 0x02);
}

#[test]
fn png_screenshot_decodes_to_the_rendered_pixels() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    dac(&mut v, 7, [0x3F, 0, 0]);
    v.mem_write(321, 7); // (1, 1)
    let mut bytes = Vec::new();
    v.write_png(&mut bytes).unwrap();
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (320, 200));
    assert_eq!(pixel(&buf, 320, 1, 1), [0xFF, 0, 0]);
    assert_eq!(pixel(&buf, 320, 0, 0), [0, 0, 0]);
}

#[test]
fn bad_configuration_is_an_error_and_hostile_registers_do_not_panic() {
    assert!(Vga::with_config(3 << 20, 1).is_err());
    assert!(Vga::with_config(16 << 20, 0).is_err());
    let mut v = Vga::new();
    out(&mut v, 0x3C2, 0x67);
    // Every register index at extreme values, then render: no panic, sane
    // sizes (rendering only for the indices that exist, to stay quick).
    for i in 0..=0xFF_u8 {
        for val in [0x00, 0x7F, 0xFF] {
            crtc(&mut v, i, val);
            seq(&mut v, i, val);
            gc(&mut v, i, val);
            inp(&mut v, 0x3DA);
            out(&mut v, 0x3C0, i);
            out(&mut v, 0x3C0, val);
            if i < 0x20 {
                let (w, h, fb) = v.framebuffer();
                assert_eq!(fb.len(), w * h * 3);
                v.screen_text();
            }
            v.mem_write(0x1FFFF, val);
            v.mem_read(0x1FFFF);
        }
    }
}

const MODE_06: Mode = Mode {
    misc: 0x63,
    seq: [0x01, 0x01, 0x00, 0x06],
    crtc: [
        0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x00, 0x96, 0xB9, 0xC2, 0xFF,
    ],
    gc: [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0xFF],
    attr: [
        0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
        0x17, 0x01, 0x00, 0x01, 0x00, 0x00,
    ],
};

#[test]
fn cga_two_colour_mode_6() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_06);
    dac(&mut v, 0x17, [0x3F, 0x3F, 0x3F]);
    // Row 0: byte 0 = 0x81, the first and eighth pixels; row 1 lives in the
    // odd bank at B8000h + 2000h; row 3 is 80 bytes into the odd bank.
    v.mem_write(0x18000, 0x81);
    v.mem_write(0x18000 + 0x2000, 0x40);
    v.mem_write(0x18000 + 0x2000 + 80 + 79, 0x01);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (640, 200));
    let white = [0xFF; 3];
    assert_eq!(pixel(fb, w, 0, 0), white);
    assert_eq!(pixel(fb, w, 1, 0), [0; 3]);
    assert_eq!(pixel(fb, w, 7, 0), white);
    assert_eq!(pixel(fb, w, 1, 1), white);
    assert_eq!(pixel(fb, w, 639, 3), white);
    assert_eq!(pixel(fb, w, 639, 2), [0; 3]);
}

#[test]
fn horizontal_pixel_panning_shifts_the_picture_left() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_12);
    dac(&mut v, 0x3F, [0x3F, 0x3F, 0x3F]);
    // Colour 15 at pixel 8 (byte 1, bit 7) of row 0: all four planes.
    v.mem_write(1, 0x80);
    let white = [0xFF; 3];
    assert_eq!(pixel(v.framebuffer().2, 640, 8, 0), white);
    // Panning by 3 dots shows dot x + 3 at x.
    attr(&mut v, 0x13, 3);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 5, 0), white);
    assert_eq!(pixel(fb, w, 8, 0), [0; 3]);
    // The start address moves by whole bytes: one byte is 8 pixels.
    attr(&mut v, 0x13, 0);
    crtc(&mut v, 0x0D, 1);
    assert_eq!(pixel(v.framebuffer().2, 640, 0, 0), white);
}

#[test]
fn memory_map_select_decodes_each_window() {
    let mut v = planar();
    seq(&mut v, 2, 0x01);
    // GR06 bits 3–2: 0 = A0000h–BFFFFh (128 KiB), 1 = A0000h (64 KiB),
    // 2 = B0000h (32 KiB), 3 = B8000h (32 KiB). Plane offsets start at 0
    // at each window's base.
    let cases: [(u8, u32, u32); 4] = [
        (0, 0x00000, 0x20000),
        (1, 0x00000, 0x10000),
        (2, 0x10000, 0x08000),
        (3, 0x18000, 0x08000),
    ];
    for (map, base, len) in cases {
        gc(&mut v, 6, (map << 2) | 1);
        v.vram[0] = 0;
        v.mem_write(base, 0x5A);
        assert_eq!(v.plane_byte(0, 0), 0x5A, "map {map}: base");
        assert_eq!(
            v.mem_read(base + len - 1),
            0x00,
            "map {map}: last byte decoded"
        );
        if base > 0 {
            assert_eq!(v.mem_read(base - 1), 0xFF, "map {map}: below the window");
        }
        if base + len < 0x20000 {
            assert_eq!(v.mem_read(base + len), 0xFF, "map {map}: above the window");
        }
    }
}

#[test]
fn monochrome_text_at_b0000_with_crtc_at_3b4() {
    let mut v = text_mode_with_font(b'M', [0xFF; 16]);
    // Mode 7 style: I/O at 3Bxh (misc bit 0 clear), memory map B0000h.
    out(&mut v, 0x3C2, 0x66);
    gc(&mut v, 6, 0x0A);
    v.mem_write(0x10000, b'M');
    v.mem_write(0x10001, 0x07);
    assert!(v.screen_text().starts_with('M'));
    // The colour ports are dead, the mono ones live.
    out(&mut v, 0x3D4, 0x0F);
    assert_eq!(inp(&mut v, 0x3D5), 0xFF);
    out(&mut v, 0x3B4, 0x01);
    assert_eq!(inp(&mut v, 0x3B5), 0x4F);
}

#[test]
fn vbe_4bpp_is_planar_through_the_graphics_controller() {
    let mut v = planar();
    for i in 0..16 {
        attr(&mut v, i, i);
    }
    attr(&mut v, 0x10, 0x01);
    attr(&mut v, 0x12, 0x0F);
    dac(&mut v, 5, [0x3F, 0x00, 0x3F]);
    dispi(&mut v, 1, 1024);
    dispi(&mut v, 2, 768);
    dispi(&mut v, 3, 4);
    dispi(&mut v, 4, vbe::enable::ENABLED);
    assert_eq!(dispi_read(&mut v, 4) & 1, 1);
    // 1024 pixels a line are 128 bytes in each plane. Pixel (16, 600) is
    // plane offset 600 × 128 + 2 = 76802, past the first 64 KiB: bank 1,
    // window offset 76802 − 65536 = 11266, bit 7.
    dispi(&mut v, 5, 1);
    gc(&mut v, 5, 0x02); // write mode 2
    gc(&mut v, 8, 0x80);
    v.mem_read(11266);
    v.mem_write(11266, 5);
    assert_eq!(planes(&v, 76802), [0x80, 0x00, 0x80, 0x00]);
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (1024, 768));
    assert_eq!(pixel(fb, w, 16, 600), [0xFF, 0x00, 0xFF]);
    assert_eq!(pixel(fb, w, 17, 600), [0, 0, 0]);
    assert_eq!(pixel(fb, w, 16, 599), [0, 0, 0]);
    // Through the linear framebuffer the offset is the plane offset itself:
    // pixel (17, 600) is bit 6 of plane offset 76802.
    gc(&mut v, 8, 0x40);
    v.lfb_read(76802);
    v.lfb_write(76802, 5);
    assert_eq!(planes(&v, 76802), [0xC0, 0x00, 0xC0, 0x00]);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 17, 600), [0xFF, 0x00, 0xFF]);
}

#[test]
fn reset_clears_registers_and_keeps_memory() {
    let mut v = Vga::new();
    set_mode(&mut v, &MODE_13);
    v.mem_write(0, 0x42);
    dispi(&mut v, 4, vbe::enable::ENABLED | vbe::enable::NOCLEARMEM);
    assert_eq!(v.dispi.enable & 1, 1);
    v.reset();
    assert_eq!(v.misc, 0);
    assert_eq!(v.dispi.enable, 0);
    assert_eq!(v.dac.pel_mask, 0xFF);
    assert_eq!(v.plane_byte(0, 0), 0x42);
    assert_eq!(v.vram_size(), 16 << 20);
}

#[test]
fn unprogrammed_card_shows_a_blank_640x480_screen() {
    let mut v = Vga::new();
    let (w, h, fb) = v.framebuffer();
    assert_eq!((w, h), (640, 480));
    assert!(fb.iter().all(|&b| b == 0));
}

#[test]
fn sized_port_access_for_a_generic_board_handler() {
    let mut v = Vga::new();
    // A word to 3C4h is index then data.
    v.io_write_sized(0x3C4, 2, 0x0F02, 0);
    assert_eq!(v.seq[2], 0x0F);
    v.io_write_sized(0x1CE, 2, 1, 0);
    v.io_write_sized(0x1CF, 2, 1024, 0);
    assert_eq!(v.io_read_sized(0x1CF, 2, 0), 1024);
    assert_eq!(v.io_read_sized(0x1CF, 1, 0), 0x00, "low byte of 0400h");
    v.io_write_sized(0x3C8, 1, 0x20, 0);
    assert_eq!(v.io_read_sized(0x3C8, 1, 0), 0x20);
}

#[test]
fn odd_even_reads_use_read_map_select_for_the_plane_pair() {
    let mut v = planar();
    seq(&mut v, 4, 0x02); // odd/even writes
    gc(&mut v, 5, 0x10); // odd/even reads
    put_planes(&mut v, 6, [0x10, 0x11, 0x12, 0x13]);
    // Read map select 0 or 1: planes 0/1 by A0; 2 or 3: planes 2/3.
    gc(&mut v, 4, 0);
    assert_eq!((v.mem_read(6), v.mem_read(7)), (0x10, 0x11));
    gc(&mut v, 4, 2);
    assert_eq!((v.mem_read(6), v.mem_read(7)), (0x12, 0x13));
    // An odd-address write with all planes enabled lands in planes 1 and 3.
    v.mem_write(7, 0xEE);
    assert_eq!(planes(&v, 6), [0x10, 0xEE, 0x12, 0xEE]);
}

#[test]
fn vbe_8bit_dac_keeps_eight_bits() {
    let mut v = Vga::new();
    dispi(&mut v, 1, 640);
    dispi(&mut v, 2, 480);
    dispi(&mut v, 3, 8);
    dispi(&mut v, 4, vbe::enable::ENABLED | vbe::enable::DAC_8BIT);
    dac(&mut v, 9, [0xFF, 0x80, 0x41]);
    out(&mut v, 0x3C7, 9);
    assert_eq!(
        [inp(&mut v, 0x3C9), inp(&mut v, 0x3C9), inp(&mut v, 0x3C9)],
        [0xFF, 0x80, 0x41]
    );
    v.lfb_write(0, 9);
    let (w, _, fb) = v.framebuffer();
    assert_eq!(pixel(fb, w, 0, 0), [0xFF, 0x80, 0x41], "no 6-bit expansion");
    assert!(
        format!("{v:?}").len() < 4096,
        "Debug does not print video memory"
    );
}

#[test]
fn saved_state_round_trips_and_bad_state_is_an_error() {
    let mut v = Vga::with_config(256 * 1024, 1_000_000).unwrap();
    set_mode(&mut v, &MODE_13);
    dac(&mut v, 3, [1, 2, 3]);
    v.mem_write(5, 3);
    let json = serde_json::to_string(&v).unwrap();
    let mut back: Vga = serde_json::from_str(&json).unwrap();
    assert_eq!(back.dac.entries[3], [1, 2, 3]);
    assert_eq!(back.mem_read(5), 3);
    assert_eq!(back.framebuffer().0, 320);
    // A DAC of the wrong length or memory of an odd size is refused.
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    bad["dac"]["entries"] = serde_json::json!([[0, 0, 0]]);
    let err = serde_json::from_value::<Vga>(bad).unwrap_err().to_string();
    assert!(err.contains("256"), "{err}");
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    bad["vram"] = serde_json::json!([0, 0, 0]);
    let err = serde_json::from_value::<Vga>(bad).unwrap_err().to_string();
    assert!(err.contains("memory size 3"), "{err}");
    let mut bad: serde_json::Value = serde_json::from_str(&json).unwrap();
    bad["cpu_hz"] = serde_json::json!(0);
    assert!(serde_json::from_value::<Vga>(bad).is_err());
    // Out-of-range counters in a saved state are tolerated, not trusted.
    let mut odd: serde_json::Value = serde_json::from_str(&json).unwrap();
    odd["dac"]["component"] = serde_json::json!(200);
    odd["attr"]["index"] = serde_json::json!(99);
    odd["dispi"]["enable"] = serde_json::json!(1);
    odd["dispi"]["xres"] = serde_json::json!(65535);
    let mut v: Vga = serde_json::from_value(odd).unwrap();
    out(&mut v, 0x3C9, 1);
    inp(&mut v, 0x3C9);
    inp(&mut v, 0x3C1);
    v.framebuffer();
}

#[test]
fn vertical_retrace_interrupt_follows_cr11() {
    // One CPU cycle per dot (28.322 MHz), mode 3: 900 dots a line,
    // retrace starting at line 412, a frame of 900 × 449 dots.
    let mut v = Vga::with_config(devices::vga::DEFAULT_VRAM, 28_322_000).unwrap();
    set_mode(&mut v, &MODE_03);
    let (line, frame) = (900u64, 900 * 449);
    // Mode 3 leaves CR11 bit 4 clear: no interrupt is ever pending.
    assert_eq!(v.io_read(0x3C2, 412 * line + 1) & 0x80, 0);
    assert!(!v.irq(412 * line + 1));
    assert_eq!(v.next_irq_deadline(), None);
    // Set CR11 bit 4 at line 100 (keeping the end nibble and protect bit):
    // pending from the start of retrace at line 412 on.
    v.io_write(0x3D4, 0x11, 100 * line);
    v.io_write(0x3D5, 0x9E, 100 * line);
    assert_eq!(v.next_irq_deadline(), Some(412 * line));
    assert_eq!(v.io_read(0x3C2, 412 * line - 1) & 0x80, 0);
    assert!(!v.irq(412 * line - 1));
    assert_eq!(v.io_read(0x3C2, 412 * line) & 0x80, 0x80);
    assert!(v.irq(412 * line));
    // It stays pending after retrace ends, until cleared.
    assert!(v.irq(430 * line));
    // CR11 bit 5 disables the line, not the pending bit.
    v.io_write(0x3D5, 0xBE, 430 * line);
    assert!(!v.irq(431 * line));
    assert_eq!(v.io_read(0x3C2, 431 * line) & 0x80, 0x80);
    // Clearing (bit 4 = 0) then re-arming waits for the next frame's retrace.
    v.io_write(0x3D5, 0x8E, 432 * line);
    assert_eq!(v.io_read(0x3C2, 432 * line) & 0x80, 0);
    v.io_write(0x3D5, 0x9E, 433 * line);
    assert!(!v.irq(frame + 411 * line));
    assert!(v.irq(frame + 412 * line));
}

/// `Vga::writes` is what a caller caches the text screen by: every change
/// of `screen_text` must come with a new count, and reads leave it alone.
#[test]
fn the_write_count_moves_whenever_the_text_screen_can_change() {
    let mut v = text_mode_with_font(0x41, GLYPH);
    let mut last = (v.writes(), v.screen_text());
    let mut step = |v: &mut Vga, what: &str, must_change_text: bool| {
        let now = (v.writes(), v.screen_text());
        assert_ne!(now.0, last.0, "{what}: the count must move");
        if must_change_text {
            assert_ne!(now.1, last.1, "{what}: the screen was meant to change");
        }
        last = now;
    };
    v.mem_write(0x18000, b'Z');
    step(&mut v, "a character in the text window", true);
    v.io_write16(0x1CE, 0, 0);
    step(&mut v, "a 16-bit port write", false);
    // Mode 13h through the ports: no text at all.
    set_mode(&mut v, &MODE_13);
    step(&mut v, "a mode set through the ports", true);
    v.lfb_write(0, 1);
    step(&mut v, "a linear framebuffer write", false);
    v.reset();
    step(&mut v, "a reset", false);
    // Reads change neither.
    let before = (v.writes(), v.screen_text());
    let _ = v.mem_read(0x18000);
    let _ = v.io_read(0x3DA, 0);
    let _ = v.lfb_read(0);
    assert_eq!((v.writes(), v.screen_text()), before);
}
