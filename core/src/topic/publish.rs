//! The publish engine: claiming a slot, waiting for room, evicting and expiring,
//! waking readers.

use std::time::Instant;

use crate::clock::waiter_id;
use crate::error::{PublishError, PublishTimeoutError};
use crate::fault_point::{injected_io, InjectedError};
use crate::journal::{Event, EventKind, Journal};
use crate::murmur2::partition_for_key;
use crate::record::{Headers, Key, Message, Receipt};
use crate::storage::StoredRecord;
use crate::sync::{Ordering, Spin};
use crate::wait::thread_waker;
use crate::Error;

use super::compact::Compacted;
use super::ring::{ClaimRefused, Read};
use super::{Entry, OnFull, Partition, TopicInner, Wait};

/// Why a claim took nothing.
#[derive(Debug)]
pub(crate) enum Refused {
    Full,
    Closed,
    /// A durable topic's log refused the records (boxed to keep the common
    /// refusals small).
    Storage(Box<Error>),
    /// A value does not match the topic's schema.
    Schema(Box<crate::schema::SchemaError>),
}

impl From<ClaimRefused> for Refused {
    fn from(r: ClaimRefused) -> Self {
        match r {
            ClaimRefused::Full => Refused::Full,
            ClaimRefused::Closed => Refused::Closed,
        }
    }
}

