//! A durable topic's data-product metadata — owner, description, tags and JSON
//! Schema — is stored with it: opened again after a restart (or after the
//! process was killed), the topic has what it had, its schema is checked, and
//! changes follow the same rules as in one process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use ringlet::{Bus, Error, PublishError, TopicConfig};
use ringlet_store::Dir;
use serde_json::{json, Value};

mod common;
use common::Scratch;

fn bus(dir: &Path) -> Bus {
    Bus::builder().storage(Dir::open(dir).unwrap()).build()
}

fn v1() -> Value {
    json!({
        "type": "object",
        "properties": {"id": {"type": "integer"}, "total": {"type": "number", "minimum": 0}},
        "required": ["id", "total"]
    })
}

fn v2() -> Value {
    let mut v = v1();
    v["properties"]["note"] = json!({"type": "string"});
    v
}

fn product() -> TopicConfig {
    TopicConfig::default()
        .partitions(2)
        .owner("sales")
        .description("Orders as placed")
        .tag("pii:none")
        .schema(v1())
}

#[test]
fn metadata_and_schema_survive_a_restart_and_are_checked_after_it() {
    let s = Scratch::new("metadata-restart");
    {
        let bus = bus(&s.0);
        let t = bus.durable_topic::<Value>("orders", product()).unwrap();
        t.publish(json!({"id": 1, "total": 3.5})).unwrap();
        bus.close().unwrap();
    }
    let bus = bus(&s.0);
    // Opened with nothing but its shape: the metadata is what was stored.
    let t = bus
        .durable_topic::<Value>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    let m = t.metadata();
    assert_eq!(m.owner.as_deref(), Some("sales"));
    assert_eq!(m.description.as_deref(), Some("Orders as placed"));
    assert_eq!(m.tags, vec!["pii:none".to_string()]);
    assert_eq!(t.schema(), Some(v1()));
    let Err(PublishError::Schema(_, e)) = t.publish(json!({"id": 2, "total": -1})) else {
        panic!("the stored schema is not checked after the restart")
    };
    assert_eq!((e.path.as_str(), e.rule.as_str()), ("/total", "minimum"));
    assert_eq!(t.end_offsets().iter().sum::<u64>(), 1, "nothing appended");
    let catalog = bus.catalog();
    assert_eq!(catalog[0].owner.as_deref(), Some("sales"));
    assert_eq!(catalog[0].schema, Some(v1()));
}

#[test]
fn a_restart_applies_the_same_rules_as_opening_again_in_one_process() {
    let s = Scratch::new("metadata-rules");
    {
        let bus = bus(&s.0);
        bus.durable_topic::<Value>("orders", product()).unwrap();
        bus.close().unwrap();
    }
    {
        let bus = bus(&s.0);
        // Another owner: refused, naming both.
        let e = bus
            .durable_topic::<Value>("orders", TopicConfig::default().partitions(2).owner("web"))
            .unwrap_err();
        assert!(matches!(e, Error::ConfigError { .. }), "{e}");
        assert!(
            e.to_string().contains("\"sales\"") && e.to_string().contains("\"web\""),
            "{e}"
        );
        // A schema that is not compatible with the stored one: refused.
        let mut tighter = v1();
        tighter["required"] = json!(["id", "total", "note"]);
        tighter["properties"]["note"] = json!({"type": "string"});
        let e = bus
            .durable_topic::<Value>(
                "orders",
                TopicConfig::default().partitions(2).schema(tighter),
            )
            .unwrap_err();
        assert!(e.to_string().contains("required"), "{e}");
        // A compatible one evolves it, and is stored.
        let t = bus
            .durable_topic::<Value>("orders", TopicConfig::default().partitions(2).schema(v2()))
            .unwrap();
        assert_eq!(t.schema(), Some(v2()));
        bus.close().unwrap();
    }
    let bus = bus(&s.0);
    let t = bus
        .durable_topic::<Value>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    assert_eq!(t.schema(), Some(v2()));
    assert_eq!(t.metadata().owner.as_deref(), Some("sales"));
}

