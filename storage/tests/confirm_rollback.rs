//! Confirm and roll back: a version on trial is confirmed when it comes up at boot and rolled
//! back when it fails to load, fails its bringup or crashes the boot; explicit confirm,
//! rollback and remove; the catalog survives many updates.

mod common;

use common::*;
use futures::executor::block_on;
use llext_loader::memory::{Block, HostProvider, MemKind, MemoryProvider};
use llext_loader::{LoadParams, Registry};
use llext_storage::{Error, InstallOptions, State};
use test_support::elf::{Field, set_section_field};

/// Version 2 of "e", calling a function nothing exports.
fn broken() -> Vec<u8> {
    build(
        "broken",
        "int nope(void);\nint version(void) { return nope() + 2; }\n",
    )
}

fn confirmed_v1(flash: &mut Flash) {
    let mut st = open(flash, LAYOUT);
    install(&mut st, "e", &versioned(1), boot_opts(), 512).unwrap();
    assert_eq!(boot_version(&mut st).0, Some(1));
}

#[test]
fn an_update_that_fails_to_load_at_boot_is_rolled_back() {
    let mut flash = Flash::new(PAGES);
    confirmed_v1(&mut flash);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &broken(), boot_opts(), 512).unwrap();
    assert_eq!(st.entry("e").unwrap().active.state, State::Pending);
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(1));
    assert_eq!(evs[0], Ev::Missing("e".into(), "nope".into()));
    assert!(
        matches!(&evs[1], Ev::Failed(n, 2, why) if n == "e" && why.contains("nope")),
        "{evs:?}"
    );
    assert_eq!(
        evs[2..],
        [
            Ev::RolledBack("e".into(), 2, 1),
            Ev::Loaded("e".into(), 1, false)
        ]
    );
    let e = st.entry("e").unwrap();
    assert_eq!(
        (e.active.version, e.active.state, e.previous),
        (1, State::Confirmed, None)
    );
    assert_eq!(
        st.free_slots(),
        LAYOUT.slot_count - 1,
        "the failed version's slot is free"
    );
}

#[test]
fn an_update_whose_bringup_fails_is_rolled_back() {
    let mut flash = Flash::new(PAGES);
    confirmed_v1(&mut flash);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &versioned(2), boot_opts(), 512).unwrap();
    let mut calls = 0;
    let (mut reg, evs, summary) = boot_with(&mut st, &mut |_| {
        calls += 1;
        calls > 1
    })
    .unwrap();
    assert_eq!(
        evs,
        [
            Ev::Failed("e".into(), 2, "bringup failed".into()),
            Ev::RolledBack("e".into(), 2, 1),
            Ev::Loaded("e".into(), 1, false),
        ]
    );
    assert_eq!(summary.rolled_back, 1);
    assert_eq!(call(&reg, "e", "version", 1), 1);
    unload_all(&mut reg);
}

/// Installs version 2 over a confirmed version 1, boots it with `boot` (which must die), then
/// checks that the next boot finds the trial unfinished and rolls back to version 1.
fn dies_during_trial_then_rolls_back(boot: impl FnOnce(&mut Store<'_, Flash>)) {
    let mut flash = Flash::new(PAGES);
    confirmed_v1(&mut flash);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &versioned(2), boot_opts(), 512).unwrap();
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| boot(&mut st)));
    assert!(died.is_err());
    reset(st);
    let mut st = open(&mut flash, LAYOUT);
    assert_eq!(st.entry("e").unwrap().active.state, State::Trying);
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(1));
    assert_eq!(
        evs[..2],
        [
            Ev::Failed(
                "e".into(),
                2,
                "its trial at the previous boot never finished (crash or reset)".into()
            ),
            Ev::RolledBack("e".into(), 2, 1),
        ]
    );
}

#[test]
fn a_boot_that_crashes_during_a_trial_rolls_back_at_the_next_boot() {
    // The bringup of version 2 never returns (the device crashes and resets).
    dies_during_trial_then_rolls_back(|st| {
        let _ = boot_with(st, &mut |_| panic!("hard fault in a constructor"));
    });
}

#[test]
fn explicit_confirm_rollback_and_remove() {
    let [v1, v2] = [1, 2].map(versioned);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    let manual = InstallOptions::default();
    install(&mut st, "e", &v1, manual, 512).unwrap();
    let e = *block_on(st.confirm("e")).unwrap();
    assert_eq!((e.active.version, e.active.state), (1, State::Confirmed));
    install(&mut st, "e", &v2, manual, 512).unwrap();
    let listed: Vec<_> = st
        .list()
        .map(|e| {
            (
                e.name.to_string(),
                e.active.version,
                e.active.state,
                e.previous.map(|p| p.version),
            )
        })
        .collect();
    assert_eq!(listed, [("e".to_string(), 2, State::Pending, Some(1))]);
    assert_eq!(st.free_slots(), LAYOUT.slot_count - 2);

    let e = *block_on(st.rollback("e")).unwrap();
    assert_eq!(
        (e.active.version, e.active.state, e.previous),
        (1, State::Confirmed, None)
    );
    assert_eq!(st.free_slots(), LAYOUT.slot_count - 1);
    assert!(matches!(block_on(st.rollback("e")), Err(Error::NoPrevious)));
    reset(st);

    // All of it is in flash.
    let mut st = open(&mut flash, LAYOUT);
    assert_eq!(st.entry("e").unwrap().active.version, 1);
    block_on(st.set_boot("e", true)).unwrap();
    let (got, evs) = boot_version(&mut st);
    assert_eq!(
        (got, evs),
        (Some(1), vec![Ev::Loaded("e".into(), 1, false)])
    );
    block_on(st.remove("e")).unwrap();
    assert!(matches!(block_on(st.remove("e")), Err(Error::NotInstalled)));
    assert!(matches!(
        block_on(st.confirm("e")),
        Err(Error::NotInstalled)
    ));
    reset(st);
    let st = open(&mut flash, LAYOUT);
    assert_eq!(st.list().count(), 0);
    assert_eq!(st.free_slots(), LAYOUT.slot_count);
}

