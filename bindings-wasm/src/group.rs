//! Consumer groups (`Group`, `Member`) and share groups (`ShareGroup`,
//! `ShareMember`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use ringlet::options::{GroupOptions, ShareGroupOptions};
use ringlet::{AssignmentChange, ChangeQueue, Start};
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::convert::{self, absent, get, option_object};
use crate::errors::{busy, closed, err, type_error};
use crate::queue::{delivery_js, Delivery};
use crate::reader::{self, Host};
use crate::records::{numbers, plain};
use crate::timer::{Rearming, Timer};
use crate::{iterable, Serial, Value};

fn start_name(s: &Start) -> serde_json::Value {
    match s {
        Start::Earliest => json!("earliest"),
        Start::Latest => json!("latest"),
        Start::Timestamp(t) => json!({ "timestamp": t }),
        Start::Offset(o) => json!(o),
        Start::Offsets(v) => json!(v),
    }
}

/// A group's `start`: `"earliest"`, `"latest"` or a timestamp.
fn group_start(v: &JsValue) -> Result<Option<Start>, JsValue> {
    if absent(v) {
        return Ok(None);
    }
    match convert::start(v)? {
        s @ (Start::Earliest | Start::Latest | Start::Timestamp(_)) => Ok(Some(s)),
        _ => Err(type_error(
            "a group's start must be \"earliest\", \"latest\", a Date or { timestamp }",
        )),
    }
}

/// A consumer group: each partition is owned by one member at a time.
#[wasm_bindgen]
pub struct Group {
    g: ringlet::Group<Value>,
    topic: String,
    timer: Rc<Timer>,
}

impl Group {
    pub(crate) fn open(
        topic: &ringlet::Topic<Value>,
        name: &str,
        opts: &JsValue,
        timer: Rc<Timer>,
    ) -> Result<Group, JsValue> {
        let g = topic.open_group(name, &options(opts)?).map_err(err)?;
        Ok(Group {
            g,
            topic: topic.name().to_owned(),
            timer,
        })
    }
}

/// A group's options object (`start`, `autoCommit`, `sessionTimeoutMs`).
pub(crate) fn options(opts: &JsValue) -> Result<GroupOptions, JsValue> {
    let o = option_object(opts, "group", &["start", "autoCommit", "sessionTimeoutMs"])?;
    Ok(GroupOptions {
        start: group_start(&get(&o, "start")?)?,
        auto_commit: convert::opt_bool(&get(&o, "autoCommit")?, "autoCommit")?,
        session_timeout: convert::opt_ms(&get(&o, "sessionTimeoutMs")?, "sessionTimeoutMs")?,
    })
}

#[wasm_bindgen]
impl Group {
    /// Its name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.g.name().to_owned()
    }

    /// Its topic's name.
    #[wasm_bindgen(getter)]
    pub fn topic(&self) -> String {
        self.topic.clone()
    }

    /// Its configuration (`start`, `autoCommit`, `sessionTimeoutMs`).
    #[wasm_bindgen(unchecked_return_type = "GroupConfig")]
    pub fn config(&self) -> JsValue {
        let c = self.g.config();
        plain(&json!({
            "start": start_name(&c.start),
            "autoCommit": c.auto_commit,
            "sessionTimeoutMs": c.session_timeout.as_millis() as u64,
        }))
    }

    /// Joins the group: a new member (the partitions move at its first read).
    /// Options: `onAssign(partitions)`, `onRevoke(partitions)`, called after the
    /// engine's part of the member's call that noticed the change.
    #[wasm_bindgen(unchecked_return_type = "Member")]
    pub fn join(&self, options: Option<crate::types::JoinOptions>) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(&options_, "join", &["onAssign", "onRevoke"])?;
        let on_assign = convert::opt_function(&get(&o, "onAssign")?, "onAssign")?;
        let on_revoke = convert::opt_function(&get(&o, "onRevoke")?, "onRevoke")?;
        let mut m = self.g.join().map_err(err)?;
        let events = m.queue_changes();
        self.timer.rearm();
        Ok(iterable(Member {
            id: m.id(),
            host: MemberHost {
                inner: Rc::new(RefCell::new(m)),
                events,
                on_assign,
                on_revoke,
                timer: self.timer.clone(),
            },
            serial: Serial::default(),
        }))
    }

    /// The committed offset of each partition (`null` where none).
    #[wasm_bindgen(unchecked_return_type = "(number | null)[]")]
    pub fn committed(&self) -> JsValue {
        self.g
            .committed()
            .into_iter()
            .map(|o| o.map_or(JsValue::NULL, |o| JsValue::from_f64(o as f64)))
            .collect::<Array>()
            .into()
    }

    /// Records not yet committed, per partition.
    #[wasm_bindgen(unchecked_return_type = "number[]")]
    pub fn lag(&self) -> JsValue {
        numbers(self.g.lag().into_iter().map(|l| l as f64))
    }

    /// The members and their partitions: `[{ id, partitions }]`.
    #[wasm_bindgen(unchecked_return_type = "{ id: number; partitions: number[] }[]")]
    pub fn members(&self) -> JsValue {
        let v: Vec<_> = self
            .g
            .members()
            .into_iter()
            .map(|(id, p)| json!({ "id": id, "partitions": p }))
            .collect();
        plain(&v)
    }

    /// This group as a plain object.
    #[wasm_bindgen(unchecked_return_type = "GroupSnapshot")]
    pub fn snapshot(&self) -> JsValue {
        plain(&self.g.snapshot())
    }
}

