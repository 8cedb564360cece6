//! Kafka → Ringlet: a link's thread polls a Kafka consumer group, publishes each
//! record on the Ringlet side and stores its offset only after the publish
//! returned; stored offsets are committed every 100 ms and at close.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};
use ringlet::storage::Codec;
use ringlet::{Message, PublishTimeoutError, Queue, SendTimeoutError, Start, Topic};

use crate::shared::{client_config, Context, Shared};
use crate::{Error, KafkaConfig};

/// How often stored offsets are committed.
const COMMIT_EVERY: Duration = Duration::from_millis(100);
/// How long one wait for room on the Ringlet side lasts before the link looks
/// at its stop flag again.
const WAIT: Duration = Duration::from_millis(100);

/// What the Ringlet side said to one record.
pub(crate) enum Put {
    /// Published (written, on a durable topic).
    Done,
    /// Cannot be taken: dead-letter it.
    Refused(String),
    /// The Ringlet side is closed: the link stops.
    Closed,
    /// The link was stopped while waiting for room.
    Stopped,
}

/// The Ringlet side of an import.
pub(crate) trait Sink: Send {
    /// Decodes and puts one record, waiting for room (checking `stop`).
    fn put(
        &mut self,
        m: &BorrowedMessage<'_>,
        bytes: Vec<u8>,
        stop: &AtomicBool,
        shared: &Shared,
    ) -> Put;
}

/// A Kafka key as a Ringlet key: text when it is UTF-8 (Kafka keys are bytes;
/// most are written from strings), else bytes. Either way the same bytes, so
/// the same partition.
fn key_of(key: &[u8]) -> ringlet::Key {
    match std::str::from_utf8(key) {
        Ok(text) => text.into(),
        Err(_) => key.into(),
    }
}

fn headers_of(m: &BorrowedMessage<'_>) -> ringlet::Headers {
    let mut h = ringlet::Headers::default();
    if let Some(hs) = m.headers() {
        for x in hs.iter() {
            h.push(x.key, x.value.unwrap_or_default());
        }
    }
    h
}

/// One attempt to put a record on the Ringlet side.
enum Try<M> {
    Done,
    /// No room within the wait: try again.
    Full(M),
    /// Failed for a while (a full `keep` topic, storage): report once, pause,
    /// try again.
    Failing(M, String),
    Closed,
    Refused(String),
}

/// Tries until the record is taken, refused, the side closed or the link
/// stopped.
fn with_room<M>(
    stop: &AtomicBool,
    shared: &Shared,
    mut msg: M,
    what: impl FnOnce() -> String,
    mut attempt: impl FnMut(M) -> Try<M>,
) -> Put {
    let mut what = Some(what);
    loop {
        msg = match attempt(msg) {
            Try::Done => return Put::Done,
            Try::Closed => return Put::Closed,
            Try::Refused(why) => return Put::Refused(why),
            Try::Full(m) => m,
            Try::Failing(m, why) => {
                if let Some(what) = what.take() {
                    shared.error(&format!(
                        "{}: {why}; the link waits and tries again",
                        what()
                    ));
                }
                shared.retried();
                std::thread::sleep(WAIT);
                m
            }
        };
        if stop.load(Relaxed) {
            return Put::Stopped;
        }
    }
}

/// A Ringlet topic.
pub(crate) struct TopicSink<T: Clone + Send + Sync + 'static> {
    pub(crate) topic: Topic<T>,
    pub(crate) codec: Arc<dyn Codec<T>>,
    pub(crate) same_partitions: bool,
}

impl<T: Clone + Send + Sync + 'static> Sink for TopicSink<T> {
    fn put(
        &mut self,
        m: &BorrowedMessage<'_>,
        bytes: Vec<u8>,
        stop: &AtomicBool,
        shared: &Shared,
    ) -> Put {
        let value = match self.codec.decode_owned(bytes) {
            Ok(v) => v,
            Err(e) => return Put::Refused(format!("the value does not decode ({e})")),
        };
        let mut msg = Message::new(value).headers(headers_of(m));
        if let Some(key) = m.key() {
            msg = msg.key(key_of(key));
        }
        if let Some(ts) = m.timestamp().to_millis() {
            msg = msg.timestamp(ts);
        }
        if self.same_partitions {
            msg = msg.partition(m.partition() as u32);
        }
        let topic = self.topic.clone();
        with_room(
            stop,
            shared,
            msg,
            || format!("publishing to {}", topic.name()),
            |msg| match self.topic.publish_message_timeout(msg, WAIT) {
                Ok(_) => Try::Done,
                Err(PublishTimeoutError::Timeout(m)) => Try::Full(m),
                Err(PublishTimeoutError::Full(m)) => Try::Failing(
                    m,
                    "the topic is full and its on_full policy (keep) frees no room".into(),
                ),
                Err(PublishTimeoutError::Closed(_)) => Try::Closed,
                Err(PublishTimeoutError::OutOfRange(_)) => {
                    Try::Refused("the record's partition is not one of the Ringlet topic's".into())
                }
                Err(PublishTimeoutError::NoKey(_)) => {
                    Try::Refused("the Ringlet topic is compacted and the record has no key".into())
                }
                Err(PublishTimeoutError::Storage(m, e)) => {
                    Try::Failing(m, format!("the topic's storage failed ({e})"))
                }
                Err(PublishTimeoutError::Schema(_, e)) => Try::Refused(e.to_string()),
            },
        )
    }
}

/// A Ringlet queue.
pub(crate) struct QueueSink<T: Clone + Send + Sync + 'static> {
    pub(crate) queue: Queue<T>,
    pub(crate) codec: Arc<dyn Codec<T>>,
}

