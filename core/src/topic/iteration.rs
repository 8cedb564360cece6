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
