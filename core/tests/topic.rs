//! Topics: publishing, partitioning, retention and the full policies.

use std::time::Duration;

use ringlet::{
    partition_for_key, Bus, Headers, ManualClock, Message, OnFull, PublishError,
    PublishTimeoutError, RecvError, Start, TopicConfig,
};

fn manual_bus() -> (Bus, ManualClock) {
    let clock = ManualClock::starting_at(1_000);
    (Bus::builder().clock(clock.clone()).build(), clock)
}

#[test]
fn offsets_are_per_partition_and_contiguous() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(3))
        .unwrap();
    let receipts: Vec<_> = (0..9).map(|i| t.publish(i).unwrap()).collect();
    // Unkeyed records round-robin.
    assert_eq!(
        receipts.iter().map(|r| r.partition).collect::<Vec<_>>(),
        vec![0, 1, 2, 0, 1, 2, 0, 1, 2]
    );
    assert_eq!(t.end_offsets(), vec![3, 3, 3]);
}

#[test]
fn keys_use_kafkas_partitioner_and_come_back_as_given() {
    let bus = Bus::new();
    let t = bus
        .topic::<&str>("t", TopicConfig::default().partitions(7))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    for key in ["customer-42", "a", "21", "foobar"] {
        let r = t.publish_message(Message::new("v").key(key)).unwrap();
        assert_eq!(r.partition, partition_for_key(key.as_bytes(), 7));
        let rec = sub.recv().unwrap();
        assert_eq!(rec.key.as_ref().unwrap().as_str(), Some(key));
    }
    // Bytes keys hash the same bytes and come back as bytes.
    let r = t
        .publish_message(Message::new("v").key(b"21".to_vec()))
        .unwrap();
    assert_eq!(r.partition, partition_for_key(b"21", 7));
    let rec = sub.recv().unwrap();
    assert!(!rec.key.as_ref().unwrap().is_text());
    assert_eq!(rec.key.unwrap().as_bytes(), b"21");
}

#[test]
fn explicit_partition_timestamp_and_headers() {
    let (bus, _clock) = manual_bus();
    let t = bus
        .topic::<u8>("t", TopicConfig::default().partitions(2))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let h: Headers = [("a", "1"), ("b", "2"), ("a", "3")].into_iter().collect();
    t.publish_message(
        Message::new(1)
            .partition(1)
            .timestamp(77)
            .headers(h.clone()),
    )
    .unwrap();
    t.publish(2).unwrap();
    let r1 = sub.recv().unwrap();
    let r2 = sub.recv().unwrap();
    let (explicit, clocked) = if r1.value == 1 { (r1, r2) } else { (r2, r1) };
    assert_eq!((explicit.partition, explicit.timestamp), (1, 77));
    assert_eq!(explicit.headers, h);
    assert_eq!(explicit.headers.get("a"), Some(&b"3"[..]));
    assert_eq!(clocked.timestamp, 1_000, "bus clock timestamp");
}

#[test]
fn a_partition_that_does_not_exist_is_out_of_range() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>("t", TopicConfig::default().partitions(2))
        .unwrap();
    let e = t.publish_message(Message::new(5).partition(2)).unwrap_err();
    assert!(matches!(e, PublishError::OutOfRange(_)));
    assert_eq!(e.into_inner().value, 5);
    assert!(matches!(
        t.try_publish_message(Message::new(5).partition(9)),
        Err(PublishError::OutOfRange(_))
    ));
    let e = t
        .publish_message_timeout(
            Message::new(5).partition(u32::MAX),
            Duration::from_millis(1),
        )
        .unwrap_err();
    assert!(matches!(e, PublishTimeoutError::OutOfRange(_)));
    let e = futures_executor::block_on(t.publish_message_async(Message::new(5).partition(3)))
        .unwrap_err();
    assert!(matches!(e, PublishError::OutOfRange(m) if m.partition == Some(3)));
    assert_eq!(t.end_offsets(), vec![0, 0]);
}

