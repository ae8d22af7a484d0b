//! `host-push pack`: rewrite a relocatable ELF into stream order.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use llext_loader::pack::{PackOptions, pack};

/// Rewrite a relocatable ELF (.o) into stream order so a forward-only link can load it
/// (docs/STREAM-ORDER.md).
#[derive(Debug, clap::Args)]
pub struct PackArgs {
    /// Input relocatable object (ET_REL).
    input: PathBuf,
    /// Output file; standard output if absent.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Keep every section (.comment, .debug*, .eh_frame, .note.*), not just what loading needs.
    #[arg(long)]
    keep_all: bool,
    /// Print sizes as one JSON object on stdout (needs --output)
    #[arg(long, requires = "output")]
    pub json: bool,
}

/// Runs `host-push pack`.
pub fn run(args: &PackArgs) -> anyhow::Result<()> {
    let input = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let options = PackOptions {
        keep_all: args.keep_all,
    };
    let packed =
        pack(&input, &options).with_context(|| format!("cannot pack {}", args.input.display()))?;
    if args.json {
        let out = args.output.as_ref().context("--json needs --output")?;
        std::fs::write(out, &packed).with_context(|| format!("cannot write {}", out.display()))?;
        crate::output::json(&serde_json::json!({
            "ok": true,
            "input": args.input.display().to_string(),
            "output": out.display().to_string(),
            "input_bytes": input.len(),
            "output_bytes": packed.len(),
        }));
        return Ok(());
    }
    match &args.output {
        Some(path) => std::fs::write(path, &packed)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(&packed)
            .context("cannot write to standard output")?,
    }
    Ok(())
}
