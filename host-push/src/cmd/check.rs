//! `host-push check EXT --exports FILE` or `--port PORT`: every problem that would stop the
//! extension loading, found on the PC before a byte is sent, against an exports file or against
//! what a device says it exports and runs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use llext_loader::Error;
use llext_loader::arch::Arch;
use llext_loader::link::link;
use llext_loader::symbols::ExportList;
use llext_transports::client::{DeviceInfo, Export};
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::elfinfo;
use crate::exit::{Failure, PROBLEMS, Quiet};
use crate::exports::ExportsFile;
use crate::output;

/// Check that an extension would load, against a firmware's exports file or a connected device,
/// listing every problem.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The extension (a relocatable ELF object).
    ext: PathBuf,
    /// The firmware's exports (`NAME 0xADDRESS` per line, optional `# arch:`/`# float-abi:`),
    /// instead of asking a device.
    #[arg(long, value_name = "FILE", conflicts_with = "port")]
    exports: Option<String>,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Where a check links an extension when nothing says better (an SRAM-like address).
const DEFAULT_BASE: u64 = 0x2000_0000;

/// What a check found: problems, and the undefined symbols no export provides.
pub struct Report {
    /// Every problem but missing symbols.
    pub problems: Vec<String>,
    /// Undefined symbols the exports do not provide.
    pub missing: Vec<String>,
}

/// Problems found in one extension (missing symbols last).
pub fn problems(bytes: &[u8], exports: &ExportsFile) -> Result<Vec<String>> {
    let r = report(bytes, exports, DEFAULT_BASE)?;
    Ok(r.problems
        .into_iter()
        .chain(r.missing.iter().map(|m| missing_line(m, &exports.list)))
        .collect())
}

fn missing_line(name: &str, exports: &ExportList) -> String {
    crate::fingerprint::mismatch(name, exports)
        .unwrap_or_else(|| format!("missing symbol: {name} (the firmware does not export it)"))
}

/// What a device check found.
pub struct DeviceCheck {
    /// Problems that stop the load.
    pub problems: Vec<String>,
    /// Symbols the firmware does not export, left for the device to find in the extensions it
    /// has loaded (the protocol does not list an extension's symbols).
    pub deferred: Vec<String>,
}

/// Checks `bytes` against what a device runs: its architecture, float ABI and exports; with
/// extensions `loaded` on it, symbols the firmware lacks are deferred to the device.
pub fn against_device(
    bytes: &[u8],
    info: &DeviceInfo,
    exports: &[Export],
    loaded: &[String],
) -> Result<DeviceCheck> {
    let file = ExportsFile {
        list: ExportList::new(exports.iter().map(|e| (e.name.as_str(), e.addr))),
        arch: Some(info.arch.clone()),
        float_abi: info.float_abi.clone(),
    };
    // x86-64 devices (sim-device) place extensions near their code, like the host provider.
    let base = match info.arch.as_str() {
        "x86_64" => exports.iter().map(|e| e.addr & !0xfff).min(),
        _ => None,
    }
    .unwrap_or(DEFAULT_BASE);
    let r = report(bytes, &file, base)?;
    Ok(if loaded.is_empty() || r.missing.is_empty() {
        DeviceCheck {
            problems: r
                .problems
                .into_iter()
                .chain(r.missing.iter().map(|m| missing_line(m, &file.list)))
                .collect(),
            deferred: Vec::new(),
        }
    } else {
        DeviceCheck {
            problems: r.problems,
            deferred: r.missing,
        }
    })
}

/// The file as a device receives it: packed (stream order, unloaded sections and unused
/// undefined symbols dropped, RISC-V alignment relaxed as ld does), so `check` and `link`
/// see exactly what a device loads.
pub fn as_sent(bytes: &[u8]) -> Result<Vec<u8>> {
    llext_loader::pack::pack(bytes, &Default::default())
        .map_err(|e| anyhow::anyhow!("cannot pack: {e}"))
}

