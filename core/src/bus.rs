//! The bus: a registry of topics and queues by name, and the clock they share.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::clock::Clock;
use crate::dead_letter::{DeadLetterFn, DeadLetterResolver};
use crate::extensions::Extensions;
use crate::fault_point::SharedPoint;
use crate::journal::{Event, Journal, JOURNAL_TOPIC};
use crate::link::{Link, Links};
use crate::name;
use crate::queue::{Queue, QueueConfig};
use crate::snapshot::{QueueSnapshot, Snapshot, TopicSnapshot};
use crate::storage::{Codec, Storage, StoredTopic};
use crate::topic::{Topic, TopicConfig, MAX_CAPACITY};
use crate::wait::BusTimer;
use crate::Error;

/// A registry of topics and queues by name, with the clock they all read. Cheap to clone
/// (clones share everything); `Send + Sync`.
///
/// Asking again for a name with the same value type and configuration returns the
/// same topic; another type or configuration is an error, never a silent second copy.
/// [`Bus::get_topic`] opens an existing topic whatever its configuration.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Error, TopicConfig};
/// let bus = Bus::new();
/// let a = bus.topic::<u64>("orders", TopicConfig::default().partitions(3))?;
/// let b = bus.topic::<u64>("orders", TopicConfig::default().partitions(3))?;
/// a.publish(1).unwrap();
/// assert_eq!(b.end_offsets().iter().sum::<u64>(), 1); // the same topic
/// assert!(matches!(bus.topic::<u64>("orders", TopicConfig::default()), Err(Error::ConfigError { .. })));
/// assert!(matches!(bus.topic::<String>("orders", TopicConfig::default().partitions(3)), Err(Error::TypeMismatch { .. })));
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Clone)]
pub struct Bus {
    pub(crate) inner: Arc<BusInner>,
}

pub(crate) struct BusInner {
    timer: Arc<BusTimer>,
    registry: Mutex<HashMap<Arc<str>, Registered>>,
    journal: Option<Arc<Journal>>,
    /// Where durable topics keep their records.
    storage: Option<Arc<dyn Storage>>,
    /// Held while a durable topic is opened (one at a time: its logs are opened
    /// once), never while the registry is locked.
    opening: Mutex<()>,
    /// Set by [`Bus::close`]: nothing new is created.
    closed: std::sync::atomic::AtomicBool,
    /// What the layers above keep on the bus (its topologies and event stores).
    pub(crate) extensions: Extensions,
    /// Links to the outside, listed in snapshots.
    links: Links,
    /// The rule topic names follow, if the bus has one.
    naming: Option<crate::NamingRule>,
    /// Names the bus gives its own topics (stream changelogs), which the naming
    /// rule does not check.
    internal: Mutex<Vec<String>>,
    /// Bumped each time a topic is created or deleted (pattern subscriptions
    /// look again when it moved), and its waiters woken.
    topics_changed: std::sync::atomic::AtomicU64,
    topic_waiters: crate::wait::Notifier,
}

/// A durable topic's sync, as registered.
type SyncFn = Arc<dyn Fn() -> Result<(), Error> + Send + Sync>;

/// Runs every sync (after the registry lock): the first error, the others synced
/// regardless.
fn run_syncs(syncs: Vec<SyncFn>) -> Result<(), Error> {
    let mut first = Ok(());
    for sync in syncs {
        if let Err(e) = sync() {
            first = first.and(Err(e));
        }
    }
    first
}

/// Makes a new durable topic's logs and codec from its config.
type DurableOpen<'a, T> =
    Box<dyn FnOnce(&TopicConfig) -> Result<crate::topic::Durable<T>, Error> + 'a>;

/// Opens a new durable queue's log and reads its messages back.
type QueueOpen<'a, T> = Box<
    dyn FnOnce(
            Arc<str>,
        ) -> Result<
            (
                crate::queue::durable::QueueLog<T>,
                Vec<crate::queue::durable::Restored<T>>,
            ),
            Error,
        > + 'a,
>;

/// How a bus checks values of type `T` against schemas ([`Bus::set_schema_compiler`]).
struct CompilerFor<T>(crate::schema::SchemaCompiler<T>);

/// The bus a topic was made by, kept in the topic's extensions (streams and event
/// stores find their bus from a topic this way).
pub(crate) struct Owner(Weak<BusInner>);

impl Bus {
    /// The bus that made `topic`.
    ///
    /// # Errors
    ///
    /// `Closed` when that bus is gone, or the topic was not made by a bus.
    pub(crate) fn owning<T: Clone + Send + Sync + 'static>(topic: &Topic<T>) -> Result<Bus, Error> {
        topic
            .inner
            .extensions
            .get::<Owner>()
            .and_then(|o| o.0.upgrade())
            .map(|inner| Bus { inner })
            .ok_or(Error::Closed)
    }
}

struct Registered {
    type_id: TypeId,
    /// The value type as messages name it.
    type_name: String,
    config: Config,
    handle: Box<dyn Any + Send + Sync>,
    close: Arc<dyn Fn() + Send + Sync>,
    snapshot: Arc<dyn Fn() -> EntrySnapshot + Send + Sync>,
    /// A durable topic's sync.
    sync: Option<SyncFn>,
    /// The faults armed on it (see [`crate::faults`]).
    faults: SharedPoint,
}

/// One entry of a snapshot.
enum EntrySnapshot {
    Topic(TopicSnapshot),
    Queue(QueueSnapshot),
}

/// What a name holds, with its configuration.
#[derive(Debug, Clone, PartialEq)]
enum Config {
    Topic(TopicConfig),
    Queue(QueueConfig),
}

impl Config {
    fn kind(&self) -> &'static str {
        match self {
            Config::Topic(_) => "topic",
            Config::Queue(_) => "queue",
        }
    }

    fn dead_letter(&self) -> Option<&str> {
        match self {
            Config::Queue(q) => q.dead_letter.as_deref(),
            Config::Topic(_) => None,
        }
    }
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("clock", self.inner.timer.clock())
            .field("names", &self.names())
            .finish()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

