//! The framing of the gdb remote serial protocol: `$data#cs` packets with a
//! modulo-256 checksum, `+`/`-` acknowledgements (until no-ack mode), the
//! `}` escape of binary data and the out-of-band interrupt byte 0x03.

use std::io::{self, Read, Write};

/// What arrived from the debugger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A packet with a valid checksum (escapes removed).
    Packet(Vec<u8>),
    /// The interrupt request (Ctrl-C), byte 0x03 outside a packet.
    Interrupt,
}

/// The modulo-256 sum of the bytes.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

/// Frame `data` as `$data#cs`, escaping the bytes the protocol reserves.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(data.len() + 4);
    for &b in data {
        if matches!(b, b'$' | b'#' | b'}' | b'*') {
            body.push(b'}');
            body.push(b ^ 0x20);
        } else {
            body.push(b);
        }
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(b'$');
    out.extend_from_slice(&body);
    out.push(b'#');
    out.extend_from_slice(format!("{:02x}", checksum(&body)).as_bytes());
    out
}

/// Remove `}` escapes (the byte after `}` is XORed with 0x20).
pub fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.iter();
    while let Some(&b) = it.next() {
        if b == b'}' {
            if let Some(&n) = it.next() {
                out.push(n ^ 0x20);
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// Lower-case hex of the bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex digits, or `None` if the text is not an even count of them.
pub fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// A hex number (no prefix).
pub fn hex_number(text: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(text).ok()?;
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// State of the receiving side: bytes read but not yet consumed.
pub struct Reader {
    buf: Vec<u8>,
    pos: usize,
}

impl Default for Reader {
    fn default() -> Self {
        Self::new()
    }
}

impl Reader {
    /// An empty reader.
    pub fn new() -> Self {
        Reader {
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn next_byte<R: Read>(&mut self, conn: &mut R) -> io::Result<u8> {
        if self.pos >= self.buf.len() {
            let mut tmp = [0u8; 4096];
            let n = conn.read(&mut tmp)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the debugger closed the connection",
                ));
            }
            self.buf.clear();
            self.buf.extend_from_slice(&tmp[..n]);
            self.pos = 0;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// True if bytes already read wait to be consumed.
    pub fn has_buffered(&self) -> bool {
        self.pos < self.buf.len()
    }

    /// Read the next packet or interrupt. Acknowledgements from the debugger
    /// are skipped; a packet with a bad checksum is refused with `-` (when
    /// `ack` is on) and the next one awaited. A received packet is
    /// acknowledged with `+` when `ack` is on.
    pub fn read<C: Read + Write>(&mut self, conn: &mut C, ack: bool) -> io::Result<Incoming> {
        loop {
            let b = self.next_byte(conn)?;
            match b {
                0x03 => return Ok(Incoming::Interrupt),
                b'$' => {}
                // Acknowledgements, and noise between packets.
                _ => continue,
            }
            let mut raw = Vec::new();
            loop {
                let c = self.next_byte(conn)?;
                if c == b'#' {
                    break;
                }
                raw.push(c);
            }
            let hi = self.next_byte(conn)?;
            let lo = self.next_byte(conn)?;
            let sent = from_hex(&[hi, lo]).map(|v| v[0]);
            if sent == Some(checksum(&raw)) {
                if ack {
                    conn.write_all(b"+")?;
                    conn.flush()?;
                }
                return Ok(Incoming::Packet(unescape(&raw)));
            }
            if ack {
                conn.write_all(b"-")?;
                conn.flush()?;
            }
        }
    }

    /// Send a packet; when `ack` is on, wait for `+` and resend on `-`
    /// (at most a few times). A 0x03 arriving in place of the
    /// acknowledgement is returned so it is not lost.
    pub fn send<C: Read + Write>(
        &mut self,
        conn: &mut C,
        data: &[u8],
        ack: bool,
    ) -> io::Result<bool> {
        let framed = frame(data);
        let mut interrupted = false;
        for _ in 0..8 {
            conn.write_all(&framed)?;
            conn.flush()?;
            if !ack {
                return Ok(interrupted);
            }
            loop {
                match self.next_byte(conn)? {
                    b'+' => return Ok(interrupted),
                    b'-' => break,
                    0x03 => interrupted = true,
                    // A new packet before the acknowledgement: gdb took ours.
                    b'$' => {
                        self.pos -= 1;
                        return Ok(interrupted);
                    }
                    _ => {}
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the debugger refused a packet eight times",
        ))
    }
}

impl Reader {
    /// Without blocking: read what has arrived and report whether it holds
    /// an interrupt request (consumed with what came before it; anything
    /// after it stays buffered). `set_nonblocking` switches the connection.
    pub fn poll_interrupt<C: Read>(
        &mut self,
        conn: &mut C,
        set_nonblocking: &mut dyn FnMut(&mut C, bool) -> io::Result<()>,
    ) -> io::Result<bool> {
        if !self.has_buffered() {
            set_nonblocking(conn, true)?;
            let mut tmp = [0u8; 4096];
            let r = conn.read(&mut tmp);
            set_nonblocking(conn, false)?;
            match r {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the debugger closed the connection",
                    ))
                }
                Ok(n) => {
                    self.buf.clear();
                    self.buf.extend_from_slice(&tmp[..n]);
                    self.pos = 0;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == 0x03) {
            self.pos += i + 1;
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_and_framing_follow_the_protocol() {
        // "OK": 0x4F + 0x4B = 0x9A.
        assert_eq!(frame(b"OK"), b"$OK#9a".to_vec());
        // '#' is escaped as "}" followed by 0x23 ^ 0x20 = 0x03.
        assert_eq!(frame(b"#"), vec![b'$', b'}', 0x03, b'#', b'8', b'0']);
        assert_eq!(unescape(&[b'}', 0x03, b'a']), b"#a".to_vec());
    }

    #[test]
    fn reader_acks_good_packets_and_refuses_bad_ones() {
        struct Pipe {
            input: std::io::Cursor<Vec<u8>>,
            output: Vec<u8>,
        }
        impl Read for Pipe {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                self.input.read(b)
            }
        }
        impl Write for Pipe {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.output.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        // "g" sums to 0x67; the first copy carries a wrong checksum.
        let mut p = Pipe {
            input: std::io::Cursor::new(b"+$g#00$g#67\x03".to_vec()),
            output: Vec::new(),
        };
        let mut r = Reader::new();
        assert_eq!(
            r.read(&mut p, true).unwrap(),
            Incoming::Packet(b"g".to_vec())
        );
        assert_eq!(p.output, b"-+".to_vec());
        assert_eq!(r.read(&mut p, true).unwrap(), Incoming::Interrupt);
        assert!(r.read(&mut p, true).is_err());
    }
}
