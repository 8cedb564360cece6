//! A share group under random joins, leaves, receives, settles (ack, nack,
//! nack-after, reject, drop), visibility timeouts and clock steps, and the
//! faults of `bus.faults()`: crashed members and deliveries, settles that
//! arrive late (`delay_acks`).
//!
//! What must hold: a record is never in flight with two deliveries at once; its
//! attempt counts its deliveries and never passes `max_deliveries`; a settle
//! succeeds exactly when the visibility timeout has not passed (a delayed one:
//! when it arrives before it; a crashed member's: never); and at the end, once
//! every record was received and acked, each record was acked or dead-lettered
//! exactly once.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ringlet::{
    Bus, Delivery, ManualClock, Message, QueueConfig, SettleError, ShareGroupConfig, ShareMember,
    Start, TopicConfig, TryReceiveError,
};

const VT_MS: i64 = 20;

#[derive(Debug)]
enum Op {
    Publish(Option<u8>),
    Join,
    Leave(usize),
    Receive(usize),
    ReceiveBatch(usize, usize),
    Ack(usize),
    Nack(usize),
    NackAfter(usize, i64),
    Reject(usize),
    Drop(usize),
    Advance(i64),
    /// Crashes member i (`bus.faults().crash`).
    Crash(usize),
    /// Crashes the consumer of held delivery i.
    CrashHeld(usize),
    /// Settles arrive this late (0: on time again).
    Delay(i64),
}

#[derive(Debug)]
struct Case {
    partitions: u32,
    max_deliveries: Option<u32>,
    max_in_flight: usize,
    ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let partitions = u.int_in_range(1..=3u32)?;
        let max_deliveries = if u.arbitrary()? {
            Some(u.int_in_range(1..=4u32)?)
        } else {
            None
        };
        let max_in_flight = u.int_in_range(1..=8usize)?;
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 300 {
            let i = u.int_in_range(0..=5usize)?;
            ops.push(match u.int_in_range(0..=23u8)? {
                0..=4 => Op::Publish(if u.arbitrary()? {
                    Some(u.arbitrary()?)
                } else {
                    None
                }),
                5 => Op::Join,
                6 => Op::Leave(i),
                7..=9 => Op::Receive(i),
                10 => Op::ReceiveBatch(i, u.int_in_range(1..=4)?),
                11..=13 => Op::Ack(i),
                14 => Op::Nack(i),
                15 => Op::NackAfter(i, u.int_in_range(1..=2 * VT_MS)?),
                16 => Op::Reject(i),
                17 => Op::Drop(i),
                18..=20 => Op::Advance(u.int_in_range(1..=VT_MS)?),
                21 => Op::Crash(i),
                22 => Op::CrashHeld(i),
                _ => Op::Delay(u.int_in_range(0..=2 * VT_MS)?),
            });
        }
        Ok(Case {
            partitions,
            max_deliveries,
            max_in_flight,
            ops,
        })
    }
}

struct Checker {
    clock: ManualClock,
    max_deliveries: u32,
    /// Per record (its value): deliveries so far, the deadline of the one in
    /// flight, and how often it was acked.
    attempts: BTreeMap<u64, u32>,
    in_flight: BTreeMap<u64, i64>,
    acked: BTreeMap<u64, u32>,
    /// How late settles arrive now (ms).
    delay: i64,
    /// Settles on their way: record, its delivery's deadline, arrival, ack.
    pending: Vec<(u64, i64, i64, bool)>,
}

impl Checker {
    fn received(&mut self, d: &Delivery<u64>) {
        let v = *d.value();
        let now = self.clock.now_ms();
        if let Some(&deadline) = self.in_flight.get(&v) {
            assert!(
                deadline <= now,
                "record {v} delivered twice while in flight (deadline {deadline}, now {now})"
            );
        }
        assert_eq!(
            self.acked.get(&v),
            None,
            "record {v} delivered after it was acked"
        );
        let a = self.attempts.entry(v).or_insert(0);
        *a += 1;
        assert_eq!(d.attempt(), *a, "attempt of record {v}");
        assert!(*a <= self.max_deliveries, "record {v} delivered {a} times");
        assert_eq!(d.deadline(), now + VT_MS);
        self.in_flight.insert(v, d.deadline());
    }

