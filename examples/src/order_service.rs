//! An order service in one process: an HTTP API (axum) where commands become
//! events, on Ringlet.
//!
//! - **Commands** (`POST /orders`, `POST /orders/{id}/cancel`) go through an
//!   event-sourced [`Order`] aggregate: its events are appended to the `orders`
//!   event store with optimistic concurrency.
//! - **A stream topology** (on its own thread) reads the store's topic and keeps
//!   the **read models** — an `orders-view` table of order views, a
//!   `customers-view` table, and a **windowed orders-per-minute** count — and
//!   turns every `Placed` event into a job on the `fulfilment` queue.
//! - **Background workers** take fulfilment jobs from the queue (competing
//!   consumers with acks and redelivery) and report a [`Shipment`] on the
//!   `shipments` queue, which the service turns into the aggregate's `Ship`
//!   command.
//! - **Or the workers run elsewhere** ([`Config::kafka`], `--kafka HOST:PORT`):
//!   the `fulfilment-worker` process runs the same [`fulfil`] loop on its own
//!   bus, and two bridge lines on each side carry jobs out and shipments back
//!   through Apache Kafka (`ringlet-kafka`). One bus is the default.
//! - **Queries** (`GET /orders/{id}`, `GET /customers/{id}`,
//!   `GET /stats/orders-per-minute`) are served from the read models (CQRS):
//!   they are eventually consistent with the commands.
//!
//! `cargo run -p ringlet-examples --bin order-service` serves on
//! `127.0.0.1:3000` (`PORT` to change).
//!
//! **With a data directory** (`--data-dir DIR`, [`Config::data_dir`]) the
//! order events and the fulfilment queues are durable: a restart — even after
//! `kill -9` — finds every confirmed order, and every job not yet acked comes
//! back. The read models are tables in memory, rebuilt at every start by
//! replaying the events from the first (the projections topology starts over);
//! the jobs come from a second topology that resumes from its committed
//! offsets, so a restart sends no job twice except those of the events it had
//! not committed yet (at-least-once; shipping an order twice is refused by the
//! aggregate, so a repeated job is acked and does nothing).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ringlet::eventstore::{AppendError, ExecuteError};
use ringlet::storage::Codec;
use ringlet::streams::{StreamThread, Table, WindowedTable, Windows};
use ringlet::{
    Aggregate, Aggregates, Bus, EventStore, GroupConfig, OnError, Queue, QueueConfig,
    ReceiveTimeoutError, Start, Topic, TopicConfig, Topology,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The product.
    pub sku: String,
    /// How many.
    pub qty: u32,
    /// Price of one, in cents.
    pub price_cents: u64,
}

/// What happened to an order (the events in the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEvent {
    /// The order was placed.
    Placed {
        /// Who ordered.
        customer: String,
        /// What.
        lines: Vec<Line>,
        /// The order's total, in cents.
        total_cents: u64,
    },
    /// The customer cancelled it.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// A fulfilment worker shipped it.
    Shipped {
        /// Which worker.
        worker: u32,
    },
}

/// What is asked of an order.
#[derive(Debug, Clone)]
pub enum OrderCommand {
    /// Place a new order.
    Place {
        /// Who orders.
        customer: String,
        /// What.
        lines: Vec<Line>,
    },
    /// Cancel it (before it ships).
    Cancel {
        /// Why.
        reason: String,
    },
    /// Ship it (fulfilment).
    Ship {
        /// Which worker.
        worker: u32,
    },
}

/// Why an order refuses a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// The command is malformed.
    Invalid(String),
    /// The order's state does not allow it.
    Conflict(String),
    /// No such order.
    NotFound,
}

/// Where an order is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not placed yet (a fresh aggregate).
    #[default]
    New,
    /// Placed, waiting for fulfilment.
    Placed,
    /// Cancelled.
    Cancelled,
    /// Shipped.
    Shipped,
}

/// The event-sourced order aggregate: its state is its events, replayed.
#[derive(Debug, Clone, Default)]
pub struct Order {
    /// Where it is.
    pub status: Status,
}

impl Aggregate for Order {
    type Event = OrderEvent;
    type Command = OrderCommand;
    type Error = Rejected;