/// Links `bytes` (packed first, as a device receives them) at `base` against `exports` and
/// collects every problem.
pub fn report(bytes: &[u8], exports: &ExportsFile, base: u64) -> Result<Report> {
    let packed = as_sent(bytes)?;
    let bytes = &packed[..];
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let arch = elfinfo::arch_of(bytes)?;
    if let Some(want) = &exports.arch
        && want != arch.name()
    {
        out.push(format!(
            "architecture: the extension is built for {}, the device runs {want} (rebuild it for {want})",
            arch.name()
        ));
        return Ok(Report {
            problems: out,
            missing,
        });
    }
    if let (Some(want), Some(have)) = (&exports.float_abi, elfinfo::float_abi(bytes, arch))
        && want != have
    {
        out.push(format!(
            "float ABI: the extension uses the {have}-float ABI, the device the {want}-float ABI"
        ));
    }
    // Link at a plausible address; each relocation problem is neutralised in a copy so the next
    // one shows too.
    let mut work = bytes.to_vec();
    let names = elfinfo::section_names(bytes).unwrap_or_default();
    let name = |i: u32| {
        names
            .get(i as usize)
            .map_or(String::new(), |n| format!(" ({n})"))
    };
    // Missing symbols stand in at the extension's own address so relocations can be checked too.
    let mut list = exports.list.clone();
    for _ in 0..10_000 {
        match link(&work, &list, base, Some(arch)) {
            Ok(_) => break,
            Err(e) => {
                let (section, offset, r_type, what) = match e.error {
                    Error::MissingSymbols { .. } => {
                        missing.extend(e.missing.iter().cloned());
                        let known = list.iter().map(|(n, a)| (n.to_string(), a));
                        let stand_ins = e
                            .missing
                            .iter()
                            .map(|m| (m.clone(), base | u64::from(arch == Arch::Arm)));
                        let all: Vec<(String, u64)> = known.chain(stand_ins).collect();
                        list = ExportList::new(all.iter().map(|(n, a)| (n.as_str(), *a)));
                        continue;
                    }
                    Error::UnsupportedRelocation {
                        r_type,
                        type_name,
                        section,
                        offset,
                    } => (
                        section,
                        offset,
                        r_type,
                        format!("unsupported relocation {type_name} (type {r_type})"),
                    ),
                    Error::RelocationOverflow {
                        type_name,
                        section,
                        offset,
                        value,
                    } => {
                        // The type number is not in the error: neutralise by name lookup below.
                        let t = find_type(&work, section, offset);
                        (
                            section,
                            offset,
                            t,
                            format!("relocation {type_name} out of range (value {value:#x})"),
                        )
                    }
                    other => {
                        out.push(other.to_string());
                        break;
                    }
                };
                out.push(format!(
                    "{what} in section {section}{} at offset {offset:#x}",
                    name(section)
                ));
                let at = elfinfo::relocation_entry(&work, section, offset, r_type)
                    .context("internal: cannot find the relocation to continue checking")?;
                let is64 = work[4] == 2;
                let n = if is64 { 4 } else { 1 };
                work[at..at + n].fill(0);
            }
        }
    }
    Ok(Report {
        problems: out,
        missing,
    })
}

fn find_type(bytes: &[u8], section: u32, offset: u64) -> u32 {
    // Try the types a back-end may report as overflowing, first match wins.
    (1..256)
        .find(|&t| elfinfo::relocation_entry(bytes, section, offset, t).is_some())
        .unwrap_or(0)
}

/// Runs `host-push check`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let bytes =
        std::fs::read(&args.ext).with_context(|| format!("cannot read {}", args.ext.display()))?;
    let file = args.ext.display().to_string();
    let signature = super::sign::describe(&bytes);
    let (against, found, deferred) = match &args.exports {
        Some(path) => {
            let exports = ExportsFile::read(path)?;
            (path.clone(), problems(&bytes, &exports)?, Vec::new())
        }
        None => {
            let mut conn = device::connect(&args.device).map_err(|f| match &args.device.port {
                None => f.hint("pass --port PORT, or --exports FILE to check against a file"),
                Some(_) => f,
            })?;
            let loaded: Vec<String> = conn
                .client
                .status()
                .map_err(|e| Failure::client(e, "status"))?
                .extensions
                .into_iter()
                .map(|e| e.name)
                .collect();
            let exports = conn
                .client
                .exports()
                .map_err(|e| Failure::client(e, "exports"))?;
            let c = against_device(&bytes, &conn.info, &exports, &loaded)?;
            (device::describe(&conn.info), c.problems, c.deferred)
        }
    };
    if args.json {
        output::json(&json!({
            "file": file,
            "against": against,
            "ok": found.is_empty(),
            "problems": found,
            "deferred_symbols": deferred,
            "signature": signature.1,
        }));
    } else if found.is_empty() {
        println!("{file}: {}", signature.0);
        println!("{file}: would load on {against}");
        if !deferred.is_empty() {
            eprintln!("note: {}", deferred_note(&deferred));
        }
    } else {
        println!("{file}: {}", signature.0);
        let n = crate::output::count(found.len() as u64, "problem");
        eprintln!("{file}: {n} against {against}:");
        for p in &found {
            eprintln!("  - {p}");
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(Quiet(PROBLEMS).into())
    }
}

/// Says which symbols are left for the device to find in its loaded extensions.
pub fn deferred_note(deferred: &[String]) -> String {
    let them = if deferred.len() == 1 { "it" } else { "them" };
    format!(
        "the firmware does not export {}: the device will look for {them} in its loaded extensions",
        deferred.join(", ")
    )
}
