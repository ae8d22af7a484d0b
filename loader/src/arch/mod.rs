//! Relocation back-ends, one module per architecture, behind one trait ([`Backend`]).
//!
//! A back-end applies one relocation to the bytes it patches ([`Site`]) and says how big its
//! veneer or GOT slot is. Everything else is the core's: decoding the entries, each symbol's
//! value and slot ([`Target`]), and the slot area ([`Trampolines`]), where a symbol's slot is
//! found at once by its number. A back-end never calls back into the loader.
//!
//! Callers: the load's relocation phase (`load/relocate.rs`, a loop per back-end and entry
//! format) and anything that applies single relocations ([`Arch::apply`]), for example into a
//! buffer holding part of a section at its final address.

// Without any back-end (a build that only packs or inspects) nothing here is used.
#![cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]

use crate::Error;
use crate::elf::{Class, Reloc};
use crate::memory::Block;

#[cfg(feature = "arch-arm")]
pub mod arm;
#[cfg(feature = "arch-riscv")]
pub mod riscv;
#[cfg(feature = "arch-x86_64")]
pub mod x86_64;

/// One architecture's relocations (DESIGN.md decision 4).
pub(crate) trait Backend {
    /// The ELF class of its objects.
    const CLASS: Class;
    /// Bytes of one veneer or GOT slot (the area also keeps an 8-byte key per slot).
    const SLOT_SIZE: usize;
    /// Whether every global symbol owns a slot (x86-64: a GOT entry may be asked for any of
    /// them) rather than every import (veneers: only calls to the firmware or other extensions
    /// go out of reach).
    const SLOT_PER_GLOBAL: bool = false;

    /// Whether relocation type `kind` changes nothing and needs no symbol (RISC-V's `RELAX`,
    /// `ALIGN`, `NONE`: half of a relaxed object's relocations). The core still checks its
    /// offset lies in the section.
    fn is_noop(_kind: u32) -> bool {
        false
    }

    /// Applies relocation `r` at `site` for symbol `sym`, making a veneer or GOT entry in
    /// `tramp` if it needs one; `state` carries what one relocation section's entries pass on.
    fn apply(
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
        state: &mut RelocState,
    ) -> Result<(), Error>;

    /// After the last relocation of a section: fails if the back-end still waits for one that
    /// never came (a RISC-V `PCREL_LO12` without its `PCREL_HI20`).
    fn finish(_state: &RelocState, _section: u32) -> Result<(), Error> {
        Ok(())
    }

    /// Whether the core's loop hands this (32-bit, one slot per import) back-end its entries
    /// whole, through [`Backend::apply32`], rather than decoded into a [`Reloc`] and [`Target`].
    const NARROW: bool = false;

    /// Applies one 32-bit entry `e` for symbol `sym` ([`Backend::NARROW`]); by default through
    /// [`Backend::apply`].
    #[inline(always)]
    fn apply32(
        e: Rel32,
        sym: Sym32,
        site: &mut Site<'_>,
        tramp: &mut Trampolines,
        state: &mut RelocState,
    ) -> Result<(), Error> {
        Self::apply(&e.reloc(), site, &sym.target(), tramp, state)
    }
}

/// One `Elf32_Rel` or `Elf32_Rela` entry, as read from the chunk.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rel32 {
    /// `r_offset`.
    pub offset: u32,
    /// `r_info`: the symbol in bits 8..32, the type in bits 0..8.
    pub info: u32,
    /// `r_addend` of a `RELA` entry.
    pub addend: Option<i32>,
}

impl Rel32 {
    /// The relocation type.
    #[inline(always)]
    pub(crate) fn kind(self) -> u32 {
        self.info & 0xff
    }

    /// The entry in the general form.
    pub(crate) fn reloc(self) -> Reloc {
        Reloc {
            offset: self.offset.into(),
            sym: self.info >> 8,
            kind: self.kind(),
            addend: self.addend.map(i64::from),
        }
    }
}

