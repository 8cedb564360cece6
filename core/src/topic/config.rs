//! A topic's configuration: partitions, capacity, age limit, full policy, compaction.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::storage::Durability;
use crate::Error;

/// Largest capacity of one partition.
pub const MAX_CAPACITY: usize = 1 << 30;
/// Largest number of partitions of one topic.
pub const MAX_PARTITIONS: u32 = 1 << 16;

/// What a full partition does with a new record. See the [`Topic`](crate::Topic) docs.
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

impl OnFull {
    /// Whether a publish waits for room under this policy: `Block` always, `Reject`
    /// only when the call has a timeout (`publish_timeout`, `publish_async`);
    /// `Overwrite` makes room at once and `Keep` never frees any.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::OnFull;
    /// assert!(OnFull::Block.waits_for_room(false));
    /// assert!(!OnFull::Reject.waits_for_room(false) && OnFull::Reject.waits_for_room(true));
    /// assert!(!OnFull::Keep.waits_for_room(true));
    /// ```
    pub fn waits_for_room(self, with_timeout: bool) -> bool {
        match self {
            OnFull::Block => true,
            OnFull::Reject => with_timeout,
            OnFull::Overwrite | OnFull::Keep => false,
        }
    }
}

crate::error::named_values!(OnFull, "on_full", {
    Overwrite => "overwrite",
    Block => "block",
    Reject => "reject",
    Keep => "keep",
});

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// How far a durable topic's records are on their way to disk when a publish
    /// returns (`None`: in memory; `Bus::durable_topic` makes it
    /// `Some(Durability::Written)` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durability: Option<Durability>,
    /// What the topic is, as a data product: owner, description, tags, schema.
    /// Not part of the shape compared when the topic is opened again (see
    /// [`TopicMetadata`]).
    #[serde(default, skip_serializing_if = "TopicMetadata::is_empty")]
    pub metadata: TopicMetadata,
}

/// A topic as a data product (data mesh's "data as a product"): who owns it, what it
/// is, how it is tagged, and the JSON Schema its values follow. Listed by
/// [`Bus::catalog`](crate::Bus::catalog).
///
/// Opening a topic again with metadata: an owner, description or tags left unset
/// keep what the topic has; set ones must equal what it has, or fill in what it has
/// not (`ConfigError` otherwise: metadata has one owner). A schema given is the
/// topic's next schema when it differs, accepted only by the
/// [evolution rule](crate::schema#evolution).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMetadata {
    /// The team or domain that owns the topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What the records are, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags, in the order given (duplicates dropped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The JSON Schema every value must match (see [`crate::schema`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
}

impl TopicMetadata {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.owner.is_none()
            && self.description.is_none()
            && self.tags.is_empty()
            && self.schema.is_none()
    }

    pub(crate) fn validate(&self, name: &str) -> Result<(), Error> {
        let bad = |reason: String| {
            Err(Error::ConfigError {
                name: name.into(),
                reason,
            })
        };
        const MAX: usize = 4096;
        for (what, v) in [("owner", &self.owner), ("description", &self.description)] {
            match v {
                Some(v) if v.trim().is_empty() => {
                    return bad(format!("{what} is empty: leave it unset instead"))
                }
                Some(v) if v.len() > MAX => {
                    return bad(format!("{what} is {} bytes long, more than {MAX}", v.len()))
                }
                _ => {}
            }
        }
        if self.tags.len() > 64 {
            return bad(format!("{} tags, more than 64", self.tags.len()));
        }
        for t in &self.tags {
            if t.trim().is_empty() || t.len() > 256 {
                return bad(format!(
                    "tag {} must be 1 to 256 bytes and not blank",
                    crate::error::shown(t)
                ));
            }
        }
        match &self.schema {
            Some(s) => schema_shape(name, s),
            None => Ok(()),
        }
    }
}

/// `ConfigError` unless `schema` can be a JSON Schema (an object or a boolean).
pub(crate) fn schema_shape(name: &str, schema: &serde_json::Value) -> Result<(), Error> {
    if schema.is_object() || schema.is_boolean() {
        return Ok(());
    }
    Err(Error::ConfigError {
        name: name.into(),
        reason: format!(
            "the schema must be a JSON Schema (an object or a boolean), not {}",
            crate::error::shown(&schema.to_string())
        ),
    })
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            partitions: 1,
            capacity: 1024,
            max_age: None,
            on_full: OnFull::Overwrite,
            compacted: false,
            durability: None,
            metadata: TopicMetadata::default(),
        }
    }
}

impl TopicConfig {
    /// Each option with its value, for messages.
    pub(crate) fn described(&self) -> Vec<(&'static str, String)> {
        vec![
            ("partitions", self.partitions.to_string()),
            ("capacity", self.capacity.to_string()),
            (
                "max_age",
                self.max_age.map_or("none".into(), |d| format!("{d:?}")),
            ),
            ("on_full", self.on_full.as_str().into()),
            ("compacted", self.compacted.to_string()),
            (
                "durability",
                self.durability
                    .map_or("none (in memory)", Durability::as_str)
                    .into(),
            ),
        ]
    }

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

    /// Sets the owner (a team or domain) listed in the [catalog](crate::Bus::catalog).
    #[must_use]
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.metadata.owner = Some(owner.into());
        self
    }

    /// Sets the description listed in the catalog.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.metadata.description = Some(description.into());
        self
    }

    /// Adds a tag (a tag given twice is kept once).
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        if !self.metadata.tags.contains(&tag) {
            self.metadata.tags.push(tag);
        }
        self
    }

    /// Sets the JSON Schema that every value must match at publish (see
    /// [`crate::schema`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, TopicConfig};
    /// let bus = Bus::new();
    /// let clicks = bus.topic::<serde_json::Value>("web.clicks.v1", TopicConfig::default()
    ///     .owner("web-team").description("Page clicks").tag("pii:none")
    ///     .schema(serde_json::json!({"type": "object", "required": ["page"]})))?;
    /// assert!(clicks.publish(serde_json::json!({"page": "/"})).is_ok());
    /// assert!(clicks.publish(serde_json::json!({"user": 1})).is_err());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[must_use]
    pub fn schema(mut self, schema: serde_json::Value) -> Self {
        self.metadata.schema = Some(schema);
        self
    }

    /// The same configuration without its metadata: what is compared when a
    /// topic is opened again.
    pub(crate) fn shape(&self) -> TopicConfig {
        TopicConfig {
            metadata: TopicMetadata::default(),
            ..self.clone()
        }
    }

    /// Sets a durable topic's [`Durability`] (see [`crate::storage`]).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = Some(durability);
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
        if let Some(r) = crate::record::wasm_records_limit(
            "partitions × capacity",
            u64::from(self.partitions) * self.capacity as u64,
        ) {
            return bad(r);
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
        self.metadata.validate(name)
    }
}