    fn apply(&mut self, event: &OrderEvent) {
        self.status = match event {
            OrderEvent::Placed { .. } => Status::Placed,
            OrderEvent::Cancelled { .. } => Status::Cancelled,
            OrderEvent::Shipped { .. } => Status::Shipped,
        };
    }

    fn handle(&self, command: OrderCommand) -> Result<Vec<OrderEvent>, Rejected> {
        match (command, self.status) {
            (OrderCommand::Place { customer, lines }, Status::New) => {
                if customer.trim().is_empty() {
                    return Err(Rejected::Invalid("customer is empty".into()));
                }
                if lines.is_empty() || lines.iter().any(|l| l.qty == 0) {
                    return Err(Rejected::Invalid(
                        "an order needs lines with a quantity of at least 1".into(),
                    ));
                }
                let total_cents = lines.iter().try_fold(0u64, |t, l| {
                    l.price_cents
                        .checked_mul(u64::from(l.qty))
                        .and_then(|x| t.checked_add(x))
                });
                let Some(total_cents) = total_cents else {
                    return Err(Rejected::Invalid("the total overflows".into()));
                };
                Ok(vec![OrderEvent::Placed {
                    customer,
                    lines,
                    total_cents,
                }])
            }
            (OrderCommand::Place { .. }, _) => {
                Err(Rejected::Conflict("the order exists already".into()))
            }
            (_, Status::New) => Err(Rejected::NotFound),
            (OrderCommand::Cancel { reason }, Status::Placed) => {
                Ok(vec![OrderEvent::Cancelled { reason }])
            }
            (OrderCommand::Cancel { .. }, s) => Err(Rejected::Conflict(format!(
                "the order is {s:?}, not placed"
            ))),
            (OrderCommand::Ship { worker }, Status::Placed) => {
                Ok(vec![OrderEvent::Shipped { worker }])
            }
            // Cancelled before its job ran, or a redelivered job: nothing to do.
            (OrderCommand::Ship { .. }, _) => Ok(Vec::new()),
        }
    }
}

/// The read model of one order (built from its events by the topology).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    /// The order id.
    pub id: String,
    /// Who ordered.
    pub customer: String,
    /// Where it is.
    pub status: Status,
    /// Total in cents.
    pub total_cents: u64,
    /// Number of events seen (the aggregate's version when up to date).
    pub version: u64,
    /// Which worker shipped it.
    pub shipped_by: Option<u32>,
}

/// The read model of one customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    /// Orders placed.
    pub orders: u64,
    /// Total placed, in cents.
    pub placed_cents: u64,
}

/// A job on the fulfilment queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The order to ship.
    pub order: String,
}

/// What a fulfilment worker did with a job: the order is packed and gone. The
/// service turns it into the aggregate's `Ship` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The order shipped.
    pub order: String,
    /// The worker that shipped it.
    pub worker: u32,
}

/// A fulfilment worker's loop, the same wherever it runs (a thread of the
/// service, or the `fulfilment-worker` process): takes a job, works on it,
/// reports the shipment, then acks the job (a job whose report was refused
/// comes back); until `stop`.
pub fn fulfil(
    jobs: &Queue<Job>,
    shipments: &Queue<Shipment>,
    worker: u32,
    work: Duration,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Acquire) {
        let job = match jobs.receive_timeout(Duration::from_millis(50)) {
            Ok(d) => d,
            Err(ReceiveTimeoutError::Timeout) => continue,
            Err(_) => return,
        };
        std::thread::sleep(work);
        let shipment = Shipment {
            order: job.value().order.clone(),
            worker,
        };
        match shipments.send_timeout(shipment, Duration::from_secs(1)) {
            Ok(()) => {
                let _ = job.ack();
            }
            Err(_) => {
                let _ = job.nack();
            }
        }
    }
}

/// The queue configurations the service and the worker share.
pub fn jobs_config() -> QueueConfig {
    QueueConfig::default()
        .capacity(1 << 16)
        .visibility_timeout(Duration::from_secs(5))
        .max_deliveries(5)
        .dead_letter("fulfilment-dlq")
}

