//! A durable topic's side of publishing and opening: records written to the
//! partition logs in offset order before they are published, and the newest
//! `capacity` records read back into the rings at open (see
//! [`crate::storage`]).

use std::sync::Arc;

use crate::record::{Headers, Key};
use crate::storage::{Codec, Durability, StoredRecord, TopicLogs};
use crate::sync::{AtomicU64, Mutex, Ordering};
use crate::Error;

use super::compact::Compacted;
use super::partition::{Entry, Partition};
use super::publish::Refused;
use super::ring::ClaimRefused;
use super::TopicInner;

/// Records a reopened partition puts into its ring with one claim.
const RESTORE_BATCH: usize = 256;

/// Retention is passed on to the logs every this many records per partition.
const RETAIN_EVERY: u64 = 1024;

pub(crate) struct Durable<T> {
    pub(crate) logs: Box<dyn TopicLogs>,
    pub(crate) codec: Arc<dyn Codec<T>>,
    pub(crate) durability: Durability,
    /// Per partition: held while a publish writes the log and claims the ring, so
    /// the log's order is the offsets' order (never while values are dropped).
    locks: Box<[Mutex<()>]>,
    /// Records appended per partition since retention was last passed on.
    since_retain: Box<[AtomicU64]>,
    /// Which values are tombstones (a compacted topic's deletions).
    pub(crate) is_tombstone: Option<fn(&T) -> bool>,
    /// Per compacted partition: records its log holds (live or replaced since).
    log_len: Box<[AtomicU64]>,
}

/// A compacted partition's log is rewritten with only its live records once it
/// holds more than twice as many records as are live, and at least this many.
const REWRITE_MIN: u64 = 4096;

