//! Stream processing, tables, event stores and aggregates for JS: the core's
//! streams with JS functions. A function that throws fails its record, which comes
//! back from `runUntilIdle()`/`step()` as a `StreamError` (its `cause` the thrown
//! value, `record` the record the function got).

use js_sys::{Array, Function};
use ringlet::streams::{
    BoxError, Description, GroupedStream as CoreGrouped, Stream as CoreStream,
    WindowedGrouped as CoreWindowedGrouped, Windows,
};
use ringlet::{OnError, Record};
use wasm_bindgen::prelude::*;

use crate::bus::Bus;
use crate::convert::{self, absent, get, option_object};
use crate::errors::{err, type_error, JsCallbackError};
use crate::records::{plain, record_js};
use crate::tables::{Held, Table, WindowedTable};
use crate::topic::Topic;
use crate::{Local, Value};

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = installBranch)]
    fn install_branch(obj: &JsValue);
    pub(crate) fn windowed(start: f64, end: f64, value: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = windowedEntry)]
    pub(crate) fn windowed_entry(key: JsValue, start: f64, end: f64, value: JsValue) -> JsValue;
}

pub(crate) type Callback = Local<Function>;

pub(crate) fn callback(v: &JsValue, what: &str) -> Result<Callback, JsValue> {
    convert::function(v, what).map(Local)
}

pub(crate) fn fail(thrown: JsValue, record: Option<JsValue>) -> BoxError {
    Box::new(JsCallbackError::new(thrown, record))
}

/// `f(record)`; a throw fails the record, carrying it.
pub(crate) fn call(f: &Callback, rec: &Record<Value>) -> Result<JsValue, BoxError> {
    let r = record_js(rec.clone());
    f.get()
        .call1(&JsValue::UNDEFINED, &r)
        .map_err(|e| fail(e, Some(r)))
}

/// `f(a, b)`; a throw fails the record (with `record` when there is one).
pub(crate) fn call2(
    f: &Callback,
    a: &JsValue,
    b: &JsValue,
    record: Option<JsValue>,
) -> Result<JsValue, BoxError> {
    f.get()
        .call2(&JsValue::UNDEFINED, a, b)
        .map_err(|e| fail(e, record))
}

/// A wrong result of a callback: a `TypeError`, carried like a throw.
pub(crate) fn bad_result(what: String, rec: &Record<Value>) -> BoxError {
    fail(type_error(what), Some(record_js(rec.clone())))
}

pub(crate) fn stream(s: CoreStream<Value>) -> JsValue {
    let v: JsValue = Stream { stream: s }.into();
    install_branch(&v);
    v
}

pub(crate) fn streams(v: Vec<CoreStream<Value>>) -> Array {
    v.into_iter().map(stream).collect()
}

pub(crate) fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// A stream of records in a topology. Operators take functions of a record
/// (`{ partition, offset, timestamp, key, headers, value }`).
#[wasm_bindgen]
pub struct Stream {
    pub(crate) stream: CoreStream<Value>,
}

#[wasm_bindgen]
impl Stream {
    /// Keeps the records for which `pred(record)` is truthy.
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn filter(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => unknown")] pred: JsValue,
    ) -> Result<JsValue, JsValue> {
        let f = callback(&pred, "pred")?;
        Ok(stream(
            self.stream
                .try_filter(move |r| call(&f, r).map(|v| v.is_truthy())),
        ))
    }

    /// `f(record)` becomes the record's value (key and timestamp kept).
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn map(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => unknown")] f: JsValue,
    ) -> Result<JsValue, JsValue> {
        let f = callback(&f, "f")?;
        Ok(stream(
            self.stream.try_map(move |r| call(&f, r).map(Value::new)),
        ))
    }

    /// `f(record)` returns an array (or iterable): one record per item, same key.
    #[wasm_bindgen(js_name = flatMap, unchecked_return_type = "Stream")]
    pub fn flat_map(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => Iterable<unknown>")]
        f: JsValue,
    ) -> Result<JsValue, JsValue> {
        let f = callback(&f, "f")?;
        Ok(stream(self.stream.try_flat_map(move |r| {
            let out = call(&f, r)?;
            let items = convert::items(&out, "flatMap's result")
                .map_err(|e| fail(e, Some(record_js(r.clone()))))?;
            Ok(items.into_iter().map(Value::new).collect::<Vec<_>>())
        })))
    }

