//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the
//! handlers' annotations and the shapes below (what the handlers write).

#![allow(dead_code)]

use axum::Json;
use serde_json::Value;
use utoipa::{IntoResponses, OpenApi, ToSchema};

use crate::error::ApiError;

/// A link to a related collection.
#[derive(ToSchema)]
pub(crate) struct Related {
    related: String,
}

/// A resource's own link and name.
#[derive(ToSchema)]
pub(crate) struct Metadata {
    #[schema(rename = "self")]
    self_: String,
    resource_name: String,
}

/// A list's own link.
#[derive(ToSchema)]
pub(crate) struct ListMetadata {
    #[schema(rename = "self")]
    self_: String,
    next: Option<String>,
}

/// The bus, as REST Proxy's one cluster.
#[derive(ToSchema)]
pub(crate) struct Cluster {
    kind: String,
    metadata: Metadata,
    cluster_id: String,
    controller: Option<Value>,
    acls: Related,
    brokers: Related,
    broker_configs: Related,
    consumer_groups: Related,
    topics: Related,
    partition_reassignments: Related,
}

#[derive(ToSchema)]
pub(crate) struct ClusterList {
    kind: String,
    metadata: ListMetadata,
    data: Vec<Cluster>,
}

/// A topic.
#[derive(ToSchema)]
pub(crate) struct Topic {
    kind: String,
    metadata: Metadata,
    cluster_id: String,
    topic_name: String,
    is_internal: bool,
    replication_factor: i32,
    partitions_count: u32,
    partitions: Related,
    configs: Related,
    partition_reassignments: Related,
    authorized_operations: Vec<String>,
}

#[derive(ToSchema)]
pub(crate) struct TopicList {
    kind: String,
    metadata: ListMetadata,
    data: Vec<Topic>,
}

/// A partition, with Ringlet's offsets: the oldest retained record and the
/// next offset to be written.
#[derive(ToSchema)]
pub(crate) struct Partition {
    kind: String,
    metadata: Metadata,
    cluster_id: String,
    topic_name: String,
    partition_id: u32,
    leader: Option<Value>,
    replicas: Related,
    reassignment: Related,
    earliest_offset: Option<u64>,
    end_offset: Option<u64>,
}

#[derive(ToSchema)]
pub(crate) struct PartitionList {
    kind: String,
    metadata: ListMetadata,
    data: Vec<Partition>,
}

/// One config of a topic.
#[derive(ToSchema)]
pub(crate) struct TopicConfigEntry {
    kind: String,
    metadata: Metadata,
    cluster_id: String,
    topic_name: String,
    name: String,
    value: String,
    is_default: bool,
    is_read_only: bool,
    is_sensitive: bool,
    source: String,
    synonyms: Vec<Value>,
}

#[derive(ToSchema)]
pub(crate) struct TopicConfigList {
    kind: String,
    metadata: ListMetadata,
    data: Vec<TopicConfigEntry>,
}

/// A key's or value's format and size in bytes.
#[derive(ToSchema)]
pub(crate) struct Shape {
    #[schema(rename = "type")]
    kind: String,
    size: u64,
}

/// Where a record was appended. Several records in one body (streaming
/// mode) are answered with one of these (or an error body) per line.
#[derive(ToSchema)]
pub(crate) struct ProduceResult {
    error_code: u32,
    cluster_id: String,
    topic_name: String,
    partition_id: u32,
    offset: u64,
    timestamp: String,
    key: Option<Shape>,
    value: Option<Shape>,
}

#[derive(ToSchema)]
pub(crate) struct CreatedConsumer {
    instance_id: String,
    base_uri: String,
}

