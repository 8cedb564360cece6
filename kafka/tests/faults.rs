//! The broker stopped in the middle of traffic and started again: both links
//! retry, nothing confirmed is lost, order per partition holds, and duplicates
//! (allowed by at least once) are counted and reported.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bootstrap, unique, wait_until};
use ringlet::{Bus, Message, Start, TopicConfig};
use ringlet_kafka::{Bridge, FromKafka, KafkaConfig, ToKafka};

fn broker(script: &str) {
    let status = Command::new(common::root().join("kafka/broker").join(script))
        .status()
        .unwrap();
    assert!(status.success(), "{script} failed");
}

#[test]
fn a_broker_restart_loses_nothing_and_keeps_order() {
    let name = unique("restart");
    let config = || {
        KafkaConfig::new(bootstrap())
            .client_id("ringlet-faults")
            .timeout(Duration::from_secs(30))
    };
    let (a, b) = (Bus::new(), Bus::new());
    let source = a
        .topic::<u64>(
            &name,
            TopicConfig::default().partitions(3).capacity(100_000),
        )
        .unwrap();
    let out = Bridge::new(&a, config()).unwrap();
    out.to_kafka::<u64>(&name, ToKafka::default()).unwrap();
    // Created first: a topic the link creates has the default retention.
    let sink = b
        .topic::<u64>(
            &name,
            TopicConfig::default().partitions(3).capacity(100_000),
        )
        .unwrap();
    let inbound = Bridge::new(&b, config()).unwrap();
    inbound
        .from_kafka::<u64>(&name, FromKafka::default().group(unique("restart")))
        .unwrap();

    let n = 6_000u64;
    let halfway = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (source, halfway) = (source.clone(), halfway.clone());
        std::thread::spawn(move || {
            for i in 0..n {
                source
                    .publish_message(Message::new(i).key(format!("k{}", i % 31)))
                    .unwrap();
                if i == n / 3 {
                    halfway.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    wait_until("a third published", || halfway.load(Ordering::SeqCst));
    broker("down.sh");
    std::thread::sleep(Duration::from_secs(2));
    broker("up.sh");
    publisher.join().unwrap();

    wait_until("every record on the other bus", || {
        sink.end_offsets().iter().sum::<u64>() >= n
    });
    // Wait a little for any late duplicate.
    std::thread::sleep(Duration::from_secs(1));
    let mut sub = sink.subscribe(Start::Earliest).unwrap();
    let mut src = source.subscribe(Start::Earliest).unwrap();
    let mut want = vec![Vec::new(); 3];
    while let Ok(r) = src.try_recv() {
        want[r.partition as usize].push(r.value);
    }
    let mut got = vec![Vec::new(); 3];
    while let Ok(r) = sub.try_recv() {
        got[r.partition as usize].push(r.value);
    }
    let mut duplicates = 0;
    for p in 0..3 {
        let mut firsts = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &v in &got[p] {
            if seen.insert(v) {
                firsts.push(v);
            } else {
                duplicates += 1;
            }
        }
        assert_eq!(firsts, want[p], "partition {p}: every record, in order");
    }
    let figures = (out.figures(), inbound.figures());
    println!(
        "broker restart: {n} records, {duplicates} duplicate(s) delivered again (at least once); \
         export retries {} errors {}, import retries {} errors {}",
        figures.0[0].figures.retries,
        figures.0[0].figures.errors,
        figures.1[0].figures.retries,
        figures.1[0].figures.errors
    );
    assert!(
        figures.0[0].figures.errors > 0,
        "the export saw the broker go"
    );
    out.close().unwrap();
    inbound.close().unwrap();
}
