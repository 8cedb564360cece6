//! Compacted partitions (Kafka's `cleanup.policy=compact`): the latest record per key.
//!
//! A compacted partition is an ordered map from offset to record plus an index from
//! key to the offset of its latest record, behind one lock. Appending a record for a
//! key removes that key's previous record; offsets keep increasing and are no longer
//! contiguous. A tombstone (see [`crate::Bus::compacted_topic`]) removes the key's
//! previous record and is itself retained as the key's latest record, so readers that
//! are reading along learn of the deletion; tombstones are the first thing dropped
//! when room is needed. `capacity` bounds the number of records (so of keys).
//!
//! When a record with a new key finds the partition full and no tombstone to drop:
//! `Keep` refuses it (`Full`); `Overwrite` evicts the oldest record — a whole key —
//! and readers that had not read it get `Lagged` for it. Evicted records are always
//! the oldest retained one, so they are remembered as a sorted list of offsets
//! (bounded by `capacity`) from which a reader's skipped count is computed.
//!
//! Compaction is not on the hot path of plain topics: those keep their lock-free
//! rings; compacted topics (table changelogs, latest-state topics) take this lock.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::publish::Refused;
use super::ring::{ClaimRefused, Read};
use super::{Entry, OnFull};
use crate::sync::Mutex;

/// One compacted partition.
pub(crate) struct Compacted<T> {
    log: Mutex<Log<T>>,
    cap: usize,
    on_full: OnFull,
}

struct Log<T> {
    records: BTreeMap<u64, (i64, Entry<T>)>,
    /// Key bytes → offset of the key's latest record.
    keys: HashMap<Vec<u8>, u64>,
    /// Offsets of retained tombstones.
    tombstones: BTreeSet<u64>,
    end: u64,
    closed: bool,
    /// Offsets of records evicted for room (increasing), the newest `cap` of them.
    evicted: VecDeque<u64>,
    /// The newest evicted offset no longer in `evicted`, if any.
    forgotten: Option<u64>,
}

/// What one append evicted for room, if anything.
struct Appended {
    evicted: Option<u64>,
}

impl<T> std::fmt::Debug for Compacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compacted")
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

impl<T> Compacted<T> {
    pub(crate) fn new(cap: usize, on_full: OnFull) -> Self {
        Compacted {
            log: Mutex::new(Log {
                records: BTreeMap::new(),
                keys: HashMap::new(),
                tombstones: BTreeSet::new(),
                end: 0,
                closed: false,
                evicted: VecDeque::new(),
                forgotten: None,
            }),
            cap,
            on_full,
        }
    }

    pub(crate) fn end(&self) -> u64 {
        self.log.lock().end
    }

    pub(crate) fn end_and_closed(&self) -> (u64, bool) {
        let l = self.log.lock();
        (l.end, l.closed)
    }

    /// The oldest retained offset, or the end when nothing is retained.
    pub(crate) fn start(&self) -> u64 {
        let l = self.log.lock();
        l.records.keys().next().copied().unwrap_or(l.end)
    }

    pub(crate) fn close(&self) {
        self.log.lock().closed = true;
    }

    /// Retained records at or after `from` (a reader's lag: compacted records are
    /// not counted).
    pub(crate) fn count_from(&self, from: u64) -> u64 {
        self.log.lock().records.range(from..).count() as u64
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        let l = self.log.lock();
        l.records.len() * (std::mem::size_of::<(u64, i64, Entry<T>)>() + 16)
            + l.keys.keys().map(|k| k.len() + 40).sum::<usize>()
    }

    /// Appends one record; a refused one comes back whole. Returns its offset and
    /// the offset of the record evicted for room, if any.
    pub(crate) fn append(
        &self,
        ts: i64,
        entry: Entry<T>,
        tomb: bool,
    ) -> Result<(u64, Option<u64>), (ClaimRefused, Entry<T>)> {
        let mut l = self.log.lock();
        if l.closed {
            return Err((ClaimRefused::Closed, entry));
        }
        let key = key_bytes(&entry);
        let offset = l.end;
        match l.append(self.cap, self.on_full, key, ts, entry, tomb) {
            Ok(Appended { evicted }) => Ok((offset, evicted)),
            Err(e) => Err((ClaimRefused::Full, e)),
        }
    }

