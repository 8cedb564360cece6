//! The journal, deterministic mode (manual clock) and snapshots.

use std::time::Duration;

use ringlet::journal::{Event, EventKind, JOURNAL_TOPIC};
use ringlet::{Bus, GroupConfig, ManualClock, QueueConfig, ShareGroupConfig, Start, TopicConfig};

fn journal(bus: &Bus) -> Vec<(i64, Event)> {
    let mut sub = bus
        .get_topic::<Event>(JOURNAL_TOPIC)
        .unwrap()
        .subscribe(Start::Earliest)
        .unwrap();
    std::iter::from_fn(|| sub.try_recv().ok().map(|r| (r.timestamp, r.value))).collect()
}

/// A scripted scenario touching every kind of transition.
fn scenario() -> (Vec<(i64, Event)>, serde_json::Value) {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).journal(1000).build();
    let t = bus
        .topic::<u32>(
            "orders",
            TopicConfig::default()
                .partitions(2)
                .capacity(2)
                .max_age(Duration::from_secs(100)),
        )
        .unwrap();
    let dlq = bus
        .queue::<u32>("jobs.dlq", QueueConfig::default())
        .unwrap();
    let jobs = bus
        .queue::<u32>(
            "jobs",
            QueueConfig::default()
                .visibility_timeout(Duration::from_secs(5))
                .max_deliveries(2)
                .dead_letter("jobs.dlq"),
        )
        .unwrap();
    let g = t
        .group_with(
            "billing",
            GroupConfig::default()
                .start(Start::Earliest)
                .session_timeout(Duration::from_secs(8)),
        )
        .unwrap();
    let mut a = g.join().unwrap();
    let mut b = g.join().unwrap();
    let share = t
        .share_group_with("workers", ShareGroupConfig::default())
        .unwrap();
    let w = share.join().unwrap();
    for i in 0..6 {
        t.publish_message(ringlet::Message::new(i).key(format!("k{i}")))
            .unwrap();
    }
    assert!(
        matches!(
            a.try_recv(),
            Err(ringlet::TryRecvError::Lagged { skipped, .. }) if skipped >= 1
        ),
        "the first record was evicted: Lagged"
    );
    let r = a.try_recv().unwrap();
    a.commit_offsets(&[(r.partition, r.offset + 1)]).unwrap();
    let _ = b.try_recv();
    jobs.send(1).unwrap();
    jobs.send(2).unwrap();
    let d1 = jobs.try_receive().unwrap();
    let d2 = jobs.try_receive().unwrap();
    d1.ack().unwrap();
    let hung = d2; // a worker that hangs: the timeout takes it back
    w.try_receive().expect("a share delivery").ack().unwrap();
    clock.advance(Duration::from_secs(3));
    let _ = a.try_recv(); // a stays alive; b does not
    clock.advance(Duration::from_secs(3)); // the job times out at 5 s
    let d2 = jobs.try_receive().unwrap();
    d2.nack().unwrap(); // its last attempt: dead letter
    clock.advance(Duration::from_secs(3)); // b's session ends at 8 s
    clock.advance(Duration::from_secs(200)); // max_age expires the records
    drop(hung); // too late to settle: nothing changes
    drop(dlq);
    let snapshot = serde_json::to_value(bus.snapshot()).unwrap();
    (journal(&bus), snapshot)
}

#[test]
fn a_replayed_scenario_gives_an_identical_journal_and_snapshot() {
    let (j1, s1) = scenario();
    let (j2, s2) = scenario();
    assert_eq!(j1, j2);
    assert_eq!(s1, s2);
    let kinds: std::collections::BTreeSet<EventKind> = j1.iter().map(|(_, e)| e.kind).collect();
    for k in [
        EventKind::Append,
        EventKind::Evict,
        EventKind::Expire,
        EventKind::Deliver,
        EventKind::Redeliver,
        EventKind::Ack,
        EventKind::Nack,
        EventKind::DeadLetter,
        EventKind::Commit,
        EventKind::Join,
        EventKind::Leave,
        EventKind::Rebalance,
    ] {
        assert!(kinds.contains(&k), "no {k:?} in {j1:#?}");
    }
    // Time-based transitions carry the time they fell due, in deadline order.
    let timed: Vec<(i64, EventKind, Option<String>)> = j1
        .iter()
        .filter(|(_, e)| matches!(e.kind, EventKind::Expire | EventKind::Leave))
        .map(|(ts, e)| (*ts, e.kind, e.reason.clone()))
        .collect();
    assert_eq!(timed[0], (5_000, EventKind::Expire, None), "{timed:?}");
    assert_eq!(
        timed[1],
        (8_000, EventKind::Leave, Some("session_timeout".into())),
        "{timed:?}"
    );
    let mut times: Vec<i64> = j1.iter().map(|(t, _)| *t).collect();
    let sorted = {
        let mut s = times.clone();
        s.sort();
        s
    };
    assert_eq!(times, sorted, "the journal is in time order");
    times.dedup();
    let dead = j1
        .iter()
        .find(|(_, e)| e.kind == EventKind::DeadLetter)
        .unwrap();
    assert_eq!(
        (
            dead.1.reason.as_deref(),
            dead.1.outcome.as_deref(),
            dead.1.attempt
        ),
        (Some("max_deliveries"), Some("sent"), Some(2))
    );
}

