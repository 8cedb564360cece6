//! Errors: one small enum per operation (crossbeam's habit), handing back what was
//! not sent, plus [`Error`] for the registry and configuration.

use std::fmt;

/// Registry, configuration and subscription failures.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, Error, TopicConfig};
/// let bus = Bus::new();
/// assert!(matches!(bus.topic::<u8>("bad name", TopicConfig::default()), Err(Error::InvalidName { .. })));
/// assert!(matches!(bus.get_topic::<u8>("missing"), Err(Error::NotFound { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The name breaks Kafka's naming rules or is reserved (`__` prefix).
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing by that name exists.
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// It exists with another value type (or is a queue, not a topic, or the reverse).
    TypeMismatch {
        /// The name.
        name: String,
        /// What was asked for.
        expected: String,
        /// What exists.
        found: String,
    },
    /// A configuration is invalid, or conflicts with the existing one of that name.
    ConfigError {
        /// The topic or queue concerned.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An offset or partition outside what the topic has.
    OutOfRange {
        /// The partition concerned.
        partition: u32,
        /// What was wrong.
        reason: String,
    },
    /// A consumer-group member committed, sought or paused a partition it does not
    /// own (it was revoked: the new owner reads its records again), or tried to
    /// assign itself a partition another member chose.
    NotOwner {
        /// The partition.
        partition: u32,
    },
    /// The topic, subscription or group member is closed.
    Closed,
    /// Stored data is damaged before its tail (durable topics): open the store with
    /// repair to truncate it there.
    Corrupt {
        /// The file.
        file: String,
        /// The byte position of the damage.
        position: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The store's directory is open in another store (this process or another).
    Locked {
        /// The lock file.
        path: String,
    },
    /// The operating system refused a read, write or sync of stored data (disk
    /// full, permission denied); nothing of the failed call is visible.
    Io {
        /// The file or directory.
        path: String,
        /// What failed, in the operating system's words.
        reason: String,
    },
}

/// A name or value as messages quote it: in quotes, and cut after 60 characters
/// (saying how long it was), so a huge argument is not echoed whole.
pub fn shown(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        None => format!("{s:?}"),
        Some((at, _)) => format!("{:?}… ({} characters)", &s[..at], s.chars().count()),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidName { name, reason } => {
                write!(f, "invalid name {}: {reason}", shown(name))
            }
            Error::NotFound { name } => write!(f, "no topic or queue named {}", shown(name)),
            Error::TypeMismatch {
                name,
                expected,
                found,
            } => {
                write!(f, "{} is {found}, not {expected}", shown(name))
            }
            Error::ConfigError { name, reason } => {
                write!(f, "configuration of {}: {reason}", shown(name))
            }
            Error::OutOfRange { partition, reason } => {
                write!(f, "out of range (partition {partition}): {reason}")
            }
            Error::Closed => f.write_str(
                "it is closed (or left), or the bus it belongs to is gone: keep a handle on the bus",
            ),
            Error::NotOwner { partition } => {
                write!(f, "partition {partition} is not owned by this member")
            }
            Error::Corrupt {
                file,
                position,
                reason,
            } => write!(
                f,
                "{file} is corrupt at byte {position}: {reason} (open the store with repair to truncate it there)"
            ),
            Error::Locked { path } => write!(
                f,
                "{path} is locked: the store's directory is open elsewhere (one process at a time)"
            ),
            Error::Io { path, reason } => write!(f, "{path}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// Why a value does not match its topic's schema (see [`crate::schema`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The topic.
    pub topic: String,
    /// Where in the value, as a JSON pointer (`""` is the whole value,
    /// `/items/0/price` a field of the first item).
    pub path: String,
    /// The JSON Schema keyword the value breaks (`type`, `required`, `minimum`, …).
    pub rule: String,
    /// What is wrong, in the validator's words.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "the value".to_string()
        } else {
            format!("the value at {}", self.path)
        };
        write!(
            f,
            "the record does not match topic {}'s schema: {at} breaks `{}`: {}",
            shown(&self.topic),
            self.rule,
            self.message
        )
    }
}

impl std::error::Error for SchemaError {}

