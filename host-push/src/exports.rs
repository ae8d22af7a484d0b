//! Exports files: what a device's firmware exports, as `NAME 0xADDRESS` lines, with optional
//! `# arch: NAME` and `# float-abi: soft|hard` lines saying what extensions must be built for.

use anyhow::{Context, Result, bail};
use llext_loader::symbols::ExportList;

/// A parsed exports file.
pub struct ExportsFile {
    /// The symbols.
    pub list: ExportList,
    /// `# arch:` when given (`arm`, `riscv32`, `riscv64`, `x86_64`).
    pub arch: Option<String>,
    /// `# float-abi:` when given (`soft`, `hard`; RISC-V: `soft`, `single`, `double`).
    pub float_abi: Option<String>,
}

impl ExportsFile {
    /// Reads and parses `path`.
    pub fn read(path: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read exports file {path}"))?;
        Self::parse(&text).with_context(|| format!("exports file {path}"))
    }

    /// Parses exports text.
    pub fn parse(text: &str) -> Result<Self> {
        let mut arch = None;
        let mut float_abi = None;
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix('#') else {
                continue;
            };
            if let Some((k, v)) = rest.split_once(':') {
                match k.trim() {
                    "arch" => arch = Some(v.trim().to_string()),
                    "float-abi" => float_abi = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        let list = ExportList::parse(text).map_err(anyhow::Error::msg)?;
        if list.is_empty() {
            bail!("no symbols: expected one `NAME 0xADDRESS` per line");
        }
        Ok(Self {
            list,
            arch,
            float_abi,
        })
    }
}
