//! Comparing bus-cycle traces.
//!
//! `ironpc conform --check cycles|all` runs each test on the exact model
//! ([`crate::runner::execute_exact`]), converts its clocks with
//! [`from_record`] and compares them with the vector's trace. The rules:
//!
//! - the traces must have the same length;
//! - in every cycle: T-state, bus status, ALE, memory and I/O strobes and the
//!   queue operation are compared (and, on the 8086 family, the segment status);
//! - the address bus is compared only when ALE latches it (T1/Ts), with BHE;
//! - the data bus is compared only in the data phase of a transfer (T3 and
//!   wait states on the 8086 family, Tc on the 286): outside it the bus
//!   floats or carries address bits;
//! - the queue byte is compared only when a byte is taken from the queue.

use crate::model::{BusStatus, Cycle, QueueOp, TState};
use cpu::CpuModel;
use std::fmt;

/// The first difference between two traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleMismatch {
    /// Index of the cycle.
    pub index: usize,
    /// Which field differs (`length` when one trace is shorter).
    pub field: &'static str,
    /// Expected cycle, if the expected trace has one at `index`.
    pub expected: Option<Cycle>,
    /// Actual cycle, if the actual trace has one at `index`.
    pub actual: Option<Cycle>,
    /// The CPU model of the traces.
    pub model: CpuModel,
}

impl fmt::Display for CycleMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |c: &Option<Cycle>| {
            c.map(|c| describe(&c, self.model))
                .unwrap_or_else(|| "(none)".into())
        };
        write!(
            f,
            "cycle {}: {} differs\n  expected {}\n  actual   {}",
            self.index,
            self.field,
            show(&self.expected),
            show(&self.actual)
        )
    }
}

fn is_286(model: CpuModel) -> bool {
    model == CpuModel::I80286
}

/// True when `t` is a data phase on `model`.
fn data_phase(model: CpuModel, t: TState) -> bool {
    if is_286(model) {
        t == TState::T2
    } else {
        matches!(t, TState::T3 | TState::Tw)
    }
}

/// Compare an actual trace with the expected one; `None` when they agree.
pub fn compare(model: CpuModel, expected: &[Cycle], actual: &[Cycle]) -> Option<CycleMismatch> {
    compare_masked(model, expected, actual, None)
}

/// [`compare`], with the undefined bits of a FLAGS image the CPU pushes not
/// compared on the data bus: `flags` is the image's address and the mask of
/// its defined bits (as the state check masks them in memory).
pub fn compare_masked(
    model: CpuModel,
    expected: &[Cycle],
    actual: &[Cycle],
    flags: Option<(u32, u16)>,
) -> Option<CycleMismatch> {
    // The status of the bus cycle in progress, as latched at its T1/Ts.
    let mut transfer = BusStatus::Passive;
    // The data bus halves the cycle in progress drives (on the 286, a byte
    // transfer leaves the other half floating).
    let mut lanes = 0xFFFFu16;
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        let differ = |field| {
            Some(CycleMismatch {
                index: i,
                field,
                expected: Some(*e),
                actual: Some(*a),
                model,
            })
        };
        if e.t_state != a.t_state {
            return differ("T-state");
        }
        if e.bus != a.bus {
            return differ("bus status");
        }
        if e.pins & 1 != a.pins & 1 {
            return differ("ALE");
        }
        if e.mem_status != a.mem_status {
            return differ("memory strobes");
        }
        if e.io_status != a.io_status {
            return differ("I/O strobes");
        }
        if e.queue_op != a.queue_op {
            return differ("queue operation");
        }
        if e.queue_op != QueueOp::None && e.queue_byte != a.queue_byte {
            return differ("queue byte");
        }
        if !is_286(model) && e.segment != a.segment {
            return differ("segment status");
        }
        if e.t_state == TState::T1 {
            transfer = e.bus;
            if e.address != a.address {
                return differ("address");
            }
            let bhe = |c: &Cycle| if is_286(model) { c.pins & 2 } else { c.bhe };
            if bhe(e) != bhe(a) {
                return differ("BHE");
            }
            lanes = if is_286(model) {
                let low = if e.address & 1 == 0 { 0x00FF } else { 0 };
                let high = if e.pins & 2 == 0 { 0xFF00 } else { 0 };
                low | high
            } else {
                0xFFFF
            };
            if let Some((at, defined)) = flags.filter(|_| e.bus == BusStatus::MemWrite) {
                let a = e.address;
                lanes &= if a == at && at & 1 == 0 {
                    defined
                } else if a == at {
                    (defined & 0xFF) << 8 | 0x00FF
                } else if a == at.wrapping_add(1) {
                    defined >> 8 | 0xFF00
                } else {
                    0xFFFF
                };
            }
        }
        if data_phase(model, e.t_state)
            && transfer.is_transfer()
            && e.data & lanes != a.data & lanes
        {
            return differ("data bus");
        }
        if e.t_state == TState::Ti {
            transfer = BusStatus::Passive;
        }
    }
    if expected.len() != actual.len() {
        let i = expected.len().min(actual.len());
        return Some(CycleMismatch {
            index: i,
            field: "length",
            expected: expected.get(i).copied(),
            actual: actual.get(i).copied(),
            model,
        });
    }
    None
}

