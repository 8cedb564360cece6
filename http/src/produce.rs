//! REST Proxy v3 produce: `POST /v3/clusters/{cluster}/topics/{topic}/records`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as S;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use ringlet::{Headers, Key, Message};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{json_error, parse_rfc3339, rfc3339, Raw, P};
use crate::ports::{BoxFut, TopicPort};
use crate::value::{HttpValue, Payload, B64};
use crate::State;

/// `{"type": "JSON" | "STRING" | "BINARY", "data": …}` (no `type`: JSON).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Data {
    #[serde(rename = "type", default)]
    kind: Option<DataType>,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize, Clone, Copy, utoipa::ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub(crate) enum DataType {
    JSON,
    STRING,
    BINARY,
}

impl Data {
    /// The payload; `what` names the field in errors.
    pub(crate) fn payload(self, what: &str) -> Result<Payload, ApiError> {
        match (self.kind.unwrap_or(DataType::JSON), self.data) {
            (DataType::JSON, v) => Ok(Payload::Json(v)),
            (DataType::STRING, Value::String(s)) => Ok(Payload::String(s)),
            (DataType::BINARY, Value::String(s)) => B64
                .decode(s.as_bytes())
                .map(Payload::Binary)
                .map_err(|e| ApiError::invalid(format!("{what}: BINARY data must be base64: {e}"))),
            (DataType::STRING, _) => Err(ApiError::invalid(format!(
                "{what}: STRING data must be a JSON string"
            ))),
            (DataType::BINARY, _) => Err(ApiError::invalid(format!(
                "{what}: BINARY data must be a base64 string"
            ))),
        }
    }
}

/// A key from a request: text for `STRING` and `JSON` (its serialization),
/// bytes for `BINARY`.
pub(crate) fn key_of(data: Option<Data>) -> Result<Option<Key>, ApiError> {
    Ok(match data.map(|d| d.payload("key")).transpose()? {
        None => None,
        Some(Payload::String(s)) => Some(Key::from(s)),
        Some(Payload::Binary(b)) => Some(Key::from(b)),
        Some(Payload::Json(Value::Null)) => None,
        Some(p @ Payload::Json(_)) => Some(Key::from(
            String::from_utf8_lossy(&p.to_bytes()).into_owned(),
        )),
    })
}

/// `[{"name": …, "value": base64 | null}]`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderIn {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

pub(crate) fn headers_of(list: Option<Vec<HeaderIn>>) -> Result<Headers, ApiError> {
    let mut headers = Headers::new();
    for h in list.unwrap_or_default() {
        let value = match h.value {
            None => Vec::new(),
            Some(v) => B64.decode(v.as_bytes()).map_err(|e| {
                ApiError::invalid(format!(
                    "header '{}': the value must be base64: {e}",
                    h.name
                ))
            })?,
        };
        headers.push(h.name, value);
    }
    Ok(headers)
}

