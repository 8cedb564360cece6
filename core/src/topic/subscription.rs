//! Subscriptions: independent readers over every partition of a topic.
//!
//! # A value whose `Clone` panics
//!
//! Readers get clones of the records. If a value's `Clone` panics, the read that
//! would have returned that record panics with it (a batch read returns the
//! records before it first), and the reader has moved past the record: the next
//! read returns the records after it (tokio's broadcast does the same). No lock is
//! left held, and the reader's position keeps gating `Block` producers as usual.
//! Group members read through a subscription and behave the same way.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::clock::waiter_id;
use crate::error::{RecvError, RecvTimeoutError, TryRecvError};
use crate::record::Record;
use crate::sync::{AtomicU64, Spin};
use crate::wait::thread_waker;
use crate::Error;

use super::ring::Read;
use super::start::resolve;
use super::{Cursor, OnFull, OnLag, Start, TopicInner};

/// Most records a subscription copies out of one partition per cursor read.
pub const BATCH: usize = 64;

struct PartReader<T> {
    cursor: Arc<Cursor>,
    /// The next offset to copy from the ring.
    next: u64,
    buf: VecDeque<Record<T>>,
    /// A gating subscription that started at `Earliest` and has handed out nothing of
    /// this partition yet: a gap here can only come from a publish that raced the
    /// subscribe, so the start moves instead of reporting records missed.
    fresh_earliest: bool,
    /// Whether this partition is read (a group member reads only its own).
    active: bool,
    /// A panic from cloning the record at `next - 1`, raised when the reader gets
    /// to it (the records copied before it are in `buf`).
    panicked: Option<Box<dyn std::any::Any + Send>>,
}

/// An independent reader over all partitions of a topic. `Send` when `T` is.
///
/// # Reading
///
/// A subscription takes records round-robin among the partitions that have one
/// ready, in offset order within each partition; for a given sequence of operations
/// on one thread the interleaving is deterministic. Internally it copies up to
/// [`BATCH`] records of a partition at a time with one cursor read, then hands them
/// out one by one, so `recv` costs a queue pop most of the time. Records it has
/// copied count as read (for gating and lag).
///
/// # Lagging
///
/// When the next record of a partition has been evicted (or expired), the next read
/// returns `Lagged { partition, skipped }` once, with the exact number of offsets
/// skipped, then continues per [`OnLag`]: from the oldest retained record (the
/// default), from the end, or not at all until [`Subscription::seek`]. A batch read
/// stops before a gap; the following read reports it. [`Subscription::skipped`]
/// totals every gap; iteration (`iter()`, `Stream`) counts gaps there instead of
/// reporting them.
///
/// # Closing
///
/// After the topic's `close()`, readers drain what is retained, then get `Closed`.
///
/// # Examples
///
/// ```
/// use ringlet::{Start, TopicConfig};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u32>("t", TopicConfig::default().partitions(2))?;
/// let mut sub = t.subscribe(Start::Earliest)?;
/// for i in 0..4 { t.publish(i).unwrap(); }
/// let mut got: Vec<u32> = sub.try_recv_batch(10).unwrap().into_iter().map(|r| r.value).collect();
/// got.sort();
/// assert_eq!(got, vec![0, 1, 2, 3]);
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct Subscription<T> {
    topic: Arc<TopicInner<T>>,
    parts: Box<[PartReader<T>]>,
    rr: usize,
    on_lag: OnLag,
    skipped: u64,
    /// A gap found while filling a batch, reported by the next read.
    pending: Option<(u32, u64)>,
    /// `OnLag::Error`: the gap that failed the subscription.
    failed: Option<(u32, u64)>,
    closed: bool,
    gating: bool,
    /// A group member's reader: not a subscription of its own (no gating cursors,
    /// not listed in snapshots).
    detached: bool,
    id: u64,
    /// Where a wait for records starts its back-off (see [`Subscription::adapt`]).
    backoff: u32,
    /// Records the last fill copied.
    last_fill: usize,
}

/// Highest starting back-off step: 2^8 CPU hints, about 2 µs here.
const MAX_BACKOFF: u32 = 8;

impl<T> std::fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &&*self.topic.name)
            .field("on_lag", &self.on_lag)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

enum Fill {
    Some,
    Empty,
    Lag(u32, u64),
}

