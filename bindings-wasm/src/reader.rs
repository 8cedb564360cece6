//! What subscriptions and group members share: reads that never wait, and the
//! Promises behind `next()` and `for await`, over the core's
//! [`Reader`](ringlet::Reader) (its iteration rule: gaps passed over
//! unless `onLag: "error"`, `undefined` at the end).

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::{Array, Promise};
use ringlet::journal::Event;
use ringlet::{Reader, Record, RecvError, TryRecvError};
use wasm_bindgen::prelude::*;

use crate::errors::err;
use crate::records::{event_record_js, record_js};
use crate::timer::{Rearming, Timer};
use crate::{Serial, Value};

/// A record read, as JS, with the place it was read at (to put it back).
pub(crate) struct Read {
    pub(crate) js: JsValue,
    pub(crate) at: (u32, u64),
}

/// A value type whose records JS gets as plain objects.
pub(crate) trait RecordJs: Sized {
    fn js(r: Record<Self>) -> JsValue;
}

impl RecordJs for Value {
    fn js(r: Record<Self>) -> JsValue {
        record_js(r)
    }
}

impl RecordJs for Event {
    fn js(r: Record<Self>) -> JsValue {
        event_record_js(r)
    }
}

fn read<T: RecordJs>(r: Record<T>) -> Read {
    Read {
        at: (r.partition, r.offset),
        js: T::js(r),
    }
}

/// A core reader with its records as JS (object-safe, so one class can hold a
/// subscription of values or of journal events).
pub(crate) trait Reading {
    /// One record (`iterate`: one step of an iteration) without waiting.
    fn try_step(&mut self, iterate: bool) -> Result<Option<Read>, TryRecvError>;
    fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
        iterate: bool,
    ) -> Poll<Result<Option<Read>, RecvError>>;
    fn try_batch(&mut self, max: usize) -> Result<Vec<Read>, TryRecvError>;
}

impl<R: Reader> Reading for R
where
    R::Value: RecordJs,
{
    fn try_step(&mut self, iterate: bool) -> Result<Option<Read>, TryRecvError> {
        let r = if iterate {
            self.try_next()?
        } else {
            Some(self.try_recv()?)
        };
        Ok(r.map(read))
    }

    fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
        iterate: bool,
    ) -> Poll<Result<Option<Read>, RecvError>> {
        let r = if iterate {
            self.poll_next_item(cx)
        } else {
            self.poll_recv(cx).map(|r| r.map(Some))
        };
        r.map(|r| r.map(|r| r.map(read)))
    }

    fn try_batch(&mut self, max: usize) -> Result<Vec<Read>, TryRecvError> {
        Ok(self.try_recv_batch(max)?.into_iter().map(read).collect())
    }
}

/// A JS class that reads: how it reaches its reader, and what runs after each
/// read (a member's rebalance listeners, which may refuse what was read).
pub(crate) trait Host: Clone + Unpin + 'static {
    type State: Reading + ?Sized;

    /// The reader, borrowed for one call (`Busy` while a call holds it).
    fn reader(&self) -> &Rc<RefCell<Self::State>>;

    /// Runs after a read; an error is thrown instead of the records in `read`
    /// (the host puts them back first).
    fn after(&self, _read: &[(u32, u64)]) -> Result<(), JsValue> {
        Ok(())
    }

    /// Runs after each call that reached the reader (a member re-arms the bus
    /// timer: the call may have set a deadline).
    fn after_call(&self) {}

    fn busy(&self) -> JsValue;
    fn timer(&self) -> &Rc<Timer>;

    fn with<R>(&self, f: impl FnOnce(&mut Self::State) -> R) -> Result<R, JsValue> {
        let r = {
            let mut s = self.reader().try_borrow_mut().map_err(|_| self.busy())?;
            f(&mut s)
        };
        self.after_call();
        Ok(r)
    }
}

fn places<'a>(read: impl IntoIterator<Item = &'a Read>) -> Vec<(u32, u64)> {
    read.into_iter().map(|r| r.at).collect()
}

/// The next record, or `undefined` when none is ready.
pub(crate) fn poll(h: &impl Host) -> Result<JsValue, JsValue> {
    let r = h.with(|s| s.try_step(false))?;
    h.after(&places(r.iter().flatten()))?;
    match r {
        Ok(r) => Ok(r.map_or(JsValue::UNDEFINED, |r| r.js)),
        Err(TryRecvError::Empty) => Ok(JsValue::UNDEFINED),
        Err(e) => Err(err(e)),
    }
}

/// Up to `max` ready records, possibly none.
pub(crate) fn poll_many(h: &impl Host, max: usize) -> Result<JsValue, JsValue> {
    let r = h.with(|s| s.try_batch(max))?;
    h.after(&places(r.iter().flatten()))?;
    match r {
        Ok(v) => Ok(v.into_iter().map(|r| r.js).collect::<Array>().into()),
        Err(TryRecvError::Empty) => Ok(Array::new().into()),
        Err(e) => Err(err(e)),
    }
}

/// `next()` (`iterate: false`) or a step of `for await`: at once when a record
/// is ready and no call is pending, else a Promise queued behind the pending
/// ones.
pub(crate) fn next_promise(h: &impl Host, serial: &Serial, iterate: bool) -> Promise {
    if !serial.busy() {
        let r = match h.with(|s| s.try_step(iterate)) {
            Ok(r) => r,
            Err(e) => return Promise::reject(&e),
        };
        if let Err(e) = h.after(&places(r.iter().flatten())) {
            return Promise::reject(&e);
        }
        match r {
            Ok(r) => return Promise::resolve(&r.map_or(JsValue::UNDEFINED, |r| r.js)),
            Err(TryRecvError::Empty) => {}
            Err(e) => return Promise::reject(&err(e)),
        }
    }
    let h = h.clone();
    let slot = serial.waker_slot();
    let timer = h.timer().clone();
    let fut = std::future::poll_fn(move |cx| {
        let r = {
            let Ok(mut s) = h.reader().try_borrow_mut() else {
                return Poll::Ready(Err(h.busy()));
            };
            s.poll_step(cx, iterate)
        };
        let read = match &r {
            Poll::Ready(Ok(Some(r))) => vec![r.at],
            _ => vec![],
        };
        h.after(&read)?;
        match r {
            Poll::Pending => {
                *slot.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
            Poll::Ready(Ok(r)) => Poll::Ready(Ok(r.map_or(JsValue::UNDEFINED, |r| r.js))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(err(e))),
        }
    });
    serial.run(Rearming { fut, timer })
}
