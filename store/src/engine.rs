//! The engine's [`Storage`] on a store directory: a topic's description in its
//! `meta.json`, a [`PartitionLog`] per partition.

use std::sync::Mutex;

use ringlet::storage::{Durability, Storage, StoredRecord, StoredTopic, TopicLogs};
use ringlet::Error;

use crate::{Dir, LogOptions, PartitionLog, StoreError};

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt {
                file,
                position,
                reason,
            } => Error::Corrupt {
                file: file.display().to_string(),
                position,
                reason,
            },
            StoreError::Locked { path } => Error::Locked {
                path: path.display().to_string(),
            },
            StoreError::Io { op, path, source } => Error::Io {
                path: path.display().to_string(),
                reason: format!("could not {op} it: {source}"),
            },
            e @ (StoreError::OutOfOrder { .. } | StoreError::Poisoned { .. }) => Error::Io {
                path: String::new(),
                reason: e.to_string(),
            },
        }
    }
}

impl Storage for Dir {
    fn open_topic(
        &self,
        name: &str,
        description: &StoredTopic,
    ) -> Result<Box<dyn TopicLogs>, Error> {
        if !self.is_locked() {
            return Err(Error::Closed);
        }
        match self.describe(name)? {
            Some(stored) => {
                if stored != *description {
                    return Err(Error::ConfigError {
                        name: name.to_owned(),
                        reason: format!(
                            "it is stored with {}; asked for {} (open it as it is stored, or remove its folder {} to start again)",
                            describe(&stored),
                            describe(description),
                            self.path().join(name).display()
                        ),
                    });
                }
            }
            None => {
                let json = serde_json::to_vec(description).map_err(|e| Error::Io {
                    path: name.to_owned(),
                    reason: e.to_string(),
                })?;
                self.write_meta(name, &json)?;
            }
        }
        let mut logs = Vec::new();
        let mut recovered = Vec::new();
        for p in 0..description.partitions {
            let (log, recovery) = self.log(name, p, &LogOptions::default())?;
            recovered.extend(recovery.truncations.iter().map(|t| {
                format!(
                    "{}: cut at byte {} ({} bytes dropped): {}",
                    t.file.display(),
                    t.position,
                    t.bytes,
                    t.reason
                )
            }));
            logs.push(Mutex::new(log));
        }
        Ok(Box::new(DirTopic { logs, recovered }))
    }

    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        let Some(bytes) = self.read_meta(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt {
                file: self
                    .path()
                    .join(name)
                    .join("meta.json")
                    .display()
                    .to_string(),
                position: 0,
                reason: format!("not a topic description: {e}"),
            })
    }

    fn close(&self) -> Result<(), Error> {
        Ok(self.unlock()?)
    }
}

fn describe(t: &StoredTopic) -> String {
    format!(
        "{} partitions, values {} (codec {}){}",
        t.partitions,
        t.value_type,
        t.codec,
        if t.compacted { ", compacted" } else { "" }
    )
}

/// A topic's partition logs in a store directory.
#[derive(Debug)]
struct DirTopic {
    logs: Vec<Mutex<PartitionLog>>,
    recovered: Vec<String>,
}

impl DirTopic {
    fn log(&self, p: u32) -> std::sync::MutexGuard<'_, PartitionLog> {
        // A panic while holding a log cannot leave it half-written (appends undo
        // failed writes): go on with it.
        self.logs[p as usize]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TopicLogs for DirTopic {
    fn first_offset(&self, partition: u32) -> u64 {
        self.log(partition).first_offset()
    }

    fn next_offset(&self, partition: u32) -> u64 {
        self.log(partition).next_offset()
    }

    fn read(
        &self,
        partition: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error> {
        Ok(self.log(partition).read(from, f)?)
    }

    fn append(
        &self,
        partition: u32,
        records: &[StoredRecord],
        durability: Durability,
    ) -> Result<(), Error> {
        let sync = durability == Durability::Synced;
        Ok(self.log(partition).append(records, sync)?)
    }

    fn retain_from(&self, partition: u32, offset: u64) -> Result<(), Error> {
        self.log(partition).retain_from(offset)?;
        Ok(())
    }

    fn sync(&self) -> Result<(), Error> {
        let mut first = Ok(());
        for p in 0..self.logs.len() as u32 {
            if let Err(e) = self.log(p).sync() {
                if first.is_ok() {
                    first = Err(e.into());
                }
            }
        }
        first
    }

    fn recovered(&self) -> Vec<String> {
        self.recovered.clone()
    }
}
