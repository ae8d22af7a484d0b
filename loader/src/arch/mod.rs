//! Relocation back-ends, one module per architecture, behind one entry point.

use crate::Error;
use crate::elf::{Class, Reloc};
use crate::memory::Block;

#[cfg(feature = "arch-arm")]
pub mod arm;
#[cfg(feature = "arch-riscv")]
pub mod riscv;
#[cfg(feature = "arch-x86_64")]
pub mod x86_64;

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

    /// Bytes of one trampoline (GOT entry plus stub, or veneer), excluding its 8-byte key.
    pub fn slot_size(self) -> usize {
        match self {
            #[cfg(feature = "arch-x86_64")]
            Arch::X86_64 => x86_64::SLOT_SIZE,
            #[cfg(feature = "arch-arm")]
            Arch::Arm => arm::SLOT_SIZE,
            #[cfg(feature = "arch-riscv")]
            Arch::RiscV32 | Arch::RiscV64 => riscv::slot_size(self),
            #[allow(unreachable_patterns)] // back-ends left out by cargo features never load
            _ => 0,
        }
    }

    /// Whether relocation type `kind` is a RISC-V marker that changes nothing (`NONE`, `RELAX`,
    /// `ALIGN`): the core skips it before looking its symbol up, as half of a relaxed RISC-V
    /// object's relocations are `RELAX`. (Other architectures' no-ops are rare: their back-ends
    /// handle them, and the check would only cost their hot path.)
    pub(crate) fn is_noop(self, kind: u32) -> bool {
        use object::elf::{R_RISCV_ALIGN, R_RISCV_NONE, R_RISCV_RELAX, RelocationType};
        matches!(self, Arch::RiscV32 | Arch::RiscV64)
            && matches!(
                RelocationType(kind),
                R_RISCV_NONE | R_RISCV_ALIGN | R_RISCV_RELAX
            )
    }

    /// Applies one relocation.
    pub(crate) fn apply(
        self,
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
        state: &mut RelocState,
    ) -> Result<(), Error> {
        let _ = (&sym, &tramp, &state);
        match self {
            #[cfg(feature = "arch-x86_64")]
            Arch::X86_64 => x86_64::apply(r, site, sym, tramp),
            #[cfg(feature = "arch-arm")]
            Arch::Arm => arm::apply(r, site, sym, tramp),
            #[cfg(feature = "arch-riscv")]
            Arch::RiscV32 | Arch::RiscV64 => {
                riscv::apply(self, r, site, sym, tramp, &mut state.riscv)
            }
            #[allow(unreachable_patterns)] // `from_machine` never returns a left-out back-end
            _ => Err(Error::UnsupportedRelocation {
                r_type: r.kind,
                type_name: "?",
                section: site.section,
                offset: r.offset,
            }),
        }
    }

    /// After the last relocation of a section: fails if the back-end still waits for a
    /// relocation that never came (a RISC-V `PCREL_LO12` without its `PCREL_HI20`).
    pub(crate) fn finish(self, state: &RelocState, section: u32) -> Result<(), Error> {
        let _ = (state, section);
        match self {
            #[cfg(feature = "arch-riscv")]
            Arch::RiscV32 | Arch::RiscV64 => riscv::finish(&state.riscv, section),
            _ => Ok(()),
        }
    }
}

/// State carried from one relocation to the next within one relocation section.
#[derive(Default)]
pub(crate) struct RelocState {
    /// RISC-V: recent `PCREL_HI20` values for the `PCREL_LO12` that point at them, and a
    /// `SET_ULEB128` waiting for its `SUB_ULEB128`.
    #[cfg(feature = "arch-riscv")]
    pub riscv: riscv::Hi20Cache,
}

/// The section being patched.
#[cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
pub(crate) struct Site<'a> {
    /// Its bytes (the whole section, in its region).
    pub bytes: &'a mut [u8],
    /// Its run-time address.
    pub addr: u64,
    /// Its index, for errors.
    pub section: u32,
}

#[cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]
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
    /// Its address (S); for a Thumb function bit 0 is set.
    pub value: u64,
    /// Its global symbol number: its GOT entry and stub slot on x86-64.
    #[cfg_attr(not(feature = "arch-x86_64"), allow(dead_code))]
    pub slot: Option<u32>,
    /// The loader's state of the symbol, decoded only when a veneer is needed.
    #[cfg_attr(
        not(any(feature = "arch-arm", feature = "arch-riscv")),
        allow(dead_code)
    )]
    pub sym_bits: u64,
    /// An undefined weak symbol nobody exports: calls to it become no-ops, as GNU ld makes them.
    #[cfg_attr(not(feature = "arch-arm"), allow(dead_code))]
    pub weak_zero: bool,
}

