//! Where the sections of a loaded extension went, with their names from the kept packed file.

use llext_transports::client::{Client, ClientError, Sections};
use serde::Serialize;

use crate::kept::{self, Kept};

/// One placed section, named.
#[derive(Clone, Debug, Serialize)]
pub struct NamedSection {
    /// Section index in the packed file.
    pub index: u32,
    /// Its name, when this host kept the file it sent (`None` otherwise).
    pub name: Option<String>,
    /// `text`, `rodata`, `data` or `bss`.
    pub region: String,
    /// Run-time address.
    pub addr: u64,
    /// Size in bytes.
    pub size: u32,
    /// Relocation entries the loader applied to it.
    pub relocations: u32,
}

/// The sections of a loaded extension and the kept image they name.
pub struct Placed {
    /// Named sections, in placing order.
    pub sections: Vec<NamedSection>,
    /// Sections the device placed but did not keep.
    pub dropped: u16,
    /// Veneers and GOT entries the loader made.
    pub trampolines: u32,
    /// The kept image (`None`: not pushed from this host, or loaded at boot).
    pub kept: Option<Kept>,
}

impl Placed {
    /// Asks the device where `name`'s sections went and names them.
    pub fn query(client: &mut Client, name: &str) -> Result<Placed, ClientError> {
        let s = client.sections(name)?;
        Ok(Self::named(name, s))
    }

    /// Names the sections of `s` from the image kept for `name`.
    pub fn named(name: &str, s: Sections) -> Placed {
        let kept = (s.total_len > 0)
            .then(|| kept::find(name, s.crc32))
            .flatten();
        let indices: Vec<u32> = s.sections.iter().map(|p| p.index).collect();
        let names = kept
            .as_ref()
            .and_then(|k| std::fs::read(&k.packed).ok())
            .map_or_else(
                || vec![None; indices.len()],
                |b| kept::section_names(&b, &indices),
            );
        let sections = s
            .sections
            .into_iter()
            .zip(names)
            .map(|(p, name)| NamedSection {
                index: p.index,
                name,
                region: p.region,
                addr: p.addr,
                size: p.size,
                relocations: p.relocations,
            })
            .collect();
        Placed {
            sections,
            dropped: s.dropped,
            trampolines: s.trampolines,
            kept,
        }
    }

    /// As JSON: `{"sections": [...], "dropped": N, "trampolines": N, "elf": PATH|null}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "sections": self.sections,
            "dropped": self.dropped,
            "trampolines": self.trampolines,
            "elf": self.kept.as_ref().map(|k| k.elf.display().to_string()),
        })
    }

    /// One line per section: `.text  text  0x20001000  128 B, 12 relocations`.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .sections
            .iter()
            .map(|s| {
                let name = s
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("section {}", s.index));
                let relocs = match s.relocations {
                    0 => String::new(),
                    n => format!(", {}", crate::output::count(n as u64, "relocation")),
                };
                format!(
                    "{name:<20} {:<7} {:#010x}  {}{relocs}",
                    s.region,
                    s.addr,
                    crate::output::bytes(s.size as u64)
                )
            })
            .collect();
        if self.dropped > 0 {
            out.push(format!("({} more the device did not keep)", self.dropped));
        }
        out
    }
}

impl Placed {
    /// `function+offset (file:line)` of run-time address `addr`, from the kept ELF; for a return
    /// address (`ret`) the line is the call's.
    pub fn symbolize(&self, addr: u64, ret: bool) -> Option<String> {
        let elf = std::fs::read(&self.kept.as_ref()?.elf).ok()?;
        crate::symbolize::describe(&elf, &self.named_addrs(), addr, ret)
    }

    /// `function (file:line)` of the code at `path:line` (a panic's location), from the kept
    /// ELF's DWARF.
    pub fn function_at(&self, path: &str, line: u32) -> Option<String> {
        let elf = std::fs::read(&self.kept.as_ref()?.elf).ok()?;
        crate::symbolize::function_at(&elf, &self.named_addrs(), path, line)
    }

    /// Whether run-time address `addr` is in one of its placed sections.
    pub fn contains(&self, addr: u64) -> bool {
        self.sections
            .iter()
            .any(|s| addr >= s.addr && addr < s.addr + u64::from(s.size))
    }

    fn named_addrs(&self) -> Vec<(String, u64)> {
        self.sections
            .iter()
            .filter_map(|s| Some((s.name.clone()?, s.addr)))
            .collect()
    }
}
