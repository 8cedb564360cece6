//! Data products: topic metadata, the catalog, naming rules, schemas checked at
//! publish and their evolution.

use ringlet::{
    AppendError, Bus, Error, ErrorDetails, ErrorKind, Message, NamingRule, OnFull, PublishError,
    Start, TopicConfig,
};
use serde_json::{json, Value};

/// One keyword per row: a schema, values it accepts, values it refuses with the
/// path and rule expected.
/// A value refused, with the path and rule the error names.
type Refusal = (Value, &'static str, &'static str);

fn table() -> Vec<(Value, Vec<Value>, Vec<Refusal>)> {
    vec![
        (
            json!({"type": "object"}),
            vec![json!({}), json!({"a": 1})],
            vec![(json!([1]), "", "type"), (json!("x"), "", "type")],
        ),
        (
            json!({"type": "object", "required": ["id"]}),
            vec![json!({"id": 1})],
            vec![(json!({"x": 1}), "", "required")],
        ),
        (
            json!({"properties": {"n": {"type": "integer"}}}),
            vec![json!({"n": 3}), json!({})],
            vec![
                (json!({"n": 1.5}), "/n", "type"),
                (json!({"n": "3"}), "/n", "type"),
            ],
        ),
        (
            json!({"properties": {"n": {"minimum": 0, "maximum": 10}}}),
            vec![json!({"n": 0}), json!({"n": 10})],
            vec![
                (json!({"n": -1}), "/n", "minimum"),
                (json!({"n": 11}), "/n", "maximum"),
            ],
        ),
        (
            json!({"properties": {"n": {"exclusiveMinimum": 0}}}),
            vec![json!({"n": 0.5})],
            vec![(json!({"n": 0}), "/n", "exclusiveMinimum")],
        ),
        (
            json!({"properties": {"s": {"minLength": 2, "maxLength": 3}}}),
            vec![json!({"s": "ab"}), json!({"s": "abc"})],
            vec![
                (json!({"s": "a"}), "/s", "minLength"),
                (json!({"s": "abcd"}), "/s", "maxLength"),
            ],
        ),
        (
            json!({"properties": {"s": {"pattern": "^[A-Z]{3}$"}}}),
            vec![json!({"s": "EUR"})],
            vec![(json!({"s": "eur"}), "/s", "pattern")],
        ),
        (
            json!({"properties": {"c": {"enum": ["red", "green"]}}}),
            vec![json!({"c": "red"})],
            vec![(json!({"c": "blue"}), "/c", "enum")],
        ),
        (
            json!({"properties": {"v": {"const": 1}}}),
            vec![json!({"v": 1})],
            vec![(json!({"v": 2}), "/v", "const")],
        ),
        (
            json!({"additionalProperties": false, "properties": {"a": {}}}),
            vec![json!({"a": 1})],
            vec![(json!({"a": 1, "b": 2}), "", "additionalProperties")],
        ),
        (
            json!({"properties": {"items": {"type": "array", "items": {"type": "object",
                "properties": {"price": {"type": "number"}}}, "minItems": 1}}}),
            vec![json!({"items": [{"price": 1.5}]})],
            vec![
                (
                    json!({"items": [{"price": 1}, {"price": "x"}]}),
                    "/items/1/price",
                    "type",
                ),
                (json!({"items": []}), "/items", "minItems"),
            ],
        ),
        (
            json!({"properties": {"tags": {"uniqueItems": true}}}),
            vec![json!({"tags": [1, 2]})],
            vec![(json!({"tags": [1, 1]}), "/tags", "uniqueItems")],
        ),
        (
            json!({"anyOf": [{"type": "string"}, {"type": "number"}]}),
            vec![json!("x"), json!(1)],
            vec![(json!(null), "", "anyOf")],
        ),
        (
            json!({"oneOf": [{"multipleOf": 2}, {"multipleOf": 3}]}),
            vec![json!(4), json!(9)],
            vec![(json!(6), "", "oneOf"), (json!(5), "", "oneOf")],
        ),
        (
            json!({"$defs": {"id": {"type": "integer"}}, "properties": {"id": {"$ref": "#/$defs/id"}}}),
            vec![json!({"id": 1})],
            vec![(json!({"id": "1"}), "/id", "type")],
        ),
        (
            json!({"properties": {"weird/key~": {"type": "integer"}}}),
            vec![json!({"weird/key~": 1})],
            vec![(json!({"weird/key~": "1"}), "/weird~1key~0", "type")],
        ),
    ]
}

