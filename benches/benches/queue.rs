//! Queue throughput against peer channels, measured in the same run: MPMC with 2
//! producers and 2 consumers, `u64` messages, bounded capacity 4096 for everyone.
//!
//! Ringlet consumers settle every message (the peers have nothing to settle):
//! `ringlet_ack` receives and acks one message at a time; `ringlet_batch` takes up
//! to 256 ready messages per `receive_batch` and acks them with one `ack_batch`.
//! Producers send one message at a time everywhere. A run ends when the producers
//! are done and the consumers have drained the queue (close / disconnect).
//!
//! `make bench` runs this, then `ratios` prints the table.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlet::{Bus, QueueConfig};

/// Messages per iteration (all producers together).
const N: u64 = 200_000;
const CAP: usize = 4096;
const PRODUCERS: u64 = 2;
const CONSUMERS: usize = 2;
const BATCH: usize = 256;

/// Runs producers and consumers from a common start until the last consumer is
/// done; `close` runs once every producer has finished. Checks every message was
/// consumed.
fn run<P, C>(producer: P, consumer: C, close: impl FnOnce()) -> Duration
where
    P: Fn(u64) + Sync,
    C: Fn() -> u64 + Sync,
{
    let barrier = Barrier::new(PRODUCERS as usize + CONSUMERS + 1);
    std::thread::scope(|s| {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let (b, c) = (&barrier, &consumer);
                s.spawn(move || {
                    b.wait();
                    let n = c();
                    (Instant::now(), n)
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let (b, f) = (&barrier, &producer);
                s.spawn(move || {
                    b.wait();
                    f(p);
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        for p in producers {
            p.join().expect("producer");
        }
        close();
        let mut end = start;
        let mut got = 0;
        for c in consumers {
            let (t, n) = c.join().expect("consumer");
            end = end.max(t);
            got += n;
        }
        assert_eq!(got, N, "every message consumed once");
        end - start
    })
}

fn ringlet(batch: bool) -> Duration {
    let q = Bus::new()
        .queue::<u64>("bench", QueueConfig::default().capacity(CAP))
        .expect("queue");
    run(
        |p| {
            for i in 0..N / PRODUCERS {
                q.send(p << 32 | i).expect("send");
            }
        },
        || {
            let mut n = 0u64;
            let mut sum = 0u64;
            if batch {
                while let Ok(ds) = q.receive_batch(BATCH) {
                    for d in &ds {
                        sum = sum.wrapping_add(*d.value());
                    }
                    n += q.ack_batch(ds) as u64;
                }
            } else {
                while let Ok(d) = q.receive() {
                    sum = sum.wrapping_add(*d.value());
                    d.ack().expect("ack");
                    n += 1;
                }
            }
            std::hint::black_box(sum);
            n
        },
        || q.close(),
    )
}

/// A peer channel: each producer owns a sender clone and drops it when done; the
/// consumers drain until every sender is gone.
fn channel<S: Clone + Send>(
    tx: S,
    send: impl Fn(&S, u64) -> bool + Sync,
    recv: impl Fn() -> Option<u64> + Sync,
) -> Duration {
    let senders = std::sync::Mutex::new(vec![tx.clone(); PRODUCERS as usize]);
    let original = std::sync::Mutex::new(Some(tx));
    run(
        |p| {
            let s = senders.lock().expect("lock").pop().expect("sender");
            for i in 0..N / PRODUCERS {
                assert!(send(&s, p << 32 | i), "send");
            }
        },
        || {
            let mut n = 0u64;
            while let Some(v) = recv() {
                std::hint::black_box(v);
                n += 1;
            }
            n
        },
        || drop(original.lock().expect("lock").take()),
    )
}

fn mpmc(c: &mut Criterion) {
    let mut g = c.benchmark_group("mpmc2x2");
    g.throughput(Throughput::Elements(N));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("ringlet_ack", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| ringlet(false)).sum())
    });
    g.bench_function("ringlet_batch", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| ringlet(true)).sum())
    });
    g.bench_function("kanal_bounded", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (tx, rx) = kanal::bounded::<u64>(CAP);
                    channel(tx, |s, v| s.send(v).is_ok(), || rx.recv().ok())
                })
                .sum()
        })
    });
    g.bench_function("crossbeam_channel", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (tx, rx) = crossbeam_channel::bounded::<u64>(CAP);
                    channel(tx, |s, v| s.send(v).is_ok(), || rx.recv().ok())
                })
                .sum()
        })
    });
    g.finish();
}

criterion_group!(benches, mpmc);
criterion_main!(benches);