/// Builds a [`Bus`] with a chosen clock.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, ManualClock};
/// let clock = ManualClock::starting_at(1_000);
/// let bus = Bus::builder().clock(clock.clone()).build();
/// assert_eq!(bus.now_ms(), 1_000);
/// ```
#[derive(Debug, Default)]
pub struct BusBuilder {
    clock: Clock,
    journal: Option<usize>,
    storage: Option<Arc<dyn Storage>>,
    naming: Option<crate::NamingRule>,
}

impl BusBuilder {
    /// Turns the journal on: every transition becomes an event in the `__journal`
    /// topic, which keeps the newest `capacity` events (1 to [`MAX_CAPACITY`];
    /// clamped). See the [`journal`](crate::journal) module.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, journal::{Event, JOURNAL_TOPIC}};
    /// let bus = Bus::builder().journal(10_000).build();
    /// assert!(bus.get_topic::<Event>(JOURNAL_TOPIC).is_ok());
    /// assert!(Bus::new().get_topic::<Event>(JOURNAL_TOPIC).is_err()); // off by default
    /// ```
    #[must_use]
    pub fn journal(mut self, capacity: usize) -> Self {
        self.journal = Some(capacity);
        self
    }

    /// Uses `clock` for every time in the semantics (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Keeps durable topics in `storage` (`ringlet_store::Dir::open("data")?` for
    /// files); see [`Bus::durable_topic`] and the [`storage`](crate::storage)
    /// module.
    #[must_use]
    pub fn storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Makes every topic name created on the bus follow `rule` (see
    /// [`NamingRule`](crate::NamingRule)); names that break it are `InvalidName`.
    /// Topics that exist already (the journal) are not checked.
    #[must_use]
    pub fn naming_rule(mut self, rule: crate::NamingRule) -> Self {
        self.naming = Some(rule);
        self
    }

    /// Builds the bus.
    pub fn build(self) -> Bus {
        let timer = Arc::new(BusTimer::new(self.clock));
        let mut registry = HashMap::new();
        let journal = self.journal.and_then(|capacity| {
            let config = TopicConfig::default().capacity(capacity.clamp(1, MAX_CAPACITY));
            let name: Arc<str> = JOURNAL_TOPIC.into();
            let topic =
                Topic::<Event>::create(name.clone(), config.clone(), timer.clone(), None, None)
                    .ok()?;
            let (closer, shot) = (topic.clone(), topic.clone());
            register::<Event>(
                &mut registry,
                name,
                Config::Topic(config),
                topic.clone(),
                move || closer.close(),
                move || EntrySnapshot::Topic(shot.inner.snapshot()),
                topic.inner.faults.clone(),
            );
            // The journal overwrites its oldest events: appending never waits.
            Some(Journal::new(move |event| {
                let _ = topic.try_publish(event);
            }))
        });
        Bus {
            inner: Arc::new(BusInner {
                timer,
                registry: Mutex::new(registry),
                journal,
                storage: self.storage,
                opening: Mutex::new(()),
                closed: std::sync::atomic::AtomicBool::new(false),
                extensions: Extensions::default(),
                links: Links::default(),
                naming: self.naming,
                internal: Mutex::new(Vec::new()),
                topics_changed: std::sync::atomic::AtomicU64::new(0),
                topic_waiters: crate::wait::Notifier::default(),
            }),
        }
    }
}

impl Bus {
    /// A bus on the system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert!(bus.names().is_empty());
    /// ```
    pub fn new() -> Self {
        BusBuilder::default().build()
    }

    /// A builder, to choose the clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::builder().clock(ringlet::ManualClock::new()).build();
    /// assert_eq!(bus.now_ms(), 0);
    /// ```
    pub fn builder() -> BusBuilder {
        BusBuilder::default()
    }

    /// The bus clock.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!ringlet::Bus::new().clock().is_manual());
    /// ```
    pub fn clock(&self) -> &Clock {
        self.inner.timer.clock()
    }

    /// The earliest bus-clock time (ms) at which something waits to be woken: a
    /// delayed message, a visibility timeout or a session timeout with a waiter, a
    /// reader waiting for a record to expire. `None` when nothing waits.
    ///
    /// For embedders without threads (the browser): on native the system clock's
    /// timer thread fires these, and a [`ManualClock`](crate::ManualClock) fires
    /// them in `advance`; where no thread can be started, arm one timer for this
    /// deadline and call [`Bus::fire_due`] when it expires.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringlet::Bus::new().next_deadline(), None);
    /// ```
    pub fn next_deadline(&self) -> Option<i64> {
        self.inner.timer.next_deadline()
    }

    /// Wakes everything whose deadline the bus clock has reached (see
    /// [`Bus::next_deadline`]); does nothing when nothing is due.
    ///
    /// # Examples
    ///
    /// ```
    /// ringlet::Bus::new().fire_due();
    /// ```
    pub fn fire_due(&self) {
        self.inner.timer.fire_due();
    }

    /// The bus clock's time in ms.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ringlet::Bus::new().now_ms() > 0);
    /// ```
    pub fn now_ms(&self) -> i64 {
        self.clock().now_ms()
    }

    /// Creates the topic `name`, or opens it if it exists with the same value type and
    /// configuration.
    ///
    /// # Errors
    ///
    /// `InvalidName` (Kafka's rules; `__` is reserved), `ConfigError` (invalid, or
    /// different from the existing topic's), `TypeMismatch` (exists with another
    /// value type).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, Error, TopicConfig};
    /// let bus = Bus::new();
    /// let t = bus.topic::<&str>("greetings", TopicConfig::default())?;
    /// assert!(matches!(bus.topic::<u8>("__x", TopicConfig::default()), Err(Error::InvalidName { .. })));
    /// assert!(matches!(bus.topic::<u8>("x", TopicConfig::default().capacity(0)), Err(Error::ConfigError { .. })));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn topic<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<Topic<T>, Error> {
        if config.durability.is_some() {
            return Err(Error::ConfigError {
                name: name.to_owned(),
                reason: "durability is for durable topics: open it with durable_topic".into(),
            });
        }
        self.make_topic(name, config, None, None)
    }

