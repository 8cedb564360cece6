//! The partition ring: a bounded, multi-producer, multi-reader broadcast ring that
//! retains the newest `capacity` records.
//!
//! # Algorithm
//!
//! Producers claim sequence numbers (offsets) with one compare-and-swap on `claim`,
//! write the slot, then publish it by storing the slot's `stamp` (`offset + 1`), as in
//! the disruptor's multi-producer sequencer. Readers own their cursors and read slots
//! whose stamp shows the offset they expect. Reading never removes anything.
//!
//! Retention is exact: the producer that claims offset `n` evicts `n - capacity` by
//! setting the [`EVICTED`] bit in that slot's stamp before it publishes `n`, so a
//! reader learns from the one stamp it loads anyway whether a record is published,
//! evicted or not written yet — it never polls `claim`, the word every publish
//! writes. Storage is physical: the slots are grouped into
//! segments of `seg` slots (a power of two), and the storage holds at least
//! `capacity + seg` slots, so a segment is only ever reused once every record in it
//! has been logically evicted.
//!
//! # Reclamation: segment pins
//!
//! Readers clone values (`T: Clone`) out of slots, which a producer will eventually
//! overwrite. Cloning while the slot is overwritten would be a data race, and a
//! seqlock's after-the-fact check cannot make a non-`Copy` clone sound. So each
//! segment has a state word `lap << PIN_BITS | pins`: a reader pins the segment
//! (`fetch_add`) before touching any slot of it and checks that the segment still
//! holds the lap it wants; the producer that claims the first offset of a new lap of
//! the segment waits until the pin count is zero and then swaps in the new lap with a
//! compare-and-swap, after which no reader of the old lap can enter. A pin covers up
//! to `seg` records, so the reader pays two read-modify-writes per segment, not per
//! record; producers pay one load per record (the lap check) and one CAS per segment.
//!
//! A producer therefore waits only for readers that are in the middle of cloning
//! records of the very segment it is about to reuse — a short, bounded section.
//!
//! # Memory
//!
//! Per slot: the stamp, the timestamp, and the entry (value plus two optional
//! pointers for key and headers). Per segment: one cache-padded state word.

#![allow(unsafe_code)]

use std::mem::MaybeUninit;

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicI64, AtomicU64, Ordering, Spin, UnsafeCell};

/// Bits of a segment state word that count pins; the rest hold the lap.
const PIN_BITS: u32 = 24;
const PIN_ONE: u64 = 1;
const PIN_MASK: u64 = (1 << PIN_BITS) - 1;
/// Laps are compared modulo 2^40; a reader only compares laps within `nseg` of the
/// producers' lap (it checks logical retention first), so this never aliases.
const LAP_MASK: u64 = u64::MAX >> PIN_BITS;

/// Spare slots beyond the capacity (rounded up to whole segments). Loom models run
/// with one, so that tiny rings hand segments over within a few publishes.
const SPARE: u64 = if cfg!(loom) { 1 } else { 64 };

/// A stamp's top bit: the record in this slot has been evicted.
const EVICTED: u64 = 1 << 63;

/// The claim word's top bit marks the partition closed: a closed partition refuses
/// new claims, and readers that reach the claimed end know nothing more will come.
pub(crate) const CLOSED: u64 = 1 << 63;

struct Slot<E> {
    /// `offset + 1` once the record `offset` is published here, with [`EVICTED`] set
    /// once it has been evicted; 0 before the first write. Release-stored by the
    /// writer after the entry and by the evicting producer; Acquire-loaded by readers.
    stamp: AtomicU64,
    /// The record's timestamp in ms; written before `stamp` is released.
    ts: AtomicI64,
    entry: UnsafeCell<MaybeUninit<E>>,
}

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// `n` records were handed to the callback (possibly 0 when `max` was 0).
    Got(usize),
    /// Nothing published at the cursor yet.
    Empty,
    /// The cursor's record is gone; `oldest` is the oldest offset still readable.
    Evicted { oldest: u64 },
    /// (Compacted partitions) `skipped` records at or after the cursor were evicted
    /// for room; reading resumes at `resume`.
    Dropped { skipped: u64, resume: u64 },
}

