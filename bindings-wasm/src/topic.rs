//! `Topic` and `Subscription`.

use js_sys::{Array, Promise};
use ringlet::journal::Event;
use ringlet::{Message, OnFull, OnLag, Start};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

use crate::convert::{self, absent, get, option_object};
use crate::errors::{busy, err, named, type_error};
use crate::group::{Group, ShareGroup};
use crate::reader::{self, Host, Reading};
use crate::records::{numbers, plain, receipt_js};
use crate::timer::{Rearming, Timer};
use crate::{iterable, Serial, Value};

pub(crate) enum TopicKind {
    Values(ringlet::Topic<Value>),
    Journal(ringlet::Topic<Event>),
}

macro_rules! with_topic {
    ($kind:expr, $t:ident => $e:expr) => {
        match $kind {
            TopicKind::Values($t) => $e,
            TopicKind::Journal($t) => $e,
        }
    };
}

/// A message from `publish`'s arguments.
fn message(value: JsValue, opts: &JsValue, with_place: bool) -> Result<Message<Value>, JsValue> {
    let mut m = Message::new(Value::new(value));
    if absent(opts) {
        return Ok(m);
    }
    let known: &[&str] = if with_place {
        &["key", "headers", "partition", "timestamp"]
    } else {
        &["key", "headers"]
    };
    let o = option_object(opts, "publish", known)?;
    let k = get(&o, "key")?;
    if !absent(&k) {
        m = m.key(convert::key(&k)?);
    }
    let h = get(&o, "headers")?;
    if !absent(&h) {
        m = m.headers(convert::headers(&h)?);
    }
    if with_place {
        if let Some(p) = convert::opt_u32(&get(&o, "partition")?, "partition")? {
            m = m.partition(p);
        }
        let ts = get(&o, "timestamp")?;
        if !absent(&ts) {
            m = m.timestamp(convert::timestamp(&ts, "timestamp")?);
        }
    }
    Ok(m)
}

/// A named, partitioned, replayable topic.
#[wasm_bindgen]
pub struct Topic {
    kind: TopicKind,
    timer: Rc<Timer>,
}

impl Topic {
    pub(crate) fn new(kind: TopicKind, timer: Rc<Timer>) -> Self {
        Topic { kind, timer }
    }

    pub(crate) fn values(&self) -> Result<&ringlet::Topic<Value>, JsValue> {
        match &self.kind {
            TopicKind::Values(t) => Ok(t),
            TopicKind::Journal(_) => Err(named(
                "TypeMismatch",
                "the journal is written by the bus: it can only be read (subscribe)",
                &[],
            )),
        }
    }
}

/// A publish error; `Full` on a `block` topic says that `publishAsync` waits.
fn full_wait_hint<T: 'static>(e: ringlet::PublishError<T>, on_full: OnFull) -> JsValue {
    if matches!(e, ringlet::PublishError::Full(_)) && on_full == OnFull::Block {
        return named(
            "Full",
            "the partition is full: publishAsync waits for room",
            &[],
        );
    }
    err(e)
}

