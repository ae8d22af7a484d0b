//! A host speaking raw frames: to choose its own request ids and CRCs, and send what no
//! well-behaved client would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use llext_transports::protocol::{self, FrameDecoder, Request, Response};

use super::SimDevice;

/// A host speaking raw frames, to choose its own request ids.
pub struct Raw {
    s: TcpStream,
    dec: Box<FrameDecoder<4096>>,
    buf: Vec<u8>,
    pending: Vec<u8>,
}

impl Raw {
    pub fn connect(dev: &SimDevice) -> Raw {
        let s =
            TcpStream::connect(dev.address.strip_prefix("tcp:").expect("tcp")).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.set_nodelay(true).expect("nodelay");
        Raw {
            s,
            dec: Box::new(FrameDecoder::new()),
            buf: vec![0; 4096],
            pending: Vec::new(),
        }
    }

    pub fn send<T: serde::Serialize>(&mut self, seq: u16, msg: &T) {
        let (mut scratch, mut out) = (vec![0u8; 4096], vec![0u8; 4200]);
        let n = protocol::encode(seq, msg, &mut scratch, &mut out).expect("encode");
        self.s.write_all(&out[..n]).expect("send");
    }

    /// The next answer that is not a log line, as `(seq, frame content)`.
    pub fn recv(&mut self) -> (u16, Vec<u8>) {
        loop {
            while !self.pending.is_empty() {
                let (used, done) = self.dec.feed(&self.pending);
                self.pending.drain(..used);
                if done {
                    let frame = self.dec.frame().to_vec();
                    match protocol::decode::<Response<'_>>(&frame) {
                        Ok((_, Response::Log { .. })) => {}
                        Ok((seq, _)) => return (seq, frame),
                        Err(e) => panic!("undecodable answer: {e:?}"),
                    }
                }
            }
            let n = self.s.read(&mut self.buf).expect("the device answers");
            assert!(n > 0, "the device closed the link");
            self.pending.extend_from_slice(&self.buf[..n]);
        }
    }

    /// Sends `begin`, then the whole `image` from where the device asks, and returns the
    /// content of the `PushDone` or `InstallDone` frame.
    pub fn transfer(&mut self, begin: &Request<'_>, image: &[u8]) -> Vec<u8> {
        self.send(1, begin);
        loop {
            let (_, frame) = self.recv();
            match protocol::decode::<Response<'_>>(&frame).expect("decode").1 {
                Response::Ack { next_offset, .. } => {
                    for (i, chunk) in image[next_offset as usize..].chunks(512).enumerate() {
                        let offset = next_offset + (i * 512) as u32;
                        self.send(
                            0,
                            &Request::Data {
                                offset,
                                bytes: chunk,
                            },
                        );
                    }
                }
                Response::PushDone { .. } | Response::InstallDone { .. } => return frame,
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }
}

pub fn push_begin<'a>(push_id: u32, name: &'a str, image: &[u8]) -> Request<'a> {
    Request::PushBegin {
        push_id,
        name,
        total_len: image.len() as u32,
        crc32: protocol::CRC32.checksum(image),
    }
}
