//! Share groups: records of a topic handed to one member at a time with the
//! queue's delivery vocabulary.

use std::time::Duration;

use ringlet::{
    Bus, Error, GroupConfig, ManualClock, OnFull, QueueConfig, ReceiveError, SettleError,
    ShareGroupConfig, Start, TopicConfig, TryReceiveError,
};

fn earliest() -> ShareGroupConfig {
    ShareGroupConfig::default().start(Start::Earliest)
}

#[test]
fn each_record_goes_to_one_member_at_a_time() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(2))
        .unwrap();
    for i in 0..6 {
        t.publish(i).unwrap();
    }
    let g = t.share_group_with("w", earliest()).unwrap();
    let (a, b) = (g.join().unwrap(), g.join().unwrap());
    let mut seen = vec![];
    let mut held = vec![];
    for i in 0..6 {
        let m = if i % 2 == 0 { &a } else { &b };
        let d = m.try_receive().unwrap();
        seen.push((d.partition().unwrap(), d.offset().unwrap(), *d.value()));
        held.push(d);
    }
    assert!(matches!(a.try_receive(), Err(TryReceiveError::Empty)));
    seen.sort();
    assert_eq!(seen.len(), 6);
    seen.dedup_by_key(|s| (s.0, s.1));
    assert_eq!(seen.len(), 6, "no record twice while in flight");
    for d in held {
        d.ack().unwrap();
    }
    let f = g.snapshot();
    assert_eq!((f.figures.acked, f.figures.in_flight, f.members), (6, 0, 2));
}

#[test]
fn starts_at_latest_by_default() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", Default::default()).unwrap();
    t.publish(1).unwrap();
    let g = t.share_group("w").unwrap();
    let m = g.join().unwrap();
    assert!(matches!(m.try_receive(), Err(TryReceiveError::Empty)));
    t.publish(2).unwrap();
    assert_eq!(*m.try_receive().unwrap().value(), 2);
}

#[test]
fn nack_timeout_max_deliveries_and_dead_letter_come_from_the_queue() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let dlq = bus.queue::<u32>("dlq", QueueConfig::default()).unwrap();
    let t = bus.topic::<u32>("t", Default::default()).unwrap();
    let g = t
        .share_group_with(
            "w",
            earliest()
                .visibility_timeout(Duration::from_secs(10))
                .max_deliveries(3)
                .dead_letter("dlq"),
        )
        .unwrap();
    t.publish(7).unwrap();
    let m = g.join().unwrap();
    let d = m.try_receive().unwrap();
    assert_eq!((d.attempt(), d.queue_name()), (1, "t/w"));
    d.nack().unwrap();
    let d = m.try_receive().unwrap();
    assert_eq!(d.attempt(), 2);
    clock.advance(Duration::from_secs(10)); // times out
    assert_eq!(d.ack(), Err(SettleError::Expired));
    let d = m.try_receive().unwrap();
    assert_eq!(d.attempt(), 3);
    drop(d); // the last attempt fails: dead-lettered
    let dead = dlq.try_receive().unwrap();
    assert_eq!(*dead.value(), 7);
    assert_eq!(
        dead.headers().get("ringlet.dead_letter.source"),
        Some(&b"t/w"[..])
    );
    t.publish(8).unwrap();
    m.try_receive().unwrap().reject().unwrap();
    assert_eq!(
        dlq.try_receive()
            .unwrap()
            .headers()
            .get("ringlet.dead_letter.reason"),
        Some(&b"rejected"[..])
    );
    let f = g.snapshot().figures;
    assert_eq!((f.dead_lettered, f.expired, f.nacked), (2, 1, 2)); // a dropped delivery nacks
}

#[test]
fn max_in_flight_bounds_what_the_group_holds() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", Default::default()).unwrap();
    let g = t
        .share_group_with("w", earliest().max_in_flight(2))
        .unwrap();
    for i in 0..5 {
        t.publish(i).unwrap();
    }
    let m = g.join().unwrap();
    let a = m.try_receive().unwrap();
    let _b = m.try_receive().unwrap();
    assert!(matches!(m.try_receive(), Err(TryReceiveError::Empty)));
    a.ack().unwrap();
    assert_eq!(*m.try_receive().unwrap().value(), 2);
}

