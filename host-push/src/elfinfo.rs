//! What the host needs to know about an extension file besides what the loader does: its
//! architecture and float ABI, section and symbol names.

use anyhow::{Context, Result};
use llext_loader::arch::Arch;
use llext_loader::elf::{Header, Reloc, Shdr};
use object::{Object, ObjectSection, ObjectSymbol};

/// The architecture of an ELF file, if the loader supports it.
pub fn arch_of(bytes: &[u8]) -> Result<Arch> {
    let h = Header::parse(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    Arch::from_machine(h.machine, h.class)
        .with_context(|| format!("unsupported architecture (e_machine {})", h.machine))
}

/// The float ABI an object was built for: `soft` or `hard` on ARM; `soft`, `single`, `double` or
/// `quad` on RISC-V; `None` elsewhere.
pub fn float_abi(bytes: &[u8], arch: Arch) -> Option<&'static str> {
    let flags = Header::parse(bytes).ok()?.flags;
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

/// File offset of relocation entry `(target section, r_offset)`'s `r_info` field, so a problem
/// relocation can be neutralised to find the next one.
pub fn relocation_entry(bytes: &[u8], target: u32, r_offset: u64, r_type: u32) -> Option<usize> {
    let h = Header::parse(bytes).ok()?;
    let class = h.class;
    let shoff = usize::try_from(h.shoff).ok()?;
    for i in 0..h.shnum as usize {
        let at = shoff.checked_add(i.checked_mul(class.shdr_size())?)?;
        let s = Shdr::parse(class, bytes.get(at..at.checked_add(class.shdr_size())?)?);
        let rela = s.kind == object::elf::SHT_RELA.0;
        if (!rela && s.kind != object::elf::SHT_REL.0) || s.info != target {
            continue;
        }
        let size = class.rel_size(rela);
        let start = usize::try_from(s.offset).ok()?;
        let len = usize::try_from(s.size).ok()?;
        for at in (start..start.checked_add(len / size * size)?).step_by(size) {
            let r = Reloc::parse(class, rela, bytes.get(at..at + size)?);
            if r.offset == r_offset && r.kind == r_type {
                // r_info follows r_offset: its type is the low byte (ELF32) or low word (ELF64).
                return Some(at + class.addr_size());
            }
        }
    }
    None
}
