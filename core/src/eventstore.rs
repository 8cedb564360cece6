//! Event sourcing: an append-only [`EventStore`] of events per aggregate id, with
//! optimistic concurrency, and [`Aggregates`] that rebuild state from events
//! (from a snapshot onwards) and turn commands into events.
//!
//! The store is a topic keyed by aggregate id with `on_full = keep`: it never
//! loses history silently — a full partition refuses appends (`Full`) instead of
//! evicting. An aggregate's events all go to one partition (by key, Kafka's
//! partitioner), so they are in order. Each event carries its version (1, 2, …)
//! in the `ringlet.version` header.
//!
//! CQRS: commands go through [`Aggregates::execute`]; queries read projections —
//! tables built from the store's topic with streams (`store.topic().stream()` …
//! `.group_by_key().aggregate(…)`), queryable while they update.
//!
//! ```
//! use ringlet::{Bus, TopicConfig};
//! use ringlet::eventstore::{Aggregate, Aggregates};
//!
//! #[derive(Clone, Debug, PartialEq)]
//! enum Event { Opened, Deposited(u64), Withdrew(u64) }
//! #[derive(Clone)]
//! enum Command { Open, Deposit(u64), Withdraw(u64) }
//!
//! #[derive(Clone, Default)]
//! struct Account { open: bool, balance: u64 }
//!
//! impl Aggregate for Account {
//!     type Event = Event;
//!     type Command = Command;
//!     type Error = String;
//!     fn apply(&mut self, e: &Event) {
//!         match e {
//!             Event::Opened => self.open = true,
//!             Event::Deposited(n) => self.balance += n,
//!             Event::Withdrew(n) => self.balance -= n,
//!         }
//!     }
//!     fn handle(&self, c: Command) -> Result<Vec<Event>, String> {
//!         match c {
//!             Command::Open if self.open => Err("already open".into()),
//!             Command::Open => Ok(vec![Event::Opened]),
//!             Command::Deposit(n) => Ok(vec![Event::Deposited(n)]),
//!             Command::Withdraw(n) if n > self.balance => Err("insufficient funds".into()),
//!             Command::Withdraw(n) => Ok(vec![Event::Withdrew(n)]),
//!         }
//!     }
//! }
//!
//! let bus = Bus::new();
//! let store = bus.event_store::<Event>("accounts", TopicConfig::default().capacity(10_000))?;
//! let accounts = Aggregates::<Account>::new(&store).snapshot_every(100)?;
//! accounts.execute("acc-1", Command::Open).unwrap();
//! accounts.execute("acc-1", Command::Deposit(50)).unwrap();
//! assert!(accounts.execute("acc-1", Command::Withdraw(80)).is_err());
//! let (account, version) = accounts.load("acc-1");
//! assert_eq!((account.balance, version), (50, 2));
//! assert_eq!(store.load("acc-1"), vec![Event::Opened, Event::Deposited(50)]);
//! # Ok::<(), ringlet::Error>(())
//! ```

#![allow(clippy::type_complexity)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::murmur2::partition_for_key;
use crate::record::{Key, Message, Record};
use crate::storage::Codec;
use crate::topic::Refused;
use crate::{Bus, Error, OnFull, Topic, TopicConfig};

/// The header holding an event's version.
pub const VERSION_HEADER: &str = "ringlet.version";

/// Why [`EventStore::append`] failed, handing back the events.
#[derive(Clone, PartialEq, Eq)]
pub enum AppendError<E> {
    /// The aggregate is at `actual`, not at the `expected` version (someone else
    /// appended first: load again and retry).
    VersionConflict {
        /// The aggregate id.
        id: String,
        /// The version the caller expected.
        expected: u64,
        /// The version it is at.
        actual: u64,
        /// The events, not appended.
        events: Vec<E>,
    },
    /// The store's partition is full (`on_full = keep`): nothing was appended.
    Full(Vec<E>),
    /// The store's topic is closed.
    Closed(Vec<E>),
    /// A durable store's log refused the events (`Io`, or an event its codec
    /// cannot encode): nothing was appended.
    Storage(Vec<E>, Error),
    /// An event does not match the store topic's schema: nothing was appended.
    Schema(Vec<E>, Box<crate::SchemaError>),
}

