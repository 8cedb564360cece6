//! `ringlet.kafka.Bridge`: the Kafka bridge of `ringlet-kafka` for Python
//! values. Converts arguments, delegates, and maps the bridge's errors in one
//! place (`kafka_err`); the links run on the bridge's threads, which take the
//! GIL only to encode and decode values.

use std::collections::HashMap;
use std::sync::Arc;

use pyo3::create_exception;
use pyo3::prelude::*;
use ringlet::storage::Codec;
use ringlet_kafka::{Bridge, Error, FromKafka, KafkaConfig, ToKafka};

use crate::bus::BusPy;
use crate::convert::{self, Value};
use crate::errors::{err, RingletError};

create_exception!(
    ringlet.kafka,
    KafkaError,
    RingletError,
    "The Kafka bridge failed (the base of `Unreachable` and `UnknownTopic`)."
);
create_exception!(
    ringlet.kafka,
    Unreachable,
    KafkaError,
    "No Kafka broker answered at the bootstrap address within the timeout."
);
create_exception!(
    ringlet.kafka,
    UnknownTopic,
    KafkaError,
    "The Kafka topic does not exist and the link may not create it."
);

/// The bridge's errors as Python exceptions: the only mapping.
fn kafka_err(e: Error) -> PyErr {
    match e {
        Error::Bus(e) => err(e),
        Error::Unreachable { .. } => Unreachable::new_err(e.to_string()),
        Error::UnknownTopic { .. } => UnknownTopic::new_err(e.to_string()),
        Error::Config { .. } => crate::errors::ConfigError::new_err(e.to_string()),
        Error::Closed => crate::errors::closed("the bridge"),
        e => KafkaError::new_err(e.to_string()),
    }
}

/// A codec of Python values by name (`json`, `pickle`, `bytes`).
struct Named(Arc<dyn Codec<Value>>);

impl Codec<Value> for Named {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn encode(&self, value: &Value) -> Result<Vec<u8>, String> {
        self.0.encode(value)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        self.0.decode(bytes)
    }
    fn decode_owned(&self, bytes: Vec<u8>) -> Result<Value, String> {
        self.0.decode_owned(bytes)
    }
}

fn codec(name: Option<&str>) -> PyResult<Named> {
    let name = name.unwrap_or(crate::codecs::CODECS.default);
    (crate::codecs::CODECS.make)(name)
        .map(Named)
        .ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "codec must be \"json\", \"pickle\" or \"bytes\", not {name:?}"
            ))
        })
}

