//! The order service driven over HTTP on 127.0.0.1: commands become events,
//! workers ship from the fulfilment queue, queries come from the read models.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Client;
use ringlet_examples::order_service::{serve, Config, Service};
use serde_json::{json, Value};

/// A running server on an ephemeral port, stopped on drop.
struct Server {
    client: Client,
    service: Arc<Service>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(config: Config) -> Server {
        let service = Service::start(config).unwrap();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let s = service.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                serve(listener, s, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        Server {
            client: Client(addr_rx.recv().unwrap()),
            service,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl std::ops::Deref for Server {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn order(customer: &str, lines: &[(&str, u32, u64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, qty, price)| json!({ "sku": sku, "qty": qty, "price_cents": price }))
        .collect();
    json!({ "customer": customer, "lines": lines })
}

#[test]
fn orders_flow_from_commands_to_events_to_fulfilment_to_read_models() {
    let srv = Server::start(Config {
        workers: 2,
        ..Config::default()
    });
    assert_eq!(srv.get("/health"), (200, Value::String("ok".into())));

    let (st, a) = srv.post(
        "/orders",
        &order("ada", &[("tea", 2, 350), ("cake", 1, 400)]),
    );
    assert_eq!(st, 201, "{a}");
    assert_eq!(a["version"], 1);
    let (_, b) = srv.post("/orders", &order("bob", &[("coffee", 1, 300)]));
    let (_, c) = srv.post("/orders", &order("ada", &[("tea", 1, 350)]));
    let ids: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();

    // Workers ship every order; the read model shows it.
    for id in &ids {
        let view = srv.until(&format!("/orders/{id}"), |st, v| {
            st == 200 && v["status"] == "shipped"
        });
        assert_eq!(view["version"], 2);
        assert!(view["shipped_by"].is_u64());
    }
    let (st, view) = srv.get(&format!("/orders/{}", ids[0]));
    assert_eq!(st, 200);
    assert_eq!(view["customer"], "ada");
    assert_eq!(view["total_cents"], 1100);

    // The events are the order's history.
    let (st, evs) = srv.get(&format!("/orders/{}/events", ids[0]));
    assert_eq!(st, 200);
    let kinds: Vec<&str> = evs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["placed", "shipped"]);

    // A shipped order cannot be cancelled (the aggregate refuses).
    let (st, e) = srv.post(
        &format!("/orders/{}/cancel", ids[0]),
        &json!({ "reason": "late" }),
    );
    assert_eq!(st, 409, "{e}");

    // Customer read model and the per-minute window.
    let ada = srv.until("/customers/ada", |st, v| st == 200 && v["orders"] == 2);
    assert_eq!(ada["placed_cents"], 1450);
    let pm = srv.until("/stats/orders-per-minute", |_, v| {
        v.as_array().is_some_and(|rows| {
            rows.iter()
                .map(|r| r["orders"].as_u64().unwrap())
                .sum::<u64>()
                == 3
        })
    });
    assert!(pm[0]["start_ms"].as_i64().unwrap() % 60_000 == 0);

    // Bad requests get clear errors.
    assert_eq!(srv.get("/orders/o-999999").0, 404);
    assert_eq!(srv.get("/customers/nobody").0, 404);
    assert_eq!(srv.call("POST", "/orders", Some("{not json")).0, 400);
    assert_eq!(srv.post("/orders", &json!({ "customer": "x" })).0, 422);
    let (st, e) = srv.post("/orders", &order("ada", &[]));
    assert_eq!(st, 422, "{e}");
    assert!(e["error"].as_str().unwrap().contains("lines"));
    assert_eq!(srv.post("/orders/o-999999/cancel", &json!({})).0, 404);

    let (_, stats) = srv.get("/stats");
    assert_eq!(stats["fulfilment"]["acked"], 3);
    assert_eq!(stats["topology_errors"], 0);

    // The bus over HTTP, beside the API: the events as a v2 consumer reads
    // them, and refused to writers (only the aggregate appends).
    let (st, c) = srv.post(
        "/consumers/audit",
        &json!({ "name": "a1", "format": "json", "auto.offset.reset": "earliest" }),
    );
    assert_eq!(st, 200, "{c}");
    let base = "/consumers/audit/instances/a1";
    let (st, _) = srv.post(
        &format!("{base}/subscription"),
        &json!({ "topics": ["orders"] }),
    );
    assert_eq!(st, 204);
    let (st, records) = srv.get(&format!("{base}/records?timeout=2000"));
    assert_eq!(st, 200, "{records}");
    let placed = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["value"]["type"] == "placed")
        .count();
    assert_eq!(placed, 3, "{records}");
    let (st, e) = srv.post(
        "/v3/clusters/ringlet/topics/orders/records",
        &json!({ "value": { "data": { "type": "shipped", "by": 1 } } }),
    );
    assert_eq!((st, e["error"].as_str()), (403, Some("ReadOnly")), "{e}");
    let (st, q) = srv.get("/v3/queues/fulfilment");
    assert_eq!(st, 200, "{q}");
    assert_eq!(q["figures"]["acked"], 3);
}

#[test]
fn cancelled_orders_are_not_shipped() {
    // No workers: jobs wait in the queue, so the cancel wins.
    let srv = Server::start(Config {
        workers: 0,
        ..Config::default()
    });
    let (_, a) = srv.post("/orders", &order("cy", &[("tea", 1, 350)]));
    let id = a["id"].as_str().unwrap().to_string();
    let (st, c) = srv.post(
        &format!("/orders/{id}/cancel"),
        &json!({ "reason": "changed my mind" }),
    );
    assert_eq!((st, c["version"].clone()), (200, json!(2)));
    let (st, _) = srv.post(&format!("/orders/{id}/cancel"), &json!({}));
    assert_eq!(st, 409);
    srv.until(&format!("/orders/{id}"), |st, v| {
        st == 200 && v["status"] == "cancelled"
    });
    // The fulfilment job is there (its topology runs apart from the read
    // models': it may come a moment later); shipping it now does nothing.
    let job = srv
        .service
        .fulfilment
        .receive_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    assert_eq!(job.value().order, id);
    assert_eq!(srv.service.store.version(&id), 2);
}

#[test]
fn concurrent_clients_every_order_shipped_exactly_once() {
    let srv = Arc::new(Server::start(Config {
        workers: 4,
        work: Duration::from_millis(1),
        ..Config::default()
    }));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let srv = srv.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        let (st, v) =
                            srv.post("/orders", &order(&format!("c{c}"), &[("x", 1, 100 + i)]));
                        assert_eq!(st, 201, "{v}");
                        v["id"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: Vec<String> = clients
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 100);
    for id in &ids {
        srv.until(&format!("/orders/{id}"), |st, v| {
            st == 200 && v["status"] == "shipped"
        });
    }
    for id in &ids {
        let evs = srv.service.store.load(id);
        assert_eq!(evs.len(), 2, "{id}: {evs:?}");
    }
    for c in 0..4 {
        let v = srv.until(&format!("/customers/c{c}"), |st, v| {
            st == 200 && v["orders"] == 25
        });
        assert_eq!(v["placed_cents"], (0..25).map(|i| 100 + i).sum::<u64>());
    }
    let pm = srv.until("/stats/orders-per-minute", |_, v| {
        v.as_array().is_some_and(|rows| {
            rows.iter()
                .map(|r| r["orders"].as_u64().unwrap())
                .sum::<u64>()
                == 100
        })
    });
    assert!(!pm.as_array().unwrap().is_empty());
}

// --- a durable service killed and restarted ------------------------------------

/// The service binary on a data directory, on a free port.
struct Process {
    child: std::process::Child,
    client: Client,
}

impl Process {
    fn start(dir: &std::path::Path, workers: u32) -> Process {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_order-service"))
            .args([
                "--data-dir",
                dir.to_str().unwrap(),
                "--workers",
                &workers.to_string(),
            ])
            .env("PORT", "0")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        // Keep reading what it prints (a closed pipe would fail its prints).
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let addr = first
            .trim()
            .strip_prefix("order service on http://")
            .unwrap_or_else(|| panic!("the service said {first:?}"))
            .parse()
            .unwrap();
        Process {
            child,
            client: Client(addr),
        }
    }

    /// SIGKILL: no destructor, no flush, no goodbye.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl std::ops::Deref for Process {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_is(want: &'static str) -> impl Fn(u16, &Value) -> bool {
    move |st, v| st == 200 && v["status"] == want
}

#[test]
fn a_service_killed_between_orders_comes_back_with_its_orders_jobs_and_read_models() {
    let dir = std::env::temp_dir().join(format!("ringlet-order-service-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // No workers: the jobs stay queued across the kills.
    let p = Process::start(&dir, 0);
    let mut ids = Vec::new();
    for (customer, qty) in [("ada", 1), ("ada", 2), ("bob", 3)] {
        let (st, v) = p.post("/orders", &order(customer, &[("tea", qty, 350)]));
        assert_eq!(st, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (st, _) = p.post(
        &format!("/orders/{}/cancel", ids[1]),
        &json!({"reason": "changed mind"}),
    );
    assert_eq!(st, 200);
    // Confirmed: the jobs are queued (the read models may still be catching up).
    p.until("/stats", |_, v| {
        v["fulfilment"]["ready"].as_u64() >= Some(3)
    });
    p.kill();

    let p = Process::start(&dir, 0);
    // Every confirmed order, its events and the read models rebuilt from them.
    p.until(&format!("/orders/{}", ids[0]), status_is("placed"));
    p.until(&format!("/orders/{}", ids[1]), status_is("cancelled"));
    p.until(&format!("/orders/{}", ids[2]), status_is("placed"));
    let (_, events) = p.get(&format!("/orders/{}/events", ids[1]));
    assert_eq!(events.as_array().map(Vec::len), Some(2), "{events}");
    p.until("/customers/ada", |st, v| {
        st == 200 && v["orders"] == 2 && v["placed_cents"] == 350 * 3
    });
    // The jobs came back: none lost (a job whose event the jobs topology had
    // not committed may be sent again: at-least-once).
    let stats = p.until("/stats", |_, v| {
        v["fulfilment"]["ready"].as_u64() >= Some(3)
    });
    assert_eq!(stats["orders"], 3, "{stats}");
    // Ids continue after the stored ones.
    let (st, v) = p.post("/orders", &order("cy", &[("cake", 1, 500)]));
    assert_eq!(st, 201, "{v}");
    ids.push(v["id"].as_str().unwrap().to_string());
    assert!(!ids[..3].contains(&ids[3]), "{ids:?}");
    p.until("/stats", |_, v| {
        v["fulfilment"]["ready"].as_u64() >= Some(4)
    });
    p.kill();

    // Workers now: every queued job is worked; placed orders ship, once each.
    let p = Process::start(&dir, 2);
    for id in [&ids[0], &ids[2], &ids[3]] {
        let v = p.until(&format!("/orders/{id}"), status_is("shipped"));
        assert!(v["shipped_by"].is_u64(), "{v}");
    }
    p.until(&format!("/orders/{}", ids[1]), status_is("cancelled"));
    let stats = p.until("/stats", |_, v| {
        v["fulfilment"]["ready"] == 0 && v["fulfilment"]["in_flight"] == 0
    });
    assert_eq!(stats["topology_errors"], 0, "{stats}");
    for id in &ids {
        let (_, events) = p.get(&format!("/orders/{id}/events"));
        let shipped = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "shipped")
            .count();
        assert!(shipped <= 1, "{id} shipped {shipped} times: {events}");
    }
    p.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
