//! One partition: its ring (or compacted store), the gating readers' cursors and
//! the expiry floor.

use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::record::{Headers, Key};
use crate::sync::{AtomicU64, Mutex, Ordering};
use crate::wait::Notifier;

use super::compact::Compacted;
use super::ring::{ClaimRefused, Read, Ring};

/// What a slot stores besides its timestamp.
pub(crate) struct Entry<T> {
    pub(crate) key: Option<Key>,
    pub(crate) headers: Headers,
    pub(crate) value: T,
}

/// A reader's published position in one partition: the next offset it will take.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub(crate) pos: AtomicU64,
}

pub(crate) struct Partition<T> {
    pub(crate) ring: Ring<Entry<T>>,
    /// The offset of the ring's first sequence number: 0, or where a durable
    /// topic's restored records begin. Every offset in and out of the ring is
    /// translated by it here.
    pub(crate) base: u64,
    /// The storage of a compacted topic's partition (its `ring` is then unused).
    pub(crate) compact: Option<Compacted<T>>,
    /// Offsets below this are expired (max_age).
    pub(super) expired: CachePadded<AtomicU64>,
    /// A lower bound on every gating reader's position (u64::MAX: none).
    pub(super) gate: CachePadded<AtomicU64>,
    pub(super) cursors: Mutex<Vec<Arc<Cursor>>>,
    /// Producers waiting for room.
    pub(super) room: Notifier,
}

impl<T> Partition<T> {
    /// The end offset (the offset the next record gets).
    #[inline]
    pub(crate) fn end(&self) -> u64 {
        match &self.compact {
            None => self.base + self.ring.end(),
            Some(c) => c.end(),
        }
    }

    #[inline]
    pub(crate) fn end_and_closed(&self) -> (u64, bool) {
        match &self.compact {
            None => {
                let (end, closed) = self.ring.end_and_closed();
                (self.base + end, closed)
            }
            Some(c) => c.end_and_closed(),
        }
    }

    #[inline]
    pub(crate) fn end_and_closed_seqcst(&self) -> (u64, bool) {
        match &self.compact {
            None => {
                let (end, closed) = self.ring.end_and_closed_seqcst();
                (self.base + end, closed)
            }
            Some(c) => c.end_and_closed(),
        }
    }

    /// The oldest offset still stored (before expiry).
    pub(crate) fn start(&self) -> u64 {
        match &self.compact {
            None => self.base + self.ring.start(),
            Some(c) => c.start(),
        }
    }

    pub(super) fn close(&self) {
        match &self.compact {
            None => {
                self.ring.close();
            }
            Some(c) => c.close(),
        }
    }

    /// Records a reader at `pos` has yet to read (compacted ones not counted).
    pub(crate) fn lag_from(&self, pos: u64) -> u64 {
        match &self.compact {
            None => self.end().saturating_sub(pos),
            Some(c) => c.count_from(pos),
        }
    }

    /// Reads as [`Ring::read`] does.
    #[inline]
    pub(crate) fn read(
        &self,
        from: u64,
        max: usize,
        floor: u64,
        f: impl FnMut(u64, i64, &Entry<T>),
    ) -> Read {
        match &self.compact {
            None => self.ring_read(from, max, floor, f),
            Some(c) => c.read(from, max, f),
        }
    }

    /// [`Ring::read`] in offsets (the ring counts from [`Partition::base`]).
    #[inline]
    pub(crate) fn ring_read(
        &self,
        from: u64,
        max: usize,
        floor: u64,
        mut f: impl FnMut(u64, i64, &Entry<T>),
    ) -> Read {
        let base = self.base;
        if from < base {
            return Read::Evicted {
                oldest: self.start().max(floor),
            };
        }
        match self
            .ring
            .read(from - base, max, floor.saturating_sub(base), |o, ts, e| {
                f(o + base, ts, e)
            }) {
            Read::Evicted { oldest } => Read::Evicted {
                oldest: oldest + base,
            },
            r => r,
        }
    }

    /// [`Ring::claim`] in offsets, admitting anything (the caller decided).
    pub(crate) fn ring_claim(&self, k: u64) -> Result<u64, ClaimRefused> {
        self.ring
            .claim(k, |_, _| true)
            .map(|first| first + self.base)
    }

    /// [`Ring::write_claimed`] in offsets.
    pub(crate) fn ring_write(&self, first: u64, k: u64, next: impl FnMut() -> (i64, Entry<T>)) {
        self.ring.write_claimed(first - self.base, k, next)
    }

    /// [`Ring::publish`] in offsets: `admit(first offset, k)`; returns the first
    /// offset.
    #[inline]
    pub(crate) fn ring_publish(
        &self,
        k: u64,
        mut admit: impl FnMut(u64, u64) -> bool,
        next: impl FnMut() -> (i64, Entry<T>),
    ) -> Result<u64, ClaimRefused> {
        let base = self.base;
        self.ring
            .publish(k, |n, k| admit(n + base, k), next)
            .map(|first| first + base)
    }

    /// Recomputes the gate bound from the registered cursors.
    #[cold]
    pub(super) fn rescan_gate(&self) -> u64 {
        let cursors = self.cursors.lock();
        // SeqCst: pairs with the readers' SeqCst position stores (Dekker with the
        // room notifier registration that precedes a producer's re-check).
        let min = cursors
            .iter()
            .map(|c| c.pos.load(Ordering::SeqCst))
            .min()
            .unwrap_or(u64::MAX);
        self.gate.store(min, Ordering::SeqCst);
        min
    }
}
