//! Extensions host-push sent, kept on the host keyed by name and CRC-32 of the file sent: the
//! packed file (the device reports section indices of it) and the original ELF with its debug
//! information (for GDB scripts and symbolized reports in later runs).
//!
//! The directory is `$HOST_PUSH_CACHE`, else `$XDG_CACHE_HOME/host-push`, else
//! `~/.cache/host-push`; the newest 8 images of each name are kept.

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
    prune(&d, name, &s);
    Ok(kept)
}

/// Notes that version `version` of `name` installed on a device is the kept image with CRC
/// `crc32` (boot reports name versions).
pub fn note_version(name: &str, version: u32, crc32: u32) -> std::io::Result<()> {
    let d = dir();
    write_whole(
        &d.join(format!("{}.v{version}", stem(name, 0))),
        format!("{crc32:08x}").as_bytes(),
    )
}

/// The kept image of version `version` of `name` (see [`note_version`]).
pub fn find_version(name: &str, version: u32) -> Option<Kept> {
    let note = dir().join(format!("{}.v{version}", stem(name, 0)));
    let crc = u32::from_str_radix(std::fs::read_to_string(note).ok()?.trim(), 16).ok()?;
    find(name, crc)
}

/// Images kept per extension name; older ones are removed.
const KEEP_PER_NAME: usize = 8;

/// Removes all but the newest [`KEEP_PER_NAME`] images of `name` (never `current`).
fn prune(dir: &Path, name: &str, current: &str) {
    let prefix = stem(name, 0);
    let prefix = &prefix[..prefix.len() - 8];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut mine: Vec<(std::time::SystemTime, String)> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let s = file.strip_suffix(".packed")?;
            let crc = s.strip_prefix(prefix)?;
            let ours = crc.len() == 8 && crc.bytes().all(|b| b.is_ascii_hexdigit()) && s != current;
            ours.then(|| Some((e.metadata().ok()?.modified().ok()?, s.to_string())))?
        })
        .collect();
    mine.sort();
    let extra = (mine.len() + 1).saturating_sub(KEEP_PER_NAME);
    for (_, s) in mine.into_iter().take(extra) {
        let _ = std::fs::remove_file(dir.join(format!("{s}.packed")));
        let _ = std::fs::remove_file(dir.join(format!("{s}.elf")));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_images_of_one_name_only() {
        let d = std::env::temp_dir().join(format!("host-push-kept-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let touch = |s: &str| {
            std::fs::write(d.join(format!("{s}.packed")), b"p").unwrap();
            std::fs::write(d.join(format!("{s}.elf")), b"e").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        for i in 0..10u32 {
            touch(&stem("a", i));
        }
        touch(&stem("a-b", 1));
        prune(&d, "a", &stem("a", 9));
        let left = |s: String| d.join(format!("{s}.packed")).exists();
        assert!(!left(stem("a", 0)) && !left(stem("a", 1)));
        assert!(
            (2..10).all(|i| left(stem("a", i))),
            "the newest 8, the current one included"
        );
        assert!(left(stem("a-b", 1)), "another name's image stays");
        assert!(!d.join(format!("{}.elf", stem("a", 0))).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
