//! Topic throughput and latency against peer crates, measured in the same run.
//!
//! Every configuration is lossless where the peer allows it (Ringlet runs with
//! `on_full = Block`, capacity 65536, like the peers' bounded channels) and counts
//! delivered records only: where a peer drops records (tokio broadcast lags), its
//! time is scaled to the records it delivered.
//!
//! `make bench` runs this, then `ratios` prints the table.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use ringlet::{Bus, OnFull, Start, TopicConfig};

/// Records per iteration.
const N: u64 = 200_000;
const CAP: usize = 65_536;
const READERS: usize = 4;

fn block_topic() -> ringlet::Topic<u64> {
    Bus::new()
        .topic::<u64>(
            "bench",
            TopicConfig::default().capacity(CAP).on_full(OnFull::Block),
        )
        .expect("topic")
}

/// Runs `readers` consumer closures and one producer closure, timed from a common
/// start until the last reader finished; returns the time and the records delivered.
fn run<P, R>(producer: P, readers: Vec<R>) -> (Duration, u64)
where
    P: FnOnce() + Send,
    R: FnOnce() -> u64 + Send,
{
    let barrier = Barrier::new(readers.len() + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = readers
            .into_iter()
            .map(|r| {
                let b = &barrier;
                s.spawn(move || {
                    b.wait();
                    let n = r();
                    (Instant::now(), n)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        producer();
        let mut end = start;
        let mut delivered = 0;
        for h in handles {
            let (t, n) = h.join().expect("reader");
            end = end.max(t);
            delivered += n;
        }
        (end - start, delivered)
    })
}

/// Scales a time to what delivering every record would have taken at that rate.
fn per_full_delivery(d: Duration, delivered: u64, expected: u64) -> Duration {
    if delivered == 0 {
        return d * 1000;
    }
    d.mul_f64(expected as f64 / delivered as f64)
}

fn ringlet_fanout(readers: usize) -> (Duration, u64) {
    let t = block_topic();
    let subs: Vec<_> = (0..readers)
        .map(|_| t.subscribe(Start::Earliest).expect("subscribe"))
        .collect();
    let readers = subs
        .into_iter()
        .map(|mut sub| {
            move || {
                let mut n = 0u64;
                let mut sum = 0u64;
                while let Ok(r) = sub.recv() {
                    sum = sum.wrapping_add(r.value);
                    n += 1;
                }
                std::hint::black_box(sum);
                n
            }
        })
        .collect();
    let p = t.clone();
    run(
        move || {
            for i in 0..N {
                p.publish(i).expect("publish");
            }
            p.close();
        },
        readers,
    )
}

fn tokio_fanout(readers: usize) -> (Duration, u64) {
    let (tx, _) = tokio::sync::broadcast::channel::<u64>(CAP);
    let rxs: Vec<_> = (0..readers).map(|_| tx.subscribe()).collect();
    let readers = rxs
        .into_iter()
        .map(|mut rx| {
            move || {
                let mut n = 0u64;
                loop {
                    match rx.blocking_recv() {
                        Ok(v) => {
                            std::hint::black_box(v);
                            n += 1;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return n,
                    }
                }
            }
        })
        .collect();
    run(
        move || {
            for i in 0..N {
                let _ = tx.send(i);
            }
            drop(tx);
        },
        readers,
    )
}

/// One bounded channel, one producer and one reader: `N` values through it. The
/// sender is dropped when the producer ends, which ends the reader.
fn channel_spsc(
    mut send: impl FnMut(u64) + Send,
    mut recv: impl FnMut() -> Option<u64> + Send,
) -> Duration {
    run(
        move || {
            for i in 0..N {
                send(i);
            }
        },
        vec![move || {
            let mut n = 0;
            while let Some(v) = recv() {
                std::hint::black_box(v);
                n += 1;
            }
            n
        }],
    )
    .0
}

fn spsc(c: &mut Criterion) {
    let mut g = c.benchmark_group("spsc");
    g.throughput(Throughput::Elements(N));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("ringlet_topic", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| ringlet_fanout(1).0).sum())
    });
    g.bench_function("kanal_bounded", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (tx, rx) = kanal::bounded::<u64>(CAP);
                    channel_spsc(move |i| tx.send(i).expect("send"), move || rx.recv().ok())
                })
                .sum()
        })
    });
    g.bench_function("crossbeam_channel", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (tx, rx) = crossbeam_channel::bounded::<u64>(CAP);
                    channel_spsc(move |i| tx.send(i).expect("send"), move || rx.recv().ok())
                })
                .sum()
        })
    });
    g.bench_function("tokio_broadcast", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (d, n) = tokio_fanout(1);
                    per_full_delivery(d, n, N)
                })
                .sum()
        })
    });
    g.finish();
}

