//! Consumer groups (Kafka's): each partition of a topic owned by one member at a
//! time, committed offsets, sticky rebalancing, session timeouts.
//!
//! # Membership
//!
//! `topic.group(name).join()` adds a [`Member`]. Members leave by
//! [`Member::leave`], by being dropped, or by missing the group's
//! `session_timeout` on the bus clock: a member that has not called any of its
//! methods for that long (a member blocked in `recv` counts as calling) is removed
//! and its partitions move to the others. A removed member that calls again joins
//! again (Kafka's consumer does the same); its commits of partitions it lost fail.
//!
//! # Assignment
//!
//! Every change of membership rebalances at once, stickily and deterministically
//! (see the assignor's rules in [`Group`]'s docs): a partition moves only when its
//! owner left or owns more than its share. Revocation takes effect immediately: the
//! group's table has one owner per partition at every moment; the old owner's next
//! call sees its new assignment, drops what it had copied of revoked partitions,
//! and calls its `on_revoke` listener, then `on_assign` for partitions gained
//! (listeners run on the member's own thread, inside that call).
//!
//! # Offsets
//!
//! A committed offset is the next offset to read. A new owner starts from the
//! committed offset, so records handed out but not committed are handed out again
//! (at-least-once). With nothing committed, a partition starts where the group's
//! `start` says (`Latest` by default), resolved when the partition is first assigned
//! to the group. `auto_commit` (off by default) commits what was returned before at
//! each read call and at leave. Lag = end offset − committed offset (or the resolved
//! start while nothing is committed).
//!
//! # Gating
//!
//! On `Block`/`Reject` topics, a group with at least one member gates producers by
//! its committed offsets (its start positions until it commits): records it has not
//! committed are not evicted.

mod assign;
mod changes;
mod member;
pub(crate) mod share;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::{duration_ms, waiter_id};
use crate::journal::{Event, EventKind, Journal, MemberAssignment};
use crate::sync::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Mutex, Ordering};
use crate::topic::{Cursor, Start, TopicInner, TopicOps};
use crate::wait::BusTimer;
use crate::Error;

pub use changes::{AssignmentChange, ChangeQueue};
pub use member::{Member, MemberRecvFuture};
pub use share::{
    ShareGroup, ShareGroupConfig, ShareGroupSnapshot, ShareMember, SharePartitionSnapshot,
    ShareReceiveFuture,
};

/// The groups of one topic, by name (consumer and share groups share the names),
/// kept in the topic's extensions.
#[derive(Default)]
pub(crate) struct Groups {
    pub(crate) consumer: HashMap<String, Arc<GroupInner>>,
    pub(crate) share: HashMap<String, Weak<dyn share::ShareView>>,
}

impl<T: Clone + Send + Sync + 'static> TopicInner<T> {
    /// This topic's groups.
    pub(crate) fn groups(&self) -> Arc<Mutex<Groups>> {
        self.extensions.get_or_default::<Mutex<Groups>>()
    }

    /// Descriptions of this topic's consumer and share groups, by name.
    pub(crate) fn group_snapshots(&self) -> (Vec<GroupSnapshot>, Vec<ShareGroupSnapshot>) {
        let (consumer, share) = {
            let g = self.groups();
            let g = g.lock();
            let mut c: Vec<_> = g.consumer.values().cloned().collect();
            c.sort_by(|a, b| a.name.cmp(&b.name));
            let mut s: Vec<_> = g
                .share
                .iter()
                .filter_map(|(n, w)| w.upgrade().map(|v| (n.clone(), v)))
                .collect();
            s.sort_by(|a, b| a.0.cmp(&b.0));
            (c, s)
        };
        // Described (and the group handles dropped) after the lock is released.
        (
            consumer.iter().map(|g| g.snapshot()).collect(),
            share.iter().map(|(_, v)| v.snapshot()).collect(),
        )
    }
}

impl std::fmt::Debug for Groups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Groups")
            .field("consumer", &self.consumer.keys().collect::<Vec<_>>())
            .field("share", &self.share.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where a group starts, in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum StartSnapshot {
    Earliest,
    Latest,
    Timestamp(i64),
}

impl From<&Start> for StartSnapshot {
    fn from(s: &Start) -> Self {
        match s {
            Start::Earliest => StartSnapshot::Earliest,
            Start::Timestamp(ms) => StartSnapshot::Timestamp(*ms),
            _ => StartSnapshot::Latest,
        }
    }
}

/// A consumer group's configuration in a snapshot (durations in ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct GroupConfigSnapshot {
    pub start: StartSnapshot,
    pub auto_commit: bool,
    pub session_timeout_ms: i64,
}

