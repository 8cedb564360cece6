//! Partition logs on real files: reopening, segments, retention, and every kind of
//! damage the crate docs name.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ringlet::{Headers, Key};
use ringlet_store::{
    Dir, LogOptions, OpenOptions as DirOptions, PartitionLog, StoreError, StoredRecord,
};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("ringlet-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn rec(offset: u64) -> StoredRecord {
    let mut r = StoredRecord::new(
        offset,
        1_700_000_000_000 + offset as i64,
        format!("v{offset}").into_bytes(),
    );
    match offset % 3 {
        0 => {}
        1 => r.key = Some(Key::from(format!("customer-{offset}"))),
        _ => {
            r.key = Some(Key::from(vec![0u8, 255, offset as u8]));
            r.headers = Headers::default()
                .with("source", "web")
                .with("trace", vec![1u8, 2, 3]);
        }
    }
    r
}

fn small() -> LogOptions {
    LogOptions {
        segment_bytes: 300,
        index_bytes: 64,
        repair: false,
    }
}

fn open(dir: &Path, opts: &LogOptions) -> (PartitionLog, ringlet_store::Recovery) {
    PartitionLog::open(dir, opts).unwrap()
}

/// A log of `n` records, one append each, in small segments.
fn filled(dir: &Path, n: u64) -> Vec<StoredRecord> {
    let (mut log, _) = open(dir, &small());
    let all: Vec<_> = (0..n).map(rec).collect();
    for r in &all {
        log.append(std::slice::from_ref(r), false).unwrap();
    }
    all
}

#[test]
fn records_keys_and_headers_come_back_after_reopening() {
    let s = Scratch::new("roundtrip");
    let all = filled(&s.0, 40);
    let (log, recovery) = open(&s.0, &small());
    assert!(recovery.is_clean());
    assert!(log.segment_files().len() > 3, "small segments roll");
    assert_eq!(log.read_all(0).unwrap(), all);
    assert_eq!((log.first_offset(), log.next_offset()), (0, 40));
    // Reading from any offset, through the sparse index.
    for from in [0, 1, 7, 20, 33, 39, 40, 100] {
        let got = log.read_all(from).unwrap();
        assert_eq!(got, all[(from as usize).min(40)..], "from {from}");
    }
    let mut n = 0;
    log.read(5, |_| {
        n += 1;
        n < 3
    })
    .unwrap();
    assert_eq!(n, 3, "read stops when told");
}

#[test]
fn batches_are_one_frame_and_offsets_may_have_gaps_but_never_go_back() {
    let s = Scratch::new("batches");
    let (mut log, _) = open(&s.0, &LogOptions::default());
    log.append(&[rec(0), rec(1), rec(5)], true).unwrap();
    assert_eq!(log.next_offset(), 6);
    assert!(matches!(
        log.append(&[rec(5)], false),
        Err(StoreError::OutOfOrder {
            offset: 5,
            expected: 6
        })
    ));
    assert!(matches!(
        log.append(&[rec(8), rec(7)], false),
        Err(StoreError::OutOfOrder {
            offset: 7,
            expected: 9
        })
    ));
    log.append(&[], false).unwrap();
    log.append(&[rec(9)], false).unwrap();
    drop(log);
    let (log, _) = open(&s.0, &LogOptions::default());
    let offsets: Vec<u64> = log.read_all(0).unwrap().iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [0, 1, 5, 9]);
    assert_eq!(log.next_offset(), 10);
}

#[test]
fn retention_deletes_whole_segments_below_the_oldest_kept_record() {
    let s = Scratch::new("retention");
    let all = filled(&s.0, 40);
    let (mut log, _) = open(&s.0, &small());
    let files = log.segment_files();
    let gone = log.retain_from(25).unwrap();
    assert!(gone > 0 && gone < files.len());
    assert!(log.first_offset() <= 25, "the segment holding 25 stays");
    let kept = log.read_all(0).unwrap();
    assert_eq!(kept.last(), all.last());
    assert!(kept.iter().any(|r| r.offset == 25));
    for f in &files[..gone] {
        assert!(!f.exists());
    }
    // Never the active segment, even past the end.
    log.retain_from(1000).unwrap();
    assert_eq!(log.segment_files().len(), 1);
    drop(log);
    let (mut log, recovery) = open(&s.0, &small());
    assert!(recovery.is_clean());
    assert_eq!(log.next_offset(), 40, "offsets continue after retention");
    log.append(&[rec(40)], false).unwrap();
}

