//! `host-push link EXT --exports FILE --base ADDR --out DIR`: the loader's own linking on the PC,
//! for any architecture, written out as relocated section images and `layout.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use llext_loader::arch::Arch;
use llext_loader::link::link;
use llext_loader::memory::MemKind;
use llext_loader::symbols::parse_addr;
use serde_json::json;

use crate::elfinfo;
use crate::exports::ExportsFile;

/// Lay an extension out from an address exactly as a device would and write the result.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The extension (a relocatable ELF object).
    ext: PathBuf,
    /// The firmware's exports (`NAME 0xADDRESS` per line).
    #[arg(long)]
    exports: String,
    /// Where the first region starts (decimal or 0x hex).
    #[arg(long, value_parser = parse_base)]
    base: u64,
    /// Directory for `layout.json` and the section images (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Print the summary as one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

fn parse_base(s: &str) -> Result<u64, String> {
    parse_addr(s).ok_or_else(|| format!("`{s}` is not an address (decimal or 0x hex)"))
}

/// Runs `host-push link`.
pub fn run(args: &LinkArgs) -> Result<()> {
    let raw =
        std::fs::read(&args.ext).with_context(|| format!("cannot read {}", args.ext.display()))?;
    // Link what a device receives: the packed file (section indices below are the packed
    // file's; names say which is which).
    let bytes = super::check::as_sent(&raw)?;
    let exports = ExportsFile::read(&args.exports)?;
    let arch = elfinfo::arch_of(&bytes)?;
    let linked = link(&bytes, &exports.list, args.base, Some(arch)).map_err(|e| {
        let mut msg = e.error.to_string();
        if !e.missing.is_empty() {
            msg = format!(
                "{} undefined symbol(s): {}",
                e.missing.len(),
                e.missing.join(", ")
            );
        }
        anyhow::anyhow!(msg)
    })?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let names = elfinfo::section_names(&bytes)?;
    let mut sections = Vec::new();
    let mut addr_of = BTreeMap::new();
    for s in linked.sections.iter().filter(|s| s.size > 0) {
        let name = names.get(s.index as usize).cloned().unwrap_or_default();
        addr_of.insert(s.index as usize, s.addr);
        let file = match &s.bytes {
            Some(b) => {
                let f = format!("section-{}{}.bin", s.index, sanitize(&name));
                std::fs::write(args.out.join(&f), b)?;
                json!(f)
            }
            None => json!(null),
        };
        sections.push(
            json!({"index": s.index, "name": name, "addr": s.addr, "size": s.size, "file": file}),
        );
    }
    let mut extra = Vec::new();
    if let Some(x) = &linked.extra {
        let kind = if linked.arch == Arch::X86_64 {
            "got"
        } else {
            "veneers"
        };
        let f = format!("{kind}.bin");
        std::fs::write(args.out.join(&f), &x.bytes)?;
        extra.push(json!({"kind": kind, "addr": x.addr, "size": x.bytes.len(), "file": f}));
    }
    let mut symbols = serde_json::Map::new();
    for (name, sec, value) in elfinfo::defined_globals(&bytes)? {
        if let Some(a) = addr_of.get(&sec) {
            symbols.insert(name, json!(a + value));
        }
    }
    if linked.regions.iter().any(|r| r.0 == MemKind::Metadata) {
        bail!("internal: metadata region in a link result");
    }
    let layout = json!({
        "arch": linked.arch.name(),
        "sections": sections,
        "extra": extra,
        "symbols": symbols,
        "regions": linked.regions.iter().map(|(k, a, s)| json!({"kind": format!("{k:?}").to_lowercase(), "addr": a, "size": s})).collect::<Vec<_>>(),
    });
    std::fs::write(
        args.out.join("layout.json"),
        serde_json::to_string_pretty(&layout)?,
    )?;
    if args.json {
        crate::output::json(&json!({
            "ok": true,
            "file": args.ext.display().to_string(),
            "arch": linked.arch.name(),
            "base": args.base,
            "sections": linked.sections.len(),
            "bytes": linked.regions.iter().map(|r| r.2).sum::<usize>(),
            "layout": args.out.join("layout.json").display().to_string(),
        }));
        return Ok(());
    }
    println!(
        "linked {} for {} at {:#x}: {}, {} bytes; wrote {}",
        args.ext.display(),
        linked.arch.name(),
        args.base,
        crate::output::count(linked.sections.len() as u64, "section"),
        linked.regions.iter().map(|r| r.2).sum::<usize>(),
        args.out.join("layout.json").display()
    );
    Ok(())
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
