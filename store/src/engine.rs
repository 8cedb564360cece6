//! The engine's [`Storage`] on a store directory: a topic's description in its
//! `meta.json`, a [`PartitionLog`] per partition.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ringlet::storage::{Durability, Storage, StoredRecord, StoredTopic, TopicLogs};
use ringlet::{Error, Headers, Key};

use crate::writer::{GroupSync, Slot, Writer};
use crate::{Dir, LogOptions, PartitionLog, StoreError};

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt {
                file,
                position,
                reason,
            } => Error::Corrupt {
                file: file.display().to_string(),
                position,
                reason,
            },
            StoreError::Locked { path } => Error::Locked {
                path: path.display().to_string(),
            },
            StoreError::Io { op, path, source } => Error::Io {
                path: path.display().to_string(),
                reason: format!("could not {op} it: {source}"),
            },
            e @ (StoreError::OutOfOrder { .. } | StoreError::Poisoned { .. }) => Error::Io {
                path: String::new(),
                reason: e.to_string(),
            },
        }
    }
}

/// Segment size of a durable queue's log.
const QUEUE_SEGMENT_BYTES: u64 = 4 << 20;

impl Storage for Dir {
    fn open_topic(
        &self,
        name: &str,
        description: &StoredTopic,
    ) -> Result<Box<dyn TopicLogs>, Error> {
        if !self.is_locked() {
            return Err(Error::Closed);
        }
        match self.describe(name)? {
            Some(stored) => {
                if stored != *description {
                    return Err(Error::ConfigError {
                        name: name.to_owned(),
                        reason: format!(
                            "it is stored with {}; asked for {} (open it as it is stored, or remove its folder {} to start again)",
                            describe(&stored),
                            describe(description),
                            self.path().join(name).display()
                        ),
                    });
                }
            }
            None => {
                let json = serde_json::to_vec(description).map_err(|e| Error::Io {
                    path: name.to_owned(),
                    reason: e.to_string(),
                })?;
                self.write_meta(name, &json)?;
            }
        }
        let mut slots = Vec::new();
        let mut recovered = Vec::new();
        // A queue's log churns (most of it is soon acked): smaller segments let
        // retention delete what is settled sooner.
        let options = if description.queue {
            LogOptions {
                segment_bytes: QUEUE_SEGMENT_BYTES,
                ..LogOptions::default()
            }
        } else {
            LogOptions::default()
        };
        for p in 0..description.partitions {
            let (log, recovery) = self.log(name, p, &options)?;
            recovered.extend(cuts(&recovery));
            slots.push(Mutex::new(Slot::new(log)));
        }
        let (log, recovery) = self.commit_log(name, &commit_log_options())?;
        recovered.extend(cuts(&recovery));
        let commits = Commits::load(log)?;
        let syncs = (0..description.partitions)
            .map(|_| GroupSync::default())
            .collect();
        Ok(Box::new(DirTopic {
            slots: slots.into(),
            syncs,
            writer: Arc::default(),
            commits: Mutex::new(commits),
            commits_sync: GroupSync::default(),
            recovered,
        }))
    }

    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        let Some(bytes) = self.read_meta(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt {
                file: self
                    .path()
                    .join(name)
                    .join("meta.json")
                    .display()
                    .to_string(),
                position: 0,
                reason: format!("not a topic description: {e}"),
            })
    }

    fn close(&self) -> Result<(), Error> {
        Ok(self.unlock()?)
    }
}

fn cuts(recovery: &crate::Recovery) -> impl Iterator<Item = String> + '_ {
    recovery.truncations.iter().map(|t| {
        format!(
            "{}: cut at byte {} ({} bytes dropped): {}",
            t.file.display(),
            t.position,
            t.bytes,
            t.reason
        )
    })
}

/// A commits log's segments are small: it is rewritten (a snapshot of every
/// group) every [`SNAPSHOT_EVERY`] commits, and older segments then go.
fn commit_log_options() -> LogOptions {
    LogOptions {
        segment_bytes: 1 << 20,
        ..LogOptions::default()
    }
}

/// Commits between two snapshots of a commits log.
const SNAPSHOT_EVERY: u64 = 4096;

/// A topic's consumer-group commits: a log of records keyed by group name whose
/// values are `u32` count, then (`u32` partition, `u64` offset) pairs, all
/// little-endian; the latest offset of each group and partition wins. Records
/// with a [`STATE`] header are states: the latest value of each key wins.
#[derive(Debug)]
struct Commits {
    log: PartitionLog,
    latest: BTreeMap<String, BTreeMap<u32, u64>>,
    states: BTreeMap<String, Vec<u8>>,
    since_snapshot: u64,
}

/// The header that marks a state record in a commits log.
const STATE: &str = "ringlet.state";

fn state_record(offset: u64, key: &str, value: &[u8]) -> StoredRecord {
    StoredRecord {
        key: Some(Key::from(key)),
        headers: Headers::new().with(STATE, Vec::new()),
        ..StoredRecord::new(offset, 0, value.to_vec())
    }
}

