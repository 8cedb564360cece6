//! `ringlet.lake`: `ringlet-lake`'s sink for a notebook's topics. Python values
//! become JSON (dicts, lists, str, int, float, bool, None) as the sink reads
//! them, under the GIL the caller holds.

use std::path::PathBuf;

use parking_lot::Mutex;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use ringlet_lake::{Format, LakeConfig, LakeError, Sink};

use crate::bus::BusPy;
use crate::convert::{self, Value};
use crate::errors::{closed, err};
use crate::topic::TopicPy;

/// The one place lake errors become Python exceptions.
fn lake_err(e: LakeError) -> PyErr {
    match e {
        LakeError::Io { .. } => PyOSError::new_err(e.to_string()),
        LakeError::Bus(e) => err(e),
        LakeError::Value { .. } | LakeError::Config(_) => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A Python value as JSON for the lake.
fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    Python::attach(|py| {
        let obj = v.get(py);
        let obj = obj.bind(py);
        if obj.is_instance_of::<pyo3::types::PyBytes>() {
            return Err(
                "its value is bytes, which the lake does not hold: decode it to str or a \
                        dict first (for example with a stream's map into another topic)"
                    .into(),
            );
        }
        crate::codecs::to_json(obj, 0).map_err(|why| {
            format!("its value is not JSON-shaped: {why}: convert it to these first")
        })
    })
}

/// Follows a topic as a consumer group member and writes its records to a
/// data lake folder as Parquet (or JSON Lines) files, partitioned by hour
/// (`topic=…/date=…/hour=…/`). A file's offsets are committed only once it is
/// complete and renamed into place; a sink started again after a crash resumes
/// after the last complete file.
#[pyclass(name = "LakeSink", module = "ringlet.lake", subclass)]
pub struct LakeSinkPy {
    sink: Mutex<Option<Sink<Value>>>,
    /// The stats it had when it was closed.
    last: Mutex<Option<ringlet_lake::SinkStats>>,
    topic: String,
    format: Format,
}

fn topic_of(bus: &BusPy, topic: &Bound<'_, PyAny>) -> PyResult<ringlet::Topic<Value>> {
    if let Ok(t) = topic.cast::<TopicPy>() {
        return t.borrow().values().cloned();
    }
    if let Ok(name) = topic.cast::<PyString>() {
        return bus.bus.get_topic::<Value>(&name.to_cow()?).map_err(err);
    }
    Err(PyTypeError::new_err(format!(
        "topic must be a topic's name (str) or a ringlet.Topic, not {}",
        convert::type_name(topic)
    )))
}

#[pymethods]
impl LakeSinkPy {
    #[new]
    #[pyo3(signature = (bus, topic, path, *, format = "parquet", group = "lake", start = None,
                        max_records = 100_000, max_bytes = 67_108_864, max_age = None, key_as_text = true))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        bus: PyRef<'_, BusPy>,
        topic: &Bound<'_, PyAny>,
        path: PathBuf,
        format: &str,
        group: &str,
        start: Option<&Bound<'_, PyAny>>,
        max_records: usize,
        max_bytes: usize,
        max_age: Option<&Bound<'_, PyAny>>,
        key_as_text: bool,
    ) -> PyResult<Self> {
        let format = match format {
            "parquet" => Format::Parquet,
            "jsonl" | "jsonlines" | "json" => Format::JsonLines,
            other => {
                return Err(PyValueError::new_err(format!(
                    "format must be \"parquet\" or \"jsonl\", not {other:?}"
                )))
            }
        };
        let t = topic_of(&bus, topic)?;
        let mut config = LakeConfig::default()
            .format(format)
            .group(group)
            .max_records(max_records)
            .max_bytes(max_bytes)
            .key_as_text(key_as_text);
        if let Some(s) = start {
            config = config.start(convert::start(s)?);
        }
        if let Some(a) = max_age {
            config = config.max_age(convert::duration(a, "max_age")?);
        }
        let sink = Sink::with_values(&t, path, config, Box::new(to_json)).map_err(lake_err)?;
        Ok(LakeSinkPy {
            sink: Mutex::new(Some(sink)),
            last: Mutex::new(None),
            topic: t.name().to_owned(),
            format,
        })
    }

    /// Reads what is ready (up to 4,096 records; with `timeout`, waiting up to
    /// that many seconds for the first) and completes the files that are due.
    /// Returns the records read.
    #[pyo3(signature = (timeout = None))]
    fn step(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let wait = timeout
            .map(|t| convert::duration(t, "timeout"))
            .transpose()?;
        match wait {
            None => self.with(|s| s.step()),
            // The wait lets other threads run; values are converted under the GIL.
            Some(d) => py.detach(|| self.with(|s| s.step_timeout(d))),
        }
    }

    /// Steps until nothing is ready. Returns the records read.
    fn run_until_idle(&self) -> PyResult<usize> {
        self.with(Sink::run_until_idle)
    }

    /// Completes every open file and commits. Returns the files written.
    fn flush(&self) -> PyResult<usize> {
        self.with(Sink::flush)
    }

    /// Flushes and leaves the group; returns the final `stats`. Later calls
    /// raise `Closed`; closing twice does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let Some(sink) = self.sink.try_lock().ok_or_else(busy)?.take() else {
            return Ok(py.None());
        };
        let stats = sink.close().map_err(lake_err)?;
        *self.last.lock() = Some(stats);
        stats_dict(py, stats)
    }

    /// What the sink has done: `records` and `files` and `bytes` written,
    /// `pending` (read, not yet in a complete file), `skipped` (evicted
    /// before they were read), `already` (found complete after a restart).
    /// After `close()`, the stats it closed with.
    #[getter]
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let Some(last) = *self.last.lock() {
            return stats_dict(py, last);
        }
        let stats = self.with(|s| Ok(s.stats()))?;
        stats_dict(py, stats)
    }

    /// The folder of the topic's files (`<path>/topic=<name>`).
    #[getter]
    fn folder(&self) -> PyResult<PathBuf> {
        self.with(|s| Ok(s.folder().to_owned()))
    }

    /// The topic's name.
    #[getter]
    fn topic(&self) -> String {
        self.topic.clone()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let Some(guard) = self.sink.try_lock() else {
            return format!("LakeSink(topic={:?}, busy)", self.topic);
        };
        let stats = guard.as_ref().map(Sink::stats);
        let format = match self.format {
            Format::JsonLines => "jsonl",
            _ => "parquet",
        };
        match stats {
            Some(s) => format!(
                "LakeSink(topic={:?}, format={format:?}, records={}, files={}, pending={})",
                self.topic, s.records, s.files, s.pending
            ),
            None => format!(
                "LakeSink(topic={:?}, format={format:?}, closed)",
                self.topic
            ),
        }
    }
}

