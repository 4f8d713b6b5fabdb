//! Intel 8259A programmable interrupt controller.
//!
//! Supports the initialization sequence (ICW1–ICW4), edge- and
//! level-triggered inputs, the interrupt mask, fully nested priority with
//! automatic and specific rotation, non-specific and specific EOI, automatic
//! EOI, special mask mode, reading IRR/ISR and poll mode. ICW3 is kept so a
//! cascaded pair can be built (the PC/XT has a single, non-cascaded 8259A).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Init {
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

/// One 8259A.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pic8259 {
    /// Interrupt request register.
    pub irr: u8,
    /// In-service register.
    pub isr: u8,
    /// Interrupt mask register (OCW1).
    pub imr: u8,
    /// Current levels of the IR0–IR7 inputs.
    pub lines: u8,
    /// Vector of IR0 (ICW2, low three bits zero).
    pub vector_base: u8,
    /// ICW1 LTIM: level-triggered inputs.
    pub level_triggered: bool,
    /// ICW1 SNGL: single (not cascaded).
    pub single: bool,
    /// ICW3: slave lines (master) or slave identity (slave).
    pub icw3: u8,
    /// ICW4 AEOI: automatic end of interrupt.
    pub auto_eoi: bool,
    /// ICW4 SFNM and BUF/M-S bits as written.
    pub icw4: u8,
    /// Rotate on automatic EOI (OCW2 R=1, SL=0, EOI=0).
    pub rotate_on_aeoi: bool,
    /// The IR with the lowest priority (7 after initialization).
    pub lowest_priority: u8,
    /// OCW3: reads of the command port return ISR (else IRR).
    pub read_isr: bool,
    /// OCW3: special mask mode.
    pub special_mask: bool,
    /// OCW3 P: the next command-port read is a poll.
    pub poll: bool,
    /// Edge/level control register of the PIIX (ports 4D0h/4D1h): inputs
    /// whose bit is set are level-triggered whatever ICW1 LTIM says. The
    /// PC/XT has none (always 0).
    #[serde(default)]
    pub elcr: u8,
    init: Init,
    needs_icw4: bool,
}

impl Default for Pic8259 {
    fn default() -> Self {
        Pic8259 {
            irr: 0,
            isr: 0,
            imr: 0,
            lines: 0,
            vector_base: 0,
            level_triggered: false,
            single: true,
            icw3: 0,
            auto_eoi: false,
            icw4: 0,
            rotate_on_aeoi: false,
            lowest_priority: 7,
            read_isr: false,
            special_mask: false,
            poll: false,
            elcr: 0,
            init: Init::Ready,
            needs_icw4: false,
        }
    }
}

impl Pic8259 {
    /// A controller at power-on (uninitialized; all inputs unmasked).
    pub fn new() -> Self {
        Self::default()
    }

    /// Drive input IR`irq` to `level`. In edge mode a rising edge sets the
    /// request; in level mode the request follows the line.
    pub fn set_irq(&mut self, irq: u8, level: bool) {
        let bit = 1u8 << (irq & 7);
        let was = self.lines & bit != 0;
        let level_mode = self.level_mask() & bit != 0;
        if level {
            self.lines |= bit;
            if level_mode || !was {
                self.irr |= bit;
            }
        } else {
            self.lines &= !bit;
            if level_mode {
                self.irr &= !bit;
            }
        }
    }

    /// Inputs that are level-triggered (ICW1 LTIM for all, or the ELCR).
    fn level_mask(&self) -> u8 {
        if self.level_triggered {
            0xFF
        } else {
            self.elcr
        }
    }

    /// ICW4 SFNM on a master: a slave's further requests are let through
    /// while its cascade input is in service.
    fn special_fully_nested(&self) -> bool {
        !self.single && self.icw4 & 0x10 != 0
    }

    /// IR numbers from highest to lowest priority.
    fn priority_order(&self) -> impl Iterator<Item = u8> {
        let first = (self.lowest_priority + 1) & 7;
        (0..8).map(move |i| (first + i) & 7)
    }

    /// The request that would be acknowledged now, if any.
    fn pending(&self) -> Option<u8> {
        let req = self.irr & !self.imr;
        if req == 0 {
            return None;
        }
        let blocking = if self.special_mask {
            self.isr & !self.imr
        } else {
            self.isr
        };
        for irq in self.priority_order() {
            let bit = 1 << irq;
            if blocking & bit != 0 {
                if req & bit != 0 && self.special_fully_nested() && self.icw3 & bit != 0 {
                    return Some(irq);
                }
                // An equal or higher priority interrupt is in service.
                return None;
            }
            if req & bit != 0 {
                return Some(irq);
            }
        }
        None
    }

    /// The INT output: an unmasked request of higher priority than any in service.
    pub fn int_pending(&self) -> bool {
        self.init == Init::Ready && self.pending().is_some()
    }

