//! The queue engine: sending, delivering, settling, delays, visibility timeouts and
//! dead letters over the [`Slots`] and three lock-free [`IndexQueue`]s.
//!
//! # Where a message is
//!
//! Every slot index is in exactly one place (see [`Slots`]):
//!
//! * `free`: empty slots. A send pops one (so `capacity` counts ready, in-flight and
//!   delayed messages exactly), writes the message and pushes the index to `main`.
//! * `main`: first deliveries in send order, then delayed messages as they fall due.
//!   Its tail's closed bit is the queue's closed flag: a send either lands before
//!   the close or fails, atomically.
//! * `retry`: nacked and timed-out messages, in the order they came back.
//!   Receivers take from `retry` first, so they go to the head.
//! * in flight: owned by nobody; a settle or the visibility timeout wins it back
//!   with one compare-and-swap on the slot's state.
//! * the delay heap (`nack_after`, `send_delayed`): a mutex-guarded binary heap by
//!   (due time, send order). Delays are the slow path.
//!
//! The fast path (send, receive, ack) takes no lock: a pop and a push on two index
//! queues per side, and a compare-and-swap on the slot state for the ack.
//!
//! # Time
//!
//! Transitions are evaluated when due, by whoever touches the queue next (a send,
//! a receive, [`QueueInner::figures`]) and by waiters, which park until the next
//! deadline (`next_due` for delays, `next_expiry` for visibility timeouts) and are
//! woken then by the bus timer or [`crate::ManualClock::advance`]. `next_expiry`
//! is a lower bound of the in-flight deadlines: receivers lower it when they
//! deliver something that expires earlier; the expiry scan (one thread at a time)
//! resets it, looks at every slot, and lowers it to the earliest deadline left. A
//! receiver stores its slot's in-flight state (SeqCst) before it reads
//! `next_expiry` (SeqCst), and the scan stores `next_expiry` before it reads the
//! states, so one of the two sees the other: no delivery is missed. With a
//! constant visibility timeout deadlines grow with time, so in steady traffic the
//! scan runs about once per timeout period.

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::clock::waiter_id;
use crate::dead_letter::DeadLetterFn;
use crate::error::SettleError;
use crate::fault_point::{injected_io, InjectedError, SharedPoint};
use crate::journal::{Event, EventKind, Journal};
use crate::queue::durable::{Outgoing, QueueLog, Restored};
use crate::queue::index::IndexQueue;
use crate::queue::slots::{Entry, Owned, Slots};
use crate::queue::{QueueConfig, QueueFigures};
use crate::record::{Headers, Key, Message};
use crate::sync::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Mutex, Ordering, Spin};
use crate::wait::{thread_waker, BusTimer, Notifier};

/// Where a share group's messages come from: the topic records they copy.
pub(crate) trait Source: Send + Sync {
    /// Whether the record is still retained by its topic.
    fn retained(&self, partition: u32, offset: u64) -> bool;
    /// The record left the queue for good: settled, dead-lettered, dropped, or
    /// (`lost`) evicted from its topic before it was settled.
    fn settled(&self, partition: u32, offset: u64, lost: bool);
}

/// Optional parts of a queue: a share group's source, the bus journal, a
/// durable queue's log.
pub(crate) struct Hooks<T> {
    pub(crate) source: Option<Arc<dyn Source>>,
    pub(crate) journal: Option<Arc<Journal>>,
    pub(crate) durable: Option<QueueLog<T>>,
    /// The faults armed on the queue (a share group's are its topic's).
    pub(crate) faults: Option<SharedPoint>,
}

impl<T> Default for Hooks<T> {
    fn default() -> Self {
        Hooks {
            source: None,
            journal: None,
            durable: None,
            faults: None,
        }
    }
}

/// A delivery as a settle names it: slot index, generation, deadline.
pub(crate) type Token = (u32, u64, i64);

/// Schedules settles to be applied at a bus-clock time (the `delay_acks`
/// fault); type-erased so that a `Delivery<T>` of any `T` can use it.
type LateSettler = Box<dyn Fn(i64, Vec<Token>, Settle) + Send + Sync>;

/// Settles applied when the bus timer wakes it.
struct LateSettle<T> {
    queue: std::sync::Weak<QueueInner<T>>,
    job: Mutex<Option<(Vec<Token>, Settle)>>,
}

impl<T: Send + 'static> std::task::Wake for LateSettle<T> {
    fn wake(self: Arc<Self>) {
        let job = self.job.lock().take();
        if let (Some(q), Some((tokens, how))) = (self.queue.upgrade(), job) {
            q.settle_arrived(tokens, how);
        }
    }
}

/// Why a send took nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendRefused {
    Full,
    Closed,
    Timeout,
    /// A durable queue's storage refused the message (or its codec did);
    /// boxed to keep the common refusals small.
    Storage(Box<crate::Error>),
}

/// Why a receive got nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoMessage {
    Empty,
    Closed,
    Timeout,
    /// A durable queue's storage refused to record the deliveries (the messages
    /// are ready again); boxed to keep the common outcomes small.
    Storage(Box<crate::Error>),
}

/// How a delivery is settled.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Settle {
    Ack,
    Nack,
    NackAfter(i64),
    Reject,
}

impl Settle {
    fn as_str(self) -> &'static str {
        match self {
            Settle::Ack => "ack",
            Settle::Nack | Settle::NackAfter(_) => "nack",
            Settle::Reject => "reject",
        }
    }
}

/// How long a blocking call may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    Never,
    Until(Option<Instant>),
}

/// A message taken for delivery.
#[derive(Debug)]
pub(crate) struct Taken<T> {
    pub(crate) index: u32,
    pub(crate) gen: u64,
    pub(crate) value: T,
    pub(crate) key: Option<Key>,
    pub(crate) headers: Headers,
    pub(crate) attempt: u32,
    pub(crate) enqueued_at: i64,
    /// Bus-clock ms when the visibility timeout passes.
    pub(crate) deadline: i64,
    /// A share group's record: partition and offset.
    pub(crate) origin: Option<(u32, u64)>,
}

/// A message waiting for its due time; ordered by (due, send order).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Delayed {
    due: i64,
    seq: u64,
    slot: Owned,
}

/// Counters of the slow paths. `sent` and `acked` are not counted on the fast
/// path: they are derived from the index queues' positions.
#[derive(Debug, Default)]
struct Counters {
    delayed_sends: AtomicU64,
    promoted: AtomicU64,
    unsent: AtomicU64,
    nacked: AtomicU64,
    redelivered: AtomicU64,
    expired: AtomicU64,
    dead_lettered: AtomicU64,
    dropped: AtomicU64,
    overflow: AtomicU64,
    /// Share groups: records found evicted from their topic (not acked).
    lost: AtomicU64,
}

