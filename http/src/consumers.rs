//! REST Proxy v2 consumer instances: each is one member of the group on each
//! topic it subscribed to.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State as S;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use regex::Regex;
use ringlet::Start;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{Body, OptBody, P, Q};
use crate::ports::{Consumer, Out, ReadError, TopicPort};
use crate::value::{JsonView, B64};
use crate::{base_url, State};

/// The server's consumer instances.
pub(crate) struct Instances {
    map: parking_lot::Mutex<HashMap<(String, String), Arc<Instance>>>,
    next_id: AtomicU64,
    /// When a request last swept the whole map.
    swept: parking_lot::Mutex<Instant>,
}

impl Default for Instances {
    fn default() -> Self {
        Instances {
            map: parking_lot::Mutex::default(),
            next_id: AtomicU64::new(0),
            swept: parking_lot::Mutex::new(Instant::now()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Embedded {
    Json,
    Binary,
}

impl Embedded {
    fn media(self) -> &'static str {
        match self {
            Embedded::Json => "application/vnd.kafka.json.v2+json",
            Embedded::Binary => "application/vnd.kafka.binary.v2+json",
        }
    }
}

pub(crate) struct Instance {
    group: String,
    format: Embedded,
    start: Start,
    auto_commit: bool,
    last_used: parking_lot::Mutex<Instant>,
    state: tokio::sync::Mutex<Subscribed>,
}

struct Member {
    topic: String,
    port: Arc<dyn TopicPort>,
    consumer: Box<dyn Consumer>,
}

#[derive(Default)]
struct Subscribed {
    members: Vec<Member>,
    topics: Vec<String>,
    pattern: Option<Regex>,
    /// Records taken from the bus that did not fit in a response.
    leftovers: VecDeque<(String, Out)>,
    /// Per topic and partition, the offset after the last record returned.
    returned: HashMap<(String, u32), u64>,
    next: usize,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        for m in &mut self.members {
            m.consumer.leave();
        }
    }
}

fn no_instance(group: &str, id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        40403,
        "NotFound",
        format!("consumer instance '{id}' of group '{group}' does not exist (it may have been idle longer than the consumer timeout): create one with POST /consumers/{group}"),
    )
}

impl Instances {
    /// Removes instances idle longer than `timeout`; they are dropped (their
    /// members leave) outside the map's lock.
    fn sweep(&self, timeout: Duration) {
        let now = Instant::now();
        let gone: Vec<Arc<Instance>> = {
            let mut map = self.map.lock();
            let idle: Vec<(String, String)> = map
                .iter()
                .filter(|(_, i)| now.duration_since(*i.last_used.lock()) > timeout)
                .map(|(k, _)| k.clone())
                .collect();
            idle.iter().filter_map(|k| map.remove(k)).collect()
        };
        drop(gone);
    }

    /// The instance, unless it was idle longer than the timeout (then it is
    /// removed). The whole map is swept at most every quarter of the timeout
    /// (and every second at most), not at every request.
    fn get(&self, s: &State, group: &str, id: &str) -> Result<Arc<Instance>, ApiError> {
        let timeout = s.config.consumer_timeout;
        let now = Instant::now();
        let due = {
            let mut swept = self.swept.lock();
            let due = now.duration_since(*swept) >= (timeout / 4).min(Duration::from_secs(1));
            if due {
                *swept = now;
            }
            due
        };
        if due {
            self.sweep(timeout);
        }
        let key = (group.to_owned(), id.to_owned());
        let found = self.map.lock().get(&key).cloned();
        let Some(found) = found else {
            return Err(no_instance(group, id));
        };
        let idle = {
            let mut last = found.last_used.lock();
            let idle = now.duration_since(*last) > timeout;
            if !idle {
                *last = now;
            }
            idle
        };
        if idle {
            let gone = {
                let mut map = self.map.lock();
                match map.get(&key) {
                    Some(i) if Arc::ptr_eq(i, &found) => map.remove(&key),
                    _ => None,
                }
            };
            drop((gone, found));
            return Err(no_instance(group, id));
        }
        Ok(found)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateConsumer {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(rename = "auto.offset.reset", default)]
    auto_offset_reset: Option<String>,
    #[serde(rename = "auto.commit.enable", default)]
    auto_commit_enable: Option<Flag>,
    /// Accepted for compatibility; a fetch returns what is ready.
    #[serde(rename = "fetch.min.bytes", default)]
    #[allow(dead_code)]
    fetch_min_bytes: Option<Value>,
    /// Accepted for compatibility; a fetch's `timeout` is used.
    #[serde(rename = "consumer.request.timeout.ms", default)]
    #[allow(dead_code)]
    request_timeout: Option<Value>,
}

fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 249
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{what} {id:?} is not a valid name: use 1 to 249 of A-Z a-z 0-9 . _ -"
        )))
    }
}

