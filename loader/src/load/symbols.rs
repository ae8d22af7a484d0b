//! Per-symbol state during a load: one `u64` each, holding where the symbol is (or what is
//! still to be found out about it) and the few flags name matching needs.

use object::elf;

use crate::Error;
use crate::arch::Sym32;
use crate::elf::Sym;
use crate::memory::{Block, MemKind};

use super::sections::{Layout, SecRec};

const TAG_SHIFT: u32 = 60;
const FLAG_SHIFT: u32 = 56;
const PAYLOAD: u64 = (1 << FLAG_SHIFT) - 1;

/// No value: the null symbol, file symbols, symbols in sections that are not loaded.
const NONE: u64 = 0;
/// In a region: kind in bits 32..36, offset in bits 0..32.
const DEFINED: u64 = 1;
/// An absolute value, or an undefined symbol once resolved.
const ABSOLUTE: u64 = 2;
/// Undefined, waiting for its name.
const PENDING: u64 = 3;
/// Resolved to a 32-bit address, with its rank among the imports (its veneer slot).
const IMPORT: u64 = 4;

/// Has a name in the string table.
pub(crate) const F_NAMED: u64 = 1;
/// Global or weak binding.
pub(crate) const F_GLOBAL: u64 = 2;
/// Weak binding.
pub(crate) const F_WEAK: u64 = 4;
/// Missing: a strong undefined symbol nobody exports (already reported).
pub(crate) const F_MISSING: u64 = 8;

/// One symbol's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Slot(pub u64);

/// Where a symbol is, once the regions exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// Not available (not loaded, or missing).
    None,
    /// In `region` at `offset`.
    Region(MemKind, u32),
    /// At this address.
    Absolute(u64),
}

impl Slot {
    fn new(tag: u64, flags: u64, payload: u64) -> Self {
        Slot(tag << TAG_SHIFT | flags << FLAG_SHIFT | payload & PAYLOAD)
    }

    fn tag(self) -> u64 {
        self.0 >> TAG_SHIFT
    }

    pub(crate) fn flags(self) -> u64 {
        (self.0 >> FLAG_SHIFT) & 0xf
    }

    pub(crate) fn has(self, flag: u64) -> bool {
        self.flags() & flag != 0
    }

    /// Waiting for its name to be resolved.
    pub(crate) fn is_pending(self) -> bool {
        self.tag() == PENDING
    }

    /// Defined in this extension (and so an export if global).
    pub(crate) fn is_defined(self) -> bool {
        self.tag() == DEFINED
    }

    /// Resolves an undefined symbol to an address (0 for a missing weak one).
    pub(crate) fn resolved(self, addr: u64) -> Self {
        Slot::new(ABSOLUTE, self.flags(), sign_fold(addr))
    }

    /// Resolves an undefined symbol of a 32-bit extension to `addr`, remembering that it is the
    /// `rank`-th import: its veneer, if it needs one, is slot `rank`.
    pub(crate) fn imported(self, addr: u32, rank: u32) -> Self {
        Slot::new(
            IMPORT,
            self.flags(),
            u64::from(rank & 0xff_ffff) << 32 | u64::from(addr),
        )
    }

    /// The import rank given by [`Slot::imported`].
    pub(crate) fn import_rank(self) -> Option<u32> {
        (self.tag() == IMPORT).then_some(((self.0 & PAYLOAD) >> 32) as u32)
    }

    /// A symbol the linker provides (`docs/LINKING.md`), at `offset` in `kind`: local to the
    /// extension, never one of its exports.
    pub(crate) fn provided(self, (kind, offset): (MemKind, u32)) -> Self {
        Slot::new(
            DEFINED,
            self.flags() & !F_GLOBAL,
            (kind.index() as u64) << 32 | u64::from(offset),
        )
    }

    /// An undefined weak symbol nobody exports (its value is 0).
    pub(crate) fn is_weak_zero(self) -> bool {
        self.tag() == ABSOLUTE && self.has(F_WEAK) && self.0 & PAYLOAD == 0
    }

    /// Marks a strong undefined symbol as missing.
    pub(crate) fn missing(self) -> Self {
        Slot::new(NONE, self.flags() | F_MISSING, 0)
    }

    /// A missing symbol that a loaded section's relocation uses.
    pub(crate) fn missing_used(self) -> Self {
        Slot(self.0 | 1)
    }

    /// Missing (see [`Slot::missing`]), and whether a loaded section uses it.
    pub(crate) fn missing_state(self) -> Option<bool> {
        (self.tag() == NONE && self.has(F_MISSING)).then_some(self.0 & 1 != 0)
    }

    /// The symbol's address once the regions exist (`None`: no value).
    pub(crate) fn address(self, regions: &[Option<Block>]) -> Option<u64> {
        match self.value() {
            Value::Region(k, off) => Some(regions[k.index()]?.addr + u64::from(off)),
            Value::Absolute(a) => Some(a),
            Value::None => None,
        }
    }

    /// Where the symbol is.
    pub(crate) fn value(self) -> Value {
        let p = self.0 & PAYLOAD;
        match self.tag() {
            DEFINED => Value::Region(MemKind::ALL[(p >> 32) as usize & 7], p as u32),
            ABSOLUTE => Value::Absolute(sign_unfold(p)),
            IMPORT => Value::Absolute(u64::from(p as u32)),
            _ => Value::None,
        }
    }
}

