//! Intel 8237A DMA controller (ports 00h–0Fh) and the PC's DMA page
//! registers (80h–8Fh; 87h, 83h, 81h and 82h extend channels 0–3).
//!
//! The board performs transfers one byte at a time with
//! [`Dma8237::next_transfer`] while a device holds its DREQ; the controller
//! computes the address and reports terminal count.

use serde::{Deserialize, Serialize};

/// Transfer type from the mode register (bits 3–2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferType {
    /// Verify: addresses and counts move, no memory cycle.
    Verify,
    /// Write to memory (device to memory: a disk read).
    Write,
    /// Read from memory (memory to device: a disk write).
    Read,
    /// Illegal combination (treated as verify).
    Illegal,
}

/// One channel.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DmaChannel {
    /// Base address (reloaded by auto-initialization).
    pub base_address: u16,
    /// Base word count.
    pub base_count: u16,
    /// Current address.
    pub address: u16,
    /// Current word count (transfers left minus one).
    pub count: u16,
    /// Mode register.
    pub mode: u8,
    /// Page register (address bits 16–23).
    pub page: u8,
    /// Mask bit.
    pub masked: bool,
    /// Software request bit.
    pub request: bool,
}

impl DmaChannel {
    /// Transfer type from the mode register.
    pub fn transfer_type(&self) -> TransferType {
        match (self.mode >> 2) & 3 {
            0 => TransferType::Verify,
            1 => TransferType::Write,
            2 => TransferType::Read,
            _ => TransferType::Illegal,
        }
    }

    /// Mode register bit 4: auto-initialize at terminal count.
    pub fn auto_init(&self) -> bool {
        self.mode & 0x10 != 0
    }

    /// Mode register bit 5: address decrements.
    pub fn decrement(&self) -> bool {
        self.mode & 0x20 != 0
    }
}

/// The controller.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Dma8237 {
    /// Channels 0–3.
    pub channels: [DmaChannel; 4],
    /// Command register.
    pub command: u8,
    /// Terminal count bits (status bits 0–3), cleared when status is read.
    pub tc_status: u8,
    /// Byte pointer flip-flop: the next access is the high byte.
    pub flip_flop: bool,
    /// Temporary register.
    pub temp: u8,
    /// Page register file (80h–8Fh), including the unused ones (port 80h
    /// doubles as a POST code port).
    pub pages: [u8; 16],
}

impl Default for Dma8237 {
    fn default() -> Self {
        let mut d = Dma8237 {
            channels: Default::default(),
            command: 0,
            tc_status: 0,
            flip_flop: false,
            temp: 0,
            pages: [0; 16],
        };
        d.master_clear();
        d
    }
}

/// Page register port offset (from 80h) for each channel.
const PAGE_PORT: [usize; 4] = [7, 3, 1, 2];

/// One transfer the board must carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// 20-bit (or 24-bit) physical address.
    pub address: u32,
    /// What kind of cycle.
    pub kind: TransferType,
    /// This was the last transfer (terminal count).
    pub terminal_count: bool,
}

impl Dma8237 {
    /// A controller after master clear (all channels masked).
    pub fn new() -> Self {
        Self::default()
    }

    fn master_clear(&mut self) {
        self.command = 0;
        self.tc_status = 0;
        self.flip_flop = false;
        self.temp = 0;
        for c in &mut self.channels {
            c.masked = true;
            c.request = false;
        }
    }

    /// Read a controller port (00h–0Fh).
    pub fn read(&mut self, port: u16) -> u8 {
        match port & 0x0F {
            p @ 0..=7 => {
                let c = &self.channels[(p >> 1) as usize];
                let v = if p & 1 == 0 { c.address } else { c.count };
                let hi = self.flip_flop;
                self.flip_flop = !self.flip_flop;
                if hi {
                    (v >> 8) as u8
                } else {
                    v as u8
                }
            }
            8 => {
                let req = self
                    .channels
                    .iter()
                    .enumerate()
                    .fold(0, |a, (i, c)| a | if c.request { 0x10 << i } else { 0 });
                let v = self.tc_status | req;
                self.tc_status = 0;
                v
            }
            0xD => self.temp,
            _ => 0xFF,
        }
    }

