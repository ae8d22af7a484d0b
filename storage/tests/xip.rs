//! Execute-in-place installs on the RAM flash double (whose bytes are executable, as a
//! memory-mapped flash): linked once into a slot, loaded at boot without relocation, code run
//! from flash, data and bss in the reserved RAM; bound to the firmware's exports; interchangeable
//! with normal installs; a power cut at every flash operation loses nothing.

mod common;

use common::*;
use futures::executor::block_on;
use llext_loader::memory::{Counting, HostProvider, MemKind, MemoryProvider};
use llext_loader::symbols::ExportList;
use llext_loader::{LoadParams, Registry};
use llext_storage::flash::{PowerCut, Tear};
use llext_storage::{Error, Installed, Layout, State, Storage, XipConfig};

const TABLE: u32 = 0x5eed_0001;

/// The RAM area a firmware reserves for installed extensions: an anonymous mapping, near the
/// flash double's (x86-64 code reaches its data PC-relative, within 2 GiB).
fn reserved_ram(len: usize) -> std::ops::Range<u64> {
    // SAFETY: a fresh private anonymous mapping, checked, never unmapped (tests are short).
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    p as u64..p as u64 + len as u64
}

fn config(flash: &Flash, ram: &std::ops::Range<u64>, table_id: u32) -> XipConfig {
    XipConfig {
        mapped: flash.bytes().as_ptr() as u64,
        ram: ram.clone(),
        table_id,
        verify_code_at_boot: true,
    }
}

fn open_xip<'f>(flash: &'f mut Flash, ram: &std::ops::Range<u64>, table: u32) -> Store<'f, Flash> {
    let cfg = config(flash, ram, table);
    let mut st = open(flash, LAYOUT);
    st.set_xip(cfg);
    st
}

/// Installs `bytes` as `name` in place (begin, write..., finish_xip).
fn install_xip<F: embedded_storage_async::nor_flash::NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    name: &str,
    bytes: &[u8],
    chunk: usize,
) -> Result<Installed, Error<F::Error>> {
    install_xip_with(st, &mut registry(), name, bytes, chunk)
}

/// [`install_xip`] linking with `reg`'s memory.
fn install_xip_with<F, P, const N: usize, const M: usize>(
    st: &mut Storage<F, N>,
    reg: &mut Registry<P, ExportList, M>,
    name: &str,
    bytes: &[u8],
    chunk: usize,
) -> Result<Installed, Error<F::Error>>
where
    F: embedded_storage_async::nor_flash::NorFlash,
    P: MemoryProvider,
{
    block_on(async {
        let mut ins = st.installer();
        let mut off = ins
            .begin(name, bytes.len() as u32, crc(bytes), xip_opts())
            .await? as usize;
        while off < bytes.len() {
            let end = (off + chunk).min(bytes.len());
            off = ins.write(off as u32, &bytes[off..end]).await? as usize;
        }
        ins.finish_xip(reg, &LoadParams::default(), &mut |_| {})
            .await
    })
}

/// Options of an install to be linked in place, loaded at boot.
fn xip_opts() -> llext_storage::InstallOptions<'static> {
    llext_storage::InstallOptions {
        xip: true,
        ..boot_opts()
    }
}

/// The same file installed in place again (a host that did not hear the answer, or a power cut
/// after the switch) is already installed: nothing to send, no new version, no slot taken, the
/// previous version kept.
#[test]
fn the_same_file_installed_in_place_again_is_already_installed() {
    let [v1, v2] = [1, 2].map(versioned);
    let mut flash = Flash::new(PAGES);
    let ram = reserved_ram(16 << 10);
    let mut st = open_xip(&mut flash, &ram, TABLE);
    install(&mut st, "e", &v1, boot_opts(), 512).unwrap();
    let first = install_xip(&mut st, "e", &v2, 512).expect("in place");
    assert!(!first.unchanged);
    let free = st.free_slots();
    let begin = block_on(
        st.installer()
            .begin("e", v2.len() as u32, crc(&v2), xip_opts()),
    );
    assert_eq!(begin.unwrap(), v2.len() as u32, "nothing to send");
    let again = install_xip(&mut st, "e", &v2, 512).expect("again");
    assert!(again.unchanged);
    assert_eq!(again.entry.active, first.entry.active);
    assert_eq!(
        again.entry.previous, first.entry.previous,
        "v1 still there to roll back to"
    );
    assert_eq!(st.free_slots(), free);
    // Installed normally, the same file is another form: a new version.
    let normal = install(&mut st, "e", &v2, boot_opts(), 512).unwrap();
    assert!(!normal.unchanged && normal.entry.active.xip.is_none());
}

