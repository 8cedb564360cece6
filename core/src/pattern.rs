//! Pattern subscriptions: one reader over every topic whose name matches a regular
//! expression, Kafka's `subscribe(Pattern)`.
//!
//! [`Bus::subscribe_pattern`] reads each matching topic with a [`Subscription`];
//! [`Bus::group_pattern`] joins the consumer group of that name on each matching
//! topic. Each record comes with the name of its topic ([`TopicRecord`]).
//!
//! # Which topics
//!
//! - The pattern (the `regex-lite` crate's syntax) must match the **whole** name,
//!   as Kafka's `Pattern.matcher(name).matches()` does: `orders\..*` matches
//!   `orders.eu` but not `old.orders.eu`.
//! - Topics created later are picked up at the next read (a read waiting for
//!   records also wakes when a topic is created). They are read from their first
//!   retained record, whatever `start` was, so nothing published to a new topic is
//!   missed; a pattern member's new groups start as its [`GroupConfig`] says.
//! - A deleted topic is read until what it retained is drained, then left; a
//!   topic created again under that name is picked up afresh. A closed topic is
//!   drained and not opened again.
//! - Only topics holding the record type are read: a matching topic of another
//!   value type is listed by [`PatternSubscription::not_read`] with the
//!   `TypeMismatch`, and so is a topic whose group could not be joined. Queues
//!   and the bus's own topics (the journal, stream changelogs, `__` names) are
//!   never matched, as Kafka leaves out internal topics.
//!
//! # Reading
//!
//! Records are taken round-robin among the topics that have one ready, in each
//! topic's order. Gaps (records evicted before they were read) are passed over
//! and counted in `skipped()`, as a subscription's iteration does: the topic's
//! own readers keep per-partition detail. Reads end with `Closed` once the
//! pattern reader is closed, or the bus is closed and every topic drained.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::bus::Bus;
use crate::error::{RecvError, RecvTimeoutError, TryRecvError};
use crate::group::{GroupConfig, Member};
use crate::record::Record;
use crate::topic::{Reader, Start, Subscription, Topic};
use crate::wait::thread_waker;
use crate::Error;

/// A record and the name of the topic it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicRecord<T> {
    /// The topic it was read from.
    pub topic: Arc<str>,
    /// The record.
    pub record: Record<T>,
}

impl<T> std::ops::Deref for TopicRecord<T> {
    type Target = Record<T>;
    fn deref(&self) -> &Record<T> {
        &self.record
    }
}

/// How far behind a topic's reader is.
trait Lag {
    fn lag(&mut self) -> u64;
}

impl<T: Clone + Send + Sync + 'static> Lag for Subscription<T> {
    fn lag(&mut self) -> u64 {
        Subscription::lag(self)
    }
}

impl<T: Clone + Send + Sync + 'static> Lag for Member<T> {
    fn lag(&mut self) -> u64 {
        let ends = self.end_offsets();
        self.positions()
            .into_iter()
            .map(|(p, at)| ends.get(p as usize).map_or(0, |e| e.saturating_sub(at)))
            .sum()
    }
}

/// Opens the reader of a topic found by the pattern (`first`: found when the
/// reader was made, not later).
type Opener<T, R> = Box<dyn Fn(&Topic<T>, bool) -> Result<R, Error> + Send + Sync>;

/// One topic being read.
struct Entry<R> {
    topic: Arc<str>,
    reader: R,
}

/// The pattern, the readers of the topics it matched, and the round-robin turn.
struct Readers<T, R> {
    bus: Bus,
    source: String,
    pattern: regex_lite::Regex,
    open: Opener<T, R>,
    entries: Vec<Entry<R>>,
    not_read: Vec<(String, Error)>,
    /// The bus's topic generation last looked at (`None`: look again).
    seen: Option<u64>,
    next: usize,
    skipped: u64,
    closed: bool,
    waiter: u64,
}

/// What one reader gave.
enum Got<T> {
    Record(Record<T>),
    Empty,
    Gone,
}

