//! Reader of the MOO chunked binary vector format.
//!
//! A file is a sequence of little-endian chunks (4-byte ASCII id, u32 payload
//! length, payload). The first is `MOO ` (version, test count, CPU id); `TEST`
//! chunks hold a u32 index and sub-chunks. Unknown chunks are skipped by length.

use super::{hex, ReadOptions};
use crate::error::InputError;
use crate::model::{
    BusStatus, Cycle, Exception, QueueOp, RegState, State, TState, TestCase, SEG_NONE,
};
use std::ops::ControlFlow;
use std::path::Path;

/// Bytes of one `CYCL` entry.
pub const CYCLE_LEN: usize = 15;

/// What the `MOO ` header chunk says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// Number of tests the file claims.
    pub test_count: u32,
    /// CPU id, e.g. `8086`, `C286`.
    pub cpu_id: String,
}

impl Header {
    fn is_286(&self) -> bool {
        self.cpu_id.contains("286")
    }
}

/// A chunk: its id, payload, and the payload's offset in the file.
struct Chunk<'a> {
    id: [u8; 4],
    data: &'a [u8],
    offset: usize,
}

fn id_str(id: &[u8; 4]) -> String {
    id.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// Iterates the chunks of a byte range that starts at file offset `base`.
struct Chunks<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Chunks<'a> {
    fn new(data: &'a [u8], base: usize) -> Self {
        Chunks { data, pos: 0, base }
    }

    /// The next chunk, `Ok(None)` at the end, or a message and the offset of the problem.
    fn next_chunk(&mut self) -> Result<Option<Chunk<'a>>, (usize, String)> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            return Ok(None);
        }
        let at = self.base + self.pos;
        if rest.len() < 8 {
            return Err((
                at,
                format!("truncated chunk header ({} bytes left)", rest.len()),
            ));
        }
        let id: [u8; 4] = rest[..4].try_into().expect("four bytes");
        let len = u32::from_le_bytes(rest[4..8].try_into().expect("four bytes")) as usize;
        if len > rest.len() - 8 {
            return Err((
                at,
                format!(
                    "chunk '{}' claims {len} bytes but only {} remain",
                    id_str(&id),
                    rest.len() - 8
                ),
            ));
        }
        self.pos += 8 + len;
        Ok(Some(Chunk {
            id,
            data: &rest[8..8 + len],
            offset: at + 8,
        }))
    }
}

