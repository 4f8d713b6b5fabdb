//! The gdb stub's protocol, spoken by a minimal client over TCP against the
//! hand-assembled loop of `workbench_support` (no shared data needed).
//! Every expected value follows from the program's hand assembly.

mod workbench_support;

use chipset::{Machine, Overrides};
use cpu::{ExactTiming, FastTiming};
use harness::gdbstub::{self, Endpoint, Listener, SessionEnd, StubOptions};
use harness::workbench::BusProbe;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::JoinHandle;
use std::time::Duration;
use workbench_support::*;

struct Client {
    s: TcpStream,
    ack: bool,
}

fn checksum(d: &[u8]) -> u8 {
    d.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

impl Client {
    fn byte(&mut self) -> u8 {
        let mut b = [0u8];
        self.s.read_exact(&mut b).expect("reply within the timeout");
        b[0]
    }

    fn send_raw(&mut self, data: &[u8]) {
        self.s.write_all(data).unwrap();
    }

    fn packet(&mut self, data: &str) -> String {
        let framed = format!("${data}#{:02x}", checksum(data.as_bytes()));
        self.send_raw(framed.as_bytes());
        if self.ack {
            assert_eq!(self.byte(), b'+', "ack for {data}");
        }
        self.reply()
    }

    /// The next packet from the stub (acknowledged when acks are on).
    fn reply(&mut self) -> String {
        while self.byte() != b'$' {}
        let mut body = Vec::new();
        loop {
            let b = self.byte();
            if b == b'#' {
                break;
            }
            body.push(b);
        }
        let cs = [self.byte(), self.byte()];
        let cs = u8::from_str_radix(std::str::from_utf8(&cs).unwrap(), 16).unwrap();
        assert_eq!(
            cs,
            checksum(&body),
            "checksum of {:?}",
            String::from_utf8_lossy(&body)
        );
        if self.ack {
            self.send_raw(b"+");
        }
        String::from_utf8(body).unwrap()
    }

    /// A register of the `g` layout as a number.
    fn reg(&mut self, n: usize) -> u32 {
        let hex = self.packet(&format!("p{n:x}"));
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        bytes.iter().rev().fold(0, |a, &b| a << 8 | b as u32)
    }
}

fn start<T: BusProbe + Default + Send + 'static>(
    timing: &str,
) -> (Client, JoinHandle<SessionEnd>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), timing);
    let mut m: Machine<T> = Machine::from_profile_timed(&profile, &Overrides::default()).unwrap();
    let l = Listener::bind(&Endpoint::Tcp(0)).unwrap();
    let addr = l.describe();
    let h = std::thread::spawn(move || {
        let conn = l.accept(Some(Duration::from_secs(20))).unwrap();
        gdbstub::serve(&mut m, conn, StubOptions::default()).unwrap()
    });
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    (Client { s, ack: true }, h, dir)
}

