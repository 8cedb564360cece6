//! `Subscription`: an independent reader over a topic (of values or journal events).

use std::task::Context;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyList;
use ringlet::{Error, OnLag, Start, TryRecvError};

use crate::aio::{awaitable, Ready};
use crate::convert::{self};
use crate::errors::{err, stop_async};
use crate::reader::{self, locked, NextRecord, PollRecord, Reader};
use crate::records::{Payload, RecordPy};
use crate::topic::TopicKind;

/// A subscription's operations, whatever the topic holds.
pub(crate) trait SubOps: Reader {
    fn skipped(&self) -> u64;
    fn positions(&self) -> Vec<u64>;
    fn lag(&self) -> u64;
    fn seek(&mut self, start: Start) -> Result<(), Error>;
    fn close(&mut self);
}

impl<T: Clone + Send + Sync + 'static + Into<Payload>> SubOps for ringlet::Subscription<T> {
    fn skipped(&self) -> u64 {
        ringlet::Subscription::skipped(self)
    }
    fn positions(&self) -> Vec<u64> {
        ringlet::Subscription::positions(self)
    }
    fn lag(&self) -> u64 {
        ringlet::Subscription::lag(self)
    }
    fn seek(&mut self, start: Start) -> Result<(), Error> {
        ringlet::Subscription::seek(self, start)
    }
    fn close(&mut self) {
        ringlet::Subscription::close(self);
    }
}

/// An independent reader over all partitions of a topic.
#[pyclass(frozen, module = "ringlet", name = "Subscription")]
pub struct SubscriptionPy {
    inner: Box<Mutex<dyn SubOps>>,
    topic: String,
}

impl SubscriptionPy {
    pub(crate) fn open(
        kind: &TopicKind,
        topic: String,
        start: Option<&Bound<'_, PyAny>>,
        on_lag: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let start = match start.filter(|s| !s.is_none()) {
            Some(s) => convert::start(s)?,
            None => Start::Latest,
        };
        let on_lag = match on_lag.filter(|s| !s.is_none()) {
            Some(s) => convert::choice(s, "on_lag")?,
            None => OnLag::Earliest,
        };
        let inner: Box<Mutex<dyn SubOps>> = match kind {
            TopicKind::Values(t) => {
                Box::new(Mutex::new(t.subscribe_with(start, on_lag).map_err(err)?))
            }
            TopicKind::Journal(t) => {
                Box::new(Mutex::new(t.subscribe_with(start, on_lag).map_err(err)?))
            }
        };
        Ok(SubscriptionPy { inner, topic })
    }

    /// `await next()` (`iterate: false`: gaps raise `Lagged`) or a step of
    /// `async for` (the core's iteration rule).
    fn next_op(
        slf: &Py<Self>,
        py: Python<'_>,
        iterate: bool,
    ) -> NextRecord<impl FnMut(Python<'_>, &std::task::Waker) -> PollRecord + Send> {
        let me = slf.clone_ref(py);
        let again = slf.clone_ref(py);
        NextRecord {
            poll: move |py: Python<'_>, waker: &std::task::Waker| {
                Ok(locked(py, &me.get().inner, |s| {
                    let cx = &mut Context::from_waker(waker);
                    if iterate {
                        s.poll_next_item(cx)
                    } else {
                        s.poll_recv(cx).map(|r| r.map(Some))
                    }
                }))
            },
            cancel: Box::new(move |py| locked(py, &again.get().inner, |s| s.cancel_poll())),
        }
    }
}

#[pymethods]
impl SubscriptionPy {
    /// The next record, waiting up to `timeout` seconds (`None`: as long as it
    /// takes; Ctrl-C interrupts). `None` on timeout; raises `Lagged` once per gap
    /// and `Closed` once the topic is closed and drained.
    #[pyo3(signature = (timeout = None))]
    fn poll(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<RecordPy>> {
        let timeout = convert::opt_duration(timeout, "timeout")?;
        match reader::read_one(py, &self.inner, timeout)? {
            Some(r) => Ok(Some(RecordPy::new(py, r)?)),
            None => Ok(None),
        }
    }

    /// Up to `max` records, waiting up to `timeout` seconds for the first (empty
    /// list on timeout). Stops before a gap, which the next read reports.
    #[pyo3(signature = (max = None, timeout = None))]
    fn poll_many(
        &self,
        py: Python<'_>,
        max: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        let max = convert::opt_count::<usize>(max, "max")?.unwrap_or(1024);
        let timeout = convert::opt_duration(timeout, "timeout")?;
        let v = reader::read_many(py, &self.inner, max, timeout)?;
        RecordPy::list(py, v)
    }

    /// Waits for the next record (asyncio). Raises `Lagged` once per gap and
    /// `Closed` at the end.
    fn next(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        awaitable(py, Self::next_op(&slf.clone().unbind(), py, false))
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<RecordPy>> {
        match reader::iter_next(py, &self.inner)? {
            Some(r) => Ok(Some(RecordPy::new(py, r)?)),
            None => Ok(None),
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let me = slf.get();
        match locked(py, &me.inner, |s| s.try_next()) {
            Ok(Some(r)) => {
                let rec = Py::new(py, RecordPy::new(py, r)?)?.into_any();
                return Ready::wrap(py, rec);
            }
            Ok(None) => return Err(stop_async()),
            Err(TryRecvError::Empty) => {}
            Err(e) => return Err(err(e)),
        }
        let op = Self::next_op(&slf.clone().unbind(), py, true);
        crate::aio::awaitable_or_stop(py, op)
    }

    /// Offsets skipped over gaps so far (iteration counts gaps here).
    #[getter]
    fn skipped(&self, py: Python<'_>) -> u64 {
        locked(py, &self.inner, |s| s.skipped())
    }

    /// Per partition, the next offset this reader returns.
    #[getter]
    fn positions(&self, py: Python<'_>) -> Vec<u64> {
        locked(py, &self.inner, |s| s.positions())
    }

    /// Records published and not yet read, over all partitions.
    #[getter]
    fn lag(&self, py: Python<'_>) -> u64 {
        locked(py, &self.inner, |s| s.lag())
    }

    /// Moves the reader (same `start` values as `subscribe`).
    fn seek(&self, py: Python<'_>, start: &Bound<'_, PyAny>) -> PyResult<()> {
        let start = convert::start(start)?;
        locked(py, &self.inner, |s| s.seek(start)).map_err(err)
    }

    /// Stops reading: the subscription no longer holds back producers; reads raise
    /// `Closed`.
    fn close(&self, py: Python<'_>) {
        locked(py, &self.inner, |s| s.close())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (positions, lag) = locked(py, &self.inner, |s| (s.positions(), s.lag()));
        format!(
            "Subscription(topic={:?}, positions={positions:?}, lag={lag})",
            self.topic
        )
    }
}
