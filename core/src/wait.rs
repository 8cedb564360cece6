//! Waiting without polling: notifiers that wake parked threads and async tasks, and
//! the bus timer that wakes them when a bus-clock deadline falls due.
//!
//! A [`Notifier`] keeps an atomic count of registered waiters, so the side that makes
//! progress pays one load when nobody waits (crossbeam's `SyncWaker` habit). The
//! protocol is Dekker's: a waiter registers (SeqCst), then re-checks the condition
//! (SeqCst loads) before sleeping; the other side changes the state (SeqCst) and then
//! loads the count (SeqCst). One of the two sees the other. Wakers run after the list
//! lock is released.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};
use std::thread::Thread;

use crate::clock::{Clock, Timers};
use crate::sync::AtomicUsize;

/// Waiters of one condition ("data arrived", "room freed").
#[derive(Default)]
pub(crate) struct Notifier {
    count: AtomicUsize,
    list: crate::sync::Mutex<Vec<(u64, Waker)>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("waiters", &self.count.load(Ordering::Relaxed))
            .finish()
    }
}

impl Notifier {
    /// Registers (or replaces) `id`'s waker. The caller re-checks its condition next.
    ///
    /// A waker's `clone` and `drop` are user code (a waker may publish when it is
    /// dropped): the waker is cloned before the lock is taken, and the one it
    /// replaces is dropped after it is released.
    pub(crate) fn register(&self, id: u64, waker: &Waker) {
        let new = waker.clone();
        let unused = {
            let mut l = self.list.lock();
            let unused = match l.iter_mut().find(|(i, _)| *i == id) {
                Some((_, w)) if w.will_wake(waker) => Some(new),
                Some((_, w)) => Some(std::mem::replace(w, new)),
                None => {
                    l.push((id, new));
                    None
                }
            };
            self.count.store(l.len(), Ordering::SeqCst);
            unused
        };
        crate::sync::dekker_fence();
        drop(unused);
    }

    /// Removes `id`'s waker, if still registered (dropped after the lock is
    /// released).
    pub(crate) fn unregister(&self, id: u64) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let removed = {
            let mut l = self.list.lock();
            let removed = l.iter().position(|(i, _)| *i == id).map(|p| l.remove(p));
            self.count.store(l.len(), Ordering::SeqCst);
            removed
        };
        drop(removed);
    }

    /// Wakes every waiter, if there is any. Call after the state change is visible.
    #[inline]
    pub(crate) fn notify(&self) {
        crate::sync::dekker_fence();
        if self.count.load(Ordering::SeqCst) != 0 {
            self.notify_all();
        }
    }

    #[cold]
    fn notify_all(&self) {
        let woken = {
            let mut l = self.list.lock();
            self.count.store(0, Ordering::SeqCst);
            std::mem::take(&mut *l)
        };
        for (_, w) in woken {
            w.wake();
        }
    }
}

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker that unparks the current thread.
pub(crate) fn thread_waker() -> Waker {
    Waker::from(Arc::new(ThreadWaker(std::thread::current())))
}

/// Wakes tasks at bus-clock deadlines: a manual clock fires them when advanced; the
/// system clock has one timer thread per bus, started on first use, that sleeps until
/// the earliest deadline (never polls) and stops when the bus is dropped.
pub(crate) struct BusTimer {
    clock: Clock,
    system: Option<Arc<SystemTimer>>,
}

struct SystemTimer {
    timers: Timers,
    cv: parking_lot::Condvar,
    lock: parking_lot::Mutex<()>,
    started: AtomicBool,
    stop: AtomicBool,
}

impl std::fmt::Debug for BusTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusTimer")
            .field("clock", &self.clock)
            .finish()
    }
}