impl<T: Clone + Send + Sync + 'static, R: Reader<Value = T> + Lag> Readers<T, R> {
    fn new(bus: &Bus, pattern: &str, open: Opener<T, R>) -> Result<Self, Error> {
        let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            Error::ConfigError {
                name: pattern.to_string(),
                reason: format!("this pattern is not a regular expression: {e}"),
            }
        })?;
        let mut readers = Readers {
            bus: bus.clone(),
            source: pattern.to_string(),
            pattern: re,
            open,
            entries: Vec::new(),
            not_read: Vec::new(),
            seen: None,
            next: 0,
            skipped: 0,
            closed: false,
            waiter: crate::clock::waiter_id(),
        };
        readers.refresh(true)?;
        Ok(readers)
    }

    /// Opens the topics that match and are not read yet, if topics were created
    /// or deleted since the last look. With `first`, an error opening one (a
    /// start offset it does not have) is returned; later it is listed.
    fn refresh(&mut self, first: bool) -> Result<(), Error> {
        let generation = self.bus.topics_generation();
        if self.closed || self.seen == Some(generation) {
            return Ok(());
        }
        self.seen = Some(generation);
        self.not_read.clear();
        for name in self.bus.user_topic_names() {
            if !self.pattern.is_match(&name) || self.entries.iter().any(|e| *e.topic == *name) {
                continue;
            }
            let opened = match self.bus.get_topic::<T>(&name) {
                Ok(t) if t.is_closed() => continue,
                Ok(t) => (self.open)(&t, first),
                Err(Error::NotFound { .. }) => continue,
                Err(e) => Err(e),
            };
            match opened {
                Ok(reader) => self.entries.push(Entry {
                    topic: name.into(),
                    reader,
                }),
                Err(e @ Error::TypeMismatch { .. }) => self.not_read.push((name, e)),
                Err(e) if first => return Err(e),
                Err(e) => self.not_read.push((name, e)),
            }
        }
        Ok(())
    }

    /// The first record `read` gets, trying each topic once from the current
    /// turn; a drained topic that is closed is left (and the bus looked at again).
    fn scan(&mut self, mut read: impl FnMut(&mut R, &mut u64) -> Got<T>) -> Option<TopicRecord<T>> {
        let mut tried = 0;
        while tried < self.entries.len() {
            if self.next >= self.entries.len() {
                self.next = 0;
            }
            let entry = &mut self.entries[self.next];
            match read(&mut entry.reader, &mut self.skipped) {
                Got::Record(record) => {
                    let topic = entry.topic.clone();
                    self.next += 1;
                    return Some(TopicRecord { topic, record });
                }
                Got::Empty => {
                    self.next += 1;
                    tried += 1;
                }
                Got::Gone => {
                    // Dropping a reader drops the records it holds: no lock is held.
                    drop(self.entries.remove(self.next));
                    self.seen = None;
                }
            }
        }
        None
    }

    fn try_ready(&mut self) -> Option<TopicRecord<T>> {
        let _ = self.refresh(false);
        self.scan(|r, skipped| loop {
            match r.try_recv() {
                Ok(record) => return Got::Record(record),
                Err(TryRecvError::Empty) => return Got::Empty,
                Err(TryRecvError::Lagged { skipped: n, .. }) => *skipped += n,
                Err(TryRecvError::Closed) => return Got::Gone,
            }
        })
    }

    /// Whether nothing more can come: closed by its owner, or the bus closed and
    /// every topic drained.
    fn ended(&self) -> bool {
        self.closed || (self.entries.is_empty() && self.bus.is_closed())
    }

    fn try_recv(&mut self) -> Result<TopicRecord<T>, TryRecvError> {
        if let Some(r) = self.try_ready() {
            return Ok(r);
        }
        if self.ended() {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<TopicRecord<T>, RecvError>> {
        if let Some(r) = self.try_ready() {
            return Poll::Ready(Ok(r));
        }
        // Registered for new topics first, then looked again (the bus bumps its
        // generation before waking), then each topic's waker registered by a poll.
        self.bus.wait_for_topics(self.waiter, cx.waker());
        loop {
            let _ = self.refresh(false);
            let got = self.scan(|r, skipped| loop {
                match r.poll_recv(cx) {
                    Poll::Ready(Ok(record)) => return Got::Record(record),
                    Poll::Pending => return Got::Empty,
                    Poll::Ready(Err(RecvError::Lagged { skipped: n, .. })) => *skipped += n,
                    Poll::Ready(Err(RecvError::Closed)) => return Got::Gone,
                }
            });
            if let Some(r) = got {
                self.cancel_poll();
                return Poll::Ready(Ok(r));
            }
            if self.ended() {
                self.cancel_poll();
                return Poll::Ready(Err(RecvError::Closed));
            }
            if self.seen.is_some() {
                return Poll::Pending;
            }
        }
    }

    fn cancel_poll(&mut self) {
        self.bus.stop_waiting_for_topics(self.waiter);
        for e in &mut self.entries {
            e.reader.cancel_poll();
        }
    }

    fn recv_deadline(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<TopicRecord<T>, RecvTimeoutError> {
        let waker = thread_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            match self.poll_recv(&mut cx) {
                Poll::Ready(Ok(r)) => return Ok(r),
                Poll::Ready(Err(_)) => return Err(RecvTimeoutError::Closed),
                Poll::Pending => match deadline {
                    None => std::thread::park(),
                    Some(d) => {
                        let now = Instant::now();
                        if now >= d {
                            self.cancel_poll();
                            return Err(RecvTimeoutError::Timeout);
                        }
                        std::thread::park_timeout(d - now);
                    }
                },
            }
        }
    }

    fn topics(&mut self) -> Vec<String> {
        let _ = self.refresh(false);
        let mut v: Vec<String> = self.entries.iter().map(|e| e.topic.to_string()).collect();
        v.sort();
        v
    }

    fn not_read(&mut self) -> Vec<(String, Error)> {
        let _ = self.refresh(false);
        self.not_read.clone()
    }

    fn lag(&mut self) -> u64 {
        let _ = self.refresh(false);
        self.entries.iter_mut().map(|e| e.reader.lag()).sum()
    }

    fn close(&mut self) {
        self.cancel_poll();
        self.closed = true;
        // Dropping the readers drops the records they hold: no lock is held.
        drop(std::mem::take(&mut self.entries));
    }
}

impl<T, R> Drop for Readers<T, R> {
    fn drop(&mut self) {
        self.bus.stop_waiting_for_topics(self.waiter);
    }
}

/// The methods both pattern readers have, over their [`Readers`].
macro_rules! reading {
    ($what:ident) => {
        /// The pattern as given.
        pub fn pattern(&self) -> &str {
            &self.readers.source
        }

        /// Blocks until a record of a matching topic is ready.
        ///
        /// # Errors
        ///
        /// `Closed` once closed, or once the bus is closed and every topic drained.
        pub fn recv(&mut self) -> Result<TopicRecord<T>, RecvError> {
            self.readers
                .recv_deadline(None)
                .map_err(|_| RecvError::Closed)
        }

        /// Waits up to `timeout` (real time) for a record.
        ///
        /// # Errors
        ///
        /// `Timeout`, `Closed`.
        pub fn recv_timeout(
            &mut self,
            timeout: Duration,
        ) -> Result<TopicRecord<T>, RecvTimeoutError> {
            self.readers
                .recv_deadline(Instant::now().checked_add(timeout))
        }

        /// A ready record, without waiting.
        ///
        /// # Errors
        ///
        /// `Empty`, `Closed`.
        pub fn try_recv(&mut self) -> Result<TopicRecord<T>, TryRecvError> {
            self.readers.try_recv()
        }

        /// Up to `max` ready records, without waiting (empty when none is ready).
        ///
        /// # Errors
        ///
        /// `Closed` when nothing is ready and nothing more can come.
        pub fn try_recv_batch(&mut self, max: usize) -> Result<Vec<TopicRecord<T>>, TryRecvError> {
            let mut out = Vec::new();
            while out.len() < max {
                match self.readers.try_recv() {
                    Ok(r) => out.push(r),
                    Err(TryRecvError::Closed) if out.is_empty() => {
                        return Err(TryRecvError::Closed)
                    }
                    Err(_) => break,
                }
            }
            Ok(out)
        }

        /// Polls for the next record (`Pending` with `cx`'s waker registered on
        /// every topic read and on topic creation; see
        #[doc = concat!("[`", stringify!($what), "::cancel_poll`]).")]
        pub fn poll_recv(
            &mut self,
            cx: &mut Context<'_>,
        ) -> Poll<Result<TopicRecord<T>, RecvError>> {
            self.readers.poll_recv(cx)
        }

        /// Removes the wakers a pending `poll_recv` registered.
        pub fn cancel_poll(&mut self) {
            self.readers.cancel_poll();
        }

        /// The topics read now, sorted (new matching topics looked for first).
        pub fn topics(&mut self) -> Vec<String> {
            self.readers.topics()
        }

        /// Matching topics that are not read, and why (another value type, a
        /// group that could not be joined).
        pub fn not_read(&mut self) -> Vec<(String, Error)> {
            self.readers.not_read()
        }

        /// Records of the topics read that are not read yet, in all.
        pub fn lag(&mut self) -> u64 {
            self.readers.lag()
        }

        /// Offsets passed over because their records were evicted first, in all.
        pub fn skipped(&self) -> u64 {
            self.readers.skipped
        }

        /// Stops reading: the next read returns `Closed`.
        pub fn close(&mut self) {
            self.readers.close();
        }
    };
}

/// A reader of every topic whose name matches a pattern ([`Bus::subscribe_pattern`];
/// the [module docs](self) give the rules). `Send` when `T` is.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Start};
/// let bus = Bus::new();
/// let eu = bus.topic::<u32>("orders.eu", Default::default())?;
/// let mut all = bus.subscribe_pattern::<u32>(r"orders\..*", Start::Earliest)?;
/// eu.publish(1).unwrap();
/// let us = bus.topic::<u32>("orders.us", Default::default())?; // created later
/// us.publish(2).unwrap();
/// let mut got: Vec<_> = (0..2).map(|_| all.recv().unwrap()).map(|r| (r.topic.to_string(), r.value)).collect();
/// got.sort();
/// assert_eq!(got, [("orders.eu".to_string(), 1), ("orders.us".to_string(), 2)]);
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct PatternSubscription<T> {
    readers: Readers<T, Subscription<T>>,
}

impl<T: Clone + Send + Sync + 'static> PatternSubscription<T> {
    reading!(PatternSubscription);
}

