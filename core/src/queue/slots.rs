//! A queue's message slots, and the ownership protocol that makes touching them
//! sound.
//!
//! A queue of capacity `n` has exactly `n` slots; each slot's index is always in
//! exactly one place: the free list, a ready queue, in flight, or the delay heap.
//! Whoever holds an index holds an [`Owned`] token for it, and only the holder of a
//! slot's token may touch the slot's message. Tokens move between holders only
//! through this module:
//!
//! * out of an [`IndexQueue`] by popping it, into one by pushing (the queue's
//!   release/acquire stamps order the previous holder's writes before the next
//!   holder's accesses);
//! * into flight by [`Slots::deliver`], which stores `gen << 1 | IN_FLIGHT` with
//!   release and consumes the token: while in flight nobody owns the message;
//! * out of flight by the one compare-and-swap that wins the state back
//!   ([`Slots::settle`] for a settle naming the delivery's generation, or
//!   [`Slots::expire`] for the visibility timeout), acquire pairing with the
//!   delivery's release.
//!
//! Generations count deliveries of a slot (62 bits: they never wrap), so a settle
//! from an expired delivery names an old generation and can never win.

#![allow(unsafe_code)]

use crate::queue::index::IndexQueue;
use crate::record::{Headers, Key};
use crate::sync::{AtomicI64, AtomicU64, Ordering, UnsafeCell};

/// The low bit of a state word: the slot is in flight.
const IN_FLIGHT: u64 = 1;

/// A message as a queue holds it.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) value: T,
    pub(crate) key: Option<Key>,
    pub(crate) headers: Headers,
    /// Bus-clock ms when it was sent.
    pub(crate) enqueued_at: i64,
    /// Send order: ties between messages due at the same time go by it.
    pub(crate) seq: u64,
    /// Deliveries so far.
    pub(crate) attempt: u32,
    /// For a share group: the record's partition and offset in its topic.
    pub(crate) origin: Option<(u32, u64)>,
}

struct Slot<T> {
    /// `generation << 1 | IN_FLIGHT`.
    state: AtomicU64,
    /// Visibility deadline (bus ms) of the current delivery; meaningful while in
    /// flight.
    deadline: AtomicI64,
    entry: UnsafeCell<Option<Entry<T>>>,
}

/// The right to touch one slot's message: exactly one exists per slot that is not in
/// flight.
#[must_use = "a slot's token must go back to a queue, the delay heap or flight"]
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Owned(u32);

impl Owned {
    pub(crate) fn index(&self) -> u32 {
        self.0
    }
}

/// The slots of one queue.
pub(crate) struct Slots<T> {
    slots: Box<[Slot<T>]>,
}

// SAFETY: a slot's message is only touched by the holder of its `Owned` token, and
// tokens move between threads only through the release/acquire edges described in
// the module docs, so no two threads ever access a message concurrently; messages
// move between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Slots<T> {}

impl<T> std::fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.slots.len())
            .finish()
    }
}