/// A member of a consumer group: reads the partitions it owns.
#[wasm_bindgen]
pub struct Member {
    id: u64,
    host: MemberHost,
    serial: Serial,
}

/// A member's core state and rebalance listeners.
#[derive(Clone)]
struct MemberHost {
    inner: Rc<RefCell<ringlet::Member<Value>>>,
    events: ChangeQueue,
    on_assign: Option<Function>,
    on_revoke: Option<Function>,
    timer: Rc<Timer>,
}

impl Host for MemberHost {
    type State = ringlet::Member<Value>;
    fn reader(&self) -> &Rc<RefCell<ringlet::Member<Value>>> {
        &self.inner
    }
    fn busy(&self) -> JsValue {
        busy("the member")
    }
    fn timer(&self) -> &Rc<Timer> {
        &self.timer
    }
    fn after_call(&self) {
        self.timer.rearm();
    }

    /// Calls the listeners for what the last engine call noticed (no borrow
    /// held): every one, returning the first exception (`ringlet::ChangeQueue`);
    /// then what the call read is put back (it is read again).
    fn after(&self, read: &[(u32, u64)]) -> Result<(), JsValue> {
        self.events
            .dispatch(|change| {
                let (f, parts) = match change {
                    AssignmentChange::Assigned(p) => (&self.on_assign, p),
                    AssignmentChange::Revoked(p) => (&self.on_revoke, p),
                };
                let parts = numbers(parts.iter().map(|&p| f64::from(p)));
                f.as_ref()
                    .map_or(Ok(()), |f| f.call1(&JsValue::UNDEFINED, &parts).map(drop))
            })
            .inspect_err(|_| {
                if let Ok(mut m) = self.inner.try_borrow_mut() {
                    m.put_back(read.iter().copied());
                }
            })
    }
}

impl Member {
    /// Crashes the member (`bus.faults().crash`); a pending `next()` rejects
    /// with `Closed`, as after `leave()`.
    pub(crate) fn crash(&self, f: &ringlet::faults::Faults) -> Result<bool, JsValue> {
        let r = self.host.with(|m| f.crash(m))?;
        self.serial.wake();
        Ok(r)
    }

    /// A call on the member (not a read): `Closed` once it left; the listeners
    /// for what the call noticed run after it.
    fn with<R>(&self, f: impl FnOnce(&mut ringlet::Member<Value>) -> R) -> Result<R, JsValue> {
        let r = self.host.with(|m| (!m.has_left()).then(|| f(m)))?;
        let r = r.ok_or_else(|| closed("the member"))?;
        self.host.after(&[])?;
        Ok(r)
    }
}

