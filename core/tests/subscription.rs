//! Subscriptions: starts, round-robin, lag, seek, close, blocking and async reads.

use std::time::Duration;

use futures_util::StreamExt;
use ringlet::{
    Bus, Error, Message, OnFull, OnLag, RecvError, RecvTimeoutError, Start, Subscription,
    TopicConfig, TryRecvError,
};

fn values<T: Clone + Send + Sync + 'static>(sub: &mut Subscription<T>) -> Vec<T> {
    let mut v = vec![];
    while let Ok(r) = sub.try_recv() {
        v.push(r.value);
    }
    v
}

#[test]
fn starts() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(2))
        .unwrap();
    for i in 0..6 {
        t.publish_message(Message::new(i).timestamp(i64::from(i) * 10))
            .unwrap();
    }
    // Partition 0 holds 0, 2, 4 (offsets 0..3); partition 1 holds 1, 3, 5.
    let mut e = t.subscribe(Start::Earliest).unwrap();
    assert_eq!(values(&mut e), vec![0, 1, 2, 3, 4, 5]);
    let mut l = t.subscribe(Start::Latest).unwrap();
    assert!(values(&mut l).is_empty());
    let mut o = t.subscribe(Start::Offset(2)).unwrap();
    assert_eq!(values(&mut o), vec![4, 5]);
    let mut os = t.subscribe(Start::Offsets(vec![(1, 1)])).unwrap();
    assert_eq!(values(&mut os), vec![3, 5]);
    let mut ts = t.subscribe(Start::Timestamp(25)).unwrap();
    assert_eq!(values(&mut ts), vec![4, 3, 5]);
    let mut future = t.subscribe(Start::Timestamp(1_000)).unwrap();
    assert!(values(&mut future).is_empty());
    assert_eq!(
        t.subscribe(Start::Offset(3)).unwrap().positions(),
        vec![3, 3]
    );
}

#[test]
fn bad_starts_are_out_of_range() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(2))
        .unwrap();
    t.publish(1).unwrap();
    for bad in [
        Start::Offset(2),
        Start::Offsets(vec![(2, 0)]),
        Start::Offsets(vec![(0, 0), (0, 1)]),
        Start::Offsets(vec![(1, 1)]),
    ] {
        assert!(
            matches!(t.subscribe(bad.clone()), Err(Error::OutOfRange { .. })),
            "{bad:?}"
        );
    }
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    assert!(sub.seek(Start::Offset(99)).is_err());
    assert_eq!(
        sub.recv().unwrap().value,
        1,
        "a failed seek changes nothing"
    );
}

#[test]
fn round_robin_is_deterministic() {
    let run = || {
        let bus = Bus::new();
        let t = bus
            .topic::<u32>("t", TopicConfig::default().partitions(3))
            .unwrap();
        for i in 0..30 {
            t.publish_message(Message::new(i).key(format!("k{}", i % 7)))
                .unwrap();
        }
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        sub.try_recv_batch(100)
            .unwrap()
            .into_iter()
            .map(|r| (r.partition, r.offset, r.value))
            .collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a.len(), 30);
    // Offsets increase within each partition; partitions alternate while all have records.
    for p in 0..3 {
        let offs: Vec<u64> = a.iter().filter(|x| x.0 == p).map(|x| x.1).collect();
        assert!(offs.windows(2).all(|w| w[1] == w[0] + 1));
    }
    assert_ne!(a[0].0, a[1].0);
}

#[test]
fn lag_is_exact_and_reported_once_per_gap() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().capacity(4))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    for i in 0..10 {
        t.publish(i).unwrap();
    }
    assert_eq!(
        sub.recv(),
        Err(RecvError::Lagged {
            partition: 0,
            skipped: 6
        })
    );
    assert_eq!(values(&mut sub), vec![6, 7, 8, 9]);
    for i in 10..20 {
        t.publish(i).unwrap();
    }
    assert_eq!(
        sub.try_recv(),
        Err(TryRecvError::Lagged {
            partition: 0,
            skipped: 6
        })
    );
    assert_eq!(sub.recv_timeout(Duration::ZERO).unwrap().value, 16);
    assert_eq!(sub.skipped(), 12);
}

#[test]
fn a_batch_stops_before_a_gap() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().capacity(128))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    t.publish_batch(0..100).unwrap();
    // The subscription copies 64 records, then the producer laps the rest.
    assert_eq!(sub.recv().unwrap().value, 0);
    t.publish_batch(100..300).unwrap();
    let first = sub.recv_batch(1000).unwrap();
    assert_eq!(
        first.len(),
        63,
        "the copied records, then stop before the gap"
    );
    assert_eq!(first.last().unwrap().value, 63);
    assert_eq!(
        sub.recv_batch(1000),
        Err(RecvError::Lagged {
            partition: 0,
            skipped: 172 - 64
        })
    );
    assert_eq!(sub.recv_batch(1000).unwrap()[0].value, 172);
}