impl Commits {
    fn load(log: PartitionLog) -> Result<Self, Error> {
        let mut latest: BTreeMap<String, BTreeMap<u32, u64>> = BTreeMap::new();
        let mut states = BTreeMap::new();
        let mut bad = None;
        let mut count = 0;
        log.read(log.first_offset(), &mut |r: StoredRecord| {
            count += 1;
            if r.headers.get(STATE).is_some() {
                let Some(key) = r.key.as_ref().and_then(Key::as_str) else {
                    bad = Some(r.offset);
                    return false;
                };
                states.insert(key.to_owned(), r.value);
                return true;
            }
            match (r.key.as_ref().and_then(Key::as_str), decode(&r.value)) {
                (Some(group), Some(pairs)) => {
                    latest.entry(group.to_owned()).or_default().extend(pairs);
                    true
                }
                _ => {
                    bad = Some(r.offset);
                    false
                }
            }
        })?;
        if let Some(offset) = bad {
            return Err(Error::Corrupt {
                file: log.dir().display().to_string(),
                position: offset,
                reason: "a commit record without a group name or with a cut list of offsets".into(),
            });
        }
        Ok(Commits {
            log,
            latest,
            states,
            since_snapshot: count,
        })
    }

    /// Writes the state (the caller syncs it if it is to be synced).
    fn store_state(&mut self, key: &str, value: &[u8]) -> Result<(), Error> {
        let record = state_record(self.log.next_offset(), key, value);
        self.log.append(&[record], false)?;
        self.states.insert(key.to_owned(), value.to_vec());
        self.written();
        Ok(())
    }

    /// Counts a write; snapshots once there were enough.
    fn written(&mut self) {
        self.since_snapshot += 1;
        if self.since_snapshot >= SNAPSHOT_EVERY {
            // What was written is stored: a snapshot that fails is tried again later.
            let _ = self.snapshot();
        }
    }

    /// Writes the commit (the caller syncs it if it is to be synced).
    fn commit(&mut self, group: &str, offsets: &[(u32, u64)]) -> Result<(), Error> {
        let record = StoredRecord {
            key: Some(Key::from(group)),
            ..StoredRecord::new(self.log.next_offset(), 0, encode(offsets.iter().copied()))
        };
        self.log.append(&[record], false)?;
        self.latest
            .entry(group.to_owned())
            .or_default()
            .extend(offsets.iter().copied());
        self.written();
        Ok(())
    }

    /// Appends every group's latest offsets and every state as one frame and
    /// lets what is older go.
    fn snapshot(&mut self) -> Result<(), Error> {
        let first = self.log.next_offset();
        let mut records: Vec<StoredRecord> = self
            .latest
            .iter()
            .enumerate()
            .map(|(i, (group, offsets))| StoredRecord {
                key: Some(Key::from(group.as_str())),
                ..StoredRecord::new(
                    first + i as u64,
                    0,
                    encode(offsets.iter().map(|(p, o)| (*p, *o))),
                )
            })
            .collect();
        for (key, value) in &self.states {
            records.push(state_record(first + records.len() as u64, key, value));
        }
        if !records.is_empty() {
            // Synced before what it replaces goes, in every mode.
            self.log.append(&records, true)?;
            self.log.retain_from(first)?;
        }
        self.since_snapshot = records.len() as u64;
        Ok(())
    }
}

fn encode(offsets: impl ExactSizeIterator<Item = (u32, u64)>) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + offsets.len() * 12);
    v.extend_from_slice(&(offsets.len() as u32).to_le_bytes());
    for (p, o) in offsets {
        v.extend_from_slice(&p.to_le_bytes());
        v.extend_from_slice(&o.to_le_bytes());
    }
    v
}

fn decode(b: &[u8]) -> Option<Vec<(u32, u64)>> {
    let n = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let body = b.get(4..)?;
    if body.len() != n.checked_mul(12)? {
        return None;
    }
    Some(
        body.chunks_exact(12)
            .map(|c| {
                let (p, o) = c.split_at(4);
                (
                    u32::from_le_bytes(p.try_into().expect("4 bytes")),
                    u64::from_le_bytes(o.try_into().expect("8 bytes")),
                )
            })
            .collect(),
    )
}

fn describe(t: &StoredTopic) -> String {
    if t.queue {
        return format!("a queue, values {} (codec {})", t.value_type, t.codec);
    }
    format!(
        "a topic of {} partition{}, values {} (codec {}){}",
        t.partitions,
        if t.partitions == 1 { "" } else { "s" },
        t.value_type,
        t.codec,
        if t.compacted { ", compacted" } else { "" }
    )
}

/// A topic's partition logs in a store directory.
///
/// `Synced` appends and commits are written under the log's lock and synced
/// after it, by [`GroupSync`]: concurrent callers share an `fdatasync`.
/// `Buffered` appends go to the partition's buffer, written by the topic's
/// [`Writer`] within [`BUFFER_DELAY`](crate::writer::BUFFER_DELAY); reads,
/// syncs, other appends and dropping the logs write the buffer first.
#[derive(Debug)]
struct DirTopic {
    slots: Arc<[Mutex<Slot>]>,
    syncs: Vec<GroupSync>,
    writer: Arc<Writer>,
    commits: Mutex<Commits>,
    commits_sync: GroupSync,
    recovered: Vec<String>,
}

