//! `Bus`, `ManualClock`, `Topic` and `Subscription`.

use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use ringlet::journal::{Event, JOURNAL_TOPIC};
use ringlet::options::TopicOptions;
use ringlet::{
    Error, Message, OnLag, PublishTimeoutError, Record, RecvError, RecvTimeoutError, Start,
    TopicConfig, TryRecvError,
};

use crate::aio::{awaitable, Ready};
use crate::convert::{self, Value};
use crate::errors::{err, stop_async, TypeMismatch};
use crate::group::{GroupPy, ShareGroupPy};
use crate::queue::QueuePy;
use crate::reader::{self, locked, wait_for, NextRecord, PollRecord, Reader};
use crate::records::{raw_event, raw_value, Raw, Receipt, RecordPy};

fn published(
    py: Python<'_>,
    r: Result<ringlet::Receipt, ringlet::PublishError<Message<Value>>>,
) -> PyResult<Py<PyAny>> {
    let r = r.map_err(err)?;
    Ok(Py::new(py, Receipt::from(r))?.into_any())
}

/// A manual clock for deterministic runs: starts at `start` ms and moves only when
/// `advance` is called, firing every transition that falls due, in order.
#[pyclass(frozen, module = "ringlet", name = "ManualClock")]
pub struct ManualClockPy {
    pub(crate) clock: ringlet::ManualClock,
}

#[pymethods]
impl ManualClockPy {
    #[new]
    #[pyo3(signature = (start = None))]
    fn new(start: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let clock = match start {
            None => ringlet::ManualClock::new(),
            Some(s) => ringlet::ManualClock::starting_at(convert::timestamp_ms(s, "start")?),
        };
        Ok(ManualClockPy { clock })
    }

    /// The clock's time, ms since the epoch.
    #[getter]
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Moves the clock forward by `delta` (seconds or `timedelta`), firing every
    /// transition that falls due (visibility timeouts, delays, session timeouts,
    /// expiry) in deadline order.
    fn advance(&self, py: Python<'_>, delta: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = convert::duration(delta, "delta")?;
        let clock = self.clock.clone();
        py.detach(move || clock.advance(d));
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("ManualClock(now_ms={})", self.clock.now_ms())
    }
}

/// The event bus: a registry of topics and queues by name.
#[pyclass(frozen, module = "ringlet", name = "Bus")]
pub struct BusPy {
    pub(crate) bus: ringlet::Bus,
    clock: Option<Py<ManualClockPy>>,
}

impl BusPy {
    fn open_topic(&self, name: &str) -> PyResult<Option<TopicKind>> {
        match self.bus.get_topic::<Value>(name) {
            Ok(t) => Ok(Some(TopicKind::Values(t))),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(Error::TypeMismatch { .. }) if name == JOURNAL_TOPIC => self
                .bus
                .get_topic::<Event>(name)
                .map(|t| Some(TopicKind::Journal(t)))
                .map_err(err),
            Err(e) => Err(err(e)),
        }
    }

    fn wrap(&self, kind: TopicKind) -> TopicPy {
        TopicPy { kind }
    }
}

#[pymethods]
impl BusPy {
    #[new]
    #[pyo3(signature = (clock = None, journal = None))]
    fn new(clock: Option<Py<ManualClockPy>>, journal: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut b = ringlet::Bus::builder();
        if let Some(c) = &clock {
            b = b.clock(c.get().clock.clone());
        }
        if let Some(n) = convert::opt_count::<usize>(journal, "journal")? {
            b = b.journal(n);
        }
        Ok(BusPy {
            bus: b.build(),
            clock,
        })
    }

