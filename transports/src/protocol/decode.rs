//! The device's decoder of requests: reads `(seq, Request)` as postcard encodes it, written by
//! hand (serde's derived deserialiser with its visitors costs several KiB of firmware). It
//! accepts and refuses exactly what `postcard::from_bytes` does on a 32-bit device; the tests
//! check it against postcard.

use super::{FrameError, Request};

/// Reads postcard's encoding from a frame's content.
struct Dec<'a> {
    rest: &'a [u8],
}

type R<T> = Result<T, FrameError>;

// `#[inline(never)]` where it cuts the firmware (measured, docs/PERFORMANCE.md): helpers called
// from many places, each of which carried an inlined copy.
impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.rest.len() {
            return Err(FrameError::Malformed);
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    /// A varint of at most `bytes` bytes whose last byte is at most `last` (postcard's bounds
    /// for the type).
    fn var(&mut self, bytes: usize, last: u8) -> R<u32> {
        let mut out = 0u32;
        for i in 0..bytes {
            let b = self.u8()?;
            out |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return match i == bytes - 1 && b > last {
                    true => Err(FrameError::Malformed),
                    false => Ok(out),
                };
            }
        }
        Err(FrameError::Malformed)
    }

    fn u16(&mut self) -> R<u16> {
        Ok(self.var(3, 0b11)? as u16)
    }

    #[inline(never)]
    fn u32(&mut self) -> R<u32> {
        self.var(5, 0b1111)
    }

    fn bool(&mut self) -> R<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(FrameError::Malformed),
        }
    }

    fn bytes(&mut self) -> R<&'a [u8]> {
        let n = self.u32()?;
        self.take(n as usize)
    }

    fn str(&mut self) -> R<&'a str> {
        core::str::from_utf8(self.bytes()?).map_err(|_| FrameError::Malformed)
    }

    fn opt_u32(&mut self) -> R<Option<u32>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u32()?)),
            _ => Err(FrameError::Malformed),
        }
    }
}

/// The `seq` a frame's content starts with, if at least that decodes.
pub fn seq_of(content: &[u8]) -> Option<u16> {
    Dec { rest: content }.u16().ok()
}

impl<'a> Request<'a> {
    /// Decodes a frame's content (from [`super::FrameDecoder::frame`]) as `(seq, request)`;
    /// bytes after the request are ignored, as postcard does.
    pub fn decode(content: &'a [u8]) -> Result<(u16, Self), FrameError> {
        let mut d = Dec { rest: content };
        let seq = d.u16()?;
        let req = match d.u32()? {
            0 => Request::Hello { version: d.u16()? },
            1 => Request::Status,
            2 => Request::PushBegin {
                push_id: d.u32()?,
                name: d.str()?,
                total_len: d.u32()?,
                crc32: d.u32()?,
            },
            3 => Request::Data {
                offset: d.u32()?,
                bytes: d.bytes()?,
            },
            4 => Request::Call {
                ext: d.str()?,
                sym: d.str()?,
                time_limit_ms: d.u32()?,
            },
            5 => Request::Unload { name: d.str()? },
            6 => Request::Exports {
                start: d.u32()?,
                max: d.u32()?,
            },
            7 => Request::InstallBegin {
                push_id: d.u32()?,
                name: d.str()?,
                total_len: d.u32()?,
                crc32: d.u32()?,
                boot: d.bool()?,
                version: d.opt_u32()?,
                xip: d.bool()?,
            },
            8 => Request::List,
            9 => Request::Remove { name: d.str()? },
            10 => Request::Confirm { name: d.str()? },
            11 => Request::Rollback { name: d.str()? },
            12 => Request::Sections { name: d.str()? },
            _ => return Err(FrameError::Malformed),
        };
        Ok((seq, req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> [Request<'static>; 15] {
        [
            Request::Hello { version: 2 },
            Request::Status,
            Request::PushBegin {
                push_id: u32::MAX,
                name: "hello",
                total_len: 70_000,
                crc32: 0x8000_0001,
            },
            Request::Data {
                offset: 1024,
                bytes: &[0, 1, 255, 0x80],
            },
            Request::Data {
                offset: 0,
                bytes: &[],
            },
            Request::Call {
                ext: "e",
                sym: "f_ü",
                time_limit_ms: 0,
            },
            Request::Unload { name: "" },
            Request::Exports {
                start: 16384,
                max: 64,
            },
            Request::InstallBegin {
                push_id: 7,
                name: "lib",
                total_len: 9,
                crc32: 1,
                boot: true,
                version: Some(3),
                xip: false,
            },
            Request::InstallBegin {
                push_id: 8,
                name: "lib",
                total_len: 9,
                crc32: 1,
                boot: false,
                version: None,
                xip: true,
            },
            Request::List,
            Request::Remove { name: "a" },
            Request::Confirm { name: "b" },
            Request::Rollback { name: "c" },
            Request::Sections { name: "d" },
        ]
    }

    /// The hand decoder's verdict on `bytes` is postcard's.
    fn same(bytes: &[u8]) {
        let want = postcard::from_bytes::<(u16, Request<'_>)>(bytes).ok();
        assert_eq!(Request::decode(bytes).ok(), want, "{bytes:02x?}");
    }

    #[test]
    fn every_request_decodes_as_postcard_encodes_it() {
        for (i, r) in all().iter().enumerate() {
            let mut buf = [0u8; 64];
            let seq = (i as u16) * 4099;
            let n = postcard::to_slice(&(seq, r), &mut buf).unwrap().len();
            assert_eq!(Request::decode(&buf[..n]).unwrap(), (seq, r.clone()));
            assert_eq!(seq_of(&buf[..n]), Some(seq));
            // Cut anywhere, or with bytes after it, the verdict is postcard's.
            for cut in 0..=n + 2 {
                same(&buf[..cut]);
            }
        }
    }

    #[test]
    fn damaged_requests_are_refused_as_postcard_refuses_them() {
        let cases: &[&[u8]] = &[
            &[1, 13],                                 // no such request
            &[1, 0x80, 0x80, 0x80, 0x80, 0x10],       // variant varint past u32
            &[0xff, 0xff, 0x04, 1],                   // seq past u16
            &[0xff, 0xff, 0x03, 1],                   // the largest seq
            &[1, 0x81, 0],                            // overlong variant index 1
            &[1, 7, 1, 1, b'a', 1, 1, 2, 0, 0],       // bool 2
            &[1, 7, 1, 1, b'a', 1, 1, 0, 2, 0],       // option tag 2
            &[1, 7, 1, 1, b'a', 1, 1, 1, 1, 5, 1],    // every field set
            &[1, 5, 2, 0xc3, 0x28],                   // bad UTF-8
            &[1, 3, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], // data longer than the frame
        ];
        for c in cases {
            same(c);
        }
    }
}
