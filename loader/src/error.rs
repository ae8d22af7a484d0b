//! Everything that can go wrong while loading, linking or unloading, each saying what and where.

use core::fmt;

use embedded_io_async::ErrorKind;

use crate::memory::MemKind;
use crate::name::Name;

/// A part of the ELF file that a forward-only source needs in a particular order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The section header table.
    SectionHeaders,
    /// The section name string table.
    SectionNames,
    /// The symbol table.
    Symbols,
    /// The symbol string table.
    SymbolNames,
    /// The contents of a loaded section.
    Contents,
    /// A relocation section.
    Relocations,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::SectionHeaders => "the section header table",
            Part::SectionNames => "the section name table (.shstrtab)",
            Part::Symbols => "the symbol table (.symtab)",
            Part::SymbolNames => "the symbol name table (.strtab)",
            Part::Contents => "the contents of",
            Part::Relocations => "the relocation section",
        })
    }
}

/// Why a load failed. Every variant leaves the device as it was: all memory is back in the pool.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The source failed.
    Io {
        /// What the source reported.
        kind: ErrorKind,
        /// File offset of the read.
        offset: u64,
    },
    /// The file ended before `offset`.
    UnexpectedEof {
        /// Where more bytes were expected.
        offset: u64,
    },
    /// A forward-only source was asked to go back.
    NotForward {
        /// Offset asked for.
        offset: u64,
        /// Where the stream is.
        position: u64,
    },
    /// Not an ELF file (bad magic, class or version).
    NotElf,
    /// A big-endian ELF: only little-endian extensions load.
    BigEndian,
    /// Not a relocatable object (`ET_REL`): an executable or shared library was given.
    NotRelocatable {
        /// The file's `e_type`.
        e_type: u16,
    },
    /// The file is for an architecture this loader was not asked to load.
    WrongMachine {
        /// The file's `e_machine`.
        found: u16,
        /// What the loader expected.
        expected: u16,
    },
    /// A field is out of range or inconsistent.
    Malformed {
        /// Which field or rule.
        what: &'static str,
        /// The section concerned, if any.
        section: Option<u32>,
        /// The bad value.
        value: u64,
    },
    /// A part arrived after the point where a forward-only source needed it.
    StreamOrder {
        /// What came too late.
        part: Part,
        /// Its section index (0 for the section header table).
        section: u32,
        /// Where it starts in the file.
        offset: u64,
        /// Where the stream already was.
        position: u64,
    },
    /// A configurable limit was exceeded.
    Limit {
        /// Which limit.
        what: &'static str,
        /// The value found.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// The memory provider could not supply a block.
    OutOfMemory {
        /// The kind of memory asked for.
        kind: MemKind,
        /// Bytes asked for.
        size: usize,
    },
    /// Undefined symbols that neither the firmware nor a loaded extension exports.
    MissingSymbols {
        /// How many are missing; every name went to the load's `report` callback.
        count: u32,
        /// The first of them.
        first: Name,
    },
    /// A symbol name is longer than the configured maximum.
    NameTooLong {
        /// Symbol index.
        symbol: u32,
        /// The limit.
        limit: usize,
    },
    /// A relocation type the back-end does not implement.
    UnsupportedRelocation {
        /// The relocation type number.
        r_type: u32,
        /// Its name, when known.
        type_name: &'static str,
        /// Section patched.
        section: u32,
        /// Offset within that section.
        offset: u64,
    },
    /// A relocated value does not fit its field.
    RelocationOverflow {
        /// The relocation type name.
        type_name: &'static str,
        /// Section patched.
        section: u32,
        /// Offset within that section.
        offset: u64,
        /// The value that did not fit.
        value: i64,
    },
    /// A RISC-V `R_RISCV_PCREL_LO12_I`/`_S` whose `R_RISCV_PCREL_HI20` was not among the recent
    /// ones of its relocation section (the loader keeps a few, to stay allocation-free).
    PcrelLoUnpaired {
        /// Section patched.
        section: u32,
        /// Offset of the `PCREL_LO12` within that section.
        offset: u64,
    },
    /// A relocation refers to a symbol in a section that is not loaded.
    SymbolNotLoaded {
        /// Symbol index.
        symbol: u32,
        /// Section patched.
        section: u32,
        /// Offset within that section.
        offset: u64,
    },
    /// The registry has no free slot.
    RegistryFull,
    /// No loaded extension has that name.
    NotLoaded,
    /// An extension of that name is already loaded.
    AlreadyLoaded,
    /// Another loaded extension depends on this one.
    InUse {
        /// A dependent extension.
        by: Name,
    },
    /// The memory provider could not finish a region (make text executable).
    Protect {
        /// The kind of region.
        kind: MemKind,
    },
    /// An execute-in-place image was linked against another firmware's exports: its addresses
    /// are stale, it must be installed again.
    Relink {
        /// The exports table id it was linked against.
        linked: u32,
        /// This firmware's exports table id.
        firmware: u32,
    },
}

