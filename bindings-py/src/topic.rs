//! `Topic`: publishing, offsets, and opening readers and groups.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use ringlet::journal::Event;
use ringlet::{Message, PublishTimeoutError, TopicConfig};

use crate::aio::{awaitable, Ready};
use crate::convert::{self, Value};
use crate::errors::{err, full_after, TypeMismatch};
use crate::group::{GroupPy, ShareGroupPy};
use crate::reader::wait_for;
use crate::records::Receipt;
use crate::subscription::SubscriptionPy;

fn published(
    py: Python<'_>,
    r: Result<ringlet::Receipt, ringlet::PublishError<Message<Value>>>,
) -> PyResult<Py<PyAny>> {
    let r = r.map_err(err)?;
    Ok(Py::new(py, Receipt::from(r))?.into_any())
}

pub(crate) enum TopicKind {
    Values(ringlet::Topic<Value>),
    Journal(ringlet::Topic<Event>),
}

macro_rules! with_topic {
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
        with_topic!(&self.kind, t => t.config())
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
        with_topic!(&self.kind, t => t.name().to_owned())
    }

    /// What opening a durable topic's logs cut off (torn tails left by a
    /// crash), as sentences; empty in memory and when every log was whole.
    #[getter]
    fn recovered(&self) -> Vec<String> {
        with_topic!(&self.kind, t => t.recovered())
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
        with_topic!(&self.kind, t => t.is_closed())
    }

    /// Per partition, the offset the next record will get.
    fn end_offsets(&self) -> Vec<u64> {
        with_topic!(&self.kind, t => t.end_offsets())
    }

    /// Per partition, the oldest retained offset.
    fn earliest_offsets(&self) -> Vec<u64> {
        with_topic!(&self.kind, t => t.earliest_offsets())
    }

    /// Per partition, the first retained offset at or after `timestamp` (int ms or
    /// datetime), or `None`.
    fn offsets_for_times(&self, timestamp: &Bound<'_, PyAny>) -> PyResult<Vec<Option<u64>>> {
        let ms = convert::timestamp_ms(timestamp, "timestamp")?;
        Ok(with_topic!(&self.kind, t => t.offsets_for_times(ms)))
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
            m = m.partition(self.values()?.check_partition(p).map_err(err)?);
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
        let vals: Vec<Value> = convert::items(values, "publish_many")?
            .iter()
            .map(Value::new)
            .collect();
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
        .ok_or_else(|| full_after("topic", "published", total - rest.len(), total))
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
        SubscriptionPy::open(&self.kind, self.name(), start, on_lag)
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
        with_topic!(&self.kind, t => t.close())
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

    /// Its owner, description, tags and schema as a dict (see `Bus.catalog()`).
    #[getter]
    fn metadata(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let m = with_topic!(&self.kind, t => t.metadata());
        let d = pyo3::types::PyDict::new(py);
        d.set_item("owner", m.owner)?;
        d.set_item("description", m.description)?;
        d.set_item("tags", m.tags)?;
        let schema = match &m.schema {
            Some(s) => convert::json_to_py(py, s)?,
            None => py.None(),
        };
        d.set_item("schema", schema)?;
        Ok(d.into_any().unbind())
    }

    /// The JSON Schema values must match, or `None`.
    #[getter]
    fn schema(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match with_topic!(&self.kind, t => t.schema()) {
            Some(s) => convert::json_to_py(py, &s),
            None => Ok(py.None()),
        }
    }

    /// Changes the topic's JSON Schema. Only optional fields may be added
    /// (`ConfigError` saying what change is refused otherwise); a topic without
    /// a schema takes any.
    fn set_schema(&self, schema: &Bound<'_, PyAny>) -> PyResult<()> {
        let doc = crate::schema::schema_doc(schema)?;
        self.values()?.set_schema(doc).map_err(err)
    }

    /// This topic's entry of `bus.snapshot()`.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let s = py.detach(|| with_topic!(&self.kind, t => t.snapshot()));
        convert::to_plain(py, &s)
    }

    /// Records retained, over all partitions.
    fn __len__(&self) -> usize {
        with_topic!(&self.kind, t => t.len())
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
