//! Reader of the JSON vector format (a JSON array of test objects).
//!
//! The array is parsed element by element through a serde visitor into typed,
//! borrowing structs; cycle traces are skipped unparsed unless asked for.

use super::ReadOptions;
use crate::error::InputError;
use crate::model::{
    access, BusStatus, Cycle, Exception, QueueOp, RegState, State, TState, TestCase, SEG_NONE,
};
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegs {
    ax: Option<u16>,
    bx: Option<u16>,
    cx: Option<u16>,
    dx: Option<u16>,
    cs: Option<u16>,
    ss: Option<u16>,
    ds: Option<u16>,
    es: Option<u16>,
    sp: Option<u16>,
    bp: Option<u16>,
    si: Option<u16>,
    di: Option<u16>,
    ip: Option<u16>,
    flags: Option<u16>,
}

impl RawRegs {
    fn into_state(self) -> RegState {
        RegState([
            self.ax, self.bx, self.cx, self.dx, self.cs, self.ss, self.ds, self.es, self.sp,
            self.bp, self.si, self.di, self.ip, self.flags,
        ])
    }
}

#[derive(Deserialize)]
struct RawState {
    regs: RawRegs,
    #[serde(default)]
    ram: Vec<(u32, u8)>,
    #[serde(default)]
    queue: Vec<u8>,
}

impl RawState {
    fn into_state(self) -> State {
        State {
            regs: self.regs.into_state(),
            ram: self.ram,
            queue: self.queue,
        }
    }
}

#[derive(Deserialize)]
struct RawException {
    number: u8,
    flag_address: u32,
}

/// One bus cycle as the JSON lists it: an 11-element array.
#[derive(Deserialize)]
struct RawCycle<'a>(
    u8,
    u32,
    &'a str,
    &'a str,
    &'a str,
    u8,
    u16,
    &'a str,
    &'a str,
    &'a str,
    u8,
);

#[derive(Deserialize)]
struct RawTest<'a, C> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    bytes: Vec<u8>,
    initial: RawState,
    #[serde(rename = "final")]
    fin: RawState,
    #[serde(default)]
    cycles: C,
    #[serde(default, alias = "test_hash", borrow)]
    hash: Option<Cow<'a, str>>,
    #[serde(default, alias = "test_num")]
    idx: Option<usize>,
    #[serde(default)]
    exception: Option<RawException>,
}

fn strobes(s: &str) -> Result<u8, String> {
    let b = s.as_bytes();
    if b.len() != 3 {
        return Err(format!("bad strobe status '{s}'"));
    }
    let mut v = 0;
    for (i, (&c, (letter, bit))) in b
        .iter()
        .zip([
            (b'R', access::READ),
            (b'A', access::ADVANCED_WRITE),
            (b'W', access::WRITE),
        ])
        .enumerate()
    {
        if c == letter {
            v |= bit;
        } else if c != b'-' {
            return Err(format!("bad strobe status '{s}' (position {i})"));
        }
    }
    Ok(v)
}

fn convert_cycle(c: &RawCycle<'_>, n: usize) -> Result<Cycle, String> {
    let bad = |what: &str, v: &str| format!("cycle {n}: bad {what} '{v}'");
    let segment = match c.2 {
        "ES" => 0,
        "SS" => 1,
        "CS" => 2,
        "DS" => 3,
        "--" => SEG_NONE,
        v => return Err(bad("segment status", v)),
    };
    Ok(Cycle {
        pins: c.0,
        address: c.1,
        segment,
        mem_status: strobes(c.3).map_err(|e| format!("cycle {n}: {e}"))?,
        io_status: strobes(c.4).map_err(|e| format!("cycle {n}: {e}"))?,
        bhe: c.5,
        data: c.6,
        bus: BusStatus::from_name(c.7).ok_or_else(|| bad("bus status", c.7))?,
        t_state: TState::from_name(c.8).ok_or_else(|| bad("T-state", c.8))?,
        queue_op: QueueOp::from_name(c.9).ok_or_else(|| bad("queue operation", c.9))?,
        queue_byte: c.10,
    })
}

trait CycleList {
    fn convert(&self) -> Result<Vec<Cycle>, String>;
}

