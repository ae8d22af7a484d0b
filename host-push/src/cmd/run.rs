//! `host-push run`: the `cargo run` runner of Rust extension crates (`runner = "host-push run"`
//! in `.cargo/config.toml`): build the extension, push it in place of the running version, call
//! its entry and show the device log.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::push::{self, PushArgs};
use crate::device::DeviceArgs;
use crate::rustext::{self, Options};

/// Build a Rust extension crate, push it (replacing the version loaded), call its entry and
/// print the device's log lines: what `cargo run` does with `runner = "host-push run"`.
///
/// PORT comes from --port, else the LLEXT_PORT environment variable (which `.cargo/config.toml`
/// can set in `[env]`), else the only USB serial port.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// What cargo built (`target/TRIPLE/PROFILE/NAME`, cargo passes it): gives the target and
    /// the profile when --target and --release do not.
    #[arg(value_name = "ARTIFACT")]
    artifact: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
    /// The crate's Cargo.toml [default: $CARGO_MANIFEST_DIR's (set by cargo run), else the
    /// current directory's].
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Target triple [default: from ARTIFACT, else this PC's].
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Build with the release profile [default: from ARTIFACT].
    #[arg(long)]
    release: bool,
    /// The `int (void)` function to call.
    #[arg(long, default_value = "llext_main", value_name = "SYM")]
    entry: String,
    /// Sign the extension with this Ed25519 key (PKCS#8 PEM) before sending, as a push does.
    #[arg(long, value_name = "KEY.pem")]
    sign: Option<PathBuf>,
    /// Print one JSON object on stdout (the push's).
    #[arg(long)]
    pub json: bool,
    /// Arguments after ARTIFACT (`cargo run -- ARGS`); unused.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

/// Target triple and release flag read from `target/[TRIPLE/]PROFILE/NAME`.
fn from_artifact(artifact: &Path) -> (Option<String>, bool) {
    let profile_dir = artifact.parent();
    let release = profile_dir
        .and_then(Path::file_name)
        .is_some_and(|p| p == "release");
    let triple = profile_dir
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .filter(|n| rustext::is_target(n))
        .map(str::to_string);
    (triple, release)
}

/// Runs `host-push run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let (triple, release) = args
        .artifact
        .as_deref()
        .map_or((None, false), from_artifact);
    let manifest = args.manifest_path.clone().or_else(|| {
        std::env::var_os("CARGO_MANIFEST_DIR").map(|d| PathBuf::from(d).join("Cargo.toml"))
    });
    let target = args.target.clone().or(triple);
    let built = rustext::build(&Options {
        manifest_path: manifest.as_deref(),
        target: target.as_deref(),
        release: args.release || release,
    })?;
    let port = args
        .device
        .port
        .clone()
        .or_else(|| std::env::var("LLEXT_PORT").ok().filter(|p| !p.is_empty()));
    push::run(&PushArgs {
        ext: Some(built.object),
        device: DeviceArgs {
            port,
            baud: args.device.baud,
        },
        name: Some(built.name),
        call: vec![args.entry.clone()],
        replace: true,
        sign: args.sign.clone(),
        verbose: false,
        json: args.json,
    })
}
