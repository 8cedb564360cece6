//! The server through a real HTTP client: produce, topics, consumers, queues,
//! errors and limits.

mod common;

use std::time::Duration;

use ringlet::{Bus, ManualClock, Start, TopicConfig};
use ringlet_http::{HttpConfig, HttpValue, Json, Payload};
use serde_json::{json, Value};

const RECORDS: &str = "/v3/clusters/ringlet/topics/t/records";

async fn with_topic(partitions: u32) -> (Bus, common::Server) {
    let bus = Bus::new();
    bus.topic::<HttpValue>("t", TopicConfig::default().partitions(partitions))
        .unwrap();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    (bus, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_created_described_and_deleted() {
    let bus = Bus::new();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    let (status, got) = s.get("/v3/clusters").await;
    assert_eq!(status, 200);
    assert_eq!(got["data"][0]["cluster_id"], "ringlet");
    let body = json!({ "topic_name": "orders", "partitions_count": 3, "configs": [
        { "name": "retention.ms", "value": "60000" },
        { "name": "ringlet.capacity", "value": "100" },
        { "name": "ringlet.on_full", "value": "block" } ] });
    let (status, got) = s.post("/v3/clusters/ringlet/topics", &body).await;
    assert_eq!(status, 201, "{got}");
    let (status, got) = s.post("/v3/clusters/ringlet/topics", &body).await;
    assert_eq!(
        (status, got["error"].as_str()),
        (409, Some("AlreadyExists"))
    );
    let t = bus.get_topic::<HttpValue>("orders").unwrap();
    assert_eq!(t.config().capacity, 100);
    assert_eq!(t.config().max_age, Some(Duration::from_secs(60)));
    let (_, list) = s.get("/v3/clusters/ringlet/topics").await;
    assert_eq!(list["data"][0]["topic_name"], "orders");
    let (_, got) = s.get("/v3/clusters/ringlet/topics/orders").await;
    assert_eq!(got["partitions_count"], 3);
    for i in 0..5 {
        let r = json!({ "partition_id": 2, "value": { "data": i } });
        assert_eq!(
            s.post("/v3/clusters/ringlet/topics/orders/records", &r)
                .await
                .0,
            200
        );
    }
    let (_, got) = s
        .get("/v3/clusters/ringlet/topics/orders/partitions/2")
        .await;
    assert_eq!(
        (got["earliest_offset"].as_u64(), got["end_offset"].as_u64()),
        (Some(0), Some(5))
    );
    let (status, _) = s
        .get("/v3/clusters/ringlet/topics/orders/partitions/3")
        .await;
    assert_eq!(status, 404);
    let (_, got) = s.get("/v3/clusters/ringlet/topics/orders/configs").await;
    let configs: Vec<(String, String)> = got["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(configs.contains(&("retention.ms".into(), "60000".into())));
    assert!(configs.contains(&("ringlet.on_full".into(), "block".into())));
    assert_eq!(s.delete("/v3/clusters/ringlet/topics/orders").await.0, 204);
    assert_eq!(s.get("/v3/clusters/ringlet/topics/orders").await.0, 404);
    // Refusals.
    let bad = |configs: Value| json!({ "topic_name": "x", "configs": configs });
    for (body, status) in [
        (
            bad(json!([{ "name": "retention.bytes", "value": "1" }])),
            422,
        ),
        (
            bad(json!([{ "name": "retention.ms", "value": "soon" }])),
            422,
        ),
        (
            bad(json!([{ "name": "ringlet.on_full", "value": "explode" }])),
            422,
        ),
        (json!({ "topic_name": "bad name" }), 422),
        (json!({ "topic_name": "__journal" }), 422),
        (json!({ "topic_name": "x", "partitions_count": 0 }), 422),
        (json!({ "topic_name": "x", "colour": "red" }), 422),
        (json!({ "partitions_count": 1 }), 422),
    ] {
        let (got_status, got) = s.post("/v3/clusters/ringlet/topics", &body).await;
        assert_eq!(got_status, status, "{body} -> {got}");
        assert!(got["message"].as_str().unwrap().len() > 10, "{got}");
    }
    assert_eq!(s.get("/v3/clusters/other/topics").await.0, 404);
    assert!(bus.names().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_keeps_keys_headers_and_formats() {
    let (bus, s) = with_topic(4).await;
    let body = json!({ "key": { "type": "STRING", "data": "customer-42" },
        "value": { "type": "STRING", "data": "hello" } });
    let (status, got) = s.post(RECORDS, &body).await;
    assert_eq!(status, 200, "{got}");
    // Kafka's partitioner: the same key lands where Kafka puts it.
    assert_eq!(
        got["partition_id"].as_u64(),
        Some(u64::from(ringlet::partition_for_key(b"customer-42", 4)))
    );
    assert_eq!(got["value"], json!({ "type": "STRING", "size": 5 }));
    let (_, got) = s
        .post(
            RECORDS,
            &json!({ "value": { "type": "BINARY", "data": "AAEC" }, "timestamp": 1234 }),
        )
        .await;
    assert_eq!(got["timestamp"], "1970-01-01T00:00:01.234Z");
    let (_, got) = s
        .post(
            RECORDS,
            &json!({ "key": { "type": "JSON", "data": {"a": 1} } }),
        )
        .await;
    assert_eq!(got["value"], Value::Null);
    let mut sub = bus
        .get_topic::<HttpValue>("t")
        .unwrap()
        .subscribe(Start::Earliest)
        .unwrap();
    let mut got: Vec<_> = sub.try_recv_batch(10).unwrap();
    got.sort_by_key(|r| r.timestamp);
    assert_eq!(got[0].value, Some(Payload::Binary(vec![0, 1, 2])));
    assert_eq!(got.len(), 3);
    let keyed: Vec<_> = got.iter().filter_map(|r| r.key.clone()).collect();
    assert!(keyed.iter().any(|k| k.as_str() == Some(r#"{"a":1}"#)));
    // Streaming mode: several records in one body, answered in order.
    let body = "{\"value\":{\"data\":1}}\n{\"value\":{\"data\":2}}{\"partition_id\": 9}\n{\"value\":{\"data\":3}}";
    let (status, got) = s.post_raw(RECORDS, "application/json", body).await;
    assert_eq!(status, 200);
    let answers = common::lines(&got);
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[0]["error_code"], 200);
    assert_eq!(answers[2]["error_code"], 40402);
    assert_eq!(answers[3]["error_code"], 200);
    // Bad input: clear errors, nothing appended.
    let before = bus.get_topic::<HttpValue>("t").unwrap().len();
    for (body, ct, status) in [
        ("{\"value\":", "application/json", 400),
        (
            "{\"value\": {\"type\": \"AVRO\", \"data\": 1}}",
            "application/json",
            422,
        ),
        (
            "{\"value\": {\"type\": \"BINARY\", \"data\": \"***\"}}",
            "application/json",
            422,
        ),
        (
            "{\"value\": {\"type\": \"STRING\", \"data\": 5}}",
            "application/json",
            422,
        ),
        (
            "{\"headers\": [{\"name\": \"h\", \"value\": \"!\"}]}",
            "application/json",
            422,
        ),
        ("{\"timestamp\": \"yesterday\"}", "application/json", 422),
        ("{\"partition_id\": -1}", "application/json", 422),
        ("{\"value\": {\"data\": 1}}", "text/plain", 415),
        (
            "{\"value\": {\"data\": 1}}",
            "application/x-www-form-urlencoded",
            415,
        ),
        ("", "application/json", 400),
    ] {
        let (got_status, got) = s.post_raw(RECORDS, ct, body).await;
        assert_eq!(got_status, status, "{body} -> {got}");
    }
    assert_eq!(bus.get_topic::<HttpValue>("t").unwrap().len(), before);
    assert_eq!(
        s.post(RECORDS.replace("/t/", "/nope/").as_str(), &json!({}))
            .await
            .0,
        404
    );
    assert_eq!(s.get("/v3/nothing").await.0, 404);
    let r = s.client.put(s.at(RECORDS)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_errors_not_failures() {
    let bus = Bus::new();
    bus.topic::<HttpValue>("t", TopicConfig::default()).unwrap();
    let config = HttpConfig::default()
        .max_body_bytes(1000)
        .max_records_per_request(3)
        .max_consumers(2)
        .max_streams(1);
    let s = common::serve(bus.clone(), config).await;
    let big = json!({ "value": { "type": "STRING", "data": "x".repeat(2000) } });
    let (status, got) = s.post(RECORDS, &big).await;
    assert_eq!(
        (status, got["error"].as_str()),
        (413, Some("PayloadTooLarge"))
    );
    let four = "{}{}{}{}";
    assert_eq!(s.post_raw(RECORDS, "application/json", four).await.0, 413);
    // A chunked body (no Content-Length) is bounded too.
    let chunks =
        futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 100])));
    let (status, _) = s
        .post_raw(
            RECORDS,
            "application/json",
            reqwest::Body::wrap_stream(chunks),
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(bus.get_topic::<HttpValue>("t").unwrap().len(), 0);
    for i in 0..2 {
        assert_eq!(s.post(&format!("/consumers/g{i}"), &json!({})).await.0, 200);
    }
    let (status, got) = s.post("/consumers/g3", &json!({})).await;
    assert_eq!((status, got["error"].as_str()), (429, Some("TooMany")));
    let first = s
        .client
        .get(s.at("/v3/clusters/ringlet/topics/t/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let (status, _) = s.get("/v3/clusters/ringlet/topics/t/events").await;
    assert_eq!(status, 429);
    drop(first);
    // The slot comes back when the stream is dropped.
    let mut ok = false;
    for _ in 0..100 {
        let r = s
            .client
            .get(s.at("/v3/clusters/ringlet/topics/t/events"))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the event stream's slot was not given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_topics_convert_or_refuse() {
    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Order {
        id: u64,
        total: u64,
    }
    let bus = Bus::new();
    let orders = bus
        .topic::<Order>("orders", TopicConfig::default())
        .unwrap();
    bus.topic::<u8>("bytes", TopicConfig::default()).unwrap();
    bus.queue::<HttpValue>("jobs", Default::default()).unwrap();
    let s = common::serve(bus.clone(), HttpConfig::default().values::<Order>(Json)).await;
    let path = "/v3/clusters/ringlet/topics/orders/records";
    let (status, _) = s
        .post(
            path,
            &json!({ "value": { "data": { "id": 1, "total": 30 } } }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, got) = s
        .post(path, &json!({ "value": { "data": { "id": "one" } } }))
        .await;
    assert_eq!(status, 422, "{got}");
    assert!(got["message"].as_str().unwrap().contains("Order"), "{got}");
    assert_eq!(orders.len(), 1);
    let mut sub = orders.subscribe(Start::Earliest).unwrap();
    assert_eq!(sub.try_recv().unwrap().value, Order { id: 1, total: 30 });
    let (status, got) = s
        .post("/v3/clusters/ringlet/topics/bytes/records", &json!({}))
        .await;
    assert_eq!((status, got["error"].as_str()), (409, Some("TypeMismatch")));
    assert!(
        got["message"]
            .as_str()
            .unwrap()
            .contains("HttpConfig::values"),
        "{got}"
    );
    let (status, got) = s
        .post("/v3/clusters/ringlet/topics/jobs/records", &json!({}))
        .await;
    assert_eq!(status, 409);
    assert!(
        got["message"].as_str().unwrap().contains("is a queue"),
        "{got}"
    );
}

async fn consumer(s: &common::Server, group: &str, body: Value) -> String {
    let (status, got) = s.post(&format!("/consumers/{group}"), &body).await;
    assert_eq!(status, 200, "{got}");
    format!(
        "/consumers/{group}/instances/{}",
        got["instance_id"].as_str().unwrap()
    )
}

async fn fetch(s: &common::Server, base: &str, query: &str) -> Vec<Value> {
    let (status, got) = s.get(&format!("{base}/records?{query}")).await;
    assert_eq!(status, 200, "{got}");
    got.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_share_partitions_with_members_in_process() {
    let (bus, s) = with_topic(2).await;
    let t = bus.get_topic::<HttpValue>("t").unwrap();
    let base = consumer(
        &s,
        "billing",
        json!({ "format": "json", "auto.offset.reset": "earliest" }),
    )
    .await;
    assert_eq!(
        s.post(&format!("{base}/subscription"), &json!({ "topics": ["t"] }))
            .await
            .0,
        204
    );
    let (_, got) = s.get(&format!("{base}/assignments")).await;
    assert_eq!(got["partitions"].as_array().unwrap().len(), 2);
    // An in-process member of the same group takes one partition.
    let mut member = t.group("billing").unwrap().join().unwrap();
    assert_eq!(member.assignment().len(), 1);
    let (_, got) = s.get(&format!("{base}/assignments")).await;
    assert_eq!(got["partitions"].as_array().unwrap().len(), 1);
    let http_partition = got["partitions"][0]["partition"].as_u64().unwrap() as u32;
    for p in 0..2 {
        for i in 0..3 {
            t.publish_message(ringlet::Message::new(Some(Payload::Json(json!(i)))).partition(p))
                .unwrap();
        }
    }
    let got = fetch(&s, &base, "timeout=2000").await;
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r["partition"] == http_partition));
    assert_eq!(member.try_recv_batch(10).unwrap().len(), 3);
    // Committing what was returned, then reading the committed offsets.
    assert_eq!(
        s.post_raw(&format!("{base}/offsets"), "application/json", "")
            .await
            .0,
        204
    );
    let committed = t.group("billing").unwrap().committed();
    assert_eq!(committed[http_partition as usize], Some(3));
    // A seek goes back.
    let seek = json!({ "offsets": [{ "topic": "t", "partition": http_partition, "offset": 1 }] });
    assert_eq!(s.post(&format!("{base}/positions"), &seek).await.0, 204);
    assert_eq!(fetch(&s, &base, "timeout=1000").await.len(), 2);
    let not_mine =
        json!({ "offsets": [{ "topic": "t", "partition": 1 - http_partition, "offset": 0 }] });
    let (status, got) = s.post(&format!("{base}/offsets"), &not_mine).await;
    assert_eq!((status, got["error"].as_str()), (409, Some("NotOwner")));
    // Leaving gives the partition back to the in-process member.
    assert_eq!(s.delete(&base).await.0, 204);
    assert_eq!(member.assignment().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_never_loses_what_did_not_fit() {
    let (bus, s) = with_topic(1).await;
    let t = bus.get_topic::<HttpValue>("t").unwrap();
    let base = consumer(
        &s,
        "g",
        json!({ "format": "binary", "auto.offset.reset": "earliest" }),
    )
    .await;
    assert_eq!(
        s.post(&format!("{base}/subscription"), &json!({ "topics": ["t"] }))
            .await
            .0,
        204
    );
    for i in 0..100u8 {
        t.publish(Some(Payload::Binary(vec![i; 10]))).unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..100 {
        let got = fetch(&s, &base, "timeout=100&max_bytes=35").await;
        if got.is_empty() {
            break;
        }
        assert!(got.len() <= 3, "{got:?}");
        seen.extend(got.iter().map(|r| r["offset"].as_u64().unwrap()));
    }
    assert_eq!(seen, (0..100).collect::<Vec<u64>>());
    // Binary values are base64 of the bytes.
    let seek = json!({ "partitions": [{ "topic": "t", "partition": 0 }] });
    assert_eq!(
        s.post(&format!("{base}/positions/beginning"), &seek)
            .await
            .0,
        204
    );
    let got = fetch(&s, &base, "timeout=100&max_bytes=1").await;
    assert_eq!(got[0]["value"], "AAAAAAAAAAAAAA==");
    // The instance's format decides what it can accept.
    let r = s
        .client
        .get(s.at(&format!("{base}/records")))
        .header("accept", "application/vnd.kafka.json.v2+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 406);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patterns_pick_up_topics_created_later() {
    let bus = Bus::new();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    bus.topic::<HttpValue>("sales.eu", TopicConfig::default())
        .unwrap();
    bus.topic::<HttpValue>("hr.eu", TopicConfig::default())
        .unwrap();
    let base = consumer(
        &s,
        "g",
        json!({ "format": "json", "auto.offset.reset": "earliest" }),
    )
    .await;
    let (status, _) = s
        .post(
            &format!("{base}/subscription"),
            &json!({ "topic_pattern": "sales\\..*" }),
        )
        .await;
    assert_eq!(status, 204);
    bus.topic::<HttpValue>("sales.us", TopicConfig::default())
        .unwrap()
        .publish(Some(Payload::String("later".into())))
        .unwrap();
    bus.get_topic::<HttpValue>("hr.eu")
        .unwrap()
        .publish(None)
        .unwrap();
    let got = fetch(&s, &base, "timeout=1000").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0]["topic"].as_str(), got[0]["value"].as_str()),
        (Some("sales.us"), Some("later"))
    );
    let (_, sub) = s.get(&format!("{base}/subscription")).await;
    assert_eq!(sub["topics"], json!(["sales.eu", "sales.us"]));
    let (status, _) = s
        .post(
            &format!("{base}/subscription"),
            &json!({ "topic_pattern": "(" }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = s
        .post(
            &format!("{base}/subscription"),
            &json!({ "topics": ["missing"] }),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_consumer_instances_are_removed() {
    let (_bus, s) = {
        let bus = Bus::new();
        bus.topic::<HttpValue>("t", TopicConfig::default()).unwrap();
        let s = common::serve(
            bus.clone(),
            HttpConfig::default().consumer_timeout(Duration::from_millis(200)),
        )
        .await;
        (bus, s)
    };
    let base = consumer(&s, "g", json!({})).await;
    assert_eq!(s.get(&format!("{base}/subscription")).await.0, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, got) = s.get(&format!("{base}/subscription")).await;
    assert_eq!((status, got["error_code"].as_u64()), (404, Some(40403)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_hand_out_receipts_and_settle_them() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    let (status, got) = s
        .post("/v3/queues", &json!({ "queue_name": "jobs.dlq" }))
        .await;
    assert_eq!(status, 201, "{got}");
    let create = json!({ "queue_name": "jobs", "capacity": 10, "visibility_timeout_ms": 1000,
        "max_deliveries": 2, "dead_letter": "jobs.dlq" });
    assert_eq!(s.post("/v3/queues", &create).await.0, 201);
    assert_eq!(s.post("/v3/queues", &create).await.0, 409);
    let bad = json!({ "queue_name": "q2", "dead_letter": "missing" });
    assert_eq!(s.post("/v3/queues", &bad).await.0, 422);
    for i in 0..3 {
        let body = json!({ "key": { "type": "STRING", "data": format!("k{i}") }, "value": { "data": { "n": i } } });
        assert_eq!(s.post("/v3/queues/jobs/messages", &body).await.0, 200);
    }
    let (_, got) = s.post("/v3/queues/jobs/receive?max=2", &json!(null)).await;
    let ds = got["deliveries"].as_array().unwrap().clone();
    assert_eq!(ds.len(), 2);
    assert_eq!(
        ds[0]["value"],
        json!({ "type": "JSON", "data": { "n": 0 } })
    );
    assert_eq!(ds[0]["key"]["data"], "k0");
    assert_eq!(ds[0]["attempt"], 1);
    let r0 = ds[0]["receipt"].as_str().unwrap().to_owned();
    let r1 = ds[1]["receipt"].as_str().unwrap().to_owned();
    assert_eq!(
        s.post("/v3/queues/jobs/ack", &json!({ "receipts": [r0] }))
            .await
            .0,
        200
    );
    let (status, got) = s
        .post("/v3/queues/jobs/ack", &json!({ "receipts": [r0] }))
        .await;
    assert_eq!(
        (status, got["error"].as_str()),
        (409, Some("AlreadySettled"))
    );
    // A late settle: the visibility timeout passed.
    clock.advance(Duration::from_millis(1500));
    let (status, got) = s
        .post("/v3/queues/jobs/ack", &json!({ "receipts": [r1] }))
        .await;
    assert_eq!(
        (status, got["error"].as_str()),
        (409, Some("Expired")),
        "{got}"
    );
    let (status, _) = s
        .post("/v3/queues/jobs/ack", &json!({ "receipts": ["nope"] }))
        .await;
    assert_eq!(status, 404);
    // Redelivered first, with its attempt; a reject dead-letters it.
    let (_, got) = s.post("/v3/queues/jobs/receive", &json!(null)).await;
    let d = &got["deliveries"][0];
    assert_eq!(
        (d["value"]["data"]["n"].as_u64(), d["attempt"].as_u64()),
        (Some(1), Some(2))
    );
    let r = d["receipt"].as_str().unwrap();
    assert_eq!(
        s.post("/v3/queues/jobs/reject", &json!({ "receipts": [r] }))
            .await
            .0,
        200
    );
    let (_, got) = s.get("/v3/queues/jobs.dlq").await;
    assert_eq!(got["figures"]["ready"], 1);
    // A nack with a delay, and a wait that ends when the message is due.
    let (_, got) = s.post("/v3/queues/jobs/receive", &json!(null)).await;
    let r = got["deliveries"][0]["receipt"].as_str().unwrap().to_owned();
    assert_eq!(
        s.post(
            "/v3/queues/jobs/nack",
            &json!({ "receipts": [r], "delay_ms": 500 })
        )
        .await
        .0,
        200
    );
    let (_, got) = s.post("/v3/queues/jobs/receive", &json!(null)).await;
    assert_eq!(got["deliveries"].as_array().unwrap().len(), 0);
    let waiting = {
        let client = s.client.clone();
        let url = s.at("/v3/queues/jobs/receive?wait_ms=5000");
        tokio::spawn(async move { common::answer(client.post(url).send().await.unwrap()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    clock.advance(Duration::from_millis(600));
    let (_, got) = waiting.await.unwrap();
    assert_eq!(got["deliveries"][0]["value"]["data"]["n"], 2);
    let (_, list) = s.get("/v3/queues").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(s.delete("/v3/queues/jobs").await.0, 204);
    assert_eq!(s.get("/v3/queues/jobs").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_cors() {
    let bus = Bus::new();
    bus.topic::<HttpValue>("t", TopicConfig::default()).unwrap();
    let config = HttpConfig::default()
        .token("s3cret")
        .cors_origin("http://app.example");
    let s = common::serve(bus, config).await;
    let (status, got) = s.get("/v3/clusters").await;
    assert_eq!((status, got["error"].as_str()), (401, Some("Unauthorized")));
    for wrong in ["Bearer s3cre", "Bearer s3cret2", "s3cret", "Basic czNjcmV0"] {
        let r = s
            .client
            .get(s.at("/v3/clusters"))
            .header("authorization", wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{wrong}");
    }
    let r = s
        .client
        .get(s.at("/v3/clusters"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.at(RECORDS))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://app.example"
    );
    let r = s
        .client
        .get(s.at("/v3/clusters"))
        .bearer_auth("s3cret")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_off_unless_asked() {
    let (_bus, s) = with_topic(1).await;
    let r = s
        .client
        .get(s.at("/v3/clusters"))
        .header("origin", "http://app.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_and_huge_offsets_are_refused() {
    let (bus, s) = with_topic(1).await;
    let t = bus.get_topic::<HttpValue>("t").unwrap();
    for i in 0..3 {
        t.publish(Some(Payload::Json(json!(i)))).unwrap();
    }
    let base = consumer(
        &s,
        "g",
        json!({ "format": "json", "auto.offset.reset": "earliest" }),
    )
    .await;
    assert_eq!(
        s.post(&format!("{base}/subscription"), &json!({ "topics": ["t"] }))
            .await
            .0,
        204
    );
    let at =
        |offset: Value| json!({ "offsets": [{ "topic": "t", "partition": 0, "offset": offset }] });
    for (path, offset, status, error) in [
        ("positions", json!(u64::MAX), 422, "OutOfRange"),
        ("positions", json!(4), 422, "OutOfRange"),
        ("positions", json!(-1), 422, "BadRequest"),
        ("positions", json!(1e30), 422, "BadRequest"),
        ("offsets", json!(u64::MAX), 422, "OutOfRange"),
        ("offsets", json!(-5), 422, "BadRequest"),
    ] {
        let (got_status, got) = s.post(&format!("{base}/{path}"), &at(offset.clone())).await;
        assert_eq!(
            (got_status, got["error"].as_str()),
            (status, Some(error)),
            "{path} {offset}: {got}"
        );
    }
    let wrong_partition = json!({ "offsets": [{ "topic": "t", "partition": 7, "offset": 0 }] });
    let (status, got) = s.post(&format!("{base}/positions"), &wrong_partition).await;
    assert_eq!(
        (status, got["error"].as_str()),
        (422, Some("OutOfRange")),
        "{got}"
    );
    // Nothing moved: the instance still reads from the start.
    let got = fetch(&s, &base, "timeout=1000").await;
    assert_eq!(got.len(), 3);
    assert_eq!(t.group("g").unwrap().committed(), vec![None]);
}