impl From<&GroupConfig> for GroupConfigSnapshot {
    fn from(c: &GroupConfig) -> Self {
        GroupConfigSnapshot {
            start: (&c.start).into(),
            auto_commit: c.auto_commit,
            session_timeout_ms: duration_ms(c.session_timeout),
        }
    }
}

/// A consumer group's settings.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::{GroupConfig, Start};
/// let c = GroupConfig::default();
/// assert_eq!((&c.start, c.auto_commit, c.session_timeout), (&Start::Latest, false, Duration::from_secs(45)));
/// let c = c.start(Start::Earliest).auto_commit(true).session_timeout(Duration::from_secs(10));
/// assert!(c.auto_commit);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupConfig {
    /// Where a partition starts when the group has committed nothing for it:
    /// `Latest` (default), `Earliest` or `Timestamp(ms)`.
    pub start: Start,
    /// Commit what was returned before at each read and at leave (default off).
    pub auto_commit: bool,
    /// How long a member may go without calling before it is removed (bus clock;
    /// default 45 s, Kafka's).
    pub session_timeout: Duration,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            start: Start::Latest,
            auto_commit: false,
            session_timeout: Duration::from_secs(45),
        }
    }
}

impl GroupConfig {
    /// Each option with its value, for messages.
    pub(crate) fn described(&self) -> Vec<(&'static str, String)> {
        vec![
            ("start", format!("{:?}", self.start)),
            ("auto_commit", self.auto_commit.to_string()),
            ("session_timeout", format!("{:?}", self.session_timeout)),
        ]
    }

    /// Sets where partitions start when nothing is committed.
    #[must_use]
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Turns auto-commit on or off.
    #[must_use]
    pub fn auto_commit(mut self, on: bool) -> Self {
        self.auto_commit = on;
        self
    }

    /// Sets the session timeout. `Duration::MAX` means never: no session deadline
    /// is armed, and only `leave` or drop removes a member.
    #[must_use]
    pub fn session_timeout(mut self, d: Duration) -> Self {
        self.session_timeout = d;
        self
    }

    fn validate(&self, name: &str) -> Result<(), Error> {
        let bad = |reason: &str| {
            Err(Error::ConfigError {
                name: name.into(),
                reason: reason.into(),
            })
        };
        if !matches!(
            self.start,
            Start::Earliest | Start::Latest | Start::Timestamp(_)
        ) {
            return bad("a group starts at Earliest, Latest or a Timestamp");
        }
        if self.session_timeout < Duration::from_millis(1) {
            return bad("session_timeout must be at least 1 ms");
        }
        Ok(())
    }
}

/// How alive a member is: read by session-timeout checks without its lock.
#[derive(Debug)]
pub(crate) struct Liveness {
    /// Bus ms of the member's last call.
    pub(crate) last_seen: AtomicI64,
    /// Calls (and pending futures) in progress: a busy member is never timed out.
    pub(crate) busy: AtomicU32,
}

#[derive(Debug)]
struct MemberEntry {
    id: u64,
    live: Arc<Liveness>,
    partitions: Vec<u32>,
    manual: Option<Vec<u32>>,
}

#[derive(Debug)]
pub(crate) struct GroupState {
    members: Vec<MemberEntry>,
    /// Owner of each partition (member id).
    owner: Vec<Option<u64>>,
    committed: Vec<Option<u64>>,
    /// Where the next owner starts: the committed offset, or the start resolved at
    /// first assignment.
    position: Vec<Option<u64>>,
    /// The group's gating cursors (registered with the topic while it has members).
    cursors: Vec<Arc<Cursor>>,
    registered: bool,
}

/// Why a member left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaveReason {
    Leave,
    Drop,
    SessionTimeout,
}

impl LeaveReason {
    fn as_str(self) -> &'static str {
        match self {
            LeaveReason::Leave => "leave",
            LeaveReason::Drop => "drop",
            LeaveReason::SessionTimeout => "session_timeout",
        }
    }
}