#[wasm_bindgen]
impl Topic {
    /// Its name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        with_topic!(&self.kind, t => t.name().to_owned())
    }

    /// Its number of partitions.
    #[wasm_bindgen(getter)]
    pub fn partitions(&self) -> u32 {
        with_topic!(&self.kind, t => t.partitions())
    }

    /// Its configuration (`partitions`, `capacity`, `max_age_ms`, `on_full`).
    #[wasm_bindgen(unchecked_return_type = "TopicConfig")]
    pub fn config(&self) -> JsValue {
        with_topic!(&self.kind, t => plain(&t.snapshot().config))
    }

    /// Its owner, description and tags (see `bus.catalog()`).
    #[wasm_bindgen(getter, unchecked_return_type = "TopicMetadata")]
    pub fn metadata(&self) -> JsValue {
        with_topic!(&self.kind, t => {
            let m = t.metadata();
            plain(&serde_json::json!({
                "owner": m.owner, "description": m.description, "tags": m.tags, "schema": m.schema,
            }))
        })
    }

    /// Its JSON Schema, `null` when it has none.
    #[wasm_bindgen(getter, unchecked_return_type = "object | boolean | null")]
    pub fn schema(&self) -> JsValue {
        with_topic!(&self.kind, t => t.schema().map_or(JsValue::NULL, |s| plain(&s)))
    }

    /// Changes its JSON Schema. Only optional properties may be added (a
    /// `ConfigError` names the change refused otherwise); a topic without a
    /// schema takes any first one.
    #[wasm_bindgen(js_name = setSchema)]
    pub fn set_schema(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object | boolean")] schema: JsValue,
    ) -> Result<(), JsValue> {
        let doc = crate::schema::doc(&schema, "schema")?;
        self.values()?.set_schema(doc).map_err(err)
    }

    /// Whether it is closed.
    #[wasm_bindgen(getter, js_name = isClosed)]
    pub fn is_closed(&self) -> bool {
        with_topic!(&self.kind, t => t.is_closed())
    }

    /// Closes it: publishing throws `Closed`; readers drain what is retained, then
    /// get `Closed` (iteration ends).
    pub fn close(&self) {
        with_topic!(&self.kind, t => t.close())
    }

    /// Records retained, over all partitions.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> f64 {
        with_topic!(&self.kind, t => t.len() as f64)
    }

    /// The next offset of each partition.
    #[wasm_bindgen(js_name = endOffsets, unchecked_return_type = "number[]")]
    pub fn end_offsets(&self) -> JsValue {
        with_topic!(&self.kind, t => numbers(t.end_offsets().into_iter().map(|o| o as f64)))
    }

    /// The oldest retained offset of each partition.
    #[wasm_bindgen(js_name = earliestOffsets, unchecked_return_type = "number[]")]
    pub fn earliest_offsets(&self) -> JsValue {
        with_topic!(&self.kind, t => numbers(t.earliest_offsets().into_iter().map(|o| o as f64)))
    }

    /// Per partition, the first offset whose timestamp is at or after `timestamp`
    /// (ms or a `Date`), or `null`.
    #[wasm_bindgen(js_name = offsetsForTimes, unchecked_return_type = "(number | null)[]")]
    pub fn offsets_for_times(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | Date")] timestamp: JsValue,
    ) -> Result<JsValue, JsValue> {
        let ms = convert::timestamp(&timestamp, "timestamp")?;
        let v = with_topic!(&self.kind, t => t.offsets_for_times(ms));
        Ok(v.into_iter()
            .map(|o| o.map_or(JsValue::NULL, |o| JsValue::from_f64(o as f64)))
            .collect::<Array>()
            .into())
    }

    /// Publishes `value` (held by reference) with optional `key`, `headers`,
    /// `partition` and `timestamp`; returns `{ partition, offset }`. Never waits: a
    /// full `block`, `reject` or `keep` partition throws `Full`.
    #[wasm_bindgen(unchecked_return_type = "Receipt")]
    pub fn publish(
        &self,
        value: JsValue,
        options: Option<crate::types::PublishOptions>,
    ) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let t = self.values()?;
        let r = if absent(&options_) {
            t.try_publish(Value::new(value))
                .map_err(|e| full_wait_hint(e.map(Message::new), t.config().on_full))?
        } else {
            let m = message(value, &options_, true)?;
            if let Some(p) = m.partition {
                t.check_partition(p).map_err(err)?;
            }
            t.try_publish_message(m)
                .map_err(|e| full_wait_hint(e, t.config().on_full))?
        };
        Ok(receipt_js(r))
    }

    /// Publishes every value of an array (or iterable); returns how many. Never
    /// waits: at a full partition it throws `Full` with `published` (how many went
    /// in before).
    #[wasm_bindgen(js_name = publishMany)]
    pub fn publish_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Iterable<any>")] values: JsValue,
    ) -> Result<usize, JsValue> {
        let t = self.values()?;
        let vals: Vec<Value> = convert::items(&values, "values")?
            .into_iter()
            .map(Value::new)
            .collect();
        let total = vals.len();
        // JS never waits: a full `block` topic hands back the rest as `Full`.
        t.try_publish_batch(vals).map_err(|e| {
            let published = total - e.as_ref().into_inner().len();
            let e = full_wait_hint(e, t.config().on_full);
            let _ = js_sys::Reflect::set(&e, &"published".into(), &(published as f64).into());
            e
        })
    }

    /// Publishes, waiting for room on a `block` topic; resolves to the receipt.
    #[wasm_bindgen(js_name = publishAsync, unchecked_return_type = "Promise<Receipt>")]
    pub fn publish_async(
        &self,
        value: JsValue,
        options: Option<crate::types::PublishOptions>,
    ) -> Result<Promise, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let t = self.values()?;
        let m = message(value, &options_, true)?;
        if let Some(Err(e)) = m.partition.map(|p| t.check_partition(p)) {
            return Ok(Promise::reject(&err(e)));
        }
        let m = match t.try_publish_message(m) {
            Ok(r) => return Ok(Promise::resolve(&receipt_js(r))),
            Err(ringlet::PublishError::Full(m)) if t.config().on_full == OnFull::Block => m,
            Err(e) => return Ok(Promise::reject(&err(e))),
        };
        let fut = Rearming {
            fut: t.publish_message_async(m),
            timer: self.timer.clone(),
        };
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            fut.await.map(receipt_js).map_err(err)
        }))
    }

    /// A new reader over all partitions. Options: `start` (`"latest"` by default,
    /// `"earliest"`, an offset, a `Date`, `{ timestamp }`, `[[partition, offset]…]`),
    /// `onLag` (`"earliest"`, `"latest"`, `"error"`).
    #[wasm_bindgen(unchecked_return_type = "Subscription")]
    pub fn subscribe(
        &self,
        options: Option<crate::types::SubscribeOptions>,
    ) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(&options_, "subscribe", &["start", "onLag"])?;
        let (start, on_lag) = convert::reader_options(&o, Start::Latest)?;
        Subscription::open(&self.kind, start, on_lag, self.timer.clone())
    }

    /// The consumer group of that name. Options (left out: accept what exists):
    /// `start` (`"latest"`, `"earliest"`, a `Date`), `autoCommit`,
    /// `sessionTimeoutMs`.
    pub fn group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<crate::types::GroupOptions>,
    ) -> Result<Group, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let name = convert::string(&name, "name")?;
        Group::open(self.values()?, &name, &options_, self.timer.clone())
    }

    /// The share group of that name (a queue view of the topic). Options (left
    /// out: accept what exists): `start`, `visibilityTimeoutMs`, `maxDeliveries`,
    /// `maxInFlight`, `deadLetter`.
    #[wasm_bindgen(js_name = shareGroup)]
    pub fn share_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<crate::types::ShareGroupOptions>,
    ) -> Result<ShareGroup, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let name = convert::string(&name, "name")?;
        ShareGroup::open(self.values()?, &name, &options_, self.timer.clone())
    }

    /// This topic as a plain object (partitions, subscriptions, groups).
    #[wasm_bindgen(unchecked_return_type = "TopicSnapshot")]
    pub fn snapshot(&self) -> JsValue {
        with_topic!(&self.kind, t => plain(&t.snapshot()))
    }
}