/// The symbol of a 32-bit relocation in the word the core keeps for it once linked: the address
/// in bits 0..32, the veneer slot it owns plus one in bits 32..56 (0: none), [`Sym32::WEAK_ZERO`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sym32(pub u64);

impl Sym32 {
    /// An undefined weak symbol nobody exports.
    pub(crate) const WEAK_ZERO: u64 = 1 << 62;
    /// Most slot numbers the word holds.
    pub(crate) const MAX_SLOT: u32 = 0xff_fffe;

    /// The word for address `value`, owned slot `slot` (kept only up to [`Sym32::MAX_SLOT`]).
    pub(crate) fn new(value: u32, slot: Option<u32>, weak_zero: bool) -> Sym32 {
        let own = slot.filter(|&r| r <= Self::MAX_SLOT).map_or(0, |r| r + 1);
        let weak = if weak_zero { Self::WEAK_ZERO } else { 0 };
        Sym32(u64::from(value) | u64::from(own) << 32 | weak)
    }

    /// The address (S).
    #[inline(always)]
    pub(crate) fn value(self) -> u32 {
        self.0 as u32
    }

    /// The veneer slot the symbol owns.
    #[inline(always)]
    pub(crate) fn slot(self) -> Option<u32> {
        let i = self.slot_index();
        (i != u32::MAX).then_some(i)
    }

    /// [`Sym32::slot`] as [`Trampolines::for_target_at`] takes it: `u32::MAX` for none (slot + 1
    /// is kept in 24 bits: 0 wraps to `u32::MAX`, which no area has).
    #[inline(always)]
    pub(crate) fn slot_index(self) -> u32 {
        ((self.0 >> 32) as u32 & 0xff_ffff).wrapping_sub(1)
    }

    /// See [`Target::weak_zero`].
    #[inline(always)]
    pub(crate) fn weak_zero(self) -> bool {
        self.0 & Self::WEAK_ZERO != 0
    }

    /// The symbol in the general form.
    pub(crate) fn target(self) -> Target {
        Target {
            value: self.value().into(),
            slot: self.slot(),
            weak_zero: self.weak_zero(),
        }
    }
}

/// Runs `$body` with `$b` naming the back-end type of `$arch` (a compiled-in one: `from_machine`
/// never returns another); `$none` for an architecture left out by cargo features.
macro_rules! with_backend {
    ($arch:expr, $b:ident => $body:expr, _ => $none:expr) => {
        match $arch {
            #[cfg(feature = "arch-x86_64")]
            $crate::arch::Arch::X86_64 => {
                type $b = $crate::arch::x86_64::X86_64;
                $body
            }
            #[cfg(feature = "arch-arm")]
            $crate::arch::Arch::Arm => {
                type $b = $crate::arch::arm::Arm;
                $body
            }
            #[cfg(feature = "arch-riscv")]
            $crate::arch::Arch::RiscV32 => {
                type $b = $crate::arch::riscv::RiscV<false>;
                $body
            }
            #[cfg(feature = "arch-riscv")]
            $crate::arch::Arch::RiscV64 => {
                type $b = $crate::arch::riscv::RiscV<true>;
                $body
            }
            #[allow(unreachable_patterns)] // back-ends left out by cargo features never load
            _ => $none,
        }
    };
}
pub(crate) use with_backend;

/// A supported architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86-64 (the host: loaded code runs in tests and in the simulator).
    X86_64,
    /// 32-bit ARM, Thumb (Cortex-M0+ to M33) and ARM state.
    Arm,
    /// RV32 with or without C.
    RiscV32,
    /// RV64 with or without C.
    RiscV64,
}

impl Arch {
    /// The back-end for an `e_machine` and class, if there is one.
    pub fn from_machine(machine: u16, class: Class) -> Option<Arch> {
        #[allow(unused_imports)] // some back-ends may be left out
        use object::elf::{EM_ARM, EM_RISCV, EM_X86_64};
        match (machine, class) {
            #[cfg(feature = "arch-x86_64")]
            (m, Class::Elf64) if m == EM_X86_64.0 => Some(Arch::X86_64),
            #[cfg(feature = "arch-arm")]
            (m, Class::Elf32) if m == EM_ARM.0 => Some(Arch::Arm),
            #[cfg(feature = "arch-riscv")]
            (m, Class::Elf32) if m == EM_RISCV.0 => Some(Arch::RiscV32),
            #[cfg(feature = "arch-riscv")]
            (m, Class::Elf64) if m == EM_RISCV.0 => Some(Arch::RiscV64),
            _ => None,
        }
    }

