//! Runs cargo to build the extension crate as a `staticlib` with fat LTO.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::Options;
use crate::exit::{Failure, OTHER, PROBLEMS};

/// The static library cargo produced.
pub struct StaticLib {
    /// `.../libNAME.a`.
    pub path: PathBuf,
    /// The library's crate name (`NAME`).
    pub name: String,
}

/// The cargo to run: the one that started us (`cargo run`), else `cargo` on the `PATH`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// This PC's target triple, as `rustc -vV` gives it.
pub fn host_triple() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(&rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("cannot run `{rustc} -vV`: is Rust installed (rustup.rs)?"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .context("`rustc -vV` printed no `host:` line")
}

/// Whether `name` is a target triple rustc knows (`rustc --print target-list`).
pub fn is_target(name: &str) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    Command::new(rustc)
        .args(["--print", "target-list"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == name)
        })
}

/// Builds the crate's library as a staticlib for `target` with fat LTO, one codegen unit,
/// `panic = "abort"` and line tables (set on the command line, over whatever the crate's profile
/// says).
pub fn build_staticlib(opts: &Options, target: &str) -> Result<StaticLib> {
    let profile = if opts.release { "release" } else { "dev" };
    let mut cmd = Command::new(cargo());
    cmd.args(["rustc", "--lib", "--crate-type", "staticlib"])
        .args(["--message-format", "json-render-diagnostics"])
        .args(["--target", target]);
    if opts.release {
        cmd.arg("--release");
    }
    if let Some(m) = opts.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    for (key, value) in [
        ("lto", "\"fat\""),
        ("codegen-units", "1"),
        ("panic", "\"abort\""),
        // Line tables and function names, so faults and panics are reported by function and
        // line (they stay on the PC: `pack` drops debug sections before sending).
        ("debug", "\"line-tables-only\""),
    ] {
        cmd.arg("--config")
            .arg(format!("profile.{profile}.{key}={value}"));
    }
    // Unwind tables are never used (panics abort) and would only be dropped by `pack`.
    cmd.args(["--", "-C", "force-unwind-tables=no"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run `{}`: is Rust installed (rustup.rs)?", cargo()))?;
    let stdout = child.stdout.take().context("cargo's output")?;
    let mut lib = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && let Some(found) = staticlib_of(&msg)
        {
            lib = Some(found);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        return Err(Failure::new(
            PROBLEMS,
            format!("cargo could not build the crate for {target}"),
        )
        .hint(missing_target_hint(target))
        .into());
    }
    match lib {
        Some(l) => Ok(l),
        None => bail!(Failure::new(OTHER, "cargo built no static library").hint(
            "is it a library crate (src/lib.rs)? `host-push build` needs `[lib]` in Cargo.toml"
        )),
    }
}

fn staticlib_of(msg: &Value) -> Option<StaticLib> {
    let kinds = msg["target"]["crate_types"].as_array()?;
    if !kinds.iter().any(|k| k == "staticlib") {
        return None;
    }
    let path = msg["filenames"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|f| f.ends_with(".a"))?;
    let name = msg["target"]["name"].as_str()?.replace('-', "_");
    Some(StaticLib {
        path: PathBuf::from(path),
        name,
    })
}

fn missing_target_hint(target: &str) -> String {
    format!(
        "cargo's messages are above; if it says the target may not be installed, run \
         `rustup target add {target}`; the crate must be `#![no_std]` with a `#[panic_handler]` \
         (llext-sdk has one)"
    )
}