#[test]
fn records_evicted_while_held_are_expired_and_lost_to_retention() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().capacity(2))
        .unwrap();
    let g = t.share_group_with("w", earliest()).unwrap();
    let m = g.join().unwrap();
    t.publish_batch([0, 1]).unwrap();
    let d = m.try_receive().unwrap(); // offset 0 in flight, 1 fetched and ready
    t.publish_batch([2, 3]).unwrap(); // evicts 0 and 1
    assert_eq!(d.ack(), Err(SettleError::Expired));
    let next = m.try_receive().unwrap();
    assert_eq!(
        next.offset(),
        Some(2),
        "the evicted ready record is not delivered"
    );
    next.ack().unwrap();
    assert_eq!(g.snapshot().lost, 2);
}

#[test]
fn a_group_with_members_gates_block_topics_by_its_oldest_unsettled_record() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>(
            "t",
            TopicConfig::default().capacity(2).on_full(OnFull::Block),
        )
        .unwrap();
    let g = t.share_group_with("w", earliest()).unwrap();
    let m = g.join().unwrap();
    t.publish_batch([0, 1]).unwrap();
    let d0 = m.try_receive().unwrap();
    let d1 = m.try_receive().unwrap();
    assert!(t.try_publish(2).is_err(), "offset 0 is unsettled");
    d1.ack().unwrap();
    assert!(t.try_publish(2).is_err(), "offset 0 still is");
    d0.ack().unwrap();
    t.try_publish(2).unwrap();
    drop(m);
    t.try_publish(3).unwrap();
    t.try_publish(4).unwrap();
}

#[test]
fn a_blocked_receive_is_woken_by_a_publish_and_closing_ends_it() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", Default::default()).unwrap();
    let g = t.share_group("w").unwrap();
    let m = g.join().unwrap();
    let p = t.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        p.publish(5).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        p.close();
    });
    let d = m.receive().unwrap();
    assert_eq!(*d.value(), 5);
    d.ack().unwrap();
    assert_eq!(m.receive().unwrap_err(), ReceiveError::Closed);
    h.join().unwrap();
    assert!(matches!(g.join(), Err(Error::Closed)));
}

#[test]
fn async_receive_and_batches() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", Default::default()).unwrap();
    let g = t.share_group_with("w", earliest()).unwrap();
    let m = g.join().unwrap();
    let p = t.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        p.publish_batch([1, 2, 3]).unwrap();
    });
    let d = futures_executor::block_on(m.receive_async()).unwrap();
    h.join().unwrap();
    let rest = m.receive_batch(10).unwrap();
    let mut values: Vec<u32> = rest.iter().map(|d| *d.value()).collect();
    values.insert(0, *d.value());
    assert_eq!(values, vec![1, 2, 3]);
    d.ack().unwrap();
    for d in rest {
        d.ack().unwrap();
    }
    assert!(m.try_receive_batch(5).unwrap().is_empty());
}

#[test]
fn subscriptions_groups_and_share_groups_side_by_side() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("t", TopicConfig::default().partitions(2))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let mut member = t
        .group_with("g", GroupConfig::default().start(Start::Earliest))
        .unwrap()
        .join()
        .unwrap();
    let share = t.share_group_with("s", earliest()).unwrap();
    let (w1, w2) = (share.join().unwrap(), share.join().unwrap());
    for i in 0..10 {
        t.publish(i).unwrap();
    }
    let mut by_sub: Vec<u32> = (0..10).map(|_| sub.try_recv().unwrap().value).collect();
    let mut by_group: Vec<u32> = (0..10).map(|_| member.try_recv().unwrap().value).collect();
    let mut by_share = vec![];
    for i in 0..10 {
        let w = if i % 3 == 0 { &w1 } else { &w2 };
        let d = w.try_receive().unwrap();
        by_share.push(*d.value());
        d.ack().unwrap();
    }
    for v in [&mut by_sub, &mut by_group, &mut by_share] {
        v.sort();
        assert_eq!(*v, (0..10).collect::<Vec<_>>());
    }
}

