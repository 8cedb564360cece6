//! `bus.snapshot()`: everything on the bus as plain, serializable data.
//!
//! # JSON shape (stable)
//!
//! ```text
//! {
//!   "time_ms": 0,                                   // bus clock
//!   "topics": [{                                    // by name
//!     "name": "orders", "closed": false,
//!     "config": {"partitions": 2, "capacity": 1024, "on_full": "overwrite", "max_age_ms": null, "compacted": false},
//!     "partitions": [{"partition": 0, "earliest": 0, "latest": 3, "retained": 3}, …],
//!     "subscriptions": [{"id": 7, "positions": [3, 0], "lag": 2}],
//!     "groups": [{
//!       "name": "billing",
//!       "config": {"start": "latest", "auto_commit": false, "session_timeout_ms": 45000},
//!       "members": [{"id": 1, "partitions": [0, 1], "manual": false, "last_seen": 0}],
//!       "partitions": [{"partition": 0, "owner": 1, "committed": 2, "position": 2, "end": 3, "lag": 1}, …]
//!     }],
//!     "share_groups": [{
//!       "name": "workers", "members": 2,
//!       "figures": {"ready": 0, "in_flight": 1, …},  // the queue figures
//!       "lost": 0,
//!       "partitions": [{"partition": 0, "fetched": 3, "oldest_unsettled": 2, "unsettled": 1}, …]
//!     }]
//!   }],
//!   "queues": [{
//!     "name": "jobs", "closed": false,
//!     "config": {"capacity": 1024, "visibility_timeout_ms": 30000, "max_deliveries": null, "dead_letter": null},
//!     "figures": {"ready": 1, "in_flight": 0, "delayed": 0, "sent": 1, "acked": 0, "nacked": 0,
//!                 "redelivered": 0, "expired": 0, "dead_lettered": 0, "dropped": 0, "dead_letter_overflow": 0}
//!   }],
//!   "links": [{                                     // by name, see `ringlet::link`
//!     "name": "orders->kafka:orders", "kind": "to_kafka", "from": "orders", "to": "kafka:orders", "closed": false,
//!     "figures": {"records": 3, "bytes": 90, "in_flight": 0, "ringlet_lag": 0, "remote_lag": 0,
//!                 "retries": 0, "errors": 0, "dead_letters": 0, "last_error": null}
//!   }]
//! }
//! ```
//!
//! `earliest` is the oldest readable offset, `latest` the offset the next record
//! gets (Kafka's log-end offset), `retained` = `latest − earliest`. A group's
//! `start` is `"earliest"`, `"latest"` or `{"timestamp": ms}`. Absent values are
//! `null`. Topics, queues and groups are sorted by name; subscriptions by id;
//! members in join order. The journal topic (`__journal`) is listed like any topic.
//!
//! ```
//! use ringlet::{Bus, Start};
//! let bus = Bus::new();
//! let t = bus.topic::<u8>("orders", Default::default())?;
//! t.publish(1).unwrap();
//! let _sub = t.subscribe(Start::Earliest)?;
//! let s = bus.snapshot();
//! assert_eq!((s.topics[0].partitions[0].latest, s.topics[0].subscriptions[0].lag), (1, 1));
//! # Ok::<(), ringlet::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::clock::duration_ms;
use crate::group::share::ShareGroupSnapshot;
use crate::group::GroupSnapshot;
pub use crate::group::{GroupConfigSnapshot, StartSnapshot};
use crate::queue::{QueueConfig, QueueFigures};
use crate::topic::{OnFull, TopicConfig, TopicInner, TopicMetadata};

/// Everything on the bus. See the [module docs](self) for the JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The bus clock's time (ms).
    pub time_ms: i64,
    /// Topics by name.
    pub topics: Vec<TopicSnapshot>,
    /// Queues by name.
    pub queues: Vec<QueueSnapshot>,
    /// Links to the outside (a Kafka bridge's), by name: see [`crate::link`].
    #[serde(default)]
    pub links: Vec<crate::link::LinkSnapshot>,
}

/// A topic in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSnapshot {
    /// Its name.
    pub name: String,
    /// Whether it is closed.
    pub closed: bool,
    /// Its configuration.
    pub config: TopicConfigSnapshot,
    /// Each partition's offsets.
    pub partitions: Vec<PartitionSnapshot>,
    /// Live subscriptions, by id.
    pub subscriptions: Vec<SubscriptionSnapshot>,
    /// Consumer groups, by name.
    pub groups: Vec<GroupSnapshot>,
    /// Share groups, by name.
    pub share_groups: Vec<ShareGroupSnapshot>,
    /// What opening a durable topic's logs cut off ([`crate::Topic::recovered`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
    /// Its owner, description, tags and schema ([`crate::Topic::metadata`]);
    /// absent when none is set.
    #[serde(default, skip_serializing_if = "TopicMetadata::is_empty")]
    pub metadata: TopicMetadata,
    /// Whether its records are kept on disk (a durable topic).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub durable: bool,
}

