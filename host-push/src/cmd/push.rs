//! `host-push EXT --port PORT [--name N] [--call SYM]...`: pack, check against the device, push
//! with a progress bar, load, and call.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use llext_transports::client::Client;
use serde_json::json;

use super::prepare::{check_before_sending, prepare};
use crate::device::{self, DeviceArgs};
use crate::exit::{Failure, REFUSED};
use crate::kept;
use crate::kept::Kept;
use crate::output;
use crate::placed::Placed;

/// Push an extension to a device, load it, and optionally call functions in it.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The extension (a relocatable ELF object, packed on the fly)
    #[arg(required = true, value_name = "EXT")]
    pub ext: Option<PathBuf>,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Name on the device [default: the file stem]
    #[arg(long, short = 'n', value_name = "NAME")]
    pub name: Option<String>,
    /// After loading, call `int SYM(void)` and print `SYM = VALUE` (repeatable)
    #[arg(long, value_name = "SYM")]
    pub call: Vec<String>,
    /// Replace an extension of the same name: the file is checked first, then the loaded
    /// version unloaded and the new one pushed; if the device refuses the new one, the old one
    /// is pushed back from the copy host-push kept
    #[arg(long)]
    pub replace: bool,
    /// Sign it with this Ed25519 key (PKCS#8 PEM) before sending
    #[arg(long, value_name = "KEY.pem")]
    pub sign: Option<PathBuf>,
    /// Print the load log: every section placed (name, region, address, size, relocations
    /// applied) and the veneers and GOT entries made
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print one JSON object on stdout (no progress bar)
    #[arg(long)]
    pub json: bool,
}

/// Runs the push.
pub fn run(args: &PushArgs) -> Result<()> {
    let ext = args.ext.as_ref().context("no extension given")?;
    let mut prepared = prepare(ext, args.name.as_deref())?;
    if let Some(key) = &args.sign {
        super::sign::sign_prepared(&mut prepared, key, 1)?;
    }
    let (name, packed) = (prepared.name.clone(), &prepared.packed);

    let mut conn = device::connect(&args.device)?;
    let device_name = device::describe(&conn.info);
    let client = &mut conn.client;
    let status = client.status().map_err(|e| Failure::client(e, "status"))?;
    let loaded: Vec<String> = status.extensions.iter().map(|e| e.name.clone()).collect();
    let replacing = loaded.contains(&name);
    if replacing && !args.replace {
        return Err(Failure::new(
            REFUSED,
            format!("`{name}` is already loaded on {device_name}; nothing was sent"),
        )
        .hint(format!(
            "push with --replace, or run `host-push unload {name}` first"
        ))
        .into());
    }
    // Checked before anything is unloaded: a file the device would refuse costs nothing.
    let others: Vec<String> = loaded.into_iter().filter(|n| n != &name).collect();
    let deferred = check_before_sending(
        ext,
        &prepared,
        client,
        &conn.info,
        &others,
        &device_name,
        args.json,
    )?;
    let previous = if replacing {
        Some(unload_for_replace(client, &name)?)
    } else {
        None
    };

    let bar = output::start_progress(packed.len() as u64, &name, args.json);
    let started = Instant::now();
    conn.marks.arm_push();
    let result = client.push(&name, packed, |p| bar.set_position(p.acked));
    output::clear_progress();
    let pushed = match result {
        Ok(p) => p,
        Err(e) => {
            let f = Failure::client(e, &format!("push {name}"));
            return Err(push_back(client, &name, previous, f).into());
        }
    };
    let took = started.elapsed();
    if !args.json {
        eprintln!(
            "pushed {name} to {device_name}: {} in {} ({}), {} image, {}",
            output::bytes(pushed.file_bytes),
            output::duration(took),
            output::rate(pushed.file_bytes, took),
            output::bytes(pushed.image_bytes as u64),
            output::count(pushed.relocations as u64, "relocation"),
        );
    }

    if let Err(e) = kept::keep(&name, packed, &prepared.bytes) {
        eprintln!(
            "warning: could not keep a copy in {} for `host-push gdb` ({e})",
            kept::dir().display()
        );
    }
    let placed = load_log(client, &name, args.verbose, args.json);

    let mut calls = Vec::new();
    for sym in &args.call {
        let value = match client.call(&name, sym) {
            Ok(v) => v,
            Err(e) => {
                let doing = format!("call {name} {sym}");
                return Err(crate::faultreport::call_failure(client, &name, e, &doing));
            }
        };
        if !args.json {
            println!("{sym} = {value}");
        }
        calls.push(json!({"symbol": sym, "value": value}));
    }

    if args.json {
        output::json(&json!({
            "ok": true,
            "port": conn.port,
            "device": conn.info,
            "name": name,
            "file": ext.display().to_string(),
            "file_bytes": pushed.file_bytes,
            "image_bytes": pushed.image_bytes,
            "relocations": pushed.relocations,
            "symbols": pushed.symbols,
            "slot": pushed.slot,
            "resent_bytes": pushed.resent_bytes,
            "push_ms": output::ms(took),
            "bytes_per_second": (pushed.file_bytes as f64 / took.as_secs_f64()).round(),
            "first_byte_ms": conn.marks.first_byte().map(output::ms),
            "first_push_byte_ms": conn.marks.first_push_byte().map(output::ms),
            "total_ms": output::ms(output::since_start()),
            "deferred_symbols": deferred,
            "placed": placed.as_ref().map(Placed::json),
            "calls": calls,
            "log": output::device_lines(),
        }));
    }
    Ok(())
}

