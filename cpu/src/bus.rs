//! How memory and I/O reach the CPU.

/// Physical addresses [`Bus::ram_direct`] never lends, whatever the slice
/// it returns covers: A0000h–FFFFFh, where a PC has video memory, ROMs and
/// shadow RAM whose mapping changes.
pub const DIRECT_HOLE: std::ops::Range<u32> = 0xA_0000..0x10_0000;

/// Memory and I/O as the CPU sees them. Addresses are physical: the CPU has
/// already applied segmentation and its address-bus width.
pub trait Bus {
    /// Read a byte of memory.
    fn read(&mut self, addr: u32) -> u8;
    /// Write a byte of memory.
    fn write(&mut self, addr: u32, value: u8);
    /// Read a byte of memory in an instruction-fetch bus cycle (only the
    /// exact timing model tells fetches apart); a memory read by default.
    #[inline]
    fn fetch(&mut self, addr: u32) -> u8 {
        self.read(addr)
    }
    /// Read a byte from an I/O port.
    fn io_read(&mut self, port: u16) -> u8;
    /// Write a byte to an I/O port.
    fn io_write(&mut self, port: u16, value: u8);
    /// Read a word from an I/O port (low byte first).
    fn io_read16(&mut self, port: u16) -> u16 {
        let lo = self.io_read(port) as u16;
        let hi = self.io_read(port.wrapping_add(1)) as u16;
        lo | (hi << 8)
    }
    /// Write a word to an I/O port (low byte first).
    fn io_write16(&mut self, port: u16, value: u16) {
        self.io_write(port, value as u8);
        self.io_write(port.wrapping_add(1), (value >> 8) as u8);
    }
    /// Read a doubleword from an I/O port (386+ `IN EAX`). The default
    /// splits it into two word accesses; a board with 32-bit registers (the
    /// PCI configuration address at CF8h) answers it whole.
    fn io_read32(&mut self, port: u16) -> u32 {
        let lo = self.io_read16(port) as u32;
        let hi = self.io_read16(port.wrapping_add(2)) as u32;
        lo | (hi << 16)
    }
    /// Write a doubleword to an I/O port (386+ `OUT DX, EAX`); see
    /// [`Bus::io_read32`].
    fn io_write32(&mut self, port: u16, value: u32) {
        self.io_write16(port, value as u16);
        self.io_write16(port.wrapping_add(2), (value >> 16) as u16);
    }
    /// Interrupt acknowledge: the vector number of the pending interrupt.
    fn inta(&mut self) -> u8 {
        0xFF
    }
    /// The memory at `addr..addr + len` (physical, not wrapping) as a slice,
    /// if all of it is plain RAM: reads give what was last written, and
    /// neither has any other effect. The CPU may then move a REP STOS or
    /// REP MOVS through it at once instead of byte by byte through
    /// [`Bus::read`] and [`Bus::write`]. None (the default) keeps it byte by
    /// byte.
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let _ = (addr, len);
        None
    }
    /// The memory at `addr..addr + len` (physical, not wrapping) as a
    /// read-only slice, if reading it has no effect and gives what a run of
    /// [`Bus::read`]s would: plain RAM, and memory the CPU cannot change by
    /// writing it (ROM, shadow RAM made read-only). The decoder fetches code
    /// through it, so firmware running from ROM or write-protected shadow
    /// costs one call per instruction instead of one per byte. A board that
    /// lends memory here must change [`Bus::ram_generation`] whenever what
    /// it lends may change other than by the CPU's own writes (a ROM
    /// remapped, shadow RAM switched). By default what [`Bus::ram_mut`]
    /// lends, so boards that have only plain RAM need not implement it.
    fn ram_read(&mut self, addr: u32, len: u32) -> Option<&[u8]> {
        self.ram_mut(addr, len).map(|s| &*s)
    }
    /// Plain RAM the CPU may read and write in place, without a call per
    /// access: a slice `s` such that for every physical address `a <
    /// s.len()` outside [`DIRECT_HOLE`] (the PC's adapter space, which the
    /// CPU never takes from here), reading `a` gives `s[a]` and writing it
    /// stores into `s[a]` with no other effect, so that the CPU may use it
    /// in place of [`Bus::read`] and [`Bus::write`]. What a board lends may
    /// change with its state (the AT board lends nothing while A20 is
    /// masked), so the CPU asks at every access (an inlined field load)
    /// and keeps only physical addresses. Empty (the default): nothing is
    /// lent, and the CPU goes through [`Bus::ram_mut`] and the byte calls.
    #[inline]
    fn ram_direct(&mut self) -> &mut [u8] {
        &mut []
    }
    /// A number that changes whenever what some physical address reads may
    /// have changed other than by the CPU's own writes to that same address:
    /// DMA or a device writing RAM, a loader or debugger, a change of what
    /// addresses map to (A20, shadow RAM, SMRAM), a write reaching memory
    /// through an alias. While it stays the same, the ia32 core trusts its
    /// record of which code pages it wrote and skips re-reading the bytes of
    /// cached instructions. None (the default) means unknown: cached
    /// instructions are then checked against memory at every use.
    #[inline]
    fn ram_generation(&self) -> Option<u64> {
        None
    }
    /// A CPU running a slice of instructions is at an instruction
    /// boundary, `cycles` clocks after the slice began: a board that
    /// passes time only between slices brings its devices up to that
    /// moment when the next instruction touches them. Nothing by default.
    #[inline]
    fn slice_clock(&mut self, cycles: u64) {
        let _ = cycles;
    }
    /// True (once) if an access since the last call may have changed what
    /// the CPU sees between instructions (the interrupt lines, the board's
    /// next deadline, a reset): the CPU then ends its slice after the
    /// current instruction. False by default.
    #[inline]
    fn take_slice_end(&mut self) -> bool {
        false
    }
    /// A number that changes whenever [`Bus::ram_generation`] changes or an
    /// access asks for the slice to end (whenever [`Bus::take_slice_end`]
    /// may answer true), so that a CPU running instructions straight from
    /// its decode cache tests one number after each instead of calling
    /// both. None (the default): unknown, both are asked after every
    /// instruction.
    #[inline]
    fn slice_events(&self) -> Option<u64> {
        None
    }
}