#[test]
fn bad_config_gets_typed_errors() {
    let bus = Bus::new();
    let t = bus.topic::<u32>("t", Default::default()).unwrap();
    let bad =
        |c: ShareGroupConfig| matches!(t.share_group_with("w", c), Err(Error::ConfigError { .. }));
    assert!(bad(ShareGroupConfig::default().max_in_flight(0)));
    assert!(bad(ShareGroupConfig::default().max_deliveries(0)));
    assert!(bad(
        ShareGroupConfig::default().visibility_timeout(Duration::ZERO)
    ));
    assert!(bad(ShareGroupConfig::default().start(Start::Offset(0))));
    assert!(bad(ShareGroupConfig::default().dead_letter("missing")));
    assert!(bad(ShareGroupConfig::default().dead_letter("t")));
    bus.queue::<String>("strings", QueueConfig::default())
        .unwrap();
    assert!(bad(ShareGroupConfig::default().dead_letter("strings")));
    // A chain that leads back to the topic.
    bus.queue::<u32>("loop", QueueConfig::default().dead_letter("t"))
        .unwrap();
    assert!(bad(ShareGroupConfig::default().dead_letter("loop")));
    assert!(matches!(t.share_group(""), Err(Error::InvalidName { .. })));
    let _w = t.share_group_with("w", earliest()).unwrap();
    assert!(bad(ShareGroupConfig::default()));
}

#[test]
fn leaving_ends_pending_receives_and_later_records_go_to_the_others() {
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let bus = ringlet::Bus::builder()
        .clock(ringlet::ManualClock::new())
        .build();
    let t = bus
        .topic::<u32>("t", ringlet::TopicConfig::default())
        .unwrap();
    let g = t.share_group("g").unwrap();
    let mut a = g.join().unwrap();
    let b = g.join().unwrap();
    let flag = Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut pending = a.receive_async();
    assert!(std::pin::Pin::new(&mut pending)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    a.leave();
    a.leave(); // twice: nothing more
    assert!(
        flag.0.load(std::sync::atomic::Ordering::SeqCst),
        "the pending receive was woken"
    );
    assert!(matches!(
        std::pin::Pin::new(&mut pending).poll(&mut Context::from_waker(&waker)),
        Poll::Ready(Err(ringlet::ReceiveError::Closed))
    ));
    t.publish(7).unwrap();
    assert!(matches!(
        a.try_receive(),
        Err(ringlet::TryReceiveError::Closed)
    ));
    assert_eq!(*b.try_receive().unwrap().value(), 7);
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
fn a_record_whose_clone_panics_is_passed_over_and_does_not_wedge_the_group() {
    let bus = Bus::new();
    let t = bus
        .topic::<Fussy>(
            "fussy",
            TopicConfig::default().capacity(3).on_full(OnFull::Block),
        )
        .unwrap();
    let g = t.share_group_with("w", earliest()).unwrap();
    let m = g.join().unwrap();
    for v in [1, 13, 3] {
        t.try_publish(Fussy(v)).unwrap();
    }
    let d = m.try_receive().unwrap();
    assert_eq!(d.value(), &Fussy(1));
    d.ack().unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.try_receive()));
    assert!(panicked.is_err(), "the panic reaches the member");
    let d = m.try_receive().unwrap();
    assert_eq!(d.value(), &Fussy(3), "and the group has moved on");
    d.ack().unwrap();
    // Producers are not blocked by it.
    t.try_publish(Fussy(4)).unwrap();
    t.try_publish(Fussy(5)).unwrap();
    let d = m.try_receive().unwrap();
    assert_eq!(d.value(), &Fussy(4));
    d.ack().unwrap();
    let other = g.join().unwrap();
    let d = other.try_receive().unwrap();
    assert_eq!(d.value(), &Fussy(5));
    d.ack().unwrap();
}
