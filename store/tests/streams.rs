//! Stream state on a store directory: a topology over a durable topic whose
//! tables keep durable changelogs restores them after a restart and resumes
//! from its committed offsets — every record counted once.

use std::path::Path;
use std::time::Duration;

use ringlet::streams::Windows;
use ringlet::{Bus, Message, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::Scratch;

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

/// The topology: clicks per user, and per user per minute.
fn counts(
    bus: &Bus,
) -> (
    ringlet::Topic<String>,
    ringlet::Topology,
    ringlet::streams::Table<u64>,
    ringlet::streams::WindowedTable<u64>,
) {
    let clicks = bus
        .durable_topic::<String>("clicks", TopicConfig::default().partitions(2))
        .unwrap();
    let topo = bus.topology_named("counts").unwrap();
    topo.durable_changelogs::<u64>().unwrap();
    let per_user = topo
        .stream(&clicks)
        .unwrap()
        .group_by_key()
        .store("per-user")
        .count()
        .unwrap();
    let per_minute = topo
        .stream(&clicks)
        .unwrap()
        .group_by_key()
        .store("per-minute")
        .window(Windows::tumbling(Duration::from_secs(60)))
        .count()
        .unwrap();
    (clicks, topo, per_user, per_minute)
}

fn click(t: &ringlet::Topic<String>, user: &str, ts: i64) {
    t.publish_message(
        Message::new(format!("{user} clicked"))
            .key(user)
            .timestamp(ts),
    )
    .unwrap();
}

#[test]
fn a_topology_restored_from_durable_changelogs_counts_every_record_once() {
    let s = Scratch::new("streams-restart");
    {
        let bus = bus(&s.0);
        let (clicks, topo, per_user, per_minute) = counts(&bus);
        for (i, user) in ["ada", "bob", "ada", "cy", "ada"].iter().enumerate() {
            click(&clicks, user, 1_000 * i as i64);
        }
        topo.run_until_idle().unwrap();
        assert_eq!(per_user.get("ada"), Some(3));
        assert_eq!(per_minute.fetch("ada").len(), 1);
    } // the process ends
    let bus = bus(&s.0);
    let (clicks, topo, per_user, per_minute) = counts(&bus);
    // Restored before anything runs: the changelogs were read back.
    assert_eq!(per_user.get("ada"), Some(3));
    assert_eq!(per_user.get("bob"), Some(1));
    assert_eq!(per_minute.fetch("ada")[0].1, 3);
    click(&clicks, "ada", 61_000);
    click(&clicks, "bob", 62_000);
    topo.run_until_idle().unwrap();
    // Resumed from the committed offsets: the old clicks are not counted again.
    assert_eq!(per_user.get("ada"), Some(4));
    assert_eq!(per_user.get("bob"), Some(2));
    assert_eq!(per_user.get("cy"), Some(1));
    let ada: Vec<u64> = per_minute
        .fetch("ada")
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(ada, [3, 1]);
}