    /// Creates or opens topic `name` as [`Bus::topic`] does, for values checked
    /// against the config's [schema](TopicConfig::schema) through the JSON they
    /// serialize to (`serde_json::to_value`; see [`crate::schema`]). Without a
    /// schema it is [`Bus::topic`]; [`Topic::set_schema`] can add one later.
    ///
    /// # Errors
    ///
    /// As [`Bus::topic`]; `ConfigError` for a schema that is not one, or that
    /// the [evolution rule](crate::schema#evolution) refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, PublishError, TopicConfig};
    /// #[derive(Clone, serde::Serialize)]
    /// struct Click { page: String, ms: i64 }
    /// let bus = Bus::new();
    /// let clicks = bus.schema_topic::<Click>("clicks", TopicConfig::default().schema(serde_json::json!({
    ///     "type": "object", "properties": {"ms": {"minimum": 0}}
    /// })))?;
    /// clicks.publish(Click { page: "/".into(), ms: 12 }).unwrap();
    /// let Err(PublishError::Schema(_, e)) = clicks.publish(Click { page: "/".into(), ms: -1 }) else { panic!() };
    /// assert_eq!(e.path, "/ms");
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[cfg(feature = "json-schema")]
    pub fn schema_topic<T: serde::Serialize + Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<Topic<T>, Error> {
        if config.durability.is_some() {
            return self.topic(name, config);
        }
        self.make_topic(name, config, None, Some(crate::schema::serialized::<T>()))
    }