    /// Interrupt acknowledge: the vector of the highest-priority request,
    /// which moves from IRR to ISR. With no request left (it went away), the
    /// 8259A answers IR7's vector without setting an ISR bit.
    pub fn acknowledge(&mut self) -> u8 {
        match self.pending() {
            Some(irq) => {
                self.take(irq);
                self.vector_base | irq
            }
            None => self.vector_base | 7,
        }
    }

    fn take(&mut self, irq: u8) {
        let bit = 1 << irq;
        self.irr &= !bit;
        if self.level_mask() & bit != 0 && self.lines & bit != 0 {
            // The line is still asserted; ISR now holds it off until EOI.
            self.irr |= bit;
        }
        if self.auto_eoi {
            if self.rotate_on_aeoi {
                self.lowest_priority = irq;
            }
        } else {
            self.isr |= bit;
        }
    }

    /// Highest-priority in-service IR.
    fn highest_in_service(&self) -> Option<u8> {
        self.priority_order().find(|&i| self.isr & (1 << i) != 0)
    }

    /// Read port 0 (20h) or 1 (21h), selected by A0.
    pub fn read(&mut self, a0: bool) -> u8 {
        if a0 {
            return self.imr;
        }
        if self.poll {
            self.poll = false;
            return match self.pending() {
                Some(irq) => {
                    self.take(irq);
                    0x80 | irq
                }
                None => 0,
            };
        }
        if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }

    /// Write port 0 (20h) or 1 (21h), selected by A0.
    pub fn write(&mut self, a0: bool, v: u8) {
        if !a0 {
            if v & 0x10 != 0 {
                self.icw1(v);
            } else if v & 0x08 == 0 {
                self.ocw2(v);
            } else {
                self.ocw3(v);
            }
            return;
        }
        match self.init {
            Init::Icw2 => {
                self.vector_base = v & 0xF8;
                self.init = if !self.single {
                    Init::Icw3
                } else if self.needs_icw4 {
                    Init::Icw4
                } else {
                    Init::Ready
                };
            }
            Init::Icw3 => {
                self.icw3 = v;
                self.init = if self.needs_icw4 {
                    Init::Icw4
                } else {
                    Init::Ready
                };
            }
            Init::Icw4 => {
                self.icw4 = v;
                self.auto_eoi = v & 0x02 != 0;
                self.init = Init::Ready;
            }
            Init::Ready => self.imr = v,
        }
    }

    fn icw1(&mut self, v: u8) {
        self.level_triggered = v & 0x08 != 0;
        self.single = v & 0x02 != 0;
        self.needs_icw4 = v & 0x01 != 0;
        // Initialization clears the mask, the in-service register and the
        // edge-sense latches, gives IR7 the lowest priority, leaves special
        // mask mode and selects IRR for reads.
        self.imr = 0;
        self.isr = 0;
        self.irr = self.lines & self.level_mask();
        self.lowest_priority = 7;
        self.special_mask = false;
        self.read_isr = false;
        self.poll = false;
        self.rotate_on_aeoi = false;
        if !self.needs_icw4 {
            self.auto_eoi = false;
            self.icw4 = 0;
        }
        self.init = Init::Icw2;
    }

    fn ocw2(&mut self, v: u8) {
        let level = v & 7;
        match v >> 5 {
            0b001 => {
                if let Some(i) = self.highest_in_service() {
                    self.isr &= !(1 << i);
                }
            }
            0b011 => self.isr &= !(1 << level),
            0b101 => {
                if let Some(i) = self.highest_in_service() {
                    self.isr &= !(1 << i);
                    self.lowest_priority = i;
                }
            }
            0b100 => self.rotate_on_aeoi = true,
            0b000 => self.rotate_on_aeoi = false,
            0b111 => {
                self.isr &= !(1 << level);
                self.lowest_priority = level;
            }
            0b110 => self.lowest_priority = level,
            _ => {}
        }
    }