pub(crate) struct GroupInner {
    pub(crate) name: Arc<str>,
    pub(crate) topic_name: Arc<str>,
    pub(crate) config: GroupConfig,
    session_ms: i64,
    topic: Weak<dyn TopicOps>,
    partitions: u32,
    /// Bumped (SeqCst) by every change of assignment; members compare it with what
    /// they last saw at each call.
    pub(crate) epoch: AtomicU64,
    pub(crate) state: Mutex<GroupState>,
    timer: Arc<BusTimer>,
    journal: Option<Arc<Journal>>,
    maintainer: Waker,
    /// The session deadline the maintainer is scheduled for.
    armed: Mutex<i64>,
    armed_at: AtomicI64,
    armed_id: u64,
    /// Whether the maintainer is running (it must not run twice at once).
    maintaining: AtomicBool,
    /// The next member id (ids count from 1 in each group, so a replayed script
    /// gives the same ids).
    next_member: AtomicU64,
}

impl std::fmt::Debug for GroupInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupInner")
            .field("topic", &&*self.topic_name)
            .field("name", &&*self.name)
            .finish_non_exhaustive()
    }
}

/// Runs the session-timeout check when the bus timer fires.
struct Maintainer(Weak<GroupInner>);

impl std::task::Wake for Maintainer {
    fn wake(self: Arc<Self>) {
        if let Some(g) = self.0.upgrade() {
            g.maintain();
        }
    }
}

/// A member's view of its assignment after a sync.
#[derive(Debug)]
pub(crate) struct Assigned {
    pub(crate) partitions: Vec<u32>,
    /// Start positions of every partition it owns.
    pub(crate) positions: Vec<(u32, u64)>,
    pub(crate) rejoined: bool,
}