    /// Makes `compiler` how this bus checks values of type `T` against schemas
    /// (a binding registers one for its own value type, once, when it makes the
    /// bus); it takes precedence over the core's for `T`.
    pub fn set_schema_compiler<T: 'static>(&self, compiler: crate::schema::SchemaCompiler<T>) {
        self.inner.extensions.insert(CompilerFor(compiler));
    }

    /// The compiler for `T`: the one asked for, else the bus's, else the core's.
    fn schema_compiler<T: 'static>(
        &self,
        asked: Option<crate::schema::SchemaCompiler<T>>,
    ) -> Option<crate::schema::SchemaCompiler<T>> {
        asked
            .or_else(|| {
                self.inner
                    .extensions
                    .get::<CompilerFor<T>>()
                    .map(|c| c.0.clone())
            })
            .or_else(crate::schema::builtin::<T>)
    }

    /// Creates or opens topic `name`; a new one is durable when `open` is given:
    /// it makes the topic's logs and codec, and the records are read back into
    /// the new topic — both outside the registry lock (decoding runs the codec,
    /// user code), one durable open at a time so a topic's logs are opened once.
    fn make_topic<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
        open: Option<DurableOpen<'_, T>>,
        compiler: Option<crate::schema::SchemaCompiler<T>>,
    ) -> Result<Topic<T>, Error> {
        name::validate(name, false)?;
        config.validate(name)?;
        let key = Config::Topic(config.shape());
        let compiler = self.schema_compiler(compiler);
        let _opening = open.as_ref().map(|_| self.inner.opening.lock());
        let reg = self.inner.registry.lock();
        if let Some(topic) = existing::<Topic<T>>(&reg, name, &key)? {
            drop(reg);
            topic.adopt(&config.metadata, compiler)?;
            return Ok(topic);
        }
        self.check_naming(name)?;
        self.check_open()?;
        let (mut held, durable) = match open {
            None => (Some(reg), None),
            Some(open) => {
                drop(reg);
                (None, Some(open(&config)?))
            }
        };
        let name: Arc<str> = name.into();
        let bus = Arc::downgrade(&self.inner);
        let resolver: DeadLetterResolver<T> = Box::new(move |source, target| {
            let bus = bus.upgrade().ok_or(Error::Closed)?;
            let reg = bus.registry.lock();
            dead_letter_to::<T>(&reg, source, target)
        });
        let is_durable = durable.is_some();
        // A durable topic opened again starts from the metadata it stored; what
        // is given now is taken in as on any later open (fills in, or must agree).
        let stored = match &durable {
            Some(d) => crate::topic::stored_metadata(&name, d.logs.as_ref())?,
            None => None,
        };
        let mut config = config;
        let given = match stored {
            Some(stored) => Some(std::mem::replace(&mut config.metadata, stored)),
            None => None,
        };
        let metadata = config.metadata.clone();
        let topic = Topic::<T>::create_with(
            name.clone(),
            config,
            self.inner.timer.clone(),
            self.inner.journal.clone(),
            Some(resolver),
            durable,
        )?;
        topic.inner.schema.remember(compiler);
        if let Some(doc) = metadata.schema {
            topic.inner.schema.evolve(&name, doc, None)?;
        }
        match &given {
            Some(given) => topic.adopt(given, None)?,
            None => topic.inner.persist_metadata()?,
        }
        let mut reg = match held.take() {
            Some(reg) => reg,
            None => self.relock_free(&name)?,
        };
        topic
            .inner
            .extensions
            .insert(Owner(Arc::downgrade(&self.inner)));
        let (closer, shot) = (topic.clone(), topic.clone());
        register::<T>(
            &mut reg,
            name,
            key,
            topic.clone(),
            move || closer.close(),
            move || EntrySnapshot::Topic(shot.inner.snapshot()),
            topic.inner.faults.clone(),
        );
        if is_durable {
            let weak = Arc::downgrade(&topic.inner);
            if let Some(r) = reg.get_mut(&*topic.inner.name) {
                r.sync = Some(Arc::new(move || match weak.upgrade() {
                    Some(t) => t.durable.as_ref().map_or(Ok(()), |d| d.logs.sync()),
                    None => Ok(()),
                }));
            }
        }
        drop(reg);
        self.topics_changed();
        if is_durable {
            self.journal_recovery(topic.recovered(), |e| Event {
                topic: Some(topic.name().to_owned()),
                ..e
            });
        }
        Ok(topic)
    }

    /// Journals what opening a durable topic's or queue's logs cut off (`name`
    /// fills in which), one `recover` event per cut.
    fn journal_recovery(&self, cuts: Vec<String>, name: impl Fn(Event) -> Event) {
        let Some(j) = &self.inner.journal else {
            return;
        };
        for reason in cuts {
            j.emit(name(Event {
                reason: Some(reason),
                ..Event::new(crate::journal::EventKind::Recover)
            }));
        }
    }

    /// The registry, locked again after a durable open made `name`'s topic or
    /// queue outside it. Only durable opens are kept out (they take turns), and
    /// nothing in memory can hold a durable config: the name is still free unless
    /// the bus was closed meanwhile. On an error the lock is let go first, so the
    /// caller drops what it made (user values) outside it.
    fn relock_free(
        &self,
        name: &str,
    ) -> Result<parking_lot::MutexGuard<'_, HashMap<Arc<str>, Registered>>, Error> {
        let reg = self.inner.registry.lock();
        let refused = self.check_open().err().or_else(|| {
            reg.contains_key(name).then(|| Error::ConfigError {
                name: name.to_string(),
                reason: "it was created while it was being opened: open it again".into(),
            })
        });
        match refused {
            Some(e) => {
                drop(reg);
                Err(e)
            }
            None => Ok(reg),
        }
    }

    /// `InvalidName` when the bus has a naming rule that `name` breaks (the bus's
    /// own topics excepted).
    fn check_naming(&self, name: &str) -> Result<(), Error> {
        let Some(rule) = &self.inner.naming else {
            return Ok(());
        };
        if name.starts_with("__") || self.inner.internal.lock().iter().any(|n| n == name) {
            return Ok(());
        }
        rule.check(name)
    }

    /// Marks `name` as a topic the bus names for itself (a stream changelog):
    /// the naming rule does not apply to it.
    pub(crate) fn internal_name(&self, name: &str) {
        let mut names = self.inner.internal.lock();
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }

    /// Counts a topic created or deleted (or the bus closed) and wakes whoever
    /// waits for that (pattern subscriptions); called after the registry lock is
    /// released, as waking runs wakers.
    fn topics_changed(&self) {
        use std::sync::atomic::Ordering;
        self.inner.topics_changed.fetch_add(1, Ordering::SeqCst);
        self.inner.topic_waiters.notify();
    }

    /// How many times topics were created or deleted so far (see
    /// [`Bus::topics_changed`]).
    pub(crate) fn topics_generation(&self) -> u64 {
        self.inner
            .topics_changed
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Registers `waker` to be woken at the next topic created or deleted.
    pub(crate) fn wait_for_topics(&self, id: u64, waker: &std::task::Waker) {
        self.inner.topic_waiters.register(id, waker);
    }

    /// Removes a waker [`Bus::wait_for_topics`] registered.
    pub(crate) fn stop_waiting_for_topics(&self, id: u64) {
        self.inner.topic_waiters.unregister(id);
    }

    /// Whether [`Bus::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.closed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The topics' names, sorted, without the bus's own (the journal, stream
    /// changelogs and other `__` names), which pattern subscriptions skip as
    /// Kafka's skip internal topics.
    pub(crate) fn user_topic_names(&self) -> Vec<String> {
        let internal = self.inner.internal.lock().clone();
        let mut v: Vec<String> = self
            .inner
            .registry
            .lock()
            .iter()
            .filter(|(name, r)| {
                matches!(r.config, Config::Topic(_))
                    && !name.starts_with("__")
                    && !internal.iter().any(|n| n == &***name)
            })
            .map(|(k, _)| k.to_string())
            .collect();
        v.sort();
        v
    }

    /// The naming rule topic names on this bus follow, if any.
    pub fn naming_rule(&self) -> Option<&crate::NamingRule> {
        self.inner.naming.as_ref()
    }

    /// `Closed` once [`Bus::close`] was called.
    fn check_open(&self) -> Result<(), Error> {
        if self.inner.closed.load(std::sync::atomic::Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Creates or opens the durable topic `name`: an in-memory topic whose records
    /// are also written to the bus's [`storage`](BusBuilder::storage) before each
    /// publish returns, and read back when it is opened again after a restart
    /// (the newest `capacity` per partition, at their offsets; offsets continue).
    /// Values are encoded with [`Postcard`](crate::storage::Postcard) (and
    /// `serde_json::Value` values with [`Json`](crate::storage::Json), which
    /// postcard cannot decode); see the
    /// [`storage`](crate::storage) module for what survives what.
    ///
    /// # Errors
    ///
    /// As [`Bus::topic`]; `ConfigError` when the bus has no storage, or when
    /// the config contradicts what is stored (partitions, value type, codec,
    /// compaction); `TypeMismatch`
    /// when a stored value does not decode; `Corrupt`, `Io`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, Start, TopicConfig};
    /// let bus = Bus::new(); // no storage: durable topics need Bus::builder().storage(...)
    /// assert!(matches!(
    ///     bus.durable_topic::<String>("orders", TopicConfig::default()),
    ///     Err(ringlet::Error::ConfigError { .. })
    /// ));
    /// ```
    pub fn durable_topic<T>(&self, name: &str, config: TopicConfig) -> Result<Topic<T>, Error>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        self.durable_topic_shared(name, config, crate::storage::default_codec::<T>(), None)
    }

    /// [`Bus::durable_topic`] with values encoded by `codec` (for example
    /// [`Raw`](crate::storage::Raw) to store `Vec<u8>` values as they are).
    ///
    /// # Errors
    ///
    /// As [`Bus::durable_topic`].
    pub fn durable_topic_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
        codec: impl Codec<T>,
    ) -> Result<Topic<T>, Error> {
        self.durable_topic_shared(name, config, Arc::new(codec), None)
    }

    /// What the bus's storage holds for topic `name` (`None` without storage).
    pub(crate) fn stored_topic(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        name::validate(name, false)?;
        match &self.inner.storage {
            Some(s) => s.describe(name),
            None => Ok(None),
        }
    }

    /// Creates or opens the durable compacted topic `name` whose `None` values
    /// are tombstones ([`Bus::compacted_topic`], kept as [`Bus::durable_topic`]
    /// keeps records): after a restart the latest record of each key is read
    /// back at its offset. Its log holds every record until more than half of
    /// them (and at least 4096) were replaced by newer records of their keys;
    /// it is then rewritten with the live ones, so it stays within about twice
    /// what the topic retains.
    ///
    /// # Errors
    ///
    /// As [`Bus::durable_topic`]; `ConfigError` when the stored keys do not fit
    /// the capacity.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, TopicConfig};
    /// let bus = Bus::new(); // no storage: durable topics need Bus::builder().storage(...)
    /// assert!(bus.durable_compacted_topic::<String>("users", TopicConfig::default()).is_err());
    /// ```
    pub fn durable_compacted_topic<T>(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<Topic<Option<T>>, Error>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        // Postcard as before; `serde_json::Value` (which postcard cannot decode)
        // as JSON behind a tombstone byte, so that `Some(null)` stays a value.
        let codec: Arc<dyn crate::storage::Codec<Option<T>>> =
            if std::any::TypeId::of::<T>() == std::any::TypeId::of::<serde_json::Value>() {
                Arc::new(crate::storage::OptionCodec(
                    crate::storage::default_codec::<T>(),
                ))
            } else {
                Arc::new(crate::storage::Postcard)
            };
        self.durable_topic_shared(name, config.compacted(true), codec, Some(Option::is_none))
    }

    /// [`Bus::durable_compacted_topic`] with values encoded by `codec` and
    /// `is_tombstone` telling which values delete their key.
    ///
    /// # Errors
    ///
    /// As [`Bus::durable_compacted_topic`].
    pub fn durable_topic_with_tombstones<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
        codec: impl Codec<T>,
        is_tombstone: fn(&T) -> bool,
    ) -> Result<Topic<T>, Error> {
        self.durable_topic_shared(
            name,
            config.compacted(true),
            Arc::new(codec),
            Some(is_tombstone),
        )
    }

    pub(crate) fn durable_topic_shared<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
        codec: Arc<dyn Codec<T>>,
        is_tombstone: Option<fn(&T) -> bool>,
    ) -> Result<Topic<T>, Error> {
        let refuse = |reason: &str| {
            Err(Error::ConfigError {
                name: name.to_owned(),
                reason: reason.into(),
            })
        };
        let Some(storage) = self.inner.storage.clone() else {
            return refuse("the bus keeps nothing on disk: give it a data directory (Bus(data_dir=...) in Python, Bus::builder().storage(ringlet_store::Dir::open(path)?) in Rust)");
        };
        let durability = config.durability.unwrap_or_default();
        let config = TopicConfig {
            durability: Some(durability),
            ..config
        };
        let asked = codec.name().to_owned();
        let open: DurableOpen<'_, T> = Box::new(move |config| {
            let description = StoredTopic {
                partitions: config.partitions,
                value_type: codec.value_type(),
                codec: codec.name().to_owned(),
                compacted: config.compacted,
                queue: false,
            };
            let logs = storage.open_topic(name, &description)?;
            Ok(crate::topic::Durable::new(
                logs,
                codec,
                durability,
                config.partitions,
                is_tombstone,
            ))
        });
        let topic = self.make_topic(name, config, Some(open), None)?;
        if let Some(f) = is_tombstone {
            let _ = topic.inner.tombstone.set(f);
        }
        match topic.codec_name() {
            Some(c) if c != asked => Err(Error::ConfigError {
                name: name.to_owned(),
                reason: format!("it is open with codec {c}; asked for {asked}"),
            }),
            _ => Ok(topic),
        }
    }

    /// Forces every durable topic's records to disk (`fdatasync`), whatever its
    /// durability.
    ///
    /// # Errors
    ///
    /// The first `Io` error (the other topics are synced regardless).
    pub fn sync(&self) -> Result<(), Error> {
        let syncs: Vec<_> = self
            .inner
            .registry
            .lock()
            .values()
            .filter_map(|r| r.sync.clone())
            .collect();
        run_syncs(syncs)
    }

    /// Closes the bus: every topic and queue on it is closed (publishers and
    /// senders get `Closed`, readers drain what is retained), durable topics are
    /// synced to disk, and the storage is let go (a store directory is unlocked:
    /// another bus or process can open it now, even while handles of this one are
    /// still around). Creating topics or queues afterwards is `Closed`; handles
    /// and `get_topic` keep working for reading. Closing twice does nothing more.
    ///
    /// # Errors
    ///
    /// The first `Io` error of syncing or letting the storage go (everything is
    /// closed regardless).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, Error, TopicConfig};
    /// let bus = Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default())?;
    /// bus.close()?;
    /// assert!(t.is_closed());
    /// assert!(matches!(bus.topic::<u8>("u", TopicConfig::default()), Err(Error::Closed)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn close(&self) -> Result<(), Error> {
        let (closers, syncs) = {
            // The opening lock first: a durable open under way finishes (and
            // registers) or sees the bus closed.
            let _opening = self.inner.opening.lock();
            let reg = self.inner.registry.lock();
            if self
                .inner
                .closed
                .swap(true, std::sync::atomic::Ordering::AcqRel)
            {
                return Ok(());
            }
            let closers: Vec<_> = reg.values().map(|r| r.close.clone()).collect();
            let syncs: Vec<_> = reg.values().filter_map(|r| r.sync.clone()).collect();
            (closers, syncs)
        };
        // Closing wakes waiters (user code): outside the locks.
        for close in closers {
            close();
        }
        self.topics_changed();
        let mut first = run_syncs(syncs);
        if let Some(storage) = &self.inner.storage {
            if let Err(e) = storage.close() {
                first = first.and(Err(e));
            }
        }
        first
    }

    /// Opens (or creates) the compacted topic `name` whose `None` values are
    /// tombstones: publishing `None` with a key deletes that key. The config is made
    /// compacted if it is not.
    ///
    /// # Errors
    ///
    /// As [`Bus::topic`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, Message, Start, TopicConfig};
    /// let bus = Bus::new();
    /// let users = bus.compacted_topic::<String>("users", TopicConfig::default())?;
    /// users.publish_message(Message::new(Some("Ada".to_string())).key("u1")).unwrap();
    /// users.publish_message(Message::new(Some("Bob".to_string())).key("u2")).unwrap();
    /// users.publish_message(Message::new(None).key("u1")).unwrap(); // delete u1
    /// let mut sub = users.subscribe(Start::Earliest)?;
    /// let got: Vec<_> = sub.try_recv_batch(10).unwrap().into_iter().map(|r| r.value).collect();
    /// assert_eq!(got, vec![Some("Bob".to_string()), None]); // the tombstone is retained for a while
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn compacted_topic<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
    ) -> Result<Topic<Option<T>>, Error> {
        self.topic_with_tombstones(name, config, Option::is_none)
    }

    /// Opens (or creates) the compacted topic `name`, with `is_tombstone` telling
    /// which values delete their key (the bindings' `None`/`null`). The predicate
    /// is fixed by the first call that gives one.
    ///
    /// # Errors
    ///
    /// As [`Bus::topic`].
    pub fn topic_with_tombstones<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: TopicConfig,
        is_tombstone: fn(&T) -> bool,
    ) -> Result<Topic<T>, Error> {
        let topic = self.topic::<T>(name, config.compacted(true))?;
        let _ = topic.inner.tombstone.set(is_tombstone);
        Ok(topic)
    }

    /// Opens the existing topic `name`, whatever its configuration.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`, `TypeMismatch`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, TopicConfig};
    /// let bus = Bus::new();
    /// bus.topic::<u8>("t", TopicConfig::default().capacity(8))?;
    /// assert_eq!(bus.get_topic::<u8>("t")?.config().capacity, 8);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn get_topic<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
    ) -> Result<Topic<T>, Error> {
        self.get::<Topic<T>>(name, "topic")
    }

    /// Creates the queue `name`, or opens it if it exists with the same value type
    /// and configuration. A `dead_letter` must name an existing queue or topic of
    /// the same value type whose own dead letters do not lead back to `name`.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `ConfigError` (invalid; different from the existing queue's;
    /// a missing, self-referencing, cyclic or wrongly typed dead letter),
    /// `TypeMismatch` (exists with another value type, or is a topic).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, Error, QueueConfig, TopicConfig};
    /// let bus = Bus::new();
    /// let jobs = bus.queue::<u64>("jobs", QueueConfig::default().capacity(100))?;
    /// assert!(matches!(bus.queue::<u64>("jobs", QueueConfig::default()), Err(Error::ConfigError { .. })));
    /// assert!(matches!(bus.topic::<u64>("jobs", TopicConfig::default()), Err(Error::TypeMismatch { .. })));
    /// assert!(matches!(bus.queue::<u64>("q", QueueConfig::default().dead_letter("missing")), Err(Error::ConfigError { .. })));
    /// assert!(matches!(bus.queue::<u64>("q", QueueConfig::default().capacity(0)), Err(Error::ConfigError { .. })));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn queue<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: QueueConfig,
    ) -> Result<Queue<T>, Error> {
        if config.durability.is_some() {
            return Err(Error::ConfigError {
                name: name.to_owned(),
                reason: "durability is for durable queues: open it with durable_queue".into(),
            });
        }
        self.make_queue(name, config, None)
    }

    /// Creates or opens queue `name`; a new one is durable when `open` is given:
    /// its log is opened and read back (decoding runs the codec, user code), and
    /// the queue made and restored, outside the registry lock, one durable open
    /// at a time; it is registered once restored.
    fn make_queue<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: QueueConfig,
        open: Option<QueueOpen<'_, T>>,
    ) -> Result<Queue<T>, Error> {
        name::validate(name, false)?;
        config.validate(name)?;
        let _opening = open.as_ref().map(|_| self.inner.opening.lock());
        let mut reg = self.inner.registry.lock();
        let key = Config::Queue(config.clone());
        if let Some(queue) = existing::<Queue<T>>(&reg, name, &key)? {
            return Ok(queue);
        }
        self.check_open()?;
        let mut dead_letter = match &config.dead_letter {
            Some(target) => Some(dead_letter_to::<T>(&reg, name, target)?),
            None => None,
        };
        let name: Arc<str> = name.into();
        let durable = match open {
            None => None,
            Some(open) => {
                drop(reg);
                let opened = open(name.clone());
                // Restoring may dead-letter (user code): outside the lock too.
                let queue = opened.and_then(|log| {
                    Queue::<T>::create(
                        name.clone(),
                        config.clone(),
                        self.inner.timer.clone(),
                        dead_letter.take(),
                        self.inner.journal.clone(),
                        Some(log),
                    )
                })?;
                reg = self.relock_free(&name)?;
                Some(queue)
            }
        };
        let is_durable = durable.is_some();
        let queue = match durable {
            Some(q) => q,
            None => Queue::<T>::create(
                name.clone(),
                config,
                self.inner.timer.clone(),
                dead_letter,
                self.inner.journal.clone(),
                None,
            )?,
        };
        let (closer, shot) = (queue.clone(), queue.clone());
        register::<T>(
            &mut reg,
            name.clone(),
            key,
            queue.clone(),
            move || closer.close(),
            move || EntrySnapshot::Queue(shot.snapshot()),
            queue.fault_point(),
        );
        if is_durable {
            let syncer = queue.clone();
            if let Some(r) = reg.get_mut(&*name) {
                r.sync = Some(Arc::new(move || syncer.sync_log()));
            }
            drop(reg);
            self.journal_recovery(queue.recovered(), |e| Event {
                queue: Some(name.to_string()),
                ..e
            });
        }
        Ok(queue)
    }

    /// Creates or opens the durable queue `name`: an in-memory queue whose
    /// changes — sends, deliveries, acks, delays, dead letters — are also written
    /// to the bus's [`storage`](BusBuilder::storage) before each call returns,
    /// and read back when it is opened again after a restart. Values are encoded
    /// with [`Postcard`](crate::storage::Postcard).
    ///
    /// After a restart, ready and delayed messages come back (delays keep their
    /// due time); a message that was in flight comes back ready with its
    /// delivery counted as an attempt (so a message that crashes its consumer
    /// still reaches `max_deliveries` and the dead letter); acked and
    /// dead-lettered messages never come back. Messages delivered before come
    /// back at the head, then the others, each in send order. A storage failure
    /// is the call's `Storage` error and changes nothing (an ack that cannot be
    /// stored leaves the message ready again) — except when a `Synced` queue's
    /// `fdatasync` fails: the change was written, and what reached the disk is
    /// unknown (the log then refuses changes until the bus is opened again).
    /// `Queue::ack_batch` cannot return
    /// the error: when the storage refuses, it acks none of them and returns 0.
    /// The log's format: [`crate::queue`]'s durability section.
    ///
    /// # Errors
    ///
    /// As [`Bus::queue`]; `ConfigError` when the bus has no storage, when the
    /// value type or codec
    /// differs from what is stored, or when the stored messages do not fit the
    /// capacity; `TypeMismatch` when a stored value does not decode; `Corrupt`,
    /// `Io`.
    pub fn durable_queue<T>(&self, name: &str, config: QueueConfig) -> Result<Queue<T>, Error>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        self.durable_queue_with(name, config, crate::storage::Postcard)
    }

    /// [`Bus::durable_queue`] with values encoded by `codec`.
    ///
    /// # Errors
    ///
    /// As [`Bus::durable_queue`].
    pub fn durable_queue_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: QueueConfig,
        codec: impl Codec<T>,
    ) -> Result<Queue<T>, Error> {
        self.durable_queue_shared(name, config, Arc::new(codec))
    }

    pub(crate) fn durable_queue_shared<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        config: QueueConfig,
        codec: Arc<dyn Codec<T>>,
    ) -> Result<Queue<T>, Error> {
        let refuse = |reason: &str| {
            Err(Error::ConfigError {
                name: name.to_owned(),
                reason: reason.into(),
            })
        };
        let Some(storage) = self.inner.storage.clone() else {
            return refuse("the bus keeps nothing on disk: give it a data directory (Bus(data_dir=...) in Python, Bus::builder().storage(ringlet_store::Dir::open(path)?) in Rust)");
        };
        let durability = config.durability.unwrap_or_default();
        let config = QueueConfig {
            durability: Some(durability),
            ..config
        };
        let asked = codec.name().to_owned();
        let open: QueueOpen<'_, T> = Box::new(move |name| {
            let description = StoredTopic {
                partitions: 1,
                value_type: codec.value_type(),
                codec: codec.name().to_owned(),
                compacted: false,
                queue: true,
            };
            let logs = storage.open_topic(&name, &description)?;
            crate::queue::durable::QueueLog::open(name, logs, codec, durability)
        });
        let queue = self.make_queue(name, config, Some(open))?;
        match queue.codec_name() {
            Some(c) if c != asked => Err(Error::ConfigError {
                name: name.to_owned(),
                reason: format!("it is open with codec {c}; asked for {asked}"),
            }),
            _ => Ok(queue),
        }
    }

    /// Opens the existing queue `name`, whatever its configuration.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`, `TypeMismatch` (another value type, or a topic).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, QueueConfig};
    /// let bus = Bus::new();
    /// bus.queue::<u8>("jobs", QueueConfig::default().capacity(8))?;
    /// assert_eq!(bus.get_queue::<u8>("jobs")?.config().capacity, 8);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn get_queue<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
    ) -> Result<Queue<T>, Error> {
        self.get::<Queue<T>>(name, "queue")
    }

    /// Opens what is registered as `name` if it is a `kind` holding the asked type.
    /// The fault point of the topic or queue `name`: whether it is a topic, its
    /// partitions (0 for a queue), the point.
    pub(crate) fn fault_point(&self, name: &str) -> Result<(bool, u32, SharedPoint), Error> {
        name::validate(name, true)?;
        let reg = self.inner.registry.lock();
        let r = reg
            .get(name)
            .ok_or_else(|| Error::NotFound { name: name.into() })?;
        Ok(match &r.config {
            Config::Topic(c) => (true, c.partitions, r.faults.clone()),
            Config::Queue(_) => (false, 0, r.faults.clone()),
        })
    }

    /// Every registered name's fault point, by name.
    pub(crate) fn fault_points(&self) -> Vec<(Arc<str>, bool, SharedPoint)> {
        let reg = self.inner.registry.lock();
        let mut all: Vec<_> = reg
            .iter()
            .map(|(n, r)| {
                (
                    n.clone(),
                    matches!(r.config, Config::Topic(_)),
                    r.faults.clone(),
                )
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The bus journal, if it is on.
    pub(crate) fn journal_handle(&self) -> Option<&Arc<Journal>> {
        self.inner.journal.as_ref()
    }

    fn get<H: Handle>(&self, name: &str, kind: &str) -> Result<H, Error> {
        name::validate(name, true)?;
        let reg = self.inner.registry.lock();
        let r = reg
            .get(name)
            .ok_or_else(|| Error::NotFound { name: name.into() })?;
        downcast::<H>(name, r, kind)
    }

    /// Removes `name` from the bus and closes it: existing handles see it closed
    /// (readers drain what is retained). The name can be created again afterwards.
    ///
    /// # Errors
    ///
    /// `InvalidName`, `NotFound`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, TopicConfig};
    /// let bus = Bus::new();
    /// let t = bus.topic::<u8>("t", TopicConfig::default())?;
    /// bus.delete("t")?;
    /// assert!(t.is_closed());
    /// assert!(bus.get_topic::<u8>("t").is_err());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn delete(&self, name: &str) -> Result<(), Error> {
        name::validate(name, true)?;
        let r = self
            .inner
            .registry
            .lock()
            .remove(name)
            .ok_or_else(|| Error::NotFound { name: name.into() })?;
        (r.close)();
        if matches!(r.config, Config::Topic(_)) {
            self.topics_changed();
        }
        Ok(())
    }

    /// Everything on the bus now: topics (config, offsets per partition,
    /// subscriptions, consumer groups with members, owners, committed offsets and
    /// lag, share groups), queues (config and figures). Serializable; see the
    /// [`snapshot`](crate::snapshot) module for the JSON shape.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send(1).unwrap();
    /// let s = bus.snapshot();
    /// assert_eq!((s.queues[0].name.as_str(), s.queues[0].figures.ready), ("jobs", 1));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        // In name order, the journal last: describing a queue or group runs the
        // transitions already due, which may journal events. The same script then
        // gives the same snapshot.
        let mut shots: Vec<_> = self
            .inner
            .registry
            .lock()
            .iter()
            .map(|(name, r)| {
                (
                    name.as_ref() == JOURNAL_TOPIC,
                    name.clone(),
                    r.snapshot.clone(),
                )
            })
            .collect();
        shots.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let (mut topics, mut queues) = (Vec::new(), Vec::new());
        for (_, _, shot) in shots {
            match shot() {
                EntrySnapshot::Topic(t) => topics.push(t),
                EntrySnapshot::Queue(q) => queues.push(q),
            }
        }
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        Snapshot {
            time_ms: self.now_ms(),
            topics,
            queues,
            links: self.inner.links.snapshots(),
        }
    }

    /// Lists `link` in [`Bus::snapshot`] for as long as it lives (the bus holds
    /// it weakly). See [`crate::link`].
    pub fn attach_link(&self, link: &Arc<dyn Link>) {
        self.inner.links.attach(link);
    }

    /// Journals a `link` event (when the journal is on): `reason` is one word
    /// (`error`, `dead_letter`, `recovered`, `closed`), `detail` what happened in
    /// words. See [`crate::journal`].
    pub fn journal_link(&self, link: &str, reason: &str, detail: &str) {
        if let Some(j) = &self.inner.journal {
            j.emit(Event {
                link: Some(link.to_owned()),
                reason: Some(reason.to_owned()),
                detail: Some(detail.to_owned()),
                ..Event::new(crate::journal::EventKind::Link)
            });
        }
    }

    /// The names registered, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// bus.topic::<u8>("b", Default::default())?;
    /// bus.topic::<u8>("a", Default::default())?;
    /// assert_eq!(bus.names(), vec!["a", "b"]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .inner
            .registry
            .lock()
            .keys()
            .map(|k| k.to_string())
            .collect();
        v.sort();
        v
    }
}