    /// The topic of that name, created if it does not exist. Options left out
    /// accept what exists (or take the defaults); a conflicting option raises
    /// `ConfigError`.
    /// `compacted=True` keeps the latest record per key; publishing `None` with a
    /// key deletes the key (a tombstone).
    #[pyo3(signature = (name, *, partitions = None, capacity = None, max_age = None, on_full = None, compacted = None))]
    #[allow(clippy::too_many_arguments)]
    fn topic(
        &self,
        name: &str,
        partitions: Option<&Bound<'_, PyAny>>,
        capacity: Option<&Bound<'_, PyAny>>,
        max_age: Option<&Bound<'_, PyAny>>,
        on_full: Option<&Bound<'_, PyAny>>,
        compacted: Option<bool>,
    ) -> PyResult<TopicPy> {
        let options = TopicOptions {
            partitions: convert::opt_count(partitions, "partitions")?,
            capacity: convert::opt_count(capacity, "capacity")?,
            max_age: convert::opt_duration(max_age, "max_age")?,
            on_full: on_full
                .filter(|p| !p.is_none())
                .map(|p| convert::choice(p, "on_full"))
                .transpose()?,
            compacted,
        };
        let t = self
            .bus
            .open_topic::<Value>(name, &options, |v| Python::attach(|py| v.is_none(py)))
            .map_err(err)?;
        Ok(self.wrap(TopicKind::Values(t)))
    }

    /// The queue of that name, created if it does not exist. Options left out
    /// accept what exists (or take the defaults); a conflicting option raises
    /// `ConfigError`.
    #[pyo3(signature = (name, *, capacity = None, visibility_timeout = None, max_deliveries = None, dead_letter = None))]
    fn queue(
        &self,
        name: &str,
        capacity: Option<&Bound<'_, PyAny>>,
        visibility_timeout: Option<&Bound<'_, PyAny>>,
        max_deliveries: Option<&Bound<'_, PyAny>>,
        dead_letter: Option<&str>,
    ) -> PyResult<QueuePy> {
        crate::queue::open(
            &self.bus,
            name,
            capacity,
            visibility_timeout,
            max_deliveries,
            dead_letter,
        )
    }

    /// An existing topic (`NotFound` otherwise), whatever its configuration.
    /// `"__journal"` is the journal.
    fn get_topic(&self, name: &str) -> PyResult<TopicPy> {
        match self.open_topic(name)? {
            Some(k) => Ok(self.wrap(k)),
            None => Err(err(Error::NotFound { name: name.into() })),
        }
    }

    /// An existing queue (`NotFound` otherwise), whatever its configuration.
    fn get_queue(&self, name: &str) -> PyResult<QueuePy> {
        let q = self.bus.get_queue::<Value>(name).map_err(err)?;
        Ok(QueuePy::new(q))
    }

    /// Removes a topic or queue (closing it).
    fn delete(&self, name: &str) -> PyResult<()> {
        self.bus.delete(name).map_err(err)
    }

    /// The names of topics and queues, sorted.
    fn names(&self) -> Vec<String> {
        self.bus.names()
    }

    /// Everything, as plain dicts and lists (the documented snapshot shape).
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| self.bus.snapshot());
        convert::to_plain(py, &s)
    }

    /// The journal topic, or `None` when the bus keeps no journal.
    #[getter]
    fn journal(&self) -> PyResult<Option<TopicPy>> {
        Ok(self.open_topic(JOURNAL_TOPIC)?.map(|k| self.wrap(k)))
    }

    /// The manual clock, or `None` on the system clock.
    #[getter]
    fn clock(&self, py: Python<'_>) -> Option<Py<ManualClockPy>> {
        self.clock.as_ref().map(|c| c.clone_ref(py))
    }

    /// The bus clock's time, ms since the epoch.
    #[getter]
    fn now_ms(&self) -> i64 {
        self.bus.now_ms()
    }

    /// Advances the manual clock (see `ManualClock.advance`).
    fn advance(&self, py: Python<'_>, delta: &Bound<'_, PyAny>) -> PyResult<()> {
        match &self.clock {
            Some(c) => c.get().advance(py, delta),
            None => Err(crate::errors::ConfigError::new_err(
                "this bus runs on the system clock: create it with Bus(clock=ManualClock())",
            )),
        }
    }

    fn __contains__(&self, name: &str) -> bool {
        self.bus.names().iter().any(|n| n == name)
    }

    fn __len__(&self) -> usize {
        self.bus.names().len()
    }

    fn __repr__(&self) -> String {
        let names = self.bus.names();
        let clock = if self.clock.is_some() {
            "manual"
        } else {
            "system"
        };
        format!(
            "Bus({} topics and queues, clock={clock}, now_ms={})",
            names.len(),
            self.bus.now_ms()
        )
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = self.snapshot(py)?;
        crate::display(py, "bus_html", s)
    }
}

