//! The future of an async publish.

use std::future::Future;
use std::pin::Pin as StdPin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::{PublishError, PublishTimeoutError};
use crate::record::{Message, Receipt};

use super::{without_timeout, TopicInner, Wait};

/// The future of [`Topic::publish_message_async`](crate::Topic::publish_message_async). Publishes nothing if dropped
/// before it completes.
#[must_use = "futures do nothing unless polled"]
pub struct PublishFuture<T> {
    pub(super) topic: Arc<TopicInner<T>>,
    pub(super) msg: Option<Message<T>>,
    /// The partition the caller named, restored on the message handed back.
    pub(super) msg_partition: Option<u32>,
    pub(super) id: u64,
    pub(super) room_of: Option<u32>,
}

impl<T> std::fmt::Debug for PublishFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishFuture")
            .field("topic", &&*self.topic.name)
            .finish_non_exhaustive()
    }
}

impl<T> Unpin for PublishFuture<T> {}

impl<T: Clone + Send + Sync + 'static> Future for PublishFuture<T> {
    type Output = Result<Receipt, PublishError<Message<T>>>;

    fn poll(mut self: StdPin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let topic = this.topic.clone();
        let msg = this.msg.as_ref().expect("polled after completion");
        // The partition is chosen once (round-robin or by key), so waiting for room
        // waits on the partition the record will go to.
        let p = match this.room_of {
            Some(p) => p,
            None => match topic.pick_partition(msg.key.as_ref(), msg.partition) {
                Some(p) => p,
                None => {
                    return Poll::Ready(Err(PublishError::OutOfRange(
                        this.msg.take().expect("present"),
                    )))
                }
            },
        };
        if this.room_of.is_none() {
            // The first poll: the one an injected failure takes.
            if let Some(r) = topic.injected() {
                return Poll::Ready(Err(r.publish_error(this.msg.take().expect("present"))));
            }
        }
        let part = &topic.parts[p as usize];
        let blocking = topic.config.on_full.waits_for_room(true);
        for registered in [false, true] {
            let mut msg = this.msg.take().expect("present");
            msg.partition = Some(p);
            match topic.publish_msg_unchecked(msg, Wait::Never) {
                Ok(r) => return Poll::Ready(Ok(r)),
                Err(PublishTimeoutError::Full(mut m)) if blocking => {
                    m.partition = this.msg_partition;
                    this.msg = Some(m);
                    if registered {
                        return Poll::Pending;
                    }
                    this.room_of = Some(p);
                    part.room.register(this.id, cx.waker());
                    if let Some(at) = topic.expire(p) {
                        topic.timer.wake_at(at, this.id, cx.waker());
                    }
                }
                Err(e) => {
                    let restore = |mut m: Message<T>| {
                        m.partition = this.msg_partition;
                        m
                    };
                    return Poll::Ready(Err(without_timeout(e).map(restore)));
                }
            }
        }
        Poll::Pending
    }
}

impl<T> Drop for PublishFuture<T> {
    fn drop(&mut self) {
        if let Some(p) = self.room_of {
            self.topic.parts[p as usize].room.unregister(self.id);
            self.topic.timer.cancel(self.id);
        }
    }
}
