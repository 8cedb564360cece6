//! Consumer groups: membership, sticky assignment, offsets, session timeouts,
//! listeners, gating, bad input.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringlet::{
    Bus, Error, GroupConfig, ManualClock, Message, OnFull, RecvError, Start, Topic, TopicConfig,
    TryRecvError,
};

fn topic(bus: &Bus, partitions: u32) -> Topic<u64> {
    bus.topic::<u64>("t", TopicConfig::default().partitions(partitions))
        .unwrap()
}

fn earliest() -> GroupConfig {
    GroupConfig::default().start(Start::Earliest)
}

/// Drains what a member can read now.
fn drain(m: &mut ringlet::Member<u64>) -> Vec<(u32, u64)> {
    let mut out = vec![];
    loop {
        match m.try_recv() {
            Ok(r) => out.push((r.partition, r.offset)),
            Err(TryRecvError::Empty) => return out,
            Err(e) => panic!("{e:?}"),
        }
    }
}

#[test]
fn joins_and_leaves_rebalance_stickily_and_deterministically() {
    let run = || {
        let bus = Bus::new();
        let t = topic(&bus, 6);
        let g = t.group("g").unwrap();
        let mut a = g.join().unwrap();
        assert_eq!(a.assignment(), vec![0, 1, 2, 3, 4, 5]);
        let mut b = g.join().unwrap();
        assert_eq!(
            (a.assignment(), b.assignment()),
            (vec![0, 1, 2], vec![3, 4, 5])
        );
        let mut c = g.join().unwrap();
        let after_c = (a.assignment(), b.assignment(), c.assignment());
        assert_eq!(after_c, (vec![0, 1], vec![3, 4], vec![2, 5]));
        b.leave();
        // Only b's partitions move.
        let (aa, cc) = (a.assignment(), c.assignment());
        assert!(aa.starts_with(&[0, 1]) && cc.contains(&2) && cc.contains(&5));
        assert_eq!(aa.len() + cc.len(), 6);
        drop(a); // dropping leaves too
        assert_eq!(c.assignment(), vec![0, 1, 2, 3, 4, 5]);
        g.members()
    };
    assert_eq!(run(), run());
}

#[test]
fn committed_offset_is_the_next_to_read_and_new_owners_resume_there() {
    let bus = Bus::new();
    let t = topic(&bus, 1);
    let g = t.group_with("g", earliest()).unwrap();
    for i in 0..5 {
        t.publish(i).unwrap();
    }
    let mut a = g.join().unwrap();
    assert_eq!(a.recv().unwrap().value, 0);
    assert_eq!(a.recv().unwrap().value, 1);
    a.commit().unwrap();
    assert_eq!(g.committed(), vec![Some(2)]);
    assert_eq!(g.lag(), vec![3]);
    assert_eq!(a.recv().unwrap().value, 2); // returned, not committed
    a.leave();
    let mut b = g.join().unwrap();
    let got: Vec<u64> = std::iter::from_fn(|| b.try_recv().ok().map(|r| r.value)).collect();
    assert_eq!(got, vec![2, 3, 4], "at-least-once: 2 comes again");
    b.commit_offsets(&[(0, 5)]).unwrap();
    assert_eq!(g.lag(), vec![0]);
}

#[test]
fn a_group_starts_at_latest_unless_told_resolved_at_first_assignment() {
    let bus = Bus::new();
    let t = topic(&bus, 2);
    t.publish(1).unwrap();
    let latest = t.group("late").unwrap();
    let early = t.group_with("early", earliest()).unwrap();
    t.publish(2).unwrap(); // after the groups exist, before anyone joins
    let mut l = latest.join().unwrap();
    let mut e = early.join().unwrap();
    assert!(drain(&mut l).is_empty());
    assert_eq!(drain(&mut e).len(), 2);
    t.publish(3).unwrap();
    assert_eq!(drain(&mut l).len(), 1);
}

