//! `host-push keygen -o KEY.pem [--public PUB.pem]`: a new Ed25519 signing key.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use llext_sign::host;
use serde_json::json;

use crate::exit::{Failure, OTHER};
use crate::output;

/// Make an Ed25519 signing key (PKCS#8 PEM, as `imgtool keygen -t ed25519` writes) and print its
/// public key in PEM and as a Rust array for the firmware's trusted keys.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the private key (created with mode 0600; never overwritten)
    #[arg(short, long, value_name = "KEY.pem")]
    output: PathBuf,
    /// Also write the public key (SPKI PEM) here, for `sim-device --trust`
    #[arg(long, value_name = "PUB.pem")]
    public: Option<PathBuf>,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Writes `text` to a new file `path` (`mode` on Unix), refusing to replace one.
pub fn create(path: &PathBuf, text: &str, mode: u32) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| {
        let f = Failure::new(OTHER, format!("cannot create {}: {e}", path.display()));
        match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                f.hint("keys are never overwritten: remove it or pick another name")
            }
            _ => f,
        }
    })?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `host-push keygen`.
pub fn run(args: &KeygenArgs) -> Result<()> {
    let key = host::generate()?;
    let public = key.verifying_key();
    create(&args.output, &host::private_pem(&key), 0o600)?;
    let public_pem = host::public_pem(&public);
    if let Some(p) = &args.public {
        create(p, &public_pem, 0o644)?;
    }
    let id = host::key_id(&public).to_string();
    if args.json {
        output::json(&json!({
            "ok": true,
            "key": args.output.display().to_string(),
            "public": args.public.as_ref().map(|p| p.display().to_string()),
            "key_id": id,
            "public_pem": public_pem,
            "public_key": hex(public.as_bytes()),
        }));
        return Ok(());
    }
    eprintln!(
        "wrote {} (key id {id}): keep it secret",
        args.output.display()
    );
    if let Some(p) = &args.public {
        eprintln!("wrote {} (sim-device --trust {})", p.display(), p.display());
    }
    print!("{public_pem}{}", host::rust_array(&public));
    Ok(())
}

/// `b` as lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}
