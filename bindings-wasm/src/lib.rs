//! # ringlet-wasm: Ringlet in JavaScript
//!
//! The `ringlet` package for the browser and Node: the whole engine of the
//! [`ringlet`] crate, compiled to WebAssembly, with camelCase names, Promises and
//! generated TypeScript types. The bindings are thin: each method checks and converts
//! its arguments, calls the core and maps errors in one place (the `errors` module).
//! What stays here is JS's side of each method: argument checks in JS's terms,
//! Promises served in call order, the bus timer on `setTimeout`, JS result objects
//! and the doc comments of the `.d.ts`; the journal's refusal of writes (its values
//! are the core's `Event`s, not JS values) and a failed aggregate factory (reported
//! by the first call on what it did not make) are the only rules decided here,
//! because only a binding meets them.
//!
//! ```js
//! import init, { Bus } from "ringlet";          // Node: import { Bus } from "ringlet"
//! await init();
//! const bus = new Bus({ clock: "manual" });
//! const orders = bus.topic("orders", { partitions: 3, capacity: 4096 });
//! orders.publish({ id: 1 }, { key: "customer-42" });   // { partition, offset }
//! const sub = orders.subscribe({ start: "earliest" });
//! sub.poll();                                          // a record, or undefined
//! for await (const rec of sub) { ... }                 // ends when the topic closes
//! ```
//!
//! ## Values
//!
//! Values are JS values held by reference, never serialized: what is published is
//! what is read (`===`). Mutating an object after publishing it changes what readers
//! see. The engine releases a value when the last topic slot, queue slot, delivery or
//! record holding it is gone (`liveValues()` counts them).
//!
//! ## Never blocking, never trapping
//!
//! JS never blocks: a publish or send that would wait throws `Full` (the `…Async`
//! forms wait); `poll()` returns `undefined` when nothing is ready. Every argument is
//! checked explicitly (wasm-bindgen's release glue would coerce numbers silently):
//! a wrong type throws `TypeError`, a number out of range or not an integer throws
//! `RangeError`, an unknown option name throws `TypeError`. Errors of the engine are
//! `RingletError`s of the exported subclass their `name` names (`Full`, `Closed`,
//! `Lagged` with `partition` and `skipped`, …), so `e instanceof Full` works.
//! Nothing reachable from JS panics: the crate has no `unwrap`, `expect` or indexing
//! on the paths from JS, and a re-entrant call (a listener calling back into its
//! member) gets a `Busy` error. No JS exception unwinds through a Rust frame (that
//! would leak the WASM stack): options, getters, arrays and `Proxy` traps are read
//! through imports that catch, so the user's own exception comes back as it is; the
//! glue checks every handle before entering WASM, so a call on a freed object
//! throws `Closed` (and `free()` twice does nothing); freeing an object rejects its
//! pending calls with `Closed`. A topic or queue holds at most
//! [`ringlet::MAX_WASM_RECORDS`] records (its storage is allocated when it is
//! made): bigger ones are a `ConfigError` at once.
//!
//! ## Time
//!
//! A bus runs on the system clock (`Date.now()`) or a manual clock
//! (`new Bus({ clock: "manual" })`, moved by `bus.advance(ms)`, which fires every
//! transition that falls due). On the system clock the bus arms **one** `setTimeout`
//! for its next deadline ([`ringlet::Bus::next_deadline`]) whenever a call may have
//! added one, and fires what is due when it expires — Promises waiting for a delayed
//! message or a visibility timeout resolve then, never by polling.
//!
//! ## Decisions (where the contract is silent)
//!
//! - `await sub.next()` rejects with `Lagged` like `poll()`; `for await` counts gaps in
//!   `skipped` (unless `onLag: "error"`), and ends when the topic closes.
//! - Two `next()` (or `receive()`) calls pending on one reader are served in call order.
//! - Durations are milliseconds (`visibilityTimeoutMs`, `maxAgeMs`, `delayMs`),
//!   timestamps are ms since the epoch, offsets and timestamps are numbers (exact up to
//!   2^53).
//! - Text keys come back as strings, byte keys (`Uint8Array`) as `Uint8Array`;
//!   headers are `[name, Uint8Array]` pairs (strings are accepted and UTF-8 encoded).
//! - `queue.length` counts ready messages (the core's `len`); `figures()` has all.
//! - A `Delivery` settles once: a second `ack`/`nack`/`reject` throws
//!   `AlreadySettled`. Freeing an unsettled delivery nacks it.
//! - The journal (`bus.journal()`) is a read-only topic whose values are plain objects.
//! - A JS exception thrown by a group listener (`onAssign`/`onRevoke`) propagates from
//!   the call that fired it, after the engine's part of that call completed.
//! - Streams (`topic.stream()`, `bus.topology()`, `bus.runUntilIdle()`): the
//!   functions get plain record objects; `branch(...preds)` takes predicates as
//!   arguments; windows take milliseconds (`{ tumblingMs }`, `{ hoppingMs,
//!   advanceMs }`, `{ sessionGapMs }`, `graceMs`, `retentionMs`); tables answer
//!   `get`/`has`/`size`/`entries()`, a missing key is `undefined`. A function that
//!   throws fails its record: `runUntilIdle()` throws an `Error` named
//!   `StreamError` whose `cause` is the thrown value and `record` the record. A
//!   function returning the wrong kind of value (a `keyBy` key that is not a
//!   string or `Uint8Array`, a `flatMap` result that is not iterable) fails its
//!   record with a `TypeError` as `cause`. There is no `spawn` (no threads).
//! - Compacted topics (`compacted: true`): `null` is the tombstone. Changelog
//!   topics hold the engine's own records (counts as integers, windows): they are
//!   listed, but read through their table, not `getTopic` (`TypeMismatch`).
//! - Event stores: `append(id, events, expectedVersion?)`; aggregates are JS
//!   objects with `apply(event)` and `handle(command)` made by a factory per load;
//!   a throw in `handle` is rethrown as is, one in `apply` when the load ends.
//! - The crate's code is compiled for `wasm32` only (a JS value is not `Send`; the
//!   single-threaded WASM target makes it safe to hold one in the engine); on other
//!   targets the crate is empty.