#[test]
fn schema_keywords_accept_and_refuse() {
    let bus = Bus::new();
    for (i, (schema, good, bad)) in table().into_iter().enumerate() {
        let name = format!("t{i}");
        let t = bus
            .topic::<Value>(&name, TopicConfig::default().schema(schema.clone()))
            .unwrap();
        let mut sub = t.subscribe(Start::Earliest).unwrap();
        for v in &good {
            t.publish(v.clone())
                .unwrap_or_else(|e| panic!("{schema} refused {v}: {e}"));
        }
        for (v, path, rule) in &bad {
            match t.publish(v.clone()) {
                Err(PublishError::Schema(back, e)) => {
                    assert_eq!(&back, v, "handed back");
                    assert_eq!(
                        (e.path.as_str(), e.rule.as_str()),
                        (*path, *rule),
                        "{schema} {v}: {e}"
                    );
                    assert_eq!(e.topic, name);
                    let text = PublishError::Schema(back, e.clone()).to_string();
                    assert!(text.contains(&name) && text.contains(rule), "{text}");
                    assert_eq!(PublishError::Schema((), e).kind(), ErrorKind::SchemaError);
                }
                other => panic!("{schema} accepted {v}: {other:?}"),
            }
        }
        // Nothing refused was appended.
        let got: Vec<Value> = sub
            .try_recv_batch(100)
            .unwrap()
            .into_iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(got, good, "{schema}");
    }
}

#[test]
fn every_publish_path_checks() {
    let bus = Bus::new();
    let schema = json!({"type": "integer"});
    let t = bus
        .topic::<Value>("p", TopicConfig::default().schema(schema.clone()))
        .unwrap();
    assert!(matches!(
        t.try_publish(json!("x")),
        Err(PublishError::Schema(..))
    ));
    assert!(matches!(
        t.publish_message(Message::new(json!("x")).key("k")),
        Err(PublishError::Schema(..))
    ));
    assert!(matches!(
        t.publish_timeout(json!("x"), std::time::Duration::from_millis(1)),
        Err(ringlet::PublishTimeoutError::Schema(..))
    ));
    assert!(matches!(
        futures_executor::block_on(t.publish_async(json!("x"))),
        Err(PublishError::Schema(..))
    ));
    // A batch publishes up to the first mismatch and hands back it and the rest.
    let e = t
        .publish_batch([json!(1), json!(2), json!("three"), json!(4)])
        .unwrap_err();
    assert!(
        matches!(&e, PublishError::Schema(rest, err) if rest == &vec![json!("three"), json!(4)] && err.path.is_empty())
    );
    assert_eq!(t.end_offsets(), vec![2]);
    // Multi-partition batches too.
    let m = bus
        .topic::<Value>("m", TopicConfig::default().partitions(3).schema(schema))
        .unwrap();
    let e = m.publish_batch([json!(1), json!(false)]).unwrap_err();
    assert!(matches!(e, PublishError::Schema(rest, _) if rest == vec![json!(false)]));
    assert_eq!(m.end_offsets().iter().sum::<u64>(), 1);
}

#[test]
fn compacted_tombstones_are_not_checked() {
    let bus = Bus::new();
    let t = bus
        .compacted_topic::<Value>(
            "users",
            TopicConfig::default().schema(json!({"type": "object", "required": ["name"]})),
        )
        .unwrap();
    t.publish_message(Message::new(Some(json!({"name": "ada"}))).key("u1"))
        .unwrap();
    t.publish_message(Message::new(None).key("u1")).unwrap();
    assert!(matches!(
        t.publish_message(Message::new(Some(json!({}))).key("u2")),
        Err(PublishError::Schema(..))
    ));
}

