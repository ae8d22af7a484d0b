//! The catalog's records and their byte format (see `docs/STORAGE.md`).
//!
//! Keys are one byte: `0` is the install in progress, `1..=N` the catalog entries. Each value
//! starts with a tag byte: `0` removed, `1` an entry, `2` an install record. Integers are
//! little-endian; a name is its length byte and its bytes.

use sequential_storage::map::{SerializationError, Value};

use crate::name::ExtName;

/// Most dependencies an entry records.
pub const MAX_DEPS: usize = 4;

/// Catalog key of the install in progress.
pub(crate) const INSTALL_KEY: u8 = 0;

const TAG_REMOVED: u8 = 0;
const TAG_ENTRY: u8 = 1;
const TAG_INSTALL: u8 = 2;
const FLAG_BOOT: u8 = 1;
/// Set in an image's state byte when an [`InPlace`] record follows.
const XIP_BIT: u8 = 0x80;

/// Where an installed image is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Installed, not yet tried: the next boot loads it on trial.
    Pending,
    /// A boot is trying it. Found at the next boot, it means that boot never finished (a crash
    /// or reset in its load or bringup), and the image is rolled back.
    Trying,
    /// Loaded and brought up at a boot, or confirmed explicitly.
    Confirmed,
    /// Failed on trial and had no previous version to go back to; not loaded at boot.
    Failed,
}

impl State {
    fn code(self) -> u8 {
        match self {
            State::Pending => 0,
            State::Trying => 1,
            State::Confirmed => 2,
            State::Failed => 3,
        }
    }

    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => State::Pending,
            1 => State::Trying,
            2 => State::Confirmed,
            3 => State::Failed,
            _ => return None,
        })
    }

    /// A short lower-case name (`pending`, `trying`, `confirmed`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Trying => "trying",
            State::Confirmed => "confirmed",
            State::Failed => "failed",
        }
    }
}

/// Where an execute-in-place image keeps its data and bss, and what it was linked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    /// First byte of its data and bss in the firmware's reserved RAM area.
    pub ram: u64,
    /// Bytes from there (data, bss and the padding between them).
    pub ram_len: u32,
    /// The firmware exports table id it was linked against.
    pub table_id: u32,
    /// Length of the file it was linked from.
    pub file_len: u32,
    /// CRC-32 of that file (what the install announced).
    pub file_crc: u32,
    /// CRC-32 of what a load reads (the image's header, `.data`'s initial values and the export
    /// index), checked at boot when the code is not ([`crate::XipConfig::verify_code_at_boot`]).
    pub boot_crc: u32,
}

/// One stored version of an extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    /// The slot holding it.
    pub slot: u16,
    /// Its length in bytes.
    pub len: u32,
    /// CRC-32 (ISO-HDLC, as zlib) of its bytes.
    pub crc: u32,
    /// Its version number (counts up from 1 per extension unless the installer chose one).
    pub version: u32,
    /// Its state.
    pub state: State,
    /// `Some` for an execute-in-place image (the slot holds the linked image, not the file).
    pub xip: Option<InPlace>,
}

/// Names of the extensions an extension needs loaded first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deps {
    n: u8,
    names: [ExtName; MAX_DEPS],
}

impl Default for Deps {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl Deps {
    /// No dependencies.
    pub const EMPTY: Deps = Deps {
        n: 0,
        names: [ExtName::PLACEHOLDER; MAX_DEPS],
    };

    /// The names, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &ExtName> {
        self.names[..self.n as usize].iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Whether `name` is one of them.
    pub fn contains(&self, name: &ExtName) -> bool {
        self.iter().any(|d| d == name)
    }

    /// Adds `name` unless present; false if full.
    pub fn push(&mut self, name: ExtName) -> bool {
        if self.contains(&name) {
            return true;
        }
        if self.len() == MAX_DEPS {
            return false;
        }
        self.names[self.len()] = name;
        self.n += 1;
        true
    }
}

/// What the catalog knows about one extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name.
    pub name: ExtName,
    /// Whether [`crate::Storage::boot`] loads it.
    pub boot: bool,
    /// Extensions it needs loaded first.
    pub deps: Deps,
    /// The version in use.
    pub active: Image,
    /// The version before it, kept to roll back to: always while `active` is on trial, and after
    /// it is confirmed until its slot is needed for another install.
    pub previous: Option<Image>,
}

/// The install in progress: which slot it goes to, and how far flash got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InstallRecord {
    pub name: ExtName,
    pub slot: u16,
    pub len: u32,
    pub crc: u32,
    /// Bytes at the start of the slot known written (a whole number of erase pages).
    pub written: u32,
    /// CRC-32 of those bytes.
    pub prefix_crc: u32,
}

