//! Fault injection (`bus.faults()`): crashes, late acks, failed publishes and
//! sends, paused partitions — each checked on the real engine, with the
//! counts and the journal.

use std::time::Duration;

use ringlet::faults::{ActiveFault, InjectedError};
use ringlet::journal::{Event, EventKind, JOURNAL_TOPIC};
use ringlet::{
    Bus, Error, GroupConfig, ManualClock, Message, PublishError, QueueConfig, SendError,
    SendTimeoutError, SettleError, ShareGroupConfig, Start, Subscription, TopicConfig,
    TryReceiveError, TryRecvError, TrySendError,
};

fn manual() -> (ManualClock, Bus) {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).journal(1000).build();
    (clock, bus)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn journal(bus: &Bus) -> Vec<Event> {
    let mut j = bus
        .get_topic::<Event>(JOURNAL_TOPIC)
        .unwrap()
        .subscribe(Start::Earliest)
        .unwrap();
    std::iter::from_fn(|| j.try_recv().ok().map(|r| r.value)).collect()
}

fn faults_journaled(bus: &Bus, reason: &str) -> usize {
    journal(bus)
        .iter()
        .filter(|e| e.kind == EventKind::Fault && e.reason.as_deref() == Some(reason))
        .count()
}

#[test]
fn a_crashed_member_keeps_its_partitions_until_the_session_timeout() {
    let (clock, bus) = manual();
    let t = bus
        .topic::<u32>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    t.publish_batch(0..6).unwrap();
    let g = t
        .group_with(
            "billing",
            GroupConfig::default()
                .start(Start::Earliest)
                .auto_commit(true)
                .session_timeout(secs(10)),
        )
        .unwrap();
    let mut a = g.join().unwrap();
    let mut b = g.join().unwrap();
    assert_eq!((a.assignment(), b.assignment()), (vec![0], vec![1]));
    // a reads partition 0: each call auto-commits what the one before returned,
    // so the last record read is not committed when a crashes.
    let read: Vec<u32> = (0..3).map(|_| a.try_recv().unwrap().value).collect();
    assert_eq!(read, vec![0, 2, 4]);
    let faults = bus.faults();
    assert!(faults.crash(&mut a));
    assert!(!faults.crash(&mut a), "a crashed member crashes once");
    assert!(a.has_left());
    assert!(matches!(a.try_recv(), Err(TryRecvError::Closed)));
    // Not removed yet: b does not get partition 0 before the timeout.
    clock.advance(secs(6));
    assert_eq!(b.assignment(), vec![1]);
    clock.advance(secs(4));
    assert_eq!(b.assignment(), vec![0, 1]);
    // The crash committed nothing more: b reads a's last record again.
    assert_eq!(g.committed()[0], Some(2));
    let mut again: Vec<u32> = std::iter::from_fn(|| b.try_recv().ok().map(|r| r.value)).collect();
    again.sort_unstable();
    assert_eq!(again, vec![1, 3, 4, 5]);
    drop(a); // dropping the crashed member changes nothing
    assert_eq!(b.assignment(), vec![0, 1]);
    let events = journal(&bus);
    let crash = events
        .iter()
        .find(|e| e.kind == EventKind::Fault)
        .expect("journaled");
    assert_eq!(
        (
            crash.reason.as_deref(),
            crash.group.as_deref(),
            crash.member
        ),
        (Some("crash"), Some("billing"), Some(1))
    );
    assert!(events.iter().any(|e| e.kind == EventKind::Leave
        && e.member == Some(1)
        && e.reason.as_deref() == Some("session_timeout")));
    assert_eq!(faults.figures().crashed, 1);
}

