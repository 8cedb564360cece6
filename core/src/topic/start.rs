//! Where readers start and what they do after a gap: [`Start`], [`OnLag`], and
//! resolving a start to an offset per partition.

use crate::Error;

use super::ring::Read;
use super::{TopicInner, BATCH};

/// Where a subscription starts.
///
/// # Examples
///
/// ```
/// use ringlet::{Message, Start};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u8>("t", Default::default())?;
/// for (i, ts) in [(0, 100), (1, 200), (2, 300)] {
///    t.publish_message(Message::new(i).timestamp(ts)).unwrap();
/// }
/// assert_eq!(t.subscribe(Start::Offset(1))?.try_recv().unwrap().value, 1);
/// assert_eq!(t.subscribe(Start::Timestamp(150))?.try_recv().unwrap().value, 1);
/// assert_eq!(t.subscribe(Start::Offsets(vec![(0, 2)]))?.try_recv().unwrap().value, 2);
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum Start {
    /// The oldest retained record of each partition.
    Earliest,
    /// Only records published from now on (the default).
    #[default]
    Latest,
    /// The same offset in every partition (past the end is an error; an evicted one
    /// reads as a lag).
    Offset(u64),
    /// An offset per partition; partitions not listed start at the end.
    Offsets(Vec<(u32, u64)>),
    /// Per partition, the first record whose timestamp is at or after this (ms); the
    /// end if there is none.
    Timestamp(i64),
}

/// What a subscription does after a gap. See the [`Subscription`](crate::Subscription) docs.
///
/// # Examples
///
/// ```
/// use ringlet::{OnLag, RecvError, Start, TopicConfig, TryRecvError};
/// let bus = ringlet::Bus::new();
/// let t = bus.topic::<u8>("t", TopicConfig::default().capacity(1))?;
/// let mut strict = t.subscribe_with(Start::Earliest, OnLag::Error)?;
/// t.publish(1).unwrap();
/// t.publish(2).unwrap();
/// assert_eq!(strict.recv(), Err(RecvError::Lagged { partition: 0, skipped: 1 }));
/// assert_eq!(strict.try_recv(), Err(TryRecvError::Lagged { partition: 0, skipped: 1 }));
/// strict.seek(Start::Earliest)?;
/// assert_eq!(strict.recv().unwrap().value, 2);
/// # Ok::<(), ringlet::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OnLag {
    /// Continue from the oldest retained record (the default).
    #[default]
    Earliest,
    /// Continue from the end.
    Latest,
    /// Stay failed (every read reports the gap) until `seek`.
    Error,
}

crate::error::named_values!(OnLag, "on_lag", {
    Earliest => "earliest",
    Latest => "latest",
    Error => "error",
});

impl Start {
    /// `"earliest"` or `"latest"` as a start.
    ///
    /// # Errors
    ///
    /// [`UnknownName`](crate::UnknownName) for any other name.
    pub fn from_name(name: &str) -> Result<Start, crate::UnknownName> {
        match name {
            "earliest" => Ok(Start::Earliest),
            "latest" => Ok(Start::Latest),
            _ => Err(crate::UnknownName::new(
                "start",
                name,
                ["earliest", "latest"],
            )),
        }
    }

    /// The name of a named start (`Earliest`, `Latest`).
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Start::Earliest => Some("earliest"),
            Start::Latest => Some("latest"),
            _ => None,
        }
    }
}

/// Resolves a start position per partition.
pub(crate) fn resolve<T: Clone + Send + Sync + 'static>(
    topic: &TopicInner<T>,
    start: &Start,
) -> Result<Vec<u64>, Error> {
    let n = topic.config.partitions;
    let past_end = |partition: u32, offset: u64, end: u64| Error::OutOfRange {
        partition,
        reason: format!("offset {offset} is past the end offset {end}"),
    };
    (0..n)
        .map(|p| {
            let part = &topic.parts[p as usize];
            let end = part.end();
            match start {
                Start::Earliest => Ok(topic.floor(p)),
                Start::Latest => Ok(end),
                Start::Offset(o) if *o > end => Err(past_end(p, *o, end)),
                Start::Offset(o) => Ok(*o),
                Start::Offsets(list) => {
                    if let Some(&(bad, _)) = list.iter().find(|(q, _)| *q >= n) {
                        return Err(Error::OutOfRange {
                            partition: bad,
                            reason: format!("the topic has {n} partitions"),
                        });
                    }
                    let mine: Vec<u64> = list
                        .iter()
                        .filter(|(q, _)| *q == p)
                        .map(|(_, o)| *o)
                        .collect();
                    match mine.as_slice() {
                        [] => Ok(end),
                        [o] if *o > end => Err(past_end(p, *o, end)),
                        [o] => Ok(*o),
                        _ => Err(Error::OutOfRange {
                            partition: p,
                            reason: "partition listed twice".into(),
                        }),
                    }
                }
                Start::Timestamp(ts) => {
                    let mut at = topic.floor(p);
                    loop {
                        let mut found = None;
                        let r = part.read(at, BATCH, 0, |o, t, _| {
                            if found.is_none() && t >= *ts {
                                found = Some(o);
                            }
                        });
                        match (found, r) {
                            (Some(o), _) => return Ok(o),
                            (None, Read::Got(k)) if k > 0 => at += k as u64,
                            (None, Read::Evicted { oldest }) => at = oldest,
                            (None, Read::Dropped { resume, .. }) => at = resume,
                            _ => return Ok(end.max(at)),
                        }
                    }
                }
            }
        })
        .collect()
}
