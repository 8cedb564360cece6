//! The one place core errors become JS `Error`s, and the argument errors.
//!
//! Every engine error is an `Error` whose `name` is stable: `Full`, `Closed`,
//! `Lagged` (with `partition` and `skipped`), `Expired`, `AlreadySettled`, `Timeout`,
//! `NotOwner` / `OutOfRange` (with `partition`), `VersionConflict` (with `id`,
//! `expected`, `actual`), `TypeMismatch`, `ConfigError`, `NotFound`, `InvalidName`,
//! `StreamError` (with the failing record and the thrown value as `cause`), and
//! `Busy` for a re-entrant call.
//! Wrong argument types are `TypeError`s; numbers out of range are `RangeError`s.

use js_sys::Reflect;
use ringlet::eventstore::AppendError;
use ringlet::streams::Cause;
use ringlet::{
    Error, PublishError, ReceiveError, RecvError, SendError, SettleError, StreamError,
    TryReceiveError, TryRecvError, TrySendError,
};
use wasm_bindgen::prelude::*;

use crate::records::key_js;
use crate::Local;

/// An `Error` with `name` and extra numeric fields.
pub fn named(name: &str, msg: &str, fields: &[(&str, f64)]) -> JsValue {
    let e = js_sys::Error::new(msg);
    e.set_name(name);
    for (k, v) in fields {
        // Setting a property on a fresh plain `Error` cannot fail.
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
    let msg = RecvError::Lagged { partition, skipped }.to_string();
    named(
        "Lagged",
        &msg,
        &[
            ("partition", f64::from(partition)),
            ("skipped", skipped as f64),
        ],
    )
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

/// Core errors as JS errors: the only mapping.
pub trait IntoJs {
    /// The JS error.
    fn into_js(self) -> JsValue;
}

/// For `map_err(err)`.
pub fn err<E: IntoJs>(e: E) -> JsValue {
    e.into_js()
}

impl IntoJs for Error {
    fn into_js(self) -> JsValue {
        let msg = self.to_string();
        match self {
            Error::InvalidName { .. } => named("InvalidName", &msg, &[]),
            Error::NotFound { .. } => named("NotFound", &msg, &[]),
            Error::TypeMismatch { .. } => named("TypeMismatch", &msg, &[]),
            Error::ConfigError { .. } => named("ConfigError", &msg, &[]),
            Error::OutOfRange { partition, .. } => {
                named("OutOfRange", &msg, &[("partition", f64::from(partition))])
            }
            Error::NotOwner { partition } => {
                named("NotOwner", &msg, &[("partition", f64::from(partition))])
            }
            Error::Closed => named("Closed", &msg, &[]),
            _ => named("RingletError", &msg, &[]),
        }
    }
}

impl IntoJs for RecvError {
    fn into_js(self) -> JsValue {
        match self {
            RecvError::Lagged { partition, skipped } => lagged(partition, skipped),
            RecvError::Closed => closed("the topic (or subscription)"),
        }
    }
}

impl IntoJs for TryRecvError {
    fn into_js(self) -> JsValue {
        match self {
            TryRecvError::Lagged { partition, skipped } => lagged(partition, skipped),
            TryRecvError::Closed => RecvError::Closed.into_js(),
            TryRecvError::Empty => named("Timeout", "no record ready", &[]),
        }
    }
}

impl<M> IntoJs for PublishError<M> {
    fn into_js(self) -> JsValue {
        let msg = self.to_string();
        match self {
            PublishError::Full(_) => named("Full", &msg, &[]),
            PublishError::Closed(_) => named("Closed", &msg, &[]),
            PublishError::OutOfRange(_) => named("OutOfRange", &msg, &[]),
            PublishError::NoKey(_) => type_error(&msg),
        }
    }
}

impl<M> IntoJs for SendError<M> {
    fn into_js(self) -> JsValue {
        named("Closed", &self.to_string(), &[])
    }
}

impl<M> IntoJs for TrySendError<M> {
    fn into_js(self) -> JsValue {
        let msg = self.to_string();
        match self {
            TrySendError::Full(_) => named("Full", &msg, &[]),
            TrySendError::Closed(_) => named("Closed", &msg, &[]),
        }
    }
}

impl IntoJs for ReceiveError {
    fn into_js(self) -> JsValue {
        named("Closed", &self.to_string(), &[])
    }
}

impl IntoJs for TryReceiveError {
    fn into_js(self) -> JsValue {
        match self {
            TryReceiveError::Empty => named("Timeout", "nothing ready", &[]),
            TryReceiveError::Closed => ReceiveError::Closed.into_js(),
        }
    }
}

impl IntoJs for SettleError {
    fn into_js(self) -> JsValue {
        let msg = self.to_string();
        match self {
            SettleError::Expired => named("Expired", &msg, &[]),
            SettleError::AlreadySettled => named("AlreadySettled", &msg, &[]),
            _ => named("RingletError", &msg, &[]),
        }
    }
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
                .unwrap_or_else(|| format!("a thrown {}", crate::args::type_name(&thrown))),
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
impl IntoJs for StreamError {
    fn into_js(self) -> JsValue {
        let e = named(
            "StreamError",
            &self.to_string(),
            &[
                ("partition", f64::from(self.partition)),
                ("offset", self.offset as f64),
            ],
        );
        set(&e, "topology", &JsValue::from_str(&self.topology));
        set(&e, "node", &JsValue::from_str(&self.node));
        set(&e, "topic", &JsValue::from_str(&self.topic));
        set(&e, "key", &key_js(self.key.as_ref()));
        let mut record = JsValue::UNDEFINED;
        if let Cause::Callback(c) = &self.cause {
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
}

impl<E> IntoJs for AppendError<E> {
    fn into_js(self) -> JsValue {
        let msg = self.to_string();
        match self {
            AppendError::VersionConflict {
                id,
                expected,
                actual,
                ..
            } => {
                let e = named(
                    "VersionConflict",
                    &msg,
                    &[("expected", expected as f64), ("actual", actual as f64)],
                );
                set(&e, "id", &JsValue::from_str(&id));
                e
            }
            AppendError::Full(_) => named("Full", &msg, &[]),
            AppendError::Closed(_) => named("Closed", &msg, &[]),
        }
    }
}