/// A catalog value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Entries dominate the catalog; boxing is not available without an allocator.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Record {
    Removed,
    Entry(Entry),
    Install(InstallRecord),
}

struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

// `#[inline(never)]` on the field helpers called from many places: each of which carried an
// inlined copy (measured, docs/PERFORMANCE.md).
impl Writer<'_> {
    #[inline(never)]
    fn bytes(&mut self, b: &[u8]) -> Result<(), SerializationError> {
        let dst = self
            .buf
            .get_mut(self.pos..self.pos + b.len())
            .ok_or(SerializationError::BufferTooSmall)?;
        dst.copy_from_slice(b);
        self.pos += b.len();
        Ok(())
    }
    fn u8(&mut self, v: u8) -> Result<(), SerializationError> {
        self.bytes(&[v])
    }
    fn u16(&mut self, v: u16) -> Result<(), SerializationError> {
        self.bytes(&v.to_le_bytes())
    }
    #[inline(never)]
    fn u32(&mut self, v: u32) -> Result<(), SerializationError> {
        self.bytes(&v.to_le_bytes())
    }
    fn name(&mut self, n: &ExtName) -> Result<(), SerializationError> {
        self.u8(n.as_bytes().len() as u8)?;
        self.bytes(n.as_bytes())
    }
    fn image(&mut self, i: &Image) -> Result<(), SerializationError> {
        self.u16(i.slot)?;
        self.u32(i.len)?;
        self.u32(i.crc)?;
        self.u32(i.version)?;
        match &i.xip {
            None => self.u8(i.state.code()),
            Some(x) => {
                self.u8(i.state.code() | XIP_BIT)?;
                self.bytes(&x.ram.to_le_bytes())?;
                self.u32(x.ram_len)?;
                self.u32(x.table_id)?;
                self.u32(x.file_len)?;
                self.u32(x.file_crc)?;
                self.u32(x.boot_crc)
            }
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

// `#[inline(never)]` on the field helpers called from many places: each of which carried an
// inlined copy (measured, docs/PERFORMANCE.md).
impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], SerializationError> {
        let b = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or(SerializationError::BufferTooSmall)?;
        self.pos += n;
        Ok(b)
    }
    fn u8(&mut self) -> Result<u8, SerializationError> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SerializationError> {
        Ok(u16::from_le_bytes(
            self.bytes(2)?.try_into().unwrap_or([0; 2]),
        ))
    }
    #[inline(never)]
    fn u32(&mut self) -> Result<u32, SerializationError> {
        Ok(u32::from_le_bytes(
            self.bytes(4)?.try_into().unwrap_or([0; 4]),
        ))
    }
    fn name(&mut self) -> Result<ExtName, SerializationError> {
        let n = self.u8()? as usize;
        ExtName::from_bytes(self.bytes(n)?).ok_or(SerializationError::InvalidData)
    }
    fn image(&mut self) -> Result<Image, SerializationError> {
        let (slot, len, crc, version) = (self.u16()?, self.u32()?, self.u32()?, self.u32()?);
        let code = self.u8()?;
        let xip = if code & XIP_BIT != 0 {
            let lo = u64::from(self.u32()?);
            let ram = lo | (u64::from(self.u32()?) << 32);
            Some(InPlace {
                ram,
                ram_len: self.u32()?,
                table_id: self.u32()?,
                file_len: self.u32()?,
                file_crc: self.u32()?,
                boot_crc: self.u32()?,
            })
        } else {
            None
        };
        Ok(Image {
            slot,
            len,
            crc,
            version,
            state: State::from_code(code & !XIP_BIT).ok_or(SerializationError::InvalidData)?,
            xip,
        })
    }
}

impl<'a> Value<'a> for Record {
    fn serialize_into(&self, buffer: &mut [u8]) -> Result<usize, SerializationError> {
        let mut w = Writer {
            buf: buffer,
            pos: 0,
        };
        match self {
            Record::Removed => w.u8(TAG_REMOVED)?,
            Record::Entry(e) => {
                w.u8(TAG_ENTRY)?;
                w.name(&e.name)?;
                w.u8(if e.boot { FLAG_BOOT } else { 0 })?;
                w.u8(e.deps.n)?;
                for d in e.deps.iter() {
                    w.name(d)?;
                }
                w.image(&e.active)?;
                match &e.previous {
                    None => w.u8(0)?,
                    Some(p) => {
                        w.u8(1)?;
                        w.image(p)?;
                    }
                }
            }
            Record::Install(i) => {
                w.u8(TAG_INSTALL)?;
                w.name(&i.name)?;
                w.u16(i.slot)?;
                w.u32(i.len)?;
                w.u32(i.crc)?;
                w.u32(i.written)?;
                w.u32(i.prefix_crc)?;
            }
        }
        Ok(w.pos)
    }