impl<T> Slots<T> {
    /// `n` empty slots, with the free list that owns them all; `None` when they
    /// cannot be allocated.
    pub(crate) fn try_new(n: u32) -> Option<(Self, IndexQueue)> {
        let mut slots = Vec::new();
        slots.try_reserve_exact(n as usize).ok()?;
        slots.extend((0..n).map(|_| Slot {
            state: AtomicU64::new(0),
            deadline: AtomicI64::new(0),
            entry: UnsafeCell::new(None),
        }));
        let free = IndexQueue::try_full_of(n)?;
        Some((
            Slots {
                slots: slots.into_boxed_slice(),
            },
            free,
        ))
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Takes the token at the head of `q`, with the position it had there.
    #[inline]
    pub(crate) fn pop(&self, q: &IndexQueue) -> Option<(u64, Owned)> {
        q.pop().map(|(pos, i)| (pos, Owned(i)))
    }

    /// Takes up to `max` tokens from the head of `q`, in order.
    pub(crate) fn pop_into(&self, q: &IndexQueue, max: usize, mut f: impl FnMut(Owned)) -> usize {
        q.pop_into(max, |_, i| f(Owned(i)))
    }

    /// Hands `o` to `q`.
    pub(crate) fn push(&self, q: &IndexQueue, o: Owned) {
        q.push(o.0);
    }

    /// Hands `o` to `q` unless `q` is closed (then hands it back).
    pub(crate) fn push_open(&self, q: &IndexQueue, o: Owned) -> Result<(), Owned> {
        q.push_open(o.0).map_err(|()| o)
    }

    /// Hands all of `os` to `q`, in order.
    pub(crate) fn push_all(&self, q: &IndexQueue, os: Vec<Owned>) {
        let indices: Vec<u32> = os.into_iter().map(|o| o.0).collect();
        q.push_all(&indices);
    }

    /// Runs `f` on the message of the slot `o` owns.
    pub(crate) fn with<R>(&self, o: &mut Owned, f: impl FnOnce(&mut Option<Entry<T>>) -> R) -> R {
        self.slots[o.0 as usize].entry.with_mut(|p| {
            // SAFETY: `o` is the one token of this slot, borrowed mutably, so nobody
            // else touches the message now, and the edge that handed `o` over
            // ordered every earlier access before this one (module docs).
            f(unsafe { &mut *p })
        })
    }

    /// Puts the slot in flight until `deadline`, consuming its token; returns the
    /// delivery's generation.
    pub(crate) fn deliver(&self, o: Owned, deadline: i64) -> u64 {
        let slot = &self.slots[o.0 as usize];
        let gen = (slot.state.load(Ordering::Relaxed) >> 1) + 1;
        slot.deadline.store(deadline, Ordering::Relaxed);
        // Release (part of SeqCst): pairs with the acquire half of the
        // compare-and-swap in `settle` or `expire`, ordering this holder's accesses
        // and the deadline before the next holder's. SeqCst: Dekker with the expiry
        // scan, which stores `next_expiry` and then loads states (engine docs).
        slot.state.store(gen << 1 | IN_FLIGHT, Ordering::SeqCst);
        gen
    }

    /// Takes the slot out of flight if delivery `gen` is still the current one.
    pub(crate) fn settle(&self, index: u32, gen: u64) -> Option<Owned> {
        let slot = &self.slots.get(index as usize)?;
        // AcqRel: acquire pairs with `deliver`'s release; release orders this win
        // before a racing `expire` or settle that loses.
        slot.state
            .compare_exchange(
                gen << 1 | IN_FLIGHT,
                gen << 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| Owned(index))
    }

    /// The deadline of slot `index`'s delivery and its generation, if in flight.
    pub(crate) fn in_flight(&self, index: u32) -> Option<(i64, u64)> {
        let slot = &self.slots[index as usize];
        // Acquire: pairs with `deliver`'s release, so the deadline read next is
        // the one stored for this generation (or a later one, and then the
        // compare-and-swap in `expire` fails). SeqCst: the scan's side of the
        // Dekker with `deliver`.
        let state = slot.state.load(Ordering::SeqCst);
        (state & IN_FLIGHT != 0).then(|| (slot.deadline.load(Ordering::Relaxed), state >> 1))
    }

    /// Takes slot `index` out of flight because delivery `gen` timed out.
    pub(crate) fn expire(&self, index: u32, gen: u64) -> Option<Owned> {
        self.settle(index, gen)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom model of a late settle racing the visibility timeout (run with
    //! `--cfg loom`).
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// The consumer acks while the timeout expires the same delivery: exactly one
    /// wins; the winner owns the message (loom checks its accesses against the
    /// consumer's), and a later delivery's settle cannot be won by the old one.
    #[test]
    fn late_ack_vs_expiry() {
        loom::model(|| {
            let (slots, free) = Slots::<Arc<usize>>::try_new(1).unwrap();
            let slots = Arc::new(slots);
            let (_, mut o) = slots.pop(&free).unwrap();
            slots.with(&mut o, |e| {
                *e = Some(Entry {
                    value: Arc::new(7),
                    key: None,
                    headers: Headers::new(),
                    enqueued_at: 0,
                    seq: 0,
                    origin: None,
                    attempt: 1,
                })
            });
            let gen = slots.deliver(o, 10);
            let s = slots.clone();
            let acker = thread::spawn(move || {
                s.settle(0, gen).map(|mut o| {
                    let v = s.with(&mut o, |e| e.take()).unwrap().value;
                    assert_eq!(*v, 7);
                    o
                })
            });
            let expired = slots.in_flight(0).and_then(|(deadline, g)| {
                assert_eq!((deadline, g), (10, gen));
                slots.expire(0, g)
            });
            let acked = acker.join().unwrap();
            match (acked, expired) {
                (Some(_), None) => {}
                (None, Some(mut o)) => {
                    // Redelivered: the old generation can no longer settle it.
                    assert!(slots.with(&mut o, |e| e.is_some()));
                    let gen2 = slots.deliver(o, 20);
                    assert!(slots.settle(0, gen).is_none());
                    assert!(slots.settle(0, gen2).is_some());
                }
                other => panic!("exactly one side must win: {other:?}"),
            }
        });
    }
}
