//! Queues: competing consumers, settling, ready order, time, dead letters, closing,
//! figures, and bad input.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use ringlet::{
    Bus, Error, ManualClock, Message, OnFull, Queue, QueueConfig, QueueFigures, ReceiveError,
    ReceiveTimeoutError, SendError, SendTimeoutError, SettleError, Start, TopicConfig,
    TryReceiveError, TrySendError,
};

fn manual() -> (ManualClock, Bus) {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    (clock, bus)
}

fn values<T: Clone + Send + Sync + 'static>(q: &Queue<T>) -> Vec<T> {
    let mut out = vec![];
    while let Ok(d) = q.try_receive() {
        out.push(d.value().clone());
        d.ack().unwrap();
    }
    out
}

const SEC: Duration = Duration::from_secs(1);

#[test]
fn registry_shares_queues_and_keeps_names_apart_from_topics() {
    let bus = Bus::new();
    let a = bus.queue::<u32>("jobs", QueueConfig::default()).unwrap();
    let b = bus.queue::<u32>("jobs", QueueConfig::default()).unwrap();
    a.send(1).unwrap();
    assert_eq!(*b.receive().unwrap().value(), 1);
    assert_eq!(bus.get_queue::<u32>("jobs").unwrap().name(), "jobs");
    assert!(matches!(
        bus.queue::<u32>("jobs", QueueConfig::default().capacity(5)),
        Err(Error::ConfigError { .. })
    ));
    assert!(matches!(
        bus.queue::<String>("jobs", QueueConfig::default()),
        Err(Error::TypeMismatch { .. })
    ));
    // A queue name is not a topic, and the reverse.
    let e = bus
        .topic::<u32>("jobs", TopicConfig::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"jobs\" is a queue, not a topic: open it as a queue, or give the topic another name"
    );
    let e = bus
        .queue::<String>("jobs", QueueConfig::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"jobs\" is a queue of u32, not a queue of String"
    );
    assert!(matches!(
        bus.get_topic::<u32>("jobs"),
        Err(Error::TypeMismatch { .. })
    ));
    bus.topic::<u32>("events", TopicConfig::default()).unwrap();
    assert!(matches!(
        bus.queue::<u32>("events", QueueConfig::default()),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        bus.get_queue::<u32>("events"),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        bus.get_queue::<u32>("nope"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        bus.queue::<u32>("bad name", QueueConfig::default()),
        Err(Error::InvalidName { .. })
    ));
    assert_eq!(bus.names(), vec!["events", "jobs"]);
    // Deleting closes it; the name is free again.
    bus.delete("jobs").unwrap();
    assert!(a.is_closed());
    assert_eq!(a.send(2), Err(SendError::Closed(2)));
    let fresh = bus.queue::<String>("jobs", QueueConfig::default()).unwrap();
    assert!(!fresh.is_closed());
}

#[test]
fn bad_configurations_are_config_errors() {
    let bus = Bus::new();
    let bad = |r: Result<Queue<u8>, Error>| {
        assert!(matches!(r, Err(Error::ConfigError { .. })), "{r:?}");
    };
    bad(bus.queue("q", QueueConfig::default().capacity(0)));
    bad(bus.queue(
        "q",
        QueueConfig::default().capacity(ringlet::MAX_QUEUE_CAPACITY + 1),
    ));
    bad(bus.queue(
        "q",
        QueueConfig::default().visibility_timeout(Duration::ZERO),
    ));
    bad(bus.queue("q", QueueConfig::default().max_deliveries(0)));
    bad(bus.queue("q", QueueConfig::default().dead_letter("missing")));
    bad(bus.queue("q", QueueConfig::default().dead_letter("q")));
    bad(bus.queue("q", QueueConfig::default().dead_letter("no spaces")));
    bus.queue::<String>("strings", QueueConfig::default())
        .unwrap();
    bad(bus.queue("q", QueueConfig::default().dead_letter("strings")));
    bus.topic::<String>("string-topic", TopicConfig::default())
        .unwrap();
    bad(bus.queue("q", QueueConfig::default().dead_letter("string-topic")));
    // A chain that leads back: a -> b, delete a, then a' -> b would be fine, but
    // b -> a' -> b is a cycle.
    bus.queue::<u8>("a", QueueConfig::default()).unwrap();
    bus.queue::<u8>("b", QueueConfig::default().dead_letter("a"))
        .unwrap();
    bus.delete("a").unwrap();
    let e = bus
        .queue::<u8>("a", QueueConfig::default().dead_letter("b"))
        .unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
    // Nothing was registered by the failures.
    assert_eq!(bus.names(), vec!["b", "string-topic", "strings"]);
}

#[test]
fn competing_consumers_each_message_once_in_order() {
    let bus = Bus::new();
    let q = bus.queue::<u32>("jobs", QueueConfig::default()).unwrap();
    q.send_batch(0..6).unwrap();
    let a = q.receive().unwrap();
    let b = q.receive().unwrap();
    assert_eq!((*a.value(), *b.value()), (0, 1));
    assert_eq!(a.attempt(), 1);
    assert_eq!(q.len(), 4);
    a.ack().unwrap();
    b.ack().unwrap();
    assert_eq!(values(&q), vec![2, 3, 4, 5]);
    let f = q.figures();
    assert_eq!((f.sent, f.acked, f.ready, f.in_flight), (6, 6, 0, 0));
}

#[test]
fn messages_keep_key_headers_and_enqueue_time() {
    let (clock, bus) = manual();
    clock.advance(Duration::from_millis(1500));
    let q = bus.queue::<&str>("jobs", QueueConfig::default()).unwrap();
    q.send_message(Message::new("a").key(&b"\x00k"[..]).header("h", "1"))
        .unwrap();
    q.send_message(Message::new("b").timestamp(7)).unwrap();
    let d = q.receive().unwrap();
    assert_eq!(d.key().unwrap().as_bytes(), b"\x00k");
    assert!(!d.key().unwrap().is_text());
    assert_eq!(d.headers().get("h"), Some(&b"1"[..]));
    assert_eq!(d.enqueued_at(), 1500);
    assert_eq!(d.deadline(), 31_500);
    assert_eq!(d.queue_name(), "jobs");
    assert!(format!("{d:?}").contains("attempt: 1"));
    let e = q.receive().unwrap();
    assert_eq!(e.enqueued_at(), 7);
    assert!(e.key().is_none() && e.headers().is_empty());
}

#[test]
fn nacked_and_timed_out_messages_go_to_the_head_in_return_order() {
    let (clock, bus) = manual();
    let q = bus
        .queue::<u32>(
            "jobs",
            QueueConfig::default().visibility_timeout(Duration::from_secs(10)),
        )
        .unwrap();
    q.send_batch(0..6).unwrap();
    let d0 = q.receive().unwrap();
    let d1 = q.receive().unwrap();
    clock.advance(SEC);
    let d2 = q.receive().unwrap();
    d2.nack().unwrap(); // back first
    drop(d1); // dropped unsettled: a nack, back second
    clock.advance(Duration::from_secs(9)); // d0 times out (delivered at 0): back third
    assert_eq!(q.figures().expired, 1);
    assert_eq!(d0.ack(), Err(SettleError::Expired));
    let order: Vec<(u32, u32)> = std::iter::from_fn(|| q.try_receive().ok())
        .map(|d| {
            let r = (*d.value(), d.attempt());
            d.ack().unwrap();
            r
        })
        .collect();
    assert_eq!(order, vec![(2, 2), (1, 2), (0, 2), (3, 1), (4, 1), (5, 1)]);
    let f = q.figures();
    assert_eq!((f.nacked, f.expired, f.redelivered, f.acked), (2, 1, 3, 6));
}

#[test]
fn timeouts_falling_due_together_come_back_in_send_order() {
    let (clock, bus) = manual();
    let q = bus.queue::<u32>("jobs", QueueConfig::default()).unwrap();
    q.send_batch(0..3).unwrap();
    let hung = q.receive_batch(3).unwrap(); // a consumer that hangs, holding them
    q.send(3).unwrap();
    clock.advance(Duration::from_secs(30));
    assert_eq!(values(&q), vec![0, 1, 2, 3]);
    drop(hung); // settling after the timeout changes nothing
    assert_eq!(q.figures().nacked, 0);
}

#[test]
fn delayed_messages_join_the_tail_when_due_by_due_time_then_send_order() {
    let (clock, bus) = manual();
    let q = bus.queue::<&str>("jobs", QueueConfig::default()).unwrap();
    q.send_delayed("late", Duration::from_secs(20)).unwrap();
    q.send_delayed("soon-1", Duration::from_secs(10)).unwrap();
    q.send_delayed(Message::new("soon-2"), Duration::from_secs(10))
        .unwrap();
    q.send("now").unwrap();
    assert_eq!(q.figures().delayed, 3);
    assert_eq!(q.len(), 1);
    clock.advance(Duration::from_secs(10));
    q.send("after").unwrap();
    assert_eq!(values(&q), vec!["now", "soon-1", "soon-2", "after"]);
    clock.advance(Duration::from_secs(10));
    assert_eq!(values(&q), vec!["late"]);
    // A zero delay is an ordinary send.
    q.send_delayed("zero", Duration::ZERO).unwrap();
    assert_eq!(values(&q), vec!["zero"]);
    let f = q.figures();
    assert_eq!((f.sent, f.delayed, f.acked), (6, 0, 6));
}

#[test]
fn nack_after_delays_a_retry_and_counts_toward_max_deliveries() {
    let (clock, bus) = manual();
    let dlq = bus.queue::<u32>("dlq", QueueConfig::default()).unwrap();
    let q = bus
        .queue::<u32>(
            "jobs",
            QueueConfig::default().max_deliveries(2).dead_letter("dlq"),
        )
        .unwrap();
    q.send(1).unwrap();
    q.send(2).unwrap();
    q.receive()
        .unwrap()
        .nack_after(Duration::from_secs(5))
        .unwrap();
    assert_eq!(*q.receive().unwrap().value(), 2); // dropped: nacked, to the head
    assert_eq!(q.figures().delayed, 1);
    clock.advance(Duration::from_secs(5));
    // 2 (attempt 2) came back first; 1 joined the tail when due.
    let a = q.receive().unwrap();
    let b = q.receive().unwrap();
    assert_eq!((*a.value(), a.attempt()), (2, 2));
    assert_eq!((*b.value(), b.attempt()), (1, 2));
    a.nack_after(Duration::from_secs(1)).unwrap(); // last attempt: dead letter now
    b.ack().unwrap();
    let dead = dlq.try_receive().unwrap();
    assert_eq!(*dead.value(), 2);
    assert_eq!(
        dead.headers().get("ringlet.dead_letter.attempts"),
        Some(&b"2"[..])
    );
    let f = q.figures();
    assert_eq!(
        (f.dead_lettered, f.delayed, f.acked, f.nacked),
        (1, 0, 1, 3)
    );
}

#[test]
fn poison_message_is_dead_lettered_with_headers_after_max_deliveries() {
    let (clock, bus) = manual();
    let dlq = bus
        .topic::<String>("jobs.dlq", TopicConfig::default())
        .unwrap();
    let mut dead = dlq.subscribe(Start::Earliest).unwrap();
    let q = bus
        .queue::<String>(
            "jobs",
            QueueConfig::default()
                .max_deliveries(3)
                .visibility_timeout(Duration::from_secs(5))
                .dead_letter("jobs.dlq"),
        )
        .unwrap();
    q.send_message(
        Message::new("poison".to_string())
            .key("order-9")
            .header("trace", "t1"),
    )
    .unwrap();
    q.receive().unwrap().nack().unwrap(); // attempt 1
    let _crashed = q.receive().unwrap(); // attempt 2: times out
    clock.advance(Duration::from_secs(5));
    let last = q.receive().unwrap();
    assert_eq!(last.attempt(), 3);
    last.nack().unwrap(); // fails on its last attempt
    assert!(matches!(q.try_receive(), Err(TryReceiveError::Empty)));
    let rec = dead.try_recv().unwrap();
    assert_eq!(rec.value, "poison");
    assert_eq!(rec.key.unwrap().as_str(), Some("order-9"));
    let h = |n: &str| String::from_utf8(rec.headers.get(n).unwrap().to_vec()).unwrap();
    assert_eq!(h("trace"), "t1");
    assert_eq!(h("ringlet.dead_letter.reason"), "max_deliveries");
    assert_eq!(h("ringlet.dead_letter.attempts"), "3");
    assert_eq!(h("ringlet.dead_letter.source"), "jobs");
    let f = q.figures();
    assert_eq!(
        (f.dead_lettered, f.expired, f.nacked, f.in_flight, f.ready),
        (1, 1, 2, 0, 0)
    );
}

#[test]
fn timeout_on_the_last_attempt_dead_letters() {
    let (clock, bus) = manual();
    let dlq = bus.queue::<u8>("dlq", QueueConfig::default()).unwrap();
    let q = bus
        .queue::<u8>(
            "q",
            QueueConfig::default().max_deliveries(1).dead_letter("dlq"),
        )
        .unwrap();
    q.send(1).unwrap();
    let d = q.receive().unwrap();
    clock.advance(Duration::from_secs(30));
    assert_eq!(d.reject(), Err(SettleError::Expired));
    assert_eq!(dlq.len(), 1);
    assert_eq!(q.figures().dead_lettered, 1);
}

#[test]
fn dead_letters_without_a_target_or_room_are_dropped_and_counted() {
    let bus = Bus::new();
    let q = bus.queue::<u8>("plain", QueueConfig::default()).unwrap();
    q.send(1).unwrap();
    q.receive().unwrap().reject().unwrap();
    let f = q.figures();
    assert_eq!(
        (f.dropped, f.dead_lettered, f.in_flight, f.ready),
        (1, 0, 0, 0)
    );

    let small = bus
        .queue::<u8>("small-dlq", QueueConfig::default().capacity(1))
        .unwrap();
    let q2 = bus
        .queue::<u8>("q2", QueueConfig::default().dead_letter("small-dlq"))
        .unwrap();
    q2.send_batch([1, 2]).unwrap();
    q2.receive().unwrap().reject().unwrap();
    q2.receive().unwrap().reject().unwrap(); // the dead-letter queue is full: never waits
    let f = q2.figures();
    assert_eq!((f.dead_lettered, f.dead_letter_overflow), (1, 1));
    assert_eq!(small.len(), 1);
    // A full `Keep` topic as the dead letter overflows too.
    let keep = bus
        .topic::<u8>(
            "keep",
            TopicConfig::default().capacity(1).on_full(OnFull::Keep),
        )
        .unwrap();
    keep.publish(0).unwrap();
    let q3 = bus
        .queue::<u8>("q3", QueueConfig::default().dead_letter("keep"))
        .unwrap();
    q3.send(1).unwrap();
    q3.receive().unwrap().reject().unwrap();
    assert_eq!(q3.figures().dead_letter_overflow, 1);
    // A deleted (closed) dead-letter queue cannot take it either.
    bus.delete("small-dlq").unwrap();
    q2.send(3).unwrap();
    q2.receive().unwrap().reject().unwrap();
    assert_eq!(q2.figures().dead_letter_overflow, 2);
}

#[test]
fn capacity_counts_ready_in_flight_and_delayed() {
    let bus = Bus::new();
    let q = bus
        .queue::<u8>("q", QueueConfig::default().capacity(3))
        .unwrap();
    q.send(1).unwrap();
    q.send_delayed(2, Duration::from_secs(3600)).unwrap();
    let d = q.receive().unwrap();
    q.send(3).unwrap();
    assert_eq!(q.try_send(4), Err(TrySendError::Full(4)));
    assert!(matches!(
        q.try_send_delayed(4, SEC),
        Err(TrySendError::Full(m)) if m.value == 4
    ));
    assert_eq!(
        q.try_send_message(Message::new(4).key("k"))
            .unwrap_err()
            .into_inner()
            .value,
        4
    );
    assert_eq!(
        q.send_timeout(4, Duration::from_millis(5)),
        Err(SendTimeoutError::Timeout(4))
    );
    let f = q.figures();
    assert_eq!((f.ready, f.in_flight, f.delayed), (1, 1, 1));
    d.ack().unwrap();
    q.try_send(4).unwrap();
}

#[test]
fn a_blocked_send_waits_for_an_ack() {
    let bus = Bus::new();
    let q = bus
        .queue::<u32>("q", QueueConfig::default().capacity(1))
        .unwrap();
    q.send(1).unwrap();
    let d = q.receive().unwrap(); // in flight still holds the room
    let sender = {
        let q = q.clone();
        std::thread::spawn(move || q.send(2))
    };
    std::thread::sleep(Duration::from_millis(20));
    assert!(!sender.is_finished());
    d.ack().unwrap();
    sender.join().unwrap().unwrap();
    assert_eq!(values(&q), vec![2]);
}

#[test]
fn a_blocked_receive_is_woken_by_send_by_a_due_delay_and_by_an_expiry() {
    let (clock, bus) = manual();
    let q = bus.queue::<u32>("q", QueueConfig::default()).unwrap();
    let spawn_receiver = || {
        let q = q.clone();
        std::thread::spawn(move || {
            let d = q.receive().unwrap();
            let r = (*d.value(), d.attempt());
            d.ack().unwrap();
            r
        })
    };
    let r = spawn_receiver();
    std::thread::sleep(Duration::from_millis(10));
    q.send(1).unwrap();
    assert_eq!(r.join().unwrap(), (1, 1));

    q.send_delayed(2, Duration::from_secs(5)).unwrap();
    let r = spawn_receiver();
    std::thread::sleep(Duration::from_millis(10));
    assert!(!r.is_finished());
    clock.advance(Duration::from_secs(5));
    assert_eq!(r.join().unwrap(), (2, 1));

    q.send(3).unwrap();
    let held = q.receive().unwrap();
    let r = spawn_receiver();
    std::thread::sleep(Duration::from_millis(10));
    assert!(!r.is_finished());
    clock.advance(Duration::from_secs(30));
    assert_eq!(r.join().unwrap(), (3, 2));
    assert_eq!(held.ack(), Err(SettleError::Expired));
}

#[test]
fn a_system_clock_expiry_wakes_a_blocked_receiver_through_the_bus_timer() {
    let bus = Bus::new();
    let q = bus
        .queue::<u32>(
            "q",
            QueueConfig::default().visibility_timeout(Duration::from_millis(30)),
        )
        .unwrap();
    q.send(1).unwrap();
    let first = q.receive().unwrap();
    let start = std::time::Instant::now();
    let again = q.receive_timeout(Duration::from_secs(10)).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(again.attempt(), 2);
    assert_eq!(first.ack(), Err(SettleError::Expired));
    // The async path: the per-bus timer wakes the future at the deadline.
    let again2 = futures_executor::block_on(q.receive_async()).unwrap();
    assert_eq!(again2.attempt(), 3);
    // (Settling may race the next 30 ms timeout on a slow machine: either is fine.)
    drop(again);
    assert!(matches!(again2.ack(), Ok(()) | Err(SettleError::Expired)));
}

#[test]
fn receive_timeout_try_receive_and_batches() {
    let bus = Bus::new();
    let q = bus.queue::<u32>("q", QueueConfig::default()).unwrap();
    assert_eq!(q.try_receive().unwrap_err(), TryReceiveError::Empty);
    assert_eq!(
        q.receive_timeout(Duration::from_millis(5)).unwrap_err(),
        ReceiveTimeoutError::Timeout
    );
    assert_eq!(q.try_receive_batch(4).unwrap_err(), TryReceiveError::Empty);
    assert!(q.receive_batch(0).unwrap().is_empty());
    assert!(q.try_receive_batch(0).unwrap().is_empty());
    q.send_batch(0..10).unwrap();
    let a = q.try_receive_batch(3).unwrap();
    let b = q.receive_batch(100).unwrap();
    assert_eq!(a.len() + b.len(), 10);
    assert_eq!(*b[0].value(), 3);
    assert_eq!(q.ack_batch(a), 3);
    // A batch ack accepts deliveries of other queues too (settled through theirs).
    let other = bus.queue::<u32>("other", QueueConfig::default()).unwrap();
    other.send(99).unwrap();
    let mut mixed = b;
    mixed.push(other.receive().unwrap());
    assert_eq!(q.ack_batch(mixed), 8);
    assert_eq!(other.figures().acked, 1);
    assert_eq!(q.figures().acked, 10);
}

#[test]
fn batch_ack_skips_expired_deliveries() {
    let (clock, bus) = manual();
    let q = bus.queue::<u32>("q", QueueConfig::default()).unwrap();
    q.send_batch(0..2).unwrap();
    let old = q.receive_batch(1).unwrap();
    clock.advance(Duration::from_secs(20));
    let fresh = q.receive_batch(1).unwrap();
    clock.advance(Duration::from_secs(10)); // `old` expires, `fresh` does not
    let all: Vec<_> = old.into_iter().chain(fresh).collect();
    assert_eq!(q.ack_batch(all), 1);
    let f = q.figures();
    assert_eq!((f.acked, f.expired, f.ready), (1, 1, 1));
}

#[test]
fn close_drains_ready_then_closed_while_in_flight_can_still_settle() {
    let (clock, bus) = manual();
    let q = bus.queue::<u32>("q", QueueConfig::default()).unwrap();
    q.send_batch(0..3).unwrap();
    q.send_delayed(9, Duration::from_secs(5)).unwrap();
    let held = q.receive().unwrap();
    q.close();
    assert!(q.is_closed());
    assert_eq!(q.send(5), Err(SendError::Closed(5)));
    assert!(matches!(q.try_send(5), Err(TrySendError::Closed(5))));
    assert!(matches!(
        q.send_delayed(5, SEC),
        Err(SendError::Closed(m)) if m.value == 5
    ));
    assert!(matches!(
        futures_executor::block_on(q.send_async(5)),
        Err(SendError::Closed(5))
    ));
    assert_eq!(q.send_batch([5, 6]), Err(SendError::Closed(vec![5, 6])));
    assert_eq!(values(&q), vec![1, 2]);
    assert_eq!(q.receive().unwrap_err(), ReceiveError::Closed);
    assert_eq!(q.try_receive().unwrap_err(), TryReceiveError::Closed);
    assert_eq!(
        q.receive_timeout(SEC).unwrap_err(),
        ReceiveTimeoutError::Closed
    );
    assert_eq!(q.receive_batch(3).unwrap_err(), ReceiveError::Closed);
    assert_eq!(
        futures_executor::block_on(q.receive_async()).unwrap_err(),
        ReceiveError::Closed
    );
    held.nack().unwrap(); // still settle-able; drained too
    assert_eq!(values(&q), vec![0]);
    clock.advance(Duration::from_secs(5)); // the delayed one still falls due
    assert_eq!(values(&q), vec![9]);
    let f = q.figures();
    assert_eq!(
        (f.sent, f.acked, f.ready, f.in_flight, f.delayed),
        (4, 4, 0, 0, 0)
    );
}

#[test]
fn close_wakes_blocked_receivers_and_senders() {
    let bus = Bus::new();
    let q = bus
        .queue::<u32>("q", QueueConfig::default().capacity(1))
        .unwrap();
    let r = {
        let q = q.clone();
        std::thread::spawn(move || q.receive().map(|d| *d.value()))
    };
    std::thread::sleep(Duration::from_millis(10));
    q.send(1).unwrap(); // the receiver takes it and drops it unsettled: nacked
    assert_eq!(r.join().unwrap(), Ok(1));
    let _held = q.receive().unwrap();
    let s = {
        let q = q.clone();
        std::thread::spawn(move || q.send(2))
    };
    let r = {
        let q = q.clone();
        std::thread::spawn(move || q.receive().map(|d| *d.value()))
    };
    std::thread::sleep(Duration::from_millis(10));
    q.close();
    assert_eq!(s.join().unwrap(), Err(SendError::Closed(2)));
    assert_eq!(r.join().unwrap(), Err(ReceiveError::Closed));
}

#[test]
fn async_receive_and_send_are_cancel_safe() {
    let bus = Bus::new();
    let q = bus
        .queue::<u32>("q", QueueConfig::default().capacity(1))
        .unwrap();
    // A pending receive dropped before completion takes nothing.
    let mut fut = q.receive_async();
    assert!((&mut fut).now_or_never().is_none());
    drop(fut);
    q.send(1).unwrap();
    // A pending send dropped before completion sends nothing.
    let mut send = q.send_message_async(Message::new(2));
    assert!((&mut send).now_or_never().is_none());
    drop(send);
    assert_eq!(values(&q), vec![1]);
    // A pending send completes once room is made.
    let d = {
        q.send(3).unwrap();
        q.receive().unwrap()
    };
    let waiter = {
        let q = q.clone();
        std::thread::spawn(move || futures_executor::block_on(q.send_async(4)))
    };
    std::thread::sleep(Duration::from_millis(10));
    d.ack().unwrap();
    waiter.join().unwrap().unwrap();
    let got = futures_executor::block_on(q.receive_async()).unwrap();
    assert_eq!(*got.value(), 4);
}

#[test]
fn async_receive_is_woken_by_send_and_by_a_manual_clock_deadline() {
    let (clock, bus) = manual();
    let q = bus.queue::<u32>("q", QueueConfig::default()).unwrap();
    let q2 = q.clone();
    let r = std::thread::spawn(move || {
        futures_executor::block_on(async {
            let a = q2.receive_async().await.unwrap();
            let v = *a.value();
            a.ack().unwrap();
            let b = q2.receive_async().await.unwrap();
            (v, *b.value())
        })
    });
    std::thread::sleep(Duration::from_millis(10));
    q.send(1).unwrap();
    q.send_delayed(2, Duration::from_secs(3)).unwrap();
    std::thread::sleep(Duration::from_millis(10));
    clock.advance(Duration::from_secs(3));
    assert_eq!(r.join().unwrap(), (1, 2));
}

#[test]
fn figures_serialize_with_the_contract_names() {
    let bus = Bus::new();
    let q = bus.queue::<u8>("q", QueueConfig::default()).unwrap();
    q.send(1).unwrap();
    let json = serde_json::to_value(q.figures()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    for k in [
        "ready",
        "in_flight",
        "delayed",
        "sent",
        "acked",
        "nacked",
        "redelivered",
        "expired",
        "dead_lettered",
        "dropped",
        "dead_letter_overflow",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert_eq!(keys.len(), 11);
    assert_eq!(
        q.figures(),
        QueueFigures {
            ready: 1,
            sent: 1,
            ..Default::default()
        }
    );
}

#[test]
fn values_are_clones_and_the_queue_drops_what_it_holds() {
    let bus = Bus::new();
    let q = bus
        .queue::<Arc<String>>("q", QueueConfig::default())
        .unwrap();
    let v = Arc::new("payload".to_string());
    q.send(v.clone()).unwrap();
    let d = q.receive().unwrap();
    assert!(Arc::ptr_eq(d.value(), &v));
    assert_eq!(Arc::strong_count(&v), 3); // ours, the queue's, the delivery's
    d.ack().unwrap();
    assert_eq!(Arc::strong_count(&v), 1);
    q.send(v.clone()).unwrap();
    drop(q);
    bus.delete("q").unwrap();
    drop(bus);
    assert_eq!(Arc::strong_count(&v), 1);
}

#[test]
fn debug_formats_do_not_panic() {
    let bus = Bus::new();
    let q = bus.queue::<u8>("q", QueueConfig::default()).unwrap();
    assert!(format!("{q:?}").contains("\"q\""));
    assert!(format!("{:?}", q.receive_async()).contains("ReceiveFuture"));
    assert!(format!("{:?}", q.send_message_async(Message::new(1))).contains("SendFuture"));
    assert!(format!("{bus:?}").contains("q"));
    assert_eq!(
        SettleError::Expired.to_string(),
        "the delivery expired (visibility timeout) before it was settled"
    );
}

#[test]
fn a_dead_letter_keeps_its_original_enqueue_time() {
    let clock = ringlet::ManualClock::starting_at(1_000);
    let bus = ringlet::Bus::builder().clock(clock.clone()).build();
    bus.queue::<u8>("dlq", ringlet::QueueConfig::default())
        .unwrap();
    let dlt = bus
        .topic::<u8>("dlt", ringlet::TopicConfig::default())
        .unwrap();
    let mut dlt_reader = dlt.subscribe(ringlet::Start::Earliest).unwrap();
    for target in ["dlq", "dlt"] {
        let q = bus
            .queue::<u8>(
                &format!("jobs-{target}"),
                ringlet::QueueConfig::default()
                    .max_deliveries(1)
                    .dead_letter(target),
            )
            .unwrap();
        q.send(7).unwrap();
        clock.advance(std::time::Duration::from_secs(10));
        q.receive().unwrap().nack().unwrap();
    }
    let dead = bus.get_queue::<u8>("dlq").unwrap().try_receive().unwrap();
    assert_eq!(
        dead.enqueued_at(),
        1_000,
        "sent at 1 000 ms, dead-lettered at 11 000"
    );
    dead.ack().unwrap();
    assert_eq!(dlt_reader.try_recv().unwrap().timestamp, 11_000);
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

fn panics<R>(f: impl FnOnce() -> R) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
}

#[test]
fn a_message_whose_clone_panics_counts_as_a_failed_delivery_and_does_not_wedge_the_queue() {
    let (clock, bus) = manual();
    let dlq = bus
        .queue::<Fussy>("fussy-dlq", QueueConfig::default())
        .unwrap();
    let q = bus
        .queue::<Fussy>(
            "fussy",
            QueueConfig::default()
                .capacity(4)
                .visibility_timeout(SEC)
                .max_deliveries(2)
                .dead_letter("fussy-dlq"),
        )
        .unwrap();
    for v in [1, 13, 3] {
        q.try_send(Fussy(v)).unwrap();
    }
    let d = q.try_receive().unwrap();
    assert_eq!(d.value(), &Fussy(1));
    d.ack().unwrap();
    assert!(panics(|| q.try_receive()), "the panic reaches the receiver");
    let d = q.try_receive().unwrap();
    assert_eq!(d.value(), &Fussy(3), "and the queue has moved on");
    d.ack().unwrap();
    let f = q.figures();
    assert_eq!(
        (f.ready, f.in_flight),
        (0, 1),
        "13 is in flight, like a crashed consumer's"
    );
    // Redelivered after the visibility timeout, then dead-lettered.
    clock.advance(SEC);
    assert!(panics(|| q.try_receive()));
    clock.advance(SEC);
    assert!(matches!(q.try_receive(), Err(TryReceiveError::Empty)));
    assert_eq!(q.figures().dead_lettered, 1);
    assert_eq!(dlq.len(), 1, "the dead letter kept the message");
    // A batch that meets it panics too; what it took before is released.
    for v in [5, 13, 6] {
        q.try_send(Fussy(v)).unwrap();
    }
    assert!(panics(|| q.try_receive_batch(10)));
    let got: Vec<u32> = q
        .try_receive_batch(10)
        .unwrap()
        .into_iter()
        .map(|d| {
            let v = d.value().0;
            d.ack().unwrap();
            v
        })
        .collect();
    assert_eq!(got, vec![5, 6]);
    // No slot was lost: the queue takes its whole capacity again.
    clock.advance(SEC);
    assert!(panics(|| q.try_receive()), "the second 13, delivered again");
    clock.advance(SEC);
    assert!(matches!(q.try_receive(), Err(TryReceiveError::Empty)));
    assert_eq!(dlq.len(), 2);
    for v in 20..24 {
        q.try_send(Fussy(v)).unwrap();
    }
}
