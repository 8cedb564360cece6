//! Python bindings of Ringlet: the `ringlet._ringlet` extension module, wrapped by
//! the pure-Python package `ringlet`. Each method converts its arguments, calls
//! the core and maps errors in one place (`errors`); the semantics live in the
//! `ringlet` crate.
//!
//! Values are Python objects held by reference (never pickled): what is published
//! is what is read. Blocking calls release the GIL and wake every 50 ms to check
//! signals, so Ctrl-C interrupts them. asyncio waiters are woken by one binding
//! thread, never while the core holds a lock.

// Python classes describe themselves with `__repr__`.
#![allow(missing_debug_implementations)]

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

mod aio;
mod convert;
mod errors;
mod group;
mod queue;
mod reader;
mod records;
mod topic;

static DISPLAY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// Renders HTML for notebooks with `ringlet._display.<name>(arg)`.
pub(crate) fn display<A: for<'py> IntoPyObject<'py>>(
    py: Python<'_>,
    name: &str,
    arg: A,
) -> PyResult<Py<PyAny>> {
    let m = DISPLAY.get_or_try_init(py, || py.import("ringlet._display").map(Bound::unbind))?;
    Ok(m.bind(py).getattr(name)?.call1((arg,))?.unbind())
}

#[pymodule]
fn _ringlet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<topic::BusPy>()?;
    m.add_class::<topic::ManualClockPy>()?;
    m.add_class::<topic::TopicPy>()?;
    m.add_class::<topic::SubscriptionPy>()?;
    m.add_class::<records::Receipt>()?;
    m.add_class::<records::RecordPy>()?;
    m.add_class::<queue::QueuePy>()?;
    m.add_class::<queue::DeliveryPy>()?;
    m.add_class::<group::GroupPy>()?;
    m.add_class::<group::MemberPy>()?;
    m.add_class::<group::ShareGroupPy>()?;
    m.add_class::<group::ShareMemberPy>()?;
    m.add_class::<aio::Pending>()?;
    m.add_class::<aio::Ready>()?;
    Ok(())
}
