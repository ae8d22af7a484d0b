//! Loading real extensions compiled by the system C compiler: stream and seekable paths,
//! symbols, dependencies, lifecycle, memory accounting.

mod common;

use common::*;
use llext_loader::memory::{Counting, HostProvider, MemKind, PoolProvider};
use llext_loader::pack::{PackOptions, pack};
use llext_loader::source::SliceSource;
use llext_loader::{Error, LoadParams, Part, Registry, exports};

#[test]
fn loads_packed_extension_from_a_forward_only_stream() {
    let dir = scratch("stream");
    for flags in FLAG_SETS {
        let obj = cc(&dir, "sample", SAMPLE, flags);
        let packed = pack(&obj, &PackOptions::default()).unwrap();
        let mut reg = registry();
        let a = load_stream(&mut reg, "packed", &packed)
            .unwrap_or_else(|e| panic!("{flags:?}: {:?}", e.0));
        let b = load_slice(&mut reg, "original", &obj)
            .unwrap_or_else(|e| panic!("{flags:?}: {:?}", e.0));
        let (ea, eb) = (reg.get(a).unwrap(), reg.get(b).unwrap());
        // The same sections either way; pack drops unused undefined symbols, which can save
        // x86-64 GOT slots in the trampoline region.
        let placed = |e: &llext_loader::Extension| -> Vec<(MemKind, usize)> {
            e.regions()
                .filter(|r| r.kind != MemKind::Trampoline)
                .map(|r| (r.kind, r.size))
                .collect()
        };
        assert_eq!(placed(ea), placed(eb), "{flags:?}: same image either way");
        assert_eq!(ea.stats().relocations, eb.stats().relocations);
        assert!(ea.find_symbol("go").is_some() && ea.find_symbol("helper").is_some());
        assert!(
            ea.find_symbol("table").is_none(),
            "static functions are not exported"
        );
        reg.provider().check();
        reg.unload(a).unwrap();
        reg.unload(b).unwrap();
        assert_eq!(reg.provider().held, 0, "{flags:?}: all memory back");
    }
}

