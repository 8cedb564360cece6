//! Durable topics on a store directory: what a restart keeps, what a config that
//! contradicts the files gets, what a failing disk does, and a process killed
//! with SIGKILL at random moments, over and over.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringlet::storage::{Durability, StoredRecord};
use ringlet::{Bus, Error, GroupConfig, Message, OnFull, PublishError, Start, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::{Failing, Scratch};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
}

fn order(id: u64) -> Order {
    Order {
        id,
        customer: format!("c{}", id % 7),
    }
}

/// The values a subscription has ready.
fn values(sub: &mut ringlet::Subscription<u64>) -> Vec<u64> {
    sub.try_recv_batch(100)
        .unwrap()
        .into_iter()
        .map(|r| r.value)
        .collect()
}

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

#[test]
fn records_survive_a_restart_at_their_offsets_and_offsets_continue() {
    let s = Scratch::new("restart");
    let config = TopicConfig::default().partitions(3).capacity(100);
    let mut sent = Vec::new();
    {
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<Order>("orders", config.clone())
            .unwrap();
        for i in 0..30 {
            let m = Message::new(order(i))
                .key(format!("customer-{}", i % 5))
                .header("source", "web")
                .timestamp(1_000 + i as i64);
            let r = t.publish_message(m).unwrap();
            sent.push((r.partition, r.offset, i));
        }
        assert_eq!(t.publish_batch((30..40).map(order)).unwrap(), 10);
    }
    let bus = bus(&s.0);
    let t = bus.durable_topic::<Order>("orders", config).unwrap();
    assert_eq!(t.len(), 40);
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let got = sub.try_recv_batch(100).unwrap();
    assert_eq!(got.len(), 40);
    for (p, o, i) in &sent {
        let r = got
            .iter()
            .find(|r| r.partition == *p && r.offset == *o)
            .unwrap();
        assert_eq!(r.value, order(*i));
        assert_eq!(
            r.key.as_ref().unwrap().as_str(),
            Some(&*format!("customer-{}", i % 5))
        );
        assert_eq!(r.headers.get("source"), Some(&b"web"[..]));
        assert_eq!(r.timestamp, 1_000 + *i as i64);
    }
    // Start::Offset works across the restart; new records continue the offsets.
    let (p, o, i) = sent[7];
    let mut at = t.subscribe(Start::Offsets(vec![(p, o)])).unwrap();
    assert_eq!(at.try_recv().unwrap().value, order(i));
    let ends = t.end_offsets();
    let r = t
        .publish_message(Message::new(order(99)).partition(p))
        .unwrap();
    assert_eq!(r.offset, ends[p as usize]);
}

#[test]
fn retention_holds_across_restarts_and_old_segments_go() {
    let s = Scratch::new("retention");
    let config = TopicConfig::default().capacity(50);
    {
        let bus = bus(&s.0);
        let t = bus.durable_topic::<u64>("ticks", config.clone()).unwrap();
        for i in 0..5_000u64 {
            t.publish(i).unwrap();
        }
    }
    let bus = bus(&s.0);
    let t = bus.durable_topic::<u64>("ticks", config).unwrap();
    assert_eq!(
        (t.earliest_offsets(), t.end_offsets()),
        (vec![4_950], vec![5_000])
    );
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    assert_eq!(values(&mut sub), (4_950..5_000).collect::<Vec<_>>());
    // A reader from an evicted offset is told what it missed.
    let mut old = t.subscribe(Start::Offset(10)).unwrap();
    assert!(matches!(
        old.try_recv(),
        Err(ringlet::TryRecvError::Lagged { skipped: 4_940, .. })
    ));
    let segments = fs::read_dir(s.0.join("ticks/0")).unwrap().count();
    assert!(
        segments < 3,
        "retention removed old segments ({segments} left)"
    );
}

