//! A future polled through one out-of-line function: an async fn awaited at several places of
//! a larger one is otherwise inlined into each of its states (on a device, kilobytes of text).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// `F`, whose `poll` is never inlined into the future that awaits it: every await of one
/// `Outlined<F>` type shares one copy of `F`'s state machine.
pub struct Outlined<F>(F);

/// Wraps `f` so that awaiting it calls one shared, out-of-line poll.
pub fn outlined<F: Future>(f: F) -> Outlined<F> {
    Outlined(f)
}

impl<F: Future> Future for Outlined<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning: the field is never moved out of, nor reached unpinned,
        // and `Outlined` has no `Drop` of its own.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
    }
}
