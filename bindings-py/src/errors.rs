//! The exception hierarchy and the one place core errors become Python exceptions.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use ringlet::{
    Error, PublishError, PublishTimeoutError, ReceiveError, ReceiveTimeoutError, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, SettleError, TryReceiveError, TryRecvError,
    TrySendError,
};

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
create_exception!(
    ringlet,
    TypeMismatch,
    RingletError,
    "The name holds another kind of object."
);
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
    m.add("TypeMismatch", py.get_type::<TypeMismatch>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("InvalidName", py.get_type::<InvalidName>())?;
    Ok(())
}

/// An exception with attributes set on its instance.
fn with_attrs<E: pyo3::PyTypeInfo>(msg: String, attrs: &[(&str, u64)]) -> PyErr {
    Python::attach(|py| {
        let err = PyErr::new::<E, _>(msg);
        let value = err.value(py);
        for (name, v) in attrs {
            // Setting an attribute on a fresh exception instance cannot fail.
            let _ = value.setattr(*name, *v);
        }
        err
    })
}

/// `Lagged` with `.partition` and `.skipped`.
pub(crate) fn lagged(partition: u32, skipped: u64) -> PyErr {
    let msg = RecvError::Lagged { partition, skipped }.to_string();
    with_attrs::<Lagged>(
        msg,
        &[("partition", partition.into()), ("skipped", skipped)],
    )
}

/// A closed topic, queue, subscription or member.
pub(crate) fn closed(what: &str) -> PyErr {
    Closed::new_err(format!("{what} is closed"))
}

/// Core errors as Python exceptions: the only mapping.
pub(crate) trait IntoPyErr {
    fn into_py_err(self) -> PyErr;
}

/// `result.map_err(err)`.
pub(crate) fn err<E: IntoPyErr>(e: E) -> PyErr {
    e.into_py_err()
}

impl IntoPyErr for Error {
    fn into_py_err(self) -> PyErr {
        let msg = self.to_string();
        match self {
            Error::InvalidName { .. } => InvalidName::new_err(msg),
            Error::NotFound { .. } => NotFound::new_err(msg),
            Error::TypeMismatch { .. } => TypeMismatch::new_err(msg),
            Error::ConfigError { .. } => ConfigError::new_err(msg),
            Error::OutOfRange { partition, .. } => {
                with_attrs::<OutOfRange>(msg, &[("partition", partition.into())])
            }
            Error::NotOwner { partition } => {
                with_attrs::<NotOwner>(msg, &[("partition", partition.into())])
            }
            Error::Closed => Closed::new_err(msg),
            _ => RingletError::new_err(msg),
        }
    }
}

impl IntoPyErr for RecvError {
    fn into_py_err(self) -> PyErr {
        match self {
            RecvError::Lagged { partition, skipped } => lagged(partition, skipped),
            RecvError::Closed => closed("the topic (or subscription)"),
        }
    }
}

impl IntoPyErr for TryRecvError {
    fn into_py_err(self) -> PyErr {
        match self {
            TryRecvError::Lagged { partition, skipped } => lagged(partition, skipped),
            TryRecvError::Closed => RecvError::Closed.into_py_err(),
            TryRecvError::Empty => Timeout::new_err("no record ready"),
        }
    }
}

impl IntoPyErr for RecvTimeoutError {
    fn into_py_err(self) -> PyErr {
        match self {
            RecvTimeoutError::Lagged { partition, skipped } => lagged(partition, skipped),
            RecvTimeoutError::Closed => RecvError::Closed.into_py_err(),
            RecvTimeoutError::Timeout => Timeout::new_err("timed out"),
        }
    }
}

impl<M> IntoPyErr for PublishError<M> {
    fn into_py_err(self) -> PyErr {
        let msg = self.to_string();
        match self {
            PublishError::Full(_) => Full::new_err(msg),
            PublishError::Closed(_) => Closed::new_err(msg),
            PublishError::OutOfRange(_) => OutOfRange::new_err(msg),
            PublishError::NoKey(_) => pyo3::exceptions::PyValueError::new_err(msg),
        }
    }
}

impl<M> IntoPyErr for PublishTimeoutError<M> {
    fn into_py_err(self) -> PyErr {
        let msg = self.to_string();
        match self {
            // A publish that waited for room in vain: the partition is still full.
            PublishTimeoutError::Timeout(_) | PublishTimeoutError::Full(_) => Full::new_err(msg),
            PublishTimeoutError::Closed(_) => Closed::new_err(msg),
            PublishTimeoutError::OutOfRange(_) => OutOfRange::new_err(msg),
            PublishTimeoutError::NoKey(_) => pyo3::exceptions::PyValueError::new_err(msg),
        }
    }
}

impl<M> IntoPyErr for SendError<M> {
    fn into_py_err(self) -> PyErr {
        Closed::new_err(self.to_string())
    }
}

impl<M> IntoPyErr for TrySendError<M> {
    fn into_py_err(self) -> PyErr {
        let msg = self.to_string();
        match self {
            TrySendError::Full(_) => Full::new_err(msg),
            TrySendError::Closed(_) => Closed::new_err(msg),
        }
    }
}

impl<M> IntoPyErr for SendTimeoutError<M> {
    fn into_py_err(self) -> PyErr {
        match self {
            // A send that waited for room in vain: the queue is still full.
            SendTimeoutError::Timeout(_) => Full::new_err("the queue is full"),
            SendTimeoutError::Closed(_) => Closed::new_err(self.to_string()),
        }
    }
}

impl IntoPyErr for ReceiveError {
    fn into_py_err(self) -> PyErr {
        Closed::new_err(self.to_string())
    }
}

impl IntoPyErr for TryReceiveError {
    fn into_py_err(self) -> PyErr {
        match self {
            TryReceiveError::Closed => Closed::new_err(self.to_string()),
            TryReceiveError::Empty => Timeout::new_err(self.to_string()),
        }
    }
}

impl IntoPyErr for ReceiveTimeoutError {
    fn into_py_err(self) -> PyErr {
        match self {
            ReceiveTimeoutError::Closed => Closed::new_err(self.to_string()),
            ReceiveTimeoutError::Timeout => Timeout::new_err(self.to_string()),
        }
    }
}

impl IntoPyErr for SettleError {
    fn into_py_err(self) -> PyErr {
        let msg = self.to_string();
        match self {
            SettleError::Expired => Expired::new_err(msg),
            SettleError::AlreadySettled => AlreadySettled::new_err(msg),
            _ => RingletError::new_err(msg),
        }
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