#[test]
fn auto_commit_commits_what_was_returned_before_at_each_read_and_at_leave() {
    let bus = Bus::new();
    let t = topic(&bus, 1);
    let g = t.group_with("g", earliest().auto_commit(true)).unwrap();
    t.publish_batch([1, 2, 3]).unwrap();
    let mut m = g.join().unwrap();
    m.recv().unwrap();
    assert_eq!(g.committed(), vec![None]);
    m.recv().unwrap(); // commits offset 1 (the first record) before reading
    assert_eq!(g.committed(), vec![Some(1)]);
    m.leave(); // commits the second
    assert_eq!(g.committed(), vec![Some(2)]);
    let mut n = g.join().unwrap();
    assert_eq!(n.recv().unwrap().value, 3);
}

#[test]
fn revocation_is_immediate_and_late_commits_are_not_owner() {
    let bus = Bus::new();
    let t = topic(&bus, 2);
    let g = t.group_with("g", earliest()).unwrap();
    for i in 0..4 {
        t.publish(i).unwrap();
    }
    let mut a = g.join().unwrap();
    let got = drain(&mut a);
    assert_eq!(got.len(), 4);
    let mut b = g.join().unwrap(); // takes partition 1 at once
    assert_eq!(b.assignment(), vec![1]);
    // a returned records of partition 1 but never committed them.
    assert_eq!(a.commit(), Err(Error::NotOwner { partition: 1 }));
    assert_eq!(
        g.committed()[0],
        Some(2),
        "the owned partition was committed"
    );
    assert_eq!(
        a.commit_offsets(&[(1, 2)]),
        Err(Error::NotOwner { partition: 1 })
    );
    // b reads partition 1 again from the (absent) commit: the group's start.
    assert_eq!(drain(&mut b), vec![(1, 0), (1, 1)]);
}

#[test]
fn a_partition_taken_and_given_back_between_two_calls_starts_afresh() {
    let bus = Bus::new();
    let t = topic(&bus, 2);
    let g = t.group_with("g", earliest()).unwrap();
    for i in 0..4 {
        t.publish_message(Message::new(i).partition(1)).unwrap();
    }
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut a = g.join().unwrap();
    let (l1, l2) = (log.clone(), log.clone());
    a.on_assign(move |p| l1.lock().unwrap().push(format!("assign {p:?}")));
    a.on_revoke(move |p| l2.lock().unwrap().push(format!("revoke {p:?}")));
    assert_eq!(drain(&mut a), vec![(1, 0), (1, 1), (1, 2), (1, 3)]);
    log.lock().unwrap().clear();
    // While a makes no call, b takes partition 1, reads it, commits 3 of the
    // 4 records and leaves: partition 1 is a's again, under a new grant.
    let mut b = g.join().unwrap();
    assert_eq!(b.assignment(), vec![1]);
    b.recv().unwrap();
    b.recv().unwrap();
    b.recv().unwrap();
    b.commit().unwrap();
    b.leave();
    assert_eq!(g.committed()[1], Some(3));
    // a's position (4, returned but not committed) is not its to commit.
    assert_eq!(a.commit(), Err(Error::NotOwner { partition: 1 }));
    assert_eq!(
        g.committed()[1],
        Some(3),
        "no commit went backwards or past b's"
    );
    assert_eq!(
        *log.lock().unwrap(),
        vec!["revoke [1]", "assign [1]"],
        "a lost the partition and got it again"
    );
    assert_eq!(drain(&mut a), vec![(1, 3)], "a starts at b's commit");
}

#[test]
fn a_member_removed_by_the_session_timeout_leaves_without_joining_again() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let t = topic(&bus, 2);
    let config = earliest()
        .auto_commit(true)
        .session_timeout(Duration::from_secs(10));
    let g = t.group_with("g", config).unwrap();
    let mut a = g.join().unwrap();
    let mut b = g.join().unwrap();
    clock.advance(Duration::from_secs(6));
    let _ = b.try_recv(); // b keeps its session alive
    clock.advance(Duration::from_secs(4)); // a's ends
    assert_eq!(g.members().len(), 1);
    for i in 0..4 {
        t.publish_message(Message::new(i).partition((i % 2) as u32))
            .unwrap();
    }
    // One record of each partition returned, not yet committed.
    let mut first = [b.try_recv().unwrap(), b.try_recv().unwrap()];
    first.sort_by_key(|r| r.partition);
    assert_eq!(
        first
            .iter()
            .map(|r| (r.partition, r.offset))
            .collect::<Vec<_>>(),
        vec![(0, 0), (1, 0)]
    );
    a.leave();
    assert_eq!(g.members().len(), 1, "a did not come back to leave");
    let mut rest = drain(&mut b);
    rest.sort();
    assert_eq!(
        rest,
        vec![(0, 1), (1, 1)],
        "b goes on: its partitions never moved"
    );
}

