//! Stream processing, tables, event stores and aggregates for Python: the core's
//! streams with Python callables. A callable's exception fails its record and
//! comes back from `run_until_idle()`/`step()` as `ringlet.StreamError` (its
//! `__cause__` the exception, `.record` the record it was called with).

#![allow(clippy::result_large_err)]

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use ringlet::eventstore::{AppendError, ExecuteError};
use ringlet::streams::{
    BoxError, Cause, Description, GroupedStream, Stream, Table, Windowed, WindowedGrouped,
    WindowedTable, Windows,
};
use ringlet::{Aggregate, Aggregates, EventStore, Key, OnError, Record, StreamError, Topology};

use crate::convert::{self, Value};
use crate::errors::{err, ConfigError, RingletError, VersionConflict};
use crate::records::{raw_value, RecordPy};
use crate::topic::TopicPy;

pyo3::create_exception!(
    ringlet,
    StreamErrorPy,
    RingletError,
    "A record failed in a topology: `.node`, `.topic`, `.partition`, `.offset`, `.key`, \
     `.record` (the record the callback got, if a callback raised); `__cause__` is the \
     callback's exception."
);

/// A Python callback's exception, with the record it was called with.
#[derive(Debug)]
struct PyCallbackError {
    err: PyErr,
    record: Option<Py<PyAny>>,
}

impl std::fmt::Display for PyCallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.err)
    }
}

impl std::error::Error for PyCallbackError {}

fn fail(err: PyErr, record: Option<Py<PyAny>>) -> BoxError {
    Box::new(PyCallbackError { err, record })
}

