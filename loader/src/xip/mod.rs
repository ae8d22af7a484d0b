//! Execute in place: an extension linked once, on the device, for addresses in memory-mapped
//! flash (text, rodata, trampolines) and in a RAM area the firmware reserves for installed
//! extensions (data, bss); then loaded at each boot without relocating anything.
//!
//! [`link`] runs the ordinary load over the installed file with its regions placed: text, rodata
//! and trampolines at their flash addresses (their bytes built in scratch RAM from the provider),
//! data and bss in their fixed RAM range; the caller programs [`Linked::read`]'s bytes into a flash slot.
//! [`load_in_place`] checks such an image and makes it a loaded extension: `.data` copied from
//! flash, `.bss` zeroed, code and read-only data used where they lie. See `docs/STORAGE.md`.

mod image;
mod link;
mod load;

pub use image::{HEADER, Header};
pub use link::{Linked, Plan, link};
pub(crate) use link::{Place, Placed, alloc_placed, free_region};
pub use load::load_in_place;
