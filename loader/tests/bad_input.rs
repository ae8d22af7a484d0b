//! Malformed files: every one is an error, never a panic, never a write outside a block, never
//! a leak. Includes a property test mutating real objects thousands of times.

mod common;

use common::*;
use llext_loader::Error;
use llext_loader::pack::{PackOptions, pack};

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}
fn u64_at(b: &[u8], o: usize) -> usize {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize
}

/// ELF64 section header `i`'s offset in the file.
fn shdr(b: &[u8], i: usize) -> usize {
    u64_at(b, 0x28) + i * 64
}

/// Index of the first section of type `t`.
fn section_of_type(b: &[u8], t: u32) -> usize {
    (0..u16_at(b, 0x3c))
        .find(|&i| u32::from_le_bytes(b[shdr(b, i) + 4..shdr(b, i) + 8].try_into().unwrap()) == t)
        .unwrap()
}

fn sample() -> Vec<u8> {
    cc(&scratch("bad"), "s", SAMPLE, &["-O2"])
}

/// Loads through both paths and checks nothing leaked or was overwritten.
fn expect_error(bytes: &[u8]) -> Error {
    let mut reg = registry();
    let e = load_slice(&mut reg, "x", bytes).map(|_| ()).unwrap_err().0;
    assert_eq!(reg.provider().held, 0, "leak after {e:?}");
    e
}

/// Loads, and if it loaded, unloads; either way nothing may leak or be overwritten.
fn load_any(bytes: &[u8], stream: bool) {
    let mut reg = registry();
    let r = if stream {
        load_stream(&mut reg, "x", bytes)
    } else {
        load_slice(&mut reg, "x", bytes)
    };
    if let Ok(slot) = r {
        reg.provider().check();
        reg.unload(slot).unwrap();
    } else {
        let msg = r.unwrap_err().0.to_string();
        assert!(!msg.is_empty());
    }
    assert_eq!(reg.provider().held, 0);
    assert_eq!(reg.provider().live_blocks(), 0);
}

#[test]
fn rejects_big_endian_and_executables() {
    let mut b = sample();
    b[5] = 2;
    assert_eq!(expect_error(&b), Error::BigEndian);
    let mut b = sample();
    b[16] = 2; // ET_EXEC
    let e = expect_error(&b);
    assert_eq!(e, Error::NotRelocatable { e_type: 2 });
    assert!(e.to_string().contains("ET_REL"));
    assert_eq!(expect_error(b"not an elf at all, just text"), Error::NotElf);
}

#[test]
fn every_truncation_is_an_error() {
    let b = sample();
    let packed = pack(&b, &PackOptions::default()).unwrap();
    for cut in 0..packed.len() {
        let mut reg = registry();
        let e = load_stream(&mut reg, "x", &packed[..cut])
            .map(|_| ())
            .unwrap_err()
            .0;
        assert!(
            matches!(
                e,
                Error::UnexpectedEof { .. } | Error::Malformed { .. } | Error::NotElf
            ),
            "cut {cut}: {e:?}"
        );
        assert_eq!(reg.provider().held, 0, "cut {cut}");
    }
    for cut in (0..b.len()).step_by(7) {
        expect_error(&b[..cut]);
    }
}