    /// `f(record)` becomes the record's key (a string or `Uint8Array`; `null` or
    /// `undefined` removes it).
    #[wasm_bindgen(js_name = keyBy, unchecked_return_type = "Stream")]
    pub fn key_by(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => Key | null | undefined")]
        f: JsValue,
    ) -> Result<JsValue, JsValue> {
        let f = callback(&f, "f")?;
        Ok(stream(self.stream.try_key_by(move |r| {
            let out = call(&f, r)?;
            if absent(&out) {
                return Ok(None);
            }
            convert::key(&out).map(Some).map_err(|_| {
                bad_result(
                    format!(
                        "keyBy's function must return a string, a Uint8Array, null or undefined, not {}",
                        convert::type_name(&out)
                    ),
                    r,
                )
            })
        })))
    }

    /// `branch(...preds)`: splits the stream; a record goes to the first
    /// predicate that is truthy (or is dropped). One stream per predicate.
    #[wasm_bindgen(js_name = branchAll, unchecked_return_type = "Stream[]")]
    pub fn branch_all(
        &self,
        #[wasm_bindgen(unchecked_param_type = "((record: RingletRecord) => unknown)[]")]
        preds: JsValue,
    ) -> Result<Array, JsValue> {
        let fs = convert::items(&preds, "preds")?
            .iter()
            .map(|p| callback(p, "each predicate"))
            .collect::<Result<Vec<_>, _>>()?;
        let boxed = fs
            .into_iter()
            .map(|f| {
                Box::new(move |r: &Record<Value>| call(&f, r).map(|v| v.is_truthy()))
                    as Box<dyn FnMut(&Record<Value>) -> Result<bool, BoxError> + Send>
            })
            .collect();
        Ok(streams(self.stream.try_branch(boxed)))
    }

    /// The records of both streams (of one topology).
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn merge(&self, other: &Stream) -> Result<JsValue, JsValue> {
        self.stream.merge(&other.stream).map(stream).map_err(err)
    }

    /// Calls `f(record)` and passes the record on.
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn peek(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => unknown")] f: JsValue,
    ) -> Result<JsValue, JsValue> {
        let f = callback(&f, "f")?;
        Ok(stream(self.stream.try_peek(move |r| call(&f, r).map(drop))))
    }

    /// Calls `f(record)` for each record (the end of this branch).
    #[wasm_bindgen(js_name = forEach)]
    pub fn for_each(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => unknown")] f: JsValue,
    ) -> Result<(), JsValue> {
        let f = callback(&f, "f")?;
        self.stream.try_for_each(move |r| call(&f, r).map(drop));
        Ok(())
    }

    /// Publishes each record to `topic` (a `Topic` or a name; a missing topic is
    /// created with the defaults).
    pub fn to(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Topic | string")] topic: JsValue,
    ) -> Result<(), JsValue> {
        let name = match topic.as_string() {
            Some(n) => n,
            None => js_sys::Reflect::get(&topic, &JsValue::from_str("name"))
                .ok()
                .filter(|_| topic.is_object())
                .and_then(|n| n.as_string())
                .ok_or_else(|| {
                    type_error(format!(
                        "topic must be a Topic or a name, not {}",
                        convert::type_name(&topic)
                    ))
                })?,
        };
        let bus = self.stream.topology().bus().map_err(err)?;
        let t = match bus.get_topic::<Value>(&name) {
            Ok(t) => t,
            Err(ringlet::Error::NotFound { .. }) => {
                bus.topic::<Value>(&name, Default::default()).map_err(err)?
            }
            Err(e) => return Err(err(e)),
        };
        self.stream.to(&t).map_err(err)
    }

