//! The engine's model suites, run on durable topics and queues: the same
//! operations must give the same results, records, deliveries and figures as
//! in memory (the suites also run in memory here, as in the core's tests).

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use ringlet::{Bus, BusBuilder, Queue, QueueConfig, Topic, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::Scratch;

#[path = "../../core/tests/model.rs"]
mod topic_model;

#[path = "../../core/tests/queue_model.rs"]
mod queue_model;

/// A fresh data directory per case.
fn scratch() -> Scratch {
    static CASES: AtomicUsize = AtomicUsize::new(0);
    Scratch::new(&format!(
        "semantics-{}",
        CASES.fetch_add(1, Ordering::Relaxed)
    ))
}

struct Durable;

impl topic_model::Kind for Durable {
    type Guard = Scratch;
    fn topic(config: TopicConfig) -> (Scratch, Bus, Topic<u32>) {
        let s = scratch();
        let bus = Bus::builder().storage(Dir::open(&s.0).unwrap()).build();
        let t = bus.durable_topic::<u32>("t", config).unwrap();
        (s, bus, t)
    }
}

impl queue_model::Kind for Durable {
    type Guard = Scratch;
    fn bus(builder: BusBuilder) -> (Scratch, Bus) {
        let s = scratch();
        let bus = builder.storage(Dir::open(&s.0).unwrap()).build();
        (s, bus)
    }
    fn queue(bus: &Bus, name: &str, config: QueueConfig) -> Queue<u32> {
        bus.durable_queue::<u32>(name, config).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_durable_overwrite_topic_matches_the_model(partitions in 1u32..4, cap in 1usize..12, ops in proptest::collection::vec(topic_model::op(3), 1..160)) {
        topic_model::run::<Durable>(partitions, cap, false, ops);
    }

    #[test]
    fn a_durable_keep_topic_matches_the_model(partitions in 1u32..3, cap in 1usize..12, ops in proptest::collection::vec(topic_model::op(2), 1..160)) {
        topic_model::run::<Durable>(partitions, cap, true, ops);
    }

    #[test]
    fn a_durable_queue_matches_the_model(
        ops in proptest::collection::vec(queue_model::op(), 1..120),
        capacity in 1usize..8,
        max_deliveries in proptest::option::of(1u32..4),
        dlq_capacity in 1usize..4,
    ) {
        queue_model::run::<Durable>(ops, capacity, max_deliveries, dlq_capacity);
    }
}