/// A little-endian cursor over a chunk payload; errors carry the file offset.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn new(c: &Chunk<'a>, what: &'static str) -> Self {
        Cursor {
            data: c.data,
            pos: 0,
            base: c.offset,
            what,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], (usize, String)> {
        if self.data.len() - self.pos < n {
            return Err((
                self.base + self.pos,
                format!(
                    "'{}' chunk too short: needs {n} more bytes, has {}",
                    self.what,
                    self.data.len() - self.pos
                ),
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, (usize, String)> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, (usize, String)> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("two bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, (usize, String)> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("four bytes"),
        ))
    }

    /// A u32 count of `elem`-byte items, checked against what remains.
    fn count(&mut self, elem: usize) -> Result<usize, (usize, String)> {
        let at = self.base + self.pos;
        let n = self.u32()? as usize;
        let left = self.data.len() - self.pos;
        if n.checked_mul(elem).is_none_or(|b| b > left) {
            return Err((
                at,
                format!(
                    "'{}' chunk: count {n} needs more than the {left} bytes left",
                    self.what
                ),
            ));
        }
        Ok(n)
    }
}

type R<T> = Result<T, (usize, String)>;

fn parse_header(c: &Chunk<'_>) -> R<Header> {
    let mut cur = Cursor::new(c, "MOO ");
    let major = cur.u8()?;
    let minor = cur.u8()?;
    cur.take(2)?;
    let test_count = cur.u32()?;
    let id = cur.take(4)?;
    Ok(Header {
        version: (major, minor),
        test_count,
        cpu_id: String::from_utf8_lossy(id).trim().to_string(),
    })
}

fn parse_regs(c: &Chunk<'_>) -> R<RegState> {
    let mut cur = Cursor::new(c, "REGS");
    let mask = cur.u16()?;
    if mask >> 14 != 0 {
        return Err((
            c.offset,
            format!("'REGS' mask {mask:#06x} has bits past 'flags'"),
        ));
    }
    let mut regs = RegState::default();
    for i in 0..14 {
        if mask & (1 << i) != 0 {
            regs.set(i, cur.u16()?);
        }
    }
    Ok(regs)
}

fn parse_state(c: &Chunk<'_>) -> R<(State, Option<RegState>)> {
    let mut state = State::default();
    let mut masks = None;
    let mut have_regs = false;
    let mut chunks = Chunks::new(c.data, c.offset);
    while let Some(sub) = chunks.next_chunk()? {
        match &sub.id {
            b"REGS" => {
                state.regs = parse_regs(&sub)?;
                have_regs = true;
            }
            b"RMSK" => masks = Some(parse_regs(&sub)?),
            b"RAM " => {
                let mut cur = Cursor::new(&sub, "RAM ");
                let n = cur.count(5)?;
                state.ram.reserve(n);
                for _ in 0..n {
                    let a = cur.u32()?;
                    let v = cur.u8()?;
                    state.ram.push((a, v));
                }
            }
            b"QUEU" => {
                let mut cur = Cursor::new(&sub, "QUEU");
                let n = cur.count(1)?;
                state.queue = cur.take(n)?.to_vec();
            }
            _ => {}
        }
    }
    if !have_regs {
        return Err((c.offset, format!("'{}' chunk has no 'REGS'", id_str(&c.id))));
    }
    Ok((state, masks))
}

fn parse_cycle(b: &[u8], is_286: bool, n: usize) -> Result<Cycle, String> {
    let bus = if is_286 {
        BusStatus::from_286(b[11])
    } else {
        BusStatus::from_808x(b[11])
    }
    .ok_or_else(|| format!("cycle {n}: bad bus status {}", b[11]))?;
    Ok(Cycle {
        pins: b[0],
        address: u32::from_le_bytes(b[1..5].try_into().expect("four bytes")),
        // 0-3 ES, SS, CS, DS; the files write 4 where no segment is shown
        // (the JSON's "--").
        segment: if b[5] <= 3 { b[5] } else { SEG_NONE },
        mem_status: b[6],
        io_status: b[7],
        bhe: b[8],
        data: u16::from_le_bytes([b[9], b[10]]),
        bus,
        t_state: TState::from_code(b[12])
            .ok_or_else(|| format!("cycle {n}: bad T-state {}", b[12]))?,
        queue_op: QueueOp::from_code(b[13])
            .ok_or_else(|| format!("cycle {n}: bad queue operation {}", b[13]))?,
        queue_byte: b[14],
    })
}

fn parse_test(
    c: &Chunk<'_>,
    header: &Header,
    opts: ReadOptions,
    file_masks: Option<RegState>,
) -> R<TestCase> {
    let mut cur = Cursor::new(c, "TEST");
    let index = cur.u32()? as usize;
    let mut chunks = Chunks::new(&c.data[4..], c.offset + 4);
    let mut name = None;
    let mut bytes = None;
    let mut initial = None;
    let mut fin = None;
    let mut cycles = Vec::new();
    let mut hash = None;
    let mut exception = None;
    let mut reg_masks = file_masks;
    while let Some(sub) = chunks.next_chunk()? {
        match &sub.id {
            b"NAME" => {
                let mut cur = Cursor::new(&sub, "NAME");
                let n = cur.count(1)?;
                name = Some(String::from_utf8_lossy(cur.take(n)?).into_owned());
            }
            b"BYTS" => {
                let mut cur = Cursor::new(&sub, "BYTS");
                let n = cur.count(1)?;
                bytes = Some(cur.take(n)?.to_vec());
            }
            b"INIT" => initial = Some(parse_state(&sub)?.0),
            b"FINA" => {
                let (s, m) = parse_state(&sub)?;
                fin = Some(s);
                if m.is_some() {
                    reg_masks = m;
                }
            }
            b"CYCL" => {
                let mut cur = Cursor::new(&sub, "CYCL");
                let n = cur.count(CYCLE_LEN)?;
                if opts.cycles {
                    let raw = cur.take(n * CYCLE_LEN)?;
                    cycles = raw
                        .chunks_exact(CYCLE_LEN)
                        .enumerate()
                        .map(|(i, b)| parse_cycle(b, header.is_286(), i))
                        .collect::<Result<_, _>>()
                        .map_err(|e| (sub.offset, e))?;
                }
            }
            b"EXCP" => {
                let mut cur = Cursor::new(&sub, "EXCP");
                exception = Some(Exception {
                    number: cur.u8()?,
                    flag_address: cur.u32()?,
                });
            }
            b"HASH" => {
                let mut cur = Cursor::new(&sub, "HASH");
                hash = Some(hex(cur.take(20)?));
            }
            _ => {}
        }
    }
    let missing = |what: &str| (c.offset, format!("test has no '{what}' chunk"));
    let initial = initial.ok_or_else(|| missing("INIT"))?;
    if let Some(r) = initial.regs.first_missing() {
        return Err((c.offset, format!("initial 'REGS' lacks register '{r}'")));
    }
    Ok(TestCase {
        index,
        name: name.unwrap_or_default(),
        bytes: bytes.ok_or_else(|| missing("BYTS"))?,
        initial,
        final_state: fin.ok_or_else(|| missing("FINA"))?,
        cycles,
        hash: hash.unwrap_or_default(),
        exception,
        reg_masks,
    })
}

/// Parse MOO data (the decompressed contents of `path`), handing each test to
/// `f`. Returns the number of tests handed over and the header.
pub fn parse_tests(
    path: &Path,
    data: &[u8],
    opts: ReadOptions,
    f: &mut dyn FnMut(TestCase) -> ControlFlow<()>,
) -> Result<(usize, Header), InputError> {
    if !data.starts_with(b"MOO ") {
        return Err(InputError::file(
            path,
            "not a MOO file (no 'MOO ' header chunk)",
        ));
    }
    let mut chunks = Chunks::new(data, 0);
    let at = |(o, m): (usize, String)| InputError::offset(path, o as u64, m);
    let first = chunks.next_chunk().map_err(at)?;
    let header = match first {
        Some(c) if &c.id == b"MOO " => parse_header(&c).map_err(at)?,
        _ => {
            return Err(InputError::file(
                path,
                "not a MOO file (no 'MOO ' header chunk)",
            ))
        }
    };
    let mut count = 0usize;
    let mut file_masks = None;
    loop {
        let chunk = match chunks.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err((o, m)) => return Err(InputError::test_at(path, count, o as u64, m)),
        };
        match &chunk.id {
            b"RMSK" => file_masks = Some(parse_regs(&chunk).map_err(at)?),
            b"TEST" => {
                let t = parse_test(&chunk, &header, opts, file_masks)
                    .map_err(|(o, m)| InputError::test_at(path, count, o as u64, m))?;
                count += 1;
                if f(t).is_break() {
                    return Ok((count, header));
                }
            }
            _ => {}
        }
    }
    if count != header.test_count as usize {
        return Err(InputError::file(
            path,
            format!(
                "header announces {} tests but the file holds {count}",
                header.test_count
            ),
        ));
    }
    Ok((count, header))
}

