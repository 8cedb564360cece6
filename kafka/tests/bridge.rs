//! The bridge against the real broker, checked with Kafka's own console tools.

mod common;

use std::time::Duration;

use common::{bootstrap, console_consume, console_produce, create_topic, unique, wait_until};
use ringlet::journal::{Event, EventKind, JOURNAL_TOPIC};
use ringlet::{Bus, Message, QueueConfig, Start, TopicConfig};
use ringlet_kafka::{Bridge, Error, FromKafka, KafkaConfig, ToKafka};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
}

fn config() -> KafkaConfig {
    KafkaConfig::new(bootstrap())
        .client_id("ringlet-tests")
        .timeout(Duration::from_secs(20))
}

#[test]
fn exported_records_keep_key_partition_headers_timestamp_value_and_order() {
    let name = unique("orders");
    let bus = Bus::builder().journal(10_000).build();
    let orders = bus
        .topic::<Order>(&name, TopicConfig::default().partitions(3))
        .unwrap();
    let n = 300u64;
    for id in 0..n {
        let customer = format!("customer-{}", id % 17);
        orders
            .publish_message(
                Message::new(Order {
                    id,
                    customer: customer.clone(),
                })
                .key(customer)
                .header("trace", format!("t{id}"))
                .timestamp(1_700_000_000_000 + id as i64),
            )
            .unwrap();
    }
    let bridge = Bridge::new(&bus, config()).unwrap();
    bridge.to_kafka::<Order>(&name, ToKafka::default()).unwrap();
    wait_until("Kafka to confirm every record", || {
        bridge.figures()[0].figures.records == n
    });

    // What the Ringlet topic holds, per partition.
    let mut sub = orders.subscribe(Start::Earliest).unwrap();
    let ours: Vec<_> = (0..n).map(|_| sub.try_recv().unwrap()).collect();
    let mut theirs = console_consume(&name, n as usize);
    theirs.sort_by_key(|s| (s.partition, s.offset));
    let mut ours_sorted = ours.clone();
    ours_sorted.sort_by_key(|r| (r.partition, r.offset));
    for (r, s) in ours_sorted.iter().zip(&theirs) {
        assert_eq!(
            (s.partition, s.offset),
            (r.partition, r.offset),
            "same partition, same offset"
        );
        assert_eq!(s.key, r.key.as_ref().unwrap().as_str().unwrap());
        assert_eq!(s.timestamp, r.timestamp);
        assert_eq!(
            s.headers,
            vec![("trace".to_owned(), format!("t{}", r.value.id))]
        );
        assert_eq!(serde_json::from_str::<Order>(&s.value).unwrap(), r.value);
    }
    assert_eq!(theirs.len(), n as usize);

    // The figures are the bus's too, and closing commits everything.
    let shot = bus.snapshot();
    let link = shot.links.iter().find(|l| l.from == name).unwrap();
    assert_eq!(
        (
            link.kind.as_str(),
            link.figures.records,
            link.figures.dead_letters
        ),
        ("to_kafka", n, 0)
    );
    bridge.close().unwrap();
    let group = orders.group(&format!("to-kafka.{name}")).unwrap();
    assert_eq!(
        group
            .committed()
            .iter()
            .map(|c| c.unwrap())
            .collect::<Vec<_>>(),
        orders.end_offsets()
    );
    let links = bus.snapshot().links;
    assert!(!links.is_empty() && links.iter().all(|l| l.closed));
    let mut journal = bus
        .get_topic::<Event>(JOURNAL_TOPIC)
        .unwrap()
        .subscribe(Start::Earliest)
        .unwrap();
    let events: Vec<Event> =
        std::iter::from_fn(|| journal.try_recv().ok().map(|r| r.value)).collect();
    assert!(events
        .iter()
        .any(|e| e.kind == EventKind::Link && e.reason.as_deref() == Some("closed")));
}

#[test]
fn imported_records_are_where_kafkas_java_producer_put_them() {
    let name = unique("payments");
    create_topic(&name, 3);
    let n = 200;
    let lines: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "source:console,seq:{i}\tcustomer-{}\t{{\"id\":{i},\"customer\":\"c{}\"}}",
                i % 23,
                i % 23
            )
        })
        .collect();
    console_produce(&name, &lines);

    let bus = Bus::new();
    let bridge = Bridge::new(&bus, config()).unwrap();
    bridge
        .from_kafka::<Order>(&name, FromKafka::default().group(unique("shop")))
        .unwrap();
    let payments = bus.get_topic::<Order>(&name).unwrap();
    assert_eq!(
        payments.partitions(),
        3,
        "created with the Kafka topic's partition count"
    );
    wait_until("every record", || {
        payments.end_offsets().iter().sum::<u64>() == n
    });
    let mut sub = payments.subscribe(Start::Earliest).unwrap();
    let got: Vec<_> = (0..n).map(|_| sub.try_recv().unwrap()).collect();
    let now = bus.now_ms();
    let mut last_seq = std::collections::HashMap::new();
    for r in &got {
        let key = r.key.as_ref().unwrap().as_str().unwrap().to_owned();
        assert_eq!(
            r.partition,
            ringlet::partition_for_key(key.as_bytes(), 3),
            "Java's partition for {key}"
        );
        assert_eq!(r.headers.get("source"), Some(&b"console"[..]));
        let seq: u64 = std::str::from_utf8(r.headers.get("seq").unwrap())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(r.value.id, seq);
        assert!(
            (now - r.timestamp).abs() < 120_000,
            "the producer's CreateTime"
        );
        // Per key, in the order produced.
        if let Some(prev) = last_seq.insert(key, seq) {
            assert!(prev < seq);
        }
    }
    bridge.close().unwrap();
    assert_eq!(bus.snapshot().links[0].figures.records, n);
}

