//! The bus registry: names, types, configurations, deletion.

use ringlet::{Bus, Error, OnFull, TopicConfig};

#[test]
fn same_name_type_and_config_is_the_same_topic() {
    let bus = Bus::new();
    let a = bus
        .topic::<u32>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    let b = bus
        .topic::<u32>("orders", TopicConfig::default().partitions(2))
        .unwrap();
    a.publish(1).unwrap();
    assert_eq!(b.end_offsets().iter().sum::<u64>(), 1);
    // Clones of the bus share the registry.
    let c = bus.clone().get_topic::<u32>("orders").unwrap();
    assert_eq!(c.end_offsets().iter().sum::<u64>(), 1);
}

#[test]
fn another_type_or_config_is_an_error() {
    let bus = Bus::new();
    bus.topic::<u32>("t", TopicConfig::default()).unwrap();
    match bus.topic::<String>("t", TopicConfig::default()) {
        Err(Error::TypeMismatch { name, .. }) => assert_eq!(name, "t"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        bus.get_topic::<i64>("t"),
        Err(Error::TypeMismatch { .. })
    ));
    for conflicting in [
        TopicConfig::default().capacity(7),
        TopicConfig::default().partitions(2),
        TopicConfig::default().on_full(OnFull::Block),
        TopicConfig::default().max_age(std::time::Duration::from_secs(1)),
    ] {
        let e = bus.topic::<u32>("t", conflicting).unwrap_err();
        assert!(matches!(e, Error::ConfigError { .. }), "{e}");
        assert!(e.to_string().contains("get_topic"), "{e}");
    }
}

#[test]
fn names_follow_kafka_rules() {
    let bus = Bus::new();
    for bad in [
        "",
        ".",
        "..",
        "with space",
        "slash/y",
        "ünï",
        "__journal",
        &"x".repeat(250),
    ] {
        assert!(
            matches!(
                bus.topic::<u8>(bad, TopicConfig::default()),
                Err(Error::InvalidName { .. })
            ),
            "{bad:?}"
        );
    }
    for good in ["a", "A.b_c-9", &"x".repeat(249)] {
        bus.topic::<u8>(good, TopicConfig::default()).unwrap();
    }
    assert!(matches!(
        bus.get_topic::<u8>("no/such"),
        Err(Error::InvalidName { .. })
    ));
}

#[test]
fn invalid_configs_are_typed_errors() {
    let bus = Bus::new();
    for c in [
        TopicConfig::default().capacity(0),
        TopicConfig::default().partitions(0),
        TopicConfig::default().capacity(ringlet::MAX_CAPACITY + 1),
        TopicConfig::default().partitions(ringlet::MAX_PARTITIONS + 1),
        TopicConfig::default().max_age(std::time::Duration::from_micros(10)),
    ] {
        let e = bus.topic::<u8>("t", c).unwrap_err();
        assert!(matches!(e, Error::ConfigError { .. }), "{e}");
    }
    assert!(bus.names().is_empty(), "nothing half-created");
}

#[test]
fn get_topic_and_delete() {
    let bus = Bus::new();
    assert!(matches!(
        bus.get_topic::<u8>("t"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(bus.delete("t"), Err(Error::NotFound { .. })));
    let t = bus
        .topic::<u8>("t", TopicConfig::default().capacity(3))
        .unwrap();
    assert_eq!(bus.get_topic::<u8>("t").unwrap().config().capacity, 3);
    assert_eq!(bus.names(), vec!["t"]);
    bus.delete("t").unwrap();
    assert!(t.is_closed());
    assert!(bus.names().is_empty());
    // The name is free again, with any configuration.
    let t2 = bus.topic::<String>("t", TopicConfig::default()).unwrap();
    assert!(!t2.is_closed());
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Bus>();
    send_sync::<ringlet::Topic<String>>();
    send::<ringlet::Subscription<String>>();
    let bus = Bus::new();
    let t = bus.topic::<u64>("t", TopicConfig::default()).unwrap();
    std::thread::scope(|s| {
        for i in 0..4 {
            let t = t.clone();
            s.spawn(move || t.publish(i).unwrap());
        }
    });
    assert_eq!(t.end_offsets(), vec![4]);
}

#[test]
fn debug_output_names_things() {
    let bus = Bus::new();
    bus.topic::<u8>("clicks", TopicConfig::default()).unwrap();
    assert!(format!("{bus:?}").contains("clicks"));
}
