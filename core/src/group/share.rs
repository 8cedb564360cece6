//! Share groups (Kafka 4's queues over a topic): a topic's records handed to one
//! member at a time with the queue's delivery vocabulary.
//!
//! A share group is a [`crate::queue`] engine fed from the topic: members' receive
//! calls copy the next records of the topic (from the group's position, round-robin
//! over partitions) into the group's queue while it has room — `max_in_flight`
//! slots, so ready plus in-flight records are bounded — and take deliveries from it.
//! Acks, nacks, rejects, visibility timeouts, redelivery order, `max_deliveries`
//! and dead letters are the queue's own (see the [`crate::queue`] module);
//! deliveries also carry the record's `partition` and `offset`.
//!
//! Retention: a record evicted from the topic while the group holds it is lost to
//! retention: settling its delivery fails with `Expired`, a ready copy is not
//! delivered, and both count in `lost`, as do records evicted before the group
//! fetched them. On `Block`/`Reject` topics a group with members gates producers
//! by its oldest unsettled record, so nothing it holds is evicted.
//!
//! A share group lives while a handle or a member of it exists (like a
//! subscription); asking for it again after that starts a new one at its `start`.
//!
//! Settles of share-group deliveries take a short lock to keep the oldest
//! unsettled offset per partition (for gating); the queue's own paths stay
//! lock-free.
//!
//! On a durable topic a share group stores, per partition, what Kafka's share
//! groups keep of a share partition: its start offset (the oldest unsettled
//! one), the offsets after it that were settled out of order, and the delivery
//! count of each record delivered and not settled. It is stored with the
//! topic's consumer-group commits (as a state under `share:<name>/<partition>`;
//! `:` is in no consumer group's name), with the topic's durability, before the
//! settle or the receive that changed it returns. Opened again — after a
//! restart, or in the same process once every handle was dropped — the group
//! starts there: a record settled (acked, rejected, dead-lettered) is never
//! delivered again; a record in flight when the process died comes back with
//! that delivery counted, so one that crashes its consumer each time still
//! reaches `max_deliveries` and the dead letter. A store that refuses a write
//! keeps the state stored before it (more is delivered again after a restart,
//! or a delivery goes uncounted; nothing is lost). A record is settled at most
//! once in one process; across a crash, a settle whose store was cut off by it
//! is delivered again (at-least-once).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::dead_letter::DeadLetterFn;
use crate::error::{ReceiveError, ReceiveTimeoutError, TryReceiveError, TryRecvError};
use crate::journal::{Event, EventKind, Journal};
use crate::queue::engine::{Hooks, NoMessage, QueueInner, Source, Taken, Wait};
use crate::queue::{Delivery, QueueConfig, QueueFigures, MAX_QUEUE_CAPACITY};
use crate::record::Message;
use crate::sync::{AtomicU64, Mutex, Ordering};
use crate::topic::{Cursor, OnLag, Start, Subscription, TopicInner};
use crate::Error;

use super::TopicOps;

/// A share group's settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::{ShareGroupConfig, Start};
/// let c = ShareGroupConfig::default();
/// assert_eq!((c.max_deliveries, c.max_in_flight, &c.start), (Some(5), 200, &Start::Latest));
/// let c = c.start(Start::Earliest).visibility_timeout(Duration::from_secs(5)).max_in_flight(10);
/// assert_eq!(c.max_in_flight, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShareGroupConfig {
    /// Where the group starts when it is created: `Latest` (default), `Earliest` or
    /// `Timestamp(ms)`.
    pub start: Start,
    /// How long a delivery may stay unsettled (default 30 s, bus clock).
    pub visibility_timeout: Duration,
    /// Deliveries per record before it is dead-lettered (default 5, Kafka's
    /// delivery-count limit; `None`: unlimited).
    pub max_deliveries: Option<u32>,
    /// Records held (ready or in flight) at once (default 200).
    pub max_in_flight: usize,
    /// The queue or topic that takes dead letters (default none: dropped and
    /// counted). It may not be the group's own topic.
    pub dead_letter: Option<String>,
}

impl Default for ShareGroupConfig {
    fn default() -> Self {
        ShareGroupConfig {
            start: Start::Latest,
            visibility_timeout: Duration::from_secs(30),
            max_deliveries: Some(5),
            max_in_flight: 200,
            dead_letter: None,
        }
    }
}

