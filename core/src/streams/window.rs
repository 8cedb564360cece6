//! Event-time windows: tumbling, hopping and session, with a grace period.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::duration_ms;

/// A window of event time in ms: `[start, end)` for tumbling and hopping windows;
/// for a session, `start` and `end` are its first and last record's timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    /// The first ms in the window.
    pub start: i64,
    /// The end (exclusive for time windows, the last record's time for sessions).
    pub end: i64,
}

/// A windowed aggregate: the window and the value in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Windowed<V> {
    /// The window.
    pub window: Window,
    /// The aggregate for the record's key in that window.
    pub value: V,
}

/// How records are grouped into windows by their timestamps (event time).
///
/// Windows close by *stream time* — the largest record timestamp the aggregation
/// has seen — not by the wall clock: a time window accepts records until stream
/// time reaches `end + grace`; after that a record for it is late and dropped
/// (counted in [`WindowedTable::dropped_late`](super::WindowedTable::dropped_late)).
/// A session accepts a record while the session it would make ends at or after
/// `stream time − grace` (Kafka's rule). Grace is 0 unless set. Windows are kept
/// until stream time passes `end + grace + retention` (retention default one day,
/// Kafka's), then removed from the table and its changelog.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringlet::streams::{Window, Windows};
/// let w = Windows::hopping(Duration::from_secs(60), Duration::from_secs(30)).grace(Duration::from_secs(5));
/// assert_eq!(w.windows_for(70_000), vec![Window { start: 30_000, end: 90_000 }, Window { start: 60_000, end: 120_000 }]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub(crate) kind: WindowKind,
    pub(crate) grace_ms: i64,
    pub(crate) retention_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowKind {
    Time { size: i64, advance: i64 },
    Session { gap: i64 },
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Most windows one record may fall into (a hopping window's `size / advance`):
/// more is a `ConfigError` when the aggregation is made.
pub const MAX_WINDOWS_PER_RECORD: i64 = 1000;

impl Windows {
    /// Fixed-size, non-overlapping windows aligned to the epoch.
    pub fn tumbling(size: Duration) -> Self {
        let size = duration_ms(size);
        Self::time(size, size)
    }

    /// Fixed-size windows starting every `advance` (overlapping when `advance <
    /// size`): a record belongs to every window that contains it.
    pub fn hopping(size: Duration, advance: Duration) -> Self {
        let size = duration_ms(size);
        Self::time(size, duration_ms(advance).min(size))
    }

    fn time(size: i64, advance: i64) -> Self {
        Windows {
            kind: WindowKind::Time { size, advance },
            grace_ms: 0,
            retention_ms: DAY_MS,
        }
    }

    /// Sessions: records of a key closer than `gap` to each other fall in one
    /// session; a record that bridges two sessions merges them.
    pub fn session(gap: Duration) -> Self {
        Windows {
            kind: WindowKind::Session {
                gap: duration_ms(gap),
            },
            grace_ms: 0,
            retention_ms: DAY_MS,
        }
    }

    /// How long after a window ends (by stream time) late records are still
    /// accepted.
    #[must_use]
    pub fn grace(mut self, d: Duration) -> Self {
        self.grace_ms = duration_ms(d);
        self
    }

    /// How long closed windows stay in the table (default one day).
    #[must_use]
    pub fn retention(mut self, d: Duration) -> Self {
        self.retention_ms = duration_ms(d);
        self
    }

    /// Whether these windows can be used: sizes, advances and gaps of at least
    /// 1 ms, and at most [`MAX_WINDOWS_PER_RECORD`] windows per record (a hopping
    /// window's `size / advance`), so one record never makes more state than that.
    ///
    /// # Errors
    ///
    /// `ConfigError` naming `what` (the aggregation) and the limit.
    pub(crate) fn validate(&self, what: &str) -> Result<(), crate::Error> {
        let bad = |reason: String| {
            Err(crate::Error::ConfigError {
                name: what.to_string(),
                reason,
            })
        };
        match self.kind {
            WindowKind::Time { size, .. } if size < 1 => {
                bad("a window's size must be at least 1 ms".into())
            }
            WindowKind::Time { advance, .. } if advance < 1 => {
                bad("a hopping window's advance must be at least 1 ms".into())
            }
            WindowKind::Time { size, advance } if size / advance > MAX_WINDOWS_PER_RECORD => {
                bad(format!(
                    "a {size} ms window advancing every {advance} ms puts each record in {} windows; at most {MAX_WINDOWS_PER_RECORD}: advance by at least {} ms",
                    size / advance,
                    (size + MAX_WINDOWS_PER_RECORD - 1) / MAX_WINDOWS_PER_RECORD
                ))
            }
            WindowKind::Session { gap } if gap < 1 => {
                bad("a session window's gap must be at least 1 ms".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether these are session windows.
    pub fn is_session(&self) -> bool {
        matches!(self.kind, WindowKind::Session { .. })
    }

    /// The time windows a record at `ts` belongs to, oldest first (none for
    /// session windows).
    pub fn windows_for(&self, ts: i64) -> Vec<Window> {
        let WindowKind::Time { size, advance } = self.kind else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut start = ts - ts.rem_euclid(advance);
        while start > ts.saturating_sub(size) {
            out.push(Window {
                start,
                end: start.saturating_add(size),
            });
            start = start.saturating_sub(advance);
        }
        out.reverse();
        out
    }

    pub(crate) fn describe(&self) -> String {
        match self.kind {
            WindowKind::Time { size, advance } if size == advance => {
                format!("tumbling {size} ms, grace {} ms", self.grace_ms)
            }
            WindowKind::Time { size, advance } => {
                format!(
                    "hopping {size} ms every {advance} ms, grace {} ms",
                    self.grace_ms
                )
            }
            WindowKind::Session { gap } => {
                format!("session gap {gap} ms, grace {} ms", self.grace_ms)
            }
        }
    }
}

/// A codec of windowed aggregates from one of their values: the window's start
/// and end (`i64`, little-endian), then the value's bytes.
pub(crate) struct WindowedCodec<T>(pub(crate) std::sync::Arc<dyn crate::storage::Codec<T>>);

impl<T: 'static> crate::storage::Codec<Windowed<T>> for WindowedCodec<T> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn value_type(&self) -> String {
        format!("windowed {}", self.0.value_type())
    }

    fn encode(&self, w: &Windowed<T>) -> Result<Vec<u8>, String> {
        let mut b = Vec::with_capacity(16);
        b.extend_from_slice(&w.window.start.to_le_bytes());
        b.extend_from_slice(&w.window.end.to_le_bytes());
        b.extend(self.0.encode(&w.value)?);
        Ok(b)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Windowed<T>, String> {
        let (start, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or("a window's bytes are cut short")?;
        let (end, value) = rest
            .split_first_chunk::<8>()
            .ok_or("a window's bytes are cut short")?;
        Ok(Windowed {
            window: Window {
                start: i64::from_le_bytes(*start),
                end: i64::from_le_bytes(*end),
            },
            value: self.0.decode(value)?,
        })
    }
}