#[utoipa::path(post, path = "/consumers/{group}", tag = "consumers", params(("group" = String, Path, description = "The consumer group")), request_body(content = CreateConsumer, content_type = "application/vnd.kafka.v2+json"), responses((status = 200, body = crate::openapi::CreatedConsumer), crate::openapi::Errors))]
pub(crate) async fn create(
    S(s): S<Arc<State>>,
    P(group): P<String>,
    headers: HeaderMap,
    OptBody(req): OptBody<CreateConsumer>,
) -> Result<Response, ApiError> {
    let req = req.unwrap_or_default();
    check_id("group", &group)?;
    let format = match req.format.as_deref().unwrap_or("binary") {
        "binary" => Embedded::Binary,
        "json" => Embedded::Json,
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                42204,
                "BadRequest",
                format!("format {other:?} is not supported: use json or binary"),
            ))
        }
    };
    let start = match req.auto_offset_reset.as_deref().unwrap_or("latest") {
        "latest" => Start::Latest,
        "earliest" => Start::Earliest,
        other => {
            return Err(ApiError::invalid(format!(
                "auto.offset.reset {other:?} is not supported: use earliest or latest"
            )))
        }
    };
    let auto_commit = match req.auto_commit_enable {
        None => false,
        Some(Flag::Bool(b)) => b,
        Some(Flag::Text(t)) => match t.as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(ApiError::invalid(format!(
                    "auto.commit.enable {t:?}: use true or false"
                )))
            }
        },
    };
    s.consumers.sweep(s.config.consumer_timeout);
    let id = match req.name {
        Some(n) => n,
        None => format!(
            "rest-consumer-{}",
            s.consumers.next_id.fetch_add(1, Ordering::Relaxed) + 1
        ),
    };
    check_id("instance name", &id)?;
    {
        let mut map = s.consumers.map.lock();
        if map.contains_key(&(group.clone(), id.clone())) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                40902,
                "AlreadyExists",
                format!("consumer instance '{id}' already exists in group '{group}': choose another name, or omit it"),
            ));
        }
        if map.len() >= s.config.max_consumers {
            return Err(ApiError::too_many(format!(
                "this server has {} consumer instances, its limit: delete idle ones (DELETE /consumers/{{group}}/instances/{{id}})",
                map.len()
            )));
        }
        map.insert(
            (group.clone(), id.clone()),
            Arc::new(Instance {
                group: group.clone(),
                format,
                start,
                auto_commit,
                last_used: parking_lot::Mutex::new(Instant::now()),
                state: tokio::sync::Mutex::new(Subscribed::default()),
            }),
        );
    }
    let base_uri = format!("{}/consumers/{group}/instances/{id}", base_url(&headers));
    Ok(Json(json!({ "instance_id": id, "base_uri": base_uri })).into_response())
}

