//! Property test: a topic and its subscriptions against a plain sequential model.
//!
//! The model keeps every record ever published in a `Vec` per partition and derives
//! retention, lag and reads from it with plain arithmetic. Subscriptions copy up to
//! `BATCH` records of a partition at a time and hand them out round-robin, so the
//! model does the same.

use std::collections::VecDeque;

use proptest::prelude::*;
use ringlet::{
    partition_for_key, Bus, Message, OnFull, PublishError, Start, Topic, TopicConfig, TryRecvError,
    BATCH,
};

/// How the topic under test is made: in memory here; `ringlet-store`'s tests
/// run this suite on durable topics too.
pub trait Kind {
    /// What keeps the topic's storage until the case ends.
    type Guard;
    fn topic(config: TopicConfig) -> (Self::Guard, Bus, Topic<u32>);
}

/// Topics in memory.
#[derive(Debug)]
pub struct Memory;

impl Kind for Memory {
    type Guard = ();
    fn topic(config: TopicConfig) -> ((), Bus, Topic<u32>) {
        let bus = Bus::new();
        let t = bus.topic::<u32>("t", config).unwrap();
        ((), bus, t)
    }
}

#[derive(Debug, Clone)]
pub enum Op {
    Publish {
        key: Option<u8>,
        partition: Option<u8>,
    },
    Subscribe(Start),
    Recv(usize),
    RecvBatch(usize, usize),
    Seek(usize, Start),
    Drop(usize),
    Close,
}