#[test]
fn on_lag_policies() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().capacity(2))
        .unwrap();
    let mut latest = t.subscribe_with(Start::Earliest, OnLag::Latest).unwrap();
    let mut error = t.subscribe_with(Start::Earliest, OnLag::Error).unwrap();
    t.publish_batch(0..5).unwrap();
    assert_eq!(
        latest.recv(),
        Err(RecvError::Lagged {
            partition: 0,
            skipped: 5
        })
    );
    assert_eq!(latest.try_recv(), Err(TryRecvError::Empty));
    for _ in 0..3 {
        assert_eq!(
            error.recv(),
            Err(RecvError::Lagged {
                partition: 0,
                skipped: 3
            })
        );
    }
    assert!(error.iter().next().is_none(), "iteration ends at the gap");
    assert_eq!(error.skipped(), 3, "counted once");
    error.seek(Start::Offset(4)).unwrap();
    assert_eq!(error.recv().unwrap().value, 4);
}

#[test]
fn gaps_are_counted_by_iteration() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().capacity(3))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    t.publish_batch(0..10).unwrap();
    t.close();
    assert_eq!(
        sub.iter().map(|r| r.value).collect::<Vec<_>>(),
        vec![7, 8, 9]
    );
    assert_eq!(sub.skipped(), 7);
    assert_eq!(sub.recv(), Err(RecvError::Closed));
}

#[test]
fn an_evicted_start_offset_behaves_as_lag() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().capacity(2))
        .unwrap();
    t.publish_batch(0..5).unwrap();
    let mut sub = t.subscribe(Start::Offset(1)).unwrap();
    assert_eq!(
        sub.recv(),
        Err(RecvError::Lagged {
            partition: 0,
            skipped: 2
        })
    );
    assert_eq!(sub.recv().unwrap().value, 3);
}

#[test]
fn seek_replays() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", TopicConfig::default()).unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    t.publish_batch(0..3).unwrap();
    assert_eq!(values(&mut sub), vec![0, 1, 2]);
    sub.seek(Start::Offset(1)).unwrap();
    assert_eq!(values(&mut sub), vec![1, 2]);
    sub.seek(Start::Latest).unwrap();
    assert!(values(&mut sub).is_empty());
    assert_eq!(sub.lag(), 0);
}

#[test]
fn close_drains_then_closes() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(2))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    t.publish_batch(0..4).unwrap();
    t.close();
    let mut late = t.subscribe(Start::Latest).unwrap();
    assert_eq!(sub.recv_batch(10).unwrap().len(), 4);
    assert_eq!(sub.recv(), Err(RecvError::Closed));
    assert_eq!(sub.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(
        sub.recv_timeout(Duration::from_secs(5)),
        Err(RecvTimeoutError::Closed)
    );
    assert_eq!(late.recv(), Err(RecvError::Closed));
    // Subscribing to a closed topic still replays what is retained.
    let mut replay = t.subscribe(Start::Earliest).unwrap();
    assert_eq!(replay.iter().count(), 4);
}

#[test]
fn a_closed_subscription_reports_closed() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", TopicConfig::default()).unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    t.publish(1).unwrap();
    sub.close();
    sub.close();
    assert_eq!(sub.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(sub.seek(Start::Earliest), Err(Error::Closed));
}

#[test]
fn recv_blocks_until_a_publish_and_close_wakes_it() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(2))
        .unwrap();
    let mut sub = t.subscribe(Start::Latest).unwrap();
    let reader = std::thread::spawn(move || {
        let first = sub.recv().unwrap().value;
        let end = sub.recv();
        (first, end)
    });
    std::thread::sleep(Duration::from_millis(30));
    t.publish(7).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    t.close();
    assert_eq!(reader.join().unwrap(), (7, Err(RecvError::Closed)));
}

#[test]
fn recv_timeout_is_real_time() {
    let bus = Bus::builder().clock(ringlet::ManualClock::new()).build();
    let t = bus.topic::<u32>("t", TopicConfig::default()).unwrap();
    let mut sub = t.subscribe(Start::Latest).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        sub.recv_timeout(Duration::from_millis(30)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[test]
fn async_recv_and_stream() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>(
            "t",
            TopicConfig::default().on_full(OnFull::Block).capacity(8),
        )
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let producer = {
        let t = t.clone();
        std::thread::spawn(move || {
            for i in 0..100 {
                t.publish(i).unwrap();
            }
            t.close();
        })
    };
    let got = futures_executor::block_on(async {
        let first = sub.recv_async().await.unwrap().value;
        let rest: Vec<u32> = (&mut sub).map(|r| r.value).collect().await;
        (first, rest)
    });
    producer.join().unwrap();
    assert_eq!(got.0, 0);
    assert_eq!(got.1, (1..100).collect::<Vec<_>>());
}

#[test]
fn a_dropped_recv_future_loses_nothing() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", TopicConfig::default()).unwrap();
    let mut sub = t.subscribe(Start::Latest).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    {
        let mut fut = Box::pin(sub.recv_async());
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
    }
    t.publish(5).unwrap();
    {
        // Polled once with a record ready, then dropped before being polled again.
        let fut = Box::pin(sub.recv_async());
        drop(fut);
    }
    assert_eq!(sub.try_recv().unwrap().value, 5);
}

