//! # ringlet-kafka: from one process to Apache Kafka
//!
//! A [`Bridge`] connects a Ringlet [`Bus`] to a Kafka cluster: a topic or queue
//! of the bus is mirrored into a Kafka topic, or a Kafka topic feeds a topic or
//! queue of the bus, so services that talked through one bus keep their code
//! when some of them move to other processes — only bridge lines are added.
//! The client is [librdkafka](https://github.com/confluentinc/librdkafka)
//! (through the `rdkafka` crate), built from its bundled source and linked
//! statically.
//!
//! ```no_run
//! use ringlet::{Bus, TopicConfig};
//! use ringlet_kafka::{Bridge, FromKafka, KafkaConfig, ToKafka};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Order { id: u64, total: u64 }
//!
//! let bus = Bus::new();
//! let orders = bus.topic::<Order>("orders", TopicConfig::default().partitions(3))?;
//! let bridge = Bridge::new(&bus, KafkaConfig::new("127.0.0.1:19092").client_id("shop"))?;
//! bridge.to_kafka::<Order>("orders", ToKafka::default())?;          // orders -> Kafka "orders"
//! bridge.from_kafka::<Order>("shipped", FromKafka::default().group("shop"))?; // Kafka "shipped" -> shipped
//! orders.publish(Order { id: 1, total: 30 }).unwrap();
//! println!("{:?}", bridge.figures());
//! bridge.close()?; // drains and commits
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What crosses, and how
//!
//! - **Values** cross as a [`Codec`] encodes them: [`Json`] by default (any
//!   Kafka client can read them), or any codec with the `_with` methods (the
//!   durable topics' codecs, e.g. [`ringlet::storage::Postcard`] or
//!   [`ringlet::storage::Raw`] for bytes as they are).
//! - **Keys, headers and timestamps** are kept: a Ringlet record's timestamp is
//!   the Kafka record's `CreateTime`, and back; a queue message's is the time it
//!   was sent. Kafka keys are bytes: one that is valid UTF-8 arrives as a text
//!   key, any other as a bytes key (the same bytes either way, so the same
//!   partition).
//! - **Partition numbers** are kept when the two topics have the same partition
//!   count (a Kafka topic a link creates has the Ringlet topic's count). When the
//!   counts differ, a keyed record goes where Kafka's Java client would put it —
//!   Ringlet's partitioner *is* Kafka's default one (murmur2 of the key bytes,
//!   tested against Kafka's own code) — and records without a key go round
//!   robin. A queue's messages have no partition: by key, else round robin.
//!
//! ## Guarantees
//!
//! Both directions are **at least once**: nothing confirmed by one side is lost
//! and nothing is confirmed before the other side has it.
//!
//! | link | reads with | confirms on the Ringlet side | confirms on the Kafka side |
//! | --- | --- | --- | --- |
//! | [`Bridge::to_kafka`] | a Ringlet consumer group (`to-kafka.<topic>`, manual commits) | commits a record's offset only after Kafka acknowledged it (`acks=all`) | — |
//! | [`Bridge::queue_to_kafka`] | the queue (competing with other consumers) | acks a message only after Kafka acknowledged it | — |
//! | [`Bridge::from_kafka`] | a Kafka consumer group (manual commits) | — | commits an offset only after the Ringlet publish returned (on a durable topic: after it was written) |
//! | [`Bridge::queue_from_kafka`] | a Kafka consumer group | — | commits after the send returned |
//!
//! The producer is idempotent (`enable.idempotence=true`): a broker that fails
//! and comes back does not duplicate what the producer retried, and order per
//! partition holds. Records are never given up on (`message.timeout.ms=0`): a
//! link whose broker is gone keeps them, retrying with backoff, until the broker
//! is back or the link is closed. Duplicates remain possible where at least once
//! allows them: a link that restarts (a crash, or a [`Bridge::close`] that timed
//! out) sends again what was sent but not committed; a queue message whose
//! visibility timeout passed before Kafka confirmed it is delivered again (and
//! reported). A Ringlet topic with `on_full = Block` pushes back on a link from
//! Kafka (the link stops polling until there is room); a consumer that waits
//! longer than Kafka's `max.poll.interval.ms` (5 minutes) loses its partitions to
//! another member of its group, which reads again from the last commit. A link
//! from Kafka commits once the record is on the bus: into an in-memory topic or
//! queue, a process that dies loses what it took and had not yet handled —
//! make the topic or queue durable for more.
//!
//! ## When something goes wrong
//!
//! - At creation, errors are typed ([`Error`]): no broker answering
//!   ([`Error::Unreachable`], after [`KafkaConfig::timeout`]), a Kafka topic that
//!   does not exist for a link that may not create it ([`Error::UnknownTopic`];
//!   links from Kafka create one only with [`FromKafka::create_topic`]), a topic the cluster refuses to create
//!   ([`Error::CreateTopic`]), a missing Ringlet topic or another value type
//!   ([`Error::Bus`]), a bad property ([`Error::Config`]).
//! - While running, a link never stops on an error: each is counted
//!   (`errors`, `last_error`), journaled (`link` events, `reason: "error"`, then
//!   `"recovered"` when records move again) and retried.
//! - A record that cannot be moved at all is a **dead letter**, counted and
//!   journaled: a Kafka value that does not decode (or has no value), a record
//!   Kafka refuses for good (too large), a value that does not encode. With
//!   [`FromKafka::dead_letter`] / [`ToKafka::dead_letter`] it is kept, as bytes, in
//!   a Ringlet queue; without, it is passed over.
//!
//! ## Figures
//!
//! Each link is listed in [`Bus::snapshot`] (`links`) and in
//! [`Bridge::figures`] with the counters of [`ringlet::link::LinkFigures`]:
//! `records` and `bytes` confirmed by the receiving side; `in_flight` (handed to
//! Kafka, not acknowledged); `ringlet_lag` (to Kafka: records of the Ringlet
//! topic after the link's committed position, or messages ready in the queue;
//! from Kafka: 0); `remote_lag` (from Kafka: the consumer group's lag, from
//! librdkafka's statistics every 500 ms; to Kafka: 0); `retries` (librdkafka's
//! resent requests and reconnection attempts, and the link's own waits on a
//! failing Ringlet side); `errors`, `dead_letters`, `last_error`.

