//! # Ringlet
//!
//! An in-process event bus with Kafka's ideas — replayable, retained **topics** with
//! partitions and offsets, and competing-consumer **queues** with acks, redelivery,
//! delays and dead letters — held in memory in bounded rings, on a lock-free core.
//!
//! ```
//! use ringlet::{Bus, Message, Start, TopicConfig};
//!
//! #[derive(Clone, Debug, PartialEq)]
//! struct Order { id: u32, amount: u64 }
//!
//! let bus = Bus::new();
//! let orders = bus.topic::<Order>("orders", TopicConfig::default().partitions(3).capacity(4096))?;
//! let mut audit = orders.subscribe(Start::Earliest)?;
//!
//! let receipt = orders.publish_message(Message::new(Order { id: 1, amount: 250 }).key("customer-42"))?;
//! let rec = audit.recv()?;
//! assert_eq!((rec.partition, rec.offset), (receipt.partition, receipt.offset));
//! assert_eq!(rec.value, Order { id: 1, amount: 250 });
//!
//! // Replay: a new subscription from the earliest offset reads the same records again.
//! let mut replay = orders.subscribe(Start::Earliest)?;
//! assert_eq!(replay.recv()?.value.id, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Concepts
//!
//! * [`Bus`]: a registry of topics by name (Kafka's rules: `[A-Za-z0-9._-]`, 1–249
//!   characters; `__` is reserved) and the clock they read.
//! * [`Topic`]: `partitions` rings, each retaining exactly the newest `capacity`
//!   records. Keyed records go to `(murmur2(key) & 0x7fffffff) % partitions` — Kafka's
//!   default partitioner, so a key lands on the same partition number as in Kafka —
//!   unkeyed ones round-robin, and a producer may name the partition. Order is
//!   guaranteed per partition. See [`topic`](crate::Topic) for retention, `max_age`
//!   and the full policies ([`OnFull`]).
//! * [`Subscription`]: an independent reader over all partitions, from
//!   [`Start::Earliest`], [`Start::Latest`], an offset, or a timestamp. Reading never
//!   removes anything. A reader that falls behind gets
//!   [`RecvError::Lagged`] with the exact number of records it missed.
//! * [`Record`]: `partition`, `offset`, `timestamp` (ms), `key`, `headers`, `value`.
//! * [`Queue`]: a bounded buffer for competing consumers. Each message goes to one
//!   consumer at a time as a [`Delivery`] and is removed only when acked; nacked,
//!   dropped and timed-out deliveries come back (to the head), `nack_after` and
//!   `send_delayed` wait on the bus clock, and messages that keep failing
//!   (`max_deliveries`) or are rejected go to a dead-letter queue or topic. See
//!   the [`queue`] module for the whole contract.
//!
//! ```
//! use std::time::Duration;
//! use ringlet::{Bus, ManualClock, QueueConfig};
//!
//! let clock = ManualClock::new();
//! let bus = Bus::builder().clock(clock.clone()).build();
//! let dead = bus.queue::<String>("jobs.dlq", QueueConfig::default())?;
//! let jobs = bus.queue::<String>("jobs", QueueConfig::default()
//!     .visibility_timeout(Duration::from_secs(30)).max_deliveries(2).dead_letter("jobs.dlq"))?;
//! jobs.send("resize photo".into())?;
//! let d = jobs.receive()?;                 // worker A takes it…
//! drop(d);                                 // …and gives up: it is ready again
//! let d = jobs.receive()?;
//! assert_eq!(d.attempt(), 2);
//! d.nack()?;                               // its last allowed attempt failed
//! assert_eq!(dead.receive()?.headers().get("ringlet.dead_letter.reason"), Some(&b"max_deliveries"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! * [`Group`] (Kafka's consumer groups): `topic.group(name).join()` gives a
//!   [`Member`]; each partition is owned by one member at a time, reassigned
//!   stickily and deterministically as members join, leave, are dropped or miss
//!   their `session_timeout`. Committed offsets are the next offset to read; a new
//!   owner resumes there, so what was read but not committed is read again
//!   (at-least-once). See [`Group`] and [`Member`].
//! * [`ShareGroup`] (Kafka 4's share groups): a topic read like a queue —
//!   `topic.share_group(name).join()` gives a [`ShareMember`] that receives the
//!   queue's [`Delivery`] (with `partition()` and `offset()`), acked, nacked,
//!   redelivered after the visibility timeout and dead-lettered after
//!   `max_deliveries`, at most `max_in_flight` at a time.
//! * [`streams`]: Kafka Streams' ideas in process — [`Stream`] operators,
//!   [`Table`]s from aggregations (windowed too), joins, a [`Topology`] that
//!   describes itself and runs cooperatively (`bus.run_until_idle()`) or on a
//!   thread; compacted topics for changelogs. [`eventstore`]: an event store
//!   with optimistic concurrency, [`Aggregate`]s and snapshots; CQRS read models
//!   are tables.
//! * [`Bus::snapshot`] describes everything as serializable data (see
//!   [`snapshot`]); the opt-in [`journal`] records every transition as an event in
//!   the `__journal` topic.
//!
//! ```
//! use ringlet::{Bus, GroupConfig, ShareGroupConfig, Start, TopicConfig};
//!
//! let bus = Bus::new();
//! let orders = bus.topic::<u32>("orders", TopicConfig::default().partitions(2))?;
//! orders.publish_batch([1, 2, 3, 4])?;
//!
//! // A consumer group: two members share the partitions.
//! let billing = orders.group_with("billing", GroupConfig::default().start(Start::Earliest))?;
//! let mut a = billing.join()?;
//! let mut b = billing.join()?;
//! assert_eq!((a.assignment(), b.assignment()), (vec![0], vec![1]));
//! let rec = a.recv()?;
//! a.commit()?;                                   // committed: the next offset to read
//! assert_eq!(billing.committed()[rec.partition as usize], Some(rec.offset + 1));
//!
//! // A share group on the same topic: records handed out one at a time, acked.
//! let workers = orders.share_group_with("workers", ShareGroupConfig::default().start(Start::Earliest))?;
//! let w = workers.join()?;
//! let d = w.receive()?;
//! assert_eq!((d.partition(), d.offset()), (Some(0), Some(0)));
//! d.ack()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Values
//!
//! Topics are generic over `T: Clone + Send + Sync + 'static`; every reader gets its
//! own clone, so wrap large payloads in an `Arc`. A value's `Clone` should be quick:
//! readers clone while holding a pin on a segment of the ring, and a producer that
//! wants to reuse that segment waits for the pin.
//!
//! ## Time
//!
//! Everything time-based in the semantics (timestamps, `max_age`, visibility
//! timeouts, delays) reads the bus
//! [`Clock`]: the system clock by default — whose timestamps have the kernel tick's
//! resolution on Linux (1–4 ms; see [`Clock::resolution_ms`]), a deliberate trade for
//! a clock read that costs a few nanoseconds — or a [`ManualClock`] moved by hand.
//! Call timeouts (`recv_timeout`, `publish_timeout`, `receive_timeout`) are real
//! elapsed time. Nothing polls: waiting threads park and are unparked by the publish,
//! send or room they wait for, async tasks register wakers, and bus-clock deadlines
//! (a delayed message falling due, a visibility timeout) wake them through one timer
//! thread per bus (system clock) or [`ManualClock::advance`], which also runs every
//! queue and group transition that falls due, in deadline order.
//!
//! **Deterministic mode.** With a [`ManualClock`], `advance` steps through the
//! registered deadlines in order (ties in registration order), and the clock reads
//! each deadline while its transitions run — a redelivery, a delayed message, a
//! session timeout, a record's expiry — so they carry the time they fell due. A
//! single-threaded script therefore gives the same results, snapshot and journal on
//! every run (ids in the journal are per queue and per group, counting from 1).
//!
//! ## Errors
//!
//! Operations return small enums that hand back what was not sent
//! ([`PublishError::Full`]`(value)`), and registry or configuration failures return
//! [`Error`]. Nothing panics on bad input.
//!
//! ## The lock-free core
//!
//! Queues: a queue of capacity `n` has `n` message slots; each slot's index lives in
//! exactly one of a free list, two ready lists (returned messages first, then first
//! deliveries) — all three Vyukov bounded MPMC queues of indices — in flight, or the
//! delay heap. A send moves an index from the free list to the ready list, a
//! receive moves it into flight (one store), and an ack wins it back with one
//! compare-and-swap on the slot state (the same word the visibility timeout
//! competes for) and returns it to the free list. Delays are a mutex-guarded heap
//! (the slow path). See the [`queue`] module.
//!
//! Publishing claims an offset with one compare-and-swap and publishes the slot with a
//! release store; readers copy up to [`BATCH`] ready records per cursor read and hand
//! them out one by one; memory reclamation is by per-segment pins (see the ring
//! module's docs). Locks (`parking_lot`) are taken only on slow paths: creating
//! topics and subscriptions, parking a thread that must wait, and recomputing the
//! gating bound of a `Block` topic when it looks full.
//!
//! ## Decisions where the contract was silent
//!
//! * `Start::Offsets` lists offsets per partition; partitions not listed start at
//!   the end (as `Latest`).
//! * On a `Block`/`Reject` topic a subscription gates from the moment it exists, so
//!   its first record can only be evicted by a publish racing the `subscribe` call;
//!   a `Start::Earliest` subscription then starts at the new oldest record without
//!   reporting a gap (the publish came first). Everywhere else an evicted record is
//!   reported as `Lagged`, before the first read too.
//! * `Subscription::iter()` and the `Stream` end at a gap when the lag policy is
//!   `OnLag::Error`; the next `recv` reports it.
//! * Deleting a topic closes it: existing handles drain what is retained.
//! * `Reject` topics: only `publish` fails at once; `publish_timeout` and
//!   `publish_async` wait for room as on `Block` topics.
//! * Queues: `receive` on a closed queue returns `Closed` as soon as nothing is
//!   ready; it does not wait for in-flight or delayed messages (those that come
//!   back or fall due later are delivered to later receives).
//! * A delayed message takes room from the moment it is sent. Ties in due time
//!   (delays, `nack_after`, timeouts falling due together) go by the order the
//!   messages were first sent.
//! * A settle at or after the delivery's deadline fails with `Expired` even if no
//!   one has taken the message back yet (the settle takes it back itself), so the
//!   result never depends on when the timeout was noticed.
//! * A dead letter that a closed (deleted) queue or topic cannot take counts as
//!   `dead_letter_overflow`, like a full one. Dead-lettered messages keep their key
//!   and headers; the `ringlet.dead_letter.*` headers are appended (the latest
//!   wins in `Headers::get` when a message is dead-lettered twice).
//! * Queue messages carry no partition: a partition set on a [`Message`] sent to a
//!   queue is ignored; its timestamp, if set, is the enqueue time.
//! * `ack_batch` acks deliveries of other queues too (through their own queue).
//! * A dead-letter chain is checked by name when a queue is created: a chain that
//!   reaches the new queue's name is a cycle, even through a deleted queue whose
//!   name was reused.
//! * `Delivery` settles consume it, so settling twice cannot compile in Rust.
//! * Consumer groups: `topic.group(name)` opens an existing group whatever its
//!   config (`group_with` compares the whole config); groups keep their committed
//!   offsets while they have no members; group and share-group names share one
//!   namespace per topic. The default `session_timeout` is Kafka's 45 s; a member
//!   blocked in a read (or with a pending `recv_async`) counts as calling, and a
//!   member removed by the timeout joins again at its next call, with its
//!   uncommitted partitions already re-read by others (its `commit()` reports the
//!   first such partition as `NotOwner`). A group's `start` is `Earliest`, `Latest`
//!   or a `Timestamp`. A group member reads with `OnLag::Earliest`.
//! * `Member::assign` takes exactly the chosen partitions out of the automatic
//!   assignment; a partition another member chose is `NotOwner`. Listeners run at
//!   the member's next call: `on_revoke` first, then `on_assign`.
//! * Share groups live while a handle or member exists (like subscriptions), and
//!   start at their `start` when created. Records evicted before the group fetched
//!   them count as `lost` too. A share group's dead letter may not be its own topic
//!   or lead back to it; its dead letters come from `topic/group` (the
//!   `ringlet.dead_letter.source` header and the journal's queue name).
//! * Snapshots and the journal give durations in ms; a topic partition's `latest`
//!   is its end offset (the offset the next record gets).
//! * Compacted topics: `on_full` is `Overwrite` (a new key beyond `capacity`
//!   evicts the partition's oldest record, reported to readers that had not read
//!   it as `Lagged` — exact while a reader is fewer than `capacity` evictions
//!   behind, a lower bound beyond) or `Keep` (a new key is refused with `Full`);
//!   `Block`, `Reject` and `max_age` are `ConfigError`s. A record without a key is
//!   refused with `PublishError::NoKey`. Tombstones are retained as their key's
//!   latest record (so readers reading along see the deletion) and are the first
//!   records dropped when room is needed. Which values are tombstones is given
//!   when the topic is opened ([`Bus::compacted_topic`] for `Option<T>`,
//!   [`Bus::topic_with_tombstones`]). A compacted partition is a map behind one
//!   lock, not a ring: compaction is off the plain topics' hot path.
//! * Streams: a topology (Kafka's application) is named; `topic.stream()` uses
//!   the bus's default one, `streams`. Its sources read through consumer groups
//!   of that name, from the earliest offsets; one source per topic per
//!   topology. A record's outputs and table updates are applied only after it has
//!   gone through the whole graph (see [`streams`]), so a failing callback leaves
//!   no partial table state; outputs published before a failing output of the same
//!   record may be published again when it is retried. Records without a key are
//!   dropped by aggregations and joins (as in Kafka). Windows close by stream time
//!   (the largest timestamp the aggregation has seen); grace is 0 unless set,
//!   retention one day; a session's window is its first and last record's
//!   timestamps. Changelog topics are `<topology>-<store>-changelog`, compacted,
//!   `keep`, with the table's capacity (65 536 keys by default): a record that
//!   would add a key beyond it fails. Callbacks may call back into the bus: a
//!   step called from inside one of the topology's own callbacks does nothing,
//!   queries and `errors()` never wait on the running step, operators added from
//!   inside join before the next record, `close()` from inside completes the
//!   current record and ends the step, and `stream()` from inside is a
//!   `ConfigError` (a running topology gains no sources). Stream time is one
//!   per aggregation, across partitions: a step reads a batch per source
//!   partition in turn, so records of one partition can make another's look late
//!   when a large backlog is processed at once (grace absorbs it; Kafka orders by
//!   timestamp across a task's partitions instead).
//! * Event stores: [`Bus::event_store`] makes its topic `keep` whatever `on_full`
//!   was given; one store per name on a bus, so optimistic concurrency holds for
//!   every handle. [`Aggregates::execute`] retries a `VersionConflict` 3 times by
//!   default; snapshots live in the compacted topic `<store>.snapshots`.