    /// Write a controller port (00h–0Fh).
    pub fn write(&mut self, port: u16, v: u8) {
        match port & 0x0F {
            p @ 0..=7 => {
                let hi = self.flip_flop;
                self.flip_flop = !self.flip_flop;
                let c = &mut self.channels[(p >> 1) as usize];
                let set = |old: u16| {
                    if hi {
                        (old & 0x00FF) | ((v as u16) << 8)
                    } else {
                        (old & 0xFF00) | v as u16
                    }
                };
                // Writing a register sets both its base and current values.
                if p & 1 == 0 {
                    c.base_address = set(c.base_address);
                    c.address = c.base_address;
                } else {
                    c.base_count = set(c.base_count);
                    c.count = c.base_count;
                }
            }
            8 => self.command = v,
            9 => self.channels[(v & 3) as usize].request = v & 4 != 0,
            0xA => self.channels[(v & 3) as usize].masked = v & 4 != 0,
            0xB => self.channels[(v & 3) as usize].mode = v,
            0xC => self.flip_flop = false,
            0xD => self.master_clear(),
            0xE => {
                for c in &mut self.channels {
                    c.masked = false;
                }
            }
            _ => {
                for (i, c) in self.channels.iter_mut().enumerate() {
                    c.masked = v & (1 << i) != 0;
                }
            }
        }
    }

    /// Read a page register port (80h–8Fh).
    pub fn read_page(&self, port: u16) -> u8 {
        self.pages[(port & 0x0F) as usize]
    }

    /// Write a page register port (80h–8Fh).
    pub fn write_page(&mut self, port: u16, v: u8) {
        let i = (port & 0x0F) as usize;
        self.pages[i] = v;
        for (ch, &p) in PAGE_PORT.iter().enumerate() {
            if p == i {
                self.channels[ch].page = v;
            }
        }
    }

    /// True if channel `ch` would perform a transfer for a device request.
    pub fn channel_ready(&self, ch: usize) -> bool {
        self.command & 0x04 == 0 && !self.channels[ch].masked
    }

    /// Carry out one transfer cycle on channel `ch` (the caller has a DREQ
    /// and checked [`Dma8237::channel_ready`]): returns its address and type,
    /// and steps the address and count. At terminal count (the count rolls
    /// over from 0 to FFFFh) the channel auto-initializes or masks itself.
    pub fn next_transfer(&mut self, ch: usize) -> Transfer {
        let c = &mut self.channels[ch];
        let address = ((c.page as u32) << 16) | c.address as u32;
        let kind = c.transfer_type();
        c.address = if c.decrement() {
            c.address.wrapping_sub(1)
        } else {
            c.address.wrapping_add(1)
        };
        let (count, tc) = c.count.overflowing_sub(1);
        c.count = count;
        if tc {
            self.tc_status |= 1 << ch;
            c.request = false;
            if c.auto_init() {
                c.address = c.base_address;
                c.count = c.base_count;
            } else {
                c.masked = true;
            }
        }
        Transfer {
            address,
            kind,
            terminal_count: tc,
        }
    }
}

