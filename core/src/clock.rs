//! The bus clock: what every time in the semantics reads.
//!
//! * [`Clock::System`] (the default): wall-clock milliseconds since the Unix epoch.
//!   On Linux it reads `CLOCK_REALTIME_COARSE` (a few nanoseconds instead of ~30 for
//!   a precise read), so **timestamps have the kernel tick's resolution: 1–4 ms**
//!   ([`Clock::resolution_ms`] tells). Elsewhere it reads `SystemTime`; in the browser
//!   (`wasm32-unknown-unknown`) it reads `Date.now()`.
//! * [`ManualClock`]: starts at 0 ms (or a given start) and moves only when
//!   [`ManualClock::advance`] is called, which fires every transition that falls due,
//!   in deadline order, ties in registration order.
//!
//! Call timeouts (`recv_timeout`, `publish_timeout`) are real elapsed time, whatever
//! the clock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use parking_lot::Mutex;

/// A bus clock. Build a bus with one through [`crate::BusBuilder::clock`].
///
/// # Examples
///
/// ```
/// use ringlet::{Clock, ManualClock};
/// let now = Clock::System.now_ms();
/// assert!(now > 1_600_000_000_000);
/// let manual = ManualClock::starting_at(5);
/// assert_eq!(Clock::from(manual).now_ms(), 5);
/// ```
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// Wall-clock time (see the module docs for its resolution).
    #[default]
    System,
    /// Time that moves only when advanced by hand.
    Manual(ManualClock),
}

impl Clock {
    /// Milliseconds since the Unix epoch (or since the manual clock's zero).
    #[inline]
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => system_now_ms(),
            Clock::Manual(m) => m.now_ms(),
        }
    }

    /// The resolution of [`Clock::now_ms`] in milliseconds (1 for a manual clock).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ringlet::Clock::System.resolution_ms() >= 1);
    /// ```
    pub fn resolution_ms(&self) -> i64 {
        match self {
            Clock::System => system_resolution_ms(),
            Clock::Manual(_) => 1,
        }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }
}

impl From<ManualClock> for Clock {
    fn from(m: ManualClock) -> Self {
        Clock::Manual(m)
    }
}

#[cfg(all(target_os = "linux", not(loom)))]
#[inline]
#[allow(unsafe_code)] // one FFI call: the vDSO's coarse clock
#[allow(clippy::useless_conversion)] // time_t and c_long are i32 on 32-bit Linux
fn system_now_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_REALTIME_COARSE is a
    // clock id every Linux since 2.6.32 supports; the call only writes `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc != 0 {
        return std_now_ms();
    }
    i64::from(ts.tv_sec) * 1000 + i64::from(ts.tv_nsec) / 1_000_000
}

