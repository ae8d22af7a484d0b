//! What the device has yet to send: the answer to the request it handles, as a cursor over the
//! answer's messages, and the log lines waiting. The synchronous core encodes one message at a
//! time into the transmit buffer ([`Device::produce`]); the async shell only writes it.

use llext_loader::memory::MemoryProvider;

use super::link::Tx;
use super::request::{Answer, LastRequest};
use super::text::utf8_prefix;
use super::{Device, ExtStore, LOG_LINE, LogSource, MemoryInfo};
use crate::protocol::Response;

/// The messages of an answer still to send.
#[derive(Clone, Copy)]
pub(super) enum Out {
    /// Nothing.
    Idle,
    /// A frame already encoded in the transmit buffer, `n` bytes long.
    Ready(usize),
    /// The answer kept in the last request (run once, sent again on a repeat).
    Answer,
    /// The outcome of the last push.
    PushDone,
    /// The outcome of the last install.
    InstallDone,
    /// `Status`: the head (with the link's `bad` frames) while `bad` is `Some`, then the
    /// extension in the first slot from `slot` on, as the `index`-th.
    Status {
        bad: Option<u32>,
        slot: usize,
        index: u8,
    },
    /// `Exports`: the export `next` up to `end`, then the total.
    Exports { next: u32, end: u32 },
    /// `Sections` of the extension in `slot`: the `next`-th placed section, then the end.
    Sections { slot: usize, next: u16 },
    /// `List`: see [`List`].
    List(List),
}

/// Where a `List` answer is: the head, then `installed` stored entries, then the loaded ones
/// not installed, then `events` boot events; `index` counts the entries sent.
#[derive(Clone, Copy)]
pub(super) struct List {
    pub stage: ListStage,
    pub i: usize,
    pub index: u8,
    pub installed: usize,
    pub events: usize,
}

/// The part of a `List` answer being sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ListStage {
    Head,
    Installed,
    Pushed,
    Events,
}

/// What the server keeps between frames on one link.
pub(super) struct Session {
    /// The last request handled.
    pub last: Option<LastRequest>,
    /// The answer being sent, under `seq`.
    pub out: Out,
    pub seq: u16,
    /// Log lines go before the answer (what a call or constructor printed).
    pub logs_first: bool,
    /// Log lines go after the answer.
    pub logs_after: bool,
}

impl Session {
    /// Keeps `a` as the answer to the last request (replayed if it comes again).
    pub fn keep_answer(&mut self, a: Answer) {
        if let Some(l) = self.last.as_mut() {
            l.answer = Some(a);
        }
    }

    pub fn new() -> Self {
        Self {
            last: None,
            out: Out::Idle,
            seq: 0,
            logs_first: false,
            logs_after: false,
        }
    }

    /// Sends `out` under `seq` next (after the log lines waiting when `logs_first`).
    pub fn answer(&mut self, seq: u16, out: Out, logs_first: bool) {
        self.seq = seq;
        self.out = out;
        self.logs_first = logs_first;
    }
}

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    /// Encodes the next message `s` has to send into `tx`; `None` when all is sent.
    #[inline(never)]
    pub(super) fn produce(&mut self, s: &mut Session, tx: &mut Tx) -> Option<usize> {
        if s.logs_first {
            match self.log_line(tx) {
                Some(n) => return Some(n),
                None => s.logs_first = false,
            }
        }
        if !matches!(s.out, Out::Idle) {
            return Some(self.next_message(s, tx));
        }
        if s.logs_after {
            match self.log_line(tx) {
                Some(n) => return Some(n),
                None => s.logs_after = false,
            }
        }
        None
    }

    /// Encodes the next message of `s.out` and moves the cursor on.
    fn next_message(&self, s: &mut Session, tx: &mut Tx) -> usize {
        let seq = s.seq;
        match &mut s.out {
            Out::Idle => 0,
            Out::Ready(n) => {
                let n = *n;
                s.out = Out::Idle;
                n
            }
            Out::Answer => {
                s.out = Out::Idle;
                match s.last.as_ref().and_then(|l| l.answer.as_ref()) {
                    Some(a) => self.put_answer(tx, seq, a),
                    None => 0,
                }
            }
            Out::PushDone => {
                s.out = Out::Idle;
                self.put_push_done(tx, seq)
            }
            Out::InstallDone => {
                s.out = Out::Idle;
                self.put_install_done(tx, seq)
            }
            Out::Status { bad, slot, index } => {
                let (n, more) = self.put_status(tx, seq, bad, slot, index);
                if !more {
                    s.out = Out::Idle;
                }
                n
            }
            Out::Exports { next, end } => {
                let (n, more) = self.put_export(tx, seq, next, *end);
                if !more {
                    s.out = Out::Idle;
                }
                n
            }
            Out::Sections { slot, next } => {
                let (n, more) = self.put_section(tx, seq, *slot, next);
                if !more {
                    s.out = Out::Idle;
                }
                n
            }
            Out::List(l) => {
                let (n, more) = self.put_list(tx, seq, l);
                if !more {
                    s.out = Out::Idle;
                }
                n
            }
        }
    }

    /// Encodes the next log line waiting, if any.
    fn log_line(&mut self, tx: &mut Tx) -> Option<usize> {
        let mut buf = [0u8; LOG_LINE];
        let n = self.logs.next_line(&mut buf)?;
        let line = utf8_prefix(&buf[..n.min(LOG_LINE)]);
        Some(tx.put(0, &Response::Log { line }))
    }
}