macro_rules! handing_back {
    ($(#[$m:meta])* $name:ident {
        $($(#[$vm:meta])* $var:ident => $msg:literal as $kind:ident),* $(,)?
        $(; $(#[$sm:meta])* $svar:ident(Error))?
        $(+ $(#[$qm:meta])* $qvar:ident(Box<SchemaError>))?
    }) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq)]
        pub enum $name<M> {
            $($(#[$vm])* $var(M),)*
            $($(#[$sm])* $svar(M, Error),)?
            $($(#[$qm])* $qvar(M, Box<SchemaError>),)?
        }

        impl<M> $name<M> {
            /// The value (or message) that was not published.
            pub fn into_inner(self) -> M {
                match self {
                    $($name::$var(m) => m,)*
                    $($name::$svar(m, _) => m,)?
                    $($name::$qvar(m, _) => m,)?
                }
            }

            /// The same error, borrowing what was handed back.
            pub fn as_ref(&self) -> $name<&M> {
                match self {
                    $($name::$var(m) => $name::$var(m),)*
                    $($name::$svar(m, e) => $name::$svar(m, e.clone()),)?
                    $($name::$qvar(m, e) => $name::$qvar(m, e.clone()),)?
                }
            }

            /// The same error around `f` of what was handed back.
            pub fn map<N>(self, f: impl FnOnce(M) -> N) -> $name<N> {
                match self {
                    $($name::$var(m) => $name::$var(f(m)),)*
                    $($name::$svar(m, e) => $name::$svar(f(m), e),)?
                    $($name::$qvar(m, e) => $name::$qvar(f(m), e),)?
                }
            }
        }

        impl<M> fmt::Debug for $name<M> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($name::$var(_) => f.write_str(concat!(stringify!($var), "(..)")),)*
                    $($name::$svar(_, e) => write!(f, concat!(stringify!($svar), "(.., {:?})"), e),)?
                    $($name::$qvar(_, e) => write!(f, concat!(stringify!($qvar), "(.., {:?})"), e),)?
                }
            }
        }

        impl<M> fmt::Display for $name<M> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($name::$var(_) => f.write_str($msg),)*
                    $($name::$svar(_, e) => write!(f, "the record could not be stored: {e}"),)?
                    $($name::$qvar(_, e) => fmt::Display::fmt(e, f),)?
                }
            }
        }

        impl<M> std::error::Error for $name<M> {}

        impl<M> ErrorDetails for $name<M> {
            fn kind(&self) -> ErrorKind {
                match self {
                    $($name::$var(_) => ErrorKind::$kind,)*
                    $($name::$svar(_, e) => e.kind(),)?
                    $($name::$qvar(..) => ErrorKind::SchemaError,)?
                }
            }

            $(fn schema(&self) -> Option<&SchemaError> {
                match self {
                    $name::$qvar(_, e) => Some(e),
                    _ => None,
                }
            })?
        }
    };
}

handing_back! {
    /// Why `publish`, `try_publish`, `publish_message` or `publish_async` failed,
    /// handing back the value or message.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, OnFull, PublishError, TopicConfig};
    /// let bus = Bus::new();
    /// let log = bus.topic::<u8>("log", TopicConfig::default().capacity(1).on_full(OnFull::Keep))?;
    /// log.publish(1).unwrap();
    /// assert_eq!(log.publish(2), Err(PublishError::Full(2)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    PublishError {
        /// The partition is full and the topic's `on_full` policy refuses to wait.
        Full => "the partition is full" as Full,
        /// The topic is closed.
        Closed => "the topic is closed" as Closed,
        /// The message names a partition the topic does not have.
        OutOfRange => "no such partition" as OutOfRange,
        /// The topic is compacted and the record has no key.
        NoKey => "a compacted topic's records need a key" as NoKey;
        /// A durable topic's storage refused the record (`Io`), or its codec could
        /// not encode the value (`TypeMismatch`); nothing was published.
        Storage(Error)
        + /// The value does not match the topic's schema (see [`crate::schema`]);
        /// nothing was published.
        Schema(Box<SchemaError>)
    }
}

handing_back! {
    /// Why `publish_timeout` failed, handing back the value.
    PublishTimeoutError {
        /// Still full when the timeout passed.
        Timeout => "timed out waiting for room" as Full,
        /// Full, and the topic's `on_full` policy (`keep`) never frees room.
        Full => "the partition is full" as Full,
        /// The topic is closed.
        Closed => "the topic is closed" as Closed,
        /// The message names a partition the topic does not have.
        OutOfRange => "no such partition" as OutOfRange,
        /// The topic is compacted and the record has no key.
        NoKey => "a compacted topic's records need a key" as NoKey;
        /// See [`PublishError::Storage`].
        Storage(Error)
        + /// See [`PublishError::Schema`].
        Schema(Box<SchemaError>)
    }
}

impl<M> From<PublishError<M>> for PublishTimeoutError<M> {
    fn from(e: PublishError<M>) -> Self {
        match e {
            PublishError::Full(m) => PublishTimeoutError::Full(m),
            PublishError::Closed(m) => PublishTimeoutError::Closed(m),
            PublishError::OutOfRange(m) => PublishTimeoutError::OutOfRange(m),
            PublishError::NoKey(m) => PublishTimeoutError::NoKey(m),
            PublishError::Storage(m, e) => PublishTimeoutError::Storage(m, e),
            PublishError::Schema(m, e) => PublishTimeoutError::Schema(m, e),
        }
    }
}

/// Why a blocking read (`recv`, `recv_batch`, `recv_async`) returned no record.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, RecvError, Start, TopicConfig};
/// let bus = Bus::new();
/// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(2))?;
/// let mut sub = t.subscribe(Start::Earliest)?;
/// for i in 0..5 { t.publish(i).unwrap(); }
/// assert_eq!(sub.recv(), Err(RecvError::Lagged { partition: 0, skipped: 3 }));
/// assert_eq!(sub.recv().unwrap().value, 3);
/// t.close();
/// assert_eq!(sub.recv().unwrap().value, 4);
/// assert_eq!(sub.recv(), Err(RecvError::Closed));
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// Records were evicted before this reader got to them; reported once per gap.
    Lagged {
        /// The partition with the gap.
        partition: u32,
        /// Exactly how many offsets were skipped.
        skipped: u64,
    },
    /// The topic is closed and everything retained has been read (or the
    /// subscription was closed).
    Closed,
}

/// Why `try_recv` returned no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing to read right now.
    Empty,
    /// See [`RecvError::Lagged`].
    Lagged {
        /// The partition with the gap.
        partition: u32,
        /// Exactly how many offsets were skipped.
        skipped: u64,
    },
    /// See [`RecvError::Closed`].
    Closed,
}

