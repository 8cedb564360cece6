//! `PatternSubscription`: the core's pattern subscriptions and pattern group
//! members for JS. Records carry `topic`.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::Promise;
use ringlet::{
    PatternMember, PatternSubscription as CorePattern, RecvError, TopicRecord, TryRecvError,
};
use wasm_bindgen::prelude::*;

use crate::convert::{self, option_object};
use crate::errors::{busy, err, type_error};
use crate::reader::{self, Host, Read, Reading};
use crate::records::{plain, record_js};
use crate::timer::Timer;
use crate::{iterable, Serial, Value};

/// A record read by a pattern, as JS: the record's object with `topic` set.
fn read(r: TopicRecord<Value>) -> Read {
    let at = (r.record.partition, r.record.offset);
    let js = record_js(r.record);
    let _ = js_sys::Reflect::set(
        &js,
        &JsValue::from_str("topic"),
        &JsValue::from_str(&r.topic),
    );
    Read { js, at }
}

/// What a pattern reader does beyond reading.
trait Patterned: Reading {
    fn topics(&mut self) -> Vec<String>;
    fn not_read(&mut self) -> Vec<(String, String)>;
    fn lag(&mut self) -> u64;
    fn skipped(&self) -> u64;
    fn close(&mut self);
    fn commit(&mut self) -> Result<(), JsValue>;
    fn assignment(&mut self) -> Vec<(String, Vec<u32>)>;
}

/// One of the core's pattern readers (wrapped: they are not `Reader`s, whose
/// records have no topic).
struct Pat<R>(R);

/// The core's two pattern readers share these methods (not a trait there).
macro_rules! pattern_reader {
    ($ty:ty, $commit:expr, $assignment:expr) => {
        impl Reading for Pat<$ty> {
            fn try_step(&mut self, iterate: bool) -> Result<Option<Read>, TryRecvError> {
                match self.0.try_recv() {
                    Ok(r) => Ok(Some(read(r))),
                    Err(TryRecvError::Closed) if iterate => Ok(None),
                    Err(e) => Err(e),
                }
            }
            fn poll_step(
                &mut self,
                cx: &mut Context<'_>,
                iterate: bool,
            ) -> Poll<Result<Option<Read>, RecvError>> {
                match self.0.poll_recv(cx) {
                    Poll::Ready(Ok(r)) => Poll::Ready(Ok(Some(read(r)))),
                    Poll::Ready(Err(RecvError::Closed)) if iterate => Poll::Ready(Ok(None)),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                }
            }
            fn try_batch(&mut self, max: usize) -> Result<Vec<Read>, TryRecvError> {
                Ok(self.0.try_recv_batch(max)?.into_iter().map(read).collect())
            }
        }

        impl Patterned for Pat<$ty> {
            fn topics(&mut self) -> Vec<String> {
                <$ty>::topics(&mut self.0)
            }
            fn not_read(&mut self) -> Vec<(String, String)> {
                <$ty>::not_read(&mut self.0)
                    .into_iter()
                    .map(|(n, e)| (n, e.to_string()))
                    .collect()
            }
            fn lag(&mut self) -> u64 {
                <$ty>::lag(&mut self.0)
            }
            fn skipped(&self) -> u64 {
                <$ty>::skipped(&self.0)
            }
            fn close(&mut self) {
                <$ty>::close(&mut self.0);
            }
            fn commit(&mut self) -> Result<(), JsValue> {
                let f: fn(&mut $ty) -> Result<(), JsValue> = $commit;
                f(&mut self.0)
            }
            fn assignment(&mut self) -> Vec<(String, Vec<u32>)> {
                let f: fn(&mut $ty) -> Vec<(String, Vec<u32>)> = $assignment;
                f(&mut self.0)
            }
        }
    };
}

pattern_reader!(
    CorePattern<Value>,
    |_| {
        Err(type_error(
        "commit() is for a group member: this pattern subscription has no group (use bus.groupPattern)"
    ))
    },
    |_| Vec::new()
);
pattern_reader!(PatternMember<Value>, |m| m.commit().map_err(err), |m| m
    .assignment());

#[derive(Clone)]
struct PatternHost {
    inner: Rc<RefCell<dyn Patterned>>,
    timer: Rc<Timer>,
}

impl Host for PatternHost {
    type State = dyn Patterned;
    fn reader(&self) -> &Rc<RefCell<dyn Patterned>> {
        &self.inner
    }
    fn busy(&self) -> JsValue {
        busy("the pattern subscription")
    }
    fn timer(&self) -> &Rc<Timer> {
        &self.timer
    }
}

/// A reader of every topic whose whole name matches a regular expression,
/// including topics created later (Kafka's regex subscription); each record has
/// `topic`. Made by `bus.subscribePattern` or, as a consumer group member,
/// `bus.groupPattern`.
#[wasm_bindgen]
pub struct PatternSubscription {
    host: PatternHost,
    serial: Serial,
    pattern: String,
    group: Option<String>,
}