impl<E> AppendError<E> {
    /// The events that were not appended.
    pub fn into_events(self) -> Vec<E> {
        match self {
            AppendError::VersionConflict { events, .. }
            | AppendError::Full(events)
            | AppendError::Closed(events)
            | AppendError::Storage(events, _)
            | AppendError::Schema(events, _) => events,
        }
    }
}

impl<E> fmt::Debug for AppendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::VersionConflict {
                id,
                expected,
                actual,
                ..
            } => f
                .debug_struct("VersionConflict")
                .field("id", id)
                .field("expected", expected)
                .field("actual", actual)
                .finish_non_exhaustive(),
            AppendError::Full(_) => f.write_str("Full(..)"),
            AppendError::Closed(_) => f.write_str("Closed(..)"),
            AppendError::Storage(_, e) => f.debug_tuple("Storage").field(&"..").field(e).finish(),
            AppendError::Schema(_, e) => f.debug_tuple("Schema").field(&"..").field(e).finish(),
        }
    }
}

impl<E> crate::ErrorDetails for AppendError<E> {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            AppendError::VersionConflict { .. } => crate::ErrorKind::VersionConflict,
            AppendError::Full(_) => crate::ErrorKind::Full,
            AppendError::Closed(_) => crate::ErrorKind::Closed,
            AppendError::Storage(_, e) => e.kind(),
            AppendError::Schema(..) => crate::ErrorKind::SchemaError,
        }
    }

    fn schema(&self) -> Option<&crate::SchemaError> {
        match self {
            AppendError::Schema(_, e) => Some(e),
            _ => None,
        }
    }
}

impl<E> fmt::Display for AppendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::VersionConflict {
                id,
                expected,
                actual,
                ..
            } => write!(
                f,
                "version conflict on {id:?}: expected version {expected}, it is at {actual}"
            ),
            AppendError::Full(_) => f.write_str("the event store is full"),
            AppendError::Closed(_) => f.write_str("the event store is closed"),
            AppendError::Storage(_, e) => write!(f, "the events could not be stored: {e}"),
            AppendError::Schema(_, e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E> std::error::Error for AppendError<E> {}

struct StoreInner<E> {
    topic: Topic<E>,
    /// Aggregate id → offsets of its events (in its partition), oldest first.
    index: Mutex<HashMap<String, Vec<u64>>>,
}

/// An append-only store of events per aggregate id over a `keep` topic. Cheap to
/// clone; one per name on a bus ([`Bus::event_store`]). See the [module
/// docs](self).
pub struct EventStore<E> {
    inner: Arc<StoreInner<E>>,
}

impl<E> Clone for EventStore<E> {
    fn clone(&self) -> Self {
        EventStore {
            inner: self.inner.clone(),
        }
    }
}

impl<E: Clone + Send + Sync + 'static> fmt::Debug for EventStore<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStore")
            .field("topic", &self.inner.topic.name())
            .field("aggregates", &self.inner.index.lock().len())
            .finish()
    }
}