/// A topic's configuration in a snapshot (durations in ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TopicConfigSnapshot {
    pub partitions: u32,
    pub capacity: usize,
    pub on_full: OnFull,
    pub max_age_ms: Option<i64>,
    pub compacted: bool,
}

impl From<&TopicConfig> for TopicConfigSnapshot {
    fn from(c: &TopicConfig) -> Self {
        TopicConfigSnapshot {
            partitions: c.partitions,
            capacity: c.capacity,
            on_full: c.on_full,
            max_age_ms: c.max_age.map(duration_ms),
            compacted: c.compacted,
        }
    }
}

/// One partition of a [`TopicSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionSnapshot {
    /// The partition.
    pub partition: u32,
    /// The oldest readable offset.
    pub earliest: u64,
    /// The offset the next record gets.
    pub latest: u64,
    /// Records retained (`latest − earliest`).
    pub retained: u64,
}

/// A subscription in a [`TopicSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionSnapshot {
    /// Its id (unique in the process).
    pub id: u64,
    /// The next offset it copies from each partition.
    pub positions: Vec<u64>,
    /// Records published and not yet copied, summed over partitions.
    pub lag: u64,
}

/// A queue in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    /// Its name.
    pub name: String,
    /// Whether it is closed.
    pub closed: bool,
    /// Its configuration.
    pub config: QueueConfigSnapshot,
    /// Its figures.
    pub figures: QueueFigures,
    /// What opening a durable queue's log cut off ([`crate::Queue::recovered`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
}

/// A queue's configuration in a snapshot (durations in ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct QueueConfigSnapshot {
    pub capacity: usize,
    pub visibility_timeout_ms: i64,
    pub max_deliveries: Option<u32>,
    pub dead_letter: Option<String>,
}

impl From<&QueueConfig> for QueueConfigSnapshot {
    fn from(c: &QueueConfig) -> Self {
        QueueConfigSnapshot {
            capacity: c.capacity,
            visibility_timeout_ms: duration_ms(c.visibility_timeout),
            max_deliveries: c.max_deliveries,
            dead_letter: c.dead_letter.clone(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> crate::Topic<T> {
    /// This topic's entry of [`crate::Bus::snapshot`].
    pub fn snapshot(&self) -> TopicSnapshot {
        self.inner.snapshot()
    }
}

impl<T: Clone + Send + Sync + 'static> crate::Queue<T> {
    /// This queue's entry of [`crate::Bus::snapshot`].
    pub fn snapshot(&self) -> QueueSnapshot {
        QueueSnapshot {
            name: self.name().to_string(),
            closed: self.is_closed(),
            config: self.config().into(),
            figures: self.figures(),
            recovered: self.recovered(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> TopicInner<T> {
    pub(crate) fn snapshot(&self) -> TopicSnapshot {
        let partitions = (0..self.config.partitions)
            .map(|p| {
                let earliest = self.floor(p);
                let latest = self.parts[p as usize].end();
                PartitionSnapshot {
                    partition: p,
                    earliest: earliest.min(latest),
                    latest,
                    retained: self.parts[p as usize].lag_from(earliest),
                }
            })
            .collect::<Vec<_>>();
        let mut subscriptions: Vec<SubscriptionSnapshot> = self
            .readers
            .lock()
            .iter()
            .map(|(id, cursors)| {
                let positions: Vec<u64> = cursors
                    .iter()
                    .map(|c| c.pos.load(std::sync::atomic::Ordering::Acquire))
                    .collect();
                let lag = positions
                    .iter()
                    .zip(&partitions)
                    .zip(self.parts.iter())
                    .map(|((pos, pp), part)| part.lag_from((*pos).max(pp.earliest)))
                    .sum();
                SubscriptionSnapshot {
                    id: *id,
                    positions,
                    lag,
                }
            })
            .collect();
        subscriptions.sort_by_key(|s| s.id);
        let (groups, share_groups) = self.group_snapshots();
        TopicSnapshot {
            name: self.name.to_string(),
            closed: self.closed.load(std::sync::atomic::Ordering::Acquire),
            config: (&self.config).into(),
            partitions,
            subscriptions,
            groups,
            share_groups,
            recovered: self
                .durable
                .as_ref()
                .map(|d| d.logs.recovered())
                .unwrap_or_default(),
            metadata: self.snapshot_metadata(),
            durable: self.durable.is_some(),
        }
    }
}