impl PatternSubscription {
    pub(crate) fn subscribe(
        bus: &ringlet::Bus,
        pattern: &JsValue,
        options: &JsValue,
        timer: Rc<Timer>,
    ) -> Result<JsValue, JsValue> {
        let pattern = convert::string(pattern, "pattern")?;
        let o = option_object(options, "subscribePattern", &["start"])?;
        let (start, _) = convert::reader_options(&o, ringlet::Start::Latest)?;
        let sub = bus
            .subscribe_pattern::<Value>(&pattern, start)
            .map_err(err)?;
        Ok(Self::made(
            Rc::new(RefCell::new(Pat(sub))),
            timer,
            pattern,
            None,
        ))
    }

    pub(crate) fn member(
        bus: &ringlet::Bus,
        pattern: &JsValue,
        name: &JsValue,
        options: &JsValue,
        timer: Rc<Timer>,
    ) -> Result<JsValue, JsValue> {
        let pattern = convert::string(pattern, "pattern")?;
        let name = convert::string(name, "name")?;
        let config = crate::group::options(options)?.apply(ringlet::GroupConfig::default());
        let m = bus
            .group_pattern_with::<Value>(&pattern, &name, config)
            .map_err(err)?;
        Ok(Self::made(
            Rc::new(RefCell::new(Pat(m))),
            timer,
            pattern,
            Some(name),
        ))
    }

    fn made(
        inner: Rc<RefCell<dyn Patterned>>,
        timer: Rc<Timer>,
        pattern: String,
        group: Option<String>,
    ) -> JsValue {
        iterable(PatternSubscription {
            host: PatternHost { inner, timer },
            serial: Serial::default(),
            pattern,
            group,
        })
    }
}

#[wasm_bindgen]
impl PatternSubscription {
    /// The pattern as given.
    #[wasm_bindgen(getter)]
    pub fn pattern(&self) -> String {
        self.pattern.clone()
    }

    /// The consumer group's name (`undefined` for a plain pattern subscription).
    #[wasm_bindgen(getter)]
    pub fn group(&self) -> Option<String> {
        self.group.clone()
    }

    /// The next record of any matching topic (its `topic` says which), or
    /// `undefined` when none is ready. Never waits. Throws `Closed` once closed.
    #[wasm_bindgen(unchecked_return_type = "RingletRecord & { topic: string } | undefined")]
    pub fn poll(&self) -> Result<JsValue, JsValue> {
        reader::poll(&self.host)
    }

    /// Up to `max` (default 1024) ready records, possibly none.
    #[wasm_bindgen(js_name = pollMany, unchecked_return_type = "(RingletRecord & { topic: string })[]")]
    pub fn poll_many(&self, max_opt: Option<crate::types::Num>) -> Result<JsValue, JsValue> {
        let max = max_opt.map(JsValue::from).unwrap_or_default();
        reader::poll_many(&self.host, convert::batch_max(&max)?)
    }

    /// Resolves to the next record of any matching topic, waiting for one (or
    /// for a matching topic to be created); rejects with `Closed` at the end.
    #[wasm_bindgen(unchecked_return_type = "Promise<RingletRecord & { topic: string }>")]
    pub fn next(&self) -> Promise {
        reader::next_promise(&self.host, &self.serial, false)
    }

    /// The step behind `for await`: the next record, or `undefined` at the end.
    #[wasm_bindgen(js_name = iterNext, unchecked_return_type = "Promise<(RingletRecord & { topic: string }) | undefined>")]
    pub fn iter_next(&self) -> Promise {
        reader::next_promise(&self.host, &self.serial, true)
    }

    /// The names of the topics read now, sorted.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn topics(&self) -> Result<JsValue, JsValue> {
        let v = self.host.with(|s| s.topics())?;
        Ok(plain(&v))
    }

    /// Matching topics that are not read, as `[name, reason]` pairs.
    #[wasm_bindgen(js_name = notRead, unchecked_return_type = "[string, string][]")]
    pub fn not_read(&self) -> Result<JsValue, JsValue> {
        let v = self.host.with(|s| s.not_read())?;
        Ok(plain(&v))
    }

    /// Records of the topics read that are not read yet, in all.
    #[wasm_bindgen(getter)]
    pub fn lag(&self) -> Result<f64, JsValue> {
        self.host.with(|s| s.lag() as f64)
    }

    /// Offsets passed over because their records were evicted first.
    #[wasm_bindgen(getter)]
    pub fn skipped(&self) -> Result<f64, JsValue> {
        self.host.with(|s| s.skipped() as f64)
    }

    /// Commits what was returned on every topic read (a group member only).
    pub fn commit(&self) -> Result<(), JsValue> {
        self.host.with(|s| s.commit())?
    }

    /// The partitions owned per topic (a group member; `{}` otherwise).
    #[wasm_bindgen(unchecked_return_type = "Record<string, number[]>")]
    pub fn assignment(&self) -> Result<JsValue, JsValue> {
        let v: std::collections::BTreeMap<String, Vec<u32>> =
            self.host.with(|s| s.assignment())?.into_iter().collect();
        Ok(plain(&v))
    }

    /// Stops reading: reads then throw `Closed` and a pending `next()` rejects.
    pub fn close(&self) -> Result<(), JsValue> {
        self.host.with(|s| s.close())?;
        self.serial.wake();
        Ok(())
    }
}
