//! Compacted topics: the latest record per key, tombstones, lag, eviction of keys.

use ringlet::{
    Bus, Error, GroupConfig, Message, OnFull, PublishError, RecvError, Start, TopicConfig,
};

fn put<T: Clone + Send + Sync + 'static>(t: &ringlet::Topic<T>, k: &str, v: T) -> u64 {
    t.publish_message(Message::new(v).key(k)).unwrap().offset
}

#[test]
fn readers_from_earliest_see_the_latest_value_of_every_key() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("prices", TopicConfig::default().compacted(true))
        .unwrap();
    let mut live = t.subscribe(Start::Earliest).unwrap();
    for (i, k) in ["a", "b", "a", "c", "b", "a"].iter().enumerate() {
        put(&t, k, i as u32);
    }
    // Compaction happened before anyone read: a reader from the earliest offset
    // sees the latest record per key only.
    let mut fresh = t.subscribe(Start::Earliest).unwrap();
    let got: Vec<(u64, String, u32)> = fresh
        .try_recv_batch(100)
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.offset,
                r.key.unwrap().as_str().unwrap().to_string(),
                r.value,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(3, "c".into(), 3), (4, "b".into(), 4), (5, "a".into(), 5)]
    );
    assert_eq!(t.len(), 3);
    assert_eq!(t.end_offsets(), vec![6]);
    assert_eq!(t.earliest_offsets(), vec![3]);
    // Compacted records are not a gap: no Lagged.
    assert_eq!(live.try_recv().unwrap().offset, 3);
    // Records published after a reader read are all seen.
    put(&t, "a", 9);
    put(&t, "d", 10);
    let rest: Vec<u64> = live
        .try_recv_batch(10)
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect();
    // 4 and 5 were fetched with 3 (one batch) before a@5 was replaced.
    assert_eq!(rest, vec![4, 5, 6, 7]);
    assert_eq!(live.skipped(), 0);
}

#[test]
fn tombstones_delete_keys() {
    let bus = Bus::new();
    let users = bus
        .compacted_topic::<String>("users", TopicConfig::default().capacity(2))
        .unwrap();
    let mut along = users.subscribe(Start::Earliest).unwrap();
    put(&users, "u1", Some("Ada".to_string()));
    put(&users, "u1", None);
    // The one reading along learns of the deletion.
    let seen: Vec<Option<String>> = along
        .try_recv_batch(10)
        .unwrap()
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(seen, vec![None]);
    // Tombstones go first when room is needed.
    put(&users, "u2", Some("Bob".to_string()));
    put(&users, "u3", Some("Cy".to_string()));
    let mut fresh = users.subscribe(Start::Earliest).unwrap();
    let keys: Vec<String> = fresh
        .try_recv_batch(10)
        .unwrap()
        .into_iter()
        .map(|r| r.key.unwrap().as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, vec!["u2", "u3"]);
    let snap = serde_json::to_value(bus.snapshot()).unwrap();
    assert_eq!(snap["topics"][0]["config"]["compacted"], true);
    assert_eq!(snap["topics"][0]["partitions"][0]["retained"], 2);
}

#[test]
fn records_need_keys_and_configs_are_checked() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>("t", TopicConfig::default().compacted(true))
        .unwrap();
    assert_eq!(t.publish(1), Err(PublishError::NoKey(1)));
    assert!(matches!(
        t.publish_batch([1, 2]),
        Err(PublishError::NoKey(_))
    ));
    for bad in [
        TopicConfig::default()
            .compacted(true)
            .on_full(OnFull::Block),
        TopicConfig::default()
            .compacted(true)
            .on_full(OnFull::Reject),
        TopicConfig::default()
            .compacted(true)
            .max_age(std::time::Duration::from_secs(1)),
    ] {
        assert!(matches!(
            bus.topic::<u8>("u", bad),
            Err(Error::ConfigError { .. })
        ));
    }
}

#[test]
fn a_full_keep_topic_refuses_new_keys_but_takes_existing_ones() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default()
                .compacted(true)
                .capacity(2)
                .on_full(OnFull::Keep),
        )
        .unwrap();
    put(&t, "a", 1);
    put(&t, "b", 2);
    assert_eq!(
        t.publish_message(Message::new(3).key("c"))
            .unwrap_err()
            .into_inner()
            .value,
        3
    );
    put(&t, "a", 4);
    assert_eq!(t.len(), 2);
}

#[test]
fn overwrite_evicts_the_oldest_key_and_readers_are_told() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>("t", TopicConfig::default().compacted(true).capacity(2))
        .unwrap();
    let mut slow = t.subscribe(Start::Earliest).unwrap();
    put(&t, "a", 1);
    put(&t, "b", 2);
    put(&t, "c", 3); // evicts a
    assert_eq!(
        slow.recv(),
        Err(RecvError::Lagged {
            partition: 0,
            skipped: 1
        })
    );
    assert_eq!(slow.recv().unwrap().value, 2);
    assert_eq!(slow.recv().unwrap().value, 3);
}

#[test]
fn group_lag_does_not_count_compacted_records() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().compacted(true))
        .unwrap();
    let g = t
        .group_with("g", GroupConfig::default().start(Start::Earliest))
        .unwrap();
    let mut m = g.join().unwrap();
    for i in 0..10 {
        put(&t, if i % 2 == 0 { "x" } else { "y" }, i);
    }
    assert_eq!(g.lag(), vec![2]); // x@8 and y@9, not 10 offsets
    let r = m.recv().unwrap();
    assert_eq!((r.offset, r.value), (8, 8));
    m.commit().unwrap();
    assert_eq!(g.lag(), vec![1]); // only y@9 is left, not 9 − 9 offsets
    let mut s = t.subscribe(Start::Offset(0)).unwrap();
    assert_eq!(s.try_recv().unwrap().offset, 8);
}

#[test]
fn timestamps_start_on_compacted_topics() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().compacted(true))
        .unwrap();
    t.publish_message(Message::new(1).key("a").timestamp(10))
        .unwrap();
    t.publish_message(Message::new(2).key("b").timestamp(20))
        .unwrap();
    t.publish_message(Message::new(3).key("a").timestamp(30))
        .unwrap();
    let mut s = t.subscribe(Start::Timestamp(15)).unwrap();
    assert_eq!(s.try_recv().unwrap().value, 2);
}