impl ShareGroupConfig {
    /// Each option with its value, for messages.
    pub(crate) fn described(&self) -> Vec<(&'static str, String)> {
        vec![
            ("start", format!("{:?}", self.start)),
            (
                "visibility_timeout",
                format!("{:?}", self.visibility_timeout),
            ),
            (
                "max_deliveries",
                self.max_deliveries
                    .map_or("unlimited".into(), |n| n.to_string()),
            ),
            ("max_in_flight", self.max_in_flight.to_string()),
            (
                "dead_letter",
                self.dead_letter
                    .as_deref()
                    .map_or("none".into(), |d| format!("{d:?}")),
            ),
        ]
    }

    /// Sets where the group starts.
    #[must_use]
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Sets the visibility timeout.
    #[must_use]
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.visibility_timeout = d;
        self
    }

    /// Sets the delivery limit (`u32::MAX` is as good as unlimited).
    #[must_use]
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = Some(n);
        self
    }

    /// Sets how many records the group holds at once.
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Sends dead letters to `target`.
    #[must_use]
    pub fn dead_letter(mut self, target: &str) -> Self {
        self.dead_letter = Some(target.to_string());
        self
    }

    pub(crate) fn queue_config(&self) -> QueueConfig {
        QueueConfig {
            capacity: self.max_in_flight,
            visibility_timeout: self.visibility_timeout,
            max_deliveries: self.max_deliveries,
            dead_letter: self.dead_letter.clone(),
            durability: None,
        }
    }

    pub(crate) fn validate(&self, name: &str, topic: &str) -> Result<(), Error> {
        let bad = |reason: String| {
            Err(Error::ConfigError {
                name: name.into(),
                reason,
            })
        };
        if !matches!(
            self.start,
            Start::Earliest | Start::Latest | Start::Timestamp(_)
        ) {
            return bad("a share group starts at Earliest, Latest or a Timestamp".into());
        }
        if self.max_in_flight == 0 || self.max_in_flight > MAX_QUEUE_CAPACITY {
            return bad(format!(
                "max_in_flight must be 1 to {MAX_QUEUE_CAPACITY}, not {}",
                self.max_in_flight
            ));
        }
        if self.dead_letter.as_deref() == Some(topic) {
            return bad("the dead letter cannot be the group's own topic".into());
        }
        self.queue_config().validate(name)
    }
}

/// Keeps the oldest unsettled offset of each partition, for gating.
struct Tracker {
    topic: Weak<dyn TopicOps>,
    state: Mutex<TrackState>,
    /// Records lost to retention.
    lost: AtomicU64,
}

struct TrackState {
    unsettled: Vec<BTreeSet<u64>>,
    /// The next offset the group fetches, per partition.
    fetched: Vec<u64>,
    cursors: Vec<Arc<Cursor>>,
    members: usize,
    /// On a durable topic: what it stores of each partition.
    stored: Option<Stored>,
}

/// What a share group of a durable topic keeps of each partition besides its
/// start offset (the oldest unsettled one), stored under `<key>/<partition>`.
struct Stored {
    key: String,
    /// Offsets settled after the start offset (out of order).
    settled: Vec<BTreeSet<u64>>,
    /// Deliveries so far of delivered records not settled (read back at open:
    /// those of the records in flight when the group went away).
    attempts: Vec<BTreeMap<u64, u32>>,
    /// The bytes last stored, per partition (an unchanged state is not
    /// written again).
    written: Vec<Vec<u8>>,
}

/// A partition's stored state: offsets as distances from `start`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PartState {
    start: u64,
    settled: Vec<u64>,
    attempts: Vec<(u64, u32)>,
}

/// The commit key a share group's state is stored under (`:` is in no
/// consumer group's name).
fn stored_key(group: &str) -> String {
    format!("share:{group}")
}

impl TrackState {
    fn gate(&self, p: usize) -> u64 {
        self.unsettled[p]
            .first()
            .copied()
            .unwrap_or(self.fetched[p])
    }

    fn store_gate(&self, p: usize) {
        if self.members > 0 {
            // SeqCst: Dekker with producers waiting for room (as subscriptions).
            self.cursors[p].pos.store(self.gate(p), Ordering::SeqCst);
        }
    }