/// `--replace`: finds the copy host-push kept of the version loaded now (to push it back if the
/// new one fails), then unloads it.
fn unload_for_replace(client: &mut Client, name: &str) -> Result<Option<Kept>> {
    let kept = Placed::query(client, name).ok().and_then(|p| p.kept);
    client
        .unload(name)
        .map_err(|e| Failure::client(e, &format!("unload {name} (--replace)")))?;
    Ok(kept)
}

/// A `--replace` whose new version the device refused: the version it replaced is pushed back
/// from the copy host-push kept, and `f` says so (or why it could not be).
fn push_back(
    client: &mut Client,
    name: &str,
    previous: Option<Option<Kept>>,
    f: Failure,
) -> Failure {
    let Some(previous) = previous else {
        return f;
    };
    let restored = match (&previous, f.device) {
        (Some(k), Some(_)) => std::fs::read(&k.packed)
            .map_err(|e| e.to_string())
            .and_then(|bytes| client.push(name, &bytes, |_| {}).map_err(|e| e.to_string())),
        (Some(_), None) => Err("the link failed".to_string()),
        (None, _) => Err(
            "host-push kept no copy of it (pushed from elsewhere, or loaded at boot)".to_string(),
        ),
    };
    let mut details = f.details.clone();
    match restored {
        Ok(_) => details.push(format!(
            "the version it replaced was pushed back from host-push's copy (its constructors ran again): `{name}` is loaded as before"
        )),
        Err(why) => details.push(format!(
            "the version it replaced was unloaded and could not be pushed back: {why}"
        )),
    }
    f.details(details)
}

/// Where the sections went, asked for `-v` (printed) and `--json`; a device that cannot say
/// (an older firmware) only gets a note.
fn load_log(client: &mut Client, name: &str, verbose: bool, json: bool) -> Option<Placed> {
    if !verbose && !json {
        return None;
    }
    match Placed::query(client, name) {
        Ok(p) => {
            if verbose && !json {
                eprintln!("load log of {name} (sections placed):");
                for l in p.lines() {
                    eprintln!("  {l}");
                }
                // The regions, with the loader's own (veneers and GOT entries: `trampoline`).
                let st = client.status().ok();
                let ext = st
                    .iter()
                    .flat_map(|s| &s.extensions)
                    .find(|e| e.name == name);
                for r in ext.iter().flat_map(|e| &e.regions) {
                    let what = if r.kind == "trampoline" {
                        format!(" (veneers and GOT entries: {} made)", p.trampolines)
                    } else {
                        String::new()
                    };
                    let size = crate::output::bytes(r.size as u64);
                    eprintln!("  region {:<10} {:#010x}  {size}{what}", r.kind, r.addr);
                }
            }
            Some(p)
        }
        Err(e) => {
            if verbose && !json {
                eprintln!("load log of {name}: the device did not say where sections went ({e})");
            }
            None
        }
    }
}
