//! The exception hierarchy and the one place core errors become Python exceptions.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyStopAsyncIteration, PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use ringlet::{ErrorDetails, ErrorKind};

create_exception!(
    ringlet,
    RingletError,
    PyException,
    "Base class of every Ringlet error."
);
create_exception!(
    ringlet,
    Full,
    RingletError,
    "The topic partition or queue is full."
);
create_exception!(
    ringlet,
    Closed,
    RingletError,
    "The topic, queue, subscription or member is closed."
);
create_exception!(
    ringlet,
    Lagged,
    RingletError,
    "Records were evicted before this reader got to them (`.partition`, `.skipped`)."
);
create_exception!(
    ringlet,
    Expired,
    RingletError,
    "The delivery's visibility timeout passed before it was settled."
);
create_exception!(
    ringlet,
    AlreadySettled,
    RingletError,
    "The delivery was settled already."
);
create_exception!(
    ringlet,
    Timeout,
    RingletError,
    "Nothing happened within the timeout."
);
create_exception!(
    ringlet,
    NotOwner,
    RingletError,
    "The group member does not own the partition (`.partition`)."
);
create_exception!(
    ringlet,
    OutOfRange,
    RingletError,
    "An offset or partition the topic does not have (`.partition`)."
);
create_exception!(
    ringlet,
    VersionConflict,
    RingletError,
    "An append expected another version."
);
/// `TypeMismatch`: a value or object of another type than expected — a
/// `RingletError` and a `TypeError` (PyO3's exception macro takes one base, so the
/// class is made with `type()` when the module is loaded).
pub(crate) struct TypeMismatch;

static TYPE_MISMATCH: PyOnceLock<Py<PyType>> = PyOnceLock::new();

impl TypeMismatch {
    fn class(py: Python<'_>) -> PyResult<&Py<PyType>> {
        TYPE_MISMATCH.get_or_try_init(py, || {
            let bases = PyTuple::new(
                py,
                [
                    py.get_type::<RingletError>().into_any(),
                    py.get_type::<PyTypeError>().into_any(),
                ],
            )?;
            let body = PyDict::new(py);
            body.set_item("__module__", "ringlet")?;
            body.set_item(
                "__doc__",
                "A value, or the object a name holds, is of another type than expected (also a TypeError).",
            )?;
            let class = py
                .import("builtins")?
                .getattr("type")?
                .call1(("TypeMismatch", bases, body))?;
            Ok(class.cast_into::<PyType>()?.unbind())
        })
    }

    pub(crate) fn new_err(msg: impl Into<String>) -> PyErr {
        let msg = msg.into();
        Python::attach(|py| match Self::class(py) {
            Ok(c) => PyErr::from_type(c.bind(py).clone(), msg),
            Err(e) => e,
        })
    }
}
create_exception!(
    ringlet,
    ConfigError,
    RingletError,
    "An invalid or conflicting configuration."
);
create_exception!(
    ringlet,
    NotFound,
    RingletError,
    "Nothing by that name exists."
);
create_exception!(
    ringlet,
    InvalidName,
    RingletError,
    "The name breaks the naming rules or is reserved."
);
create_exception!(
    ringlet,
    StreamError,
    RingletError,
    "A record failed in a topology: `.node`, `.topic`, `.partition`, `.offset`, `.key`, \
     `.record` (the record the callback got, if a callback raised); `__cause__` is the \
     callback's exception."
);

create_exception!(
    ringlet,
    Corrupt,
    RingletError,
    "Stored data is damaged before its tail (durable topics)."
);
create_exception!(
    ringlet,
    Locked,
    RingletError,
    "A store's directory is open elsewhere."
);
create_exception!(
    ringlet,
    Io,
    RingletError,
    "The operating system refused a read, write or sync of stored data."
);

create_exception!(
    ringlet,
    SchemaError,
    RingletError,
    "A record does not match its topic's JSON Schema: `.topic`, `.path` (a JSON pointer \
     into the value), `.rule` (the keyword broken). Nothing was published."
);

/// Registers the exception classes in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RingletError", py.get_type::<RingletError>())?;
    m.add("Full", py.get_type::<Full>())?;
    m.add("Closed", py.get_type::<Closed>())?;
    m.add("Lagged", py.get_type::<Lagged>())?;
    m.add("Expired", py.get_type::<Expired>())?;
    m.add("AlreadySettled", py.get_type::<AlreadySettled>())?;
    m.add("Timeout", py.get_type::<Timeout>())?;
    m.add("NotOwner", py.get_type::<NotOwner>())?;
    m.add("OutOfRange", py.get_type::<OutOfRange>())?;
    m.add("VersionConflict", py.get_type::<VersionConflict>())?;
    m.add("TypeMismatch", TypeMismatch::class(py)?.clone_ref(py))?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("InvalidName", py.get_type::<InvalidName>())?;
    m.add("StreamError", py.get_type::<StreamError>())?;
    m.add("Corrupt", py.get_type::<Corrupt>())?;
    m.add("Locked", py.get_type::<Locked>())?;
    m.add("Io", py.get_type::<Io>())?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    Ok(())
}

