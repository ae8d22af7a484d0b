//! What a request that failed answers: an error code and a message.

use llext_loader::Name;

use super::{MSG, Text};
use crate::protocol::{ErrorCode, ErrorReply, FaultReport};

pub(super) type Failure = (ErrorCode, Text<MSG>);

pub(super) fn fail(code: ErrorCode, args: core::fmt::Arguments<'_>) -> Failure {
    (code, Text::format(args))
}

pub(super) fn reply(f: &Failure) -> ErrorReply<'_> {
    ErrorReply {
        code: f.0,
        message: f.1.as_str(),
    }
}

/// The answer to a push whose constructor faulted.
pub(super) fn fault_failure(name: &Name, f: &FaultReport) -> Failure {
    let region = f.region.map_or("", |r| r.name());
    fail(
        ErrorCode::Faulted,
        format_args!(
            "a constructor of `{name}` faulted ({}, status {:#x}) at pc {:#x} ({region}+{:#x}), lr {:#x}: not loaded",
            f.kind.name(),
            f.status,
            f.pc,
            f.offset,
            f.lr
        ),
    )
}
