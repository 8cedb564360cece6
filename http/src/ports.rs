//! The bus's topics and queues seen through [`Payload`](crate::Payload)s: each
//! value type the server was given a [`Format`] for is one [`ValueType`], and a
//! topic or queue of that type is opened as a type-erased [`TopicPort`] or
//! [`QueuePort`]. The semantics stay the core's: these only convert.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ringlet::queue::SharedDelivery;
use ringlet::{
    Bus, Delivery, Error, GroupConfig, Headers, Key, Message, Queue, QueueConfig, QueueFigures,
    Receipt, Record, RecvError, SettleError, Start, Subscription, Topic, TopicConfig,
    TryReceiveError, TryRecvError,
};

use crate::error::ApiError;
use crate::value::{Format, HttpValue};

pub(crate) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A record on its way to a client.
#[derive(Debug, Clone)]
pub(crate) struct Out {
    pub partition: u32,
    pub offset: u64,
    pub timestamp: i64,
    pub key: Option<Key>,
    pub headers: Headers,
    /// The value, or why it cannot be shown.
    pub value: Result<HttpValue, String>,
}

/// Why a read ended without records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    Lagged { partition: u32, skipped: u64 },
    Closed,
}

impl From<RecvError> for ReadError {
    fn from(e: RecvError) -> Self {
        match e {
            RecvError::Lagged { partition, skipped } => ReadError::Lagged { partition, skipped },
            _ => ReadError::Closed,
        }
    }
}

/// A subscription or a group member, whatever its value type.
pub(crate) trait Reader: Send {
    /// What is ready now, at most `max` (empty when nothing is).
    fn ready(&mut self, max: usize) -> Result<Vec<Out>, ReadError>;
    /// Waits for at least one record, then takes what is ready, at most `max`.
    fn wait(&mut self, max: usize) -> BoxFut<'_, Result<Vec<Out>, ReadError>>;
}

/// A group member.
pub(crate) trait Consumer: Reader {
    fn commit_offsets(&mut self, offsets: &[(u32, u64)]) -> Result<(), Error>;
    fn seek(&mut self, partition: u32, offset: u64) -> Result<(), Error>;
    fn assignment(&mut self) -> Vec<u32>;
    fn leave(&mut self);
}

/// A topic, whatever its value type.
pub(crate) trait TopicPort: Send + Sync {
    fn partitions(&self) -> u32;
    fn config(&self) -> TopicConfig;
    fn earliest(&self) -> Vec<u64>;
    fn end(&self) -> Vec<u64>;
    fn is_closed(&self) -> bool;
    /// Converts the value now (an error is the client's), then publishes,
    /// waiting for room when the topic's `on_full` says so.
    fn publish(
        &self,
        msg: Message<HttpValue>,
    ) -> Result<BoxFut<'static, Result<Receipt, ApiError>>, ApiError>;
    fn subscribe(&self, start: Start) -> Result<Box<dyn Reader>, Error>;
    fn join(
        &self,
        group: &str,
        start: Start,
        session: Duration,
    ) -> Result<Box<dyn Consumer>, Error>;
    /// The group's committed offsets, if the group exists.
    fn committed(&self, group: &str) -> Option<Vec<Option<u64>>>;
}

/// How a delivery is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    Ack,
    Nack(Option<Duration>),
    Reject,
}

/// A delivery held for a client, whatever its value type.
pub(crate) trait Settle: Send + Sync {
    fn settle(&self, how: How) -> Result<(), SettleError>;
}

impl<T: Clone + Send + Sync + 'static> Settle for SharedDelivery<T> {
    fn settle(&self, how: How) -> Result<(), SettleError> {
        match how {
            How::Ack => self.ack(),
            How::Nack(None) => self.nack(),
            How::Nack(Some(d)) => self.nack_after(d),
            How::Reject => self.reject(),
        }
    }
}

/// A delivery on its way to a client.
pub(crate) struct Received {
    pub settle: Box<dyn Settle>,
    pub attempt: u32,
    pub enqueued_at: i64,
    pub deadline: i64,
    pub key: Option<Key>,
    pub headers: Headers,
    pub value: Result<HttpValue, String>,
}

/// A queue, whatever its value type.
pub(crate) trait QueuePort: Send + Sync {
    fn config(&self) -> QueueConfig;
    fn figures(&self) -> QueueFigures;
    /// Converts the value now, then sends (a delayed send never waits).
    fn send(
        &self,
        msg: Message<HttpValue>,
        delay: Option<Duration>,
    ) -> Result<BoxFut<'static, Result<(), ApiError>>, ApiError>;
    /// Up to `max` deliveries, waiting up to `wait` for the first.
    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFut<'static, Result<Vec<Received>, ApiError>>;
}

