//! A gdb remote stub (the GDB Remote Serial Protocol) for a running
//! [`Machine`]: registers in gdb's i386 layout with the 8086 real-mode
//! values (see `target.xml`), memory by linear address, software and
//! hardware breakpoints, watchpoints, single step, continue, Ctrl-C, and
//! `monitor` commands that show the PIC, the PIT, the screen and the CPU.
//!
//! Breakpoints are kept by the stub, not written into guest memory: before
//! each instruction the linear address of CS:IP is looked up. Write
//! watchpoints compare the watched bytes after each instruction on the fast
//! model; on the cycle-exact model every watchpoint kind is matched against
//! the bus cycles the instruction ran (so a write of an unchanged value is
//! seen, and reads can be watched).

pub mod packet;

use chipset::Machine;
use cpu::Seg;
use packet::{from_hex, hex_number, to_hex, Incoming, Reader};
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The target description sent for `qXfer:features:read:target.xml`.
pub mod target;
pub mod target32;
pub use target::Target;

/// The XT's target description.
pub const TARGET_XML: &str = include_str!("target.xml");

/// Bytes of the `g` packet: 16 registers of 4 bytes, 8 FPU stack registers
/// of 10, 8 FPU control registers of 4 (the layout of `target.xml`).
pub const G_BYTES: usize = 16 * 4 + 8 * 10 + 8 * 4;

/// SIGTRAP: a breakpoint, watchpoint or finished step.
const SIGTRAP: u8 = 5;
/// SIGINT: stopped by Ctrl-C.
const SIGINT: u8 = 2;

/// Where the stub listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP port on 127.0.0.1 (0: any free port).
    Tcp(u16),
    /// A Unix socket at this path.
    Unix(PathBuf),
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("empty --gdb endpoint (give a port or a socket path)".into());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse::<u16>()
                .map(Endpoint::Tcp)
                .map_err(|_| format!("--gdb {s}: a port is 0..65535"));
        }
        Ok(Endpoint::Unix(PathBuf::from(
            s.strip_prefix("unix:").unwrap_or(s),
        )))
    }
}

/// A bound listening socket.
pub enum Listener {
    /// TCP on 127.0.0.1.
    Tcp(TcpListener),
    /// A Unix socket (its path, removed on drop).
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

impl Listener {
    /// Bind the endpoint (TCP only on the loopback address).
    pub fn bind(ep: &Endpoint) -> io::Result<Listener> {
        match ep {
            Endpoint::Tcp(port) => Ok(Listener::Tcp(TcpListener::bind(SocketAddr::from((
                Ipv4Addr::LOCALHOST,
                *port,
            )))?)),
            #[cfg(unix)]
            Endpoint::Unix(path) => {
                let l = std::os::unix::net::UnixListener::bind(path)?;
                Ok(Listener::Unix(l, path.clone()))
            }
            #[cfg(not(unix))]
            Endpoint::Unix(path) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{}: Unix sockets are not available here", path.display()),
            )),
        }
    }

    /// What gdb's `target remote` takes to reach it.
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|e| format!("?({e})")),
            #[cfg(unix)]
            Listener::Unix(_, p) => p.display().to_string(),
        }
    }

    /// Wait for the debugger to connect, at most `timeout` (forever if `None`).
    pub fn accept(&self, timeout: Option<Duration>) -> io::Result<Conn> {
        let end = timeout.map(|t| Instant::now() + t);
        self.set_nonblocking(true)?;
        let r = loop {
            let got = match self {
                Listener::Tcp(l) => l.accept().map(|(s, _)| Conn::Tcp(s)),
                #[cfg(unix)]
                Listener::Unix(l, _) => l.accept().map(|(s, _)| Conn::Unix(s)),
            };
            match got {
                Ok(c) => break Ok(c),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if end.is_some_and(|e| Instant::now() >= e) {
                        break Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no debugger connected in time",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => break Err(e),
            }
        };
        self.set_nonblocking(false)?;
        let c = r?;
        c.set_nonblocking(false)?;
        Ok(c)
    }

    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(on),
            #[cfg(unix)]
            Listener::Unix(l, _) => l.set_nonblocking(on),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Listener::Unix(_, p) = self {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A connection to the debugger.
pub enum Conn {
    /// TCP.
    Tcp(TcpStream),
    /// A Unix socket.
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
}

impl Conn {
    /// Switch blocking reads on or off.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => {
                // Replies are small and latency matters.
                let _ = s.set_nodelay(true);
                s.set_nonblocking(on)
            }
            #[cfg(unix)]
            Conn::Unix(s) => s.set_nonblocking(on),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Conn::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            #[cfg(unix)]
            Conn::Unix(s) => s.flush(),
        }
    }
}

