//! Stream processing: every operator, tables, windows against a model, joins,
//! failures, restart from committed offsets, threads, describe.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringlet::streams::{Cause, Window, Windowed, Windows};
use ringlet::{Bus, ManualClock, Message, OnError, OnFull, Record, Start, Topic, TopicConfig};

fn bus() -> Bus {
    Bus::builder().clock(ManualClock::new()).build()
}

fn topic<T: Clone + Send + Sync + 'static>(bus: &Bus, name: &str) -> Topic<T> {
    bus.topic::<T>(name, TopicConfig::default().partitions(2).capacity(4096))
        .unwrap()
}

fn send<T: Clone + Send + Sync + 'static>(t: &Topic<T>, key: &str, v: T, ts: i64) {
    t.publish_message(Message::new(v).key(key).timestamp(ts))
        .unwrap();
}

fn drain<T: Clone + Send + Sync + 'static>(t: &Topic<T>) -> Vec<Record<T>> {
    let mut s = t.subscribe(Start::Earliest).unwrap();
    let mut out = s.try_recv_batch(100_000).unwrap_or_default();
    out.sort_by_key(|r| (r.timestamp, r.partition, r.offset));
    out
}

fn key(r: &Record<impl Sized>) -> String {
    r.key
        .as_ref()
        .and_then(|k| k.as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn stateless_operators() {
    let bus = bus();
    let input = topic::<i64>(&bus, "in");
    let out = topic::<String>(&bus, "out");
    let seen = Arc::new(AtomicU64::new(0));
    let each = Arc::new(Mutex::new(Vec::new()));
    let (s2, e2) = (seen.clone(), each.clone());
    input
        .stream()
        .unwrap()
        .filter(|r| r.value >= 0)
        .peek(move |_| {
            s2.fetch_add(1, Ordering::Relaxed);
        })
        .flat_map(|r| vec![r.value; (r.value % 3) as usize])
        .key_by(|r| format!("k{}", r.value % 2))
        .map(|r| format!("{}={}", key(r), r.value))
        .peek(move |r| e2.lock().unwrap().push(r.value.clone()))
        .to(&out)
        .unwrap();
    for (i, v) in [1i64, -4, 2, 3, 5].into_iter().enumerate() {
        send(&input, "a", v, i as i64 * 10);
    }
    assert_eq!(bus.run_until_idle().unwrap(), 5);
    assert_eq!(seen.load(Ordering::Relaxed), 4); // -4 filtered out
    let got: Vec<(String, String, i64)> = drain(&out)
        .into_iter()
        .map(|r| (key(&r), r.value, r.timestamp))
        .collect();
    // 1 → [1]; 2 → [2, 2]; 3 → []; 5 → [5, 5]; timestamps kept.
    assert_eq!(
        got,
        vec![
            ("k1".into(), "k1=1".into(), 0),
            ("k0".into(), "k0=2".into(), 20),
            ("k0".into(), "k0=2".into(), 20),
            ("k1".into(), "k1=5".into(), 40),
            ("k1".into(), "k1=5".into(), 40),
        ]
    );
    assert_eq!(each.lock().unwrap().len(), 5);
    // Idle now; a new record is processed by the next run.
    assert_eq!(bus.run_until_idle().unwrap(), 0);
    send(&input, "a", 1, 50);
    assert_eq!(bus.step().unwrap(), 1);
    assert_eq!(drain(&out).len(), 6);
}

#[test]
fn branch_and_merge_and_for_each() {
    let bus = bus();
    let input = topic::<u32>(&bus, "in");
    let s = input.stream().unwrap();
    let parts = s.branch(vec![
        Box::new(|r| r.value % 15 == 0),
        Box::new(|r| r.value % 3 == 0),
        Box::new(|r| r.value % 5 == 0),
    ]);
    assert_eq!(parts.len(), 3);
    let fizz = parts[1].map(|_| "fizz".to_string());
    let buzz = parts[2].map(|_| "buzz".to_string());
    let both = parts[0].map(|_| "fizzbuzz".to_string());
    let words = fizz.merge(&buzz).unwrap().merge(&both).unwrap();
    let got = Arc::new(Mutex::new(BTreeMap::new()));
    let g = got.clone();
    words.for_each(move |r| {
        g.lock()
            .unwrap()
            .insert(r.offset * 2 + u64::from(r.partition), r.value.clone());
    });
    for v in 1..=15 {
        input.publish_message(Message::new(v).partition(0)).unwrap();
    }
    bus.run_until_idle().unwrap();
    let words: Vec<String> = got.lock().unwrap().values().cloned().collect();
    assert_eq!(
        words,
        ["fizz", "buzz", "fizz", "fizz", "buzz", "fizz", "fizzbuzz"]
    );
    // Streams of two topologies do not merge.
    let other = bus.topology_named("other").unwrap().stream(&input).unwrap();
    assert!(s.merge(&other).is_err());
}

#[test]
fn aggregations_make_queryable_tables_with_changelogs() {
    let bus = bus();
    let orders = topic::<u64>(&bus, "orders");
    let grouped = orders.stream().unwrap().group_by_key();
    let counts = grouped.store("counts").count().unwrap();
    let s = orders.stream().unwrap();
    let biggest = s.group_by_key().reduce(|a, b| *a.max(b)).unwrap();
    let summary = s
        .group_by_key()
        .aggregate(|| (0u64, 0u64), |acc, r| (acc.0 + 1, acc.1 + r.value))
        .unwrap();
    let updates = counts.to_stream();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    updates.for_each(move |r| l.lock().unwrap().push((key(r), r.value)));
    for (k, v) in [("ada", 5), ("bob", 7), ("ada", 3), ("ada", 9)] {
        send(&orders, k, v, 0);
    }
    orders.publish(100).unwrap(); // no key: dropped by aggregations
    bus.run_until_idle().unwrap();
    assert_eq!(
        (counts.get("ada"), counts.get("bob"), counts.get("cy")),
        (Some(3), Some(1), None)
    );
    assert_eq!(biggest.get("ada"), Some(9));
    assert_eq!(summary.get("ada"), Some((3, 17)));
    assert_eq!(counts.len(), 2);
    let entries: Vec<(String, u64)> = counts
        .entries()
        .into_iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
        .collect();
    assert_eq!(
        entries,
        vec![("ada".to_string(), 3), ("bob".to_string(), 1)]
    );
    let mut ada: Vec<u64> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k == "ada")
        .map(|(_, v)| *v)
        .collect();
    ada.sort_unstable();
    assert_eq!(ada, vec![1, 2, 3]);
    // The changelog is compacted: the latest count per key.
    assert_eq!(counts.changelog().name(), "streams-counts-changelog");
    assert!(counts.changelog().config().compacted);
    let latest: HashMap<String, Option<u64>> = drain(counts.changelog())
        .into_iter()
        .map(|r| (key(&r), r.value))
        .collect();
    assert_eq!(
        latest,
        HashMap::from([("ada".to_string(), Some(3)), ("bob".to_string(), Some(1))])
    );
    // A store name is used once per topology.
    assert!(orders
        .stream()
        .unwrap()
        .group_by_key()
        .store("counts")
        .count()
        .is_err());
}

#[test]
fn table_capacity_fails_the_record_that_adds_one_key_too_many() {
    let bus = bus();
    let t = topic::<u8>(&bus, "t");
    let counts = t
        .stream()
        .unwrap()
        .group_by_key()
        .capacity(2)
        .count()
        .unwrap();
    for k in ["a", "b", "a", "c"] {
        send(&t, k, 0, 0);
    }
    let err = loop {
        match bus.step() {
            Ok(0) => panic!("the third key must fail"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(key_of(&err), "c");
    assert!(matches!(err.cause, Cause::Output { .. }), "{err}");
    assert_eq!(
        (counts.get("a"), counts.get("b"), counts.get("c")),
        (Some(2), Some(1), None)
    );
}

fn key_of(e: &ringlet::StreamError) -> String {
    e.key
        .as_ref()
        .and_then(|k| k.as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn stream_table_joins() {
    let bus = bus();
    let customers = topic::<String>(&bus, "customers");
    let orders = topic::<u32>(&bus, "orders");
    let names = customers
        .stream()
        .unwrap()
        .group_by_key()
        .reduce(|_, new| new.clone())
        .unwrap();
    let inner = orders
        .stream()
        .unwrap()
        .join(&names, |r, name| format!("{name}:{}", r.value));
    let left = orders.stream().unwrap().left_join(&names, |r, name| {
        format!("{}:{}", name.map_or("?", |s| s.as_str()), r.value)
    });
    let (a, b) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let (a2, b2) = (a.clone(), b.clone());
    inner.for_each(move |r| a2.lock().unwrap().push(r.value.clone()));
    left.for_each(move |r| b2.lock().unwrap().push(r.value.clone()));
    send(&customers, "c1", "Ada".to_string(), 0);
    bus.run_until_idle().unwrap();
    send(&orders, "c1", 10, 1);
    send(&orders, "c2", 20, 2);
    bus.run_until_idle().unwrap();
    send(&customers, "c1", "Ada L.".to_string(), 3);
    bus.run_until_idle().unwrap();
    send(&orders, "c1", 30, 4);
    bus.run_until_idle().unwrap();
    assert_eq!(*a.lock().unwrap(), vec!["Ada:10", "Ada L.:30"]);
    let mut l = b.lock().unwrap().clone();
    l.sort();
    assert_eq!(l, vec!["?:20", "Ada L.:30", "Ada:10"]);
}

/// The window model: for each record in order, stream time = max timestamp; a
/// time window is accepted while `end + grace > stream time`.
fn model_time(
    windows: &[(i64, i64)],
    grace: i64,
    records: &[(String, i64)],
) -> (BTreeMap<(String, i64), u64>, u64) {
    let _ = windows;
    let mut st = i64::MIN;
    let mut out = BTreeMap::new();
    let mut dropped = 0;
    for (k, ts) in records {
        st = st.max(*ts);
        for &(size, adv) in windows {
            // Every window [s, s + size) with s a multiple of adv containing ts.
            let mut s = ts.div_euclid(adv) * adv;
            while s > ts - size {
                if s + size + grace > st {
                    *out.entry((k.clone(), s)).or_insert(0) += 1;
                } else {
                    dropped += 1;
                }
                s -= adv;
            }
        }
    }
    (out, dropped)
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn random_records(seed: u64, n: usize) -> Vec<(String, i64)> {
    let mut rng = Lcg(seed);
    let mut t = 0i64;
    (0..n)
        .map(|_| {
            // Whole seconds, so records fall on window boundaries often.
            t += (rng.next() % 5) as i64 * 1000;
            // Some records are late: up to 15 s back.
            let late = if rng.next() % 4 == 0 {
                (rng.next() % 16) as i64 * 1000
            } else {
                0
            };
            (format!("k{}", rng.next() % 3), (t - late).max(0))
        })
        .collect()
}

#[test]
fn time_windows_match_the_model() {
    for (seed, (size, adv, grace)) in [
        (1u64, (10_000i64, 10_000i64, 0i64)),
        (2, (10_000, 10_000, 5_000)),
        (3, (10_000, 3_000, 2_000)),
        (4, (7_000, 7_000, 20_000)),
    ] {
        let bus = bus();
        let t = bus
            .topic::<u8>("clicks", TopicConfig::default().capacity(4096))
            .unwrap();
        let w = if size == adv {
            Windows::tumbling(Duration::from_millis(size as u64))
        } else {
            Windows::hopping(
                Duration::from_millis(size as u64),
                Duration::from_millis(adv as u64),
            )
        }
        .grace(Duration::from_millis(grace as u64));
        let table = t
            .stream()
            .unwrap()
            .group_by_key()
            .window(w)
            .count()
            .unwrap();
        let records = random_records(seed, 400);
        for (k, ts) in &records {
            send(&t, k, 0, *ts);
        }
        bus.run_until_idle().unwrap();
        let (want, dropped) = model_time(&[(size, adv)], grace, &records);
        let got: BTreeMap<(String, i64), u64> = table
            .entries()
            .into_iter()
            .map(|(k, w, v)| {
                assert_eq!(w.end - w.start, size);
                ((k.as_str().unwrap().to_string(), w.start), v)
            })
            .collect();
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(table.dropped_late(), dropped, "seed {seed}");
        assert!(
            dropped > 0 || grace >= 20_000,
            "the data should have late records"
        );
        assert_eq!(table.stream_time(), records.iter().map(|r| r.1).max());
    }
}

#[test]
fn window_boundaries_and_grace() {
    let bus = bus();
    let t = bus.topic::<u8>("t", TopicConfig::default()).unwrap();
    let table = t
        .stream()
        .unwrap()
        .group_by_key()
        .window(Windows::tumbling(Duration::from_secs(60)).grace(Duration::from_secs(10)))
        .count()
        .unwrap();
    let updates = Arc::new(Mutex::new(Vec::new()));
    let u = updates.clone();
    table
        .to_stream()
        .for_each(move |r: &Record<Windowed<u64>>| {
            u.lock().unwrap().push((r.value.window, r.value.value))
        });
    for ts in [
        0, 59_999, 60_000, 69_999, 50_000, /* window 0 open: 60 000 + 10 000 > 69 999 */
        70_000, 59_000, /* now late */
    ] {
        send(&t, "k", 0, ts);
    }
    bus.run_until_idle().unwrap();
    assert_eq!(table.get("k", 0), Some(3));
    assert_eq!(table.get("k", 60_000), Some(3));
    assert_eq!(table.dropped_late(), 1);
    assert_eq!(
        table.fetch("k"),
        vec![
            (
                Window {
                    start: 0,
                    end: 60_000
                },
                3
            ),
            (
                Window {
                    start: 60_000,
                    end: 120_000
                },
                3
            )
        ]
    );
    assert_eq!(updates.lock().unwrap().len(), 6);
}

/// Session model: sessions per key; a record joins (and merges) every session
/// within `gap`; late when the merged session ends before stream time − grace.
type Sessions = BTreeMap<(String, i64), (i64, u64)>;

fn model_sessions(gap: i64, grace: i64, records: &[(String, i64)]) -> (Sessions, u64) {
    let mut st = i64::MIN;
    let mut sessions: BTreeMap<String, Vec<(i64, i64, u64)>> = BTreeMap::new();
    let mut dropped = 0;
    for (k, ts) in records {
        st = st.max(*ts);
        let list = sessions.entry(k.clone()).or_default();
        let (near, far): (Vec<_>, Vec<_>) = list
            .iter()
            .copied()
            .partition(|(s, e, _)| s - gap <= *ts && *ts <= e + gap);
        let start = near.iter().map(|x| x.0).chain([*ts]).min().unwrap();
        let end = near.iter().map(|x| x.1).chain([*ts]).max().unwrap();
        if end + grace < st {
            dropped += 1;
            continue;
        }
        let count = near.iter().map(|x| x.2).sum::<u64>() + 1;
        *list = far;
        list.push((start, end, count));
    }
    let out = sessions
        .into_iter()
        .flat_map(|(k, l)| l.into_iter().map(move |(s, e, c)| ((k.clone(), s), (e, c))))
        .collect();
    (out, dropped)
}

#[test]
fn session_windows_match_the_model() {
    for (seed, gap, grace) in [(5u64, 5_000i64, 0i64), (6, 3_000, 4_000), (7, 8_000, 1_000)] {
        let bus = bus();
        let t = bus
            .topic::<u8>("clicks", TopicConfig::default().capacity(4096))
            .unwrap();
        let w = Windows::session(Duration::from_millis(gap as u64))
            .grace(Duration::from_millis(grace as u64));
        let table = t
            .stream()
            .unwrap()
            .group_by_key()
            .window(w)
            .count()
            .unwrap();
        let records = random_records(seed, 300);
        for (k, ts) in &records {
            send(&t, k, 0, *ts);
        }
        bus.run_until_idle().unwrap();
        let (want, dropped) = model_sessions(gap, grace, &records);
        let got: BTreeMap<(String, i64), (i64, u64)> = table
            .entries()
            .into_iter()
            .map(|(k, w, v)| ((k.as_str().unwrap().to_string(), w.start), (w.end, v)))
            .collect();
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(table.dropped_late(), dropped, "seed {seed}");
    }
    // Session aggregates need a merge.
    let bus = bus();
    let t = bus.topic::<u8>("t", TopicConfig::default()).unwrap();
    let g = t
        .stream()
        .unwrap()
        .group_by_key()
        .window(Windows::session(Duration::from_secs(1)));
    assert!(g.aggregate(|| 0u64, |a, _| a + 1).is_err());
    let g = t
        .stream()
        .unwrap()
        .group_by_key()
        .store("s2")
        .window(Windows::session(Duration::from_secs(2)));
    let sums = g
        .aggregate_merging(|| 0u64, |a, r| a + u64::from(r.value), |a, b| a + b)
        .unwrap();
    for (v, ts) in [(1u8, 0i64), (2, 3_000), (4, 1_500)] {
        send(&t, "k", v, ts);
    }
    bus.run_until_idle().unwrap();
    assert_eq!(
        sums.entries()
            .into_iter()
            .map(|(_, w, v)| (w, v))
            .collect::<Vec<_>>(),
        vec![(
            Window {
                start: 0,
                end: 3_000
            },
            7
        )]
    );
}

#[test]
fn window_retention_forgets_old_windows() {
    let bus = bus();
    let t = bus.topic::<u8>("t", TopicConfig::default()).unwrap();
    let w = Windows::tumbling(Duration::from_secs(10)).retention(Duration::from_secs(30));
    let table = t
        .stream()
        .unwrap()
        .group_by_key()
        .window(w)
        .count()
        .unwrap();
    for ts in [0, 10_000, 20_000, 30_000, 45_000] {
        send(&t, "k", 0, ts);
    }
    bus.run_until_idle().unwrap();
    // Window [0, 10 s) ended at 10 s: forgotten once stream time reaches 40 s.
    let starts: Vec<i64> = table.fetch("k").into_iter().map(|(w, _)| w.start).collect();
    assert_eq!(starts, vec![10_000, 20_000, 30_000, 40_000]);
}

#[derive(Debug)]
struct Bad(u64);
impl std::fmt::Display for Bad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad value {}", self.0)
    }
}
impl std::error::Error for Bad {}

#[test]
fn a_failing_callback_stops_at_its_record_and_nothing_it_staged_is_applied() {
    let bus = bus();
    let input = bus.topic::<u64>("in", TopicConfig::default()).unwrap();
    let out = bus.topic::<u64>("out", TopicConfig::default()).unwrap();
    let broken = Arc::new(AtomicBool::new(true));
    let b = broken.clone();
    let s = input.stream().unwrap();
    let counts = s.group_by_key().count().unwrap();
    s.to(&out).unwrap();
    let checked = s
        .try_map(move |r| {
            if r.value == 13 && b.load(Ordering::Relaxed) {
                Err(Box::new(Bad(r.value)) as _)
            } else {
                Ok(r.value * 2)
            }
        })
        .named("check");
    let totals = checked
        .group_by_key()
        .store("totals")
        .reduce(|a, b| a + b)
        .unwrap();
    for v in [1, 2, 13, 4] {
        send(&input, "k", v, 0);
    }
    let err = bus.run_until_idle().unwrap_err();
    assert_eq!(
        (
            err.node.as_str(),
            err.topic.as_str(),
            err.partition,
            err.offset
        ),
        ("check", "in", 0, 2)
    );
    assert_eq!(key_of(&err), "k");
    assert_eq!(
        err.to_string(),
        "check failed on record in[0]@2 (key \"k\"): bad value 13"
    );
    assert!(std::error::Error::source(&err)
        .unwrap()
        .downcast_ref::<Bad>()
        .is_some());
    // Records before it: applied and committed. The failed one: nothing applied —
    // neither the count nor the output the sibling branch staged.
    assert_eq!((counts.get("k"), totals.get("k")), (Some(2), Some(6)));
    assert_eq!(drain(&out).len(), 2);
    assert_eq!(bus.topology().describe().nodes.len(), 5);
    assert_eq!(input.group("streams").unwrap().committed(), vec![Some(2)]);
    // It is not skipped: the next run meets it again…
    assert!(bus.run_until_idle().is_err());
    // …until it can be processed.
    broken.store(false, Ordering::Relaxed);
    assert_eq!(bus.run_until_idle().unwrap(), 2);
    assert_eq!((counts.get("k"), totals.get("k")), (Some(4), Some(40)));
    assert_eq!(drain(&out).len(), 4);
    assert_eq!(input.group("streams").unwrap().committed(), vec![Some(4)]);
}

#[test]
fn panics_are_failures_too_and_skip_goes_on() {
    let bus = bus();
    let input = bus.topic::<u64>("in", TopicConfig::default()).unwrap();
    let s = input.stream().unwrap();
    let counts = s
        .map(|r| {
            assert!(r.value != 3, "three is not allowed");
            r.value
        })
        .group_by_key()
        .count()
        .unwrap();
    for v in 1..=5 {
        send(&input, "k", v, 0);
    }
    let err = bus.topology().run_until_idle().unwrap_err();
    assert!(
        matches!(&err.cause, Cause::Panic(m) if m.contains("three is not allowed")),
        "{err}"
    );
    assert_eq!(counts.get("k"), Some(2));
    bus.topology().on_error(OnError::Skip);
    assert_eq!(bus.run_until_idle().unwrap(), 3);
    assert_eq!(counts.get("k"), Some(4));
    let errors = bus.topology().errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].offset, 2);
}

#[test]
fn a_topology_rebuilt_resumes_from_committed_offsets_with_its_tables_restored() {
    let bus = bus();
    let input = bus
        .topic::<u64>("in", TopicConfig::default().partitions(3).capacity(10_000))
        .unwrap();
    let build = |bus: &Bus| {
        let topo = bus.topology_named("app").unwrap();
        let counts = topo
            .stream(&input)
            .unwrap()
            .group_by_key()
            .store("c")
            .count()
            .unwrap();
        (topo, counts)
    };
    let mut want: HashMap<String, u64> = HashMap::new();
    let mut rng = Lcg(9);
    let mut publish = |n: usize, want: &mut HashMap<String, u64>| {
        for _ in 0..n {
            let k = format!("k{}", rng.next() % 7);
            *want.entry(k.clone()).or_default() += 1;
            send(&input, &k, 0, 0);
        }
    };
    let (topo, counts) = build(&bus);
    publish(500, &mut want);
    topo.step().unwrap(); // part of it
    topo.close();
    assert_eq!(topo.step().unwrap(), 0);
    publish(500, &mut want);
    drop(counts);
    let (topo2, counts2) = build(&bus);
    assert!(
        !counts2.is_empty(),
        "restored from the changelog before any step"
    );
    topo2.run_until_idle().unwrap();
    for (k, n) in &want {
        assert_eq!(counts2.get(k.as_str()), Some(*n), "{k}");
    }
    assert_eq!(input.group("app").unwrap().lag(), vec![0, 0, 0]);
}

#[test]
fn spawned_topologies_process_as_records_arrive_and_stop_cleanly() {
    let bus = Bus::new();
    let input = bus
        .topic::<u64>(
            "in",
            TopicConfig::default()
                .partitions(2)
                .capacity(1 << 16)
                .on_full(OnFull::Block),
        )
        .unwrap();
    let topo = bus.topology_named("worker").unwrap();
    let sums = topo
        .stream(&input)
        .unwrap()
        .group_by_key()
        .reduce(|a, b| a + b)
        .unwrap();
    let thread = topo.spawn().unwrap();
    let n = 20_000u64;
    let producer = {
        let input = input.clone();
        std::thread::spawn(move || {
            for i in 0..n {
                input
                    .publish_message(Message::new(i).key(if i % 2 == 0 { "even" } else { "odd" }))
                    .unwrap();
            }
        })
    };
    producer.join().unwrap();
    let want_even: u64 = (0..n).filter(|i| i % 2 == 0).sum();
    let want_odd: u64 = (0..n).filter(|i| i % 2 == 1).sum();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (sums.get("even"), sums.get("odd")) != (Some(want_even), Some(want_odd)) {
        assert!(
            std::time::Instant::now() < deadline,
            "every record is processed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    thread.stop().unwrap();
    assert_eq!(input.group("worker").unwrap().lag(), vec![0, 0]);
    // Stopped: nothing more is processed.
    input.publish_message(Message::new(1).key("odd")).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(sums.get("odd"), Some(want_odd));
}

#[test]
fn a_spawned_topology_ends_with_the_error_that_stopped_it() {
    let bus = Bus::new();
    let input = bus.topic::<u64>("in", TopicConfig::default()).unwrap();
    let topo = bus.topology_named("t").unwrap();
    topo.stream(&input).unwrap().try_for_each(|r| {
        if r.value == 2 {
            Err("two".into())
        } else {
            Ok(())
        }
    });
    let th = topo.spawn().unwrap();
    for v in 0..4 {
        input.publish(v).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !th.is_finished() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(th.stop().unwrap_err().offset, 2);
}

#[test]
fn describe_in_text_mermaid_and_svg() {
    let bus = bus();
    let clicks = topic::<String>(&bus, "clicks");
    let out = topic::<String>(&bus, "out");
    let s = clicks
        .stream()
        .unwrap()
        .filter(|r| !r.value.is_empty())
        .named("non-empty");
    s.map(|r| r.value.to_uppercase()).to(&out).unwrap();
    s.group_by_key()
        .store("per-user")
        .window(Windows::tumbling(Duration::from_secs(60)))
        .count()
        .unwrap();
    let d = bus.topology().describe();
    let text = d.to_string();
    assert!(text.starts_with("Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [clicks])\n      --> non-empty\n"), "{text}");
    assert!(text.contains("    Processor: non-empty (stores: [])\n      --> KSTREAM-MAPVALUES-0000000002, KSTREAM-WINDOW-AGGREGATE-0000000004\n      <-- KSTREAM-SOURCE-0000000000\n"), "{text}");
    assert!(text.contains("    Sink: KSTREAM-SINK-0000000003 (topic: out)\n      <-- KSTREAM-MAPVALUES-0000000002\n"), "{text}");
    assert!(
        text.contains("(stores: [per-user]) (tumbling 60000 ms, grace 0 ms)"),
        "{text}"
    );
    assert_eq!(d.subtopologies, 1);
    let m = d.to_mermaid();
    assert!(m.starts_with("flowchart LR\n"));
    assert!(
        m.contains("t0([\"clicks\"])")
            && m.contains("t0 --> n0")
            && m.contains("n3 --> t1")
            && m.contains("n4 -.- s0"),
        "{m}"
    );
    let svg = d.to_svg();
    assert!(
        svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.matches("<rect").count() == 5,
        "{svg}"
    );
    // A second, unconnected pipeline is a second sub-topology.
    topic::<u8>(&bus, "other")
        .stream()
        .unwrap()
        .for_each(|_| {});
    assert_eq!(bus.topology().describe().subtopologies, 2);
    assert_eq!(
        serde_json::to_value(bus.topology().describe()).unwrap()["nodes"][1]["name"],
        "non-empty"
    );
}

#[test]
fn runs_are_deterministic_under_a_manual_clock() {
    let run = || {
        let clock = ManualClock::new();
        let bus = Bus::builder().clock(clock.clone()).journal(100_000).build();
        let t = bus
            .topic::<u64>("t", TopicConfig::default().partitions(3))
            .unwrap();
        let out = bus
            .topic::<u64>("out", TopicConfig::default().partitions(2))
            .unwrap();
        let s = t.stream().unwrap();
        s.map(|r| r.value * 10).to(&out).unwrap();
        let w = s
            .group_by_key()
            .window(Windows::hopping(
                Duration::from_secs(10),
                Duration::from_secs(5),
            ))
            .count()
            .unwrap();
        let mut rng = Lcg(42);
        for _ in 0..200 {
            clock.advance(Duration::from_millis(rng.next() % 500));
            t.publish_message(Message::new(rng.next()).key(format!("k{}", rng.next() % 5)))
                .unwrap();
            if rng.next() % 10 == 0 {
                bus.step().unwrap();
            }
        }
        bus.run_until_idle().unwrap();
        let journal: Vec<String> = drain(
            &bus.get_topic::<ringlet::journal::Event>("__journal")
                .unwrap(),
        )
        .into_iter()
        .map(|r| serde_json::to_string(&r.value).unwrap())
        .collect();
        (w.entries(), journal)
    };
    let (a, b) = (run(), run());
    assert!(!a.0.is_empty());
    assert_eq!(a, b);
}

#[test]
fn callbacks_may_call_back_into_their_topology() {
    let bus = bus();
    let input = topic::<u32>(&bus, "reentrant-in");
    let topo = bus.topology();
    let src = input.stream().unwrap();
    let counted = src.group_by_key().count().unwrap();
    let late = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    let (t, s, b, i) = (topo.clone(), src.clone(), bus.clone(), input.clone());
    let (late2, seen2) = (late.clone(), seen.clone());
    src.for_each(move |r| {
        seen2.fetch_add(1, Ordering::SeqCst);
        // Stepping again from inside is a no-op; errors and queries do not block.
        assert_eq!(b.run_until_idle().unwrap(), 0);
        assert!(t.errors().is_empty());
        let _ = counted.get("k");
        // A running topology gains no sources.
        assert!(matches!(
            t.stream(&i),
            Err(ringlet::Error::ConfigError { .. })
        ));
        match r.value {
            // Operators added from inside join before the next record.
            1 => {
                let l = late2.clone();
                s.for_each(move |_| {
                    l.fetch_add(1, Ordering::SeqCst);
                });
            }
            // Closing from inside: this record completes, the rest waits.
            3 => t.close(),
            _ => {}
        }
    });
    for v in 1..=5 {
        send(&input, "k", v, i64::from(v));
    }
    assert_eq!(bus.run_until_idle().unwrap(), 3);
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!(late.load(Ordering::SeqCst), 2);
    assert!(topo.is_closed());
    assert_eq!(bus.run_until_idle().unwrap(), 0);
    // The records after the close are read by the topology built again.
    let again = bus.topology();
    let n = Arc::new(AtomicU64::new(0));
    let n2 = n.clone();
    input.stream().unwrap().for_each(move |_| {
        n2.fetch_add(1, Ordering::SeqCst);
    });
    bus.run_until_idle().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2);
    assert_eq!(again.name(), "streams");
}

#[test]
fn windows_of_zero_size_or_too_many_per_record_are_config_errors() {
    use ringlet::streams::{Windows, MAX_WINDOWS_PER_RECORD};
    use std::time::Duration;
    let bus = ringlet::Bus::new();
    let t = bus
        .topic::<u32>("w", ringlet::TopicConfig::default())
        .unwrap();
    let count = |w: Windows| t.stream().unwrap().group_by_key().window(w).count();
    let err = |w: Windows| match count(w) {
        Err(ringlet::Error::ConfigError { reason, .. }) => reason,
        other => panic!("expected a ConfigError, got {other:?}"),
    };
    assert!(err(Windows::tumbling(Duration::ZERO)).contains("at least 1 ms"));
    assert!(err(Windows::hopping(Duration::from_secs(4), Duration::ZERO)).contains("advance"));
    assert!(err(Windows::session(Duration::ZERO)).contains("gap"));
    // A million-second window advancing every millisecond: refused, not allocated.
    let huge = err(Windows::hopping(
        Duration::from_secs(1_000_000),
        Duration::from_millis(1),
    ));
    assert!(huge.contains(&MAX_WINDOWS_PER_RECORD.to_string()), "{huge}");
    // At the limit it works.
    let ok = Windows::hopping(
        Duration::from_millis(MAX_WINDOWS_PER_RECORD as u64),
        Duration::from_millis(1),
    );
    assert!(count(ok).is_ok());
}

#[test]
fn a_stream_written_back_to_what_it_reads_is_a_config_error() {
    let bus = ringlet::Bus::new();
    let a = bus
        .topic::<u32>("a", ringlet::TopicConfig::default())
        .unwrap();
    let b = bus
        .topic::<u32>("b", ringlet::TopicConfig::default())
        .unwrap();
    let c = bus
        .topic::<u32>("c", ringlet::TopicConfig::default())
        .unwrap();
    // Directly: a -> a.
    let looped = a.stream().unwrap().map(|r| r.value + 1).to(&a);
    assert!(
        matches!(looped, Err(ringlet::Error::ConfigError { reason, .. }) if reason.contains("\"a\""))
    );
    // Through the topology: a -> b, then b -> c is fine, but c -> a loops.
    a.stream().unwrap().to(&b).unwrap();
    b.stream().unwrap().to(&c).unwrap();
    let back = c.stream().unwrap().to(&a);
    assert!(
        matches!(back, Err(ringlet::Error::ConfigError { reason, .. }) if reason.contains("feeds"))
    );
    // Nothing was added for the refused sinks: the pipeline runs and ends.
    a.publish(1).unwrap();
    assert_eq!(bus.run_until_idle().unwrap(), 3);
}

#[test]
fn a_topology_arms_no_timer_for_its_members() {
    let bus = ringlet::Bus::new();
    let t = bus
        .topic::<u32>("quiet", ringlet::TopicConfig::default())
        .unwrap();
    let counts = t
        .stream()
        .unwrap()
        .key_by(|r| r.value.to_string())
        .group_by_key()
        .count()
        .unwrap();
    t.publish(1).unwrap();
    bus.run_until_idle().unwrap();
    assert_eq!(counts.get("1"), Some(1));
    assert_eq!(bus.next_deadline(), None, "nothing is due: no timer to arm");
}

#[test]
fn a_stream_added_after_records_were_processed_starts_at_the_topics_earliest() {
    let bus = bus();
    let orders = topic::<u64>(&bus, "orders");
    // A first notebook cell: one aggregation, run.
    let counts = orders.stream().unwrap().group_by_key().count().unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    orders.stream().unwrap().for_each(move |_| {
        s.fetch_add(1, Ordering::Relaxed);
    });
    for (k, v) in [("ada", 5), ("bob", 7), ("ada", 3)] {
        send(&orders, k, v, 0);
    }
    bus.run_until_idle().unwrap();
    assert_eq!(counts.get("ada"), Some(2));
    // A later cell: a second aggregation on the same topic counts everything.
    let totals = orders
        .stream()
        .unwrap()
        .group_by_key()
        .reduce(|a, b| a + b)
        .unwrap();
    send(&orders, "ada", 1, 0);
    bus.run_until_idle().unwrap();
    assert_eq!(
        totals.get("ada"),
        Some(9),
        "the new stream read from earliest"
    );
    assert_eq!(totals.get("bob"), Some(7));
    assert_eq!(
        counts.get("ada"),
        Some(3),
        "the first one counted each record once"
    );
    assert_eq!(seen.load(Ordering::Relaxed), 4);
    // Streams asked for before anything was read share one source.
    let d = bus.topology().describe().to_string();
    assert_eq!(d.matches("Source: KSTREAM-SOURCE").count(), 2, "{d}");
}

#[test]
fn an_interrupt_stops_the_run_under_skip_and_its_record_is_read_again() {
    let bus = bus();
    let input = bus.topic::<u64>("in", TopicConfig::default()).unwrap();
    let interrupt = Arc::new(AtomicBool::new(true));
    let i = interrupt.clone();
    let counts = input
        .stream()
        .unwrap()
        .try_map(move |r| {
            if r.value == 3 && i.swap(false, Ordering::Relaxed) {
                return Err(ringlet::streams::Interrupt::boxed("Ctrl-C".into()));
            }
            Ok(r.value)
        })
        .group_by_key()
        .count()
        .unwrap();
    bus.topology().on_error(OnError::Skip);
    for v in 1..=5 {
        send(&input, "k", v, 0);
    }
    let err = bus.run_until_idle().unwrap_err();
    assert!(
        matches!(&err.cause, Cause::Interrupted(e) if e.to_string() == "Ctrl-C"),
        "{err}"
    );
    assert_eq!(err.offset, 2);
    assert_eq!(counts.get("k"), Some(2));
    assert!(bus.topology().errors().is_empty(), "not a failed record");
    assert_eq!(bus.run_until_idle().unwrap(), 3, "read again");
    assert_eq!(counts.get("k"), Some(5));
    // `go_on` is asked before each step.
    send(&input, "k", 6, 0);
    assert_eq!(bus.run_until_idle_while(|| false).unwrap(), 0);
    assert_eq!(counts.get("k"), Some(5));
}

/// Runs `f` on a thread and waits up to 10 s for it: a deadlock fails the test
/// instead of hanging it.
fn within_10s(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("it finished (no deadlock)");
}

#[test]
fn stream_thread_stop_from_its_own_callback_does_not_join_itself() {
    within_10s(|| {
        let bus = Bus::new();
        let input = bus.topic::<u64>("in", TopicConfig::default()).unwrap();
        let topo = bus.topology_named("self-stop").unwrap();
        let slot: Arc<Mutex<Option<ringlet::streams::StreamThread>>> = Arc::default();
        let s = slot.clone();
        let stopped = Arc::new(AtomicU64::new(0));
        let n = stopped.clone();
        topo.stream(&input).unwrap().for_each(move |_| {
            if let Some(th) = s.lock().unwrap().take() {
                th.stop().unwrap();
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        *slot.lock().unwrap() = Some(topo.spawn().unwrap());
        input.publish(1).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while stopped.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            stopped.load(Ordering::SeqCst),
            1,
            "stop returned on the stream thread"
        );
    });
}

#[test]
fn stream_thread_stop_from_a_callback_in_run_until_idle_does_not_deadlock() {
    within_10s(|| {
        let bus = Bus::new();
        let input = bus.topic::<u64>("in", TopicConfig::default()).unwrap();
        let topo = bus.topology_named("stop-in-step").unwrap();
        let t = topo.clone();
        let stopped = Arc::new(AtomicU64::new(0));
        let n = stopped.clone();
        topo.stream(&input).unwrap().for_each(move |_| {
            if n.load(Ordering::SeqCst) == 0 {
                // The thread's first step waits for the runner this step holds.
                let th = t.spawn().unwrap();
                std::thread::sleep(Duration::from_millis(50));
                th.stop().unwrap();
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        input.publish(1).unwrap();
        topo.run_until_idle().unwrap();
        assert_eq!(stopped.load(Ordering::SeqCst), 1);
    });
}
