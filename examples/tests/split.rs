//! The order service and its fulfilment worker as two processes connected
//! through the real Kafka broker (`make kafka-up`): every order placed is
//! shipped exactly once as the customer sees it (one `shipped` event, by a
//! worker of the other process).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Client;
use serde_json::{json, Value};

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

#[test]
fn every_order_is_shipped_once_by_the_worker_process() {
    let bootstrap = format!(
        "127.0.0.1:{}",
        std::env::var("KAFKA_PORT").unwrap_or_else(|_| "19092".into())
    );
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("split-{nanos}-");

    let mut service = Proc(
        Command::new(env!("CARGO_BIN_EXE_order-service"))
            .args(["--kafka", &bootstrap, "--kafka-prefix", &prefix])
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let line = first_line(&mut service.0);
    let addr = line
        .trim()
        .strip_prefix("order service on http://")
        .unwrap_or_else(|| panic!("{line}"));
    let client = Client(addr.parse().unwrap());
    let mut worker = Proc(
        Command::new(env!("CARGO_BIN_EXE_fulfilment-worker"))
            .args([
                "--kafka",
                &bootstrap,
                "--kafka-prefix",
                &prefix,
                "--workers",
                "2",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(first_line(&mut worker.0).starts_with("fulfilment worker: 2 workers"));

    let ids: Vec<String> = (0..40)
        .map(|i| {
            let body = json!({ "customer": format!("c{}", i % 5), "lines": [{ "sku": "tea", "qty": 1, "price_cents": 100 + i }] });
            let (st, v) = client.post("/orders", &body);
            assert_eq!(st, 201, "{v}");
            v["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for id in &ids {
        loop {
            let (_, events) = client.get(&format!("/orders/{id}/events"));
            let shipped: Vec<&Value> = events
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "shipped")
                .collect();
            if !shipped.is_empty() {
                assert_eq!(shipped.len(), 1, "{id} shipped once: {events}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{id} was never shipped: {events}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Still once after any late redelivery.
    std::thread::sleep(Duration::from_millis(500));
    for id in &ids {
        let (_, events) = client.get(&format!("/orders/{id}/events"));
        let n = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "shipped")
            .count();
        assert_eq!(n, 1, "{id}: {events}");
        let (_, view) = client.get(&format!("/orders/{id}"));
        assert_eq!(view["status"], "shipped", "{view}");
    }
}
