//! Rewrites an ET_REL ELF into stream order (`docs/STREAM-ORDER.md`).
//!
//! [`pack`] reads a little-endian ELF32 or ELF64 relocatable object, drops what loading never
//! needs (unless [`PackOptions::keep_all`]), and writes the ELF header, the section header
//! table, then every section in index order: `.shstrtab`, `.symtab`, `.strtab`, each loaded
//! section followed by its relocation sections, then the rest. Both string tables are rebuilt
//! in lock-step with the entries they name. Malformed input gives a [`PackError`], never a
//! panic.
//!
//! Stages: `read` (validate), `plan` (keep, order, renumber), `write` (emit); `class` hides
//! the ELF32/ELF64 difference and `strings` holds the string-table helpers.

mod align;
mod class;
mod error;
mod plan;
mod read;
mod riscv;
mod strings;
mod write;

use alloc::vec::Vec;

pub use error::{PackError, SectionProblem, SymbolProblem};

use class::{Class, Elf32, Elf64};

/// Largest `sh_addralign` accepted (64 KiB). Bigger alignments are almost surely corrupt
/// headers, and honouring them would pad the output by that much.
pub const MAX_ALIGN: u64 = 1 << 16;

/// Options of [`pack`].
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// Keep every section and symbol, including `.comment`, `.debug*`, unwind tables and
    /// non-allocated `.note.*`, and undefined symbols no kept relocation uses.
    pub keep_all: bool,
}

/// Rewrites the relocatable ELF `input` into stream order and returns the new file.
///
/// Packing the output again gives the same bytes.
pub fn pack(input: &[u8], options: &PackOptions) -> Result<Vec<u8>, PackError> {
    if input.get(..4) != Some(&object::elf::ELFMAG[..]) {
        return Err(PackError::NotElf);
    }
    let truncated = PackError::Truncated {
        what: "ELF header",
        end: 16,
        len: input.len() as u64,
    };
    let (&class, &data) = input.get(4).zip(input.get(5)).ok_or(truncated)?;
    if data != object::elf::ELFDATA2LSB.0 {
        return Err(PackError::Header {
            field: "EI_DATA",
            value: data.into(),
            expected: "ELFDATA2LSB (1), little-endian",
        });
    }
    match class {
        1 => pack_class::<Elf32>(input, options),
        2 => pack_class::<Elf64>(input, options),
        _ => Err(PackError::Header {
            field: "EI_CLASS",
            value: class.into(),
            expected: "ELFCLASS32 (1) or ELFCLASS64 (2)",
        }),
    }
}

fn pack_class<C: Class>(input: &[u8], options: &PackOptions) -> Result<Vec<u8>, PackError> {
    let relaxed = align::relax_align(input);
    let input = relaxed.as_deref().unwrap_or(input);
    let file = read::read::<C>(input)?;
    let plan = plan::plan::<C>(&file, options)?;
    write::write::<C>(&file, &plan)
}

#[cfg(test)]
mod tests;
