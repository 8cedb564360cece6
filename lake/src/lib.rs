//! # ringlet-lake
//!
//! Exports a Ringlet topic to a data lake: a [`Sink`] follows the topic as a
//! member of a consumer group and writes [Apache Parquet](https://parquet.apache.org)
//! or JSON Lines files that pyarrow, pandas, DuckDB, Spark or Trino read as they
//! are.
//!
//! ```text
//! lake/
//!   topic=orders/
//!     date=2026-12-04/
//!       hour=14/
//!         orders+0+00000000000000000000+00000000000000004095.parquet
//!         orders+1+00000000000000000000+00000000000000003987.parquet
//! ```
//!
//! - **Folders** are Hive-style (`topic=…/date=…/hour=…/`, from each record's
//!   timestamp in UTC), so readers that understand Hive partitioning get
//!   `topic`, `date` and `hour` columns and can skip folders a query does not
//!   need.
//! - **A file** holds consecutive records of one partition and one hour; its
//!   name is `<topic>+<partition>+<first offset>+<last offset>.<ext>`. A file is
//!   completed (rolled) when it holds [`LakeConfig::max_records`] records or
//!   about [`LakeConfig::max_bytes`] of values, when its first record has waited
//!   [`LakeConfig::max_age`], when the next record belongs to another hour, when
//!   the topic's schema changes, and at [`Sink::flush`].
//! - **Columns**: `partition` (int32), `offset` (int64), `timestamp`
//!   (milliseconds, UTC), `key` (text; bytes with `key_as_text(false)`),
//!   `headers` (a list of `{name, value}` with binary values), and the value.
//!   When the topic's JSON Schema says the value is an object with
//!   `properties`, each property is a column (`string` → text, `integer` →
//!   int64, `number` → float64, `boolean` → boolean, anything else → JSON text;
//!   all nullable), named as the property (`value.<name>` when it is one of the
//!   record's column names); properties the schema does not name go to a
//!   `value_extra` column (a JSON object) unless the schema forbids them with
//!   `additionalProperties: false`. Without such a schema the value is one
//!   `value` column of JSON text. JSON Lines files hold one object per record:
//!   `partition`, `offset`, `timestamp`, `key`, `headers` (`[name, base64]`
//!   pairs) and `value`.
//!
//! ## Exactly once in the lake
//!
//! A file is written under a hidden temporary name (`.<name>.tmp`, which
//! readers skip), synced, renamed into place and its folder synced; only then
//! are its offsets committed for the group. After a crash at any point, the
//! sink that starts again removes temporary files and scans the topic's folder:
//! each partition resumes after the last offset of its last complete file, or
//! after the group's committed offset if that is further. A record is in the
//! lake once, in a complete file, whatever moment the process was killed — as
//! long as the topic still holds the records not yet exported (a durable topic,
//! or the same process). Records evicted from the topic before the sink read
//! them are counted in [`SinkStats::skipped`].
//!
//! One sink writes a topic to a lake folder: run a second one with another
//! group (and another folder) to export twice.
//!
//! ```
//! use ringlet::{Bus, TopicConfig};
//! use ringlet_lake::{LakeConfig, Sink};
//!
//! let lake = tempfile::tempdir()?;
//! let bus = Bus::new();
//! let orders = bus.topic::<serde_json::Value>("orders", TopicConfig::default())?;
//! orders.publish(serde_json::json!({"id": 1, "total": 30.5})).unwrap();
//! let mut sink = Sink::new(&orders, lake.path(), LakeConfig::default())?;
//! sink.run_until_idle()?;
//! sink.flush()?;  // completes the open file and commits its offsets
//! assert_eq!(sink.stats().records, 1);
//! assert_eq!(sink.stats().files, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod columns;
mod files;
mod sink;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use sink::{Sink, SinkStats};

/// The Arrow crate the batches are built with.
pub use arrow_array;

/// Records as one Arrow batch with the columns a lake file has (crate docs):
/// the value flattened into columns when `schema` says its shape, else one
/// `value` column of JSON text. `convert` turns a value into JSON.
///
/// ```
/// use ringlet::{Bus, Start, TopicConfig};
/// let bus = Bus::new();
/// let t = bus.topic::<u32>("n", TopicConfig::default())?;
/// t.publish_batch([1, 2, 3]).unwrap();
/// let records = t.subscribe(Start::Earliest)?.try_recv_batch(10).unwrap();
/// let b = ringlet_lake::record_batch("n", records, None, true, |v| Ok((*v).into()))?;
/// assert_eq!((b.num_rows(), b.num_columns()), (3, 6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// `Value` for a value `convert` refuses, a key that is not text with
/// `key_as_text`, or a field that does not fit its column.
pub fn record_batch<T>(
    topic: &str,
    records: impl IntoIterator<Item = ringlet::Record<T>>,
    schema: Option<&serde_json::Value>,
    key_as_text: bool,
    mut convert: impl FnMut(&T) -> Result<serde_json::Value, String>,
) -> Result<arrow_array::RecordBatch, LakeError> {
    let rows = records
        .into_iter()
        .map(|r| {
            let value = convert(&r.value).map_err(|reason| LakeError::Value {
                topic: topic.into(),
                partition: r.partition,
                offset: r.offset,
                reason,
            })?;
            Ok(columns::Row {
                partition: r.partition,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                headers: r.headers,
                value,
            })
        })
        .collect::<Result<Vec<_>, LakeError>>()?;
    columns::Plan::of(schema).batch(topic, &rows, key_as_text)
}