    /// A durable topic's group stores partition `p`'s state when it changed
    /// (under this lock, so states are stored in the order they were made).
    /// A store that refuses the write keeps the state stored before (more
    /// is delivered again after a restart, nothing is lost).
    fn persist(&mut self, topic: Option<&Arc<dyn TopicOps>>, p: usize) -> Result<(), Error> {
        let start = self.gate(p);
        let (Some(topic), Some(stored)) = (topic, self.stored.as_mut()) else {
            return Ok(());
        };
        let settled = &mut stored.settled[p];
        *settled = settled.split_off(&start);
        let state = PartState {
            start,
            settled: settled.iter().map(|o| o - start).collect(),
            attempts: stored.attempts[p]
                .range(start..)
                .map(|(o, a)| (o - start, *a))
                .collect(),
        };
        let bytes = postcard::to_allocvec(&state).expect("plain integers encode");
        if bytes != stored.written[p] {
            topic.store_state(&format!("{}/{p}", stored.key), &bytes)?;
            stored.written[p] = bytes;
        }
        Ok(())
    }
}

impl Tracker {
    /// Counts deliveries (`partition`, `offset`, deliveries so far) of a
    /// durable topic's group, before the receive that made them returns.
    fn delivered(&self, taken: &[(u32, u64, u32)]) {
        let topic = self.topic.upgrade();
        let mut s = self.state.lock();
        let Some(stored) = s.stored.as_mut() else {
            return;
        };
        let mut touched = BTreeSet::new();
        for &(p, o, a) in taken {
            if let Some(m) = stored.attempts.get_mut(p as usize) {
                m.insert(o, a);
                touched.insert(p as usize);
            }
        }
        for p in touched {
            let _ = s.persist(topic.as_ref(), p);
        }
    }

    fn is_stored(&self) -> bool {
        self.state.lock().stored.is_some()
    }
}

impl Source for Tracker {
    fn retained(&self, partition: u32, offset: u64) -> bool {
        self.topic
            .upgrade()
            .is_none_or(|t| offset >= t.floor(partition))
    }

    fn settled(&self, partition: u32, offset: u64, lost: bool) {
        let p = partition as usize;
        let topic = self.topic.upgrade();
        {
            let mut s = self.state.lock();
            if s.unsettled.get_mut(p).is_some_and(|u| u.remove(&offset)) {
                if let Some(stored) = s.stored.as_mut() {
                    stored.settled[p].insert(offset);
                    stored.attempts[p].remove(&offset);
                }
                s.store_gate(p);
                let _ = s.persist(topic.as_ref(), p);
            }
        }
        if lost {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(t) = topic {
            t.room_changed(partition);
        }
    }
}

/// What the bus needs of a share group whatever its value type.
pub(crate) trait ShareView: Send + Sync {
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    fn config(&self) -> &ShareGroupConfig;
    fn snapshot(&self) -> ShareGroupSnapshot;
}

pub(crate) struct ShareInner<T> {
    name: Arc<str>,
    topic_name: Arc<str>,
    config: ShareGroupConfig,
    topic: Arc<TopicInner<T>>,
    queue: Arc<QueueInner<T>>,
    fetch: Mutex<Subscription<T>>,
    /// The panic of a record whose `Clone` panicked as the pump copied it,
    /// raised by the next take that finds nothing ready before it.
    panicked: Mutex<Option<Box<dyn Any + Send>>>,
    tracker: Arc<Tracker>,
    journal: Option<Arc<Journal>>,
    next_member: AtomicU64,
}

impl<T: Clone + Send + Sync + 'static> ShareView for ShareInner<T> {
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }

    fn config(&self) -> &ShareGroupConfig {
        &self.config
    }

    fn snapshot(&self) -> ShareGroupSnapshot {
        let figures = self.queue.figures();
        let s = self.tracker.state.lock();
        ShareGroupSnapshot {
            name: self.name.to_string(),
            members: s.members as u64,
            figures,
            lost: self.tracker.lost.load(Ordering::Relaxed),
            partitions: (0..s.fetched.len())
                .map(|p| SharePartitionSnapshot {
                    partition: p as u32,
                    fetched: s.fetched[p],
                    oldest_unsettled: s.unsettled[p].first().copied(),
                    unsettled: s.unsettled[p].len() as u64,
                })
                .collect(),
        }
    }
}

/// A share group in a [`crate::Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareGroupSnapshot {
    /// The group's name.
    pub name: String,
    /// How many members it has.
    pub members: u64,
    /// Its queue's figures (`ready` and `in_flight` records, `acked`, …).
    pub figures: QueueFigures,
    /// Records lost to retention (evicted before they were settled or fetched).
    pub lost: u64,
    /// Per partition.
    pub partitions: Vec<SharePartitionSnapshot>,
}