/// The shipments queue's configuration.
pub fn shipments_config() -> QueueConfig {
    QueueConfig::default()
        .capacity(1 << 16)
        .visibility_timeout(Duration::from_secs(5))
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Fulfilment workers (threads).
    pub workers: u32,
    /// How long a worker takes per job.
    pub work: Duration,
    /// Partitions of the event store.
    pub partitions: u32,
    /// Events per partition the store holds (it refuses appends beyond).
    pub capacity: usize,
    /// Where the events and queues are kept (in memory when `None`).
    pub data_dir: Option<PathBuf>,
    /// The Kafka cluster (`host:port`) the fulfilment workers are reached
    /// through: jobs go out to the Kafka topic `<prefix>fulfilment`, shipments
    /// come back from `<prefix>shipments`. With `None` (the default) the
    /// workers are threads of the service, on its bus.
    pub kafka: Option<String>,
    /// The prefix of the Kafka topics' and groups' names.
    pub kafka_prefix: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 4,
            work: Duration::from_millis(5),
            partitions: 4,
            capacity: 1 << 20,
            data_dir: None,
            kafka: None,
            kafka_prefix: String::new(),
        }
    }
}

/// The service: its bus, aggregates, read models and background threads.
pub struct Service {
    /// The bus everything lives on.
    pub bus: Bus,
    /// The event store of orders.
    pub store: EventStore<OrderEvent>,
    orders: Aggregates<Order>,
    views: Table<OrderView>,
    customers: Table<CustomerView>,
    per_minute: WindowedTable<u64>,
    /// The topology keeping the read models (its skipped records' errors).
    projections: Topology,
    /// The topology turning placed orders into fulfilment jobs.
    jobs: Topology,
    /// The fulfilment queue.
    pub fulfilment: Queue<Job>,
    /// The shipments the workers report.
    pub shipments: Queue<Shipment>,
    /// The bridge to the fulfilment workers, when they run elsewhere.
    bridge: Option<ringlet_kafka::Bridge>,
    next_id: AtomicU64,
    stop: Arc<AtomicBool>,
    threads: parking_lot::Mutex<Option<Threads>>,
}

struct Threads {
    topologies: Vec<StreamThread>,
    workers: Vec<JoinHandle<()>>,
}

/// The events as JSON: their enum is internally tagged (`"type"`), which
/// needs a self-describing format.
struct JsonEvents;

impl Codec<OrderEvent> for JsonEvents {
    fn name(&self) -> &str {
        "json"
    }

    fn value_type(&self) -> String {
        "order-service/OrderEvent".into()
    }

