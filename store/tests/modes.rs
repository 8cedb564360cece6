//! The durability modes on a store directory: synced publishes and sends from
//! many threads at once (group commits), a sync the disk fails, buffered
//! records reaching their files without a sync, and batches written once.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringlet::storage::Durability;
use ringlet::{Bus, Error, GroupConfig, PublishError, QueueConfig, SendError, Start, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::{Failing, FailingSync, Scratch};

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

fn all(t: &ringlet::Topic<u64>) -> Vec<(u32, u64, u64)> {
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let mut got = Vec::new();
    while let Ok(b) = sub.try_recv_batch(4096) {
        if b.is_empty() {
            break;
        }
        got.extend(b.into_iter().map(|r| (r.partition, r.offset, r.value)));
    }
    got
}

#[test]
fn synced_publishes_and_sends_from_many_threads_all_come_back() {
    let s = Scratch::new("modes-synced");
    let synced = TopicConfig::default().durability(Durability::Synced);
    let queue = QueueConfig::default()
        .capacity(4096)
        .durability(Durability::Synced);
    {
        let bus = bus(&s.0);
        let t = bus.durable_topic::<u64>("t", synced.clone()).unwrap();
        let q = bus.durable_queue::<u64>("q", queue.clone()).unwrap();
        std::thread::scope(|scope| {
            for w in 0..4u64 {
                let (t, q) = (t.clone(), q.clone());
                scope.spawn(move || {
                    for i in 0..100 {
                        t.publish(w * 1000 + i).unwrap();
                        q.send(w * 1000 + i).unwrap();
                    }
                    t.publish_batch((0..10).map(|i| w * 1000 + 500 + i))
                        .unwrap();
                    q.send_batch((0..10).map(|i| w * 1000 + 500 + i)).unwrap();
                });
            }
        });
    }
    let bus = bus(&s.0);
    let t = bus.durable_topic::<u64>("t", synced).unwrap();
    let got = all(&t);
    assert_eq!(got.len(), 440);
    assert!(got.iter().enumerate().all(|(i, r)| r.1 == i as u64));
    let mut values: Vec<u64> = got.iter().map(|r| r.2).collect();
    values.sort_unstable();
    let mut expected: Vec<u64> = (0..4u64)
        .flat_map(|w| (0..100).chain(500..510).map(move |i| w * 1000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(values, expected);
    let q = bus.durable_queue::<u64>("q", queue).unwrap();
    let mut sent: Vec<u64> = std::iter::from_fn(|| q.try_receive().ok())
        .map(|d| {
            let v = *d.value();
            d.ack().unwrap();
            v
        })
        .collect();
    sent.sort_unstable();
    assert_eq!(sent, expected);
}

#[test]
fn a_sync_the_disk_fails_hands_the_value_back_and_says_why() {
    let s = Scratch::new("modes-failed-sync");
    let bus = Bus::builder()
        .storage(FailingSync(Dir::open(&s.0).unwrap()))
        .build();
    let t = bus
        .durable_topic::<String>("t", TopicConfig::default().durability(Durability::Synced))
        .unwrap();
    match t.publish("kept".to_string()) {
        Err(PublishError::Storage(v, Error::Io { reason, .. })) => {
            assert_eq!(v, "kept");
            assert!(reason.contains("fsync"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Written before the sync failed, it may have been read: it is in the topic.
    assert_eq!(t.end_offsets(), [1]);
    match t.publish_batch(["a".to_string(), "b".to_string()]) {
        Err(PublishError::Storage(rest, _)) => assert_eq!(rest, ["a", "b"]),
        other => panic!("{other:?}"),
    }
    let q = bus
        .durable_queue::<String>("q", QueueConfig::default().durability(Durability::Synced))
        .unwrap();
    assert!(matches!(
        q.send("job".to_string()),
        Err(SendError::Storage(v, _)) if v == "job"
    ));
    assert!(q.try_receive().is_err(), "a refused send is not received");
    assert!(bus.sync().is_err());
}

#[test]
fn buffered_records_reach_their_file_without_a_sync_and_come_back() {
    let s = Scratch::new("modes-buffered");
    let config = TopicConfig::default().durability(Durability::Buffered);
    {
        let bus = bus(&s.0);
        let t = bus.durable_topic::<u64>("t", config.clone()).unwrap();
        let segment = s.0.join("t").join("0").join(format!("{:020}.log", 0));
        let empty = std::fs::metadata(&segment).unwrap().len();
        t.publish_batch(0..100).unwrap();
        for i in 100..200 {
            t.publish(i).unwrap();
        }
        // The background writer writes them within its delay; wait generously.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&segment).unwrap().len() == empty {
            assert!(Instant::now() < deadline, "nothing was written");
            std::thread::sleep(Duration::from_millis(2));
        }
        // A commit writes what waits first: it never points past the log.
        let group = t
            .group_with("g", GroupConfig::default().start(Start::Earliest))
            .unwrap();
        let mut m = group.join().unwrap();
        assert_eq!(m.try_recv_batch(1000).unwrap().len(), 200);
        t.publish(200).unwrap();
        m.commit().unwrap();
        let q = bus
            .durable_queue::<u64>("q", QueueConfig::default().durability(Durability::Buffered))
            .unwrap();
        q.send_batch(0..10).unwrap();
        q.try_receive().unwrap().ack().unwrap();
    } // dropped: what waits is written
    let bus = bus(&s.0);
    let t = bus.durable_topic::<u64>("t", config).unwrap();
    let got: Vec<u64> = all(&t).into_iter().map(|r| r.2).collect();
    assert_eq!(got, (0..201).collect::<Vec<_>>());
    assert_eq!(t.group("g").unwrap().committed(), [Some(200)]);
    let q = bus
        .durable_queue::<u64>("q", QueueConfig::default().durability(Durability::Buffered))
        .unwrap();
    assert_eq!(q.figures().ready, 9);
}

#[test]
fn a_durable_queues_batch_is_one_write() {
    let s = Scratch::new("modes-batch");
    let appends = Arc::new(AtomicUsize::new(0));
    let bus = Bus::builder()
        .storage(Failing {
            inner: Dir::open(&s.0).unwrap(),
            fail_at: usize::MAX,
            appends: appends.clone(),
        })
        .build();
    let q = bus
        .durable_queue::<u64>("q", QueueConfig::default().capacity(64))
        .unwrap();
    assert_eq!(q.send_batch(0..50).unwrap(), 50);
    assert_eq!(appends.load(Ordering::SeqCst), 1);
    // More than there is room for: what fits as one write, then one at a time
    // as room comes (a worker acks meanwhile).
    let worker = {
        let q = q.clone();
        std::thread::spawn(move || {
            for _ in 0..30 {
                q.receive().unwrap().ack().unwrap();
            }
        })
    };
    assert_eq!(q.send_batch(50..90).unwrap(), 40);
    worker.join().unwrap();
    assert_eq!(q.figures().ready, 60);
    let t = bus
        .durable_topic::<u64>("t", TopicConfig::default())
        .unwrap();
    let before = appends.load(Ordering::SeqCst);
    t.publish_batch(0..50).unwrap();
    assert_eq!(appends.load(Ordering::SeqCst), before + 1);
}
