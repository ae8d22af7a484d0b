//! The words of a [`Cause`], rendered on the host: the device sends only values.

use core::fmt;
use std::borrow::ToOwned;
use std::boxed::Box;
use std::string::{String, ToString};

use llext_loader::Part;
use llext_loader::memory::MemKind;

use super::{Cause, FaultKind, LoadError, RefusalCause};

const MEM_KINDS: [MemKind; 6] = [
    MemKind::Text,
    MemKind::Rodata,
    MemKind::Data,
    MemKind::Bss,
    MemKind::Trampoline,
    MemKind::Metadata,
];
const PARTS: [Part; 6] = [
    Part::SectionHeaders,
    Part::SectionNames,
    Part::Symbols,
    Part::SymbolNames,
    Part::Contents,
    Part::Relocations,
];

/// A string the loader's error keeps as `&'static str`. The host renders an error once per
/// command, so leaking these few bytes is the price of reusing the loader's own words.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

impl<S: AsRef<str>> LoadError<S> {
    /// The loader's error these values describe (its `Display` gives the words); `None` for a
    /// variant this side does not know.
    pub fn to_error(&self) -> Option<llext_loader::Error> {
        use llext_loader::{Error as E, Name};
        let [a, b, c, d] = self.n;
        let s = self.s.as_ref();
        let name = || Name::new(s.as_bytes());
        Some(match self.tag {
            0 => E::Io {
                kind: embedded_io_async::ErrorKind::Other,
                offset: a,
            },
            1 => E::UnexpectedEof { offset: a },
            2 => E::NotForward {
                offset: a,
                position: b,
            },
            3 => E::NotElf,
            4 => E::BigEndian,
            5 => E::NotRelocatable { e_type: a as u16 },
            6 => E::WrongMachine {
                found: a as u16,
                expected: b as u16,
            },
            7 => E::Malformed {
                what: leak(s),
                section: a.checked_sub(1).map(|v| v as u32),
                value: b,
            },
            8 => E::StreamOrder {
                part: *PARTS.get(a as usize)?,
                section: b as u32,
                offset: c,
                position: d,
            },
            9 => E::Limit {
                what: leak(s),
                value: a,
                limit: b,
            },
            10 => E::OutOfMemory {
                kind: *MEM_KINDS.get(a as usize)?,
                size: b as usize,
            },
            11 => E::MissingSymbols {
                count: a as u32,
                first: name(),
            },
            12 => E::NameTooLong {
                symbol: a as u32,
                limit: b as usize,
            },
            13 => E::UnsupportedRelocation {
                r_type: a as u32,
                type_name: leak(s),
                section: b as u32,
                offset: c,
            },
            14 => E::RelocationOverflow {
                type_name: leak(s),
                section: a as u32,
                offset: b,
                value: c as i64,
            },
            15 => E::PcrelLoUnpaired {
                section: a as u32,
                offset: b,
            },
            16 => E::SymbolNotLoaded {
                symbol: a as u32,
                section: b as u32,
                offset: c,
            },
            17 => E::RegistryFull,
            18 => E::NotLoaded,
            19 => E::AlreadyLoaded,
            20 => E::InUse { by: name() },
            21 => E::Protect {
                kind: *MEM_KINDS.get(a as usize)?,
            },
            22 => E::Relink {
                linked: a as u32,
                firmware: b as u32,
            },
            _ => return None,
        })
    }
}

impl<S: AsRef<str>> fmt::Display for LoadError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_error() {
            Some(e) => e.fmt(f),
            None => write!(f, "loader error {} (update host-push)", self.tag),
        }
    }
}

impl RefusalCause {
    /// The signature policy's refusal these values describe.
    pub fn to_refusal(self) -> llext_sign::Refusal {
        use llext_sign::Refusal as R;
        match self {
            Self::BadSignature => R::BadSignature,
            Self::Unsigned => R::Unsigned,
            Self::UnknownKey(id) => R::UnknownKey(llext_sign::KeyId(id)),
            Self::Rollback { version, installed } => R::Rollback { version, installed },
            Self::NoVerifier => R::NoVerifier,
        }
    }
}

impl<S: AsRef<str>> Cause<S> {
    /// The same cause with owned strings, to keep once the frame it came in is gone.
    pub fn to_owned(&self) -> Cause<String> {
        let w = self.words();
        let owned = super::Words {
            tag: w.tag,
            n: w.n,
            s: w.s.map(crate::client::device_text),
            fault: w.fault,
        };
        Cause::from_words(owned).expect("words made from a cause describe it")
    }
}

