//! Load on loopback with `wrk` (Debian's `wrk`): produce and consume through
//! ringlet-http against the floor — a bare axum handler over a `VecDeque`
//! behind a mutex — measured in the same run, printed as a table with ratios.
//!
//! ```text
//! cargo run --release -p ringlet-http --example load -- [--seconds 10] [--connections 16]
//! ```
//!
//! - **produce**: `POST …/records` with one JSON record of about 100 bytes;
//!   the floor parses the same body as JSON and appends it (both keep the
//!   newest 100,000).
//! - **consume**: a v2 consumer instance's `GET …/records` taking up to 10
//!   records (`max_bytes`), auto-committing; the floor pops up to 10 values
//!   and writes them as a JSON array. A feeder thread in each keeps about
//!   5,000 records ready, so neither runs dry.
//!
//! The server side runs on a 2-worker Tokio runtime; `wrk` runs 2 threads. On
//! a 2-core machine they share the cores: the ratios are what this compares.

use std::collections::VecDeque;
use std::future::IntoFuture as _;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::{Json, Router};
use ringlet::{Bus, TopicConfig};
use ringlet_http::{HttpConfig, HttpValue, Payload};
use serde_json::{json, Value};

const RETAINED: usize = 100_000;
const READY: usize = 5_000;

fn record() -> Value {
    json!({ "id": 123_456, "customer": "customer-0042", "sku": "tea-green-100g", "qty": 2, "cents": 700 })
}

#[derive(Default)]
struct Floor {
    log: Mutex<VecDeque<Value>>,
    feed: Mutex<VecDeque<Value>>,
}

fn floor_router(floor: Arc<Floor>) -> Router {
    let produce = {
        let floor = floor.clone();
        move |Json(v): Json<Value>| {
            let floor = floor.clone();
            async move {
                let mut log = floor.log.lock().unwrap();
                if log.len() == RETAINED {
                    log.pop_front();
                }
                log.push_back(v);
                Json(json!({ "offset": log.len() }))
            }
        }
    };
    let consume = move || {
        let floor = floor.clone();
        async move {
            let mut feed = floor.feed.lock().unwrap();
            let n = feed.len().min(10);
            let out: Vec<Value> = feed.drain(..n).collect();
            Json(Value::Array(out))
        }
    };
    Router::new()
        .route("/records", post(produce))
        .route("/consume", get(consume))
}

struct Wrk {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn ms(s: &str) -> f64 {
    let (n, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn wrk(url: &str, script: Option<&str>, seconds: u64, connections: u32) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    let dir = std::env::temp_dir().join(format!("ringlet-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(lua) = script {
        let path = dir.join("script.lua");
        std::fs::write(&path, lua).unwrap();
        cmd.args(["-s", path.to_str().unwrap()]);
    }
    cmd.arg(url);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("wrk did not run ({e}): apt-get install wrk"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned()))
    };
    Wrk {
        requests_per_s: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map_or(f64::NAN, |v| ms(&v)),
        p99_ms: field("99%").map_or(f64::NAN, |v| ms(&v)),
        non_2xx: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

fn main() {
    let mut seconds = 10;
    let mut connections = 16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--seconds N")
            }
            "--connections" => {
                connections = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--connections N")
            }
            _ => panic!("usage: load [--seconds N] [--connections N]"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bus = Bus::new();
    bus.topic::<HttpValue>("orders", TopicConfig::default().capacity(RETAINED))
        .unwrap();
    let feed = bus
        .topic::<HttpValue>("feed", TopicConfig::default().capacity(4 * READY))
        .unwrap();
    let floor = Arc::new(Floor::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (ringlet_url, floor_url) = runtime.block_on(async {
        let a = ringlet_http::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let b = ringlet_http::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let urls = (
            format!("http://{}", a.local_addr().unwrap()),
            format!("http://{}", b.local_addr().unwrap()),
        );
        let app = ringlet_http::router(bus.clone(), HttpConfig::default());
        tokio::spawn(ringlet_http::serve(
            a,
            app,
            std::future::pending(),
            Default::default(),
        ));
        tokio::spawn(axum::serve(b, floor_router(floor.clone())).into_future());
        urls
    });
    let client = reqwest_free_post(&ringlet_url);
    client(
        "/consumers/load",
        r#"{"name": "c", "format": "json", "auto.offset.reset": "earliest", "auto.commit.enable": "true"}"#,
    );
    client(
        "/consumers/load/instances/c/subscription",
        r#"{"topics": ["feed"]}"#,
    );
    let feeder = {
        let stop = stop.clone();
        let group = feed.group("load").unwrap();
        std::thread::spawn(move || {
            let value = Some(Payload::Json(record()));
            while !stop.load(Ordering::Relaxed) {
                let lag: u64 = group.lag().iter().sum();
                if lag < READY as u64 {
                    for _ in 0..1000 {
                        let _ = feed.publish(value.clone());
                    }
                } else {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        })
    };
    let floor_feeder = {
        let stop = stop.clone();
        let floor = floor.clone();
        std::thread::spawn(move || {
            let value = record();
            while !stop.load(Ordering::Relaxed) {
                let low = floor.feed.lock().unwrap().len() < READY;
                if low {
                    let mut feed = floor.feed.lock().unwrap();
                    for _ in 0..1000 {
                        feed.push_back(value.clone());
                    }
                } else {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        })
    };
    let produce_lua = format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '{}'\n",
        json!({ "value": { "type": "JSON", "data": record() } })
    );
    let rows = [
        (
            "produce",
            wrk(
                &format!("{ringlet_url}/v3/clusters/ringlet/topics/orders/records"),
                Some(&produce_lua),
                seconds,
                connections,
            ),
            wrk(
                &format!("{floor_url}/records"),
                Some(&produce_lua),
                seconds,
                connections,
            ),
        ),
        (
            "consume",
            wrk(
                &format!(
                    "{ringlet_url}/consumers/load/instances/c/records?timeout=0&max_bytes=1000"
                ),
                None,
                seconds,
                connections,
            ),
            wrk(&format!("{floor_url}/consume"), None, seconds, connections),
        ),
    ];
    stop.store(true, Ordering::Relaxed);
    let _ = feeder.join();
    let _ = floor_feeder.join();
    println!("\nloopback, wrk -t2 -c{connections} -d{seconds}s, server on 2 Tokio workers");
    println!("| workload | ringlet-http req/s | p50 | p99 | floor req/s | p50 | p99 | ratio |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, r, f) in &rows {
        assert_eq!(r.non_2xx, 0, "{name}: ringlet-http answered errors");
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms | {:.2}× |",
            r.requests_per_s,
            r.p50_ms,
            r.p99_ms,
            f.requests_per_s,
            f.p50_ms,
            f.p99_ms,
            r.requests_per_s / f.requests_per_s
        );
    }
}

/// A POST with curl (setup only, not measured).
fn reqwest_free_post(base: &str) -> impl Fn(&str, &str) + '_ {
    move |path, body| {
        let out = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
            ])
            .arg(format!("{base}{path}"))
            .output()
            .expect("curl");
        assert!(out.status.success(), "setup POST {path} failed");
    }
}
