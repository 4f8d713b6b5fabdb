//! Guests that misbehave get architectural behaviour, never a host panic:
//! random port traffic (biased towards real commands and packets) on both
//! IDE channels and on the 16550A, with overflow checks on. A small
//! xorshift generator keeps every run the same.

use devices::ide::{AtaDisk, AtapiCdrom, BlockImage, Media};
use devices::{Ide, Uart16550};
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COMMANDS: [u8; 40] = [
    0x20, 0x21, 0x24, 0x29, 0x30, 0x31, 0x34, 0x39, 0x40, 0x42, 0x70, 0x10, 0x91, 0xC4, 0xC5, 0xC6,
    0xEC, 0xA1, 0xA0, 0x08, 0x90, 0xEF, 0xE0, 0xE1, 0xE5, 0xE7, 0xEA, 0x00, 0xFF, 0xA0, 0xA0, 0xA0,
    0x20, 0xC4, 0x24, 0x30, 0xEC, 0xA1, 0x91, 0xC6,
];
const OPCODES: [u8; 16] = [
    0x00, 0x03, 0x12, 0x1B, 0x1E, 0x25, 0x28, 0xA8, 0x43, 0x46, 0x4A, 0x5A, 0xBB, 0xFF, 0x28, 0xA8,
];

fn ide() -> Ide {
    let disk = |n: usize| {
        let img = BlockImage::from_bytes(Path::new("f.img"), vec![0x5A; n * 512], 512, "hard-disk")
            .unwrap();
        Media::Disk(AtaDisk::new(img))
    };
    let mut cd = AtapiCdrom::new();
    cd.insert(Some(
        BlockImage::from_bytes(Path::new("f.iso"), vec![0xC3; 40 * 2048], 2048, "CD-ROM").unwrap(),
    ));
    let mut ide = Ide::new();
    ide.attach(0, 0, Some(disk(3000)));
    ide.attach(0, 1, Some(Media::Cdrom(cd)));
    ide.attach(1, 1, Some(disk(7)));
    ide
}

#[test]
fn random_ide_traffic_never_panics() {
    for (seed, delay) in [(0x1234_5678_9ABC_DEF1u64, 0u64), (0xFEED_F00D_1234_0001, 7)] {
        let mut rng = Rng(seed);
        let mut ide = ide();
        ide.set_command_delay(delay);
        let mut now = 0u64;
        let mut sectors_moved = 0u64;
        for _ in 0..300_000 {
            now += rng.below(4);
            if rng.below(64) == 0 {
                ide.tick(now);
            }
            let base = if rng.below(4) == 0 { 0x170 } else { 0x1F0 };
            let ctrl = base + 0x206;
            match rng.below(100) {
                0..=39 => {
                    let size = [2u8, 4][rng.below(2) as usize];
                    if rng.below(3) == 0 {
                        // Packet bytes: a plausible opcode and small fields.
                        let v = if rng.below(6) == 0 {
                            OPCODES[rng.below(16) as usize] as u32
                        } else {
                            rng.below(8) as u32
                        };
                        ide.io_write(base, size, v, now);
                    } else {
                        ide.io_read(base, size, now);
                        sectors_moved += 1;
                    }
                }
                40..=64 => {
                    let reg = 1 + rng.below(6) as u16;
                    let v = match reg {
                        2 => rng.below(20) as u32,
                        6 => [0xA0, 0xB0, 0xE0, 0xF0, 0x40, 0x50][rng.below(6) as usize],
                        _ => rng.below(256) as u32,
                    };
                    ide.io_write(base + reg, 1, v, now);
                }
                65..=74 => {
                    let c = COMMANDS[rng.below(40) as usize] as u32;
                    ide.io_write(base + 7, 1, c, now);
                }
                75..=89 => {
                    let p = base + rng.below(8) as u16;
                    ide.io_read(p, [1u8, 2, 4][rng.below(3) as usize], now);
                }
                90..=94 => {
                    ide.io_read(ctrl, 1, now);
                }
                _ => {
                    let v = [0x00, 0x02, 0x04, 0x80, 0x06][rng.below(5) as usize];
                    ide.io_write(ctrl, 1, v, now);
                }
            }
            for ch in 0..2 {
                // INTRQ is driven only by a present, selected device.
                if ide.irq(ch) {
                    let c = &ide.channels[ch];
                    assert!(c.drive(c.selected()).is_some());
                    assert_eq!(c.control() & 0x02, 0);
                }
            }
        }
        assert!(sectors_moved > 0);
    }
}

#[test]
fn random_uart_traffic_never_panics() {
    let mut rng = Rng(0x0DDB_A115_C0FF_EE00);
    for clock in [0u64, 4_772_727, 100_000_000] {
        let mut u = Uart16550::new(clock);
        let mut now = 0u64;
        for _ in 0..200_000 {
            now += rng.below(2000);
            match rng.below(10) {
                0..=3 => {
                    let reg = rng.below(8) as u16;
                    let v = if reg == 0 && rng.below(3) == 0 {
                        // A small divisor now and then, through DLAB.
                        rng.below(3) as u8
                    } else {
                        rng.below(256) as u8
                    };
                    u.write(reg, v, now);
                }
                4..=7 => {
                    u.read(rng.below(8) as u16, now);
                }
                8 => u.receive(&[rng.below(256) as u8; 3]),
                _ => {
                    if let Some(t) = u.next_event() {
                        let t = t.max(now);
                        u.tick(t);
                        now = t;
                        // Everything due by now has happened.
                        assert!(u.next_event().is_none_or(|n| n > t), "stale event");
                    }
                }
            }
            if u.output().len() > 4096 {
                u.take_output();
            }
        }
    }
}