#[utoipa::path(delete, path = "/consumers/{group}/instances/{instance}", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), responses((status = 204, description = "Removed; its members left their groups"), crate::openapi::Errors))]
pub(crate) async fn remove(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    s.consumers.map.lock().remove(&(group, id));
    let mut st = inst.state.lock().await;
    if inst.auto_commit {
        // Best effort, as a Kafka consumer's close: a partition revoked
        // meanwhile is read again by its new owner.
        let _ = commit_returned(&mut st);
    }
    st.leave_all();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Subscription {
    #[serde(default)]
    topics: Option<Vec<String>>,
    #[serde(default)]
    topic_pattern: Option<String>,
}

impl Subscribed {
    fn leave_all(&mut self) {
        for m in &mut self.members {
            m.consumer.leave();
        }
        self.members.clear();
        self.leftovers.clear();
        self.returned.clear();
    }

    fn join(&mut self, s: &State, inst: &Instance, topic: &str) -> Result<(), ApiError> {
        let port = s.topic(topic)?;
        let consumer = port.join(&inst.group, inst.start.clone(), s.config.consumer_timeout)?;
        self.members.push(Member {
            topic: topic.to_owned(),
            port,
            consumer,
        });
        Ok(())
    }

    /// Joins topics created since that match the pattern.
    fn follow_pattern(&mut self, s: &State, inst: &Instance) {
        let Some(pattern) = self.pattern.clone() else {
            return;
        };
        for t in s.bus.snapshot().topics {
            let new = !self.members.iter().any(|m| m.topic == t.name);
            if new && !t.name.starts_with("__") && pattern.is_match(&t.name) {
                // A topic of a type without a format is passed over.
                let _ = self.join(s, inst, &t.name);
            }
        }
    }
}

#[utoipa::path(post, path = "/consumers/{group}/instances/{instance}/subscription", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), request_body(content = Subscription, content_type = "application/vnd.kafka.v2+json"), responses((status = 204, description = "Subscribed"), crate::openapi::Errors))]
pub(crate) async fn subscribe(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    Body(req): Body<Subscription>,
) -> Result<StatusCode, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    st.leave_all();
    st.topics.clear();
    st.pattern = None;
    match (req.topics, req.topic_pattern) {
        (Some(topics), None) if !topics.is_empty() => {
            for t in &topics {
                if let Err(e) = st.join(&s, &inst, t) {
                    st.leave_all();
                    return Err(e);
                }
            }
            st.topics = topics;
        }
        (None, Some(p)) => {
            let re = Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                ApiError::invalid(format!(
                    "topic_pattern {p:?} is not a regular expression: {e}"
                ))
            })?;
            st.pattern = Some(re);
            st.follow_pattern(&s, &inst);
        }
        _ => {
            return Err(ApiError::invalid(
                "give either topics (a non-empty list) or topic_pattern (a regular expression)",
            ))
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/consumers/{group}/instances/{instance}/subscription", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), responses((status = 200, body = crate::openapi::SubscribedTopics), crate::openapi::Errors))]
pub(crate) async fn subscription(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let st = inst.state.lock().await;
    let topics: Vec<&str> = st.members.iter().map(|m| m.topic.as_str()).collect();
    Ok(Json(json!({ "topics": topics })))
}

#[utoipa::path(delete, path = "/consumers/{group}/instances/{instance}/subscription", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), responses((status = 204, description = "Unsubscribed"), crate::openapi::Errors))]
pub(crate) async fn unsubscribe(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    st.leave_all();
    st.topics.clear();
    st.pattern = None;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FetchQuery {
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(default)]
    max_bytes: Option<u64>,
}

fn size_of(out: &Out) -> usize {
    let key = out.key.as_ref().map_or(0, |k| k.as_bytes().len());
    let value = match &out.value {
        Ok(Some(p)) => p.size(),
        _ => 0,
    };
    key + value
}

/// A record as a v2 consumer gets it, written straight from the record.
#[derive(serde::Serialize)]
struct RecordOut<'a> {
    topic: &'a str,
    key: Option<String>,
    value: ValueOut<'a>,
    partition: u32,
    offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

enum ValueOut<'a> {
    None,
    Json(JsonView<'a>),
    Base64(String),
}

impl serde::Serialize for ValueOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ValueOut::None => s.serialize_none(),
            ValueOut::Json(v) => v.serialize(s),
            ValueOut::Base64(b) => s.serialize_str(b),
        }
    }
}

