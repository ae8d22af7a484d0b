//! The static library's members: the crate's own object, and what `compiler_builtins` gave.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use object::read::archive::ArchiveFile;
use object::{Object, ObjectSymbol};

use crate::exit::{Failure, OTHER};

/// The crate's own object in `lib` (with fat LTO there is one, named `NAME-HASH.NAME....o`;
/// the other members are `compiler_builtins`).
pub fn crate_object(lib: &Path, name: &str) -> Result<Vec<u8>> {
    let data = std::fs::read(lib).with_context(|| format!("cannot read {}", lib.display()))?;
    let archive = ArchiveFile::parse(&*data)
        .with_context(|| format!("{} is not an archive", lib.display()))?;
    let prefix = format!("{name}-");
    let mut own = Vec::new();
    for member in archive.members() {
        let member = member.with_context(|| format!("a bad member in {}", lib.display()))?;
        let member_name = String::from_utf8_lossy(member.name()).into_owned();
        if member_name.starts_with(&prefix) && member_name.ends_with(".o") {
            own.push(member.data(&*data)?.to_vec());
        }
    }
    match own.len() {
        1 => Ok(own.pop().expect("one")),
        0 => bail!(Failure::new(
            OTHER,
            format!("{} holds no object of crate `{name}`", lib.display())
        )),
        n => bail!(
            Failure::new(
                OTHER,
                format!(
                    "{} holds {n} objects of crate `{name}`, not one",
                    lib.display()
                )
            )
            .hint("the build must use fat LTO and one codegen unit (host-push build sets both)")
        ),
    }
}

/// The symbols the joined object defines that the crate's own object did not: what was taken
/// from `compiler_builtins` (only global and weak names, sorted).
pub fn taken_builtins(own: &[u8], joined: &[u8]) -> Result<Vec<String>> {
    let defined = |data: &[u8]| -> Result<BTreeSet<String>> {
        let file = object::File::parse(data).context("not an ELF object")?;
        Ok(file
            .symbols()
            .filter(|s| s.is_definition() && s.is_global())
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect())
    };
    let before = defined(own)?;
    Ok(defined(joined)?.difference(&before).cloned().collect())
}