    fn ocw3(&mut self, v: u8) {
        if v & 0x40 != 0 {
            self.special_mask = v & 0x20 != 0;
        }
        if v & 0x02 != 0 {
            self.read_isr = v & 0x01 != 0;
        }
        self.poll = v & 0x04 != 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Initialize as the PC BIOS does: edge, single, ICW4 (8086 mode,
    /// buffered), vectors at 08h.
    fn pc_pic() -> Pic8259 {
        let mut p = Pic8259::new();
        p.write(false, 0x13);
        p.write(true, 0x08);
        p.write(true, 0x09);
        p
    }

    #[test]
    fn fixed_priority_ir0_first() {
        let mut p = pc_pic();
        p.set_irq(3, true);
        p.set_irq(1, true);
        assert!(p.int_pending());
        assert_eq!(p.acknowledge(), 0x09);
        assert_eq!(p.isr, 0x02);
        // IR3 has lower priority than IR1 in service: held off.
        assert!(!p.int_pending());
        // Non-specific EOI clears IR1.
        p.write(false, 0x20);
        assert_eq!(p.isr, 0);
        assert!(p.int_pending());
        assert_eq!(p.acknowledge(), 0x0B);
    }

    #[test]
    fn higher_priority_nests() {
        let mut p = pc_pic();
        p.set_irq(4, true);
        assert_eq!(p.acknowledge(), 0x0C);
        p.set_irq(0, true);
        assert!(p.int_pending(), "IR0 preempts IR4");
        assert_eq!(p.acknowledge(), 0x08);
        assert_eq!(p.isr, 0x11);
        p.write(false, 0x20); // clears the highest (IR0)
        assert_eq!(p.isr, 0x10);
    }

    #[test]
    fn specific_eoi() {
        let mut p = pc_pic();
        p.set_irq(2, true);
        p.set_irq(5, true);
        p.acknowledge();
        p.write(false, 0x60 | 5); // specific EOI for IR5 (not in service: no effect on IR2)
        assert_eq!(p.isr, 0x04);
        p.write(false, 0x60 | 2);
        assert_eq!(p.isr, 0);
    }

    #[test]
    fn masking() {
        let mut p = pc_pic();
        p.write(true, 0x01); // mask IR0
        assert_eq!(p.read(true), 0x01);
        p.set_irq(0, true);
        assert!(!p.int_pending());
        assert_eq!(p.irr, 0x01, "masked requests still latch in IRR");
        p.write(true, 0x00);
        assert!(p.int_pending());
    }

    #[test]
    fn edge_needs_a_new_rising_edge() {
        let mut p = pc_pic();
        p.set_irq(0, true);
        p.acknowledge();
        p.write(false, 0x20);
        // Line still high: no new request without a new edge.
        p.set_irq(0, true);
        assert!(!p.int_pending());
        p.set_irq(0, false);
        p.set_irq(0, true);
        assert!(p.int_pending());
    }

    #[test]
    fn level_mode_follows_line() {
        let mut p = Pic8259::new();
        p.write(false, 0x1B); // level, single, ICW4
        p.write(true, 0x50);
        p.write(true, 0x01);
        p.set_irq(6, true);
        assert_eq!(p.acknowledge(), 0x56);
        p.write(false, 0x20);
        // Still asserted: requested again.
        assert!(p.int_pending());
        p.set_irq(6, false);
        assert!(!p.int_pending());
    }

    #[test]
    fn read_irr_isr_and_poll() {
        let mut p = pc_pic();
        p.set_irq(3, true);
        assert_eq!(p.read(false), 0x08, "IRR by default");
        p.write(false, 0x0B); // OCW3: read ISR
        assert_eq!(p.read(false), 0x00);
        p.write(false, 0x0C); // OCW3: poll
        assert_eq!(p.read(false), 0x83);
        assert_eq!(p.isr, 0x08, "a poll acknowledges like INTA");
        p.write(false, 0x0C);
        assert_eq!(p.read(false), 0x00, "nothing pending");
    }

    #[test]
    fn rotation() {
        let mut p = pc_pic();
        // Rotate on non-specific EOI: the serviced IR becomes lowest priority.
        p.set_irq(0, true);
        p.acknowledge();
        p.write(false, 0xA0);
        assert_eq!(p.lowest_priority, 0);
        p.set_irq(0, false);
        p.set_irq(0, true);
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x09, "IR1 now outranks IR0");
        // Set priority: IR4 lowest, so IR5 is highest.
        p.write(false, 0xC4);
        p.write(false, 0x20);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x0D);
    }

    #[test]
    fn auto_eoi_and_spurious() {
        let mut p = Pic8259::new();
        p.write(false, 0x13);
        p.write(true, 0x08);
        p.write(true, 0x03); // AEOI
        p.set_irq(2, true);
        assert_eq!(p.acknowledge(), 0x0A);
        assert_eq!(p.isr, 0);
        // Acknowledge with nothing pending: IR7 vector, no ISR bit.
        assert_eq!(p.acknowledge(), 0x0F);
        assert_eq!(p.isr, 0);
    }

    #[test]
    fn special_mask_mode() {
        let mut p = pc_pic();
        p.set_irq(3, true);
        p.acknowledge();
        p.set_irq(5, true);
        assert!(!p.int_pending());
        p.write(true, 0x08); // mask IR3 (in service)
        p.write(false, 0x68); // OCW3: set special mask mode
        assert!(p.int_pending(), "lower priority enabled under SMM");
        assert_eq!(p.acknowledge(), 0x0D);
    }

    #[test]
    fn cascade_icw3_is_stored() {
        let mut p = Pic8259::new();
        p.write(false, 0x11); // cascade, ICW4
        p.write(true, 0x08);
        p.write(true, 0x04); // slave on IR2
        p.write(true, 0x01);
        assert_eq!(p.icw3, 0x04);
        p.write(true, 0xFB);
        assert_eq!(p.imr, 0xFB);
    }
}
