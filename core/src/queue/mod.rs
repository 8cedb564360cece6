//! Queues: named, bounded buffers for competing consumers, with acks, redelivery,
//! delays and dead letters.
//!
//! # Delivery
//!
//! Each message is delivered to one consumer at a time and removed only when
//! settled: [`Delivery::ack`] removes it; [`Delivery::nack`] makes it ready again
//! at the head; [`Delivery::nack_after`] makes it ready again after a delay;
//! [`Delivery::reject`] dead-letters it. Dropping an unsettled delivery nacks it.
//! A delivery not settled within the `visibility_timeout` (bus clock) is taken
//! back and made ready again; settling it afterwards fails with
//! [`SettleError::Expired`](crate::SettleError::Expired) and changes nothing.
//!
//! # Ready order
//!
//! First deliveries are FIFO. Nacked and timed-out messages go to the head,
//! before messages never delivered, in the order they came back (timeouts falling
//! due together: in send order). Delayed messages (`send_delayed`, `nack_after`)
//! join the tail when due, by due time, ties in send order.
//!
//! # Dead letters
//!
//! A message whose delivery fails on its last allowed attempt (`max_deliveries`,
//! by nack or timeout) or that is rejected goes to the `dead_letter` queue or
//! topic, with the headers `ringlet.dead_letter.reason` (`max_deliveries` or
//! `rejected`), `ringlet.dead_letter.attempts` and `ringlet.dead_letter.source`.
//! Dead-lettering never waits: a full (or closed) dead-letter queue or topic
//! drops the message and counts it as `dead_letter_overflow`; with no dead letter
//! configured, the message is dropped and counted as `dropped`. The dead letter
//! keeps the message's original enqueue time (as SQS keeps a message's sent
//! timestamp); the headers say when and why it was dead-lettered.
//!
//! # A value whose `Clone` panics
//!
//! A receive hands out a clone of the message (the queue keeps its own for
//! redelivery). If the value's `Clone` panics, the receive panics with it, and the
//! message counts as delivered to a consumer that crashed: it is in flight until
//! its visibility timeout, then delivered again, and dead-lettered after
//! `max_deliveries` (dead-lettering moves the value, it does not clone it). A
//! batch receive that meets it panics too; the deliveries it had taken before are
//! released as dropped deliveries are (nacked, ready again at once). No slot is
//! lost, no lock is left held, and senders are not blocked by it. Share groups
//! behave like subscriptions instead (see [`ShareGroup`](crate::ShareGroup)).
//!
//! # Closing
//!
//! After [`Queue::close`] sends fail with `Closed`; receivers drain the ready
//! messages and then get `Closed` (without waiting for in-flight or delayed ones);
//! in-flight deliveries can still be settled, and what is nacked or falls due
//! later is delivered to the receives that come after.

mod delivery;
pub(crate) mod durable;
pub(crate) mod engine;
mod index;
mod slots;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::dead_letter::DeadLetterFn;
use crate::error::{
    ReceiveError, ReceiveTimeoutError, SendError, SendTimeoutError, TryReceiveError, TrySendError,
};
use crate::record::Message;
use crate::wait::BusTimer;
use crate::Error;

pub use delivery::{Delivery, ReceiveFuture, SendFuture, SharedDelivery};
use engine::{NoMessage, QueueInner, SendRefused, Wait};

/// A queue's configuration. Builder style; compared whole when a queue is opened
/// again by name.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::QueueConfig;
/// let c = QueueConfig::default().capacity(64).visibility_timeout(Duration::from_secs(5))
///     .max_deliveries(3).dead_letter("jobs.dlq");
/// assert_eq!((c.capacity, c.max_deliveries), (64, Some(3)));
/// let d = QueueConfig::default();
/// assert_eq!((d.capacity, d.visibility_timeout, d.max_deliveries), (1024, Duration::from_secs(30), None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueueConfig {
    /// Messages held at once — ready, in flight and delayed (default 1024).
    pub capacity: usize,
    /// How long a delivery may stay unsettled before the message is ready again
    /// (default 30 s, bus clock; at least 1 ms).
    pub visibility_timeout: Duration,
    /// Deliveries allowed per message before it is dead-lettered (default
    /// unlimited).
    pub max_deliveries: Option<u32>,
    /// The queue or topic that takes dead letters (default none: they are dropped
    /// and counted).
    pub dead_letter: Option<String>,
    /// How far a durable queue's changes are on their way to disk when a call
    /// returns (`None`: in memory; `Bus::durable_queue` makes it
    /// `Some(Durability::Written)` unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durability: Option<crate::storage::Durability>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 1024,
            visibility_timeout: Duration::from_secs(30),
            max_deliveries: None,
            dead_letter: None,
            durability: None,
        }
    }
}

