//! A store directory: one lock, one folder per topic or queue, a log per
//! partition.

use std::fs::{self, File, OpenOptions as FsOpen};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::log::sync_dir;
use crate::{LogOptions, PartitionLog, Recovery, StoreError};

/// How a store directory is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Truncate logs at damage found before their tail instead of failing with
    /// `Corrupt` (what was after the damage is lost, and reported).
    pub repair: bool,
}

/// How many times (5 ms apart) opening tries a lock held elsewhere.
const LOCK_TRIES: u32 = 20;

/// A directory of logs, locked for this store while it is open (a second
/// `Dir::open` of it, here or in another process, is `Locked`).
///
/// # Examples
///
/// ```
/// use ringlet_store::{Dir, LogOptions, StoreError};
/// let path = std::env::temp_dir().join(format!("ringlet-dir-doc-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&path);
/// let dir = Dir::open(&path)?;
/// assert!(matches!(Dir::open(&path), Err(StoreError::Locked { .. })));
/// let (log, _) = dir.log("orders", 0, &LogOptions::default())?;
/// assert_eq!(log.next_offset(), 0);
/// dir.write_meta("orders", br#"{"partitions":1}"#)?;
/// assert_eq!(dir.read_meta("orders")?.as_deref(), Some(&br#"{"partitions":1}"#[..]));
/// assert_eq!(dir.names()?, ["orders"]);
/// drop((log, dir));
/// assert!(Dir::open(&path).is_ok());
/// # std::fs::remove_dir_all(&path).unwrap();
/// # Ok::<(), StoreError>(())
/// ```
#[derive(Debug)]
pub struct Dir {
    root: PathBuf,
    options: OpenOptions,
    /// The locked `LOCK` file, until [`Dir::unlock`].
    lock: std::sync::Mutex<Option<File>>,
}

const LOCK: &str = "LOCK";
const META: &str = "meta.json";
const COMMITS: &str = "commits";

impl Dir {
    /// Opens (creating it if missing) and locks the directory.
    ///
    /// # Errors
    ///
    /// `Locked`; `Io`.
    pub fn open(path: impl AsRef<Path>) -> Result<Dir, StoreError> {
        Self::open_with(path, OpenOptions::default())
    }

    /// [`Dir::open`] with options.
    ///
    /// # Errors
    ///
    /// `Locked`; `Io`.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Dir, StoreError> {
        let root = path.as_ref().to_owned();
        fs::create_dir_all(&root).map_err(|e| StoreError::io("create", &root, e))?;
        let lock_path = root.join(LOCK);
        let lock = FsOpen::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::io("open", &lock_path, e))?;
        // A lock let go a moment ago may still be held for a few milliseconds
        // by a child process being started (a forked process shares the open
        // file until it runs its program): try again briefly before `Locked`.
        let mut tries = 0;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if tries < LOCK_TRIES => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked { path: lock_path })
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::io("lock", &lock_path, e))
                }
            }
        }
        Ok(Dir {
            root,
            options,
            lock: std::sync::Mutex::new(Some(lock)),
        })
    }

    /// Lets the directory's lock go before this `Dir` is dropped (a bus does when
    /// it is closed while handles of its topics are still around): another store
    /// can open the directory now, so nothing more may be written through this
    /// one or the logs it opened — the engine refuses to open topics through it.
    ///
    /// # Errors
    ///
    /// `Io` when the lock cannot be released (it is released when the process
    /// ends in any case).
    pub fn unlock(&self) -> Result<(), StoreError> {
        let file = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match file {
            Some(f) => f
                .unlock()
                .map_err(|e| StoreError::io("unlock", &self.root.join(LOCK), e)),
            None => Ok(()),
        }
    }

    /// Whether the directory is still locked for this store (until
    /// [`Dir::unlock`]).
    pub fn is_locked(&self) -> bool {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Whether logs are opened with repair.
    pub fn options(&self) -> OpenOptions {
        self.options
    }

    fn folder(&self, name: &str) -> Result<PathBuf, StoreError> {
        let safe = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !safe {
            return Err(StoreError::io(
                "name a folder for",
                &self.root.join(name),
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "names are ASCII letters, digits, '.', '_' and '-'",
                ),
            ));
        }
        Ok(self.root.join(name))
    }

    /// Opens (or creates) the log of partition `partition` of `name`, with the
    /// directory's repair setting.
    ///
    /// # Errors
    ///
    /// As [`PartitionLog::open`]; `Io` for a name that is not a safe folder name.
    pub fn log(
        &self,
        name: &str,
        partition: u32,
        options: &LogOptions,
    ) -> Result<(PartitionLog, Recovery), StoreError> {
        let path = self.folder(name)?.join(partition.to_string());
        let options = LogOptions {
            repair: options.repair || self.options.repair,
            ..options.clone()
        };
        crate::log::settle_rewrite(&path)?;
        PartitionLog::open(path, &options)
    }

    /// Opens (or creates) the log of the consumer groups' committed offsets of
    /// `name` (its `commits/` folder), with the directory's repair setting.
    ///
    /// # Errors
    ///
    /// As [`Dir::log`].
    pub fn commit_log(
        &self,
        name: &str,
        options: &LogOptions,
    ) -> Result<(PartitionLog, Recovery), StoreError> {
        let path = self.folder(name)?.join(COMMITS);
        let options = LogOptions {
            repair: options.repair || self.options.repair,
            ..options.clone()
        };
        PartitionLog::open(path, &options)
    }

    /// What was stored as `name`'s description, if anything.
    ///
    /// # Errors
    ///
    /// `Io`.
    pub fn read_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.folder(name)?.join(META);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("read", &path, e)),
        }
    }

    /// Stores `name`'s description, atomically (a crash leaves the old one or the
    /// new one) and durably.
    ///
    /// # Errors
    ///
    /// `Io`.
    pub fn write_meta(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let folder = self.folder(name)?;
        fs::create_dir_all(&folder).map_err(|e| StoreError::io("create", &folder, e))?;
        let tmp = folder.join("meta.json.tmp");
        let path = folder.join(META);
        let mut f = File::create(&tmp).map_err(|e| StoreError::io("create", &tmp, e))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| StoreError::io("write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StoreError::io("rename", &tmp, e))?;
        sync_dir(&folder)?;
        sync_dir(&self.root)
    }

    /// The names with a folder here, sorted.
    ///
    /// # Errors
    ///
    /// `Io`.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.root).map_err(|e| StoreError::io("list", &self.root, e))? {
            let entry = entry.map_err(|e| StoreError::io("list", &self.root, e))?;
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if let Some(n) = entry.file_name().to_str() {
                    out.push(n.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
