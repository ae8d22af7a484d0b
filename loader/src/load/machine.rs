//! The load as a synchronous state machine fed with bytes (DESIGN.md decision 3).
//!
//! A [`Loader`] says where it needs bytes next ([`Loader::need`]: an offset and a length), the
//! caller reads them into [`Loader::buffer`] and calls [`Loader::filled`], which consumes them
//! and works out the next need. It never awaits and never reads on its own: the async sources
//! ([`crate::source`]) and the blocking driver ([`super::blocking`]) are small loops around it,
//! and [`Loader::feed`] takes bytes in any chunking from a forward-only stream.
//!
//! The phases, in the order a stream brings them (`docs/STREAM-ORDER.md`), are named methods:
//! `header`, `section_headers`, `section_names`, `symbols`, `symbol_names`, (`confirm_missing`),
//! `regions`, `contents_and_relocations`, and [`Loader::finish`].

use core::marker::PhantomData;

use super::names::{Missing, NameReader};
use super::sections::Layout;
use super::strings::{OrderCheck, Splitter};
use super::work::Work;
use super::{LoadParams, Report, Table};
use crate::arch::{Arch, RelocState, Trampolines};
use crate::elf::Class;
use crate::extension::{Extension, LoadStats};
use crate::memory::MemoryProvider;
use crate::symbols::Resolve;
use crate::{Error, Name, Part};

/// Bytes of the loader's scratch buffer: headers, symbol and relocation entries, name chunks.
pub(super) const SCRATCH: usize = 192;

/// The scratch buffer, 8-byte aligned: entries at aligned file offsets arrive by an aligned
/// copy (a Cortex-M copies misaligned bytes at a third of the speed).
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(super) struct Scratch(pub [u8; SCRATCH]);

impl core::ops::Deref for Scratch {
    type Target = [u8; SCRATCH];
    fn deref(&self) -> &[u8; SCRATCH] {
        &self.0
    }
}

impl core::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [u8; SCRATCH] {
        &mut self.0
    }
}

/// What a [`Loader`] needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// `len` bytes of the file from `offset` (at least 1), into [`Loader::buffer`].
    Bytes {
        /// Offset in the file.
        offset: u64,
        /// How many.
        len: usize,
    },
    /// Nothing more: call [`Loader::finish`].
    Done,
}

/// Where the bytes of the current need go.
#[derive(Clone, Copy, Debug)]
pub(super) enum Dest {
    /// The scratch buffer.
    Scratch,
    /// The scratch buffer from this byte on (the rest of the ELF header after its ident).
    ScratchAt(usize),
    /// Straight into loaded section `index`, in its region.
    Section(u32),
}

/// The current need, with what it is for.
#[derive(Clone, Copy, Debug)]
pub(super) struct Request {
    pub offset: u64,
    pub len: usize,
    pub into: Dest,
}

/// Where the load is.
#[derive(Clone, Copy, Debug)]
pub(super) enum Phase {
    Ident,
    Header,
    SectionHeaders {
        next: u32,
    },
    /// A string table streamed in one pass (`left` bytes to go).
    Strings {
        symbols: bool,
        left: u32,
    },
    /// One name read where it is: the entry of `index` (`at` 0), then its bytes from `at`.
    SeekName {
        step: SeekStep,
        index: u32,
        at: u64,
    },
    Symbols {
        next: u32,
    },
    /// Seekable sources, when a symbol is missing: relocations of loaded sections, scanned.
    ScanRelocs {
        section: u32,
        left: u32,
    },
    /// Section contents and relocations: `pass` 0 contents and relocations (a stream), or
    /// contents then (`pass` 1) relocations (a seekable source); `rel_left` entries to go.
    Place {
        pass: u8,
        section: u32,
        rel_left: u32,
    },
    Done,
}

/// What a [`Phase::SeekName`] read names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SeekStep {
    Sections,
    Symbols,
    Missing,
}

/// What the header and the tables said, and running counts.
pub(super) struct Facts {
    pub class: Class,
    pub arch: Arch,
    pub shnum: u32,
    pub shoff: u64,
    pub shstrndx: u32,
    pub symtab: u32,
    pub strtab: u32,
    pub first_global: u32,
    pub sh_names: OrderCheck,
    pub st_names: OrderCheck,
    pub got: OrderCheck,
    /// The next section or symbol a streamed name belongs to.
    pub cursor: usize,
    pub layout: Layout,
    pub stats: LoadStats,
    pub missing: Missing,
    pub deps: u32,
    pub n_exports: usize,
    pub n_exp: usize,
    pub n_imports: u32,
    pub relocs: u32,
    pub tramp: Trampolines,
    pub rstate: RelocState,
}

/// Where to resolve undefined symbols: the firmware first, then loaded extensions.
pub(crate) struct Resolver<'a, R: Resolve + ?Sized> {
    pub firmware: &'a R,
    pub loaded: &'a [Option<Extension>],
}

/// One load in progress. `N` chooses how names are read ([`super::Streamed`] for a forward-only
/// source, [`super::Seeked`] for one that can go back); every byte it takes from the provider
/// goes back on error or when it is dropped.
pub struct Loader<'a, P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> {
    pub(super) w: Work<'a, P>,
    pub(super) resolver: Resolver<'a, R>,
    pub(super) params: LoadParams,
    pub(super) name: Name,
    pub(super) f: Facts,
    pub(super) phase: Phase,
    pub(super) req: Request,
    /// One past the last byte received (a forward-only source cannot go back before it).
    pub(super) pos: u64,
    /// Bytes of the current need already given to [`Loader::feed`].
    pub(super) fed: usize,
    pub(super) buf: Scratch,
    pub(super) split: Splitter,
    pub(super) _n: PhantomData<N>,
}