fn record_out<'a>(topic: &'a str, out: &'a Out, format: Embedded) -> RecordOut<'a> {
    let key = out.key.as_ref().map(|k| match (format, k.as_str()) {
        (Embedded::Json, Some(text)) => text.to_owned(),
        _ => B64.encode(k.as_bytes()),
    });
    let value = match (&out.value, format) {
        (Ok(Some(p)), Embedded::Json) => ValueOut::Json(JsonView(p)),
        (Ok(Some(p)), Embedded::Binary) => ValueOut::Base64(p.to_base64()),
        _ => ValueOut::None,
    };
    RecordOut {
        topic,
        key,
        value,
        partition: out.partition,
        offset: out.offset,
        error: out.value.as_ref().err().map(String::as_str),
    }
}

fn commit_returned(st: &mut Subscribed) -> Result<(), ApiError> {
    let returned = std::mem::take(&mut st.returned);
    for m in &mut st.members {
        let offsets: Vec<(u32, u64)> = returned
            .iter()
            .filter(|((t, _), _)| *t == m.topic)
            .map(|((_, p), o)| (*p, *o))
            .collect();
        if !offsets.is_empty() {
            m.consumer.commit_offsets(&offsets)?;
        }
    }
    Ok(())
}

/// What one member has ready; `Closed` rejoins (the member was removed
/// from its group after its session timeout) or, for a deleted topic, drops it.
fn take_ready(s: &State, inst: &Instance, st: &mut Subscribed, i: usize, max: usize) -> Vec<Out> {
    match st.members[i].consumer.ready(max) {
        Ok(v) => v,
        Err(ReadError::Lagged { .. }) => Vec::new(),
        Err(ReadError::Closed) => {
            rejoin(s, inst, st, i);
            Vec::new()
        }
    }
}

fn rejoin(s: &State, inst: &Instance, st: &mut Subscribed, i: usize) {
    let m = &st.members[i];
    if !m.port.is_closed() {
        if let Ok(c) = m
            .port
            .join(&inst.group, inst.start.clone(), s.config.consumer_timeout)
        {
            st.members[i].consumer = c;
            return;
        }
    }
    st.members.remove(i);
}

#[utoipa::path(get, path = "/consumers/{group}/instances/{instance}/records", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance"), FetchQuery), responses((status = 200, body = Vec<crate::openapi::ConsumerRecord>, content_type = "application/vnd.kafka.json.v2+json"), crate::openapi::Errors))]
pub(crate) async fn records(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    Q(q): Q<FetchQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    check_accept(&headers, inst.format)?;
    let budget = q
        .max_bytes
        .map_or(s.config.max_fetch_bytes, |b| {
            (b as usize).min(s.config.max_fetch_bytes)
        })
        .max(1);
    let wait = Duration::from_millis(q.timeout.unwrap_or(1000)).min(s.config.max_wait);
    let max = s.config.max_records_per_request;
    let mut st = inst.state.lock().await;
    st.follow_pattern(&s, &inst);
    if inst.auto_commit {
        commit_returned(&mut st)?;
    }
    let mut fill = Fill {
        got: Vec::new(),
        used: 0,
        budget,
        max,
    };
    // What an earlier fetch took and could not return comes first.
    while !fill.full() {
        let Some((topic, o)) = st.leftovers.pop_front() else {
            break;
        };
        if let Some(back) = fill.offer(topic, o) {
            st.leftovers.push_front(back);
            break;
        }
    }
    // Then each member in turn, a small batch at a time.
    let n = st.members.len();
    let mut i = 0;
    while !fill.full() && i < n && !st.members.is_empty() {
        let at = (st.next + i) % st.members.len();
        let topic = st.members[at].topic.clone();
        let ready = take_ready(&s, &inst, &mut st, at, fill.room().min(FETCH_BATCH));
        let more = ready.len() == fill.room().min(FETCH_BATCH);
        for o in ready {
            if let Some(back) = fill.offer(topic.clone(), o) {
                st.leftovers.push_back(back);
            }
        }
        if !more {
            i += 1;
        }
    }
    if !st.members.is_empty() {
        st.next = (st.next + 1) % st.members.len();
    }
    if fill.got.is_empty() && !st.members.is_empty() && !wait.is_zero() {
        let batch = fill.room().min(FETCH_BATCH);
        let waits = st
            .members
            .iter_mut()
            .map(|m| {
                let topic = m.topic.clone();
                Box::pin(async move { (topic, m.consumer.wait(batch).await) })
            })
            .collect::<Vec<_>>();
        let woke = tokio::time::timeout(wait, futures_util::future::select_all(waits))
            .await
            .ok()
            .map(|(first, _, _others)| first);
        if let Some((topic, Ok(v))) = woke {
            for o in v {
                if let Some(back) = fill.offer(topic.clone(), o) {
                    st.leftovers.push_back(back);
                }
            }
        }
    }
    let got = fill.got;
    for (topic, o) in &got {
        st.returned
            .insert((topic.clone(), o.partition), o.offset + 1);
    }
    let body: Vec<RecordOut<'_>> = got
        .iter()
        .map(|(t, o)| record_out(t, o, inst.format))
        .collect();
    Ok(([(header::CONTENT_TYPE, inst.format.media())], Json(body)).into_response())
}

