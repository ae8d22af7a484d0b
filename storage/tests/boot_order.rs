//! Boot loads extensions that use each other's functions in dependency order, whatever order
//! they were installed in, learns undeclared dependencies, and does the same after restarts;
//! missing, failed and circular dependencies are reported.

mod common;

use common::*;
use llext_storage::InstallOptions;

const LIB: &str = "static int base;\n\
    __attribute__((constructor)) static void init(void) { base = 100; }\n\
    int lib_add(int a, int b) { return a + b + base; }\n";
const MID: &str = "int lib_add(int, int);\nint mid_twice(int x) { return lib_add(x, x); }\n";
const APP: &str = "int mid_twice(int);\nint app_main(void) { return mid_twice(21); }\n";

fn opts<'a>(deps: &'a [&'a str]) -> InstallOptions<'a> {
    InstallOptions {
        boot: true,
        deps,
        ..InstallOptions::default()
    }
}

fn loaded_order(evs: &[Ev]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Loaded(n, ..) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn dependent_extensions_load_in_dependency_order_across_restarts() {
    let (lib, mid, app) = (build("lib", LIB), build("mid", MID), build("app", APP));
    let mut flash = Flash::new(64);
    let layout = llext_storage::Layout {
        slot_count: 7,
        ..LAYOUT
    };
    let mut st = open(&mut flash, layout.clone());
    // Installed dependents first; "mid" does not declare that it needs "lib".
    install(&mut st, "app", &app, opts(&["mid"]), 256).unwrap();
    install(&mut st, "mid", &mid, opts(&[]), 256).unwrap();
    install(&mut st, "lib", &lib, opts(&[]), 256).unwrap();
    install(&mut st, "idle", &lib, InstallOptions::default(), 256).unwrap();
    reset(st);

    for restart in 0..3 {
        let mut st = open(&mut flash, layout.clone());
        let mut brought_up = Vec::new();
        let (mut reg, evs, summary) = boot_with(&mut st, &mut |n| {
            brought_up.push(n.to_string());
            true
        })
        .unwrap();
        assert_eq!(
            brought_up,
            ["lib", "mid", "app"],
            "restart {restart}: {evs:?}"
        );
        assert_eq!(loaded_order(&evs), ["lib", "mid", "app"]);
        assert_eq!((summary.loaded, summary.failed), (3, 0));
        assert!(reg.find("idle").is_none(), "not marked for boot");
        assert_eq!(call(&reg, "app", "app_main", 142), 142);
        // The dependency "mid" had on "lib" was learned at the first boot.
        let mid_deps: Vec<_> = st
            .entry("mid")
            .unwrap()
            .deps
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(mid_deps, ["lib"]);
        if restart > 0 {
            assert!(!evs.iter().any(|e| matches!(e, Ev::Missing(..))), "{evs:?}");
        }
        unload_all(&mut reg);
    }
}

#[test]
fn a_failed_or_missing_dependency_skips_its_dependents() {
    let (lib, mid, app) = (build("lib", LIB), build("mid", MID), build("app", APP));
    let mut flash = Flash::new(64);
    let layout = llext_storage::Layout {
        slot_count: 7,
        ..LAYOUT
    };
    let mut st = open(&mut flash, layout.clone());
    let l = install(&mut st, "lib", &lib, opts(&[]), 256).unwrap().entry;
    install(&mut st, "mid", &mid, opts(&["lib"]), 256).unwrap();
    install(&mut st, "app", &app, opts(&["mid"]), 256).unwrap();
    install(&mut st, "lone", &app, opts(&["ghost"]), 256).unwrap();
    reset(st);
    let start = layout.slot(l.active.slot).start as usize;
    flash.bytes_mut()[start + 100] ^= 1;

    let mut st = open(&mut flash, layout);
    let (mut reg, evs, summary) = boot(&mut st).unwrap();
    assert!(reg.iter().next().is_none(), "{evs:?}");
    assert_eq!(summary.failed, 4);
    assert!(
        evs.iter().any(
            |e| matches!(e, Ev::Failed(n, 1, why) if n == "lib" && why.starts_with("corrupt"))
        )
    );
    assert!(
        evs.contains(&Ev::Skipped("mid".into(), "dependency lib failed".into())),
        "{evs:?}"
    );
    assert!(evs.contains(&Ev::Skipped("app".into(), "dependency mid failed".into())));
    assert!(evs.contains(&Ev::Skipped(
        "lone".into(),
        "dependency ghost is not installed for boot".into()
    )));
    unload_all(&mut reg);
}

#[test]
fn a_dependency_cycle_is_reported() {
    let (mid, app) = (build("mid", MID), build("app", APP));
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "a", &mid, opts(&["b"]), 256).unwrap();
    install(&mut st, "b", &app, opts(&["a"]), 256).unwrap();
    let (mut reg, evs, _) = boot(&mut st).unwrap();
    assert!(
        evs.contains(&Ev::Skipped("a".into(), "dependency cycle".into())),
        "{evs:?}"
    );
    assert!(evs.contains(&Ev::Skipped("b".into(), "dependency cycle".into())));
    unload_all(&mut reg);
}

#[test]
fn a_dependency_that_never_appears_fails_with_its_missing_symbols() {
    let mid = build("mid", MID);
    let mut flash = Flash::new(PAGES);
    let mut st = open(&mut flash, LAYOUT);
    install(&mut st, "mid", &mid, opts(&[]), 256).unwrap();
    let (mut reg, evs, _) = boot(&mut st).unwrap();
    assert_eq!(
        evs[0],
        Ev::Missing("mid".into(), "lib_add".into()),
        "{evs:?}"
    );
    assert!(
        matches!(&evs[1], Ev::Failed(n, 1, why) if n == "mid" && why.starts_with("load failed"))
    );
    // A first install that fails its trial is marked failed and skipped after that.
    assert_eq!(
        st.entry("mid").unwrap().active.state,
        llext_storage::State::Failed
    );
    unload_all(&mut reg);
    let (mut reg, evs, _) = boot(&mut st).unwrap();
    assert_eq!(
        evs,
        [Ev::Skipped("mid".into(), "failed an earlier trial".into())]
    );
    unload_all(&mut reg);
}