/// One value type the server serves, with its format.
pub(crate) trait ValueType: Send + Sync {
    /// The topic `name` (`TypeMismatch` if it holds another type).
    fn topic(&self, bus: &Bus, name: &str) -> Result<Arc<dyn TopicPort>, Error>;
    /// The queue `name` (`TypeMismatch` if it holds another type).
    fn queue(&self, bus: &Bus, name: &str) -> Result<Arc<dyn QueuePort>, Error>;
}

pub(crate) struct Typed<T> {
    pub format: Arc<dyn Format<T>>,
}

impl<T: Clone + Send + Sync + 'static> ValueType for Typed<T> {
    fn topic(&self, bus: &Bus, name: &str) -> Result<Arc<dyn TopicPort>, Error> {
        Ok(Arc::new(TypedTopic {
            topic: bus.get_topic::<T>(name)?,
            format: self.format.clone(),
        }))
    }

    fn queue(&self, bus: &Bus, name: &str) -> Result<Arc<dyn QueuePort>, Error> {
        Ok(Arc::new(TypedQueue {
            queue: bus.get_queue::<T>(name)?,
            format: self.format.clone(),
        }))
    }
}

fn out<T: 'static>(format: &dyn Format<T>, r: Record<T>) -> Out {
    Out {
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        value: format.encode_owned(r.value),
        key: r.key,
        headers: r.headers,
    }
}

fn convert<T: 'static>(
    format: &dyn Format<T>,
    msg: Message<HttpValue>,
) -> Result<Message<T>, ApiError> {
    let value = format.decode(msg.value).map_err(ApiError::invalid)?;
    Ok(Message {
        value,
        key: msg.key,
        headers: msg.headers,
        partition: msg.partition,
        timestamp: msg.timestamp,
    })
}

struct TypedTopic<T> {
    topic: Topic<T>,
    format: Arc<dyn Format<T>>,
}

impl<T: Clone + Send + Sync + 'static> TopicPort for TypedTopic<T> {
    fn partitions(&self) -> u32 {
        self.topic.partitions()
    }

    fn config(&self) -> TopicConfig {
        self.topic.config().clone()
    }

    fn earliest(&self) -> Vec<u64> {
        self.topic.earliest_offsets()
    }

    fn end(&self) -> Vec<u64> {
        self.topic.end_offsets()
    }

    fn is_closed(&self) -> bool {
        self.topic.is_closed()
    }

    fn publish(
        &self,
        msg: Message<HttpValue>,
    ) -> Result<BoxFut<'static, Result<Receipt, ApiError>>, ApiError> {
        let msg = convert(&*self.format, msg)?;
        let fut = self.topic.publish_message_async(msg);
        Ok(Box::pin(async move {
            fut.await.map_err(|e| ApiError::from_core(&e))
        }))
    }

    fn subscribe(&self, start: Start) -> Result<Box<dyn Reader>, Error> {
        Ok(Box::new(TypedReader {
            reader: self.topic.subscribe(start)?,
            format: self.format.clone(),
        }))
    }

    fn join(
        &self,
        group: &str,
        start: Start,
        session: Duration,
    ) -> Result<Box<dyn Consumer>, Error> {
        let config = self
            .topic
            .group_config(group)
            .unwrap_or_else(|| GroupConfig::default().start(start).session_timeout(session));
        let member = self.topic.group_with(group, config)?.join()?;
        Ok(Box::new(TypedMember {
            reader: member,
            format: self.format.clone(),
        }))
    }

    fn committed(&self, group: &str) -> Option<Vec<Option<u64>>> {
        let config = self.topic.group_config(group)?;
        self.topic
            .group_with(group, config)
            .ok()
            .map(|g| g.committed())
    }
}

/// A subscription or a group member (the core's [`ringlet::Reader`]) and
/// the format of its values.
struct Reading<R: ringlet::Reader> {
    reader: R,
    format: Arc<dyn Format<R::Value>>,
}

type TypedReader<T> = Reading<Subscription<T>>;
type TypedMember<T> = Reading<ringlet::Member<T>>;

fn ready_of<T: 'static>(
    format: &dyn Format<T>,
    got: Result<Vec<Record<T>>, TryRecvError>,
) -> Result<Vec<Out>, ReadError> {
    match got {
        Ok(v) => Ok(v.into_iter().map(|r| out(format, r)).collect()),
        Err(TryRecvError::Empty) => Ok(Vec::new()),
        Err(TryRecvError::Lagged { partition, skipped }) => {
            Err(ReadError::Lagged { partition, skipped })
        }
        Err(_) => Err(ReadError::Closed),
    }
}

