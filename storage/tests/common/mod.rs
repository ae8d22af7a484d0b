//! Shared test helpers: C extensions compiled with the system `cc` and packed, a RAM flash
//! with a small layout, install and boot in one call, and calling into loaded extensions.
#![allow(dead_code)]

use std::path::PathBuf;

use embedded_storage_async::nor_flash::NorFlash;
use futures::executor::block_on;
use llext_loader::memory::HostProvider;
use llext_loader::pack::{PackOptions, pack};
use llext_loader::symbols::ExportList;
use llext_loader::{LoadParams, Registry};
use llext_storage::flash::RamFlash;
use llext_storage::{BootEvent, BootSummary, Error, InstallOptions, Installed, Layout, Storage};

/// 4-byte words, 512-byte pages: small pages so an install spans several.
pub type Flash = RamFlash<4, 512>;
/// Catalog of 8 pages (4 KiB), three 4 KiB slots.
pub const LAYOUT: Layout = Layout {
    catalog: 0..4096,
    slots_start: 4096,
    slot_size: 4096,
    slot_count: 3,
};
pub const PAGES: usize = 32;

pub type Store<'f, F> = Storage<&'f mut F, 4>;
pub type Reg = Registry<HostProvider, ExportList, 8>;

/// A fresh scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("storage-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles C `source` with `cc -O2 -c` and packs it into stream order.
pub fn build(stem: &str, source: &str) -> Vec<u8> {
    pack(&build_raw(stem, source), &PackOptions::default()).unwrap()
}

/// Compiles C `source` with `cc -O2 -c` (the compiler's section order, not stream order).
pub fn build_raw(stem: &str, source: &str) -> Vec<u8> {
    let dir = scratch(stem);
    let o = test_support::compile_in(&dir, "cc", stem, source, &["-O2"]).expect("cc is needed");
    let obj = std::fs::read(&o).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    obj
}

/// Version `v` of extension "e": `int version(void)` returns `v`; a 2.5 KB table makes the
/// image span several flash pages.
pub fn versioned(v: u32) -> Vec<u8> {
    build(
        &format!("v{v}"),
        &format!(
            "const unsigned char blob[2500] = {{ {v}, 1, 2, 3 }};\n\
             int version(void) {{ return {v} + blob[1] - 1; }}\n"
        ),
    )
}

pub fn crc(bytes: &[u8]) -> u32 {
    llext_storage::CRC32.checksum(bytes)
}

pub fn boot_opts() -> InstallOptions<'static> {
    InstallOptions {
        boot: true,
        ..InstallOptions::default()
    }
}

/// Opens the storage on `flash`.
pub fn open<F: NorFlash>(flash: &mut F, layout: Layout) -> Store<'_, F> {
    block_on(Storage::open(flash, layout)).expect("open storage")
}

/// Installs `bytes` as `name` in chunks of `chunk` bytes (begin, write..., finish).
pub fn install<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    name: &str,
    bytes: &[u8],
    opts: InstallOptions<'_>,
    chunk: usize,
) -> Result<Installed, Error<F::Error>> {
    block_on(async {
        let mut ins = st.installer();
        let mut off = ins
            .begin(name, bytes.len() as u32, crc(bytes), opts)
            .await? as usize;
        while off < bytes.len() {
            let end = (off + chunk).min(bytes.len());
            off = ins.write(off as u32, &bytes[off..end]).await? as usize;
        }
        ins.finish().await
    })
}

/// Boot events as owned text, for assertions.
#[derive(Clone, Debug, PartialEq)]
pub enum Ev {
    Loaded(String, u32, bool),
    Failed(String, u32, String),
    RolledBack(String, u32, u32),
    Skipped(String, String),
    Missing(String, String),
}

pub fn firmware() -> ExportList {
    ExportList::new([])
}

pub fn registry() -> Reg {
    Registry::new(HostProvider::new(), firmware())
}

/// Boots into a fresh registry (a restart), running constructors as bringup.
pub fn boot<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
) -> Result<(Reg, Vec<Ev>, BootSummary), Error<F::Error>> {
    boot_with(st, &mut |_| true)
}