#[wasm_bindgen]
impl Member {
    /// Its id in the group (from 1).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    /// The next record of an owned partition, or `undefined` when none is ready.
    /// Never waits. Throws `Lagged` at a gap, `Closed` after `leave()`.
    #[wasm_bindgen(unchecked_return_type = "RingletRecord | undefined")]
    pub fn poll(&self) -> Result<JsValue, JsValue> {
        reader::poll(&self.host)
    }

    /// Up to `max` (default 1024) ready records, possibly none.
    #[wasm_bindgen(js_name = pollMany, unchecked_return_type = "RingletRecord[]")]
    pub fn poll_many(&self, max_opt: Option<crate::types::Num>) -> Result<JsValue, JsValue> {
        let max = max_opt.map(JsValue::from).unwrap_or_default();
        reader::poll_many(&self.host, convert::batch_max(&max)?)
    }

    /// Resolves to the next record; rejects with `Lagged` at a gap, `Closed` after
    /// `leave()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<RingletRecord>")]
    pub fn next(&self) -> Promise {
        reader::next_promise(&self.host, &self.serial, false)
    }

    /// The step behind `for await` (gaps counted in `skipped`; `undefined` at the end).
    #[wasm_bindgen(js_name = iterNext, unchecked_return_type = "Promise<RingletRecord | undefined>")]
    pub fn iter_next(&self) -> Promise {
        reader::next_promise(&self.host, &self.serial, true)
    }

    /// Commits the positions read so far, or the given `[[partition, offset], …]`.
    /// Throws `NotOwner` for a partition it does not own.
    pub fn commit(&self, offsets_opt: Option<crate::types::OffsetPairs>) -> Result<(), JsValue> {
        let offsets = offsets_opt.map(JsValue::from).unwrap_or_default();
        let offsets = if absent(&offsets) {
            None
        } else {
            Some(convert::offset_pairs(
                &offsets,
                "commit takes [[partition, offset], …] (or nothing)",
            )?)
        };
        self.with(|m| match &offsets {
            None => m.commit(),
            Some(v) => m.commit_offsets(v),
        })?
        .map_err(err)
    }

    /// Moves the position in an owned partition.
    pub fn seek(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] partition: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] offset: JsValue,
    ) -> Result<(), JsValue> {
        let p = convert::u32_arg(&partition, "partition")?;
        let o = convert::u64_arg(&offset, "offset")?;
        self.with(|m| m.seek(p, o))?.map_err(err)
    }

    /// The partitions it owns now, ascending.
    #[wasm_bindgen(unchecked_return_type = "number[]")]
    pub fn assignment(&self) -> Result<JsValue, JsValue> {
        self.with(|m| numbers(m.assignment().into_iter().map(f64::from)))
    }

    /// `[[partition, position], …]` for the owned partitions.
    #[wasm_bindgen(unchecked_return_type = "[number, number][]")]
    pub fn positions(&self) -> Result<JsValue, JsValue> {
        let v = self.with(|m| m.positions())?;
        Ok(v.into_iter()
            .map(|(p, o)| numbers([f64::from(p), o as f64]))
            .collect::<Array>()
            .into())
    }

    /// Takes these partitions by hand (manual assignment).
    pub fn assign(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number[]")] partitions: JsValue,
    ) -> Result<(), JsValue> {
        let p = convert::partitions(&partitions)?;
        self.with(|m| m.assign(&p))?.map_err(err)
    }

    /// Stops reading these owned partitions until `resume`.
    pub fn pause(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number[]")] partitions: JsValue,
    ) -> Result<(), JsValue> {
        let p = convert::partitions(&partitions)?;
        self.with(|m| m.pause(&p))?.map_err(err)
    }

    /// Reads these partitions again.
    pub fn resume(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number[]")] partitions: JsValue,
    ) -> Result<(), JsValue> {
        let p = convert::partitions(&partitions)?;
        self.with(|m| m.resume(&p))?.map_err(err)
    }

    /// The paused partitions.
    #[wasm_bindgen(unchecked_return_type = "number[]")]
    pub fn paused(&self) -> Result<JsValue, JsValue> {
        self.with(|m| numbers(m.paused().into_iter().map(f64::from)))
    }

    /// The next offset of each partition of the topic.
    #[wasm_bindgen(js_name = endOffsets, unchecked_return_type = "number[]")]
    pub fn end_offsets(&self) -> Result<JsValue, JsValue> {
        self.with(|m| numbers(m.end_offsets().into_iter().map(|o| o as f64)))
    }

    /// Records skipped over gaps so far.
    #[wasm_bindgen(getter)]
    pub fn skipped(&self) -> Result<f64, JsValue> {
        self.with(|m| m.skipped() as f64)
    }

    /// Whether it left.
    #[wasm_bindgen(getter, js_name = isClosed)]
    pub fn is_closed(&self) -> bool {
        matches!(self.host.inner.try_borrow(), Ok(m) if m.has_left())
    }

    /// Leaves the group (committing first when the group auto-commits); its
    /// partitions go to the other members. A pending `next()` rejects with
    /// `Closed`. Leaving twice does nothing.
    pub fn leave(&self) -> Result<(), JsValue> {
        self.host.with(|m| m.leave())?;
        self.serial.wake();
        Ok(())
    }

    /// The same as `leave()`.
    pub fn close(&self) -> Result<(), JsValue> {
        self.leave()
    }
}

