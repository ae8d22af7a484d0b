//! `host-push status`: the device, its memory, and the loaded extensions with their state,
//! regions, sizes and dependencies.

use anyhow::Result;
use clap::Args;
use llext_transports::client::{BootReportEvent, ExtensionStatus, Status};
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::faultreport;
use crate::output::{self, bytes};
use crate::placed::Placed;

/// Show the device and its loaded extensions.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push status`.
pub fn run(args: &StatusArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let st = conn
        .client
        .status()
        .map_err(|e| Failure::client(e, "status"))?;
    // The boot report of a device with flash storage (an older or flash-less device has none).
    let listing = conn.client.list().ok().filter(|l| l.storage);
    let mut boot_report = listing.as_ref().map(|l| l.boot_report.clone());
    if let Some(events) = &mut boot_report {
        crate::bootfault::symbolize(&mut conn.client, events);
    }
    let placed: Vec<Option<Placed>> = st
        .extensions
        .iter()
        .map(|e| Placed::query(&mut conn.client, &e.name).ok())
        .collect();
    if args.json {
        print_json(&conn, &st, &placed, &boot_report);
        return Ok(());
    }
    let info = &conn.info;
    println!(
        "{} on {}, protocol {}",
        device::describe(info),
        conn.port,
        info.version
    );
    let free = st
        .free_memory
        .map_or("unknown".to_string(), |f| format!("{} free", bytes(f)));
    println!(
        "  memory: {} used, {free}; extensions: {} of {}",
        bytes(st.used_memory),
        st.extensions.len(),
        st.max_extensions
    );
    println!(
        "  exports: {} (table {:#010x}); pushes: {} ok, {} failed; bad frames: {}",
        info.exports, info.exports_id, st.pushes_ok, st.pushes_failed, st.bad_frames
    );
    println!("  {}", trust_line(&st.trust));
    if let Some(events) = &boot_report {
        super::list::print_boot_report(events);
    }
    if st.extensions.is_empty() {
        println!("no extensions loaded");
        return Ok(());
    }
    println!("extensions:");
    for (e, p) in st.extensions.iter().zip(&placed) {
        let fault = e.fault.as_ref().map(|f| {
            let installed = listing
                .as_ref()
                .and_then(|l| faultreport::installed_in(l, &e.name, p.as_ref()));
            faultreport::lines_of(&mut conn.client, &e.name, p.as_ref(), installed, f)
        });
        print_extension(e, p.as_ref(), fault.as_deref());
    }
    Ok(())
}

/// `--json`: the status, each extension with its sections and kept ELF, the boot report.
fn print_json(
    conn: &device::Connection,
    st: &Status,
    placed: &[Option<Placed>],
    boot_report: &Option<Vec<BootReportEvent>>,
) {
    let extensions: Vec<serde_json::Value> = st
        .extensions
        .iter()
        .zip(placed)
        .map(|(e, p)| {
            let mut v = json!(e);
            v["sections"] = p.as_ref().map_or(json!(null), |p| json!(p.sections));
            v["elf"] = json!(
                p.as_ref()
                    .and_then(|p| p.kept.as_ref())
                    .map(|k| k.elf.display().to_string())
            );
            v
        })
        .collect();
    output::json(&json!({
        "ok": true,
        "port": conn.port,
        "device": conn.info,
        "used_memory": st.used_memory,
        "free_memory": st.free_memory,
        "max_extensions": st.max_extensions,
        "pushes_ok": st.pushes_ok,
        "pushes_failed": st.pushes_failed,
        "bad_frames": st.bad_frames,
        "trust": st.trust,
        "extensions": extensions,
        "boot_report": boot_report,
    }));
}

/// One loaded extension: its line, its fault's lines if it faulted, its regions and sections.
fn print_extension(e: &ExtensionStatus, p: Option<&Placed>, fault: Option<&[String]>) {
    let deps = if e.dependencies.is_empty() {
        "no dependencies".to_string()
    } else {
        format!("uses {}", e.dependencies.join(", "))
    };
    println!(
        "  {}: {}, slot {}, {} image, use count {}, {deps}",
        e.name,
        e.state,
        e.slot,
        bytes(e.image_bytes as u64),
        e.use_count
    );
    if let Some(lines) = fault {
        for (i, l) in lines.iter().enumerate() {
            println!("    {}{l}", if i == 0 { "fault: " } else { "       " });
        }
    }
    for r in &e.regions {
        println!(
            "    {:<10} {:#018x}  {}",
            r.kind,
            r.addr,
            bytes(r.size as u64)
        );
    }
    for l in p.iter().flat_map(|p| p.lines()) {
        println!("      {l}");
    }
}

/// The device's signature policy in one line.
fn trust_line(t: &llext_transports::client::Trust) -> String {
    let yes = |b: bool, y: &'static str, n: &'static str| if b { y } else { n };
    let keys = match t.keys {
        0 => "no trusted keys".to_string(),
        n => {
            let more = if n as usize > t.key_ids.len() {
                ", ..."
            } else {
                ""
            };
            format!("trusted keys: {n} ({}{more})", t.key_ids.join(", "))
        }
    };
    format!(
        "signatures: unsigned pushes {}, unsigned installs {}, older versions {}, {} at boot; {keys}",
        yes(t.unsigned_pushes, "accepted", "refused"),
        yes(t.unsigned_installs, "accepted", "refused"),
        yes(t.allow_rollback, "accepted", "refused"),
        yes(t.verify_at_boot, "checked", "not checked"),
    )
}
