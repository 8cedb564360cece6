//! The faults armed on one topic or queue, checked by its hot paths (see
//! [`crate::faults`] for the feature). Unarmed, each check is one relaxed load.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::sync::{AtomicBool, AtomicI64, AtomicU64, Mutex, Ordering};

/// The error an injected failure reports (see [`crate::faults::Faults::fail_publishes`]).
///
/// # Examples
///
/// ```
/// use ringlet::faults::InjectedError;
/// assert_eq!("io".parse::<InjectedError>(), Ok(InjectedError::Io));
/// assert_eq!(
///     "disk".parse::<InjectedError>().unwrap_err().to_string(),
///     r#"error must be one of "full", "closed", "io", not "disk""#
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InjectedError {
    /// As if the topic or queue had no room (`Full`; `Timeout` from the calls
    /// that wait with a timeout).
    Full,
    /// As if it were closed (`Closed`).
    Closed,
    /// As if its storage refused the write (`Storage` carrying an `Io` error
    /// that names the fault).
    Io,
}

crate::error::named_values!(InjectedError, "error", {
    Full => "full",
    Closed => "closed",
    Io => "io",
});

/// What is armed, behind the point's lock.
#[derive(Debug, Default)]
struct Armed {
    /// The next `n` publishes or sends fail with the error.
    fail: Option<(u64, InjectedError)>,
    /// Partitions whose delivery to readers is paused, ascending.
    paused: Vec<u32>,
}

/// Wakes a topic's readers (after a resume).
type Wake = Box<dyn Fn() + Send + Sync>;

/// One topic's or queue's faults and what they did.
#[derive(Default)]
pub(crate) struct FaultPoint {
    /// Whether anything is armed: the hot paths' only check.
    armed: AtomicBool,
    /// How late settles arrive (ms); 0 when they are not delayed.
    settle_delay_ms: AtomicI64,
    state: Mutex<Armed>,
    /// Publishes or sends failed by the fault.
    pub(crate) failed: AtomicU64,
    /// Settles delayed.
    pub(crate) delayed: AtomicU64,
    /// Delayed settles that arrived after their delivery's visibility timeout.
    pub(crate) late: AtomicU64,
    /// Wakes the topic's readers, set when the topic is created.
    wake: std::sync::OnceLock<Wake>,
}

impl std::fmt::Debug for FaultPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultPoint")
            .field("armed", &self.is_armed())
            .finish_non_exhaustive()
    }
}

/// A point shared by a topic (or queue) and the bus registry.
pub(crate) type SharedPoint = Arc<FaultPoint>;

impl FaultPoint {
    #[inline]
    fn is_armed(&self) -> bool {
        self.armed.load(Ordering::Relaxed)
    }

    /// Recomputes `armed` from the state (under its lock).
    fn rearm(&self, s: &Armed) {
        let any = s.fail.is_some()
            || !s.paused.is_empty()
            || self.settle_delay_ms.load(Ordering::SeqCst) > 0;
        self.armed.store(any, Ordering::SeqCst);
    }

    /// Takes one injected failure, if one is armed.
    #[inline]
    pub(crate) fn take_failure(&self) -> Option<InjectedError> {
        if !self.is_armed() {
            return None;
        }
        self.take_failure_slow()
    }

    #[cold]
    fn take_failure_slow(&self) -> Option<InjectedError> {
        let mut s = self.state.lock();
        let (n, e) = s.fail.as_mut()?;
        let e = *e;
        *n -= 1;
        if *n == 0 {
            s.fail = None;
            self.rearm(&s);
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
        Some(e)
    }

    /// How late settles arrive (ms), if they are delayed.
    #[inline]
    pub(crate) fn settle_delay(&self) -> Option<i64> {
        if !self.is_armed() {
            return None;
        }
        let ms = self.settle_delay_ms.load(Ordering::SeqCst);
        (ms > 0).then_some(ms)
    }

    /// Whether partition `p`'s delivery is paused.
    #[inline]
    pub(crate) fn is_paused(&self, p: u32) -> bool {
        self.is_armed() && self.state.lock().paused.binary_search(&p).is_ok()
    }

    /// Arms `n` failures (0 disarms).
    pub(crate) fn fail(&self, n: u64, e: InjectedError) {
        let mut s = self.state.lock();
        s.fail = (n > 0).then_some((n, e));
        self.rearm(&s);
    }

    /// Delays settles by `ms` (0: no longer).
    pub(crate) fn delay_settles(&self, ms: i64) {
        let s = self.state.lock();
        self.settle_delay_ms.store(ms.max(0), Ordering::SeqCst);
        self.rearm(&s);
    }

    /// Sets how a resume wakes the readers (once).
    pub(crate) fn on_resume(&self, wake: Wake) {
        let _ = self.wake.set(wake);
    }

    fn wake_readers(&self) {
        if let Some(w) = self.wake.get() {
            w();
        }
    }

    /// Pauses (or resumes) partition `p`; whether that changed anything. A
    /// resume wakes the readers (after the lock).
    pub(crate) fn pause(&self, p: u32, paused: bool) -> bool {
        let changed = self.set_paused(p, paused);
        if changed && !paused {
            self.wake_readers();
        }
        changed
    }

    fn set_paused(&self, p: u32, paused: bool) -> bool {
        let mut s = self.state.lock();
        let changed = match (s.paused.binary_search(&p), paused) {
            (Err(at), true) => {
                s.paused.insert(at, p);
                true
            }
            (Ok(at), false) => {
                s.paused.remove(at);
                true
            }
            _ => false,
        };
        self.rearm(&s);
        changed
    }

    /// Disarms everything; paused partitions resume (their readers woken).
    pub(crate) fn clear(&self) {
        let resumed = {
            let mut s = self.state.lock();
            s.fail = None;
            self.settle_delay_ms.store(0, Ordering::SeqCst);
            let paused = std::mem::take(&mut s.paused);
            self.rearm(&s);
            !paused.is_empty()
        };
        if resumed {
            self.wake_readers();
        }
    }

    /// What is armed: the failures left and their error, the settle delay (ms),
    /// the paused partitions.
    pub(crate) fn armed(&self) -> (Option<(u64, InjectedError)>, i64, Vec<u32>) {
        let s = self.state.lock();
        (
            s.fail,
            self.settle_delay_ms.load(Ordering::SeqCst),
            s.paused.clone(),
        )
    }
}

/// The `Io` error an injected failure carries, naming the fault.
pub(crate) fn injected_io(name: &str, what: &str) -> crate::Error {
    crate::Error::Io {
        path: name.to_string(),
        reason: format!(
            "an injected fault ({what}): bus.faults() was told to fail it; clear it with faults.clear()"
        ),
    }
}
