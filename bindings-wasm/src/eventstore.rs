//! Event stores and aggregates: `EventStore`, `Aggregates`.

use std::rc::Rc;

use js_sys::{Array, Function};
use ringlet::eventstore::ExecuteError;
use ringlet::Aggregate;
use wasm_bindgen::prelude::*;

use crate::bus::Bus;
use crate::convert::{self, absent, get, option_object};
use crate::errors::err;
use crate::streams::{callback, num, Callback};
use crate::timer::Timer;
use crate::topic::{Topic, TopicKind};
use crate::{Local, Value};

/// An event store: events per aggregate id with optimistic concurrency, on a
/// topic that refuses appends when full (`onFull: "keep"`).
#[wasm_bindgen]
pub struct EventStore {
    pub(crate) store: ringlet::EventStore<Value>,
    pub(crate) timer: Rc<Timer>,
}

#[wasm_bindgen]
impl EventStore {
    /// Appends `events` to aggregate `id`, all or none; with `expectedVersion`
    /// (0 for a new aggregate) throws `VersionConflict` when it is stale. Returns
    /// the new version.
    pub fn append(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Iterable<any>")] events: JsValue,
        expected_version: Option<crate::types::Num>,
    ) -> Result<f64, JsValue> {
        let expected_version = expected_version.map(JsValue::from).unwrap_or_default();
        let id = convert::string(&id, "id")?;
        let evs: Vec<Value> = convert::items(&events, "events")?
            .into_iter()
            .map(Value::new)
            .collect();
        let expected = if absent(&expected_version) {
            None
        } else {
            Some(convert::u64_arg(&expected_version, "expectedVersion")?)
        };
        self.store
            .append(&id, evs, expected)
            .map(|v| v as f64)
            .map_err(err)
    }

    /// Aggregate `id`'s events, oldest first.
    pub fn load(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<Array, JsValue> {
        let id = convert::string(&id, "id")?;
        Ok(self.store.load(&id).iter().map(Value::js).collect())
    }

    /// Aggregate `id`'s version (its number of events).
    pub fn version(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<f64, JsValue> {
        let id = convert::string(&id, "id")?;
        Ok(self.store.version(&id) as f64)
    }

    /// The aggregate ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.store.ids()
    }

    /// The store's topic (keyed by aggregate id): stream it for projections.
    #[wasm_bindgen(getter)]
    pub fn topic(&self) -> Topic {
        Topic::new(
            TopicKind::Values(self.store.topic().clone()),
            self.timer.clone(),
        )
    }

    /// Aggregates over this store: `factory()` makes an empty aggregate with
    /// `apply(event)` and `handle(command)` (returning the events).
    pub fn aggregates(
        &self,
        #[wasm_bindgen(unchecked_param_type = "() => AggregateObject")] factory: JsValue,
    ) -> Result<Aggregates, JsValue> {
        let f = callback(&factory, "factory")?;
        let aggs = ringlet::Aggregates::with_init(&self.store, move || JsAggregate::new(&f));
        Ok(Aggregates { aggs })
    }
}

pub(crate) struct JsAggregate {
    obj: Value,
    /// What the factory threw (raised by the first `load` or `execute`).
    factory_error: Option<Local<JsValue>>,
}

impl Clone for JsAggregate {
    fn clone(&self) -> Self {
        JsAggregate {
            obj: self.obj.clone(),
            factory_error: self.factory_error.as_ref().map(|e| Local(e.get().clone())),
        }
    }
}

pub(crate) fn method(obj: &JsValue, name: &str) -> Result<Function, JsValue> {
    let m = js_sys::Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    convert::function(&m, &format!("the aggregate's {name}"))
}

impl JsAggregate {
    fn new(factory: &Callback) -> Self {
        let (obj, factory_error) = match factory.get().call0(&JsValue::UNDEFINED) {
            Ok(o) => (o, None),
            Err(e) => (JsValue::UNDEFINED, Some(Local(e))),
        };
        JsAggregate {
            obj: Value::new(obj),
            factory_error,
        }
    }