#[test]
fn registers_step_breakpoints_memory_and_detach() {
    let (mut c, h, _dir) = start::<FastTiming>("fast");
    let sup = c.packet("qSupported:multiprocess+;swbreak+;xmlRegisters=i386");
    assert!(sup.contains("qXfer:features:read+"), "{sup}");
    assert!(sup.contains("QStartNoAckMode+"), "{sup}");
    assert!(c.packet("?").starts_with("T05"));
    // The target description names the i8086 architecture.
    let xml = c.packet("qXfer:features:read:target.xml:0,ffff");
    assert!(xml.starts_with('l') && xml.contains("<architecture>i8086</architecture>"));
    // g: 16 registers of 4 bytes, 8 of 10 and 8 of 4 = 176 bytes.
    let g = c.packet("g");
    assert_eq!(g.len(), 176 * 2);
    // Reset: CS:IP = FFFF:0000, linear FFFF0h in eip (register 8), CS in 10.
    assert_eq!(c.reg(8), 0xFFFF0);
    assert_eq!(c.reg(10), 0xFFFF);
    // One step runs the far jump: FF80:0000, linear FF800h.
    assert!(c.packet("s").starts_with("T05"));
    assert_eq!(c.reg(8), BASE);
    assert_eq!(c.reg(10), 0xFF80);
    // Memory by linear address: the program's first bytes.
    assert_eq!(c.packet(&format!("m{BASE:x},3")), "b83412");
    // A breakpoint on `inc ax`: AX holds 1234h, BX 0500h, DS 0 there.
    assert_eq!(c.packet(&format!("Z0,{LOOP_INC:x},1")), "OK");
    assert!(c.packet("c").starts_with("T05"));
    assert_eq!(c.reg(8), LOOP_INC);
    assert_eq!(c.reg(0), 0x1234);
    assert_eq!(c.reg(3), 0x0500);
    // The store before it wrote AX at 0:0500 (little-endian).
    assert_eq!(c.packet("m500,2"), "3412");
    // Next time round AX was incremented once and stored again.
    assert!(c.packet("c").starts_with("T05"));
    assert_eq!(c.packet("m500,2"), "3512");
    assert_eq!(c.packet(&format!("z0,{LOOP_INC:x},1")), "OK");
    // Hardware breakpoint on the jump.
    assert_eq!(c.packet(&format!("Z1,{LOOP_JMP:x},1")), "OK");
    assert!(c.packet("vCont;c").starts_with("T05"));
    assert_eq!(c.reg(8), LOOP_JMP);
    assert_eq!(c.packet(&format!("z1,{LOOP_JMP:x},1")), "OK");
    // Writing memory and a register.
    assert_eq!(c.packet("M600,2:beef"), "OK");
    assert_eq!(c.packet("m600,2"), "beef");
    assert_eq!(c.packet("P0=78560000"), "OK");
    assert_eq!(c.reg(0), 0x5678);
    // Setting eip moves IP within CS.
    assert_eq!(
        c.packet(&format!("P8={:08x}", (LOOP_STORE).swap_bytes())),
        "OK"
    );
    assert_eq!(c.reg(8), LOOP_STORE);
    assert_eq!(c.reg(10), 0xFF80);
    // vCont step runs the store: 0:0500 now holds 5678h.
    assert!(c.packet("vCont;s:1").starts_with("T05"));
    assert_eq!(c.packet("m500,2"), "7856");
    // monitor regs (hex "regs"): console output, then OK.
    c.send_raw(format!("$qRcmd,72656773#{:02x}", checksum(b"qRcmd,72656773")).as_bytes());
    assert_eq!(c.byte(), b'+');
    let out = c.reply();
    assert!(out.starts_with('O'));
    let text: Vec<u8> = (1..out.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&out[i..i + 2], 16).unwrap())
        .collect();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("CS:IP=FF80:000C"), "{text}");
    assert_eq!(c.reply(), "OK");
    // A packet with a wrong checksum is refused with '-'.
    c.send_raw(b"$g#00");
    assert_eq!(c.byte(), b'-');
    assert_eq!(c.packet("D"), "OK");
    assert_eq!(h.join().unwrap(), SessionEnd::Detached);
}

#[test]
fn write_watchpoint_no_ack_mode_and_ctrl_c() {
    let (mut c, h, _dir) = start::<FastTiming>("fast");
    assert_eq!(c.packet("QStartNoAckMode"), "OK");
    c.ack = false;
    // Reads are seen only on the exact model's bus: not supported here.
    assert_eq!(c.packet("Z3,500,2"), "");
    assert_eq!(c.packet("Z2,500,2"), "OK");
    // The first store writes 1234h over zero: stop after it, at `inc ax`.
    let r = c.packet("c");
    assert!(r.starts_with("T05watch:500;"), "{r}");
    assert_eq!(c.reg(8), LOOP_INC);
    assert_eq!(c.packet("m500,2"), "3412");
    assert_eq!(c.packet("z2,500,2"), "OK");
    // Running free; Ctrl-C (0x03) stops it with SIGINT.
    c.send_raw(b"$c#63");
    std::thread::sleep(Duration::from_millis(200));
    c.send_raw(&[0x03]);
    let r = c.reply();
    assert!(r.starts_with("T02"), "{r}");
    // Still in the loop.
    let pc = c.reg(8);
    assert!((LOOP_STORE..=LOOP_JMP).contains(&pc), "{pc:X}");
    c.send_raw(b"$k#6b");
    assert_eq!(h.join().unwrap(), SessionEnd::Killed);
}

