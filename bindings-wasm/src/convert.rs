//! Argument checks: every value from JS is checked here before it reaches the engine
//! (wasm-bindgen's release glue would coerce a wrong number silently).

use std::time::Duration;

use js_sys::{Array, Object, Reflect, Uint8Array};
use ringlet::{Headers, Key, OnLag, Start};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{range_error, type_error};

// Reflective reads that may run user code (a `Proxy`'s traps, getters) go through
// imports that catch: a JS exception never unwinds through a Rust frame (it would
// leak the WASM stack and leave objects borrowed).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn js_is_array(v: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    fn js_array_from(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn js_entries(v: &JsValue) -> Result<Array, JsValue>;
}

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// A `Date`'s ms, `undefined` for anything else.
    #[wasm_bindgen(js_name = dateMs)]
    fn js_date_ms(v: &JsValue) -> JsValue;
}

/// Whether `v` is an array (a revoked `Proxy` is not).
pub fn is_array(v: &JsValue) -> bool {
    js_is_array(v).unwrap_or(false)
}

/// Whether `v` is a `Date`.
pub fn is_date(v: &JsValue) -> bool {
    !js_date_ms(v).is_undefined()
}

/// A copy of array `v` (its items read once, through its traps if a `Proxy`).
fn array(v: &JsValue) -> Result<Array, JsValue> {
    js_array_from(v)
}

/// JS's largest exact integer, 2^53 - 1.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// What a JS value is, for messages.
pub fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if is_array(v) {
        return "an array".into();
    }
    match v.js_typeof().as_string().as_deref() {
        Some("object") => "an object".into(),
        Some(t) => format!("a {t}"),
        None => "a value".into(),
    }
}

/// An options object: `undefined`/`null` → none; anything else but a plain object
/// is a `TypeError`, and so is an option name not in `known`.
pub fn option_object(v: &JsValue, what: &str, known: &[&str]) -> Result<Option<Object>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if !v.is_object() || is_array(v) || v.is_function() {
        return Err(type_error(format!(
            "{what} options must be an object, not {}",
            type_name(v)
        )));
    }
    let o: Object = v.clone().unchecked_into();
    for k in Reflect::own_keys(&o)?.iter() {
        let Some(name) = k.as_string() else {
            continue; // a symbol key is not an option
        };
        if !known.contains(&name.as_str()) {
            return Err(type_error(format!(
                "unknown {what} option {} (known: {})",
                ringlet::shown(&name),
                known.join(", ")
            )));
        }
    }
    Ok(Some(o))
}

/// `o[name]`, `undefined` when `o` is none or has no such property; a getter's
/// (or trap's) exception comes back as the error.
pub fn get(o: &Option<Object>, name: &str) -> Result<JsValue, JsValue> {
    match o {
        Some(o) => Reflect::get(o, &JsValue::from_str(name)),
        None => Ok(JsValue::UNDEFINED),
    }
}

/// Whether `v` is `undefined` or `null` (an option left out).
pub fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A whole number in `0..=max`.
pub fn whole(v: &JsValue, name: &str, max: f64) -> Result<f64, JsValue> {
    let Some(n) = v.as_f64() else {
        return Err(type_error(format!(
            "{name} must be a number, not {}",
            type_name(v)
        )));
    };
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(range_error(format!(
            "{name} must be a whole number, not {n}"
        )));
    }
    if n < 0.0 || n > max {
        return Err(range_error(format!(
            "{name} must be between 0 and {max}, not {n}"
        )));
    }
    Ok(n)
}

/// A `u32` (partitions, attempts).
pub fn u32_arg(v: &JsValue, name: &str) -> Result<u32, JsValue> {
    whole(v, name, f64::from(u32::MAX)).map(|n| n as u32)
}

/// A count (`usize`, at most 2^32 - 1 on wasm32).
pub fn usize_arg(v: &JsValue, name: &str) -> Result<usize, JsValue> {
    whole(v, name, usize::MAX as f64).map(|n| n as usize)
}

/// An offset (`u64`, exact up to 2^53).
pub fn u64_arg(v: &JsValue, name: &str) -> Result<u64, JsValue> {
    whole(v, name, MAX_SAFE).map(|n| n as u64)
}

/// Optional forms of the above.
pub fn opt_u32(v: &JsValue, name: &str) -> Result<Option<u32>, JsValue> {
    if absent(v) {
        Ok(None)
    } else {
        u32_arg(v, name).map(Some)
    }
}

/// An optional count.
pub fn opt_usize(v: &JsValue, name: &str) -> Result<Option<usize>, JsValue> {
    if absent(v) {
        Ok(None)
    } else {
        usize_arg(v, name).map(Some)
    }
}

