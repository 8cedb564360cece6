//! Consumer groups under random joins, leaves, drops, silent members (the
//! session timeout finds them), reads, commits, seeks, pauses and clock steps.
//!
//! What must hold after every step: the members' assignments are disjoint and
//! cover the topic; a record comes only from a partition its member owns and has
//! not paused; a member reads each owned partition in order, from the committed
//! offset after an assignment or from where it sought; a commit stores what the
//! member returned; and at the end a new member reads exactly from the committed
//! offsets to the end, while no commit ever passed a record nobody was given.
//!
//! `RINGLET_FUZZ_TRACE=1` prints each step with the group's state (replaying an input).
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ringlet::{
    Bus, Error, GroupConfig, ManualClock, Member, Message, Start, TopicConfig, TryRecvError,
};

const SESSION_MS: i64 = 50;

#[derive(Debug)]
enum Op {
    Publish(Option<u8>),
    Join,
    Leave(usize),
    Drop(usize),
    Recv(usize),
    Commit(usize),
    Seek(usize, u32, u64),
    Pause(usize, u32),
    Resume(usize, u32),
    Advance(i64),
}

#[derive(Debug)]
struct Case {
    partitions: u32,
    auto_commit: bool,
    ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let partitions = u.int_in_range(1..=5u32)?;
        let auto_commit = u.arbitrary()?;
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 300 {
            let m = u.int_in_range(0..=3usize)?;
            ops.push(match u.int_in_range(0..=19u8)? {
                0..=4 => Op::Publish(if u.arbitrary()? {
                    Some(u.arbitrary()?)
                } else {
                    None
                }),
                5..=6 => Op::Join,
                7 => Op::Leave(m),
                8 => Op::Drop(m),
                9..=13 => Op::Recv(m),
                14..=15 => Op::Commit(m),
                16 => Op::Seek(m, u.int_in_range(0..=partitions)?, u.int_in_range(0..=60)?),
                17 => Op::Pause(m, u.int_in_range(0..=partitions)?),
                18 => Op::Resume(m, u.int_in_range(0..=partitions)?),
                _ => Op::Advance(u.int_in_range(1..=2 * SESSION_MS)?),
            });
        }
        Ok(Case {
            partitions,
            auto_commit,
            ops,
        })
    }
}

/// What the checker knows of one member.
struct Seen {
    member: Member<u64>,
    /// The offset it must return next from each partition it owns.
    next: BTreeMap<u32, u64>,
    gone: bool,
}

