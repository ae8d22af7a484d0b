//! `Sections`: where each section of a loaded extension was placed.

use std::string::String;
use std::time::Instant;
use std::vec::Vec;

use serde::Serialize;

use super::{Client, ClientError, device_error};
use crate::protocol::{Request, Response, decode};

/// One placed section of a loaded extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlacedSection {
    /// Its section index in the file the device received (the packed file).
    pub index: u32,
    /// `text`, `rodata`, `data` or `bss`.
    pub region: String,
    /// Run-time address.
    pub addr: u64,
    /// Size in bytes.
    pub size: u32,
    /// Relocation entries the loader applied to it.
    pub relocations: u32,
}

/// Where the sections of a loaded extension went, and which file they index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sections {
    /// The sections the device kept, in placing order.
    pub sections: Vec<PlacedSection>,
    /// Placed sections the device did not keep.
    pub dropped: u16,
    /// Bytes of the pushed file (0: the device does not know it, e.g. loaded at boot).
    pub total_len: u32,
    /// CRC-32 of the pushed file.
    pub crc32: u32,
    /// Veneers and GOT entries the loader made.
    pub trampolines: u32,
}

impl Client {
    /// Where each section of loaded extension `name` was placed.
    pub fn sections(&mut self, name: &str) -> Result<Sections, ClientError> {
        self.ensure_hello()?;
        let started = Instant::now();
        for _ in 0..3 {
            let seq = self.send(&Request::Sections { name })?;
            let deadline = Instant::now() + self.timeouts.answer;
            let mut got: Vec<Option<PlacedSection>> = Vec::new();
            while self.wait_frame(Some(deadline))? {
                match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((s, Response::Error(e))) if s == seq => return Err(device_error(&e)),
                    Ok((s, Response::Section(i))) if s == seq => {
                        let at = i.index as usize;
                        if got.len() <= at {
                            got.resize(at + 1, None);
                        }
                        got[at] = Some(PlacedSection {
                            index: i.section,
                            region: i.kind.name().into(),
                            addr: i.addr,
                            size: i.size,
                            relocations: i.relocations,
                        });
                    }
                    Ok((s, Response::SectionsEnd(end))) if s == seq => {
                        // A damaged frame lost a section: ask again.
                        if got.len() != end.sections as usize || got.iter().any(Option::is_none) {
                            break;
                        }
                        return Ok(Sections {
                            sections: got.into_iter().flatten().collect(),
                            dropped: end.dropped,
                            total_len: end.total_len,
                            crc32: end.crc32,
                            trampolines: end.trampolines,
                        });
                    }
                    _ => {}
                }
            }
        }
        Err(self.timeout("sections", started))
    }
}
