//! Helpers for the tests against the real broker (`make kafka-up`): its
//! address, fresh topic names, and Kafka's own Java tools as the independent
//! client.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn bootstrap() -> String {
    format!(
        "127.0.0.1:{}",
        std::env::var("KAFKA_PORT").unwrap_or_else(|_| "19092".into())
    )
}

/// A topic name no earlier run used (the broker keeps its data between runs).
pub fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The classpath of Kafka's jars (fetched by `make kafka-up`).
pub fn classpath() -> String {
    let lib = root().join("target/kafka/lib");
    assert!(
        lib.join(".complete").exists(),
        "Kafka's jars are missing: run `make kafka-up` first"
    );
    format!("{}/*", lib.display())
}

/// Runs a Java class (or a single-file program) with Kafka's jars, feeding
/// `stdin`; its stdout.
pub fn java(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(classpath())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("java runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "java {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Creates a topic with Kafka's own TopicCommand.
pub fn create_topic(topic: &str, partitions: u32) {
    java(
        &[
            "org.apache.kafka.tools.TopicCommand",
            "--bootstrap-server",
            &bootstrap(),
            "--create",
            "--topic",
            topic,
            "--partitions",
            &partitions.to_string(),
        ],
        "",
    );
}

/// Produces `lines` (`headers<TAB>key<TAB>value`, headers `k:v,k:v`) with
/// Kafka's console producer (its default, Java partitioner).
pub fn console_produce(topic: &str, lines: &[String]) {
    let mut input = lines.join("\n");
    input.push('\n');
    java(
        &[
            "org.apache.kafka.tools.ConsoleProducer",
            "--bootstrap-server",
            &bootstrap(),
            "--topic",
            topic,
            "--property",
            "parse.key=true",
            "--property",
            "parse.headers=true",
        ],
        &input,
    );
}

/// A record as Kafka's console consumer printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub timestamp: i64,
    pub partition: u32,
    pub offset: u64,
    pub headers: Vec<(String, String)>,
    pub key: String,
    pub value: String,
}

/// Reads `n` records of `topic` from the beginning with Kafka's console consumer.
pub fn console_consume(topic: &str, n: usize) -> Vec<Seen> {
    let out = java(
        &[
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            "--bootstrap-server",
            &bootstrap(),
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            &n.to_string(),
            "--timeout-ms",
            "30000",
            "--property",
            "print.timestamp=true",
            "--property",
            "print.partition=true",
            "--property",
            "print.offset=true",
            "--property",
            "print.headers=true",
            "--property",
            "print.key=true",
        ],
        "",
    );
    out.lines()
        .map(|line| {
            let f: Vec<&str> = line.splitn(6, '\t').collect();
            assert_eq!(f.len(), 6, "unexpected console consumer line {line:?}");
            let headers = if f[3] == "NO_HEADERS" {
                Vec::new()
            } else {
                f[3].split(',')
                    .map(|h| {
                        let (k, v) = h.split_once(':').unwrap();
                        (k.to_owned(), v.to_owned())
                    })
                    .collect()
            };
            Seen {
                timestamp: f[0].strip_prefix("CreateTime:").unwrap().parse().unwrap(),
                partition: f[1].strip_prefix("Partition:").unwrap().parse().unwrap(),
                offset: f[2].strip_prefix("Offset:").unwrap().parse().unwrap(),
                headers,
                key: f[4].to_owned(),
                value: f[5].to_owned(),
            }
        })
        .collect()
}

/// Waits (up to 60 s) until `done` holds.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
