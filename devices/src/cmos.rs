//! Motorola MC146818A real-time clock and CMOS RAM, as on the PC/AT
//! (index port 70h with the NMI mask in bit 7, data port 71h).
//!
//! The clock is kept in the time registers themselves, in whatever format
//! register B selects (BCD or binary, 12 or 24 hour), as the chip does: the
//! once-a-second update cycle decodes them, adds a second and encodes them
//! again. Time is counted in ticks of the 32.768 kHz time base, derived
//! from the CPU clock the board passes in; the chip is caught up lazily
//! whenever it is accessed or its next deadline comes.
//!
//! Datasheet facts used: the update-in-progress bit (A bit 7) is set 244 µs
//! before the update cycle; divider bits DV2–0 = 010 run the 32.768 kHz time
//! base and 11x hold it in reset, the first update coming 500 ms after the
//! reset is released; rate select RS3–0 gives a periodic interrupt of
//! 2^(RS−1) time-base ticks (RS 1 and 2 give 128 and 256 ticks, the same as
//! RS 8 and 9); register C is cleared by reading it; SET (B bit 7) stops the
//! updates and clears UIE; an alarm byte with its two top bits set matches
//! any value.

use serde::{Deserialize, Serialize};

/// Frequency of the time base the divider expects (32.768 kHz crystal).
pub const TIME_BASE_HZ: u64 = 32_768;

/// Time-base ticks from the setting of UIP to the update (244 µs).
const UIP_TICKS: u64 = 8;

/// Register indexes.
pub mod reg {
    /// Seconds.
    pub const SECONDS: usize = 0x00;
    /// Seconds alarm.
    pub const SECONDS_ALARM: usize = 0x01;
    /// Minutes.
    pub const MINUTES: usize = 0x02;
    /// Minutes alarm.
    pub const MINUTES_ALARM: usize = 0x03;
    /// Hours (bit 7 = PM in 12-hour mode).
    pub const HOURS: usize = 0x04;
    /// Hours alarm.
    pub const HOURS_ALARM: usize = 0x05;
    /// Day of the week, 1 = Sunday.
    pub const DAY_OF_WEEK: usize = 0x06;
    /// Day of the month.
    pub const DAY: usize = 0x07;
    /// Month.
    pub const MONTH: usize = 0x08;
    /// Year within the century.
    pub const YEAR: usize = 0x09;
    /// Register A: UIP, divider, rate select.
    pub const A: usize = 0x0A;
    /// Register B: SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE.
    pub const B: usize = 0x0B;
    /// Register C: IRQF, PF, AF, UF (read-only, cleared by reading).
    pub const C: usize = 0x0C;
    /// Register D: VRT.
    pub const D: usize = 0x0D;
    /// Century (IBM AT convention), BCD.
    pub const CENTURY: usize = 0x32;
}

/// Register B bits.
const B_SET: u8 = 0x80;
const B_PIE: u8 = 0x40;
const B_AIE: u8 = 0x20;
const B_UIE: u8 = 0x10;
const B_BINARY: u8 = 0x04;
const B_24H: u8 = 0x02;
/// Register C bits.
const C_IRQF: u8 = 0x80;
const C_PF: u8 = 0x40;
const C_AF: u8 = 0x20;
const C_UF: u8 = 0x10;

/// A calendar date and time (binary, 24-hour).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtcTime {
    /// Full year, e.g. 2026.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