#[test]
fn serde_values_are_checked_as_their_json() {
    #[derive(Clone, serde::Serialize)]
    struct Order {
        id: u32,
        amount: i64,
        note: Option<String>,
    }
    let bus = Bus::new();
    let schema = json!({"type": "object", "properties": {"amount": {"minimum": 1},
        "note": {"type": ["string", "null"], "maxLength": 5}}, "required": ["id", "amount"]});
    let t = bus
        .schema_topic::<Order>("orders", TopicConfig::default().schema(schema.clone()))
        .unwrap();
    t.publish(Order {
        id: 1,
        amount: 5,
        note: None,
    })
    .unwrap();
    let Err(PublishError::Schema(_, e)) = t.publish(Order {
        id: 2,
        amount: 5,
        note: Some("too long".into()),
    }) else {
        panic!("accepted")
    };
    assert_eq!((e.path.as_str(), e.rule.as_str()), ("/note", "maxLength"));
    // A plain `topic` of a type the core cannot see as JSON says what to do.
    let Err(Error::ConfigError { reason, .. }) =
        bus.topic::<Order>("orders2", TopicConfig::default().schema(schema))
    else {
        panic!("opened")
    };
    assert!(reason.contains("schema_topic"), "{reason}");
    assert!(
        bus.get_topic::<Order>("orders2").is_err(),
        "nothing left behind"
    );
}

#[test]
fn invalid_schemas_are_refused() {
    let bus = Bus::new();
    for bad in [
        json!(3),
        json!("object"),
        json!({"type": "nope"}),
        json!({"minimum": "x"}),
    ] {
        let r = bus.topic::<Value>("x", TopicConfig::default().schema(bad.clone()));
        assert!(matches!(r, Err(Error::ConfigError { .. })), "{bad}: {r:?}");
    }
    assert!(bus.names().is_empty());
}

#[test]
fn event_stores_refuse_whole_appends() {
    let bus = Bus::new();
    let store = bus
        .event_store::<Value>(
            "events",
            TopicConfig::default()
                .on_full(OnFull::Keep)
                .schema(json!({"required": ["type"]})),
        )
        .unwrap();
    let e = store
        .append(
            "a1",
            vec![json!({"type": "opened"}), json!({"oops": 1})],
            Some(0),
        )
        .unwrap_err();
    assert!(matches!(&e, AppendError::Schema(events, _) if events.len() == 2));
    assert_eq!(e.kind(), ErrorKind::SchemaError);
    assert_eq!(store.version("a1"), 0);
}

