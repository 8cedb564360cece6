//! Durable topics: the storage interface the engine writes through and reads
//! back from, and the codecs that turn values into bytes. The core does no I/O:
//! the `ringlet-store` crate implements [`Storage`] on files.
//!
//! # What a durable topic promises
//!
//! A durable topic (`Bus::durable_topic`, on a bus built with
//! [`BusBuilder::storage`](crate::BusBuilder::storage)) has the semantics of an
//! in-memory one, plus: every record a publish confirmed is in its partition's log
//! before the publish returns, at its offset, in offset order (one partition's
//! publishes take a lock while they write, so the log's order is the offsets');
//! after a restart the newest `capacity` records of each partition are readable
//! again at the same offsets, subscriptions from the earliest offset replay them,
//! and new records continue the offsets (never reused).
//!
//! How far a confirmed record is on its way to disk is the topic's
//! [`Durability`]: `Written` (the default) returns once the bytes were handed to
//! the operating system, which survives the process being killed; `Synced` returns
//! after `fdatasync`, which survives a power cut; `Buffered` returns at once and a
//! background writer hands the records to the operating system within a few
//! milliseconds (`ringlet-store`: 5 ms, or at once when a partition has 1 MiB
//! waiting), so a crash loses at most that last window — what was published
//! before a `Bus::sync` that returned, and what a consumer group committed, is
//! never lost (a commit writes the topic's waiting records first). Concurrent
//! `Synced` publishes to a partition share an `fdatasync` (a group commit): each
//! writes its record under the partition's lock and waits for the sync after it,
//! so a subscriber may read a synced record a moment before its publish returns
//! (as a Kafka consumer reads what the leader wrote before it is flushed). Batch
//! calls write (and sync) once per batch. A publish the storage refuses
//! fails with [`PublishError::Storage`](crate::PublishError::Storage) and publishes
//! nothing — except when a `Synced` publish's `fdatasync` fails: the record was
//! written and may have been read, the error hands back a copy of the value,
//! and the log takes no more records until the bus is opened again (what
//! reached the disk is unknown). A publish that a concurrent `close` refuses after its record was
//! written reports `Closed`; the record is in the log (at its offset) and is read
//! after a restart, as a Kafka producer's failed send may still have been written.
//!
//! The offsets consumer groups commit on a durable topic are stored with it
//! (before the commit returns, with the topic's durability): after a restart a
//! group's members resume from its committed offsets (at-least-once across
//! restarts: what was read but not committed is handed out again).
//!
//! A durable topic's data-product metadata — owner, description, tags and
//! JSON Schema — is stored with its commits (written when it changes, at least
//! handed to the operating system): opened again after a restart, the topic
//! starts from what it stored, and what the open gives is taken in as when a
//! topic is opened again in one process (unset keeps, set must agree or fills
//! in, a schema evolves only by the evolution rule); its schema is checked
//! from the first publish after the restart.
//!
//! An event store over a durable topic ([`Bus::durable_event_store`](crate::Bus::durable_event_store))
//! keeps its events the same way; reopened, it indexes them again, so every
//! aggregate is rebuilt and versions continue.
//!
//! A durable queue ([`Bus::durable_queue`](crate::Bus::durable_queue)) writes
//! each send, delivery, ack, delay and dead letter to its own log (described
//! as a queue, `queue: true`) before the call returns; reopened, its ready,
//! delayed and in-flight messages come back, in-flight ones with that delivery
//! counted as an attempt. The log's records: `crate::queue::durable`.
//!
//! A durable compacted topic ([`Bus::durable_compacted_topic`](crate::Bus::durable_compacted_topic))
//! writes every record to its log and reads the latest per key back at open;
//! its log is rewritten with the live records once more than half of it (and
//! at least 4096 records) was replaced, through [`TopicLogs::rewrite`].
//!
//! A share group of a durable topic stores its state with the consumer-group
//! commits ([`TopicLogs::store_state`]; see [`ShareGroup`](crate::ShareGroup)):
//! what it settled is never delivered again after a restart, and deliveries in
//! flight when the process died count as attempts.
//!
//! A topology's tables keep durable changelogs once
//! [`Topology::durable_changelogs`](crate::Topology::durable_changelogs) names
//! their value type: rebuilt after a restart, the topology restores them and
//! resumes from its committed offsets, finishing a step a crash cut (each
//! record counted once)
//! ([`Topology::durable_changelogs_with`](crate::Topology::durable_changelogs_with)
//! takes a codec: Python's `bus.topology(name, durable=True)` passes its own).
//!
//! Hosts open durable topics and
//! queues by options ([`Bus::open_topic_with_codecs`](crate::Bus::open_topic_with_codecs),
//! [`Bus::open_queue_with_codecs`](crate::Bus::open_queue_with_codecs)); the
//! browser and Node builds have no storage and keep everything in memory.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::record::{Headers, Key};
use crate::Error;

