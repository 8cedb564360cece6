//! Ringlet → Kafka: a link's thread reads a topic (through a consumer group) or a
//! queue, hands each record to an idempotent producer and settles it on the
//! Ringlet side only once Kafka has acknowledged it.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::statistics::Statistics;
use rdkafka::ClientContext;
use ringlet::storage::Codec;
use ringlet::{Delivery, Headers, Key, Member, Message, Queue, RecvTimeoutError};

use crate::shared::{client_config, Context, Shared};
use crate::{Error, KafkaConfig};

/// Records handed to the producer and not yet acknowledged, at most (then the
/// link waits for acknowledgements before it reads more).
const MAX_IN_FLIGHT: usize = 50_000;
/// Records read from Ringlet at a time.
const BATCH: usize = 1024;

/// A record to produce, encoded.
pub(crate) struct Out {
    pub(crate) id: usize,
    pub(crate) bytes: Vec<u8>,
    pub(crate) key: Option<Key>,
    pub(crate) headers: Headers,
    pub(crate) timestamp: i64,
    /// The Ringlet partition (kept when the partition counts match).
    pub(crate) partition: Option<u32>,
}

/// The Ringlet side of an export.
pub(crate) trait Source: Send {
    /// Up to `max` records, waiting up to `wait` for the first. `Err` when the
    /// Ringlet side is closed.
    fn take(&mut self, max: usize, wait: Duration, out: &mut Vec<Out>) -> Result<(), ()>;
    /// Kafka acknowledged record `id`.
    fn confirmed(&mut self, id: usize);
    /// Record `id` cannot be moved (dead-lettered): settle it as passed over.
    fn refused(&mut self, id: usize);
    /// Commits what is confirmed.
    fn commit(&mut self);
    /// The producer was lost: everything in flight is read again.
    fn reset(&mut self);
    /// Records taken and not settled.
    fn in_flight(&self) -> usize;
    /// The link stops: what is unconfirmed is left for the next run.
    fn close(&mut self);
}

/// A topic through the link's consumer group.
pub(crate) struct TopicSource<T: Clone + Send + Sync + 'static> {
    pub(crate) member: Member<T>,
    pub(crate) codec: Arc<dyn Codec<T>>,
    pub(crate) shared: Arc<Shared>,
    /// Per partition: offsets handed over and not settled.
    pub(crate) flying: Vec<BTreeSet<u64>>,
    /// Per partition: the offset after the last record taken.
    pub(crate) next: Vec<Option<u64>>,
    /// Per partition: the committed offset.
    pub(crate) committed: Vec<Option<u64>>,
    pub(crate) flying_total: usize,
}

fn pack(partition: u32, offset: u64) -> usize {
    ((partition as usize) << 48) | (offset as usize & ((1 << 48) - 1))
}

fn unpack(id: usize) -> (usize, u64) {
    (id >> 48, (id & ((1 << 48) - 1)) as u64)
}

