//! What the durable tests share: scratch directories and a storage that fails on purpose.

#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ringlet::storage::{Durability, Storage, StoredRecord, StoredTopic, TopicLogs};
use ringlet::Error;
use ringlet_store::Dir;

pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("ringlet-durable-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A store whose `fail_at`-th write fails, as a full disk would (an append;
/// commits from the `fail_at`-th write on).
#[derive(Debug)]
pub struct Failing {
    pub inner: Dir,
    pub fail_at: usize,
    pub appends: Arc<AtomicUsize>,
}

#[derive(Debug)]
pub struct FailingLogs {
    inner: Box<dyn TopicLogs>,
    fail_at: usize,
    appends: Arc<AtomicUsize>,
}

impl Storage for Failing {
    fn open_topic(&self, name: &str, d: &StoredTopic) -> Result<Box<dyn TopicLogs>, Error> {
        Ok(Box::new(FailingLogs {
            inner: self.inner.open_topic(name, d)?,
            fail_at: self.fail_at,
            appends: self.appends.clone(),
        }))
    }
    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        self.inner.describe(name)
    }
}

impl TopicLogs for FailingLogs {
    fn first_offset(&self, p: u32) -> u64 {
        self.inner.first_offset(p)
    }
    fn next_offset(&self, p: u32) -> u64 {
        self.inner.next_offset(p)
    }
    fn read(
        &self,
        p: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error> {
        self.inner.read(p, from, f)
    }
    fn committed(&self, group: &str) -> Vec<(u32, u64)> {
        self.inner.committed(group)
    }
    fn commit(&self, group: &str, offsets: &[(u32, u64)], d: Durability) -> Result<(), Error> {
        if self.appends.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_at {
            return Err(Error::Io {
                path: "commits".into(),
                reason: "no space left on device (injected)".into(),
            });
        }
        self.inner.commit(group, offsets, d)
    }
    fn state(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.state(key)
    }
    fn store_state(&self, key: &str, value: &[u8], d: Durability) -> Result<(), Error> {
        if self.appends.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_at {
            return Err(Error::Io {
                path: "commits".into(),
                reason: "no space left on device (injected)".into(),
            });
        }
        self.inner.store_state(key, value, d)
    }
    fn append(&self, p: u32, records: &[StoredRecord], d: Durability) -> Result<(), Error> {
        if self.appends.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(Error::Io {
                path: "disk".into(),
                reason: "No space left on device".into(),
            });
        }
        self.inner.append(p, records, d)
    }
    fn sync_through(&self, p: u32, offset: u64) -> Result<(), Error> {
        self.inner.sync_through(p, offset)
    }
    fn retain_from(&self, p: u32, offset: u64) -> Result<(), Error> {
        self.inner.retain_from(p, offset)
    }
    fn sync(&self) -> Result<(), Error> {
        self.inner.sync()
    }
    fn recovered(&self) -> Vec<String> {
        self.inner.recovered()
    }
}

/// A store whose syncs fail, as a disk that reports an I/O error on `fsync`:
/// `Synced` appends are written, then fail.
#[derive(Debug)]
pub struct FailingSync(pub Dir);

#[derive(Debug)]
pub struct FailingSyncLogs(Box<dyn TopicLogs>);

fn sync_failure() -> Error {
    Error::Io {
        path: "disk".into(),
        reason: "Input/output error (injected fsync failure)".into(),
    }
}

impl Storage for FailingSync {
    fn open_topic(&self, name: &str, d: &StoredTopic) -> Result<Box<dyn TopicLogs>, Error> {
        Ok(Box::new(FailingSyncLogs(self.0.open_topic(name, d)?)))
    }
    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        self.0.describe(name)
    }
}