impl<T> std::fmt::Debug for Durable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable")
            .field("logs", &self.logs)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Durable<T> {
    /// Whether a `Synced` topic's publishes sync after their claim (outside
    /// the partition's lock, so concurrent publishes share an `fdatasync`).
    pub(super) fn sync_after(&self) -> bool {
        self.durability == Durability::Synced
    }

    pub(crate) fn new(
        logs: Box<dyn TopicLogs>,
        codec: Arc<dyn Codec<T>>,
        durability: Durability,
        partitions: u32,
        is_tombstone: Option<fn(&T) -> bool>,
    ) -> Self {
        Durable {
            logs,
            codec,
            durability,
            locks: (0..partitions).map(|_| Mutex::new(())).collect(),
            since_retain: (0..partitions).map(|_| AtomicU64::new(0)).collect(),
            is_tombstone,
            log_len: (0..partitions).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Where partition `p`'s ring starts: its newest `cap` records.
    pub(crate) fn base(&self, p: u32, cap: u64) -> u64 {
        let first = self.logs.first_offset(p);
        first.max(self.logs.next_offset(p).saturating_sub(cap))
    }

    /// The stored form of an entry about to be published (its offset is set when
    /// it is claimed).
    pub(crate) fn stored(
        &self,
        name: &str,
        ts: i64,
        key: Option<&Key>,
        headers: &Headers,
        value: &T,
    ) -> Result<StoredRecord, Error> {
        let value = self
            .codec
            .encode(value)
            .map_err(|reason| Error::TypeMismatch {
                name: name.to_owned(),
                expected: format!("one it can ({reason})"),
                found: format!(
                    "given a value its {} codec cannot encode",
                    self.codec.name()
                ),
            })?;
        Ok(StoredRecord {
            offset: 0,
            timestamp: ts,
            key: key.cloned(),
            headers: headers.clone(),
            value,
        })
    }

    /// The stored forms of a batch about to be published, with one timestamp
    /// (the batch is one frame of the log).
    pub(crate) fn stored_batch<'a>(
        &self,
        name: &str,
        ts: i64,
        entries: impl Iterator<Item = (Option<&'a Key>, &'a Headers, &'a T)>,
    ) -> Result<Vec<StoredRecord>, Error>
    where
        T: 'a,
    {
        entries
            .map(|(key, headers, value)| self.stored(name, ts, key, headers, value))
            .collect()
    }
}

impl<T: Clone + Send + Sync + 'static> TopicInner<T> {
    /// Claims `k` offsets of partition `p` for `records` once they are in the
    /// log: admission and the log write under the partition's lock, the entries
    /// written after it. `Err(Closed)` with `failed` set when the log refused.
    /// With `defer_sync`, a `Synced` topic's records are only written here: the
    /// caller syncs them after the claim ([`Durable::sync_after`]).
    pub(super) fn claim_durable(
        &self,
        d: &Durable<T>,
        p: u32,
        records: &mut [StoredRecord],
        defer_sync: bool,
        failed: &mut Option<Error>,
        next: &mut dyn FnMut() -> (i64, Entry<T>),
    ) -> Result<u64, ClaimRefused> {
        let part = &self.parts[p as usize];
        let k = records.len() as u64;
        let first = {
            let _order = d.locks[p as usize].lock();
            let (n, closed) = part.end_and_closed();
            if closed {
                return Err(ClaimRefused::Closed);
            }
            if !self.admit(part, n, k) {
                return Err(ClaimRefused::Full);
            }
            for (i, r) in records.iter_mut().enumerate() {
                r.offset = n + i as u64;
            }
            let durability = match d.durability {
                Durability::Synced if defer_sync => Durability::Written,
                m => m,
            };
            if let Err(e) = d.logs.append(p, records, durability) {
                *failed = Some(e);
                return Err(ClaimRefused::Closed);
            }
            // Under the lock nobody else claims this partition, and room only
            // grows: the claim takes `n`, unless a close came in between (the
            // records are in the log, as a failed send may be in Kafka's).
            part.ring_claim(k)?
        };
        debug_assert_eq!(first, records[0].offset);
        // Writing may drop evicted values (user code): after the lock.
        part.ring_write(first, k, next);
        let since = d.since_retain[p as usize].fetch_add(k, Ordering::Relaxed) + k;
        if since >= RETAIN_EVERY {
            d.since_retain[p as usize].store(0, Ordering::Relaxed);
            let _ = d.logs.retain_from(p, self.floor(p));
        }
        Ok(first)
    }

    /// Appends one record to durable compacted partition `p`: written to the
    /// log once admitted, under the partition's lock; the log is rewritten
    /// when it holds too many replaced records.
    pub(super) fn append_compacted_durable(
        &self,
        d: &Durable<T>,
        p: u32,
        c: &Compacted<T>,
        ts: i64,
        entry: Entry<T>,
        tomb: bool,
    ) -> Result<(u64, Option<u64>), (Refused, Entry<T>)> {
        let mut record = match d.stored(
            &self.name,
            ts,
            entry.key.as_ref(),
            &entry.headers,
            &entry.value,
        ) {
            Ok(r) => r,
            Err(e) => return Err((Refused::Storage(Box::new(e)), entry)),
        };
        let order = d.locks[p as usize].lock();
        let appended = c.append_logged(ts, entry, tomb, |offset| {
            record.offset = offset;
            d.logs
                .append(p, std::slice::from_ref(&record), d.durability)
        })?;
        let held = d.log_len[p as usize].fetch_add(1, Ordering::Relaxed) + 1;
        if held > REWRITE_MIN.max(2 * c.len() as u64) {
            // Failures are tried again later: the log still holds everything.
            let _ = self.rewrite(d, p, c);
        }
        drop(order);
        Ok(appended)
    }

    /// Rewrites compacted partition `p`'s log with its live records (and its
    /// last one, where the offsets continue). Under the partition's lock.
    fn rewrite(&self, d: &Durable<T>, p: u32, c: &Compacted<T>) -> Result<(), Error> {
        let (live, end) = c.live();
        let live: std::collections::HashSet<u64> = live.into_iter().collect();
        let mut keep = Vec::with_capacity(live.len() + 1);
        d.logs.read(p, d.logs.first_offset(p), &mut |r| {
            if live.contains(&r.offset) || r.offset + 1 == end {
                keep.push(r);
            }
            true
        })?;
        d.logs.rewrite(p, &keep)?;
        d.log_len[p as usize].store(keep.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Reads compacted partition `p`'s latest record per key back from its log
    /// (at open): only those are decoded.
    fn restore_compacted(&self, d: &Durable<T>, p: u32, c: &Compacted<T>) -> Result<(), Error> {
        let mut latest: std::collections::BTreeMap<u64, StoredRecord> = Default::default();
        let mut by_key: std::collections::HashMap<Vec<u8>, u64> = Default::default();
        let mut held = 0u64;
        d.logs.read(p, d.logs.first_offset(p), &mut |r| {
            held += 1;
            let key = r
                .key
                .as_ref()
                .map(|k| k.as_bytes().to_vec())
                .unwrap_or_default();
            if let Some(old) = by_key.insert(key, r.offset) {
                latest.remove(&old);
            }
            latest.insert(r.offset, r);
            true
        })?;
        d.log_len[p as usize].store(held, Ordering::Relaxed);
        let name = &*self.name;
        for (offset, r) in latest {
            let value = d
                .codec
                .decode(&r.value)
                .map_err(|reason| Error::TypeMismatch {
                    name: name.to_owned(),
                    expected: format!(
                        "values the {} codec decodes as {}",
                        d.codec.name(),
                        std::any::type_name::<T>()
                    ),
                    found: format!(
                        "a value at partition {p}, offset {offset} that does not decode ({reason})"
                    ),
                })?;
            let tomb = d.is_tombstone.is_some_and(|f| f(&value));
            let entry = Entry {
                key: r.key,
                headers: r.headers,
                value,
            };
            if c.restore(offset, r.timestamp, entry, tomb).is_err() {
                return Err(Error::ConfigError {
                    name: name.to_owned(),
                    reason: format!(
                        "partition {p} holds more keys than the capacity {}: give it a capacity of at least {}",
                        self.config.capacity,
                        c.len() + 1
                    ),
                });
            }
        }
        c.set_end(d.logs.next_offset(p));
        Ok(())
    }

    /// Reads partition `p`'s retained records back from its log into its ring
    /// (at open, before anyone can see the topic).
    pub(crate) fn restore(&self, d: &Durable<T>, p: u32) -> Result<(), Error> {
        let part: &Partition<T> = &self.parts[p as usize];
        if let Some(c) = &part.compact {
            return self.restore_compacted(d, p, c);
        }
        let mut expected = part.base;
        let mut failure = None;
        let name = &*self.name;
        // Records go into the ring a batch at a time (one claim each).
        let mut batch: Vec<(i64, Entry<T>)> = Vec::with_capacity(RESTORE_BATCH);
        let write = |batch: &mut Vec<(i64, Entry<T>)>| {
            if batch.is_empty() {
                return true;
            }
            let k = batch.len() as u64;
            // Nobody reads or publishes yet: the claim succeeds while the
            // ring has room (the log holds no more than its capacity).
            let Ok(first) = part.ring_claim(k) else {
                batch.clear();
                return false;
            };
            let mut records = batch.drain(..);
            part.ring_write(first, k, || {
                records.next().expect("one record per claimed slot")
            });
            true
        };
        d.logs.read(p, part.base, &mut |r| {
            if r.offset != expected {
                failure = Some(Error::Corrupt {
                    file: format!("{name} partition {p}"),
                    position: r.offset,
                    reason: format!(
                        "offset {} follows offset {}",
                        r.offset,
                        expected.wrapping_sub(1)
                    ),
                });
                return false;
            }
            let value = match d.codec.decode_owned(r.value) {
                Ok(v) => v,
                Err(reason) => {
                    failure = Some(Error::TypeMismatch {
                        name: name.to_owned(),
                        expected: format!(
                            "values the {} codec decodes as {}",
                            d.codec.name(),
                            std::any::type_name::<T>()
                        ),
                        found: format!(
                            "a value at partition {p}, offset {} that does not decode ({reason})",
                            r.offset
                        ),
                    });
                    return false;
                }
            };
            let entry = Entry {
                key: r.key,
                headers: if r.headers.is_empty() {
                    Headers::new()
                } else {
                    r.headers
                },
                value,
            };
            batch.push((r.timestamp, entry));
            expected += 1;
            // A full ring (never: it holds what the log retains) stops.
            batch.len() != RESTORE_BATCH || write(&mut batch)
        })?;
        if failure.is_none() {
            write(&mut batch);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