impl GroupInner {
    pub(crate) fn new(
        name: &str,
        config: GroupConfig,
        topic: Weak<dyn TopicOps>,
        topic_name: Arc<str>,
        partitions: u32,
        timer: Arc<BusTimer>,
        journal: Option<Arc<Journal>>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|weak: &Weak<GroupInner>| GroupInner {
            name: name.into(),
            topic_name,
            session_ms: duration_ms(config.session_timeout).max(1),
            config,
            topic,
            partitions,
            epoch: AtomicU64::new(0),
            state: Mutex::new(GroupState {
                members: Vec::new(),
                owner: vec![None; partitions as usize],
                committed: vec![None; partitions as usize],
                position: vec![None; partitions as usize],
                cursors: (0..partitions)
                    .map(|_| {
                        Arc::new(Cursor {
                            pos: AtomicU64::new(u64::MAX),
                        })
                    })
                    .collect(),
                registered: false,
            }),
            timer,
            journal,
            maintainer: Waker::from(Arc::new(Maintainer(weak.clone()))),
            armed: Mutex::new(i64::MAX),
            armed_at: AtomicI64::new(i64::MAX),
            armed_id: waiter_id(),
            maintaining: AtomicBool::new(false),
            next_member: AtomicU64::new(1),
        })
    }

    pub(crate) fn topic(&self) -> Option<Arc<dyn TopicOps>> {
        self.topic.upgrade()
    }

    pub(crate) fn now(&self) -> i64 {
        self.timer.clock().now_ms()
    }

    fn emit(&self, e: impl FnOnce() -> Event) {
        if let Some(j) = &self.journal {
            j.emit(e());
        }
    }

    /// Whether the assignment changed since epoch `seen`. SeqCst: a waiting member
    /// checks it after registering as a waiter; a rebalance bumps the epoch before
    /// waking waiters.
    pub(crate) fn rebalanced_since(&self, seen: u64) -> bool {
        self.epoch.load(Ordering::SeqCst) != seen
    }

    /// A fresh member id.
    pub(crate) fn member_id(&self) -> u64 {
        self.next_member.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds a member with `id`; returns its liveness record.
    pub(crate) fn join(&self, id: u64) -> Result<Arc<Liveness>, Error> {
        let topic = self.topic().ok_or(Error::Closed)?;
        if topic.is_closed() {
            return Err(Error::Closed);
        }
        let live = Arc::new(Liveness {
            last_seen: AtomicI64::new(self.now()),
            busy: AtomicU32::new(0),
        });
        {
            let mut s = self.state.lock();
            s.members.push(MemberEntry {
                id,
                live: live.clone(),
                partitions: Vec::new(),
                manual: None,
            });
            self.emit(|| Event::group(EventKind::Join, &self.topic_name, &self.name, id));
            self.rebalance(&mut s, &*topic);
        }
        topic.wake_readers();
        self.arm();
        Ok(live)
    }

    /// Removes member `id` (if it is still a member) and rebalances.
    pub(crate) fn remove(&self, id: u64, reason: LeaveReason) {
        let Some(topic) = self.topic() else { return };
        {
            let mut s = self.state.lock();
            let Some(i) = s.members.iter().position(|m| m.id == id) else {
                return;
            };
            s.members.remove(i);
            self.emit(|| Event {
                reason: Some(reason.as_str().into()),
                ..Event::group(EventKind::Leave, &self.topic_name, &self.name, id)
            });
            self.rebalance(&mut s, &*topic);
        }
        topic.wake_readers();
        for p in 0..self.partitions {
            topic.room_changed(p);
        }
    }

    /// Recomputes the assignment after a change of membership (state locked).
    fn rebalance(&self, s: &mut GroupState, topic: &dyn TopicOps) {
        let seats: Vec<assign::Seat<'_>> = s
            .members
            .iter()
            .map(|m| assign::Seat {
                owned: &m.partitions,
                manual: m.manual.as_deref(),
            })
            .collect();
        let next = assign::rebalance(self.partitions, &seats);
        let changed = next.iter().zip(&s.members).any(|(n, m)| *n != m.partitions);
        for (m, parts) in s.members.iter_mut().zip(next) {
            m.partitions = parts;
        }
        let mut owner = vec![None; self.partitions as usize];
        for m in &s.members {
            for &p in &m.partitions {
                owner[p as usize] = Some(m.id);
                if s.position[p as usize].is_none() {
                    let at = topic.start_of(p, &self.config.start);
                    s.position[p as usize] = Some(at);
                }
            }
        }
        let owner_changed = owner != s.owner;
        s.owner = owner;
        // Gate while the group has members.
        let gate = !s.members.is_empty();
        if gate != s.registered {
            s.registered = gate;
            for p in 0..self.partitions {
                let c = &s.cursors[p as usize];
                if gate {
                    let pos = s.position[p as usize].unwrap_or(u64::MAX);
                    c.pos.store(pos, Ordering::SeqCst);
                    topic.add_cursor(p, c);
                } else {
                    topic.remove_cursor(p, c);
                }
            }
        } else if gate {
            for p in 0..self.partitions as usize {
                let pos = s.position[p].unwrap_or(u64::MAX);
                if s.cursors[p].pos.load(Ordering::Relaxed) != pos {
                    s.cursors[p].pos.store(pos, Ordering::SeqCst);
                }
            }
        }
        if changed || owner_changed {
            // SeqCst: members re-check the epoch after registering as waiters.
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.emit(|| Event {
                assignment: Some(
                    s.members
                        .iter()
                        .map(|m| MemberAssignment {
                            member: m.id,
                            partitions: m.partitions.clone(),
                        })
                        .collect(),
                ),
                topic: Some(self.topic_name.to_string()),
                group: Some(self.name.to_string()),
                ..Event::new(EventKind::Rebalance)
            });
        }
    }

    /// Member `id`'s assignment and start positions; joins it again (with a fresh
    /// liveness record in `live`) if it was removed.
    pub(crate) fn sync(&self, id: u64, live: &mut Arc<Liveness>) -> Result<Assigned, Error> {
        let found = {
            let s = self.state.lock();
            s.members.iter().find(|m| m.id == id).map(|m| {
                (
                    m.partitions.clone(),
                    m.partitions
                        .iter()
                        .map(|&p| (p, s.position[p as usize].unwrap_or(0)))
                        .collect::<Vec<_>>(),
                )
            })
        };
        match found {
            Some((partitions, positions)) => Ok(Assigned {
                partitions,
                positions,
                rejoined: false,
            }),
            None => {
                *live = self.join(id)?;
                let mut again = self.sync(id, live)?;
                again.rejoined = true;
                Ok(again)
            }
        }
    }

    /// Commits `offsets` for member `id`; every partition must be its own.
    pub(crate) fn commit(&self, id: u64, offsets: &[(u32, u64)]) -> Result<(), Error> {
        let topic = self.topic().ok_or(Error::Closed)?;
        let mut moved = Vec::new();
        {
            let mut s = self.state.lock();
            for &(p, o) in offsets {
                if p >= self.partitions {
                    return Err(Error::OutOfRange {
                        partition: p,
                        reason: format!("the topic has {} partitions", self.partitions),
                    });
                }
                if s.owner[p as usize] != Some(id) {
                    return Err(Error::NotOwner { partition: p });
                }
                let end = topic.end(p);
                if o > end {
                    return Err(Error::OutOfRange {
                        partition: p,
                        reason: format!("offset {o} is past the end offset {end}"),
                    });
                }
            }
            for &(p, o) in offsets {
                let i = p as usize;
                if s.committed[i] == Some(o) {
                    continue;
                }
                s.committed[i] = Some(o);
                s.position[i] = Some(o);
                if s.registered {
                    // SeqCst: Dekker with producers waiting for room (as subscriptions).
                    s.cursors[i].pos.store(o, Ordering::SeqCst);
                }
                moved.push(p);
                self.emit(|| Event {
                    partition: Some(p),
                    offset: Some(o),
                    ..Event::group(EventKind::Commit, &self.topic_name, &self.name, id)
                });
            }
        }
        for p in moved {
            topic.room_changed(p);
        }
        Ok(())
    }

    /// Makes member `id` own exactly `partitions` (a manual assignment).
    pub(crate) fn assign(&self, id: u64, partitions: &[u32]) -> Result<(), Error> {
        let topic = self.topic().ok_or(Error::Closed)?;
        {
            let mut s = self.state.lock();
            for &p in partitions {
                if p >= self.partitions {
                    return Err(Error::OutOfRange {
                        partition: p,
                        reason: format!("the topic has {} partitions", self.partitions),
                    });
                }
                let held = s
                    .members
                    .iter()
                    .any(|m| m.id != id && m.manual.as_ref().is_some_and(|v| v.contains(&p)));
                if held {
                    return Err(Error::NotOwner { partition: p });
                }
            }
            let Some(m) = s.members.iter_mut().find(|m| m.id == id) else {
                return Err(Error::Closed);
            };
            let mut list = partitions.to_vec();
            list.sort_unstable();
            list.dedup();
            m.manual = Some(list);
            self.rebalance(&mut s, &*topic);
        }
        topic.wake_readers();
        Ok(())
    }

    /// Checks that a member's call keeps the session deadline armed.
    #[inline]
    pub(crate) fn touch(&self, live: &Liveness) {
        let now = self.now();
        live.last_seen.store(now, Ordering::Relaxed);
        if self.armed_at.load(Ordering::Acquire) > now.saturating_add(self.session_ms) {
            self.arm();
        }
    }

    /// The earliest session deadline of an idle member.
    fn next_deadline(&self, s: &GroupState) -> i64 {
        s.members
            .iter()
            .filter(|m| m.live.busy.load(Ordering::SeqCst) == 0)
            .map(|m| {
                m.live
                    .last_seen
                    .load(Ordering::Relaxed)
                    .saturating_add(self.session_ms)
            })
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Schedules the maintainer for the next session deadline; runs it at once if
    /// that has passed. Never wakes anything while holding `armed`.
    pub(crate) fn arm(&self) {
        loop {
            let next;
            {
                // Lock order: `armed`, then `state` (nothing takes `armed` while
                // holding `state`).
                let mut armed = self.armed.lock();
                next = self.next_deadline(&self.state.lock());
                if *armed != next {
                    *armed = next;
                    self.armed_at.store(next, Ordering::Release);
                    if next == i64::MAX {
                        self.timer.cancel(self.armed_id);
                    } else {
                        self.timer.schedule(next, self.armed_id, &self.maintainer);
                    }
                }
            }
            if next > self.now() || !self.expire_sessions() {
                return;
            }
        }
    }

    fn maintain(&self) {
        if self.maintaining.swap(true, Ordering::AcqRel) {
            return;
        }
        // The deadline fired: forget it, so `arm` schedules the next one.
        *self.armed.lock() = i64::MAX;
        self.armed_at.store(i64::MAX, Ordering::Release);
        self.expire_sessions();
        self.maintaining.store(false, Ordering::Release);
        self.arm();
    }

    /// Removes idle members whose session timed out; true if any was removed.
    fn expire_sessions(&self) -> bool {
        let now = self.now();
        let due: Vec<u64> = {
            let s = self.state.lock();
            s.members
                .iter()
                .filter(|m| {
                    m.live.busy.load(Ordering::SeqCst) == 0
                        && m.live
                            .last_seen
                            .load(Ordering::Relaxed)
                            .saturating_add(self.session_ms)
                            <= now
                })
                .map(|m| m.id)
                .collect()
        };
        for &id in &due {
            self.remove(id, LeaveReason::SessionTimeout);
        }
        !due.is_empty()
    }

    pub(crate) fn committed(&self) -> Vec<Option<u64>> {
        self.state.lock().committed.clone()
    }

    pub(crate) fn snapshot(&self) -> GroupSnapshot {
        let topic = self.topic();
        // Run due session timeouts first, so what is shown is what is true now.
        if self.now() >= self.armed_at.load(Ordering::Acquire) {
            self.expire_sessions();
        }
        let s = self.state.lock();
        GroupSnapshot {
            name: self.name.to_string(),
            config: (&self.config).into(),
            members: s
                .members
                .iter()
                .map(|m| MemberSnapshot {
                    id: m.id,
                    partitions: m.partitions.clone(),
                    manual: m.manual.is_some(),
                    last_seen: m.live.last_seen.load(Ordering::Relaxed),
                })
                .collect(),
            partitions: (0..self.partitions)
                .map(|p| {
                    let i = p as usize;
                    let end = topic.as_ref().map_or(0, |t| t.end(p));
                    GroupPartitionSnapshot {
                        partition: p,
                        owner: s.owner[i],
                        committed: s.committed[i],
                        position: s.position[i],
                        end,
                        lag: s.position[i]
                            .map_or(0, |o| topic.as_ref().map_or(0, |t| t.lag_from(p, o))),
                    }
                })
                .collect(),
        }
    }
}

/// A consumer group in a [`crate::Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    /// The group's name.
    pub name: String,
    /// Its settings.
    pub config: GroupConfigSnapshot,
    /// Members in join order.
    pub members: Vec<MemberSnapshot>,
    /// Every partition of the topic.
    pub partitions: Vec<GroupPartitionSnapshot>,
}

