//! REST Proxy v3 clusters and topics: list, describe, create, delete.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as S;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ringlet::{OnFull, TopicConfig};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{Body, P};
use crate::ports::TopicPort;
use crate::value::HttpValue;
use crate::{base_url, State};

fn cluster_json(s: &State, base: &str) -> Value {
    let id = &s.config.cluster_id;
    let me = format!("{base}/v3/clusters/{id}");
    json!({
        "kind": "KafkaCluster",
        "metadata": { "self": me, "resource_name": format!("crn:///kafka={id}") },
        "cluster_id": id,
        "controller": null,
        "acls": { "related": format!("{me}/acls") },
        "brokers": { "related": format!("{me}/brokers") },
        "broker_configs": { "related": format!("{me}/broker-configs") },
        "consumer_groups": { "related": format!("{me}/consumer-groups") },
        "topics": { "related": format!("{me}/topics") },
        "partition_reassignments": { "related": format!("{me}/topics/-/partitions/-/reassignment") },
    })
}

#[utoipa::path(get, path = "/v3/clusters", tag = "clusters", responses((status = 200, body = crate::openapi::ClusterList), crate::openapi::Errors))]
pub(crate) async fn clusters(S(s): S<Arc<State>>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    Json(json!({
        "kind": "KafkaClusterList",
        "metadata": { "self": format!("{base}/v3/clusters"), "next": null },
        "data": [cluster_json(&s, &base)],
    }))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}", tag = "clusters", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)")), responses((status = 200, body = crate::openapi::Cluster), crate::openapi::Errors))]
pub(crate) async fn cluster(
    S(s): S<Arc<State>>,
    P(cluster): P<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    s.cluster(&cluster)?;
    Ok(Json(cluster_json(&s, &base_url(&headers))))
}

fn topic_json(s: &State, base: &str, name: &str, partitions: u32) -> Value {
    let id = &s.config.cluster_id;
    let me = format!("{base}/v3/clusters/{id}/topics/{name}");
    json!({
        "kind": "KafkaTopic",
        "metadata": { "self": me, "resource_name": format!("crn:///kafka={id}/topic={name}") },
        "cluster_id": id,
        "topic_name": name,
        "is_internal": name.starts_with("__"),
        "replication_factor": 1,
        "partitions_count": partitions,
        "partitions": { "related": format!("{me}/partitions") },
        "configs": { "related": format!("{me}/configs") },
        "partition_reassignments": { "related": format!("{me}/partitions/-/reassignment") },
        "authorized_operations": [],
    })
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}/topics", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)")), responses((status = 200, body = crate::openapi::TopicList), crate::openapi::Errors))]
pub(crate) async fn list(
    S(s): S<Arc<State>>,
    P(cluster): P<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    s.cluster(&cluster)?;
    let base = base_url(&headers);
    let data: Vec<Value> = s
        .bus
        .snapshot()
        .topics
        .iter()
        .map(|t| topic_json(&s, &base, &t.name, t.config.partitions))
        .collect();
    Ok(Json(json!({
        "kind": "KafkaTopicList",
        "metadata": { "self": format!("{base}/v3/clusters/{cluster}/topics"), "next": null },
        "data": data,
    })))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}/topics/{topic}", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic")), responses((status = 200, body = crate::openapi::Topic), crate::openapi::Errors))]