    /// [`Compacted::append`] that calls `write` with the record's offset once
    /// it is admitted, before it is appended (under the partition's lock, so a
    /// log is written in offset order): a write that fails appends nothing.
    pub(crate) fn append_logged(
        &self,
        ts: i64,
        entry: Entry<T>,
        tomb: bool,
        write: impl FnOnce(u64) -> Result<(), crate::Error>,
    ) -> Result<(u64, Option<u64>), (Refused, Entry<T>)> {
        let mut l = self.log.lock();
        if l.closed {
            return Err((Refused::Closed, entry));
        }
        let key = key_bytes(&entry);
        if !l.admits(self.cap, self.on_full, &key) {
            return Err((Refused::Full, entry));
        }
        let offset = l.end;
        if let Err(e) = write(offset) {
            return Err((Refused::Storage(Box::new(e)), entry));
        }
        match l.append(self.cap, self.on_full, key, ts, entry, tomb) {
            Ok(Appended { evicted }) => Ok((offset, evicted)),
            Err(e) => Err((Refused::Full, e)), // admitted above: not reached
        }
    }

    /// Puts a record read back from the log at `offset` (at open, offsets
    /// increasing, one record per key); refused when there is no room for it.
    pub(crate) fn restore(
        &self,
        offset: u64,
        ts: i64,
        entry: Entry<T>,
        tomb: bool,
    ) -> Result<(), Entry<T>> {
        let mut l = self.log.lock();
        let key = key_bytes(&entry);
        if !l.admits(self.cap, self.on_full, &key) {
            return Err(entry);
        }
        l.end = offset;
        l.append(self.cap, self.on_full, key, ts, entry, tomb)
            .map(drop)
    }

    /// Moves the end offset to `end` (where a restored log's offsets continue).
    pub(crate) fn set_end(&self, end: u64) {
        let mut l = self.log.lock();
        l.end = l.end.max(end);
    }

    /// The offsets of the retained records and the end offset.
    pub(crate) fn live(&self) -> (Vec<u64>, u64) {
        let l = self.log.lock();
        (l.records.keys().copied().collect(), l.end)
    }

    /// How many records are retained.
    pub(crate) fn len(&self) -> usize {
        self.log.lock().records.len()
    }

    /// Reads up to `max` retained records from offset `from` on, as the ring does;
    /// a reader behind evicted records gets `Read::Dropped` first.
    pub(crate) fn read(
        &self,
        from: u64,
        max: usize,
        mut f: impl FnMut(u64, i64, &Entry<T>),
    ) -> Read {
        let l = self.log.lock();
        let lost = l.evicted_from(from);
        if lost > 0 {
            let resume = l.evicted.back().copied().max(l.forgotten).unwrap_or(from) + 1;
            return Read::Dropped {
                skipped: lost,
                resume,
            };
        }
        let mut n = 0;
        for (o, (ts, e)) in l.records.range(from..).take(max) {
            f(*o, *ts, e);
            n += 1;
        }
        if n == 0 {
            Read::Empty
        } else {
            Read::Got(n)
        }
    }
}

/// The bytes a record's key is indexed by (empty for no key).
fn key_bytes<T>(entry: &Entry<T>) -> Vec<u8> {
    entry
        .key
        .as_ref()
        .map(|k| k.as_bytes().to_vec())
        .unwrap_or_default()
}

impl<T> Log<T> {
    /// Whether a record for `key` finds room (as [`Log::append`] decides).
    fn admits(&self, cap: usize, on_full: OnFull, key: &[u8]) -> bool {
        self.keys.contains_key(key)
            || self.records.len() < cap
            || !self.tombstones.is_empty()
            || on_full == OnFull::Overwrite
    }

    fn append(
        &mut self,
        cap: usize,
        on_full: OnFull,
        key: Vec<u8>,
        ts: i64,
        entry: Entry<T>,
        tomb: bool,
    ) -> Result<Appended, Entry<T>> {
        let offset = self.end;
        let mut evicted = None;
        if let Some(old) = self.keys.get(&key).copied() {
            self.records.remove(&old);
            self.tombstones.remove(&old);
        } else if self.records.len() >= cap {
            if let Some(t) = self.tombstones.pop_first() {
                self.remove(t);
            } else if on_full == OnFull::Overwrite {
                if let Some((&o, _)) = self.records.first_key_value() {
                    self.remove(o);
                    self.remember_eviction(o, cap);
                    evicted = Some(o);
                }
            } else {
                return Err(entry);
            }
        }
        self.records.insert(offset, (ts, entry));
        self.keys.insert(key, offset);
        if tomb {
            self.tombstones.insert(offset);
        }
        self.end = offset + 1;
        Ok(Appended { evicted })
    }