/// What a subscription does beyond reading, whatever its value type.
pub(crate) trait Subscribed: Reading {
    fn skipped(&self) -> u64;
    fn positions(&self) -> Vec<u64>;
    fn lag(&self) -> u64;
    fn seek(&mut self, start: Start) -> Result<(), ringlet::Error>;
    fn close(&mut self);
}

impl<T: Clone + Send + Sync + 'static> Subscribed for ringlet::Subscription<T>
where
    T: crate::reader::RecordJs,
{
    fn skipped(&self) -> u64 {
        ringlet::Subscription::skipped(self)
    }
    fn positions(&self) -> Vec<u64> {
        ringlet::Subscription::positions(self)
    }
    fn lag(&self) -> u64 {
        ringlet::Subscription::lag(self)
    }
    fn seek(&mut self, start: Start) -> Result<(), ringlet::Error> {
        ringlet::Subscription::seek(self, start)
    }
    fn close(&mut self) {
        self.cancel_poll();
        ringlet::Subscription::close(self)
    }
}

/// An independent reader over all partitions of a topic.
#[wasm_bindgen]
pub struct Subscription {
    host: SubscriptionHost,
    serial: Serial,
}

#[derive(Clone)]
struct SubscriptionHost {
    inner: Rc<RefCell<dyn Subscribed>>,
    timer: Rc<Timer>,
}

