//! The bridge against librdkafka driven directly, in the same run, on the test
//! broker (`make bench-kafka` starts it): export and import throughput of
//! 100-byte values, and the latency from `publish` on one bus to `recv` on
//! another through Kafka.
//!
//! Each side uses the same client settings (idempotent producer, `acks=all`,
//! librdkafka's default batching; a consumer group with manual offset
//! storage and commits every 100 ms), so the ratio is what the bridge adds.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message as _};
use ringlet::storage::Raw;
use ringlet::{Bus, Start, TopicConfig};
use ringlet_kafka::{Bridge, FromKafka, KafkaConfig, ToKafka};

const VALUE: usize = 100;
const PARTITIONS: u32 = 3;

fn bootstrap() -> String {
    format!(
        "127.0.0.1:{}",
        std::env::var("KAFKA_PORT").unwrap_or_else(|_| "19092".into())
    )
}

fn unique(name: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("bench-{name}-{t}")
}

fn create(topic: &str) {
    let bus = Bus::new();
    let t = bus
        .topic::<Vec<u8>>(topic, TopicConfig::default().partitions(PARTITIONS))
        .unwrap();
    drop(t);
    // The bridge creates the topic with the Ringlet topic's partition count.
    let b = Bridge::new(&bus, KafkaConfig::new(bootstrap())).unwrap();
    b.to_kafka_with::<Vec<u8>>(topic, ToKafka::default(), Raw)
        .unwrap();
    b.close().unwrap();
}

/// librdkafka alone: produce `n` records and wait for every acknowledgement.
fn raw_export(n: usize) -> Duration {
    let topic = unique("raw-out");
    create(&topic);
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "0")
        .create()
        .unwrap();
    let value = vec![7u8; VALUE];
    let start = Instant::now();
    for i in 0..n {
        let mut r = BaseRecord::<(), _>::to(&topic)
            .payload(&value)
            .partition((i as u32 % PARTITIONS) as i32);
        loop {
            match p.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    r = back;
                    p.poll(Duration::from_millis(1));
                }
            }
        }
        p.poll(Duration::ZERO);
    }
    p.flush(Duration::from_secs(60)).unwrap();
    start.elapsed()
}

/// The bridge: `n` records already on a Ringlet topic, until Kafka confirmed all.
fn bridge_export(n: usize) -> Duration {
    let topic = unique("bridge-out");
    let bus = Bus::new();
    let t = bus
        .topic::<Vec<u8>>(
            &topic,
            TopicConfig::default().partitions(PARTITIONS).capacity(n),
        )
        .unwrap();
    t.publish_batch((0..n).map(|_| vec![7u8; VALUE])).unwrap();
    let bridge = Bridge::new(&bus, KafkaConfig::new(bootstrap())).unwrap();
    let start = Instant::now();
    bridge
        .to_kafka_with::<Vec<u8>>(&topic, ToKafka::default(), Raw)
        .unwrap();
    while (bridge.figures()[0].figures.records as usize) < n {
        std::thread::sleep(Duration::from_micros(200));
    }
    let took = start.elapsed();
    bridge.close().unwrap();
    took
}

/// A topic holding `n` records, for the imports.
fn filled(n: usize) -> String {
    let topic = unique("in");
    let bus = Bus::new();
    let t = bus
        .topic::<Vec<u8>>(
            &topic,
            TopicConfig::default().partitions(PARTITIONS).capacity(n),
        )
        .unwrap();
    t.publish_batch((0..n).map(|_| vec![7u8; VALUE])).unwrap();
    let bridge = Bridge::new(&bus, KafkaConfig::new(bootstrap())).unwrap();
    bridge
        .to_kafka_with::<Vec<u8>>(&topic, ToKafka::default(), Raw)
        .unwrap();
    while (bridge.figures()[0].figures.records as usize) < n {
        std::thread::sleep(Duration::from_millis(1));
    }
    bridge.close().unwrap();
    topic
}

/// librdkafka alone: consume `n` records, storing offsets and committing as the
/// bridge does.
fn raw_import(topic: &str, n: usize) -> Duration {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("raw"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.queue.backoff.ms", "20") // as the bridge's consumers
        .create()
        .unwrap();
    c.subscribe(&[topic]).unwrap();
    let start = Instant::now();
    let (mut got, mut bytes, mut last) = (0, 0, Instant::now());
    let mut first = None;
    while got < n {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(50)) {
            bytes += m.payload().map_or(0, <[u8]>::len);
            c.store_offset_from_message(&m).unwrap();
            got += 1;
            first.get_or_insert(start.elapsed());
        }
        if last.elapsed() >= Duration::from_millis(100) {
            let _ = c.commit_consumer_state(CommitMode::Async);
            last = Instant::now();
        }
    }
    let _ = c.commit_consumer_state(CommitMode::Sync);
    assert_eq!(bytes, n * VALUE);
    if std::env::var("RINGLET_KAFKA_BENCH_DEBUG").is_ok() {
        eprintln!(
            "raw import: first record after {first:?}, all after {:?}",
            start.elapsed()
        );
    }
    start.elapsed()
}

