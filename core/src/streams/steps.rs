//! A durable topology's step log: what each step of a source wrote to durable
//! changelogs and the offsets it read up to, written as one record before the
//! changelog writes and the offset commit take place. A step cut by a crash is
//! finished when the topology is rebuilt (its changelog writes done again, its
//! sources moved past what it read), so tables and committed offsets agree
//! across a restart as they do within a process.
//!
//! # The log
//!
//! `<topology>-steps`, a durable topic of bytes (one partition; only its
//! newest record matters). Each record is a [`Step`] encoded with postcard: the
//! source's consumer group and topic, the offsets to commit, and every durable
//! changelog write not yet known to be in its changelog (the newest per key),
//! its value encoded by the changelog's codec.
//!
//! # A step
//!
//! Tables update their state record by record as before; a durable table's
//! changelog records wait in the table. When a source's batch ends, the step
//! record is written, then the waiting changelog records, then the offsets are
//! committed. A crash before the step record leaves the changelogs and offsets
//! of the step before (the batch is processed again, from its first record); a
//! crash after it leaves a record that says what the step did, and rebuilding
//! the topology does the rest: each table's changelog gets the step's writes
//! again before the table is restored from it (the newest value per key wins,
//! so writes that were already made change nothing), and each source starts
//! after what the step read. A step record or changelog write the storage
//! refuses fails the step (its records stay uncommitted, the writes wait for
//! the next step, which writes them again).
//!
//! Only the newest step is kept to finish: several instances of one durable
//! topology in one process (sharing its partitions) share the log, and a
//! crash finishes the last step any of them logged; another instance's step
//! cut at the same moment is processed again (at-least-once for it). Across
//! processes each has its own directory, so its own log.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::Cause;
use crate::record::{Key, Message};
use crate::storage::{Codec, Raw};
use crate::{Error, OnFull, Topic, TopicConfig};

/// One step as the log stores it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Step {
    /// The source's consumer group.
    group: String,
    /// The source's topic.
    topic: String,
    /// The offsets to commit (next to read, per partition).
    offsets: Vec<(u32, u64)>,
    writes: Vec<Write>,
}

/// A changelog record of a step.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Write {
    changelog: String,
    /// The key: whether it is text, its bytes.
    key: (bool, Vec<u8>),
    timestamp: i64,
    /// The value, encoded by the changelog's codec.
    value: Vec<u8>,
}

impl Write {
    fn key(&self) -> Key {
        match String::from_utf8(self.key.1.clone()) {
            Ok(s) if self.key.0 => Key::from(s),
            _ => Key::from(self.key.1.clone()),
        }
    }
}

/// A durable table's changelog records not yet written (they wait for the
/// step record).
pub(super) trait Waiting: Send + Sync {
    /// The changelog's name.
    fn changelog(&self) -> &str;
    /// Writes the waiting records to the changelog.
    fn write(&self) -> Result<(), Cause>;
}

#[derive(Default)]
struct State {
    /// The log, once the topology has durable changelogs.
    log: Option<Topic<Vec<u8>>>,
    /// The step read back when the log was opened; its writes are done again
    /// as each changelog is opened, its offsets as each source is made.
    redo: Step,
    /// Changelog writes not yet known to be in their changelogs.
    writes: Vec<Write>,
    /// The tables those are waiting in.
    waiting: Vec<Arc<dyn Waiting>>,
}

/// A topology's step log (empty until its first durable changelog).
#[derive(Default)]
pub(crate) struct Steps(Mutex<State>);

