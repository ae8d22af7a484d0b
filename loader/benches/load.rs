//! Load time of a generated worst-case extension (25,000 relocations against 300 firmware
//! exports, the size Zephyr users reported taking ~4 s) and of a small one, from a byte slice
//! (seekable path) and from a forward-only stream of the packed file, against a plain memcpy
//! of the same bytes. Figures go to docs/PERFORMANCE.md.

use std::hint::black_box;
use std::mem::MaybeUninit;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llext_loader::arch::Arch;
use llext_loader::link::{LinkProvider, link};
use llext_loader::memory::PoolProvider;
use llext_loader::pack::{PackOptions, pack};
use llext_loader::source::{SliceSource, StreamSource};
use llext_loader::symbols::ExportList;
use llext_loader::{LoadParams, Registry};

use test_support::bench::{EXPORTS, SMALL, big_source, compile_object};

fn compile(name: &str, src: &str) -> Vec<u8> {
    compile_object("cc", &["-O1"], name, src).expect("host cc")
}

/// The large extension linked on the host for a microcontroller target (`host-push link`'s
/// path): relocations per second for each back-end.
fn bench_cross(c: &mut Criterion) {
    let targets: [(&str, &str, &[&str], Arch, u64); 2] = [
        (
            "arm_cortex_m3",
            "arm-none-eabi-gcc",
            &["-mcpu=cortex-m3", "-mthumb", "-O1"],
            Arch::Arm,
            1,
        ),
        (
            "riscv32imac",
            "riscv64-unknown-elf-gcc",
            &["-march=rv32imac", "-mabi=ilp32", "-O1"],
            Arch::RiscV32,
            0,
        ),
    ];
    let src = big_source();
    for (label, cc, flags, arch, thumb) in targets {
        let Some(obj) = compile_object(cc, flags, label, &src) else {
            eprintln!("{label}: {cc} not installed, skipped");
            continue;
        };
        let base = 0x2000_0000u64;
        let names: Vec<String> = (0..EXPORTS).map(|i| format!("fw_{i}")).collect();
        let exports = ExportList::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), base - 0x10_0000 + 16 * i as u64 + thumb)),
        );
        let linked = link(&obj, &exports, base, Some(arch))
            .unwrap_or_else(|e| panic!("{label}: {}", e.error));
        let relocs = count_relocations(&obj, &exports, base, arch);
        eprintln!(
            "{label}: file {} B, {} sections linked, {} relocations",
            obj.len(),
            linked.sections.len(),
            relocs
        );
        let mut g = c.benchmark_group(format!("large_25k_relocs_{label}"));
        g.throughput(Throughput::Elements(relocs.into()));
        g.bench_function("link (seekable path)", |b| {
            b.iter(|| link(black_box(&obj), &exports, base, Some(arch)).unwrap())
        });
        g.finish();
    }
}

fn count_relocations(obj: &[u8], exports: &ExportList, base: u64, arch: Arch) -> u32 {
    let mut reg = Registry::<_, _, 1>::new(LinkProvider::new(base), exports);
    let params = LoadParams {
        arch: Some(arch),
        ..LoadParams::default()
    };
    let slot = futures::executor::block_on(reg.load(
        "x",
        &mut SliceSource::new(obj),
        &params,
        &mut |_| {},
    ))
    .unwrap();
    reg.get(slot).unwrap().stats().relocations
}

type Reg = Registry<PoolProvider, ExportList, 4>;

fn registry() -> Reg {
    let pool: &'static mut [MaybeUninit<u8>] =
        Box::leak(vec![MaybeUninit::new(0); 8 << 20].into_boxed_slice());
    let base = pool.as_ptr() as u64;
    // Exports just below the pool, so calls are in reach as on a device with nearby firmware.
    let names: Vec<String> = (0..EXPORTS)
        .map(|i| format!("fw_{i}"))
        .chain(["snprintf", "strlen", "puts"].map(String::from))
        .collect();
    let exports = ExportList::new(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), base - 0x10_0000 + 16 * i as u64)),
    );
    Registry::new(PoolProvider::new(pool), exports)
}

fn bench_file(c: &mut Criterion, label: &str, obj: &[u8]) {
    let packed = pack(obj, &PackOptions::default()).unwrap();
    let mut reg = registry();
    let params = LoadParams::default();
    let slot = futures::executor::block_on(reg.load(
        "x",
        &mut SliceSource::new(obj),
        &params,
        &mut |_| {},
    ))
    .unwrap();
    let st = reg.get(slot).unwrap().stats();
    reg.unload(slot).unwrap();
    eprintln!(
        "{label}: file {} B, packed {} B, image {} B, {} symbols, {} relocations, {} sections, transient {} B",
        obj.len(),
        packed.len(),
        st.image_bytes,
        st.symbols,
        st.relocations,
        st.sections,
        st.transient_peak
    );

    let mut g = c.benchmark_group(label);
    g.throughput(Throughput::Elements(st.relocations.into()));
    g.bench_function("slice (seekable path)", |b| {
        b.iter(|| {
            let s = futures::executor::block_on(reg.load(
                "x",
                &mut SliceSource::new(obj),
                &params,
                &mut |_| {},
            ))
            .unwrap();
            reg.unload(s).unwrap();
        })
    });
    g.bench_function("stream (forward-only, packed)", |b| {
        b.iter(|| {
            let mut src = StreamSource::new(&packed[..]);
            let s =
                futures::executor::block_on(reg.load("x", &mut src, &params, &mut |_| {})).unwrap();
            reg.unload(s).unwrap();
        })
    });
    g.throughput(Throughput::Bytes(packed.len() as u64));
    let mut dst = vec![0u8; packed.len()];
    g.bench_function("memcpy of the packed file", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&packed));
            black_box(&mut dst);
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let big = compile("big", &big_source());
    let small = compile("small", SMALL);
    bench_file(c, "large_25k_relocs", &big);
    bench_file(c, "small", &small);
    bench_cross(c);
}

criterion_group!(load, benches);
criterion_main!(load);