    fn call(&self, name: &str, arg: &JsValue) -> Result<JsValue, Local<JsValue>> {
        if let Some(e) = &self.factory_error {
            return Err(Local(e.get().clone()));
        }
        let obj = self.obj.js();
        method(&obj, name)
            .and_then(|m| m.call1(&obj, arg))
            .map_err(Local)
    }
}

impl Aggregate for JsAggregate {
    type Event = Value;
    type Command = Value;
    type Error = Local<JsValue>;

    fn apply(&mut self, event: &Value) {
        let _ = self.try_apply(event);
    }

    fn try_apply(&mut self, event: &Value) -> Result<(), Local<JsValue>> {
        self.call("apply", &event.js()).map(drop)
    }

    fn handle(&self, command: Value) -> Result<Vec<Value>, Local<JsValue>> {
        let out = self.call("handle", &command.js())?;
        if absent(&out) {
            return Ok(Vec::new());
        }
        let evs = convert::items(&out, "handle's result").map_err(Local)?;
        Ok(evs.into_iter().map(Value::new).collect())
    }
}

/// Aggregates of one kind over an event store: commands in, events out.
#[wasm_bindgen]
pub struct Aggregates {
    pub(crate) aggs: ringlet::Aggregates<JsAggregate>,
}

#[wasm_bindgen]
impl Aggregates {
    /// `{ state, version }`: the aggregate rebuilt from its events.
    #[wasm_bindgen(unchecked_return_type = "{ state: any; version: number }")]
    pub fn load(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = convert::string(&id, "id")?;
        let (a, v) = self.aggs.try_load(&id).map_err(|e| e.0)?;
        if let Some(e) = a.factory_error {
            return Err(e.0);
        }
        Ok(state_version("state", a.obj.js(), v))
    }

    /// Handles `command` on aggregate `id` and appends its events (retrying on a
    /// version conflict). Returns `{ events, version }`; throws what `handle`
    /// threw.
    #[wasm_bindgen(unchecked_return_type = "{ events: any[]; version: number }")]
    pub fn execute(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        command: JsValue,
    ) -> Result<JsValue, JsValue> {
        let id = convert::string(&id, "id")?;
        match self.aggs.execute(&id, Value::new(command)) {
            Ok((evs, v)) => {
                let arr: Array = evs.iter().map(Value::js).collect();
                Ok(state_version("events", arr.into(), v))
            }
            Err(ExecuteError::Rejected(e) | ExecuteError::Replay(e)) => Err(e.0),
            Err(ExecuteError::Store(e)) => Err(err(e)),
        }
    }
}

pub(crate) fn state_version(name: &str, v: JsValue, version: u64) -> JsValue {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&o, &JsValue::from_str(name), &v);
    let _ = js_sys::Reflect::set(&o, &JsValue::from_str("version"), &num(version));
    o.into()
}

#[wasm_bindgen]
impl Bus {
    /// The event store `name` (a `keep` topic keyed by aggregate id). Options:
    /// `partitions`, `capacity` (per partition).
    #[wasm_bindgen(js_name = eventStore)]
    pub fn event_store(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        options: Option<crate::types::EventStoreOptions>,
    ) -> Result<EventStore, JsValue> {
        let options_ = options.map(JsValue::from).unwrap_or_default();
        let name = convert::string(&name, "name")?;
        let o = option_object(&options_, "eventStore", &["partitions", "capacity"])?;
        let options = ringlet::options::TopicOptions {
            partitions: convert::opt_u32(&get(&o, "partitions")?, "partitions")?,
            capacity: convert::opt_usize(&get(&o, "capacity")?, "capacity")?,
            ..Default::default()
        };
        let store = self
            .bus
            .open_event_store::<Value>(&name, &options)
            .map_err(err)?;
        Ok(EventStore {
            store,
            timer: self.timer.clone(),
        })
    }
}