impl Host for SubscriptionHost {
    type State = dyn Subscribed;
    fn reader(&self) -> &Rc<RefCell<dyn Subscribed>> {
        &self.inner
    }
    fn busy(&self) -> JsValue {
        busy("the subscription")
    }
    fn timer(&self) -> &Rc<Timer> {
        &self.timer
    }
}

impl Subscription {
    pub(crate) fn open(
        kind: &TopicKind,
        start: Start,
        on_lag: OnLag,
        timer: Rc<Timer>,
    ) -> Result<JsValue, JsValue> {
        let inner: Rc<RefCell<dyn Subscribed>> = with_topic!(kind, t => Rc::new(RefCell::new(t.subscribe_with(start, on_lag).map_err(err)?)));
        Ok(iterable(Subscription {
            host: SubscriptionHost { inner, timer },
            serial: Serial::default(),
        }))
    }
}

#[wasm_bindgen]
impl Subscription {
    /// The next record, or `undefined` when none is ready. Never waits. Throws
    /// `Lagged` once at a gap, `Closed` once the topic is closed and drained.
    #[wasm_bindgen(unchecked_return_type = "RingletRecord | undefined")]
    pub fn poll(&self) -> Result<JsValue, JsValue> {
        reader::poll(&self.host)
    }

    /// Up to `max` (default 1024) ready records, possibly none. A gap after the
    /// first record is reported by the next read.
    #[wasm_bindgen(js_name = pollMany, unchecked_return_type = "RingletRecord[]")]
    pub fn poll_many(&self, max_opt: Option<crate::types::Num>) -> Result<JsValue, JsValue> {
        let max = max_opt.map(JsValue::from).unwrap_or_default();
        reader::poll_many(&self.host, convert::batch_max(&max)?)
    }

    /// Resolves to the next record (waiting for one); rejects with `Lagged` at a gap
    /// and `Closed` at the end.
    #[wasm_bindgen(unchecked_return_type = "Promise<RingletRecord>")]
    pub fn next(&self) -> Promise {
        reader::next_promise(&self.host, &self.serial, false)
    }

    /// The step behind `for await`: the next record, or `undefined` at the end;
    /// gaps are counted in `skipped` (unless `onLag: "error"`).
    #[wasm_bindgen(js_name = iterNext, unchecked_return_type = "Promise<RingletRecord | undefined>")]
    pub fn iter_next(&self) -> Promise {
        reader::next_promise(&self.host, &self.serial, true)
    }

    /// Records skipped over gaps so far.
    #[wasm_bindgen(getter)]
    pub fn skipped(&self) -> Result<f64, JsValue> {
        self.host.with(|s| s.skipped() as f64)
    }

    /// The next offset this reader will read in each partition.
    #[wasm_bindgen(unchecked_return_type = "number[]")]
    pub fn positions(&self) -> Result<JsValue, JsValue> {
        self.host
            .with(|s| numbers(s.positions().into_iter().map(|o| o as f64)))
    }

    /// Records retained but not read yet, over all partitions.
    #[wasm_bindgen(getter)]
    pub fn lag(&self) -> Result<f64, JsValue> {
        self.host.with(|s| s.lag() as f64)
    }

    /// Moves the reader (`start` as in `subscribe`).
    pub fn seek(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Start")] start: JsValue,
    ) -> Result<(), JsValue> {
        if absent(&start) {
            return Err(type_error("seek needs a start"));
        }
        let start = convert::start(&start)?;
        self.host.with(|s| s.seek(start))?.map_err(err)
    }

    /// Stops reading (stops gating a `block` topic); reads then throw `Closed` and
    /// a pending `next()` rejects.
    pub fn close(&self) -> Result<(), JsValue> {
        self.host.with(|s| s.close())?;
        self.serial.wake();
        Ok(())
    }
}
