//! A filter → map → count pipeline: 200 000 keyed `u64` events over 1024 keys,
//! half filtered out, the rest mapped and counted per key into a table, run by
//! `bus.run_until_idle()` on one thread. Peer: the same computation as a plain
//! iterator into a `HashMap` (no bus, no offsets, no changelog) — the floor.
//!
//! `make bench` runs this, then `ratios` prints the table.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlet::{Bus, Key, Message, TopicConfig};

const N: u64 = 200_000;
const KEYS: usize = 1024;

fn keys() -> Vec<Key> {
    (0..KEYS).map(|k| Key::from(format!("user-{k}"))).collect()
}

fn pipeline(bus: &Bus) -> ringlet::Topic<u64> {
    let t = bus
        .topic::<u64>("events", TopicConfig::default().capacity(1 << 18))
        .unwrap();
    t.stream()
        .unwrap()
        .filter(|r| r.value % 2 == 0)
        .map(|r| r.value * 3)
        .group_by_key()
        .capacity(KEYS)
        .count()
        .unwrap();
    t
}

fn publish(t: &ringlet::Topic<u64>, keys: &[Key]) {
    for i in 0..N {
        t.publish_message(Message::new(i).key(keys[i as usize % KEYS].clone()))
            .unwrap();
    }
}

fn streams(c: &mut Criterion) {
    let mut g = c.benchmark_group("streams");
    g.throughput(Throughput::Elements(N));
    g.sample_size(20);
    let keys = keys();
    g.bench_function("ringlet_publish_and_process", |b| {
        let bus = Bus::new();
        let t = pipeline(&bus);
        b.iter(|| {
            publish(&t, &keys);
            assert_eq!(bus.run_until_idle().unwrap(), N as usize);
        })
    });
    g.bench_function("ringlet_process", |b| {
        let bus = Bus::new();
        let t = pipeline(&bus);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                publish(&t, &keys);
                let start = Instant::now();
                assert_eq!(bus.run_until_idle().unwrap(), N as usize);
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("iterator_hashmap", |b| {
        let events: Vec<(Key, u64)> = (0..N)
            .map(|i| (keys[i as usize % KEYS].clone(), i))
            .collect();
        let mut counts: HashMap<Key, u64> = HashMap::new();
        b.iter(|| {
            for (k, v) in events
                .iter()
                .filter(|(_, v)| v % 2 == 0)
                .map(|(k, v)| (k, v * 3))
            {
                std::hint::black_box(v);
                *counts.entry(k.clone()).or_insert(0) += 1;
            }
        })
    });
    g.finish();
}

criterion_group!(benches, streams);
criterion_main!(benches);
