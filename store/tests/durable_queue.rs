//! Durable queues on a store directory: what a restart brings back (ready,
//! delayed, in-flight with its attempt counted), what never comes back (acked,
//! dead-lettered), a failing disk, a log that stays small, and a worker killed
//! with SIGKILL at random moments, over and over.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringlet::{Bus, Error, QueueConfig, SendError, SettleError, TopicConfig, TryReceiveError};
use ringlet_store::Dir;

mod common;
use common::{Failing, Scratch};

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

fn jobs(bus: &Bus) -> ringlet::Queue<String> {
    bus.durable_queue::<String>("jobs", QueueConfig::default().capacity(64))
        .unwrap()
}

/// Everything ready now: (value, attempt), acked.
fn drain(q: &ringlet::Queue<String>) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    while let Ok(d) = q.try_receive() {
        out.push((d.value().clone(), d.attempt()));
        d.ack().unwrap();
    }
    out
}

#[test]
fn ready_in_flight_and_delayed_messages_come_back_acked_ones_never() {
    let s = Scratch::new("queue-restart");
    {
        let bus = bus(&s.0);
        let q = jobs(&bus);
        for i in 0..5 {
            q.send(format!("job {i}")).unwrap();
        }
        q.send_delayed("later".to_string(), Duration::from_secs(3600))
            .unwrap();
        q.send_delayed("soon".to_string(), Duration::from_millis(1))
            .unwrap();
        q.receive().unwrap().ack().unwrap(); // job 0: gone for good
        let in_flight = q.receive().unwrap(); // job 1: the process dies with it
        assert_eq!(in_flight.value(), "job 1");
        std::mem::forget(in_flight);
        let retried = q.receive().unwrap(); // job 2: retried in an hour
        retried.nack_after(Duration::from_secs(3600)).unwrap();
        // The process dies here: no close, no sync.
    }
    std::thread::sleep(Duration::from_millis(5));
    let bus = bus(&s.0);
    let q = jobs(&bus);
    let f = q.figures();
    assert_eq!((f.ready, f.delayed, f.in_flight), (4, 2, 0), "{f:?}");
    // The delivered one at the head with its attempt counted, then send order.
    assert_eq!(
        drain(&q),
        vec![
            ("job 1".to_string(), 2),
            ("job 3".to_string(), 1),
            ("job 4".to_string(), 1),
            ("soon".to_string(), 1),
        ]
    );
    assert_eq!(q.figures().delayed, 2);
    // New messages continue after the old ones.
    q.send("job 5".into()).unwrap();
    assert_eq!(drain(&q), vec![("job 5".to_string(), 1)]);
    drop(q);
    drop(bus);
    // Acked ones stay acked across another restart; the delayed still wait.
    let bus2 = Bus::builder().storage(Dir::open(&s.0).unwrap()).build();
    let q = jobs(&bus2);
    assert_eq!(drain(&q), vec![]);
    assert_eq!(q.figures().delayed, 2);
}

#[test]
fn a_message_that_crashes_its_consumer_reaches_the_dead_letter() {
    let s = Scratch::new("queue-poison");
    let config = QueueConfig::default()
        .max_deliveries(3)
        .dead_letter("jobs.dlq");
    for attempt in 1..=3 {
        let bus = bus(&s.0);
        let dlq = bus
            .durable_queue::<String>("jobs.dlq", QueueConfig::default())
            .unwrap();
        let q = bus.durable_queue::<String>("jobs", config.clone()).unwrap();
        assert_eq!(dlq.len(), 0);
        if attempt == 1 {
            q.send("poison".into()).unwrap();
        }
        let d = q.receive().unwrap();
        assert_eq!(d.attempt(), attempt);
        // The consumer crashes with it: never settled.
        std::mem::forget(d);
    }
    let bus = bus(&s.0);
    let dlq = bus
        .durable_queue::<String>("jobs.dlq", QueueConfig::default())
        .unwrap();
    let q = bus.durable_queue::<String>("jobs", config).unwrap();
    assert!(matches!(q.try_receive(), Err(TryReceiveError::Empty)));
    let dead = dlq.receive().unwrap();
    assert_eq!(dead.value(), "poison");
    assert_eq!(
        dead.headers().get("ringlet.dead_letter.attempts"),
        Some(&b"3"[..])
    );
    dead.ack().unwrap();
    drop((q, dlq, bus));
    // Dead-lettered once: it never comes back to either queue.
    let bus = self::bus(&s.0);
    let dlq = bus
        .durable_queue::<String>("jobs.dlq", QueueConfig::default())
        .unwrap();
    let q = bus
        .durable_queue::<String>(
            "jobs",
            QueueConfig::default()
                .max_deliveries(3)
                .dead_letter("jobs.dlq"),
        )
        .unwrap();
    assert_eq!((q.len(), dlq.len()), (0, 0));
}