/// Why a message is dead-lettered (the `ringlet.dead_letter.reason` header).
#[derive(Debug, Clone, Copy)]
enum Reason {
    MaxDeliveries,
    Rejected,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::MaxDeliveries => "max_deliveries",
            Reason::Rejected => "rejected",
        }
    }
}

pub(crate) struct QueueInner<T> {
    pub(crate) name: Arc<str>,
    pub(crate) config: QueueConfig,
    pub(crate) timer: Arc<BusTimer>,
    vt_ms: i64,
    /// `u32::MAX` when unlimited.
    max_deliveries: u32,
    slots: Slots<T>,
    free: IndexQueue,
    main: IndexQueue,
    retry: IndexQueue,
    delayed: Mutex<BinaryHeap<Reverse<Delayed>>>,
    delayed_len: AtomicUsize,
    /// Earliest due time in the delay heap; `i64::MAX` when empty.
    next_due: CachePadded<AtomicI64>,
    /// A lower bound of the in-flight deadlines; `i64::MAX` when none is known.
    next_expiry: CachePadded<AtomicI64>,
    scanning: AtomicBool,
    /// Receivers waiting for a ready message (or a deadline).
    pub(crate) ready_waiters: Notifier,
    /// Senders waiting for room.
    pub(crate) room_waiters: Notifier,
    counters: CachePadded<Counters>,
    dead_letter: Option<DeadLetterFn<T>>,
    /// With a manual clock: runs [`QueueInner::maintain`] when woken, registered
    /// with the clock for the next deadline, so `advance` fires the queue's
    /// transitions when they fall due.
    maintainer: Option<Waker>,
    /// The deadline the maintainer is registered for, and its timer id.
    armed: Mutex<i64>,
    /// A copy of `armed` readable without the lock.
    armed_at: AtomicI64,
    armed_id: u64,
    source: Option<Arc<dyn Source>>,
    journal: Option<Arc<Journal>>,
    /// A durable queue's lifecycle log (see [`crate::queue::durable`]), boxed: it is
    /// large and cold.
    pub(crate) durable: Option<Box<QueueLog<T>>>,
    /// The faults armed on the queue (see [`crate::faults`]).
    pub(crate) faults: SharedPoint,
    /// Applies delayed settles (set by [`QueueInner::new_arc`]).
    late: Option<LateSettler>,
}

/// Wakes into [`QueueInner::maintain`] (see `QueueInner::maintainer`).
struct Maintainer<T>(std::sync::Weak<QueueInner<T>>);

impl<T: Send + 'static> std::task::Wake for Maintainer<T> {
    fn wake(self: Arc<Self>) {
        if let Some(q) = self.0.upgrade() {
            q.maintain(q.now());
        }
    }
}

impl<T> std::fmt::Debug for QueueInner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueInner")
            .field("name", &&*self.name)
            .finish_non_exhaustive()
    }
}

/// A queue's preallocated storage: its slots and index queues.
pub(crate) struct Storage<T> {
    slots: Slots<T>,
    free: IndexQueue,
    main: IndexQueue,
    retry: IndexQueue,
}

impl<T> Storage<T> {
    /// Storage for `capacity` messages, or `ConfigError` (naming the queue
    /// `name`) when it cannot be allocated.
    pub(crate) fn try_new(name: &str, capacity: usize) -> Result<Self, crate::Error> {
        let n = u32::try_from(capacity).unwrap_or(u32::MAX);
        let storage = Slots::try_new(n).and_then(|(slots, free)| {
            Some(Storage {
                slots,
                free,
                main: IndexQueue::try_new(n as usize)?,
                retry: IndexQueue::try_new(n as usize)?,
            })
        });
        storage.ok_or_else(|| crate::Error::ConfigError {
            name: name.into(),
            reason: format!("not enough memory for capacity {capacity}"),
        })
    }
}

impl<T> QueueInner<T> {
    pub(crate) fn new(
        name: Arc<str>,
        config: QueueConfig,
        timer: Arc<BusTimer>,
        dead_letter: Option<DeadLetterFn<T>>,
        maintainer: Option<Waker>,
        hooks: Hooks<T>,
        storage: Storage<T>,
    ) -> Self {
        let Storage {
            slots,
            free,
            main,
            retry,
        } = storage;
        QueueInner {
            vt_ms: crate::clock::duration_ms(config.visibility_timeout).max(1),
            max_deliveries: config.max_deliveries.unwrap_or(u32::MAX),
            name,
            config,
            timer,
            slots,
            free,
            main,
            retry,
            delayed: Mutex::new(BinaryHeap::new()),
            delayed_len: AtomicUsize::new(0),
            next_due: CachePadded::new(AtomicI64::new(i64::MAX)),
            next_expiry: CachePadded::new(AtomicI64::new(i64::MAX)),
            scanning: AtomicBool::new(false),
            ready_waiters: Notifier::default(),
            room_waiters: Notifier::default(),
            counters: CachePadded::new(Counters::default()),
            dead_letter,
            maintainer,
            armed: Mutex::new(i64::MAX),
            armed_at: AtomicI64::new(i64::MAX),
            armed_id: waiter_id(),
            source: hooks.source,
            journal: hooks.journal,
            durable: hooks.durable.map(Box::new),
            faults: hooks.faults.unwrap_or_default(),
            late: None,
        }
    }

    /// A queue whose transitions a manual clock fires when it is advanced.
    pub(crate) fn new_arc(
        name: Arc<str>,
        config: QueueConfig,
        timer: Arc<BusTimer>,
        dead_letter: Option<DeadLetterFn<T>>,
        hooks: Hooks<T>,
    ) -> Result<Arc<Self>, crate::Error>
    where
        T: Send + 'static,
    {
        let storage = Storage::try_new(&name, config.capacity)?;
        let manual = timer.clock().is_manual();
        Ok(Arc::new_cyclic(|weak| {
            let maintainer =
                manual.then(|| Waker::from(Arc::new(Maintainer(std::sync::Weak::clone(weak)))));
            let settle_timer = timer.clone();
            let me = std::sync::Weak::clone(weak);
            let mut q =
                QueueInner::new(name, config, timer, dead_letter, maintainer, hooks, storage);
            q.late = Some(Box::new(move |at, tokens, how| {
                let job = Arc::new(LateSettle {
                    queue: me.clone(),
                    job: Mutex::new(Some((tokens, how))),
                });
                settle_timer.schedule(at, waiter_id(), &Waker::from(job));
            }));
            q
        }))
    }

    fn now(&self) -> i64 {
        self.timer.clock().now_ms()
    }