#[test]
fn capacity_is_exact() {
    let bus = Bus::new();
    for cap in [1usize, 3, 5, 16, 17, 100, 1000] {
        let t = bus
            .topic::<usize>(&format!("t{cap}"), TopicConfig::default().capacity(cap))
            .unwrap();
        for i in 0..(cap * 3 + 1) {
            t.publish(i).unwrap();
        }
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        t.close();
        let got: Vec<usize> = sub.iter().map(|r| r.value).collect();
        assert_eq!(got.len(), cap, "capacity {cap}");
        assert_eq!(got[0], cap * 2 + 1);
        assert_eq!(t.earliest_offsets(), vec![(cap * 2 + 1) as u64]);
    }
}

#[test]
fn memory_per_record_is_bounded() {
    let bus = Bus::new();
    let cap = 65536;
    let t = bus
        .topic::<u64>("t", TopicConfig::default().capacity(cap))
        .unwrap();
    let per = t.allocated_bytes() as f64 / cap as f64;
    assert!(per <= 48.0 + 8.0, "{per} bytes per record");
}

#[test]
fn overwrite_never_waits() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>("t", TopicConfig::default().capacity(2))
        .unwrap();
    let _slow = t.subscribe(Start::Earliest).unwrap();
    for i in 0..100 {
        t.try_publish(i).unwrap();
    }
    assert_eq!(t.earliest_offsets(), vec![98]);
}

#[test]
fn keep_refuses_when_full_whoever_reads() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default().capacity(2).on_full(OnFull::Keep),
        )
        .unwrap();
    t.publish(1).unwrap();
    t.publish(2).unwrap();
    assert_eq!(t.publish(3), Err(PublishError::Full(3)));
    assert_eq!(t.try_publish(3), Err(PublishError::Full(3)));
    assert_eq!(
        t.publish_timeout(3, Duration::from_millis(1)),
        Err(PublishTimeoutError::Full(3))
    );
    assert_eq!(
        futures_executor::block_on(t.publish_async(3)),
        Err(PublishError::Full(3))
    );
    assert_eq!(t.publish_batch([3, 4]), Err(PublishError::Full(vec![3, 4])));
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    assert_eq!(sub.recv().unwrap().value, 1);
    assert_eq!(
        t.publish(3),
        Err(PublishError::Full(3)),
        "reading frees nothing"
    );
}

#[test]
fn block_and_reject_are_gated_by_live_subscriptions() {
    let bus = Bus::new();
    for policy in [OnFull::Block, OnFull::Reject] {
        let t = bus
            .topic::<u8>(
                &format!("{policy:?}"),
                TopicConfig::default().capacity(2).on_full(policy),
            )
            .unwrap();
        // No gating reader: evicts like overwrite.
        for i in 0..5 {
            t.try_publish(i).unwrap();
        }
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        assert_eq!(t.try_publish(5), Err(PublishError::Full(5)));
        if policy == OnFull::Reject {
            assert_eq!(t.publish(5), Err(PublishError::Full(5)));
        }
        assert_eq!(
            t.publish_timeout(5, Duration::from_millis(5)),
            Err(PublishTimeoutError::Timeout(5))
        );
        // Reading copies both retained records (3 and 4): that makes room for two.
        assert_eq!(sub.recv().unwrap().value, 3);
        t.try_publish(5).unwrap();
        t.try_publish(6).unwrap();
        assert_eq!(t.try_publish(7), Err(PublishError::Full(7)));
        // A closed subscription stops gating.
        sub.close();
        t.try_publish(7).unwrap();
        // So does a dropped one.
        let sub2 = t.subscribe(Start::Earliest).unwrap();
        assert!(t.try_publish(8).is_err());
        drop(sub2);
        t.try_publish(8).unwrap();
    }
}

