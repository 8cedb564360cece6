//! The one place that chooses between `std` and `loom` synchronisation primitives.
//!
//! Everything lock-free in the crate imports its atomics and cells from here, so
//! `RUSTFLAGS="--cfg loom"` swaps the whole engine onto loom's model checker
//! (the layout tokio uses in `src/loom/mod.rs`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize};

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;

/// loom's mutex with parking_lot's signature (no poisoning).
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn try_lock(&self) -> Option<loom::sync::MutexGuard<'_, T>> {
        self.0.try_lock().ok()
    }
}

pub(crate) use std::sync::atomic::Ordering;

/// The store→load ordering that two SeqCst accesses on different locations already
/// get from the single total order of SeqCst operations (so this is a no-op in normal
/// builds). loom models SeqCst accesses as AcqRel, which loses exactly that, so under
/// loom the Dekker handshakes (waiter registration vs. progress) add a real fence.
#[inline(always)]
pub(crate) fn dekker_fence() {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// An `UnsafeCell` with loom's closure-based access API on both back ends.
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(
    #[cfg(loom)] loom::cell::UnsafeCell<T>,
    #[cfg(not(loom))] std::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        #[cfg(loom)]
        return Self(loom::cell::UnsafeCell::new(value));
        #[cfg(not(loom))]
        return Self(std::cell::UnsafeCell::new(value));
    }

    /// Runs `f` with a shared raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(loom)]
        return self.0.with(f);
        #[cfg(not(loom))]
        return f(self.0.get());
    }

    /// Runs `f` with a mutable raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(loom)]
        return self.0.with_mut(f);
        #[cfg(not(loom))]
        return f(self.0.get());
    }
}

/// Waits politely inside a spin loop: a CPU hint at first, then yielding the thread.
/// Under loom every call yields, so the model checker can schedule the other side.
#[derive(Debug, Default)]
pub(crate) struct Spin {
    step: u32,
}

impl Spin {
    pub(crate) fn new() -> Self {
        Self { step: 0 }
    }

    /// A spin that starts at `step` (its first wait is 2^step CPU hints).
    pub(crate) fn starting_at(step: u32) -> Self {
        Self { step }
    }

    /// Spins 2^step CPU hints (up to 1024, tens of microseconds in all), then
    /// yields the thread. Waiting out of the way matters: a reader that polls the
    /// slot a producer is about to write pulls the cache line back and forth on
    /// every record (measured: 10 M/s polling at once, 38 M/s waiting 1024 hints),
    /// and the thread being waited for may have been preempted and need the CPU.
    /// It never sleeps (a sleep lasts ~50 µs at least).
    #[inline]
    pub(crate) fn wait(&mut self) {
        #[cfg(loom)]
        {
            loom::thread::yield_now();
        }
        #[cfg(not(loom))]
        {
            if self.step <= SPIN_STEPS {
                for _ in 0..(1u32 << self.step) {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            self.step = self.step.saturating_add(1);
        }
    }

    /// True once spinning has gone on long enough that parking is the better choice.
    pub(crate) fn is_long(&self) -> bool {
        self.step > SPIN_STEPS
    }
}

/// Doubling spin steps before a waiter yields or parks.
const SPIN_STEPS: u32 = 10;