#[test]
fn what_is_stored_decides_how_a_queue_may_be_opened() {
    let s = Scratch::new("queue-config");
    {
        let bus = bus(&s.0);
        bus.durable_queue::<String>("jobs", QueueConfig::default())
            .unwrap()
            .send_batch((0..10).map(|i| i.to_string()))
            .unwrap();
        // A queue and a topic share names: a durable queue is not a topic.
        let e = bus
            .durable_topic::<String>("jobs", TopicConfig::default())
            .unwrap_err();
        assert!(matches!(e, Error::TypeMismatch { .. }), "{e}");
        let e = bus
            .queue::<String>("jobs", QueueConfig::default())
            .unwrap_err();
        assert!(matches!(e, Error::ConfigError { .. }), "{e}");
    }
    let bus = bus(&s.0);
    let e = bus
        .durable_topic::<String>("jobs", TopicConfig::default())
        .unwrap_err();
    assert!(e.to_string().contains("stored with a queue"), "{e}");
    let e = bus
        .durable_queue::<u64>("jobs", QueueConfig::default())
        .unwrap_err();
    assert!(matches!(e, Error::ConfigError { .. }), "{e}");
    let e = bus
        .durable_queue::<String>("jobs", QueueConfig::default().capacity(4))
        .unwrap_err();
    assert!(e.to_string().contains("capacity of at least 10"), "{e}");
    let q = bus
        .durable_queue::<String>("jobs", QueueConfig::default().capacity(10))
        .unwrap();
    assert_eq!(q.len(), 10);
    // No storage: a clear error.
    let e = Bus::new()
        .durable_queue::<String>("jobs", QueueConfig::default())
        .unwrap_err();
    assert!(e.to_string().contains("data directory"), "{e}");
}

