//! What subscriptions and group members share: reading records with a timeout
//! that Ctrl-C can interrupt, iteration, and asyncio.

use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyo3::prelude::*;
use ringlet::{RecvError, RecvTimeoutError, TryRecvError};

use crate::aio::PendingOp;
use crate::errors::err;
use crate::records::{read, Payload, ReadRecord, RecordPy};

/// How often a blocked call wakes to check for signals (Ctrl-C).
pub(crate) const TICK: Duration = Duration::from_millis(50);

/// Runs `f` on the locked state: at once if the lock is free, else after waiting
/// for it without the GIL (a blocked call in another thread holds it). `f` must
/// not block.
pub(crate) fn locked<T: Send + ?Sized, R: Send>(
    py: Python<'_>,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R + Send,
) -> R {
    if let Some(mut g) = m.try_lock() {
        return f(&mut g);
    }
    py.detach(|| f(&mut m.lock()))
}

/// Waits for something in steps of [`TICK`] without the GIL, checking signals
/// between steps. `step(d)` waits at most `d`; `None` from it means "not yet".
/// Returns `None` when `timeout` passes.
pub(crate) fn wait_for<R: Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut step: impl FnMut(Duration) -> PyResult<Option<R>> + Send,
) -> PyResult<Option<R>> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let left = match deadline {
            None => TICK,
            Some(d) => d.saturating_duration_since(Instant::now()).min(TICK),
        };
        if let Some(r) = py.detach(|| step(left))? {
            return Ok(Some(r));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}

/// A reader of records: a subscription (of Python values or journal events) or a
/// group member.
pub(crate) trait Reader: Send {
    fn try_recv(&mut self) -> Result<ReadRecord, TryRecvError>;
    fn recv_timeout(&mut self, d: Duration) -> Result<ReadRecord, RecvTimeoutError>;
    fn try_recv_batch(&mut self, max: usize) -> Result<Vec<ReadRecord>, TryRecvError>;
    fn recv_batch_timeout(
        &mut self,
        max: usize,
        d: Duration,
    ) -> Result<Vec<ReadRecord>, RecvTimeoutError>;
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<ReadRecord, RecvError>>;
    fn cancel_poll(&mut self);
    /// The core's iteration steps (`try_next`, `next_timeout`, `poll_next_item`):
    /// gaps passed over unless `on_lag="error"`, `None` at the end.
    fn try_next(&mut self) -> Result<Option<ReadRecord>, TryRecvError>;
    fn next_timeout(&mut self, d: Duration) -> Result<Option<ReadRecord>, RecvTimeoutError>;
    fn poll_next_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<ReadRecord>, RecvError>>;
}

/// Every core reader (a subscription of values or journal events, a member),
/// handing over records as [`ReadRecord`]s.
impl<R> Reader for R
where
    R: ringlet::Reader + Send,
    R::Value: Into<Payload>,
{
    fn try_recv(&mut self) -> Result<ReadRecord, TryRecvError> {
        ringlet::Reader::try_recv(self).map(read)
    }
    fn recv_timeout(&mut self, d: Duration) -> Result<ReadRecord, RecvTimeoutError> {
        ringlet::Reader::recv_timeout(self, d).map(read)
    }
    fn try_recv_batch(&mut self, max: usize) -> Result<Vec<ReadRecord>, TryRecvError> {
        Ok(ringlet::Reader::try_recv_batch(self, max)?
            .into_iter()
            .map(read)
            .collect())
    }
    fn recv_batch_timeout(
        &mut self,
        max: usize,
        d: Duration,
    ) -> Result<Vec<ReadRecord>, RecvTimeoutError> {
        let v = ringlet::Reader::recv_batch_timeout(self, max, d)?;
        Ok(v.into_iter().map(read).collect())
    }
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<ReadRecord, RecvError>> {
        ringlet::Reader::poll_recv(self, cx).map(|r| r.map(read))
    }
    fn cancel_poll(&mut self) {
        ringlet::Reader::cancel_poll(self);
    }
    fn try_next(&mut self) -> Result<Option<ReadRecord>, TryRecvError> {
        Ok(ringlet::Reader::try_next(self)?.map(read))
    }
    fn next_timeout(&mut self, d: Duration) -> Result<Option<ReadRecord>, RecvTimeoutError> {
        Ok(ringlet::Reader::next_timeout(self, d)?.map(read))
    }
    fn poll_next_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<ReadRecord>, RecvError>> {
        ringlet::Reader::poll_next_item(self, cx).map(|r| r.map(|o| o.map(read)))
    }
}

