//! The one place core errors become JS `Error`s, and the argument errors.
//!
//! Every engine error is a `RingletError` (an `Error`), of the subclass its
//! stable `name` names — both exported, so `e instanceof Full` works: `Full`, `Closed`,
//! `Lagged` (with `partition` and `skipped`), `Expired`, `AlreadySettled`, `Timeout`,
//! `NotOwner` / `OutOfRange` (with `partition`), `VersionConflict` (with `id`,
//! `expected`, `actual`), `TypeMismatch`, `ConfigError`, `NotFound`, `InvalidName`,
//! `StreamError` (with the failing record and the thrown value as `cause`),
//! `SchemaError` (with `topic`, `path` — a JSON pointer — and `rule`, the keyword), and
//! `Busy` for a re-entrant call.
//! Wrong argument types are `TypeError`s; numbers out of range are `RangeError`s.

use js_sys::Reflect;
use ringlet::eventstore::AppendError;
use ringlet::streams::Cause;
use std::any::Any;

use ringlet::{ErrorDetails, ErrorKind, RecvError, StreamError};
use wasm_bindgen::prelude::*;

use crate::records::key_js;
use crate::Local;

// The error classes: `RingletError` and one subclass per contract name, exported
// by the package (`e instanceof Full`, `e instanceof RingletError`; `e.name` is the
// class's name). The names are the core's `ErrorKind` names (checked by a test)
// plus `Busy`.
#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = ringletError)]
    fn ringlet_error(name: &str, message: &str) -> js_sys::Error;
}

/// An error of the class named `name` (a `RingletError`) with extra numeric
/// fields.
pub fn named(name: &str, msg: &str, fields: &[(&str, f64)]) -> JsValue {
    let e = ringlet_error(name, msg);
    for (k, v) in fields {
        // Setting a property on a fresh error cannot fail.
        let _ = Reflect::set(&e, &JsValue::from_str(k), &JsValue::from_f64(*v));
    }
    e.into()
}

/// A `TypeError`.
pub fn type_error(msg: impl AsRef<str>) -> JsValue {
    js_sys::TypeError::new(msg.as_ref()).into()
}

/// A `RangeError`.
pub fn range_error(msg: impl AsRef<str>) -> JsValue {
    js_sys::RangeError::new(msg.as_ref()).into()
}

/// `Closed`.
pub fn closed(what: &str) -> JsValue {
    named("Closed", &format!("{what} is closed"), &[])
}

/// `Lagged` with `partition` and `skipped`.
pub fn lagged(partition: u32, skipped: u64) -> JsValue {
    err(RecvError::Lagged { partition, skipped })
}

/// `Busy`: the object is in use by the call that is running (a listener calling
/// back into its own member).
pub fn busy(what: &str) -> JsValue {
    named(
        "Busy",
        &format!(
            "{what} is in use by a call that has not returned (re-entrant call from a listener?)"
        ),
        &[],
    )
}

/// Core errors as JS errors: the only mapping. The `name` is the contract's
/// ([`ErrorKind`]), with `partition` and `skipped` where the error has them; a
/// missing key is a `TypeError`; `StreamError` and `VersionConflict` carry their
/// fields (below).
pub fn err<E: ErrorDetails + 'static>(e: E) -> JsValue {
    let any: &dyn Any = &e;
    if let Some(se) = any.downcast_ref::<StreamError>() {
        return stream_error(se);
    }
    if let Some(ae) = any.downcast_ref::<AppendError<crate::Value>>() {
        if let AppendError::VersionConflict {
            id,
            expected,
            actual,
            ..
        } = ae
        {
            let e = named(
                "VersionConflict",
                &ae.to_string(),
                &[("expected", *expected as f64), ("actual", *actual as f64)],
            );
            set(&e, "id", &JsValue::from_str(id));
            return e;
        }
    }
    let msg = e.to_string();
    if e.kind() == ErrorKind::NoKey {
        return type_error(&msg);
    }
    let fields: Vec<(&str, f64)> = [
        e.partition().map(|p| ("partition", f64::from(p))),
        e.skipped().map(|s| ("skipped", s as f64)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let out = named(e.kind().as_str(), &msg, &fields);
    if let Some(s) = e.schema() {
        set(&out, "topic", &JsValue::from_str(&s.topic));
        set(&out, "path", &JsValue::from_str(&s.path));
        set(&out, "rule", &JsValue::from_str(&s.rule));
    }
    out
}

fn set(o: &JsValue, k: &str, v: &JsValue) {
    // Setting a property on a fresh plain `Error` cannot fail.
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// What a JS callback threw, with the record it was called with.
pub(crate) struct JsCallbackError {
    thrown: Local<JsValue>,
    record: Option<Local<JsValue>>,
    message: String,
}

impl JsCallbackError {
    pub(crate) fn new(thrown: JsValue, record: Option<JsValue>) -> Self {
        let message = match thrown.dyn_ref::<js_sys::Error>() {
            Some(e) => String::from(e.to_string()),
            None => thrown
                .as_string()
                .or_else(|| {
                    js_sys::JSON::stringify(&thrown)
                        .ok()
                        .and_then(|s| s.as_string())
                })
                .unwrap_or_else(|| format!("a thrown {}", crate::convert::type_name(&thrown))),
        };
        JsCallbackError {
            thrown: Local(thrown),
            record: record.map(Local),
            message,
        }
    }
}

impl std::fmt::Debug for JsCallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsCallbackError({:?})", self.message)
    }
}

impl std::fmt::Display for JsCallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsCallbackError {}

/// `StreamError` with `topology`, `node`, `topic`, `partition`, `offset`, `key`,
/// `record` (what the callback got, when a callback threw) and `cause` (what it
/// threw).
fn stream_error(se: &StreamError) -> JsValue {
    let e = named(
        "StreamError",
        &se.to_string(),
        &[
            ("partition", f64::from(se.partition)),
            ("offset", se.offset as f64),
        ],
    );
    set(&e, "topology", &JsValue::from_str(&se.topology));
    set(&e, "node", &JsValue::from_str(&se.node));
    set(&e, "topic", &JsValue::from_str(&se.topic));
    set(&e, "key", &key_js(se.key.as_ref()));
    let mut record = JsValue::UNDEFINED;
    if let Cause::Callback(c) = &se.cause {
        if let Some(cb) =
            (&**c as &(dyn std::error::Error + 'static)).downcast_ref::<JsCallbackError>()
        {
            set(&e, "cause", cb.thrown.get());
            if let Some(r) = &cb.record {
                record = r.get().clone();
            }
        }
    }
    set(&e, "record", &record);
    e
}
