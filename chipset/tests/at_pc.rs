//! The whole AT/PCI PC (32-bit core, VGA, IDE, UARTs) booting real
//! firmware and guests. Needs the Debian firmware packages (bochsbios,
//! vgabios, seabios) and the shared images; skips visibly without them and
//! fails without them under IRONPC_REQUIRE_DATA=1.

mod support;
use chipset::at::{build_pc, AtPc};
use chipset::MachineProfile;
use std::path::{Path, PathBuf};
use support::*;

/// The profile `name` with its first floppy set to `floppy` (a path under
/// the shared directory, or none), or None (skipped) without the data.
fn profile(name: &str, floppy: Option<&str>) -> Option<MachineProfile> {
    let mut p = MachineProfile::load(&machines().join(name)).unwrap();
    match floppy {
        Some(f) => {
            let img = shared().join(f);
            if !img.exists() {
                skip(&format!("{} missing (set IRONPC_SHARED)", img.display()));
                return None;
            }
            p.floppies[0].image = Some(img);
        }
        None => p.floppies[0].image = None,
    }
    have_firmware(&p).then_some(p)
}

/// Run (in slices) until the VGA text screen contains `text` (checked
/// every 10 ms of emulated time) or `secs` of emulated time pass; the
/// screen at the end.
fn run_to_text(pc: &mut AtPc, text: &str, secs: u64) -> (bool, String) {
    let hz = pc.run.board.config.clock_hz;
    let end = hz * secs;
    loop {
        pc.run.run_for(hz / 100);
        let screen = pc.vga.borrow().screen_text();
        if screen.contains(text) {
            return (true, screen);
        }
        if pc.run.now() >= end {
            return (false, screen);
        }
    }
}

#[test]
fn bochs_legacy_bios_boots_freedos_floppy_on_the_isa_486() {
    let Some(p) = profile("at-486.yaml", Some("images/floppy/freedos-1440k.img")) else {
        return;
    };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let (ok, screen) = run_to_text(&mut pc, "A:\\>", 60);
    assert!(ok, "no A:\\> prompt after 60 s emulated; screen:\n{screen}");
    // The Bochs BIOS POSTs without a panic.
    assert_eq!(pc.run.board.bios_panic, None);
}