#[test]
fn a_config_that_contradicts_what_is_stored_says_what_is_stored() {
    let s = Scratch::new("contradict");
    {
        let bus = bus(&s.0);
        bus.durable_topic::<Order>("orders", TopicConfig::default().partitions(3))
            .unwrap()
            .publish(order(1))
            .unwrap();
    }
    let bus = bus(&s.0);
    let e = bus
        .durable_topic::<Order>("orders", TopicConfig::default().partitions(4))
        .unwrap_err();
    assert!(matches!(e, Error::ConfigError { .. }));
    assert!(
        e.to_string()
            .contains("stored with a topic of 3 partitions"),
        "{e}"
    );
    let e = bus
        .durable_topic::<u64>("orders", TopicConfig::default().partitions(3))
        .unwrap_err();
    assert!(e.to_string().contains("Order"), "{e}");
    // In-memory topics refuse durability; a bus without storage has no durable topics.
    assert!(matches!(
        bus.topic::<u8>("mem", TopicConfig::default().durability(Durability::Synced)),
        Err(Error::ConfigError { .. })
    ));
    assert!(Bus::new()
        .durable_topic::<u8>("x", TopicConfig::default())
        .is_err());
    // Compacted or not is stored too.
    bus.durable_topic::<u8>("y", TopicConfig::default().compacted(true))
        .unwrap();
    drop(bus);
    let bus = Bus::builder().storage(Dir::open(&s.0).unwrap()).build();
    let e = bus
        .durable_topic::<u8>("y", TopicConfig::default())
        .unwrap_err();
    assert!(e.to_string().contains("compacted"), "{e}");
}