/// Runs `f(py, record)` with the GIL and the record as a Python `Record`; an
/// exception fails the record, carrying it.
fn with_record<R>(
    rec: &Record<Value>,
    f: impl FnOnce(Python<'_>, Py<RecordPy>) -> PyResult<R>,
) -> Result<R, BoxError> {
    Python::attach(|py| {
        let r =
            Py::new(py, RecordPy::new(py, raw_value(rec.clone()))?).map_err(|e| fail(e, None))?;
        let arg = r.clone_ref(py).into_any();
        f(py, r).map_err(|e| fail(e, Some(arg)))
    })
}

/// `f(record)`, converting the result with `conv`.
fn call<R>(
    f: &Py<PyAny>,
    rec: &Record<Value>,
    conv: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<R>,
) -> Result<R, BoxError> {
    with_record(rec, |py, r| conv(&f.bind(py).call1((r,))?))
}

/// A Python int.
fn int(py: Python<'_>, n: u64) -> Py<PyAny> {
    n.into_pyobject(py)
        .unwrap_or_else(|e| match e {})
        .into_any()
        .unbind()
}

fn to_value(o: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(Value::new(o))
}

fn truthy(o: &Bound<'_, PyAny>) -> PyResult<bool> {
    o.is_truthy()
}

fn callable(f: &Bound<'_, PyAny>, what: &str) -> PyResult<Py<PyAny>> {
    if f.is_callable() {
        Ok(f.clone().unbind())
    } else {
        Err(PyTypeError::new_err(format!(
            "{what} must be callable, not {}",
            convert::type_name(f)
        )))
    }
}

/// The one mapping of a core `StreamError` to Python.
pub(crate) fn stream_err(e: StreamError) -> PyErr {
    Python::attach(|py| {
        let msg = e.to_string();
        let exc = StreamErrorPy::new_err(msg);
        let v = exc.value(py);
        let _ = v.setattr("node", &e.node);
        let _ = v.setattr("topology", &e.topology);
        let _ = v.setattr("topic", &e.topic);
        let _ = v.setattr("partition", e.partition);
        let _ = v.setattr("offset", e.offset);
        let _ = v.setattr("key", e.key.as_ref().map(|k| convert::key_to_py(py, k)));
        let mut record = None;
        if let Cause::Callback(c) = &e.cause {
            if let Some(p) =
                (&**c as &(dyn std::error::Error + 'static)).downcast_ref::<PyCallbackError>()
            {
                exc.set_cause(py, Some(p.err.clone_ref(py)));
                record = p.record.as_ref().map(|r| r.clone_ref(py));
            }
        }
        let _ = v.setattr("record", record);
        exc
    })
}

/// A stream of records in a topology. Operators take Python callables that get a
/// `Record` (`.value`, `.key`, `.timestamp`, …).
#[pyclass(frozen, module = "ringlet", name = "Stream")]
pub struct StreamPy {
    stream: Stream<Value>,
}

impl StreamPy {
    pub(crate) fn new(stream: Stream<Value>) -> Self {
        StreamPy { stream }
    }
}

#[pymethods]
impl StreamPy {
    /// Keeps the records for which `pred(record)` is true.
    fn filter(&self, pred: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        let f = callable(pred, "pred")?;
        Ok(StreamPy::new(
            self.stream.try_filter(move |r| call(&f, r, truthy)),
        ))
    }

    /// `f(record)` becomes the record's value (key and timestamp kept).
    fn map(&self, f: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        let f = callable(f, "f")?;
        Ok(StreamPy::new(
            self.stream.try_map(move |r| call(&f, r, to_value)),
        ))
    }

    /// `f(record)` returns an iterable: one record per item, same key.
    fn flat_map(&self, f: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        let f = callable(f, "f")?;
        Ok(StreamPy::new(self.stream.try_flat_map(move |r| {
            call(&f, r, |out| {
                out.try_iter()?.map(|i| i.map(|o| Value::new(&o))).collect()
            })
        })))
    }

    /// `f(record)` becomes the record's key (`str` or `bytes`; `None` removes it).
    fn key_by(&self, f: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        let f = callable(f, "f")?;
        Ok(StreamPy::new(self.stream.try_key_by(move |r| {
            call(&f, r, |out| {
                if out.is_none() {
                    Ok(None)
                } else {
                    convert::key(out).map(Some)
                }
            })
        })))
    }

    /// Splits the stream: a record goes to the first predicate that is true (or is
    /// dropped). Returns one stream per predicate.
    #[pyo3(signature = (*preds))]
    fn branch(&self, preds: &Bound<'_, PyTuple>) -> PyResult<Vec<StreamPy>> {
        let fs = preds
            .iter()
            .map(|p| callable(&p, "each predicate"))
            .collect::<PyResult<Vec<_>>>()?;
        let boxed = fs
            .into_iter()
            .map(|f| {
                Box::new(move |r: &Record<Value>| call(&f, r, truthy))
                    as Box<dyn FnMut(&Record<Value>) -> Result<bool, BoxError> + Send>
            })
            .collect();
        Ok(self
            .stream
            .try_branch(boxed)
            .into_iter()
            .map(StreamPy::new)
            .collect())
    }

    /// The records of both streams (of one topology).
    fn merge(&self, other: &StreamPy) -> PyResult<StreamPy> {
        self.stream
            .merge(&other.stream)
            .map(StreamPy::new)
            .map_err(err)
    }

    /// Calls `f(record)` and passes the record on.
    fn peek(&self, f: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        let f = callable(f, "f")?;
        Ok(StreamPy::new(
            self.stream.try_peek(move |r| call(&f, r, |_| Ok(()))),
        ))
    }

    /// Calls `f(record)` for each record (the end of this branch).
    fn for_each(&self, f: &Bound<'_, PyAny>) -> PyResult<()> {
        let f = callable(f, "f")?;
        self.stream.try_for_each(move |r| call(&f, r, |_| Ok(())));
        Ok(())
    }

    /// Publishes each record to `topic` (a `Topic` or a name; a missing topic is
    /// created with the defaults). Returns `None`.
    fn to(&self, topic: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = if let Ok(t) = topic.cast::<TopicPy>() {
            t.get().values()?.clone()
        } else if let Ok(name) = topic.extract::<String>() {
            let bus = self.stream.topology().bus().map_err(err)?;
            match bus.get_topic::<Value>(&name) {
                Ok(t) => t,
                Err(ringlet::Error::NotFound { .. }) => {
                    bus.topic::<Value>(&name, Default::default()).map_err(err)?
                }
                Err(e) => return Err(err(e)),
            }
        } else {
            return Err(PyTypeError::new_err(format!(
                "topic must be a Topic or a name, not {}",
                convert::type_name(topic)
            )));
        };
        self.stream.to(&t);
        Ok(())
    }

    /// Groups by key for `count`, `reduce`, `aggregate` or `window`.
    #[pyo3(signature = (*, store = None, capacity = None))]
    fn group_by_key(
        &self,
        store: Option<&str>,
        capacity: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<GroupedPy> {
        Ok(GroupedPy {
            stream: self.stream.clone(),
            store: store.map(str::to_string),
            capacity: convert::opt_count::<usize>(capacity, "capacity")?,
        })
    }

    /// Joins each record with `table`'s value for its key: `f(record, value)`;
    /// records whose key the table lacks are dropped (`left_join` keeps them).
    fn join(&self, table: &TablePy, f: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        self.joined(table, f, false)
    }

    /// Like `join`, with `value` `None` when the table lacks the key.
    fn left_join(&self, table: &TablePy, f: &Bound<'_, PyAny>) -> PyResult<StreamPy> {
        self.joined(table, f, true)
    }

    /// Names the processor that produces this stream (in `describe` and errors).
    fn named(&self, name: &str) -> StreamPy {
        StreamPy::new(self.stream.clone().named(name))
    }

    /// The topology this stream belongs to.
    #[getter]
    fn topology(&self) -> TopologyPy {
        TopologyPy {
            topo: self.stream.topology().clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.stream)
    }
}

impl StreamPy {
    fn joined(&self, table: &TablePy, f: &Bound<'_, PyAny>, left: bool) -> PyResult<StreamPy> {
        let f = callable(f, "f")?;
        let run =
            move |r: &Record<Value>, v: Option<Py<PyAny>>| -> Result<Option<Value>, BoxError> {
                if v.is_none() && !left {
                    return Ok(None);
                }
                with_record(r, |py, rec| {
                    Ok(Some(Value::new(&f.bind(py).call1((rec, v))?)))
                })
            };
        let s = match &table.table {
            Kind::Values(t) => self.stream.try_join(t, move |r, v| {
                run(r, v.map(|v| Python::attach(|py| v.get(py))))
            }),
            Kind::Counts(t) => self.stream.try_join(t, move |r, v| {
                run(r, v.map(|n| Python::attach(|py| int(py, *n))))
            }),
        };
        Ok(StreamPy::new(s))
    }
}

/// A stream grouped by key.
#[pyclass(frozen, module = "ringlet", name = "GroupedStream")]
pub struct GroupedPy {
    stream: Stream<Value>,
    store: Option<String>,
    capacity: Option<usize>,
}

impl GroupedPy {
    fn grouped(&self) -> GroupedStream<Value> {
        let mut g = self.stream.group_by_key();
        if let Some(n) = &self.store {
            g = g.store(n);
        }
        if let Some(c) = self.capacity {
            g = g.capacity(c);
        }
        g
    }
}

/// An initializer: a callable is called, anything else is the initial value.
fn initial(init: &Bound<'_, PyAny>) -> Py<PyAny> {
    init.clone().unbind()
}

fn init_value(init: &Py<PyAny>) -> Result<Value, BoxError> {
    Python::attach(|py| {
        let i = init.bind(py);
        if i.is_callable() {
            i.call0().map(|o| Value::new(&o)).map_err(|e| fail(e, None))
        } else {
            Ok(Value::new(i))
        }
    })
}

/// `f(aggregate, record)` → the new aggregate.
fn fold(f: &Py<PyAny>, acc: &Value, rec: &Record<Value>) -> Result<Value, BoxError> {
    with_record(rec, |py, r| {
        Ok(Value::new(&f.bind(py).call1((acc.get(py), r))?))
    })
}

/// `f(a, b)` → a value.
fn combine(f: &Py<PyAny>, a: &Value, b: &Value) -> Result<Value, BoxError> {
    Python::attach(|py| {
        f.bind(py)
            .call1((a.get(py), b.get(py)))
            .map(|o| Value::new(&o))
            .map_err(|e| fail(e, None))
    })
}

#[pymethods]
impl GroupedPy {
    /// Records per key, in a `Table` of ints.
    fn count(&self) -> PyResult<TablePy> {
        Ok(TablePy {
            table: Kind::Counts(self.grouped().count().map_err(err)?),
        })
    }

    /// `f(aggregate, value)` per key, starting from the first value.
    fn reduce(&self, f: &Bound<'_, PyAny>) -> PyResult<TablePy> {
        let f = callable(f, "f")?;
        let t = self
            .grouped()
            .try_reduce(move |a, b| combine(&f, a, b))
            .map_err(err)?;
        Ok(TablePy {
            table: Kind::Values(t),
        })
    }

    /// `aggregator(aggregate, record)` per key, starting from `initializer` (called
    /// if callable). Return new values: aggregates are shared, not copied.
    fn aggregate(
        &self,
        initializer: &Bound<'_, PyAny>,
        aggregator: &Bound<'_, PyAny>,
    ) -> PyResult<TablePy> {
        let init = initial(initializer);
        let f = callable(aggregator, "aggregator")?;
        let t = self
            .grouped()
            .try_aggregate(move || init_value(&init), move |a, r| fold(&f, a, r))
            .map_err(err)?;
        Ok(TablePy {
            table: Kind::Values(t),
        })
    }

    /// Windows by event time: exactly one of `tumbling=size`, `hopping=(size,
    /// advance)` or `session=gap` (seconds or `timedelta`), with `grace` and
    /// `retention`.
    #[pyo3(signature = (*, tumbling = None, hopping = None, session = None, grace = None, retention = None))]
    fn window(
        &self,
        tumbling: Option<&Bound<'_, PyAny>>,
        hopping: Option<&Bound<'_, PyAny>>,
        session: Option<&Bound<'_, PyAny>>,
        grace: Option<&Bound<'_, PyAny>>,
        retention: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<WindowedGroupedPy> {
        let mut w = match (tumbling, hopping, session) {
            (Some(t), None, None) => Windows::tumbling(convert::duration(t, "tumbling")?),
            (None, Some(h), None) => {
                let (size, advance): (Bound<'_, PyAny>, Bound<'_, PyAny>) = h
                    .extract()
                    .map_err(|_| PyTypeError::new_err("hopping must be a (size, advance) pair"))?;
                Windows::hopping(
                    convert::duration(&size, "size")?,
                    convert::duration(&advance, "advance")?,
                )
            }
            (None, None, Some(g)) => Windows::session(convert::duration(g, "session")?),
            _ => {
                return Err(PyValueError::new_err(
                    "give exactly one of tumbling=, hopping= or session=",
                ))
            }
        };
        if let Some(g) = convert::opt_duration(grace, "grace")? {
            w = w.grace(g);
        }
        if let Some(r) = convert::opt_duration(retention, "retention")? {
            w = w.retention(r);
        }
        Ok(WindowedGroupedPy {
            stream: self.stream.clone(),
            store: self.store.clone(),
            capacity: self.capacity,
            windows: w,
        })
    }
}

/// A grouped stream with windows.
#[pyclass(frozen, module = "ringlet", name = "WindowedGroupedStream")]
pub struct WindowedGroupedPy {
    stream: Stream<Value>,
    store: Option<String>,
    capacity: Option<usize>,
    windows: Windows,
}

impl WindowedGroupedPy {
    fn grouped(&self) -> WindowedGrouped<Value> {
        GroupedPy {
            stream: self.stream.clone(),
            store: self.store.clone(),
            capacity: self.capacity,
        }
        .grouped()
        .window(self.windows)
    }
}

#[pymethods]
impl WindowedGroupedPy {
    /// Records per key and window.
    fn count(&self) -> PyResult<WindowedTablePy> {
        Ok(WindowedTablePy {
            table: Kind::Counts(self.grouped().count().map_err(err)?),
        })
    }

    /// `f(aggregate, value)` per key and window (sessions merge with `f` too).
    fn reduce(&self, f: &Bound<'_, PyAny>) -> PyResult<WindowedTablePy> {
        let f = callable(f, "f")?;
        let t = self
            .grouped()
            .try_reduce(move |a, b| combine(&f, a, b))
            .map_err(err)?;
        Ok(WindowedTablePy {
            table: Kind::Values(t),
        })
    }

    /// `aggregator(aggregate, record)` per key and window from `initializer`;
    /// session windows need `merge(a, b)` of two sessions' aggregates.
    #[pyo3(signature = (initializer, aggregator, merge = None))]
    fn aggregate(
        &self,
        initializer: &Bound<'_, PyAny>,
        aggregator: &Bound<'_, PyAny>,
        merge: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<WindowedTablePy> {
        let init = initial(initializer);
        let f = callable(aggregator, "aggregator")?;
        let merge = merge.map(|m| callable(m, "merge")).transpose()?.map(|m| {
            Box::new(move |a: &Value, b: &Value| combine(&m, a, b))
                as Box<dyn FnMut(&Value, &Value) -> Result<Value, BoxError> + Send>
        });
        let t = self
            .grouped()
            .try_aggregate(move || init_value(&init), move |a, r| fold(&f, a, r), merge)
            .map_err(err)?;
        Ok(WindowedTablePy {
            table: Kind::Values(t),
        })
    }
}

/// A table of Python values (`reduce`, `aggregate`) or of counts (`count`).
enum Kind<V, C> {
    Values(V),
    Counts(C),
}

type TableKind = Kind<Table<Value>, Table<u64>>;
type WKind = Kind<WindowedTable<Value>, WindowedTable<u64>>;

/// `$e` with `$t` bound to the table, whichever kind it is.
macro_rules! each_kind {
    ($kind:expr, $t:ident => $e:expr) => {
        match $kind {
            Kind::Values($t) => $e,
            Kind::Counts($t) => $e,
        }
    };
}

/// A table kept by an aggregation: `table[key]`, `table.get(key)`, `len`, `in`,
/// `items()`; queryable while the topology updates it.
#[pyclass(frozen, module = "ringlet", name = "Table")]
pub struct TablePy {
    table: TableKind,
}

fn py_key(py: Python<'_>, k: &Key) -> Py<PyAny> {
    convert::key_to_py(py, k)
}

#[pymethods]
impl TablePy {
    /// The table's (store's) name.
    #[getter]
    fn name(&self) -> String {
        each_kind!(&self.table, t => t.name().to_string())
    }

    /// The value for `key` (`str` or `bytes`), or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let k = convert::key(key)?;
        Ok(match &self.table {
            Kind::Values(t) => t.get(k).map(|v| v.get(py)),
            Kind::Counts(t) => t.get(k).map(|n| int(py, n)),
        }
        .or(default))
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.get(py, key, None)?
            .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.clone().unbind()))
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.get(py, key, None)?.is_some())
    }

    fn __len__(&self) -> usize {
        each_kind!(&self.table, t => t.len())
    }

    /// `(key, value)` pairs, by key.
    fn items(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let items: Vec<Py<PyAny>> = match &self.table {
            Kind::Values(t) => t
                .entries()
                .iter()
                .map(|(k, v)| {
                    PyTuple::new(py, [py_key(py, k), v.get(py)]).map(|t| t.into_any().unbind())
                })
                .collect::<PyResult<_>>()?,
            Kind::Counts(t) => t
                .entries()
                .iter()
                .map(|(k, v)| {
                    PyTuple::new(py, [py_key(py, k), int(py, *v)]).map(|t| t.into_any().unbind())
                })
                .collect::<PyResult<_>>()?,
        };
        Ok(PyList::new(py, items)?.unbind())
    }

    /// The table as a dict.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let d = PyDict::new(py);
        for item in self.items(py)?.bind(py).iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            d.set_item(k, v)?;
        }
        Ok(d.unbind())
    }

    /// The stream of the table's updates.
    fn to_stream(&self) -> StreamPy {
        StreamPy::new(match &self.table {
            Kind::Values(t) => t.to_stream(),
            Kind::Counts(t) => t
                .to_stream()
                .map(|r| Python::attach(|py| Value::new(int(py, r.value).bind(py)))),
        })
    }

    /// The name of the compacted changelog topic.
    #[getter]
    fn changelog(&self) -> String {
        each_kind!(&self.table, t => t.changelog().name().to_string())
    }

    fn __repr__(&self) -> String {
        format!("Table({:?}, {} keys)", self.name(), self.__len__())
    }

    fn _repr_html_(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let d = self.to_dict(py)?;
        crate::display(py, "table_html", (self.name(), d))
    }
}