impl<E: Clone + Send + Sync + 'static> EventStore<E> {
    /// Opens the store over `topic` (made `keep` by the bus), indexing what it
    /// already holds.
    pub(crate) fn open(topic: Topic<E>) -> Result<Self, Error> {
        let mut index: HashMap<String, Vec<u64>> = HashMap::new();
        for r in topic.retained()? {
            if let Some(id) = r.key.as_ref().map(key_id) {
                index.entry(id).or_default().push(r.offset);
            }
        }
        Ok(EventStore {
            inner: Arc::new(StoreInner {
                topic,
                index: Mutex::new(index),
            }),
        })
    }

    /// The topic the events are in (keyed by aggregate id): stream it to build
    /// projections.
    pub fn topic(&self) -> &Topic<E> {
        &self.inner.topic
    }

    fn partition(&self, id: &str) -> u32 {
        partition_for_key(id.as_bytes(), self.inner.topic.partitions())
    }

    /// Appends `events` to aggregate `id`, all or none, if it is at
    /// `expected_version` (`None`: whatever its version; `Some(0)`: a new
    /// aggregate). Returns the new version.
    ///
    /// # Errors
    ///
    /// [`AppendError::VersionConflict`] when the aggregate is at another version;
    /// `Full` when its partition has no room for all of them; `Closed`.
    pub fn append(
        &self,
        id: &str,
        events: impl IntoIterator<Item = E>,
        expected_version: Option<u64>,
    ) -> Result<u64, AppendError<E>> {
        let events: Vec<E> = events.into_iter().collect();
        let mut index = self.inner.index.lock();
        let actual = index.get(id).map_or(0, |v| v.len() as u64);
        if let Some(expected) = expected_version {
            if expected != actual {
                return Err(AppendError::VersionConflict {
                    id: id.to_string(),
                    expected,
                    actual,
                    events,
                });
            }
        }
        if events.is_empty() {
            return Ok(actual);
        }
        let k = events.len() as u64;
        let msgs: Vec<Message<E>> = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                Message::new(e)
                    .key(id)
                    .header(VERSION_HEADER, (actual + i as u64 + 1).to_string())
            })
            .collect();
        match self.inner.topic.inner.append_all(self.partition(id), msgs) {
            Ok(first) => {
                index
                    .entry(id.to_string())
                    .or_default()
                    .extend(first..first + k);
                Ok(actual + k)
            }
            Err((refused, msgs)) => {
                let events = msgs.into_iter().map(|m| m.value).collect();
                Err(match refused {
                    Refused::Full => AppendError::Full(events),
                    Refused::Closed => AppendError::Closed(events),
                    Refused::Storage(e) => AppendError::Storage(events, *e),
                    Refused::Schema(e) => AppendError::Schema(events, e),
                })
            }
        }
    }

    /// Aggregate `id`'s version: how many events it has (0 if none).
    pub fn version(&self, id: &str) -> u64 {
        self.inner
            .index
            .lock()
            .get(id)
            .map_or(0, |v| v.len() as u64)
    }

    /// Aggregate `id`'s events, oldest first.
    pub fn load(&self, id: &str) -> Vec<E> {
        self.load_after(id, 0)
            .into_iter()
            .map(|r| r.value)
            .collect()
    }

    /// Aggregate `id`'s events after version `version` (so from `version + 1`),
    /// as records (timestamps, headers).
    pub fn load_after(&self, id: &str, version: u64) -> Vec<Record<E>> {
        let offsets: Vec<u64> = self
            .inner
            .index
            .lock()
            .get(id)
            .map(|v| v.iter().skip(version as usize).copied().collect())
            .unwrap_or_default();
        let p = self.partition(id);
        offsets
            .into_iter()
            .filter_map(|o| self.inner.topic.inner.read_at(p, o))
            .collect()
    }

    /// The aggregate ids with events, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.inner.index.lock().keys().cloned().collect();
        ids.sort();
        ids
    }
}

fn key_id(k: &Key) -> String {
    k.as_str().map_or_else(
        || String::from_utf8_lossy(k.as_bytes()).into_owned(),
        str::to_string,
    )
}

impl Bus {
    /// The event store `name` over the topic of that name, made with `config`
    /// and `on_full = keep` (a full store refuses appends, it never overwrites
    /// history). Asking again for the same name gives the same store.
    ///
    /// # Errors
    ///
    /// As [`Bus::topic`]; `ConfigError` for a compacted config.
    pub fn event_store<E: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<EventStore<E>, Error> {
        let config = store_config(name, config)?;
        let topic = self.topic::<E>(name, config)?;
        self.store_over(name, topic)
    }

    /// The event store `name` over a durable topic ([`Bus::durable_topic`]): its
    /// events survive a restart, and reopening the store indexes them again, so
    /// every aggregate is rebuilt from its events.
    ///
    /// # Errors
    ///
    /// As [`Bus::event_store`] and [`Bus::durable_topic`].
    pub fn durable_event_store<E>(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<EventStore<E>, Error>
    where
        E: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        self.durable_event_store_with(name, config, crate::storage::Postcard)
    }

