//! Sequences of sends, receives, settles, drops and clock steps on one queue with
//! a dead-letter queue, against the sequential model of the core's property tests.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../core/tests/queue_model.rs"]
mod queue_model;

use queue_model::{Memory, Op};

#[derive(Debug)]
struct Case {
    capacity: usize,
    max_deliveries: Option<u32>,
    dlq_capacity: usize,
    ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let capacity = u.int_in_range(1..=8usize)?;
        let max_deliveries = if u.arbitrary()? {
            Some(u.int_in_range(1..=3u32)?)
        } else {
            None
        };
        let dlq_capacity = u.int_in_range(1..=4usize)?;
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 400 {
            ops.push(match u.int_in_range(0..=27u8)? {
                0..=5 => Op::Send,
                6..=7 => Op::SendDelayed(u.int_in_range(1..=19)?),
                8..=13 => Op::Receive,
                14 => Op::ReceiveBatch(u.int_in_range(1..=3)?),
                15..=18 => Op::Ack(u.int_in_range(0..=5)?),
                19 => Op::AckBatch,
                20..=21 => Op::Nack(u.int_in_range(0..=5)?),
                22 => Op::NackAfter(u.int_in_range(0..=5)?, u.int_in_range(1..=19)?),
                23 => Op::Reject(u.int_in_range(0..=5)?),
                24 => Op::Drop(u.int_in_range(0..=5)?),
                _ => Op::Advance(u.int_in_range(1..=14)?),
            });
        }
        Ok(Case {
            capacity,
            max_deliveries,
            dlq_capacity,
            ops,
        })
    }
}

fuzz_target!(|case: Case| {
    queue_model::run::<Memory>(
        case.ops,
        case.capacity,
        case.max_deliveries,
        case.dlq_capacity,
    );
});
