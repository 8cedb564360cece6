//! Tables kept by aggregations: `Table` and `WindowedTable`.

use js_sys::Array;
use ringlet::streams::{Table as CoreTable, Windowed, WindowedTable as CoreWindowedTable};
use ringlet::Key;
use wasm_bindgen::prelude::*;

use crate::convert::{self};
use crate::records::key_js;
use crate::streams::{num, stream, windowed, windowed_entry};
use crate::Value;

/// A table of JS values (`reduce`, `aggregate`) or of counts (`count`).
pub(crate) enum Held<V, C> {
    Values(V),
    Counts(C),
}

pub(crate) type TableOf = Held<CoreTable<Value>, CoreTable<u64>>;
pub(crate) type WindowedTableOf = Held<CoreWindowedTable<Value>, CoreWindowedTable<u64>>;

/// `$e` with `$t` bound to the table, whichever kind it is.
macro_rules! with_table {
    ($kind:expr, $t:ident => $e:expr) => {
        match $kind {
            Held::Values($t) => $e,
            Held::Counts($t) => $e,
        }
    };
}

/// A table kept by an aggregation: `get(key)`, `has(key)`, `size`, `entries()`;
/// queryable while the topology updates it.
#[wasm_bindgen]
pub struct Table {
    pub(crate) table: TableOf,
}

#[wasm_bindgen]
impl Table {
    /// The table's (store's) name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        with_table!(&self.table, t => t.name().to_string())
    }

    /// The value for `key` (a string or `Uint8Array`), or `undefined`.
    pub fn get(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Key")] key: JsValue,
    ) -> Result<JsValue, JsValue> {
        let k = convert::key(&key)?;
        Ok(match &self.table {
            Held::Values(t) => t.get(k).map(|v| v.js()),
            Held::Counts(t) => t.get(k).map(num),
        }
        .unwrap_or(JsValue::UNDEFINED))
    }

    /// Whether the table has `key`.
    pub fn has(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Key")] key: JsValue,
    ) -> Result<bool, JsValue> {
        let k = convert::key(&key)?;
        Ok(with_table!(&self.table, t => t.get(k).is_some()))
    }

    /// How many keys it has.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        with_table!(&self.table, t => t.len())
    }

    /// `[key, value]` pairs, by key.
    #[wasm_bindgen(unchecked_return_type = "[Key, any][]")]
    pub fn entries(&self) -> Array {
        fn pairs<V: Clone + Send + Sync + 'static>(
            t: &CoreTable<V>,
            conv: impl Fn(&V) -> JsValue,
        ) -> Array {
            t.entries()
                .iter()
                .map(|(k, v)| JsValue::from(Array::of2(&key_js(Some(k)), &conv(v))))
                .collect()
        }
        match &self.table {
            Held::Values(t) => pairs(t, Value::js),
            Held::Counts(t) => pairs(t, |n| num(*n)),
        }
    }

    /// The stream of the table's updates.
    #[wasm_bindgen(js_name = toStream, unchecked_return_type = "Stream")]
    pub fn to_stream(&self) -> JsValue {
        stream(match &self.table {
            Held::Values(t) => t.to_stream(),
            Held::Counts(t) => t.to_stream().map(|r| Value::new(num(r.value))),
        })
    }

    /// The name of the compacted changelog topic.
    #[wasm_bindgen(getter)]
    pub fn changelog(&self) -> String {
        with_table!(&self.table, t => t.changelog().name().to_string())
    }
}

/// A table of windowed aggregates: `get(key, start)`, `fetch(key)`, `entries()`.
#[wasm_bindgen]
pub struct WindowedTable {
    pub(crate) table: WindowedTableOf,
}

#[wasm_bindgen]
impl WindowedTable {
    /// The table's (store's) name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        with_table!(&self.table, t => t.name().to_string())
    }

    /// The value for `key` in the window starting at `start` (ms), or
    /// `undefined`.
    pub fn get(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Key")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] start: JsValue,
    ) -> Result<JsValue, JsValue> {
        let k = convert::key(&key)?;
        let start = convert::timestamp(&start, "start")?;
        Ok(match &self.table {
            Held::Values(t) => t.get(k, start).map(|v| v.js()),
            Held::Counts(t) => t.get(k, start).map(num),
        }
        .unwrap_or(JsValue::UNDEFINED))
    }

    /// `key`'s windows, oldest first: `{ start, end, value }` objects.
    #[wasm_bindgen(unchecked_return_type = "WindowedValue[]")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Key")] key: JsValue,
    ) -> Result<Array, JsValue> {
        let k = convert::key(&key)?;
        fn rows<V: Clone + Send + Sync + 'static>(
            t: &CoreWindowedTable<V>,
            k: Key,
            conv: impl Fn(V) -> JsValue,
        ) -> Array {
            t.fetch(k)
                .into_iter()
                .map(|(w, v)| windowed(w.start as f64, w.end as f64, conv(v)))
                .collect()
        }
        Ok(match &self.table {
            Held::Values(t) => rows(t, k, |v| v.js()),
            Held::Counts(t) => rows(t, k, num),
        })
    }

    /// Every window: `{ key, start, end, value }` objects, by key then start.
    #[wasm_bindgen(unchecked_return_type = "WindowedEntry[]")]
    pub fn entries(&self) -> Array {
        fn rows<V: Clone + Send + Sync + 'static>(
            t: &CoreWindowedTable<V>,
            conv: impl Fn(&V) -> JsValue,
        ) -> Array {
            t.entries()
                .iter()
                .map(|(k, w, v)| {
                    windowed_entry(key_js(Some(k)), w.start as f64, w.end as f64, conv(v))
                })
                .collect()
        }
        match &self.table {
            Held::Values(t) => rows(t, Value::js),
            Held::Counts(t) => rows(t, |n| num(*n)),
        }
    }

    /// (Record, window) pairs dropped as later than the grace period.
    #[wasm_bindgen(getter, js_name = droppedLate)]
    pub fn dropped_late(&self) -> f64 {
        with_table!(&self.table, t => t.dropped_late() as f64)
    }

    /// The largest record timestamp seen (ms), or `undefined`.
    #[wasm_bindgen(getter, js_name = streamTime)]
    pub fn stream_time(&self) -> Option<f64> {
        with_table!(&self.table, t => t.stream_time().map(|t| t as f64))
    }

    /// How many windows it holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        with_table!(&self.table, t => t.len())
    }

    /// The name of the compacted changelog topic.
    #[wasm_bindgen(getter)]
    pub fn changelog(&self) -> String {
        with_table!(&self.table, t => t.changelog().name().to_string())
    }

    /// The stream of updates; each value is `{ start, end, value }`.
    #[wasm_bindgen(js_name = toStream, unchecked_return_type = "Stream")]
    pub fn to_stream(&self) -> JsValue {
        fn value<V>(w: &Windowed<V>, v: JsValue) -> Value {
            Value::new(windowed(w.window.start as f64, w.window.end as f64, v))
        }
        stream(match &self.table {
            Held::Values(t) => t.to_stream().map(|r| value(&r.value, r.value.value.js())),
            Held::Counts(t) => t.to_stream().map(|r| value(&r.value, num(r.value.value))),
        })
    }
}
