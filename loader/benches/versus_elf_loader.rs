//! Load time against `elf_loader` 0.18 (Relink), on the same three x86-64 relocatable objects
//! compiled by the system `cc` now: the large generated extension of `load.rs`, one with 120 KB of
//! initialised data, and a 3-relocation one.
//!
//! Each side, per iteration, from the object's bytes in memory: parses it, maps its sections
//! (this loader: `HostProvider`, W^X, low 2 GiB; `elf_loader`: its default mmap), resolves every
//! undefined symbol by name against the same 300 `fw_N` host functions (this loader: an
//! `ExportList`; `elf_loader`: a `SyntheticModule` made once, as the list is), applies every
//! relocation at once (`elf_loader` binds objects only eagerly: they have no lazy binding), makes the code executable, and then unloads
//! (unload / drop). Before timing, each side's result is called and checked. The ratio printed
//! is this loader's time over `elf_loader`'s (below 1: this loader is faster), each the best of
//! 9 alternating rounds of about 0.3 s. Figures go to docs/PERFORMANCE.md (issue 11).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use elf_loader::image::{ModuleHandle, SyntheticModule, SyntheticSymbol};
use elf_loader::object::{SectionGroups, SectionLifetime};
use elf_loader::os::ProtFlags;
use elf_loader::{AddressSpaceId, Domain, Loader, Relocator, input::ElfBinary};
use llext_loader::memory::HostProvider;
use llext_loader::source::SliceSource;
use llext_loader::symbols::ExportList;
use llext_loader::{LoadParams, Registry};

use test_support::bench::{EXPORTS, TINY, big_source, compile_object, data_source};

/// Every `fw_N` export is this function.
extern "C" fn fw(x: i32) -> i32 {
    x + 1
}

type Reg = Registry<HostProvider, ExportList, 4>;
type Host = ModuleHandle<elf_loader::arch::NativeArch>;

fn names() -> Vec<String> {
    (0..EXPORTS).map(|i| format!("fw_{i}")).collect()
}

fn ours() -> Reg {
    let names = names();
    let at = fw as *const () as u64;
    Registry::new(
        HostProvider::new(),
        ExportList::new(names.iter().map(|n| (n.as_str(), at))),
    )
}

fn theirs() -> Host {
    let domain = Domain::<elf_loader::arch::NativeArch>::native(AddressSpaceId::PROCESS);
    let syms = names()
        .into_iter()
        .map(|n| SyntheticSymbol::function(std::ffi::CString::new(n).unwrap(), fw as *const ()));
    SyntheticModule::new(&domain, "__host", syms).into()
}

/// Loads, links and unloads with this loader; `check` calls `sym(arg)` before unloading.
fn load_ours(reg: &mut Reg, obj: &[u8], check: Option<(&str, i32)>) -> (u32, Option<i32>) {
    let slot = futures::executor::block_on(reg.load(
        "x",
        &mut SliceSource::new(obj),
        &LoadParams::default(),
        &mut |_| {},
    ))
    .expect("llext-loader load");
    let ext = reg.get(slot).unwrap();
    let v = check.map(|(sym, arg)| {
        let addr = ext.entry(sym).expect("entry");
        // SAFETY: `sym` is an `int (int)` function of an object built for this host.
        let f: extern "C" fn(i32) -> i32 = unsafe { std::mem::transmute(addr as usize) };
        f(arg)
    });
    let relocs = ext.stats().relocations;
    reg.unload(slot).unwrap();
    (relocs, v)
}

/// Loads, links and drops with `elf_loader`; `check` calls `sym(arg)` before dropping.
fn load_theirs(host: &Host, obj: &[u8], check: Option<(&str, i32)>) -> Option<i32> {
    let raw = Loader::new()
        .run(Domain::native(AddressSpaceId::PROCESS))
        .with_object_section_groups(section_groups())
        .load_object(ElfBinary::new("x.o", obj))
        .expect("elf_loader load");
    let linked = Relocator::new()
        .run(raw)
        .with_modules([host.clone()])
        .expect("scope")
        .relocate()
        .expect("elf_loader relocate");
    check.map(|(sym, arg)| {
        // SAFETY: as in `load_ours`.
        let f = unsafe { linked.get::<extern "C" fn(i32) -> i32>(sym) }
            .expect("lookup")
            .expect("symbol");
        f(arg)
    })
}