/// A table of windowed aggregates: `get(key, start)`, `fetch(key)`, `items()`.
#[pyclass(frozen, module = "ringlet", name = "WindowedTable")]
pub struct WindowedTablePy {
    table: WKind,
}

fn windowed_items<V>(
    py: Python<'_>,
    t: &WindowedTable<V>,
    conv: impl Fn(&V) -> Py<PyAny>,
) -> PyResult<Py<PyList>>
where
    V: Clone + Send + Sync + 'static,
{
    let items = t
        .entries()
        .iter()
        .map(|(k, w, v)| {
            let t = PyTuple::new(
                py,
                [
                    py_key(py, k),
                    w.start.into_pyobject(py)?.into_any().unbind(),
                    w.end.into_pyobject(py)?.into_any().unbind(),
                    conv(v),
                ],
            )?;
            Ok(t.into_any().unbind())
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.unbind())
}

#[pymethods]
impl WindowedTablePy {
    /// The value for `key` in the window starting at `start` (ms), or `None`.
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        start: i64,
    ) -> PyResult<Option<Py<PyAny>>> {
        let k = convert::key(key)?;
        Ok(match &self.table {
            Kind::Values(t) => t.get(k, start).map(|v| v.get(py)),
            Kind::Counts(t) => t.get(k, start).map(|n| int(py, n)),
        })
    }

    /// `key`'s windows: `(start, end, value)` tuples, oldest first.
    fn fetch(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyList>> {
        let k = convert::key(key)?;
        fn rows<V: Clone + Send + Sync + 'static>(
            py: Python<'_>,
            t: &WindowedTable<V>,
            k: Key,
            conv: impl Fn(V) -> Py<PyAny>,
        ) -> PyResult<Vec<Py<PyAny>>> {
            t.fetch(k)
                .into_iter()
                .map(|(w, v)| {
                    (w.start, w.end, conv(v))
                        .into_pyobject(py)
                        .map(|o| o.into_any().unbind())
                })
                .collect()
        }
        let rows = match &self.table {
            Kind::Values(t) => rows(py, t, k, |v| v.get(py))?,
            Kind::Counts(t) => rows(py, t, k, |n| int(py, n))?,
        };
        Ok(PyList::new(py, rows)?.unbind())
    }

    /// `(key, start, end, value)` tuples, by key then start.
    fn items(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        match &self.table {
            Kind::Values(t) => windowed_items(py, t, |v| v.get(py)),
            Kind::Counts(t) => windowed_items(py, t, |n| int(py, *n)),
        }
    }

    /// (Record, window) pairs dropped as late.
    #[getter]
    fn dropped_late(&self) -> u64 {
        each_kind!(&self.table, t => t.dropped_late())
    }

    /// The largest record timestamp seen (ms), or `None`.
    #[getter]
    fn stream_time(&self) -> Option<i64> {
        each_kind!(&self.table, t => t.stream_time())
    }

    fn __len__(&self) -> usize {
        each_kind!(&self.table, t => t.len())
    }

    /// The stream of updates; each value is a dict `{"start", "end", "value"}`.
    fn to_stream(&self) -> StreamPy {
        fn dict<V>(w: &Windowed<V>, v: impl FnOnce(Python<'_>) -> Py<PyAny>) -> Value {
            Python::attach(|py| {
                let d = PyDict::new(py);
                let _ = d.set_item("start", w.window.start);
                let _ = d.set_item("end", w.window.end);
                let _ = d.set_item("value", v(py));
                Value::new(d.as_any())
            })
        }
        StreamPy::new(match &self.table {
            Kind::Values(t) => t
                .to_stream()
                .map(|r| dict(&r.value, |py| r.value.value.get(py))),
            Kind::Counts(t) => t.to_stream().map(|r| {
                let n = r.value.value;
                dict(&r.value, move |py| int(py, n))
            }),
        })
    }

    fn __repr__(&self) -> String {
        let name = each_kind!(&self.table, t => t.name().to_string());
        format!("WindowedTable({name:?}, {} windows)", self.__len__())
    }
}

/// A description of a topology: `str()` gives Kafka's text, `.mermaid` and
/// `.svg` pictures, `to_dict()` the data; Jupyter shows the picture.
#[pyclass(frozen, module = "ringlet", name = "TopologyDescription")]
pub struct DescriptionPy {
    d: Description,
}

#[pymethods]
impl DescriptionPy {
    /// A Mermaid flowchart.
    #[getter]
    fn mermaid(&self) -> String {
        self.d.to_mermaid()
    }

    /// An SVG picture.
    #[getter]
    fn svg(&self) -> String {
        self.d.to_svg()
    }

    /// Nodes and sub-topologies as plain dicts.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_plain(py, &self.d)
    }

    fn __str__(&self) -> String {
        self.d.to_string()
    }

    fn __repr__(&self) -> String {
        self.d.to_string()
    }

    fn _repr_svg_(&self) -> String {
        self.d.to_svg()
    }
}