#[test]
fn a_disk_that_refuses_a_write_changes_nothing_and_says_why() {
    let s = Scratch::new("queue-failing");
    let appends = Arc::new(AtomicUsize::new(0));
    // Write 1: the first send; write 2 fails (the second send).
    let storage = Failing {
        inner: Dir::open(&s.0).unwrap(),
        fail_at: 2,
        appends: appends.clone(),
    };
    let bus = Bus::builder().storage(storage).build();
    let q = jobs(&bus);
    q.send("one".into()).unwrap();
    match q.send("two".into()) {
        Err(SendError::Storage(v, Error::Io { reason, .. })) => {
            assert_eq!(v, "two");
            assert!(reason.contains("No space left"), "{reason}");
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(q.len(), 1);
    drop((q, bus));
    // The next failure is an ack: the message stays (ready again).
    let storage = Failing {
        inner: Dir::open(&s.0).unwrap(),
        fail_at: 2,
        appends: Arc::new(AtomicUsize::new(0)),
    };
    let bus = Bus::builder().storage(storage).build();
    let q = jobs(&bus);
    let d = q.receive().unwrap(); // write 1: the delivery
    assert_eq!(d.value(), "one");
    assert!(matches!(
        d.ack(),
        Err(SettleError::Storage(Error::Io { .. }))
    ));
    let again = q.try_receive().unwrap();
    assert_eq!((again.value().as_str(), again.attempt()), ("one", 2));
    again.ack().unwrap();
    assert_eq!(q.len(), 0);
    drop((q, bus));
    let bus = self::bus(&s.0);
    assert_eq!(drain(&jobs(&bus)), vec![]);
}

#[test]
fn a_busy_queue_keeps_its_log_small_even_with_a_message_nobody_acks() {
    let s = Scratch::new("queue-small");
    let log_bytes = |dir: &Path| -> u64 {
        std::fs::read_dir(dir.join("jobs").join("0"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    {
        let bus = bus(&s.0);
        let q = jobs(&bus);
        q.send_delayed("far".to_string(), Duration::from_secs(86_400))
            .unwrap();
        let stuck = q.receive_timeout(Duration::from_millis(1));
        assert!(stuck.is_err());
        for i in 0..100_000u32 {
            q.send(format!("job {i} {}", "x".repeat(200))).unwrap();
            let d = q.receive().unwrap();
            if i % 1000 == 0 {
                d.nack().unwrap();
                q.receive().unwrap().ack().unwrap();
            } else {
                d.ack().unwrap();
            }
        }
    }
    let bytes = log_bytes(&s.0);
    // 100 000 messages of ~220 bytes passed through (~24 MB of sends): what is
    // kept is a few 4 MiB segments.
    assert!(bytes < 12 << 20, "{bytes} bytes kept");
    let bus = bus(&s.0);
    let q = jobs(&bus);
    let f = q.figures();
    assert_eq!((f.ready, f.delayed), (0, 1), "{f:?}");
}

// --- killed at random moments ---------------------------------------------------

/// The crash harness's queue, as the worker and the checker open it.
fn work_config() -> QueueConfig {
    QueueConfig::default()
        .capacity(1 << 16)
        .visibility_timeout(Duration::from_millis(50))
}

/// The child: sends numbered jobs and works them (ack, nack, or leave them in
/// flight), printing each confirmation once it returned: `s n` sent, `a n`
/// acked, `d n attempt` delivered; and `t n` before it tries to ack (an ack cut
/// off by the kill before its confirmation may have been stored).
fn crash_child(dir: &str) {
    use std::io::Write;
    let bus = Bus::builder().storage(Dir::open(dir).unwrap()).build();
    let q = bus.durable_queue::<u64>("work", work_config()).unwrap();
    let start: u64 = std::env::var("RINGLET_CRASH_NEXT")
        .unwrap()
        .parse()
        .unwrap();
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut held = Vec::new();
    for n in start.. {
        if q.send(n).is_err() {
            return;
        }
        writeln!(out, "s {n}").unwrap();
        let batch = if n % 3 == 0 {
            q.try_receive_batch(4).unwrap_or_default()
        } else {
            q.try_receive().map(|d| vec![d]).unwrap_or_default()
        };
        for d in batch {
            let (v, attempt) = (*d.value(), d.attempt());
            writeln!(out, "d {v} {attempt}").unwrap();
            match v % 5 {
                0 => held.push(d), // in flight a while
                1 if attempt < 3 => {
                    let _ = d.nack();
                }
                _ => {
                    writeln!(out, "t {v}").unwrap();
                    if d.ack().is_ok() {
                        writeln!(out, "a {v}").unwrap();
                    }
                }
            }
        }
        if held.len() > 8 {
            for d in held.drain(..) {
                let v = *d.value();
                writeln!(out, "t {v}").unwrap();
                if d.ack().is_ok() {
                    writeln!(out, "a {v}").unwrap();
                }
            }
        }
        out.flush().unwrap();
    }
}

#[test]
fn a_worker_killed_at_random_moments_loses_no_message_and_acked_ones_stay_acked() {
    if let Ok(dir) = std::env::var("RINGLET_CRASH_CHILD") {
        crash_child(&dir);
        return;
    }
    let s = Scratch::new("queue-crash");
    let kills: usize = std::env::var("RINGLET_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut sent: BTreeSet<u64> = BTreeSet::new();
    let mut acked: BTreeSet<u64> = BTreeSet::new();
    let mut ack_tried: BTreeSet<u64> = BTreeSet::new();
    // The most deliveries confirmed per message.
    let mut delivered: BTreeMap<u64, u32> = BTreeMap::new();
    let mut next = 0u64;
    let mut seed = 0x2545_f491_4f6c_dd1du64 ^ u64::from(std::process::id());
    for round in 0..kills {
        if Instant::now() > deadline {
            assert!(round >= 10, "only {round} kills in the time allowed");
            break;
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_worker_killed_at_random_moments_loses_no_message_and_acked_ones_stay_acked",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RINGLET_CRASH_CHILD", &s.0)
            .env("RINGLET_CRASH_NEXT", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
            let first = line.starts_with("s ");
            lines.push(line);
            if first {
                break;
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(1 + seed % 40));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        for line in &lines {
            let f: Vec<&str> = line.split(' ').collect();
            match f[..] {
                ["s", n] => {
                    let n: u64 = n.parse().unwrap();
                    sent.insert(n);
                    next = next.max(n + 1);
                }
                ["a", n] => {
                    acked.insert(n.parse().unwrap());
                }
                ["t", n] => {
                    ack_tried.insert(n.parse().unwrap());
                }
                ["d", n, a] => {
                    let e = delivered.entry(n.parse().unwrap()).or_default();
                    *e = (*e).max(a.parse().unwrap());
                }
                _ => {}
            }
        }
        // A send whose confirmation was cut off may be in the log: numbers
        // continue after anything the log holds.
        let bus = bus(&s.0);
        let q = bus
            .durable_queue::<u64>("work", work_config())
            .unwrap_or_else(|e| panic!("round {round}: reopening failed: {e}"));
        let mut back: BTreeMap<u64, u32> = BTreeMap::new();
        let batch = q.try_receive_batch(1 << 16).unwrap_or_default();
        for d in &batch {
            let v = *d.value();
            assert!(
                back.insert(v, d.attempt()).is_none(),
                "round {round}: {v} twice"
            );
        }
        // Hand them back untouched (the nacks are not logged: nothing changes
        // on disk but one more delivery each).
        for d in batch {
            let v = *d.value();
            next = next.max(v + 1);
            d.nack().unwrap();
        }
        for v in &acked {
            assert!(!back.contains_key(v), "round {round}: acked {v} came back");
        }
        for v in &sent {
            if !ack_tried.contains(v) {
                assert!(back.contains_key(v), "round {round}: sent {v} is lost");
            }
        }
        // An ack tried and not confirmed went either way: settled now.
        for v in &ack_tried {
            if !back.contains_key(v) {
                acked.insert(*v);
            }
        }
        ack_tried.retain(|v| !back.contains_key(v));
        for (v, attempt) in &back {
            // Its deliveries so far, plus this one.
            let at_least = delivered.get(v).copied().unwrap_or(0) + 1;
            assert!(
                *attempt >= at_least,
                "round {round}: {v} delivered with attempt {attempt}, expected at least {at_least}"
            );
            // The delivery here counts from now on.
            delivered.insert(*v, *attempt);
        }
        drop(q);
        bus.close().unwrap();
    }
    assert!(acked.len() > 10, "only {} acks confirmed", acked.len());
}