#[test]
fn a_value_that_no_longer_decodes_names_its_topic_partition_and_offset() {
    let s = Scratch::new("decode");
    {
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<String>("names", TopicConfig::default())
            .unwrap();
        t.publish("ok".into()).unwrap();
    }
    // The same type name, other bytes: a value written by a different program.
    let meta = fs::read_to_string(s.0.join("names/meta.json")).unwrap();
    assert!(meta.contains("String"));
    {
        let dir = Dir::open(&s.0).unwrap();
        let (mut log, _) = dir.log("names", 0, &Default::default()).unwrap();
        log.append(&[StoredRecord::new(1, 0, vec![0xff, 0xff, 0xff])], false)
            .unwrap();
    }
    let e = bus(&s.0)
        .durable_topic::<String>("names", TopicConfig::default())
        .unwrap_err();
    assert!(matches!(e, Error::TypeMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("partition 0, offset 1"), "{msg}");
}

#[test]
fn a_second_bus_on_the_directory_is_locked_out() {
    let s = Scratch::new("locked");
    let _bus = bus(&s.0);
    let e: Error = Dir::open(&s.0).unwrap_err().into();
    assert!(matches!(e, Error::Locked { .. }), "{e}");
}

#[test]
fn synced_topics_and_bus_sync() {
    let s = Scratch::new("synced");
    {
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<u64>("t", TopicConfig::default().durability(Durability::Synced))
            .unwrap();
        t.publish_batch(0..100).unwrap();
        assert_eq!(t.config().durability, Some(Durability::Synced));
        bus.sync().unwrap();
    }
    let bus = bus(&s.0);
    let t = bus
        .durable_topic::<u64>("t", TopicConfig::default().durability(Durability::Synced))
        .unwrap();
    assert_eq!(t.len(), 100);
}

#[test]
fn a_failed_write_publishes_nothing_and_says_why() {
    let s = Scratch::new("failing");
    {
        let storage = Failing {
            inner: Dir::open(&s.0).unwrap(),
            fail_at: 3,
            appends: Arc::default(),
        };
        let bus = Bus::builder().storage(storage).build();
        let t = bus
            .durable_topic::<u64>("t", TopicConfig::default().on_full(OnFull::Block))
            .unwrap();
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        t.publish(1).unwrap();
        t.publish(2).unwrap();
        let e = t.publish(3).unwrap_err();
        assert!(
            matches!(&e, PublishError::Storage(3, Error::Io { .. })),
            "{e:?}"
        );
        assert!(e.to_string().contains("No space left"), "{e}");
        assert_eq!(e.kind(), ringlet::ErrorKind::Io);
        // Nothing of it is visible; the next publish takes the offset.
        assert_eq!(t.publish(4).unwrap().offset, 2);
        let got = values(&mut sub);
        assert_eq!(got, [1, 2, 4]);
        t.publish_batch([5, 6]).unwrap();
    }
    let bus = bus(&s.0);
    let t = bus
        .durable_topic::<u64>("t", TopicConfig::default().on_full(OnFull::Block))
        .unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let got = values(&mut sub);
    assert_eq!(got, [1, 2, 4, 5, 6]);
}

use ringlet::ErrorDetails as _;

/// The crash tests' topic, as the child and the checker open it.
fn crash_config(mode: Durability) -> TopicConfig {
    TopicConfig::default()
        .partitions(2)
        .capacity(1 << 14)
        .durability(mode)
}

/// The child of the crash test: publishes to a durable topic as fast as it can,
/// printing `partition offset value` for each confirmed publish; a `Buffered`
/// one calls `bus.sync()` every 50 publishes and prints `y` when it returned.
fn crash_child(dir: &str, mode: Durability) {
    use std::io::Write;
    let bus = Bus::builder().storage(Dir::open(dir).unwrap()).build();
    let t = bus.durable_topic::<u64>("log", crash_config(mode)).unwrap();
    // Every record ever published has a value one more than the last one
    // stored (a buffered topic's partitions may each have lost a last window).
    let start: u64 = {
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        let mut next = 0;
        while let Ok(b) = sub.try_recv_batch(4096) {
            if b.is_empty() {
                break;
            }
            next = b.iter().map(|r| r.value + 1).fold(next, u64::max);
        }
        next
    };
    let group = t
        .group_with("readers", GroupConfig::default().start(Start::Earliest))
        .unwrap();
    let mut member = group.join().unwrap();
    let out = std::io::stdout();
    let mut out = out.lock();
    for i in start.. {
        if mode == Durability::Buffered && i % 50 == 0 {
            bus.sync().unwrap();
            writeln!(out, "y").unwrap();
        }
        if i % 7 == 0 {
            // Read a little and commit it: `c partition offset` once stored.
            let _ = member.try_recv_batch(3);
            let positions = member.positions();
            if member.commit().is_ok() {
                for (p, o) in positions {
                    writeln!(out, "c {p} {o}").unwrap();
                }
            }
        }
        let value = i;
        let r = if i % 5 == 0 {
            t.publish_batch([value])
                .map(|_| (None, value))
                .map_err(drop)
        } else {
            t.publish_message(Message::new(value).partition((i % 2) as u32))
                .map(|r| (Some(r), value))
                .map_err(drop)
        };
        match r {
            Ok((Some(r), v)) => writeln!(out, "{} {} {v}", r.partition, r.offset).unwrap(),
            Ok((None, v)) => writeln!(out, "- - {v}").unwrap(),
            Err(()) => return,
        }
        out.flush().unwrap();
    }
}

/// A child's line `partition offset value` (or `- - value` for a batch).
fn confirmation(line: &str) -> Option<(Option<(u32, u64)>, u64)> {
    let f: Vec<&str> = line.split(' ').collect();
    let [p, o, v] = f[..] else { return None };
    let v = v.parse().ok()?;
    match (p, o) {
        ("-", "-") => Some((None, v)),
        _ => Some((Some((p.parse().ok()?, o.parse().ok()?)), v)),
    }
}

#[test]
fn a_publisher_killed_at_random_moments_loses_no_confirmed_record() {
    crash_harness(
        "a_publisher_killed_at_random_moments_loses_no_confirmed_record",
        Durability::Written,
        1,
    );
}

#[test]
fn a_synced_publisher_killed_at_random_moments_loses_no_confirmed_record() {
    crash_harness(
        "a_synced_publisher_killed_at_random_moments_loses_no_confirmed_record",
        Durability::Synced,
        4,
    );
}

/// A buffered topic may lose what was published in the writer's last window:
/// never what came before a `sync` that returned, nor a hole, nor a record at
/// another offset than it was confirmed at.
#[test]
fn a_buffered_publisher_killed_at_random_moments_loses_only_its_last_window() {
    crash_harness(
        "a_buffered_publisher_killed_at_random_moments_loses_only_its_last_window",
        Durability::Buffered,
        4,
    );
}

/// Runs test `name`'s crash harness in `mode`: `RINGLET_CRASH_KILLS` kills
/// (10 by default), divided by `share`.
fn crash_harness(name: &str, mode: Durability, share: usize) {
    if let Ok(dir) = std::env::var("RINGLET_CRASH_CHILD") {
        crash_child(&dir, mode);
        return;
    }
    let s = Scratch::new(&format!("crash-{mode}"));
    let kills: usize = std::env::var("RINGLET_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        / share;
    let buffered = mode == Durability::Buffered;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut confirmed: Vec<(u32, u64, u64)> = Vec::new();
    let mut unplaced: Vec<u64> = Vec::new();
    let mut commits = [0u64; 2];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    for round in 0..kills {
        if Instant::now() > deadline {
            assert!(
                round >= 10 / share,
                "only {round} kills in the time allowed"
            );
            break;
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env("RINGLET_CRASH_CHILD", &s.0)
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
        // Kill it while it publishes: after its first confirmation, at a random moment.
        let mut lines = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
            let confirmation = confirmation(&line).is_some();
            lines.push(line);
            if confirmation {
                break;
            }
        }
        if round + 1 == kills && commits.contains(&0) {
            // The last round: on a loaded machine no earlier one may have
            // lasted until a commit of each partition; this one does.
            let mut seen = commits.map(|c| c > 0);
            while seen.contains(&false) {
                let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) else {
                    break;
                };
                if let ["c", p, _] = line.split(' ').collect::<Vec<_>>()[..] {
                    seen[p.parse::<usize>().unwrap()] = true;
                }
                lines.push(line);
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(1 + seed % 40));
        // SIGKILL: no destructor, no flush.
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        if std::env::var("RINGLET_CRASH_DEBUG").is_ok() {
            eprintln!(
                "round {round}: {} lines, first {:?}",
                lines.len(),
                lines.iter().take(3).collect::<Vec<_>>()
            );
        }
        // What a buffered child confirmed before its last sync must be there.
        let mut must = (confirmed.len(), unplaced.len());
        for line in &lines {
            if line == "y" {
                must = (confirmed.len(), unplaced.len());
                continue;
            }
            if let ["c", p, o] = line.split(' ').collect::<Vec<_>>()[..] {
                let (p, o): (usize, u64) = (p.parse().unwrap(), o.parse().unwrap());
                commits[p] = commits[p].max(o);
                continue;
            }
            match confirmation(line) {
                Some((Some((p, o)), v)) => confirmed.push((p, o, v)),
                Some((None, v)) => unplaced.push(v),
                None => {} // the test harness's own lines
            }
        }
        // Reopening always succeeds, and has every confirmed record exactly once,
        // in order, at its offset.
        if !buffered {
            must = (confirmed.len(), unplaced.len());
        }
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<u64>("log", crash_config(mode))
            .unwrap_or_else(|e| panic!("round {round}: reopening failed: {e}"));
        // Committed offsets are at least the last confirmed commit.
        let stored = t
            .group_with("readers", GroupConfig::default().start(Start::Earliest))
            .unwrap()
            .committed();
        for p in 0..2 {
            assert!(
                stored[p].unwrap_or(0) >= commits[p],
                "round {round}: partition {p} committed {:?}, confirmed {}",
                stored[p],
                commits[p]
            );
        }
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        let mut all = Vec::new();
        while let Ok(b) = sub.try_recv_batch(4096) {
            if b.is_empty() {
                break;
            }
            all.extend(b);
        }
        let earliest = t.earliest_offsets();
        for p in 0..2u32 {
            let offsets: Vec<u64> = all
                .iter()
                .filter(|r| r.partition == p)
                .map(|r| r.offset)
                .collect();
            assert!(
                offsets.windows(2).all(|w| w[1] == w[0] + 1),
                "round {round}: partition {p} has holes"
            );
            assert_eq!(
                offsets.first().copied(),
                (earliest[p as usize] < t.end_offsets()[p as usize])
                    .then_some(earliest[p as usize])
            );
        }
        let mut values: Vec<u64> = all.iter().map(|r| r.value).collect();
        for (i, &(p, o, v)) in confirmed
            .iter()
            .enumerate()
            .filter(|(_, (p, o, _))| *o >= earliest[*p as usize])
        {
            let r = all.iter().find(|r| r.partition == p && r.offset == o);
            if r.is_none() && i >= must.0 {
                continue; // a buffered one's last window
            }
            assert_eq!(
                r.map(|r| r.value),
                Some(v),
                "round {round}: confirmed {v} at {p}/{o}"
            );
        }
        // A batch's value is retained unless newer ones evicted it: certainly
        // when it is newer than every partition's oldest retained value.
        let threshold = (0..2u32)
            .filter_map(|p| {
                all.iter()
                    .filter(|r| r.partition == p)
                    .map(|r| r.value)
                    .min()
            })
            .max()
            .unwrap_or(0);
        for v in unplaced[..must.1].iter().filter(|&&v| v >= threshold) {
            assert!(
                values.contains(v),
                "round {round}: confirmed batch value {v} missing"
            );
        }
        values.sort_unstable();
        let before = values.len();
        values.dedup();
        assert_eq!(values.len(), before, "round {round}: a value appears twice");
        if buffered {
            // What the last window lost is published again (the child counts
            // from the end offsets): forget it.
            confirmed.retain(|&(p, o, _)| o < t.end_offsets()[p as usize]);
            unplaced.retain(|v| values.binary_search(v).is_ok());
        }
    }
    // A synced child waits for the disk: it publishes far fewer.
    assert!(
        confirmed.len() > if mode == Durability::Synced { 0 } else { 100 },
        "the child published ({} confirmed)",
        confirmed.len()
    );
    assert!(
        commits.iter().all(|&c| c > 0),
        "the child committed ({commits:?})"
    );
}

#[test]
fn closing_the_bus_unlocks_its_directory_for_the_next_bus() {
    let s = Scratch::new("close");
    let first = bus(&s.0);
    let t = first
        .durable_topic::<u64>("numbers", TopicConfig::default())
        .unwrap();
    t.publish(7).unwrap();
    let mut old_reader = t.subscribe(Start::Earliest).unwrap();
    first.close().unwrap();
    first.close().unwrap();
    assert!(t.is_closed());
    assert!(matches!(t.publish(8), Err(PublishError::Closed(8))));
    assert!(matches!(
        first.durable_topic::<u64>("other", TopicConfig::default()),
        Err(Error::Closed)
    ));
    // Handles of the closed bus still read what they hold.
    assert_eq!(values(&mut old_reader), [7]);
    let second = bus(&s.0);
    let t2 = second
        .durable_topic::<u64>("numbers", TopicConfig::default())
        .unwrap();
    t2.publish(9).unwrap();
    assert_eq!(values(&mut t2.subscribe(Start::Earliest).unwrap()), [7, 9]);
    drop((t, old_reader, first));
    assert!(matches!(
        Dir::open(&s.0),
        Err(ringlet_store::StoreError::Locked { .. })
    ));
}

/// A codec that looks the bus up while it decodes (as a binding's codec may
/// take a runtime lock that another thread holds while it calls the bus).
struct Looking(Arc<std::sync::OnceLock<Bus>>);

impl ringlet::storage::Codec<u64> for Looking {
    fn name(&self) -> &str {
        "looking"
    }
    fn encode(&self, v: &u64) -> Result<Vec<u8>, String> {
        Ok(v.to_le_bytes().to_vec())
    }
    fn decode(&self, b: &[u8]) -> Result<u64, String> {
        if let Some(bus) = self.0.get() {
            let _ = bus.names();
        }
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| "8 bytes")?))
    }
}

