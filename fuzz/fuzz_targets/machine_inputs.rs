//! What a user hands the machine: floppy images (any bytes, padded to a
//! known size or not) and machine profiles (any text). Each is refused with
//! an error naming the file, or accepted and then usable; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let name = Path::new("fuzz.img");
    match kind % 3 {
        0 => match devices::floppy::FloppyImage::from_bytes(name, rest.to_vec()) {
            Ok(img) => read_every_sector(&img),
            Err(e) => assert!(e.to_string().contains("fuzz.img"), "{e}"),
        },
        1 => {
            if let Ok(img) = devices::floppy::FloppyImage::from_bytes_padded(name, rest.to_vec()) {
                read_every_sector(&img);
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let path = Path::new("fuzz.yaml");
            if let Err(e) = chipset::profile::MachineProfile::parse(&text, path) {
                assert!(e.to_string().contains("fuzz.yaml"), "{e}");
            }
        }
    }
});

fn read_every_sector(img: &devices::floppy::FloppyImage) {
    let g = img.geometry;
    // One past every bound too: those must be refused, not read.
    for c in 0..=g.cylinders as u16 {
        for h in 0..=g.heads as u16 {
            for r in 0..=g.sectors as u16 + 1 {
                let _ = img.sector(c as u8, h as u8, r as u8);
            }
        }
    }
}