/// The vector form of one clock recorded by the exact model.
pub fn from_record(r: &cpu::CycleRecord) -> Cycle {
    use crate::model::{access, SEG_NONE};
    use cpu::{TState as T, Transfer as X};
    let t_state = match r.t {
        T::Ti => TState::Ti,
        T::T1 => TState::T1,
        T::T2 => TState::T2,
        T::T3 => TState::T3,
        T::T4 => TState::T4,
    };
    let in_cycle = r.transfer.filter(|_| r.t != T::Ti);
    let bus = match (in_cycle, r.t) {
        (Some(x), T::T1 | T::T2) => bus_status(x),
        _ => BusStatus::Passive,
    };
    // Strobes: reads in T2-T3, writes advanced in T2 and full in T3.
    let strobe = |write: bool| match (r.t, write) {
        (T::T2, false) | (T::T3, false) => access::READ,
        (T::T2, true) => access::ADVANCED_WRITE,
        (T::T3, true) => access::ADVANCED_WRITE | access::WRITE,
        _ => 0,
    };
    let (mut mem_status, mut io_status) = (0, 0);
    match in_cycle {
        Some(X::Code | X::MemRead) => mem_status = strobe(false),
        Some(X::MemWrite) => mem_status = strobe(true),
        Some(X::IoRead) => io_status = strobe(false),
        Some(X::IoWrite) => io_status = strobe(true),
        _ => {}
    }
    let segment = match (in_cycle, r.t) {
        (Some(_), T::T2 | T::T3 | T::T4) => match r.seg {
            cpu::Seg::ES => 0,
            cpu::Seg::SS => 1,
            cpu::Seg::CS => 2,
            cpu::Seg::DS => 3,
        },
        _ => SEG_NONE,
    };
    Cycle {
        pins: (r.t == T::T1) as u8,
        address: r.address,
        segment,
        mem_status,
        io_status,
        bhe: r.bhe_high as u8,
        data: r.data,
        bus,
        t_state,
        queue_op: match r.queue {
            cpu::QueueOp::None => QueueOp::None,
            cpu::QueueOp::First => QueueOp::First,
            cpu::QueueOp::Subsequent => QueueOp::Subsequent,
            cpu::QueueOp::Flush => QueueOp::Flush,
        },
        queue_byte: r.queue_byte,
    }
}

/// The status a transfer shows on the bus-status pins.
fn bus_status(x: cpu::Transfer) -> BusStatus {
    use cpu::Transfer as X;
    match x {
        X::Code => BusStatus::Code,
        X::MemRead => BusStatus::MemRead,
        X::MemWrite => BusStatus::MemWrite,
        X::IoRead => BusStatus::IoRead,
        X::IoWrite => BusStatus::IoWrite,
        X::IntA => BusStatus::IntA,
        X::Halt => BusStatus::Halt,
    }
}

