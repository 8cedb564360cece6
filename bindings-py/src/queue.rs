//! `Queue` and `Delivery`, and awaiting the core's own futures.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use ringlet::queue::SharedDelivery;
use ringlet::{
    Delivery, Headers, Key, Message, ReceiveTimeoutError, SendTimeoutError, TryReceiveError,
    TrySendError,
};

use crate::aio::{awaitable, awaitable_or_stop, PendingOp, Ready};
use crate::convert::{self, Value};
use crate::errors::{err, full_after, none_if_closed, stop_async};
use crate::reader::wait_for;

/// Awaits a core future (owned, `Unpin`), converting its output with `conv`.
pub(crate) struct FutureOp<F, C> {
    fut: F,
    conv: Option<C>,
}

impl<F, C> FutureOp<F, C> {
    pub(crate) fn new(fut: F, conv: C) -> Self {
        FutureOp {
            fut,
            conv: Some(conv),
        }
    }
}

impl<F, C> PendingOp for FutureOp<F, C>
where
    F: Future + Unpin + Send,
    F::Output: Send,
    C: FnOnce(Python<'_>, F::Output) -> PyResult<Py<PyAny>> + Send,
{
    fn poll(&mut self, py: Python<'_>, waker: &Waker) -> Poll<PyResult<Py<PyAny>>> {
        let fut = &mut self.fut;
        // Polling may take core locks: without the GIL.
        let r = py.detach(|| Pin::new(fut).poll(&mut Context::from_waker(waker)));
        match r {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => match self.conv.take() {
                Some(c) => Poll::Ready(c(py, out)),
                None => Poll::Ready(Ok(py.None())),
            },
        }
    }
}

pub(crate) fn to_delivery(
    py: Python<'_>,
    r: Result<Delivery<Value>, ringlet::ReceiveError>,
) -> PyResult<Py<PyAny>> {
    let d = r.map_err(err)?;
    Ok(Py::new(py, DeliveryPy::new(py, d))?.into_any())
}

fn sent(py: Python<'_>, r: Result<(), ringlet::SendError<Message<Value>>>) -> PyResult<Py<PyAny>> {
    r.map_err(err)?;
    Ok(py.None())
}

/// A named, bounded queue for competing consumers: each message goes to one
/// consumer at a time and is removed when acked.
#[pyclass(frozen, module = "ringlet", name = "Queue")]
pub struct QueuePy {
    q: ringlet::Queue<Value>,
}

impl QueuePy {
    pub(crate) fn new(q: ringlet::Queue<Value>) -> Self {
        QueuePy { q }
    }

    fn receive_op(&self) -> impl PendingOp + 'static {
        FutureOp::new(self.q.receive_async(), to_delivery)
    }
}

#[pymethods]
impl QueuePy {
    /// The queue's name.
    #[getter]
    fn name(&self) -> String {
        self.q.name().to_owned()
    }

    /// Messages held at most (ready, in flight and delayed).
    #[getter]
    fn capacity(&self) -> usize {
        self.q.config().capacity
    }

    /// Seconds a delivery may stay unsettled before the message is ready again.
    #[getter]
    fn visibility_timeout(&self) -> f64 {
        self.q.config().visibility_timeout.as_secs_f64()
    }

    /// Deliveries allowed per message, or `None` (unlimited).
    #[getter]
    fn max_deliveries(&self) -> Option<u32> {
        self.q.config().max_deliveries
    }

    /// Where dead letters go, or `None`.
    #[getter]
    fn dead_letter(&self) -> Option<String> {
        self.q.config().dead_letter.clone()
    }

    /// The configuration as a dict.
    #[getter]
    fn config(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let c = self.q.config();
        let d = PyDict::new(py);
        d.set_item("capacity", c.capacity)?;
        d.set_item("visibility_timeout", c.visibility_timeout.as_secs_f64())?;
        d.set_item("max_deliveries", c.max_deliveries)?;
        d.set_item("dead_letter", c.dead_letter.clone())?;
        Ok(d.unbind())
    }

    /// What opening a durable queue's log cut off (a torn tail left by a
    /// crash), as sentences; empty in memory and when the log was whole.
    #[getter]
    fn recovered(&self) -> Vec<String> {
        self.q.recovered()
    }

