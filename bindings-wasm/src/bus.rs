//! `Bus`: the registry of topics and queues, its clock and journal.

use std::rc::Rc;

use ringlet::journal::{Event, JOURNAL_TOPIC};
use ringlet::{Error, ManualClock, Start};
use wasm_bindgen::prelude::*;

use crate::convert::{self, absent, get, option_object};
use crate::errors::{err, named};
use crate::queue::Queue;
use crate::records::plain;
use crate::timer::Timer;
use crate::topic::{Subscription, Topic, TopicKind};
use crate::Value;

/// The registry of topics and queues, with its clock and (optionally) its journal.
///
/// `new Bus()` runs on the system clock; `new Bus({ clock: "manual", startMs: 0 })`
/// on a clock moved by `advance(ms)`; `journal: n` keeps the newest `n` events.
#[wasm_bindgen]
pub struct Bus {
    pub(crate) bus: ringlet::Bus,
    clock: Option<ManualClock>,
    pub(crate) timer: Rc<Timer>,
}

impl Bus {
    fn open_topic(&self, name: &str) -> Result<Option<TopicKind>, JsValue> {
        match self.bus.get_topic::<Value>(name) {
            Ok(t) => Ok(Some(TopicKind::Values(t))),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(Error::TypeMismatch { .. }) if name == JOURNAL_TOPIC => self
                .bus
                .get_topic::<Event>(name)
                .map(|t| Some(TopicKind::Journal(t)))
                .map_err(err),
            Err(e) => Err(err(e)),
        }
    }

    fn wrap(&self, kind: TopicKind) -> Topic {
        Topic::new(kind, self.timer.clone())
    }
}