#[test]
fn exact_model_watches_reads_and_writes_on_the_bus() {
    let (mut c, h, _dir) = start::<ExactTiming>("exact");
    assert_eq!(c.packet("Z3,500,2"), "OK");
    // The first read of 0:0500 is `mov dx, [bx]`: stop after it, at the jump.
    let r = c.packet("c");
    assert!(r.starts_with("T05rwatch:500;"), "{r}");
    assert_eq!(c.reg(8), LOOP_JMP);
    assert_eq!(c.reg(2), 0x1234);
    assert_eq!(c.packet("z3,500,2"), "OK");
    // An access watchpoint on the high byte only (0501h): the next access
    // is the store of 1235h, a word split into two byte cycles on the 8088.
    assert_eq!(c.packet("Z4,501,1"), "OK");
    let r = c.packet("c");
    assert!(r.starts_with("T05awatch:501;"), "{r}");
    assert_eq!(c.reg(8), LOOP_INC);
    assert_eq!(c.packet("m500,2"), "3512");
    assert_eq!(c.packet("vKill;1"), "OK");
    assert_eq!(h.join().unwrap(), SessionEnd::Killed);
}

#[cfg(unix)]
#[test]
fn unix_socket_endpoint_serves_the_same_protocol() {
    use std::os::unix::net::UnixStream;
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), "fast");
    let mut m: Machine<FastTiming> =
        Machine::from_profile_timed(&profile, &Overrides::default()).unwrap();
    let sock = dir.path().join("pc.sock");
    let ep: Endpoint = format!("unix:{}", sock.display()).parse().unwrap();
    assert_eq!(ep, Endpoint::Unix(sock.clone()));
    assert_eq!("1234".parse::<Endpoint>().unwrap(), Endpoint::Tcp(1234));
    assert!("99999".parse::<Endpoint>().is_err());
    let l = Listener::bind(&ep).unwrap();
    let h = std::thread::spawn(move || {
        let conn = l.accept(Some(Duration::from_secs(20))).unwrap();
        gdbstub::serve(&mut m, conn, StubOptions::default()).unwrap()
    });
    let mut s = UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // "?" sums to 0x3F; the reply is acknowledged, then "$T05thread:1;#..".
    s.write_all(b"$?#3f").unwrap();
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.windows(1).any(|w| w == b"#")
        || got.len() < got.iter().position(|&b| b == b'#').unwrap() + 3
    {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("+$T05"), "{text}");
    // The connection closing without a detach ends the session.
    drop(s);
    assert!(matches!(h.join().unwrap(), SessionEnd::Disconnected(_)));
}

/// A program that takes timer interrupts while halted (hand assembly):
///
/// ```text
/// 0000  FA                  cli
/// 0001  31 C0               xor ax, ax
/// 0003  8E D8               mov ds, ax       ; 8E /r, ModR/M 11 011 000
/// 0005  8E D0               mov ss, ax       ; 8E /r, ModR/M 11 010 000
/// 0007  BC 00 80            mov sp, 8000h
/// 000A  C7 06 20 00 36 00   mov word [0020h], 0036h   ; vector 8: offset
/// 0010  C7 06 22 00 80 FF   mov word [0022h], FF80h   ; vector 8: segment
/// 0016  B0 13 E6 20         ICW1 13h: edge, single, ICW4 follows
/// 001A  B0 08 E6 21         ICW2: vectors from 08h
/// 001E  B0 01 E6 21         ICW4: 8086 mode
/// 0022  B0 FE E6 21         OCW1: only IRQ 0 unmasked
/// 0026  B0 34 E6 43         PIT counter 0: mode 2, low then high byte
/// 002A  B0 E8 E6 40         count 03E8h (1000 input clocks)
/// 002E  B0 03 E6 40
/// 0032  FB                  sti
/// 0033  F4                  hlt               ; loop: wait for IRQ 0
/// 0034  EB FD               jmp 0033h         ; 0036h - 3
/// 0036  41                  inc cx            ; the handler
/// 0037  B0 20 E6 20         EOI
/// 003B  CF                  iret
/// ```
const TIMER: &[u8] = &[
    0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xD0, 0xBC, 0x00, 0x80, 0xC7, 0x06, 0x20, 0x00, 0x36, 0x00,
    0xC7, 0x06, 0x22, 0x00, 0x80, 0xFF, 0xB0, 0x13, 0xE6, 0x20, 0xB0, 0x08, 0xE6, 0x21, 0xB0, 0x01,
    0xE6, 0x21, 0xB0, 0xFE, 0xE6, 0x21, 0xB0, 0x34, 0xE6, 0x43, 0xB0, 0xE8, 0xE6, 0x40, 0xB0, 0x03,
    0xE6, 0x40, 0xFB, 0xF4, 0xEB, 0xFD, 0x41, 0xB0, 0x20, 0xE6, 0x20, 0xCF,
];