    /// Whether the queue was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.q.is_closed()
    }

    /// The queue's figures (`ready`, `in_flight`, `delayed`, `sent`, `acked`, …).
    #[getter]
    fn figures(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_plain(py, &self.q.figures())
    }

    /// Sends a value (any object, kept by reference). Waits while the queue is
    /// full, at most `timeout` seconds (then `Full`; `timeout=0`: at once).
    /// `delay`: the message becomes ready after that long (bus clock).
    #[pyo3(signature = (value, *, key = None, headers = None, delay = None, timeout = None))]
    fn send(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        delay: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let m = convert::message(value, key, headers)?;
        let delay = convert::opt_duration(delay, "delay")?;
        let timeout = convert::opt_duration(timeout, "timeout")?;
        self.send_msg(py, m, delay, timeout)
    }

    /// Sends every value of a list (or iterable), waiting while full (at most
    /// `timeout` seconds in all, then `Full` with `.sent`: the values before it
    /// were sent); returns how many.
    #[pyo3(signature = (values, *, timeout = None))]
    fn send_many(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let mut rest: VecDeque<Message<Value>> = convert::items(values, "send_many")?
            .iter()
            .map(|v| Message::new(Value::new(v)))
            .collect();
        let (total, timeout) = (rest.len(), convert::opt_duration(timeout, "timeout")?);
        let q = &self.q;
        let sent = wait_for(py, timeout, |step| {
            while let Some(m) = rest.pop_front() {
                match q.send_message_timeout(m, step) {
                    Ok(()) => {}
                    Err(SendTimeoutError::Timeout(m)) => {
                        rest.push_front(m);
                        return Ok(None);
                    }
                    Err(e) => return Err(err(e)),
                }
            }
            Ok(Some(()))
        })?;
        sent.map(|()| total)
            .ok_or_else(|| full_after("queue", "sent", total - rest.len(), total))
    }

    /// Sends a value, waiting asynchronously while the queue is full.
    #[pyo3(signature = (value, *, key = None, headers = None))]
    fn send_async(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let m = convert::message(value, key, headers)?;
        awaitable(py, FutureOp::new(self.q.send_message_async(m), sent))
    }

    /// The next delivery, waiting up to `timeout` seconds (`None`: as long as it
    /// takes; Ctrl-C interrupts). `None` on timeout; `Closed` once the queue is
    /// closed and nothing is ready.
    #[pyo3(signature = (timeout = None))]
    fn receive(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<DeliveryPy>> {
        let timeout = convert::opt_duration(timeout, "timeout")?;
        Ok(receive_with(
            py,
            timeout,
            || self.q.try_receive(),
            |d| self.q.receive_timeout(d),
        )?
        .map(|d| DeliveryPy::new(py, d)))
    }

    /// Up to `max` deliveries, waiting up to `timeout` seconds for the first
    /// (empty list on timeout).
    #[pyo3(signature = (max = None, timeout = None))]
    fn receive_many(
        &self,
        py: Python<'_>,
        max: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        let max = convert::opt_count::<usize>(max, "max")?.unwrap_or(1024);
        let timeout = convert::opt_duration(timeout, "timeout")?;
        let v = receive_many_with(
            py,
            max,
            timeout,
            |n| self.q.try_receive_batch(n),
            |n, d| self.q.receive_batch_timeout(n, d),
        )?;
        deliveries(py, v)
    }

    /// Waits for the next delivery (asyncio); `Closed` at the end.
    fn receive_async(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        awaitable(py, self.receive_op())
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Deliveries until the queue is closed and drained.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<DeliveryPy>> {
        none_if_closed(py, self.receive(py, None))
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.q.try_receive() {
            Ok(d) => Ready::wrap(py, Py::new(py, DeliveryPy::new(py, d))?.into_any()),
            Err(TryReceiveError::Closed) => Err(stop_async()),
            Err(TryReceiveError::Empty) => awaitable_or_stop(py, self.receive_op()),
            Err(e) => Err(crate::errors::err(e)),
        }
    }

    /// Closes the queue: sends raise `Closed`; receivers drain what is ready; in
    /// flight deliveries can still be settled.
    fn close(&self) {
        self.q.close()
    }

    /// This queue's entry of `bus.snapshot()`.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| self.q.snapshot());
        convert::to_plain(py, &s)
    }

    /// Messages ready now (in flight and delayed ones are not counted; see
    /// `figures`).
    fn __len__(&self) -> usize {
        self.q.len()
    }

    fn __repr__(&self) -> String {
        let f = self.q.figures();
        format!(
            "Queue({:?}, capacity={}, ready={}, in_flight={}, delayed={}{})",
            self.q.name(),
            self.q.config().capacity,
            f.ready,
            f.in_flight,
            f.delayed,
            if self.q.is_closed() { ", closed" } else { "" }
        )
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = self.snapshot(py)?;
        crate::display(py, "queue_html", s)
    }
}

