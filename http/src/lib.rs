//! # ringlet-http: the bus over HTTP
//!
//! [`router`] serves a [`Bus`] the way Confluent's REST Proxy serves a Kafka
//! cluster, so anything that speaks HTTP — a shell with `curl`, another
//! process, a browser page — produces to and consumes from it. The `ringlet-http`
//! binary serves a bus of its own; an application mounts the router beside its
//! own routes.
//!
//! ```no_run
//! use ringlet::{Bus, TopicConfig};
//! use ringlet_http::{HttpConfig, Json};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Order { id: u64, total: u64 }
//!
//! # async fn run() -> std::io::Result<()> {
//! let bus = Bus::new();
//! bus.topic::<Order>("orders", TopicConfig::default().partitions(3)).unwrap();
//! let config = HttpConfig::default().values::<Order>(Json).token("s3cret");
//! let app = axum::Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" }))
//!     .merge(ringlet_http::router(bus, config));
//! let listener = ringlet_http::bind("127.0.0.1:8082".parse().unwrap())?;
//! ringlet_http::serve(listener, app, std::future::pending(), Default::default()).await
//! # }
//! ```
//!
//! ## What it serves
//!
//! | REST Proxy | paths |
//! | --- | --- |
//! | v3 clusters | `GET /v3/clusters`, `GET /v3/clusters/{cluster}` — a bus is one cluster ([`HttpConfig::cluster_id`], default `ringlet`) |
//! | v3 produce | `POST /v3/clusters/{cluster}/topics/{topic}/records` — one record, or several JSON objects in one body (REST Proxy's streaming mode), each answered in order |
//! | v3 topics | `GET`/`POST …/topics`, `GET`/`DELETE …/topics/{topic}`, `GET …/topics/{topic}/partitions[/{p}]`, `GET …/topics/{topic}/configs` |
//! | v2 consumers | `POST /consumers/{group}`; under `/consumers/{group}/instances/{id}`: `DELETE`, `subscription` (`POST`/`GET`/`DELETE`), `GET records`, `offsets` (`POST` commits, `GET` reads), `POST positions`, `positions/beginning`, `positions/end`, `GET assignments` |
//! | Ringlet: live streams | `GET /v3/clusters/{cluster}/topics/{topic}/events` — Server-Sent Events |
//! | Ringlet: queues | `GET`/`POST /v3/queues`, `GET`/`DELETE /v3/queues/{queue}`, `POST …/messages`, `…/receive`, `…/ack`, `…/nack`, `…/reject` |
//!
//! ## Values
//!
//! Requests carry values as REST Proxy does: `{"type": "JSON" | "STRING" |
//! "BINARY", "data": …}` (BINARY data in base64; without `type`, the data is
//! JSON). Topics and queues created over HTTP hold them as they came
//! ([`HttpValue`]: a [`Payload`], or none). Typed topics of the application are
//! served when the router is told how to convert them ([`HttpConfig::values`]
//! with [`Json`] for any serde type): a value that does not convert is `422`,
//! and nothing is appended.
//!
//! Consumers choose a format at creation, as in REST Proxy: `json` hands values
//! as JSON (text as a JSON string; bytes as the JSON document they hold, or as a
//! base64 string when they hold none), `binary` as base64 of their bytes (a
//! JSON value's serialization, text's UTF-8). Keys are Ringlet keys: a `STRING`
//! key is a text key, a `BINARY` key a bytes key, a `JSON` key the text of its
//! serialization (so it lands on the partition Kafka's REST Proxy would choose);
//! consumers get a text key as a string, a bytes key as base64.
//!
//! ## Contract decisions
//!
//! - **Consumer instances are ordinary group members.** An instance subscribed
//!   to several topics (or a `topic_pattern`, re-evaluated at each fetch so
//!   topics created later are picked up) is one member of the group on each
//!   topic; HTTP consumers and in-process members of one group share the
//!   partitions. A group the server creates starts where the instance's
//!   `auto.offset.reset` says (default `latest`), with the
//!   [`HttpConfig::consumer_timeout`] as its session timeout; an existing
//!   group keeps its own configuration. Committed offsets have Kafka's meaning
//!   (the next record to read). `POST …/offsets` with no body commits what
//!   fetches returned; with `auto.commit.enable`, each fetch first commits
//!   what the previous ones returned. Records taken from the bus but not
//!   returned because of `max_bytes` are kept for the next fetch, never lost.
//! - **Event stream ids.** Each event's `id:` is `partition:offset` of the
//!   last record sent for each partition (`0:41` for a one-partition topic;
//!   `0:41,1:17,2:-1` for three, `-1` meaning none yet). A reconnecting
//!   `EventSource` sends it back as `Last-Event-ID`, and the stream resumes
//!   exactly after it in every partition; partitions it does not list start
//!   from `from`. A gap (records evicted before the stream reached them) is a
//!   `lagged` event with the partition and the count, then the stream goes on.
//! - **Queue receipts** are opaque strings for the deliveries the server holds
//!   for clients. A settle after the visibility timeout is `409` with `Expired`,
//!   a second settle `409` with `AlreadySettled`; a receipt the server never
//!   issued (or forgot: an expired delivery is kept for one more visibility
//!   timeout) is `404`.
//! - **Status codes.** A full topic or queue (after
//!   [`HttpConfig::produce_wait`] when producers wait for room) and every limit
//!   of the server are `429` with `Retry-After`; conflicts with the bus's state
//!   (`Expired`, `AlreadySettled`, `NotOwner`, a name holding another kind or
//!   type) `409`; requests that are well formed but ask for something invalid
//!   `422`; unreadable ones `400`; an oversized body `413`; a body that is not
//!   JSON `415`. Nothing a client sends is answered with a `5xx`: only a failure
//!   of the server's own storage is (`503`).
//! - **Topic configs.** A topic is created with `partitions_count`
//!   (default 1) and `configs`: `retention.ms` (Ringlet's `max_age`), `cleanup.policy`
//!   (`delete` or `compact`), `ringlet.capacity` (records retained per
//!   partition, default 1024) and `ringlet.on_full` (`overwrite`, `block`,
//!   `reject`, `keep`). `replication_factor` and broker-side Kafka configs
//!   without meaning in one process (`compression.type`,
//!   `min.insync.replicas`, `segment.bytes`, `segment.ms`,
//!   `unclean.leader.election.enable`) are accepted and have no effect; any
//!   other config is `422`.
//!
//! ## Who gets in
//!
//! The binary listens on 127.0.0.1 unless `--listen` says otherwise. With a
//! token ([`HttpConfig::token`], the binary's `--token-file`) every request
//! needs `Authorization: Bearer <token>`, else `401`. CORS is off unless
//! origins are listed ([`HttpConfig::cors_origin`]). Names follow the core's
//! rules (`[A-Za-z0-9._-]`, 1–249 characters; `__` is reserved).

