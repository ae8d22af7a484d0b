//! `host-push check EXT --exports FILE`: every problem that would stop the extension loading,
//! found on the PC before a byte is sent.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use llext_loader::Error;
use llext_loader::arch::Arch;
use llext_loader::link::link;
use llext_loader::symbols::ExportList;

use crate::elfinfo;
use crate::exports::ExportsFile;

/// Check that an extension would load against a firmware's exports, listing every problem.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The extension (a relocatable ELF object).
    ext: PathBuf,
    /// The firmware's exports (`NAME 0xADDRESS` per line, optional `# arch:`/`# float-abi:`).
    #[arg(long)]
    exports: String,
    /// Print the problems as JSON.
    #[arg(long)]
    json: bool,
}

/// Problems found in one extension.
pub fn problems(bytes: &[u8], exports: &ExportsFile) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let arch = elfinfo::arch_of(bytes)?;
    if let Some(want) = &exports.arch
        && want != arch.name()
    {
        out.push(format!(
            "architecture: the extension is built for {}, the device runs {want}",
            arch.name()
        ));
        return Ok(out);
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
    const BASE: u64 = 0x2000_0000;
    let mut list = exports.list.clone();
    for _ in 0..10_000 {
        match link(&work, &list, BASE, Some(arch)) {
            Ok(_) => break,
            Err(e) => {
                let (section, offset, r_type, what) = match e.error {
                    Error::MissingSymbols { .. } => {
                        for m in &e.missing {
                            out.push(format!(
                                "missing symbol: {m} (the firmware does not export it)"
                            ));
                        }
                        let known = list.iter().map(|(n, a)| (n.to_string(), a));
                        let stand_ins = e
                            .missing
                            .iter()
                            .map(|m| (m.clone(), BASE | u64::from(arch == Arch::Arm)));
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
    Ok(out)
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
    let exports = ExportsFile::read(&args.exports)?;
    let found = problems(&bytes, &exports)?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"file": args.ext.display().to_string(), "ok": found.is_empty(), "problems": found})
        );
    } else if found.is_empty() {
        println!("{}: would load", args.ext.display());
    } else {
        eprintln!("{}: {} problem(s):", args.ext.display(), found.len());
        for p in &found {
            eprintln!("  - {p}");
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(crate::cmd::Quiet.into())
    }
}
