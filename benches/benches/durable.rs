//! Durable publish against the raw floor: a `BufWriter<File>` appending the same
//! bytes (the postcard value and the record's fixed fields) with the same write
//! cadence — one `write` per publish, or per batch of 64 — and, for `Synced`,
//! one `fdatasync` per publish. Values are `u64` and 100-byte vectors. The
//! in-memory topic's publish is measured in the same run, as the cost the log adds
//! to.
//!
//! Peers in the same run: SQLite through rusqlite (WAL; `synchronous=NORMAL`
//! against `Written`, `FULL` against `Synced`; one statement per record, or one
//! transaction per batch), and kafko (an embedded Kafka-like log on tokio; its
//! `send` returns once the record is in the OS file, as `Written`). Also:
//! `Buffered` publishes, synced publishes from 4 threads at once (the group
//! commit), and reopening 1 M retained 100-byte records against reading the
//! same files with `std::fs::read`.
//!
//! `make bench` runs this, then `ratios` prints the table.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringlet::storage::{Durability, Raw};
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
    g.bench_function(format!("buffered_{kind}"), |b| {
        let dir = Scratch::new("buffered");
        let (_bus, t) = topic::<T>(&dir, Durability::Buffered);
        b.iter(|| {
            for i in 0..N {
                t.publish(value(i)).unwrap();
            }
        })
    });
    g.bench_function(format!("sqlite_{kind}"), |b| {
        let dir = Scratch::new("sqlite");
        let db = sqlite(&dir, "NORMAL");
        let mut i = 0u64;
        b.iter(|| {
            let mut insert = db
                .prepare_cached("INSERT INTO log (value) VALUES (?1)")
                .unwrap();
            for _ in 0..N {
                insert
                    .execute([postcard::to_allocvec(&value(i)).unwrap()])
                    .unwrap();
                i += 1;
            }
        })
    });
    g.bench_function(format!("sqlite_batch_{kind}"), |b| {
        let dir = Scratch::new("sqlite-batch");
        let mut db = sqlite(&dir, "NORMAL");
        let mut i = 0u64;
        b.iter(|| {
            for _ in 0..N / BATCH as u64 {
                let tx = db.transaction().unwrap();
                {
                    let mut insert = tx
                        .prepare_cached("INSERT INTO log (value) VALUES (?1)")
                        .unwrap();
                    for _ in 0..BATCH {
                        insert
                            .execute([postcard::to_allocvec(&value(i)).unwrap()])
                            .unwrap();
                        i += 1;
                    }
                }
                tx.commit().unwrap();
            }
        })
    });
    g.bench_function(format!("kafko_{kind}"), |b| {
        let dir = Scratch::new("kafko");
        let rt = tokio_rt();
        let (producer, _) = kafko_topic(&rt, &dir);
        b.iter(|| {
            rt.block_on(async {
                for i in 0..N {
                    let v = bytes::Bytes::from(postcard::to_allocvec(&value(i)).unwrap());
                    producer.send(None, v).await.unwrap();
                }
            })
        })
    });
    g.bench_function(format!("kafko_batch_{kind}"), |b| {
        let dir = Scratch::new("kafko-batch");
        let rt = tokio_rt();
        let (producer, _) = kafko_topic(&rt, &dir);
        b.iter(|| {
            rt.block_on(async {
                let mut i = 0;
                while i < N {
                    let batch = (i..(i + BATCH as u64).min(N))
                        .map(|j| {
                            (
                                None,
                                bytes::Bytes::from(postcard::to_allocvec(&value(j)).unwrap()),
                            )
                        })
                        .collect();
                    producer.send_batch(batch).await.unwrap();
                    i += BATCH as u64;
                }
            })
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

/// A SQLite database in `dir` with a log table, in WAL mode at `synchronous`.
fn sqlite(dir: &Scratch, synchronous: &str) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(dir.0.join("log.db")).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.pragma_update(None, "synchronous", synchronous).unwrap();
    db.execute_batch("CREATE TABLE log (offset INTEGER PRIMARY KEY, value BLOB NOT NULL)")
        .unwrap();
    db
}

/// A kafko broker in `dir` with topic `t` (the broker is kept for the whole
/// run): its producer and the topic.
fn kafko_topic(
    rt: &tokio::runtime::Runtime,
    dir: &Scratch,
) -> (kafko::Producer, std::sync::Arc<kafko::Topic>) {
    rt.block_on(async {
        let broker = kafko::Kafko::open(&dir.0).await.unwrap();
        broker.create_topic("t").await.unwrap();
        let p = broker.producer_for("t").await.unwrap();
        let t = broker.topic("t").await.unwrap();
        std::mem::forget(broker);
        (p, t)
    })
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn synced(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable");
    g.throughput(Throughput::Elements(SYNCED_N));
    g.sample_size(10);
    g.bench_function("synced_threads_u64", |b| {
        let dir = Scratch::new("synced-threads");
        let (_bus, t) = topic::<u64>(&dir, Durability::Synced);
        b.iter(|| {
            std::thread::scope(|s| {
                for w in 0..4 {
                    let t = t.clone();
                    s.spawn(move || {
                        for i in 0..SYNCED_N / 4 {
                            t.publish(w * SYNCED_N + i).unwrap();
                        }
                    });
                }
            })
        })
    });
    g.bench_function("sqlite_synced_u64", |b| {
        let dir = Scratch::new("sqlite-synced");
        let db = sqlite(&dir, "FULL");
        let mut i = 0u64;
        b.iter(|| {
            let mut insert = db
                .prepare_cached("INSERT INTO log (value) VALUES (?1)")
                .unwrap();
            for _ in 0..SYNCED_N {
                insert
                    .execute([postcard::to_allocvec(&i).unwrap()])
                    .unwrap();
                i += 1;
            }
        })
    });
    g.bench_function("kafko_synced_u64", |b| {
        let dir = Scratch::new("kafko-synced");
        let rt = tokio_rt();
        let (producer, topic) = kafko_topic(&rt, &dir);
        b.iter(|| {
            rt.block_on(async {
                for i in 0..SYNCED_N {
                    let v = bytes::Bytes::from(postcard::to_allocvec(&i).unwrap());
                    producer.send(None, v).await.unwrap();
                    topic.partitions()[0].sync().await.unwrap();
                }
            })
        })
    });
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

/// Records retained for the reopen bench.
const REOPEN_N: u64 = 1_000_000;

fn reopen(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable");
    g.throughput(Throughput::Elements(REOPEN_N));
    g.sample_size(10);
    let dir = Scratch::new("reopen");
    let config = TopicConfig::default().capacity(REOPEN_N as usize);
    {
        let bus = Bus::builder()
            .storage(ringlet_store::Dir::open(&dir.0).unwrap())
            .build();
        // Bytes are stored as they are (`Raw`): postcard decodes a `Vec<u8>`
        // byte by byte (serde's sequence of `u8`).
        let t = bus
            .durable_topic_with::<Vec<u8>>("t", config.clone(), Raw)
            .unwrap();
        let mut i = 0;
        while i < REOPEN_N {
            t.publish_batch((i..i + 1000).map(|j| vec![(j % 251) as u8; 100]))
                .unwrap();
            i += 1000;
        }
        bus.close().unwrap();
    }
    // Timed: from opening the directory until the topic is readable. Letting
    // the reopened bus go (freeing its million values) is not reopening: it is
    // done outside the timed part.
    g.bench_function("reopen_100b", |b| {
        b.iter_custom(|iters| {
            let mut timed = std::time::Duration::ZERO;
            for _ in 0..iters {
                let start = std::time::Instant::now();
                let bus = Bus::builder()
                    .storage(ringlet_store::Dir::open(&dir.0).unwrap())
                    .build();
                let t = bus
                    .durable_topic_with::<Vec<u8>>("t", config.clone(), Raw)
                    .unwrap();
                timed += start.elapsed();
                assert_eq!(t.len(), REOPEN_N as usize);
                bus.close().unwrap();
            }
            timed
        })
    });
    g.bench_function("fs_read_100b", |b| {
        let files: Vec<PathBuf> = std::fs::read_dir(dir.0.join("t").join("0"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        b.iter(|| {
            let bytes: usize = files.iter().map(|f| std::fs::read(f).unwrap().len()).sum();
            assert!(bytes as u64 > REOPEN_N * 100);
        })
    });
    g.finish();
}

fn durable(c: &mut Criterion) {
    written(c, "u64", |i| i);
    written(c, "100b", |i| vec![(i % 251) as u8; 100]);
    synced(c);
    reopen(c);
}

criterion_group!(benches, durable);
criterion_main!(benches);
