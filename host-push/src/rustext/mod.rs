//! A Rust extension crate to one relocatable object (`host-push build`).
//!
//! Cargo builds the crate as a `staticlib` with fat LTO, so the crate and everything it uses
//! from `core`/`alloc` become one object in which only what its exported items reach is left.
//! That object is joined (`rust-lld -r`, the linker every Rust toolchain ships) with the members
//! of the crate's own `compiler_builtins` that it calls (`__aeabi_*`, `memcpy`, ...), then
//! sections nothing reaches from the extension's roots (its global symbols, constructors,
//! destructors and `.exported_sym` table) are dropped (`gc`), and the function and data
//! sections left are joined into one section of each kind (`rust-lld -r` again, `lld::merge`).

mod archive;
mod cargo;
mod gc;
mod lld;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use cargo::{host_triple, is_target};

/// What to build.
pub struct Options<'a> {
    /// The crate's `Cargo.toml`; the current directory's if `None`.
    pub manifest_path: Option<&'a Path>,
    /// Target triple; the host's if `None`.
    pub target: Option<&'a str>,
    /// The `release` profile instead of `dev`.
    pub release: bool,
}

/// A built extension object.
pub struct Built {
    /// Where the object was written.
    pub object: PathBuf,
    /// The crate's library name.
    pub name: String,
    /// The target triple it was built for.
    pub target: String,
    /// `dev` or `release`.
    pub profile: &'static str,
    /// Members of `compiler_builtins` taken into the object, by symbol they define.
    pub builtins: Vec<String>,
    /// Bytes of the object file.
    pub bytes: usize,
    /// Bytes of loaded sections (text, rodata, data, bss) kept.
    pub loaded_bytes: u64,
    /// Bytes of loaded sections dropped because nothing reaches them.
    pub dropped_bytes: u64,
}

/// Builds the crate and writes its object next to its static library (`NAME.o`).
pub fn build(opts: &Options) -> Result<Built> {
    let target = match opts.target {
        Some(t) => t.to_string(),
        None => host_triple()?,
    };
    let lib = cargo::build_staticlib(opts, &target)?;
    let dir = lib
        .path
        .parent()
        .context("the static library has no folder")?;
    let own = archive::crate_object(&lib.path, &lib.name)?;
    // Private names: builds of the same crate side by side never share a half-written file;
    // removed however the build ends.
    let mut temps = Temps(Vec::new());
    let mut temp =
        |stage: &str| temps.add(dir.join(format!("{}.{stage}.{}.o", lib.name, std::process::id())));
    let own_path = temp("lto");
    std::fs::write(&own_path, &own)
        .with_context(|| format!("cannot write {}", own_path.display()))?;
    let joined_path = temp("joined");
    lld::join(&own_path, &lib.path, &joined_path)?;
    let joined = std::fs::read(&joined_path)
        .with_context(|| format!("cannot read {}", joined_path.display()))?;
    let builtins = archive::taken_builtins(&own, &joined)?;
    let collected = gc::collect(&joined).with_context(|| {
        format!(
            "cannot drop unreachable sections of {}",
            joined_path.display()
        )
    })?;
    let kept_path = temp("kept");
    std::fs::write(&kept_path, &collected.bytes)
        .with_context(|| format!("cannot write {}", kept_path.display()))?;
    let merged_path = temp("merged");
    lld::merge(&kept_path, &merged_path)?;
    let object = dir.join(format!("{}.o", lib.name));
    let bytes = std::fs::metadata(&merged_path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    std::fs::rename(&merged_path, &object)
        .with_context(|| format!("cannot write {}", object.display()))?;
    Ok(Built {
        object,
        name: lib.name,
        target,
        profile: if opts.release { "release" } else { "dev" },
        builtins,
        bytes,
        loaded_bytes: collected.kept,
        dropped_bytes: collected.dropped,
    })
}

/// Intermediate files, removed when dropped.
struct Temps(Vec<PathBuf>);

impl Temps {
    fn add(&mut self, path: PathBuf) -> PathBuf {
        self.0.push(path.clone());
        path
    }
}

impl Drop for Temps {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}
