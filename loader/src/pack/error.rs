//! Errors of [`pack`](super::pack): each names what is wrong and where.

use alloc::string::String;
use core::fmt;

/// Why an input could not be packed.
///
/// `Display` gives one line naming the problem and where it is (header field, section index and
/// name, symbol index, relocation entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    /// The file does not start with the ELF magic `\x7fELF`.
    NotElf,
    /// A part of the file lies beyond its end.
    Truncated {
        /// What was being read, e.g. "ELF header".
        what: &'static str,
        /// End offset the part needs.
        end: u64,
        /// Length of the file.
        len: u64,
    },
    /// An ELF header field has a value `pack` does not accept.
    Header {
        /// The field, e.g. "e_type".
        field: &'static str,
        /// Its value.
        value: u64,
        /// What was expected instead.
        expected: &'static str,
    },
    /// The file has no `SHT_SYMTAB` section.
    NoSymbolTable,
    /// A problem with one section.
    Section {
        /// Index in the input section header table.
        index: usize,
        /// Section name (lossy UTF-8; empty if the name itself is bad).
        name: String,
        /// What is wrong.
        problem: SectionProblem,
    },
    /// A problem with one symbol of the symbol table.
    Symbol {
        /// Index in the input symbol table.
        index: usize,
        /// What is wrong.
        problem: SymbolProblem,
    },
    /// The output would not fit the ELF class (offset beyond 4 GiB for ELF32, too many sections).
    OutputTooLarge,
}

/// What is wrong with a section (see [`PackError::Section`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionProblem {
    /// `sh_offset + sh_size` lies past the end of the file.
    PastEnd {
        /// `sh_offset + sh_size` (saturated).
        end: u64,
        /// Length of the file.
        len: u64,
    },
    /// `sh_name` is not the start of a NUL-terminated string in the section name table.
    BadName(u32),
    /// `sh_addralign` is not 0 or a power of two, or exceeds [`MAX_ALIGN`](super::MAX_ALIGN).
    BadAlign(u64),
    /// `sh_link` is not a valid section index or not the kind of section required.
    BadLink(u32),
    /// `sh_info` is not a valid section (or symbol) index.
    BadInfo(u32),
    /// `sh_entsize` is not the entry size this section type needs.
    BadEntsize {
        /// `sh_entsize`.
        entsize: u64,
        /// The size required.
        expected: u64,
    },
    /// `sh_size` is not a whole number of entries.
    BadSize(u64),
    /// The section's type is not what its role needs (e.g. the name table is not `SHT_STRTAB`).
    BadType(u32),
    /// The file has a second `SHT_SYMTAB`.
    SecondSymbolTable,
    /// A feature `pack` does not implement, e.g. `SHT_SYMTAB_SHNDX`.
    Unsupported(&'static str),
    /// A relocation entry names a symbol index past the end of the symbol table.
    RelocSymbolOutOfRange {
        /// Entry index in the relocation section.
        entry: usize,
        /// `r_sym`.
        symbol: u32,
    },
    /// A relocation in a kept section names a symbol that was removed because it pointed into a
    /// dropped section.
    RelocSymbolDropped {
        /// Entry index in the relocation section.
        entry: usize,
        /// `r_sym`.
        symbol: u32,
    },
    /// A group member word is not the index of a content section.
    BadGroupMember {
        /// Word index in the group (1 = first member).
        entry: usize,
        /// The section index found.
        member: u32,
    },
    /// The group's signature symbol (`sh_info`) was removed.
    GroupSignatureDropped(u32),
}

/// What is wrong with a symbol (see [`PackError::Symbol`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolProblem {
    /// `st_name` is not the start of a NUL-terminated string in the symbol string table.
    BadName(u32),
    /// `st_shndx` is not a valid section index.
    BadSection(u16),
    /// `st_shndx` is `SHN_XINDEX` (extended section indices are not supported).
    ExtendedIndex,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotElf => write!(f, "not an ELF file (bad magic)"),
            Self::Truncated { what, end, len } => {
                write!(f, "{what} past end of file ({end} > {len})")
            }
            Self::Header {
                field,
                value,
                expected,
            } => write!(f, "ELF header: {field} = {value}, expected {expected}"),
            Self::NoSymbolTable => write!(f, "no symbol table (SHT_SYMTAB) section"),
            Self::Section {
                index,
                name,
                problem,
            } => write!(f, "section {index} ({name}): {problem}"),
            Self::Symbol { index, problem } => write!(f, "symbol {index}: {problem}"),
            Self::OutputTooLarge => write!(f, "output too large for its ELF class"),
        }
    }
}

impl fmt::Display for SectionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PastEnd { end, len } => {
                write!(f, "sh_offset+sh_size past end of file ({end} > {len})")
            }
            Self::BadName(n) => write!(f, "sh_name {n} is not a string in the name table"),
            Self::BadAlign(a) => write!(
                f,
                "sh_addralign {a} is not a power of two up to {}",
                super::MAX_ALIGN
            ),
            Self::BadLink(l) => write!(f, "sh_link {l} is not a valid section for this type"),
            Self::BadInfo(i) => write!(f, "sh_info {i} is not valid for this type"),
            Self::BadEntsize { entsize, expected } => {
                write!(f, "sh_entsize {entsize}, expected {expected}")
            }
            Self::BadSize(s) => write!(f, "sh_size {s} is not a whole number of entries"),
            Self::BadType(t) => write!(f, "sh_type {t:#x} does not fit this section's role"),
            Self::SecondSymbolTable => write!(f, "second SHT_SYMTAB (only one is supported)"),
            Self::Unsupported(what) => write!(f, "{what} is not supported"),
            Self::RelocSymbolOutOfRange { entry, symbol } => {
                write!(f, "relocation {entry}: symbol {symbol} out of range")
            }
            Self::RelocSymbolDropped { entry, symbol } => write!(
                f,
                "relocation {entry}: symbol {symbol} points into a dropped section \
                 (use --keep-all)"
            ),
            Self::BadGroupMember { entry, member } => {
                write!(f, "group word {entry}: {member} is not a content section")
            }
            Self::GroupSignatureDropped(s) => write!(
                f,
                "signature symbol {s} points into a dropped section (use --keep-all)"
            ),
        }
    }
}

impl fmt::Display for SymbolProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadName(n) => write!(f, "st_name {n} is not a string in the string table"),
            Self::BadSection(s) => write!(f, "st_shndx {s} is not a valid section index"),
            Self::ExtendedIndex => write!(f, "st_shndx SHN_XINDEX is not supported"),
        }
    }
}

impl core::error::Error for PackError {}