impl Default for RtcTime {
    /// The fixed start time used when the profile names none, so that runs
    /// are reproducible.
    fn default() -> Self {
        RtcTime {
            year: 2000,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Count from March so that the leap day is the last day of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl RtcTime {
    /// The time `secs` seconds after 1970-01-01 00:00:00 UTC.
    pub fn from_unix(secs: u64) -> RtcTime {
        let days = secs / 86_400;
        let rem = secs % 86_400;
        // Walk years then months: at most a few hundred steps.
        let mut year = 1970u32;
        let mut d = days;
        loop {
            let len = if is_leap(year) { 366 } else { 365 };
            if d < len {
                break;
            }
            d -= len;
            year += 1;
        }
        let mut month = 1u8;
        while d >= days_in_month(year, month) as u64 {
            d -= days_in_month(year, month) as u64;
            month += 1;
        }
        RtcTime {
            year: year.min(9999) as u16,
            month,
            day: d as u8 + 1,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
        }
    }

    /// The host's clock now (UTC).
    pub fn host_now() -> RtcTime {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        RtcTime::from_unix(secs)
    }

    /// Day of the week, 1 = Sunday … 7 = Saturday (the MC146818 numbering).
    pub fn day_of_week(&self) -> u8 {
        // 1970-01-01 was a Thursday (5 in this numbering).
        let days = days_from_civil(self.year as i64, self.month as u32, self.day as u32);
        ((days + 4).rem_euclid(7) + 1) as u8
    }

    /// Parse `YYYY-MM-DD HH:MM:SS` (or with a `T`).
    pub fn parse(s: &str) -> Option<RtcTime> {
        let s = s.trim();
        let (date, time) = s.split_once([' ', 'T'])?;
        let mut d = date.split('-').map(|x| x.parse::<u16>().ok());
        let mut t = time.split(':').map(|x| x.parse::<u8>().ok());
        let r = RtcTime {
            year: d.next()??,
            month: d.next()?? as u8,
            day: d.next()?? as u8,
            hour: t.next()??,
            minute: t.next()??,
            second: t.next()??,
        };
        let valid = (1..=12).contains(&r.month)
            && r.day >= 1
            && r.day <= days_in_month(r.year as u32, r.month)
            && r.hour < 24
            && r.minute < 60
            && r.second < 60;
        valid.then_some(r)
    }
}

/// Floppy drive types as CMOS register 10h encodes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmosFloppy {
    /// No drive.
    None = 0,
    /// 5¼" 360K.
    D360 = 1,
    /// 5¼" 1.2M.
    D1200 = 2,
    /// 3½" 720K.
    D720 = 3,
    /// 3½" 1.44M.
    D1440 = 4,
    /// 3½" 2.88M.
    D2880 = 5,
}

/// A boot device in the Bochs BIOS boot-order registers (3Dh, 38h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootDevice {
    /// Floppy A:.
    Floppy = 1,
    /// First hard disk.
    HardDisk = 2,
    /// CD-ROM.
    Cdrom = 3,
}

/// The machine configuration stored in NVRAM where AT BIOSes read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvramConfig {
    /// Drives A: and B:.
    pub floppies: [CmosFloppy; 2],
    /// Hard disks 0 and 1 present (written as type 47, "user defined", with
    /// the geometry left to the BIOS's own detection).
    pub hard_disks: [bool; 2],
    /// Total RAM in bytes.
    pub ram_bytes: u64,
    /// A math coprocessor is present.
    pub fpu: bool,
    /// Boot order, up to three devices.
    pub boot: Vec<BootDevice>,
    /// Century (e.g. 20), stored in BCD in register 32h.
    pub century: u8,
}

/// The MC146818A with its 128 bytes (14 clock registers, 114 of NVRAM).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rtc {
    /// The register file and NVRAM.
    #[serde(with = "serde_ram")]
    pub ram: [u8; 128],
    /// Index written to port 70h (bits 0–6).
    pub index: u8,
    /// Port 70h bit 7: NMI disabled.
    pub nmi_disabled: bool,
    /// CPU clock rate used to derive the time base.
    pub clock_hz: u64,
    /// Time-base ticks processed so far (CPU time converted).
    pub ticks: u64,
    /// Tick at which the divider last came out of reset; updates and the
    /// periodic rate are phased from it.
    pub phase: u64,
    /// Tick of the next update cycle.
    pub next_update: u64,
}

mod serde_ram {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8; 128], s: S) -> Result<S::Ok, S::Error> {
        v.as_slice().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 128], D::Error> {
        let v = Vec::<u8>::deserialize(d)?;
        v.try_into()
            .map_err(|_| serde::de::Error::custom("CMOS RAM must be 128 bytes"))
    }
}

