//! `Queue` and `Delivery`.

use std::rc::Rc;

use js_sys::Promise;
use ringlet::queue::SharedDelivery;
use ringlet::{Message, TryReceiveError};
use wasm_bindgen::prelude::*;

use crate::convert::{self, absent, get, option_object};
use crate::errors::{err, named};
use crate::records::{headers_js, key_js, plain};
use crate::timer::{Rearming, Timer};
use crate::Value;

pub(crate) fn open(
    bus: &ringlet::Bus,
    name: &str,
    opts: &JsValue,
    timer: Rc<Timer>,
) -> Result<Queue, JsValue> {
    let o = option_object(
        opts,
        "queue",
        &[
            "capacity",
            "visibilityTimeoutMs",
            "maxDeliveries",
            "deadLetter",
        ],
    )?;
    let options = ringlet::options::QueueOptions {
        capacity: convert::opt_usize(&get(&o, "capacity")?, "capacity")?,
        visibility_timeout: convert::opt_ms(
            &get(&o, "visibilityTimeoutMs")?,
            "visibilityTimeoutMs",
        )?,
        max_deliveries: convert::opt_u32(&get(&o, "maxDeliveries")?, "maxDeliveries")?,
        dead_letter: convert::opt_string(&get(&o, "deadLetter")?, "deadLetter")?,
        ..Default::default()
    };
    let q = bus.open_queue::<Value>(name, &options).map_err(err)?;
    Ok(Queue::new(q, timer))
}

/// A delivery as its JS class.
pub(crate) fn delivery_js(d: ringlet::Delivery<Value>, timer: &Rc<Timer>) -> Delivery {
    Delivery::from_core(d, timer.clone())
}

/// A named, bounded queue for competing consumers: each message goes to one
/// consumer at a time and is removed when acked.
#[wasm_bindgen]
pub struct Queue {
    q: ringlet::Queue<Value>,
    timer: Rc<Timer>,
    freed: crate::Freed,
}

impl Queue {
    pub(crate) fn new(q: ringlet::Queue<Value>, timer: Rc<Timer>) -> Self {
        Queue {
            q,
            timer,
            freed: crate::Freed::default(),
        }
    }

    fn receive_promise(&self, end_ok: bool) -> Promise {
        match self.q.try_receive() {
            Ok(d) => {
                self.timer.rearm();
                return Promise::resolve(&JsValue::from(delivery_js(d, &self.timer)));
            }
            Err(TryReceiveError::Closed) if end_ok => return Promise::resolve(&JsValue::UNDEFINED),
            Err(TryReceiveError::Empty) => {}
            Err(e) => return Promise::reject(&err(e)),
        }
        let timer = self.timer.clone();
        let fut = Rearming {
            fut: self.q.receive_async(),
            timer: timer.clone(),
        };
        wasm_bindgen_futures::future_to_promise(self.freed.guard(async move {
            match fut.await {
                Ok(d) => Ok(Delivery::from_core(d, timer).into()),
                Err(_) if end_ok => Ok(JsValue::UNDEFINED),
                Err(e) => Err(err(e)),
            }
        }))
    }
}

fn queue_message(value: JsValue, opts: &Option<js_sys::Object>) -> Result<Message<Value>, JsValue> {
    let mut m = Message::new(Value::new(value));
    let k = get(opts, "key")?;
    if !absent(&k) {
        m = m.key(convert::key(&k)?);
    }
    let h = get(opts, "headers")?;
    if !absent(&h) {
        m = m.headers(convert::headers(&h)?);
    }
    Ok(m)
}

