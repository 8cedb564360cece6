//! Sequences of publishes, subscriptions, reads, seeks, drops and a close on one
//! topic, against the sequential model of the core's property tests.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ringlet::Start;

#[allow(dead_code)]
#[path = "../../core/tests/model.rs"]
mod model;

use model::{Memory, Op};

#[derive(Debug)]
struct Case {
    partitions: u32,
    capacity: usize,
    keep: bool,
    ops: Vec<Op>,
}

fn start(u: &mut Unstructured<'_>) -> Result<Start> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Start::Earliest,
        1 => Start::Latest,
        _ => Start::Offset(u.int_in_range(0..=40)?),
    })
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let partitions = u.int_in_range(1..=3u32)?;
        let capacity = u.int_in_range(1..=12usize)?;
        let keep = u.arbitrary()?;
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 400 {
            ops.push(match u.int_in_range(0..=20u8)? {
                0..=7 => Op::Publish {
                    key: if u.arbitrary()? {
                        Some(u.int_in_range(0..=5)?)
                    } else {
                        None
                    },
                    partition: if u.ratio(1, 5)? {
                        Some(u.int_in_range(0..=partitions as u8)?)
                    } else {
                        None
                    },
                },
                8..=9 => Op::Subscribe(start(u)?),
                10..=15 => Op::Recv(u.int_in_range(0..=3)?),
                16..=17 => Op::RecvBatch(u.int_in_range(0..=3)?, u.int_in_range(0..=80)?),
                18 => Op::Seek(u.int_in_range(0..=3)?, start(u)?),
                19 => Op::Drop(u.int_in_range(0..=3)?),
                _ => Op::Close,
            });
        }
        Ok(Case {
            partitions,
            capacity,
            keep,
            ops,
        })
    }
}

fuzz_target!(|case: Case| {
    model::run::<Memory>(case.partitions, case.capacity, case.keep, case.ops);
});
