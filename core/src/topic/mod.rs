//! Topics: named, partitioned, replayable logs held in bounded rings.

mod compact;
mod ring;
mod subscription;

use std::future::Future;
use std::pin::Pin as StdPin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use serde::{Deserialize, Serialize};

use crate::clock::{duration_ms, waiter_id};
use crate::dead_letter::DeadLetterResolver;
use crate::error::{PublishError, PublishTimeoutError};
use crate::extensions::Extensions;
use crate::journal::{Event, EventKind, Journal};
use crate::murmur2::partition_for_key;
use crate::record::{Headers, Key, Message, Receipt};
use crate::sync::{AtomicU64, Mutex, Spin};
use crate::wait::{thread_waker, BusTimer, Notifier};
use crate::Error;

use compact::Compacted;
use ring::{Read, Refused, Ring};
pub(crate) use subscription::resolve;
pub use subscription::{Iter, OnLag, RecvFuture, Start, Subscription, BATCH};

/// Largest capacity of one partition.
pub const MAX_CAPACITY: usize = 1 << 30;
/// Largest number of partitions of one topic.
pub const MAX_PARTITIONS: u32 = 1 << 16;

/// What a full partition does with a new record. See the [`Topic`] docs.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, OnFull, Start, TopicConfig};
/// let bus = Bus::new();
/// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(2).on_full(OnFull::Block))?;
/// let _reader = t.subscribe(Start::Earliest)?;
/// t.publish(1).unwrap();
/// t.publish(2).unwrap();
/// assert!(t.try_publish(3).is_err()); // the reader has not read record 0 yet
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFull {
    /// Evict the oldest record (the default).
    #[default]
    Overwrite,
    /// Wait for gating readers.
    Block,
    /// Like `Block`, but `publish` fails instead of waiting.
    Reject,
    /// Never evict: fail with `Full`.
    Keep,
}

/// A topic's configuration. Builder style; compared whole when a topic is opened
/// again by name.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::{OnFull, TopicConfig};
/// let c = TopicConfig::default().partitions(3).capacity(4096).max_age(Duration::from_secs(60)).on_full(OnFull::Block);
/// assert_eq!((c.partitions, c.capacity), (3, 4096));
/// assert_eq!(TopicConfig::default().capacity, 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TopicConfig {
    /// Number of partitions (default 1).
    pub partitions: u32,
    /// Records retained per partition (default 1024), exactly.
    pub capacity: usize,
    /// Optional age limit on the bus clock.
    pub max_age: Option<Duration>,
    /// What a full partition does.
    pub on_full: OnFull,
    /// Kafka's `cleanup.policy=compact`: retain the latest record per key.
    #[serde(default)]
    pub compacted: bool,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            partitions: 1,
            capacity: 1024,
            max_age: None,
            on_full: OnFull::Overwrite,
            compacted: false,
        }
    }
}

impl TopicConfig {
    /// Sets the number of partitions (1 to [`MAX_PARTITIONS`]).
    #[must_use]
    pub fn partitions(mut self, n: u32) -> Self {
        self.partitions = n;
        self
    }

    /// Sets the records retained per partition (1 to [`MAX_CAPACITY`]).
    #[must_use]
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n;
        self
    }

    /// Expires records older than `d` (at least 1 ms).
    #[must_use]
    pub fn max_age(mut self, d: Duration) -> Self {
        self.max_age = Some(d);
        self
    }

    /// Sets the full policy.
    #[must_use]
    pub fn on_full(mut self, p: OnFull) -> Self {
        self.on_full = p;
        self
    }

    /// Makes the topic compacted (Kafka's `cleanup.policy=compact`): every record
    /// needs a key, and each partition retains only the latest record per key;
    /// `capacity` bounds the records (so the keys) per partition. Offsets keep
    /// increasing but are no longer contiguous, and records removed by compaction
    /// are not lag. A tombstone removes its key: open the topic with
    /// [`Bus::compacted_topic`](crate::Bus::compacted_topic) (value type
    /// `Option<T>`, `None` is a tombstone) or
    /// [`Bus::topic_with_tombstones`](crate::Bus::topic_with_tombstones).
    /// Tombstones stay retained as their key's latest record (readers reading along
    /// learn of the deletion) and are dropped first when room is needed.
    ///
    /// With a new key and no room: `Overwrite` (default) evicts the partition's
    /// oldest record, reported to readers that had not read it as `Lagged`; `Keep`
    /// refuses with `Full`. `Block` and `Reject`, and `max_age`, are not available
    /// on compacted topics (`ConfigError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, Message, Start, TopicConfig};
    /// let bus = Bus::new();
    /// let prices = bus.topic::<u32>("prices", TopicConfig::default().compacted(true))?;
    /// for (k, v) in [("apple", 1), ("pear", 2), ("apple", 3)] {
    ///     prices.publish_message(Message::new(v).key(k)).unwrap();
    /// }
    /// let mut sub = prices.subscribe(Start::Earliest)?;
    /// let got: Vec<_> = sub.try_recv_batch(10).unwrap().into_iter().map(|r| (r.offset, r.value)).collect();
    /// assert_eq!(got, vec![(1, 2), (2, 3)]); // apple@0 was compacted away
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[must_use]
    pub fn compacted(mut self, on: bool) -> Self {
        self.compacted = on;
        self
    }

    pub(crate) fn validate(&self, name: &str) -> Result<(), Error> {
        let bad = |reason: String| {
            Err(Error::ConfigError {
                name: name.into(),
                reason,
            })
        };
        if self.partitions == 0 || self.partitions > MAX_PARTITIONS {
            return bad(format!(
                "partitions must be 1 to {MAX_PARTITIONS}, not {}",
                self.partitions
            ));
        }
        if self.capacity == 0 || self.capacity > MAX_CAPACITY {
            return bad(format!(
                "capacity must be 1 to {MAX_CAPACITY}, not {}",
                self.capacity
            ));
        }
        if let Some(d) = self.max_age {
            if d < Duration::from_millis(1) {
                return bad("max_age must be at least 1 ms".into());
            }
        }
        if self.compacted && self.max_age.is_some() {
            return bad("a compacted topic has no max_age".into());
        }
        if self.compacted && matches!(self.on_full, OnFull::Block | OnFull::Reject) {
            return bad("a compacted topic's on_full is overwrite or keep".into());
        }
        Ok(())
    }
}

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
    /// The storage of a compacted topic's partition (its `ring` is then unused).
    pub(crate) compact: Option<Compacted<T>>,
    /// Offsets below this are expired (max_age).
    expired: CachePadded<AtomicU64>,
    /// A lower bound on every gating reader's position (u64::MAX: none).
    gate: CachePadded<AtomicU64>,
    cursors: Mutex<Vec<Arc<Cursor>>>,
    /// Producers waiting for room.
    room: Notifier,
}

