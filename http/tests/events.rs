//! Server-Sent Events read by a real HTTP client: ids, resuming with
//! `Last-Event-ID`, gaps, closed topics, slow readers.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use ringlet::{Bus, Message, TopicConfig};
use ringlet_http::{HttpConfig, HttpValue, Payload};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq)]
struct Sse {
    event: String,
    id: Option<String>,
    data: Value,
}

/// Reads events until `n` arrived (comments and keep-alives skipped).
struct Reader {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Reader {
    async fn open(s: &common::Server, path: &str, last_id: Option<&str>) -> Reader {
        let mut r = s
            .client
            .get(s.at(path))
            .header("accept", "text/event-stream");
        if let Some(id) = last_id {
            r = r.header("last-event-id", id);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        Reader {
            body: Box::pin(r.bytes_stream()),
            buf: String::new(),
        }
    }

    async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut e = Sse {
                    event: "message".into(),
                    id: None,
                    data: Value::Null,
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        e.event = v.trim().into();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        e.id = Some(v.trim().into());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        e.data = serde_json::from_str(v.trim()).unwrap();
                        any = true;
                    }
                }
                if any {
                    return Some(e);
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("no event within 10 s")?
                .unwrap();
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    async fn take(&mut self, n: usize) -> Vec<Sse> {
        let mut v = Vec::new();
        while v.len() < n {
            v.push(self.next().await.expect("the stream ended"));
        }
        v
    }
}

fn value(i: u64) -> HttpValue {
    Some(Payload::Json(json!({ "n": i })))
}

const EVENTS: &str = "/v3/clusters/ringlet/topics/t/events";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_follows_and_resumes_exactly() {
    let bus = Bus::new();
    let t = bus
        .topic::<HttpValue>("t", TopicConfig::default().partitions(3))
        .unwrap();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    for i in 0..6 {
        t.publish_message(Message::new(value(i)).partition((i % 3) as u32))
            .unwrap();
    }
    let mut r = Reader::open(&s, &format!("{EVENTS}?from=earliest"), None).await;
    let first = r.take(4).await;
    assert!(first.iter().all(|e| e.event == "record"));
    let last_id = first[3].id.clone().unwrap();
    drop(r); // the connection drops
             // Published while nobody was connected, and one more after.
    for i in 6..12 {
        t.publish_message(Message::new(value(i)).partition((i % 3) as u32))
            .unwrap();
    }
    let mut r = Reader::open(&s, &format!("{EVENTS}?from=earliest"), Some(&last_id)).await;
    let rest = r.take(8).await;
    let mut seen: Vec<u64> = first
        .iter()
        .chain(&rest)
        .map(|e| e.data["value"]["n"].as_u64().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..12).collect::<Vec<_>>(),
        "lost or repeated after resuming"
    );
    // Per partition, in order; the id names the last offset of every partition.
    let last = rest.last().unwrap();
    assert_eq!(last.id.as_deref(), Some("0:3,1:3,2:3"));
    assert_eq!(last.data["value_type"], "JSON");
    // A stream from latest sees only what comes after it.
    let mut r = Reader::open(&s, EVENTS, None).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    t.publish_message(
        Message::new(Some(Payload::String("new".into())))
            .key("k")
            .header("h", "v"),
    )
    .unwrap();
    let e = r.next().await.unwrap();
    assert_eq!(e.data["value"], "new");
    assert_eq!(e.data["key"], "k");
    assert_eq!(e.data["headers"], json!([{ "name": "h", "value": "dg==" }]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_are_counted_and_closing_ends_the_stream() {
    let bus = Bus::new();
    let t = bus
        .topic::<HttpValue>("t", TopicConfig::default().capacity(4))
        .unwrap();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    t.publish(value(0)).unwrap();
    // Resume after offset 0, but 10 more are published and only 4 retained.
    for i in 1..=10 {
        t.publish(value(i)).unwrap();
    }
    let mut r = Reader::open(&s, EVENTS, Some("0:0")).await;
    let e = r.next().await.unwrap();
    assert_eq!(e.event, "lagged");
    assert_eq!(
        e.data,
        json!({ "topic": "t", "partition": 0, "skipped": 6 })
    );
    let records = r.take(4).await;
    assert_eq!(records[0].data["offset"], 7);
    assert_eq!(records[3].id.as_deref(), Some("0:10"));
    t.close();
    let e = r.next().await.unwrap();
    assert_eq!(e.event, "closed");
    assert!(r.next().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_starts_are_refused() {
    let bus = Bus::new();
    let t = bus.topic::<HttpValue>("t", TopicConfig::default()).unwrap();
    t.publish(value(0)).unwrap();
    let s = common::serve(bus, HttpConfig::default()).await;
    for (path, id, status) in [
        (format!("{EVENTS}?from=soon"), None, 400),
        (format!("{EVENTS}?from=99"), None, 422),
        (format!("{EVENTS}?until=1"), None, 400),
        (EVENTS.to_owned(), Some("7:1"), 400),
        (EVENTS.to_owned(), Some("zero"), 400),
        (
            "/v3/clusters/ringlet/topics/none/events".to_owned(),
            None,
            404,
        ),
    ] {
        let mut r = s.client.get(s.at(&path));
        if let Some(id) = id {
            r = r.header("last-event-id", id);
        }
        let (got, body) = common::answer(r.send().await.unwrap()).await;
        assert_eq!(got, status, "{path} {id:?}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_holds_back_only_itself() {
    let bus = Bus::new();
    let t = bus
        .topic::<HttpValue>("t", TopicConfig::default().capacity(100_000))
        .unwrap();
    let s = common::serve(bus.clone(), HttpConfig::default()).await;
    // A reader that never reads its body.
    let stalled = s
        .client
        .get(s.at(&format!("{EVENTS}?from=earliest")))
        .send()
        .await
        .unwrap();
    let big = "x".repeat(1000);
    for _ in 0..20_000 {
        t.publish(Some(Payload::String(big.clone()))).unwrap();
    }
    // The server keeps serving others meanwhile.
    let mut r = Reader::open(&s, &format!("{EVENTS}?from=19990"), None).await;
    assert_eq!(r.take(10).await.len(), 10);
    let (status, _) = s.get("/v3/clusters").await;
    assert_eq!(status, 200);
    drop(stalled);
}