const PUSH_AGAIN: &str = "the device dropped it";
const INSTALL_AGAIN: &str = "install again to resume";

impl<S: AsRef<str>> fmt::Display for Cause<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Undecodable { version } => write!(
                f,
                "the device could not decode a request (it speaks protocol version {version})"
            ),
            Cause::NoSuchExtension => f.write_str("no such extension"),
            Cause::NotLoaded { name } => write!(
                f,
                "no extension named `{}` is loaded (status lists them)",
                name.as_ref()
            ),
            Cause::SymbolTooLong { max } => write!(f, "symbol name longer than {max} bytes"),
            Cause::FaultedBefore { ext } => write!(
                f,
                "`{}` faulted in an earlier call: unload it or push it again",
                ext.as_ref()
            ),
            Cause::NotExported { ext, symbol } => write!(
                f,
                "extension `{}` does not export `{}`",
                ext.as_ref(),
                symbol.as_ref()
            ),
            Cause::NotCode {
                ext,
                symbol,
                addr,
                region,
            } => write!(
                f,
                "`{}` of `{}` is {}; the device calls only functions",
                symbol.as_ref(),
                ext.as_ref(),
                not_code(*addr, *region)
            ),
            Cause::EntriesNotCode { ext, addr, region } => write!(
                f,
                "a constructor or destructor of `{}` is {}: not loaded",
                ext.as_ref(),
                not_code(*addr, *region)
            ),
            Cause::InUse { ext, by } => write!(
                f,
                "`{}` is used by `{}`: unload that one first",
                ext.as_ref(),
                by.as_ref()
            ),
            Cause::Unload { ext, error } => write!(f, "unloading `{}`: {error}", ext.as_ref()),
            Cause::ConstructorFaulted { ext, fault } if fault.kind == FaultKind::Panic => write!(
                f,
                "a constructor of `{}` panicked (line {}) at pc {:#x} ({}): not loaded",
                ext.as_ref(),
                fault.status,
                fault.pc,
                Place(fault),
            ),
            Cause::ConstructorFaulted { ext, fault } => write!(
                f,
                "a constructor of `{}` faulted ({}, status {:#x}) at pc {:#x} ({}), lr {:#x}: not loaded",
                ext.as_ref(),
                fault.kind.name(),
                fault.status,
                fault.pc,
                Place(fault),
                fault.lr
            ),
            Cause::BadName { max } => write!(f, "extension names are 1 to {max} bytes"),
            Cause::EmptyInstall => f.write_str("an empty file cannot be installed"),
            Cause::TooLarge { len, max } => write!(
                f,
                "a push of {len} bytes: the device accepts 1 to {max} bytes"
            ),
            Cause::AlreadyLoaded { name } => write!(
                f,
                "an extension named `{}` is already loaded: unload it first",
                name.as_ref()
            ),
            Cause::MissingSymbols { count, names } => write!(
                f,
                "{count} undefined symbol(s) not exported by the device or a loaded extension: {}",
                names.as_ref()
            ),
            Cause::Load(e) => e.fmt(f),
            Cause::Stalled {
                install,
                timeout_ms,
                at,
                total,
            } => write!(
                f,
                "{} stalled: no data for {timeout_ms} ms at byte {at} of {total}; {}",
                verb(*install),
                if *install { INSTALL_AGAIN } else { PUSH_AGAIN }
            ),
            Cause::Interrupted { install, at, total } => {
                write!(
                    f,
                    "{} interrupted by another request at byte {at} of {total}",
                    verb(*install)
                )?;
                if *install {
                    write!(f, "; {INSTALL_AGAIN}")?;
                }
                Ok(())
            }
            Cause::LinkFailed => f.write_str("link failed"),
            Cause::ChecksumMismatch => {
                f.write_str("the file received does not match its CRC-32: push it again")
            }
            Cause::SignedVersion { name, signed, sent } => write!(
                f,
                "`{}` is signed as version {signed} but was sent as version {}: install it as version {signed}",
                name.as_ref(),
                sent.map_or("none".to_owned(), |v| v.to_string())
            ),
            Cause::Refused(r) => r.to_refusal().fmt(f),
            Cause::NoStorage => {
                f.write_str("this device keeps no extensions in flash: push them instead")
            }
            Cause::Store { message } => f.write_str(message.as_ref()),
            Cause::TimeLimitTooLong { asked_ms, max_ms } => write!(
                f,
                "a time limit of {asked_ms} ms is longer than this device allows ({max_ms} ms)"
            ),
            Cause::NoXip => f.write_str(
                "this device cannot execute extensions in place (no memory-mapped flash): install without --xip",
            ),
        }
    }
}