impl QueueConfig {
    /// Each option with its value, for messages.
    pub(crate) fn described(&self) -> Vec<(&'static str, String)> {
        vec![
            ("capacity", self.capacity.to_string()),
            (
                "visibility_timeout",
                format!("{:?}", self.visibility_timeout),
            ),
            (
                "max_deliveries",
                self.max_deliveries
                    .map_or("unlimited".into(), |n| n.to_string()),
            ),
            (
                "dead_letter",
                self.dead_letter
                    .as_deref()
                    .map_or("none".into(), |d| format!("{d:?}")),
            ),
            (
                "durability",
                self.durability
                    .map_or("none (in memory)", crate::storage::Durability::as_str)
                    .into(),
            ),
        ]
    }
}

impl QueueConfig {
    /// Sets the capacity (1 to [`MAX_QUEUE_CAPACITY`]).
    #[must_use]
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n;
        self
    }

    /// Sets the visibility timeout (at least 1 ms).
    #[must_use]
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.visibility_timeout = d;
        self
    }

    /// Sets how many deliveries a message gets (at least 1).
    #[must_use]
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = Some(n);
        self
    }

    /// Sets a durable queue's [`Durability`](crate::storage::Durability) (see
    /// [`Bus::durable_queue`](crate::Bus::durable_queue)).
    #[must_use]
    pub fn durability(mut self, durability: crate::storage::Durability) -> Self {
        self.durability = Some(durability);
        self
    }

    /// Names the queue or topic that takes dead letters. It must exist when this
    /// queue is created, hold the same value type, and not lead back to this queue.
    #[must_use]
    pub fn dead_letter(mut self, name: &str) -> Self {
        self.dead_letter = Some(name.into());
        self
    }

    pub(crate) fn validate(&self, name: &str) -> Result<(), Error> {
        let bad = |reason: String| {
            Err(Error::ConfigError {
                name: name.into(),
                reason,
            })
        };
        if self.capacity == 0 || self.capacity > MAX_QUEUE_CAPACITY {
            return bad(format!(
                "capacity must be 1 to {MAX_QUEUE_CAPACITY}, not {}",
                self.capacity
            ));
        }
        if let Some(r) = crate::record::wasm_records_limit("capacity", self.capacity as u64) {
            return bad(r);
        }
        if self.visibility_timeout < Duration::from_millis(1) {
            return bad("visibility_timeout must be at least 1 ms".into());
        }
        if self.max_deliveries == Some(0) {
            return bad("max_deliveries must be at least 1".into());
        }
        if let Some(dl) = &self.dead_letter {
            if let Err(e) = crate::name::validate(dl, false) {
                return bad(format!("dead_letter: {e}"));
            }
            if dl == name {
                return bad("a queue cannot be its own dead letter".into());
            }
        }
        Ok(())
    }
}

/// Largest capacity of one queue.
pub const MAX_QUEUE_CAPACITY: usize = 1 << 30;

/// A queue's figures: what it holds now and what it has done. The same list in
/// every language and in the bus snapshot.
///
/// # Examples
///
/// ```
/// let bus = ringlet::Bus::new();
/// let q = bus.queue::<u8>("jobs", Default::default())?;
/// q.send(1).unwrap();
/// q.send(2).unwrap();
/// q.receive().unwrap().ack().unwrap();
/// let f = q.figures();
/// assert_eq!((f.sent, f.acked, f.ready), (2, 1, 1));
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFigures {
    /// Messages ready for delivery.
    pub ready: u64,
    /// Messages delivered and not yet settled.
    pub in_flight: u64,
    /// Messages waiting for their due time.
    pub delayed: u64,
    /// Messages sent (accepted).
    pub sent: u64,
    /// Deliveries acked.
    pub acked: u64,
    /// Deliveries nacked (`nack`, `nack_after`, or dropped unsettled).
    pub nacked: u64,
    /// Deliveries after the first of a message.
    pub redelivered: u64,
    /// Deliveries whose visibility timeout passed.
    pub expired: u64,
    /// Messages sent to the dead letter.
    pub dead_lettered: u64,
    /// Messages that should have been dead-lettered, with no dead letter
    /// configured.
    pub dropped: u64,
    /// Dead letters the dead-letter queue or topic could not take (full or
    /// closed).
    pub dead_letter_overflow: u64,
}

