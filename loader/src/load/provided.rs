//! Symbols GNU ld itself defines for code in a relocatable object (docs/LINKING.md): the
//! bounds of identifier-named sections and of the init/fini arrays, and the GOT's base.

use super::sections::{Layout, SecRec, Span, bracket, ident_of, is_c_identifier};
use crate::memory::MemKind;
use crate::symbols::SymName;

/// Where ld would put undefined symbol `name` if the object itself does not define it: a
/// region and an offset in it. `None` for every name ld does not provide.
pub(super) fn provided(
    name: &SymName<'_>,
    secs: &[SecRec],
    layout: &Layout,
) -> Option<(MemKind, u32)> {
    if !name.is_whole() {
        return None;
    }
    let n = name.prefix;
    if n == b"_GLOBAL_OFFSET_TABLE_" {
        // gas declares it whenever GOT-relative code exists; the loader's GOT stands in.
        return Some((MemKind::Trampoline, 0));
    }
    let (section, stop) = if let Some(s) = n.strip_prefix(b"__start_") {
        (s, false)
    } else if let Some(s) = n.strip_prefix(b"__stop_") {
        (s, true)
    } else {
        return array_bound(n, layout);
    };
    if !is_c_identifier(section) {
        return None;
    }
    let (kind, start, end) = bracket(secs, ident_of(&SymName::whole(section)))?;
    Some((kind, if stop { end } else { start }))
}

/// `__preinit_array_start`, `__init_array_end`, ...: ld's default script provides them.
fn array_bound(name: &[u8], layout: &Layout) -> Option<(MemKind, u32)> {
    let table: [(&[u8], Span); 3] = [
        (b"__preinit_array_", layout.preinit),
        (b"__init_array_", layout.init),
        (b"__fini_array_", layout.fini),
    ];
    let (span, which) = table
        .iter()
        .find_map(|(p, span)| name.strip_prefix(*p).map(|w| (span, w)))?;
    let off = match which {
        b"start" => span.off,
        b"end" => span.off + span.len,
        _ => return None,
    };
    Some((MemKind::Rodata, off))
}