impl BusTimer {
    pub(crate) fn new(clock: Clock) -> Self {
        let system = match clock {
            Clock::System => Some(Arc::new(SystemTimer {
                timers: Timers::default(),
                cv: parking_lot::Condvar::new(),
                lock: parking_lot::Mutex::new(()),
                started: AtomicBool::new(false),
                stop: AtomicBool::new(false),
            })),
            Clock::Manual(_) => None,
        };
        BusTimer { clock, system }
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Wakes `waker` once the bus clock reaches `deadline` ms (at once if it has).
    pub(crate) fn wake_at(&self, deadline: i64, waiter: u64, waker: &Waker) {
        if self.clock.now_ms() >= deadline {
            waker.wake_by_ref();
            return;
        }
        match (&self.clock, &self.system) {
            (Clock::Manual(m), _) => {
                m.timers().wake_at(deadline, waiter, waker);
                // The clock may have moved between the check and the registration.
                m.timers().fire_due(m.now_ms());
            }
            (Clock::System, Some(s)) => {
                s.timers.wake_at(deadline, waiter, waker);
                s.ensure_thread();
                let _g = s.lock.lock();
                s.cv.notify_one();
            }
            (Clock::System, None) => waker.wake_by_ref(),
        }
    }

    /// Schedules `waker` for `deadline` without ever waking it on this thread: a
    /// manual clock's `advance` fires it, or the system clock's timer thread (at
    /// once if the deadline has passed). Call it holding any lock the waker takes.
    pub(crate) fn schedule(&self, deadline: i64, waiter: u64, waker: &Waker) {
        match (&self.clock, &self.system) {
            (Clock::Manual(m), _) => m.timers().wake_at(deadline, waiter, waker),
            (Clock::System, Some(s)) => {
                s.timers.wake_at(deadline, waiter, waker);
                s.ensure_thread();
                let _g = s.lock.lock();
                s.cv.notify_one();
            }
            (Clock::System, None) => {}
        }
    }

    /// Registers `waker` for `deadline` without waking it now even if the clock has
    /// passed it (the caller handles that). Only manual clocks keep such
    /// registrations; with the system clock this does nothing.
    pub(crate) fn register_at(&self, deadline: i64, waiter: u64, waker: &Waker) {
        if let Clock::Manual(m) = &self.clock {
            m.timers().wake_at(deadline, waiter, waker);
        }
    }

    /// Parks the current thread until it is unparked, `deadline` (real time)
    /// passes, or the bus clock reaches `due`: on the system clock the park's
    /// timeout covers `due`; a manual clock's `advance` unparks it through `waker`
    /// (registered for `waiter`; call [`BusTimer::cancel`] afterwards).
    pub(crate) fn park(
        &self,
        waiter: u64,
        waker: &Waker,
        due: Option<i64>,
        deadline: Option<std::time::Instant>,
    ) {
        let mut sleep = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        if let Some(at) = due {
            match &self.clock {
                Clock::System => {
                    let ms = (at.saturating_sub(self.clock.now_ms())).max(1) as u64;
                    let d = std::time::Duration::from_millis(ms);
                    sleep = Some(sleep.map_or(d, |s| s.min(d)));
                }
                Clock::Manual(_) => self.wake_at(at, waiter, waker),
            }
        }
        match sleep {
            Some(d) => std::thread::park_timeout(d),
            None => std::thread::park(),
        }
    }

    /// The earliest registered deadline, whichever the clock.
    pub(crate) fn next_deadline(&self) -> Option<i64> {
        match (&self.clock, &self.system) {
            (Clock::Manual(m), _) => m.timers().next_deadline(),
            (_, Some(s)) => s.timers.next_deadline(),
            _ => None,
        }
    }

    /// Wakes every registered deadline the clock has reached.
    pub(crate) fn fire_due(&self) {
        let now = self.clock.now_ms();
        match (&self.clock, &self.system) {
            (Clock::Manual(m), _) => m.timers().fire_due(now),
            (_, Some(s)) => s.timers.fire_due(now),
            _ => {}
        }
    }

    /// Forgets `waiter`'s deadline.
    pub(crate) fn cancel(&self, waiter: u64) {
        match (&self.clock, &self.system) {
            (Clock::Manual(m), _) => m.timers().cancel(waiter),
            (_, Some(s)) => s.timers.cancel(waiter),
            _ => {}
        }
    }
}

impl Drop for BusTimer {
    fn drop(&mut self) {
        if let Some(s) = &self.system {
            s.stop.store(true, Ordering::SeqCst);
            let _g = s.lock.lock();
            s.cv.notify_all();
        }
    }
}

impl SystemTimer {
    fn ensure_thread(self: &Arc<Self>) {
        // The browser has no threads: the embedder fires deadlines
        // (`Bus::next_deadline` / `Bus::fire_due`).
        if cfg!(all(target_arch = "wasm32", target_os = "unknown")) {
            return;
        }
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<SystemTimer> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("ringlet-timer".into())
            .spawn(move || {
                while let Some(s) = weak.upgrade() {
                    if s.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let now = Clock::System.now_ms();
                    s.timers.fire_due(now);
                    let mut g = s.lock.lock();
                    if s.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    match s.timers.next_deadline() {
                        Some(d) if d <= Clock::System.now_ms() => {}
                        Some(d) => {
                            let wait = std::time::Duration::from_millis((d - now).max(1) as u64);
                            s.cv.wait_for(&mut g, wait);
                        }
                        None => s.cv.wait(&mut g),
                    }
                }
            });
        if spawned.is_err() {
            // No threads (e.g. the browser): deadlines are fired by the embedder.
            self.started.store(false, Ordering::Release);
        }
    }
}