impl<T: Clone + Send + Sync + 'static> TopicSource<T> {
    pub(crate) fn new(
        member: Member<T>,
        codec: Arc<dyn Codec<T>>,
        shared: Arc<Shared>,
        partitions: u32,
    ) -> Self {
        let n = partitions as usize;
        TopicSource {
            member,
            codec,
            shared,
            flying: vec![BTreeSet::new(); n],
            next: vec![None; n],
            committed: vec![None; n],
            flying_total: 0,
        }
    }

    fn settle(&mut self, id: usize) {
        let (p, offset) = unpack(id);
        if self.flying[p].remove(&offset) {
            self.flying_total -= 1;
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Source for TopicSource<T> {
    fn take(&mut self, max: usize, wait: Duration, out: &mut Vec<Out>) -> Result<(), ()> {
        let records = match self.member.recv_batch_timeout(max, wait) {
            Ok(records) => records,
            Err(RecvTimeoutError::Timeout) => return Ok(()),
            Err(RecvTimeoutError::Lagged { partition, skipped }) => {
                self.shared.error(&format!(
                    "{skipped} record(s) of partition {partition} left the Ringlet topic before the \
                     link read them (its retention is too small for Kafka's pace)"
                ));
                return Ok(());
            }
            Err(RecvTimeoutError::Closed) => return Err(()),
        };
        for r in records {
            let p = r.partition as usize;
            self.next[p] = Some(r.offset + 1);
            match self.codec.encode(&r.value) {
                Ok(bytes) => {
                    self.flying[p].insert(r.offset);
                    self.flying_total += 1;
                    out.push(Out {
                        id: pack(r.partition, r.offset),
                        bytes,
                        key: r.key,
                        headers: r.headers,
                        timestamp: r.timestamp,
                        partition: Some(r.partition),
                    });
                }
                Err(e) => self.shared.dead_letter(&format!(
                    "partition {} offset {}: the value does not encode ({e})",
                    r.partition, r.offset
                )),
            }
        }
        Ok(())
    }

    fn confirmed(&mut self, id: usize) {
        self.settle(id);
    }

    fn refused(&mut self, id: usize) {
        self.settle(id);
    }

    fn commit(&mut self) {
        let mut commits = Vec::new();
        for p in 0..self.flying.len() {
            let upto = self.flying[p].first().copied().or(self.next[p]);
            if let Some(upto) = upto {
                if self.committed[p] < Some(upto) {
                    commits.push((p as u32, upto));
                }
            }
        }
        if commits.is_empty() {
            return;
        }
        match self.member.commit_offsets(&commits) {
            Ok(()) => {
                for (p, o) in commits {
                    self.committed[p as usize] = Some(o);
                }
            }
            Err(e) => self
                .shared
                .error(&format!("committing the link's position failed: {e}")),
        }
    }

    fn reset(&mut self) {
        for p in 0..self.flying.len() {
            if let Some(&first) = self.flying[p].first() {
                if let Err(e) = self.member.seek(p as u32, first) {
                    self.shared.error(&format!(
                        "going back to partition {p} offset {first} failed: {e}"
                    ));
                }
                self.next[p] = Some(first);
            }
            self.flying[p].clear();
        }
        self.flying_total = 0;
    }

    fn in_flight(&self) -> usize {
        self.flying_total
    }

    fn close(&mut self) {
        self.member.leave();
    }
}

/// A queue: each delivery is acked once Kafka acknowledged it.
pub(crate) struct QueueSource<T: Clone + Send + Sync + 'static> {
    pub(crate) queue: Queue<T>,
    pub(crate) codec: Arc<dyn Codec<T>>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) flying: HashMap<usize, Delivery<T>>,
    pub(crate) next_id: usize,
}

impl<T: Clone + Send + Sync + 'static> Source for QueueSource<T> {
    fn take(&mut self, max: usize, wait: Duration, out: &mut Vec<Out>) -> Result<(), ()> {
        let deliveries = match self.queue.receive_batch_timeout(max, wait) {
            Ok(d) => d,
            Err(ringlet::ReceiveTimeoutError::Timeout) => return Ok(()),
            Err(ringlet::ReceiveTimeoutError::Closed) => return Err(()),
            Err(ringlet::ReceiveTimeoutError::Storage(e)) => {
                self.shared
                    .error(&format!("the queue's storage failed: {e}"));
                std::thread::sleep(Duration::from_millis(100));
                return Ok(());
            }
        };
        for d in deliveries {
            match self.codec.encode(d.value()) {
                Ok(bytes) => {
                    let id = self.next_id;
                    self.next_id += 1;
                    out.push(Out {
                        id,
                        bytes,
                        key: d.key().cloned(),
                        headers: d.headers().clone(),
                        timestamp: d.enqueued_at(),
                        partition: None,
                    });
                    self.flying.insert(id, d);
                }
                Err(e) => {
                    self.shared
                        .dead_letter(&format!("a message does not encode ({e}): rejected"));
                    let _ = d.reject();
                }
            }
        }
        Ok(())
    }

    fn confirmed(&mut self, id: usize) {
        if let Some(d) = self.flying.remove(&id) {
            if let Err(e) = d.ack() {
                self.shared.error(&format!(
                    "a message Kafka confirmed could not be acked ({e}): its visibility timeout \
                     passed first, so it is delivered again and Kafka may hold it twice"
                ));
            }
        }
    }

    fn refused(&mut self, id: usize) {
        if let Some(d) = self.flying.remove(&id) {
            let _ = d.reject();
        }
    }

    fn commit(&mut self) {}

    fn reset(&mut self) {
        for (_, d) in self.flying.drain() {
            let _ = d.nack();
        }
    }

    fn in_flight(&self) -> usize {
        self.flying.len()
    }

    fn close(&mut self) {
        self.reset();
    }
}

