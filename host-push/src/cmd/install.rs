//! `host-push install EXT --port PORT [--name N] [--boot] [--xip]`: pack, check against the device,
//! stream into its flash with a progress bar, resuming where the device's flash got to.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use llext_transports::client::{Client, InstallOptions, Installed, Listing};
use llext_transports::protocol::ErrorCode;
use serde_json::json;

use super::prepare::{Prepared, check_before_sending, prepare};
use crate::device::{self, DeviceArgs};
use crate::exit::{Failure, PROBLEMS, REFUSED, UNREACHABLE};
use crate::output;

/// Install an extension into the device's flash (tried at its next boot; loaded at every boot
/// with --boot).
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The extension (a relocatable ELF object, packed on the fly)
    #[arg(value_name = "EXT")]
    ext: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
    /// Name on the device [default: the file stem]
    #[arg(long, short = 'n', value_name = "NAME")]
    name: Option<String>,
    /// Load it whenever the device starts (an update keeps the installed version's setting)
    #[arg(long, conflicts_with = "no_boot")]
    boot: bool,
    /// Do not load it at boot (clears the setting an update would otherwise keep)
    #[arg(long)]
    no_boot: bool,
    /// Its version number [default: a signed file's version, else one more than the installed
    /// one, or 1]
    #[arg(long, value_name = "N")]
    version: Option<u32>,
    /// Execute it in place: the device links it once into memory-mapped flash, so only its
    /// .data and .bss take RAM (it links against the firmware's exports only)
    #[arg(long)]
    xip: bool,
    /// Sign it with this Ed25519 key (PKCS#8 PEM) before sending, as its version
    #[arg(long, value_name = "KEY.pem")]
    sign: Option<PathBuf>,
    /// Print one JSON object on stdout (no progress bar)
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push install`: checks against the device, sends, keeps a copy, reports.
pub fn run(args: &InstallArgs) -> Result<()> {
    let ext = &args.ext;
    let mut prepared = prepare(ext, args.name.as_deref())?;
    let mut conn = device::connect(&args.device)?;
    let device_name = device::describe(&conn.info);
    let listing = storage_listing(&mut conn.client, &device_name)?;
    let installed = listing
        .extensions
        .iter()
        .find(|e| e.name == prepared.name)
        .and_then(|e| e.stored.as_ref())
        .map(|s| s.active.version);
    let version =
        super::sign::install_version(&mut prepared, args.sign.as_deref(), args.version, installed)?;
    let (name, packed) = (prepared.name.clone(), &prepared.packed);
    if packed.len() as u64 > listing.slot_size as u64 {
        return Err(Failure::new(
            PROBLEMS,
            format!(
                "{} packed is {}, larger than a flash slot of {device_name} ({}); nothing was sent",
                ext.display(),
                output::bytes(packed.len() as u64),
                output::bytes(listing.slot_size as u64)
            ),
        )
        .hint("make the extension smaller (build with -Os, drop what it does not use), or give the firmware's storage layout larger slots")
        .into());
    }
    let deferred = check_symbols(args, &prepared, &mut conn, &listing, &device_name)?;

    let was_boot = listing
        .extensions
        .iter()
        .any(|e| e.name == name && e.stored.as_ref().is_some_and(|s| s.boot));
    let opts = InstallOptions {
        boot: args.boot || (was_boot && !args.no_boot),
        version,
        xip: args.xip,
    };
    let started = Instant::now();
    let done = send(&mut conn.client, &name, packed, opts, args.json)?;
    let took = started.elapsed();
    let crc = llext_transports::protocol::CRC32.checksum(packed);
    let kept = crate::kept::keep(&name, packed, &prepared.bytes)
        .and_then(|_| crate::kept::note_version(&name, done.version, crc));
    if let Err(e) = kept {
        eprintln!(
            "warning: could not keep a copy in {} for symbolized boot reports ({e})",
            crate::kept::dir().display()
        );
    }
    if args.json {
        output::json(&json!({
            "ok": true,
            "port": conn.port,
            "device": conn.info,
            "name": name,
            "file": ext.display().to_string(),
            "install": done,
            "install_ms": output::ms(took),
            "deferred_symbols": deferred,
            "log": output::device_lines(),
        }));
        return Ok(());
    }
    print_installed(&name, &done, &device_name, took, args.xip);
    Ok(())
}

/// The two lines an install prints: what was sent (stderr), then the result (stdout).
fn print_installed(name: &str, done: &Installed, device_name: &str, took: Duration, xip: bool) {
    eprintln!(
        "installed {name} v{} on {device_name}: {}",
        done.version,
        transfer(done, took)
    );
    let place = if xip { ", in place (flash)" } else { "" };
    let boot = if done.boot {
        "loads at boot"
    } else {
        "not loaded at boot (install with --boot for that)"
    };
    let previous = done
        .previous
        .map_or(String::new(), |v| format!("; v{v} kept to roll back to"));
    println!(
        "{name} v{}: {}, slot {}{place}, {boot}{previous}",
        done.version, done.state, done.slot
    );
}

/// The device's flash listing; a device without flash storage is refused before sending.
fn storage_listing(client: &mut Client, device_name: &str) -> Result<Listing> {
    let listing = client.list().map_err(super::list::list_failure)?;
    if !listing.storage {
        return Err(Failure::new(
            REFUSED,
            format!("{device_name} keeps no extensions in flash; nothing was sent"),
        )
        .hint("push it instead (`host-push push`), or start sim-device with --flash FILE")
        .into());
    }
    Ok(listing)
}

/// Checks the file's undefined symbols against the device; returns those left to extensions.
/// Symbols the firmware lacks may come from extensions loaded now or at boot; a link in place
/// sees the firmware's exports only, so for it they are problems before sending.
fn check_symbols(
    args: &InstallArgs,
    prepared: &Prepared,
    conn: &mut device::Connection,
    listing: &Listing,
    device_name: &str,
) -> Result<Vec<String>> {
    let others: Vec<String> = listing
        .extensions
        .iter()
        .filter(|e| !args.xip && e.name != prepared.name)
        .filter(|e| e.loaded || e.stored.as_ref().is_some_and(|s| s.boot))
        .map(|e| e.name.clone())
        .collect();
    check_before_sending(
        &args.ext,
        prepared,
        &mut conn.client,
        &conn.info,
        &others,
        device_name,
        args.json,
    )
    .map_err(|e| match e.downcast::<Failure>() {
        Ok(f) if args.xip && f.details.iter().any(|d| d.starts_with("missing symbol")) => f
            .hint("--xip links against the firmware's exports only: install without --xip")
            .into(),
        Ok(f) => f.into(),
        Err(e) => e,
    })
}

/// Streams the file with a progress bar; a failure that can resume says so.
fn send(
    client: &mut Client,
    name: &str,
    packed: &[u8],
    opts: InstallOptions,
    json: bool,
) -> Result<Installed> {
    let bar = output::start_progress(packed.len() as u64, name, json);
    let result = client.install(name, packed, opts, |p| bar.set_position(p.acked));
    output::clear_progress();
    Ok(result.map_err(|e| {
        let f = Failure::client(e, &format!("install {name}"));
        let resumable = f.code == UNREACHABLE
            || matches!(f.device, Some(ErrorCode::Timeout | ErrorCode::Interrupted));
        if resumable {
            f.hint("install again: the device resumes from what its flash already holds")
        } else if opts.xip && f.device == Some(ErrorCode::OutOfMemory) {
            // In place, .data and .bss take the RAM reserved for installed extensions, which
            // installed (not loaded) extensions hold: unloading frees none of it.
            f.hint("`host-push remove` an in-place extension you no longer need (`host-push list`), or install this one without --xip")
        } else {
            f
        }
    })?)
}

/// What went over the link: the whole file, the rest of a cut-off install, or nothing.
fn transfer(done: &Installed, took: Duration) -> String {
    if done.unchanged {
        "already installed: nothing sent".to_string()
    } else if done.resumed_from >= done.file_bytes && done.sent_bytes == 0 {
        format!(
            "its {} were already in flash: nothing sent",
            output::bytes(done.file_bytes)
        )
    } else if done.resumed_from > 0 {
        format!(
            "resumed at byte {}: sent {} of {} in {} ({})",
            done.resumed_from,
            output::bytes(done.sent_bytes),
            output::bytes(done.file_bytes),
            output::duration(took),
            output::rate(done.sent_bytes, took)
        )
    } else {
        format!(
            "{} in {} ({})",
            output::bytes(done.file_bytes),
            output::duration(took),
            output::rate(done.file_bytes, took)
        )
    }
}
