//! Deliveries and the queue's futures.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::clock::{duration_ms, waiter_id};
use crate::error::{ReceiveError, SendError, SettleError};
use crate::queue::engine::{NoMessage, QueueInner, SendRefused, Settle, Taken};
use crate::record::{Headers, Key, Message};
use std::sync::atomic::{AtomicBool, Ordering};

/// A message delivered to one consumer, until it is settled: [`Delivery::ack`],
/// [`Delivery::nack`], [`Delivery::nack_after`] or [`Delivery::reject`]. Dropping
/// it unsettled nacks it. Settling consumes it, so a delivery settles once.
///
/// # Examples
///
/// ```
/// let bus = ringlet::Bus::new();
/// let q = bus.queue::<&str>("jobs", Default::default())?;
/// q.send("job").unwrap();
/// {
///     let d = q.receive().unwrap();
///     assert_eq!(d.attempt(), 1);
///     // dropped here without settling: a crashed consumer
/// }
/// let again = q.receive().unwrap();
/// assert_eq!((*again.value(), again.attempt()), ("job", 2));
/// again.ack().unwrap();
/// # Ok::<(), ringlet::Error>(())
/// ```
///
/// A delivery received and dropped at once is a warning (it would be nacked and
/// delivered again):
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// let bus = ringlet::Bus::new();
/// let q = bus.queue::<u8>("q", Default::default()).unwrap();
/// q.send(1).unwrap();
/// q.receive().unwrap();
/// ```
#[must_use = "a Delivery dropped unsettled is nacked (its message is delivered again): ack(), nack() or reject() it"]
pub struct Delivery<T> {
    queue: Arc<QueueInner<T>>,
    index: u32,
    gen: u64,
    value: T,
    key: Option<Key>,
    headers: Headers,
    attempt: u32,
    enqueued_at: i64,
    deadline: i64,
    origin: Option<(u32, u64)>,
    settled: bool,
    /// A share member's crash flag (see [`crate::faults`]): once set, this
    /// delivery's consumer is gone, so it never settles.
    holder: Option<Arc<AtomicBool>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("queue", &&*self.queue.name)
            .field("value", &self.value)
            .field("key", &self.key)
            .field("headers", &self.headers)
            .field("attempt", &self.attempt)
            .field("enqueued_at", &self.enqueued_at)
            .finish()
    }
}

impl<T> Delivery<T> {
    pub(crate) fn new(queue: Arc<QueueInner<T>>, t: Taken<T>) -> Self {
        Delivery {
            queue,
            index: t.index,
            gen: t.gen,
            value: t.value,
            key: t.key,
            headers: t.headers,
            attempt: t.attempt,
            enqueued_at: t.enqueued_at,
            deadline: t.deadline,
            origin: t.origin,
            settled: false,
            holder: None,
        }
    }

    /// The delivery as held by a share member whose crash flag is `crashed`.
    pub(crate) fn held_by(mut self, crashed: &Arc<AtomicBool>) -> Self {
        self.holder = Some(crashed.clone());
        self
    }