/// Milliseconds (a finite number ≥ 0, fractions rounded up to the next ms).
pub fn ms(v: &JsValue, name: &str) -> Result<Duration, JsValue> {
    let Some(n) = v.as_f64() else {
        return Err(type_error(format!(
            "{name} must be a number of milliseconds, not {}",
            type_name(v)
        )));
    };
    if !n.is_finite() || !(0.0..=MAX_SAFE).contains(&n) {
        return Err(range_error(format!(
            "{name} must be a finite number of milliseconds ≥ 0, not {n}"
        )));
    }
    Ok(Duration::from_millis(n.ceil() as u64))
}

/// Optional milliseconds.
pub fn opt_ms(v: &JsValue, name: &str) -> Result<Option<Duration>, JsValue> {
    if absent(v) {
        Ok(None)
    } else {
        ms(v, name).map(Some)
    }
}

/// A timestamp: ms since the epoch (a whole number, may be negative) or a `Date`.
pub fn timestamp(v: &JsValue, name: &str) -> Result<i64, JsValue> {
    let n = match js_date_ms(v).as_f64() {
        Some(ms) => ms,
        None => match v.as_f64() {
            Some(n) => n,
            None => {
                return Err(type_error(format!(
                    "{name} must be ms since the epoch or a Date, not {}",
                    type_name(v)
                )))
            }
        },
    };
    if !n.is_finite() || n.fract() != 0.0 || n.abs() > MAX_SAFE {
        return Err(range_error(format!(
            "{name} must be whole ms since the epoch, not {n}"
        )));
    }
    Ok(n as i64)
}

/// A string.
pub fn string(v: &JsValue, name: &str) -> Result<String, JsValue> {
    v.as_string()
        .ok_or_else(|| type_error(format!("{name} must be a string, not {}", type_name(v))))
}

/// Bytes from a `Uint8Array`, or a string's UTF-8.
fn bytes(v: &JsValue, name: &str) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(s.into_bytes());
    }
    match v.dyn_ref::<Uint8Array>() {
        Some(a) => Ok(a.to_vec()),
        None => Err(type_error(format!(
            "{name} must be a string or a Uint8Array, not {}",
            type_name(v)
        ))),
    }
}

/// A key: a string (text) or a `Uint8Array` (bytes).
pub fn key(v: &JsValue) -> Result<Key, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(Key::from(s));
    }
    match v.dyn_ref::<Uint8Array>() {
        Some(a) => Ok(Key::from(a.to_vec())),
        None => Err(type_error(format!(
            "key must be a string or a Uint8Array, not {}",
            type_name(v)
        ))),
    }
}

/// Headers: `{ name: value }` or `[[name, value], …]`; values are strings (UTF-8) or
/// `Uint8Array`s.
pub fn headers(v: &JsValue) -> Result<Headers, JsValue> {
    let mut h = Headers::default();
    if is_array(v) {
        for pair in array(v)?.iter() {
            let pair = if is_array(&pair) {
                array(&pair)?
            } else {
                Array::new()
            };
            if pair.length() != 2 {
                return Err(type_error(
                    "headers as an array must hold [name, value] pairs",
                ));
            }
            let name = string(&pair.get(0), "a header name")?;
            h.push(name, bytes(&pair.get(1), "a header value")?);
        }
        return Ok(h);
    }
    if !v.is_object() || v.is_function() {
        return Err(type_error(format!(
            "headers must be an object or an array of [name, value] pairs, not {}",
            type_name(v)
        )));
    }
    for entry in js_entries(v)?.iter() {
        let entry: Array = entry.unchecked_into();
        let name = string(&entry.get(0), "a header name")?;
        h.push(name, bytes(&entry.get(1), "a header value")?);
    }
    Ok(h)
}

/// Where a subscription starts: `"earliest"`, `"latest"`, an offset, a `Date`,
/// `{ timestamp: ms }`, or `[[partition, offset], …]`.
pub fn start(v: &JsValue) -> Result<Start, JsValue> {
    const WHAT: &str = "start must be \"earliest\", \"latest\", an offset, a Date, { timestamp } or [[partition, offset], …]";
    if let Some(s) = v.as_string() {
        return Start::from_name(&s).map_err(|e| type_error(format!("{WHAT}, not {:?}", e.given)));
    }
    if v.as_f64().is_some() {
        return Ok(Start::Offset(u64_arg(v, "start offset")?));
    }
    if is_date(v) {
        return Ok(Start::Timestamp(timestamp(v, "start")?));
    }
    if is_array(v) {
        return offset_pairs(v, WHAT).map(Start::Offsets);
    }
    if v.is_object() && !v.is_function() {
        let o = option_object(v, "start", &["timestamp"])?;
        let t = get(&o, "timestamp")?;
        if absent(&t) {
            return Err(type_error(WHAT));
        }
        return Ok(Start::Timestamp(timestamp(&t, "start timestamp")?));
    }
    Err(type_error(format!("{WHAT}, not {}", type_name(v))))
}

