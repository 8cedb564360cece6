//! A bounded multi-producer, multi-consumer FIFO of slot indices: Dmitry Vyukov's
//! bounded MPMC queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>),
//! with batch operations that claim a run of cells with one compare-and-swap, and a
//! closed bit on the tail that refuses pushes from senders.
//!
//! # Algorithm
//!
//! Every cell has a `stamp`. For the push at position `pos` the cell is free when
//! its stamp is `pos`; the pusher claims `pos` by moving `tail` from `pos` to
//! `pos + 1` (compare-and-swap), writes the index and stores the stamp `pos + 1`
//! (release). The pop at `pos` takes the cell when its stamp is `pos + 1`, moves
//! `head` the same way, reads the index and stores the stamp `pos + size`: free for
//! the push one lap later. A stamp therefore tells each side, with one load, whether
//! its cell is ready, still being written, or still being emptied by the previous
//! lap. Positions are `u64` and never wrap in practice (2^63 operations).
//!
//! A batch claims `k` consecutive cells whose stamps are all ready with one
//! compare-and-swap of `head` (or `tail`) from `pos` to `pos + k`: the stamps were
//! checked before, and only the owner of a position can change its stamp.
//!
//! The engine keeps every slot index in exactly one place at a time (the free list,
//! a ready queue, in flight, or delayed), and each queue has at least twice as many
//! cells as slots, so a push never finds the queue full; it can only find a cell
//! whose previous pop has claimed it but not yet stored the stamp (a popper
//! preempted for a whole lap), and waits for that store.
//!
//! # Layout
//!
//! `head` and `tail` sit on their own cache lines. `tail`'s bit 63 is [`CLOSED`].
//! Cells are a stamp and an index, both atomics, so this module has no `unsafe`.

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicU32, AtomicU64, Ordering, Spin};

/// Bit 63 of `tail`: pushes that respect closing fail (internal pushes ignore it).
const CLOSED: u64 = 1 << 63;

/// Most cells one batch claims with one compare-and-swap.
const RUN: usize = 64;

struct Cell {
    /// `pos` (free for the push at `pos`), `pos + 1` (written), or `pos + size`.
    stamp: AtomicU64,
    index: AtomicU32,
}

/// A bounded lock-free FIFO of `u32` slot indices.
pub(crate) struct IndexQueue {
    /// Next position to pop.
    head: CachePadded<AtomicU64>,
    /// Next position to push; bit 63 is [`CLOSED`].
    tail: CachePadded<AtomicU64>,
    cells: Box<[Cell]>,
    /// `cells.len() - 1` (the length is a power of two).
    mask: u64,
}

impl std::fmt::Debug for IndexQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexQueue")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// What a pop found.
enum Peek {
    /// `k` cells from `head` are ready.
    Ready(u64, usize),
    /// Nothing is ready and nothing is being written.
    Empty,
    /// A push claimed the cell but has not finished writing it, or `head` moved.
    Retry,
}

impl IndexQueue {
    /// An empty queue for up to `capacity` indices, with at least twice as many
    /// cells (and at least two: with one, a written stamp `pos + 1` would read as
    /// free for the next lap).
    ///
    /// The spare half matters for speed: a push at `pos` reuses the cell of the pop
    /// at `pos - size`, which with at most `capacity` indices queued happened at
    /// least `size - capacity` pops earlier, so a pusher waits for a popper that was
    /// preempted between its claim and its stamp store only if that popper stalled
    /// for that many operations. With `size == capacity` a full queue would make
    /// every pusher wait for the very latest pop (measured on 2 cores, 4 threads:
    /// receive + ack at 3–4 M/s, the preempted popper's time slice dominating).
    #[cfg(test)]
    pub(crate) fn new(capacity: usize) -> Self {
        Self::try_new(capacity).expect("test queues fit in memory")
    }

