//! Share groups on durable topics: what was settled stays settled across a
//! restart, in order or not; what was not is delivered again, with the
//! deliveries it had counted.

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
    // unsettled first record, and its second one, settled out of order, does
    // not come again.
    assert_eq!(
        got,
        [(0, 2), (0, 3), (0, 4), (1, 0), (1, 2), (1, 3), (1, 4)]
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

#[test]
fn a_delivery_in_flight_when_the_process_died_counts_as_an_attempt() {
    let s = Scratch::new("share-attempts");
    let config = ShareGroupConfig::default().start(Start::Earliest);
    {
        let bus = bus(&s.0);
        let t = jobs(&bus);
        for i in 0..3 {
            t.publish_message(ringlet::Message::new(i).partition(0))
                .unwrap();
        }
        let group = t.share_group_with("workers", config.clone()).unwrap();
        let m = group.join().unwrap();
        let first = m.try_receive().unwrap();
        assert_eq!((first.offset(), first.attempt()), (Some(0), 1));
        first.nack().unwrap();
        let again = m.try_receive().unwrap();
        assert_eq!((again.offset(), again.attempt()), (Some(0), 2));
        let second = m.try_receive().unwrap();
        assert_eq!((second.offset(), second.attempt()), (Some(1), 1));
        std::mem::forget((again, second)); // in flight when the process dies
    }
    let bus = bus(&s.0);
    let t = jobs(&bus);
    let group = t.share_group_with("workers", config).unwrap();
    let m = group.join().unwrap();
    let mut got: Vec<(u64, u32)> = std::iter::from_fn(|| m.try_receive().ok())
        .map(|d| {
            let at = (d.offset().unwrap(), d.attempt());
            d.ack().unwrap();
            at
        })
        .collect();
    got.sort_unstable();
    // Each delivery that was in flight counts: the next one is one more.
    assert_eq!(got, [(0, 3), (1, 2), (2, 1)]);
}

#[test]
fn a_record_that_crashes_its_consumer_every_time_reaches_the_dead_letter() {
    let s = Scratch::new("share-poison");
    let config = ShareGroupConfig::default()
        .start(Start::Earliest)
        .max_deliveries(3)
        .dead_letter("poison");
    for _ in 0..3 {
        let bus = bus(&s.0);
        let _dlq = bus
            .durable_queue::<u64>("poison", Default::default())
            .unwrap();
        let t = bus
            .durable_topic::<u64>("jobs", TopicConfig::default())
            .unwrap();
        if t.snapshot().partitions[0].latest == 0 {
            t.publish(7).unwrap();
        }
        let group = t.share_group_with("workers", config.clone()).unwrap();
        let m = group.join().unwrap();
        let d = m.try_receive().unwrap();
        assert_eq!(*d.value(), 7);
        std::mem::forget(d); // the consumer crashes with it
    }
    let bus = bus(&s.0);
    let dlq = bus
        .durable_queue::<u64>("poison", Default::default())
        .unwrap();
    let t = bus
        .durable_topic::<u64>("jobs", TopicConfig::default())
        .unwrap();
    let group = t.share_group_with("workers", config).unwrap();
    let m = group.join().unwrap();
    assert!(
        m.try_receive().is_err(),
        "out of attempts: not delivered again"
    );
    let dead = dlq.try_receive().unwrap();
    assert_eq!(*dead.value(), 7);
    assert_eq!(
        dead.headers().get("ringlet.dead_letter.attempts"),
        Some(&b"3"[..])
    );
    dead.ack().unwrap();
    drop((m, group));
    // Settled by the dead letter: never again.
    let group = t
        .share_group_with(
            "workers",
            ShareGroupConfig::default().start(Start::Earliest),
        )
        .unwrap();
    assert!(group.join().unwrap().try_receive().is_err());
}