#[test]
fn a_last_segment_cut_at_every_byte_of_its_last_record_reopens_with_everything_before() {
    let s = Scratch::new("torn");
    let opts = LogOptions::default();
    let all: Vec<_> = (0..12).map(rec).collect();
    let (mut log, _) = open(&s.0, &opts);
    for r in &all[..11] {
        log.append(std::slice::from_ref(r), false).unwrap();
    }
    let file = log.segment_files().pop().unwrap();
    let before = fs::metadata(&file).unwrap().len() as usize;
    log.append(&all[11..], false).unwrap();
    drop(log);
    let whole = fs::read(&file).unwrap();
    let frame_len = whole.len() - before;
    for cut in 1..=frame_len {
        fs::write(&file, &whole[..whole.len() - cut]).unwrap();
        let (mut log, recovery) = open(&s.0, &opts);
        assert_eq!(log.read_all(0).unwrap(), all[..11], "cut {cut}");
        let torn = usize::from(cut != frame_len);
        assert_eq!(recovery.truncations.len(), torn, "cut {cut}: {recovery:?}");
        if torn == 1 {
            let t = &recovery.truncations[0];
            assert_eq!(
                (t.position, t.bytes),
                (before as u64, (frame_len - cut) as u64)
            );
        }
        // Appending after the cut works and survives.
        log.append(&all[11..], false).unwrap();
        drop(log);
        let (log, recovery) = open(&s.0, &opts);
        assert!(recovery.is_clean());
        assert_eq!(log.read_all(0).unwrap(), all, "cut {cut}");
    }
}

#[test]
fn garbage_after_the_tail_is_dropped_and_reported() {
    let s = Scratch::new("garbage");
    let all = filled(&s.0, 10);
    let last = open(&s.0, &small()).0.segment_files().pop().unwrap();
    let len = fs::metadata(&last).unwrap().len();
    let mut f = OpenOptions::new().append(true).open(&last).unwrap();
    f.write_all(b"\x10\x00\x00\x00not a frame at all, just bytes")
        .unwrap();
    drop(f);
    let (log, recovery) = open(&s.0, &small());
    assert_eq!(log.read_all(0).unwrap(), all);
    assert_eq!(recovery.truncations.len(), 1);
    assert_eq!(recovery.truncations[0].position, len);
    assert_eq!(fs::metadata(&last).unwrap().len(), len, "cut back on disk");
}

