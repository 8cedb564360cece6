//! REST Proxy's documented request bodies are accepted as they are, and every
//! field of its documented responses comes back with the documented value.

mod common;

use ringlet::Bus;
use ringlet_http::HttpConfig;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every field of `documented` is in `got` with the same value (recursively;
/// arrays element by element). Ringlet may add fields.
fn assert_has(got: &Value, documented: &Value, at: &str) {
    match (got, documented) {
        (Value::Object(g), Value::Object(d)) => {
            for (k, v) in d {
                let g = g
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} is missing in {got}"));
                assert_has(g, v, &format!("{at}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(d)) => {
            assert_eq!(g.len(), d.len(), "{at}: {got} vs {documented}");
            for (i, (g, d)) in g.iter().zip(d).enumerate() {
                assert_has(g, d, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(got, documented, "at {at}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_produce_example() {
    let f = fixture("v3-produce.json");
    let cluster = f["cluster_id"].as_str().unwrap();
    let topic = f["topic"].as_str().unwrap();
    let bus = Bus::new();
    let partitions = f["partitions"].as_u64().unwrap() as u32;
    bus.topic::<ringlet_http::HttpValue>(
        topic,
        ringlet::TopicConfig::default().partitions(partitions),
    )
    .unwrap();
    let s = common::serve(bus.clone(), HttpConfig::default().cluster_id(cluster)).await;
    let (status, got) = s
        .post(
            &format!("/v3/clusters/{cluster}/topics/{topic}/records"),
            &f["request"],
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_has(&got, &f["response"], "response");
    // And what the bus holds is what was sent.
    let t = bus.get_topic::<ringlet_http::HttpValue>(topic).unwrap();
    let rec = t
        .subscribe(ringlet::Start::Earliest)
        .unwrap()
        .try_recv()
        .unwrap();
    assert_eq!(rec.key.unwrap().as_bytes(), b"foobar");
    assert_eq!(rec.headers.get("Header-2"), Some(&b"Header-2"[..]));
    assert_eq!(rec.timestamp, 1_612_552_482_000);
    assert_eq!(
        rec.value,
        Some(ringlet_http::Payload::Json(Value::String(
            "Bonjour le monde!".into()
        )))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_create_topic_example() {
    let f = fixture("v3-create-topic.json");
    let cluster = f["cluster_id"].as_str().unwrap();
    let bus = Bus::new();
    let s = common::serve(bus.clone(), HttpConfig::default().cluster_id(cluster)).await;
    let r = s
        .client
        .post(s.at(&format!("/v3/clusters/{cluster}/topics")))
        .header("content-type", "application/json")
        .header("host", "localhost:9391")
        .body(f["request"].to_string())
        .send()
        .await
        .unwrap();
    let (status, got) = common::answer(r).await;
    assert_eq!(status, 201, "{got}");
    assert_has(&got, &f["response"], "response");
    let t = bus.get_topic::<ringlet_http::HttpValue>("topic-X").unwrap();
    assert!(t.config().compacted);
    assert_eq!(t.partitions(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_consume_example() {
    let f = fixture("v2-consume.json");
    let group = f["group"].as_str().unwrap();
    let host = f["host"].as_str().unwrap();
    let bus = Bus::new();
    bus.topic::<ringlet_http::HttpValue>("test", ringlet::TopicConfig::default().partitions(2))
        .unwrap();
    let s = common::serve(bus, HttpConfig::default()).await;
    let v2 = "application/vnd.kafka.v2+json";
    let req = |method: reqwest::Method, path: String, body: &Value| {
        let r = s
            .client
            .request(method, s.at(&path))
            .header("content-type", v2)
            .header("host", host);
        if body.is_null() {
            r
        } else {
            r.body(body.to_string())
        }
    };
    let (status, got) = common::answer(
        req(
            reqwest::Method::POST,
            format!("/consumers/{group}"),
            &f["create"]["request"],
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, f["create"]["response"]);
    let base = format!("/consumers/{group}/instances/my_consumer");
    let (status, _) = common::answer(
        req(
            reqwest::Method::POST,
            format!("{base}/subscription"),
            &f["subscribe"]["request"],
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    for p in f["produced"].as_array().unwrap() {
        let (status, got) = s.post("/v3/clusters/ringlet/topics/test/records", p).await;
        assert_eq!(status, 200, "{got}");
    }
    let r = s
        .client
        .get(s.at(&format!("{base}/records?timeout=3000")))
        .header("accept", "application/vnd.kafka.json.v2+json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.kafka.json.v2+json"
    );
    let (status, mut got) = common::answer(r).await;
    assert_eq!(status, 200, "{got}");
    // Partitions are taken round robin; the documented list is by partition.
    got.as_array_mut()
        .unwrap()
        .sort_by_key(|r| r["partition"].as_u64());
    assert_eq!(got, f["records"]["response"]);
    let (status, _) = common::answer(
        req(
            reqwest::Method::POST,
            format!("{base}/offsets"),
            &f["commit"]["request"],
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, got) = common::answer(
        req(
            reqwest::Method::GET,
            format!("{base}/offsets"),
            &f["offsets"]["request"],
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, f["offsets"]["response"]);
    let (status, _) = common::answer(
        req(reqwest::Method::DELETE, base.clone(), &Value::Null)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, got) = s.get(&format!("{base}/records")).await;
    assert_eq!((status, got["error_code"].as_u64()), (404, Some(40403)));
}