#[test]
fn a_crashed_share_member_abandons_its_deliveries_to_the_visibility_timeout() {
    let (clock, bus) = manual();
    let t = bus.topic::<u32>("orders", TopicConfig::default()).unwrap();
    t.publish_batch([10, 11, 12]).unwrap();
    let g = t
        .share_group_with(
            "workers",
            ShareGroupConfig::default()
                .start(Start::Earliest)
                .visibility_timeout(secs(5)),
        )
        .unwrap();
    let mut a = g.join().unwrap();
    let b = g.join().unwrap();
    let held = a.receive_batch(2).unwrap();
    assert_eq!(held.len(), 2);
    let kept = a.try_receive().unwrap();
    assert!(bus.faults().crash(&mut a));
    // Dropped without a nack, settled without effect.
    drop(held);
    assert_eq!(kept.ack(), Err(SettleError::Expired));
    assert!(matches!(a.try_receive(), Err(TryReceiveError::Closed)));
    assert!(
        b.try_receive().is_err(),
        "nothing is back before the timeout"
    );
    clock.advance(secs(5));
    let back: Vec<(u32, u32)> = std::iter::from_fn(|| b.try_receive().ok())
        .map(|d| {
            let v = (*d.value(), d.attempt());
            d.ack().unwrap();
            v
        })
        .collect();
    assert_eq!(back, vec![(10, 2), (11, 2), (12, 2)]);
    assert!(journal(&bus)
        .iter()
        .any(|e| e.kind == EventKind::Leave && e.reason.as_deref() == Some("crash")));
}

#[test]
fn crashed_deliveries_reach_max_deliveries_and_the_dead_letter() {
    let (clock, bus) = manual();
    let dlq = bus
        .queue::<&str>("jobs.dlq", QueueConfig::default())
        .unwrap();
    let q = bus
        .queue::<&str>(
            "jobs",
            QueueConfig::default()
                .visibility_timeout(secs(5))
                .max_deliveries(2)
                .dead_letter("jobs.dlq"),
        )
        .unwrap();
    q.send("poison").unwrap();
    let faults = bus.faults();
    for attempt in 1..=2 {
        let d = q.try_receive().unwrap();
        assert_eq!(d.attempt(), attempt);
        assert!(faults.crash(d));
        assert_eq!(q.figures().in_flight, 1, "still held by the dead consumer");
        assert!(q.try_receive().is_err());
        clock.advance(secs(5));
    }
    let dead = dlq.try_receive().unwrap();
    assert_eq!(*dead.value(), "poison");
    assert_eq!(q.figures().expired, 2);
    assert_eq!(faults.figures().crashed, 2);
    assert_eq!(faults_journaled(&bus, "crash"), 2);
}

#[test]
fn delayed_acks_arrive_late_and_ones_past_the_timeout_change_nothing() {
    let (clock, bus) = manual();
    let q = bus
        .queue::<u32>("jobs", QueueConfig::default().visibility_timeout(secs(5)))
        .unwrap();
    let faults = bus.faults();
    faults.delay_acks("jobs", secs(3)).unwrap();
    assert_eq!(
        faults.active(),
        vec![ActiveFault {
            name: "jobs".into(),
            fault: "delay_acks".into(),
            remaining: None,
            error: None,
            delay_ms: Some(3000),
            partition: None,
        }]
    );
    // In time: the message stays in flight until the ack arrives.
    q.send(1).unwrap();
    q.try_receive().unwrap().ack().unwrap();
    assert_eq!((q.figures().in_flight, q.figures().acked), (1, 0));
    clock.advance(secs(3));
    assert_eq!((q.figures().in_flight, q.figures().acked), (0, 1));
    // Too late: redelivered at the timeout, the ack then changes nothing.
    faults.delay_acks("jobs", secs(8)).unwrap();
    q.send(2).unwrap();
    q.try_receive().unwrap().ack().unwrap();
    clock.advance(secs(5));
    let again = q.try_receive().unwrap();
    assert_eq!((*again.value(), again.attempt()), (2, 2));
    clock.advance(secs(3));
    assert_eq!(faults.figures().late_acks, 1);
    assert_eq!(
        q.figures().in_flight,
        1,
        "the late ack did not ack attempt 2"
    );
    // A batch ack and a nack dropped on the floor are delayed too.
    faults.delay_acks("jobs", secs(1)).unwrap();
    drop(again);
    assert_eq!(q.figures().in_flight, 1);
    clock.advance(secs(1));
    assert_eq!(q.figures().ready, 1);
    q.send_batch([3, 4]).unwrap();
    let batch = q.receive_batch(10).unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(q.ack_batch(batch), 3);
    assert_eq!(q.figures().in_flight, 3);
    clock.advance(secs(1));
    assert_eq!((q.figures().in_flight, q.figures().acked), (0, 4));
    // Ended: settles apply at once again.
    faults.delay_acks("jobs", Duration::ZERO).unwrap();
    assert!(faults.active().is_empty());
    q.send(5).unwrap();
    q.try_receive().unwrap().ack().unwrap();
    assert_eq!(q.figures().acked, 5);
    assert!(faults_journaled(&bus, "late_ack") >= 1);
}

