//! Event sourcing: the store's optimistic concurrency, keep semantics, restart;
//! aggregates with snapshots; a CQRS projection.

use std::sync::Arc;

use ringlet::eventstore::{AppendError, ExecuteError, VERSION_HEADER};
use ringlet::{Aggregate, Aggregates, Bus, Error, Start, TopicConfig};

#[derive(Clone, Debug, PartialEq)]
enum Ev {
    Added(u32),
    Removed(u32),
}

#[derive(Clone, Debug)]
enum Cmd {
    Add(u32),
    Remove(u32),
}

#[derive(Clone, Default, Debug)]
struct Cart {
    items: Vec<u32>,
    applied: u64,
}

impl Aggregate for Cart {
    type Event = Ev;
    type Command = Cmd;
    type Error = String;
    fn apply(&mut self, e: &Ev) {
        self.applied += 1;
        match e {
            Ev::Added(i) => self.items.push(*i),
            Ev::Removed(i) => self.items.retain(|x| x != i),
        }
    }
    fn handle(&self, c: Cmd) -> Result<Vec<Ev>, String> {
        match c {
            Cmd::Add(i) => Ok(vec![Ev::Added(i)]),
            Cmd::Remove(i) if self.items.contains(&i) => Ok(vec![Ev::Removed(i)]),
            Cmd::Remove(i) => Err(format!("{i} is not in the cart")),
        }
    }
}

