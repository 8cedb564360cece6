//! Ringlet's queues over HTTP: create, list, send, receive with receipts,
//! and settle by receipt.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as S;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use ringlet::{Message, QueueConfig, SettleError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{json_error, rfc3339, Body, OptBody, Raw, P, Q};
use crate::ports::{How, QueuePort, Received, Settle};
use crate::produce::{headers_of, key_of, values_of, wait_for_room, Data, HeaderIn};
use crate::value::B64;
use crate::State;

/// How many settled receipts are remembered to answer `AlreadySettled`.
const REMEMBERED: usize = 16_384;

/// The deliveries handed to clients and not yet settled, by receipt.
#[derive(Default)]
pub(crate) struct Receipts {
    inner: parking_lot::Mutex<Held>,
    seq: AtomicU64,
}

#[derive(Default)]
struct Held {
    open: HashMap<String, Open>,
    settled: VecDeque<String>,
    settled_set: HashSet<String>,
}

struct Open {
    queue: String,
    settle: Arc<dyn Settle>,
    /// Bus time after which the receipt is forgotten (one visibility timeout
    /// after the delivery expired).
    forget_at: i64,
}

impl Receipts {
    fn new_receipt(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let r = std::collections::hash_map::RandomState::new().hash_one(n);
        format!("{n:x}.{r:016x}")
    }

    /// Forgets receipts past their time; what is dropped is dropped after the
    /// lock is released.
    fn sweep(&self, now: i64) {
        let gone: Vec<Open> = {
            let mut held = self.inner.lock();
            let old: Vec<String> = held
                .open
                .iter()
                .filter(|(_, o)| o.forget_at < now)
                .map(|(k, _)| k.clone())
                .collect();
            old.iter().filter_map(|k| held.open.remove(k)).collect()
        };
        drop(gone);
    }

    fn settle(&self, queue: &str, receipt: &str, how: How) -> Result<(), ApiError> {
        let open = {
            let held = self.inner.lock();
            match held.open.get(receipt) {
                Some(o) if o.queue == queue => o.settle.clone(),
                Some(o) => {
                    return Err(ApiError::invalid(format!(
                        "receipt {receipt:?} is a delivery of queue '{}', not of '{queue}'",
                        o.queue
                    )))
                }
                None if held.settled_set.contains(receipt) => {
                    return Err(ApiError::from_core(&SettleError::AlreadySettled))
                }
                None => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        40405,
                        "NotFound",
                        format!("receipt {receipt:?} is not known: it was never issued by this server, or its delivery expired long ago"),
                    ))
                }
            }
        };
        let result = open.settle(how);
        let forgotten = {
            let mut held = self.inner.lock();
            let forgotten = held.open.remove(receipt);
            if held.settled_set.insert(receipt.to_owned()) {
                held.settled.push_back(receipt.to_owned());
            }
            while held.settled.len() > REMEMBERED {
                if let Some(old) = held.settled.pop_front() {
                    held.settled_set.remove(&old);
                }
            }
            forgotten
        };
        drop((forgotten, open));
        result.map_err(|e| ApiError::from_core(&e))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateQueue {
    queue_name: String,
    #[serde(default)]
    capacity: Option<usize>,
    #[serde(default)]
    visibility_timeout_ms: Option<u64>,
    #[serde(default)]
    max_deliveries: Option<u32>,
    #[serde(default)]
    dead_letter: Option<String>,
}

fn queue_json(name: &str, port: &dyn QueuePort) -> Value {
    let c = port.config();
    json!({
        "kind": "RingletQueue",
        "queue_name": name,
        "capacity": c.capacity,
        "visibility_timeout_ms": c.visibility_timeout.as_millis() as u64,
        "max_deliveries": c.max_deliveries,
        "dead_letter": c.dead_letter,
        "figures": serde_json::to_value(port.figures()).unwrap_or_default(),
    })
}

#[utoipa::path(get, path = "/v3/queues", tag = "queues", responses((status = 200, body = crate::openapi::QueueList), crate::openapi::Errors))]
pub(crate) async fn list(S(s): S<Arc<State>>) -> Json<Value> {
    let data: Vec<Value> = s
        .bus
        .snapshot()
        .queues
        .iter()
        .filter_map(|q| s.queue(&q.name).ok().map(|p| queue_json(&q.name, &*p)))
        .collect();
    Json(json!({ "kind": "RingletQueueList", "data": data }))
}

/// Creates a queue as the config's [`Create`](crate::Create) makes them.
pub(crate) fn open_http_queue(
    s: &State,
    name: &str,
    config: QueueConfig,
) -> Result<(), ringlet::Error> {
    s.config
        .creator
        .queue(&s.bus, name, config, s.kept.is_some())
}