#[test]
fn evolution_accepts_optional_fields_only() {
    let bus = Bus::new();
    let v1 = json!({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}},
        "required": ["id", "note"]});
    let t = bus
        .topic::<Value>("orders", TopicConfig::default().schema(v1.clone()))
        .unwrap();
    let accepted = [
        // An optional property.
        json!({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"},
            "tip": {"type": "number"}}, "required": ["id", "note"]}),
        // A required property becomes optional; annotations change.
        json!({"type": "object", "title": "Order", "properties": {"id": {"type": "integer", "description": "the id"},
            "note": {"type": "string"}, "tip": {"type": "number"}}, "required": ["id"]}),
    ];
    for next in accepted {
        t.set_schema(next.clone())
            .unwrap_or_else(|e| panic!("{next}: {e}"));
        assert_eq!(t.schema(), Some(next));
    }
    let current = t.schema().unwrap();
    let refused = [
        (
            json!({"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"},
            "tip": {"type": "number"}, "must": {"type": "string"}}, "required": ["id", "must"]}),
            "must",
        ),
        (
            json!({"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"},
            "tip": {"type": "number"}}, "required": ["id"]}),
            "/properties/id/type",
        ),
        (
            json!({"type": "object", "properties": {"id": {"type": "integer"}, "tip": {"type": "number"}},
            "required": ["id"]}),
            "\"note\"",
        ),
        (
            json!({"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}, "note": {"type": "string"},
            "tip": {"type": "number"}}, "required": ["id"]}),
            "minimum",
        ),
        (
            json!({"type": "object", "additionalProperties": false, "properties": {"id": {"type": "integer"},
            "note": {"type": "string"}, "tip": {"type": "number"}}, "required": ["id"]}),
            "additionalProperties",
        ),
        (json!({"type": "array"}), "type"),
    ];
    for (next, names) in refused {
        let Err(Error::ConfigError { reason, .. }) = t.set_schema(next.clone()) else {
            panic!("accepted {next}")
        };
        assert!(reason.contains(names), "{next}: {reason}");
        assert_eq!(t.schema().as_ref(), Some(&current), "unchanged");
    }
    // Opening again with a newer schema evolves it; with the same one changes nothing;
    // without one keeps it.
    let mut v3 = current.clone();
    v3["properties"]["vat"] = json!({"type": "number"});
    bus.topic::<Value>("orders", TopicConfig::default().schema(v3.clone()))
        .unwrap();
    assert_eq!(t.schema(), Some(v3.clone()));
    bus.topic::<Value>("orders", TopicConfig::default())
        .unwrap();
    assert_eq!(t.schema(), Some(v3));
    assert!(bus
        .topic::<Value>("orders", TopicConfig::default().schema(v1))
        .is_err());
    // A topic without a schema takes any first one.
    let plain = bus.topic::<Value>("plain", TopicConfig::default()).unwrap();
    plain.publish(json!("anything")).unwrap();
    plain.set_schema(json!({"type": "object"})).unwrap();
    assert!(plain.publish(json!("anything")).is_err());
}

#[test]
fn metadata_is_kept_and_agreed() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>(
            "sales.orders.v1",
            TopicConfig::default()
                .owner("sales")
                .description("Orders as placed")
                .tag("pii:none")
                .tag("tier:1")
                .tag("pii:none"),
        )
        .unwrap();
    let m = t.metadata();
    assert_eq!(m.owner.as_deref(), Some("sales"));
    assert_eq!(m.tags, vec!["pii:none", "tier:1"]);
    assert!(t.config().metadata.is_empty(), "config() is the shape");
    // Left out: opens as it is. The same: fine. Another owner: refused, saying why.
    bus.topic::<u8>("sales.orders.v1", TopicConfig::default())
        .unwrap();
    bus.topic::<u8>("sales.orders.v1", TopicConfig::default().owner("sales"))
        .unwrap();
    let Err(Error::ConfigError { reason, .. }) =
        bus.topic::<u8>("sales.orders.v1", TopicConfig::default().owner("billing"))
    else {
        panic!("opened")
    };
    assert!(
        reason.contains("\"sales\"") && reason.contains("\"billing\""),
        "{reason}"
    );
    // Metadata a topic lacks is filled in.
    let u = bus.topic::<u8>("u", TopicConfig::default()).unwrap();
    bus.topic::<u8>("u", TopicConfig::default().description("later"))
        .unwrap();
    assert_eq!(u.metadata().description.as_deref(), Some("later"));
    // Bad metadata.
    for bad in [
        TopicConfig::default().owner(" "),
        TopicConfig::default().tag(""),
        TopicConfig::default().description("x".repeat(5000)),
    ] {
        assert!(matches!(
            bus.topic::<u8>("v", bad),
            Err(Error::ConfigError { .. })
        ));
    }
}