pub(crate) enum TopicKind {
    Values(ringlet::Topic<Value>),
    Journal(ringlet::Topic<Event>),
}

macro_rules! each {
    ($kind:expr, $t:ident => $e:expr) => {
        match $kind {
            TopicKind::Values($t) => $e,
            TopicKind::Journal($t) => $e,
        }
    };
}

/// A named, partitioned, replayable topic.
#[pyclass(frozen, module = "ringlet", name = "Topic")]
pub struct TopicPy {
    pub(crate) kind: TopicKind,
}

impl TopicPy {
    pub(crate) fn values(&self) -> PyResult<&ringlet::Topic<Value>> {
        match &self.kind {
            TopicKind::Values(t) => Ok(t),
            TopicKind::Journal(_) => Err(TypeMismatch::new_err(
                "the journal is written by the bus: it can only be read (subscribe)",
            )),
        }
    }

    fn config(&self) -> &TopicConfig {
        each!(&self.kind, t => t.config())
    }

    fn publish_msg(
        &self,
        py: Python<'_>,
        msg: Message<Value>,
        timeout: Option<Duration>,
    ) -> PyResult<Receipt> {
        let t = self.values()?;
        if !t.config().on_full.waits_for_room(timeout.is_some()) {
            return t.publish_message(msg).map(Receipt::from).map_err(err);
        }
        let msg = match t.try_publish_message(msg) {
            Ok(r) => return Ok(r.into()),
            Err(ringlet::PublishError::Full(m)) => m,
            Err(e) => return Err(err(e)),
        };
        if timeout.is_some_and(|d| d.is_zero()) {
            return Err(err(ringlet::PublishError::Full(())));
        }
        let mut msg = Some(msg);
        let r = wait_for(py, timeout, |d| {
            let Some(m) = msg.take() else { return Ok(None) };
            match t.publish_message_timeout(m, d) {
                Ok(r) => Ok(Some(r)),
                Err(PublishTimeoutError::Timeout(m)) => {
                    msg = Some(m);
                    Ok(None)
                }
                Err(e) => Err(err(e)),
            }
        })?;
        r.map(Receipt::from)
            .ok_or_else(|| err(ringlet::PublishError::Full(())))
    }
}

#[pymethods]
impl TopicPy {
    /// The topic's name.
    #[getter]
    fn name(&self) -> String {
        each!(&self.kind, t => t.name().to_owned())
    }

    /// Number of partitions.
    #[getter]
    fn partitions(&self) -> u32 {
        self.config().partitions
    }

    /// Records retained per partition.
    #[getter]
    fn capacity(&self) -> usize {
        self.config().capacity
    }

    /// The age limit in seconds, or `None`.
    #[getter]
    fn max_age(&self) -> Option<f64> {
        self.config().max_age.map(|d| d.as_secs_f64())
    }