/// Why `recv_timeout` returned no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// Nothing arrived within the timeout (real elapsed time).
    Timeout,
    /// See [`RecvError::Lagged`].
    Lagged {
        /// The partition with the gap.
        partition: u32,
        /// Exactly how many offsets were skipped.
        skipped: u64,
    },
    /// See [`RecvError::Closed`].
    Closed,
}

impl From<RecvError> for TryRecvError {
    fn from(e: RecvError) -> Self {
        match e {
            RecvError::Lagged { partition, skipped } => TryRecvError::Lagged { partition, skipped },
            RecvError::Closed => TryRecvError::Closed,
        }
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(e: RecvError) -> Self {
        match e {
            RecvError::Lagged { partition, skipped } => {
                RecvTimeoutError::Lagged { partition, skipped }
            }
            RecvError::Closed => RecvTimeoutError::Closed,
        }
    }
}

/// What a read reports when nothing more will come.
const READER_CLOSED: &str =
    "the topic is closed and its records are read, or the reader was closed or left";

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged { partition, skipped } => {
                write!(
                    f,
                    "lagged: {skipped} records of partition {partition} were evicted unread"
                )
            }
            RecvError::Closed => f.write_str(READER_CLOSED),
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no record ready"),
            TryRecvError::Lagged { partition, skipped } => fmt::Display::fmt(
                &RecvError::Lagged {
                    partition: *partition,
                    skipped: *skipped,
                },
                f,
            ),
            TryRecvError::Closed => f.write_str(READER_CLOSED),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out"),
            RecvTimeoutError::Lagged { partition, skipped } => fmt::Display::fmt(
                &RecvError::Lagged {
                    partition: *partition,
                    skipped: *skipped,
                },
                f,
            ),
            RecvTimeoutError::Closed => f.write_str(READER_CLOSED),
        }
    }
}

impl std::error::Error for RecvError {}
impl std::error::Error for TryRecvError {}
impl std::error::Error for RecvTimeoutError {}