#[test]
fn decoding_at_open_runs_outside_the_registry_and_concurrent_opens_share_a_topic() {
    let s = Scratch::new("opening");
    {
        let bus = bus(&s.0);
        let cell = Arc::new(std::sync::OnceLock::new());
        let t = bus
            .durable_topic_with("n", TopicConfig::default(), Looking(cell))
            .unwrap();
        t.publish_batch(0..100u64).unwrap();
    }
    let bus = bus(&s.0);
    let cell = Arc::new(std::sync::OnceLock::new());
    cell.set(bus.clone()).unwrap();
    let topics: Vec<_> = std::thread::scope(|sc| {
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let (bus, cell) = (bus.clone(), cell.clone());
                sc.spawn(move || {
                    bus.durable_topic_with("n", TopicConfig::default(), Looking(cell))
                        .unwrap()
                })
            })
            .collect();
        let names = sc.spawn(|| (0..1000).for_each(|_| drop(bus.names())));
        names.join().unwrap();
        opens.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for t in &topics {
        t.publish(100).unwrap();
    }
    let mut sub = topics[0].subscribe(Start::Earliest).unwrap();
    let got: Vec<u64> = sub
        .try_recv_batch(1000)
        .unwrap()
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(got.len(), 104);
    assert_eq!(&got[..100], &(0..100).collect::<Vec<u64>>()[..]);
}