#[utoipa::path(post, path = "/v3/queues", tag = "queues", request_body = CreateQueue, responses((status = 201, body = crate::openapi::Queue), crate::openapi::Errors))]
pub(crate) async fn create(
    S(s): S<Arc<State>>,
    Body(req): Body<CreateQueue>,
) -> Result<Response, ApiError> {
    let mut config = QueueConfig::default();
    if let Some(n) = req.capacity {
        config = config.capacity(n);
    }
    if let Some(ms) = req.visibility_timeout_ms {
        config = config.visibility_timeout(Duration::from_millis(ms));
    }
    if let Some(n) = req.max_deliveries {
        config = config.max_deliveries(n);
    }
    if let Some(d) = &req.dead_letter {
        config = config.dead_letter(d);
    }
    s.refuse_existing(&req.queue_name)?;
    open_http_queue(&s, &req.queue_name, config.clone())?;
    if let Some(kept) = &s.kept {
        kept.update(|m| {
            m.queues.insert(req.queue_name.clone(), config);
        })?;
    }
    let port = s.queue(&req.queue_name)?;
    Ok((
        StatusCode::CREATED,
        Json(queue_json(&req.queue_name, &*port)),
    )
        .into_response())
}

#[utoipa::path(get, path = "/v3/queues/{queue}", tag = "queues", params(("queue" = String, Path, description = "The queue")), responses((status = 200, body = crate::openapi::Queue), crate::openapi::Errors))]
pub(crate) async fn describe(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
) -> Result<Json<Value>, ApiError> {
    let port = s.queue(&queue)?;
    Ok(Json(queue_json(&queue, &*port)))
}