    fn deserialize_from(buffer: &'a [u8]) -> Result<(Self, usize), SerializationError> {
        let mut r = Reader {
            buf: buffer,
            pos: 0,
        };
        let rec = match r.u8()? {
            TAG_REMOVED => Record::Removed,
            TAG_ENTRY => {
                let name = r.name()?;
                let boot = r.u8()? & FLAG_BOOT != 0;
                let n = r.u8()?;
                if n as usize > MAX_DEPS {
                    return Err(SerializationError::InvalidData);
                }
                let mut deps = Deps::EMPTY;
                for _ in 0..n {
                    deps.push(r.name()?);
                }
                let active = r.image()?;
                let previous = match r.u8()? {
                    0 => None,
                    _ => Some(r.image()?),
                };
                Record::Entry(Entry {
                    name,
                    boot,
                    deps,
                    active,
                    previous,
                })
            }
            TAG_INSTALL => Record::Install(InstallRecord {
                name: r.name()?,
                slot: r.u16()?,
                len: r.u32()?,
                crc: r.u32()?,
                written: r.u32()?,
                prefix_crc: r.u32()?,
            }),
            _ => return Err(SerializationError::InvalidData),
        };
        Ok((rec, r.pos))
    }
}

/// Bytes the largest record takes (the catalog's scratch buffer must hold it plus the key).
pub(crate) const MAX_RECORD: usize = 1 + 33 + 1 + 1 + MAX_DEPS * 33 + IMAGE_BYTES + 1 + IMAGE_BYTES;
const IMAGE_BYTES: usize = 2 + 4 + 4 + 4 + 1 + 28;

#[cfg(test)]
mod tests {
    use super::*;

    fn image(slot: u16, state: State) -> Image {
        Image {
            slot,
            len: 1234,
            crc: 0xdead_beef,
            version: 7,
            state,
            xip: (slot == 3).then_some(InPlace {
                ram: 0x8000_1000_0000,
                ram_len: 4096,
                table_id: 0x1234_5678,
                file_len: 999,
                file_crc: 0xabcd,
                boot_crc: 0x1234,
            }),
        }
    }

    #[test]
    fn records_round_trip() {
        let mut deps = Deps::EMPTY;
        for n in ["a", "bb", "ccc", "dddd"] {
            assert!(deps.push(ExtName::new(n).unwrap()));
        }
        assert!(!deps.push(ExtName::new("e").unwrap()));
        let long = ExtName::new(core::str::from_utf8(&[b'x'; 32]).unwrap()).unwrap();
        let records = [
            Record::Removed,
            Record::Entry(Entry {
                name: long,
                boot: true,
                deps,
                active: image(3, State::Trying),
                previous: Some(image(1, State::Confirmed)),
            }),
            Record::Entry(Entry {
                name: ExtName::new("x").unwrap(),
                boot: false,
                deps: Deps::EMPTY,
                active: image(0, State::Failed),
                previous: None,
            }),
            Record::Install(InstallRecord {
                name: long,
                slot: 9,
                len: 99,
                crc: 5,
                written: 4096,
                prefix_crc: 6,
            }),
        ];
        let mut buf = [0u8; MAX_RECORD];
        for rec in records {
            let n = rec.serialize_into(&mut buf).unwrap();
            assert!(n <= MAX_RECORD);
            let (back, used) = Record::deserialize_from(&buf[..n]).unwrap();
            assert_eq!((back, used), (rec, n));
            assert!(rec.serialize_into(&mut buf[..n - 1]).is_err());
        }
    }

    #[test]
    fn rejects_unknown_tags_and_states() {
        assert!(Record::deserialize_from(&[9]).is_err());
        let mut buf = [0u8; MAX_RECORD];
        let rec = Record::Entry(Entry {
            name: ExtName::new("x").unwrap(),
            boot: false,
            deps: Deps::EMPTY,
            active: image(0, State::Pending),
            previous: None,
        });
        let n = rec.serialize_into(&mut buf).unwrap();
        buf[n - 2] = 77; // the active image's state
        assert!(Record::deserialize_from(&buf[..n]).is_err());
    }
}
