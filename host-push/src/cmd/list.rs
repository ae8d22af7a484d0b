//! `host-push list`: what the device has installed in flash (versions, states, slots, boot
//! flag) and loaded, an install cut off, and the report of its last boot.

use anyhow::Result;
use clap::Args;
use llext_transports::client::{BootReportEvent, ListedExtension, StoredImage};
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::output::{self, bytes};

/// List the extensions installed in the device's flash and loaded, and its boot report.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push list`.
pub fn run(args: &ListArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let mut l = conn.client.list().map_err(list_failure)?;
    crate::bootfault::symbolize(&mut conn.client, &mut l.boot_report);
    if args.json {
        output::json(&json!({
            "ok": true,
            "port": conn.port,
            "device": conn.info,
            "storage": l.storage,
            "slots": l.slots,
            "free_slots": l.free_slots,
            "slot_size": l.slot_size,
            "interrupted": l.interrupted,
            "extensions": l.extensions,
            "boot_report": l.boot_report,
        }));
        return Ok(());
    }
    let dev = device::describe(&conn.info);
    if l.storage {
        println!(
            "{dev} on {}: flash of {} of {}, {} free",
            conn.port,
            crate::output::count(l.slots as u64, "slot"),
            bytes(l.slot_size as u64),
            l.free_slots
        );
    } else {
        println!("{dev} on {}: no flash storage", conn.port);
    }
    let (stored, pushed): (Vec<_>, Vec<_>) = l.extensions.iter().partition(|e| e.stored.is_some());
    if l.storage {
        if stored.is_empty() {
            println!("nothing installed");
        } else {
            println!("installed:");
            for e in &stored {
                println!("  {}", describe(e));
            }
        }
    }
    if !pushed.is_empty() {
        println!("loaded, not installed:");
        for e in &pushed {
            println!("  {}", e.name);
        }
    } else if !l.storage {
        println!("no extensions loaded");
    }
    if let Some(i) = &l.interrupted {
        println!(
            "interrupted install: {}, {} of {} received (install the same file to resume)",
            i.name,
            bytes(i.offset as u64),
            bytes(i.total_len as u64)
        );
    }
    print_boot_report(&l.boot_report);
    Ok(())
}

/// A failed `List`: a device that does not know the request predates flash installs.
pub fn list_failure(e: llext_transports::client::ClientError) -> Failure {
    let f = Failure::client(e, "list");
    if f.device == Some(llext_transports::protocol::ErrorCode::BadRequest) {
        f.hint(
            "this firmware predates flash installs (`list`, `install`): update it, or push instead",
        )
    } else {
        f
    }
}

/// `hello v2 confirmed, slot 3, 1,234 B, crc 1c2f07f3, boot, loaded; previous v1 ...`.
pub fn describe(e: &ListedExtension) -> String {
    let Some(s) = &e.stored else {
        return format!("{}: loaded, not installed", e.name);
    };
    let mut out = format!("{} {}", e.name, image(&s.active));
    if s.boot {
        out += ", loads at boot";
    }
    out += if e.loaded { ", loaded" } else { ", not loaded" };
    if !s.dependencies.is_empty() {
        out += &format!(", after {}", s.dependencies.join(", "));
    }
    if let Some(p) = &s.previous {
        out += &format!("; previous {}", image(p));
    }
    out
}

fn image(i: &StoredImage) -> String {
    format!(
        "v{} {}, slot {}{}, {}, crc {:08x}",
        i.version,
        i.state,
        i.slot,
        if i.in_place { " (in place)" } else { "" },
        bytes(i.len as u64),
        i.crc32
    )
}

/// Prints the boot report (nothing when it is empty).
pub fn print_boot_report(events: &[BootReportEvent]) {
    if events.is_empty() {
        return;
    }
    println!("boot report:");
    for e in events {
        println!("  {}", e.text);
    }
}
