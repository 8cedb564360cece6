//! Event stores and aggregates: `EventStore`, `Aggregates`.

#![allow(clippy::result_large_err)]

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use ringlet::eventstore::{AppendError, ExecuteError};
use ringlet::{Aggregate, Aggregates, EventStore};

use crate::convert::{self, Value};
use crate::errors::{err, ConfigError, VersionConflict};
use crate::topic::TopicPy;

use crate::streams::callable;

/// An event store: events per aggregate id with optimistic concurrency.
#[pyclass(frozen, module = "ringlet", name = "EventStore")]
pub struct EventStorePy {
    pub(crate) store: EventStore<Value>,
}

pub(crate) fn append_err(py: Python<'_>, e: AppendError<Value>) -> PyErr {
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

#[allow(clippy::too_many_arguments)]
pub(crate) fn event_store(
    py: Python<'_>,
    bus: &ringlet::Bus,
    name: &str,
    partitions: Option<&Bound<'_, PyAny>>,
    capacity: Option<&Bound<'_, PyAny>>,
    durable: Option<bool>,
    codec: Option<&Bound<'_, PyAny>>,
    durability: Option<&Bound<'_, PyAny>>,
) -> PyResult<EventStorePy> {
    let mut options = ringlet::options::TopicOptions {
        partitions: convert::opt_count(partitions, "partitions")?,
        capacity: convert::opt_count(capacity, "capacity")?,
        ..Default::default()
    };
    (options.durable, options.durability, options.codec) =
        crate::bus::storage_options(durable, codec, durability)?;
    // As `Bus.topic`: a durable store decodes its events without the GIL held.
    let store = py
        .detach(|| {
            bus.open_event_store_with_codecs::<Value>(name, &options, &crate::codecs::CODECS)
        })
        .map_err(err)?;
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
        expected_version: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let evs: Vec<Value> = convert::items(events, "append")?
            .iter()
            .map(Value::new)
            .collect();
        let expected_version = convert::opt_count::<u64>(expected_version, "expected_version")?;
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

/// A Python aggregate object (made by the factory, which may have raised: that
/// exception is raised by the first `load` or `execute`).
#[derive(Clone)]
pub(crate) struct PyAggregate {
    obj: Option<Value>,
    factory_error: Arc<Mutex<Option<PyErr>>>,
}

/// What the factory made, if it is an aggregate: it has `apply` and `handle`.
fn aggregate_object(o: Bound<'_, PyAny>) -> PyResult<Bound<'_, PyAny>> {
    for method in ["apply", "handle"] {
        if !o.getattr(method).is_ok_and(|m| m.is_callable()) {
            return Err(PyTypeError::new_err(format!(
                "the aggregate factory returned {}, which has no {method}() method: return \
                 an aggregate object with apply(event) and handle(command)",
                if o.is_none() {
                    "None".to_string()
                } else {
                    format!("a {}", convert::type_name(&o))
                }
            )));
        }
    }
    Ok(o)
}

impl PyAggregate {
    fn new(factory: &Py<PyAny>) -> Self {
        Python::attach(
            |py| match factory.bind(py).call0().and_then(aggregate_object) {
                Ok(o) => PyAggregate {
                    obj: Some(Value::new(&o)),
                    factory_error: Arc::default(),
                },
                Err(e) => PyAggregate {
                    obj: None,
                    factory_error: Arc::new(Mutex::new(Some(e))),
                },
            },
        )
    }

    fn obj(&self) -> PyResult<&Value> {
        self.obj.as_ref().ok_or_else(|| {
            self.factory_error
                .lock()
                .take()
                .unwrap_or_else(|| ConfigError::new_err("the aggregate factory failed"))
        })
    }
}

impl Aggregate for PyAggregate {
    type Event = Value;
    type Command = Value;
    type Error = PyErr;

    fn apply(&mut self, event: &Value) {
        let _ = self.try_apply(event);
    }

    fn try_apply(&mut self, event: &Value) -> PyResult<()> {
        let obj = self.obj()?;
        Python::attach(|py| {
            obj.get(py)
                .bind(py)
                .call_method1("apply", (event.get(py),))
                .map(drop)
        })
    }

    fn handle(&self, command: Value) -> Result<Vec<Value>, PyErr> {
        let obj = self.obj()?;
        Python::attach(|py| {
            let out = obj
                .get(py)
                .bind(py)
                .call_method1("handle", (command.get(py),))?;
            if out.is_none() {
                return Ok(Vec::new());
            }
            Ok(convert::items(&out, "handle's result")?
                .iter()
                .map(Value::new)
                .collect())
        })
    }
}

/// Aggregates of one kind over an event store.
#[pyclass(frozen, module = "ringlet", name = "Aggregates")]
pub struct AggregatesPy {
    pub(crate) aggs: Aggregates<PyAggregate>,
    pub(crate) _factory: Arc<Py<PyAny>>,
}

#[pymethods]
impl AggregatesPy {
    /// `(aggregate, version)` rebuilt from the events.
    fn load(&self, py: Python<'_>, id: &str) -> PyResult<(Py<PyAny>, u64)> {
        let (a, v) = py.detach(|| self.aggs.try_load(id))?;
        Ok((a.obj()?.get(py), v))
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
            Err(ExecuteError::Rejected(e) | ExecuteError::Replay(e)) => Err(e),
            Err(ExecuteError::Store(e)) => Err(append_err(py, e)),
        }
    }
}

#[pymethods]
impl crate::bus::BusPy {
    /// The event store `name` (a `keep` topic keyed by aggregate id).
    /// `durable=True` (and `codec`, `durability`, as for `Bus.topic`) keeps its
    /// events in the data directory: reopened after a restart, every aggregate
    /// is rebuilt from them.
    #[pyo3(signature = (name, *, partitions = None, capacity = None, durable = None, codec = None, durability = None))]
    #[allow(clippy::too_many_arguments)]
    fn event_store(
        &self,
        py: Python<'_>,
        name: &str,
        partitions: Option<&Bound<'_, PyAny>>,
        capacity: Option<&Bound<'_, PyAny>>,
        durable: Option<bool>,
        codec: Option<&Bound<'_, PyAny>>,
        durability: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<EventStorePy> {
        event_store(
            py, &self.bus, name, partitions, capacity, durable, codec, durability,
        )
    }
}
