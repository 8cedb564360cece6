//! Partial options, as hosts give them: every field optional, and a field left out
//! accepts what exists (or takes the default when nothing does). This is what makes
//! a notebook cell or a page script re-runnable — `bus.topic("orders")` after
//! `bus.topic("orders", partitions=3)` opens the same topic — while a field that is
//! given and differs is still a `ConfigError`, as in [`Bus::topic`].
//!
//! Python and JS build these from their keyword arguments and option objects;
//! Rust code usually passes whole configs instead.

use std::sync::Arc;
use std::time::Duration;

use crate::storage::{Codec, Durability};
use crate::{
    Bus, Error, Group, GroupConfig, OnFull, Queue, QueueConfig, ShareGroup, ShareGroupConfig,
    Start, Topic, TopicConfig,
};

/// A [`TopicConfig`] with every field optional ([`Bus::open_topic`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TopicOptions {
    pub partitions: Option<u32>,
    pub capacity: Option<usize>,
    pub max_age: Option<Duration>,
    pub on_full: Option<OnFull>,
    pub compacted: Option<bool>,
    /// Whether the topic is durable ([`Bus::open_topic_with_codecs`]); left out,
    /// it is when `durability` or `codec` is given or the topic is stored.
    pub durable: Option<bool>,
    pub durability: Option<Durability>,
    /// The name of a durable topic's codec (one of the host's [`Codecs`]).
    pub codec: Option<String>,
    /// Owner, description, tags and schema: fields left out keep what the topic
    /// has (see [`crate::TopicMetadata`]).
    pub metadata: crate::TopicMetadata,
}

/// The codecs a host offers for durable topics of its values, by name.
pub struct Codecs<T> {
    /// The codec of a new topic when none is named.
    pub default: &'static str,
    /// The names [`Codecs::make`] knows, for messages.
    pub names: &'static [&'static str],
    /// The codec of that name, if there is one.
    pub make: fn(&str) -> Option<Arc<dyn Codec<T>>>,
}

impl<T> std::fmt::Debug for Codecs<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codecs")
            .field("default", &self.default)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl TopicOptions {
    /// `base` with the given fields set.
    pub fn apply(&self, mut base: TopicConfig) -> TopicConfig {
        set(&mut base.partitions, self.partitions);
        set(&mut base.capacity, self.capacity);
        set(&mut base.on_full, self.on_full);
        set(&mut base.compacted, self.compacted);
        if self.max_age.is_some() {
            base.max_age = self.max_age;
        }
        if self.durability.is_some() {
            base.durability = self.durability;
        }
        base.metadata = self.metadata.clone();
        base
    }
}

impl Bus {
    /// Whether an open by options is durable — as asked (`wants`), else as the
    /// open one is (`existing`: whether it is durable), else whether `name` is
    /// stored — and what is stored for `name` (read only when it can decide).
    fn choose_durable(
        &self,
        name: &str,
        wants: Option<bool>,
        existing: Option<bool>,
    ) -> Result<(bool, Option<crate::storage::StoredTopic>), Error> {
        let stored = match (existing, wants) {
            (None, None | Some(true)) => self.stored_topic(name)?,
            _ => None,
        };
        let durable = wants.unwrap_or(existing.unwrap_or(stored.is_some()));
        Ok((durable, stored))
    }
}

/// Whether a durable topic or queue is asked for (left out: when `durability` or
/// `codec` is given); `ConfigError` for `durable: false` with either.
fn wants_durable(
    name: &str,
    durable: Option<bool>,
    durability: Option<Durability>,
    codec: Option<&String>,
) -> Result<Option<bool>, Error> {
    let implied = durability.is_some() || codec.is_some();
    match durable {
        Some(false) if implied => Err(Error::ConfigError {
            name: name.to_owned(),
            reason: "durability and codec are for durable topics and queues: leave them out, or make it durable".into(),
        }),
        Some(d) => Ok(Some(d)),
        None => Ok(implied.then_some(true)),
    }
}

/// The codec a durable open uses: the one named, else the open one's, else the
/// stored one's, else the host's default.
fn pick_codec<T>(
    name: &str,
    codecs: Option<&Codecs<T>>,
    given: Option<&String>,
    existing: Option<String>,
    stored: Option<String>,
) -> Result<Arc<dyn Codec<T>>, Error> {
    let Some(codecs) = codecs else {
        return Err(Error::ConfigError {
            name: name.to_owned(),
            reason: "durable topics and queues are not available here: they are kept in memory"
                .into(),
        });
    };
    let codec_name = given
        .cloned()
        .or(existing)
        .or(stored)
        .unwrap_or_else(|| codecs.default.to_owned());
    (codecs.make)(&codec_name).ok_or_else(|| Error::ConfigError {
        name: name.to_owned(),
        reason: format!(
            "there is no codec {codec_name:?}: use one of {}",
            codecs.names.join(", ")
        ),
    })
}