    /// What a full partition does: `"overwrite"`, `"block"`, `"reject"` or `"keep"`.
    #[getter]
    fn on_full(&self) -> &'static str {
        self.config().on_full.as_str()
    }

    /// Whether the topic was closed.
    #[getter]
    fn closed(&self) -> bool {
        each!(&self.kind, t => t.is_closed())
    }

    /// Per partition, the offset the next record will get.
    fn end_offsets(&self) -> Vec<u64> {
        each!(&self.kind, t => t.end_offsets())
    }

    /// Per partition, the oldest retained offset.
    fn earliest_offsets(&self) -> Vec<u64> {
        each!(&self.kind, t => t.earliest_offsets())
    }

    /// Per partition, the first retained offset at or after `timestamp` (int ms or
    /// datetime), or `None`.
    fn offsets_for_times(&self, timestamp: &Bound<'_, PyAny>) -> PyResult<Vec<Option<u64>>> {
        let ms = convert::timestamp_ms(timestamp, "timestamp")?;
        Ok(each!(&self.kind, t => t.offsets_for_times(ms)))
    }

    /// Publishes a value (any object, kept by reference). On a `block` topic it
    /// waits for room (at most `timeout` seconds, then `Full`); `reject` and `keep`
    /// topics raise `Full` when full.
    #[pyo3(signature = (value, *, key = None, headers = None, partition = None, timestamp = None, timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        partition: Option<&Bound<'_, PyAny>>,
        timestamp: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Receipt> {
        let mut m = convert::message(value, key, headers)?;
        if let Some(p) = convert::opt_count::<u32>(partition, "partition")? {
            m = m.partition(p);
        }
        if let Some(ts) = timestamp.filter(|t| !t.is_none()) {
            m = m.timestamp(convert::timestamp_ms(ts, "timestamp")?);
        }
        let timeout = convert::opt_duration(timeout, "timeout")?;
        self.publish_msg(py, m, timeout)
    }

    /// Publishes every value of an iterable (unkeyed); returns how many. On a
    /// `block` topic it waits for room (at most `timeout` seconds in all, then
    /// `Full`: the values before it were published).
    #[pyo3(signature = (values, *, timeout = None))]
    fn publish_many(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let t = self.values()?;
        let vals = values
            .try_iter()
            .map_err(|_| PyTypeError::new_err("publish_many takes an iterable of values"))?
            .map(|v| v.map(|v| Value::new(&v)))
            .collect::<PyResult<Vec<Value>>>()?;
        let timeout = convert::opt_duration(timeout, "timeout")?;
        if !t.config().on_full.waits_for_room(timeout.is_some()) {
            return t.publish_batch(vals).map_err(err);
        }
        // In slices, so Ctrl-C interrupts the wait.
        let (total, mut rest) = (vals.len(), vals);
        wait_for(py, timeout, |d| {
            match t.publish_batch_timeout(std::mem::take(&mut rest), d) {
                Ok(_) => Ok(Some(())),
                Err(ringlet::PublishError::Full(r)) => {
                    rest = r;
                    Ok(None)
                }
                Err(e) => Err(err(e)),
            }
        })?
        .map(|()| total)
        .ok_or_else(|| err(ringlet::PublishError::Full(())))
    }

    /// Publishes a value, waiting asynchronously for room on a `block` topic.
    #[pyo3(signature = (value, *, key = None, headers = None))]
    fn publish_async(
        &self,
        py: Python<'_>,
        value: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let m = convert::message(value, key, headers)?;
        let t = self.values()?;
        // Room now: ready at once, no coroutine.
        let m = match t.try_publish_message(m) {
            Ok(r) => return Ready::wrap(py, Py::new(py, Receipt::from(r))?.into_any()),
            Err(ringlet::PublishError::Full(m)) => m,
            Err(e) => return Err(err(e)),
        };
        let fut = t.publish_message_async(m);
        awaitable(py, crate::queue::FutureOp::new(fut, published))
    }

    /// A new reader over all partitions. `start`: `"earliest"`, `"latest"`
    /// (default), an offset, `{partition: offset}` or a datetime. `on_lag`:
    /// `"earliest"` (default), `"latest"` or `"error"`.
    #[pyo3(signature = (start = None, *, on_lag = None))]
    fn subscribe(
        &self,
        start: Option<&Bound<'_, PyAny>>,
        on_lag: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SubscriptionPy> {
        let start = match start.filter(|s| !s.is_none()) {
            Some(s) => convert::start(s)?,
            None => Start::Latest,
        };
        let on_lag = match on_lag.filter(|s| !s.is_none()) {
            Some(s) => convert::choice(s, "on_lag")?,
            None => OnLag::Earliest,
        };
        let state: Box<dyn SubOps> = match &self.kind {
            TopicKind::Values(t) => Box::new(SubState {
                sub: t.subscribe_with(start, on_lag).map_err(err)?,
                conv: raw_value,
            }),
            TopicKind::Journal(t) => Box::new(SubState {
                sub: t.subscribe_with(start, on_lag).map_err(err)?,
                conv: raw_event,
            }),
        };
        Ok(SubscriptionPy {
            inner: Mutex::new(state),
            topic: self.name(),
            on_lag,
        })
    }

    /// The consumer group of that name on this topic. Options left out accept
    /// what exists (or take the defaults: start `"latest"`, no auto-commit, 45 s
    /// session timeout).
    #[pyo3(signature = (name, *, start = None, auto_commit = None, session_timeout = None))]
    fn group(
        &self,
        name: &str,
        start: Option<&Bound<'_, PyAny>>,
        auto_commit: Option<bool>,
        session_timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<GroupPy> {
        crate::group::open_group(self.values()?, name, start, auto_commit, session_timeout)
    }

    /// The share group of that name on this topic (Kafka's queues over a topic).
    /// Options left out accept what exists (or take the defaults).
    #[pyo3(signature = (name, *, start = None, visibility_timeout = None, max_deliveries = None, max_in_flight = None, dead_letter = None))]
    fn share_group(
        &self,
        name: &str,
        start: Option<&Bound<'_, PyAny>>,
        visibility_timeout: Option<&Bound<'_, PyAny>>,
        max_deliveries: Option<&Bound<'_, PyAny>>,
        max_in_flight: Option<&Bound<'_, PyAny>>,
        dead_letter: Option<&str>,
    ) -> PyResult<ShareGroupPy> {
        crate::group::open_share_group(
            self.values()?,
            name,
            start,
            visibility_timeout,
            max_deliveries,
            max_in_flight,
            dead_letter,
        )
    }

    /// Closes the topic: publishing raises `Closed`; readers drain what is retained.
    fn close(&self) {
        each!(&self.kind, t => t.close())
    }

    /// The topic's configuration as a dict.
    #[getter(config)]
    fn config_dict(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let c = self.config();
        let d = PyDict::new(py);
        d.set_item("partitions", c.partitions)?;
        d.set_item("capacity", c.capacity)?;
        d.set_item("max_age", c.max_age.map(|d| d.as_secs_f64()))?;
        d.set_item("on_full", c.on_full.as_str())?;
        Ok(d.unbind())
    }

    /// This topic's entry of `bus.snapshot()`.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| each!(&self.kind, t => t.snapshot()));
        convert::to_plain(py, &s)
    }

    /// Records retained, over all partitions.
    fn __len__(&self) -> usize {
        each!(&self.kind, t => t.len())
    }

    fn __repr__(&self) -> String {
        let c = self.config();
        format!(
            "Topic({:?}, partitions={}, capacity={}, on_full={:?}, records={}{})",
            self.name(),
            c.partitions,
            c.capacity,
            c.on_full.as_str(),
            self.__len__(),
            if self.closed() { ", closed" } else { "" }
        )
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = self.snapshot(py)?;
        crate::display(py, "topic_html", s)
    }
}