/// A symbol as relocations need it, once the regions exist (`Loader::regions` turns each
/// [`Slot`] into one): decoded with a mask and a shift, no region lookup.
///
/// 32-bit objects: the address in bits 0..32, the veneer slot the symbol owns (its import rank)
/// plus one in bits 32..56 (0: none). 64-bit objects: the address in bits 0..56, sign-folded.
/// Both: [`L_UNAVAILABLE`] and [`L_WEAK_ZERO`] in the top bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Linked(pub u64);

/// No value: not loaded, missing, a file symbol.
const L_UNAVAILABLE: u64 = 1 << 63;
/// An undefined weak symbol nobody exports.
const L_WEAK_ZERO: u64 = Sym32::WEAK_ZERO;

impl Linked {
    /// The relocation form of `slot`, whose address (`None`: no value) is `addr`.
    pub(crate) fn new(slot: Slot, addr: Option<u64>, wide: bool) -> Linked {
        let Some(addr) = addr else {
            return Linked(L_UNAVAILABLE);
        };
        let weak = if slot.is_weak_zero() { L_WEAK_ZERO } else { 0 };
        if wide {
            return Linked(sign_fold(addr) | weak);
        }
        Linked(Sym32::new(addr as u32, slot.import_rank(), weak != 0).0)
    }

    /// The null symbol (index 0): value 0.
    pub(crate) const NULL: Linked = Linked(0);

    pub(crate) fn unavailable(self) -> bool {
        self.0 & L_UNAVAILABLE != 0
    }

    pub(crate) fn weak_zero(self) -> bool {
        self.0 & L_WEAK_ZERO != 0
    }

    /// The address, in a 32-bit object.
    pub(crate) fn narrow_value(self) -> u64 {
        u64::from(self.0 as u32)
    }

    /// The veneer slot the symbol owns, in a 32-bit object.
    pub(crate) fn narrow_slot(self) -> Option<u32> {
        ((self.0 >> 32) as u32 & 0xff_ffff).checked_sub(1)
    }

    /// The address, in a 64-bit object.
    pub(crate) fn wide_value(self) -> u64 {
        sign_unfold(self.0 & PAYLOAD)
    }
}

/// Addresses are kept in 56 bits, sign-extended (x86-64 user space and every 32-bit target fit).
fn sign_fold(v: u64) -> u64 {
    v & PAYLOAD
}

fn sign_unfold(p: u64) -> u64 {
    ((p << 8) as i64 >> 8) as u64
}

/// Decodes one symbol table entry into its slot; `COMMON` symbols get space in bss.
pub(crate) fn slot_for(
    index: u32,
    sym: &Sym,
    secs: &[SecRec],
    layout: &mut Layout,
) -> Result<Slot, Error> {
    let mut flags = if sym.name != 0 { F_NAMED } else { 0 };
    if sym.bind == elf::STB_GLOBAL.0 || sym.bind == elf::STB_WEAK.0 {
        flags |= F_GLOBAL;
    }
    if sym.bind == elf::STB_WEAK.0 {
        flags |= F_WEAK;
    }
    if sym.kind == elf::STT_FILE.0 || index == 0 {
        // Keeps `F_NAMED`: a stream matches names to symbols by counting named ones.
        return Ok(Slot::new(NONE, flags & F_NAMED, 0));
    }
    if sym.kind == elf::STT_TLS.0 {
        return Err(Error::malformed(
            "thread-local symbols are not supported",
            None,
            index.into(),
        ));
    }
    let shndx = sym.shndx;
    if shndx == elf::SHN_UNDEF.0 {
        if flags & F_GLOBAL == 0 {
            return Err(Error::malformed(
                "local undefined symbol",
                None,
                index.into(),
            ));
        }
        return Ok(Slot::new(PENDING, flags, 0));
    }
    if shndx == elf::SHN_ABS.0 {
        return Ok(Slot::new(ABSOLUTE, flags & !F_GLOBAL, sign_fold(sym.value)));
    }
    if shndx == elf::SHN_COMMON.0 {
        let align = sym.value.max(1);
        if !align.is_power_of_two() || align > 1 << 20 {
            return Err(Error::malformed("COMMON symbol alignment", None, sym.value));
        }
        let off = layout.place(MemKind::Bss, sym.size, align)?;
        return Ok(Slot::new(
            DEFINED,
            flags,
            (MemKind::Bss.index() as u64) << 32 | u64::from(off),
        ));
    }
    if shndx >= elf::SHN_LORESERVE {
        return Err(Error::malformed(
            "symbol section index (reserved)",
            None,
            shndx.into(),
        ));
    }
    let sec = secs.get(usize::from(shndx)).ok_or(Error::malformed(
        "symbol section index",
        None,
        shndx.into(),
    ))?;
    let Some(region) = sec.role.region() else {
        // In a section that is not loaded (debug info, unwind tables): fine unless used.
        return Ok(Slot::new(NONE, flags & !F_GLOBAL, 0));
    };
    if sym.value > u64::from(sec.size) {
        return Err(Error::malformed(
            "symbol value past the end of its section",
            Some(shndx.into()),
            sym.value,
        ));
    }
    let off = u64::from(sec.place) + sym.value;
    Ok(Slot::new(
        DEFINED,
        flags,
        (region.index() as u64) << 32 | off,
    ))
}