#[test]
fn block_publish_waits_for_the_reader() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>(
            "t",
            TopicConfig::default().capacity(4).on_full(OnFull::Block),
        )
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let producer = {
        let t = t.clone();
        std::thread::spawn(move || {
            for i in 0..1000 {
                t.publish(i).unwrap();
            }
            t.close();
        })
    };
    let got: Vec<u32> = sub.iter().map(|r| r.value).collect();
    producer.join().unwrap();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    assert_eq!(sub.skipped(), 0);
}

#[test]
fn block_publish_async_and_batch_wait_for_room() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>(
            "t",
            TopicConfig::default().capacity(3).on_full(OnFull::Block),
        )
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let producer = {
        let t = t.clone();
        std::thread::spawn(move || {
            futures_executor::block_on(async {
                for i in 0..200 {
                    t.publish_async(i).await.unwrap();
                }
            });
            t.publish_batch(200..400).unwrap();
            t.close();
        })
    };
    let got: Vec<u32> = sub.iter().map(|r| r.value).collect();
    producer.join().unwrap();
    assert_eq!(got, (0..400).collect::<Vec<_>>());
}

#[test]
fn a_dropped_publish_future_publishes_nothing() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let bus = Bus::new();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default().capacity(1).on_full(OnFull::Block),
        )
        .unwrap();
    let _sub = t.subscribe(Start::Earliest).unwrap();
    t.publish(1).unwrap();
    let mut fut = Box::pin(t.publish_async(2));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
    drop(fut);
    assert_eq!(t.end_offsets(), vec![1]);
}

#[test]
fn max_age_expires_from_the_oldest_end() {
    let (bus, clock) = manual_bus();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default()
                .capacity(10)
                .max_age(Duration::from_secs(10)),
        )
        .unwrap();
    // Producer-set timestamps out of order: 1 is old, 2 is new, 3 is old.
    t.publish_message(Message::new(1).timestamp(1_000)).unwrap();
    t.publish_message(Message::new(2).timestamp(30_000))
        .unwrap();
    t.publish_message(Message::new(3).timestamp(1_000)).unwrap();
    clock.advance(Duration::from_secs(10));
    // now = 11_000: record 1 is exactly 10 s old, not older.
    assert_eq!(t.earliest_offsets(), vec![0]);
    clock.advance_ms(1);
    // Record 1 expired; 2 is not, so 3 stays although it is old (nothing from the middle).
    assert_eq!(t.earliest_offsets(), vec![1]);
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    assert_eq!(sub.recv().unwrap().value, 2);
    clock.advance(Duration::from_secs(20));
    // now = 31_001: record 2 (30_000) is 1 s old; nothing more expired.
    assert_eq!(t.earliest_offsets(), vec![1]);
    clock.advance(Duration::from_secs(10));
    // Everything expired: a reader at offset 2 sees a gap of one.
    assert_eq!(t.earliest_offsets(), vec![3]);
    let mut late = t.subscribe(Start::Offset(2)).unwrap();
    assert_eq!(
        late.recv(),
        Err(RecvError::Lagged {
            partition: 0,
            skipped: 1
        })
    );
    // Records copied before they expired are still handed out.
    assert_eq!(sub.recv().unwrap().value, 3);
}

#[test]
fn expiry_frees_room_on_block_and_keep_topics() {
    let (bus, clock) = manual_bus();
    for policy in [OnFull::Block, OnFull::Keep] {
        let t = bus
            .topic::<u8>(
                &format!("{policy:?}"),
                TopicConfig::default()
                    .capacity(1)
                    .on_full(policy)
                    .max_age(Duration::from_millis(100)),
            )
            .unwrap();
        let _gating = t.subscribe(Start::Earliest).unwrap();
        t.publish(1).unwrap();
        assert_eq!(t.try_publish(2), Err(PublishError::Full(2)));
        clock.advance_ms(101);
        t.try_publish(2).unwrap();
    }
}

