//! Conversions between Python objects and the core's types.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyList,
    PyMemoryView, PyString, PyTuple,
};
use ringlet::{Headers, Key, Message, Start};

/// A Python object held by reference: publishing and reading hand the same object
/// around (`is` identity). Cloning it needs no GIL (the `Arc`); the object's own
/// reference is dropped with the last clone, deferred by PyO3 when that happens
/// without the GIL.
#[derive(Clone)]
pub(crate) struct Value(Arc<Py<PyAny>>);

impl Value {
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> Self {
        Value(Arc::new(obj.clone().unbind()))
    }

    pub(crate) fn get(&self, py: Python<'_>) -> Py<PyAny> {
        self.0.clone_ref(py)
    }

    /// Whether it is `None` (a tombstone on a compacted topic).
    pub(crate) fn is_none(&self, py: Python<'_>) -> bool {
        self.0.is_none(py)
    }
}

/// Longest duration accepted (about 31 years): larger values are surely mistakes.
const MAX_SECONDS: f64 = 1.0e9;

/// A duration given as float seconds or a `timedelta`.
pub(crate) fn duration(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Duration> {
    let secs: f64 = if let Ok(d) = obj.cast::<PyDelta>() {
        d.call_method0("total_seconds")?.extract()?
    } else if obj.is_instance_of::<PyFloat>()
        || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>())
    {
        obj.extract::<f64>()?
    } else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be seconds (int or float) or a datetime.timedelta, not {}",
            type_name(obj)
        )));
    };
    if !secs.is_finite() || !(0.0..=MAX_SECONDS).contains(&secs) {
        return Err(PyValueError::new_err(format!(
            "{what} must be between 0 and {MAX_SECONDS:e} seconds, not {secs}"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// An optional duration (`None` passes through).
pub(crate) fn opt_duration(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<Duration>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => duration(o, what).map(Some),
    }
}

/// A timestamp in ms since the epoch: an int (ms) or a `datetime` (Python's own
/// `timestamp()` rules: a naive datetime is local time).
pub(crate) fn timestamp_ms(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    if obj.is_instance_of::<PyDateTime>() {
        let secs: f64 = obj.call_method0("timestamp")?.extract()?;
        return Ok((secs * 1000.0).round() as i64);
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return obj.extract::<i64>().map_err(|_| {
            PyValueError::new_err(format!(
                "{what} is out of range for milliseconds since the epoch"
            ))
        });
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be an int (ms since the epoch) or a datetime, not {}",
        type_name(obj)
    )))
}

/// A non-negative integer of the given kind, with clear errors.
pub(crate) fn count<T: TryFrom<u64>>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    if !obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {}",
            type_name(obj)
        )));
    }
    let v: i128 = obj
        .extract()
        .map_err(|_| PyValueError::new_err(format!("{what} is out of range")))?;
    u64::try_from(v)
        .ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "{what} must be a non-negative int in range, not {v}"
            ))
        })
}

pub(crate) fn opt_count<T: TryFrom<u64>>(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<T>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => count(o, what).map(Some),
    }
}

/// The items of `obj` for an argument that takes several values (`what`: how
/// the message names the call): any iterable but a `str`, bytes or a dict, whose
/// characters or keys are never what was meant.
pub(crate) fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyDict>() || bytes_of(obj).is_some()
    {
        return Err(PyTypeError::new_err(format!(
            "{what} takes a list of values, not a {}: put a single value in a list ([value])",
            type_name(obj)
        )));
    }
    obj.try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} takes a list of values, not {}",
                type_name(obj)
            ))
        })?
        .collect()
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Bytes from `bytes`, `bytearray` or `memoryview`.
fn bytes_of(obj: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Some(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Some(b.to_vec());
    }
    if obj.is_instance_of::<PyMemoryView>() {
        return obj.call_method0("tobytes").ok()?.extract::<Vec<u8>>().ok();
    }
    None
}

/// A key: `str` (remembered as text) or bytes-like.
pub(crate) fn key(obj: &Bound<'_, PyAny>) -> PyResult<Key> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Key::from(s.to_cow()?.into_owned()));
    }
    bytes_of(obj).map(Key::from).ok_or_else(|| {
        PyTypeError::new_err(format!("key must be str or bytes, not {}", type_name(obj)))
    })
}

/// A key as Python hands it back: `str` for a text key, `bytes` otherwise.
pub(crate) fn key_to_py(py: Python<'_>, k: &Key) -> Py<PyAny> {
    match k.as_str() {
        Some(s) if k.is_text() => PyString::new(py, s).into_any().unbind(),
        _ => PyBytes::new(py, k.as_bytes()).into_any().unbind(),
    }
}

fn header_value(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    bytes_of(obj).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "header values must be str or bytes, not {}",
            type_name(obj)
        ))
    })
}

fn header_name(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    obj.cast::<PyString>()
        .map_err(|_| {
            PyTypeError::new_err(format!("header names must be str, not {}", type_name(obj)))
        })?
        .to_cow()
        .map(|c| c.into_owned())
}

