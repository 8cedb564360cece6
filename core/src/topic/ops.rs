//! What the groups need of a topic, whatever its value type.

use std::sync::Arc;

use super::partition::Cursor;
use super::{resolve, Start, TopicInner};
use crate::sync::Ordering;
use crate::Error;

/// What a reader that keeps its own cursors (a consumer or share group) needs of
/// its topic, whatever the topic's value type.
pub(crate) trait TopicOps: Send + Sync {
    fn end(&self, p: u32) -> u64;
    /// Records a reader at `pos` in `p` has yet to read.
    fn lag_from(&self, p: u32, pos: u64) -> u64;
    /// The oldest readable offset of `p`.
    fn floor(&self, p: u32) -> u64;
    /// Where a reader starting at `start` begins in `p`.
    fn start_of(&self, p: u32, start: &Start) -> u64;
    fn add_cursor(&self, p: u32, cursor: &Arc<Cursor>);
    fn remove_cursor(&self, p: u32, cursor: &Arc<Cursor>);
    /// A cursor moved: wake producers waiting for room in `p`.
    fn room_changed(&self, p: u32);
    /// Wake every reader (a rebalance changed what members read).
    fn wake_readers(&self);
    fn is_closed(&self) -> bool;
    /// What a durable topic stores as consumer group `group`'s commits (empty for
    /// a topic in memory).
    fn stored_commits(&self, group: &str) -> Vec<(u32, u64)>;
    /// Stores a commit of a durable topic's consumer group (nothing in memory).
    fn store_commit(&self, group: &str, offsets: &[(u32, u64)]) -> Result<(), Error>;
    /// What a durable topic stores under `key` (see [`TopicLogs::state`]).
    ///
    /// [`TopicLogs::state`]: crate::storage::TopicLogs::state
    fn stored_state(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores a durable topic's reader state (nothing in memory).
    fn store_state(&self, key: &str, value: &[u8]) -> Result<(), Error>;
}

impl<T: Clone + Send + Sync + 'static> TopicOps for TopicInner<T> {
    fn end(&self, p: u32) -> u64 {
        self.parts[p as usize].end()
    }

    fn lag_from(&self, p: u32, pos: u64) -> u64 {
        TopicInner::lag_from(self, p, pos)
    }

    fn floor(&self, p: u32) -> u64 {
        TopicInner::floor(self, p)
    }

    fn start_of(&self, p: u32, start: &Start) -> u64 {
        match start {
            Start::Earliest => TopicInner::floor(self, p),
            Start::Timestamp(_) => resolve(self, start)
                .ok()
                .and_then(|v| v.get(p as usize).copied())
                .unwrap_or_else(|| self.parts[p as usize].end()),
            _ => self.parts[p as usize].end(),
        }
    }

    fn add_cursor(&self, p: u32, cursor: &Arc<Cursor>) {
        let part = &self.parts[p as usize];
        let mut cursors = part.cursors.lock();
        cursors.push(cursor.clone());
        // Under the lock, so a concurrent rescan cannot raise it past the cursor.
        part.gate
            .fetch_min(cursor.pos.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn remove_cursor(&self, p: u32, cursor: &Arc<Cursor>) {
        let part = &self.parts[p as usize];
        part.cursors.lock().retain(|c| !Arc::ptr_eq(c, cursor));
        part.room.notify();
    }

    fn room_changed(&self, p: u32) {
        self.parts[p as usize].room.notify();
    }

    fn wake_readers(&self) {
        self.data.notify();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn stored_commits(&self, group: &str) -> Vec<(u32, u64)> {
        self.durable
            .as_ref()
            .map(|d| d.logs.committed(group))
            .unwrap_or_default()
    }

    fn store_commit(&self, group: &str, offsets: &[(u32, u64)]) -> Result<(), Error> {
        match &self.durable {
            Some(d) => d.logs.commit(group, offsets, d.durability),
            None => Ok(()),
        }
    }

    fn stored_state(&self, key: &str) -> Option<Vec<u8>> {
        self.durable.as_ref().and_then(|d| d.logs.state(key))
    }

    fn store_state(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        match &self.durable {
            Some(d) => d.logs.store_state(key, value, d.durability),
            None => Ok(()),
        }
    }
}
