//! Fault containment on mps2-an385 and riscv32-virt (issue 12): a fault raised by extension code during a call
//! ends the call, not the firmware; `host-push call` exits 5 naming the function and line; the
//! extension is marked faulted; unloading it returns the pool to its baseline; the board goes on
//! loading and running extensions. A fault outside extension code stays fatal.

use std::path::PathBuf;

use crate::{Board, Qemu, compile, corpus};

/// The extension; the line numbers in [`cases`] are those of the faulting statements.
const SOURCE: &str = "unsigned strlen(const char *);
volatile int zero = 0;
volatile char bytes[8];
#ifdef __riscv
#define ILLEGAL() __asm__ volatile(\"unimp\")
#else
#define ILLEGAL() __asm__ volatile(\"udf #0\")
#endif

int crash_ok(void) { return 42; }

int crash_udf(void)
{
    __builtin_trap();
    return 1;
}

int crash_div(void)
{
    return 100 / zero;
}

int crash_ptr(void)
{
    return *(volatile int *)0xF0000000;
}

int crash_in_firmware(void) { return (int)strlen((const char *)0xF0000000); }

int crash_spin(void)
{
    for (;;)
        zero++;
}

int crash_ill(void)
{
    ILLEGAL();
    return 2;
}

int crash_unaligned(void)
{
    return __atomic_fetch_add((int *)(bytes + 1), 1, __ATOMIC_SEQ_CST);
}

int crash_jump(void)
{
    return ((int (*)(void))0xF0000000)() + 1;
}

int crash_store(void)
{
    *(volatile int *)0xF0000000 = 1;
    return 0;
}
";

/// An extension whose constructor faults (and, with `destructor`, whose destructor does).
const CTOR: &str = "__attribute__((constructor)) static void boom(void) { __builtin_trap(); }
int x(void) { return 7; }
";

/// One fault: the function, the kind host-push names, the line of the faulting statement (the
/// PC's, or for `crash_jump` the return address's), and the faulting address shown.
type Case = (
    &'static str,
    &'static str,
    Option<u32>,
    Option<&'static str>,
);

/// The cases of `board`. The lines are what GCC's DWARF says for the faulting instruction
/// (`objdump -dl`): at -Os the `sdiv` of `crash_div` and the `ldrex` of `crash_unaligned` are on
/// their closing lines on Cortex-M; `crash_jump`'s is
/// the line of its call, from the return address; QEMU reports the misaligned `amoadd.w` of
/// `crash_unaligned` as a load; `crash_udf` goes to
/// `.text.unlikely`, a second code section. `crash_spin` never returns: the firmware's time limit
/// stops it, somewhere in its loop. RISC-V does not trap on division by zero; GCC makes
/// `__builtin_trap` an `ebreak` there.
fn cases(board: Board) -> &'static [Case] {
    match board {
        Board::Mps2 => &[
            ("crash_udf", "usage-fault", Some(14), None),
            ("crash_div", "usage-fault", Some(21), None),
            ("crash_ptr", "bus-fault", Some(25), Some("0xf0000000")),
            ("crash_spin", "timeout", None, None),
            ("crash_ill", "usage-fault", Some(38), None),
            ("crash_unaligned", "usage-fault", Some(45), None),
            ("crash_jump", "mem-manage", Some(49), None),
        ],
        Board::Riscv32 => &[
            ("crash_udf", "breakpoint", Some(14), None),
            ("crash_ill", "illegal-instruction", Some(38), None),
            (
                "crash_ptr",
                "load-access-fault",
                Some(25),
                Some("0xf0000000"),
            ),
            (
                "crash_store",
                "store-access-fault",
                Some(54),
                Some("0xf0000000"),
            ),
            ("crash_unaligned", "load-misaligned", Some(44), None),
            (
                "crash_jump",
                "instruction-access-fault",
                Some(49),
                Some("0xf0000000"),
            ),
            ("crash_spin", "timeout", None, None),
        ],
    }
}

fn run(exe: &std::path::Path, cache: &std::path::Path, args: &[&str]) -> crate::HostPushRun {
    crate::host_push_run(exe, Some(cache), args)
}