/// A borrowed bus is a bus: the core is generic over its bus (so that a
/// board's `read` and `ram_mut` inline into it), and code holding only a
/// `&mut B` (with `B` perhaps unsized) can still lend it as `&mut dyn Bus`
/// to a trait object (the [`Coprocessor`](crate::ia32::Coprocessor)).
impl<T: Bus + ?Sized> Bus for &mut T {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        (**self).read(addr)
    }
    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        (**self).write(addr, value)
    }
    #[inline]
    fn fetch(&mut self, addr: u32) -> u8 {
        (**self).fetch(addr)
    }
    #[inline]
    fn io_read(&mut self, port: u16) -> u8 {
        (**self).io_read(port)
    }
    #[inline]
    fn io_write(&mut self, port: u16, value: u8) {
        (**self).io_write(port, value)
    }
    #[inline]
    fn io_read16(&mut self, port: u16) -> u16 {
        (**self).io_read16(port)
    }
    #[inline]
    fn io_write16(&mut self, port: u16, value: u16) {
        (**self).io_write16(port, value)
    }
    #[inline]
    fn io_read32(&mut self, port: u16) -> u32 {
        (**self).io_read32(port)
    }
    #[inline]
    fn io_write32(&mut self, port: u16, value: u32) {
        (**self).io_write32(port, value)
    }
    #[inline]
    fn inta(&mut self) -> u8 {
        (**self).inta()
    }
    #[inline]
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        (**self).ram_mut(addr, len)
    }
    #[inline]
    fn ram_read(&mut self, addr: u32, len: u32) -> Option<&[u8]> {
        (**self).ram_read(addr, len)
    }
    #[inline]
    fn ram_direct(&mut self) -> &mut [u8] {
        (**self).ram_direct()
    }
    #[inline]
    fn ram_generation(&self) -> Option<u64> {
        (**self).ram_generation()
    }
    #[inline]
    fn slice_clock(&mut self, cycles: u64) {
        (**self).slice_clock(cycles)
    }
    #[inline]
    fn take_slice_end(&mut self) -> bool {
        (**self).take_slice_end()
    }
    #[inline]
    fn slice_events(&self) -> Option<u64> {
        (**self).slice_events()
    }
}

/// A flat memory with every I/O read returning all ones; handy for tests and tools.
#[derive(Clone)]
pub struct FlatBus {
    /// The memory; addresses wrap at its length (a power of two).
    pub mem: Vec<u8>,
    /// Bytes written to I/O ports, in order.
    pub io_writes: Vec<(u16, u8)>,
}

impl FlatBus {
    /// A memory of `size` bytes (rounded up to a power of two), all zero.
    pub fn new(size: usize) -> Self {
        FlatBus {
            mem: vec![0; size.next_power_of_two()],
            io_writes: Vec::new(),
        }
    }

    /// Copy `bytes` into memory at `addr`.
    pub fn load(&mut self, addr: u32, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            let a = (addr as usize + i) & (self.mem.len() - 1);
            self.mem[a] = *b;
        }
    }
}

impl Bus for FlatBus {
    #[inline]
    fn read(&mut self, addr: u32) -> u8 {
        self.mem[addr as usize & (self.mem.len() - 1)]
    }
    #[inline]
    fn write(&mut self, addr: u32, value: u8) {
        let m = self.mem.len() - 1;
        self.mem[addr as usize & m] = value;
    }
    fn io_read(&mut self, _port: u16) -> u8 {
        0xFF
    }
    fn io_write(&mut self, port: u16, value: u8) {
        self.io_writes.push((port, value));
    }
    fn ram_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let start = addr as usize;
        self.mem.get_mut(start..start.checked_add(len as usize)?)
    }
    /// All of it: every address below its length is plain memory.
    #[inline]
    fn ram_direct(&mut self) -> &mut [u8] {
        &mut self.mem
    }
}
