//! The AT's two cascaded 8259As: the master at 20h/21h with the slave's INT
//! on its IR2, the slave at A0h/A1h (IRQ 8–15), and the PIIX's edge/level
//! control registers at 4D0h/4D1h.
//!
//! The ISA bus routes IRQ 2 to the slave's IR1 (IRQ 9), since the master's
//! IR2 carries the cascade.

use crate::pic::Pic8259;

/// The cascaded pair.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CascadedPics {
    /// IRQ 0–7.
    pub master: Pic8259,
    /// IRQ 8–15.
    pub slave: Pic8259,
}

impl CascadedPics {
    /// Both controllers at power-on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drive ISA interrupt line `irq` (0–15) to `level`.
    pub fn set_irq(&mut self, irq: u8, level: bool) {
        match irq & 15 {
            2 | 9 => self.slave.set_irq(1, level),
            i @ 0..=7 => self.master.set_irq(i, level),
            i => self.slave.set_irq(i - 8, level),
        }
        self.sync_cascade();
    }

    /// The slave's INT output feeds the master's IR2. A request that goes
    /// away before it is acknowledged is withdrawn: the 8259A needs an IR
    /// input held until the acknowledge (else it answers IR7's vector), and
    /// the slave drops INT when its request is masked or taken away.
    fn sync_cascade(&mut self) {
        let int = self.slave.int_pending();
        self.master.set_irq(2, int);
        if !int {
            self.master.irr &= !0x04;
        }
    }

    /// The INTR line to the CPU.
    pub fn intr(&self) -> bool {
        self.master.int_pending()
    }

    /// Interrupt acknowledge: the master answers, or, for its cascade input,
    /// the slave does.
    pub fn acknowledge(&mut self) -> u8 {
        let v = self.master.acknowledge();
        let cascaded = !self.master.single && self.master.icw3 & 0x04 != 0;
        let vector = if cascaded && v & 7 == 2 && v == self.master.vector_base | 2 {
            self.slave.acknowledge()
        } else {
            v
        };
        self.sync_cascade();
        vector
    }

    /// Read 20h/21h/A0h/A1h/4D0h/4D1h.
    pub fn io_read(&mut self, port: u16) -> u8 {
        let v = match port {
            0x20 | 0x21 => self.master.read(port & 1 != 0),
            0xA0 | 0xA1 => self.slave.read(port & 1 != 0),
            0x4D0 => self.master.elcr,
            0x4D1 => self.slave.elcr,
            _ => 0xFF,
        };
        // A poll read may acknowledge a slave request.
        self.sync_cascade();
        v
    }

    /// Write 20h/21h/A0h/A1h/4D0h/4D1h.
    pub fn io_write(&mut self, port: u16, v: u8) {
        match port {
            0x20 | 0x21 => self.master.write(port & 1 != 0, v),
            0xA0 | 0xA1 => self.slave.write(port & 1 != 0, v),
            // IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge on the PIIX.
            0x4D0 => self.set_elcr(true, v & 0xF8),
            0x4D1 => self.set_elcr(false, v & 0xDE),
            _ => {}
        }
        self.sync_cascade();
    }

    fn set_elcr(&mut self, master: bool, v: u8) {
        let pic = if master {
            &mut self.master
        } else {
            &mut self.slave
        };
        pic.elcr = v;
        // A line switched to level mode requests while it is high.
        let levels = pic.lines & v;
        pic.irr |= levels;
    }
}
