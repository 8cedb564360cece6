//! How a store directory's logs take appends in each durability mode: the group
//! commit that lets concurrent `Synced` callers share one `fdatasync`, and the
//! background writer of `Buffered` appends.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use ringlet::storage::StoredRecord;
use ringlet::Error;

use crate::{PartitionLog, StoreError, SyncPoint};

/// How long a `Buffered` append waits for the background writer at most
/// (unless the writer thread is kept from running).
pub(crate) const BUFFER_DELAY: Duration = Duration::from_millis(5);

/// Bytes of values a partition buffers before the appending call writes them
/// itself.
pub(crate) const BUFFER_BYTES: usize = 1 << 20;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here is left half-changed by a panic: go on with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Group commit of one log: callers wait until what they wrote is on disk; one
/// of them at a time (the leader) syncs, covering everything written before it
/// started, and the others whose records that covered return with it.
#[derive(Debug, Default)]
pub(crate) struct GroupSync {
    state: Mutex<SyncState>,
    turn: Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Everything before this offset is on disk.
    through: u64,
    /// A leader is syncing.
    syncing: bool,
    /// Why a sync failed: what reached the disk is unknown from then on.
    failed: Option<String>,
}

impl GroupSync {
    /// Returns once the records before `offset` are on disk. `point` takes the
    /// log's sync point (under the log's lock, briefly); `poison` makes the log
    /// refuse appends after a failed sync. Neither is called with this state
    /// locked.
    pub(crate) fn wait(
        &self,
        offset: u64,
        point: impl Fn() -> Result<SyncPoint, StoreError>,
        poison: impl Fn(),
    ) -> Result<(), Error> {
        let mut st = lock(&self.state);
        loop {
            if st.through >= offset {
                return Ok(());
            }
            if let Some(why) = &st.failed {
                return Err(failed_sync(why));
            }
            if st.syncing {
                st = self.turn.wait(st).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            st.syncing = true;
            drop(st);
            let synced = point().and_then(SyncPoint::sync);
            if synced.is_err() {
                poison();
            }
            st = lock(&self.state);
            st.syncing = false;
            match synced {
                Ok(through) => st.through = st.through.max(through),
                Err(e) => st.failed = Some(e.to_string()),
            }
            self.turn.notify_all();
        }
    }
}

fn failed_sync(why: &str) -> Error {
    Error::Io {
        path: String::new(),
        reason: format!(
            "a sync failed ({why}): what reached the disk is unknown, so the log takes no more appends; open the bus again"
        ),
    }
}

/// A partition's log and the records buffered for it.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) log: PartitionLog,
    pending: Vec<StoredRecord>,
    pending_bytes: usize,
    /// Why a buffered write failed (records confirmed before it are lost): the
    /// partition takes no more appends.
    failed: Option<String>,
}

impl Slot {
    pub(crate) fn new(log: PartitionLog) -> Self {
        Slot {
            log,
            pending: Vec::new(),
            pending_bytes: 0,
            failed: None,
        }
    }

    /// Where the partition's offsets continue (buffered records counted).
    pub(crate) fn next_offset(&self) -> u64 {
        self.pending
            .last()
            .map_or_else(|| self.log.next_offset(), |r| r.offset + 1)
    }

    fn refused(&self) -> Result<(), Error> {
        match &self.failed {
            None => Ok(()),
            Some(why) => Err(Error::Io {
                path: self.log.dir().display().to_string(),
                reason: format!(
                    "a buffered write failed ({why}): records published shortly before it are not on disk, and the log takes no more; open the bus again"
                ),
            }),
        }
    }

    /// Appends `records` now (buffered ones first).
    pub(crate) fn append(&mut self, records: &[StoredRecord], sync: bool) -> Result<(), Error> {
        self.refused()?;
        self.flush()?;
        Ok(self.log.append(records, sync)?)
    }

    /// Buffers `records` for the background writer; writes them (and what was
    /// buffered before) at once when more than [`BUFFER_BYTES`] are buffered.
    /// Returns whether the writer should be woken (the buffer was empty).
    pub(crate) fn buffer(&mut self, records: &[StoredRecord]) -> Result<bool, Error> {
        self.refused()?;
        let next = self.next_offset();
        if let Some(r) = records.iter().find(|r| r.offset < next) {
            return Err(StoreError::OutOfOrder {
                offset: r.offset,
                expected: next,
            }
            .into());
        }
        let was_empty = self.pending.is_empty();
        self.pending.extend_from_slice(records);
        self.pending_bytes += records.iter().map(|r| r.value.len() + 32).sum::<usize>();
        if self.pending_bytes >= BUFFER_BYTES {
            self.flush()?;
        }
        Ok(was_empty)
    }