/// A graph of stream processors and tables (Kafka Streams' topology).
#[pyclass(frozen, module = "ringlet", name = "Topology")]
pub struct TopologyPy {
    pub(crate) topo: Topology,
}

#[pymethods]
impl TopologyPy {
    /// Its name (its consumer groups' and changelogs' prefix).
    #[getter]
    fn name(&self) -> String {
        self.topo.name().to_string()
    }

    /// A stream of `topic` in this topology, from the earliest offsets.
    fn stream(&self, py: Python<'_>, topic: &TopicPy) -> PyResult<StreamPy> {
        let t = topic.values()?.clone();
        py.detach(|| self.topo.stream(&t))
            .map(StreamPy::new)
            .map_err(err)
    }

    /// Processes what is pending (a batch per source); returns records read.
    fn step(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.topo.step()).map_err(stream_err)
    }

    /// Processes until nothing is pending; returns records read.
    fn run_until_idle(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.topo.run_until_idle()).map_err(stream_err)
    }

    /// Runs the topology on a thread until `.stop()`.
    fn spawn(&self, py: Python<'_>) -> PyResult<StreamThreadPy> {
        let th = py
            .detach(|| self.topo.spawn())
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))?;
        Ok(StreamThreadPy {
            th: Mutex::new(Some(th)),
        })
    }

    /// `"stop"` (default: a failing record stops processing and is retried) or
    /// `"skip"` (it is skipped and kept in `errors`).
    fn on_error(&self, policy: &Bound<'_, PyAny>) -> PyResult<()> {
        self.topo
            .on_error(convert::choice::<OnError>(policy, "on_error")?);
        Ok(())
    }

    /// Errors of skipped records (as `StreamError` exceptions), oldest first.
    #[getter]
    fn errors(&self) -> Vec<PyErr> {
        self.topo.errors().into_iter().map(stream_err).collect()
    }

    /// The graph.
    fn describe(&self) -> DescriptionPy {
        DescriptionPy {
            d: self.topo.describe(),
        }
    }

    /// Stops reading (committed offsets and tables stay).
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.topo.close());
    }

    fn __repr__(&self) -> String {
        format!("Topology({:?})", self.topo.name())
    }

    fn _repr_svg_(&self) -> String {
        self.topo.describe().to_svg()
    }
}