#[test]
fn queues_cross_both_ways_and_are_acked_after_kafka_confirmed() {
    let name = unique("jobs");
    let a = Bus::new();
    let jobs = a.queue::<Order>(&name, QueueConfig::default()).unwrap();
    let n = 500u64;
    for id in 0..n {
        jobs.send_message(
            Message::new(Order {
                id,
                customer: "q".into(),
            })
            .key(format!("k{}", id % 5)),
        )
        .unwrap();
    }
    let out = Bridge::new(&a, config()).unwrap();
    out.queue_to_kafka::<Order>(&name, ToKafka::default().partitions(2))
        .unwrap();
    wait_until("every message acked", || jobs.figures().acked == n);

    let b = Bus::new();
    let inbound = Bridge::new(&b, config()).unwrap();
    inbound
        .queue_from_kafka::<Order>(&name, FromKafka::default().group(unique("workers")))
        .unwrap();
    let work = b.get_queue::<Order>(&name).unwrap();
    let mut seen = vec![0u32; n as usize];
    let mut last = std::collections::HashMap::new();
    for _ in 0..n {
        let d = work.receive_timeout(Duration::from_secs(30)).unwrap();
        let key = d.key().unwrap().as_str().unwrap().to_owned();
        seen[d.value().id as usize] += 1;
        if let Some(prev) = last.insert(key, d.value().id) {
            assert!(prev < d.value().id, "order per key holds");
        }
        d.ack().unwrap();
    }
    assert!(seen.iter().all(|&c| c == 1), "each job once");
    out.close().unwrap();
    inbound.close().unwrap();
}

