//! An interrupted install resumes: after a reset from the last whole page flash recorded, after
//! a lost link from the exact byte; a damaged prefix or a different image starts over.

mod common;

use common::*;
use futures::executor::block_on;
use llext_storage::{Error, Storage};

/// Begins `bytes` as "e" and writes `upto` bytes of it in 100-byte chunks.
fn partial<F: embedded_storage_async::nor_flash::NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    bytes: &[u8],
    upto: usize,
) -> u32 {
    block_on(async {
        let mut ins = st.installer();
        let mut off = ins
            .begin("e", bytes.len() as u32, crc(bytes), boot_opts())
            .await
            .unwrap() as usize;
        while off < upto {
            let end = (off + 100).min(upto);
            off = ins.write(off as u32, &bytes[off..end]).await.unwrap() as usize;
        }
        off as u32
    })
}

#[test]
fn an_install_cut_by_a_reset_resumes_from_the_last_page_flash_recorded() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    assert_eq!(partial(&mut st, &v1, 1800), 1800);
    reset(st); // reset: RAM is gone, flash stays

    flash.reset_stats();
    let mut st = open(&mut flash, LAYOUT);
    let cut = st.interrupted().expect("flash records the install");
    assert_eq!(cut.name.as_str(), "e");
    assert_eq!((cut.len, cut.crc), (v1.len() as u32, crc(&v1)));
    // 1800 bytes arrived; three whole 512-byte pages were recorded.
    assert_eq!(cut.offset, 1536);
    let from = block_on(
        st.installer()
            .begin("e", v1.len() as u32, crc(&v1), boot_opts()),
    )
    .unwrap();
    assert_eq!(from, 1536);
    let mut off = from as usize;
    block_on(async {
        let mut ins = st.installer();
        while off < v1.len() {
            let end = (off + 100).min(v1.len());
            off = ins.write(off as u32, &v1[off..end]).await.unwrap() as usize;
        }
        ins.finish().await.unwrap();
    });
    // Only the pages not yet written were erased again.
    let pages = v1.len().div_ceil(512) as u64;
    assert_eq!(st.flash().stats().pages_erased, pages - 3);
    assert_eq!(boot_version(&mut st).0, Some(1));
}

#[test]
fn an_install_cut_by_a_lost_link_resumes_from_the_exact_byte() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    assert_eq!(partial(&mut st, &v1, 777), 777);
    // Same run, the host reconnects and begins again.
    assert_eq!(st.interrupted().unwrap().offset, 777);
    let v = install(&mut st, "e", &v1, boot_opts(), 333).unwrap();
    assert!(!v.unchanged);
    assert_eq!(boot_version(&mut st).0, Some(1));
}

#[test]
fn resent_and_out_of_order_chunks_are_handled() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    block_on(async {
        let mut ins = st.installer();
        assert!(matches!(
            ins.write(0, &v1[..10]).await,
            Err(Error::NoInstall)
        ));
        ins.begin("e", v1.len() as u32, crc(&v1), boot_opts())
            .await
            .unwrap();
        assert_eq!(ins.write(0, &v1[..300]).await.unwrap(), 300);
        // A resend overlapping what arrived only adds the new part.
        assert_eq!(ins.write(200, &v1[200..400]).await.unwrap(), 400);
        assert_eq!(ins.write(100, &v1[100..200]).await.unwrap(), 400);
        assert!(matches!(
            ins.write(500, &v1[500..600]).await,
            Err(Error::OutOfOrder { expected: 400 })
        ));
        assert!(matches!(
            ins.finish().await,
            Err(Error::Incomplete { received: 400, .. })
        ));
        let n = v1.len() as u32;
        assert_eq!(ins.write(400, &v1[400..]).await.unwrap(), n);
        assert!(matches!(
            ins.write(n, &[0]).await,
            Err(Error::PastEnd { .. })
        ));
        ins.finish().await.unwrap();
    });
    assert_eq!(boot_version(&mut st).0, Some(1));
}

#[test]
fn a_damaged_prefix_or_a_different_image_starts_over() {
    let [v1, v2] = [1, 2].map(versioned);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    partial(&mut st, &v1, 1100);
    let slot_start = {
        reset(st);
        let st = open(&mut flash, LAYOUT);
        assert_eq!(st.interrupted().unwrap().offset, 1024);
        // Which slot: the only one not free.
        let s = (0..LAYOUT.slot_count)
            .find(|&s| !st.slot_is_free(s))
            .unwrap();
        LAYOUT.slot(s).start as usize
    };
    flash.bytes_mut()[slot_start + 10] ^= 0x10;
    let mut st = open(&mut flash, LAYOUT);
    let from = block_on(
        st.installer()
            .begin("e", v1.len() as u32, crc(&v1), boot_opts()),
    )
    .unwrap();
    assert_eq!(
        from, 0,
        "a prefix that no longer matches its CRC is not trusted"
    );

    // Beginning a different image abandons the interrupted one and frees its slot.
    partial(&mut st, &v1, 1100);
    reset(st);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &v2, boot_opts(), 400).unwrap();
    assert!(st.interrupted().is_none());
    assert_eq!(st.free_slots(), LAYOUT.slot_count - 1);
    assert_eq!(boot_version(&mut st).0, Some(2));
}

#[test]
fn beginning_the_installed_image_again_has_nothing_to_send() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &v1, boot_opts(), 512).unwrap();
    flash_ops_unchanged(&mut st, &v1);
}

fn flash_ops_unchanged<F: embedded_storage_async::nor_flash::NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    v1: &[u8],
) {
    let n = v1.len() as u32;
    let from = block_on(st.installer().begin("e", n, crc(v1), boot_opts())).unwrap();
    assert_eq!(from, n);
    let done = block_on(st.installer().finish()).unwrap();
    assert!(done.unchanged);
    assert_eq!(done.entry.active.version, 1);
}
