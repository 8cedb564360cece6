//! [`HttpConfig`]: what the server serves and its limits.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::ports::{Typed, ValueType};
use crate::value::{Create, Format, HttpValue, Native};

/// How a router serves its bus. Every limit has a default that a browser page,
/// a shell script and a load test can live with.
///
/// ```
/// use std::time::Duration;
/// use ringlet_http::{HttpConfig, Json};
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Order { id: u64 }
///
/// let config = HttpConfig::default()
///     .values::<Order>(Json)              // topics and queues of `Order` are served too
///     .token("s3cret")                    // every request needs `Authorization: Bearer s3cret`
///     .cors_origin("http://localhost:5173")
///     .consumer_timeout(Duration::from_secs(60));
/// ```
#[derive(Clone)]
pub struct HttpConfig {
    pub(crate) cluster_id: String,
    pub(crate) token: Option<Arc<str>>,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) types: Vec<Arc<dyn ValueType>>,
    pub(crate) creator: Arc<dyn Create>,
    pub(crate) read_only: Vec<String>,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_records_per_request: usize,
    pub(crate) max_consumers: usize,
    pub(crate) max_streams: usize,
    pub(crate) max_unsettled: usize,
    pub(crate) max_fetch_bytes: usize,
    pub(crate) max_wait: Duration,
    pub(crate) produce_wait: Duration,
    pub(crate) consumer_timeout: Duration,
    pub(crate) durable: Option<PathBuf>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("cluster_id", &self.cluster_id)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("cors_origins", &self.cors_origins)
            .field("value_types", &self.types.len())
            .field("read_only", &self.read_only)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_records_per_request", &self.max_records_per_request)
            .field("max_consumers", &self.max_consumers)
            .field("max_streams", &self.max_streams)
            .field("max_unsettled", &self.max_unsettled)
            .field("max_fetch_bytes", &self.max_fetch_bytes)
            .field("max_wait", &self.max_wait)
            .field("produce_wait", &self.produce_wait)
            .field("consumer_timeout", &self.consumer_timeout)
            .field("durable", &self.durable)
            .finish()
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            cluster_id: "ringlet".to_owned(),
            token: None,
            cors_origins: Vec::new(),
            types: vec![Arc::new(Typed::<HttpValue> {
                format: Arc::new(Native),
            })],
            creator: Arc::new(Native),
            read_only: Vec::new(),
            max_body_bytes: 8 << 20,
            max_records_per_request: 10_000,
            max_consumers: 1_000,
            max_streams: 1_000,
            max_unsettled: 100_000,
            max_fetch_bytes: 8 << 20,
            max_wait: Duration::from_secs(30),
            produce_wait: Duration::from_secs(5),
            consumer_timeout: Duration::from_secs(300),
            durable: None,
        }
    }
}

impl HttpConfig {
    /// The cluster id in `/v3/clusters/{cluster_id}/…` paths (default
    /// `ringlet`; a bus is one cluster).
    #[must_use]
    pub fn cluster_id(mut self, id: impl Into<String>) -> Self {
        self.cluster_id = id.into();
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request (compared in
    /// constant time); without it (the default) anyone who can connect is let
    /// in, so the binary listens on 127.0.0.1 unless told otherwise.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into().into());
        self
    }

    /// Lets pages from `origin` (e.g. `http://localhost:5173`, or `*`) call the
    /// server from a browser. CORS is off unless an origin is listed.
    #[must_use]
    pub fn cors_origin(mut self, origin: impl Into<String>) -> Self {
        self.cors_origins.push(origin.into());
        self
    }

    /// Serves topics and queues whose values are `T`, converted by `format`
    /// ([`crate::Json`] for serde types). Topics and queues of [`HttpValue`]
    /// (everything created over HTTP) are always served; a name holding a type
    /// no format was given for is refused with `TypeMismatch`.
    #[must_use]
    pub fn values<T: Clone + Send + Sync + 'static>(mut self, format: impl Format<T>) -> Self {
        self.types.push(Arc::new(Typed::<T> {
            format: Arc::new(format),
        }));
        self
    }

    /// Serves the topic or queue `name` for reading only: producing, sending
    /// and deleting are refused with `403` (an event store whose events only
    /// its aggregates may append, say).
    #[must_use]
    pub fn read_only(mut self, name: impl Into<String>) -> Self {
        self.read_only.push(name.into());
        self
    }

    /// How topics and queues created over HTTP are made (default [`Native`]:
    /// of [`HttpValue`]). Register the created type's format with
    /// [`HttpConfig::values`] too, so that they are served.
    #[must_use]
    pub fn create_with(mut self, creator: impl Create) -> Self {
        self.creator = Arc::new(creator);
        self
    }

    /// The largest request body (default 8 MiB): more is `413`.
    #[must_use]
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The most records (or messages) in one request (default 10,000): more is `413`.
    #[must_use]
    pub fn max_records_per_request(mut self, n: usize) -> Self {
        self.max_records_per_request = n.max(1);
        self
    }

    /// The most consumer instances at once (default 1,000): more is `429`.
    #[must_use]
    pub fn max_consumers(mut self, n: usize) -> Self {
        self.max_consumers = n;
        self
    }

    /// The most open event streams at once (default 1,000): more is `429`.
    #[must_use]
    pub fn max_streams(mut self, n: usize) -> Self {
        self.max_streams = n;
        self
    }

    /// The most queue deliveries handed out and not yet settled (default
    /// 100,000): a receive beyond it is `429`.
    #[must_use]
    pub fn max_unsettled(mut self, n: usize) -> Self {
        self.max_unsettled = n;
        self
    }

    /// The most bytes of values a consumer fetch returns (default 8 MiB; a
    /// fetch's `max_bytes` can only lower it). A first record larger than it is
    /// returned alone.
    #[must_use]
    pub fn max_fetch_bytes(mut self, n: usize) -> Self {
        self.max_fetch_bytes = n.max(1);
        self
    }

    /// The longest a fetch or receive waits for a first record (default 30 s;
    /// a request's `timeout`/`wait_ms` is capped by it).
    #[must_use]
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// How long a produce or send waits for room in a full topic or queue
    /// that makes producers wait (`on_full = block`, a queue's capacity)
    /// before answering `429` (default 5 s).
    #[must_use]
    pub fn produce_wait(mut self, d: Duration) -> Self {
        self.produce_wait = d;
        self
    }

    /// How long a consumer instance may go without a request before it is
    /// removed and its group member leaves (REST Proxy's
    /// `consumer.instance.timeout.ms`, default 5 minutes). It is also the
    /// session timeout of groups the server creates.
    #[must_use]
    pub fn consumer_timeout(mut self, d: Duration) -> Self {
        self.consumer_timeout = d;
        self
    }

    /// Makes topics and queues created over HTTP durable (the bus must have
    /// storage, e.g. `ringlet_store::Dir` on the same directory; default: in
    /// memory). Their configurations are kept in `dir/ringlet-http.json`, and
    /// a router given the same directory reopens them ([`crate::try_router`]).
    /// The `ringlet-http` binary does this with `--data-dir`.
    #[must_use]
    pub fn durable(mut self, dir: impl Into<PathBuf>) -> Self {
        self.durable = Some(dir.into());
        self
    }
}