/// Run a script of ours that builds an image from the shared floppy into
/// `out`; false (skipped) if its tools are missing.
fn make_image(script: &str, out: &Path) -> bool {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let r = std::process::Command::new("bash")
        .arg(root.join("scripts").join(script))
        .arg(out)
        .env("IRONPC_SHARED", shared())
        .output();
    match r {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            skip(&format!(
                "{script} failed (tools missing?): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            false
        }
        Err(e) => {
            skip(&format!("{script}: {e}"));
            false
        }
    }
}

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironpc-at-pc-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn freedos_hard_disk_boots_to_c_prompt() {
    let Some(mut p) = profile("at-486.yaml", Some("images/floppy/freedos-1440k.img")) else {
        return;
    };
    let img = tmp_dir().join("freedos-hdd.img");
    if !make_image("make-freedos-hdd.sh", &img) {
        return;
    }
    p.floppies[0].image = None;
    p.hda = Some(img);
    p.boot = Some("c".into());
    let mut pc = build_pc(&p, &machines()).unwrap();
    // The geometry IDENTIFY reports is in the CMOS type-47 fields
    // (cylinders at 1Bh–1Ch, heads 1Dh, sectors 23h): the script makes a
    // 32 × 16 × 63 disk.
    let cmos = pc.run.board.rtc.ram;
    assert_eq!(cmos[0x12] >> 4, 0xF);
    assert_eq!(cmos[0x19], 47);
    assert_eq!(
        (
            u16::from_le_bytes([cmos[0x1B], cmos[0x1C]]),
            cmos[0x1D],
            cmos[0x23]
        ),
        (32, 16, 63)
    );
    let (ok, screen) = run_to_text(&mut pc, "C:\\>", 60);
    assert!(ok, "no C:\\> prompt; screen:\n{screen}");
}

#[test]
fn el_torito_cd_boots_with_boot_d() {
    let Some(mut p) = profile("at-486.yaml", Some("images/floppy/freedos-1440k.img")) else {
        return;
    };
    let iso = tmp_dir().join("freedos.iso");
    if !make_image("make-eltorito-iso.sh", &iso) {
        return;
    }
    p.floppies[0].image = None;
    p.cdrom = Some(iso);
    p.boot = Some("d".into());
    let mut pc = build_pc(&p, &machines()).unwrap();
    // Floppy emulation: the CD's boot image becomes drive A:.
    let (ok, screen) = run_to_text(&mut pc, "A:\\>", 60);
    assert!(ok, "the CD did not boot to A:\\>; screen:\n{screen}");
    assert!(screen.contains("FreeDOS"), "{screen}");
}

#[test]
fn grub_rescue_floppy_reaches_its_prompt_and_the_screenshot_draws_font_ram() {
    let Some(p) = profile(
        "at-486.yaml",
        Some("images/floppy/grub-rescue-2.06-floppy.img"),
    ) else {
        return;
    };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let (ok, screen) = run_to_text(&mut pc, "GNU GRUB", 60);
    assert!(ok, "no GRUB menu; screen:\n{screen}");
    // `c` leaves the menu for the command line.
    pc.run.board.type_keys("c").unwrap();
    let (ok, screen) = run_to_text(&mut pc, "grub>", 30);
    assert!(ok, "no grub> prompt; screen:\n{screen}");

    let mut vga = pc.vga.borrow_mut();
    let row = screen
        .lines()
        .position(|l| l.starts_with("grub>"))
        .expect("a line starting with grub>");
    let (w, h, rgb) = vga.framebuffer();
    let rgb = rgb.to_vec();
    // 80 × 25 text: each cell is w/80 dots wide (8 or 9) and h/25 lines.
    assert_eq!((w % 80, h % 25), (0, 0), "{w}x{h}");
    let (cw, ch) = (w / 80, h / 25);
    assert!(cw == 8 || cw == 9, "{cw}");
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    for (col, want) in "grub>".bytes().enumerate() {
        // Text mode is odd/even: the character of cell i is plane 0 at
        // offset 2i, its glyph 32 bytes a character in plane 2 (map A at 0
        // as the BIOS leaves it).
        let cell = (row * 80 + col) * 2;
        let code = vga.plane_byte(0, cell);
        assert_eq!(code, want, "character at column {col}");
        let mut fg = None;
        let mut bg = None;
        for line in 0..ch {
            let bits = vga.plane_byte(2, code as usize * 32 + line);
            for dot in 0..cw {
                let on = dot < 8 && bits & (0x80 >> dot) != 0;
                let c = px(col * cw + dot, row * ch + line);
                let slot = if on { &mut fg } else { &mut bg };
                match slot {
                    None => *slot = Some(c),
                    Some(s) => assert_eq!(
                        *s, c,
                        "'{}' line {line} dot {dot}: glyph bit {on} drawn in another colour",
                        want as char
                    ),
                }
            }
        }
        assert!(fg.is_some() && fg != bg, "'{}' drawn", want as char);
    }
    // And the PNG is that picture.
    let mut png_bytes = Vec::new();
    vga.write_png(&mut png_bytes).unwrap();
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width as usize, info.height as usize), (w, h));
    assert_eq!(&buf[..rgb.len()], &rgb[..]);
}

