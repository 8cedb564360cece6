//! Random logs, randomly damaged: opening never panics, and what it gives back is
//! always a prefix of what was written (or `Corrupt`, for damage before the tail
//! without repair).

use std::fs;
use std::path::PathBuf;

use proptest::prelude::*;
use ringlet::{Headers, Key};
use ringlet_store::{LogOptions, PartitionLog, StoreError, StoredRecord};

/// A record's key (text or bytes), headers, value and timestamp.
type Spec = (
    Option<(bool, Vec<u8>)>,
    Vec<(String, Vec<u8>)>,
    Vec<u8>,
    i64,
);

#[derive(Debug, Clone)]
enum Damage {
    /// Cut the last segment to this fraction of its length.
    Cut(f64),
    /// Append these bytes to the last segment.
    Garbage(Vec<u8>),
    /// Flip bits of the byte at this fraction of this segment (by index from the end).
    Flip { from_end: usize, at: f64, bits: u8 },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Damage::Cut),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(Damage::Garbage),
        (0..4usize, 0.0..1.0f64, 1..=255u8).prop_map(|(from_end, at, bits)| Damage::Flip {
            from_end,
            at,
            bits
        }),
    ]
}

fn record() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..12))),
        proptest::collection::vec(
            ("[a-z]{1,6}", proptest::collection::vec(any::<u8>(), 0..6)),
            0..3,
        ),
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<i64>(),
    )
}

fn build(specs: &[Spec]) -> Vec<StoredRecord> {
    let mut offset = 0;
    specs
        .iter()
        .map(|(key, headers, value, ts)| {
            offset += 1 + (value.len() as u64 % 3); // gaps, as a compacted topic's
            StoredRecord {
                offset,
                timestamp: *ts,
                key: key.as_ref().map(|(text, k)| {
                    if *text {
                        Key::from(String::from_utf8_lossy(k).into_owned())
                    } else {
                        Key::from(k.clone())
                    }
                }),
                headers: headers.iter().cloned().collect::<Headers>(),
                value: value.clone(),
            }
        })
        .collect()
}

fn scratch(case: u64) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "ringlet-store-damage-{}-{case}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&p);
    p
}

fn opts(repair: bool) -> LogOptions {
    LogOptions {
        segment_bytes: 200,
        index_bytes: 50,
        repair,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn damaged_logs_open_to_a_prefix_or_corrupt(
        specs in proptest::collection::vec(record(), 1..30),
        batch in 1..4usize,
        damage in damage(),
        repair in any::<bool>(),
        case in any::<u64>(),
    ) {
        let dir = scratch(case);
        let all = build(&specs);
        {
            let (mut log, _) = PartitionLog::open(&dir, &opts(false)).unwrap();
            for chunk in all.chunks(batch) {
                log.append(chunk, false).unwrap();
            }
        }
        let files = PartitionLog::open(&dir, &opts(false)).unwrap().0.segment_files();
        let tail_damage = !matches!(damage, Damage::Flip { .. });
        // A segment whose format version reads differently is refused even with
        // repair (it may be a newer format): where the flip hit.
        let mut in_version = false;
        match &damage {
            Damage::Cut(f) => {
                let last = files.last().unwrap();
                let b = fs::read(last).unwrap();
                fs::write(last, &b[..(b.len() as f64 * f) as usize]).unwrap();
            }
            Damage::Garbage(g) => {
                let last = files.last().unwrap();
                let mut b = fs::read(last).unwrap();
                b.extend_from_slice(g);
                fs::write(last, &b).unwrap();
            }
            Damage::Flip { from_end, at, bits } => {
                let f = &files[files.len() - 1 - from_end.min(&(files.len() - 1))];
                let mut b = fs::read(f).unwrap();
                if !b.is_empty() {
                    let i = ((b.len() as f64 * at) as usize).min(b.len() - 1);
                    in_version = (8..12).contains(&i);
                    b[i] ^= bits;
                    fs::write(f, &b).unwrap();
                }
            }
        }
        match PartitionLog::open(&dir, &opts(repair)) {
            Ok((mut log, _)) => {
                let got = log.read_all(0).unwrap();
                prop_assert!(got.len() <= all.len());
                prop_assert_eq!(&got[..], &all[..got.len()], "a prefix of what was written");
                let floor = got.last().map_or(0, |r| r.offset + 1);
                let end = all.last().map_or(0, |r| r.offset + 1);
                prop_assert!(log.next_offset() >= floor && log.next_offset() <= end, "next {} not in {floor}..={end}", log.next_offset());
                // The log goes on from there, and that survives reopening.
                let next = StoredRecord::new(log.next_offset(), 7, b"after".to_vec());
                log.append(std::slice::from_ref(&next), false).unwrap();
                drop(log);
                let (log, recovery) = PartitionLog::open(&dir, &opts(false)).unwrap();
                prop_assert!(recovery.is_clean(), "{:?}", recovery);
                let again = log.read_all(0).unwrap();
                prop_assert_eq!(again.last(), Some(&next));
                prop_assert_eq!(&again[..again.len() - 1], &got[..]);
            }
            Err(StoreError::Corrupt { .. }) => {
                prop_assert!(!tail_damage && (!repair || in_version), "only damage before the tail, without repair, is Corrupt: {:?}", damage);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