/// What a delivery report said.
struct Done {
    id: usize,
    bytes: usize,
    /// Why Kafka refused the record, and its bytes.
    refused: Option<(String, Vec<u8>)>,
}

/// The producer's context: delivery reports are kept for the link's thread.
struct ExportContext {
    base: Context,
    done: Mutex<Vec<Done>>,
}

impl ClientContext for ExportContext {
    fn stats(&self, statistics: Statistics) {
        self.base.stats(statistics);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.base.error(error, reason);
    }

    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.base.log(level, fac, log_message);
    }
}

impl ProducerContext for ExportContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, id: usize) {
        let done = match result {
            Ok(m) => Done {
                id,
                bytes: m.payload_len(),
                refused: None,
            },
            Err((e, m)) => Done {
                id,
                bytes: m.payload_len(),
                refused: Some((e.to_string(), m.payload().unwrap_or_default().to_vec())),
            },
        };
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(done);
    }
}

fn producer(
    config: &KafkaConfig,
    shared: &Arc<Shared>,
) -> Result<BaseProducer<ExportContext>, Error> {
    let c = client_config(
        config,
        &[
            ("enable.idempotence", "true"),
            ("acks", "all"),
            // Never give up on a record: the link retries (with backoff) until
            // Kafka takes it or the link is closed.
            ("message.timeout.ms", "0"),
        ],
    )?;
    let context = ExportContext {
        base: Context {
            shared: shared.clone(),
            consumer: false,
        },
        done: Mutex::new(Vec::new()),
    };
    Ok(c.create_with_context(context)?)
}

/// One export link's thread.
pub(crate) struct Export {
    pub(crate) config: KafkaConfig,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) topic: String,
    /// The Kafka topic's partition count.
    pub(crate) partitions: u32,
    /// Whether Ringlet partition numbers are kept (the counts match).
    pub(crate) same_partitions: bool,
    pub(crate) dead_letter: Option<Queue<Vec<u8>>>,
}

impl Export {
    /// Creates the producer (on the caller's thread, so a bad property is the
    /// caller's error).
    pub(crate) fn start(
        self,
        mut source: Box<dyn Source>,
    ) -> Result<std::thread::JoinHandle<Result<(), Error>>, Error> {
        let producer = producer(&self.config, &self.shared)?;
        let name = format!("ringlet-kafka {}", self.shared.name);
        std::thread::Builder::new()
            .name(name)
            .spawn(move || self.run(producer, source.as_mut()))
            .map_err(|e| Error::Kafka {
                detail: format!("starting the link's thread failed: {e}"),
            })
    }