impl<T> std::fmt::Debug for PatternSubscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternSubscription")
            .field("pattern", &self.readers.source)
            .field(
                "topics",
                &self
                    .readers
                    .entries
                    .iter()
                    .map(|e| &*e.topic)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A member of the consumer group of one name on every topic whose name matches a
/// pattern ([`Bus::group_pattern`]; the [module docs](self) give the rules):
/// Kafka's consumer with a `group.id` subscribed to a pattern. Each matching topic
/// has its own group of that name, which this member joins, so the members of
/// several pattern members share each topic's partitions. `Send` when `T` is.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, GroupConfig, Start};
/// let bus = Bus::new();
/// let eu = bus.topic::<u32>("orders.eu", Default::default())?;
/// eu.publish(1).unwrap();
/// let mut m = bus.group_pattern_with::<u32>(r"orders\..*", "billing", GroupConfig::default().start(Start::Earliest))?;
/// assert_eq!(m.recv().unwrap().value, 1);
/// m.commit()?;
/// assert_eq!(eu.group("billing")?.committed(), vec![Some(1)]);
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct PatternMember<T> {
    readers: Readers<T, Member<T>>,
    group: String,
}

impl<T: Clone + Send + Sync + 'static> PatternMember<T> {
    reading!(PatternMember);

    /// The group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Commits what was returned on every topic read.
    ///
    /// # Errors
    ///
    /// The first error of a topic's commit (each topic is committed regardless).
    pub fn commit(&mut self) -> Result<(), Error> {
        let mut first = Ok(());
        for e in &mut self.readers.entries {
            if let Err(err) = e.reader.commit() {
                first = first.and(Err(err));
            }
        }
        first
    }

    /// The partitions this member owns, per topic read (sorted by topic).
    pub fn assignment(&mut self) -> Vec<(String, Vec<u32>)> {
        let _ = self.readers.refresh(false);
        let mut v: Vec<_> = self
            .readers
            .entries
            .iter_mut()
            .map(|e| (e.topic.to_string(), e.reader.assignment()))
            .collect();
        v.sort();
        v
    }
}

