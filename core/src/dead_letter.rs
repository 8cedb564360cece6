//! Where dead letters go: the functions a queue or share group sends its dead
//! letters through. They are made by the bus, which knows the targets by name, so
//! queues, topics and groups never name each other.

use crate::record::Message;
use crate::Error;

/// Sends a dead letter on without waiting; `false` when the target could not take
/// it (full or closed). Made when the queue is created, where the target's type is
/// known.
pub(crate) type DeadLetterFn<T> = Box<dyn Fn(Message<T>) -> bool + Send + Sync>;

/// Finds a dead-letter target by name for a share group of a topic:
/// `(source topic, target) -> sender`.
pub(crate) type DeadLetterResolver<T> =
    Box<dyn Fn(&str, &str) -> Result<DeadLetterFn<T>, Error> + Send + Sync>;