    fn settle(&self, producer: &BaseProducer<ExportContext>, source: &mut dyn Source) {
        let done = std::mem::take(
            &mut *producer
                .context()
                .done
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for d in done {
            self.shared.in_flight.fetch_sub(1, Relaxed);
            match d.refused {
                None => {
                    self.shared.moved(d.bytes);
                    self.shared.ok();
                    source.confirmed(d.id);
                }
                Some((why, bytes)) => {
                    self.refused(&why, bytes);
                    source.refused(d.id);
                }
            }
        }
    }

    fn refused(&self, why: &str, bytes: Vec<u8>) {
        self.shared
            .dead_letter(&format!("Kafka refused a record of {}: {why}", self.topic));
        if let Some(q) = &self.dead_letter {
            let m = Message::new(bytes)
                .header("kafka.topic", self.topic.as_bytes())
                .header("kafka.error", why.as_bytes());
            if let Err(e) = q.try_send_message(m) {
                self.shared.error(&format!(
                    "the dead-letter queue {} refused a record: {e}",
                    q.name()
                ));
            }
        }
    }

    fn run(
        self,
        mut producer: BaseProducer<ExportContext>,
        source: &mut dyn Source,
    ) -> Result<(), Error> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut round_robin = 0u32;
        'run: loop {
            producer.poll(Duration::ZERO);
            self.settle(&producer, source);
            source.commit();
            if self.stop.load(Relaxed) {
                break;
            }
            if let Some(fatal) = producer.client().fatal_error() {
                // An idempotent producer that lost its sequence cannot go on: a
                // new one sends again everything not confirmed (at least once).
                self.shared.error(&format!(
                    "the Kafka producer failed for good ({fatal:?}): starting a new one"
                ));
                producer.purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
                producer.poll(Duration::ZERO);
                drop(std::mem::take(
                    &mut *producer
                        .context()
                        .done
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()),
                ));
                self.shared.in_flight.store(0, Relaxed);
                source.reset();
                producer = self::producer(&self.config, &self.shared)?;
                continue;
            }
            if source.in_flight() >= MAX_IN_FLIGHT {
                producer.poll(Duration::from_millis(10));
                continue;
            }
            let wait = if source.in_flight() > 0 {
                Duration::from_millis(2)
            } else {
                Duration::from_millis(50)
            };
            if source.take(BATCH, wait, &mut batch).is_err() {
                break;
            }
            for out in std::mem::take(&mut batch) {
                let partition = match (out.partition, &out.key) {
                    (Some(p), _) if self.same_partitions => p,
                    (_, Some(key)) => ringlet::partition_for_key(key.as_bytes(), self.partitions),
                    (_, None) => {
                        round_robin = (round_robin + 1) % self.partitions.max(1);
                        round_robin
                    }
                };
                let mut headers = OwnedHeaders::new_with_capacity(out.headers.len());
                for (name, value) in out.headers.iter() {
                    headers = headers.insert(Header {
                        key: name,
                        value: Some(value),
                    });
                }
                let mut record = BaseRecord::with_opaque_to(&self.topic, out.id)
                    .payload(&out.bytes)
                    .partition(partition as i32)
                    .timestamp(out.timestamp)
                    .headers(headers);
                if let Some(key) = &out.key {
                    record = record.key(key.as_bytes());
                }
                loop {
                    match producer.send(record) {
                        Ok(()) => {
                            self.shared.in_flight.fetch_add(1, Relaxed);
                            break;
                        }
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                            record = r;
                            producer.poll(Duration::from_millis(10));
                            self.settle(&producer, source);
                            if self.stop.load(Relaxed) {
                                // Left unconfirmed: read again next run.
                                break 'run;
                            }
                        }
                        Err((e, _)) => {
                            self.refused(&e.to_string(), out.bytes.clone());
                            source.refused(out.id);
                            break;
                        }
                    }
                }
            }
        }
        self.finish(producer, source)
    }

    fn finish(
        &self,
        producer: BaseProducer<ExportContext>,
        source: &mut dyn Source,
    ) -> Result<(), Error> {
        let deadline = Instant::now() + self.config.close_timeout;
        while producer.in_flight_count() > 0 && Instant::now() < deadline {
            producer.poll(Duration::from_millis(20));
            self.settle(&producer, source);
        }
        source.commit();
        let unconfirmed = source.in_flight() as u64;
        source.close();
        producer.purge(rdkafka::producer::PurgeConfig::default().queue().inflight());
        drop(producer);
        self.shared.in_flight.store(0, Relaxed);
        if unconfirmed > 0 {
            let e = Error::CloseTimedOut {
                link: self.shared.name.clone(),
                unconfirmed,
            };
            self.shared.close(&e.to_string());
            return Err(e);
        }
        self.shared
            .close("closed: everything read was confirmed by Kafka and committed");
        Ok(())
    }
}
