//! The `ringlet-http` binary: its arguments, a token file, and a data
//! directory that survives `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringlet-http"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    Running { child, url }
}

fn call(method: &str, url: &str, body: Option<&Value>, token: Option<&str>) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut r = client.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    })
}

#[test]
fn data_survives_kill_9() {
    let dir = std::env::temp_dir().join(format!("ringlet-http-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    {
        let s = start(&["--data-dir", d]);
        let topics = format!("{}/v3/clusters/ringlet/topics", s.url);
        let body = json!({ "topic_name": "orders", "partitions_count": 2,
            "configs": [{ "name": "ringlet.capacity", "value": "5000" }] });
        assert_eq!(call("POST", &topics, Some(&body), None).0, 201);
        for i in 0..100 {
            let r = json!({ "key": { "type": "STRING", "data": format!("k{}", i % 7) }, "value": { "data": { "n": i } } });
            assert_eq!(
                call("POST", &format!("{topics}/orders/records"), Some(&r), None).0,
                200
            );
        }
        let q = json!({ "queue_name": "jobs", "visibility_timeout_ms": 60000 });
        assert_eq!(
            call("POST", &format!("{}/v3/queues", s.url), Some(&q), None).0,
            201
        );
        for i in 0..3 {
            let m = json!({ "value": { "data": i } });
            assert_eq!(
                call(
                    "POST",
                    &format!("{}/v3/queues/jobs/messages", s.url),
                    Some(&m),
                    None
                )
                .0,
                200
            );
        }
        let (_, got) = call(
            "POST",
            &format!("{}/v3/queues/jobs/receive", s.url),
            None,
            None,
        );
        let receipt = got["deliveries"][0]["receipt"].as_str().unwrap().to_owned();
        let ack = json!({ "receipts": [receipt] });
        assert_eq!(
            call(
                "POST",
                &format!("{}/v3/queues/jobs/ack", s.url),
                Some(&ack),
                None
            )
            .0,
            200
        );
        // Dropping `s` kills the process: SIGKILL, no shutdown.
    }
    let s = start(&["--data-dir", d]);
    let parts = format!("{}/v3/clusters/ringlet/topics/orders/partitions", s.url);
    let (status, got) = call("GET", &parts, None, None);
    assert_eq!(status, 200, "{got}");
    let total: u64 = got["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["end_offset"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 100);
    let (_, got) = call(
        "GET",
        &format!("{}/v3/clusters/ringlet/topics/orders/configs", s.url),
        None,
        None,
    );
    assert!(got["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "ringlet.capacity" && c["value"] == "5000"));
    let (_, got) = call("GET", &format!("{}/v3/queues/jobs", s.url), None, None);
    assert_eq!(got["figures"]["ready"], 2, "{got}");
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_token_file_guards_every_request() {
    let file = std::env::temp_dir().join(format!("ringlet-http-token-{}", std::process::id()));
    std::fs::write(&file, "t0ken\n").unwrap();
    let s = start(&["--token-file", file.to_str().unwrap()]);
    let clusters = format!("{}/v3/clusters", s.url);
    assert_eq!(call("GET", &clusters, None, None).0, 401);
    assert_eq!(call("GET", &clusters, None, Some("t0ken")).0, 200);
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn bad_arguments_are_explained() {
    for (args, needle) in [
        (vec!["--listen", "nowhere"], "HOST:PORT"),
        (vec!["--colour"], "unknown argument"),
        (
            vec!["--token-file", "/nonexistent/token"],
            "cannot read the token file",
        ),
        (vec!["--data-dir"], "needs a value"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ringlet-http"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn ten_thousand_idle_connections_do_not_stop_it() {
    let n: usize = 10_000;
    let s = start(&[]);
    let addr = s.url.trim_start_matches("http://").to_owned();
    let before = rss_kib(s.child.id());
    // Connected from 50 threads: a lost SYN costs its connect a second.
    let idle: Vec<std::net::TcpStream> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    (0..n / 50)
                        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    // Half of them started a request and never finished it.
    for mut c in idle.iter().step_by(2) {
        use std::io::Write as _;
        c.write_all(b"POST /v3/queues HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
    }
    let (status, got) = call("GET", &format!("{}/v3/clusters", s.url), None, None);
    assert_eq!(status, 200, "{got}");
    let during = rss_kib(s.child.id());
    let per_connection = (during.saturating_sub(before)) * 1024 / n as u64;
    eprintln!(
        "{n} idle connections: {} MiB, {per_connection} bytes each",
        (during - before) / 1024
    );
    assert!(
        per_connection < 48 * 1024,
        "{per_connection} bytes per idle connection"
    );
    drop(idle);
    let (status, _) = call("GET", &format!("{}/v3/clusters", s.url), None, None);
    assert_eq!(status, 200);
}

#[test]
fn connections_beyond_the_limit_wait_their_turn() {
    let s = start(&["--max-connections", "4"]);
    let addr = s.url.trim_start_matches("http://").to_owned();
    let idle: Vec<_> = (0..4)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    let url = format!("{}/v3/clusters", s.url);
    let waiting = std::thread::spawn(move || call("GET", &url, None, None).0);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !waiting.is_finished(),
        "a fifth connection was served beside four"
    );
    drop(idle);
    assert_eq!(waiting.join().unwrap(), 200);
}