/// A named, bounded queue for competing consumers. Cheap to clone (clones share
/// the queue); `Send + Sync`. See the [module docs](crate::queue) for delivery,
/// ordering, dead letters and closing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::{Bus, QueueConfig};
/// let bus = Bus::new();
/// let jobs = bus.queue::<String>("jobs", QueueConfig::default().capacity(100))?;
/// jobs.send("resize photo 1".into()).unwrap();
/// let d = jobs.receive().unwrap();
/// assert_eq!((d.value().as_str(), d.attempt()), ("resize photo 1", 1));
/// d.ack().unwrap();
/// assert!(jobs.is_empty());
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct Queue<T> {
    inner: Arc<QueueInner<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &&*self.inner.name)
            .field("config", &self.inner.config)
            .field("closed", &self.inner.is_closed())
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> Queue<T> {
    pub(crate) fn create(
        name: Arc<str>,
        config: QueueConfig,
        timer: Arc<BusTimer>,
        dead_letter: Option<DeadLetterFn<T>>,
        journal: Option<Arc<crate::journal::Journal>>,
        durable: Option<(durable::QueueLog<T>, Vec<durable::Restored<T>>)>,
    ) -> Result<Self, Error> {
        let (log, restored) = match durable {
            Some((log, restored)) => (Some(log), restored),
            None => (None, Vec::new()),
        };
        let inner = QueueInner::new_arc(
            name,
            config,
            timer,
            dead_letter,
            engine::Hooks {
                source: None,
                journal,
                durable: log,
                faults: None,
            },
        )?;
        inner.restore(restored)?;
        Ok(Queue { inner })
    }

    /// The faults armed on the queue.
    pub(crate) fn fault_point(&self) -> crate::fault_point::SharedPoint {
        self.inner.faults.clone()
    }

    /// A durable queue's codec name (`None` in memory).
    pub fn codec_name(&self) -> Option<String> {
        self.inner
            .durable
            .as_ref()
            .map(|d| d.codec_name().to_owned())
    }

    /// What opening a durable queue's log cut off — a torn tail left by a
    /// crash — as sentences naming the file, the byte and how much was dropped
    /// (empty in memory, and when the log was whole).
    pub fn recovered(&self) -> Vec<String> {
        self.inner
            .durable
            .as_ref()
            .map(|d| d.recovered())
            .unwrap_or_default()
    }

    /// Forces a durable queue's log to disk.
    pub(crate) fn sync_log(&self) -> Result<(), Error> {
        self.inner.durable.as_ref().map_or(Ok(()), |d| d.sync())
    }

    /// The queue's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// assert_eq!(bus.queue::<u8>("jobs", Default::default())?.name(), "jobs");
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The queue's configuration.
    pub fn config(&self) -> &QueueConfig {
        &self.inner.config
    }

    /// Messages ready for delivery now.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// let d = q.receive().unwrap();
    /// assert_eq!(q.len(), 0); // in flight is not ready
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.inner.maintain(self.inner.timer.clock().now_ms());
        self.inner.ready_len()
    }

    /// Whether no message is ready now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queue's figures (after running the transitions that are due).
    pub fn figures(&self) -> QueueFigures {
        self.inner.figures()
    }

    /// Whether the queue is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Closes the queue: sends fail with `Closed`; receivers drain what is ready,
    /// then get `Closed`; in-flight deliveries can still be settled.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TryReceiveError;
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send(1).unwrap();
    /// q.send(2).unwrap();
    /// let first = q.receive().unwrap();
    /// q.close();
    /// assert!(q.send(3).is_err());
    /// let second = q.receive().unwrap();
    /// assert_eq!(q.try_receive().unwrap_err(), TryReceiveError::Closed);
    /// first.nack().unwrap(); // still settle-able; nacked messages are drained too
    /// assert_eq!(*q.receive().unwrap().value(), 1);
    /// second.ack().unwrap();
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }

    // --- sending ---------------------------------------------------------------

    /// Sends `value`, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// `Closed` (with the value) after `close()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send(7).unwrap();
    /// assert_eq!(*q.receive().unwrap().value(), 7);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.send_message(Message::new(value))
            .map_err(|e| e.map(|m| m.value))
    }

    /// Sends `value` if there is room now.
    ///
    /// # Errors
    ///
    /// `Full` or `Closed`, handing the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{QueueConfig, TrySendError};
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", QueueConfig::default().capacity(1))?;
    /// q.try_send(1).unwrap();
    /// assert_eq!(q.try_send(2), Err(TrySendError::Full(2)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.try_send_message(Message::new(value))
            .map_err(|e| e.map(|m| m.value))
    }

    /// Sends `value`, waiting up to `timeout` (real time) for room.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Closed`, handing the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::{QueueConfig, SendTimeoutError};
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", QueueConfig::default().capacity(1))?;
    /// q.send(1).unwrap();
    /// assert_eq!(q.send_timeout(2, Duration::from_millis(5)), Err(SendTimeoutError::Timeout(2)));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_message_timeout(Message::new(value), timeout)
            .map_err(|e| e.map(|m| m.value))
    }

    /// Sends `value`, waiting asynchronously while the queue is full. Cancel-safe:
    /// dropping the future before it completes sends nothing.
    ///
    /// # Errors
    ///
    /// `Closed` (with the value).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// futures_executor::block_on(q.send_async(3)).unwrap();
    /// assert_eq!(q.len(), 1);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub async fn send_async(&self, value: T) -> Result<(), SendError<T>> {
        self.send_message_async(Message::new(value))
            .await
            .map_err(|e| e.map(|m| m.value))
    }

    /// Sends a [`Message`] (value, key, headers; its timestamp, if set, is the
    /// enqueue time; a partition is ignored: queues have none), waiting while the
    /// queue is full.
    ///
    /// # Errors
    ///
    /// `Closed` (with the message).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Message;
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send_message(Message::new(1).key("order-7").header("trace", "abc")).unwrap();
    /// let d = q.receive().unwrap();
    /// assert_eq!(d.key().and_then(|k| k.as_str()), Some("order-7"));
    /// assert_eq!(d.headers().get("trace"), Some(&b"abc"[..]));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn send_message(&self, msg: Message<T>) -> Result<(), SendError<Message<T>>> {
        self.inner
            .send(msg, None, Wait::Until(None))
            .map_err(send_error)
    }

    /// [`Queue::send_message`] if there is room now.
    ///
    /// # Errors
    ///
    /// `Full` or `Closed`, handing the message back.
    pub fn try_send_message(&self, msg: Message<T>) -> Result<(), TrySendError<Message<T>>> {
        self.inner.try_send(msg, None).map_err(try_send_error)
    }

    /// [`Queue::send_message`], waiting up to `timeout` (real time) for room.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Closed`, handing the message back.
    pub fn send_message_timeout(
        &self,
        msg: Message<T>,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<Message<T>>> {
        let until = Wait::Until(Instant::now().checked_add(timeout));
        self.inner
            .send(msg, None, until)
            .map_err(send_timeout_error)
    }

    /// [`Queue::send_message`], waiting asynchronously while the queue is full.
    /// Cancel-safe: dropping the future before it completes sends nothing.
    ///
    /// # Errors
    ///
    /// `Closed` (with the message).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::Message;
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// futures_executor::block_on(q.send_message_async(Message::new(1).key("k"))).unwrap();
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn send_message_async(&self, msg: Message<T>) -> SendFuture<T> {
        SendFuture::new(self.inner.clone(), msg)
    }

    /// Sends a value or message that becomes ready after `delay` (bus clock),
    /// joining the tail then. It takes room at once. Waits while the queue is full.
    ///
    /// # Errors
    ///
    /// `Closed` (with the message).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::{Bus, ManualClock, TryReceiveError};
    /// let clock = ManualClock::new();
    /// let bus = Bus::builder().clock(clock.clone()).build();
    /// let q = bus.queue::<&str>("reminders", Default::default())?;
    /// q.send_delayed("call back", Duration::from_secs(60)).unwrap();
    /// assert_eq!(q.try_receive().unwrap_err(), TryReceiveError::Empty);
    /// assert_eq!(q.figures().delayed, 1);
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(*q.try_receive().unwrap().value(), "call back");
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn send_delayed(
        &self,
        msg: impl Into<Message<T>>,
        delay: Duration,
    ) -> Result<(), SendError<Message<T>>> {
        let delay = Some(crate::clock::duration_ms(delay));
        self.inner
            .send(msg.into(), delay, Wait::Until(None))
            .map_err(send_error)
    }

    /// [`Queue::send_delayed`], waiting at most `timeout` (real time) for room.
    ///
    /// # Errors
    ///
    /// `Timeout` or `Closed`, handing the message back.
    pub fn send_delayed_timeout(
        &self,
        msg: impl Into<Message<T>>,
        delay: Duration,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<Message<T>>> {
        let delay = Some(crate::clock::duration_ms(delay));
        let until = Wait::Until(Instant::now().checked_add(timeout));
        self.inner
            .send(msg.into(), delay, until)
            .map_err(send_timeout_error)
    }

    /// [`Queue::send_delayed`] if there is room now.
    ///
    /// # Errors
    ///
    /// `Full` or `Closed`, handing the message back.
    pub fn try_send_delayed(
        &self,
        msg: impl Into<Message<T>>,
        delay: Duration,
    ) -> Result<(), TrySendError<Message<T>>> {
        let delay = Some(crate::clock::duration_ms(delay));
        self.inner
            .try_send(msg.into(), delay)
            .map_err(try_send_error)
    }

    /// Sends several values in order, waiting while the queue is full. Returns how
    /// many were sent.
    ///
    /// # Errors
    ///
    /// `Closed` (or a durable queue's `Storage`), with the values not sent (in
    /// order); the ones before them were sent.
    ///
    /// A durable queue logs the values that fit at once as one write (one
    /// `fdatasync` when `Synced`); waiting for room, it sends one value and
    /// then as many as fit again.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u32>("jobs", Default::default())?;
    /// assert_eq!(q.send_batch(0..10).unwrap(), 10);
    /// assert_eq!(q.len(), 10);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn send_batch<I: IntoIterator<Item = T>>(
        &self,
        values: I,
    ) -> Result<usize, SendError<Vec<T>>> {
        if let Some(r) = self.inner.injected(true) {
            return Err(send_error((r, values.into_iter().collect())));
        }
        if self.inner.durable.is_some() {
            return self.send_batch_logged(values.into_iter().map(Message::new).collect());
        }
        let mut it = values.into_iter();
        let mut n = 0;
        while let Some(v) = it.next() {
            if let Err(refused) = self.inner.send_unchecked(Message::new(v), None, None) {
                return Err(
                    send_error(refused).map(|m| std::iter::once(m.value).chain(it).collect())
                );
            }
            n += 1;
        }
        Ok(n)
    }

    /// [`Queue::send_batch`] of a durable queue: chunks of what fits, each one
    /// write of the log.
    fn send_batch_logged(
        &self,
        mut msgs: std::collections::VecDeque<Message<T>>,
    ) -> Result<usize, SendError<Vec<T>>> {
        let mut n = 0;
        let rest = |msgs: std::collections::VecDeque<Message<T>>| {
            msgs.into_iter().map(|m| m.value).collect::<Vec<T>>()
        };
        while !msgs.is_empty() {
            match self.inner.try_send_chunk(&mut msgs) {
                Ok(k) => n += k,
                Err(SendRefused::Full) => {
                    // Wait for room with the first; then as many as fit again.
                    let first = msgs.pop_front().expect("not empty");
                    if let Err((refused, m)) = self.inner.send_unchecked(first, None, None) {
                        msgs.push_front(m);
                        return Err(send_error((refused, rest(msgs))));
                    }
                    n += 1;
                }
                Err(refused) => return Err(send_error((refused, rest(msgs)))),
            }
        }
        Ok(n)
    }

    // --- receiving -------------------------------------------------------------

    /// Takes the next ready message into flight, waiting until one is ready.
    ///
    /// # Errors
    ///
    /// `Closed` once the queue is closed and nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// let worker = { let q = q.clone(); std::thread::spawn(move || *q.receive().unwrap().value()) };
    /// q.send(5).unwrap();
    /// assert_eq!(worker.join().unwrap(), 5);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[must_use = "the Delivery is nacked when dropped: settle it with ack(), nack() or reject()"]
    pub fn receive(&self) -> Result<Delivery<T>, ReceiveError> {
        let mut got = None;
        match self.inner.take(1, Wait::Until(None), |t| got = Some(t)) {
            Ok(_) => Ok(self.delivery(got)),
            Err(n) => Err(receive_error(n)),
        }
    }

    /// Takes the next ready message into flight, if one is ready now.
    ///
    /// # Errors
    ///
    /// `Empty`, or `Closed` once the queue is closed and nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::TryReceiveError;
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// assert_eq!(q.try_receive().unwrap_err(), TryReceiveError::Empty);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[must_use = "the Delivery is nacked when dropped: settle it with ack(), nack() or reject()"]
    pub fn try_receive(&self) -> Result<Delivery<T>, TryReceiveError> {
        let mut got = None;
        match self.inner.take(1, Wait::Never, |t| got = Some(t)) {
            Ok(_) => Ok(self.delivery(got)),
            Err(n) => Err(try_receive_error(n)),
        }
    }

    /// Takes the next ready message into flight, waiting up to `timeout` (real
    /// time).
    ///
    /// # Errors
    ///
    /// `Timeout`, or `Closed` once the queue is closed and nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::ReceiveTimeoutError;
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// assert_eq!(q.receive_timeout(Duration::from_millis(5)).unwrap_err(), ReceiveTimeoutError::Timeout);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    #[must_use = "the Delivery is nacked when dropped: settle it with ack(), nack() or reject()"]
    pub fn receive_timeout(&self, timeout: Duration) -> Result<Delivery<T>, ReceiveTimeoutError> {
        let mut got = None;
        let until = Wait::Until(Instant::now().checked_add(timeout));
        match self.inner.take(1, until, |t| got = Some(t)) {
            Ok(_) => Ok(self.delivery(got)),
            Err(n) => Err(receive_timeout_error(n)),
        }
    }

    /// Takes the next ready message into flight, waiting asynchronously.
    /// Cancel-safe: a message is taken only when the future completes.
    ///
    /// # Errors
    ///
    /// `Closed` once the queue is closed and nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send(1).unwrap();
    /// let d = futures_executor::block_on(q.receive_async()).unwrap();
    /// d.ack().unwrap();
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn receive_async(&self) -> ReceiveFuture<T> {
        ReceiveFuture::new(self.inner.clone())
    }

    /// Takes up to `max` ready messages into flight (the ones ready, in order),
    /// waiting until at least one is ready.
    ///
    /// # Errors
    ///
    /// `Closed` once the queue is closed and nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u32>("jobs", Default::default())?;
    /// q.send_batch(0..10).unwrap();
    /// let batch = q.receive_batch(4).unwrap();
    /// assert_eq!(batch.iter().map(|d| *d.value()).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    /// assert_eq!(q.ack_batch(batch), 4);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn receive_batch(&self, max: usize) -> Result<Vec<Delivery<T>>, ReceiveError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        self.take_batch(max, Wait::Until(None))
            .map_err(receive_error)
    }

    /// Waits up to `timeout` (real time) for a message, then takes up to `max` of
    /// those ready.
    ///
    /// # Errors
    ///
    /// `Timeout`; `Closed` once the queue is closed and nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u32>("jobs", Default::default())?;
    /// q.send_batch(0..3).unwrap();
    /// assert_eq!(q.receive_batch_timeout(2, Duration::from_millis(5)).unwrap().len(), 2);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn receive_batch_timeout(
        &self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<Delivery<T>>, ReceiveTimeoutError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let until = Wait::Until(Instant::now().checked_add(timeout));
        self.take_batch(max, until).map_err(|n| match n {
            NoMessage::Closed => ReceiveTimeoutError::Closed,
            _ => ReceiveTimeoutError::Timeout,
        })
    }

    fn take_batch(&self, max: usize, wait: Wait) -> Result<Vec<Delivery<T>>, NoMessage> {
        let mut v = Vec::with_capacity(max.min(64));
        self.inner.take(max, wait, |t| v.push(self.wrap(t)))?;
        Ok(v)
    }

    /// Takes up to `max` messages that are ready now into flight.
    ///
    /// # Errors
    ///
    /// `Empty`, or `Closed` once the queue is closed and nothing is ready.
    pub fn try_receive_batch(&self, max: usize) -> Result<Vec<Delivery<T>>, TryReceiveError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut v = Vec::with_capacity(max.min(64));
        match self.inner.take(max, Wait::Never, |t| v.push(self.wrap(t))) {
            Ok(_) => Ok(v),
            Err(n) => Err(try_receive_error(n)),
        }
    }

    /// Acks many deliveries at once (one return of their slots); returns how many
    /// were acked. Deliveries that had expired change nothing and are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u32>("jobs", Default::default())?;
    /// q.send_batch(0..3).unwrap();
    /// let batch = q.receive_batch(10).unwrap();
    /// assert_eq!(q.ack_batch(batch), 3);
    /// assert_eq!(q.figures().acked, 3);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn ack_batch(&self, deliveries: impl IntoIterator<Item = Delivery<T>>) -> usize {
        let mut others = 0;
        let mine = deliveries.into_iter().filter_map(|d| {
            if Arc::ptr_eq(d.queue(), &self.inner) {
                Some(d.into_token())
            } else {
                others += usize::from(d.ack().is_ok());
                None
            }
        });
        if self.inner.faults.settle_delay().is_some() {
            // The acks arrive later (an injected fault): as far as the consumer
            // knows, they were made.
            let tokens: Vec<_> = mine.collect();
            let n = tokens.len();
            if self
                .inner
                .settle_later(|| tokens.clone(), engine::Settle::Ack)
            {
                return n + others;
            }
            return self.inner.ack_all(tokens.into_iter()) + others;
        }
        let n = self.inner.ack_all(mine);
        n + others
    }

    fn delivery(&self, taken: Option<engine::Taken<T>>) -> Delivery<T> {
        self.wrap(taken.expect("a successful take hands over a message"))
    }

    fn wrap(&self, taken: engine::Taken<T>) -> Delivery<T> {
        Delivery::new(self.inner.clone(), taken)
    }
}

