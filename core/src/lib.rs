//! # Ringlet
//!
//! An in-process event bus with Kafka's ideas — replayable, retained **topics** with
//! partitions and offsets — held in memory in bounded rings, on a lock-free core.
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
//! Everything time-based in the semantics (timestamps, `max_age`) reads the bus
//! [`Clock`]: the system clock by default — whose timestamps have the kernel tick's
//! resolution on Linux (1–4 ms; see [`Clock::resolution_ms`]), a deliberate trade for
//! a clock read that costs a few nanoseconds — or a [`ManualClock`] moved by hand.
//! Call timeouts (`recv_timeout`, `publish_timeout`) are real elapsed time. Nothing
//! polls: waiting threads park and are unparked by the publish (or the room) they
//! wait for, async tasks register wakers, and bus-clock deadlines wake them through
//! one timer thread per bus (system clock) or [`ManualClock::advance`].
//!
//! ## Errors
//!
//! Operations return small enums that hand back what was not sent
//! ([`PublishError::Full`]`(value)`), and registry or configuration failures return
//! [`Error`]. Nothing panics on bad input.
//!
//! ## The lock-free core
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

#![deny(missing_docs, missing_debug_implementations)]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::unnecessary_safety_comment)]

mod bus;
mod clock;
mod error;
mod murmur2;
mod name;
pub mod queue;
mod record;
mod sync;
mod topic;
mod wait;

pub use bus::{Bus, BusBuilder};
pub use clock::{Clock, ManualClock};
pub use error::{
    Error, PublishError, PublishTimeoutError, ReceiveError, ReceiveTimeoutError, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, SettleError, TryReceiveError, TryRecvError,
    TrySendError,
};
pub use murmur2::{murmur2, partition_for_key};
pub use queue::{
    Delivery, Queue, QueueConfig, QueueFigures, ReceiveFuture, SendFuture, MAX_QUEUE_CAPACITY,
};
pub use record::{Headers, Key, Message, Receipt, Record};
pub use topic::BATCH;
pub use topic::{
    Iter, OnFull, OnLag, PublishFuture, RecvFuture, Start, Subscription, Topic, TopicConfig,
};
pub use topic::{MAX_CAPACITY, MAX_PARTITIONS};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