fn fanout(c: &mut Criterion) {
    let mut g = c.benchmark_group("fanout4");
    g.throughput(Throughput::Elements(N * READERS as u64));
    g.sample_size(15)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("ringlet_topic", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| ringlet_fanout(READERS).0).sum())
    });
    g.bench_function("bus_crate", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let mut bus = bus::Bus::<u64>::new(CAP);
                    let rxs: Vec<_> = (0..READERS).map(|_| bus.add_rx()).collect();
                    let readers = rxs
                        .into_iter()
                        .map(|mut rx| {
                            move || {
                                let mut n = 0;
                                while let Ok(v) = rx.recv() {
                                    std::hint::black_box(v);
                                    n += 1;
                                }
                                n
                            }
                        })
                        .collect();
                    run(
                        move || {
                            for i in 0..N {
                                bus.broadcast(i);
                            }
                            drop(bus);
                        },
                        readers,
                    )
                    .0
                })
                .sum()
        })
    });
    g.bench_function("tokio_broadcast", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (d, n) = tokio_fanout(READERS);
                    per_full_delivery(d, n, N * READERS as u64)
                })
                .sum()
        })
    });
    g.finish();
}

/// One-way latency samples: the producer sends its clock reading every few
/// microseconds (so each record finds the reader waiting), the reader subtracts.
fn latency_samples(
    send: impl FnOnce(&dyn Fn() -> u64) + Send,
    recv: impl FnOnce(&dyn Fn() -> u64) -> Vec<u64> + Send,
) -> Vec<u64> {
    let base = Instant::now();
    let now = move || base.elapsed().as_nanos() as u64;
    let mut v = std::thread::scope(|s| {
        let r = s.spawn(|| recv(&now));
        std::thread::sleep(Duration::from_millis(20));
        send(&now);
        r.join().expect("reader")
    });
    v.sort_unstable();
    v
}

const SAMPLES: u64 = 20_000;
const GAP: Duration = Duration::from_micros(20);

fn spaced_sends(now: &dyn Fn() -> u64, mut send: impl FnMut(u64)) {
    for _ in 0..SAMPLES {
        let t0 = Instant::now();
        send(now());
        while t0.elapsed() < GAP {
            std::hint::spin_loop();
        }
    }
}

fn latency() -> Vec<(&'static str, u64, u64)> {
    let mut out = vec![];
    for round in 0..2 {
        let t = block_topic();
        let mut sub = t.subscribe(Start::Latest).expect("subscribe");
        let ours = latency_samples(
            |now| {
                spaced_sends(now, |v| {
                    t.publish(v).expect("publish");
                });
                t.close();
            },
            move |now| {
                let mut v = Vec::with_capacity(SAMPLES as usize);
                while let Ok(r) = sub.recv() {
                    v.push(now().saturating_sub(r.value));
                }
                v
            },
        );
        let (tx, rx) = crossbeam_channel::bounded::<u64>(CAP);
        let peer = latency_samples(
            move |now| {
                spaced_sends(now, |v| tx.send(v).expect("send"));
            },
            move |now| {
                let mut v = Vec::with_capacity(SAMPLES as usize);
                while let Ok(x) = rx.recv() {
                    v.push(now().saturating_sub(x));
                }
                v
            },
        );
        if round == 1 {
            let pct = |v: &[u64], q: f64| v[((v.len() - 1) as f64 * q) as usize];
            out.push(("ringlet_topic", pct(&ours, 0.5), pct(&ours, 0.99)));
            out.push(("crossbeam_channel", pct(&peer, 0.5), pct(&peer, 0.99)));
        }
    }
    out
}

criterion_group!(benches, spsc, fanout);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Latency percentiles do not fit criterion's mean; they go next to its results
    // in the same layout, so the report reads them the same way.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/latency");
    for (name, p50, p99) in latency() {
        println!("latency/{name}: p50 {p50} ns, p99 {p99} ns");
        let d = dir.join(name).join("new");
        std::fs::create_dir_all(&d).expect("criterion dir");
        let json = format!(
            "{{\"mean\":{{\"point_estimate\":{p50}}},\"p50\":{p50},\"p99\":{p99},\"note\":\"p50 one-way latency, ns\"}}"
        );
        std::fs::write(d.join("estimates.json"), json).expect("write");
    }
}
