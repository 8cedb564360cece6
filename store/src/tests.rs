//! Failed writes, injected where the operating system would fail them.

use crate::log::FailWrites;
use crate::{LogOptions, PartitionLog, StoreError, StoredRecord};

fn scratch(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("ringlet-store-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn rec(offset: u64) -> StoredRecord {
    StoredRecord::new(
        offset,
        offset as i64 * 10,
        format!("value {offset}").into_bytes(),
    )
}

#[test]
fn a_failed_write_is_undone_and_nothing_of_it_is_read_back() {
    let dir = scratch("undo");
    let (mut log, _) = PartitionLog::open(&dir, &LogOptions::default()).unwrap();
    log.append(&[rec(0), rec(1)], false).unwrap();
    log.fail_writes(FailWrites {
        after: 0,
        partial: 7,
        undo_fails: false,
    });
    let e = log.append(&[rec(2), rec(3)], false).unwrap_err();
    assert!(matches!(e, StoreError::Io { op: "write", .. }), "{e}");
    assert_eq!(log.next_offset(), 2);
    // The next append goes where the failed one would have.
    log.fail_writes(FailWrites {
        after: 5,
        partial: 0,
        undo_fails: false,
    });
    log.append(&[rec(2)], false).unwrap();
    assert_eq!(log.read_all(0).unwrap(), vec![rec(0), rec(1), rec(2)]);
    drop(log);
    let (log, recovery) = PartitionLog::open(&dir, &LogOptions::default()).unwrap();
    assert!(recovery.is_clean(), "{recovery:?}");
    assert_eq!(log.read_all(0).unwrap(), vec![rec(0), rec(1), rec(2)]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_write_that_cannot_be_undone_poisons_the_log_until_it_is_opened_again() {
    let dir = scratch("poison");
    let (mut log, _) = PartitionLog::open(&dir, &LogOptions::default()).unwrap();
    log.append(&[rec(0)], false).unwrap();
    log.fail_writes(FailWrites {
        after: 0,
        partial: 5,
        undo_fails: true,
    });
    assert!(log.append(&[rec(1)], false).is_err());
    assert!(matches!(
        log.append(&[rec(1)], false),
        Err(StoreError::Poisoned { .. })
    ));
    drop(log);
    // Reopening cuts the partial frame off: a torn tail.
    let (mut log, recovery) = PartitionLog::open(&dir, &LogOptions::default()).unwrap();
    assert_eq!(recovery.truncations.len(), 1, "{recovery:?}");
    assert_eq!(recovery.truncations[0].bytes, 5);
    log.append(&[rec(1)], false).unwrap();
    assert_eq!(log.read_all(0).unwrap(), vec![rec(0), rec(1)]);
    std::fs::remove_dir_all(&dir).unwrap();
}
