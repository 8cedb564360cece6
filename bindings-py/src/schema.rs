//! Schemas for Python values: the `jsonschema` crate reads dicts, lists, strs,
//! ints, floats, bools and `None` in place (no copy into JSON first), through the
//! core's [`SchemaCompiler`] hook; the core decides when values are checked.

use std::sync::Arc;

use jsonschema::json::Pyo3;
use pyo3::prelude::*;
use ringlet::schema::{SchemaCheck, SchemaCompiler, Violation};

use crate::convert::Value;

/// How a Python bus checks its values against schemas.
pub(crate) fn compiler() -> SchemaCompiler<Value> {
    Arc::new(|doc: &serde_json::Value| {
        let v = ringlet::schema::validator::<Pyo3>(doc)?;
        Ok(Arc::new(PyCheck(v)) as Arc<dyn SchemaCheck<Value>>)
    })
}

struct PyCheck(jsonschema::Validator<Pyo3>);

impl SchemaCheck<Value> for PyCheck {
    fn check(&self, value: &Value) -> Result<(), Violation> {
        Python::attach(|py| {
            let obj = value.get(py).into_bound(py);
            let node = obj.as_borrowed();
            let checked = jsonschema::json::inspect(node, false, || {
                self.0
                    .validate(node)
                    .map_err(|e| ringlet::schema::violation(&e))
            });
            match checked {
                Ok(r) => r,
                // A value the validator cannot read as JSON (a set, a datetime, …).
                Err(e) => Err(Violation {
                    path: String::new(),
                    rule: "type".into(),
                    message: format!(
                        "it is not JSON-shaped (dict, list, str, int, float, bool, None): {}",
                        e.value(py)
                    ),
                }),
            }
        })
    }
}

/// The data-product keywords of `Bus.topic` as the core's metadata: `tags` an
/// iterable of str, `schema` a dict (or bool) of JSON.
pub(crate) fn metadata(
    owner: Option<String>,
    description: Option<String>,
    tags: Option<&Bound<'_, PyAny>>,
    schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<ringlet::TopicMetadata> {
    let mut m = ringlet::TopicMetadata {
        owner,
        description,
        ..Default::default()
    };
    if let Some(tags) = tags.filter(|t| !t.is_none()) {
        for t in crate::convert::items(tags, "tags")? {
            let t: String = t.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "tags must be str, not {}",
                    crate::convert::type_name(&t)
                ))
            })?;
            if !m.tags.contains(&t) {
                m.tags.push(t);
            }
        }
    }
    if let Some(s) = schema.filter(|s| !s.is_none()) {
        m.schema = Some(schema_doc(s)?);
    }
    Ok(m)
}

/// A schema given from Python (a dict of JSON) as a document.
pub(crate) fn schema_doc(s: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let type_error = |why: String| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "schema must be a JSON Schema: a dict of JSON values (or a bool), {why}"
        ))
    };
    if !(s.is_instance_of::<pyo3::types::PyDict>() || s.is_instance_of::<pyo3::types::PyBool>()) {
        return Err(type_error(format!("not {}", crate::convert::type_name(s))));
    }
    crate::codecs::to_json(s, 0).map_err(|why| type_error(format!("and {why}")))
}