#[test]
fn the_catalog_survives_many_updates_and_spreads_slot_wear() {
    let images = [1, 2, 3].map(versioned);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    for round in 0..60 {
        let v = round % 3;
        install(&mut st, "e", &images[v], boot_opts(), 512).unwrap();
        let (got, _) = boot_version(&mut st);
        assert_eq!(got, Some(v as i32 + 1));
    }
    reset(st);
    let counts = flash.erase_counts();
    let slot_pages = LAYOUT.slot_size as usize / 512;
    let per_slot: Vec<u32> = (0..LAYOUT.slot_count as usize)
        .map(|s| counts[8 + s * slot_pages])
        .collect();
    let (min, max) = (
        per_slot.iter().min().unwrap(),
        per_slot.iter().max().unwrap(),
    );
    assert!(max - min <= 2 + max / 4, "slot wear uneven: {per_slot:?}");
}

#[test]
fn names_deps_and_sizes_are_checked() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    let n = v1.len() as u32;
    let c = crc(&v1);
    let mut ins = st.installer();
    let o = InstallOptions::default();
    assert!(matches!(
        block_on(ins.begin("", n, c, o)),
        Err(Error::BadName)
    ));
    assert!(matches!(
        block_on(ins.begin(&"x".repeat(33), n, c, o)),
        Err(Error::BadName)
    ));
    assert!(matches!(
        block_on(ins.begin("e", 4097, c, o)),
        Err(Error::TooLarge {
            len: 4097,
            slot_size: 4096
        })
    ));
    let deps = InstallOptions {
        deps: &["a", "b", "c", "d", "e"],
        ..o
    };
    assert!(matches!(
        block_on(ins.begin("e", n, c, deps)),
        Err(Error::TooManyDependencies)
    ));
    // A wrong CRC is caught at finish and the slot is given back.
    block_on(ins.begin("e", n, c ^ 1, o)).unwrap();
    block_on(ins.write(0, &v1)).unwrap();
    assert!(matches!(
        block_on(ins.finish()),
        Err(Error::CrcMismatch { .. })
    ));
    assert_eq!(st.free_slots(), LAYOUT.slot_count);
    assert!(st.interrupted().is_none());
    // Four extensions fit this catalog; a fifth does not.
    for name in ["a", "b", "c", "d"] {
        install(&mut st, name, &v1, o, 4096).ok();
    }
    assert!(matches!(
        install(&mut st, "z", &v1, o, 4096),
        Err(Error::CatalogFull | Error::NoFreeSlot)
    ));
}

/// A provider that dies (panics, as a hard fault resets a board) on its first block of code.
struct DiesOnText(HostProvider);

// SAFETY: forwards to the host provider, which upholds the contract; only adds a panic.
unsafe impl MemoryProvider for DiesOnText {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        assert!(kind != MemKind::Text, "the device died while loading");
        self.0.alloc(kind, size, align)
    }
    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        // SAFETY: the caller's guarantee is passed on unchanged.
        unsafe { self.0.free(kind, block) }
    }
}

#[test]
fn a_boot_that_dies_while_loading_a_trial_rolls_back_at_the_next_boot() {
    dies_during_trial_then_rolls_back(|st| {
        let provider = DiesOnText(HostProvider::new());
        let mut reg: Registry<_, _, 4> = Registry::new(provider, firmware());
        let params = LoadParams::default();
        let _ = block_on(st.boot(&mut reg, &params, &mut |_| true, &mut |_| {}));
    });
}

#[test]
fn an_image_whose_section_points_past_four_gib_fails_and_the_previous_version_boots() {
    let mut flash = Flash::new(PAGES);
    confirmed_v1(&mut flash);
    let mut st = open(&mut flash, LAYOUT);
    // Unpacked (the compiler's order, loaded seekably), `.text` at 0xFFFFFF00 in the file.
    let mut bad = build_raw("far_text", "int version(void) { return 2; }\n");
    set_section_field(&mut bad, ".text", Field::Offset, 0xFFFF_FF00);
    install(&mut st, "e", &bad, boot_opts(), 512).unwrap();
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(1), "{evs:?}");
    assert!(
        matches!(&evs[0], Ev::Failed(n, 2, why) if n == "e" && why.starts_with("load failed")),
        "{evs:?}"
    );
    assert_eq!(evs[1], Ev::RolledBack("e".into(), 2, 1));
    let e = st.entry("e").unwrap();
    assert_eq!((e.active.version, e.active.state), (1, State::Confirmed));
}