#[wasm_bindgen]
impl Queue {
    /// Its name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.q.name().to_owned()
    }

    /// Its configuration (`capacity`, `visibility_timeout_ms`, `max_deliveries`,
    /// `dead_letter`).
    #[wasm_bindgen(unchecked_return_type = "QueueConfig")]
    pub fn config(&self) -> JsValue {
        plain(&self.q.snapshot().config)
    }

    /// Messages ready for delivery (in flight and delayed ones are in `figures()`).
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.q.len()
    }

    /// The queue's figures: `ready`, `in_flight`, `delayed`, `sent`, `acked`, …
    #[wasm_bindgen(unchecked_return_type = "QueueFigures")]
    pub fn figures(&self) -> JsValue {
        plain(&self.q.figures())
    }

    /// Whether it is closed.
    #[wasm_bindgen(getter, js_name = isClosed)]
    pub fn is_closed(&self) -> bool {
        self.q.is_closed()
    }

    /// Closes it: sends throw `Closed`; receivers drain what is ready, then get
    /// `Closed`.
    pub fn close(&self) {
        self.q.close();
    }

    /// Sends `value` (options: `key`, `headers`, `delayMs`). Never waits: a full
    /// queue throws `Full` (`sendAsync` waits for room).
    pub fn send(
        &self,
        value: JsValue,
        options: Option<crate::types::SendOptions>,
    ) -> Result<(), JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let full = |e: ringlet::TrySendError<Message<Value>>| match e {
            ringlet::TrySendError::Full(_) => {
                named("Full", "the queue is full: sendAsync waits for room", &[])
            }
            e => err(e),
        };
        if absent(&options_) {
            let r = self.q.try_send(Value::new(value));
            return r.map_err(|e| full(e.map(Message::new)));
        }
        let o = option_object(&options_, "send", &["key", "headers", "delayMs"])?;
        let m = queue_message(value, &o)?;
        match convert::opt_ms(&get(&o, "delayMs")?, "delayMs")? {
            None => self.q.try_send_message(m).map_err(full),
            Some(d) => {
                let r = self.q.try_send_delayed(m, d).map_err(full);
                self.timer.rearm();
                r
            }
        }
    }

    /// Sends every value of an array (or iterable); returns how many. Never waits:
    /// a full queue throws `Full` with `sent` (how many went in before).
    #[wasm_bindgen(js_name = sendMany)]
    pub fn send_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Iterable<any>")] values: JsValue,
    ) -> Result<usize, JsValue> {
        let vals = convert::items(&values, "values")?;
        let total = vals.len();
        for (n, v) in vals.into_iter().enumerate() {
            if let Err(e) = self.q.try_send(Value::new(v)) {
                let e = err(e);
                let _ = js_sys::Reflect::set(&e, &"sent".into(), &(n as f64).into());
                return Err(e);
            }
        }
        Ok(total)
    }

    /// Sends, waiting for room (options: `key`, `headers`).
    #[wasm_bindgen(js_name = sendAsync, unchecked_return_type = "Promise<void>")]
    pub fn send_async(
        &self,
        value: JsValue,
        options: Option<crate::types::SendAsyncOptions>,
    ) -> Result<Promise, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(&options_, "sendAsync", &["key", "headers"])?;
        let m = queue_message(value, &o)?;
        let m = match self.q.try_send_message(m) {
            Ok(()) => return Ok(Promise::resolve(&JsValue::UNDEFINED)),
            Err(ringlet::TrySendError::Full(m)) => m,
            Err(e) => return Ok(Promise::reject(&err(e))),
        };
        let fut = Rearming {
            fut: self.q.send_message_async(m),
            timer: self.timer.clone(),
        };
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            fut.await.map(|()| JsValue::UNDEFINED).map_err(err)
        }))
    }

    /// The next ready message as a delivery, or `undefined`. Never waits.
    #[wasm_bindgen(js_name = tryReceive)]
    pub fn try_receive(&self) -> Result<Option<Delivery>, JsValue> {
        let r = self.q.try_receive();
        self.timer.rearm();
        match r {
            Ok(d) => Ok(Some(delivery_js(d, &self.timer))),
            Err(TryReceiveError::Empty) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Resolves to the next delivery (waiting for one); rejects with `Closed` once
    /// the queue is closed and nothing is ready. Any number may wait: each message
    /// goes to one of them.
    #[wasm_bindgen(unchecked_return_type = "Promise<Delivery>")]
    pub fn receive(&self) -> Promise {
        self.receive_promise(false)
    }

    /// The step behind `for await` (`undefined` once closed and drained).
    #[wasm_bindgen(js_name = iterNext, unchecked_return_type = "Promise<Delivery | undefined>")]
    pub fn iter_next(&self) -> Promise {
        self.receive_promise(true)
    }

    /// Up to `max` (default 1024) ready deliveries, possibly none.
    #[wasm_bindgen(js_name = receiveMany)]
    pub fn receive_many(
        &self,
        max_opt: Option<crate::types::Num>,
    ) -> Result<Vec<Delivery>, JsValue> {
        let max = max_opt.map(JsValue::from).unwrap_or_default();
        let max = convert::batch_max(&max)?;
        let r = self.q.try_receive_batch(max);
        self.timer.rearm();
        match r {
            Ok(v) => Ok(v.into_iter().map(|d| delivery_js(d, &self.timer)).collect()),
            Err(TryReceiveError::Empty) => Ok(vec![]),
            Err(e) => Err(err(e)),
        }
    }

    /// This queue as a plain object (config and figures).
    #[wasm_bindgen(unchecked_return_type = "QueueSnapshot")]
    pub fn snapshot(&self) -> JsValue {
        plain(&self.q.snapshot())
    }
}

/// A message taken into flight: settle it once with `ack()`, `nack()` or `reject()`
/// before the visibility timeout passes.
#[wasm_bindgen]
pub struct Delivery {
    d: SharedDelivery<Value>,
    timer: Rc<Timer>,
}

impl Delivery {
    pub(crate) fn from_core(d: ringlet::Delivery<Value>, timer: Rc<Timer>) -> Self {
        Delivery {
            d: SharedDelivery::new(d),
            timer,
        }
    }

    /// Crashes its consumer (`bus.faults().crash`); a settled one is not held.
    pub(crate) fn crash(&self, f: &ringlet::faults::Faults) -> bool {
        self.d.take_delivery().is_some_and(|d| f.crash(d))
    }

    fn read<R>(&self, f: impl FnOnce(&ringlet::Delivery<Value>) -> R) -> Result<R, JsValue> {
        self.d.with(f).ok_or_else(|| {
            named(
                "AlreadySettled",
                "the delivery was settled already: its message is gone",
                &[],
            )
        })
    }

    fn settled(&self, r: Result<(), ringlet::SettleError>) -> Result<(), JsValue> {
        self.timer.rearm();
        r.map_err(err)
    }
}

#[wasm_bindgen]
impl Delivery {
    /// The message's value (the same JS value that was sent).
    #[wasm_bindgen(getter)]
    pub fn value(&self) -> Result<JsValue, JsValue> {
        self.read(|d| d.value().js())
    }

    /// Which delivery of the message this is (1 for the first).
    #[wasm_bindgen(getter)]
    pub fn attempt(&self) -> Result<u32, JsValue> {
        self.read(|d| d.attempt())
    }

    /// The message's key (a string or `Uint8Array`), or `undefined`.
    #[wasm_bindgen(getter, unchecked_return_type = "string | Uint8Array | undefined")]
    pub fn key(&self) -> Result<JsValue, JsValue> {
        self.read(|d| key_js(d.key()))
    }

    /// The message's headers as `[name, Uint8Array]` pairs.
    #[wasm_bindgen(getter, unchecked_return_type = "[string, Uint8Array][]")]
    pub fn headers(&self) -> Result<JsValue, JsValue> {
        self.read(|d| headers_js(d.headers()))
    }

    /// The partition (share groups), or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn partition(&self) -> Result<Option<u32>, JsValue> {
        self.read(|d| d.partition())
    }

    /// The offset (share groups), or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn offset(&self) -> Result<Option<f64>, JsValue> {
        self.read(|d| d.offset().map(|o| o as f64))
    }

    /// When the message was sent (bus clock, ms).
    #[wasm_bindgen(getter, js_name = enqueuedAt)]
    pub fn enqueued_at(&self) -> Result<f64, JsValue> {
        self.read(|d| d.enqueued_at() as f64)
    }

    /// When the visibility timeout passes (bus clock, ms).
    #[wasm_bindgen(getter)]
    pub fn deadline(&self) -> Result<f64, JsValue> {
        self.read(|d| d.deadline() as f64)
    }

    /// Whether it was settled.
    #[wasm_bindgen(getter, js_name = isSettled)]
    pub fn is_settled(&self) -> bool {
        self.d.is_settled()
    }

    /// Done: removes the message. Throws `Expired` when the visibility timeout
    /// passed first, `AlreadySettled` the second time.
    pub fn ack(&self) -> Result<(), JsValue> {
        self.settled(self.d.ack())
    }

    /// Not done: the message is ready again at once (or after `delayMs`), to the
    /// head of the queue; after `maxDeliveries` it goes to the dead letter.
    pub fn nack(&self, delay_ms_opt: Option<crate::types::Num>) -> Result<(), JsValue> {
        let delay_ms = delay_ms_opt.map(JsValue::from).unwrap_or_default();
        if absent(&delay_ms) {
            return self.settled(self.d.nack());
        }
        let d = convert::ms(&delay_ms, "delayMs")?;
        self.settled(self.d.nack_after(d))
    }

    /// Never: the message goes to the dead letter (or is dropped) now.
    pub fn reject(&self) -> Result<(), JsValue> {
        self.settled(self.d.reject())
    }
}