/// A member in a [`GroupSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSnapshot {
    /// The member's id.
    pub id: u64,
    /// Its partitions, ascending.
    pub partitions: Vec<u32>,
    /// Whether it chose them ([`Member::assign`]).
    pub manual: bool,
    /// Bus ms of its last call.
    pub last_seen: i64,
}

/// One partition of a [`GroupSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPartitionSnapshot {
    /// The partition.
    pub partition: u32,
    /// The member that owns it, if any.
    pub owner: Option<u64>,
    /// The committed offset (the next to read), if any was committed.
    pub committed: Option<u64>,
    /// Where its next owner starts: the committed offset, or the group's start
    /// resolved when the partition was first assigned.
    pub position: Option<u64>,
    /// The partition's end offset.
    pub end: u64,
    /// `end − position` (0 while the partition was never assigned).
    pub lag: u64,
}

/// A handle to a consumer group of a topic. Cheap to clone; `Send + Sync`.
///
/// # Examples
///
/// ```
/// use ringlet::{GroupConfig, Start, TopicConfig};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u32>("orders", TopicConfig::default().partitions(4))?;
/// let group = t.group_with("billing", GroupConfig::default().start(Start::Earliest))?;
/// let mut a = group.join()?;
/// let mut b = group.join()?;
/// assert_eq!((a.assignment(), b.assignment()), (vec![0, 1], vec![2, 3]));
/// drop(a); // a leaves: b takes everything
/// assert_eq!(b.assignment(), vec![0, 1, 2, 3]);
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct Group<T> {
    pub(crate) inner: Arc<GroupInner>,
    pub(crate) topic: Arc<crate::topic::TopicInner<T>>,
}