    /// Publishes each record to the topic named by `f(record)` (a string),
    /// making a missing topic on first use with the options' `partitions`,
    /// `capacity`, `maxAgeMs`, `onFull` (defaults otherwise), or, with
    /// `create: false`, only to topics that exist. A record routed where it may
    /// not go (no such topic, a name the naming rule refuses, a topic this stream
    /// reads) fails like a throwing function: a `StreamError` from
    /// `runUntilIdle()`, or skipped under `onError("skip")`.
    pub fn route(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord) => string")] f: JsValue,
        options: Option<crate::types::RouteOptions>,
    ) -> Result<(), JsValue> {
        let f = callback(&f, "f")?;
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(
            &options_,
            "route",
            &["create", "partitions", "capacity", "maxAgeMs", "onFull"],
        )?;
        let on_full = get(&o, "onFull")?;
        let topic = ringlet::options::TopicOptions {
            partitions: convert::opt_u32(&get(&o, "partitions")?, "partitions")?,
            capacity: convert::opt_usize(&get(&o, "capacity")?, "capacity")?,
            max_age: convert::opt_ms(&get(&o, "maxAgeMs")?, "maxAgeMs")?,
            on_full: (!absent(&on_full))
                .then(|| convert::choice(&on_full, "onFull"))
                .transpose()?,
            ..Default::default()
        };
        let create = convert::opt_bool(&get(&o, "create")?, "create")?.unwrap_or(true);
        let routes = if create {
            ringlet::streams::Routes::create(topic.apply(Default::default()))
        } else if topic == ringlet::options::TopicOptions::default() {
            ringlet::streams::Routes::existing()
        } else {
            return Err(type_error(
                "topic options are for the topics route() creates: drop them, or leave create: true",
            ));
        };
        self.stream.try_route(
            move |r| {
                let name = call(&f, r)?;
                name.as_string().ok_or_else(|| {
                    fail(
                        js_sys::TypeError::new(&format!(
                            "the route function must return a topic name (a string), not {}",
                            convert::type_name(&name)
                        ))
                        .into(),
                        Some(record_js(r.clone())),
                    )
                })
            },
            routes,
        );
        Ok(())
    }

    /// Groups by key for `count`, `reduce`, `aggregate` or `window`. Options:
    /// `store` (the table's name), `capacity` (its most keys).
    #[wasm_bindgen(js_name = groupByKey)]
    pub fn group_by_key(
        &self,
        options: Option<crate::types::GroupByKeyOptions>,
    ) -> Result<GroupedStream, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(&options_, "groupByKey", &["store", "capacity"])?;
        let s = get(&o, "store")?;
        let store = if absent(&s) {
            None
        } else {
            Some(convert::string(&s, "store")?)
        };
        Ok(GroupedStream {
            stream: self.stream.clone(),
            store,
            capacity: convert::opt_usize(&get(&o, "capacity")?, "capacity")?,
        })
    }

    /// Joins each record with `table`'s value for its key: `f(record, value)`
    /// becomes the value; records whose key the table lacks are dropped.
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn join(
        &self,
        table: &Table,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord, value: any) => unknown")]
        f: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.joined(table, &f, false)
    }

    /// Like `join`, with `value` `undefined` when the table lacks the key.
    #[wasm_bindgen(js_name = leftJoin, unchecked_return_type = "Stream")]
    pub fn left_join(
        &self,
        table: &Table,
        #[wasm_bindgen(unchecked_param_type = "(record: RingletRecord, value: any) => unknown")]
        f: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.joined(table, &f, true)
    }

    /// Names the processor that produces this stream (in `describe` and errors).
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn named(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<JsValue, JsValue> {
        let name = convert::string(&name, "name")?;
        Ok(stream(self.stream.clone().named(&name)))
    }

    /// The topology this stream belongs to.
    #[wasm_bindgen(getter)]
    pub fn topology(&self) -> Topology {
        Topology {
            topo: self.stream.topology().clone(),
        }
    }
}

