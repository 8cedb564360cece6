//! What can go wrong with stored files.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a store call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A segment is damaged before its tail: its bytes from `position` on do not
    /// hold good frames, and good data follows (or the segment is not the last).
    /// Opening with `repair` truncates the log there instead.
    Corrupt {
        /// The segment file.
        file: PathBuf,
        /// The byte position of the first bad frame.
        position: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The directory is open in another store (this process or another).
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The operating system refused a read, write, sync or rename; nothing of the
    /// failed call is visible.
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// An append whose offsets do not follow the log's (each record's offset must
    /// be greater than the one before, and at least the log's next offset).
    OutOfOrder {
        /// The offset given.
        offset: u64,
        /// The lowest offset allowed there.
        expected: u64,
    },
    /// A write failed earlier and could not be undone; the log refuses further
    /// appends until it is opened again (which drops the partial write).
    Poisoned {
        /// The segment file.
        file: PathBuf,
    },
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Corrupt {
                file,
                position,
                reason,
            } => write!(
                f,
                "{} is corrupt at byte {position}: {reason} (open with repair to truncate the log there)",
                file.display()
            ),
            StoreError::Locked { path } => write!(
                f,
                "{} is locked: the directory is open in another store (one process at a time)",
                path.display()
            ),
            StoreError::Io { op, path, source } => {
                write!(f, "could not {op} {}: {source}", path.display())
            }
            StoreError::OutOfOrder { offset, expected } => write!(
                f,
                "offset {offset} is out of order: the log takes offsets from {expected} on, increasing"
            ),
            StoreError::Poisoned { file } => write!(
                f,
                "an earlier write to {} failed and could not be undone: open the log again",
                file.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
