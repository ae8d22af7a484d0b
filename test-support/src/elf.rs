//! Editing section headers of little-endian ELF64 objects, to build the hostile inputs tests
//! install and push (a section pointing past the end of the file, sizes at their extremes).

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
    /// Byte offset of the field in an ELF64 section header, and its width.
    fn at(self) -> (usize, usize) {
        match self {
            Field::Offset => (0x18, 8),
            Field::Size => (0x20, 8),
            Field::Align => (0x30, 8),
            Field::Info => (0x2c, 4),
            Field::Link => (0x28, 4),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u64_at(b: &[u8], at: usize) -> usize {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes")) as usize
}

/// The file offset of the header of the section named `name` in ELF64 object `obj`.
pub fn section_header(obj: &[u8], name: &str) -> Option<usize> {
    let (shoff, size, count) = (u64_at(obj, 0x28), u16_at(obj, 0x3a), u16_at(obj, 0x3c));
    let strtab = shoff + u16_at(obj, 0x3e) * size;
    let names = u64_at(obj, strtab + 0x18);
    (0..count).map(|i| shoff + i * size).find(|&h| {
        let n = names + u32::from_le_bytes(obj[h..h + 4].try_into().expect("4 bytes")) as usize;
        obj[n..].split(|&c| c == 0).next() == Some(name.as_bytes())
    })
}

/// Sets `field` of section `name` to `value` (cut to the field's width); panics if the object
/// has no such section.
pub fn set_section_field(obj: &mut [u8], name: &str, field: Field, value: u64) {
    let h = section_header(obj, name).unwrap_or_else(|| panic!("no section {name}"));
    let (at, width) = field.at();
    obj[h + at..h + at + width].copy_from_slice(&value.to_le_bytes()[..width]);
}
