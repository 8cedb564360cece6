//! A consumer-group member: reads the partitions the group assigns it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::{RecvError, RecvTimeoutError, TryRecvError};
use crate::record::Record;
use crate::sync::{Ordering, Spin};
use crate::topic::{OnLag, Subscription, TopicInner};
use crate::Error;

use super::{GroupInner, LeaveReason, Liveness};

type Listener = Box<dyn FnMut(&[u32]) + Send>;

/// A member of a consumer group. `Send` when `T` is. Dropping it leaves the group.
///
/// Every call first catches up with the group: if the assignment changed, records
/// copied from revoked partitions are dropped (the new owner reads them again from
/// the committed offset), `on_revoke` and `on_assign` are called, and newly
/// assigned partitions start at the group's committed offset.
///
/// # Examples
///
/// At-least-once on owner change: what `a` read but did not commit is read again
/// by `b`.
///
/// ```
/// use ringlet::{GroupConfig, Start};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u32>("t", Default::default())?;
/// let group = t.group_with("g", GroupConfig::default().start(Start::Earliest))?;
/// t.publish_batch([1, 2, 3]).unwrap();
/// let mut a = group.join()?;
/// assert_eq!(a.recv().unwrap().value, 1);
/// a.commit()?;                           // committed offset 1
/// assert_eq!(a.recv().unwrap().value, 2); // read, not committed
/// a.leave();
/// let mut b = group.join()?;
/// assert_eq!(b.recv().unwrap().value, 2); // again
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct Member<T> {
    group: Arc<GroupInner>,
    topic: Arc<TopicInner<T>>,
    id: u64,
    live: Arc<Liveness>,
    reader: Subscription<T>,
    /// The group epoch last synced (`u64::MAX`: never).
    seen_epoch: u64,
    assignment: Vec<u32>,
    paused: Vec<u32>,
    /// Per partition: the offset this member last committed or started from.
    base: Vec<u64>,
    /// Per partition: the grant it owns it by (see the coordinator's `granted`).
    grant: Vec<u64>,
    /// A revoked partition whose returned records were not committed: the next
    /// `commit()` reports it.
    lost: Option<u32>,
    on_assign: Option<Listener>,
    on_revoke: Option<Listener>,
    /// A `poll_recv` returned `Pending` and was not completed or cancelled: the
    /// member counts as calling.
    polling: bool,
    left: bool,
}

impl<T> std::fmt::Debug for Member<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("topic", &&*self.group.topic_name)
            .field("group", &&*self.group.name)
            .field("id", &self.id)
            .field("assignment", &self.assignment)
            .finish_non_exhaustive()
    }
}

/// Marks a member busy for the length of a blocking call (or a pending future): a
/// busy member's session never times out.
struct Busy<'a>(&'a GroupInner, &'a Liveness);

impl<'a> Busy<'a> {
    fn new(g: &'a GroupInner, live: &'a Liveness) -> Self {
        live.busy.fetch_add(1, Ordering::SeqCst);
        g.touch(live);
        Busy(g, live)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.1.busy.fetch_sub(1, Ordering::SeqCst);
        self.0.touch(self.1);
    }
}