/// One partition of a [`ShareGroupSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePartitionSnapshot {
    /// The partition.
    pub partition: u32,
    /// The next offset the group fetches.
    pub fetched: u64,
    /// The oldest record fetched and not yet settled.
    pub oldest_unsettled: Option<u64>,
    /// How many fetched records are not yet settled.
    pub unsettled: u64,
}

impl<T: Clone + Send + Sync + 'static> ShareInner<T> {
    pub(crate) fn new(
        name: &str,
        config: ShareGroupConfig,
        topic: &Arc<TopicInner<T>>,
        dead_letter: Option<DeadLetterFn<T>>,
    ) -> Result<Arc<Self>, Error> {
        let n = topic.parts.len();
        let mut reader = Subscription::detached(topic.clone(), OnLag::Earliest);
        let ops: Arc<dyn TopicOps> = topic.clone();
        // A durable topic's group starts where it stored its state (or, from
        // an older store, its start offsets).
        let key = stored_key(name);
        let mut restored: Vec<Option<PartState>> = (0..n).map(|_| None).collect();
        if topic.durable.is_some() {
            for (p, at) in restored.iter_mut().enumerate() {
                if let Some(bytes) = ops.stored_state(&format!("{key}/{p}")) {
                    let state = postcard::from_bytes(&bytes).map_err(|e| Error::Corrupt {
                        file: format!("share group {name:?} of topic {:?}", topic.name),
                        position: p as u64,
                        reason: format!("partition {p}'s stored state does not decode ({e})"),
                    })?;
                    *at = Some(state);
                }
            }
            for (p, o) in ops.stored_commits(&key) {
                if let Some(at @ None) = restored.get_mut(p as usize) {
                    *at = Some(PartState {
                        start: o,
                        ..PartState::default()
                    });
                }
            }
        }
        let mut fetched = Vec::with_capacity(n);
        let mut fresh = Vec::new();
        let mut settled = vec![BTreeSet::new(); n];
        let mut attempts = vec![BTreeMap::new(); n];
        for p in 0..n as u32 {
            let at = match restored[p as usize].take() {
                Some(state) => {
                    let start = state.start;
                    let i = p as usize;
                    settled[i] = state.settled.iter().map(|d| start + d).collect();
                    attempts[i] = state
                        .attempts
                        .iter()
                        .map(|(d, a)| (start + d, *a))
                        .collect();
                    start.max(ops.floor(p))
                }
                None => {
                    fresh.push(p as usize);
                    ops.start_of(p, &config.start)
                }
            };
            reader.set_active(p, Some(at));
            fetched.push(at);
        }
        let stored = topic.durable.is_some().then(|| Stored {
            key,
            settled,
            attempts,
            written: vec![Vec::new(); n],
        });
        let tracker = Arc::new(Tracker {
            topic: Arc::downgrade(&ops),
            state: Mutex::new(TrackState {
                unsettled: vec![BTreeSet::new(); n],
                fetched,
                cursors: (0..n)
                    .map(|_| {
                        Arc::new(Cursor {
                            pos: AtomicU64::new(u64::MAX),
                        })
                    })
                    .collect(),
                members: 0,
                stored,
            }),
            lost: AtomicU64::new(0),
        });
        // A new group on a durable topic stores where it starts, so that a
        // restart starts there too (not at `start` again).
        {
            let mut s = tracker.state.lock();
            for p in fresh {
                s.persist(Some(&ops), p)?;
            }
        }
        let queue = QueueInner::new_arc(
            format!("{}/{}", topic.name, name).into(),
            config.queue_config(),
            topic.timer.clone(),
            dead_letter,
            Hooks {
                source: Some(tracker.clone()),
                journal: topic.journal.clone(),
                durable: None,
                // A topic's `delay_acks` delays its share groups' settles.
                faults: Some(topic.faults.clone()),
            },
        )?;
        Ok(Arc::new(ShareInner {
            name: name.into(),
            topic_name: topic.name.clone(),
            config,
            topic: topic.clone(),
            queue,
            fetch: Mutex::new(reader),
            panicked: Mutex::new(None),
            tracker,
            journal: topic.journal.clone(),
            next_member: AtomicU64::new(1),
        }))
    }

    fn emit(&self, kind: EventKind, member: u64) {
        if let Some(j) = &self.journal {
            j.emit(Event::group(kind, &self.topic_name, &self.name, member));
        }
    }

    /// Copies records from the topic into the group's queue while it has room.
    /// One thread at a time; others go on to take what is there.
    fn pump(&self) {
        let Some(mut reader) = self.fetch.try_lock() else {
            return;
        };
        loop {
            let room = self.queue.room();
            if room == 0 {
                break;
            }
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                reader.try_recv_batch(room)
            }));
            let read = match read {
                Ok(r) => r,
                Err(payload) => {
                    // The reader has passed the record; the group goes on.
                    let earlier = self.panicked.lock().replace(payload);
                    drop(earlier);
                    break;
                }
            };
            match read {
                Ok(recs) if recs.is_empty() => break,
                Ok(recs) => {
                    let mut again = Vec::new();
                    let recs: Vec<_> = {
                        let mut s = self.tracker.state.lock();
                        let s = &mut *s;
                        recs.into_iter()
                            .filter(|r| {
                                let p = r.partition as usize;
                                if let Some(stored) = &s.stored {
                                    // Settled before the group was opened again.
                                    if stored.settled[p].contains(&r.offset) {
                                        return false;
                                    }
                                    again.push(stored.attempts[p].get(&r.offset).copied());
                                }
                                s.unsettled[p].insert(r.offset);
                                true
                            })
                            .collect()
                    };
                    let mut again = again.into_iter();
                    for r in recs {
                        let origin = (r.partition, r.offset);
                        let msg = Message {
                            value: r.value,
                            key: r.key,
                            headers: r.headers,
                            partition: None,
                            timestamp: Some(r.timestamp),
                        };
                        let sent = match again.next().flatten() {
                            Some(attempt) => self.queue.send_again(msg, origin, attempt),
                            None => self.queue.try_send_from(msg, None, Some(origin)),
                        };
                        if sent.is_err() {
                            // Only a closed queue refuses (only this pump sends).
                            self.tracker.settled(r.partition, r.offset, false);
                        }
                    }
                }
                Err(TryRecvError::Lagged { skipped, .. }) => {
                    self.tracker.lost.fetch_add(skipped, Ordering::Relaxed);
                }
                Err(TryRecvError::Closed) => {
                    self.queue.close();
                    break;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        let topic = self.tracker.topic.upgrade();
        let moved: Vec<u32> = {
            let mut s = self.tracker.state.lock();
            (0..s.fetched.len())
                .filter_map(|p| {
                    let at = reader.position(p as u32);
                    (s.fetched[p] != at).then(|| {
                        s.fetched[p] = at;
                        s.store_gate(p);
                        let _ = s.persist(topic.as_ref(), p);
                        p as u32
                    })
                })
                .collect()
        };
        drop(reader);
        if let Some(t) = topic {
            for p in moved {
                t.room_changed(p);
            }
        }
    }

    /// Whether a receiver may sleep: nothing ready, nothing due, and nothing to
    /// fetch that there is room for.
    fn may_sleep(&self) -> bool {
        if !self.queue.is_drained() || self.queue.is_closed() || self.queue.is_due() {
            return false;
        }
        if self.queue.room() == 0 {
            return true;
        }
        !self.fetch.lock().has_pending()
    }

    /// Raises the pump's kept `Clone` panic once nothing copied before it is
    /// ready, so the records after it come after it.
    fn raise_panic_if_next(&self) {
        if !self.queue.is_drained() {
            return;
        }
        let panicked = self.panicked.lock().take();
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
    }

    fn take(
        &self,
        max: usize,
        wait: Wait,
        f: &mut dyn FnMut(Taken<T>),
    ) -> Result<usize, NoMessage> {
        let stored = self.tracker.is_stored();
        let attempt = &mut || {
            self.raise_panic_if_next();
            self.pump();
            if stored {
                // Deliveries are counted in the store before the receive returns.
                let mut taken = Vec::new();
                let r = self.queue.try_take(max, |t: Taken<T>| {
                    if let Some((p, o)) = t.origin {
                        taken.push((p, o, t.attempt));
                    }
                    f(t);
                });
                self.tracker.delivered(&taken);
                if !matches!(r, Err(NoMessage::Empty)) {
                    return Some(r);
                }
                self.raise_panic_if_next();
                return None;
            }
            match self.queue.try_take(max, &mut *f) {
                Err(NoMessage::Empty) => {
                    self.raise_panic_if_next();
                    None
                }
                r => Some(r),
            }
        };
        let deadline = match wait {
            Wait::Never => return attempt().unwrap_or(Err(NoMessage::Empty)),
            Wait::Until(d) => d,
        };
        self.queue
            .wait_for(
                &[
                    &self.queue.ready_waiters,
                    &self.queue.room_waiters,
                    &self.topic.data,
                ],
                deadline,
                attempt,
                || self.may_sleep(),
                || self.queue.next_deadline(),
            )
            .unwrap_or(Err(NoMessage::Timeout))
    }

    fn join(&self) -> u64 {
        let id = self.next_member.fetch_add(1, Ordering::Relaxed);
        let ops = self.tracker.topic.upgrade();
        {
            let mut s = self.tracker.state.lock();
            s.members += 1;
            if s.members == 1 {
                for p in 0..s.cursors.len() {
                    s.cursors[p].pos.store(s.gate(p), Ordering::SeqCst);
                    if let Some(t) = &ops {
                        t.add_cursor(p as u32, &s.cursors[p]);
                    }
                }
            }
        }
        self.emit(EventKind::Join, id);
        id
    }
}

