//! Rebalance listeners that a host runs itself (Python and JS call their own
//! functions, outside the engine and outside the member's lock): the member queues
//! its assignment changes, the host dispatches them after the call, and if one of
//! its listeners fails, puts back what that call read.
//!
//! The rules, the same in every language:
//! * changes are dispatched in the order the member saw them, revocations of a
//!   rebalance before its assignments;
//! * every listener is called even after one fails, and the first failure is
//!   returned (as Kafka's consumer rethrows the first listener exception after
//!   calling them all);
//! * putting back seeks each partition to the smallest offset the call returned,
//!   so those records are read again; partitions the member no longer owns are
//!   left alone (their new owner reads them from the committed offset).

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Member;

/// One change of a member's assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentChange {
    /// Partitions gained (`on_assign`).
    Assigned(Vec<u32>),
    /// Partitions lost (`on_revoke`).
    Revoked(Vec<u32>),
}

/// The assignment changes a member saw and whose listeners have not run yet
/// ([`Member::queue_changes`]). Cheap to clone; clones share the queue.
///
/// # Examples
///
/// ```
/// use ringlet::{AssignmentChange, TopicConfig};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u8>("t", TopicConfig::default().partitions(2))?;
/// let mut m = t.group("g")?.join()?;
/// let changes = m.queue_changes();
/// let _ = m.try_recv();
/// let mut seen = vec![];
/// let r: Result<(), ()> = changes.dispatch(|c| {
///     seen.push(c.clone());
///     Ok(())
/// });
/// assert_eq!((r, seen), (Ok(()), vec![AssignmentChange::Assigned(vec![0, 1])]));
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ChangeQueue {
    queue: Arc<Mutex<VecDeque<AssignmentChange>>>,
}

impl ChangeQueue {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    /// Hands every waiting change to `listener`, in order, and returns the first
    /// error it gave (after calling it for all of them). The queue's lock is not
    /// held while `listener` runs, so it may call back into the member.
    ///
    /// # Errors
    ///
    /// The first error `listener` returned.
    pub fn dispatch<E>(
        &self,
        mut listener: impl FnMut(&AssignmentChange) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut first = Ok(());
        loop {
            let next = self.queue.lock().pop_front();
            let Some(change) = next else {
                return first;
            };
            if let Err(e) = listener(&change) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
    }

    fn push(&self, change: AssignmentChange) {
        self.queue.lock().push_back(change);
    }
}

impl<T: Clone + Send + Sync + 'static> Member<T> {
    /// From now on, queue assignment changes instead of calling `on_assign` /
    /// `on_revoke` closures (it replaces them): the host dispatches them itself
    /// after each call. See [`ChangeQueue`].
    pub fn queue_changes(&mut self) -> ChangeQueue {
        let changes = ChangeQueue::default();
        let (assigned, revoked) = (changes.clone(), changes.clone());
        self.on_assign(move |p| assigned.push(AssignmentChange::Assigned(p.to_vec())));
        self.on_revoke(move |p| revoked.push(AssignmentChange::Revoked(p.to_vec())));
        changes
    }

    /// Puts back records a call returned, given as `(partition, offset)`: each
    /// owned partition is sought to the smallest offset among them, so they are
    /// read again. See [`ChangeQueue`].
    pub fn put_back(&mut self, read: impl IntoIterator<Item = (u32, u64)>) {
        let mut first: Vec<(u32, u64)> = Vec::new();
        for (p, o) in read {
            match first.iter_mut().find(|(q, _)| *q == p) {
                Some(f) => f.1 = f.1.min(o),
                None => first.push((p, o)),
            }
        }
        for (p, o) in first {
            // A partition revoked meanwhile is its new owner's to read.
            let _ = self.seek(p, o);
        }
    }
}
