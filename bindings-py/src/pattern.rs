//! `PatternSubscription`: the core's pattern subscriptions and pattern group
//! members (every topic whose name matches a regular expression), for Python.
//! Records come with `.topic`.

use std::time::Duration;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyList;
use ringlet::{
    Error, PatternMember, PatternSubscription, RecvTimeoutError, TopicRecord, TryRecvError,
};

use crate::convert::{self, Value};
use crate::errors::err;
use crate::reader::{locked, wait_for};
use crate::records::{read, RecordPy};

/// One of the core's two pattern readers.
enum Pattern {
    Subscription(PatternSubscription<Value>),
    Member(PatternMember<Value>),
}

/// Calls the same method on whichever reader it is.
macro_rules! each {
    ($p:expr, $r:ident => $e:expr) => {
        match $p {
            Pattern::Subscription($r) => $e,
            Pattern::Member($r) => $e,
        }
    };
}

impl Pattern {
    fn try_recv(&mut self) -> Result<TopicRecord<Value>, TryRecvError> {
        each!(self, r => r.try_recv())
    }
    fn recv_timeout(&mut self, d: Duration) -> Result<TopicRecord<Value>, RecvTimeoutError> {
        each!(self, r => r.recv_timeout(d))
    }
    fn try_recv_batch(&mut self, max: usize) -> Result<Vec<TopicRecord<Value>>, TryRecvError> {
        each!(self, r => r.try_recv_batch(max))
    }
}

fn record(py: Python<'_>, r: TopicRecord<Value>) -> PyResult<RecordPy> {
    Ok(RecordPy::new(py, read(r.record))?.in_topic(r.topic))
}

/// A reader of every topic whose whole name matches a regular expression,
/// including topics created later (Kafka's regex subscription); made by
/// `Bus.subscribe_pattern` or, as a consumer group member, `Bus.group_pattern`.
#[pyclass(frozen, module = "ringlet", name = "PatternSubscription")]
pub struct PatternPy {
    inner: Mutex<Pattern>,
    pattern: String,
    group: Option<String>,
}

impl PatternPy {
    pub(crate) fn subscription(
        bus: &ringlet::Bus,
        pattern: &str,
        start: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let start = match start.filter(|s| !s.is_none()) {
            Some(s) => convert::start(s)?,
            None => ringlet::Start::Latest,
        };
        let sub = bus
            .subscribe_pattern::<Value>(pattern, start)
            .map_err(err)?;
        Ok(PatternPy {
            inner: Mutex::new(Pattern::Subscription(sub)),
            pattern: pattern.to_string(),
            group: None,
        })
    }

    pub(crate) fn member(
        bus: &ringlet::Bus,
        pattern: &str,
        name: &str,
        config: ringlet::GroupConfig,
    ) -> PyResult<Self> {
        let m = bus
            .group_pattern_with::<Value>(pattern, name, config)
            .map_err(err)?;
        Ok(PatternPy {
            inner: Mutex::new(Pattern::Member(m)),
            pattern: pattern.to_string(),
            group: Some(name.to_string()),
        })
    }

    fn read_one(&self, py: Python<'_>, timeout: Option<Duration>) -> PyResult<Option<RecordPy>> {
        let got = match locked(py, &self.inner, Pattern::try_recv) {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) if timeout.is_some_and(|t| t.is_zero()) => None,
            Err(TryRecvError::Empty) => {
                wait_for(py, timeout, |d| match self.inner.lock().recv_timeout(d) {
                    Ok(r) => Ok(Some(r)),
                    Err(RecvTimeoutError::Timeout) => Ok(None),
                    Err(e) => Err(err(e)),
                })?
            }
            Err(e) => return Err(err(e)),
        };
        got.map(|r| record(py, r)).transpose()
    }
}