handing_back! {
    /// Why `send`, `send_message`, `send_delayed` or `send_async` failed, handing
    /// back the value or message.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, QueueConfig, SendError};
    /// let bus = Bus::new();
    /// let q = bus.queue::<u8>("jobs", QueueConfig::default())?;
    /// q.close();
    /// assert_eq!(q.send(1), Err(SendError::Closed(1)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    SendError {
        /// The queue is closed.
        Closed => "the queue is closed" as Closed;
        /// A durable queue's storage refused the message (`Io`), or its codec
        /// could not encode the value (`TypeMismatch`); nothing was sent.
        Storage(Error)
    }
}

handing_back! {
    /// Why `try_send` (or `try_send_message`, `try_send_delayed`) failed, handing back
    /// the value or message.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, QueueConfig, TrySendError};
    /// let bus = Bus::new();
    /// let q = bus.queue::<u8>("jobs", QueueConfig::default().capacity(1))?;
    /// q.try_send(1).unwrap();
    /// assert_eq!(q.try_send(2), Err(TrySendError::Full(2)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    TrySendError {
        /// Ready, in-flight and delayed messages fill the capacity.
        Full => "the queue is full" as Full,
        /// The queue is closed.
        Closed => "the queue is closed" as Closed;
        /// See [`SendError::Storage`].
        Storage(Error)
    }
}

handing_back! {
    /// Why `send_timeout` failed, handing back the value or message.
    SendTimeoutError {
        /// Still full when the timeout passed.
        Timeout => "timed out waiting for room" as Full,
        /// The queue is closed.
        Closed => "the queue is closed" as Closed;
        /// See [`SendError::Storage`].
        Storage(Error)
    }
}

/// Why a blocking `receive` (or `receive_batch`, `receive_async`) returned nothing.
///
/// # Examples
///
/// ```
/// use ringlet::{Bus, QueueConfig, ReceiveError};
/// let bus = Bus::new();
/// let q = bus.queue::<u8>("jobs", QueueConfig::default())?;
/// q.send(1).unwrap();
/// q.close();
/// q.receive().unwrap().ack().unwrap(); // ready messages are drained first
/// assert_eq!(q.receive().unwrap_err(), ReceiveError::Closed);
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveError {
    /// The queue is closed and nothing is ready.
    Closed,
    /// A durable queue's storage refused to record the delivery (`Io`): nothing
    /// was delivered, the messages are ready again.
    Storage(Error),
}

/// Why `try_receive` (or `try_receive_batch`) returned nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryReceiveError {
    /// Nothing is ready right now.
    Empty,
    /// See [`ReceiveError::Closed`].
    Closed,
    /// See [`ReceiveError::Storage`].
    Storage(Error),
}

/// Why `receive_timeout` returned nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveTimeoutError {
    /// Nothing became ready within the timeout (real elapsed time).
    Timeout,
    /// See [`ReceiveError::Closed`].
    Closed,
    /// See [`ReceiveError::Storage`].
    Storage(Error),
}

/// Why settling a [`Delivery`](crate::Delivery) (`ack`, `nack`, `nack_after`,
/// `reject`) changed nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::{Bus, ManualClock, QueueConfig, SettleError};
/// let clock = ManualClock::new();
/// let bus = Bus::builder().clock(clock.clone()).build();
/// let q = bus.queue::<u8>("jobs", QueueConfig::default().visibility_timeout(Duration::from_secs(30)))?;
/// q.send(1).unwrap();
/// let late = q.receive().unwrap();
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(late.ack(), Err(SettleError::Expired)); // it is ready again
/// assert_eq!(q.receive().unwrap().attempt(), 2);
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettleError {
    /// The visibility timeout passed first: the message was made ready again (or
    /// dead-lettered), and this delivery can no longer settle it.
    Expired,
    /// This delivery was settled already (only through a
    /// [`SharedDelivery`](crate::queue::SharedDelivery): a [`Delivery`](crate::Delivery)
    /// settles by value, once).
    AlreadySettled,
    /// A durable queue's storage refused to record the ack (`Io`), or the
    /// delay of a `nack_after`: the message is ready again at once, as after a
    /// nack.
    Storage(Error),
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiveError::Closed => f.write_str("the queue is closed and nothing is ready"),
            ReceiveError::Storage(e) => write!(f, "the delivery could not be stored: {e}"),
        }
    }
}