    /// [`Bus::durable_event_store`] with events encoded by `codec`.
    ///
    /// # Errors
    ///
    /// As [`Bus::durable_event_store`].
    pub fn durable_event_store_with<E: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
        codec: impl Codec<E>,
    ) -> Result<EventStore<E>, Error> {
        let config = store_config(name, config)?;
        let topic = self.durable_topic_with::<E>(name, config, codec)?;
        self.store_over(name, topic)
    }

    /// The store over `topic`: the one made before if it is over this topic, else
    /// a new one (indexing the topic outside the stores' lock: it clones values).
    fn store_over<E: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        topic: Topic<E>,
    ) -> Result<EventStore<E>, Error> {
        let stores = self.inner.extensions.get_or_default::<Stores>();
        let found = |stores: &HashMap<String, Box<dyn std::any::Any + Send + Sync>>| {
            stores
                .get(name)
                .and_then(|s| s.downcast_ref::<EventStore<E>>())
                .filter(|s| Arc::ptr_eq(&s.inner.topic.inner, &topic.inner) && !topic.is_closed())
                .cloned()
        };
        if let Some(s) = found(&stores.0.lock()) {
            return Ok(s);
        }
        let store = EventStore::open(topic.clone())?;
        let mut guard = stores.0.lock();
        if let Some(s) = found(&guard) {
            drop(guard);
            drop(store);
            return Ok(s);
        }
        let replaced = guard.insert(name.to_string(), Box::new(store.clone()));
        drop(guard);
        drop(replaced);
        Ok(store)
    }

    /// Opens the event store `name` with the options given, the others as they
    /// are (its topic's); creates it if it does not exist.
    ///
    /// # Errors
    ///
    /// As [`Bus::event_store`].
    pub fn open_event_store<E: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &crate::options::TopicOptions,
    ) -> Result<EventStore<E>, Error> {
        self.event_store(
            name,
            options.apply(self.topic_config_or_default::<E>(name)?),
        )
    }

    /// [`Bus::open_event_store`] for a host that stores its values with
    /// `codecs`: durable as [`Bus::open_topic_with_codecs`] decides.
    ///
    /// # Errors
    ///
    /// As [`Bus::open_topic_with_codecs`]; `ConfigError` for a compacted store.
    pub fn open_event_store_with_codecs<E: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &crate::options::TopicOptions,
        codecs: &crate::options::Codecs<E>,
    ) -> Result<EventStore<E>, Error> {
        if options.compacted == Some(true) {
            store_config(name, TopicConfig::default().compacted(true))?;
        }
        let options = crate::options::TopicOptions {
            on_full: Some(OnFull::Keep),
            compacted: Some(false),
            ..options.clone()
        };
        let topic = self.open_topic_with_codecs::<E>(name, &options, |_| false, codecs)?;
        self.store_over(name, topic)
    }
}

/// An event store's topic config: `on_full = keep`, never compacted.
fn store_config(name: &str, config: TopicConfig) -> Result<TopicConfig, Error> {
    if config.compacted {
        return Err(Error::ConfigError {
            name: name.to_string(),
            reason: "an event store's topic is not compacted".into(),
        });
    }
    Ok(config.on_full(OnFull::Keep))
}

/// A bus's event stores by name, kept in its extensions.
#[derive(Default)]
struct Stores(Mutex<HashMap<String, Box<dyn std::any::Any + Send + Sync>>>);

/// State rebuilt from events, changed by commands that become events.
pub trait Aggregate: Clone + Send + Sync + 'static {
    /// What happened.
    type Event: Clone + Send + Sync + 'static;
    /// What is asked.
    type Command;
    /// Why a command is refused.
    type Error;
    /// Applies one event to the state.
    fn apply(&mut self, event: &Self::Event);
    /// Applies one event, or fails with the aggregate's error: for aggregates whose
    /// `apply` runs code that can fail (a Python or JS object's method). Loading
    /// stops at the first failing event ([`Aggregates::try_load`],
    /// [`ExecuteError::Replay`]). The default calls [`Aggregate::apply`].
    ///
    /// # Errors
    ///
    /// The event could not be applied.
    fn try_apply(&mut self, event: &Self::Event) -> Result<(), Self::Error> {
        self.apply(event);
        Ok(())
    }
    /// Decides which events a command makes (none to ignore it), from the state.
    ///
    /// # Errors
    ///
    /// The command is refused.
    fn handle(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
}