fn verb(install: bool) -> &'static str {
    if install { "install" } else { "push" }
}

/// The words of `llext_loader::extension::EntryError::NotCode`.
fn not_code(addr: u64, region: Option<super::RegionKind>) -> llext_loader::extension::EntryError {
    use super::RegionKind as R;
    llext_loader::extension::EntryError::NotCode {
        addr,
        region: region.map(|r| match r {
            R::Text => MemKind::Text,
            R::Rodata => MemKind::Rodata,
            R::Data => MemKind::Data,
            R::Bss => MemKind::Bss,
            R::Trampoline => MemKind::Trampoline,
        }),
    }
}

/// Where a fault's pc is: `text+0x10`, or outside the extension's code.
struct Place<'a>(&'a super::FaultReport);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.region {
            Some(r) => write!(f, "{}+{:#x}", r.name(), self.0.offset),
            None => f.write_str("outside the extension's code"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::string::ToString;

    use llext_loader::memory::MemKind;
    use llext_loader::{Error, Name, Part};

    use super::super::{Cause, ErrorReply, LoadError, decode, encode};

    /// Every loader error crosses the link as values and reads, on the host, exactly as the
    /// loader words it.
    #[test]
    fn loader_errors_read_the_same_after_the_link() {
        for e in every_loader_error() {
            let sent = ErrorReply {
                code: crate::protocol::ErrorCode::from_load_error(&e),
                cause: Cause::<std::string::String>::Load(LoadError::from(&e)),
            };
            let (mut raw, mut frame) = ([0u8; 320], [0u8; 400]);
            let n = encode(5, &sent, &mut raw, &mut frame).unwrap();
            let mut dec = crate::protocol::FrameDecoder::<400>::new();
            assert!(dec.feed(&frame[..n]).1);
            let (_, got): (u16, ErrorReply<&str>) = decode(dec.frame()).unwrap();
            assert_eq!(got.code, sent.code);
            assert_eq!(got.cause.to_owned(), sent.cause);
            assert_eq!(got.cause.to_string(), e.to_string());
            assert_eq!(got.cause.to_owned().to_string(), e.to_string());
        }
    }

    /// Every loader error variant, with numbers unlike its neighbours'.
    fn every_loader_error() -> std::vec::Vec<Error> {
        use embedded_io_async::ErrorKind;
        std::vec![
            Error::Io {
                kind: ErrorKind::Other,
                offset: 11
            },
            Error::UnexpectedEof { offset: 12 },
            Error::NotForward {
                offset: 13,
                position: 14
            },
            Error::NotElf,
            Error::BigEndian,
            Error::NotRelocatable { e_type: 2 },
            Error::WrongMachine {
                found: 40,
                expected: 62
            },
            Error::Malformed {
                what: "symbol section index",
                section: Some(3),
                value: 0xfff1
            },
            Error::Malformed {
                what: "section size",
                section: None,
                value: 7
            },
            Error::StreamOrder {
                part: Part::SymbolNames,
                section: 7,
                offset: 4096,
                position: 8000
            },
            Error::Limit {
                what: "symbols",
                value: 9000,
                limit: 4096
            },
            Error::OutOfMemory {
                kind: MemKind::Bss,
                size: 15 << 20
            },
            Error::MissingSymbols {
                count: 3,
                first: Name::new(b"printk")
            },
            Error::NameTooLong {
                symbol: 5,
                limit: 128
            },
            Error::UnsupportedRelocation {
                r_type: 99,
                type_name: "R_ARM_TLS_LE32",
                section: 2,
                offset: 0x40,
            },
            Error::RelocationOverflow {
                type_name: "R_ARM_THM_CALL",
                section: 4,
                offset: 0x44,
                value: -1 << 40,
            },
            Error::PcrelLoUnpaired {
                section: 6,
                offset: 0x48
            },
            Error::SymbolNotLoaded {
                symbol: 17,
                section: 8,
                offset: 0x4c
            },
            Error::RegistryFull,
            Error::NotLoaded,
            Error::AlreadyLoaded,
            Error::InUse {
                by: Name::new(b"user")
            },
            Error::Protect {
                kind: MemKind::Text
            },
            Error::Relink {
                linked: 0x1234,
                firmware: 0x5678
            },
        ]
    }

    /// Every cause the device can send, each variant once (and each refusal).
    fn every_cause() -> std::vec::Vec<Cause<&'static str>> {
        use super::super::{FaultKind, FaultReport, RefusalCause, RegionKind};
        let fault = FaultReport {
            kind: FaultKind::BusFault,
            status: 0x8200,
            pc: 0x2000_0010,
            lr: 0x2000_0021,
            sp: 0x2000_7f00,
            addr: Some(0xdead_beef),
            region: Some(RegionKind::Text),
            offset: 0x10,
        };
        let unloading = LoadError {
            tag: 21,
            n: [0; 4],
            s: "user",
        };
        std::vec![
            Cause::Undecodable { version: 2 },
            Cause::NoSuchExtension,
            Cause::NotLoaded { name: "gone" },
            Cause::SymbolTooLong { max: 128 },
            Cause::FaultedBefore { ext: "crashy" },
            Cause::NotExported {
                ext: "ext",
                symbol: "sym"
            },
            Cause::NotCode {
                ext: "ext",
                symbol: "table",
                addr: 0x100,
                region: Some(RegionKind::Data)
            },
            Cause::NotCode {
                ext: "ext",
                symbol: "far",
                addr: 0x200,
                region: None
            },
            Cause::EntriesNotCode {
                ext: "ext",
                addr: 0x300,
                region: Some(RegionKind::Rodata)
            },
            Cause::InUse {
                ext: "base",
                by: "user"
            },
            Cause::Unload {
                ext: "base",
                error: unloading
            },
            Cause::ConstructorFaulted { ext: "ctor", fault },
            Cause::BadName { max: 31 },
            Cause::EmptyInstall,
            Cause::TooLarge {
                len: 1 << 20,
                max: 1 << 17
            },
            Cause::AlreadyLoaded { name: "twice" },
            Cause::MissingSymbols {
                count: 2,
                names: "a, b"
            },
            Cause::Load(LoadError {
                tag: 3,
                n: [0; 4],
                s: ""
            }),
            Cause::Stalled {
                install: true,
                timeout_ms: 5000,
                at: 10,
                total: 20
            },
            Cause::Interrupted {
                install: false,
                at: 30,
                total: 40
            },
            Cause::LinkFailed,
            Cause::ChecksumMismatch,
            Cause::SignedVersion {
                name: "v",
                signed: 3,
                sent: Some(2)
            },
            Cause::SignedVersion {
                name: "v",
                signed: 3,
                sent: None
            },
            Cause::Refused(RefusalCause::BadSignature),
            Cause::Refused(RefusalCause::Unsigned),
            Cause::Refused(RefusalCause::UnknownKey([1, 2, 3, 4, 5, 6, 7, 8])),
            Cause::Refused(RefusalCause::Rollback {
                version: 1,
                installed: 2
            }),
            Cause::Refused(RefusalCause::NoVerifier),
            Cause::NoStorage,
            Cause::Store {
                message: "flash write failed at 0x1000"
            },
            Cause::TimeLimitTooLong {
                asked_ms: 90_000,
                max_ms: 60_000
            },
            Cause::NoXip,
        ]
    }

    /// Each cause crosses the link whole (every number and string) and reads as its own text.
    #[test]
    fn every_cause_crosses_the_link_and_reads_distinctly() {
        let mut seen = std::collections::BTreeSet::new();
        for cause in every_cause() {
            let sent = ErrorReply {
                code: cause.code(),
                cause,
            };
            let (mut raw, mut frame) = ([0u8; 320], [0u8; 400]);
            let n = encode(9, &sent, &mut raw, &mut frame).unwrap();
            let mut dec = crate::protocol::FrameDecoder::<400>::new();
            assert!(dec.feed(&frame[..n]).1);
            let (_, got): (u16, ErrorReply<&str>) = decode(dec.frame()).unwrap();
            assert_eq!(got, sent, "{cause:?}");
            let text = got.cause.to_string();
            assert!(
                !text.is_empty() && !text.contains("update host-push"),
                "{cause:?}: {text}"
            );
            assert!(seen.insert(text.clone()), "two causes read `{text}`");
        }
    }
}