#[pymethods]
impl PatternPy {
    /// The pattern as given.
    #[getter]
    fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The consumer group's name (`None` for a plain pattern subscription).
    #[getter]
    fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The next record of any matching topic (its `.topic` says which), waiting
    /// up to `timeout` seconds (`None`: as long as it takes; Ctrl-C interrupts).
    /// `None` on timeout; raises `Closed` once closed (or the bus closed and
    /// every topic drained). Gaps are counted in `skipped`, not raised.
    #[pyo3(signature = (timeout = None))]
    fn poll(
        &self,
        py: Python<'_>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<RecordPy>> {
        let timeout = convert::opt_duration(timeout, "timeout")?;
        self.read_one(py, timeout)
    }

    /// Up to `max` records, waiting up to `timeout` seconds for the first (empty
    /// list on timeout).
    #[pyo3(signature = (max = None, timeout = None))]
    fn poll_many(
        &self,
        py: Python<'_>,
        max: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        let max = convert::opt_count::<usize>(max, "max")?.unwrap_or(1024);
        let timeout = convert::opt_duration(timeout, "timeout")?;
        let mut got = Vec::new();
        if max > 0 {
            if let Some(first) = self.read_one(py, timeout)? {
                got.push(first);
                let more = locked(py, &self.inner, |p| p.try_recv_batch(max - 1));
                for r in more.unwrap_or_default() {
                    got.push(record(py, r)?);
                }
            }
        }
        let items = got
            .into_iter()
            .map(|r| Py::new(py, r))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.unbind())
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next record; the iteration ends once closed.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<RecordPy>> {
        crate::errors::none_if_closed(py, self.read_one(py, None))
    }

    /// The names of the topics read now, sorted (new matching topics are looked
    /// for first).
    fn topics(&self, py: Python<'_>) -> Vec<String> {
        locked(py, &self.inner, |p| each!(p, r => r.topics()))
    }

    /// Matching topics that are not read, as `(name, reason)` pairs: a topic made
    /// outside Python (another value type), a group that could not be joined.
    fn not_read(&self, py: Python<'_>) -> Vec<(String, String)> {
        let v: Vec<(String, Error)> = locked(py, &self.inner, |p| each!(p, r => r.not_read()));
        v.into_iter().map(|(n, e)| (n, e.to_string())).collect()
    }

    /// Records of the topics read that are not read yet, in all.
    #[getter]
    fn lag(&self, py: Python<'_>) -> u64 {
        locked(py, &self.inner, |p| each!(p, r => r.lag()))
    }

    /// Offsets passed over because their records were evicted first, in all.
    #[getter]
    fn skipped(&self, py: Python<'_>) -> u64 {
        locked(py, &self.inner, |p| each!(p, r => r.skipped()))
    }

    /// Commits what was returned, on every topic read (a group member only).
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        locked(py, &self.inner, |p| {
            match p {
            Pattern::Member(m) => m.commit().map_err(err),
            Pattern::Subscription(_) => Err(pyo3::exceptions::PyTypeError::new_err(
                "commit() is for a group member: this pattern subscription has no group (use Bus.group_pattern)",
            )),
        }
        })
    }

    /// The partitions owned per topic, as a dict (a group member; `{}` otherwise).
    fn assignment(&self, py: Python<'_>) -> std::collections::BTreeMap<String, Vec<u32>> {
        locked(py, &self.inner, |p| match p {
            Pattern::Member(m) => m.assignment().into_iter().collect(),
            Pattern::Subscription(_) => Default::default(),
        })
    }

    /// Stops reading: the next read raises `Closed`.
    fn close(&self, py: Python<'_>) {
        locked(py, &self.inner, |p| each!(p, r => r.close()));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) {
        self.close(py);
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let topics = self.topics(py);
        match &self.group {
            Some(g) => format!(
                "PatternSubscription({:?}, group={g:?}, topics={topics:?})",
                self.pattern
            ),
            None => format!("PatternSubscription({:?}, topics={topics:?})", self.pattern),
        }
    }
}