/// Why [`Aggregates::execute`] failed.
pub enum ExecuteError<E, Ev> {
    /// The aggregate refused the command.
    Rejected(E),
    /// The store refused the events (`VersionConflict` after the retries, `Full`,
    /// `Closed`).
    Store(AppendError<Ev>),
    /// A stored event could not be applied while loading the aggregate
    /// ([`Aggregate::try_apply`]).
    Replay(E),
}

impl<E: fmt::Debug, Ev> fmt::Debug for ExecuteError<E, Ev> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecuteError::Rejected(e) => f.debug_tuple("Rejected").field(e).finish(),
            ExecuteError::Store(e) => f.debug_tuple("Store").field(e).finish(),
            ExecuteError::Replay(e) => f.debug_tuple("Replay").field(e).finish(),
        }
    }
}

impl<E: fmt::Display, Ev> fmt::Display for ExecuteError<E, Ev> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecuteError::Rejected(e) => write!(f, "command rejected: {e}"),
            ExecuteError::Store(e) => write!(f, "{e}"),
            ExecuteError::Replay(e) => write!(f, "an event could not be applied: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display, Ev> std::error::Error for ExecuteError<E, Ev> {}

type Init<A> = Arc<dyn Fn() -> A + Send + Sync>;

/// Aggregates of type `A` over an [`EventStore`]: loads them (from the latest
/// snapshot on), executes commands with optimistic concurrency, and saves
/// snapshots every `n` events. Cheap to clone.
pub struct Aggregates<A: Aggregate> {
    store: EventStore<A::Event>,
    init: Init<A>,
    snapshots: Option<Snapshots<A>>,
    retries: u32,
}

struct Snapshots<A> {
    every: u64,
    topic: Topic<Option<(u64, A)>>,
    latest: Arc<Mutex<HashMap<String, (u64, A)>>>,
}

impl<A> Clone for Snapshots<A> {
    fn clone(&self) -> Self {
        Snapshots {
            every: self.every,
            topic: self.topic.clone(),
            latest: self.latest.clone(),
        }
    }
}

impl<A: Aggregate> Clone for Aggregates<A> {
    fn clone(&self) -> Self {
        Aggregates {
            store: self.store.clone(),
            init: self.init.clone(),
            snapshots: self.snapshots.clone(),
            retries: self.retries,
        }
    }
}

impl<A: Aggregate> fmt::Debug for Aggregates<A>
where
    A::Event: Clone + Send + Sync + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aggregates")
            .field("store", &self.store)
            .field("snapshot_every", &self.snapshots.as_ref().map(|s| s.every))
            .finish()
    }
}

impl<A: Aggregate + Default> Aggregates<A> {
    /// Aggregates starting from `A::default()`.
    pub fn new(store: &EventStore<A::Event>) -> Self {
        Self::with_init(store, A::default)
    }
}

impl<A: Aggregate> Aggregates<A> {
    /// Aggregates starting from `init()`.
    pub fn with_init(
        store: &EventStore<A::Event>,
        init: impl Fn() -> A + Send + Sync + 'static,
    ) -> Self {
        Aggregates {
            store: store.clone(),
            init: Arc::new(init),
            snapshots: None,
            retries: 3,
        }
    }

