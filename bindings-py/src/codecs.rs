//! How a durable topic's Python values become bytes: `json` (the default),
//! `pickle` and `bytes`. The core stores and checks the codec's name; these only
//! convert.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};
use ringlet::options::Codecs;
use ringlet::storage::Codec;

use crate::convert::{json_to_py, type_name, Value};

/// The codecs of Python topics, by name.
pub(crate) const CODECS: Codecs<Value> = Codecs {
    default: "json",
    names: &["json", "pickle", "bytes"],
    make,
};

fn make(name: &str) -> Option<Arc<dyn Codec<Value>>> {
    match name {
        "json" => Some(Arc::new(Json)),
        "pickle" => Some(Arc::new(Pickle)),
        "bytes" => Some(Arc::new(Bytes)),
        _ => None,
    }
}

/// What every Python codec stores as the value type.
const VALUE_TYPE: &str = "python";

/// Deepest nesting the JSON codec follows (a container that holds itself would
/// otherwise never end).
const MAX_DEPTH: usize = 256;

/// JSON: dicts with str keys, lists, str, int (64-bit), finite float, bool and
/// None — exactly these types, so a value read back after a restart equals the
/// one published (a tuple would come back a list, an int key a str: both are
/// refused instead).
struct Json;

impl Codec<Value> for Json {
    fn name(&self) -> &str {
        "json"
    }

    fn value_type(&self) -> String {
        VALUE_TYPE.into()
    }

    fn encode(&self, value: &Value) -> Result<Vec<u8>, String> {
        Python::attach(|py| {
            let v = to_json(value.get(py).bind(py), 0)
                .map_err(|why| format!("{why}: convert it, or use codec=\"pickle\""))?;
            serde_json::to_vec(&v).map_err(|e| e.to_string())
        })
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Python::attach(|py| {
            json_to_py(py, &v)
                .map(|o| Value::new(o.bind(py)))
                .map_err(|e| e.to_string())
        })
    }
}

/// A Python value as JSON, or what in it is not JSON (each caller adds what to
/// do about it: the codec suggests pickle, the lake converting first).
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(format!(
            "it is nested deeper than {MAX_DEPTH} levels (or holds itself)"
        ));
    }
    if obj.is_none() {
        return Ok(J::Null);
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(J::Bool(obj.is_truthy().map_err(|e| e.to_string())?));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(J::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(J::from(u));
        }
        return Err("an int beyond 64 bits is not stored as JSON".into());
    }
    if obj.is_exact_instance_of::<PyFloat>() {
        let f = obj.extract::<f64>().map_err(|e| e.to_string())?;
        return serde_json::Number::from_f64(f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} is not a JSON number"));
    }
    if let Ok(s) = obj.cast_exact::<PyString>() {
        return Ok(J::String(
            s.to_cow().map_err(|e| e.to_string())?.into_owned(),
        ));
    }
    if let Ok(list) = obj.cast_exact::<PyList>() {
        return list
            .iter()
            .map(|x| to_json(&x, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(J::Array);
    }
    if let Ok(dict) = obj.cast_exact::<PyDict>() {
        let mut m = serde_json::Map::new();
        for (k, v) in dict.iter() {
            let Ok(k) = k.cast_exact::<PyString>() else {
                return Err(format!(
                    "a dict key of type {} is not JSON (keys are str)",
                    type_name(&k)
                ));
            };
            m.insert(
                k.to_cow().map_err(|e| e.to_string())?.into_owned(),
                to_json(&v, depth + 1)?,
            );
        }
        return Ok(J::Object(m));
    }
    Err(format!(
        "a {} is not JSON (dict, list, str, int, float, bool, None)",
        type_name(obj)
    ))
}

/// `pickle` (protocol 5): any picklable object. Loading a pickle runs code named
/// in it: open only data directories you trust.
struct Pickle;

impl Codec<Value> for Pickle {
    fn name(&self) -> &str {
        "pickle"
    }

    fn value_type(&self) -> String {
        VALUE_TYPE.into()
    }

    fn encode(&self, value: &Value) -> Result<Vec<u8>, String> {
        Python::attach(|py| {
            let pickle = py.import("pickle").map_err(|e| e.to_string())?;
            let b = pickle
                .call_method1("dumps", (value.get(py), 5))
                .map_err(|e| format!("it does not pickle: {e}"))?;
            let b = b.cast_into::<PyBytes>().map_err(|e| e.to_string())?;
            Ok(b.as_bytes().to_vec())
        })
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        Python::attach(|py| {
            let pickle = py.import("pickle").map_err(|e| e.to_string())?;
            let v = pickle
                .call_method1("loads", (PyBytes::new(py, bytes),))
                .map_err(|e| e.to_string())?;
            Ok(Value::new(&v))
        })
    }
}

/// `bytes`: `bytes` values stored as they are.
struct Bytes;

impl Codec<Value> for Bytes {
    fn name(&self) -> &str {
        "bytes"
    }

    fn value_type(&self) -> String {
        VALUE_TYPE.into()
    }

    fn encode(&self, value: &Value) -> Result<Vec<u8>, String> {
        Python::attach(|py| {
            let v = value.get(py);
            let v = v.bind(py);
            match v.cast_exact::<PyBytes>() {
                Ok(b) => Ok(b.as_bytes().to_vec()),
                Err(_) => Err(format!(
                    "a {} is not bytes: a codec=\"bytes\" topic stores bytes",
                    type_name(v)
                )),
            }
        })
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        Python::attach(|py| Ok(Value::new(PyBytes::new(py, bytes).as_any())))
    }
}
