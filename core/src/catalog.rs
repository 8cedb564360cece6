//! The catalog: every topic on the bus as a data product — who owns it, what it
//! is, its schema and retention, who writes it and who reads it, and how far
//! behind its readers are (data mesh's self-serve discovery).
//!
//! # JSON shape (stable)
//!
//! ```text
//! [{
//!   "name": "sales.orders.v1",
//!   "owner": "sales", "description": "Orders as placed", "tags": ["pii:none"],
//!   "schema": {"type": "object", …},                    // or null
//!   "partitions": 3,
//!   "retention": {"capacity": 4096, "max_age_ms": null, "on_full": "overwrite",
//!                 "compacted": false, "durable": false},
//!   "records": 12,                                       // retained now, all partitions
//!   "producers": [{"kind": "topology", "name": "billing"}],
//!   "consumers": [{"kind": "group", "name": "billing", "lag": 2},
//!                 {"kind": "share_group", "name": "workers", "lag": 0},
//!                 {"kind": "link", "name": "orders->kafka:orders", "lag": 0}],
//!   "lag": 2                                             // the largest consumer lag
//! }]
//! ```
//!
//! Entries are sorted by name; `__` topics (the journal) are left out. Producers
//! are the stream topologies whose sinks write the topic and the links that bring
//! records in (`from_kafka`); consumers are its consumer groups (stream topologies
//! read through groups named after them), share groups and outgoing links.
//! Plain subscriptions are not listed (they have no name). A group's lag is
//! records not yet committed (Kafka's consumer lag); a share group's, records not
//! yet acknowledged; a link's, its `ringlet_lag`.
//!
//! ```
//! use ringlet::{Bus, TopicConfig};
//! let bus = Bus::new();
//! let orders = bus.topic::<u32>("orders", TopicConfig::default().owner("sales").tag("core"))?;
//! orders.publish_batch([1, 2, 3]).unwrap();
//! let _billing = orders.group("billing")?.join()?;
//! let catalog = bus.catalog();
//! assert_eq!(catalog[0].owner.as_deref(), Some("sales"));
//! assert_eq!((catalog[0].consumers[0].name.as_str(), catalog[0].lag), ("billing", 0));
//! # Ok::<(), ringlet::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::snapshot::TopicSnapshot;
use crate::{Bus, OnFull};

/// One data product: a topic in the [catalog](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The topic's name.
    pub name: String,
    /// Who owns it.
    pub owner: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The JSON Schema its values follow.
    pub schema: Option<serde_json::Value>,
    /// Its partitions.
    pub partitions: u32,
    /// How long records stay.
    pub retention: Retention,
    /// Records retained now (all partitions).
    pub records: u64,
    /// Who writes it.
    pub producers: Vec<Party>,
    /// Who reads it, with each one's lag.
    pub consumers: Vec<Party>,
    /// The largest lag among its consumers (0 without consumers).
    pub lag: u64,
}

/// What a topic keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// Records kept per partition.
    pub capacity: usize,
    /// Age limit, ms.
    pub max_age_ms: Option<i64>,
    /// What a full partition does.
    pub on_full: OnFull,
    /// Whether it keeps the latest record per key.
    pub compacted: bool,
    /// Whether its records are on disk too.
    pub durable: bool,
}

/// A producer or consumer of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// `"group"`, `"share_group"`, `"topology"` or `"link"`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Records it has yet to take (consumers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<u64>,
}

impl Bus {
    /// Every topic on the bus as a data product, by name: see the
    /// [`catalog`](crate::catalog) module for the shape.
    pub fn catalog(&self) -> Vec<CatalogEntry> {
        let snapshot = self.snapshot();
        let topologies: Vec<crate::streams::Description> = self
            .live_topologies()
            .iter()
            .map(crate::Topology::describe)
            .collect();
        snapshot
            .topics
            .iter()
            .filter(|t| !t.name.starts_with("__"))
            .map(|t| entry(t, &topologies, &snapshot.links))
            .collect()
    }
}

fn entry(
    t: &TopicSnapshot,
    topologies: &[crate::streams::Description],
    links: &[crate::link::LinkSnapshot],
) -> CatalogEntry {
    let party = |kind: &str, name: &str, lag: Option<u64>| Party {
        kind: kind.into(),
        name: name.into(),
        lag,
    };
    let mut producers: Vec<Party> = topologies
        .iter()
        .filter(|d| {
            d.nodes
                .iter()
                .any(|n| n.kind == "sink" && n.topics.contains(&t.name))
        })
        .map(|d| party("topology", &d.topology, None))
        .collect();
    let mut consumers: Vec<Party> = Vec::new();
    for g in &t.groups {
        let lag = g.partitions.iter().map(|p| p.lag).sum();
        consumers.push(party("group", &g.name, Some(lag)));
    }
    for g in &t.share_groups {
        let lag = g
            .partitions
            .iter()
            .map(|p| {
                let end = t
                    .partitions
                    .get(p.partition as usize)
                    .map_or(0, |x| x.latest);
                end.saturating_sub(p.oldest_unsettled.unwrap_or(p.fetched))
            })
            .sum();
        consumers.push(party("share_group", &g.name, Some(lag)));
    }
    for l in links {
        if l.from == t.name {
            consumers.push(party("link", &l.name, Some(l.figures.ringlet_lag)));
        }
        if l.to == t.name {
            producers.push(party("link", &l.name, None));
        }
    }
    let lag = consumers.iter().filter_map(|c| c.lag).max().unwrap_or(0);
    CatalogEntry {
        name: t.name.clone(),
        owner: t.metadata.owner.clone(),
        description: t.metadata.description.clone(),
        tags: t.metadata.tags.clone(),
        schema: t.metadata.schema.clone(),
        partitions: t.config.partitions,
        retention: Retention {
            capacity: t.config.capacity,
            max_age_ms: t.config.max_age_ms,
            on_full: t.config.on_full,
            compacted: t.config.compacted,
            durable: t.durable,
        },
        records: t.partitions.iter().map(|p| p.retained).sum(),
        producers,
        consumers,
        lag,
    }
}
