//! The one place that chooses between `std` and `loom` synchronisation primitives.
//!
//! Everything lock-free in the crate imports its atomics and cells from here, so
//! `RUSTFLAGS="--cfg loom"` swaps the whole engine onto loom's model checker
//! (the layout tokio uses in `src/loom/mod.rs`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicI64, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicI64, AtomicU64};

pub(crate) use std::sync::atomic::Ordering;

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

    #[inline]
    pub(crate) fn wait(&mut self) {
        #[cfg(loom)]
        {
            loom::thread::yield_now();
        }
        #[cfg(not(loom))]
        {
            if self.step < 6 {
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
        self.step > 10
    }
}