mod config;
mod consumers;
mod error;
mod events;
mod extract;
mod manifest;
mod openapi;
mod ports;
mod produce;
mod queues;
mod serve;
mod topics;
mod value;

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ringlet::{Bus, Error};

pub use config::HttpConfig;
pub use error::ApiError;
pub use serve::{bind, serve, ServeLimits};
pub use value::{Create, Format, HttpValue, Json, Native, Payload, PayloadCodec};

use ports::{QueuePort, TopicPort};

/// What every handler shares.
pub(crate) struct State {
    pub bus: Bus,
    pub config: HttpConfig,
    pub consumers: consumers::Instances,
    pub receipts: queues::Receipts,
    pub streams: AtomicUsize,
    /// What was created over HTTP, on a durable bus.
    pub kept: Option<manifest::Kept>,
}

impl State {
    /// `404` unless `id` is this server's cluster.
    pub fn cluster(&self, id: &str) -> Result<(), ApiError> {
        if id == self.config.cluster_id {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                40400,
                "NotFound",
                format!(
                    "cluster '{id}' is not served here: this server's cluster is '{}' (GET /v3/clusters)",
                    self.config.cluster_id
                ),
            ))
        }
    }

    /// The topic `name`, through the first value type that holds it.
    pub fn topic(&self, name: &str) -> Result<Arc<dyn TopicPort>, ApiError> {
        for t in &self.config.types {
            match t.topic(&self.bus, name) {
                Ok(p) => return Ok(p),
                Err(Error::TypeMismatch { .. }) => {}
                Err(Error::NotFound { .. }) => return Err(ApiError::no_topic(name)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.mismatch(name, "topic"))
    }

    /// The queue `name`, through the first value type that holds it.
    pub fn queue(&self, name: &str) -> Result<Arc<dyn QueuePort>, ApiError> {
        for t in &self.config.types {
            match t.queue(&self.bus, name) {
                Ok(p) => return Ok(p),
                Err(Error::TypeMismatch { .. }) => {}
                Err(Error::NotFound { .. }) => return Err(ApiError::no_queue(name)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.mismatch(name, "queue"))
    }

    /// `403` if `name` is served for reading only.
    pub fn writable(&self, name: &str) -> Result<(), ApiError> {
        if self.config.read_only.iter().any(|n| n == name) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                40300,
                "ReadOnly",
                format!("'{name}' is served for reading only: it is written by the application"),
            ));
        }
        Ok(())
    }

    /// `409 AlreadyExists` if `name` is taken (by a topic or a queue).
    pub fn refuse_existing(&self, name: &str) -> Result<(), ApiError> {
        if self.bus.names().iter().any(|n| n == name) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                40002,
                "AlreadyExists",
                format!("'{name}' already exists"),
            ));
        }
        Ok(())
    }

    fn mismatch(&self, name: &str, asked: &str) -> ApiError {
        let snapshot = self.bus.snapshot();
        let is_topic = snapshot.topics.iter().any(|t| t.name == name);
        let is_queue = snapshot.queues.iter().any(|q| q.name == name);
        let message = match (asked, is_topic, is_queue) {
            ("topic", false, true) => format!("'{name}' is a queue, not a topic: use /v3/queues/{name}"),
            ("queue", true, false) => format!("'{name}' is a topic, not a queue: use /v3/clusters/{}/topics/{name}", self.config.cluster_id),
            _ => format!("{asked} '{name}' holds values of a type this server was given no format for: serve it with HttpConfig::values::<T>(ringlet_http::Json)"),
        };
        ApiError::new(StatusCode::CONFLICT, 40907, "TypeMismatch", message)
    }
}

