//! A loaded extension: its regions, its exports, its init/fini arrays.

use crate::Name;
use crate::arch::Arch;
use crate::load::Span;
use crate::memory::{Block, MemKind};
use crate::symbols::SymName;

/// One exported symbol of an extension: 16 bytes in metadata memory, sorted by hash.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct ExtExport {
    pub hash: u64,
    pub addr: u64,
}

/// What a load measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Bytes of the file the loader read or skipped.
    pub file_bytes: u64,
    /// Symbol table entries.
    pub symbols: u32,
    /// Relocations applied.
    pub relocations: u32,
    /// Sections in the file.
    pub sections: u32,
    /// Bytes of the final regions (text, rodata, data, bss, trampolines).
    pub image_bytes: usize,
    /// Bytes kept in metadata for the extension's lifetime (its export index).
    pub kept_metadata: usize,
    /// The most bytes held from the provider at once during the load beyond what is kept.
    pub transient_peak: usize,
}

/// A region of a loaded extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// What it holds.
    pub kind: MemKind,
    /// Its run-time address.
    pub addr: u64,
    /// Its size in bytes.
    pub size: usize,
}

/// Why an address of an extension cannot be jumped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryError {
    /// The extension exports no such symbol.
    NotFound,
    /// The address is not in the extension's code: calling it would run data (a fault on a
    /// board, a crash on a PC).
    NotCode {
        /// Where it points.
        addr: u64,
        /// The extension's region holding it; `None` when it points outside the extension.
        region: Option<MemKind>,
    },
}

impl core::fmt::Display for EntryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EntryError::NotFound => f.write_str("not exported"),
            EntryError::NotCode { addr, region } => {
                let r = match region {
                    None => "outside the extension",
                    Some(MemKind::Rodata) => "into its read-only data",
                    Some(MemKind::Data) => "into its data",
                    Some(MemKind::Bss) => "into its zero-initialised data",
                    Some(_) => "into its loader memory",
                };
                write!(f, "not code: it points {r} (0x{addr:x})")
            }
        }
    }
}

impl core::error::Error for EntryError {}

/// A loaded extension. Owned by a [`crate::Registry`], which frees it on unload.
pub struct Extension {
    pub(crate) name: Name,
    pub(crate) arch: Arch,
    pub(crate) regions: [Option<Block>; 5],
    pub(crate) exports: crate::load::Table<ExtExport>,
    pub(crate) preinit: Span,
    pub(crate) init: Span,
    pub(crate) fini: Span,
    pub(crate) exported: Span,
    pub(crate) ptr_size: usize,
    pub(crate) deps: u32,
    pub(crate) use_count: u16,
    pub(crate) stats: LoadStats,
    /// Loaded in place from flash ([`crate::xip`]): no region came from the provider.
    pub(crate) in_place: bool,
}

impl Extension {
    /// Its name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The architecture it was linked for.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// What the load measured.
    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    /// How many times it was loaded without being unloaded.
    pub fn use_count(&self) -> u16 {
        self.use_count
    }

    /// Registry slots of the extensions it uses, as a bit mask.
    pub fn dependencies(&self) -> u32 {
        self.deps
    }

    /// Whether it runs in place from flash (text and read-only data there, only data and bss
    /// in RAM).
    pub fn in_place(&self) -> bool {
        self.in_place
    }