/// Records taken from members per read while a fetch fills.
const FETCH_BATCH: usize = 64;

/// A fetch's response as it fills, within its byte budget (the first record
/// always goes in) and record limit.
struct Fill {
    got: Vec<(String, Out)>,
    used: usize,
    budget: usize,
    max: usize,
}

impl Fill {
    fn full(&self) -> bool {
        self.got.len() >= self.max || (!self.got.is_empty() && self.used >= self.budget)
    }

    fn room(&self) -> usize {
        self.max.saturating_sub(self.got.len()).max(1)
    }

    /// Takes the record, or hands it back when it does not fit.
    fn offer(&mut self, topic: String, o: Out) -> Option<(String, Out)> {
        let size = size_of(&o);
        if self.got.len() >= self.max || (!self.got.is_empty() && self.used + size > self.budget) {
            return Some((topic, o));
        }
        self.used += size;
        self.got.push((topic, o));
        None
    }
}

/// `406` when the request asks for another embedded format than the
/// instance's.
fn check_accept(headers: &HeaderMap, format: Embedded) -> Result<(), ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let other = match format {
        Embedded::Json => "binary",
        Embedded::Binary => "json",
    };
    let wants_other = accept
        .split(',')
        .map(|a| a.split(';').next().unwrap_or("").trim())
        .all(|a| a.starts_with(&format!("application/vnd.kafka.{other}.")));
    if wants_other {
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            40601,
            "NotAcceptable",
            format!(
                "this consumer instance was created with format {:?}: accept {}",
                match format {
                    Embedded::Json => "json",
                    Embedded::Binary => "binary",
                },
                format.media()
            ),
        ))
    } else {
        Ok(())
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OffsetIn {
    topic: String,
    partition: u32,
    offset: u64,
    /// Accepted for compatibility; not kept.
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Offsets {
    offsets: Vec<OffsetIn>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartitionIn {
    topic: String,
    partition: u32,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Partitions {
    partitions: Vec<PartitionIn>,
}

fn member_of<'a>(st: &'a mut Subscribed, topic: &str) -> Result<&'a mut Member, ApiError> {
    st.members
        .iter_mut()
        .find(|m| m.topic == topic)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                40401,
                "NotFound",
                format!("this consumer instance is not subscribed to topic '{topic}'"),
            )
        })
}