impl DirTopic {
    fn slot(&self, p: u32) -> std::sync::MutexGuard<'_, Slot> {
        // A panic while holding a log cannot leave it half-written (appends undo
        // failed writes): go on with it.
        self.slots[p as usize]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn commits(&self) -> std::sync::MutexGuard<'_, Commits> {
        self.commits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes a buffered topic's waiting records. Commits and states are
    /// written at once in every mode, after those: they never point past what
    /// the log holds.
    fn flush_all(&self) -> Result<(), Error> {
        for p in 0..self.slots.len() as u32 {
            self.slot(p).flush()?;
        }
        Ok(())
    }

    /// Returns once the commits log is synced through `through`, for a
    /// `Synced` write (at once otherwise).
    fn sync_commits(&self, through: u64, durability: Durability) -> Result<(), Error> {
        if durability != Durability::Synced {
            return Ok(());
        }
        self.commits_sync.wait(
            through,
            || self.commits().log.sync_point(),
            || self.commits().log.poison(),
        )
    }
}

impl Drop for DirTopic {
    fn drop(&mut self) {
        self.writer.stop();
        for p in 0..self.slots.len() as u32 {
            let _ = self.slot(p).flush();
        }
    }
}

impl TopicLogs for DirTopic {
    fn first_offset(&self, partition: u32) -> u64 {
        self.slot(partition).log.first_offset()
    }

    fn next_offset(&self, partition: u32) -> u64 {
        self.slot(partition).next_offset()
    }

    fn read(
        &self,
        partition: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error> {
        let mut slot = self.slot(partition);
        slot.flush()?;
        Ok(slot.log.read(from, f)?)
    }

    fn append(
        &self,
        partition: u32,
        records: &[StoredRecord],
        durability: Durability,
    ) -> Result<(), Error> {
        match durability {
            Durability::Written => self.slot(partition).append(records, false),
            Durability::Synced => {
                let through = {
                    let mut slot = self.slot(partition);
                    slot.append(records, false)?;
                    slot.log.next_offset()
                };
                self.sync_through(partition, through)
            }
            Durability::Buffered => {
                if self.slot(partition).buffer(records)? {
                    self.writer.wake(&self.slots)?;
                }
                Ok(())
            }
        }
    }

    fn sync_through(&self, partition: u32, offset: u64) -> Result<(), Error> {
        self.syncs[partition as usize].wait(
            offset,
            || self.slot(partition).log.sync_point(),
            || self.slot(partition).log.poison(),
        )
    }

    fn retain_from(&self, partition: u32, offset: u64) -> Result<(), Error> {
        self.slot(partition).log.retain_from(offset)?;
        Ok(())
    }

    fn rewrite(&self, partition: u32, records: &[StoredRecord]) -> Result<(), Error> {
        let mut slot = self.slot(partition);
        slot.flush()?;
        let dir = slot.log.dir().to_owned();
        let opts = slot.log.options().clone();
        match crate::log::rewrite(&dir, records, &opts) {
            Ok(log) => {
                slot.log = log;
                Ok(())
            }
            Err(e) => {
                // Moved away and not replaced: appends through the old files
                // would be lost at the next open (which finishes the rewrite).
                if !dir.exists() {
                    slot.log.poison();
                }
                Err(e.into())
            }
        }
    }

    fn committed(&self, group: &str) -> Vec<(u32, u64)> {
        self.commits()
            .latest
            .get(group)
            .map(|m| m.iter().map(|(p, o)| (*p, *o)).collect())
            .unwrap_or_default()
    }

    fn commit(
        &self,
        group: &str,
        offsets: &[(u32, u64)],
        durability: Durability,
    ) -> Result<(), Error> {
        self.flush_all()?;
        let through = {
            let mut commits = self.commits();
            commits.commit(group, offsets)?;
            commits.log.next_offset()
        };
        self.sync_commits(through, durability)
    }

    fn state(&self, key: &str) -> Option<Vec<u8>> {
        self.commits().states.get(key).cloned()
    }

    fn store_state(&self, key: &str, value: &[u8], durability: Durability) -> Result<(), Error> {
        self.flush_all()?;
        let through = {
            let mut commits = self.commits();
            commits.store_state(key, value)?;
            commits.log.next_offset()
        };
        self.sync_commits(through, durability)
    }

    fn sync(&self) -> Result<(), Error> {
        let mut first = Ok(());
        for p in 0..self.slots.len() as u32 {
            let mut slot = self.slot(p);
            if let Err(e) = slot.flush().and_then(|()| Ok(slot.log.sync()?)) {
                first = first.and(Err(e));
            }
        }
        if let Err(e) = self.commits().log.sync() {
            first = first.and(Err(e.into()));
        }
        first
    }

    fn recovered(&self) -> Vec<String> {
        self.recovered.clone()
    }
}
