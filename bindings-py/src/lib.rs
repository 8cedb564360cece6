//! Python bindings of Ringlet: the `ringlet._ringlet` extension module, wrapped by
//! the pure-Python package `ringlet`. Each method converts its arguments, calls
//! the core and maps errors in one place (`errors`); the semantics live in the
//! `ringlet` crate. What stays here is Python's side of each method: argument
//! checks in Python's terms, waiting with the GIL released and Ctrl-C checked,
//! asyncio awaitables, Python result objects and the docstrings; the journal's
//! refusal of writes (its values are the core's `Event`s, not Python objects) and
//! a failed aggregate factory (reported by the first call on what it did not
//! make) are the only rules decided here, because only a binding meets them.
//!
//! Values are Python objects held by reference: what is published is what is
//! read (a durable topic also stores an encoded copy, `codecs`, decoded only when
//! it is opened after a restart). Blocking calls release the GIL and wake every 50 ms to check
//! signals, so Ctrl-C interrupts them. asyncio waiters are woken by one binding
//! thread, never while the core holds a lock.
//!
//! # Decisions where the contract was silent
//!
//! - `poll(timeout=None)` / `receive(timeout=None)` wait as long as it takes
//!   (Ctrl-C interrupts); `timeout=0` never waits. `None` is returned on timeout.
//! - `await sub.next()` behaves like `poll`: it raises `Lagged` once per gap and
//!   `Closed` at the end; `async for` and `for` count gaps in `skipped` and end at
//!   the close (with `on_lag="error"` they raise `Lagged` at a gap instead).
//! - A publish or send that waited for room in vain (its `timeout` passed) raises
//!   `Full`, the state it gave up on. On a `reject` topic an explicit `timeout`
//!   waits, as the core's `publish_timeout` does.
//! - `len(queue)` is the number of messages ready now (the core's `len`); in-flight
//!   and delayed ones are in `queue.figures`. `len(topic)` is the records retained.
//! - Headers go in as a dict or `(name, value)` pairs (values `str`, stored as
//!   UTF-8, or bytes) and come back as a list of `(name, bytes)` pairs in order;
//!   `record.header(name)` gives the last value of a name.
//! - Rebalance listeners run in the member's own call, after the core part and
//!   with no lock held, so they may call the member (`seek`, `commit`). A listener
//!   that raises makes that call raise; records the call had read are put back (the
//!   member seeks to them), so nothing is lost.
//! - The journal (`bus.journal`, or `bus.get_topic("__journal")`) is read-only:
//!   publishing to it or opening a group on it raises `TypeMismatch`; its records'
//!   values are plain dicts.
//! - A share group's `max_deliveries` is an int; leaving it out keeps what exists
//!   (or the default 5). Unlimited deliveries are for queues only.
//! - A `Delivery` garbage-collected unsettled is nacked, as dropping one in Rust.
//! - Durable topics and queues (`Bus(data_dir=...)`, `topic(..., durable=True)`,
//!   `queue(..., durable=True)`): the JSON
//!   codec takes exactly dict (str keys), list, str, int (64-bit), finite float,
//!   bool and None, so a value read back after a restart equals the one published
//!   (a tuple or an int key would come back changed: they are refused, with
//!   `codec="pickle"` named as the way out); dict keys keep their order. Left-out
//!   options accept what is stored (partitions, compaction, codec), as they accept
//!   what exists; `capacity` is retention and not stored. `ringlet.TypeMismatch`
//!   is also a `TypeError`.

// Python classes describe themselves with `__repr__`.
#![allow(missing_debug_implementations)]

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

mod aio;
mod bus;
mod codecs;
mod convert;
mod errors;
mod eventstore;
mod faults;
mod group;
mod http;
mod kafka;
mod lake;
mod pattern;
mod queue;
mod reader;
mod records;
mod schema;
mod streams;
mod subscription;
mod tables;
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
    ringlet::label_value_type::<convert::Value>("Python objects");
    errors::register(m)?;
    m.add_class::<bus::BusPy>()?;
    kafka::register(m)?;
    http::register(m)?;
    lake::register(m)?;
    m.add_class::<bus::ManualClockPy>()?;
    m.add_class::<topic::TopicPy>()?;
    m.add_class::<subscription::SubscriptionPy>()?;
    m.add_class::<pattern::PatternPy>()?;
    m.add_class::<records::Receipt>()?;
    m.add_class::<records::RecordPy>()?;
    m.add_class::<queue::QueuePy>()?;
    m.add_class::<queue::DeliveryPy>()?;
    m.add_class::<group::GroupPy>()?;
    m.add_class::<group::MemberPy>()?;
    m.add_class::<group::ShareGroupPy>()?;
    m.add_class::<group::ShareMemberPy>()?;
    m.add_class::<faults::FaultsPy>()?;
    m.add_class::<aio::Pending>()?;
    m.add_class::<aio::Ready>()?;
    streams::register(m)?;
    Ok(())
}