fn to_bcd(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

fn from_bcd(v: u8) -> u8 {
    (v >> 4).wrapping_mul(10).wrapping_add(v & 0x0F)
}

impl Rtc {
    /// A clock set to `start`, counting from CPU cycle 0 at `clock_hz`, with
    /// the divider running, BCD and 24-hour mode (what AT BIOSes program).
    pub fn new(start: RtcTime, clock_hz: u64) -> Rtc {
        let mut rtc = Rtc {
            ram: [0; 128],
            index: 0,
            nmi_disabled: false,
            clock_hz: clock_hz.max(1),
            ticks: 0,
            phase: 0,
            next_update: TIME_BASE_HZ,
        };
        rtc.ram[reg::A] = 0x26;
        rtc.ram[reg::B] = B_24H;
        rtc.ram[reg::D] = 0x80;
        rtc.set_time(start);
        rtc
    }

    /// Set the clock registers (in the current format) and the century byte.
    pub fn set_time(&mut self, t: RtcTime) {
        let fields = [
            (reg::SECONDS, t.second),
            (reg::MINUTES, t.minute),
            (reg::DAY_OF_WEEK, t.day_of_week()),
            (reg::DAY, t.day),
            (reg::MONTH, t.month),
            (reg::YEAR, (t.year % 100) as u8),
        ];
        for (r, v) in fields {
            self.ram[r] = self.encode(v);
        }
        self.ram[reg::HOURS] = self.encode_hour(t.hour);
        self.ram[reg::CENTURY] = to_bcd((t.year / 100 % 100) as u8);
    }

    /// The clock registers decoded (the century from register 32h).
    pub fn time(&self) -> RtcTime {
        let century = from_bcd(self.ram[reg::CENTURY]) as u16;
        RtcTime {
            year: century * 100 + self.decode(self.ram[reg::YEAR]) as u16,
            month: self.decode(self.ram[reg::MONTH]),
            day: self.decode(self.ram[reg::DAY]),
            hour: self.decode_hour(self.ram[reg::HOURS]),
            minute: self.decode(self.ram[reg::MINUTES]),
            second: self.decode(self.ram[reg::SECONDS]),
        }
    }

    fn binary(&self) -> bool {
        self.ram[reg::B] & B_BINARY != 0
    }

    fn encode(&self, v: u8) -> u8 {
        if self.binary() {
            v
        } else {
            to_bcd(v)
        }
    }

    fn decode(&self, v: u8) -> u8 {
        if self.binary() {
            v
        } else {
            from_bcd(v)
        }
    }

    fn encode_hour(&self, h: u8) -> u8 {
        if self.ram[reg::B] & B_24H != 0 {
            return self.encode(h);
        }
        let pm = if h >= 12 { 0x80 } else { 0 };
        let h12 = match h % 12 {
            0 => 12,
            x => x,
        };
        self.encode(h12) | pm
    }

    fn decode_hour(&self, v: u8) -> u8 {
        if self.ram[reg::B] & B_24H != 0 {
            return self.decode(v);
        }
        let h12 = self.decode(v & 0x7F) % 12;
        if v & 0x80 != 0 {
            h12 + 12
        } else {
            h12
        }
    }

    /// Divider bits DV2–0 = 010: the 32.768 kHz time base is counting.
    fn running(&self) -> bool {
        self.ram[reg::A] & 0x70 == 0x20
    }

    /// Periodic interrupt period in time-base ticks, if RS selects one.
    pub fn periodic_ticks(&self) -> Option<u64> {
        match self.ram[reg::A] & 0x0F {
            0 => None,
            1 => Some(128),
            2 => Some(256),
            rs => Some(1 << (rs - 1)),
        }
    }

    fn cycles_to_ticks(&self, now: u64) -> u64 {
        (now as u128 * TIME_BASE_HZ as u128 / self.clock_hz as u128) as u64
    }

    fn ticks_to_cycles(&self, ticks: u64) -> u64 {
        // Round up: the first cycle at which `ticks` have elapsed.
        let c = (ticks as u128 * self.clock_hz as u128).div_ceil(TIME_BASE_HZ as u128);
        c.min(u64::MAX as u128) as u64
    }

    /// Catch the clock up to CPU cycle `now`.
    pub fn advance(&mut self, now: u64) {
        let target = self.cycles_to_ticks(now);
        if target <= self.ticks {
            return;
        }
        if self.running() {
            if let Some(p) = self.periodic_ticks() {
                let before = (self.ticks - self.phase) / p;
                let after = (target - self.phase) / p;
                if after > before {
                    self.ram[reg::C] |= C_PF;
                }
            }
            while self.next_update <= target {
                self.update_cycle();
                self.next_update += TIME_BASE_HZ;
            }
        }
        self.ticks = target;
        self.refresh_irqf();
    }

    fn refresh_irqf(&mut self) {
        let b = self.ram[reg::B];
        let c = self.ram[reg::C];
        let irq = (c & C_PF != 0 && b & B_PIE != 0)
            || (c & C_AF != 0 && b & B_AIE != 0)
            || (c & C_UF != 0 && b & B_UIE != 0);
        if irq {
            self.ram[reg::C] |= C_IRQF;
        }
    }

    /// One update cycle: a second passes (unless SET holds the clock),
    /// then the alarm is compared.
    fn update_cycle(&mut self) {
        if self.ram[reg::B] & B_SET != 0 {
            return;
        }
        let mut t = self.time();
        let dow = self.decode(self.ram[reg::DAY_OF_WEEK]);
        // Guest-written registers may hold any byte: no overflow.
        t.second = t.second.wrapping_add(1);
        let mut new_day = false;
        if t.second >= 60 {
            t.second = 0;
            t.minute = t.minute.wrapping_add(1);
            if t.minute >= 60 {
                t.minute = 0;
                t.hour = t.hour.wrapping_add(1);
                if t.hour >= 24 {
                    t.hour = 0;
                    new_day = true;
                    t.day = t.day.wrapping_add(1);
                    if t.day > days_in_month(t.year as u32, t.month.clamp(1, 12)) {
                        t.day = 1;
                        t.month = t.month.wrapping_add(1);
                        if t.month > 12 {
                            t.month = 1;
                            // The chip's year wraps at 99; the century byte
                            // is only NVRAM, which the BIOS maintains.
                            t.year = t.year - t.year % 100 + (t.year % 100 + 1) % 100;
                        }
                    }
                }
            }
        }
        self.ram[reg::SECONDS] = self.encode(t.second);
        self.ram[reg::MINUTES] = self.encode(t.minute);
        self.ram[reg::HOURS] = self.encode_hour(t.hour);
        if new_day {
            self.ram[reg::DAY_OF_WEEK] = self.encode(dow % 7 + 1);
            self.ram[reg::DAY] = self.encode(t.day);
            self.ram[reg::MONTH] = self.encode(t.month);
            self.ram[reg::YEAR] = self.encode((t.year % 100) as u8);
        }
        self.ram[reg::C] |= C_UF;
        let matches = |alarm: usize, now: usize| {
            let a = self.ram[alarm];
            a & 0xC0 == 0xC0 || a == self.ram[now]
        };
        if matches(reg::SECONDS_ALARM, reg::SECONDS)
            && matches(reg::MINUTES_ALARM, reg::MINUTES)
            && matches(reg::HOURS_ALARM, reg::HOURS)
        {
            self.ram[reg::C] |= C_AF;
        }
    }

    /// The IRQ 8 output (active while IRQF is set).
    pub fn irq(&self) -> bool {
        self.ram[reg::C] & C_IRQF != 0
    }

    /// The CPU cycle at which the clock next needs time to raise an
    /// enabled interrupt, if any interrupt is enabled.
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.running() {
            return None;
        }
        let b = self.ram[reg::B];
        let mut next: Option<u64> = None;
        if b & B_PIE != 0 && self.ram[reg::C] & C_PF == 0 {
            if let Some(p) = self.periodic_ticks() {
                let k = (self.ticks - self.phase) / p + 1;
                next = Some(self.phase + k * p);
            }
        }
        if b & (B_UIE | B_AIE) != 0 && b & B_SET == 0 {
            next = Some(next.map_or(self.next_update, |n| n.min(self.next_update)));
        }
        next.map(|t| self.ticks_to_cycles(t))
    }

    /// Read port 70h (`index_port`) or 71h at CPU cycle `now`.
    pub fn io_read(&mut self, now: u64, index_port: bool) -> u8 {
        if index_port {
            // The index register is write-only; the bus floats.
            return 0xFF;
        }
        self.advance(now);
        let i = self.index as usize;
        match i {
            reg::A => {
                let uip = self.running()
                    && self.ram[reg::B] & B_SET == 0
                    && self.next_update - self.ticks <= UIP_TICKS;
                (self.ram[reg::A] & 0x7F) | if uip { 0x80 } else { 0 }
            }
            reg::C => {
                let v = self.ram[reg::C];
                self.ram[reg::C] = 0;
                v
            }
            reg::D => 0x80,
            _ => self.ram[i],
        }
    }

    /// Write port 70h (`index_port`) or 71h at CPU cycle `now`.
    pub fn io_write(&mut self, now: u64, index_port: bool, v: u8) {
        if index_port {
            self.index = v & 0x7F;
            self.nmi_disabled = v & 0x80 != 0;
            return;
        }
        self.advance(now);
        let i = self.index as usize;
        match i {
            reg::A => {
                let was_running = self.running();
                // UIP is read-only.
                self.ram[reg::A] = v & 0x7F;
                if self.running() && !was_running {
                    self.phase = self.ticks;
                    self.next_update = self.ticks + TIME_BASE_HZ / 2;
                }
            }
            reg::B => {
                let mut v = v;
                if v & B_SET != 0 {
                    v &= !B_UIE;
                }
                self.ram[reg::B] = v;
                self.refresh_irqf();
            }
            reg::C | reg::D => {}
            _ => self.ram[i] = v,
        }
    }

    /// Store the configuration fields AT BIOSes read, and the checksum.
    pub fn set_nvram(&mut self, cfg: &NvramConfig) {
        let r = &mut self.ram;
        r[0x10] = ((cfg.floppies[0] as u8) << 4) | cfg.floppies[1] as u8;
        // Type Fh in 12h sends the BIOS to the extended type bytes 19h/1Ah.
        let hd = |present: bool| if present { 0x0F } else { 0 };
        r[0x12] = (hd(cfg.hard_disks[0]) << 4) | hd(cfg.hard_disks[1]);
        r[0x19] = if cfg.hard_disks[0] { 47 } else { 0 };
        r[0x1A] = if cfg.hard_disks[1] { 47 } else { 0 };
        let drives = cfg
            .floppies
            .iter()
            .filter(|&&f| f != CmosFloppy::None)
            .count() as u8;
        // Equipment: bit 0 floppies present, bit 1 coprocessor, bits 4–5 = 00
        // (EGA/VGA with its own BIOS), bits 6–7 drive count − 1.
        let mut equip = 0u8;
        if drives > 0 {
            equip |= 0x01 | ((drives - 1) << 6);
        }
        if cfg.fpu {
            equip |= 0x02;
        }
        r[0x14] = equip;
        let [lo, hi] = 640u16.to_le_bytes();
        r[0x15] = lo;
        r[0x16] = hi;
        let mib = 1u64 << 20;
        let ext_kib = (cfg.ram_bytes.saturating_sub(mib) / 1024).min(0xFFFF) as u16;
        let [lo, hi] = ext_kib.to_le_bytes();
        r[0x17] = lo;
        r[0x18] = hi;
        r[0x30] = lo;
        r[0x31] = hi;
        // Memory between 16 MiB and the PCI hole below 4 GiB, in 64 KiB units.
        let below_4g = cfg.ram_bytes.min(0xE000_0000);
        let above_16m = (below_4g.saturating_sub(16 * mib) / 65_536).min(0xFFFF) as u16;
        let [lo, hi] = above_16m.to_le_bytes();
        r[0x34] = lo;
        r[0x35] = hi;
        let above_4g = cfg.ram_bytes.saturating_sub(below_4g) / 65_536;
        r[0x5B] = above_4g as u8;
        r[0x5C] = (above_4g >> 8) as u8;
        r[0x5D] = (above_4g >> 16) as u8;
        r[reg::CENTURY] = to_bcd(cfg.century % 100);
        // Bochs BIOS boot order: 3Dh low nibble first, high nibble second;
        // 38h high nibble third (bit 0 left clear: check floppy signature).
        let dev = |i: usize| cfg.boot.get(i).map_or(0, |&d| d as u8);
        r[0x3D] = dev(0) | (dev(1) << 4);
        r[0x38] = (r[0x38] & 0x0F) | (dev(2) << 4);
        self.update_checksum();
    }

    /// Recompute the standard checksum (2Eh high, 2Fh low) over 10h–2Dh.
    pub fn update_checksum(&mut self) {
        let sum: u16 = self.ram[0x10..=0x2D].iter().map(|&b| b as u16).sum();
        self.ram[0x2E] = (sum >> 8) as u8;
        self.ram[0x2F] = sum as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_time_registers_do_not_panic() {
        let mut rtc = Rtc::new(RtcTime::default(), 1_000_000);
        rtc.io_write(0, true, 0x0B);
        rtc.io_write(0, false, 0x06); // binary, 24 h
        for r in [0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32] {
            rtc.io_write(0, true, r);
            rtc.io_write(0, false, 0xFF);
        }
        rtc.advance(5_000_000);
        // Seconds 255 → 0 at the first update, then 1, 2, 3, 4.
        rtc.io_write(0, true, 0x00);
        assert_eq!(rtc.io_read(5_000_000, false), 4);
    }

    #[test]
    fn unix_epoch_conversions() {
        // 2000-03-01 00:00:00 UTC is 951868800 seconds after the epoch.
        let t = RtcTime::from_unix(951_868_800);
        assert_eq!((t.year, t.month, t.day, t.hour), (2000, 3, 1, 0));
        // 1970-01-01 was a Thursday (5); 2000-01-01 a Saturday (7).
        assert_eq!(RtcTime::from_unix(0).day_of_week(), 5);
        assert_eq!(RtcTime::default().day_of_week(), 7);
        assert_eq!(
            RtcTime::parse("2024-02-29 23:59:58"),
            Some(RtcTime {
                year: 2024,
                month: 2,
                day: 29,
                hour: 23,
                minute: 59,
                second: 58
            })
        );
        assert_eq!(RtcTime::parse("2023-02-29 00:00:00"), None);
    }
}