// What the engine refused, as each call reports it.

pub(crate) fn send_error<M>((r, m): (SendRefused, M)) -> SendError<M> {
    match r {
        SendRefused::Storage(e) => SendError::Storage(m, *e),
        SendRefused::Closed | SendRefused::Full | SendRefused::Timeout => SendError::Closed(m),
    }
}

fn try_send_error<M>((r, m): (SendRefused, M)) -> TrySendError<M> {
    match r {
        SendRefused::Closed => TrySendError::Closed(m),
        SendRefused::Full | SendRefused::Timeout => TrySendError::Full(m),
        SendRefused::Storage(e) => TrySendError::Storage(m, *e),
    }
}

fn send_timeout_error<M>((r, m): (SendRefused, M)) -> SendTimeoutError<M> {
    match r {
        SendRefused::Closed => SendTimeoutError::Closed(m),
        SendRefused::Full | SendRefused::Timeout => SendTimeoutError::Timeout(m),
        SendRefused::Storage(e) => SendTimeoutError::Storage(m, *e),
    }
}

pub(crate) fn receive_error(n: NoMessage) -> ReceiveError {
    match n {
        NoMessage::Storage(e) => ReceiveError::Storage(*e),
        NoMessage::Empty | NoMessage::Closed | NoMessage::Timeout => ReceiveError::Closed,
    }
}

pub(crate) fn try_receive_error(n: NoMessage) -> TryReceiveError {
    match n {
        NoMessage::Closed => TryReceiveError::Closed,
        NoMessage::Storage(e) => TryReceiveError::Storage(*e),
        NoMessage::Empty | NoMessage::Timeout => TryReceiveError::Empty,
    }
}

pub(crate) fn receive_timeout_error(n: NoMessage) -> ReceiveTimeoutError {
    match n {
        NoMessage::Closed => ReceiveTimeoutError::Closed,
        NoMessage::Storage(e) => ReceiveTimeoutError::Storage(*e),
        NoMessage::Empty | NoMessage::Timeout => ReceiveTimeoutError::Timeout,
    }
}