/// The board in QEMU, a fresh directory for `test`, `crash.o` built there and a host-push cache.
fn start(board: Board, test: &str) -> (Qemu, PathBuf, PathBuf, PathBuf) {
    let q = Qemu::start(board, &[]);
    let dir = std::env::temp_dir().join("llext-qemu-tests").join(format!(
        "{test}-{}-{}",
        board.name(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let (c, obj, cache) = (dir.join("crash.c"), dir.join("crash.o"), dir.join("cache"));
    std::fs::write(&c, SOURCE).expect("write");
    std::fs::write(&obj, compile(board, "crash", &[c], &["-g"])).expect("write");
    (q, dir, obj, cache)
}

/// Every case above, then another extension, then a fault in firmware code.
pub fn faults_are_contained(board: Board) {
    let Some(exe) = crate::host_push("faults_are_contained") else {
        return;
    };
    let (q, dir, obj, cache) = start(board, "fault");
    let obj = obj.to_str().expect("utf-8");
    let port = q.port.as_str();
    // One host at a time: host-push connects anew for each command.
    let used = || {
        let st = run(&exe, &cache, &["status", "--json", "--port", port]).stdout;
        let at = st.find("\"used_memory\":").expect("used_memory") + 14;
        let digits: String = st[at..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u64>().expect("a number")
    };
    let base = used();
    for &(func, kind, line, addr) in cases(board) {
        let r = run(&exe, &cache, &[obj, "--port", port, "--call", "crash_ok"]);
        assert!(
            r.code == 0 && r.stdout.contains("crash_ok = 42"),
            "{}",
            r.stderr
        );
        let r = run(&exe, &cache, &["call", "crash", func, "--port", port]);
        assert_eq!(r.code, 5, "{func}: {}{}", r.stdout, r.stderr);
        let want = match kind {
            "timeout" => "timeout (after 3000 ms)".to_string(),
            _ => format!("{kind} (status "),
        };
        assert!(r.stderr.contains(&want), "{func}: {}", r.stderr);
        let at = format!(" in {func}+0x");
        let src = line.map_or("(crash.c:".to_string(), |l| format!("(crash.c:{l})"));
        assert!(
            r.stderr.contains(&at) && r.stderr.contains(&src),
            "{func}: {}",
            r.stderr
        );
        if let Some(a) = addr {
            assert!(
                r.stderr.contains(&format!("faulting address {a}")),
                "{}",
                r.stderr
            );
        }
        // The device keeps the fault: status shows it, symbolized, in a later run.
        let st = run(&exe, &cache, &["status", "--port", port]);
        assert!(st.stdout.contains("crash: faulted"), "{}", st.stdout);
        let kept = format!("fault: {kind} (");
        assert!(
            st.stdout.contains(&kept) && st.stdout.contains(&at),
            "{}",
            st.stdout
        );
        let again = run(&exe, &cache, &["call", "crash", "crash_ok", "--port", port]);
        assert!(
            again.code == 5 && again.stderr.contains("[faulted]"),
            "{}",
            again.stderr
        );
        let r = run(&exe, &cache, &["unload", "crash", "--port", port]);
        assert_eq!(r.code, 0, "unload a faulted extension: {}", r.stderr);
        assert_eq!(used(), base, "{func}: the pool is back at its baseline");
    }
    // A constructor that faults: the push fails with exit 5, nothing stays loaded. A destructor
    // that faults is cut short at unload; the memory goes back all the same.
    let ctor = dir.join("ctor.o");
    let dtor = dir.join("dtor.o");
    let ctor_c = dir.join("ctor.c");
    let dtor_c = dir.join("dtor.c");
    std::fs::write(&ctor_c, CTOR).expect("write");
    std::fs::write(&dtor_c, CTOR.replace("constructor", "destructor")).expect("write");
    std::fs::write(&ctor, compile(board, "ctor", &[ctor_c], &["-g"])).expect("write");
    std::fs::write(&dtor, compile(board, "dtor", &[dtor_c], &["-g"])).expect("write");
    let r = run(
        &exe,
        &cache,
        &[ctor.to_str().expect("utf-8"), "--port", port],
    );
    assert_eq!(r.code, 5, "{r}");
    let trap = cases(board)[0].1;
    assert!(
        r.stderr
            .contains(&format!("a constructor of `ctor` faulted ({trap}")),
        "{r}"
    );
    assert_eq!(used(), base, "a faulting constructor leaves nothing loaded");
    let r = run(
        &exe,
        &cache,
        &[dtor.to_str().expect("utf-8"), "--port", port, "--call", "x"],
    );
    assert!(r.code == 0 && r.stdout.contains("x = 7"), "{r}");
    let r = run(&exe, &cache, &["unload", "dtor", "--port", port]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(used(), base, "a faulting destructor: unloaded all the same");
    {
        let mut d = q.connect();
        d.push(
            "calls",
            &crate::pack(&compile(board, "calls_f", &[corpus("calls")], &[])),
        );
        assert_eq!(d.call("calls", "calls_fib20"), 6765);
        d.client.unload("calls").expect("unload");
    }
    // The PC is in the firmware's strlen, not in the extension: the firmware stops.
    let r = run(&exe, &cache, &[obj, "--port", port]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &exe,
        &cache,
        &["call", "crash", "crash_in_firmware", "--port", port],
    );
    assert_eq!(
        r.code, 3,
        "a fault in firmware code is fatal: {}{}",
        r.stdout, r.stderr
    );
}

/// The time limit per call: `--timeout-ms` shortens or lengthens it (the report says which limit
/// ran out); a limit past the device's maximum is refused and runs nothing.
pub fn time_limit_per_call(board: Board) {
    let Some(exe) = crate::host_push("time_limit_per_call") else {
        return;
    };
    let (q, _, obj, cache) = start(board, "limit");
    let port = q.port.as_str();
    let r = run(
        &exe,
        &cache,
        &[obj.to_str().expect("utf-8"), "--port", port],
    );
    assert_eq!(r.code, 0, "{r}");
    let call = |args: &[&str]| {
        let mut all = vec!["call", "crash", "--port", port];
        all.extend_from_slice(args);
        run(&exe, &cache, &all)
    };
    let r = call(&["crash_spin", "--timeout-ms", "70000"]);
    assert!(
        r.code == 4
            && r.stderr
                .contains("longer than this device allows (60000 ms)")
            && r.stderr.contains("hint: pass --timeout-ms 60000 or less"),
        "{r}"
    );
    let r = call(&["crash_ok", "--timeout-ms", "50"]);
    assert!(r.code == 0 && r.stdout.contains("crash_ok = 42"), "{r}");
    let started = std::time::Instant::now();
    let r = call(&["crash_spin", "--timeout-ms", "300"]);
    assert_eq!(r.code, 5, "{r}");
    assert!(
        r.stderr.contains("timeout (after 300 ms)") && r.stderr.contains(" in crash_spin+0x"),
        "{r}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{r}");
    // Longer than host-push would wait for an answer (3 x 2 s): it waits as long as it asked for.
    run(&exe, &cache, &["unload", "crash", "--port", port]);
    run(
        &exe,
        &cache,
        &[obj.to_str().expect("utf-8"), "--port", port],
    );
    let r = call(&["crash_spin", "--timeout-ms", "7000"]);
    assert!(
        r.code == 5 && r.stderr.contains("timeout (after 7000 ms)"),
        "{r}"
    );
}

/// A constructor that faults at boot (riscv32-virt, which has flash): `v2` of an extension,
/// installed for boot over a confirmed `v1`, fails its trial at the next boot and is rolled back;
/// the boot report (`list`, `status`) names the constructor and its line from the image
/// host-push kept at install; `v1` runs.
pub fn boot_fault_rolls_back(board: Board) {
    let Some(exe) = crate::host_push("boot_fault_rolls_back") else {
        return;
    };
    let dir = std::env::temp_dir().join("llext-qemu-tests").join(format!(
        "bootfault-{}-{}",
        board.name(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let (flash, cache) = (dir.join("flash.img"), dir.join("cache"));
    let _ = std::fs::remove_file(&flash);
    let flash = flash.to_str().expect("utf-8");
    let (good, bad) = (dir.join("good.c"), dir.join("ctor.c"));
    std::fs::write(&good, "int x(void) { return 5; }\n").expect("write");
    std::fs::write(&bad, CTOR).expect("write");
    let obj = |name: &str, c: &std::path::Path| {
        let o = dir.join(format!("{name}.o"));
        std::fs::write(&o, compile(board, name, &[c.to_path_buf()], &["-g"])).expect("write");
        o.to_str().expect("utf-8").to_string()
    };
    let (good, bad) = (obj("good", &good), obj("ctor", &bad));
    let install = |port: &str, o: &str| {
        let r = run(
            &exe,
            &cache,
            &["install", o, "-n", "ext", "--boot", "--port", port],
        );
        assert_eq!(r.code, 0, "{r}");
    };
    let mut q = Qemu::start(board, &["--flash", flash]);
    install(&q.port, &good);
    q.stop();
    let mut q = Qemu::start(board, &["--flash", flash]);
    install(&q.port, &bad);
    q.stop();
    let q = Qemu::start(board, &["--flash", flash]);
    let port = q.port.as_str();
    // The first host gets the boot report's log lines: `monitor` names the constructor.
    let named = "  - ext v2: in boom+0x0 (ctor.c:1)";
    let seen = crate::monitor::lines_until(&exe, &cache, port, named, 30);
    assert!(seen.iter().any(|l| l == named), "{seen:#?}");
    let r = run(&exe, &cache, &["list", "--port", port]);
    let trap = cases(board)[0].1;
    let want = format!("a constructor faulted: {trap} at text+0x");
    assert!(r.code == 0 && r.stdout.contains(&want), "{r}");
    assert!(r.stdout.contains(" in boom+0x0 (ctor.c:1)"), "{r}");
    let st = run(&exe, &cache, &["status", "--port", port]);
    assert!(st.stdout.contains(" in boom+0x0 (ctor.c:1)"), "{st}");
    let r = run(&exe, &cache, &["call", "ext", "x", "--port", port]);
    assert_eq!(r.stdout, "x = 5\n", "v1 runs: {r}");
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);
}
