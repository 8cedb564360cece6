//! A durable queue's lifecycle log: every change that must survive the process,
//! written before the call that makes it returns, and read back when the queue
//! is opened again.
//!
//! # The log
//!
//! A durable queue keeps one log (partition 0 of its storage entry, described as
//! a queue). Each record's value is one [`Op`] encoded with postcard; a `Sent`
//! record also carries the message's key, headers and enqueue time in the
//! record's own fields, and its value encoded by the queue's codec. A message is
//! named by its id: the offset of the record that first sent it.
//!
//! * `Sent { id, attempt, due, value }` — the message entered the queue (due
//!   time for a delayed send). Written before the message can be received.
//! * `Delivered(ids)` — each of these messages was handed to a consumer once
//!   more: one record per receive call, before the call returns.
//! * `Delayed { id, due }` — `nack_after`: ready again at `due` (bus clock).
//! * `Removed(ids)` — acked (before the ack returns), dead-lettered (after the
//!   dead letter took it) or dropped: never comes back.
//!
//! Plain nacks and expired visibility timeouts are not logged: a delivered
//! message that was not removed comes back ready anyway.
//!
//! # Reopening
//!
//! The log is read in order; the latest `Sent` of an id sets its state, each
//! later `Delivered` adds an attempt, `Delayed` sets its due time and `Removed`
//! drops it. What is left comes back: delivered ones (those in flight when the
//! process died count their delivery as an attempt) ready at the head, in send
//! order, then the never-delivered ones in send order; those due later go to the
//! delay heap with their due time; those that have used `max_deliveries`
//! attempts go to the dead letter, as their delivery's timeout would have sent
//! them.
//!
//! # Keeping the log small
//!
//! Segments older than the oldest live message's `Sent` record hold nothing
//! needed and are deleted as it moves on. So that one long-lived message (a
//! far delay, a message nobody acks) cannot pin the log, when the live span
//! grows past four times the live messages (and at least 16 384 records), the
//! live messages in its older half are written again at the tail (`Sent` with
//! their current attempt and due time, same id) and the segments before them
//! are let go: each record is copied forward at most once per half-span, so the
//! log stays within a small multiple of what the queue holds.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::record::{Headers, Key};
use crate::storage::{Codec, Durability, StoredRecord, TopicLogs};
use crate::sync::Mutex;
use crate::Error;

/// The span of the log (in records) that live messages may pin before the
/// oldest of them are written again at the tail.
const RELOCATE_MIN: u64 = 16_384;

/// Retention is passed on to the log when the oldest live record moved this far.
const RETAIN_EVERY: u64 = 1024;

/// One lifecycle record (the order of the variants is the format: append only).
#[derive(Debug, Serialize, Deserialize)]
enum Op {
    Sent {
        id: u64,
        attempt: u32,
        due: Option<i64>,
        value: Vec<u8>,
    },
    Delivered(Vec<u64>),
    Delayed {
        id: u64,
        due: i64,
    },
    Removed(Vec<u64>),
}

/// What the log knows of a live message.
#[derive(Debug, Clone, Copy)]
struct Live {
    /// Offset of its latest `Sent` record.
    offset: u64,
    attempt: u32,
    due: Option<i64>,
}

#[derive(Debug, Default)]
struct LogState {
    next: u64,
    live: HashMap<u64, Live>,
    /// Live messages by the offset of their latest `Sent` record.
    by_offset: BTreeMap<u64, u64>,
    /// What retention was last passed on as.
    retained: u64,
}

/// A message to send, as the log writes it.
pub(crate) struct Outgoing<'a> {
    pub(crate) enqueued_at: i64,
    pub(crate) key: Option<&'a Key>,
    pub(crate) headers: &'a Headers,
    pub(crate) due: Option<i64>,
    pub(crate) value: Vec<u8>,
}

