//! Where the device's log lines come from: the server sends them as `Log` frames between answers.

/// A queue of log lines the firmware fills (for example from the `puts`/`printf` it exports to
/// extensions) and the server empties onto the link.
pub trait LogSource {
    /// Copies the next line (without its line end) into `buf`, cut to fit, and returns its
    /// length; `None` when no line is waiting.
    fn next_line(&mut self, buf: &mut [u8]) -> Option<usize>;
}

/// A device without logs.
pub struct NoLogs;

impl LogSource for NoLogs {
    fn next_line(&mut self, _buf: &mut [u8]) -> Option<usize> {
        None
    }
}
