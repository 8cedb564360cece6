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
//! (listeners run on the member's own thread, inside that call). A partition
//! taken from a member and given back to it between two of its calls counts as
//! revoked and assigned again (each assignment is a new grant, as Kafka's
//! generations): the member starts it at the committed offset, and what it had
//! returned under the old grant is not its to commit (`NotOwner`).
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
mod coordinator;
mod member;
pub(crate) mod share;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::duration_ms;
use crate::sync::Mutex;
use crate::topic::{Start, TopicInner, TopicOps};
use crate::Error;

pub use changes::{AssignmentChange, ChangeQueue};
pub(crate) use coordinator::{GroupInner, LeaveReason, Liveness};
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
