//! The AT and PCI machine profiles build boards with their firmware (found
//! in Debian's install locations), and bad profiles give one clear error.

mod support;
use chipset::at::{build_at, build_at_from_file, PciKind};
use chipset::MachineProfile;
use cpu::Bus;
use std::path::{Path, PathBuf};
use support::*;

/// The profile with its floppy image taken from `$IRONPC_SHARED` (the
/// profiles' relative paths assume shared/ beside the repository).
fn profile(name: &str) -> Option<MachineProfile> {
    let mut p = MachineProfile::load(&machines().join(name)).unwrap();
    let shared = std::env::var_os("IRONPC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let img = shared.join("images/floppy/freedos-1440k.img");
    if !img.exists() {
        skip(&format!("{} missing (set IRONPC_SHARED)", img.display()));
        return None;
    }
    p.floppies[0].image = Some(img);
    let fw = [
        (&p.bios, "BIOS"),
        (p.vga_bios.as_ref().unwrap(), "VGA BIOS"),
    ];
    for (f, what) in fw {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let found = [
            "/usr/share/bochs",
            "/usr/share/vgabios",
            "/usr/share/seabios",
        ]
        .iter()
        .any(|d| Path::new(d).join(&name).exists())
            || f.is_absolute() && f.exists();
        if !found && std::env::var_os("IRONPC_FIRMWARE").is_none() {
            skip(&format!(
                "{what} {name} not installed (apt-get install bochsbios vgabios seabios)"
            ));
            return None;
        }
    }
    Some(p)
}

fn check_common(b: &mut chipset::at::AtBoard, bios: &Path) {
    let image = std::fs::read(bios).unwrap();
    // The reset vector: the image's last 16 bytes at FFFF0h and FFFFFFF0h.
    for i in 0..16u32 {
        let want = image[image.len() - 16 + i as usize];
        assert_eq!(b.read(0xFFFF0 + i), want);
        assert_eq!(b.read(0xFFFF_FFF0 + i), want);
    }
    // The VGA BIOS is an option ROM at C0000h: 55 AAh and its size.
    assert_eq!((b.read(0xC0000), b.read(0xC0001)), (0x55, 0xAA));
    // CMOS: a 1.44M drive A:.
    b.io_write(0x70, 0x10);
    assert_eq!(b.io_read(0x71), 0x40);
}

#[test]
fn isa_486_profile() {
    let Some(p) = profile("at-486.yaml") else {
        return;
    };
    let mut m = build_at(&p, &machines()).unwrap();
    assert!(m.bios.ends_with("BIOS-bochs-legacy"), "{:?}", m.bios);
    assert_eq!(m.board.config.clock_hz, 33_000_000);
    assert!(m.board.pci.is_none());
    check_common(&mut m.board, &m.bios.clone());
}

#[test]
fn pci_profiles_with_bochs_bios_and_seabios() {
    for name in ["pc.yaml", "pc-seabios.yaml"] {
        let Some(p) = profile(name) else {
            return;
        };
        let mut m = build_at(&p, &machines()).unwrap();
        assert_eq!(m.board.config.memory_mib, 64);
        assert_eq!(
            m.board.pci_config(PciKind::HostBridge, 0, 4),
            Some(0x1237_8086)
        );
        check_common(&mut m.board, &m.bios.clone());
    }
}

fn parse_err(text: &str) -> String {
    let p = MachineProfile::parse(text, Path::new("bad.yaml"));
    match p {
        Err(e) => e.to_string(),
        Ok(p) => match build_at(&p, Path::new("/nonexistent")) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("built a machine from a bad profile"),
        },
    }
}

#[test]
fn bad_profiles_give_one_clear_error() {
    let e = parse_err("board: pci\ncpu: z80\nbios: x.bin\n");
    assert!(
        e.contains("bad.yaml") && e.contains("z80") && e.contains("486"),
        "{e}"
    );
    let e = parse_err("board: at\ncpu: '486'\nbios: x.bin\nmemory_mib: 4096\n");
    assert!(e.contains("memory_mib 4096"), "{e}");
    let e = parse_err("board: at\ncpu: '486'\nbios: x.bin\nboot: q\n");
    assert!(e.contains("boot 'q'"), "{e}");
    let e = parse_err("board: at\ncpu: '486'\nbios: x.bin\nrtc: yesterday\n");
    assert!(e.contains("rtc 'yesterday'"), "{e}");
    let e = parse_err("board: isa\ncpu: '486'\nbios: x.bin\n");
    assert!(e.contains("bad.yaml") && e.contains("isa"), "{e}");
    // A missing BIOS names the file and the Debian package.
    let e = parse_err("board: at\ncpu: '486'\nbios: BIOS-bochs-nothere\n");
    assert!(
        e.contains("BIOS-bochs-nothere") && e.contains("bochsbios"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    // A BIOS of the wrong size.
    let odd = std::env::temp_dir().join(format!("ironpc-odd-{}.rom", std::process::id()));
    std::fs::write(&odd, [0u8; 1000]).unwrap();
    let e = parse_err(&format!("board: at\ncpu: '486'\nbios: {}\n", odd.display()));
    assert!(e.contains("1000 bytes") && e.contains("ironpc-odd"), "{e}");
    std::fs::remove_file(&odd).ok();
}

#[test]
fn profile_file_paths_are_relative_to_the_profile() {
    let Err(e) = build_at_from_file(Path::new("/no/such/pc.yaml")) else {
        panic!("built from a missing file");
    };
    let e = e.to_string();
    assert!(e.contains("/no/such/pc.yaml"), "{e}");
}

#[test]
fn rtc_start_time_from_the_profile_or_the_host() {
    let p = MachineProfile::parse(
        "board: at\ncpu: '486'\nbios: x\nrtc: '1999-12-31 23:59:30'\n",
        Path::new("t.yaml"),
    )
    .unwrap();
    let t = p.rtc_start();
    assert_eq!((t.year, t.month, t.day, t.second), (1999, 12, 31, 30));
    let p = MachineProfile::parse(
        "board: at\ncpu: '486'\nbios: x\nrtc: host\n",
        Path::new("t.yaml"),
    )
    .unwrap();
    assert!(p.rtc_start().year >= 2024, "host clock");
    let p = MachineProfile::parse("board: at\ncpu: '486'\nbios: x\n", Path::new("t.yaml")).unwrap();
    assert_eq!(p.rtc_start().year, 2000, "deterministic by default");
}
