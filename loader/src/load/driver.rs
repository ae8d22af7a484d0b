//! The load driver: reads each part where the stream order puts it and hands it to the
//! synchronous code that classifies, lays out, resolves and relocates.

use super::names::Missing;
use super::names::{NameReader, Tables};
use super::provided::provided;
use super::relocate::relocate;
use super::sections::{self, LOADED, NAMED, Role, SecRec};
use super::strings::{MAX_NAME, OrderCheck, shown};
use super::symbols::{F_GLOBAL, F_NAMED, F_WEAK, Slot, Value, slot_for};
use super::work::Work;
use super::{LoadParams, Report, Table};
use crate::arch::Arch;
use crate::elf::{Class, HEADER_READ, Header, Shdr, Sym};
use crate::extension::{ExtExport, Extension, LoadStats};
use crate::memory::{MemKind, MemoryProvider};
use crate::source::Source;
use crate::symbols::{Resolve, SymName};
use crate::{Error, Name, Part};

/// Where to resolve undefined symbols: the firmware first, then loaded extensions.
pub(crate) struct Resolver<'a, R: Resolve + ?Sized> {
    pub firmware: &'a R,
    pub loaded: &'a [Option<Extension>],
}

impl<R: Resolve + ?Sized> Resolver<'_, R> {
    /// The address and, for an extension's export, its registry slot. The order
    /// (docs/LINKING.md): the firmware, then each loaded extension in slot order, its
    /// `.exported_sym` table before its global symbols.
    fn resolve(&self, name: &SymName<'_>) -> Option<(u64, Option<usize>)> {
        if let Some(a) = self.firmware.resolve(name) {
            return Some((a, None));
        }
        self.loaded.iter().enumerate().find_map(|(i, e)| {
            let e = e.as_ref()?;
            e.find_name(name).map(|a| (a, Some(i)))
        })
    }
}

/// Moves to a part, or says it came too late for a forward-only source.
pub(super) async fn goto<S: Source>(
    src: &mut S,
    part: Part,
    section: u32,
    offset: u64,
) -> Result<(), Error> {
    if !S::SEEKABLE && offset < src.position() {
        return Err(Error::StreamOrder {
            part,
            section,
            offset,
            position: src.position(),
        });
    }
    src.seek_to(offset).await
}

/// Rejects sections that overlap each other or the headers.
fn check_overlaps(secs: &[SecRec], ehsize: u64, shoff: u64, sht_end: u64) -> Result<(), Error> {
    let read = |s: &SecRec| s.role != Role::Skip && s.role != Role::Bss && s.size > 0;
    for (i, a) in secs.iter().enumerate().filter(|(_, s)| read(s)) {
        let (a0, a1) = (u64::from(a.off), u64::from(a.off) + u64::from(a.size));
        if a0 < ehsize || (a0 < sht_end && shoff < a1) {
            return Err(Error::malformed(
                "section overlaps the ELF or section headers",
                Some(i as u32),
                a0,
            ));
        }
        for b in secs[i + 1..].iter().filter(|s| read(s)) {
            let (b0, b1) = (u64::from(b.off), u64::from(b.off) + u64::from(b.size));
            if a0 < b1 && b0 < a1 {
                return Err(Error::malformed("sections overlap", Some(i as u32), a0));
            }
        }
    }
    Ok(())
}

