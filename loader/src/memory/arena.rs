//! Free-range bookkeeping of one mapped chunk: first fit over page-granular offsets, freed
//! ranges merged with their neighbours. No system calls here; `host.rs` makes them.

use std::vec::Vec;

/// The free ranges of a chunk of `len` bytes, as sorted, non-adjacent `(offset, length)`.
pub(crate) struct Arena {
    len: usize,
    free: Vec<(usize, usize)>,
}

impl Arena {
    /// A chunk of `len` bytes, all free.
    pub(crate) fn new(len: usize) -> Self {
        Self {
            len,
            free: std::vec![(0, len)],
        }
    }

    /// The offset of `size` bytes taken from the first range that holds them.
    pub(crate) fn take(&mut self, size: usize) -> Option<usize> {
        let i = self.free.iter().position(|&(_, l)| l >= size)?;
        let (off, l) = self.free[i];
        if l == size {
            self.free.remove(i);
        } else {
            self.free[i] = (off + size, l - size);
        }
        Some(off)
    }

    /// Gives `off..off+size` back, merged with free neighbours.
    pub(crate) fn give(&mut self, off: usize, size: usize) {
        let i = self.free.partition_point(|&(o, _)| o < off);
        debug_assert!(i == 0 || self.free[i - 1].0 + self.free[i - 1].1 <= off);
        debug_assert!(i == self.free.len() || off + size <= self.free[i].0);
        let joins_prev = i > 0 && self.free[i - 1].0 + self.free[i - 1].1 == off;
        let joins_next = i < self.free.len() && off + size == self.free[i].0;
        match (joins_prev, joins_next) {
            (true, true) => {
                self.free[i - 1].1 += size + self.free[i].1;
                self.free.remove(i);
            }
            (true, false) => self.free[i - 1].1 += size,
            (false, true) => self.free[i] = (off, size + self.free[i].1),
            (false, false) => self.free.insert(i, (off, size)),
        }
    }

    /// Whether nothing is taken.
    pub(crate) fn is_empty(&self) -> bool {
        self.free == [(0, self.len)]
    }
}

#[cfg(test)]
mod tests {
    use super::Arena;

    #[test]
    fn ranges_are_reused_and_merge_back_into_one() {
        let mut a = Arena::new(10);
        let (x, y, z) = (a.take(3).unwrap(), a.take(3).unwrap(), a.take(3).unwrap());
        assert_eq!((x, y, z), (0, 3, 6));
        assert_eq!(a.take(2), None, "only 1 left");
        a.give(y, 3);
        assert_eq!(a.take(2), Some(3), "first fit reuses the hole");
        a.give(3, 2);
        a.give(x, 3);
        assert!(!a.is_empty());
        a.give(z, 3);
        assert!(a.is_empty(), "{:?}", a.free);
        assert_eq!(a.take(10), Some(0));
    }
}