#[test]
fn a_topics_delay_applies_to_its_share_groups() {
    let (clock, bus) = manual();
    let t = bus.topic::<u32>("orders", TopicConfig::default()).unwrap();
    let g = t
        .share_group_with(
            "workers",
            ShareGroupConfig::default()
                .start(Start::Earliest)
                .visibility_timeout(secs(5)),
        )
        .unwrap();
    let m = g.join().unwrap();
    t.publish(7).unwrap();
    bus.faults().delay_acks("orders", secs(6)).unwrap();
    m.try_receive().unwrap().ack().unwrap();
    clock.advance(secs(6));
    let d = m.try_receive().unwrap();
    assert_eq!((*d.value(), d.attempt()), (7, 2));
    assert_eq!(bus.faults().figures().late_acks, 1);
}

#[test]
fn failed_publishes_append_nothing_and_report_the_chosen_error() {
    let bus = Bus::new();
    let t = bus
        .topic::<u32>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    let faults = bus.faults();
    faults
        .fail_publishes("orders", 4, InjectedError::Full)
        .unwrap();
    assert_eq!(t.publish(1), Err(PublishError::Full(1)));
    assert_eq!(t.try_publish(2), Err(PublishError::Full(2)));
    assert_eq!(
        t.publish_batch([3, 4, 5]),
        Err(PublishError::Full(vec![3, 4, 5]))
    );
    let e = futures_executor::block_on(t.publish_message_async(Message::new(6).key("k")));
    assert!(matches!(e, Err(PublishError::Full(m)) if m.value == 6));
    assert_eq!(t.publish(7).unwrap().offset, 0, "four failures, then none");
    faults
        .fail_publishes("orders", 1, InjectedError::Closed)
        .unwrap();
    assert_eq!(t.publish(8), Err(PublishError::Closed(8)));
    assert!(!t.is_closed());
    faults
        .fail_publishes("orders", 1, InjectedError::Io)
        .unwrap();
    match t.publish_message(Message::new(9)) {
        Err(PublishError::Storage(m, Error::Io { path, reason })) => {
            assert_eq!((m.value, path.as_str()), (9, "orders"));
            assert!(reason.contains("injected"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.len(), 1);
    assert_eq!(faults.figures().failed, 6);
    // Disarmed by n = 0 and by clear().
    faults
        .fail_publishes("orders", 3, InjectedError::Full)
        .unwrap();
    faults
        .fail_publishes("orders", 0, InjectedError::Full)
        .unwrap();
    t.publish(10).unwrap();
    faults
        .fail_publishes("orders", 3, InjectedError::Full)
        .unwrap();
    faults.clear();
    t.publish(11).unwrap();
    assert_eq!(t.len(), 3);
}

#[test]
fn failed_sends_send_nothing_and_report_each_calls_error() {
    let bus = Bus::new();
    let q = bus.queue::<u32>("jobs", QueueConfig::default()).unwrap();
    let faults = bus.faults();
    faults.fail_sends("jobs", 3, InjectedError::Full).unwrap();
    assert_eq!(q.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(
        q.send_timeout(2, Duration::from_millis(1)),
        Err(SendTimeoutError::Timeout(2))
    );
    match q.send(3) {
        Err(SendError::Storage(3, Error::Io { reason, .. })) => {
            assert!(reason.contains("full"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    faults.fail_sends("jobs", 2, InjectedError::Closed).unwrap();
    assert_eq!(q.send_batch([4, 5]), Err(SendError::Closed(vec![4, 5])));
    assert!(matches!(
        futures_executor::block_on(q.send_async(6)),
        Err(SendError::Closed(6))
    ));
    faults.fail_sends("jobs", 1, InjectedError::Io).unwrap();
    assert!(matches!(
        q.send_delayed(7, secs(1)),
        Err(SendError::Storage(_, Error::Io { .. }))
    ));
    assert!(q.is_empty() && !q.is_closed());
    q.send(8).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(faults.figures().failed, 6);
}

#[test]
fn faults_name_what_exists_and_the_right_kind() {
    let bus = Bus::new();
    bus.topic::<u8>("t", TopicConfig::default().partitions(2))
        .unwrap();
    bus.queue::<u8>("q", QueueConfig::default()).unwrap();
    let f = bus.faults();
    assert!(matches!(
        f.fail_publishes("nope", 1, InjectedError::Full),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        f.delay_acks("bad name!", secs(1)),
        Err(Error::InvalidName { .. })
    ));
    let e = f.fail_publishes("q", 1, InjectedError::Full).unwrap_err();
    assert!(e.to_string().contains("fail_sends"), "{e}");
    let e = f.fail_sends("t", 1, InjectedError::Full).unwrap_err();
    assert!(e.to_string().contains("fail_publishes"), "{e}");
    assert!(matches!(
        f.pause_partition("q", 0),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        f.pause_partition("t", 2),
        Err(Error::OutOfRange { partition: 2, .. })
    ));
    assert_eq!(
        "slow".parse::<InjectedError>().unwrap_err().to_string(),
        r#"error must be one of "full", "closed", "io", not "slow""#
    );
}

fn drain(s: &mut Subscription<u32>) -> Vec<(u32, u32)> {
    std::iter::from_fn(|| s.try_recv().ok().map(|r| (r.partition, r.value))).collect()
}

#[test]
fn a_paused_partition_delivers_nothing_until_resumed() {
    let (_clock, bus) = manual();
    let t = bus
        .topic::<u32>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let faults = bus.faults();
    faults.pause_partition("orders", 1).unwrap();
    faults.pause_partition("orders", 1).unwrap(); // again: nothing changes
    for v in 0..4 {
        t.publish_message(Message::new(v).partition(v % 2)).unwrap();
    }
    assert_eq!(drain(&mut sub), vec![(0, 0), (0, 2)]);
    assert_eq!(sub.lag(), 2);
    // A group member and a share group see the same.
    let mut m = t
        .group_with("g", GroupConfig::default().start(Start::Earliest))
        .unwrap()
        .join()
        .unwrap();
    let read: Vec<u32> = std::iter::from_fn(|| m.try_recv().ok().map(|r| r.partition)).collect();
    assert_eq!(read, vec![0, 0]);
    let share = t
        .share_group_with("s", ShareGroupConfig::default().start(Start::Earliest))
        .unwrap()
        .join()
        .unwrap();
    let got: Vec<Option<u32>> = std::iter::from_fn(|| share.try_receive().ok())
        .map(|d| {
            let p = d.partition();
            d.ack().unwrap();
            p
        })
        .collect();
    assert_eq!(got, vec![Some(0), Some(0)]);
    // A blocked reader is woken by the resume.
    let reader = std::thread::spawn(move || {
        let r = sub.recv_timeout(Duration::from_secs(30)).unwrap();
        (r.partition, r.value)
    });
    std::thread::sleep(Duration::from_millis(50));
    faults.resume_partition("orders", 1).unwrap();
    assert_eq!(reader.join().unwrap(), (1, 1));
    let pauses = faults_journaled(&bus, "pause");
    let resumes = faults_journaled(&bus, "resume");
    assert_eq!((pauses, resumes), (1, 1));
    // clear() resumes too.
    faults.pause_partition("orders", 0).unwrap();
    assert_eq!(faults.active().len(), 1);
    faults.clear();
    assert!(faults.active().is_empty());
    assert_eq!(faults_journaled(&bus, "clear"), 1);
}

#[test]
fn faults_on_one_topic_leave_the_others_alone() {
    let bus = Bus::new();
    let a = bus.topic::<u8>("a", TopicConfig::default()).unwrap();
    let b = bus.topic::<u8>("b", TopicConfig::default()).unwrap();
    bus.faults()
        .fail_publishes("a", 5, InjectedError::Full)
        .unwrap();
    bus.faults().pause_partition("a", 0).unwrap();
    let mut rb = b.subscribe(Start::Earliest).unwrap();
    b.publish(1).unwrap();
    assert_eq!(rb.try_recv().unwrap().value, 1);
    assert!(a.publish(1).is_err());
    // A topic created again under the name starts without faults.
    bus.delete("a").unwrap();
    let a = bus.topic::<u8>("a", TopicConfig::default()).unwrap();
    a.publish(2).unwrap();
    let mut ra = a.subscribe(Start::Earliest).unwrap();
    assert_eq!(ra.try_recv().unwrap().value, 2);
}
