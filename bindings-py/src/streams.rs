//! Stream processing, tables, event stores and aggregates for Python: the core's
//! streams with Python callables. A callable's exception fails its record and
//! comes back from `run_until_idle()`/`step()` as `ringlet.StreamError` (its
//! `__cause__` the exception, `.record` the record it was called with).

#![allow(clippy::result_large_err)]

use parking_lot::Mutex;
use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use ringlet::streams::{
    BoxError, Cause, Description, GroupedStream, Interrupt, Stream, WindowedGrouped, Windows,
};
use ringlet::{Error, OnError, Record, StreamError, Topology};

use crate::convert::{self, Value};
use crate::errors::err;
use crate::eventstore::{AggregatesPy, EventStorePy};
use crate::records::{read, RecordPy};
use crate::tables::{Held, TablePy, WindowedTablePy};
use crate::topic::TopicPy;

/// A Python callback's exception, with the record it was called with.
#[derive(Debug)]
pub(crate) struct PyCallbackError {
    err: PyErr,
    record: Option<Py<PyAny>>,
}

impl std::fmt::Display for PyCallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.err)
    }
}

impl std::error::Error for PyCallbackError {}

/// A callback's exception as the core's callback error. `KeyboardInterrupt` and
/// `SystemExit` are not failures of the record: they stop the run
/// ([`Interrupt`]) under every `on_error`, and come back as themselves.
pub(crate) fn fail(err: PyErr, record: Option<Py<PyAny>>) -> BoxError {
    let stop = Python::attach(|py| {
        err.is_instance_of::<PyKeyboardInterrupt>(py) || err.is_instance_of::<PySystemExit>(py)
    });
    let e: BoxError = Box::new(PyCallbackError { err, record });
    if stop {
        Interrupt::boxed(e)
    } else {
        e
    }
}

/// `run_until_idle` that checks for Ctrl-C before each step: a pending signal's
/// exception (`KeyboardInterrupt`) is raised after the step that ran.
pub(crate) fn run_until_idle(
    py: Python<'_>,
    run: impl FnOnce(&mut dyn FnMut() -> bool) -> Result<usize, StreamError> + Send,
) -> PyResult<usize> {
    let mut signal = None;
    let r = py.detach(|| {
        run(&mut || match Python::attach(|py| py.check_signals()) {
            Ok(()) => true,
            Err(e) => {
                signal = Some(e);
                false
            }
        })
    });
    match signal {
        Some(e) => Err(e),
        None => r.map_err(stream_err),
    }
}

/// Runs `f(py, record)` with the GIL and the record as a Python `Record`; an
/// exception fails the record, carrying it.
pub(crate) fn with_record<R>(
    rec: &Record<Value>,
    f: impl FnOnce(Python<'_>, Py<RecordPy>) -> PyResult<R>,
) -> Result<R, BoxError> {
    Python::attach(|py| {
        let r = Py::new(py, RecordPy::new(py, read(rec.clone()))?).map_err(|e| fail(e, None))?;
        let arg = r.clone_ref(py).into_any();
        f(py, r).map_err(|e| fail(e, Some(arg)))
    })
}

/// `f(record)`, converting the result with `conv`.
pub(crate) fn call<R>(
    f: &Py<PyAny>,
    rec: &Record<Value>,
    conv: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<R>,
) -> Result<R, BoxError> {
    with_record(rec, |py, r| conv(&f.bind(py).call1((r,))?))
}

/// A Python int.
pub(crate) fn int(py: Python<'_>, n: u64) -> Py<PyAny> {
    n.into_pyobject(py)
        .unwrap_or_else(|e| match e {})
        .into_any()
        .unbind()
}

pub(crate) fn to_value(o: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(Value::new(o))
}

pub(crate) fn truthy(o: &Bound<'_, PyAny>) -> PyResult<bool> {
    o.is_truthy()
}

pub(crate) fn callable(f: &Bound<'_, PyAny>, what: &str) -> PyResult<Py<PyAny>> {
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
        let exc = crate::errors::StreamError::new_err(msg);
        let v = exc.value(py);
        let _ = v.setattr("node", &e.node);
        let _ = v.setattr("topology", &e.topology);
        let _ = v.setattr("topic", &e.topic);
        let _ = v.setattr("partition", e.partition);
        let _ = v.setattr("offset", e.offset);
        let _ = v.setattr("key", e.key.as_ref().map(|k| convert::key_to_py(py, k)));
        if let Cause::Interrupted(c) = &e.cause {
            if let Some(p) =
                (&**c as &(dyn std::error::Error + 'static)).downcast_ref::<PyCallbackError>()
            {
                return p.err.clone_ref(py);
            }
        }
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
    pub(crate) stream: Stream<Value>,
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
        self.stream.to(&t).map_err(err)
    }

    /// Publishes each record to the topic named by `f(record)` (a `str`),
    /// creating a missing topic on first use with the given options (the
    /// defaults otherwise), or, with `create=False`, only to topics that exist.
    /// A record routed where it may not go (no such topic, a name the bus's
    /// naming rule refuses, a topic this stream reads) fails like a callback's
    /// exception: `StreamError` from `run_until_idle()`, or skipped under
    /// `on_error="skip"`. Returns `None`.
    #[pyo3(signature = (f, *, create = true, partitions = None, capacity = None, max_age = None, on_full = None))]
    fn route(
        &self,
        f: &Bound<'_, PyAny>,
        create: bool,
        partitions: Option<&Bound<'_, PyAny>>,
        capacity: Option<&Bound<'_, PyAny>>,
        max_age: Option<&Bound<'_, PyAny>>,
        on_full: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let f = callable(f, "f")?;
        let options = ringlet::options::TopicOptions {
            partitions: convert::opt_count(partitions, "partitions")?,
            capacity: convert::opt_count(capacity, "capacity")?,
            max_age: convert::opt_duration(max_age, "max_age")?,
            on_full: on_full
                .filter(|p| !p.is_none())
                .map(|p| convert::choice(p, "on_full"))
                .transpose()?,
            ..Default::default()
        };
        let given = options != ringlet::options::TopicOptions::default();
        let routes = match (create, given) {
            (true, _) => ringlet::streams::Routes::create(options.apply(Default::default())),
            (false, false) => ringlet::streams::Routes::existing(),
            (false, true) => return Err(PyValueError::new_err(
                "topic options are for the topics route() creates: drop them, or leave create=True",
            )),
        };
        self.stream.try_route(
            move |r| {
                call(&f, r, |name| {
                    name.extract::<String>().map_err(|_| {
                        PyTypeError::new_err(format!(
                            "the route function must return a topic name (str), not {}",
                            convert::type_name(name)
                        ))
                    })
                })
            },
            routes,
        );
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
            Held::Values(t) => self.stream.try_join(t, move |r, v| {
                run(r, v.map(|v| Python::attach(|py| v.get(py))))
            }),
            Held::Counts(t) => self.stream.try_join(t, move |r, v| {
                run(r, v.map(|n| Python::attach(|py| int(py, *n))))
            }),
        };
        Ok(StreamPy::new(s))
    }
}

/// A stream grouped by key.
#[pyclass(frozen, module = "ringlet", name = "GroupedStream")]
pub struct GroupedPy {
    pub(crate) stream: Stream<Value>,
    pub(crate) store: Option<String>,
    pub(crate) capacity: Option<usize>,
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
pub(crate) fn initial(init: &Bound<'_, PyAny>) -> Py<PyAny> {
    init.clone().unbind()
}

pub(crate) fn init_value(init: &Py<PyAny>) -> Result<Value, BoxError> {
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
pub(crate) fn fold(f: &Py<PyAny>, acc: &Value, rec: &Record<Value>) -> Result<Value, BoxError> {
    with_record(rec, |py, r| {
        Ok(Value::new(&f.bind(py).call1((acc.get(py), r))?))
    })
}

/// `f(a, b)` → a value.
pub(crate) fn combine(f: &Py<PyAny>, a: &Value, b: &Value) -> Result<Value, BoxError> {
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
            table: Held::Counts(self.grouped().count().map_err(err)?),
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
            table: Held::Values(t),
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
            table: Held::Values(t),
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
    pub(crate) stream: Stream<Value>,
    pub(crate) store: Option<String>,
    pub(crate) capacity: Option<usize>,
    pub(crate) windows: Windows,
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
            table: Held::Counts(self.grouped().count().map_err(err)?),
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
            table: Held::Values(t),
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
            table: Held::Values(t),
        })
    }
}

