//! Topics: named, partitioned, replayable logs held in bounded rings.

mod compact;
mod config;
mod durable;
pub(crate) use durable::Durable;
pub(crate) use publish::Refused;
mod future;
pub(crate) mod iteration;
#[cfg(all(test, loom))]
mod loom_tests;
mod ops;
mod partition;
mod publish;
mod ring;
mod start;
mod subscription;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::clock::{duration_ms, waiter_id};
use crate::dead_letter::DeadLetterResolver;
use crate::error::{shown, PublishError, PublishTimeoutError};
use crate::extensions::Extensions;
use crate::journal::Journal;
use crate::record::{Headers, Message, Receipt};
use crate::sync::{AtomicU64, Mutex};
use crate::wait::{BusTimer, Notifier};
use crate::Error;

use compact::Compacted;
pub(crate) use iteration::reader_by_inherent_methods;
pub use iteration::Reader;
use ring::Ring;
pub(crate) use start::resolve;
pub use start::{OnLag, Start};
pub use subscription::{Iter, RecvFuture, Subscription, BATCH};

pub use config::{OnFull, TopicConfig, TopicMetadata, MAX_CAPACITY, MAX_PARTITIONS};
pub use future::PublishFuture;
pub(crate) use iteration::{next_item, next_item_timeout, poll_next_item};
pub(crate) use ops::TopicOps;
pub(crate) use partition::{Cursor, Entry, Partition};

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
    /// A durable topic's logs and codec.
    pub(crate) durable: Option<durable::Durable<T>>,
    /// The faults armed on the topic (see [`crate::faults`]).
    pub(crate) faults: crate::fault_point::SharedPoint,
    /// Its owner, description and tags now (`config` holds the shape only).
    pub(crate) meta: Mutex<TopicMetadata>,
    /// Its schema now, checked at every publish.
    pub(crate) schema: crate::schema::SchemaSlot<T>,
    /// Held while a durable topic writes its metadata, so the last write is the
    /// newest metadata.
    persisting: Mutex<()>,
}

/// The state key a durable topic keeps its metadata (schema included) under,
/// beside its consumer groups' commits.
pub(crate) const METADATA_STATE: &str = "__metadata";

/// The metadata a durable topic's storage holds, if any.
pub(crate) fn stored_metadata(
    name: &str,
    logs: &dyn crate::storage::TopicLogs,
) -> Result<Option<TopicMetadata>, Error> {
    match logs.state(METADATA_STATE) {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::ConfigError {
                name: name.to_owned(),
                reason: format!("its stored metadata is not readable: {e}"),
            }),
    }
}

impl<T: 'static> TopicInner<T> {
    /// The metadata now, schema included.
    pub(crate) fn snapshot_metadata(&self) -> TopicMetadata {
        let mut m = self.meta.lock().clone();
        m.schema = self.schema.doc();
        m
    }

    /// Writes a durable topic's metadata now to its storage, when it changed
    /// (nothing for an in-memory topic): opened again after a restart, the topic
    /// has the owner, description, tags and schema it had.
    pub(crate) fn persist_metadata(&self) -> Result<(), Error> {
        let Some(d) = &self.durable else {
            return Ok(());
        };
        let _turn = self.persisting.lock();
        let m = self.snapshot_metadata();
        let bytes = serde_json::to_vec(&m).map_err(|e| Error::ConfigError {
            name: self.name.to_string(),
            reason: format!("its metadata cannot be stored: {e}"),
        })?;
        let unchanged = match d.logs.state(METADATA_STATE) {
            Some(stored) => stored == bytes,
            None => m == TopicMetadata::default(),
        };
        if unchanged {
            return Ok(());
        }
        // Rare and small: at least handed to the operating system, whatever the
        // topic's durability.
        let durability = match d.durability {
            crate::storage::Durability::Buffered => crate::storage::Durability::Written,
            other => other,
        };
        d.logs.store_state(METADATA_STATE, &bytes, durability)
    }
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
        PublishTimeoutError::Storage(m, e) => PublishError::Storage(m, e),
        PublishTimeoutError::Schema(m, e) => PublishError::Schema(m, e),
    }
}

