//! Stress: N producers and M consumers on one queue; every message is counted.
//!
//! With failures (random nacks, drops, delayed retries, rejects, and deliveries held
//! past their visibility timeout while a thread advances the manual clock): every
//! message ends acked exactly once or dead-lettered exactly once; none is lost.
//! Without failures (batches, system clock): every message is delivered exactly
//! once, and each consumer sees each producer's messages in send order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringlet::{Bus, ManualClock, QueueConfig, SettleError};

const COUNT: u64 = if cfg!(miri) { 30 } else { 20_000 };
const PRODUCERS: u64 = if cfg!(miri) { 2 } else { 3 };
const CONSUMERS: u64 = if cfg!(miri) { 2 } else { 3 };

/// A value that owns heap memory, so a torn or freed read would show.
fn value(producer: u64, seq: u64) -> Arc<String> {
    Arc::new(format!("{producer}:{seq}"))
}

fn parse(v: &str) -> (u64, u64) {
    let (p, s) = v.split_once(':').unwrap();
    (p.parse().unwrap(), s.parse().unwrap())
}

/// A small deterministic generator per thread (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn every_message_acked_once_or_dead_lettered_once() {
    let clock = ManualClock::new();
    let bus = Bus::builder().clock(clock.clone()).build();
    let total = PRODUCERS * COUNT;
    let dlq = bus
        .queue::<Arc<String>>("dlq", QueueConfig::default().capacity(total as usize))
        .unwrap();
    let q = bus
        .queue::<Arc<String>>(
            "jobs",
            QueueConfig::default()
                .capacity(64)
                .visibility_timeout(Duration::from_millis(20))
                .max_deliveries(4)
                .dead_letter("dlq"),
        )
        .unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (clock, done) = (clock.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                clock.advance(Duration::from_millis(1));
                std::thread::sleep(Duration::from_micros(50));
            }
        })
    };
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for s in 0..COUNT {
                    if s % 10 == 3 {
                        q.send_delayed(value(p, s), Duration::from_millis(s % 7))
                            .unwrap();
                    } else {
                        q.send(value(p, s)).unwrap();
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let (q, dlq, acked) = (q.clone(), dlq.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (c + 1));
                let mut mine = vec![];
                let mut holding = vec![];
                let mut expired_acks = 0u64;
                loop {
                    if acked.load(Ordering::SeqCst) + dlq.figures().sent >= total {
                        break;
                    }
                    let Ok(d) = q.receive_timeout(Duration::from_millis(2)) else {
                        continue;
                    };
                    match rng.next() % 100 {
                        0..=69 => {
                            let v = d.value().clone();
                            if d.ack().is_ok() {
                                mine.push(v);
                                acked.fetch_add(1, Ordering::SeqCst);
                            } else {
                                expired_acks += 1;
                            }
                        }
                        70..=79 => {
                            let _ = d.nack();
                        }
                        80..=84 => drop(d),
                        85..=89 => {
                            let _ = d.nack_after(Duration::from_millis(rng.next() % 5));
                        }
                        90..=91 => {
                            let _ = d.reject();
                        }
                        _ => holding.push(d),
                    }
                    // Settle a held delivery late: it may have expired meanwhile.
                    if holding.len() > 3 {
                        let d = holding.remove(0);
                        let v = d.value().clone();
                        match d.ack() {
                            Ok(()) => {
                                mine.push(v);
                                acked.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => {
                                assert_eq!(e, SettleError::Expired);
                                expired_acks += 1;
                            }
                        }
                    }
                }
                drop(holding);
                (mine, expired_acks)
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<(u64, u64)> = vec![];
    for c in consumers {
        let (mine, _) = c.join().unwrap();
        all.extend(mine.iter().map(|v| parse(v)));
    }
    done.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
    let acked_n = all.len() as u64;
    let mut dead_n = 0;
    while let Ok(d) = dlq.try_receive() {
        let reason = d.headers().get("ringlet.dead_letter.reason").unwrap();
        assert!(reason == b"rejected" || reason == b"max_deliveries");
        all.push(parse(d.value()));
        dead_n += 1;
        d.ack().unwrap();
    }
    all.sort_unstable();
    let want: Vec<(u64, u64)> = (0..PRODUCERS)
        .flat_map(|p| (0..COUNT).map(move |s| (p, s)))
        .collect();
    assert_eq!(all.len(), want.len(), "acked {acked_n} + dead {dead_n}");
    assert_eq!(all, want, "each message acked once or dead-lettered once");
    let f = q.figures();
    assert_eq!(f.sent, total);
    assert_eq!((f.acked, f.dead_lettered), (acked_n, dead_n));
    assert_eq!((f.ready, f.in_flight, f.delayed), (0, 0, 0));
    assert_eq!((f.dropped, f.dead_letter_overflow), (0, 0));
    if !cfg!(miri) {
        assert!(f.expired > 0 && f.nacked > 0 && f.redelivered > 0, "{f:?}");
    }
}

#[test]
fn batches_deliver_every_message_once_in_producer_order() {
    let bus = Bus::new();
    let q = bus
        .queue::<Arc<String>>("jobs", QueueConfig::default().capacity(128))
        .unwrap();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                if p % 2 == 0 {
                    q.send_batch((0..COUNT).map(|s| value(p, s))).unwrap();
                } else {
                    for s in 0..COUNT {
                        q.send(value(p, s)).unwrap();
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut last: HashMap<u64, u64> = HashMap::new();
                let mut got = vec![];
                let mut check = |v: &Arc<String>| {
                    let (p, s) = parse(v);
                    if let Some(prev) = last.insert(p, s) {
                        assert!(s > prev, "consumer {c}: producer {p} out of order");
                    }
                    got.push((p, s));
                };
                loop {
                    if c % 2 == 0 {
                        match q.receive_batch(32) {
                            Ok(batch) => {
                                let n = batch.len();
                                batch.iter().for_each(|d| check(d.value()));
                                assert_eq!(q.ack_batch(batch), n);
                            }
                            Err(_) => return got,
                        }
                    } else {
                        match q.receive() {
                            Ok(d) => {
                                check(d.value());
                                d.ack().unwrap();
                            }
                            Err(_) => return got,
                        }
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    // Close once everything is sent: consumers drain, then see Closed.
    q.close();
    let mut all: Vec<(u64, u64)> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    let want: Vec<(u64, u64)> = (0..PRODUCERS)
        .flat_map(|p| (0..COUNT).map(move |s| (p, s)))
        .collect();
    assert_eq!(all, want);
    let f = q.figures();
    assert_eq!(
        (f.sent, f.acked, f.ready, f.in_flight),
        (PRODUCERS * COUNT, PRODUCERS * COUNT, 0, 0)
    );
}