/// The handle already registered as `name`, if any: it must be the same kind holding
/// the asked type (`TypeMismatch`) with the same configuration (`ConfigError`).
fn existing<H: Handle>(
    reg: &HashMap<Arc<str>, Registered>,
    name: &str,
    config: &Config,
) -> Result<Option<H>, Error> {
    let Some(r) = reg.get(name) else {
        return Ok(None);
    };
    let handle = downcast::<H>(name, r, config.kind())?;
    if r.config != *config {
        let (existing, given) = match (&r.config, config) {
            (Config::Topic(a), Config::Topic(b)) => (a.described(), b.described()),
            (Config::Queue(a), Config::Queue(b)) => (a.described(), b.described()),
            _ => (Vec::new(), Vec::new()),
        };
        return Err(crate::error::conflict(
            name,
            &format!("the {} {name:?}", config.kind()),
            &existing,
            &given,
            &format!(
                "open it as it is with get_{}({name:?}), or delete it with delete({name:?}) to start again",
                config.kind()
            ),
        ));
    }
    Ok(Some(handle))
}

/// Registers `handle` (a topic or queue of `T`) as `name`.
fn register<T: 'static>(
    reg: &mut HashMap<Arc<str>, Registered>,
    name: Arc<str>,
    config: Config,
    handle: impl Any + Send + Sync,
    close: impl Fn() + Send + Sync + 'static,
    snapshot: impl Fn() -> EntrySnapshot + Send + Sync + 'static,
    faults: SharedPoint,
) {
    reg.insert(
        name,
        Registered {
            type_id: TypeId::of::<T>(),
            type_name: crate::error::value_type::<T>(),
            config,
            handle: Box::new(handle),
            close: Arc::new(close),
            snapshot: Arc::new(snapshot),
            sync: None,
            faults,
        },
    );
}

