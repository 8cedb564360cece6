//! Pattern subscriptions and pattern group members, with topics created and
//! deleted while they read.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringlet::{
    Bus, Error, GroupConfig, QueueConfig, RecvTimeoutError, Start, TopicConfig, TryRecvError,
};

fn drain<T: Clone + Send + Sync + 'static>(
    sub: &mut ringlet::PatternSubscription<T>,
) -> Vec<(String, T)> {
    let mut out = Vec::new();
    while let Ok(r) = sub.try_recv() {
        out.push((r.topic.to_string(), r.record.value));
    }
    out
}

#[test]
fn matches_whole_names_and_picks_up_topics_created_later() {
    let bus = Bus::new();
    let eu = bus
        .topic::<u32>("orders.eu", TopicConfig::default())
        .unwrap();
    bus.topic::<u32>("old.orders.eu", TopicConfig::default())
        .unwrap()
        .publish(99)
        .unwrap();
    bus.topic::<String>("orders.text", TopicConfig::default())
        .unwrap();
    bus.queue::<u32>("orders.jobs", QueueConfig::default())
        .unwrap();
    eu.publish(1).unwrap();
    let mut all = bus
        .subscribe_pattern::<u32>(r"orders\..*", Start::Earliest)
        .unwrap();
    assert_eq!(all.pattern(), r"orders\..*");
    assert_eq!(all.topics(), ["orders.eu"]);
    let not_read = all.not_read();
    assert_eq!(not_read.len(), 1, "{not_read:?}");
    assert_eq!(not_read[0].0, "orders.text");
    assert!(matches!(not_read[0].1, Error::TypeMismatch { .. }));

    // Created after the subscription, and published to before the next read:
    // read from its start although the pattern began at `Earliest` anyway.
    let us = bus
        .topic::<u32>("orders.us", TopicConfig::default().partitions(2))
        .unwrap();
    us.publish(2).unwrap();
    us.publish(3).unwrap();
    let mut got = drain(&mut all);
    got.sort();
    assert_eq!(
        got,
        [
            ("orders.eu".to_string(), 1),
            ("orders.us".to_string(), 2),
            ("orders.us".to_string(), 3)
        ]
    );
    assert_eq!(all.topics(), ["orders.eu", "orders.us"]);
    assert!(matches!(all.try_recv(), Err(TryRecvError::Empty)));
}

#[test]
fn start_applies_to_the_topics_there_at_first_and_new_topics_start_at_their_beginning() {
    let bus = Bus::new();
    let a = bus.topic::<u8>("a.1", TopicConfig::default()).unwrap();
    a.publish(1).unwrap();
    let mut sub = bus
        .subscribe_pattern::<u8>("a\\..*", Start::Latest)
        .unwrap();
    let b = bus.topic::<u8>("a.2", TopicConfig::default()).unwrap();
    b.publish(2).unwrap();
    a.publish(3).unwrap();
    let mut got = drain(&mut sub);
    got.sort();
    assert_eq!(got, [("a.1".to_string(), 3), ("a.2".to_string(), 2)]);
}

#[test]
fn round_robin_among_topics() {
    let bus = Bus::new();
    let a = bus.topic::<u8>("x.a", TopicConfig::default()).unwrap();
    let b = bus.topic::<u8>("x.b", TopicConfig::default()).unwrap();
    a.publish_batch([1, 2, 3]).unwrap();
    b.publish_batch([4, 5, 6]).unwrap();
    let mut sub = bus
        .subscribe_pattern::<u8>("x\\..", Start::Earliest)
        .unwrap();
    let topics: Vec<String> = drain(&mut sub).into_iter().map(|(t, _)| t).collect();
    assert_eq!(topics, ["x.a", "x.b", "x.a", "x.b", "x.a", "x.b"]);
}

#[test]
fn internal_topics_are_not_matched() {
    let bus = Bus::builder().journal(100).build();
    bus.topic::<u8>("t", TopicConfig::default()).unwrap();
    let mut sub = bus
        .subscribe_pattern::<ringlet::journal::Event>(".*", Start::Earliest)
        .unwrap();
    assert!(sub.topics().is_empty());
    let mut bytes = bus.subscribe_pattern::<u8>(".*", Start::Earliest).unwrap();
    assert_eq!(bytes.topics(), ["t"]);
}

