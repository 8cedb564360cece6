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
    fn append(&self, p: u32, records: &[StoredRecord], d: Durability) -> Result<(), Error> {
        if self.appends.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Err(Error::Io {
                path: "disk".into(),
                reason: "No space left on device".into(),
            });
        }
        self.inner.append(p, records, d)
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