/// A topology running on its own thread.
#[pyclass(frozen, module = "ringlet", name = "StreamThread")]
pub struct StreamThreadPy {
    th: Mutex<Option<ringlet::streams::StreamThread>>,
}

#[pymethods]
impl StreamThreadPy {
    /// Stops the thread and waits for it; raises the `StreamError` that stopped
    /// it earlier, if one did.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let th = self.th.lock().take();
        match th {
            Some(t) => py.detach(|| t.stop()).map_err(stream_err),
            None => Ok(()),
        }
    }

    /// Whether the thread has ended.
    #[getter]
    fn finished(&self) -> bool {
        self.th.lock().as_ref().is_none_or(|t| t.is_finished())
    }
}

/// The Python side of `Bus.topology`, `run_until_idle`, `step`, `event_store`.
pub(crate) fn topology(bus: &ringlet::Bus, name: Option<&str>) -> PyResult<TopologyPy> {
    let topo = match name {
        None => bus.topology(),
        Some(n) => bus.topology_named(n).map_err(err)?,
    };
    Ok(TopologyPy { topo })
}

/// An event store: events per aggregate id with optimistic concurrency.
#[pyclass(frozen, module = "ringlet", name = "EventStore")]
pub struct EventStorePy {
    store: EventStore<Value>,
}

