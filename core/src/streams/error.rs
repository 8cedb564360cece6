//! What a failing record reports: its cause, the node, the record; and what the
//! topology does then ([`OnError`]).

use crate::record::Key;
use std::fmt;
use std::sync::Arc;

/// The error a `try_` callback returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a record failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Cause {
    /// A callback returned this error.
    Callback(Arc<dyn std::error::Error + Send + Sync + 'static>),
    /// A callback returned an [`Interrupt`]: the run stopped at this record,
    /// whatever the [`OnError`]; the record did not fail (it is not in
    /// [`Topology::errors`](crate::Topology::errors)) and is read again by the next
    /// step.
    Interrupted(Arc<dyn std::error::Error + Send + Sync + 'static>),
    /// A callback panicked with this message.
    Panic(String),
    /// An output could not be written: `target` is the topic or table.
    Output {
        /// The topic or table.
        target: String,
        /// Why (`full`, `closed`, …).
        reason: String,
    },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Callback(e) => write!(f, "{e}"),
            Cause::Interrupted(e) => write!(f, "interrupted: {e}"),
            Cause::Panic(m) => write!(f, "panicked: {m}"),
            Cause::Output { target, reason } => write!(f, "cannot write to {target:?}: {reason}"),
        }
    }
}

/// What a callback returns (boxed) to stop the run instead of failing its record:
/// a host's "the user pressed Ctrl-C" (Python's `KeyboardInterrupt`). The step
/// stops at the record under every [`OnError`], nothing the record staged is
/// applied, its offset is not committed, and the error comes back as a
/// [`StreamError`] with [`Cause::Interrupted`] holding the inner error.
#[derive(Debug)]
pub struct Interrupt(pub BoxError);

impl Interrupt {
    /// `e`, boxed as an interrupt.
    pub fn boxed(e: BoxError) -> BoxError {
        Box::new(Interrupt(e))
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted: {}", self.0)
    }
}

impl std::error::Error for Interrupt {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// A record that failed in a topology: where, on which record, and why.
#[derive(Debug, Clone)]
pub struct StreamError {
    /// The topology's name.
    pub topology: String,
    /// The processor whose callback (or output) failed.
    pub node: String,
    /// The source topic of the record.
    pub topic: String,
    /// The record's partition in the source topic.
    pub partition: u32,
    /// The record's offset in the source topic.
    pub offset: u64,
    /// The record's key, as read from the source.
    pub key: Option<Key>,
    /// Why it failed.
    pub cause: Cause,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed on record {}[{}]@{}",
            self.node, self.topic, self.partition, self.offset
        )?;
        if let Some(k) = &self.key {
            write!(f, " (key {k:?})")?;
        }
        write!(f, ": {}", self.cause)
    }
}

impl crate::ErrorDetails for StreamError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::StreamError
    }

    fn partition(&self) -> Option<u32> {
        Some(self.partition)
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Callback(e) | Cause::Interrupted(e) => {
                Some(&**e as &(dyn std::error::Error + 'static))
            }
            _ => None,
        }
    }
}

/// What a topology does with a record whose processing failed. See the
/// [module docs](crate::streams).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop at the record; it is read again by the next step.
    #[default]
    Stop,
    /// Skip the record, keep the error in [`Topology::errors`](crate::Topology::errors), go on.
    Skip,
}

crate::error::named_values!(OnError, "on_error", {
    Stop => "stop",
    Skip => "skip",
});

/// A failure inside the graph: the node and the cause.
pub(crate) struct Failure {
    pub(crate) node: usize,
    pub(crate) cause: Cause,
}