#[test]
fn listeners_run_on_the_members_next_call() {
    let bus = Bus::new();
    let t = topic(&bus, 4);
    let g = t.group("g").unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut a = g.join().unwrap();
    let (l1, l2) = (log.clone(), log.clone());
    a.on_assign(move |p| l1.lock().unwrap().push(format!("assign {p:?}")));
    a.on_revoke(move |p| l2.lock().unwrap().push(format!("revoke {p:?}")));
    assert!(log.lock().unwrap().is_empty(), "nothing until a call");
    let _ = a.try_recv();
    let _b = g.join().unwrap();
    assert_eq!(log.lock().unwrap().len(), 1);
    let _ = a.try_recv();
    assert_eq!(
        *log.lock().unwrap(),
        vec!["assign [0, 1, 2, 3]", "revoke [2, 3]"]
    );
}

#[test]
fn session_timeout_removes_an_idle_member_on_the_bus_clock() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let t = topic(&bus, 2);
    let g = t
        .group_with("g", earliest().session_timeout(Duration::from_secs(10)))
        .unwrap();
    let mut a = g.join().unwrap();
    let mut b = g.join().unwrap();
    t.publish_batch([1, 2]).unwrap();
    assert_eq!(drain(&mut b).len(), 1);
    clock.advance(Duration::from_secs(6));
    let _ = a.try_recv(); // a keeps its session alive
    clock.advance(Duration::from_secs(4)); // b's deadline: 10 s after its last call
    assert_eq!(g.members().len(), 1, "b timed out");
    assert_eq!(a.assignment(), vec![0, 1]);
    // b calls again: it rejoins, and its uncommitted partition was re-read by a.
    assert_eq!(b.commit(), Err(Error::NotOwner { partition: 1 }));
    assert_eq!(g.members().len(), 2);
}

#[test]
fn a_blocked_member_counts_as_alive_and_is_woken_by_a_rebalance() {
    let bus = Bus::builder().clock(ManualClock::new()).build();
    let t = topic(&bus, 2);
    let g = t.group_with("g", earliest()).unwrap();
    let a = g.join().unwrap();
    let mut b = g.join().unwrap();
    assert_eq!(b.assignment(), vec![1]);
    t.publish_message(ringlet::Message::new(7).partition(0))
        .unwrap();
    let reader = std::thread::spawn(move || b.recv().map(|r| (r.partition, r.value)));
    std::thread::sleep(Duration::from_millis(50));
    drop(a); // partition 0 (with a record) moves to the blocked b
    assert_eq!(reader.join().unwrap(), Ok((0, 7)));
}

#[test]
fn seek_pause_resume_manual_assign_and_offsets() {
    let bus = Bus::new();
    let t = topic(&bus, 3);
    for p in 0..3 {
        for ts in [100, 200] {
            t.publish_message(
                ringlet::Message::new(u64::from(p))
                    .partition(p)
                    .timestamp(ts),
            )
            .unwrap();
        }
    }
    assert_eq!(t.offsets_for_times(150), vec![Some(1); 3]);
    let g = t.group("g").unwrap(); // latest
    let mut m = g.join().unwrap();
    assert_eq!(m.end_offsets(), vec![2, 2, 2]);
    assert_eq!(m.offsets_for_times(201), vec![None; 3]);
    m.seek(1, 0).unwrap();
    assert_eq!(drain(&mut m), vec![(1, 0), (1, 1)]);
    m.seek(2, 1).unwrap();
    m.pause(&[2]).unwrap();
    assert_eq!(m.paused(), vec![2]);
    assert!(drain(&mut m).is_empty());
    m.resume(&[2]).unwrap();
    assert_eq!(drain(&mut m), vec![(2, 1)]);
    assert_eq!(
        m.seek(0, 3),
        Err(Error::OutOfRange {
            partition: 0,
            reason: "offset 3 is past the end offset 2".into()
        })
    );
    assert!(matches!(
        m.seek(9, 0),
        Err(Error::OutOfRange { partition: 9, .. })
    ));
    let mut other = g.join().unwrap();
    other.assign(&[0]).unwrap();
    assert_eq!((m.assignment(), other.assignment()), (vec![1, 2], vec![0]));
    assert_eq!(m.seek(0, 0), Err(Error::NotOwner { partition: 0 }));
    assert_eq!(m.assign(&[0]), Err(Error::NotOwner { partition: 0 }));
    assert_eq!(m.pause(&[0]), Err(Error::NotOwner { partition: 0 }));
}