    /// Whether the consumer holding it crashed (an injected fault).
    fn holder_crashed(&self) -> bool {
        self.holder
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Acquire))
    }

    /// Abandons the delivery, as a consumer that crashed holding it: nothing
    /// settles it, so its message comes back when the visibility timeout passes.
    pub(crate) fn abandon(mut self) {
        self.settled = true;
    }

    pub(crate) fn queue(&self) -> &Arc<QueueInner<T>> {
        &self.queue
    }

    /// Gives up this delivery's right to settle, for a batch settle.
    pub(crate) fn into_token(mut self) -> (u32, u64, i64) {
        self.settled = true;
        (self.index, self.gen, self.deadline)
    }

    /// The message's value (the consumer's own clone).
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The message's key, if it has one.
    pub fn key(&self) -> Option<&Key> {
        self.key.as_ref()
    }

    /// The message's headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Which delivery of the message this is: 1 the first time.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// When the message was sent (bus-clock ms), or the timestamp its sender set.
    pub fn enqueued_at(&self) -> i64 {
        self.enqueued_at
    }

    /// When this delivery's visibility timeout passes (bus-clock ms): settling at
    /// or after it fails with `Expired`.
    pub fn deadline(&self) -> i64 {
        self.deadline
    }

    /// Which queue it came from (`topic/group` for a share group).
    pub fn queue_name(&self) -> &str {
        &self.queue.name
    }

    /// For a share group's delivery, the record's partition (`None` from a queue).
    pub fn partition(&self) -> Option<u32> {
        self.origin.map(|o| o.0)
    }

    /// For a share group's delivery, the record's offset (`None` from a queue).
    pub fn offset(&self) -> Option<u64> {
        self.origin.map(|o| o.1)
    }

    fn settle(mut self, how: Settle) -> Result<(), SettleError> {
        self.settled = true;
        if self.holder_crashed() {
            // Its consumer is gone: the visibility timeout takes it back.
            return Err(SettleError::Expired);
        }
        let token = (self.index, self.gen, self.deadline);
        if self.queue.settle_later(|| vec![token], how) {
            return Ok(());
        }
        self.queue.settle(self.index, self.gen, self.deadline, how)
    }

    /// Done: removes the message from the queue.
    ///
    /// # Errors
    ///
    /// `Expired` if the visibility timeout passed first (nothing changes).
    pub fn ack(self) -> Result<(), SettleError> {
        self.settle(Settle::Ack)
    }

    /// Not done: the message is ready again at once, at the head of the queue (or
    /// dead-lettered, if this was its last allowed attempt).
    ///
    /// # Errors
    ///
    /// `Expired` if the visibility timeout passed first (nothing changes).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = ringlet::Bus::new();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send_batch([1, 2]).unwrap();
    /// q.receive().unwrap().nack().unwrap();
    /// assert_eq!(*q.receive().unwrap().value(), 1); // back at the head
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn nack(self) -> Result<(), SettleError> {
        self.settle(Settle::Nack)
    }

    /// Not done, try later: the message joins the tail when `delay` (bus clock) has
    /// passed (or is dead-lettered, if this was its last allowed attempt).
    ///
    /// # Errors
    ///
    /// `Expired` if the visibility timeout passed first (nothing changes).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ringlet::{Bus, ManualClock};
    /// let clock = ManualClock::new();
    /// let bus = Bus::builder().clock(clock.clone()).build();
    /// let q = bus.queue::<u8>("jobs", Default::default())?;
    /// q.send(1).unwrap();
    /// q.receive().unwrap().nack_after(Duration::from_secs(5)).unwrap();
    /// assert!(q.try_receive().is_err());
    /// clock.advance(Duration::from_secs(5));
    /// assert_eq!(q.try_receive().unwrap().attempt(), 2);
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn nack_after(self, delay: Duration) -> Result<(), SettleError> {
        self.settle(Settle::NackAfter(duration_ms(delay)))
    }

    /// Never going to work: dead-letters the message now (reason `rejected`).
    ///
    /// # Errors
    ///
    /// `Expired` if the visibility timeout passed first (nothing changes).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringlet::{Bus, QueueConfig};
    /// let bus = Bus::new();
    /// let dlq = bus.queue::<u8>("jobs.dlq", QueueConfig::default())?;
    /// let q = bus.queue::<u8>("jobs", QueueConfig::default().dead_letter("jobs.dlq"))?;
    /// q.send(9).unwrap();
    /// q.receive().unwrap().reject().unwrap();
    /// let dead = dlq.receive().unwrap();
    /// assert_eq!(dead.headers().get("ringlet.dead_letter.reason"), Some(&b"rejected"[..]));
    /// assert_eq!(dead.headers().get("ringlet.dead_letter.source"), Some(&b"jobs"[..]));
    /// # Ok::<(), ringlet::Error>(())
    /// ```
    pub fn reject(self) -> Result<(), SettleError> {
        self.settle(Settle::Reject)
    }
}

