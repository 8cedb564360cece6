//! The journal's cost: single-thread publish + receive on a topic, and send +
//! receive + ack on a queue, on a bus without a journal (`off`, the default) and
//! with one (`on`). With the journal off, each place that could record an event
//! tests one `None` field; the `off` figures are the hot path's own.
//!
//! `make bench` runs this, then `ratios` prints the table.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlet::{Bus, QueueConfig, Start, TopicConfig};

const N: u64 = 200_000;

fn bus(journal: bool) -> Bus {
    if journal {
        Bus::builder().journal(1024).build()
    } else {
        Bus::new()
    }
}

fn journal(c: &mut Criterion) {
    let mut g = c.benchmark_group("journal");
    g.throughput(Throughput::Elements(N));
    for on in [false, true] {
        let name = if on { "on" } else { "off" };
        g.bench_function(format!("topic_{name}"), |b| {
            let bus = bus(on);
            let t = bus
                .topic::<u64>("t", TopicConfig::default().capacity(4096))
                .unwrap();
            let mut sub = t.subscribe(Start::Latest).unwrap();
            b.iter(|| {
                for i in 0..N {
                    t.publish(i).unwrap();
                    assert_eq!(sub.try_recv().unwrap().value, i);
                }
            })
        });
        g.bench_function(format!("queue_{name}"), |b| {
            let bus = bus(on);
            let q = bus
                .queue::<u64>("q", QueueConfig::default().capacity(4096))
                .unwrap();
            b.iter(|| {
                for i in 0..N {
                    q.send(i).unwrap();
                    let d = q.try_receive().unwrap();
                    assert_eq!(*d.value(), i);
                    d.ack().unwrap();
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, journal);
criterion_main!(benches);
