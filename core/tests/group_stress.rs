//! Consumer groups under concurrent joins and leaves: never two owners of a
//! partition in the group's table, every record processed at least once, and
//! every partition fully committed at the end.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringlet::{Bus, Error, GroupConfig, Start, TopicConfig};

const PARTITIONS: u32 = 4;
const PER_PARTITION: u64 = if cfg!(miri) { 20 } else { 5_000 };

#[test]
fn concurrent_joins_and_leaves_keep_one_owner_and_lose_nothing() {
    let bus = Bus::new();
    let t = bus
        .topic::<u64>(
            "t",
            TopicConfig::default()
                .partitions(PARTITIONS)
                .capacity(PER_PARTITION as usize),
        )
        .unwrap();
    let g = t
        .group_with("g", GroupConfig::default().start(Start::Earliest))
        .unwrap();
    let total = PER_PARTITION * u64::from(PARTITIONS);
    let seen = Arc::new(Mutex::new(HashSet::<(u32, u64)>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let producer = {
        let t = t.clone();
        std::thread::spawn(move || {
            for i in 0..total {
                t.publish_message(ringlet::Message::new(i).partition((i % 4) as u32))
                    .unwrap();
            }
        })
    };
    let workers: Vec<_> = (0..3u64)
        .map(|w| {
            let (g, seen, done) = (g.clone(), seen.clone(), done.clone());
            std::thread::spawn(move || {
                let mut duplicates = 0u64;
                let mut stint = 0u64;
                while !done.load(Ordering::Acquire) {
                    stint += 1;
                    let mut m = g.join().unwrap();
                    let mut last: Vec<Option<u64>> = vec![None; PARTITIONS as usize];
                    // Each stint reads a different number of records, then leaves
                    // (by `leave` or by drop), so partitions keep moving.
                    for _ in 0..(10 + (w * 37 + stint * 13) % 200) {
                        let Ok(r) = m.recv_timeout(Duration::from_millis(2)) else {
                            break;
                        };
                        // Within one stint a partition's records come in order.
                        let l = &mut last[r.partition as usize];
                        assert!(l.is_none_or(|o| r.offset > o), "out of order");
                        *l = Some(r.offset);
                        if !seen.lock().unwrap().insert((r.partition, r.offset)) {
                            duplicates += 1;
                        }
                        match m.commit() {
                            Ok(()) | Err(Error::NotOwner { .. }) => {}
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                    if stint % 2 == 0 {
                        m.leave();
                    }
                }
                duplicates
            })
        })
        .collect();
    let observer = {
        let (g, done) = (g.clone(), done.clone());
        std::thread::spawn(move || {
            let mut looks = 0u64;
            while !done.load(Ordering::Acquire) {
                let s = g.snapshot();
                let mut owned = HashSet::new();
                for m in &s.members {
                    for &p in &m.partitions {
                        assert!(owned.insert(p), "partition {p} has two owners: {s:?}");
                        assert_eq!(s.partitions[p as usize].owner, Some(m.id));
                    }
                }
                if !s.members.is_empty() {
                    assert_eq!(owned.len(), PARTITIONS as usize, "unowned partition: {s:?}");
                }
                looks += 1;
                std::thread::yield_now();
            }
            looks
        })
    };
    producer.join().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while g.committed().iter().map(|c| c.unwrap_or(0)).sum::<u64>() < total {
        assert!(
            std::time::Instant::now() < deadline,
            "stuck at {:?}",
            g.committed()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    done.store(true, Ordering::Release);
    let duplicates: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let looks = observer.join().unwrap();
    assert_eq!(
        seen.lock().unwrap().len() as u64,
        total,
        "every record processed"
    );
    assert_eq!(
        g.committed(),
        vec![Some(PER_PARTITION); PARTITIONS as usize]
    );
    println!("{total} records, {duplicates} processed again after an owner change, {looks} snapshots checked");
}
