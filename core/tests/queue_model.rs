//! Property test: a queue against a plain sequential model.
//!
//! The model keeps the ready messages as two `VecDeque`s (returned ones first, then
//! first deliveries), delayed messages and in-flight deliveries as lists, and moves
//! them with plain code when the manual clock advances. Every operation's result,
//! every delivered value and attempt, the figures after every step, and the dead
//! letters with their headers must match.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use ringlet::{
    Bus, BusBuilder, Delivery, ManualClock, Message, Queue, QueueConfig, QueueFigures, SettleError,
    TryReceiveError, TrySendError,
};

/// How the queues under test are made: in memory here; `ringlet-store`'s tests
/// run this suite on durable queues too.
pub trait Kind {
    /// What keeps the queues' storage until the case ends.
    type Guard;
    fn bus(builder: BusBuilder) -> (Self::Guard, Bus);
    fn queue(bus: &Bus, name: &str, config: QueueConfig) -> Queue<u32>;
}

/// Queues in memory.
#[derive(Debug)]
pub struct Memory;

impl Kind for Memory {
    type Guard = ();
    fn bus(builder: BusBuilder) -> ((), Bus) {
        ((), builder.build())
    }
    fn queue(bus: &Bus, name: &str, config: QueueConfig) -> Queue<u32> {
        bus.queue::<u32>(name, config).unwrap()
    }
}

const VT: i64 = 10;

#[derive(Debug, Clone)]
pub enum Op {
    Send,
    SendDelayed(i64),
    Receive,
    ReceiveBatch(usize),
    Ack(usize),
    AckBatch,
    Nack(usize),
    NackAfter(usize, i64),
    Reject(usize),
    Drop(usize),
    Advance(i64),
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Send),
        2 => (1i64..20).prop_map(Op::SendDelayed),
        6 => Just(Op::Receive),
        1 => (1usize..4).prop_map(Op::ReceiveBatch),
        4 => (0usize..6).prop_map(Op::Ack),
        1 => Just(Op::AckBatch),
        2 => (0usize..6).prop_map(Op::Nack),
        1 => (0usize..6, 1i64..20).prop_map(|(d, ms)| Op::NackAfter(d, ms)),
        1 => (0usize..6).prop_map(Op::Reject),
        1 => (0usize..6).prop_map(Op::Drop),
        3 => (1i64..15).prop_map(Op::Advance),
    ]
}

#[derive(Debug, Clone)]
struct Msg {
    value: u32,
    seq: u64,
    attempt: u32,
}

/// An in-flight delivery of the model: which message, which delivery of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Token {
    id: usize,
    attempt: u32,
    deadline: i64,
}

#[derive(Default)]
struct Model {
    now: i64,
    capacity: usize,
    max_deliveries: u32,
    dlq_capacity: usize,
    msgs: Vec<Msg>,
    retry: VecDeque<usize>,
    main: VecDeque<usize>,
    delayed: Vec<(i64, u64, usize)>,
    in_flight: Vec<Token>,
    dead: Vec<(u32, &'static str, u32)>,
    f: QueueFigures,
}

impl Model {
    fn held(&self) -> usize {
        self.retry.len() + self.main.len() + self.delayed.len() + self.in_flight.len()
    }

    fn send(&mut self, value: u32, delay: i64) -> bool {
        if self.held() >= self.capacity {
            return false;
        }
        let id = self.msgs.len();
        let seq = self.f.sent;
        self.msgs.push(Msg {
            value,
            seq,
            attempt: 0,
        });
        self.f.sent += 1;
        if delay > 0 {
            self.delayed.push((self.now + delay, seq, id));
        } else {
            self.main.push_back(id);
        }
        true
    }