impl QueuePy {
    fn send_msg(
        &self,
        py: Python<'_>,
        m: Message<Value>,
        delay: Option<Duration>,
        timeout: Option<Duration>,
    ) -> PyResult<()> {
        let first = match delay {
            None => self.q.try_send_message(m),
            Some(d) => self.q.try_send_delayed(m, d),
        };
        let m = match first {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(m)) => m,
            Err(e) => return Err(err(e)),
        };
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(err(TrySendError::Full(())));
        }
        let mut msg = Some(m);
        let q = &self.q;
        let sent = wait_for(py, timeout, |step| {
            let Some(m) = msg.take() else { return Ok(None) };
            let r = match delay {
                None => q.send_message_timeout(m, step),
                Some(d) => q.send_delayed_timeout(m, d, step),
            };
            match r {
                Ok(()) => Ok(Some(())),
                Err(SendTimeoutError::Timeout(m)) => {
                    msg = Some(m);
                    Ok(None)
                }
                Err(e) => Err(err(e)),
            }
        })?;
        sent.ok_or_else(|| err(TrySendError::Full(())))
    }
}

/// One delivery: a fast try, then waits in ticks (Ctrl-C checked).
pub(crate) fn receive_with<F, W>(
    py: Python<'_>,
    timeout: Option<Duration>,
    try_receive: F,
    receive_timeout: W,
) -> PyResult<Option<Delivery<Value>>>
where
    F: FnOnce() -> Result<Delivery<Value>, TryReceiveError>,
    W: Fn(Duration) -> Result<Delivery<Value>, ReceiveTimeoutError> + Send + Sync,
{
    match try_receive() {
        Ok(d) => return Ok(Some(d)),
        Err(TryReceiveError::Empty) => {}
        Err(e) => return Err(err(e)),
    }
    if timeout.is_some_and(|t| t.is_zero()) {
        return Ok(None);
    }
    wait_for(py, timeout, |d| match receive_timeout(d) {
        Ok(d) => Ok(Some(d)),
        Err(ReceiveTimeoutError::Timeout) => Ok(None),
        Err(e) => Err(err(e)),
    })
}

/// Up to `max` deliveries, waiting up to `timeout` for the first.
pub(crate) fn receive_many_with<F, W>(
    py: Python<'_>,
    max: usize,
    timeout: Option<Duration>,
    try_batch: F,
    batch_timeout: W,
) -> PyResult<Vec<Delivery<Value>>>
where
    F: FnOnce(usize) -> Result<Vec<Delivery<Value>>, TryReceiveError>,
    W: Fn(usize, Duration) -> Result<Vec<Delivery<Value>>, ReceiveTimeoutError> + Send + Sync,
{
    if max == 0 {
        return Ok(Vec::new());
    }
    match try_batch(max) {
        Ok(v) if !v.is_empty() => return Ok(v),
        Ok(_) | Err(TryReceiveError::Empty) => {}
        Err(e) => return Err(err(e)),
    }
    if timeout.is_some_and(|t| t.is_zero()) {
        return Ok(Vec::new());
    }
    Ok(wait_for(py, timeout, |d| match batch_timeout(max, d) {
        Ok(v) => Ok(Some(v)),
        Err(ReceiveTimeoutError::Timeout) => Ok(None),
        Err(e) => Err(err(e)),
    })?
    .unwrap_or_default())
}

pub(crate) fn deliveries(py: Python<'_>, v: Vec<Delivery<Value>>) -> PyResult<Py<PyList>> {
    let items = v
        .into_iter()
        .map(|d| Py::new(py, DeliveryPy::new(py, d)))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.unbind())
}