impl<T: Clone + Send + Sync + 'static> Member<T> {
    pub(crate) fn join(group: Arc<GroupInner>, topic: Arc<TopicInner<T>>) -> Result<Self, Error> {
        let id = group.member_id();
        let live = group.join(id)?;
        let n = topic.parts.len();
        Ok(Member {
            reader: Subscription::detached(topic.clone(), OnLag::Earliest),
            group,
            topic,
            id,
            live,
            seen_epoch: u64::MAX,
            assignment: Vec::new(),
            paused: Vec::new(),
            base: vec![0; n],
            grant: vec![0; n],
            lost: None,
            on_assign: None,
            on_revoke: None,
            polling: false,
            left: false,
        })
    }

    /// The member's id (unique in its group).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Calls `f` with the partitions gained, on this member's thread, at the first
    /// call after its assignment grew (including the first assignment).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", ringlet::TopicConfig::default().partitions(2))?;
    /// let g = t.group("g")?;
    /// let seen = Arc::new(Mutex::new(vec![]));
    /// let mut a = g.join()?;
    /// let s = seen.clone();
    /// a.on_assign(move |p| s.lock().unwrap().push(p.to_vec()));
    /// let _ = a.try_recv();
    /// assert_eq!(*seen.lock().unwrap(), vec![vec![0, 1]]);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn on_assign(&mut self, f: impl FnMut(&[u32]) + Send + 'static) {
        self.on_assign = Some(Box::new(f));
    }

    /// Calls `f` with the partitions lost, on this member's thread, at the first
    /// call after they were revoked (e.g. to flush per-partition state).
    pub fn on_revoke(&mut self, f: impl FnMut(&[u32]) + Send + 'static) {
        self.on_revoke = Some(Box::new(f));
    }

    /// Catches up with the group's assignment (see the type's docs).
    fn refresh(&mut self) -> Result<(), Error> {
        self.refresh_with(true)
    }

    /// As `refresh`; a member the session timeout removed joins again only
    /// when `rejoin` says so (a member about to leave does not).
    fn refresh_with(&mut self, rejoin: bool) -> Result<(), Error> {
        if self.left {
            return Err(Error::Closed);
        }
        // SeqCst: pairs with the rebalance's bump.
        let epoch = self.group.epoch.load(Ordering::SeqCst);
        if epoch == self.seen_epoch {
            return Ok(());
        }
        let a = self.group.sync(self.id, &mut self.live, rejoin)?;
        self.seen_epoch = epoch;
        let old = std::mem::take(&mut self.assignment);
        // Kept: owned before and since, under the same grant (not taken away and
        // given back meanwhile).
        let kept: Vec<u32> = a
            .positions
            .iter()
            .filter(|o| {
                !a.rejoined
                    && old.contains(&o.partition)
                    && o.grant == self.grant[o.partition as usize]
            })
            .map(|o| o.partition)
            .collect();
        let keep = |p: &u32| kept.contains(p);
        let revoked: Vec<u32> = old.iter().copied().filter(|p| !keep(p)).collect();
        let gained: Vec<u32> = a.partitions.iter().copied().filter(|p| !keep(p)).collect();
        for &p in &revoked {
            if self.reader.position(p) > self.base[p as usize] {
                self.lost = Some(p);
            }
            self.reader.set_active(p, None);
            self.paused.retain(|q| *q != p);
        }
        for o in &a.positions {
            let (p, at) = (o.partition, o.start);
            self.grant[p as usize] = o.grant;
            if kept.contains(&p) {
                continue;
            }
            self.base[p as usize] = at;
            self.reader.set_active(p, Some(at));
            if self.paused.contains(&p) {
                self.reader.set_active(p, None);
            }
        }
        self.assignment = a.partitions;
        if !revoked.is_empty() {
            if let Some(f) = &mut self.on_revoke {
                f(&revoked);
            }
        }
        if !gained.is_empty() {
            if let Some(f) = &mut self.on_assign {
                f(&gained);
            }
        }
        Ok(())
    }

    /// Start of every read: catch up, then auto-commit what was returned before.
    fn before_read(&mut self) -> Result<(), RecvError> {
        self.refresh().map_err(|_| RecvError::Closed)?;
        if self.group.config.auto_commit {
            let _ = self.commit_owned();
        }
        Ok(())
    }

    /// Commits the position of every owned partition that moved.
    fn commit_owned(&mut self) -> Result<(), Error> {
        let offsets = self.moved();
        if offsets.is_empty() {
            return Ok(());
        }
        self.group.commit(self.id, &self.grant, &offsets)?;
        for (p, o) in offsets {
            self.base[p as usize] = o;
        }
        Ok(())
    }

    /// Blocks until a record of an owned partition is ready.
    ///
    /// # Errors
    ///
    /// `Lagged` once per gap (then it continues from the oldest retained record);
    /// `Closed` when the topic is closed and its owned partitions are drained, or
    /// after `leave`.
    pub fn recv(&mut self) -> Result<Record<T>, RecvError> {
        match self.recv_deadline(None) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Lagged { partition, skipped }) => {
                Err(RecvError::Lagged { partition, skipped })
            }
            Err(_) => Err(RecvError::Closed),
        }
    }

    /// Waits up to `timeout` (real time) for a record.
    ///
    /// # Errors
    ///
    /// `Timeout`, `Lagged`, `Closed`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Record<T>, RecvTimeoutError> {
        self.recv_deadline(Instant::now().checked_add(timeout))
    }

    fn recv_deadline(&mut self, deadline: Option<Instant>) -> Result<Record<T>, RecvTimeoutError> {
        let group = self.group.clone();
        let live = self.live.clone();
        let _busy = Busy::new(&group, &live);
        let mut spin = Spin::new();
        loop {
            self.before_read()?;
            if let Some(r) = self.reader.next_ready()? {
                return Ok(r);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            let (g, seen) = (&self.group, self.seen_epoch);
            self.reader
                .park(&mut spin, deadline, &|| g.rebalanced_since(seen));
        }
    }

    /// A ready record of an owned partition, without waiting.
    ///
    /// # Errors
    ///
    /// `Empty`, `Lagged`, `Closed`.
    pub fn try_recv(&mut self) -> Result<Record<T>, TryRecvError> {
        self.group.touch(&self.live);
        self.before_read()?;
        self.reader.next_ready()?.ok_or(TryRecvError::Empty)
    }

    /// Blocks until at least one record is ready, then returns up to `max`.
    ///
    /// # Errors
    ///
    /// As [`Member::recv`] when nothing could be returned.
    pub fn recv_batch(&mut self, max: usize) -> Result<Vec<Record<T>>, RecvError> {
        let first = self.recv()?;
        let mut out = vec![first];
        let _ = self.reader.fill_batch(&mut out, max);
        Ok(out)
    }

    /// Waits up to `timeout` (real time) for a record, then returns up to `max` of
    /// those ready.
    ///
    /// # Errors
    ///
    /// As [`Member::recv_timeout`] when nothing could be returned.
    pub fn recv_batch_timeout(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<Record<T>>, RecvTimeoutError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let first = self.recv_timeout(timeout)?;
        let mut out = vec![first];
        let _ = self.reader.fill_batch(&mut out, max);
        Ok(out)
    }

    /// Whether [`Member::leave`] was called.
    pub fn has_left(&self) -> bool {
        self.left
    }

    /// Gaps skipped so far (see [`Subscription::skipped`]).
    pub fn skipped(&self) -> u64 {
        self.reader.skipped()
    }

    /// Up to `max` ready records without waiting (possibly none).
    ///
    /// # Errors
    ///
    /// `Lagged` or `Closed` when nothing could be returned.
    pub fn try_recv_batch(&mut self, max: usize) -> Result<Vec<Record<T>>, TryRecvError> {
        self.group.touch(&self.live);
        self.before_read()?;
        self.reader.try_recv_batch(max)
    }

    /// Waits asynchronously for the next record. Cancel-safe: dropping the future
    /// loses nothing. While it is pending the member counts as calling.
    pub fn recv_async(&mut self) -> MemberRecvFuture<'_, T> {
        self.live.busy.fetch_add(1, Ordering::SeqCst);
        self.group.touch(&self.live);
        MemberRecvFuture { member: self }
    }

    /// Polls for the next record without keeping a future (see
    /// [`Subscription::poll_recv`]): `Ready` with what [`Member::recv`] would
    /// return, or `Pending` with `cx`'s waker registered. From the first `Pending`
    /// until a `Ready` or [`Member::cancel_poll`], the member counts as calling (its
    /// session does not time out).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Record<T>, RecvError>> {
        if !self.polling {
            self.live.busy.fetch_add(1, Ordering::SeqCst);
            self.polling = true;
        }
        self.group.touch(&self.live);
        let r = self.poll_read(cx);
        if r.is_ready() {
            self.cancel_poll();
        }
        r
    }

    /// Ends a pending [`Member::poll_recv`]: removes its waker and stops counting
    /// the member as calling.
    pub fn cancel_poll(&mut self) {
        if std::mem::take(&mut self.polling) {
            self.topic.data.unregister(self.reader.id());
            self.live.busy.fetch_sub(1, Ordering::SeqCst);
            self.group.touch(&self.live);
        }
    }

    /// The next step of an iteration that does not wait: every gap is passed over
    /// (counted in [`Member::skipped`]); `Ok(None)` once the owned partitions are
    /// closed and drained, or after `leave`. See
    /// [`Subscription::try_next`](crate::Subscription::try_next).
    ///
    /// # Errors
    ///
    /// `Empty` when nothing is ready.
    pub fn try_next(&mut self) -> Result<Option<Record<T>>, TryRecvError> {
        crate::topic::next_item(true, || self.try_recv())
    }

    /// [`Member::try_next`], waiting up to `timeout` in all.
    ///
    /// # Errors
    ///
    /// `Timeout`.
    pub fn next_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Record<T>>, RecvTimeoutError> {
        crate::topic::next_item_timeout(true, timeout, |d| self.recv_timeout(d))
    }

    /// [`Member::try_next`] as a poll (cancel with [`Member::cancel_poll`]).
    pub fn poll_next_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Record<T>>, RecvError>> {
        crate::topic::poll_next_item(true, || self.poll_recv(cx))
    }

    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<Record<T>, RecvError>> {
        if let Err(e) = self.before_read() {
            return Poll::Ready(Err(e));
        }
        match self.reader.poll_next_record(cx) {
            Poll::Pending => {
                // A rebalance between the refresh and the registration: come back.
                if self.group.rebalanced_since(self.seen_epoch) {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            ready => ready,
        }
    }

    /// Commits everything returned so far from the partitions it owns.
    ///
    /// # Errors
    ///
    /// `NotOwner { partition }` when a partition it returned records from was
    /// revoked before they were committed (the new owner reads them again; the
    /// owned partitions are committed all the same); `Closed` after `leave`.
    pub fn commit(&mut self) -> Result<(), Error> {
        self.group.touch(&self.live);
        self.refresh()?;
        self.commit_owned()?;
        match self.lost.take() {
            Some(partition) => Err(Error::NotOwner { partition }),
            None => Ok(()),
        }
    }

    /// Commits chosen offsets (the next offset to read, per partition).
    ///
    /// # Errors
    ///
    /// `NotOwner` for a partition it does not own; `OutOfRange` for a partition the
    /// topic does not have or an offset past the end. Nothing is committed then.
    pub fn commit_offsets(&mut self, offsets: &[(u32, u64)]) -> Result<(), Error> {
        self.group.touch(&self.live);
        self.refresh()?;
        self.group.commit(self.id, &self.grant, offsets)?;
        for &(p, o) in offsets {
            self.base[p as usize] = o;
        }
        Ok(())
    }

    /// Moves the read position of an owned partition (commits nothing).
    ///
    /// # Errors
    ///
    /// `NotOwner`; `OutOfRange` past the end (or for a partition the topic lacks).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{GroupConfig, Start};
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", Default::default())?;
    /// t.publish_batch([1, 2]).unwrap();
    /// let mut m = t.group("g")?.join()?; // starts at the end
    /// m.seek(0, 0)?;
    /// assert_eq!(m.recv().unwrap().value, 1);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn seek(&mut self, partition: u32, offset: u64) -> Result<(), Error> {
        self.group.touch(&self.live);
        self.refresh()?;
        self.check_owned(partition)?;
        let end = crate::group::TopicOps::end(&*self.topic, partition);
        if offset > end {
            return Err(Error::OutOfRange {
                partition,
                reason: format!("offset {offset} is past the end offset {end}"),
            });
        }
        self.reader.set_active(partition, Some(offset));
        if self.paused.contains(&partition) {
            self.reader.set_active(partition, None);
        }
        Ok(())
    }

    fn check_owned(&self, partition: u32) -> Result<(), Error> {
        if partition >= self.topic.config.partitions {
            return Err(Error::OutOfRange {
                partition,
                reason: format!("the topic has {} partitions", self.topic.config.partitions),
            });
        }
        if !self.assignment.contains(&partition) {
            return Err(Error::NotOwner { partition });
        }
        Ok(())
    }

    /// The partitions it owns now, ascending.
    pub fn assignment(&mut self) -> Vec<u32> {
        self.group.touch(&self.live);
        let _ = self.refresh();
        self.assignment.clone()
    }

    /// The next offset it will return from each owned partition.
    pub fn positions(&mut self) -> Vec<(u32, u64)> {
        let _ = self.refresh();
        self.assignment
            .iter()
            .map(|&p| (p, self.reader.position(p)))
            .collect()
    }

    /// Takes exactly `partitions`, outside the group's automatic assignment (the
    /// other members share the rest). A partition another member chose manually
    /// cannot be taken.
    ///
    /// # Errors
    ///
    /// `OutOfRange` for a partition the topic lacks; `NotOwner` for a partition
    /// another member assigned itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let t = bus.topic::<u8>("t", ringlet::TopicConfig::default().partitions(3))?;
    /// let g = t.group("g")?;
    /// let mut a = g.join()?;
    /// let mut b = g.join()?;
    /// b.assign(&[0])?;
    /// assert_eq!((a.assignment(), b.assignment()), (vec![1, 2], vec![0]));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn assign(&mut self, partitions: &[u32]) -> Result<(), Error> {
        self.group.touch(&self.live);
        self.refresh()?;
        self.group.assign(self.id, partitions)?;
        self.refresh()
    }

    /// Stops returning records from these owned partitions until `resume`.
    ///
    /// # Errors
    ///
    /// `NotOwner`, `OutOfRange` (nothing is paused then).
    pub fn pause(&mut self, partitions: &[u32]) -> Result<(), Error> {
        self.refresh()?;
        for &p in partitions {
            self.check_owned(p)?;
        }
        for &p in partitions {
            if !self.paused.contains(&p) {
                self.paused.push(p);
                self.reader.set_active(p, None);
            }
        }
        Ok(())
    }

    /// Returns records from these paused partitions again.
    ///
    /// # Errors
    ///
    /// `NotOwner`, `OutOfRange` (nothing is resumed then).
    pub fn resume(&mut self, partitions: &[u32]) -> Result<(), Error> {
        self.refresh()?;
        for &p in partitions {
            self.check_owned(p)?;
        }
        for &p in partitions {
            if let Some(i) = self.paused.iter().position(|q| *q == p) {
                self.paused.remove(i);
                let at = self.reader.position(p);
                self.reader.set_active(p, Some(at));
            }
        }
        Ok(())
    }

    /// The paused partitions.
    pub fn paused(&self) -> Vec<u32> {
        let mut v = self.paused.clone();
        v.sort_unstable();
        v
    }

    /// The end offset of every partition of the topic.
    pub fn end_offsets(&self) -> Vec<u64> {
        (0..self.topic.config.partitions)
            .map(|p| crate::group::TopicOps::end(&*self.topic, p))
            .collect()
    }

    /// Per partition, the first retained offset whose timestamp is at or after `ms`
    /// (`None` if there is none).
    pub fn offsets_for_times(&self, ms: i64) -> Vec<Option<u64>> {
        Self::offsets_for(&self.topic, ms)
    }

    pub(crate) fn offsets_for(topic: &TopicInner<T>, ms: i64) -> Vec<Option<u64>> {
        let at = crate::topic::resolve(topic, &crate::Start::Timestamp(ms)).unwrap_or_default();
        at.into_iter()
            .enumerate()
            .map(|(p, o)| (o < crate::group::TopicOps::end(topic, p as u32)).then_some(o))
            .collect()
    }

    /// Leaves the group (auto-committing first if the group auto-commits); its
    /// partitions go to the other members at once, and its reads end with
    /// `Closed`. Leaving again does nothing; dropping the member leaves too. A
    /// member the session timeout removed just ends (it does not join again to
    /// leave, and has nothing left to commit).
    pub fn leave(&mut self) {
        self.leave_as(LeaveReason::Leave);
    }

    /// Crashes the member (an injected fault, [`crate::faults`]): it stops
    /// calling without leaving. Its calls end as after `leave`, nothing is
    /// committed, and the group keeps its partitions until the session timeout
    /// removes it. Whether it was still a member.
    pub(crate) fn crash(&mut self) -> bool {
        if self.left {
            return false;
        }
        self.cancel_poll();
        self.left = true;
        self.reader.close();
        true
    }

    /// The member's topic and group names.
    pub(crate) fn names(&self) -> (&str, &str) {
        (&self.group.topic_name, &self.group.name)
    }

    fn leave_as(&mut self, reason: LeaveReason) {
        if self.left {
            return;
        }
        self.cancel_poll();
        // A member the session timeout removed owns nothing: it leaves without
        // joining again first (which would move partitions to it and back).
        if self.group.config.auto_commit && self.refresh_with(false).is_ok() {
            let _ = self.commit_owned();
        }
        self.left = true;
        self.group.remove(self.id, reason);
        self.reader.close();
    }
}