#[utoipa::path(delete, path = "/v3/queues/{queue}", tag = "queues", params(("queue" = String, Path, description = "The queue")), responses((status = 204, description = "Deleted"), crate::openapi::Errors))]
pub(crate) async fn delete(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
) -> Result<StatusCode, ApiError> {
    s.writable(&queue)?;
    s.queue(&queue)?;
    s.bus.delete(&queue)?;
    if let Some(kept) = &s.kept {
        kept.update(|m| {
            m.queues.remove(&queue);
        })?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    #[serde(default)]
    key: Option<Data>,
    #[serde(default)]
    value: Option<Data>,
    #[serde(default)]
    headers: Option<Vec<HeaderIn>>,
    #[serde(default)]
    delay_ms: Option<u64>,
}

async fn send_one(
    s: &State,
    queue: &str,
    port: &dyn QueuePort,
    raw: Value,
) -> Result<Value, ApiError> {
    let req: SendRequest = serde_json::from_value(raw).map_err(|e| json_error(&e))?;
    let msg = Message {
        key: key_of(req.key)?,
        headers: headers_of(req.headers)?,
        value: req.value.map(|d| d.payload("value")).transpose()?,
        partition: None,
        timestamp: None,
    };
    let delay = req.delay_ms.map(Duration::from_millis);
    wait_for_room(s, queue, port.send(msg, delay)?).await?;
    Ok(json!({ "error_code": 200, "queue_name": queue, "delay_ms": req.delay_ms }))
}

#[utoipa::path(post, path = "/v3/queues/{queue}/messages", tag = "queues", params(("queue" = String, Path, description = "The queue")), request_body(content = SendRequest, description = "A message; several JSON objects back to back are answered one per line", content_type = "application/json"), responses((status = 200, body = crate::openapi::SendResult), crate::openapi::Errors))]
pub(crate) async fn send(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
    Raw(body): Raw,
) -> Result<Response, ApiError> {
    s.writable(&queue)?;
    let port = s.queue(&queue)?;
    let values = values_of(&body, s.config.max_records_per_request)?;
    if values.len() == 1 {
        let raw = values.into_iter().next().unwrap_or_default();
        return Ok(Json(send_one(&s, &queue, &*port, raw).await?).into_response());
    }
    let mut out = Vec::new();
    for raw in values {
        let answer = match send_one(&s, &queue, &*port, raw).await {
            Ok(v) => v,
            Err(e) => serde_json::to_value(&e).unwrap_or_default(),
        };
        serde_json::to_writer(&mut out, &answer).unwrap_or_default();
        out.push(b'\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiveQuery {
    #[serde(default)]
    max: Option<usize>,
    #[serde(default)]
    wait_ms: Option<u64>,
}

fn delivery_json(receipt: &str, d: &Received) -> Value {
    let mut v = json!({
        "receipt": receipt,
        "attempt": d.attempt,
        "key": d.key.as_ref().map(|k| match k.as_str() {
            Some(t) => json!({ "type": "STRING", "data": t }),
            None => json!({ "type": "BINARY", "data": B64.encode(k.as_bytes()) }),
        }),
        "headers": d.headers.iter().map(|(n, v)| json!({ "name": n, "value": B64.encode(v) })).collect::<Vec<_>>(),
        "value": match &d.value { Ok(Some(p)) => p.to_typed(), _ => Value::Null },
        "enqueued_at": rfc3339(d.enqueued_at),
        "deadline": rfc3339(d.deadline),
    });
    if let Err(e) = &d.value {
        v["error"] = Value::String(e.clone());
    }
    v
}

#[utoipa::path(post, path = "/v3/queues/{queue}/receive", tag = "queues", params(("queue" = String, Path, description = "The queue"), ReceiveQuery), responses((status = 200, body = crate::openapi::Deliveries), crate::openapi::Errors))]
pub(crate) async fn receive(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
    Q(q): Q<ReceiveQuery>,
) -> Result<Json<Value>, ApiError> {
    let port = s.queue(&queue)?;
    s.receipts.sweep(s.bus.now_ms());
    let max = q
        .max
        .unwrap_or(1)
        .clamp(1, s.config.max_records_per_request);
    let held = s.receipts.inner.lock().open.len();
    if held + max > s.config.max_unsettled {
        return Err(ApiError::too_many(format!(
            "{held} deliveries are unsettled, this server's limit is {}: settle some (ack, nack or reject) first",
            s.config.max_unsettled
        )));
    }
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(0)).min(s.config.max_wait);
    let got = port.receive(max, wait).await?;
    let visibility = port.config().visibility_timeout.as_millis() as i64;
    let mut out = Vec::with_capacity(got.len());
    let mut held = Vec::with_capacity(got.len());
    for d in got {
        let receipt = s.receipts.new_receipt();
        out.push(delivery_json(&receipt, &d));
        held.push((receipt, d.deadline, d.settle));
    }
    {
        let mut r = s.receipts.inner.lock();
        for (receipt, deadline, settle) in held {
            r.open.insert(
                receipt,
                Open {
                    queue: queue.clone(),
                    settle: Arc::from(settle),
                    forget_at: deadline.saturating_add(visibility),
                },
            );
        }
    }
    Ok(Json(json!({ "deliveries": out })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettleRequest {
    receipts: Vec<String>,
    /// For `nack`: ready again after this delay.
    #[serde(default)]
    delay_ms: Option<u64>,
}

fn settle_all(s: &State, queue: &str, req: &SettleRequest, how: How) -> Response {
    let mut results = Vec::with_capacity(req.receipts.len());
    let mut first_error: Option<ApiError> = None;
    for r in &req.receipts {
        match s.receipts.settle(queue, r, how) {
            Ok(()) => results.push(json!({ "receipt": r, "error_code": 200 })),
            Err(e) => {
                results.push(json!({ "receipt": r, "error_code": e.error_code, "error": e.error, "message": e.message }));
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        None => Json(json!({ "settled": results.len(), "results": results })).into_response(),
        Some(e) => {
            let mut body = serde_json::to_value(&e).unwrap_or_default();
            body["results"] = Value::Array(results);
            (e.status, Json(body)).into_response()
        }
    }
}

async fn settle_handler(
    s: Arc<State>,
    queue: String,
    req: Option<SettleRequest>,
    how: fn(Option<u64>) -> Result<How, ApiError>,
) -> Result<Response, ApiError> {
    s.queue(&queue)?;
    let req = req.ok_or_else(|| {
        ApiError::bad_request("the request needs a body: {\"receipts\": [\"…\"]}")
    })?;
    let how = how(req.delay_ms)?;
    Ok(settle_all(&s, &queue, &req, how))
}

fn no_delay(how: How) -> impl Fn(Option<u64>) -> Result<How, ApiError> {
    move |delay| match delay {
        None => Ok(how),
        Some(_) => Err(ApiError::invalid("delay_ms is for nack only")),
    }
}

#[utoipa::path(post, path = "/v3/queues/{queue}/ack", tag = "queues", params(("queue" = String, Path, description = "The queue")), request_body = SettleRequest, responses((status = 200, body = crate::openapi::Settled), crate::openapi::Errors))]
pub(crate) async fn ack(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
    OptBody(req): OptBody<SettleRequest>,
) -> Result<Response, ApiError> {
    settle_handler(s, queue, req, |d| no_delay(How::Ack)(d)).await
}

#[utoipa::path(post, path = "/v3/queues/{queue}/nack", tag = "queues", params(("queue" = String, Path, description = "The queue")), request_body = SettleRequest, responses((status = 200, body = crate::openapi::Settled), crate::openapi::Errors))]
pub(crate) async fn nack(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
    OptBody(req): OptBody<SettleRequest>,
) -> Result<Response, ApiError> {
    settle_handler(s, queue, req, |d| {
        Ok(How::Nack(d.map(Duration::from_millis)))
    })
    .await
}

#[utoipa::path(post, path = "/v3/queues/{queue}/reject", tag = "queues", params(("queue" = String, Path, description = "The queue")), request_body = SettleRequest, responses((status = 200, body = crate::openapi::Settled), crate::openapi::Errors))]
pub(crate) async fn reject(
    S(s): S<Arc<State>>,
    P(queue): P<String>,
    OptBody(req): OptBody<SettleRequest>,
) -> Result<Response, ApiError> {
    settle_handler(s, queue, req, |d| no_delay(How::Reject)(d)).await
}