/// A handle to a share group of a topic. Cheap to clone; `Send + Sync`.
///
/// A record whose value's `Clone` panics as the group copies it from the topic is
/// passed over, as by a subscription: the receive that reaches it (after the
/// records copied before it) panics with it, and the group goes on with the
/// records after it. Once in the group, a message behaves as in a queue (a panic
/// in a later delivery's clone counts as a crashed delivery).
///
/// On a durable topic the group stores what it settled and how often it
/// delivered what it did not, before the settle or receive returns, and
/// starts from there when it is opened again (after a restart too): what it
/// settled is never delivered again, and deliveries in flight when the
/// process died count as attempts (see the module docs).
///
/// # Examples
///
/// ```
/// use ringlet::{ShareGroupConfig, Start};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<&str>("jobs", Default::default())?;
/// let group = t.share_group_with("workers", ShareGroupConfig::default().start(Start::Earliest))?;
/// t.publish("a").unwrap();
/// t.publish("b").unwrap();
/// let (w1, w2) = (group.join()?, group.join()?);
/// let d1 = w1.try_receive().unwrap();
/// let d2 = w2.try_receive().unwrap();     // the next record: each goes to one member
/// assert_eq!((*d1.value(), d1.offset(), *d2.value(), d2.offset()), ("a", Some(0), "b", Some(1)));
/// d1.ack().unwrap();
/// drop(d2);                               // not settled: delivered again
/// assert_eq!(w1.try_receive().unwrap().attempt(), 2);
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct ShareGroup<T> {
    pub(crate) inner: Arc<ShareInner<T>>,
    pub(crate) topic: Arc<TopicInner<T>>,
}