impl<T: Clone + Send + Sync + 'static> Sink for QueueSink<T> {
    fn put(
        &mut self,
        m: &BorrowedMessage<'_>,
        bytes: Vec<u8>,
        stop: &AtomicBool,
        shared: &Shared,
    ) -> Put {
        let value = match self.codec.decode_owned(bytes) {
            Ok(v) => v,
            Err(e) => return Put::Refused(format!("the value does not decode ({e})")),
        };
        let mut msg = Message::new(value).headers(headers_of(m));
        if let Some(key) = m.key() {
            msg = msg.key(key_of(key));
        }
        let queue = self.queue.clone();
        with_room(
            stop,
            shared,
            msg,
            || format!("sending to {}", queue.name()),
            |msg| match self.queue.send_message_timeout(msg, WAIT) {
                Ok(()) => Try::Done,
                Err(SendTimeoutError::Timeout(m)) => Try::Full(m),
                Err(SendTimeoutError::Closed(_)) => Try::Closed,
                Err(SendTimeoutError::Storage(m, e)) => {
                    Try::Failing(m, format!("the queue's storage failed ({e})"))
                }
            },
        )
    }
}

/// One import link's thread.
pub(crate) struct Import {
    pub(crate) config: KafkaConfig,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) topic: String,
    pub(crate) group: String,
    pub(crate) start: Start,
    pub(crate) dead_letter: Option<Queue<Vec<u8>>>,
}

impl Import {
    /// Creates the consumer and subscribes (on the caller's thread, so a bad
    /// property is the caller's error), then starts the thread.
    pub(crate) fn start(
        self,
        mut sink: Box<dyn Sink>,
    ) -> Result<std::thread::JoinHandle<Result<(), Error>>, Error> {
        let reset = match self.start {
            Start::Earliest => "earliest",
            Start::Latest => "latest",
            _ => {
                return Err(Error::Config {
                    detail:
                        "a link from Kafka starts at Start::Earliest or Start::Latest (Kafka's \
                             auto.offset.reset); to start elsewhere, commit the group's offsets \
                             with Kafka's tools first"
                            .into(),
                })
            }
        };
        let c = client_config(
            &self.config,
            &[
                ("group.id", &self.group),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("auto.offset.reset", reset),
                ("allow.auto.create.topics", "false"),
            ],
        )?;
        let consumer: BaseConsumer<Context> = c.create_with_context(Context {
            shared: self.shared.clone(),
            consumer: true,
        })?;
        consumer.subscribe(&[&self.topic])?;
        let name = format!("ringlet-kafka {}", self.shared.name);
        std::thread::Builder::new()
            .name(name)
            .spawn(move || self.run(consumer, sink.as_mut()))
            .map_err(|e| Error::Kafka {
                detail: format!("starting the link's thread failed: {e}"),
            })
    }

    fn refused(&self, m: &BorrowedMessage<'_>, why: &str) {
        self.shared.dead_letter(&format!(
            "{} partition {} offset {}: {why}",
            self.topic,
            m.partition(),
            m.offset()
        ));
        if let Some(q) = &self.dead_letter {
            let msg = Message::new(m.payload().unwrap_or_default().to_vec())
                .header("kafka.topic", self.topic.as_bytes())
                .header("kafka.partition", m.partition().to_string())
                .header("kafka.offset", m.offset().to_string())
                .header("kafka.error", why.as_bytes());
            if let Err(e) = q.try_send_message(msg) {
                self.shared.error(&format!(
                    "the dead-letter queue {} refused a record: {e}",
                    q.name()
                ));
            }
        }
    }

    fn commit(&self, consumer: &BaseConsumer<Context>, mode: CommitMode) {
        match consumer.commit_consumer_state(mode) {
            Ok(()) => {}
            // Nothing stored since the last commit.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => self
                .shared
                .error(&format!("committing Kafka offsets failed: {e}")),
        }
    }

    fn run(self, consumer: BaseConsumer<Context>, sink: &mut dyn Sink) -> Result<(), Error> {
        let mut last_commit = Instant::now();
        let mut stored = false;
        let mut closed_by_bus = false;
        while !self.stop.load(Relaxed) {
            match consumer.poll(Duration::from_millis(50)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) => self
                    .shared
                    .error(&format!("reading {} failed: {e}", self.topic)),
                Some(Ok(m)) => {
                    let len = m.payload_len();
                    let put = match m.payload() {
                        None => Put::Refused("the record has no value (a tombstone)".into()),
                        Some(b) => sink.put(&m, b.to_vec(), &self.stop, &self.shared),
                    };
                    match put {
                        Put::Done => {
                            self.shared.moved(len);
                            self.shared.ok();
                        }
                        Put::Refused(why) => self.refused(&m, &why),
                        Put::Closed => {
                            closed_by_bus = true;
                            break;
                        }
                        // Not published: its offset is not stored, it is read
                        // again by the next consumer of the group.
                        Put::Stopped => break,
                    }
                    if let Err(e) = consumer.store_offset_from_message(&m) {
                        // The partition was revoked meanwhile: its new owner reads
                        // the record again (at least once).
                        self.shared
                            .error(&format!("storing the offset failed: {e}"));
                    } else {
                        stored = true;
                    }
                }
            }
            if stored && last_commit.elapsed() >= COMMIT_EVERY {
                self.commit(&consumer, CommitMode::Async);
                last_commit = Instant::now();
                stored = false;
            }
        }
        self.commit(&consumer, CommitMode::Sync);
        consumer.unsubscribe();
        drop(consumer);
        self.shared.close(if closed_by_bus {
            "the Ringlet side was closed: offsets of what it took are committed"
        } else {
            "closed: offsets of everything published are committed"
        });
        Ok(())
    }
}
