//! Loading installed images outside boot: on demand with the CRC checked in the same pass,
//! through the seekable slot reader, and an image not in stream order at boot.

mod common;

use common::*;
use futures::executor::block_on;
use llext_loader::LoadParams;
use llext_loader::source::SeekSource;
use llext_storage::{Failure, InstallOptions, State};

#[test]
fn an_installed_extension_loads_on_demand_before_any_boot() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &v1, InstallOptions::default(), 512).unwrap();
    let mut reg = registry();
    let slot = block_on(st.load("e", &mut reg, &LoadParams::default(), &mut |_| {}))
        .unwrap()
        .expect("loads");
    assert_eq!(reg.find("e"), Some(slot));
    assert_eq!(call(&reg, "e", "version", 1), 1);
    unload_all(&mut reg);
    // Loading does not confirm; the application decides.
    assert_eq!(st.entry("e").unwrap().active.state, State::Pending);
    block_on(st.confirm("e")).unwrap();

    // The seekable reader gives the same image to any loader path.
    let mut src = SeekSource::new(st.reader("e").unwrap());
    block_on(reg.load("e", &mut src, &LoadParams::default(), &mut |_| {})).unwrap();
    assert_eq!(call(&reg, "e", "version", 1), 1);
    unload_all(&mut reg);
}

#[test]
fn on_demand_loading_reports_corruption() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &v1, InstallOptions::default(), 512).unwrap();
    let r = st.image_range("e").unwrap();
    let last = r.end as usize - 1;
    reset(st);
    flash.bytes_mut()[last] ^= 0x80;
    let mut st = open(&mut flash, LAYOUT);
    let mut reg = registry();
    let got = block_on(st.load("e", &mut reg, &LoadParams::default(), &mut |_| {})).unwrap();
    assert!(matches!(got, Err(Failure::Corrupt { .. })), "{got:?}");
    assert!(
        reg.iter().next().is_none(),
        "a corrupt image is unloaded again"
    );
}

#[test]
fn an_image_not_in_stream_order_still_boots_from_flash() {
    let raw = build_raw(
        "raw",
        "const unsigned char blob[2500] = { 7 };\nint version(void) { return 7 + blob[1]; }\n",
    );
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "e", &raw, boot_opts(), 512).unwrap();
    let (got, evs) = boot_version(&mut st);
    assert_eq!(got, Some(7), "{evs:?}");
}