/// How far a publish's record is on its way to disk when the publish returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Queued for a background writer, which writes within a few milliseconds
    /// (a crash loses at most that window; see the module docs).
    Buffered,
    /// Handed to the operating system (`write`): survives `kill -9`, not a power cut.
    #[default]
    Written,
    /// On the disk (`fdatasync`): survives a power cut.
    Synced,
}

crate::error::named_values!(Durability, "durability", {
    Buffered => "buffered",
    Written => "written",
    Synced => "synced",
});

/// A record as a log stores it: the value encoded by the topic's codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Its offset in the partition.
    pub offset: u64,
    /// Its timestamp, ms since the Unix epoch.
    pub timestamp: i64,
    /// Its key.
    pub key: Option<Key>,
    /// Its headers.
    pub headers: Headers,
    /// The encoded value.
    pub value: Vec<u8>,
}

impl StoredRecord {
    /// A record with no key and no headers.
    pub fn new(offset: u64, timestamp: i64, value: Vec<u8>) -> Self {
        StoredRecord {
            offset,
            timestamp,
            key: None,
            headers: Headers::default(),
            value,
        }
    }
}

/// What a durable topic was created with, stored beside its logs and checked at
/// every later open: a config that contradicts it is a `ConfigError` saying what
/// is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTopic {
    /// Partitions.
    pub partitions: u32,
    /// The value type's name (`std::any::type_name`).
    pub value_type: String,
    /// The codec's name.
    pub codec: String,
    /// Whether the topic is compacted.
    pub compacted: bool,
    /// Whether it is a durable queue's log (see [`crate::queue`]'s durability)
    /// rather than a topic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub queue: bool,
}

