//! `host-push build`: a Rust extension crate to one relocatable object the loader accepts.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::output;
use crate::rustext::{self, Options};

/// Build a Rust extension crate (`#![no_std]`, a library) into one relocatable object and print
/// its path as the last line of standard output.
///
/// Cargo builds it as a staticlib with fat LTO and `panic = "abort"`; the compiler builtins it
/// calls (`__aeabi_*`, `memcpy`, ...) are taken into the object from its own build, and
/// sections nothing reaches from its exports, constructors and destructors are dropped.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The crate's Cargo.toml (the crate in the current directory if absent).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Target triple: thumbv6m-none-eabi, thumbv7m-none-eabi, thumbv7em-none-eabihf,
    /// thumbv8m.main-none-eabi, riscv32imac-unknown-none-elf, riscv32imc-unknown-none-elf, or
    /// this PC's (the default, for sim-device).
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Build with the release profile.
    #[arg(long)]
    release: bool,
    /// Print one JSON object on stdout (with the object's path as `object`).
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push build`.
pub fn run(args: &BuildArgs) -> Result<()> {
    let built = rustext::build(&Options {
        manifest_path: args.manifest_path.as_deref(),
        target: args.target.as_deref(),
        release: args.release,
    })?;
    let path = built.object.display().to_string();
    if args.json {
        output::json(&json!({
            "ok": true,
            "object": path,
            "name": built.name,
            "target": built.target,
            "profile": built.profile,
            "object_bytes": built.bytes,
            "loaded_bytes": built.loaded_bytes,
            "dropped_bytes": built.dropped_bytes,
            "builtins": built.builtins,
        }));
        return Ok(());
    }
    output::note(&format!(
        "built {} for {} ({}): {} B object, {} B loaded, {} B unreachable dropped, {} compiler builtins taken in",
        built.name,
        built.target,
        built.profile,
        built.bytes,
        built.loaded_bytes,
        built.dropped_bytes,
        built.builtins.len()
    ));
    println!("{path}");
    Ok(())
}
