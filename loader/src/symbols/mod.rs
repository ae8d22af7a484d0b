//! Symbol lookup: the firmware's export table (built at compile time, sorted by name hash) and
//! the resolver interface the loader asks for undefined symbols.

pub mod fingerprint;
#[cfg(feature = "alloc")]
mod list;
mod table;

#[cfg(feature = "alloc")]
pub use list::{ExportList, parse_addr};
pub use table::{Export, ExportTable, sort_exports};

/// FNV-1a, 64-bit: cheap, streamable, and good enough to index names (names are compared too).
pub const fn hash(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < name.len() {
        h ^= name[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// A symbol name as a streaming load sees it: its first bytes, its length and the [`hash`] of
/// all of it. The loader holds at most [`crate::load::MAX_NAME`] bytes of a name; a longer name
/// is still matched, by its length, its first bytes and the hash of the whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymName<'a> {
    /// The first bytes (all of them when [`SymName::is_whole`]).
    pub prefix: &'a [u8],
    /// Length of the whole name in bytes.
    pub len: usize,
    /// [`hash`] of the whole name.
    pub hash: u64,
}

impl<'a> SymName<'a> {
    /// A name held whole.
    pub const fn whole(name: &'a [u8]) -> Self {
        Self {
            prefix: name,
            len: name.len(),
            hash: hash(name),
        }
    }

    /// Whether [`SymName::prefix`] is the whole name.
    pub fn is_whole(&self) -> bool {
        self.prefix.len() == self.len
    }

    /// Whether `name` is this name (for a long name: same length, first bytes and hash).
    pub fn matches(&self, name: &[u8]) -> bool {
        name.len() == self.len
            && name.starts_with(self.prefix)
            && (self.is_whole() || hash(name) == self.hash)
    }
}

/// Something that maps names to addresses: the firmware's exports, an exports file on the host.
pub trait Resolve {
    /// The address exported under `name`, if any.
    fn resolve(&self, name: &SymName<'_>) -> Option<u64>;
}

impl<T: Resolve + ?Sized> Resolve for &T {
    fn resolve(&self, name: &SymName<'_>) -> Option<u64> {
        (**self).resolve(name)
    }
}

/// Builds a firmware export table at compile time: `exports!["memcpy" => memcpy, "puts" => my_puts]`.
///
/// The table is sorted by name hash during constant evaluation, so lookups are a binary search
/// with no start-up cost; a name exported twice fails the build.
#[macro_export]
macro_rules! exports {
    ($($name:literal => $item:expr),* $(,)?) => {{
        const TABLE: &[$crate::symbols::Export] = &$crate::symbols::sort_exports(
            [$($crate::symbols::Export::new($name, $item as *const ())),*]
        );
        $crate::symbols::ExportTable::new(TABLE)
    }};
}