impl<T> Drop for Delivery<T> {
    fn drop(&mut self) {
        if !self.settled && !self.holder_crashed() {
            // A consumer that gives up without settling: nack (an expired delivery
            // changes nothing).
            let token = (self.index, self.gen, self.deadline);
            if !self.queue.settle_later(|| vec![token], Settle::Nack) {
                let _ = self
                    .queue
                    .settle(self.index, self.gen, self.deadline, Settle::Nack);
            }
        }
    }
}

/// A [`Delivery`] settled through a shared reference, for bindings whose objects
/// are shared (Python, JS): the first `ack`/`nack`/`nack_after`/`reject` settles
/// it, any later one fails with [`SettleError::AlreadySettled`] and changes
/// nothing. Dropping it unsettled nacks the message, as dropping a `Delivery` does.
///
/// # Examples
///
/// ```
/// use ringlet::queue::SharedDelivery;
/// use ringlet::SettleError;
/// let bus = ringlet::Bus::new();
/// let q = bus.queue::<u8>("jobs", Default::default())?;
/// q.send(1).unwrap();
/// let d = SharedDelivery::new(q.receive().unwrap());
/// assert_eq!(d.with(|d| *d.value()), Some(1));
/// d.ack().unwrap();
/// assert_eq!(d.nack(), Err(SettleError::AlreadySettled));
/// assert!(d.is_settled() && q.is_empty());
/// # Ok::<(), ringlet::Error>(())
/// ```
pub struct SharedDelivery<T>(parking_lot::Mutex<Option<Delivery<T>>>);

impl<T> std::fmt::Debug for SharedDelivery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDelivery")
            .field("settled", &self.is_settled())
            .finish_non_exhaustive()
    }
}

impl<T> SharedDelivery<T> {
    /// Wraps a delivery.
    pub fn new(d: Delivery<T>) -> Self {
        SharedDelivery(parking_lot::Mutex::new(Some(d)))
    }

    /// Whether it was settled (through this wrapper).
    pub fn is_settled(&self) -> bool {
        self.0.lock().is_none()
    }

    /// `f` of the delivery, unless it was settled.
    pub fn with<R>(&self, f: impl FnOnce(&Delivery<T>) -> R) -> Option<R> {
        self.0.lock().as_ref().map(f)
    }

    fn take(&self) -> Result<Delivery<T>, SettleError> {
        self.take_delivery().ok_or(SettleError::AlreadySettled)
    }

    /// The delivery itself, unless it was settled (then `None`); later
    /// settles through this wrapper fail with `AlreadySettled`. For handing
    /// it to [`crate::faults::Faults::crash`].
    pub fn take_delivery(&self) -> Option<Delivery<T>> {
        self.0.lock().take()
    }

    /// [`Delivery::ack`], once.
    ///
    /// # Errors
    ///
    /// `AlreadySettled`; `Expired`.
    pub fn ack(&self) -> Result<(), SettleError> {
        self.take()?.ack()
    }

    /// [`Delivery::nack`], once.
    ///
    /// # Errors
    ///
    /// `AlreadySettled`; `Expired`.
    pub fn nack(&self) -> Result<(), SettleError> {
        self.take()?.nack()
    }

    /// [`Delivery::nack_after`], once.
    ///
    /// # Errors
    ///
    /// `AlreadySettled`; `Expired`.
    pub fn nack_after(&self, delay: Duration) -> Result<(), SettleError> {
        self.take()?.nack_after(delay)
    }

    /// [`Delivery::reject`], once.
    ///
    /// # Errors
    ///
    /// `AlreadySettled`; `Expired`.
    pub fn reject(&self) -> Result<(), SettleError> {
        self.take()?.reject()
    }
}