fn append_err(py: Python<'_>, e: AppendError<Value>) -> PyErr {
    match e {
        AppendError::VersionConflict {
            ref id,
            expected,
            actual,
            ..
        } => {
            let exc = VersionConflict::new_err(e.to_string());
            let v = exc.value(py);
            let _ = v.setattr("id", id);
            let _ = v.setattr("expected", expected);
            let _ = v.setattr("actual", actual);
            exc
        }
        other => err(other),
    }
}

pub(crate) fn event_store(
    bus: &ringlet::Bus,
    name: &str,
    partitions: Option<&Bound<'_, PyAny>>,
    capacity: Option<&Bound<'_, PyAny>>,
) -> PyResult<EventStorePy> {
    let mut c = match bus.get_topic::<Value>(name) {
        Ok(t) => t.config().clone(),
        Err(ringlet::Error::NotFound { .. }) => Default::default(),
        Err(e) => return Err(err(e)),
    };
    if let Some(n) = convert::opt_count::<u32>(partitions, "partitions")? {
        c.partitions = n;
    }
    if let Some(n) = convert::opt_count::<usize>(capacity, "capacity")? {
        c.capacity = n;
    }
    let store = bus.event_store::<Value>(name, c).map_err(err)?;
    Ok(EventStorePy { store })
}

