//! What the host needs to know about an extension file besides what the loader does: its
//! architecture and float ABI, section and symbol names.

use anyhow::{Context, Result};
use llext_loader::arch::Arch;
use object::read::elf::{FileHeader, SectionHeader};
use object::{Object, ObjectSection, ObjectSymbol};

/// The architecture of an ELF file, if the loader supports it.
pub fn arch_of(bytes: &[u8]) -> Result<Arch> {
    let file = object::File::parse(bytes).context("not an ELF file the loader can read")?;
    let class = if file.is_64() {
        llext_loader::elf::Class::Elf64
    } else {
        llext_loader::elf::Class::Elf32
    };
    let machine = elf_machine(bytes)?;
    Arch::from_machine(machine, class)
        .with_context(|| format!("unsupported architecture (e_machine {machine})"))
}

fn elf_machine(bytes: &[u8]) -> Result<u16> {
    let e = bytes.get(18..20).context("file too short")?;
    Ok(u16::from_le_bytes([e[0], e[1]]))
}

/// The float ABI an object was built for: `soft` or `hard` on ARM; `soft`, `single`, `double` or
/// `quad` on RISC-V; `None` elsewhere.
pub fn float_abi(bytes: &[u8], arch: Arch) -> Option<&'static str> {
    let flags = u32::from_le_bytes(bytes.get(36..40)?.try_into().ok()?);
    let flags = match arch {
        // ELF64 has e_flags at 48.
        Arch::RiscV64 | Arch::X86_64 => u32::from_le_bytes(bytes.get(48..52)?.try_into().ok()?),
        _ => flags,
    };
    match arch {
        // Objects record it in `.ARM.attributes` (Tag_ABI_VFP_args); linked files in e_flags.
        Arch::Arm => Some(
            if flags & object::elf::EF_ARM_ABI_FLOAT_HARD != 0 || arm_vfp_args(bytes) == Some(1) {
                "hard"
            } else {
                "soft"
            },
        ),
        Arch::RiscV32 | Arch::RiscV64 => Some(match flags & 0x6 {
            0 => "soft",
            2 => "single",
            4 => "double",
            _ => "quad",
        }),
        Arch::X86_64 => None,
    }
}

/// `Tag_ABI_VFP_args` from the `aeabi` subsection of `.ARM.attributes` (1 = VFP registers).
fn arm_vfp_args(bytes: &[u8]) -> Option<u64> {
    let file = object::File::parse(bytes).ok()?;
    let data = file.section_by_name(".ARM.attributes")?.data().ok()?;
    let (&version, mut rest) = data.split_first()?;
    if version != b'A' {
        return None;
    }
    while rest.len() >= 4 {
        let len = u32::from_le_bytes(rest[..4].try_into().ok()?) as usize;
        let sub = rest.get(4..len)?;
        rest = &rest[len..];
        let Some(tags) = sub.strip_prefix(b"aeabi\0") else {
            continue;
        };
        // Tag_File (1) then its size, then (tag, value) pairs.
        let (&kind, tags) = tags.split_first()?;
        if kind != 1 {
            continue;
        }
        let mut t = tags.get(4..)?;
        while !t.is_empty() {
            let tag = uleb(&mut t)?;
            match tag {
                // NUL-terminated strings.
                4 | 5 | 65 | 67 => t = &t[t.iter().position(|&c| c == 0)? + 1..],
                32 => {
                    uleb(&mut t)?;
                    t = &t[t.iter().position(|&c| c == 0)? + 1..];
                }
                _ => {
                    let v = uleb(&mut t)?;
                    if tag == 28 {
                        return Some(v);
                    }
                }
            }
        }
    }
    None
}

fn uleb(b: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&c, rest) = b.split_first()?;
        *b = rest;
        v |= u64::from(c & 0x7f) << shift;
        if c & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Section names by index.
pub fn section_names(bytes: &[u8]) -> Result<Vec<String>> {
    let file = object::File::parse(bytes)?;
    let mut names =
        vec![String::new(); file.sections().map(|s| s.index().0 + 1).max().unwrap_or(1)];
    for s in file.sections() {
        names[s.index().0] = s.name().unwrap_or("?").to_string();
    }
    Ok(names)
}

/// Defined global symbols (name, section index, value).
pub fn defined_globals(bytes: &[u8]) -> Result<Vec<(String, usize, u64)>> {
    let file = object::File::parse(bytes)?;
    Ok(file
        .symbols()
        .filter(|s| s.is_global() && s.is_definition())
        .filter_map(|s| {
            Some((
                s.name().ok()?.to_string(),
                s.section_index()?.0,
                s.address(),
            ))
        })
        .collect())
}

/// File offset of relocation entry `(target section, r_offset)`'s type field, and the entry's
/// size, so a problem relocation can be neutralised to find the next one.
pub fn relocation_entry(bytes: &[u8], target: u32, r_offset: u64, r_type: u32) -> Option<usize> {
    let is64 = bytes.get(4) == Some(&2);
    if is64 {
        find_entry::<object::elf::FileHeader64<object::Endianness>>(
            bytes, target, r_offset, r_type, true,
        )
    } else {
        find_entry::<object::elf::FileHeader32<object::Endianness>>(
            bytes, target, r_offset, r_type, false,
        )
    }
}

fn find_entry<H: FileHeader<Endian = object::Endianness>>(
    bytes: &[u8],
    target: u32,
    off: u64,
    r_type: u32,
    is64: bool,
) -> Option<usize> {
    let h = H::parse(bytes).ok()?;
    let e = h.endian().ok()?;
    let sections = h.sections(e, bytes).ok()?;
    for s in sections.iter() {
        let t = s.sh_type(e);
        if (t != object::elf::SHT_REL && t != object::elf::SHT_RELA) || s.sh_info(e) != target {
            continue;
        }
        let rela = t == object::elf::SHT_RELA;
        let size = match (is64, rela) {
            (false, false) => 8,
            (false, true) => 12,
            (true, false) => 16,
            (true, true) => 24,
        };
        let (start, len) = s.file_range(e)?;
        for i in 0..(len as usize / size) {
            let at = start as usize + i * size;
            let r_off = if is64 {
                u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?)
            } else {
                u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?).into()
            };
            let info_at = at + if is64 { 8 } else { 4 };
            let ty = if is64 {
                u32::from_le_bytes(bytes.get(info_at..info_at + 4)?.try_into().ok()?)
            } else {
                u32::from(*bytes.get(info_at)?)
            };
            if r_off == off && ty == r_type {
                // r_info follows r_offset; its type is the low byte (ELF32) or low word (ELF64).
                return Some(info_at);
            }
        }
    }
    None
}
