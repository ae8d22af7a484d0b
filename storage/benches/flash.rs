//! Install throughput and boot-load time from flash, each against a plain read of the same
//! bytes from the same flash (RAM double and file), and flash wear per install (erases per KiB
//! stored, counted by the RAM double). Figures go to docs/PERFORMANCE.md.

use std::mem::MaybeUninit;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use embedded_storage_async::nor_flash::NorFlash;
use futures::executor::block_on;
use llext_loader::memory::PoolProvider;
use llext_loader::pack::{PackOptions, pack};
use llext_loader::source::SliceSource;
use llext_loader::symbols::ExportList;
use llext_loader::{LoadParams, Registry};
use llext_storage::flash::{FileFlash, RamFlash};
use llext_storage::{CRC32, InstallOptions, Layout, Storage};

use test_support::bench::{EXPORTS, SMALL, big_source, compile_object};

/// 4-byte words, 4 KiB pages (a common external NOR geometry).
type Ram = RamFlash<4, 4096>;
/// Catalog of 8 pages, three 1 MiB slots.
const LAYOUT: Layout = Layout {
    catalog: 0..32 << 10,
    slots_start: 32 << 10,
    slot_size: 1 << 20,
    slot_count: 3,
};
const CAPACITY: usize = (32 << 10) + (3 << 20);

fn compile(name: &str, src: &str) -> Vec<u8> {
    let obj = compile_object("cc", &["-O1"], name, src).expect("host cc");
    pack(&obj, &PackOptions::default()).unwrap()
}

type Reg = Registry<PoolProvider, ExportList, 4>;

fn registry() -> Reg {
    let pool: &'static mut [MaybeUninit<u8>] =
        Box::leak(vec![MaybeUninit::new(0); 8 << 20].into_boxed_slice());
    let base = pool.as_ptr() as u64;
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

fn install<F: NorFlash>(st: &mut Storage<F, 4>, bytes: &[u8]) {
    block_on(async {
        let mut ins = st.installer();
        let opts = InstallOptions {
            boot: true,
            ..InstallOptions::default()
        };
        let n = bytes.len() as u32;
        let mut off = ins
            .begin("x", n, CRC32.checksum(bytes), opts)
            .await
            .unwrap();
        while off < n {
            let end = (off + 1024).min(n);
            off = ins
                .write(off, &bytes[off as usize..end as usize])
                .await
                .unwrap();
        }
        ins.finish().await.unwrap();
    })
}

fn boot<F: NorFlash>(st: &mut Storage<F, 4>, reg: &mut Reg) {
    let s = block_on(st.boot(reg, &LoadParams::default(), &mut |_| true, &mut |_| {})).unwrap();
    assert_eq!(s.loaded, 1);
    let slot = reg.find("x").unwrap();
    reg.unload(slot).unwrap();
}

/// Reads `len` bytes from `start` in 4 KiB reads: the baseline.
fn plain_read<F: NorFlash>(flash: &mut F, start: u32, len: usize, buf: &mut [u8]) {
    block_on(async {
        let mut off = 0;
        while off < len {
            let n = (len - off).min(buf.len());
            flash.read(start + off as u32, &mut buf[..n]).await.unwrap();
            off += n;
        }
    })
}

/// Installs, boot-loads and plainly reads `image` (and a one-byte variant, so installs alternate
/// and are never skipped as unchanged) on `flash`.
fn bench_on<F: NorFlash>(c: &mut Criterion, label: &str, flash: &mut F, image: &[u8]) {
    let mut other = image.to_vec();
    *other.last_mut().unwrap() ^= 0xff;
    let mut st = block_on(Storage::<_, 4>::open(&mut *flash, LAYOUT)).unwrap();
    let mut reg = registry();
    install(&mut st, image);
    boot(&mut st, &mut reg); // confirms: later boots write nothing

    let mut g = c.benchmark_group(label);
    g.throughput(Throughput::Bytes(image.len() as u64));
    let start = st.image_range("x").unwrap().start;
    let mut buf = vec![0u8; 4096];
    g.bench_function("plain read", |b| {
        b.iter(|| plain_read(st.flash(), start, image.len(), &mut buf))
    });
    g.bench_function("boot load (CRC checked)", |b| {
        b.iter(|| boot(&mut st, &mut reg))
    });
    g.bench_function("load from RAM slice (no flash)", |b| {
        b.iter(|| {
            let s = block_on(reg.load(
                "y",
                &mut SliceSource::new(image),
                &LoadParams::default(),
                &mut |_| {},
            ))
            .unwrap();
            reg.unload(s).unwrap();
        })
    });
    let mut flip = false;
    g.bench_function("install", |b| {
        b.iter(|| {
            flip = !flip;
            install(&mut st, if flip { &other } else { image });
        })
    });
    g.finish();
}

/// Erases per KiB stored over `rounds` updates of `image` (each booted and confirmed), split
/// into slot and catalog pages.
fn wear(label: &str, image: &[u8], rounds: usize) {
    let mut flash = Ram::new(CAPACITY / 4096);
    let mut st = block_on(Storage::<_, 4>::open(&mut flash, LAYOUT)).unwrap();
    let mut reg = registry();
    let mut other = image.to_vec();
    *other.last_mut().unwrap() ^= 0xff;
    for r in 0..rounds {
        install(&mut st, if r % 2 == 0 { image } else { &other });
        boot(&mut st, &mut reg);
    }
    let _ = st.into_flash();
    let catalog_pages = LAYOUT.catalog.end as usize / 4096;
    let counts = flash.erase_counts();
    let catalog: u64 = counts[..catalog_pages].iter().map(|&c| u64::from(c)).sum();
    let slots: u64 = counts[catalog_pages..].iter().map(|&c| u64::from(c)).sum();
    let kib = (rounds * image.len()) as f64 / 1024.0;
    let max_slot_page = counts[catalog_pages..].iter().max().unwrap();
    let max_cat_page = counts[..catalog_pages].iter().max().unwrap();
    eprintln!(
        "wear {label}: {} B image, {rounds} installs: {slots} slot page erases ({:.3}/KiB), \
         {catalog} catalog page erases ({:.4}/KiB), total {:.3} erases/KiB; \
         most-erased slot page {max_slot_page}, catalog page {max_cat_page}; \
         {} B written per install",
        image.len(),
        slots as f64 / kib,
        catalog as f64 / kib,
        (slots + catalog) as f64 / kib,
        flash.stats().bytes_written / rounds as u64,
    );
}

fn benches(c: &mut Criterion) {
    let big = compile("big", &big_source());
    let small = compile("small", SMALL);
    eprintln!(
        "images: large {} B packed, small {} B packed; Storage<_, 4> is {} B of RAM",
        big.len(),
        small.len(),
        std::mem::size_of::<Storage<&mut Ram, 4>>()
    );
    // Enough rounds that the catalog wraps around its pages several times.
    wear("large", &big, 40);
    wear("small", &small, 1000);
    for (label, image) in [("large", &big), ("small", &small)] {
        let mut ram = Ram::new(CAPACITY / 4096);
        bench_on(c, &format!("ram_flash_{label}"), &mut ram, image);
        let path = std::env::temp_dir().join(format!(
            "llext-storage-bench-{}-{label}.flash",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let mut file = FileFlash::open_with_size(&path, CAPACITY).unwrap();
        bench_on(c, &format!("file_flash_{label}"), &mut file, image);
        let _ = std::fs::remove_file(&path);
    }
}

criterion_group! {
    name = flash;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(flash);