impl<T> Clone for Group<T> {
    fn clone(&self) -> Self {
        Group {
            inner: self.inner.clone(),
            topic: self.topic.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Group<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("topic", &&*self.inner.topic_name)
            .field("name", &&*self.inner.name)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> Group<T> {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The group's settings.
    pub fn config(&self) -> &GroupConfig {
        &self.inner.config
    }

    /// Joins the group: the new member's partitions are assigned at once (its first
    /// call reports them to its `on_assign` listener).
    ///
    /// # Errors
    ///
    /// `Closed` if the topic is closed.
    pub fn join(&self) -> Result<Member<T>, Error> {
        Member::join(self.inner.clone(), self.topic.clone())
    }

    /// The committed offset of each partition (`None` where nothing was committed).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{GroupConfig, Start};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish(1).unwrap();
    /// let g = t.group_with("g", GroupConfig::default().start(Start::Earliest))?;
    /// let mut m = g.join()?;
    /// m.recv().unwrap();
    /// m.commit()?;
    /// assert_eq!(g.committed(), vec![Some(1)]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn committed(&self) -> Vec<Option<u64>> {
        self.inner.committed()
    }

    /// Lag per partition: end offset − committed offset (or the resolved start
    /// while nothing is committed; 0 for a partition never assigned).
    pub fn lag(&self) -> Vec<u64> {
        self.inner
            .snapshot()
            .partitions
            .iter()
            .map(|p| p.lag)
            .collect()
    }

    /// The members' ids and partitions, in join order.
    pub fn members(&self) -> Vec<(u64, Vec<u32>)> {
        self.inner
            .snapshot()
            .members
            .into_iter()
            .map(|m| (m.id, m.partitions))
            .collect()
    }

    /// The group as it is now (members, owners, committed offsets, lag).
    pub fn snapshot(&self) -> GroupSnapshot {
        self.inner.snapshot()
    }
}

impl<T: Clone + Send + Sync + 'static> crate::topic::Topic<T> {
    /// Opens the consumer group `name` of this topic, creating it with the default
    /// [`GroupConfig`] if it does not exist (an existing group is opened whatever
    /// its config).
    ///
    /// # Errors
    ///
    /// `InvalidName`; `ConfigError` if a share group has that name.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// let g = t.group("billing")?;
    /// assert_eq!(g.name(), "billing");
    /// assert!(t.group("").is_err());
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn group(&self, name: &str) -> Result<Group<T>, Error> {
        self.find_or_create_group(name, None)
    }

    /// Opens or creates the consumer group `name` with `config`.
    ///
    /// # Errors
    ///
    /// `InvalidName`; `ConfigError` for a bad config, or if the group exists with
    /// another config or a share group has that name.
    pub fn group_with(&self, name: &str, config: GroupConfig) -> Result<Group<T>, Error> {
        self.find_or_create_group(name, Some(config))
    }

    /// The config of the consumer group `name`, if it exists (nothing is created).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// assert!(t.group_config("billing").is_none());
    /// t.group("billing")?;
    /// assert_eq!(t.group_config("billing"), Some(ringlet::GroupConfig::default()));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn group_config(&self, name: &str) -> Option<GroupConfig> {
        let groups = self.inner.groups();
        let groups = groups.lock();
        groups.consumer.get(name).map(|g| g.config.clone())
    }