impl<T> Clone for ShareGroup<T> {
    fn clone(&self) -> Self {
        ShareGroup {
            inner: self.inner.clone(),
            topic: self.topic.clone(),
        }
    }
}

impl<T> std::fmt::Debug for ShareGroup<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareGroup")
            .field("topic", &&*self.inner.topic_name)
            .field("name", &&*self.inner.name)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> ShareGroup<T> {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The group's settings.
    pub fn config(&self) -> &ShareGroupConfig {
        &self.inner.config
    }

    /// Joins the group.
    ///
    /// # Errors
    ///
    /// `Closed` if the topic is closed.
    pub fn join(&self) -> Result<ShareMember<T>, Error> {
        if self.topic.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let id = self.inner.join();
        Ok(ShareMember {
            inner: self.inner.clone(),
            id,
            left: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            crashed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }

    /// The group's queue figures and partitions.
    pub fn snapshot(&self) -> ShareGroupSnapshot {
        self.inner.snapshot()
    }
}

/// A member of a share group: receives records as [`Delivery`]s (with
/// [`Delivery::partition`] and [`Delivery::offset`]). `Send + Sync`; dropping it
/// leaves the group (its unsettled deliveries stay valid).
pub struct ShareMember<T> {
    inner: Arc<ShareInner<T>>,
    id: u64,
    /// Set by `leave` (shared with the member's futures, which then end `Closed`).
    left: Arc<std::sync::atomic::AtomicBool>,
    /// Set by a crash ([`crate::faults`]); shared with the member's deliveries,
    /// which then never settle.
    crashed: Arc<std::sync::atomic::AtomicBool>,
}

impl<T> std::fmt::Debug for ShareMember<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareMember")
            .field("topic", &&*self.inner.topic_name)
            .field("group", &&*self.inner.name)
            .field("id", &self.id)
            .finish()
    }
}