#[test]
fn rejects_a_file_not_in_stream_order_on_a_forward_only_stream() {
    let dir = scratch("order");
    let obj = cc(&dir, "sample", SAMPLE, &["-O2"]);
    let mut reg = registry();
    let (e, _) = load_stream(&mut reg, "raw", &obj).unwrap_err();
    assert!(
        matches!(
            e,
            Error::StreamOrder {
                part: Part::SectionNames,
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("stream order") && msg.contains("host-push pack"),
        "{msg}"
    );
    assert_eq!(reg.provider().held, 0);
    assert_eq!(reg.provider().live_blocks(), 0);
}

#[test]
fn lists_every_missing_symbol() {
    let dir = scratch("missing");
    let src = "int nope_one(void); int nope_two(int); extern int nope_data;\n\
               int f(void) { return nope_one() + nope_two(3) + nope_data + (int)__builtin_strlen(\"x\"); }";
    let obj = cc(&dir, "m", src, &["-O2"]);
    let mut reg = registry();
    let (e, names) = load_slice(&mut reg, "m", &obj).unwrap_err();
    let Error::MissingSymbols { count, .. } = e else {
        panic!("{e:?}")
    };
    assert_eq!(count, 3);
    let mut names = names;
    names.sort();
    assert_eq!(names, ["nope_data", "nope_one", "nope_two"]);
    let msg = e.to_string();
    assert!(
        msg.contains("3 undefined symbol(s)") && msg.contains("and 2 more"),
        "{msg}"
    );
    assert_eq!(reg.provider().held, 0);
}

#[test]
fn transient_memory_is_twenty_bytes_per_section_and_eight_per_symbol() {
    let dir = scratch("bound");
    for flags in FLAG_SETS {
        let obj = cc(&dir, "sample", SAMPLE, flags);
        for packed in [false, true] {
            let bytes = if packed {
                pack(&obj, &PackOptions::default()).unwrap()
            } else {
                obj.clone()
            };
            let mut reg = registry();
            let slot = if packed {
                load_stream(&mut reg, "s", &bytes)
            } else {
                load_slice(&mut reg, "s", &bytes)
            }
            .unwrap_or_else(|e| panic!("{:?}", e.0));
            let st = reg.get(slot).unwrap().stats();
            let formula = 20 * st.sections as usize + 8 * st.symbols as usize;
            assert_eq!(st.transient_peak, formula, "{flags:?}");
            // The provider saw exactly the image, the kept export index and the transient tables.
            assert_eq!(
                reg.provider().peak,
                st.image_bytes + st.kept_metadata + formula,
                "{flags:?}"
            );
            if packed {
                assert!(
                    st.transient_peak <= 2048 + 8 * st.symbols as usize,
                    "{flags:?}: {} bytes transient for {} symbols",
                    st.transient_peak,
                    st.symbols
                );
            }
        }
    }
}

#[test]
fn refuses_to_unload_an_extension_another_one_uses() {
    let dir = scratch("deps");
    let lib = cc(
        &dir,
        "lib",
        "int lib_counter = 7; int lib_add(int a, int b) { return a + b + lib_counter; }",
        &["-O2"],
    );
    let app = cc(
        &dir,
        "app",
        "extern int lib_counter; int lib_add(int, int);\nint app_main(void) { return lib_add(1, 2) * lib_counter; }",
        &["-O2"],
    );
    let mut reg = registry();
    let l = load_slice(&mut reg, "lib", &lib).unwrap();
    let a = load_slice(&mut reg, "app", &app).unwrap();
    assert_eq!(reg.get(a).unwrap().dependencies(), 1 << l);
    let e = reg.unload(l).unwrap_err();
    assert!(
        matches!(e, Error::InUse { .. }) && e.to_string().contains("app"),
        "{e}"
    );
    reg.unload(a).unwrap();
    reg.unload(l).unwrap();
    assert_eq!(reg.provider().held, 0);
}

#[test]
fn loading_the_same_name_twice_counts_uses() {
    let dir = scratch("refcount");
    let obj = cc(&dir, "s", SAMPLE, &["-O2"]);
    let mut reg = registry();
    let a = load_slice(&mut reg, "s", &obj).unwrap();
    let held = reg.provider().held;
    let b = load_slice(&mut reg, "s", &obj).unwrap();
    assert_eq!(a, b);
    assert_eq!(reg.get(a).unwrap().use_count(), 2);
    assert_eq!(reg.provider().held, held, "second load takes no memory");
    reg.unload(a).unwrap();
    assert!(reg.get(a).is_some());
    reg.unload(a).unwrap();
    assert!(reg.get(a).is_none());
    assert_eq!(reg.provider().held, 0);
}

#[test]
fn out_of_memory_is_an_error_and_returns_everything() {
    let dir = scratch("oom");
    let obj = cc(&dir, "s", SAMPLE, &["-O2"]);
    let mut full = registry();
    let slot = load_slice(&mut full, "s", &obj).unwrap();
    let need = full.provider().peak;
    let _ = slot;
    for limit in (0..need).step_by(97) {
        let mut reg =
            Registry::<_, _, 4>::new(GuardProvider::with_limit(limit), libc_like_exports());
        let r = futures::executor::block_on(reg.load(
            "s",
            &mut SliceSource::new(&obj),
            &LoadParams::default(),
            &mut |_| {},
        ));
        let e = r.unwrap_err();
        assert!(
            matches!(e, Error::OutOfMemory { .. }),
            "limit {limit}: {e:?}"
        );
        assert!(e.to_string().contains("out of memory"));
        assert_eq!(reg.provider().held, 0, "limit {limit}");
    }
}

#[test]
fn fixed_pool_gets_every_byte_back() {
    let dir = scratch("pool");
    let obj = cc(
        &dir,
        "s",
        SAMPLE,
        &["-Os", "-ffunction-sections", "-fdata-sections", "-fcommon"],
    );
    let pool: &'static mut [core::mem::MaybeUninit<u8>] =
        Box::leak(vec![core::mem::MaybeUninit::new(0u8); 64 << 10].into_boxed_slice());
    let mut reg =
        Registry::<_, _, 4>::new(Counting::new(PoolProvider::new(pool)), libc_like_exports());
    let base = reg.provider().inner().free_bytes_now();
    for _ in 0..50 {
        let s = futures::executor::block_on(reg.load(
            "s",
            &mut SliceSource::new(&obj),
            &LoadParams::default(),
            &mut |_| {},
        ))
        .unwrap();
        reg.unload(s).unwrap();
        assert_eq!(
            reg.provider().inner().free_bytes_now(),
            base,
            "pool back at its baseline"
        );
    }
    assert_eq!(reg.provider().usage().total, 0);
}

fn ext_puts(s: *const core::ffi::c_char) -> i32 {
    // SAFETY: extensions pass NUL-terminated strings.
    let _ = unsafe { core::ffi::CStr::from_ptr(s) };
    0
}

extern "C" fn c_puts(s: *const core::ffi::c_char) -> i32 {
    ext_puts(s)
}

#[test]
fn runs_extensions_in_this_process_with_exported_sym_tables_and_constructors() {
    let dir = scratch("run");
    let src = r#"
        int puts(const char *);
        struct llext_symbol { const char *name; void *addr; };
        static int order;
        __attribute__((constructor(101))) static void first(void) { order = order * 10 + 1; }
        __attribute__((constructor(102))) static void second(void) { order = order * 10 + 2; }
        __attribute__((constructor)) static void third(void) { order = order * 10 + 3; }
        static int hidden_entry(void) { puts("hi"); return order; }
        __attribute__((section(".exported_sym"), used))
        static const struct llext_symbol exp_entry = { "entry_alias", (void *)hidden_entry };
        int weak_user(void) { extern int maybe(void) __attribute__((weak)); return maybe ? 1 : 42; }
    "#;
    for flags in FLAG_SETS {
        let obj = cc(&dir, "run", src, flags);
        let firmware = exports!["puts" => c_puts];
        let mut reg = Registry::<_, _, 4>::new(Counting::new(HostProvider::near_host()), firmware);
        let packed = pack(&obj, &PackOptions::default()).unwrap();
        let mut src = llext_loader::source::StreamSource::new(&packed[..]);
        let slot = futures::executor::block_on(reg.load(
            "run",
            &mut src,
            &LoadParams::default(),
            &mut |_| {},
        ))
        .unwrap();
        let ext = reg.get(slot).unwrap();
        let entry = ext
            .find_symbol("entry_alias")
            .expect("found through .exported_sym");
        assert_eq!(ext.locate(entry).map(|(k, _)| k), Some(MemKind::Text));
        // SAFETY: compiled for this machine just above, linked against `c_puts`.
        unsafe {
            ext.bringup();
            assert_eq!(
                llext_loader::extension::call_int(entry),
                123,
                "{flags:?}: constructors by priority"
            );
            assert_eq!(
                llext_loader::extension::call_int(ext.find_symbol("weak_user").unwrap()),
                42
            );
            ext.teardown();
        }
        assert!(ext.regions().any(|r| r.kind == MemKind::Text && r.size > 0));
        reg.unload(slot).unwrap();
        assert_eq!(reg.provider().usage().total, 0);
    }
}

#[test]
fn honours_alignment_up_to_4_kib_and_bootstraps() {
    let dir = scratch("align4k");
    let src = r#"
        #include <stdint.h>
        _Alignas(4096) static char page_data[64] = {1};
        _Alignas(4096) static char page_bss[4096];
        _Alignas(2048) static const char page_ro[16] = "ro";
        static int inits;
        __attribute__((constructor)) static void up(void) { inits += 10; }
        __attribute__((destructor)) static void down(void) { inits = -1; }
        int entry(void) {
            page_bss[4095] = 2;
            return inits + ((uintptr_t)page_data % 4096 == 0) + 2 * ((uintptr_t)page_bss % 4096 == 0)
                + 4 * ((uintptr_t)page_ro % 2048 == 0) + page_data[0] * 100 + page_bss[4095] * 1000;
        }
    "#;
    for flags in FLAG_SETS {
        let obj = cc(&dir, "a", src, flags);
        let mut reg =
            Registry::<_, _, 2>::new(Counting::new(HostProvider::near_host()), exports![]);
        let slot = futures::executor::block_on(reg.load(
            "a",
            &mut SliceSource::new(&obj),
            &LoadParams::default(),
            &mut |_| {},
        ))
        .unwrap();
        // SAFETY: compiled for this machine above; `entry` is `int (void)`.
        let r = unsafe { reg.get(slot).unwrap().bootstrap("entry") };
        assert_eq!(r, Ok(10 + 1 + 2 + 4 + 100 + 2000), "{flags:?}");
        reg.unload(slot).unwrap();
        assert_eq!(reg.provider().usage().total, 0);
    }
}