/// A partition's storage. See the module docs for the protocol.
pub(crate) struct Ring<E> {
    /// Next offset to claim, with [`CLOSED`] in the top bit.
    claim: CachePadded<AtomicU64>,
    slots: Box<[Slot<E>]>,
    /// Per segment, for readers: `lap << PIN_BITS | pins`.
    segs: Box<[CachePadded<AtomicU64>]>,
    /// Per segment, for writers: the lap it has been handed over to. Kept apart from
    /// the pin words so that writers checking it do not pull the readers' pin cache
    /// lines back and forth on every record.
    wlaps: Box<[AtomicU64]>,
    cap: u64,
    seg_shift: u32,
    nseg: u64,
    /// Slots in all: `nseg << seg_shift` (always more than `cap`).
    storage: u64,
}

// SAFETY: entries are moved in by one producer (the claimant) and read through shared
// references by readers under a segment pin, so `E` must be `Send` (moved across
// threads, dropped by whichever producer reuses the slot) and `Sync` (read by several
// readers at once).
unsafe impl<E: Send + Sync> Sync for Ring<E> {}
// SAFETY: as above; the ring owns its entries.
unsafe impl<E: Send> Send for Ring<E> {}

impl<E> std::fmt::Debug for Ring<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("capacity", &self.cap)
            .field("end", &self.end())
            .finish_non_exhaustive()
    }
}

/// Unpins a segment when dropped, so a panicking `Clone` cannot leave it pinned.
struct Pin<'a>(&'a AtomicU64);

impl Drop for Pin<'_> {
    fn drop(&mut self) {
        // Release: every clone made under the pin happens before the producer's
        // Acquire CAS that sees the pin count reach zero.
        self.0.fetch_sub(PIN_ONE, Ordering::Release);
    }
}

impl<E> Ring<E> {
    /// A ring retaining exactly `cap` records (`cap >= 1`).
    #[cfg(test)]
    pub(crate) fn new(cap: usize) -> Self {
        Self::try_new(cap).expect("test rings fit in memory")
    }

