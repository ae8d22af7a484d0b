//! A future polled through one out-of-line function: an async fn awaited at several places of
//! a larger one is otherwise inlined into each of its states (on a device, kilobytes of text).

use core::future::Future;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::task::{Context, Poll};

/// `F`, whose `poll` (and drop) is never inlined into the future that awaits it: every await of
/// one `Outlined<F>` type shares one copy of `F`'s state machine.
pub struct Outlined<F>(ManuallyDrop<F>);

/// Wraps `f` so that awaiting it calls one shared, out-of-line poll.
pub fn outlined<F: Future>(f: F) -> Outlined<F> {
    Outlined(ManuallyDrop::new(f))
}

impl<F: Future> Future for Outlined<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning: the field is never moved out of, nor reached unpinned;
        // `drop` drops it in place.
        unsafe { self.map_unchecked_mut(|s| &mut *s.0) }.poll(cx)
    }
}

impl<F> Drop for Outlined<F> {
    // Out of line too: a future dropped before it finished is dropped from every await site.
    #[inline(never)]
    fn drop(&mut self) {
        // SAFETY: the only drop of the field, in place (it is never moved, pinned or not).
        unsafe { ManuallyDrop::drop(&mut self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;
    use core::task::Waker;

    struct Counted<'a>(&'a Cell<u32>);

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn polls_through_and_drops_what_it_holds_once() {
        let drops = Cell::new(0);
        let held = Counted(&drops);
        let mut f = core::pin::pin!(outlined(async move {
            let _held = held;
            7
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(7));
        assert_eq!(drops.get(), 1);

        // Dropped before it was polled: what it holds is dropped once, by the wrapper.
        let held = Counted(&drops);
        drop(outlined(async move {
            let _held = held;
        }));
        assert_eq!(drops.get(), 2);
    }
}
