//! The contract's error names and the enums' value names, shared by every binding.

use ringlet::streams::OnError;
use ringlet::{
    Bus, Error, ErrorDetails, ErrorKind, OnFull, OnLag, PublishError, PublishTimeoutError,
    QueueConfig, RecvError, SendTimeoutError, SettleError, Start, TopicConfig, TryReceiveError,
    TryRecvError,
};

#[test]
fn every_enum_name_round_trips_and_unknown_names_list_the_choices() {
    for &n in OnFull::NAMES {
        assert_eq!(n.parse::<OnFull>().unwrap().as_str(), n);
    }
    for &n in OnLag::NAMES {
        assert_eq!(n.parse::<OnLag>().unwrap().to_string(), n);
    }
    for &n in OnError::NAMES {
        assert_eq!(n.parse::<OnError>().unwrap().as_str(), n);
    }
    let e = "sometimes".parse::<OnFull>().unwrap_err();
    assert_eq!(e.expected, ["overwrite", "block", "reject", "keep"]);
    assert_eq!(
        e.message_for("onFull"),
        "onFull must be one of \"overwrite\", \"block\", \"reject\", \"keep\", not \"sometimes\""
    );
    let long = "x".repeat(10_000);
    assert!(
        long.parse::<OnLag>().unwrap_err().to_string().len() < 200,
        "long input is cut"
    );
    assert_eq!(Start::from_name("earliest"), Ok(Start::Earliest));
    assert_eq!(Start::Latest.name(), Some("latest"));
    assert!(Start::from_name("middle").is_err());
    for k in ErrorKind::ALL {
        assert_eq!(k.as_str().parse::<ErrorKind>(), Ok(k));
    }
}

#[test]
fn every_error_has_the_contracts_kind_and_its_numbers() {
    let bus = Bus::new();
    let t = bus
        .topic::<u8>(
            "t",
            TopicConfig::default().capacity(1).on_full(OnFull::Keep),
        )
        .unwrap();
    t.publish(1).unwrap();
    assert_eq!(t.publish(2).unwrap_err().kind(), ErrorKind::Full);
    let lag = RecvError::Lagged {
        partition: 2,
        skipped: 5,
    };
    assert_eq!(
        (lag.kind(), lag.partition(), lag.skipped()),
        (ErrorKind::Lagged, Some(2), Some(5))
    );
    assert_eq!(TryRecvError::Empty.kind(), ErrorKind::Timeout);
    assert_eq!(TryReceiveError::Empty.kind(), ErrorKind::Timeout);
    // Waiting for room in vain leaves the partition or queue full.
    assert_eq!(PublishTimeoutError::Timeout(()).kind(), ErrorKind::Full);
    assert_eq!(SendTimeoutError::Timeout(()).kind(), ErrorKind::Full);
    assert_eq!(PublishError::NoKey(()).kind(), ErrorKind::NoKey);
    assert_eq!(SettleError::Expired.kind(), ErrorKind::Expired);
    let e = bus.queue::<u8>("t", QueueConfig::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    assert_eq!(Error::NotOwner { partition: 3 }.partition(), Some(3));
    assert_ne!(
        RecvError::Closed.to_string(),
        "closed",
        "the message says what is closed"
    );
}

#[test]
fn a_conflicting_config_names_the_options_that_differ_not_a_debug_dump() {
    let bus = Bus::new();
    bus.topic::<u8>("orders", TopicConfig::default().partitions(3))
        .unwrap();
    let Err(Error::ConfigError { reason, .. }) =
        bus.topic::<u8>("orders", TopicConfig::default().partitions(4))
    else {
        panic!("a ConfigError")
    };
    assert!(reason.contains("partitions is 3, not 4"), "{reason}");
    assert!(
        reason.contains("get_topic(\"orders\")") && reason.contains("delete(\"orders\")"),
        "{reason}"
    );
    assert!(!reason.contains("TopicConfig"), "{reason}");
    let t = bus.get_topic::<u8>("orders").unwrap();
    t.group("g").unwrap();
    let Err(Error::ConfigError { reason, .. }) =
        t.group_with("g", ringlet::GroupConfig::default().auto_commit(true))
    else {
        panic!("a ConfigError")
    };
    assert!(
        reason.contains("auto_commit is false, not true"),
        "{reason}"
    );
}