/// A description of a topology: `str()` gives Kafka's text, `.mermaid` and
/// `.svg` pictures, `to_dict()` the data; Jupyter shows the picture.
#[pyclass(frozen, module = "ringlet", name = "TopologyDescription")]
pub struct DescriptionPy {
    pub(crate) d: Description,
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
        run_until_idle(py, |go_on| self.topo.run_until_idle_while(go_on))
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
    pub(crate) th: Mutex<Option<ringlet::streams::StreamThread>>,
}

impl Drop for StreamThreadPy {
    /// Stops the thread without the GIL: its callbacks need it to finish.
    fn drop(&mut self) {
        if let Some(t) = self.th.get_mut().take() {
            Python::attach(|py| py.detach(move || drop(t)));
        }
    }
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
/// `durable` keeps the changelogs of its tables on the bus's data directory,
/// values encoded with `codec` (counts as they are).
pub(crate) fn topology(
    bus: &ringlet::Bus,
    name: Option<&str>,
    durable: bool,
    codec: Option<&str>,
) -> PyResult<TopologyPy> {
    let topo = match name {
        None => bus.topology(),
        Some(n) => bus.topology_named(n).map_err(err)?,
    };
    if durable {
        let c = crate::codecs::CODECS;
        let name = codec.unwrap_or(c.default);
        let Some(codec) = (c.make)(name) else {
            return Err(err(Error::ConfigError {
                name: topo.name().to_owned(),
                reason: format!(
                    "there is no codec {name:?}: use one of {}",
                    c.names.join(", ")
                ),
            }));
        };
        topo.durable_changelogs_with::<Value>(codec).map_err(err)?;
        topo.durable_changelogs::<u64>().map_err(err)?;
    } else if codec.is_some() {
        return Err(err(Error::ConfigError {
            name: topo.name().to_owned(),
            reason: "codec is for durable tables: give durable=True too, or leave it out".into(),
        }));
    }
    Ok(TopologyPy { topo })
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
impl crate::bus::BusPy {
    /// The default topology (`name=None`) or the live one named `name`.
    /// `durable=True` (on a `Bus(data_dir=...)`) keeps the changelogs of the
    /// tables it makes from then on on disk (values with `codec`, `"json"` by
    /// default): rebuilt after a restart, the topology restores its tables and
    /// resumes from its committed offsets.
    #[pyo3(signature = (name = None, *, durable = false, codec = None))]
    fn topology(
        &self,
        name: Option<&str>,
        durable: bool,
        codec: Option<&str>,
    ) -> PyResult<TopologyPy> {
        topology(&self.bus, name, durable, codec)
    }

    /// Steps every topology until nothing is pending; returns records read.
    fn run_until_idle(&self, py: Python<'_>) -> PyResult<usize> {
        run_until_idle(py, |go_on| self.bus.run_until_idle_while(go_on))
    }

    /// Steps every topology once; returns records read.
    fn step(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.bus.step()).map_err(stream_err)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
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