    /// Moves the clock; the settles that arrived meanwhile count if they
    /// arrived before their deadline.
    fn advance(&mut self, ms: i64) {
        self.clock.advance_ms(ms);
        let now = self.clock.now_ms();
        let (arrived, later): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.2 <= now);
        self.pending = later;
        for (v, deadline, at, ack) in arrived {
            if at < deadline {
                self.in_flight.remove(&v);
                if ack {
                    *self.acked.entry(v).or_insert(0) += 1;
                }
            }
        }
    }

    /// Checks a settle's outcome against the deadline (a delayed one returns
    /// at once and counts when it arrives).
    fn settled(
        &mut self,
        v: u64,
        deadline: i64,
        r: std::result::Result<(), SettleError>,
        ack: bool,
    ) {
        let now = self.clock.now_ms();
        if self.delay > 0 {
            assert_eq!(r, Ok(()), "a delayed settle returns at once");
            self.pending.push((v, deadline, now + self.delay, ack));
            return;
        }
        if now < deadline {
            assert_eq!(r, Ok(()), "a settle before the deadline");
            self.in_flight.remove(&v);
            if ack {
                *self.acked.entry(v).or_insert(0) += 1;
            }
        } else {
            assert_eq!(r, Err(SettleError::Expired), "a settle after the deadline");
        }
    }
}

/// A delivery held, with the id of the member that received it.
type Held = (u64, Delivery<u64>);

fn settle(
    held: &mut Vec<Held>,
    crashed: &BTreeSet<u64>,
    i: usize,
    c: &mut Checker,
    f: impl FnOnce(Delivery<u64>) -> std::result::Result<(), SettleError>,
    ack: bool,
) {
    if i < held.len() {
        let (member, d) = held.remove(i);
        let (v, deadline) = (*d.value(), d.deadline());
        let r = f(d);
        if crashed.contains(&member) {
            // Its consumer is gone: nothing settles it (the timeout will).
            assert_eq!(r, Err(SettleError::Expired), "a crashed member's settle");
            return;
        }
        c.settled(v, deadline, r, ack);
    }
}

