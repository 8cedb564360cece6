//! `bus.faults()`: the core's fault injection ([`ringlet::faults`]), by name.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use ringlet::faults::{Faults, InjectedError};

use crate::convert::{self, type_name};
use crate::errors::err;
use crate::group::{MemberPy, ShareMemberPy};
use crate::queue::DeliveryPy;

/// Fault injection for tests and lessons: crash consumers, make acks arrive
/// late, fail publishes and sends, pause partitions (see the README's
/// "Fault injection").
#[pyclass(frozen, module = "ringlet", name = "Faults")]
pub struct FaultsPy {
    pub(crate) f: Faults,
}

fn error_of(error: Option<&Bound<'_, PyAny>>) -> PyResult<InjectedError> {
    match error {
        None => Ok(InjectedError::Full),
        Some(e) if e.is_none() => Ok(InjectedError::Full),
        Some(e) => convert::choice(e, "error"),
    }
}

fn times(n: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    Ok(convert::opt_count::<u64>(n, "n")?.unwrap_or(1))
}

#[pymethods]
impl FaultsPy {
    /// Crashes a consumer without leaving or settling: a group `Member` (the
    /// session timeout removes it), a `ShareMember` (its deliveries come back at
    /// the visibility timeout) or a `Delivery` (the same, for one message).
    /// Returns whether it was still running.
    fn crash(&self, py: Python<'_>, target: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(m) = target.cast::<MemberPy>() {
            return Ok(m.get().crash(py, &self.f));
        }
        if let Ok(m) = target.cast::<ShareMemberPy>() {
            return Ok(m.get().crash(py, &self.f));
        }
        if let Ok(d) = target.cast::<DeliveryPy>() {
            return Ok(d.get().crash(py, &self.f));
        }
        Err(PyTypeError::new_err(format!(
            "crash() takes a Member, a ShareMember or a Delivery, not {}",
            type_name(target)
        )))
    }

    /// Delays every settle (ack, nack, reject) of deliveries from the queue
    /// `name` — or, for a topic, from its share groups — by `delay` seconds of
    /// the bus clock. `0` or `None` ends the delay.
    #[pyo3(signature = (name, delay))]
    fn delay_acks(
        &self,
        py: Python<'_>,
        name: &str,
        delay: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let d = convert::opt_duration(delay, "delay")?.unwrap_or_default();
        py.detach(|| self.f.delay_acks(name, d)).map_err(err)
    }

    /// Fails the next `n` publishes of the topic `name` with `error`
    /// (`"full"`, `"closed"` or `"io"`); nothing is appended. `n=0` disarms.
    #[pyo3(signature = (name, n = None, *, error = None))]
    fn fail_publishes(
        &self,
        py: Python<'_>,
        name: &str,
        n: Option<&Bound<'_, PyAny>>,
        error: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (n, e) = (times(n)?, error_of(error)?);
        py.detach(|| self.f.fail_publishes(name, n, e)).map_err(err)
    }

    /// Fails the next `n` sends of the queue `name` with `error` (`"full"`,
    /// `"closed"` or `"io"`); nothing is sent. `n=0` disarms.
    #[pyo3(signature = (name, n = None, *, error = None))]
    fn fail_sends(
        &self,
        py: Python<'_>,
        name: &str,
        n: Option<&Bound<'_, PyAny>>,
        error: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (n, e) = (times(n)?, error_of(error)?);
        py.detach(|| self.f.fail_sends(name, n, e)).map_err(err)
    }

    /// Pauses the delivery of a partition of the topic `name` to every reader.
    fn pause_partition(
        &self,
        py: Python<'_>,
        name: &str,
        partition: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let p = convert::count::<u32>(partition, "partition")?;
        py.detach(|| self.f.pause_partition(name, p)).map_err(err)
    }

    /// Resumes a paused partition, waking its readers.
    fn resume_partition(
        &self,
        py: Python<'_>,
        name: &str,
        partition: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let p = convert::count::<u32>(partition, "partition")?;
        py.detach(|| self.f.resume_partition(name, p)).map_err(err)
    }

    /// Disarms every delay, failure and pause (paused partitions resume).
    fn clear(&self, py: Python<'_>) {
        py.detach(|| self.f.clear());
    }

    /// The faults armed now, as dicts (`name`, `fault`, and `remaining` and
    /// `error`, `delay_ms` or `partition`).
    #[getter]
    fn active(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_plain(py, &self.f.active())
    }

    /// What the faults did: `failed`, `delayed_acks`, `late_acks`, `crashed`.
    #[getter]
    fn figures(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_plain(py, &self.f.figures())
    }

    fn __repr__(&self) -> String {
        format!("Faults(active={})", self.f.active().len())
    }
}