    /// A ring retaining exactly `cap` records, or `None` when `cap` is 0 or the
    /// storage cannot be allocated.
    pub(crate) fn try_new(cap: usize) -> Option<Self> {
        if cap == 0 {
            return None;
        }
        let cap = cap as u64;
        // Segments of up to 64 slots, small enough that the spare segment (and the
        // rounding) cost at most ~1/8 of the storage.
        let seg = if cap < 16 {
            1
        } else {
            1u64 << (63 - (cap / 16).leading_zeros())
        }
        .min(64);
        let seg_shift = seg.trailing_zeros();
        // At least one spare segment and at least SPARE spare slots: a producer only
        // reuses storage that was published SPARE records ago, so on a tiny ring it
        // rarely has to wait for a claimant that was preempted mid-write.
        let nseg = cap.div_ceil(seg) + SPARE.div_ceil(seg).max(1);
        let len = usize::try_from(nseg.checked_mul(seg)?).ok()?;
        let mut slots = Vec::new();
        slots.try_reserve_exact(len).ok()?;
        slots.extend((0..len).map(|_| Slot {
            stamp: AtomicU64::new(0),
            ts: AtomicI64::new(0),
            entry: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        let mut segs = Vec::new();
        segs.try_reserve_exact(usize::try_from(nseg).ok()?).ok()?;
        // Segment i starts out holding lap i, so the first lap needs no hand-over.
        segs.extend((0..nseg).map(|i| CachePadded::new(AtomicU64::new(i << PIN_BITS))));
        let mut wlaps = Vec::new();
        wlaps.try_reserve_exact(usize::try_from(nseg).ok()?).ok()?;
        wlaps.extend((0..nseg).map(AtomicU64::new));
        Some(Ring {
            claim: CachePadded::new(AtomicU64::new(0)),
            slots: slots.into_boxed_slice(),
            segs: segs.into_boxed_slice(),
            wlaps: wlaps.into_boxed_slice(),
            cap,
            seg_shift,
            nseg,
            storage: nseg << seg_shift,
        })
    }

    /// Bytes of storage this ring allocated (slots, segment words and the header).
    pub(crate) fn allocated_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + std::mem::size_of_val(&*self.slots)
            + std::mem::size_of_val(&*self.segs)
            + std::mem::size_of_val(&*self.wlaps)
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.cap
    }

    /// The next offset to be assigned (the "end offset"), ignoring the closed bit.
    #[inline]
    pub(crate) fn end(&self) -> u64 {
        self.claim.load(Ordering::Acquire) & !CLOSED
    }

    /// The end offset and whether the partition is closed, from one load.
    #[inline]
    pub(crate) fn end_and_closed(&self) -> (u64, bool) {
        let c = self.claim.load(Ordering::Acquire);
        (c & !CLOSED, c & CLOSED != 0)
    }

    /// As [`Ring::end_and_closed`], with a SeqCst load (for wait/notify handshakes).
    #[inline]
    pub(crate) fn end_and_closed_seqcst(&self) -> (u64, bool) {
        let c = self.claim.load(Ordering::SeqCst);
        (c & !CLOSED, c & CLOSED != 0)
    }

    /// The oldest offset not evicted by capacity (expiry is the caller's floor).
    #[inline]
    pub(crate) fn start(&self) -> u64 {
        self.end().saturating_sub(self.cap)
    }

    /// Marks the partition closed; later claims fail. Returns the final end offset.
    pub(crate) fn close(&self) -> u64 {
        self.claim.fetch_or(CLOSED, Ordering::SeqCst) & !CLOSED
    }

    /// The slot index of `seq` (one division; the segment is `index >> seg_shift`,
    /// and the slots of one segment are contiguous).
    #[inline]
    fn index(&self, seq: u64) -> usize {
        (seq % self.storage) as usize
    }

    /// Claims `k` (1..=capacity) consecutive offsets, asking `admit(first, k)` whether
    /// they may be claimed while the claim word still shows `first`, then writes the
    /// entries produced by `next` in order. Returns the first offset, or `None` (and
    /// writes nothing) when `admit` refused or the partition is closed.
    ///
    /// `next` is called exactly `k` times once the claim succeeded.
    #[inline]
    pub(crate) fn publish(
        &self,
        k: u64,
        admit: impl FnMut(u64, u64) -> bool,
        next: impl FnMut() -> (i64, E),
    ) -> Result<u64, ClaimRefused> {
        let first = self.claim(k, admit)?;
        self.write_claimed(first, k, next);
        Ok(first)
    }

    /// The claim half of [`Ring::publish`]: claims `k` offsets (readers see them
    /// as not written yet) without writing them. The caller must then call
    /// [`Ring::write_claimed`] for them, or readers and later producers wait forever.
    #[inline]
    pub(crate) fn claim(
        &self,
        k: u64,
        mut admit: impl FnMut(u64, u64) -> bool,
    ) -> Result<u64, ClaimRefused> {
        debug_assert!(k >= 1 && k <= self.cap);
        let mut spin = Spin::new();
        let mut cur = self.claim.load(Ordering::Relaxed);
        let first = loop {
            if cur & CLOSED != 0 {
                return Err(ClaimRefused::Closed);
            }
            if !admit(cur, k) {
                return Err(ClaimRefused::Full);
            }
            // SeqCst: pairs with the SeqCst waiter registration in `wait.rs`; a reader
            // that registered before this claim is seen by our later waiter check, one
            // that registers after sees this claim and does not park.
            match self.claim.compare_exchange_weak(
                cur,
                cur + k,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break cur,
                Err(now) => {
                    cur = now;
                    spin.wait();
                }
            }
        };
        Ok(first)
    }

    /// The write half of [`Ring::publish`]: writes the `k` offsets from `first`
    /// that [`Ring::claim`] returned, with the entries `next` produces in order.
    #[inline]
    pub(crate) fn write_claimed(&self, first: u64, k: u64, mut next: impl FnMut() -> (i64, E)) {
        for seq in first..first + k {
            let (ts, entry) = next();
            self.write(seq, ts, entry);
        }
    }

    /// Writes the claimed record `seq`. Only the claimant of `seq` calls this, once.
    #[inline(always)]
    fn write(&self, seq: u64, ts: i64, entry: E) {
        let lap = seq >> self.seg_shift;
        let at = self.index(seq);
        let idx = at >> self.seg_shift;
        let wlap = &self.wlaps[idx];
        let mut spin = Spin::new();
        if seq & ((1 << self.seg_shift) - 1) == 0 && lap >= self.nseg {
            // First offset of a new lap of this segment: hand the segment over.
            // All of its old records are logically evicted (storage >= cap + seg);
            // wait for their writers to finish, then for readers to unpin.
            let old_first = (lap - self.nseg) << self.seg_shift;
            for (j, old) in (old_first..old_first + (1 << self.seg_shift)).enumerate() {
                let slot = &self.slots[at + j];
                // Acquire: pairs with the evicting producer's Release mark (which
                // acquired the old writer's stamp), so the old entry is complete and
                // nobody writes this stamp any more before we drop it.
                while slot.stamp.load(Ordering::Acquire) != (old + 1) | EVICTED {
                    spin.wait();
                }
            }
            let seg = &self.segs[idx];
            let want = (lap & LAP_MASK) << PIN_BITS;
            loop {
                let s = seg.load(Ordering::Relaxed);
                if s & PIN_MASK == 0 {
                    // Acquire: pairs with the readers' Release unpin, so their clones
                    // of the old lap happen before we overwrite it.
                    if seg
                        .compare_exchange_weak(s, want, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        break;
                    }
                }
                spin.wait();
            }
            // Release: the other writers of this lap (Acquire loads below) inherit
            // what the hand-over acquired.
            wlap.store(lap, Ordering::Release);
        } else {
            // Acquire: pairs with the hand-over's Release store (performed by the
            // claimant of the lap's first offset), which acquired every reader's unpin.
            while wlap.load(Ordering::Acquire) != lap {
                spin.wait();
            }
        }
        let slot = &self.slots[at];
        let had_entry = slot.stamp.load(Ordering::Relaxed) != 0;
        slot.entry.with_mut(|p| {
            // SAFETY: we hold the segment's current lap and no reader of an older lap
            // is pinned (hand-over above), readers of this lap only touch slots whose
            // stamp shows this lap's offsets, and this slot's stamp still shows the old
            // offset until the Release store below. Only the claimant of `seq` writes
            // it. The old entry, if any, was fully written (its stamp was observed).
            unsafe {
                if had_entry {
                    (*p).assume_init_drop();
                }
                (*p).write(entry);
            }
        });
        slot.ts.store(ts, Ordering::Relaxed);
        // Evict `seq - cap` before publishing `seq`: whoever sees `seq` sees the
        // eviction too, and the partition never shows more than `cap` records.
        if seq >= self.cap {
            let cap = self.cap as usize;
            let evicted_at = if at >= cap {
                at - cap
            } else {
                at + self.storage as usize - cap
            };
            self.mark_evicted(seq - self.cap, &self.slots[evicted_at], &mut spin);
        }
        // Release: publishes the entry and timestamp to readers' Acquire stamp loads.
        slot.stamp.store(seq + 1, Ordering::Release);
    }

    /// Sets the evicted bit on record `e`, waiting for its writer if needed. Only the
    /// claimant of `e + cap` calls this; the slot is not reused before the mark
    /// (hand-over waits for it), so a plain store cannot be lost.
    #[inline]
    fn mark_evicted(&self, e: u64, slot: &Slot<E>, spin: &mut Spin) {
        // Acquire: pairs with `e`'s writer's Release stamp store.
        while slot.stamp.load(Ordering::Acquire) != e + 1 {
            spin.wait();
        }
        // Release: pairs with readers' and the hand-over's Acquire loads.
        slot.stamp.store((e + 1) | EVICTED, Ordering::Release);
    }

    /// Reads up to `max` published records from offset `from`, calling `f(offset,
    /// timestamp, &entry)` for each, stopping at the first unpublished record, at a
    /// gap, or at `max`. `floor` is the oldest offset the caller still considers
    /// readable (expiry); evicted records are reported, never handed out.
    pub(crate) fn read(
        &self,
        from: u64,
        max: usize,
        floor: u64,
        mut f: impl FnMut(u64, i64, &E),
    ) -> Read {
        let mut seq = from;
        let mut n = 0usize;
        while n < max {
            // Look before pinning: polling an unpublished record must not pin the
            // segment a producer may be waiting to hand over (it needs zero pins),
            // nor load `claim` (which every publish writes). The stamp says it all:
            // `seq + 1` published; with EVICTED, or newer, evicted; older, not yet
            // written. A stale look only means we pin and check again below.
            let at = self.index(seq);
            match self.classify(seq, &self.slots[at], floor) {
                Read::Got(_) => {}
                other => return if n == 0 { other } else { Read::Got(n) },
            }
            let lap = seq >> self.seg_shift;
            let seg = &self.segs[at >> self.seg_shift];
            // Acquire: pairs with the hand-over CAS, so a pin that sees the new lap
            // also sees everything the hand-over acquired.
            let s = seg.fetch_add(PIN_ONE, Ordering::Acquire);
            let _pin = Pin(seg);
            if s & !PIN_MASK != (lap & LAP_MASK) << PIN_BITS {
                // The segment holds another lap: an older one means our record is not
                // written yet; a newer one means it was evicted.
                return match n {
                    0 => self.classify(seq, &self.slots[at], floor),
                    _ => Read::Got(n),
                };
            }
            let seg_end = (lap + 1) << self.seg_shift;
            let first = seq;
            while seq < seg_end && n < max {
                let slot = &self.slots[at + (seq - first) as usize];
                // Acquire: pairs with the writer's Release stamp store. The pin keeps
                // the slot from being reused, so `seq + 1` stays exact while we clone.
                if slot.stamp.load(Ordering::Acquire) != seq + 1 || seq < floor {
                    return if n == 0 {
                        self.classify(seq, slot, floor)
                    } else {
                        Read::Got(n)
                    };
                }
                let ts = slot.ts.load(Ordering::Relaxed);
                slot.entry.with(|p| {
                    // SAFETY: the stamp shows `seq` is published in this slot, and our
                    // pin on the segment (which holds `seq`'s lap) keeps any producer
                    // from handing the segment over, so the entry stays initialised and
                    // unmodified while we hold the shared reference.
                    let e = unsafe { (*p).assume_init_ref() };
                    f(seq, ts, e);
                });
                seq += 1;
                n += 1;
            }
        }
        Read::Got(n)
    }

    /// What a read of `seq` would find, from its slot's stamp alone (plus `claim`
    /// only to say where a gap ends). `Got(1)` means published and readable.
    #[inline]
    fn classify(&self, seq: u64, slot: &Slot<E>, floor: u64) -> Read {
        // Acquire: pairs with the writer's and the evicting producer's Release stores.
        let stamp = slot.stamp.load(Ordering::Acquire);
        if stamp == seq + 1 && seq >= floor {
            Read::Got(1)
        } else if stamp == seq + 1 || stamp & !EVICTED > seq {
            // Expired, evicted, or the slot already reused by a newer record.
            Read::Evicted {
                oldest: self.start().max(floor),
            }
        } else {
            Read::Empty
        }
    }

    /// The timestamp of record `seq`, if it is published and not evicted.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn timestamp(&self, seq: u64) -> Option<i64> {
        let mut ts = None;
        self.read(seq, 1, 0, |_, t, _| ts = Some(t));
        ts
    }
}

impl<E> Drop for Ring<E> {
    fn drop(&mut self) {
        for slot in self.slots.iter() {
            if slot.stamp.load(Ordering::Relaxed) != 0 {
                slot.entry.with_mut(|p| {
                    // SAFETY: `&mut self`: no reader or writer is left, and a non-zero
                    // stamp means the slot holds an initialised entry.
                    unsafe { (*p).assume_init_drop() }
                });
            }
        }
    }
}

/// Why a claim was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimRefused {
    /// `admit` said no.
    Full,
    /// The partition is closed.
    Closed,
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn collect(r: &Ring<String>, from: u64, max: usize) -> (Read, Vec<(u64, String)>) {
        let mut out = vec![];
        let read = r.read(from, max, 0, |o, _, e| out.push((o, e.clone())));
        (read, out)
    }