    fn encode(&self, value: &OrderEvent) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<OrderEvent, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// The group the projections topology's source reads with (its name, and the
/// config a topology's source uses).
fn projections_group(topic: &Topic<OrderEvent>) -> Result<ringlet::Group<OrderEvent>, BoxError> {
    Ok(topic.group_with(
        "order-projections",
        GroupConfig::default()
            .start(Start::Earliest)
            .session_timeout(Duration::MAX),
    )?)
}

/// Moves the projections' committed offsets back to the first events, so the
/// tables (in memory) are rebuilt from every event.
fn rewind(topic: &Topic<OrderEvent>) -> Result<(), BoxError> {
    let mut member = projections_group(topic)?.join()?;
    for (p, o) in topic.earliest_offsets().into_iter().enumerate() {
        member.seek(p as u32, o)?;
    }
    member.commit()?;
    member.leave();
    Ok(())
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("bus", &self.bus).finish()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Service {
    /// Builds the service and starts its topology thread and workers.
    ///
    /// # Errors
    ///
    /// The engine refused the configuration, or a thread could not start.
    pub fn start(config: Config) -> Result<Arc<Service>, BoxError> {
        let events = TopicConfig::default()
            .partitions(config.partitions)
            .capacity(config.capacity);
        let dlq = QueueConfig::default().capacity(1 << 16);
        let jobs = jobs_config();
        let (bus, store, fulfilment, shipments) = match &config.data_dir {
            None => {
                let bus = Bus::new();
                let store = bus.event_store::<OrderEvent>("orders", events)?;
                bus.queue::<Job>("fulfilment-dlq", dlq)?;
                let fulfilment = bus.queue::<Job>("fulfilment", jobs)?;
                let shipments = bus.queue::<Shipment>("shipments", shipments_config())?;
                (bus, store, fulfilment, shipments)
            }
            Some(dir) => {
                let bus = Bus::builder()
                    .storage(ringlet_store::Dir::open(dir)?)
                    .build();
                let store =
                    bus.durable_event_store_with::<OrderEvent>("orders", events, JsonEvents)?;
                bus.durable_queue::<Job>("fulfilment-dlq", dlq)?;
                let fulfilment = bus.durable_queue::<Job>("fulfilment", jobs)?;
                let shipments = bus.durable_queue::<Shipment>("shipments", shipments_config())?;
                rewind(store.topic())?;
                (bus, store, fulfilment, shipments)
            }
        };
        // Workers elsewhere: two bridge lines, nothing else changes.
        let bridge = match &config.kafka {
            None => None,
            Some(bootstrap) => {
                use ringlet_kafka::{Bridge, FromKafka, KafkaConfig, ToKafka};
                let p = &config.kafka_prefix;
                let bridge =
                    Bridge::new(&bus, KafkaConfig::new(bootstrap).client_id("order-service"))?;
                bridge.queue_to_kafka::<Job>(
                    "fulfilment",
                    ToKafka::default()
                        .kafka_topic(format!("{p}fulfilment"))
                        .partitions(3),
                )?;
                bridge.queue_from_kafka::<Shipment>(
                    "shipments",
                    FromKafka::default()
                        .kafka_topic(format!("{p}shipments"))
                        .group(format!("{p}order-service"))
                        .create_topic(3),
                )?;
                Some(bridge)
            }
        };
        let orders = Aggregates::<Order>::new(&store).snapshot_every(100)?;
        // Ids continue after the stored orders'.
        let next_id = store
            .ids()
            .iter()
            .filter_map(|id| id.strip_prefix("o-")?.parse::<u64>().ok())
            .max()
            .map_or(1, |n| n + 1);

        // The read models and the per-minute window.
        let topo = bus.topology_named("order-projections")?;
        topo.on_error(OnError::Skip);
        let events = topo.stream(store.topic())?;
        let views = events
            .group_by_key()
            .store("orders-view")
            .capacity(1 << 20)
            .aggregate(OrderView::default, |view, rec| {
                let mut v = view.clone();
                v.id = rec
                    .key
                    .as_ref()
                    .and_then(|k| k.as_str())
                    .unwrap_or_default()
                    .to_string();
                v.version += 1;
                match &rec.value {
                    OrderEvent::Placed {
                        customer,
                        total_cents,
                        ..
                    } => {
                        v.customer.clone_from(customer);
                        v.total_cents = *total_cents;
                        v.status = Status::Placed;
                    }
                    OrderEvent::Cancelled { .. } => v.status = Status::Cancelled,
                    OrderEvent::Shipped { worker } => {
                        v.status = Status::Shipped;
                        v.shipped_by = Some(*worker);
                    }
                }
                v
            })?;
        let placed = events
            .filter(|r| matches!(r.value, OrderEvent::Placed { .. }))
            .named("placed");
        let customers = placed
            .key_by(|r| match &r.value {
                OrderEvent::Placed { customer, .. } => customer.clone(),
                _ => String::new(),
            })
            .group_by_key()
            .store("customers-view")
            .capacity(1 << 20)
            .aggregate(CustomerView::default, |c, rec| {
                let total = match &rec.value {
                    OrderEvent::Placed { total_cents, .. } => *total_cents,
                    _ => 0,
                };
                CustomerView {
                    orders: c.orders + 1,
                    placed_cents: c.placed_cents + total,
                }
            })?;
        let per_minute = placed
            .key_by(|_| "all")
            .group_by_key()
            .store("orders-per-minute")
            .window(
                Windows::tumbling(Duration::from_secs(60))
                    .grace(Duration::from_secs(5))
                    .retention(Duration::from_secs(3600)),
            )
            .count()?;
        // The jobs: a topology of their own, which resumes where it committed.
        let jobs_topo = bus.topology_named("order-fulfilment")?;
        jobs_topo.on_error(OnError::Skip);
        let placed_again = jobs_topo
            .stream(store.topic())?
            .filter(|r| matches!(r.value, OrderEvent::Placed { .. }));
        let jobs = fulfilment.clone();
        placed_again.try_for_each(move |rec| {
            let order = rec
                .key
                .as_ref()
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_string();
            // Full or closed: the record fails, and is kept in the topology's errors.
            jobs.try_send(Job { order })
                .map_err(|e| format!("fulfilment queue: {e}").into())
        });
        let topologies = vec![topo.spawn()?, jobs_topo.spawn()?];

        let service = Arc::new(Service {
            bus,
            store,
            orders,
            views,
            customers,
            per_minute,
            projections: topo,
            jobs: jobs_topo,
            fulfilment,
            shipments,
            bridge,
            next_id: AtomicU64::new(next_id),
            stop: Arc::new(AtomicBool::new(false)),
            threads: parking_lot::Mutex::new(None),
        });
        let mut workers = Vec::new();
        if config.kafka.is_none() {
            for w in 0..config.workers {
                let s = service.clone();
                let work = config.work;
                workers.push(
                    std::thread::Builder::new()
                        .name(format!("fulfilment-{w}"))
                        .spawn(move || fulfil(&s.fulfilment, &s.shipments, w, work, &s.stop))?,
                );
            }
        }
        let s = service.clone();
        workers.push(
            std::thread::Builder::new()
                .name("shipments".into())
                .spawn(move || s.ship())?,
        );
        *service.threads.lock() = Some(Threads {
            topologies,
            workers,
        });
        Ok(service)
    }

    /// Turns the workers' shipments into `Ship` commands; until stopped.
    fn ship(&self) {
        while !self.stop.load(Ordering::Acquire) {
            let shipment = match self.shipments.receive_timeout(Duration::from_millis(50)) {
                Ok(d) => d,
                Err(ReceiveTimeoutError::Timeout) => continue,
                Err(_) => return,
            };
            let Shipment { order, worker } = shipment.value().clone();
            match self.orders.execute(&order, OrderCommand::Ship { worker }) {
                // Shipped, or nothing to do (cancelled, or a shipment reported
                // twice: at least once).
                Ok(_) | Err(ExecuteError::Rejected(_)) => {
                    let _ = shipment.ack();
                }
                // The store refused: let the shipment come back.
                Err(ExecuteError::Store(_) | ExecuteError::Replay(_)) => {
                    let _ = shipment.nack();
                }
            }
        }
    }

    /// Places an order: returns its id and version.
    ///
    /// # Errors
    ///
    /// The aggregate rejected it, or the store refused.
    pub fn place(&self, customer: String, lines: Vec<Line>) -> Result<(String, u64), ApiError> {
        let id = format!("o-{:06}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (_, v) = self
            .orders
            .execute(&id, OrderCommand::Place { customer, lines })?;
        Ok((id, v))
    }

    /// Cancels an order: returns its version.
    ///
    /// # Errors
    ///
    /// The aggregate rejected it (not found, not placed), or the store refused.
    pub fn cancel(&self, id: &str, reason: String) -> Result<u64, ApiError> {
        let (_, v) = self.orders.execute(id, OrderCommand::Cancel { reason })?;
        Ok(v)
    }

    /// The order's read model, if the topology has projected it.
    pub fn order(&self, id: &str) -> Option<OrderView> {
        self.views.get(id)
    }

    /// The customer's read model.
    pub fn customer(&self, id: &str) -> Option<CustomerView> {
        self.customers.get(id)
    }

    /// Orders placed per minute: `(window start ms, count)`, oldest first.
    pub fn orders_per_minute(&self) -> Vec<(i64, u64)> {
        self.per_minute
            .fetch("all")
            .into_iter()
            .map(|(w, n)| (w.start, n))
            .collect()
    }

    /// Stops the workers and the topology thread and waits for them, then
    /// closes the bridge (it drains and commits).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.threads.lock().take() {
            for w in t.workers {
                let _ = w.join();
            }
            for topology in t.topologies {
                let _ = topology.stop();
            }
        }
        if let Some(b) = &self.bridge {
            let _ = b.close();
        }
    }

    /// The HTTP API, and the bus itself over HTTP (`ringlet-http`, REST
    /// Proxy's paths under `/v3` and `/consumers`): the `orders` events can be
    /// read (followed live at `/v3/clusters/ringlet/topics/orders/events`) but
    /// only the aggregate appends them; the queues' jobs and shipments can be
    /// seen and sent.
    pub fn router(self: &Arc<Self>) -> Router {
        let bus_over_http = ringlet_http::HttpConfig::default()
            .values::<OrderEvent>(ringlet_http::Json)
            .values::<Job>(ringlet_http::Json)
            .values::<Shipment>(ringlet_http::Json)
            .read_only("orders");
        Router::new()
            .route("/health", get(health))
            .route("/orders", post(place))
            .route("/orders/{id}", get(order))
            .route("/orders/{id}/events", get(events))
            .route("/orders/{id}/cancel", post(cancel))
            .route("/customers/{id}", get(customer))
            .route("/stats/orders-per-minute", get(per_minute))
            .route("/stats", get(stats))
            .with_state(self.clone())
            .merge(ringlet_http::router(self.bus.clone(), bus_over_http))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An error answered over HTTP: a status and a message.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl From<ExecuteError<Rejected, OrderEvent>> for ApiError {
    fn from(e: ExecuteError<Rejected, OrderEvent>) -> Self {
        match e {
            ExecuteError::Rejected(Rejected::Invalid(m)) => {
                ApiError(StatusCode::UNPROCESSABLE_ENTITY, m)
            }
            ExecuteError::Rejected(Rejected::Conflict(m)) => ApiError(StatusCode::CONFLICT, m),
            ExecuteError::Rejected(Rejected::NotFound) => {
                ApiError(StatusCode::NOT_FOUND, "no such order".into())
            }
            ExecuteError::Store(e @ AppendError::VersionConflict { .. }) => {
                ApiError(StatusCode::CONFLICT, e.to_string())
            }
            ExecuteError::Store(e) => ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            ExecuteError::Replay(_) => ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "a stored event could not be applied".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type App = State<Arc<Service>>;

async fn health() -> &'static str {
    "ok"
}

/// `POST /orders` body.
#[derive(Debug, Deserialize)]
pub struct PlaceOrder {
    /// Who orders.
    pub customer: String,
    /// What.
    pub lines: Vec<Line>,
}

async fn place(State(s): App, Json(body): Json<PlaceOrder>) -> Result<Response, ApiError> {
    let (id, version) = s.place(body.customer, body.lines)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "version": version })),
    )
        .into_response())
}

