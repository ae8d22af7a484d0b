//! The load as a state machine: fed in every chunking (one byte at a time, random splits) and
//! through the blocking driver, it gives exactly what the async stream and slice paths give.

mod common;

use common::*;
use llext_loader::link::LinkProvider;
use llext_loader::load::{Need, Streamed};
use llext_loader::memory::MemKind;
use llext_loader::pack::{PackOptions, pack};
use llext_loader::source::StreamSource;
use llext_loader::symbols::ExportList;
use llext_loader::{Error, LoadParams, Registry};

type Reg = Registry<LinkProvider, ExportList, 4>;

const BASE: u64 = 0x4000_0000;

fn registry() -> Reg {
    Registry::new(LinkProvider::new(BASE), libc_like_exports())
}

/// Every region's kind, address and bytes, and the exports' addresses, of the extension in
/// `slot`: the same load at the same base must give the same image.
fn image(reg: &Reg, slot: usize) -> Vec<(MemKind, u64, Vec<u8>)> {
    let e = reg.get(slot).unwrap();
    let mut out: Vec<_> = e
        .regions()
        .map(|r| (r.kind, r.addr, e.region_bytes(r.kind).unwrap().to_vec()))
        .collect();
    for sym in ["go", "helper", "msg"] {
        out.push((MemKind::Metadata, e.find_symbol(sym).unwrap(), Vec::new()));
    }
    out
}

/// Feeds `bytes` to a hand-driven load in chunks of the sizes `split` gives.
fn fed(
    bytes: &[u8],
    mut split: impl FnMut() -> usize,
) -> Result<Vec<(MemKind, u64, Vec<u8>)>, Error> {
    let mut reg = registry();
    let mut l = reg.loader::<Streamed>("fed", &LoadParams::default())?;
    let mut at = 0usize;
    while at < bytes.len() && l.need() != Need::Done {
        let n = split().clamp(1, bytes.len() - at);
        let used = l.feed(&bytes[at..at + n], at as u64, &mut |_| {})?;
        at += used;
        if used < n {
            break;
        }
    }
    let ext = l.finish()?;
    let slot = reg.insert(ext)?;
    Ok(image(&reg, slot))
}

fn streamed(bytes: &[u8]) -> Vec<(MemKind, u64, Vec<u8>)> {
    let mut reg = registry();
    let slot = futures::executor::block_on(reg.load(
        "s",
        &mut StreamSource::new(bytes),
        &LoadParams::default(),
        &mut |_| {},
    ))
    .unwrap();
    image(&reg, slot)
}

#[test]
fn feeding_in_any_chunking_gives_the_same_image() {
    let dir = scratch("machine");
    for flags in FLAG_SETS {
        let packed = pack(&cc(&dir, "sample", SAMPLE, flags), &PackOptions::default()).unwrap();
        let want = streamed(&packed);
        assert_eq!(
            fed(&packed, || 1).unwrap(),
            want,
            "{flags:?}: one byte at a time"
        );
        assert_eq!(
            fed(&packed, || 1 << 20).unwrap(),
            want,
            "{flags:?}: all at once"
        );
        for seed in 1..=20u64 {
            let mut x = seed;
            let split = move || {
                // xorshift: reproducible sizes from 1 to 300 bytes.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 300) as usize + 1
            };
            assert_eq!(fed(&packed, split).unwrap(), want, "{flags:?}: seed {seed}");
        }
    }
}

#[test]
fn a_cut_feed_cannot_finish_and_gives_every_byte_back() {
    let dir = scratch("machine_cut");
    let packed = pack(
        &cc(&dir, "sample", SAMPLE, &["-O2"]),
        &PackOptions::default(),
    )
    .unwrap();
    let mut reg = registry();
    let mut l = reg
        .loader::<Streamed>("cut", &LoadParams::default())
        .unwrap();
    l.feed(&packed[..packed.len() / 2], 0, &mut |_| {}).unwrap();
    assert!(matches!(l.need(), Need::Bytes { .. }));
    assert!(matches!(l.finish(), Err(Error::UnexpectedEof { .. })));
}

#[test]
fn the_blocking_driver_loads_any_file_order() {
    let dir = scratch("machine_blocking");
    for flags in FLAG_SETS {
        let obj = cc(&dir, "sample", SAMPLE, flags);
        let packed = pack(&obj, &PackOptions::default()).unwrap();
        let want = streamed(&packed);
        // The object as the compiler wrote it (section headers last): names read where they are.
        let mut reg = registry();
        let mut reads = 0;
        let mut read_at = |offset: u64, buf: &mut [u8]| {
            reads += 1;
            let at = offset as usize;
            buf.copy_from_slice(&obj[at..at + buf.len()]);
            Ok(())
        };
        let slot = reg
            .load_blocking("b", &mut read_at, &LoadParams::default(), &mut |_| {})
            .unwrap();
        assert!(reads > 0);
        let got = image(&reg, slot);
        let same_layout: Vec<_> = got.iter().map(|(k, a, b)| (*k, *a, b.len())).collect();
        let want_layout: Vec<_> = want.iter().map(|(k, a, b)| (*k, *a, b.len())).collect();
        // Packing may drop unused undefined symbols (x86-64 GOT slots): compare what is laid out
        // from the file's sections.
        let no_tramp = |v: Vec<(MemKind, u64, usize)>| -> Vec<_> {
            v.into_iter()
                .filter(|r| r.0 != MemKind::Trampoline)
                .collect()
        };
        assert_eq!(no_tramp(same_layout), no_tramp(want_layout), "{flags:?}");
        // And the packed file through the same driver is byte for byte the streamed load.
        let mut reg = registry();
        let slot = reg
            .load_blocking(
                "p",
                &mut |offset, buf| {
                    buf.copy_from_slice(&packed[offset as usize..offset as usize + buf.len()]);
                    Ok(())
                },
                &LoadParams::default(),
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(image(&reg, slot), want, "{flags:?}");
    }
}

#[test]
fn the_state_the_caller_keeps_is_small() {
    type L<'a> = llext_loader::load::Loader<
        'a,
        llext_loader::memory::PoolProvider,
        llext_loader::symbols::ExportTable,
        Streamed,
    >;
    // On x86-64 (8-byte pointers and u64 fields); thumbv7m is checked at build time by
    // examples/size-probe (at most 1 KiB).
    let size = size_of::<L<'static>>();
    println!("Loader state on x86-64: {size} bytes");
    assert!(size <= 2048, "{size}");
}