    /// Its non-empty regions.
    pub fn regions(&self) -> impl Iterator<Item = Region> + '_ {
        MemKind::ALL[..5]
            .iter()
            .zip(&self.regions)
            .filter_map(|(k, b)| {
                b.map(|b| Region {
                    kind: *k,
                    addr: b.addr,
                    size: b.size,
                })
            })
    }

    /// Bytes of its final image.
    pub fn image_bytes(&self) -> usize {
        self.regions.iter().flatten().map(|b| b.size).sum()
    }

    /// The address of a symbol it exports: first the `.exported_sym` table
    /// (`LL_EXTENSION_SYMBOL`), then its global symbols.
    pub fn find_symbol(&self, name: &str) -> Option<u64> {
        self.find_name(&SymName::whole(name.as_bytes()))
    }

    /// [`Extension::find_symbol`] for a name seen while streaming (other extensions resolve
    /// against this one with it).
    pub(crate) fn find_name(&self, name: &SymName<'_>) -> Option<u64> {
        self.find_exported_sym(name)
            .or_else(|| self.find_global(name.hash))
    }

    /// The address of function `name`, only if it lies in the extension's code: what may be
    /// called (an exported table or a `.exported_sym` entry naming data is refused).
    pub fn entry(&self, name: &str) -> Result<u64, EntryError> {
        let addr = self.find_symbol(name).ok_or(EntryError::NotFound)?;
        self.code_at(addr)
    }

    /// `addr` if it lies in the extension's code (text or loader-made stubs).
    pub fn code_at(&self, addr: u64) -> Result<u64, EntryError> {
        match self.locate(addr) {
            Some((kind, _)) if kind.is_code() => Ok(addr),
            found => Err(EntryError::NotCode {
                addr,
                region: found.map(|(k, _)| k),
            }),
        }
    }

    /// Checks that every constructor and destructor lies in the extension's code; the first
    /// one that does not is the error. Run it before [`Extension::bringup`] when the
    /// extension came from a host that may be hostile or broken.
    pub fn check_entries(&self) -> Result<(), EntryError> {
        for f in self.init_functions().chain(self.fini_functions()) {
            self.code_at(f)?;
        }
        Ok(())
    }

    fn find_global(&self, h: u64) -> Option<u64> {
        let e = self.exports.as_slice();
        let i = e.partition_point(|x| x.hash < h);
        // Names are not kept, only their 64-bit hashes: two names of one extension that collide
        // were rejected at load time.
        e.get(i).filter(|x| x.hash == h).map(|x| x.addr)
    }

    fn find_exported_sym(&self, name: &SymName<'_>) -> Option<u64> {
        let n = self.ptr_size;
        let table = self.bytes(MemKind::Rodata, self.exported)?;
        table.chunks_exact(2 * n).find_map(|pair| {
            let name_addr = self.read_addr(&pair[..n]);
            let addr = self.read_addr(&pair[n..]);
            name.matches(self.c_str(name_addr)?).then_some(addr)
        })
    }

    fn read_addr(&self, b: &[u8]) -> u64 {
        let mut v = [0u8; 8];
        v[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(v)
    }

    /// The NUL-terminated string at run-time address `addr`, if it lies in a region.
    fn c_str(&self, addr: u64) -> Option<&[u8]> {
        let (kind, off) = self.locate(addr)?;
        let rest = &self.region_bytes(kind)?[off..];
        let end = rest.iter().position(|&c| c == 0)?;
        Some(&rest[..end])
    }

    /// Which region holds run-time address `addr`, and the offset in it.
    pub fn locate(&self, addr: u64) -> Option<(MemKind, usize)> {
        MemKind::ALL[..5]
            .iter()
            .zip(&self.regions)
            .find_map(|(k, b)| {
                let b = (*b)?;
                b.contains(addr, 1).then(|| (*k, (addr - b.addr) as usize))
            })
    }

    /// The bytes of a region (as the loader wrote them).
    pub fn region_bytes(&self, kind: MemKind) -> Option<&[u8]> {
        let b = self.regions.get(kind.index())?.as_ref()?;
        // SAFETY: the block is live for as long as the extension (freed only on unload, which
        // consumes it), `size` bytes long and was fully initialised by the loader. Code regions
        // are readable after sealing (read-execute).
        Some(unsafe { core::slice::from_raw_parts(b.ptr.as_ptr(), b.size) })
    }

    fn bytes(&self, kind: MemKind, span: Span) -> Option<&[u8]> {
        if span.len == 0 {
            return None;
        }
        self.region_bytes(kind)?
            .get(span.off as usize..(span.off + span.len) as usize)
    }

    fn array(&self, span: Span) -> impl DoubleEndedIterator<Item = u64> + '_ {
        let n = self.ptr_size;
        self.bytes(MemKind::Rodata, span)
            .unwrap_or(&[])
            .chunks_exact(n)
            .map(move |c| self.read_addr(c))
            .filter(move |&a| a != 0 && a != u64::MAX >> (64 - 8 * n as u32))
    }

    /// Addresses of the constructors, in the order bringup runs them (preinit, then init by
    /// priority).
    pub fn init_functions(&self) -> impl Iterator<Item = u64> + '_ {
        self.array(self.preinit).chain(self.array(self.init))
    }

    /// Addresses of the destructors, in the order teardown runs them (fini array reversed).
    pub fn fini_functions(&self) -> impl Iterator<Item = u64> + '_ {
        self.array(self.fini).rev()
    }

    /// Runs the constructors (`.preinit_array`, then `.init_array` by priority).
    ///
    /// # Safety
    /// The extension's code must have been built for this processor and linked against this
    /// firmware's exports; running it is running arbitrary code.
    pub unsafe fn bringup(&self) {
        for f in self.init_functions() {
            // SAFETY: the caller vouches for the extension's code.
            unsafe { call_void(f) }
        }
    }

    /// Runs the destructors (`.fini_array` in reverse).
    ///
    /// # Safety
    /// As [`Extension::bringup`].
    pub unsafe fn teardown(&self) {
        for f in self.fini_functions() {
            // SAFETY: the caller vouches for the extension's code.
            unsafe { call_void(f) }
        }
    }

    /// Bringup, then `entry` (an `int entry(void)`), then teardown; returns what `entry` returned.
    /// Nothing runs when `entry`, a constructor or a destructor is not in the extension's code.
    ///
    /// # Safety
    /// As [`Extension::bringup`]; `entry` must be an exported `int (void)` function.
    pub unsafe fn bootstrap(&self, entry: &str) -> Result<i32, EntryError> {
        let addr = self.entry(entry)?;
        self.check_entries()?;
        // SAFETY: the caller vouches for the extension's code and the signature of `entry`.
        unsafe {
            self.bringup();
            let r = call_int(addr);
            self.teardown();
            Ok(r)
        }
    }
}

/// Calls `void f(void)` at `addr`.
///
/// # Safety
/// `addr` must be the address of such a function, executable in this process.
pub unsafe fn call_void(addr: u64) {
    // SAFETY: per the contract, `addr` is a `void (void)` function with the C ABI.
    let f: extern "C" fn() = unsafe { core::mem::transmute(addr as usize) };
    f()
}

/// Calls `int f(void)` at `addr`.
///
/// # Safety
/// `addr` must be the address of such a function, executable in this process.
pub unsafe fn call_int(addr: u64) -> i32 {
    // SAFETY: per the contract, `addr` is an `int (void)` function with the C ABI.
    let f: extern "C" fn() -> i32 = unsafe { core::mem::transmute(addr as usize) };
    f()
}