pub(crate) async fn describe(
    S(s): S<Arc<State>>,
    P((cluster, topic)): P<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    s.cluster(&cluster)?;
    let port = s.topic(&topic)?;
    Ok(Json(topic_json(
        &s,
        &base_url(&headers),
        &topic,
        port.partitions(),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTopic {
    topic_name: String,
    #[serde(default)]
    partitions_count: Option<u32>,
    /// Accepted for compatibility: a bus keeps one copy.
    #[serde(default)]
    #[allow(dead_code)]
    replication_factor: Option<i32>,
    #[serde(default)]
    configs: Vec<ConfigEntry>,
    /// Accepted for compatibility (REST Proxy's `validate_only`): only checks.
    #[serde(default)]
    validate_only: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigEntry {
    name: String,
    value: Option<String>,
}

/// Kafka configs accepted for compatibility that mean nothing in one process.
const WITHOUT_EFFECT: [&str; 5] = [
    "compression.type",
    "min.insync.replicas",
    "segment.bytes",
    "segment.ms",
    "unclean.leader.election.enable",
];

const SUPPORTED: &str = "retention.ms, cleanup.policy, ringlet.capacity, ringlet.on_full";

/// The topic config and whether it is compacted, from REST Proxy configs.
fn topic_config(partitions: u32, configs: &[ConfigEntry]) -> Result<TopicConfig, ApiError> {
    let mut config = TopicConfig::default().partitions(partitions);
    for c in configs {
        let value = c.value.as_deref().unwrap_or("");
        let bad = |why: &str| ApiError::invalid(format!("config {}={value:?}: {why}", c.name));
        match c.name.as_str() {
            "retention.ms" => {
                let ms: i64 = value
                    .parse()
                    .map_err(|_| bad("expected milliseconds, or -1 for no limit"))?;
                match ms {
                    -1 => {}
                    1.. => config = config.max_age(Duration::from_millis(ms as u64)),
                    _ => return Err(bad("expected milliseconds > 0, or -1 for no limit")),
                }
            }
            "cleanup.policy" => match value {
                "delete" => {}
                "compact" => config = config.compacted(true),
                _ => return Err(bad("expected delete or compact")),
            },
            "ringlet.capacity" => {
                let n: usize = value.parse().map_err(|_| bad("expected a record count"))?;
                config = config.capacity(n);
            }
            "ringlet.on_full" => {
                let p: OnFull = value
                    .parse()
                    .map_err(|_| bad("expected overwrite, block, reject or keep"))?;
                config = config.on_full(p);
            }
            n if WITHOUT_EFFECT.contains(&n) => {}
            _ => {
                return Err(ApiError::invalid(format!(
                    "config '{}' is not supported: the supported ones are {SUPPORTED}",
                    c.name
                )))
            }
        }
    }
    Ok(config)
}

/// Creates a topic as the config's [`Create`](crate::Create) makes them.
pub(crate) fn open_http_topic(
    s: &State,
    name: &str,
    config: TopicConfig,
) -> Result<(), ringlet::Error> {
    s.config
        .creator
        .topic(&s.bus, name, config, s.kept.is_some())
}

#[utoipa::path(post, path = "/v3/clusters/{cluster}/topics", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)")), request_body = CreateTopic, responses((status = 201, body = crate::openapi::Topic), crate::openapi::Errors))]
pub(crate) async fn create(
    S(s): S<Arc<State>>,
    P(cluster): P<String>,
    headers: HeaderMap,
    Body(req): Body<CreateTopic>,
) -> Result<Response, ApiError> {
    s.cluster(&cluster)?;
    let partitions = req.partitions_count.unwrap_or(1);
    let config = topic_config(partitions, &req.configs)?;
    s.refuse_existing(&req.topic_name)?;
    if req.validate_only {
        // The core checks the name and the config when it creates; a scratch
        // bus does that without touching this one.
        let scratch = ringlet::Bus::new();
        scratch.topic::<HttpValue>(&req.topic_name, config)?;
    } else {
        open_http_topic(&s, &req.topic_name, config.clone())?;
        if let Some(kept) = &s.kept {
            kept.update(|m| {
                m.topics.insert(req.topic_name.clone(), config);
            })?;
        }
    }
    let body = topic_json(&s, &base_url(&headers), &req.topic_name, partitions);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(delete, path = "/v3/clusters/{cluster}/topics/{topic}", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic")), responses((status = 204, description = "Deleted"), crate::openapi::Errors))]
pub(crate) async fn delete(
    S(s): S<Arc<State>>,
    P((cluster, topic)): P<(String, String)>,
) -> Result<StatusCode, ApiError> {
    s.writable(&topic)?;
    s.cluster(&cluster)?;
    s.topic(&topic)?;
    s.bus.delete(&topic)?;
    if let Some(kept) = &s.kept {
        kept.update(|m| {
            m.topics.remove(&topic);
        })?;
    }
    Ok(StatusCode::NO_CONTENT)
}

fn partition_json(s: &State, base: &str, topic: &str, port: &dyn TopicPort, p: u32) -> Value {
    let id = &s.config.cluster_id;
    let me = format!("{base}/v3/clusters/{id}/topics/{topic}/partitions/{p}");
    let (earliest, end) = (port.earliest(), port.end());
    json!({
        "kind": "KafkaPartition",
        "metadata": { "self": me, "resource_name": format!("crn:///kafka={id}/topic={topic}/partition={p}") },
        "cluster_id": id,
        "topic_name": topic,
        "partition_id": p,
        "leader": null,
        "replicas": { "related": format!("{me}/replicas") },
        "reassignment": { "related": format!("{me}/reassignment") },
        "earliest_offset": earliest.get(p as usize),
        "end_offset": end.get(p as usize),
    })
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}/topics/{topic}/partitions", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic")), responses((status = 200, body = crate::openapi::PartitionList), crate::openapi::Errors))]
pub(crate) async fn partitions(
    S(s): S<Arc<State>>,
    P((cluster, topic)): P<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    s.cluster(&cluster)?;
    let port = s.topic(&topic)?;
    let base = base_url(&headers);
    let data: Vec<Value> = (0..port.partitions())
        .map(|p| partition_json(&s, &base, &topic, &*port, p))
        .collect();
    Ok(Json(json!({
        "kind": "KafkaPartitionList",
        "metadata": { "self": format!("{base}/v3/clusters/{cluster}/topics/{topic}/partitions"), "next": null },
        "data": data,
    })))
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}/topics/{topic}/partitions/{partition}", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic"), ("partition" = String, Path, description = "The partition number")), responses((status = 200, body = crate::openapi::Partition), crate::openapi::Errors))]
pub(crate) async fn partition(
    S(s): S<Arc<State>>,
    P((cluster, topic, p)): P<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    s.cluster(&cluster)?;
    let port = s.topic(&topic)?;
    let p = p
        .parse::<u32>()
        .ok()
        .filter(|p| *p < port.partitions())
        .ok_or_else(|| no_partition(&topic, &p, port.partitions()))?;
    Ok(Json(partition_json(
        &s,
        &base_url(&headers),
        &topic,
        &*port,
        p,
    )))
}