/// How a debugging session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The debugger detached: the machine runs on.
    Detached,
    /// The debugger killed the machine.
    Killed,
    /// The connection closed (or failed) without a detach.
    Disconnected(String),
}

/// Settings of a session.
#[derive(Clone, Debug, Default)]
pub struct StubOptions {
    /// Stop a `continue` (once) when this text appears on the screen.
    pub until_text: Option<String>,
}

/// Kinds of watchpoint (`Z2`, `Z3`, `Z4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WatchKind {
    /// Stop after a write.
    Write,
    /// Stop after a read.
    Read,
    /// Stop after a read or a write.
    Access,
}

/// A watched range of linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Watch {
    /// What is watched.
    pub kind: WatchKind,
    /// First linear address.
    pub addr: u32,
    /// Length in bytes.
    pub len: u32,
}

impl Watch {
    fn overlaps(&self, addr: u32, len: u32) -> bool {
        // In u64: a watch near the top of the address space must not wrap.
        let (a, l, wa, wl) = (addr as u64, len as u64, self.addr as u64, self.len as u64);
        a < wa + wl && wa < a + l
    }
}

/// Why the machine stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A signal (SIGTRAP for breakpoints and steps, SIGINT for Ctrl-C).
    Signal(u8),
    /// A watchpoint triggered at this address.
    Watch(WatchKind, u32),
    /// The guest asked to exit (port F4h).
    Exited(i32),
    /// The awaited screen text appeared.
    Text(String),
}

/// The stub: a machine under the debugger's control.
pub struct Stub<'m, M: Target> {
    machine: &'m mut M,
    conn: Conn,
    reader: Reader,
    ack: bool,
    breaks: BTreeSet<u32>,
    hw_breaks: BTreeSet<u32>,
    watches: BTreeSet<Watch>,
    opts: StubOptions,
}

