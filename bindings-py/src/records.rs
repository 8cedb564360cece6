//! `Receipt` and `Record`, and what readers hand over before conversion.

use pyo3::prelude::*;
use pyo3::types::PyList;
use ringlet::journal::Event;
use ringlet::{Headers, Key, Record};

use crate::convert::{headers_to_py, key_to_py, to_plain, Value};

/// What a record holds before it reaches Python: a Python object, or a journal
/// event (converted to a dict).
#[derive(Clone)]
pub(crate) enum Payload {
    Value(Value),
    Event(Box<Event>),
}

/// Records as readers return them, before conversion (no GIL needed).
pub(crate) type ReadRecord = Record<Payload>;

impl From<Value> for Payload {
    fn from(v: Value) -> Self {
        Payload::Value(v)
    }
}

impl From<Event> for Payload {
    fn from(e: Event) -> Self {
        Payload::Event(Box::new(e))
    }
}

/// A record as readers hand it over.
pub(crate) fn read<T: Into<Payload>>(r: Record<T>) -> ReadRecord {
    Record {
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key,
        headers: r.headers,
        value: r.value.into(),
    }
}

/// Where a published record went.
#[pyclass(frozen, module = "ringlet", eq)]
#[derive(PartialEq, Eq)]
pub struct Receipt {
    /// The partition.
    #[pyo3(get)]
    pub partition: u32,
    /// Its offset in the partition.
    #[pyo3(get)]
    pub offset: u64,
}

#[pymethods]
impl Receipt {
    fn __repr__(&self) -> String {
        format!(
            "Receipt(partition={}, offset={})",
            self.partition, self.offset
        )
    }

    fn __hash__(&self) -> u64 {
        (u64::from(self.partition) << 48) ^ self.offset
    }
}

impl From<ringlet::Receipt> for Receipt {
    fn from(r: ringlet::Receipt) -> Self {
        Receipt {
            partition: r.partition,
            offset: r.offset,
        }
    }
}

/// A record read from a topic.
#[pyclass(frozen, module = "ringlet", name = "Record")]
pub struct RecordPy {
    partition: u32,
    offset: u64,
    timestamp: i64,
    key: Option<Key>,
    headers: Headers,
    value: Py<PyAny>,
    /// The topic, for records read by a pattern subscription.
    topic: Option<std::sync::Arc<str>>,
}

impl RecordPy {
    pub(crate) fn new(py: Python<'_>, r: ReadRecord) -> PyResult<Self> {
        let value = match &r.value {
            Payload::Value(v) => v.get(py),
            Payload::Event(e) => to_plain(py, e)?,
        };
        Ok(RecordPy {
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            headers: r.headers,
            value,
            topic: None,
        })
    }

    /// The record as read from `topic` (by a pattern subscription).
    pub(crate) fn in_topic(mut self, topic: std::sync::Arc<str>) -> Self {
        self.topic = Some(topic);
        self
    }

    pub(crate) fn list(py: Python<'_>, rs: Vec<ReadRecord>) -> PyResult<Py<PyList>> {
        let items = rs
            .into_iter()
            .map(|r| Py::new(py, RecordPy::new(py, r)?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.unbind())
    }
}

#[pymethods]
impl RecordPy {
    /// The topic it was read from, for records of a pattern subscription
    /// (`None` otherwise: the reader's topic).
    #[getter]
    fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// The partition.
    #[getter]
    fn partition(&self) -> u32 {
        self.partition
    }

    /// The offset in its partition.
    #[getter]
    fn offset(&self) -> u64 {
        self.offset
    }

    /// Milliseconds since the Unix epoch (bus clock, or the producer's).
    #[getter]
    fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The key: `str` if it was given as text, `bytes` otherwise, or `None`.
    #[getter]
    fn key(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.key.as_ref().map(|k| key_to_py(py, k))
    }

    /// The headers, in order, as `(name, bytes)` pairs.
    #[getter]
    fn headers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        headers_to_py(py, &self.headers)
    }

    /// The value: the very object that was published.
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.value.clone_ref(py)
    }

    /// The last header of that name, or `None`.
    fn header(&self, py: Python<'_>, name: &str) -> Option<Py<PyAny>> {
        crate::convert::header_to_py(py, &self.headers, name)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let value = self.value.bind(py).repr()?.to_string();
        let key = match &self.key {
            Some(k) => format!(", key={}", key_to_py(py, k).bind(py).repr()?),
            None => String::new(),
        };
        let topic = match &self.topic {
            Some(t) => format!("topic={t:?}, "),
            None => String::new(),
        };
        Ok(format!(
            "Record({topic}partition={}, offset={}, timestamp={}{key}, value={})",
            self.partition,
            self.offset,
            self.timestamp,
            crate::convert::short(&value)
        ))
    }
}