impl CycleList for IgnoredAny {
    fn convert(&self) -> Result<Vec<Cycle>, String> {
        Ok(Vec::new())
    }
}

impl CycleList for Vec<RawCycle<'_>> {
    fn convert(&self) -> Result<Vec<Cycle>, String> {
        self.iter()
            .enumerate()
            .map(|(n, c)| convert_cycle(c, n))
            .collect()
    }
}

fn convert<C: CycleList>(raw: RawTest<'_, C>, pos: usize) -> Result<TestCase, String> {
    let initial = raw.initial.into_state();
    if let Some(r) = initial.regs.first_missing() {
        return Err(format!("initial state lacks register '{r}'"));
    }
    Ok(TestCase {
        index: raw.idx.unwrap_or(pos),
        name: raw.name.into_owned(),
        bytes: raw.bytes,
        initial,
        final_state: raw.fin.into_state(),
        cycles: raw.cycles.convert()?,
        hash: raw.hash.map(Cow::into_owned).unwrap_or_default(),
        exception: raw.exception.map(|e| Exception {
            number: e.number,
            flag_address: e.flag_address,
        }),
        reg_masks: None,
    })
}

struct TestSeq<'s, 'f> {
    opts: ReadOptions,
    started: &'s Cell<bool>,
    count: &'s Cell<usize>,
    stopped: &'s Cell<bool>,
    f: &'s mut (dyn FnMut(TestCase) -> ControlFlow<()> + 'f),
}

