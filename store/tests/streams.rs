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

/// The clicks of the exactness test: 40 of 4 users, over 2 partitions.
fn clicks_of(i: usize) -> (&'static str, i64) {
    (["ada", "bob", "cy", "dee"][i * 7 % 4], 1_000 * i as i64)
}

#[test]
fn a_step_cut_at_any_write_is_finished_when_the_topology_is_rebuilt() {
    const CLICKS: usize = 40;
    let expected = |user: &str| (0..CLICKS).filter(|&i| clicks_of(i).0 == user).count() as u64;
    let s = Scratch::new("streams-cut");
    {
        let bus = bus(&s.0);
        let (clicks, ..) = counts(&bus);
        for i in 0..CLICKS {
            let (user, ts) = clicks_of(i);
            click(&clicks, user, ts);
        }
    }
    // The process dies at its n-th write, for every n through one whole run
    // (after which nothing more is written).
    let mut cuts = 0;
    for at in 1.. {
        let writes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ran_to_the_end = {
            let bus = Bus::builder()
                .storage(common::Dying {
                    inner: Dir::open(&s.0).unwrap(),
                    at,
                    writes: writes.clone(),
                })
                .build();
            let (_, topo, ..) = counts(&bus);
            topo.run_until_idle().is_ok() && writes.load(std::sync::atomic::Ordering::SeqCst) < at
        };
        // Rebuilt on the directory as the cut left it.
        let bus = bus(&s.0);
        let (_, topo, per_user, per_minute) = counts(&bus);
        topo.run_until_idle().unwrap();
        for user in ["ada", "bob", "cy", "dee"] {
            assert_eq!(
                per_user.get(user),
                Some(expected(user)),
                "cut at write {at}: {user}"
            );
            let windowed: u64 = per_minute.fetch(user).into_iter().map(|(_, n)| n).sum();
            assert_eq!(
                windowed,
                expected(user),
                "cut at write {at}: {user}'s windows"
            );
        }
        drop((topo, per_user, per_minute, bus));
        cuts += 1;
        if ran_to_the_end {
            break;
        }
        // Start again from the clicks alone: a fresh topology name each
        // round would not test the same log, so the directory's derived
        // state goes.
        for entry in std::fs::read_dir(&s.0).unwrap() {
            let p = entry.unwrap().path();
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("counts-"))
            {
                std::fs::remove_dir_all(&p).unwrap();
            }
        }
        // The clicks' commits go too (a fresh group starts at the earliest).
        let commits = s.0.join("clicks").join("commits");
        if commits.exists() {
            std::fs::remove_dir_all(&commits).unwrap();
        }
    }
    assert!(cuts > 20, "only {cuts} cut points");
}