fn start(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ringlet::Start>> {
    obj.filter(|s| !s.is_none()).map(convert::start).transpose()
}

/// Links between a bus and an Apache Kafka cluster: topics and queues mirrored
/// into Kafka topics, or fed from them, at least once (each side commits only
/// after the other confirmed). Values cross as the codec encodes them (JSON by
/// default, readable by any Kafka client); keys, headers, timestamps and
/// partition numbers are kept.
#[pyclass(frozen, module = "ringlet.kafka", name = "Bridge")]
pub struct BridgePy {
    bridge: Bridge,
}

#[pymethods]
impl BridgePy {
    /// Connects `bus` to the cluster at `bootstrap` (`"host:port"`), once a
    /// broker answered (`Unreachable` after `timeout` seconds otherwise).
    /// `properties` are librdkafka properties for every client.
    #[new]
    #[pyo3(signature = (bus, bootstrap, *, client_id = None, timeout = None, close_timeout = None, properties = None))]
    fn new(
        py: Python<'_>,
        bus: &BusPy,
        bootstrap: &str,
        client_id: Option<String>,
        timeout: Option<&Bound<'_, PyAny>>,
        close_timeout: Option<&Bound<'_, PyAny>>,
        properties: Option<HashMap<String, String>>,
    ) -> PyResult<Self> {
        let mut config = KafkaConfig::new(bootstrap);
        if let Some(id) = client_id {
            config = config.client_id(id);
        }
        if let Some(t) = timeout {
            config = config.timeout(convert::duration(t, "timeout")?);
        }
        if let Some(t) = close_timeout {
            config = config.close_timeout(convert::duration(t, "close_timeout")?);
        }
        let mut properties: Vec<_> = properties.unwrap_or_default().into_iter().collect();
        properties.sort();
        for (k, v) in properties {
            config = config.set(k, v);
        }
        let bus = bus.bus.clone();
        let bridge = py.detach(|| Bridge::new(&bus, config)).map_err(kafka_err)?;
        Ok(BridgePy { bridge })
    }

    /// Mirrors the topic `name` into the Kafka topic `kafka_topic` (default the
    /// same name; created with the topic's partition count if missing, unless
    /// `create_topic=False`). The link's position is the consumer group `group`
    /// (default `"to-kafka.<kafka topic>"`), committed after Kafka acknowledged.
    #[pyo3(signature = (name, *, kafka_topic = None, group = None, start = None, partitions = None, create_topic = None, dead_letter = None, codec = None))]
    #[allow(clippy::too_many_arguments)]
    fn to_kafka(
        &self,
        py: Python<'_>,
        name: &str,
        kafka_topic: Option<String>,
        group: Option<String>,
        start: Option<&Bound<'_, PyAny>>,
        partitions: Option<u32>,
        create_topic: Option<bool>,
        dead_letter: Option<String>,
        codec: Option<&str>,
    ) -> PyResult<()> {
        let mut opts = to_opts(kafka_topic, partitions, create_topic, dead_letter);
        if let Some(g) = group {
            opts = opts.group(g);
        }
        if let Some(s) = self::start(start)? {
            opts = opts.start(s);
        }
        let codec = self::codec(codec)?;
        py.detach(|| self.bridge.to_kafka_with::<Value>(name, opts, codec))
            .map_err(kafka_err)
    }

    /// Feeds the topic `name` (created with the Kafka topic's partition count if
    /// missing) from the Kafka topic `kafka_topic` through the Kafka consumer
    /// group `group`; offsets are committed after the publish returned. A
    /// missing Kafka topic is `UnknownTopic` unless `create_topic=N` asks to
    /// create it with N partitions.
    #[pyo3(signature = (name, *, group = None, kafka_topic = None, start = None, create_topic = None, dead_letter = None, codec = None))]
    #[allow(clippy::too_many_arguments)]
    // The contract's name: a direction, not a conversion.
    #[allow(clippy::wrong_self_convention)]
    fn from_kafka(
        &self,
        py: Python<'_>,
        name: &str,
        group: Option<String>,
        kafka_topic: Option<String>,
        start: Option<&Bound<'_, PyAny>>,
        create_topic: Option<u32>,
        dead_letter: Option<String>,
        codec: Option<&str>,
    ) -> PyResult<()> {
        let opts = from_opts(
            group,
            kafka_topic,
            self::start(start)?,
            create_topic,
            dead_letter,
        );
        let codec = self::codec(codec)?;
        py.detach(|| self.bridge.from_kafka_with::<Value>(name, opts, codec))
            .map_err(kafka_err)
    }

    /// Sends the queue `name`'s messages to a Kafka topic (created with
    /// `partitions`, default 1, if missing), acking each after Kafka
    /// acknowledged it.
    #[pyo3(signature = (name, *, kafka_topic = None, partitions = None, create_topic = None, dead_letter = None, codec = None))]
    #[allow(clippy::too_many_arguments)]
    fn queue_to_kafka(
        &self,
        py: Python<'_>,
        name: &str,
        kafka_topic: Option<String>,
        partitions: Option<u32>,
        create_topic: Option<bool>,
        dead_letter: Option<String>,
        codec: Option<&str>,
    ) -> PyResult<()> {
        let opts = to_opts(kafka_topic, partitions, create_topic, dead_letter);
        let codec = self::codec(codec)?;
        py.detach(|| self.bridge.queue_to_kafka_with::<Value>(name, opts, codec))
            .map_err(kafka_err)
    }

    /// Feeds the queue `name` (created if missing) from a Kafka topic through
    /// the Kafka consumer group `group` (`create_topic=N`: as in `from_kafka`).
    #[pyo3(signature = (name, *, group = None, kafka_topic = None, start = None, create_topic = None, dead_letter = None, codec = None))]
    #[allow(clippy::too_many_arguments)]
    fn queue_from_kafka(
        &self,
        py: Python<'_>,
        name: &str,
        group: Option<String>,
        kafka_topic: Option<String>,
        start: Option<&Bound<'_, PyAny>>,
        create_topic: Option<u32>,
        dead_letter: Option<String>,
        codec: Option<&str>,
    ) -> PyResult<()> {
        let opts = from_opts(
            group,
            kafka_topic,
            self::start(start)?,
            create_topic,
            dead_letter,
        );
        let codec = self::codec(codec)?;
        py.detach(|| {
            self.bridge
                .queue_from_kafka_with::<Value>(name, opts, codec)
        })
        .map_err(kafka_err)
    }

    /// Every link's figures (the entries of `bus.snapshot()["links"]`).
    fn figures(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let f = py.detach(|| self.bridge.figures());
        convert::to_plain(py, &f)
    }

    /// Stops every link after what it read is confirmed and committed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.bridge.close()).map_err(kafka_err)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let links: Vec<String> = self.bridge.figures().into_iter().map(|l| l.name).collect();
        format!("Bridge(links={links:?})")
    }
}

impl Drop for BridgePy {
    /// A bridge dropped without `close()` closes here, with the GIL released:
    /// its threads may be waiting for the GIL to encode or decode a value.
    fn drop(&mut self) {
        Python::attach(|py| py.detach(|| self.bridge.close())).ok();
    }
}

fn to_opts(
    kafka_topic: Option<String>,
    partitions: Option<u32>,
    create_topic: Option<bool>,
    dead_letter: Option<String>,
) -> ToKafka {
    let mut opts = ToKafka::default();
    if let Some(t) = kafka_topic {
        opts = opts.kafka_topic(t);
    }
    if let Some(n) = partitions {
        opts = opts.partitions(n);
    }
    if let Some(c) = create_topic {
        opts = opts.create_topic(c);
    }
    if let Some(q) = dead_letter {
        opts = opts.dead_letter(q);
    }
    opts
}

fn from_opts(
    group: Option<String>,
    kafka_topic: Option<String>,
    start: Option<ringlet::Start>,
    create_topic: Option<u32>,
    dead_letter: Option<String>,
) -> FromKafka {
    let mut opts = FromKafka::default();
    if let Some(g) = group {
        opts = opts.group(g);
    }
    if let Some(t) = kafka_topic {
        opts = opts.kafka_topic(t);
    }
    if let Some(s) = start {
        opts = opts.start(s);
    }
    if let Some(n) = create_topic {
        opts = opts.create_topic(n);
    }
    if let Some(q) = dead_letter {
        opts = opts.dead_letter(q);
    }
    opts
}

/// Registers the classes and exceptions of `ringlet.kafka`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<BridgePy>()?;
    m.add("KafkaError", py.get_type::<KafkaError>())?;
    m.add("Unreachable", py.get_type::<Unreachable>())?;
    m.add("UnknownTopic", py.get_type::<UnknownTopic>())?;
    Ok(())
}