impl<'de> Visitor<'de> for TestSeq<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of tests")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.started.set(true);
        loop {
            let pos = self.count.get();
            let test = if self.opts.cycles {
                match seq.next_element::<RawTest<'de, Vec<RawCycle<'de>>>>()? {
                    Some(raw) => convert(raw, pos),
                    None => break,
                }
            } else {
                match seq.next_element::<RawTest<'de, IgnoredAny>>()? {
                    Some(raw) => convert(raw, pos),
                    None => break,
                }
            };
            let test = test.map_err(A::Error::custom)?;
            self.count.set(pos + 1);
            if (self.f)(test).is_break() {
                self.stopped.set(true);
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for TestSeq<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// Parse a JSON array of tests from `data` (the decompressed contents of
/// `path`), handing each test to `f`. Returns the number of tests handed over.
pub fn parse_tests(
    path: &Path,
    data: &[u8],
    opts: ReadOptions,
    f: &mut dyn FnMut(TestCase) -> ControlFlow<()>,
) -> Result<usize, InputError> {
    let started = Cell::new(false);
    let count = Cell::new(0);
    let stopped = Cell::new(false);
    let seq = TestSeq {
        opts,
        started: &started,
        count: &count,
        stopped: &stopped,
        f,
    };
    let mut de = serde_json::Deserializer::from_slice(data);
    let result = seq.deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(count.get()),
        Err(_) if stopped.get() => Ok(count.get()),
        Err(e) if !started.get() => Err(InputError::file(path, format!("malformed JSON: {e}"))),
        Err(e) => Err(InputError::test(
            path,
            count.get(),
            format!("malformed JSON: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const ONE: &str = r#"[{"name":"add cl, ah","bytes":[0,225],
      "initial":{"regs":{"ax":1,"bx":2,"cx":3,"dx":4,"cs":5,"ss":6,"ds":7,"es":8,"sp":9,"bp":10,"si":11,"di":12,"ip":13,"flags":61442},
                 "ram":[[93,0],[94,225]],"queue":[0,225]},
      "final":{"regs":{"cx":4,"ip":15},"ram":[[93,0],[94,225]],"queue":[]},
      "cycles":[[0,39987,"--","---","---",0,0,"PASV","Ti","F",0],[1,975398,"DS","R-W","-A-",1,513,"CODE","T1","-",7]],
      "test_hash":"abc","test_num":7}]"#;

    fn parse(s: &str, cycles: bool) -> Result<Vec<TestCase>, InputError> {
        crate::vectors::collect("x.json", s.as_bytes(), cycles)
    }

    #[test]
    fn parses_a_test_with_cycles() {
        let v = parse(ONE, true).unwrap();
        assert_eq!(v.len(), 1);
        let t = &v[0];
        assert_eq!(t.index, 7);
        assert_eq!(t.hash, "abc");
        assert_eq!(t.name, "add cl, ah");
        assert_eq!(t.bytes, vec![0, 225]);
        assert_eq!(t.initial.regs.by_name("flags"), Some(61442));
        assert_eq!(t.final_state.regs.by_name("cx"), Some(4));
        assert_eq!(t.final_state.regs.by_name("ax"), None);
        assert_eq!(t.expected(0), Some(1));
        assert_eq!(t.initial.ram, vec![(93, 0), (94, 225)]);
        assert_eq!(t.cycles.len(), 2);
        let c = t.cycles[1];
        assert_eq!(c.pins, 1);
        assert_eq!(c.address, 975398);
        assert_eq!(c.segment, 3);
        assert_eq!(c.mem_status, access::READ | access::WRITE);
        assert_eq!(c.io_status, access::ADVANCED_WRITE);
        assert_eq!(c.data, 513);
        assert_eq!(c.bus, BusStatus::Code);
        assert_eq!(c.t_state, TState::T1);
        assert_eq!(c.queue_op, QueueOp::None);
        assert_eq!(c.queue_byte, 7);
        assert_eq!(t.cycles[0].queue_op, QueueOp::First);
        assert_eq!(t.cycles[0].segment, SEG_NONE);
    }

    #[test]
    fn skips_cycles_when_not_asked() {
        let v = parse(ONE, false).unwrap();
        assert!(v[0].cycles.is_empty());
        assert_eq!(v[0].final_state.regs.by_name("ip"), Some(15));
    }

    #[test]
    fn accepts_hash_and_idx_names() {
        let s = ONE.replace("test_hash", "hash").replace("test_num", "idx");
        let v = parse(&s, false).unwrap();
        assert_eq!((v[0].index, v[0].hash.as_str()), (7, "abc"));
    }

    #[test]
    fn truncated_json_names_the_test() {
        let two = format!("{},{}", &ONE[..ONE.len() - 1], &ONE[1..]);
        assert_eq!(parse(&two, false).unwrap().len(), 2);
        let cut = &two[..two.len() - 40];
        let e = parse(cut, false).unwrap_err();
        assert_eq!(e.location, crate::error::Location::Test(1), "{e}");
        assert!(
            e.to_string().starts_with("x.json: test 1: malformed JSON"),
            "{e}"
        );
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let e = parse("{}", false).unwrap_err();
        assert!(e.to_string().contains("x.json: malformed JSON"), "{e}");
        let e = parse("", false).unwrap_err();
        assert!(e.to_string().contains("malformed JSON"), "{e}");
        let e = parse(&ONE.replace("\"ax\":1,", "\"ax\":1,\"eax\":3,"), false).unwrap_err();
        assert!(
            e.to_string().contains("test 0") && e.to_string().contains("eax"),
            "{e}"
        );
        let e = parse(&ONE.replace("\"ax\":1,", ""), false).unwrap_err();
        assert!(e.to_string().contains("lacks register 'ax'"), "{e}");
        let e = parse(&ONE.replace("\"ax\":1,", "\"ax\":70000,"), false).unwrap_err();
        assert!(e.to_string().contains("test 0"), "{e}");
        let e = parse(&ONE.replace("\"PASV\"", "\"XXXX\""), true).unwrap_err();
        assert!(e.to_string().contains("bad bus status 'XXXX'"), "{e}");
        let e = parse(&format!("{ONE} 5"), false).unwrap_err();
        assert!(e.to_string().contains("trailing"), "{e}");
    }

    #[test]
    fn callback_can_stop() {
        let two = format!("{},{}", &ONE[..ONE.len() - 1], &ONE[1..]);
        let mut n = 0;
        let r = parse_tests(
            &PathBuf::from("x"),
            two.as_bytes(),
            ReadOptions::default(),
            &mut |_| {
                n += 1;
                ControlFlow::Break(())
            },
        );
        assert_eq!(r.unwrap(), 1);
        assert_eq!(n, 1);
    }
}
