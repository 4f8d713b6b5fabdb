//! A floppy drive's type follows the inserted image's size unless the
//! profile pins it: a 1.44 MB image in the default XT profile's 360K drive A
//! gets a 1.44 MB drive (80 tracks, so the BIOS can reach its last track).

use chipset::{Machine, MachineProfile, Overrides};
use devices::DriveType;
use std::path::{Path, PathBuf};

fn temp(name: &str, len: usize, fill: u8) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ironpc-ftype-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, vec![fill; len]).unwrap();
    p
}

fn profile(bios: &Path, pin: bool) -> MachineProfile {
    let text = format!(
        "cpu: '8088'\nram_kib: 640\nbios: {}\nfloppies:\n  - type: 360k\n    pin: {pin}\n  - type: 360k\n",
        bios.display()
    );
    MachineProfile::parse(&text, Path::new("t.yaml")).unwrap()
}

fn drive_a(image: &Path, pin: bool) -> DriveType {
    let bios = temp("bios.rom", 8192, 0xF4);
    let o = Overrides {
        floppies: vec![(0, image.to_path_buf())],
        ..Default::default()
    };
    let m = Machine::from_config(profile(&bios, pin), &o).unwrap();
    m.board.fdc.drives[0].kind
}

#[test]
fn image_size_picks_the_drive_type() {
    let hd = temp("hd.img", 1_474_560, 0);
    let dd = temp("dd.img", 368_640, 0);
    let dd35 = temp("dd35.img", 737_280, 0);
    assert_eq!(drive_a(&hd, false), DriveType::D1440);
    assert_eq!(drive_a(&dd, false), DriveType::D360);
    assert_eq!(drive_a(&dd35, false), DriveType::D720);
    // Pinned: the profile's type stays.
    assert_eq!(drive_a(&hd, true), DriveType::D360);
}

#[test]
fn the_default_xt_profile_takes_a_144_image() {
    let xt = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-suites/machines/xt.yaml");
    let mut p = MachineProfile::load(&xt).unwrap();
    let bios = temp("bios2.rom", 8192, 0xF4);
    p.bios = bios;
    p.floppies[0].image = Some(temp("a144.img", 1_474_560, 0));
    let m = Machine::from_config(p, &Overrides::default()).unwrap();
    assert_eq!(m.board.fdc.drives[0].kind, DriveType::D1440);
    // Drive B: has no image and keeps its 360K type.
    assert_eq!(m.board.fdc.drives[1].kind, DriveType::D360);
}

#[test]
fn an_at_profile_is_refused_by_the_xt_machine() {
    let bios = temp("bios3.rom", 8192, 0xF4);
    let text = format!("board: pci\ncpu: '486'\nbios: {}\n", bios.display());
    let p = MachineProfile::parse(&text, Path::new("pc.yaml")).unwrap();
    let Err(e) = Machine::from_config(p, &Overrides::default()) else {
        panic!("an AT profile built an XT machine");
    };
    let e = e.to_string();
    assert!(e.contains("Pci") && e.contains("chipset::at"), "{e}");
}