/// Data and string relocations, a constructor, a jump table, a large bss.
const RICH: &str = r#"
static int counter = 5;
static int big[3000];
static const char *const names[] = {"zero", "one", "two", "three"};
int ctor_ran;
__attribute__((constructor)) static void init(void) { ctor_ran = 42; big[2999] = 7; }
__attribute__((noinline)) int pick(int x) {
    switch (x) {
    case 0: return 11; case 1: return 22; case 2: return 33; case 3: return 44;
    case 4: return 55; case 5: return 66; case 6: return 77; default: return -1;
    }
}
int bump(void) { return ++counter; }
int version(void) { return ctor_ran + counter + big[2999] + names[2][1] + pick(3); }
"#;

#[test]
fn installed_in_place_runs_from_flash_with_only_data_and_bss_in_ram() {
    let rich = build("rich", RICH);
    let mut flash = Flash::new(PAGES);
    let ram = reserved_ram(64 << 10);
    let mapped = flash.bytes().as_ptr() as u64;
    let mut st = open_xip(&mut flash, &ram, TABLE);
    let done = install_xip(&mut st, "e", &rich, 300).expect("xip install");
    let x = done.entry.active.xip.expect("an execute-in-place image");
    assert_eq!(done.entry.active.state, State::Pending);
    assert!(x.ram >= ram.start && x.ram + u64::from(x.ram_len) <= ram.end);
    assert_eq!((x.file_len, x.file_crc), (rich.len() as u32, crc(&rich)));
    assert_eq!(
        st.free_slots(),
        LAYOUT.slot_count - 1,
        "the staging slot is free again"
    );
    reset(st);

    let mut st = open_xip(&mut flash, &ram, TABLE);
    let (mut reg, evs, _) = boot(&mut st).expect("boot");
    assert_eq!(evs, [Ev::Loaded("e".into(), 1, true)]);
    // 42 (constructor) + 5 (.data) + 7 (.bss) + 'w' (string via a pointer table) + 44.
    assert_eq!(
        call(&reg, "e", "version", 0),
        42 + 5 + 7 + i32::from(b'w') + 44
    );
    assert_eq!(call(&reg, "e", "bump", 0), 6, ".data is writable RAM");
    let ext = reg.get(reg.find("e").unwrap()).unwrap();
    assert!(ext.in_place());
    let slot = st.layout().slot(st.entry("e").unwrap().active.slot);
    let in_slot = mapped + u64::from(slot.start)..mapped + u64::from(slot.end);
    for r in ext.regions() {
        let home = match r.kind {
            MemKind::Data | MemKind::Bss => &ram,
            _ => &in_slot,
        };
        assert!(
            home.contains(&r.addr) && r.addr + r.size as u64 <= home.end,
            "{r:?} outside {home:x?}"
        );
    }
    let bss = ext.regions().find(|r| r.kind == MemKind::Bss).unwrap();
    assert!(bss.size >= 3000 * 4);
    assert_eq!(ext.stats().kept_metadata, 0, "no RAM for the export index");
    unload_all(&mut reg);
}

/// A bit flip in the image's code is caught at boot when the code is checked (and the previous
/// version runs); without that check what a load reads still is: a flip in `.data`'s initial
/// values or the header is caught either way.
#[test]
fn damage_in_flash_is_caught_at_boot_as_the_policy_says() {
    let [v1, v2] = [1, 2].map(versioned);
    let ram = reserved_ram(16 << 10);
    for (code_checked, damage_data) in [(true, false), (false, false), (false, true)] {
        let mut flash = Flash::new(PAGES);
        let mut cfg = config(&flash, &ram, TABLE);
        cfg.verify_code_at_boot = code_checked;
        let mut st = open(&mut flash, LAYOUT);
        st.set_xip(cfg.clone());
        install(&mut st, "e", &v1, boot_opts(), 512).unwrap();
        assert_eq!(boot_version(&mut st).0, Some(1));
        install_xip(&mut st, "e", &v2, 512).unwrap();
        let img = st.entry("e").unwrap().active;
        let x = img.xip.unwrap();
        let base = st.layout().slot(img.slot).start as usize;
        let at = if damage_data {
            base + img.len as usize - 1 // the export index, read by every load
        } else {
            base + llext_loader::xip::HEADER + 4 // the first instructions
        };
        reset(st);
        flash.bytes_mut()[at] ^= 0x10;
        let mut st = open(&mut flash, LAYOUT);
        st.set_xip(cfg);
        // Damaged code is never called here: it could do anything.
        let (mut reg, evs, _) = boot(&mut st).expect("boot");
        if code_checked || damage_data {
            assert!(
                matches!(&evs[0], Ev::Failed(_, 2, why) if why.contains("corrupt")),
                "{evs:?}"
            );
            assert_eq!(
                call(&reg, "e", "version", 1),
                1,
                "the previous version runs"
            );
        } else {
            assert_eq!(evs[0], Ev::Loaded("e".into(), 2, true), "code not checked");
        }
        unload_all(&mut reg);
        assert!(x.boot_crc != 0 && x.boot_crc != img.crc);
    }
}