/// A breakpoint on the first instruction of a hardware interrupt's handler
/// stops there before that instruction runs, although the machine enters
/// the handler and runs its first instruction in one step.
#[test]
fn breakpoint_on_a_hardware_interrupt_handler() {
    assert_eq!(TIMER.len(), 0x3C);
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), "fast");
    let mut r = rom();
    r[..TIMER.len()].copy_from_slice(TIMER);
    std::fs::write(dir.path().join("loop.rom"), r).unwrap();
    let mut m: Machine<FastTiming> =
        Machine::from_profile_timed(&p, &Overrides::default()).unwrap();
    let l = Listener::bind(&Endpoint::Tcp(0)).unwrap();
    let addr = l.describe();
    let h = std::thread::spawn(move || {
        let conn = l.accept(Some(Duration::from_secs(20))).unwrap();
        gdbstub::serve(&mut m, conn, StubOptions::default()).unwrap()
    });
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut c = Client { s, ack: true };
    let handler = BASE + 0x36;
    assert_eq!(c.packet(&format!("Z0,{handler:x},1")), "OK");
    for n in 0..3u32 {
        assert!(c.packet("c").starts_with("T05"));
        assert_eq!(
            c.reg(8),
            handler,
            "stopped before the handler's first instruction"
        );
        // `inc cx` has run once per earlier interrupt, not yet for this one.
        assert_eq!(c.reg(1), n);
        // The interrupt entry cleared IF (bit 9).
        assert_eq!(c.reg(9) & 0x200, 0);
    }
    // One step runs `inc cx`.
    assert!(c.packet("s").starts_with("T05"));
    assert_eq!(c.reg(8), handler + 1);
    assert_eq!(c.reg(1), 3);
    assert_eq!(c.packet("D"), "OK");
    assert_eq!(h.join().unwrap(), SessionEnd::Detached);
}

#[test]
fn the_286_view_adds_the_machine_status_word() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), "fast");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("cpu: \"8088\"", "cpu: \"80286\"")).unwrap();
    let mut m: Machine<FastTiming> =
        Machine::from_profile_timed(&p, &Overrides::default()).unwrap();
    let l = Listener::bind(&Endpoint::Tcp(0)).unwrap();
    let addr = l.describe();
    let h = std::thread::spawn(move || {
        let conn = l.accept(Some(Duration::from_secs(20))).unwrap();
        gdbstub::serve(&mut m, conn, StubOptions::default()).unwrap()
    });
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut c = Client { s, ack: true };
    let xml = c.packet("qXfer:features:read:target.xml:0,ffff");
    assert!(xml.contains("<architecture>i8086</architecture>"), "{xml}");
    assert!(xml.contains("name=\"msw\""), "{xml}");
    // The 8086 view's 176 bytes and the 16-bit MSW.
    assert_eq!(c.packet("g").len(), 178 * 2);
    // After reset the 80286's MSW reads FFF0h (PE clear, the reserved
    // bits ones: Intel's 80286 programmer's reference, reset state), and
    // CS:IP is F000:FFF0 (linear FFFF0h).
    assert_eq!(c.reg(0x20), 0xFFF0);
    assert_eq!(c.reg(8), 0xFFFF0);
    assert_eq!(c.reg(10), 0xF000);
    // Writes to it are accepted and ignored (read-only here).
    assert_eq!(c.packet("P20=0100"), "OK");
    assert_eq!(c.reg(0x20), 0xFFF0);
    assert_eq!(c.packet("D"), "OK");
    assert_eq!(h.join().unwrap(), SessionEnd::Detached);
}
