//! The firmware export table: entries sorted by name hash, looked up by binary search.

use super::{Resolve, SymName, hash};

/// One exported firmware symbol.
#[derive(Clone, Copy, Debug)]
pub struct Export {
    /// FNV-1a hash of `name`.
    pub hash: u64,
    /// The symbol name extensions refer to.
    pub name: &'static str,
    /// Its address (for a Thumb function, with bit 0 set, as the compiler gives it).
    pub addr: *const (),
}

// SAFETY: `addr` is only an address: the loader never dereferences it, it only writes it into
// relocated code. Sharing it between threads shares no data.
unsafe impl Sync for Export {}
// SAFETY: as above.
unsafe impl Send for Export {}

impl Export {
    /// An entry for `name` at `addr`.
    pub const fn new(name: &'static str, addr: *const ()) -> Self {
        Self {
            hash: hash(name.as_bytes()),
            name,
            addr,
        }
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Sorts entries by hash at compile time and rejects duplicate names.
pub const fn sort_exports<const N: usize>(mut e: [Export; N]) -> [Export; N] {
    let mut i = 1;
    while i < N {
        let mut j = i;
        while j > 0 && e[j - 1].hash > e[j].hash {
            let t = e[j - 1];
            e[j - 1] = e[j];
            e[j] = t;
            j -= 1;
        }
        i += 1;
    }
    let mut k = 1;
    while k < N {
        let mut m = k;
        while m > 0 && e[m - 1].hash == e[k].hash {
            assert!(!same(e[m - 1].name, e[k].name), "a name is exported twice");
            m -= 1;
        }
        k += 1;
    }
    e
}

/// A sorted export table (see [`crate::exports!`]).
#[derive(Clone, Copy)]
pub struct ExportTable {
    entries: &'static [Export],
}

impl ExportTable {
    /// Wraps entries already sorted by [`sort_exports`].
    pub const fn new(entries: &'static [Export]) -> Self {
        Self { entries }
    }

    /// All entries, in hash order.
    pub fn entries(&self) -> &'static [Export] {
        self.entries
    }

    /// An identifier of this table's contents (names and addresses): a host compares it with
    /// the one its exports file was made from.
    // Out of line: several callers on the device each carried a copy (measured).
    #[inline(never)]
    pub fn id(&self) -> u32 {
        let mut h = hash(b"");
        for e in self.entries {
            h = (h ^ e.hash).wrapping_mul(0x0000_0100_0000_01b3);
            h = (h ^ e.addr as usize as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        (h ^ (h >> 32)) as u32
    }

    /// The entry for `name`.
    pub fn find(&self, name: &[u8]) -> Option<&'static Export> {
        self.find_name(&SymName::whole(name))
    }

    /// The entry for a name seen while streaming.
    pub fn find_name(&self, name: &SymName<'_>) -> Option<&'static Export> {
        let h = name.hash;
        let start = self.entries.partition_point(|e| e.hash < h);
        self.entries[start..]
            .iter()
            .take_while(|e| e.hash == h)
            .find(|e| name.matches(e.name.as_bytes()))
    }
}

impl Resolve for ExportTable {
    fn resolve(&self, name: &SymName<'_>) -> Option<u64> {
        self.find_name(name).map(|e| e.addr as usize as u64)
    }
}