#[test]
fn relocation_offset_outside_its_section_is_an_error() {
    let mut b = sample();
    let rela = section_of_type(&b, 4);
    let first = u64_at(&b, shdr(&b, rela) + 24);
    b[first..first + 8].copy_from_slice(&0x7fff_0000u64.to_le_bytes());
    let e = expect_error(&b);
    assert!(
        matches!(
            e,
            Error::Malformed {
                what: "relocation offset outside its section",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn symbol_and_section_indices_out_of_range_are_errors() {
    let b = sample();
    let rela = section_of_type(&b, 4);
    let first = u64_at(&b, shdr(&b, rela) + 24);
    let mut bad_sym = b.clone();
    bad_sym[first + 12..first + 16].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    assert!(matches!(
        expect_error(&bad_sym),
        Error::Malformed {
            what: "relocation symbol index",
            ..
        }
    ));

    let mut bad_target = b.clone();
    let info = shdr(&b, rela) + 44;
    bad_target[info..info + 4].copy_from_slice(&999u32.to_le_bytes());
    assert!(matches!(expect_error(&bad_target), Error::Malformed { .. }));

    let mut bad_shndx = b.clone();
    let symtab = section_of_type(&b, 2);
    let sym1 = u64_at(&b, shdr(&b, symtab) + 24) + 24 * 3;
    bad_shndx[sym1 + 6..sym1 + 8].copy_from_slice(&0x7000u16.to_le_bytes());
    assert!(matches!(expect_error(&bad_shndx), Error::Malformed { .. }));
}

#[test]
fn absurd_counts_and_sizes_hit_limits() {
    let mut b = sample();
    b[0x3c..0x3e].copy_from_slice(&0xffffu16.to_le_bytes());
    assert!(matches!(
        expect_error(&b),
        Error::Limit {
            what: "section count",
            ..
        }
    ));

    let mut b = sample();
    let symtab = section_of_type(&b, 2);
    let size = shdr(&b, symtab) + 32;
    b[size..size + 8].copy_from_slice(&(24u64 * 1_000_000).to_le_bytes());
    let e = expect_error(&b);
    assert!(
        matches!(
            e,
            Error::Limit {
                what: "symbol count",
                ..
            } | Error::Malformed { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn overlapping_sections_are_an_error() {
    let mut b = sample();
    let symtab = section_of_type(&b, 2);
    let rela = section_of_type(&b, 4);
    let off = u64_at(&b, shdr(&b, symtab) + 24);
    let at = shdr(&b, rela) + 24;
    b[at..at + 8].copy_from_slice(&(off as u64).to_le_bytes());
    let e = expect_error(&b);
    assert!(
        matches!(
            e,
            Error::Malformed {
                what: "sections overlap",
                ..
            }
        ),
        "{e:?}"
    );
}

/// xorshift: deterministic, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn thousands_of_mutated_objects_never_panic_leak_or_scribble() {
    let dir = scratch("mutate");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0;
    for flags in FLAG_SETS {
        let obj = cc(&dir, "m", SAMPLE, flags);
        let packed = pack(&obj, &PackOptions::default()).unwrap();
        let sht = u64_at(&obj, 0x28);
        for i in 0..1000 {
            let (base, stream) = if i % 2 == 0 {
                (&obj, false)
            } else {
                (&packed, true)
            };
            let mut m = base.clone();
            match rng.below(4) {
                // Bit flips anywhere.
                0 => {
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(m.len());
                        m[at] ^= 1 << rng.below(8);
                    }
                }
                // A truncation.
                1 => m.truncate(rng.below(m.len())),
                // A header field set to an extreme value.
                2 => {
                    let hdr_base = if stream { 64 } else { sht };
                    let n = u16_at(&m, 0x3c).max(1);
                    let at = hdr_base + 64 * rng.below(n) + 8 * rng.below(8);
                    let v = [0u64, 1, u64::MAX, 0x8000_0000, 0xffff_ffff, rng.next()][rng.below(6)];
                    if at + 8 <= m.len() {
                        m[at..at + 8].copy_from_slice(&v.to_le_bytes());
                    }
                }
                // A random byte in the section header table or symbol table area.
                _ => {
                    let at = if stream {
                        64 + rng.below(m.len() - 64)
                    } else {
                        sht + rng.below(m.len() - sht)
                    };
                    m[at] = rng.next() as u8;
                }
            }
            load_any(&m, stream);
            runs += 1;
        }
    }
    assert_eq!(runs, 4000);
}

/// Inputs the fuzzer found (`loader/fuzz`), kept as regression tests.
#[test]
fn fuzzer_findings_stay_fixed() {
    // A COMMON symbol whose size overflowed the bss layout arithmetic.
    let bytes = include_bytes!("data/fuzz-common-size-overflow.bin");
    load_any(bytes, false);
    load_any(bytes, true);
}