#[test]
fn a_firmware_with_other_exports_refuses_it_and_says_to_install_again() {
    let v1 = versioned(1);
    let mut flash = Flash::new(PAGES);
    let ram = reserved_ram(16 << 10);
    let mut st = open_xip(&mut flash, &ram, TABLE);
    install_xip(&mut st, "e", &v1, 512).unwrap();
    reset(st);
    let mut st = open_xip(&mut flash, &ram, TABLE ^ 1);
    let (reg, evs, _) = boot(&mut st).expect("boot");
    assert!(reg.find("e").is_none());
    let Ev::Failed(_, 1, why) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert!(why.contains("install it again"), "{why}");
}

#[test]
fn in_place_and_normal_installs_are_interchangeable_versions() {
    let [v1, v2, v3] = [1, 2, 3].map(versioned);
    let mut flash = Flash::new(PAGES);
    let ram = reserved_ram(16 << 10);
    // Each step on a freshly started device (a slot that in-place code ran from is not
    // programmed again until the next start).
    let mut step = |f: &mut dyn FnMut(&mut Store<'_, Flash>)| {
        let mut st = open_xip(&mut flash, &ram, TABLE);
        f(&mut st);
        let v = boot_version(&mut st).0;
        check_consistent(&mut st);
        v
    };
    assert_eq!(
        step(&mut |st| {
            let _ = install(st, "e", &v1, boot_opts(), 512).unwrap();
        }),
        Some(1)
    );
    let v = step(&mut |st| {
        install_xip(st, "e", &v2, 512).unwrap();
        let e = *st.entry("e").unwrap();
        assert!(e.active.xip.is_some() && e.previous.unwrap().xip.is_none());
    });
    assert_eq!(v, Some(2));
    // Back to the normal version, then a normal update over the in-place one.
    assert_eq!(
        step(&mut |st| {
            let _ = block_on(st.rollback("e")).unwrap();
        }),
        Some(1)
    );
    assert_eq!(
        step(&mut |st| {
            let _ = install_xip(st, "e", &v2, 512).unwrap();
        }),
        Some(2)
    );
    let v = step(&mut |st| {
        install(st, "e", &v3, boot_opts(), 512).unwrap();
        assert!(st.entry("e").unwrap().previous.unwrap().xip.is_some());
    });
    assert_eq!(v, Some(3));
}

#[test]
fn a_link_that_fails_drops_the_install_and_keeps_the_installed_version() {
    let v1 = versioned(1);
    let bad = build(
        "needs",
        "int nowhere(void);\nint version(void) { return nowhere(); }\n",
    );
    let mut flash = Flash::new(PAGES);
    let ram = reserved_ram(16 << 10);
    let mut st = open_xip(&mut flash, &ram, TABLE);
    install_xip(&mut st, "e", &v1, 512).unwrap();
    let err = install_xip(&mut st, "e", &bad, 512).unwrap_err();
    assert!(err.to_string().contains("linking in place failed"), "{err}");
    assert!(st.interrupted().is_none());
    assert_eq!(boot_version(&mut st).0, Some(1));
    // Too little reserved RAM for its bss: refused the same way.
    let huge = build(
        "huge",
        "int b[100000];\nint version(void) { return ++b[9]; }\n",
    );
    let err = install_xip(&mut st, "e", &huge, 512).unwrap_err();
    assert!(err.to_string().contains("linking in place failed"), "{err}");
    assert_eq!(boot_version(&mut st).0, Some(1));
}