    /// Journals `kind` for the message in `e` (journal on only).
    #[cold]
    fn journal(&self, j: &Journal, kind: EventKind, e: &Entry<T>, extra: impl FnOnce(&mut Event)) {
        let mut ev = Event {
            queue: Some(self.name.to_string()),
            message: Some(e.seq),
            attempt: Some(e.attempt),
            partition: e.origin.map(|o| o.0),
            offset: e.origin.map(|o| o.1),
            ..Event::new(kind)
        };
        extra(&mut ev);
        j.emit(ev);
    }

    /// Journals `kind` for the message in `slot` (journal on only).
    #[inline]
    fn journal_slot(&self, kind: EventKind, slot: &mut Owned) {
        if let Some(j) = &self.journal {
            self.slots.with(slot, |e| {
                if let Some(e) = e.as_ref() {
                    self.journal(j, kind, e, |_| {});
                }
            });
        }
    }

    /// Free slots: how many messages a send can take now.
    pub(crate) fn room(&self) -> usize {
        self.free.len()
    }

    /// The message left for good: tell the source, free the slot.
    #[inline]
    fn finish(&self, mut slot: Owned, lost: bool) {
        let Some(src) = &self.source else {
            // A plain queue: drop the message in place.
            self.slots.with(&mut slot, |e| *e = None);
            return self.free_slot(slot);
        };
        let origin = self
            .slots
            .with(&mut slot, |e| e.take().and_then(|e| e.origin));
        self.free_slot(slot);
        if let Some((p, o)) = origin {
            src.settled(p, o, lost);
        }
    }

    /// Whether a share group's message still has its record in the topic.
    #[inline]
    fn retained(&self, slot: &mut Owned) -> bool {
        let Some(src) = &self.source else { return true };
        let origin = self.slots.with(slot, |e| e.as_ref().and_then(|e| e.origin));
        origin.is_none_or(|(p, o)| src.retained(p, o))
    }

    /// A share group's record was evicted before it was settled.
    #[cold]
    fn lose(&self, slot: Owned) {
        self.counters.lost.fetch_add(1, Ordering::Relaxed);
        self.finish(slot, true);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.main.is_closed()
    }

    /// Refuses further sends; wakes everyone waiting so they see it.
    pub(crate) fn close(&self) {
        self.main.close();
        // Serialises with delayed sends, which check the flag under this lock.
        drop(self.delayed.lock());
        self.ready_waiters.notify();
        self.room_waiters.notify();
    }

    /// Ready messages (retry plus main).
    pub(crate) fn ready_len(&self) -> usize {
        self.main.len() + self.retry.len()
    }

    // --- sending ---------------------------------------------------------------

    /// Sends `msg` now (or after `delay_ms`) if there is room, without waiting.
    pub(crate) fn try_send(
        &self,
        msg: Message<T>,
        delay_ms: Option<i64>,
    ) -> Result<(), (SendRefused, Message<T>)> {
        if let Some(r) = self.injected(false) {
            return Err((r, msg));
        }
        self.try_send_from(msg, delay_ms, None)
    }

    /// An injected `fail_sends` failure for this call, if one is armed: what the
    /// send reports. A call that waits for room without a timeout cannot report
    /// `Full`: an injected `full` reaches it as an `Io` error saying so.
    #[inline]
    pub(crate) fn injected(&self, waits: bool) -> Option<SendRefused> {
        let e = self.faults.take_failure()?;
        Some(match e {
            InjectedError::Full if waits => SendRefused::Storage(Box::new(injected_io(
                &self.name,
                "fail_sends, error full: the queue reported full",
            ))),
            InjectedError::Full => SendRefused::Full,
            InjectedError::Closed => SendRefused::Closed,
            InjectedError::Io => {
                SendRefused::Storage(Box::new(injected_io(&self.name, "fail_sends, error io")))
            }
        })
    }

    /// [`QueueInner::try_send`] for a share group's record at `origin`.
    #[inline]
    pub(crate) fn try_send_from(
        &self,
        msg: Message<T>,
        delay_ms: Option<i64>,
        origin: Option<(u32, u64)>,
    ) -> Result<(), (SendRefused, Message<T>)> {
        if self.main.is_closed() {
            return Err((SendRefused::Closed, msg));
        }
        let now = self.now();
        self.promote_due(now);
        let Some((mut seq, mut slot)) = self.slots.pop(&self.free) else {
            return Err((SendRefused::Full, msg));
        };
        let due = match delay_ms {
            Some(d) if d > 0 => Some(now.saturating_add(d)),
            _ => None,
        };
        if let Some(log) = &self.durable {
            // In the log before anyone can receive it.
            match self.log_one(log, &msg, due, now, slot) {
                Ok((id, s)) => {
                    seq = id;
                    slot = s;
                }
                Err(e) => return Err((SendRefused::Storage(Box::new(e)), msg)),
            }
        }
        self.place(seq, slot, msg, due, now, origin)
    }