#[test]
fn a_topic_without_metadata_stores_none_and_takes_it_later() {
    let s = Scratch::new("metadata-later");
    {
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<Value>("plain", TopicConfig::default())
            .unwrap();
        assert_eq!(t.metadata(), ringlet::TopicMetadata::default());
        bus.close().unwrap();
    }
    {
        let bus = bus(&s.0);
        // Metadata it lacks is filled in, and kept.
        bus.durable_topic::<Value>("plain", TopicConfig::default().owner("ops").tag("tier:2"))
            .unwrap();
        bus.close().unwrap();
    }
    let bus = bus(&s.0);
    let t = bus
        .durable_topic::<Value>("plain", TopicConfig::default())
        .unwrap();
    assert_eq!(t.metadata().owner.as_deref(), Some("ops"));
    assert_eq!(t.metadata().tags, vec!["tier:2".to_string()]);
}

/// The child of the kill test: opens the topic as it is, changes its schema,
/// says so, then publishes until it is killed.
fn kill_child(dir: &str) {
    let bus = bus(Path::new(dir));
    let t = bus
        .durable_topic::<Value>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    t.set_schema(v2()).unwrap();
    println!("set");
    for i in 0.. {
        t.publish(json!({"id": i, "total": 1, "note": "n"}))
            .unwrap();
    }
}

#[test]
fn a_schema_set_before_the_process_is_killed_is_there_after_it() {
    if let Ok(dir) = std::env::var("RINGLET_METADATA_CHILD") {
        kill_child(&dir);
        return;
    }
    let s = Scratch::new("metadata-kill");
    {
        let bus = bus(&s.0);
        bus.durable_topic::<Value>("orders", product()).unwrap();
        bus.close().unwrap();
    }
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_schema_set_before_the_process_is_killed_is_there_after_it",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RINGLET_METADATA_CHILD", &s.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // The harness may print the test's name on the same line first.
        let said = lines.find_map(|l| l.ok().filter(|l| l.ends_with("set")));
        assert!(
            said.is_some(),
            "round {round}: the child did not set the schema"
        );
        std::thread::sleep(std::time::Duration::from_millis(5 + 20 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<Value>("orders", TopicConfig::default().partitions(2))
            .unwrap();
        assert_eq!(t.schema(), Some(v2()), "round {round}");
        assert_eq!(
            t.metadata().owner.as_deref(),
            Some("sales"),
            "round {round}"
        );
        // The schema it stored is the one checked.
        assert!(t.publish(json!({"id": 1, "total": 1, "note": 5})).is_err());
        bus.close().unwrap();
    }
}

#[test]
fn json_values_are_read_back_after_a_restart_tombstones_and_nulls_kept_apart() {
    let s = Scratch::new("metadata-json");
    {
        let bus = bus(&s.0);
        let t = bus
            .durable_topic::<Value>("events", TopicConfig::default())
            .unwrap();
        t.publish(json!({"a": [1, "x", null]})).unwrap();
        let c = bus
            .durable_compacted_topic::<Value>("users", TopicConfig::default())
            .unwrap();
        c.publish_message(ringlet::Message::new(Some(json!(null))).key("u1"))
            .unwrap();
        c.publish_message(ringlet::Message::new(Some(json!({"n": 1}))).key("u2"))
            .unwrap();
        c.publish_message(ringlet::Message::new(None).key("u2"))
            .unwrap();
        bus.close().unwrap();
    }
    let bus = bus(&s.0);
    let t = bus
        .durable_topic::<Value>("events", TopicConfig::default())
        .unwrap();
    let mut sub = t.subscribe(ringlet::Start::Earliest).unwrap();
    assert_eq!(sub.try_recv().unwrap().value, json!({"a": [1, "x", null]}));
    let c = bus
        .durable_compacted_topic::<Value>("users", TopicConfig::default())
        .unwrap();
    let mut sub = c.subscribe(ringlet::Start::Earliest).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| sub.try_recv().ok())
        .map(|r| (r.key, r.value))
        .collect();
    assert!(
        got.iter().any(
            |(k, v)| k.as_ref().map(|k| k.as_bytes()) == Some(&b"u1"[..])
                && *v == Some(json!(null))
        ),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|(k, v)| k.as_ref().map(|k| k.as_bytes()) == Some(&b"u2"[..]) && v.is_some()),
        "{got:?}"
    );
}
