//! A model of what a durable topic promises, checked against random operations
//! with a crash at a random point: publishes (one or a batch), consumer-group
//! commits, syncs and clean restarts, until a write is torn — the store writes
//! its frame and the process dies with the frame's last bytes not on disk. The
//! directory is then opened again, and what it holds must be exactly what the
//! model says: every confirmed record at its offset, in order, nothing else;
//! the group's committed offset at least the last confirmed commit. A
//! `Buffered` topic's background writer may die with records it had not
//! written yet: what it holds is then the confirmed records up to some point,
//! at their offsets, and at least those confirmed before the last sync or
//! clean restart that returned and those before the offset last committed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use ringlet::storage::{Durability, Storage, StoredRecord, StoredTopic, TopicLogs};
use ringlet::{Bus, Error, GroupConfig, Start, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::Scratch;

/// A store that dies at its `crash_at`-th append: the frame is written, then
/// its last `cut` bytes are taken off the file (they never reached the disk),
/// and every later write fails. A buffered append dies before it is queued:
/// the files are as they were then, and what the background writer writes
/// after that (until the bus is gone) is taken off again by [`bury`],
/// as a killed process's writer would never have written it.
/// A buffered log's files and their lengths when it died.
type Grave = Mutex<Option<Vec<(PathBuf, u64)>>>;

#[derive(Debug)]
struct Crashing {
    dir: Dir,
    root: PathBuf,
    crash_at: usize,
    cut: u64,
    appends: Arc<AtomicUsize>,
    dead: Arc<AtomicBool>,
    /// The files of a buffered topic's log and their lengths when it died.
    at_death: Arc<Grave>,
}

#[derive(Debug)]
struct CrashingLogs {
    inner: Box<dyn TopicLogs>,
    folder: PathBuf,
    crash_at: usize,
    cut: u64,
    appends: Arc<AtomicUsize>,
    dead: Arc<AtomicBool>,
    at_death: Arc<Grave>,
}

fn died() -> Error {
    Error::Io {
        path: "disk".into(),
        reason: "the process died (model crash)".into(),
    }
}

impl Storage for Crashing {
    fn open_topic(&self, name: &str, d: &StoredTopic) -> Result<Box<dyn TopicLogs>, Error> {
        Ok(Box::new(CrashingLogs {
            inner: self.dir.open_topic(name, d)?,
            folder: self.root.join(name).join("0"),
            crash_at: self.crash_at,
            cut: self.cut,
            appends: self.appends.clone(),
            dead: self.dead.clone(),
            at_death: self.at_death.clone(),
        }))
    }
    fn describe(&self, name: &str) -> Result<Option<StoredTopic>, Error> {
        self.dir.describe(name)
    }
}

/// Puts a buffered log's files back as they were when it died (once its
/// bus is gone).
fn bury(root: &Path, at_death: &Grave) {
    let Some(files) = at_death.lock().unwrap().take() else {
        return;
    };
    for e in std::fs::read_dir(root.join("t").join("0")).unwrap() {
        let p = e.unwrap().path();
        match files.iter().find(|(f, _)| *f == p) {
            Some((_, len)) => std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(*len)
                .unwrap(),
            None => std::fs::remove_file(&p).unwrap(),
        }
    }
}

impl CrashingLogs {
    fn alive(&self) -> Result<(), Error> {
        if self.dead.load(Ordering::SeqCst) {
            Err(died())
        } else {
            Ok(())
        }
    }

    /// Takes the last `cut` bytes off the newest segment.
    fn tear(&self) {
        let newest = std::fs::read_dir(&self.folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .max()
            .unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&newest)
            .unwrap();
        let len = f.metadata().unwrap().len();
        f.set_len(len - self.cut).unwrap();
    }
}

impl TopicLogs for CrashingLogs {
    fn first_offset(&self, p: u32) -> u64 {
        self.inner.first_offset(p)
    }
    fn next_offset(&self, p: u32) -> u64 {
        self.inner.next_offset(p)
    }
    fn read(
        &self,
        p: u32,
        from: u64,
        f: &mut dyn FnMut(StoredRecord) -> bool,
    ) -> Result<(), Error> {
        self.inner.read(p, from, f)
    }
    fn append(&self, p: u32, records: &[StoredRecord], d: Durability) -> Result<(), Error> {
        self.alive()?;
        if self.appends.fetch_add(1, Ordering::SeqCst) + 1 == self.crash_at {
            if d == Durability::Buffered {
                let files = std::fs::read_dir(&self.folder)
                    .unwrap()
                    .map(|e| {
                        let p = e.unwrap().path();
                        let len = std::fs::metadata(&p).unwrap().len();
                        (p, len)
                    })
                    .collect();
                *self.at_death.lock().unwrap() = Some(files);
                self.dead.store(true, Ordering::SeqCst);
                return Err(died());
            }
            self.inner.append(p, records, Durability::Written)?;
            self.tear();
            self.dead.store(true, Ordering::SeqCst);
            return Err(died());
        }
        self.inner.append(p, records, d)
    }
    fn sync_through(&self, p: u32, offset: u64) -> Result<(), Error> {
        self.alive()?;
        self.inner.sync_through(p, offset)
    }
    fn retain_from(&self, p: u32, offset: u64) -> Result<(), Error> {
        self.alive()?;
        self.inner.retain_from(p, offset)
    }
    fn committed(&self, group: &str) -> Vec<(u32, u64)> {
        self.inner.committed(group)
    }
    fn commit(&self, group: &str, offsets: &[(u32, u64)], d: Durability) -> Result<(), Error> {
        self.alive()?;
        self.inner.commit(group, offsets, d)
    }
    fn state(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.state(key)
    }
    fn store_state(&self, key: &str, value: &[u8], d: Durability) -> Result<(), Error> {
        self.alive()?;
        self.inner.store_state(key, value, d)
    }
    fn sync(&self) -> Result<(), Error> {
        self.alive()?;
        self.inner.sync()
    }
    fn recovered(&self) -> Vec<String> {
        self.inner.recovered()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Publish,
    Batch(u8),
    /// Read up to this many with the group's member, then commit.
    Commit(u8),
    Sync,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Publish),
        2 => (1u8..20).prop_map(Op::Batch),
        2 => (0u8..30).prop_map(Op::Commit),
        1 => Just(Op::Sync),
        1 => Just(Op::Restart),
    ]
}

