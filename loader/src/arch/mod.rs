//! Relocation back-ends, one module per architecture, behind one entry point.

use crate::Error;
use crate::elf::Reloc;
use crate::memory::Block;

pub mod x86_64;

/// A supported architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// x86-64 (the host: loaded code runs in tests and in the simulator).
    X86_64,
}

impl Arch {
    /// The back-end for an `e_machine`, if there is one.
    pub fn from_machine(machine: u16) -> Option<Arch> {
        match machine {
            m if m == object::elf::EM_X86_64.0 => Some(Arch::X86_64),
            _ => None,
        }
    }

    /// The `e_machine` this back-end links.
    pub fn machine(self) -> u16 {
        match self {
            Arch::X86_64 => object::elf::EM_X86_64.0,
        }
    }

    /// Bytes of loader-made code and data (GOT entry, stub or veneer) per trampoline slot.
    pub fn slot_size(self) -> usize {
        match self {
            Arch::X86_64 => x86_64::SLOT_SIZE,
        }
    }

    /// Applies one relocation.
    pub(crate) fn apply(
        self,
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
    ) -> Result<(), Error> {
        match self {
            Arch::X86_64 => x86_64::apply(r, site, sym, tramp),
        }
    }
}

/// The section being patched.
pub(crate) struct Site<'a> {
    /// Its bytes (the whole section, in its region).
    pub bytes: &'a mut [u8],
    /// Its run-time address.
    pub addr: u64,
    /// Its index, for errors.
    pub section: u32,
}

impl Site<'_> {
    /// The `width` bytes at `offset`, or an error naming the relocation.
    pub(crate) fn field(&mut self, offset: u64, width: usize) -> Result<&mut [u8], Error> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let section = self.section;
        start
            .checked_add(width)
            .and_then(|end| self.bytes.get_mut(start..end))
            .ok_or(Error::Malformed {
                what: "relocation offset outside its section",
                section: Some(section),
                value: offset,
            })
    }

    /// The run-time address of `offset` (P).
    pub(crate) fn place(&self, offset: u64) -> u64 {
        self.addr.wrapping_add(offset)
    }
}

/// The symbol a relocation refers to.
pub(crate) struct Target {
    /// Its address (S).
    pub value: u64,
    /// Its trampoline slot, if it has one.
    pub slot: Option<u32>,
}

/// The loader-made area: per slot, a GOT entry and a stub/veneer, written on first use.
pub(crate) struct Trampolines {
    pub block: Option<Block>,
    pub slots: u32,
    pub used: u32,
}

impl Trampolines {
    /// The bytes and run-time address of slot `i`, or an error if the symbol has no slot.
    pub(crate) fn slot(&mut self, i: Option<u32>, arch_size: usize) -> Option<(&mut [u8], u64)> {
        let i = i?;
        let b = self.block?;
        if i >= self.slots {
            return None;
        }
        let off = i as usize * arch_size;
        self.used = self.used.max(i + 1);
        // SAFETY: the block holds `slots * arch_size` bytes (allocated so by the loader) and
        // `off + arch_size` is within it; the loader holds the only reference to it while linking.
        let bytes = unsafe { core::slice::from_raw_parts_mut(b.ptr.as_ptr().add(off), arch_size) };
        Some((bytes, b.addr + off as u64))
    }
}

/// Little-endian field writers shared by the back-ends.
pub(crate) fn put_u32(f: &mut [u8], v: u32) {
    f[..4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(f: &mut [u8], v: u64) {
    f[..8].copy_from_slice(&v.to_le_bytes());
}
