//! The one `setTimeout` that fires a bus's deadlines on the system clock, and the
//! future wrapper that re-arms it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Fires the bus's deadlines on the system clock: one `setTimeout`, armed for the
/// earliest deadline whenever a call may have added one. A manual clock needs none
/// (`advance` fires them).
pub(crate) struct Timer {
    bus: ringlet::Bus,
    manual: bool,
    state: RefCell<Armed>,
}

#[derive(Default)]
struct Armed {
    at: Option<(i64, JsValue)>,
    fire: Option<Closure<dyn FnMut()>>,
}

impl Timer {
    pub(crate) fn new(bus: ringlet::Bus, manual: bool) -> Rc<Self> {
        Rc::new_cyclic(|weak: &Weak<Timer>| {
            let weak = weak.clone();
            let fire = (!manual).then(|| {
                Closure::<dyn FnMut()>::new(move || {
                    if let Some(t) = weak.upgrade() {
                        t.fired();
                    }
                })
            });
            Timer {
                bus,
                manual,
                state: RefCell::new(Armed { at: None, fire }),
            }
        })
    }

    /// Arms the timeout for the bus's next deadline if it is earlier than the armed
    /// one. Cheap when nothing changed.
    pub(crate) fn rearm(&self) {
        if self.manual {
            return;
        }
        let Some(next) = self.bus.next_deadline() else {
            return;
        };
        let Ok(mut s) = self.state.try_borrow_mut() else {
            return;
        };
        if matches!(&s.at, Some((at, _)) if *at <= next) {
            return;
        }
        if let Some((_, id)) = s.at.take() {
            clear_timeout(&id);
        }
        let Some(fire) = &s.fire else { return };
        // Hosts run a longer delay at once (Node after 1 ms): arm at most the
        // longest they take; firing early finds nothing due and arms again.
        const LONGEST_MS: i64 = (1 << 31) - 1;
        let delay = next.saturating_sub(self.bus.now_ms()).clamp(0, LONGEST_MS) as f64;
        let id = set_timeout(fire.as_ref().unchecked_ref(), delay);
        s.at = Some((next, id));
    }

    fn fired(&self) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.at = None;
        }
        self.bus.fire_due();
        self.rearm();
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some((_, id)) = self.state.get_mut().at.take() {
            clear_timeout(&id);
        }
    }
}

/// A future that re-arms the bus timer after each poll (a poll may have registered
/// a deadline).
pub(crate) struct Rearming<F> {
    pub(crate) fut: F,
    pub(crate) timer: Rc<Timer>,
}

impl<F: Future + Unpin> Future for Rearming<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = Pin::new(&mut self.fut).poll(cx);
        self.timer.rearm();
        r
    }
}