    fn receive(&mut self) -> Option<(u32, u32, Token)> {
        let id = self.retry.pop_front().or_else(|| self.main.pop_front())?;
        let m = &mut self.msgs[id];
        m.attempt += 1;
        if m.attempt > 1 {
            self.f.redelivered += 1;
        }
        let t = Token {
            id,
            attempt: m.attempt,
            deadline: self.now + VT,
        };
        self.in_flight.push(t);
        Some((m.value, m.attempt, t))
    }

    /// Takes `t` out of flight if it is still there.
    fn settle(&mut self, t: Token) -> Result<(), SettleError> {
        match self.in_flight.iter().position(|x| *x == t) {
            Some(i) => {
                self.in_flight.remove(i);
                Ok(())
            }
            None => Err(SettleError::Expired),
        }
    }

    fn requeue(&mut self, id: usize, delay: i64) {
        if self.msgs[id].attempt >= self.max_deliveries {
            return self.dead_letter(id, "max_deliveries");
        }
        if delay > 0 {
            self.delayed.push((self.now + delay, self.msgs[id].seq, id));
        } else {
            self.retry.push_back(id);
        }
    }

    fn dead_letter(&mut self, id: usize, reason: &'static str) {
        if self.dead.len() < self.dlq_capacity {
            self.dead
                .push((self.msgs[id].value, reason, self.msgs[id].attempt));
            self.f.dead_lettered += 1;
        } else {
            self.f.dead_letter_overflow += 1;
        }
    }

    fn advance(&mut self, ms: i64) {
        self.now += ms;
        let now = self.now;
        self.delayed.sort();
        let due: Vec<_> = self
            .delayed
            .iter()
            .filter(|d| d.0 <= now)
            .copied()
            .collect();
        self.delayed.retain(|d| d.0 > now);
        for (_, _, id) in due {
            self.main.push_back(id);
        }
        let mut expired: Vec<(i64, u64, Token)> = self
            .in_flight
            .iter()
            .filter(|t| t.deadline <= now)
            .map(|t| (t.deadline, self.msgs[t.id].seq, *t))
            .collect();
        expired.sort_by_key(|e| (e.0, e.1));
        self.in_flight.retain(|t| t.deadline > now);
        for (_, _, t) in expired {
            self.f.expired += 1;
            self.requeue(t.id, 0);
        }
    }