#[test]
fn a_blocked_producer_wakes_when_the_manual_clock_expires_room() {
    let (bus, clock) = manual_bus();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default()
                .capacity(1)
                .on_full(OnFull::Block)
                .max_age(Duration::from_secs(1)),
        )
        .unwrap();
    let _gating = t.subscribe(Start::Earliest).unwrap();
    t.publish(1).unwrap();
    let waiting = {
        let t = t.clone();
        std::thread::spawn(move || t.publish(2))
    };
    // Give the producer time to block (it cannot succeed before the clock moves).
    std::thread::sleep(Duration::from_millis(50));
    assert!(!waiting.is_finished());
    clock.advance(Duration::from_secs(2));
    assert_eq!(waiting.join().unwrap().unwrap().offset, 1);
}

#[test]
fn close_refuses_publishes_and_wakes_waiters() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default().capacity(1).on_full(OnFull::Block),
        )
        .unwrap();
    let _gating = t.subscribe(Start::Earliest).unwrap();
    t.publish(1).unwrap();
    let blocked = {
        let t = t.clone();
        std::thread::spawn(move || t.publish(2))
    };
    std::thread::sleep(Duration::from_millis(20));
    t.close();
    t.close(); // idempotent
    assert_eq!(blocked.join().unwrap(), Err(PublishError::Closed(2)));
    assert_eq!(t.publish(3), Err(PublishError::Closed(3)));
    assert_eq!(t.publish_batch([4]), Err(PublishError::Closed(vec![4])));
    assert!(matches!(
        t.publish_message(Message::new(5).key("k")),
        Err(PublishError::Closed(m)) if m.key.is_some()
    ));
}

#[test]
fn publish_batch_spans_chunks_and_partitions() {
    let bus = Bus::new();
    let one = bus
        .topic::<u32>("one", TopicConfig::default().capacity(1000))
        .unwrap();
    assert_eq!(one.publish_batch(0..900).unwrap(), 900);
    assert_eq!(one.end_offsets(), vec![900]);
    let three = bus
        .topic::<u32>("three", TopicConfig::default().partitions(3))
        .unwrap();
    assert_eq!(three.publish_batch(0..9).unwrap(), 9);
    assert_eq!(three.end_offsets(), vec![3, 3, 3]);
}

#[test]
fn errors_display_and_hand_back() {
    let e = PublishError::Full(String::from("v"));
    assert_eq!(e.to_string(), "the partition is full");
    assert_eq!(format!("{e:?}"), "Full(..)");
    assert_eq!(e.into_inner(), "v");
    let e: PublishTimeoutError<u8> = PublishError::Closed(1).into();
    assert_eq!(e, PublishTimeoutError::Closed(1));
    assert!(RecvError::Lagged {
        partition: 1,
        skipped: 2
    }
    .to_string()
    .contains("2 records"));
}

#[test]
fn unread_records_that_expire_are_reported_as_a_gap_under_every_on_full() {
    let (bus, clock) = manual_bus();
    for policy in [
        OnFull::Overwrite,
        OnFull::Block,
        OnFull::Reject,
        OnFull::Keep,
    ] {
        let t = bus
            .topic::<u8>(
                &format!("expiring-{policy:?}"),
                TopicConfig::default()
                    .capacity(8)
                    .on_full(policy)
                    .max_age(Duration::from_secs(1)),
            )
            .unwrap();
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        for v in 0..3 {
            t.publish(v).unwrap();
        }
        assert_eq!(sub.lag(), 3, "{policy:?}");
        clock.advance(Duration::from_secs(2));
        assert_eq!(sub.lag(), 0, "{policy:?}: lag counts what is retained");
        t.publish(3).unwrap();
        assert_eq!(sub.lag(), 1, "{policy:?}");
        assert_eq!(
            sub.try_recv(),
            Err(ringlet::TryRecvError::Lagged {
                partition: 0,
                skipped: 3
            }),
            "{policy:?}"
        );
        assert_eq!(sub.skipped(), 3, "{policy:?}");
        assert_eq!(sub.try_recv().unwrap().value, 3, "{policy:?}");
    }
}