#[test]
fn a_group_resumes_from_its_committed_offsets_after_a_restart() {
    let s = Scratch::new("group");
    let config = TopicConfig::default().partitions(2).capacity(10_000);
    let gc = GroupConfig::default().start(Start::Earliest);
    {
        let bus = bus(&s.0);
        let t = bus.durable_topic::<u64>("n", config.clone()).unwrap();
        for i in 0..40u64 {
            t.publish_message(Message::new(i).partition((i % 2) as u32))
                .unwrap();
        }
        let g = t.group_with("billing", gc.clone()).unwrap();
        let mut m = g.join().unwrap();
        let first: Vec<_> = m.try_recv_batch(10).unwrap();
        assert_eq!(first.len(), 10);
        m.commit().unwrap();
        // Read further, but do not commit: at-least-once hands these out again.
        assert_eq!(m.try_recv_batch(6).unwrap().len(), 6);
        assert_eq!(g.committed().iter().flatten().sum::<u64>(), 10);
        // Another group commits once, on one partition.
        let other = t.group_with("audit", gc.clone()).unwrap();
        let mut a = other.join().unwrap();
        a.commit_offsets(&[(1, 20)]).unwrap();
    }
    let bus = bus(&s.0);
    let t = bus.durable_topic::<u64>("n", config).unwrap();
    let g = t.group_with("billing", gc.clone()).unwrap();
    let before = g.committed();
    assert_eq!(before.iter().flatten().sum::<u64>(), 10);
    let mut m = g.join().unwrap();
    let mut rest = Vec::new();
    while let Ok(b) = m.try_recv_batch(100) {
        if b.is_empty() {
            break;
        }
        rest.extend(b);
    }
    // Everything after the committed offsets, the 6 uncommitted ones included.
    assert_eq!(rest.len(), 30);
    for r in &rest {
        assert!(r.offset >= before[r.partition as usize].unwrap_or(0));
    }
    assert_eq!(
        t.group_with("audit", gc.clone()).unwrap().committed(),
        [None, Some(20)]
    );
    assert_eq!(t.group_with("new", gc).unwrap().committed(), [None, None]);
}