#[pymethods]
impl EventStorePy {
    /// Appends `events` to aggregate `id`, all or none; with `expected_version`
    /// (0 for a new aggregate) raises `VersionConflict` when it is stale. Returns
    /// the new version.
    #[pyo3(signature = (id, events, expected_version = None))]
    fn append(
        &self,
        py: Python<'_>,
        id: &str,
        events: &Bound<'_, PyAny>,
        expected_version: Option<u64>,
    ) -> PyResult<u64> {
        let evs = events
            .try_iter()?
            .map(|e| e.map(|o| Value::new(&o)))
            .collect::<PyResult<Vec<_>>>()?;
        py.detach(|| self.store.append(id, evs, expected_version))
            .map_err(|e| append_err(py, e))
    }

    /// Aggregate `id`'s events, oldest first.
    fn load(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyList>> {
        let evs = self.store.load(id);
        Ok(PyList::new(py, evs.iter().map(|v| v.get(py)))?.unbind())
    }

    /// Aggregate `id`'s version (its number of events).
    fn version(&self, id: &str) -> u64 {
        self.store.version(id)
    }

    /// The aggregate ids, sorted.
    fn ids(&self) -> Vec<String> {
        self.store.ids()
    }

    /// The store's topic (keyed by aggregate id): stream it for projections.
    #[getter]
    fn topic(&self) -> TopicPy {
        TopicPy {
            kind: crate::topic::TopicKind::Values(self.store.topic().clone()),
        }
    }

    /// Aggregates over this store: `factory()` makes an empty aggregate with
    /// `apply(event)` and `handle(command) -> list of events`.
    fn aggregates(&self, factory: &Bound<'_, PyAny>) -> PyResult<AggregatesPy> {
        let f = Arc::new(callable(factory, "factory")?);
        let g = f.clone();
        let aggs = Aggregates::with_init(&self.store, move || PyAggregate::new(&g));
        Ok(AggregatesPy { aggs, _factory: f })
    }

    fn __repr__(&self) -> String {
        format!(
            "EventStore({:?}, {} aggregates)",
            self.store.topic().name(),
            self.store.ids().len()
        )
    }
}

/// A Python aggregate object; an exception in `apply` is kept and raised after.
#[derive(Clone)]
struct PyAggregate {
    obj: Option<Value>,
    error: Arc<Mutex<Option<PyErr>>>,
}

impl PyAggregate {
    fn new(factory: &Py<PyAny>) -> Self {
        Python::attach(|py| match factory.bind(py).call0() {
            Ok(o) => PyAggregate {
                obj: Some(Value::new(&o)),
                error: Arc::default(),
            },
            Err(e) => PyAggregate {
                obj: None,
                error: Arc::new(Mutex::new(Some(e))),
            },
        })
    }
}

impl Aggregate for PyAggregate {
    type Event = Value;
    type Command = Value;
    type Error = PyErr;