/// `http://host` of a request, for the `self` links REST Proxy returns.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The router serving `bus`; mount it with `Router::merge` (its paths are
/// absolute) or serve it alone. See the [crate docs](crate).
///
/// With [`HttpConfig::durable`], use [`try_router`]: if what was created
/// before cannot be reopened, this router answers every request with `503`
/// and the reason.
pub fn router(bus: Bus, config: HttpConfig) -> Router {
    match try_router(bus, config) {
        Ok(r) => r,
        Err(e) => Router::new().fallback(move || {
            let e = e.clone();
            async move { e }
        }),
    }
}

/// [`router`], reopening first what an earlier server created over HTTP when
/// the config is [durable](HttpConfig::durable).
///
/// # Errors
///
/// `503`-shaped [`ApiError`]s: the directory's `ringlet-http.json` cannot be
/// read, or a topic or queue it lists cannot be reopened (the message says
/// which, and why).
pub fn try_router(bus: Bus, config: HttpConfig) -> Result<Router, ApiError> {
    let unavailable = |m: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, 50300, "Io", m);
    let kept = match &config.durable {
        None => None,
        Some(dir) => Some(manifest::Kept::open(dir).map_err(unavailable)?),
    };
    let cors = cors_layer(&config.cors_origins);
    let state = Arc::new(State {
        bus,
        consumers: consumers::Instances::default(),
        receipts: queues::Receipts::default(),
        streams: AtomicUsize::new(0),
        config,
        kept,
    });
    if let Some(kept) = &state.kept {
        let m = kept.current.lock().clone();
        for (name, c) in m.topics {
            topics::open_http_topic(&state, &name, c)
                .map_err(|e| unavailable(format!("reopening topic '{name}': {e}")))?;
        }
        for (name, c) in m.queues {
            queues::open_http_queue(&state, &name, c)
                .map_err(|e| unavailable(format!("reopening queue '{name}': {e}")))?;
        }
    }
    let cluster = "/v3/clusters/{cluster}";
    let topic = "/v3/clusters/{cluster}/topics/{topic}";
    let instance = "/consumers/{group}/instances/{instance}";
    let queue = "/v3/queues/{queue}";
    let app = Router::new()
        .route("/v3/clusters", get(topics::clusters))
        .route(cluster, get(topics::cluster))
        .route(
            &format!("{cluster}/topics"),
            get(topics::list).post(topics::create),
        )
        .route(topic, get(topics::describe).delete(topics::delete))
        .route(&format!("{topic}/partitions"), get(topics::partitions))
        .route(
            &format!("{topic}/partitions/{{partition}}"),
            get(topics::partition),
        )
        .route(&format!("{topic}/configs"), get(topics::configs))
        .route(&format!("{topic}/records"), post(produce::records))
        .route(&format!("{topic}/events"), get(events::stream))
        .route("/consumers/{group}", post(consumers::create))
        .route(instance, axum::routing::delete(consumers::remove))
        .route(
            &format!("{instance}/subscription"),
            post(consumers::subscribe)
                .get(consumers::subscription)
                .delete(consumers::unsubscribe),
        )
        .route(&format!("{instance}/records"), get(consumers::records))
        .route(
            &format!("{instance}/offsets"),
            post(consumers::commit).get(consumers::committed),
        )
        .route(&format!("{instance}/positions"), post(consumers::seek))
        .route(
            &format!("{instance}/positions/beginning"),
            post(consumers::seek_beginning),
        )
        .route(
            &format!("{instance}/positions/end"),
            post(consumers::seek_end),
        )
        .route(
            &format!("{instance}/assignments"),
            get(consumers::assignments),
        )
        .route("/openapi.json", get(openapi::openapi))
        .route("/v3/queues", get(queues::list).post(queues::create))
        .route(queue, get(queues::describe).delete(queues::delete))
        .route(&format!("{queue}/messages"), post(queues::send))
        .route(&format!("{queue}/receive"), post(queues::receive))
        .route(&format!("{queue}/ack"), post(queues::ack))
        .route(&format!("{queue}/nack"), post(queues::nack))
        .route(&format!("{queue}/reject"), post(queues::reject))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .with_state(state);
    Ok(match cors {
        Some(cors) => app.layer(cors),
        None => app,
    })
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        404,
        "NotFound",
        format!(
            "no such resource: {method} {} (GET /openapi.json lists them)",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        405,
        "MethodNotAllowed",
        format!("{} does not take {method}", uri.path()),
    )
}

fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::ACCEPT,
                header::HeaderName::from_static("last-event-id"),
            ]),
    )
}

/// Lets a request in if it carries the token (when one is set).
async fn authorize(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.config.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !same(given.as_bytes(), token.as_bytes()) {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                40100,
                "Unauthorized",
                "this server needs a token: send Authorization: Bearer <token>",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(req).await
}

/// Equality that takes as long whatever the bytes (the length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_compares_bytes() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"ab"));
        assert!(super::same(b"", b""));
    }
}