impl Refused {
    /// The publish error handing `m` back.
    pub(super) fn publish_error<M>(self, m: M) -> PublishError<M> {
        match self {
            Refused::Full => PublishError::Full(m),
            Refused::Closed => PublishError::Closed(m),
            Refused::Storage(e) => PublishError::Storage(m, *e),
            Refused::Schema(e) => PublishError::Schema(m, e),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> TopicInner<T> {
    /// Checks `value` against the topic's schema, if it has one (tombstones pass).
    #[inline]
    pub(crate) fn schema_check(&self, value: &T) -> Result<(), Box<crate::schema::SchemaError>> {
        match self.schema.get() {
            None => Ok(()),
            Some(c) => self.check_with(&c, value),
        }
    }

    /// Checks `value` against the compiled schema `c` (tombstones pass).
    fn check_with(
        &self,
        c: &crate::schema::Compiled<T>,
        value: &T,
    ) -> Result<(), Box<crate::schema::SchemaError>> {
        if self.tombstone.get().is_some_and(|is| is(value)) {
            return Ok(());
        }
        c.check.check(value).map_err(|v| Box::new(v.on(&self.name)))
    }

    /// The index of the first of `values` that does not match the schema, and why
    /// (the schema is read once for all of them).
    pub(crate) fn first_mismatch<'a>(
        &self,
        values: impl IntoIterator<Item = &'a T>,
    ) -> Option<(usize, Box<crate::schema::SchemaError>)>
    where
        T: 'a,
    {
        let c = self.schema.get()?;
        values
            .into_iter()
            .enumerate()
            .find_map(|(i, v)| self.check_with(&c, v).err().map(|e| (i, e)))
    }

    pub(crate) fn close(&self) {
        for p in self.parts.iter() {
            p.close();
            p.room.notify();
        }
        self.closed.store(true, Ordering::SeqCst);
        self.data.notify();
    }

    /// The oldest offset readers may still read in `p` (eviction and expiry applied).
    pub(crate) fn floor(&self, p: u32) -> u64 {
        let part = &self.parts[p as usize];
        if self.max_age_ms.is_some() {
            self.expire(p);
        }
        part.start().max(part.expired.load(Ordering::Acquire))
    }

    /// Records of `p` a reader at `pos` has yet to read that are still retained:
    /// what was evicted or expired under it is not counted (it is a gap).
    pub(crate) fn lag_from(&self, p: u32, pos: u64) -> u64 {
        self.parts[p as usize].lag_from(pos.max(self.floor(p)))
    }

    /// Advances partition `p`'s expiry boundary to now; returns when the next
    /// record expires (ms), if one is retained.
    pub(super) fn expire(&self, p: u32) -> Option<i64> {
        let age = self.max_age_ms?;
        let part = &self.parts[p as usize];
        let now = self.timer.clock().now_ms();
        let cutoff = now.saturating_sub(age);
        loop {
            let from = part.start().max(part.expired.load(Ordering::Acquire));
            let mut boundary = from;
            let mut next_ts = None;
            let read = part.ring_read(from, 64, 0, |o, ts, _| {
                if next_ts.is_none() {
                    if ts < cutoff {
                        boundary = o + 1;
                    } else {
                        next_ts = Some(ts);
                    }
                }
            });
            if boundary > from {
                let before = part.expired.fetch_max(boundary, Ordering::AcqRel);
                if let Some(j) = &self.journal {
                    self.journal_range(j, p, EventKind::Expire, before.max(from), boundary);
                }
            }
            match (read, next_ts) {
                (_, Some(ts)) => return Some(ts.saturating_add(age).saturating_add(1)),
                (Read::Got(n), None) if n > 0 => continue,
                (Read::Evicted { .. }, _) => continue,
                _ => return None,
            }
        }
    }

    /// Whether claiming `k` records at end offset `n` of `part` may evict what it must.
    #[inline]
    pub(super) fn admit(&self, part: &Partition<T>, n: u64, k: u64) -> bool {
        let cap = part.ring.capacity();
        if n - part.base + k <= cap {
            return true;
        }
        let evict = n + k - 1 - cap; // the newest offset this claim evicts
        match self.config.on_full {
            OnFull::Overwrite => true,
            OnFull::Keep => evict < part.expired.load(Ordering::Acquire),
            OnFull::Block | OnFull::Reject => {
                evict < part.gate.load(Ordering::Acquire)
                    || evict < part.expired.load(Ordering::Acquire)
                    || evict < part.rescan_gate()
            }
        }
    }

    pub(super) fn pick_partition(&self, key: Option<&Key>, explicit: Option<u32>) -> Option<u32> {
        let n = self.config.partitions;
        match (explicit, key) {
            (Some(p), _) => (p < n).then_some(p),
            (None, Some(k)) => Some(partition_for_key(k.as_bytes(), n)),
            (None, None) if n == 1 => Some(0),
            (None, None) => Some((self.rr.fetch_add(1, Ordering::Relaxed) % u64::from(n)) as u32),
        }
    }

    /// An injected `fail_publishes` failure for this call, if one is armed.
    #[inline]
    pub(crate) fn injected(&self) -> Option<Refused> {
        let e = self.faults.take_failure()?;
        Some(match e {
            InjectedError::Full => Refused::Full,
            InjectedError::Closed => Refused::Closed,
            InjectedError::Io => Refused::Storage(Box::new(injected_io(
                &self.name,
                "fail_publishes, error io",
            ))),
        })
    }

    #[inline]
    pub(super) fn publish_parts(&self, value: T, wait: Wait) -> Result<Receipt, PublishError<T>> {
        if let Some(r) = self.injected() {
            return Err(r.publish_error(value));
        }
        self.publish_value(value, wait)
    }

    /// [`TopicInner::publish_parts`] past the fault check.
    #[inline]
    pub(super) fn publish_value(&self, value: T, wait: Wait) -> Result<Receipt, PublishError<T>> {
        let entry = Entry {
            key: None,
            headers: Headers::new(),
            value,
        };
        self.publish_entry(None, None, entry, wait)
            .map_err(|e| e.map(|en| en.value))
    }

    /// Publishes one entry; a refused one comes back whole (no copy of its key or
    /// headers is made on the way).
    #[inline]
    pub(super) fn publish_entry(
        &self,
        partition: Option<u32>,
        timestamp: Option<i64>,
        entry: Entry<T>,
        wait: Wait,
    ) -> Result<Receipt, PublishError<Entry<T>>> {
        if let Err(e) = self.schema_check(&entry.value) {
            return Err(PublishError::Schema(entry, e));
        }
        let Some(p) = self.pick_partition(entry.key.as_ref(), partition) else {
            return Err(PublishError::OutOfRange(entry));
        };
        if let Some(c) = &self.parts[p as usize].compact {
            if entry.key.is_none() {
                return Err(PublishError::NoKey(entry));
            }
            let ts = timestamp.unwrap_or_else(|| self.timer.clock().now_ms());
            return self
                .append_compacted(p, c, ts, entry)
                .map(|offset| Receipt {
                    partition: p,
                    offset,
                })
                .map_err(|(r, e)| r.publish_error(e));
        }
        let clock = self.timer.clock();
        let mut stored = None;
        let mut fixed_ts = timestamp;
        if let Some(d) = &self.durable {
            // The log holds the timestamp the record gets: take it once.
            let ts = *fixed_ts.get_or_insert_with(|| clock.now_ms());
            match d.stored(
                &self.name,
                ts,
                entry.key.as_ref(),
                &entry.headers,
                &entry.value,
            ) {
                Ok(r) => stored = Some([r]),
                Err(e) => return Err(PublishError::Storage(entry, e)),
            }
        }
        // A synced publish keeps a copy to hand back if its sync fails after
        // the claim (made here, outside every lock).
        let spare = match &self.durable {
            Some(d) if d.sync_after() => Some(Entry {
                key: entry.key.clone(),
                headers: entry.headers.clone(),
                value: entry.value.clone(),
            }),
            _ => None,
        };
        let defer_sync = spare.is_some();
        let mut entry = Some(entry);
        let r = self.claim_wait(
            p,
            1,
            wait,
            &mut || {
                let ts = fixed_ts.unwrap_or_else(|| clock.now_ms());
                (ts, entry.take().expect("one entry per claim"))
            },
            stored.as_mut().map(|s| &mut s[..]),
            defer_sync,
        );
        match r {
            Ok(offset) => Ok(Receipt {
                partition: p,
                offset,
            }),
            Err(refused) => {
                let e = entry
                    .take()
                    .or(spare)
                    .expect("a refused claim leaves the entry, a failed sync its copy");
                Err(refused.publish_error(e))
            }
        }
    }

    pub(super) fn publish_msg(
        &self,
        msg: Message<T>,
        wait: Wait,
    ) -> Result<Receipt, PublishTimeoutError<Message<T>>> {
        if let Some(r) = self.injected() {
            return Err(r.publish_error(msg).into());
        }
        self.publish_msg_unchecked(msg, wait)
    }

    /// [`TopicInner::publish_msg`] past the fault check.
    pub(super) fn publish_msg_unchecked(
        &self,
        msg: Message<T>,
        wait: Wait,
    ) -> Result<Receipt, PublishTimeoutError<Message<T>>> {
        let Message {
            value,
            key,
            headers,
            partition,
            timestamp,
        } = msg;
        let entry = Entry {
            key,
            headers,
            value,
        };
        self.publish_entry(partition, timestamp, entry, wait)
            .map_err(|e| {
                let timed_out = matches!(wait, Wait::Until(Some(d)) if Instant::now() >= d);
                let e = e.map(
                    |Entry {
                         key,
                         headers,
                         value,
                     }| Message {
                        value,
                        key,
                        headers,
                        partition,
                        timestamp,
                    },
                );
                match e {
                    PublishError::Full(m) if timed_out => PublishTimeoutError::Timeout(m),
                    e => e.into(),
                }
            })
    }

    /// Appends `msgs` (keys and headers kept, bus-clock timestamps) to partition
    /// `p` as one claim: all of them or none. `Err(true)` when there is no room,
    /// `Err(false)` when closed. Returns the first offset.
    pub(crate) fn append_all(
        &self,
        p: u32,
        msgs: Vec<Message<T>>,
    ) -> Result<u64, (Refused, Vec<Message<T>>)> {
        if let Some(r) = self.injected() {
            return Err((r, msgs));
        }
        if let Some((_, e)) = self.first_mismatch(msgs.iter().map(|m| &m.value)) {
            return Err((Refused::Schema(e), msgs));
        }
        let k = msgs.len() as u64;
        // One timestamp for the batch: a durable topic's log holds it.
        let now = self.timer.clock().now_ms();
        let mut stored = match &self.durable {
            None => None,
            Some(d) => {
                let entries = msgs.iter().map(|m| (m.key.as_ref(), &m.headers, &m.value));
                match d.stored_batch(&self.name, now, entries) {
                    Ok(v) => Some(v),
                    Err(e) => return Err((Refused::Storage(Box::new(e)), msgs)),
                }
            }
        };
        let mut src = msgs.into_iter();
        let next = &mut || {
            let m = src.next().expect("k messages");
            (
                now,
                Entry {
                    key: m.key,
                    headers: m.headers,
                    value: m.value,
                },
            )
        };
        // Called under the event store's lock: no copy of the values is made,
        // so a synced append syncs under the partition's lock.
        match self.claim_wait(p, k, Wait::Never, next, stored.as_deref_mut(), false) {
            Ok(o) => Ok(o),
            Err(refused) => Err((refused, src.collect())),
        }
    }

    /// The record at `offset` of partition `p`, if it is retained.
    pub(crate) fn read_at(&self, p: u32, offset: u64) -> Option<crate::Record<T>> {
        let part = self.parts.get(p as usize)?;
        let mut got = None;
        part.read(offset, 1, self.floor(p), |o, ts, e| {
            if o == offset {
                got = Some(crate::Record {
                    partition: p,
                    offset: o,
                    timestamp: ts,
                    key: e.key.clone(),
                    headers: e.headers.clone(),
                    value: e.value.clone(),
                });
            }
        });
        got
    }

    /// Claims `k` records on partition `p`, waiting for room as `wait` allows, and
    /// wakes readers once they are published. A durable topic's claims carry the
    /// records' stored form (`stored`), written to the log first. With
    /// `defer_sync`, a `Synced` topic's records are synced after the claim, so
    /// concurrent publishes share an `fdatasync`; if that sync fails the
    /// records are published but the claim is `Refused::Storage`, and the
    /// caller hands back the copy it kept.
    #[inline]
    pub(super) fn claim_wait(
        &self,
        p: u32,
        k: u64,
        wait: Wait,
        next: &mut dyn FnMut() -> (i64, Entry<T>),
        mut stored: Option<&mut [StoredRecord]>,
        defer_sync: bool,
    ) -> Result<u64, Refused> {
        let part = &self.parts[p as usize];
        // Compacted partitions take records one by one in `publish_entry`.
        debug_assert!(part.compact.is_none(), "claims are for rings");
        if self.max_age_ms.is_some() && !matches!(self.config.on_full, OnFull::Overwrite) {
            self.expire(p);
        }
        let Some(d) = &self.durable else {
            // In memory: nothing else to do.
            let mut attempt = || part.ring_publish(k, |n, k| self.admit(part, n, k), &mut *next);
            return self
                .claim_notify(p, k, wait, &mut attempt)
                .map_err(Refused::from);
        };
        let mut failed = None;
        let mut attempt = || match stored.as_deref_mut() {
            Some(records) => self.claim_durable(d, p, records, defer_sync, &mut failed, &mut *next),
            None => {
                // Every caller passes a durable topic's stored form: refuse
                // rather than publish what the log does not hold.
                debug_assert!(false, "a durable claim without its stored records");
                failed = Some(Error::Io {
                    path: self.name.to_string(),
                    reason: "the records were not encoded for the log".into(),
                });
                Err(ClaimRefused::Closed)
            }
        };
        match self.claim_notify(p, k, wait, &mut attempt) {
            Ok(offset) if defer_sync && d.sync_after() => d
                .logs
                .sync_through(p, offset + k)
                .map(|()| offset)
                .map_err(|e| Refused::Storage(Box::new(e))),
            Ok(offset) => Ok(offset),
            Err(_) if failed.is_some() => {
                Err(Refused::Storage(Box::new(failed.take().expect("checked"))))
            }
            Err(r) => Err(r.into()),
        }
    }

    /// Runs `attempt`, waiting for room as `wait` and `on_full` allow; once it
    /// claimed, wakes the readers and journals the claim.
    #[inline]
    fn claim_notify(
        &self,
        p: u32,
        k: u64,
        wait: Wait,
        attempt: &mut dyn FnMut() -> Result<u64, ClaimRefused>,
    ) -> Result<u64, ClaimRefused> {
        let r = match attempt() {
            Err(ClaimRefused::Full)
                if !matches!(wait, Wait::Never) && self.config.on_full != OnFull::Keep =>
            {
                self.wait_for_room(p, wait, attempt)
            }
            r => r,
        };
        if let Ok(offset) = r {
            self.data.notify();
            if let Some(j) = &self.journal {
                self.journal_claim(j, p, offset, k);
            }
        }
        r
    }

    /// Appends one record to compacted partition `p`.
    #[cold]
    pub(super) fn append_compacted(
        &self,
        p: u32,
        c: &Compacted<T>,
        ts: i64,
        entry: Entry<T>,
    ) -> Result<u64, (Refused, Entry<T>)> {
        let tomb = self.tombstone.get().is_some_and(|f| f(&entry.value));
        let (offset, evicted) = match &self.durable {
            Some(d) => self.append_compacted_durable(d, p, c, ts, entry, tomb)?,
            None => c
                .append(ts, entry, tomb)
                .map_err(|(r, e)| (Refused::from(r), e))?,
        };
        self.data.notify();
        if let Some(j) = &self.journal {
            if let Some(o) = evicted {
                j.emit(Event::topic(EventKind::Evict, &self.name, p, o));
            }
            j.emit(Event::topic(EventKind::Append, &self.name, p, offset));
        }
        Ok(offset)
    }

    /// Journals a claim of `k` records at `offset` of partition `p`, and what it
    /// evicted.
    #[cold]
    pub(super) fn journal_claim(&self, j: &Journal, p: u32, offset: u64, k: u64) {
        let part = &self.parts[p as usize];
        let cap = part.ring.capacity();
        let end = offset + k;
        if end - part.base > cap {
            let from = offset
                .saturating_sub(cap)
                .max(part.base)
                .max(part.expired.load(Ordering::Acquire));
            self.journal_range(j, p, EventKind::Evict, from, end - cap);
        }
        self.journal_range(j, p, EventKind::Append, offset, end);
    }

    /// Journals `kind` for offsets `from..to` of partition `p`.
    pub(super) fn journal_range(&self, j: &Journal, p: u32, kind: EventKind, from: u64, to: u64) {
        for o in from..to {
            j.emit(Event::topic(kind, &self.name, p, o));
        }
    }

    /// Waits (parking the thread) until `attempt` stops being refused for lack of
    /// room, or the deadline passes.
    #[cold]
    pub(super) fn wait_for_room(
        &self,
        p: u32,
        wait: Wait,
        attempt: &mut dyn FnMut() -> Result<u64, ClaimRefused>,
    ) -> Result<u64, ClaimRefused> {
        let Wait::Until(deadline) = wait else {
            return Err(ClaimRefused::Full);
        };
        let part = &self.parts[p as usize];
        let id = waiter_id();
        let waker = thread_waker();
        let mut spin = Spin::new();
        let result = loop {
            if !spin.is_long() {
                spin.wait();
            } else {
                part.room.register(id, &waker);
                let expiry = self.expire(p);
                match attempt() {
                    Err(ClaimRefused::Full) => {}
                    r => break r,
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break Err(ClaimRefused::Full);
                }
                // Sleep until room is made, the deadline passes, or the oldest record
                // expires on the bus clock (manual clocks wake us when advanced).
                self.timer.park(id, &waker, expiry, deadline);
            }
            match attempt() {
                Err(ClaimRefused::Full) => {}
                r => break r,
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(ClaimRefused::Full);
            }
        };
        part.room.unregister(id);
        self.timer.cancel(id);
        result
    }
}