/// The vector form of one clock recorded by the 80286 model: Ts is stored
/// as T1, Tc as T2; ALE and the status at Ts, BHE# in pin bit 1, the strobe
/// and the data in Tc; no queue status.
pub fn from_record_286(r: &cpu::CycleRecord) -> Cycle {
    use crate::model::{access, SEG_NONE};
    use cpu::{TState as T, Transfer as X};
    let in_cycle = r.transfer.filter(|_| r.t != T::Ti);
    let t_state = match r.t {
        T::T1 => TState::T1,
        T::T2 => TState::T2,
        _ => TState::Ti,
    };
    let bus = match (in_cycle, r.t) {
        (Some(x), T::T1) => bus_status(x),
        _ => BusStatus::Passive,
    };
    let (mut mem_status, mut io_status) = (0, 0);
    if r.t == T::T2 {
        match in_cycle {
            Some(X::Code | X::MemRead) => mem_status = access::READ,
            Some(X::MemWrite) => mem_status = access::WRITE,
            Some(X::IoRead) => io_status = access::READ,
            Some(X::IoWrite) => io_status = access::WRITE,
            _ => {}
        }
    }
    let ale = (r.t == T::T1) as u8;
    Cycle {
        pins: ale | (r.bhe_high as u8) << 1,
        address: r.address,
        segment: SEG_NONE,
        mem_status,
        io_status,
        bhe: r.bhe_high as u8,
        data: r.data,
        bus,
        t_state,
        queue_op: QueueOp::None,
        queue_byte: 0,
    }
}