    fn apply(&mut self, event: &Value) {
        let Some(obj) = &self.obj else { return };
        if self.error.lock().is_some() {
            return;
        }
        Python::attach(|py| {
            if let Err(e) = obj.get(py).bind(py).call_method1("apply", (event.get(py),)) {
                *self.error.lock() = Some(e);
            }
        });
    }

    fn handle(&self, command: Value) -> Result<Vec<Value>, PyErr> {
        if let Some(e) = self.error.lock().take() {
            return Err(e);
        }
        let Some(obj) = &self.obj else {
            return Err(ConfigError::new_err("the aggregate factory failed"));
        };
        Python::attach(|py| {
            let out = obj
                .get(py)
                .bind(py)
                .call_method1("handle", (command.get(py),))?;
            if out.is_none() {
                return Ok(Vec::new());
            }
            out.try_iter()?.map(|e| e.map(|o| Value::new(&o))).collect()
        })
    }
}

/// Aggregates of one kind over an event store.
#[pyclass(frozen, module = "ringlet", name = "Aggregates")]
pub struct AggregatesPy {
    aggs: Aggregates<PyAggregate>,
    _factory: Arc<Py<PyAny>>,
}

#[pymethods]
impl AggregatesPy {
    /// `(aggregate, version)` rebuilt from the events.
    fn load(&self, py: Python<'_>, id: &str) -> PyResult<(Py<PyAny>, u64)> {
        let (a, v) = py.detach(|| self.aggs.load(id));
        if let Some(e) = a.error.lock().take() {
            return Err(e);
        }
        let obj = a.obj.map(|o| o.get(py)).unwrap_or_else(|| py.None());
        Ok((obj, v))
    }

    /// Handles `command` on aggregate `id` and appends its events (retrying on a
    /// version conflict). Returns `(events, version)`; raises what `handle` raised.
    fn execute(
        &self,
        py: Python<'_>,
        id: &str,
        command: &Bound<'_, PyAny>,
    ) -> PyResult<(Py<PyList>, u64)> {
        let cmd = Value::new(command);
        match py.detach(|| self.aggs.execute(id, cmd)) {
            Ok((evs, v)) => Ok((PyList::new(py, evs.iter().map(|e| e.get(py)))?.unbind(), v)),
            Err(ExecuteError::Rejected(e)) => Err(e),
            Err(ExecuteError::Store(e)) => Err(append_err(py, e)),
        }
    }
}

#[pymethods]
impl TopicPy {
    /// A stream of this topic in the bus's default topology, from the earliest
    /// offsets: `topic.stream().filter(...).map(...).to("out")`.
    fn stream(&self, py: Python<'_>) -> PyResult<StreamPy> {
        let t = self.values()?.clone();
        py.detach(|| t.stream()).map(StreamPy::new).map_err(err)
    }
}

#[pymethods]
impl crate::topic::BusPy {
    /// The default topology (`name=None`) or the live one named `name`.
    #[pyo3(signature = (name = None))]
    fn topology(&self, name: Option<&str>) -> PyResult<TopologyPy> {
        topology(&self.bus, name)
    }

    /// Steps every topology until nothing is pending; returns records read.
    fn run_until_idle(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.bus.run_until_idle()).map_err(stream_err)
    }

    /// Steps every topology once; returns records read.
    fn step(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.bus.step()).map_err(stream_err)
    }

    /// The event store `name` (a `keep` topic keyed by aggregate id).
    #[pyo3(signature = (name, *, partitions = None, capacity = None))]
    fn event_store(
        &self,
        name: &str,
        partitions: Option<&Bound<'_, PyAny>>,
        capacity: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<EventStorePy> {
        event_store(&self.bus, name, partitions, capacity)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("StreamError", py.get_type::<StreamErrorPy>())?;
    m.add_class::<StreamPy>()?;
    m.add_class::<GroupedPy>()?;
    m.add_class::<WindowedGroupedPy>()?;
    m.add_class::<TablePy>()?;
    m.add_class::<WindowedTablePy>()?;
    m.add_class::<DescriptionPy>()?;
    m.add_class::<TopologyPy>()?;
    m.add_class::<StreamThreadPy>()?;
    m.add_class::<EventStorePy>()?;
    m.add_class::<AggregatesPy>()?;
    Ok(())
}