/// The bridge: until `n` records are on the Ringlet topic.
fn bridge_import(topic: &str, n: usize) -> Duration {
    let bus = Bus::new();
    let t = bus
        .topic::<Vec<u8>>(
            topic,
            TopicConfig::default().partitions(PARTITIONS).capacity(4096),
        )
        .unwrap();
    let bridge = Bridge::new(&bus, KafkaConfig::new(bootstrap())).unwrap();
    let start = Instant::now();
    bridge
        .from_kafka_with::<Vec<u8>>(topic, FromKafka::default().group(unique("bridge")), Raw)
        .unwrap();
    let mut first = None;
    let mut trace = Vec::new();
    let mut last = Instant::now();
    while (t.end_offsets().iter().sum::<u64>() as usize) < n {
        if first.is_none() && t.end_offsets().iter().sum::<u64>() > 0 {
            first = Some(start.elapsed());
        }
        if last.elapsed() > Duration::from_millis(100) {
            trace.push(t.end_offsets());
            last = Instant::now();
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let took = start.elapsed();
    if std::env::var("RINGLET_KAFKA_BENCH_DEBUG").is_ok() {
        eprintln!("bridge import: first record after {first:?}, all after {took:?}: {trace:?}");
    }
    bridge.close().unwrap();
    took
}

/// `publish` on one bus to `recv` on another, one record every 2 ms.
fn latency(samples: usize) -> (Duration, Duration) {
    let topic = unique("latency");
    let (a, b) = (Bus::new(), Bus::new());
    let out = a
        .topic::<u64>(&topic, TopicConfig::default().partitions(1))
        .unwrap();
    let inbound = b
        .topic::<u64>(&topic, TopicConfig::default().partitions(1))
        .unwrap();
    let config = KafkaConfig::new(bootstrap())
        .set("linger.ms", "0")
        .set("fetch.wait.max.ms", "5");
    let ba = Bridge::new(&a, config.clone()).unwrap();
    ba.to_kafka::<u64>(&topic, ToKafka::default()).unwrap();
    let bb = Bridge::new(&b, config).unwrap();
    bb.from_kafka::<u64>(
        &topic,
        FromKafka::default()
            .group(unique("lat"))
            .start(Start::Latest),
    )
    .unwrap();
    let mut sub = inbound.subscribe(Start::Latest).unwrap();
    // Warm up: the consumer's group join.
    loop {
        out.publish(u64::MAX).unwrap();
        if sub.recv_timeout(Duration::from_millis(500)).is_ok() {
            break;
        }
    }
    while sub.try_recv().is_ok() {}
    let mut took = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        let start = Instant::now();
        out.publish(i).unwrap();
        loop {
            let r = sub.recv_timeout(Duration::from_secs(10)).unwrap();
            if r.value == i {
                break;
            }
        }
        took.push(start.elapsed());
        std::thread::sleep(Duration::from_millis(2));
    }
    took.sort();
    (took[samples / 2], took[samples * 99 / 100])
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("RINGLET_KAFKA_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500_000);
    let rounds = 3;
    let (mut re, mut be, mut ri, mut bi) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        re.push(raw_export(n));
        be.push(bridge_export(n));
        let topic = filled(n);
        // Alternating which reads first: the first read of a topic pays for
        // the broker's page cache and heap.
        if round % 2 == 0 {
            ri.push(raw_import(&topic, n));
            bi.push(bridge_import(&topic, n));
        } else {
            bi.push(bridge_import(&topic, n));
            ri.push(raw_import(&topic, n));
        }
    }
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let mb = |d: Duration| (n * VALUE) as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{n} records of {VALUE} bytes, {PARTITIONS} partitions, median of {rounds} rounds each"
    );
    println!("| direction | librdkafka alone | the bridge | bridge / alone |");
    println!("| --- | --- | --- | --- |");
    for (what, raw, bridge) in [
        ("export (to Kafka)", median(re), median(be)),
        ("import (from Kafka)", median(ri), median(bi)),
    ] {
        println!(
            "| {what} | {:.0} k rec/s ({:.1} MB/s) | {:.0} k rec/s ({:.1} MB/s) | {:.2}× |",
            rate(raw) / 1e3,
            mb(raw),
            rate(bridge) / 1e3,
            mb(bridge),
            raw.as_secs_f64() / bridge.as_secs_f64()
        );
    }
    let (p50, p99) = latency(2000);
    println!(
        "latency publish -> recv across two buses through Kafka: p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}
