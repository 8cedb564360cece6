//! Durable publish against the raw floor: a `BufWriter<File>` appending the same
//! bytes (the postcard value and the record's fixed fields) with the same write
//! cadence — one `write` per publish, or per batch of 64 — and, for `Synced`,
//! one `fdatasync` per publish. Values are `u64` and 100-byte vectors. The
//! in-memory topic's publish is measured in the same run, as the cost the log adds
//! to.
//!
//! `make bench` runs this, then `ratios` prints the table.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringlet::storage::Durability;
use ringlet::{Bus, TopicConfig};

const N: u64 = 20_000;
const BATCH: usize = 64;
const SYNCED_N: u64 = 200;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("ringlet-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn topic<T>(dir: &Scratch, durability: Durability) -> (Bus, ringlet::Topic<T>)
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    let bus = Bus::builder()
        .storage(ringlet_store::Dir::open(&dir.0).unwrap())
        .build();
    let t = bus
        .durable_topic::<T>(
            "t",
            TopicConfig::default()
                .capacity(1 << 16)
                .durability(durability),
        )
        .unwrap();
    (bus, t)
}

/// The bytes a record is in the floor's file: the fixed fields of a record
/// (offset, timestamp, key kind, header count, value length) and the value.
fn floor_bytes<T: serde::Serialize>(offset: u64, value: &T, out: &mut Vec<u8>) {
    let v = postcard::to_allocvec(value).unwrap();
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&0i64.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    out.extend_from_slice(&v);
}

fn floor_file(dir: &Scratch) -> BufWriter<File> {
    BufWriter::with_capacity(1 << 16, File::create(dir.0.join("floor.log")).unwrap())
}

fn written<T>(c: &mut Criterion, kind: &str, value: impl Fn(u64) -> T + Copy)
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    let mut g = c.benchmark_group("durable");
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);
    g.bench_function(format!("written_{kind}"), |b| {
        let dir = Scratch::new("written");
        let (_bus, t) = topic::<T>(&dir, Durability::Written);
        b.iter(|| {
            for i in 0..N {
                t.publish(value(i)).unwrap();
            }
        })
    });
    g.bench_function(format!("floor_{kind}"), |b| {
        let dir = Scratch::new("floor");
        let mut f = floor_file(&dir);
        let mut buf = Vec::new();
        b.iter(|| {
            for i in 0..N {
                buf.clear();
                floor_bytes(i, &value(i), &mut buf);
                f.write_all(&buf).unwrap();
                f.flush().unwrap(); // one write per publish, as the log's
            }
        })
    });
    g.bench_function(format!("written_batch_{kind}"), |b| {
        let dir = Scratch::new("written-batch");
        let (_bus, t) = topic::<T>(&dir, Durability::Written);
        b.iter_batched(
            || (0..N).map(value).collect::<Vec<T>>(),
            |values| {
                let mut it = values.into_iter();
                loop {
                    let chunk: Vec<T> = it.by_ref().take(BATCH).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    t.publish_batch(chunk).unwrap();
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function(format!("floor_batch_{kind}"), |b| {
        let dir = Scratch::new("floor-batch");
        let mut f = floor_file(&dir);
        let mut buf = Vec::new();
        b.iter(|| {
            let mut i = 0;
            while i < N {
                buf.clear();
                for j in i..(i + BATCH as u64).min(N) {
                    floor_bytes(j, &value(j), &mut buf);
                }
                f.write_all(&buf).unwrap();
                f.flush().unwrap(); // one write per batch
                i += BATCH as u64;
            }
        })
    });
    g.bench_function(format!("memory_{kind}"), |b| {
        let bus = Bus::new();
        let t = bus
            .topic::<T>("t", TopicConfig::default().capacity(1 << 16))
            .unwrap();
        b.iter(|| {
            for i in 0..N {
                t.publish(value(i)).unwrap();
            }
        })
    });
    g.finish();
}

fn synced(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable");
    g.throughput(Throughput::Elements(SYNCED_N));
    g.sample_size(10);
    g.bench_function("synced_u64", |b| {
        let dir = Scratch::new("synced");
        let (_bus, t) = topic::<u64>(&dir, Durability::Synced);
        b.iter(|| {
            for i in 0..SYNCED_N {
                t.publish(i).unwrap();
            }
        })
    });
    g.bench_function("floor_synced_u64", |b| {
        let dir = Scratch::new("floor-synced");
        let mut f = floor_file(&dir);
        let mut buf = Vec::new();
        b.iter(|| {
            for i in 0..SYNCED_N {
                buf.clear();
                floor_bytes(i, &i, &mut buf);
                f.write_all(&buf).unwrap();
                f.flush().unwrap();
                f.get_ref().sync_data().unwrap();
            }
        })
    });
    g.finish();
}

fn durable(c: &mut Criterion) {
    written(c, "u64", |i| i);
    written(c, "100b", |i| vec![(i % 251) as u8; 100]);
    synced(c);
}

criterion_group!(benches, durable);
criterion_main!(benches);
