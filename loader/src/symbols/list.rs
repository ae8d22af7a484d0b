//! An export table built at run time: host tools read one from an exports file
//! (`NAME 0xADDRESS` per line), benchmarks generate one.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Resolve, SymName, hash};

/// Names and addresses sorted by name hash, looked up like [`super::ExportTable`].
#[derive(Clone, Debug, Default)]
pub struct ExportList {
    entries: Vec<(u64, String, u64)>,
}

impl ExportList {
    /// A table of `(name, address)` pairs.
    pub fn new<'a>(items: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut entries: Vec<_> = items
            .into_iter()
            .map(|(n, a)| (hash(n.as_bytes()), n.to_string(), a))
            .collect();
        entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        entries.dedup_by(|a, b| a.1 == b.1);
        Self { entries }
    }

    /// Parses an exports file: one `NAME ADDRESS` per line (`0x` hex or decimal); blank lines and
    /// lines starting with `#` are ignored. The error names the bad line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut items = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(name), Some(addr), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(alloc::format!(
                    "line {}: expected `NAME 0xADDRESS`, found `{line}`",
                    i + 1
                ));
            };
            let addr = parse_addr(addr)
                .ok_or_else(|| alloc::format!("line {}: bad address `{addr}`", i + 1))?;
            items.push((name, addr));
        }
        Ok(Self::new(items))
    }

    /// The entries as `(name, address)`, in hash order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(_, n, a)| (n.as_str(), *a))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Parses `0x`-prefixed hex or decimal.
pub fn parse_addr(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

impl Resolve for ExportList {
    fn resolve(&self, name: &SymName<'_>) -> Option<u64> {
        let h = name.hash;
        let start = self.entries.partition_point(|e| e.0 < h);
        self.entries[start..]
            .iter()
            .take_while(|e| e.0 == h)
            .find(|e| name.matches(e.1.as_bytes()))
            .map(|e| e.2)
    }
}