    /// The config of the share group `name`, if a handle or member of it exists
    /// (nothing is created).
    pub fn share_group_config(&self, name: &str) -> Option<ShareGroupConfig> {
        let groups = self.inner.groups();
        let groups = groups.lock();
        let view = groups.share.get(name).and_then(Weak::upgrade)?;
        Some(view.config().clone())
    }

    fn find_or_create_group(
        &self,
        name: &str,
        config: Option<GroupConfig>,
    ) -> Result<Group<T>, Error> {
        crate::name::validate(name, false)?;
        if let Some(c) = &config {
            c.validate(name)?;
        }
        let groups = self.inner.groups();
        let mut groups = groups.lock();
        if groups.share.get(name).is_some_and(|w| w.strong_count() > 0) {
            return Err(Error::ConfigError {
                name: name.into(),
                reason: "a share group of this topic has that name".into(),
            });
        }
        if let Some(g) = groups.consumer.get(name) {
            if let Some(c) = config.as_ref().filter(|c| **c != g.config) {
                return Err(crate::error::conflict(
                    name,
                    &format!("the consumer group {name:?}"),
                    &g.config.described(),
                    &c.described(),
                    &format!("open it as it is with group({name:?})"),
                ));
            }
            return Ok(Group {
                inner: g.clone(),
                topic: self.inner.clone(),
            });
        }
        let ops: Arc<dyn TopicOps> = self.inner.clone();
        let inner = GroupInner::new(
            name,
            config.unwrap_or_default(),
            Arc::downgrade(&ops),
            self.inner.name.clone(),
            self.inner.config.partitions,
            self.inner.timer.clone(),
            self.inner.journal.clone(),
        );
        groups.consumer.insert(name.to_string(), inner.clone());
        Ok(Group {
            inner,
            topic: self.inner.clone(),
        })
    }