/// A [`QueueConfig`] with every field optional ([`Bus::open_queue`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct QueueOptions {
    pub capacity: Option<usize>,
    pub visibility_timeout: Option<Duration>,
    pub max_deliveries: Option<u32>,
    pub dead_letter: Option<String>,
    /// Whether the queue is durable ([`Bus::open_queue_with_codecs`]); left out,
    /// it is when `durability` or `codec` is given or the queue is stored.
    pub durable: Option<bool>,
    pub durability: Option<Durability>,
    /// The name of a durable queue's codec (one of the host's [`Codecs`]).
    pub codec: Option<String>,
}

impl QueueOptions {
    /// `base` with the given fields set.
    pub fn apply(&self, mut base: QueueConfig) -> QueueConfig {
        set(&mut base.capacity, self.capacity);
        set(&mut base.visibility_timeout, self.visibility_timeout);
        if self.max_deliveries.is_some() {
            base.max_deliveries = self.max_deliveries;
        }
        if self.dead_letter.is_some() {
            base.dead_letter.clone_from(&self.dead_letter);
        }
        if self.durability.is_some() {
            base.durability = self.durability;
        }
        base
    }
}

/// A [`GroupConfig`] with every field optional ([`Topic::open_group`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct GroupOptions {
    pub start: Option<Start>,
    pub auto_commit: Option<bool>,
    pub session_timeout: Option<Duration>,
}

impl GroupOptions {
    /// Whether no field is given.
    pub fn is_empty(&self) -> bool {
        *self == GroupOptions::default()
    }

    /// `base` with the given fields set.
    pub fn apply(&self, mut base: GroupConfig) -> GroupConfig {
        set(&mut base.start, self.start.clone());
        set(&mut base.auto_commit, self.auto_commit);
        set(&mut base.session_timeout, self.session_timeout);
        base
    }
}

/// A [`ShareGroupConfig`] with every field optional ([`Topic::open_share_group`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ShareGroupOptions {
    pub start: Option<Start>,
    pub visibility_timeout: Option<Duration>,
    pub max_deliveries: Option<u32>,
    pub max_in_flight: Option<usize>,
    pub dead_letter: Option<String>,
}

impl ShareGroupOptions {
    /// Whether no field is given.
    pub fn is_empty(&self) -> bool {
        *self == ShareGroupOptions::default()
    }

    /// `base` with the given fields set.
    pub fn apply(&self, mut base: ShareGroupConfig) -> ShareGroupConfig {
        set(&mut base.start, self.start.clone());
        set(&mut base.visibility_timeout, self.visibility_timeout);
        set(&mut base.max_in_flight, self.max_in_flight);
        if self.max_deliveries.is_some() {
            base.max_deliveries = self.max_deliveries;
        }
        if self.dead_letter.is_some() {
            base.dead_letter.clone_from(&self.dead_letter);
        }
        base
    }
}

fn set<V>(field: &mut V, given: Option<V>) {
    if let Some(v) = given {
        *field = v;
    }
}