/// A power cut after every flash operation of an in-place install, then of an in-place update
/// (each with the boot after it). The flash stays at one address (restored from a snapshot for
/// each cut), as a device's does.
#[test]
fn a_power_cut_at_every_flash_operation_loses_nothing() {
    let [v1, v2] = [1, 2].map(versioned);
    let ram = reserved_ram(16 << 10);
    let mut flash = Flash::new(PAGES);
    let empty = flash.bytes().to_vec();
    let run = |f: &mut Flash, bytes: &[u8]| {
        let cfg = config(f, &ram, TABLE);
        let Ok(mut st) = block_on(Storage::<_, 4>::open(&mut *f, LAYOUT)) else {
            return;
        };
        st.set_xip(cfg);
        if install_xip(&mut st, "e", bytes, 300).is_ok()
            && let Ok((mut reg, _, _)) = boot(&mut st)
        {
            unload_all(&mut reg);
        }
    };
    let cases = [(None, &v1, None), (Some(&v1), &v2, Some(1))];
    for ((before, bytes, old), tear) in cases
        .into_iter()
        .flat_map(|c| [(c, Tear::None), (c, Tear::Half)])
    {
        flash.bytes_mut().copy_from_slice(&empty);
        if let Some(b) = before {
            let mut st = open_xip(&mut flash, &ram, TABLE);
            install_xip(&mut st, "e", b, 512).unwrap();
            assert_eq!(boot_version(&mut st).0, Some(1));
        }
        let snapshot = flash.bytes().to_vec();
        flash.reset_stats();
        run(&mut flash, bytes);
        let total = flash.stats().ops;
        let new = if old.is_some() { 2 } else { 1 };
        for n in 0..=total {
            flash.bytes_mut().copy_from_slice(&snapshot);
            flash.power_on();
            flash.cut_power(PowerCut { after_ops: n, tear });
            run(&mut flash, bytes);
            assert_eq!(flash.is_off(), n < total, "cut {n} of {total}");
            flash.power_on();
            let mut st = open_xip(&mut flash, &ram, TABLE);
            check_consistent(&mut st);
            let (got, evs) = boot_version(&mut st);
            assert!(got == old || got == Some(new), "cut {n}: {got:?} {evs:?}");
            // Whatever was cut finishes when the host sends it again.
            install_xip(&mut st, "e", bytes, 300).expect("install again");
            assert_eq!(boot_version(&mut st).0, Some(new), "cut {n}");
            check_consistent(&mut st);
        }
        assert!(total > 20, "an install takes {total} operations");
    }
}

/// Slots of 256 KiB for the large extension.
const WIDE: Layout = Layout {
    catalog: 0..4096,
    slots_start: 4096,
    slot_size: 256 << 10,
    slot_count: 3,
};

/// The link in place holds a window of the code, never all of it: a generated extension with
/// over 40 KiB of text and rodata installs in place with less than half of that taken from the
/// memory provider at its peak (the loader's tables and the trampolines, which grow with the
/// symbols; before the page-at-a-time link it also took all of text and rodata), and returns
/// what the same file returns installed normally.
#[test]
fn a_link_in_place_holds_a_window_of_the_code_not_all_of_it() {
    let big = build("large", &test_support::bench::tables_source(200));
    let pages = (4096 + 3 * (256 << 10)) / 512;
    let ram = reserved_ram(64 << 10);

    let mut flash = Flash::new(pages);
    let mut st = open(&mut flash, WIDE);
    install(&mut st, "big", &big, boot_opts(), 4096).expect("normal install");
    let (mut reg, _, _) = boot(&mut st).expect("boot");
    let expected = call(&reg, "big", "run", 0);
    unload_all(&mut reg);
    reset(st);

    let mut flash = Flash::new(pages);
    let cfg = config(&flash, &ram, TABLE);
    let mut st = open(&mut flash, WIDE);
    st.set_xip(cfg.clone());
    let mut counted = Registry::<_, _, 2>::new(Counting::new(HostProvider::new()), firmware());
    install_xip_with(&mut st, &mut counted, "big", &big, 4096).expect("install in place");
    let peak = counted.provider().usage().peak;
    reset(st);
    let mut st = open(&mut flash, WIDE);
    st.set_xip(cfg);
    let (mut reg, evs, _) = boot(&mut st).expect("boot");
    assert_eq!(evs, [Ev::Loaded("big".into(), 1, true)]);
    let ext = reg.get(reg.find("big").unwrap()).unwrap();
    assert!(ext.in_place());
    let code: usize = ext
        .regions()
        .filter(|r| matches!(r.kind, MemKind::Text | MemKind::Rodata))
        .map(|r| r.size)
        .sum();
    assert!(
        code > 40 << 10,
        "{code} B of text and rodata: too small to tell"
    );
    eprintln!("in-place link: {peak} B of scratch at peak for {code} B of text and rodata");
    assert!(
        peak < code / 2,
        "the link took {peak} B of scratch for {code} B of text and rodata"
    );
    assert_eq!(
        call(&reg, "big", "run", 0),
        expected,
        "the same result as from RAM"
    );
    unload_all(&mut reg);
}
