//! Share groups on durable topics: what was settled stays settled across a
//! restart; what was not is delivered again.

use std::path::Path;

use ringlet::{Bus, ShareGroupConfig, Start, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::Scratch;

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

fn jobs(bus: &Bus) -> ringlet::Topic<u64> {
    bus.durable_topic::<u64>("jobs", TopicConfig::default().partitions(2))
        .unwrap()
}

/// Every record the group hands out now, as `(partition, offset)`, settled.
fn drain(group: &ringlet::ShareGroup<u64>) -> Vec<(u32, u64)> {
    let m = group.join().unwrap();
    let mut got = Vec::new();
    while let Ok(d) = m.try_receive() {
        got.push((d.partition().unwrap(), d.offset().unwrap()));
        d.ack().unwrap();
    }
    got.sort_unstable();
    got
}

#[test]
fn what_a_share_group_settled_is_not_delivered_again_after_a_restart() {
    let s = Scratch::new("share-restart");
    let config = ShareGroupConfig::default().start(Start::Earliest);
    {
        let bus = bus(&s.0);
        let t = jobs(&bus);
        for i in 0..10 {
            t.publish_message(ringlet::Message::new(i).partition((i % 2) as u32))
                .unwrap();
        }
        let group = t.share_group_with("workers", config.clone()).unwrap();
        let m = group.join().unwrap();
        let mut held = Vec::new();
        for _ in 0..6 {
            let d = m.try_receive().unwrap();
            let at = (d.partition().unwrap(), d.offset().unwrap());
            // Settle partition 0's first two and partition 1's second; keep the rest.
            if matches!(at, (0, 0) | (0, 1) | (1, 1)) {
                d.ack().unwrap();
            } else {
                held.push(d);
            }
        }
        std::mem::forget(held); // in flight when the process dies
    }
    let bus = bus(&s.0);
    let t = jobs(&bus);
    let group = t.share_group_with("workers", config.clone()).unwrap();
    let got = drain(&group);
    // Partition 0 starts after what it settled in order; partition 1 at its
    // unsettled first record (its settled second one comes again).
    assert_eq!(
        got,
        [
            (0, 2),
            (0, 3),
            (0, 4),
            (1, 0),
            (1, 1),
            (1, 2),
            (1, 3),
            (1, 4)
        ]
    );
    // Dropped and opened again in the same process: it goes on from there.
    drop(group);
    t.publish(10).unwrap();
    let group = t.share_group_with("workers", config).unwrap();
    assert_eq!(drain(&group).len(), 1);
}

#[test]
fn a_new_group_from_the_latest_offsets_keeps_what_it_did_not_settle() {
    let s = Scratch::new("share-latest");
    let config = ShareGroupConfig::default().start(Start::Latest);
    {
        let bus = bus(&s.0);
        let t = jobs(&bus);
        t.publish(99).unwrap(); // before the group: not its
        let group = t.share_group_with("workers", config.clone()).unwrap();
        let m = group.join().unwrap();
        t.publish_batch(0..4).unwrap();
        let d = m.try_receive().unwrap();
        std::mem::forget(d);
    }
    let bus = bus(&s.0);
    let t = jobs(&bus);
    let group = t.share_group_with("workers", config).unwrap();
    let values: Vec<u64> = {
        let m = group.join().unwrap();
        std::iter::from_fn(|| m.try_receive().ok())
            .map(|d| {
                let v = *d.value();
                d.ack().unwrap();
                v
            })
            .collect()
    };
    let mut values = values;
    values.sort_unstable();
    assert_eq!(values, [0, 1, 2, 3]);
}
