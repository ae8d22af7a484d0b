//! An async streaming loader of relocatable ELF extensions, modelled on Zephyr's LLEXT.
//!
//! The ELF streams in from a [`source::Source`] and is placed, linked and relocated as it
//! arrives; every byte the loader holds comes from a [`memory::MemoryProvider`].
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arch;
pub mod elf;
mod error;
pub mod extension;
#[cfg(feature = "alloc")]
pub mod link;
pub mod load;
pub mod memory;
mod name;
pub mod outline;
pub mod registry;
pub mod source;
pub mod symbols;
pub mod xip;

pub use error::{Error, Part};
pub use extension::Extension;
pub use load::{Limits, LoadParams, Report};
pub use name::Name;
pub use registry::Registry;

#[cfg(feature = "alloc")]
pub mod pack;