impl<T> Member<T> {
    /// The owned partitions whose position moved since the last commit (or start).
    fn moved(&self) -> Vec<(u32, u64)> {
        self.assignment
            .iter()
            .map(|&p| (p, self.reader.position(p)))
            .filter(|&(p, o)| o != self.base[p as usize])
            .collect()
    }
}

impl<T> Drop for Member<T> {
    fn drop(&mut self) {
        if self.left {
            return;
        }
        // Auto-commit without a fresh sync: a partition revoked meanwhile fails
        // the commit, and its new owner reads those records again.
        if self.group.config.auto_commit {
            let _ = self.group.commit(self.id, &self.grant, &self.moved());
        }
        self.left = true;
        self.group.remove(self.id, LeaveReason::Drop);
    }
}

/// The future of [`Member::recv_async`].
#[must_use = "futures do nothing unless polled"]
pub struct MemberRecvFuture<'a, T> {
    member: &'a mut Member<T>,
}

impl<T> std::fmt::Debug for MemberRecvFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRecvFuture").finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Future for MemberRecvFuture<'_, T> {
    type Output = Result<Record<T>, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.member.poll_read(cx)
    }
}

impl<T> Drop for MemberRecvFuture<'_, T> {
    fn drop(&mut self) {
        let m = &*self.member;
        m.topic.data.unregister(m.reader.id());
        m.live.busy.fetch_sub(1, Ordering::SeqCst);
        m.group.touch(&m.live);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Loom model of a rebalance racing a member about to wait.
    use super::*;
    use crate::topic::{Topic, TopicConfig};
    use crate::wait::BusTimer;
    use crate::{Clock, GroupConfig, ManualClock, Message, Start};
    use loom::sync::atomic::AtomicBool;
    use loom::thread;
    use std::task::{Wake, Waker};

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A member waiting on its own (empty) partition while another member leaves:
    /// the rebalance hands it the other partition, which has a record, and wakes it
    /// (or it sees the new assignment before it waits). No lost wake-up.
    #[test]
    fn rebalance_wakes_a_waiting_member() {
        loom::model(|| {
            let timer = Arc::new(BusTimer::new(Clock::Manual(ManualClock::new())));
            let config = TopicConfig::default().partitions(2).capacity(2);
            let t = Topic::<usize>::create("t".into(), config, timer, None, None).unwrap();
            t.publish_message(Message::new(7).partition(0)).unwrap();
            let g = t
                .group_with("g", GroupConfig::default().start(Start::Earliest))
                .unwrap();
            let a = g.join().unwrap();
            let mut b = g.join().unwrap();
            assert_eq!(b.assignment(), vec![1]);
            let h = thread::spawn(move || drop(a));
            let flag = Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            let mut fut = b.recv_async();
            let first = Pin::new(&mut fut).poll(&mut cx);
            h.join().unwrap();
            match first {
                Poll::Ready(r) => assert_eq!(r.unwrap().value, 7),
                Poll::Pending => {
                    assert!(flag.0.load(Ordering::SeqCst), "lost wake-up");
                    match Pin::new(&mut fut).poll(&mut cx) {
                        Poll::Ready(r) => assert_eq!(r.unwrap().value, 7),
                        Poll::Pending => panic!("woken, but nothing to read"),
                    }
                }
            }
        });
    }
}
crate::topic::reader_by_inherent_methods!(Member);