/// The future of [`crate::Queue::receive_async`]. Cancel-safe: it takes a message
/// only when it completes.
#[must_use = "futures do nothing unless polled"]
pub struct ReceiveFuture<T> {
    queue: Arc<QueueInner<T>>,
    id: u64,
    registered: bool,
}

impl<T> std::fmt::Debug for ReceiveFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiveFuture")
            .field("queue", &&*self.queue.name)
            .finish_non_exhaustive()
    }
}

impl<T> ReceiveFuture<T> {
    pub(crate) fn new(queue: Arc<QueueInner<T>>) -> Self {
        ReceiveFuture {
            queue,
            id: 0,
            registered: false,
        }
    }
}

impl<T> Unpin for ReceiveFuture<T> {}

impl<T: Clone> Future for ReceiveFuture<T> {
    type Output = Result<Delivery<T>, ReceiveError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let q = &this.queue;
        for registered in [false, true] {
            let mut got = None;
            match q.try_take(1, |t| got = Some(t)) {
                Ok(_) => {
                    let t = got.expect("a successful take hands over a message");
                    return Poll::Ready(Ok(Delivery::new(q.clone(), t)));
                }
                Err(NoMessage::Closed) => return Poll::Ready(Err(ReceiveError::Closed)),
                Err(_) if registered => {
                    if q.is_due() {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
                Err(_) => {
                    if !this.registered {
                        // An id only for futures that wait (a shared counter).
                        this.id = waiter_id();
                        this.registered = true;
                    }
                    q.ready_waiters.register(this.id, cx.waker());
                    if let Some(at) = q.next_deadline() {
                        q.timer.wake_at(at, this.id, cx.waker());
                    }
                }
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for ReceiveFuture<T> {
    fn drop(&mut self) {
        if self.registered {
            self.queue.ready_waiters.unregister(self.id);
            self.queue.timer.cancel(self.id);
        }
    }
}

/// The future of [`crate::Queue::send_message_async`]. Cancel-safe: dropped before
/// it completes, it sends nothing.
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<T> {
    queue: Arc<QueueInner<T>>,
    msg: Option<Message<T>>,
    id: u64,
    registered: bool,
}

impl<T> std::fmt::Debug for SendFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendFuture")
            .field("queue", &&*self.queue.name)
            .finish_non_exhaustive()
    }
}

impl<T> SendFuture<T> {
    pub(crate) fn new(queue: Arc<QueueInner<T>>, msg: Message<T>) -> Self {
        SendFuture {
            queue,
            msg: Some(msg),
            id: 0,
            registered: false,
        }
    }
}

impl<T> Unpin for SendFuture<T> {}

impl<T> Future for SendFuture<T> {
    type Output = Result<(), SendError<Message<T>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(mut msg) = this.msg.take() else {
            return Poll::Ready(Ok(())); // polled after completion
        };
        if !this.registered {
            if let Some(r) = this.queue.injected(true) {
                return Poll::Ready(Err(crate::queue::send_error((r, msg))));
            }
        }
        for registered in [false, true] {
            match this.queue.try_send_from(msg, None, None) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err((SendRefused::Full, m)) => msg = m,
                Err(refused) => return Poll::Ready(Err(crate::queue::send_error(refused))),
            }
            if registered {
                break;
            }
            if !this.registered {
                // An id only for futures that wait (a shared counter).
                this.id = waiter_id();
                this.registered = true;
            }
            this.queue.room_waiters.register(this.id, cx.waker());
            // Room also comes from expiries that dead-letter.
            if let Some(at) = this.queue.next_deadline() {
                this.queue.timer.wake_at(at, this.id, cx.waker());
            }
        }
        this.msg = Some(msg);
        Poll::Pending
    }
}

impl<T> Drop for SendFuture<T> {
    fn drop(&mut self) {
        if self.registered {
            self.queue.room_waiters.unregister(self.id);
            self.queue.timer.cancel(self.id);
        }
    }
}