impl Target {
    /// The veneer slot the symbol owns (its rank among the imports), if it has one.
    #[cfg_attr(
        not(any(feature = "arch-arm", feature = "arch-riscv")),
        allow(dead_code)
    )]
    pub(crate) fn import_rank(&self) -> Option<u32> {
        crate::load::import_rank(self.sym_bits)
    }
}

/// The loader-made area: `slots` keys (8 bytes each: the target address) then `slots`
/// trampolines of the architecture's size. A trampoline is made once per distinct target.
pub(crate) struct Trampolines {
    pub block: Option<Block>,
    pub slots: u32,
    pub size: usize,
}

impl Trampolines {
    fn bytes(&mut self, i: u32) -> Option<(&mut [u8], u64)> {
        let b = self.block?;
        let off = self.slots as usize * 8 + i as usize * self.size;
        if i >= self.slots || off + self.size > b.size {
            return None;
        }
        // SAFETY: `off + size` is within the block (checked above), which the load owns; no other
        // reference into the trampoline area is live while the returned slice is.
        let bytes = unsafe { core::slice::from_raw_parts_mut(b.ptr.as_ptr().add(off), self.size) };
        Some((bytes, b.addr + off as u64))
    }

    fn key(&mut self, i: u32) -> Option<&mut [u8]> {
        let b = self.block?;
        if i >= self.slots {
            return None;
        }
        // SAFETY: the keys occupy the first `slots * 8` bytes of the block; `i < slots`.
        Some(unsafe { core::slice::from_raw_parts_mut(b.ptr.as_ptr().add(i as usize * 8), 8) })
    }

    /// Slot `i` (x86-64 numbering: one per global symbol), as `(bytes, run-time address)`.
    #[cfg(feature = "arch-x86_64")]
    pub(crate) fn slot(&mut self, i: Option<u32>) -> Option<(&mut [u8], u64)> {
        let i = i?;
        self.bytes(i)
    }

    /// The trampoline for `target`: the existing one, or a new one that `fill(bytes, addr)`
    /// writes. `hint` is the slot the target's symbol owns (its import rank), found at once; a
    /// target without one (or whose slot holds another target) is looked up among all slots.
    /// `None` when every slot is taken (the area was sized from the symbol table).
    pub(crate) fn for_target(
        &mut self,
        hint: Option<u32>,
        target: u64,
        fill: impl FnOnce(&mut [u8], u64),
    ) -> Option<u64> {
        let b = self.block?;
        let want = target.to_le_bytes();
        // A key of 0 marks a free slot (the area is zeroed); a target of 0 is never shared.
        let free = [0u8; 8];
        let slot = match hint.filter(|&i| i < self.slots).map(|i| {
            (
                i,
                self.key(i)
                    .map(|k| <[u8; 8]>::try_from(&*k).unwrap_or(free)),
            )
        }) {
            Some((i, Some(k))) if k == want && target != 0 => return self.bytes(i).map(|(_, a)| a),
            Some((i, Some(k))) if k == free => i,
            _ => {
                // SAFETY: the first `slots * 8` bytes of the block are the keys; the slice is
                // dropped before anything else touches the block.
                let keys =
                    unsafe { core::slice::from_raw_parts(b.ptr.as_ptr(), self.slots as usize * 8) };
                if target != 0
                    && let Some(i) = keys.chunks_exact(8).position(|k| k == want)
                {
                    return self.bytes(i as u32).map(|(_, a)| a);
                }
                keys.chunks_exact(8).position(|k| k == free)? as u32
            }
        };
        self.key(slot)?.copy_from_slice(&want);
        let (bytes, addr) = self.bytes(slot)?;
        fill(bytes, addr);
        Some(addr)
    }
}

/// Little-endian field access shared by the back-ends.
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

pub(crate) fn get_u16(f: &[u8]) -> u16 {
    u16::from_le_bytes([f[0], f[1]])
}

pub(crate) fn get_u32(f: &[u8]) -> u32 {
    u32::from_le_bytes([f[0], f[1], f[2], f[3]])
}