    /// The architecture this code was compiled for, if the loader supports it.
    pub const fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "arm") {
            Some(Arch::Arm)
        } else if cfg!(target_arch = "riscv32") {
            Some(Arch::RiscV32)
        } else if cfg!(target_arch = "riscv64") {
            Some(Arch::RiscV64)
        } else {
            None
        }
    }

    /// The `e_machine` this back-end links.
    pub fn machine(self) -> u16 {
        match self {
            Arch::X86_64 => object::elf::EM_X86_64.0,
            Arch::Arm => object::elf::EM_ARM.0,
            Arch::RiscV32 | Arch::RiscV64 => object::elf::EM_RISCV.0,
        }
    }

    /// The name used in `layout.json`, exports files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm => "arm",
            Arch::RiscV32 => "riscv32",
            Arch::RiscV64 => "riscv64",
        }
    }

    /// Bytes of one trampoline (veneer, or GOT entry and stub), excluding its 8-byte key.
    pub fn slot_size(self) -> usize {
        with_backend!(self, B => B::SLOT_SIZE, _ => 0)
    }

    /// Whether every global symbol owns a slot (see [`Backend::SLOT_PER_GLOBAL`]).
    pub(crate) fn slot_per_global(self) -> bool {
        with_backend!(self, B => B::SLOT_PER_GLOBAL, _ => false)
    }

    /// Applies one relocation (see [`Backend::apply`]); the load's own loop calls the back-end
    /// directly, this is for callers that apply relocations one at a time.
    #[allow(dead_code)] // the entry point for callers outside the load's loop
    pub(crate) fn apply(
        self,
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
        state: &mut RelocState,
    ) -> Result<(), Error> {
        let _ = (&sym, &tramp, &state);
        with_backend!(self, B => B::apply(r, site, sym, tramp, state), _ => Err(site.unsupported(r, "?")))
    }

    /// After the last relocation of a section (see [`Backend::finish`]).
    pub(crate) fn finish(self, state: &RelocState, section: u32) -> Result<(), Error> {
        let _ = (state, section);
        with_backend!(self, B => B::finish(state, section), _ => Ok(()))
    }
}

/// State carried from one relocation to the next within one relocation section (start each
/// section with `RelocState::default()`).
#[derive(Default)]
pub(crate) struct RelocState {
    /// RISC-V: recent `PCREL_HI20` values for the `PCREL_LO12` that point at them, and a
    /// `SET_ULEB128` waiting for its `SUB_ULEB128`.
    #[cfg(feature = "arch-riscv")]
    pub riscv: riscv::Hi20Cache,
}

impl RelocState {
    /// Whether an applied relocation still waits to patch its bytes when a later one comes (a
    /// RISC-V `PCREL_LO12` before its `PCREL_HI20`).
    pub(crate) fn waiting(&self) -> bool {
        #[cfg(feature = "arch-riscv")]
        return self.riscv.waiting();
        #[cfg(not(feature = "arch-riscv"))]
        false
    }
}

/// The bytes a relocation patches: a whole section, or any part of one, at its final address.
/// Relocation offsets are relative to `bytes` (a caller holding part of a section subtracts
/// the part's start from `r_offset`).
#[cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
pub(crate) struct Site<'a> {
    /// The bytes.
    pub bytes: &'a mut [u8],
    /// The run-time address of `bytes[0]`.
    pub addr: u64,
    /// The section's index, for errors.
    pub section: u32,
}

