//! POST GLaBIOS and boot FreeDOS from a 360K floppy to the `A:\>` prompt.
//!
//! The images live in the shared data directory: `$IRONPC_SHARED`, or
//! `../../shared` from this crate (`shared/` beside the repository). When
//! they are missing the test prints why and passes, unless
//! `IRONPC_REQUIRE_DATA=1`, when it fails.

use chipset::{Machine, Overrides, RunStop};
use cpu::{ExactTiming, Timing};
use std::path::PathBuf;

fn shared_dir() -> PathBuf {
    match std::env::var_os("IRONPC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

fn profile_path() -> PathBuf {
    profile("xt.yaml")
}

fn profile(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test-suites/machines")
        .join(name)
}

/// The BIOS and floppy image, or `None` (after saying so) when absent.
fn data(bios: &str, floppy: &str) -> Option<(PathBuf, PathBuf)> {
    let shared = shared_dir();
    let bios = shared.join("images/bios").join(bios);
    let floppy = shared.join("images/floppy").join(floppy);
    let missing: Vec<_> = [&bios, &floppy]
        .into_iter()
        .filter(|p| !p.exists())
        .collect();
    if missing.is_empty() {
        return Some((bios, floppy));
    }
    let msg = format!("boot test data missing: {missing:?} (set IRONPC_SHARED)");
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}");
    }
    // `eprintln!` is captured by the test harness and shown only on
    // failure; written to stderr directly, the skip is always visible.
    println!("SKIPPED: {msg}");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {msg}");
    None
}

fn machine(bios: PathBuf, floppy: PathBuf) -> Machine {
    machine_with(&profile_path(), bios, floppy)
}

fn machine_with(profile: &std::path::Path, bios: PathBuf, floppy: PathBuf) -> Machine {
    let overrides = Overrides {
        bios: Some(bios),
        floppies: vec![(0, floppy)],
        ..Default::default()
    };
    Machine::from_profile(profile, &overrides).expect("machine profile")
}

/// Run to the `A:\>` prompt. GLaBIOS checks after its memory test that DRAM
/// refresh (DMA channel 0) has counted through 64K cycles, which holds only
/// if the emulated 8088 takes as long as a real one over the test: a POST
/// error there is a timing failure.
fn boot_to_prompt<T: Timing>(m: &mut Machine<T>) {
    let stop = m.run_until_within(BOOT_LIMIT, |m| {
        let s = m.screen_text();
        s.contains("A:\\>") || s.contains("POST Error")
    });
    assert!(
        !m.screen_text().contains("POST Error"),
        "POST failed: {}",
        describe(m)
    );
    assert_eq!(stop, RunStop::Condition, "no A:\\> prompt: {}", describe(m));
}

fn describe<T: Timing>(m: &Machine<T>) -> String {
    let (cs, ip) = m.cs_ip();
    format!(
        "after {} cycles at {cs:04X}:{ip:04X}, POST code {:02X}\n{}",
        m.cycles(),
        m.board.post_code,
        m.screen_text()
    )
}

/// Type `ver` at the prompt: FreeCom's version line must follow the command.
fn ver_at_prompt<T: Timing>(m: &mut Machine<T>) {
    m.type_keys("ver<enter>").unwrap();
    let stop = m.run_until_within(4_772_727 * 20, |m| {
        let s = m.screen_text();
        let lines: Vec<&str> = s.lines().collect();
        lines
            .iter()
            .rposition(|l| l.starts_with("A:\\>ver"))
            .is_some_and(|at| lines[at..].iter().any(|l| l.contains("FreeCom version")))
    });
    assert_eq!(stop, RunStop::Condition, "VER: {}", describe(m));
}

/// 4.77 MHz: about 60 emulated seconds.
const BOOT_LIMIT: u64 = 4_772_727 * 60;

#[test]
fn glabios_boots_freedos_to_prompt() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "freedos-360k.img") else {
        return;
    };
    let mut m = machine(bios, floppy);
    boot_to_prompt(&mut m);
    ver_at_prompt(&mut m);
}

/// The cycle-exact bus model (8088: byte bus, 4-byte queue) runs the same
/// BIOS and DOS: POST passes its timing-dependent checks and DOS answers.
#[test]
fn exact_model_boots_freedos_to_prompt() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "freedos-360k.img") else {
        return;
    };
    let overrides = Overrides {
        bios: Some(bios),
        floppies: vec![(0, floppy)],
        timing: Some("exact".into()),
        ..Default::default()
    };
    let mut m: Machine<ExactTiming> =
        Machine::from_profile_timed(&profile_path(), &overrides).expect("machine profile");
    boot_to_prompt(&mut m);
    ver_at_prompt(&mut m);
}

