//! Editing section headers of little-endian ELF objects (32- and 64-bit), to build the hostile
//! inputs tests install and push (a section pointing past the end of the file, sizes at their
//! extremes).

/// A section header field the tests change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `sh_offset`: where the contents are in the file.
    Offset,
    /// `sh_size`: how many bytes they take.
    Size,
    /// `sh_addralign`.
    Align,
    /// `sh_info` (for a relocation section: the section it patches).
    Info,
    /// `sh_link` (for a relocation section: its symbol table).
    Link,
}

impl Field {
    /// Byte offset of the field in a section header, and its width, for ELF64 or ELF32.
    fn at(self, wide: bool) -> (usize, usize) {
        match (self, wide) {
            (Field::Offset, true) => (0x18, 8),
            (Field::Size, true) => (0x20, 8),
            (Field::Align, true) => (0x30, 8),
            (Field::Info, true) => (0x2c, 4),
            (Field::Link, true) => (0x28, 4),
            (Field::Offset, false) => (0x10, 4),
            (Field::Size, false) => (0x14, 4),
            (Field::Link, false) => (0x18, 4),
            (Field::Info, false) => (0x1c, 4),
            (Field::Align, false) => (0x20, 4),
        }
    }
}

fn uint(b: &[u8], at: usize, width: usize) -> usize {
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(&b[at..at + width]);
    u64::from_le_bytes(v) as usize
}

/// Whether `obj` is ELF64 (else ELF32).
fn wide(obj: &[u8]) -> bool {
    obj[4] == 2
}

/// `(e_shoff, e_shentsize, e_shnum, e_shstrndx)` of `obj`.
fn table(obj: &[u8]) -> (usize, usize, usize, usize) {
    if wide(obj) {
        (
            uint(obj, 0x28, 8),
            uint(obj, 0x3a, 2),
            uint(obj, 0x3c, 2),
            uint(obj, 0x3e, 2),
        )
    } else {
        (
            uint(obj, 0x20, 4),
            uint(obj, 0x2e, 2),
            uint(obj, 0x30, 2),
            uint(obj, 0x32, 2),
        )
    }
}

/// How many section headers `obj` has.
pub fn section_count(obj: &[u8]) -> usize {
    table(obj).2
}

/// The value of `field` of section `index`.
pub fn section_field(obj: &[u8], index: usize, field: Field) -> u64 {
    let (shoff, size, _, _) = table(obj);
    let (at, width) = field.at(wide(obj));
    uint(obj, shoff + index * size + at, width) as u64
}

/// Where `field` of section `index` is in the file, and its width.
pub fn field_position(obj: &[u8], index: usize, field: Field) -> (usize, usize) {
    let (shoff, size, _, _) = table(obj);
    let (at, width) = field.at(wide(obj));
    (shoff + index * size + at, width)
}

/// The file offset of the header of the section named `name` in `obj`.
pub fn section_header(obj: &[u8], name: &str) -> Option<usize> {
    let (shoff, size, count, strndx) = table(obj);
    let names = section_field(obj, strndx, Field::Offset) as usize;
    (0..count).map(|i| shoff + i * size).find(|&h| {
        let n = names + uint(obj, h, 4);
        obj[n..].split(|&c| c == 0).next() == Some(name.as_bytes())
    })
}

/// Sets `field` of section `name` to `value` (cut to the field's width); panics if the object
/// has no such section.
pub fn set_section_field(obj: &mut [u8], name: &str, field: Field, value: u64) {
    let h = section_header(obj, name).unwrap_or_else(|| panic!("no section {name}"));
    let (at, width) = field.at(wide(obj));
    obj[h + at..h + at + width].copy_from_slice(&value.to_le_bytes()[..width]);
}