impl fmt::Display for TryReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryReceiveError::Empty => f.write_str("no message ready"),
            TryReceiveError::Closed => fmt::Display::fmt(&ReceiveError::Closed, f),
            TryReceiveError::Storage(e) => write!(f, "the delivery could not be stored: {e}"),
        }
    }
}

impl fmt::Display for ReceiveTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiveTimeoutError::Timeout => f.write_str("timed out"),
            ReceiveTimeoutError::Closed => fmt::Display::fmt(&ReceiveError::Closed, f),
            ReceiveTimeoutError::Storage(e) => {
                write!(f, "the delivery could not be stored: {e}")
            }
        }
    }
}

impl fmt::Display for SettleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettleError::Expired => {
                f.write_str("the delivery expired (visibility timeout) before it was settled")
            }
            SettleError::AlreadySettled => f.write_str("the delivery was settled already"),
            SettleError::Storage(e) => write!(
                f,
                "the settlement could not be stored (the message is ready again): {e}"
            ),
        }
    }
}

impl std::error::Error for ReceiveError {}
impl std::error::Error for TryReceiveError {}
impl std::error::Error for ReceiveTimeoutError {}
impl std::error::Error for SettleError {}

/// The contract's error names, the same in every language: what
/// [`ErrorDetails::kind`] gives for every Ringlet error. Python raises the
/// exception class of that name, JS an `Error` whose `name` it is.
///
/// # Examples
///
/// ```
/// use ringlet::{ErrorDetails, ErrorKind, TrySendError};
/// assert_eq!(TrySendError::Full(1).kind(), ErrorKind::Full);
/// assert_eq!(ErrorKind::Full.as_str(), "Full");
/// assert_eq!("NotOwner".parse::<ErrorKind>(), Ok(ErrorKind::NotOwner));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A partition, queue or event store is full.
    Full,
    /// A topic, queue, reader, member or bus is closed (or gone).
    Closed,
    /// Records were evicted or expired before a reader got to them.
    Lagged,
    /// A delivery's visibility timeout passed before it was settled.
    Expired,
    /// A delivery was settled already.
    AlreadySettled,
    /// Nothing arrived within the time given (or, without waiting, nothing is ready).
    Timeout,
    /// A group member acted on a partition it does not own.
    NotOwner,
    /// An offset or partition the topic does not have.
    OutOfRange,
    /// An append expected another version of the entity.
    VersionConflict,
    /// The name holds another kind of object or another value type.
    TypeMismatch,
    /// A configuration is invalid or conflicts with the existing one.
    ConfigError,
    /// Nothing by that name exists.
    NotFound,
    /// A name breaks the naming rules or is reserved.
    InvalidName,
    /// A compacted topic's record has no key: an argument error (Python's
    /// `ValueError`, JS's `TypeError`).
    NoKey,
    /// A stream-processing record failed.
    StreamError,
    /// Stored data is damaged before its tail.
    Corrupt,
    /// A store's directory is open elsewhere.
    Locked,
    /// The operating system refused a read, write or sync of stored data.
    Io,
    /// A record does not match its topic's schema.
    SchemaError,
}

impl ErrorKind {
    /// Every kind, in the contract's order.
    pub const ALL: [ErrorKind; 19] = [
        ErrorKind::Full,
        ErrorKind::Closed,
        ErrorKind::Lagged,
        ErrorKind::Expired,
        ErrorKind::AlreadySettled,
        ErrorKind::Timeout,
        ErrorKind::NotOwner,
        ErrorKind::OutOfRange,
        ErrorKind::VersionConflict,
        ErrorKind::TypeMismatch,
        ErrorKind::ConfigError,
        ErrorKind::NotFound,
        ErrorKind::InvalidName,
        ErrorKind::NoKey,
        ErrorKind::StreamError,
        ErrorKind::Corrupt,
        ErrorKind::Locked,
        ErrorKind::Io,
        ErrorKind::SchemaError,
    ];

