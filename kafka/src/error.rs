//! The bridge's errors.

use std::fmt;

/// Why the bridge, a link or its close failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No broker answered at the bootstrap address within the timeout.
    Unreachable {
        /// The address tried.
        bootstrap: String,
        /// What the client said.
        detail: String,
    },
    /// The Kafka topic does not exist and the link may not create it
    /// (`create_topic(false)`, or a link from Kafka).
    UnknownTopic {
        /// The Kafka topic.
        topic: String,
    },
    /// The cluster refused to create the Kafka topic.
    CreateTopic {
        /// The Kafka topic.
        topic: String,
        /// Why, in the broker's words.
        detail: String,
    },
    /// A setting is wrong (a librdkafka property, a start the link cannot
    /// honour, a link that exists already).
    Config {
        /// What is wrong and what to do.
        detail: String,
    },
    /// The Ringlet side refused (no such topic or queue, another value type).
    Bus(ringlet::Error),
    /// The Kafka client failed otherwise.
    Kafka {
        /// What the client said.
        detail: String,
    },
    /// Closing a link gave up waiting for Kafka to confirm records; they were
    /// not committed on the Ringlet side, so a link started again with the same
    /// group sends them again.
    CloseTimedOut {
        /// The link.
        link: String,
        /// Records handed to Kafka and not confirmed.
        unconfirmed: u64,
    },
    /// The bridge was closed: it makes no new links.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreachable { bootstrap, detail } => write!(
                f,
                "no Kafka broker answered at {bootstrap} ({detail}): is the broker running \
                 (`make kafka-up` starts one) and is the address right?"
            ),
            Error::UnknownTopic { topic } => write!(
                f,
                "the Kafka topic {topic:?} does not exist: create it, or let the link create it \
                 (ToKafka::create_topic(true))"
            ),
            Error::CreateTopic { topic, detail } => {
                write!(f, "Kafka refused to create the topic {topic:?}: {detail}")
            }
            Error::Config { detail } => write!(f, "{detail}"),
            Error::Bus(e) => write!(f, "{e}"),
            Error::Kafka { detail } => write!(f, "the Kafka client failed: {detail}"),
            Error::CloseTimedOut { link, unconfirmed } => write!(
                f,
                "closing the link {link} gave up waiting for Kafka to confirm {unconfirmed} \
                 record(s); they stay uncommitted and are sent again when the link restarts"
            ),
            Error::Closed => write!(f, "the bridge is closed: it makes no new links"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bus(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ringlet::Error> for Error {
    fn from(e: ringlet::Error) -> Self {
        Error::Bus(e)
    }
}

impl From<rdkafka::error::KafkaError> for Error {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        match e {
            rdkafka::error::KafkaError::ClientConfig(_, ref desc, ref key, ref value) => {
                Error::Config {
                    detail: format!("librdkafka refused the property {key} = {value:?}: {desc}"),
                }
            }
            e => Error::Kafka {
                detail: e.to_string(),
            },
        }
    }
}
