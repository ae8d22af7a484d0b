//! Power cuts after every program or erase of a whole install and a whole update (with the
//! boot that confirms it): after each, the device restarts with a consistent catalog, the old
//! version or the new one loads and runs, and every slot can still be installed into.

mod common;

use common::*;
use llext_storage::State;
use llext_storage::flash::{PowerCut, Tear};

/// After a restart: checks the catalog, boots, and returns the version that ran (if any).
fn restart_and_boot(flash: &mut Flash) -> Option<i32> {
    flash.power_on();
    let mut st = open(flash, LAYOUT);
    check_consistent(&mut st);
    let expect = st.entry("e").map(|e| match (e.active.state, e.previous) {
        // A trial interrupted mid-boot goes back to the previous version.
        (State::Trying, Some(p)) => p.version as i32,
        (State::Trying, None) => -1,
        _ => e.active.version as i32,
    });
    let (got, evs) = boot_version(&mut st);
    match expect {
        None | Some(-1) => assert_eq!(got, None, "{evs:?}"),
        Some(v) => assert_eq!(got, Some(v), "{evs:?}"),
    }
    got
}

/// Later installs still find space: install two more versions (cycling every slot), each
/// booting, and end with no slot held by anything but the catalog's entries.
fn slots_still_usable(flash: &mut Flash, v3: &[u8], v4: &[u8]) {
    let mut st = open(flash, LAYOUT);
    for (v, bytes) in [(3, v3), (4, v4), (3, v3)] {
        install(&mut st, "e", bytes, boot_opts(), 700).expect("install after a power cut");
        let (got, evs) = boot_version(&mut st);
        assert_eq!(got, Some(v), "{evs:?}");
    }
    let held: u16 = st.list().map(|e| 1 + u16::from(e.previous.is_some())).sum();
    assert_eq!(st.free_slots(), LAYOUT.slot_count - held, "a slot was lost");
    assert!(st.interrupted().is_none());
}

/// Runs `op` on a copy of `base` with the power cut after `n` operations, for every `n` up to
/// the count a full run takes; `check` gets the flash after each cut.
fn sweep(
    base: &Flash,
    tear: Tear,
    op: &dyn Fn(&mut Flash),
    check: &mut dyn FnMut(usize, &mut Flash),
) -> usize {
    let mut probe = base.clone();
    probe.reset_stats();
    op(&mut probe);
    assert!(!probe.is_off());
    let total = probe.stats().ops as usize;
    for n in 0..=total {
        let mut f = base.clone();
        f.cut_power(PowerCut {
            after_ops: n as u64,
            tear,
        });
        op(&mut f);
        assert_eq!(f.is_off(), n < total, "cut {n} of {total}");
        check(n, &mut f);
    }
    total
}

/// Install (or update) "e" with `bytes` and boot, stopping at the first error (the cut).
fn install_and_boot(flash: &mut Flash, bytes: &[u8]) {
    let Ok(mut st) =
        futures::executor::block_on(llext_storage::Storage::<_, 4>::open(&mut *flash, LAYOUT))
    else {
        return;
    };
    if install(&mut st, "e", bytes, boot_opts(), 300).is_err() {
        return;
    }
    if let Ok((mut reg, _, _)) = boot(&mut st) {
        unload_all(&mut reg);
    }
}

fn whole_install_and_update(tear: Tear) {
    let [v1, v2, v3, v4] = [1, 2, 3, 4].map(versioned);

    // A whole first install: afterwards either nothing is installed or version 1 runs; an
    // interrupted install resumes when begun again.
    let empty = Flash::new(PAGES);
    let ops = sweep(&empty, tear, &|f| install_and_boot(f, &v1), &mut |n, f| {
        let got = restart_and_boot(f);
        assert!(matches!(got, None | Some(1)), "cut {n}: {got:?}");
        let mut st = open(f, LAYOUT);
        install(&mut st, "e", &v1, boot_opts(), 300).expect("reinstall");
        assert_eq!(boot_version(&mut st).0, Some(1));
        reset(st);
        slots_still_usable(f, &v3, &v4);
    });
    assert!(ops > 20, "an install takes {ops} operations");

    // A whole update from a confirmed version 1: afterwards version 1 or 2 runs, 2 whenever the
    // cut came after the update and its boot finished.
    let mut base = Flash::new(PAGES);
    install_and_boot(&mut base, &v1);
    let mut seen = [false; 3];
    let ops = sweep(&base, tear, &|f| install_and_boot(f, &v2), &mut |_, f| {
        let got = restart_and_boot(f).expect("one version always loads");
        assert!(got == 1 || got == 2);
        seen[got as usize] = true;
        slots_still_usable(f, &v3, &v4);
    });
    assert!(seen[1] && seen[2], "cuts hit before and after the switch");
    assert!(ops > 20, "an update takes {ops} operations");
}

#[test]
fn every_cut_in_an_install_or_update_leaves_a_loadable_version() {
    whole_install_and_update(Tear::None);
}

#[test]
fn every_torn_write_or_erase_leaves_a_loadable_version() {
    whole_install_and_update(Tear::Half);
}

#[test]
fn an_update_switches_to_the_new_version_at_one_point_near_its_end() {
    let [v1, v2] = [1, 2].map(versioned);
    let mut base = Flash::new(PAGES);
    install_and_boot(&mut base, &v1);
    // Count the operations up to and including the switch (finish, minus the install-record
    // clear that follows it).
    let mut probe = base.clone();
    probe.reset_stats();
    let mut st = open(&mut probe, LAYOUT);
    install(&mut st, "e", &v2, boot_opts(), 300).unwrap();
    reset(st);
    let through_finish = probe.stats().ops;
    let versions: Vec<u32> = (0..through_finish)
        .map(|n| {
            let mut f = base.clone();
            f.cut_power(PowerCut {
                after_ops: n,
                tear: Tear::None,
            });
            let mut st = open(&mut f, LAYOUT);
            let _ = install(&mut st, "e", &v2, boot_opts(), 300);
            reset(st);
            f.power_on();
            let st = open(&mut f, LAYOUT);
            st.entry("e").unwrap().active.version
        })
        .collect();
    // One step from the old version to the new: the switch is a single point in time, among
    // the last operations of finish (the switch item, then clearing the install record).
    let step = versions
        .iter()
        .position(|&v| v == 2)
        .expect("a cut after the switch");
    assert!(versions[..step].iter().all(|&v| v == 1), "{versions:?}");
    assert!(versions[step..].iter().all(|&v| v == 2), "{versions:?}");
    assert!(step + 6 >= versions.len(), "{step} of {}", versions.len());
}
