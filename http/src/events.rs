//! Live streams: `GET /v3/clusters/{cluster}/topics/{topic}/events` as
//! Server-Sent Events, resumable with `Last-Event-ID`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State as S;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ringlet::Start;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{P, Q};
use crate::ports::{Out, ReadError, Reader};
use crate::value::B64;
use crate::State;

/// Records taken per wake-up.
const BATCH: usize = 64;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    #[serde(default)]
    from: Option<String>,
}

/// `0:41,1:17` — the last offset sent per partition (`-1`: none yet).
fn id_of(last: &[i64]) -> String {
    let mut s = String::with_capacity(last.len() * 8);
    for (p, o) in last.iter().enumerate() {
        if p > 0 {
            s.push(',');
        }
        s.push_str(&format!("{p}:{o}"));
    }
    s
}

/// The partitions and offsets a `Last-Event-ID` lists.
fn parse_id(id: &str, partitions: u32) -> Result<Vec<(u32, i64)>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "Last-Event-ID {id:?} is not an id this server sent (partition:offset, comma-separated)"
        ))
    };
    let mut out = Vec::new();
    for part in id.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (p, o) = part.split_once(':').ok_or_else(bad)?;
        let p: u32 = p.parse().map_err(|_| bad())?;
        let o: i64 = o.parse().map_err(|_| bad())?;
        if p >= partitions || o < -1 {
            return Err(bad());
        }
        out.push((p, o));
    }
    Ok(out)
}

/// Decrements the open-stream count when the stream ends.
struct Slot(Arc<State>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Live {
    topic: String,
    reader: Box<dyn Reader>,
    last: Vec<i64>,
    pending: VecDeque<Event>,
    done: bool,
    _slot: Slot,
}

fn record_event(topic: &str, o: &Out, last: &[i64]) -> Event {
    let (value, value_type, error) = match &o.value {
        Ok(Some(p)) => (p.to_json(), Value::String(p.type_name().to_owned()), None),
        Ok(None) => (Value::Null, Value::Null, None),
        Err(e) => (Value::Null, Value::Null, Some(e.clone())),
    };
    let key = o.key.as_ref().map(|k| match k.as_str() {
        Some(s) => Value::String(s.to_owned()),
        None => Value::String(B64.encode(k.as_bytes())),
    });
    let mut data = json!({
        "topic": topic,
        "partition": o.partition,
        "offset": o.offset,
        "timestamp": o.timestamp,
        "key": key,
        "key_type": o.key.as_ref().map(|k| if k.is_text() { "STRING" } else { "BINARY" }),
        "headers": o.headers.iter().map(|(n, v)| json!({ "name": n, "value": B64.encode(v) })).collect::<Vec<_>>(),
        "value": value,
        "value_type": value_type,
    });
    if let Some(e) = error {
        data["error"] = Value::String(e);
    }
    Event::default()
        .event("record")
        .id(id_of(last))
        .data(data.to_string())
}

impl Live {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Live)> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some((Ok(e), self));
            }
            if self.done {
                return None;
            }
            match self.reader.wait(BATCH).await {
                Ok(batch) => {
                    for o in batch {
                        if let Some(l) = self.last.get_mut(o.partition as usize) {
                            *l = o.offset as i64;
                        }
                        let e = record_event(&self.topic, &o, &self.last);
                        self.pending.push_back(e);
                    }
                }
                Err(ReadError::Lagged { partition, skipped }) => {
                    let data =
                        json!({ "topic": self.topic, "partition": partition, "skipped": skipped });
                    self.pending
                        .push_back(Event::default().event("lagged").data(data.to_string()));
                }
                Err(ReadError::Closed) => {
                    let data = json!({ "topic": self.topic });
                    self.pending
                        .push_back(Event::default().event("closed").data(data.to_string()));
                    self.done = true;
                }
            }
        }
    }
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}/topics/{topic}/events", tag = "events", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic"), EventsQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this id (partition:offset, comma-separated)")), responses((status = 200, description = "Server-Sent Events: record, lagged, closed", content_type = "text/event-stream", body = String), crate::openapi::Errors))]
pub(crate) async fn stream(
    S(s): S<Arc<State>>,
    P((cluster, topic)): P<(String, String)>,
    Q(q): Q<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    s.cluster(&cluster)?;
    let port = s.topic(&topic)?;
    let n = port.partitions();
    let from: Vec<u64> = match q.from.as_deref().unwrap_or("latest") {
        "latest" => port.end(),
        "earliest" => port.earliest(),
        o => {
            let o: u64 = o.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "from={o:?}: use earliest, latest, or an offset (a number, the same in every partition)"
                ))
            })?;
            vec![o; n as usize]
        }
    };
    let mut start: Vec<(u32, u64)> = (0..n).zip(from).collect();
    if let Some(id) = headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        for (p, o) in parse_id(id, n)? {
            start[p as usize].1 = (o + 1) as u64;
        }
    }
    let last: Vec<i64> = start.iter().map(|(_, o)| *o as i64 - 1).collect();
    let reader = port.subscribe(Start::Offsets(start))?;
    if s.streams.fetch_add(1, Ordering::Relaxed) >= s.config.max_streams {
        s.streams.fetch_sub(1, Ordering::Relaxed);
        return Err(ApiError::too_many(format!(
            "this server has {} open event streams, its limit: close some first",
            s.config.max_streams
        )));
    }
    // A reconnecting EventSource waits a second, not the browser's default.
    let hello = Event::default()
        .retry(std::time::Duration::from_secs(1))
        .comment("ringlet");
    let live = Live {
        topic,
        reader,
        last,
        pending: VecDeque::from([hello]),
        done: false,
        _slot: Slot(s.clone()),
    };
    let events = futures_util::stream::unfold(live, Live::next);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        assert_eq!(id_of(&[41]), "0:41");
        assert_eq!(id_of(&[41, 17, -1]), "0:41,1:17,2:-1");
        assert_eq!(
            parse_id("0:41,1:17,2:-1", 3).unwrap(),
            vec![(0, 41), (1, 17), (2, -1)]
        );
        assert!(parse_id("3:1", 3).is_err());
        assert!(parse_id("0:x", 3).is_err());
        assert!(parse_id("0:-2", 3).is_err());
        assert!(parse_id("garbage", 3).is_err());
    }
}