/// A subscription's operations, whatever the topic holds.
pub(crate) trait SubOps: Reader {
    fn skipped(&self) -> u64;
    fn positions(&self) -> Vec<u64>;
    fn lag(&self) -> u64;
    fn seek(&mut self, start: Start) -> Result<(), Error>;
    fn close(&mut self);
}

struct SubState<T> {
    sub: ringlet::Subscription<T>,
    conv: fn(Record<T>) -> Raw,
}

impl<T: Clone + Send + Sync + 'static> Reader for SubState<T> {
    fn try_recv(&mut self) -> Result<Raw, TryRecvError> {
        self.sub.try_recv().map(self.conv)
    }
    fn recv_timeout(&mut self, d: Duration) -> Result<Raw, RecvTimeoutError> {
        self.sub.recv_timeout(d).map(self.conv)
    }
    fn try_recv_batch(&mut self, max: usize) -> Result<Vec<Raw>, TryRecvError> {
        Ok(self
            .sub
            .try_recv_batch(max)?
            .into_iter()
            .map(self.conv)
            .collect())
    }
    fn recv_batch_timeout(
        &mut self,
        max: usize,
        d: Duration,
    ) -> Result<Vec<Raw>, RecvTimeoutError> {
        Ok(self
            .sub
            .recv_batch_timeout(max, d)?
            .into_iter()
            .map(self.conv)
            .collect())
    }
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Raw, RecvError>> {
        self.sub.poll_recv(cx).map(|r| r.map(self.conv))
    }
    fn cancel_poll(&mut self) {
        self.sub.cancel_poll();
    }
}

