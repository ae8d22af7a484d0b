//! Running the device stack on a PC: a blocking `std` byte stream seen as an async device link.
//!
//! A thread reads the stream into a bounded channel (so the device's waits stay cancellable and
//! its timers work); writes go straight to the stream. `sim-device`, the tests and the benchmarks
//! serve the real [`crate::server::Device`] over these.

use std::io;
use std::thread;
use std::vec::Vec;

use futures::StreamExt as _;
use futures::channel::mpsc;
use futures::executor::block_on;
use futures::sink::SinkExt as _;

/// The device end of a link: reads come from a reader thread, writes go to `W`.
pub struct ThreadLink<W> {
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    pos: usize,
    writer: W,
}

/// Starts a thread that reads `reader` in chunks of up to `chunk` bytes, with at most `depth`
/// chunks waiting; the link reads end (0 bytes) when `reader` ends or fails.
pub fn thread_link<R, W>(reader: R, writer: W, chunk: usize, depth: usize) -> ThreadLink<W>
where
    R: io::Read + Send + 'static,
    W: io::Write,
{
    let (tx, rx) = mpsc::channel(depth);
    thread::spawn(move || pump(reader, tx, chunk));
    ThreadLink {
        rx,
        pending: Vec::new(),
        pos: 0,
        writer,
    }
}

fn pump<R: io::Read>(mut reader: R, mut tx: mpsc::Sender<Vec<u8>>, chunk: usize) {
    let mut buf = std::vec![0u8; chunk.max(1)];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if block_on(tx.send(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

impl<W> embedded_io_async::ErrorType for ThreadLink<W> {
    type Error = io::Error;
}

impl<W> embedded_io_async::Read for ThreadLink<W> {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.pending.len() {
            // Cancel-safe: a chunk is only taken out of the channel when it is returned.
            match self.rx.next().await {
                Some(chunk) => {
                    self.pending = chunk;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<W: io::Write> embedded_io_async::Write for ThreadLink<W> {
    async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}