#[test]
fn catalog_lists_data_products() {
    let bus = Bus::builder().journal(100).build();
    let schema = json!({"type": "object", "required": ["page"]});
    let clicks = bus
        .topic::<Value>(
            "web.clicks.v1",
            TopicConfig::default()
                .partitions(2)
                .capacity(64)
                .owner("web")
                .description("Page clicks")
                .tag("pii:none")
                .schema(schema.clone()),
        )
        .unwrap();
    for p in ["/", "/a", "/b"] {
        clicks.publish(json!({"page": p})).unwrap();
    }
    let billing = clicks
        .group_with(
            "billing",
            ringlet::GroupConfig::default().start(Start::Earliest),
        )
        .unwrap();
    let _member = billing.join().unwrap();
    let workers = clicks
        .share_group_with(
            "workers",
            ringlet::ShareGroupConfig::default().start(Start::Earliest),
        )
        .unwrap();
    let w = workers.join().unwrap();
    w.receive().unwrap().ack().unwrap();
    // A stream writing another topic: the topology is its producer.
    let pages = bus
        .topic::<Value>("web.pages.v1", TopicConfig::default())
        .unwrap();
    clicks.stream().unwrap().to(&pages).unwrap();

    let catalog = bus.catalog();
    let names: Vec<&str> = catalog.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["web.clicks.v1", "web.pages.v1"],
        "sorted, no __journal"
    );
    let c = &catalog[0];
    assert_eq!(c.owner.as_deref(), Some("web"));
    assert_eq!(c.description.as_deref(), Some("Page clicks"));
    assert_eq!(c.tags, vec!["pii:none"]);
    assert_eq!(c.schema.as_ref(), Some(&schema));
    assert_eq!((c.partitions, c.retention.capacity, c.records), (2, 64, 3));
    let consumers: Vec<(&str, &str, Option<u64>)> = c
        .consumers
        .iter()
        .map(|p| (p.kind.as_str(), p.name.as_str(), p.lag))
        .collect();
    assert!(
        consumers.contains(&("group", "billing", Some(3))),
        "{consumers:?}"
    );
    assert!(
        consumers.contains(&("share_group", "workers", Some(2))),
        "{consumers:?}"
    );
    assert!(
        consumers
            .iter()
            .any(|(k, n, _)| *k == "group" && *n == "streams"),
        "{consumers:?}"
    );
    assert_eq!(c.lag, 3);
    let p = &catalog[1];
    assert_eq!(p.producers.len(), 1);
    assert_eq!(
        (p.producers[0].kind.as_str(), p.producers[0].name.as_str()),
        ("topology", "streams")
    );
    // The JSON shape is pinned.
    let json = serde_json::to_value(&catalog[1]).unwrap();
    assert_eq!(
        json,
        json!({
            "name": "web.pages.v1", "owner": null, "description": null, "tags": [], "schema": null,
            "partitions": 1,
            "retention": {"capacity": 1024, "max_age_ms": null, "on_full": "overwrite",
                          "compacted": false, "durable": false},
            "records": 0,
            "producers": [{"kind": "topology", "name": "streams"}],
            "consumers": [],
            "lag": 0
        })
    );
}

#[test]
fn naming_rules_govern_new_topics() {
    let rule = NamingRule::template("<domain>.<product>.v<version>").unwrap();
    let bus = Bus::builder().journal(10).naming_rule(rule).build();
    assert!(bus.naming_rule().is_some());
    let orders = bus
        .topic::<u64>("sales.orders.v1", TopicConfig::default())
        .unwrap();
    let Err(Error::InvalidName { name, reason }) =
        bus.topic::<u64>("orders", TopicConfig::default())
    else {
        panic!("created")
    };
    assert_eq!(name, "orders");
    assert!(reason.contains("<domain>.<product>.v<version>"), "{reason}");
    // Queues are not topics; the bus's own topics (stream changelogs) are exempt.
    bus.queue::<u64>("jobs", ringlet::QueueConfig::default())
        .unwrap();
    let counts = orders
        .stream()
        .unwrap()
        .key_by(|r| (r.value % 2).to_string())
        .group_by_key()
        .count()
        .unwrap();
    orders.publish(3).unwrap();
    bus.run_until_idle().unwrap();
    assert_eq!(counts.get("1"), Some(1));
}