impl LakeSinkPy {
    fn with<R>(&self, f: impl FnOnce(&mut Sink<Value>) -> Result<R, LakeError>) -> PyResult<R> {
        // Not waited for: a step waiting without the GIL would need it back.
        let mut guard = self.sink.try_lock().ok_or_else(busy)?;
        let sink = guard.as_mut().ok_or_else(|| closed("the lake sink"))?;
        f(sink).map_err(lake_err)
    }
}

fn busy() -> PyErr {
    PyRuntimeError::new_err(
        "the lake sink is in use by another thread: call it from one thread at a time",
    )
}

fn stats_dict(py: Python<'_>, s: ringlet_lake::SinkStats) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("records", s.records)?;
    d.set_item("files", s.files)?;
    d.set_item("bytes", s.bytes)?;
    d.set_item("pending", s.pending)?;
    d.set_item("skipped", s.skipped)?;
    d.set_item("already", s.already)?;
    Ok(d.into_any().unbind())
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LakeSinkPy>()
}

/// The retained records of a topic from `start`, without waiting.
fn retained(
    t: &ringlet::Topic<Value>,
    start: ringlet::Start,
) -> PyResult<Vec<ringlet::Record<Value>>> {
    let mut sub = t.subscribe(start).map_err(err)?;
    let mut out = Vec::new();
    loop {
        match sub.try_recv_batch(ringlet::BATCH.max(4096)) {
            Ok(v) if v.is_empty() => return Ok(out),
            Ok(v) => out.extend(v),
            // Evicted while read: what is left is still read.
            Err(ringlet::TryRecvError::Lagged { .. }) => {}
            Err(ringlet::TryRecvError::Empty | ringlet::TryRecvError::Closed) => return Ok(out),
        }
    }
}

fn import_pyarrow<'py>(py: Python<'py>, what: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import("pyarrow").map_err(|_| {
        pyo3::exceptions::PyImportError::new_err(format!(
            "{what} needs pyarrow: pip install 'ringlet[lake]' (or pip install pyarrow)"
        ))
    })
}

#[pymethods]
impl TopicPy {
    /// The retained records from `start` (default `"earliest"`) as a
    /// `pyarrow.Table`, one row each, with the lake's columns: `partition`,
    /// `offset`, `timestamp` (UTC), `key`, `headers`, and the value (one column
    /// per property when the topic's schema says its shape, else `value` as
    /// JSON text). Built in Rust and handed over through the Arrow C data
    /// interface. Needs `pyarrow` (`pip install 'ringlet[lake]'`).
    #[pyo3(signature = (start = None))]
    fn to_arrow(&self, py: Python<'_>, start: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let pa = import_pyarrow(py, "to_arrow()")?;
        let t = self.values()?;
        let start = start
            .map(convert::start)
            .transpose()?
            .unwrap_or(ringlet::Start::Earliest);
        let records = retained(t, start)?;
        let schema = t.schema();
        let batch = ringlet_lake::record_batch(t.name(), records, schema.as_ref(), true, to_json)
            .map_err(lake_err)?;
        let data = arrow_array::Array::into_data(arrow_array::StructArray::from(batch));
        let (array, schema) = arrow_array::ffi::to_ffi(&data)
            .map_err(|e| PyRuntimeError::new_err(format!("exporting to Arrow: {e}")))?;
        let array = Box::new(array);
        let schema = Box::new(schema);
        // pyarrow moves both structs out (taking their release callbacks); the
        // boxes, emptied, are freed here.
        let array_addr = std::ptr::from_ref::<arrow_array::ffi::FFI_ArrowArray>(&array) as usize;
        let schema_addr = std::ptr::from_ref::<arrow_array::ffi::FFI_ArrowSchema>(&schema) as usize;
        let rb = pa
            .getattr("RecordBatch")?
            .call_method1("_import_from_c", (array_addr, schema_addr))?;
        let table = pa
            .getattr("Table")?
            .call_method1("from_batches", (vec![rb],))?;
        drop((array, schema));
        Ok(table.unbind())
    }

    /// `to_arrow(start).to_pandas()`: a `pandas.DataFrame` of the retained
    /// records. Needs `pyarrow` and `pandas` (`pip install 'ringlet[lake]'`).
    #[pyo3(signature = (start = None))]
    fn to_pandas(&self, py: Python<'_>, start: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        if py.import("pandas").is_err() {
            return Err(pyo3::exceptions::PyImportError::new_err(
                "to_pandas() needs pandas: pip install 'ringlet[lake]' (or pip install pandas pyarrow)",
            ));
        }
        let table = self.to_arrow(py, start)?;
        Ok(table.bind(py).call_method0("to_pandas")?.unbind())
    }
}