impl TopicLogs for FailingSyncLogs {
    fn first_offset(&self, p: u32) -> u64 {
        self.0.first_offset(p)
    }
    fn next_offset(&self, p: u32) -> u64 {
        self.0.next_offset(p)
    }
    fn read(
        &self,
        p: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error> {
        self.0.read(p, from, f)
    }
    fn committed(&self, group: &str) -> Vec<(u32, u64)> {
        self.0.committed(group)
    }
    fn commit(&self, group: &str, offsets: &[(u32, u64)], d: Durability) -> Result<(), Error> {
        self.0.commit(group, offsets, d)
    }
    fn state(&self, key: &str) -> Option<Vec<u8>> {
        self.0.state(key)
    }
    fn store_state(&self, key: &str, value: &[u8], d: Durability) -> Result<(), Error> {
        self.0.store_state(key, value, d)
    }
    fn append(&self, p: u32, records: &[StoredRecord], d: Durability) -> Result<(), Error> {
        match d {
            Durability::Synced => {
                self.0.append(p, records, Durability::Written)?;
                Err(sync_failure())
            }
            d => self.0.append(p, records, d),
        }
    }
    fn sync_through(&self, _: u32, _: u64) -> Result<(), Error> {
        Err(sync_failure())
    }
    fn retain_from(&self, p: u32, offset: u64) -> Result<(), Error> {
        self.0.retain_from(p, offset)
    }
    fn sync(&self) -> Result<(), Error> {
        Err(sync_failure())
    }
    fn recovered(&self) -> Vec<String> {
        self.0.recovered()
    }
}

/// A store that dies at its `at`-th write: that write and every later one
/// fail, as if the process had been killed there (what was written before
/// stays, as the operating system keeps it).
#[derive(Debug)]
pub struct Dying {
    pub inner: Dir,
    pub at: usize,
    pub writes: Arc<AtomicUsize>,
}

#[derive(Debug)]
pub struct DyingLogs {
    inner: Box<dyn TopicLogs>,
    at: usize,
    writes: Arc<AtomicUsize>,
}

impl DyingLogs {
    fn write(&self) -> Result<(), Error> {
        if self.writes.fetch_add(1, Ordering::SeqCst) + 1 >= self.at {
            return Err(Error::Io {
                path: "disk".into(),
                reason: "the process died here (injected)".into(),
            });
        }
        Ok(())
    }
}

impl Storage for Dying {
    fn open_topic(&self, name: &str, d: &StoredTopic) -> Result<Box<dyn TopicLogs>, Error> {
        Ok(Box::new(DyingLogs {
            inner: self.inner.open_topic(name, d)?,
            at: self.at,
            writes: self.writes.clone(),
        }))
    }
    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        self.inner.describe(name)
    }
}

impl TopicLogs for DyingLogs {
    fn first_offset(&self, p: u32) -> u64 {
        self.inner.first_offset(p)
    }
    fn next_offset(&self, p: u32) -> u64 {
        self.inner.next_offset(p)
    }
    fn read(
        &self,
        p: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error> {
        self.inner.read(p, from, f)
    }
    fn committed(&self, group: &str) -> Vec<(u32, u64)> {
        self.inner.committed(group)
    }
    fn commit(&self, group: &str, offsets: &[(u32, u64)], d: Durability) -> Result<(), Error> {
        self.write()?;
        self.inner.commit(group, offsets, d)
    }
    fn state(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.state(key)
    }
    fn store_state(&self, key: &str, value: &[u8], d: Durability) -> Result<(), Error> {
        self.write()?;
        self.inner.store_state(key, value, d)
    }
    fn append(&self, p: u32, records: &[StoredRecord], d: Durability) -> Result<(), Error> {
        self.write()?;
        self.inner.append(p, records, d)
    }
    fn rewrite(&self, p: u32, records: &[StoredRecord]) -> Result<(), Error> {
        self.write()?;
        self.inner.rewrite(p, records)
    }
    fn retain_from(&self, p: u32, offset: u64) -> Result<(), Error> {
        self.write()?;
        self.inner.retain_from(p, offset)
    }
    fn sync(&self) -> Result<(), Error> {
        self.write()?;
        self.inner.sync()
    }
    fn recovered(&self) -> Vec<String> {
        self.inner.recovered()
    }
}