/// One record: `Ok(None)` on timeout. A gap raises `Lagged` once.
pub(crate) fn read_one<R: Reader + ?Sized>(
    py: Python<'_>,
    m: &Mutex<R>,
    timeout: Option<Duration>,
) -> PyResult<Option<ReadRecord>> {
    match locked(py, m, |r| r.try_recv()) {
        Ok(rec) => return Ok(Some(rec)),
        Err(TryRecvError::Empty) => {}
        Err(e) => return Err(err(e)),
    }
    if timeout.is_some_and(|t| t.is_zero()) {
        return Ok(None);
    }
    wait_for(py, timeout, |d| match m.lock().recv_timeout(d) {
        Ok(rec) => Ok(Some(rec)),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(e) => Err(err(e)),
    })
}

/// Up to `max` records, waiting up to `timeout` for the first: empty on timeout.
pub(crate) fn read_many<R: Reader + ?Sized>(
    py: Python<'_>,
    m: &Mutex<R>,
    max: usize,
    timeout: Option<Duration>,
) -> PyResult<Vec<ReadRecord>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    match locked(py, m, |r| r.try_recv_batch(max)) {
        Ok(v) if !v.is_empty() => return Ok(v),
        Ok(_) | Err(TryRecvError::Empty) => {}
        Err(e) => return Err(err(e)),
    }
    if timeout.is_some_and(|t| t.is_zero()) {
        return Ok(Vec::new());
    }
    Ok(
        wait_for(py, timeout, |d| match m.lock().recv_batch_timeout(max, d) {
            Ok(v) => Ok(Some(v)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(e) => Err(err(e)),
        })?
        .unwrap_or_default(),
    )
}

/// The next record of an iteration (the core's rule): `None` once closed and
/// drained.
pub(crate) fn iter_next<R: Reader + ?Sized>(
    py: Python<'_>,
    m: &Mutex<R>,
) -> PyResult<Option<ReadRecord>> {
    match locked(py, m, |r| r.try_next()) {
        Ok(next) => return Ok(next),
        Err(TryRecvError::Empty) => {}
        Err(e) => return Err(err(e)),
    }
    Ok(wait_for(py, None, |d| match m.lock().next_timeout(d) {
        Ok(next) => Ok(Some(next)),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(e) => Err(err(e)),
    })?
    .flatten())
}

/// One poll of a reader for `NextRecord`: `None` at the end of an iteration.
pub(crate) type PollRecord = PyResult<Poll<Result<Option<ReadRecord>, RecvError>>>;

/// `await reader.next()` and `async for`: one record, `Closed` at the end.
pub(crate) struct NextRecord<F> {
    /// Locks the reader and polls it (an error: a rebalance listener raised).
    pub(crate) poll: F,
    pub(crate) cancel: Box<dyn FnMut(Python<'_>) + Send>,
}

impl<F> PendingOp for NextRecord<F>
where
    F: FnMut(Python<'_>, &Waker) -> PollRecord + Send,
{
    fn poll(&mut self, py: Python<'_>, waker: &Waker) -> Poll<PyResult<Py<PyAny>>> {
        let polled = match (self.poll)(py, waker) {
            Ok(p) => p,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match polled {
            Poll::Pending => Poll::Pending,
            // The end of an iteration: `Closed`, which `async for` turns into its end.
            Poll::Ready(Ok(None)) => Poll::Ready(Err(err(RecvError::Closed))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(err(e))),
            Poll::Ready(Ok(Some(r))) => {
                Poll::Ready(RecordPy::new(py, r).and_then(|r| Ok(Py::new(py, r)?.into_any())))
            }
        }
    }

    fn cancel(&mut self, py: Python<'_>) {
        (self.cancel)(py);
    }
}