/// A share group: a queue view of a topic (records delivered one member at a time,
/// acked one by one).
#[wasm_bindgen]
pub struct ShareGroup {
    g: ringlet::ShareGroup<Value>,
    topic: String,
    timer: Rc<Timer>,
}

impl ShareGroup {
    pub(crate) fn open(
        topic: &ringlet::Topic<Value>,
        name: &str,
        opts: &JsValue,
        timer: Rc<Timer>,
    ) -> Result<ShareGroup, JsValue> {
        let o = option_object(
            opts,
            "share group",
            &[
                "start",
                "visibilityTimeoutMs",
                "maxDeliveries",
                "maxInFlight",
                "deadLetter",
            ],
        )?;
        let options = ShareGroupOptions {
            start: group_start(&get(&o, "start")?)?,
            visibility_timeout: convert::opt_ms(
                &get(&o, "visibilityTimeoutMs")?,
                "visibilityTimeoutMs",
            )?,
            max_deliveries: convert::opt_u32(&get(&o, "maxDeliveries")?, "maxDeliveries")?,
            max_in_flight: convert::opt_usize(&get(&o, "maxInFlight")?, "maxInFlight")?,
            dead_letter: convert::opt_string(&get(&o, "deadLetter")?, "deadLetter")?,
        };
        let g = topic.open_share_group(name, &options).map_err(err)?;
        Ok(ShareGroup {
            g,
            topic: topic.name().to_owned(),
            timer,
        })
    }
}

#[wasm_bindgen]
impl ShareGroup {
    /// Its name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.g.name().to_owned()
    }

    /// Its topic's name.
    #[wasm_bindgen(getter)]
    pub fn topic(&self) -> String {
        self.topic.clone()
    }

    /// Its configuration.
    #[wasm_bindgen(unchecked_return_type = "ShareGroupConfig")]
    pub fn config(&self) -> JsValue {
        let c = self.g.config();
        plain(&json!({
            "start": start_name(&c.start),
            "visibilityTimeoutMs": c.visibility_timeout.as_millis() as u64,
            "maxDeliveries": c.max_deliveries,
            "maxInFlight": c.max_in_flight,
            "deadLetter": c.dead_letter,
        }))
    }

    /// Joins: a new member that receives deliveries.
    #[wasm_bindgen(unchecked_return_type = "ShareMember")]
    pub fn join(&self) -> Result<JsValue, JsValue> {
        let m = self.g.join().map_err(err)?;
        Ok(iterable(ShareMember {
            id: m.id(),
            inner: RefCell::new(m),
            serial: Serial::default(),
            timer: self.timer.clone(),
        }))
    }

    /// This share group as a plain object.
    #[wasm_bindgen(unchecked_return_type = "ShareGroupSnapshot")]
    pub fn snapshot(&self) -> JsValue {
        plain(&self.g.snapshot())
    }
}

/// A member of a share group.
#[wasm_bindgen]
pub struct ShareMember {
    id: u64,
    inner: RefCell<ringlet::ShareMember<Value>>,
    serial: Serial,
    timer: Rc<Timer>,
}