// docs.rs labels platform-specific items (`Topology::spawn` is native only).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs, missing_debug_implementations)]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::unnecessary_safety_comment)]

mod bus;
pub mod catalog;
mod clock;
mod dead_letter;
mod error;
pub mod eventstore;
mod extensions;
mod fault_point;
pub mod faults;
mod group;
pub mod journal;
pub mod link;
mod murmur2;
mod name;
pub mod options;
pub mod pattern;
pub mod queue;
mod record;
pub mod schema;
pub mod snapshot;
pub mod storage;
pub mod streams;
mod sync;
mod topic;
mod wait;

pub use bus::{Bus, BusBuilder};
pub use catalog::CatalogEntry;
pub use clock::{Clock, ManualClock};
pub use error::{label_value_type, shown};
pub use error::{
    Error, ErrorDetails, ErrorKind, PublishError, PublishTimeoutError, ReceiveError,
    ReceiveTimeoutError, RecvError, RecvTimeoutError, SendError, SendTimeoutError, SettleError,
    TryReceiveError, TryRecvError, TrySendError, UnknownName,
};
pub use eventstore::{Aggregate, Aggregates, AppendError, EventStore, ExecuteError};
pub use group::{
    AssignmentChange, ChangeQueue, Group, GroupConfig, GroupPartitionSnapshot, GroupSnapshot,
    Member, MemberRecvFuture, MemberSnapshot, ShareGroup, ShareGroupConfig, ShareGroupSnapshot,
    ShareMember, SharePartitionSnapshot, ShareReceiveFuture,
};
pub use murmur2::{murmur2, partition_for_key};
pub use name::NamingRule;
pub use pattern::{PatternMember, PatternSubscription, TopicRecord};
pub use queue::{
    Delivery, Queue, QueueConfig, QueueFigures, ReceiveFuture, SendFuture, MAX_QUEUE_CAPACITY,
};
pub use record::{Headers, Key, Message, Receipt, Record, MAX_WASM_RECORDS};
pub use schema::SchemaError;
pub use snapshot::Snapshot;
pub use streams::{OnError, Stream, StreamError, Table, Topology};
pub use topic::BATCH;
pub use topic::{
    Iter, OnFull, OnLag, PublishFuture, Reader, RecvFuture, Start, Subscription, Topic,
    TopicConfig, TopicMetadata,
};
pub use topic::{MAX_CAPACITY, MAX_PARTITIONS};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
