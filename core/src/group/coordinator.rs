//! A consumer group's coordinator: its members and their liveness, the owner,
//! committed offset and start position of each partition, rebalancing, commits,
//! manual assignment and session timeouts on the bus timer.

use std::sync::{Arc, Weak};
use std::task::Waker;

use super::assign;
use super::{GroupConfig, GroupPartitionSnapshot, GroupSnapshot, MemberSnapshot};
use crate::clock::{duration_ms, waiter_id};
use crate::journal::{Event, EventKind, Journal, MemberAssignment};
use crate::sync::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Mutex, Ordering};
use crate::topic::{Cursor, TopicOps};
use crate::wait::BusTimer;
use crate::Error;

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
    /// Which grant gave each partition to its owner: a partition taken from a
    /// member and given back between two of its calls is a new grant, so the
    /// member starts it afresh (and a commit under the old grant is refused)
    /// instead of going on from a position another member moved past.
    granted: Vec<u64>,
    /// The last grant made.
    grants: u64,
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

/// A partition a member owns, as a sync reports it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owned {
    pub(crate) partition: u32,
    pub(crate) start: u64,
    pub(crate) grant: u64,
}

/// A member's view of its assignment after a sync.
#[derive(Debug)]
pub(crate) struct Assigned {
    pub(crate) partitions: Vec<u32>,
    /// For every partition it owns: where it starts and the grant that gave it.
    pub(crate) positions: Vec<Owned>,
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
        // A durable topic's group resumes from what it committed before a restart
        // (never past the end: a log repaired shorter keeps fewer records).
        let mut committed = vec![None; partitions as usize];
        if let Some(t) = topic.upgrade() {
            for (p, o) in t.stored_commits(name) {
                if let Some(c) = committed.get_mut(p as usize) {
                    *c = Some(o.min(t.end(p)));
                }
            }
        }
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
                granted: vec![0; partitions as usize],
                grants: 0,
                position: committed.clone(),
                committed,
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
        for (p, o) in owner.iter().enumerate() {
            if o.is_some() && *o != s.owner[p] {
                s.grants += 1;
                s.granted[p] = s.grants;
            }
        }
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
    /// liveness record in `live`) if it was removed and `rejoin` says so, else
    /// `Closed`.
    pub(crate) fn sync(
        &self,
        id: u64,
        live: &mut Arc<Liveness>,
        rejoin: bool,
    ) -> Result<Assigned, Error> {
        let found = {
            let s = self.state.lock();
            s.members.iter().find(|m| m.id == id).map(|m| {
                (
                    m.partitions.clone(),
                    m.partitions
                        .iter()
                        .map(|&p| Owned {
                            partition: p,
                            start: s.position[p as usize].unwrap_or(0),
                            grant: s.granted[p as usize],
                        })
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
            None if !rejoin => Err(Error::Closed),
            None => {
                *live = self.join(id)?;
                let mut again = self.sync(id, live, true)?;
                again.rejoined = true;
                Ok(again)
            }
        }
    }

    /// Commits `offsets` for member `id`; every partition must be its own under
    /// the grant the member holds it by (`grant`, indexed by partition).
    pub(crate) fn commit(
        &self,
        id: u64,
        grant: &[u64],
        offsets: &[(u32, u64)],
    ) -> Result<(), Error> {
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
                if s.owner[p as usize] != Some(id) || s.granted[p as usize] != grant[p as usize] {
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
            // A durable topic stores what changes before the group sees it (under
            // the group's lock, so stored commits are in the order they were made).
            let changed: Vec<(u32, u64)> = offsets
                .iter()
                .copied()
                .filter(|&(p, o)| s.committed[p as usize] != Some(o))
                .collect();
            if !changed.is_empty() {
                topic.store_commit(&self.name, &changed)?;
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