#[test]
fn commit_errors_are_typed_and_change_nothing() {
    let bus = Bus::new();
    let t = topic(&bus, 2);
    t.publish(1).unwrap();
    let g = t.group_with("g", earliest()).unwrap();
    let mut m = g.join().unwrap();
    assert!(matches!(
        m.commit_offsets(&[(0, 0), (0, 5)]),
        Err(Error::OutOfRange { partition: 0, .. })
    ));
    assert!(matches!(
        m.commit_offsets(&[(2, 0)]),
        Err(Error::OutOfRange { partition: 2, .. })
    ));
    assert_eq!(g.committed(), vec![None, None]);
}

#[test]
fn groups_gate_block_topics_by_committed_offset() {
    let bus = Bus::new();
    let t = bus
        .topic::<u64>(
            "t",
            TopicConfig::default().capacity(2).on_full(OnFull::Block),
        )
        .unwrap();
    let g = t.group_with("g", earliest()).unwrap();
    let mut m = g.join().unwrap();
    t.publish(1).unwrap();
    t.publish(2).unwrap();
    m.recv().unwrap();
    m.recv().unwrap();
    assert!(
        t.try_publish(3).is_err(),
        "read but not committed: still gated"
    );
    m.commit().unwrap();
    t.try_publish(3).unwrap();
    drop(m); // no members: the group stops gating
    t.try_publish(4).unwrap();
    t.try_publish(5).unwrap();
}

#[test]
fn bad_input_gets_typed_errors() {
    let bus = Bus::new();
    let t = topic(&bus, 1);
    assert!(matches!(t.group(""), Err(Error::InvalidName { .. })));
    assert!(matches!(t.group("a b"), Err(Error::InvalidName { .. })));
    assert!(matches!(t.group("__x"), Err(Error::InvalidName { .. })));
    assert!(matches!(
        t.group_with("g", GroupConfig::default().start(Start::Offset(3))),
        Err(Error::ConfigError { .. })
    ));
    assert!(matches!(
        t.group_with("g", GroupConfig::default().session_timeout(Duration::ZERO)),
        Err(Error::ConfigError { .. })
    ));
    t.group_with("g", earliest()).unwrap();
    assert!(t.group("g").is_ok(), "group() opens it whatever its config");
    assert!(matches!(
        t.group_with("g", GroupConfig::default()),
        Err(Error::ConfigError { .. })
    ));
    let _share = t.share_group("s").unwrap(); // lives while a handle does
    assert!(matches!(t.group("s"), Err(Error::ConfigError { .. })));
    assert!(matches!(t.share_group("g"), Err(Error::ConfigError { .. })));
    let mut m = t.group("g").unwrap().join().unwrap();
    t.close();
    assert!(matches!(t.group("g").unwrap().join(), Err(Error::Closed)));
    assert_eq!(m.recv(), Err(RecvError::Closed));
}

#[test]
fn async_recv_is_woken_by_a_publish() {
    let bus = Bus::new();
    let t = topic(&bus, 1);
    let g = t.group("g").unwrap();
    let mut m = g.join().unwrap();
    let p = t.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        p.publish(9).unwrap();
    });
    let r = futures_executor::block_on(m.recv_async()).unwrap();
    assert_eq!(r.value, 9);
    h.join().unwrap();
}

#[test]
fn system_clock_session_timeouts_fire_without_any_call() {
    let bus = Bus::new();
    let t = topic(&bus, 2);
    let g = t
        .group_with(
            "g",
            GroupConfig::default().session_timeout(Duration::from_millis(30)),
        )
        .unwrap();
    let _idle = g.join().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !g.members().is_empty() {
        assert!(std::time::Instant::now() < deadline, "never timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
}