fn config(mode: Durability) -> TopicConfig {
    TopicConfig::default().capacity(1 << 12).durability(mode)
}

fn open(
    root: &Path,
    mode: Durability,
    crash_at: usize,
    cut: u64,
    appends: &Arc<AtomicUsize>,
    dead: &Arc<AtomicBool>,
    at_death: &Arc<Grave>,
) -> (Bus, ringlet::Topic<u64>) {
    let bus = Bus::builder()
        .storage(Crashing {
            dir: Dir::open(root).unwrap(),
            root: root.to_owned(),
            crash_at,
            cut,
            appends: appends.clone(),
            dead: dead.clone(),
            at_death: at_death.clone(),
        })
        .build();
    let t = bus.durable_topic::<u64>("t", config(mode)).unwrap();
    (bus, t)
}

fn check(ops: &[Op], mode: Durability, crash_at: usize, cut: u64) -> Result<(), TestCaseError> {
    let s = Scratch::new(&format!(
        "model-{}",
        std::thread::current()
            .name()
            .unwrap_or("t")
            .replace("::", "-")
    ));
    let appends = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let at_death = Arc::new(Mutex::new(None));
    let group = GroupConfig::default()
        .start(Start::Earliest)
        .auto_commit(false);
    // The model: the values confirmed, in offset order; the last confirmed
    // commit; how many confirmed values are certainly written (a buffered
    // topic's: those before its last sync or clean restart, and those before
    // the offset last committed).
    let mut confirmed: Vec<u64> = Vec::new();
    let mut committed = 0u64;
    let mut written = 0usize;
    let mut next_value = 0u64;
    let (mut bus, mut t) = open(&s.0, mode, crash_at, cut, &appends, &dead, &at_death);
    let mut member = t.group_with("g", group.clone()).unwrap().join().unwrap();
    for op in ops {
        if dead.load(Ordering::SeqCst) {
            break;
        }
        match op {
            Op::Publish => {
                if let Ok(r) = t.publish(next_value) {
                    prop_assert_eq!(r.offset, confirmed.len() as u64);
                    confirmed.push(next_value);
                }
                next_value += 1;
            }
            Op::Batch(n) => {
                let values: Vec<u64> = (next_value..next_value + u64::from(*n)).collect();
                next_value += u64::from(*n);
                if t.publish_batch(values.clone()).is_ok() {
                    confirmed.extend(values);
                }
            }
            Op::Commit(n) => {
                let _ = member.try_recv_batch(usize::from(*n));
                let at = member.positions().first().map_or(0, |(_, o)| *o);
                if member.commit().is_ok() {
                    committed = committed.max(at);
                    // A commit never points past what the log holds.
                    written = written.max(at as usize);
                }
            }
            Op::Sync => {
                let before = confirmed.len();
                if bus.sync().is_ok() {
                    written = before;
                }
            }
            Op::Restart => {
                drop(member);
                drop(t);
                drop(bus);
                if dead.load(Ordering::SeqCst) {
                    // Died while closing: what it had not written is lost
                    // (the loop ends; this bus only reads).
                    bus = Bus::builder().storage(Dir::open(&s.0).unwrap()).build();
                    t = bus.durable_topic::<u64>("t", config(mode)).unwrap();
                    member = t.group_with("g", group.clone()).unwrap().join().unwrap();
                    continue;
                }
                written = confirmed.len();
                (bus, t) = open(&s.0, mode, crash_at, cut, &appends, &dead, &at_death);
                member = t.group_with("g", group.clone()).unwrap().join().unwrap();
            }
        }
    }
    drop(member);
    drop(t);
    drop(bus);
    bury(&s.0, &at_death);
    // The crash (if it came): open again, without the crashing store.
    let bus = Bus::builder().storage(Dir::open(&s.0).unwrap()).build();
    let t = bus.durable_topic::<u64>("t", config(mode)).unwrap();
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let mut stored = Vec::new();
    while let Ok(b) = sub.try_recv_batch(1 << 12) {
        if b.is_empty() {
            break;
        }
        for r in b {
            prop_assert_eq!(r.offset, stored.len() as u64, "offsets in order, no hole");
            stored.push(r.value);
        }
    }
    if mode == Durability::Buffered {
        prop_assert!(
            stored.len() >= written && stored.len() <= confirmed.len(),
            "{} stored, {} certainly written, {} confirmed",
            stored.len(),
            written,
            confirmed.len()
        );
        prop_assert_eq!(
            &stored[..],
            &confirmed[..stored.len()],
            "the confirmed records, in order"
        );
    } else {
        prop_assert_eq!(&stored, &confirmed, "exactly the confirmed records");
    }
    let c = t.group_with("g", group).unwrap().committed()[0].unwrap_or(0);
    prop_assert!(
        c >= committed && c <= stored.len() as u64,
        "committed {} (confirmed {}, end {})",
        c,
        committed,
        stored.len()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_written_topic_holds_exactly_what_was_confirmed_after_a_crash(
        ops in proptest::collection::vec(op(), 1..80),
        crash_at in 1usize..60,
        cut in 1u64..16,
    ) {
        check(&ops, Durability::Written, crash_at, cut)?;
    }

    #[test]
    fn a_synced_topic_holds_exactly_what_was_confirmed_after_a_crash(
        ops in proptest::collection::vec(op(), 1..40),
        crash_at in 1usize..30,
        cut in 1u64..16,
    ) {
        check(&ops, Durability::Synced, crash_at, cut)?;
    }

    #[test]
    fn a_buffered_topic_holds_a_prefix_of_what_was_confirmed_after_a_crash(
        ops in proptest::collection::vec(op(), 1..80),
        crash_at in 1usize..30,
        cut in 1u64..16,
    ) {
        check(&ops, Durability::Buffered, crash_at, cut)?;
    }
}