#![cfg(target_arch = "wasm32")]
// Classes are opaque handles to JS; their state is the engine's (`snapshot()`).
#![allow(missing_debug_implementations)]

#[cfg(target_feature = "atomics")]
compile_error!("ringlet-wasm holds JS values in the engine and needs single-threaded WASM");

pub mod errors;

mod bus;
mod convert;
mod eventstore;
mod faults;
mod group;
mod pattern;
mod queue;
mod reader;
mod records;
mod schema;
mod streams;
mod tables;
mod timer;
mod topic;
mod types;

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

pub use bus::Bus;
pub use eventstore::{Aggregates, EventStore};
pub use group::{Group, Member, ShareGroup, ShareMember};
pub use queue::{Delivery, Queue};
pub use streams::{GroupedStream, Stream, Topology, TopologyDescription, WindowedGroupedStream};
pub use tables::{Table, WindowedTable};
pub use topic::{Subscription, Topic};

/// A JS value held by the engine (by reference: cloning shares it).
#[derive(Clone)]
pub struct Value(Rc<Held>);

struct Held(JsValue);

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

impl Value {
    /// Holds `v`.
    pub fn new(v: JsValue) -> Self {
        LIVE.with(|n| n.set(n.get() + 1));
        Value(Rc::new(Held(v)))
    }

    /// The JS value (another reference to the same object).
    pub fn js(&self) -> JsValue {
        self.0 .0.clone()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        LIVE.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Value(..)")
    }
}

// SAFETY: `Value` is only compiled for wasm32 without the `atomics` feature (see the
// `compile_error!` above), where a module instance has exactly one thread:
// `std::thread::spawn` always fails there, so no `Value` (nor its `Rc`) can be
// reached from two threads. The engine needs `Send + Sync` only because it is
// generic over values that native callers share between threads.
unsafe impl Send for Value {}
// SAFETY: as for `Send` above: one thread, so no concurrent access is possible.
unsafe impl Sync for Value {}