#[utoipa::path(post, path = "/consumers/{group}/instances/{instance}/offsets", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), request_body(content = Option<Offsets>, description = "Offsets to commit; none commits what fetches returned", content_type = "application/vnd.kafka.v2+json"), responses((status = 204, description = "Committed"), crate::openapi::Errors))]
pub(crate) async fn commit(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    OptBody(req): OptBody<Offsets>,
) -> Result<StatusCode, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    match req {
        None => commit_returned(&mut st)?,
        Some(req) => {
            for o in &req.offsets {
                member_of(&mut st, &o.topic)?
                    .consumer
                    .commit_offsets(&[(o.partition, o.offset)])?;
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/consumers/{group}/instances/{instance}/offsets", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), request_body(content = Option<Partitions>, content_type = "application/vnd.kafka.v2+json"), responses((status = 200, body = crate::openapi::CommittedOffsets), crate::openapi::Errors))]
pub(crate) async fn committed(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    OptBody(req): OptBody<Partitions>,
) -> Result<Json<Value>, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    let asked: Vec<(String, u32)> = match req {
        Some(r) => r
            .partitions
            .into_iter()
            .map(|p| (p.topic, p.partition))
            .collect(),
        None => {
            let mut all = Vec::new();
            for m in &mut st.members {
                all.extend(
                    m.consumer
                        .assignment()
                        .into_iter()
                        .map(|p| (m.topic.clone(), p)),
                );
            }
            all
        }
    };
    let mut offsets = Vec::new();
    for (topic, p) in asked {
        let port = s.topic(&topic)?;
        if let Some(Some(o)) = port
            .committed(&inst.group)
            .and_then(|c| c.get(p as usize).copied())
        {
            offsets.push(json!({ "topic": topic, "partition": p, "offset": o, "metadata": "" }));
        }
    }
    Ok(Json(json!({ "offsets": offsets })))
}

fn seek_to(st: &mut Subscribed, topic: &str, p: u32, offset: u64) -> Result<(), ApiError> {
    member_of(st, topic)?.consumer.seek(p, offset)?;
    st.leftovers
        .retain(|(t, o)| !(t == topic && o.partition == p));
    Ok(())
}

#[utoipa::path(post, path = "/consumers/{group}/instances/{instance}/positions", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), request_body(content = Offsets, content_type = "application/vnd.kafka.v2+json"), responses((status = 204, description = "Moved"), crate::openapi::Errors))]
pub(crate) async fn seek(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    Body(req): Body<Offsets>,
) -> Result<StatusCode, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    for o in &req.offsets {
        seek_to(&mut st, &o.topic, o.partition, o.offset)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn seek_edge(
    s: Arc<State>,
    group: String,
    id: String,
    req: Partitions,
    end: bool,
) -> Result<StatusCode, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    for p in &req.partitions {
        let port = member_of(&mut st, &p.topic)?.port.clone();
        let offsets = if end { port.end() } else { port.earliest() };
        let offset = *offsets.get(p.partition as usize).ok_or_else(|| {
            crate::topics::no_partition(&p.topic, &p.partition, port.partitions())
        })?;
        seek_to(&mut st, &p.topic, p.partition, offset)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/consumers/{group}/instances/{instance}/positions/beginning", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), request_body(content = Partitions, content_type = "application/vnd.kafka.v2+json"), responses((status = 204, description = "Moved"), crate::openapi::Errors))]
pub(crate) async fn seek_beginning(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    Body(req): Body<Partitions>,
) -> Result<StatusCode, ApiError> {
    seek_edge(s, group, id, req, false).await
}

#[utoipa::path(post, path = "/consumers/{group}/instances/{instance}/positions/end", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), request_body(content = Partitions, content_type = "application/vnd.kafka.v2+json"), responses((status = 204, description = "Moved"), crate::openapi::Errors))]
pub(crate) async fn seek_end(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
    Body(req): Body<Partitions>,
) -> Result<StatusCode, ApiError> {
    seek_edge(s, group, id, req, true).await
}

#[utoipa::path(get, path = "/consumers/{group}/instances/{instance}/assignments", tag = "consumers", params(("group" = String, Path, description = "The consumer group"), ("instance" = String, Path, description = "The consumer instance")), responses((status = 200, body = crate::openapi::Assignments), crate::openapi::Errors))]
pub(crate) async fn assignments(
    S(s): S<Arc<State>>,
    P((group, id)): P<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let inst = s.consumers.get(&s, &group, &id)?;
    let mut st = inst.state.lock().await;
    let mut partitions = Vec::new();
    for m in &mut st.members {
        for p in m.consumer.assignment() {
            partitions.push(json!({ "topic": m.topic, "partition": p }));
        }
    }
    Ok(Json(json!({ "partitions": partitions })))
}
