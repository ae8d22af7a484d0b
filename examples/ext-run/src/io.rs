//! `embedded-io-async` views of standard input and files, so the loader's own sources read them.

use std::io::{Read as _, Seek as _};

/// A blocking `std::io::Read` seen as an async reader (the loader runs it under `block_on`).
pub struct Blocking<T>(pub T);

impl<T> embedded_io_async::ErrorType for Blocking<T> {
    type Error = std::io::Error;
}

impl<T: std::io::Read> embedded_io_async::Read for Blocking<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf)
    }
}

impl<T: std::io::Read + std::io::Seek> embedded_io_async::Seek for Blocking<T> {
    async fn seek(&mut self, pos: embedded_io_async::SeekFrom) -> Result<u64, Self::Error> {
        self.0.seek(match pos {
            embedded_io_async::SeekFrom::Start(o) => std::io::SeekFrom::Start(o),
            embedded_io_async::SeekFrom::End(o) => std::io::SeekFrom::End(o),
            embedded_io_async::SeekFrom::Current(o) => std::io::SeekFrom::Current(o),
        })
    }
}

/// Counts the bytes a reader delivered (the size of a piped file).
pub struct Counted<T> {
    pub inner: T,
    pub bytes: u64,
}

impl<T: std::io::Read> std::io::Read for Counted<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

#[allow(dead_code)]
fn _assert_file_is_seekable(f: std::fs::File) -> impl std::io::Read + std::io::Seek {
    let mut f = f;
    let _ = f.stream_position();
    let _ = f.read(&mut []);
    f
}