impl Steps {
    /// Opens the log of topology `topology` on `bus` (once) and reads its
    /// newest step back; whether it was opened now.
    pub(super) fn open(&self, bus: &crate::Bus, topology: &str) -> Result<bool, Error> {
        if self.0.lock().log.is_some() {
            return Ok(false);
        }
        let topic = bus.durable_topic_with::<Vec<u8>>(
            &format!("{topology}-steps"),
            TopicConfig::default().capacity(16).on_full(OnFull::Keep),
            Raw,
        )?;
        let last = topic.retained()?.pop();
        let redo = match last {
            Some(r) => postcard::from_bytes(&r.value).map_err(|e| Error::Corrupt {
                file: format!("topic {}", topic.name()),
                position: r.offset,
                reason: format!("not a step record ({e})"),
            })?,
            None => Step::default(),
        };
        let mut s = self.0.lock();
        if s.log.is_some() {
            return Ok(false);
        }
        s.log = Some(topic);
        s.redo = redo;
        Ok(true)
    }

    /// Takes the step's writes to `changelog` (to be done again before the
    /// table is restored from it), decoded with `codec`.
    pub(super) fn redo_writes<X: 'static>(
        &self,
        changelog: &str,
        codec: &dyn Codec<Option<X>>,
    ) -> Result<Vec<Message<Option<X>>>, Error> {
        let mut s = self.0.lock();
        let (mine, rest) = std::mem::take(&mut s.redo.writes)
            .into_iter()
            .partition(|w| w.changelog == changelog);
        s.redo.writes = rest;
        drop(s);
        let mine: Vec<Write> = mine;
        mine.into_iter()
            .map(|w| {
                let value = codec
                    .decode(&w.value)
                    .map_err(|reason| Error::TypeMismatch {
                        name: changelog.to_string(),
                        expected: codec.value_type(),
                        found: format!("a step record's value that does not decode ({reason})"),
                    })?;
                Ok(Message::new(value).key(w.key()).timestamp(w.timestamp))
            })
            .collect()
    }

    /// Where source (`group`, `topic`) resumes after the step read back, if
    /// that step was one of its.
    pub(super) fn redo_offsets(&self, group: &str, topic: &str) -> Option<Vec<(u32, u64)>> {
        let mut s = self.0.lock();
        if s.redo.group == group && s.redo.topic == topic && !s.redo.offsets.is_empty() {
            return Some(std::mem::take(&mut s.redo.offsets));
        }
        None
    }

    /// Keeps a changelog record of `table` for the step record.
    pub(super) fn wrote(
        &self,
        table: &Arc<dyn Waiting>,
        key: &Key,
        timestamp: i64,
        value: Vec<u8>,
    ) {
        let mut s = self.0.lock();
        s.writes.push(Write {
            changelog: table.changelog().to_string(),
            key: (key.is_text(), key.as_bytes().to_vec()),
            timestamp,
            value,
        });
        if !s.waiting.iter().any(|w| Arc::ptr_eq(w, table)) {
            s.waiting.push(table.clone());
        }
    }

    /// Ends a step of source (`group`, `topic`) that read up to `offsets`:
    /// writes the step record, then the tables' waiting changelog records.
    /// When this returns `Ok`, the caller commits `offsets`.
    ///
    /// # Errors
    ///
    /// The cause, with the topic that refused the write.
    pub(super) fn finish(
        &self,
        group: &str,
        topic: &str,
        offsets: &[(u32, u64)],
    ) -> Result<(), Cause> {
        let (log, bytes, waiting) = {
            let s = self.0.lock();
            let Some(log) = s.log.clone() else {
                return Ok(());
            };
            // The newest write per changelog and key is enough to redo.
            let mut seen = HashSet::new();
            let mut writes: Vec<Write> = s
                .writes
                .iter()
                .rev()
                .filter(|w| seen.insert((w.changelog.as_str(), &w.key)))
                .cloned()
                .collect();
            writes.reverse();
            let step = Step {
                group: group.to_string(),
                topic: topic.to_string(),
                offsets: offsets.to_vec(),
                writes,
            };
            let bytes = postcard::to_allocvec(&step).map_err(|e| Cause::Output {
                target: log.name().to_string(),
                reason: e.to_string(),
            })?;
            (log, bytes, s.waiting.clone())
        };
        let output = |reason: String| Cause::Output {
            target: log.name().to_string(),
            reason,
        };
        log.try_publish(bytes).map_err(|e| output(e.to_string()))?;
        // A changelog that refuses its records keeps them waiting: the step
        // record has them, so a restart writes them; this process writes
        // them with the next step.
        let written: Vec<String> = waiting
            .iter()
            .filter(|table| table.write().is_ok())
            .map(|table| table.changelog().to_string())
            .collect();
        let mut s = self.0.lock();
        s.writes.retain(|w| !written.contains(&w.changelog));
        s.waiting
            .retain(|t| !written.iter().any(|c| c == t.changelog()));
        Ok(())
    }
}