#[cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
impl Site<'_> {
    /// The error for relocation `r` of a type (`type_name`) not applied here.
    #[cold]
    pub(crate) fn unsupported(&self, r: &Reloc, type_name: &'static str) -> Error {
        Error::UnsupportedRelocation {
            r_type: r.kind,
            type_name,
            section: self.section,
            offset: r.offset,
        }
    }

    /// The error for relocation `r` (of type `type_name`) whose `value` does not fit its field.
    #[cold]
    pub(crate) fn overflow(&self, r: &Reloc, type_name: &'static str, value: i64) -> Error {
        Error::RelocationOverflow {
            type_name,
            section: self.section,
            offset: r.offset,
            value,
        }
    }

    /// The `width` bytes at `offset`, or an error naming the relocation.
    #[inline]
    pub(crate) fn field(&mut self, offset: u64, width: usize) -> Result<&mut [u8], Error> {
        let len = self.bytes.len();
        match usize::try_from(offset) {
            Ok(start) if width <= len && start <= len - width => {
                Ok(&mut self.bytes[start..start + width])
            }
            _ => Err(self.outside(offset)),
        }
    }

    /// The 4 bytes at `offset` of a 32-bit entry.
    #[cfg_attr(not(feature = "arch-arm"), allow(dead_code))]
    #[inline(always)]
    pub(crate) fn word32(&mut self, offset: u32) -> Result<&mut [u8; 4], Error> {
        let start = offset as usize;
        match start.checked_add(4) {
            Some(end) if end <= self.bytes.len() => {
                // SAFETY: `start..start + 4` lies in `bytes` (checked just above): one comparison
                // instead of a slice range's two.
                Ok(unsafe { &mut *self.bytes.as_mut_ptr().add(start).cast::<[u8; 4]>() })
            }
            _ => Err(outside(self.section, offset.into())),
        }
    }

    #[cold]
    fn outside(&self, offset: u64) -> Error {
        outside(self.section, offset)
    }

    /// The run-time address of `offset` (P).
    pub(crate) fn place(&self, offset: u64) -> u64 {
        self.addr.wrapping_add(offset)
    }
}

#[cold]
fn outside(section: u32, offset: u64) -> Error {
    Error::Malformed {
        what: "relocation offset outside its section",
        section: Some(section),
        value: offset,
    }
}

/// The symbol a relocation refers to, as the core found it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Target {
    /// Its address (S); for a Thumb function bit 0 is set.
    pub value: u64,
    /// The veneer or GOT slot the symbol owns in [`Trampolines`] (an import's rank; on x86-64
    /// its global number), if it has one.
    pub slot: Option<u32>,
    /// An undefined weak symbol nobody exports: calls to it become no-ops, as GNU ld makes them.
    #[cfg_attr(not(feature = "arch-arm"), allow(dead_code))]
    pub weak_zero: bool,
}

/// The loader-made area: `slots` keys (8 bytes each: the target a slot was made for, 0 while
/// free) then `slots` trampolines of the back-end's size. A symbol that owns a slot finds it at
/// once; a target without one (a local function out of reach) takes any free slot.
pub(crate) struct Trampolines {
    block: Option<Block>,
    slots: u32,
    size: usize,
    /// Run-time address of slot 0's trampoline (after the keys).
    first: u64,
    /// Slots made so far (for the load report).
    made: u32,
}

impl Trampolines {
    /// No area.
    pub(crate) const NONE: Trampolines = Trampolines {
        block: None,
        slots: 0,
        size: 0,
        first: 0,
        made: 0,
    };

    /// An area of `slots` slots of `size` bytes in `block` (none if it does not fit).
    pub(crate) fn new(block: Option<Block>, slots: u32, size: usize) -> Trampolines {
        match block {
            Some(b) if (slots as usize).saturating_mul(8 + size) <= b.size => Trampolines {
                block,
                slots,
                size,
                first: b.addr + u64::from(slots) * 8,
                made: 0,
            },
            _ => Trampolines::NONE,
        }
    }