mod config;
mod error;
mod export;
mod import;
mod shared;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use ringlet::link::{Link, LinkSnapshot};
use ringlet::storage::Codec;
use ringlet::{Bus, ErrorDetails, ErrorKind, GroupConfig, QueueConfig, TopicConfig};
use serde::{de::DeserializeOwned, Serialize};

pub use config::{FromKafka, KafkaConfig, ToKafka};
pub use error::Error;

use export::{Export, QueueSource, TopicSource};
use import::{Import, QueueSink, TopicSink};
use shared::{client_config, Shared};

/// Values as JSON ([serde_json](https://docs.rs/serde_json)): the bridge's
/// default, readable by any Kafka client — the core's codec of the same name,
/// also a durable topic's codec.
pub use ringlet::storage::Json;

/// A running link: its figures, its stop flag and its thread.
#[derive(Debug)]
struct Running {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), Error>>>,
}

/// Links between one bus and one Kafka cluster. See the [crate docs](crate).
///
/// Each link runs on a thread of its own. [`Bridge::close`] (or dropping the
/// bridge) stops them: what was read is confirmed and committed first.
pub struct Bridge {
    bus: Bus,
    config: KafkaConfig,
    admin: AdminClient<DefaultClientContext>,
    links: Mutex<Vec<Running>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("bootstrap", &self.config.bootstrap)
            .field(
                "links",
                &self
                    .links()
                    .iter()
                    .map(|l| l.name.clone())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Bridge {
    /// A bridge from `bus` to the cluster of `config`, once a broker answered.
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`] when no broker answers within
    /// [`KafkaConfig::timeout`]; [`Error::Config`] for a property librdkafka
    /// refuses.
    pub fn new(bus: &Bus, config: KafkaConfig) -> Result<Bridge, Error> {
        let admin: AdminClient<DefaultClientContext> = client_config(&config, &[])?.create()?;
        let bridge = Bridge {
            bus: bus.clone(),
            config,
            admin,
            links: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        };
        bridge.metadata()?;
        Ok(bridge)
    }

    /// The bus this bridge serves.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The cluster's topics and their partition counts.
    fn metadata(&self) -> Result<Vec<(String, u32)>, Error> {
        let m = self
            .admin
            .inner()
            .fetch_metadata(None, self.config.timeout)
            .map_err(|e| Error::Unreachable {
                bootstrap: self.config.bootstrap.clone(),
                detail: e.to_string(),
            })?;
        Ok(m.topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| (t.name().to_owned(), t.partitions().len() as u32))
            .collect())
    }

    fn partitions_of(&self, topic: &str) -> Result<Option<u32>, Error> {
        Ok(self
            .metadata()?
            .into_iter()
            .find(|(t, _)| t == topic)
            .map(|(_, n)| n))
    }

    /// The partition count of `topic`, created with `partitions` when it does
    /// not exist and `create` allows it.
    fn ensure_topic(
        &self,
        topic: &str,
        create: bool,
        partitions: u32,
        replication: i32,
    ) -> Result<u32, Error> {
        if let Some(n) = self.partitions_of(topic)? {
            return Ok(n);
        }
        if !create {
            return Err(Error::UnknownTopic {
                topic: topic.to_owned(),
            });
        }
        let new = NewTopic::new(
            topic,
            partitions as i32,
            TopicReplication::Fixed(replication),
        );
        let opts = AdminOptions::new().operation_timeout(Some(self.config.timeout));
        let results =
            futures_executor::block_on(self.admin.create_topics([&new], &opts)).map_err(|e| {
                Error::CreateTopic {
                    topic: topic.to_owned(),
                    detail: e.to_string(),
                }
            })?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(Error::CreateTopic {
                        topic: topic.to_owned(),
                        detail: code.to_string(),
                    })
                }
            }
        }
        // The new topic's metadata reaches the broker's cache shortly after.
        let deadline = Instant::now() + self.config.timeout;
        loop {
            if let Some(n) = self.partitions_of(topic)? {
                return Ok(n);
            }
            if Instant::now() >= deadline {
                return Err(Error::CreateTopic {
                    topic: topic.to_owned(),
                    detail: "the topic was created but its metadata did not appear in time".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The partition count of a topic a link reads, created when `create` says so.
    fn source_topic(&self, topic: &str, create: Option<u32>) -> Result<u32, Error> {
        match create {
            Some(n) => self.ensure_topic(topic, true, n, 1),
            None => self
                .partitions_of(topic)?
                .ok_or_else(|| Error::UnknownTopic {
                    topic: topic.to_owned(),
                }),
        }
    }

    fn check_new(&self, name: &str) -> Result<(), Error> {
        if self.closed.load(Relaxed) {
            return Err(Error::Closed);
        }
        if self.links().iter().any(|l| l.name == name) {
            return Err(Error::Config {
                detail: format!("the link {name} exists already on this bridge"),
            });
        }
        Ok(())
    }

    fn dead_letter_queue(
        &self,
        name: &Option<String>,
    ) -> Result<Option<ringlet::Queue<Vec<u8>>>, Error> {
        name.as_deref()
            .map(|q| self.bus.queue::<Vec<u8>>(q, QueueConfig::default()))
            .transpose()
            .map_err(Error::from)
    }

    fn add(
        &self,
        shared: Arc<Shared>,
        stop: Arc<AtomicBool>,
        thread: JoinHandle<Result<(), Error>>,
    ) {
        self.links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Running {
                shared,
                stop,
                thread: Some(thread),
            });
    }

    /// Mirrors the Ringlet topic `name` into Kafka, values as [`Json`].
    ///
    /// # Errors
    ///
    /// See [`Bridge::to_kafka_with`].
    pub fn to_kafka<T>(&self, name: &str, opts: ToKafka) -> Result<(), Error>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    {
        self.to_kafka_with::<T>(name, opts, Json)
    }

    /// Mirrors the Ringlet topic `name` into a Kafka topic (the same name unless
    /// [`ToKafka::kafka_topic`]), values encoded by `codec`. The Kafka topic is
    /// created with the Ringlet topic's partition count when it does not exist.
    ///
    /// # Errors
    ///
    /// [`Error::Bus`] (no such Ringlet topic, another value type, a bad group
    /// name), [`Error::UnknownTopic`], [`Error::CreateTopic`],
    /// [`Error::Unreachable`], [`Error::Config`], [`Error::Closed`].
    pub fn to_kafka_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        opts: ToKafka,
        codec: impl Codec<T>,
    ) -> Result<(), Error> {
        let topic = self.bus.get_topic::<T>(name)?;
        let kafka_topic = opts.kafka_topic.clone().unwrap_or_else(|| name.to_owned());
        let link = format!("{name}->kafka:{kafka_topic}");
        self.check_new(&link)?;
        let ringlet_partitions = topic.partitions();
        let partitions = self.ensure_topic(
            &kafka_topic,
            opts.create,
            opts.partitions.unwrap_or(ringlet_partitions),
            opts.replication,
        )?;
        let group_name = opts
            .group
            .clone()
            .unwrap_or_else(|| format!("to-kafka.{kafka_topic}"));
        let group = topic.group_with(
            &group_name,
            GroupConfig::default()
                .start(opts.start.clone())
                .auto_commit(false),
        )?;
        let member = group.join()?;
        let lag = group.clone();
        let shared = Shared::new(
            &self.bus,
            "to_kafka",
            name.to_owned(),
            format!("kafka:{kafka_topic}"),
            move || lag.lag().iter().sum(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let source = TopicSource::new(member, Arc::new(codec), shared.clone(), ringlet_partitions);
        let export = Export {
            config: self.config.clone(),
            shared: shared.clone(),
            stop: stop.clone(),
            topic: kafka_topic,
            partitions,
            same_partitions: partitions == ringlet_partitions,
            dead_letter: self.dead_letter_queue(&opts.dead_letter)?,
        };
        let thread = export.start(Box::new(source))?;
        self.add(shared, stop, thread);
        Ok(())
    }

    /// Feeds the Ringlet topic `name` from Kafka, values as [`Json`].
    ///
    /// # Errors
    ///
    /// See [`Bridge::from_kafka_with`].
    pub fn from_kafka<T>(&self, name: &str, opts: FromKafka) -> Result<(), Error>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    {
        self.from_kafka_with::<T>(name, opts, Json)
    }

    /// Feeds the Ringlet topic `name` from a Kafka topic (the same name unless
    /// [`FromKafka::kafka_topic`]) through the Kafka consumer group of
    /// [`FromKafka::group`], values decoded by `codec`. A Ringlet topic that does
    /// not exist is created with the Kafka topic's partition count (create it
    /// first for another configuration, e.g. a durable topic).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTopic`] (unless [`FromKafka::create_topic`]),
    /// [`Error::Bus`], [`Error::Unreachable`], [`Error::Config`] (a start other
    /// than earliest or latest), [`Error::Closed`].
    pub fn from_kafka_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        opts: FromKafka,
        codec: impl Codec<T>,
    ) -> Result<(), Error> {
        let kafka_topic = opts.kafka_topic.clone().unwrap_or_else(|| name.to_owned());
        let link = format!("kafka:{kafka_topic}->{name}");
        self.check_new(&link)?;
        let partitions = self.source_topic(&kafka_topic, opts.create)?;
        let topic = match self.bus.get_topic::<T>(name) {
            Err(e) if e.kind() == ErrorKind::NotFound => self
                .bus
                .topic::<T>(name, TopicConfig::default().partitions(partitions))?,
            t => t?,
        };
        let shared = Shared::new(
            &self.bus,
            "from_kafka",
            format!("kafka:{kafka_topic}"),
            name.to_owned(),
            || 0,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let sink = TopicSink {
            same_partitions: topic.partitions() == partitions,
            topic,
            codec: Arc::new(codec),
        };
        let import = Import {
            config: self.config.clone(),
            shared: shared.clone(),
            stop: stop.clone(),
            group: opts
                .group
                .clone()
                .unwrap_or_else(|| format!("ringlet.{kafka_topic}")),
            topic: kafka_topic,
            start: opts.start.clone(),
            dead_letter: self.dead_letter_queue(&opts.dead_letter)?,
        };
        let thread = import.start(Box::new(sink))?;
        self.add(shared, stop, thread);
        Ok(())
    }

    /// Sends the Ringlet queue `name`'s messages to Kafka, values as [`Json`].
    ///
    /// # Errors
    ///
    /// See [`Bridge::queue_to_kafka_with`].
    pub fn queue_to_kafka<T>(&self, name: &str, opts: ToKafka) -> Result<(), Error>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    {
        self.queue_to_kafka_with::<T>(name, opts, Json)
    }

    /// Takes the Ringlet queue `name`'s messages (competing with its other
    /// consumers) and sends them to a Kafka topic, values encoded by `codec`;
    /// each message is acked only after Kafka acknowledged it (rejected, so the
    /// queue's dead letter applies, when Kafka refuses it for good). A Kafka
    /// topic the link creates has [`ToKafka::partitions`] partitions (default
    /// 1). [`ToKafka::group`] and [`ToKafka::start`] do not apply to queues.
    ///
    /// # Errors
    ///
    /// As [`Bridge::to_kafka_with`].
    pub fn queue_to_kafka_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        opts: ToKafka,
        codec: impl Codec<T>,
    ) -> Result<(), Error> {
        let queue = self.bus.get_queue::<T>(name)?;
        let kafka_topic = opts.kafka_topic.clone().unwrap_or_else(|| name.to_owned());
        let link = format!("{name}->kafka:{kafka_topic}");
        self.check_new(&link)?;
        let partitions = self.ensure_topic(
            &kafka_topic,
            opts.create,
            opts.partitions.unwrap_or(1),
            opts.replication,
        )?;
        let ready = queue.clone();
        let shared = Shared::new(
            &self.bus,
            "queue_to_kafka",
            name.to_owned(),
            format!("kafka:{kafka_topic}"),
            move || ready.len() as u64,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let source = QueueSource {
            queue,
            codec: Arc::new(codec),
            shared: shared.clone(),
            flying: Default::default(),
            next_id: 0,
        };
        let export = Export {
            config: self.config.clone(),
            shared: shared.clone(),
            stop: stop.clone(),
            topic: kafka_topic,
            partitions,
            same_partitions: false,
            dead_letter: self.dead_letter_queue(&opts.dead_letter)?,
        };
        let thread = export.start(Box::new(source))?;
        self.add(shared, stop, thread);
        Ok(())
    }

    /// Feeds the Ringlet queue `name` from Kafka, values as [`Json`].
    ///
    /// # Errors
    ///
    /// See [`Bridge::queue_from_kafka_with`].
    pub fn queue_from_kafka<T>(&self, name: &str, opts: FromKafka) -> Result<(), Error>
    where
        T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    {
        self.queue_from_kafka_with::<T>(name, opts, Json)
    }

    /// Feeds the Ringlet queue `name` (created with the default configuration
    /// if missing) from a Kafka topic through a Kafka consumer group: each
    /// record's offset is committed after the send returned (a full queue pushes
    /// back on the consumer). Keys and headers are kept.
    ///
    /// # Errors
    ///
    /// As [`Bridge::from_kafka_with`].
    pub fn queue_from_kafka_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        opts: FromKafka,
        codec: impl Codec<T>,
    ) -> Result<(), Error> {
        let kafka_topic = opts.kafka_topic.clone().unwrap_or_else(|| name.to_owned());
        let link = format!("kafka:{kafka_topic}->{name}");
        self.check_new(&link)?;
        self.source_topic(&kafka_topic, opts.create)?;
        let queue = match self.bus.get_queue::<T>(name) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.bus.queue::<T>(name, QueueConfig::default())?
            }
            q => q?,
        };
        let shared = Shared::new(
            &self.bus,
            "queue_from_kafka",
            format!("kafka:{kafka_topic}"),
            name.to_owned(),
            || 0,
        );
        let stop = Arc::new(AtomicBool::new(false));
        let import = Import {
            config: self.config.clone(),
            shared: shared.clone(),
            stop: stop.clone(),
            group: opts
                .group
                .clone()
                .unwrap_or_else(|| format!("ringlet.{kafka_topic}")),
            topic: kafka_topic,
            start: opts.start.clone(),
            dead_letter: self.dead_letter_queue(&opts.dead_letter)?,
        };
        let thread = import.start(Box::new(QueueSink {
            queue,
            codec: Arc::new(codec),
        }))?;
        self.add(shared, stop, thread);
        Ok(())
    }

    /// Every link of this bridge as it is now (the same entries as in
    /// [`Bus::snapshot`]'s `links`), by name.
    pub fn figures(&self) -> Vec<LinkSnapshot> {
        let shared: Vec<Arc<Shared>> = self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|l| l.shared.clone())
            .collect();
        let mut shots: Vec<LinkSnapshot> = shared.iter().map(|s| s.snapshot()).collect();
        shots.sort_by(|a, b| a.name.cmp(&b.name));
        shots
    }

    fn links(&self) -> Vec<LinkSnapshot> {
        self.figures()
    }

    /// Stops every link: links to Kafka wait (up to
    /// [`KafkaConfig::close_timeout`]) for Kafka to confirm what they handed
    /// over and commit it; links from Kafka commit the offsets of what they
    /// published. A second close does nothing. Closed links stay listed, with their last
    /// figures, while the bridge lives.
    ///
    /// # Errors
    ///
    /// The first link's failure, e.g. [`Error::CloseTimedOut`] (the others are
    /// closed regardless).
    pub fn close(&self) -> Result<(), Error> {
        self.closed.store(true, Relaxed);
        // The links stay listed (closed, with their last figures) while the
        // bridge lives.
        let threads: Vec<(String, JoinHandle<Result<(), Error>>)> = {
            let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
            links
                .iter_mut()
                .filter_map(|l| {
                    l.stop.store(true, Relaxed);
                    l.thread.take().map(|t| (l.shared.name.clone(), t))
                })
                .collect()
        };
        let mut first = Ok(());
        for (name, thread) in threads {
            let result = match thread.join() {
                Ok(r) => r,
                Err(_) => Err(Error::Kafka {
                    detail: format!("the link {name} stopped on a panic"),
                }),
            };
            if let Err(e) = result {
                first = first.and(Err(e));
            }
        }
        first
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