/// Loads one extension. On error every byte taken from `mem` has been given back.
pub(crate) async fn load<S: Source, P: MemoryProvider, R: Resolve + ?Sized>(
    name: Name,
    src: &mut S,
    mem: &mut P,
    resolver: &Resolver<'_, R>,
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Extension, Error> {
    let lim = &params.limits;

    // --- ELF header -----------------------------------------------------------------------------
    let mut hb = [0u8; HEADER_READ];
    goto(src, Part::SectionHeaders, 0, 0).await?;
    src.read_exact(&mut hb[..16]).await?;
    if hb[..4] != object::elf::ELFMAG {
        return Err(Error::NotElf);
    }
    src.read_exact(&mut hb[16..52]).await?;
    if hb[4] == object::elf::ELFCLASS64.0 {
        src.read_exact(&mut hb[52..64]).await?;
    }
    let hdr = Header::parse(&hb)?;
    let class = hdr.class;
    let expected = params.arch.map_or(0, Arch::machine);
    let arch = Arch::from_machine(hdr.machine, class)
        .filter(|a| params.arch.is_none_or(|p| p == *a))
        .ok_or(Error::WrongMachine {
            found: hdr.machine,
            expected,
        })?;
    if hdr.shnum > lim.max_sections {
        return Err(Error::Limit {
            what: "section count",
            value: hdr.shnum.into(),
            limit: lim.max_sections.into(),
        });
    }
    if hdr.shoff < hdr.size() {
        return Err(Error::malformed(
            "e_shoff overlaps the ELF header",
            None,
            hdr.shoff,
        ));
    }

    let mut w = Work {
        mem,
        secs: Table::EMPTY,
        syms: Table::EMPTY,
        exports: Table::EMPTY,
        regions: [None; 5],
    };
    let mut stats = LoadStats {
        sections: hdr.shnum,
        ..LoadStats::default()
    };

    // --- Section headers --------------------------------------------------------------------------
    w.secs = Table::alloc(w.mem, hdr.shnum as usize)?;
    goto(src, Part::SectionHeaders, 0, hdr.shoff).await?;
    let (mut symtab, mut strtab, mut first_global) = (0u32, 0u32, 0u32);
    let mut sh_names = OrderCheck::default();
    let shsz = class.shdr_size();
    let mut sb = [0u8; 64];
    for i in 0..hdr.shnum {
        src.read_exact(&mut sb[..shsz]).await?;
        let sh = Shdr::parse(class, &sb[..shsz]);
        let rec = sections::classify(class, i, hdr.shnum, hdr.shstrndx, &sh)?;
        if rec.state & NAMED != 0 {
            sh_names.add(sh.name.into());
        }
        if rec.role == Role::Symtab {
            if symtab != 0 {
                return Err(Error::malformed("more than one symbol table", Some(i), 0));
            }
            (symtab, strtab, first_global) = (i, sh.link, sh.info);
        }
        w.secs.as_mut_slice()[i as usize] = rec;
    }
    let sht_end = hdr.shoff.saturating_add(u64::from(hdr.shnum) * shsz as u64);
    if symtab == 0 {
        return Err(Error::malformed("no symbol table", None, 0));
    }
    {
        let s = &mut w.secs.as_mut_slice()[strtab as usize];
        match s.role {
            Role::Skip => s.role = Role::Strtab,
            Role::Shstrtab => {}
            _ => {
                return Err(Error::malformed(
                    "symbol table sh_link is not a string table",
                    Some(symtab),
                    strtab.into(),
                ));
            }
        }
    }
    check_overlaps(w.secs.as_slice(), hdr.size(), hdr.shoff, sht_end)?;

    // --- Section names ------------------------------------------------------------------------------
    let shstr = w.secs.as_slice()[hdr.shstrndx as usize];
    let mut tables = Tables {
        class,
        shoff: hdr.shoff,
        shstrndx: hdr.shstrndx,
        shstr,
        sh_names,
        symtab_off: 0,
        strtab,
        strtab_rec: SecRec::default(),
        st_names: OrderCheck::default(),
    };
    S::Names::section_names(src, &tables, w.secs.as_mut_slice()).await?;
    let mut layout = sections::lay_out(w.secs.as_mut_slice())?;
    for (i, s) in w.secs.as_slice().iter().enumerate() {
        if let Some(kind) = s.role.region() {
            report(Report::Placed {
                section: i as u32,
                kind,
                offset: s.place,
                size: s.size,
            });
        }
    }

    // --- Symbols ------------------------------------------------------------------------------------
    let symrec = w.secs.as_slice()[symtab as usize];
    let symsz = class.sym_size();
    let nsyms = symrec.size / symsz as u32;
    if !symrec.size.is_multiple_of(symsz as u32) {
        return Err(Error::malformed(
            "symbol table size is not a multiple of its entry size",
            Some(symtab),
            symrec.size.into(),
        ));
    }
    if nsyms > lim.max_symbols {
        return Err(Error::Limit {
            what: "symbol count",
            value: nsyms.into(),
            limit: lim.max_symbols.into(),
        });
    }
    if first_global > nsyms {
        return Err(Error::malformed(
            "symbol table sh_info (first global)",
            Some(symtab),
            first_global.into(),
        ));
    }
    stats.symbols = nsyms;
    w.syms = Table::alloc(w.mem, nsyms as usize)?;
    goto(src, Part::Symbols, symtab, symrec.off.into()).await?;
    let mut st_names = OrderCheck::default();
    let mut n_exports = 0usize;
    {
        let secs = w.secs.as_slice();
        let syms = w.syms.as_mut_slice();
        let mut eb = [0u8; 24];
        for (i, slot) in syms.iter_mut().enumerate() {
            src.read_exact(&mut eb[..symsz]).await?;
            let sym = Sym::parse(class, &eb[..symsz]);
            *slot = slot_for(i as u32, &sym, secs, &mut layout)?;
            if slot.has(F_NAMED) {
                st_names.add(sym.name.into());
            }
            if slot.is_defined() && slot.has(F_GLOBAL) {
                n_exports += 1;
            }
        }
    }
    w.exports = Table::alloc(w.mem, n_exports)?;

    // --- Symbol names: resolve undefined symbols, index exports -------------------------------------
    let strrec = w.secs.as_slice()[strtab as usize];
    let mut missing = Missing::default();
    let mut deps = 0u32;
    let mut n_exp = 0usize;
    let mut n_imports = 0u32;
    let secs = w.secs.as_slice();
    let mut on_name = |slot: &mut Slot,
                       exports: &mut [ExtExport],
                       name: &SymName<'_>,
                       i: u32|
     -> Result<(), Error> {
        let needs = slot.is_pending() || (slot.is_defined() && slot.has(F_GLOBAL));
        if !needs {
            return Ok(());
        }
        if slot.is_defined() {
            let e =
                exports
                    .get_mut(n_exp)
                    .ok_or(Error::malformed("export count", None, i.into()))?;
            *e = ExtExport {
                hash: name.hash,
                addr: slot.0,
            };
            n_exp += 1;
        } else if let Some(p) = provided(name, secs, &layout) {
            *slot = slot.provided(p);
        } else if let Some((addr, from)) = resolver.resolve(name) {
            if let Some(k) = from {
                deps |= 1 << k;
            }
            *slot = match u32::try_from(addr) {
                Ok(a) if class == Class::Elf32 => slot.imported(a, n_imports),
                _ => slot.resolved(addr),
            };
            n_imports += 1;
        } else if slot.has(F_WEAK) {
            *slot = slot.resolved(0);
        } else {
            // A stream names it now; a seekable source first finds out whether a loaded
            // section uses it (`Missing::confirm`).
            *slot = slot.missing();
            if !S::SEEKABLE {
                let mut buf = [0u8; MAX_NAME];
                let shown = shown(name, &mut buf);
                if missing.count == 0 {
                    missing.first = Name::new(shown.as_bytes());
                }
                report(Report::MissingSymbol(shown));
            }
            missing.count += 1;
        }
        Ok(())
    };
    tables.symtab_off = symrec.off.into();
    tables.strtab_rec = strrec;
    tables.st_names = st_names;
    {
        let exports = w.exports.as_mut_slice();
        let mut each =
            |slot: &mut Slot, name: &SymName<'_>, i: u32| on_name(slot, exports, name, i);
        S::Names::symbol_names(src, &tables, w.syms.as_mut_slice(), &mut each).await?;
    }
    for s in w.syms.as_slice() {
        if s.is_pending() {
            // A named undefined symbol whose name never came: the string table is short.
            return Err(Error::malformed(
                "undefined symbol without a name",
                Some(strtab),
                0,
            ));
        }
    }
    if missing.count > 0 {
        missing = S::Names::confirm(
            src,
            &tables,
            w.secs.as_slice(),
            w.syms.as_mut_slice(),
            missing,
            report,
        )
        .await?;
        if missing.count > 0 {
            return Err(Error::MissingSymbols {
                count: missing.count,
                first: missing.first,
            });
        }
    }

    // --- Regions ----------------------------------------------------------------------------------------
    // Trampolines: on x86-64 a GOT entry and stub per global symbol; elsewhere at most one
    // veneer per imported symbol (calls within the extension stay in range).
    let slots = match arch {
        Arch::X86_64 => nsyms - first_global,
        _ => n_imports,
    };
    let mut tramp = w.alloc_regions(&layout, arch, slots, lim.max_image)?;
    stats.image_bytes = w.regions.iter().flatten().map(|b| b.size).sum();

    // --- Contents and relocations -------------------------------------------------------------------
    // A stream delivers them in index order; a seekable source reads all contents first.
    let passes: &[(bool, bool)] = if S::SEEKABLE {
        &[(true, false), (false, true)]
    } else {
        &[(true, true)]
    };
    let mut relocs = 0u32;
    for &(contents, rels) in passes {
        for i in 0..hdr.shnum {
            let rec = w.secs.as_slice()[i as usize];
            if contents && rec.role.has_contents() {
                goto(src, Part::Contents, i, rec.off.into()).await?;
                let (bytes, _) = w.section_bytes(&rec).ok_or(Error::malformed(
                    "section placement",
                    Some(i),
                    0,
                ))?;
                src.read_exact(bytes).await?;
                w.secs.as_mut_slice()[i as usize].state |= LOADED;
            }
            if rels && matches!(rec.role, Role::Rel | Role::Rela) {
                let target = w.secs.as_slice()[rec.place as usize];
                if !target.role.has_contents() {
                    continue; // relocations of debug info and other sections not loaded
                }
                if target.state & LOADED == 0 {
                    return Err(Error::StreamOrder {
                        part: Part::Relocations,
                        section: i,
                        offset: rec.off.into(),
                        position: src.position(),
                    });
                }
                let rela = rec.role == Role::Rela;
                let esz = class.rel_size(rela);
                if !(rec.size as usize).is_multiple_of(esz) {
                    return Err(Error::malformed(
                        "relocation section size",
                        Some(i),
                        rec.size.into(),
                    ));
                }
                let count = rec.size / esz as u32;
                relocs = relocs.saturating_add(count);
                if relocs > lim.max_relocations {
                    return Err(Error::Limit {
                        what: "relocation count",
                        value: relocs.into(),
                        limit: lim.max_relocations.into(),
                    });
                }
                goto(src, Part::Relocations, i, rec.off.into()).await?;
                relocate(
                    src,
                    &w,
                    &target,
                    rec.place,
                    class,
                    rela,
                    count,
                    arch,
                    first_global,
                    &mut tramp,
                )
                .await?;
            }
        }
    }
    stats.relocations = relocs;
    stats.file_bytes = src.position();

    // --- Finish: seal code, index exports, give back what was transient ----------------------------
    for (i, kind) in MemKind::ALL[..5].iter().enumerate() {
        if let Some(b) = w.regions[i] {
            w.mem
                .seal(*kind, &b)
                .map_err(|_| Error::Protect { kind: *kind })?;
        }
    }
    let regions = w.regions;
    let exports = w.exports.as_mut_slice();
    for e in exports.iter_mut() {
        e.addr = match Slot(e.addr).value() {
            Value::Region(k, off) => regions[k.index()].map_or(0, |b| b.addr + u64::from(off)),
            Value::Absolute(a) => a,
            Value::None => 0,
        };
    }
    sort_by_hash(exports);
    if exports.windows(2).any(|p| p[0].hash == p[1].hash) {
        return Err(Error::malformed(
            "two exported symbols with the same name (or name hash)",
            None,
            0,
        ));
    }
    let transient = w.secs.len() * size_of::<SecRec>() + w.syms.len() * size_of::<Slot>();
    w.secs.free(w.mem);
    w.syms.free(w.mem);
    stats.kept_metadata = w.exports.len() * size_of::<ExtExport>();
    stats.transient_peak = transient;
    let regions = core::mem::take(&mut w.regions);
    Ok(Extension {
        name,
        arch,
        regions,
        exports: w.exports.take(),
        preinit: layout.preinit,
        init: layout.init,
        fini: layout.fini,
        exported: layout.exported,
        ptr_size: class.addr_size(),
        deps,
        use_count: 1,
        stats,
    })
}
/// Shell sort by hash: a few dozen bytes of code instead of core's sort (this runs once per load
/// on a handful of exports, and code size matters more on a microcontroller).
fn sort_by_hash(e: &mut [ExtExport]) {
    let mut gap = e.len() / 2;
    while gap > 0 {
        for i in gap..e.len() {
            let mut j = i;
            while j >= gap && e[j - gap].hash > e[j].hash {
                e.swap(j - gap, j);
                j -= gap;
            }
        }
        gap /= 2;
    }
}