    fn figures(&self) -> QueueFigures {
        QueueFigures {
            ready: (self.retry.len() + self.main.len()) as u64,
            in_flight: self.in_flight.len() as u64,
            delayed: self.delayed.len() as u64,
            ..self.f
        }
    }
}

pub fn run<K: Kind>(
    ops: Vec<Op>,
    capacity: usize,
    max_deliveries: Option<u32>,
    dlq_capacity: usize,
) {
    let clock = ManualClock::new();
    let (_guard, bus) = K::bus(Bus::builder().clock(clock.clone()));
    let dlq = K::queue(&bus, "dlq", QueueConfig::default().capacity(dlq_capacity));
    let mut config = QueueConfig::default()
        .capacity(capacity)
        .visibility_timeout(Duration::from_millis(VT as u64))
        .dead_letter("dlq");
    if let Some(n) = max_deliveries {
        config = config.max_deliveries(n);
    }
    let q = K::queue(&bus, "q", config);
    let mut m = Model {
        capacity,
        max_deliveries: max_deliveries.unwrap_or(u32::MAX),
        dlq_capacity,
        ..Model::default()
    };
    // Held deliveries, each with the model's token for it.
    let mut held: Vec<(Delivery<u32>, Token)> = vec![];
    let mut next_value = 0u32;
    let pick = |held: &mut Vec<(Delivery<u32>, Token)>, i: usize| {
        (!held.is_empty()).then(|| {
            let n = held.len();
            held.remove(i % n)
        })
    };
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send | Op::SendDelayed(_) => {
                let delay = if let Op::SendDelayed(d) = op { d } else { 0 };
                let v = next_value;
                next_value += 1;
                let r = if delay > 0 {
                    q.try_send_delayed(v, Duration::from_millis(delay as u64))
                        .map_err(|e| e.map(|m: Message<u32>| m.value))
                } else {
                    q.try_send(v)
                };
                let ok = m.send(v, delay);
                assert_eq!(r.is_ok(), ok, "step {step}: {op:?}");
                if !ok {
                    assert_eq!(r, Err(TrySendError::Full(v)));
                }
            }
            Op::Receive => match (q.try_receive(), m.receive()) {
                (Ok(d), Some((v, attempt, t))) => {
                    assert_eq!((*d.value(), d.attempt()), (v, attempt), "step {step}");
                    assert_eq!(d.deadline(), t.deadline);
                    held.push((d, t));
                }
                (Err(TryReceiveError::Empty), None) => {}
                (r, e) => panic!("step {step}: receive got {r:?}, model {e:?}"),
            },
            Op::ReceiveBatch(n) => {
                let got = q.try_receive_batch(n).unwrap_or_default();
                let want: Vec<_> = (0..n).map_while(|_| m.receive()).collect();
                assert_eq!(got.len(), want.len(), "step {step}: batch of {n}");
                for (d, (v, attempt, t)) in got.into_iter().zip(want) {
                    assert_eq!((*d.value(), d.attempt()), (v, attempt), "step {step}");
                    held.push((d, t));
                }
            }
            Op::Ack(i) | Op::Nack(i) | Op::NackAfter(i, _) | Op::Reject(i) | Op::Drop(i) => {
                let Some((d, t)) = pick(&mut held, i) else {
                    continue;
                };
                let want = m.settle(t);
                let got = match op {
                    Op::Ack(_) => d.ack(),
                    Op::Nack(_) => d.nack(),
                    Op::NackAfter(_, ms) => d.nack_after(Duration::from_millis(ms as u64)),
                    Op::Reject(_) => d.reject(),
                    _ => {
                        drop(d);
                        want.clone()
                    }
                };
                assert_eq!(got, want, "step {step}: {op:?}");
                if want.is_ok() {
                    match op {
                        Op::Ack(_) => m.f.acked += 1,
                        Op::Nack(_) | Op::Drop(_) => {
                            m.f.nacked += 1;
                            m.requeue(t.id, 0);
                        }
                        Op::NackAfter(_, ms) => {
                            m.f.nacked += 1;
                            m.requeue(t.id, ms);
                        }
                        _ => m.dead_letter(t.id, "rejected"),
                    }
                }
            }
            Op::AckBatch => {
                let all = std::mem::take(&mut held);
                let want = all.iter().filter(|(_, t)| m.settle(*t).is_ok()).count();
                m.f.acked += want as u64;
                assert_eq!(q.ack_batch(all.into_iter().map(|(d, _)| d)), want);
            }
            Op::Advance(ms) => {
                clock.advance(Duration::from_millis(ms as u64));
                m.advance(ms);
            }
        }
        assert_eq!(q.figures(), m.figures(), "step {step}: after {op:?}");
    }
    let mut dead = vec![];
    while let Ok(d) = dlq.try_receive() {
        let h = |n: &str| String::from_utf8(d.headers().get(n).unwrap().to_vec()).unwrap();
        let reason = if h("ringlet.dead_letter.reason") == "rejected" {
            "rejected"
        } else {
            "max_deliveries"
        };
        assert_eq!(h("ringlet.dead_letter.reason"), reason);
        assert_eq!(h("ringlet.dead_letter.source"), "q");
        dead.push((
            *d.value(),
            reason,
            h("ringlet.dead_letter.attempts").parse().unwrap(),
        ));
        d.ack().unwrap();
    }
    assert_eq!(dead, m.dead);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn queue_matches_model(
        ops in proptest::collection::vec(op(), 1..120),
        capacity in 1usize..8,
        max_deliveries in proptest::option::of(1u32..4),
        dlq_capacity in 1usize..4,
    ) {
        run::<Memory>(ops, capacity, max_deliveries, dlq_capacity);
    }
}