#[cfg(all(target_os = "linux", not(loom)))]
#[allow(unsafe_code)] // one FFI call
#[allow(clippy::useless_conversion)] // time_t and c_long are i32 on 32-bit Linux
fn system_resolution_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: as in `system_now_ms`; `clock_getres` only writes `ts`.
    let rc = unsafe { libc::clock_getres(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc != 0 {
        return 1;
    }
    (i64::from(ts.tv_sec) * 1000 + (i64::from(ts.tv_nsec) + 999_999) / 1_000_000).max(1)
}

#[cfg(not(all(target_os = "linux", not(loom))))]
fn system_now_ms() -> i64 {
    std_now_ms()
}

#[cfg(not(all(target_os = "linux", not(loom))))]
fn system_resolution_ms() -> i64 {
    1
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn std_now_ms() -> i64 {
    js_sys::Date::now() as i64
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn std_now_ms() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// Converts a duration to whole milliseconds, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A clock moved by hand, for deterministic tests, teaching and notebooks. Clones
/// share one time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::ManualClock;
/// let clock = ManualClock::new();
/// let view = clock.clone();
/// clock.advance(Duration::from_secs(31));
/// assert_eq!(view.now_ms(), 31_000);
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

struct ManualInner {
    now: AtomicI64,
    /// Where the advances asked so far take the clock (`now` steps up to it).
    target: AtomicI64,
    timers: Timers,
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualClock")
            .field("now_ms", &self.now_ms())
            .finish()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock at 0 ms.
    pub fn new() -> Self {
        Self::starting_at(0)
    }

    /// A clock at `ms`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringlet::ManualClock::starting_at(1_000).now_ms(), 1_000);
    /// ```
    pub fn starting_at(ms: i64) -> Self {
        ManualClock {
            inner: Arc::new(ManualInner {
                now: AtomicI64::new(ms),
                target: AtomicI64::new(ms),
                timers: Timers::default(),
            }),
        }
    }

    /// The current time in ms.
    pub fn now_ms(&self) -> i64 {
        self.inner.now.load(Ordering::SeqCst)
    }

    /// Moves time forward by `d` (whole milliseconds) and fires every transition that
    /// falls due, in deadline order, ties in registration order.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = ringlet::ManualClock::new();
    /// c.advance(Duration::from_millis(1500));
    /// assert_eq!(c.now_ms(), 1500);
    /// ```
    pub fn advance(&self, d: Duration) {
        self.advance_ms(duration_ms(d));
    }

    /// Moves time forward by `ms` milliseconds (negative values are ignored),
    /// stepping through every registered deadline on the way: the clock reads
    /// each deadline while its transitions run, so they see the time they fell
    /// due, in deadline order, ties in registration order.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = ringlet::ManualClock::new();
    /// c.advance_ms(20);
    /// c.advance_ms(-5);
    /// assert_eq!(c.now_ms(), 20);
    /// ```
    pub fn advance_ms(&self, ms: i64) {
        if ms <= 0 {
            return;
        }
        let target = self
            .inner
            .target
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            })
            .unwrap_or(0)
            .saturating_add(ms);
        while let Some((deadline, waker)) = self.inner.timers.pop_due(target) {
            self.inner.now.fetch_max(deadline, Ordering::SeqCst);
            waker.wake();
        }
        self.inner.now.fetch_max(target, Ordering::SeqCst);
        // Anything registered for a time already passed while we finished.
        self.inner.timers.fire_due(self.now_ms());
    }

    pub(crate) fn timers(&self) -> &Timers {
        &self.inner.timers
    }
}

/// A deadline registry: wakers to wake when a clock reaches a time.
///
/// One waiter id holds at most one entry (re-registering replaces it), so a waiter
/// that registers on every wait cannot grow it.
#[derive(Default)]
pub(crate) struct Timers {
    state: Mutex<TimerState>,
}

#[derive(Default)]
struct TimerState {
    by_deadline: BTreeMap<(i64, u64), (u64, Waker)>,
    by_waiter: std::collections::HashMap<u64, (i64, u64)>,
    seq: u64,
}

impl Timers {
    /// Wakes `waker` once the clock reaches `deadline` ms.
    /// The waker is cloned before, and the one it replaces dropped after, the lock
    /// (a waker's `clone` and `drop` are user code).
    pub(crate) fn wake_at(&self, deadline: i64, waiter: u64, waker: &Waker) {
        let waker = waker.clone();
        let replaced = {
            let mut s = self.state.lock();
            let replaced = s
                .by_waiter
                .remove(&waiter)
                .and_then(|old| s.by_deadline.remove(&old));
            s.seq += 1;
            let k = (deadline, s.seq);
            s.by_deadline.insert(k, (waiter, waker));
            s.by_waiter.insert(waiter, k);
            replaced
        };
        drop(replaced);
    }

    /// Drops `waiter`'s entry, if any (after the lock is released).
    pub(crate) fn cancel(&self, waiter: u64) {
        let removed = {
            let mut s = self.state.lock();
            s.by_waiter
                .remove(&waiter)
                .and_then(|old| s.by_deadline.remove(&old))
        };
        drop(removed);
    }

    /// Removes and returns the earliest entry due at `limit`, if any.
    pub(crate) fn pop_due(&self, limit: i64) -> Option<(i64, Waker)> {
        let mut s = self.state.lock();
        let (&(deadline, seq), _) = s.by_deadline.iter().next()?;
        if deadline > limit {
            return None;
        }
        let (waiter, waker) = s.by_deadline.remove(&(deadline, seq))?;
        s.by_waiter.remove(&waiter);
        Some((deadline, waker))
    }

    /// The earliest registered deadline.
    pub(crate) fn next_deadline(&self) -> Option<i64> {
        self.state.lock().by_deadline.keys().next().map(|k| k.0)
    }

    /// Wakes everything due at `now`, in deadline order (wakers run after the lock is
    /// released).
    pub(crate) fn fire_due(&self, now: i64) {
        let due: Vec<Waker> = {
            let mut s = self.state.lock();
            let later = s.by_deadline.split_off(&(now.saturating_add(1), 0));
            let due = std::mem::replace(&mut s.by_deadline, later);
            due.into_values()
                .map(|(w, waker)| {
                    s.by_waiter.remove(&w);
                    waker
                })
                .collect()
        };
        for w in due {
            w.wake();
        }
    }
}

/// A fresh id for a waiter (a subscription, a blocked producer, a future).
pub(crate) fn waiter_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