/// `POST /orders/{id}/cancel` body.
#[derive(Debug, Deserialize)]
pub struct CancelOrder {
    /// Why.
    #[serde(default)]
    pub reason: String,
}

async fn cancel(
    State(s): App,
    Path(id): Path<String>,
    Json(body): Json<CancelOrder>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let version = s.cancel(&id, body.reason)?;
    Ok(Json(json!({ "id": id, "version": version })))
}

async fn order(State(s): App, Path(id): Path<String>) -> Result<Json<OrderView>, ApiError> {
    s.order(&id)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "no such order (yet)".into()))
}

async fn events(State(s): App, Path(id): Path<String>) -> Result<Json<Vec<OrderEvent>>, ApiError> {
    let evs = s.store.load(&id);
    if evs.is_empty() {
        return Err(ApiError(StatusCode::NOT_FOUND, "no such order".into()));
    }
    Ok(Json(evs))
}

async fn customer(State(s): App, Path(id): Path<String>) -> Result<Json<CustomerView>, ApiError> {
    s.customer(&id)
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "no orders from this customer".into()))
}

async fn per_minute(State(s): App) -> Json<serde_json::Value> {
    let rows: Vec<_> = s
        .orders_per_minute()
        .into_iter()
        .map(|(start, n)| json!({ "start_ms": start, "orders": n }))
        .collect();
    Json(json!(rows))
}

async fn stats(State(s): App) -> Json<serde_json::Value> {
    let f = s.fulfilment.figures();
    Json(json!({
        "orders": s.store.ids().len(),
        "fulfilment": { "sent": f.sent, "acked": f.acked, "ready": f.ready, "in_flight": f.in_flight, "redelivered": f.redelivered, "dead_lettered": f.dead_lettered },
        "topology_errors": s.projections.errors().len() + s.jobs.errors().len(),
    }))
}

/// Serves the API on `listener` until `shutdown` resolves, then stops the service.
///
/// # Errors
///
/// The server failed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = service.router();
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    service.stop();
    r
}