/// Where durable topics keep their records: one log per partition of each topic.
/// `ringlet_store::Dir` implements it on files.
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Opens (creating it if new) topic `name`'s logs, checking `description`
    /// against what is stored.
    ///
    /// # Errors
    ///
    /// `ConfigError` when the stored description differs; `Corrupt`; `Io`.
    fn open_topic(
        &self,
        name: &str,
        description: &StoredTopic,
    ) -> Result<Box<dyn TopicLogs>, Error>;

    /// What is stored for topic `name`, if anything (bindings use it so that
    /// options left out accept what is stored, as they accept what exists).
    ///
    /// # Errors
    ///
    /// `Corrupt` (an unreadable description), `Io`.
    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error>;

    /// Lets the storage go when its bus is closed (a store directory is unlocked,
    /// so another bus or process can open it); later opens fail with `Closed`.
    /// Logs already open stay readable; their topics are closed, so nothing more
    /// is appended through them.
    ///
    /// # Errors
    ///
    /// `Io`.
    fn close(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// One topic's partition logs.
pub trait TopicLogs: Send + Sync + fmt::Debug {
    /// The oldest offset kept in `partition`.
    fn first_offset(&self, partition: u32) -> u64;
    /// One past the newest offset of `partition` (where its offsets continue).
    fn next_offset(&self, partition: u32) -> u64;
    /// Calls `f` with each record of `partition` from offset `from` on, in order,
    /// until it returns false.
    ///
    /// # Errors
    ///
    /// `Io`, `Corrupt`.
    fn read(
        &self,
        partition: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error>;
    /// Appends `records` (offsets increasing) to `partition` as one write, as
    /// far towards the disk as `durability` says before it returns: `Written`,
    /// handed to the operating system; `Synced`, on the disk (as `Written`
    /// then [`TopicLogs::sync_through`]); `Buffered`, queued for a background
    /// writer.
    ///
    /// # Errors
    ///
    /// `Io`: nothing of the records is kept — except when a `Synced` append's
    /// sync fails: they were written, and what reached the disk is unknown.
    fn append(
        &self,
        partition: u32,
        records: &[StoredRecord],
        durability: Durability,
    ) -> Result<(), Error>;
    /// Returns once `partition`'s records before `offset` are on disk. A caller
    /// that holds a lock of its own while it appends (to keep the log in its
    /// order) appends `Synced` records as `Written` and calls this after
    /// letting go of its lock, so that concurrent callers share one
    /// `fdatasync` (a group commit). By default, [`TopicLogs::sync`].
    ///
    /// # Errors
    ///
    /// `Io`: what reached the disk is unknown; the logs may refuse appends
    /// until they are opened again.
    fn sync_through(&self, partition: u32, offset: u64) -> Result<(), Error> {
        let _ = (partition, offset);
        self.sync()
    }
    /// Replaces `partition`'s log with `records` (offsets increasing, the last
    /// one the log's newest): a compacted topic's log, once most of it was
    /// replaced by newer records of the same keys. A crash during the rewrite
    /// leaves the old log or the new one, never a mix. By default nothing is
    /// rewritten (the log keeps every record; reading it back gives the same
    /// topic).
    ///
    /// # Errors
    ///
    /// `Io`: the old log is kept.
    fn rewrite(&self, partition: u32, records: &[StoredRecord]) -> Result<(), Error> {
        let _ = (partition, records);
        Ok(())
    }
    /// Lets `partition` drop what is older than `offset` (retention moved on).
    ///
    /// # Errors
    ///
    /// `Io`.
    fn retain_from(&self, partition: u32, offset: u64) -> Result<(), Error>;
    /// The offsets consumer group `group` committed, per partition (the next
    /// offset to read), as stored: empty for a group that never committed.
    fn committed(&self, group: &str) -> Vec<(u32, u64)>;
    /// Stores consumer group `group`'s commit of `offsets`, as one write.
    ///
    /// # Errors
    ///
    /// `Io`: the commit is not stored.
    fn commit(
        &self,
        group: &str,
        offsets: &[(u32, u64)],
        durability: Durability,
    ) -> Result<(), Error>;
    /// The value stored under `key` by [`TopicLogs::store_state`], if any.
    fn state(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores `value` under `key` with the commits, as one write (the latest
    /// value of a key wins): what the topic's readers keep besides committed
    /// offsets — a share group's state of each partition (see
    /// [`ShareGroup`](crate::ShareGroup)).
    ///
    /// # Errors
    ///
    /// `Io`: the value is not stored (the key keeps its previous value).
    fn store_state(&self, key: &str, value: &[u8], durability: Durability) -> Result<(), Error>;
    /// Forces everything appended (and committed) so far to disk.
    ///
    /// # Errors
    ///
    /// `Io`.
    fn sync(&self) -> Result<(), Error>;
    /// What opening the logs cut off (torn tails), as sentences.
    fn recovered(&self) -> Vec<String>;
}

/// Turns a durable topic's values into bytes and back.
pub trait Codec<T>: Send + Sync + 'static {
    /// The codec's name, stored with the topic (a topic is reopened with the codec
    /// it was created with).
    fn name(&self) -> &str;
    /// The value type's name, stored with the topic and checked when it is opened
    /// again: by default `std::any::type_name::<T>()`. Override it with a name of
    /// your own to keep it stable when the type moves or is renamed (or across
    /// compiler versions, which may spell type names differently).
    fn value_type(&self) -> String {
        std::any::type_name::<T>().to_owned()
    }
    /// The bytes of `value`.
    ///
    /// # Errors
    ///
    /// Why the value cannot be encoded.
    fn encode(&self, value: &T) -> Result<Vec<u8>, String>;
    /// The value of `bytes`. Called while a durable topic is opened, for each
    /// record read back, outside the bus's locks except the one that makes
    /// durable opens take turns: it may use the bus, but must not open a durable
    /// topic itself (that open would wait for this one).
    ///
    /// # Errors
    ///
    /// Why the bytes are not a value of this type (it changed since they were
    /// stored).
    fn decode(&self, bytes: &[u8]) -> Result<T, String>;
    /// [`Codec::decode`] of bytes it may keep (a topic opened again hands
    /// each stored value over): by default, `decode(&bytes)`.
    ///
    /// # Errors
    ///
    /// As [`Codec::decode`].
    fn decode_owned(&self, bytes: Vec<u8>) -> Result<T, String> {
        self.decode(&bytes)
    }
}

/// The default codec: [postcard](https://docs.rs/postcard), serde's compact binary
/// format with a stable wire format (specified since postcard 1.0): varint
/// integers, no field names, so a record of a small struct costs a few bytes more
/// than its fields. Fields are positional: adding, removing or reordering fields
/// of a stored type makes old records undecodable (a `TypeMismatch` naming the
/// offset) — evolve stored types by adding new variants or new topics, or use
/// a self-describing codec of your own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postcard;

impl<T: Serialize + DeserializeOwned + 'static> Codec<T> for Postcard {
    fn name(&self) -> &str {
        "postcard"
    }

    fn encode(&self, value: &T) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(value).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, String> {
        postcard::from_bytes(bytes).map_err(|e| e.to_string())
    }
}

/// JSON ([`serde_json`]): self-describing, so it stores values that postcard
/// cannot read back (`serde_json::Value`, types that deserialize with
/// `deserialize_any`), and fields may be added to a stored type (with
/// `#[serde(default)]`). [`Bus::durable_topic`](crate::Bus::durable_topic) uses
/// it for `serde_json::Value` values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl<T: Serialize + DeserializeOwned + 'static> Codec<T> for Json {
    fn name(&self) -> &str {
        "json"
    }

    fn encode(&self, value: &T) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// The codec [`Bus::durable_topic`](crate::Bus::durable_topic) stores `T` with:
/// [`Json`] for `serde_json::Value`, which postcard cannot decode, else
/// [`Postcard`].
pub(crate) fn default_codec<T: Serialize + DeserializeOwned + 'static>() -> Arc<dyn Codec<T>> {
    use std::any::TypeId;
    if TypeId::of::<T>() == TypeId::of::<serde_json::Value>() {
        Arc::new(Json)
    } else {
        Arc::new(Postcard)
    }
}

/// Bytes stored as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    fn name(&self) -> &str {
        "bytes"
    }

    fn encode(&self, value: &Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(value.clone())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        Ok(bytes.to_vec())
    }

    fn decode_owned(&self, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        Ok(bytes)
    }
}

/// A codec of `Option<T>` from one of `T`: `None` is one byte 0, `Some(v)` a
/// byte 1 then `v`'s bytes (the values of a table's changelog).
pub(crate) struct OptionCodec<T>(pub(crate) Arc<dyn Codec<T>>);

impl<T: 'static> Codec<Option<T>> for OptionCodec<T> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn value_type(&self) -> String {
        format!("option of {}", self.0.value_type())
    }

    fn encode(&self, value: &Option<T>) -> Result<Vec<u8>, String> {
        match value {
            None => Ok(vec![0]),
            Some(v) => {
                let mut b = vec![1];
                b.extend(self.0.encode(v)?);
                Ok(b)
            }
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<Option<T>, String> {
        match bytes.split_first() {
            Some((0, [])) => Ok(None),
            Some((1, rest)) => self.0.decode(rest).map(Some),
            _ => Err("not an option's bytes (a flag byte, 0 or 1, then the value)".into()),
        }
    }
}