/// How many distinct JS values the engine holds now, over every bus (records in
/// topics, messages in queues, deliveries and records not yet freed). For leak checks.
#[wasm_bindgen(js_name = liveValues)]
pub fn live_values() -> usize {
    LIVE.with(|n| n.get())
}

/// A value the engine needs to be `Send` that lives only on the module's one thread
/// (listener queues).
pub(crate) struct Local<T>(pub(crate) T);

impl<T> Local<T> {
    pub(crate) fn get(&self) -> &T {
        &self.0
    }
}

// SAFETY: as for `Value`: wasm32 without `atomics` has one thread, so a `Local` is
// never reached from two threads.
unsafe impl<T> Send for Local<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Local<T> {}

/// Serves the Promises of one reader in call order: a call made while another is
/// pending waits for it, so two `next()`s never race for one registration.
/// Held by an object with pending calls: dropped (the object freed), it rejects
/// them with `Closed` at once, dropping their futures (and so their registrations
/// in the engine).
#[derive(Default)]
pub(crate) struct Freed {
    flag: Rc<Cell<bool>>,
    waker: Rc<std::cell::RefCell<Option<std::task::Waker>>>,
}

impl Freed {
    /// `f`, ended with `Closed` once this is dropped.
    pub(crate) fn guard<F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = Result<JsValue, JsValue>>
    where
        F: std::future::Future<Output = Result<JsValue, JsValue>>,
    {
        let (flag, slot) = (self.flag.clone(), self.waker.clone());
        async move {
            let mut f = std::pin::pin!(f);
            std::future::poll_fn(|cx| {
                if flag.get() {
                    return std::task::Poll::Ready(Err(errors::named(
                        "Closed",
                        "it was freed (free()) while this call was pending",
                        &[],
                    )));
                }
                let r = f.as_mut().poll(cx);
                if r.is_pending() {
                    *slot.borrow_mut() = Some(cx.waker().clone());
                }
                r
            })
            .await
        }
    }
}

impl Drop for Freed {
    fn drop(&mut self) {
        self.flag.set(true);
        let waker = self.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

#[derive(Default)]
pub(crate) struct Serial {
    tail: std::cell::RefCell<Option<(js_sys::Promise, Rc<Cell<bool>>)>>,
    waker: Rc<std::cell::RefCell<Option<std::task::Waker>>>,
    freed: Freed,
}

impl Serial {
    /// Whether a Promise of this reader is still pending.
    pub(crate) fn busy(&self) -> bool {
        matches!(&*self.tail.borrow(), Some((_, done)) if !done.get())
    }

    /// The waker slot polls record their waker in (so `close()` can wake them).
    pub(crate) fn waker_slot(&self) -> Rc<std::cell::RefCell<Option<std::task::Waker>>> {
        self.waker.clone()
    }

    /// Wakes the pending call (after a close).
    pub(crate) fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Runs `f` after the pending calls; returns its Promise.
    pub(crate) fn run<F>(&self, f: F) -> js_sys::Promise
    where
        F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        let prev = self.tail.borrow_mut().take().filter(|(_, d)| !d.get());
        let done = Rc::new(Cell::new(false));
        let d2 = done.clone();
        let guarded = self.freed.guard(f);
        let p = wasm_bindgen_futures::future_to_promise(async move {
            if let Some((p, _)) = prev {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
            }
            let r = guarded.await;
            d2.set(true);
            r
        });
        *self.tail.borrow_mut() = Some((p.clone(), done));
        p
    }
}

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = installAsyncIterator)]
    fn install_async_iterator(obj: &JsValue);
}

/// `obj` as JS, its class given `for await` (through its `iterNext()`).
pub(crate) fn iterable(obj: impl Into<JsValue>) -> JsValue {
    let v = obj.into();
    install_async_iterator(&v);
    v
}
