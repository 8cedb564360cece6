//! A durable topic's side of publishing and opening: records written to the
//! partition logs in offset order before they are published, and the newest
//! `capacity` records read back into the rings at open (see
//! [`crate::storage`]).

use std::sync::Arc;

use crate::record::{Headers, Key};
use crate::storage::{Codec, Durability, StoredRecord, TopicLogs};
use crate::sync::{AtomicU64, Mutex, Ordering};
use crate::Error;

use super::partition::{Entry, Partition};
use super::ring::ClaimRefused;
use super::TopicInner;

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
}

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
    ) -> Self {
        Durable {
            logs,
            codec,
            durability,
            locks: (0..partitions).map(|_| Mutex::new(())).collect(),
            since_retain: (0..partitions).map(|_| AtomicU64::new(0)).collect(),
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

    /// Reads partition `p`'s retained records back from its log into its ring
    /// (at open, before anyone can see the topic).
    pub(crate) fn restore(&self, d: &Durable<T>, p: u32) -> Result<(), Error> {
        let part: &Partition<T> = &self.parts[p as usize];
        let mut expected = part.base;
        let mut failure = None;
        let name = &*self.name;
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
            let value = match d.codec.decode(&r.value) {
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
            let mut entry = Some(entry);
            let ts = r.timestamp;
            // Nobody reads or publishes yet: the claim always succeeds.
            match part.ring_claim(1) {
                Ok(first) => part.ring_write(first, 1, &mut || {
                    (ts, entry.take().expect("one entry per claim"))
                }),
                Err(_) => return false,
            }
            expected += 1;
            true
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