fn take_one<T: Clone + Send + Sync + 'static>(
    inner: &Arc<ShareInner<T>>,
    wait: Wait,
    crashed: &Arc<std::sync::atomic::AtomicBool>,
) -> Result<Delivery<T>, NoMessage> {
    let mut got = None;
    inner.take(1, wait, &mut |t| got = Some(t))?;
    let t = got.ok_or(NoMessage::Empty)?;
    Ok(Delivery::new(inner.queue.clone(), t).held_by(crashed))
}

fn nothing_to_receive(n: NoMessage) -> ReceiveError {
    crate::queue::receive_error(n)
}

impl<T: Clone + Send + Sync + 'static> ShareMember<T> {
    /// The member's id (unique in its group).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Blocks until a record is delivered to this member.
    ///
    /// # Errors
    ///
    /// `Closed` once the topic is closed and everything fetched was delivered.
    #[must_use = "the Delivery is nacked when dropped: settle it with ack(), nack() or reject()"]
    pub fn receive(&self) -> Result<Delivery<T>, ReceiveError> {
        if self.has_left() {
            return Err(ReceiveError::Closed);
        }
        take_one(&self.inner, Wait::Until(None), &self.crashed).map_err(nothing_to_receive)
    }

    /// A delivery if one is ready now.
    ///
    /// # Errors
    ///
    /// `Empty`; `Closed`.
    #[must_use = "the Delivery is nacked when dropped: settle it with ack(), nack() or reject()"]
    pub fn try_receive(&self) -> Result<Delivery<T>, TryReceiveError> {
        if self.has_left() {
            return Err(TryReceiveError::Closed);
        }
        take_one(&self.inner, Wait::Never, &self.crashed).map_err(crate::queue::try_receive_error)
    }

    /// Waits up to `timeout` (real time) for a delivery.
    ///
    /// # Errors
    ///
    /// `Timeout`; `Closed`.
    #[must_use = "the Delivery is nacked when dropped: settle it with ack(), nack() or reject()"]
    pub fn receive_timeout(&self, timeout: Duration) -> Result<Delivery<T>, ReceiveTimeoutError> {
        if self.has_left() {
            return Err(ReceiveTimeoutError::Closed);
        }
        take_one(
            &self.inner,
            Wait::Until(Instant::now().checked_add(timeout)),
            &self.crashed,
        )
        .map_err(crate::queue::receive_timeout_error)
    }

    /// Blocks until at least one delivery is ready, then takes up to `max`.
    ///
    /// # Errors
    ///
    /// `Closed`.
    pub fn receive_batch(&self, max: usize) -> Result<Vec<Delivery<T>>, ReceiveError> {
        if self.has_left() {
            return Err(ReceiveError::Closed);
        }
        self.take_batch(max.max(1), Wait::Until(None))
            .map_err(nothing_to_receive)
    }

    /// Waits up to `timeout` (real time) for a delivery, then takes up to `max`.
    ///
    /// # Errors
    ///
    /// `Timeout`; `Closed` once the topic is closed and everything fetched was
    /// delivered.
    pub fn receive_batch_timeout(
        &self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<Delivery<T>>, ReceiveTimeoutError> {
        if self.has_left() {
            return Err(ReceiveTimeoutError::Closed);
        }
        if max == 0 {
            return Ok(Vec::new());
        }
        self.take_batch(max, Wait::Until(Instant::now().checked_add(timeout)))
            .map_err(crate::queue::receive_timeout_error)
    }

    fn take_batch(&self, max: usize, wait: Wait) -> Result<Vec<Delivery<T>>, NoMessage> {
        let mut out = Vec::new();
        let q = self.inner.queue.clone();
        let crashed = &self.crashed;
        self.inner.take(max, wait, &mut |t| {
            out.push(Delivery::new(q.clone(), t).held_by(crashed))
        })?;
        Ok(out)
    }

    /// Up to `max` deliveries ready now (possibly none).
    ///
    /// # Errors
    ///
    /// `Closed` when nothing is left.
    pub fn try_receive_batch(&self, max: usize) -> Result<Vec<Delivery<T>>, TryReceiveError> {
        if self.has_left() {
            return Err(TryReceiveError::Closed);
        }
        let mut out = Vec::new();
        let q = self.inner.queue.clone();
        let crashed = &self.crashed;
        match self.inner.take(max, Wait::Never, &mut |t| {
            out.push(Delivery::new(q.clone(), t).held_by(crashed))
        }) {
            Ok(_) | Err(NoMessage::Empty) => Ok(out),
            Err(_) => Err(TryReceiveError::Closed),
        }
    }

    /// Waits asynchronously for a delivery. Cancel-safe: a record is taken only
    /// when the future completes.
    pub fn receive_async(&self) -> ShareReceiveFuture<T> {
        ShareReceiveFuture {
            inner: self.inner.clone(),
            id: 0,
            left: self.left.clone(),
            crashed: self.crashed.clone(),
        }
    }

    /// Leaves the group (its unsettled deliveries stay valid): receives, and
    /// receive futures still pending, end with `Closed`. Leaving again does
    /// nothing; dropping the member leaves too.
    pub fn leave(&mut self) {
        self.leave_as("leave");
    }

    /// Whether [`ShareMember::leave`] was called.
    pub fn has_left(&self) -> bool {
        self.left.load(Ordering::Acquire)
    }
}

