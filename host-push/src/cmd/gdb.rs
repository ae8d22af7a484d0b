//! `host-push gdb NAME [--port P] [-o FILE]`: a GDB script that adds a loaded extension's
//! symbols at the addresses where each of its sections was placed.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::{Failure, OTHER, REFUSED};
use crate::output;
use crate::placed::Placed;
use llext_transports::client::Client;

/// Write a GDB script that loads a loaded extension's debug symbols where it was placed.
#[derive(Debug, Args)]
pub struct GdbArgs {
    /// The extension's name on the device
    name: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Write the script here [default: stdout]
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print one JSON object on stdout (with -o)
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push gdb`.
pub fn run(args: &GdbArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let name = &args.name;
    let placed = Placed::query(&mut conn.client, name)
        .map_err(|e| Failure::client(e, &format!("sections of {name}")))?;
    let Some(kept) = &placed.kept else {
        return Err(not_kept(&mut conn.client, name, &placed));
    };
    let script = script(name, &kept.elf, &placed);
    match &args.output {
        Some(path) => std::fs::write(path, &script)
            .map_err(|e| Failure::new(OTHER, format!("cannot write {}: {e}", path.display())))?,
        None => print!("{script}"),
    }
    if args.json {
        output::json(&json!({
            "ok": true,
            "extension": name,
            "script": args.output.as_ref().map(|p| p.display().to_string()),
            "elf": kept.elf.display().to_string(),
            "sections": placed.sections,
        }));
    }
    Ok(())
}

/// Why there is no script: the extension runs in place from flash (the device keeps no
/// placements for it), or this host has no copy of the file the device holds.
fn not_kept(client: &mut Client, name: &str, placed: &Placed) -> anyhow::Error {
    // Installed and loaded from flash (at boot or on demand): in place, or not.
    let installed = if placed.sections.is_empty() {
        client.list().ok().and_then(|l| {
            l.extensions
                .iter()
                .find(|e| e.name == name && e.loaded)
                .and_then(|e| e.stored.as_ref())
                .map(|s| s.active.in_place)
        })
    } else {
        None
    };
    if installed == Some(false) {
        return Failure::new(
            REFUSED,
            format!(
                "`{name}` was loaded from flash (installed): the device keeps section addresses only for extensions pushed to it"
            ),
        )
        .hint(format!(
            "to debug it, push the same file under another name (`host-push FILE --name {name}-dbg`), then `host-push gdb {name}-dbg`"
        ))
        .into();
    }
    if installed == Some(true) {
        return Failure::new(
            REFUSED,
            format!(
                "`{name}` runs in place from flash (installed with --xip): the device keeps no section addresses for it"
            ),
        )
        .hint(format!(
            "to debug it, push the same file under another name (`host-push FILE --name {name}-dbg`): it then runs from RAM, where `host-push gdb {name}-dbg` places it"
        ))
        .into();
    }
    Failure::new(
        REFUSED,
        format!(
            "`{name}` was not pushed from this host (no kept copy of the file the device holds)"
        ),
    )
    .hint(format!(
        "push it again with host-push (kept in {})",
        crate::kept::dir().display()
    ))
    .into()
}

/// The script: one `add-symbol-file ELF -s SECTION ADDR ...` for every named, non-empty section.
fn script(name: &str, elf: &std::path::Path, placed: &Placed) -> String {
    let mut s = format!("# host-push gdb {name}: the extension's symbols where it was placed\n");
    let mut cmd = format!("add-symbol-file {}", elf.display());
    for p in placed.sections.iter().filter(|p| p.size > 0) {
        if let Some(n) = &p.name {
            let _ = write!(cmd, " -s {n} {:#x}", p.addr);
        }
    }
    let _ = writeln!(s, "{cmd}");
    s
}
