//! Flash partitions, extension catalog, install/confirm/rollback (issue 5).
#![no_std]
