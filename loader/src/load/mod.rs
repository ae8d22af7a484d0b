//! The load: one pass over the ELF in the order a stream delivers it (see `docs/STREAM-ORDER.md`),
//! as a synchronous state machine ([`Loader`]) with small drivers around it.
//!
//! Phases: header, section headers, section names, symbols, symbol names (resolving undefined
//! symbols), regions, then section contents and the relocations that patch them.

mod driver;
mod machine;
mod names;
mod paged;
mod phases;
mod provided;
mod relocate;
mod resolve;
mod sections;
mod strings;
mod symbols;
mod table;
mod work;

pub use driver::ReadAt;
pub(crate) use driver::{drive, drive_blocking};
pub use machine::{Loader, Need};
pub use names::{NameReader, Seeked, Streamed};
pub(crate) use paged::{Linking, PagedSection};
pub use sections::Span;
pub use strings::MAX_NAME;
pub(crate) use table::Table;

/// Bounds on what one load may use, so a hostile or broken file cannot exhaust time or memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most section headers (ELF without extended numbering has at most 0xff00).
    pub max_sections: u32,
    /// Most symbol table entries.
    pub max_symbols: u32,
    /// Most relocation entries, all sections together.
    pub max_relocations: u32,
    /// Largest final image (all regions), in bytes.
    pub max_image: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_sections: 0xff00,
            max_symbols: 1 << 16,
            max_relocations: 1 << 20,
            max_image: 64 << 20,
        }
    }
}

/// What a load is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct LoadParams {
    /// Bounds on the load.
    pub limits: Limits,
    /// The architecture extensions must be built for; `None` accepts any the loader links
    /// (for preparing images on a host). Defaults to the one this code runs on.
    pub arch: Option<crate::arch::Arch>,
}

impl Default for LoadParams {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            arch: crate::arch::Arch::native(),
        }
    }
}

/// Something the loader reports while it works, besides the error it may return.
#[derive(Clone, Copy, Debug)]
pub enum Report<'a> {
    /// An undefined symbol that nothing exports (every one is reported, not just the first).
    MissingSymbol(&'a str),
    /// Where a loaded section goes: `offset` bytes into the region of `kind`.
    Placed {
        /// Section index in the file.
        section: u32,
        /// Its region.
        kind: crate::memory::MemKind,
        /// Offset in the region.
        offset: u32,
        /// Size in bytes.
        size: u32,
    },
    /// The relocations of a loaded section are applied.
    Relocated {
        /// Section index in the file.
        section: u32,
        /// Relocation entries applied to it.
        relocations: u32,
        /// Loader-made slots (veneers, GOT entries) of the whole load so far.
        trampolines: u32,
    },
}