/// A record for a v2 consumer: key and value as the instance's format says.
#[derive(ToSchema)]
pub(crate) struct ConsumerRecord {
    topic: String,
    key: Option<String>,
    value: Value,
    partition: u32,
    offset: u64,
    /// Why the value could not be shown (it is then null).
    error: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct SubscribedTopics {
    topics: Vec<String>,
}

#[derive(ToSchema)]
pub(crate) struct CommittedOffset {
    topic: String,
    partition: u32,
    offset: u64,
    metadata: String,
}

#[derive(ToSchema)]
pub(crate) struct CommittedOffsets {
    offsets: Vec<CommittedOffset>,
}

#[derive(ToSchema)]
pub(crate) struct AssignedPartition {
    topic: String,
    partition: u32,
}

#[derive(ToSchema)]
pub(crate) struct Assignments {
    partitions: Vec<AssignedPartition>,
}

/// A queue, its configuration and its figures.
#[derive(ToSchema)]
pub(crate) struct Queue {
    kind: String,
    queue_name: String,
    capacity: u64,
    visibility_timeout_ms: u64,
    max_deliveries: Option<u32>,
    dead_letter: Option<String>,
    figures: std::collections::BTreeMap<String, u64>,
}

#[derive(ToSchema)]
pub(crate) struct QueueList {
    kind: String,
    data: Vec<Queue>,
}

/// `{"type", "data"}`: BINARY data is base64.
#[derive(ToSchema)]
pub(crate) struct TypedData {
    #[schema(rename = "type")]
    kind: String,
    data: Value,
}

#[derive(ToSchema)]
pub(crate) struct HeaderOut {
    name: String,
    /// Base64.
    value: String,
}

/// A delivery: settle it with its receipt.
#[derive(ToSchema)]
pub(crate) struct DeliveryOut {
    receipt: String,
    attempt: u32,
    key: Option<TypedData>,
    headers: Vec<HeaderOut>,
    value: Option<TypedData>,
    enqueued_at: String,
    deadline: String,
    error: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Deliveries {
    deliveries: Vec<DeliveryOut>,
}

#[derive(ToSchema)]
pub(crate) struct SettleResult {
    receipt: String,
    error_code: u32,
    error: Option<String>,
    message: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct Settled {
    settled: u64,
    results: Vec<SettleResult>,
}

#[derive(ToSchema)]
pub(crate) struct SendResult {
    error_code: u32,
    queue_name: String,
    delay_ms: Option<u64>,
}

/// The error answers every path may give.
#[derive(IntoResponses)]
pub(crate) enum Errors {
    /// The request cannot be read (malformed JSON, a bad parameter).
    #[response(status = 400)]
    BadRequest(ApiError),
    /// A token is required and was not given.
    #[response(status = 401)]
    Unauthorized(ApiError),
    /// The topic or queue is served for reading only.
    #[response(status = 403)]
    Forbidden(ApiError),
    /// No such cluster, topic, partition, queue, consumer instance or receipt.
    #[response(status = 404)]
    NotFound(ApiError),
    /// The request asks for another embedded format than the consumer's.
    #[response(status = 406)]
    NotAcceptable(ApiError),
    /// A conflict with the bus's state (exists, Expired, AlreadySettled, NotOwner, TypeMismatch, Closed).
    #[response(status = 409)]
    Conflict(ApiError),
    /// The body is larger than the server's limit, or has too many records.
    #[response(status = 413)]
    TooLarge(ApiError),
    /// The body is not JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ApiError),
    /// Well formed, but invalid (a missing or unknown field, a bad name or config).
    #[response(status = 422)]
    Invalid(ApiError),
    /// A full topic or queue, or a limit of the server.
    #[response(status = 429)]
    TooMany(ApiError),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ringlet over HTTP",
        description = "A Ringlet bus served the way Confluent's REST Proxy serves a Kafka cluster (v3 produce and topics, v2 consumers), with Ringlet's queues and live Server-Sent Event streams.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        crate::topics::clusters,
        crate::topics::cluster,
        crate::topics::list,
        crate::topics::create,
        crate::topics::describe,
        crate::topics::delete,
        crate::topics::partitions,
        crate::topics::partition,
        crate::topics::configs,
        crate::produce::records,
        crate::events::stream,
        crate::consumers::create,
        crate::consumers::remove,
        crate::consumers::subscribe,
        crate::consumers::subscription,
        crate::consumers::unsubscribe,
        crate::consumers::records,
        crate::consumers::commit,
        crate::consumers::committed,
        crate::consumers::seek,
        crate::consumers::seek_beginning,
        crate::consumers::seek_end,
        crate::consumers::assignments,
        crate::queues::list,
        crate::queues::create,
        crate::queues::describe,
        crate::queues::delete,
        crate::queues::send,
        crate::queues::receive,
        crate::queues::ack,
        crate::queues::nack,
        crate::queues::reject,
        openapi,
    ),
    components(schemas(ApiError)),
    tags(
        (name = "clusters", description = "The bus as one cluster"),
        (name = "topics", description = "REST Proxy v3 topics and produce"),
        (name = "consumers", description = "REST Proxy v2 consumer instances"),
        (name = "events", description = "Live Server-Sent Event streams"),
        (name = "queues", description = "Ringlet's queues"),
    )
)]
pub(crate) struct Doc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "clusters",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object), Errors))]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(Doc::openapi())
}