    /// Opens the share group `name` of this topic, creating it with the default
    /// [`ShareGroupConfig`] if no handle or member of it exists.
    ///
    /// # Errors
    ///
    /// `InvalidName`; `ConfigError` if a consumer group has that name.
    pub fn share_group(&self, name: &str) -> Result<ShareGroup<T>, Error> {
        self.find_or_create_share_group(name, None)
    }

    /// Opens or creates the share group `name` with `config`.
    ///
    /// # Errors
    ///
    /// `InvalidName`; `ConfigError` for a bad config (including a dead letter that
    /// is missing, holds another type, is this topic or leads back to it), or if it
    /// exists with another config or a consumer group has that name.
    pub fn share_group_with(
        &self,
        name: &str,
        config: ShareGroupConfig,
    ) -> Result<ShareGroup<T>, Error> {
        self.find_or_create_share_group(name, Some(config))
    }

    fn find_or_create_share_group(
        &self,
        name: &str,
        config: Option<ShareGroupConfig>,
    ) -> Result<ShareGroup<T>, Error> {
        crate::name::validate(name, false)?;
        if let Some(c) = &config {
            c.validate(name, &self.inner.name)?;
        }
        let groups = self.inner.groups();
        let mut groups = groups.lock();
        if groups.consumer.contains_key(name) {
            return Err(Error::ConfigError {
                name: name.into(),
                reason: "a consumer group of this topic has that name".into(),
            });
        }
        if let Some(view) = groups.share.get(name).and_then(Weak::upgrade) {
            if let Some(c) = config.as_ref().filter(|c| *c != view.config()) {
                return Err(crate::error::conflict(
                    name,
                    &format!("the share group {name:?}"),
                    &view.config().described(),
                    &c.described(),
                    &format!("open it as it is with share_group({name:?})"),
                ));
            }
            let inner = view
                .into_any()
                .downcast::<share::ShareInner<T>>()
                .map_err(|_| Error::TypeMismatch {
                    name: name.into(),
                    expected: crate::error::value_type::<T>(),
                    found: "another type".into(),
                })?;
            return Ok(ShareGroup {
                inner,
                topic: self.inner.clone(),
            });
        }
        let config = config.unwrap_or_default();
        let dead_letter = match (&config.dead_letter, &self.inner.dead_letters) {
            (Some(target), Some(resolve)) => Some(resolve(&self.inner.name, target)?),
            (Some(target), None) => {
                return Err(Error::ConfigError {
                    name: name.into(),
                    reason: format!("the dead letter {target:?} does not exist"),
                })
            }
            (None, _) => None,
        };
        let inner = share::ShareInner::new(name, config, &self.inner, dead_letter)?;
        groups.share.retain(|_, w| w.strong_count() > 0);
        let view: Arc<dyn share::ShareView> = inner.clone();
        groups.share.insert(name.to_string(), Arc::downgrade(&view));
        Ok(ShareGroup {
            inner,
            topic: self.inner.clone(),
        })
    }

    /// Per partition, the first retained offset whose timestamp is at or after `ms`
    /// (`None` if there is none) — Kafka's `offsetsForTimes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Message;
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish_message(Message::new(1).timestamp(100)).unwrap();
    /// t.publish_message(Message::new(2).timestamp(200)).unwrap();
    /// assert_eq!(t.offsets_for_times(150), vec![Some(1)]);
    /// assert_eq!(t.offsets_for_times(300), vec![None]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn offsets_for_times(&self, ms: i64) -> Vec<Option<u64>> {
        Member::offsets_for(&self.inner, ms)
    }
}