    fn push(r: &Ring<String>, v: &str) -> u64 {
        r.publish(1, |_, _| true, || (7, v.to_string())).unwrap()
    }

    #[test]
    fn geometry_bounds_storage() {
        for cap in [1usize, 2, 3, 5, 16, 17, 100, 1024, 1025, 65536] {
            let r: Ring<u64> = Ring::new(cap);
            let seg = 1u64 << r.seg_shift;
            let storage = r.slots.len() as u64;
            assert!(storage >= cap as u64 + seg.max(SPARE), "cap {cap}");
            // Past 1024 records the spare is at most one segment plus rounding.
            if cap >= 1024 {
                assert!(storage <= cap as u64 + 2 * seg, "cap {cap}: {storage}");
            }
        }
    }

    #[test]
    fn publish_then_read_in_order() {
        let r = Ring::new(4);
        for i in 0..3 {
            assert_eq!(push(&r, &i.to_string()), i);
        }
        let (read, got) = collect(&r, 0, 10);
        assert_eq!(read, Read::Got(3));
        assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(collect(&r, 3, 10).0, Read::Empty);
    }

    #[test]
    fn eviction_is_exact_and_reported() {
        let r = Ring::new(3);
        for i in 0..10 {
            push(&r, &i.to_string());
        }
        assert_eq!(r.start(), 7);
        assert_eq!(collect(&r, 2, 10).0, Read::Evicted { oldest: 7 });
        let (read, got) = collect(&r, 7, 10);
        assert_eq!(read, Read::Got(3));
        assert_eq!(got[0].1, "7");
    }