/// One cycle of a `model` trace in a compact notation.
pub fn describe(c: &Cycle, model: CpuModel) -> String {
    let strobes = |v: u8| {
        use crate::model::access::*;
        let mut s = String::new();
        s.push(if v & READ != 0 { 'R' } else { '-' });
        s.push(if v & ADVANCED_WRITE != 0 { 'A' } else { '-' });
        s.push(if v & WRITE != 0 { 'W' } else { '-' });
        s
    };
    let seg = match c.segment {
        _ if is_286(model) => "--".to_string(),
        0 => "ES".to_string(),
        1 => "SS".to_string(),
        2 => "CS".to_string(),
        3 => "DS".to_string(),
        crate::model::SEG_NONE => "--".to_string(),
        // A code no reader should produce: shown, so that a difference is visible.
        n => format!("?{n:X}"),
    };
    let q = match c.queue_op {
        QueueOp::None => "-".to_string(),
        QueueOp::First => format!("F {:02X}", c.queue_byte),
        QueueOp::Subsequent => format!("S {:02X}", c.queue_byte),
        QueueOp::Flush => "E".to_string(),
    };
    format!(
        "{} {:06X} {} mem:{} io:{} bhe:{} data:{:04X} {:?} {:?} q:{}",
        if c.pins & 1 != 0 { "A" } else { "-" },
        c.address,
        seg,
        strobes(c.mem_status),
        strobes(c.io_status),
        if is_286(model) {
            (c.pins >> 1) & 1
        } else {
            c.bhe
        },
        c.data,
        c.bus,
        c.t_state,
        q
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SEG_NONE;

    fn cyc(pins: u8, address: u32, bus: BusStatus, t: TState, data: u16) -> Cycle {
        Cycle {
            pins,
            address,
            segment: SEG_NONE,
            mem_status: 0,
            io_status: 0,
            bhe: 0,
            data,
            bus,
            t_state: t,
            queue_op: QueueOp::None,
            queue_byte: 0,
        }
    }

    fn fetch() -> Vec<Cycle> {
        vec![
            cyc(0, 0x1111, BusStatus::Passive, TState::Ti, 0),
            cyc(1, 0xF0100, BusStatus::Code, TState::T1, 0),
            cyc(0, 0x2222, BusStatus::Code, TState::T2, 0),
            cyc(0, 0x3333, BusStatus::Passive, TState::T3, 0x9090),
            cyc(0, 0x4444, BusStatus::Passive, TState::T4, 0x5555),
        ]
    }

    #[test]
    fn identical_traces_agree() {
        assert_eq!(compare(CpuModel::I8086, &fetch(), &fetch()), None);
    }

    #[test]
    fn floating_values_are_ignored() {
        let mut a = fetch();
        a[0].address = 0; // Ti: the bus floats
        a[2].address = 0; // T2: not latched
        a[4].data = 0; // T4: data phase over
        a[1].data = 0x77; // T1: address phase
        assert_eq!(compare(CpuModel::I8086, &fetch(), &a), None);
    }

    #[test]
    fn differences_are_found() {
        let e = fetch();
        let mut a = fetch();
        a[1].address = 0xF0102;
        assert_eq!(compare(CpuModel::I8086, &e, &a).unwrap().field, "address");
        let mut a = fetch();
        a[3].data = 0x9091;
        let m = compare(CpuModel::I8086, &e, &a).unwrap();
        assert_eq!((m.index, m.field), (3, "data bus"));
        assert!(m.to_string().contains("cycle 3: data bus differs"));
        let mut a = fetch();
        a[2].t_state = TState::Tw;
        assert_eq!(compare(CpuModel::I8086, &e, &a).unwrap().field, "T-state");
        let mut a = fetch();
        a[3].queue_op = QueueOp::First;
        assert_eq!(
            compare(CpuModel::I8086, &e, &a).unwrap().field,
            "queue operation"
        );
        let a = &fetch()[..4];
        let m = compare(CpuModel::I8086, &e, a).unwrap();
        assert_eq!((m.index, m.field, m.actual), (4, "length", None));
    }

    #[test]
    fn the_286_data_phase_is_tc() {
        let e = vec![
            cyc(1, 0x100, BusStatus::MemRead, TState::T1, 0),
            cyc(0, 0x100, BusStatus::Passive, TState::T2, 0xABCD),
        ];
        let mut a = e.clone();
        a[0].segment = 2; // segment status is not valid on the 286
        assert_eq!(compare(CpuModel::I80286, &e, &a), None);
        a[1].data = 0;
        assert_eq!(compare(CpuModel::I80286, &e, &a).unwrap().field, "data bus");
        // On the 8086 family T2 is not a data phase.
        a[0].segment = e[0].segment;
        assert_eq!(compare(CpuModel::I8086, &e, &a), None);
    }

    #[test]
    fn a_286_byte_transfer_leaves_the_other_half_of_the_bus_uncompared() {
        // A byte read at an odd address: BHE# active (pin bit 1 clear), A0 set.
        let e = vec![
            cyc(1, 0x101, BusStatus::MemRead, TState::T1, 0),
            cyc(0, 0x101, BusStatus::Passive, TState::T2, 0xAB8C),
        ];
        let mut a = e.clone();
        a[1].data = 0xAB00;
        assert_eq!(compare(CpuModel::I80286, &e, &a), None);
        a[1].data = 0xAC8C;
        assert_eq!(compare(CpuModel::I80286, &e, &a).unwrap().field, "data bus");
    }

    #[test]
    fn undefined_bits_of_a_pushed_flags_image_are_not_compared() {
        let e = vec![
            cyc(1, 0x200, BusStatus::MemWrite, TState::T1, 0),
            cyc(0, 0x200, BusStatus::Passive, TState::T2, 0x0492),
        ];
        let mut a = e.clone();
        a[1].data = 0x0417;
        let m = compare(CpuModel::I80286, &e, &a);
        assert_eq!(m.unwrap().field, "data bus");
        // Only OF.DITSZAPC with SZAPC undefined: the difference is masked.
        assert_eq!(
            compare_masked(CpuModel::I80286, &e, &a, Some((0x200, !0x00D5))),
            None
        );
        // At another address the image is not masked.
        assert!(compare_masked(CpuModel::I80286, &e, &a, Some((0x300, !0x00D5))).is_some());
    }

    #[test]
    fn describes_a_cycle() {
        let mut c = fetch()[1];
        c.queue_op = QueueOp::First;
        c.queue_byte = 0x90;
        c.segment = 2;
        assert_eq!(
            describe(&c, CpuModel::I8086),
            "A 0F0100 CS mem:--- io:--- bhe:0 data:0000 Code T1 q:F 90"
        );
        c.segment = 4;
        assert!(describe(&c, CpuModel::I8086).contains(" ?4 "));
        c.pins = 3;
        assert_eq!(
            describe(&c, CpuModel::I80286),
            "A 0F0100 -- mem:--- io:--- bhe:1 data:0000 Code T1 q:F 90"
        );
    }
}