impl<T: Clone + Send + Sync + 'static> Subscription<T> {
    pub(crate) fn new(
        topic: Arc<TopicInner<T>>,
        start: Start,
        on_lag: OnLag,
    ) -> Result<Self, Error> {
        let positions = resolve(&topic, &start)?;
        let gating = matches!(topic.config.on_full, OnFull::Block | OnFull::Reject);
        let parts = positions
            .into_iter()
            .enumerate()
            .map(|(p, pos)| {
                let cursor = Arc::new(Cursor {
                    pos: AtomicU64::new(pos),
                });
                let part = &topic.parts[p];
                let mut cursors = part.cursors.lock();
                cursors.push(cursor.clone());
                // Under the lock, so a concurrent rescan cannot raise it past us.
                part.gate.fetch_min(pos, Ordering::SeqCst);
                drop(cursors);
                PartReader {
                    cursor,
                    next: pos,
                    buf: VecDeque::new(),
                    fresh_earliest: gating && start == Start::Earliest,
                    active: true,
                    panicked: None,
                }
            })
            .collect::<Box<[PartReader<T>]>>();
        let id = waiter_id();
        topic.readers.lock().push((
            id,
            parts
                .iter()
                .map(|p: &PartReader<T>| p.cursor.clone())
                .collect(),
        ));
        Ok(Subscription {
            topic,
            parts,
            rr: 0,
            on_lag,
            skipped: 0,
            pending: None,
            failed: None,
            closed: false,
            gating,
            detached: false,
            id,
            backoff: 0,
            last_fill: 0,
        })
    }

    /// A reader for a group member: every partition inactive until
    /// [`Subscription::set_active`]; it gates nothing (the group gates by its
    /// committed offsets).
    pub(crate) fn detached(topic: Arc<TopicInner<T>>, on_lag: OnLag) -> Self {
        let parts = (0..topic.parts.len())
            .map(|_| PartReader {
                cursor: Arc::new(Cursor {
                    pos: AtomicU64::new(0),
                }),
                next: 0,
                buf: VecDeque::new(),
                fresh_earliest: false,
                active: false,
                panicked: None,
            })
            .collect();
        Subscription {
            topic,
            parts,
            rr: 0,
            on_lag,
            skipped: 0,
            pending: None,
            failed: None,
            closed: false,
            gating: false,
            detached: true,
            id: waiter_id(),
            backoff: 0,
            last_fill: 0,
        }
    }

    /// Starts reading partition `p` at `at`, or stops reading it (`None`), dropping
    /// what was copied from it and a gap pending on it.
    pub(crate) fn set_active(&mut self, p: u32, at: Option<u64>) {
        let pr = &mut self.parts[p as usize];
        if let Some(front) = pr.buf.front() {
            pr.next = front.offset; // what was copied but not handed out stays unread
        }
        pr.buf.clear();
        pr.panicked = None;
        pr.active = at.is_some();
        if let Some(o) = at {
            pr.next = o;
            pr.cursor.pos.store(o, Ordering::Release);
        }
        if self.pending.is_some_and(|(q, _)| q == p) {
            self.pending = None;
        }
        if self.failed.is_some_and(|(q, _)| q == p) {
            self.failed = None;
        }
    }

    /// Total offsets skipped over gaps so far (reported or not).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Start, TopicConfig};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(2))?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// for i in 0..5 { t.publish(i).unwrap(); }
    /// t.close();
    /// assert_eq!(sub.iter().map(|r| r.value).collect::<Vec<_>>(), vec![3, 4]);
    /// assert_eq!(sub.skipped(), 3);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The next offset this subscription will hand out, per partition.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish(1).unwrap();
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// assert_eq!(sub.positions(), vec![0]);
    /// sub.recv().unwrap();
    /// assert_eq!(sub.positions(), vec![1]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn positions(&self) -> Vec<u64> {
        self.parts
            .iter()
            .map(|p| p.buf.front().map_or(p.next, |r| r.offset))
            .collect()
    }

    /// Records published but not yet handed out, summed over partitions (evicted
    /// ones included until the gap is reported).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let sub = t.subscribe(Start::Latest)?;
    /// t.publish(1).unwrap();
    /// t.publish(2).unwrap();
    /// assert_eq!(sub.lag(), 2);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn lag(&self) -> u64 {
        self.positions()
            .iter()
            .enumerate()
            .map(|(p, pos)| self.topic.lag_from(p as u32, *pos))
            .sum()
    }

    /// Moves the subscription to `start`, forgetting copied records and a failed
    /// state.
    ///
    /// # Errors
    ///
    /// As [`crate::Topic::subscribe`]; the subscription is unchanged then.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// t.publish(1).unwrap();
    /// assert_eq!(sub.recv().unwrap().value, 1);
    /// sub.seek(Start::Earliest)?; // replay
    /// assert_eq!(sub.recv().unwrap().value, 1);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn seek(&mut self, start: Start) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        let positions = resolve(&self.topic, &start)?;
        for ((pr, pos), part) in self
            .parts
            .iter_mut()
            .zip(positions)
            .zip(self.topic.parts.iter())
        {
            pr.buf.clear();
            pr.panicked = None;
            pr.next = pos;
            pr.fresh_earliest = self.gating && start == Start::Earliest;
            let _cursors = part.cursors.lock();
            pr.cursor.pos.store(pos, Ordering::SeqCst);
            part.gate.fetch_min(pos, Ordering::SeqCst);
        }
        self.pending = None;
        self.failed = None;
        self.topic.notify_room_all();
        Ok(())
    }

    /// Closes this subscription: it stops gating producers and every read returns
    /// `Closed`. Dropping it does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{RecvError, Start};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// sub.close();
    /// assert_eq!(sub.recv(), Err(RecvError::Closed));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.deregister();
        for p in self.parts.iter_mut() {
            p.buf.clear();
            p.panicked = None;
        }
    }

    /// Blocks until a record is ready (or the topic is closed and drained).
    ///
    /// # Errors
    ///
    /// `Lagged` once per gap; `Closed` at the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Latest)?;
    /// let p = t.clone();
    /// std::thread::spawn(move || p.publish(42).unwrap());
    /// assert_eq!(sub.recv().unwrap().value, 42);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn recv(&mut self) -> Result<Record<T>, RecvError> {
        let mut spin = Spin::starting_at(self.backoff);
        let mut waited = false;
        loop {
            if let Some(r) = self.next_ready()? {
                if waited {
                    self.adapt();
                }
                return Ok(r);
            }
            waited = true;
            self.park(&mut spin, None, &|| false);
        }
    }

    /// Returns a ready record without waiting.
    ///
    /// # Errors
    ///
    /// `Empty` when nothing is ready; `Lagged`; `Closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Start, TryRecvError};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Latest)?;
    /// assert_eq!(sub.try_recv(), Err(TryRecvError::Empty));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn try_recv(&mut self) -> Result<Record<T>, TryRecvError> {
        self.next_ready()?.ok_or(TryRecvError::Empty)
    }

    /// Waits up to `timeout` (real time) for a record.
    ///
    /// # Errors
    ///
    /// `Timeout`; `Lagged`; `Closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::{RecvTimeoutError, Start};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Latest)?;
    /// assert_eq!(sub.recv_timeout(Duration::from_millis(5)), Err(RecvTimeoutError::Timeout));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Record<T>, RecvTimeoutError> {
        let deadline = Instant::now().checked_add(timeout);
        let mut spin = Spin::starting_at(self.backoff);
        let mut waited = false;
        loop {
            if let Some(r) = self.next_ready()? {
                if waited {
                    self.adapt();
                }
                return Ok(r);
            }
            waited = true;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            self.park(&mut spin, deadline, &|| false);
        }
    }

    /// Blocks until at least one record is ready, then returns up to `max` of those
    /// ready (round-robin across partitions; stops before a gap).
    ///
    /// # Errors
    ///
    /// As [`Subscription::recv`] when nothing could be returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// t.publish_batch([1, 2, 3]).unwrap();
    /// assert_eq!(sub.recv_batch(2).unwrap().len(), 2);
    /// assert_eq!(sub.recv_batch(2).unwrap().len(), 1);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn recv_batch(&mut self, max: usize) -> Result<Vec<Record<T>>, RecvError> {
        let mut spin = Spin::starting_at(self.backoff);
        let mut waited = false;
        loop {
            match self.try_recv_batch(max) {
                Ok(v) if !v.is_empty() || max == 0 => {
                    if waited {
                        self.adapt();
                    }
                    return Ok(v);
                }
                Ok(_) => {
                    waited = true;
                    self.park(&mut spin, None, &|| false)
                }
                Err(TryRecvError::Lagged { partition, skipped }) => {
                    return Err(RecvError::Lagged { partition, skipped })
                }
                Err(TryRecvError::Closed) => return Err(RecvError::Closed),
                Err(TryRecvError::Empty) => {
                    waited = true;
                    self.park(&mut spin, None, &|| false)
                }
            }
        }
    }

    /// Returns up to `max` ready records without waiting (possibly none).
    ///
    /// # Errors
    ///
    /// `Lagged` or `Closed` when nothing could be returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// assert!(sub.try_recv_batch(8).unwrap().is_empty());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn try_recv_batch(&mut self, max: usize) -> Result<Vec<Record<T>>, TryRecvError> {
        let mut out = Vec::with_capacity(max.min(BATCH * self.parts.len()));
        self.fill_batch(&mut out, max)?;
        Ok(out)
    }

    /// Waits up to `timeout` (real time) for a record, then returns up to `max` of
    /// those ready (stops before a gap, which the next read reports).
    ///
    /// # Errors
    ///
    /// As [`Subscription::recv_timeout`] when nothing could be returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(ringlet::Start::Earliest)?;
    /// t.publish_batch([1, 2, 3]).unwrap();
    /// assert_eq!(sub.recv_batch_timeout(2, Duration::from_millis(5)).unwrap().len(), 2);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn recv_batch_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<Record<T>>, RecvTimeoutError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let first = self.recv_timeout(timeout)?;
        let mut out = Vec::with_capacity(max.min(BATCH * self.parts.len()));
        out.push(first);
        let _ = self.fill_batch(&mut out, max);
        Ok(out)
    }

    /// Appends ready records to `out` up to `max`. A gap after some records stops
    /// the batch and is kept for the next read; an error only when `out` was empty.
    pub(crate) fn fill_batch(
        &mut self,
        out: &mut Vec<Record<T>>,
        max: usize,
    ) -> Result<(), TryRecvError> {
        while out.len() < max {
            // The batch so far is returned; the next read raises the panic.
            if !out.is_empty() && self.panic_due() {
                break;
            }
            match self.next_ready() {
                Ok(Some(r)) => out.push(r),
                Ok(None) => break,
                Err(RecvError::Lagged { partition, skipped }) if !out.is_empty() => {
                    if self.failed.is_none() {
                        self.pending = Some((partition, skipped));
                    }
                    break;
                }
                Err(e) if out.is_empty() => return Err(e.into()),
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// Waits asynchronously for the next record. Cancel-safe: dropping the future
    /// loses nothing.
    ///
    /// # Errors
    ///
    /// As [`Subscription::recv`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// t.publish(3).unwrap();
    /// assert_eq!(futures_executor::block_on(sub.recv_async()).unwrap().value, 3);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn recv_async(&mut self) -> RecvFuture<'_, T> {
        RecvFuture { sub: self }
    }

    /// Polls for the next record, for executors and bindings that keep no future
    /// (tokio's `poll_recv` habit): `Ready` with what [`Subscription::recv`] would
    /// return, or `Pending` with `cx`'s waker registered. The registration stays
    /// until the waker is woken, the next poll replaces it, or
    /// [`Subscription::cancel_poll`] (or dropping the subscription) removes it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(ringlet::Start::Earliest)?;
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(sub.poll_recv(&mut cx).is_pending());
    /// t.publish(7).unwrap();
    /// assert!(matches!(sub.poll_recv(&mut cx), Poll::Ready(Ok(r)) if r.value == 7));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Record<T>, RecvError>> {
        self.poll_next_record(cx)
    }

    /// Removes the waker a pending [`Subscription::poll_recv`] registered.
    pub fn cancel_poll(&mut self) {
        self.topic.data.unregister(self.id);
    }

    /// The next step of an iteration that does not wait, by the rule
    /// [`Subscription::iter`] and the `Stream` impl follow (gaps are passed over and
    /// counted in [`Subscription::skipped`] unless [`OnLag::Error`]):
    /// `Ok(Some(record))`, `Ok(None)` once the topic is closed and drained,
    /// `Err(Empty)` when nothing is ready, and `Err(Lagged)` only with
    /// `OnLag::Error`.
    ///
    /// # Errors
    ///
    /// `Empty`, or `Lagged` with `OnLag::Error`.
    pub fn try_next(&mut self) -> Result<Option<Record<T>>, TryRecvError> {
        let skip = self.on_lag != OnLag::Error;
        super::next_item(skip, || self.try_recv())
    }

    /// [`Subscription::try_next`], waiting up to `timeout` in all.
    ///
    /// # Errors
    ///
    /// `Timeout`, or `Lagged` with `OnLag::Error`.
    pub fn next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Record<T>>, RecvTimeoutError> {
        let skip = self.on_lag != OnLag::Error;
        super::next_item_timeout(skip, timeout, |d| self.recv_timeout(d))
    }

    /// [`Subscription::try_next`] as a poll: registers `cx`'s waker when nothing
    /// is ready (cancel with [`Subscription::cancel_poll`]).
    pub fn poll_next_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Record<T>>, RecvError>> {
        let skip = self.on_lag != OnLag::Error;
        super::poll_next_item(skip, || self.poll_recv(cx))
    }

    /// A blocking iterator over records; gaps are counted in
    /// [`Subscription::skipped`]; it ends when the topic is closed and drained (or,
    /// with [`OnLag::Error`], at a gap).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// t.publish_batch([1, 2, 3]).unwrap();
    /// t.close();
    /// assert_eq!(sub.iter().map(|r| r.value).sum::<u8>(), 6);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn iter(&mut self) -> Iter<'_, T> {
        Iter { sub: self }
    }

    /// Adapts where the next wait starts, after a wait that ended with records: a
    /// wait that found only a few records polled too eagerly (a reader that polls
    /// the slot a producer is writing slows both down), so the next one starts
    /// later; a wait that found many starts earlier, keeping latency low.
    pub(crate) fn adapt(&mut self) {
        if self.last_fill < 4 {
            self.backoff = (self.backoff + 1).min(MAX_BACKOFF);
        } else if self.last_fill >= BATCH / 2 {
            self.backoff = self.backoff.saturating_sub(2);
        }
    }

    /// The next record if one is ready; `Ok(None)` when nothing is.
    pub(crate) fn next_ready(&mut self) -> Result<Option<Record<T>>, RecvError> {
        if self.closed {
            return Err(RecvError::Closed);
        }
        if let Some((partition, skipped)) = self.pending.take().or(self.failed) {
            return Err(RecvError::Lagged { partition, skipped });
        }
        let n = self.parts.len();
        for i in 0..n {
            let p = (self.rr + i) % n;
            if !self.parts[p].active {
                continue;
            }
            if self.parts[p].buf.is_empty() {
                self.raise_panic(p);
                match self.fill(p) {
                    Fill::Lag(partition, skipped) => {
                        self.rr = (p + 1) % n;
                        return Err(RecvError::Lagged { partition, skipped });
                    }
                    Fill::Some | Fill::Empty => {}
                }
            }
            if let Some(r) = self.parts[p].buf.pop_front() {
                self.parts[p].fresh_earliest = false;
                self.rr = (p + 1) % n;
                return Ok(Some(r));
            }
            self.raise_panic(p);
        }
        if self.drained() {
            return Err(RecvError::Closed);
        }
        Ok(None)
    }

    /// Raises the panic of a record of `p` whose `Clone` panicked, once the reader
    /// has got to it (it has already moved past it).
    fn raise_panic(&mut self, p: usize) {
        if self.parts[p].buf.is_empty() {
            if let Some(payload) = self.parts[p].panicked.take() {
                self.rr = (p + 1) % self.parts.len();
                std::panic::resume_unwind(payload);
            }
        }
    }

    /// Whether a read would raise a value's `Clone` panic now.
    fn panic_due(&self) -> bool {
        self.parts
            .iter()
            .any(|p| p.active && p.buf.is_empty() && p.panicked.is_some())
    }

    /// Copies up to a batch of partition `p`'s records into its buffer.
    fn fill(&mut self, p: usize) -> Fill {
        if self.topic.faults.is_paused(p as u32) {
            // Its delivery is paused (an injected fault): nothing new for now.
            return Fill::Empty;
        }
        let floor = if self.topic.max_age_ms.is_some() {
            self.topic.floor(p as u32)
        } else {
            0
        };
        let part = &self.topic.parts[p];
        let partition = p as u32;
        let start = self.parts[p].next;
        let result = loop {
            let pr = &mut self.parts[p];
            let from = pr.next;
            // Past each record before cloning it: a value whose `Clone` panics is
            // passed over — the panic is kept and raised when the reader gets to it
            // (module docs) — instead of wedging the reader on it. One
            // `catch_unwind` per batch, not per record.
            let copied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                part.read(from, BATCH, floor, |offset, timestamp, e| {
                    pr.next = offset + 1;
                    pr.buf.push_back(Record {
                        partition,
                        offset,
                        timestamp,
                        key: e.key.clone(),
                        headers: e.headers.clone(),
                        value: e.value.clone(),
                    });
                })
            }));
            let read = match copied {
                Ok(read) => read,
                Err(payload) => {
                    pr.panicked = Some(payload);
                    break Fill::Some;
                }
            };
            match read {
                Read::Got(0) | Read::Empty => break Fill::Empty,
                Read::Got(n) => {
                    self.last_fill = n;
                    break Fill::Some;
                }
                // The start itself moved before the first read (a publish that
                // raced the subscribe evicted it): nothing was missed. Records that
                // expired by `max_age` unread were missed, under every policy.
                Read::Evicted { oldest }
                    if pr.fresh_earliest && oldest <= from.max(part.start()) =>
                {
                    pr.next = oldest
                }
                Read::Evicted { oldest } => {
                    let from = if pr.fresh_earliest {
                        from.max(part.start())
                    } else {
                        from
                    };
                    let to = match self.on_lag {
                        OnLag::Earliest | OnLag::Error => oldest,
                        OnLag::Latest => part.end().max(oldest),
                    };
                    let skipped = to - from;
                    self.skipped += skipped;
                    if self.on_lag == OnLag::Error {
                        self.failed = Some((partition, skipped));
                    } else {
                        pr.next = to;
                    }
                    break Fill::Lag(partition, skipped);
                }
                Read::Dropped { resume, .. } if pr.fresh_earliest => pr.next = resume,
                Read::Dropped { skipped, resume } => {
                    let to = match self.on_lag {
                        OnLag::Earliest | OnLag::Error => resume,
                        OnLag::Latest => part.end().max(resume),
                    };
                    self.skipped += skipped;
                    if self.on_lag == OnLag::Error {
                        self.failed = Some((partition, skipped));
                    } else {
                        pr.next = to;
                    }
                    break Fill::Lag(partition, skipped);
                }
            }
        };
        if self.parts[p].next != start {
            self.publish_cursor(p);
        }
        result
    }

    /// Publishes partition `p`'s position for gating, waking producers that wait
    /// for room.
    #[inline]
    fn publish_cursor(&self, p: usize) {
        let pr = &self.parts[p];
        if self.gating {
            // SeqCst: Dekker with producers that register for room, then rescan.
            pr.cursor.pos.store(pr.next, Ordering::SeqCst);
            self.topic.parts[p].room.notify();
        } else {
            pr.cursor.pos.store(pr.next, Ordering::Release);
        }
    }

    /// Whether something is copied and not handed out, or published and not
    /// copied, in an active partition (SeqCst: Dekker with producers), or the
    /// topic closed.
    pub(crate) fn has_pending(&self) -> bool {
        self.parts.iter().any(|p| p.active && !p.buf.is_empty()) || self.should_not_sleep()
    }

    /// Closed topic, and nothing left to read in any partition.
    fn drained(&self) -> bool {
        if !self.topic.closed.load(Ordering::Acquire) {
            return false;
        }
        self.parts
            .iter()
            .zip(self.topic.parts.iter())
            .all(|(pr, part)| {
                let (end, closed) = part.end_and_closed();
                !pr.active || (closed && pr.buf.is_empty() && pr.next >= end)
            })
    }

    /// Whether a wait should be skipped: something was claimed past a cursor (it is
    /// being written) or the topic closed. SeqCst loads: Dekker with the producers'
    /// claim and the waiter registration.
    pub(crate) fn should_not_sleep(&self) -> bool {
        self.parts
            .iter()
            .zip(self.topic.parts.iter())
            .enumerate()
            .any(|(p, (pr, part))| {
                if !pr.active {
                    return false;
                }
                let (end, closed) = part.end_and_closed_seqcst();
                // A paused partition (an injected fault) has nothing to read
                // until it is resumed, which wakes the readers.
                closed || (pr.next < end && !self.topic.faults.is_paused(p as u32))
            })
            || self.topic.closed.load(Ordering::SeqCst)
    }

    /// Waits a little for a publish (or the deadline): spins, then parks until a
    /// producer unparks it. `spin` carries over between retries of one call, so a
    /// reader waiting for a record that is being written backs off instead of
    /// taking the CPU from its writer. `awake` is checked after registering as a
    /// waiter (SeqCst), like the topic's progress: a group member's rebalance.
    pub(crate) fn park(
        &mut self,
        spin: &mut Spin,
        deadline: Option<Instant>,
        awake: &dyn Fn() -> bool,
    ) {
        if !spin.is_long() {
            spin.wait();
            return;
        }
        if self.should_not_sleep() {
            // Something is claimed but not yet published: its writer is running.
            spin.wait();
            return;
        }
        let waker = thread_waker();
        self.topic.data.register(self.id, &waker);
        crate::sync::dekker_fence();
        if !self.should_not_sleep() && !awake() {
            match deadline {
                Some(d) => std::thread::park_timeout(d.saturating_duration_since(Instant::now())),
                None => std::thread::park(),
            }
        }
        self.topic.data.unregister(self.id);
    }

    pub(crate) fn poll_next_record(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Record<T>, RecvError>> {
        for registered in [false, true] {
            match self.next_ready() {
                Ok(Some(r)) => return Poll::Ready(Ok(r)),
                Err(e) => return Poll::Ready(Err(e)),
                Ok(None) if registered => {
                    if self.should_not_sleep() {
                        // A record is being written right now: come back at once.
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
                Ok(None) => self.topic.data.register(self.id, cx.waker()),
            }
        }
        Poll::Pending
    }
}

impl<T> Subscription<T> {
    /// The next offset to hand out of partition `p`.
    pub(crate) fn position(&self, p: u32) -> u64 {
        let pr = &self.parts[p as usize];
        pr.buf.front().map_or(pr.next, |r| r.offset)
    }

    /// The subscription's waiter id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Stops gating and waiting: removes the cursors and the waker registration.
    fn deregister(&mut self) {
        if !self.detached {
            self.topic.readers.lock().retain(|(id, _)| *id != self.id);
        }
        for (pr, part) in self.parts.iter().zip(self.topic.parts.iter()) {
            part.cursors.lock().retain(|c| !Arc::ptr_eq(c, &pr.cursor));
            part.room.notify();
        }
        self.topic.data.unregister(self.id);
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        if !self.closed {
            self.deregister();
        }
    }
}

impl<T: Clone + Send + Sync + 'static> TopicInner<T> {
    fn notify_room_all(&self) {
        for p in self.parts.iter() {
            p.room.notify();
        }
    }
}

/// The future of [`Subscription::recv_async`].
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    sub: &'a mut Subscription<T>,
}

impl<T> std::fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Future for RecvFuture<'_, T> {
    type Output = Result<Record<T>, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.sub.poll_next_record(cx)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        self.sub.topic.data.unregister(self.sub.id);
    }
}

impl<T: Clone + Send + Sync + 'static> futures_core::Stream for Subscription<T> {
    type Item = Record<T>;

    /// Yields records; gaps are counted in `skipped()`; ends when the topic is closed
    /// and drained (or at a gap with `OnLag::Error`).
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Record<T>>> {
        let skip = self.on_lag != OnLag::Error;
        super::poll_next_item(skip, || self.poll_next_record(cx))
            .map(Result::ok)
            .map(Option::flatten)
    }
}

/// The blocking iterator of [`Subscription::iter`].
pub struct Iter<'a, T> {
    sub: &'a mut Subscription<T>,
}

impl<T> std::fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Iterator for Iter<'_, T> {
    type Item = Record<T>;

    fn next(&mut self) -> Option<Record<T>> {
        let skip = self.sub.on_lag != OnLag::Error;
        super::next_item(skip, || self.sub.recv()).ok().flatten()
    }
}
crate::topic::reader_by_inherent_methods!(Subscription);