/// A message read back at open.
#[derive(Debug)]
pub(crate) struct Restored<T> {
    pub(crate) id: u64,
    pub(crate) attempt: u32,
    pub(crate) due: Option<i64>,
    pub(crate) enqueued_at: i64,
    pub(crate) key: Option<Key>,
    pub(crate) headers: Headers,
    pub(crate) value: T,
}

/// A durable queue's log and codec.
pub(crate) struct QueueLog<T> {
    name: Arc<str>,
    pub(crate) logs: Box<dyn TopicLogs>,
    /// The codec's `encode` (kept apart so sending needs no `T: 'static`).
    encode: Encode<T>,
    codec_name: String,
    durability: Durability,
    /// Held while a record is written, so the log's order is the order changes
    /// were made in (never while user code runs).
    state: Mutex<LogState>,
}

impl<T> std::fmt::Debug for QueueLog<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueLog")
            .field("name", &&*self.name)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

type Encode<T> = Box<dyn Fn(&T) -> Result<Vec<u8>, String> + Send + Sync>;

fn corrupt(name: &str, offset: u64, reason: String) -> Error {
    Error::Corrupt {
        file: format!("queue {name}"),
        position: offset,
        reason,
    }
}

impl<T: 'static> QueueLog<T> {
    /// Reads `logs` back: the log, and the messages it holds (decoded), in send
    /// order.
    ///
    /// # Errors
    ///
    /// `Corrupt` for a record that is not a lifecycle record; `TypeMismatch` for
    /// a value the codec cannot decode; `Io`.
    pub(crate) fn open(
        name: Arc<str>,
        logs: Box<dyn TopicLogs>,
        codec: Arc<dyn Codec<T>>,
        durability: Durability,
    ) -> Result<(Self, Vec<Restored<T>>), Error> {
        let mut sent: BTreeMap<u64, (Live, StoredRecord)> = BTreeMap::new();
        let mut failure = None;
        let first = logs.first_offset(0);
        logs.read(0, first, &mut |mut r| {
            let op: Op = match postcard::from_bytes(&r.value) {
                Ok(op) => op,
                Err(e) => {
                    failure = Some(corrupt(
                        &name,
                        r.offset,
                        format!("not a queue record ({e})"),
                    ));
                    return false;
                }
            };
            match op {
                Op::Sent {
                    id,
                    attempt,
                    due,
                    value,
                } => {
                    let live = Live {
                        offset: r.offset,
                        attempt,
                        due,
                    };
                    r.value = value;
                    sent.insert(id, (live, r));
                }
                Op::Delivered(ids) => {
                    for id in ids {
                        if let Some((l, _)) = sent.get_mut(&id) {
                            l.attempt = l.attempt.saturating_add(1);
                        }
                    }
                }
                Op::Delayed { id, due } => {
                    if let Some((l, _)) = sent.get_mut(&id) {
                        l.due = Some(due);
                    }
                }
                Op::Removed(ids) => {
                    for id in ids {
                        sent.remove(&id);
                    }
                }
            }
            true
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        let mut state = LogState {
            next: logs.next_offset(0),
            retained: first,
            ..LogState::default()
        };
        let mut restored = Vec::with_capacity(sent.len());
        for (id, (live, r)) in sent {
            let value = codec
                .decode(&r.value)
                .map_err(|reason| Error::TypeMismatch {
                    name: name.to_string(),
                    expected: format!(
                        "values the {} codec decodes as {}",
                        codec.name(),
                        std::any::type_name::<T>()
                    ),
                    found: format!(
                        "a message at offset {} that does not decode ({reason})",
                        live.offset
                    ),
                })?;
            state.live.insert(id, live);
            state.by_offset.insert(live.offset, id);
            restored.push(Restored {
                id,
                attempt: live.attempt,
                due: live.due,
                enqueued_at: r.timestamp,
                key: r.key,
                headers: r.headers,
                value,
            });
        }
        let codec_name = codec.name().to_owned();
        let log = QueueLog {
            name,
            logs,
            encode: Box::new(move |v| codec.encode(v)),
            codec_name,
            durability,
            state: Mutex::new(state),
        };
        Ok((log, restored))
    }
}

impl<T> QueueLog<T> {
    /// The bytes of `value`, or `TypeMismatch` naming the codec.
    pub(crate) fn encode(&self, value: &T) -> Result<Vec<u8>, Error> {
        (self.encode)(value).map_err(|reason| Error::TypeMismatch {
            name: self.name.to_string(),
            expected: format!("one it can ({reason})"),
            found: format!("given a value its {} codec cannot encode", self.codec_name),
        })
    }

    /// What opening the log cut off (torn tails), as sentences.
    pub(crate) fn recovered(&self) -> Vec<String> {
        self.logs.recovered()
    }

    /// The codec's name.
    pub(crate) fn codec_name(&self) -> &str {
        &self.codec_name
    }

    /// Appends `ops` as one write (`(op, enqueue time, key, headers)`) with
    /// `durability`; returns the offset of the first.
    fn write(
        &self,
        st: &mut LogState,
        ops: impl Iterator<Item = (Op, i64, Option<Key>, Headers)>,
        durability: Durability,
    ) -> Result<u64, Error> {
        let first = st.next;
        let records: Vec<StoredRecord> = ops
            .enumerate()
            .map(|(i, (op, timestamp, key, headers))| StoredRecord {
                offset: first + i as u64,
                timestamp,
                key,
                headers,
                value: postcard::to_allocvec(&op).expect("lifecycle records always encode"),
            })
            .collect();
        if records.is_empty() {
            return Ok(first);
        }
        self.logs.append(0, &records, durability)?;
        st.next = first + records.len() as u64;
        Ok(first)
    }

    /// How a change is written under the state's lock: a `Synced` queue's
    /// changes are written, then synced after the lock ([`QueueLog::settle`]),
    /// so concurrent callers share an `fdatasync`.
    fn locked_durability(&self) -> Durability {
        match self.durability {
            Durability::Synced => Durability::Written,
            m => m,
        }
    }

    /// Returns once the changes before `through` are as durable as the queue
    /// promises (a `Synced` queue's are synced, with other callers' changes).
    fn settle(&self, through: u64) -> Result<(), Error> {
        if self.durability == Durability::Synced {
            self.logs.sync_through(0, through)?;
        }
        Ok(())
    }

    /// Logs that `msgs` entered the queue (one write); returns their ids, in
    /// order.
    pub(crate) fn sent(&self, msgs: Vec<Outgoing<'_>>) -> Result<Vec<u64>, Error> {
        let mut st = self.state.lock();
        let first = st.next;
        let n = msgs.len() as u64;
        let dues: Vec<Option<i64>> = msgs.iter().map(|m| m.due).collect();
        self.write(
            &mut st,
            msgs.into_iter().enumerate().map(|(i, m)| {
                let op = Op::Sent {
                    id: first + i as u64,
                    attempt: 0,
                    due: m.due,
                    value: m.value,
                };
                (op, m.enqueued_at, m.key.cloned(), m.headers.clone())
            }),
            self.locked_durability(),
        )?;
        for (i, due) in dues.into_iter().enumerate() {
            let id = first + i as u64;
            st.live.insert(
                id,
                Live {
                    offset: id,
                    attempt: 0,
                    due,
                },
            );
            st.by_offset.insert(id, id);
        }
        self.tidy(&mut st);
        let through = st.next;
        drop(st);
        self.settle(through)?;
        Ok((first..first + n).collect())
    }

    /// Logs one more delivery of each of `ids` (one write).
    pub(crate) fn delivered(&self, ids: Vec<u64>) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut st = self.state.lock();
        let counted = ids.clone();
        self.write(
            &mut st,
            std::iter::once((Op::Delivered(ids), 0, None, Headers::new())),
            self.locked_durability(),
        )?;
        for id in counted {
            if let Some(l) = st.live.get_mut(&id) {
                l.attempt = l.attempt.saturating_add(1);
            }
        }
        self.tidy(&mut st);
        let through = st.next;
        drop(st);
        self.settle(through)
    }

    /// Logs that `id` is ready again at `due`.
    pub(crate) fn delayed(&self, id: u64, due: i64) -> Result<(), Error> {
        let mut st = self.state.lock();
        self.write(
            &mut st,
            std::iter::once((Op::Delayed { id, due }, 0, None, Headers::new())),
            self.locked_durability(),
        )?;
        if let Some(l) = st.live.get_mut(&id) {
            l.due = Some(due);
        }
        self.tidy(&mut st);
        let through = st.next;
        drop(st);
        self.settle(through)
    }

    /// Logs that `ids` left the queue for good (one write).
    pub(crate) fn removed(&self, ids: Vec<u64>) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut st = self.state.lock();
        let gone = ids.clone();
        self.write(
            &mut st,
            std::iter::once((Op::Removed(ids), 0, None, Headers::new())),
            self.locked_durability(),
        )?;
        for id in gone {
            if let Some(l) = st.live.remove(&id) {
                st.by_offset.remove(&l.offset);
            }
        }
        self.tidy(&mut st);
        let through = st.next;
        drop(st);
        self.settle(through)
    }

    /// Forces everything written so far to disk.
    pub(crate) fn sync(&self) -> Result<(), Error> {
        self.logs.sync()
    }

    /// Lets go of segments nothing live needs, writing the oldest live messages
    /// again at the tail when they pin too much (see the module docs). Failures
    /// are left for the next time: nothing depends on them.
    fn tidy(&self, st: &mut LogState) {
        let live = st.live.len() as u64;
        let oldest = st.by_offset.first_key_value().map_or(st.next, |(&o, _)| o);
        let limit = RELOCATE_MIN.max(live.saturating_mul(4));
        if st.next - oldest > limit {
            let cutoff = st.next - limit / 2;
            let _ = self.relocate(st, oldest, cutoff);
        }
        let oldest = st.by_offset.first_key_value().map_or(st.next, |(&o, _)| o);
        if oldest >= st.retained + RETAIN_EVERY && self.logs.retain_from(0, oldest).is_ok() {
            st.retained = oldest;
        }
    }

    /// Writes the live messages whose `Sent` record is before `cutoff` again at
    /// the tail.
    fn relocate(&self, st: &mut LogState, oldest: u64, cutoff: u64) -> Result<(), Error> {
        let wanted: HashMap<u64, u64> = st
            .by_offset
            .range(..cutoff)
            .map(|(&o, &id)| (o, id))
            .collect();
        let mut copies = Vec::with_capacity(wanted.len());
        let mut failure = None;
        self.logs.read(0, oldest, &mut |r| {
            if r.offset >= cutoff {
                return false;
            }
            let Some(&id) = wanted.get(&r.offset) else {
                return true;
            };
            match postcard::from_bytes::<Op>(&r.value) {
                Ok(Op::Sent { value, .. }) => {
                    let l = st.live[&id];
                    let op = Op::Sent {
                        id,
                        attempt: l.attempt,
                        due: l.due,
                        value,
                    };
                    copies.push((id, (op, r.timestamp, r.key, r.headers)));
                }
                _ => {
                    failure = Some(corrupt(
                        &self.name,
                        r.offset,
                        "a live message's record is not the one that sent it".into(),
                    ));
                    return false;
                }
            }
            true
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        let ids: Vec<u64> = copies.iter().map(|(id, _)| *id).collect();
        // Copies are at least written, and a synced queue's synced, before the
        // segments holding the originals may go.
        let durability = match self.durability {
            Durability::Buffered => Durability::Written,
            m => m,
        };
        let first = self.write(st, copies.into_iter().map(|(_, c)| c), durability)?;
        for (i, id) in ids.into_iter().enumerate() {
            if let Some(l) = st.live.get_mut(&id) {
                st.by_offset.remove(&l.offset);
                l.offset = first + i as u64;
                st.by_offset.insert(l.offset, id);
            }
        }
        Ok(())
    }
}