#[test]
fn many_commits_keep_the_commit_log_small() {
    let s = Scratch::new("commits");
    let config = TopicConfig::default().capacity(100);
    {
        let bus = bus(&s.0);
        let t = bus.durable_topic::<u64>("n", config.clone()).unwrap();
        t.publish_batch(0..100u64).unwrap();
        let g = t.group("g").unwrap();
        let mut m = g.join().unwrap();
        for i in 0..50_000u64 {
            m.commit_offsets(&[(0, i % 101)]).unwrap();
        }
        m.commit_offsets(&[(0, 42)]).unwrap();
    }
    let size: u64 = fs::read_dir(s.0.join("n").join("commits"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(size < 3 << 20, "the commits log holds {size} bytes");
    let bus = bus(&s.0);
    let t = bus.durable_topic::<u64>("n", config).unwrap();
    assert_eq!(t.group("g").unwrap().committed(), [Some(42)]);
}

#[test]
fn a_commit_the_disk_refuses_is_an_error_and_changes_nothing() {
    let s = Scratch::new("commit-fail");
    let appends = Arc::new(AtomicUsize::new(0));
    let bus = Bus::builder()
        .storage(Failing {
            inner: Dir::open(&s.0).unwrap(),
            fail_at: 3,
            appends: appends.clone(),
        })
        .build();
    let t = bus
        .durable_topic::<u64>("n", TopicConfig::default())
        .unwrap();
    t.publish_batch(0..10u64).unwrap(); // write 1
    let g = t
        .group_with("g", GroupConfig::default().start(Start::Earliest))
        .unwrap();
    let mut m = g.join().unwrap();
    m.commit_offsets(&[(0, 4)]).unwrap(); // write 2
    let e = m.commit_offsets(&[(0, 8)]).unwrap_err(); // write 3 fails
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_eq!(g.committed(), [Some(4)]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum AccountEvent {
    Opened,
    Deposited(u64),
    Withdrew(u64),
}

#[derive(Clone, Default)]
struct Account {
    open: bool,
    balance: u64,
}

impl ringlet::eventstore::Aggregate for Account {
    type Event = AccountEvent;
    type Command = AccountEvent;
    type Error = String;
    fn apply(&mut self, e: &AccountEvent) {
        match e {
            AccountEvent::Opened => self.open = true,
            AccountEvent::Deposited(n) => self.balance += n,
            AccountEvent::Withdrew(n) => self.balance -= n,
        }
    }
    fn handle(&self, c: AccountEvent) -> Result<Vec<AccountEvent>, String> {
        match c {
            AccountEvent::Withdrew(n) if n > self.balance => Err("insufficient funds".into()),
            c => Ok(vec![c]),
        }
    }
}

#[test]
fn an_event_store_rebuilds_every_aggregate_after_a_restart() {
    use ringlet::eventstore::{Aggregates, AppendError};
    let s = Scratch::new("events");
    let config = TopicConfig::default().partitions(3).capacity(10_000);
    {
        let bus = bus(&s.0);
        let store = bus
            .durable_event_store::<AccountEvent>("accounts", config.clone())
            .unwrap();
        let accounts = Aggregates::<Account>::new(&store)
            .snapshot_every(3)
            .unwrap();
        for id in ["a", "b", "c", "d"] {
            accounts.execute(id, AccountEvent::Opened).unwrap();
            accounts.execute(id, AccountEvent::Deposited(100)).unwrap();
        }
        accounts.execute("a", AccountEvent::Withdrew(30)).unwrap();
        store
            .append(
                "b",
                [AccountEvent::Deposited(1), AccountEvent::Deposited(2)],
                Some(2),
            )
            .unwrap();
        // Opening it again in the same process gives the same store.
        let again = bus
            .durable_event_store::<AccountEvent>("accounts", config.clone())
            .unwrap();
        assert_eq!(again.version("b"), 4);
    }
    let bus = bus(&s.0);
    let store = bus
        .durable_event_store::<AccountEvent>("accounts", config)
        .unwrap();
    assert_eq!(store.ids(), ["a", "b", "c", "d"]);
    assert_eq!(
        store.load("b"),
        [
            AccountEvent::Opened,
            AccountEvent::Deposited(100),
            AccountEvent::Deposited(1),
            AccountEvent::Deposited(2)
        ]
    );
    let accounts = Aggregates::<Account>::new(&store);
    let (a, version) = accounts.load("a");
    assert_eq!((a.balance, version), (70, 3));
    assert!(accounts.execute("a", AccountEvent::Withdrew(80)).is_err());
    // Versions continue: a writer that read before the restart is stale.
    assert!(matches!(
        store.append("a", [AccountEvent::Deposited(5)], Some(2)),
        Err(AppendError::VersionConflict { actual: 3, .. })
    ));
    assert_eq!(
        store
            .append("a", [AccountEvent::Deposited(5)], Some(3))
            .unwrap(),
        4
    );
    assert_eq!(accounts.load("a").0.balance, 75);
}

#[test]
fn an_event_the_disk_refuses_is_not_appended() {
    use ringlet::eventstore::AppendError;
    let s = Scratch::new("events-fail");
    let bus = Bus::builder()
        .storage(Failing {
            inner: Dir::open(&s.0).unwrap(),
            fail_at: 2,
            appends: Arc::new(AtomicUsize::new(0)),
        })
        .build();
    let store = bus
        .durable_event_store::<AccountEvent>("accounts", TopicConfig::default())
        .unwrap();
    store.append("a", [AccountEvent::Opened], Some(0)).unwrap();
    let e = store
        .append("a", [AccountEvent::Deposited(1)], Some(1))
        .unwrap_err();
    assert!(
        matches!(e, AppendError::Storage(ref ev, Error::Io { .. }) if ev.len() == 1),
        "{e}"
    );
    assert_eq!(store.version("a"), 1);
    assert_eq!(store.topic().end_offsets(), [1]);
}

#[test]
fn what_opening_cut_off_is_reported_in_the_snapshot_and_the_journal() {
    use ringlet::journal::{Event, EventKind, JOURNAL_TOPIC};
    let s = Scratch::new("recovered");
    {
        let bus = bus(&s.0);
        bus.durable_topic::<u64>("t", TopicConfig::default())
            .unwrap()
            .publish_batch(0..10)
            .unwrap();
        bus.durable_queue::<u64>("q", ringlet::QueueConfig::default())
            .unwrap()
            .send(1)
            .unwrap();
    }
    // Torn tails: garbage after the last frames, as a crash during a write leaves.
    for log in [s.0.join("t/0"), s.0.join("q/0")] {
        let seg = fs::read_dir(&log).unwrap().next().unwrap().unwrap().path();
        let mut f = fs::OpenOptions::new().append(true).open(&seg).unwrap();
        std::io::Write::write_all(&mut f, &[0xAB; 7]).unwrap();
    }
    let journaled = Bus::builder()
        .storage(Dir::open(&s.0).unwrap())
        .journal(100)
        .build();
    let t = journaled
        .durable_topic::<u64>("t", TopicConfig::default())
        .unwrap();
    let q = journaled
        .durable_queue::<u64>("q", ringlet::QueueConfig::default())
        .unwrap();
    assert_eq!(t.len(), 10);
    assert_eq!(q.figures().ready, 1);
    for cuts in [
        t.recovered(),
        q.recovered(),
        t.snapshot().recovered,
        q.snapshot().recovered,
    ] {
        assert_eq!(cuts.len(), 1, "{cuts:?}");
        assert!(cuts[0].contains("7 bytes dropped"), "{cuts:?}");
    }
    let journal = journaled.get_topic::<Event>(JOURNAL_TOPIC).unwrap();
    let mut sub = journal.subscribe(Start::Earliest).unwrap();
    let recovered: Vec<Event> = sub
        .try_recv_batch(100)
        .unwrap()
        .into_iter()
        .map(|r| r.value)
        .filter(|e| e.kind == EventKind::Recover)
        .collect();
    assert_eq!(recovered.len(), 2, "{recovered:?}");
    assert_eq!(recovered[0].topic.as_deref(), Some("t"));
    assert_eq!(recovered[1].queue.as_deref(), Some("q"));
    assert!(recovered[0].reason.as_deref().unwrap().contains(".log"));
    // Opened again, nothing more is cut.
    drop((t, q, journal, journaled));
    assert!(bus(&s.0)
        .durable_topic::<u64>("t", TopicConfig::default())
        .unwrap()
        .recovered()
        .is_empty());
}