impl Stream {
    fn joined(&self, table: &Table, f: &JsValue, left: bool) -> Result<JsValue, JsValue> {
        let f = callback(f, "f")?;
        let run = move |r: &Record<Value>, v: Option<JsValue>| -> Result<Option<Value>, BoxError> {
            let Some(v) = v.or_else(|| left.then_some(JsValue::UNDEFINED)) else {
                return Ok(None);
            };
            let rec = record_js(r.clone());
            call2(&f, &rec, &v, Some(rec.clone())).map(|o| Some(Value::new(o)))
        };
        Ok(stream(match &table.table {
            Held::Values(t) => self
                .stream
                .try_join(t, move |r, v| run(r, v.map(Value::js))),
            Held::Counts(t) => self
                .stream
                .try_join(t, move |r, v| run(r, v.map(|n| num(*n)))),
        }))
    }
}

/// A stream grouped by key.
#[wasm_bindgen]
pub struct GroupedStream {
    pub(crate) stream: CoreStream<Value>,
    pub(crate) store: Option<String>,
    pub(crate) capacity: Option<usize>,
}

impl GroupedStream {
    fn grouped(&self) -> CoreGrouped<Value> {
        let mut g = self.stream.group_by_key();
        if let Some(n) = &self.store {
            g = g.store(n);
        }
        if let Some(c) = self.capacity {
            g = g.capacity(c);
        }
        g
    }
}

/// An initializer: a function is called, anything else is the initial value.
pub(crate) fn init_value(init: &Local<JsValue>) -> Result<Value, BoxError> {
    match init.get().dyn_ref::<Function>() {
        Some(f) => f
            .call0(&JsValue::UNDEFINED)
            .map(Value::new)
            .map_err(|e| fail(e, None)),
        None => Ok(Value::new(init.get().clone())),
    }
}

/// `f(aggregate, record)` → the new aggregate.
pub(crate) fn fold(f: &Callback, acc: &Value, rec: &Record<Value>) -> Result<Value, BoxError> {
    let r = record_js(rec.clone());
    call2(f, &acc.js(), &r, Some(r.clone())).map(Value::new)
}

/// `f(a, b)` → a value.
pub(crate) fn combine(f: &Callback, a: &Value, b: &Value) -> Result<Value, BoxError> {
    call2(f, &a.js(), &b.js(), None).map(Value::new)
}

#[wasm_bindgen]
impl GroupedStream {
    /// Records per key, in a `Table` of numbers.
    pub fn count(&self) -> Result<Table, JsValue> {
        Ok(Table {
            table: Held::Counts(self.grouped().count().map_err(err)?),
        })
    }

    /// `f(aggregate, value)` per key, starting from the first value.
    pub fn reduce(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(aggregate: any, value: any) => unknown")]
        f: JsValue,
    ) -> Result<Table, JsValue> {
        let f = callback(&f, "f")?;
        let t = self
            .grouped()
            .try_reduce(move |a, b| combine(&f, a, b))
            .map_err(err)?;
        Ok(Table {
            table: Held::Values(t),
        })
    }

    /// `aggregator(aggregate, record)` per key, starting from `initializer`
    /// (called if a function). Return new values: aggregates are shared, not
    /// copied.
    pub fn aggregate(
        &self,
        initializer: JsValue,
        #[wasm_bindgen(
            unchecked_param_type = "(aggregate: any, record: RingletRecord) => unknown"
        )]
        aggregator: JsValue,
    ) -> Result<Table, JsValue> {
        let f = callback(&aggregator, "aggregator")?;
        let init = Local(initializer);
        let t = self
            .grouped()
            .try_aggregate(move || init_value(&init), move |a, r| fold(&f, a, r))
            .map_err(err)?;
        Ok(Table {
            table: Held::Values(t),
        })
    }

    /// Windows by event time: exactly one of `tumblingMs`, `hoppingMs` (with
    /// `advanceMs`) or `sessionGapMs`, and optionally `graceMs` (how late a record
    /// may be, default 0) and `retentionMs` (how long closed windows stay
    /// queryable, default a day).
    pub fn window(
        &self,
        options: crate::types::WindowOptions,
    ) -> Result<WindowedGroupedStream, JsValue> {
        let options_ = JsValue::from(options);
        let o = option_object(
            &options_,
            "window",
            &[
                "tumblingMs",
                "hoppingMs",
                "advanceMs",
                "sessionGapMs",
                "graceMs",
                "retentionMs",
            ],
        )?;
        let tumbling = convert::opt_ms(&get(&o, "tumblingMs")?, "tumblingMs")?;
        let hopping = convert::opt_ms(&get(&o, "hoppingMs")?, "hoppingMs")?;
        let advance = convert::opt_ms(&get(&o, "advanceMs")?, "advanceMs")?;
        let session = convert::opt_ms(&get(&o, "sessionGapMs")?, "sessionGapMs")?;
        let mut w = match (tumbling, hopping, session) {
            (Some(t), None, None) if advance.is_none() => Windows::tumbling(t),
            (None, Some(h), None) => Windows::hopping(
                h,
                advance.ok_or_else(|| type_error("hoppingMs needs advanceMs"))?,
            ),
            (None, None, Some(g)) if advance.is_none() => Windows::session(g),
            _ => {
                return Err(type_error(
                    "window needs exactly one of tumblingMs, hoppingMs (with advanceMs) or sessionGapMs",
                ))
            }
        };
        if let Some(g) = convert::opt_ms(&get(&o, "graceMs")?, "graceMs")? {
            w = w.grace(g);
        }
        if let Some(r) = convert::opt_ms(&get(&o, "retentionMs")?, "retentionMs")? {
            w = w.retention(r);
        }
        Ok(WindowedGroupedStream {
            grouped: GroupedStream {
                stream: self.stream.clone(),
                store: self.store.clone(),
                capacity: self.capacity,
            },
            windows: w,
        })
    }
}