/// A message delivered to one consumer until it is settled: `ack()`, `nack()`,
/// `reject()`. As a context manager it acks on success and nacks on an exception.
#[pyclass(frozen, module = "ringlet", name = "Delivery")]
pub struct DeliveryPy {
    d: SharedDelivery<Value>,
    value: Py<PyAny>,
    key: Option<Key>,
    headers: Headers,
    attempt: u32,
    partition: Option<u32>,
    offset: Option<u64>,
    enqueued_at: i64,
    queue: String,
}

impl DeliveryPy {
    pub(crate) fn new(py: Python<'_>, d: Delivery<Value>) -> Self {
        DeliveryPy {
            value: d.value().get(py),
            key: d.key().cloned(),
            headers: d.headers().clone(),
            attempt: d.attempt(),
            partition: d.partition(),
            offset: d.offset(),
            enqueued_at: d.enqueued_at(),
            queue: d.queue_name().to_owned(),
            d: SharedDelivery::new(d),
        }
    }
}

impl DeliveryPy {
    /// Crashes its consumer (`bus.faults().crash`); a settled one is not held.
    pub(crate) fn crash(&self, py: Python<'_>, f: &ringlet::faults::Faults) -> bool {
        match self.d.take_delivery() {
            Some(d) => py.detach(|| f.crash(d)),
            None => false,
        }
    }
}

#[pymethods]
impl DeliveryPy {
    /// The message's value: the very object that was sent.
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value.clone_ref(py)
    }

    /// The key (`str`, `bytes`) or `None`.
    #[getter]
    fn key(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.key.as_ref().map(|k| convert::key_to_py(py, k))
    }

    /// The headers, in order, as `(name, bytes)` pairs.
    #[getter]
    fn headers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        convert::headers_to_py(py, &self.headers)
    }

    /// The last header of that name, or `None`.
    fn header(&self, py: Python<'_>, name: &str) -> Option<Py<PyAny>> {
        convert::header_to_py(py, &self.headers, name)
    }

    /// 1 on the first delivery, then 2, 3, …
    #[getter]
    fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The record's partition (share groups), or `None`.
    #[getter]
    fn partition(&self) -> Option<u32> {
        self.partition
    }

    /// The record's offset (share groups), or `None`.
    #[getter]
    fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// When the message was sent (ms since the epoch, bus clock).
    #[getter]
    fn enqueued_at(&self) -> i64 {
        self.enqueued_at
    }

    /// Whether it was settled.
    #[getter]
    fn settled(&self) -> bool {
        self.d.is_settled()
    }

    /// Done: removes the message. `Expired` if the visibility timeout passed
    /// first; `AlreadySettled` if settled before.
    fn ack(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.d.ack()).map_err(err)
    }

    /// Not done: ready again at once (at the head), or after `delay` seconds (bus
    /// clock) at the tail; dead-lettered after the last allowed attempt.
    #[pyo3(signature = (delay = None))]
    fn nack(&self, py: Python<'_>, delay: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let delay = convert::opt_duration(delay, "delay")?;
        py.detach(|| match delay {
            None => self.d.nack(),
            Some(d) => self.d.nack_after(d),
        })
        .map_err(err)
    }

    /// Never going to work: dead-letters the message now (reason `rejected`).
    fn reject(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.d.reject()).map_err(err)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Acks on success, nacks on an exception (unless settled in the block). A
    /// failed ack raises; a failed nack leaves the block's exception to propagate.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if self.d.is_settled() {
            return Ok(false);
        }
        match exc_type.filter(|t| !t.is_none()) {
            None => self.ack(py)?,
            Some(_) => {
                let _ = py.detach(|| self.d.nack());
            }
        }
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let value = self.value.bind(py).repr()?.to_string();
        let origin = match (self.partition, self.offset) {
            (Some(p), Some(o)) => format!(", partition={p}, offset={o}"),
            _ => String::new(),
        };
        Ok(format!(
            "Delivery(queue={:?}, attempt={}{origin}, value={}{})",
            self.queue,
            self.attempt,
            convert::short(&value),
            if self.d.is_settled() { ", settled" } else { "" }
        ))
    }
}