#[wasm_bindgen]
impl Bus {
    /// A new bus. Options: `clock` (`"system"`, the default, or `"manual"`),
    /// `startMs` (a manual clock's start, default 0), `journal` (capacity of the
    /// journal; off when left out).
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<crate::types::BusOptions>) -> Result<Bus, JsValue> {
        ringlet::label_value_type::<Value>("JS values");
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(
            &options_,
            "Bus",
            &["clock", "startMs", "journal", "namingRule"],
        )?;
        let clock = get(&o, "clock")?;
        let manual = if absent(&clock) {
            false
        } else {
            match clock.as_string().as_deref() {
                Some("system") => false,
                Some("manual") => true,
                _ => {
                    return Err(crate::errors::type_error(
                        "clock must be \"system\" or \"manual\"",
                    ))
                }
            }
        };
        let start = get(&o, "startMs")?;
        if !absent(&start) && !manual {
            return Err(crate::errors::type_error("startMs needs clock: \"manual\""));
        }
        let mut b = ringlet::Bus::builder();
        let clock = if manual {
            let c = if absent(&start) {
                ManualClock::new()
            } else {
                ManualClock::starting_at(convert::timestamp(&start, "startMs")?)
            };
            b = b.clock(c.clone());
            Some(c)
        } else {
            None
        };
        if let Some(n) = convert::opt_usize(&get(&o, "journal")?, "journal")? {
            b = b.journal(n);
        }
        if let Some(rule) = convert::opt_string(&get(&o, "namingRule")?, "namingRule")? {
            b = b.naming_rule(ringlet::NamingRule::template(&rule).map_err(err)?);
        }
        let bus = b.build();
        #[cfg(feature = "json-schema")]
        bus.set_schema_compiler::<Value>(crate::schema::compiler());
        let timer = Timer::new(bus.clone(), manual);
        Ok(Bus { bus, clock, timer })
    }

    /// The bus clock's time, ms since the epoch (or since the manual clock's zero).
    #[wasm_bindgen(getter)]
    pub fn now(&self) -> f64 {
        self.bus.now_ms() as f64
    }

    /// `"manual"` or `"system"`.
    #[wasm_bindgen(getter, unchecked_return_type = "\"manual\" | \"system\"")]
    pub fn clock(&self) -> String {
        if self.clock.is_some() {
            "manual"
        } else {
            "system"
        }
        .into()
    }

    /// Moves a manual clock forward by `ms` and fires every transition that falls
    /// due, in deadline order (`ConfigError` on the system clock).
    pub fn advance(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue,
    ) -> Result<(), JsValue> {
        let d = convert::ms(&ms, "ms")?;
        match &self.clock {
            Some(c) => {
                c.advance(d);
                Ok(())
            }
            None => Err(named(
                "ConfigError",
                "this bus runs on the system clock: create it with new Bus({ clock: \"manual\" })",
                &[],
            )),
        }
    }

    /// The topic of that name, created if it does not exist. Options left out
    /// accept what exists (or take the defaults); a conflicting option throws
    /// `ConfigError`. `compacted: true` keeps the latest record per key;
    /// publishing `null` with a key deletes the key (a tombstone).
    pub fn topic(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<crate::types::TopicOptions>,
    ) -> Result<Topic, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let name = convert::string(&name, "name")?;
        let o = option_object(
            &options_,
            "topic",
            &[
                "partitions",
                "capacity",
                "maxAgeMs",
                "onFull",
                "compacted",
                "durable",
                "owner",
                "description",
                "tags",
                "schema",
            ],
        )?;
        let f = get(&o, "onFull")?;
        let schema = get(&o, "schema")?;
        let options = ringlet::options::TopicOptions {
            partitions: convert::opt_u32(&get(&o, "partitions")?, "partitions")?,
            capacity: convert::opt_usize(&get(&o, "capacity")?, "capacity")?,
            max_age: convert::opt_ms(&get(&o, "maxAgeMs")?, "maxAgeMs")?,
            on_full: (!absent(&f))
                .then(|| convert::choice(&f, "onFull"))
                .transpose()?,
            compacted: convert::opt_bool(&get(&o, "compacted")?, "compacted")?,
            // Topics here are kept in memory: `durable: true` is the core's
            // ConfigError saying so.
            durable: convert::opt_bool(&get(&o, "durable")?, "durable")?,
            durability: None,
            codec: None,
            metadata: ringlet::TopicMetadata {
                owner: convert::opt_string(&get(&o, "owner")?, "owner")?,
                description: convert::opt_string(&get(&o, "description")?, "description")?,
                tags: convert::opt_strings(&get(&o, "tags")?, "tags")?,
                schema: (!absent(&schema))
                    .then(|| crate::schema::doc(&schema, "schema"))
                    .transpose()?,
            },
        };
        let t = self
            .bus
            .open_topic::<Value>(&name, &options, |v| v.js().is_null())
            .map_err(err)?;
        Ok(self.wrap(TopicKind::Values(t)))
    }

    /// The queue of that name, created if it does not exist. Options left out
    /// accept what exists (or take the defaults); a conflicting option throws
    /// `ConfigError`.
    #[wasm_bindgen(unchecked_return_type = "Queue")]
    pub fn queue(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<crate::types::QueueOptions>,
    ) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let name = convert::string(&name, "name")?;
        crate::queue::open(&self.bus, &name, &options_, self.timer.clone()).map(crate::iterable)
    }

    /// An existing topic (`NotFound` otherwise), whatever its configuration.
    /// `"__journal"` is the journal.
    #[wasm_bindgen(js_name = getTopic)]
    pub fn get_topic(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<Topic, JsValue> {
        let name = convert::string(&name, "name")?;
        match self.open_topic(&name)? {
            Some(k) => Ok(self.wrap(k)),
            None => Err(err(Error::NotFound { name })),
        }
    }

    /// An existing queue (`NotFound` otherwise), whatever its configuration.
    #[wasm_bindgen(js_name = getQueue, unchecked_return_type = "Queue")]
    pub fn get_queue(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<JsValue, JsValue> {
        let name = convert::string(&name, "name")?;
        let q = self.bus.get_queue::<Value>(&name).map_err(err)?;
        Ok(crate::iterable(Queue::new(q, self.timer.clone())))
    }

    /// Fault injection on this bus: `crash(member | shareMember | delivery)`,
    /// `delayAcks`, `failPublishes`, `failSends`, `pausePartition`,
    /// `resumePartition`, `clear`.
    pub fn faults(&self) -> crate::faults::Faults {
        crate::faults::Faults::new(self.bus.faults(), self.timer.clone())
    }

    /// Removes a topic or queue (closing it).
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<(), JsValue> {
        let name = convert::string(&name, "name")?;
        self.bus.delete(&name).map_err(err)
    }

    /// The names of topics and queues, sorted.
    pub fn names(&self) -> Vec<String> {
        self.bus.names()
    }

    /// Reads every topic whose whole name matches `pattern` (a regular
    /// expression), including topics created later (Kafka's regex
    /// subscription). Options: `start` (as in `subscribe`) for the topics there
    /// now; topics found later are read from their first record. Records carry
    /// `topic`.
    #[wasm_bindgen(js_name = subscribePattern, unchecked_return_type = "PatternSubscription")]
    pub fn subscribe_pattern(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] pattern: JsValue,
        options: Option<crate::types::PatternOptions>,
    ) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        crate::pattern::PatternSubscription::subscribe(
            &self.bus,
            &pattern,
            &options_,
            self.timer.clone(),
        )
    }

    /// Joins the consumer group `name` on every topic whose whole name matches
    /// `pattern`, including topics created later: one member across them, with
    /// `commit()`. Options as in `topic.group`, used on every topic.
    #[wasm_bindgen(js_name = groupPattern, unchecked_return_type = "PatternSubscription")]
    pub fn group_pattern(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] pattern: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<crate::types::GroupOptions>,
    ) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        crate::pattern::PatternSubscription::member(
            &self.bus,
            &pattern,
            &name,
            &options_,
            self.timer.clone(),
        )
    }

    /// Every topic as a data product: `name`, `owner`, `description`, `tags`,
    /// `schema`, `partitions`, `retention`, `records`, `producers`, `consumers`
    /// (each with its `lag`) and `lag` (the largest), sorted by name.
    #[wasm_bindgen(unchecked_return_type = "CatalogEntry[]")]
    pub fn catalog(&self) -> JsValue {
        plain(&self.bus.catalog())
    }

    /// The naming rule topic names on this bus follow, or `undefined`.
    #[wasm_bindgen(getter, js_name = namingRule)]
    pub fn naming_rule(&self) -> Option<String> {
        self.bus.naming_rule().map(|r| r.describe().to_string())
    }

    /// Everything, as a plain object (the documented snapshot shape; offsets are
    /// numbers).
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> JsValue {
        plain(&self.bus.snapshot())
    }

    /// A subscription to the journal (`start`, default `"earliest"`), or `undefined`
    /// when the bus keeps no journal. Its records' values are plain event objects.
    #[wasm_bindgen(unchecked_return_type = "Subscription | undefined")]
    pub fn journal(
        &self,
        options: Option<crate::types::SubscribeOptions>,
    ) -> Result<JsValue, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let o = option_object(&options_, "journal", &["start", "onLag"])?;
        let Some(kind) = self.open_topic(JOURNAL_TOPIC)? else {
            return Ok(JsValue::UNDEFINED);
        };
        let (start, on_lag) = convert::reader_options(&o, Start::Earliest)?;
        let sub = Subscription::open(&kind, start, on_lag, self.timer.clone())?;
        Ok(sub)
    }

    /// The earliest bus-clock time (ms) something waits for, or `undefined`.
    #[wasm_bindgen(getter, js_name = nextDeadline)]
    pub fn next_deadline(&self) -> Option<f64> {
        self.bus.next_deadline().map(|d| d as f64)
    }
}