impl Bus {
    /// Opens the topic `name` with the options given, the others as they are;
    /// creates it (other options at their defaults) if it does not exist. A
    /// compacted topic tells its deletions by `is_tombstone`.
    ///
    /// # Errors
    ///
    /// As [`Bus::topic`]: `ConfigError` for a given option that differs from the
    /// existing topic's, `TypeMismatch`, `InvalidName`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{options::TopicOptions, Bus};
    /// let bus = Bus::new();
    /// let three = TopicOptions { partitions: Some(3), ..Default::default() };
    /// bus.open_topic::<u8>("orders", &three, |_| false)?;
    /// // Re-run without the option: the same topic.
    /// assert_eq!(bus.open_topic::<u8>("orders", &TopicOptions::default(), |_| false)?.partitions(), 3);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn open_topic<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &TopicOptions,
        is_tombstone: fn(&T) -> bool,
    ) -> Result<Topic<T>, Error> {
        self.open_topic_in(name, options, is_tombstone, None)
    }

    /// [`Bus::open_topic`] for a host that stores its values with `codecs`: the
    /// topic is durable when `options.durable` says so, or (left out) when
    /// `durability` or `codec` is given, or the topic exists durable or is
    /// stored. Options left out accept what is stored, as they accept what
    /// exists: a stored topic keeps its partitions, compaction and codec.
    ///
    /// # Errors
    ///
    /// As [`Bus::open_topic`] and [`Bus::durable_topic`]; `ConfigError` for a
    /// codec `codecs` does not know, or one other than the topic's.
    pub fn open_topic_with_codecs<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &TopicOptions,
        is_tombstone: fn(&T) -> bool,
        codecs: &Codecs<T>,
    ) -> Result<Topic<T>, Error> {
        self.open_topic_in(name, options, is_tombstone, Some(codecs))
    }

    fn open_topic_in<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &TopicOptions,
        is_tombstone: fn(&T) -> bool,
        codecs: Option<&Codecs<T>>,
    ) -> Result<Topic<T>, Error> {
        let wants = wants_durable(
            name,
            options.durable,
            options.durability,
            options.codec.as_ref(),
        )?;
        let existing = match self.get_topic::<T>(name) {
            Ok(t) => Some(t),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let (durable, stored) = self.choose_durable(
            name,
            wants,
            existing.as_ref().map(|t| t.config().durability.is_some()),
        )?;
        let mut base = existing
            .as_ref()
            .map_or_else(TopicConfig::default, |t| t.config().clone());
        if !durable {
            base.durability = None;
            let config = options.apply(base);
            return if config.compacted {
                self.topic_with_tombstones(name, config, is_tombstone)
            } else {
                self.topic(name, config)
            };
        }
        if let Some(st) = &stored {
            base.partitions = st.partitions;
            base.compacted = st.compacted;
        }
        let codec = pick_codec(
            name,
            codecs,
            options.codec.as_ref(),
            existing.as_ref().and_then(|t| t.codec_name()),
            stored.map(|st| st.codec),
        )?;
        let config = options.apply(base);
        let tombstones = config.compacted.then_some(is_tombstone);
        self.durable_topic_shared(name, config, codec, tombstones)
    }

    /// The config of the topic `name`, or the default one if there is none.
    pub(crate) fn topic_config_or_default<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
    ) -> Result<TopicConfig, Error> {
        match self.get_topic::<T>(name) {
            Ok(t) => Ok(t.config().clone()),
            Err(Error::NotFound { .. }) => Ok(TopicConfig::default()),
            Err(e) => Err(e),
        }
    }

    /// Opens the queue `name` with the options given, the others as they are;
    /// creates it if it does not exist.
    ///
    /// # Errors
    ///
    /// As [`Bus::queue`].
    pub fn open_queue<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &QueueOptions,
    ) -> Result<Queue<T>, Error> {
        self.open_queue_in(name, options, None)
    }

    /// [`Bus::open_queue`] for a host that stores its values with `codecs`: the
    /// queue is durable when `options.durable` says so, or (left out) when
    /// `durability` or `codec` is given, or the queue exists durable or is
    /// stored; a stored queue keeps its codec when none is given.
    ///
    /// # Errors
    ///
    /// As [`Bus::open_queue`] and [`Bus::durable_queue`]; `ConfigError` for a
    /// codec `codecs` does not know, or one other than the queue's.
    pub fn open_queue_with_codecs<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &QueueOptions,
        codecs: &Codecs<T>,
    ) -> Result<Queue<T>, Error> {
        self.open_queue_in(name, options, Some(codecs))
    }

    fn open_queue_in<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        options: &QueueOptions,
        codecs: Option<&Codecs<T>>,
    ) -> Result<Queue<T>, Error> {
        let wants = wants_durable(
            name,
            options.durable,
            options.durability,
            options.codec.as_ref(),
        )?;
        let existing = match self.get_queue::<T>(name) {
            Ok(q) => Some(q),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let (durable, stored) = self.choose_durable(
            name,
            wants,
            existing.as_ref().map(|q| q.config().durability.is_some()),
        )?;
        let mut base = existing
            .as_ref()
            .map_or_else(QueueConfig::default, |q| q.config().clone());
        if !durable {
            base.durability = None;
            return self.queue(name, options.apply(base));
        }
        let codec = pick_codec(
            name,
            codecs,
            options.codec.as_ref(),
            existing.as_ref().and_then(|q| q.codec_name()),
            stored.map(|st| st.codec),
        )?;
        self.durable_queue_shared(name, options.apply(base), codec)
    }
}

impl<T: Clone + Send + Sync + 'static> Topic<T> {
    /// Opens the consumer group `name` with the options given, the others as they
    /// are; creates it if it does not exist.
    ///
    /// # Errors
    ///
    /// As [`Topic::group_with`].
    pub fn open_group(&self, name: &str, options: &GroupOptions) -> Result<Group<T>, Error> {
        if options.is_empty() {
            return self.group(name);
        }
        let base = self.group_config(name).unwrap_or_default();
        self.group_with(name, options.apply(base))
    }

    /// Opens the share group `name` with the options given, the others as they
    /// are; creates it if it does not exist.
    ///
    /// # Errors
    ///
    /// As [`Topic::share_group_with`].
    pub fn open_share_group(
        &self,
        name: &str,
        options: &ShareGroupOptions,
    ) -> Result<ShareGroup<T>, Error> {
        if options.is_empty() {
            return self.share_group(name);
        }
        let base = self.share_group_config(name).unwrap_or_default();
        self.share_group_with(name, options.apply(base))
    }
}
