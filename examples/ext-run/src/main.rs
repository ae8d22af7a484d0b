//! `ext-run`: load x86-64 extensions into this process with the streaming loader and call them.
//!
//! `ext-run [FILE|-]... [--call SYM]... [--json]`. A FILE is read through the seekable path (any
//! section order); `-` reads standard input as a forward-only stream (stream order required).

mod exports;
mod io;

use std::fs::File;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use llext_loader::memory::{Counting, HostProvider};
use llext_loader::source::{SeekSource, Source, StreamSource};
use llext_loader::{LoadParams, Registry, Report};
use serde_json::json;

use crate::io::{Blocking, Counted};

/// Load ELF extensions into this process and call their functions.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Relocatable objects to load in order; `-` reads a stream-ordered one from standard input.
    files: Vec<String>,
    /// Call `int SYM(void)` after loading and print `SYM = VALUE`.
    #[arg(long = "call", value_name = "SYM")]
    calls: Vec<String>,
    /// Print one JSON object with load figures and call results instead of text.
    #[arg(long)]
    json: bool,
}

type Reg = Registry<Counting<HostProvider>, llext_loader::symbols::ExportTable, 32>;

struct Loaded {
    file: String,
    slot: usize,
    file_bytes: u64,
    peak_bytes: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ext-run: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads one extension; returns its slot and the most bytes the provider held during the load
/// beyond what was held before (measured by the provider, not by the loader's own accounting).
fn load_one<S: Source>(reg: &mut Reg, name: &str, src: &mut S) -> Result<(usize, usize)> {
    let mut missing = Vec::new();
    let mut report = |r: Report<'_>| {
        if let Report::MissingSymbol(s) = r {
            missing.push(s.to_string());
        }
    };
    let before = reg.provider().usage().total;
    reg.provider_mut().reset_peak();
    let r = futures::executor::block_on(reg.load(name, src, &LoadParams::default(), &mut report));
    let peak = reg.provider().usage().peak - before;
    match r {
        Ok(slot) => Ok((slot, peak)),
        Err(llext_loader::Error::MissingSymbols { .. }) => Err(anyhow!(
            "{} undefined symbol(s): {}",
            missing.len(),
            missing.join(", ")
        ))
        .context("the firmware (ext-run) and the extensions loaded before do not export them"),
        Err(e) => Err(e.into()),
    }
}

fn run(args: &Args) -> Result<()> {
    if args.files.is_empty() {
        return Err(anyhow!("no extension given: ext-run FILE.o [--call SYM]"));
    }
    let mut reg: Reg = Registry::new(Counting::new(HostProvider::new()), exports::EXPORTS);
    let mut loaded = Vec::new();
    for file in &args.files {
        let name = if file == "-" {
            "stdin".to_string()
        } else {
            file.clone()
        };
        let (slot, peak, bytes) = if file == "-" {
            let mut src = StreamSource::new(Blocking(Counted {
                inner: std::io::stdin().lock(),
                bytes: 0,
            }));
            let (slot, peak) = load_one(&mut reg, &name, &mut src)
                .with_context(|| "standard input".to_string())?;
            (slot, peak, src.into_inner().0.bytes)
        } else {
            let f = File::open(file).with_context(|| format!("cannot open {file}"))?;
            let len = f.metadata()?.len();
            let mut src = SeekSource::new(Blocking(f));
            let (slot, peak) = load_one(&mut reg, &name, &mut src).with_context(|| file.clone())?;
            (slot, peak, len)
        };
        loaded.push(Loaded {
            file: file.clone(),
            slot,
            file_bytes: bytes,
            peak_bytes: peak,
        });
    }
    for l in &loaded {
        let ext = reg.get(l.slot).expect("loaded");
        ext.check_entries()
            .map_err(|e| anyhow!("{}: a constructor or destructor is {e}", l.file))?;
        // SAFETY: the extension was compiled for this machine and linked against this process's
        // C library; running its constructors is what the user asked for.
        unsafe { ext.bringup() };
    }
    flush_c_stdio();
    let mut results = Vec::new();
    for sym in &args.calls {
        let ext = loaded
            .iter()
            .rev()
            .filter_map(|l| reg.get(l.slot))
            .find(|e| e.find_symbol(sym).is_some())
            .ok_or_else(|| anyhow!("no loaded extension exports `{sym}`"))?;
        let addr = ext.entry(sym).map_err(|e| {
            anyhow!(
                "`{sym}` of {} is {e}; --call runs only functions",
                ext.name()
            )
        })?;
        // SAFETY: the user names an `int SYM(void)` function of an extension built for this host.
        let v = unsafe { llext_loader::extension::call_int(addr) };
        flush_c_stdio();
        if !args.json {
            println!("{sym} = {v}");
        }
        results.push((sym.clone(), v));
    }
    for l in loaded.iter().rev() {
        // SAFETY: as for bringup.
        unsafe { reg.get(l.slot).expect("loaded").teardown() };
    }
    flush_c_stdio();
    if args.json {
        let exts: Vec<_> = loaded
            .iter()
            .map(|l| {
                let s = reg.get(l.slot).expect("loaded").stats();
                json!({
                    "file": l.file, "file_bytes": l.file_bytes, "image_bytes": s.image_bytes,
                    "peak_bytes": l.peak_bytes, "transient_bytes": s.transient_peak,
                    "kept_metadata_bytes": s.kept_metadata, "symbols": s.symbols,
                    "relocations": s.relocations, "sections": s.sections,
                })
            })
            .collect();
        let sum = |k: &str| exts.iter().map(|e| e[k].as_u64().unwrap_or(0)).sum::<u64>();
        let max = |k: &str| {
            exts.iter()
                .map(|e| e[k].as_u64().unwrap_or(0))
                .max()
                .unwrap_or(0)
        };
        let calls: serde_json::Map<_, _> =
            results.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let out = json!({
            "file_bytes": sum("file_bytes"), "image_bytes": sum("image_bytes"),
            "peak_bytes": max("peak_bytes"), "transient_bytes": max("transient_bytes"),
            "symbols": sum("symbols"), "relocations": sum("relocations"),
            "calls": calls, "extensions": exts,
        });
        println!("{out}");
    }
    for l in loaded.iter().rev() {
        reg.unload(l.slot)
            .map_err(|e| anyhow!("unloading {}: {e}", l.file))?;
    }
    if reg.provider().usage().total != 0 {
        return Err(anyhow!(
            "memory leak: {} bytes still held after unloading",
            reg.provider().usage().total
        ));
    }
    Ok(())
}

/// Extensions print through the C library's buffered stdout: flush it so their output and ours
/// appear in the order things happened.
fn flush_c_stdio() {
    // SAFETY: fflush(NULL) flushes every open C stream; no pointer is dereferenced by us.
    unsafe { libc::fflush(std::ptr::null_mut()) };
}