impl Dma8237 {
    /// Carry out `k` transfers on channel `ch` at once, for a requester
    /// that needs nothing of each one (DRAM refresh): the address, count,
    /// terminal-count status and mask end as `k` calls of
    /// [`Dma8237::next_transfer`] leave them, stopping early when the
    /// channel masks itself at terminal count (or is not ready to begin
    /// with). Returns how many transfers were done.
    pub fn pass_transfers(&mut self, ch: usize, k: u64) -> u64 {
        let mut done = 0;
        let mut left = k;
        while left > 0 && self.channel_ready(ch) {
            let c = &mut self.channels[ch];
            // Transfers up to and including the one at terminal count.
            let to_tc = c.count as u64 + 1;
            let n = left.min(to_tc);
            let moved = n as u16; // n ≤ 65536: the address wraps at 16 bits
            c.address = if c.decrement() {
                c.address.wrapping_sub(moved)
            } else {
                c.address.wrapping_add(moved)
            };
            left -= n;
            done += n;
            if n < to_tc {
                c.count -= n as u16;
                break;
            }
            c.count = 0xFFFF;
            self.tc_status |= 1 << ch;
            c.request = false;
            if c.auto_init() {
                c.address = c.base_address;
                c.count = c.base_count;
                // Every whole period after this ends where it began.
                let period = c.base_count as u64 + 1;
                let whole = left / period * period;
                left -= whole;
                done += whole;
            } else {
                c.masked = true;
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Program channel 2 as the PC BIOS does for a disk read.
    fn setup_ch2(d: &mut Dma8237, mode: u8, addr: u16, page: u8, count: u16) {
        d.write(0x0A, 0x06); // mask channel 2
        d.write(0x0C, 0);
        d.write(0x0B, mode);
        d.write(0x04, addr as u8);
        d.write(0x04, (addr >> 8) as u8);
        d.write_page(0x81, page);
        d.write(0x05, count as u8);
        d.write(0x05, (count >> 8) as u8);
        d.write(0x0A, 0x02); // unmask channel 2
    }

    #[test]
    fn master_clear_masks_everything() {
        let d = Dma8237::new();
        assert!((0..4).all(|c| !d.channel_ready(c)));
    }

    #[test]
    fn address_count_and_terminal_count() {
        let mut d = Dma8237::new();
        setup_ch2(&mut d, 0x46, 0x7C00, 0x01, 3); // single, write, ch 2
        assert!(d.channel_ready(2));
        assert_eq!(d.channels[2].transfer_type(), TransferType::Write);
        let mut addrs = Vec::new();
        let mut tcs = Vec::new();
        for _ in 0..4 {
            let t = d.next_transfer(2);
            addrs.push(t.address);
            tcs.push(t.terminal_count);
        }
        // A count of N moves N+1 bytes; the last one is terminal count.
        assert_eq!(addrs, vec![0x17C00, 0x17C01, 0x17C02, 0x17C03]);
        assert_eq!(tcs, vec![false, false, false, true]);
        assert!(!d.channel_ready(2), "masked at TC without auto-init");
        assert_eq!(d.read(0x08) & 0x04, 0x04, "status TC bit for channel 2");
        assert_eq!(d.read(0x08) & 0x04, 0, "cleared by reading status");
        // The current count read back is FFFFh.
        d.write(0x0C, 0);
        assert_eq!(d.read(0x05), 0xFF);
        assert_eq!(d.read(0x05), 0xFF);
    }

    #[test]
    fn address_wraps_inside_the_64k_page() {
        let mut d = Dma8237::new();
        setup_ch2(&mut d, 0x4A, 0xFFFF, 0x02, 1); // read from memory
        assert_eq!(d.next_transfer(2).address, 0x2FFFF);
        let t = d.next_transfer(2);
        assert_eq!(t.address, 0x20000, "page register does not carry");
        assert_eq!(t.kind, TransferType::Read);
    }

    #[test]
    fn auto_init_and_decrement() {
        let mut d = Dma8237::new();
        setup_ch2(&mut d, 0x76, 0x0010, 0, 1); // auto-init, decrement, write
        assert_eq!(d.next_transfer(2).address, 0x10);
        assert_eq!(d.next_transfer(2).address, 0x0F);
        assert!(d.channel_ready(2), "auto-init keeps the channel unmasked");
        assert_eq!(d.channels[2].address, 0x10);
        assert_eq!(d.channels[2].count, 1);
    }

    #[test]
    fn flip_flop_and_readback() {
        let mut d = Dma8237::new();
        d.write(0x0C, 0);
        d.write(0x00, 0x34);
        d.write(0x00, 0x12);
        d.write(0x0C, 0);
        assert_eq!(d.read(0x00), 0x34);
        assert_eq!(d.read(0x00), 0x12);
        d.write(0x0F, 0x0B);
        assert!(d.channels[0].masked && d.channels[1].masked);
        assert!(!d.channels[2].masked && d.channels[3].masked);
        d.write(0x0E, 0);
        assert!((0..4).all(|c| d.channel_ready(c)));
        d.write(0x08, 0x04); // controller disable
        assert!(!d.channel_ready(0));
        d.write_page(0x87, 0x05);
        assert_eq!(d.channels[0].page, 5);
        d.write_page(0x83, 0x06);
        assert_eq!(d.channels[1].page, 6);
        assert_eq!(d.read_page(0x83), 6);
    }

    /// Passing transfers in one go ends where as many single transfers
    /// end: modes with and without auto-initialization, both directions,
    /// terminal count reached never, once, many times.
    #[test]
    fn pass_transfers_equals_single_transfers() {
        for mode in [0x58u8, 0x48, 0x78, 0x68] {
            for count in [0u16, 1, 2, 17, 0xFFFF] {
                for k in [0u64, 1, 2, 3, 18, 100, 65_535, 65_536, 65_537, 200_001] {
                    let mut a = Dma8237::new();
                    // Channel 0 as the BIOS programs refresh: a mode, address
                    // 1234h, the count, unmasked.
                    a.write(0x0B, mode);
                    a.write(0x0C, 0);
                    a.write(0x00, 0x34);
                    a.write(0x00, 0x12);
                    a.write(0x01, count as u8);
                    a.write(0x01, (count >> 8) as u8);
                    a.write(0x0A, 0x00);
                    let mut b = a.clone();
                    let done = a.pass_transfers(0, k);
                    let mut single = 0;
                    for _ in 0..k {
                        if !b.channel_ready(0) {
                            break;
                        }
                        b.next_transfer(0);
                        single += 1;
                    }
                    let what = format!("mode {mode:02X} count {count} k {k}");
                    assert_eq!(done, single, "{what}");
                    let (x, y) = (&a.channels[0], &b.channels[0]);
                    assert_eq!(
                        (x.address, x.count, x.masked, x.request),
                        (y.address, y.count, y.masked, y.request),
                        "{what}"
                    );
                    assert_eq!(a.tc_status, b.tc_status, "{what}");
                }
            }
        }
    }
}