/// `partition` if a topic of `n` partitions has it; `OutOfRange` otherwise.
pub(crate) fn check_partition(partition: u32, n: u32) -> Result<u32, Error> {
    if partition < n {
        return Ok(partition);
    }
    Err(Error::OutOfRange {
        partition,
        reason: format!("the topic has {n} partitions (0 to {})", n - 1),
    })
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
        Self::create_with(name, config, timer, journal, dead_letters, None)
    }

    /// [`Topic::create`], durable when `durable` is given: each partition's ring
    /// starts at its log's newest `capacity` records, read back before the topic
    /// is returned.
    pub(crate) fn create_with(
        name: Arc<str>,
        config: TopicConfig,
        timer: Arc<BusTimer>,
        journal: Option<Arc<Journal>>,
        dead_letters: Option<DeadLetterResolver<T>>,
        durable: Option<durable::Durable<T>>,
    ) -> Result<Self, Error> {
        let mut parts = Vec::new();
        parts
            .try_reserve_exact(config.partitions as usize)
            .map_err(|_| Error::ConfigError {
                name: name.to_string(),
                reason: "not enough memory for the partitions".into(),
            })?;
        for p in 0..config.partitions {
            let storage = if config.compacted { 1 } else { config.capacity };
            parts.push(Partition {
                base: durable
                    .as_ref()
                    .map_or(0, |d| d.base(p, config.capacity as u64)),
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
        let mut config = config;
        let mut meta = std::mem::take(&mut config.metadata);
        // The schema lives in its slot (set by the bus, which compiles it).
        meta.schema = None;
        let topic = Topic {
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
                durable,
                faults: Default::default(),
                meta: Mutex::new(meta),
                persisting: Mutex::new(()),
                schema: Default::default(),
            }),
        };
        let weak = Arc::downgrade(&topic.inner);
        topic.inner.faults.on_resume(Box::new(move || {
            if let Some(t) = weak.upgrade() {
                t.data.notify();
            }
        }));
        if let Some(d) = &topic.inner.durable {
            if let Some(f) = d.is_tombstone {
                let _ = topic.inner.tombstone.set(f);
            }
            for p in 0..topic.inner.config.partitions {
                topic.inner.restore(d, p)?;
            }
        }
        Ok(topic)
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

    /// The topic's configuration: its shape (partitions, retention, policies).
    /// Its metadata is empty here: [`Topic::metadata`] gives the current owner,
    /// description, tags and schema.
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

    /// The topic's owner, description, tags and schema now.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TopicConfig;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().owner("billing").tag("finance"))?;
    /// let m = t.metadata();
    /// assert_eq!((m.owner.as_deref(), m.tags), (Some("billing"), vec!["finance".to_string()]));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn metadata(&self) -> TopicMetadata {
        self.inner.snapshot_metadata()
    }

    /// The topic's JSON Schema now, if it has one.
    pub fn schema(&self) -> Option<serde_json::Value> {
        self.inner.schema.doc()
    }

    /// Changes the topic's schema to `schema`, if the
    /// [evolution rule](crate::schema#evolution) allows it (a topic without a
    /// schema takes any). Publishes from then on are checked against it.
    ///
    /// # Errors
    ///
    /// `ConfigError` saying what change is refused, or why `schema` is not a
    /// schema, or that the topic's values cannot be checked.
    pub fn set_schema(&self, schema: serde_json::Value) -> Result<(), Error> {
        config::schema_shape(&self.inner.name, &schema)?;
        self.inner.schema.evolve(&self.inner.name, schema, None)?;
        self.inner.persist_metadata()
    }

    /// Takes `given` metadata into the topic when it is opened again: unset fields
    /// keep what the topic has, set ones must agree or fill in, a schema evolves.
    pub(crate) fn adopt(
        &self,
        given: &TopicMetadata,
        compiler: Option<crate::schema::SchemaCompiler<T>>,
    ) -> Result<(), Error> {
        let name = &*self.inner.name;
        {
            let mut meta = self.inner.meta.lock();
            let conflict = |what: &str, has: &str, given: &str| Error::ConfigError {
                name: name.to_string(),
                reason: format!(
                    "its {what} is {has}, not {given}: leave {what} unset to open it as it is"
                ),
            };
            for (what, has, want) in [
                ("owner", &meta.owner, &given.owner),
                ("description", &meta.description, &given.description),
            ] {
                if let (Some(h), Some(w)) = (has, want) {
                    if h != w {
                        return Err(conflict(what, &shown(h), &shown(w)));
                    }
                }
            }
            if !meta.tags.is_empty() && !given.tags.is_empty() && meta.tags != given.tags {
                return Err(conflict(
                    "tags",
                    &format!("{:?}", meta.tags),
                    &format!("{:?}", given.tags),
                ));
            }
            if meta.owner.is_none() {
                meta.owner.clone_from(&given.owner);
            }
            if meta.description.is_none() {
                meta.description.clone_from(&given.description);
            }
            if meta.tags.is_empty() {
                meta.tags.clone_from(&given.tags);
            }
        }
        if let Some(doc) = &given.schema {
            self.inner.schema.evolve(name, doc.clone(), compiler)?;
        }
        self.inner.persist_metadata()
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

    /// `partition`, if the topic has it: an argument check for hosts, whose users
    /// get `OutOfRange` naming the partition (a publish to a missing partition
    /// only hands the message back).
    ///
    /// # Errors
    ///
    /// `OutOfRange` with the partition and the topic's partition count.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", ringlet::TopicConfig::default().partitions(2))?;
    /// assert_eq!(t.check_partition(1), Ok(1));
    /// assert_eq!(
    ///     t.check_partition(3).unwrap_err().to_string(),
    ///     "out of range (partition 3): the topic has 2 partitions (0 to 1)"
    /// );
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn check_partition(&self, partition: u32) -> Result<u32, Error> {
        check_partition(partition, self.inner.config.partitions)
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

    /// A durable topic's codec name (`None` for a topic kept in memory only).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert_eq!(bus.topic::<u8>("t", Default::default())?.codec_name(), None);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn codec_name(&self) -> Option<String> {
        self.inner
            .durable
            .as_ref()
            .map(|d| d.codec.name().to_owned())
    }

    /// What opening a durable topic's logs cut off — torn tails left by a crash
    /// — as sentences naming the file, the byte and how much was dropped (empty
    /// in memory, and when every log was whole). Also in
    /// [`Topic::snapshot`] and, on a bus with a journal, as `recover` events.
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert!(bus.topic::<u8>("t", Default::default())?.recovered().is_empty());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn recovered(&self) -> Vec<String> {
        self.inner
            .durable
            .as_ref()
            .map(|d| d.logs.recovered())
            .unwrap_or_default()
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
        let wait = self.wait_up_to(timeout);
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
    /// `Full`, `Closed` or `Schema` with the values not published (in order); the
    /// ones before them were published.
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
        self.publish_batch_waiting(values, self.policy_wait())
    }

    /// [`Topic::publish_batch`] without ever waiting: on a full `Block` topic it
    /// publishes what fits and hands back the rest as `Full`.
    ///
    /// # Errors
    ///
    /// As [`Topic::publish_batch`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{OnFull, PublishError, Start, TopicConfig};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(2).on_full(OnFull::Block))?;
    /// let _reader = t.subscribe(Start::Earliest)?;
    /// assert_eq!(t.try_publish_batch([1, 2, 3]), Err(PublishError::Full(vec![3])));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn try_publish_batch<I: IntoIterator<Item = T>>(
        &self,
        values: I,
    ) -> Result<usize, PublishError<Vec<T>>> {
        self.publish_batch_waiting(values, Wait::Never)
    }

    /// [`Topic::publish_batch`], waiting at most `timeout` (in all) for room on
    /// `Block` and `Reject` topics.
    ///
    /// # Errors
    ///
    /// As [`Topic::publish_batch`]: `Full` with the values not published when the
    /// time is up.
    pub fn publish_batch_timeout<I: IntoIterator<Item = T>>(
        &self,
        values: I,
        timeout: Duration,
    ) -> Result<usize, PublishError<Vec<T>>> {
        let wait = self.wait_up_to(timeout);
        self.publish_batch_waiting(values, wait)
    }

    fn publish_batch_waiting<I: IntoIterator<Item = T>>(
        &self,
        values: I,
        wait: Wait,
    ) -> Result<usize, PublishError<Vec<T>>> {
        let inner = &self.inner;
        if let Some(e) = inner.injected() {
            return Err(e.publish_error(values.into_iter().collect()));
        }
        if inner.config.partitions > 1 || inner.config.compacted {
            let mut it = values.into_iter();
            let mut n = 0;
            while let Some(v) = it.next() {
                if let Err(e) = inner.publish_value(v, wait) {
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
            let mut chunk: Vec<T> = it.by_ref().take(chunk_max).collect();
            // A value that does not match the schema ends the batch: the ones
            // before it are published first.
            let mismatch = inner
                .first_mismatch(&chunk)
                .map(|(i, e)| (chunk.split_off(i), e));
            if chunk.is_empty() {
                return match mismatch {
                    None => Ok(n),
                    Some((bad, e)) => {
                        Err(PublishError::Schema(bad.into_iter().chain(it).collect(), e))
                    }
                };
            }
            if let Some((bad, e)) = mismatch {
                // Publish the matching prefix as a batch of its own, then refuse.
                let rest: Vec<T> = bad.into_iter().chain(it).collect();
                return match self.publish_batch_waiting(chunk, wait) {
                    Ok(_) => Err(PublishError::Schema(rest, e)),
                    Err(err) => Err(err.map(|mut v| {
                        v.extend(rest);
                        v
                    })),
                };
            }
            let k = chunk.len() as u64;
            // A durable topic's chunk is one frame of the log, with one timestamp.
            let now = inner.timer.clock().now_ms();
            let mut stored = match &inner.durable {
                None => None,
                Some(d) => {
                    let none = Headers::new();
                    let entries = chunk.iter().map(|v| (None, &none, v));
                    match d.stored_batch(&inner.name, now, entries) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            let rest: Vec<T> = chunk.into_iter().chain(it).collect();
                            return Err(PublishError::Storage(rest, e));
                        }
                    }
                }
            };
            let durable = stored.is_some();
            // As a single publish: a synced chunk keeps a copy to hand back if
            // its sync fails after the claim.
            let spare = match &inner.durable {
                Some(d) if d.sync_after() => Some(chunk.clone()),
                _ => None,
            };
            let defer_sync = spare.is_some();
            let mut src = chunk.into_iter();
            let next = &mut || {
                let ts = if durable {
                    now
                } else {
                    inner.timer.clock().now_ms()
                };
                (
                    ts,
                    Entry {
                        key: None,
                        headers: Headers::new(),
                        value: src.next().expect("k values"),
                    },
                )
            };
            match inner.claim_wait(0, k, wait, next, stored.as_deref_mut(), defer_sync) {
                Ok(_) => n += k as usize,
                Err(r) => {
                    // A refused claim took nothing: hand back this chunk and the
                    // rest (a chunk whose sync failed: its copy).
                    let chunk: Vec<T> = match spare {
                        Some(copy) if src.len() < copy.len() => copy,
                        _ => src.collect(),
                    };
                    let rest: Vec<T> = chunk.into_iter().chain(it).collect();
                    return Err(r.publish_error(rest));
                }
            }
        }
    }

    fn policy_wait(&self) -> Wait {
        if self.inner.config.on_full.waits_for_room(false) {
            Wait::Until(None)
        } else {
            Wait::Never
        }
    }

    /// How a call with a `timeout` waits for room ([`OnFull::waits_for_room`]).
    fn wait_up_to(&self, timeout: Duration) -> Wait {
        if self.inner.config.on_full.waits_for_room(true) {
            Wait::Until(Instant::now().checked_add(timeout))
        } else {
            Wait::Never
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