    /// Slot `i`'s key and trampoline bytes and the trampoline's run-time address.
    fn parts(&mut self, i: u32) -> Option<(&mut [u8; 8], &mut [u8], u64)> {
        let b = self.block.filter(|_| i < self.slots)?;
        let key = i as usize * 8;
        let off = self.slots as usize * 8 + i as usize * self.size;
        // SAFETY: `new` checked that `slots` keys and trampolines fit the block, which the load
        // owns, and `i < slots`; the key and the trampoline do not overlap, and no other
        // reference into the area is live while these are.
        unsafe {
            let key = &mut *b.ptr.as_ptr().add(key).cast::<[u8; 8]>();
            let bytes = core::slice::from_raw_parts_mut(b.ptr.as_ptr().add(off), self.size);
            let addr = self.first + (i as usize * self.size) as u64;
            Some((key, bytes, addr))
        }
    }

    /// Slot `i` (x86-64: a GOT entry and its stub), as `(bytes, run-time address)`.
    #[cfg(feature = "arch-x86_64")]
    pub(crate) fn slot(&mut self, i: Option<u32>) -> Option<(&mut [u8], u64)> {
        let i = i?;
        let (key, _, _) = self.parts(i)?;
        // Slots belong to their symbols here; the key only marks the slot made.
        if *key == [0; 8] {
            *key = [0xff; 8];
            self.made += 1;
        }
        let (_, bytes, addr) = self.parts(i)?;
        Some((bytes, addr))
    }

    /// How many slots (veneers, GOT entries) the load has made so far.
    pub(crate) fn made(&self) -> u32 {
        self.made
    }

    /// The trampoline to `target`: the one slot `own` (the symbol's) already holds, or a new one
    /// that `fill(bytes, addr)` writes. Without a slot of its own (or when that one holds another
    /// target) a target is looked up among all slots. `None` when every slot is taken.
    #[cfg_attr(
        not(any(feature = "arch-arm", feature = "arch-riscv")),
        allow(dead_code)
    )]
    #[inline]
    pub(crate) fn for_target(
        &mut self,
        own: Option<u32>,
        target: u64,
        fill: impl FnOnce(&mut [u8], u64),
    ) -> Option<u64> {
        self.for_target_at(own.unwrap_or(u32::MAX), target, fill)
    }

    /// [`Trampolines::for_target`] with the symbol's own slot `i` as a number (`u32::MAX`: none).
    #[cfg_attr(
        not(any(feature = "arch-arm", feature = "arch-riscv")),
        allow(dead_code)
    )]
    #[inline]
    pub(crate) fn for_target_at(
        &mut self,
        i: u32,
        target: u64,
        fill: impl FnOnce(&mut [u8], u64),
    ) -> Option<u64> {
        // The common case first, in few instructions: the symbol's own slot holds `target`.
        // `u32::MAX` (no slot of its own) is never below `slots`: one comparison.
        if let Some(b) = self.block
            && i < self.slots
        {
            // SAFETY: `i < slots`, and `new` checked that the keys fit the block.
            let key = unsafe {
                b.ptr
                    .as_ptr()
                    .add(i as usize * 8)
                    .cast::<u64>()
                    .read_unaligned()
            };
            if u64::from_le(key) == target && target != 0 {
                return Some(self.first + (i as usize * self.size) as u64);
            }
        }
        let own = (i != u32::MAX).then_some(i);
        let (i, made) = self.find(own, target)?;
        self.made += u32::from(!made);
        let (key, bytes, addr) = self.parts(i)?;
        if !made {
            *key = target.to_le_bytes();
            fill(bytes, addr);
        }
        Some(addr)
    }

    /// The slot for `target` and whether it is made: `own` if it holds `target` or is free,
    /// else the slot holding `target`, else the first free one.
    #[cfg_attr(
        not(any(feature = "arch-arm", feature = "arch-riscv")),
        allow(dead_code)
    )]
    fn find(&mut self, own: Option<u32>, target: u64) -> Option<(u32, bool)> {
        // A key of 0 marks a free slot (the area is zeroed); a target of 0 is never shared.
        if let Some(i) = own
            && let Some((key, _, _)) = self.parts(i)
        {
            let key = u64::from_le_bytes(*key);
            if key == target && target != 0 {
                return Some((i, true));
            }
            if key == 0 {
                return Some((i, false));
            }
        }
        self.search(target)
    }

    /// [`Trampolines::find`] among all slots.
    #[cfg_attr(
        not(any(feature = "arch-arm", feature = "arch-riscv")),
        allow(dead_code)
    )]
    #[cold]
    fn search(&mut self, target: u64) -> Option<(u32, bool)> {
        let want = target.to_le_bytes();
        let made = |key: &[u8; 8]| *key == want && target != 0;
        let mut free = None;
        for i in 0..self.slots {
            let (key, _, _) = self.parts(i)?;
            if made(key) {
                return Some((i, true));
            }
            if *key == [0; 8] && free.is_none() {
                free = Some(i);
            }
        }
        free.map(|i| (i, false))
    }
}