    /// Logs a durable queue's send of `msg` in reserved `slot`: its id (and
    /// the slot), or — the slot freed — why the log refused it. Out of line,
    /// so that an in-memory send stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn log_one(
        &self,
        log: &QueueLog<T>,
        msg: &Message<T>,
        due: Option<i64>,
        now: i64,
        slot: Owned,
    ) -> Result<(u64, Owned), crate::Error> {
        match self.log_sent(log, std::slice::from_ref(msg), due, now) {
            Ok(ids) => Ok((ids[0], slot)),
            Err(e) => {
                self.counters.unsent.fetch_add(1, Ordering::Relaxed);
                self.free_slot(slot);
                Err(e)
            }
        }
    }

    /// Sends as many of `msgs` (from the front, no delay) as there is room for
    /// now, a durable queue's as one write of its log; returns how many were
    /// sent. Refused (`Full` when nothing fits), what was not sent stays in
    /// `msgs`, in order.
    pub(crate) fn try_send_chunk(
        &self,
        msgs: &mut std::collections::VecDeque<Message<T>>,
    ) -> Result<usize, SendRefused> {
        if self.main.is_closed() {
            return Err(SendRefused::Closed);
        }
        let now = self.now();
        self.promote_due(now);
        let mut reserved = Vec::new();
        while reserved.len() < msgs.len() {
            match self.slots.pop(&self.free) {
                Some(s) => reserved.push(s),
                None => break,
            }
        }
        if reserved.is_empty() {
            return Err(SendRefused::Full);
        }
        let k = reserved.len();
        if let Some(log) = &self.durable {
            let chunk = msgs.make_contiguous();
            match self.log_sent(log, &chunk[..k], None, now) {
                Ok(ids) => {
                    for ((seq, _), id) in reserved.iter_mut().zip(ids) {
                        *seq = id;
                    }
                }
                Err(e) => {
                    self.counters.unsent.fetch_add(k as u64, Ordering::Relaxed);
                    for (_, slot) in reserved {
                        self.free_slot(slot);
                    }
                    return Err(SendRefused::Storage(Box::new(e)));
                }
            }
        }
        let mut reserved = reserved.into_iter();
        let mut sent = 0;
        while let Some((seq, slot)) = reserved.next() {
            let msg = msgs.pop_front().expect("a message per reserved slot");
            if let Err((refused, msg)) = self.place(seq, slot, msg, None, now, None) {
                // Closed meanwhile: the rest is not sent either (nor kept in
                // the log).
                let rest: Vec<(u64, Owned)> = reserved.collect();
                self.counters
                    .unsent
                    .fetch_add(rest.len() as u64, Ordering::Relaxed);
                if let Some(log) = &self.durable {
                    let _ = log.removed(rest.iter().map(|(seq, _)| *seq).collect());
                }
                for (_, slot) in rest {
                    self.free_slot(slot);
                }
                msgs.push_front(msg);
                return if sent == 0 { Err(refused) } else { Ok(sent) };
            }
            sent += 1;
        }
        Ok(sent)
    }

    /// Logs that `msgs` entered the queue (one write); returns their ids.
    #[cold]
    fn log_sent(
        &self,
        log: &QueueLog<T>,
        msgs: &[Message<T>],
        due: Option<i64>,
        now: i64,
    ) -> Result<Vec<u64>, crate::Error> {
        let outgoing = msgs
            .iter()
            .map(|msg| {
                log.encode(&msg.value).map(|value| Outgoing {
                    enqueued_at: msg.timestamp.unwrap_or(now),
                    key: msg.key.as_ref(),
                    headers: &msg.headers,
                    due,
                    value,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        log.sent(outgoing)
    }

    /// Puts `msg` in its reserved `slot` (id `seq`): ready, or delayed until
    /// `due`. Refused (closed meanwhile), the slot is freed and a durable
    /// queue logs that it left.
    #[inline(always)]
    fn place(
        &self,
        seq: u64,
        mut slot: Owned,
        msg: Message<T>,
        due: Option<i64>,
        now: i64,
        origin: Option<(u32, u64)>,
    ) -> Result<(), (SendRefused, Message<T>)> {
        let Message {
            value,
            key,
            headers,
            partition,
            timestamp,
        } = msg;
        self.slots.with(&mut slot, |e| {
            *e = Some(Entry {
                value,
                key,
                headers,
                enqueued_at: timestamp.unwrap_or(now),
                seq,
                attempt: 0,
                origin,
            })
        });
        let unsend = |mut slot: Owned| {
            let e = self.slots.with(&mut slot, Option::take);
            self.counters.unsent.fetch_add(1, Ordering::Relaxed);
            self.free_slot(slot);
            let e = e.expect("the entry written above");
            if let Some(log) = &self.durable {
                // Refused after it was logged: it must not come back after a
                // restart either (if this write fails too, it may, as a
                // failed send may have been kept).
                let _ = log.removed(vec![e.seq]);
            }
            Message {
                value: e.value,
                key: e.key,
                headers: e.headers,
                partition,
                timestamp,
            }
        };
        match due {
            Some(due) => {
                let mut heap = self.delayed.lock();
                if self.main.is_closed() {
                    drop(heap);
                    return Err((SendRefused::Closed, unsend(slot)));
                }
                heap.push(Reverse(Delayed { due, seq, slot }));
                self.counters.delayed_sends.fetch_add(1, Ordering::Relaxed);
                let earlier = self.heap_changed(&heap);
                drop(heap);
                if earlier {
                    self.deadlines_changed();
                }
                Ok(())
            }
            _ => match self.slots.push_open(&self.main, slot) {
                Ok(()) => {
                    self.ready_waiters.notify();
                    Ok(())
                }
                Err(slot) => Err((SendRefused::Closed, unsend(slot))),
            },
        }
    }

    /// Sends `msg`, waiting for room as `wait` allows.
    pub(crate) fn send(
        &self,
        msg: Message<T>,
        delay_ms: Option<i64>,
        wait: Wait,
    ) -> Result<(), (SendRefused, Message<T>)> {
        let deadline = match wait {
            Wait::Never => return self.try_send(msg, delay_ms),
            Wait::Until(d) => d,
        };
        if let Some(r) = self.injected(deadline.is_none()) {
            return Err((r, msg));
        }
        self.send_unchecked(msg, delay_ms, deadline)
    }

    /// [`QueueInner::send`] past the fault check, waiting up to `deadline`.
    pub(crate) fn send_unchecked(
        &self,
        msg: Message<T>,
        delay_ms: Option<i64>,
        deadline: Option<Instant>,
    ) -> Result<(), (SendRefused, Message<T>)> {
        let mut msg = Some(msg);
        let sent = self.wait_for(
            &[&self.room_waiters],
            deadline,
            || match self.try_send_from(msg.take()?, delay_ms, None) {
                Err((SendRefused::Full, m)) => {
                    msg = Some(m);
                    None
                }
                r => Some(r),
            },
            // Room comes from settles, and from expiries that dead-letter.
            || self.free.is_empty_seqcst() && !self.main.is_closed(),
            || self.next_expiry(),
        );
        match (sent, msg) {
            (Some(r), _) => r,
            (None, Some(m)) => Err((SendRefused::Timeout, m)),
            (None, None) => Ok(()), // unreachable: the message is held until sent
        }
    }

    /// Retries `attempt` until it returns `Some` or `deadline` (real time) passes:
    /// spins briefly, then registers with `waiters` and parks while `may_sleep`
    /// holds, until woken by progress, by the bus clock at `due`, or by the deadline.
    pub(crate) fn wait_for<R>(
        &self,
        waiters: &[&Notifier],
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
        may_sleep: impl Fn() -> bool,
        due: impl Fn() -> Option<i64>,
    ) -> Option<R> {
        /// Unregisters the waiter when the call ends, also by a panic (a value's
        /// `Clone` in `attempt`).
        struct Registered<'a> {
            waiters: &'a [&'a Notifier],
            timer: &'a BusTimer,
            id: u64,
            waker: Option<Waker>,
        }
        impl Drop for Registered<'_> {
            fn drop(&mut self) {
                if self.waker.is_some() {
                    for n in self.waiters {
                        n.unregister(self.id);
                    }
                    self.timer.cancel(self.id);
                }
            }
        }
        // The waiter id and waker are made only if the call has to park.
        let mut reg = Registered {
            waiters,
            timer: &self.timer,
            id: 0,
            waker: None,
        };
        let mut spin = Spin::new();
        loop {
            if let Some(r) = attempt() {
                return Some(r);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            if !spin.is_long() {
                spin.wait();
                continue;
            }
            if reg.waker.is_none() {
                reg.id = waiter_id();
            }
            let id = reg.id;
            let w = reg.waker.get_or_insert_with(thread_waker);
            for n in waiters {
                n.register(id, w);
            }
            if may_sleep() {
                self.timer.park(id, w, due(), deadline);
            }
        }
    }

    /// Returns an empty slot to the free list and wakes a sender waiting for room.
    fn free_slot(&self, slot: Owned) {
        self.slots.push(&self.free, slot);
        self.room_waiters.notify();
    }

    // --- time ------------------------------------------------------------------

    /// Stores the heap's earliest due time; true if it moved earlier.
    fn heap_changed(&self, heap: &BinaryHeap<Reverse<Delayed>>) -> bool {
        self.delayed_len.store(heap.len(), Ordering::Relaxed);
        let next = heap.peek().map_or(i64::MAX, |d| d.0.due);
        next < self.next_due.swap(next, Ordering::SeqCst)
    }

    /// Wakes every waiter so it re-arms its timer for a new, earlier deadline.
    fn deadlines_changed(&self) {
        self.arm();
        self.ready_waiters.notify();
        self.room_waiters.notify();
    }

    /// With a manual clock, registers the maintainer for the next deadline (and
    /// runs what is already due, if the clock has passed it meanwhile). The
    /// maintainer is never woken while `armed` is held: waking runs `maintain`,
    /// which arms again.
    fn arm(&self) {
        let Some(w) = &self.maintainer else { return };
        loop {
            let next = self.next_deadline().unwrap_or(i64::MAX);
            if self.armed_at.load(Ordering::Acquire) == next {
                return;
            }
            {
                let mut armed = self.armed.lock();
                if *armed == next {
                    return;
                }
                *armed = next;
                self.armed_at.store(next, Ordering::Release);
                if next == i64::MAX {
                    self.timer.cancel(self.armed_id);
                } else {
                    self.timer.register_at(next, self.armed_id, w);
                }
            }
            let now = self.now();
            if next > now {
                return;
            }
            self.promote_due(now);
            self.expire_due(now);
        }
    }

    /// The earliest bus-clock time a delayed message falls due or a delivery may
    /// expire.
    pub(crate) fn next_deadline(&self) -> Option<i64> {
        let d = self
            .next_due
            .load(Ordering::SeqCst)
            .min(self.next_expiry.load(Ordering::SeqCst));
        (d != i64::MAX).then_some(d)
    }

    fn next_expiry(&self) -> Option<i64> {
        let d = self.next_expiry.load(Ordering::SeqCst);
        (d != i64::MAX).then_some(d)
    }

    /// Runs every transition due at `now`: delayed messages join `main`, expired
    /// deliveries go back to `retry` (or to the dead letter).
    pub(crate) fn maintain(&self, now: i64) {
        self.promote_due(now);
        self.expire_due(now);
        self.arm();
    }

    /// Moves delayed messages due at `now` to the tail of `main`, by due time, ties
    /// in send order.
    fn promote_due(&self, now: i64) {
        if now < self.next_due.load(Ordering::Acquire) {
            return;
        }
        let mut moved = 0u64;
        {
            let mut heap = self.delayed.lock();
            while let Some(top) = heap.peek_mut() {
                if top.0.due > now {
                    break;
                }
                let Reverse(d) = PeekMut::pop(top);
                self.slots.push(&self.main, d.slot);
                moved += 1;
            }
            self.heap_changed(&heap);
        }
        if moved > 0 {
            self.counters.promoted.fetch_add(moved, Ordering::Relaxed);
            self.ready_waiters.notify();
        }
    }

    /// Takes back every delivery whose visibility timeout passed at `now`.
    fn expire_due(&self, now: i64) {
        if now < self.next_expiry.load(Ordering::SeqCst) {
            return;
        }
        if self.scanning.swap(true, Ordering::Acquire) {
            return; // another thread is scanning
        }
        // SeqCst: Dekker with receivers (see the module docs).
        self.next_expiry.store(i64::MAX, Ordering::SeqCst);
        crate::sync::dekker_fence();
        let mut due: Vec<(i64, u64, Owned)> = Vec::new();
        let mut next = i64::MAX;
        for i in 0..self.slots.len() as u32 {
            let Some((deadline, gen)) = self.slots.in_flight(i) else {
                continue;
            };
            if deadline > now {
                next = next.min(deadline);
            } else if let Some(mut slot) = self.slots.expire(i, gen) {
                let seq = self
                    .slots
                    .with(&mut slot, |e| e.as_ref().map_or(0, |e| e.seq));
                due.push((deadline, seq, slot));
            }
        }
        self.next_expiry.fetch_min(next, Ordering::SeqCst);
        self.scanning.store(false, Ordering::Release);
        if !due.is_empty() {
            due.sort_unstable();
            self.counters
                .expired
                .fetch_add(due.len() as u64, Ordering::Relaxed);
            for (_, _, mut slot) in due {
                self.journal_slot(EventKind::Expire, &mut slot);
                self.requeue(slot, None, now);
            }
        }
        if next != i64::MAX {
            self.deadlines_changed();
        }
    }

    // --- settling --------------------------------------------------------------

    /// Under a `delay_acks` fault, schedules the settles `tokens` to arrive
    /// when the delay has passed and returns true; false when settles are not
    /// delayed (the caller settles now).
    /// `tokens` is called only then (nothing is allocated on the common path).
    #[inline]
    pub(crate) fn settle_later(&self, tokens: impl FnOnce() -> Vec<Token>, how: Settle) -> bool {
        let (Some(ms), Some(late)) = (self.faults.settle_delay(), &self.late) else {
            return false;
        };
        let tokens = tokens();
        self.faults
            .delayed
            .fetch_add(tokens.len() as u64, Ordering::Relaxed);
        late(self.now().saturating_add(ms), tokens, how);
        true
    }

    /// Delayed settles arriving: applied as if made now; one whose visibility
    /// timeout passed meanwhile changes nothing (its message was taken back)
    /// and counts as late.
    fn settle_arrived(&self, tokens: Vec<Token>, how: Settle) {
        for (index, gen, deadline) in tokens {
            if let Err(SettleError::Expired) = self.settle(index, gen, deadline, how) {
                self.faults.late.fetch_add(1, Ordering::Relaxed);
                if let Some(j) = &self.journal {
                    j.emit(Event {
                        queue: Some(self.name.to_string()),
                        reason: Some("late_ack".into()),
                        detail: Some(format!(
                            "a delayed {} arrived after the visibility timeout: the message was taken back",
                            how.as_str()
                        )),
                        ..Event::new(EventKind::Fault)
                    });
                }
            }
        }
    }

    /// Settles delivery `gen` of slot `index`, unless its visibility timeout
    /// (`deadline`) has passed: then the timeout wins, whether or not anyone has
    /// taken the message back yet.
    pub(crate) fn settle(
        &self,
        index: u32,
        gen: u64,
        deadline: i64,
        how: Settle,
    ) -> Result<(), SettleError> {
        let now = self.now();
        if now >= deadline {
            self.expire_one(index, gen, now);
            return Err(SettleError::Expired);
        }
        let Some(mut slot) = self.slots.settle(index, gen) else {
            return Err(SettleError::Expired);
        };
        if !self.retained(&mut slot) {
            self.lose(slot);
            return Err(SettleError::Expired);
        }
        match how {
            Settle::Ack => {
                if let Err(e) = self.log_removed(&mut slot) {
                    // Not acked on disk: not acked here either (ready again).
                    self.ready_again(slot);
                    return Err(SettleError::Storage(e));
                }
                self.journal_slot(EventKind::Ack, &mut slot);
                self.finish(slot, false);
            }
            Settle::Nack => {
                self.counters.nacked.fetch_add(1, Ordering::Relaxed);
                self.journal_slot(EventKind::Nack, &mut slot);
                self.requeue(slot, None, 0);
            }
            Settle::NackAfter(d) => {
                self.counters.nacked.fetch_add(1, Ordering::Relaxed);
                self.journal_slot(EventKind::Nack, &mut slot);
                let now = self.now();
                if let Some(log) = &self.durable {
                    let id = self.seq_of(&mut slot);
                    if let Err(e) = log.delayed(id, now.saturating_add(d)) {
                        self.requeue(slot, None, 0);
                        return Err(SettleError::Storage(e));
                    }
                }
                self.requeue(slot, Some(d), now);
            }
            Settle::Reject => self.dead_letter(slot, Reason::Rejected),
        }
        Ok(())
    }

    /// The send order (a durable queue's message id) of the message in `slot`.
    fn seq_of(&self, slot: &mut Owned) -> u64 {
        self.slots.with(slot, |e| e.as_ref().map_or(0, |e| e.seq))
    }

    /// A durable queue: logs that the message in `slot` left for good.
    fn log_removed(&self, slot: &mut Owned) -> Result<(), crate::Error> {
        match &self.durable {
            Some(log) => log.removed(vec![self.seq_of(slot)]),
            None => Ok(()),
        }
    }

    /// Takes back delivery `gen` of slot `index` because its timeout passed.
    fn expire_one(&self, index: u32, gen: u64, now: i64) {
        if let Some(mut slot) = self.slots.expire(index, gen) {
            self.counters.expired.fetch_add(1, Ordering::Relaxed);
            self.journal_slot(EventKind::Expire, &mut slot);
            self.requeue(slot, None, now);
        }
    }

    /// Acks many deliveries `(index, gen, deadline)`: one push of their slots to
    /// the free list. Returns how many were acked (the others had expired).
    pub(crate) fn ack_all(&self, deliveries: impl Iterator<Item = (u32, u64, i64)>) -> usize {
        let now = self.now();
        let mut freed = Vec::new();
        let mut acked_one_by_one = 0;
        for (index, gen, deadline) in deliveries {
            if now >= deadline {
                self.expire_one(index, gen, now);
                continue;
            }
            if let Some(mut slot) = self.slots.settle(index, gen) {
                if self.source.is_some() || self.journal.is_some() {
                    // Share groups and the journal: one at a time.
                    if !self.retained(&mut slot) {
                        self.lose(slot);
                        continue;
                    }
                    if self.log_removed(&mut slot).is_err() {
                        self.ready_again(slot);
                        continue;
                    }
                    self.journal_slot(EventKind::Ack, &mut slot);
                    self.finish(slot, false);
                    acked_one_by_one += 1;
                    continue;
                }
                if self.durable.is_none() {
                    self.slots.with(&mut slot, |e| *e = None);
                }
                freed.push(slot);
            }
        }
        if let Some(log) = &self.durable {
            // The entries stay until the removal is logged: a failed write
            // makes them ready again.
            let ids = freed.iter_mut().map(|s| self.seq_of(s)).collect();
            if log.removed(ids).is_err() {
                // Not acked on disk: none of them is acked (ready again).
                for slot in freed {
                    self.ready_again(slot);
                }
                return acked_one_by_one;
            }
            for slot in &mut freed {
                self.slots.with(slot, |e| *e = None);
            }
        }
        let n = freed.len();
        let acked = acked_one_by_one + n;
        if n > 0 {
            self.slots.push_all(&self.free, freed);
            self.room_waiters.notify();
        }
        acked
    }

    /// A message came back (nack or timeout): to the head of the ready messages, to
    /// the delay heap, or — on its last allowed attempt — to the dead letter.
    fn requeue(&self, mut slot: Owned, delay_ms: Option<i64>, now: i64) {
        let (attempt, seq) = self.slots.with(&mut slot, |e| {
            e.as_ref().map_or((0, 0), |e| (e.attempt, e.seq))
        });
        if attempt >= self.max_deliveries {
            return self.dead_letter(slot, Reason::MaxDeliveries);
        }
        match delay_ms {
            Some(d) if d > 0 => {
                let mut heap = self.delayed.lock();
                heap.push(Reverse(Delayed {
                    due: now.saturating_add(d),
                    seq,
                    slot,
                }));
                let earlier = self.heap_changed(&heap);
                drop(heap);
                if earlier {
                    self.deadlines_changed();
                }
            }
            _ => {
                self.slots.push(&self.retry, slot);
                self.ready_waiters.notify();
            }
        }
    }

    /// Sends a share group's record at `origin` that was delivered `attempt`
    /// times before the group was opened again (on a durable topic): ready at
    /// the head, or — out of attempts — dead-lettered, as the timeout of its
    /// last delivery would have.
    pub(crate) fn send_again(
        &self,
        msg: Message<T>,
        origin: (u32, u64),
        attempt: u32,
    ) -> Result<(), (SendRefused, Message<T>)> {
        if self.main.is_closed() {
            return Err((SendRefused::Closed, msg));
        }
        let now = self.now();
        let Some((seq, mut slot)) = self.slots.pop(&self.free) else {
            return Err((SendRefused::Full, msg));
        };
        let Message {
            value,
            key,
            headers,
            timestamp,
            ..
        } = msg;
        self.slots.with(&mut slot, |e| {
            *e = Some(Entry {
                value,
                key,
                headers,
                enqueued_at: timestamp.unwrap_or(now),
                seq,
                attempt,
                origin: Some(origin),
            })
        });
        if attempt >= self.max_deliveries {
            self.dead_letter(slot, Reason::MaxDeliveries);
        } else {
            self.ready_again(slot);
        }
        Ok(())
    }

    /// A message whose ack could not be stored: ready again at the head.
    fn ready_again(&self, slot: Owned) {
        self.slots.push(&self.retry, slot);
        self.ready_waiters.notify();
    }

    /// Puts a durable queue's messages read back at open where they were: ready
    /// (delivered ones at the head), delayed, or — out of attempts — dead-lettered.
    /// Before anyone can see the queue.
    ///
    /// # Errors
    ///
    /// `ConfigError` when they do not fit the capacity.
    pub(crate) fn restore(&self, messages: Vec<Restored<T>>) -> Result<(), crate::Error> {
        let (held, cap) = (messages.len(), self.slots.len());
        if held > cap {
            return Err(crate::Error::ConfigError {
                name: self.name.to_string(),
                reason: format!(
                    "it holds {held} messages, more than capacity {cap}: open it with a capacity of at least {held}"
                ),
            });
        }
        let now = self.now();
        let mut main = Vec::new();
        let mut out_of_attempts = Vec::new();
        let mut delayed = 0u64;
        for m in messages {
            let Some((_, mut slot)) = self.slots.pop(&self.free) else {
                break; // counted above: never
            };
            self.slots.with(&mut slot, |e| {
                *e = Some(Entry {
                    value: m.value,
                    key: m.key,
                    headers: m.headers,
                    enqueued_at: m.enqueued_at,
                    seq: m.id,
                    attempt: m.attempt,
                    origin: None,
                })
            });
            if m.attempt > 0 && m.attempt >= self.max_deliveries {
                out_of_attempts.push(slot);
            } else if let Some(due) = m.due.filter(|&d| d > now) {
                self.delayed.lock().push(Reverse(Delayed {
                    due,
                    seq: m.id,
                    slot,
                }));
                delayed += 1;
            } else if m.attempt > 0 {
                self.slots.push(&self.retry, slot);
            } else {
                main.push(slot);
            }
        }
        self.slots.push_all(&self.main, main);
        self.counters
            .delayed_sends
            .fetch_add(delayed, Ordering::Relaxed);
        let heap = self.delayed.lock();
        self.heap_changed(&heap);
        drop(heap);
        for slot in out_of_attempts {
            self.dead_letter(slot, Reason::MaxDeliveries);
        }
        self.deadlines_changed();
        Ok(())
    }

    /// Frees the slot and sends its message to the dead letter, never waiting.
    fn dead_letter(&self, mut slot: Owned, reason: Reason) {
        let entry = self.slots.with(&mut slot, Option::take);
        self.free_slot(slot);
        let Some(e) = entry else { return };
        /// Logs the removal once the dead letter has the message (a crash in
        /// between dead-letters it twice rather than never).
        struct Logged<'a, T>(Option<&'a QueueLog<T>>, u64);
        impl<T> Drop for Logged<'_, T> {
            fn drop(&mut self) {
                if let Some(log) = self.0 {
                    // A failing log: it may come back after a restart.
                    let _ = log.removed(vec![self.1]);
                }
            }
        }
        let _logged = Logged(self.durable.as_deref(), e.seq);
        if let (Some(src), Some((p, o))) = (&self.source, e.origin) {
            src.settled(p, o, false);
        }
        let journal = |outcome: &str| {
            if let Some(j) = &self.journal {
                self.journal(j, EventKind::DeadLetter, &e, |ev| {
                    ev.reason = Some(reason.as_str().into());
                    ev.outcome = Some(outcome.into());
                });
            }
        };
        let Some(send) = &self.dead_letter else {
            journal("dropped");
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        journal("sent");
        let msg = Message {
            value: e.value,
            key: e.key,
            headers: e
                .headers
                .with("ringlet.dead_letter.reason", reason.as_str())
                .with("ringlet.dead_letter.attempts", e.attempt.to_string())
                .with("ringlet.dead_letter.source", &*self.name),
            partition: None,
            // The original enqueue time, as SQS keeps a message's sent time: the
            // headers say why it was dead-lettered, the journal when.
            timestamp: Some(e.enqueued_at),
        };
        let counter = if send(msg) {
            &self.counters.dead_lettered
        } else {
            &self.counters.overflow
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    // --- figures ---------------------------------------------------------------

    /// The queue's figures, after running what is due.
    pub(crate) fn figures(&self) -> QueueFigures {
        self.maintain(self.now());
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let capacity = self.slots.len() as u64;
        let ready = self.ready_len() as u64;
        let delayed = self.delayed_len.load(Ordering::Relaxed) as u64;
        let free = self.free.len() as u64;
        let removed = get(&c.dead_lettered) + get(&c.dropped) + get(&c.overflow) + get(&c.lost);
        QueueFigures {
            ready,
            in_flight: capacity.saturating_sub(free + ready + delayed),
            delayed,
            sent: (self.main.pushed() + get(&c.delayed_sends)).saturating_sub(get(&c.promoted)),
            acked: self
                .free
                .pushed()
                .saturating_sub(capacity + removed + get(&c.unsent)),
            nacked: get(&c.nacked),
            redelivered: get(&c.redelivered),
            expired: get(&c.expired),
            dead_lettered: get(&c.dead_lettered),
            dropped: get(&c.dropped),
            dead_letter_overflow: get(&c.overflow),
        }
    }
}

impl<T: Clone> QueueInner<T> {
    /// Takes up to `max` ready messages into flight, without waiting: `retry`
    /// first, then `main`. Hands each to `f`; returns how many (at least one).
    /// A durable queue logs the deliveries before handing any out.
    pub(crate) fn try_take(&self, max: usize, f: impl FnMut(Taken<T>)) -> Result<usize, NoMessage> {
        match &self.durable {
            None => self.take_ready(max, &mut Direct(f)),
            Some(log) => self.take_ready(
                max,
                &mut LogFirst {
                    log,
                    f,
                    ids: Vec::new(),
                    pending: Vec::new(),
                },
            ),
        }
    }

    /// [`QueueInner::try_take`], handing each delivery to `sink`.
    fn take_ready(&self, max: usize, sink: &mut impl TakeSink<T>) -> Result<usize, NoMessage> {
        let now = self.now();
        self.maintain(now);
        let deadline = now.saturating_add(self.vt_ms);
        let mut taken_n = 0usize;
        let mut redelivered = 0u64;
        let mut lost = 0usize;
        let mut in_flight = 0usize;
        let panicked = std::cell::RefCell::new(None);
        let mut deliver = |mut slot: Owned| {
            if self.source.is_some() && !self.retained(&mut slot) {
                lost += 1;
                return self.lose(slot);
            }
            let taken = self.slots.with(&mut slot, |e| {
                e.as_mut().map(|e| {
                    e.attempt = e.attempt.saturating_add(1);
                    if let Some(j) = &self.journal {
                        let kind = if e.attempt > 1 {
                            EventKind::Redeliver
                        } else {
                            EventKind::Deliver
                        };
                        self.journal(j, kind, e, |_| {});
                    }
                    // A value's `Clone` may panic: no panic may leave this
                    // callback (the popped indices would never be released).
                    let copy = catch_unwind(AssertUnwindSafe(|| {
                        (e.value.clone(), e.key.clone(), e.headers.clone())
                    }));
                    (copy, e.attempt, e.enqueued_at, e.origin, e.seq)
                })
            });
            let Some((copy, attempt, enqueued_at, origin, seq)) = taken else {
                // Never happens (a ready slot holds a message); keep the slot anyway.
                return self.free_slot(slot);
            };
            let index = slot.index();
            let gen = self.slots.deliver(slot, deadline);
            if attempt > 1 {
                redelivered += 1;
            }
            in_flight += 1;
            sink.in_flight(seq);
            let (value, key, headers) = match copy {
                Ok(c) => c,
                Err(payload) => {
                    // In flight like a crashed consumer's delivery: it comes back
                    // after the visibility timeout and counts towards the dead
                    // letter. The panic is raised once the pops are done.
                    panicked.borrow_mut().get_or_insert(payload);
                    return;
                }
            };
            taken_n += 1;
            sink.take(Taken {
                index,
                gen,
                value,
                key,
                headers,
                attempt,
                enqueued_at,
                deadline,
                origin,
            });
        };
        let mut n = self.slots.pop_into(&self.retry, max, &mut deliver);
        if n < max && panicked.borrow().is_none() {
            n += self.slots.pop_into(&self.main, max - n, &mut deliver);
        }
        sink.hand_out(self)?;
        if redelivered > 0 {
            self.counters
                .redelivered
                .fetch_add(redelivered, Ordering::Relaxed);
        }
        if in_flight > 0 {
            // SeqCst: Dekker with the expiry scan (the slot states were stored SeqCst).
            crate::sync::dekker_fence();
            if deadline < self.next_expiry.load(Ordering::SeqCst) {
                self.next_expiry.fetch_min(deadline, Ordering::SeqCst);
                self.deadlines_changed();
            }
        }
        if let Some(payload) = panicked.into_inner() {
            // The deliveries handed to `f` before it are released (nacked) when
            // the caller's unwinding drops them.
            resume_unwind(payload);
        }
        if taken_n > 0 {
            return Ok(taken_n);
        }
        if lost > 0 {
            // Everything popped was lost to retention: look again.
            return self.take_ready(max, sink);
        }
        if n == 0 && self.main.is_closed() && self.is_drained() {
            return Err(NoMessage::Closed);
        }
        Err(NoMessage::Empty)
    }

    /// Nothing ready or being made ready. SeqCst: Dekker with pushers.
    pub(crate) fn is_drained(&self) -> bool {
        self.main.is_empty_seqcst() && self.retry.is_empty_seqcst()
    }

    /// Takes up to `max` ready messages, waiting for at least one as `wait` allows;
    /// hands each to `f` and returns how many.
    pub(crate) fn take(
        &self,
        max: usize,
        wait: Wait,
        mut f: impl FnMut(Taken<T>),
    ) -> Result<usize, NoMessage> {
        let deadline = match wait {
            Wait::Never => return self.try_take(max, f),
            Wait::Until(d) => d,
        };
        self.wait_for(
            &[&self.ready_waiters],
            deadline,
            || match self.try_take(max, &mut f) {
                Err(NoMessage::Empty) => None,
                r => Some(r),
            },
            || self.is_drained() && !self.main.is_closed() && !self.is_due(),
            || self.next_deadline(),
        )
        .unwrap_or(Err(NoMessage::Timeout))
    }

    /// Whether a delay or an expiry is due now.
    pub(crate) fn is_due(&self) -> bool {
        self.next_deadline().is_some_and(|d| self.now() >= d)
    }
}

/// Where [`QueueInner::take_ready`] puts what it takes.
trait TakeSink<T> {
    /// Message `id` went into flight (handed out or not).
    fn in_flight(&mut self, id: u64);
    /// A delivery to hand out.
    fn take(&mut self, t: Taken<T>);
    /// Called once the pops are done, before anything else happens: hands out
    /// what [`TakeSink::take`] kept, unless that cannot be recorded.
    fn hand_out(&mut self, queue: &QueueInner<T>) -> Result<(), NoMessage>;
}

/// In memory: straight to the caller.
struct Direct<F>(F);

impl<T, F: FnMut(Taken<T>)> TakeSink<T> for Direct<F> {
    #[inline(always)]
    fn in_flight(&mut self, _id: u64) {}
    #[inline(always)]
    fn take(&mut self, t: Taken<T>) {
        (self.0)(t);
    }
    #[inline(always)]
    fn hand_out(&mut self, _queue: &QueueInner<T>) -> Result<(), NoMessage> {
        Ok(())
    }
}

/// A durable queue: the deliveries are logged (one write) before any is handed
/// to the caller.
struct LogFirst<'a, T, F> {
    log: &'a QueueLog<T>,
    f: F,
    ids: Vec<u64>,
    pending: Vec<Taken<T>>,
}

impl<T, F: FnMut(Taken<T>)> TakeSink<T> for LogFirst<'_, T, F> {
    fn in_flight(&mut self, id: u64) {
        self.ids.push(id);
    }
    fn take(&mut self, t: Taken<T>) {
        self.pending.push(t);
    }
    fn hand_out(&mut self, queue: &QueueInner<T>) -> Result<(), NoMessage> {
        if self.ids.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.log.delivered(std::mem::take(&mut self.ids)) {
            // Not handed out: ready again, at the head, with the attempt not
            // counted.
            for t in self.pending.drain(..) {
                if let Some(mut slot) = queue.slots.settle(t.index, t.gen) {
                    queue.slots.with(&mut slot, |e| {
                        if let Some(e) = e {
                            e.attempt = e.attempt.saturating_sub(1);
                        }
                    });
                    queue.slots.push(&queue.retry, slot);
                }
            }
            queue.ready_waiters.notify();
            return Err(NoMessage::Storage(Box::new(e)));
        }
        for t in self.pending.drain(..) {
            (self.f)(t);
        }
        Ok(())
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