/// An exception with attributes set on its instance.
fn with_attrs<E: pyo3::PyTypeInfo>(msg: String, attrs: &[(&str, u64)]) -> PyErr {
    set_attrs(PyErr::new::<E, _>(msg), attrs)
}

fn set_attrs(err: PyErr, attrs: &[(&str, u64)]) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py);
        for (name, v) in attrs {
            // Setting an attribute on a fresh exception instance cannot fail.
            let _ = value.setattr(*name, *v);
        }
        err
    })
}

/// `Full` after a batch call timed out part-way: `.{done}` (`sent`, `published`)
/// says how many of the `total` values went in (the first ones, in order).
pub(crate) fn full_after(what: &str, done: &'static str, n: usize, total: usize) -> PyErr {
    with_attrs::<Full>(
        format!("the {what} is full: {n} of {total} values were {done} before the timeout"),
        &[(done, n as u64)],
    )
}

/// A closed topic, queue, subscription or member.
pub(crate) fn closed(what: &str) -> PyErr {
    Closed::new_err(format!("{what} is closed"))
}

/// Core errors as Python exceptions: the only mapping. The exception class is the
/// one the contract names ([`ErrorKind`]); `.partition` and `.skipped` are set
/// where the error has them. A missing key is an argument error (`ValueError`).
pub(crate) fn err<E: ErrorDetails>(e: E) -> PyErr {
    let msg = e.to_string();
    let e_schema = e.schema().cloned();
    let attrs: Vec<(&str, u64)> = [
        e.partition().map(|p| ("partition", u64::from(p))),
        e.skipped().map(|s| ("skipped", s)),
    ]
    .into_iter()
    .flatten()
    .collect();
    match e.kind() {
        ErrorKind::Full => with_attrs::<Full>(msg, &attrs),
        ErrorKind::Closed => with_attrs::<Closed>(msg, &attrs),
        ErrorKind::Lagged => with_attrs::<Lagged>(msg, &attrs),
        ErrorKind::Expired => with_attrs::<Expired>(msg, &attrs),
        ErrorKind::AlreadySettled => with_attrs::<AlreadySettled>(msg, &attrs),
        ErrorKind::Timeout => with_attrs::<Timeout>(msg, &attrs),
        ErrorKind::NotOwner => with_attrs::<NotOwner>(msg, &attrs),
        ErrorKind::OutOfRange => with_attrs::<OutOfRange>(msg, &attrs),
        ErrorKind::VersionConflict => with_attrs::<VersionConflict>(msg, &attrs),
        ErrorKind::TypeMismatch => set_attrs(TypeMismatch::new_err(msg), &attrs),
        ErrorKind::ConfigError => with_attrs::<ConfigError>(msg, &attrs),
        ErrorKind::NotFound => with_attrs::<NotFound>(msg, &attrs),
        ErrorKind::InvalidName => with_attrs::<InvalidName>(msg, &attrs),
        ErrorKind::NoKey => pyo3::exceptions::PyValueError::new_err(msg),
        ErrorKind::Corrupt => with_attrs::<Corrupt>(msg, &attrs),
        ErrorKind::Locked => with_attrs::<Locked>(msg, &attrs),
        ErrorKind::Io => with_attrs::<Io>(msg, &attrs),
        ErrorKind::SchemaError => {
            let e = with_attrs::<SchemaError>(msg, &attrs);
            if let Some(s) = e_schema {
                Python::attach(|py| {
                    let v = e.value(py);
                    // Setting an attribute on a fresh exception instance cannot fail.
                    let _ = v.setattr("topic", s.topic);
                    let _ = v.setattr("path", s.path);
                    let _ = v.setattr("rule", s.rule);
                });
            }
            e
        }
        _ => with_attrs::<RingletError>(msg, &attrs),
    }
}

/// The end of an iteration: `Closed` becomes `None`.
pub(crate) fn none_if_closed<T>(py: Python<'_>, r: PyResult<Option<T>>) -> PyResult<Option<T>> {
    match r {
        Err(e) if e.is_instance_of::<Closed>(py) => Ok(None),
        r => r,
    }
}

/// `StopIteration(value)`: how an awaitable that is ready at once returns.
pub(crate) fn stop_iteration(value: Py<PyAny>) -> PyErr {
    PyStopIteration::new_err((value,))
}

/// The end of an `async for`.
pub(crate) fn stop_async() -> PyErr {
    PyStopAsyncIteration::new_err(())
}