/// A registered handle and the value type it holds.
trait Handle: Clone + 'static {
    type Value: 'static;
}

impl<T: 'static> Handle for Topic<T> {
    type Value = T;
}

impl<T: 'static> Handle for Queue<T> {
    type Value = T;
}

/// The handle registered under `name`, if it is a `kind` of the asked value type.
fn downcast<H: Handle>(name: &str, r: &Registered, kind: &str) -> Result<H, Error> {
    let found = r.config.kind();
    if found != kind {
        return Err(Error::TypeMismatch {
            name: name.into(),
            expected: format!("a {kind}: open it as a {found}, or give the {kind} another name"),
            found: format!("a {found}"),
        });
    }
    r.handle
        .downcast_ref::<H>()
        .cloned()
        .ok_or_else(|| Error::TypeMismatch {
            name: name.into(),
            expected: format!("a {kind} of {}", crate::error::value_type::<H::Value>()),
            found: format!("a {kind} of {}", r.type_name),
        })
}

/// Resolves the dead letter `target` of the queue `name` being created: it must
/// exist, hold `T`, and its own dead-letter chain must not lead back to `name`.
fn dead_letter_to<T: Clone + Send + Sync + 'static>(
    reg: &HashMap<Arc<str>, Registered>,
    name: &str,
    target: &str,
) -> Result<DeadLetterFn<T>, Error> {
    let bad = |reason: String| Error::ConfigError {
        name: name.into(),
        reason,
    };
    let r = reg.get(target).ok_or_else(|| {
        bad(format!(
            "the dead letter {target:?} does not exist; create it first"
        ))
    })?;
    if r.type_id != TypeId::of::<T>() {
        return Err(bad(format!(
            "the dead letter {target:?} is a {} of {}, not of {}",
            r.config.kind(),
            r.type_name,
            crate::error::value_type::<T>()
        )));
    }
    let mut seen = vec![target];
    let mut next = r.config.dead_letter();
    while let Some(n) = next {
        if n == name {
            return Err(bad(format!(
                "dead letters would go round in a cycle: {name} -> {} -> {name}",
                seen.join(" -> ")
            )));
        }
        if seen.contains(&n) {
            break;
        }
        seen.push(n);
        next = reg.get(n).and_then(|r| r.config.dead_letter());
    }
    Ok(match &r.config {
        Config::Queue(_) => {
            let q = downcast::<Queue<T>>(target, r, "queue")?;
            Box::new(move |m| q.try_send_message(m).is_ok())
        }
        Config::Topic(_) => {
            let t = downcast::<Topic<T>>(target, r, "topic")?;
            Box::new(move |m| t.try_publish_message(m).is_ok())
        }
    })
}