/// The next record of a reader; dropped while pending, it forgets its waker
/// (nothing is lost: the record stays for the next read).
struct Next<'a, R: ringlet::Reader> {
    reader: &'a mut R,
    pending: bool,
}

impl<R: ringlet::Reader> Future for Next<'_, R> {
    type Output = Result<Record<R::Value>, RecvError>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let polled = self.reader.poll_recv(cx);
        self.pending = polled.is_pending();
        polled
    }
}

impl<R: ringlet::Reader> Drop for Next<'_, R> {
    fn drop(&mut self) {
        if self.pending {
            self.reader.cancel_poll();
        }
    }
}

impl<R> Reader for Reading<R>
where
    R: ringlet::Reader + Send,
    R::Value: Clone + Send + Sync + 'static,
{
    fn ready(&mut self, max: usize) -> Result<Vec<Out>, ReadError> {
        let got = self.reader.try_recv_batch(max.max(1));
        ready_of(&*self.format, got)
    }

    fn wait(&mut self, max: usize) -> BoxFut<'_, Result<Vec<Out>, ReadError>> {
        Box::pin(async move {
            let first = Next {
                reader: &mut self.reader,
                pending: false,
            }
            .await?;
            let mut v = vec![out(&*self.format, first)];
            // A gap found after the first record is left for the next read.
            if max > 1 {
                if let Ok(more) = self.ready(max - 1) {
                    v.extend(more);
                }
            }
            Ok(v)
        })
    }
}

impl<T: Clone + Send + Sync + 'static> Consumer for TypedMember<T> {
    fn commit_offsets(&mut self, offsets: &[(u32, u64)]) -> Result<(), Error> {
        self.reader.commit_offsets(offsets)
    }

    fn seek(&mut self, partition: u32, offset: u64) -> Result<(), Error> {
        self.reader.seek(partition, offset)
    }

    fn assignment(&mut self) -> Vec<u32> {
        self.reader.assignment()
    }

    fn leave(&mut self) {
        self.reader.leave();
    }
}

struct TypedQueue<T> {
    queue: Queue<T>,
    format: Arc<dyn Format<T>>,
}

fn received<T: Clone + Send + Sync + 'static>(format: &dyn Format<T>, d: Delivery<T>) -> Received {
    Received {
        attempt: d.attempt(),
        enqueued_at: d.enqueued_at(),
        deadline: d.deadline(),
        key: d.key().cloned(),
        headers: d.headers().clone(),
        value: format.encode(d.value()),
        settle: Box::new(SharedDelivery::new(d)),
    }
}

impl<T: Clone + Send + Sync + 'static> QueuePort for TypedQueue<T> {
    fn config(&self) -> QueueConfig {
        self.queue.config().clone()
    }

    fn figures(&self) -> QueueFigures {
        self.queue.figures()
    }

    fn send(
        &self,
        msg: Message<HttpValue>,
        delay: Option<Duration>,
    ) -> Result<BoxFut<'static, Result<(), ApiError>>, ApiError> {
        let msg = convert(&*self.format, msg)?;
        if let Some(delay) = delay {
            let sent = self.queue.try_send_delayed(msg, delay);
            return Ok(Box::pin(async move {
                sent.map_err(|e| ApiError::from_core(&e))
            }));
        }
        let fut = self.queue.send_message_async(msg);
        Ok(Box::pin(async move {
            fut.await.map_err(|e| ApiError::from_core(&e))
        }))
    }

    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFut<'static, Result<Vec<Received>, ApiError>> {
        let queue = self.queue.clone();
        let format = self.format.clone();
        Box::pin(async move {
            let batch = |queue: &Queue<T>, max: usize| match queue.try_receive_batch(max) {
                Ok(v) => Ok(v),
                Err(TryReceiveError::Empty) => Ok(Vec::new()),
                Err(e) => Err(ApiError::from_core(&e)),
            };
            let mut got = batch(&queue, max)?;
            if got.is_empty() && !wait.is_zero() {
                match tokio::time::timeout(wait, queue.receive_async()).await {
                    Ok(Ok(first)) => {
                        got.push(first);
                        if max > 1 {
                            got.extend(batch(&queue, max - 1).unwrap_or_default());
                        }
                    }
                    Ok(Err(e)) => return Err(ApiError::from_core(&e)),
                    Err(_) => {}
                }
            }
            Ok(got.into_iter().map(|d| received(&*format, d)).collect())
        })
    }
}