pub fn op(partitions: u32) -> impl Strategy<Value = Op> {
    let start = prop_oneof![
        Just(Start::Earliest),
        Just(Start::Latest),
        (0u64..40).prop_map(Start::Offset),
    ];
    prop_oneof![
        8 => (proptest::option::of(0u8..6), proptest::option::weighted(0.2, 0u8..(partitions as u8 + 1)))
            .prop_map(|(key, partition)| Op::Publish { key, partition }),
        2 => start.clone().prop_map(Op::Subscribe),
        6 => (0usize..4).prop_map(Op::Recv),
        2 => (0usize..4, 0usize..80).prop_map(|(s, n)| Op::RecvBatch(s, n)),
        1 => (0usize..4, start).prop_map(|(s, st)| Op::Seek(s, st)),
        1 => (0usize..4).prop_map(Op::Drop),
        1 => Just(Op::Close),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Got {
    Rec(u32, u64, u32),
    Lagged(u32, u64),
    Empty,
    Closed,
}

struct ModelSub {
    pending: Option<(u32, u64)>,
    next: Vec<u64>,
    buf: Vec<VecDeque<u64>>,
    rr: usize,
}

struct Model {
    cap: u64,
    keep: bool,
    parts: Vec<Vec<u32>>,
    rr: u64,
    closed: bool,
}

impl Model {
    fn start(&self, p: usize) -> u64 {
        (self.parts[p].len() as u64).saturating_sub(self.cap)
    }
    fn end(&self, p: usize) -> u64 {
        self.parts[p].len() as u64
    }
    fn resolve(&self, s: &Start) -> Option<Vec<u64>> {
        (0..self.parts.len())
            .map(|p| match s {
                Start::Earliest => Some(self.start(p)),
                Start::Latest => Some(self.end(p)),
                Start::Offset(o) if *o > self.end(p) => None,
                Start::Offset(o) => Some(*o),
                _ => unreachable!(),
            })
            .collect()
    }
    fn read(&self, s: &mut ModelSub) -> Got {
        if let Some((p, k)) = s.pending.take() {
            return Got::Lagged(p, k);
        }
        let n = self.parts.len();
        for i in 0..n {
            let p = (s.rr + i) % n;
            if s.buf[p].is_empty() {
                let oldest = self.start(p);
                if s.next[p] < oldest {
                    let skipped = oldest - s.next[p];
                    s.next[p] = oldest;
                    s.rr = (p + 1) % n;
                    return Got::Lagged(p as u32, skipped);
                }
                let take = (self.end(p) - s.next[p]).min(BATCH as u64);
                for o in s.next[p]..s.next[p] + take {
                    s.buf[p].push_back(o);
                }
                s.next[p] += take;
            }
            if let Some(o) = s.buf[p].pop_front() {
                s.rr = (p + 1) % n;
                return Got::Rec(p as u32, o, self.parts[p][o as usize]);
            }
        }
        if self.closed {
            Got::Closed
        } else {
            Got::Empty
        }
    }
}

fn got<T>(r: Result<ringlet::Record<u32>, TryRecvError>, _: T) -> Got {
    match r {
        Ok(r) => Got::Rec(r.partition, r.offset, r.value),
        Err(TryRecvError::Lagged { partition, skipped }) => Got::Lagged(partition, skipped),
        Err(TryRecvError::Empty) => Got::Empty,
        Err(TryRecvError::Closed) => Got::Closed,
    }
}

pub fn run<K: Kind>(partitions: u32, cap: usize, keep: bool, ops: Vec<Op>) {
    let policy = if keep {
        OnFull::Keep
    } else {
        OnFull::Overwrite
    };
    let (_guard, _bus, t) = K::topic(
        TopicConfig::default()
            .partitions(partitions)
            .capacity(cap)
            .on_full(policy),
    );
    let mut m = Model {
        cap: cap as u64,
        keep,
        parts: vec![vec![]; partitions as usize],
        rr: 0,
        closed: false,
    };
    let mut subs: Vec<(ringlet::Subscription<u32>, ModelSub)> = vec![];
    let mut value = 0u32;
    for op in ops {
        match op {
            Op::Publish { key, partition } => {
                value += 1;
                let mut msg = Message::new(value);
                if let Some(k) = key {
                    msg = msg.key(vec![k]);
                }
                if let Some(p) = partition {
                    msg = msg.partition(u32::from(p));
                }
                let want = match (partition, key) {
                    (Some(p), _) if u32::from(p) >= partitions => Err("range"),
                    (Some(p), _) => Ok(u32::from(p)),
                    (None, Some(k)) => Ok(partition_for_key(&[k], partitions)),
                    (None, None) => {
                        let p = (m.rr % u64::from(partitions)) as u32;
                        m.rr += 1;
                        Ok(p)
                    }
                };
                let res = t.publish_message(msg);
                match want {
                    Err(_) => assert!(matches!(res, Err(PublishError::OutOfRange(_)))),
                    Ok(_) if m.closed => assert!(matches!(res, Err(PublishError::Closed(_)))),
                    Ok(p) if m.keep && m.parts[p as usize].len() as u64 >= m.cap => {
                        assert!(matches!(res, Err(PublishError::Full(_))))
                    }
                    Ok(p) => {
                        let r = res.unwrap();
                        assert_eq!(
                            (r.partition, r.offset),
                            (p, m.parts[p as usize].len() as u64)
                        );
                        m.parts[p as usize].push(value);
                    }
                }
            }
            Op::Subscribe(start) => {
                let res = t.subscribe(start.clone());
                match m.resolve(&start) {
                    None => assert!(res.is_err()),
                    Some(next) => {
                        let n = partitions as usize;
                        subs.push((
                            res.unwrap(),
                            ModelSub {
                                pending: None,
                                next,
                                buf: vec![VecDeque::new(); n],
                                rr: 0,
                            },
                        ));
                    }
                }
            }
            Op::Recv(i) if i < subs.len() => {
                let (s, ms) = &mut subs[i];
                assert_eq!(got(s.try_recv(), ()), m.read(ms));
            }
            Op::RecvBatch(i, max) if i < subs.len() => {
                let (s, ms) = &mut subs[i];
                let real = s.try_recv_batch(max);
                // The model: read until max, a gap (kept for next time) or nothing.
                let mut want = vec![];
                let mut err = None;
                while want.len() < max {
                    match m.read(ms) {
                        Got::Rec(p, o, v) => want.push((p, o, v)),
                        Got::Lagged(p, k) if want.is_empty() => {
                            err = Some(Got::Lagged(p, k));
                            break;
                        }
                        Got::Lagged(p, k) => {
                            // A batch stops before the gap; the next read reports it.
                            ms.pending = Some((p, k));
                            break;
                        }
                        Got::Empty => break,
                        Got::Closed if want.is_empty() => {
                            err = Some(Got::Closed);
                            break;
                        }
                        Got::Closed => break,
                    }
                }
                match (real, err) {
                    (Ok(v), None) => {
                        assert_eq!(
                            v.into_iter()
                                .map(|r| (r.partition, r.offset, r.value))
                                .collect::<Vec<_>>(),
                            want
                        )
                    }
                    (Err(e), Some(g)) => assert_eq!(got::<()>(Err(e), ()), g),
                    (r, e) => panic!("{r:?} vs {e:?}"),
                }
            }
            Op::Seek(i, start) if i < subs.len() => {
                let (s, ms) = &mut subs[i];
                match m.resolve(&start) {
                    None => assert!(s.seek(start).is_err()),
                    Some(next) => {
                        s.seek(start).unwrap();
                        ms.next = next;
                        ms.pending = None;
                        ms.buf.iter_mut().for_each(|b| b.clear());
                    }
                }
            }
            Op::Drop(i) if i < subs.len() => {
                subs.remove(i);
            }
            Op::Close => {
                t.close();
                m.closed = true;
            }
            _ => {}
        }
    }
    assert_eq!(
        t.end_offsets(),
        (0..partitions as usize)
            .map(|p| m.end(p))
            .collect::<Vec<_>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 256 }, ..ProptestConfig::default() })]

    #[test]
    fn overwrite_topic_matches_model(partitions in 1u32..4, cap in 1usize..12, ops in proptest::collection::vec(op(3), 1..160)) {
        run::<Memory>(partitions, cap, false, ops);
    }

    #[test]
    fn keep_topic_matches_model(partitions in 1u32..3, cap in 1usize..12, ops in proptest::collection::vec(op(2), 1..160)) {
        run::<Memory>(partitions, cap, true, ops);
    }
}
