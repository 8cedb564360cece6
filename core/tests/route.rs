//! `Stream::route`: each record to the topic its route function names, and the
//! stream's failure rules when it may not go there.

use ringlet::streams::{Cause, Routes};
use ringlet::{Bus, Message, NamingRule, OnError, Start, TopicConfig};

type Order = (String, u32);

fn values(bus: &Bus, topic: &str) -> Vec<ringlet::Record<Order>> {
    let mut sub = bus
        .get_topic::<Order>(topic)
        .unwrap()
        .subscribe(Start::Earliest)
        .unwrap();
    std::iter::from_fn(|| sub.try_recv().ok()).collect()
}

#[test]
fn routes_each_record_to_the_topic_named_for_it_creating_them_from_the_template() {
    let bus = Bus::new();
    let orders = bus
        .topic::<Order>("orders", TopicConfig::default())
        .unwrap();
    orders.stream().unwrap().route(
        |r| format!("orders.{}", r.value.0),
        Routes::create(TopicConfig::default().partitions(3).capacity(64)),
    );
    for (i, country) in ["eu", "us", "eu", "jp"].into_iter().enumerate() {
        orders
            .publish_message(
                Message::new((country.to_string(), i as u32))
                    .key(format!("c{i}"))
                    .header("source", "web")
                    .timestamp(1_000 + i as i64),
            )
            .unwrap();
    }
    bus.run_until_idle().unwrap();
    let eu = values(&bus, "orders.eu");
    assert_eq!(eu.iter().map(|r| r.value.1).collect::<Vec<_>>(), [0, 2]);
    assert_eq!(eu[0].key.as_ref().unwrap().as_str(), Some("c0"));
    assert_eq!(eu[0].headers.get("source"), Some(&b"web"[..]));
    assert_eq!(eu[1].timestamp, 1_002);
    assert_eq!(values(&bus, "orders.us").len(), 1);
    assert_eq!(values(&bus, "orders.jp").len(), 1);
    let t = bus.get_topic::<Order>("orders.jp").unwrap();
    assert_eq!((t.config().partitions, t.config().capacity), (3, 64));
    // The topology shows where records went.
    let d = bus.topology().describe();
    let route = d.nodes.iter().find(|n| n.op == "route").unwrap();
    assert_eq!(route.kind, "sink");
    assert_eq!(route.topics, ["orders.eu", "orders.us", "orders.jp"]);
}