#[test]
fn manual_clock_fires_transitions_in_deadline_order_ties_in_creation_order() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).journal(100).build();
    let slow = bus
        .queue::<u8>(
            "slow",
            QueueConfig::default().visibility_timeout(Duration::from_secs(9)),
        )
        .unwrap();
    let fast = bus
        .queue::<u8>(
            "fast",
            QueueConfig::default().visibility_timeout(Duration::from_secs(3)),
        )
        .unwrap();
    let same = bus
        .queue::<u8>(
            "same",
            QueueConfig::default().visibility_timeout(Duration::from_secs(3)),
        )
        .unwrap();
    let mut hung = vec![];
    for q in [&slow, &fast, &same] {
        q.send(1).unwrap();
        hung.push(q.try_receive().unwrap());
    }
    clock.advance(Duration::from_secs(60));
    drop(hung);
    let order: Vec<(i64, String)> = journal(&bus)
        .into_iter()
        .filter(|(_, e)| e.kind == EventKind::Expire)
        .map(|(t, e)| (t, e.queue.unwrap()))
        .collect();
    assert_eq!(
        order,
        vec![
            (3_000, "fast".to_string()),
            (3_000, "same".to_string()),
            (9_000, "slow".to_string())
        ]
    );
}

#[test]
fn the_snapshot_json_shape_is_stable() {
    let bus = Bus::builder()
        .clock(ManualClock::starting_at(1_000))
        .build();
    let t = bus
        .topic::<u8>("orders", TopicConfig::default().partitions(2).capacity(4))
        .unwrap();
    t.publish_message(ringlet::Message::new(1).partition(0))
        .unwrap();
    t.publish_message(ringlet::Message::new(2).partition(0))
        .unwrap();
    let sub = t.subscribe(Start::Earliest).unwrap();
    let mut m = t
        .group_with("billing", GroupConfig::default().start(Start::Earliest))
        .unwrap()
        .join()
        .unwrap();
    m.try_recv().unwrap();
    m.commit().unwrap();
    let share = t.share_group("workers").unwrap();
    let _w = share.join().unwrap();
    let q = bus
        .queue::<u8>("jobs", QueueConfig::default().capacity(8))
        .unwrap();
    q.send(1).unwrap();
    let got = serde_json::to_value(bus.snapshot()).unwrap();
    let expected = serde_json::json!({
      "time_ms": 1000,
      "topics": [{
        "name": "orders", "closed": false,
        "config": {"partitions": 2, "capacity": 4, "on_full": "overwrite", "max_age_ms": null, "compacted": false},
        "partitions": [
          {"partition": 0, "earliest": 0, "latest": 2, "retained": 2},
          {"partition": 1, "earliest": 0, "latest": 0, "retained": 0}
        ],
        "subscriptions": [{"id": sub_id(&got), "positions": [0, 0], "lag": 2}],
        "groups": [{
          "name": "billing",
          "config": {"start": "earliest", "auto_commit": false, "session_timeout_ms": 45000},
          "members": [{"id": 1, "partitions": [0, 1], "manual": false, "last_seen": 1000}],
          "partitions": [
            {"partition": 0, "owner": 1, "committed": 1, "position": 1, "end": 2, "lag": 1},
            {"partition": 1, "owner": 1, "committed": null, "position": 0, "end": 0, "lag": 0}
          ]
        }],
        "share_groups": [{
          "name": "workers", "members": 1,
          "figures": {"ready": 0, "in_flight": 0, "delayed": 0, "sent": 0, "acked": 0, "nacked": 0,
                      "redelivered": 0, "expired": 0, "dead_lettered": 0, "dropped": 0,
                      "dead_letter_overflow": 0},
          "lost": 0,
          "partitions": [
            {"partition": 0, "fetched": 2, "oldest_unsettled": null, "unsettled": 0},
            {"partition": 1, "fetched": 0, "oldest_unsettled": null, "unsettled": 0}
          ]
        }]
      }],
      "queues": [{
        "name": "jobs", "closed": false,
        "config": {"capacity": 8, "visibility_timeout_ms": 30000, "max_deliveries": null, "dead_letter": null},
        "figures": {"ready": 1, "in_flight": 0, "delayed": 0, "sent": 1, "acked": 0, "nacked": 0,
                    "redelivered": 0, "expired": 0, "dead_lettered": 0, "dropped": 0,
                    "dead_letter_overflow": 0}
      }],
      "links": []
    });
    assert_eq!(
        got,
        expected,
        "{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
    drop(sub);
}

fn sub_id(v: &serde_json::Value) -> serde_json::Value {
    v["topics"][0]["subscriptions"][0]["id"].clone()
}

#[test]
fn the_journal_is_off_by_default() {
    let bus = Bus::new();
    assert!(bus.get_topic::<Event>(JOURNAL_TOPIC).is_err());
    assert!(bus.names().is_empty());
}
