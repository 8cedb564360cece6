//! Durable compacted topics on a store directory: the latest record per key
//! after a restart, a log rewritten to stay small, and rewrites cut short by a
//! crash.

use std::path::Path;

use ringlet::{Bus, Error, Message, OnFull, Start, TopicConfig};
use ringlet_store::Dir;

mod common;
use common::Scratch;

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

fn users(bus: &Bus) -> ringlet::Topic<Option<String>> {
    bus.durable_compacted_topic::<String>("users", TopicConfig::default().capacity(100))
        .unwrap()
}

fn put(t: &ringlet::Topic<Option<String>>, key: &str, value: Option<&str>) -> u64 {
    t.publish_message(Message::new(value.map(str::to_owned)).key(key))
        .unwrap()
        .offset
}

fn retained(t: &ringlet::Topic<Option<String>>) -> Vec<(u64, String, Option<String>)> {
    let mut sub = t.subscribe(Start::Earliest).unwrap();
    let mut got = Vec::new();
    while let Ok(b) = sub.try_recv_batch(1000) {
        if b.is_empty() {
            break;
        }
        got.extend(b.into_iter().map(|r| {
            let key = r.key.as_ref().and_then(|k| k.as_str()).unwrap().to_owned();
            (r.offset, key, r.value)
        }));
    }
    got
}

#[test]
fn the_latest_record_per_key_comes_back_at_its_offset_and_offsets_continue() {
    let s = Scratch::new("compacted-restart");
    let before = {
        let bus = bus(&s.0);
        let t = users(&bus);
        put(&t, "u1", Some("Ada"));
        put(&t, "u2", Some("Bob"));
        put(&t, "u1", Some("Ada Lovelace"));
        put(&t, "u3", Some("Cy"));
        put(&t, "u3", None); // deleted: the tombstone is retained a while
        retained(&t)
    };
    assert_eq!(
        before,
        [
            (1, "u2".into(), Some("Bob".into())),
            (2, "u1".into(), Some("Ada Lovelace".into())),
            (4, "u3".into(), None),
        ]
    );
    let bus = bus(&s.0);
    let t = users(&bus);
    assert_eq!(retained(&t), before);
    assert_eq!(t.end_offsets(), [5]);
    // The tombstone is still a tombstone: it goes first when room is needed.
    assert_eq!(put(&t, "u2", Some("Bob B.")), 5);
    assert_eq!(retained(&t).len(), 3);
    // What is stored decides: a plain durable topic of that name is refused.
    drop(t);
    assert!(matches!(
        bus.durable_topic::<Option<String>>("users", TopicConfig::default()),
        Err(Error::ConfigError { .. } | Error::TypeMismatch { .. })
    ));
}

#[test]
fn a_log_of_many_updates_is_rewritten_with_the_live_records() {
    let s = Scratch::new("compacted-rewrite");
    let part = s.0.join("users").join("0");
    {
        let bus = bus(&s.0);
        let t = users(&bus);
        for i in 0..30_000u32 {
            put(&t, &format!("u{}", i % 10), Some(&format!("version {i}")));
        }
    }
    let bytes: u64 = std::fs::read_dir(&part)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    // 30 000 records of ~40 bytes written; at most ~2 × 4096 kept.
    assert!(bytes < 8192 * 60, "{bytes} bytes in {}", part.display());
    let bus = bus(&s.0);
    let t = users(&bus);
    let got = retained(&t);
    assert_eq!(got.len(), 10);
    for (offset, key, value) in &got {
        let i = *offset as u32;
        assert_eq!(key, &format!("u{}", i % 10));
        assert_eq!(value.as_deref(), Some(format!("version {i}").as_str()));
    }
    assert_eq!(put(&t, "u0", Some("again")), 30_000);
}

#[test]
fn a_rewrite_cut_short_by_a_crash_leaves_the_old_log_or_the_new_one() {
    let s = Scratch::new("compacted-crash");
    let part = s.0.join("users").join("0");
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    };
    {
        let bus = bus(&s.0);
        put(&users(&bus), "u1", Some("complete"));
    }
    let snapshot = s.0.join("snapshot");
    copy(&part, &snapshot);
    {
        let bus = bus(&s.0);
        put(&users(&bus), "u1", Some("in the log the rewrite replaces"));
    }
    // A complete rewrite (`0.next`) not yet put in place, the old log beside it.
    copy(&snapshot, &part.with_file_name("0.next"));
    // And an incomplete one (`0.new`): garbage.
    std::fs::create_dir_all(part.with_file_name("0.new")).unwrap();
    std::fs::write(
        part.with_file_name("0.new")
            .join("00000000000000000000.log"),
        b"torn",
    )
    .unwrap();
    {
        let bus = bus(&s.0);
        let t = users(&bus);
        assert_eq!(retained(&t), [(0, "u1".into(), Some("complete".into()))]);
    }
    for leftover in ["0.new", "0.next", "0.old"] {
        assert!(!part.with_file_name(leftover).exists(), "{leftover} left");
    }
    // Moved away, the new one not yet in place: the new one is put there.
    copy(&part, &part.with_file_name("0.next"));
    std::fs::rename(&part, part.with_file_name("0.old")).unwrap();
    let bus = bus(&s.0);
    assert_eq!(
        retained(&users(&bus)),
        [(0, "u1".into(), Some("complete".into()))]
    );
}

#[test]
fn stored_keys_beyond_a_smaller_capacity_are_a_config_error() {
    let s = Scratch::new("compacted-capacity");
    {
        let bus = bus(&s.0);
        let t = users(&bus);
        for i in 0..20 {
            put(&t, &format!("u{i}"), Some("x"));
        }
    }
    let bus = bus(&s.0);
    let e = bus
        .durable_compacted_topic::<String>(
            "users",
            TopicConfig::default().capacity(10).on_full(OnFull::Keep),
        )
        .unwrap_err();
    assert!(e.to_string().contains("at least"), "{e}");
}
