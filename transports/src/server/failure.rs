//! What a request that failed answers: its code and its cause as values ([`Cause`]); the host
//! renders the words, so the device keeps no message text.

use llext_loader::Name;

use super::{STORE_MSG, Text};
use crate::protocol::{Cause, ErrorCode, ErrorReply};

/// A string in a cause: a name, or the flash store's words.
pub(super) type Str = Text<STORE_MSG>;

/// A failure as the device keeps and sends it.
pub(super) type Failure = ErrorReply<Str>;

/// The failure with this cause, under the cause's code.
// Out of line: called from many places, each of which carried an inlined copy (measured).
#[inline(never)]
pub(super) fn fail(cause: Cause<Str>) -> Failure {
    ErrorReply {
        code: cause.code(),
        cause,
    }
}

/// The failure for a loader error.
pub(super) fn load_failure(e: &llext_loader::Error) -> Failure {
    ErrorReply {
        code: ErrorCode::from_load_error(e),
        cause: Cause::Load(e.into()),
    }
}

/// An extension's name as a cause's string.
// Out of line: called from many places, each of which carried an inlined copy (measured).
#[inline(never)]
pub(super) fn name(n: &Name) -> Str {
    Str::from(n.as_str())
}
