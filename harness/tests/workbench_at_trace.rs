//! `--trace` on the AT machine (the 32-bit core): one line per
//! instruction with its bytes, its disassembly and the registers it
//! changed; the bus trace (of the 8088's bus) is refused there with a
//! clear message.

use std::path::Path;
use std::process::Command;

/// The Bochs legacy BIOS the at-486 profile uses (Debian's bochsbios), or
/// None after a visible SKIPPED line (a failure with IRONPC_REQUIRE_DATA=1).
fn have_bios(test: &str) -> bool {
    let firmware = std::env::var_os("IRONPC_FIRMWARE").map(std::path::PathBuf::from);
    let found = firmware
        .iter()
        .map(|d| d.join("BIOS-bochs-legacy"))
        .chain([Path::new("/usr/share/bochs/BIOS-bochs-legacy").to_path_buf()])
        .any(|p| p.exists());
    if found {
        return true;
    }
    let msg = format!("SKIPPED {test}: BIOS-bochs-legacy not found (apt-get install bochsbios)");
    if std::env::var("IRONPC_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("IRONPC_REQUIRE_DATA=1: {msg}");
    }
    println!("{msg}");
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
    false
}

/// One trace line (`N c=C CS:EIP BYTES  TEXT  REGS`).
struct Line {
    cs: u16,
    eip: u32,
    bytes: Vec<u8>,
    /// `..` after the bytes: they did not decode.
    cut: bool,
    text: String,
    /// The line names a new EIP: the step did not fall through.
    jumped: bool,
}

fn parse(line: &str) -> Line {
    let mut f = line.split_whitespace().skip(2);
    let at = f.next().unwrap();
    let (cs, eip) = at.split_once(':').unwrap();
    let mut bytes = Vec::new();
    let mut cut = false;
    let rest: Vec<&str> = f.collect();
    let mut k = 0;
    while k < rest.len() {
        let w = rest[k];
        if w == ".." {
            cut = true;
            k += 1;
            break;
        }
        match u8::from_str_radix(w, 16) {
            Ok(b) if w.len() == 2 => bytes.push(b),
            _ => break,
        }
        k += 1;
    }
    // The text runs to the first register change (`name=value`).
    let text: Vec<&str> = rest[k..]
        .iter()
        .take_while(|w| !w.contains('='))
        .copied()
        .collect();
    Line {
        cs: u16::from_str_radix(cs, 16).unwrap(),
        eip: u32::from_str_radix(eip, 16).unwrap(),
        bytes,
        cut,
        text: text.join(" "),
        jumped: line.contains(" eip="),
    }
}

#[test]
fn at_trace_lines_follow_the_instruction_stream_from_the_reset_vector() {
    if !have_bios("at trace") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("at.txt.gz");
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["run", "--machine", "at-486", "--trace"])
        .arg(&trace)
        .args(["--trace-count", "200", "--timeout", "60"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("traced 200 instructions"), "{err}");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&trace).unwrap()),
        &mut text,
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 200);
    // The 486 starts at F000:0000FFF0 (CS base FFFF0000h), where the BIOS
    // has a far jump (EA, offset, segment) into its F000 segment: five
    // bytes, shown as the far pointer it encodes.
    let l0 = parse(lines[0]);
    assert!(
        lines[0].starts_with("0 c=0 F000:0000FFF0 EA "),
        "{}",
        lines[0]
    );
    assert_eq!((l0.cs, l0.eip), (0xF000, 0xFFF0));
    assert_eq!(l0.bytes.len(), 5, "{}", lines[0]);
    assert!(!l0.cut && l0.jumped);
    let b = &l0.bytes;
    let (off, sel) = (
        u16::from_le_bytes([b[1], b[2]]),
        u16::from_le_bytes([b[3], b[4]]),
    );
    assert_eq!(l0.text, format!("jmp {sel:#x}:{off:#x}"), "{}", lines[0]);
    let l1 = parse(lines[1]);
    assert_eq!((l1.cs, l1.eip), (sel, off as u32));
    // Every instruction that fell through is followed by the one its
    // length leads to; the numbers count up by one; the BIOS's code all
    // decodes, each line with a mnemonic.
    let mut fell = 0;
    for (k, w) in lines.windows(2).enumerate() {
        assert!(w[1].starts_with(&format!("{} ", k + 1)), "{}", w[1]);
        let (a, b) = (parse(w[0]), parse(w[1]));
        assert!(!a.cut && !a.text.is_empty(), "{}", w[0]);
        if !a.jumped {
            assert_eq!(
                (b.cs, b.eip),
                (a.cs, a.eip + a.bytes.len() as u32),
                "{}",
                w[0]
            );
            fell += 1;
        }
    }
    assert!(fell > 150, "{fell} of 199 fell through");
}

#[test]
fn at_machines_refuse_the_bus_trace() {
    let dir = tempfile::tempdir().unwrap();
    let bus = dir.path().join("bus.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_ironpc"))
        .args(["run", "--machine", "at-486", "--bus-trace"])
        .arg(&bus)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--bus-trace is not available on AT and PCI machines"),
        "{err}"
    );
    assert!(!bus.exists());
}
