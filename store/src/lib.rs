//! # ringlet-store: the files behind Ringlet's durable topics and queues
//!
//! ```
//! use ringlet::storage::Durability;
//! use ringlet::{Bus, Start, TopicConfig};
//! # #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! # struct Order { id: u32 }
//! # let data = std::env::temp_dir().join(format!("ringlet-store-readme-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&data);
//! # fn main_() -> Result<(), Box<dyn std::error::Error>> { let data = std::env::temp_dir().join(format!("ringlet-store-readme-{}", std::process::id()));
//! {
//!     let bus = Bus::builder().storage(ringlet_store::Dir::open(&data)?).build();
//!     let orders = bus.durable_topic::<Order>("orders", TopicConfig::default()
//!         .partitions(3).capacity(100_000).durability(Durability::Written))?;
//!     orders.publish(Order { id: 1 })?;
//!     bus.sync()?;
//! } // the process ends (or is killed); the next one opens the same directory:
//! let bus = Bus::builder().storage(ringlet_store::Dir::open(&data)?).build();
//! let orders = bus.durable_topic::<Order>("orders", TopicConfig::default()
//!     .partitions(3).capacity(100_000).durability(Durability::Written))?;
//! let mut replay = orders.subscribe(Start::Earliest)?;
//! assert_eq!(replay.recv()?.value, Order { id: 1 });
//! # Ok(()) }
//! # main_().unwrap();
//! # std::fs::remove_dir_all(&data).unwrap();
//! ```
//!
//! A store is a directory ([`Dir`]) locked by one process at a time, with a folder
//! per topic or queue (its description in `meta.json`) and in it a folder per
//! partition: that partition's [`PartitionLog`], a sequence of append-only segment
//! files. The core engine does no I/O; this crate holds it.
//!
//! ```text
//! data/
//!   LOCK                              flock'ed while a store has the directory open
//!   orders/
//!     meta.json                       the topic's description (written atomically)
//!     0/
//!       00000000000000000000.log      segment: records from offset 0
//!       00000000000000052311.log      the next segment, from offset 52311 (active)
//!     1/ …
//!     commits/                        the consumer groups' committed offsets (a log)
//! ```
//!
//! ## Segment format (version 1)
//!
//! A segment file is named by the offset of its first record, 20 decimal digits.
//! All integers are little-endian.
//!
//! ```text
//! header   8 bytes  "RINGLSEG"
//!          u32      format version (1)
//! frames   …        one per append, back to back, to the end of the file
//!
//! frame    u32      length of what follows this field (checksum + body)
//!          u32      CRC-32C (Castagnoli) of the body
//!          body:
//!          u32      record count
//!          records, each:
//!            u64    offset (greater than every offset before it in the log)
//!            i64    timestamp, ms since the Unix epoch
//!            u8     key kind: 0 none, 1 text (UTF-8), 2 bytes
//!            [u32 length, bytes]          the key, unless kind 0
//!            u32    header count, then per header:
//!              [u32 length, UTF-8 bytes]  name
//!              [u32 length, bytes]        value
//!            [u32 length, bytes]          the value, as the topic's codec made it
//! ```
//!
//! One append is one frame written with one `write`, so a batch is all or nothing
//! on disk: a crash can leave only the last frame short. Offsets may have gaps
//! (a compacted topic's), never repeat or go back. A new segment starts when the
//! active one has reached [`LogOptions::segment_bytes`]; retention deletes whole
//! segments whose records are all older than the oldest one kept
//! ([`PartitionLog::retain_from`]).
//!
//! ## Opening and damage
//!
//! Opening reads every frame and checks its checksum and structure (the engine
//! reads the retained records back anyway), and keeps a sparse in-memory index
//! (a frame position every [`LogOptions::index_bytes`]) for reading from an
//! offset. What it finds:
//!
//! - **A torn tail** — the last segment ends inside a frame, or its last frames
//!   fail their checksum with nothing good after them (a crash during a write;
//!   garbage appended after the last frame) — is cut off, and reported in the
//!   [`Recovery`]: the records before it are all there.
//! - **Damage before the tail** — a bad frame followed by good ones, or a bad
//!   frame in a segment that is not the last, a foreign header, offsets out of
//!   order — is [`StoreError::Corrupt`] naming the file and byte position, unless
//!   the log is opened with [`LogOptions::repair`] (or the directory with
//!   [`OpenOptions::repair`]), which cuts the log there and removes the later
//!   segments, reporting what was dropped.
//!
//! A write that fails (disk full, permission denied) is undone — the segment is
//! cut back to where it was — and returned as [`StoreError::Io`], so nothing of a
//! failed append is ever read back. If even the undo fails, the log refuses
//! appends ([`StoreError::Poisoned`]) until it is opened again.
//!
//! ## Committed offsets
//!
//! A durable topic's `commits/` folder is a log of the same format whose records
//! are keyed by consumer group name (a text key); a record's value is a `u32`
//! count, then that many (`u32` partition, `u64` next offset to read) pairs,
//! little-endian. Read in order, the latest offset of each group and partition
//! wins. Every 4096 commits the latest offsets of every group are appended as one
//! frame and the segments before it are deleted (its segments are 1 MiB), so the
//! log stays a few MiB however often groups commit. A commit is written with the
//! topic's durability before the group's committed offsets change.
//!
//! A record of the commits log with a `ringlet.state` header (its value empty)
//! is a state: its text key names it, its value is the engine's (a share
//! group's state of one partition), and the latest record of a key wins.
//! Snapshots write every state too.
//!
//! ## Durable queues
//!
//! A durable queue is a folder like a topic's, described with `"queue": true`,
//! with one log (`0/`) of lifecycle records — sent, delivered, delayed,
//! removed — whose format the engine defines (see `ringlet::storage`). Its
//! segments are 4 MiB, so that retention deletes what was settled soon after.
//!
//! ```
//! use ringlet::{Bus, QueueConfig};
//! # let data = std::env::temp_dir().join(format!("ringlet-store-queue-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&data);
//! {
//!     let bus = Bus::builder().storage(ringlet_store::Dir::open(&data)?).build();
//!     let jobs = bus.durable_queue::<String>("jobs", QueueConfig::default().max_deliveries(5))?;
//!     jobs.send_batch(["resize photo 1".to_string(), "resize photo 2".to_string()]).unwrap();
//!     jobs.receive().unwrap().ack().unwrap();       // stored before it returns
//!     std::mem::forget(jobs.receive().unwrap());    // in flight when the process dies
//! }
//! let bus = Bus::builder().storage(ringlet_store::Dir::open(&data)?).build();
//! let jobs = bus.durable_queue::<String>("jobs", QueueConfig::default().max_deliveries(5))?;
//! let d = jobs.receive().unwrap();
//! assert_eq!((d.value().as_str(), d.attempt()), ("resize photo 2", 2));
//! # d.ack().unwrap(); drop((jobs, bus)); std::fs::remove_dir_all(&data)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What survives what
//!
//! [`PartitionLog::append`] returns after the frame was handed to the operating
//! system (`write`): it survives the process being killed (`kill -9`), not a power
//! cut. With `sync`, it returns after `fdatasync` of the segment, and a new
//! segment's directory entry is synced when it is created: it survives a power cut.
//! [`PartitionLog::sync`] (what `bus.sync()` calls) syncs the active segment and,
//! when a segment was created since, the directory; a segment left behind with
//! unsynced frames is synced when the next one starts, so syncing the active
//! segment covers everything. [`PartitionLog::sync_point`] hands that work out to
//! be done without holding the log (a sync that fails poisons the log: what
//! reached the disk is then unknown).

mod dir;
mod engine;
mod error;
mod frame;
mod log;
mod writer;

pub use dir::{Dir, OpenOptions};
pub use error::StoreError;
pub use log::{LogOptions, PartitionLog, Recovery, SyncPoint, Truncation};

pub use ringlet::storage::StoredRecord;

#[cfg(test)]
mod tests;
