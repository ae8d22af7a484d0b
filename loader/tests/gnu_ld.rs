//! Relocations checked byte for byte against GNU ld, per architecture.

mod common;

use common::gnu_ld::{Oracle, compare};
use common::*;
use llext_loader::arch::Arch;

#[test]
fn x86_64_matches_gnu_ld_byte_for_byte() {
    let dir = scratch("ld-x86");
    for (i, flags) in FLAG_SETS.iter().enumerate() {
        // -fPIC code uses GOTPCRELX, which both relax to lea; ld also needs -z norelro-free output.
        let obj = cc(&dir, &format!("s{i}"), SAMPLE, flags);
        let o = Oracle {
            ld: "ld",
            ld_args: &["-m", "elf_x86_64", "-z", "noexecstack"],
            base: 0x40_0000,
            exports_base: 0x1000,
            thumb_bit: false,
            arch: Arch::X86_64,
        };
        compare(&dir, &format!("x86-{i}"), &obj, &o);
    }
}