#[test]
fn a_pattern_that_is_not_a_regex_is_a_config_error() {
    let bus = Bus::new();
    let err = bus
        .subscribe_pattern::<u8>("orders.(", Start::Earliest)
        .unwrap_err();
    match err {
        Error::ConfigError { name, reason } => {
            assert_eq!(name, "orders.(");
            assert!(reason.contains("not a regular expression"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(bus.group_pattern::<u8>("[", "g").is_err());
}

#[test]
fn a_start_offset_a_topic_does_not_have_is_an_error_at_subscribe() {
    let bus = Bus::new();
    bus.topic::<u8>("t.1", TopicConfig::default()).unwrap();
    assert!(bus
        .subscribe_pattern::<u8>("t\\..*", Start::Offset(5))
        .is_err());
}

#[test]
fn a_deleted_topic_is_drained_then_left_and_a_new_one_of_that_name_read_afresh() {
    let bus = Bus::new();
    let t = bus.topic::<u8>("d.1", TopicConfig::default()).unwrap();
    t.publish_batch([1, 2]).unwrap();
    let mut sub = bus
        .subscribe_pattern::<u8>("d\\..*", Start::Earliest)
        .unwrap();
    assert_eq!(sub.topics(), ["d.1"]);
    bus.delete("d.1").unwrap();
    assert_eq!(
        drain(&mut sub),
        [("d.1".to_string(), 1), ("d.1".to_string(), 2)]
    );
    assert!(sub.topics().is_empty());
    let again = bus.topic::<u8>("d.1", TopicConfig::default()).unwrap();
    again.publish(7).unwrap();
    assert_eq!(drain(&mut sub), [("d.1".to_string(), 7)]);
    assert_eq!(sub.topics(), ["d.1"]);

    // A closed topic is drained and not opened again.
    again.close();
    assert!(drain(&mut sub).is_empty());
    assert!(sub.topics().is_empty());
}

#[test]
fn a_waiting_read_wakes_when_a_matching_topic_is_created() {
    let bus = Bus::new();
    let mut sub = bus
        .subscribe_pattern::<u64>("late\\..*", Start::Earliest)
        .unwrap();
    assert!(matches!(
        sub.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    ));
    let producer = {
        let bus = bus.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let t = bus
                .topic::<u64>("late.one", TopicConfig::default())
                .unwrap();
            t.publish(42).unwrap();
        })
    };
    let r = sub.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!((&*r.topic, r.value), ("late.one", 42));
    producer.join().unwrap();
}

#[test]
fn async_poll_wakes_on_records_and_on_new_topics() {
    let bus = Bus::new();
    let first = bus.topic::<u8>("p.a", TopicConfig::default()).unwrap();
    let mut sub = bus
        .subscribe_pattern::<u8>("p\\..*", Start::Earliest)
        .unwrap();
    let waiter = std::thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..2 {
            let r =
                futures_executor::block_on(std::future::poll_fn(|cx| sub.poll_recv(cx))).unwrap();
            got.push((r.topic.to_string(), r.value));
        }
        got
    });
    std::thread::sleep(Duration::from_millis(30));
    first.publish(1).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    bus.topic::<u8>("p.b", TopicConfig::default())
        .unwrap()
        .publish(2)
        .unwrap();
    let mut got = waiter.join().unwrap();
    got.sort();
    assert_eq!(got, [("p.a".to_string(), 1), ("p.b".to_string(), 2)]);
}

#[test]
fn closing_ends_reads() {
    let bus = Bus::new();
    let t = bus.topic::<u8>("c.1", TopicConfig::default()).unwrap();
    t.publish(1).unwrap();
    let mut sub = bus
        .subscribe_pattern::<u8>("c\\..*", Start::Earliest)
        .unwrap();
    let mut other = bus
        .subscribe_pattern::<u8>("c\\..*", Start::Earliest)
        .unwrap();
    sub.close();
    assert!(matches!(sub.try_recv(), Err(TryRecvError::Closed)));
    assert!(sub.recv().is_err());
    // The bus closed: what was retained is read, then `Closed`.
    let blocked = std::thread::spawn(move || {
        let first = other.recv().unwrap().value;
        (first, other.recv())
    });
    std::thread::sleep(Duration::from_millis(30));
    bus.close().unwrap();
    let (first, then) = blocked.join().unwrap();
    assert_eq!(first, 1);
    assert!(then.is_err());
}

#[test]
fn evicted_records_are_counted_as_skipped() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("s.1", TopicConfig::default().capacity(4))
        .unwrap();
    let mut sub = bus
        .subscribe_pattern::<u32>("s\\..*", Start::Earliest)
        .unwrap();
    t.publish_batch(0..10).unwrap();
    let got: Vec<u32> = drain(&mut sub).into_iter().map(|(_, v)| v).collect();
    assert_eq!(got, [6, 7, 8, 9]);
    assert_eq!(sub.skipped(), 6);
    assert_eq!(sub.lag(), 0);
    t.publish(10).unwrap();
    assert_eq!(sub.lag(), 1);
}

