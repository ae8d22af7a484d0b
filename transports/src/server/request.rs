//! Requests as the server keeps them: copied out of their frame, and what is kept to answer a
//! request again instead of running it twice.

use llext_loader::Name;

use super::failure::Failure;
use super::install::Begin;
use super::{MAX_SYM, Text};
use crate::protocol::{FaultReport, Request, seq_of};

/// The answer to a request that must run once (call, unload, remove, confirm, rollback), kept
/// to be sent again if the same request arrives again.
pub(super) enum Answer {
    Value(i32),
    Faulted(FaultReport),
    Unloaded(u16),
    Removed,
    /// The extension's entry, as it is when the answer is sent.
    Entry(Name),
    Failed(Failure),
}

/// The last request handled on this link.
pub(super) struct LastRequest {
    pub seq: u16,
    /// Its frame's CRC: a repeat is the same bytes under the same seq, not only the same seq.
    pub crc: u32,
    pub answer: Option<Answer>,
}

/// What identifies a push or an install: its outcome is replayed only to the same request,
/// never to another one that reuses its id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Transfer {
    pub push_id: u32,
    pub name: Option<Name>,
    pub total_len: u32,
    pub crc32: u32,
    /// Installs only: the boot flag and the version asked for.
    pub install: Option<(bool, Option<u32>, bool)>,
}

/// A request copied out of its frame, so the frame buffer is free again.
pub(super) enum Cmd {
    Hello,
    Status,
    PushBegin {
        push_id: u32,
        name: Option<Name>,
        total_len: u32,
        crc32: u32,
    },
    Data,
    Call {
        ext: Option<Name>,
        sym: Option<Text<MAX_SYM>>,
        time_limit_ms: u32,
    },
    Unload {
        name: Option<Name>,
    },
    Exports {
        start: u32,
        max: u32,
    },
    InstallBegin(Begin),
    List,
    Remove {
        name: Option<Name>,
    },
    Confirm {
        name: Option<Name>,
    },
    Rollback {
        name: Option<Name>,
    },
    Sections {
        name: Option<Name>,
    },
    Bad,
}

// One copy for every request that names an extension (inlined, one per request kind).
#[inline(never)]
fn ext_name(s: &str) -> Option<Name> {
    (!s.is_empty() && s.len() <= Name::CAPACITY).then(|| Name::new(s.as_bytes()))
}

impl Cmd {
    pub(super) fn parse(frame: &[u8]) -> (u16, Cmd) {
        let Ok((seq, req)) = Request::decode(frame) else {
            // Answer under the request's own seq when at least that decodes.
            let seq = seq_of(frame).unwrap_or(0);
            return (seq, Cmd::Bad);
        };
        let cmd = match req {
            Request::Hello { .. } => Cmd::Hello,
            Request::Status => Cmd::Status,
            Request::PushBegin {
                push_id,
                name,
                total_len,
                crc32,
            } => Cmd::PushBegin {
                push_id,
                name: ext_name(name),
                total_len,
                crc32,
            },
            Request::Data { .. } => Cmd::Data,
            Request::Call {
                ext,
                sym,
                time_limit_ms,
            } => Cmd::Call {
                ext: ext_name(ext),
                sym: (sym.len() <= MAX_SYM).then(|| Text::from(sym)),
                time_limit_ms,
            },
            Request::Unload { name } => Cmd::Unload {
                name: ext_name(name),
            },
            Request::Exports { start, max } => Cmd::Exports { start, max },
            Request::InstallBegin {
                push_id,
                name,
                total_len,
                crc32,
                boot,
                version,
                xip,
            } => Cmd::InstallBegin(Begin {
                push_id,
                name: ext_name(name),
                total_len,
                crc32,
                boot,
                version,
                xip,
            }),
            Request::List => Cmd::List,
            Request::Remove { name } => Cmd::Remove {
                name: ext_name(name),
            },
            Request::Confirm { name } => Cmd::Confirm {
                name: ext_name(name),
            },
            Request::Rollback { name } => Cmd::Rollback {
                name: ext_name(name),
            },
            Request::Sections { name } => Cmd::Sections {
                name: ext_name(name),
            },
        };
        (seq, cmd)
    }
}
