//! Constructors that faulted at boot, in function and line: the device's boot report says
//! `a constructor faulted: KIND at text+0xOFF (pc ...)`; the image of that version, kept when it
//! was installed, is linked here as the device laid it out (`llext_loader::link`, against the
//! device's exports) to find which section of the text region holds the offset.

use llext_loader::link::link;
use llext_loader::memory::MemKind;
use llext_loader::symbols::ExportList;
use llext_transports::client::{BootReportEvent, Client};

use crate::{elfinfo, kept, symbolize};

/// The text-region offset in a boot report's reason, if it names one.
fn text_offset(reason: &str) -> Option<u64> {
    let at = reason.find("a constructor faulted: ")?;
    let rest = &reason[at..];
    let hex = rest[rest.find(" at text+0x")? + 11..]
        .split(|c: char| !c.is_ascii_hexdigit())
        .next()?;
    u64::from_str_radix(hex, 16).ok()
}

/// `function+offset (file:line)` of `offset` in the text region of `name` version `version`
/// (installed from this host, which kept the image).
pub fn describe(client: &mut Client, name: &str, version: u32, offset: u64) -> Option<String> {
    let kept = kept::find_version(name, version)?;
    let packed = std::fs::read(&kept.packed).ok()?;
    let elf = std::fs::read(&kept.elf).ok()?;
    let exports = client.exports().ok()?;
    let list = ExportList::new(exports.iter().map(|e| (e.name.as_str(), e.addr)));
    let linked = link(&packed, &list, 0, Some(elfinfo::arch_of(&packed).ok()?)).ok()?;
    let &(_, base, _) = linked.regions.iter().find(|r| r.0 == MemKind::Text)?;
    let names = elfinfo::section_names(&packed).ok()?;
    let placed: Vec<(String, u64)> = linked
        .sections
        .iter()
        .filter(|s| s.kind == MemKind::Text)
        .filter_map(|s| Some((names.get(s.index as usize)?.clone(), s.addr - base)))
        .collect();
    symbolize::describe(&elf, &placed, offset, false)
}

/// `function+offset (file:line)` of the constructor fault a boot report's `reason` names, for
/// version `version` of `name`, from the image kept when it was installed.
pub fn describe_reason(
    client: &mut Client,
    name: &str,
    version: u32,
    reason: &str,
) -> Option<String> {
    describe(client, name, version, text_offset(reason)?)
}

/// Adds `in function+offset (file:line)` to each event whose constructor fault the kept images
/// can place.
pub fn symbolize(client: &mut Client, events: &mut [BootReportEvent]) {
    for e in events {
        let Some(reason) = e.reason.clone() else {
            continue;
        };
        if let Some(at) = describe_reason(client, &e.name, e.version, &reason) {
            e.text = format!("{} in {at}", e.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::text_offset;

    #[test]
    fn finds_the_text_offset_of_a_constructor_fault() {
        let r = "a constructor faulted: breakpoint at text+0x1c (pc 0x8003a01c)";
        assert_eq!(text_offset(r), Some(0x1c));
        assert_eq!(text_offset("bringup failed"), None);
        assert_eq!(
            text_offset("a constructor faulted: timeout at pc 0x1"),
            None
        );
    }
}