/// The JSON of a key for a response: `{"type", "size"}`.
fn key_shape(key: Option<&Key>) -> Value {
    match key {
        None => Value::Null,
        Some(k) => {
            json!({ "type": if k.is_text() { "STRING" } else { "BINARY" }, "size": k.as_bytes().len() })
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
enum Time {
    Ms(i64),
    Text(String),
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProduceRequest {
    #[serde(default)]
    partition_id: Option<u32>,
    #[serde(default)]
    headers: Option<Vec<HeaderIn>>,
    #[serde(default)]
    key: Option<Data>,
    #[serde(default)]
    value: Option<Data>,
    #[serde(default)]
    timestamp: Option<Time>,
}

/// One record: converted, published, answered.
async fn produce_one(
    s: &State,
    cluster: &str,
    topic: &str,
    port: &dyn TopicPort,
    raw: Value,
) -> Result<Value, ApiError> {
    let req: ProduceRequest = serde_json::from_value(raw).map_err(|e| json_error(&e))?;
    let key = key_of(req.key)?;
    let headers = headers_of(req.headers)?;
    let value: HttpValue = req.value.map(|d| d.payload("value")).transpose()?;
    let timestamp = match req.timestamp {
        None => s.bus.now_ms(),
        Some(Time::Ms(ms)) => ms,
        Some(Time::Text(t)) => parse_rfc3339(&t).ok_or_else(|| {
            ApiError::invalid(format!(
                "timestamp {t:?} is not an RFC 3339 time (e.g. 2021-02-05T19:14:42Z) nor milliseconds since the epoch"
            ))
        })?,
    };
    if let Some(p) = req.partition_id {
        if p >= port.partitions() {
            return Err(crate::topics::no_partition(topic, &p, port.partitions()));
        }
    }
    let value_shape = value.as_ref().map_or(
        Value::Null,
        |p| json!({ "type": p.type_name(), "size": p.size() }),
    );
    let key_json = key_shape(key.as_ref());
    let msg = Message {
        value,
        key,
        headers,
        partition: req.partition_id,
        timestamp: Some(timestamp),
    };
    let receipt = wait_for_room(s, topic, port.publish(msg)?).await?;
    Ok(json!({
        "error_code": 200,
        "cluster_id": cluster,
        "topic_name": topic,
        "partition_id": receipt.partition,
        "offset": receipt.offset,
        "timestamp": rfc3339(timestamp),
        "key": key_json,
        "value": value_shape,
    }))
}

/// Waits for a publish or send that may wait for room, up to the config's
/// `produce_wait`; then `429`.
pub(crate) async fn wait_for_room<R>(
    s: &State,
    name: &str,
    mut fut: BoxFut<'static, Result<R, ApiError>>,
) -> Result<R, ApiError> {
    use futures_util::FutureExt as _;
    // Most publishes and sends are done at once: no timer for those.
    if let Some(done) = (&mut fut).now_or_never() {
        return done;
    }
    let wait: Duration = s.config.produce_wait;
    match tokio::time::timeout(wait, fut).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            42901,
            "Full",
            format!(
                "'{name}' is full and no room came within {} ms: retry later, or read it faster",
                wait.as_millis()
            ),
        )),
    }
}

/// Splits a body into its JSON values (REST Proxy's streaming mode sends
/// several, back to back or one per line).
pub(crate) fn values_of(bytes: &[u8], max: usize) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        let v = v.map_err(|e| json_error(&e))?;
        out.push(v);
        if out.len() > max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                41301,
                "PayloadTooLarge",
                format!("more than {max} records in one request: send them in several requests"),
            ));
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_request(
            "the request needs a JSON body: a record, or several",
        ));
    }
    Ok(out)
}

#[utoipa::path(post, path = "/v3/clusters/{cluster}/topics/{topic}/records", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic")), request_body(content = ProduceRequest, description = "A record; several JSON objects back to back (streaming mode) are answered one per line", content_type = "application/json"), responses((status = 200, body = crate::openapi::ProduceResult), crate::openapi::Errors))]
pub(crate) async fn records(
    S(s): S<Arc<State>>,
    P((cluster, topic)): P<(String, String)>,
    Raw(body): Raw,
) -> Result<Response, ApiError> {
    s.writable(&topic)?;
    s.cluster(&cluster)?;
    let port = s.topic(&topic)?;
    let values = values_of(&body, s.config.max_records_per_request)?;
    if values.len() == 1 {
        let raw = values.into_iter().next().unwrap_or_default();
        let answer = produce_one(&s, &cluster, &topic, &*port, raw).await?;
        return Ok(Json(answer).into_response());
    }
    let mut out = Vec::with_capacity(values.len() * 160);
    for raw in values {
        let answer = match produce_one(&s, &cluster, &topic, &*port, raw).await {
            Ok(v) => v,
            Err(e) => serde_json::to_value(&e).unwrap_or_default(),
        };
        serde_json::to_writer(&mut out, &answer).unwrap_or_default();
        out.push(b'\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}
