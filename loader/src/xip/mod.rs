//! Execute in place: an extension linked once, on the device, for addresses in memory-mapped
//! flash (text, rodata, trampolines) and in a RAM area the firmware reserves for installed
//! extensions (data, bss); then loaded at each boot without relocating anything.
//!
//! [`link`] runs the ordinary load over the installed file with its regions placed (data and
//! bss in their fixed RAM range, trampolines in scratch RAM) and leaves text and rodata out;
//! then it writes the image in address order a page at a time: each text and rodata section
//! passes through a window of [`WINDOW`] bytes where the relocations that reach it (in address
//! order, as `pack` writes them) are applied, and the caller's [`LinkIo`] programs each
//! [`CHUNK`]. RAM while linking does not grow with the code. [`load_in_place`] checks such an
//! image and makes it a loaded extension: `.data` copied from flash, `.bss` zeroed, code and
//! read-only data used where they lie. See `docs/STORAGE.md`.

mod image;
mod link;
mod load;
mod pages;
mod place;
mod window;

pub use image::{HEADER, Header};
pub use link::{Linked, link};
pub use load::load_in_place;
pub use pages::{CHUNK, LinkIo};
pub use place::Plan;
pub(crate) use place::{Place, Placed, alloc_placed, free_region};
pub use window::WINDOW;
