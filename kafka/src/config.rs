//! The bridge's settings: the cluster ([`KafkaConfig`]) and each link's
//! ([`ToKafka`], [`FromKafka`]).

use std::time::Duration;

use ringlet::Start;

/// Where the Kafka cluster is and how the bridge's clients talk to it.
///
/// ```
/// use std::time::Duration;
/// use ringlet_kafka::KafkaConfig;
/// let config = KafkaConfig::new("127.0.0.1:19092")
///     .client_id("shop")
///     .timeout(Duration::from_secs(5))
///     .set("linger.ms", "10"); // any librdkafka property
/// assert_eq!(config.bootstrap(), "127.0.0.1:19092");
/// ```
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub(crate) bootstrap: String,
    pub(crate) client_id: String,
    pub(crate) timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) properties: Vec<(String, String)>,
}

impl KafkaConfig {
    /// A cluster reached through `bootstrap` (`host:port`, comma-separated for
    /// several brokers).
    pub fn new(bootstrap: impl Into<String>) -> Self {
        KafkaConfig {
            bootstrap: bootstrap.into(),
            client_id: "ringlet".to_owned(),
            timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(30),
            properties: Vec::new(),
        }
    }

    /// The bootstrap address.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The client id the brokers see (Kafka's `client.id`; default `ringlet`).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }

    /// How long creating the bridge or a link waits for the cluster to answer
    /// (metadata, topic creation) before it fails with
    /// [`Error::Unreachable`](crate::Error::Unreachable). Default 10 s. Traffic
    /// itself never times out: a link retries until it is closed.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// How long [`Bridge::close`](crate::Bridge::close) waits for Kafka to
    /// confirm what was handed to it. Default 30 s.
    pub fn close_timeout(mut self, d: Duration) -> Self {
        self.close_timeout = d;
        self
    }

    /// Sets a librdkafka property on every client of the bridge (see
    /// librdkafka's `CONFIGURATION.md`), after the bridge's own: it can change
    /// batching (`linger.ms`, `batch.size`), backoff (`retry.backoff.ms`,
    /// `reconnect.backoff.max.ms`) or security settings. Properties the bridge's
    /// guarantees rest on (`enable.idempotence`, `acks`,
    /// `enable.auto.commit`, `enable.auto.offset.store`) are refused when a link
    /// is created.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }
}

/// How a Ringlet topic or queue is mirrored into Kafka.
#[derive(Debug, Clone)]
pub struct ToKafka {
    pub(crate) kafka_topic: Option<String>,
    pub(crate) group: Option<String>,
    pub(crate) start: Start,
    pub(crate) create: bool,
    pub(crate) partitions: Option<u32>,
    pub(crate) replication: i32,
    pub(crate) dead_letter: Option<String>,
}

impl Default for ToKafka {
    fn default() -> Self {
        ToKafka {
            kafka_topic: None,
            group: None,
            start: Start::Earliest,
            create: true,
            partitions: None,
            replication: 1,
            dead_letter: None,
        }
    }
}

impl ToKafka {
    /// The Kafka topic (default: the Ringlet name).
    pub fn kafka_topic(mut self, name: impl Into<String>) -> Self {
        self.kafka_topic = Some(name.into());
        self
    }

    /// The Ringlet consumer group that holds the link's position on a topic
    /// (default `to-kafka.<kafka topic>`): a bridge started again with the same
    /// group continues after the last record Kafka confirmed.
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = Some(name.into());
        self
    }

    /// Where a new group starts on the Ringlet topic (default
    /// [`Start::Earliest`]: everything retained is mirrored).
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Whether the Kafka topic is created when it does not exist (default
    /// `true`; with `false` a missing topic is
    /// [`Error::UnknownTopic`](crate::Error::UnknownTopic)).
    pub fn create_topic(mut self, on: bool) -> Self {
        self.create = on;
        self
    }

    /// The partition count of a Kafka topic the link creates (default: the
    /// Ringlet topic's, or 1 for a queue).
    pub fn partitions(mut self, n: u32) -> Self {
        self.partitions = Some(n);
        self
    }

    /// The replication factor of a Kafka topic the link creates (default 1).
    pub fn replication(mut self, n: i32) -> Self {
        self.replication = n;
        self
    }

    /// A Ringlet queue of `Vec<u8>` (created if missing) that receives each
    /// record Kafka refuses for good (too large, not authorised), as its encoded
    /// bytes with headers `kafka.topic` and `kafka.error`. Without one such
    /// records are counted in the figures and journaled, then passed over.
    pub fn dead_letter(mut self, queue: impl Into<String>) -> Self {
        self.dead_letter = Some(queue.into());
        self
    }
}

/// How a Kafka topic feeds a Ringlet topic or queue.
#[derive(Debug, Clone)]
pub struct FromKafka {
    pub(crate) kafka_topic: Option<String>,
    pub(crate) group: Option<String>,
    pub(crate) start: Start,
    pub(crate) dead_letter: Option<String>,
    pub(crate) create: Option<u32>,
}

impl Default for FromKafka {
    fn default() -> Self {
        FromKafka {
            kafka_topic: None,
            group: None,
            start: Start::Earliest,
            dead_letter: None,
            create: None,
        }
    }
}

impl FromKafka {
    /// Creates the Kafka topic with `partitions` partitions (replication 1)
    /// when it does not exist: for a service that starts before the one that
    /// writes to it. Without it (the default) a missing topic is
    /// [`Error::UnknownTopic`](crate::Error::UnknownTopic).
    pub fn create_topic(mut self, partitions: u32) -> Self {
        self.create = Some(partitions);
        self
    }

    /// The Kafka topic (default: the Ringlet name).
    pub fn kafka_topic(mut self, name: impl Into<String>) -> Self {
        self.kafka_topic = Some(name.into());
        self
    }

    /// The Kafka consumer group (Kafka's `group.id`; default
    /// `ringlet.<kafka topic>`). Its committed offsets are the link's position.
    pub fn group(mut self, id: impl Into<String>) -> Self {
        self.group = Some(id.into());
        self
    }

    /// Where a group with no committed offset starts: [`Start::Earliest`]
    /// (default) or [`Start::Latest`] (Kafka's `auto.offset.reset`).
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// A Ringlet queue of `Vec<u8>` (created if missing) that receives each
    /// Kafka record whose value does not decode (or that has no value), as its
    /// bytes with headers `kafka.topic`, `kafka.partition`, `kafka.offset` and
    /// `kafka.error`. Without one such records are counted in the figures and
    /// journaled, then passed over (their offsets are committed).
    pub fn dead_letter(mut self, queue: impl Into<String>) -> Self {
        self.dead_letter = Some(queue.into());
        self
    }
}