/// `[[partition, offset], …]`; anything else is a `TypeError` saying `what`.
pub fn offset_pairs(v: &JsValue, what: &str) -> Result<Vec<(u32, u64)>, JsValue> {
    if !is_array(v) {
        return Err(type_error(format!("{what}, not {}", type_name(v))));
    }
    array(v)?
        .iter()
        .map(|pair| {
            let pair = if is_array(&pair) {
                array(&pair)?
            } else {
                Array::new()
            };
            if pair.length() != 2 {
                return Err(type_error(what));
            }
            Ok((
                u32_arg(&pair.get(0), "partition")?,
                u64_arg(&pair.get(1), "offset")?,
            ))
        })
        .collect()
}

/// An optional string option (`undefined` and `null`: not given).
pub fn opt_string(v: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    if absent(v) {
        return Ok(None);
    }
    string(v, name).map(Some)
}

/// An optional array of strings (`tags: ["finance"]`), duplicates dropped.
pub fn opt_strings(v: &JsValue, name: &str) -> Result<Vec<String>, JsValue> {
    if absent(v) {
        return Ok(Vec::new());
    }
    let Some(a) = v.dyn_ref::<js_sys::Array>() else {
        return Err(type_error(format!(
            "{name} must be an array of strings, not {}",
            type_name(v)
        )));
    };
    let mut out: Vec<String> = Vec::new();
    for x in a.iter() {
        let s = string(&x, &format!("each of {name}"))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// One of an enum's names (`onFull: "block"`): a `TypeError` naming the choices
/// otherwise.
pub fn choice<T: std::str::FromStr<Err = ringlet::UnknownName>>(
    v: &JsValue,
    name: &str,
) -> Result<T, JsValue> {
    let s = v
        .as_string()
        .ok_or_else(|| type_error(format!("{name} must be a string, not {}", type_name(v))))?;
    s.parse()
        .map_err(|e: ringlet::UnknownName| type_error(e.message_for(name)))
}

/// A list of partitions (an array of whole numbers).
pub fn partitions(v: &JsValue) -> Result<Vec<u32>, JsValue> {
    if !is_array(v) {
        return Err(type_error(format!(
            "partitions must be an array of numbers, not {}",
            type_name(v)
        )));
    }
    array(v)?.iter().map(|p| u32_arg(&p, "partition")).collect()
}

/// An iterable's items (arrays and anything with `Symbol.iterator`).
pub fn items(v: &JsValue, name: &str) -> Result<Vec<JsValue>, JsValue> {
    if is_array(v) {
        return Ok(array(v)?.to_vec());
    }
    let Ok(Some(it)) = js_sys::try_iter(v) else {
        return Err(type_error(format!(
            "{name} must be an array or an iterable, not {}",
            type_name(v)
        )));
    };
    it.collect()
}

/// A function (listener) or nothing.
pub fn opt_function(v: &JsValue, name: &str) -> Result<Option<js_sys::Function>, JsValue> {
    if absent(v) {
        return Ok(None);
    }
    function(v, name).map(Some)
}

/// `max` for batch reads: a whole number ≥ 1.
pub fn batch_max(v: &JsValue) -> Result<usize, JsValue> {
    if absent(v) {
        return Ok(1024);
    }
    let n = usize_arg(v, "max")?;
    if n == 0 {
        return Err(range_error("max must be at least 1"));
    }
    Ok(n)
}

/// A boolean, or nothing.
pub fn opt_bool(v: &JsValue, name: &str) -> Result<Option<bool>, JsValue> {
    if absent(v) {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| type_error(format!("{name} must be a boolean, not {}", type_name(v))))
}

/// A function.
pub fn function(v: &JsValue, name: &str) -> Result<js_sys::Function, JsValue> {
    v.dyn_ref::<js_sys::Function>()
        .cloned()
        .ok_or_else(|| type_error(format!("{name} must be a function, not {}", type_name(v))))
}

/// A reader's `start` (default `default`) and `onLag` (default `"earliest"`) from
/// an options object already checked by [`option_object`].
pub fn reader_options(o: &Option<Object>, default: Start) -> Result<(Start, OnLag), JsValue> {
    let s = get(o, "start")?;
    let start = if absent(&s) { default } else { start(&s)? };
    let l = get(o, "onLag")?;
    let lag = if absent(&l) {
        OnLag::Earliest
    } else {
        choice(&l, "onLag")?
    };
    Ok((start, lag))
}