#[test]
fn routing_to_a_missing_topic_without_a_template_fails_the_record_until_it_exists() {
    let bus = Bus::new();
    let orders = bus
        .topic::<Order>("orders", TopicConfig::default())
        .unwrap();
    bus.topic::<Order>("orders.eu", TopicConfig::default())
        .unwrap();
    orders
        .stream()
        .unwrap()
        .route(|r| format!("orders.{}", r.value.0), Routes::existing());
    orders.publish(("eu".into(), 1)).unwrap();
    orders.publish(("mars".into(), 2)).unwrap();
    orders.publish(("eu".into(), 3)).unwrap();
    let err = bus.run_until_idle().unwrap_err();
    assert_eq!((err.topic.as_str(), err.offset), ("orders", 1));
    match &err.cause {
        Cause::Output { target, reason } => {
            assert_eq!(target, "orders.mars");
            assert!(reason.contains("Routes::create"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(values(&bus, "orders.eu").len(), 1);
    // Stop: the record is read again; once the topic exists it goes through.
    assert!(bus.run_until_idle().is_err());
    bus.topic::<Order>("orders.mars", TopicConfig::default())
        .unwrap();
    bus.run_until_idle().unwrap();
    assert_eq!(values(&bus, "orders.mars").len(), 1);
    assert_eq!(values(&bus, "orders.eu").len(), 2);
}

#[test]
fn a_failing_route_function_follows_the_streams_failure_rules() {
    let bus = Bus::new();
    let orders = bus
        .topic::<Order>("orders", TopicConfig::default())
        .unwrap();
    bus.topology().on_error(OnError::Skip);
    orders.stream().unwrap().try_route(
        |r| {
            if r.value.0.is_empty() {
                Err("an order without a country".into())
            } else {
                Ok(format!("orders.{}", r.value.0))
            }
        },
        Routes::create(TopicConfig::default()),
    );
    orders.publish(("eu".into(), 1)).unwrap();
    orders.publish((String::new(), 2)).unwrap();
    orders.publish(("eu".into(), 3)).unwrap();
    bus.run_until_idle().unwrap();
    assert_eq!(
        values(&bus, "orders.eu")
            .iter()
            .map(|r| r.value.1)
            .collect::<Vec<_>>(),
        [1, 3]
    );
    let errors = bus.topology().errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].offset, 1);
    assert!(
        matches!(&errors[0].cause, Cause::Callback(e) if e.to_string() == "an order without a country")
    );
}

#[cfg(not(target_family = "wasm"))]
#[test]
fn a_panicking_route_function_fails_its_record() {
    let bus = Bus::new();
    let orders = bus
        .topic::<Order>("orders", TopicConfig::default())
        .unwrap();
    orders.stream().unwrap().route(
        |r| {
            assert!(r.value.1 < 2, "too big");
            "orders.ok".into()
        },
        Routes::create(TopicConfig::default()),
    );
    orders
        .publish_batch([("a".to_string(), 1), ("b".to_string(), 5)])
        .unwrap();
    let err = bus.run_until_idle().unwrap_err();
    assert!(
        matches!(&err.cause, Cause::Panic(m) if m.contains("too big")),
        "{err:?}"
    );
    assert_eq!(values(&bus, "orders.ok").len(), 1);
}

#[test]
fn routes_that_would_loop_or_break_the_rules_fail_with_the_reason() {
    let bus = Bus::builder()
        .naming_rule(NamingRule::template("<domain>.<product>").unwrap())
        .build();
    let orders = bus
        .topic::<Order>("shop.orders", TopicConfig::default())
        .unwrap();
    bus.topic::<String>("shop.text", TopicConfig::default())
        .unwrap();
    bus.queue::<Order>("shop.jobs", Default::default()).unwrap();
    bus.topology().on_error(OnError::Skip);
    orders.stream().unwrap().route(
        |r| r.value.0.clone(),
        Routes::create(TopicConfig::default()),
    );
    for target in [
        "shop.orders",
        "nodots",
        "shop.text",
        "shop.jobs",
        "bad name!",
        "shop.fine",
    ] {
        orders.publish((target.to_string(), 0)).unwrap();
    }
    bus.run_until_idle().unwrap();
    let errors = bus.topology().errors();
    let reasons: Vec<(String, String)> = errors
        .iter()
        .map(|e| match &e.cause {
            Cause::Output { target, reason } => (target.clone(), reason.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert_eq!(reasons[0].0, "shop.orders");
    assert!(reasons[0].1.contains("loop"), "{}", reasons[0].1);
    assert!(
        reasons[1].1.contains("<domain>.<product>"),
        "{}",
        reasons[1].1
    );
    assert!(reasons[2].1.contains("String"), "{}", reasons[2].1);
    assert!(reasons[3].1.contains("queue"), "{}", reasons[3].1);
    assert_eq!(reasons[4].0, "bad name!");
    assert_eq!(values(&bus, "shop.fine").len(), 1);
    // A topic that feeds, through this topology, a topic the stream reads is
    // refused too.
    let fwd = bus
        .topic::<Order>("shop.fwd", TopicConfig::default())
        .unwrap();
    fwd.stream().unwrap().to(&orders).unwrap();
    fwd.publish(("shop.fwd".into(), 0)).unwrap();
    bus.run_until_idle().unwrap();
    let errors = bus.topology().errors();
    assert_eq!(errors.len(), 6);
    match &errors[5].cause {
        Cause::Output { target, reason } => {
            assert_eq!(target, "shop.fwd");
            assert!(reason.contains("feeds \"shop.orders\""), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}
