//! The iteration rule, shared by every reader that iterates — [`Iter`](super::Iter),
//! the `Stream` impl, group members, and the Python and JS `for` loops (through
//! `try_next`, `next_timeout` and `poll_next_item`):
//!
//! * a record is yielded;
//! * a gap (`Lagged`) is passed over — it is counted in `skipped()` — unless the
//!   reader's `on_lag` is [`OnLag::Error`](super::OnLag::Error), where it is
//!   reported;
//! * `Closed` (the topic closed and drained, or the member gone) ends the
//!   iteration: `Ok(None)`.

use std::task::Poll;
use std::time::{Duration, Instant};

use crate::error::{RecvError, RecvTimeoutError, TryRecvError};

/// What iteration needs to know of a read error.
pub(crate) trait ReadError {
    fn is_gap(&self) -> bool;
    fn is_end(&self) -> bool;
}

macro_rules! read_error {
    ($($name:ident),*) => {$(
        impl ReadError for $name {
            fn is_gap(&self) -> bool {
                matches!(self, $name::Lagged { .. })
            }
            fn is_end(&self) -> bool {
                matches!(self, $name::Closed)
            }
        }
    )*};
}
read_error!(RecvError, TryRecvError, RecvTimeoutError);

/// One step of an iteration over `read`: the rule in the module docs.
pub(crate) fn next_item<R, E: ReadError>(
    skip_gaps: bool,
    mut read: impl FnMut() -> Result<R, E>,
) -> Result<Option<R>, E> {
    loop {
        match read() {
            Ok(r) => return Ok(Some(r)),
            Err(e) if e.is_gap() && skip_gaps => continue,
            Err(e) if e.is_end() => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// [`next_item`] over a bounded read: `timeout` in all, however many gaps it
/// passes over.
pub(crate) fn next_item_timeout<R>(
    skip_gaps: bool,
    timeout: Duration,
    mut read: impl FnMut(Duration) -> Result<R, RecvTimeoutError>,
) -> Result<Option<R>, RecvTimeoutError> {
    let deadline = Instant::now().checked_add(timeout);
    next_item(skip_gaps, || {
        let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
        read(left)
    })
}

/// [`next_item`] over a poll.
pub(crate) fn poll_next_item<R>(
    skip_gaps: bool,
    mut poll: impl FnMut() -> Poll<Result<R, RecvError>>,
) -> Poll<Result<Option<R>, RecvError>> {
    loop {
        return match poll() {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(r)) => Poll::Ready(Ok(Some(r))),
            Poll::Ready(Err(e)) if e.is_gap() && skip_gaps => continue,
            Poll::Ready(Err(e)) if e.is_end() => Poll::Ready(Ok(None)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        };
    }
}

/// The reads a [`Subscription`](crate::Subscription) and a group
/// [`Member`](crate::Member) share (their inherent methods of the same names): what
/// code that reads from either is written against once — a host binding's reader,
/// a helper that drains whichever it is given.
///
/// # Examples
///
/// ```
/// use ringlet::{Reader, Start};
/// fn drain<R: Reader>(r: &mut R) -> Vec<R::Value> {
///     std::iter::from_fn(|| r.try_next().ok().flatten().map(|rec| rec.value)).collect()
/// }
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u8>("t", Default::default())?;
/// let mut sub = t.subscribe(Start::Earliest)?;
/// let mut member = t.group("g")?.join()?;
/// t.publish(1).unwrap();
/// assert_eq!((drain(&mut sub), drain(&mut member)), (vec![1], vec![1]));
/// # Ok::<(), ringlet::Error>(())
/// ```
pub trait Reader {
    /// The records' value type.
    type Value;
    /// The next record without waiting.
    fn try_recv(&mut self) -> Result<crate::Record<Self::Value>, TryRecvError>;
    /// The next record, waiting up to `timeout`.
    fn recv_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<crate::Record<Self::Value>, RecvTimeoutError>;
    /// Up to `max` records without waiting.
    fn try_recv_batch(
        &mut self,
        max: usize,
    ) -> Result<Vec<crate::Record<Self::Value>>, TryRecvError>;
    /// Up to `max` records, waiting up to `timeout` for the first.
    fn recv_batch_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<crate::Record<Self::Value>>, RecvTimeoutError>;
    /// Polls for the next record, registering `cx`'s waker.
    fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Result<crate::Record<Self::Value>, RecvError>>;
    /// Forgets the waker a pending `poll_recv` registered.
    fn cancel_poll(&mut self);
    /// One step of iteration without waiting (module docs).
    fn try_next(&mut self) -> Result<Option<crate::Record<Self::Value>>, TryRecvError>;
    /// One step of iteration, waiting up to `timeout`.
    fn next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<crate::Record<Self::Value>>, RecvTimeoutError>;
    /// Polls one step of iteration.
    fn poll_next_item(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Result<Option<crate::Record<Self::Value>>, RecvError>>;
}

/// Implements [`Reader`] for a reader type by its inherent methods.
macro_rules! reader_by_inherent_methods {
    ($ty:ident) => {
        impl<T: Clone + Send + Sync + 'static> $crate::topic::Reader for $ty<T> {
            type Value = T;
            fn try_recv(&mut self) -> Result<$crate::Record<T>, $crate::TryRecvError> {
                $ty::try_recv(self)
            }
            fn recv_timeout(
                &mut self,
                timeout: std::time::Duration,
            ) -> Result<$crate::Record<T>, $crate::RecvTimeoutError> {
                $ty::recv_timeout(self, timeout)
            }
            fn try_recv_batch(
                &mut self,
                max: usize,
            ) -> Result<Vec<$crate::Record<T>>, $crate::TryRecvError> {
                $ty::try_recv_batch(self, max)
            }
            fn recv_batch_timeout(
                &mut self,
                max: usize,
                timeout: std::time::Duration,
            ) -> Result<Vec<$crate::Record<T>>, $crate::RecvTimeoutError> {
                $ty::recv_batch_timeout(self, max, timeout)
            }
            fn poll_recv(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<$crate::Record<T>, $crate::RecvError>> {
                $ty::poll_recv(self, cx)
            }
            fn cancel_poll(&mut self) {
                $ty::cancel_poll(self)
            }
            fn try_next(&mut self) -> Result<Option<$crate::Record<T>>, $crate::TryRecvError> {
                $ty::try_next(self)
            }
            fn next_timeout(
                &mut self,
                timeout: std::time::Duration,
            ) -> Result<Option<$crate::Record<T>>, $crate::RecvTimeoutError> {
                $ty::next_timeout(self, timeout)
            }
            fn poll_next_item(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<Option<$crate::Record<T>>, $crate::RecvError>> {
                $ty::poll_next_item(self, cx)
            }
        }
    };
}
pub(crate) use reader_by_inherent_methods;