pub(crate) fn no_partition(topic: &str, p: &dyn std::fmt::Display, n: u32) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        40402,
        "NotFound",
        format!(
            "topic '{topic}' has no partition {p}: it has {n} (0 to {})",
            n.saturating_sub(1)
        ),
    )
}

#[utoipa::path(get, path = "/v3/clusters/{cluster}/topics/{topic}/configs", tag = "topics", params(("cluster" = String, Path, description = "The cluster id (GET /v3/clusters)"), ("topic" = String, Path, description = "The topic")), responses((status = 200, body = crate::openapi::TopicConfigList), crate::openapi::Errors))]
pub(crate) async fn configs(
    S(s): S<Arc<State>>,
    P((cluster, topic)): P<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    s.cluster(&cluster)?;
    let port = s.topic(&topic)?;
    let config = port.config();
    let base = base_url(&headers);
    let me = format!("{base}/v3/clusters/{cluster}/topics/{topic}/configs");
    let entry = |name: &str, value: String, is_default: bool| {
        json!({
            "kind": "KafkaTopicConfig",
            "metadata": { "self": format!("{me}/{name}"), "resource_name": format!("crn:///kafka={cluster}/topic={topic}/config={name}") },
            "cluster_id": cluster,
            "topic_name": topic,
            "name": name,
            "value": value,
            "is_default": is_default,
            "is_read_only": true,
            "is_sensitive": false,
            "source": if is_default { "DEFAULT_CONFIG" } else { "DYNAMIC_TOPIC_CONFIG" },
            "synonyms": [],
        })
    };
    let defaults = TopicConfig::default();
    let data = vec![
        entry(
            "cleanup.policy",
            if config.compacted {
                "compact"
            } else {
                "delete"
            }
            .to_owned(),
            !config.compacted,
        ),
        entry(
            "retention.ms",
            config
                .max_age
                .map_or("-1".to_owned(), |d| d.as_millis().to_string()),
            config.max_age.is_none(),
        ),
        entry(
            "ringlet.capacity",
            config.capacity.to_string(),
            config.capacity == defaults.capacity,
        ),
        entry(
            "ringlet.on_full",
            config.on_full.as_str().to_owned(),
            config.on_full == defaults.on_full,
        ),
    ];
    Ok(Json(json!({
        "kind": "KafkaTopicConfigList",
        "metadata": { "self": me, "next": null },
        "data": data,
    })))
}