#[test]
fn typed_errors_and_counted_dead_letters() {
    // Nobody listens on port 9.
    let bus = Bus::new();
    let e = Bridge::new(
        &bus,
        KafkaConfig::new("127.0.0.1:9").timeout(Duration::from_secs(2)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
    assert!(e.to_string().contains("make kafka-up"), "{e}");

    let bridge = Bridge::new(&bus, config()).unwrap();
    // A property the guarantees rest on.
    let e = Bridge::new(&bus, config().set("enable.auto.commit", "true")).unwrap_err();
    assert!(matches!(e, Error::Config { .. }), "{e}");
    // No such Ringlet topic.
    let e = bridge
        .to_kafka::<Order>("nowhere", ToKafka::default())
        .unwrap_err();
    assert!(
        matches!(e, Error::Bus(ringlet::Error::NotFound { .. })),
        "{e}"
    );
    // No such Kafka topic, creation refused (the broker does not create topics
    // by itself either).
    let name = unique("absent");
    bus.topic::<Order>(&name, TopicConfig::default()).unwrap();
    let e = bridge
        .to_kafka::<Order>(&name, ToKafka::default().create_topic(false))
        .unwrap_err();
    assert_eq!(
        e,
        Error::UnknownTopic {
            topic: name.clone()
        }
    );
    let e = bridge
        .from_kafka::<Order>(&unique("absent"), FromKafka::default())
        .unwrap_err();
    assert!(matches!(e, Error::UnknownTopic { .. }), "{e}");

    // Values that do not decode are dead letters, kept with where they came from.
    let name = unique("mixed");
    create_topic(&name, 1);
    console_produce(
        &name,
        &[
            "n:1\tk\t{\"id\":1,\"customer\":\"a\"}".into(),
            "n:2\tk\tnot json".into(),
            "n:3\tk\t{\"id\":3,\"customer\":\"c\"}".into(),
        ],
    );
    bridge
        .from_kafka::<Order>(
            &name,
            FromKafka::default()
                .group(unique("g"))
                .dead_letter("undecodable"),
        )
        .unwrap();
    let t = bus.get_topic::<Order>(&name).unwrap();
    wait_until("the two good records", || t.end_offsets()[0] == 2);
    let dlq = bus.get_queue::<Vec<u8>>("undecodable").unwrap();
    let d = dlq.receive_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(d.value(), b"not json");
    assert_eq!(d.headers().get("kafka.offset"), Some(&b"1"[..]));
    assert!(std::str::from_utf8(d.headers().get("kafka.error").unwrap())
        .unwrap()
        .contains("does not decode"));
    let link = bridge
        .figures()
        .into_iter()
        .find(|l| l.from == format!("kafka:{name}"))
        .unwrap();
    assert_eq!((link.figures.records, link.figures.dead_letters), (2, 1));
    assert!(link.figures.last_error.unwrap().contains("does not decode"));
    bridge.close().unwrap();
    assert_eq!(
        bridge
            .to_kafka::<Order>(&name, ToKafka::default())
            .unwrap_err(),
        Error::Closed
    );
}

/// Publishes `n` keyed records into `orders`, then a group reads half, commits,
/// restarts and reads the rest: what each partition holds (key, value) and the
/// committed positions.
/// Per partition, the (key, id) of each record read.
type Read = Vec<Vec<(String, u64)>>;

fn scenario_consume(bus: &Bus, name: &str, n: u64) -> (Read, Vec<Option<u64>>) {
    let topic = bus.get_topic::<Order>(name).unwrap();
    let group = topic
        .group_with(
            "billing",
            ringlet::GroupConfig::default()
                .start(Start::Earliest)
                .auto_commit(false),
        )
        .unwrap();
    let mut per_partition = vec![Vec::new(); topic.partitions() as usize];
    let mut m = group.join().unwrap();
    for _ in 0..n / 2 {
        let r = m.recv_timeout(Duration::from_secs(30)).unwrap();
        per_partition[r.partition as usize]
            .push((r.key.unwrap().as_str().unwrap().to_owned(), r.value.id));
    }
    m.commit().unwrap();
    drop(m);
    let mut m = group.join().unwrap();
    for _ in n / 2..n {
        let r = m.recv_timeout(Duration::from_secs(30)).unwrap();
        per_partition[r.partition as usize]
            .push((r.key.unwrap().as_str().unwrap().to_owned(), r.value.id));
    }
    m.commit().unwrap();
    (per_partition, group.committed())
}

fn scenario_publish(bus: &Bus, name: &str, n: u64) {
    let t = bus
        .topic::<Order>(name, TopicConfig::default().partitions(4))
        .unwrap();
    for id in 0..n {
        t.publish_message(
            Message::new(Order {
                id,
                customer: "s".into(),
            })
            .key(format!("user-{}", id % 13)),
        )
        .unwrap();
    }
}

#[test]
fn a_scenario_on_one_bus_and_across_two_through_kafka_agree() {
    let n = 400;
    let one = Bus::new();
    scenario_publish(&one, "orders", n);
    let alone = scenario_consume(&one, "orders", n);

    let name = unique("scenario");
    let (a, b) = (Bus::new(), Bus::new());
    scenario_publish(&a, &name, n);
    let out = Bridge::new(&a, config()).unwrap();
    out.to_kafka::<Order>(&name, ToKafka::default()).unwrap();
    let inbound = Bridge::new(&b, config()).unwrap();
    inbound
        .from_kafka::<Order>(&name, FromKafka::default().group(unique("s")))
        .unwrap();
    let across = scenario_consume(&b, &name, n);
    assert_eq!(
        across, alone,
        "same records per partition, same committed positions"
    );
    out.close().unwrap();
    inbound.close().unwrap();
}

#[test]
fn imports_into_a_durable_topic_survive_and_resume_without_repeats() {
    let name = unique("ledger");
    create_topic(&name, 2);
    let lines: Vec<String> = (0..50)
        .map(|i| {
            format!(
                "n:{i}\tacc-{}\t{{\"id\":{i},\"customer\":\"acc-{}\"}}",
                i % 3,
                i % 3
            )
        })
        .collect();
    console_produce(&name, &lines);
    let dir = std::env::temp_dir().join(unique("ringlet-kafka-durable"));
    let group = unique("ledger");
    let open = || {
        let bus = Bus::builder()
            .storage(ringlet_store::Dir::open(&dir).unwrap())
            .build();
        let t = bus
            .durable_topic::<Order>(&name, TopicConfig::default().partitions(2).capacity(1000))
            .unwrap();
        (bus, t)
    };
    {
        let (bus, t) = open();
        let bridge = Bridge::new(&bus, config()).unwrap();
        bridge
            .from_kafka::<Order>(&name, FromKafka::default().group(&group))
            .unwrap();
        wait_until("every record written", || {
            t.end_offsets().iter().sum::<u64>() == 50
        });
        bridge.close().unwrap();
        bus.close().unwrap();
    }
    // Reopened: the records are on disk, and the group resumes after them.
    let (bus, t) = open();
    assert_eq!(t.end_offsets().iter().sum::<u64>(), 50);
    console_produce(
        &name,
        &["n:50\tacc-0\t{\"id\":50,\"customer\":\"acc-0\"}".into()],
    );
    let bridge = Bridge::new(&bus, config()).unwrap();
    bridge
        .from_kafka::<Order>(&name, FromKafka::default().group(&group))
        .unwrap();
    wait_until("the new record", || {
        t.end_offsets().iter().sum::<u64>() >= 51
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        t.end_offsets().iter().sum::<u64>(),
        51,
        "nothing imported twice"
    );
    bridge.close().unwrap();
    bus.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