impl<T> Partition<T> {
    /// The end offset (the offset the next record gets).
    #[inline]
    pub(crate) fn end(&self) -> u64 {
        match &self.compact {
            None => self.ring.end(),
            Some(c) => c.end(),
        }
    }

    #[inline]
    pub(crate) fn end_and_closed(&self) -> (u64, bool) {
        match &self.compact {
            None => self.ring.end_and_closed(),
            Some(c) => c.end_and_closed(),
        }
    }

    #[inline]
    pub(crate) fn end_and_closed_seqcst(&self) -> (u64, bool) {
        match &self.compact {
            None => self.ring.end_and_closed_seqcst(),
            Some(c) => c.end_and_closed(),
        }
    }

    /// The oldest offset still stored (before expiry).
    pub(crate) fn start(&self) -> u64 {
        match &self.compact {
            None => self.ring.start(),
            Some(c) => c.start(),
        }
    }

    fn close(&self) {
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
            None => self.ring.end().saturating_sub(pos),
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
            None => self.ring.read(from, max, floor, f),
            Some(c) => c.read(from, max, f),
        }
    }

    /// Recomputes the gate bound from the registered cursors.
    #[cold]
    fn rescan_gate(&self) -> u64 {
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

pub(crate) struct TopicInner<T> {
    pub(crate) name: Arc<str>,
    pub(crate) config: TopicConfig,
    pub(crate) parts: Box<[Partition<T>]>,
    max_age_ms: Option<i64>,
    rr: CachePadded<AtomicU64>,
    /// Set once every partition is closed: readers poll this read-mostly flag, not
    /// the claim words that every publish writes.
    pub(crate) closed: CachePadded<std::sync::atomic::AtomicBool>,
    /// Readers waiting for records.
    pub(crate) data: Notifier,
    pub(crate) timer: Arc<BusTimer>,
    pub(crate) journal: Option<Arc<Journal>>,
    /// Finds a dead-letter target on the bus for a share group:
    /// `(source topic, target) -> sender`.
    pub(crate) dead_letters: Option<DeadLetterResolver<T>>,
    /// What the layers above keep on the topic (its consumer and share groups).
    pub(crate) extensions: Extensions,
    /// Live subscriptions, for snapshots: id and one cursor per partition.
    pub(crate) readers: Mutex<Vec<(u64, Vec<Arc<Cursor>>)>>,
    /// Which values are tombstones (compacted topics opened with tombstones).
    pub(crate) tombstone: std::sync::OnceLock<fn(&T) -> bool>,
}

/// A handle to a topic: publish to it, subscribe to it. Cheap to clone; `Send + Sync`.
///
/// # Retention
///
/// Each partition retains exactly the newest `capacity` records (storage is rounded
/// up internally; retention never is). `max_age` additionally expires records from
/// the oldest end: a record is expired once it *and every older record* are older
/// than `max_age` by the bus clock, so nothing is removed from the middle when
/// producer-set timestamps are out of order. Expired records are never handed out
/// (readers see them as a gap). Their values are released when their slot is reused.
///
/// # When a partition is full: [`OnFull`]
///
/// * `Overwrite` (default): the oldest record is evicted; producers never wait for
///   room. (They may wait a few nanoseconds for a reader that is cloning records out
///   of the very segment of storage about to be reused.)
/// * `Block`: `publish` waits until every *gating reader* has read past the oldest
///   record; `try_publish` fails with `Full`; `publish_timeout` and `publish_async`
///   wait.
/// * `Reject`: like `Block`, but `publish` fails with `Full` instead of waiting.
/// * `Keep`: never evict — an append-only log bounded by `capacity`; every publish
///   fails with `Full` once the partition is full, whoever is reading.
///
/// Gating readers are the live subscriptions (a dropped or closed one stops gating),
/// consumer groups with at least one member (by committed offset) and share groups
/// with at least one member (by their oldest unsettled record).
/// With `Block`/`Reject` and no gating reader, the oldest record is evicted as with
/// `Overwrite`. Expired records never gate.
///
/// On a gating topic, a subscription created while a publish is evicting its
/// would-be first record may find that record gone; a `Start::Earliest` subscription
/// then starts at the new oldest record silently (the publish happened first), any
/// other start reports the gap as `Lagged`.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Message, Start, TopicConfig};
/// let bus = Bus::new();
/// let orders = bus.topic::<String>("orders", TopicConfig::default().partitions(3))?;
/// let mut sub = orders.subscribe(Start::Earliest)?;
/// let r = orders.publish_message(Message::new("o-1".to_string()).key("customer-42")).unwrap();
/// let rec = sub.recv().unwrap();
/// assert_eq!((rec.partition, rec.offset, rec.value.as_str()), (r.partition, 0, "o-1"));
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct Topic<T> {
    pub(crate) inner: Arc<TopicInner<T>>,
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Topic {
            inner: self.inner.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Topic<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topic")
            .field("name", &&*self.inner.name)
            .field("config", &self.inner.config)
            .field(
                "end_offsets",
                &self
                    .inner
                    .parts
                    .iter()
                    .map(Partition::end)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A publish that cannot time out reports running out of room as `Full`.
fn without_timeout<M>(e: PublishTimeoutError<M>) -> PublishError<M> {
    match e {
        PublishTimeoutError::Timeout(m) | PublishTimeoutError::Full(m) => PublishError::Full(m),
        PublishTimeoutError::Closed(m) => PublishError::Closed(m),
        PublishTimeoutError::OutOfRange(m) => PublishError::OutOfRange(m),
        PublishTimeoutError::NoKey(m) => PublishError::NoKey(m),
    }
}

/// How long a publish may wait for room.
#[derive(Clone, Copy)]
enum Wait {
    Never,
    Until(Option<Instant>),
}

impl<T: Clone + Send + Sync + 'static> Topic<T> {
    pub(crate) fn create(
        name: Arc<str>,
        config: TopicConfig,
        timer: Arc<BusTimer>,
        journal: Option<Arc<Journal>>,
        dead_letters: Option<DeadLetterResolver<T>>,
    ) -> Result<Self, Error> {
        let mut parts = Vec::new();
        parts
            .try_reserve_exact(config.partitions as usize)
            .map_err(|_| Error::ConfigError {
                name: name.to_string(),
                reason: "not enough memory for the partitions".into(),
            })?;
        for _ in 0..config.partitions {
            let storage = if config.compacted { 1 } else { config.capacity };
            parts.push(Partition {
                compact: config
                    .compacted
                    .then(|| Compacted::new(config.capacity, config.on_full)),
                ring: Ring::try_new(storage).ok_or_else(|| Error::ConfigError {
                    name: name.to_string(),
                    reason: format!("not enough memory for capacity {}", config.capacity),
                })?,
                expired: CachePadded::new(AtomicU64::new(0)),
                gate: CachePadded::new(AtomicU64::new(u64::MAX)),
                cursors: Mutex::new(Vec::new()),
                room: Notifier::default(),
            });
        }
        let max_age_ms = config.max_age.map(duration_ms);
        Ok(Topic {
            inner: Arc::new(TopicInner {
                name,
                config,
                parts: parts.into_boxed_slice(),
                max_age_ms,
                rr: CachePadded::new(AtomicU64::new(0)),
                closed: CachePadded::new(std::sync::atomic::AtomicBool::new(false)),
                data: Notifier::default(),
                timer,
                journal,
                dead_letters,
                extensions: Extensions::default(),
                readers: Mutex::new(Vec::new()),
                tombstone: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The topic's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("clicks", Default::default())?;
    /// assert_eq!(t.name(), "clicks");
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The topic's configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TopicConfig;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().partitions(2))?;
    /// assert_eq!(t.config().partitions, 2);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn config(&self) -> &TopicConfig {
        &self.inner.config
    }

    /// The number of partitions.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert_eq!(bus.topic::<u8>("t", Default::default())?.partitions(), 1);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn partitions(&self) -> u32 {
        self.inner.config.partitions
    }

    /// The next offset of each partition (Kafka's end offsets), indexed by partition.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish(1).unwrap();
    /// assert_eq!(t.end_offsets(), vec![1]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn end_offsets(&self) -> Vec<u64> {
        self.inner.parts.iter().map(Partition::end).collect()
    }

    /// The oldest readable offset of each partition (after eviction and expiry).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TopicConfig;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(2))?;
    /// for i in 0..5 { t.publish(i).unwrap(); }
    /// assert_eq!(t.earliest_offsets(), vec![3]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn earliest_offsets(&self) -> Vec<u64> {
        (0..self.partitions())
            .map(|p| self.inner.floor(p))
            .collect()
    }

    /// Records retained now, over all partitions (what a reader from the earliest
    /// offsets would get).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TopicConfig;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().partitions(2).capacity(2))?;
    /// assert!(t.is_empty());
    /// for i in 0..5 { t.publish(i).unwrap(); }
    /// assert_eq!(t.len(), 4);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.inner
            .parts
            .iter()
            .zip(self.earliest_offsets())
            .map(|(p, from)| p.lag_from(from) as usize)
            .sum()
    }

    /// Whether no record is retained.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of storage the topic's partitions allocated (all rings, their slots and
    /// segment words), for memory accounting.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TopicConfig;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u64>("t", TopicConfig::default().capacity(65536))?;
    /// let per_record = t.allocated_bytes() as f64 / 65536.0;
    /// assert!(per_record <= 48.0 + 8.0);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn allocated_bytes(&self) -> usize {
        std::mem::size_of::<TopicInner<T>>()
            + self
                .inner
                .parts
                .iter()
                .map(|p| {
                    p.ring.allocated_bytes()
                        + p.compact.as_ref().map_or(0, Compacted::allocated_bytes)
                        + std::mem::size_of::<Partition<T>>()
                })
                .sum::<usize>()
    }

    /// Whether the topic is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.close();
    /// assert!(t.is_closed());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.parts[0].end_and_closed().1
    }

    /// Closes the topic: publishes fail with `Closed` from now on; readers drain what
    /// is retained, then get `Closed`. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{PublishError, Start};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// t.publish(1).unwrap();
    /// t.close();
    /// assert_eq!(t.publish(2), Err(PublishError::Closed(2)));
    /// assert_eq!(sub.iter().map(|r| r.value).collect::<Vec<_>>(), vec![1]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }

    /// Publishes `value`: no key, round-robin partition, bus-clock timestamp. Waits for
    /// room only on a `Block` topic.
    ///
    /// # Errors
    ///
    /// `Full` on a full `Reject` or `Keep` topic, `Closed` after `close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// assert_eq!(t.publish(9).unwrap().offset, 0);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[inline]
    pub fn publish(&self, value: T) -> Result<Receipt, PublishError<T>> {
        let wait = self.policy_wait();
        self.inner.publish_parts(value, wait)
    }

    /// Publishes without ever waiting.
    ///
    /// # Errors
    ///
    /// `Full` when the record would need room that the `on_full` policy does not
    /// make at once; `Closed` after `close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{OnFull, PublishError, Start, TopicConfig};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(1).on_full(OnFull::Block))?;
    /// let _r = t.subscribe(Start::Earliest)?;
    /// t.try_publish(1).unwrap();
    /// assert_eq!(t.try_publish(2), Err(PublishError::Full(2)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn try_publish(&self, value: T) -> Result<Receipt, PublishError<T>> {
        self.inner.publish_parts(value, Wait::Never)
    }

    /// Publishes, waiting up to `timeout` (real time) for room on `Block` and `Reject`
    /// topics.
    ///
    /// # Errors
    ///
    /// `Timeout` when no room came in time, `Full` on a full `Keep` topic, `Closed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::{OnFull, PublishTimeoutError, Start, TopicConfig};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(1).on_full(OnFull::Block))?;
    /// let _r = t.subscribe(Start::Earliest)?;
    /// t.publish(1).unwrap();
    /// let e = t.publish_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(e, PublishTimeoutError::Timeout(2));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn publish_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<Receipt, PublishTimeoutError<T>> {
        self.publish_message_timeout(Message::new(value), timeout)
            .map_err(|e| e.map(|m| m.value))
    }

    /// Publishes, waiting asynchronously for room on `Block` and `Reject` topics.
    /// Cancel-safe: dropping the future before it completes publishes nothing.
    ///
    /// # Errors
    ///
    /// `Full` on a full `Keep` topic, `Closed` after `close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let r = futures_executor::block_on(t.publish_async(5)).unwrap();
    /// assert_eq!(r.offset, 0);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub async fn publish_async(&self, value: T) -> Result<Receipt, PublishError<T>> {
        self.publish_message_async(Message::new(value))
            .await
            .map_err(|e| e.map(|m| m.value))
    }

    /// Publishes a [`Message`] (key, headers, partition, timestamp). Waits for room
    /// only on a `Block` topic.
    ///
    /// # Errors
    ///
    /// As [`Topic::publish`], plus `OutOfRange` when the message names a partition
    /// the topic does not have.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Message, TopicConfig};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().partitions(3))?;
    /// assert_eq!(t.publish_message(Message::new(1).partition(2)).unwrap().partition, 2);
    /// // Kafka's default partitioner: the same key always lands on the same partition.
    /// let a = t.publish_message(Message::new(2).key("k")).unwrap();
    /// let b = t.publish_message(Message::new(3).key("k")).unwrap();
    /// assert_eq!(a.partition, b.partition);
    /// assert!(t.publish_message(Message::new(4).partition(3)).is_err());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn publish_message(&self, msg: Message<T>) -> Result<Receipt, PublishError<Message<T>>> {
        let wait = self.policy_wait();
        self.inner.publish_msg(msg, wait).map_err(without_timeout)
    }

    /// [`Topic::publish_message`] without ever waiting.
    ///
    /// # Errors
    ///
    /// As [`Topic::try_publish`], plus `OutOfRange`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Message;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.try_publish_message(Message::new(1).header("h", "v")).unwrap();
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn try_publish_message(
        &self,
        msg: Message<T>,
    ) -> Result<Receipt, PublishError<Message<T>>> {
        self.inner
            .publish_msg(msg, Wait::Never)
            .map_err(without_timeout)
    }

    /// [`Topic::publish_message`], waiting up to `timeout` for room on `Block` and
    /// `Reject` topics.
    ///
    /// # Errors
    ///
    /// As [`Topic::publish_timeout`], plus `OutOfRange`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::Message;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish_message_timeout(Message::new(1), Duration::from_millis(5)).unwrap();
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn publish_message_timeout(
        &self,
        msg: Message<T>,
        timeout: Duration,
    ) -> Result<Receipt, PublishTimeoutError<Message<T>>> {
        let wait = match self.inner.config.on_full {
            OnFull::Block | OnFull::Reject => Wait::Until(Instant::now().checked_add(timeout)),
            OnFull::Overwrite | OnFull::Keep => Wait::Never,
        };
        self.inner.publish_msg(msg, wait)
    }

    /// [`Topic::publish_message`], waiting asynchronously for room on `Block` and
    /// `Reject` topics. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`Topic::publish_async`], plus `OutOfRange`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Message;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// futures_executor::block_on(t.publish_message_async(Message::new(1).key("k"))).unwrap();
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn publish_message_async(&self, msg: Message<T>) -> PublishFuture<T> {
        let msg_partition = msg.partition;
        PublishFuture {
            topic: self.inner.clone(),
            msg: Some(msg),
            msg_partition,
            id: waiter_id(),
            room_of: None,
        }
    }

    /// Publishes several values in order (round-robin partitions; on a one-partition
    /// topic they get consecutive offsets from one claim per chunk). Waits for room
    /// only on a `Block` topic. Returns how many were published.
    ///
    /// # Errors
    ///
    /// `Full` or `Closed` with the values not published (in order); the ones before
    /// them were published.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u32>("t", Default::default())?;
    /// let mut sub = t.subscribe(Start::Earliest)?;
    /// assert_eq!(t.publish_batch(0..100).unwrap(), 100);
    /// assert_eq!(sub.try_recv_batch(1000).unwrap().len(), 100);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn publish_batch<I: IntoIterator<Item = T>>(
        &self,
        values: I,
    ) -> Result<usize, PublishError<Vec<T>>> {
        let wait = self.policy_wait();
        let inner = &self.inner;
        if inner.config.partitions > 1 || inner.config.compacted {
            let mut it = values.into_iter();
            let mut n = 0;
            while let Some(v) = it.next() {
                if let Err(e) = inner.publish_parts(v, wait) {
                    return Err(e.map(|v| std::iter::once(v).chain(it).collect()));
                }
                n += 1;
            }
            return Ok(n);
        }
        // One partition: claim chunks of consecutive offsets at once.
        let part = &inner.parts[0];
        let chunk_max = (part.ring.capacity() as usize).clamp(1, 256);
        let mut it = values.into_iter();
        let mut n = 0;
        loop {
            let chunk: Vec<T> = it.by_ref().take(chunk_max).collect();
            if chunk.is_empty() {
                return Ok(n);
            }
            let k = chunk.len() as u64;
            let mut src = chunk.into_iter();
            match inner.claim_wait(0, k, wait, &mut || {
                let now = inner.timer.clock().now_ms();
                (
                    now,
                    Entry {
                        key: None,
                        headers: Headers::new(),
                        value: src.next().expect("k values"),
                    },
                )
            }) {
                Ok(_) => n += k as usize,
                Err(r) => {
                    // A refused claim took nothing: hand back this chunk and the rest.
                    let rest: Vec<T> = src.chain(it).collect();
                    return Err(match r {
                        Refused::Full => PublishError::Full(rest),
                        Refused::Closed => PublishError::Closed(rest),
                    });
                }
            }
        }
    }

    fn policy_wait(&self) -> Wait {
        match self.inner.config.on_full {
            OnFull::Block => Wait::Until(None),
            OnFull::Overwrite | OnFull::Reject | OnFull::Keep => Wait::Never,
        }
    }

    /// Every record retained now, partition by partition, oldest first (what a
    /// reader from the earliest offsets gets before anything new is published).
    pub(crate) fn retained(&self) -> Result<Vec<crate::Record<T>>, Error> {
        let mut sub = self.subscribe(Start::Earliest)?;
        let mut out = Vec::new();
        while let Ok(batch) = sub.try_recv_batch(BATCH) {
            if batch.is_empty() {
                break;
            }
            out.extend(batch);
        }
        Ok(out)
    }

    /// Subscribes from `start`, reading gaps as [`OnLag::Earliest`].
    ///
    /// # Errors
    ///
    /// `OutOfRange` for an offset past a partition's end or a partition the topic
    /// does not have.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Start;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish(1).unwrap();
    /// let mut replay = t.subscribe(Start::Earliest)?;
    /// let mut live = t.subscribe(Start::Latest)?;
    /// assert_eq!(replay.try_recv().unwrap().value, 1);
    /// assert!(live.try_recv().is_err());
    /// assert!(t.subscribe(Start::Offset(5)).is_err());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn subscribe(&self, start: Start) -> Result<Subscription<T>, Error> {
        Subscription::new(self.inner.clone(), start, OnLag::Earliest)
    }

    /// Subscribes from `start` with a lag policy.
    ///
    /// # Errors
    ///
    /// As [`Topic::subscribe`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{OnLag, RecvError, Start, TopicConfig};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(2))?;
    /// let mut sub = t.subscribe_with(Start::Earliest, OnLag::Latest)?;
    /// for i in 0..5 { t.publish(i).unwrap(); }
    /// assert_eq!(sub.recv(), Err(RecvError::Lagged { partition: 0, skipped: 5 }));
    /// t.publish(5).unwrap();
    /// assert_eq!(sub.recv().unwrap().value, 5);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn subscribe_with(&self, start: Start, on_lag: OnLag) -> Result<Subscription<T>, Error> {
        Subscription::new(self.inner.clone(), start, on_lag)
    }
}

