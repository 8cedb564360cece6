//! Records, receipts and journal events as plain JS objects (built by one JS call
//! each, not property by property from Rust).

use js_sys::{Array, Uint8Array};
use ringlet::{Headers, Key, Receipt, Record};
use wasm_bindgen::prelude::*;

use crate::Value;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeRecord)]
    fn make_record(
        partition: u32,
        offset: f64,
        timestamp: f64,
        key: JsValue,
        headers: JsValue,
        value: JsValue,
    ) -> JsValue;
    #[wasm_bindgen(js_name = makeReceipt)]
    fn make_receipt(partition: u32, offset: f64) -> JsValue;
}

/// A key as JS: a string for a text key, a `Uint8Array` otherwise.
pub fn key_js(k: Option<&Key>) -> JsValue {
    match k {
        None => JsValue::UNDEFINED,
        Some(k) => match k.as_str() {
            Some(s) if k.is_text() => JsValue::from_str(s),
            _ => Uint8Array::from(k.as_bytes()).into(),
        },
    }
}

/// Headers as `[name, Uint8Array]` pairs.
pub fn headers_js(h: &Headers) -> JsValue {
    h.iter()
        .map(|(n, v)| {
            let pair = Array::new();
            pair.push(&JsValue::from_str(n));
            pair.push(&Uint8Array::from(v));
            JsValue::from(pair)
        })
        .collect::<Array>()
        .into()
}

/// A record's headers for `makeRecord`: `undefined` when there are none (the record
/// gets a fresh `[]` in JS, saving a call per record).
fn record_headers(h: &Headers) -> JsValue {
    if h.is_empty() {
        JsValue::UNDEFINED
    } else {
        headers_js(h)
    }
}

/// A record of JS values.
pub fn record_js(r: Record<Value>) -> JsValue {
    make_record(
        r.partition,
        r.offset as f64,
        r.timestamp as f64,
        key_js(r.key.as_ref()),
        record_headers(&r.headers),
        r.value.js(),
    )
}

/// A journal record: its value is the event as a plain object.
pub fn event_record_js(r: Record<ringlet::journal::Event>) -> JsValue {
    make_record(
        r.partition,
        r.offset as f64,
        r.timestamp as f64,
        key_js(r.key.as_ref()),
        record_headers(&r.headers),
        plain(&r.value),
    )
}

/// `{ partition, offset }`.
pub fn receipt_js(r: Receipt) -> JsValue {
    make_receipt(r.partition, r.offset as f64)
}

/// Anything serializable as a plain JS object (numbers as numbers).
pub fn plain<S: serde::Serialize>(s: &S) -> JsValue {
    match serde_json::to_string(s) {
        Ok(text) => js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    }
}

/// An array of numbers.
pub fn numbers<I: IntoIterator<Item = f64>>(it: I) -> JsValue {
    it.into_iter()
        .map(JsValue::from_f64)
        .collect::<Array>()
        .into()
}
