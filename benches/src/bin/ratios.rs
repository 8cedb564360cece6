//! Prints the ratio table of the last `cargo bench` run: Ringlet against the peers
//! measured in the same run, and each target.

use std::path::PathBuf;

use ringlet_benches::mean_ns;

/// Elements per iteration of the throughput benches (see benches/topic.rs and
/// benches/queue.rs).
const N: f64 = 200_000.0;
const FANOUT: f64 = 4.0;

struct Row {
    what: &'static str,
    ours: (&'static str, &'static str),
    peer: (&'static str, &'static str),
    peer_name: &'static str,
    /// Ringlet must reach at least this multiple of the peer (throughput), or at
    /// most this multiple (latency).
    target: f64,
    latency: bool,
    per_iter: f64,
}

/// A rate given in M/s, in k/s when it is below 0.1 M/s.
fn rate(m_per_s: f64) -> String {
    if m_per_s < 0.1 {
        format!("{:.1} k/s", m_per_s * 1e3)
    } else {
        format!("{m_per_s:.1} M/s")
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/criterion"));
    let rows = [
        Row {
            what: "topic SPSC (u64, blocking reader)",
            ours: ("spsc", "ringlet_topic"),
            peer: ("spsc", "kanal_bounded"),
            peer_name: "kanal bounded",
            target: 2.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "topic SPSC",
            ours: ("spsc", "ringlet_topic"),
            peer: ("spsc", "crossbeam_channel"),
            peer_name: "crossbeam-channel",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "topic SPSC",
            ours: ("spsc", "ringlet_topic"),
            peer: ("spsc", "tokio_broadcast"),
            peer_name: "tokio broadcast",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "fan-out 1→4 (total delivered)",
            ours: ("fanout4", "ringlet_topic"),
            peer: ("fanout4", "bus_crate"),
            peer_name: "bus crate",
            target: 2.0,
            latency: false,
            per_iter: N * FANOUT,
        },
        Row {
            what: "fan-out 1→4 (total delivered)",
            ours: ("fanout4", "ringlet_topic"),
            peer: ("fanout4", "tokio_broadcast"),
            peer_name: "tokio broadcast",
            target: 4.0,
            latency: false,
            per_iter: N * FANOUT,
        },
        Row {
            what: "queue MPMC 2×2, receive + ack each",
            ours: ("mpmc2x2", "ringlet_ack"),
            peer: ("mpmc2x2", "crossbeam_channel"),
            peer_name: "crossbeam-channel (no acks)",
            target: 1.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "queue MPMC 2×2, receive + ack each",
            ours: ("mpmc2x2", "ringlet_ack"),
            peer: ("mpmc2x2", "kanal_bounded"),
            peer_name: "kanal bounded (no acks)",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "queue MPMC 2×2, receive_batch + ack_batch",
            ours: ("mpmc2x2", "ringlet_batch"),
            peer: ("mpmc2x2", "kanal_bounded"),
            peer_name: "kanal bounded (no acks)",
            target: 1.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "queue MPMC 2×2, receive_batch + ack_batch",
            ours: ("mpmc2x2", "ringlet_batch"),
            peer: ("mpmc2x2", "crossbeam_channel"),
            peer_name: "crossbeam-channel (no acks)",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "publish→recv latency p50",
            ours: ("latency", "ringlet_topic"),
            peer: ("latency", "crossbeam_channel"),
            peer_name: "crossbeam-channel",
            target: 1.5,
            latency: true,
            per_iter: 1.0,
        },
        Row {
            what: "topic publish + recv, 1 thread, journal off",
            ours: ("journal", "topic_off"),
            peer: ("journal", "topic_on"),
            peer_name: "the same with the journal on",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "queue send + receive + ack, 1 thread, journal off",
            ours: ("journal", "queue_off"),
            peer: ("journal", "queue_on"),
            peer_name: "the same with the journal on",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "stream filter→map→count, publish + process, 1 thread",
            ours: ("streams", "ringlet_publish_and_process"),
            peer: ("streams", "iterator_hashmap"),
            peer_name: "iterator + HashMap (no bus)",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "stream filter→map→count, process only",
            ours: ("streams", "ringlet_process"),
            peer: ("streams", "iterator_hashmap"),
            peer_name: "iterator + HashMap (no bus)",
            target: 0.0,
            latency: false,
            per_iter: N,
        },
        Row {
            what: "durable publish (Written), u64, 1 at a time",
            ours: ("durable", "written_u64"),
            peer: ("durable", "floor_u64"),
            peer_name: "BufWriter<File>, one write each",
            target: 0.5,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), u64, batches of 64",
            ours: ("durable", "written_batch_u64"),
            peer: ("durable", "floor_batch_u64"),
            peer_name: "BufWriter<File>, one write per 64",
            target: 0.5,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), u64, vs in memory",
            ours: ("durable", "written_u64"),
            peer: ("durable", "memory_u64"),
            peer_name: "the same topic in memory",
            target: 0.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, 1 at a time",
            ours: ("durable", "written_100b"),
            peer: ("durable", "floor_100b"),
            peer_name: "BufWriter<File>, one write each",
            target: 0.5,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, batches of 64",
            ours: ("durable", "written_batch_100b"),
            peer: ("durable", "floor_batch_100b"),
            peer_name: "BufWriter<File>, one write per 64",
            target: 0.5,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, vs in memory",
            ours: ("durable", "written_100b"),
            peer: ("durable", "memory_100b"),
            peer_name: "the same topic in memory",
            target: 0.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Synced), u64, 1 at a time",
            ours: ("durable", "synced_u64"),
            peer: ("durable", "floor_synced_u64"),
            peer_name: "File write + fdatasync each",
            target: 0.5,
            latency: false,
            per_iter: 200.0,
        },
        Row {
            what: "durable publish (Written), u64, 1 at a time",
            ours: ("durable", "written_u64"),
            peer: ("durable", "sqlite_u64"),
            peer_name: "SQLite WAL, synchronous=NORMAL, one INSERT each",
            target: 5.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), u64, batches of 64",
            ours: ("durable", "written_batch_u64"),
            peer: ("durable", "sqlite_batch_u64"),
            peer_name: "SQLite WAL, NORMAL, one transaction per 64",
            target: 5.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), u64, 1 at a time",
            ours: ("durable", "written_u64"),
            peer: ("durable", "kafko_u64"),
            peer_name: "kafko send",
            target: 2.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), u64, batches of 64",
            ours: ("durable", "written_batch_u64"),
            peer: ("durable", "kafko_batch_u64"),
            peer_name: "kafko send_batch of 64",
            target: 2.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Buffered), u64, 1 at a time",
            ours: ("durable", "buffered_u64"),
            peer: ("durable", "floor_u64"),
            peer_name: "BufWriter<File>, one write each",
            target: 0.5,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, 1 at a time",
            ours: ("durable", "written_100b"),
            peer: ("durable", "sqlite_100b"),
            peer_name: "SQLite WAL, synchronous=NORMAL, one INSERT each",
            target: 5.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, batches of 64",
            ours: ("durable", "written_batch_100b"),
            peer: ("durable", "sqlite_batch_100b"),
            peer_name: "SQLite WAL, NORMAL, one transaction per 64",
            target: 5.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, 1 at a time",
            ours: ("durable", "written_100b"),
            peer: ("durable", "kafko_100b"),
            peer_name: "kafko send",
            target: 2.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Written), 100-byte values, batches of 64",
            ours: ("durable", "written_batch_100b"),
            peer: ("durable", "kafko_batch_100b"),
            peer_name: "kafko send_batch of 64",
            target: 2.0,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Buffered), 100-byte values, 1 at a time",
            ours: ("durable", "buffered_100b"),
            peer: ("durable", "floor_100b"),
            peer_name: "BufWriter<File>, one write each",
            target: 0.5,
            latency: false,
            per_iter: 20_000.0,
        },
        Row {
            what: "durable publish (Synced), u64, 1 at a time",
            ours: ("durable", "synced_u64"),
            peer: ("durable", "sqlite_synced_u64"),
            peer_name: "SQLite WAL, synchronous=FULL, one INSERT each",
            target: 5.0,
            latency: false,
            per_iter: 200.0,
        },
        Row {
            what: "durable publish (Synced), u64, 1 at a time",
            ours: ("durable", "synced_u64"),
            peer: ("durable", "kafko_synced_u64"),
            peer_name: "kafko send + Partition::sync each",
            target: 2.0,
            latency: false,
            per_iter: 200.0,
        },
        Row {
            what: "durable publish (Synced), u64, 4 threads at once",
            ours: ("durable", "synced_threads_u64"),
            peer: ("durable", "synced_u64"),
            peer_name: "the same from 1 thread",
            target: 0.0,
            latency: false,
            per_iter: 200.0,
        },
        Row {
            what: "reopen 1 M retained 100-byte records (time)",
            ours: ("durable", "reopen_100b"),
            peer: ("durable", "fs_read_100b"),
            peer_name: "std::fs::read of the segments",
            target: 3.0,
            latency: true,
            per_iter: 1.0,
        },
    ];
    println!("| benchmark | Ringlet | peer | peer result | ratio | target | met |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        let (Some(ours), Some(peer)) = (
            mean_ns(&dir, r.ours.0, r.ours.1),
            mean_ns(&dir, r.peer.0, r.peer.1),
        ) else {
            println!("| {} | (not measured) | {} | | | | |", r.what, r.peer_name);
            continue;
        };
        if r.latency {
            let ratio = ours / peer;
            println!(
                "| {} | {:.0} ns | {} | {:.0} ns | {:.2}× | ≤ {}× | {} |",
                r.what,
                ours,
                r.peer_name,
                peer,
                ratio,
                r.target,
                if ratio <= r.target { "yes" } else { "no" }
            );
        } else {
            let (o, p) = (r.per_iter / ours * 1e3, r.per_iter / peer * 1e3); // M/s
            let ratio = o / p;
            let (target, met) = if r.target > 0.0 {
                (
                    format!("≥ {}×", r.target),
                    if ratio >= r.target { "yes" } else { "no" },
                )
            } else {
                ("–".to_string(), "")
            };
            println!(
                "| {} | {} | {} | {} | {:.2}× | {} | {} |",
                r.what,
                rate(o),
                r.peer_name,
                rate(p),
                ratio,
                target,
                met
            );
        }
    }
    // A schema's cost is absolute: the extra time per publish of a 10-field object.
    if let (Some(plain), Some(checked), Some(alone)) = (
        mean_ns(&dir, "products", "publish_plain"),
        mean_ns(&dir, "products", "publish_schema"),
        mean_ns(&dir, "products", "validator_alone"),
    ) {
        let per = (checked - plain) / 20_000.0;
        println!(
            "| JSON Schema check per publish (10-field object) | {:.0} ns | jsonschema's validate alone | {:.0} ns | – | ≤ 2 µs | {} |",
            per,
            alone / 20_000.0,
            if per <= 2_000.0 { "yes" } else { "no" }
        );
    }
    // Memory is absolute: all storage the topic allocates, per retained record.
    let bus = ringlet::Bus::new();
    let cap = 65_536;
    let t = bus
        .topic::<u64>("mem", ringlet::TopicConfig::default().capacity(cap))
        .expect("topic");
    let per = t.allocated_bytes() as f64 / cap as f64;
    println!(
        "| memory per retained record (u64, no key/headers) | {:.1} B | – | – | – | ≤ 48 B + 8 B | {} |",
        per,
        if per <= 56.0 { "yes" } else { "no" }
    );
}
