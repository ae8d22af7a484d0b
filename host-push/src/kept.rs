//! Extensions host-push sent, kept on the host keyed by name and CRC-32 of the file sent: the
//! packed file (the device reports section indices of it) and the original ELF with its debug
//! information (for GDB scripts and symbolized reports in later runs).
//!
//! The directory is `$HOST_PUSH_CACHE`, else `$XDG_CACHE_HOME/host-push`, else
//! `~/.cache/host-push`.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, SectionIndex};

/// Where kept images go.
pub fn dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("HOST_PUSH_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("host-push")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("host-push")))
        .unwrap_or_else(|| std::env::temp_dir().join("host-push-cache"))
}

/// The file stem of an image: the name made path-safe, and the CRC.
fn stem(name: &str, crc32: u32) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{crc32:08x}")
}

/// A kept image.
pub struct Kept {
    /// The file the device received.
    pub packed: PathBuf,
    /// The ELF it was packed from, with its debug information.
    pub elf: PathBuf,
}

/// Keeps `packed` (sent as `name`) and the `original` ELF it came from.
pub fn keep(name: &str, packed: &[u8], original: &[u8]) -> std::io::Result<Kept> {
    let d = dir();
    std::fs::create_dir_all(&d)?;
    let s = stem(name, llext_transports::protocol::CRC32.checksum(packed));
    let kept = Kept {
        packed: d.join(format!("{s}.packed")),
        elf: d.join(format!("{s}.elf")),
    };
    write_whole(&kept.packed, packed)?;
    write_whole(&kept.elf, original)?;
    Ok(kept)
}

/// Writes through a temporary file, so a reader never sees half a file.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The kept image of `name` whose packed file has CRC `crc32`, if this host sent it.
pub fn find(name: &str, crc32: u32) -> Option<Kept> {
    let d = dir();
    let s = stem(name, crc32);
    let kept = Kept {
        packed: d.join(format!("{s}.packed")),
        elf: d.join(format!("{s}.elf")),
    };
    (kept.packed.is_file() && kept.elf.is_file()).then_some(kept)
}

/// The names of sections `indices` of an ELF file (`None` where there is no such section).
pub fn section_names(elf: &[u8], indices: &[u32]) -> Vec<Option<String>> {
    let file = object::File::parse(elf).ok();
    indices
        .iter()
        .map(|&i| {
            let f = file.as_ref()?;
            let s = f.section_by_index(SectionIndex(i as usize)).ok()?;
            s.name().ok().map(str::to_string)
        })
        .collect()
}
