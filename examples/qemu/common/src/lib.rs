//! Firmware code shared by the QEMU boards: C exports for extensions, the log, pool accounting.
#![no_std]

pub mod api;
#[cfg(feature = "bench")]
pub mod bench;
pub mod exports;
pub mod fault;
pub mod log;
pub mod measure;
pub mod trust;
