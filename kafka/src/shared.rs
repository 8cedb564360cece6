//! What a link's thread and its Kafka client's callbacks share: the figures the
//! bus lists, the journal, and the client's configuration.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::statistics::Statistics;
use rdkafka::ClientContext;
use ringlet::link::{Link, LinkFigures, LinkSnapshot};
use ringlet::Bus;

use crate::{Error, KafkaConfig};

/// Properties the bridge's guarantees rest on: a user may not change them.
const OWN: [&str; 4] = [
    "enable.idempotence",
    "acks",
    "enable.auto.commit",
    "enable.auto.offset.store",
];

/// The client configuration for one of the bridge's clients: the bridge's own
/// properties, then the user's.
pub(crate) fn client_config(
    config: &KafkaConfig,
    own: &[(&str, &str)],
) -> Result<ClientConfig, Error> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap)
        .set("client.id", &config.client_id)
        // Figures (retries, the consumer's lag) come from the statistics.
        .set("statistics.interval.ms", "500")
        .set("reconnect.backoff.ms", "100")
        .set("reconnect.backoff.max.ms", "2000")
        // librdkafka waits a whole second (its default) before fetching a
        // partition again once its local queue was over the threshold: a link
        // that publishes each record would stall for that second again and
        // again. 20 ms keeps the pipe full.
        .set("fetch.queue.backoff.ms", "20")
        .set("log_level", "3");
    for (k, v) in own {
        c.set(*k, *v);
    }
    for (k, v) in &config.properties {
        if OWN.contains(&k.as_str()) {
            return Err(Error::Config {
                detail: format!(
                    "the property {k} is the bridge's own (its delivery guarantees rest on it): \
                     leave it out of KafkaConfig::set"
                ),
            });
        }
        c.set(k, v);
    }
    Ok(c)
}

/// One link's figures and identity, listed by the bus while the link lives.
pub(crate) struct Shared {
    pub(crate) name: String,
    kind: &'static str,
    from: String,
    to: String,
    bus: Bus,
    pub(crate) records: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) remote_lag: AtomicU64,
    retries: AtomicU64,
    own_retries: AtomicU64,
    errors: AtomicU64,
    dead_letters: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// Set by an error, cleared (with a `recovered` event) by the next success.
    failing: AtomicBool,
    closed: AtomicBool,
    ringlet_lag: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(
        bus: &Bus,
        kind: &'static str,
        from: String,
        to: String,
        ringlet_lag: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Arc<Self> {
        let shared = Arc::new(Shared {
            name: format!("{from}->{to}"),
            kind,
            from,
            to,
            bus: bus.clone(),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            remote_lag: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            own_retries: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
            last_error: Mutex::new(None),
            failing: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            ringlet_lag: Box::new(ringlet_lag),
        });
        bus.attach_link(&(shared.clone() as Arc<dyn Link>));
        shared
    }

    /// Counts an error the link goes on after, journaled.
    pub(crate) fn error(&self, detail: &str) {
        self.errors.fetch_add(1, Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(detail.to_owned());
        self.failing.store(true, Relaxed);
        self.bus.journal_link(&self.name, "error", detail);
    }

    /// After a success: ends a run of errors (journaled once).
    pub(crate) fn ok(&self) {
        if self.failing.swap(false, Relaxed) {
            self.bus
                .journal_link(&self.name, "recovered", "records move again");
        }
    }

    /// Counts a record the link could not move, journaled.
    pub(crate) fn dead_letter(&self, detail: &str) {
        self.dead_letters.fetch_add(1, Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(detail.to_owned());
        self.bus.journal_link(&self.name, "dead_letter", detail);
    }

    /// Counts a send the link itself makes again.
    pub(crate) fn retried(&self) {
        self.own_retries.fetch_add(1, Relaxed);
    }

    pub(crate) fn moved(&self, bytes: usize) {
        self.records.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }

    pub(crate) fn close(&self, detail: &str) {
        if !self.closed.swap(true, Relaxed) {
            self.bus.journal_link(&self.name, "closed", detail);
        }
    }

    /// The client's statistics: its retries and reconnections, and (for a
    /// consumer) its lag.
    fn stats(&self, s: &Statistics, consumer: bool) {
        let mut retries = 0u64;
        for b in s.brokers.values() {
            retries += b.txretries + b.connects.unwrap_or(0).saturating_sub(1).max(0) as u64;
        }
        self.retries.store(retries, Relaxed);
        if consumer {
            let lag: i64 = s
                .topics
                .values()
                .flat_map(|t| t.partitions.values())
                .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
                .map(|p| p.consumer_lag)
                .sum();
            self.remote_lag.store(lag as u64, Relaxed);
        }
    }
}

impl Link for Shared {
    fn snapshot(&self) -> LinkSnapshot {
        LinkSnapshot {
            name: self.name.clone(),
            kind: self.kind.to_owned(),
            from: self.from.clone(),
            to: self.to.clone(),
            closed: self.closed.load(Relaxed),
            figures: LinkFigures {
                records: self.records.load(Relaxed),
                bytes: self.bytes.load(Relaxed),
                in_flight: self.in_flight.load(Relaxed),
                ringlet_lag: (self.ringlet_lag)(),
                remote_lag: self.remote_lag.load(Relaxed),
                retries: self.retries.load(Relaxed) + self.own_retries.load(Relaxed),
                errors: self.errors.load(Relaxed),
                dead_letters: self.dead_letters.load(Relaxed),
                last_error: self
                    .last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
            },
        }
    }
}

/// The context of a link's consumer (and the base of its producer's): errors
/// and statistics go to the link's figures.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) shared: Arc<Shared>,
    pub(crate) consumer: bool,
}

impl ClientContext for Context {
    fn stats(&self, statistics: Statistics) {
        self.shared.stats(&statistics, self.consumer);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.shared.error(&format!("{error}: {reason}"));
    }

    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, _fac: &str, _log_message: &str) {
        // Errors reach `error`; the log would repeat them on stderr.
    }
}

impl rdkafka::consumer::ConsumerContext for Context {}