    /// The stable name (`"Full"`, `"Closed"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Full => "Full",
            ErrorKind::Closed => "Closed",
            ErrorKind::Lagged => "Lagged",
            ErrorKind::Expired => "Expired",
            ErrorKind::AlreadySettled => "AlreadySettled",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::NotOwner => "NotOwner",
            ErrorKind::OutOfRange => "OutOfRange",
            ErrorKind::VersionConflict => "VersionConflict",
            ErrorKind::TypeMismatch => "TypeMismatch",
            ErrorKind::ConfigError => "ConfigError",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::InvalidName => "InvalidName",
            ErrorKind::NoKey => "NoKey",
            ErrorKind::StreamError => "StreamError",
            ErrorKind::Corrupt => "Corrupt",
            ErrorKind::Locked => "Locked",
            ErrorKind::Io => "Io",
            ErrorKind::SchemaError => "SchemaError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName::new("error kind", s, ErrorKind::ALL.map(ErrorKind::as_str)))
    }
}

/// A name that none of a public enum's values has (from their `FromStr`): says
/// which names there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being named (`"on_full"`, `"start"`, …).
    pub what: &'static str,
    /// The name given.
    pub given: String,
    /// The names there are.
    pub expected: Vec<&'static str>,
}

impl UnknownName {
    pub(crate) fn new(
        what: &'static str,
        given: &str,
        expected: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        // Long input is cut: the message names it, it does not echo it whole.
        let mut cut: String = given.chars().take(60).collect();
        if cut.len() < given.len() {
            cut.push('…');
        }
        UnknownName {
            what,
            given: cut,
            expected: expected.into_iter().collect(),
        }
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_for(self.what))
    }
}

impl std::error::Error for UnknownName {}

impl UnknownName {
    /// The message, naming the option as the caller's language spells it
    /// (`onFull` in JS, `on_full` in Python).
    pub fn message_for(&self, option: &str) -> String {
        let expected: Vec<String> = self.expected.iter().map(|n| format!("{n:?}")).collect();
        format!(
            "{option} must be one of {}, not {:?}",
            expected.join(", "),
            self.given
        )
    }
}

/// `as_str`, `NAMES`, `Display` and `FromStr` (with [`UnknownName`]) for a public
/// enum of unit variants: the names every binding uses for its values.
macro_rules! named_values {
    ($ty:ident, $what:literal, { $($var:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every value's name.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// This value's name.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$var => $name,)* }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$var),)*
                    _ => Err($crate::UnknownName::new($what, s, Self::NAMES.iter().copied())),
                }
            }
        }
    };
}
pub(crate) use named_values;

/// What a host language needs of any Ringlet error to raise its own: the
/// contract's name and the numbers that come with it. Every error type of the
/// crate implements it, so each binding maps errors in one function.
pub trait ErrorDetails: fmt::Display {
    /// The contract's name for this error.
    fn kind(&self) -> ErrorKind;
    /// The partition concerned (`Lagged`, `NotOwner`, `OutOfRange`).
    fn partition(&self) -> Option<u32> {
        None
    }
    /// Records skipped (`Lagged`).
    fn skipped(&self) -> Option<u64> {
        None
    }
    /// What did not match (`SchemaError`).
    fn schema(&self) -> Option<&SchemaError> {
        None
    }
}

impl ErrorDetails for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidName { .. } => ErrorKind::InvalidName,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::TypeMismatch { .. } => ErrorKind::TypeMismatch,
            Error::ConfigError { .. } => ErrorKind::ConfigError,
            Error::OutOfRange { .. } => ErrorKind::OutOfRange,
            Error::NotOwner { .. } => ErrorKind::NotOwner,
            Error::Closed => ErrorKind::Closed,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::Locked { .. } => ErrorKind::Locked,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    fn partition(&self) -> Option<u32> {
        match self {
            Error::OutOfRange { partition, .. } | Error::NotOwner { partition } => Some(*partition),
            _ => None,
        }
    }
}

/// The three read errors share their kinds: `Lagged` with its partition and count,
/// `Closed`, and `Timeout` for "nothing (yet)".
macro_rules! read_error_details {
    ($($name:ident $(, $empty:ident)*;)*) => {$(
        impl ErrorDetails for $name {
            fn kind(&self) -> ErrorKind {
                match self {
                    $name::Lagged { .. } => ErrorKind::Lagged,
                    $name::Closed => ErrorKind::Closed,
                    $($name::$empty => ErrorKind::Timeout,)*
                }
            }

            fn partition(&self) -> Option<u32> {
                match self {
                    $name::Lagged { partition, .. } => Some(*partition),
                    _ => None,
                }
            }

            fn skipped(&self) -> Option<u64> {
                match self {
                    $name::Lagged { skipped, .. } => Some(*skipped),
                    _ => None,
                }
            }
        }
    )*};
}

