//! What can go wrong with the catalog, the slots or an install, each saying what and where.

use core::fmt;

use crate::layout::LayoutError;

/// An error of the storage, generic over the flash's error `E`.
#[derive(Debug)]
pub enum Error<E> {
    /// The flash failed.
    Flash(E),
    /// The catalog's map reported a problem it could not repair.
    Catalog(CatalogError),
    /// The layout does not fit the flash.
    Layout(LayoutError),
    /// A name is empty, longer than 32 bytes or not UTF-8.
    BadName,
    /// More dependencies than an entry records ([`crate::MAX_DEPS`]).
    TooManyDependencies,
    /// The catalog already holds as many extensions as it was built for.
    CatalogFull,
    /// The image is larger than a slot.
    TooLarge {
        /// Its length.
        len: u32,
        /// The slot size.
        slot_size: u32,
    },
    /// Every slot holds an image that must be kept (active, or on trial's previous version).
    NoFreeSlot,
    /// No extension of that name is installed.
    NotInstalled,
    /// The extension has no previous version to roll back to.
    NoPrevious,
    /// `write` or `finish` without `begin`.
    NoInstall,
    /// A chunk starts past what has been received: send from `expected`.
    OutOfOrder {
        /// The next offset the install needs.
        expected: u32,
    },
    /// A chunk goes past the length given to `begin`.
    PastEnd {
        /// The length given to `begin`.
        len: u32,
    },
    /// `finish` before every byte arrived.
    Incomplete {
        /// Bytes received.
        received: u32,
        /// Bytes expected.
        len: u32,
    },
    /// The bytes received do not have the CRC given to `begin`; the install is dropped.
    CrcMismatch {
        /// The CRC given to `begin`.
        expected: u32,
        /// The CRC of what arrived.
        found: u32,
    },
    /// What reads back from the slot does not have the right CRC (a flash fault); the install
    /// is dropped.
    VerifyFailed {
        /// The CRC given to `begin`.
        expected: u32,
        /// The CRC read back.
        found: u32,
    },
    /// An execute-in-place install on a storage without a mapped flash and a reserved RAM area
    /// ([`crate::Storage::set_xip`]).
    NoXip,
    /// Linking in place failed (a missing symbol, no room in the reserved RAM or the slot); the
    /// install is dropped and the installed version is unchanged.
    Link(llext_loader::Error),
}

/// A failure of the catalog's `sequential-storage` map other than a flash error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogError {
    /// The catalog partition is full of live records.
    Full,
    /// The map found corruption it could not repair.
    Corrupted,
    /// A record could not be encoded or decoded.
    BadRecord,
    /// Any other failure of the map (a bug in it or here).
    Other,
}

impl<E> From<sequential_storage::Error<E>> for Error<E> {
    fn from(e: sequential_storage::Error<E>) -> Self {
        use sequential_storage::Error as S;
        match e {
            S::Storage { value, .. } => Error::Flash(value),
            S::FullStorage => Error::Catalog(CatalogError::Full),
            S::Corrupted { .. } => Error::Catalog(CatalogError::Corrupted),
            S::SerializationError(_) | S::BufferTooSmall(_) | S::ItemTooBig => {
                Error::Catalog(CatalogError::BadRecord)
            }
            _ => Error::Catalog(CatalogError::Other),
        }
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Flash(e) => write!(f, "flash error: {e:?}"),
            Error::Catalog(c) => write!(
                f,
                "catalog: {}",
                match c {
                    CatalogError::Full => "partition full",
                    CatalogError::Corrupted => "corrupted beyond repair",
                    CatalogError::BadRecord => "bad record",
                    CatalogError::Other => "internal error",
                }
            ),
            Error::Layout(l) => write!(f, "layout: {l}"),
            Error::BadName => f.write_str("extension names are 1 to 32 bytes of UTF-8"),
            Error::TooManyDependencies => {
                write!(f, "more than {} dependencies", crate::MAX_DEPS)
            }
            Error::CatalogFull => f.write_str("the catalog holds as many extensions as it can"),
            Error::TooLarge { len, slot_size } => {
                write!(f, "{len} bytes do not fit a {slot_size}-byte slot")
            }
            Error::NoFreeSlot => f.write_str("no free slot (remove or confirm an extension)"),
            Error::NotInstalled => f.write_str("not installed"),
            Error::NoPrevious => f.write_str("no previous version to roll back to"),
            Error::NoInstall => f.write_str("no install in progress"),
            Error::OutOfOrder { expected } => write!(f, "out of order: send from {expected}"),
            Error::PastEnd { len } => write!(f, "data past the announced length {len}"),
            Error::Incomplete { received, len } => {
                write!(f, "incomplete: {received} of {len} bytes")
            }
            Error::CrcMismatch { expected, found } => {
                write!(f, "CRC mismatch: expected {expected:08x}, got {found:08x}")
            }
            Error::VerifyFailed { expected, found } => write!(
                f,
                "slot reads back with CRC {found:08x}, expected {expected:08x} (flash fault)"
            ),
            Error::NoXip => f.write_str(
                "this device cannot execute extensions in place (no memory-mapped flash): install without --xip",
            ),
            Error::Link(llext_loader::Error::OutOfMemory { kind, size }) => write!(
                f,
                "linking in place failed: no room for {size} bytes of {kind:?} in the flash slot or the RAM reserved for extensions installed in place (remove one)"
            ),
            Error::Link(e) => write!(f, "linking in place failed: {e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}