/// Serve one debugging session on `conn`, the machine stopped at first.
pub fn serve<M: Target>(machine: &mut M, conn: Conn, opts: StubOptions) -> io::Result<SessionEnd> {
    let mut stub = Stub {
        machine,
        conn,
        reader: Reader::new(),
        ack: true,
        breaks: BTreeSet::new(),
        hw_breaks: BTreeSet::new(),
        watches: BTreeSet::new(),
        opts,
    };
    let end = stub.session();
    stub.machine.probe(false);
    match end {
        Ok(e) => Ok(e),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Ok(SessionEnd::Disconnected(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

/// Little-endian bytes of a 32-bit register value.
pub(crate) fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

impl<M: Target> Stub<'_, M> {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.reader.send(&mut self.conn, data, self.ack)?;
        Ok(())
    }

    fn send_str(&mut self, s: &str) -> io::Result<()> {
        self.send(s.as_bytes())
    }

    fn pc(&self) -> u32 {
        self.machine.pc()
    }

    fn set_pc(&mut self, addr: u32) {
        self.machine.set_pc(addr);
    }

    fn reg(&self, n: usize) -> Option<Vec<u8>> {
        self.machine.reg(n)
    }

    fn set_reg(&mut self, n: usize, bytes: &[u8]) -> bool {
        self.machine.set_reg(n, bytes)
    }

    fn all_regs(&self) -> Vec<u8> {
        (0..self.machine.reg_count())
            .flat_map(|n| self.reg(n).unwrap_or_default())
            .collect()
    }

    fn read_mem(&mut self, addr: u32, len: u32) -> Vec<u8> {
        self.machine.read_mem(addr, len)
    }

    fn write_mem(&mut self, addr: u32, data: &[u8]) {
        self.machine.write_mem(addr, data);
    }

    fn stop_reply(&self, stop: &Stop) -> String {
        match stop {
            Stop::Signal(s) => format!("T{s:02x}thread:1;"),
            Stop::Watch(k, a) => {
                let name = match k {
                    WatchKind::Write => "watch",
                    WatchKind::Read => "rwatch",
                    WatchKind::Access => "awatch",
                };
                format!("T{SIGTRAP:02x}{name}:{a:x};thread:1;")
            }
            Stop::Exited(code) => format!("W{:02x}", (*code).clamp(0, 255)),
            Stop::Text(_) => format!("T{SIGTRAP:02x}thread:1;"),
        }
    }

    /// Send text to gdb's console (an `O` packet per piece).
    fn console(&mut self, text: &str) -> io::Result<()> {
        for chunk in text.as_bytes().chunks(1024) {
            let mut p = b"O".to_vec();
            p.extend_from_slice(to_hex(chunk).as_bytes());
            self.send(&p)?;
        }
        Ok(())
    }

    /// Run one instruction, or until a breakpoint, watchpoint, Ctrl-C, the
    /// awaited text or the guest's exit.
    fn resume(&mut self, single: bool) -> io::Result<Stop> {
        let mut first = true;
        let mut steps: u64 = 0;
        let mut text_check = self.machine.cycles().0;
        let sees_bus = self.machine.sees_bus();
        // Without a bus, reads are predicted from the decoded instruction.
        let predicted = !sees_bus && self.machine.operand_reads();
        let probe = (sees_bus && !self.watches.is_empty())
            || (predicted && self.watches.iter().any(|w| w.kind != WatchKind::Write));
        let compare = !sees_bus && self.watches.iter().any(|w| w.kind != WatchKind::Read);
        let stop = loop {
            if let Some(code) = self.machine.exit_request() {
                break Stop::Exited(code);
            }
            // Between the iterations of a REP (IP at it) is not a new arrival.
            if !first && !self.machine.halted() && !self.machine.mid_instruction() {
                let pc = self.pc();
                if self.breaks.contains(&pc) || self.hw_breaks.contains(&pc) {
                    break Stop::Signal(SIGTRAP);
                }
            }
            let any_break = !self.breaks.is_empty() || !self.hw_breaks.is_empty();
            if !first && any_break {
                // Machine::step would take the interrupt and run the first
                // instruction of its handler at once: a breakpoint on that
                // instruction is honoured by taking the interrupt alone.
                if let Some(h) = self.machine.pending_handler() {
                    if self.breaks.contains(&h) || self.hw_breaks.contains(&h) {
                        self.machine.take_pending_interrupt();
                        break Stop::Signal(SIGTRAP);
                    }
                }
            }
            first = false;
            let watches: Vec<Watch> = if compare {
                self.watches.iter().copied().collect()
            } else {
                Vec::new()
            };
            let before: Vec<Vec<u8>> = watches
                .iter()
                .map(|w| self.read_mem(w.addr, w.len))
                .collect();
            if probe {
                self.machine.probe(true);
            }
            let n0 = self.machine.instructions();
            self.machine.step();
            if probe {
                if let Some(hit) = self.bus_watch_hit(predicted) {
                    break hit;
                }
            }
            if compare {
                let hit = watches
                    .iter()
                    .zip(&before)
                    .find(|(w, old)| {
                        w.kind != WatchKind::Read && self.machine.read_mem(w.addr, w.len) != **old
                    })
                    .map(|(w, _)| Stop::Watch(w.kind, w.addr));
                if let Some(hit) = hit {
                    break hit;
                }
            }
            if single && self.machine.instructions() != n0 {
                break Stop::Signal(SIGTRAP);
            }
            steps += 1;
            if steps % 4096 == 0 {
                let conn = &mut self.conn;
                if self
                    .reader
                    .poll_interrupt(conn, &mut |c: &mut Conn, on| c.set_nonblocking(on))?
                {
                    break Stop::Signal(SIGINT);
                }
            }
            if !single && self.machine.cycles().0 >= text_check + 100_000 {
                text_check = self.machine.cycles().0;
                if let Some(t) = &self.opts.until_text {
                    if self.machine.screen_text().contains(t.as_str()) {
                        let t = t.clone();
                        // Reported once: a later continue runs on.
                        self.opts.until_text = None;
                        break Stop::Text(t);
                    }
                }
            }
        };
        if probe {
            self.machine.probe(false);
        }
        Ok(stop)
    }

    /// The first watchpoint the last instruction's bus cycles touched
    /// (only its reads when they are `predicted`: writes are compared).
    fn bus_watch_hit(&self, predicted: bool) -> Option<Stop> {
        let acc = self.machine.accesses();
        for a in acc.iter().filter(|a| !(a.io || (predicted && a.write))) {
            for w in &self.watches {
                let kind_ok = match w.kind {
                    WatchKind::Write => a.write,
                    WatchKind::Read => !a.write,
                    WatchKind::Access => true,
                };
                if kind_ok && w.overlaps(a.address, a.width as u32) {
                    return Some(Stop::Watch(w.kind, w.addr));
                }
            }
        }
        None
    }

    fn session(&mut self) -> io::Result<SessionEnd> {
        loop {
            let packet = match self.reader.read(&mut self.conn, self.ack)? {
                Incoming::Interrupt => {
                    // Already stopped: report it again.
                    self.send_str(&format!("T{SIGINT:02x}thread:1;"))?;
                    continue;
                }
                Incoming::Packet(p) => p,
            };
            if let Some(end) = self.handle(&packet)? {
                return Ok(end);
            }
        }
    }

    /// Resume, then report why the machine stopped.
    fn resume_and_report(&mut self, single: bool) -> io::Result<()> {
        let stop = self.resume(single)?;
        if let Stop::Text(t) = &stop {
            let msg = format!("ironpc: {t:?} is on the screen\n");
            self.console(&msg)?;
        }
        let reply = self.stop_reply(&stop);
        self.send_str(&reply)
    }

    /// Answer one packet; `Some` when the session ends.
    fn handle(&mut self, p: &[u8]) -> io::Result<Option<SessionEnd>> {
        let Some((&cmd, rest)) = p.split_first() else {
            self.send(b"")?;
            return Ok(None);
        };
        match cmd {
            b'?' => self.send_str(&format!("T{SIGTRAP:02x}thread:1;"))?,
            b'g' => {
                let hex = to_hex(&self.all_regs());
                self.send_str(&hex)?;
            }
            b'G' => match from_hex(rest) {
                Some(bytes) => {
                    let mut off = 0;
                    for n in 0..self.machine.reg_count() {
                        let size = self.reg(n).map_or(0, |r| r.len());
                        if let Some(b) = bytes.get(off..off + size) {
                            self.set_reg(n, b);
                        }
                        off += size;
                    }
                    self.send(b"OK")?;
                }
                None => self.send(b"E01")?,
            },
            b'p' => match hex_number(rest).and_then(|n| self.reg(n as usize)) {
                Some(v) => {
                    let hex = to_hex(&v);
                    self.send_str(&hex)?;
                }
                None => self.send(b"E01")?,
            },
            b'P' => {
                let ok = split_once(rest, b'=').and_then(|(n, v)| {
                    let n = hex_number(n)? as usize;
                    let v = from_hex(v)?;
                    Some(self.set_reg(n, &v))
                });
                self.send(if ok == Some(true) { b"OK" } else { b"E01" })?;
            }
            b'm' => match parse_addr_len(rest) {
                Some((a, l)) => {
                    let hex = to_hex(&self.read_mem(a, l.min(0x1000)));
                    self.send_str(&hex)?;
                }
                None => self.send(b"E01")?,
            },
            b'M' => {
                let ok = split_once(rest, b':').and_then(|(al, data)| {
                    let (a, l) = parse_addr_len(al)?;
                    let data = from_hex(data)?;
                    (data.len() as u32 == l).then_some((a, data))
                });
                match ok {
                    Some((a, data)) => {
                        self.write_mem(a, &data);
                        self.send(b"OK")?;
                    }
                    None => self.send(b"E01")?,
                }
            }
            b'X' => {
                let ok = split_once(rest, b':').and_then(|(al, data)| {
                    let (a, l) = parse_addr_len(al)?;
                    (data.len() as u32 == l).then(|| (a, data.to_vec()))
                });
                match ok {
                    Some((a, data)) => {
                        self.write_mem(a, &data);
                        self.send(b"OK")?;
                    }
                    None => self.send(b"E01")?,
                }
            }
            b's' | b'c' => {
                if let Some(a) = hex_number(rest) {
                    self.set_pc(a as u32);
                }
                self.resume_and_report(cmd == b's')?;
            }
            b'S' | b'C' => {
                // The signal is not delivered (a PC has no signals).
                if let Some(a) = split_once(rest, b';').and_then(|(_, a)| hex_number(a)) {
                    self.set_pc(a as u32);
                }
                self.resume_and_report(cmd == b'S')?;
            }
            b'Z' | b'z' => {
                let r = self.breakpoint(cmd == b'Z', rest);
                match r {
                    Some(true) => self.send(b"OK")?,
                    Some(false) => self.send(b"")?,
                    None => self.send(b"E01")?,
                }
            }
            b'H' | b'T' => self.send(b"OK")?,
            b'k' => return Ok(Some(SessionEnd::Killed)),
            b'D' => {
                self.send(b"OK")?;
                return Ok(Some(SessionEnd::Detached));
            }
            b'q' | b'Q' => self.query(p)?,
            b'v' => return self.v_packet(p),
            _ => self.send(b"")?,
        }
        Ok(None)
    }

    /// `Z`/`z` type,addr,kind: `Some(true)` done, `Some(false)` not
    /// supported, `None` malformed.
    fn breakpoint(&mut self, insert: bool, rest: &[u8]) -> Option<bool> {
        let body = rest.split(|&b| b == b';').next()?;
        let mut it = body.split(|&b| b == b',');
        let kind = hex_number(it.next()?)?;
        let addr = hex_number(it.next()?)? as u32;
        let len = hex_number(it.next()?)? as u32;
        let wk = match kind {
            0 | 1 => {
                let set = if kind == 0 {
                    &mut self.breaks
                } else {
                    &mut self.hw_breaks
                };
                if insert {
                    set.insert(addr);
                } else {
                    set.remove(&addr);
                }
                return Some(true);
            }
            2 => WatchKind::Write,
            3 => WatchKind::Read,
            4 => WatchKind::Access,
            _ => return Some(false),
        };
        // Reads are seen on the bus of the exact model, or predicted from
        // the instruction's operands (the AT/PC).
        if wk != WatchKind::Write && !self.machine.sees_bus() && !self.machine.operand_reads() {
            return Some(false);
        }
        let w = Watch {
            kind: wk,
            addr,
            len: len.clamp(1, 64),
        };
        if insert {
            self.watches.insert(w);
        } else {
            self.watches.remove(&w);
        }
        Some(true)
    }

    fn query(&mut self, p: &[u8]) -> io::Result<()> {
        let s = String::from_utf8_lossy(p).into_owned();
        if s.starts_with("qSupported") {
            return self
                .send(b"PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;vContSupported+");
        }
        if s == "QStartNoAckMode" {
            self.send(b"OK")?;
            self.ack = false;
            return Ok(());
        }
        if let Some(rest) = s.strip_prefix("qXfer:features:read:") {
            return self.xfer_features(rest);
        }
        if let Some(hex) = s.strip_prefix("qRcmd,") {
            let cmd = from_hex(hex.as_bytes())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let out = self.monitor(&cmd);
            self.console(&out)?;
            return self.send(b"OK");
        }
        match s.as_str() {
            "qC" => self.send(b"QC1"),
            "qfThreadInfo" => self.send(b"m1"),
            "qsThreadInfo" => self.send(b"l"),
            "qAttached" => self.send(b"1"),
            _ => self.send(b""),
        }
    }

    fn xfer_features(&mut self, rest: &str) -> io::Result<()> {
        let Some((annex, range)) = rest.split_once(':') else {
            return self.send(b"E01");
        };
        if annex != "target.xml" {
            return self.send(b"E00");
        }
        let Some((off, len)) = parse_addr_len(range.as_bytes()) else {
            return self.send(b"E01");
        };
        let xml = self.machine.target_xml().as_bytes();
        let off = (off as usize).min(xml.len());
        let end = off.saturating_add(len as usize).min(xml.len());
        let mut reply = vec![if end == xml.len() { b'l' } else { b'm' }];
        reply.extend_from_slice(&xml[off..end]);
        self.send(&reply)
    }

    fn v_packet(&mut self, p: &[u8]) -> io::Result<Option<SessionEnd>> {
        let s = String::from_utf8_lossy(p).into_owned();
        if s == "vCont?" {
            self.send(b"vCont;c;C;s;S")?;
        } else if let Some(actions) = s.strip_prefix("vCont;") {
            // One thread: the first action is the one for it.
            let action = actions.split(';').next().unwrap_or("");
            match action.as_bytes().first() {
                Some(b's' | b'S') => self.resume_and_report(true)?,
                Some(b'c' | b'C') => self.resume_and_report(false)?,
                Some(b't') => self.send_str(&format!("T{:02x}thread:1;", 0))?,
                _ => self.send(b"E01")?,
            }
        } else if s.starts_with("vKill") {
            self.send(b"OK")?;
            return Ok(Some(SessionEnd::Killed));
        } else {
            self.send(b"")?;
        }
        Ok(None)
    }

    /// A `monitor` command's output.
    fn monitor(&mut self, cmd: &str) -> String {
        let cmd = cmd.trim();
        let (word, arg) = cmd.split_once(' ').unwrap_or((cmd, ""));
        let arg = arg.trim();
        match word {
            "" | "help" => MONITOR_HELP.to_string(),
            "regs" => self.machine.describe(),
            "screen" => {
                let t = self.machine.screen_text();
                let lines: Vec<&str> = t.lines().map(|l| l.trim_end()).collect();
                let last = lines
                    .iter()
                    .rposition(|l| !l.is_empty())
                    .map_or(0, |i| i + 1);
                lines[..last].join("\n") + "\n"
            }
            "cycles" => {
                let (c, hz) = self.machine.cycles();
                format!(
                    "{c} cycles ({:.6} s emulated), {} instructions\n",
                    c as f64 / hz,
                    self.machine.instructions()
                )
            }
            "phys" => {
                let mut it = arg.split_whitespace();
                let addr = it.next().and_then(parse_num);
                let len = it.next().and_then(parse_num).unwrap_or(16).min(4096);
                match addr {
                    Some(a) => hex_dump(a, &self.machine.read_phys(a, len)),
                    None => "usage: monitor phys ADDR [LEN] (hex with 0x, or decimal)\n".into(),
                }
            }
            "type" => match self.machine.type_keys(arg) {
                Ok(()) => format!("queued {arg:?}\n"),
                Err(e) => format!("type: {e}\n"),
            },
            other => match self.machine.monitor(other, arg) {
                Some(out) => out,
                None => format!("unknown monitor command {other:?}\n{MONITOR_HELP}"),
            },
        }
    }
}

const MONITOR_HELP: &str = "ironpc monitor commands:
  regs              CPU registers in real-mode form (CS:IP, flags, halted)
  pic               interrupt controller state
  pit               interval timer counters
  screen            the text screen
  cycles            emulated time and instructions executed
  phys ADDR [LEN]   dump physical memory (20-bit; gdb's x uses linear addresses)
  type KEYS         type keys (text and names such as <enter>)
  save-state FILE   write a snapshot of the machine
AT and PCI machines (--machine at-486, pc...) also:
  sregs             CR0-CR4, GDTR/IDTR, DR, segment descriptor caches, LDTR, TR
  translate ADDR    the page-table walk of a linear address
  post              the last POST code
";

/// The registers as the 8086 has them.
pub fn describe_regs<T: cpu::Timing>(m: &Machine<T>) -> String {
    let r = &m.cpu.regs;
    let (cs, ip) = m.cs_ip();
    format!(
        "AX={:04X} BX={:04X} CX={:04X} DX={:04X} SP={:04X} BP={:04X} SI={:04X} DI={:04X}\n\
         CS:IP={cs:04X}:{ip:04X} (linear {:05X}) SS={:04X} DS={:04X} ES={:04X}\n\
         FLAGS={:04X} [{}]{}\n",
        r.gpr[0],
        r.gpr[3],
        r.gpr[1],
        r.gpr[2],
        r.gpr[4],
        r.gpr[5],
        r.gpr[6],
        r.gpr[7],
        m.cpu.linear(cs, ip),
        r.seg[Seg::SS as usize],
        r.seg[Seg::DS as usize],
        r.seg[Seg::ES as usize],
        r.flags,
        cpu::describe_flags(r.flags),
        if m.cpu.halted() { " halted" } else { "" }
    )
}

fn hex_dump(addr: u32, bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, row) in bytes.chunks(16).enumerate() {
        let a = addr.wrapping_add(i as u32 * 16);
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02X}")).collect();
        let text: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7F).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        s += &format!("{a:05X}  {:<47}  {text}\n", hex.join(" "));
    }
    s
}

fn parse_num(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s
            .strip_suffix('h')
            .map_or_else(|| s.parse().ok(), |h| u32::from_str_radix(h, 16).ok()),
    }
}

fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

fn parse_addr_len(s: &[u8]) -> Option<(u32, u32)> {
    let (a, l) = split_once(s, b',')?;
    Some((hex_number(a)? as u32, hex_number(l)? as u32))
}