fuzz_target!(|case: Case| {
    let n = case.partitions;
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let t = bus
        .topic::<u64>("t", TopicConfig::default().partitions(n))
        .unwrap();
    let config = GroupConfig::default()
        .start(Start::Earliest)
        .auto_commit(case.auto_commit)
        .session_timeout(Duration::from_millis(SESSION_MS as u64));
    let g = t.group_with("g", config).unwrap();
    let mut members: Vec<Seen> = Vec::new();
    // Per partition: the offsets some member was given, and whether a seek may
    // have skipped some legitimately.
    let mut given: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); n as usize];
    let mut skipped = vec![false; n as usize];
    let mut value = 0u64;
    let committed = |g: &ringlet::Group<u64>, p: u32| g.committed()[p as usize].unwrap_or(0);

    let trace = std::env::var_os("RINGLET_FUZZ_TRACE").is_some();
    for op in case.ops {
        if trace {
            eprintln!(
                "{op:?}  members {:?} committed {:?} ends {:?}",
                g.members(),
                g.committed(),
                t.end_offsets()
            );
        }
        match op {
            Op::Publish(key) => {
                let mut m = Message::new(value);
                if let Some(k) = key {
                    m = m.key(vec![k]);
                }
                t.publish_message(m).unwrap();
                value += 1;
            }
            Op::Join if members.len() < 6 => {
                members.push(Seen {
                    member: g.join().unwrap(),
                    next: BTreeMap::new(),
                    gone: false,
                });
            }
            Op::Leave(i) if i < members.len() => {
                members[i].member.leave();
                members[i].gone = true;
            }
            Op::Drop(i) if i < members.len() => {
                members.remove(i);
            }
            Op::Recv(i) if i < members.len() && !members[i].gone => {
                let s = &mut members[i];
                match s.member.try_recv() {
                    Ok(r) => {
                        if trace {
                            eprintln!(
                                "  member {} got {}:{}",
                                s.member.id(),
                                r.partition,
                                r.offset
                            );
                        }
                        let owned = g.members().into_iter().find(|(id, _)| *id == s.member.id());
                        let owned = owned.map(|(_, ps)| ps).unwrap_or_default();
                        assert!(
                            owned.contains(&r.partition),
                            "record of partition {} not owned: {owned:?}",
                            r.partition
                        );
                        assert!(
                            !s.member.paused().contains(&r.partition),
                            "record of a paused partition"
                        );
                        // Assigned during this very call: it starts at the committed offset.
                        let want = s
                            .next
                            .get(&r.partition)
                            .copied()
                            .unwrap_or_else(|| committed(&g, r.partition));
                        assert_eq!(r.offset, want, "partition {} out of order", r.partition);
                        s.next.insert(r.partition, r.offset + 1);
                        given[r.partition as usize].insert(r.offset);
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Closed) => {
                        assert!(
                            s.member.has_left(),
                            "Closed from a member that did not leave"
                        );
                        s.gone = true;
                    }
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            Op::Commit(i) if i < members.len() && !members[i].gone => {
                let s = &mut members[i];
                let before = s.member.positions();
                match s.member.commit() {
                    Ok(()) | Err(Error::NotOwner { .. }) => {
                        let owned: BTreeSet<u32> = g
                            .members()
                            .into_iter()
                            .find(|(id, _)| *id == s.member.id())
                            .map(|(_, ps)| ps.into_iter().collect())
                            .unwrap_or_default();
                        for (p, o) in before {
                            if owned.contains(&p) {
                                assert_eq!(committed(&g, p), o, "commit of partition {p}");
                            }
                        }
                    }
                    Err(Error::Closed) => {
                        assert!(s.member.has_left());
                        s.gone = true;
                    }
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            Op::Seek(i, p, o) if i < members.len() && !members[i].gone => {
                let s = &mut members[i];
                match s.member.seek(p, o) {
                    Ok(()) => {
                        assert!(p < n && o <= t.end_offsets()[p as usize]);
                        s.next.insert(p, o);
                        skipped[p as usize] = true;
                    }
                    Err(Error::OutOfRange { .. }) => {
                        assert!(p >= n || o > t.end_offsets()[p as usize]);
                    }
                    Err(Error::NotOwner { .. }) => assert!(p < n),
                    Err(Error::Closed) => s.gone = true,
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            Op::Pause(i, p) | Op::Resume(i, p) if i < members.len() && !members[i].gone => {
                let s = &mut members[i];
                let pause = matches!(op, Op::Pause(..));
                let r = if pause {
                    s.member.pause(&[p])
                } else {
                    s.member.resume(&[p])
                };
                match r {
                    Ok(()) => assert_eq!(s.member.paused().contains(&p), pause),
                    Err(Error::OutOfRange { .. }) => assert!(p >= n),
                    Err(Error::NotOwner { .. }) => assert!(p < n),
                    Err(Error::Closed) => s.gone = true,
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            Op::Advance(ms) => clock.advance_ms(ms),
            _ => {}
        }
        // The group's view: disjoint, covering, and what the checker expects next.
        let view = g.members();
        let mut all = BTreeSet::new();
        for (_, ps) in &view {
            for &p in ps {
                assert!(all.insert(p), "partition {p} owned twice: {view:?}");
            }
        }
        if !view.is_empty() {
            assert_eq!(all.len(), n as usize, "partitions unowned: {view:?}");
        }
        for s in &mut members {
            let owned: BTreeSet<u32> = view
                .iter()
                .find(|(id, _)| *id == s.member.id())
                .map(|(_, ps)| ps.iter().copied().collect())
                .unwrap_or_default();
            s.next.retain(|p, _| owned.contains(p));
            for p in owned {
                s.next.entry(p).or_insert_with(|| committed(&g, p));
            }
        }
    }

    drop(members);
    let ends = t.end_offsets();
    for p in 0..n {
        let c = committed(&g, p);
        assert!(c <= ends[p as usize], "committed past the end");
        if !skipped[p as usize] {
            assert!(
                (0..c).all(|o| given[p as usize].contains(&o)),
                "partition {p} committed past a record nobody was given"
            );
        }
    }
    let from: Vec<u64> = (0..n).map(|p| committed(&g, p)).collect();
    let mut last = g.join().unwrap();
    let mut read: Vec<Vec<u64>> = vec![Vec::new(); n as usize];
    loop {
        match last.try_recv() {
            Ok(r) => read[r.partition as usize].push(r.offset),
            Err(TryRecvError::Empty) => break,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    for p in 0..n {
        let want: Vec<u64> = (from[p as usize]..ends[p as usize]).collect();
        assert_eq!(read[p as usize], want, "partition {p} after a restart");
    }
});