/// A grouped stream with windows.
#[wasm_bindgen]
pub struct WindowedGroupedStream {
    pub(crate) grouped: GroupedStream,
    pub(crate) windows: Windows,
}

impl WindowedGroupedStream {
    fn grouped(&self) -> CoreWindowedGrouped<Value> {
        self.grouped.grouped().window(self.windows)
    }
}

#[wasm_bindgen]
impl WindowedGroupedStream {
    /// Records per key and window.
    pub fn count(&self) -> Result<WindowedTable, JsValue> {
        Ok(WindowedTable {
            table: Held::Counts(self.grouped().count().map_err(err)?),
        })
    }

    /// `f(aggregate, value)` per key and window (sessions merge with `f` too).
    pub fn reduce(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(aggregate: any, value: any) => unknown")]
        f: JsValue,
    ) -> Result<WindowedTable, JsValue> {
        let f = callback(&f, "f")?;
        let t = self
            .grouped()
            .try_reduce(move |a, b| combine(&f, a, b))
            .map_err(err)?;
        Ok(WindowedTable {
            table: Held::Values(t),
        })
    }

    /// `aggregator(aggregate, record)` per key and window from `initializer`;
    /// session windows need `merge(a, b)` of two sessions' aggregates.
    pub fn aggregate(
        &self,
        initializer: JsValue,
        #[wasm_bindgen(
            unchecked_param_type = "(aggregate: any, record: RingletRecord) => unknown"
        )]
        aggregator: JsValue,
        merge: Option<crate::types::Merge>,
    ) -> Result<WindowedTable, JsValue> {
        let merge = merge.map(JsValue::from).unwrap_or_default();
        let f = callback(&aggregator, "aggregator")?;
        let init = Local(initializer);
        let merge = convert::opt_function(&merge, "merge")?.map(|m| {
            let m = Local(m);
            Box::new(move |a: &Value, b: &Value| combine(&m, a, b))
                as Box<dyn FnMut(&Value, &Value) -> Result<Value, BoxError> + Send>
        });
        let t = self
            .grouped()
            .try_aggregate(move || init_value(&init), move |a, r| fold(&f, a, r), merge)
            .map_err(err)?;
        Ok(WindowedTable {
            table: Held::Values(t),
        })
    }
}

/// A description of a topology: `toString()` gives Kafka's text, `mermaid` and
/// `svg` pictures, `toJSON()` the data.
#[wasm_bindgen]
pub struct TopologyDescription {
    pub(crate) d: Description,
}

#[wasm_bindgen]
impl TopologyDescription {
    /// A Mermaid flowchart.
    #[wasm_bindgen(getter)]
    pub fn mermaid(&self) -> String {
        self.d.to_mermaid()
    }