/// Headers from a dict or an iterable of `(name, value)` pairs; values are `str`
/// (stored as UTF-8) or bytes.
pub(crate) fn headers(obj: &Bound<'_, PyAny>) -> PyResult<Headers> {
    let mut h = Headers::default();
    if let Ok(d) = obj.cast::<PyDict>() {
        for (k, v) in d.iter() {
            h.push(header_name(&k)?, header_value(&v)?);
        }
        return Ok(h);
    }
    if obj.is_instance_of::<PyString>() || bytes_of(obj).is_some() {
        return Err(PyTypeError::new_err(
            "headers must be a dict or (name, value) pairs",
        ));
    }
    let it = obj.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "headers must be a dict or (name, value) pairs, not {}",
            type_name(obj)
        ))
    })?;
    for pair in it {
        let pair = pair?;
        let t = pair
            .cast::<PyTuple>()
            .map_err(|_| PyTypeError::new_err("headers must be a dict or (name, value) pairs"))?;
        if t.len() != 2 {
            return Err(PyTypeError::new_err(
                "headers must be a dict or (name, value) pairs",
            ));
        }
        h.push(
            header_name(&t.get_item(0)?)?,
            header_value(&t.get_item(1)?)?,
        );
    }
    Ok(h)
}

/// Headers as Python gets them: a list of `(name, bytes)` pairs, in order.
pub(crate) fn headers_to_py(py: Python<'_>, h: &Headers) -> PyResult<Py<PyList>> {
    let items: Vec<(String, Py<PyBytes>)> = h
        .iter()
        .map(|(n, v)| (n.to_owned(), PyBytes::new(py, v).unbind()))
        .collect();
    Ok(PyList::new(py, items)?.unbind())
}

/// The last header of that name as `bytes`, or `None`.
pub(crate) fn header_to_py(py: Python<'_>, h: &Headers, name: &str) -> Option<Py<PyAny>> {
    h.get(name).map(|v| PyBytes::new(py, v).into_any().unbind())
}

/// A message from a value and the optional keyword arguments.
pub(crate) fn message(
    value: &Bound<'_, PyAny>,
    key_: Option<&Bound<'_, PyAny>>,
    headers_: Option<&Bound<'_, PyAny>>,
) -> PyResult<Message<Value>> {
    let mut m = Message::new(Value::new(value));
    if let Some(k) = key_.filter(|k| !k.is_none()) {
        m = m.key(key(k)?);
    }
    if let Some(h) = headers_.filter(|h| !h.is_none()) {
        m = m.headers(headers(h)?);
    }
    Ok(m)
}

/// `start=`: `"earliest"`, `"latest"`, an int offset (every partition), a dict
/// `{partition: offset}`, or a `datetime` (the first record at or after it).
pub(crate) fn start(obj: &Bound<'_, PyAny>) -> PyResult<Start> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Start::from_name(&s.to_cow()?).map_err(|_| {
            PyValueError::new_err(format!(
                "start must be \"earliest\", \"latest\", an offset, {{partition: offset}} or a datetime, not {:?}",
                s.to_string().chars().take(60).collect::<String>()
            ))
        });
    }
    if obj.is_instance_of::<PyDateTime>() {
        return Ok(Start::Timestamp(timestamp_ms(obj, "start")?));
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return Ok(Start::Offset(count(obj, "start offset")?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut v = Vec::with_capacity(d.len());
        for (p, o) in d.iter() {
            v.push((count(&p, "partition")?, count(&o, "offset")?));
        }
        return Ok(Start::Offsets(v));
    }
    Err(PyTypeError::new_err(format!(
        "start must be \"earliest\", \"latest\", an offset, {{partition: offset}} or a datetime, not {}",
        type_name(obj)
    )))
}

/// A group's `start=`: `"earliest"`, `"latest"` or a `datetime`.
pub(crate) fn group_start(obj: &Bound<'_, PyAny>) -> PyResult<Start> {
    match start(obj)? {
        s @ (Start::Earliest | Start::Latest | Start::Timestamp(_)) => Ok(s),
        _ => Err(PyValueError::new_err(
            "a group's start must be \"earliest\", \"latest\" or a datetime",
        )),
    }
}

/// One of an enum's names (`on_full="block"`): `TypeError` for a non-str,
/// `ValueError` naming the choices for an unknown name.
pub(crate) fn choice<T: std::str::FromStr<Err = ringlet::UnknownName>>(
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    let s = obj.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("{what} must be a str, not {}", type_name(obj)))
    })?;
    s.to_cow()?
        .parse()
        .map_err(|e: ringlet::UnknownName| PyValueError::new_err(e.message_for(what)))
}

/// Plain Python objects from JSON (snapshot, journal events): dicts, lists, str,
/// int, float, bool, None.
pub(crate) fn json_to_py(py: Python<'_>, v: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => py.None(),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        J::Number(n) => {
            if let Some(i) = n.as_u64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else {
                n.as_f64()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind()
            }
        }
        J::String(s) => PyString::new(py, s).into_any().unbind(),
        J::Array(a) => {
            let items = a
                .iter()
                .map(|x| json_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any().unbind()
        }
        J::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

/// Any serializable core value as plain Python objects.
pub(crate) fn to_plain<S: serde::Serialize>(py: Python<'_>, s: &S) -> PyResult<Py<PyAny>> {
    let v = serde_json::to_value(s)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    json_to_py(py, &v)
}

/// A repr cut to a readable length.
pub(crate) fn short(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}
