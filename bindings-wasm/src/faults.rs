//! `bus.faults()`: the core's fault injection ([`ringlet::faults`]), by name.
//! `crash(target)` is defined in the glue (it dispatches on the target's class
//! to `crashMember`, `crashShareMember` or `crashDelivery`).

use std::rc::Rc;

use ringlet::faults::InjectedError;
use wasm_bindgen::prelude::*;

use crate::convert::{self, absent, get, option_object};
use crate::errors::err;
use crate::group::{Member, ShareMember};
use crate::queue::Delivery;
use crate::records::plain;
use crate::timer::Timer;

/// Fault injection for tests and lessons: crash consumers, make acks arrive
/// late, fail publishes and sends, pause partitions.
#[wasm_bindgen]
pub struct Faults {
    f: ringlet::faults::Faults,
    timer: Rc<Timer>,
}

impl Faults {
    pub(crate) fn new(f: ringlet::faults::Faults, timer: Rc<Timer>) -> Self {
        Faults { f, timer }
    }

    fn done<R>(&self, r: Result<R, ringlet::Error>) -> Result<R, JsValue> {
        self.timer.rearm();
        r.map_err(err)
    }
}

/// `n` (default 1) and `{ error }` (default `"full"`) of a `fail*` call.
fn failure(
    n: Option<crate::types::OptionalNumber>,
    options: Option<crate::types::FaultOptions>,
    call: &str,
) -> Result<(u64, InjectedError), JsValue> {
    let n = match n.map(JsValue::from) {
        Some(n) if !absent(&n) => convert::u64_arg(&n, "n")?,
        _ => 1,
    };
    let options = options.map(JsValue::from).unwrap_or_default();
    let o = option_object(&options, call, &["error"])?;
    let e = get(&o, "error")?;
    let e = if absent(&e) {
        InjectedError::Full
    } else {
        convert::choice(&e, "error")?
    };
    Ok((n, e))
}

#[wasm_bindgen]
impl Faults {
    /// Crashes a group member without leaving: it keeps its partitions until
    /// the session timeout removes it. Whether it was still running.
    #[wasm_bindgen(js_name = crashMember)]
    pub fn crash_member(&self, member: &Member) -> Result<bool, JsValue> {
        let r = member.crash(&self.f);
        self.timer.rearm();
        r
    }

    /// Crashes a share member: it leaves, and the deliveries it holds come back
    /// when their visibility timeout passes. Whether it was still running.
    #[wasm_bindgen(js_name = crashShareMember)]
    pub fn crash_share_member(&self, member: &ShareMember) -> Result<bool, JsValue> {
        let r = member.crash(&self.f);
        self.timer.rearm();
        r
    }

    /// Crashes the consumer holding a delivery: its message comes back when the
    /// visibility timeout passes. Whether it was still held.
    #[wasm_bindgen(js_name = crashDelivery)]
    pub fn crash_delivery(&self, delivery: &Delivery) -> bool {
        let r = delivery.crash(&self.f);
        self.timer.rearm();
        r
    }

    /// Delays every settle (ack, nack, reject) of deliveries from the queue
    /// `name` — or, for a topic, from its share groups — by `ms` of bus time.
    /// `0` ends the delay.
    #[wasm_bindgen(js_name = delayAcks)]
    pub fn delay_acks(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue,
    ) -> Result<(), JsValue> {
        let name = convert::string(&name, "name")?;
        let d = convert::ms(&ms, "ms")?;
        self.done(self.f.delay_acks(&name, d))
    }

    /// Fails the next `n` (default 1) publishes of the topic `name` with
    /// `error` (`"full"`, the default, `"closed"` or `"io"`); nothing is
    /// appended. `n = 0` disarms.
    #[wasm_bindgen(js_name = failPublishes)]
    pub fn fail_publishes(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        n: Option<crate::types::OptionalNumber>,
        options: Option<crate::types::FaultOptions>,
    ) -> Result<(), JsValue> {
        let name = convert::string(&name, "name")?;
        let (n, e) = failure(n, options, "failPublishes")?;
        self.done(self.f.fail_publishes(&name, n, e))
    }

    /// Fails the next `n` (default 1) sends of the queue `name` with `error`
    /// (`"full"`, the default, `"closed"` or `"io"`); nothing is sent.
    #[wasm_bindgen(js_name = failSends)]
    pub fn fail_sends(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        n: Option<crate::types::OptionalNumber>,
        options: Option<crate::types::FaultOptions>,
    ) -> Result<(), JsValue> {
        let name = convert::string(&name, "name")?;
        let (n, e) = failure(n, options, "failSends")?;
        self.done(self.f.fail_sends(&name, n, e))
    }

    /// Pauses the delivery of a partition of the topic `name` to every reader.
    #[wasm_bindgen(js_name = pausePartition)]
    pub fn pause_partition(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] partition: JsValue,
    ) -> Result<(), JsValue> {
        let name = convert::string(&name, "name")?;
        let p = convert::u32_arg(&partition, "partition")?;
        self.done(self.f.pause_partition(&name, p))
    }

    /// Resumes a paused partition.
    #[wasm_bindgen(js_name = resumePartition)]
    pub fn resume_partition(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] partition: JsValue,
    ) -> Result<(), JsValue> {
        let name = convert::string(&name, "name")?;
        let p = convert::u32_arg(&partition, "partition")?;
        self.done(self.f.resume_partition(&name, p))
    }

    /// Disarms every delay, failure and pause (paused partitions resume).
    pub fn clear(&self) {
        self.f.clear();
        self.timer.rearm();
    }

    /// The faults armed now: `{ name, fault, remaining?, error?, delay_ms?, partition? }`.
    #[wasm_bindgen(unchecked_return_type = "ActiveFault[]")]
    pub fn active(&self) -> JsValue {
        plain(&self.f.active())
    }

    /// What the faults did: `{ failed, delayed_acks, late_acks, crashed }`.
    #[wasm_bindgen(unchecked_return_type = "FaultFigures")]
    pub fn figures(&self) -> JsValue {
        plain(&self.f.figures())
    }
}
