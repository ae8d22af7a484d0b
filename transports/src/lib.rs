//! Wire protocol and device-side transports (issue 4).
#![no_std]
