//! What `push` and `install` do before a byte is sent: read the file, name it, pack it, and
//! check it against the device.

use std::path::Path;

use llext_loader::pack::pack;
use llext_transports::client::{Client, DeviceInfo};

use super::check;
use crate::exit::{Failure, OTHER, PROBLEMS};
use crate::output;

/// Longest extension name a device accepts.
pub const MAX_NAME: usize = 32;

/// Subcommand names: a file named like one must be written `./NAME`.
pub const SUBCOMMANDS: &[&str] = &[
    "push", "status", "call", "unload", "install", "list", "remove", "confirm", "rollback",
    "check", "gdb", "monitor", "ports", "pack", "link", "keygen", "sign", "build", "run", "help",
];

/// An extension read, named and packed, ready to check and send.
pub struct Prepared {
    /// The name it gets on the device.
    pub name: String,
    /// The file as read.
    pub bytes: Vec<u8>,
    /// Its stream-ordered form, what goes over the link.
    pub packed: Vec<u8>,
}

/// Reads `ext`, names it (`name`, the name it was signed for, or the file stem) and packs it.
pub fn prepare(ext: &Path, name: Option<&str>) -> Result<Prepared, Failure> {
    let bytes = std::fs::read(ext).map_err(|e| {
        let f = Failure::new(OTHER, format!("cannot read {}: {e}", ext.display()));
        match ext.to_str() {
            Some(s) if SUBCOMMANDS.contains(&s) => f.hint(format!(
                "options go after the subcommand: `host-push {s} --port PORT`"
            )),
            _ => f,
        }
    })?;
    let signed_for = llext_sign::host::inspect(&bytes).and_then(|s| s.name);
    let name = match name.map(String::from).or(signed_for) {
        Some(n) => n,
        None => ext
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Failure::new(
            OTHER,
            format!("extension name `{name}` must be 1 to {MAX_NAME} bytes"),
        )
        .hint("pass --name NAME"));
    }
    let packed = pack(&bytes, &Default::default()).map_err(|e| {
        Failure::new(PROBLEMS, format!("cannot pack {}: {e}", ext.display()))
            .hint("is it a relocatable object (`cc -c`)?")
    })?;
    Ok(Prepared {
        name,
        bytes,
        packed,
    })
}

/// Checks the extension against the device's architecture, float ABI and exports, asked from
/// `client` (symbols it
/// lacks may come from the extensions named in `others`); every problem fails before sending.
/// Returns the symbols left for the device to find in its extensions.
pub fn check_before_sending(
    ext: &Path,
    p: &Prepared,
    client: &mut Client,
    info: &DeviceInfo,
    others: &[String],
    device_name: &str,
    json: bool,
) -> anyhow::Result<Vec<String>> {
    let exports = client
        .exports()
        .map_err(|e| Failure::client(e, "exports"))?;
    let found = check::against_device(&p.bytes, info, &exports, others)?;
    if !found.problems.is_empty() {
        return Err(Failure::new(
            PROBLEMS,
            format!(
                "{} would not load on {device_name}: {}; nothing was sent",
                ext.display(),
                crate::output::count(found.problems.len() as u64, "problem")
            ),
        )
        .details(found.problems)
        .into());
    }
    if !found.deferred.is_empty() && !json {
        output::note(&format!("note: {}", check::deferred_note(&found.deferred)));
    }
    Ok(found.deferred)
}