fuzz_target!(|case: Case| {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let dlq = bus
        .queue::<u64>("dlq", QueueConfig::default().capacity(1024))
        .unwrap();
    let t = bus
        .topic::<u64>("t", TopicConfig::default().partitions(case.partitions))
        .unwrap();
    let mut config = ShareGroupConfig::default()
        .start(Start::Earliest)
        .visibility_timeout(Duration::from_millis(VT_MS as u64))
        .max_in_flight(case.max_in_flight)
        .dead_letter("dlq");
    config.max_deliveries = case.max_deliveries;
    let g = t.share_group_with("w", config).unwrap();
    let mut c = Checker {
        clock: clock.clone(),
        max_deliveries: case.max_deliveries.unwrap_or(u32::MAX),
        attempts: BTreeMap::new(),
        in_flight: BTreeMap::new(),
        acked: BTreeMap::new(),
        delay: 0,
        pending: Vec::new(),
    };
    let faults = bus.faults();
    let mut members: Vec<ShareMember<u64>> = Vec::new();
    let mut held: Vec<Held> = Vec::new();
    let mut crashed: BTreeSet<u64> = BTreeSet::new();
    let mut published = 0u64;
    for op in case.ops {
        match op {
            Op::Publish(key) => {
                let mut m = Message::new(published);
                if let Some(k) = key {
                    m = m.key(vec![k]);
                }
                t.publish_message(m).unwrap();
                published += 1;
            }
            Op::Join if members.len() < 4 => members.push(g.join().unwrap()),
            Op::Leave(i) if i < members.len() => {
                members.remove(i).leave();
            }
            Op::Receive(i) if i < members.len() => match members[i].try_receive() {
                Ok(d) => {
                    c.received(&d);
                    held.push((members[i].id(), d));
                }
                Err(TryReceiveError::Empty) => {}
                Err(e) => panic!("unexpected {e:?}"),
            },
            Op::ReceiveBatch(i, max) if i < members.len() => {
                match members[i].try_receive_batch(max) {
                    // Possibly none, as a topic's `try_recv_batch` (a queue's says `Empty`).
                    Ok(ds) => {
                        assert!(ds.len() <= max);
                        for d in ds {
                            c.received(&d);
                            held.push((members[i].id(), d));
                        }
                    }
                    Err(TryReceiveError::Empty) => {}
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            Op::Ack(i) => settle(&mut held, &crashed, i, &mut c, Delivery::ack, true),
            Op::Nack(i) => settle(&mut held, &crashed, i, &mut c, Delivery::nack, false),
            Op::NackAfter(i, ms) => settle(
                &mut held,
                &crashed,
                i,
                &mut c,
                |d| d.nack_after(Duration::from_millis(ms as u64)),
                false,
            ),
            Op::Reject(i) => settle(&mut held, &crashed, i, &mut c, Delivery::reject, false),
            Op::Drop(i) if i < held.len() => {
                let (member, d) = held.remove(i);
                let (v, deadline) = (*d.value(), d.deadline());
                drop(d);
                // A drop nacks (late, under a delay); a crashed member's does not.
                if !crashed.contains(&member) {
                    let now = clock.now_ms();
                    if c.delay > 0 {
                        c.pending.push((v, deadline, now + c.delay, false));
                    } else if now < deadline {
                        c.in_flight.remove(&v);
                    }
                }
            }
            Op::Advance(ms) => c.advance(ms),
            Op::Crash(i) if i < members.len() => {
                let mut m = members.remove(i);
                assert!(faults.crash(&mut m));
                crashed.insert(m.id());
            }
            Op::CrashHeld(i) if i < held.len() => {
                let (_, d) = held.remove(i);
                assert!(faults.crash(d));
            }
            Op::Delay(ms) => {
                faults
                    .delay_acks("t", Duration::from_millis(ms as u64))
                    .unwrap();
                c.delay = ms;
            }
            _ => {}
        }
    }

    // Everything left is received and acked by one member, on time.
    faults.clear();
    c.delay = 0;
    drop(held);
    drop(members);
    let last = g.join().unwrap();
    for _ in 0..(published as usize + 4) * 4 {
        c.advance(2 * VT_MS);
        loop {
            match last.try_receive() {
                Ok(d) => {
                    c.received(&d);
                    let (v, deadline) = (*d.value(), d.deadline());
                    c.settled(v, deadline, d.ack(), true);
                }
                Err(TryReceiveError::Empty) => break,
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        if g.snapshot().figures.in_flight == 0
            && c.acked.len() as u64 + dlq.figures().ready >= published
        {
            break;
        }
    }
    let mut dead: BTreeMap<u64, u32> = BTreeMap::new();
    while let Ok(d) = dlq.try_receive() {
        *dead.entry(*d.value()).or_insert(0) += 1;
        d.ack().unwrap();
    }
    for v in 0..published {
        let (a, d) = (
            c.acked.get(&v).copied().unwrap_or(0),
            dead.get(&v).copied().unwrap_or(0),
        );
        assert_eq!(
            a + d,
            1,
            "record {v}: acked {a} times, dead-lettered {d} times"
        );
    }
    assert_eq!(
        g.snapshot().figures.acked,
        c.acked.values().map(|&a| u64::from(a)).sum::<u64>()
    );
});
