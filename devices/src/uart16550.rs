//! 16550A UART (work in progress).

/// The 16550A UART.
pub struct Uart16550;
