//! `Bus` and `ManualClock`.

use pyo3::prelude::*;
use ringlet::journal::{Event, JOURNAL_TOPIC};
use ringlet::options::TopicOptions;
use ringlet::storage::Durability;
use ringlet::Error;

use crate::convert::{self, Value};
use crate::errors::err;
use crate::queue::QueuePy;
use crate::topic::{TopicKind, TopicPy};

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

/// The durable options as given (`durable`, `durability`, `codec`), for a
/// topic's or a queue's options.
pub(crate) type StorageOptions = (Option<bool>, Option<Durability>, Option<String>);

/// Converts the durable-topic and durable-queue keywords (`durable`, `codec`,
/// `durability`).
pub(crate) fn storage_options(
    durable: Option<bool>,
    codec: Option<&Bound<'_, PyAny>>,
    durability: Option<&Bound<'_, PyAny>>,
) -> PyResult<StorageOptions> {
    let durability = durability
        .filter(|p| !p.is_none())
        .map(|p| convert::choice(p, "durability"))
        .transpose()?;
    let codec = codec
        .filter(|c| !c.is_none())
        .map(|c| {
            c.extract::<String>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "codec must be a str (\"json\", \"pickle\" or \"bytes\"), not {}",
                    convert::type_name(c)
                ))
            })
        })
        .transpose()?;
    Ok((durable, durability, codec))
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
    #[pyo3(signature = (clock = None, journal = None, *, data_dir = None, repair = false, naming_rule = None))]
    fn new(
        py: Python<'_>,
        clock: Option<Py<ManualClockPy>>,
        journal: Option<&Bound<'_, PyAny>>,
        data_dir: Option<std::path::PathBuf>,
        repair: bool,
        naming_rule: Option<&str>,
    ) -> PyResult<Self> {
        let mut b = ringlet::Bus::builder();
        if let Some(rule) = naming_rule {
            b = b.naming_rule(ringlet::NamingRule::template(rule).map_err(err)?);
        }
        if let Some(path) = data_dir {
            let options = ringlet_store::OpenOptions { repair };
            let dir = py
                .detach(|| ringlet_store::Dir::open_with(&path, options))
                .map_err(|e| err(Error::from(e)))?;
            b = b.storage(dir);
        } else if repair {
            return Err(crate::errors::ConfigError::new_err(
                "repair is for a data directory: give data_dir too",
            ));
        }
        if let Some(c) = &clock {
            b = b.clock(c.get().clock.clone());
        }
        if let Some(n) = convert::opt_count::<usize>(journal, "journal")? {
            b = b.journal(n);
        }
        let bus = b.build();
        bus.set_schema_compiler(crate::schema::compiler());
        Ok(BusPy { bus, clock })
    }

    /// Writes every durable topic's records to disk now (`fdatasync`), whatever
    /// their durability.
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.bus.sync()).map_err(err)
    }

    /// Closes the bus: its topics and queues are closed (publishing raises
    /// `Closed`; readers drain what is retained), durable topics are synced, and
    /// the data directory is unlocked, so a new `Bus(data_dir=...)` can open it.
    /// Creating topics or queues afterwards raises `Closed`. `with Bus(...) as
    /// bus:` closes it at the end of the block.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.bus.close()).map_err(err)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// The topic of that name, created if it does not exist. Options left out
    /// accept what exists (or take the defaults); a conflicting option raises
    /// `ConfigError`.
    /// `compacted=True` keeps the latest record per key; publishing `None` with a
    /// key deletes the key (a tombstone).
    ///
    /// `durable=True` (on a `Bus(data_dir=...)`) writes every record to disk
    /// before `publish` returns; reopened after a restart, the topic replays its
    /// retained records at their offsets. `codec` is how values are stored:
    /// `"json"` (the default: dict, list, str, int, float, bool, None — anything
    /// else is a `TypeMismatch`, also a `TypeError`, at publish), `"pickle"` (any
    /// picklable object; loading pickles runs code, so open only directories you
    /// trust) or `"bytes"`. `durability` is `"written"` (the default: survives
    /// the process being killed), `"synced"` (survives a power cut) or
    /// `"buffered"` (written by a background writer within 5 ms: a crash loses
    /// at most that window, never what came before a `bus.sync()`). Left out,
    /// they accept what is stored, as the other options accept what exists.
    ///
    /// `owner`, `description`, `tags` and `schema` describe the topic as a data
    /// product (listed by `Bus.catalog()`); `schema` is a JSON Schema (a dict)
    /// every value must match at publish (`SchemaError` otherwise, nothing
    /// published). Opening the topic again with another schema evolves it: only
    /// optional fields may be added (`ConfigError` otherwise).
    #[pyo3(signature = (name, *, partitions = None, capacity = None, max_age = None, on_full = None, compacted = None, durable = None, codec = None, durability = None, owner = None, description = None, tags = None, schema = None))]
    #[allow(clippy::too_many_arguments)]
    fn topic(
        &self,
        py: Python<'_>,
        name: &str,
        partitions: Option<&Bound<'_, PyAny>>,
        capacity: Option<&Bound<'_, PyAny>>,
        max_age: Option<&Bound<'_, PyAny>>,
        on_full: Option<&Bound<'_, PyAny>>,
        compacted: Option<bool>,
        durable: Option<bool>,
        codec: Option<&Bound<'_, PyAny>>,
        durability: Option<&Bound<'_, PyAny>>,
        owner: Option<String>,
        description: Option<String>,
        tags: Option<&Bound<'_, PyAny>>,
        schema: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TopicPy> {
        let metadata = crate::schema::metadata(owner, description, tags, schema)?;
        let mut options = TopicOptions {
            metadata,
            partitions: convert::opt_count(partitions, "partitions")?,
            capacity: convert::opt_count(capacity, "capacity")?,
            max_age: convert::opt_duration(max_age, "max_age")?,
            on_full: on_full
                .filter(|p| !p.is_none())
                .map(|p| convert::choice(p, "on_full"))
                .transpose()?,
            compacted,
            ..Default::default()
        };
        (options.durable, options.durability, options.codec) =
            storage_options(durable, codec, durability)?;
        // Opening a durable topic decodes its records (the codecs take the GIL):
        // without the GIL, so another thread's open can wait for it.
        let t = py
            .detach(|| {
                self.bus.open_topic_with_codecs::<Value>(
                    name,
                    &options,
                    |v| Python::attach(|py| v.is_none(py)),
                    &crate::codecs::CODECS,
                )
            })
            .map_err(err)?;
        Ok(self.wrap(TopicKind::Values(t)))
    }

    /// The queue of that name, created if it does not exist. Options left out
    /// accept what exists (or take the defaults); a conflicting option raises
    /// `ConfigError`.
    ///
    /// `durable=True` (on a `Bus(data_dir=...)`) writes every send, delivery,
    /// ack, delay and dead letter to disk before the call returns; reopened after
    /// a restart, ready and delayed messages come back, and messages that were
    /// in flight come back ready with that delivery counted as an attempt.
    /// `codec` and `durability` are as for `Bus.topic`.
    #[pyo3(signature = (name, *, capacity = None, visibility_timeout = None, max_deliveries = None, dead_letter = None, durable = None, codec = None, durability = None))]
    #[allow(clippy::too_many_arguments)]
    fn queue(
        &self,
        py: Python<'_>,
        name: &str,
        capacity: Option<&Bound<'_, PyAny>>,
        visibility_timeout: Option<&Bound<'_, PyAny>>,
        max_deliveries: Option<&Bound<'_, PyAny>>,
        dead_letter: Option<&str>,
        durable: Option<bool>,
        codec: Option<&Bound<'_, PyAny>>,
        durability: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<QueuePy> {
        let mut options = ringlet::options::QueueOptions {
            capacity: convert::opt_count(capacity, "capacity")?,
            visibility_timeout: convert::opt_duration(visibility_timeout, "visibility_timeout")?,
            max_deliveries: convert::opt_count(max_deliveries, "max_deliveries")?,
            dead_letter: dead_letter.map(str::to_owned),
            ..Default::default()
        };
        (options.durable, options.durability, options.codec) =
            storage_options(durable, codec, durability)?;
        // As `Bus.topic`: a durable queue decodes its messages without the GIL.
        let q = py
            .detach(|| {
                self.bus
                    .open_queue_with_codecs::<Value>(name, &options, &crate::codecs::CODECS)
            })
            .map_err(err)?;
        Ok(QueuePy::new(q))
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

    /// Fault injection on this bus: crashes, late acks, failed publishes and
    /// sends, paused partitions.
    fn faults(&self) -> crate::faults::FaultsPy {
        crate::faults::FaultsPy {
            f: self.bus.faults(),
        }
    }

    /// Removes a topic or queue (closing it).
    fn delete(&self, name: &str) -> PyResult<()> {
        self.bus.delete(name).map_err(err)
    }

    /// The names of topics and queues, sorted.
    fn names(&self) -> Vec<String> {
        self.bus.names()
    }

    /// Reads every topic whose whole name matches `pattern` (a regular
    /// expression), including topics created later (Kafka's regex
    /// subscription): topics there now start at `start` (default `"latest"`),
    /// topics found later at their first record. Records carry `.topic`.
    #[pyo3(signature = (pattern, start = None))]
    fn subscribe_pattern(
        &self,
        pattern: &str,
        start: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<crate::pattern::PatternPy> {
        crate::pattern::PatternPy::subscription(&self.bus, pattern, start)
    }

    /// Joins the consumer group `name` on every topic whose whole name matches
    /// `pattern`, including topics created later: one member across them, with
    /// `commit()`. The options are the group's on every topic (defaults: start
    /// `"latest"`, no auto-commit, 45 s session timeout).
    #[pyo3(signature = (pattern, name, *, start = None, auto_commit = None, session_timeout = None))]
    fn group_pattern(
        &self,
        pattern: &str,
        name: &str,
        start: Option<&Bound<'_, PyAny>>,
        auto_commit: Option<bool>,
        session_timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<crate::pattern::PatternPy> {
        let options = crate::group::group_options(start, auto_commit, session_timeout)?;
        crate::pattern::PatternPy::member(
            &self.bus,
            pattern,
            name,
            options.apply(ringlet::GroupConfig::default()),
        )
    }

    /// Every topic as a data product: a list of dicts with `name`, `owner`,
    /// `description`, `tags`, `schema`, `partitions`, `retention`, `records`,
    /// `producers`, `consumers` (each with its `lag`) and `lag` (the largest).
    /// Renders as a table in Jupyter.
    fn catalog(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let c = py.detach(|| self.bus.catalog());
        let entries = convert::to_plain(py, &c)?;
        let display = py.import("ringlet._display")?.getattr("Catalog")?;
        Ok(display.call1((entries,))?.unbind())
    }

    /// The naming rule topic names on this bus follow, or `None`.
    #[getter]
    fn naming_rule(&self) -> Option<String> {
        self.bus.naming_rule().map(|r| r.describe().to_string())
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
