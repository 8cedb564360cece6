//! Schemas for JS values: [Ajv](https://ajv.js.org) (bundled into the package)
//! checks the values as they are, through the core's [`SchemaCompiler`] hook; the
//! core decides when values are checked and what a mismatch does.
//!
//! Drafts 4, 6, 7, 2019-09 and 2020-12 (the `$schema` keyword chooses; 2020-12
//! when absent). As in Rust and Python, a schema is checked against its draft's
//! meta-schema when it is set, unknown keywords are ignored, `format` is an
//! annotation and `$ref`s resolve within the document. The values are checked as
//! the validator sees them: a `Date` or a `Map` is an object, a `BigInt` is not a
//! number. Ajv compiles each schema to a function (`new Function`): a page whose
//! Content Security Policy forbids `'unsafe-eval'` cannot set schemas (a
//! `ConfigError` says so).
//!
//! The `json-schema` feature (on by default) brings the checks; the
//! wasm-bindgen-test builds go without it (their runner cannot resolve the
//! validator's package), and a `schema` there is the core's `ConfigError`.

#[cfg(feature = "json-schema")]
use std::sync::Arc;

#[cfg(feature = "json-schema")]
use ringlet::schema::{SchemaCheck, SchemaCompiler, Violation};
use wasm_bindgen::prelude::*;

#[cfg(feature = "json-schema")]
use crate::{Local, Value};

#[cfg(feature = "json-schema")]
#[wasm_bindgen(module = "/js/schema.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = compileSchema)]
    fn compile_schema(doc: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = checkSchema)]
    fn check_schema(validator: &JsValue, value: &JsValue) -> Result<JsValue, JsValue>;
}

/// How a JS bus checks its values against schemas.
#[cfg(feature = "json-schema")]
pub(crate) fn compiler() -> SchemaCompiler<Value> {
    Arc::new(|doc: &serde_json::Value| {
        let js = js_sys::JSON::parse(&doc.to_string())
            .map_err(|e| format!("it could not be read: {}", message(&e)))?;
        let v = compile_schema(&js)
            .map_err(|e| format!("it is not a valid JSON Schema: {}", message(&e)))?;
        Ok(Arc::new(Check(Local(v))) as Arc<dyn SchemaCheck<Value>>)
    })
}

#[cfg(feature = "json-schema")]
struct Check(Local<JsValue>);

#[cfg(feature = "json-schema")]
impl SchemaCheck<Value> for Check {
    fn check(&self, value: &Value) -> Result<(), Violation> {
        let found = check_schema(self.0.get(), &value.js()).map_err(|e| Violation {
            // A value the validator could not read (a Proxy whose trap throws, a
            // cycle too deep to follow).
            path: String::new(),
            rule: "type".into(),
            message: format!("it could not be checked: {}", message(&e)),
        })?;
        if found.is_null() {
            return Ok(());
        }
        let part = |i: u32| {
            js_sys::Reflect::get_u32(&found, i)
                .ok()
                .and_then(|v| v.as_string())
        };
        Err(Violation {
            path: part(0).unwrap_or_default(),
            rule: part(1).unwrap_or_default(),
            message: part(2).unwrap_or_default(),
        })
    }
}

/// A thrown value's message.
#[cfg(feature = "json-schema")]
fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "(no message)".into())
}

/// The `schema` option: a JSON Schema object (or boolean) as JSON.
pub(crate) fn doc(v: &JsValue, what: &str) -> Result<serde_json::Value, JsValue> {
    if !(v.is_object() || v.as_bool().is_some()) || crate::convert::is_array(v) {
        return Err(crate::errors::type_error(format!(
            "{what} must be a JSON Schema (an object or a boolean), not {}",
            crate::convert::type_name(v)
        )));
    }
    let text = js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            crate::errors::type_error(format!("{what} must be JSON (no cycles, no BigInt)"))
        })?;
    serde_json::from_str(&text)
        .map_err(|e| crate::errors::type_error(format!("{what} is not JSON: {e}")))
}
