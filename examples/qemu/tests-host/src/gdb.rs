//! `host-push gdb` with a real GDB (issue 12): QEMU's gdbstub, an extension built with `-g`, a
//! breakpoint by function name hit by `host-push call`, the right function, line and data.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::{Board, Qemu, compile};

/// The extension: `dbg_add` starts at line 6 (its first statement).
const SOURCE: &str = "static int scale = 3;
const int table[4] = {10, 20, 30, 40};

int dbg_add(int a, int b)
{
    int s = a + b;
    return s * scale + table[a & 3];
}

int dbg_entry(void)
{
    return dbg_add(2, 5);
}
";

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Pushes the extension, writes the script with `host-push gdb`, attaches `gdb-multiarch`,
/// breaks on `dbg_add` by name, and lets `host-push call` hit it.
pub fn gdb_breaks_in_an_extension(board: Board) {
    let Some(exe) = crate::host_push("gdb_breaks_in_an_extension") else {
        return;
    };
    if Command::new("gdb-multiarch")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED gdb_breaks_in_an_extension: gdb-multiarch is not installed");
        return;
    }
    let gdb_port = free_port().to_string();
    let q = Qemu::start(board, &["--", "-gdb", &format!("tcp:127.0.0.1:{gdb_port}")]);
    let dir = std::env::temp_dir().join("llext-qemu-tests").join(format!(
        "gdb-{}-{}",
        board.name(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let (obj, cache, script) = (dir.join("dbgx.o"), dir.join("cache"), dir.join("s.gdb"));
    let c = dir.join("dbgx.c");
    std::fs::write(&c, SOURCE).expect("write");
    std::fs::write(&obj, compile(board, "dbgx", &[c], &["-g", "-O0"])).expect("write");
    let obj_s = obj.to_str().expect("utf-8");
    // The load log (`-v`, and `"placed"` in JSON): each section, named, in its region.
    let pushed = crate::run_host_push(&exe, Some(&cache), &[obj_s, "--port", &q.port, "--json"]);
    let placed = &pushed[pushed.find("\"placed\"").expect("placed")..];
    for (name, region) in [(".text", "text"), (".data", "data"), (".rodata", "rodata")] {
        let at = placed
            .find(&format!("\"name\":\"{name}\""))
            .unwrap_or_else(|| panic!("{name}: {pushed}"));
        let entry = &placed[placed[..at].rfind('{').expect("{")..];
        let entry = &entry[..entry.find('}').expect("}")];
        assert!(
            entry.contains(&format!("\"region\":\"{region}\"")),
            "{entry}"
        );
    }
    let st = crate::run_host_push(&exe, Some(&cache), &["status", "--port", &q.port, "--json"]);
    assert!(
        st.contains("\".text\"") && st.contains("\".rodata\""),
        "{st}"
    );
    let script_s = script.to_str().expect("utf-8");
    crate::run_host_push(
        &exe,
        Some(&cache),
        &["gdb", "dbgx", "--port", &q.port, "-o", script_s],
    );
    let text = std::fs::read_to_string(&script).expect("script");
    for s in [".text", ".data", ".rodata"] {
        assert!(text.contains(&format!(" -s {s} 0x")), "{text}");
    }

    let mut gdb = Command::new("gdb-multiarch")
        .args(["-batch", "-nx", "-ex", "set confirm off"])
        .args(["-ex", &format!("target remote 127.0.0.1:{gdb_port}")])
        .args(["-x", script_s, "-ex", "break dbg_add", "-ex", "continue"])
        .args([
            "-ex",
            "print scale",
            "-ex",
            "print table[3]",
            "-ex",
            "bt",
            "-ex",
            "detach",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gdb-multiarch");
    // Call only once GDB has set its breakpoint and let the firmware run again.
    let stdout = gdb.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.starts_with("Breakpoint 1 at"))
    {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("GDB set no breakpoint: {seen:#?}"),
        }
    }
    let call = crate::run_host_push(
        &exe,
        Some(&cache),
        &["call", "dbgx", "dbg_entry", "--port", &q.port],
    );
    assert!(call.contains("dbg_entry = 51"), "{call}");
    let _ = gdb.wait();
    seen.extend(rx.try_iter());
    let all = seen.join("\n");
    assert!(
        all.contains("Breakpoint 1, dbg_add (a=2, b=5) at") && all.contains("dbgx.c:6"),
        "{all}"
    );
    assert!(all.contains("$1 = 3") && all.contains("$2 = 40"), "{all}");
    assert!(
        all.contains("in dbg_entry () at") && all.contains("dbgx.c:12"),
        "{all}"
    );
}
