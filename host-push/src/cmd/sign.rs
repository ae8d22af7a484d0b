//! `host-push sign EXT --key KEY.pem [--version V] -o OUT`, and the signing that `--sign KEY.pem`
//! does on the fly for `push` and `install`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use llext_sign::host;
use serde_json::json;

use super::prepare::{Prepared, prepare};
use crate::exit::{Failure, OTHER, PROBLEMS};
use crate::output;

/// Pack an extension and sign it with an Ed25519 key: the output is still an ELF (readelf reads
/// it) with the signature in its last section, `.llext.sig`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The extension (a relocatable ELF object, packed first)
    #[arg(value_name = "EXT")]
    ext: PathBuf,
    /// The private key (PKCS#8 PEM: `host-push keygen` or `imgtool keygen -t ed25519`)
    #[arg(long, value_name = "KEY.pem")]
    key: PathBuf,
    /// The signed version (installs refuse one older than the version installed)
    #[arg(long, value_name = "V", default_value_t = 1)]
    version: u32,
    /// The name it is signed for: the device refuses it under another [default: the file stem]
    #[arg(long, short = 'n', value_name = "NAME")]
    name: Option<String>,
    /// The signed file
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Reads the private key in `path`.
pub fn read_key(path: &Path) -> Result<host::PrivateKey, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(OTHER, format!("cannot read key {}: {e}", path.display())))?;
    host::read_private_pem(&text)
        .map_err(|e| Failure::new(OTHER, format!("{}: {e}", path.display())))
}

/// Signs `p.packed` in place as `p.name`, version `version`, with the key in `key`; returns
/// the key id.
pub fn sign_prepared(p: &mut Prepared, key: &Path, version: u32) -> Result<String, Failure> {
    let k = read_key(key)?;
    p.packed = host::sign(&p.packed, &p.name, version, &k)
        .map_err(|e| Failure::new(PROBLEMS, format!("cannot sign {}: {e}", p.name)))?;
    Ok(host::key_id(&k.verifying_key()).to_string())
}

/// The version an install asks for: `--version`, else a signed file's own version, else (when
/// signing with `key`) one more than the `installed` one; signs `p` with `key` as that version.
pub fn install_version(
    p: &mut Prepared,
    key: Option<&Path>,
    version: Option<u32>,
    installed: Option<u32>,
) -> Result<Option<u32>, Failure> {
    let Some(key) = key else {
        let signed = host::inspect(&p.packed).and_then(|s| s.trailer.map(|t| t.version));
        return Ok(version.or(signed));
    };
    let v = version.unwrap_or_else(|| installed.map_or(1, |v| v.saturating_add(1)));
    sign_prepared(p, key, v)?;
    Ok(Some(v))
}

/// What `check` says of a file's signature: a line, and the JSON (`null`: not signed).
pub fn describe(file: &[u8]) -> (String, serde_json::Value) {
    match host::inspect(file) {
        None => ("not signed".into(), serde_json::Value::Null),
        Some(host::Signed { trailer: None, .. }) => (
            "has a signature section that is damaged or cut short: sign it again".into(),
            json!({ "damaged": true }),
        ),
        Some(host::Signed {
            name,
            trailer: Some(t),
        }) => {
            let name = name.unwrap_or_default();
            (
                format!(
                    "signed by key {} as `{name}` version {}",
                    t.key_id, t.version
                ),
                json!({ "key_id": t.key_id.to_string(), "name": name, "version": t.version }),
            )
        }
    }
}

/// Runs `host-push sign`.
pub fn run(args: &SignArgs) -> Result<()> {
    let mut p = prepare(&args.ext, args.name.as_deref())?;
    let id = sign_prepared(&mut p, &args.key, args.version)?;
    std::fs::write(&args.output, &p.packed)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    if args.json {
        output::json(&json!({
            "ok": true,
            "input": args.ext.display().to_string(),
            "output": args.output.display().to_string(),
            "name": p.name,
            "version": args.version,
            "key_id": id,
            "output_bytes": p.packed.len(),
        }));
    } else {
        eprintln!(
            "signed {} v{} with key {id}: {} ({})",
            p.name,
            args.version,
            args.output.display(),
            output::bytes(p.packed.len() as u64)
        );
    }
    Ok(())
}