#[test]
fn many_independent_readers_see_everything() {
    let bus = Bus::new();
    let t = bus
        .topic::<String>("t", TopicConfig::default().capacity(100))
        .unwrap();
    let mut subs: Vec<_> = (0..5)
        .map(|_| t.subscribe(Start::Earliest).unwrap())
        .collect();
    for i in 0..50 {
        t.publish(format!("e{i}")).unwrap();
    }
    for s in &mut subs {
        let v = values(s);
        assert_eq!(v.len(), 50);
        assert_eq!(v[49], "e49");
    }
}

#[test]
fn a_panicking_clone_does_not_poison_the_topic() {
    #[derive(Debug)]
    struct Fragile(bool);
    impl Clone for Fragile {
        fn clone(&self) -> Self {
            assert!(!self.0, "fragile value");
            Fragile(self.0)
        }
    }
    let bus = Bus::new();
    let t = bus
        .topic::<Fragile>("t", TopicConfig::default().capacity(2))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    t.publish(Fragile(true)).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sub.try_recv().map(|_| ())));
    assert!(r.is_err());
    // Producers can still reuse every slot.
    for _ in 0..10 {
        t.publish(Fragile(false)).unwrap();
    }
    let mut fresh = t.subscribe(Start::Earliest).unwrap();
    assert!(fresh.try_recv().is_ok());
}

/// A waker that publishes to a topic when its last handle is dropped.
struct PublishOnDrop(ringlet::Topic<u32>);

impl std::task::Wake for PublishOnDrop {
    fn wake(self: std::sync::Arc<Self>) {}
}

impl Drop for PublishOnDrop {
    fn drop(&mut self) {
        let _ = self.0.try_publish(99);
    }
}

#[test]
fn a_waker_whose_drop_publishes_to_the_topic_does_not_deadlock() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let bus = ringlet::Bus::new();
        let t = bus
            .topic::<u32>("t", ringlet::TopicConfig::default())
            .unwrap();
        let mut sub = t.subscribe(ringlet::Start::Earliest).unwrap();
        {
            let mut fut = Box::pin(sub.recv_async());
            let first = Waker::from(std::sync::Arc::new(PublishOnDrop(t.clone())));
            assert!(fut
                .as_mut()
                .poll(&mut Context::from_waker(&first))
                .is_pending());
            drop(first); // the registered clone is now the last handle
            let second = Waker::from(std::sync::Arc::new(PublishOnDrop(t.clone())));
            // Replacing the first waker drops it: it publishes 99.
            let r = fut.as_mut().poll(&mut Context::from_waker(&second));
            drop(second);
            if let std::task::Poll::Ready(r) = r {
                assert_eq!(r.unwrap().value, 99);
            }
            // Dropping the future unregisters (and drops) what is registered.
        }
        done_tx.send(t.end_offsets()[0]).unwrap();
    });
    let published = done_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("no deadlock");
    assert!(published >= 1, "the wakers' drops published");
}

/// A value whose `Clone` panics when it holds 13.
#[derive(Debug, PartialEq)]
struct Fussy(u32);

impl Clone for Fussy {
    fn clone(&self) -> Self {
        assert!(self.0 != 13, "13 cannot be cloned");
        Fussy(self.0)
    }
}

#[test]
fn a_value_whose_clone_panics_is_passed_over_and_does_not_wedge_the_reader() {
    let bus = ringlet::Bus::new();
    let t = bus
        .topic::<Fussy>(
            "fussy",
            ringlet::TopicConfig::default()
                .capacity(3)
                .on_full(ringlet::OnFull::Block),
        )
        .unwrap();
    let mut sub = t.subscribe(ringlet::Start::Earliest).unwrap();
    let mut member = t
        .group_with(
            "g",
            ringlet::GroupConfig::default().start(ringlet::Start::Earliest),
        )
        .unwrap()
        .join()
        .unwrap();
    for v in [1, 13, 3] {
        t.try_publish(Fussy(v)).unwrap();
    }
    assert_eq!(sub.try_recv().unwrap().value, Fussy(1));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sub.try_recv()));
    assert!(panicked.is_err(), "the panic reaches the reader");
    assert_eq!(
        sub.try_recv().unwrap().value,
        Fussy(3),
        "and it has moved on"
    );
    // The same for a group member.
    assert_eq!(member.try_recv().unwrap().value, Fussy(1));
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| member.try_recv())).is_err());
    assert_eq!(member.try_recv().unwrap().value, Fussy(3));
    member.commit().unwrap();
    // Producers are not blocked by it: the readers' positions passed the record.
    t.try_publish(Fussy(4)).unwrap();
    assert_eq!(sub.try_recv().unwrap().value, Fussy(4));
}