/// `elf_loader`'s default object layout groups. Its `SectionGroups::default()` defines them
/// inside `debug_assert_eq!`, so a release build gets none and every object fails with "section
/// layout group is not defined"; this defines the same five, in the same order, in any build.
fn section_groups() -> SectionGroups {
    let mut g = SectionGroups::default();
    if cfg!(debug_assertions) {
        return g;
    }
    let (r, w, x) = (
        ProtFlags::PROT_READ,
        ProtFlags::PROT_WRITE,
        ProtFlags::PROT_EXEC,
    );
    for (prot, order, life) in [
        (r, 0, SectionLifetime::Core),
        (r | w, 1, SectionLifetime::Core),
        (r | x, 2, SectionLifetime::Core),
        (r | w | x, 3, SectionLifetime::Core),
        (r | w, usize::MAX, SectionLifetime::Init),
    ] {
        g.define(prot, prot, order, life);
    }
    g
}

/// Mean time per call of `a` and of `b`, each the best of 9 rounds of about 0.3 s, the rounds
/// alternating so that both see the same load from the rest of the machine.
fn best_of_both(mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    let calls = |f: &mut dyn FnMut()| {
        let (start, mut n) = (Instant::now(), 0u32);
        while start.elapsed() < Duration::from_millis(300) {
            f();
            n += 1;
        }
        n
    };
    let (na, nb) = (calls(&mut a), calls(&mut b));
    let round = |f: &mut dyn FnMut(), n: u32| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed() / n
    };
    let (mut ta, mut tb) = (Duration::MAX, Duration::MAX);
    for _ in 0..9 {
        ta = ta.min(round(&mut a, na));
        tb = tb.min(round(&mut b, nb));
    }
    (ta, tb)
}

fn benches(c: &mut Criterion) {
    let flags = ["-O1", "-fno-asynchronous-unwind-tables"];
    let data_sum = (0..30_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) % 1000) as i32)
        .sum::<i32>();
    let objects = [
        ("large", big_source(), ("f0", 1), 1 + 250),
        ("data_120k", data_source(), ("sum", 0), data_sum),
        ("tiny", TINY.to_string(), ("go", 0), 8 + 2),
    ];
    let (mut reg, host) = (ours(), theirs());
    for (label, src, check, want) in &objects {
        let obj = compile_object("cc", &flags, label, src).expect("host cc");
        let (relocs, a) = load_ours(&mut reg, &obj, Some(*check));
        let b = load_theirs(&host, &obj, Some(*check));
        assert_eq!(a, b, "{label}: both loaders' code must compute the same");
        assert_eq!(
            a,
            Some(*want),
            "{label}: a wrong link must not pass as fast"
        );
        let (t_ours, t_theirs) = best_of_both(
            || {
                black_box(load_ours(&mut reg, black_box(&obj), None));
            },
            || {
                black_box(load_theirs(&host, black_box(&obj), None));
            },
        );
        eprintln!(
            "{label}: {} B object, {relocs} relocations, {}() = {}: llext-loader {t_ours:.2?}, \
             elf_loader {t_theirs:.2?}, ratio {:.2}x",
            obj.len(),
            check.0,
            a.unwrap(),
            t_ours.as_secs_f64() / t_theirs.as_secs_f64()
        );
        let mut g = c.benchmark_group(format!("versus_{label}"));
        g.sample_size(20).measurement_time(Duration::from_secs(2));
        g.bench_function("llext-loader (HostProvider, slice)", |b| {
            b.iter(|| load_ours(&mut reg, black_box(&obj), None))
        });
        g.bench_function("elf_loader 0.18", |b| {
            b.iter(|| load_theirs(&host, black_box(&obj), None))
        });
        g.finish();
    }
}

criterion_group!(versus, benches);
criterion_main!(versus);