/// A table's changelog: written at once in memory; a durable one's records
/// wait for the step record.
pub(super) struct Changelog<X> {
    pub(super) topic: Topic<Option<X>>,
    durable: Option<Durable<X>>,
}

struct Durable<X> {
    steps: Arc<Steps>,
    codec: Arc<dyn Codec<Option<X>>>,
    waiting: Arc<WaitingRecords<X>>,
}

struct WaitingRecords<X> {
    topic: Topic<Option<X>>,
    records: Mutex<Vec<Message<Option<X>>>>,
}

impl<X: Clone + Send + Sync + 'static> Waiting for WaitingRecords<X> {
    fn changelog(&self) -> &str {
        self.topic.name()
    }

    fn write(&self) -> Result<(), Cause> {
        let records = std::mem::take(&mut *self.records.lock());
        let mut records = records.into_iter();
        while let Some(msg) = records.next() {
            if let Err(e) = self.topic.try_publish_message(msg) {
                // Written with the next step, in order.
                let mut waiting = self.records.lock();
                let later = std::mem::take(&mut *waiting);
                let reason = e.to_string();
                waiting.push(e.into_inner());
                waiting.extend(records);
                waiting.extend(later);
                return Err(Cause::Output {
                    target: self.topic.name().to_string(),
                    reason,
                });
            }
        }
        Ok(())
    }
}

impl<X: Clone + Send + Sync + 'static> Changelog<X> {
    /// An in-memory changelog.
    pub(super) fn memory(topic: Topic<Option<X>>) -> Self {
        Changelog {
            topic,
            durable: None,
        }
    }

    /// A durable changelog of a topology whose steps are logged in `steps`:
    /// the step read back at open is done again on it first.
    pub(super) fn durable(
        topic: Topic<Option<X>>,
        steps: Arc<Steps>,
        codec: Arc<dyn Codec<Option<X>>>,
    ) -> Result<Self, Error> {
        for msg in steps.redo_writes(topic.name(), &*codec)? {
            topic.try_publish_message(msg).map_err(|e| match e {
                crate::PublishError::Storage(_, e) => e,
                e => Error::ConfigError {
                    name: topic.name().to_string(),
                    reason: format!("a step cut by a crash could not be finished: {e}"),
                },
            })?;
        }
        let waiting = Arc::new(WaitingRecords {
            topic: topic.clone(),
            records: Mutex::new(Vec::new()),
        });
        Ok(Changelog {
            topic,
            durable: Some(Durable {
                steps,
                codec,
                waiting,
            }),
        })
    }

    /// Writes a record (a durable changelog's when the step ends).
    pub(super) fn log(&self, msg: Message<Option<X>>) -> Result<(), Cause> {
        let output = |reason: String| Cause::Output {
            target: self.topic.name().to_string(),
            reason,
        };
        let Some(d) = &self.durable else {
            return self
                .topic
                .try_publish_message(msg)
                .map(|_| ())
                .map_err(|e| output(e.to_string()));
        };
        let bytes = d.codec.encode(&msg.value).map_err(output)?;
        let key = msg.key.clone().unwrap_or_else(|| Key::from(Vec::new()));
        let table: Arc<dyn Waiting> = d.waiting.clone();
        d.steps
            .wrote(&table, &key, msg.timestamp.unwrap_or_default(), bytes);
        d.waiting.records.lock().push(msg);
        Ok(())
    }
}