/// A boot sector of ours: mode 13h through the VGA BIOS, then every pixel
/// of the 320 × 200 screen gets the low byte of its offset as its colour,
/// then 42h at 0000:0500h says it is done.
fn mode13_boot_sector() -> Vec<u8> {
    #[rustfmt::skip]
    let code = [
        0x31, 0xC0,             // xor ax, ax
        0x8E, 0xD8,             // mov ds, ax
        0xB8, 0x13, 0x00,       // mov ax, 0013h
        0xCD, 0x10,             // int 10h
        0xB8, 0x00, 0xA0,       // mov ax, 0A000h
        0x8E, 0xC0,             // mov es, ax
        0x31, 0xFF,             // xor di, di
        0xB9, 0x00, 0xFA,       // mov cx, 64000
        0xFC,                   // cld
        0x89, 0xF8,             // l: mov ax, di
        0xAA,                   // stosb
        0xE2, 0xFB,             // loop l
        0xC6, 0x06, 0x00, 0x05, 0x42, // mov byte [0500h], 42h
        0xF4,                   // hlt
        0xEB, 0xFD,             // jmp (back to hlt)
    ];
    let mut s = vec![0u8; 512];
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

#[test]
fn mode_13h_picture_of_a_program_of_ours() {
    let Some(mut p) = profile("at-486.yaml", None) else {
        return;
    };
    let img = tmp_dir().join("mode13.img");
    std::fs::write(&img, mode13_boot_sector()).unwrap();
    p.floppies[0].image = Some(img);
    let mut pc = build_pc(&p, &machines()).unwrap();
    let end = pc.run.board.config.clock_hz * 60;
    let done = pc
        .run
        .run_until_within(end, |r| r.board.ram()[0x500] == 0x42);
    assert!(done, "the program did not finish");
    let mut vga = pc.vga.borrow_mut();
    let (w, h, rgb) = vga.framebuffer();
    assert_eq!((w, h), (320, 200));
    // One colour per index, everywhere it is used.
    let mut colour: [Option<[u8; 3]>; 256] = [None; 256];
    for y in 0..200 {
        for x in 0..320 {
            let i = (y * 320 + x) * 3;
            let c = [rgb[i], rgb[i + 1], rgb[i + 2]];
            let idx = (y * 320 + x) & 0xFF;
            match colour[idx] {
                None => colour[idx] = Some(c),
                Some(k) => assert_eq!(k, c, "pixel ({x},{y}) of index {idx}"),
            }
        }
    }
    let c = |i: usize| colour[i].unwrap().map(|v| v as i32);
    // The VGA BIOS's default 256-colour palette starts with the 16 EGA
    // colours (6-bit DAC values 0, 2Ah, 3Fh: about 0, 170, 255 in 8 bits)
    // and a grey ramp at 16–31 from black to white.
    let near = |v: i32, want: i32| (v - want).abs() <= 4;
    let is = |i: usize, want: [i32; 3]| {
        let got = c(i);
        assert!(
            (0..3).all(|k| near(got[k], want[k])),
            "index {i}: {got:?}, want about {want:?}"
        );
    };
    is(0, [0, 0, 0]);
    is(1, [0, 0, 170]);
    is(2, [0, 170, 0]);
    is(4, [170, 0, 0]);
    is(7, [170, 170, 170]);
    is(15, [255, 255, 255]);
    is(16, [0, 0, 0]);
    is(31, [255, 255, 255]);
    for i in 16..31 {
        let (a, b) = (c(i), c(i + 1));
        assert!(a[0] == a[1] && a[1] == a[2], "index {i} grey: {a:?}");
        assert!(b[0] > a[0], "grey ramp rises at {i}: {a:?} {b:?}");
    }
}

#[test]
fn bochs_bios_boots_freedos_on_the_pci_pc() {
    let Some(p) = profile("pc.yaml", Some("images/floppy/freedos-1440k.img")) else {
        return;
    };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let (ok, screen) = run_to_text(&mut pc, "A:\\>", 60);
    assert!(ok, "no A:\\> prompt; screen:\n{screen}");
    assert_eq!(pc.run.board.bios_panic, None);
    check_pir(&mut pc);
}

/// The BIOS's PCI IRQ routing table ($PIR, Microsoft's "PCI IRQ Routing
/// Table Specification" 1.0: a 32-byte header at a 16-byte boundary in
/// F0000h–FFFFFh, then 16-byte slot entries of bus, devfn, four (link,
/// IRQ bitmap) pairs, slot number, reserved) describes this board's
/// wiring: the router is the PIIX3 at 00:01.0, and for a PIIX the link
/// value is the route register's offset (60h–63h), so INTx# of each
/// device must be on the PIRQ `pci_intx_pirq` drives.
fn check_pir(pc: &mut AtPc) {
    use cpu::Bus;
    let mem: Vec<u8> = (0xF0000u32..0x100000)
        .map(|a| pc.run.board.read(a))
        .collect();
    let at = (0..mem.len() - 32)
        .step_by(16)
        .find(|&i| &mem[i..i + 4] == b"$PIR")
        .expect("no $PIR table");
    let size = u16::from_le_bytes([mem[at + 6], mem[at + 7]]) as usize;
    assert!(size > 32 && (size - 32) % 16 == 0, "table size {size}");
    let table = &mem[at..at + size];
    assert_eq!(
        table.iter().fold(0u8, |a, &b| a.wrapping_add(b)),
        0,
        "checksum"
    );
    // Router: bus 0, device 1 function 0.
    assert_eq!((table[8], table[9]), (0, 0x08));
    let mut slots = 0;
    for e in table[32..].chunks(16) {
        let (bus, dev) = (e[0], e[1] >> 3);
        assert_eq!(bus, 0);
        for pin in 0..4u8 {
            let link = e[2 + 3 * pin as usize];
            if link == 0 {
                continue; // pin not connected
            }
            assert_eq!(
                link,
                0x60 + chipset::at::pci_intx_pirq(dev, pin + 1),
                "device {dev} INT{}#",
                (b'A' + pin) as char
            );
        }
        slots += 1;
    }
    assert!(slots >= 2, "{slots} slot entries");
}

#[test]
fn seabios_boots_freedos_on_the_pci_pc() {
    let Some(p) = profile("pc-seabios.yaml", Some("images/floppy/freedos-1440k.img")) else {
        return;
    };
    let mut pc = build_pc(&p, &machines()).unwrap();
    let (ok, screen) = run_to_text(&mut pc, "A:\\>", 60);
    assert!(ok, "no A:\\> prompt; screen:\n{screen}");
    // Its log on port 402h: the fw_cfg interface found with its e820 map
    // and boot order, the PCI BARs placed.
    let log = String::from_utf8_lossy(&pc.run.board.bios_info).to_string();
    assert!(log.contains("Found QEMU fw_cfg"), "log:\n{log}");
    assert!(
        log.contains("qemu/e820: addr 0x0000000000000000 len 0x0000000004000000 [RAM]"),
        "log:\n{log}"
    );
    // The profile's order `cad`: hard disk, floppy, CD-ROM (secondary
    // master); with no disk attached the floppy boots.
    assert!(
        log.contains("1: /pci@i0cf8/ide@1,1/drive@0/disk@0\n2: /pci@i0cf8/isa@1/fdc@03f0/floppy@0\n3: /pci@i0cf8/ide@1,1/drive@1/disk@0\n"),
        "log:\n{log}"
    );
    assert!(log.contains("Booting from Floppy"), "log:\n{log}");
    check_pir(&mut pc);
    assert!(log.contains("bdf=00:01.1  bar 4"), "log:\n{log}");
}

#[test]
fn seabios_boots_the_freedos_hard_disk() {
    let Some(mut p) = profile("pc-seabios.yaml", None) else {
        return;
    };
    let img = tmp_dir().join("freedos-hdd-seabios.img");
    if !make_image("make-freedos-hdd.sh", &img) {
        return;
    }
    p.hda = Some(img);
    p.boot = Some("c".into());
    let mut pc = build_pc(&p, &machines()).unwrap();
    let (ok, screen) = run_to_text(&mut pc, "C:\\>", 60);
    assert!(ok, "no C:\\> prompt; screen:\n{screen}");
}

/// A boot sector of ours writing "OK" to COM1 (8 data bits, LCR = 03h).
pub fn com1_boot_sector() -> Vec<u8> {
    #[rustfmt::skip]
    let code = [
        0xBA, 0xFB, 0x03, 0xB0, 0x03, 0xEE, // LCR: 8N1
        0xBA, 0xF8, 0x03,                   // mov dx, 3F8h
        0xB0, b'O', 0xEE,                   // out 'O'
        0xB0, b'K', 0xEE,                   // out 'K'
        0xF4, 0xEB, 0xFD,                   // hlt; jmp back to hlt
    ];
    let mut s = vec![0u8; 512];
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

#[test]
fn com1_is_a_16550_at_3f8() {
    let Some(mut p) = profile("at-486.yaml", None) else {
        return;
    };
    let img = tmp_dir().join("com1.img");
    std::fs::write(&img, com1_boot_sector()).unwrap();
    p.floppies[0].image = Some(img);
    let mut pc = build_pc(&p, &machines()).unwrap();
    let end = pc.run.board.config.clock_hz * 30;
    let com = pc.com[0].clone();
    let ok = pc
        .run
        .run_until_within(end, |_| com.borrow().output() == b"OK");
    assert!(ok, "COM1 got {:?}", com.borrow().output());
    // A 16550A has a scratch register and a FIFO (IIR bits 6–7 set once
    // FCR bit 0 enables it: NS16550A datasheet, register 2).
    use cpu::Bus;
    let b = &mut pc.run.board;
    b.io_write(0x3FF, 0x5A);
    assert_eq!(b.io_read(0x3FF), 0x5A);
    b.io_write(0x3FA, 0x01);
    assert_eq!(b.io_read(0x3FA) & 0xC0, 0xC0);
    // COM2 answers at 2F8h with its own scratch register.
    b.io_write(0x2FF, 0xA5);
    assert_eq!((b.io_read(0x2FF), b.io_read(0x3FF)), (0xA5, 0x5A));
}

/// A boot sector of ours that writes itself (sector 0, at 0:7C00h) to
/// sector 2 (CHS 0/0/2) with INT 13h AH=03h, stores the status (AH) at
/// 0:0500h and AAh at 0:0501h, then halts. Its tail is filled with a
/// pattern of ours so that the copy is recognisable.
fn disk_writer_sector() -> Vec<u8> {
    #[rustfmt::skip]
    let code = [
        0x31, 0xC0,                   // xor ax, ax
        0x8E, 0xC0,                   // mov es, ax
        0x8E, 0xD8,                   // mov ds, ax
        0xBB, 0x00, 0x7C,             // mov bx, 7C00h
        0xB8, 0x01, 0x03,             // mov ax, 0301h: write one sector
        0xB9, 0x02, 0x00,             // mov cx, 0002h: cylinder 0, sector 2
        0xB6, 0x00,                   // mov dh, 0: head 0 (DL = 80h from the BIOS)
        0xCD, 0x13,                   // int 13h
        0x88, 0x26, 0x00, 0x05,       // mov [0500h], ah
        0xC6, 0x06, 0x01, 0x05, 0xAA, // mov byte [0501h], 0AAh
        0xF4, 0xEB, 0xFD,             // hlt; jmp back to hlt
    ];
    let mut s: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

/// A boot sector of ours: COM1 at 9600 baud 8N1 with the received-data
/// interrupt (IER bit 0, MCR OUT2), only IRQ 4 unmasked at the PIC (the
/// BIOS's base 08h: vector 0Ch), then `sti` and `hlt` forever. The handler
/// reads the byte and sends it back plus one.
fn com1_echo_boot_sector() -> Vec<u8> {
    #[rustfmt::skip]
    let code = [
        0xFA, 0x31, 0xC0, 0x8E, 0xD8,             // cli; xor ax,ax; mov ds,ax
        0xC7, 0x06, 0x30, 0x00, 0x38, 0x7C,       // mov word [0030h], isr (7C38h)
        0xA3, 0x32, 0x00,                         // mov [0032h], ax
        0xBA, 0xFB, 0x03, 0xB0, 0x80, 0xEE,       // LCR: DLAB
        0xBA, 0xF8, 0x03, 0xB0, 0x0C, 0xEE,       // divisor 12 (9600 baud)
        0x42, 0x30, 0xC0, 0xEE,                   // inc dx; divisor high 0
        0xBA, 0xFB, 0x03, 0xB0, 0x03, 0xEE,       // LCR: 8N1
        0xBA, 0xF9, 0x03, 0xB0, 0x01, 0xEE,       // IER: received data
        0xBA, 0xFC, 0x03, 0xB0, 0x08, 0xEE,       // MCR: OUT2
        0xB0, 0xEF, 0xE6, 0x21,                   // only IRQ 4 unmasked
        0xFB, 0xF4, 0xEB, 0xFD,                   // sti; hlt; jmp to hlt
        // isr (7C38h):
        0xBA, 0xF8, 0x03, 0xEC, 0xFE, 0xC0, 0xEE, // in al,dx; inc al; out dx,al
        0xB0, 0x20, 0xE6, 0x20, 0xCF,             // EOI; iret
    ];
    let mut s = vec![0u8; 512];
    s[..code.len()].copy_from_slice(&code);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

/// Boot `img` (boot c) and run until the writer has stored its marker.
fn run_disk_writer(img: &Path, writable: bool) -> Option<AtPc> {
    let mut p = profile("at-486.yaml", None)?;
    p.hda = Some(img.to_path_buf());
    p.hda_writable = writable;
    p.boot = Some("c".into());
    let mut pc = build_pc(&p, &machines()).unwrap();
    let limit = pc.run.board.config.clock_hz * 20;
    let done = pc
        .run
        .run_until_within(limit, |r| r.board.ram()[0x501] == 0xAA);
    assert!(done, "the boot sector did not finish");
    // INT 13h status 00h: success.
    assert_eq!(pc.run.board.ram()[0x500], 0);
    Some(pc)
}

#[test]
fn hard_disk_writes_reach_the_file_only_with_writable() {
    let sector = disk_writer_sector();
    // 20 cylinders of 16 heads × 63 sectors.
    let size = 20 * 16 * 63 * 512;
    for writable in [false, true] {
        let img = tmp_dir().join(format!("writer-{writable}.img"));
        let mut data = vec![0u8; size];
        data[..512].copy_from_slice(&sector);
        std::fs::write(&img, &data).unwrap();
        let Some(pc) = run_disk_writer(&img, writable) else {
            return;
        };
        // The guest sees its write either way (LBA 1 = CHS 0/0/2).
        let mut back = vec![0u8; 512];
        {
            let mut ide = pc.ide.borrow_mut();
            let Some(devices::ide::Drive {
                media: devices::ide::Media::Disk(d),
                ..
            }) = ide.channels[0].drive_mut(0)
            else {
                panic!("no disk");
            };
            d.image.read_block(1, &mut back).unwrap();
        }
        assert_eq!(back, sector, "writable={writable}: the guest's view");
        drop(pc);
        let file = std::fs::read(&img).unwrap();
        let expect = if writable {
            sector.clone()
        } else {
            vec![0; 512]
        };
        assert_eq!(file[512..1024], expect[..], "writable={writable}: the file");
        // Nothing else in the file changed.
        assert_eq!(file[..512], sector[..]);
        assert!(file[1024..].iter().all(|&b| b == 0));
    }
}

#[test]
fn a_byte_queued_from_outside_wakes_a_halted_guest_through_irq4() {
    // The guest sleeps in HLT with every interrupt but IRQ 4 masked: the
    // byte `--serial stdio` (or a test) queues must reach the UART's
    // receiver on time by itself, with no port access to prompt it.
    let Some(mut p) = profile("at-486.yaml", None) else {
        return;
    };
    let img = tmp_dir().join("com1-echo.img");
    std::fs::write(&img, com1_echo_boot_sector()).unwrap();
    p.floppies[0].image = Some(img);
    let mut pc = build_pc(&p, &machines()).unwrap();
    let hz = pc.run.board.config.clock_hz;
    // Boot and let the sector reach its HLT.
    let end = hz * 20;
    pc.run.run_until_within(end, |m| m.cpu.regs().eip == 0x7C36);
    for _ in 0..1000 {
        pc.run.step();
    }
    pc.com[0].borrow_mut().receive(b"A");
    pc.run.board.refresh_device_deadlines();
    let com = pc.com[0].clone();
    // One character at 9600 baud is about 1 ms each way.
    let ok = pc
        .run
        .run_until_within(hz / 10, |_| com.borrow().output().ends_with(b"B"));
    assert!(ok, "COM1 sent {:?}", com.borrow().output());
}