/// The file format a sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Apache Parquet, Snappy-compressed (`.parquet`).
    #[default]
    Parquet,
    /// One JSON object per line (`.jsonl`).
    JsonLines,
}

impl Format {
    pub(crate) fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::JsonLines => "jsonl",
        }
    }
}

/// How a [`Sink`] writes.
///
/// ```
/// use std::time::Duration;
/// use ringlet_lake::{Format, LakeConfig};
/// let c = LakeConfig::default().format(Format::JsonLines).max_records(10_000).max_age(Duration::from_secs(30));
/// assert_eq!((c.group.as_str(), c.max_records), ("lake", 10_000));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LakeConfig {
    /// Parquet (default) or JSON Lines.
    pub format: Format,
    /// The consumer group the sink reads as (default `"lake"`).
    pub group: String,
    /// Where the group starts when it has committed nothing (default
    /// `Earliest`: the records the topic retains).
    pub start: ringlet::Start,
    /// Most records per file (default 100,000).
    pub max_records: usize,
    /// About the most bytes of values per file, before compression (default 64 MiB).
    pub max_bytes: usize,
    /// Longest a record waits in an open file (default 60 s, real time).
    pub max_age: Duration,
    /// Keys as text (default), or as bytes (`false`). With text, a key that is
    /// not UTF-8 stops the sink with [`LakeError::Value`].
    pub key_as_text: bool,
    /// Most records read per step (default 4,096).
    pub batch: usize,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            format: Format::Parquet,
            group: "lake".into(),
            start: ringlet::Start::Earliest,
            max_records: 100_000,
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(60),
            key_as_text: true,
            batch: 4096,
        }
    }
}

macro_rules! setter {
    ($(#[$m:meta])* $name:ident: $t:ty) => {
        $(#[$m])*
        #[must_use]
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = v;
            self
        }
    };
}

impl LakeConfig {
    setter!(/// Sets the format.
        format: Format);
    setter!(/// Sets where the group starts when it has committed nothing.
        start: ringlet::Start);
    setter!(/// Sets the most records per file.
        max_records: usize);
    setter!(/// Sets about the most bytes of values per file.
        max_bytes: usize);
    setter!(/// Sets the longest a record waits in an open file.
        max_age: Duration);
    setter!(/// Keys as text (`true`) or bytes.
        key_as_text: bool);
    setter!(/// Sets the most records read per step.
        batch: usize);

    /// Sets the consumer group's name.
    #[must_use]
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = name.into();
        self
    }

    fn validate(&self) -> Result<(), LakeError> {
        let bad = |what: &str| Err(LakeError::Config(what.into()));
        if self.max_records == 0 {
            return bad("max_records must be at least 1");
        }
        if self.max_bytes == 0 {
            return bad("max_bytes must be at least 1");
        }
        if self.batch == 0 {
            return bad("batch must be at least 1");
        }
        if self.max_age.is_zero() {
            return bad("max_age must be more than zero");
        }
        Ok(())
    }
}

/// Why a sink could not go on.
#[derive(Debug)]
#[non_exhaustive]
pub enum LakeError {
    /// A file or folder operation failed.
    Io {
        /// What was being done.
        op: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The bus refused (the group could not be joined, a commit failed).
    Bus(ringlet::Error),
    /// A record cannot be written as the configuration says; the sink stops
    /// before it (nothing after it is written or committed).
    Value {
        /// The topic.
        topic: String,
        /// The record's partition.
        partition: u32,
        /// The record's offset.
        offset: u64,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A configuration value is out of range.
    Config(String),
    /// The Parquet or Arrow library failed.
    Format(String),
}

impl LakeError {
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> LakeError {
        LakeError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

impl std::fmt::Display for LakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LakeError::Io { op, path, source } => {
                write!(f, "could not {op} {}: {source}", path.display())
            }
            LakeError::Bus(e) => write!(f, "{e}"),
            LakeError::Value {
                topic,
                partition,
                offset,
                reason,
            } => write!(
                f,
                "the record at {topic} partition {partition} offset {offset} cannot be exported: {reason}"
            ),
            LakeError::Config(reason) => write!(f, "invalid lake sink configuration: {reason}"),
            LakeError::Format(reason) => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for LakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LakeError::Io { source, .. } => Some(source),
            LakeError::Bus(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ringlet::Error> for LakeError {
    fn from(e: ringlet::Error) -> Self {
        LakeError::Bus(e)
    }
}
