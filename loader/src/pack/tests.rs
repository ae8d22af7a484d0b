//! Unit tests on hand-built objects, for what compilers seldom produce: a string table shared
//! by section and symbol names (as LLVM writes it) and symbol removal.

use alloc::vec;
use alloc::vec::Vec;

use super::class::Elf64;
use super::read::read;
use super::{PackError, PackOptions, pack};

/// One section of a hand-built ELF64: name offset, type, flags, link, info, align, entsize, data.
type Spec = (u32, u32, u64, u32, u32, u64, u64, Vec<u8>);

/// An ELF64 `ET_REL` with the header table last, like compilers write it.
fn build(sections: &[Spec], shstrndx: u16) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for s in sections {
        offsets.push(64 + data.len() as u64);
        data.extend_from_slice(&s.7);
        data.resize(data.len().next_multiple_of(8), 0);
    }
    let shoff = 64 + data.len() as u64;
    let mut out = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&1u16.to_le_bytes()); // ET_REL
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&[0; 16]); // e_entry, e_phoff
    out.extend_from_slice(&shoff.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 0, 0, 64, sections.len() as u16 + 1, shstrndx] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0; 64]);
    for (s, offset) in sections.iter().zip(offsets) {
        let (name, kind, flags, link, info, align, entsize, ref bytes) = *s;
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        for v in [flags, 0, offset, bytes.len() as u64] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&link.to_le_bytes());
        out.extend_from_slice(&info.to_le_bytes());
        out.extend_from_slice(&align.to_le_bytes());
        out.extend_from_slice(&entsize.to_le_bytes());
    }
    out
}

fn sym(name: u32, info: u8, shndx: u16) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&name.to_le_bytes());
    s.extend_from_slice(&[info, 0]);
    s.extend_from_slice(&shndx.to_le_bytes());
    s.extend_from_slice(&[0; 16]);
    s
}

fn rela(symbol: u32) -> Vec<u8> {
    let mut r = vec![0; 8];
    r.extend_from_slice(&((u64::from(symbol) << 32) | 1).to_le_bytes());
    r.extend_from_slice(&[0; 8]);
    r
}

/// `.text` with a relocation against `foo`, `.debug_info` with one against its own section
/// symbol; section and symbol names share `.strtab` (index 6).
fn shared_strtab_object(text_reloc_symbol: u32) -> Vec<u8> {
    let names = b"\0.text\0.debug_info\0.rela.text\0.rela.debug_info\0.symtab\0.strtab\0foo\0bar\0";
    let symbols = [
        sym(0, 0, 0),
        sym(0, 3, 1),     // STT_SECTION .text
        sym(0, 3, 2),     // STT_SECTION .debug_info
        sym(63, 0x12, 1), // foo: global function in .text
        sym(67, 0x10, 0), // bar: undefined
    ]
    .concat();
    build(
        &[
            (1, 1, 6, 0, 0, 4, 0, vec![0x90; 8]),
            (7, 1, 0, 0, 0, 1, 0, vec![0; 4]),
            (19, 4, 0x40, 5, 1, 8, 24, rela(text_reloc_symbol)),
            (30, 4, 0x40, 5, 2, 8, 24, rela(2)),
            (47, 2, 0, 6, 3, 8, 24, symbols),
            (55, 3, 0, 0, 0, 1, 0, names.to_vec()),
        ],
        6,
    )
}

#[test]
fn splits_a_shared_string_table_and_renumbers_symbols() {
    let input = shared_strtab_object(3);
    let out = pack(&input, &PackOptions::default()).unwrap();
    let file = read::<Elf64>(&out).unwrap();
    let names: Vec<&[u8]> = file.sections.iter().map(|s| s.name).collect();
    let expected: [&[u8]; 6] = [
        b"",
        b".shstrtab",
        b".symtab",
        b".strtab",
        b".text",
        b".rela.text",
    ];
    assert_eq!(names, expected);
    assert_eq!(
        file.sections[1].data,
        b"\0.shstrtab\0.symtab\0.strtab\0.text\0.rela.text\0"
    );
    assert_eq!(file.sections[3].data, b"\0foo\0");
    // The `.debug_info` section symbol is gone: foo moves from 3 to 2, locals end at 2. `bar`,
    // undefined and used by no relocation, goes too: ld would not require it.
    let symbols: Vec<&[u8]> = file.symbols.iter().map(|s| s.name).collect();
    assert_eq!(symbols, [&b""[..], b"", b"foo"]);
    assert_eq!(file.sections[2].hdr.info, 2);
    assert_eq!(file.symbols[2].sym.shndx, 4);
    assert_eq!(file.sections[5].data, rela(2));
    assert_eq!(file.sections[5].hdr.info, 4);
    assert_eq!(pack(&out, &PackOptions::default()).unwrap(), out);
}

#[test]
fn keep_all_keeps_every_symbol() {
    let input = shared_strtab_object(3);
    let out = pack(&input, &PackOptions { keep_all: true }).unwrap();
    let file = read::<Elf64>(&out).unwrap();
    assert_eq!(file.sections.len(), 8);
    assert_eq!(file.symbols.len(), 5);
    assert_eq!(file.sections[5].name, b".rela.text");
    assert_eq!(file.sections[5].data, rela(3));
    assert_eq!(file.sections[7].name, b".rela.debug_info");
    assert_eq!(file.sections[7].hdr.info, 6);
    assert_eq!(pack(&out, &PackOptions { keep_all: true }).unwrap(), out);
}

#[test]
fn relocation_against_a_removed_symbol_is_an_error() {
    let input = shared_strtab_object(2);
    let err = pack(&input, &PackOptions::default()).unwrap_err();
    assert!(matches!(err, PackError::Section { index: 3, .. }));
    let message = alloc::format!("{err}");
    assert!(
        message.starts_with("section 3 (.rela.text): relocation 0: symbol 2 points into a dropped"),
        "{message}"
    );
    assert!(pack(&input, &PackOptions { keep_all: true }).is_ok());
}