impl<T> std::fmt::Debug for PatternMember<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternMember")
            .field("pattern", &self.readers.source)
            .field("group", &self.group)
            .field(
                "topics",
                &self
                    .readers
                    .entries
                    .iter()
                    .map(|e| &*e.topic)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Bus {
    /// Reads every topic whose whole name matches `pattern` (a regular expression),
    /// including topics created later: Kafka's regex subscription. Topics that
    /// exist now start at `start`; topics found later at their first retained
    /// record. See [`crate::pattern`].
    ///
    /// # Errors
    ///
    /// `ConfigError` for a pattern that is not a regular expression; a topic's
    /// `subscribe` errors for the topics that exist now.
    pub fn subscribe_pattern<T: Clone + Send + Sync + 'static>(
        &self,
        pattern: &str,
        start: Start,
    ) -> Result<PatternSubscription<T>, Error> {
        let open: Opener<T, Subscription<T>> = Box::new(move |topic, first| {
            topic.subscribe(if first {
                start.clone()
            } else {
                Start::Earliest
            })
        });
        Ok(PatternSubscription {
            readers: Readers::new(self, pattern, open)?,
        })
    }

    /// Joins the consumer group `name` (default settings) on every topic whose
    /// whole name matches `pattern`, including topics created later. See
    /// [`PatternMember`].
    ///
    /// # Errors
    ///
    /// As [`Bus::group_pattern_with`].
    pub fn group_pattern<T: Clone + Send + Sync + 'static>(
        &self,
        pattern: &str,
        name: &str,
    ) -> Result<PatternMember<T>, Error> {
        self.group_pattern_with(pattern, name, GroupConfig::default())
    }

    /// [`Bus::group_pattern`] with the group settings used on every topic.
    ///
    /// # Errors
    ///
    /// `ConfigError` for a pattern that is not a regular expression; a topic's
    /// `group_with` and `join` errors for the topics that exist now (`InvalidName`,
    /// a group of that name with other settings).
    pub fn group_pattern_with<T: Clone + Send + Sync + 'static>(
        &self,
        pattern: &str,
        name: &str,
        config: GroupConfig,
    ) -> Result<PatternMember<T>, Error> {
        let group = name.to_string();
        let open: Opener<T, Member<T>> =
            Box::new(move |topic, _| topic.group_with(&group, config.clone())?.join());
        Ok(PatternMember {
            readers: Readers::new(self, pattern, open)?,
            group: name.to_string(),
        })
    }
}