    /// Writes what is buffered, as one append. A failure loses those records
    /// (their publishes returned): the partition then refuses appends.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        if let Err(e) = self.log.append(&pending, false) {
            self.failed = Some(e.to_string());
            self.refused()?;
        }
        Ok(())
    }
}

/// The background writer of a topic's `Buffered` appends: woken when a buffer
/// that was empty gets records, it waits [`BUFFER_DELAY`] (so records arriving
/// meanwhile go in the same write) and writes every partition's buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    state: Mutex<WriterState>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct WriterState {
    started: bool,
    dirty: bool,
    stop: bool,
}

impl Writer {
    /// Tells the writer there is something to write, starting its thread the
    /// first time. `slots` is what it writes (held weakly: the thread ends with
    /// the topic).
    pub(crate) fn wake(self: &Arc<Self>, slots: &Arc<[Mutex<Slot>]>) -> Result<(), Error> {
        let mut st = lock(&self.state);
        st.dirty = true;
        if !st.started {
            let writer = Arc::clone(self);
            let weak = Arc::downgrade(slots);
            std::thread::Builder::new()
                .name("ringlet-store-writer".into())
                .spawn(move || writer.run(&weak))
                .map_err(|e| Error::Io {
                    path: String::new(),
                    reason: format!("could not start the buffered writer's thread: {e}"),
                })?;
            st.started = true;
        }
        drop(st);
        self.wake.notify_one();
        Ok(())
    }

    /// Ends the thread (after the topic wrote its buffers itself).
    pub(crate) fn stop(&self) {
        lock(&self.state).stop = true;
        self.wake.notify_one();
    }

    fn run(&self, slots: &Weak<[Mutex<Slot>]>) {
        loop {
            let mut st = lock(&self.state);
            while !st.dirty && !st.stop {
                st = self.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
            }
            if st.stop {
                return;
            }
            drop(st);
            std::thread::sleep(BUFFER_DELAY);
            lock(&self.state).dirty = false;
            let Some(slots) = slots.upgrade() else {
                return;
            };
            for slot in slots.iter() {
                // A failure is kept in the slot and returned to its next append.
                let _ = lock(slot).flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::LogOptions;

    fn scratch(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("ringlet-writer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    #[test]
    fn waiters_covered_by_a_sync_return_with_it() {
        let dir = scratch("group");
        let (log, _) = PartitionLog::open(&dir, &LogOptions::default()).unwrap();
        let log = Mutex::new(log);
        let sync = GroupSync::default();
        let points = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (log, sync, points) = (&log, &sync, &points);
                s.spawn(move || {
                    for i in 0..50 {
                        let through = {
                            let mut log = lock(log);
                            let at = log.next_offset();
                            log.append(&[StoredRecord::new(at, 0, vec![t as u8, i])], false)
                                .unwrap();
                            at + 1
                        };
                        sync.wait(
                            through,
                            || {
                                points.fetch_add(1, Ordering::Relaxed);
                                lock(log).sync_point()
                            },
                            || lock(log).poison(),
                        )
                        .unwrap();
                        assert!(lock(&sync.state).through >= through);
                    }
                });
            }
        });
        // Never more syncs than appends; each append covered.
        assert!(points.load(Ordering::Relaxed) <= 200);
        assert_eq!(lock(&sync.state).through, 200);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_sync_poisons_the_log_and_fails_later_waits_not_earlier_ones() {
        let sync = GroupSync::default();
        lock(&sync.state).through = 5;
        let poisoned = AtomicBool::new(false);
        let failing = || {
            Err(StoreError::io(
                "sync",
                std::path::Path::new("segment.log"),
                std::io::Error::other("Input/output error"),
            ))
        };
        let e = sync
            .wait(6, failing, || poisoned.store(true, Ordering::Relaxed))
            .unwrap_err();
        assert!(e.to_string().contains("Input/output error"), "{e}");
        assert!(poisoned.load(Ordering::Relaxed));
        // On disk before the failure: still fine. After it: unknown.
        assert!(sync.wait(5, failing, || {}).is_ok());
        assert!(sync.wait(7, || unreachable!(), || {}).is_err());
    }
}