    /// Removes the record at `o` and its key's index entry.
    fn remove(&mut self, o: u64) {
        if let Some((_, e)) = self.records.remove(&o) {
            let key = e.key.as_ref().map(|k| k.as_bytes()).unwrap_or_default();
            if self.keys.get(key) == Some(&o) {
                self.keys.remove(key);
            }
        }
        self.tombstones.remove(&o);
    }

    fn remember_eviction(&mut self, o: u64, cap: usize) {
        self.evicted.push_back(o);
        if self.evicted.len() > cap {
            self.forgotten = self.evicted.pop_front();
        }
    }

    /// Evicted records at or after `from`: exact while the reader is fewer than
    /// `capacity` evictions behind, a lower bound beyond that.
    fn evicted_from(&self, from: u64) -> u64 {
        let newer = self.evicted.len() - self.evicted.partition_point(|&o| o < from);
        let older = u64::from(self.forgotten.is_some_and(|f| f >= from));
        newer as u64 + older
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Headers, Key};

    fn entry(k: &str, v: Option<u32>) -> (i64, Entry<Option<u32>>) {
        (
            0,
            Entry {
                key: Some(Key::from(k)),
                headers: Headers::new(),
                value: v,
            },
        )
    }

    fn put(c: &Compacted<Option<u32>>, k: &str, v: Option<u32>) -> Result<u64, ClaimRefused> {
        let (ts, e) = entry(k, v);
        c.append(ts, e, v.is_none())
            .map(|(o, _)| o)
            .map_err(|(r, _)| r)
    }

    fn all(c: &Compacted<Option<u32>>, from: u64) -> (Read, Vec<(u64, Option<u32>)>) {
        let mut out = Vec::new();
        let r = c.read(from, 100, |o, _, e| out.push((o, e.value)));
        (r, out)
    }

    #[test]
    fn latest_per_key_with_gaps_in_offsets() {
        let c = Compacted::new(10, OnFull::Overwrite);
        put(&c, "a", Some(1)).unwrap();
        put(&c, "b", Some(2)).unwrap();
        put(&c, "a", Some(3)).unwrap();
        assert_eq!(all(&c, 0).1, vec![(1, Some(2)), (2, Some(3))]);
        assert_eq!(
            (c.start(), c.end(), c.count_from(0), c.count_from(2)),
            (1, 3, 2, 1)
        );
    }

    #[test]
    fn tombstones_delete_and_go_first_when_full() {
        let c = Compacted::new(2, OnFull::Keep);
        put(&c, "a", Some(1)).unwrap();
        put(&c, "a", None).unwrap(); // a tombstone, retained
        assert_eq!(all(&c, 0).1, vec![(1, None)]);
        put(&c, "b", Some(2)).unwrap();
        put(&c, "c", Some(3)).unwrap(); // drops the tombstone rather than refusing
        assert_eq!(all(&c, 0).1, vec![(2, Some(2)), (3, Some(3))]);
        assert_eq!(put(&c, "d", Some(4)), Err(ClaimRefused::Full));
        put(&c, "b", Some(5)).unwrap(); // an existing key always fits
    }

    #[test]
    fn overwrite_evicts_the_oldest_key_and_reports_it() {
        let c = Compacted::new(2, OnFull::Overwrite);
        put(&c, "a", Some(1)).unwrap();
        put(&c, "b", Some(2)).unwrap();
        put(&c, "c", Some(3)).unwrap(); // evicts a@0
        put(&c, "d", Some(4)).unwrap(); // evicts b@1
        assert_eq!(
            all(&c, 0).0,
            Read::Dropped {
                skipped: 2,
                resume: 2
            }
        );
        assert_eq!(
            all(&c, 1).0,
            Read::Dropped {
                skipped: 1,
                resume: 2
            }
        );
        assert_eq!(all(&c, 2).1, vec![(2, Some(3)), (3, Some(4))]);
    }
}