read_error_details! {
    RecvError;
    TryRecvError, Empty;
    RecvTimeoutError, Timeout;
}

impl ErrorDetails for ReceiveError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReceiveError::Closed => ErrorKind::Closed,
            ReceiveError::Storage(e) => e.kind(),
        }
    }
}

impl ErrorDetails for TryReceiveError {
    fn kind(&self) -> ErrorKind {
        match self {
            TryReceiveError::Empty => ErrorKind::Timeout,
            TryReceiveError::Closed => ErrorKind::Closed,
            TryReceiveError::Storage(e) => e.kind(),
        }
    }
}

impl ErrorDetails for ReceiveTimeoutError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReceiveTimeoutError::Timeout => ErrorKind::Timeout,
            ReceiveTimeoutError::Closed => ErrorKind::Closed,
            ReceiveTimeoutError::Storage(e) => e.kind(),
        }
    }
}

impl ErrorDetails for SettleError {
    fn kind(&self) -> ErrorKind {
        match self {
            SettleError::Expired => ErrorKind::Expired,
            SettleError::AlreadySettled => ErrorKind::AlreadySettled,
            SettleError::Storage(e) => e.kind(),
        }
    }
}

/// A `ConfigError` for asking again for `what` (`the topic "orders"`) with options
/// that differ from the existing ones: names each option that differs and its two
/// values, and says how to open it as it is.
pub(crate) fn conflict(
    name: &str,
    what: &str,
    existing: &[(&'static str, String)],
    given: &[(&'static str, String)],
    open_as_is: &str,
) -> Error {
    let differ: Vec<String> = existing
        .iter()
        .zip(given)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, a), (_, b))| format!("{field} is {a}, not {b}"))
        .collect();
    Error::ConfigError {
        name: name.into(),
        reason: format!(
            "{what} exists with other options ({}): {open_as_is}",
            differ.join(", ")
        ),
    }
}

/// Labels hosts give their value types for messages, by type.
static VALUE_LABELS: std::sync::Mutex<Vec<(std::any::TypeId, &'static str)>> =
    std::sync::Mutex::new(Vec::new());

/// Names value type `T` as `label` in error messages (`TypeMismatch`, dead-letter
/// checks): a binding's value type reads as `Python objects` instead of its Rust
/// path. Call it before making topics or queues of `T`.
pub fn label_value_type<T: 'static>(label: &'static str) {
    let id = std::any::TypeId::of::<T>();
    let mut labels = VALUE_LABELS.lock().unwrap_or_else(|p| p.into_inner());
    labels.retain(|(t, _)| *t != id);
    labels.push((id, label));
}

/// How messages name value type `T`: its label, or its Rust type without module
/// paths (`Option<u64>`, not `core::option::Option<u64>`).
pub(crate) fn value_type<T: 'static>() -> String {
    let id = std::any::TypeId::of::<T>();
    let labels = VALUE_LABELS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, label)) = labels.iter().find(|(t, _)| *t == id) {
        return (*label).to_string();
    }
    drop(labels);
    let mut out = String::new();
    let mut word = String::new();
    for c in std::any::type_name::<T>().chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}

#[cfg(test)]
mod value_type_tests {
    #[test]
    fn long_names_are_cut_in_messages() {
        let name = "n".repeat(100_000);
        let e = super::Error::InvalidName {
            name,
            reason: "too long".into(),
        };
        let m = e.to_string();
        assert!(m.len() < 120, "{m}");
        assert!(m.contains("(100000 characters)"), "{m}");
        assert_eq!(super::shown("short"), "\"short\"");
    }

    #[test]
    fn paths_are_left_out_and_labels_win() {
        assert_eq!(super::value_type::<Option<u64>>(), "Option<u64>");
        assert_eq!(
            super::value_type::<std::collections::HashMap<String, Vec<u8>>>(),
            "HashMap<String, Vec<u8>>"
        );
        struct Host;
        super::label_value_type::<Host>("host objects");
        assert_eq!(super::value_type::<Host>(), "host objects");
    }
}