/// Sergey Kiselev's XT BIOS (it configures 1.44M drives and reads the
/// controller's disk-change line) boots the same disk.
#[test]
fn sergey_xt_bios_boots_freedos_to_prompt() {
    let Some((bios, floppy)) = data("sergey-xt-1.0.2.rom", "freedos-360k.img") else {
        return;
    };
    let mut m = machine(bios, floppy);
    let stop = m.run_until_within(BOOT_LIMIT, |m| m.screen_text().contains("A:\\>"));
    assert_eq!(
        stop,
        RunStop::Condition,
        "no A:\\> prompt: {}",
        describe(&m)
    );
    assert!(m.screen_text().contains("FreeCom version"));
}

/// The 1.44M FreeDOS floppy in a high-density drive.
#[test]
fn glabios_boots_the_1440k_floppy() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "freedos-1440k.img") else {
        return;
    };
    let mut m = machine_with(&profile("xt-144.yaml"), bios, floppy);
    boot_to_prompt(&mut m);
    ver_at_prompt(&mut m);
}

/// The 1.44M floppy in the default XT profile (whose drive A: says 360k):
/// the drive takes the image's type, so DOS boots rather than stopping on
/// "sector not found".
#[test]
fn default_profile_boots_the_1440k_floppy() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "freedos-1440k.img") else {
        return;
    };
    let mut m = machine(bios, floppy);
    boot_to_prompt(&mut m);
}

/// bootBASIC, a BASIC interpreter in one boot sector (padded to a 160K
/// floppy), shows its prompt and evaluates an expression.
#[test]
fn bootbasic_evaluates_an_expression() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "bootbasic-512b.img") else {
        return;
    };
    let sector = std::fs::read(&floppy).unwrap();
    assert_eq!(sector.len(), 512);
    let image = devices::floppy::FloppyImage::from_bytes_padded(&floppy, sector).unwrap();
    let overrides = Overrides {
        bios: Some(bios),
        ..Default::default()
    };
    let mut m = Machine::from_profile(&profile_path(), &overrides).unwrap();
    m.insert_floppy(0, Some(image));
    m.run_until_within(BOOT_LIMIT, |m| {
        m.screen_text().lines().any(|l| l.starts_with('>'))
    });
    assert!(
        m.screen_text().lines().any(|l| l.starts_with('>')),
        "no bootBASIC prompt: {}",
        describe(&m)
    );
    m.type_keys("print 6*7<enter>").unwrap();
    let stop = m.run_until_within(4_772_727 * 10, |m| {
        m.screen_text().lines().any(|l| l.trim() == "42")
    });
    assert_eq!(stop, RunStop::Condition, "print 6*7: {}", describe(&m));
}

/// What a monitor shows at the FreeDOS prompt: a 640x200 CGA picture that is
/// not blank, with the prompt's glyphs drawn where the text screen has them.
#[test]
fn screenshot_of_the_prompt_shows_its_glyphs() {
    let Some((bios, floppy)) = data("glabios-0.2.6-xt.rom", "freedos-360k.img") else {
        return;
    };
    let mut m = machine(bios, floppy);
    boot_to_prompt(&mut m);
    let text = m.screen_text();
    let (row, line) = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("A:\\>"))
        .last()
        .expect("prompt line");
    assert!(line.starts_with("A:\\>"));
    let (w, h, rgb) = m.framebuffer();
    assert_eq!((w, h), (640, 200));
    assert_eq!(rgb.len(), w * h * 3);
    assert!(rgb.iter().any(|&b| b != 0), "blank picture");
    // Each character of "A:\\>" is an 8x8 cell; a lit pixel exactly where
    // the font's glyph has one (font8x8 rows: bit 0 is the leftmost pixel),
    // and dark where it has none.
    for (col, ch) in "A:\\>".bytes().enumerate() {
        let glyph = devices::font::glyph(ch);
        for (gy, bits) in glyph.iter().enumerate() {
            for gx in 0..8 {
                let (x, y) = (col * 8 + gx, row * 8 + gy);
                let lit = rgb[(y * w + x) * 3..][..3].iter().any(|&b| b > 0x40);
                let want = bits & (1 << gx) != 0;
                assert_eq!(
                    lit, want,
                    "{:?} at cell ({col},{row}) pixel ({gx},{gy})",
                    ch as char
                );
            }
        }
    }
}