    /// As `new`; `None` when the cells cannot be allocated.
    pub(crate) fn try_new(capacity: usize) -> Option<Self> {
        let size = capacity
            .max(1)
            .checked_mul(2)?
            .checked_next_power_of_two()?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).ok()?;
        cells.extend((0..size as u64).map(|i| Cell {
            stamp: AtomicU64::new(i),
            index: AtomicU32::new(0),
        }));
        Some(IndexQueue {
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
            cells: cells.into_boxed_slice(),
            mask: size as u64 - 1,
        })
    }

    /// A queue holding `0..n`, in order (the free list of `n` slots).
    pub(crate) fn try_full_of(n: u32) -> Option<Self> {
        let q = Self::try_new(n as usize)?;
        for i in 0..n {
            q.push(i);
        }
        Some(q)
    }

    fn size(&self) -> u64 {
        self.mask + 1
    }

    fn cell(&self, pos: u64) -> &Cell {
        &self.cells[(pos & self.mask) as usize]
    }

    /// Appends `index`, even if closed.
    pub(crate) fn push(&self, index: u32) {
        let _ = self.push_run(&[index], false);
    }

    /// Appends `index` unless the queue is closed.
    pub(crate) fn push_open(&self, index: u32) -> Result<(), ()> {
        self.push_run(&[index], true).map(|_| ())
    }

    /// Appends all of `indices` in order, even if closed (in runs of up to 64,
    /// one compare-and-swap each).
    pub(crate) fn push_all(&self, indices: &[u32]) {
        for run in indices.chunks(RUN) {
            let _ = self.push_run(run, false);
        }
    }

    /// Appends `indices` (at most `RUN`) as one run. Fails only if `open` and closed.
    fn push_run(&self, indices: &[u32], open: bool) -> Result<u64, ()> {
        let k = indices.len() as u64;
        debug_assert!(k as usize <= RUN && k <= self.size());
        let mut spin = Spin::new();
        'retry: loop {
            let t = self.tail.load(Ordering::Relaxed);
            if open && t & CLOSED != 0 {
                return Err(());
            }
            let pos = t & !CLOSED;
            for i in 0..k {
                // Acquire: pairs with the release store of the pop that freed it.
                let stamp = self.cell(pos + i).stamp.load(Ordering::Acquire);
                if stamp != pos + i {
                    if stamp < pos + i {
                        // The previous lap's pop claimed it and is storing its stamp
                        // (the engine never overfills a queue).
                        spin.wait();
                    }
                    continue 'retry;
                }
            }
            // SeqCst: Dekker with waiters, who register and then check emptiness.
            if self
                .tail
                .compare_exchange(t, t + k, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            for (i, &index) in indices.iter().enumerate() {
                let cell = self.cell(pos + i as u64);
                cell.index.store(index, Ordering::Relaxed);
                // Release: pairs with the acquire load of the pop at this position.
                cell.stamp.store(pos + i as u64 + 1, Ordering::Release);
            }
            return Ok(pos);
        }
    }

    /// Looks at up to `max` cells from `head`.
    fn peek(&self, max: usize, spin: &mut Spin) -> Peek {
        let h = self.head.load(Ordering::Relaxed);
        let max = max.min(RUN) as u64;
        let mut k = 0;
        while k < max {
            // Acquire: pairs with the release store of the push at this position.
            let stamp = self.cell(h + k).stamp.load(Ordering::Acquire);
            if stamp == h + k + 1 {
                k += 1;
                continue;
            }
            if k == 0 && stamp <= h {
                // Not written for this lap: empty, unless a push has claimed it.
                if self.tail.load(Ordering::SeqCst) & !CLOSED <= h {
                    return Peek::Empty;
                }
                spin.wait();
                return Peek::Retry;
            }
            break;
        }
        if k == 0 {
            Peek::Retry
        } else {
            Peek::Ready(h, k as usize)
        }
    }

    /// Takes the first index, if any, with the position it was queued at.
    #[inline]
    pub(crate) fn pop(&self) -> Option<(u64, u32)> {
        let mut out = None;
        self.pop_into(1, |pos, i| out = Some((pos, i)));
        out
    }

    /// Takes up to `max` indices (at least one if any is ready), passing each to `f`
    /// in order with its position; returns how many.
    pub(crate) fn pop_into(&self, max: usize, mut f: impl FnMut(u64, u32)) -> usize {
        if max == 0 {
            return 0;
        }
        let mut spin = Spin::new();
        loop {
            let (h, k) = match self.peek(max, &mut spin) {
                Peek::Ready(h, k) => (h, k as u64),
                Peek::Empty => return 0,
                Peek::Retry => continue,
            };
            if self
                .head
                .compare_exchange(h, h + k, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            for i in 0..k {
                let cell = self.cell(h + i);
                f(h + i, cell.index.load(Ordering::Relaxed));
                // Release: pairs with the acquire load of the push one lap later.
                cell.stamp.store(h + i + self.size(), Ordering::Release);
            }
            return k as usize;
        }
    }

    /// How many indices are queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire) & !CLOSED;
        t.saturating_sub(h) as usize
    }

    /// Whether nothing is queued or being pushed. SeqCst: Dekker with pushers, for
    /// waiters that registered just before.
    pub(crate) fn is_empty_seqcst(&self) -> bool {
        let t = self.tail.load(Ordering::SeqCst) & !CLOSED;
        self.head.load(Ordering::SeqCst) >= t
    }

    /// Refuses further [`IndexQueue::push_open`]s.
    pub(crate) fn close(&self) {
        self.tail.fetch_or(CLOSED, Ordering::SeqCst);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Pushes ever made (the tail position).
    pub(crate) fn pushed(&self) -> u64 {
        self.tail.load(Ordering::Acquire) & !CLOSED
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_wraparound() {
        let q = IndexQueue::new(3);
        assert_eq!(q.size(), 8);
        assert_eq!(IndexQueue::new(1).size(), 2);
        for lap in 0..10u32 {
            q.push(lap);
            q.push(lap + 100);
            assert_eq!(q.len(), 2);
            assert_eq!(q.pop(), Some((2 * u64::from(lap), lap)));
            assert_eq!(q.pop().map(|p| p.1), Some(lap + 100));
            assert_eq!(q.pop(), None);
        }
        assert_eq!(q.pushed(), 20);
    }

    #[test]
    fn batches_and_close() {
        let q = IndexQueue::try_full_of(5).unwrap();
        let mut got = vec![];
        assert_eq!(q.pop_into(3, |_, i| got.push(i)), 3);
        assert_eq!(q.pop_into(10, |_, i| got.push(i)), 2);
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        q.push_all(&[9, 8, 7]);
        q.close();
        assert!(q.push_open(1).is_err());
        q.push(6);
        got.clear();
        q.pop_into(usize::MAX, |_, i| got.push(i));
        assert_eq!(got, vec![9, 8, 7, 6]);
        assert!(q.is_closed() && q.is_empty_seqcst());
    }

    #[test]
    fn threads_move_every_index_once() {
        const N: u32 = if cfg!(miri) { 64 } else { 20_000 };
        let free = std::sync::Arc::new(IndexQueue::try_full_of(8).unwrap());
        let ready = std::sync::Arc::new(IndexQueue::new(8));
        let moved = std::sync::Arc::new(AtomicU64::new(0));
        let hs: Vec<_> = (0..2)
            .map(|t| {
                let (free, ready, moved) = (free.clone(), ready.clone(), moved.clone());
                std::thread::spawn(move || {
                    let mut taken = vec![];
                    while moved.load(Ordering::Relaxed) < u64::from(N) {
                        if t == 0 {
                            if let Some((_, i)) = free.pop() {
                                ready.push(i);
                            }
                        } else {
                            taken.clear();
                            ready.pop_into(3, |_, i| taken.push(i));
                            moved.fetch_add(taken.len() as u64, Ordering::Relaxed);
                            free.push_all(&taken);
                        }
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let mut all = vec![];
        free.pop_into(usize::MAX, |_, i| all.push(i));
        ready.pop_into(usize::MAX, |_, i| all.push(i));
        all.sort_unstable();
        assert_eq!(all, (0..8).collect::<Vec<_>>());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom models of the index queue (run with `--cfg loom`).
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    /// Two pushers and a batch popper: every index comes out once, each pusher's in
    /// order.
    #[test]
    fn two_pushers_one_batch_popper() {
        loom::model(|| {
            let q = Arc::new(IndexQueue::new(2));
            let hs: Vec<_> = [0u32, 10]
                .into_iter()
                .map(|base| {
                    let q = q.clone();
                    thread::spawn(move || q.push(base))
                })
                .collect();
            let mut got = vec![];
            while got.len() < 2 {
                if q.pop_into(2, |_, i| got.push(i)) == 0 {
                    thread::yield_now();
                }
            }
            for h in hs {
                h.join().unwrap();
            }
            got.sort_unstable();
            assert_eq!(got, vec![0, 10]);
            assert!(q.pop().is_none());
        });
    }

    /// A full lap: a pusher reuses cells while a popper empties them; nothing is
    /// lost, duplicated or reordered.
    #[test]
    fn wraparound_push_pop() {
        loom::model(|| {
            let q = Arc::new(IndexQueue::new(1)); // two cells: the third push wraps
            let p = q.clone();
            let t = thread::spawn(move || {
                for i in 0..3 {
                    p.push(i);
                }
            });
            let mut got = vec![];
            while got.len() < 3 {
                match q.pop() {
                    Some((_, i)) => got.push(i),
                    None => thread::yield_now(),
                }
            }
            t.join().unwrap();
            assert_eq!(got, vec![0, 1, 2]);
        });
    }

    /// Close vs push_open: a push either lands before the close (and is popped) or
    /// fails; nothing is half-pushed.
    #[test]
    fn close_vs_push() {
        loom::model(|| {
            let q = Arc::new(IndexQueue::new(2));
            let p = q.clone();
            let t = thread::spawn(move || p.push_open(7).is_ok());
            q.close();
            let pushed = t.join().unwrap();
            assert_eq!(q.pop().is_some(), pushed);
        });
    }
}