/// A minimal MOO writer, for tests of the reader and the runner.
#[cfg(test)]
pub(crate) mod writer {
    use crate::model::{State, TestCase};

    /// Append a chunk.
    pub fn chunk(out: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]) {
        out.extend_from_slice(id);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
    }

    fn counted(bytes: &[u8]) -> Vec<u8> {
        let mut v = (bytes.len() as u32).to_le_bytes().to_vec();
        v.extend_from_slice(bytes);
        v
    }

    fn state(s: &State) -> Vec<u8> {
        let mut regs = Vec::new();
        let mut mask = 0u16;
        for i in 0..14 {
            if let Some(v) = s.regs.get(i) {
                mask |= 1 << i;
                regs.extend_from_slice(&v.to_le_bytes());
            }
        }
        let mut p = mask.to_le_bytes().to_vec();
        p.extend(regs);
        let mut out = Vec::new();
        chunk(&mut out, b"REGS", &p);
        let mut ram = (s.ram.len() as u32).to_le_bytes().to_vec();
        for (a, v) in &s.ram {
            ram.extend_from_slice(&a.to_le_bytes());
            ram.push(*v);
        }
        chunk(&mut out, b"RAM ", &ram);
        if !s.queue.is_empty() {
            chunk(&mut out, b"QUEU", &counted(&s.queue));
        }
        out
    }

    /// The payload of a `TEST` chunk; `cycles` are raw 15-byte entries.
    pub fn test_payload(t: &TestCase, cycles: &[[u8; 15]]) -> Vec<u8> {
        let mut p = (t.index as u32).to_le_bytes().to_vec();
        chunk(&mut p, b"GMET", &[1, 2, 3]);
        chunk(&mut p, b"NAME", &counted(t.name.as_bytes()));
        chunk(&mut p, b"BYTS", &counted(&t.bytes));
        chunk(&mut p, b"INIT", &state(&t.initial));
        chunk(&mut p, b"FINA", &state(&t.final_state));
        let mut c = (cycles.len() as u32).to_le_bytes().to_vec();
        for e in cycles {
            c.extend_from_slice(e);
        }
        chunk(&mut p, b"CYCL", &c);
        if let Some(e) = t.exception {
            let mut x = vec![e.number];
            x.extend_from_slice(&e.flag_address.to_le_bytes());
            chunk(&mut p, b"EXCP", &x);
        }
        let hash: Vec<u8> = (0..20u8).collect();
        chunk(&mut p, b"HASH", &hash);
        p
    }

    /// A whole file: header (claiming `count` tests), then the given test payloads.
    pub fn file(cpu: &[u8; 4], count: u32, tests: &[Vec<u8>]) -> Vec<u8> {
        let mut h = vec![1, 1, 0, 0];
        h.extend_from_slice(&count.to_le_bytes());
        h.extend_from_slice(cpu);
        let mut out = Vec::new();
        chunk(&mut out, b"MOO ", &h);
        chunk(&mut out, b"META", &[0; 31]);
        for t in tests {
            chunk(&mut out, b"TEST", t);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::writer::*;
    use super::*;
    use crate::model::RegState;

    pub(crate) fn sample(index: usize) -> TestCase {
        let mut initial = RegState::default();
        for i in 0..14 {
            initial.set(i, 0x100 + i as u16);
        }
        let mut fin = RegState::default();
        fin.set(12, 0x200);
        fin.set(13, 0x0802);
        TestCase {
            index,
            name: "add [bx+0Eh],bl".into(),
            bytes: vec![0x00, 0x5f, 0x0e, 0xf4],
            initial: State {
                regs: initial,
                ram: vec![(0x1000, 0x00), (0x1001, 0x5f)],
                queue: vec![],
            },
            final_state: State {
                regs: fin,
                ram: vec![(0x1000, 0x00), (0x1001, 0x5f)],
                queue: vec![],
            },
            cycles: vec![],
            hash: hex(&(0..20u8).collect::<Vec<_>>()),
            exception: Some(Exception {
                number: 0,
                flag_address: 0x12345,
            }),
            reg_masks: None,
        }
    }

    fn cyc() -> [u8; 15] {
        [
            1, 0x78, 0x56, 0x34, 0x12, 2, 4, 0, 1, 0xcd, 0xab, 13, 1, 3, 0x90,
        ]
    }

    fn parse(data: &[u8], cycles: bool) -> Result<Vec<TestCase>, InputError> {
        crate::vectors::collect("t.MOO", data, cycles)
    }

    fn good() -> Vec<u8> {
        file(
            b"C286",
            2,
            &[
                test_payload(&sample(0), &[cyc(), cyc()]),
                test_payload(&sample(1), &[]),
            ],
        )
    }

    #[test]
    fn round_trips_tests() {
        let v = parse(&good(), true).unwrap();
        assert_eq!(v.len(), 2);
        let mut want = sample(0);
        want.cycles = v[0].cycles.clone();
        assert_eq!(v[0], want);
        assert_eq!(v[1].index, 1);
        assert_eq!(v[0].cycles.len(), 2);
        let c = v[0].cycles[0];
        assert_eq!(c.address, 0x12345678);
        assert_eq!(c.segment, 2);
        assert_eq!(c.data, 0xabcd);
        assert_eq!(c.bus, BusStatus::Code);
        assert_eq!(c.t_state, TState::T1);
        assert_eq!(c.queue_op, QueueOp::Subsequent);
        assert_eq!(c.queue_byte, 0x90);
        assert!(parse(&good(), false).unwrap()[0].cycles.is_empty());
        // No segment shown (4) reads as the JSON's "--".
        let mut none = cyc();
        none[5] = 4;
        none[11] = 7; // passive (13 is not an 8086 status)
        let data = file(b"8086", 1, &[test_payload(&sample(0), &[none])]);
        assert_eq!(parse(&data, true).unwrap()[0].cycles[0].segment, SEG_NONE);
    }

    #[test]
    fn bus_status_depends_on_cpu() {
        let data = file(b"8086", 1, &[test_payload(&sample(0), &[cyc()])]);
        // 13 is not an 8086 status.
        let e = parse(&data, true).unwrap_err();
        assert!(e.to_string().contains("bad bus status 13"), "{e}");
        let mut c = cyc();
        c[11] = 6;
        let data = file(b"8086", 1, &[test_payload(&sample(0), &[c])]);
        assert_eq!(
            parse(&data, true).unwrap()[0].cycles[0].bus,
            BusStatus::Code
        );
    }

    #[test]
    fn reads_queue_and_register_masks() {
        let mut t = sample(0);
        t.initial.queue = vec![1, 2, 3];
        let mut p = test_payload(&t, &[]);
        // Add a file-level RMSK: only flags masked.
        let mut data = file(b"8086", 1, &[]);
        chunk(&mut data, b"RMSK", &[0x00, 0x20, 0xd5, 0x08]);
        chunk(&mut data, b"TEST", &std::mem::take(&mut p));
        let v = parse(&data, false).unwrap();
        assert_eq!(v[0].initial.queue, vec![1, 2, 3]);
        assert_eq!(v[0].reg_masks.unwrap().get(13), Some(0x08d5));
    }

    #[test]
    fn corrupt_files_give_one_clear_error() {
        let g = good();
        // Truncated in the middle of the second test.
        let e = parse(&g[..g.len() - 10], false).unwrap_err();
        assert!(e.to_string().starts_with("t.MOO: test 1 (byte"), "{e}");
        assert!(e.to_string().contains("claims"), "{e}");
        // Not a MOO file.
        let e = parse(b"PK\x03\x04 hello", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.MOO: not a MOO file (no 'MOO ' header chunk)"
        );
        // Empty.
        assert!(parse(b"", false).is_err());
        // Header claims more tests.
        let d = file(b"C286", 3, &[test_payload(&sample(0), &[])]);
        let e = parse(&d, false).unwrap_err();
        assert!(
            e.to_string()
                .contains("announces 3 tests but the file holds 1"),
            "{e}"
        );
        // A RAM count past the chunk end.
        let mut t = test_payload(&sample(0), &[]);
        let pos = t.windows(4).position(|w| w == b"RAM ").unwrap();
        t[pos + 8] = 0xff;
        let e = parse(&file(b"C286", 1, &[t]), false).unwrap_err();
        assert!(
            e.to_string().contains("t.MOO: test 0 (byte")
                && e.to_string().contains("'RAM ' chunk: count 255"),
            "{e}"
        );
        // A test without INIT.
        let mut p = 0u32.to_le_bytes().to_vec();
        chunk(&mut p, b"BYTS", &[1, 0, 0, 0, 0x90]);
        let e = parse(&file(b"C286", 1, &[p]), false).unwrap_err();
        assert!(e.to_string().contains("no 'INIT'"), "{e}");
        // Bad T-state in a cycle.
        let mut c = cyc();
        c[12] = 9;
        let e = parse(&file(b"C286", 1, &[test_payload(&sample(0), &[c])]), true).unwrap_err();
        assert!(e.to_string().contains("cycle 0: bad T-state 9"), "{e}");
    }
}