#[test]
fn pattern_members_share_each_topics_partitions_and_commit() {
    let bus = Bus::new();
    let config = GroupConfig::default().start(Start::Earliest);
    let a = bus
        .topic::<u32>("g.a", TopicConfig::default().partitions(4))
        .unwrap();
    let mut m1 = bus
        .group_pattern_with::<u32>("g\\..*", "billing", config.clone())
        .unwrap();
    let mut m2 = bus
        .group_pattern_with::<u32>("g\\..*", "billing", config.clone())
        .unwrap();
    assert_eq!(m1.group(), "billing");
    let b = bus
        .topic::<u32>("g.b", TopicConfig::default().partitions(2))
        .unwrap();
    // Both join g.b before anything is read from it (a rebalance after a read
    // with nothing committed gives a partition's records again: at least once).
    assert_eq!(m1.topics(), ["g.a", "g.b"]);
    assert_eq!(m2.topics(), ["g.a", "g.b"]);
    for i in 0..100 {
        a.publish_message(ringlet::Message::new(i).key(format!("k{i}")))
            .unwrap();
        b.publish_message(ringlet::Message::new(1000 + i).key(format!("k{i}")))
            .unwrap();
    }
    let mut seen = HashSet::new();
    let mut per_member = [0, 0];
    for _ in 0..50 {
        for (i, m) in [&mut m1, &mut m2].into_iter().enumerate() {
            while let Ok(r) = m.try_recv() {
                assert!(
                    seen.insert((r.topic.to_string(), r.value)),
                    "twice: {:?}",
                    r.value
                );
                per_member[i] += 1;
            }
        }
        if seen.len() == 200 {
            break;
        }
    }
    assert_eq!(seen.len(), 200);
    assert!(per_member[0] > 0 && per_member[1] > 0, "{per_member:?}");
    let owned: Vec<_> = m1.assignment().into_iter().chain(m2.assignment()).collect();
    let mut parts: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (topic, ps) in owned {
        parts.entry(topic).or_default().extend(ps);
    }
    for ps in parts.values_mut() {
        ps.sort();
    }
    assert_eq!(parts["g.a"], [0, 1, 2, 3]);
    assert_eq!(parts["g.b"], [0, 1]);
    m1.commit().unwrap();
    m2.commit().unwrap();
    let committed: u64 = a
        .group("billing")
        .unwrap()
        .committed()
        .into_iter()
        .chain(b.group("billing").unwrap().committed())
        .map(|c| c.unwrap_or(0))
        .sum();
    assert_eq!(committed, 200);
}

#[test]
fn a_group_of_that_name_with_other_settings_is_listed_as_not_read() {
    let bus = Bus::new();
    let mut m = bus.group_pattern::<u8>("n\\..*", "g").unwrap();
    let t = bus.topic::<u8>("n.1", TopicConfig::default()).unwrap();
    t.group_with("g", GroupConfig::default().auto_commit(true))
        .unwrap();
    let not_read = m.not_read();
    assert_eq!(not_read.len(), 1, "{not_read:?}");
    assert!(matches!(not_read[0].1, Error::ConfigError { .. }));
    // Existing at the start, the same mismatch is the call's error.
    assert!(bus.group_pattern::<u8>("n\\..*", "g").is_err());
}

/// Topics created, published to and deleted while a reader on another thread
/// follows the pattern: every record of every topic is read exactly once (a topic
/// is deleted only once the reader has seen it, as records of a topic deleted
/// before anyone looked are gone).
#[test]
fn topics_created_and_deleted_while_reading_lose_and_repeat_nothing() {
    const TOPICS: u64 = if cfg!(miri) { 4 } else { 40 };
    const EACH: u64 = if cfg!(miri) { 5 } else { 200 };
    let bus = Bus::new();
    let mut sub = bus
        .subscribe_pattern::<u64>("churn\\..*", Start::Earliest)
        .unwrap();
    let firsts: Arc<Vec<AtomicU64>> = Arc::new((0..TOPICS).map(|_| AtomicU64::new(0)).collect());
    let producer = {
        let (bus, firsts) = (bus.clone(), firsts.clone());
        std::thread::spawn(move || {
            for t in 0..TOPICS {
                let name = format!("churn.{t}");
                let topic = bus
                    .topic::<u64>(&name, TopicConfig::default().partitions(3).capacity(1024))
                    .unwrap();
                for i in 0..EACH {
                    topic.publish(t * EACH + i).unwrap();
                }
                if t % 2 == 0 {
                    while firsts[t as usize].load(Ordering::SeqCst) == 0 {
                        std::thread::yield_now();
                    }
                    bus.delete(&name).unwrap();
                }
            }
        })
    };
    let mut seen = HashSet::new();
    while (seen.len() as u64) < TOPICS * EACH {
        let r = sub.recv_timeout(Duration::from_secs(60)).expect("a record");
        let t: u64 = r.topic.strip_prefix("churn.").unwrap().parse().unwrap();
        assert_eq!(r.value / EACH, t, "a record under the wrong topic");
        firsts[t as usize].store(1, Ordering::SeqCst);
        assert!(seen.insert(r.value), "read twice: {}", r.value);
    }
    producer.join().unwrap();
    assert!(matches!(sub.try_recv(), Err(TryRecvError::Empty)));
    assert_eq!(sub.skipped(), 0);
    let mut left: Vec<String> = (0..TOPICS)
        .filter(|t| t % 2 == 1)
        .map(|t| format!("churn.{t}"))
        .collect();
    left.sort();
    assert_eq!(sub.topics(), left);
}
