//! Bit flips in a slot are caught by the CRC at boot: the previous good version is used, and
//! the report says which version was corrupt and what the CRCs were.

mod common;

use common::*;
use llext_storage::flash::FileFlash;
use llext_storage::{Layout, State};

/// Flips one bit in each of `n` places spread over the image in `slot`.
fn flip_bits(bytes: &mut [u8], layout: &Layout, slot: u16, len: u32, n: u32) {
    let start = layout.slot(slot).start as usize;
    for k in 0..n {
        let at = start + (len as usize * (2 * k as usize + 1)) / (2 * n as usize);
        bytes[at] ^= 1 << (k % 8);
    }
}

fn corrupt_event(evs: &[Ev], version: u32) -> bool {
    evs.iter().any(|e| {
        matches!(e, Ev::Failed(n, v, why)
            if n == "e" && *v == version && why.starts_with("corrupt in flash: CRC"))
    })
}

#[test]
fn a_corrupt_update_on_trial_is_caught_and_the_previous_version_boots() {
    let [v1, v2] = [1, 2].map(versioned);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &v1, boot_opts(), 512).unwrap();
    assert_eq!(boot_version(&mut st).0, Some(1));
    let new = install(&mut st, "e", &v2, boot_opts(), 512).unwrap().entry;
    reset(st);

    flip_bits(
        flash.bytes_mut(),
        &LAYOUT,
        new.active.slot,
        new.active.len,
        3,
    );
    let mut st = open(&mut flash, LAYOUT);
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(1), "{evs:?}");
    assert!(corrupt_event(&evs, 2), "{evs:?}");
    assert!(evs.contains(&Ev::RolledBack("e".into(), 2, 1)), "{evs:?}");
    assert!(evs.contains(&Ev::Loaded("e".into(), 1, false)), "{evs:?}");
    let e = *st.entry("e").unwrap();
    assert_eq!(
        (e.active.version, e.active.state, e.previous),
        (1, State::Confirmed, None)
    );
    // The damaged slot is free again; the next install goes through.
    install(&mut st, "e", &v2, boot_opts(), 512).unwrap();
    assert_eq!(boot_version(&mut st).0, Some(2));
}

#[test]
fn a_corrupt_confirmed_version_falls_back_to_the_version_kept_before_it() {
    let [v1, v2] = [1, 2].map(versioned);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &v1, boot_opts(), 512).unwrap();
    assert_eq!(boot_version(&mut st).0, Some(1));
    install(&mut st, "e", &v2, boot_opts(), 512).unwrap();
    assert_eq!(boot_version(&mut st).0, Some(2));
    let e = *st.entry("e").unwrap();
    assert_eq!(e.active.state, State::Confirmed);
    assert_eq!(e.previous.map(|p| p.version), Some(1), "fallback kept");
    reset(st);

    flip_bits(flash.bytes_mut(), &LAYOUT, e.active.slot, e.active.len, 1);
    let mut st = open(&mut flash, LAYOUT);
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(1), "{evs:?}");
    assert!(corrupt_event(&evs, 2), "{evs:?}");
}

#[test]
fn a_corrupt_version_without_a_previous_one_is_reported_and_not_loaded() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    let e = install(&mut st, "e", &v1, boot_opts(), 512).unwrap().entry;
    assert_eq!(boot_version(&mut st).0, Some(1));
    reset(st);

    // A flip in the ELF header makes the load itself fail: still reported as corruption.
    let start = LAYOUT.slot(e.active.slot).start as usize;
    flash.bytes_mut()[start + 4] ^= 0x40;
    let mut st = open(&mut flash, LAYOUT);
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, None);
    assert!(corrupt_event(&evs, 1), "{evs:?}");
    let (crc, ok) = futures::executor::block_on(st.verify("e")).unwrap();
    assert!(!ok && crc != e.active.crc);
    // It stays installed (confirmed versions are not marked failed) so it can be reinstalled.
    assert_eq!(st.entry("e").unwrap().active.state, State::Confirmed);
    install(&mut st, "e", &v1, boot_opts(), 512).unwrap();
    assert_eq!(boot_version(&mut st).0, Some(1));
}

#[test]
fn bit_flips_written_into_the_flash_file_are_caught_after_a_restart() {
    let [v1, v2] = [1, 2].map(versioned);
    let dir = scratch("file");
    let path = dir.join("flash.bin");
    let layout = FileFlash::DEFAULT_LAYOUT;
    let slot = {
        let mut flash = FileFlash::open(&path).unwrap();
        let mut st = open(&mut flash, layout.clone());
        install(&mut st, "e", &v1, boot_opts(), 1000).unwrap();
        assert_eq!(boot_version(&mut st).0, Some(1));
        install(&mut st, "e", &v2, boot_opts(), 1000)
            .unwrap()
            .entry
            .active
    };
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 << 20);

    // Damage the file as another process would, between two runs.
    let mut bytes = std::fs::read(&path).unwrap();
    flip_bits(&mut bytes, &layout, slot.slot, slot.len, 5);
    std::fs::write(&path, &bytes).unwrap();

    let mut flash = FileFlash::open(&path).unwrap();
    let mut st = open(&mut flash, layout);
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(1), "{evs:?}");
    assert!(corrupt_event(&evs, 2), "{evs:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