/// Little-endian field access shared by the back-ends.
#[cfg_attr(
    not(any(feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
pub(crate) fn put_u16(f: &mut [u8], v: u16) {
    f[..2].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u32(f: &mut [u8], v: u32) {
    f[..4].copy_from_slice(&v.to_le_bytes());
}

#[cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-riscv")),
    allow(dead_code)
)]
pub(crate) fn put_u64(f: &mut [u8], v: u64) {
    f[..8].copy_from_slice(&v.to_le_bytes());
}

#[cfg_attr(
    not(any(feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
pub(crate) fn get_u16(f: &[u8]) -> u16 {
    u16::from_le_bytes([f[0], f[1]])
}

#[cfg_attr(
    not(any(feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
pub(crate) fn get_u32(f: &[u8]) -> u32 {
    u32::from_le_bytes([f[0], f[1], f[2], f[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::NonNull;

    /// Three slots of 4 bytes over `buf`, at run-time address 0x1000.
    fn area(buf: &mut [u8; 3 * (8 + 4)]) -> Trampolines {
        let block = Block {
            ptr: NonNull::new(buf.as_mut_ptr()).unwrap(),
            addr: 0x1000,
            size: buf.len(),
            align: 16,
        };
        Trampolines::new(Some(block), 3, 4)
    }

    #[test]
    fn a_symbol_finds_its_own_slot_and_others_share_or_take_free_ones() {
        let mut buf = [0u8; 36];
        let mut t = area(&mut buf);
        let mut made = 0;
        let mut fill = |b: &mut [u8], _at: u64| {
            made += 1;
            b.fill(0xaa);
        };
        // Slot 1 is symbol A's: made once, then found.
        assert_eq!(
            t.for_target(Some(1), 0x77, &mut fill),
            Some(0x1000 + 24 + 4)
        );
        assert_eq!(
            t.for_target(Some(1), 0x77, &mut fill),
            Some(0x1000 + 24 + 4)
        );
        // Another target for the same symbol (another addend): the first free slot.
        assert_eq!(t.for_target(Some(1), 0x99, &mut fill), Some(0x1000 + 24));
        // A local target without a slot of its own: shares an existing one, else takes a free one.
        assert_eq!(t.for_target(None, 0x99, &mut fill), Some(0x1000 + 24));
        assert_eq!(t.for_target(None, 0x55, &mut fill), Some(0x1000 + 24 + 8));
        // Full.
        assert_eq!(t.for_target(None, 0x66, &mut fill), None);
        assert_eq!(t.for_target(Some(7), 0x66, &mut fill), None);
        assert_eq!(made, 3);
        assert_eq!(&buf[8..16], &0x77u64.to_le_bytes(), "slot 1's key");
    }

    #[test]
    fn no_area_has_no_slots() {
        let mut t = Trampolines::NONE;
        assert_eq!(t.for_target(Some(0), 0x10, |_, _| {}), None);
        let mut small = [0u8; 8];
        let block = Block {
            ptr: NonNull::new(small.as_mut_ptr()).unwrap(),
            addr: 0,
            size: small.len(),
            align: 8,
        };
        let mut t = Trampolines::new(Some(block), 3, 4);
        assert_eq!(
            t.for_target(Some(0), 0x10, |_, _| {}),
            None,
            "slots that do not fit"
        );
    }
}