impl<T> ShareMember<T> {
    /// Crashes the member (an injected fault, [`crate::faults`]): it leaves
    /// the group as a crash (journal reason `crash`), and the deliveries it
    /// holds are abandoned — never settled, not nacked when dropped — so their
    /// records come back when the visibility timeout passes. Whether it was
    /// still a member.
    pub(crate) fn crash(&self) -> bool {
        if self.left.load(Ordering::Acquire) {
            return false;
        }
        self.crashed.store(true, Ordering::Release);
        self.leave_as("crash");
        true
    }

    /// The member's topic and group names.
    pub(crate) fn names(&self) -> (&str, &str) {
        (&self.inner.topic_name, &self.inner.name)
    }

    fn leave_as(&self, reason: &str) {
        if self.left.swap(true, Ordering::AcqRel) {
            return;
        }
        leave(&self.inner, self.id, reason);
        // Pending receive futures of this member see `left` when woken.
        self.inner.queue.ready_waiters.notify();
    }
}

impl<T> Drop for ShareMember<T> {
    fn drop(&mut self) {
        self.leave_as("drop");
    }
}

fn leave<T>(inner: &ShareInner<T>, id: u64, reason: &str) {
    let ops = inner.tracker.topic.upgrade();
    {
        let mut s = inner.tracker.state.lock();
        s.members = s.members.saturating_sub(1);
        if s.members == 0 {
            if let Some(t) = &ops {
                for (p, c) in s.cursors.iter().enumerate() {
                    t.remove_cursor(p as u32, c);
                }
            }
        }
    }
    if let Some(j) = &inner.journal {
        j.emit(Event {
            reason: Some(reason.into()),
            ..Event::group(EventKind::Leave, &inner.topic_name, &inner.name, id)
        });
    }
}

/// The future of [`ShareMember::receive_async`]. It owns a handle on the share
/// group, so it may outlive the member (it keeps receiving for the group).
#[must_use = "futures do nothing unless polled"]
pub struct ShareReceiveFuture<T> {
    inner: Arc<ShareInner<T>>,
    id: u64,
    left: Arc<std::sync::atomic::AtomicBool>,
    crashed: Arc<std::sync::atomic::AtomicBool>,
}

impl<T> Unpin for ShareReceiveFuture<T> {}

impl<T> std::fmt::Debug for ShareReceiveFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareReceiveFuture").finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Future for ShareReceiveFuture<T> {
    type Output = Result<Delivery<T>, ReceiveError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left.load(Ordering::Acquire) {
            return Poll::Ready(Err(ReceiveError::Closed));
        }
        if self.id == 0 {
            self.id = crate::clock::waiter_id();
        }
        let inner = &self.inner;
        let topic = &inner.topic;
        for registered in [false, true] {
            match take_one(inner, Wait::Never, &self.crashed) {
                Ok(d) => return Poll::Ready(Ok(d)),
                Err(NoMessage::Closed) => return Poll::Ready(Err(ReceiveError::Closed)),
                Err(_) if registered => {
                    if !inner.may_sleep() {
                        cx.waker().wake_by_ref();
                    } else if let Some(at) = inner.queue.next_deadline() {
                        inner.queue.timer.wake_at(at, self.id, cx.waker());
                    }
                    return Poll::Pending;
                }
                Err(_) => {
                    for n in [
                        &inner.queue.ready_waiters,
                        &inner.queue.room_waiters,
                        &topic.data,
                    ] {
                        n.register(self.id, cx.waker());
                    }
                }
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for ShareReceiveFuture<T> {
    fn drop(&mut self) {
        if self.id != 0 {
            let inner = &self.inner;
            inner.queue.ready_waiters.unregister(self.id);
            inner.queue.room_waiters.unregister(self.id);
            inner.topic.data.unregister(self.id);
            inner.queue.timer.cancel(self.id);
        }
    }
}
