//! Symbol lookup: the firmware's export table (built at compile time, sorted by name hash) and
//! the resolver interface the loader asks for undefined symbols.

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

/// Something that maps names to addresses: the firmware's exports, an exports file on the host.
pub trait Resolve {
    /// The address exported under `name`, if any.
    fn resolve(&self, name: &[u8]) -> Option<u64>;
}

impl<T: Resolve + ?Sized> Resolve for &T {
    fn resolve(&self, name: &[u8]) -> Option<u64> {
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