#[test]
fn a_flipped_byte_before_the_tail_is_corrupt_and_repair_truncates_there() {
    let s = Scratch::new("flipped");
    let all = filled(&s.0, 40);
    let files = open(&s.0, &small()).0.segment_files();
    assert!(files.len() >= 3);
    // A value byte in the middle of an older segment.
    let victim = &files[1];
    let mut bytes = fs::read(victim).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    fs::write(victim, &bytes).unwrap();
    match PartitionLog::open(&s.0, &small()) {
        Err(StoreError::Corrupt { file, position, .. }) => {
            assert_eq!(&file, victim);
            assert!(position <= at as u64);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // The message names the file, the byte and what to do.
    let msg = PartitionLog::open(&s.0, &small()).unwrap_err().to_string();
    assert!(
        msg.contains("corrupt at byte") && msg.contains("repair"),
        "{msg}"
    );
    let repair = LogOptions {
        repair: true,
        ..small()
    };
    let (mut log, recovery) = open(&s.0, &repair);
    let kept = log.read_all(0).unwrap();
    assert!(!kept.is_empty() && kept.len() < all.len());
    assert_eq!(kept, all[..kept.len()], "a prefix survives");
    assert_eq!(log.next_offset(), kept.len() as u64);
    assert!(
        recovery.truncations.len() >= 2,
        "the cut and the later segments: {recovery:?}"
    );
    for f in &files[2..] {
        assert!(!f.exists(), "later segments removed");
    }
    log.append(&[rec(kept.len() as u64)], false).unwrap();
    drop(log);
    assert!(open(&s.0, &small()).1.is_clean());
}

#[test]
fn a_flipped_byte_in_the_last_segment_with_good_frames_after_it_is_corrupt() {
    let s = Scratch::new("flipped-last");
    let (mut log, _) = open(&s.0, &LogOptions::default());
    for i in 0..10 {
        log.append(&[rec(i)], false).unwrap();
    }
    let file = log.segment_files().pop().unwrap();
    drop(log);
    let mut bytes = fs::read(&file).unwrap();
    bytes[20] ^= 1; // inside the first frame
    fs::write(&file, &bytes).unwrap();
    assert!(matches!(
        PartitionLog::open(&s.0, &LogOptions::default()),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn a_foreign_file_is_corrupt_and_a_torn_header_is_written_again() {
    let s = Scratch::new("headers");
    fs::create_dir_all(&s.0).unwrap();
    let name = s.0.join("00000000000000000000.log");
    fs::write(&name, b"definitely not a segment").unwrap();
    let e = PartitionLog::open(&s.0, &LogOptions::default()).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { position: 0, .. }), "{e}");
    // A segment cut inside its header (a crash while creating it).
    fs::write(&name, b"RINGL").unwrap();
    let (mut log, recovery) = open(&s.0, &LogOptions::default());
    assert_eq!(recovery.truncations.len(), 1);
    log.append(&[rec(0)], false).unwrap();
    drop(log);
    assert_eq!(
        open(&s.0, &LogOptions::default()).0.read_all(0).unwrap(),
        [rec(0)]
    );
}

#[test]
fn a_directory_is_locked_while_open_and_names_must_be_safe() {
    let s = Scratch::new("lock");
    let dir = Dir::open(&s.0).unwrap();
    let e = Dir::open(&s.0).unwrap_err();
    assert!(matches!(e, StoreError::Locked { .. }));
    assert!(e.to_string().contains("locked"), "{e}");
    for bad in ["", "..", "a/b", "../x", "a b"] {
        assert!(
            matches!(
                dir.log(bad, 0, &LogOptions::default()),
                Err(StoreError::Io { .. })
            ),
            "{bad:?}"
        );
    }
    let (mut log, _) = dir.log("orders.v1", 2, &LogOptions::default()).unwrap();
    log.append(&[rec(0)], true).unwrap();
    assert!(log.dir().ends_with("orders.v1/2"));
    assert_eq!(dir.read_meta("orders.v1").unwrap(), None);
    dir.write_meta("orders.v1", b"{}").unwrap();
    dir.write_meta("orders.v1", b"{\"v\":2}").unwrap();
    assert_eq!(dir.read_meta("orders.v1").unwrap().unwrap(), b"{\"v\":2}");
    drop((log, dir));
    // Repair set on the directory applies to its logs.
    let dir = Dir::open_with(&s.0, DirOptions { repair: true }).unwrap();
    assert!(dir.options().repair);
    assert_eq!(dir.names().unwrap(), ["orders.v1"]);
}

#[test]
fn the_lock_holds_across_processes() {
    // A child process (this test binary, re-run) tries to open the directory.
    let s = Scratch::new("lock-process");
    if let Ok(path) = std::env::var("RINGLET_STORE_LOCK_CHILD") {
        let code = match Dir::open(&path) {
            Err(StoreError::Locked { .. }) => 3,
            Ok(_) => 0,
            Err(_) => 1,
        };
        std::process::exit(code);
    }
    let _dir = Dir::open(&s.0).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "the_lock_holds_across_processes", "--nocapture"])
        .env("RINGLET_STORE_LOCK_CHILD", &s.0)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3), "the child saw the lock");
}

#[test]
fn a_sync_point_syncs_outside_the_log_and_a_poisoned_log_refuses_appends() {
    let s = Scratch::new("sync-point");
    let (mut log, _) = open(&s.0, &small());
    for o in 0..200 {
        log.append(&[rec(o)], false).unwrap();
    }
    assert!(log.segment_files().len() > 1, "the small segments rolled");
    let point = log.sync_point().unwrap();
    // The log can take appends while the point is synced.
    log.append(&[rec(200)], false).unwrap();
    assert_eq!(point.sync().unwrap(), 200);
    log.sync().unwrap();
    log.poison();
    assert!(matches!(
        log.append(&[rec(201)], false),
        Err(StoreError::Poisoned { .. })
    ));
    assert!(matches!(log.sync(), Err(StoreError::Poisoned { .. })));
    drop(log);
    let (log, recovery) = open(&s.0, &small());
    assert!(recovery.is_clean());
    assert_eq!(log.next_offset(), 201);
}