/// What a reader that keeps its own cursors (a consumer or share group) needs of
/// its topic, whatever the topic's value type.
pub(crate) trait TopicOps: Send + Sync {
    fn end(&self, p: u32) -> u64;
    /// Records a reader at `pos` in `p` has yet to read.
    fn lag_from(&self, p: u32, pos: u64) -> u64;
    /// The oldest readable offset of `p`.
    fn floor(&self, p: u32) -> u64;
    /// Where a reader starting at `start` begins in `p`.
    fn start_of(&self, p: u32, start: &Start) -> u64;
    fn add_cursor(&self, p: u32, cursor: &Arc<Cursor>);
    fn remove_cursor(&self, p: u32, cursor: &Arc<Cursor>);
    /// A cursor moved: wake producers waiting for room in `p`.
    fn room_changed(&self, p: u32);
    /// Wake every reader (a rebalance changed what members read).
    fn wake_readers(&self);
    fn is_closed(&self) -> bool;
}

impl<T: Clone + Send + Sync + 'static> TopicOps for TopicInner<T> {
    fn end(&self, p: u32) -> u64 {
        self.parts[p as usize].end()
    }

    fn lag_from(&self, p: u32, pos: u64) -> u64 {
        self.parts[p as usize].lag_from(pos)
    }

    fn floor(&self, p: u32) -> u64 {
        TopicInner::floor(self, p)
    }

    fn start_of(&self, p: u32, start: &Start) -> u64 {
        match start {
            Start::Earliest => TopicInner::floor(self, p),
            Start::Timestamp(_) => subscription::resolve(self, start)
                .ok()
                .and_then(|v| v.get(p as usize).copied())
                .unwrap_or_else(|| self.parts[p as usize].end()),
            _ => self.parts[p as usize].end(),
        }
    }

    fn add_cursor(&self, p: u32, cursor: &Arc<Cursor>) {
        let part = &self.parts[p as usize];
        let mut cursors = part.cursors.lock();
        cursors.push(cursor.clone());
        // Under the lock, so a concurrent rescan cannot raise it past the cursor.
        part.gate
            .fetch_min(cursor.pos.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn remove_cursor(&self, p: u32, cursor: &Arc<Cursor>) {
        let part = &self.parts[p as usize];
        part.cursors.lock().retain(|c| !Arc::ptr_eq(c, cursor));
        part.room.notify();
    }

    fn room_changed(&self, p: u32) {
        self.parts[p as usize].room.notify();
    }

    fn wake_readers(&self) {
        self.data.notify();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl<T: Clone + Send + Sync + 'static> TopicInner<T> {
    pub(crate) fn close(&self) {
        for p in self.parts.iter() {
            p.close();
            p.room.notify();
        }
        self.closed.store(true, Ordering::SeqCst);
        self.data.notify();
    }

    /// The oldest offset readers may still read in `p` (eviction and expiry applied).
    pub(crate) fn floor(&self, p: u32) -> u64 {
        let part = &self.parts[p as usize];
        if self.max_age_ms.is_some() {
            self.expire(p);
        }
        part.start().max(part.expired.load(Ordering::Acquire))
    }

    /// Advances partition `p`'s expiry boundary to now; returns when the next
    /// record expires (ms), if one is retained.
    fn expire(&self, p: u32) -> Option<i64> {
        let age = self.max_age_ms?;
        let part = &self.parts[p as usize];
        let now = self.timer.clock().now_ms();
        let cutoff = now.saturating_sub(age);
        loop {
            let from = part.ring.start().max(part.expired.load(Ordering::Acquire));
            let mut boundary = from;
            let mut next_ts = None;
            let read = part.ring.read(from, 64, 0, |o, ts, _| {
                if next_ts.is_none() {
                    if ts < cutoff {
                        boundary = o + 1;
                    } else {
                        next_ts = Some(ts);
                    }
                }
            });
            if boundary > from {
                let before = part.expired.fetch_max(boundary, Ordering::AcqRel);
                if let Some(j) = &self.journal {
                    self.journal_range(j, p, EventKind::Expire, before.max(from), boundary);
                }
            }
            match (read, next_ts) {
                (_, Some(ts)) => return Some(ts.saturating_add(age).saturating_add(1)),
                (Read::Got(n), None) if n > 0 => continue,
                (Read::Evicted { .. }, _) => continue,
                _ => return None,
            }
        }
    }

    /// Whether claiming `k` records at end offset `n` of `part` may evict what it must.
    #[inline]
    fn admit(&self, part: &Partition<T>, n: u64, k: u64) -> bool {
        let cap = part.ring.capacity();
        if n + k <= cap {
            return true;
        }
        let evict = n + k - 1 - cap; // the newest offset this claim evicts
        match self.config.on_full {
            OnFull::Overwrite => true,
            OnFull::Keep => evict < part.expired.load(Ordering::Acquire),
            OnFull::Block | OnFull::Reject => {
                evict < part.gate.load(Ordering::Acquire)
                    || evict < part.expired.load(Ordering::Acquire)
                    || evict < part.rescan_gate()
            }
        }
    }

    fn pick_partition(&self, key: Option<&Key>, explicit: Option<u32>) -> Option<u32> {
        let n = self.config.partitions;
        match (explicit, key) {
            (Some(p), _) => (p < n).then_some(p),
            (None, Some(k)) => Some(partition_for_key(k.as_bytes(), n)),
            (None, None) if n == 1 => Some(0),
            (None, None) => Some((self.rr.fetch_add(1, Ordering::Relaxed) % u64::from(n)) as u32),
        }
    }

    #[inline]
    fn publish_parts(&self, value: T, wait: Wait) -> Result<Receipt, PublishError<T>> {
        let entry = Entry {
            key: None,
            headers: Headers::new(),
            value,
        };
        self.publish_entry(None, None, entry, wait)
            .map_err(|e| e.map(|en| en.value))
    }

    /// Publishes one entry; a refused one comes back whole (no copy of its key or
    /// headers is made on the way).
    #[inline]
    fn publish_entry(
        &self,
        partition: Option<u32>,
        timestamp: Option<i64>,
        entry: Entry<T>,
        wait: Wait,
    ) -> Result<Receipt, PublishError<Entry<T>>> {
        let Some(p) = self.pick_partition(entry.key.as_ref(), partition) else {
            return Err(PublishError::OutOfRange(entry));
        };
        if let Some(c) = &self.parts[p as usize].compact {
            if entry.key.is_none() {
                return Err(PublishError::NoKey(entry));
            }
            let ts = timestamp.unwrap_or_else(|| self.timer.clock().now_ms());
            return self
                .append_compacted(p, c, ts, entry)
                .map(|offset| Receipt {
                    partition: p,
                    offset,
                })
                .map_err(|(r, e)| match r {
                    Refused::Full => PublishError::Full(e),
                    Refused::Closed => PublishError::Closed(e),
                });
        }
        let mut entry = Some(entry);
        let clock = self.timer.clock();
        let r = self.claim_wait(p, 1, wait, &mut || {
            let ts = timestamp.unwrap_or_else(|| clock.now_ms());
            (ts, entry.take().expect("one entry per claim"))
        });
        match r {
            Ok(offset) => Ok(Receipt {
                partition: p,
                offset,
            }),
            Err(refused) => {
                let e = entry.take().expect("refused claims leave the entry");
                Err(match refused {
                    Refused::Full => PublishError::Full(e),
                    Refused::Closed => PublishError::Closed(e),
                })
            }
        }
    }

    fn publish_msg(
        &self,
        msg: Message<T>,
        wait: Wait,
    ) -> Result<Receipt, PublishTimeoutError<Message<T>>> {
        let Message {
            value,
            key,
            headers,
            partition,
            timestamp,
        } = msg;
        let entry = Entry {
            key,
            headers,
            value,
        };
        self.publish_entry(partition, timestamp, entry, wait)
            .map_err(|e| {
                let timed_out = matches!(wait, Wait::Until(Some(d)) if Instant::now() >= d);
                let e = e.map(
                    |Entry {
                         key,
                         headers,
                         value,
                     }| Message {
                        value,
                        key,
                        headers,
                        partition,
                        timestamp,
                    },
                );
                match e {
                    PublishError::Full(m) if timed_out => PublishTimeoutError::Timeout(m),
                    e => e.into(),
                }
            })
    }

    /// Appends `msgs` (keys and headers kept, bus-clock timestamps) to partition
    /// `p` as one claim: all of them or none. `Err(true)` when there is no room,
    /// `Err(false)` when closed. Returns the first offset.
    pub(crate) fn append_all(
        &self,
        p: u32,
        msgs: Vec<Message<T>>,
    ) -> Result<u64, (bool, Vec<Message<T>>)> {
        let k = msgs.len() as u64;
        let mut src = msgs.into_iter();
        let clock = self.timer.clock();
        let r = self.claim_wait(p, k, Wait::Never, &mut || {
            let m = src.next().expect("k messages");
            (
                clock.now_ms(),
                Entry {
                    key: m.key,
                    headers: m.headers,
                    value: m.value,
                },
            )
        });
        match r {
            Ok(o) => Ok(o),
            Err(refused) => Err((matches!(refused, Refused::Full), src.collect())),
        }
    }

    /// The record at `offset` of partition `p`, if it is retained.
    pub(crate) fn read_at(&self, p: u32, offset: u64) -> Option<crate::Record<T>> {
        let part = self.parts.get(p as usize)?;
        let mut got = None;
        part.read(offset, 1, self.floor(p), |o, ts, e| {
            if o == offset {
                got = Some(crate::Record {
                    partition: p,
                    offset: o,
                    timestamp: ts,
                    key: e.key.clone(),
                    headers: e.headers.clone(),
                    value: e.value.clone(),
                });
            }
        });
        got
    }

    /// Claims `k` records on partition `p`, waiting for room as `wait` allows, and
    /// wakes readers once they are published.
    #[inline]
    fn claim_wait(
        &self,
        p: u32,
        k: u64,
        wait: Wait,
        next: &mut dyn FnMut() -> (i64, Entry<T>),
    ) -> Result<u64, Refused> {
        let part = &self.parts[p as usize];
        // Compacted partitions take records one by one in `publish_entry`.
        debug_assert!(part.compact.is_none(), "claims are for rings");
        if self.max_age_ms.is_some() && !matches!(self.config.on_full, OnFull::Overwrite) {
            self.expire(p);
        }
        let mut attempt = || {
            part.ring
                .publish(k, |n, k| self.admit(part, n, k), &mut *next)
        };
        let r = match attempt() {
            Err(Refused::Full)
                if !matches!(wait, Wait::Never) && self.config.on_full != OnFull::Keep =>
            {
                self.wait_for_room(p, wait, &mut attempt)
            }
            r => r,
        };
        if let Ok(offset) = r {
            self.data.notify();
            if let Some(j) = &self.journal {
                self.journal_claim(j, p, offset, k);
            }
        }
        r
    }

    /// Appends one record to compacted partition `p`.
    #[cold]
    fn append_compacted(
        &self,
        p: u32,
        c: &Compacted<T>,
        ts: i64,
        entry: Entry<T>,
    ) -> Result<u64, (Refused, Entry<T>)> {
        let tomb = self.tombstone.get().is_some_and(|f| f(&entry.value));
        let (offset, evicted) = c.append(ts, entry, tomb)?;
        self.data.notify();
        if let Some(j) = &self.journal {
            if let Some(o) = evicted {
                j.emit(Event::topic(EventKind::Evict, &self.name, p, o));
            }
            j.emit(Event::topic(EventKind::Append, &self.name, p, offset));
        }
        Ok(offset)
    }

    /// Journals a claim of `k` records at `offset` of partition `p`, and what it
    /// evicted.
    #[cold]
    fn journal_claim(&self, j: &Journal, p: u32, offset: u64, k: u64) {
        let part = &self.parts[p as usize];
        let cap = part.ring.capacity();
        let end = offset + k;
        if end > cap {
            let from = offset
                .saturating_sub(cap)
                .max(part.expired.load(Ordering::Acquire));
            self.journal_range(j, p, EventKind::Evict, from, end - cap);
        }
        self.journal_range(j, p, EventKind::Append, offset, end);
    }

    /// Journals `kind` for offsets `from..to` of partition `p`.
    fn journal_range(&self, j: &Journal, p: u32, kind: EventKind, from: u64, to: u64) {
        for o in from..to {
            j.emit(Event::topic(kind, &self.name, p, o));
        }
    }

    /// Waits (parking the thread) until `attempt` stops being refused for lack of
    /// room, or the deadline passes.
    #[cold]
    fn wait_for_room(
        &self,
        p: u32,
        wait: Wait,
        attempt: &mut dyn FnMut() -> Result<u64, Refused>,
    ) -> Result<u64, Refused> {
        let Wait::Until(deadline) = wait else {
            return Err(Refused::Full);
        };
        let part = &self.parts[p as usize];
        let id = waiter_id();
        let waker = thread_waker();
        let mut spin = Spin::new();
        let result = loop {
            if !spin.is_long() {
                spin.wait();
            } else {
                part.room.register(id, &waker);
                let expiry = self.expire(p);
                match attempt() {
                    Err(Refused::Full) => {}
                    r => break r,
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break Err(Refused::Full);
                }
                // Sleep until room is made, the deadline passes, or the oldest record
                // expires on the bus clock (manual clocks wake us when advanced).
                self.timer.park(id, &waker, expiry, deadline);
            }
            match attempt() {
                Err(Refused::Full) => {}
                r => break r,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(Refused::Full);
            }
        };
        part.room.unregister(id);
        self.timer.cancel(id);
        result
    }
}

/// The future of [`Topic::publish_message_async`]. Publishes nothing if dropped
/// before it completes.
#[must_use = "futures do nothing unless polled"]
pub struct PublishFuture<T> {
    topic: Arc<TopicInner<T>>,
    msg: Option<Message<T>>,
    /// The partition the caller named, restored on the message handed back.
    msg_partition: Option<u32>,
    id: u64,
    room_of: Option<u32>,
}

impl<T> std::fmt::Debug for PublishFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishFuture")
            .field("topic", &&*self.topic.name)
            .finish_non_exhaustive()
    }
}