impl<T: Clone + Send + Sync + 'static> SubOps for SubState<T> {
    fn skipped(&self) -> u64 {
        self.sub.skipped()
    }
    fn positions(&self) -> Vec<u64> {
        self.sub.positions()
    }
    fn lag(&self) -> u64 {
        self.sub.lag()
    }
    fn seek(&mut self, start: Start) -> Result<(), Error> {
        self.sub.seek(start)
    }
    fn close(&mut self) {
        self.sub.close();
    }
}

impl Reader for Box<dyn SubOps> {
    fn try_recv(&mut self) -> Result<Raw, TryRecvError> {
        (**self).try_recv()
    }
    fn recv_timeout(&mut self, d: Duration) -> Result<Raw, RecvTimeoutError> {
        (**self).recv_timeout(d)
    }
    fn try_recv_batch(&mut self, max: usize) -> Result<Vec<Raw>, TryRecvError> {
        (**self).try_recv_batch(max)
    }
    fn recv_batch_timeout(
        &mut self,
        max: usize,
        d: Duration,
    ) -> Result<Vec<Raw>, RecvTimeoutError> {
        (**self).recv_batch_timeout(max, d)
    }
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Raw, RecvError>> {
        (**self).poll_recv(cx)
    }
    fn cancel_poll(&mut self) {
        (**self).cancel_poll()
    }
}

/// An independent reader over all partitions of a topic.
#[pyclass(frozen, module = "ringlet", name = "Subscription")]
pub struct SubscriptionPy {
    inner: Mutex<Box<dyn SubOps>>,
    topic: String,
    on_lag: OnLag,
}

impl SubscriptionPy {
    fn next_op(
        slf: &Py<Self>,
        py: Python<'_>,
        skip_gaps: bool,
    ) -> NextRecord<impl FnMut(Python<'_>, &std::task::Waker) -> PollRecord + Send> {
        let me = slf.clone_ref(py);
        let again = slf.clone_ref(py);
        NextRecord {
            poll: move |py: Python<'_>, waker: &std::task::Waker| {
                Ok(locked(py, &me.get().inner, |s| {
                    s.poll_recv(&mut Context::from_waker(waker))
                }))
            },
            skip_gaps,
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
        match reader::read_one(py, &self.inner, timeout, false)? {
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
        match reader::iter_next(py, &self.inner, self.on_lag != OnLag::Error)? {
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
        let skip = me.on_lag != OnLag::Error;
        loop {
            match locked(py, &me.inner, |s| s.try_recv()) {
                Ok(r) => {
                    let rec = Py::new(py, RecordPy::new(py, r)?)?.into_any();
                    return Ready::wrap(py, rec);
                }
                Err(TryRecvError::Lagged { .. }) if skip => continue,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return Err(stop_async()),
                Err(e) => return Err(err(e)),
            }
        }
        let op = Self::next_op(&slf.clone().unbind(), py, skip);
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
