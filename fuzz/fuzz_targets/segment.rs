//! Opening a partition log whose segment files were damaged or forged: a
//! valid log is written, then bytes are flipped, cut, appended, and files
//! deleted or added under segment names. Opening must give a typed error or a
//! log that reads back in offset order, takes a new record after its end and
//! opens cleanly again with the same records — never a panic, a hang or an
//! allocation the files' size does not justify.
#![no_main]

use std::fs;
use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ringlet_store::{LogOptions, PartitionLog, StoreError, StoredRecord};

#[derive(Debug, Arbitrary)]
enum Edit {
    /// XOR a byte of a file (chosen by index, position by fraction).
    Flip { file: u8, at: u16, bits: u8 },
    /// Overwrite bytes of a file at a position.
    Write { file: u8, at: u16, bytes: Vec<u8> },
    /// Cut a file to a fraction of its length.
    Cut { file: u8, keep: u16 },
    /// Append bytes to a file.
    Append { file: u8, bytes: Vec<u8> },
    /// Delete a file.
    Delete { file: u8 },
    /// Add a file named as the segment starting at `base`.
    Add { base: u8, bytes: Vec<u8> },
}

#[derive(Debug, Arbitrary)]
struct Case {
    records: Vec<(Option<Vec<u8>>, Vec<u8>, i64, u8)>,
    edits: Vec<Edit>,
    repair: bool,
    segment_bytes: u8,
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringlet-fuzz-segment-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut f: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    f.sort();
    f
}

fn pick(dir: &PathBuf, i: u8) -> Option<PathBuf> {
    let f = files(dir);
    (!f.is_empty()).then(|| f[i as usize % f.len()].clone())
}

fn edit(dir: &PathBuf, e: &Edit) {
    match e {
        Edit::Flip { file, at, bits } => {
            if let Some(p) = pick(dir, *file) {
                let mut b = fs::read(&p).unwrap();
                if !b.is_empty() {
                    let i = *at as usize % b.len();
                    b[i] ^= bits;
                    fs::write(&p, b).unwrap();
                }
            }
        }
        Edit::Write { file, at, bytes } => {
            if let Some(p) = pick(dir, *file) {
                let mut b = fs::read(&p).unwrap();
                let at = (*at as usize).min(b.len());
                let end = (at + bytes.len()).min(b.len());
                b[at..end].copy_from_slice(&bytes[..end - at]);
                fs::write(&p, b).unwrap();
            }
        }
        Edit::Cut { file, keep } => {
            if let Some(p) = pick(dir, *file) {
                let b = fs::read(&p).unwrap();
                fs::write(&p, &b[..b.len() * *keep as usize / usize::from(u16::MAX)]).unwrap();
            }
        }
        Edit::Append { file, bytes } => {
            if let Some(p) = pick(dir, *file) {
                let mut b = fs::read(&p).unwrap();
                b.extend_from_slice(bytes);
                fs::write(&p, b).unwrap();
            }
        }
        Edit::Delete { file } => {
            if let Some(p) = pick(dir, *file) {
                fs::remove_file(p).unwrap();
            }
        }
        Edit::Add { base, bytes } => {
            fs::write(dir.join(format!("{:020}.log", base)), bytes).unwrap();
        }
    }
}

fn check_read(log: &PartitionLog) -> Vec<StoredRecord> {
    let got = log.read_all(0).unwrap();
    for w in got.windows(2) {
        assert!(
            w[0].offset < w[1].offset,
            "offsets out of order: {} then {}",
            w[0].offset,
            w[1].offset
        );
    }
    if let Some(last) = got.last() {
        assert!(
            log.next_offset() > last.offset,
            "next offset {} not after {}",
            log.next_offset(),
            last.offset
        );
    }
    got
}

fuzz_target!(|data: &[u8]| {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let dir = scratch();
    let opts = LogOptions {
        segment_bytes: 64 + u64::from(case.segment_bytes) * 4,
        index_bytes: 40,
        repair: case.repair,
    };
    {
        let (mut log, _) = PartitionLog::open(&dir, &opts).unwrap();
        let mut offset = 0;
        for (key, value, ts, gap) in case.records.iter().take(64) {
            let mut r = StoredRecord::new(offset, *ts, value.clone());
            r.key = key.clone().map(Into::into);
            log.append(std::slice::from_ref(&r), false).unwrap();
            offset += 1 + u64::from(gap % 3);
        }
    }
    for e in case.edits.iter().take(8) {
        edit(&dir, e);
    }
    match PartitionLog::open(&dir, &opts) {
        Ok((mut log, _)) => {
            let got = check_read(&log);
            let next = StoredRecord::new(log.next_offset(), 7, b"after".to_vec());
            log.append(std::slice::from_ref(&next), false).unwrap();
            drop(log);
            let (log, recovery) = PartitionLog::open(
                &dir,
                &LogOptions {
                    repair: false,
                    ..opts
                },
            )
            .unwrap();
            assert!(recovery.is_clean(), "{recovery:?}");
            let again = check_read(&log);
            assert_eq!(again.last(), Some(&next));
            assert_eq!(&again[..again.len() - 1], &got[..]);
        }
        Err(StoreError::Corrupt { .. }) => {}
        Err(e) => panic!("unexpected error {e}"),
    }
    let _ = fs::remove_dir_all(&dir);
});
