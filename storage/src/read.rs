//! Reading flash at any offset and length (honouring `READ_SIZE`), and CRCs of flash ranges.

use crc::{CRC_32_ISO_HDLC, Crc};
use embedded_storage_async::nor_flash::ReadNorFlash;
use llext_loader::outline::outlined;

/// The CRC table: 1 KiB by default, 16 KiB with the `fast-crc` feature (about 4× faster).
#[cfg(not(feature = "fast-crc"))]
pub type CrcTable = crc::Table<1>;
/// The CRC table: 1 KiB by default, 16 KiB with the `fast-crc` feature (about 4× faster).
#[cfg(feature = "fast-crc")]
pub type CrcTable = crc::Table<16>;

/// A CRC-32 in progress.
pub(crate) type Digest = crc::Digest<'static, u32, CrcTable>;

/// The CRC-32 used for images (ISO-HDLC, the zlib/PNG one).
pub static CRC32: Crc<u32, CrcTable> = Crc::<u32, CrcTable>::new(&CRC_32_ISO_HDLC);

/// Reads `buf.len()` bytes at `addr`; unaligned parts go through a 64-byte bounce buffer.
pub(crate) async fn read<F: ReadNorFlash>(
    flash: &mut F,
    addr: u32,
    buf: &mut [u8],
) -> Result<(), F::Error> {
    let rs = F::READ_SIZE as u32;
    if rs <= 1 || (addr.is_multiple_of(rs) && (buf.len() as u32).is_multiple_of(rs)) {
        return flash.read(addr, buf).await;
    }
    let mut done = 0usize;
    while done < buf.len() {
        let a = addr + done as u32;
        let base = a - a % rs;
        let skip = (a - base) as usize;
        let mut bounce = [0u8; 64];
        let n = (skip + buf.len() - done)
            .next_multiple_of(rs as usize)
            .min(64);
        flash.read(base, &mut bounce[..n]).await?;
        let take = (n - skip).min(buf.len() - done);
        buf[done..done + take].copy_from_slice(&bounce[skip..skip + take]);
        done += take;
    }
    Ok(())
}

/// Feeds `len` bytes of flash from `addr` into `digest`.
pub(crate) async fn crc_range<F: ReadNorFlash>(
    flash: &mut F,
    addr: u32,
    len: u32,
    digest: &mut Digest,
) -> Result<(), F::Error> {
    let mut buf = [0u8; 256];
    let mut off = 0;
    while off < len {
        let n = (len - off).min(buf.len() as u32) as usize;
        read(flash, addr + off, &mut buf[..n]).await?;
        digest.update(&buf[..n]);
        off += n as u32;
    }
    Ok(())
}

/// The CRC-32 of `len` bytes of flash from `addr`.
pub(crate) fn crc_of<F: ReadNorFlash>(
    flash: &mut F,
    addr: u32,
    len: u32,
) -> impl Future<Output = Result<u32, F::Error>> + '_ {
    outlined(async move {
        let mut d = CRC32.digest();
        crc_range(flash, addr, len, &mut d).await?;
        Ok(d.finalize())
    })
}