#[test]
fn append_with_optimistic_concurrency() {
    let bus = Bus::new();
    let store = bus
        .event_store::<Ev>("carts", TopicConfig::default().partitions(3))
        .unwrap();
    assert_eq!(
        store
            .append("c1", [Ev::Added(1), Ev::Added(2)], Some(0))
            .unwrap(),
        2
    );
    let err = store.append("c1", [Ev::Added(3)], Some(1)).unwrap_err();
    assert!(
        matches!(
            &err,
            AppendError::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "version conflict on \"c1\": expected version 1, it is at 2"
    );
    assert_eq!(err.into_events(), vec![Ev::Added(3)]);
    assert_eq!(store.append("c1", [Ev::Removed(1)], None).unwrap(), 3);
    assert_eq!(store.append("c2", [Ev::Added(9)], Some(0)).unwrap(), 1);
    assert_eq!(
        store.load("c1"),
        vec![Ev::Added(1), Ev::Added(2), Ev::Removed(1)]
    );
    assert_eq!(store.version("c1"), 3);
    assert_eq!(store.version("nobody"), 0);
    assert_eq!(store.ids(), vec!["c1", "c2"]);
    let recs = store.load_after("c1", 1);
    assert_eq!(
        recs.iter()
            .map(|r| r.headers.get(VERSION_HEADER).unwrap().to_vec())
            .collect::<Vec<_>>(),
        vec![b"2".to_vec(), b"3".to_vec()]
    );
    // The same store by name; its topic is a keep topic.
    let again = bus
        .event_store::<Ev>("carts", TopicConfig::default().partitions(3))
        .unwrap();
    assert_eq!(again.version("c1"), 3);
    assert_eq!(store.topic().config().on_full, ringlet::OnFull::Keep);
    assert!(matches!(
        bus.event_store::<Ev>("x", TopicConfig::default().compacted(true)),
        Err(Error::ConfigError { .. })
    ));
}

#[test]
fn a_full_store_refuses_whole_appends_and_never_overwrites() {
    let bus = Bus::new();
    let store = bus
        .event_store::<u32>("s", TopicConfig::default().capacity(3))
        .unwrap();
    store.append("a", [1, 2], Some(0)).unwrap();
    assert_eq!(
        store.append("a", [3, 4], Some(2)),
        Err(AppendError::Full(vec![3, 4]))
    );
    assert_eq!(store.version("a"), 2);
    store.append("a", [3], Some(2)).unwrap();
    assert_eq!(store.load("a"), vec![1, 2, 3]);
    store.topic().close();
    assert_eq!(
        store.append("b", [1], None),
        Err(AppendError::Closed(vec![1]))
    );
}

#[test]
fn concurrent_writers_never_lose_or_duplicate_events() {
    let bus = Bus::new();
    let store = bus
        .event_store::<Ev>("carts", TopicConfig::default().capacity(100_000))
        .unwrap();
    let carts = Arc::new(Aggregates::<Cart>::new(&store).retries(1_000));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let carts = carts.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    carts.execute("shared", Cmd::Add(t * 1000 + i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (cart, version) = carts.load("shared");
    assert_eq!((cart.items.len(), version), (1000, 1000));
    let mut items = cart.items.clone();
    items.sort_unstable();
    items.dedup();
    assert_eq!(items.len(), 1000);
}

#[test]
fn aggregates_load_from_snapshots_and_reject_commands() {
    let bus = Bus::new();
    let store = bus
        .event_store::<Ev>("carts", TopicConfig::default().capacity(10_000))
        .unwrap();
    let carts = Aggregates::<Cart>::new(&store).snapshot_every(10).unwrap();
    for i in 0..25 {
        carts.execute("c", Cmd::Add(i)).unwrap();
    }
    assert!(
        matches!(carts.execute("c", Cmd::Remove(99)), Err(ExecuteError::Rejected(m)) if m == "99 is not in the cart")
    );
    assert_eq!(carts.snapshot_version("c"), Some(20));
    let (cart, version) = carts.load("c");
    assert_eq!((cart.items.len(), version), (25, 25));
    // Only the 5 events after the snapshot were applied on top of it (the
    // snapshot's state had applied 20).
    assert_eq!(cart.applied, 25);
    let fresh = Aggregates::<Cart>::new(&store);
    assert_eq!(fresh.load("c").0.applied, 25);
    // Reopened: the snapshots are restored from their compacted topic.
    let reopened = Aggregates::<Cart>::new(&store).snapshot_every(10).unwrap();
    assert_eq!(reopened.snapshot_version("c"), Some(20));
    assert!(
        bus.get_topic::<Option<(u64, Cart)>>("carts.snapshots")
            .unwrap()
            .config()
            .compacted
    );
    assert!(Aggregates::<Cart>::new(&store).snapshot_every(0).is_err());
}

#[test]
fn the_store_index_is_rebuilt_from_its_topic() {
    let bus = Bus::new();
    let topic = bus
        .topic::<Ev>(
            "carts",
            TopicConfig::default()
                .partitions(2)
                .on_full(ringlet::OnFull::Keep),
        )
        .unwrap();
    for (id, e) in [
        ("a", Ev::Added(1)),
        ("b", Ev::Added(2)),
        ("a", Ev::Removed(1)),
    ] {
        topic
            .publish_message(ringlet::Message::new(e).key(id))
            .unwrap();
    }
    let store = bus
        .event_store::<Ev>("carts", TopicConfig::default().partitions(2))
        .unwrap();
    assert_eq!((store.version("a"), store.version("b")), (2, 1));
    assert_eq!(store.load("a"), vec![Ev::Added(1), Ev::Removed(1)]);
}

#[test]
fn cqrs_commands_through_aggregates_queries_through_a_projection() {
    let bus = Bus::builder().clock(ringlet::ManualClock::new()).build();
    let store = bus
        .event_store::<Ev>(
            "carts",
            TopicConfig::default().partitions(2).capacity(10_000),
        )
        .unwrap();
    let carts = Aggregates::<Cart>::new(&store);
    // Read model: number of items per cart, maintained from the events.
    let sizes = store
        .topic()
        .stream()
        .unwrap()
        .group_by_key()
        .store("cart-sizes")
        .aggregate(
            || 0i64,
            |n, r| match r.value {
                Ev::Added(_) => n + 1,
                Ev::Removed(_) => n - 1,
            },
        )
        .unwrap();
    carts.execute("c1", Cmd::Add(1)).unwrap();
    carts.execute("c1", Cmd::Add(2)).unwrap();
    carts.execute("c2", Cmd::Add(3)).unwrap();
    assert_eq!(sizes.get("c1"), None); // not projected yet
    bus.run_until_idle().unwrap();
    assert_eq!((sizes.get("c1"), sizes.get("c2")), (Some(2), Some(1)));
    carts.execute("c1", Cmd::Remove(1)).unwrap();
    bus.run_until_idle().unwrap();
    assert_eq!(sizes.get("c1"), Some(1));
    let mut sub = store.topic().subscribe(Start::Earliest).unwrap();
    assert_eq!(sub.try_recv_batch(10).unwrap().len(), 4);
}

/// An aggregate whose `apply` can fail (as a Python or JS object's method can).
#[derive(Clone, Default)]
struct Picky(u32);

impl ringlet::Aggregate for Picky {
    type Event = u32;
    type Command = u32;
    type Error = String;
    fn apply(&mut self, e: &u32) {
        self.0 += e;
    }
    fn try_apply(&mut self, e: &u32) -> Result<(), String> {
        if *e == 13 {
            return Err("13 cannot be applied".into());
        }
        self.apply(e);
        Ok(())
    }
    fn handle(&self, c: u32) -> Result<Vec<u32>, String> {
        Ok(vec![c])
    }
}

#[test]
fn a_failing_apply_stops_loading_and_fails_execute_as_replay() {
    let bus = ringlet::Bus::new();
    let store = bus
        .event_store::<u32>("picky", ringlet::TopicConfig::default())
        .unwrap();
    let aggs = ringlet::Aggregates::<Picky>::new(&store);
    aggs.execute("a", 1).unwrap();
    aggs.execute("a", 13).unwrap(); // handled; it is applying it that fails
    assert_eq!(
        aggs.try_load("a").err().as_deref(),
        Some("13 cannot be applied")
    );
    assert!(matches!(
        aggs.execute("a", 2),
        Err(ringlet::eventstore::ExecuteError::Replay(e)) if e == "13 cannot be applied"
    ));
    assert_eq!(aggs.load("a").1, 2, "load (apply) goes on regardless");
}