    /// Saves a snapshot of an aggregate every `n` events (`n` ≥ 1), in the
    /// compacted topic `<store>.snapshots` (restored from it when opened again),
    /// so loading replays only the events after the latest snapshot.
    ///
    /// # Errors
    ///
    /// `ConfigError` for `n` = 0; the snapshot topic's registry errors.
    pub fn snapshot_every(mut self, n: u64) -> Result<Self, Error> {
        let name = format!("{}.snapshots", self.store.topic().name());
        if n == 0 {
            return Err(Error::ConfigError {
                name,
                reason: "snapshot_every must be at least 1".into(),
            });
        }
        let bus = Bus::owning(self.store.topic())?;
        let topic = bus.compacted_topic::<(u64, A)>(
            &name,
            TopicConfig::default().capacity(crate::MAX_CAPACITY.min(1 << 20)),
        )?;
        let mut latest = HashMap::new();
        for r in topic.retained()? {
            if let (Some(k), Some(v)) = (r.key.as_ref(), r.value) {
                latest.insert(key_id(k), v);
            }
        }
        self.snapshots = Some(Snapshots {
            every: n,
            topic,
            latest: Arc::new(Mutex::new(latest)),
        });
        Ok(self)
    }

    /// How many times `execute` retries after a `VersionConflict` (default 3).
    #[must_use]
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The event store.
    pub fn store(&self) -> &EventStore<A::Event> {
        &self.store
    }

    /// Aggregate `id`'s state and version: the latest snapshot, then the events
    /// after it.
    pub fn load(&self, id: &str) -> (A, u64) {
        let (mut state, mut version) = self.latest(id);
        for rec in self.store.load_after(id, version) {
            state.apply(&rec.value);
            version += 1;
        }
        (state, version)
    }

    /// [`Aggregates::load`] with [`Aggregate::try_apply`]: stops at the first
    /// event that cannot be applied.
    ///
    /// # Errors
    ///
    /// The aggregate's error for that event.
    pub fn try_load(&self, id: &str) -> Result<(A, u64), A::Error> {
        let (mut state, mut version) = self.latest(id);
        for rec in self.store.load_after(id, version) {
            state.try_apply(&rec.value)?;
            version += 1;
        }
        Ok((state, version))
    }

    /// The latest snapshot of `id` and its version, or a new aggregate at 0.
    fn latest(&self, id: &str) -> (A, u64) {
        self.snapshots
            .as_ref()
            .and_then(|s| s.latest.lock().get(id).cloned())
            .map_or_else(|| ((self.init)(), 0), |(v, a)| (a, v))
    }

    /// Handles `command` on aggregate `id` and appends the events it makes,
    /// expecting the version it loaded; on a `VersionConflict` loads again and
    /// retries (up to [`retries`](Aggregates::retries) times). Returns the events
    /// and the new version.
    ///
    /// # Errors
    ///
    /// `Rejected` with the aggregate's error; `Replay` when a stored event could
    /// not be applied; `Store` when the events could not be appended.
    pub fn execute(
        &self,
        id: &str,
        command: A::Command,
    ) -> Result<(Vec<A::Event>, u64), ExecuteError<A::Error, A::Event>>
    where
        A::Command: Clone,
    {
        let mut tries = 0;
        loop {
            let (state, version) = self.try_load(id).map_err(ExecuteError::Replay)?;
            let events = state
                .handle(command.clone())
                .map_err(ExecuteError::Rejected)?;
            match self.store.append(id, events.clone(), Some(version)) {
                Ok(new) => {
                    self.after_append(id, state, version, &events, new);
                    return Ok((events, new));
                }
                Err(AppendError::VersionConflict { .. }) if tries < self.retries => tries += 1,
                Err(e) => return Err(ExecuteError::Store(e)),
            }
        }
    }

    fn after_append(&self, id: &str, mut state: A, old: u64, events: &[A::Event], new: u64) {
        let Some(s) = &self.snapshots else { return };
        if new / s.every == old / s.every {
            return;
        }
        for e in events {
            if state.try_apply(e).is_err() {
                return; // no snapshot of a state that could not be built
            }
        }
        let msg = Message::new(Some((new, state.clone()))).key(id);
        if s.topic.try_publish_message(msg).is_ok() {
            s.latest.lock().insert(id.to_string(), (new, state));
        }
    }

    /// The latest snapshot's version for `id`, if any.
    pub fn snapshot_version(&self, id: &str) -> Option<u64> {
        self.snapshots
            .as_ref()
            .and_then(|s| s.latest.lock().get(id).map(|(v, _)| *v))
    }
}