impl ShareMember {
    /// Crashes the member (`bus.faults().crash`).
    pub(crate) fn crash(&self, f: &ringlet::faults::Faults) -> Result<bool, JsValue> {
        let m = self
            .inner
            .try_borrow()
            .map_err(|_| busy("the share member"))?;
        Ok(f.crash(&*m))
    }

    fn with<R>(&self, f: impl FnOnce(&ringlet::ShareMember<Value>) -> R) -> Result<R, JsValue> {
        let m = self
            .inner
            .try_borrow()
            .map_err(|_| busy("the share member"))?;
        if m.has_left() {
            return Err(closed("the share member"));
        }
        let r = f(&m);
        drop(m);
        self.timer.rearm();
        Ok(r)
    }

    fn receive_promise(&self, end_ok: bool) -> Promise {
        if !self.serial.busy() {
            match self.with(|m| m.try_receive()) {
                Err(e) => return Promise::reject(&e),
                Ok(Ok(d)) => return Promise::resolve(&JsValue::from(delivery_js(d, &self.timer))),
                Ok(Err(ringlet::TryReceiveError::Closed)) if end_ok => {
                    return Promise::resolve(&JsValue::UNDEFINED)
                }
                Ok(Err(ringlet::TryReceiveError::Empty)) => {}
                Ok(Err(e)) => return Promise::reject(&err(e)),
            }
        }
        let fut = match self.with(|m| m.receive_async()) {
            Ok(f) => f,
            Err(e) => return Promise::reject(&e),
        };
        let timer = self.timer.clone();
        let fut = Rearming {
            fut,
            timer: timer.clone(),
        };
        self.serial.run(async move {
            match fut.await {
                Ok(d) => Ok(Delivery::from_core(d, timer).into()),
                Err(_) if end_ok => Ok(JsValue::UNDEFINED),
                Err(e) => Err(err(e)),
            }
        })
    }
}

#[wasm_bindgen]
impl ShareMember {
    /// Its id in the share group.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    /// The next delivery, or `undefined` when none is ready. Never waits.
    #[wasm_bindgen(js_name = tryReceive)]
    pub fn try_receive(&self) -> Result<Option<Delivery>, JsValue> {
        match self.with(|m| m.try_receive())? {
            Ok(d) => Ok(Some(delivery_js(d, &self.timer))),
            Err(ringlet::TryReceiveError::Empty) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Resolves to the next delivery (waiting for one); rejects with `Closed`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Delivery>")]
    pub fn receive(&self) -> Promise {
        self.receive_promise(false)
    }

    /// Up to `max` (default 1024) ready deliveries, possibly none.
    #[wasm_bindgen(js_name = receiveMany)]
    pub fn receive_many(
        &self,
        max_opt: Option<crate::types::Num>,
    ) -> Result<Vec<Delivery>, JsValue> {
        let max = max_opt.map(JsValue::from).unwrap_or_default();
        let max = convert::batch_max(&max)?;
        match self.with(|m| m.try_receive_batch(max))? {
            Ok(v) => Ok(v.into_iter().map(|d| delivery_js(d, &self.timer)).collect()),
            Err(ringlet::TryReceiveError::Empty) => Ok(vec![]),
            Err(e) => Err(err(e)),
        }
    }

    /// The step behind `for await` (`undefined` once the topic is closed and drained).
    #[wasm_bindgen(js_name = iterNext, unchecked_return_type = "Promise<Delivery | undefined>")]
    pub fn iter_next(&self) -> Promise {
        self.receive_promise(true)
    }

    /// Whether it left.
    #[wasm_bindgen(getter, js_name = isClosed)]
    pub fn is_closed(&self) -> bool {
        matches!(self.inner.try_borrow(), Ok(m) if m.has_left())
    }

    /// Leaves the share group; its unsettled deliveries become ready for others,
    /// and a pending `receive()` rejects with `Closed`.
    pub fn leave(&self) -> Result<(), JsValue> {
        self.inner
            .try_borrow_mut()
            .map_err(|_| busy("the share member"))?
            .leave();
        self.timer.rearm();
        Ok(())
    }

    /// The same as `leave()`.
    pub fn close(&self) -> Result<(), JsValue> {
        self.leave()
    }
}
