//! RISC-V: every `R_RISCV_PCREL_LO12_I`/`_S` right after the `PCREL_HI20` it refers to, so the
//! streaming loader pairs them with its small fixed table (see `docs/STREAM-ORDER.md`).

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use object::elf::{
    R_RISCV_GOT_HI20, R_RISCV_PCREL_HI20, R_RISCV_PCREL_LO12_I, R_RISCV_PCREL_LO12_S,
    R_RISCV_RELAX, R_RISCV_TLS_GD_HI20, R_RISCV_TLS_GOT_HI20,
};
use object::pod;

use super::class::Class;
use super::read::Input;

/// The relocation types a `PCREL_LO12` can refer to (the `auipc` of a PC-relative pair).
fn is_hi(t: u32) -> bool {
    [
        R_RISCV_PCREL_HI20.0,
        R_RISCV_GOT_HI20.0,
        R_RISCV_TLS_GOT_HI20.0,
        R_RISCV_TLS_GD_HI20.0,
    ]
    .contains(&t)
}

fn is_lo(t: u32) -> bool {
    t == R_RISCV_PCREL_LO12_I.0 || t == R_RISCV_PCREL_LO12_S.0
}

/// Reorders the `RELA` entries `data` (entries of `size` bytes, patching section `target`) so
/// each `PCREL_LO12` entry, with the `R_RISCV_RELAX` at the same offset that follows it, comes
/// right after its `PCREL_HI20` (and that one's own `R_RISCV_RELAX`). Other entries keep their
/// relative order, so `ADD`/`SUB` and `SET_ULEB128`/`SUB_ULEB128` pairs stay adjacent; ld
/// resolves `PCREL_LO12`s after the whole section, so its output does not change.
///
/// Symbol indices are the input's (`data` is not renumbered yet) and were validated by `read`;
/// a `PCREL_LO12` whose `auipc` is not found is left where it is.
pub(super) fn pair_pcrel_lo<C: Class>(
    input: &Input<'_>,
    target: usize,
    data: &[u8],
    size: usize,
) -> Vec<u8> {
    let entries: Vec<(u64, u32, u32)> = data
        .chunks_exact(size)
        .map(|e| match pod::from_bytes::<C::Rel>(e) {
            Ok((r, _)) => (C::r_offset(r), C::r_type(r), C::r_sym(r)),
            Err(()) => (0, 0, 0), // unreachable: every entry is at least a Rel
        })
        .collect();
    let n = entries.len();
    let companion = |i: usize| {
        (i + 1 < n && entries[i + 1].1 == R_RISCV_RELAX.0 && entries[i + 1].0 == entries[i].0)
            .then_some(i + 1)
    };
    let hi_at: BTreeMap<u64, usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| is_hi(e.1))
        .map(|(i, e)| (e.0, i))
        .collect();

    // Entries to emit after entry `h` (a PCREL_HI20), and those taken from their place.
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut moved = vec![false; n];
    for (i, &(_, t, sym)) in entries.iter().enumerate() {
        let Some(s) = input.symbols.get(sym as usize).filter(|_| is_lo(t)) else {
            continue;
        };
        if usize::from(s.sym.shndx) != target {
            continue;
        }
        let Some(&h) = hi_at.get(&s.sym.value) else {
            continue;
        };
        for k in core::iter::once(i).chain(companion(i)) {
            after[h].push(k);
            moved[k] = true;
        }
    }

    let mut order = Vec::with_capacity(n);
    for i in 0..n {
        if moved[i] {
            continue;
        }
        order.push(i);
        if !after[i].is_empty() {
            if let Some(c) = companion(i).filter(|&c| !moved[c]) {
                order.push(c);
                moved[c] = true;
            }
            order.extend_from_slice(&after[i]);
        }
    }
    let mut out = Vec::with_capacity(data.len());
    for i in order {
        out.extend_from_slice(&data[i * size..(i + 1) * size]);
    }
    out
}