    /// An SVG picture.
    #[wasm_bindgen(getter)]
    pub fn svg(&self) -> String {
        self.d.to_svg()
    }

    /// Kafka Streams' text form.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_text(&self) -> String {
        self.d.to_string()
    }

    /// Sub-topologies and nodes as plain objects.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsValue {
        plain(&self.d)
    }
}

/// A graph of stream processors and tables (Kafka Streams' topology), run by
/// `step()` / `runUntilIdle()` (or `bus.runUntilIdle()`).
#[wasm_bindgen]
pub struct Topology {
    pub(crate) topo: ringlet::Topology,
}

#[wasm_bindgen]
impl Topology {
    /// Its name (its consumer groups' and changelogs' prefix).
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.topo.name().to_string()
    }

    /// A stream of `topic` in this topology, from the earliest offsets (or where
    /// a topology of this name committed).
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn stream(&self, topic: &Topic) -> Result<JsValue, JsValue> {
        let t = topic.values()?;
        self.topo.stream(t).map(stream).map_err(err)
    }

    /// Processes what is pending (a batch per source); returns records read.
    /// Throws `StreamError` for a record that failed under `"stop"`.
    pub fn step(&self) -> Result<usize, JsValue> {
        self.topo.step().map_err(err)
    }

    /// Processes until nothing is pending; returns records read.
    #[wasm_bindgen(js_name = runUntilIdle)]
    pub fn run_until_idle(&self) -> Result<usize, JsValue> {
        self.topo.run_until_idle().map_err(err)
    }

    /// `"stop"` (default: a failing record stops processing and is read again by
    /// the next step) or `"skip"` (it is skipped and kept in `errors`).
    #[wasm_bindgen(js_name = onError)]
    pub fn on_error(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"stop\" | \"skip\"")] policy: JsValue,
    ) -> Result<(), JsValue> {
        self.topo
            .on_error(convert::choice::<OnError>(&policy, "policy")?);
        Ok(())
    }

    /// Errors of skipped records (`StreamError`s), oldest first (the last 100).
    #[wasm_bindgen(getter, unchecked_return_type = "StreamError[]")]
    pub fn errors(&self) -> Array {
        self.topo.errors().into_iter().map(err).collect()
    }

    /// The graph.
    pub fn describe(&self) -> TopologyDescription {
        TopologyDescription {
            d: self.topo.describe(),
        }
    }

    /// Stops reading (committed offsets and tables stay; a topology built again
    /// with this name resumes where this one committed).
    pub fn close(&self) {
        self.topo.close();
    }

    /// Whether it is closed.
    #[wasm_bindgen(getter, js_name = isClosed)]
    pub fn is_closed(&self) -> bool {
        self.topo.is_closed()
    }
}

#[wasm_bindgen]
impl Topic {
    /// A stream of this topic in the bus's default topology, from the earliest
    /// offsets: `topic.stream().filter(...).map(...).to("out")`.
    #[wasm_bindgen(unchecked_return_type = "Stream")]
    pub fn stream(&self) -> Result<JsValue, JsValue> {
        self.values()?.stream().map(stream).map_err(err)
    }
}

#[wasm_bindgen]
impl Bus {
    /// The default topology (`name` left out) or the live one named `name`.
    pub fn topology(&self, name: Option<crate::types::Str>) -> Result<Topology, JsValue> {
        let name = name.map(JsValue::from).unwrap_or_default();
        let topo = if absent(&name) {
            self.bus.topology()
        } else {
            let n = convert::string(&name, "name")?;
            self.bus.topology_named(&n).map_err(err)?
        };
        Ok(Topology { topo })
    }

    /// Steps every topology until nothing is pending; returns records read.
    #[wasm_bindgen(js_name = runUntilIdle)]
    pub fn run_until_idle(&self) -> Result<usize, JsValue> {
        let r = self.bus.run_until_idle().map_err(err);
        self.timer.rearm();
        r
    }

    /// Steps every topology once; returns records read.
    pub fn step(&self) -> Result<usize, JsValue> {
        let r = self.bus.step().map_err(err);
        self.timer.rearm();
        r
    }
}