impl<T> Unpin for PublishFuture<T> {}

impl<T: Clone + Send + Sync + 'static> Future for PublishFuture<T> {
    type Output = Result<Receipt, PublishError<Message<T>>>;

    fn poll(mut self: StdPin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let topic = this.topic.clone();
        let msg = this.msg.as_ref().expect("polled after completion");
        // The partition is chosen once (round-robin or by key), so waiting for room
        // waits on the partition the record will go to.
        let p = match this.room_of {
            Some(p) => p,
            None => match topic.pick_partition(msg.key.as_ref(), msg.partition) {
                Some(p) => p,
                None => {
                    return Poll::Ready(Err(PublishError::OutOfRange(
                        this.msg.take().expect("present"),
                    )))
                }
            },
        };
        let part = &topic.parts[p as usize];
        let blocking = matches!(topic.config.on_full, OnFull::Block | OnFull::Reject);
        for registered in [false, true] {
            let mut msg = this.msg.take().expect("present");
            msg.partition = Some(p);
            match topic.publish_msg(msg, Wait::Never) {
                Ok(r) => return Poll::Ready(Ok(r)),
                Err(PublishTimeoutError::Full(mut m)) if blocking => {
                    m.partition = this.msg_partition;
                    this.msg = Some(m);
                    if registered {
                        return Poll::Pending;
                    }
                    this.room_of = Some(p);
                    part.room.register(this.id, cx.waker());
                    if let Some(at) = topic.expire(p) {
                        topic.timer.wake_at(at, this.id, cx.waker());
                    }
                }
                Err(e) => {
                    let restore = |mut m: Message<T>| {
                        m.partition = this.msg_partition;
                        m
                    };
                    return Poll::Ready(Err(without_timeout(e).map(restore)));
                }
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for PublishFuture<T> {
    fn drop(&mut self) {
        if let Some(p) = self.room_of {
            self.topic.parts[p as usize].room.unregister(self.id);
            self.topic.timer.cancel(self.id);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom models of the topic layer: block-mode gating and waking waiting readers.
    use super::*;
    use crate::{Clock, ManualClock, RecvError, TryRecvError};
    use loom::sync::atomic::{AtomicBool, AtomicUsize};
    use loom::thread;
    use std::task::{Wake, Waker};

    type V = Arc<AtomicUsize>;

    fn val(n: usize) -> V {
        Arc::new(AtomicUsize::new(n))
    }

    fn topic(on_full: OnFull, capacity: usize) -> Topic<V> {
        let timer = Arc::new(BusTimer::new(Clock::Manual(ManualClock::new())));
        let config = TopicConfig::default().capacity(capacity).on_full(on_full);
        Topic::create("t".into(), config, timer, None, None).unwrap()
    }

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// Block-mode gating: a producer racing a reader on a full one-record topic never
    /// evicts a record the reader has not read; the reader sees everything in order.
    #[test]
    fn block_gating_is_lossless() {
        loom::model(|| {
            let t = topic(OnFull::Block, 1);
            let mut sub = t.subscribe(Start::Earliest).unwrap();
            t.try_publish(val(1)).unwrap();
            let p = t.clone();
            let h = thread::spawn(move || {
                for _ in 0..2 {
                    if p.try_publish(val(2)).is_ok() {
                        return 1;
                    }
                    thread::yield_now();
                }
                0
            });
            let mut got = vec![];
            for _ in 0..2 {
                match sub.try_recv() {
                    Ok(r) => got.push(r.value.load(Ordering::Relaxed)),
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            }
            let sent = h.join().unwrap();
            while let Ok(r) = sub.try_recv() {
                got.push(r.value.load(Ordering::Relaxed));
            }
            assert_eq!(got, (1..=1 + sent).collect::<Vec<_>>());
        });
    }

    fn waiting_reader_is_woken(act: fn(&Topic<V>)) {
        loom::model(move || {
            let t = topic(OnFull::Overwrite, 1);
            let mut sub = t.subscribe(Start::Latest).unwrap();
            let p = t.clone();
            let h = thread::spawn(move || act(&p));
            let flag = Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            // The future stays alive across the race: dropping it cancels its wake-up.
            let mut fut = sub.recv_async();
            let first = StdPin::new(&mut fut).poll(&mut cx);
            h.join().unwrap();
            if first.is_pending() {
                // No lost wake-up: whoever made progress woke us.
                assert!(flag.0.load(Ordering::SeqCst));
                assert!(StdPin::new(&mut fut).poll(&mut cx).is_ready());
            }
        });
    }

    /// A publish racing a reader that is about to wait wakes it (or it sees the record).
    #[test]
    fn publish_wakes_waiting_reader() {
        waiting_reader_is_woken(|t| {
            t.publish(val(7)).unwrap();
        });
    }

    /// A close racing a reader that is about to wait wakes it (or it sees `Closed`).
    #[test]
    fn close_wakes_waiting_reader() {
        waiting_reader_is_woken(|t| t.close());
        loom::model(|| {
            let t = topic(OnFull::Overwrite, 1);
            let mut sub = t.subscribe(Start::Latest).unwrap();
            t.close();
            assert!(matches!(sub.try_recv(), Err(TryRecvError::Closed)));
            assert_eq!(
                futures_executor_free_poll(&mut sub),
                Some(Err(RecvError::Closed))
            );
        });
    }

    fn futures_executor_free_poll(sub: &mut Subscription<V>) -> Option<Result<(), RecvError>> {
        let waker = Waker::from(Arc::new(Flag(AtomicBool::new(false))));
        let mut cx = Context::from_waker(&waker);
        let mut fut = sub.recv_async();
        match StdPin::new(&mut fut).poll(&mut cx) {
            Poll::Ready(r) => Some(r.map(|_| ())),
            Poll::Pending => None,
        }
    }
}
