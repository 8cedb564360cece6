//! The journal: every transition of the bus as a typed event in the `__journal`
//! topic (opt-in, [`crate::BusBuilder::journal`]).
//!
//! Events are published to a one-partition `Overwrite` topic named
//! [`JOURNAL_TOPIC`] that retains the newest `capacity` events; read it like any
//! topic (`bus.get_topic::<Event>("__journal")`). The record's timestamp is the bus
//! time of the transition. With a [`crate::ManualClock`] and a single-threaded
//! script, the journal is the same on every run.
//!
//! When the journal is off, each place that could emit an event checks one
//! `Option` field that is `None`: nothing is built, nothing is published.
//!
//! # JSON shape
//!
//! `serde_json::to_value(&event)` gives an object with `kind` and only the fields
//! that apply (absent fields are left out, never `null`):
//!
//! | `kind` | fields |
//! | --- | --- |
//! | `append`, `evict`, `expire` (a topic's `max_age`) | `topic`, `partition`, `offset` |
//! | `deliver` (first delivery), `redeliver` (attempt ≥ 2) | `queue`, `message`, `attempt`, and for share groups `topic`, `group`, `partition`, `offset` |
//! | `ack`, `nack`, `expire` (a visibility timeout) | as `deliver` |
//! | `dead_letter` | as `deliver`, plus `reason` (`max_deliveries`, `rejected`) and `outcome` (`sent`, `dropped`, `overflow`) |
//! | `commit` | `topic`, `group`, `member`, `partition`, `offset` |
//! | `join`, `leave` | `topic`, `group`, `member`; `leave` has `reason` (`leave`, `drop`, `session_timeout`) |
//! | `rebalance` | `topic`, `group`, `assignment`: `[{"member": 1, "partitions": [0, 2]}, …]` in join order |
//! | `recover` | `topic` or `queue`, `reason`: what opening its log cut off (file, byte, bytes dropped, why) |
//! | `link` | `link` (its name, see [`crate::link`]), `reason` (`error`, `dead_letter`, `recovered`, `closed`), `detail` (in words) |
//! | `fault` | `topic` or `queue` (and `group`, `member`, `partition` where they apply), `reason` (`crash`, `delay_acks`, `fail_publishes`, `fail_sends`, `pause`, `resume`, `clear`, `late_ack`), `detail` (in words) |
//!
//! `message` is the queue's send sequence number of the message (unique per queue);
//! share-group queues are named `topic/group`.
//!
//! ```
//! use ringlet::{Bus, Start, journal::{Event, EventKind, JOURNAL_TOPIC}};
//! let bus = Bus::builder().journal(100).build();
//! let t = bus.topic::<u8>("t", Default::default())?;
//! t.publish(7).unwrap();
//! let mut j = bus.get_topic::<Event>(JOURNAL_TOPIC)?.subscribe(Start::Earliest)?;
//! let e = j.try_recv().unwrap().value;
//! assert_eq!((e.kind, e.topic.as_deref(), e.offset), (EventKind::Append, Some("t"), Some(0)));
//! # Ok::<(), ringlet::Error>(())
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The name of the journal topic.
pub const JOURNAL_TOPIC: &str = "__journal";

/// What happened. See the [module docs](self) for the fields each kind carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A record was appended to a topic.
    Append,
    /// A record was evicted to make room.
    Evict,
    /// A topic record passed `max_age`, or a delivery's visibility timeout passed.
    Expire,
    /// A message (or share-group record) was delivered for the first time.
    Deliver,
    /// A message was delivered again (attempt 2 or later).
    Redeliver,
    /// A delivery was acked.
    Ack,
    /// A delivery was nacked (at once or after a delay).
    Nack,
    /// A message left for the dead letter (or was dropped there).
    DeadLetter,
    /// A consumer group committed an offset.
    Commit,
    /// A member joined a consumer group.
    Join,
    /// A member left a consumer group.
    Leave,
    /// A consumer group's assignment changed.
    Rebalance,
    /// Opening a durable topic's or queue's log cut off a torn tail (a crash
    /// during a write).
    Recover,
    /// Something happened to a link to the outside (see [`crate::link`]).
    Link,
    /// A fault was injected, or an injected fault had an effect (see
    /// [`crate::faults`]).
    Fault,
}

/// One member's partitions in a `rebalance` event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberAssignment {
    /// The member's id (unique in its group, counting from 1).
    pub member: u64,
    /// Its partitions, ascending.
    pub partitions: Vec<u32>,
}

/// One journal event. Fields that do not apply to the kind are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)] // the fields are described in the module docs' table
pub struct Event {
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Vec<MemberAssignment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    pub(crate) fn new(kind: EventKind) -> Self {
        Event {
            kind,
            topic: None,
            queue: None,
            group: None,
            member: None,
            partition: None,
            offset: None,
            message: None,
            attempt: None,
            reason: None,
            outcome: None,
            assignment: None,
            link: None,
            detail: None,
        }
    }

    pub(crate) fn topic(kind: EventKind, topic: &str, partition: u32, offset: u64) -> Self {
        Event {
            topic: Some(topic.to_string()),
            partition: Some(partition),
            offset: Some(offset),
            ..Event::new(kind)
        }
    }

    pub(crate) fn group(kind: EventKind, topic: &str, group: &str, member: u64) -> Self {
        Event {
            topic: Some(topic.to_string()),
            group: Some(group.to_string()),
            member: Some(member),
            ..Event::new(kind)
        }
    }
}

/// Where the engine writes its transitions: a sink that knows nothing of topics (the
/// bus gives it the function that appends to the `__journal` topic).
pub(crate) struct Journal {
    sink: Box<dyn Fn(Event) + Send + Sync>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").finish_non_exhaustive()
    }
}

impl Journal {
    /// A journal that hands every event to `sink`, which must never wait.
    pub(crate) fn new(sink: impl Fn(Event) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Journal {
            sink: Box::new(sink),
        })
    }

    /// Records `event`.
    pub(crate) fn emit(&self, event: Event) {
        (self.sink)(event);
    }
}