impl<'a, P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'a, P, R, N> {
    /// A load of an extension called `name` into `mem`, resolving against `firmware` and the
    /// `loaded` extensions (a [`crate::Registry`]'s slots).
    pub(crate) fn new(
        name: Name,
        mem: &'a mut P,
        firmware: &'a R,
        loaded: &'a [Option<Extension>],
        params: &LoadParams,
    ) -> Self {
        Self {
            w: Work {
                mem,
                secs: Table::EMPTY,
                syms: Table::EMPTY,
                exports: Table::EMPTY,
                regions: [None; 5],
                place: None,
            },
            resolver: Resolver { firmware, loaded },
            params: *params,
            name,
            f: Facts {
                class: Class::Elf32,
                arch: Arch::Arm,
                shnum: 0,
                shoff: 0,
                shstrndx: 0,
                symtab: 0,
                strtab: 0,
                first_global: 0,
                sh_names: OrderCheck::default(),
                st_names: OrderCheck::default(),
                got: OrderCheck::default(),
                cursor: 0,
                layout: Layout::default(),
                stats: LoadStats::default(),
                missing: Missing::default(),
                deps: 0,
                n_exports: 0,
                n_exp: 0,
                n_imports: 0,
                relocs: 0,
                tramp: Trampolines::NONE,
                rstate: RelocState::default(),
            },
            phase: Phase::Ident,
            req: Request {
                offset: 0,
                len: 16,
                into: Dest::Scratch,
            },
            pos: 0,
            fed: 0,
            buf: Scratch([0; SCRATCH]),
            split: Splitter::new(),
            _n: PhantomData,
        }
    }

    /// Places the regions through `place` instead of at the provider's addresses (an
    /// execute-in-place link, [`crate::xip`]).
    pub(crate) fn placed(mut self, place: &'a mut dyn crate::xip::Place) -> Self {
        self.w.place = Some(place);
        self
    }

    /// What the load needs next.
    pub fn need(&self) -> Need {
        match self.phase {
            Phase::Done => Need::Done,
            _ => Need::Bytes {
                offset: self.req.offset,
                len: self.req.len,
            },
        }
    }

    /// Where the bytes of [`Loader::need`] go: exactly `len` bytes (empty when done).
    pub fn buffer(&mut self) -> &mut [u8] {
        if matches!(self.phase, Phase::Done) {
            return &mut [];
        }
        match self.req.into {
            Dest::Scratch => &mut self.buf[..self.req.len],
            Dest::ScratchAt(at) => &mut self.buf[at..at + self.req.len],
            Dest::Section(i) => {
                let rec = self.w.secs.as_slice()[i as usize];
                match self.w.section_bytes(&rec) {
                    Some((bytes, _)) => bytes,
                    None => &mut [],
                }
            }
        }
    }

    /// Consumes the bytes now in [`Loader::buffer`] and works out the next need. On error the
    /// load is over: drop the loader (every byte goes back to the provider).
    pub fn filled(&mut self, report: &mut dyn FnMut(Report<'_>)) -> Result<(), Error> {
        self.pos = self.req.offset + self.req.len as u64;
        self.fed = 0;
        self.consume(report)
    }

    /// Takes the next bytes of a forward-only stream (whose first byte is at offset
    /// `position`, the sum of what earlier calls consumed), in any chunking: bytes before the
    /// next need are skipped, the rest copied. Returns how many bytes it consumed (all of them
    /// unless the load is done).
    pub fn feed(
        &mut self,
        mut data: &[u8],
        position: u64,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<usize, Error> {
        let start = data.len();
        let mut at = position;
        while !data.is_empty() {
            let Need::Bytes { offset, len } = self.need() else {
                break;
            };
            let want = offset + self.fed as u64;
            if at < want {
                let skip = ((want - at) as usize).min(data.len());
                data = &data[skip..];
                at += skip as u64;
                continue;
            }
            if at > want {
                return Err(Error::NotForward {
                    offset: want,
                    position: at,
                });
            }
            let fed = self.fed;
            let n = (len - fed).min(data.len());
            let dst = self.buffer();
            if dst.len() != len {
                return Err(Error::malformed("section placement", None, offset));
            }
            dst[fed..fed + n].copy_from_slice(&data[..n]);
            data = &data[n..];
            at += n as u64;
            self.fed += n;
            if self.fed == len {
                self.filled(report)?;
            }
        }
        Ok(start - data.len())
    }

    /// Asks for `len` bytes at `offset` for `part` of `section`; a forward-only source cannot
    /// go back, so asking for bytes behind it is a stream-order error naming the part.
    pub(super) fn read(
        &mut self,
        part: Part,
        section: u32,
        offset: u64,
        len: usize,
        into: Dest,
    ) -> Result<(), Error> {
        if !N::SEEKABLE && offset < self.pos {
            return Err(Error::StreamOrder {
                part,
                section,
                offset,
                position: self.pos,
            });
        }
        self.req = Request { offset, len, into };
        Ok(())
    }

    /// The loaded extension, once [`Loader::need`] says [`Need::Done`].
    pub fn finish(self) -> Result<Extension, Error> {
        if !matches!(self.phase, Phase::Done) {
            return Err(Error::UnexpectedEof { offset: self.pos });
        }
        self.finish_load()
    }
}