/// Boots with a bringup hook that decides, by extension name, whether bringup succeeds.
pub fn boot_with<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    ok: &mut dyn FnMut(&str) -> bool,
) -> Result<(Reg, Vec<Ev>, BootSummary), Error<F::Error>> {
    let mut reg = registry();
    let mut evs = Vec::new();
    let summary = block_on(st.boot(
        &mut reg,
        &LoadParams::default(),
        &mut |ext| {
            // SAFETY: the extensions were compiled for this machine by these tests.
            unsafe { ext.bringup() };
            ok(ext.name())
        },
        &mut |ev| evs.push(owned(&ev)),
    ));
    match summary {
        Ok(s) => Ok((reg, evs, s)),
        Err(e) => {
            unload_all(&mut reg);
            Err(e)
        }
    }
}

pub fn owned(ev: &BootEvent<'_>) -> Ev {
    match ev {
        BootEvent::Loaded {
            name,
            version,
            confirmed,
            ..
        } => Ev::Loaded(name.to_string(), *version, *confirmed),
        BootEvent::Failed {
            name,
            version,
            reason,
        } => Ev::Failed(name.to_string(), *version, reason.to_string()),
        BootEvent::RolledBack { name, from, to } => Ev::RolledBack(name.to_string(), *from, *to),
        BootEvent::Skipped { name, reason } => Ev::Skipped(name.to_string(), reason.to_string()),
        BootEvent::MissingSymbol { name, symbol } => {
            Ev::Missing(name.to_string(), symbol.to_string())
        }
    }
}

/// Calls `int sym(void)` of loaded extension `name` (x86-64 hosts only; elsewhere returns the
/// `fallback` so the rest of a test still runs).
pub fn call(reg: &Reg, name: &str, sym: &str, fallback: i32) -> i32 {
    let slot = reg
        .find(name)
        .unwrap_or_else(|| panic!("{name} not loaded"));
    let addr = reg
        .get(slot)
        .unwrap()
        .find_symbol(sym)
        .unwrap_or_else(|| panic!("{name} has no {sym}"));
    if cfg!(target_arch = "x86_64") {
        // SAFETY: compiled for this machine from the tests' C sources, where `sym` is
        // `int sym(void)`.
        unsafe { llext_loader::extension::call_int(addr) }
    } else {
        fallback
    }
}

/// Unloads everything (dependents first), returning the mappings to the system.
pub fn unload_all(reg: &mut Reg) {
    loop {
        let slots: Vec<usize> = reg.iter().map(|(i, _)| i).collect();
        if slots.is_empty() {
            return;
        }
        let before = slots.len();
        for i in slots {
            let _ = reg.unload(i);
        }
        assert!(reg.iter().count() < before, "unload made no progress");
    }
}

/// Boots, calls `version` of "e", unloads; `None` when "e" did not load.
pub fn boot_version<F: NorFlash, const N: usize>(st: &mut Storage<F, N>) -> (Option<i32>, Vec<Ev>) {
    let (mut reg, evs, _) = boot(st).expect("boot");
    let v = reg.find("e").map(|_| {
        let fallback = st.entry("e").map_or(0, |e| e.active.version as i32);
        call(&reg, "e", "version", fallback)
    });
    unload_all(&mut reg);
    (v, evs)
}

/// Checks what must hold after any restart: entries use distinct slots inside the layout, and
/// every image the catalog points to reads back with its CRC.
pub fn check_consistent<F: NorFlash, const N: usize>(st: &mut Storage<F, N>) {
    let layout = st.layout().clone();
    let entries: Vec<_> = st.list().copied().collect();
    let mut used = Vec::new();
    for e in &entries {
        for img in std::iter::once(e.active).chain(e.previous) {
            assert!(img.slot < layout.slot_count, "{e:?}: slot out of range");
            assert!(!used.contains(&img.slot), "slot {} used twice", img.slot);
            used.push(img.slot);
            let r = layout.slot(img.slot);
            let mut buf = vec![0u8; img.len as usize];
            block_on(st.flash().read(r.start, &mut buf)).unwrap();
            assert_eq!(
                crc(&buf),
                img.crc,
                "{e:?}: image in slot {} is damaged",
                img.slot
            );
        }
    }
}

/// A device reset: the storage's RAM state is gone, the flash stays.
pub fn reset<F: NorFlash, const N: usize>(st: Storage<F, N>) {
    let _flash = st.into_flash();
}
