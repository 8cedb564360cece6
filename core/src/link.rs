//! Links: what connects the bus to something outside the process (a bridge to
//! Apache Kafka, an HTTP server), seen from the bus.
//!
//! The core does no I/O, so it knows nothing of what a link talks to; a crate
//! around it (`ringlet-kafka`) implements [`Link`] and attaches it with
//! [`Bus::attach_link`](crate::Bus::attach_link). From then on the link's
//! figures are part of [`Bus::snapshot`](crate::Bus::snapshot) (its `links`, by
//! name) for as long as the link lives, and what happens to it (an error, a
//! record it could not move, a recovery, its close) is a `link` event in the
//! [journal](crate::journal) when the journal is on
//! ([`Bus::journal_link`](crate::Bus::journal_link)).
//!
//! ```
//! use std::sync::Arc;
//! use ringlet::{Bus, link::{Link, LinkFigures, LinkSnapshot}};
//!
//! #[derive(Debug)]
//! struct Wire;
//! impl Link for Wire {
//!     fn snapshot(&self) -> LinkSnapshot {
//!         LinkSnapshot {
//!             name: "orders->kafka".into(), kind: "to_kafka".into(),
//!             from: "orders".into(), to: "kafka:orders".into(), closed: false,
//!             figures: LinkFigures { records: 3, ..Default::default() },
//!         }
//!     }
//! }
//! let bus = Bus::new();
//! let wire = Arc::new(Wire);
//! bus.attach_link(&(wire.clone() as Arc<dyn Link>));
//! assert_eq!(bus.snapshot().links[0].figures.records, 3);
//! drop(wire);
//! assert!(bus.snapshot().links.is_empty()); // a link is listed while it lives
//! ```

use std::sync::{Arc, Weak};

use serde::{Deserialize, Serialize};

use crate::sync::Mutex;

/// A link between the bus and the world outside it.
pub trait Link: Send + Sync + std::fmt::Debug + 'static {
    /// The link as it is now. Called by [`Bus::snapshot`](crate::Bus::snapshot)
    /// outside the bus's locks; it should be quick (read counters, no I/O).
    fn snapshot(&self) -> LinkSnapshot;
}

/// A link in a [`Snapshot`](crate::Snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSnapshot {
    /// The link's name, unique on its bus (e.g. `orders->kafka:orders`).
    pub name: String,
    /// What it does, e.g. `to_kafka`, `from_kafka`, `queue_to_kafka`, `queue_from_kafka`.
    pub kind: String,
    /// Where records come from (a topic or queue name, or `kafka:<topic>`).
    pub from: String,
    /// Where they go.
    pub to: String,
    /// Whether the link was closed (it moves nothing more).
    pub closed: bool,
    /// Its counters.
    pub figures: LinkFigures,
}

/// A link's counters. What "confirmed" and each lag mean depends on the link
/// (its crate documents them); the names are shared so every link reads alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFigures {
    /// Records moved and confirmed by the receiving side.
    pub records: u64,
    /// Bytes of those records' values (as encoded on the wire).
    pub bytes: u64,
    /// Records handed to the receiving side and not yet confirmed.
    pub in_flight: u64,
    /// Records on the Ringlet side the link has not yet confirmed as moved.
    pub ringlet_lag: u64,
    /// Records on the far side the link has not yet confirmed as moved.
    pub remote_lag: u64,
    /// Sends the link (or its client) made again after a failure, and
    /// reconnections.
    pub retries: u64,
    /// Errors seen (each also a journal event), whether or not the link
    /// recovered from them.
    pub errors: u64,
    /// Records that could not be moved (a value that does not decode, a record
    /// the far side refuses): counted, kept in a dead-letter queue when the link
    /// has one, and journaled.
    pub dead_letters: u64,
    /// The newest error, in words.
    pub last_error: Option<String>,
}

/// The links attached to a bus (held weakly: a link is listed while it lives).
#[derive(Default)]
pub(crate) struct Links {
    links: Mutex<Vec<Weak<dyn Link>>>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("len", &self.links.lock().len())
            .finish()
    }
}

impl Links {
    pub(crate) fn attach(&self, link: &Arc<dyn Link>) {
        let mut links = self.links.lock();
        links.retain(|l| l.strong_count() > 0);
        links.push(Arc::downgrade(link));
    }

    /// Every living link's snapshot, by name. The links are asked, and the last
    /// strong handles dropped, after the lock is released.
    pub(crate) fn snapshots(&self) -> Vec<LinkSnapshot> {
        let alive: Vec<Arc<dyn Link>> =
            self.links.lock().iter().filter_map(Weak::upgrade).collect();
        let mut shots: Vec<LinkSnapshot> = alive.iter().map(|l| l.snapshot()).collect();
        drop(alive);
        shots.sort_by(|a, b| a.name.cmp(&b.name));
        shots
    }
}