    #[test]
    fn floor_hides_expired() {
        let r = Ring::new(8);
        for i in 0..5 {
            push(&r, &i.to_string());
        }
        assert_eq!(r.read(1, 10, 3, |_, _, _| {}), Read::Evicted { oldest: 3 });
    }

    #[test]
    fn refused_and_closed() {
        let r: Ring<String> = Ring::new(2);
        assert_eq!(
            r.publish(1, |_, _| false, || unreachable!()),
            Err(ClaimRefused::Full)
        );
        assert_eq!(r.close(), 0);
        assert_eq!(
            r.publish(1, |_, _| true, || unreachable!()),
            Err(ClaimRefused::Closed)
        );
        assert_eq!(r.end_and_closed(), (0, true));
    }

    #[test]
    fn batch_claims_consecutive_offsets() {
        let r = Ring::new(16);
        let mut i = 0;
        let first = r
            .publish(
                5,
                |_, _| true,
                || {
                    i += 1;
                    (i, format!("v{i}"))
                },
            )
            .unwrap();
        assert_eq!(first, 0);
        assert_eq!(r.end(), 5);
        assert_eq!(r.timestamp(4), Some(5));
    }

    #[test]
    fn panicking_clone_unpins() {
        #[derive(Debug)]
        struct Bomb;
        impl Clone for Bomb {
            fn clone(&self) -> Self {
                panic!("boom")
            }
        }
        let r = Ring::new(1);
        r.publish(1, |_, _| true, || (0, Bomb)).unwrap();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.read(0, 1, 0, |_, _, e| drop(e.clone()));
        }));
        assert!(res.is_err());
        // The segment is unpinned: producers can keep reusing it.
        for _ in 0..10 {
            r.publish(1, |_, _| true, || (0, Bomb)).unwrap();
        }
    }

    #[test]
    fn drops_every_entry_once() {
        use std::sync::Arc;
        let tracker = Arc::new(());
        {
            let r = Ring::new(3);
            for _ in 0..3 * r.slots.len() {
                let t = tracker.clone();
                r.publish(1, |_, _| true, || (0, t.clone())).unwrap();
            }
            assert_eq!(Arc::strong_count(&tracker), 1 + r.slots.len());
        }
        assert_eq!(Arc::strong_count(&tracker), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom models of the ring protocol (run with `--cfg loom`).
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// A value whose clone reads heap memory, so a race with the overwrite is visible.
    type V = Arc<loom::sync::atomic::AtomicUsize>;

    fn val(n: usize) -> V {
        Arc::new(loom::sync::atomic::AtomicUsize::new(n))
    }

    /// Publish vs read: the reader sees a prefix of the published records, in order.
    #[test]
    fn publish_vs_read() {
        loom::model(|| {
            let ring = Arc::new(Ring::<V>::new(2));
            let p = ring.clone();
            let t = thread::spawn(move || {
                for i in 0..2 {
                    p.publish(1, |_, _| true, || (0, val(i))).unwrap();
                }
            });
            let mut next = 0u64;
            for _ in 0..2 {
                ring.read(next, 2, 0, |o, _, v| {
                    assert_eq!(o, next);
                    assert_eq!(v.load(Ordering::Relaxed), o as usize);
                    next += 1;
                });
            }
            t.join().unwrap();
        });
    }

    /// Overwrite vs a lagging reader: capacity 1, the producer laps the reader while
    /// it clones. The reader either reads a record intact or is told it was evicted.
    #[test]
    fn overwrite_vs_lagging_reader() {
        loom::model(|| {
            let ring = Arc::new(Ring::<V>::new(1));
            ring.publish(1, |_, _| true, || (0, val(0))).unwrap();
            let p = ring.clone();
            let t = thread::spawn(move || {
                for i in 1..3 {
                    p.publish(1, |_, _| true, || (0, val(i))).unwrap();
                }
            });
            let mut cur = 0;
            for _ in 0..2 {
                match ring.read(cur, 1, 0, |o, _, v| {
                    let c = v.clone();
                    assert_eq!(c.load(Ordering::Relaxed), o as usize);
                }) {
                    Read::Got(n) => cur += n as u64,
                    Read::Evicted { oldest } => {
                        assert!(oldest > cur);
                        cur = oldest;
                    }
                    Read::Empty => {}
                    Read::Dropped { .. } => unreachable!("rings never report Dropped"),
                }
            }
            t.join().unwrap();
        });
    }

    /// Two producers on one partition: offsets are unique and every record is intact.
    #[test]
    fn two_producers() {
        loom::model(|| {
            let ring = Arc::new(Ring::<V>::new(2));
            let ts: Vec<_> = (0..2)
                .map(|i| {
                    let p = ring.clone();
                    thread::spawn(move || p.publish(1, |_, _| true, || (0, val(i))).unwrap())
                })
                .collect();
            let mut offs: Vec<u64> = ts.into_iter().map(|t| t.join().unwrap()).collect();
            offs.sort();
            assert_eq!(offs, vec![0, 1]);
            let mut seen = vec![];
            ring.read(0, 2, 0, |_, _, v| seen.push(v.load(Ordering::Relaxed)));
            seen.sort();
            assert_eq!(seen, vec![0, 1]);
        });
    }

    /// Close vs a publish: either the publish lands before the close (and is readable)
    /// or it is refused; the final end offset tells which.
    #[test]
    fn close_vs_publish() {
        loom::model(|| {
            let ring = Arc::new(Ring::<V>::new(2));
            let p = ring.clone();
            let t = thread::spawn(move || p.publish(1, |_, _| true, || (0, val(0))).is_ok());
            let end = ring.close();
            let published = t.join().unwrap();
            assert_eq!(published, end == 1);
            assert_eq!(ring.end_and_closed(), (end, true));
        });
    }
}
