//! Extensions in flash: a catalog, slots, installs that resume, confirm and rollback, and
//! loading at boot (issue 5). See `docs/STORAGE.md` for the on-flash format.
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

mod boot;
mod catalog;
mod error;
#[cfg(feature = "std")]
pub mod flash;
mod install;
mod layout;
mod name;
mod pending;
mod read;
mod record;
mod source;
mod storage;
mod xip;

pub use boot::{BootEvent, BootSummary, Failure};
pub use error::{CatalogError, Error};
pub use install::{InstallOptions, Installed, Installer};
pub use layout::{Layout, LayoutError};
pub use name::ExtName;
pub use read::{CRC32, CrcTable};
pub use record::{Deps, Entry, Image, InPlace, MAX_DEPS, State};
pub use source::{ReadError, SlotReader};
pub use storage::{Interrupted, Storage, XipConfig};