const PACK_HINT: &str = "stream the file in stream order: run `host-push pack` on it first (host-push does this when it pushes)";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { kind, offset } => write!(f, "read failed at offset {offset}: {kind:?}"),
            Error::UnexpectedEof { offset } => {
                write!(
                    f,
                    "file ends early: expected more bytes at offset {offset} (truncated or cut link?)"
                )
            }
            Error::NotForward { offset, position } => write!(
                f,
                "a forward-only source cannot go back to offset {offset} (already at {position}); {PACK_HINT}"
            ),
            Error::NotElf => f.write_str("not an ELF file (bad magic, class or version)"),
            Error::BigEndian => {
                f.write_str("big-endian ELF: only little-endian extensions are supported")
            }
            Error::NotRelocatable { e_type } => write!(
                f,
                "ELF type {e_type} is not a relocatable object (ET_REL): build the extension with `-c` (or `ld -r`), not as an executable or shared library"
            ),
            Error::WrongMachine { found, expected } => write!(
                f,
                "extension is for machine {found} but this loader runs machine {expected}: rebuild for the device's architecture"
            ),
            Error::Malformed {
                what,
                section: Some(s),
                value,
            } => {
                write!(f, "malformed ELF: {what} (section {s}, value {value:#x})")
            }
            Error::Malformed {
                what,
                section: None,
                value,
            } => {
                write!(f, "malformed ELF: {what} (value {value:#x})")
            }
            Error::StreamOrder {
                part,
                section,
                offset,
                position,
            } => {
                if *section == 0 {
                    write!(
                        f,
                        "not in stream order: {part} at offset {offset} comes after offset {position}, where it was needed; {PACK_HINT}"
                    )
                } else {
                    write!(
                        f,
                        "not in stream order: {part} section {section} at offset {offset} comes too late (the stream is at {position}); {PACK_HINT}"
                    )
                }
            }
            Error::Limit { what, value, limit } => {
                write!(f, "limit exceeded: {what} is {value}, the limit is {limit}")
            }
            Error::OutOfMemory { kind, size } => write!(
                f,
                "out of memory: {size} bytes of {} memory not available; unload an extension or enlarge the pool",
                kind.name()
            ),
            Error::MissingSymbols { count, first } => {
                write!(
                    f,
                    "{count} undefined symbol(s) not exported by the firmware or a loaded extension: {first}"
                )?;
                if *count > 1 {
                    write!(f, " and {} more (each one was reported)", count - 1)?;
                }
                Ok(())
            }
            Error::NameTooLong { symbol, limit } => {
                write!(
                    f,
                    "symbol {symbol} has a name longer than {limit} bytes (the loader's MAX_NAME)"
                )
            }
            Error::UnsupportedRelocation {
                r_type,
                type_name,
                section,
                offset,
            } => write!(
                f,
                "unsupported relocation {type_name} (type {r_type}) in section {section} at offset {offset:#x}"
            ),
            Error::RelocationOverflow {
                type_name,
                section,
                offset,
                value,
            } => write!(
                f,
                "relocation {type_name} in section {section} at offset {offset:#x}: value {value:#x} does not fit"
            ),
            Error::PcrelLoUnpaired { section, offset } => write!(
                f,
                "R_RISCV_PCREL_LO12 in section {section} at offset {offset:#x} is too far from its R_RISCV_PCREL_HI20 in relocation order; {PACK_HINT}"
            ),
            Error::SymbolNotLoaded {
                symbol,
                section,
                offset,
            } => write!(
                f,
                "relocation in section {section} at offset {offset:#x} refers to symbol {symbol}, whose section is not loaded"
            ),
            Error::RegistryFull => f.write_str("no free extension slot: unload an extension first"),
            Error::NotLoaded => f.write_str("no extension of that name is loaded"),
            Error::AlreadyLoaded => {
                f.write_str("an extension of that name is already loaded: unload it first")
            }
            Error::InUse { by } => {
                write!(f, "extension is in use by `{by}`: unload that one first")
            }
            Error::Protect { kind } => {
                write!(
                    f,
                    "could not set the protection of the {} region",
                    kind.name()
                )
            }
            Error::Relink { linked, firmware } => write!(
                f,
                "linked in place for exports {linked:08x}, firmware has {firmware:08x}: install it again"
            ),
        }
    }
}

impl core::error::Error for Error {}

impl Error {
    pub(crate) fn malformed(what: &'static str, section: Option<u32>, value: u64) -> Self {
        Error::Malformed {
            what,
            section,
            value,
        }
    }
}
