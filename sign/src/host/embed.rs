//! Adds the signature section to a packed extension, keeping stream order.
//!
//! The section header table grows by one entry and `.shstrtab` by the new name, so every
//! section after them moves; each keeps its own alignment, at least a word as `pack` gives it
//! (index order stays file order), and the signature section's contents go last, where the
//! device expects them. Pushing a signed file packs it again: that must leave every byte alone.

use alloc::vec::Vec;
use core::fmt;

use object::read::elf::{FileHeader, SectionHeader};
use object::{LittleEndian as LE, elf};

use crate::format::{SECTION, SHT_LLEXT_SIG, TRAILER_LEN};

/// Why a file could not take a signature section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedError {
    /// Not a little-endian ELF32/ELF64 whose headers `object` reads.
    NotElf(&'static str),
    /// Not in stream order (run `host-push pack` first).
    NotPacked,
    /// It already carries a signature section.
    AlreadySigned,
}

impl fmt::Display for EmbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmbedError::NotElf(e) => write!(f, "not a little-endian ELF object: {e}"),
            EmbedError::NotPacked => {
                f.write_str("not in stream order: pack it first (`host-push pack`)")
            }
            EmbedError::AlreadySigned => {
                f.write_str("already signed: sign the unsigned object instead")
            }
        }
    }
}

impl std::error::Error for EmbedError {}

/// The least alignment `llext_loader::pack` gives a section's contents.
const PACK_ALIGN: u64 = 4;

/// One section's place in the file.
struct Placed {
    offset: u64,
    size: u64,
    align: u64,
    nobits: bool,
}

/// Returns `packed` with a `.llext.sig` section as its last section and the last bytes of the
/// file: `prefix`, then [`TRAILER_LEN`] zero bytes for the trailer.
pub fn embed_section(packed: &[u8], prefix: &[u8]) -> Result<Vec<u8>, EmbedError> {
    match packed.get(4) {
        Some(1) => embed::<elf::FileHeader32<LE>>(packed, prefix),
        Some(2) => embed::<elf::FileHeader64<LE>>(packed, prefix),
        _ => Err(EmbedError::NotElf("no ELF class")),
    }
}

/// The contents of the last section of `file` when it is a signature section.
pub fn signature_section(file: &[u8]) -> Option<&[u8]> {
    fn find<H: FileHeader<Endian = LE>>(data: &[u8]) -> Option<&[u8]> {
        let h = H::parse(data).ok()?;
        let last = h.section_headers(LE, data).ok()?.last()?;
        (last.sh_type(LE).0 == SHT_LLEXT_SIG).then_some(())?;
        last.data(LE, data).ok()
    }
    match file.get(4) {
        Some(1) => find::<elf::FileHeader32<LE>>(file),
        Some(2) => find::<elf::FileHeader64<LE>>(file),
        _ => None,
    }
}

fn embed<H: FileHeader<Endian = LE>>(data: &[u8], prefix: &[u8]) -> Result<Vec<u8>, EmbedError> {
    let e = LE;
    let h = H::parse(data).map_err(|_| EmbedError::NotElf("unreadable ELF or section headers"))?;
    let headers = h
        .section_headers(e, data)
        .map_err(|_| EmbedError::NotElf("unreadable ELF or section headers"))?;
    let is64 = h.is_type_64();
    let entsize = if is64 { 64 } else { 40 };
    let shoff: u64 = h.e_shoff(e).into();
    if headers.len() < 2 || h.e_shstrndx(e).0 != 1 || shoff != if is64 { 64 } else { 52 } {
        return Err(EmbedError::NotPacked);
    }
    if headers.last().map(|s| s.sh_type(e).0) == Some(SHT_LLEXT_SIG) {
        return Err(EmbedError::AlreadySigned);
    }
    let mut placed = Vec::with_capacity(headers.len());
    let mut end = shoff + (headers.len() * entsize) as u64;
    for s in &headers[1..] {
        let p = Placed {
            offset: s.sh_offset(e).into(),
            size: s.sh_size(e).into(),
            // As `llext_loader::pack` places them, or packing it again would move them.
            align: s.sh_addralign(e).into().max(PACK_ALIGN),
            nobits: s.sh_type(e) == elf::SHT_NOBITS,
        };
        if p.offset < end && !(p.nobits || p.size == 0) {
            return Err(EmbedError::NotPacked);
        }
        if !p.nobits {
            end = end.max(p.offset + p.size);
        }
        placed.push(p);
    }
    if end > data.len() as u64 {
        return Err(EmbedError::NotElf("a section ends beyond the file"));
    }
    let name = [SECTION.as_bytes(), b"\0"].concat();
    let shstrtab_len = placed[0].size;
    // Header, then room for the new table; sections follow at their alignment.
    let mut out = data[..shoff as usize].to_vec();
    out.resize(shoff as usize + (headers.len() + 1) * entsize, 0);
    let mut offsets = Vec::with_capacity(placed.len());
    for (i, p) in placed.iter().enumerate() {
        let at = out.len().next_multiple_of(p.align as usize);
        offsets.push(at as u64);
        if p.nobits {
            continue;
        }
        out.resize(at, 0);
        out.extend_from_slice(&data[p.offset as usize..(p.offset + p.size) as usize]);
        if i == 0 {
            out.extend_from_slice(&name);
        }
    }
    out.resize(out.len().next_multiple_of(PACK_ALIGN as usize), 0);
    let sig_at = out.len() as u64;
    out.extend_from_slice(prefix);
    out.resize(out.len() + TRAILER_LEN, 0);
    // The table: each entry with its new offset, `.shstrtab` longer, then the new entry.
    let table = shoff as usize;
    out[table..table + headers.len() * entsize]
        .copy_from_slice(&data[table..table + headers.len() * entsize]);
    let (off_field, size_field) = if is64 { (24, 32) } else { (16, 20) };
    let put = |out: &mut Vec<u8>, at: usize, v: u64| match is64 {
        true => out[at..at + 8].copy_from_slice(&v.to_le_bytes()),
        false => out[at..at + 4].copy_from_slice(&(v as u32).to_le_bytes()),
    };
    for (i, at) in offsets.iter().enumerate() {
        put(&mut out, table + (i + 1) * entsize + off_field, *at);
    }
    let shstrtab = table + entsize;
    put(
        &mut out,
        shstrtab + size_field,
        shstrtab_len + name.len() as u64,
    );
    let new = table + headers.len() * entsize;
    out[new..new + 4].copy_from_slice(&(shstrtab_len as u32).to_le_bytes());
    out[new + 4..new + 8].copy_from_slice(&SHT_LLEXT_SIG.to_le_bytes());
    put(&mut out, new + off_field, sig_at);
    put(
        &mut out,
        new + size_field,
        (prefix.len() + TRAILER_LEN) as u64,
    );
    // sh_addralign 1: the trailer ends the file whatever came before it.
    let align_field = if is64 { 48 } else { 32 };
    put(&mut out, new + align_field, 1);
    let shnum = (headers.len() + 1) as u16;
    let shnum_at = if is64 { 0x3c } else { 0x30 };
    out[shnum_at..shnum_at + 2].copy_from_slice(&shnum.to_le_bytes());
    Ok(out)
}
